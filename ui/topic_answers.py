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
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.engine import BASE_LABEL, SimResult, plan_scenarios
from sim.guarantee import BreakEven, LengthRuns
from sim.metrics import Comparison, Summary, compare_paired, summarize
from sim.retention import GOALS, best_share, cold_ratio, split_for_hot_share
from sim.sensitivity import Threshold, Tornado
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
    run_sweep,
    share_words,
    share_worth,
)
from ui.sensitivity import (
    THRESHOLD_TRIALS,
    TOP_INPUTS,
    Decision,
    DrawAnalysis,
    analyse_draws,
    choice_decision,
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
    NamedSplit,
    Optimum,
    best_cell,
    headline,
    label,
    map_cells,
    map_futures,
    map_futures_words,
    named_splits,
    optimise,
    plateau_words,
    run_named,
    split_grid,
)
from ui.state import PageContext
from ui.words import base_plan_label


@dataclass(frozen=True)
class SplitFound:
    """What the Budget split page's answer rests on, before it is worded.

    searched: the futures (the first of the sidebar's) the map and optimiser used; rows: the
    named splits of the page's table (skipped: variants left out as they keep the base split)
    and results: key -> their runs on all the sidebar's futures; chosen and shown: the split in
    the answer and its name as shown; comparison: it against 6:3:1, paired, on the objective's
    metric; plateau: the splits within Monte Carlo error of an unstable pick (empty when the
    pick is stable or not in the answer).
    """

    objective_key: str
    map_choice: int
    searched: int
    trials: int
    optimum: Optimum
    rows: tuple[NamedSplit, ...]
    skipped: tuple[str, ...]
    results: dict[str, SimResult]
    chosen: NamedSplit
    shown: str
    comparison: Comparison
    plateau: tuple[BudgetSplit, ...]

    @property
    def metric(self) -> str:
        """The objective's metric (a key of the metric registry)."""
        return OBJECTIVES[self.objective_key].metric


def split_found(context: PageContext, *,
                objective_key: str = next(iter(OBJECTIVE_LABELS)),
                map_trials: int = MAP_TRIALS_DEFAULT, bounds: Bounds | None = None,
                custom: Sequence[BudgetSplit] = (), pick_key: str = "best") -> SplitFound:
    """Return the Budget split page's answer for these settings (defaults: the page's): the
    search on the map's futures (`ui.splits.map_futures`), the split in the answer re-run
    with 6:3:1 on all the sidebar's futures. Every run goes through the page's caches, so the
    Overview's pointer and the page show the same numbers and either fills the cache."""
    scenario = context.scenario
    bounds = bounds or Bounds()
    searched = map_futures(scenario, context.trials, map_trials)
    optimum = optimise(scenario, context.seed, searched, context.horizon, objective_key,
                       bounds)
    rows, skipped = named_splits(scenario, list(custom), optimum.result.split, objective_key)
    results = run_named(scenario, rows, context.seed, context.trials)
    chosen, shown = answer_split({named.key: named for named in rows}, pick_key)
    metric = OBJECTIVES[objective_key].metric
    comparison = compare_paired(results[chosen.key].metrics[metric],
                                results["rule"].metrics[metric])
    plateau = (tuple(optimum.stability.plateau)
               if chosen.key == "best" and optimum.stability.is_plateau else ())
    return SplitFound(objective_key, int(map_trials), int(searched), int(context.trials),
                      optimum, tuple(rows), tuple(skipped), results, chosen, shown, comparison,
                      plateau)


def split_pointer(found: SplitFound) -> str:
    """Return the Overview's pointer to the Budget split page's answer, in the figures its
    tiles show (split, mean gain, share of futures won)."""
    comparison, words = found.comparison, METRIC_WORDS[found.metric]
    region = (f"{plateau_words(found.plateau)} ({found.shown} at best)" if found.plateau
              else found.shown)
    wins = ("a tie with " + RULE_SPLIT + " in every future" if comparison.p_tie >= 1 else
            f"wins in {fmt.share(comparison.p_beats)} of {found.trials:,} futures")
    return (f"best split found on Budget split: {region}, "
            f"{fmt.money(comparison.diff_mean, signed=True)} mean {words} over {RULE_SPLIT}, "
            f"{wins}")


