"""Guarantee: does a longer money-back guarantee win more than it refunds?"""

import streamlit as st

from sim.distributions import point_inputs
from ui import format as fmt
from ui.chart_specs import show_chart
from ui.charts import fan_chart
from ui.guarantee import (
    ab_plan_table,
    ab_traffic,
    default_length,
    desk_charts,
    length_adjective,
    length_label,
    length_options,
    length_runs,
    lengths_table,
    lift_map_chart,
    prefetch_neighbours,
    run_desk,
    show_desk_figures,
    start_desk,
    sweep_charts,
)
from ui.layout import controls, footer, page_header, sections, show_answer
from ui.state import current
from ui.topic_answers import guarantee_answer, guarantee_findings

SWEEP_TRIALS = (500, 1000, 2000, 5000)

context = current()
page_header(context, "Guarantee")
scenario = context.scenario
horizon = context.horizon
current_days = scenario.guarantee.days
options = length_options(scenario)

# The answer comes first; it is filled in once the controls below have given their values.
top = st.container()

with controls():
    chosen = st.select_slider(
        f"Guarantee length to weigh against the current {length_label(current_days)}",
        options=options, value=default_length(scenario), format_func=length_label,
        key="guarantee_days", bind="query-params",
        help="Every length runs on the same simulated futures as the current guarantee.")
    settings = st.expander("Settings: sweep, returns desk, A/B test")
    columns = settings.columns(4)
    sweep_trials = columns[0].selectbox(
        "Futures per length in the sweep", SWEEP_TRIALS, index=1, format_func=fmt.count,
        key="guarantee_sweep_trials", bind="query-params",
        help="The sweep runs every length; fewer futures keep it quick. The answer above it "
             "uses the sidebar's trials.")
    agents = int(columns[1].number_input(
        "Returns desk agents", min_value=1, max_value=500, value=1, step=1,
        key="guarantee_agents", bind="query-params"))
    service_hours = float(columns[2].number_input(
        "Hours per claim (mean)", min_value=0.05, max_value=48.0, value=0.5, step=0.25,
        key="guarantee_service_hours", bind="query-params",
        help="Average time an agent spends on one return claim (exponentially distributed)."))
    target_wait = float(columns[3].number_input(
        "Target wait, P95 (hours)", min_value=0.25, max_value=720.0, value=8.0, step=1.0,
        key="guarantee_target_wait", bind="query-params",
        help="95% of claims should wait at most this long before an agent picks them up."))
    columns = settings.columns(4)
    typed_lift = float(columns[0].number_input(
        "A/B test: lift to detect (%)", min_value=0.0, max_value=200.0, value=0.0, step=0.5,
        key="guarantee_ab_lift", bind="query-params",
        help="0 plans for the break-even lifts; type a lift to plan for it as well.")) / 100
    alpha = float(columns[1].selectbox(
        "A/B test: significance (two-sided)", (0.01, 0.05, 0.10), index=1,
        format_func=lambda a: f"{a:.0%}", key="guarantee_ab_alpha", bind="query-params"))
    power = float(columns[2].selectbox(
        "A/B test: power", (0.80, 0.90, 0.95), index=0, format_func=lambda p: f"{p:.0%}",
        key="guarantee_ab_power", bind="query-params"))

shown = sections("guarantee")

# The customer model runs in its own process: start it now, so that it runs while the
# answer is computed and drawn.
desk_inputs = dict(point_inputs(scenario))
desk_inputs["guarantee.days"] = float(chosen)
if shown.open == "Returns desk":
    start_desk(desk_inputs, horizon, agents, service_hours, target_wait, context.seed)

