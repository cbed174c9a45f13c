"""Retention vs acquisition: how much of the budget should keep existing buyers.

Every question on the Retention page is answered on the same simulated futures (the draws of
`sample_inputs`), by replacing a few input arrays and running the engine again:

- the sweep moves the retention (hot) share from 0% to 80% of the budget, cold and warm keeping
  the scenario's own ratio; all shares are stacked along the trial axis (`sim.stacked`), so
  share s in trial i saw exactly the future of share s' in trial i;
- "the next $10,000 a month" adds it to acquisition (cold and warm in their ratio) or to
  retention (hot) and compares the two paired;
- "5 points more retention" lowers the monthly churn by 0.05 and reports the profit change
  beside the 25-95% that marketers usually quote;
- the Blattberg-Deighton textbook optimum is computed from the scenario's median inputs;
- cohort survival curves are rebuilt from the engine's monthly series with the model's churn
  rule (docs/model.md#the-move), and cohort tables (CSV) are parsed and fitted with the
  shifted-beta-geometric model.

Pure NumPy; no streamlit, no printing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from sim import funnel
from sim.analytics import (
    BDOptimum,
    monthly_discount_rate,
    optimal_spend_bd,
    order_contribution,
    response_k_from_point,
    sbg_survival,
)
from sim.distributions import point_inputs, sample_inputs
from sim.engine import METRIC_NAMES, SimResult, simulate
from sim.inputs import Inputs, as_inputs
from sim.metrics import CLEAR_WIN, Comparison, compare_paired
from sim.scenario import Scenario
from sim.stacked import StackedPart, run_stacked

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
                monthly: np.ndarray | None = None) -> Inputs:
    """Return a copy of the inputs with the split (and optionally the budget) replaced."""
    out = Inputs(inputs)
    trials = len(out.budget.monthly)
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
    """Run several input sets (same trials each) on the same futures (`sim.stacked`); return
    each one's per-trial metrics plus "long_run_value"."""
    horizon = scenario.simulation.horizon_months if horizon is None else int(horizon)

    def summarise(part: StackedPart) -> dict[str, np.ndarray]:
        metrics = {name: part.metrics[name] for name in METRIC_NAMES}
        metrics["long_run_value"] = _long_run_value(metrics, part.inputs, horizon)
        return metrics

    return run_stacked(scenario, variants, summarise, seed=seed, horizon=horizon,
                       progress=progress)


def _long_run_value(metrics: Mapping[str, np.ndarray], inputs: Inputs,
                    horizon: int) -> np.ndarray:
    """NPV of the horizon's profit plus the customers still active at the end, valued by the
    engine's customer equity and discounted back over the horizon ($ per trial)."""
    annual = inputs.finance.discount_rate_annual
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
    budget = inputs.budget.monthly
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
    spend_total = funnel.budget_for_month(
        extra, inputs.budget.growth_monthly[:, None], np.arange(horizon)[None, :]).sum(axis=1)
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
                              points: float = RETENTION_POINTS) -> Inputs:
    """Return the inputs with monthly churn lowered by `points` (never below 0).

    Constant churn: hot.churn.monthly - points. sBG churn (falling with tenure): beta is raised
    so that a new customer's first-month churn alpha / (alpha + beta) is `points` lower (at
    least 0.001); later months' churn falls by less, keeping the curve's shape.
    """
    x = as_inputs(inputs)
    churn = x.churn
    if isinstance(churn, funnel.SbgChurn):
        lowered = np.maximum(churn.base(0) - points, 1e-3)
        return x.replaced({"hot.churn.sbg.beta": churn.alpha * (1.0 - lowered) / lowered})
    return x.replaced({"hot.churn.monthly": np.maximum(churn.churn_monthly - points, 0.0)})


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