def split_futures_words(found: SplitFound) -> str:
    """Return the Budget split page's sentence on the futures its search used
    (`ui.splits.map_futures_words`), said from another page: "On Budget split, the map ..."."""
    words = map_futures_words(found.searched, found.trials, found.map_choice)
    return f"On Budget split, {words[0].lower()}{words[1:]}"


def budget_split_answer(context: PageContext, *,
                        objective_key: str = next(iter(OBJECTIVE_LABELS)),
                        map_trials: int = MAP_TRIALS_DEFAULT, bounds: Bounds | None = None,
                        custom: Sequence[BudgetSplit] = (), pick_key: str = "best"
                        ) -> PageAnswer:
    """Budget split: the split in the answer against 60/30/10 (headline, mean gain, P(beats),
    the optimiser's stability) and the split map, in $ of the objective's metric."""
    scenario, horizon = context.scenario, context.horizon
    bounds = bounds or Bounds()
    found = split_found(context, objective_key=objective_key, map_trials=map_trials,
                        bounds=bounds, custom=custom, pick_key=pick_key)
    objective, metric = OBJECTIVES[objective_key], found.metric
    comparison, optimum, plateau, shown = (found.comparison, found.optimum, found.plateau,
                                           found.shown)
    map_trials = found.searched
    values = split_grid(scenario, context.seed, map_trials, horizon)[metric]
    best = best_cell(values, objective, bounds)
    sentence = headline(shown, comparison, metric, horizon, objective_key,
                        is_pick=found.chosen.key == "best", trials=context.trials,
                        searched_trials=map_trials, plateau=plateau)
    markers = pd.DataFrame([
        {"cold": RULE_631.cold, "warm": RULE_631.warm, "kind": RULE_LABEL,
         "label": label(RULE_631)},
        {"cold": GRID[best].cold, "warm": GRID[best].warm, "kind": "Best cell",
         "label": f"best {label(GRID[best])}"}])
    chart = split_map_chart(map_cells(values, objective, bounds, best),
                            f"Median {METRIC_WORDS[metric]} ($)", markers=markers)
    figures = (
        Figure("Split in the answer", label(found.chosen.split)),
        Figure(f"Mean gain in {METRIC_WORDS[metric]}", fmt.money(comparison.diff_mean,
                                                                 signed=True)),
        Figure(f"Beats {RULE_SPLIT} in", "tie" if comparison.p_tie >= 1
               else fmt.share(comparison.p_beats)),
        Figure("Optimiser's pick is stable in", fmt.share(optimum.stability.win_share)))
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


@dataclass(frozen=True)
class GuaranteeFindings:
    """What the Guarantee page's answer rests on: the lengths compared (current, chosen and
    the variants', in days) on the same futures, the chosen length's break-even lifts, its
    paired comparisons with the current length on profit and net revenue (after refunds still
    owed), its median conversion lift (a share, 0.05 = +5%) and the refunds still owed at the
    horizon ($ per future)."""

    current: int
    chosen: int
    compared: tuple[int, ...]
    runs: LengthRuns
    be: BreakEven
    profit: Comparison
    revenue: Comparison
    lift: float
    owed: Summary


def guarantee_findings(context: PageContext, chosen: int | None = None) -> GuaranteeFindings:
    """Return the Guarantee page's findings for the length `chosen` (default: the page's),
    from its cached runs of every compared length on the sidebar's futures."""
    scenario = context.scenario
    current = scenario.guarantee.days
    chosen = default_length(scenario) if chosen is None else int(chosen)
    compared = tuple(sorted({current, chosen, *variant_lengths(scenario)}))
    runs = length_runs(scenario, compared, context.seed, context.trials)
    return GuaranteeFindings(
        current, chosen, compared, runs, break_even_for(scenario, chosen),
        pays(runs, "profit", chosen), pays(runs, "net_revenue", chosen),
        float(np.median(runs.metric("conversion_multiplier", chosen))) - 1.0,
        summarize(runs.metric("open_guarantee_liability", chosen)))


