"""Closed-form analytics against published figures and hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.analytics import (
    BDOptimum,
    ab_sample_size_per_arm,
    ab_weeks_needed,
    acquisition_response,
    break_even_lift_profit,
    break_even_lift_revenue,
    clv_gupta_lehmann,
    customer_equity_bd,
    fit_sbg,
    monthly_discount_rate,
    optimal_spend_bd,
    order_contribution,
    response_k_from_point,
    retention_response,
    return_elasticity_for_multiplier,
    return_multiplier_for_days,
    return_rate_for_days,
    sbg_churn_by_tenure,
    sbg_churn_probability,
    sbg_log_likelihood,
    sbg_retention_by_tenure,
    sbg_survival,
)

# Fader & Hardie (2007), "How to project customer retention", regular segment.
FH_REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]


# ---------------------------------------------------------------- CLV and discounting


def test_gupta_lehmann_oracle() -> None:
    assert clv_gupta_lehmann(100, 0.8, 0.10) == pytest.approx(366.67, abs=0.005)
    assert clv_gupta_lehmann(100, 0.8, 0.10, first_margin_at_acquisition=False) == pytest.approx(
        266.67, abs=0.005
    )


def test_gupta_lehmann_rejects_infinite_value() -> None:
    with pytest.raises(ValueError, match="infinite"):
        clv_gupta_lehmann(100, 1.0, 0.0)


@settings(max_examples=40, deadline=None)
@given(
    margin=st.floats(1, 1000),
    retention=st.floats(0, 0.95),
    discount=st.floats(0, 0.5),
)
def test_gupta_lehmann_equals_truncated_sum(
    margin: float, retention: float, discount: float
) -> None:
    t = np.arange(3000)
    terms = margin * (retention / (1 + discount)) ** t
    assert clv_gupta_lehmann(margin, retention, discount) == pytest.approx(terms.sum(), rel=1e-9)
    assert clv_gupta_lehmann(margin, retention, discount, False) == pytest.approx(
        terms[1:].sum(), rel=1e-9, abs=1e-9
    )


def test_monthly_discount_rate() -> None:
    assert monthly_discount_rate(0.10) == pytest.approx(0.0079741, abs=1e-7)
    assert (1 + monthly_discount_rate(0.10)) ** 12 == pytest.approx(1.10)
    assert monthly_discount_rate(0.0) == 0.0


# ---------------------------------------------------------------- Blattberg-Deighton


@pytest.fixture(scope="module")
def bd_curves() -> tuple[float, float]:
    # a(6) = 25% with ceiling 45%, r(10) = 50% with ceiling 80%.
    return response_k_from_point(0.45, 6, 0.25), response_k_from_point(0.8, 10, 0.5)


def test_response_k_from_point(bd_curves: tuple[float, float]) -> None:
    k_a, k_r = bd_curves
    assert k_a == pytest.approx(math.log(0.45 / 0.20) / 6, rel=1e-12)
    assert k_r == pytest.approx(math.log(0.8 / 0.3) / 10, rel=1e-12)
    assert acquisition_response(6, 0.45, k_a) == pytest.approx(0.25)
    assert retention_response(10, 0.8, k_r) == pytest.approx(0.5)


def test_response_k_rejects_rate_above_ceiling() -> None:
    with pytest.raises(ValueError, match="between 0 and ceiling"):
        response_k_from_point(0.45, 6, 0.5)


def test_customer_equity_bd_hand_value(bd_curves: tuple[float, float]) -> None:
    k_a, k_r = bd_curves
    # a = 0.25, r = 0.5: 0.25*60 - 6 + 0.25*(60 - 10/0.5)*(0.5/0.6) = 9 + 8.3333.
    ce = customer_equity_bd(6, 10, 0.45, k_a, 0.8, k_r, 60, 0.10)
    assert ce == pytest.approx(17.3333333, abs=1e-6)


def test_bd_optimum_oracle(bd_curves: tuple[float, float]) -> None:
    k_a, k_r = bd_curves
    best = optimal_spend_bd(0.45, k_a, 0.8, k_r, 60, 0.10)
    assert isinstance(best, BDOptimum)
    assert round(best.acquisition_spend, 2) == 14.20
    assert round(best.retention_spend, 2) == 22.17
    assert round(best.customer_equity, 2) == 28.85
    assert best.acquisition_rate == pytest.approx(
        acquisition_response(14.2037, 0.45, k_a), abs=1e-5
    )
    assert best.retention_rate == pytest.approx(retention_response(22.1696, 0.8, k_r), abs=1e-5)


def test_bd_no_acquisition_when_customers_are_worth_too_little() -> None:
    # a'(0) * V <= 1 at every R: spending on acquisition never pays.
    best = optimal_spend_bd(0.1, 0.01, 0.5, 0.1, 5, 0.10)
    assert best.acquisition_spend == 0.0
    assert best.customer_equity == 0.0


@settings(max_examples=30, deadline=None)
@given(
    a_ceiling=st.floats(0.1, 0.9),
    k_a=st.floats(0.02, 1.0),
    r_ceiling=st.floats(0.1, 0.95),
    k_r=st.floats(0.02, 1.0),
    margin=st.floats(10, 500),
    discount=st.floats(0.01, 0.3),
)
def test_bd_optimum_is_a_local_max(
    a_ceiling: float, k_a: float, r_ceiling: float, k_r: float, margin: float, discount: float
) -> None:
    params = (a_ceiling, k_a, r_ceiling, k_r, margin, discount)
    best = optimal_spend_bd(*params)
    for d_a in (-1.0, -0.05, 0.0, 0.05, 1.0):
        for d_r in (-1.0, -0.05, 0.0, 0.05, 1.0):
            a_spend = max(best.acquisition_spend + d_a, 0.0)
            r_spend = max(best.retention_spend + d_r, 0.0)
            ce = customer_equity_bd(a_spend, r_spend, *params)
            assert best.customer_equity >= ce - 1e-7 * max(1.0, abs(ce))


# ---------------------------------------------------------------- sBG


def test_sbg_fit_published_cohort() -> None:
    fit = fit_sbg(FH_REGULAR)
    assert round(fit.alpha, 3) == 0.704
    assert round(fit.beta, 3) == 1.182
    assert round(fit.log_likelihood, 2) == -1680.27
    assert fit.n_periods == 7
    assert fit.fitted_survival.shape == (8,)
    assert fit.fitted_survival[0] == 1.0
    assert sbg_log_likelihood(0.704, 1.182, FH_REGULAR) == pytest.approx(-1680.27, abs=0.01)


@pytest.mark.parametrize(("alpha", "beta"), [(0.5, 2.0), (2.0, 6.0)])
def test_sbg_fit_recovers_exact_counts(alpha: float, beta: float) -> None:
    counts = 10_000 * sbg_survival(alpha, beta, 12)
    fit = fit_sbg(counts)
    assert fit.alpha == pytest.approx(alpha, rel=1e-4)
    assert fit.beta == pytest.approx(beta, rel=1e-4)


def test_sbg_fit_several_cohorts_right_censored() -> None:
    survival = sbg_survival(0.5, 2.0, 12)
    cohorts = [1000 * survival, 400 * survival[:6], [250 * s for s in survival[:3]] + [math.nan]]
    fit = fit_sbg(cohorts)
    assert fit.alpha == pytest.approx(0.5, rel=1e-4)
    assert fit.beta == pytest.approx(2.0, rel=1e-4)
    assert fit.n_periods == 12


def test_sbg_fit_rejects_bad_tables() -> None:
    with pytest.raises(ValueError, match="must not increase"):
        fit_sbg([1000, 600, 700])
    with pytest.raises(ValueError, match="at least one later"):
        fit_sbg([1000])
    with pytest.raises(ValueError, match="cohort 2: a gap"):
        fit_sbg([[1000, 600, 400], [500, math.nan, 200]])


def test_sbg_closed_forms_agree_with_fader_hardie() -> None:
    alpha, beta = 0.704, 1.182
    # r_1 = beta / (alpha + beta), r_2 = (beta + 1) / (alpha + beta + 1).
    assert sbg_retention_by_tenure(alpha, beta, 0) == pytest.approx(1.182 / 1.886)
    assert sbg_retention_by_tenure(alpha, beta, 1) == pytest.approx(2.182 / 2.886)
    assert sbg_churn_by_tenure(alpha, beta, 3) == pytest.approx(0.704 / 4.886)
    # P(T = 1) = alpha / (alpha + beta), P(T = 2) = alpha*beta / ((alpha+beta)(alpha+beta+1)).
    churn = sbg_churn_probability(alpha, beta, 20)
    assert churn[0] == pytest.approx(0.704 / 1.886)
    assert churn[1] == pytest.approx(0.704 * 1.182 / (1.886 * 2.886))
    survival = sbg_survival(alpha, beta, 20)
    assert survival[0] == 1.0
    np.testing.assert_allclose(survival[1:], 1 - np.cumsum(churn), rtol=1e-12)
    # The engine's tenure recursion: S(t) = prod_{k < t} (1 - c_k).
    recursion = np.concatenate(
        [[1.0], np.cumprod(1 - sbg_churn_by_tenure(alpha, beta, np.arange(20)))]
    )
    np.testing.assert_allclose(survival, recursion, rtol=1e-12)


# ---------------------------------------------------------------- Guarantee break-even


def test_return_elasticity_doubling_30_to_1825_days() -> None:
    assert return_elasticity_for_multiplier(2, 1825, 30) == pytest.approx(
        math.log(2) / math.log(1825 / 30)
    )
    assert round(return_elasticity_for_multiplier(2, 1825, 30), 3) == 0.169
    assert return_multiplier_for_days(1825, 30, 0.169) == pytest.approx(2.0, abs=0.003)
    assert return_multiplier_for_days(1825, 30, math.log(2) / math.log(1825 / 30)) == pytest.approx(
        2.0
    )
    assert round(return_rate_for_days(0.05, 1825, 30, 0.169), 3) == 0.100
    assert return_rate_for_days(0.05, 30, 30, 0.169) == 0.05
    assert return_rate_for_days(0.6, 3650, 30, 0.5) == 1.0


def test_break_even_lift_revenue_article_example() -> None:
    assert break_even_lift_revenue(0.05, 0.10) == pytest.approx(0.95 / 0.90 - 1)
    assert round(break_even_lift_revenue(0.05, 0.10), 4) == 0.0556
    assert break_even_lift_revenue(0.05, 1.0) == math.inf


def test_order_contribution_and_profit_break_even_hand_values() -> None:
    # 100 * (0.95 - 0.5 + 0.05*0.5*0.5) - 0.05*8 = 46.25 - 0.4.
    assert order_contribution(100, 0.05, 0.5, 0.5, 8) == pytest.approx(45.85)
    # 100 * (0.90 - 0.5 + 0.10*0.5*0.5) - 0.10*8 = 42.5 - 0.8.
    assert order_contribution(100, 0.10, 0.5, 0.5, 8) == pytest.approx(41.70)
    assert break_even_lift_profit(100, 0.05, 0.10, 0.5, 0.5, 8) == pytest.approx(45.85 / 41.70 - 1)
    # Profit needs more lift than revenue: each return also loses handling and part of the goods.
    assert break_even_lift_profit(100, 0.05, 0.10, 0.5, 0.5, 8) > break_even_lift_revenue(
        0.05, 0.10
    )


def test_break_even_lift_profit_infinite_when_orders_lose_money() -> None:
    assert break_even_lift_profit(100, 0.05, 0.95, 0.3, 0.0, 8) == math.inf


@settings(max_examples=40, deadline=None)
@given(
    rho=st.floats(0, 0.9),
    value=st.floats(10, 500),
    margin=st.floats(0.3, 0.9),
    resale=st.floats(0, 1),
    handling=st.floats(0, 5),
)
def test_break_even_lift_zero_without_change(
    rho: float, value: float, margin: float, resale: float, handling: float
) -> None:
    assert break_even_lift_revenue(rho, rho) == 0.0
    contribution = order_contribution(value, rho, margin, resale, handling)
    lift = break_even_lift_profit(value, rho, rho, margin, resale, handling)
    assert lift == 0.0 if contribution > 0 else lift == math.inf


# ---------------------------------------------------------------- A/B sample size


def test_ab_sample_size_textbook_example() -> None:
    assert round(ab_sample_size_per_arm(0.50, 0.75, alpha=0.05, power=0.90), 1) == 76.7


def test_ab_sample_size_small_relative_lift() -> None:
    assert ab_sample_size_per_arm(0.02, 0.022, alpha=0.05, power=0.80) == pytest.approx(
        80_681, abs=1
    )


def test_ab_sample_size_one_sided_needs_fewer() -> None:
    two = ab_sample_size_per_arm(0.02, 0.022)
    one = ab_sample_size_per_arm(0.02, 0.022, two_sided=False)
    assert one < two


@pytest.mark.parametrize(
    ("p1", "p2", "message"),
    [(0.1, 0.1, "equal"), (0.0, 0.1, "p1 must lie"), (0.1, 1.0, "p2 must lie"), (1.2, 0.1, "p1")],
)
def test_ab_sample_size_rejects_bad_input(p1: float, p2: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ab_sample_size_per_arm(p1, p2)


@settings(max_examples=40, deadline=None)
@given(base=st.floats(0.01, 0.4), lift=st.floats(0.02, 0.5), extra=st.floats(0.01, 0.5))
def test_ab_sample_size_decreases_with_larger_lift(base: float, lift: float, extra: float) -> None:
    small = ab_sample_size_per_arm(base, base * (1 + lift))
    large = ab_sample_size_per_arm(base, base * (1 + lift + extra))
    assert large < small


def test_ab_weeks_needed() -> None:
    # 1,300 leads a month = 300 a week; 2 arms x 1,000 leads = 6.67 weeks.
    assert ab_weeks_needed(1000, 1300) == pytest.approx(2000 / 300)
    assert ab_weeks_needed(1000, 1300, arms=3) == pytest.approx(3000 / 300)
