"""Closed-form marketing analytics shown beside the simulation and used as test oracles.

Customer lifetime value (Gupta-Lehmann), the Blattberg-Deighton customer-equity optimum of
acquisition and retention spend, the shifted-beta-geometric (sBG) retention model of Fader and
Hardie (2007) with a maximum-likelihood fit of cohort tables, money-back guarantee break-even
lifts, and the sample size of a two-proportion A/B test.

Pure NumPy + SciPy; no streamlit, no printing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special, stats

from sim import funnel

__all__ = [
    "BDOptimum",
    "SbgFit",
    "ab_sample_size_per_arm",
    "ab_weeks_needed",
    "acquisition_response",
    "break_even_lift_profit",
    "break_even_lift_revenue",
    "clv_gupta_lehmann",
    "customer_equity_bd",
    "fit_sbg",
    "monthly_discount_rate",
    "optimal_spend_bd",
    "order_contribution",
    "response_k_from_point",
    "retention_response",
    "return_elasticity_for_multiplier",
    "return_multiplier_for_days",
    "return_rate_for_days",
    "sbg_churn_by_tenure",
    "sbg_churn_probability",
    "sbg_log_likelihood",
    "sbg_retention_by_tenure",
    "sbg_survival",
]

WEEKS_PER_YEAR = 52
MONTHS_PER_YEAR = 12


def _check_rate(
    name: str, value: float, *, open_low: bool = False, open_high: bool = False
) -> None:
    """Raise ValueError unless value is a finite number in [0, 1] (ends optionally excluded)."""
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    low_ok = value > 0 if open_low else value >= 0
    high_ok = value < 1 if open_high else value <= 1
    if not (low_ok and high_ok):
        low = "(0" if open_low else "[0"
        high = "1)" if open_high else "1]"
        raise ValueError(f"{name} must lie in {low}, {high}, got {value!r}")


def _check_positive(name: str, value: float, *, allow_zero: bool = False) -> None:
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")


# --------------------------------------------------------------------------------------------
# Customer lifetime value and discounting
# --------------------------------------------------------------------------------------------


def clv_gupta_lehmann(
    margin_per_period: float,
    retention: float,
    discount_per_period: float,
    first_margin_at_acquisition: bool = True,
) -> float:
    """Return the Gupta-Lehmann customer lifetime value, in currency (same unit as the margin).

    Constant margin ``m`` per period, constant retention ``r`` and discount rate ``i`` per period,
    over an infinite horizon: ``m * (1 + i) / (1 + i - r)`` when the first margin is earned at
    acquisition (sum over t >= 0 of ``m * r^t / (1 + i)^t``), else ``m * r / (1 + i - r)``
    (first margin one period later, only if the customer is retained).
    """
    _check_rate("retention", retention)
    if not math.isfinite(discount_per_period) or discount_per_period <= -1:
        raise ValueError(f"discount_per_period must be > -1, got {discount_per_period!r}")
    denominator = 1 + discount_per_period - retention
    if denominator <= 0:
        raise ValueError(
            "retention must be below 1 + discount_per_period, otherwise the value is infinite "
            f"(retention={retention!r}, discount_per_period={discount_per_period!r})"
        )
    if first_margin_at_acquisition:
        return margin_per_period * (1 + discount_per_period) / denominator
    return margin_per_period * retention / denominator


def monthly_discount_rate(annual: float) -> float:
    """Return the monthly discount rate (fraction per month) equivalent to an annual rate:
    sim/funnel.py's equation, with the argument checked."""
    if not math.isfinite(annual) or annual <= -1:
        raise ValueError(f"annual discount rate must be > -1, got {annual!r}")
    return float(funnel.monthly_discount_rate(annual))


# --------------------------------------------------------------------------------------------
# Blattberg-Deighton customer equity
# --------------------------------------------------------------------------------------------


