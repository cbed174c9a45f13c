"""The monthly funnel, vectorised over all trials at once (docs/model.md).

Each month, in this order: reach (cold spend buys impressions that turn prospects into leads),
conversion (warm spend per lead lifts the share of leads who buy), retention spend (hot spend
per customer lifts repeat orders and lowers preventable churn), orders and returns (refunds now,
and the extra refunds of a longer guarantee spread over the following months), and the move
(new customers join, customers churn, leads decay). State is kept per acquisition cohort rather
than per tenure bucket, so nothing has to be shifted: cohort j has tenure t - j in month t.

All arrays run over trials; Python loops run only over months (and chunks of trials, which
bound memory at 200,000 trials). `flows: random` draws the same flows as binomials on whole
customers and leads. Every equation comes from sim/funnel.py; this module only orders the steps
and keeps the books: rates fixed for the run are computed before the month loop (`_rates`),
the state carried between months is one `_FunnelState`, and each step of the month is one
function (`_reach`, `_conversion`, `_retention_spend`, `_orders_and_returns`, `_move`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field

import numpy as np

from sim import funnel
from sim.customer_value import CLV_MONTHS as CLV_MONTHS  # public: the engine API names it
from sim.customer_value import customer_values, payback_month
from sim.dispatch import Engine, choose_engine
from sim.distributions import sample_inputs, stream
from sim.funnel import ChurnModel, SbgChurn
from sim.inputs import Inputs, as_inputs
from sim.scenario import Scenario, variant_scenario, without_variants

#: Trials simulated together; bounds memory at large trial counts.
CHUNK_TRIALS = 20_000
#: Per-trial monthly series are kept for at most this many trials (the first ones), which is
#: plenty for P10-P90 bands and keeps memory bounded at 200,000 trials.
MONTHLY_TRIALS_KEPT = 10_000
#: Months of the early repeat rate window.
EARLY_REPEAT_MONTHS = 3

METRIC_NAMES: tuple[str, ...] = (
    "net_revenue", "gross_revenue", "profit", "npv", "new_customers", "cac",
    "active_customers_end", "repeat_revenue_share", "leaky_bucket_ratio", "early_repeat_rate",
    "clv_new_customer", "customer_equity_end", "ltv_to_cac", "payback_month",
    "open_guarantee_liability", "marketing_spend", "churned_customers", "refunds",
    "open_guarantee_returns", "net_revenue_in_horizon", "profit_in_horizon",
)
MONTHLY_NAMES: tuple[str, ...] = (
    "gross_revenue", "refunds", "net_revenue", "profit", "new_customers", "active_customers",
    "churned", "repeat_orders", "spend", "leads", "open_liability", "open_returns",
)


@dataclass(frozen=True)
class SimResult:
    """Result of one scenario run.

    metrics: per-trial totals over the horizon, each an array of shape (trials,); money in the
    scenario's currency, counts in customers, rates as shares, payback in months.
    monthly: per-month series of shape (kept trials, horizon) for the first
    min(trials, MONTHLY_TRIALS_KEPT) trials.
    """

    metrics: dict[str, np.ndarray]
    monthly: dict[str, np.ndarray]
    trials: int
    seed: int
    horizon: int
    inputs: Inputs = field(repr=False, default_factory=lambda: Inputs({}))


def simulate(
    scenario: Scenario,
    *,
    trials: int | None = None,
    seed: int | None = None,
    horizon: int | None = None,
    inputs: Mapping[str, np.ndarray] | None = None,
    progress: Callable[[float], None] | None = None,
    engine: Engine = "auto",
    metrics: Collection[str] | None = None,
    keep_monthly: int | None = None,
) -> SimResult:
    """Run the monthly funnel for every trial and return per-trial metrics and monthly series.

    `inputs` (as from `sample_inputs`, possibly with arrays replaced) skips sampling; its arrays
    define the trial count. Same scenario, seed and trials give identical numbers. `engine`:
    this NumPy engine or the compiled one (`sim.dispatch.choose_engine` decides for "auto").
    `metrics`: the result holds only these (names from METRIC_NAMES; default all), which lets
    the compiled engine skip work no asked metric needs. `keep_monthly`: the monthly series are
    kept for the first min(trials, keep_monthly) trials (default MONTHLY_TRIALS_KEPT; 0 keeps
    none, for a caller that reads none).
    """
    wanted = None if metrics is None else checked_metric_names(metrics)
    keep = MONTHLY_TRIALS_KEPT if keep_monthly is None else int(keep_monthly)
    if choose_engine(scenario, engine) == "compiled":
        from sim.compiled import simulate_compiled  # imports this module

        return simulate_compiled(scenario, trials=trials, seed=seed, horizon=horizon,
                                 inputs=None if inputs is None else as_inputs(inputs),
                                 progress=progress, metrics=wanted, keep_monthly=keep)
    seed = scenario.simulation.seed if seed is None else int(seed)
    horizon = scenario.simulation.horizon_months if horizon is None else int(horizon)
    if inputs is None:
        trials = scenario.simulation.trials if trials is None else int(trials)
        inputs = sample_inputs(scenario, trials, seed)
    else:
        inputs = as_inputs(inputs)
        trials = len(next(iter(inputs.values())))
    random_flows = scenario.simulation.flows == "random"
    kept = max(0, min(trials, keep))
    metrics = {name: np.empty(trials) for name in METRIC_NAMES}
    monthly = {name: np.empty((kept, horizon)) for name in MONTHLY_NAMES}
    for start in range(0, trials, CHUNK_TRIALS):
        stop = min(trials, start + CHUNK_TRIALS)
        part = Inputs({path: np.asarray(values[start:stop], dtype=float)
                       for path, values in inputs.items()})
        rng = stream(seed, f"flows/{start}") if random_flows else None

        def chunk_progress(fraction: float, start: int = start, stop: int = stop) -> None:
            if progress is not None:
                progress((start + fraction * (stop - start)) / trials)

        chunk_metrics, chunk_monthly = _run_chunk(part, horizon, rng, chunk_progress)
        for name in METRIC_NAMES:
            metrics[name][start:stop] = chunk_metrics[name]
        if start < kept:
            upto = min(stop, kept)
            for name in MONTHLY_NAMES:
                monthly[name][start:upto] = chunk_monthly[name][: upto - start]
    if wanted is not None:
        metrics = {name: metrics[name] for name in wanted}
    return SimResult(metrics, monthly, trials, seed, horizon, inputs)


def checked_metric_names(names: Collection[str]) -> tuple[str, ...]:
    """The asked metric names in METRIC_NAMES order; ValueError naming the first unknown one."""
    unknown = [name for name in names if name not in METRIC_NAMES]
    if unknown:
        raise ValueError(f"unknown metric {unknown[0]!r}; the engine computes "
                         f"{', '.join(METRIC_NAMES)}")
    return tuple(name for name in METRIC_NAMES if name in names)


def _binomial(rng: np.random.Generator, count: np.ndarray, probability: np.ndarray) -> np.ndarray:
    whole = np.maximum(np.rint(count), 0).astype(np.int64)
    return rng.binomial(whole, np.clip(probability, 0.0, 1.0)).astype(float)


def _safe_ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, NaN where the denominator is 0 (undefined, not infinite)."""
    out = np.full(np.shape(numerator), np.nan)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


