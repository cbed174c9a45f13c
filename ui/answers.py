"""Every page's answer, buildable without drawing the page: the deck's registry (issue 15).

A page answer is one `ui.report.PageAnswer`: the decision sentence (issue 13: it starts with
the decision, about 30 words at most, one risk clause), a smaller detail line, up to four key
figures and one chart. Each page builds its answer with the function named here and hands it to
`ui.layout.show_answer`; the presenter deck and "Download the whole deck" call the same
functions with the page's default settings, so a slide, a page and a report show the same
numbers for the same link.

To give a page its answer: write `name_answer(context: PageContext, **page_settings) ->
PageAnswer` in ui/ (defaults = the page's default widget values), add a `Slide` to `SLIDES`
below, and in the page call `show_answer(context, name_answer(context, **widget_values))`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from sim import registry
from sim.distributions import sample_inputs
from sim.engine import BASE_LABEL
from sim.metrics import compare_paired, summarize
from ui import compare
from ui import format as fmt
from ui.chart_specs import sized
from ui.charts import interval_chart
from ui.report import Figure, PageAnswer, assumptions_from_scenario
from ui.runs import SCENARIO_HASH, run_plans, run_scenario
from ui.state import PageContext
from ui.topic_answers import (
    budget_split_answer,
    guarantee_answer,
    retention_answer,
    sensitivity_answer,
    sensitivity_top_inputs,
    share_pointer,
    split_found,
    split_futures_words,
    split_pointer,
)
from ui.words import base_plan_label, overview_sentence

#: Inputs pictured on the Assumptions slide (the top of the Sensitivity tornado).
PICTURED_INPUTS = 4


#: What the Overview says while it searches for the best split and share (`beyond_named`).
BEYOND_NAMED_SPINNER = ("Searching every budget split and every share for existing buyers on "
                        "these futures, as the Budget split and Retention pages do…")


def beyond_named(context: PageContext) -> str:
    """Return the Overview's pointers beyond the named plans: the best split the Budget split
    page finds and the best share the Retention page finds with their default settings, in
    the figures those pages show for this seed and trials (their own cached runs: whichever
    page opens first fills the cache for the others), and the futures the split search used.
    The first call on a scenario, seed and trials runs the split search (about 7 s of CPU on
    two cores for 5,000 futures on the compiled engine); without the compiled engine the
    search uses fewer futures (`ui.splits.map_futures`) and the sentence says so, as the
    Budget split page does."""
    found = split_found(context)
    return (f"Beyond the named plans: {split_pointer(found)}; {share_pointer(context)}. "
            f"{split_futures_words(found)}")


def overview_answer(context: PageContext, *, pointers: bool = True) -> PageAnswer:
    """Overview: which named plan beats the base plan on profit, in how many futures, and the
    profit range of every plan (P5-P95 and P10-P90 bars); with `pointers`, the detail ends
    with `beyond_named` (the page shows the answer first and adds them when found)."""
    scenario = context.scenario
    results = run_plans(scenario, None, context.seed, context.trials)
    base_label = base_plan_label(scenario)
    base = results[BASE_LABEL].metrics["profit"]
    sentence = overview_sentence(results, base_label, context.trials, context.horizon)
    ranges, figures = [], []
    for name, result in results.items():
        summary = summarize(result.metrics["profit"])
        shown = base_label if name == BASE_LABEL else name
        ranges.append({"label": shown, "p5": summary.p5, "p10": summary.p10,
                       "p50": summary.p50, "p90": summary.p90, "p95": summary.p95})
    figures.append(Figure("Median profit, base plan", fmt.money(summarize(base).p50)))
    figures.append(Figure("Base plan in profit in", fmt.share(float(np.mean(base > 0)))))
    challengers = {name: compare_paired(result.metrics["profit"], base)
                   for name, result in results.items() if name != BASE_LABEL}
    if challengers:
        best_name, best = max(challengers.items(), key=lambda item: item[1].p_beats)
        figures.append(Figure(f"{best_name} beats base in", fmt.share(best.p_beats)))
        figures.append(Figure("Its median profit gain",
                              fmt.metric_value("profit", best.diff_p50, signed=True)))
    chart = interval_chart(pd.DataFrame(ranges), f"{fmt.metric_heading('profit')} over "
                                                 f"{context.horizon} months ($)")
    return PageAnswer(
        "overview", "Overview", sentence,
        detail=(f"Best of the named plans against the base plan: paired comparison on "
                f"{context.trials:,} simulated futures (seed {context.seed}), "
                f"{registry.metric_words('profit', context.horizon)}."
                + (f" {beyond_named(context)}" if pointers else "")),
        figures=tuple(figures), chart=chart,
        chart_title=f"Profit over {context.horizon} months across futures (P5-P95, P10-P90)")


def compare_answer(context: PageContext, *, chosen: list[str] | None = None,
                   metric: str = "profit") -> PageAnswer:
    """Compare: the chosen plans (default: the page's default plans) against the first on
    `metric`, with the paired difference bars."""
    entries, _ = compare.library_plans(context)
    by_label = {entry.label: entry for entry in entries}
    chosen = chosen if chosen is not None else compare.default_plans(entries, context)
    picked = [by_label[name] for name in chosen if name in by_label]
    if len(picked) < 2:
        return PageAnswer("compare", "Compare scenarios",
                          "Choose at least two plans to compare (up to six).")
    names = compare.short_labels(picked, context)
    plans = {names[entry.label]: compare.plan_scenario(entry, context) for entry in picked}
    horizon = next(iter(plans.values())).simulation.horizon_months
    results = {name: run_scenario(scenario, context.seed, context.trials, horizon)
               for name, scenario in plans.items()}
    first = next(iter(results))
    differences = compare.difference_rows(results, metric)
    chart = interval_chart(differences, f"{fmt.metric_heading(metric)}: plan minus {first} ($)")
    figures = [Figure(f"Median {fmt.metric_in_sentence(metric)}, {first}",
                      fmt.metric_value(metric, summarize(results[first].metrics[metric]).p50))]
    for name, result in list(results.items())[1:4]:
        comparison = compare_paired(result.metrics[metric], results[first].metrics[metric])
        figures.append(Figure(f"{name} beats {first} in", fmt.share(comparison.p_beats)))
    return PageAnswer(
        "compare", "Compare scenarios",
        compare.compare_sentence(results, metric, context.trials, horizon),
        detail=(f"{len(results)} plans on the same {context.trials:,} futures (seed "
                f"{context.seed}); each bar is a plan minus {first} in the same future."),
        figures=tuple(figures), chart=sized(chart, 80 + 50 * len(differences)),
        chart_title=f"Difference from {first}: {compare.metric_words(metric, horizon)}")


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=SCENARIO_HASH)
def _draws(scenario, seed: int, trials: int) -> dict[str, np.ndarray]:
    """The sampled inputs of the scenario (what each simulated future draws), cached."""
    return sample_inputs(scenario, trials, seed)


def assumptions_answer(context: PageContext) -> PageAnswer:
    """Assumptions: every uncertain input with its 90% range in words and units (the table),
    the inputs that move profit most pictured (their draws with the 90% interval marked)."""
    top = sensitivity_top_inputs(context, PICTURED_INPUTS)
    listed = assumptions_from_scenario(context.scenario)
    table = pd.DataFrame({"Input": [a.label for a in listed],
                          "Range": [a.value_text for a in listed]})
    named = {a.path: a.label for a in listed}
    figures = tuple(Figure(f"#{rank} driver of profit", named.get(path, path))
                    for rank, path in enumerate(top[:PICTURED_INPUTS], start=1))
    sentence = (f"Check {named[top[0]].lower()} first: of the {len(listed)} uncertain inputs, "
                "it moves profit most." if top and top[0] in named else
                f"This scenario has {len(listed)} uncertain inputs; none moves profit.")
    return PageAnswer(
        "assumptions", "Assumptions", sentence,
        detail=(f"Each input's 90% range as entered; the drivers are the top of the "
                f"Sensitivity tornado on the base plan over {context.horizon} months."),
        figures=figures, table=table if len(table) else None)


def assumption_pictures(context: PageContext, count: int = PICTURED_INPUTS) -> list:
    """Return `ui.report.Assumption`s with charts for the top `count` inputs (tornado order),
    drawn from the sampled draws of the page's seed and trials."""
    top = sensitivity_top_inputs(context, count)
    draws = _draws(context.scenario, context.seed, context.trials)
    listed = assumptions_from_scenario(context.scenario, draws, pictured=top)
    by_path = {a.path: a for a in listed}
    return [by_path[path] for path in top if path in by_path and by_path[path].chart]


@dataclass(frozen=True)
class Slide:
    """One page of the deck: registry name, menu title, page script, URL path, builder."""

    name: str
    title: str
    script: str
    url_path: str
    build: Callable[[PageContext], PageAnswer]


#: The deck, in presenting order.
SLIDES: tuple[Slide, ...] = (
    Slide("overview", "Overview", "pages/overview.py", "overview", overview_answer),
    Slide("budget_split", "Budget split", "pages/budget-split.py", "budget-split",
          budget_split_answer),
    Slide("guarantee", "Guarantee", "pages/guarantee.py", "guarantee", guarantee_answer),
    Slide("retention", "Retention vs acquisition", "pages/retention.py", "retention",
          retention_answer),
    Slide("compare", "Compare scenarios", "pages/compare.py", "compare", compare_answer),
    Slide("sensitivity", "Sensitivity", "pages/sensitivity.py", "sensitivity",
          sensitivity_answer),
    Slide("assumptions", "Assumptions", "pages/assumptions.py", "assumptions",
          assumptions_answer),
)


def slide_index(name: str) -> int:
    """Return the 0-based position of the page named `name` in the deck."""
    return next(i for i, slide in enumerate(SLIDES) if slide.name == name)


def build_answer(name: str, context: PageContext) -> PageAnswer:
    """Return the answer of the page named `name` with its default settings."""
    return SLIDES[slide_index(name)].build(context)


def build_deck(context: PageContext, shown: PageAnswer | None = None) -> list[PageAnswer]:
    """Return every page's answer in deck order, for the whole report: `shown` (the answer of
    the page the download was asked from, with the settings chosen there) in its own place,
    every other page with its default settings (the settings its link would carry)."""
    return [shown if shown is not None and shown.page == slide.name else slide.build(context)
            for slide in SLIDES]
