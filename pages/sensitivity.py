"""Sensitivity: which assumptions decide the answer, and at which values it would change."""

import pandas as pd
import streamlit as st

from sim.engine import BASE_LABEL, plan_scenarios
from sim.sensitivity import SHARE_BINS, VALUE_BINS
from ui import format as fmt
from ui.chart_specs import show_chart
from ui.charts import PALETTE, ranked_bars_chart, threshold_chart, tornado_chart
from ui.layout import controls, footer, page_header, sections, show_answer
from ui.sensitivity import (
    METRICS,
    flip_words,
    input_axis_format,
    input_label,
    input_name,
    input_value,
    metric_words,
    plan_means,
    sentence_name,
    share_rows,
    thresholds_table,
    tornado_rows,
    worth_rows,
)
from ui.state import current
from ui.topic_answers import sensitivity_answer, sensitivity_findings, threshold_for
from ui.words import base_plan_label

GAP = "gap"

context = current()
page_header(context, "Sensitivity")
scenario = context.scenario
horizon = context.horizon
answer_slot = st.container()  # the answer is written here once the settings below are known

plans = plan_scenarios(scenario)
labels = list(plans)
shown = {label: base_plan_label(scenario) if label == BASE_LABEL else label for label in labels}

with controls():
    columns = st.columns(5)
    metric = columns[0].selectbox(
        "Metric", METRICS, format_func=fmt.metric_label, key="sens_metric",
        bind="query-params", help="What the tornado, the thresholds and the value of knowing "
        "are measured in.")
    means = plan_means(scenario, context.seed, context.trials, metric)
    challengers = [label for label in labels if label != BASE_LABEL]
    best = max(challengers, key=means.get) if challengers else BASE_LABEL
    plan_a = columns[1].selectbox(
        "Plan A", labels, index=labels.index(best), format_func=shown.get, key="sens_a",
        bind="query-params", disabled=not challengers,
        help="The choice to explain: plan A against plan B (default: the challenger with the "
        "best mean against the base plan).")
    plan_b = columns[2].selectbox(
        "Plan B", labels, index=0, format_func=shown.get, key="sens_b", bind="query-params",
        disabled=not challengers)
    target_options = ([GAP] if challengers else []) + labels
    target = columns[3].selectbox(
        "Tornado of", target_options, index=target_options.index(BASE_LABEL),
        format_func=lambda option: "Gap: plan A − plan B" if option == GAP else shown[option],
        key="sens_of", bind="query-params",
        help="Explain one plan's metric, or the gap between plan A and plan B.")

findings = sensitivity_findings(context, metric=metric, plan_a=plan_a, plan_b=plan_b,
                                target=target)
has_choice, gap, swings, draws = (findings.has_choice, findings.gap, findings.swings,
                                  findings.draws)
target_words, x_title, decision = findings.target_words, findings.x_title, findings.decision
ranked, thresholds = list(findings.ranked), findings.thresholds
threshold_trials = findings.threshold_trials
words = metric_words(metric, horizon)
axis_unit = "money"
fields = list(draws.fields)
shares, gap_shares, worth = draws.shares, draws.gap_shares, draws.worth

pair_plans = [plans[plan_a], plans[plan_b]]


def show_page_answer(chosen: str | None) -> None:
    """Write the answer at the top of the page, about the input chosen to search."""
    with answer_slot:
        show_answer(context, sensitivity_answer(context, metric=metric, plan_a=plan_a,
                                                plan_b=plan_b, target=target, chosen=chosen))


if not (has_choice and fields):
    show_page_answer(None)
elif context.present:
    # The slide stops at the answer: the input searched is the link's, or the first ranked
    # (the selectbox's default below), so the slide says what the page says.
    linked = st.query_params.get("sens_input")
    show_page_answer(linked if linked in ranked else ranked[0])

if not fields:
    st.info("Every input of this scenario is a fixed number, so nothing is uncertain: give an "
            "input a range ({low, high}) on the Scenario page to see what it moves.")

# ------------------------------------------------------------------ the input searched
found = None
if has_choice and fields:
    # Drawn into the controls row above, now that the inputs can be ranked for this choice.
    chosen = columns[4].selectbox(
        "Input to search", ranked, format_func=input_label, key="sens_input",
        bind="query-params",
        help="Any uncertain input: the value at which the choice between A and B flips.")
    show_page_answer(chosen)  # the headline follows the input searched (issue 13)
    found = threshold_for(context, findings, chosen)

shown_section = sections("sensitivity")


# ------------------------------------------------------------------ summary table
def what_decides() -> None:
    """The inputs that explain most of the gap between plans A and B, with their thresholds."""
    if has_choice and thresholds:
        st.subheader(f"What decides {decision.winner} vs {sentence_name(decision.loser)} on "
                     f"{words}")
        table = thresholds_table(thresholds, decision, pair_plans, gap_shares)
        # A table that wraps its cells: as a scrolling grid its last column was cut off at
        # 1400 px (five columns of long words in the main column's 870 px).
        st.table(table.set_index("Input"))
        st.caption(
            f"The {len(thresholds)} inputs that explain most of the variance of the gap "
            f"{shown[plan_a]} − {shown[plan_b]}; gap variance: the share of that variance the "
            "input explains on its own (same method as the chart under \"What moves it\"). "
            "Each threshold is where the mean gap over "
            f"{threshold_trials:,} simulated futures (the first {threshold_trials:,} of this "
            "seed) crosses zero with that input fixed at the value tried and every other input "
            "as drawn, found by bracketing root finding over the input's P1–P99.")
    elif challengers and not has_choice:
        st.info("Plan A and plan B are the same plan: pick two different plans to see when "
                "the choice between them would flip.")
    elif not challengers:
        st.info("This scenario has a single plan, so there is no choice to flip: add a variant "
                "on the Scenario page to compare plans.")
    else:
        st.info("No input is uncertain, so nothing decides the choice.")