def acquisition_response(spend: float | np.ndarray, ceiling: float, k: float) -> float | np.ndarray:
    """Return the acquisition rate (share of prospects acquired) for spend per prospect.

    ``ceiling * (1 - exp(-k * spend))``; spend in currency per prospect, k per currency unit.
    1 - exp(-k * spend) is the share reached of sim/funnel.py's `spend_response` with scale
    1 / k.
    """
    return ceiling * funnel.spend_response(k * np.asarray(spend, dtype=float), 1.0)[0]


def retention_response(spend: float | np.ndarray, ceiling: float, k: float) -> float | np.ndarray:
    """Return the retention rate per period for retention spend per customer per period.

    ``ceiling * (1 - exp(-k * spend))``; spend in currency per customer, k per currency unit.
    1 - exp(-k * spend) is the share reached of sim/funnel.py's `spend_response` with scale
    1 / k.
    """
    return ceiling * funnel.spend_response(k * np.asarray(spend, dtype=float), 1.0)[0]


def response_k_from_point(ceiling: float, spend: float, rate: float) -> float:
    """Return the response constant k (per currency unit) such that the curve passes a point.

    Solves ``ceiling * (1 - exp(-k * spend)) = rate`` for k with a bracketing root finder;
    requires ``0 < rate < ceiling`` and ``spend > 0``.
    """
    _check_positive("spend", spend)
    _check_rate("ceiling", ceiling, open_low=True)
    if not (0 < rate < ceiling):
        raise ValueError(f"rate must lie strictly between 0 and ceiling={ceiling!r}, got {rate!r}")

    def gap(log_k: float) -> float:
        # The response curve above, written with expm1: the search visits k near e^-50, where
        # 1 - exp(-k s) would round to 0 and lose the sign information the bracket needs.
        return float(ceiling * -np.expm1(-math.exp(log_k) * spend) - rate)

    # Search in log k: the curve rises monotonically from 0 (k -> 0) to ceiling (k -> inf).
    low, high = -50.0, 50.0
    return math.exp(optimize.brentq(gap, low, high, xtol=1e-14, rtol=1e-14))


def customer_equity_bd(
    acquisition_spend: float,
    retention_spend: float,
    a_ceiling: float,
    k_a: float,
    r_ceiling: float,
    k_r: float,
    margin: float,
    discount: float,
) -> float:
    """Return Blattberg-Deighton customer equity per prospect, in currency.

    ``CE = a*m - A + a*(m - R/r) * r/(1 + d - r)`` with acquisition rate ``a = a(A)`` and
    retention ``r = r(R)`` from the exponential response curves; A is acquisition spend per
    prospect, R retention spend per customer per period, m the margin per customer per period,
    d the discount rate per period. Written as ``a*(m*r - R)/(1 + d - r)`` so R = 0 is defined.
    """
    a = float(acquisition_response(acquisition_spend, a_ceiling, k_a))
    r = float(retention_response(retention_spend, r_ceiling, k_r))
    return a * margin - acquisition_spend + a * (margin * r - retention_spend) / (1 + discount - r)


@dataclass(frozen=True)
class BDOptimum:
    """Blattberg-Deighton optimum: spends in currency, equity per prospect, rates as fractions."""

    acquisition_spend: float
    retention_spend: float
    customer_equity: float
    acquisition_rate: float
    retention_rate: float


