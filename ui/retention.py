"""Retention page helpers: cached runs of sim.retention, its sentences and the example table.

The sweep, the what-ifs and the cohorts run on all the sidebar's futures (issue 13: one set of
futures per answer; 17 shares on 20,000 futures take about 6 s on the NumPy engine). Everything
here is cached by the validated scenario, the seed and the trial count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from sim import registry
from sim.analytics import SbgFit
from sim.cohorts import CohortFit, CohortTableError, read_and_fit
from sim.distributions import point_inputs, quantile_inputs, sample_inputs, uncertain_fields
from sim.metrics import CLEAR_WIN, summarize
from sim.retention import (
    EXTRA_MONTHLY,
    GOALS,
    QUOTED_PROFIT_LIFT,
    SWEEP_METRICS,
    UNIT_ECONOMICS,
    BDTextbook,
    BestShare,
    NextDollar,
    RetentionCheck,
    ShareSweep,
    bd_textbook,
    best_share,
    cohort_survival,
    next_dollar,
    retention_check,
    simulate_hot_share,
    split_for_hot_share,
    sweep_hot_share,
)
from sim.scenario import Scenario, ScenarioError, apply_overrides
from sim.sensitivity import value_of_knowing
from ui import format as fmt
from ui.chart_specs import show_chart
from ui.charts import line_chart
from ui.library import APP_ROOT
from ui.runs import SCENARIO_HASH, cached_run
from ui.sensitivity import input_name, input_value
from ui.state import PageContext, set_overrides

#: Example cohort table shipped with the app.
EXAMPLE_CSV = APP_ROOT / "scenarios" / "examples" / "cohorts_example.csv"
#: Upload limit for cohort tables, in megabytes (the parser also caps the bytes it reads).
UPLOAD_MB = 1
#: How each goal the best share can be chosen on is named on screen (the metric registry's
#: labels).
GOAL_LABELS: dict[str, str] = {goal: registry.metric(goal).label for goal in GOALS}


@cached_run(max_entries=16, show_spinner="Sweeping the share for existing buyers from 0% to "
            "80% of the budget…", show_time=True, hash_funcs=SCENARIO_HASH)
def run_sweep(scenario: Scenario, seed: int, trials: int) -> ShareSweep:
    """Return the hot-share sweep on `trials` futures (all shares on the same draws)."""
    return sweep_hot_share(scenario, trials=trials, seed=seed)


@cached_run(max_entries=16, show_spinner="Adding $10,000 a month to each side…",
            show_time=True, hash_funcs=SCENARIO_HASH)
def run_next_dollar(scenario: Scenario, seed: int, trials: int, goal: str) -> NextDollar:
    """Return the paired comparison of the next $10,000 a month in acquisition vs retention."""
    return next_dollar(scenario, trials=trials, seed=seed, goal=goal)


@cached_run(max_entries=16, show_spinner="Simulating 5 points more retention…",
            show_time=True, hash_funcs=SCENARIO_HASH)
def run_retention_check(scenario: Scenario, seed: int, trials: int) -> RetentionCheck:
    """Return the profit change from 5 points more monthly retention."""
    return retention_check(scenario, trials=trials, seed=seed)


@cached_run(max_entries=16, show_spinner=False, hash_funcs=SCENARIO_HASH)
def run_textbook(scenario: Scenario) -> BDTextbook:
    """Return the Blattberg-Deighton optimum from the scenario's medians."""
    return bd_textbook(scenario)


@dataclass(frozen=True)
class PlanCohorts:
    """Medians over the futures for one hot share: cohort survival curves (acquired month ->
    share still active by months since first purchase) and customers won and lost a month."""

    survival: dict[int, np.ndarray]
    won: np.ndarray
    lost: np.ndarray


@cached_run(max_entries=32, show_spinner="Following monthly cohorts…", show_time=True,
            hash_funcs=SCENARIO_HASH)
def run_cohorts(scenario: Scenario, seed: int, trials: int, hot: float) -> PlanCohorts:
    """Return the cohort curves and the leaky bucket of one hot share (medians)."""
    result = simulate_hot_share(scenario, hot, trials=trials, seed=seed)
    months = sorted({m for m in (0, 12) if m < result.horizon - 1})
    survival = {m: np.median(cohort_survival(result, m), axis=0) for m in months}
    return PlanCohorts(survival, np.median(result.monthly["new_customers"], axis=0),
                       np.median(result.monthly["churned"], axis=0))


@cached_run(max_entries=8, show_spinner="Fitting the cohort table…")
def fit_upload(data: bytes) -> CohortFit | tuple[str, ...]:
    """Return the sBG fit of an uploaded cohort table, or the problems that stop it."""
    try:
        return read_and_fit(data)
    except CohortTableError as error:
        return tuple(error.problems)


