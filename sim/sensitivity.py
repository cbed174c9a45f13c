"""Which assumptions decide the answer: tornado swings, variance shares, thresholds, EVPI.

Four views of the same question, all in the metric's own units:

- **Tornado** (one-at-a-time): every uncertain input in turn goes from its P10 to its P90 while
  the others sit at their medians; one deterministic engine run per setting, all settings
  stacked along the trial axis of a single `simulate` call. Every plan reads the *same
  percentile* of each input through its own distribution (as the Monte Carlo run does with its
  common random numbers), so an input a plan fixes keeps that plan's value.
- **Variance shares** (from the Monte Carlo draws, no extra runs): a binned first-order Sobol
  index per input, the variance of the metric's mean within quantile bins of the input divided
  by the metric's variance, with the usual small-sample correction. What the shares leave of
  100% comes from interactions that one-at-a-time swings cannot see.
- **Decision threshold**: for two plans and one input, the input value at which the mean
  difference between the plans crosses zero, found by bracketing root finding on the same
  futures (the input is fixed at the value tried, every other input keeps its draws).
- **Value of knowing** (EVPI / EVPPI from the same draws): what learning the input exactly
  before choosing a plan would add to the expected metric.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import elementwise

from sim.distributions import numeric_fields, quantile, sample_inputs, stream, uncertain_fields
from sim.engine import simulate
from sim.scenario import Scenario

#: Percentiles an input swings between in the tornado.
SWING = (0.10, 0.90)
#: Percentiles that bound the threshold search (where an input can plausibly be).
SEARCH = (0.01, 0.99)
#: Percentiles of the coarse grid that brackets the thresholds before root finding.
GRID = (0.01, 0.10, 0.50, 0.90, 0.99)
#: Quantile bins for the variance shares and the value of knowing.
SHARE_BINS = 20
VALUE_BINS = 10


# ------------------------------------------------------------------------------ settings


def swing_fields(plans: Sequence[Scenario]) -> list[str]:
    """Return the fields that are uncertain in at least one of the plans, in schema order."""
    seen: dict[str, None] = {}
    for plan in plans:
        for path in uncertain_fields(plan):
            seen.setdefault(path, None)
    order = {path: i for i, path in enumerate(numeric_fields(plans[0]))}
    return sorted(seen, key=lambda path: order.get(path, len(order)))


def reference_plan(path: str, plans: Sequence[Scenario]) -> Scenario:
    """Return the first plan in which the field is uncertain (its percentiles are quoted)."""
    for plan in plans:
        if path in uncertain_fields(plan):
            return plan
    return plans[0]


def inputs_at_percentiles(plan: Scenario, probabilities: Mapping[str, np.ndarray],
                          rows: int) -> dict[str, np.ndarray]:
    """Return engine inputs for `rows` settings: each field at its own quantile of the given
    probability per row (the median where none is given); fixed fields keep their value."""
    middle = np.full(rows, 0.5)
    return {path: quantile(value, kind, probabilities.get(path, middle))
            for path, (value, kind) in numeric_fields(plan).items()}


def _expected_flows(plan: Scenario) -> Scenario:
    """The plan with expected flows, so that one run per setting is exact (no binomial noise)."""
    if plan.simulation.flows == "expected":
        return plan
    return plan.model_copy(update={
        "simulation": plan.simulation.model_copy(update={"flows": "expected"})})


# ------------------------------------------------------------------------------- tornado


@dataclass(frozen=True)
class TornadoBar:
    """One input's swing: its values at P10 and P90 and the metric at each (metric units)."""

    path: str
    input_low: float
    input_high: float
    output_low: float
    output_high: float

    @property
    def width(self) -> float:
        """Return the bar's width: how far the metric moves over the input's P10-P90."""
        return abs(self.output_high - self.output_low)


@dataclass(frozen=True)
class Tornado:
    """The metric with every input at its median, and one bar per input, widest first."""

    base_value: float
    bars: tuple[TornadoBar, ...]