def guarantee_answer(context: PageContext, *, chosen: int | None = None) -> PageAnswer:
    """Guarantee: the chosen length against the current one (break-even lift, pays on profit
    and revenue after refunds still owed) and the lift-against-returns map."""
    found = guarantee_findings(context, chosen)
    horizon, be, owed = context.horizon, found.be, found.owed
    sentence = guarantee_sentence(current=found.current, chosen=found.chosen, be=be,
                                  expected_lift=found.lift, profit=found.profit,
                                  revenue=found.revenue, open_liability=owed.p50,
                                  trials=context.trials, horizon=horizon)
    figures = (Figure("Break-even, profit", fmt.share(be.profit_engine, 1)),
               Figure("Pays on profit", fmt.share(found.profit.p_beats)),
               Figure("Pays on revenue", fmt.share(found.revenue.p_beats)),
               Figure(f"Owed at month {horizon}", fmt.money(owed.p50)))
    return PageAnswer(
        "guarantee", "Guarantee", sentence,
        detail=guarantee_detail(current=found.current, chosen=found.chosen, be=be,
                                expected_lift=found.lift, revenue=found.revenue,
                                open_liability=owed.p50, trials=context.trials,
                                horizon=horizon),
        figures=figures, chart=lift_map_chart(context.scenario, found.runs, found.chosen),
        chart_title="Lift against returns: where the longer guarantee pays")


def share_pointer(context: PageContext, goal: str = GOALS[0]) -> str:
    """Return the Overview's pointer to the Retention page's answer on `goal` (default: the
    page's), in the figures its tiles show, from the page's cached sweep on all the sidebar's
    futures."""
    sweep = run_sweep(context.scenario, context.seed, context.trials)
    best = best_share(sweep, goal)
    today = share_words(float(sweep.shares[sweep.current]))
    split = fmt.split_label(*split_for_hot_share(context.scenario, best.share))
    goal_label = fmt.metric_in_sentence(goal)
    if best.index == sweep.current:
        return (f"best share on Retention: today's {today} for existing buyers ({split}); no "
                f"share from 0% to 80% earns more {goal_label} on average over "
                f"{sweep.trials:,} futures")
    return (f"best share on Retention: {share_words(best.share)} for existing buyers ({split}), "
            f"{fmt.money(best.vs_current.diff_mean, signed=True)} mean {goal_label} over "
            f"today's {today}, wins in {fmt.share(best.vs_current.p_beats)} of "
            f"{sweep.trials:,} futures")


def retention_answer(context: PageContext, *, goal: str = GOALS[0]) -> PageAnswer:
    """Retention: the best share of the budget for existing buyers on `goal`, its gain over
    today's split, and the sweep of shares from 0% to 80%."""
    scenario, horizon = context.scenario, context.horizon
    trials = context.trials
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
               f"{fmt.metric_in_sentence(goal)}; every share runs on the same "
               f"draws{spread}{knowing}.",
        figures=figures, chart=chart,
        chart_title=f"{goal_label} by the share for existing buyers (median, P10-P90)")


@dataclass(frozen=True)
class SensitivityFindings:
    """What the Sensitivity page's answer and sections rest on for one metric, pair of plans
    and tornado target (plan labels as in `sim.engine.plan_scenarios`; shown: label -> name on
    screen).

    gap: the tornado explains plan A minus plan B; target: the plan it explains otherwise;
    swings, target_words, x_title: the tornado, what it explains in words and its axis title;
    draws: variance shares, gap and value of knowing from the sidebar's futures; ranked: the
    uncertain inputs by their share of the gap's variance, largest first (empty without a
    choice between two plans); thresholds: where the choice flips for the top TOP_INPUTS of
    them, on the first threshold_trials futures; decision: which plan wins on the mean gap.
    """

    metric: str
    plan_a: str
    plan_b: str
    shown: dict[str, str]
    has_choice: bool
    gap: bool
    target: str
    swings: Tornado
    target_words: str
    x_title: str
    draws: DrawAnalysis
    ranked: tuple[str, ...]
    thresholds: dict[str, Threshold]
    threshold_trials: int
    decision: Decision | None


