"""The model's equations (sim/funnel.py) against hand-worked values and closed forms, and the
typed inputs (sim/inputs.py) and stacked runs (sim/stacked.py) built on them."""

from __future__ import annotations

import decimal
import math

import numpy as np
import pytest

from sim import funnel
from sim.distributions import point_inputs, sample_inputs
from sim.engine import simulate
from sim.inputs import Inputs
from sim.scenario import Scenario, apply_overrides
from sim.stacked import run_stacked, sets_per_call


def test_discount_rate_compounds_to_the_annual_rate() -> None:
    # 12.68% a year is 1% a month: 1.01^12 = 1.126825.
    assert funnel.monthly_discount_rate(0.12682503013196977) == pytest.approx(0.01, abs=1e-15)
    assert funnel.monthly_discount_rate(0.0) == 0.0


def test_budget_grows_geometrically() -> None:
    assert funnel.budget_for_month(1000.0, 0.1, 2) == pytest.approx(1210.0)
    assert funnel.budget_for_month(1000.0, 0.1, 0) == 1000.0


def test_reach_is_one_minus_exponential_and_zero_without_prospects() -> None:
    # $500 at $10 CPM buys 50,000 impressions; e = 0.02 on 1,000 prospects: 1 - exp(-1).
    impressions = funnel.impressions_bought(500.0, 10.0)
    assert impressions == 50_000.0
    assert funnel.reach_share(0.02, impressions, 1000.0) == pytest.approx(1 - math.exp(-1.0))
    shares = funnel.reach_share(0.02, np.array([impressions, impressions]), np.array([0.0, 1e3]))
    assert shares[0] == 0.0 and shares[1] == pytest.approx(1 - math.exp(-1.0))


def test_spend_response_closes_63_percent_of_the_gap_at_the_spend_scale() -> None:
    reached, gap = funnel.spend_response(20.0, 20.0)
    assert reached == pytest.approx(1 - math.exp(-1.0)) and gap == pytest.approx(math.exp(-1.0))
    # Conversion 2% with no spend, 6% ceiling: at the scale 2% + 4% x 0.632 = 4.528%.
    assert funnel.conversion_rate(reached, 0.02, 0.06, 1.0) == pytest.approx(
        0.02 + 0.04 * (1 - math.exp(-1.0)))
    assert funnel.repeat_rate(reached, 0.1, 0.3) == pytest.approx(
        0.1 + 0.2 * (1 - math.exp(-1.0)))
    # No spend: nothing reached, the whole gap left, churn multiplier 1; unlimited spend: only
    # u left.
    assert funnel.spend_response(0.0, 20.0) == (0.0, 1.0)
    assert funnel.churn_multiplier(1.0, 0.4) == 1.0
    assert funnel.churn_multiplier(0.0, 0.4) == 0.4
    assert funnel.conversion_rate(1.0, 0.5, 0.9, 2.0) == 1.0  # capped at 1


@pytest.mark.parametrize("ratio", [1e-300, 5e-6, 0.3, 0.69, 0.7, 3.0, 13.0, 700.0])
def test_spend_response_keeps_every_digit_of_both_shares(ratio: float) -> None:
    # Against 40-digit arithmetic: 1 - exp(-x) for a tiny x (a cent per lead on a $2,000 scale
    # is 5e-6) and exp(-x) for a large one (13: $13 per customer on a $1 scale) would each keep
    # only about 11 digits if computed as 1 minus the other.
    with decimal.localcontext(decimal.Context(prec=40)):
        exact_gap = (-decimal.Decimal(ratio)).exp()
        exact_reached = 1 - exact_gap
    reached, gap = funnel.spend_response(np.array([ratio]), 1.0)
    assert float(reached[0]) == pytest.approx(float(exact_reached), rel=4e-16)
    assert float(gap[0]) == pytest.approx(float(exact_gap), rel=4e-16)


