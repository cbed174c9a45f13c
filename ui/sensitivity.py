"""Sensitivity page helpers: cached tornado and threshold runs, input names and the answer.

The computations live in sim.sensitivity; this module caches them by the validated scenario
(its canonical YAML) and the page's settings, names inputs in the business's words and writes
the page's one-sentence answer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.distributions import uncertain_fields
from sim.engine import BASE_LABEL, plan_scenarios
from sim.registry import in_sentence
from sim.registry import metric_words as metric_words  # the page imports it from here
from sim.scenario import Scenario, field_info
from sim.sensitivity import (
    SWING,
    Threshold,
    Tornado,
    ValueOfKnowing,
    decision_thresholds,
    quantile_pair,
    reference_plan,
    swing_fields,
    tornado,
    value_of_knowing,
    variance_shares,
)
from ui import format as fmt
from ui.runs import SCENARIO_HASH, cached_run, run_plans

#: Metrics the page explains (engine names).
METRICS: tuple[str, ...] = ("profit", "npv", "net_revenue", "clv_new_customer")
#: Futures used to find thresholds (each setting tried re-runs both plans on all of them).
THRESHOLD_TRIALS = 500
#: Inputs whose thresholds are searched first: the largest shares of the gap's variance.
TOP_INPUTS = 3


def _plans(scenario: Scenario, labels: Sequence[str]) -> dict[str, Scenario]:
    variants = [label for label in labels if label != BASE_LABEL]
    return plan_scenarios(scenario, list(dict.fromkeys(variants)))


@cached_run(max_entries=32, show_spinner="Swinging each input from its P10 to its P90…",
            show_time=True, hash_funcs=SCENARIO_HASH)
def run_tornado(scenario: Scenario, plan: str, against: str | None, metric: str,
                horizon: int) -> Tornado:
    """Return the tornado of `metric` for one plan (or plan minus `against`), metric units."""
    plans = _plans(scenario, [plan] + ([against] if against else []))
    return tornado(plans[plan], metric, against=plans[against] if against else None,
                   horizon=horizon)


@cached_run(max_entries=32, show_spinner="Finding where the choice flips…", show_time=True,
            hash_funcs=SCENARIO_HASH)
def run_thresholds(scenario: Scenario, plan_a: str, plan_b: str, paths: tuple[str, ...],
                   metric: str, trials: int, seed: int, horizon: int) -> dict[str, Threshold]:
    """Return path -> Threshold: where the mean of A - B on `metric` crosses zero."""
    plans = _plans(scenario, [plan_a, plan_b])
    return decision_thresholds(plans[plan_a], plans[plan_b], list(paths), metric,
                               trials=trials, seed=seed, horizon=horizon)


@cached_run(max_entries=32, show_spinner=False, hash_funcs=SCENARIO_HASH)
def plan_means(scenario: Scenario, seed: int, trials: int, metric: str) -> dict[str, float]:
    """Return plan label -> mean of `metric` over the simulated futures (metric units)."""
    results = run_plans(scenario, None, seed, trials)
    return {label: float(np.nanmean(result.metrics[metric]))
            for label, result in results.items()}


@dataclass(frozen=True)
class DrawAnalysis:
    """What the Monte Carlo draws themselves say about one metric (no extra runs).

    fields: the uncertain inputs (schema order); shares: first-order variance share of the
    target per input; gap_shares: the same for plan A - plan B (empty without a choice);
    gap_mean: mean of A - B (NaN without a choice); worth: value of knowing each input when
    choosing among all plans (None with a single plan).
    """

    fields: tuple[str, ...]
    shares: dict[str, float]
    gap_shares: dict[str, float]
    gap_mean: float
    worth: ValueOfKnowing | None


@cached_run(max_entries=32, show_spinner="Reading the simulated futures…", show_time=True,
            hash_funcs=SCENARIO_HASH)
def analyse_draws(scenario: Scenario, seed: int, trials: int, metric: str, plan_a: str,
                  plan_b: str, target: str | None) -> DrawAnalysis:
    """Return variance shares, the gap and the value of knowing from the cached plan runs.

    target: the plan whose metric is explained, or None for the gap plan A - plan B.
    """
    results = run_plans(scenario, None, seed, trials)
    plans = plan_scenarios(scenario)
    labels = list(results)
    fields = swing_fields(list(plans.values()))
    # Every plan reads the same uniforms (common random numbers), so any plan in which a field
    # is uncertain orders the futures the same way: bin by that plan's draws.
    inputs = {}
    for path in fields:
        owner = next(label for label in [plan_b, plan_a, *labels]
                     if path in uncertain_fields(plans[label]))
        inputs[path] = results[owner].inputs[path]
    metric_of = {label: result.metrics[metric] for label, result in results.items()}
    choice = plan_a != plan_b
    gap = metric_of[plan_a] - metric_of[plan_b]
    output = gap if target is None else metric_of[target]
    return DrawAnalysis(
        tuple(fields), variance_shares(output, inputs, fields),
        variance_shares(gap, inputs, fields) if choice else {},
        float(np.nanmean(gap)) if choice else float("nan"),
        value_of_knowing(metric_of, inputs, fields) if len(labels) > 1 else None)


# ------------------------------------------------------------------------ input words


def input_label(path: str) -> str:
    """Return an input's chart label with its unit: 'Repeat order value ($)'."""
    info = field_info(path)
    return f"{info.label} ({info.unit})" if info.unit else info.label


