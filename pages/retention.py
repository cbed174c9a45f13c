"""Retention vs acquisition: how much of the budget should keep and grow existing buyers."""

from functools import partial

import numpy as np
import pandas as pd
import streamlit as st

from sim.metrics import CLEAR_WIN
from sim.retention import (
    EXTRA_MONTHLY,
    GOALS,
    QUOTED_PROFIT_LIFT,
    SWEEP_METRICS,
    best_share,
    cold_ratio,
)
from ui import format as fmt
from ui.chart_specs import show_chart, sized
from ui.charts import interval_chart, line_chart, share_sweep_chart
from ui.layout import controls, footer, page_header, sections, show_answer
from ui.retention import (
    GOAL_LABELS,
    SWEEP_LABELS,
    calibration_panel,
    cohort_curves,
    goal_words,
    next_dollar_answer,
    retention_check_answer,
    run_cohorts,
    run_next_dollar,
    run_retention_check,
    run_sweep,
    run_textbook,
    share_words,
    split_name,
    sweep_bands,
    textbook_words,
    unit_economics_table,
)
from ui.state import current
from ui.topic_answers import retention_answer

context = current()
page_header(context, "Retention vs acquisition")
scenario = context.scenario
horizon = context.horizon
trials = context.trials
answer_slot = st.container()

with controls():
    left, right = st.columns([1, 2])
    goal = left.selectbox(
        "Judge the best share on", GOALS, format_func=GOAL_LABELS.get, key="retention_goal",
        bind="query-params",
        help="Profit and NPV count the horizon only; long-run value adds the customers still "
        "active at the end (customer equity), discounted to today.")
    sweep = run_sweep(scenario, context.seed, trials)
    best = best_share(sweep, goal)
    options = [round(float(share) * 100, 1) for share in sweep.shares]
    look_pct = right.select_slider(
        "Look at a share for existing buyers (hot)", options,
        value=options[best.index], format_func=lambda v: f"{v:g}%", key="retention_share",
        bind="query-params",
        help="Compare any share with today's split in the charts and tables below; cold and "
        "warm share the rest in the scenario's own ratio.")

plan_name = partial(split_name, scenario, sweep)
look = options.index(look_pct) if look_pct in options else best.index
today = sweep.current
goal_text = goal_words(goal, horizon)
ratio = cold_ratio(scenario)

with answer_slot:
    show_answer(context, retention_answer(context, goal=goal), metrics=False)

# ------------------------------------------------------------------ key numbers
vs_today = best.vs_current
cols = st.columns(4)
cols[0].metric("Best share for existing buyers", plan_name(best.index),
               help=f"The share with the highest mean {goal_text} over {trials:,} futures.")
cols[1].metric("Not clearly beaten by the best",
               f"{share_words(best.tie_low)} – {share_words(best.tie_high)}",
               help=f"Shares that the best one beats in fewer than {CLEAR_WIN:.0%} of futures.")
cols[2].metric(f"Gain over today's {share_words(float(sweep.shares[today]))}",
               fmt.money(vs_today.diff_mean, signed=True),
               help=f"Mean of best minus today in the same future, ±"
               f"{fmt.money(fmt.mc_margin(vs_today.diff_se))} (90% Monte Carlo error).")
cols[3].metric("Beats today's split in",
               "—" if best.index == today else f"{fmt.share(vs_today.p_beats)} of futures",
               help=f"90% Monte Carlo interval {fmt.share(vs_today.p_beats_low)} to "
               f"{fmt.share(vs_today.p_beats_high)}.")

shown = sections("retention")


