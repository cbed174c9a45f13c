"""Retention vs acquisition: how much of the budget should keep existing buyers.

Every question on the Retention page is answered on the same simulated futures (the draws of
`sample_inputs`), by replacing a few input arrays and running the engine again:

- the sweep moves the retention (hot) share from 0% to 80% of the budget, cold and warm keeping
  the scenario's own ratio; all shares are stacked along the trial axis and run in one engine
  call, so share s in trial i saw exactly the future of share s' in trial i;
- "the next $10,000 a month" adds it to acquisition (cold and warm in their ratio) or to
  retention (hot) and compares the two paired;
- "5 points more retention" lowers the monthly churn by 0.05 and reports the profit change
  beside the 25-95% that marketers usually quote;
- the Blattberg-Deighton textbook optimum is computed from the scenario's median inputs;
- cohort survival curves are rebuilt from the engine's monthly series with DESIGN.md's churn
  rule, and cohort tables (CSV) are parsed and fitted with the shifted-beta-geometric model.

Pure NumPy; no streamlit, no printing.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from sim.analytics import (
    BDOptimum,
    SbgFit,
    fit_sbg,
    monthly_discount_rate,
    optimal_spend_bd,
    order_contribution,
    response_k_from_point,
    sbg_survival,
)
from sim.distributions import point_inputs, sample_inputs
from sim.engine import METRIC_NAMES, SimResult, simulate
from sim.metrics import CLEAR_WIN, Comparison, compare_paired
from sim.scenario import Scenario
from sim.text_input import TextDecodeError, control_character_problem, decode_text

#: The sweep covers hot shares from 0 to TOP_HOT_SHARE in steps of SHARE_STEP.
TOP_HOT_SHARE = 0.8
SHARE_STEP = 0.05
#: Extra monthly budget of the "where does the next dollar go" question, in $ per month.
EXTRA_MONTHLY = 10_000.0
#: "5 points more retention": monthly churn lowered by this many percentage points.
RETENTION_POINTS = 0.05
#: Profit lift from 5% more retention that marketers usually quote (Reichheld), as shares.
QUOTED_PROFIT_LIFT = (0.25, 0.95)
#: Cold share of acquisition spend used when the scenario puts nothing into acquisition
#: (the 6:3 of the 6:3:1 rule).
DEFAULT_COLD_RATIO = 2.0 / 3.0
#: Goals the best share can be chosen on: engine metrics plus the long-run value.
GOALS: tuple[str, ...] = ("profit", "npv", "long_run_value")
#: Metrics shown along the sweep.
SWEEP_METRICS: tuple[str, ...] = (
    "profit", "npv", "net_revenue", "customer_equity_end", "clv_new_customer")
#: Unit economics shown for the current and the best split.
UNIT_ECONOMICS: tuple[str, ...] = (
    "cac", "clv_new_customer", "ltv_to_cac", "payback_month", "repeat_revenue_share",
    "leaky_bucket_ratio", "early_repeat_rate")


# --------------------------------------------------------------------------------------------
# Splits


def cold_ratio(scenario: Scenario) -> float:
    """Return cold's part of the acquisition spend (cold / (cold + warm)), a share.

    DEFAULT_COLD_RATIO when the scenario spends nothing on acquisition.
    """
    split = scenario.budget.split
    acquisition = split.cold + split.warm
    return split.cold / acquisition if acquisition > 1e-12 else DEFAULT_COLD_RATIO


def split_for_hot_share(scenario: Scenario, hot: float) -> tuple[float, float, float]:
    """Return (cold, warm, hot) shares of the budget for a hot share; cold and warm share the
    rest in the scenario's own ratio."""
    ratio = cold_ratio(scenario)
    rest = 1.0 - hot
    return rest * ratio, rest * (1.0 - ratio), hot


def sweep_shares(scenario: Scenario) -> np.ndarray:
    """Return the hot shares of the sweep: 0 to 80% in 5-point steps, plus the scenario's own
    share when it is not on that grid (sorted, as shares of the budget)."""
    grid = np.round(np.arange(0.0, TOP_HOT_SHARE + 1e-9, SHARE_STEP), 6)
    current = float(scenario.budget.split.hot)
    if np.min(np.abs(grid - current)) > 1e-6:
        grid = np.sort(np.append(grid, current))
    return grid