def sensitivity_findings(context: PageContext, *, metric: str = "profit",
                         plan_a: str | None = None, plan_b: str = BASE_LABEL,
                         target: str = BASE_LABEL) -> SensitivityFindings:
    """Return the Sensitivity page's findings for these settings (defaults: the page's; plan_a
    defaults to the challenger with the best mean of `metric`; target "gap" is plan A minus
    plan B, and falls back to the base plan when A and B are the same plan)."""
    scenario, horizon = context.scenario, context.horizon
    labels = list(plan_scenarios(scenario))
    shown = {name: base_plan_label(scenario) if name == BASE_LABEL else name for name in labels}
    challengers = [name for name in labels if name != BASE_LABEL]
    if plan_a is None:
        means = plan_means(scenario, context.seed, context.trials, metric)
        plan_a = max(challengers, key=means.get) if challengers else BASE_LABEL
    has_choice = bool(challengers) and plan_a != plan_b
    gap = target == "gap" and has_choice
    if gap or target not in labels:
        target = BASE_LABEL
    if gap:
        swings = run_tornado(scenario, plan_a, plan_b, metric, horizon)
        target_words = (f"gap between {sentence_name(shown[plan_a])} and "
                        f"{sentence_name(shown[plan_b])}")
        x_title = f"{fmt.metric_heading(metric)}: {shown[plan_a]} − {shown[plan_b]} ($)"
    else:
        swings = run_tornado(scenario, target, None, metric, horizon)
        target_words = f"of {sentence_name(shown[target])}"
        x_title = f"{fmt.metric_heading(metric)} over {horizon} months ($)"
    draws = analyse_draws(scenario, context.seed, context.trials, metric, plan_a, plan_b,
                          None if gap else target)
    ranked: tuple[str, ...] = ()
    thresholds: dict[str, Threshold] = {}
    threshold_trials = min(THRESHOLD_TRIALS, context.trials)
    if has_choice and draws.fields:
        ranked = tuple(sorted(draws.fields, key=lambda path: -draws.gap_shares[path]))
        thresholds = run_thresholds(scenario, plan_a, plan_b, ranked[:TOP_INPUTS], metric,
                                    threshold_trials, context.seed, horizon)
    decision = (choice_decision(draws.gap_mean, shown[plan_a], shown[plan_b]) if has_choice
                else None)
    return SensitivityFindings(metric, plan_a, plan_b, shown, has_choice, gap, target, swings,
                               target_words, x_title, draws, ranked, thresholds,
                               threshold_trials, decision)


def threshold_for(context: PageContext, found: SensitivityFindings, chosen: str) -> Threshold:
    """Return where the choice between plan A and plan B flips on the input `chosen` (searched
    among the top inputs already, or now), on the first `found.threshold_trials` futures."""
    return found.thresholds.get(chosen) or run_thresholds(
        context.scenario, found.plan_a, found.plan_b, (chosen,), found.metric,
        found.threshold_trials, context.seed, context.horizon)[chosen]


def sensitivity_answer(context: PageContext, *, metric: str = "profit",
                       plan_a: str | None = None, plan_b: str = BASE_LABEL,
                       target: str = BASE_LABEL, chosen: str | None = None) -> PageAnswer:
    """Sensitivity: which inputs move `metric` of `target` (a plan label, or "gap" for plan A
    minus plan B), whether plan A or B wins and where that flips on the input `chosen` (the
    page's "Input to search"; default, as on the page, the one that explains most of the
    gap's variance); the tornado chart. plan_a defaults to the challenger with the best mean,
    as on the page."""
    scenario, horizon = context.scenario, context.horizon
    findings = sensitivity_findings(context, metric=metric, plan_a=plan_a, plan_b=plan_b,
                                    target=target)
    plan_a, plan_b, decision = findings.plan_a, findings.plan_b, findings.decision
    swings, draws, target_words = findings.swings, findings.draws, findings.target_words
    drivers = [bar.path for bar in swings.bars if bar.width > 0]
    found = None
    if findings.ranked:
        chosen = chosen if chosen in draws.fields else findings.ranked[0]
        found = threshold_for(context, findings, chosen)
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
        figures=tuple(figures), chart=tornado_chart(rows, swings.base_value, findings.x_title,
                                                    base_label="All inputs at their medians"),
        chart_title=f"What moves the {metric_words(metric, horizon)} {target_words}")


def sensitivity_top_inputs(context: PageContext, count: int = 4) -> list[str]:
    """Return the dotted paths of the inputs that move the base plan's profit most (the top
    of the Sensitivity tornado on the base plan), widest first."""
    swings = run_tornado(context.scenario, BASE_LABEL, None, "profit", context.horizon)
    return [bar.path for bar in swings.bars if bar.width > 0][:count]

