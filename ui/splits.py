"""Budget split page helpers: cached grid and optimiser runs, the named splits, the headline.

The engine work lives in `sim.splits`; this module caches it by the validated scenario (its
variants dropped, so saving a variant does not throw the grid away) and the page's settings,
shows a progress bar while a run is not cached, and turns results into the page's table and
sentences.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from sim import registry
from sim.dispatch import choose_engine
from sim.distributions import sample_inputs
from sim.engine import BASE_LABEL, MONTHLY_TRIALS_KEPT, SimResult
from sim.metrics import CLEAR_WIN, Comparison, compare_paired, monthly_bands, summarize
from sim.scenario import Scenario, flat_fields, variant_scenario, without_variants
from sim.splits import (
    OBJECTIVES,
    RULE_631,
    SPLIT_PATHS,
    Bounds,
    BudgetSplit,
    Objective,
    OptimiserResult,
    Stability,
    best_index,
    best_splits_by_horizon,
    bootstrap_stability,
    evaluate_splits,
    grid_splits,
    objective_values,
    optimise_split,
    parse_split,
    plateau_ranges,
    split_of,
    with_split,
)
from ui import format as fmt
from ui.memo import by_content
from ui.runs import SCENARIO_HASH, cached_run, run_plans, run_scenario
from ui.state import MAX_TRIALS
from ui.warmup import compiled_within
from ui.words import base_plan_label

#: NumPy engine calls run two at a time: the machine this was built for has 2 cores.
WORKERS = 2
#: Trials per compiled engine call: one call at a time, its trials already use every core.
COMPILED_BATCH_TRIALS = 100_000
GRID_STEP = 5
GRID: list[BudgetSplit] = grid_splits(GRID_STEP)
HORIZONS: tuple[int, ...] = (12, 24, 36, 60)
#: The futures choice that means "all the sidebar's futures" (no sidebar has more).
MAP_TRIALS_ALL = MAX_TRIALS
#: Futures the map, optimiser and horizon table run on (the first ones of the sidebar's).
MAP_TRIALS_CHOICES: tuple[int, ...] = (MAP_TRIALS_ALL, 250, 500, 1000, 2000)
MAP_TRIALS_DEFAULT = MAP_TRIALS_ALL
#: Futures used for "all" while only the NumPy engine can run them (the compiled engine is
#: still loading, or the flows are random): 231 splits on 5,000 futures take it half a minute.
MAP_TRIALS_FALLBACK = 500
#: Seconds a page waits for the compiled engine before using MAP_TRIALS_FALLBACK futures
#: (loading it from Numba's disk cache takes about 2 s; compiling it takes minutes).
COMPILED_WAIT_S = 20.0
BOOTSTRAP_RESAMPLES = 200
#: How a statistic of a metric's totals reads in an objective's label ({} is the metric).
STATISTIC_WORDS: dict[str, str] = {"mean": "Mean {}",
                                   "p10": "P10 of {} (cautious: the bad-luck futures)"}
#: How each objective is named on screen (also what a link stores for the choice).
OBJECTIVE_LABELS: dict[str, str] = {
    key: STATISTIC_WORDS[objective.statistic].format(
        registry.in_sentence(registry.metric(objective.metric).label))
    for key, objective in OBJECTIVES.items()}


def objective_name(objective_key: str) -> str:
    """Return an objective's short name, without the label's note: "P10 of profit"."""
    return OBJECTIVE_LABELS[objective_key].split(" (")[0]


#: How the headline names each objective's metric (the metric registry's label in a sentence).
METRIC_WORDS: dict[str, str] = {name: registry.in_sentence(registry.metric(name).label)
                                for name in ("profit", "npv", "net_revenue")}
TABLE_METRICS: tuple[str, ...] = ("profit", "net_revenue", "npv", "clv_new_customer",
                                  "new_customers", "active_customers_end")
#: The 6:3:1 rule's name in tables and legends, and its split as tables and headlines write
#: it (the app's one notation, issue 13): "P(beats 60/30/10)", "Stay with 60/30/10".
RULE_LABEL = "6:3:1 rule"
RULE_SPLIT = RULE_631.label


def map_trials_words(choice: int) -> str:
    """How the futures control shows a choice: "All" or "1,000"."""
    return "All the sidebar's" if int(choice) >= MAP_TRIALS_ALL else fmt.count(choice)


def map_futures(scenario: Scenario, trials: int, choice: int = MAP_TRIALS_DEFAULT) -> int:
    """How many futures (the first of the sidebar's `trials`) the map, optimiser and horizon
    table use for the futures `choice`: at most `trials`, and at most MONTHLY_TRIALS_KEPT (the
    horizon table totals shorter horizons from the monthly series).

    "All" needs the compiled engine (`sim.dispatch.choose_engine`); the page waits up to
    COMPILED_WAIT_S for it to load, then uses MAP_TRIALS_FALLBACK futures (random flows
    always do), so the page still answers; `map_futures_words` says so.
    """
    futures = min(int(choice), int(trials), MONTHLY_TRIALS_KEPT)
    if int(choice) < MAP_TRIALS_ALL or futures <= MAP_TRIALS_FALLBACK:
        return futures
    plain = without_variants(scenario)
    if choose_engine(plain) == "compiled":
        return futures
    if plain.simulation.flows != "random":
        with st.spinner("Loading the fast engine…"):
            if compiled_within(COMPILED_WAIT_S) and choose_engine(plain) == "compiled":
                return futures
    return MAP_TRIALS_FALLBACK


def map_futures_words(futures: int, trials: int, choice: int) -> str:
    """The sentence saying which futures the map, optimiser and horizon table used."""
    if futures >= trials:
        return "The map, the optimiser and the horizon table use all of them."
    why = (" (the compiled engine that runs them all is not loaded, or the flows are random)"
           if int(choice) >= MAP_TRIALS_ALL and futures == MAP_TRIALS_FALLBACK else "")
    return (f"The map, the optimiser and the horizon table use the first {futures:,} of these "
            f"futures{why}.")


def _engine_settings(scenario: Scenario) -> dict[str, int]:
    """How `evaluate_splits` should split its work for the engine that will run it."""
    if choose_engine(scenario) == "compiled":
        return {"workers": 1, "batch_trials": COMPILED_BATCH_TRIALS}
    return {"workers": WORKERS}


def label(split: BudgetSplit) -> str:
    """Return a split in the app's notation: 60/30/10, 45/35/20 (`BudgetSplit.label`)."""
    return split.label


@contextmanager
def _progress(text: str) -> Iterator[Callable[[float], None]]:
    """A progress bar for a run that is not cached yet; removed when the run ends."""
    bar = st.progress(0.0, text=text)

    def update(fraction: float) -> None:
        bar.progress(min(1.0, max(0.0, float(fraction))), text=text)

    try:
        yield update
    finally:
        bar.empty()


# --------------------------------------------------------------------------------------------
# Cached runs (the scenario's variants are dropped by the public wrappers).


# Each entry holds 231 splits x trials x 3 metrics (17.6 MB at 5,000 trials, 55 MB at the
# map's 10,000): keep few, but one more than the warm-up fills (one per shipped scenario): with
# 3, the warm-up's grids pushed out the link a meeting had just opened, and the next session on
# it ran the 231-split search again (make load, 13:12).
@cached_run(max_entries=4, show_spinner=False, hash_funcs=SCENARIO_HASH)
def _grid(scenario: Scenario, seed: int, trials: int, horizon: int) -> dict[str, np.ndarray]:
    inputs = sample_inputs(scenario, trials, seed)
    with _progress(f"Simulating all {len(GRID)} splits on {trials:,} futures…") as progress:
        totals = evaluate_splits(scenario, GRID, inputs, horizons=(horizon,),
                                 progress=progress, seed=seed, **_engine_settings(scenario))
    return totals[horizon]


def split_grid(scenario: Scenario, seed: int, trials: int, horizon: int) -> dict[str, np.ndarray]:
    """Return metric -> per-trial totals of shape (231, trials) for every split of the 5% grid
    (rows in GRID order): profit, NPV and net revenue over `horizon` months, in $."""
    return _grid(without_variants(scenario), seed, trials, horizon)


@dataclass(frozen=True)
class Optimum:
    """The optimiser's answer on the map's futures.

    reference: 6:3:1's per-trial totals of the objective's metric; candidates: the splits the
    stability check chose among (the grid within bounds, plus the refined split).
    """

    result: OptimiserResult
    stability: Stability
    reference: np.ndarray
    candidates: tuple[BudgetSplit, ...]


def _bounds(bounds: tuple[tuple[float, float], ...]) -> Bounds:
    return Bounds(*bounds)


def _bounds_key(bounds: Bounds) -> tuple[tuple[float, float], ...]:
    """The cache key of bounds, in floats: the sliders give whole numbers, Bounds() floats,
    and the cache tells 0 from 0.0 (the Overview's default search must hit the page's)."""
    return tuple((float(low), float(high)) for _, (low, high) in bounds.items())


@cached_run(max_entries=24, show_spinner=False, hash_funcs=SCENARIO_HASH)
def _optimise(scenario: Scenario, seed: int, trials: int, horizon: int, objective_key: str,
              bounds_key: tuple[tuple[float, float], ...]) -> Optimum:
    objective = OBJECTIVES[objective_key]
    bounds = _bounds(bounds_key)
    grid = _grid(scenario, seed, trials, horizon)[objective.metric]
    known = {split: grid[i] for i, split in enumerate(GRID) if bounds.contains(split)}
    inputs = sample_inputs(scenario, trials, seed)

    def evaluate(splits: list[BudgetSplit]) -> np.ndarray:
        return evaluate_splits(scenario, splits, inputs, horizons=(horizon,),
                               metrics=(objective.metric,), seed=seed,
                               **_engine_settings(scenario))[horizon][objective.metric]

    with _progress("Refining the best split…") as progress:
        result = optimise_split(evaluate, objective, bounds, coarse_step=GRID_STEP,
                                refine_steps=(2, 1), known=known)
        progress(0.7)
        candidates = list(known)
        if result.split not in known:
            candidates.append(result.split)
        stability = bootstrap_stability(
            candidates, np.array([result.evaluated[s] for s in candidates]), objective,
            result.split, seed=seed, resamples=BOOTSTRAP_RESAMPLES)
    return Optimum(result, stability, grid[GRID.index(RULE_631)], tuple(candidates))


def optimise(scenario: Scenario, seed: int, trials: int, horizon: int, objective_key: str,
             bounds: Bounds) -> Optimum:
    """Return the split that maximises the objective within the bounds (coarse 5% grid, then
    2- and 1-point refinement), with its bootstrap stability, on the map's futures."""
    return _optimise(without_variants(scenario), seed, trials, horizon, objective_key,
                     _bounds_key(bounds))


@cached_run(max_entries=24, show_spinner=False, hash_funcs=SCENARIO_HASH)
def _horizon_optima(scenario: Scenario, seed: int, trials: int, horizons: tuple[int, ...],
                    objective_key: str, bounds_key: tuple[tuple[float, float], ...]
                    ) -> tuple[dict[int, OptimiserResult], dict[int, np.ndarray]]:
    inputs = sample_inputs(scenario, trials, seed)
    words = ", ".join(str(h) for h in horizons)
    with _progress(f"Finding the best split at {words} months…") as progress:
        return best_splits_by_horizon(scenario, inputs, horizons, OBJECTIVES[objective_key],
                                      _bounds(bounds_key), progress=progress, seed=seed,
                                      workers=_engine_settings(scenario)["workers"])


def horizon_optima(scenario: Scenario, seed: int, trials: int, horizons: Sequence[int],
                   objective_key: str, bounds: Bounds
                   ) -> tuple[dict[int, OptimiserResult], dict[int, np.ndarray]]:
    """Return the best split at each horizon (coarse 10% grid, then refinement) and 6:3:1's
    per-trial totals of the objective's metric at each, on the map's futures."""
    return _horizon_optima(without_variants(scenario), seed, trials, tuple(sorted(horizons)),
                           objective_key, _bounds_key(bounds))


# --------------------------------------------------------------------------------------------
# Named splits: 6:3:1, the base plan, the scenario's split variants, added splits, the pick.


@dataclass(frozen=True)
class NamedSplit:
    """One row of the table: a stable key (used in links), what it is called and its split.

    note says what else a variant changes besides the split (empty for pure splits).
    """

    key: str
    name: str
    split: BudgetSplit
    note: str = ""


def _variant_split(scenario: Scenario, name: str) -> tuple[BudgetSplit, str] | None:
    """Return a variant's split and a note on its other changes; None if it keeps the split."""
    overrides = scenario.variants[name]
    budget = overrides.get("budget")
    if not isinstance(budget, Mapping) or "split" not in budget:
        return None
    variant = variant_scenario(scenario, name)
    before = flat_fields(scenario)
    changed = [path for path, value in flat_fields(variant).items()
               if before.get(path) != value and path not in SPLIT_PATHS]
    note = f"also changes {', '.join(changed)}" if changed else ""
    return split_of(variant), note


def named_splits(scenario: Scenario, custom: Sequence[BudgetSplit], best: BudgetSplit,
                 objective_key: str) -> tuple[list[NamedSplit], list[str]]:
    """Return the table's rows in order (6:3:1 first, then the base plan, the scenario's split
    variants, the added splits and the optimiser's pick) and the names of the variants left
    out because they do not change the split."""
    base = split_of(scenario)
    rows = [NamedSplit("rule", base_plan_label(scenario) if base == RULE_631 else RULE_LABEL,
                       RULE_631)]
    if base != RULE_631:
        rows.append(NamedSplit("base", base_plan_label(scenario), base))
    skipped = []
    for name in scenario.variant_names():
        found = _variant_split(scenario, name)
        if found is None:
            skipped.append(name)
            continue
        rows.append(NamedSplit(f"variant:{name}", name, found[0], found[1]))
    for split in custom:
        rows.append(NamedSplit(f"custom:{split.code()}", f"Your split {label(split)}", split))
    rows.append(NamedSplit("best", f"Optimiser's pick {label(best)} "
                                   f"(best {objective_name(objective_key).lower()})",
                           best))
    return rows, skipped


def run_named(scenario: Scenario, rows: Sequence[NamedSplit], seed: int,
              trials: int) -> dict[str, SimResult]:
    """Run every row on the same futures at the sidebar's trials; returns key -> SimResult.

    The base plan and the variants come from the shared cached run of all plans (as on the
    Overview page); other splits are the scenario with only the split changed.
    """
    plans = run_plans(scenario, None, seed, trials)
    base_split = split_of(scenario)
    results: dict[str, SimResult] = {}
    for row in rows:
        if row.key == "base" or (row.key == "rule" and base_split == RULE_631):
            results[row.key] = plans[BASE_LABEL]
        elif row.key.startswith("variant:"):
            results[row.key] = plans[row.key.removeprefix("variant:")]
        elif row.split == base_split:
            results[row.key] = plans[BASE_LABEL]
        else:
            results[row.key] = run_scenario(with_split(scenario, row.split), seed, trials)
    return results


def pick_options(scenario: Scenario, custom: Sequence[BudgetSplit]) -> list[str]:
    """Return the keys of the splits the answer can be about: the optimiser's pick first,
    then the base plan (when it is not 6:3:1), the split variants and the added splits."""
    keys = ["best"]
    if split_of(scenario) != RULE_631:
        keys.append("base")
    keys += [f"variant:{name}" for name in scenario.variant_names()
             if _variant_split(scenario, name) is not None]
    keys += [f"custom:{split.code()}" for split in custom]
    return keys


def canonical_pick_key(key: str) -> str:
    """Return a picker key as this version writes it: an added split read from an older link
    ("custom:40-30-30" or "custom:40:30:30") becomes "custom:40/30/30"; other keys as given."""
    if not key.startswith("custom:"):
        return key
    try:
        return f"custom:{parse_split(key.removeprefix('custom:')).code()}"
    except ValueError:
        return key


def pick_words(key: str) -> str:
    """Return how a split the answer can be about is listed in the picker."""
    if key == "best":
        return "The optimiser's pick"
    if key == "base":
        return "The base plan"
    if key.startswith("variant:"):
        return key.removeprefix("variant:")
    return f"Your split {key.removeprefix('custom:')}"


def cli_command(stem: str, scenario: Scenario, rows: Sequence[NamedSplit], chosen: NamedSplit,
                seed: int, trials: int) -> str | None:
    """Return the CLI line that gives the same P(beats 60/30/10) as the answer, or None when
    the file holds no plan for 60/30/10 or for the chosen split (save it as a variant first).

    `scenario` must be the saved file's scenario (link changes are not in the file).
    """
    path = f"scenarios/{stem}.yaml"
    base = split_of(scenario)

    def plan(row: NamedSplit) -> str | None:
        if row.key.startswith("variant:"):
            return f"{path}#{row.key.removeprefix('variant:')}"
        if row.split == base:
            return path
        for other in rows:
            if other.key.startswith("variant:") and not other.note and other.split == row.split:
                return f"{path}#{other.key.removeprefix('variant:')}"
        return None

    rule = next(row for row in rows if row.key == "rule")
    first, second = plan(rule), plan(chosen)
    if first is None or second is None or first == second:
        return None
    return (f"python -m sim compare {shlex.quote(first)} {shlex.quote(second)} "
            f"--trials {trials} --seed {seed}")


def p_beats_text(comparison: Comparison) -> str:
    """Return P(beats) with its Monte Carlo error, or says it is a tie in every future."""
    if comparison.p_tie >= 1.0:
        return "tie (equal in every future)"
    half = (comparison.p_beats_high - comparison.p_beats_low) / 2
    return f"{fmt.share(comparison.p_beats)} ± {fmt.share(half, 1)}"


def split_table(rows: Sequence[NamedSplit], results: Mapping[str, SimResult],
                metric: str) -> pd.DataFrame:
    """Return the table for one metric: P10 / median / P90 per row, the paired gain over the
    6:3:1 rule (60/30/10) and P(beats 60/30/10) with its Monte Carlo error (90% Wilson
    half-width)."""
    rule = results["rule"].metrics[metric]
    table = []
    for row in rows:
        values = results[row.key].metrics[metric]
        summary = summarize(values)
        entry = {"Plan": row.name + (f" — {row.note}" if row.note else ""),
                 "Split (cold/warm/hot, %)": label(row.split)}
        if row.key == "rule":
            entry.update({f"P(beats {RULE_SPLIT})": "—", f"Mean gain over {RULE_SPLIT}": "—",
                          "90% range of the gain": "—"})
        else:
            comparison = compare_paired(values, rule)
            entry.update({
                f"P(beats {RULE_SPLIT})": p_beats_text(comparison),
                f"Mean gain over {RULE_SPLIT}": fmt.metric_value(metric, comparison.diff_mean,
                                                                 signed=True),
                "90% range of the gain": (
                    f"{fmt.metric_value(metric, comparison.diff_p5, signed=True)} to "
                    f"{fmt.metric_value(metric, comparison.diff_p95, signed=True)}")})
        entry.update({"P10": fmt.metric_value(metric, summary.p10),
                      "Median": fmt.metric_value(metric, summary.p50),
                      "P90": fmt.metric_value(metric, summary.p90)})
        table.append(entry)
    return pd.DataFrame(table)


# --------------------------------------------------------------------------------------------
# Sentences.


def plateau_words(plateau: Sequence[BudgetSplit]) -> str:
    """Return a plateau of splits as its ranges of cold and existing buyers (warm takes the
    rest): 'any split with 35-45% cold and 20-40% existing buyers'."""
    ranges = plateau_ranges(plateau)

    def span(bucket: str) -> str:
        low, high = ranges[bucket]
        return f"{low:.0f}%" if round(low) == round(high) else f"{low:.0f}-{high:.0f}%"

    return f"any split with {span('cold')} cold and {span('hot')} existing buyers"


def headline(name: str, comparison: Comparison, metric: str, horizon: int,
             objective_key: str, is_pick: bool, *, trials: int | None = None,
             searched_trials: int | None = None,
             plateau: Sequence[BudgetSplit] = ()) -> str:
    """Return the decision a presenter reads out (issue 13: the decision first, one risk
    clause, at most ~30 words): the chosen split against the 6:3:1 rule, written 60/30/10.

    trials: the futures of `comparison` (all of the sidebar's); searched_trials: the futures
    the optimiser searched, when fewer (the pick was re-run on all, and the sentence says so);
    plateau: the splits within Monte Carlo error of an unstable pick (the decision names their
    ranges instead of one split).
    """
    words = METRIC_WORDS[metric]
    if comparison.p_tie >= 1.0 and is_pick:
        return (f"Stay with {RULE_SPLIT}: it is already the best split for "
                f"{objective_name(objective_key).lower()} within your bounds over {horizon} "
                "months.")
    if comparison.p_tie >= 1.0:
        return (f"Stay with {RULE_SPLIT}: {name} gives the same {words} in every future, a "
                "tie, not a win.")
    gain = comparison.diff_mean
    odds = fmt.share(comparison.p_beats)
    if trials is None:
        where = "of futures"
    elif searched_trials is not None and searched_trials < trials:
        where = f"of all {trials:,} futures (re-run)"
    else:
        where = f"of {trials:,} futures"
    if gain < 0:
        return (f"Stay with {RULE_SPLIT}: {name} earns {fmt.money(-gain)} less {words} on "
                f"average and wins in only {odds} {where}.")
    average = f"earns {fmt.money(gain)} more {words} than {RULE_SPLIT} on average"
    if comparison.p_beats < 0.5:
        return f"Test {name} before moving budget: it {average} but wins in only {odds} {where}."
    if is_pick and len(plateau) > 1:
        return f"Move to {plateau_words(plateau)}: {name} {average}, wins in {odds} {where}."
    return f"Move to {name}: it {average} and wins in {odds} {where}."


def crossover_month(cumulative_difference: np.ndarray) -> int | None:
    """Return the first month (1-based) from which the median cumulative difference stays
    above zero, or None when it never does within the horizon."""
    median = np.median(cumulative_difference, axis=0)
    ahead = median > 0
    if not ahead[-1]:
        return None
    behind = np.flatnonzero(~ahead)
    return 1 if behind.size == 0 else int(behind[-1]) + 2


def tie_cells(values: np.ndarray, best: int) -> tuple[np.ndarray, np.ndarray]:
    """For each grid cell, P(the best cell beats it) on paired trials and whether the two
    are tied (the best wins in fewer than CLEAR_WIN of futures; the best is tied with itself).
    """
    p = np.array([compare_paired(values[best], row).p_beats for row in values])
    return p, p < CLEAR_WIN


@by_content(16)
def map_cells(values: np.ndarray, objective: Objective, bounds: Bounds,
              best: int) -> pd.DataFrame:
    """Return the map's cells: split, median of the metric, tie flag, pale when out of
    bounds, and a tooltip note with P(the best cell beats it). Kept per content and shared
    (do not change the table): its 231 paired tie tests and medians took 0.25 s of a 0.4 s
    Budget split rerun, which asks twice."""
    p, tied = tie_cells(values, best)
    median = np.median(values, axis=1)
    notes = [("the best cell" if i == best else
              f"best beats it in {fmt.share(p[i])} of futures"
              + (" (tie)" if tied[i] else "")) for i in range(len(GRID))]
    return pd.DataFrame({
        "cold": [s.cold for s in GRID], "warm": [s.warm for s in GRID],
        "hot": [s.hot for s in GRID], "value": median,
        "label": [label(s) for s in GRID], "note": notes,
        "flag": tied, "faded": [not bounds.contains(s) for s in GRID],
        "objective": objective_values(values, objective)})


def best_cell(values: np.ndarray, objective: Objective, bounds: Bounds) -> int:
    """Return the GRID index of the best cell within bounds (brute force over the map)."""
    return best_index(GRID, values, objective, bounds)


def cumulative_bands(results: Mapping[str, SimResult]) -> dict[str, dict[str, np.ndarray]]:
    """Return label -> P10/P50/P90 of cumulative profit per month, in $."""
    return {name: monthly_bands(result.monthly["profit"], cumulative=True)
            for name, result in results.items()}


def cumulative_difference(split: SimResult, rule: SimResult) -> np.ndarray:
    """Return the cumulative profit of one split minus 60/30/10 per trial and month (same
    futures), shape (kept trials, months), in $."""
    return np.cumsum(split.monthly["profit"] - rule.monthly["profit"], axis=1)
