"""The monthly funnel, vectorised over all trials at once (DESIGN.md, "The engine").

Each month, in this order: reach (cold spend buys impressions that turn prospects into leads),
conversion (warm spend per lead lifts the share of leads who buy), retention spend (hot spend
per customer lifts repeat orders and lowers preventable churn), orders and returns (refunds now,
and the extra refunds of a longer guarantee spread over the following months), and the move
(new customers join, customers churn, leads decay). State is kept per acquisition cohort rather
than per tenure bucket, so nothing has to be shifted: cohort j has tenure t - j in month t.

All arrays run over trials; Python loops run only over months (and chunks of trials, which
bound memory at 200,000 trials). `flows: random` draws the same flows as binomials on whole
customers and leads.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from sim.distributions import sample_inputs, stream
from sim.scenario import Scenario, variant_scenario, without_variants

#: Trials simulated together; bounds memory at large trial counts.
CHUNK_TRIALS = 20_000
#: Per-trial monthly series are kept for at most this many trials (the first ones), which is
#: plenty for P10-P90 bands and keeps memory bounded at 200,000 trials.
MONTHLY_TRIALS_KEPT = 10_000
#: Months summed for CLV and customer equity beyond the horizon (at least this many).
CLV_MONTHS = 240
#: Months of the early repeat rate window.
EARLY_REPEAT_MONTHS = 3

METRIC_NAMES: tuple[str, ...] = (
    "net_revenue", "gross_revenue", "profit", "npv", "new_customers", "cac",
    "active_customers_end", "repeat_revenue_share", "leaky_bucket_ratio", "early_repeat_rate",
    "clv_new_customer", "customer_equity_end", "ltv_to_cac", "payback_month",
    "open_guarantee_liability", "marketing_spend", "churned_customers", "refunds",
)
MONTHLY_NAMES: tuple[str, ...] = (
    "gross_revenue", "refunds", "net_revenue", "profit", "new_customers", "active_customers",
    "churned", "repeat_orders", "spend", "leads", "open_liability",
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
    inputs: Mapping[str, np.ndarray] = field(repr=False, default_factory=dict)


def simulate(
    scenario: Scenario,
    *,
    trials: int | None = None,
    seed: int | None = None,
    horizon: int | None = None,
    inputs: Mapping[str, np.ndarray] | None = None,
    progress: Callable[[float], None] | None = None,
) -> SimResult:
    """Run the monthly funnel for every trial and return per-trial metrics and monthly series.

    `inputs` (as from `sample_inputs`, possibly with arrays replaced) skips sampling; its arrays
    define the trial count. Same scenario, seed and trials give identical numbers.
    """
    seed = scenario.simulation.seed if seed is None else int(seed)
    horizon = scenario.simulation.horizon_months if horizon is None else int(horizon)
    if inputs is None:
        trials = scenario.simulation.trials if trials is None else int(trials)
        inputs = sample_inputs(scenario, trials, seed)
    else:
        trials = len(next(iter(inputs.values())))
    random_flows = scenario.simulation.flows == "random"
    kept = min(trials, MONTHLY_TRIALS_KEPT)
    metrics = {name: np.empty(trials) for name in METRIC_NAMES}
    monthly = {name: np.empty((kept, horizon)) for name in MONTHLY_NAMES}
    for start in range(0, trials, CHUNK_TRIALS):
        stop = min(trials, start + CHUNK_TRIALS)
        part = {path: np.asarray(values[start:stop], dtype=float)
                for path, values in inputs.items()}
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
    return SimResult(metrics, monthly, trials, seed, horizon, inputs)


def _binomial(rng: np.random.Generator, count: np.ndarray, probability: np.ndarray) -> np.ndarray:
    whole = np.maximum(np.rint(count), 0).astype(np.int64)
    return rng.binomial(whole, np.clip(probability, 0.0, 1.0)).astype(float)


def _safe_ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, NaN where the denominator is 0 (undefined, not infinite)."""
    out = np.full(np.shape(numerator), np.nan)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def _run_chunk(
    x: Mapping[str, np.ndarray],
    horizon: int,
    rng: np.random.Generator | None,
    progress: Callable[[float], None],
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    n = len(x["budget.monthly"])
    months = horizon
    monthly_discount = (1.0 + x["finance.discount_rate_annual"]) ** (1.0 / 12.0) - 1.0

    # Base churn by tenure: constant, or shifted-beta-geometric alpha / (alpha + beta + k).
    sbg = "hot.churn.sbg.alpha" in x
    if sbg:
        alpha, beta = x["hot.churn.sbg.alpha"], x["hot.churn.sbg.beta"]

        def base_churn(tenure: np.ndarray) -> np.ndarray:
            return alpha[:, None] / (alpha[:, None] + beta[:, None] + tenure[None, :])
    else:
        churn_monthly = x["hot.churn.monthly"]

        def base_churn(tenure: np.ndarray) -> np.ndarray:
            return np.broadcast_to(churn_monthly[:, None], (n, len(tenure)))

    unpreventable = x["hot.churn_unpreventable"]
    q0, qmax = x["hot.repeat_no_spend"], x["hot.repeat_max"]
    p0, pmax = x["warm.conversion_no_spend"], x["warm.conversion_max"]
    first_value, repeat_value = x["orders.first_value"], x["orders.repeat_value"]
    margin = x["orders.gross_margin"]
    handling, resale = x["guarantee.handling_cost"], x["guarantee.resale_share"]

    # Guarantee: return rate and conversion multiplier from the length relative to reference.
    length_ratio = x["guarantee.days"] / x["guarantee.reference_days"]
    conversion_multiplier = length_ratio ** x["guarantee.conversion_elasticity"]
    rho_ref = x["guarantee.return_rate_at_reference"]
    return_rate = np.minimum(1.0, rho_ref * length_ratio ** x["guarantee.return_elasticity"])
    late_months = np.ceil((x["guarantee.days"] - x["guarantee.reference_days"]) / 30.0)
    has_late = (late_months >= 1) & (return_rate > rho_ref)
    return_now = np.where(has_late, np.minimum(return_rate, rho_ref), return_rate)
    return_late = np.where(has_late, return_rate - return_now, 0.0)
    late_months = np.where(has_late, late_months, 1.0).astype(np.int64)
    max_late = int(late_months.max()) if has_late.any() else 0
    late_spread = (np.arange(max(max_late, 1))[None, :] < late_months[:, None]) / late_months[
        :, None]
    late_refund_value = np.zeros((n, months + max_late + 1))
    late_refund_count = np.zeros((n, months + max_late + 1))

    # State.
    prospects = x["market.prospects"].copy()
    warm = x["market.warm_start"].copy()
    # Column 0: starting customers; column j + 1: acquired in month j. Column-major so that
    # the slice of cohorts alive so far is one contiguous block.
    cohorts = np.zeros((n, months + 1), order="F")
    cohorts[:, 0] = x["market.customers_start"]
    if rng is not None:
        prospects, warm = np.rint(prospects), np.rint(warm)
        cohorts[:, 0] = np.rint(cohorts[:, 0])
    start_tenure = x["market.customers_start_tenure"]
    active = cohorts[:, 0].copy()
    open_liability = np.zeros(n)
    early_pending: dict[int, np.ndarray] = {}  # cohort -> alive and not yet repeated
    early_repeated = np.zeros(n)
    early_cohort_size = np.zeros(n)
    early_all_repeated = np.zeros(n)
    early_all_size = np.zeros(n)

    series = {name: np.empty((n, months)) for name in MONTHLY_NAMES}
    discount = np.ones(n)
    totals = {name: np.zeros(n) for name in (
        "gross", "refunds", "profit", "npv", "new", "spend", "acq_spend", "churned",
        "repeat_revenue")}

    for t in range(months):
        budget = x["budget.monthly"] * (1.0 + x["budget.growth_monthly"]) ** t
        spend_cold = x["budget.split.cold"] * budget
        spend_warm = x["budget.split.warm"] * budget
        spend_hot = x["budget.split.hot"] * budget

        # 1. Reach.
        impressions = spend_cold / x["cold.cost_per_thousand"] * 1000.0
        reach_share = np.where(
            prospects > 0,
            -np.expm1(-x["cold.engagement_rate"] * impressions / np.maximum(prospects, 1e-12)),
            0.0)
        leads = _binomial(rng, prospects, reach_share) if rng else prospects * reach_share

        # 2. Conversion.
        spend_per_lead = spend_warm / np.maximum(warm, 1.0)
        conversion = np.minimum(1.0, (p0 + (pmax - p0) * -np.expm1(
            -spend_per_lead / x["warm.spend_scale"])) * conversion_multiplier)
        new = _binomial(rng, warm, conversion) if rng else warm * conversion

        # 3. Retention spend.
        spend_per_customer = spend_hot / np.maximum(active, 1.0)
        saturation = np.exp(-spend_per_customer / x["hot.spend_scale"])
        repeat_rate = q0 + (qmax - q0) * (1.0 - saturation)
        repeats = _binomial(rng, active, repeat_rate) if rng else active * repeat_rate

        # 4. Orders and returns.
        gross = new * first_value + repeats * repeat_value
        orders = new + repeats
        if rng is not None:
            returned_orders = _binomial(rng, orders, return_rate)
            returned_share = _safe_ratio(returned_orders, orders * return_rate)
            returned_share = np.nan_to_num(returned_share, nan=0.0)
        else:
            returned_share = np.ones(n)
        refund_now = return_now * gross * returned_share
        count_now = return_now * orders * returned_share
        late_value = return_late * gross * returned_share
        late_count = return_late * orders * returned_share
        if max_late:
            late_refund_value[:, t + 1: t + 1 + max_late] += late_value[:, None] * late_spread
            late_refund_count[:, t + 1: t + 1 + max_late] += late_count[:, None] * late_spread
        refunds = refund_now + late_refund_value[:, t]
        returned = count_now + late_refund_count[:, t]
        open_liability += late_value - late_refund_value[:, t]
        cost_of_goods = (1.0 - margin) * gross
        profit = (gross - refunds - cost_of_goods + resale * (1.0 - margin) * refunds
                  - handling * returned - budget)

        # Early repeat: cohorts in the first months after acquisition.
        for cohort, pending in list(early_pending.items()):
            ordered = pending * repeat_rate
            early_repeated_now = ordered
            early_all_repeated += early_repeated_now
            if cohort + EARLY_REPEAT_MONTHS < months:
                early_repeated += early_repeated_now
            early_pending[cohort] = pending - ordered

        # 5. Move: new cohort joins, churn by tenure, leads decay.
        cohorts[:, t + 1] = new
        preventable = unpreventable + (1.0 - unpreventable) * saturation
        living = cohorts[:, : t + 2]
        if sbg or rng is not None:
            # Column 0 holds the starting customers; column j + 1 has tenure t - j.
            tenure = np.concatenate(([0.0], np.arange(t, -1, -1, dtype=float)))
            churn_share = np.array(base_churn(tenure))
            if sbg:
                churn_share[:, 0] = alpha / (alpha + beta + start_tenure + t)
            churn_share *= preventable[:, None]
            if rng is not None:
                churned = _binomial(rng, living, churn_share)
            else:
                churned = living * churn_share
            living -= churned
            churned_total = churned.sum(axis=1)

            def cohort_churn(column: int, churn_share: np.ndarray = churn_share) -> np.ndarray:
                return churn_share[:, column]
        else:
            # Constant churn: one share for every cohort, no per-cohort matrix needed.
            share = churn_monthly * preventable
            living *= (1.0 - share)[:, None]
            churned_total = (active + new) * share

            def cohort_churn(column: int, share: np.ndarray = share) -> np.ndarray:
                return share
        active_after = active + new - churned_total
        for cohort in list(early_pending):
            if t - cohort >= EARLY_REPEAT_MONTHS:
                del early_pending[cohort]
            else:
                early_pending[cohort] = early_pending[cohort] * (1.0 - cohort_churn(cohort + 1))
        early_pending[t] = new * (1.0 - cohort_churn(t + 1))
        early_all_size += new
        if t + EARLY_REPEAT_MONTHS < months:
            early_cohort_size += new

        if rng is not None:
            warm = _binomial(rng, warm - new, 1.0 - x["cold.lead_decay_monthly"]) + leads
        else:
            warm = (warm - new) * (1.0 - x["cold.lead_decay_monthly"]) + leads
        prospects = prospects - leads
        active = active_after

        discount = discount / (1.0 + monthly_discount)
        totals["gross"] += gross
        totals["refunds"] += refunds
        totals["profit"] += profit
        totals["npv"] += profit * discount
        totals["new"] += new
        totals["spend"] += budget
        totals["acq_spend"] += spend_cold + spend_warm
        totals["churned"] += churned_total
        totals["repeat_revenue"] += repeats * repeat_value
        for name, value in (
            ("gross_revenue", gross), ("refunds", refunds), ("net_revenue", gross - refunds),
            ("profit", profit), ("new_customers", new),
            ("active_customers", active_after), ("churned", churned_total),
            ("repeat_orders", repeats), ("spend", budget), ("leads", leads),
            ("open_liability", open_liability.copy()),
        ):
            series[name][:, t] = value
        progress((t + 1) / months)

    # Customer value from the last simulated month's rates (DESIGN.md, per-trial metrics).
    keep_rate = unpreventable + (1.0 - unpreventable) * saturation

    def per_order(value: np.ndarray) -> np.ndarray:
        # Contribution of one order after refunds, goods cost, resale and handling.
        return (value * ((1.0 - return_rate) - (1.0 - margin)
                         + return_rate * resale * (1.0 - margin)) - return_rate * handling)

    first_contribution = per_order(first_value)
    month_contribution = repeat_rate * per_order(repeat_value) - spend_per_customer
    values_at, retained_first = _customer_values(
        base_churn_fn=base_churn, sbg=sbg, alpha=alpha if sbg else None,
        beta=beta if sbg else None, keep_rate=keep_rate,
        month_contribution=month_contribution, monthly_discount=monthly_discount,
        start_tenure_end=start_tenure + months, cohort_tenures=np.arange(months, 0, -1), n=n)
    clv = first_contribution + retained_first * values_at["one"]
    equity = cohorts[:, 0] * values_at["start"] + (cohorts[:, 1:] * values_at["cohorts"]).sum(
        axis=1)
    cac = _safe_ratio(totals["acq_spend"], totals["new"])
    payback = _payback_month(base_churn, sbg, alpha if sbg else None, beta if sbg else None,
                             keep_rate, first_contribution, month_contribution, cac)

    metrics = {
        "net_revenue": totals["gross"] - totals["refunds"],
        "gross_revenue": totals["gross"],
        "profit": totals["profit"],
        "npv": totals["npv"],
        "new_customers": totals["new"],
        "cac": cac,
        "active_customers_end": active_after,
        "repeat_revenue_share": _safe_ratio(totals["repeat_revenue"], totals["gross"]),
        "leaky_bucket_ratio": _safe_ratio(totals["churned"], totals["new"]),
        "early_repeat_rate": np.where(
            early_cohort_size > 0, _safe_ratio(early_repeated, early_cohort_size),
            _safe_ratio(early_all_repeated, early_all_size)),
        "clv_new_customer": clv,
        "customer_equity_end": equity,
        "ltv_to_cac": _safe_ratio(clv, cac),
        "payback_month": payback,
        "open_guarantee_liability": open_liability,
        "marketing_spend": totals["spend"],
        "churned_customers": totals["churned"],
        "refunds": totals["refunds"],
    }
    return metrics, series


def _customer_values(
    *, base_churn_fn: Callable[[np.ndarray], np.ndarray], sbg: bool,
    alpha: np.ndarray | None, beta: np.ndarray | None, keep_rate: np.ndarray,
    month_contribution: np.ndarray, monthly_discount: np.ndarray,
    start_tenure_end: np.ndarray, cohort_tenures: np.ndarray, n: int,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Value of a customer alive at the start of a month with tenure k (that month's
    contribution counted, discounted to the end of the month), for the tenures needed.

    Returns ({"one": V(1), "start": V(start customers' tenure), "cohorts": V(each cohort's
    tenure) of shape (n, months)}, retention at tenure 0).
    """
    growth = 1.0 / (1.0 + monthly_discount)
    if not sbg:
        retention = 1.0 - base_churn_fn(np.zeros(1))[:, 0] * keep_rate
        # Geometric sum of CLV_MONTHS terms: contribution * sum_j (retention * growth)^j * growth
        ratio = retention * growth
        terms = np.where(np.abs(1.0 - ratio) < 1e-12, float(CLV_MONTHS),
                         (1.0 - ratio ** CLV_MONTHS) / np.where(ratio == 1.0, 0.5, 1.0 - ratio))
        value = month_contribution * growth * terms
        cohorts = np.broadcast_to(value[:, None], (n, len(cohort_tenures)))
        return {"one": value, "start": value, "cohorts": cohorts}, retention
    if alpha is None or beta is None:
        raise ValueError("sBG churn needs alpha and beta")
    top = int(max(start_tenure_end.max(), cohort_tenures.max(initial=1))) + CLV_MONTHS
    value = np.zeros(n)
    wanted_cohorts = np.zeros((n, len(cohort_tenures)))
    start_value = np.zeros(n)
    position = {int(k): i for i, k in enumerate(cohort_tenures)}
    start_whole = np.rint(start_tenure_end).astype(np.int64)
    for k in range(top, 0, -1):
        retention_k = 1.0 - alpha / (alpha + beta + k) * keep_rate
        value = growth * (month_contribution + retention_k * value)
        if k in position:
            wanted_cohorts[:, position[k]] = value
        hit = start_whole == k
        start_value = np.where(hit, value, start_value)
    # A new customer's value sums CLV_MONTHS months after acquisition (DESIGN.md), however long
    # the horizon or the starting customers' tenure that set `top` above.
    value_one = np.zeros(n)
    for k in range(CLV_MONTHS, 0, -1):
        retention_k = 1.0 - alpha / (alpha + beta + k) * keep_rate
        value_one = growth * (month_contribution + retention_k * value_one)
    retention_zero = 1.0 - alpha / (alpha + beta) * keep_rate
    return {"one": value_one, "start": start_value, "cohorts": wanted_cohorts}, retention_zero


def _payback_month(
    base_churn: Callable[[np.ndarray], np.ndarray], sbg: bool, alpha: np.ndarray | None,
    beta: np.ndarray | None, keep_rate: np.ndarray, first_contribution: np.ndarray,
    month_contribution: np.ndarray, cac: np.ndarray,
) -> np.ndarray:
    """Months after acquisition until a new customer's undiscounted contribution repays CAC
    (0 = the first order does); NaN when it never does within CLV_MONTHS or CAC is undefined."""
    n = len(first_contribution)
    cumulative = first_contribution.copy()
    survival = np.ones(n)
    payback = np.where(cumulative >= cac, 0.0, np.nan)
    tenures = np.arange(CLV_MONTHS, dtype=float)
    churn = base_churn(tenures) if not sbg else None
    for month in range(1, CLV_MONTHS + 1):
        k = month - 1
        base = churn[:, k] if churn is not None else alpha / (alpha + beta + k)
        survival = survival * (1.0 - base * keep_rate)
        cumulative = cumulative + survival * month_contribution
        payback = np.where(np.isnan(payback) & (cumulative >= cac), float(month), payback)
    return np.where(np.isnan(cac), np.nan, payback)


def monthly_discount_factor(annual_rate: float, month: int) -> float:
    """Return the discount factor of month `month`'s cash: (1 + i)^-(month + 1)."""
    rate = (1.0 + annual_rate) ** (1.0 / 12.0) - 1.0
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