# --------------------------------------------------------------------------------------------
# Rates fixed for the run, and the state carried from month to month.


@dataclass(frozen=True)
class _Rates:
    """Per-trial rates that do not change from month to month, computed before the loop."""

    churn: ChurnModel  # base churn by tenure, one parameter per trial
    churn_by_cohort: ChurnModel  # the same with parameters as a column, for (trial, cohort)
    monthly_discount: np.ndarray
    conversion_factor: np.ndarray  # guarantee's factor on conversion
    return_rate: np.ndarray  # share of orders returned, all told
    return_now: np.ndarray  # share refunded in the month of the order
    return_late: np.ndarray  # share refunded in the following months (longer guarantee)
    late_spread: np.ndarray  # (trials, max_late): share of the late refunds in each month after
    max_late: int


def _rates(x: Inputs) -> _Rates:
    """Rates of the whole run (docs/model.md#orders-and-returns, #customer-value)."""
    g = x.guarantee
    rho_ref = g.return_rate_at_reference
    rho = funnel.return_rate(g.days, g.reference_days, rho_ref, g.return_elasticity)
    late_months = funnel.late_return_months(g.days, g.reference_days)
    # Returns above the reference rate come from the added days, after the month of the order.
    has_late = (late_months >= 1) & (rho > rho_ref)
    return_now = np.where(has_late, np.minimum(rho, rho_ref), rho)
    return_late = np.where(has_late, rho - return_now, 0.0)
    late_months = np.where(has_late, late_months, 1.0).astype(np.int64)
    max_late = int(late_months.max()) if has_late.any() else 0
    late_spread = (np.arange(max(max_late, 1))[None, :] < late_months[:, None]) / late_months[
        :, None]
    churn = x.churn
    return _Rates(
        churn=churn, churn_by_cohort=churn.column(),
        monthly_discount=funnel.monthly_discount_rate(x.finance.discount_rate_annual),
        conversion_factor=funnel.guarantee_conversion_factor(
            g.days, g.reference_days, g.conversion_elasticity),
        return_rate=rho, return_now=return_now, return_late=return_late,
        late_spread=late_spread, max_late=max_late)


