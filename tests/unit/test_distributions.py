"""Uncertain inputs: quantiles against their definitions and scipy.stats, and named streams."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim.distributions import (
    point_inputs,
    quantile,
    quantile_inputs,
    sample_inputs,
    uncertain_fields,
    uniforms,
)
from sim.scenario import KINDS, Scenario, apply_overrides
from sim.values import Beta, Fixed, Interval90, Normal, Triangular, Uniform

PROBS = np.array([0.001, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.999])


def with_fields(**dotted: object) -> Scenario:
    return apply_overrides(Scenario(), {k.replace("__", "."): v for k, v in dotted.items()})


# ---------------------------------------------------------------- {low, high} intervals


@pytest.mark.parametrize(("kind", "low", "high"), [
    ("amount", 6.0, 14.0), ("amount", 0.01, 5000.0), ("cost", 45.0, 80.0),
    ("count", 1e6, 3e6), ("rate", 0.005, 0.02), ("rate", 0.03, 0.07), ("rate", 0.2, 0.95),
])
def test_interval_low_and_high_are_p5_and_p95(kind: str, low: float, high: float) -> None:
    p5, p50, p95 = quantile(Interval90(low, high), KINDS[kind], np.array([0.05, 0.5, 0.95]))
    assert p5 == pytest.approx(low, rel=1e-9)
    assert p95 == pytest.approx(high, rel=1e-9)
    if kind == "rate":
        # Logit-normal: the median is the back-transformed mid-point of the logits.
        mid = (np.log(low / (1 - low)) + np.log(high / (1 - high))) / 2
        assert p50 == pytest.approx(1 / (1 + np.exp(-mid)), rel=1e-12)
    else:
        # Lognormal: the median is the geometric mean.
        assert p50 == pytest.approx(np.sqrt(low * high), rel=1e-12)


@pytest.mark.parametrize(("path", "low", "high"), [
    ("cold.cost_per_thousand", 6.0, 14.0),
    ("cold.engagement_rate", 0.005, 0.02),
])
def test_interval_sample_percentiles(path: str, low: float, high: float) -> None:
    s = with_fields(**{path.replace(".", "__"): {"low": low, "high": high}})
    values = sample_inputs(s, 200_000, 20261122)[path]
    p5, p95 = np.percentile(values, [5, 95])
    assert p5 == pytest.approx(low, rel=0.01)
    assert p95 == pytest.approx(high, rel=0.01)
    if path.endswith("rate"):
        assert values.min() > 0 and values.max() < 1


def test_lognormal_interval_matches_scipy() -> None:
    low, high = 45.0, 80.0
    sigma = (np.log(high) - np.log(low)) / (2 * stats.norm.ppf(0.95))
    expected = stats.lognorm.ppf(PROBS, sigma, scale=np.sqrt(low * high))
    np.testing.assert_allclose(quantile(Interval90(low, high), KINDS["amount"], PROBS),
                               expected, rtol=1e-10)


# ---------------------------------------------------------------- explicit distributions


def test_uniform_matches_scipy() -> None:
    np.testing.assert_allclose(quantile(Uniform(-0.01, 0.04), KINDS["elasticity"], PROBS),
                               stats.uniform.ppf(PROBS, -0.01, 0.05), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(("lo", "mode", "hi"), [(0.05, 0.1, 0.2), (1.0, 1.0, 3.0),
                                                (1.0, 3.0, 3.0), (0.0, 0.5, 1.0)])
def test_triangular_matches_scipy(lo: float, mode: float, hi: float) -> None:
    expected = stats.triang.ppf(PROBS, (mode - lo) / (hi - lo), loc=lo, scale=hi - lo)
    np.testing.assert_allclose(quantile(Triangular(lo, mode, hi), KINDS["rate"], PROBS),
                               expected, rtol=1e-10)


def test_normal_amount_is_truncated_at_zero() -> None:
    mean, sd = 10.0, 8.0
    expected = stats.truncnorm.ppf(PROBS, -mean / sd, np.inf, loc=mean, scale=sd)
    values = quantile(Normal(mean, sd), KINDS["amount"], PROBS)
    np.testing.assert_allclose(values, expected, rtol=1e-8)
    assert values.min() >= 0
    # Far from the cut it is the plain normal.
    wide = quantile(Normal(100.0, 5.0), KINDS["amount"], PROBS)
    np.testing.assert_allclose(wide, stats.norm.ppf(PROBS, 100.0, 5.0), rtol=1e-10)


def test_normal_rate_stays_in_zero_one() -> None:
    values = quantile(Normal(0.9, 0.2), KINDS["rate"], PROBS)
    expected = stats.truncnorm.ppf(PROBS, -0.9 / 0.2, 0.1 / 0.2, loc=0.9, scale=0.2)
    np.testing.assert_allclose(values, expected, rtol=1e-8)
    assert values.min() >= 0 and values.max() <= 1


def test_beta_matches_scipy() -> None:
    np.testing.assert_allclose(quantile(Beta(2.0, 18.0), KINDS["rate"], PROBS),
                               stats.beta.ppf(PROBS, 2.0, 18.0), rtol=1e-10)


def test_fixed_is_constant() -> None:
    assert (quantile(Fixed(3.5), KINDS["amount"], PROBS) == 3.5).all()


def test_sampled_distributions_match_their_moments() -> None:
    s = with_fields(
        budget__growth_monthly={"dist": "uniform", "min": -0.01, "max": 0.02},
        finance__discount_rate_annual={"dist": "triangular", "min": 0.05, "mode": 0.1,
                                       "max": 0.3},
        orders__first_value={"dist": "normal", "mean": 60, "sd": 10},
        cold__lead_decay_monthly={"dist": "beta", "a": 2, "b": 18},
    )
    x = sample_inputs(s, 100_000, 3)
    assert x["budget.growth_monthly"].mean() == pytest.approx(0.005, abs=1e-4)
    assert x["finance.discount_rate_annual"].mean() == pytest.approx(0.15, abs=1e-3)
    assert x["orders.first_value"].mean() == pytest.approx(60, abs=0.15)
    assert x["orders.first_value"].std() == pytest.approx(10, rel=0.02)
    assert x["cold.lead_decay_monthly"].mean() == pytest.approx(0.1, abs=1e-3)


# ---------------------------------------------------------------- named streams


def test_uniforms_are_uniform_and_in_the_open_interval() -> None:
    u = uniforms(1, "cold.cost_per_thousand", 100_000)
    assert u.min() > 0 and u.max() < 1
    assert stats.kstest(u, "uniform").pvalue > 1e-4


def test_streams_differ_by_name_and_seed() -> None:
    a = uniforms(1, "cold.cost_per_thousand", 1000)
    assert not np.array_equal(a, uniforms(1, "orders.first_value", 1000))
    assert not np.array_equal(a, uniforms(2, "cold.cost_per_thousand", 1000))
    assert abs(np.corrcoef(a, uniforms(1, "orders.first_value", 1000))[0, 1]) < 0.15


def test_streams_independent_of_other_fields_presence() -> None:
    one = with_fields(cold__cost_per_thousand={"low": 6, "high": 14})
    many = with_fields(
        cold__cost_per_thousand={"low": 6, "high": 14},
        cold__engagement_rate={"low": 0.005, "high": 0.02},
        orders__first_value={"dist": "normal", "mean": 60, "sd": 10},
        hot__churn={"sbg": {"alpha": {"low": 0.5, "high": 1}, "beta": 1.2}},
    )
    a, b = sample_inputs(one, 500, 11), sample_inputs(many, 500, 11)
    assert np.array_equal(a["cold.cost_per_thousand"], b["cold.cost_per_thousand"])
    # The draws are the field's quantile function at its own stream's uniforms.
    u = uniforms(11, "cold.cost_per_thousand", 500)
    np.testing.assert_allclose(a["cold.cost_per_thousand"],
                               quantile(Interval90(6, 14), KINDS["amount"], u), rtol=1e-15)
    assert uncertain_fields(many) == ["cold.cost_per_thousand", "cold.engagement_rate",
                                      "hot.churn.sbg.alpha", "orders.first_value"]


def test_changing_a_distribution_keeps_the_same_uniforms() -> None:
    # Common random numbers even when a variant changes the distribution itself: trial i
    # sits at the same probability, so the values are in the same rank order.
    a = sample_inputs(with_fields(cold__cost_per_thousand={"low": 6, "high": 14}), 2000, 5)
    b = sample_inputs(with_fields(cold__cost_per_thousand={"dist": "uniform", "min": 8,
                                                           "max": 20}), 2000, 5)
    ranks_a = np.argsort(a["cold.cost_per_thousand"])
    ranks_b = np.argsort(b["cold.cost_per_thousand"])
    assert np.array_equal(ranks_a, ranks_b)


def test_sample_inputs_names_every_engine_field() -> None:
    x = sample_inputs(Scenario(), 10, 1)
    for path in ("cold.cost_per_thousand", "cold.engagement_rate", "cold.lead_decay_monthly",
                 "warm.conversion_no_spend", "warm.conversion_max", "warm.spend_scale",
                 "hot.churn.monthly", "hot.churn_unpreventable", "hot.repeat_no_spend",
                 "hot.repeat_max", "hot.spend_scale", "orders.first_value",
                 "orders.repeat_value", "orders.gross_margin", "guarantee.days",
                 "guarantee.reference_days", "guarantee.return_rate_at_reference",
                 "guarantee.return_elasticity", "guarantee.conversion_elasticity",
                 "guarantee.handling_cost", "guarantee.resale_share", "budget.monthly",
                 "budget.growth_monthly", "budget.split.cold", "budget.split.warm",
                 "budget.split.hot", "market.prospects", "market.warm_start",
                 "market.customers_start", "market.customers_start_tenure",
                 "finance.discount_rate_annual"):
        assert x[path].shape == (10,), path
    assert uncertain_fields(Scenario()) == []


def test_point_and_quantile_inputs() -> None:
    s = with_fields(cold__cost_per_thousand={"low": 6, "high": 14},
                    cold__engagement_rate={"low": 0.005, "high": 0.02})
    points = point_inputs(s)
    assert points["cold.cost_per_thousand"] == pytest.approx(np.sqrt(6 * 14), rel=1e-12)
    assert points["guarantee.days"] == 30
    p5, p95 = quantile_inputs(s, "cold.engagement_rate", [0.05, 0.95])
    assert (p5, p95) == pytest.approx((0.005, 0.02), rel=1e-9)