def _with_split(inputs: Mapping[str, np.ndarray], cold: np.ndarray | float,
                warm: np.ndarray | float, hot: np.ndarray | float,
                monthly: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Return a copy of the inputs with the split (and optionally the budget) replaced."""
    trials = len(inputs["budget.monthly"])
    out = dict(inputs)
    out["budget.split.cold"] = np.broadcast_to(np.asarray(cold, dtype=float), (trials,)).copy()
    out["budget.split.warm"] = np.broadcast_to(np.asarray(warm, dtype=float), (trials,)).copy()
    out["budget.split.hot"] = np.broadcast_to(np.asarray(hot, dtype=float), (trials,)).copy()
    if monthly is not None:
        out["budget.monthly"] = np.asarray(monthly, dtype=float)
    return out


def _run_stacked(
    scenario: Scenario,
    variants: list[Mapping[str, np.ndarray]],
    horizon: int | None,
    seed: int,
    progress: Callable[[float], None] | None = None,
) -> list[dict[str, np.ndarray]]:
    """Run several input sets (same trials each) in one engine call, stacked along the trial
    axis; return each one's per-trial metrics plus "long_run_value"."""
    trials = len(variants[0]["budget.monthly"])
    stacked = {path: np.concatenate([np.asarray(v[path], dtype=float) for v in variants])
               for path in variants[0]}
    result = simulate(scenario, seed=seed, horizon=horizon, inputs=stacked, progress=progress)
    out = []
    for index in range(len(variants)):
        part = slice(index * trials, (index + 1) * trials)
        metrics = {name: result.metrics[name][part] for name in METRIC_NAMES}
        metrics["long_run_value"] = _long_run_value(metrics, stacked, part, result.horizon)
        out.append(metrics)
    return out


def _long_run_value(metrics: Mapping[str, np.ndarray], inputs: Mapping[str, np.ndarray],
                    part: slice, horizon: int) -> np.ndarray:
    """NPV of the horizon's profit plus the customers still active at the end, valued by the
    engine's customer equity and discounted back over the horizon ($ per trial)."""
    annual = inputs["finance.discount_rate_annual"][part]
    return metrics["npv"] + metrics["customer_equity_end"] * (1.0 + annual) ** (-horizon / 12.0)


# --------------------------------------------------------------------------------------------
# The sweep


@dataclass(frozen=True)
class ShareSweep:
    """Per-trial metrics for each hot share of the sweep, all on the same futures.

    shares: hot shares (n_shares,); metrics: name -> array (n_shares, trials) in the metric's
    units (engine metrics plus "long_run_value" in $); current: index of the scenario's own
    share in `shares`.
    """

    shares: np.ndarray
    metrics: dict[str, np.ndarray]
    current: int
    trials: int
    seed: int
    horizon: int

    def at(self, index: int) -> dict[str, np.ndarray]:
        """Return the per-trial metrics of one share."""
        return {name: values[index] for name, values in self.metrics.items()}


def sweep_hot_share(
    scenario: Scenario,
    *,
    trials: int,
    seed: int,
    horizon: int | None = None,
    shares: np.ndarray | None = None,
    progress: Callable[[float], None] | None = None,
) -> ShareSweep:
    """Run every hot share of the sweep on the same draws (one stacked engine call)."""
    shares = sweep_shares(scenario) if shares is None else np.asarray(shares, dtype=float)
    horizon = scenario.simulation.horizon_months if horizon is None else int(horizon)
    inputs = sample_inputs(scenario, trials, seed)
    variants = [_with_split(inputs, *split_for_hot_share(scenario, float(hot)))
                for hot in shares]
    runs = _run_stacked(scenario, variants, horizon, seed, progress)
    metrics = {name: np.stack([run[name] for run in runs]) for name in runs[0]}
    current = int(np.argmin(np.abs(shares - scenario.budget.split.hot)))
    return ShareSweep(shares, metrics, current, trials, seed, horizon)


@dataclass(frozen=True)
class BestShare:
    """The hot share with the highest mean of the goal, and how sure that is.

    tie_low/tie_high: the smallest and largest share that the best beats in fewer than
    CLEAR_WIN of futures (statistically as good); vs_current: best minus current, paired.
    """

    index: int
    share: float
    goal: str
    mean: float
    tie_low: float
    tie_high: float
    beaten_share: np.ndarray
    vs_current: Comparison


def best_share(sweep: ShareSweep, goal: str = "profit") -> BestShare:
    """Return the share with the highest mean goal, its tie zone and its paired gain over the
    scenario's own share."""
    values = sweep.metrics[goal]
    means = np.nanmean(values, axis=1)
    best = int(np.nanargmax(means))
    beaten = np.array([compare_paired(values[best], values[i]).p_beats if i != best else 0.0
                       for i in range(len(sweep.shares))])
    close = sweep.shares[beaten < CLEAR_WIN]
    return BestShare(best, float(sweep.shares[best]), goal, float(means[best]),
                     float(close.min()), float(close.max()), beaten,
                     compare_paired(values[best], values[sweep.current]))


# --------------------------------------------------------------------------------------------
# The next $10,000 a month, and 5 points more retention


@dataclass(frozen=True)
class NextDollar:
    """Adding `extra` $ a month to acquisition vs to retention, on the same futures.

    Per-trial metrics of the current plan and of both additions; retention_vs_acquisition is
    retention minus acquisition on the goal, paired (p_beats = P(retention wins)).
    """

    extra: float
    goal: str
    current: dict[str, np.ndarray]
    acquisition: dict[str, np.ndarray]
    retention: dict[str, np.ndarray]
    retention_vs_acquisition: Comparison
    extra_spend_total: np.ndarray


def next_dollar(scenario: Scenario, *, trials: int, seed: int, horizon: int | None = None,
                goal: str = "profit", extra: float = EXTRA_MONTHLY) -> NextDollar:
    """Compare putting `extra` $ a month more into acquisition (cold and warm in their ratio)
    or into retention (hot); the budget's growth applies to the extra too."""
    horizon = scenario.simulation.horizon_months if horizon is None else int(horizon)
    inputs = sample_inputs(scenario, trials, seed)
    split = scenario.budget.split
    budget = inputs["budget.monthly"]
    bigger = budget + extra
    ratio = cold_ratio(scenario)
    acquisition = _with_split(
        inputs, (split.cold * budget + extra * ratio) / bigger,
        (split.warm * budget + extra * (1.0 - ratio)) / bigger, split.hot * budget / bigger,
        monthly=bigger)
    retention = _with_split(
        inputs, split.cold * budget / bigger, split.warm * budget / bigger,
        (split.hot * budget + extra) / bigger, monthly=bigger)
    current = _with_split(inputs, split.cold, split.warm, split.hot)
    now, acq, ret = _run_stacked(scenario, [current, acquisition, retention], horizon, seed)
    growth = inputs["budget.growth_monthly"]
    spend_total = extra * ((1.0 + growth[:, None]) ** np.arange(horizon)[None, :]).sum(axis=1)
    return NextDollar(extra, goal, now, acq, ret, compare_paired(ret[goal], acq[goal]),
                      spend_total)


@dataclass(frozen=True)
class RetentionCheck:
    """Profit with monthly churn lowered by `points` against profit as the scenario stands.

    relative: per-trial (improved - base) / base over trials with a positive base profit
    (NaN elsewhere); change: per-trial improved - base in $; definition: one sentence.
    """

    points: float
    base_profit: np.ndarray
    improved_profit: np.ndarray
    change: np.ndarray
    relative: np.ndarray
    relative_of_means: float
    share_profitable: float
    definition: str


def improved_retention_inputs(scenario: Scenario, inputs: Mapping[str, np.ndarray],
                              points: float = RETENTION_POINTS) -> dict[str, np.ndarray]:
    """Return the inputs with monthly churn lowered by `points` (never below 0).

    Constant churn: hot.churn.monthly - points. sBG churn (falling with tenure): beta is raised
    so that a new customer's first-month churn alpha / (alpha + beta) is `points` lower (at
    least 0.001); later months' churn falls by less, keeping the curve's shape.
    """
    out = dict(inputs)
    if "hot.churn.sbg.alpha" in inputs:
        alpha = inputs["hot.churn.sbg.alpha"]
        first = alpha / (alpha + inputs["hot.churn.sbg.beta"])
        lowered = np.maximum(first - points, 1e-3)
        out["hot.churn.sbg.beta"] = alpha * (1.0 - lowered) / lowered
    else:
        out["hot.churn.monthly"] = np.maximum(inputs["hot.churn.monthly"] - points, 0.0)
    return out


def retention_definition(scenario: Scenario, points: float = RETENTION_POINTS) -> str:
    """Return the sentence that says exactly what "5 points more retention" changes."""
    pts = f"{points * 100:.0f} percentage points"
    if scenario.hot.churn.sbg is not None:
        return (f"Churn here falls with tenure (shifted-beta-geometric), so '{pts} more "
                f"retention' means a new customer's first-month churn alpha / (alpha + beta) is "
                f"{pts} lower (beta raised, alpha kept); later months' churn falls by less. "
                "Same split and budget; only churn changes.")
    return (f"'{pts} more retention' means the monthly churn with no retention spend is "
            f"{pts} lower in every month (for example 10% -> 5%; never below 0); retention "
            "spend still cuts the preventable part as before. Same split and budget; only churn "
            "changes.")


def retention_check(scenario: Scenario, *, trials: int, seed: int, horizon: int | None = None,
                    points: float = RETENTION_POINTS) -> RetentionCheck:
    """Return the profit change over the horizon from `points` more monthly retention."""
    horizon = scenario.simulation.horizon_months if horizon is None else int(horizon)
    inputs = sample_inputs(scenario, trials, seed)
    base, improved = _run_stacked(
        scenario, [inputs, improved_retention_inputs(scenario, inputs, points)], horizon, seed)
    before, after = base["profit"], improved["profit"]
    positive = before > 0
    relative = np.full(before.shape, np.nan)
    np.divide(after - before, before, out=relative, where=positive)
    mean_before = float(np.mean(before))
    relative_of_means = (float(np.mean(after)) / mean_before - 1.0 if mean_before > 0
                         else float("nan"))
    return RetentionCheck(points, before, after, after - before, relative, relative_of_means,
                          float(np.mean(positive)), retention_definition(scenario, points))


# --------------------------------------------------------------------------------------------
# Blattberg-Deighton textbook optimum


@dataclass(frozen=True)
class BDInputs:
    """Blattberg-Deighton inputs taken from the scenario's medians (one month = one period).

    Spends in $ per head per month, rates as monthly shares. `current_*` are the scenario's
    own spends per head in month 1; `notes` say where each input comes from.
    """

    a_ceiling: float
    k_a: float
    r_ceiling: float
    k_r: float
    margin: float
    discount: float
    current_acquisition_spend: float
    current_retention_spend: float
    current_acquisition_rate: float
    current_retention_rate: float
    customers_start: float
    warm_leads_start: float
    budget_monthly: float
    notes: tuple[tuple[str, str, str], ...]


@dataclass(frozen=True)
class BDTextbook:
    """The textbook optimum, or why it does not apply (`problem` set, optimum None)."""

    inputs: BDInputs | None
    optimum: BDOptimum | None
    problem: str = ""

    def customer_value(self) -> float:
        """Return the textbook value of an acquired customer at the optimum retention spend:
        ``m + (m r - R) / (1 + d - r)`` in $ (NaN without an optimum)."""
        if self.inputs is None or self.optimum is None:
            return float("nan")
        m, r = self.inputs.margin, self.optimum.retention_rate
        return m + (m * r - self.optimum.retention_spend) / (1 + self.inputs.discount - r)

    def first_dollar_return(self) -> float:
        """Return the customer value that the first $ of acquisition spend per prospect buys
        (``a_ceiling x k_a x value``, $ per $); below 1 the textbook spends nothing on it."""
        if self.inputs is None:
            return float("nan")
        return self.inputs.a_ceiling * self.inputs.k_a * self.customer_value()

    def implied_shares(self) -> tuple[float, float]:
        """Return the optimum's (retention, conversion) spend as shares of month 1's budget at
        the starting customers and warm leads (NaN when the budget is 0 or there is no
        optimum); their sum may exceed 1, as the textbook has no budget limit."""
        if self.inputs is None or self.optimum is None or self.inputs.budget_monthly <= 0:
            return float("nan"), float("nan")
        budget = self.inputs.budget_monthly
        return (self.optimum.retention_spend * self.inputs.customers_start / budget,
                self.optimum.acquisition_spend * self.inputs.warm_leads_start / budget)


def _base_churn_monthly(scenario: Scenario, x: Mapping[str, float]) -> tuple[float, str]:
    """Return a constant monthly churn for the textbook (sBG: the one that keeps the same
    share of a cohort after 12 months) and how it was found."""
    if scenario.hot.churn.sbg is not None:
        survival = float(sbg_survival(x["hot.churn.sbg.alpha"], x["hot.churn.sbg.beta"], 12)[-1])
        churn = 1.0 - survival ** (1.0 / 12.0)
        return churn, (f"constant churn {churn:.1%} a month keeps the same {survival:.0%} of a "
                       "cohort after 12 months as the sBG curve")
    return x["hot.churn.monthly"], "the scenario's median monthly churn"


def bd_textbook(scenario: Scenario) -> BDTextbook:
    """Return the Blattberg-Deighton optimum of acquisition and retention spend per head.

    Prospect = a warm lead; acquisition spend A = warm spend per lead per month, acquisition
    rate = that month's conversion (ceiling conversion_max, curve through the scenario's
    conversion at A = warm.spend_scale). Retention r(R) = 1 - churn with retention spend R per
    customer per month (ceiling 1 - churn x unpreventable share, curve through the scenario's
    retention at R = hot.spend_scale). Margin per customer per month = repeat rate at the
    scenario's month-1 retention spend x contribution of a repeat order. Discount: monthly.
    """
    x = point_inputs(scenario)
    split = scenario.budget.split
    conversion_multiplier = (x["guarantee.days"] / x["guarantee.reference_days"]) ** x[
        "guarantee.conversion_elasticity"]
    p0, pmax = x["warm.conversion_no_spend"], x["warm.conversion_max"]
    a_ceiling = min(1.0, pmax * conversion_multiplier)
    warm_scale, hot_scale = x["warm.spend_scale"], x["hot.spend_scale"]
    a_at_scale = min(1.0, (p0 + (pmax - p0) * (1 - math.exp(-1))) * conversion_multiplier)
    churn, churn_note = _base_churn_monthly(scenario, x)
    unpreventable = x["hot.churn_unpreventable"]
    r_ceiling = 1.0 - churn * unpreventable
    r_at_scale = 1.0 - churn * (unpreventable + (1 - unpreventable) * math.exp(-1))
    budget = x["budget.monthly"]
    acquisition_now = split.warm * budget / max(x["market.warm_start"], 1.0)
    retention_now = split.hot * budget / max(x["market.customers_start"], 1.0)
    saturation_now = math.exp(-retention_now / hot_scale)
    q_now = x["hot.repeat_no_spend"] + (x["hot.repeat_max"] - x["hot.repeat_no_spend"]) * (
        1 - saturation_now)
    rho = min(1.0, x["guarantee.return_rate_at_reference"] * (
        x["guarantee.days"] / x["guarantee.reference_days"]) ** x["guarantee.return_elasticity"])
    per_order = order_contribution(x["orders.repeat_value"], rho, x["orders.gross_margin"],
                                   x["guarantee.resale_share"], x["guarantee.handling_cost"])
    margin = q_now * per_order
    discount = monthly_discount_rate(x["finance.discount_rate_annual"])
    rate_now = min(1.0, (p0 + (pmax - p0) * (1 - math.exp(-acquisition_now / warm_scale)))
                   * conversion_multiplier)
    retention_rate_now = 1.0 - churn * (unpreventable + (1 - unpreventable) * saturation_now)
    notes = (
        ("Prospect", "a warm lead, each month",
         "cold spend that creates leads has no place in the textbook model"),
        ("Acquisition rate a(A)", f"ceiling {a_ceiling:.2%} a month",
         f"conversion_max; curve through {a_at_scale:.2%} at A = ${warm_scale:,.2f} per lead "
         "(warm.spend_scale)"),
        ("Retention rate r(R)", f"ceiling {r_ceiling:.1%} a month",
         f"1 - churn x unpreventable share; curve through {r_at_scale:.1%} at "
         f"R = ${hot_scale:,.2f} per customer (hot.spend_scale); churn: {churn_note}"),
        ("Margin per customer per month", f"${margin:,.2f}",
         f"repeat rate {q_now:.0%} at month 1's retention spend x ${per_order:,.2f} "
         "contribution of a repeat order"),
        ("Discount rate", f"{discount:.3%} a month",
         "finance.discount_rate_annual, as a monthly rate"),
    )
    problem = ""
    if not 0 < a_at_scale < a_ceiling:
        problem = ("acquisition does not respond to warm spend in this scenario (conversion_max "
                   "equals conversion_no_spend), so the textbook curve cannot be fitted")
    elif not 0 < r_at_scale < r_ceiling:
        problem = ("retention does not respond to spend in this scenario (all churn is "
                   "unpreventable or there is no churn), so the textbook optimum is no "
                   "retention spend at all")
    elif margin <= 0:
        problem = "a retained customer earns no margin, so there is nothing to optimise"
    if problem:
        return BDTextbook(None, None, problem)
    inputs = BDInputs(
        a_ceiling=a_ceiling,
        k_a=response_k_from_point(a_ceiling, warm_scale, a_at_scale),
        r_ceiling=r_ceiling,
        k_r=response_k_from_point(r_ceiling, hot_scale, r_at_scale),
        margin=margin, discount=discount,
        current_acquisition_spend=acquisition_now, current_retention_spend=retention_now,
        current_acquisition_rate=rate_now, current_retention_rate=retention_rate_now,
        customers_start=x["market.customers_start"], warm_leads_start=x["market.warm_start"],
        budget_monthly=budget, notes=notes)
    optimum = optimal_spend_bd(inputs.a_ceiling, inputs.k_a, inputs.r_ceiling, inputs.k_r,
                               inputs.margin, inputs.discount)
    return BDTextbook(inputs, optimum)


# --------------------------------------------------------------------------------------------
# Cohorts in the simulation


def cohort_survival(result: SimResult, acquired_month: int) -> np.ndarray:
    """Return the share of the cohort acquired in `acquired_month` (0-based) still active
    k months later, k = 0..horizon - acquired_month - 1, per kept trial (trials, months).

    Rebuilt from the monthly series with DESIGN.md's rule: at tenure k the cohort loses
    c_k x (u + (1 - u) x e_t), e_t = exp(-hot spend per customer / hot.spend_scale) of month t.
    With random flows this is the expected survival.
    """
    active = result.monthly["active_customers"]
    kept, horizon = active.shape
    x = {path: np.asarray(values[:kept], dtype=float) for path, values in result.inputs.items()}
    if not 0 <= acquired_month < horizon:
        raise ValueError(f"acquired_month must be 0..{horizon - 1}, got {acquired_month}")
    start = np.concatenate([x["market.customers_start"][:, None], active[:, :-1]], axis=1)
    spend_hot = x["budget.split.hot"][:, None] * result.monthly["spend"]
    saturation = np.exp(-spend_hot / np.maximum(start, 1.0) / x["hot.spend_scale"][:, None])
    u = x["hot.churn_unpreventable"][:, None]
    keep_factor = u + (1.0 - u) * saturation
    months = horizon - acquired_month
    tenure = np.arange(months, dtype=float)
    if "hot.churn.sbg.alpha" in x:
        alpha, beta = x["hot.churn.sbg.alpha"][:, None], x["hot.churn.sbg.beta"][:, None]
        base = alpha / (alpha + beta + tenure[None, :])
    else:
        base = np.broadcast_to(x["hot.churn.monthly"][:, None], (kept, months))
    staying = 1.0 - base * keep_factor[:, acquired_month:]
    # Survival after k months: product of the first k months' staying shares (S(0) = 1).
    survival = np.ones((kept, months))
    survival[:, 1:] = np.cumprod(staying[:, :-1], axis=1)
    return survival


def simulate_hot_share(scenario: Scenario, hot: float, *, trials: int, seed: int,
                       horizon: int | None = None) -> SimResult:
    """Run the scenario with the given hot share (cold and warm in their ratio)."""
    inputs = sample_inputs(scenario, trials, seed)
    return simulate(scenario, seed=seed, horizon=horizon,
                    inputs=_with_split(inputs, *split_for_hot_share(scenario, hot)))


# --------------------------------------------------------------------------------------------
# Cohort tables (CSV) and the sBG fit


#: Upload limits: bytes, cohorts and months per cohort.
MAX_TABLE_BYTES = 200_000
MAX_COHORTS = 240
MAX_MONTHS = 240
_COHORT_WORDS = ("cohort", "acquired", "first purchase month", "start")
_MONTH_WORDS = ("month", "period", "age", "tenure")
_ACTIVE_WORDS = ("active", "customer", "retained", "remaining", "alive", "count")


class CohortTableError(ValueError):
    """A cohort table that cannot be used; `.problems` lists what is wrong, by row and column."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class CohortTable:
    """Cohorts read from a table: labels and active counts from month 0 (the cohort size).

    counts[i][k] = customers of cohort i still active k months after their first purchase.
    """

    labels: tuple[str, ...]
    counts: tuple[np.ndarray, ...]
    layout: str

    @property
    def months(self) -> int:
        """Return the longest cohort's observed months after month 0."""
        return max(len(c) for c in self.counts) - 1


def _number(cell: str) -> float | None:
    """Read a count cell: digits, a decimal point, thousands separators; None if empty."""
    text = cell.strip().replace("\u00a0", "").replace(" ", "").replace("_", "")
    if not text:
        return None
    if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", text):
        text = text.replace(",", "")
    value = float(text)  # ValueError for anything else
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def _decode(data: bytes) -> str:
    if len(data) > MAX_TABLE_BYTES:
        raise CohortTableError([f"the file is {len(data):,} bytes; cohort tables are limited to "
                                f"{MAX_TABLE_BYTES:,} bytes"])
    try:
        text = decode_text(data)  # UTF-8, or UTF-16/32 announced by a byte-order mark
    except TextDecodeError:
        try:
            text = data.decode("cp1252")  # what spreadsheet programs on Windows export
        except UnicodeDecodeError:
            raise CohortTableError(["the file is not text (save it as CSV, UTF-8)"]) from None
    problem = control_character_problem(text)
    if problem is not None:
        raise CohortTableError([f"the file is not text: {problem} (save it as CSV, "
                                "UTF-8)"])
    return text


def _rows(text: str) -> list[list[str]]:
    sample = text[:4096]
    delimiter = ","
    if sample.count(";") > sample.count(",") and sample.count(";") > sample.count("\t"):
        delimiter = ";"
    elif sample.count("\t") > sample.count(","):
        delimiter = "\t"
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error as error:
        raise CohortTableError([f"not a readable CSV file ({error})"]) from None
    return rows


def _matches(header: str, words: tuple[str, ...]) -> bool:
    name = header.strip().lower()
    return any(word in name for word in words)


def parse_cohort_table(data: bytes) -> CohortTable:
    """Read a cohort table from CSV bytes; raise CohortTableError naming row and column.

    Long layout: a header with columns for the cohort, the months since first purchase and the
    customers still active (one row per cohort and month). Wide layout: a first column naming
    the cohort and one column per month since first purchase (headers 0, 1, 2, ...), one row per
    cohort, empty cells after a young cohort's last month. Rows are numbered as in a
    spreadsheet (the header is row 1).
    """
    rows = _rows(_decode(data))
    numbered = [(number, row) for number, row in enumerate(rows, start=1)
                if any(cell.strip() for cell in row)]
    if len(numbered) < 2:
        raise CohortTableError(["the file needs a header row and at least one row of data"])
    header = [cell.strip() for cell in numbered[0][1]]
    month_headers = [_month_header(cell) for cell in header[1:]]
    if len(header) >= 3 and all(m is not None for m in month_headers if m != -1) and any(
            m is not None and m >= 0 for m in month_headers):
        return _parse_wide(header, month_headers, numbered[1:])
    return _parse_long(header, numbered[1:])


def _month_header(cell: str) -> int | None:
    """Return the month of a wide-layout header ('0', 'month 3', 'M3'), -1 if empty, None if
    it names no month."""
    text = cell.strip().lower()
    if not text:
        return -1
    found = re.fullmatch(r"(?:months?|m|period|p)?\s*_?(\d{1,3})", text)
    return int(found.group(1)) if found else None


def _parse_wide(header: list[str], months: list[int | None],
                body: list[tuple[int, list[str]]]) -> CohortTable:
    problems: list[str] = []
    columns = [(index + 1, m) for index, m in enumerate(months) if m is not None and m >= 0]
    wanted = list(range(len(columns)))
    found = [m for _, m in columns]
    if found != wanted:
        problems.append(f"row 1: month columns must be 0, 1, 2, ... in order; found "
                        f"{', '.join(str(m) for m in found)}")
        raise CohortTableError(problems)
    if len(columns) - 1 > MAX_MONTHS:
        raise CohortTableError([f"row 1: at most {MAX_MONTHS} months are supported"])
    if len(body) > MAX_COHORTS:
        raise CohortTableError([f"at most {MAX_COHORTS} cohorts are supported, got {len(body)}"])
    labels, counts = [], []
    for number, row in body:
        label = row[0].strip() if row else ""
        values: list[float] = []
        ended_at: str | None = None
        for column, month in columns:
            cell = row[column] if column < len(row) else ""
            name = f"column '{header[column]}'"
            try:
                value = _number(cell)
            except ValueError:
                problems.append(f"row {number}, {name}: {cell.strip()!r} is not a number of "
                                "customers")
                break
            if value is None:
                ended_at = ended_at or name
                continue
            if ended_at is not None:
                problems.append(f"row {number}, {name}: a count after the empty cell in "
                                f"{ended_at} (only the last months of a young cohort may be "
                                "empty)")
                break
            problem = _count_problem(value, values, month)
            if problem:
                problems.append(f"row {number}, {name}: {problem}")
                break
            values.append(value)
        else:
            if len(values) < 2 and not problems:
                problems.append(f"row {number}: cohort {label or '(no name)'} needs its size "
                                "(month 0) and at least month 1")
        labels.append(label or f"row {number}")
        counts.append(np.asarray(values, dtype=float))
        if len(problems) >= 5:
            break
    if problems:
        raise CohortTableError(problems)
    return CohortTable(tuple(labels), tuple(counts), "wide")


def _count_problem(value: float, earlier: list[float], month: int) -> str:
    """Return what is wrong with one active count given the cohort's earlier ones ('' if
    nothing)."""
    if value < 0:
        return f"{value:g} is negative; counts of customers are 0 or more"
    if month == 0 and value <= 0:
        return "the cohort size (month 0) must be more than 0"
    if earlier and value > earlier[-1] + 1e-9 * max(earlier[0], 1.0):
        return (f"{value:g} customers is more than the {earlier[-1]:g} active a month earlier "
                "(customers still active can only fall; count each customer in their first "
                "purchase month's cohort)")
    return ""


def _parse_long(header: list[str], body: list[tuple[int, list[str]]]) -> CohortTable:
    def column(words: tuple[str, ...], taken: set[int]) -> int | None:
        for index, name in enumerate(header):
            if index not in taken and _matches(name, words):
                return index
        return None

    month_col = column(_MONTH_WORDS, set())
    active_col = column(_ACTIVE_WORDS, {month_col} if month_col is not None else set())
    cohort_col = column(_COHORT_WORDS, {c for c in (month_col, active_col) if c is not None})
    if len(header) == 3 and None in (month_col, active_col, cohort_col):
        # Unnamed or differently named columns: take them in the documented order.
        cohort_col, month_col, active_col = 0, 1, 2
    missing = [what for what, col in (("cohort", cohort_col),
                                       ("months since first purchase", month_col),
                                       ("customers still active", active_col)) if col is None]
    if missing:
        raise CohortTableError([
            f"row 1: no column for {', '.join(missing)}. Use a header such as 'cohort, "
            "months_since_first_purchase, active_customers' (long layout), or a first column "
            "naming the cohort and one column per month 0, 1, 2, ... (wide layout)"])
    if cohort_col is None or month_col is None or active_col is None:  # for the type checker
        raise CohortTableError(["row 1: the header names too few columns"])
    if len(body) > MAX_COHORTS * (MAX_MONTHS + 1):
        raise CohortTableError([f"the table has {len(body):,} rows; at most "
                                f"{MAX_COHORTS * (MAX_MONTHS + 1):,} are supported"])
    problems: list[str] = []
    cohorts: dict[str, dict[int, tuple[float, int]]] = {}
    for number, row in body:
        def cell(col: int, row: list[str] = row) -> str:
            return row[col].strip() if col < len(row) else ""

        label = cell(cohort_col)
        if not label:
            problems.append(f"row {number}, column '{header[cohort_col]}': the cohort is empty")
            continue
        month_text = cell(month_col)
        try:
            month_value = _number(month_text)
        except ValueError:
            month_value = float("nan")
        if month_value is None or not (month_value >= 0 and float(month_value).is_integer()
                                       and month_value <= MAX_MONTHS):
            problems.append(f"row {number}, column '{header[month_col]}': {month_text!r} is not "
                            f"a whole number of months from 0 to {MAX_MONTHS}")
            continue
        active_text = cell(active_col)
        try:
            active = _number(active_text)
        except ValueError:
            active = None
            active_text = active_text or ""
        if active is None:
            problems.append(f"row {number}, column '{header[active_col]}': {active_text!r} is "
                            "not a number of customers")
            continue
        if active < 0:
            problems.append(f"row {number}, column '{header[active_col]}': {active:g} is "
                            "negative; counts of customers are 0 or more")
            continue
        months = cohorts.setdefault(label, {})
        month = int(month_value)
        if month in months:
            problems.append(f"row {number}, column '{header[month_col]}': cohort {label} has "
                            f"month {month} twice (also on row {months[month][1]})")
            continue
        months[month] = (active, number)
        if len(problems) >= 5:
            break
    if len(cohorts) > MAX_COHORTS:
        problems.append(f"at most {MAX_COHORTS} cohorts are supported, got {len(cohorts)}")
    if not problems:
        for label, months in cohorts.items():
            problem = _check_cohort(label, months, header[month_col], header[active_col])
            if problem:
                problems.append(problem)
            if len(problems) >= 5:
                break
    if problems:
        raise CohortTableError(problems[:5])
    labels = tuple(cohorts)
    counts = tuple(np.asarray([cohorts[label][m][0] for m in sorted(cohorts[label])])
                   for label in labels)
    return CohortTable(labels, counts, "long")


def _check_cohort(label: str, months: dict[int, tuple[float, int]], month_name: str,
                  active_name: str) -> str:
    """Return the first problem of one long-layout cohort ('' when it is usable)."""
    ordered = sorted(months)
    if ordered[0] != 0:
        row = months[ordered[0]][1]
        return (f"row {row}, column '{month_name}': cohort {label} starts at month "
                f"{ordered[0]}; it needs month 0 (the cohort size)")
    for previous, month in itertools.pairwise(ordered):
        if month != previous + 1:
            row = months[month][1]
            return (f"row {row}, column '{month_name}': cohort {label} jumps from month "
                    f"{previous} to {month}; every month in between is needed")
    if len(ordered) < 2:
        row = months[0][1]
        return (f"row {row}: cohort {label} has only month 0; it needs at least month 1 as "
                "well")
    earlier: list[float] = []
    for month in ordered:
        value, row = months[month]
        problem = _count_problem(value, earlier, month)
        if problem:
            return f"row {row}, column '{active_name}': {problem}"
        earlier.append(value)
    return ""


@dataclass(frozen=True)
class CohortFit:
    """An sBG fit of a cohort table with the observed survival it was fitted to.

    observed: share of all cohorts' customers still active k months after first purchase
    (pooled over the cohorts observed that long), k = 0..months; fit.fitted_survival is the
    model's S(k) over the same months.
    """

    table: CohortTable
    fit: SbgFit
    observed: np.ndarray
    cohorts_observed: np.ndarray


def fit_cohort_table(table: CohortTable) -> CohortFit:
    """Fit the shifted-beta-geometric model to a cohort table (maximum likelihood)."""
    fit = fit_sbg([list(c) for c in table.counts])
    months = table.months
    active = np.zeros(months + 1)
    size = np.zeros(months + 1)
    observed_cohorts = np.zeros(months + 1)
    for counts in table.counts:
        length = len(counts)
        active[:length] += counts
        size[:length] += counts[0]
        observed_cohorts[:length] += 1
    return CohortFit(table, fit, active / size, observed_cohorts)


def read_and_fit(data: bytes) -> CohortFit:
    """Parse CSV bytes and fit the sBG model; CohortTableError for a table that cannot be used
    (including one the model cannot fit)."""
    table = parse_cohort_table(data)
    try:
        return fit_cohort_table(table)
    except ValueError as error:
        raise CohortTableError([f"the table could not be fitted: {error}"]) from None