def optimal_spend_bd(
    a_ceiling: float,
    k_a: float,
    r_ceiling: float,
    k_r: float,
    margin: float,
    discount: float,
) -> BDOptimum:
    """Return the acquisition and retention spends that maximise Blattberg-Deighton equity.

    CE factorises as ``a(A) * V(R) - A`` with ``V(R) = m + (m*r(R) - R)/(1 + d - r(R))`` the value
    of an acquired customer, so R* maximises V alone and A* then solves the first-order
    condition ``a'(A) * V(R*) = 1``. Both are found numerically with scipy.optimize; a coarse grid
    picks the starting bracket so that no starting point has to be guessed. Any R above
    ``m * r_ceiling`` makes ``V < m = V(0)``, which bounds the search.
    """
    _check_rate("a_ceiling", a_ceiling, open_low=True)
    _check_rate("r_ceiling", r_ceiling)
    _check_positive("k_a", k_a)
    _check_positive("k_r", k_r)
    _check_positive("margin", margin)
    if not math.isfinite(discount) or discount <= -1 or r_ceiling >= 1 + discount:
        raise ValueError(
            f"discount must be > -1 and above r_ceiling - 1, got {discount!r} "
            f"with r_ceiling={r_ceiling!r}"
        )

    def customer_value(retention_spend: float | np.ndarray) -> float | np.ndarray:
        r = retention_response(retention_spend, r_ceiling, k_r)
        return margin + (margin * r - retention_spend) / (1 + discount - r)

    r_high = margin * r_ceiling
    grid = np.linspace(0.0, r_high, 401)
    best = int(np.argmax(customer_value(grid)))
    lo, hi = grid[max(best - 1, 0)], grid[min(best + 1, grid.size - 1)]
    found = optimize.minimize_scalar(
        lambda x: -float(customer_value(x)),
        bounds=(lo, hi),
        method="bounded",
        options={"xatol": 1e-10},
    )
    retention_spend = (
        float(found.x) if -found.fun >= customer_value(grid[best]) else float(grid[best])
    )
    value = float(customer_value(retention_spend))

    # d/dA [a(A) V - A] = a_ceiling k_a exp(-k_a A) V - 1, strictly decreasing in A.
    def marginal(a_spend: float) -> float:
        return a_ceiling * k_a * math.exp(-k_a * a_spend) * value - 1

    if marginal(0.0) <= 0:
        acquisition_spend = 0.0
    else:
        a_high = 1.0
        while marginal(a_high) > 0:
            a_high *= 2
        acquisition_spend = optimize.brentq(marginal, 0.0, a_high, xtol=1e-12)

    equity = customer_equity_bd(
        acquisition_spend, retention_spend, a_ceiling, k_a, r_ceiling, k_r, margin, discount
    )
    return BDOptimum(
        acquisition_spend=float(acquisition_spend),
        retention_spend=retention_spend,
        customer_equity=float(equity),
        acquisition_rate=float(acquisition_response(acquisition_spend, a_ceiling, k_a)),
        retention_rate=float(retention_response(retention_spend, r_ceiling, k_r)),
    )


# --------------------------------------------------------------------------------------------
# Shifted-beta-geometric retention (Fader & Hardie 2007)
# --------------------------------------------------------------------------------------------
#
# Tenure k = number of completed periods (0 for a customer acquired this period). The engine's
# churn at tenure k is c_k = alpha / (alpha + beta + k), which is Fader & Hardie's churn in
# period t = k + 1. Survival S(t) is the share of a cohort still active after t periods.


def _check_sbg(alpha: float, beta: float) -> None:
    _check_positive("alpha", alpha)
    _check_positive("beta", beta)


def sbg_churn_by_tenure(alpha: float, beta: float, k: int | np.ndarray) -> float | np.ndarray:
    """Return the churn probability in the next period of a customer with tenure k (fraction).

    ``alpha / (alpha + beta + k)`` for k = 0, 1, 2, ... (the engine's c_k: sim/funnel.py's
    `SbgChurn.base`, with the parameters checked).
    """
    _check_sbg(alpha, beta)
    return funnel.SbgChurn(alpha, beta).base(np.asarray(k, dtype=float))


def sbg_retention_by_tenure(alpha: float, beta: float, k: int | np.ndarray) -> float | np.ndarray:
    """Return the retention rate in the next period of a customer with tenure k (fraction).

    ``(beta + k) / (alpha + beta + k)`` = 1 - c_k for k = 0, 1, 2, ...; Fader & Hardie's
    ``r_t = (beta + t - 1) / (alpha + beta + t - 1)`` with t = k + 1.
    """
    _check_sbg(alpha, beta)
    k = np.asarray(k, dtype=float)
    return (beta + k) / (alpha + beta + k)