@dataclass
class _EarlyRepeat:
    """Repeat orders of each cohort in its first EARLY_REPEAT_MONTHS months, for the early
    repeat rate; cohorts too young at the horizon count only when no cohort is old enough."""

    months: int
    pending: dict[int, np.ndarray]  # cohort -> alive and not yet repeated
    repeated: np.ndarray
    cohort_size: np.ndarray
    all_repeated: np.ndarray
    all_size: np.ndarray

    def order(self, repeat_rate: np.ndarray) -> None:
        """This month's first repeat orders of the young cohorts."""
        for cohort, pending in list(self.pending.items()):
            ordered = pending * repeat_rate
            self.all_repeated += ordered
            if cohort + EARLY_REPEAT_MONTHS < self.months:
                self.repeated += ordered
            self.pending[cohort] = pending - ordered

    def age(self, t: int, new: np.ndarray, cohort_churn: Callable[[int], np.ndarray]) -> None:
        """Churn the young cohorts, drop those past the window, add month t's new cohort."""
        for cohort in list(self.pending):
            if t - cohort >= EARLY_REPEAT_MONTHS:
                del self.pending[cohort]
            else:
                self.pending[cohort] = self.pending[cohort] * (1.0 - cohort_churn(cohort + 1))
        self.pending[t] = new * (1.0 - cohort_churn(t + 1))
        self.all_size += new
        if t + EARLY_REPEAT_MONTHS < self.months:
            self.cohort_size += new

    def rate(self) -> np.ndarray:
        """Share of new customers who ordered again within EARLY_REPEAT_MONTHS."""
        return np.where(self.cohort_size > 0, _safe_ratio(self.repeated, self.cohort_size),
                        _safe_ratio(self.all_repeated, self.all_size))


@dataclass
class _FunnelState:
    """Where every trial stands between months (counts of people, money owed)."""

    prospects: np.ndarray
    warm: np.ndarray  # warm leads
    # Column 0: starting customers; column j + 1: acquired in month j. Column-major so that
    # the slice of cohorts alive so far is one contiguous block.
    cohorts: np.ndarray
    active: np.ndarray
    open_liability: np.ndarray  # refunds of past orders still to be paid ($)
    open_returns: np.ndarray  # returned orders of past orders whose refund is still to be paid
    late_refund_value: np.ndarray  # (trials, month): refunds falling due in each month
    late_refund_count: np.ndarray
    early: _EarlyRepeat
    # The last simulated month's retention rates: customer value holds them after the horizon.
    last_retention: _Retention | None = None