def _base_churn_monthly(x: Inputs) -> tuple[float, str]:
    """Return a constant monthly churn for the textbook (sBG: the one that keeps the same
    share of a cohort after 12 months) and how it was found."""
    churn = x.churn
    if isinstance(churn, funnel.SbgChurn):
        survival = float(sbg_survival(churn.alpha, churn.beta, 12)[-1])
        constant = 1.0 - survival ** (1.0 / 12.0)
        return constant, (f"constant churn {constant:.1%} a month keeps the same {survival:.0%} "
                          "of a cohort after 12 months as the sBG curve")
    return churn.churn_monthly, "the scenario's median monthly churn"


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
    g = x.guarantee
    conversion_multiplier = funnel.guarantee_conversion_factor(
        g.days, g.reference_days, g.conversion_elasticity)
    p0, pmax = x.warm.conversion_no_spend, x.warm.conversion_max
    warm_scale, hot_scale = x.warm.spend_scale, x.hot.spend_scale

    def conversion(response: tuple[float, float]) -> float:
        return float(funnel.conversion_rate(response[0], p0, pmax, conversion_multiplier))

    # The response curves' ceilings (all reached, no gap left) and their points at
    # spend = spend scale.
    a_ceiling = conversion((1.0, 0.0))
    a_at_scale = conversion(funnel.spend_response(warm_scale, warm_scale))
    churn, churn_note = _base_churn_monthly(x)
    unpreventable = x.hot.churn_unpreventable

    def retention(response: tuple[float, float]) -> float:
        return 1.0 - churn * funnel.churn_multiplier(response[1], unpreventable)

    r_ceiling = retention((1.0, 0.0))
    r_at_scale = retention(funnel.spend_response(hot_scale, hot_scale))
    budget = x.budget.monthly
    acquisition_now = split.warm * budget / max(x.market.warm_start, 1.0)
    retention_now = split.hot * budget / max(x.market.customers_start, 1.0)
    response_now = funnel.spend_response(retention_now, hot_scale)
    q_now = funnel.repeat_rate(response_now[0], x.hot.repeat_no_spend, x.hot.repeat_max)
    rho = float(funnel.return_rate(g.days, g.reference_days, g.return_rate_at_reference,
                                   g.return_elasticity))
    per_order = order_contribution(x.orders.repeat_value, rho, x.orders.gross_margin,
                                   g.resale_share, g.handling_cost)
    margin = q_now * per_order
    discount = monthly_discount_rate(x.finance.discount_rate_annual)
    rate_now = conversion(funnel.spend_response(acquisition_now, warm_scale))
    retention_rate_now = retention(response_now)
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
        customers_start=x.market.customers_start, warm_leads_start=x.market.warm_start,
        budget_monthly=budget, notes=notes)
    optimum = optimal_spend_bd(inputs.a_ceiling, inputs.k_a, inputs.r_ceiling, inputs.k_r,
                               inputs.margin, inputs.discount)
    return BDTextbook(inputs, optimum)


# --------------------------------------------------------------------------------------------
# Cohorts in the simulation


def cohort_survival(result: SimResult, acquired_month: int) -> np.ndarray:
    """Return the share of the cohort acquired in `acquired_month` (0-based) still active
    k months later, k = 0..horizon - acquired_month - 1, per kept trial (trials, months).

    Rebuilt from the monthly series with the model's rule (docs/model.md#the-move): at tenure k
    the cohort loses c_k x (u + (1 - u) x e_t), e_t = exp(-hot spend per customer /
    hot.spend_scale) of month t. With random flows this is the expected survival.
    """
    active = result.monthly["active_customers"]
    kept, horizon = active.shape
    x = as_inputs(result.inputs).rows(slice(0, kept))
    if not 0 <= acquired_month < horizon:
        raise ValueError(f"acquired_month must be 0..{horizon - 1}, got {acquired_month}")
    start = np.concatenate([x.market.customers_start[:, None], active[:, :-1]], axis=1)
    spend_hot = x.budget.split.hot[:, None] * result.monthly["spend"]
    _, gap_left = funnel.spend_response(spend_hot / np.maximum(start, 1.0),
                                        x.hot.spend_scale[:, None])
    multiplier = funnel.churn_multiplier(gap_left, x.hot.churn_unpreventable[:, None])
    months = horizon - acquired_month
    tenure = np.arange(months, dtype=float)
    base = x.churn.column().base(tenure[None, :])
    staying = 1.0 - base * multiplier[:, acquired_month:]
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


# The cohort table parser moved to sim/cohorts.py; its names stay importable from here for now.
from sim.cohorts import (  # noqa: E402, F401
    MAX_COHORTS,
    MAX_MONTHS,
    MAX_TABLE_BYTES,
    CohortFit,
    CohortTable,
    CohortTableError,
    fit_cohort_table,
    parse_cohort_table,
    read_and_fit,
)
