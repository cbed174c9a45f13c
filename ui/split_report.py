"""Budget split page: the tables, markers and sentences it shows, built from its runs.

The runs themselves (cached) and the words shared with the CLI live in `ui.splits`; here is
what the page lays out: which named split the answer is about, the map's markers, the
optimiser's and the horizons' summaries, the crossover sentence, and saving a split.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from sim.engine import SimResult
from sim.metrics import Comparison, compare_paired, summarize
from sim.scenario import ScenarioError
from sim.splits import (
    OBJECTIVES,
    RULE_631,
    BudgetSplit,
    OptimiserResult,
    add_split_variant,
    objective_values,
)
from ui import format as fmt
from ui.library import LibraryError, read_entry, save_scenario
from ui.splits import (
    GRID,
    GRID_STEP,
    METRIC_WORDS,
    RULE_LABEL,
    RULE_SPLIT,
    NamedSplit,
    Optimum,
    cli_command,
    crossover_month,
    label,
    map_futures_words,
    objective_name,
    p_beats_text,
)
from ui.state import PageContext


def answer_split(by_key: Mapping[str, NamedSplit], pick_key: str) -> tuple[NamedSplit, str]:
    """Return the named split the answer is about (the optimiser's pick when the chosen key
    is gone; the rule when the base plan is asked for but is 60/30/10) and its name as shown:
    a variant's name with its split, unless the name already says it ('40/30/30 balanced')."""
    chosen = by_key.get(pick_key, by_key["best"])
    if pick_key == "base" and "base" not in by_key:
        chosen = by_key["rule"]
    plain = chosen.key in ("best", "base") or chosen.key.startswith("custom:")
    if plain:
        shown = label(chosen.split)
    elif label(chosen.split) in chosen.name:
        shown = chosen.name
    else:
        shown = f"{chosen.name} ({label(chosen.split)})"
    return chosen, shown


def answer_note(context: PageContext, comparison: Comparison, rows: list[NamedSplit],
                chosen: NamedSplit, map_trials: int, map_trials_choice: int) -> str:
    """The line under the answer: futures, Monte Carlo error of the answer's figures, the
    futures the map used and, for a saved scenario, the CLI line that re-derives it."""
    half = (comparison.p_beats_high - comparison.p_beats_low) / 2
    error = (f"±{fmt.money(fmt.mc_margin(comparison.diff_se))} on the mean gain and "
             f"±{fmt.share(half, 1)} on the share of futures"
             if comparison.p_tie < 1 else "none: the two are the same split")
    command = (None if context.overrides else
               cli_command(context.stem, context.saved, rows, chosen, context.seed,
                           context.trials))
    return (f"From {context.trials:,} simulated futures (seed {context.seed}), paired: each "
            f"split meets {RULE_SPLIT} in the same futures. Monte Carlo error (90%): {error}. "
            + map_futures_words(map_trials, context.trials, map_trials_choice)
            + (f" Re-derive it: `{command}`" if command else ""))


def map_markers(best: BudgetSplit, pick: BudgetSplit, objective_key: str) -> pd.DataFrame:
    """Return the map's marked splits: the 6:3:1 rule, the best cell and the optimiser's
    refined pick (when it is not the best cell)."""
    words = objective_name(objective_key)
    markers = pd.DataFrame([
        {"cold": RULE_631.cold, "warm": RULE_631.warm, "kind": RULE_LABEL,
         "label": label(RULE_631)},
        {"cold": best.cold, "warm": best.warm, "kind": f"Best cell ({words.lower()})",
         "label": f"best {label(best)}"},
    ])
    if pick != best:
        markers = pd.concat([markers, pd.DataFrame([{
            "cold": pick.cold, "warm": pick.warm, "kind": "Optimiser's pick (refined)",
            "label": label(pick)}])], ignore_index=True)
    return markers


def best_cell_words(values: np.ndarray, cells: pd.DataFrame, best: int,
                    objective_key: str) -> str:
    """Return the map's best cell in words: its objective, how often it beats 60/30/10 and how
    many cells are statistically tied with it."""
    tied_count = int(cells["flag"].sum()) - 1
    rule_vs_best = compare_paired(values[best], values[GRID.index(RULE_631)])
    return (
        f"**Best cell:** {label(GRID[best])} "
        f"({objective_name(objective_key).lower()} "
        f"{fmt.money(float(cells['objective'][best]))}). "
        f"It beats {RULE_SPLIT} in {fmt.share(rule_vs_best.p_beats)} of futures. "
        f"{tied_count} other cells are statistically tied with it (dots): the best cell wins "
        "against them in fewer than 80% of futures, so the data cannot separate them.")


