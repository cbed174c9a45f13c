"""Compare scenarios: plans from any library file, run on the same futures, side by side.

A plan is a file's base plan or one of its variants. Every plan is run with the same seed,
trials and horizon; because each uncertain input draws from its own (seed, field path) stream,
plans share the draws of every field they have in common, so the comparison is paired: "B beats
A in 78% of futures" counts futures one by one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim import registry
from sim.engine import SimResult
from sim.metrics import compare_paired, mc_error_90, monthly_bands, summarize
from sim.registry import metric_words as metric_words  # the page says compare.metric_words
from sim.scenario import Scenario, ScenarioError, variant_scenario, without_variants
from ui import format as fmt
from ui.library import list_stems, read_entry
from ui.state import PageContext
from ui.words import base_plan_label, plan_decision

#: Metrics in the comparison table, in the order shown (labels, units and directions come
#: from the metric registry, sim/registry.py).
COMPARE_METRICS: tuple[str, ...] = ("net_revenue", "profit", "npv", "clv_new_customer",
                                    "customer_equity_end", "cac")


def _fan(series_name: str, cumulative: bool) -> tuple[str, bool, str, str]:
    info = registry.series(series_name)
    title = f"Cumulative {registry.in_sentence(info.short)}" if cumulative else info.label
    return series_name, cumulative, registry.with_unit(title, info.unit), info.unit


#: Fan charts: key -> (monthly series, whether it is cumulated, chart title, unit).
FAN_SERIES: dict[str, tuple[str, bool, str, str]] = {
    "cumulative_profit": _fan("profit", True),
    "net_revenue": _fan("net_revenue", False),
    "active_customers": _fan("active_customers", False),
}
MAX_PLANS = 6
BASE_WORDS = "base plan"


@dataclass(frozen=True)
class PlanEntry:
    """One plan that can be compared: a file's base plan or one of its variants."""

    label: str
    stem: str
    variant: str | None


def library_plans(context: PageContext) -> tuple[list[PlanEntry], list[str]]:
    """Return every plan in the library ("file — base plan", "file — variant") and the files
    that cannot be read. The sidebar's file is taken as shown (with its link changes)."""
    entries: list[PlanEntry] = []
    unreadable: list[str] = []
    for stem in list_stems():
        scenario = _file_scenario(stem, context)
        if scenario is None:
            unreadable.append(f"{stem}.yaml")
            continue
        labels = {f"{stem} — {BASE_WORDS}"}
        entries.append(PlanEntry(f"{stem} — {BASE_WORDS}", stem, None))
        for name in scenario.variant_names():
            label = f"{stem} — {name}"
            if label in labels:
                label = f"{stem} — {name} (variant)"
            labels.add(label)
            entries.append(PlanEntry(label, stem, name))
    return entries, unreadable


def _file_scenario(stem: str, context: PageContext) -> Scenario | None:
    if stem == context.stem:
        return context.scenario
    return read_entry(stem).scenario


def default_plans(entries: list[PlanEntry], context: PageContext) -> list[str]:
    """Return the labels compared by default: the sidebar file's base plan and its variants
    (up to six); with no variants, its base plan and the next file's base plan."""
    own = [entry.label for entry in entries if entry.stem == context.stem][:MAX_PLANS]
    if len(own) >= 2:
        return own
    others = [entry.label for entry in entries if entry.stem != context.stem
              and entry.variant is None]
    return (own + others)[:2]


def short_labels(entries: list[PlanEntry], context: PageContext) -> dict[str, str]:
    """Return label -> the name shown on charts and in sentences: with every plan from one
    file, just 'Base plan (60/30/10)' or the variant's name; else the full 'file — plan'."""
    if len({entry.stem for entry in entries}) != 1:
        return {entry.label: entry.label for entry in entries}
    scenario = _file_scenario(entries[0].stem, context)
    names = {}
    for entry in entries:
        if entry.variant is None and scenario is not None:
            names[entry.label] = base_plan_label(scenario)
        else:
            names[entry.label] = entry.variant or entry.label
    if len(set(names.values())) < len(names):
        return {entry.label: entry.label for entry in entries}
    return names


def plan_scenario(entry: PlanEntry, context: PageContext) -> Scenario:
    """Return the runnable scenario of a plan (variants applied and removed)."""
    scenario = _file_scenario(entry.stem, context)
    if scenario is None:
        raise ScenarioError([f"(file): {entry.stem}.yaml cannot be read"])
    if entry.variant is None:
        return without_variants(scenario)
    return variant_scenario(scenario, entry.variant)


def comparison_table(results: Mapping[str, SimResult]) -> pd.DataFrame:
    """Return one row per metric and plan with raw numbers (the CSV and the table's source).

    Columns: metric, plan, p10, p50, p90, mean, mean_se, p_beats_first (+ its 90% interval
    p_beats_first_low/high), diff_p5, diff_p50, diff_p95 (plan minus the first plan, paired).
    The first plan's own comparison columns are empty.
    """
    labels = list(results)
    first = results[labels[0]]
    rows = []
    for metric in COMPARE_METRICS:
        for label in labels:
            values = results[label].metrics[metric]
            summary = summarize(values)
            row: dict[str, object] = {
                "metric": metric, "plan": label, "p10": summary.p10, "p50": summary.p50,
                "p90": summary.p90, "mean": summary.mean, "mean_se": summary.se,
                "p_beats_first": np.nan, "p_beats_first_low": np.nan,
                "p_beats_first_high": np.nan, "diff_p5": np.nan, "diff_p50": np.nan,
                "diff_p95": np.nan}
            if label != labels[0]:
                comparison = compare_paired(values, first.metrics[metric],
                                            registry.metric(metric).higher_is_better)
                row.update({"p_beats_first": comparison.p_beats,
                            "p_beats_first_low": comparison.p_beats_low,
                            "p_beats_first_high": comparison.p_beats_high,
                            "diff_p5": comparison.diff_p5, "diff_p50": comparison.diff_p50,
                            "diff_p95": comparison.diff_p95})
            rows.append(row)
    return pd.DataFrame(rows)


