"""The monthly funnel compiled with Numba: one trial's whole history per loop, trials in parallel.

Same model as `sim.engine` (docs/model.md, "The engine"), which stays the reference this module
is tested against (tests/unit/test_compiled.py): same inputs (the dict of arrays from
`sim.distributions.sample_inputs`, keyed by dotted path), same metrics and monthly series, same
chunks of `CHUNK_TRIALS` trials and the same kept series (`MONTHLY_TRIALS_KEPT`).

Why it is faster: the NumPy engine walks the months in Python and touches every array of the
chunk in every step; here each trial runs its 60 months with its state in a few local numbers
(the cohorts in one small array), compiled to machine code, and `prange` spreads the trials
over the cores. sBG churn by tenure is tabulated once per trial instead of once per month.

Expected flows give the NumPy engine's numbers: the same equations in the same order, so the
results agree to rounding (1e-12 relative; only sums over cohorts may round differently).

Random flows are identical in distribution, not draw for draw. The NumPy engine draws its
binomials from ``stream(seed, f"flows/{start}")`` for a whole chunk at once; a parallel loop
cannot reproduce that Generator's sequence. Here that same named stream gives one 32-bit seed
per trial, and each trial draws its binomials (same flows, same order, same whole-customer
counts) from Numba's generator seeded with it. So a run is reproducible from (seed, trials)
whatever the number of threads, and the first n trials of a chunk do not depend on the rest.

The compiled code is cached on disk (`cache=True`), next to this file, or in a temporary
folder when the checkout is read-only (or in NUMBA_CACHE_DIR when that is set). Without Numba,
`simulate_compiled` runs the NumPy engine.
"""

from __future__ import annotations

import math
import os
import tempfile
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from sim.distributions import sample_inputs, stream
from sim.engine import (
    CHUNK_TRIALS,
    CLV_MONTHS,
    EARLY_REPEAT_MONTHS,
    MONTHLY_TRIALS_KEPT,
    SimResult,
    simulate,
)
from sim.scenario import Scenario


