"""BG/NBD (repeat purchases while alive) and Gamma-Gamma (spend per order), by maximum
likelihood (docs/calibration.md).

BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way"): while alive a
customer buys at a Poisson rate lambda ~ Gamma(r, alpha); after each purchase they drop out
with probability p ~ Beta(a, b). A customer with x repeat purchases, the last at t_x, observed
for T (all in the fit's time unit) has likelihood

    L = B(a, b + x) / B(a, b) * Gamma(r + x) alpha^r / Gamma(r)
        * [ (alpha + T)^-(r + x) + [x > 0] a / (b + x - 1) * (alpha + t_x)^-(r + x) ].

Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV"): a customer's order values have mean
nu ~ Gamma(q, gamma) per unit shape p; for x repeat orders of mean value m the likelihood is

    L = Gamma(p x + q) / (Gamma(p x) Gamma(q)) * gamma^q m^(p x - 1) x^(p x)
        / (gamma + m x)^(p x + q).

Both are fitted on the log of their parameters (L-BFGS-B); standard errors come from the
inverse of a numerical Hessian of the negative log-likelihood in the natural parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

#: Repeat-purchase groups of the calibration/holdout table: 0, 1, ..., 6 and "7+".
HOLDOUT_GROUPS = 8


@dataclass(frozen=True)
class ModelFit:
    """A maximum-likelihood fit: parameter -> estimate and standard error, the maximised
    log-likelihood and the number of customers it was fitted to."""

    params: dict[str, float]
    se: dict[str, float]
    log_likelihood: float
    customers: int


def _numerical_hessian(f: Callable[[np.ndarray], float], x: np.ndarray) -> np.ndarray:
    """Return the Hessian of f at x by central differences (relative steps of 1e-4)."""
    n = len(x)
    steps = 1e-4 * np.maximum(np.abs(x), 1e-3)
    hessian = np.empty((n, n))
    for i in range(n):
        for j in range(i, n):
            ei = np.zeros(n)
            ej = np.zeros(n)
            ei[i], ej[j] = steps[i], steps[j]
            value = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (
                4 * steps[i] * steps[j])
            hessian[i, j] = hessian[j, i] = value
    return hessian


def _standard_errors(negative_ll: Callable[[np.ndarray], float], x: np.ndarray) -> np.ndarray:
    """Return the square roots of the inverse Hessian's diagonal (NaN when it is singular)."""
    try:
        covariance = np.linalg.inv(_numerical_hessian(negative_ll, x))
    except np.linalg.LinAlgError:
        return np.full(len(x), np.nan)
    diagonal = np.diag(covariance)
    return np.where(diagonal > 0, np.sqrt(np.abs(diagonal)), np.nan)


def _fit(negative_ll: Callable[[np.ndarray], float], start: np.ndarray,
         names: tuple[str, ...], customers: int) -> ModelFit:
    """Minimise over log-parameters from `start`; return estimates with standard errors."""

    def on_log(log_x: np.ndarray) -> float:
        value = negative_ll(np.exp(log_x))
        return value if np.isfinite(value) else 1e300

    best = None
    for shift in (0.0, 1.0, -1.0):
        result = optimize.minimize(on_log, np.log(start) + shift, method="L-BFGS-B",
                                   bounds=[(-12.0, 12.0)] * len(start),
                                   options={"maxiter": 2000, "ftol": 1e-14, "gtol": 1e-9})
        if best is None or result.fun < best.fun:
            best = result
    assert best is not None  # noqa: S101 - the loop above always runs
    estimate = np.exp(best.x)
    if not np.isfinite(best.fun) or best.fun >= 1e299:
        raise ValueError("the model could not be fitted to these customers")
    se = _standard_errors(negative_ll, estimate)
    return ModelFit(dict(zip(names, map(float, estimate), strict=True)),
                    dict(zip(names, map(float, se), strict=True)), float(-best.fun), customers)


# --------------------------------------------------------------------------------------------
# BG/NBD


def bgnbd_log_likelihood(r: float, alpha: float, a: float, b: float, x: np.ndarray,
                         t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Return each customer's BG/NBD log-likelihood (x repeats, last at t_x, observed for T)."""
    common = (special.betaln(a, b + x) - special.betaln(a, b) + special.gammaln(r + x)
              - special.gammaln(r) + r * np.log(alpha))
    survive = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        dropped = np.where(x > 0, np.log(a) - np.log(np.maximum(b + x - 1, 1e-300))
                           - (r + x) * np.log(alpha + t_x), -np.inf)
    return common + np.logaddexp(survive, dropped)


def fit_bgnbd(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> ModelFit:
    """Fit r, alpha, a, b by maximum likelihood (times in one unit; alpha is in that unit)."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    if len(x) < 10 or not np.any(x > 0):
        raise ValueError("BG/NBD needs at least 10 customers and some repeat purchases")

    def negative(params: np.ndarray) -> float:
        r, alpha, a, b = params
        return -float(np.sum(bgnbd_log_likelihood(r, alpha, a, b, x, t_x, T)))

    scale = max(float(np.mean(T)), 1e-6)
    return _fit(negative, np.array([1.0, scale, 1.0, 1.0]), ("r", "alpha", "a", "b"), len(x))


def _alive_odds(r: float, alpha: float, a: float, b: float, x: np.ndarray, t_x: np.ndarray,
                T: np.ndarray) -> np.ndarray:
    """Return [x > 0] a / (b + x - 1) * ((alpha + T) / (alpha + t_x))^(r + x)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_odds = (np.log(a) - np.log(np.maximum(b + x - 1, 1e-300))
                    + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x)))
    return np.where(x > 0, np.exp(np.minimum(log_odds, 700.0)), 0.0)


