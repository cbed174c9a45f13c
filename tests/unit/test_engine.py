"""The monthly engine against figures it did not produce: closed forms and hand calculations.

Every expected number here is written out from docs/model.md's equations with plain floats (or taken
from a published formula), never read back from the engine.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from sim import engine
from sim.analytics import sbg_survival
from sim.distributions import sample_inputs
from sim.engine import BASE_LABEL, plan_scenarios, simulate, simulate_plans
from sim.scenario import Scenario, apply_overrides
from sim.stacked import run_stacked

TRIALS = 100


def scenario(**dotted: Any) -> Scenario:
    """The default scenario with dotted overrides (written with '__' for '.') applied."""
    return apply_overrides(Scenario(), {k.replace("__", "."): v for k, v in dotted.items()})


# A business with no marketing and no flows unless a test adds them.
QUIET: dict[str, Any] = {
    "simulation__trials": TRIALS,
    "budget__monthly": 0,
    "budget__growth_monthly": 0,
    "market__prospects": 0,
    "market__warm_start": 0,
    "market__customers_start": 0,
    "guarantee__days": 30,
    "guarantee__reference_days": 30,
}


def quiet(**dotted: Any) -> Scenario:
    """A scenario with nothing happening except what the test switches on."""
    return scenario(**{**QUIET, **dotted})


def only(values: np.ndarray) -> float:
    """The single value shared by every trial (all inputs fixed, expected flows)."""
    assert np.ptp(values) <= 1e-12 * max(1.0, float(np.max(np.abs(values))))
    return float(values[0])


# ---------------------------------------------------------------------------------- CLV


def test_clv_matches_gupta_lehmann_366_67() -> None:
    # Retention 0.8, margin 100 per period, discount 10% per period, first margin at
    # acquisition: m * (1 + i) / (1 + i - r) = 100 * 1.1 / 0.3 = 366.67 (to the infinite sum;
    # the 240-month truncation is below 1e-30 here).
    s = scenario(
        simulation__trials=TRIALS, simulation__horizon_months=12,
        hot__repeat_no_spend=1, hot__repeat_max=1,
        guarantee__return_rate_at_reference=0, guarantee__handling_cost=0,
        budget__split={"cold": 0.6, "warm": 0.4, "hot": 0.0},
        hot__churn__monthly=0.2, hot__churn_unpreventable=1,
        orders__first_value=200, orders__repeat_value=200, orders__gross_margin=0.5,
        finance__discount_rate_annual=1.1**12 - 1,
    )
    clv = simulate(s).metrics["clv_new_customer"]
    assert clv == pytest.approx(np.full(TRIALS, 100 * 1.1 / 0.3), abs=0.01)
    assert only(clv) == pytest.approx(366.67, abs=0.01)


def test_clv_with_sbg_sums_240_months_whatever_the_horizon() -> None:
    # docs/model.md#clv-of-a-new-customer:
    # CLV = first contribution + sum over j = 1..240 of S(j) * m * (1 + i)^-j, with
    # S(j) = prod_{k<j} (1 - alpha / (alpha + beta + k)). The horizon and the starting
    # customers' tenure describe the simulation, not the value of a new customer.
    alpha, beta, i = 0.7, 1.2, 1.1 ** (1 / 12) - 1
    q, value, margin = 0.5, 200.0, 0.5
    m = q * value * margin
    expected, alive = value * margin, 1.0
    for j in range(1, 241):
        alive *= 1 - alpha / (alpha + beta + j - 1)
        expected += alive * m * (1 + i) ** -j
    for horizon, tenure in ((1, 1), (12, 1), (60, 240), (120, 240)):
        s = scenario(
            simulation__trials=TRIALS, simulation__horizon_months=horizon,
            market__customers_start_tenure=tenure,
            hot__repeat_no_spend=q, hot__repeat_max=q, hot__churn_unpreventable=1,
            hot__churn={"sbg": {"alpha": alpha, "beta": beta}},
            guarantee__return_rate_at_reference=0, guarantee__handling_cost=0,
            budget__split={"cold": 0.6, "warm": 0.4, "hot": 0.0},
            orders__first_value=value, orders__repeat_value=value, orders__gross_margin=margin,
            finance__discount_rate_annual=0.1,
        )
        clv = only(simulate(s).metrics["clv_new_customer"])
        assert clv == pytest.approx(expected, rel=1e-9), (horizon, tenure)


# ---------------------------------------------------------------- guarantee break-even


def test_guarantee_break_even_lift_keeps_net_revenue_equal() -> None:
    # 5% returns at 30 days doubling to 10% at 1825 days needs a conversion lift of
    # 0.95 / 0.90 - 1 = 5.56% to keep net revenue equal. Orders happen only in month 0 (warm
    # leads at start, no prospects, every lead gone after month 0) and the late refunds of the
    # 1825-day guarantee spread over ceil(1795 / 30) = 60 months, all inside a 70-month horizon.
    ratio = 1825 / 30
    lift = 0.95 / 0.90 - 1
    assert lift == pytest.approx(0.0556, abs=5e-5)
    s = quiet(
        simulation__horizon_months=70,
        market__warm_start=50_000, cold__lead_decay_monthly=1,
        budget__monthly=20_000, budget__split={"cold": 0.0, "warm": 1.0, "hot": 0.0},
        hot__repeat_no_spend=0, hot__repeat_max=0,
        guarantee__return_rate_at_reference=0.05,
        guarantee__return_elasticity=math.log(2) / math.log(ratio),
        guarantee__conversion_elasticity=math.log(0.95 / 0.90) / math.log(ratio),
        variants={"Five-year guarantee": {"guarantee": {"days": 1825}}},
    )
    results = simulate_plans(plan_scenarios(s))
    base, five = results[BASE_LABEL], results["Five-year guarantee"]

    # Conversion in month 0 by hand: spend per lead 20000 / 50000 = 0.4 per lead.
    p0, pmax, scale = 0.002, 0.05, 3.0
    p_base = p0 + (pmax - p0) * (1 - math.exp(-0.4 / scale))
    p_five = p_base * (1 + lift)
    assert p_five < 1  # the min(1, .) cap never bites
    assert base.monthly["new_customers"][:, 0] == pytest.approx(50_000 * p_base, rel=1e-12)
    assert five.monthly["new_customers"][:, 0] == pytest.approx(50_000 * p_five, rel=1e-12)
    assert five.monthly["new_customers"][:, 1:].max() == 0

    gross = 50_000 * p_base * 60.0
    assert base.metrics["net_revenue"] == pytest.approx(np.full(TRIALS, gross * 0.95), rel=1e-9)
    assert five.metrics["net_revenue"] == pytest.approx(base.metrics["net_revenue"], rel=1e-6)
    assert five.metrics["refunds"] == pytest.approx(np.full(TRIALS, gross * (1 + lift) * 0.10),
                                                    rel=1e-9)
    assert np.abs(five.metrics["open_guarantee_liability"]).max() < 1e-6 * gross
    # The 5% at reference is refunded at once; the extra 5% in 60 equal parts, months 1..60.
    extra = gross * (1 + lift) * 0.05 / 60
    refunds = five.monthly["refunds"][0]
    assert refunds[0] == pytest.approx(gross * (1 + lift) * 0.05, rel=1e-9)
    assert refunds[1:61] == pytest.approx(np.full(60, extra), rel=1e-9)
    assert np.abs(refunds[61:]).max() < 1e-9 * gross


# ---------------------------------------------------------------- sBG churn in the engine


def test_sbg_survival_of_a_starting_cohort() -> None:
    # No new customers, no retention effect (churn_unpreventable 1): customers of tenure 1
    # churn at alpha / (alpha + beta + k) with k = 1, 2, ... in months 0, 1, ...
    alpha, beta, start, months = 0.7, 1.2, 10_000.0, 24
    s = quiet(
        simulation__horizon_months=months, market__customers_start=start,
        market__customers_start_tenure=1, hot__churn_unpreventable=1,
        hot__churn={"sbg": {"alpha": alpha, "beta": beta}},
    )
    active = simulate(s).monthly["active_customers"]
    by_hand, alive = [], start
    for k in range(1, months + 1):
        alive *= 1 - alpha / (alpha + beta + k)
        by_hand.append(alive)
    assert active[0] == pytest.approx(by_hand, rel=1e-12)
    # After month t the cohort has lived through tenures 1..t+1: S(t + 2) / S(1).
    survival = sbg_survival(alpha, beta, months + 1)
    assert active[0] == pytest.approx(start * survival[2:] / survival[1], rel=1e-9)
    assert np.diff(active, axis=1).max() < 0


def test_sbg_survival_of_a_new_cohort() -> None:
    # One cohort bought in month 0 (warm leads at start, no spend, every lead gone after month
    # 0); it churns at tenure 0 in its first month, so after month t S(t + 1) of it is left.
    alpha, beta, leads, p0, months = 1.3, 2.6, 40_000.0, 0.02, 18
    s = quiet(
        simulation__horizon_months=months, market__warm_start=leads,
        cold__lead_decay_monthly=1, warm__conversion_no_spend=p0,
        hot__churn_unpreventable=1, hot__churn={"sbg": {"alpha": alpha, "beta": beta}},
    )
    result = simulate(s)
    cohort = leads * p0
    assert result.metrics["new_customers"] == pytest.approx(np.full(TRIALS, cohort), rel=1e-12)
    survival = sbg_survival(alpha, beta, months)
    assert result.monthly["active_customers"][0] == pytest.approx(cohort * survival[1:],
                                                                  rel=1e-9)


def test_constant_churn_with_spend_lowers_only_the_preventable_part() -> None:
    # churn = c * (u + (1 - u) * exp(-b / scale)), b = hot spend per customer.
    c, u, scale, customers, hot = 0.1, 0.3, 4.0, 1000.0, 2000.0
    s = quiet(
        simulation__horizon_months=1, market__customers_start=customers,
        budget__monthly=hot, budget__split={"cold": 0.0, "warm": 0.0, "hot": 1.0},
        hot__churn__monthly=c, hot__churn_unpreventable=u, hot__spend_scale=scale,
    )
    churn = c * (u + (1 - u) * math.exp(-(hot / customers) / scale))
    result = simulate(s)
    assert only(result.monthly["churned"][:, 0]) == pytest.approx(customers * churn, rel=1e-12)
    assert only(result.metrics["active_customers_end"]) == pytest.approx(
        customers * (1 - churn), rel=1e-12)


# ---------------------------------------------------------------- one month by hand


def test_one_month_by_hand() -> None:
    s = scenario(
        simulation__trials=TRIALS, simulation__horizon_months=1,
        finance__discount_rate_annual=0.12,
        market__prospects=100_000, market__warm_start=2000, market__customers_start=500,
        market__customers_start_tenure=3,
        budget__monthly=10_000, budget__split={"cold": 0.5, "warm": 0.4, "hot": 0.1},
        cold__cost_per_thousand=20, cold__engagement_rate=0.02, cold__lead_decay_monthly=0.1,
        warm__conversion_no_spend=0.01, warm__conversion_max=0.06, warm__spend_scale=2,
        hot__churn__monthly=0.08, hot__churn_unpreventable=0.25, hot__repeat_no_spend=0.1,
        hot__repeat_max=0.3, hot__spend_scale=5,
        orders__first_value=200, orders__repeat_value=80, orders__gross_margin=0.4,
        guarantee__days=30, guarantee__reference_days=30,
        guarantee__return_rate_at_reference=0.04, guarantee__handling_cost=6,
        guarantee__resale_share=0.5,
    )
    # 1. Reach: 5000 / 20 * 1000 = 250,000 impressions.
    impressions = 5000 / 20 * 1000
    leads = 100_000 * (1 - math.exp(-0.02 * impressions / 100_000))
    # 2. Conversion: 4000 spent on 2000 leads.
    p = 0.01 + (0.06 - 0.01) * (1 - math.exp(-(4000 / 2000) / 2))
    new = 2000 * p
    # 3. Retention: 1000 spent on 500 customers.
    b = 1000 / 500
    e = math.exp(-b / 5)
    q = 0.1 + (0.3 - 0.1) * (1 - e)
    repeats = 500 * q
    # 4. Orders and returns (guarantee at its reference length: all refunds now).
    gross = new * 200 + repeats * 80
    refunds = 0.04 * gross
    returned = 0.04 * (new + repeats)
    profit = (gross - refunds - 0.6 * gross + 0.5 * 0.6 * refunds - 6 * returned - 10_000)
    # 5. Move.
    churn = 0.08 * (0.25 + 0.75 * e)
    churned = (500 + new) * churn
    active = 500 + new - churned
    i = 1.12 ** (1 / 12) - 1

    result = simulate(s)
    m, mo = result.metrics, result.monthly
    expected_monthly = {
        "leads": leads, "new_customers": new, "repeat_orders": repeats,
        "gross_revenue": gross, "refunds": refunds, "net_revenue": gross - refunds,
        "profit": profit, "churned": churned, "active_customers": active, "spend": 10_000,
        "open_liability": 0.0,
    }
    for name, value in expected_monthly.items():
        assert mo[name][:, 0] == pytest.approx(np.full(TRIALS, value), rel=1e-9, abs=1e-12), name
    expected_metrics = {
        "gross_revenue": gross, "net_revenue": gross - refunds, "refunds": refunds,
        "profit": profit, "npv": profit / (1 + i), "new_customers": new,
        "cac": 9000 / new, "active_customers_end": active, "marketing_spend": 10_000,
        "repeat_revenue_share": repeats * 80 / gross, "leaky_bucket_ratio": churned / new,
        "churned_customers": churned, "open_guarantee_liability": 0.0,
    }
    for name, value in expected_metrics.items():
        assert m[name] == pytest.approx(np.full(TRIALS, value), rel=1e-9, abs=1e-12), name

    # CLV from this month's q, rho, b and churn, summed over 240 months.
    def per_order(value: float) -> float:
        return value * ((1 - 0.04) - 0.6 + 0.04 * 0.5 * 0.6) - 0.04 * 6

    month = q * per_order(80) - b
    clv, alive = per_order(200), 1.0
    for j in range(1, 241):
        alive *= 1 - churn
        clv += alive * month * (1 + i) ** -j
    assert only(m["clv_new_customer"]) == pytest.approx(clv, rel=1e-9)
    assert only(m["ltv_to_cac"]) == pytest.approx(clv / (9000 / new), rel=1e-9)
    # Payback: first month j whose undiscounted cumulative contribution reaches CAC.
    cumulative, alive, payback = per_order(200), 1.0, math.nan
    for j in range(1, 241):
        alive *= 1 - churn
        cumulative += alive * month
        if cumulative >= 9000 / new:
            payback = j
            break
    assert 1 <= payback < 240  # the numbers were chosen so that a customer does pay back
    assert only(m["payback_month"]) == payback


def test_budget_growth_and_discounting_by_hand() -> None:
    # Spend only (nothing to buy, no customers): profit is -B_t, NPV discounts month t by
    # (1 + i)^-(t + 1) with i the monthly equivalent of the annual rate.
    s = quiet(simulation__horizon_months=6, budget__monthly=1000, budget__growth_monthly=0.05,
              finance__discount_rate_annual=0.2, guarantee__handling_cost=0)
    result = simulate(s)
    budgets = [1000 * 1.05**t for t in range(6)]
    i = 1.2 ** (1 / 12) - 1
    assert result.monthly["spend"][0] == pytest.approx(budgets, rel=1e-12)
    assert only(result.metrics["profit"]) == pytest.approx(-sum(budgets), rel=1e-12)
    assert only(result.metrics["npv"]) == pytest.approx(
        -sum(b * (1 + i) ** -(t + 1) for t, b in enumerate(budgets)), rel=1e-12)


def test_early_repeat_rate_by_hand() -> None:
    # One cohort of N in month 0; each month q of those who have not yet re-ordered do so,
    # and churn c removes customers after ordering. Within 3 months:
    # (1 - c) q [1 + (1 - q)(1 - c) + ((1 - q)(1 - c))^2].
    q, c = 0.2, 0.1
    s = quiet(simulation__horizon_months=6, market__warm_start=10_000,
              cold__lead_decay_monthly=1, warm__conversion_no_spend=0.05,
              hot__repeat_no_spend=q, hot__repeat_max=q, hot__churn__monthly=c,
              hot__churn_unpreventable=1)
    stay = (1 - q) * (1 - c)
    expected = (1 - c) * q * (1 + stay + stay**2)
    assert only(simulate(s).metrics["early_repeat_rate"]) == pytest.approx(expected, rel=1e-12)


# ---------------------------------------------------------------- late refunds


def late_refund_scenario(horizon: int) -> Scenario:
    """1000 customers who never churn, each ordering 100 with probability 0.2 every month;
    a 365-day guarantee against a 30-day reference raising returns from 5% to 8%."""
    return quiet(
        simulation__horizon_months=horizon, market__customers_start=1000,
        hot__churn__monthly=0, hot__repeat_no_spend=0.2, hot__repeat_max=0.2,
        orders__repeat_value=100, orders__gross_margin=0.5,
        guarantee__days=365, guarantee__reference_days=30,
        guarantee__return_rate_at_reference=0.05,
        guarantee__return_elasticity=math.log(0.08 / 0.05) / math.log(365 / 30),
        guarantee__handling_cost=4, guarantee__resale_share=0.5,
    )


def test_order_in_the_last_month_leaves_its_late_part_open() -> None:
    # Horizon 1: 200 orders, 20,000 of revenue; 5% refunded now, the extra 3% (600) is spread
    # over ceil(335 / 30) = 12 later months, all after the horizon.
    result = simulate(late_refund_scenario(1))
    assert only(result.metrics["refunds"]) == pytest.approx(1000, rel=1e-12)
    assert only(result.metrics["open_guarantee_liability"]) == pytest.approx(600, rel=1e-9)


def test_late_refunds_spread_over_twelve_months() -> None:
    # Each month: gross 20,000, refunds now 1,000, late part 600 paid as 50 in each of the next
    # 12 months. Month 0's late part is paid 50 in months 1 and 2, month 1's 50 in month 2.
    result = simulate(late_refund_scenario(3))
    mo = result.monthly
    assert mo["refunds"][0] == pytest.approx([1000, 1050, 1100], rel=1e-12)
    assert mo["open_liability"][0] == pytest.approx([600, 1150, 1650], rel=1e-12)
    # Open at the end: (12 - 2) + (12 - 1) + 12 = 33 installments of 50.
    assert only(result.metrics["open_guarantee_liability"]) == pytest.approx(33 * 50, rel=1e-12)
    # Profit counts the handling of late returns when they are refunded: 10 returns now plus
    # 0.5 late returns per earlier month.
    returned = [10, 10.5, 11]
    refunds = [1000, 1050, 1100]
    profit = [20_000 - r - 0.5 * 20_000 + 0.5 * 0.5 * r - 4 * n for r, n in zip(refunds, returned,
                                                                            strict=True)]
    assert mo["profit"][0] == pytest.approx(profit, rel=1e-12)


def test_shorter_guarantee_refunds_everything_at_once() -> None:
    # Days below the reference lower the return rate; nothing is left open.
    s = apply_overrides(late_refund_scenario(2), {"guarantee.days": 15})
    rate = 0.05 * 0.5 ** (math.log(0.08 / 0.05) / math.log(365 / 30))
    result = simulate(s)
    assert result.monthly["refunds"][0] == pytest.approx([rate * 20_000] * 2, rel=1e-12)
    assert only(result.metrics["open_guarantee_liability"]) == 0


# ---------------------------------------------------------------- inputs, chunks, kept trials


def test_given_inputs_replace_sampling() -> None:
    # An array passed in is used as is: a fixed 1825-day guarantee equals the scenario with it.
    s = scenario(simulation__trials=TRIALS, simulation__horizon_months=12,
                 cold__cost_per_thousand={"low": 6, "high": 14})
    inputs = sample_inputs(s, TRIALS, 5)
    inputs["guarantee.days"] = np.full(TRIALS, 1825.0)
    direct = simulate(apply_overrides(s, {"guarantee.days": 1825}), seed=5)
    given = simulate(s, inputs=inputs)
    for name, values in direct.metrics.items():
        assert np.array_equal(given.metrics[name], values, equal_nan=True), name


def test_chunks_and_kept_monthly_trials(monkeypatch: pytest.MonkeyPatch) -> None:
    s = scenario(simulation__trials=TRIALS, simulation__horizon_months=6,
                 cold__cost_per_thousand={"low": 6, "high": 14},
                 hot__churn={"sbg": {"alpha": {"low": 0.5, "high": 1.0}, "beta": 1.2}})
    whole = simulate(s)
    monkeypatch.setattr(engine, "CHUNK_TRIALS", 37)
    monkeypatch.setattr(engine, "MONTHLY_TRIALS_KEPT", 50)
    chunked = simulate(s)
    for name, values in whole.metrics.items():
        np.testing.assert_allclose(chunked.metrics[name], values, rtol=1e-12, err_msg=name)
    assert chunked.monthly["net_revenue"].shape == (50, 6)
    np.testing.assert_allclose(chunked.monthly["net_revenue"], whole.monthly["net_revenue"][:50],
                               rtol=1e-12)


@pytest.mark.parametrize("which", ["numpy", "compiled"])
def test_keep_monthly_bounds_the_kept_series_and_changes_no_metric(which: str) -> None:
    s = scenario(simulation__trials=TRIALS, simulation__horizon_months=6,
                 cold__cost_per_thousand={"low": 6, "high": 14})
    full = simulate(s, engine=which)
    for keep, rows in ((0, 0), (30, 30), (10 * TRIALS, TRIALS)):
        part = simulate(s, engine=which, keep_monthly=keep)
        for name, values in full.metrics.items():
            np.testing.assert_array_equal(part.metrics[name], values, err_msg=name)
        for name, values in full.monthly.items():
            assert part.monthly[name].shape == (rows, 6), (keep, name)
            np.testing.assert_array_equal(part.monthly[name], values[:rows], err_msg=name)


def test_stacked_sets_keep_series_only_when_asked() -> None:
    s = scenario(simulation__trials=TRIALS, simulation__horizon_months=6)
    inputs = sample_inputs(s, TRIALS, 7)
    sets = [inputs, inputs.replaced({"budget.monthly": inputs.budget.monthly * 2})]
    for keep, rows in ((False, 0), (True, TRIALS)):
        parts = run_stacked(s, sets, lambda part: part, seed=7, horizon=6, keep_monthly=keep)
        alone = simulate(s, inputs=sets[1], seed=7, horizon=6)
        np.testing.assert_array_equal(parts[1].metrics["profit"], alone.metrics["profit"])
        assert parts[1].monthly["profit"].shape == (rows, 6)
        np.testing.assert_array_equal(parts[1].monthly["profit"], alone.monthly["profit"][:rows])
