"""Guarantee length: break-even lifts against closed forms, the sweep's paired draws, the A/B plan.

The engine is checked against the closed forms on a "linear funnel", where every order grows in
proportion to conversion: no starting customers, every unconverted lead drops out each month
(lead decay 1, so the warm pool does not depend on past conversions) and no retention spend (so
repeat and churn rates do not depend on the number of customers). There the break-even lift of
the engine must equal the per-order formula exactly.
"""

from __future__ import annotations

import math
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

from sim.analytics import break_even_lift_profit
from sim.distributions import point_inputs
from sim.engine import simulate
from sim.guarantee import (
    FIVE_YEARS,
    ONE_YEAR,
    SWEEP_DAYS,
    ab_plan,
    break_even,
    desk_study,
    evaluate_lengths,
    lift_return_map,
)
from sim.metrics import compare_paired
from sim.scenario import apply_overrides, load_scenario_file, load_scenario_text
from tests.conftest import REPO_ROOT

#: Return elasticity that exactly doubles returns from 30 days to 5 years (ln 2 / ln(1825/30)).
DOUBLING = math.log(2.0) / math.log(FIVE_YEARS / 30)
#: The article's example: 5% returns at 30 days, 10% at 5 years.
ARTICLE_REVENUE_LIFT = 0.95 / 0.90 - 1.0

LINEAR_FUNNEL = f"""
schema: 1
name: Linear funnel
simulation: {{horizon_months: 24, trials: 200, seed: 11, flows: expected}}
finance: {{discount_rate_annual: 0.10}}
market: {{prospects: 1000000, warm_start: 5000, customers_start: 0, customers_start_tenure: 1}}
budget: {{monthly: 40000, growth_monthly: 0.0, split: {{cold: 0.7, warm: 0.3, hot: 0.0}}}}
cold: {{cost_per_thousand: {{low: 6, high: 14}}, engagement_rate: 0.01, lead_decay_monthly: 1.0}}
warm: {{conversion_no_spend: 0.002, conversion_max: {{low: 0.03, high: 0.08}}, spend_scale: 3.0}}
hot: {{churn: {{monthly: 0.1}}, churn_unpreventable: 0.3, repeat_no_spend: 0.0, repeat_max: 0.0,
       spend_scale: 4.0}}
orders: {{first_value: 60, repeat_value: 100, gross_margin: 0.5}}
guarantee: {{days: 30, reference_days: 30, return_rate_at_reference: 0.05,
            return_elasticity: {DOUBLING!r}, conversion_elasticity: 0.0, handling_cost: 8,
            resale_share: 0.5}}
"""


@pytest.fixture(scope="module")
def linear_funnel():
    return load_scenario_text(LINEAR_FUNNEL)


@pytest.fixture(scope="module")
def shipped_guarantee():
    return load_scenario_file(REPO_ROOT / "scenarios" / "guarantee.yaml")


# --- Break-even ----------------------------------------------------------------------------


def test_article_break_even_from_the_closed_form(shipped_guarantee) -> None:
    exact = apply_overrides(shipped_guarantee, {"guarantee.return_elasticity": DOUBLING})
    be = break_even(exact, FIVE_YEARS)
    assert be.return_rate_current == pytest.approx(0.05)
    assert be.return_rate_candidate == pytest.approx(0.10)
    assert be.revenue_closed_form == pytest.approx(ARTICLE_REVENUE_LIFT, rel=1e-9)
    assert round(be.revenue_closed_form, 4) == 0.0556


def test_engine_break_even_equals_the_closed_forms_on_a_linear_funnel(linear_funnel) -> None:
    be = break_even(linear_funnel, FIVE_YEARS)
    assert be.revenue_engine == pytest.approx(ARTICLE_REVENUE_LIFT, abs=1e-6)
    assert be.order_value == pytest.approx(60.0)
    # Profit per order at $60: kept revenue, goods cost, resale of returns, $8 handling.
    expected = break_even_lift_profit(60.0, 0.05, 0.10, 0.5, 0.5, 8.0)
    assert be.profit_closed_form == pytest.approx(expected, rel=1e-12)
    assert be.profit_engine == pytest.approx(expected, abs=1e-6)
    assert be.profit_engine > be.revenue_engine  # handling and goods cost make returns dearer


def test_sweep_at_the_break_even_lift_ties_on_revenue_in_every_future(linear_funnel) -> None:
    # Conversion elasticity that lifts conversion by exactly 5.56% at five years.
    tuned = apply_overrides(linear_funnel, {
        "guarantee.conversion_elasticity": math.log(1 + ARTICLE_REVENUE_LIFT)
        / math.log(FIVE_YEARS / 30)})
    runs = evaluate_lengths(tuned, [FIVE_YEARS], trials=300, seed=5)
    five, thirty = (runs.metric("net_revenue", d) for d in (FIVE_YEARS, 30))
    np.testing.assert_allclose(five, thirty, rtol=1e-9)
    assert np.median(runs.metric("conversion_multiplier", FIVE_YEARS)) == pytest.approx(
        1 + ARTICLE_REVENUE_LIFT)
    assert np.median(runs.metric("return_multiplier", FIVE_YEARS)) == pytest.approx(2.0)
    # Within the horizon alone the five-year guarantee looks better: its late refunds are owed.
    assert np.all(runs.metric("net_revenue_in_horizon", FIVE_YEARS) > thirty)
    assert np.all(runs.metric("open_guarantee_liability", FIVE_YEARS) > 0)


