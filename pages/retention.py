"""Retention vs acquisition: how much of the budget should keep and grow existing buyers."""

import numpy as np
import pandas as pd
import streamlit as st

from sim.distributions import point_inputs
from sim.metrics import CLEAR_WIN, summarize
from sim.retention import (
    EXTRA_MONTHLY,
    GOALS,
    QUOTED_PROFIT_LIFT,
    SWEEP_METRICS,
    UNIT_ECONOMICS,
    best_share,
    cold_ratio,
    split_for_hot_share,
)
from sim.scenario import ScenarioError, apply_overrides
from ui import format as fmt
from ui.charts import interval_chart, line_chart, share_sweep_chart
from ui.layout import controls, footer, page_header, show_answer
from ui.retention import (
    GOAL_LABELS,
    UPLOAD_MB,
    example_csv,
    fit_upload,
    page_trials,
    run_cohorts,
    run_next_dollar,
    run_retention_check,
    run_sweep,
    run_textbook,
    share_words,
)
from ui.state import current, set_overrides
from ui.topic_answers import retention_answer

_APPLIED_KEY = "_retention_fit_applied"


def _apply_fit(overrides: dict, message: str) -> None:
    # A callback runs before the next run's sidebar and pages, which then show the new churn.
    set_overrides(overrides)
    st.session_state[_APPLIED_KEY] = message


context = current()
page_header(context, "Retention vs acquisition")
scenario = context.scenario
horizon = context.horizon
trials = page_trials(context.trials)
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

look = options.index(look_pct) if look_pct in options else best.index
today = sweep.current
goal_words = f"{fmt.horizon_words(horizon)} {GOAL_LABELS[goal].split(' (')[0].lower()}"
ratio = cold_ratio(scenario)


def split_name(index: int) -> str:
    """'10% (6:3:1)': a hot share with the whole split."""
    share = float(sweep.shares[index])
    return f"{share_words(share)} ({fmt.split_label(*split_for_hot_share(scenario, share))})"


with answer_slot:
    show_answer(context, retention_answer(context, goal=goal), metrics=False)

# ------------------------------------------------------------------ key numbers
vs_today = best.vs_current
cols = st.columns(4)
cols[0].metric("Best share for existing buyers", split_name(best.index),
               help=f"The share with the highest mean {goal_words} over {trials:,} futures.")
