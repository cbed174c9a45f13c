"""Fitting the funnel's response parameters to a monthly history, with a parametric bootstrap
and a backtest (docs/calibration.md; the model and the replay are in `sim.calibrate.history`).

Objective per data set: the sum over observed series and fitted months of Pearson residuals
(actual - replayed) / sqrt(max(replayed, 1)), squared, plus ((u - u_scenario) / PRIOR_SD)^2
per parameter on its logit / log scale u. The solver is Levenberg-Marquardt with a forward-
difference Jacobian; every data set of a batch (the bootstrap's, a recovery study's) and every
Jacobian column runs in the same engine call, one trial each.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import special

from sim.calibrate.history import (
    MIN_FIT_MONTHS,
    SERIES,
    History,
    Parameter,
    base_values,
    fitted_parameters,
    from_scale,
    replay,
    to_scale,
)
from sim.scenario import Scenario

#: Prior sd on the logit / log scale, and the share of it a parameter's own sd must stay below
#: to count as identified by the data.
PRIOR_SD = 2.0
IDENTIFIED_BELOW = 0.5
#: Bootstrap histories drawn from the fitted model.
BOOTSTRAP = 200
#: Solver settings: finite-difference step (logit / log scale) and iterations.
STEP = 1e-4
MAX_ITERATIONS = 60
#: Default months held out of the fit for the backtest.
DEFAULT_HOLDOUT = 6
#: Bootstrap percentiles that make the proposed 90% ranges.
LOW_PERCENTILE, HIGH_PERCENTILE = 5.0, 95.0


@dataclass(frozen=True)
class _Problem:
    """What the residuals need: the history of the fitted months, the parameters, the
    scenario's values (replay inputs) and their coordinates (the prior's centre)."""

    history: History
    parameters: tuple[Parameter, ...]
    values: dict[str, float]
    prior: np.ndarray

    @property
    def observed(self) -> tuple[str, ...]:
        return tuple(name for name in SERIES if name in self.history.series)

    def replayed(self, u: np.ndarray, *, random: bool = False, seed: int = 0
                 ) -> dict[str, np.ndarray]:
        n = len(u)
        values = {path: np.full(n, value) for path, value in self.values.items()}
        values.update(from_scale(self.parameters, u))
        return replay(self.history, values, random=random, seed=seed)

    def data_residuals(self, actual: np.ndarray, expected: Mapping[str, np.ndarray]
                       ) -> np.ndarray:
        """(actual - expected) / sqrt(max(expected, 1)); actual (n, months, series)."""
        parts = []
        for k, name in enumerate(self.observed):
            mean = expected[name]
            parts.append((actual[:, :, k] - mean) / np.sqrt(np.maximum(mean, 1.0)))
        return np.concatenate(parts, axis=1)

    def residuals(self, u: np.ndarray, actual: np.ndarray) -> np.ndarray:
        data = self.data_residuals(actual, self.replayed(u))
        return np.concatenate([data, (u - self.prior) / PRIOR_SD], axis=1)


def _observed_array(history: History, names: tuple[str, ...]) -> np.ndarray:
    return np.stack([history.series[name] for name in names], axis=-1)[None, :, :]


def _jacobian(problem: _Problem, u: np.ndarray, actual: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    """Return residuals (n, m) and their Jacobian (n, m, p) by forward differences, all in
    one engine call."""
    n, p = u.shape
    shifted = [u] + [u + STEP * np.eye(p)[j] for j in range(p)]
    stacked = np.concatenate(shifted)
    r = problem.residuals(stacked, np.concatenate([actual] * (p + 1)))
    base = r[:n]
    jac = np.stack([(r[(j + 1) * n:(j + 2) * n] - base) / STEP for j in range(p)], axis=-1)
    return base, jac


def solve_batch(problem: _Problem, actual: np.ndarray, start: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fit every data set of `actual` (n, months, series) from `start` (n, p).

    Returns (u, residuals, Jacobian at u, converged flags).
    """
    u = start.copy()
    n, p = u.shape
    damping = np.full(n, 1e-3)
    done = np.zeros(n, dtype=bool)
    r, jac = _jacobian(problem, u, actual)
    for _ in range(MAX_ITERATIONS):
        cost = np.sum(r ** 2, axis=1)
        gradient = np.einsum("nmp,nm->np", jac, r)
        normal = np.einsum("nmp,nmq->npq", jac, jac)
        diagonal = np.einsum("npp->np", normal)
        lhs = normal + damping[:, None, None] * diagonal[:, :, None] * np.eye(p)[None]
        step = -np.linalg.solve(lhs, gradient[:, :, None])[:, :, 0]
        step[done] = 0.0
        step = np.clip(step, -3.0, 3.0)
        trial = u + step
        # The trial's residuals come with its Jacobian (one engine call per iteration): an
        # accepted step needs no second call.
        trial_r, trial_jac = _jacobian(problem, trial, actual)
        trial_cost = np.sum(trial_r ** 2, axis=1)
        better = (trial_cost < cost) & ~done
        u = np.where(better[:, None], trial, u)
        r = np.where(better[:, None], trial_r, r)
        jac = np.where(better[:, None, None], trial_jac, jac)
        damping = np.where(better, damping / 3.0, damping * 4.0)
        small = (np.max(np.abs(step), axis=1) < 1e-6) | (
            better & (cost - trial_cost < 1e-10 * (1.0 + cost)))
        done |= small | (damping > 1e10)
        if done.all():
            break
    return u, r, jac, done