def _start_state(x: Inputs, rates: _Rates, months: int, whole: bool) -> _FunnelState:
    """The state at month 0; `whole` (random flows) rounds people to whole numbers."""
    n = len(x.budget.monthly)
    prospects = x.market.prospects.copy()
    warm = x.market.warm_start.copy()
    cohorts = np.zeros((n, months + 1), order="F")
    cohorts[:, 0] = x.market.customers_start
    if whole:
        prospects, warm = np.rint(prospects), np.rint(warm)
        cohorts[:, 0] = np.rint(cohorts[:, 0])
    owed = months + rates.max_late + 1
    return _FunnelState(
        prospects=prospects, warm=warm, cohorts=cohorts, active=cohorts[:, 0].copy(),
        open_liability=np.zeros(n), open_returns=np.zeros(n), late_refund_value=np.zeros((n, owed)),
        late_refund_count=np.zeros((n, owed)),
        early=_EarlyRepeat(months, {}, np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)))


# --------------------------------------------------------------------------------------------
# The month's steps, in order.


@dataclass(frozen=True)
class _Retention:
    """The retention spend step's rates: also what customer value is computed from."""

    spend_per_customer: np.ndarray
    gap_left: np.ndarray
    repeat_rate: np.ndarray
    repeats: np.ndarray


@dataclass(frozen=True)
class _Month:
    """One month's flows (per trial)."""

    budget: np.ndarray
    acquisition_spend: np.ndarray
    leads: np.ndarray
    new: np.ndarray
    retention: _Retention
    gross: np.ndarray
    refunds: np.ndarray
    profit: np.ndarray
    churned: np.ndarray


def _reach(x: Inputs, state: _FunnelState, spend_cold: np.ndarray,
           rng: np.random.Generator | None) -> np.ndarray:
    """1. Reach: cold spend buys impressions that turn prospects into leads
    (docs/model.md#reach). Returns the new warm leads of the month."""
    impressions = funnel.impressions_bought(spend_cold, x.cold.cost_per_thousand)
    share = funnel.reach_share(x.cold.engagement_rate, impressions, state.prospects)
    return _binomial(rng, state.prospects, share) if rng else state.prospects * share


def _conversion(x: Inputs, rates: _Rates, state: _FunnelState, spend_warm: np.ndarray,
                rng: np.random.Generator | None) -> np.ndarray:
    """2. Conversion: warm spend per lead lifts the share of leads who buy
    (docs/model.md#conversion). Returns the new customers of the month."""
    reached, _ = funnel.spend_response(spend_warm / np.maximum(state.warm, 1.0),
                                       x.warm.spend_scale)
    rate = funnel.conversion_rate(reached, x.warm.conversion_no_spend, x.warm.conversion_max,
                                  rates.conversion_factor)
    return _binomial(rng, state.warm, rate) if rng else state.warm * rate


def _retention_spend(x: Inputs, state: _FunnelState, spend_hot: np.ndarray,
                     rng: np.random.Generator | None) -> _Retention:
    """3. Retention spend: hot spend per customer lifts repeat orders (and, in the move,
    lowers preventable churn) (docs/model.md#retention-spend)."""
    spend_per_customer = spend_hot / np.maximum(state.active, 1.0)
    reached, gap = funnel.spend_response(spend_per_customer, x.hot.spend_scale)
    rate = funnel.repeat_rate(reached, x.hot.repeat_no_spend, x.hot.repeat_max)
    repeats = _binomial(rng, state.active, rate) if rng else state.active * rate
    return _Retention(spend_per_customer, gap, rate, repeats)


