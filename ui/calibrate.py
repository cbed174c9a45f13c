"""Calibrate page helpers: cached fits of uploaded files, the proposals' overrides and charts.

Fits are cached by the file's bytes and settings (and the saved scenario, whose values stand
for the inputs that are not fitted), so ticking a box or accepting ranges never refits.
Failures come back as the parser's problem lines, never as exceptions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from sim.calibrate.customers import (
    TransactionCalibration,
    calibrate_transactions,
    customer_table,
    parse_channel_spend,
)
from sim.calibrate.files import CalibrationFileError
from sim.calibrate.history import SERIES_LABELS, parse_history
from sim.calibrate.history_fit import HistoryCalibration, calibrate_history
from sim.calibrate.ranges import (
    PAIRED,
    ProposedRange,
    chosen_overrides,
    history_ranges,
    transaction_ranges,
)
from sim.calibrate.transactions import DAYS_PER_MONTH, parse_transactions
from sim.distributions import point_inputs
from sim.scenario import Scenario, ScenarioError, apply_overrides
from ui.charts import FONT_SIZE, PALETTE, _style
from ui.draft import describe_value
from ui.library import APP_ROOT
from ui.runs import SCENARIO_HASH
from ui.state import PageContext, set_overrides

EXAMPLES = APP_ROOT / "scenarios" / "examples"
EXAMPLE_FILES = {"transactions": "transactions_example.csv", "history": "history_example.csv",
                 "spend": "channel_spend_example.csv"}
#: Upload limits in megabytes (the parsers cap the bytes they read as well).
TRANSACTIONS_MB, HISTORY_MB = 20, 1
APPLIED_KEY = "_calibrate_applied"


def example_bytes(kind: str) -> bytes:
    """Return one of the shipped example files (transactions, history or spend)."""
    return (EXAMPLES / EXAMPLE_FILES[kind]).read_bytes()


@dataclass(frozen=True)
class TransactionsResult:
    """An order export's calibration, its proposals and the per-customer table (CSV)."""

    calibration: TransactionCalibration
    proposals: tuple[ProposedRange, ...]
    customers_csv: str


@dataclass(frozen=True)
class HistoryResult:
    """A monthly history's calibration and its proposals."""

    calibration: HistoryCalibration
    proposals: tuple[ProposedRange, ...]


@st.cache_data(max_entries=8, show_spinner="Fitting BG/NBD and Gamma-Gamma to the orders…",
               show_time=True)
def fit_transactions(data: bytes, name: str, holdout_months: int, unit: str, margin: float,
                     spend: bytes | None) -> TransactionsResult | tuple[str, ...]:
    """Return the calibration of an order export, or the problems that stop it.

    The calibration period ends `holdout_months` months before the last order.
    """
    try:
        channel_spend = parse_channel_spend(spend) if spend is not None else None
    except CalibrationFileError as error:
        return tuple(f"channel spend: {p}" for p in error.problems)
    try:
        transactions = parse_transactions(data)
        until = None
        if holdout_months:
            last = dt.date(1970, 1, 1) + dt.timedelta(days=transactions.last_day)
            until = last - dt.timedelta(days=round(holdout_months * DAYS_PER_MONTH))
        calibration = calibrate_transactions(transactions, until=until, unit=unit,
                                             margin=margin, channel_spend=channel_spend)
    except CalibrationFileError as error:
        return tuple(error.problems)
    except ValueError as error:
        return (str(error),)
    return TransactionsResult(calibration, tuple(transaction_ranges(calibration, name)),
                              customer_table(calibration))


def cli_command(result: TransactionsResult, name: str, spend: str | None) -> str:
    """Return the command line that gives the same fit as the page."""
    c = result.calibration
    words = [f"python -m sim calibrate transactions {name}", f"--until {c.summary.until}",
             f"--unit {c.summary.unit}", f"--margin {c.margin:g}"]
    if spend:
        words.append(f"--channel-spend {spend}")
    return " ".join(words)


@st.cache_data(max_entries=8, show_spinner="Replaying the history through the model and "
               "bootstrapping it…", show_time=True, hash_funcs=SCENARIO_HASH)
def fit_history(data: bytes, name: str, scenario: Scenario, holdout: int
                ) -> HistoryResult | tuple[str, ...]:
    """Return the calibration of a monthly history, or the problems that stop it."""
    try:
        calibration = calibrate_history(parse_history(data), scenario, holdout=holdout)
    except CalibrationFileError as error:
        return tuple(error.problems)
    except ValueError as error:
        return (str(error),)
    return HistoryResult(calibration, tuple(history_ranges(calibration, name)))


# --------------------------------------------------------------------------------------------
# Accepting proposals.


def current_value(scenario: Scenario, path: str) -> str:
    """Return a field's value in the scenario as the editor describes it ('—' if absent)."""
    node: Any = scenario.to_file_dict()
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return "—"
        node = node[part]
    return describe_value(node)


#: Where a proposal came from: the page's two uploads, in the order shown.
ORIGINS = {"orders": "the order export", "history": "the monthly history"}