def _start(problem: _Problem, actual: np.ndarray) -> np.ndarray:
    """Starting coordinates: the scenario's values, customers at start near month 0's
    active customers (the median over the data sets)."""
    start = problem.prior.copy()
    for j, p in enumerate(problem.parameters):
        if p.path == "market.customers_start":
            k = problem.observed.index("active_customers")
            start[j] = np.log(max(float(np.median(actual[:, 0, k])), 1.0))
    return start


def make_problem(history: History, scenario: Scenario) -> _Problem:
    """Return the fitting problem of a history (its fitted months) against a scenario."""
    parameters = fitted_parameters(history)
    if not parameters:
        raise ValueError("the history has none of the series a parameter is fitted to (leads, "
                         "new_customers, active_customers, repeat_orders, orders_returned)")
    values = base_values(scenario)
    return _Problem(history, parameters, values, to_scale(parameters, values)[0])


@dataclass(frozen=True)
class HistoryFit:
    """Fitted response parameters of a history.

    estimate: path -> fitted value; draws: path -> the bootstrap's values (BOOTSTRAP,);
    se_scale: sd on the logit / log scale (from the curvature, prior included); identified:
    whether the data narrowed the parameter (se_scale below IDENTIFIED_BELOW x PRIOR_SD);
    values: every replay input (the scenario's medians with the estimates); months: fitted
    months; converged: whether the solver met its tolerance.
    """

    parameters: tuple[Parameter, ...]
    estimate: dict[str, float]
    draws: dict[str, np.ndarray]
    se_scale: dict[str, float]
    identified: dict[str, bool]
    values: dict[str, float]
    months: int
    converged: bool