def example_csv() -> bytes:
    """Return the shipped example cohort table (CSV bytes)."""
    return EXAMPLE_CSV.read_bytes()


def share_words(share: float) -> str:
    """Return a budget share as the page writes it (0.35 -> '35%')."""
    return fmt.share(share, 0 if abs(share * 100 - round(share * 100)) < 1e-6 else 1)


@dataclass(frozen=True)
class ShareWorth:
    """What knowing one input is worth before moving to the best share (the Sensitivity
    page's expected value of partial perfect information, on the sweep's futures).

    path: the input worth most; low/high: its 90% range (P5, P95) as entered, in its units;
    worth: its EVPPI in $ of the goal; evpi: knowing every input; noise: what an input that
    tells nothing scores at this trial count.
    """

    path: str
    low: float
    high: float
    worth: float
    evpi: float
    noise: float


@cached_run(max_entries=16, hash_funcs=SCENARIO_HASH)
def share_worth(scenario: Scenario, seed: int, trials: int, goal: str) -> ShareWorth | None:
    """Return the input worth knowing most when choosing between today's share and the best
    one on `goal` (sim.sensitivity.value_of_knowing over the sweep's paired futures), or None
    when the scenario has no uncertain input or the best share is today's."""
    sweep = run_sweep(scenario, seed, trials)
    best = best_share(sweep, goal)
    fields = uncertain_fields(scenario)
    if best.index == sweep.current or not fields:
        return None
    inputs = sample_inputs(scenario, trials, seed)  # the sweep's own draws (same seed/trials)
    values = sweep.metrics[goal]
    worth = value_of_knowing({"best": values[best.index], "today": values[sweep.current]},
                             inputs, fields)
    path = max(fields, key=lambda field: worth.per_input[field])
    low, high = quantile_inputs(scenario, path, (0.05, 0.95))  # its 90% range as entered
    return ShareWorth(path, float(low), float(high), float(worth.per_input[path]),
                      float(worth.evpi), float(worth.noise))


def answer_sentence(best: BestShare, sweep: ShareSweep, goal: str,
                    worth: ShareWorth | None = None) -> str:
    """Return the page's decision (issue 13: the decision first, one risk clause, ~30 words):
    how much to put into existing buyers. "Earns more on average" and "wins in X% of
    futures" are said apart; when the best share wins in fewer than CLEAR_WIN of futures, the
    decision is to test the input worth knowing most first (`worth`), with its value."""
    today = float(sweep.shares[sweep.current])
    words = registry.metric_words(goal, sweep.horizon)
    futures = f"{sweep.trials:,} futures"
    if best.index == sweep.current:
        return (f"Keep {share_words(today)} of the budget on existing buyers: no share from 0% "
                f"to 80% earns more {words} on average.")
    comparison = best.vs_current
    gain = (f"{share_words(best.share)} earns {fmt.money(comparison.diff_mean)} more {words} "
            "on average")
    if comparison.p_beats >= CLEAR_WIN:
        return (f"Move to {share_words(best.share)} for existing buyers: it earns "
                f"{fmt.money(comparison.diff_mean)} more {words} than today's "
                f"{share_words(today)} on average and wins in {fmt.share(comparison.p_beats)} "
                f"of {futures}.")
    odds = f"wins in only {fmt.share(comparison.p_beats)} of {futures}"
    if worth is None or worth.worth <= worth.noise:
        return (f"Keep {share_words(today)} for existing buyers until a test settles it: "
                f"{gain} but {odds}.")
    name = input_name(worth.path)
    span = f"{input_value(worth.path, worth.low)}-{input_value(worth.path, worth.high)}"
    return (f"Test {name} ({span}) before moving budget: {gain} but {odds}; knowing it is "
            f"worth {fmt.money(worth.worth)}.")


# --------------------------------------------------------------------------------------------
# Tables, decisions and words the page shows (the page lays them out)


def goal_words(goal: str, horizon: int) -> str:
    """Return the goal as the page writes it: '3-year profit'."""
    return f"{fmt.horizon_words(horizon)} {GOAL_LABELS[goal].split(' (')[0].lower()}"


def split_name(scenario: Scenario, sweep: ShareSweep, index: int) -> str:
    """'10% (60/30/10)': a hot share of the sweep with the whole split."""
    share = float(sweep.shares[index])
    return f"{share_words(share)} ({fmt.split_label(*split_for_hot_share(scenario, share))})"