def input_name(path: str) -> str:
    """Return an input's name inside a sentence: 'repeat order value'."""
    return in_sentence(field_info(path).label)


def input_value(path: str, value: float) -> str:
    """Return an input's value in its own unit: '0.58%', '$83.20', '0.021'."""
    info = field_info(path)
    if info.kind == "rate" or info.kind == "growth":
        return fmt.share(value, 2 if abs(value) < 0.01 else 1)
    if info.kind == "discount":
        return fmt.share(value, 1)
    if info.kind == "count":
        return fmt.count(value)
    if info.unit.startswith("$"):
        return fmt.money(value) if abs(value) >= 10_000 else fmt.money2(value)
    if info.kind in ("days", "tenure", "horizon"):
        return f"{value:,.0f}"
    if value != 0 and abs(value) < 1e-3:
        # Positional digits (0.0000729), never an exponent that nobody reads aloud.
        return f"{value:.{2 - math.floor(math.log10(abs(value)))}f}"
    return f"{value:.3g}"


def input_axis_format(path: str) -> str:
    """Return a d3 format for an axis of the input's values."""
    info = field_info(path)
    if info.kind in ("rate", "growth", "discount"):
        return ".2~%"
    if info.unit.startswith("$"):
        return "$,.4~g"
    return ",.3~g"


