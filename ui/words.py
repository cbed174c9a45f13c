"""One-sentence answers in the business's words, shared by the pages."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from sim import registry
from sim.engine import BASE_LABEL, SimResult
from sim.metrics import compare_paired, summarize
from sim.registry import metric_words
from sim.scenario import Scenario
from ui import format as fmt


def base_plan_label(scenario: Scenario) -> str:
    """Return the base plan's name with its split: 'Base plan (6:3:1)'."""
    split = scenario.budget.split
    return f"Base plan ({fmt.split_label(split.cold, split.warm, split.hot)})"


def overview_sentence(results: Mapping[str, SimResult], base_label: str, trials: int,
                      horizon: int, metric: str = "profit") -> str:
    """Return the headline: which plan beats the base on the metric, in how many futures."""
    base = results[BASE_LABEL].metrics[metric]
    words = metric_words(metric, horizon)
    higher = registry.metric(metric).higher_is_better
    futures = f"{trials:,} simulated futures"
    challengers = {label: compare_paired(result.metrics[metric], base, higher)
                   for label, result in results.items() if label != BASE_LABEL}
    if not challengers:
        summary = summarize(base)
        positive = float(np.mean(base > 0))
        name = registry.in_sentence(registry.metric(metric).label)
        return (f"{base_label} makes {fmt.metric_value(metric, summary.p50)} {name} over "
                f"{horizon} months (90% range {fmt.metric_value(metric, summary.p5)} to "
                f"{fmt.metric_value(metric, summary.p95)}), positive in {fmt.share(positive)} "
                f"of {futures}.")
    best_label, best = max(challengers.items(), key=lambda item: item[1].p_beats)
    if best.p_beats > 0.5:
        return (f"{best_label} beats the {base_label[0].lower() + base_label[1:]} on {words} in "
                f"{fmt.share(best.p_beats)} of {futures} (median gain "
                f"{fmt.metric_value(metric, best.diff_p50, signed=True)}).")
    return (f"No variant beats the {base_label[0].lower() + base_label[1:]} on {words} in most "
            f"futures: the closest, {best_label}, wins in {fmt.share(best.p_beats)} of "
            f"{futures}.")