def sbg_churn_probability(alpha: float, beta: float, periods: int) -> np.ndarray:
    """Return P(a new customer churns in period t), t = 1..periods, as an array of fractions.

    ``B(alpha + 1, beta + t - 1) / B(alpha, beta)``.
    """
    _check_sbg(alpha, beta)
    t = np.arange(1, int(periods) + 1, dtype=float)
    return np.exp(special.betaln(alpha + 1, beta + t - 1) - special.betaln(alpha, beta))


def sbg_survival(alpha: float, beta: float, periods: int) -> np.ndarray:
    """Return S(t), the share of a cohort still active after t periods, for t = 0..periods.

    ``B(alpha, beta + t) / B(alpha, beta)``; S(0) = 1. Length periods + 1.
    """
    _check_sbg(alpha, beta)
    t = np.arange(0, int(periods) + 1, dtype=float)
    return np.exp(special.betaln(alpha, beta + t) - special.betaln(alpha, beta))


def _as_cohorts(active_counts: Sequence[float] | Sequence[Sequence[float]]) -> list[np.ndarray]:
    """Normalise one survival sequence or a list of them into validated float arrays."""
    items = list(active_counts)
    if not items:
        raise ValueError("no cohort data: give at least a cohort size and one later count")
    nested = np.ndim(items[0]) > 0
    raw = items if nested else [items]
    cohorts = []
    for number, seq in enumerate(raw, start=1):
        counts = np.asarray(seq, dtype=float)
        label = f"cohort {number}" if nested else "cohort"
        if counts.ndim != 1:
            raise ValueError(f"{label}: expected a sequence of active counts")
        # Cohort tables arrive with empty cells after a young cohort's last observation.
        observed = np.flatnonzero(~np.isnan(counts))
        counts = counts[: observed[-1] + 1] if observed.size else counts[:0]
        if np.any(np.isnan(counts)):
            raise ValueError(f"{label}: a gap (empty cell) before the last active count")
        if counts.size < 2:
            raise ValueError(f"{label}: needs a cohort size and at least one later active count")
        if not np.all(np.isfinite(counts)) or np.any(counts < 0):
            raise ValueError(f"{label}: active counts must be finite and >= 0")
        if counts[0] <= 0:
            raise ValueError(f"{label}: the cohort size (first value) must be > 0")
        if np.any(np.diff(counts) > 1e-9 * counts[0]):
            raise ValueError(f"{label}: active counts must not increase over time")
        cohorts.append(counts)
    return cohorts


def _sbg_neg_log_likelihood(alpha: float, beta: float, cohorts: list[np.ndarray]) -> float:
    base = special.betaln(alpha, beta)
    total = 0.0
    for counts in cohorts:
        t = np.arange(1, counts.size, dtype=float)
        churned = -np.diff(counts)
        log_p = special.betaln(alpha + 1, beta + t - 1) - base
        # Still active at the last observation: right-censored, contributes log S(T).
        log_s = special.betaln(alpha, beta + counts.size - 1) - base
        total += float(churned @ log_p) + counts[-1] * log_s
    return -total


def sbg_log_likelihood(
    alpha: float, beta: float, active_counts: Sequence[float] | Sequence[Sequence[float]]
) -> float:
    """Return the sBG log-likelihood (natural log, counts as weights) of cohort survival data.

    ``active_counts`` is one sequence of active customers per period starting at the cohort
    size, or a list of such sequences (cohorts of different ages, each right-censored at its
    last observation).
    """
    _check_sbg(alpha, beta)
    return -_sbg_neg_log_likelihood(alpha, beta, _as_cohorts(active_counts))


@dataclass(frozen=True)
class SbgFit:
    """sBG maximum-likelihood fit: alpha, beta, log-likelihood (nats), periods, S(t) fitted.

    ``fitted_survival`` holds S(t) for t = 0..n_periods as fractions of the cohort size, where
    n_periods is the longest cohort's number of observed periods.
    """

    alpha: float
    beta: float
    log_likelihood: float
    n_periods: int
    fitted_survival: np.ndarray


