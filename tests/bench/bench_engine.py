"""Benchmark of the expected-flow engine (run by `make bench`; prints numbers, asserts nothing).

1. Throughput: trial-months per second of `simulate` for 10,000 trials x 60 months on the
   default Scenario().
2. Speed-up over plain Python: the same month equations written per trial with scalars (below),
   run on 200 trials and scaled to 10,000. Both are timed in this run, on this machine. The
   engine's time includes sampling, CLV and payback, which the scalar loop leaves out, so the
   ratio understates the gain. The scalar loop's profit must equal the engine's to 1e-9
   (relative) on the default scenario and on an uncertain one with sBG churn and a longer
   guarantee: otherwise the comparison would be of two different models.
3. Memory: time and peak traced memory of a 200,000-trial run against a 20,000-trial one;
   chunking keeps the working set per chunk, so ten times the trials must not cost ten times
   the peak of the monthly state.
"""

from __future__ import annotations

import math
import sys
import time
import tracemalloc
from collections.abc import Mapping
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sim.distributions import sample_inputs
from sim.engine import simulate
from sim.scenario import Scenario, load_scenario_text

TRIALS = 10_000
MONTHS = 60
SCALAR_TRIALS = 200
SEED = 20261122
BIG_TRIALS = 200_000
CHECK_TOLERANCE = 1e-9

UNCERTAIN_YAML = """
name: Bench, uncertain
budget: {monthly: 40000, growth_monthly: 0.01, split: {cold: 0.5, warm: 0.3, hot: 0.2}}
cold: {cost_per_thousand: {low: 6, high: 14}, engagement_rate: {low: 0.005, high: 0.02}}
warm: {conversion_max: {low: 0.03, high: 0.08}}
hot: {churn: {sbg: {alpha: {low: 0.5, high: 1.0}, beta: {low: 1.0, high: 2.0}}}}
orders: {first_value: {low: 45, high: 80}, repeat_value: {low: 75, high: 130}}
guarantee: {days: 365, return_rate_at_reference: {low: 0.03, high: 0.07},
            conversion_elasticity: {dist: uniform, min: 0.0, max: 0.04}}
"""


def scalar_profit(x: Mapping[str, float], months: int) -> float:
    """Profit of one trial over `months` (the month's profits less the cost of the refunds
    still owed at the horizon), with the engine's month equations in scalars.

    Written from docs/model.md ("The month"), one customer cohort per
    acquisition month, so that a disagreement with the vectorised engine shows up here.
    """
    days, reference = x["guarantee.days"], x["guarantee.reference_days"]
    length_ratio = days / reference
    conversion_multiplier = length_ratio ** x["guarantee.conversion_elasticity"]
    rho_ref = x["guarantee.return_rate_at_reference"]
    return_rate = min(1.0, rho_ref * length_ratio ** x["guarantee.return_elasticity"])
    late_months = math.ceil((days - reference) / 30.0)
    if late_months >= 1 and return_rate > rho_ref:
        return_now, return_late = min(return_rate, rho_ref), return_rate - min(return_rate,
                                                                               rho_ref)
    else:
        return_now, return_late, late_months = return_rate, 0.0, 1
    late_value = [0.0] * (months + late_months + 1)
    late_count = [0.0] * (months + late_months + 1)

    sbg = "hot.churn.sbg.alpha" in x
    alpha, beta = x.get("hot.churn.sbg.alpha", 0.0), x.get("hot.churn.sbg.beta", 0.0)
    churn_monthly = x.get("hot.churn.monthly", 0.0)
    unpreventable = x["hot.churn_unpreventable"]
    start_tenure = x["market.customers_start_tenure"]
    margin, resale, handling = (x["orders.gross_margin"], x["guarantee.resale_share"],
                                x["guarantee.handling_cost"])

    prospects, warm = x["market.prospects"], x["market.warm_start"]
    starting = x["market.customers_start"]  # customers there at month 0
    cohorts: list[float] = []  # cohorts[j]: customers acquired in month j still active
    total_profit = 0.0
    for t in range(months):
        budget = x["budget.monthly"] * (1.0 + x["budget.growth_monthly"]) ** t
        spend_cold = x["budget.split.cold"] * budget
        spend_warm = x["budget.split.warm"] * budget
        spend_hot = x["budget.split.hot"] * budget
        active = starting + sum(cohorts)

        impressions = spend_cold / x["cold.cost_per_thousand"] * 1000.0
        if prospects > 0:
            leads = prospects * -math.expm1(-x["cold.engagement_rate"] * impressions
                                            / max(prospects, 1e-12))
        else:
            leads = 0.0

        spend_per_lead = spend_warm / max(warm, 1.0)
        p0, pmax = x["warm.conversion_no_spend"], x["warm.conversion_max"]
        conversion = min(1.0, (p0 + (pmax - p0) * -math.expm1(
            -spend_per_lead / x["warm.spend_scale"])) * conversion_multiplier)
        new = warm * conversion

        saturation = math.exp(-spend_hot / max(active, 1.0) / x["hot.spend_scale"])
        q0, qmax = x["hot.repeat_no_spend"], x["hot.repeat_max"]
        repeats = active * (q0 + (qmax - q0) * (1.0 - saturation))

        gross = new * x["orders.first_value"] + repeats * x["orders.repeat_value"]
        orders = new + repeats
        for k in range(1, late_months + 1):
            late_value[t + k] += return_late * gross / late_months
            late_count[t + k] += return_late * orders / late_months
        refunds = return_now * gross + late_value[t]
        returned = return_now * orders + late_count[t]
        total_profit += (gross - refunds - (1.0 - margin) * gross
                         + resale * (1.0 - margin) * refunds - handling * returned - budget)

        preventable = unpreventable + (1.0 - unpreventable) * saturation
        cohorts.append(new)
        for j in range(len(cohorts)):
            base = alpha / (alpha + beta + (t - j)) if sbg else churn_monthly
            cohorts[j] -= cohorts[j] * base * preventable
        base = alpha / (alpha + beta + start_tenure + t) if sbg else churn_monthly
        starting -= starting * base * preventable
        warm = (warm - new) * (1.0 - x["cold.lead_decay_monthly"]) + leads
        prospects -= leads
    # Refunds still owed at the horizon (docs/model.md#refunds-owed-at-the-horizon): the late
    # refunds scheduled after the last month, and the returned orders behind them, cost
    # OL (1 - r (1 - m)) + h OR.
    owed_value, owed_count = sum(late_value[months:]), sum(late_count[months:])
    return total_profit - (owed_value * (1.0 - resale * (1.0 - margin)) + handling * owed_count)