# ------------------------------------------------------------------ the sweep
def share_sweep() -> None:
    """Every share for existing buyers, on the goal and the other metrics."""
    st.subheader("The share for existing buyers from 0% to 80% of the budget, "
                 f"{goal_text.split()[0]} totals")
    marks = {f"today {share_words(float(sweep.shares[today]))}": float(sweep.shares[today]),
             f"best {share_words(best.share)}": best.share}
    if look not in (today, best.index):
        marks[f"looking at {share_words(float(sweep.shares[look]))}"] = float(sweep.shares[look])
    shown_metrics = list(dict.fromkeys([goal, *SWEEP_METRICS]))
    tabs = st.tabs([SWEEP_LABELS[m] for m in shown_metrics])
    for tab, metric in zip(tabs, shown_metrics, strict=True):
        with tab:
            show_chart(share_sweep_chart(
                sweep.shares, sweep_bands(sweep, metric),
                f"{SWEEP_LABELS[metric]} ($)", marks=marks, zone=(best.tie_low, best.tie_high),
                zone_label="Not clearly beaten: the best wins in fewer than 80% of futures",
                x_title="Share of the budget for existing buyers (rest: cold and warm "
                   f"{ratio * 100:.0f}/{(1 - ratio) * 100:.0f})"), width="stretch")
    st.caption(
        f"Line: median; band: P10-P90 over all {trials:,} simulated futures of the sidebar (every "
        f"share runs on the same draws, as every number on this page); green span: "
        f"shares the best one beats in fewer than {CLEAR_WIN:.0%} of futures. The best share has "
        f"the highest mean {goal_text}; Monte Carlo error of its gain over today: "
        f"±{fmt.money(fmt.mc_margin(vs_today.diff_se))} (90%).")


# ------------------------------------------------------------------ unit economics
def unit_economics() -> None:
    """CAC, CLV, LTV:CAC and payback of today's, the best and the looked-at share."""
    st.subheader("Unit economics: today, the best share and the one you are looking at")
    columns = {f"Today {plan_name(today)}": today, f"Best {plan_name(best.index)}": best.index}
    if look not in (today, best.index):
        columns[f"Looking at {plan_name(look)}"] = look
    st.dataframe(unit_economics_table(sweep, goal, columns), hide_index=True, width="stretch")
    st.caption(
        "CAC: cold + warm spend per new customer. CLV: contribution of a new customer over 240 "
        "months, discounted, net of retention spend. LTV:CAC above 3 is the usual rule of thumb. "
        "Payback: months until a new customer's contribution repays CAC. Leaky-bucket ratio: "
        "customers lost per customer won (above 1 the base shrinks). Early repeat rate: share of "
        "new customers who order again within 3 months.")


# ------------------------------------------------------------------ next $10,000
def next_dollar() -> None:
    """Where the next dollar a month does more: retention or acquisition."""
    extra_words = fmt.money(EXTRA_MONTHLY)
    st.subheader(f"Where does the next {extra_words} a month do more?")
    nd = run_next_dollar(scenario, context.seed, trials, goal)
    sentence, gains = next_dollar_answer(nd, goal, horizon, ratio)
    st.markdown(sentence)
    p_ret = nd.retention_vs_acquisition.p_beats
    show_chart(sized(interval_chart(gains, f"Change in {goal_text} against today ($)"), 190),
               width="stretch")
    st.caption(
        f"Both options add {extra_words} to month 1's budget (growing with the budget) and are run "
        f"on the same {trials:,} futures as today's plan; P(retention wins) = "
        f"{fmt.share(p_ret)} (90% interval {fmt.share(nd.retention_vs_acquisition.p_beats_low)} to "
        f"{fmt.share(nd.retention_vs_acquisition.p_beats_high)}). Bar: P10-P90; line: P5-P95; "
        "tick: median.")