def fit_sbg(active_counts: Sequence[float] | Sequence[Sequence[float]]) -> SbgFit:
    """Return the maximum-likelihood sBG fit of one or several cohorts' active counts.

    ``active_counts`` is one sequence (e.g. 1000, 631, 468, ...) starting at the cohort size, or
    a list of such sequences of different lengths (trailing NaN cells are dropped). The
    likelihood is maximised over (log alpha, log beta) with scipy.optimize.minimize.
    """
    cohorts = _as_cohorts(active_counts)
    n_periods = max(c.size for c in cohorts) - 1

    def objective(log_params: np.ndarray) -> float:
        alpha, beta = np.exp(log_params)
        return _sbg_neg_log_likelihood(alpha, beta, cohorts)

    # Start from a moderate heterogeneity whose first-period churn matches the data.
    first_churn = sum(c[0] - c[1] for c in cohorts) / sum(c[0] for c in cohorts)
    first_churn = min(max(first_churn, 1e-3), 1 - 1e-3)
    start = np.log([first_churn, 1 - first_churn])
    # Bounds in log space keep alpha, beta finite when the data show no heterogeneity
    # (constant churn drives both to infinity with a fixed ratio).
    bounds = [(-12.0, 14.0), (-12.0, 14.0)]
    result = optimize.minimize(
        objective,
        start,
        method="L-BFGS-B",
        bounds=bounds,
        options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 2000},
    )
    polished = optimize.minimize(
        objective,
        result.x,
        method="Nelder-Mead",
        bounds=bounds,
        options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 4000},
    )
    best = polished if polished.fun <= result.fun else result
    alpha, beta = (float(v) for v in np.exp(best.x))
    return SbgFit(
        alpha=alpha,
        beta=beta,
        log_likelihood=-float(best.fun),
        n_periods=int(n_periods),
        fitted_survival=sbg_survival(alpha, beta, n_periods),
    )


# --------------------------------------------------------------------------------------------
# Money-back guarantee break-even
# --------------------------------------------------------------------------------------------


def return_multiplier_for_days(days: float, reference_days: float, elasticity: float) -> float:
    """Return the factor by which returns grow from reference_days to days (dimensionless).

    ``(days / reference_days) ^ elasticity``.
    """
    _check_positive("days", days)
    _check_positive("reference_days", reference_days)
    return float(funnel.guarantee_length_factor(days, reference_days, elasticity))


def return_elasticity_for_multiplier(
    multiplier: float, days: float, reference_days: float
) -> float:
    """Return the return elasticity that multiplies returns by ``multiplier`` at ``days``.

    ``ln(multiplier) / ln(days / reference_days)``; e.g. doubling from 30 to 1825 days gives 0.169.
    """
    _check_positive("multiplier", multiplier)
    _check_positive("days", days)
    _check_positive("reference_days", reference_days)
    if days == reference_days:
        raise ValueError("days must differ from reference_days to define an elasticity")
    return math.log(multiplier) / math.log(days / reference_days)


def return_rate_for_days(
    rate_at_reference: float, days: float, reference_days: float, elasticity: float
) -> float:
    """Return the share of orders returned with a guarantee of ``days`` days (fraction, <= 1).

    ``min(1, rho_ref * (days / reference_days) ^ elasticity)``.
    """
    _check_rate("rate_at_reference", rate_at_reference)
    _check_positive("days", days)
    _check_positive("reference_days", reference_days)
    return float(funnel.return_rate(days, reference_days, rate_at_reference, elasticity))


def break_even_lift_revenue(rho_ref: float, rho_new: float) -> float:
    """Return the relative conversion lift that keeps net revenue unchanged (fraction).

    ``(1 - rho_ref) / (1 - rho_new) - 1``; 5% -> 10% returns gives 0.95 / 0.90 - 1 = 0.0556.
    Returns math.inf when rho_new == 1 (every order refunded: no lift is enough).
    """
    _check_rate("rho_ref", rho_ref)
    _check_rate("rho_new", rho_new)
    if rho_new >= 1:
        return math.inf
    return (1 - rho_ref) / (1 - rho_new) - 1


