"""Guarantee: does a longer money-back guarantee win more than it refunds?"""

import numpy as np
import pandas as pd
import streamlit as st

from sim.distributions import point_inputs
from sim.guarantee import ab_plan
from sim.metrics import Comparison, compare_paired, summarize
from sim.queueing import agents_for_target_wait
from ui import format as fmt
from ui.charts import band_chart, bar_chart, fan_chart, heatmap_chart, line_chart
from ui.guarantee import (
    break_even_for,
    default_length,
    guarantee_sentence,
    length_adjective,
    length_label,
    length_options,
    length_runs,
    lift_map_for,
    run_desk,
    variant_lengths,
)
from ui.layout import answer, controls, footer, page_header
from ui.state import current

SWEEP_TRIALS = (500, 1000, 2000, 5000)
AXIS_LENGTHS = {7: "1 wk", 30: "30 d", 90: "90 d", 365: "1 yr", 1825: "5 yr", 3650: "10 yr"}
CLOUD_POINTS = 800

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

compared = tuple(sorted({current_days, chosen, *variant_lengths(scenario)}))
runs = length_runs(scenario, compared, context.seed, context.trials)
be = break_even_for(scenario, chosen)


def pays(metric: str, days: int) -> Comparison:
    """Paired comparison of one length against the current guarantee on one metric."""
    return compare_paired(runs.metric(metric, days), runs.metric(metric, current_days))


profit_pays = pays("profit_after_liability", chosen)
revenue_pays = pays("net_revenue_after_liability", chosen)
expected_lift = float(np.median(runs.metric("conversion_multiplier", chosen))) - 1.0
open_liability = summarize(runs.metric("open_guarantee_liability", chosen))
with top:
    answer(guarantee_sentence(
        current=current_days, chosen=chosen, be=be, expected_lift=expected_lift,
        profit=profit_pays, revenue=revenue_pays, open_liability=open_liability.p50,
        trials=context.trials, horizon=horizon))
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
names = " vs ".join(length_label(days) for days in compared)
st.subheader(f"{names}: {fmt.horizon_words(horizon)} totals on the same futures")
variants = set(variant_lengths(scenario))


def role(days: int) -> str:
    """How a compared length got into the table."""
    parts = (["current"] if days == current_days else []) + (
        ["chosen"] if days == chosen else []) + (["variant"] if days in variants else [])
    return f"{length_label(days)} ({', '.join(parts)})"


rows = []
for days in compared:
    length_be = break_even_for(scenario, days)
    profit_cmp = pays("profit_after_liability", days)
    within_cmp = pays("profit", days)
    revenue_cmp = pays("net_revenue_after_liability", days)
    conversion = summarize(runs.metric("conversion_multiplier", days) - 1.0)
    owed = summarize(runs.metric("open_guarantee_liability", days))
    gain = summarize(runs.metric("profit_after_liability", days)
                     - runs.metric("profit_after_liability", current_days))
    peak_claims_per_day = (float(np.max(runs.timing["refunds"][days]["p50"]))
                           / length_be.order_value / 30.0)
    desk = agents_for_target_wait(peak_claims_per_day / 24.0, 1.0 / service_hours, target_wait,
                                  0.95)
    is_current = days == current_days
    rows.append({
        "Guarantee": role(days),
        "Return rate": fmt.share(float(np.median(runs.metric("return_rate", days))), 1),
        "Conversion vs current (median, P10–P90)": (
            "—" if is_current else f"{fmt.share(conversion.p50, 1, signed=True)} "
            f"({fmt.share(conversion.p10, 1, signed=True)} to "
            f"{fmt.share(conversion.p90, 1, signed=True)})"),
        "Break-even lift: revenue (formula / engine)": (
            "—" if is_current else f"{fmt.share(length_be.revenue_closed_form, 1)} / "
            f"{fmt.share(length_be.revenue_engine, 1)}"),
        "Break-even lift: profit (formula / engine)": (
            "—" if is_current else f"{fmt.share(length_be.profit_closed_form, 1)} / "
            f"{fmt.share(length_be.profit_engine, 1)}"),
        "Profit change vs current (median)": "—" if is_current else fmt.money(gain.p50, True),
        "Pays on profit": "—" if is_current else (
            f"{fmt.share(profit_cmp.p_beats)} ({fmt.share(profit_cmp.p_beats_low)}–"
            f"{fmt.share(profit_cmp.p_beats_high)})"),
        "Pays on profit ignoring refunds owed": (
            "—" if is_current else fmt.share(within_cmp.p_beats)),
        "Pays on revenue": "—" if is_current else fmt.share(revenue_cmp.p_beats),
        f"Refunds still owed at month {horizon} (median, P10–P90)": (
            f"{fmt.money(owed.p50)} ({fmt.money(owed.p10)} to {fmt.money(owed.p90)})"),
        "Desk agents (Erlang C, busiest month)": f"{desk:,}",
    })