def optimiser_words(optimum: Optimum, objective_key: str) -> str:
    """Return the optimiser's pick in words (Markdown list): value against 60/30/10, the mean
    gain with its 90% Monte Carlo error, and how stable the pick is across resamples."""
    objective = OBJECTIVES[objective_key]
    metric = objective.metric
    result = optimum.result
    gain = compare_paired(result.evaluated[result.split], optimum.reference)
    stability = optimum.stability
    return (
        f"- **Best split for {objective_name(objective_key).lower()}: {label(result.split)}** "
        f"({fmt.money(result.value)}; {RULE_SPLIT}: "
        f"{fmt.money(float(objective_values(optimum.reference, objective)))}). "
        f"Searched the {GRID_STEP}% grid within your bounds (best cell {label(result.coarse)}), "
        "then moved 2 and 1 points between buckets while that improved it, on the same "
        "futures.\n"
        f"- **Gain over {RULE_SPLIT}:** {fmt.money(gain.diff_mean, signed=True)} "
        f"{METRIC_WORDS[metric]} on average (Monte Carlo error "
        f"±{fmt.money(fmt.mc_margin(gain.diff_se))}); 90% range across futures "
        f"{fmt.money(gain.diff_p5, signed=True)} to {fmt.money(gain.diff_p95, signed=True)}"
        f"; beats {RULE_SPLIT} in {p_beats_text(gain)} of futures.\n"
        f"- **Stability:** in {fmt.share(stability.win_share)} of {stability.resamples} "
        "bootstrap resamples of the futures it is still the best of the "
        f"{len(optimum.candidates)} candidate splits; in {fmt.share(stability.near_share)} the "
        "winner is within 5 points of it in every bucket. "
        + ("A stable choice." if stability.near_share >= 0.9 else
           "Neighbouring splits are close: treat the exact numbers as a region, not a point."))


def horizon_table(by_horizon: Mapping[int, OptimiserResult],
                  references: Mapping[int, np.ndarray], horizon: int,
                  objective_key: str) -> pd.DataFrame:
    """Return the best split per horizon against 60/30/10 (the scenario's horizon marked)."""
    objective = OBJECTIVES[objective_key]
    words = objective_name(objective_key)
    rows = []
    for h in sorted(by_horizon):
        found = by_horizon[h]
        versus = compare_paired(found.evaluated[found.split], references[h])
        rows.append({
            "Horizon": f"{h} months" + (" (this scenario)" if h == horizon else ""),
            "Best split": label(found.split),
            words: fmt.money(found.value),
            RULE_SPLIT: fmt.money(float(objective_values(references[h], objective))),
            f"Mean gain over {RULE_SPLIT}": fmt.money(versus.diff_mean, signed=True),
            "90% range of the gain": (f"{fmt.money(versus.diff_p5, signed=True)} to "
                                      f"{fmt.money(versus.diff_p95, signed=True)}"),
            f"P(beats {RULE_SPLIT})": p_beats_text(versus),
        })
    return pd.DataFrame(rows)


def crossover_words(split: BudgetSplit, difference: np.ndarray, comparison: Comparison,
                    horizon: int) -> str:
    """Return when the split overtakes 60/30/10 in cumulative profit in the median future (or
    that it does not), from the per-future cumulative difference (futures x months)."""
    if comparison.p_tie >= 1:
        return f"The split in the answer is {RULE_SPLIT} itself, so the two lines coincide."
    month = crossover_month(difference)
    end = summarize(difference[:, -1])
    bands = f"Lines: medians; bands: P10-P90 of {difference.shape[0]:,} futures."
    if month is None:
        return (f"In the median future {label(split)} is still behind {RULE_SPLIT} in cumulative "
                f"profit after {horizon} months (median difference "
                f"{fmt.money(end.p50, signed=True)}). {bands}")
    return (f"In the median future {label(split)} overtakes {RULE_SPLIT} in cumulative profit "
            f"in month {month} and stays ahead (median difference after {horizon} months "
            f"{fmt.money(end.p50, signed=True)}). {bands}")


def save_split(stem: str, name: str, split: BudgetSplit) -> tuple[str | None, str | None]:
    """Add the split to the library file as a variant named `name`, replacing exactly the
    version on disk; return (success message, None) or (None, why nothing was saved). The
    message says so when the file's comments and layout could not be kept."""
    entry = read_entry(stem)
    if entry.scenario is None:
        return None, (f"{stem}.yaml cannot be read, so nothing was saved: "
                      + "; ".join(entry.problems))
    try:
        updated = add_split_variant(entry.scenario, name, split)
        path = save_scenario(stem, updated, expected_mtime_ns=entry.modified_ns,
                             expected_sha256=entry.sha256)
    except (ScenarioError, LibraryError, ValueError) as problem:
        reasons = problem.problems if isinstance(problem, ScenarioError) else [str(problem)]
        return None, "Nothing was saved: " + "; ".join(reasons)
    message = (f"Saved variant “{name}” (split {label(split)}) in {path.name}. It is now "
               "listed under Named splits and on the other pages.")
    if path.layout_note:
        message += f" {path.layout_note}."
    return message, None


def results_pair(results: Mapping[str, SimResult], chosen: NamedSplit
                 ) -> dict[str, SimResult]:
    """Return the 6:3:1 rule and the split in the answer, named for the cumulative profit
    chart."""
    return {RULE_LABEL: results["rule"],
            f"{label(chosen.split)} ({'optimiser' if chosen.key == 'best' else chosen.name})":
                results[chosen.key]}