def tornado(plan: Scenario, metric: str, *, against: Scenario | None = None,
            horizon: int | None = None, swing: tuple[float, float] = SWING) -> Tornado:
    """Return the one-at-a-time swings of `metric` (or of plan minus `against`, per setting).

    Runs 2 x (uncertain inputs) + 1 settings as trials of one engine call per plan, with
    expected flows. Input values quoted are the reference plan's (`against` first, as it is
    usually the base plan).
    """
    plans = [plan] if against is None else [against, plan]
    fields = swing_fields(plans)
    rows = 1 + 2 * len(fields)
    probabilities: dict[str, np.ndarray] = {}
    for index, path in enumerate(fields):
        column = np.full(rows, 0.5)
        column[1 + 2 * index] = swing[0]
        column[2 + 2 * index] = swing[1]
        probabilities[path] = column

    def run(scenario: Scenario) -> np.ndarray:
        inputs = inputs_at_percentiles(scenario, probabilities, rows)
        return simulate(_expected_flows(scenario), inputs=inputs,
                        horizon=horizon).metrics[metric]

    output = run(plan) if against is None else run(plan) - run(against)
    bars = []
    for index, path in enumerate(fields):
        low, high = quantile_pair(reference_plan(path, plans), path, swing)
        bars.append(TornadoBar(path, low, high, float(output[1 + 2 * index]),
                               float(output[2 + 2 * index])))
    bars.sort(key=lambda bar: -bar.width)
    return Tornado(float(output[0]), tuple(bars))


def quantile_pair(plan: Scenario, path: str, probabilities: tuple[float, float]) -> tuple[
        float, float]:
    """Return one field's values at two probabilities (e.g. P10 and P90), in its units."""
    value, kind = numeric_fields(plan)[path]
    low, high = quantile(value, kind, np.asarray(probabilities, dtype=float))
    return float(low), float(high)


# ------------------------------------------------------------------------ variance shares


def _bin_index(x: np.ndarray, bins: int) -> np.ndarray:
    """Equal-count quantile bins of x: 0 .. bins - 1 by rank."""
    ranks = np.empty(x.size, dtype=np.int64)
    ranks[np.argsort(x, kind="stable")] = np.arange(x.size)
    return ranks * bins // x.size