found = guarantee_findings(context, chosen)
compared, runs, be = found.compared, found.runs, found.be
profit_pays, revenue_pays, open_liability = found.profit, found.revenue, found.owed
with top:
    show_answer(context, guarantee_answer(context, chosen=chosen), metrics=False)
    tiles = st.columns(5)
    tiles[0].metric("Break-even, revenue", fmt.share(be.revenue_engine, 1),
                    help=f"Engine, median inputs; the per-order formula gives "
                         f"{fmt.share(be.revenue_closed_form, 1)}.")
    tiles[1].metric("Break-even, profit", fmt.share(be.profit_engine, 1),
                    help=f"Engine, median inputs, after refunds still owed; the per-order "
                         f"formula gives {fmt.share(be.profit_closed_form, 1)}.")
    tiles[2].metric("Pays on profit", fmt.share(profit_pays.p_beats),
                    help=f"Share of futures where profit after refunds still owed beats the "
                         f"current guarantee; 90% interval {fmt.share(profit_pays.p_beats_low)}–"
                         f"{fmt.share(profit_pays.p_beats_high)}.")
    tiles[3].metric("Pays on revenue", fmt.share(revenue_pays.p_beats),
                    help=f"Net revenue after refunds still owed; 90% interval "
                         f"{fmt.share(revenue_pays.p_beats_low)}–"
                         f"{fmt.share(revenue_pays.p_beats_high)}.")
    tiles[4].metric(f"Owed at month {horizon}", fmt.money(open_liability.p50),
                    help=f"Refunds still owed at the horizon (median); P10–P90 "
                         f"{fmt.money(open_liability.p10)} to {fmt.money(open_liability.p90)}.")


# --- The lengths compared ------------------------------------------------------------------
def lengths_compared() -> None:
    """The chosen, current and variant lengths side by side."""
    names = " vs ".join(length_label(days) for days in compared)
    st.subheader(f"{names}: {fmt.horizon_words(horizon)} totals on the same futures")
    table = lengths_table(scenario, runs, compared, chosen, service_hours, target_wait)
    st.dataframe(table, width="stretch", height=36 * (len(table) + 1) + 4)
    st.caption(
        f"{context.trials:,} simulated futures per length (the sidebar's trials), the same draws "
        "for every length: only the guarantee changes. \"Pays\" compares each future's profit (or "
        "net revenue) with the current guarantee's in the same future, **after the refunds still "
        f"owed at month {horizon}**: profit loses those refunds less the resale value of the "
        "returned goods, plus their handling; net revenue loses the refunds. Brackets: 90% "
        "interval of the share (Monte Carlo error). Ignoring the refunds still owed flatters long "
        f"guarantees, whose late refunds fall after the horizon. Monte Carlo error of the chosen "
        f"length's mean profit change: ±{fmt.money(fmt.mc_margin(profit_pays.diff_se))} (90%). "
        f"Desk agents: the fewest agents whose P95 wait stays under {target_wait:g} hours at the "
        f"busiest month's median claim rate (M/M/c, {service_hours:g} hours per claim, desk open "
        "round the clock).")


# --- Sweep ------------------------------------------------------------------------------------
def every_length() -> None:
    """The sweep: every length on fewer futures."""
    st.subheader(f"Every length from 1 week to {length_label(max(options))} "
                 f"({sweep_trials:,} futures per length)")
    sweep = length_runs(scenario, tuple(options), context.seed, int(sweep_trials))
    charts = sweep_charts(sweep, chosen)
    for pair in range(0, len(charts), 2):
        for column, chart in zip(st.columns(2), charts[pair:pair + 2], strict=True):
            show_chart(chart, column, width="stretch")
    st.caption(
        "Lines: median over futures; bands: P10–P90. Changes are paired: each future's value at a "
        f"length minus the same future's value at the current {length_label(current_days)}. The "
        "dashed red line marks the chosen length. The two change lines part where refunds fall "
        "after the horizon: the horizon-only line counts the sales but not their later refunds.")


# --- Break-even and the map ---------------------------------------------------------------
def break_even() -> None:
    """The break-even lift by formula and engine, and the lift map."""
    st.subheader(f"Break-even: {length_label(chosen)} against {length_label(current_days)}")
    if chosen == current_days:
        st.info("Pick a length other than the current one to see its break-even lift.")
    else:
        st.markdown(
            f"Returns go from **{fmt.share(be.return_rate_current, 1)}** to "
            f"**{fmt.share(be.return_rate_candidate, 1)}** of orders (median inputs).\n\n"
            f"- **Revenue, per order:** (1 − {be.return_rate_current:.3f}) / "
            f"(1 − {be.return_rate_candidate:.3f}) − 1 = "
            f"**{fmt.share(be.revenue_closed_form, 2)}**\n"
            f"- **Profit, per order** (average order {fmt.money2(be.order_value)}, gross margin "
            f"{fmt.share(float(point_inputs(scenario)['orders.gross_margin']))}, resale and "
            f"handling of returns): **{fmt.share(be.profit_closed_form, 2)}**\n"
            f"- **Engine, whole funnel** (after refunds still owed): revenue "
            f"**{fmt.share(be.revenue_engine, 2)}**, profit **{fmt.share(be.profit_engine, 2)}**")
        st.caption(
            "The per-order formulas assume every order grows with conversion. In the engine "
            "the starting customers' repeat orders get the higher return rate but no lift, more "
            "buyers use up the warm leads sooner and retention spend is shared by more "
            "customers, so the whole funnel usually needs more lift. Both are checked against "
            "each other in the tests on a funnel where every order does grow with conversion.")
        show_chart(lift_map_chart(scenario, runs, chosen), width="stretch")
        st.caption(
            f"Profit change over {horizon} months against the current guarantee, after refunds "
            f"still owed, at the scenario's median inputs with the {length_adjective(chosen)} "
            "guarantee's refund timing: blue pays, red loses. Lines: zero profit change. "
            "Dots: the lift and return multiplier of each simulated future (right of the "
            "lines: the longer guarantee pays).")