table = pd.DataFrame(rows).set_index("Guarantee").T
st.dataframe(table, width="stretch", height=36 * (len(table) + 1) + 4)
profit_se = summarize(runs.metric("profit_after_liability", chosen)
                      - runs.metric("profit_after_liability", current_days)).se
st.caption(
    f"{context.trials:,} simulated futures per length (the sidebar's trials), the same draws "
    "for every length: only the guarantee changes. \"Pays\" compares each future's profit (or "
    "net revenue) with the current guarantee's in the same future, **after the refunds still "
    f"owed at month {horizon}**: profit loses those refunds less the resale value of the "
    "returned goods, plus their handling; net revenue loses the refunds. Brackets: 90% "
    "interval of the share (Monte Carlo error). Ignoring the refunds still owed flatters long "
    f"guarantees, whose late refunds fall after the horizon. Monte Carlo error of the chosen "
    f"length's mean profit change: ±{fmt.money(1.645 * profit_se)} (90%). Desk agents: the "
    f"fewest agents whose P95 wait stays under {target_wait:g} hours at the busiest month's "
    f"median claim rate (M/M/c, {service_hours:g} hours per claim, desk open round the clock).")

# --- Sweep ------------------------------------------------------------------------------------
st.subheader(f"Every length from 1 week to {length_label(max(options))} "
             f"({sweep_trials:,} futures per length)")
sweep = length_runs(scenario, tuple(options), context.seed, int(sweep_trials))
lengths = np.asarray(sweep.days, dtype=float)
labels = {days: text for days, text in AXIS_LENGTHS.items() if lengths[0] <= days <= lengths[-1]}
base_row = sweep.row(current_days)


def bands_of(values: np.ndarray) -> dict[str, np.ndarray]:
    """P10 / median / P90 over futures, one value per length (values: lengths x trials)."""
    p10, p50, p90 = np.percentile(values, [10, 50, 90], axis=1)
    return {"p10": p10, "p50": p50, "p90": p90}


def change(metric: str) -> np.ndarray:
    """Per-future change of a metric against the current guarantee (lengths x trials)."""
    return sweep.metrics[metric] - sweep.metrics[metric][base_row]


x_title = "Guarantee length (log scale)"
common = {"log_x": True, "x_labels": labels, "mark_x": chosen, "height": 320}
after, horizon_only = "after refunds still owed", "within the horizon only"
others = np.flatnonzero(lengths != current_days)
row = st.columns(2)
row[0].altair_chart(band_chart(
    lengths, {"Return rate": bands_of(sweep.metrics["return_rate"])}, x_title,
    "Share of orders", "share", title="Return rate", **common), width="stretch")
row[1].altair_chart(band_chart(
    lengths, {"Conversion": bands_of(sweep.metrics["conversion_multiplier"])}, x_title,
    "× current conversion", "ratio", title="Conversion multiplier vs current", reference=1.0,
    y_zero=False, **common), width="stretch")
row = st.columns(2)
row[0].altair_chart(band_chart(lengths, {
    after: bands_of(change("net_revenue_after_liability")),
    horizon_only: bands_of(change("net_revenue"))},
    x_title, "$ vs current", "money", title="Net revenue change vs current", reference=0.0,
    **common), width="stretch")
row[1].altair_chart(band_chart(lengths, {
    after: bands_of(change("profit_after_liability")),
    horizon_only: bands_of(change("profit"))},
    x_title, "$ vs current", "money", title="Profit change vs current", reference=0.0,
    **common), width="stretch")