def test_sweep_at_the_profit_break_even_ties_on_profit(linear_funnel) -> None:
    lift = break_even_lift_profit(60.0, 0.05, 0.10, 0.5, 0.5, 8.0)
    tuned = apply_overrides(linear_funnel, {
        "guarantee.conversion_elasticity": math.log(1 + lift) / math.log(FIVE_YEARS / 30)})
    runs = evaluate_lengths(tuned, [FIVE_YEARS], trials=200, seed=5)
    np.testing.assert_allclose(runs.metric("profit", FIVE_YEARS),
                               runs.metric("profit", 30), rtol=1e-9)


def test_decision_profit_charges_the_refunds_owed(linear_funnel) -> None:
    five = apply_overrides(linear_funnel, {"guarantee.days": FIVE_YEARS})
    result = simulate(five, trials=50, seed=3)
    m = result.metrics
    owed = m["open_guarantee_liability"]
    assert np.all(owed > 0)
    # Every order is a $60 first order here, so the owed returns are the owed value / $60.
    np.testing.assert_allclose(m["open_guarantee_returns"], owed / 60.0, rtol=1e-12)
    np.testing.assert_allclose(m["net_revenue"], m["net_revenue_in_horizon"] - owed)
    # Each owed refund costs the refund, less resale of half the goods' cost (50% margin), plus
    # $8 handling per returned $60 order.
    cost = owed * (1 - 0.5 * 0.5) + 8.0 * owed / 60.0
    np.testing.assert_allclose(m["profit"], m["profit_in_horizon"] - cost, rtol=1e-12)
    # NPV: the cost discounted from the end of month 24 at 10% a year.
    in_horizon_npv = (result.monthly["profit"] * 1.1 ** (-(np.arange(24) + 1) / 12)).sum(axis=1)
    np.testing.assert_allclose(m["npv"], in_horizon_npv - cost * 1.1 ** -2, rtol=1e-12)


def test_shorter_guarantee_breaks_even_with_a_conversion_fall(shipped_guarantee) -> None:
    be = break_even(shipped_guarantee, 7)
    assert be.return_rate_candidate < be.return_rate_current
    assert be.revenue_closed_form < 0 and be.revenue_engine < 0 and be.profit_engine < 0


# --- Same draws, every length ---------------------------------------------------------------


def test_zero_elasticities_make_every_length_identical(shipped_guarantee) -> None:
    flat = apply_overrides(shipped_guarantee, {"guarantee.return_elasticity": 0.0,
                                               "guarantee.conversion_elasticity": 0.0})
    runs = evaluate_lengths(flat, SWEEP_DAYS, trials=300, seed=9)
    assert runs.days == SWEEP_DAYS
    for name, values in runs.metrics.items():
        assert np.array_equal(values, np.broadcast_to(values[0], values.shape)), name
    for series in runs.timing.values():
        for bands in series.values():
            np.testing.assert_array_equal(bands["p50"], series[30]["p50"])
    comparison = compare_paired(runs.metric("profit", FIVE_YEARS), runs.metric("profit", 30))
    assert comparison.p_tie == 1.0 and comparison.p_beats == 0.0


def test_each_length_is_the_same_futures_as_a_variant_run(shipped_guarantee) -> None:
    runs = evaluate_lengths(shipped_guarantee, [ONE_YEAR, FIVE_YEARS], trials=400, seed=21)
    assert runs.days == (30, ONE_YEAR, FIVE_YEARS)
    for days in runs.days:
        alone = simulate(apply_overrides(shipped_guarantee, {"guarantee.days": days}),
                         trials=400, seed=21)
        np.testing.assert_allclose(runs.metric("profit", days), alone.metrics["profit"],
                                   rtol=1e-12)
        np.testing.assert_allclose(runs.metric("open_guarantee_liability", days),
                                   alone.metrics["open_guarantee_liability"], rtol=1e-12)
    # 30 days at its own reference length owes nothing; five years owes refunds for years.
    assert np.all(runs.metric("open_guarantee_liability", 30) == 0)
    assert np.all(runs.metric("open_guarantee_liability", FIVE_YEARS)
                  > runs.metric("open_guarantee_liability", ONE_YEAR))
    owed = runs.timing["open_liability"][FIVE_YEARS]["p50"]
    assert owed[-1] > 0 and np.all(np.diff(owed[:12]) > 0)


def test_random_flows_run_one_length_per_engine_call(shipped_guarantee) -> None:
    noisy = apply_overrides(shipped_guarantee, {"simulation.flows": "random"})
    runs = evaluate_lengths(noisy, [FIVE_YEARS], trials=100, seed=4)
    alone = simulate(apply_overrides(noisy, {"guarantee.days": FIVE_YEARS}), trials=100, seed=4)
    np.testing.assert_array_equal(runs.metric("profit", FIVE_YEARS), alone.metrics["profit"])