def choice_key(origin: str, proposal: ProposedRange,
               entries: list[tuple[str, ProposedRange]]) -> str:
    """Return the widget key of a proposal's checkbox: it names the uploads shown, so the
    boxes start again from their defaults when a second file arrives."""
    shown = "+".join(o for o in ORIGINS if any(e[0] == o for e in entries))
    return f"calibrate_use:{shown}:{origin}:{proposal.path}"


def default_ticks(entries: list[tuple[str, ProposedRange]]) -> dict[str, bool]:
    """Return each proposal's checkbox default: ticked when recommended, except an order
    export's proposal for a field the history also fits (the history measures it at known
    spend) and the sBG churn when the history fits a constant churn."""
    fitted = {p.path for origin, p in entries if origin == "history"}
    ticks = {}
    for origin, proposal in entries:
        shadowed = origin == "orders" and (
            proposal.path in fitted
            or (proposal.path in PAIRED and "hot.churn.monthly" in fitted))
        ticks[choice_key(origin, proposal, entries)] = proposal.recommended and not shadowed
    return ticks


def accept_overrides(context: PageContext, entries: list[tuple[str, ProposedRange]],
                     ticked: set[str]) -> tuple[dict[str, Any], list[str]]:
    """Return the app's overrides with the ticked ranges and their source notes added, and
    the reasons they cannot be used together ([] when they can).

    Choosing sBG churn drops a constant churn override and the other way round (the scenario
    takes one of the two).
    """
    chosen: dict[str, list[str]] = {}
    for origin, proposal in entries:
        if choice_key(origin, proposal, entries) in ticked:
            chosen.setdefault(proposal.path, []).append(origin)
    problems = [f"{path}: ticked from both {' and '.join(ORIGINS[o] for o in origins)}; keep "
                "one" for path, origins in chosen.items() if len(origins) > 1]
    new: dict[str, Any] = {}
    notes = dict(context.scenario.sources)
    for origin in ORIGINS:
        paths = [path for path, origins in chosen.items() if origin in origins]
        part = chosen_overrides([p for o, p in entries if o == origin], paths, {})
        notes.update(part.pop("sources", {}))
        new.update(part)
    overrides = dict(context.overrides)
    if any(path.startswith("hot.churn.sbg.") for path in new):
        overrides.pop("hot.churn.monthly", None)
    if "hot.churn.monthly" in new:
        for path in PAIRED:
            overrides.pop(path, None)
    if new:
        overrides.update(new)
        overrides["sources"] = dict(sorted(notes.items()))
    return overrides, problems


def check_overrides(context: PageContext, overrides: Mapping[str, Any]) -> list[str]:
    """Return the problems the overrides would cause in the saved scenario ([] if none)."""
    try:
        apply_overrides(context.saved, overrides)
    except ScenarioError as error:
        return list(error.problems)
    return []


def apply(overrides: dict[str, Any], message: str) -> None:
    """Callback of "Use these ranges": change the app's overrides, remember the message."""
    set_overrides(overrides)
    st.session_state[APPLIED_KEY] = message


def sources_panel(scenario: Scenario | None) -> None:
    """List where the scenario's calibrated values came from (its `sources` notes), if any."""
    if scenario is None or not scenario.sources:
        return
    with st.expander(f"Where {len(scenario.sources)} values came from (saved with the file)",
                     icon=":material/source_notes:"):
        st.markdown("\n".join(f"- `{path}`: {note}" for path, note in scenario.sources.items()))


def margin_of(scenario: Scenario) -> float:
    """Return the scenario's median gross margin (the CLV margin)."""
    return float(point_inputs(scenario)["orders.gross_margin"])


# --------------------------------------------------------------------------------------------
# Tables and charts.


def number(x: float) -> str:
    """Return a fitted number for the page: thousands with separators, else 4 digits."""
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.4g}"


def channel_table(calibration: TransactionCalibration) -> pd.DataFrame:
    """Return CLV, CAC and LTV:CAC per channel as a table."""
    rows = []
    for c in calibration.channels:
        rows.append({
            "Channel": c.channel, "Customers": c.customers,
            "Bought twice": f"{c.repeat_share:.0%}",
            "CLV": f"${c.clv:,.2f}",
            "CAC": "—" if c.cac is None else f"${c.cac:,.2f}",
            "LTV:CAC": "—" if c.ltv_to_cac is None else f"{c.ltv_to_cac:.1f}",
            "Flag": "one-and-done" if c.one_and_done else ""})
    return pd.DataFrame(rows)


def parameter_table(result: HistoryResult) -> pd.DataFrame:
    """Return the history fit's parameters with their ranges."""
    fit = result.calibration.fit
    ranges = {p.path: p for p in result.proposals}
    rows = []
    for parameter in fit.parameters:
        proposal = ranges.get(parameter.path)
        rows.append({
            "Field": parameter.path,
            "Estimate": number(fit.estimate[parameter.path]),
            "90% range": "—" if proposal is None else
            f"{number(proposal.low)} – {number(proposal.high)}",
            "Informed by the data": "yes" if fit.identified[parameter.path] else "hardly"})
    return pd.DataFrame(rows)