def sweep_bands(sweep: ShareSweep, metric: str) -> dict[str, np.ndarray]:
    """Return P10 / median / P90 over futures of one metric, one value per share."""
    p10, p50, p90 = np.nanpercentile(sweep.metrics[metric], [10, 50, 90], axis=1)
    return {"p10": p10, "p50": p50, "p90": p90}


SWEEP_LABELS: dict[str, str] = {**{m: fmt.metric_heading(m) for m in SWEEP_METRICS},
                                "long_run_value": "Long-run value"}


def unit_economics_table(sweep: ShareSweep, goal: str, columns: dict[str, int]) -> pd.DataFrame:
    """Return the goal and the unit economics (medians over futures) of the sweep's shares in
    `columns` (title -> index of the share)."""
    rows = []
    for metric in (goal, *UNIT_ECONOMICS, "customer_equity_end"):
        row = {"Median over futures": SWEEP_LABELS.get(metric, fmt.metric_heading(metric))}
        for title, index in columns.items():
            value = float(np.nanmedian(sweep.metrics[metric][index]))
            row[title] = (fmt.money(value) if metric == "long_run_value"
                          else fmt.metric_value(metric, value))
        rows.append(row)
    return pd.DataFrame(rows)


def next_dollar_answer(nd: NextDollar, goal: str, horizon: int, ratio: float
                       ) -> tuple[str, pd.DataFrame]:
    """Return where the next EXTRA_MONTHLY a month does more (a Markdown sentence: neither side
    pays back, or the side that beats the other in more futures) and the two gains against
    today (P5/P10/median/P90/P95 rows for an interval chart)."""
    extra_words = fmt.money(EXTRA_MONTHLY)
    words = goal_words(goal, horizon)
    gain_acq = nd.acquisition[goal] - nd.current[goal]
    gain_ret = nd.retention[goal] - nd.current[goal]
    p_ret = nd.retention_vs_acquisition.p_beats
    mean_acq, mean_ret = float(np.mean(gain_acq)), float(np.mean(gain_ret))
    changes = (f"mean change in {words} after paying the extra "
               f"{fmt.money(float(np.mean(nd.extra_spend_total)))} over {horizon} months: "
               f"acquisition {fmt.money(mean_acq, signed=True)}, existing buyers "
               f"{fmt.money(mean_ret, signed=True)}")
    p_acq = nd.retention_vs_acquisition.p_loses
    if max(mean_acq, mean_ret) < 0:
        lesser = "existing buyers" if mean_ret > mean_acq else "acquisition"
        sentence = (f"**Neither side pays back** the extra {extra_words} a month within "
                    f"{horizon} months ({changes}); {lesser} loses less, in "
                    f"{fmt.share(p_ret if lesser == 'existing buyers' else p_acq)} of futures.")
    elif p_ret >= p_acq:
        sentence = (f"**Existing buyers (retention)** do more with it: they beat acquisition "
                    f"in **{fmt.share(p_ret)}** of futures ({changes}).")
    else:
        sentence = (f"**Acquisition (cold and warm)** does more with it: it beats retention in "
                    f"**{fmt.share(p_acq)}** of futures ({changes}).")
    gains = []
    for label, values in ((f"+{extra_words}/month into acquisition (cold:warm "
                           f"{ratio * 100:.0f}/{(1 - ratio) * 100:.0f})", gain_acq),
                          (f"+{extra_words}/month into existing buyers", gain_ret)):
        summary = summarize(values)
        gains.append({"label": label, "p5": summary.p5, "p10": summary.p10, "p50": summary.p50,
                      "p90": summary.p90, "p95": summary.p95})
    return sentence, pd.DataFrame(gains)


def retention_check_answer(check: RetentionCheck, horizon: int, trials: int
                           ) -> tuple[str, pd.DataFrame | None]:
    """Return whether 5 points more retention lifts profit by the quoted 25-95% (a Markdown
    sentence: the median change above, inside or below the quoted range) and the rows of its
    interval chart against the quoted range; in dollars only (rows None) when too few futures
    make a profit today for a percent change to mean anything."""
    low_q, high_q = QUOTED_PROFIT_LIFT
    relative = check.relative[np.isfinite(check.relative)]
    if relative.size < max(20, 0.5 * trials):
        return (
            f"Today's plan makes a profit in only {fmt.share(check.share_profitable)} of "
            f"futures, so a percent change means little; in dollars, 5 points more retention "
            f"changes {horizon}-month profit by "
            f"{fmt.money(float(np.median(check.change)), signed=True)} (median; 90% range "
            f"{fmt.money(float(np.percentile(check.change, 5)), signed=True)} to "
            f"{fmt.money(float(np.percentile(check.change, 95)), signed=True)}).", None)
    r5, r10, r50, r90, r95 = np.percentile(relative, [5, 10, 50, 90, 95])
    if r50 > high_q:
        where = "above"
    elif r50 < low_q:
        where = "below"
    else:
        where = "inside"
    sentence = (
        f"Here {horizon}-month profit rises by **{fmt.share(r50)}** (median; 90% range "
        f"{fmt.share(r5)} to {fmt.share(r95)}), **{where}** the {low_q:.0%}-{high_q:.0%} that "
        f"is usually quoted. In dollars: "
        f"{fmt.money(float(np.median(check.change)), signed=True)} (median).")
    rows = pd.DataFrame([
        {"label": "This scenario", "p5": r5, "p10": r10, "p50": r50, "p90": r90, "p95": r95},
        {"label": "Usually quoted", "p5": np.nan, "p10": low_q, "p50": np.nan, "p90": high_q,
         "p95": np.nan}])
    return sentence, rows


