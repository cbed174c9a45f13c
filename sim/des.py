"""Individual customers, their returns and the returns desk, for one set of inputs.

The monthly engine (`sim.engine`) follows average flows. This model follows people: leads arrive
and convert, each customer orders, may return an order at a day inside the guarantee window, and
churns; each return becomes a claim that queues at a returns desk staffed by `agents`. It answers
what averages cannot: the daily refund cash flow, how long claims wait (P50 / P95), how many
agents a target wait needs, how orders spread over customers and how much revenue comes from the
loyal ones.

How one run works (`run_des`)
-----------------------------
Time runs in days; a month is `DAYS_PER_MONTH` = 30 days (the engine's guarantee arithmetic uses
the same 30). Each month follows the model's equations (sim/funnel.py, docs/model.md) on whole
people instead of expected flows:

1. Reach: new leads ``L ~ Binomial(U, 1 - exp(-engagement * I / U))``, ``I`` impressions.
2. Conversion: new customers ``N ~ Binomial(W, p)`` with the engine's ``p`` (warm spend per lead,
   guarantee conversion factor).
3. Retention: every customer active at the start of the month (all but this month's new ones)
   orders again with probability ``q``, where ``q`` and ``e = exp(-b / spend_scale)`` use the
   spend per active customer ``b``.
4. Orders happen at a uniform random day inside the month. Each order is returned with
   probability ``rho``. A return at the reference rate (the share ``min(rho, rho_ref) / rho``)
   comes early: at ``window * Beta(1, 3)`` days after the order (mean a quarter of the window),
   ``window = min(days, reference_days)``. The extra returns of a guarantee longer than the
   reference (``rho - rho_ref``) come uniformly between ``reference_days`` and ``days`` after the
   order.
5. Churn: each customer leaves with probability ``c_k (u + (1 - u) e)`` at tenure ``k``;
   survivors age by a month. Leads: ``N`` leave the pool, a ``Binomial`` share decays, ``L`` join.

Customers are records in NumPy arrays (tenure, alive, orders, revenue), updated month by month:
what a customer does depends only on the month's spend and their own tenure, never on the desk,
so it needs no event calendar. The claims are where people interact - they queue for the same
agents - so the desk is the SimPy part: a `simpy.Resource` with `agents` servers, claims served
first come, first served, each taking a random service time (exponential by default). The desk
clock runs in hours around the clock: `agents` is the number of claims handled at once, not a
head count on office hours.

Refunds are paid when an agent finishes the claim. Claims filed after the horizon, or still
queued at its end, are the open guarantee liability. Refunds of orders placed before month 0 are
not modelled (as in the engine), so the desk starts empty.

Large populations: weights
--------------------------
When the expected number of customers over the horizon (starting customers plus the expected new
customers of the lead funnel) exceeds `max_customers`, each customer is simulated with probability
``f = max_customers / expected`` and carries the weight ``1 / f``: counts, revenue and the
orders-per-customer table are weighted sums, so totals stay unbiased. The lead funnel (prospects,
leads, conversions) is always simulated in full - it is three integers a month.

The shipped baseline (about 31,000 customers over 36 months, 2,500 claims) runs unweighted in
about 0.1 s. The desk's cost grows with the claims (about 30 microseconds each in SimPy), so a
business with a million claims takes about half a minute whatever the sample.

The desk cannot be weighted: waits depend on the real arrival rate. So each returned order of a
sampled customer files ``floor(1/f)`` or ``ceil(1/f)`` claims (chosen at random so the mean is
``1/f``): the first at its own day, the others as stand-ins for the unsampled customers of the
same month, each with a fresh order day inside that month and a fresh return delay of the same
kind. The desk therefore sees a full-rate claim stream with the right timing, and refunds are
summed from it without weights. With ``f = 1`` every claim is a real customer's claim.

Queue theory for the desk lives in `sim.queueing` (Erlang C); `simulate_desk` is validated
against it in tests/unit/test_des_queue.py.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass

import numpy as np
import simpy

from sim import funnel
from sim.inputs import Inputs, as_inputs
from sim.queueing import agents_for_target_wait

DAYS_PER_MONTH = 30
HOURS_PER_DAY = 24.0
#: Customers simulated one by one before sampling starts (~0.3 s of the run at this size).
DEFAULT_MAX_CUSTOMERS = 200_000


# --------------------------------------------------------------------------------------------
# The returns desk (SimPy)
# --------------------------------------------------------------------------------------------


def simulate_desk(
    arrival_times: np.ndarray,
    service_times: np.ndarray,
    agents: int | None,
) -> np.ndarray:
    """Return each claim's wait in the queue before an agent picks it up (same time unit as input).

    Claims arrive at `arrival_times` and take `service_times` (one per claim, any order); the desk
    is a `simpy.Resource` with `agents` servers, first come first served. Run to the last claim,
    so every wait is complete. `agents` None is an unlimited desk: nobody waits.
    """
    arrivals = np.asarray(arrival_times, dtype=float)
    services = np.asarray(service_times, dtype=float)
    if arrivals.shape != services.shape or arrivals.ndim != 1:
        raise ValueError("arrival_times and service_times must be 1-D arrays of the same length")
    if agents is None:
        return np.zeros(arrivals.size)
    if int(agents) != agents or agents < 1:
        raise ValueError(f"agents must be a whole number >= 1 or None, got {agents}")
    waits = np.empty(arrivals.size)
    env = simpy.Environment()
    desk = simpy.Resource(env, capacity=int(agents))
    order = np.argsort(arrivals, kind="stable")

    def claim(index: int, arrived: float, service: float) -> Generator[simpy.Event]:
        with desk.request() as turn:
            yield turn
            waits[index] = env.now - arrived
            yield env.timeout(service)

    def arrivals_process() -> Generator[simpy.Event]:
        for index, arrived, service in zip(
            order.tolist(), arrivals[order].tolist(), services[order].tolist(), strict=True
        ):
            if arrived > env.now:
                yield env.timeout(arrived - env.now)
            env.process(claim(index, arrived, service))

    env.process(arrivals_process())
    env.run()
    return waits


def time_average_count(
    starts: np.ndarray, ends: np.ndarray, window_start: float, window_end: float
) -> float:
    """Return the time-average number of intervals ``[start, end)`` open during the window.

    With the intervals a claim spends waiting this is the mean queue length; with the intervals it
    spends with an agent, the mean number of busy agents.
    """
    if not window_end > window_start:
        raise ValueError("window_end must be after window_start")
    overlap = np.clip(np.minimum(ends, window_end) - np.maximum(starts, window_start), 0.0, None)
    return float(overlap.sum() / (window_end - window_start))


def _wait_statistic(waits: np.ndarray, quantile: float | None) -> float:
    if waits.size == 0:
        return 0.0
    return float(waits.mean() if quantile is None else np.quantile(waits, quantile))


def agents_needed_simulated(
    arrival_times: np.ndarray,
    service_times: np.ndarray,
    target_wait: float,
    quantile: float | None = 0.95,
) -> int:
    """Return the fewest agents for which the desk meets `target_wait` on these very claims.

    The claims (arrival and service times) stay fixed and only the number of agents varies, so
    the answer carries no extra noise. `quantile` 0.95 targets the 95th percentile of the wait;
    None targets the mean wait. Units as in `simulate_desk`. Relies on no claim waiting longer
    when agents are added (true first come, first served), so the search may bisect.
    """
    if not target_wait > 0 or not math.isfinite(target_wait):
        raise ValueError(f"target_wait must be a finite number > 0, got {target_wait}")
    if quantile is not None and not 0.0 < quantile < 1.0:
        raise ValueError(f"quantile must lie strictly between 0 and 1 or be None, got {quantile}")
    arrivals = np.asarray(arrival_times, dtype=float)
    services = np.asarray(service_times, dtype=float)
    if arrivals.size == 0 or not services.any():
        return 1  # no work: nobody waits

    def meets(agents: int) -> bool:
        return _wait_statistic(simulate_desk(arrivals, services, agents), quantile) <= target_wait

    # Start from Erlang C at the run's average rates; then bracket by doubling steps and bisect.
    span = max(float(arrivals.max() - arrivals.min()), float(services.mean()))
    guess = agents_for_target_wait(
        arrivals.size / span, 1.0 / float(services.mean()), target_wait, quantile)
    step = 1
    if meets(guess):
        enough, not_enough = guess, guess - 1
        while not_enough >= 1 and meets(not_enough):
            enough, not_enough = not_enough, max(0, not_enough - step)
            step *= 2
    else:
        not_enough, enough = guess, guess + 1
        while not meets(enough):
            not_enough, enough = enough, enough + step
            step *= 2
    while enough - not_enough > 1:
        middle = (enough + not_enough) // 2
        if meets(middle):
            enough = middle
        else:
            not_enough = middle
    return enough


# --------------------------------------------------------------------------------------------
# One run of the customer model
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DesResult:
    """What one run of the individual-customer model gives; money in currency, counts in people.

    Monthly arrays have one value per month of the horizon (weighted, so they estimate the whole
    population); `daily_refunds` one per day (30-day months). Waits are in hours.
    """

    horizon_months: int
    agents: int | None
    seed: int
    customer_weight: float  # each simulated customer stands for this many (1 = no sampling)
    simulated_customers: int
    monthly_gross_revenue: np.ndarray
    monthly_refunds: np.ndarray  # refunds paid in the month (when the desk finishes the claim)
    monthly_active_customers: np.ndarray  # customers active after the month's churn
    monthly_new_customers: np.ndarray
    monthly_churned: np.ndarray
    monthly_repeat_orders: np.ndarray
    monthly_claims: np.ndarray  # claims filed in the month
    daily_refunds: np.ndarray
    open_guarantee_liability: float  # refunds for horizon orders not paid by the horizon's end
    claims: int  # claims filed within the horizon (the desk's workload)
    wait_hours_mean: float
    wait_hours_p50: float
    wait_hours_p95: float
    desk_busy_agents_mean: float  # time-average number of agents handling a claim
    desk_utilisation: float  # busy agents / agents; nan for an unlimited desk
    orders_per_customer: np.ndarray  # [n] = customers with n orders within the horizon
    revenue_share_three_plus_orders: float  # of horizon gross revenue
    claim_arrival_hours: np.ndarray  # the desk's claims (filed within the horizon), hours from 0
    claim_service_hours: np.ndarray

    def agents_needed(self, target_wait_hours: float, quantile: float | None = 0.95) -> int:
        """Return the fewest agents that keep this run's claims within `target_wait_hours`.

        Re-runs the desk on the same claims (`agents_needed_simulated`); `quantile` None targets
        the mean wait, 0.95 the 95th percentile.
        """
        return agents_needed_simulated(
            self.claim_arrival_hours, self.claim_service_hours, target_wait_hours, quantile
        )


def _conversion(x: Inputs, warm_spend: float, warm_leads: float) -> float:
    """Share of warm leads who buy this month (sim/funnel.py `conversion_rate`)."""
    reached, _ = funnel.spend_response(warm_spend / max(warm_leads, 1.0), x.warm.spend_scale)
    factor = funnel.guarantee_conversion_factor(
        x.guarantee.days, x.guarantee.reference_days, x.guarantee.conversion_elasticity)
    return float(funnel.conversion_rate(reached, x.warm.conversion_no_spend, x.warm.conversion_max,
                                        factor))


def _reach_probability(x: Inputs, cold_spend: float, prospects: float) -> float:
    """Share of prospects who become leads this month (sim/funnel.py `reach_share`)."""
    impressions = funnel.impressions_bought(cold_spend, x.cold.cost_per_thousand)
    return float(funnel.reach_share(x.cold.engagement_rate, impressions, prospects))


def _spends(x: Inputs, month: int) -> tuple[float, float, float]:
    budget = funnel.budget_for_month(x.budget.monthly, x.budget.growth_monthly, month)
    split = x.budget.split
    return budget * split.cold, budget * split.warm, budget * split.hot


def expected_new_customers(inputs: Mapping[str, float], horizon_months: int) -> np.ndarray:
    """Return the expected new customers per month of the lead funnel (engine equations 1, 2, 5).

    Conversions depend only on prospects, leads and spend, not on existing customers, so this is
    the exact expectation of the engine's ``N``; used to size the customer sample.
    """
    x = as_inputs(inputs)
    prospects = float(x.market.prospects)
    warm = float(x.market.warm_start)
    decay = float(x.cold.lead_decay_monthly)
    new = np.zeros(horizon_months)
    for month in range(horizon_months):
        cold_spend, warm_spend, _ = _spends(x, month)
        leads = prospects * _reach_probability(x, cold_spend, prospects)
        new[month] = warm * _conversion(x, warm_spend, warm)
        warm = (warm - new[month]) * (1.0 - decay) + leads
        prospects -= leads
    return new


def _return_delays(rng: np.random.Generator, extra: np.ndarray, x: Inputs) -> np.ndarray:
    """Days from order to claim: early in the reference window, or spread over the added days."""
    days = float(x.guarantee.days)
    reference = float(x.guarantee.reference_days)
    window = min(days, reference)
    # Beta(1, 3) = 1 - U^(1/3): most reference-rate returns come in the first days.
    early = window * (1.0 - rng.random(extra.size) ** (1.0 / 3.0))
    late = reference + (days - reference) * rng.random(extra.size)
    return np.where(extra, late, early)


def _service_hours(rng: np.random.Generator, n: int, mean: float, cv: float) -> np.ndarray:
    if cv == 0.0:
        return np.full(n, mean)
    shape = 1.0 / cv**2  # gamma with this shape has the given coefficient of variation
    return rng.gamma(shape, mean / shape, n)


def _stochastic_round(rng: np.random.Generator, values: np.ndarray) -> np.ndarray:
    whole = np.floor(values)
    return (whole + (rng.random(values.shape) < values - whole)).astype(np.int64)


def run_des(
    inputs: Mapping[str, float],
    horizon_months: int,
    agents: int | None,
    service_hours_mean: float,
    seed: int,
    max_customers: int = DEFAULT_MAX_CUSTOMERS,
    progress: Callable[[float], None] | None = None,
    service_hours_cv: float = 1.0,
) -> DesResult:
    """Simulate individual customers and the returns desk for one set of inputs; see the module doc.

    `inputs` holds one number per scenario field, keyed by dotted path as in
    `sim.distributions.point_inputs` (one trial of `sample_inputs` works too). `agents` None is
    an unlimited desk. Service times have mean `service_hours_mean` hours and coefficient of
    variation `service_hours_cv` (1 = exponential, 0 = fixed). `progress`, if given, is called
    with the share done (0..1). A top-level function of plain arguments: it can be submitted to a
    `concurrent.futures.ProcessPoolExecutor` as is (leave `progress` None there).
    """
    if int(horizon_months) != horizon_months or horizon_months < 1:
        raise ValueError(f"horizon_months must be a whole number >= 1, got {horizon_months}")
    if not service_hours_mean > 0:
        raise ValueError(f"service_hours_mean must be > 0, got {service_hours_mean}")
    if not service_hours_cv >= 0:
        raise ValueError(f"service_hours_cv must be >= 0, got {service_hours_cv}")
    if max_customers < 1:
        raise ValueError(f"max_customers must be >= 1, got {max_customers}")
    horizon_months = int(horizon_months)
    x = as_inputs(inputs)
    rng = np.random.default_rng(seed)
    horizon_days = horizon_months * DAYS_PER_MONTH

    customers_start = round(float(x.market.customers_start))
    expected_customers = customers_start + float(
        expected_new_customers(x, horizon_months).sum())
    sample_share = min(1.0, max_customers / expected_customers) if expected_customers > 0 else 1.0
    weight = 1.0 / sample_share

    first_value = float(x.orders.first_value)
    repeat_value = float(x.orders.repeat_value)
    decay = float(x.cold.lead_decay_monthly)
    guarantee = x.guarantee
    rho_ref = float(guarantee.return_rate_at_reference)
    rho = float(funnel.return_rate(guarantee.days, guarantee.reference_days, rho_ref,
                                   guarantee.return_elasticity))
    churn = x.churn
    # Only a guarantee longer than the reference has added days for extra claims (as the engine).
    longer = guarantee.days > guarantee.reference_days
    extra_share = (rho - rho_ref) / rho if longer and rho > rho_ref else 0.0

    # Customer records (grown by a cohort each month).
    start_sampled = int(rng.binomial(customers_start, sample_share))
    tenure = np.full(start_sampled, round(float(x.market.customers_start_tenure)), np.int64)
    alive = np.ones(start_sampled, dtype=bool)
    orders = np.zeros(start_sampled, dtype=np.int64)
    revenue = np.zeros(start_sampled)

    prospects = round(float(x.market.prospects))
    warm = round(float(x.market.warm_start))

    monthly = {name: np.zeros(horizon_months) for name in
               ("gross_revenue", "active", "new", "churned", "repeat_orders")}
    # Returned orders of sampled customers: month, day, value, whether an extra (late) return.
    returned: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    for month in range(horizon_months):
        cold_spend, warm_spend, hot_spend = _spends(x, month)
        leads = int(rng.binomial(prospects, _reach_probability(x, cold_spend, prospects)))
        new = int(rng.binomial(warm, _conversion(x, warm_spend, warm)))

        # Retention: spend per customer active at the month's start (weighted to the population).
        active_before = weight * alive.sum()
        spend_per_customer = hot_spend / max(active_before, 1.0)
        reached, gap_left = funnel.spend_response(spend_per_customer, x.hot.spend_scale)
        q = funnel.repeat_rate(reached, x.hot.repeat_no_spend, x.hot.repeat_max)
        repeats = alive & (rng.random(tenure.size) < q)

        # New customers join with their first order.
        new_sampled = int(rng.binomial(new, sample_share))
        tenure = np.concatenate([tenure, np.zeros(new_sampled, np.int64)])
        alive = np.concatenate([alive, np.ones(new_sampled, dtype=bool)])
        orders = np.concatenate([orders, np.zeros(new_sampled, np.int64)])
        revenue = np.concatenate([revenue, np.zeros(new_sampled)])
        repeats = np.concatenate([repeats, np.zeros(new_sampled, dtype=bool)])
        is_new = np.zeros(tenure.size, dtype=bool)
        is_new[tenure.size - new_sampled:] = True

        buyers = np.flatnonzero(repeats | is_new)
        values = np.where(is_new[buyers], first_value, repeat_value)
        orders[buyers] += 1
        revenue[buyers] += values
        is_returned = rng.random(buyers.size) < rho
        n_returned = int(is_returned.sum())
        returned.append((
            np.full(n_returned, month),
            month * DAYS_PER_MONTH + DAYS_PER_MONTH * rng.random(n_returned),
            values[is_returned],
            rng.random(n_returned) < extra_share,
        ))

        # Churn after the month's orders; survivors age by a month.
        churn_share = churn.base(tenure) * funnel.churn_multiplier(
            gap_left, x.hot.churn_unpreventable)
        leaving = alive & (rng.random(tenure.size) < churn_share)
        alive &= ~leaving
        tenure[alive] += 1

        leads_lost = int(rng.binomial(warm - new, decay))
        warm = warm - new - leads_lost + leads
        prospects -= leads

        monthly["gross_revenue"][month] = weight * values.sum()
        monthly["active"][month] = weight * alive.sum()
        monthly["new"][month] = new
        monthly["churned"][month] = weight * leaving.sum()
        monthly["repeat_orders"][month] = weight * repeats.sum()
        if progress is not None:
            progress(0.8 * (month + 1) / horizon_months)

    # Full-rate claim stream: each sampled return files 1/f claims on average (module doc).
    months, order_days, returned_values, extra = (
        np.concatenate(parts) for parts in zip(*returned, strict=True)
    )
    copies = _stochastic_round(rng, np.full(months.size, weight))
    owner = np.repeat(np.arange(months.size), copies)
    first_copy = np.zeros(owner.size, dtype=bool)
    first_copy[(np.cumsum(copies) - copies)[copies > 0]] = True
    # Stand-in claims get a fresh order day within the same month.
    stand_in_days = months[owner] * DAYS_PER_MONTH + DAYS_PER_MONTH * rng.random(owner.size)
    claim_order_days = np.where(first_copy, order_days[owner], stand_in_days)
    claim_days = claim_order_days + _return_delays(rng, extra[owner], x)
    claim_values = returned_values[owner]

    within = claim_days < horizon_days
    arrival_hours = claim_days[within] * HOURS_PER_DAY
    service_hours = _service_hours(rng, arrival_hours.size, service_hours_mean, service_hours_cv)
    waits = simulate_desk(arrival_hours, service_hours, agents)
    paid_days = (arrival_hours + waits + service_hours) / HOURS_PER_DAY
    paid_in_horizon = paid_days < horizon_days

    values_within = claim_values[within]
    daily_refunds = np.bincount(
        paid_days[paid_in_horizon].astype(np.int64),
        weights=values_within[paid_in_horizon],
        minlength=horizon_days,
    )
    open_liability = float(claim_values.sum() - daily_refunds.sum())
    monthly_claims = np.bincount(
        (claim_days[within] // DAYS_PER_MONTH).astype(np.int64), minlength=horizon_months
    ).astype(float)

    horizon_hours = horizon_days * HOURS_PER_DAY
    if arrival_hours.size:
        started = arrival_hours + waits
        busy = time_average_count(started, started + service_hours, 0.0, horizon_hours)
    else:
        busy = 0.0
    total_revenue = float(revenue.sum())
    loyal_revenue = float(revenue[orders >= 3].sum())
    if progress is not None:
        progress(1.0)

    return DesResult(
        horizon_months=horizon_months,
        agents=agents,
        seed=seed,
        customer_weight=weight,
        simulated_customers=int(tenure.size),
        monthly_gross_revenue=monthly["gross_revenue"],
        monthly_refunds=daily_refunds.reshape(horizon_months, DAYS_PER_MONTH).sum(axis=1),
        monthly_active_customers=monthly["active"],
        monthly_new_customers=monthly["new"],
        monthly_churned=monthly["churned"],
        monthly_repeat_orders=monthly["repeat_orders"],
        monthly_claims=monthly_claims,
        daily_refunds=daily_refunds,
        open_guarantee_liability=open_liability,
        claims=int(arrival_hours.size),
        wait_hours_mean=_wait_statistic(waits, None),
        wait_hours_p50=_wait_statistic(waits, 0.5),
        wait_hours_p95=_wait_statistic(waits, 0.95),
        desk_busy_agents_mean=busy,
        desk_utilisation=busy / agents if agents else math.nan,
        orders_per_customer=weight * np.bincount(orders).astype(float),
        revenue_share_three_plus_orders=loyal_revenue / total_revenue if total_revenue > 0 else 0.0,
        claim_arrival_hours=arrival_hours,
        claim_service_hours=service_hours,
    )