def display_table(table: pd.DataFrame) -> pd.DataFrame:
    """Return the comparison table with every number formatted in its own unit."""
    rows = []
    for record in table.to_dict("records"):
        metric = str(record["metric"])
        first = bool(np.isnan(record["p_beats_first"]))
        half = (record["p_beats_first_high"] - record["p_beats_first_low"]) / 2
        rows.append({
            "Metric": registry.metric(metric).heading,
            "Plan": record["plan"],
            "P10": fmt.metric_value(metric, record["p10"]),
            "Median": fmt.metric_value(metric, record["p50"]),
            "P90": fmt.metric_value(metric, record["p90"]),
            "P(beats the first)": "first plan" if first else
            f"{fmt.share(record['p_beats_first'])} (±{fmt.share(half, 1)})",
            "Median difference": "—" if first else
            fmt.metric_value(metric, record["diff_p50"], signed=True),
            "90% interval of the difference": "—" if first else
            (f"{fmt.metric_value(metric, record['diff_p5'], signed=True)} to "
             f"{fmt.metric_value(metric, record['diff_p95'], signed=True)}"),
        })
    return pd.DataFrame(rows)


def download_table(table: pd.DataFrame) -> pd.DataFrame:
    """Return the comparison table as people read it in a spreadsheet: one row per plan, one
    column per metric and statistic, headed with the metric's name and unit ("Profit, median
    ($)"), numbers rounded to the unit (whole dollars, cents per customer, 0.1 point of
    percent, whole counts). `table` is `comparison_table`'s; empty cells where a number does
    not apply (the first plan's comparison with itself) or is undefined."""
    plans = list(dict.fromkeys(table["plan"]))
    rows: dict[str, dict[str, object]] = {plan: {"Plan": plan} for plan in plans}
    for record in table.to_dict("records"):
        info = registry.metric(str(record["metric"]))
        unit = info.unit
        columns = (
            ("P10", record["p10"], unit), ("median", record["p50"], unit),
            ("P90", record["p90"], unit), ("mean", record["mean"], unit),
            ("mean, 90% Monte Carlo error ±", mc_error_90(record["mean_se"]), unit),
            ("P(beats the first)", record["p_beats_first"], "share"),
            ("median difference from the first", record["diff_p50"], unit),
            ("difference P5", record["diff_p5"], unit),
            ("difference P95", record["diff_p95"], unit),
        )
        row = rows[str(record["plan"])]
        for statistic, value, column_unit in columns:
            header = registry.with_unit(f"{info.column_title}, {statistic}", column_unit)
            row[header] = registry.rounded(value, column_unit)
    return pd.DataFrame(list(rows.values()))


def download_csv(table: pd.DataFrame) -> str:
    """Return `download_table(table)` as CSV text (the page's download)."""
    return download_table(table).to_csv(index=False)


def difference_rows(results: Mapping[str, SimResult], metric: str) -> pd.DataFrame:
    """Return P5/P10/P50/P90/P95 of (plan minus the first plan) per trial, one row per plan
    after the first, for `ui.charts.interval_chart`."""
    labels = list(results)
    first = results[labels[0]].metrics[metric]
    rows = []
    for label in labels[1:]:
        diff = results[label].metrics[metric] - first
        diff = diff[np.isfinite(diff)]
        if diff.size == 0:
            continue
        p5, p10, p50, p90, p95 = np.percentile(diff, [5, 10, 50, 90, 95])
        rows.append({"label": label, "p5": p5, "p10": p10, "p50": p50, "p90": p90,
                     "p95": p95})
    return pd.DataFrame(rows, columns=["label", "p5", "p10", "p50", "p90", "p95"])


def fan_bands(results: Mapping[str, SimResult], series: str) -> dict[str, dict[str, np.ndarray]]:
    """Return P10/P50/P90 per month of one fan series for every plan."""
    name, cumulative, _, _ = FAN_SERIES[series]
    return {label: monthly_bands(result.monthly[name], cumulative=cumulative)
            for label, result in results.items()}


def compare_sentence(results: Mapping[str, SimResult], metric: str, trials: int,
                     horizon: int) -> str:
    """Return the page's decision: which plan to choose against the first, by how much (median
    gain) and in how many futures (`ui.words.plan_decision`, as on the Overview)."""
    labels = list(results)
    if len(labels) < 2:
        return "Choose at least two plans to compare."
    first_label = labels[0]
    first = results[first_label].metrics[metric]
    higher = registry.metric(metric).higher_is_better
    comparisons = {label: compare_paired(results[label].metrics[metric], first, higher)
                   for label in labels[1:]}
    best_label, best = max(comparisons.items(), key=lambda item: item[1].p_beats)
    return plan_decision(best_label, first_label, best, metric, horizon, trials)