cols[1].metric("As good within the uncertainty",
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

# ------------------------------------------------------------------ the sweep
st.subheader(f"The share for existing buyers from 0% to 80% of the budget, {goal_words.split()[0]}"
             " totals")
marks = {f"today {share_words(float(sweep.shares[today]))}": float(sweep.shares[today]),
         f"best {share_words(best.share)}": best.share}
if look not in (today, best.index):
    marks[f"looking at {share_words(float(sweep.shares[look]))}"] = float(sweep.shares[look])
sweep_labels = {**{m: fmt.metric_label(m) for m in SWEEP_METRICS},
                "long_run_value": "Long-run value"}
shown_metrics = list(dict.fromkeys([goal, *SWEEP_METRICS]))
tabs = st.tabs([sweep_labels[m] for m in shown_metrics])
for tab, metric in zip(tabs, shown_metrics, strict=True):
    values = sweep.metrics[metric]
    p10, p50, p90 = np.nanpercentile(values, [10, 50, 90], axis=1)
    with tab:
        st.altair_chart(share_sweep_chart(
            sweep.shares, {"p10": p10, "p50": p50, "p90": p90},
            f"{sweep_labels[metric]} ($)", marks=marks, zone=(best.tie_low, best.tie_high),
            zone_label="As good as the best within the uncertainty",
            x_title="Share of the budget for existing buyers (rest: cold and warm "
                    f"{ratio * 100:.0f}:{(1 - ratio) * 100:.0f})"), width="stretch")
st.caption(
    f"Line: median; band: P10-P90 over {trials:,} simulated futures (the first {trials:,} of "
    f"the sidebar's {context.trials:,}; every share runs on the same draws); green span: "
    f"shares the best one beats in fewer than {CLEAR_WIN:.0%} of futures. The best share has "
    f"the highest mean {goal_words}; Monte Carlo error of its gain over today: "
    f"±{fmt.money(fmt.mc_margin(vs_today.diff_se))} (90%).")

# ------------------------------------------------------------------ unit economics
st.subheader("Unit economics: today, the best share and the one you are looking at")
columns = {f"Today {split_name(today)}": today, f"Best {split_name(best.index)}": best.index}
if look not in (today, best.index):
    columns[f"Looking at {split_name(look)}"] = look
rows = []
for metric in (goal, *UNIT_ECONOMICS, "customer_equity_end"):
    row = {"Median over futures": sweep_labels.get(metric, fmt.metric_label(metric))}
    for title, index in columns.items():
        value = float(np.nanmedian(sweep.metrics[metric][index]))
        row[title] = (fmt.money(value) if metric == "long_run_value"
                      else fmt.metric_value(metric, value))
    rows.append(row)
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
st.caption(
    "CAC: cold + warm spend per new customer. CLV: contribution of a new customer over 240 "
    "months, discounted, net of retention spend. LTV:CAC above 3 is the usual rule of thumb. "
    "Payback: months until a new customer's contribution repays CAC. Leaky-bucket ratio: "
    "customers lost per customer won (above 1 the base shrinks). Early repeat rate: share of "
    "new customers who order again within 3 months.")

# ------------------------------------------------------------------ next $10,000
extra_words = fmt.money(EXTRA_MONTHLY)
st.subheader(f"Where does the next {extra_words} a month do more?")
nd = run_next_dollar(scenario, context.seed, trials, goal)
gain_acq = nd.acquisition[goal] - nd.current[goal]
gain_ret = nd.retention[goal] - nd.current[goal]
p_ret = nd.retention_vs_acquisition.p_beats
mean_acq, mean_ret = float(np.mean(gain_acq)), float(np.mean(gain_ret))
changes = (f"mean change in {goal_words} after paying the extra "
           f"{fmt.money(float(np.mean(nd.extra_spend_total)))} over {horizon} months: "
           f"acquisition {fmt.money(mean_acq, signed=True)}, existing buyers "
           f"{fmt.money(mean_ret, signed=True)}")
p_acq = nd.retention_vs_acquisition.p_loses
if max(mean_acq, mean_ret) < 0:
    lesser = "existing buyers" if mean_ret > mean_acq else "acquisition"
    st.markdown(f"**Neither side pays back** the extra {extra_words} a month within {horizon} "
                f"months ({changes}); {lesser} loses less, in "
                f"{fmt.share(p_ret if lesser == 'existing buyers' else p_acq)} of futures.")
elif p_ret >= p_acq:
    st.markdown(f"**Existing buyers (retention)** do more with it: they beat acquisition in "
                f"**{fmt.share(p_ret)}** of futures ({changes}).")
else:
    st.markdown(f"**Acquisition (cold and warm)** does more with it: it beats retention in "
                f"**{fmt.share(p_acq)}** of futures ({changes}).")
gains = []
for label, values in ((f"+{extra_words}/month into acquisition (cold:warm "
                       f"{ratio * 100:.0f}:{(1 - ratio) * 100:.0f})", gain_acq),
                      (f"+{extra_words}/month into existing buyers", gain_ret)):
    summary = summarize(values)
    gains.append({"label": label, "p5": summary.p5, "p10": summary.p10, "p50": summary.p50,
                  "p90": summary.p90, "p95": summary.p95})
st.altair_chart(interval_chart(pd.DataFrame(gains), f"Change in {goal_words} against today ($)")
                .properties(height=190), width="stretch")
st.caption(
    f"Both options add {extra_words} to month 1's budget (growing with the budget) and are run "
    f"on the same {trials:,} futures as today's plan; P(retention wins) = "
    f"{fmt.share(p_ret)} (90% interval {fmt.share(nd.retention_vs_acquisition.p_beats_low)} to "
    f"{fmt.share(nd.retention_vs_acquisition.p_beats_high)}). Bar: P10-P90; line: P5-P95; "
    "tick: median.")

# ------------------------------------------------------------------ +5 points retention
low_q, high_q = QUOTED_PROFIT_LIFT
st.subheader(f"Does 5 points more retention lift profit by {low_q:.0%}-{high_q:.0%}?")
check = run_retention_check(scenario, context.seed, trials)
relative = check.relative[np.isfinite(check.relative)]
st.caption(check.definition)
if relative.size >= max(20, 0.5 * trials):
    r5, r10, r50, r90, r95 = np.percentile(relative, [5, 10, 50, 90, 95])
    if r50 > high_q:
        where = "above"
    elif r50 < low_q:
        where = "below"
    else:
        where = "inside"
    st.markdown(
        f"Here {horizon}-month profit rises by **{fmt.share(r50)}** (median; 90% range "
        f"{fmt.share(r5)} to {fmt.share(r95)}), **{where}** the {low_q:.0%}-{high_q:.0%} that is "
        f"usually quoted. In dollars: {fmt.money(float(np.median(check.change)), signed=True)} "
        "(median).")
    rows = pd.DataFrame([
        {"label": "This scenario", "p5": r5, "p10": r10, "p50": r50, "p90": r90, "p95": r95},
        {"label": "Usually quoted", "p5": np.nan, "p10": low_q, "p50": np.nan, "p90": high_q,
         "p95": np.nan}])
    st.altair_chart(interval_chart(rows, f"Change in {horizon}-month profit", unit="share",
                                   reference=0.0).properties(height=190), width="stretch")
    st.caption(f"Percent change over the {fmt.share(check.share_profitable)} of futures where "
               "today's plan makes a profit (a percent of a loss means nothing). Bar: P10-P90; "
               "line: P5-P95; tick: median.")
else:
    st.markdown(
        f"Today's plan makes a profit in only {fmt.share(check.share_profitable)} of futures, so "
        f"a percent change means little; in dollars, 5 points more retention changes "
        f"{horizon}-month profit by {fmt.money(float(np.median(check.change)), signed=True)} "
        f"(median; 90% range {fmt.money(float(np.percentile(check.change, 5)), signed=True)} to "
        f"{fmt.money(float(np.percentile(check.change, 95)), signed=True)}).")

# ------------------------------------------------------------------ textbook optimum
st.subheader("The textbook optimum (Blattberg-Deighton customer equity)")
textbook = run_textbook(scenario)
if textbook.optimum is None or textbook.inputs is None:
    st.info(f"The textbook model does not apply here: {textbook.problem}.")
else:
    bd, opt = textbook.inputs, textbook.optimum
    retention_share, conversion_share = textbook.implied_shares()
    retention_words = (
        "With the scenario's median inputs, the textbook spends "
        f"**{fmt.money2(opt.retention_spend)} per customer a month on retention** (today "
        f"{fmt.money2(bd.current_retention_spend)}; at the {fmt.count(bd.customers_start)} "
        f"starting customers that is {fmt.share(retention_share)} of month 1's "
        f"{fmt.money(bd.budget_monthly)} budget), so retention reaches "
        f"{fmt.share(opt.retention_rate, 1)} a month and an acquired customer is worth "
        f"{fmt.money2(textbook.customer_value())}.")
    if opt.acquisition_spend > 0:
        acquisition_words = (
            f"It spends **{fmt.money2(opt.acquisition_spend)} per warm lead a month on "
            f"conversion** (today {fmt.money2(bd.current_acquisition_spend)}, or "
            f"{fmt.share(conversion_share)} of the budget at {fmt.count(bd.warm_leads_start)} "
            f"leads), for a customer equity of {fmt.money2(opt.customer_equity)} per lead.")
    else:
        acquisition_words = (
            "It would spend **nothing on converting leads** (today "
            f"{fmt.money2(bd.current_acquisition_spend)} per lead a month): at most "
            f"{fmt.share(bd.a_ceiling, 1)} of leads buy in a month, so the first dollar per lead "
            f"buys only {fmt.money2(textbook.first_dollar_return())} of customer value.")
    st.markdown(f"{retention_words} {acquisition_words}")
    st.table(pd.DataFrame(bd.notes, columns=["Textbook input", "Value", "Taken from"])
             .set_index("Textbook input"))
    st.markdown(
        f"**Why the simulation differs** (its best share is {share_words(best.share)}): the "
        "textbook sets spend per head with no budget limit, while the simulation splits a fixed "
        "budget; the textbook's retention is zero without spend (r(0) = 0) while here customers "
        f"stay at {fmt.share(bd.current_retention_rate, 1)} a month with today's spend and most "
        "of that without any, and repeat orders also rise with spend; the textbook ignores the "
        "first order and the cold spend that creates leads; and it counts an endless future at "
        f"one constant retention rate, while the simulation stops after {horizon} months "
        "(customer equity at the end is shown separately) and lets loyalty grow with tenure when "
        "churn follows the sBG curve.")

# ------------------------------------------------------------------ cohorts and leaky bucket
st.subheader("Cohorts: how long new customers stay, and the leaky bucket")
plans = {f"Today {split_name(today)}": float(sweep.shares[today])}
if look != today:
    plans[f"{'Best' if look == best.index else 'Looking at'} {split_name(look)}"] = float(
        sweep.shares[look])
cohort_runs = {label: run_cohorts(scenario, context.seed, trials, hot)
               for label, hot in plans.items()}
months_axis = np.arange(horizon)
curves = {}
for label, run in cohort_runs.items():
    for acquired, survival in run.survival.items():
        padded = np.full(horizon, np.nan)
        padded[: len(survival)] = survival
        curves[f"{label.split(' (')[0]}: joined in month {acquired + 1}"] = padded
st.altair_chart(line_chart(months_axis, curves, "Months since first purchase",
                           "Share of the cohort still active", unit="share", y_domain=(0, 1),
                           height=320), width="stretch")
st.caption("Median over the futures of the share of each monthly cohort still active; churn "
           "depends on tenure (sBG) and on that month's retention spend per customer.")
bucket_cols = st.columns(len(cohort_runs))
top = max(float(np.nanmax(np.concatenate([run.won, run.lost]))) for run in cohort_runs.values())
for column, (label, run) in zip(bucket_cols, cohort_runs.items(), strict=True):
    with column:
        st.markdown(f"**{label}**: customers won and lost each month (median)")
        st.altair_chart(line_chart(np.arange(1, horizon + 1),
                                   {"New customers": run.won, "Customers lost": run.lost},
                                   "Month", "Customers", unit="count",
                                   y_domain=(0, top * 1.05), height=280), width="stretch")
        ratio_median = float(np.nanmedian(sweep.metrics["leaky_bucket_ratio"][
            list(sweep.shares).index(plans[label])]))
        st.caption(f"Leaky-bucket ratio {fmt.ratio(ratio_median)} customers lost per customer "
                   "won over the horizon (median).")

# ------------------------------------------------------------------ calibration
if not context.present:
    st.subheader("Calibrate churn from your own cohort table")
    st.markdown(
        "Upload a CSV with one row per cohort and month: **cohort, months since first purchase, "
        "customers still active** (month 0 is the cohort's size). The wide layout works too: "
        "one row per cohort, a first column naming it and columns 0, 1, 2, ... The "
        "shifted-beta-geometric model (Fader & Hardie) is fitted by maximum likelihood. Nothing "
        "in the scenario changes until you click *Use this fit*.")
    upload_cols = st.columns([3, 1])
    with upload_cols[0]:
        uploaded = st.file_uploader("Cohort table (CSV)", type=["csv"], key="retention_upload",
                                    max_upload_size=UPLOAD_MB,
                                    help=f"At most {UPLOAD_MB} MB; UTF-8 CSV.")
    with upload_cols[1]:
        st.download_button("Download the example CSV", data=example_csv(),
                           file_name="cohorts_example.csv", mime="text/csv",
                           on_click="ignore", key="retention_example",
                           icon=":material/download:")
    applied = st.session_state.pop(_APPLIED_KEY, None)
    if applied:
        st.success(applied)
    if uploaded is not None:
        outcome = fit_upload(uploaded.getvalue())
        if isinstance(outcome, tuple):
            problems = "\n".join(f"- {problem}" for problem in outcome)
            st.error(f"**{uploaded.name}** cannot be used:\n{problems}")
        else:
            fit = outcome.fit
            table = outcome.table
            cols = st.columns(4)
            cols[0].metric("alpha", f"{fit.alpha:.3f}")
            cols[1].metric("beta", f"{fit.beta:.3f}")
            cols[2].metric("First-month churn", fmt.share(fit.alpha / (fit.alpha + fit.beta), 1))
            cols[3].metric("Cohorts / months", f"{len(table.labels)} / {table.months}")
            months = np.arange(table.months + 1)
            st.altair_chart(line_chart(
                months, {"Observed (all cohorts pooled)": outcome.observed,
                         "Fitted sBG": fit.fitted_survival},
                "Months since first purchase", "Share of the cohort still active",
                unit="share", y_domain=(0, 1), height=280,
                dots=("Observed (all cohorts pooled)",)), width="stretch")
            st.caption(f"{uploaded.name}: {len(table.labels)} cohorts ({table.layout} layout). "
                       "Observed: customers still active over the cohort sizes of the cohorts "
                       "observed that long.")
            heterogeneous = max(fit.alpha, fit.beta) <= 1000
            if heterogeneous:
                new = {"hot.churn.sbg.alpha": round(fit.alpha, 4),
                       "hot.churn.sbg.beta": round(fit.beta, 4)}
                what = f"hot.churn.sbg (alpha {fit.alpha:.3f}, beta {fit.beta:.3f})"
            else:
                constant = fit.alpha / (fit.alpha + fit.beta)
                new = {"hot.churn.monthly": round(constant, 4)}
                what = f"hot.churn.monthly = {constant:.2%}"
                st.info("Churn in this table does not fall with tenure (alpha and beta are very "
                        "large), so the fit is a constant monthly churn of "
                        f"{constant:.2%}.")
            overrides = {k: v for k, v in context.overrides.items()
                         if not k.startswith("hot.churn.")}
            overrides.update(new)
            try:
                apply_overrides(context.saved, overrides)
            except ScenarioError as error:
                st.error("The fit cannot be used in this scenario: " + "; ".join(error.problems))
            else:
                st.button(f"Use this fit as the scenario's churn: {what}", type="primary",
                          key="retention_apply", icon=":material/check:", on_click=_apply_fit,
                          args=(overrides, f"Churn now follows {what}. It travels in the share "
                                "link; save it on the Scenario page to keep it."))
    else:
        medians = point_inputs(scenario)
        if scenario.hot.churn.sbg is not None:
            today_churn = (f"shifted-beta-geometric with alpha {medians['hot.churn.sbg.alpha']:.3g}"
                           f" and beta {medians['hot.churn.sbg.beta']:.3g}")
        else:
            today_churn = f"constant, {fmt.share(medians['hot.churn.monthly'], 1)} a month"
        st.caption(f"The scenario's churn today (medians): {today_churn}.")

footer(context, page_path="retention")