row = st.columns(2)
row[0].altair_chart(band_chart(
    lengths, {"Refunds still owed": bands_of(sweep.metrics["open_guarantee_liability"])},
    x_title, "$", "money", title=f"Refunds still owed at month {horizon}", **common),
    width="stretch")


def share_paying(metric: str) -> np.ndarray:
    """Share of futures in which each length (other than the current one) beats the current."""
    return np.array([compare_paired(sweep.metrics[metric][i], sweep.metrics[metric][base_row])
                     .p_beats for i in others])


row[1].altair_chart(line_chart(
    lengths[others], {"on profit": share_paying("profit_after_liability"),
                      "on revenue": share_paying("net_revenue_after_liability")},
    x_title, "Share of futures", "share", title="It pays (after refunds still owed)",
    y_domain=(0.0, 1.0), log_x=True, x_labels=labels, height=320), width="stretch")
st.caption(
    "Lines: median over futures; bands: P10–P90. Changes are paired: each future's value at a "
    f"length minus the same future's value at the current {length_label(current_days)}. The "
    "dashed red line marks the chosen length. The two change lines part where refunds fall "
    "after the horizon: the horizon-only line counts the sales but not their later refunds.")

# --- Break-even and the map ---------------------------------------------------------------
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
    lift_map = lift_map_for(scenario, chosen)
    draws_lift = runs.metric("conversion_multiplier", chosen) - 1.0
    draws_multiplier = runs.metric("return_multiplier", chosen)
    step = max(1, len(draws_lift) // CLOUD_POINTS)
    st.altair_chart(heatmap_chart(
        lift_map.lifts, lift_map.multipliers, lift_map.profit_difference,
        "Conversion lift vs current", "Return rate multiplier vs current (×)",
        "Profit change ($)",
        lines={"break-even: per-order formula": (lift_map.break_even_closed_form,
                                                lift_map.multipliers),
               "break-even: engine": (lift_map.break_even_engine, lift_map.multipliers)},
        points=(draws_lift[::step], draws_multiplier[::step]),
        points_label="this scenario's futures"), width="stretch")
    st.caption(
        f"Profit change over {horizon} months against the current guarantee, after refunds "
        f"still owed, at the scenario's median inputs with the {length_adjective(chosen)} "
        "guarantee's refund timing: blue pays, red loses. Lines: zero profit change. "
        "Dots: the lift and return multiplier of each simulated future (right of the "
        "lines: the longer guarantee pays).")

# --- Refund timing ---------------------------------------------------------------------------
st.subheader("Refund timing: when the money goes back")
timing_labels = {days: length_label(days) for days in compared}
st.altair_chart(fan_chart({timing_labels[d]: runs.timing["refunds"][d] for d in compared},
                          "Refunds paid per month ($)"), width="stretch")
st.altair_chart(fan_chart({timing_labels[d]: runs.timing["open_liability"][d]
                           for d in compared},
                          "Still owed at month end ($)"), width="stretch")
st.caption(
    "Returns at the reference rate are refunded in the month of the order; the extra returns "
    "of a longer guarantee are refunded evenly over its added months, so a 5-year guarantee "
    "keeps paying refunds for years, and what is still owed at the end of the horizon is shown, "
    "not dropped.")

# --- Returns desk (SimPy) ------------------------------------------------------------------
st.subheader(f"Returns desk for the {length_adjective(chosen)} guarantee: individual "
             "customers")
desk_inputs = dict(point_inputs(scenario))
desk_inputs["guarantee.days"] = float(chosen)
study = run_desk(desk_inputs, horizon, agents, service_hours, target_wait, context.seed)
if study is not None:
    result = study.result
    orders = result.orders_per_customer
    buyers = orders[1:].sum()
    mean_orders = (float((np.arange(len(orders)) * orders).sum() / buyers) if buyers > 0
                   else float("nan"))
    tiles = st.columns(5)
    tiles[0].metric("Agents for the target wait", f"{study.agents_needed:,}",
                    help=f"Fewest agents whose P95 wait on these claims is at most "
                         f"{target_wait:g} hours.")
    tiles[1].metric("Wait P50 / P95", f"{result.wait_hours_p50:.1f} h / "
                    f"{result.wait_hours_p95:.1f} h",
                    help=f"With {agents:,} agent{'s' if agents != 1 else ''}; desk utilisation "
                         f"{fmt.share(result.desk_utilisation)}.")
    tiles[2].metric(f"Claims in {horizon} months", fmt.count(result.claims),
                    help=f"Busiest day: {fmt.money(float(result.daily_refunds.max()))} refunded.")
    tiles[3].metric("Orders per customer", f"{mean_orders:.2f}",
                    help="Average over customers who ordered at least once in the horizon.")
    tiles[4].metric("Revenue, 3+ orders", fmt.share(result.revenue_share_three_plus_orders),
                    help="Share of revenue from customers with three or more orders.")
    left, right = st.columns(2)
    days_axis = np.arange(1, len(result.daily_refunds) + 1)
    month_average = np.convolve(result.daily_refunds, np.full(30, 1 / 30), mode="full")[
        : len(result.daily_refunds)]
    left.altair_chart(line_chart(days_axis, {"each day": result.daily_refunds,
                                             "30-day average": month_average},
                                 "Day", "$ per day", "money", title="Daily refund cash flow",
                                 height=300), width="stretch")
    top_orders = 10
    counts = np.concatenate((orders[1:top_orders], [orders[top_orders:].sum()]))
    right.altair_chart(bar_chart([*(str(n) for n in range(1, top_orders)), f"{top_orders}+"],
                                 counts, f"Orders in {horizon} months", "Customers", "count",
                                 title="Orders per customer", height=300), width="stretch")
    sampled = ("every customer simulated" if result.customer_weight <= 1.0 else
               f"each simulated customer stands for {result.customer_weight:.2f} real ones")
    st.caption(
        f"One future at the scenario's median inputs, followed customer by customer (SimPy; "
        f"seed {context.seed}; {sampled}). Claims arrive at any hour and are served first "
        f"come, first served by {agents:,} agent{'s' if agents != 1 else ''} working round the "
        f"clock, {service_hours:g} hours per claim on average (exponential). Most returns come "
        "early in the window; the extra returns of a longer guarantee are spread over its added "
        f"days. Refunds still owed at month {horizon} in this run: "
        f"{fmt.money(result.open_guarantee_liability)}.")

# --- A/B test planner -----------------------------------------------------------------------
st.subheader("A/B test planner: how long to test the longer guarantee")
conversion = float(np.median(runs.lead_conversion))
leads = float(np.median(runs.leads_per_month))
targets = [("Revenue break-even (engine)", be.revenue_engine),
           ("Profit break-even (engine)", be.profit_engine)]
if typed_lift > 0:
    targets.append(("Your lift", typed_lift))
plan_rows = []
for name, lift in targets:
    if not np.isfinite(lift) or lift <= 0 or conversion * (1 + lift) >= 1:
        plan_rows.append({"Lift to detect": name, "Lift": fmt.share(lift, 1),
                          "Conversion A → B": "—", "Leads per arm": "—",
                          "Weeks (both arms)": "nothing to detect" if lift <= 0 else "—"})
        continue
    plan = ab_plan(conversion, lift, leads, alpha=alpha, power=power)
    plan_rows.append({
        "Lift to detect": name, "Lift": fmt.share(lift, 1),
        "Conversion A → B": f"{fmt.share(plan.conversion_current, 2)} → "
                            f"{fmt.share(plan.conversion_candidate, 2)}",
        "Leads per arm": fmt.count(plan.leads_per_arm),
        "Weeks (both arms)": f"{plan.weeks:,.1f}"})
st.dataframe(pd.DataFrame(plan_rows), hide_index=True, width="stretch")
st.caption(
    f"Two-proportion test, two-sided, significance {alpha:.0%}, power {power:.0%} (the "
    "textbook normal-approximation formula). Conversion rate: the share of leads who become "
    f"customers under the current guarantee, {fmt.share(conversion, 2)} (median over futures "
    "of new customers / (starting warm leads + new leads) over the horizon); traffic: the "
    f"scenario's {fmt.count(leads)} new leads a month (median), split evenly between the arms. "
    "Small lifts on a small conversion rate need many leads: test the lift you expect, not "
    "only the break-even.")

footer(context, page_path="guarantee")