def test_lead_funnel_of_the_current_guarantee(linear_funnel) -> None:
    runs = evaluate_lengths(linear_funnel, [], trials=100, seed=2)
    result = simulate(linear_funnel, trials=100, seed=2)
    leads = result.monthly["leads"]
    pool = result.inputs["market.warm_start"] + leads.sum(axis=1)
    np.testing.assert_allclose(runs.lead_conversion, result.metrics["new_customers"] / pool)
    np.testing.assert_allclose(runs.leads_per_month, leads.mean(axis=1))


# --- The map ------------------------------------------------------------------------------


def test_map_break_even_lines_agree_on_a_linear_funnel(linear_funnel) -> None:
    lift_map = lift_return_map(linear_funnel, FIVE_YEARS)
    assert lift_map.profit_difference.shape == (len(lift_map.multipliers), len(lift_map.lifts))
    # Same returns, no lift: nothing changes once the refunds still owed are counted.
    assert lift_map.profit_difference[0, 0] == pytest.approx(0.0, abs=1e-6)
    for multiplier, closed, engine in zip(lift_map.multipliers, lift_map.break_even_closed_form,
                                          lift_map.break_even_engine, strict=True):
        expected = break_even_lift_profit(60.0, 0.05, 0.05 * multiplier, 0.5, 0.5, 8.0)
        assert closed == pytest.approx(expected, rel=1e-9)
        if expected <= lift_map.lifts[-1]:
            assert engine == pytest.approx(expected, abs=1e-6)
        else:
            assert math.isnan(engine)
    # More lift pays more; more returns cost more.
    assert np.all(np.diff(lift_map.profit_difference, axis=1) > 0)
    assert np.all(np.diff(lift_map.profit_difference, axis=0) < 0)


# --- A/B test planner ---------------------------------------------------------------------


def test_ab_plan_textbook_example() -> None:
    # 50% vs 75% (a 50% lift), 5% two-sided, 90% power: 76.7 per arm (e.g. Chow et al.).
    plan = ab_plan(0.50, 0.50, leads_per_month=1300, alpha=0.05, power=0.90)
    assert round(plan.leads_per_arm_exact, 1) == 76.7
    assert plan.leads_per_arm == 77
    assert plan.conversion_candidate == pytest.approx(0.75)
    # 1,300 leads a month = 300 a week; two arms of 77.
    assert plan.weeks == pytest.approx(2 * 77 / 300)


def test_ab_plan_small_relative_lift() -> None:
    # 2% conversion, +10% relative (2.2%), 5% two-sided, 80% power: 80,681 leads per arm.
    plan = ab_plan(0.02, 0.10, leads_per_month=52_000, alpha=0.05, power=0.80)
    assert plan.leads_per_arm_exact == pytest.approx(80_681, abs=1)
    assert plan.weeks == pytest.approx(2 * plan.leads_per_arm / 12_000)


def test_ab_plan_refuses_nothing_to_detect() -> None:
    with pytest.raises(ValueError, match="lift"):
        ab_plan(0.02, 0.0, leads_per_month=1000)
    with pytest.raises(ValueError, match="lift"):
        ab_plan(0.02, math.inf, leads_per_month=1000)


# --- Returns desk -------------------------------------------------------------------------


def _small_shop_inputs(days: int) -> dict[str, float]:
    scenario = load_scenario_file(REPO_ROOT / "scenarios" / "guarantee.yaml")
    small = apply_overrides(scenario, {"market.prospects": 100000, "market.warm_start": 2000,
                                       "market.customers_start": 300, "budget.monthly": 5000})
    inputs = point_inputs(small)
    inputs["guarantee.days"] = float(days)
    return inputs


@pytest.mark.slow
def test_desk_study_finds_the_fewest_agents_and_reports_progress() -> None:
    seen: list[float] = []
    study = desk_study(_small_shop_inputs(FIVE_YEARS), 12, 1, 4.0, 2.0, seed=3,
                       progress=seen.append)
    assert seen[-1] == 1.0 and seen == sorted(seen)
    assert study.agents_needed == study.result.agents_needed(2.0, 0.95)
    assert study.result.claims > 0


@pytest.mark.slow
def test_desk_study_runs_in_a_spawned_worker_with_shared_progress() -> None:
    # The page's path: a spawned worker process, progress through a manager value.
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, ProcessPoolExecutor(1, mp_context=context) as pool:
        done = manager.Value("d", 0.0)
        study = pool.submit(desk_study, _small_shop_inputs(ONE_YEAR), 12, 2, 1.0, 4.0, 3,
                            done.set).result(timeout=120)
        assert done.get() == 1.0
    local = desk_study(_small_shop_inputs(ONE_YEAR), 12, 2, 1.0, 4.0, 3)
    assert study.agents_needed == local.agents_needed
    np.testing.assert_array_equal(study.result.daily_refunds, local.result.daily_refunds)