# ------------------------------------------------------------------ +5 points retention
def more_retention() -> None:
    """Whether 5 points more retention lifts profit as much as the quoted range."""
    low_q, high_q = QUOTED_PROFIT_LIFT
    st.subheader(f"Does 5 points more retention lift profit by {low_q:.0%}-{high_q:.0%}?")
    check = run_retention_check(scenario, context.seed, trials)
    st.caption(check.definition)
    sentence, rows = retention_check_answer(check, horizon, trials)
    st.markdown(sentence)
    if rows is not None:
        show_chart(sized(interval_chart(rows, f"Change in {horizon}-month profit", unit="share",
                                        reference=0.0), 190), width="stretch")
        st.caption(f"Percent change over the {fmt.share(check.share_profitable)} of futures where "
                   "today's plan makes a profit (a percent of a loss means nothing). Bar: P10-P90; "
                   "line: P5-P95; tick: median.")


# ------------------------------------------------------------------ textbook optimum
def textbook_optimum() -> None:
    """The Blattberg-Deighton optimum and why the simulation differs."""
    st.subheader("The textbook optimum (Blattberg-Deighton customer equity)")
    textbook = run_textbook(scenario)
    if textbook.optimum is None or textbook.inputs is None:
        st.info(f"The textbook model does not apply here: {textbook.problem}.")
    else:
        bd = textbook.inputs
        st.markdown(textbook_words(textbook))
        st.table(pd.DataFrame(bd.notes, columns=["Textbook input", "Value", "Taken from"])
                 .set_index("Textbook input"))
        st.markdown(
            f"**Why the simulation differs** (its best share is {share_words(best.share)}): "
            "the textbook sets spend per head with no budget limit, while the simulation splits "
            "a fixed budget; the textbook's retention is zero without spend (r(0) = 0) while "
            f"here customers stay at {fmt.share(bd.current_retention_rate, 1)} a month with "
            "today's spend and most of that without any, and repeat orders also rise with "
            "spend; the textbook ignores the first order and the cold spend that creates leads; "
            "and it counts an endless future at one constant retention rate, while the "
            f"simulation stops after {horizon} months (customer equity at the end is shown "
            "separately) and lets loyalty grow with tenure when churn follows the sBG curve.")


# ------------------------------------------------------------------ cohorts and leaky bucket
def cohorts() -> None:
    """How long new customers stay, and customers won and lost each month."""
    st.subheader("Cohorts: how long new customers stay, and the leaky bucket")
    plans = {f"Today {plan_name(today)}": float(sweep.shares[today])}
    if look != today:
        plans[f"{'Best' if look == best.index else 'Looking at'} {plan_name(look)}"] = float(
            sweep.shares[look])
    cohort_runs = {label: run_cohorts(scenario, context.seed, trials, hot)
                   for label, hot in plans.items()}
    months_axis = np.arange(horizon)
    curves = cohort_curves(cohort_runs, horizon)
    show_chart(line_chart(months_axis, curves, "Months since first purchase",
                          "Share of the cohort still active", unit="share", y_domain=(0, 1),
                          height=320), width="stretch")
    st.caption("Median over the futures of the share of each monthly cohort still active; churn "
               "depends on tenure (sBG) and on that month's retention spend per customer.")
    bucket_cols = st.columns(len(cohort_runs))
    top = max(float(np.nanmax(np.concatenate([run.won, run.lost]))) for run in cohort_runs.values())
    for column, (label, run) in zip(bucket_cols, cohort_runs.items(), strict=True):
        with column:
            st.markdown(f"**{label}**: customers won and lost each month (median)")
            show_chart(line_chart(np.arange(1, horizon + 1),
                                  {"New customers": run.won, "Customers lost": run.lost},
                                  "Month", "Customers", unit="count",
                                  y_domain=(0, top * 1.05), height=280), width="stretch")
            ratio_median = float(np.nanmedian(sweep.metrics["leaky_bucket_ratio"][
                list(sweep.shares).index(plans[label])]))
            st.caption(f"Leaky-bucket ratio {fmt.ratio(ratio_median)} customers lost per customer "
                       "won over the horizon (median).")


shown.draw(share_sweep, unit_economics, next_dollar, more_retention, textbook_optimum, cohorts)

# ------------------------------------------------------------------ calibration
if not context.present:
    calibration_panel(context)

footer(context, page_path="retention")