def order_contribution(
    order_value: float,
    return_rate: float,
    gross_margin: float,
    resale_share: float,
    handling_cost: float,
) -> float:
    """Return the expected profit of one order before marketing spend, in currency.

    ``value * ((1 - rho) - (1 - m) + rho * resale * (1 - m)) - rho * handling``: kept revenue,
    minus cost of goods, plus the resold part of returned goods' cost, minus handling per return.
    """
    _check_positive("order_value", order_value, allow_zero=True)
    _check_rate("return_rate", return_rate)
    _check_rate("gross_margin", gross_margin)
    _check_rate("resale_share", resale_share)
    _check_positive("handling_cost", handling_cost, allow_zero=True)
    return float(funnel.order_contribution(order_value, return_rate, gross_margin, resale_share,
                                           handling_cost))


def break_even_lift_profit(
    order_value: float,
    rho_ref: float,
    rho_new: float,
    gross_margin: float,
    resale_share: float,
    handling_cost: float,
) -> float:
    """Return the relative conversion lift that keeps profit before marketing unchanged (fraction).

    ``contribution(rho_ref) / contribution(rho_new) - 1`` with ``order_contribution``.
    Returns math.inf when the new contribution is <= 0 (orders lose money, so no lift breaks
    even). A value <= -1 means the reference already loses money per order, so even losing every
    order is no worse.
    """
    new = order_contribution(order_value, rho_new, gross_margin, resale_share, handling_cost)
    ref = order_contribution(order_value, rho_ref, gross_margin, resale_share, handling_cost)
    if new <= 0:
        return math.inf
    return ref / new - 1


# --------------------------------------------------------------------------------------------
# A/B test sample size
# --------------------------------------------------------------------------------------------


def ab_sample_size_per_arm(
    p1: float, p2: float, alpha: float = 0.05, power: float = 0.8, two_sided: bool = True
) -> float:
    """Return the visitors (or leads) needed per arm, unrounded, to detect p1 vs p2.

    Classic normal approximation for two proportions with pooled variance under H0:
    ``n = (z_{1-a/2} sqrt(2 pbar qbar) + z_{1-b} sqrt(p1 q1 + p2 q2))^2 / (p1 - p2)^2``
    (z_{1-a} when one-sided). Round up for planning.
    """
    _check_rate("p1", p1, open_low=True, open_high=True)
    _check_rate("p2", p2, open_low=True, open_high=True)
    _check_rate("alpha", alpha, open_low=True, open_high=True)
    _check_rate("power", power, open_low=True, open_high=True)
    if p1 == p2:
        raise ValueError("p1 and p2 are equal: there is no difference to detect")
    z_alpha = stats.norm.ppf(1 - alpha / 2 if two_sided else 1 - alpha)
    z_beta = stats.norm.ppf(power)
    p_bar = (p1 + p2) / 2
    spread = z_alpha * math.sqrt(2 * p_bar * (1 - p_bar)) + z_beta * math.sqrt(
        p1 * (1 - p1) + p2 * (1 - p2)
    )
    return float(spread**2 / (p1 - p2) ** 2)


def ab_weeks_needed(n_per_arm: float, leads_per_month: float, arms: int = 2) -> float:
    """Return the weeks of traffic needed to give every arm n_per_arm leads (weeks, unrounded).

    ``arms * n_per_arm / (leads_per_month * 12 / 52)``.
    """
    _check_positive("n_per_arm", n_per_arm, allow_zero=True)
    _check_positive("leads_per_month", leads_per_month)
    if arms < 1:
        raise ValueError(f"arms must be >= 1, got {arms!r}")
    leads_per_week = leads_per_month * MONTHS_PER_YEAR / WEEKS_PER_YEAR
    return arms * n_per_arm / leads_per_week
