"""The answers of the four topic pages (Budget split, Guarantee, Retention, Sensitivity) as
`PageAnswer`s: each page's current decision sentence, key figures and main chart.

Each function takes the page context plus the page's own settings (keyword arguments whose
defaults are the page's default widget values), so the page calls it with its widgets' values
and `ui.answers` calls it with the defaults to build the deck without drawing the page. Every
number comes from the same cached runs the page draws (ui.splits, ui.guarantee, ui.retention,
ui.sensitivity), so slide, page and report agree for the same link.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.engine import BASE_LABEL, plan_scenarios
from sim.metrics import compare_paired, summarize
from sim.retention import GOALS, best_share, cold_ratio, split_for_hot_share
from sim.splits import OBJECTIVES, RULE_631, Bounds, BudgetSplit
from ui import format as fmt
from ui.charts import share_sweep_chart, split_map_chart, tornado_chart
from ui.guarantee import (
    break_even_for,
    default_length,
    guarantee_detail,
    guarantee_sentence,
    length_runs,
    lift_map_chart,
    pays,
    variant_lengths,
)
from ui.report import Figure, PageAnswer
from ui.retention import (
    GOAL_LABELS,
    answer_sentence,
    page_trials,
    run_sweep,
    share_words,
    share_worth,
)
from ui.sensitivity import (
    THRESHOLD_TRIALS,
    TOP_INPUTS,
    Decision,
    analyse_draws,
    input_label,
    input_name,
    input_value,
    metric_words,
    plan_means,
    run_thresholds,
    run_tornado,
    sensitivity_sentence,
    sentence_name,
)
from ui.split_report import answer_split
from ui.splits import (
    GRID,
    MAP_TRIALS_DEFAULT,
    METRIC_WORDS,
    OBJECTIVE_LABELS,
    RULE_LABEL,
    RULE_SPLIT,
    best_cell,
    headline,
    label,
    map_cells,
    map_futures,
    named_splits,
    optimise,
    plateau_words,
    run_named,
    split_grid,
)
from ui.state import PageContext
from ui.words import base_plan_label

#: The best split (Budget split) and best share (Retention) each page last answered with its
#: default settings, by (scenario text, seed, trials) -> page -> sentence. The Overview points
#: to them with the same figures without re-running the split map (about 25 s cold on 2
#: cores at 1,000 trials); the pages' own runs are cached, so the figures are the pages'.
_BEST_FOUND: dict[tuple[str, int, int], dict[str, str]] = {}
_BEST_FOUND_LIMIT = 64


def _context_key(context: PageContext) -> tuple[str, int, int]:
    return context.scenario.canonical(), int(context.seed), int(context.trials)


def _record_best(context: PageContext, page: str, words: str) -> None:
    """Remember what `page` found with its default settings for this scenario, seed, trials."""
    if len(_BEST_FOUND) >= _BEST_FOUND_LIMIT:
        _BEST_FOUND.pop(next(iter(_BEST_FOUND)))
    _BEST_FOUND.setdefault(_context_key(context), {})[page] = words


def best_found(context: PageContext) -> dict[str, str]:
    """Return page -> what the Budget split and Retention pages found with their default
    settings on this scenario, seed and trials ("budget_split", "retention"); a page not yet
    opened (nor its slide built) for these settings is missing."""
    return dict(_BEST_FOUND.get(_context_key(context), {}))


def budget_split_answer(context: PageContext, *,
                        objective_key: str = next(iter(OBJECTIVE_LABELS)),
                        map_trials: int = MAP_TRIALS_DEFAULT, bounds: Bounds | None = None,
                        custom: Sequence[BudgetSplit] = (), pick_key: str = "best"
                        ) -> PageAnswer:
    """Budget split: the split in the answer against 60/30/10 (headline, mean gain, P(beats),
    the optimiser's stability) and the split map, in $ of the objective's metric."""
    scenario, horizon = context.scenario, context.horizon
    bounds = bounds or Bounds()
    objective = OBJECTIVES[objective_key]
    metric = objective.metric
    map_trials = map_futures(scenario, context.trials, map_trials)
    values = split_grid(scenario, context.seed, map_trials, horizon)[metric]
    best = best_cell(values, objective, bounds)
    optimum = optimise(scenario, context.seed, map_trials, horizon, objective_key, bounds)
    rows, _ = named_splits(scenario, list(custom), optimum.result.split, objective_key)
    by_key = {named.key: named for named in rows}
    results = run_named(scenario, rows, context.seed, context.trials)
    chosen, shown = answer_split(by_key, pick_key)
    comparison = compare_paired(results[chosen.key].metrics[metric],
                                results["rule"].metrics[metric])
    is_pick = chosen.key == "best"
    plateau = optimum.stability.plateau if is_pick and optimum.stability.is_plateau else ()
    sentence = headline(shown, comparison, metric, horizon, objective_key, is_pick=is_pick,
                        trials=context.trials, searched_trials=map_trials, plateau=plateau)
    markers = pd.DataFrame([
        {"cold": RULE_631.cold, "warm": RULE_631.warm, "kind": RULE_LABEL,
         "label": label(RULE_631)},
        {"cold": GRID[best].cold, "warm": GRID[best].warm, "kind": "Best cell",
         "label": f"best {label(GRID[best])}"}])
    chart = split_map_chart(map_cells(values, objective, bounds, best),
                            f"Median {METRIC_WORDS[metric]} ($)", markers=markers)
    figures = (
        Figure("Split in the answer", label(chosen.split)),
        Figure(f"Mean gain in {METRIC_WORDS[metric]}", fmt.money(comparison.diff_mean,
                                                                 signed=True)),
        Figure(f"Beats {RULE_SPLIT} in", "tie" if comparison.p_tie >= 1
               else fmt.share(comparison.p_beats)),
        Figure("Optimiser's pick is stable in", fmt.share(optimum.stability.win_share)))
    if (objective_key, int(map_trials), pick_key) == (next(iter(OBJECTIVE_LABELS)),
                                                      MAP_TRIALS_DEFAULT, "best") \
            and bounds.is_open():
        region = f"{plateau_words(plateau)} ({shown} at best)" if plateau else shown
        _record_best(context, "budget_split", (
            f"best split found on Budget split: {region}, "
            f"{fmt.money(comparison.diff_mean, signed=True)} mean {METRIC_WORDS[metric]} over "
            f"{RULE_SPLIT}, wins in {fmt.share(comparison.p_beats)} of futures"))
    searched = (f"the map and optimiser searched the first {map_trials:,} and the pick was "
                f"re-run on all {context.trials:,}" if map_trials < context.trials else
                "the map and optimiser use the same futures")
    stable = (f"the pick is best in only {fmt.share(optimum.stability.win_share)} of "
              f"bootstrap resamples, so the answer is the {len(plateau)} splits within Monte "
              "Carlo error of it (90%)" if plateau else
              f"the pick is best in {fmt.share(optimum.stability.win_share)} of bootstrap "
              "resamples")
    return PageAnswer(
        "budget_split", "Budget split", sentence,
        detail=(f"{shown} against the 6:3:1 rule ({RULE_SPLIT}) on {context.trials:,} "
                f"simulated futures (seed {context.seed}), paired: mean gain "
                f"{fmt.money(comparison.diff_mean, signed=True)}, 90% range "
                f"{fmt.money(comparison.diff_p5, signed=True)} to "
                f"{fmt.money(comparison.diff_p95, signed=True)}; {searched}; {stable}."),
        figures=figures, chart=chart,
        chart_title=f"Every split: median {METRIC_WORDS[metric]} over {horizon} months")


def guarantee_answer(context: PageContext, *, chosen: int | None = None) -> PageAnswer:
    """Guarantee: the chosen length against the current one (break-even lift, pays on profit
    and revenue after refunds still owed) and the lift-against-returns map."""
    scenario, horizon = context.scenario, context.horizon
    current = scenario.guarantee.days
    chosen = default_length(scenario) if chosen is None else int(chosen)
    compared = tuple(sorted({current, chosen, *variant_lengths(scenario)}))
    runs = length_runs(scenario, compared, context.seed, context.trials)
    be = break_even_for(scenario, chosen)
    profit = pays(runs, "profit", chosen)
    revenue = pays(runs, "net_revenue", chosen)
    lift = float(np.median(runs.metric("conversion_multiplier", chosen))) - 1.0
    owed = summarize(runs.metric("open_guarantee_liability", chosen))
    sentence = guarantee_sentence(current=current, chosen=chosen, be=be, expected_lift=lift,
                                  profit=profit, revenue=revenue, open_liability=owed.p50,
                                  trials=context.trials, horizon=horizon)
    figures = (Figure("Break-even, profit", fmt.share(be.profit_engine, 1)),
               Figure("Pays on profit", fmt.share(profit.p_beats)),
               Figure("Pays on revenue", fmt.share(revenue.p_beats)),
               Figure(f"Owed at month {horizon}", fmt.money(owed.p50)))
    return PageAnswer(
        "guarantee", "Guarantee", sentence,
        detail=guarantee_detail(current=current, chosen=chosen, be=be, expected_lift=lift,
                                revenue=revenue, open_liability=owed.p50,
                                trials=context.trials, horizon=horizon),
        figures=figures, chart=lift_map_chart(scenario, runs, chosen),
        chart_title="Lift against returns: where the longer guarantee pays")


def retention_answer(context: PageContext, *, goal: str = GOALS[0]) -> PageAnswer:
    """Retention: the best share of the budget for existing buyers on `goal`, its gain over
    today's split, and the sweep of shares from 0% to 80%."""
    scenario, horizon = context.scenario, context.horizon
    trials = page_trials(context.trials)
    sweep = run_sweep(scenario, context.seed, trials)
    best = best_share(sweep, goal)
    today = sweep.current
    vs_today = best.vs_current
    share = float(sweep.shares[best.index])
    split = fmt.split_label(*split_for_hot_share(scenario, share))
    p10, p50, p90 = np.nanpercentile(sweep.metrics[goal], [10, 50, 90], axis=1)
    ratio = cold_ratio(scenario)
    goal_label = GOAL_LABELS[goal].split(" (")[0]
    chart = share_sweep_chart(
        sweep.shares, {"p10": p10, "p50": p50, "p90": p90}, f"{goal_label} ($)",
        marks={f"today {share_words(float(sweep.shares[today]))}": float(sweep.shares[today]),
               f"best {share_words(best.share)}": best.share},
        zone=(best.tie_low, best.tie_high),
        zone_label="Not clearly beaten: the best wins in fewer than 80% of futures",
        x_title=f"Share for existing buyers (rest: cold and warm "
                f"{ratio * 100:.0f}/{(1 - ratio) * 100:.0f})")
    worth = share_worth(scenario, context.seed, trials, goal)
    if goal == GOALS[0]:
        _record_best(context, "retention", (
            f"best share on Retention: {share_words(share)} for existing buyers ({split}), "
            f"{fmt.money(vs_today.diff_mean, signed=True)} mean {goal_label.lower()} over "
            f"today's {share_words(float(sweep.shares[today]))}"
            + ("" if best.index == today else
               f", wins in {fmt.share(vs_today.p_beats)} of {trials:,} futures")))
    known = (Figure(f"Worth knowing {input_name(worth.path)}", fmt.money(worth.worth))
             if worth is not None else
             Figure("Not clearly beaten by the best",
                    f"{share_words(best.tie_low)} – {share_words(best.tie_high)}"))
    figures = (
        Figure("Best share for existing buyers", f"{share_words(share)} ({split})"),
        Figure(f"Mean gain over today's {share_words(float(sweep.shares[today]))}",
               fmt.money(vs_today.diff_mean, signed=True)),
        Figure("Beats today's split in",
               "—" if best.index == today else f"{fmt.share(vs_today.p_beats)} of futures"),
        known)
    spread = ("" if best.index == today else
              f"; gain over today's split 90% range {fmt.money(vs_today.diff_p5, signed=True)} "
              f"to {fmt.money(vs_today.diff_p95, signed=True)}")
    knowing = ("" if worth is None else
               f"; knowing every input is worth {fmt.money(worth.evpi)} (EVPI, noise level "
               f"{fmt.money(worth.noise)}), as on the Sensitivity page")
    return PageAnswer(
        "retention", "Retention vs acquisition", answer_sentence(best, sweep, goal, worth),
        detail=f"{trials:,} simulated futures, {fmt.horizon_words(horizon)} "
               f"{goal_label.lower()}; every share runs on the same draws{spread}{knowing}.",
        figures=figures, chart=chart,
        chart_title=f"{goal_label} by the share for existing buyers (median, P10-P90)")


def sensitivity_answer(context: PageContext, *, metric: str = "profit",
                       plan_a: str | None = None, plan_b: str = BASE_LABEL,
                       target: str = BASE_LABEL, chosen: str | None = None) -> PageAnswer:
    """Sensitivity: which inputs move `metric` of `target` (a plan label, or "gap" for plan A
    minus plan B), whether plan A or B wins and where that flips on the input `chosen` (the
    page's "Input to search"; default, as on the page, the one that explains most of the
    gap's variance); the tornado chart. plan_a defaults to the challenger with the best mean,
    as on the page."""
    scenario, horizon = context.scenario, context.horizon
    labels = list(plan_scenarios(scenario))
    shown = {name: base_plan_label(scenario) if name == BASE_LABEL else name for name in labels}
    challengers = [name for name in labels if name != BASE_LABEL]
    if plan_a is None:
        means = plan_means(scenario, context.seed, context.trials, metric)
        plan_a = max(challengers, key=means.get) if challengers else BASE_LABEL
    has_choice = bool(challengers) and plan_a != plan_b
    gap = target == "gap" and has_choice
    target = target if target in labels or gap else BASE_LABEL
    if gap:
        swings = run_tornado(scenario, plan_a, plan_b, metric, horizon)
        target_words = (f"gap between {sentence_name(shown[plan_a])} and "
                        f"{sentence_name(shown[plan_b])}")
        x_title = f"{fmt.metric_label(metric)}: {shown[plan_a]} − {shown[plan_b]} ($)"
    else:
        swings = run_tornado(scenario, target, None, metric, horizon)
        target_words = f"of {sentence_name(shown[target])}"
        x_title = f"{fmt.metric_label(metric)}, {metric_words(metric, horizon)} ($)"
    draws = analyse_draws(scenario, context.seed, context.trials, metric, plan_a, plan_b,
                          None if gap else target)
    drivers = [bar.path for bar in swings.bars if bar.width > 0]
    decision, thresholds, found = None, {}, None
    threshold_trials = min(THRESHOLD_TRIALS, context.trials)
    if has_choice and draws.fields:
        ranked = sorted(draws.fields, key=lambda path: -draws.gap_shares[path])
        thresholds = run_thresholds(scenario, plan_a, plan_b, tuple(ranked[:TOP_INPUTS]),
                                    metric, threshold_trials, context.seed, horizon)
        chosen = chosen if chosen in draws.fields else ranked[0]
        found = thresholds.get(chosen) or run_thresholds(
            scenario, plan_a, plan_b, (chosen,), metric, threshold_trials, context.seed,
            horizon)[chosen]
    if has_choice:
        a_wins = draws.gap_mean > 0
        decision = Decision(shown[plan_a] if a_wins else shown[plan_b],
                            shown[plan_b] if a_wins else shown[plan_a], a_wins)
    plans = plan_scenarios(scenario, [name for name in (plan_a, plan_b) if name != BASE_LABEL])
    sentence = sensitivity_sentence(target=target_words, metric=metric, horizon=horizon,
                                    drivers=drivers, decision=decision,
                                    chosen=chosen if found is not None else None,
                                    threshold=found, plans=[plans[plan_a], plans[plan_b]])
    worth = draws.worth
    knowing = ("" if worth is None or found is None else
               f" Knowing {input_name(chosen)} before choosing is worth "
               f"{fmt.metric_value(metric, worth.per_input.get(chosen, 0.0))} (EVPPI; every "
               f"input: {fmt.metric_value(metric, worth.evpi)}; noise level "
               f"{fmt.metric_value(metric, worth.noise)}).")
    bars = swings.bars[:8]  # a slide has room for eight bars; the page lists them all
    rows = pd.DataFrame({
        "label": [input_label(bar.path) for bar in bars],
        "low": [bar.output_low for bar in bars], "high": [bar.output_high for bar in bars],
        "low_text": [input_value(bar.path, bar.input_low) for bar in bars],
        "high_text": [input_value(bar.path, bar.input_high) for bar in bars]})
    figures = [Figure(f"Widest swing: {input_label(bar.path)}",
                      fmt.money(bar.width)) for bar in swings.bars[:2] if bar.width > 0]
    if decision is not None:
        figures.append(Figure("Wins on the mean", decision.winner))
    return PageAnswer(
        "sensitivity", "Sensitivity", sentence,
        detail=(f"Each input swung from its P10 to its P90 with the others at their medians; "
                f"{metric_words(metric, horizon)}.{knowing}"),
        figures=tuple(figures), chart=tornado_chart(rows, swings.base_value, x_title,
                                                    base_label="All inputs at their medians"),
        chart_title=f"What moves the {metric_words(metric, horizon)} {target_words}")


def sensitivity_top_inputs(context: PageContext, count: int = 4) -> list[str]:
    """Return the dotted paths of the inputs that move the base plan's profit most (the top
    of the Sensitivity tornado on the base plan), widest first."""
    swings = run_tornado(context.scenario, BASE_LABEL, None, "profit", context.horizon)
    return [bar.path for bar in swings.bars if bar.width > 0][:count]