# ------------------------------------------------------------------ tornado + variance shares
def what_moves_it() -> None:
    """One input at a time (tornado) and all at once (variance shares)."""
    if not fields:
        st.info("No input is uncertain, so nothing moves the result.")
        return
    st.subheader(f"What moves the {words} {target_words}")
    left, right = st.columns([3, 2])
    with left:
        st.markdown(
            f"**One input at a time** (tornado): <span style='color:{PALETTE[0]}'>■ input at "
            f"its P10</span> · <span style='color:{PALETTE[1]}'>■ input at its P90</span>",
            unsafe_allow_html=True)
        show_chart(tornado_chart(
            tornado_rows(swings), swings.base_value, x_title, unit=axis_unit,
            base_label="All inputs at their medians"),
            width="stretch")
        st.caption(
            "Each bar moves one input from its P10 to its P90 (values written at the bar ends) "
            "with every other input at its median; one exact run per setting, no Monte Carlo "
            f"error. The black line is the value with all inputs at their medians "
            f"({fmt.metric_value(metric, swings.base_value, signed=gap)}).")
    explained = float(sum(shares.values()))
    with right:
        st.markdown("**All inputs at once** (share of variance)")
        show_chart(ranked_bars_chart(share_rows(swings, shares), "Share of the variance",
                                     unit="share"), width="stretch")
        st.caption(
            f"Method: binned first-order Sobol index from the {context.trials:,} simulated "
            f"futures (variance of the mean over {SHARE_BINS} quantile bins of each input ÷ "
            f"total variance, bias-corrected). The inputs alone explain {fmt.share(explained)}; "
            f"the other {fmt.share(max(0.0, 1 - explained))} comes from interactions between "
            "inputs that one-at-a-time swings miss.")


# ------------------------------------------------------------------ threshold for one input
def when_it_flips() -> None:
    """The value of the input searched at which the choice between A and B flips."""
    if found is None:
        st.info("To see when the choice would flip, pick two plans A and B that differ (and "
                "give at least one input a range on the Scenario page).")
        return
    st.subheader(f"When would {decision.winner} stop beating {sentence_name(decision.loser)}?")
    flip = flip_words(found, decision.winner_is_a, pair_plans)
    if flip:
        roots = ", ".join(
            f"{input_value(chosen, root)} (±{input_value(chosen, fmt.mc_margin(se))})"
            for root, se in zip(found.roots, found.root_se, strict=True))
        st.markdown(f"**{decision.winner}** beats {sentence_name(decision.loser)} on average "
                    f"unless {flip}. The mean gap crosses zero at {roots} (90% Monte Carlo "
                    "error).")
    else:
        st.markdown(
            f"**Never flips within the range**: with {input_name(chosen)} anywhere from "
            f"{input_value(chosen, found.low)} to {input_value(chosen, found.high)} (its "
            f"P1–P99), {decision.winner} stays ahead of {sentence_name(decision.loser)} on "
            "average.")
    points = pd.DataFrame({"x": found.grid, "y": found.grid_diff})
    roots_table = pd.DataFrame({"x": list(found.roots),
                                "text": [f"flips at {input_value(chosen, r)}"
                                         for r in found.roots]})
    show_chart(threshold_chart(
        points, roots_table, input_label(chosen),
        f"Mean {fmt.metric_in_sentence(metric)} gap, A − B ($)",
        x_format=input_axis_format(chosen), unit=axis_unit), width="stretch")
    st.caption(
        f"Mean of {shown[plan_a]} − {shown[plan_b]} over {found.trials:,} futures with the "
        "input fixed at each value shown (P1, P10, median, P90, P99 and the roots); above zero "
        "plan A is ahead.")


# ------------------------------------------------------------------ value of knowing
def worth_knowing() -> None:
    """The expected value of knowing each input (or all of them) before choosing a plan."""
    if worth is None or not fields:
        st.info("Knowing an input is worth something only with uncertain inputs and at least "
                "two plans to choose from.")
        return
    st.subheader("What is it worth knowing before choosing?")
    st.markdown(
        f"Choosing among all {len(labels)} plans now, **{shown[worth.best_plan]}** has the best "
        f"mean {words}. Knowing every input exactly before choosing would add "
        f"**{fmt.metric_value(metric, worth.evpi)}** on average (expected value of perfect "
        "information); knowing one input is worth:")
    show_chart(ranked_bars_chart(
        worth_rows(worth, fields, metric), f"$ worth knowing ({words})", unit="money",
        reference=worth.noise, reference_label="noise level"), width="stretch")
    st.caption(
        f"Expected value of partial perfect information per input from the same "
        f"{context.trials:,} futures: the futures are split into {VALUE_BINS} quantile bins of "
        "the input, the best plan is picked within each bin, and the gain over picking once "
        f"for all is averaged. Values near the dashed noise level "
        f"({fmt.metric_value(metric, worth.noise)}, what an input that tells nothing scores "
        "at this trial count) are not evidence; anything above it is what a test or research "
        "of that input could be worth at most.")


shown_section.draw(what_decides, what_moves_it, when_it_flips, worth_knowing)

footer(context, page_path="sensitivity")