def holdout_chart(calibration: TransactionCalibration) -> alt.Chart:
    """Mean holdout repeat purchases, actual vs BG/NBD, by calibration repeat purchases."""
    check = calibration.holdout
    assert check is not None  # noqa: S101 - the page draws this only with a holdout
    data = pd.concat([
        pd.DataFrame({"group": check.groups, "value": check.actual, "series": "Actual"}),
        pd.DataFrame({"group": check.groups, "value": check.predicted,
                      "series": "BG/NBD expected"})])
    order = ["Actual", "BG/NBD expected"]
    chart = alt.Chart(data).mark_line(point=alt.OverlayMarkDef(size=90), strokeWidth=2.5).encode(
        x=alt.X("group:N", sort=list(check.groups), axis=alt.Axis(labelAngle=0),
                title=f"Repeat purchases in the calibration period ({calibration.summary.unit}s "
                      f"up to {calibration.summary.until.isoformat()})"),
        y=alt.Y("value:Q", title="Mean repeat purchases in the holdout"),
        color=alt.Color("series:N", title=None, sort=order,
                        scale=alt.Scale(domain=order, range=PALETTE[:2])),
        tooltip=[alt.Tooltip("series:N", title=""), alt.Tooltip("group:N", title="Group"),
                 alt.Tooltip("value:Q", title="Mean", format=".3f")])
    return _style(chart, height=300)


def backtest_chart(result: HistoryResult, series: str) -> alt.Chart:
    """Actual months (dots) against the replayed model (line, P5-P95 parameter band), the
    held-out months shaded."""
    test = result.calibration.backtest
    months = pd.to_datetime([f"{m}-01" for m in test.months])
    frame = pd.DataFrame({"month": months, "actual": test.actual[series],
                          "model": test.predicted[series]})
    if test.low is not None and test.high is not None:
        frame["low"], frame["high"] = test.low[series], test.high[series]
    x = alt.X("month:T", title="Month", axis=alt.Axis(format="%b %Y", labelAngle=0))
    y_title = SERIES_LABELS[series]
    base = alt.Chart(frame)
    layers: list[Any] = []
    if test.holdout:
        start = months[len(months) - test.holdout] - pd.Timedelta(days=15)
        shade = pd.DataFrame({"start": [start], "end": [months[-1] + pd.Timedelta(days=15)],
                              "label": [f"held out ({test.holdout} months)"]})
        layers.append(alt.Chart(shade).mark_rect(color="#eeeeee").encode(
            x=alt.X("start:T"), x2=alt.X2("end:T")))
        layers.append(alt.Chart(shade).mark_text(align="left", dx=4, dy=10, baseline="top",
                                                 fontSize=FONT_SIZE, color="#555").encode(
            x=alt.X("start:T"), text=alt.Text("label:N"), y=alt.YValue(0)))
    if "low" in frame:
        layers.append(base.mark_area(opacity=0.25, color=PALETTE[0]).encode(
            x=x, y=alt.Y("low:Q", title=y_title), y2=alt.Y2("high:Q")))
    layers.append(base.mark_line(color=PALETTE[0], strokeWidth=2.5).encode(
        x=x, y=alt.Y("model:Q", title=y_title, axis=alt.Axis(format=",.0f")),
        tooltip=[alt.Tooltip("month:T", format="%b %Y", title="Month"),
                 alt.Tooltip("model:Q", format=",.0f", title="Model"),
                 alt.Tooltip("actual:Q", format=",.0f", title="Actual")]))
    layers.append(base.mark_point(filled=True, size=70, color=PALETTE[1], opacity=0.95).encode(
        x=x, y=alt.Y("actual:Q", title=y_title),
        tooltip=[alt.Tooltip("month:T", format="%b %Y", title="Month"),
                 alt.Tooltip("actual:Q", format=",.0f", title="Actual"),
                 alt.Tooltip("model:Q", format=",.0f", title="Model")]))
    return _style(alt.layer(*layers), height=300)


def answer_sentence(tx: TransactionsResult | None, history: HistoryResult | None) -> str:
    """Return the page's one-sentence answer."""
    if tx is None and history is None:
        return ("Drop an order export and a monthly spend sheet below: the scenario's ranges "
                "are fitted to them, with a backtest that shows how well the model replays "
                "the past.")
    parts = []
    if history is not None:
        test = history.calibration.backtest
        scores = [v for v in (test.mape_holdout if test.holdout else test.mape_fit).values()
                  if np.isfinite(v)]
        when = (f"the {test.holdout} held-out months" if test.holdout else "the fitted months")
        if scores:
            parts.append(f"the model replays {when} within {np.mean(scores):.1%} on average "
                         f"(MAPE over {len(scores)} series)")
    count = sum(len(r.proposals) for r in (tx, history) if r is not None)
    parts.append(f"{count} ranges are proposed from your data")
    sentence = "; ".join(parts)
    return sentence[0].upper() + sentence[1:] + ". Tick the ones to use and click *Use these " \
        "ranges*."
