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
folder when the checkout is read-only (or in NUMBA_CACHE_DIR when that is set). The kernel's
functions stay in this one file on purpose: Numba checks a cached function against its own
file's timestamp only, so a helper moved to another module could change without the cached
kernel that calls it being recompiled. Without Numba,
`simulate_compiled` runs the NumPy engine.
"""

from __future__ import annotations

import math
import os
import tempfile
import threading
from collections.abc import Callable, Collection, Mapping
from pathlib import Path

import numpy as np

from sim.distributions import sample_inputs, stream
from sim.engine import (
    CHUNK_TRIALS,
    CLV_MONTHS,
    EARLY_REPEAT_MONTHS,
    METRIC_NAMES,
    MONTHLY_NAMES,
    MONTHLY_TRIALS_KEPT,
    SimResult,
    checked_metric_names,
    simulate,
)
from sim.funnel import owed_refunds_cost
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
# Columns of the packed inputs (Numba compiles these module integers in as constants).
(DISCOUNT_RATE, PROSPECTS, WARM_START, CUSTOMERS_START, START_TENURE, BUDGET, GROWTH, SPLIT_COLD,
 SPLIT_WARM, SPLIT_HOT, COST_PER_THOUSAND, ENGAGEMENT, LEAD_DECAY, CONVERSION_NO_SPEND,
 CONVERSION_MAX, WARM_SCALE, UNPREVENTABLE, REPEAT_NO_SPEND, REPEAT_MAX, HOT_SCALE, FIRST_VALUE,
 REPEAT_VALUE, MARGIN, DAYS, REFERENCE_DAYS, RETURN_AT_REFERENCE, RETURN_ELASTICITY,
 CONVERSION_ELASTICITY, HANDLING, RESALE) = range(len(INPUT_PATHS))
CHURN_A, CHURN_B = len(INPUT_PATHS), len(INPUT_PATHS) + 1  # sBG alpha, beta; or churn
SBG_PATHS = ("hot.churn.sbg.alpha", "hot.churn.sbg.beta")
CONSTANT_PATH = "hot.churn.monthly"

#: Rows of the kernel's metric and monthly outputs: the engine's names, in the engine's order
#: (the kernel writes row i of each by these positions).
METRIC_ORDER: tuple[str, ...] = METRIC_NAMES
MONTHLY_ORDER: tuple[str, ...] = MONTHLY_NAMES

#: Metrics of the kernel's customer-value pass (early repeats, CLV sums, payback), which a run
#: asking only for others skips.
CUSTOMER_VALUE_METRICS: tuple[str, ...] = (
    "early_repeat_rate", "clv_new_customer", "customer_equity_end", "ltv_to_cac",
    "payback_month")

#: Trials run interleaved in one block (expected flows); small enough for the core's caches.
BLOCK_TRIALS = 16

# Numba's parallel backend may be the work queue, which must not be entered by two threads at
# once (Streamlit runs each session in its own thread); the kernel already uses every core.
_KERNEL_LOCK = threading.Lock()


def _whole_binomial(count: float, probability: float) -> float:
    """A binomial draw on whole customers: count rounded, probability clipped to [0, 1]."""
    whole = max(np.rint(count), 0.0)
    # Numba's generator is per thread and seeded per trial; it has no Generator to build here.
    return float(np.random.binomial(np.int64(whole),  # noqa: NPY002
                                    min(max(probability, 0.0), 1.0)))


def _expm1(x: float) -> float:
    """exp(x) - 1; expm1(+-0) is +-0, returned without the call (a bucket with no spend)."""
    return math.expm1(x) if x != 0.0 else x


#: funnel.HALF_REACHED (ln 2), here so that the cached kernel depends on this file only.
HALF_REACHED = math.log(2.0)


def _spend_response(ratio: float) -> tuple[float, float]:
    """(reached, gap left) of a spend response at spend per head / scale `ratio`, as
    funnel.spend_response: one exponential, expm1 below HALF_REACHED and exp above it."""
    if ratio < HALF_REACHED:
        minus_reached = _expm1(-ratio)
        return -minus_reached, 1.0 + minus_reached
    gap_left = math.exp(-ratio)
    return 1.0 - gap_left, gap_left


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


def _churn_block(cohorts: np.ndarray, base_churn: np.ndarray, t: int, months: int,
                 start_share: np.ndarray, preventable: np.ndarray, running: np.ndarray,
                 churned: np.ndarray) -> None:
    """Month t's expected churn of every cohort of every trial b of the block (sBG): cohort
    `column` of trial b is cohorts[column, b] and loses base_churn[months - t - 1 + column, b]
    times preventable[b] (the starting customers, column 0, lose start_share[b]). Write each
    trial's customers lost to churned[b], summed over its cohorts in NumPy's pairwise order.

    The trials are the inner loop, so that the compiler works on several trials at once; each
    trial's cohorts go into `_pairwise_block`'s eight running sums (running[j, b]), the same
    additions in the same order, so the sums round exactly as the engine's do.
    """
    trials = cohorts.shape[1]
    count = t + 2
    at = months - t - 1  # base_churn[at + column, b]: the base churn of cohort `column`
    for b in range(trials):
        first = cohorts[0, b] * start_share[b]
        cohorts[0, b] -= first
        running[0, b] = first
    if count > 128:
        # Above 128 cohorts NumPy's tree goes deeper: sum each trial's churn as it does.
        values = np.empty(count)
        for b in range(trials):
            values[0] = running[0, b]
            for column in range(1, count):
                lost = cohorts[column, b] * (base_churn[at + column, b] * preventable[b])
                cohorts[column, b] -= lost
                values[column] = lost
            churned[b] = _pairwise_sum(values, 0, count)
        return
    for column in range(1, min(count, 8)):
        for b in range(trials):
            lost = cohorts[column, b] * (base_churn[at + column, b] * preventable[b])
            cohorts[column, b] -= lost
            running[column, b] = lost
    if count < 8:
        # One running sum below eight values.
        for b in range(trials):
            total = 0.0
            for column in range(count):
                total += running[column, b]
            churned[b] = total
        return
    column = 8
    end_blocks = count - count % 8
    while column < end_blocks:
        for j in range(8):
            for b in range(trials):
                lost = (cohorts[column + j, b]
                        * (base_churn[at + column + j, b] * preventable[b]))
                cohorts[column + j, b] -= lost
                running[j, b] += lost
        column += 8
    for b in range(trials):
        churned[b] = (((running[0, b] + running[1, b]) + (running[2, b] + running[3, b]))
                      + ((running[4, b] + running[5, b]) + (running[6, b] + running[7, b])))
    while column < count:
        for b in range(trials):
            lost = cohorts[column, b] * (base_churn[at + column, b] * preventable[b])
            cohorts[column, b] -= lost
            churned[b] += lost
        column += 1


def _block(packed: np.ndarray, first: int, count: int, sbg: bool, draws: bool,
           customer_value: bool, top: int, months: int, metrics: np.ndarray,
           series: np.ndarray, kept: int) -> None:
    """Run trials first .. first + count - 1 (columns of `packed`, inputs in INPUT_PATHS order)
    and write their metrics to metrics[:, i] and, for i < kept, their series to series[:, i, :].
    `customer_value` False skips the early repeats, CLV, customer equity and payback
    (CUSTOMER_VALUE_METRICS come out NaN): a split search reads none of them.

    Month by month with the block's trials interleaved, so the processor overlaps the
    independent trials instead of waiting on one trial's chain of divisions and exponentials.
    The lines follow sim.engine._run_chunk one for one (same operations, same order).
    """
    # Per-trial constants. Guarantee: return rate and conversion multiplier from its length.
    monthly_discount = np.empty(count)
    conversion_multiplier = np.empty(count)
    return_rate = np.empty(count)
    return_now = np.empty(count)
    return_late = np.empty(count)
    late_months = np.ones(count, dtype=np.int64)
    late_spread = np.ones(count)
    # Base churn by tenure k (sBG, or constant) at base_churn[months - k, b]: backwards, so
    # that a month's cohorts (column c has tenure t + 1 - c) read it forwards. Trial b is the
    # last index here and in `cohorts`, so `_churn_block` runs the block's trials side by side.
    base_churn = np.empty((months + 1, count))
    prospects = np.empty(count)
    warm = np.empty(count)
    active = np.empty(count)
    cohorts = np.zeros((months + 1, count))  # row 0: starting customers; j + 1: acquired in j
    longest_late = 1
    # pow is the costliest call here and most of these inputs are the same in every trial:
    # the previous trial's result is reused when its arguments are equal (the same bits).
    last_rate, last_discount = np.nan, np.nan
    last_ratio, last_conversion_power, last_conversion = np.nan, np.nan, np.nan
    last_return_power, last_return = np.nan, np.nan
    for b in range(count):
        i = first + b
        if packed[DISCOUNT_RATE, i] != last_rate:
            last_rate = packed[DISCOUNT_RATE, i]
            last_discount = (1.0 + last_rate) ** (1.0 / 12.0) - 1.0
        monthly_discount[b] = last_discount
        length_ratio = packed[DAYS, i] / packed[REFERENCE_DAYS, i]
        if (length_ratio != last_ratio or packed[CONVERSION_ELASTICITY, i] != last_conversion_power
                or packed[RETURN_ELASTICITY, i] != last_return_power):
            last_ratio = length_ratio
            last_conversion_power = packed[CONVERSION_ELASTICITY, i]
            last_return_power = packed[RETURN_ELASTICITY, i]
            last_conversion = length_ratio ** last_conversion_power
            last_return = length_ratio ** last_return_power
        conversion_multiplier[b] = last_conversion
        rate = min(1.0, packed[RETURN_AT_REFERENCE, i] * last_return)
        late = math.ceil((packed[DAYS, i] - packed[REFERENCE_DAYS, i]) / 30.0)
        has_late = late >= 1 and rate > packed[RETURN_AT_REFERENCE, i]
        return_rate[b] = rate
        return_now[b] = min(rate, packed[RETURN_AT_REFERENCE, i]) if has_late else rate
        return_late[b] = rate - return_now[b] if has_late else 0.0
        if has_late:
            late_months[b] = late
            late_spread[b] = 1.0 / late
            longest_late = max(longest_late, late)
        for k in range(months + 1):
            base_churn[months - k, b] = (
                packed[CHURN_A, i] / (packed[CHURN_A, i] + packed[CHURN_B, i] + k)
                if sbg else packed[CHURN_A, i])
        prospects[b], warm[b] = packed[PROSPECTS, i], packed[WARM_START, i]
        cohorts[0, b] = packed[CUSTOMERS_START, i]
        if draws:
            prospects[b], warm[b] = np.rint(prospects[b]), np.rint(warm[b])
            cohorts[0, b] = np.rint(cohorts[0, b])
        active[b] = cohorts[0, b]
    # The month's discount factor, computed once for the block when every trial has the same
    # discount rate (the usual case: the same chain of divisions gives the same bits).
    shared_discount = True
    for b in range(count):
        shared_discount = shared_discount and monthly_discount[b] == monthly_discount[0]
    discount_by_month = np.ones(months)
    if shared_discount:
        factor = 1.0
        for t in range(months):
            factor = factor / (1.0 + monthly_discount[0])
            discount_by_month[t] = factor
    late_refund_value = np.zeros((count, months + longest_late + 1))
    late_refund_count = np.zeros((count, months + longest_late + 1))
    pending = np.zeros((count, months))  # alive and not yet repeated, per cohort
    churned_now = np.zeros(months + 1)  # each cohort's churn this month (random flows)
    # This month's new customers and customers lost, per trial; sBG with expected flows also
    # keeps each trial's churn multiplier and its starting customers' churn for _churn_block.
    new_now = np.zeros(count)
    churned_month = np.zeros(count)
    preventable_now = np.zeros(count)
    start_share = np.zeros(count)
    running = np.zeros((8, count))
    # Running state and totals, one per trial: early repeat (repeated, cohort size; all
    # cohorts' repeated, size), discount, open liability, then the last month's rates.
    early = np.zeros((count, 4))
    discount = np.ones(count)
    impressions_bought = np.empty(count)
    open_liability = np.zeros(count)
    open_returns = np.zeros(count)
    totals = np.zeros((count, 9))
    last = np.zeros((count, 4))  # saturation, repeat rate, spend per customer, active

    for t in range(months):
        for b in range(count):
            i = first + b
            growth = packed[GROWTH, i]
            # pow(1, t) is exactly 1: skip the costly call when the budget does not grow.
            budget = packed[BUDGET, i] * ((1.0 + growth) ** float(t) if growth != 0.0 else 1.0)
            spend_cold = packed[SPLIT_COLD, i] * budget
            spend_warm = packed[SPLIT_WARM, i] * budget
            spend_hot = packed[SPLIT_HOT, i] * budget

            # 1. Reach.
            # A budget that does not grow buys the same impressions every month.
            if t == 0 or growth != 0.0:
                impressions_bought[b] = spend_cold / packed[COST_PER_THOUSAND, i] * 1000.0
            impressions = impressions_bought[b]
            prospects_now = prospects[b]
            reach_share = (-_expm1(-packed[ENGAGEMENT, i] * impressions
                                   / max(prospects_now, 1e-12))
                           if prospects_now > 0 else 0.0)
            leads = (_whole_binomial(prospects_now, reach_share) if draws
                     else prospects_now * reach_share)

            # 2. Conversion.
            warm_now = warm[b]
            spend_per_lead = spend_warm / max(warm_now, 1.0)
            p0, pmax = packed[CONVERSION_NO_SPEND, i], packed[CONVERSION_MAX, i]
            reached_warm = _spend_response(spend_per_lead / packed[WARM_SCALE, i])[0]
            conversion = min(1.0, (p0 + (pmax - p0) * reached_warm) * conversion_multiplier[b])
            new = _whole_binomial(warm_now, conversion) if draws else warm_now * conversion

            # 3. Retention spend.
            active_now = active[b]
            spend_per_customer = spend_hot / max(active_now, 1.0)
            reached_hot, saturation = _spend_response(spend_per_customer
                                                      / packed[HOT_SCALE, i])
            q0, qmax = packed[REPEAT_NO_SPEND, i], packed[REPEAT_MAX, i]
            repeat_rate = q0 + (qmax - q0) * reached_hot
            repeats = (_whole_binomial(active_now, repeat_rate) if draws
                       else active_now * repeat_rate)

            # 4. Orders and returns.
            gross = new * packed[FIRST_VALUE, i] + repeats * packed[REPEAT_VALUE, i]
            orders = new + repeats
            returned_share = 1.0
            if draws:
                returned_orders = _whole_binomial(orders, return_rate[b])
                expected_returns = orders * return_rate[b]
                returned_share = (returned_orders / expected_returns if expected_returns > 0
                                  else 0.0)
            refund_now = return_now[b] * gross * returned_share
            count_now = return_now[b] * orders * returned_share
            late_value = return_late[b] * gross * returned_share
            late_count = return_late[b] * orders * returned_share
            if return_late[b] > 0:
                for k in range(late_months[b]):
                    late_refund_value[b, t + 1 + k] += late_value * late_spread[b]
                    late_refund_count[b, t + 1 + k] += late_count * late_spread[b]
            refunds = refund_now + late_refund_value[b, t]
            returned = count_now + late_refund_count[b, t]
            open_liability[b] += late_value - late_refund_value[b, t]
            open_returns[b] += late_count - late_refund_count[b, t]
            margin = packed[MARGIN, i]
            cost_of_goods = (1.0 - margin) * gross
            profit = (gross - refunds - cost_of_goods + packed[RESALE, i] * (1.0 - margin) * refunds
                      - packed[HANDLING, i] * returned - budget)

            # Early repeat: cohorts in the first months after acquisition (oldest first).
            for cohort in range(max(0, t - EARLY_REPEAT_MONTHS), t if customer_value else 0):
                ordered = pending[b, cohort] * repeat_rate
                early[b, 2] += ordered
                if cohort + EARLY_REPEAT_MONTHS < months:
                    early[b, 0] += ordered
                pending[b, cohort] = pending[b, cohort] - ordered

            # 5. Move: new cohort joins, churn by tenure, leads decay.
            unpreventable = packed[UNPREVENTABLE, i]
            preventable = unpreventable + (1.0 - unpreventable) * saturation
            new_now[b] = new
            if sbg or draws:
                cohorts[t + 1, b] = new
                start_churn = (packed[CHURN_A, i] / (packed[CHURN_A, i] + packed[CHURN_B, i]
                                                     + packed[START_TENURE, i] + t)
                               if sbg else packed[CHURN_A, i])
                if draws:
                    for column in range(t + 2):
                        base = (start_churn if column == 0
                                else base_churn[months - t - 1 + column, b])
                        churned = _whole_binomial(cohorts[column, b], base * preventable)
                        cohorts[column, b] -= churned
                        churned_now[column] = churned
                    churned_month[b] = _pairwise_sum(churned_now, 0, t + 2)
                else:  # the whole block churns after this loop
                    start_share[b] = start_churn * preventable
                    preventable_now[b] = preventable
            else:
                # Constant churn: every cohort loses the same share, so the acquired cohorts
                # are kept as one running total in row 1 (customer equity values every
                # cohort alike; the sum differs from the engine's by rounding only).
                share = packed[CHURN_A, i] * preventable
                cohorts[0, b] *= 1.0 - share
                cohorts[1, b] = (cohorts[1, b] + new) * (1.0 - share)
                churned_month[b] = (active_now + new) * share
            for cohort in range(max(0, t - EARLY_REPEAT_MONTHS), t if customer_value else 0):
                if t - cohort < EARLY_REPEAT_MONTHS:
                    pending[b, cohort] = pending[b, cohort] * (
                        1.0 - base_churn[months - (t - cohort), b] * preventable)
            pending[b, t] = new * (1.0 - base_churn[months, b] * preventable)
            early[b, 3] += new
            if t + EARLY_REPEAT_MONTHS < months:
                early[b, 1] += new

            if draws:
                warm[b] = _whole_binomial(warm_now - new, 1.0 - packed[LEAD_DECAY, i]) + leads
            else:
                warm[b] = (warm_now - new) * (1.0 - packed[LEAD_DECAY, i]) + leads
            prospects[b] = prospects_now - leads

            discount[b] = (discount_by_month[t] if shared_discount
                           else discount[b] / (1.0 + monthly_discount[b]))
            totals[b, 0] += gross
            totals[b, 1] += refunds
            totals[b, 2] += profit
            totals[b, 3] += profit * discount[b]
            totals[b, 4] += new
            totals[b, 5] += budget
            totals[b, 6] += spend_cold + spend_warm
            totals[b, 8] += repeats * packed[REPEAT_VALUE, i]
            last[b, 0], last[b, 1] = saturation, repeat_rate
            last[b, 2] = spend_per_customer
            if i < kept:
                series[0, i, t] = gross
                series[1, i, t] = refunds
                series[2, i, t] = gross - refunds
                series[3, i, t] = profit
                series[4, i, t] = new
                series[7, i, t] = repeats
                series[8, i, t] = budget
                series[9, i, t] = leads
                series[10, i, t] = open_liability[b]
                series[11, i, t] = open_returns[b]
        if sbg and not draws:
            _churn_block(cohorts, base_churn, t, months, start_share, preventable_now, running,
                         churned_month)
        for b in range(count):
            i = first + b
            churned_total = churned_month[b]
            active_after = active[b] + new_now[b] - churned_total
            active[b] = active_after
            totals[b, 7] += churned_total
            last[b, 3] = active_after
            if i < kept:
                series[5, i, t] = active_after
                series[6, i, t] = churned_total

    # Customer value from the last simulated month's rates (docs/model.md, per-trial metrics).
    # Keep rate, first-order and monthly contribution, growth, monthly discount rate.
    rates = np.empty((5, count))
    for b in range(count):
        i = first + b
        unpreventable, margin = packed[UNPREVENTABLE, i], packed[MARGIN, i]
        resale, handling, rate = packed[RESALE, i], packed[HANDLING, i], return_rate[b]
        # Contribution of one order after refunds, goods cost, resale and handling.
        per_order_share = (1.0 - rate) - (1.0 - margin) + rate * resale * (1.0 - margin)
        rates[0, b] = unpreventable + (1.0 - unpreventable) * last[b, 0]
        rates[1, b] = packed[FIRST_VALUE, i] * per_order_share - rate * handling
        rates[2, b] = (last[b, 1] * (packed[REPEAT_VALUE, i] * per_order_share - rate * handling)
                       - last[b, 2])
        rates[3, b] = 1.0 / (1.0 + monthly_discount[b])
        rates[4, b] = monthly_discount[b]
    # sBG: value of a customer alive at tenure k, summed backwards from `top` as the engine
    # does (and from CLV_MONTHS for a new customer), for the whole block at once: each sum is a
    # chain of dependent steps, and the block's chains side by side overlap.
    # Rows: from top; from CLV_MONTHS (new customer); at the starting customers' tenure. One
    # row per value and the block's trials along it, so the compiler runs trials side by side.
    values = np.zeros((3, count))
    cohort_values = np.zeros((months, count))
    if sbg:
        start_tenure = np.empty(count)
        for b in range(count):
            start_tenure[b] = np.rint(packed[START_TENURE, first + b] + months)
        for k in range(top if customer_value else 0, 0, -1):
            new_customer = k <= CLV_MONTHS
            for b in range(count):
                churn_a, churn_b = packed[CHURN_A, first + b], packed[CHURN_B, first + b]
                retention_k = 1.0 - churn_a / (churn_a + churn_b + k) * rates[0, b]
                value = rates[3, b] * (rates[2, b] + retention_k * values[0, b])
                values[0, b] = value
                if new_customer:
                    values[1, b] = rates[3, b] * (rates[2, b] + retention_k * values[1, b])
                values[2, b] = value if k == start_tenure[b] else values[2, b]
            if k <= months:
                for b in range(count):
                    cohort_values[months - k, b] = values[0, b]
    cac = np.empty(count)
    for b in range(count):
        cac[b] = totals[b, 6] / totals[b, 4] if totals[b, 4] > 0 else np.nan
    payback = (_payback(packed, first, count, sbg, rates, cac) if customer_value
               else np.full(count, np.nan))
    products = np.empty(months)
    for b in range(count):
        _finish(packed, first + b, sbg, customer_value, months, rates, values, cohort_values,
                products, cohorts, last, early, totals, open_liability[b], open_returns[b],
                discount[b], cac[b], payback[b], b, metrics)


def _payback(packed: np.ndarray, first: int, count: int, sbg: bool, rates: np.ndarray,
             cac: np.ndarray) -> np.ndarray:
    """CAC payback of the block's trials (docs/model.md#payback-month), in months: the first
    month after acquisition when a new customer's undiscounted contribution repays `cac`, NaN
    when it never does within CLV_MONTHS or CAC is undefined.

    The trials step through the months side by side (each trial's sum is a chain of dependent
    steps, which the processor overlaps across trials) until every trial has paid back.
    """
    payback = np.empty(count)
    survival = np.ones(count)
    cumulative = np.empty(count)
    searching = 0
    for b in range(count):
        cumulative[b] = rates[1, b]
        payback[b] = 0.0 if cumulative[b] >= cac[b] else np.nan
        if np.isnan(payback[b]) and not np.isnan(cac[b]):
            searching += 1
    month = 1
    while searching > 0 and month <= CLV_MONTHS:
        searching = 0
        for b in range(count):
            if np.isnan(payback[b]) and not np.isnan(cac[b]):
                i = first + b
                base = (packed[CHURN_A, i] / (packed[CHURN_A, i] + packed[CHURN_B, i]
                                              + (month - 1)) if sbg else packed[CHURN_A, i])
                survival[b] = survival[b] * (1.0 - base * rates[0, b])
                cumulative[b] = cumulative[b] + survival[b] * rates[2, b]
                if cumulative[b] >= cac[b]:
                    payback[b] = float(month)
                else:
                    searching += 1
        month += 1
    return payback


def _finish(packed: np.ndarray, i: int, sbg: bool, customer_value: bool, months: int,
            rates: np.ndarray,
            values: np.ndarray, cohort_values: np.ndarray, products: np.ndarray,
            cohorts: np.ndarray, last: np.ndarray, early: np.ndarray, totals: np.ndarray,
            open_liability: float, open_returns: float, discount: float, cac: float,
            payback: float, b: int, metrics: np.ndarray) -> None:
    """Write trial i's metrics (row b of the block's state): totals, CLV, customer equity,
    and the decision metrics after the refunds still owed (`discount`: the horizon's last
    discount factor). Rows are indexed rather than sliced: views of shared arrays would count
    references atomically from both threads."""
    churn_a, churn_b = packed[CHURN_A, i], packed[CHURN_B, i]
    keep_rate, first_contribution = rates[0, b], rates[1, b]
    month_contribution, growth_factor = rates[2, b], rates[3, b]
    clv, equity = np.nan, np.nan
    if customer_value and sbg:
        retention_zero = 1.0 - churn_a / (churn_a + churn_b) * keep_rate
        clv = first_contribution + retention_zero * values[1, b]
        for j in range(months):
            products[j] = cohorts[j + 1, b] * cohort_values[j, b]
        equity = cohorts[0, b] * values[2, b] + _pairwise_sum(products, 0, months)
    elif customer_value:
        churn_share = churn_a * keep_rate
        retention = 1.0 - churn_share
        # customer_value.geometric_terms, to the last digits when the ratio is near 1.
        shortfall = (rates[4, b] + churn_share) / (1.0 + rates[4, b])
        if shortfall == 0.0:
            terms = float(CLV_MONTHS)
        else:
            log_ratio = ((math.log1p(-churn_share) if churn_share < 1.0 else -np.inf)
                         - math.log1p(rates[4, b]))
            terms = -math.expm1(CLV_MONTHS * log_ratio) / shortfall
        value = month_contribution * growth_factor * terms
        clv = first_contribution + retention * value
        cohort_sum = 0.0
        for j in range(months):
            cohort_sum += cohorts[j + 1, b] * value
        equity = cohorts[0, b] * value + cohort_sum

    total_gross, total_refunds, total_new = totals[b, 0], totals[b, 1], totals[b, 4]

    if not customer_value:
        early_rate = np.nan
    elif early[b, 1] > 0:
        early_rate = early[b, 0] / early[b, 1]
    elif early[b, 3] > 0:
        early_rate = early[b, 2] / early[b, 3]
    else:
        early_rate = np.nan
    # Refunds still owed at the horizon (docs/model.md#refunds-owed-at-the-horizon).
    owed_cost = owed_refunds_cost(open_liability, open_returns, packed[MARGIN, i],
                                  packed[RESALE, i], packed[HANDLING, i])
    metrics[0, i] = (total_gross - total_refunds) - open_liability
    metrics[1, i] = total_gross
    metrics[2, i] = totals[b, 2] - owed_cost
    metrics[3, i] = totals[b, 3] - owed_cost * discount
    metrics[4, i] = total_new
    metrics[5, i] = cac
    metrics[6, i] = last[b, 3]
    metrics[7, i] = totals[b, 8] / total_gross if total_gross > 0 else np.nan
    metrics[8, i] = totals[b, 7] / total_new if total_new > 0 else np.nan
    metrics[9, i] = early_rate
    metrics[10, i] = clv
    metrics[11, i] = equity
    metrics[12, i] = clv / cac if cac > 0 else np.nan
    metrics[13, i] = payback
    metrics[14, i] = open_liability
    metrics[15, i] = totals[b, 5]
    metrics[16, i] = totals[b, 7]
    metrics[17, i] = total_refunds
    metrics[18, i] = open_returns
    metrics[19, i] = total_gross - total_refunds
    metrics[20, i] = totals[b, 2]


def _run_trials(packed: np.ndarray, sbg: bool, draws: bool, customer_value: bool,
                seeds: np.ndarray,
                top: int, months: int, metrics: np.ndarray, series: np.ndarray) -> None:
    """Run every row of `packed` in parallel blocks of BLOCK_TRIALS (one trial per block with
    random flows, drawn from its own seed); trial i < series.shape[1] keeps its series."""
    trials = packed.shape[1]
    block = 1 if draws else BLOCK_TRIALS
    for index in numba.prange((trials + block - 1) // block):
        first = index * block
        if draws:
            # This trial's own generator state, on whatever thread runs it.
            np.random.seed(seeds[first])  # noqa: NPY002
        _block(packed, first, min(block, trials - first), sbg, draws, customer_value, top,
               months, metrics, series, series.shape[1])


if AVAILABLE:
    _expm1 = numba.njit(cache=True, nogil=True, inline="always")(_expm1)
    _spend_response = numba.njit(cache=True, nogil=True, inline="always")(_spend_response)
    _pairwise_block = numba.njit(cache=True, nogil=True)(_pairwise_block)
    _pairwise_sum = numba.njit(cache=True, nogil=True)(_pairwise_sum)
    _whole_binomial = numba.njit(cache=True, nogil=True)(_whole_binomial)
    owed_refunds_cost = numba.njit(cache=True, nogil=True)(owed_refunds_cost)
    _finish = numba.njit(cache=True, nogil=True)(_finish)
    _payback = numba.njit(cache=True, nogil=True)(_payback)
    _churn_block = numba.njit(cache=True, nogil=True)(_churn_block)
    _block = numba.njit(cache=True, nogil=True)(_block)
    _run_trials = numba.njit(cache=True, nogil=True, parallel=True)(_run_trials)


def pack_inputs(inputs: Mapping[str, np.ndarray], start: int = 0,
                stop: int | None = None) -> tuple[np.ndarray, bool]:
    """Return trials start .. stop - 1 of the inputs as one (len(INPUT_PATHS) + 2, trials)
    matrix, one row per input, and whether churn is sBG.

    One row per input: each input is one contiguous copy, and the kernel reads a block's
    trials side by side. Raises KeyError naming the first input the engine needs that is
    missing.
    """
    sbg = SBG_PATHS[0] in inputs
    churn = SBG_PATHS if sbg else (CONSTANT_PATH,)
    paths = [*INPUT_PATHS, *churn]
    missing = [path for path in paths if path not in inputs]
    if missing:
        raise KeyError(f"the engine needs the input {missing[0]!r}")
    stop = len(inputs[paths[0]]) if stop is None else stop
    packed = np.empty((len(INPUT_PATHS) + 2, stop - start))
    for row, path in enumerate(paths):
        packed[row] = inputs[path][start:stop]
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
    metrics: Collection[str] | None = None,
) -> SimResult:
    """Run the monthly funnel compiled; same arguments and result as `sim.engine.simulate`.

    `keep_monthly` bounds the trials whose monthly series are kept (the first ones). Without
    Numba this runs `sim.engine.simulate` with the same arguments. `metrics`: as in
    `sim.engine.simulate`; when it names none of CUSTOMER_VALUE_METRICS the kernel skips that
    pass (a split search: about a tenth of the time with constant churn, a fifth with sBG).
    """
    if not AVAILABLE:
        return simulate(scenario, trials=trials, seed=seed, horizon=horizon, inputs=inputs,
                        progress=progress, metrics=metrics, keep_monthly=keep_monthly)
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
    wanted = METRIC_ORDER if metrics is None else checked_metric_names(metrics)
    customer_value = any(name in CUSTOMER_VALUE_METRICS for name in wanted)
    kept = max(0, min(trials, keep_monthly))
    all_metrics = np.empty((len(METRIC_ORDER), trials))
    monthly = np.empty((len(MONTHLY_ORDER), kept, horizon))
    no_seeds = np.zeros(0, dtype=np.uint32)
    for start in range(0, trials, CHUNK_TRIALS):
        stop = min(trials, start + CHUNK_TRIALS)
        seeds = (stream(seed, f"flows/{start}").integers(0, 2**32, size=stop - start,
                                                         dtype=np.uint32)
                 if draws else no_seeds)
        packed, sbg = pack_inputs(inputs, start, stop)
        # The engine sums sBG customer values from the chunk's longest tenure (same chunks).
        longest_tenure = float(np.max(packed[START_TENURE])) + horizon
        top = CLV_MONTHS + int(max(longest_tenure, horizon))
        chunk_metrics = np.empty((len(METRIC_ORDER), stop - start))
        # The kernel writes the kept series in place when they all fall in this chunk.
        chunk_monthly = (monthly if start == 0 and kept <= stop else
                         np.empty((len(MONTHLY_ORDER), max(0, min(stop, kept) - start), horizon)))
        with _KERNEL_LOCK:
            _run_trials(packed, sbg, draws, customer_value, seeds, top, horizon, chunk_metrics,
                        chunk_monthly)
        all_metrics[:, start:stop] = chunk_metrics
        if chunk_monthly is not monthly:
            monthly[:, start:start + chunk_monthly.shape[1]] = chunk_monthly
        if progress is not None:
            progress(stop / trials)
    return SimResult({name: all_metrics[METRIC_ORDER.index(name)] for name in wanted},
                     dict(zip(MONTHLY_ORDER, monthly, strict=True)), trials, seed, horizon,
                     inputs)