# --- Refund timing ---------------------------------------------------------------------------
def refund_timing() -> None:
    """When refunds are paid and what is still owed."""
    st.subheader("Refund timing: when the money goes back")
    timing_labels = {days: length_label(days) for days in compared}
    show_chart(fan_chart({timing_labels[d]: runs.timing["refunds"][d] for d in compared},
                         "Refunds paid per month ($)"), width="stretch")
    show_chart(fan_chart({timing_labels[d]: runs.timing["open_liability"][d]
                          for d in compared},
                         "Still owed at month end ($)"), width="stretch")
    st.caption(
        "Returns at the reference rate are refunded in the month of the order; the extra returns "
        "of a longer guarantee are refunded evenly over its added months, so a 5-year guarantee "
        "keeps paying refunds for years, and what is still owed at the end of the horizon is "
        "shown, not dropped.")


# --- Returns desk (SimPy) ------------------------------------------------------------------
def returns_desk() -> None:
    """The returns desk: individual customers (SimPy)."""
    st.subheader(f"Returns desk for the {length_adjective(chosen)} guarantee: individual "
                 "customers")
    study = run_desk(desk_inputs, horizon, agents, service_hours, target_wait, context.seed)
    if study is not None:
        result = study.result
        mean_orders, refunds_chart, orders_chart = desk_charts(result)
        show_desk_figures(study, mean_orders, agents, target_wait, horizon)
        left, right = st.columns(2)
        show_chart(refunds_chart, left, width="stretch")
        show_chart(orders_chart, right, width="stretch")
        sampled = ("every customer simulated" if result.customer_weight <= 1.0 else
                   f"each simulated customer stands for {result.customer_weight:.2f} real ones")
        st.caption(
            f"One future at the scenario's median inputs, followed customer by customer (SimPy; "
            f"seed {context.seed}; {sampled}). Claims arrive at any hour and are served first "
            f"come, first served by {agents:,} agent{'s' if agents != 1 else ''} working round the "
            f"clock, {service_hours:g} hours per claim on average (exponential). Most returns come "
            "early in the window; the extra returns of a longer guarantee are spread over its "
            f"added days. Refunds still owed at month {horizon} in this run: "
            f"{fmt.money(result.open_guarantee_liability)}.")


# --- A/B test planner -----------------------------------------------------------------------
def ab_planner() -> None:
    """The A/B test planner."""
    st.subheader("A/B test planner: how long to test the longer guarantee")
    conversion, leads = ab_traffic(runs)
    st.dataframe(ab_plan_table(runs, be, typed_lift, alpha, power), hide_index=True,
                 width="stretch")
    st.caption(
        f"Two-proportion test, two-sided, significance {alpha:.0%}, power {power:.0%} (the "
        "textbook normal-approximation formula). Conversion rate: the share of leads who become "
        f"customers under the current guarantee, {fmt.share(conversion, 2)} (median over futures "
        "of new customers / (starting warm leads + new leads) over the horizon); traffic: the "
        f"scenario's {fmt.count(leads)} new leads a month (median), split evenly between the arms. "
        "Small lifts on a small conversion rate need many leads: test the lift you expect, not "
        "only the break-even.")


shown.draw(lengths_compared, every_length, break_even, refund_timing, returns_desk, ab_planner)

footer(context, page_path="guarantee")
# The lengths one step either side, computed in the background for the presenter's next step.
prefetch_neighbours(context, options, chosen)