def textbook_words(textbook: BDTextbook) -> str:
    """Return the Blattberg-Deighton optimum in words: retention and acquisition spend per
    head against today's (requires textbook.optimum and textbook.inputs)."""
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
    return f"{retention_words} {acquisition_words}"


def cohort_curves(cohort_runs: dict[str, PlanCohorts], horizon: int) -> dict[str, np.ndarray]:
    """Return each plan's cohort survival curves padded to the horizon, named for a legend."""
    curves = {}
    for label, run in cohort_runs.items():
        for acquired, survival in run.survival.items():
            padded = np.full(horizon, np.nan)
            padded[: len(survival)] = survival
            curves[f"{label.split(' (')[0]}: joined in month {acquired + 1}"] = padded
    return curves


def fit_churn_overrides(fit: SbgFit, overrides: dict[str, Any]
                        ) -> tuple[dict[str, Any], str, float | None]:
    """Return the link's overrides with the scenario's churn replaced by a cohort fit, the fit
    in words and, when churn does not fall with tenure (alpha and beta above 1000), the
    constant monthly churn used instead (else None)."""
    if max(fit.alpha, fit.beta) <= 1000:
        new = {"hot.churn.sbg.alpha": round(fit.alpha, 4),
               "hot.churn.sbg.beta": round(fit.beta, 4)}
        what = f"hot.churn.sbg (alpha {fit.alpha:.3f}, beta {fit.beta:.3f})"
        constant = None
    else:
        constant = fit.alpha / (fit.alpha + fit.beta)
        new = {"hot.churn.monthly": round(constant, 4)}
        what = f"hot.churn.monthly = {constant:.2%}"
    kept = {k: v for k, v in overrides.items() if not k.startswith("hot.churn.")}
    kept.update(new)
    return kept, what, constant


def churn_words(scenario: Scenario) -> str:
    """Return the scenario's churn today in words (medians of its inputs)."""
    medians = point_inputs(scenario)
    if scenario.hot.churn.sbg is not None:
        return (f"shifted-beta-geometric with alpha {medians['hot.churn.sbg.alpha']:.3g}"
                f" and beta {medians['hot.churn.sbg.beta']:.3g}")
    return f"constant, {fmt.share(medians['hot.churn.monthly'], 1)} a month"


_APPLIED_KEY = "_retention_fit_applied"


def _apply_fit(overrides: dict[str, Any], message: str) -> None:
    # A callback runs before the next run's sidebar and pages, which then show the new churn.
    set_overrides(overrides)
    st.session_state[_APPLIED_KEY] = message


def calibration_panel(context: PageContext) -> None:
    """Draw the churn calibration: upload a cohort table, see its sBG fit against the pooled
    observed survival, and use the fit as the scenario's churn (a link override)."""
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
            show_chart(line_chart(
                months, {"Observed (all cohorts pooled)": outcome.observed,
                    "Fitted sBG": fit.fitted_survival},
                "Months since first purchase", "Share of the cohort still active",
                unit="share", y_domain=(0, 1), height=280,
                dots=("Observed (all cohorts pooled)",)), st.container(key="retention_fit"),
                width="stretch")
            st.caption(f"{uploaded.name}: {len(table.labels)} cohorts ({table.layout} layout). "
                       "Observed: customers still active over the cohort sizes of the cohorts "
                       "observed that long.")
            overrides, what, constant = fit_churn_overrides(fit, context.overrides)
            if constant is not None:
                st.info("Churn in this table does not fall with tenure (alpha and beta are very "
                        "large), so the fit is a constant monthly churn of "
                        f"{constant:.2%}.")
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
        st.caption(f"The scenario's churn today (medians): {churn_words(context.scenario)}.")