def probability_alive(params: dict[str, float], x: np.ndarray, t_x: np.ndarray,
                      T: np.ndarray) -> np.ndarray:
    """Return P(alive at T | x, t_x, T) per customer."""
    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    return 1.0 / (1.0 + _alive_odds(r, alpha, a, b, x, t_x, T))


def expected_purchases(params: dict[str, float], t: float | np.ndarray, x: np.ndarray,
                       t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Return E[X(t) | x, t_x, T]: expected repeat purchases in the next t time units (FHL 2005,
    eq. 10), per customer."""
    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    t = np.asarray(t, dtype=float)
    z = t / (alpha + T + t)
    power = np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t)))
    hyper = special.hyp2f1(r + x, b + x, a + b + x - 1.0, z)
    numerator = (a + b + x - 1.0) / (a - 1.0) * (1.0 - power * hyper)
    return numerator / (1.0 + _alive_odds(r, alpha, a, b, x, t_x, T))


# --------------------------------------------------------------------------------------------
# Gamma-Gamma


def gamma_gamma_log_likelihood(p: float, q: float, gamma: float, x: np.ndarray,
                               spend: np.ndarray) -> np.ndarray:
    """Return each repeat customer's Gamma-Gamma log-likelihood (x orders of mean `spend`)."""
    px = p * x
    return (special.gammaln(px + q) - special.gammaln(px) - special.gammaln(q)
            + q * np.log(gamma) + (px - 1) * np.log(spend) + px * np.log(x)
            - (px + q) * np.log(gamma + spend * x))


def fit_gamma_gamma(x: np.ndarray, spend: np.ndarray) -> ModelFit:
    """Fit p, q, gamma to the customers with x > 0 repeat orders and a positive mean spend."""
    x, spend = np.asarray(x, dtype=float), np.asarray(spend, dtype=float)
    keep = (x > 0) & (spend > 0)
    x, spend = x[keep], spend[keep]
    if len(x) < 10:
        raise ValueError("Gamma-Gamma needs at least 10 customers with repeat orders")

    def negative(params: np.ndarray) -> float:
        p, q, gamma = params
        return -float(np.sum(gamma_gamma_log_likelihood(p, q, gamma, x, spend)))

    return _fit(negative, np.array([1.0, 2.0, float(np.mean(spend))]), ("p", "q", "gamma"),
                len(x))


def expected_spend(params: dict[str, float], x: np.ndarray, spend: np.ndarray) -> np.ndarray:
    """Return E[M | x, m]: a customer's expected value per order, p (gamma + m x) /
    (p x + q - 1); the population mean p gamma / (q - 1) when x = 0 (needs q > 1)."""
    p, q, gamma = (params[k] for k in ("p", "q", "gamma"))
    return p * (gamma + spend * x) / (p * x + q - 1.0)


# --------------------------------------------------------------------------------------------
# Calibration / holdout


@dataclass(frozen=True)
class HoldoutCheck:
    """Mean holdout repeat purchases by calibration repeat purchases (0, 1, ..., 7+).

    groups: labels; customers: count per group; actual and predicted: mean per customer.
    """

    groups: tuple[str, ...]
    customers: np.ndarray
    actual: np.ndarray
    predicted: np.ndarray


def holdout_check(params: dict[str, float], x: np.ndarray, t_x: np.ndarray, T: np.ndarray,
                  x_holdout: np.ndarray, holdout: float) -> HoldoutCheck:
    """Return predicted vs actual holdout repeat purchases grouped as in FHL 2005, figure 4."""
    predicted = expected_purchases(params, holdout, x, t_x, T)
    group = np.minimum(x, HOLDOUT_GROUPS - 1).astype(np.int64)
    count = np.bincount(group, minlength=HOLDOUT_GROUPS).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        actual = np.bincount(group, weights=x_holdout, minlength=HOLDOUT_GROUPS) / count
        mean_predicted = np.bincount(group, weights=predicted, minlength=HOLDOUT_GROUPS) / count
    labels = (*tuple(str(k) for k in range(HOLDOUT_GROUPS - 1)), f"{HOLDOUT_GROUPS - 1}+")
    return HoldoutCheck(labels, count, actual, mean_predicted)
