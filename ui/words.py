"""One-sentence answers in the business's words, shared by the pages."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from sim import registry
from sim.engine import BASE_LABEL, SimResult
from sim.metrics import Comparison, compare_paired, summarize
from sim.registry import metric_words
from sim.scenario import Scenario
from ui import format as fmt

#: Every page's decision sentence starts with one of these verbs (issue 13): the decision first.
DECISION_VERBS: tuple[str, ...] = ("Move", "Keep", "Stay", "Test", "Switch", "Put", "Offer",
                                   "Check", "Choose", "Pick", "Add")
#: A decision fits two lines at 1400 px: about 30 words.
MAX_DECISION_WORDS = 30


def decision_problems(sentence: str) -> list[str]:
    """Return what keeps `sentence` from being a headline a leader can act on (empty when it
    is one): more than MAX_DECISION_WORDS words, or a first word not in DECISION_VERBS."""
    words = sentence.split()
    problems = []
    if len(words) > MAX_DECISION_WORDS:
        problems.append(f"{len(words)} words, more than {MAX_DECISION_WORDS}")
    if not words or words[0].strip(",:") not in DECISION_VERBS:
        problems.append(f"starts with {words[0] if words else 'nothing'!r}, not a decision verb")
    return problems


def odds_words(p_beats: float, futures: int) -> str:
    """Return how often a plan wins, kept apart from its average: 'wins in 81% of 1,000
    futures' or, below half, 'wins in only 28% of 1,000 futures'."""
    only = "" if p_beats >= 0.5 else "only "
    return f"wins in {only}{fmt.share(p_beats)} of {futures:,} futures"


def base_plan_label(scenario: Scenario) -> str:
    """Return the base plan's name with its split: 'Base plan (60/30/10)'."""
    split = scenario.budget.split
    return f"Base plan ({fmt.split_label(split.cold, split.warm, split.hot)})"


def plan_decision(best_label: str, first_label: str, comparison: Comparison, metric: str,
                  horizon: int, trials: int) -> str:
    """Return the decision between two named plans on the same futures (Overview and Compare
    say it the same way): switch to `best_label` when it wins in most futures, else stay with
    `first_label`; the median gain and the share of futures are said apart."""
    words = metric_words(metric, horizon)
    higher = registry.metric(metric).higher_is_better
    odds = fmt.share(comparison.p_beats)
    futures = f"{trials:,} simulated futures"
    if not comparison.p_beats > 0.5:
        direction = "" if higher else " (lower is better)"
        return (f"Stay with {first_label}: no other plan wins on {words}{direction} in most of "
                f"{futures}; the closest, {best_label}, wins in only {odds}.")
    by = (f"{fmt.metric_value(metric, comparison.diff_p50)} higher" if higher else
          f"lower by {fmt.metric_value(metric, -comparison.diff_p50)}")
    return (f"Switch to {best_label}: its {words} is {by} in the median future and it wins in "
            f"{odds} of {futures}.")


def overview_sentence(results: Mapping[str, SimResult], base_label: str, trials: int,
                      horizon: int, metric: str = "profit") -> str:
    """Return the Overview's decision: which named plan to choose on the metric, against the
    base plan, in how many futures (the same words and figures as the Compare page)."""
    base = results[BASE_LABEL].metrics[metric]
    higher = registry.metric(metric).higher_is_better
    challengers = {label: compare_paired(result.metrics[metric], base, higher)
                   for label, result in results.items() if label != BASE_LABEL}
    if not challengers:
        summary = summarize(base)
        positive = float(np.mean(base > 0))
        name = registry.in_sentence(registry.metric(metric).label)
        return (f"Keep the {base_label[0].lower() + base_label[1:]}: it makes a median "
                f"{fmt.metric_value(metric, summary.p50)} {name} over {horizon} months, "
                f"positive in {fmt.share(positive)} of {trials:,} simulated futures.")
    best_label, best = max(challengers.items(), key=lambda item: item[1].p_beats)
    return plan_decision(best_label, base_label[0].lower() + base_label[1:], best, metric,
                         horizon, trials)