def test_guarantee_power_laws() -> None:
    # Elasticity 0.169 doubles returns from 30 days to 5 years (1825 days): 60.83^0.169 = 2.0.
    assert funnel.return_rate(1825, 30, 0.05, 0.169) == pytest.approx(0.10, rel=2e-3)
    assert funnel.return_rate(1825, 30, 0.9, 0.169) == 1.0
    assert funnel.guarantee_conversion_factor(60, 30, 0.5) == pytest.approx(math.sqrt(2.0))
    assert funnel.late_return_months(365, 30) == 12.0  # 335 extra days over 30-day months
    assert funnel.late_return_months(30, 30) == 0.0


def test_order_contribution_by_hand() -> None:
    # $100 order, 10% returned, 40% margin, half the returned goods' cost resold, $5 handling:
    # 100 x (0.9 - 0.6 + 0.1 x 0.5 x 0.6) - 0.1 x 5 = 33 - 0.5 = 32.5.
    assert funnel.order_contribution(100.0, 0.1, 0.4, 0.5, 5.0) == pytest.approx(32.5)


def test_churn_models() -> None:
    constant = funnel.ConstantChurn(np.array([0.1, 0.2]))
    assert np.array_equal(constant.column().base(np.arange(3.0)[None, :]),
                          [[0.1, 0.1, 0.1], [0.2, 0.2, 0.2]])
    sbg = funnel.SbgChurn(1.0, 1.0)
    assert sbg.base(0) == 0.5 and sbg.base(12) == pytest.approx(1 / 14)
    with pytest.raises(ValueError, match="not both"):
        funnel.churn_model(0.1, 1.0, 1.0)
    with pytest.raises(ValueError, match="needs"):
        funnel.churn_model()
    assert isinstance(funnel.churn_model(sbg_alpha=1.0, sbg_beta=2.0), funnel.SbgChurn)


def test_inputs_attribute_access_matches_the_paths() -> None:
    inputs = sample_inputs(Scenario(), 4, 1)
    assert inputs.hot.churn_unpreventable is inputs["hot.churn_unpreventable"]
    assert inputs.budget.split.cold is inputs["budget.split.cold"]
    assert isinstance(inputs.churn, funnel.ConstantChurn)
    assert not inputs.churn_is_sbg
    with pytest.raises(AttributeError, match="no scenario field"):
        _ = inputs.hot.churn_monthly
    with pytest.raises(AttributeError, match=r"no 'hot\.churn\.sbg'"):
        _ = inputs.hot.churn.sbg.alpha
    # Still a mapping: overrides, slicing and dict() keep working.
    inputs["guarantee.days"] = np.full(4, 365.0)
    assert inputs.guarantee.days[0] == 365.0
    assert len(inputs.rows(slice(0, 2)).budget.monthly) == 2
    assert dict(inputs).keys() == inputs.keys()
    point = point_inputs(Scenario())
    assert point.warm.conversion_max == point["warm.conversion_max"]


def test_stacked_runs_equal_separate_runs() -> None:
    # Two sets stacked in one call give each set's own run to the last bit (expected flows),
    # and random flows put each set in its own call.
    scenario = apply_overrides(Scenario(), {"simulation.horizon_months": 6})
    inputs = sample_inputs(scenario, 50, 3)
    longer = inputs.replaced({"guarantee.days": np.full(50, 365.0)})
    parts = run_stacked(scenario, [inputs, longer], lambda part: part.metrics["profit"],
                        seed=3, keep_monthly=True)
    for given, profit in zip((inputs, longer), parts, strict=True):
        alone = simulate(scenario, inputs=Inputs(given), seed=3).metrics["profit"]
        assert np.array_equal(alone, profit)
    random = apply_overrides(scenario, {"simulation.flows": "random"})
    assert sets_per_call(random, 10, 50, keep_monthly=False) == 1
    parts = run_stacked(random, [inputs, longer], lambda part: part.metrics["new_customers"],
                        seed=3)
    for given, new in zip((inputs, longer), parts, strict=True):
        assert np.array_equal(simulate(random, inputs=given, seed=3).metrics["new_customers"],
                              new)
    assert sets_per_call(scenario, 10, 4000, keep_monthly=True) == 2
