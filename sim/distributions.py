"""Uncertain inputs -> sample arrays: the one place that draws random numbers for inputs.

Every numeric field of a scenario gets its own random stream, seeded from ``(seed, field
path)``. A stream gives one uniform number per trial, and the field's distribution turns it into
a value through its quantile function (inverse CDF). Consequences that the rest of the tool
relies on:

- adding or removing an uncertain input never changes the draws of another one;
- the base scenario and every variant use the same uniforms, so trial i is "the same future"
  in all of them (common random numbers), even when a variant changes a distribution;
- the first n trials of a larger run equal an n-trial run with the same seed;
- any percentile of an input (for tornado swings, thresholds) comes from the same function.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

import numpy as np
from scipy import special

from sim.inputs import Inputs
from sim.scenario import KINDS, Kind, Scenario, field_catalog, flat_fields
from sim.values import Beta, Fixed, Interval90, Normal, Triangular, Uniform, Value

#: z-score of the 95th percentile: {low, high} are the 5th and 95th percentiles.
Z95 = float(special.ndtri(0.95))


def stream(seed: int, name: str) -> np.random.Generator:
    """Return the random generator for one named stream (a field path or "flows/...")."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    words = np.frombuffer(digest[:16], dtype=np.uint32).tolist()
    return np.random.default_rng(np.random.SeedSequence([int(seed), *words]))


def uniforms(seed: int, name: str, trials: int) -> np.ndarray:
    """Return `trials` uniform numbers in the open interval (0, 1) from the named stream."""
    u = stream(seed, name).random(trials)
    # Keep u away from 0 so that quantile functions never return -inf.
    return np.clip(u, 1e-12, 1.0 - 1e-12)


def quantile(value: Value, kind: Kind, probabilities: np.ndarray | float) -> np.ndarray:
    """Return the value's quantile function at the given probabilities (inverse CDF), in the
    field's own units. Normal distributions are truncated to the field's allowed range."""
    u = np.asarray(probabilities, dtype=float)
    if isinstance(value, Fixed):
        return np.full(u.shape, value.value)
    if isinstance(value, Interval90):
        z = special.ndtri(u)
        if kind.name == "rate":
            lo, hi = special.logit(value.low), special.logit(value.high)
            return special.expit((lo + hi) / 2 + (hi - lo) / (2 * Z95) * z)
        lo, hi = np.log(value.low), np.log(value.high)
        return np.exp((lo + hi) / 2 + (hi - lo) / (2 * Z95) * z)
    if isinstance(value, Uniform):
        return value.min + u * (value.max - value.min)
    if isinstance(value, Triangular):
        lo, mode, hi = value.min, value.mode, value.max
        cut = (mode - lo) / (hi - lo)
        left = lo + np.sqrt(u * (hi - lo) * (mode - lo))
        right = hi - np.sqrt((1 - u) * (hi - lo) * (hi - mode))
        return np.where(u < cut, left, right)
    if isinstance(value, Normal | Beta):
        # scipy.stats is slow to import (seconds); only these two forms need it.
        from scipy import stats
    if isinstance(value, Normal):
        a = (kind.low - value.mean) / value.sd
        b = (kind.high - value.mean) / value.sd
        return stats.truncnorm.ppf(u, a, b, loc=value.mean, scale=value.sd)
    if isinstance(value, Beta):
        return stats.beta.ppf(u, value.a, value.b)
    raise TypeError(f"not a scenario value: {value!r}")


def numeric_fields(scenario: Scenario) -> dict[str, tuple[Value, Kind]]:
    """Return every numeric field present in the scenario: path -> (value, kind)."""
    kinds = {info.path: info.kind for info in field_catalog()}
    fields: dict[str, tuple[Value, Kind]] = {}
    for path in flat_fields(scenario):
        kind_name = kinds.get(path)
        if kind_name is None or kind_name == "choice":
            continue
        fields[path] = (_value_at(scenario, path), KINDS[kind_name])
    return fields


def _value_at(scenario: Scenario, path: str) -> Value:
    node: object = scenario
    for part in path.split("."):
        node = getattr(node, part)
    return node if isinstance(node, Value) else Fixed(float(node))  # type: ignore[arg-type]


def uncertain_fields(scenario: Scenario) -> list[str]:
    """Return the paths of the fields that hold a distribution, in schema order."""
    return [path for path, (value, _) in numeric_fields(scenario).items()
            if not isinstance(value, Fixed)]


def sample_inputs(scenario: Scenario, trials: int, seed: int) -> Inputs:
    """Return one array of `trials` values per numeric field, keyed by dotted path, with
    section attribute access (`sim.inputs.Inputs`: ``inputs.hot.repeat_max``).

    Fixed values give constant arrays; uncertain ones draw from their own stream.
    """
    inputs: dict[str, np.ndarray] = {}
    for path, (value, kind) in numeric_fields(scenario).items():
        if isinstance(value, Fixed):
            inputs[path] = np.full(trials, value.value)
        else:
            inputs[path] = quantile(value, kind, uniforms(seed, path, trials))
    return Inputs(inputs)


def quantile_inputs(scenario: Scenario, path: str, probabilities: Iterable[float]) -> np.ndarray:
    """Return the values of one field at the given probabilities (e.g. P10 and P90)."""
    value, kind = numeric_fields(scenario)[path]
    return quantile(value, kind, np.asarray(list(probabilities), dtype=float))


def point_inputs(scenario: Scenario) -> Inputs:
    """Return the median of every numeric field (floats): the scenario's single best guess."""
    return Inputs({path: float(quantile(value, kind, 0.5))
                   for path, (value, kind) in numeric_fields(scenario).items()})


def constant_inputs(values: Mapping[str, float], trials: int) -> Inputs:
    """Return inputs in the engine's form with every trial at the given point values."""
    return Inputs({path: np.full(trials, float(value)) for path, value in values.items()})
