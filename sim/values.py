"""Uncertain inputs as they are written in a scenario file.

A scenario field holds either a plain number or a distribution. These small frozen value
classes are what the schema stores; `sim.distributions` turns them into samples. Keeping them
in their own module lets the schema and the sampler share them without importing each other.

Forms (see docs/model.md#uncertain-inputs and README "Scenario files"):

- ``0.3``                                   -> `Fixed`
- ``{low: a, high: b}``                     -> `Interval90`, a 90% interval (P5 and P95)
- ``{dist: uniform, min: a, max: b}``       -> `Uniform`
- ``{dist: triangular, min, mode, max}``    -> `Triangular`
- ``{dist: normal, mean, sd}``              -> `Normal` (truncated to the field's allowed range)
- ``{dist: beta, a, b}``                    -> `Beta` (rates only)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fixed:
    """A value known exactly."""

    value: float


@dataclass(frozen=True)
class Interval90:
    """A 90% interval: `low` is the 5th and `high` the 95th percentile."""

    low: float
    high: float


@dataclass(frozen=True)
class Uniform:
    """Every value between `min` and `max` equally likely."""

    min: float
    max: float


@dataclass(frozen=True)
class Triangular:
    """Triangular distribution on [min, max] peaking at `mode`."""

    min: float
    mode: float
    max: float


@dataclass(frozen=True)
class Normal:
    """Normal distribution, truncated to the field's allowed range."""

    mean: float
    sd: float


@dataclass(frozen=True)
class Beta:
    """Beta(a, b) distribution for rates."""

    a: float
    b: float


Value = Fixed | Interval90 | Uniform | Triangular | Normal | Beta

#: The `dist:` names a file may use, with the parameter keys each one needs, in file order.
DIST_PARAMS: dict[str, tuple[str, ...]] = {
    "uniform": ("min", "max"),
    "triangular": ("min", "mode", "max"),
    "normal": ("mean", "sd"),
    "beta": ("a", "b"),
}
DIST_CLASSES: dict[str, type] = {
    "uniform": Uniform,
    "triangular": Triangular,
    "normal": Normal,
    "beta": Beta,
}


def is_uncertain(value: Value) -> bool:
    """Return True when the value is a distribution rather than a fixed number."""
    return not isinstance(value, Fixed)


def to_plain(value: Value) -> float | dict[str, object]:
    """Return the value in its file form: a number, ``{low, high}`` or ``{dist: ..., ...}``."""
    if isinstance(value, Fixed):
        return value.value
    if isinstance(value, Interval90):
        return {"low": value.low, "high": value.high}
    for name, cls in DIST_CLASSES.items():
        if isinstance(value, cls):
            plain: dict[str, object] = {"dist": name}
            plain.update({key: getattr(value, key) for key in DIST_PARAMS[name]})
            return plain
    raise TypeError(f"not a scenario value: {value!r}")
