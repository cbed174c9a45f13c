"""Invariants of the engine and the sampler over random valid scenarios (hypothesis).

Scenarios are generated inside the ranges the schema allows, with fixed and uncertain values and
both flow modes; the properties are ones any correct funnel must have, whatever the numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.distributions import sample_inputs, uncertain_fields
from sim.engine import BASE_LABEL, plan_scenarios, simulate, simulate_plans
from sim.scenario import Scenario, apply_overrides, build_scenario, variant_scenario

TRIALS = 100
FAST = settings(max_examples=25, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

COUNT_SERIES = ("new_customers", "active_customers", "churned", "repeat_orders", "leads",
                "gross_revenue", "refunds", "spend")


def floats(low: float, high: float) -> st.SearchStrategy[float]:
    # No subnormals: a conversion of 5e-324 makes CAC overflow to inf, a float curiosity
    # rather than a business.
    return st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False)


@st.composite
def rates(draw: st.DrawFn, low: float = 0.0, high: float = 1.0) -> Any:
    """A rate: a number, a {low, high} logit-normal interval, a uniform or a beta."""
    form = draw(st.sampled_from(["fixed", "fixed", "interval", "uniform", "beta"]))
    if form == "fixed":
        return draw(floats(low, high))
    if form == "interval":
        a = draw(floats(max(low, 1e-4), min(high, 0.98)))
        return {"low": a, "high": draw(floats(a + 1e-3, min(high, 0.999)))}
    if form == "uniform":
        a = draw(floats(low, high - 0.01))
        return {"dist": "uniform", "min": a, "max": draw(floats(a + 0.005, high))}
    return {"dist": "beta", "a": draw(floats(0.5, 20)), "b": draw(floats(0.5, 20))}


@st.composite
def amounts(draw: st.DrawFn, low: float, high: float, zero: bool = False) -> Any:
    """An amount: a number, a {low, high} lognormal interval, triangular or normal."""
    form = draw(st.sampled_from(["fixed", "fixed", "interval", "triangular", "normal"]))
    if form == "fixed":
        return 0 if zero and draw(st.booleans()) else draw(floats(low, high))
    if form == "interval":
        a = draw(floats(low, high / 2))
        return {"low": a, "high": draw(floats(a * 1.01, high))}
    if form == "triangular":
        a = draw(floats(low, high / 2))
        b = draw(floats(a * 1.5, high))
        return {"dist": "triangular", "min": a, "mode": draw(floats(a, b)), "max": b}
    mean = draw(floats(low, high))
    return {"dist": "normal", "mean": mean, "sd": draw(floats(mean / 20, mean))}


@st.composite
def scenario_data(draw: st.DrawFn, flows: str | None = None) -> dict[str, Any]:
    """Plain data of a valid scenario with random values inside the allowed ranges."""
    cold = draw(floats(0, 1))
    warm = (1 - cold) * draw(floats(0, 1))
    churn = ({"monthly": draw(rates())} if draw(st.booleans()) else
             {"sbg": {"alpha": draw(amounts(0.05, 20)), "beta": draw(amounts(0.05, 20))}})
    return {
        "name": "random",
        "simulation": {"horizon_months": draw(st.integers(1, 24)), "trials": TRIALS,
                       "seed": draw(st.integers(0, 2**32 - 1)),
                       "flows": flows or draw(st.sampled_from(["expected", "random"]))},
        "finance": {"discount_rate_annual": draw(floats(0, 1))},
        "market": {"prospects": draw(amounts(1, 1e7, zero=True)),
                   "warm_start": draw(amounts(1, 1e5, zero=True)),
                   "customers_start": draw(amounts(1, 1e5, zero=True)),
                   "customers_start_tenure": draw(st.integers(1, 240))},
        "budget": {"monthly": draw(amounts(1, 1e6, zero=True)),
                   "growth_monthly": draw(floats(-0.5, 0.5)),
                   "split": {"cold": cold, "warm": warm, "hot": max(0.0, 1 - cold - warm)}},
        "cold": {"cost_per_thousand": draw(amounts(0.5, 100)),
                 "engagement_rate": draw(rates()), "lead_decay_monthly": draw(rates())},
        "warm": {"conversion_no_spend": draw(rates()), "conversion_max": draw(rates()),
                 "spend_scale": draw(amounts(0.1, 100))},
        "hot": {"churn": churn, "churn_unpreventable": draw(rates()),
                "repeat_no_spend": draw(rates()), "repeat_max": draw(rates()),
                "spend_scale": draw(amounts(0.1, 100))},
        "orders": {"first_value": draw(amounts(1, 1000)),
                   "repeat_value": draw(amounts(1, 1000)), "gross_margin": draw(rates())},
        "guarantee": {"days": draw(st.integers(1, 3650)),
                      "reference_days": draw(st.integers(1, 3650)),
                      "return_rate_at_reference": draw(rates()),
                      "return_elasticity": draw(floats(-2, 2)),
                      "conversion_elasticity": draw(floats(-2, 2)),
                      "handling_cost": draw(amounts(1, 50, zero=True)),
                      "resale_share": draw(rates())},
    }


@FAST
@given(data=scenario_data())
def test_no_negative_state(data: dict[str, Any]) -> None:
    s = build_scenario(data)
    result = simulate(s)
    for name in COUNT_SERIES:
        series = result.monthly[name]
        assert np.isfinite(series).all(), name
        assert (series >= 0).all(), name
    # Open liability shrinks to 0 as late refunds are paid; allow rounding of that subtraction.
    liability = result.monthly["open_liability"]
    scale = 1.0 + result.monthly["gross_revenue"].sum(axis=1, keepdims=True)
    assert (liability >= -1e-9 * scale).all()
    assert (result.metrics["active_customers_end"] >= 0).all()
    assert (result.metrics["new_customers"] >= 0).all()
    assert not np.isinf(np.concatenate(list(result.metrics.values()))).any()
    if s.simulation.flows == "random":
        # Whole customers and leads: every count flow is an integer.
        for name in ("new_customers", "active_customers", "churned", "repeat_orders", "leads"):
            assert np.array_equal(result.monthly[name], np.rint(result.monthly[name])), name


@FAST
@given(data=scenario_data())
def test_spend_equals_budget(data: dict[str, Any]) -> None:
    s = build_scenario(data)
    result = simulate(s)
    monthly = result.inputs["budget.monthly"]
    growth = result.inputs["budget.growth_monthly"]
    months = np.arange(s.simulation.horizon_months)
    budgets = monthly[:, None] * (1 + growth[:, None]) ** months[None, :]
    np.testing.assert_allclose(result.monthly["spend"], budgets, rtol=1e-12)
    np.testing.assert_allclose(result.metrics["marketing_spend"], budgets.sum(axis=1),
                               rtol=1e-12)


@FAST
@given(data=scenario_data())
def test_no_budget_and_no_customers_gives_no_revenue(data: dict[str, Any]) -> None:
    data["budget"]["monthly"] = 0
    data["market"].update(customers_start=0, warm_start=0)
    result = simulate(build_scenario(data))
    for name in ("gross_revenue", "net_revenue", "new_customers", "refunds", "profit",
                 "open_guarantee_liability"):
        assert (result.metrics[name] == 0).all(), name


@FAST
@given(data=scenario_data(flows="expected"))
def test_fixed_inputs_make_every_trial_identical(data: dict[str, Any]) -> None:
    s = build_scenario(data)
    fixed = apply_overrides(s, {path: float(np.median(values))
                                for path, values in sample_inputs(s, 3, 1).items()
                                if path in uncertain_fields(s)})
    assert uncertain_fields(fixed) == []
    result = simulate(fixed)
    for name, values in result.metrics.items():
        assert np.array_equal(values, np.full_like(values, values[0]), equal_nan=True), name


@FAST
@given(data=scenario_data())
def test_same_seed_gives_identical_output(data: dict[str, Any]) -> None:
    s = build_scenario(data)
    first, second = simulate(s), simulate(s)
    for name in first.metrics:
        assert np.array_equal(first.metrics[name], second.metrics[name], equal_nan=True), name
    for name in first.monthly:
        assert np.array_equal(first.monthly[name], second.monthly[name]), name


@FAST
@given(data=scenario_data(), seed=st.integers(0, 2**32 - 1))
def test_new_uncertain_input_leaves_other_draws_unchanged(data: dict[str, Any],
                                                          seed: int) -> None:
    s = build_scenario(data)
    before = sample_inputs(s, TRIALS, seed)
    for path, new in (("orders.gross_margin", {"low": 0.3, "high": 0.6}),
                      ("guarantee.handling_cost", {"dist": "uniform", "min": 2, "max": 9})):
        after = sample_inputs(apply_overrides(s, {path: new}), TRIALS, seed)
        assert set(after) == set(before)
        for field, values in before.items():
            if field != path:
                assert np.array_equal(after[field], values), (path, field)


@settings(FAST, max_examples=15)  # three plans per example
@given(data=scenario_data(flows="expected"))
def test_adding_a_variant_leaves_the_base_unchanged(data: dict[str, Any]) -> None:
    plain = build_scenario(data)
    with_variant = build_scenario({**data, "variants": {
        "Longer guarantee": {"guarantee": {"days": 1825}},
        "Dearer traffic": {"cold": {"cost_per_thousand": {"low": 20, "high": 40}}}}})
    alone = simulate(plain)
    runs = simulate_plans(plan_scenarios(with_variant))
    for name in alone.metrics:
        assert np.array_equal(runs[BASE_LABEL].metrics[name], alone.metrics[name],
                              equal_nan=True), name


@FAST
@given(data=scenario_data(), seed=st.integers(0, 2**32 - 1))
def test_variants_share_draws(data: dict[str, Any], seed: int) -> None:
    s = build_scenario({**data, "variants": {
        "All cold": {"budget": {"split": {"cold": 1.0, "warm": 0.0, "hot": 0.0}}}}})
    base = sample_inputs(s, TRIALS, seed)
    variant = sample_inputs(variant_scenario(s, "All cold"), TRIALS, seed)
    assert set(variant) == set(base)
    for path in uncertain_fields(s):
        assert np.array_equal(variant[path], base[path]), path
    assert (variant["budget.split.cold"] == 1).all()


@FAST
@given(data=scenario_data(flows="expected"), seed=st.integers(0, 2**32 - 1))
def test_first_n_trials_equal_an_n_trial_run(data: dict[str, Any], seed: int) -> None:
    s = build_scenario(data)
    small, large = sample_inputs(s, TRIALS, seed), sample_inputs(s, 2 * TRIALS, seed)
    for path, values in small.items():
        assert np.array_equal(large[path][:TRIALS], values), path
    run_small = simulate(s, trials=TRIALS, seed=seed)
    run_large = simulate(s, trials=2 * TRIALS, seed=seed)
    for name, values in run_small.metrics.items():
        assert np.array_equal(run_large.metrics[name][:TRIALS], values, equal_nan=True), name


@pytest.mark.parametrize("flows", ["expected", "random"])
def test_more_warm_spend_never_lowers_new_customers(flows: str) -> None:
    # A functional check: moving budget from hot to warm can only add conversions in month 0.
    s = apply_overrides(Scenario(), {"simulation.flows": flows, "simulation.trials": 500,
                                     "simulation.horizon_months": 1})
    more = apply_overrides(s, {"budget.split": {"cold": 0.6, "warm": 0.4, "hot": 0.0}})
    a, b = simulate(s), simulate(more)
    if flows == "expected":
        assert (b.metrics["new_customers"] > a.metrics["new_customers"]).all()
    else:
        assert b.metrics["new_customers"].mean() > a.metrics["new_customers"].mean()