def _use_writable_cache() -> None:
    """Point Numba's disk cache at a temporary folder when the source tree is read-only."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    pycache = Path(__file__).resolve().parent / "__pycache__"
    try:
        pycache.mkdir(exist_ok=True)
        writable = os.access(pycache, os.W_OK)
    except OSError:
        writable = False
    if not writable:
        os.environ["NUMBA_CACHE_DIR"] = str(Path(tempfile.gettempdir()) / "funnel-lab-numba")


_use_writable_cache()
try:
    import numba
except ImportError:  # the NumPy engine still runs
    numba = None
else:
    # Numba reads NUMBA_CACHE_DIR when it is first imported; it may have been imported earlier.
    numba.config.CACHE_DIR = os.environ.get("NUMBA_CACHE_DIR", numba.config.CACHE_DIR)

#: True when the compiled engine can run (Numba is importable).
AVAILABLE = numba is not None

# Column of each input in the packed (trials, inputs) matrix; churn is (alpha, beta) for sBG
# and (monthly, unused) for constant churn.
INPUT_PATHS: tuple[str, ...] = (
    "finance.discount_rate_annual", "market.prospects", "market.warm_start",
    "market.customers_start", "market.customers_start_tenure", "budget.monthly",
    "budget.growth_monthly", "budget.split.cold", "budget.split.warm", "budget.split.hot",
    "cold.cost_per_thousand", "cold.engagement_rate", "cold.lead_decay_monthly",
    "warm.conversion_no_spend", "warm.conversion_max", "warm.spend_scale",
    "hot.churn_unpreventable", "hot.repeat_no_spend", "hot.repeat_max", "hot.spend_scale",
    "orders.first_value", "orders.repeat_value", "orders.gross_margin", "guarantee.days",
    "guarantee.reference_days", "guarantee.return_rate_at_reference",
    "guarantee.return_elasticity", "guarantee.conversion_elasticity",
    "guarantee.handling_cost", "guarantee.resale_share",
)
SBG_PATHS = ("hot.churn.sbg.alpha", "hot.churn.sbg.beta")
CONSTANT_PATH = "hot.churn.monthly"

#: Rows of the kernel's metric output, in this order (the names of sim.engine.METRIC_NAMES).
METRIC_ORDER: tuple[str, ...] = (
    "net_revenue", "gross_revenue", "profit", "npv", "new_customers", "cac",
    "active_customers_end", "repeat_revenue_share", "leaky_bucket_ratio", "early_repeat_rate",
    "clv_new_customer", "customer_equity_end", "ltv_to_cac", "payback_month",
    "open_guarantee_liability", "marketing_spend", "churned_customers", "refunds",
)
#: Rows of the kernel's monthly output, in this order (sim.engine.MONTHLY_NAMES).
MONTHLY_ORDER: tuple[str, ...] = (
    "gross_revenue", "refunds", "net_revenue", "profit", "new_customers", "active_customers",
    "churned", "repeat_orders", "spend", "leads", "open_liability",
)

# Numba's parallel backend may be the work queue, which must not be entered by two threads at
# once (Streamlit runs each session in its own thread); the kernel already uses every core.
_KERNEL_LOCK = threading.Lock()


def _whole_binomial(count: float, probability: float) -> float:
    """A binomial draw on whole customers: count rounded, probability clipped to [0, 1]."""
    whole = max(np.rint(count), 0.0)
    # Numba's generator is per thread and seeded per trial; it has no Generator to build here.
    return float(np.random.binomial(np.int64(whole),  # noqa: NPY002
                                    min(max(probability, 0.0), 1.0)))


def _pairwise_block(values: np.ndarray, start: int, count: int) -> float:
    """Sum values[start:start + count], count <= 128, in NumPy's order: one running sum below 8
    values, else 8 running sums combined as a tree, then the remainder."""
    if count < 8:
        total = 0.0
        for k in range(start, start + count):
            total += values[k]
        return total
    r0, r1, r2, r3 = values[start], values[start + 1], values[start + 2], values[start + 3]
    r4, r5, r6, r7 = values[start + 4], values[start + 5], values[start + 6], values[start + 7]
    k = start + 8
    end_blocks = start + count - count % 8
    while k < end_blocks:
        r0 += values[k]
        r1 += values[k + 1]
        r2 += values[k + 2]
        r3 += values[k + 3]
        r4 += values[k + 4]
        r5 += values[k + 5]
        r6 += values[k + 6]
        r7 += values[k + 7]
        k += 8
    total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while k < start + count:
        total += values[k]
        k += 1
    return total


def _pairwise_sum(values: np.ndarray, start: int, count: int) -> float:
    """Sum values[start:start + count] in NumPy's pairwise order (`np.sum` along a contiguous
    axis), so that sums over cohorts round exactly as the engine's do. Above 128 values NumPy
    halves recursively; that tree is walked with a stack (Numba's disk cache and recursion do
    not mix)."""
    if count <= 128:
        return _pairwise_block(values, start, count)
    nodes = [(start, count, False)]
    partial = [0.0]
    partial.pop()
    while nodes:
        first, size, children_done = nodes.pop()
        if size <= 128:
            partial.append(_pairwise_block(values, first, size))
        elif children_done:
            right = partial.pop()
            partial.append(partial.pop() + right)
        else:
            half = size // 2
            half -= half % 8
            nodes.append((first, size, True))
            nodes.append((first + half, size - half, False))
            nodes.append((first, half, False))
    return partial[0]


def _trial(p: np.ndarray, sbg: bool, draws: bool, top: int, months: int,
           metrics: np.ndarray, series: np.ndarray, i: int, keep: bool) -> None:
    """Run one trial's months from its inputs `p` (a row in INPUT_PATHS order) and write its
    metrics to metrics[:, i] and, when `keep`, its monthly series to series[:, i, :].

    The lines follow sim.engine._run_chunk one for one (same operations, same order), per trial.
    """
    monthly_discount = (1.0 + p[0]) ** (1.0 / 12.0) - 1.0
    start_tenure = p[4]
    budget_monthly, growth = p[5], p[6]
    split_cold, split_warm, split_hot = p[7], p[8], p[9]
    cost_per_thousand, engagement, lead_decay = p[10], p[11], p[12]
    p0, pmax, warm_scale = p[13], p[14], p[15]
    unpreventable, q0, qmax, hot_scale = p[16], p[17], p[18], p[19]
    first_value, repeat_value, margin = p[20], p[21], p[22]
    days, reference, rho_ref = p[23], p[24], p[25]
    return_elasticity, conversion_elasticity, handling, resale = p[26], p[27], p[28], p[29]
    churn_a, churn_b = p[30], p[31]  # sBG alpha and beta, or the constant monthly churn

    # Guarantee: return rate and conversion multiplier from the length relative to reference.
    length_ratio = days / reference
    conversion_multiplier = length_ratio ** conversion_elasticity
    return_rate = min(1.0, rho_ref * length_ratio ** return_elasticity)
    late_months = math.ceil((days - reference) / 30.0)
    has_late = late_months >= 1 and return_rate > rho_ref
    return_now = min(return_rate, rho_ref) if has_late else return_rate
    return_late = return_rate - return_now if has_late else 0.0
    late_count_months = int(late_months) if has_late else 1
    late_spread = 1.0 / late_count_months
    late_refund_value = np.zeros(months + late_count_months + 1)
    late_refund_count = np.zeros(months + late_count_months + 1)

    # Base churn by tenure k (sBG alpha / (alpha + beta + k), or constant), tabulated once.
    base_churn = np.empty(max(months, CLV_MONTHS) + 1)
    for k in range(len(base_churn)):
        base_churn[k] = churn_a / (churn_a + churn_b + k) if sbg else churn_a

    prospects, warm, starting = p[1], p[2], p[3]
    if draws:
        prospects, warm, starting = np.rint(prospects), np.rint(warm), np.rint(starting)
    # cohorts[0]: starting customers; cohorts[j + 1]: acquired in month j (tenure t - j).
    cohorts = np.zeros(months + 1)
    cohorts[0] = starting
    churned_now = np.zeros(months + 1)  # each cohort's churn this month (sBG, random flows)
    active = starting
    open_liability = 0.0
    pending = np.zeros(months)  # cohort -> alive and not yet repeated (first months only)
    early_repeated = early_cohort_size = early_all_repeated = early_all_size = 0.0
    discount = 1.0
    total_gross = total_refunds = total_profit = total_npv = total_new = 0.0
    total_spend = total_acq_spend = total_churned = total_repeat_revenue = 0.0
    saturation = repeat_rate = spend_per_customer = active_after = 0.0

    for t in range(months):
        budget = budget_monthly * (1.0 + growth) ** float(t)
        spend_cold = split_cold * budget
        spend_warm = split_warm * budget
        spend_hot = split_hot * budget

        # 1. Reach.
        impressions = spend_cold / cost_per_thousand * 1000.0
        reach_share = (-math.expm1(-engagement * impressions / max(prospects, 1e-12))
                       if prospects > 0 else 0.0)
        leads = (_whole_binomial(prospects, reach_share) if draws
                 else prospects * reach_share)

        # 2. Conversion.
        spend_per_lead = spend_warm / max(warm, 1.0)
        conversion = min(1.0, (p0 + (pmax - p0) * -math.expm1(
            -spend_per_lead / warm_scale)) * conversion_multiplier)
        new = _whole_binomial(warm, conversion) if draws else warm * conversion

        # 3. Retention spend.
        spend_per_customer = spend_hot / max(active, 1.0)
        saturation = math.exp(-spend_per_customer / hot_scale)
        repeat_rate = q0 + (qmax - q0) * (1.0 - saturation)
        repeats = _whole_binomial(active, repeat_rate) if draws else active * repeat_rate

        # 4. Orders and returns.
        gross = new * first_value + repeats * repeat_value
        orders = new + repeats
        returned_share = 1.0
        if draws:
            returned_orders = _whole_binomial(orders, return_rate)
            expected_returns = orders * return_rate
            returned_share = (returned_orders / expected_returns if expected_returns > 0
                              else 0.0)
        refund_now = return_now * gross * returned_share
        count_now = return_now * orders * returned_share
        late_value = return_late * gross * returned_share
        late_count = return_late * orders * returned_share
        if has_late:
            for k in range(late_count_months):
                late_refund_value[t + 1 + k] += late_value * late_spread
                late_refund_count[t + 1 + k] += late_count * late_spread
        refunds = refund_now + late_refund_value[t]
        returned = count_now + late_refund_count[t]
        open_liability += late_value - late_refund_value[t]
        cost_of_goods = (1.0 - margin) * gross
        profit = (gross - refunds - cost_of_goods + resale * (1.0 - margin) * refunds
                  - handling * returned - budget)

        # Early repeat: cohorts in the first months after acquisition (oldest first).
        for cohort in range(max(0, t - EARLY_REPEAT_MONTHS), t):
            ordered = pending[cohort] * repeat_rate
            early_all_repeated += ordered
            if cohort + EARLY_REPEAT_MONTHS < months:
                early_repeated += ordered
            pending[cohort] = pending[cohort] - ordered

        # 5. Move: new cohort joins, churn by tenure, leads decay.
        cohorts[t + 1] = new
        preventable = unpreventable + (1.0 - unpreventable) * saturation
        if sbg or draws:
            start_churn = (churn_a / (churn_a + churn_b + start_tenure + t) if sbg
                           else churn_a)
            for column in range(t + 2):
                base = start_churn if column == 0 else base_churn[t + 1 - column]
                share = base * preventable
                if draws:
                    churned = _whole_binomial(cohorts[column], share)
                else:
                    churned = cohorts[column] * share
                cohorts[column] -= churned
                churned_now[column] = churned
            churned_total = _pairwise_sum(churned_now, 0, t + 2)
        else:
            # Constant churn: one share for every cohort.
            share = churn_a * preventable
            for column in range(t + 2):
                cohorts[column] *= 1.0 - share
            churned_total = (active + new) * share
        active_after = active + new - churned_total
        for cohort in range(max(0, t - EARLY_REPEAT_MONTHS), t):
            if t - cohort < EARLY_REPEAT_MONTHS:
                pending[cohort] = pending[cohort] * (1.0 - base_churn[t - cohort] * preventable)
        pending[t] = new * (1.0 - base_churn[0] * preventable)
        early_all_size += new
        if t + EARLY_REPEAT_MONTHS < months:
            early_cohort_size += new

        if draws:
            warm = _whole_binomial(warm - new, 1.0 - lead_decay) + leads
        else:
            warm = (warm - new) * (1.0 - lead_decay) + leads
        prospects = prospects - leads
        active = active_after

        discount = discount / (1.0 + monthly_discount)
        total_gross += gross
        total_refunds += refunds
        total_profit += profit
        total_npv += profit * discount
        total_new += new
        total_spend += budget
        total_acq_spend += spend_cold + spend_warm
        total_churned += churned_total
        total_repeat_revenue += repeats * repeat_value
        if keep:
            series[0, i, t] = gross
            series[1, i, t] = refunds
            series[2, i, t] = gross - refunds
            series[3, i, t] = profit
            series[4, i, t] = new
            series[5, i, t] = active_after
            series[6, i, t] = churned_total
            series[7, i, t] = repeats
            series[8, i, t] = budget
            series[9, i, t] = leads
            series[10, i, t] = open_liability

    # Customer value from the last simulated month's rates (docs/model.md, per-trial metrics).
    keep_rate = unpreventable + (1.0 - unpreventable) * saturation
    per_order_share = (1.0 - return_rate) - (1.0 - margin) + return_rate * resale * (1.0 - margin)
    first_contribution = first_value * per_order_share - return_rate * handling
    month_contribution = (repeat_rate * (repeat_value * per_order_share - return_rate * handling)
                          - spend_per_customer)
    growth_factor = 1.0 / (1.0 + monthly_discount)
    if sbg:
        # Value of a customer alive at tenure k, summed backwards from `top` (as the engine).
        value = 0.0
        start_value = 0.0
        start_whole = np.rint(start_tenure + months)
        cohort_values = np.zeros(months)
        for k in range(top, 0, -1):
            retention_k = 1.0 - churn_a / (churn_a + churn_b + k) * keep_rate
            value = growth_factor * (month_contribution + retention_k * value)
            if k <= months:
                cohort_values[months - k] = value
            if k == start_whole:
                start_value = value
        value_one = 0.0
        for k in range(CLV_MONTHS, 0, -1):
            retention_k = 1.0 - churn_a / (churn_a + churn_b + k) * keep_rate
            value_one = growth_factor * (month_contribution + retention_k * value_one)
        retention_zero = 1.0 - churn_a / (churn_a + churn_b) * keep_rate
        clv = first_contribution + retention_zero * value_one
        for j in range(months):
            cohort_values[j] *= cohorts[j + 1]
        equity = cohorts[0] * start_value + _pairwise_sum(cohort_values, 0, months)
    else:
        retention = 1.0 - churn_a * keep_rate
        ratio = retention * growth_factor
        if abs(1.0 - ratio) < 1e-12:
            terms = float(CLV_MONTHS)
        else:
            terms = (1.0 - ratio ** float(CLV_MONTHS)) / (1.0 - ratio)
        value = month_contribution * growth_factor * terms
        clv = first_contribution + retention * value
        cohort_sum = 0.0
        for j in range(months):
            cohort_sum += cohorts[j + 1] * value
        equity = cohorts[0] * value + cohort_sum

    cac = total_acq_spend / total_new if total_new > 0 else np.nan
    # Payback: months after acquisition until the undiscounted contribution repays CAC.
    cumulative = first_contribution
    survival = 1.0
    payback = 0.0 if cumulative >= cac else np.nan
    month = 1
    while np.isnan(payback) and month <= CLV_MONTHS:
        survival = survival * (1.0 - base_churn[month - 1] * keep_rate)
        cumulative = cumulative + survival * month_contribution
        if cumulative >= cac:
            payback = float(month)
        month += 1
    if np.isnan(cac):
        payback = np.nan

    if early_cohort_size > 0:
        early_rate = early_repeated / early_cohort_size
    elif early_all_size > 0:
        early_rate = early_all_repeated / early_all_size
    else:
        early_rate = np.nan
    metrics[0, i] = total_gross - total_refunds
    metrics[1, i] = total_gross
    metrics[2, i] = total_profit
    metrics[3, i] = total_npv
    metrics[4, i] = total_new
    metrics[5, i] = cac
    metrics[6, i] = active_after
    metrics[7, i] = total_repeat_revenue / total_gross if total_gross > 0 else np.nan
    metrics[8, i] = total_churned / total_new if total_new > 0 else np.nan
    metrics[9, i] = early_rate
    metrics[10, i] = clv
    metrics[11, i] = equity
    metrics[12, i] = clv / cac if cac > 0 else np.nan
    metrics[13, i] = payback
    metrics[14, i] = open_liability
    metrics[15, i] = total_spend
    metrics[16, i] = total_churned
    metrics[17, i] = total_refunds


def _run_trials(packed: np.ndarray, sbg: bool, draws: bool, seeds: np.ndarray, top: int,
                months: int, metrics: np.ndarray, series: np.ndarray) -> None:
    """Run every row of `packed` in parallel; trial i < series.shape[1] keeps its series."""
    kept = series.shape[1]
    for i in numba.prange(packed.shape[0]):
        if draws:
            # This trial's own generator state, on whatever thread runs it.
            np.random.seed(seeds[i])  # noqa: NPY002
        _trial(packed[i], sbg, draws, top, months, metrics, series, i, i < kept)


if AVAILABLE:
    _pairwise_block = numba.njit(cache=True, nogil=True)(_pairwise_block)
    _pairwise_sum = numba.njit(cache=True, nogil=True)(_pairwise_sum)
    _whole_binomial = numba.njit(cache=True, nogil=True)(_whole_binomial)
    _trial = numba.njit(cache=True, nogil=True)(_trial)
    _run_trials = numba.njit(cache=True, nogil=True, parallel=True)(_run_trials)


def pack_inputs(inputs: Mapping[str, np.ndarray]) -> tuple[np.ndarray, bool]:
    """Return the inputs as one (trials, len(INPUT_PATHS) + 2) matrix and whether churn is sBG.

    Raises KeyError naming the first input the engine needs that is missing.
    """
    sbg = SBG_PATHS[0] in inputs
    churn = SBG_PATHS if sbg else (CONSTANT_PATH,)
    paths = [*INPUT_PATHS, *churn]
    missing = [path for path in paths if path not in inputs]
    if missing:
        raise KeyError(f"the engine needs the input {missing[0]!r}")
    trials = len(inputs[paths[0]])
    packed = np.zeros((trials, len(INPUT_PATHS) + 2))
    for column, path in enumerate(paths):
        packed[:, column] = inputs[path]
    return packed, sbg


def simulate_compiled(
    scenario: Scenario,
    *,
    trials: int | None = None,
    seed: int | None = None,
    horizon: int | None = None,
    inputs: Mapping[str, np.ndarray] | None = None,
    progress: Callable[[float], None] | None = None,
    keep_monthly: int = MONTHLY_TRIALS_KEPT,
) -> SimResult:
    """Run the monthly funnel compiled; same arguments and result as `sim.engine.simulate`.

    `keep_monthly` bounds the trials whose monthly series are kept (the first ones). Without
    Numba this runs `sim.engine.simulate` (which keeps MONTHLY_TRIALS_KEPT).
    """
    if not AVAILABLE:
        return simulate(scenario, trials=trials, seed=seed, horizon=horizon, inputs=inputs,
                        progress=progress)
    seed = scenario.simulation.seed if seed is None else int(seed)
    horizon = scenario.simulation.horizon_months if horizon is None else int(horizon)
    if inputs is None:
        trials = scenario.simulation.trials if trials is None else int(trials)
        inputs = sample_inputs(scenario, trials, seed)
    else:
        trials = len(next(iter(inputs.values())))
    if horizon < 1:
        raise ValueError(f"the horizon must be at least one month, got {horizon}")
    draws = scenario.simulation.flows == "random"
    packed, sbg = pack_inputs(inputs)
    kept = min(trials, keep_monthly)
    metrics = np.empty((len(METRIC_ORDER), trials))
    monthly = np.empty((len(MONTHLY_ORDER), kept, horizon))
    no_seeds = np.zeros(0, dtype=np.uint32)
    for start in range(0, trials, CHUNK_TRIALS):
        stop = min(trials, start + CHUNK_TRIALS)
        seeds = (stream(seed, f"flows/{start}").integers(0, 2**32, size=stop - start,
                                                         dtype=np.uint32)
                 if draws else no_seeds)
        # The engine sums sBG customer values from the chunk's longest tenure (same chunks).
        top = CLV_MONTHS + int(max(float(np.max(packed[start:stop, 4])) + horizon, horizon))
        chunk_metrics = np.empty((len(METRIC_ORDER), stop - start))
        chunk_monthly = np.empty((len(MONTHLY_ORDER), max(0, min(stop, kept) - start), horizon))
        with _KERNEL_LOCK:
            _run_trials(packed[start:stop], sbg, draws, seeds, top, horizon, chunk_metrics,
                        chunk_monthly)
        metrics[:, start:stop] = chunk_metrics
        monthly[:, start:start + chunk_monthly.shape[1]] = chunk_monthly
        if progress is not None:
            progress(stop / trials)
    return SimResult(dict(zip(METRIC_ORDER, metrics, strict=True)),
                     dict(zip(MONTHLY_ORDER, monthly, strict=True)), trials, seed, horizon,
                     inputs)