def fit_batch(problem: _Problem, actual: np.ndarray, *, bootstrap: int = BOOTSTRAP,
              seed: int = 20261130) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fit every data set of `actual` (n, months, series) and bootstrap each one.

    Returns coordinates u (n, p), bootstrap coordinates (n, bootstrap, p), the sd of each
    coordinate from the curvature, prior included (n, p), and converged flags (n,).
    """
    start = np.repeat(_start(problem, actual)[None, :], len(actual), axis=0)
    u, r, jac, done = solve_batch(problem, actual, start)
    draws = one_step_bootstrap(problem, u, r, jac, bootstrap, seed)
    normal = np.einsum("nmp,nmq->npq", jac, jac)
    se = np.sqrt(np.maximum(np.einsum("npp->np", np.linalg.pinv(normal)), 0.0))
    return u, draws, se, done


def fit_history(history: History, scenario: Scenario, *, bootstrap: int = BOOTSTRAP,
                seed: int = 20261130) -> HistoryFit:
    """Fit the parameters the history can inform (all its months) with bootstrap draws."""
    problem = make_problem(history, scenario)
    actual = _observed_array(history, problem.observed)
    u, draws_u, se, done = fit_batch(problem, actual, bootstrap=bootstrap, seed=seed)
    natural = {path: float(v[0]) for path, v in from_scale(problem.parameters, u).items()}
    draws = from_scale(problem.parameters, draws_u[0])
    paths = [p.path for p in problem.parameters]
    return HistoryFit(
        problem.parameters, natural, draws, dict(zip(paths, map(float, se[0]), strict=True)),
        {path: bool(s < IDENTIFIED_BELOW * PRIOR_SD) for path, s in zip(paths, se[0],
                                                                         strict=True)},
        {**problem.values, **natural}, len(history.months), bool(done[0]))


def one_step_bootstrap(problem: _Problem, u: np.ndarray, r: np.ndarray, jac: np.ndarray,
                       bootstrap: int, seed: int) -> np.ndarray:
    """Return bootstrap coordinates (n, bootstrap, p) for fits u (n, p).

    For each fit, `bootstrap` histories are drawn from the fitted model with random flows and
    refitted by one Gauss-Newton step from u (Jacobian `jac` (n, m, p) at u; `r` (n, m) are the
    observed data's residuals). Each series' noise is widened by sqrt(observed mean square
    residual / simulated one) when the data are noisier than whole-customer chance.
    """
    names = problem.observed
    n, _p = u.shape
    months = len(problem.history.months)
    repeated = np.repeat(u, bootstrap, axis=0)
    drawn = problem.replayed(repeated, random=True, seed=seed)
    expected = problem.replayed(u)
    sim_actual = np.stack([drawn[name] for name in names], axis=-1)
    means = {name: np.repeat(values, bootstrap, axis=0) for name, values in expected.items()}
    noise = problem.data_residuals(sim_actual, means).reshape(n, bootstrap, -1)
    for k in range(len(names)):
        part = slice(k * months, (k + 1) * months)
        simulated = np.mean(noise[:, :, part] ** 2, axis=(1, 2))
        observed = np.mean(r[:, part] ** 2, axis=1)
        ratio = np.divide(observed, simulated, out=np.ones(n), where=simulated > 0)
        noise[:, :, part] *= np.sqrt(np.maximum(ratio, 1.0))[:, None, None]
    prior = (u - problem.prior) / PRIOR_SD
    full = np.concatenate([noise, np.repeat(prior[:, None, :], bootstrap, axis=1)], axis=2)
    normal = np.einsum("nmp,nmq->npq", jac, jac)
    rhs = np.einsum("nmp,nbm->npb", jac, full)
    steps = -np.linalg.solve(normal, rhs)
    return u[:, None, :] + np.transpose(steps, (0, 2, 1))


# --------------------------------------------------------------------------------------------
# Ranges on a field's own scale, and the backtest.


def range_scale(path: str) -> str:
    """Return how a fitted field's 90% range is spread: 'logit' for rates, 'log' otherwise."""
    return "log" if path.startswith("market.") or path.endswith("spend_scale") else "logit"


def ninety_range(path: str, estimate: np.ndarray | float, draws: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Return the proposed 90% range (low, high) of a fitted field: centred on the estimate on
    the field's scale (so the range's median is the estimate), as wide as the bootstrap's
    P5-P95. `draws` (..., bootstrap) for estimates of shape (...)."""
    if range_scale(path) == "log":
        forward, back = np.log, np.exp
        clipped = np.maximum(draws, 1e-300)
    else:
        forward, back = special.logit, special.expit
        clipped = np.clip(draws, 1e-12, 1 - 1e-12)
    low, high = np.percentile(forward(clipped), [LOW_PERCENTILE, HIGH_PERCENTILE], axis=-1)
    half = np.maximum((high - low) / 2.0, 1e-6)
    centre = forward(np.asarray(estimate, dtype=float))
    return back(centre - half), back(centre + half)


def fit_range(fit: HistoryFit, path: str) -> tuple[float, float]:
    """Return the proposed 90% range (low, high) of one field of a fit."""
    low, high = ninety_range(path, fit.estimate[path], fit.draws[path])
    return float(low), float(high)


@dataclass(frozen=True)
class Backtest:
    """The model replayed over the whole history against the actuals.

    predicted: series -> (months,) with the fitted (or a scenario's median) values; low/high:
    P5/P95 of the replays over the bootstrap's parameters (None without draws); holdout: the
    last months, not fitted; mape_fit/mape_holdout: mean absolute percentage error per series
    (as shares; months with an actual of 0 are skipped; NaN when none is left).
    """

    months: tuple[str, ...]
    actual: dict[str, np.ndarray]
    predicted: dict[str, np.ndarray]
    low: dict[str, np.ndarray] | None
    high: dict[str, np.ndarray] | None
    holdout: int
    mape_fit: dict[str, float]
    mape_holdout: dict[str, float]


def mape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Return mean |actual - predicted| / actual over months with actual > 0 (a share)."""
    keep = actual > 0
    if not keep.any():
        return float("nan")
    return float(np.mean(np.abs(actual[keep] - predicted[keep]) / actual[keep]))


def backtest(history: History, values: Mapping[str, float], holdout: int,
             draws: Mapping[str, np.ndarray] | None = None) -> Backtest:
    """Replay the whole history with `values` (engine inputs) and score it month by month."""
    replayed = replay(history, {path: np.full(1, v) for path, v in values.items()})
    predicted = {name: replayed[name][0] for name in history.series}
    low = high = None
    if draws:
        count = len(next(iter(draws.values())))
        inputs = {path: np.full(count, v) for path, v in values.items()}
        inputs.update({path: np.asarray(v, dtype=float) for path, v in draws.items()})
        band = replay(history, inputs)
        low = {name: np.percentile(band[name], LOW_PERCENTILE, axis=0)
               for name in history.series}
        high = {name: np.percentile(band[name], HIGH_PERCENTILE, axis=0)
                for name in history.series}
    split = len(history.months) - holdout
    return Backtest(
        history.months, dict(history.series), predicted, low, high, holdout,
        {name: mape(history.series[name][:split], predicted[name][:split])
         for name in history.series},
        {name: mape(history.series[name][split:], predicted[name][split:]) if holdout else
         float("nan") for name in history.series})


@dataclass(frozen=True)
class HistoryCalibration:
    """A history's fit (on all but the held-out months) and its backtest."""

    fit: HistoryFit
    backtest: Backtest


def calibrate_history(history: History, scenario: Scenario | None = None, *,
                      holdout: int = DEFAULT_HOLDOUT, bootstrap: int = BOOTSTRAP,
                      seed: int = 20261130) -> HistoryCalibration:
    """Fit the history's first months - holdout months and backtest over all of them.

    The scenario (default: the schema's defaults) gives every input that is not fitted.
    ValueError when fewer than MIN_FIT_MONTHS months are left to fit.
    """
    scenario = Scenario() if scenario is None else scenario
    months = len(history.months)
    if holdout < 0 or months - holdout < MIN_FIT_MONTHS:
        raise ValueError(f"the history has {months} months; fitting needs at least "
                         f"{MIN_FIT_MONTHS} after the {holdout} held out (--holdout)")
    fit = fit_history(history.head(months - holdout), scenario, bootstrap=bootstrap, seed=seed)
    return HistoryCalibration(fit, backtest(history, fit.values, holdout, fit.draws))