def variance_shares(output: np.ndarray, inputs: Mapping[str, np.ndarray],
                    fields: Sequence[str], bins: int = SHARE_BINS) -> dict[str, float]:
    """Return each input's first-order share of the output's variance (0 to 1).

    Binned Sobol estimate: Var(E[output | input's quantile bin]) / Var(output), corrected for
    the spread that bin means show by chance (the epsilon-squared correction,
    (SS_between - (bins - 1) MS_within) / SS_total, floored at 0). Trials where the output is
    undefined are left out; an input that does not vary gets 0.
    """
    y = np.asarray(output, dtype=float)
    keep = np.isfinite(y)
    y = y[keep]
    n = y.size
    total = float(np.sum((y - y.mean()) ** 2)) if n else 0.0
    shares: dict[str, float] = {}
    for path in fields:
        x = np.asarray(inputs[path], dtype=float)[keep]
        if n < 4 or total <= 0.0 or np.ptp(x) == 0.0:
            shares[path] = 0.0
            continue
        groups = max(2, min(bins, n // 25))
        index = _bin_index(x, groups)
        counts = np.bincount(index, minlength=groups)
        means = np.bincount(index, weights=y, minlength=groups) / np.maximum(counts, 1)
        between = float(np.sum(counts * (means - y.mean()) ** 2))
        within_mean_square = (total - between) / max(n - groups, 1)
        shares[path] = max(0.0, (between - (groups - 1) * within_mean_square) / total)
    return shares


# -------------------------------------------------------------------------- thresholds


@dataclass(frozen=True)
class Threshold:
    """Where the choice between plan A and plan B flips as one input moves.

    low/high: the searched range (the input's P1 and P99). roots: input values where the mean
    of A - B (metric units) is zero, ascending; root_se: their Monte Carlo standard errors.
    grid/grid_diff/grid_se: the input values tried, mean A - B at each and its standard
    error (roots included, where the mean is 0 up to the solver's tolerance).
    """

    path: str
    low: float
    high: float
    roots: tuple[float, ...]
    root_se: tuple[float, ...]
    grid: tuple[float, ...]
    grid_diff: tuple[float, ...]
    grid_se: tuple[float, ...]
    trials: int

    @property
    def flips(self) -> bool:
        """Return True when the choice flips somewhere in the searched range."""
        return bool(self.roots)

    def a_wins_at(self, value: float) -> bool:
        """Return True when A has the higher mean at the input value (from the grid)."""
        grid = np.asarray(self.grid)
        return bool(np.interp(value, grid, np.asarray(self.grid_diff)) > 0)


def decision_thresholds(plan_a: Scenario, plan_b: Scenario, paths: Sequence[str], metric: str,
                        *, trials: int, seed: int, horizon: int | None = None,
                        grid: Sequence[float] = GRID) -> dict[str, Threshold]:
    """Return, per input, the values at which mean(metric of A - metric of B) crosses 0.

    Both plans run on the same `trials` futures (seed, common random numbers) with the input
    fixed at the value tried in every future while all other inputs keep their draws; a plan
    that fixes the input keeps its own value. Each input is searched over its P1-P99 (reference
    plan: B first): a grid of percentiles brackets every sign change, then a bracketing root
    finder (Chandrupatla's method, scipy.optimize.elementwise.find_root, Brent's vectorised
    cousin) solves all brackets of all inputs together, to 1/2,000 of each range. A root's
    standard error is the Monte Carlo error of the mean difference there over the local slope.
    """
    plans = (plan_a, plan_b)
    base_inputs = [sample_inputs(plan, trials, seed) for plan in plans]
    uncertain = [set(uncertain_fields(plan)) for plan in plans]

    def differences(fields: Sequence[str], values: np.ndarray) -> np.ndarray:
        """Per-trial A - B with fields[k] fixed at values[k]: shape (len(values), trials)."""
        blocks = values.size
        outputs = []
        for inputs, own in zip(base_inputs, uncertain, strict=True):
            stacked = {name: np.tile(column, blocks) for name, column in inputs.items()}
            for k, (path, value) in enumerate(zip(fields, values, strict=True)):
                if path in own:
                    stacked[path][k * trials:(k + 1) * trials] = value
            outputs.append(simulate(plans[len(outputs)], inputs=stacked, horizon=horizon,
                                    seed=seed).metrics[metric].reshape(blocks, trials))
        return outputs[0] - outputs[1]

    points: dict[str, np.ndarray] = {}
    for path in paths:
        reference = reference_plan(path, [plan_b, plan_a])
        value, kind = numeric_fields(reference)[path]
        points[path] = np.unique(quantile(value, kind, np.asarray(grid, dtype=float)))
    grid_fields = [path for path in paths for _ in points[path]]
    grid_values = np.concatenate([points[path] for path in paths]) if paths else np.zeros(0)
    per_trial = differences(grid_fields, grid_values) if paths else np.zeros((0, trials))
    means = np.nanmean(per_trial, axis=1) if paths else grid_values
    errors = np.array([_standard_error(row) for row in per_trial])
    on_grid: dict[str, np.ndarray] = {}
    grid_errors: dict[str, np.ndarray] = {}
    offset = 0
    for path in paths:
        on_grid[path] = means[offset: offset + points[path].size]
        grid_errors[path] = errors[offset: offset + points[path].size]
        offset += points[path].size

    # Brackets: neighbouring grid values where the mean difference changes sign.
    brackets: list[tuple[str, float, float, float, float]] = []
    exact: list[tuple[str, float, float]] = []  # a grid value that is itself a root, with slope
    for path in paths:
        x, y = points[path], on_grid[path]
        for i in range(x.size - 1):
            if y[i] * y[i + 1] < 0:
                brackets.append((path, float(x[i]), float(x[i + 1]), float(y[i]),
                                 float(y[i + 1])))
            elif y[i] == 0.0 and i > 0 and y[i - 1] * y[i + 1] < 0:
                exact.append((path, float(x[i]),
                              float((y[i + 1] - y[i - 1]) / (x[i + 1] - x[i - 1]))))
    # path -> [(root, its standard error, standard error of the mean difference there)]
    roots: dict[str, list[tuple[float, float, float]]] = {path: [] for path in paths}
    if brackets:
        fields = [b[0] for b in brackets]
        which = np.arange(len(brackets), dtype=float)

        starts = np.array([points[path][0] for path in fields])
        widths = np.array([points[path][-1] - points[path][0] for path in fields])

        def mean_difference(share: np.ndarray, index: np.ndarray) -> np.ndarray:
            # Solved in shares of each input's searched range, so one tolerance fits all.
            rows = np.ravel(index).astype(np.int64)
            values = starts[rows] + np.ravel(share) * widths[rows]
            chosen = [fields[i] for i in rows]
            return np.nanmean(differences(chosen, values), axis=1).reshape(np.shape(share))

        found = elementwise.find_root(
            mean_difference, ((np.array([b[1] for b in brackets]) - starts) / widths,
                              (np.array([b[2] for b in brackets]) - starts) / widths),
            args=(which,), tolerances={"xatol": 1 / 2000, "xrtol": 0.0, "fatol": 0.0,
                                       "frtol": 0.0})
        found_x = starts + np.asarray(found.x, dtype=float) * widths
        at_roots = differences(fields, found_x)
        for k, (path, a, b, fa, fb) in enumerate(brackets):
            error = _standard_error(at_roots[k])
            roots[path].append((float(found_x[k]), error / abs((fb - fa) / (b - a)), error))
    for path, root, slope in exact:
        error = _standard_error(differences([path], np.array([root]))[0])
        roots[path].append((root, error / abs(slope), error))

    results: dict[str, Threshold] = {}
    for path in paths:
        found_roots = sorted(roots[path])
        x = np.concatenate([points[path], [root[0] for root in found_roots]])
        y = np.concatenate([on_grid[path], np.zeros(len(found_roots))])
        y_se = np.concatenate([grid_errors[path], [root[2] for root in found_roots]])
        order = np.argsort(x, kind="stable")
        results[path] = Threshold(
            path, float(points[path][0]), float(points[path][-1]),
            tuple(root[0] for root in found_roots), tuple(root[1] for root in found_roots),
            tuple(map(float, x[order])), tuple(map(float, y[order])),
            tuple(map(float, y_se[order])), trials)
    return results


def _standard_error(values: np.ndarray) -> float:
    """Return the standard error of the mean of the defined values (0 for fewer than 2)."""
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    return float(np.std(finite, ddof=1) / math.sqrt(finite.size)) if finite.size > 1 else 0.0


# ----------------------------------------------------------------------- value of knowing


@dataclass(frozen=True)
class ValueOfKnowing:
    """Expected gain (metric units) from learning inputs exactly before choosing a plan.

    evpi: everything learned at once; per_input: one input learned (EVPPI); noise: the typical
    EVPPI of an input that carries no information (binning noise at this trial count), so
    values near it are not evidence; best_plan: the plan chosen without more information.
    """

    evpi: float
    per_input: dict[str, float]
    noise: float
    best_plan: str


def _choose_after_learning(outcomes: np.ndarray, index: np.ndarray, bins: int) -> float:
    """Mean outcome when the best plan is chosen within each bin (outcomes: plans x trials)."""
    counts = np.bincount(index, minlength=bins)
    sums = np.stack([np.bincount(index, weights=row, minlength=bins) for row in outcomes])
    means = sums / np.maximum(counts, 1)
    return float(np.sum(counts * means.max(axis=0)) / counts.sum())


def value_of_knowing(outcomes: Mapping[str, np.ndarray], inputs: Mapping[str, np.ndarray],
                     fields: Sequence[str], bins: int = VALUE_BINS) -> ValueOfKnowing:
    """Return EVPI and per-input EVPPI of choosing among the plans on the same futures.

    outcomes: plan label -> metric per trial (paired). EVPI = mean over trials of the best
    plan's value - the best plan's mean. EVPPI of an input = mean over its quantile bins of
    the best plan's bin mean - the best plan's mean. Trials where any plan's metric is
    undefined are left out.
    """
    labels = list(outcomes)
    table = np.stack([np.asarray(outcomes[label], dtype=float) for label in labels])
    keep = np.all(np.isfinite(table), axis=0)
    table = table[:, keep]
    n = table.shape[1]
    if n == 0:
        return ValueOfKnowing(math.nan, dict.fromkeys(fields, math.nan), math.nan, labels[0])
    means = table.mean(axis=1)
    best = float(means.max())
    evpi = max(0.0, float(table.max(axis=0).mean()) - best)
    groups = max(2, min(bins, n // 50))
    per_input: dict[str, float] = {}
    for path in fields:
        x = np.asarray(inputs[path], dtype=float)[keep]
        if np.ptp(x) == 0.0:
            per_input[path] = 0.0
            continue
        gain = _choose_after_learning(table, _bin_index(x, groups), groups) - best
        per_input[path] = min(evpi, max(0.0, gain))
    # Bins of a random ordering of the trials: an input that tells nothing about the future.
    shuffles = stream(0, "sensitivity/noise")
    noise = float(np.mean([
        _choose_after_learning(table, _bin_index(shuffles.random(n), groups), groups) - best
        for _ in range(5)]))
    return ValueOfKnowing(evpi, per_input, max(0.0, noise), labels[int(np.argmax(means))])