def _days_words(days: float) -> str:
    if days % 365 == 0:
        years = int(days // 365)
        return f"{years} year" + ("s" if years != 1 else "")
    return f"{days:,.0f} days"


def input_note(path: str, value: float, plans: Sequence[Scenario]) -> str:
    """Return what an elasticity means for the longest guarantee among the plans, e.g.
    '(a 9.0% conversion lift at 5 years)'; empty for other inputs."""
    if path not in ("guarantee.conversion_elasticity", "guarantee.return_elasticity"):
        return ""
    longest = max(plans, key=lambda plan: plan.guarantee.days).guarantee
    if longest.days == longest.reference_days:
        return ""
    factor = (longest.days / longest.reference_days) ** value
    if path == "guarantee.conversion_elasticity":
        return (f" (a {fmt.share(factor - 1, 1)} conversion lift at "
                f"{_days_words(longest.days)})")
    return f" (returns x{factor:.2f} at {_days_words(longest.days)})"


# ------------------------------------------------------------------------ the answer


@dataclass(frozen=True)
class Decision:
    """The choice between plan A and plan B as shown (names as on screen)."""

    winner: str
    loser: str
    winner_is_a: bool


@dataclass(frozen=True)
class LosingRange:
    """A range of the input in which the current winner loses (None: the searched range's
    end). clear: the loss exceeds twice its Monte Carlo standard error somewhere inside."""

    low: float | None
    high: float | None
    clear: bool


def losing_ranges(threshold: Threshold, winner_is_a: bool) -> list[LosingRange]:
    """Return the ranges of the input in which the plan ahead on average falls behind."""
    bounds = [threshold.low, *threshold.roots, threshold.high]
    grid = list(zip(threshold.grid, threshold.grid_diff, threshold.grid_se, strict=True))
    ranges: list[LosingRange] = []
    for i in range(len(bounds) - 1):
        low, high = bounds[i], bounds[i + 1]
        inside = [(diff, se) for x, diff, se in grid if low <= x <= high and diff != 0.0]
        if not inside:
            continue
        a_ahead = inside[len(inside) // 2][0] > 0
        if a_ahead != winner_is_a:
            clear = any(abs(diff) > 2 * se for diff, se in inside)
            ranges.append(LosingRange(None if i == 0 else low,
                                      None if i == len(bounds) - 2 else high, clear))
    return ranges


def flip_words(threshold: Threshold, winner_is_a: bool, plans: Sequence[Scenario],
               clear_only: bool = False, named: bool = True) -> str:
    """Return where the choice flips: 'engagement rate is below 0.62%'; empty if never.

    With clear_only, ranges where the loss is within Monte Carlo error are left out; otherwise
    they are marked as near ties. named=False leaves out the input's name ('below 0.62%').
    """
    path = threshold.path
    name = f"{input_name(path)} is " if named else ""
    parts = []
    for found in losing_ranges(threshold, winner_is_a):
        if clear_only and not found.clear:
            continue
        if found.low is None and found.high is None:
            text = f"{name}anywhere in its P1-P99 range"
        elif found.low is None:
            text = (f"{name}below {input_value(path, found.high)}"
                    f"{input_note(path, found.high, plans)}")
        elif found.high is None:
            text = (f"{name}above {input_value(path, found.low)}"
                    f"{input_note(path, found.low, plans)}")
        else:
            text = (f"{name}between {input_value(path, found.low)} and "
                    f"{input_value(path, found.high)}")
        parts.append(text if found.clear else f"{text} (a near tie, within Monte Carlo error)")
    return " or ".join(parts)


def sentence_name(label: str) -> str:
    """Return a plan's on-screen name inside a sentence: 'the base plan (60/30/10)'."""
    if label.startswith("Base plan"):
        return "the b" + label[1:]
    return label


def sensitivity_sentence(*, target: str, metric: str, horizon: int, drivers: Sequence[str],
                         decision: Decision | None, chosen: str | None,
                         threshold: Threshold | None, plans: Sequence[Scenario]) -> str:
    """Return the page's decision (issue 13: the decision first, one risk clause): which plan
    to choose and where the choice flips on the input the person chose to search.

    target: what the tornado explains ("of the base plan (60/30/10)"); drivers: input paths,
    most influential first; decision: None when there is no choice to explain; chosen: the
    input searched (the page's "Input to search"); threshold: where the choice flips on it.
    """
    words = metric_words(metric, horizon)
    if decision is None or chosen is None or threshold is None:
        if not drivers:
            return f"Keep the plan as it is: no uncertain input moves the {words} {target}."
        return f"Check {input_name(drivers[0])} first: it moves the {words} {target} most."
    choice = (f"Choose {sentence_name(decision.winner)} over {sentence_name(decision.loser)} "
              f"on {words}")
    flip = flip_words(threshold, decision.winner_is_a, plans, clear_only=True)
    if flip:
        return f"{choice}: it flips only if {flip}."
    return (f"{choice}: it holds with {input_name(chosen)} anywhere from "
            f"{input_value(chosen, threshold.low)} to {input_value(chosen, threshold.high)}.")


# --------------------------------------------------------------------------------------------
# Tables and the decision the page shows (the page lays them out)


def choice_decision(gap_mean: float, name_a: str, name_b: str) -> Decision:
    """Return which of plan A and plan B wins on the mean gap A − B over the futures (B wins
    a tie at zero)."""
    a_wins = gap_mean > 0
    return Decision(name_a if a_wins else name_b, name_b if a_wins else name_a, a_wins)


def thresholds_table(thresholds: Mapping[str, Threshold], decision: Decision,
                     plans: Sequence[Scenario], gap_shares: Mapping[str, float]
                     ) -> pd.DataFrame:
    """Return one row per searched input: its P10–P90, its share of the gap's variance, where
    the winner falls behind (or that it never does in P1–P99) and the roots' 90% Monte Carlo
    errors. `plans` are plan A and plan B."""
    rows = []
    for path, found in thresholds.items():
        low, high = quantile_pair(reference_plan(path, list(plans)[::-1]), path, SWING)
        flip = flip_words(found, decision.winner_is_a, plans, named=False)
        rows.append({
            "Input": input_label(path),
            "P10 – P90": f"{input_value(path, low)} – {input_value(path, high)}",
            "Gap variance": fmt.share(gap_shares[path]),
            f"{decision.winner} falls behind when the input is": flip or (
                f"never, anywhere from {input_value(path, found.low)} to "
                f"{input_value(path, found.high)} (its P1–P99)"),
            "± (90%)": ", ".join(
                f"±{input_value(path, fmt.mc_margin(se))}" for se in found.root_se) or "—",
        })
    return pd.DataFrame(rows)


def tornado_rows(swings: Tornado) -> pd.DataFrame:
    """Return the tornado's bars: the metric with each input at its P10 and P90, and those
    input values in words."""
    return pd.DataFrame({
        "label": [input_label(bar.path) for bar in swings.bars],
        "low": [bar.output_low for bar in swings.bars],
        "high": [bar.output_high for bar in swings.bars],
        "low_text": [input_value(bar.path, bar.input_low) for bar in swings.bars],
        "high_text": [input_value(bar.path, bar.input_high) for bar in swings.bars],
    })


def share_rows(swings: Tornado, shares: Mapping[str, float]) -> pd.DataFrame:
    """Return each input's share of the variance, in the tornado's order."""
    return pd.DataFrame({
        "label": [input_label(bar.path) for bar in swings.bars],
        "value": [shares[bar.path] for bar in swings.bars],
        "text": [fmt.share(shares[bar.path]) for bar in swings.bars],
    })


def worth_rows(worth: ValueOfKnowing, fields: Sequence[str], metric: str) -> pd.DataFrame:
    """Return the value of knowing each input before choosing, largest first."""
    ranked = sorted(fields, key=lambda path: -worth.per_input[path])
    return pd.DataFrame({
        "label": [input_label(path) for path in ranked],
        "value": [worth.per_input[path] for path in ranked],
        "text": [fmt.metric_value(metric, worth.per_input[path]) for path in ranked],
    })