def check_against_engine(scenario: Scenario, label: str) -> tuple[float, float]:
    """Time the scalar loop on SCALAR_TRIALS trials; print the worst relative profit gap."""
    inputs = sample_inputs(scenario, SCALAR_TRIALS, SEED)
    engine_profit = simulate(scenario, inputs=inputs, horizon=MONTHS).metrics["profit"]
    rows = [{path: float(values[i]) for path, values in inputs.items()}
            for i in range(SCALAR_TRIALS)]
    start = time.perf_counter()
    scalar = np.array([scalar_profit(row, MONTHS) for row in rows])
    seconds = time.perf_counter() - start
    gap = float(np.max(np.abs(scalar - engine_profit)
                       / np.maximum(np.abs(engine_profit), 1.0)))
    verdict = "OK" if gap <= CHECK_TOLERANCE else "MISMATCH"
    print(f"profit check, {label}: max relative gap {gap:.2e} over {SCALAR_TRIALS} trials "
          f"(tolerance {CHECK_TOLERANCE:.0e}): {verdict}")
    return seconds, gap


def best_time(function: object, repeats: int = 3) -> float:
    """Return the fastest of a few timed calls (less noise from the shared cores)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def traced_run(scenario: Scenario, trials: int) -> tuple[float, float]:
    """Return (seconds, peak traced MB) of one run of `trials` trials."""
    tracemalloc.start()
    start = time.perf_counter()
    simulate(scenario, trials=trials, seed=SEED, horizon=MONTHS)
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak / 2**20


def main() -> None:
    """Print throughput, the speed-up over plain Python, the profit check and memory."""
    default = Scenario()
    simulate(default, trials=1_000, seed=SEED, horizon=MONTHS)  # warm-up (imports, caches)
    engine_seconds = best_time(lambda: simulate(default, trials=TRIALS, seed=SEED,
                                                horizon=MONTHS))
    trial_months = TRIALS * MONTHS
    print(f"engine (expected flows, default scenario): {TRIALS:,} trials x {MONTHS} months in "
          f"{engine_seconds:.3f} s = {trial_months / engine_seconds:,.0f} trial-months/s")

    scalar_seconds, _ = check_against_engine(default, "default scenario")
    check_against_engine(load_scenario_text(UNCERTAIN_YAML), "uncertain, sBG, 365-day guarantee")
    scalar_scaled = scalar_seconds * TRIALS / SCALAR_TRIALS
    print(f"plain Python loop: {SCALAR_TRIALS} trials in {scalar_seconds:.3f} s, scaled to "
          f"{TRIALS:,}: {scalar_scaled:.1f} s = "
          f"{SCALAR_TRIALS * MONTHS / scalar_seconds:,.0f} trial-months/s")
    print(f"speed-up of the engine over plain Python: {scalar_scaled / engine_seconds:,.0f}x")

    small_seconds, small_peak = traced_run(default, 20_000)
    big_seconds, big_peak = traced_run(default, BIG_TRIALS)
    print(f"{BIG_TRIALS:,} trials x {MONTHS} months: {big_seconds:.2f} s (under tracemalloc), "
          f"peak traced memory {big_peak:,.0f} MB")
    print(f"20,000 trials (one chunk): {small_seconds:.2f} s, peak {small_peak:,.0f} MB; "
          f"10x the trials cost {big_peak / small_peak:.1f}x the peak memory")


if __name__ == "__main__":
    main()