def _orders_and_returns(
    x: Inputs, rates: _Rates, state: _FunnelState, t: int, new: np.ndarray,
    repeats: np.ndarray, budget: np.ndarray, rng: np.random.Generator | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """4. Orders and returns: refunds now, the extra refunds of a longer guarantee spread over
    the following months (docs/model.md#orders-and-returns). Returns (gross revenue, refunds
    paid, profit) of month t, in currency."""
    gross = new * x.orders.first_value + repeats * x.orders.repeat_value
    orders = new + repeats
    if rng is not None:
        returned_orders = _binomial(rng, orders, rates.return_rate)
        returned_share = _safe_ratio(returned_orders, orders * rates.return_rate)
        returned_share = np.nan_to_num(returned_share, nan=0.0)
    else:
        returned_share = np.ones(len(gross))
    refund_now = rates.return_now * gross * returned_share
    count_now = rates.return_now * orders * returned_share
    late_value = rates.return_late * gross * returned_share
    late_count = rates.return_late * orders * returned_share
    if rates.max_late:
        ahead = slice(t + 1, t + 1 + rates.max_late)
        state.late_refund_value[:, ahead] += late_value[:, None] * rates.late_spread
        state.late_refund_count[:, ahead] += late_count[:, None] * rates.late_spread
    refunds = refund_now + state.late_refund_value[:, t]
    returned = count_now + state.late_refund_count[:, t]
    state.open_liability += late_value - state.late_refund_value[:, t]
    state.open_returns += late_count - state.late_refund_count[:, t]
    margin = x.orders.gross_margin
    cost_of_goods = (1.0 - margin) * gross
    profit = (gross - refunds - cost_of_goods + x.guarantee.resale_share * (1.0 - margin) * refunds
              - x.guarantee.handling_cost * returned - budget)
    return gross, refunds, profit


def _move(x: Inputs, rates: _Rates, state: _FunnelState, t: int, new: np.ndarray,
          leads: np.ndarray, gap_left: np.ndarray, rng: np.random.Generator | None
          ) -> np.ndarray:
    """5. The move: the new cohort joins, customers churn by tenure, leads decay
    (docs/model.md#the-move). Returns the customers churned in month t."""
    state.cohorts[:, t + 1] = new
    multiplier = funnel.churn_multiplier(gap_left, x.hot.churn_unpreventable)
    living = state.cohorts[:, : t + 2]
    if isinstance(rates.churn, SbgChurn) or rng is not None:
        # Column 0 holds the starting customers; column j + 1 has tenure t - j.
        tenure = np.concatenate(([0.0], np.arange(t, -1, -1, dtype=float)))
        churn_share = np.array(rates.churn_by_cohort.base(tenure[None, :]))
        if isinstance(rates.churn, SbgChurn):
            churn_share[:, 0] = rates.churn.base(x.market.customers_start_tenure + t)
        churn_share *= multiplier[:, None]
        churned = _binomial(rng, living, churn_share) if rng is not None else living * churn_share
        living -= churned
        churned_total = churned.sum(axis=1)

        def cohort_churn(column: int) -> np.ndarray:
            return churn_share[:, column]
    else:
        # Constant churn: one share for every cohort, no per-cohort matrix needed.
        share = rates.churn.base(0) * multiplier
        living *= (1.0 - share)[:, None]
        churned_total = (state.active + new) * share

        def cohort_churn(column: int) -> np.ndarray:
            return share
    state.early.age(t, new, cohort_churn)
    decay = x.cold.lead_decay_monthly
    if rng is not None:
        state.warm = _binomial(rng, state.warm - new, 1.0 - decay) + leads
    else:
        state.warm = (state.warm - new) * (1.0 - decay) + leads
    state.prospects = state.prospects - leads
    state.active = state.active + new - churned_total
    return churned_total


def _month(x: Inputs, rates: _Rates, state: _FunnelState, t: int,
           rng: np.random.Generator | None) -> _Month:
    """Month t: reach, conversion, retention spend, orders and returns, the move."""
    budget = funnel.budget_for_month(x.budget.monthly, x.budget.growth_monthly, t)
    split = x.budget.split
    spend_cold, spend_warm, spend_hot = split.cold * budget, split.warm * budget, split.hot * budget
    leads = _reach(x, state, spend_cold, rng)
    new = _conversion(x, rates, state, spend_warm, rng)
    retention = _retention_spend(x, state, spend_hot, rng)
    gross, refunds, profit = _orders_and_returns(x, rates, state, t, new, retention.repeats,
                                                 budget, rng)
    state.early.order(retention.repeat_rate)
    churned = _move(x, rates, state, t, new, leads, retention.gap_left, rng)
    state.last_retention = retention
    return _Month(budget, spend_cold + spend_warm, leads, new, retention, gross, refunds, profit,
                  churned)


# --------------------------------------------------------------------------------------------
# A chunk of trials: the month loop, then the per-trial metrics.


@dataclass
class _Totals:
    """Sums over the horizon (per trial); `discount` is the current month's discount factor."""

    gross: np.ndarray
    refunds: np.ndarray
    profit: np.ndarray
    npv: np.ndarray
    new: np.ndarray
    spend: np.ndarray
    acquisition_spend: np.ndarray
    churned: np.ndarray
    repeat_revenue: np.ndarray
    discount: np.ndarray

    @classmethod
    def zeros(cls, n: int) -> _Totals:
        return cls(*(np.zeros(n) for _ in range(9)), discount=np.ones(n))

    def add(self, month: _Month, monthly_discount: np.ndarray, repeat_value: np.ndarray) -> None:
        self.discount = self.discount / (1.0 + monthly_discount)
        self.gross += month.gross
        self.refunds += month.refunds
        self.profit += month.profit
        self.npv += month.profit * self.discount
        self.new += month.new
        self.spend += month.budget
        self.acquisition_spend += month.acquisition_spend
        self.churned += month.churned
        self.repeat_revenue += month.retention.repeats * repeat_value


def _run_chunk(
    x: Inputs,
    horizon: int,
    rng: np.random.Generator | None,
    progress: Callable[[float], None],
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Simulate one chunk of trials month by month; return (metrics, monthly series)."""
    n = len(x.budget.monthly)
    rates = _rates(x)
    state = _start_state(x, rates, horizon, whole=rng is not None)
    totals = _Totals.zeros(n)
    series = {name: np.empty((n, horizon)) for name in MONTHLY_NAMES}
    for t in range(horizon):
        month = _month(x, rates, state, t, rng)
        totals.add(month, rates.monthly_discount, x.orders.repeat_value)
        for name, value in (
            ("gross_revenue", month.gross), ("refunds", month.refunds),
            ("net_revenue", month.gross - month.refunds), ("profit", month.profit),
            ("new_customers", month.new), ("active_customers", state.active),
            ("churned", month.churned), ("repeat_orders", month.retention.repeats),
            ("spend", month.budget), ("leads", month.leads),
            ("open_liability", state.open_liability), ("open_returns", state.open_returns),
        ):
            series[name][:, t] = value
        progress((t + 1) / horizon)
    if state.last_retention is None:
        raise ValueError(f"the horizon must be at least 1 month, got {horizon}")
    return _metrics(x, rates, state, totals, state.last_retention, horizon), series


def _metrics(x: Inputs, rates: _Rates, state: _FunnelState, totals: _Totals,
             last: _Retention, months: int) -> dict[str, np.ndarray]:
    """Per-trial metrics; customer value from the last simulated month's retention rates
    (`last`), held from then on (docs/model.md#customer-value, #metrics)."""
    keep_rate = funnel.churn_multiplier(last.gap_left, x.hot.churn_unpreventable)

    def per_order(value: np.ndarray) -> np.ndarray:
        return funnel.order_contribution(value, rates.return_rate, x.orders.gross_margin,
                                         x.guarantee.resale_share, x.guarantee.handling_cost)

    first_contribution = per_order(x.orders.first_value)
    month_contribution = last.repeat_rate * per_order(x.orders.repeat_value) - (
        last.spend_per_customer)
    values_at, retained_first = customer_values(
        churn=rates.churn, keep_rate=keep_rate, month_contribution=month_contribution,
        monthly_discount=rates.monthly_discount,
        start_tenure_end=x.market.customers_start_tenure + months,
        cohort_tenures=np.arange(months, 0, -1))
    clv = first_contribution + retained_first * values_at["one"]
    cohorts = state.cohorts
    equity = cohorts[:, 0] * values_at["start"] + (cohorts[:, 1:] * values_at["cohorts"]).sum(
        axis=1)
    cac = _safe_ratio(totals.acquisition_spend, totals.new)
    payback = payback_month(rates.churn, keep_rate, first_contribution, month_contribution, cac)
    # Refunds still owed at the horizon count in the decision metrics
    # (docs/model.md#refunds-owed-at-the-horizon); totals.discount is the horizon's last factor.
    owed_cost = funnel.owed_refunds_cost(state.open_liability, state.open_returns,
                                         x.orders.gross_margin, x.guarantee.resale_share,
                                         x.guarantee.handling_cost)
    net_revenue_in_horizon = totals.gross - totals.refunds
    return {
        "net_revenue": net_revenue_in_horizon - state.open_liability,
        "gross_revenue": totals.gross,
        "profit": totals.profit - owed_cost,
        "npv": totals.npv - owed_cost * totals.discount,
        "new_customers": totals.new,
        "cac": cac,
        "active_customers_end": state.active,
        "repeat_revenue_share": _safe_ratio(totals.repeat_revenue, totals.gross),
        "leaky_bucket_ratio": _safe_ratio(totals.churned, totals.new),
        "early_repeat_rate": state.early.rate(),
        "clv_new_customer": clv,
        "customer_equity_end": equity,
        "ltv_to_cac": _safe_ratio(clv, cac),
        "payback_month": payback,
        "open_guarantee_liability": state.open_liability,
        "marketing_spend": totals.spend,
        "churned_customers": totals.churned,
        "refunds": totals.refunds,
        "open_guarantee_returns": state.open_returns,
        "net_revenue_in_horizon": net_revenue_in_horizon,
        "profit_in_horizon": totals.profit,
    }


def monthly_discount_factor(annual_rate: float, month: int) -> float:
    """Return the discount factor of month `month`'s cash: (1 + i)^-(month + 1)."""
    rate = funnel.monthly_discount_rate(annual_rate)
    return math.pow(1.0 + rate, -(month + 1))


BASE_LABEL = "Base plan"


def plan_scenarios(scenario: Scenario, variants: list[str] | None = None) -> dict[str, Scenario]:
    """Return the base plan and the named variants (all by default) as runnable scenarios,
    keyed by label: BASE_LABEL for the base, the variant's name for each variant."""
    names = scenario.variant_names() if variants is None else variants
    plans = {BASE_LABEL: without_variants(scenario)}
    for name in names:
        plans[name] = variant_scenario(scenario, name)
    return plans


def simulate_plans(
    plans: Mapping[str, Scenario],
    *,
    trials: int | None = None,
    seed: int | None = None,
    horizon: int | None = None,
    progress: Callable[[float], None] | None = None,
) -> dict[str, SimResult]:
    """Run several plans on the same futures (same seed and trials: common random numbers).

    Seed, trials and horizon default to the first plan's own settings, so every plan is run
    with identical ones. Returns label -> SimResult in the order given.
    """
    first = next(iter(plans.values()))
    trials = first.simulation.trials if trials is None else trials
    seed = first.simulation.seed if seed is None else seed
    horizon = first.simulation.horizon_months if horizon is None else horizon
    results: dict[str, SimResult] = {}
    count = len(plans)
    for index, (label, plan) in enumerate(plans.items()):

        def plan_progress(fraction: float, index: int = index) -> None:
            if progress is not None:
                progress((index + fraction) / count)

        results[label] = simulate(plan, trials=trials, seed=seed, horizon=horizon,
                                  progress=plan_progress)
    return results
