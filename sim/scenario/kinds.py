"""Field kinds: what values a scenario field accepts, and how a problem with one reads.

A `Kind` names a range (rates, amounts, counts, whole days...); `_parse_value` turns a file
value (a number, a 90% interval or a `{dist: ...}` mapping) into a `sim.values.Value`, checking
it against the kind. The `Annotated` field types (`Rate`, `Amount`, ...) hook these checks into
the pydantic schema in `sim.scenario.schema`.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any

from pydantic_core import PydanticCustomError, core_schema

from sim.values import (
    DIST_CLASSES,
    DIST_PARAMS,
    Fixed,
    Interval90,
    Normal,
    Triangular,
    Uniform,
    Value,
    to_plain,
)


class ScenarioError(ValueError):
    """A scenario (file, link or edit) that cannot be used; `.problems` lists every reason."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))



# --------------------------------------------------------------------------------------------
# Field kinds: what values a field accepts, and how its message reads.


@dataclass(frozen=True)
class Kind:
    """What a field accepts: its range, whether it may be uncertain, and how to describe it."""

    name: str
    low: float
    high: float
    low_open: bool = False  # True: low itself is not allowed (> low)
    integer: bool = False
    uncertain: bool = True
    describe: str = ""

    def contains(self, x: float) -> bool:
        """Return True when the number lies in the allowed range."""
        above = x > self.low if self.low_open else x >= self.low
        return above and x <= self.high


KINDS: dict[str, Kind] = {
    "rate": Kind("rate", 0.0, 1.0, describe="a rate between 0 and 1"),
    "share": Kind("share", 0.0, 1.0, uncertain=False, describe="a share between 0 and 1"),
    "amount": Kind("amount", 0.0, 1e12, low_open=True, describe="an amount above 0"),
    "cost": Kind("cost", 0.0, 1e12, describe="an amount of 0 or more"),
    "count": Kind("count", 0.0, 1e12, describe="a count of 0 or more"),
    "elasticity": Kind("elasticity", -2.0, 2.0, describe="an elasticity from -2 to 2"),
    "discount": Kind("discount", 0.0, 10.0, describe="an annual rate from 0 to 10"),
    "growth": Kind("growth", -0.5, 0.5, describe="a monthly growth rate from -0.5 to 0.5"),
    "shape": Kind("shape", 0.0, 1000.0, low_open=True, describe="a number above 0 (up to 1000)"),
    "horizon": Kind("horizon", 1, 120, integer=True, uncertain=False,
                    describe="a whole number of months from 1 to 120"),
    "trials": Kind("trials", 100, 200_000, integer=True, uncertain=False,
                   describe="a whole number from 100 to 200,000"),
    "seed": Kind("seed", 0, 2**32 - 1, integer=True, uncertain=False,
                 describe="a whole number from 0 to 4,294,967,295"),
    "days": Kind("days", 1, 3650, integer=True, uncertain=False,
                 describe="a whole number of days from 1 to 3,650"),
    "tenure": Kind("tenure", 1, 240, integer=True, uncertain=False,
                   describe="a whole number of months from 1 to 240"),
}


def _fmt(x: object) -> str:
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(x) if isinstance(x, str) else str(x)


def _problem(message: str, sub: str = "") -> PydanticCustomError:
    return PydanticCustomError("funnel", "{message}", {"message": message, "sub": sub})


def _number(raw: Any, kind: Kind, sub: str = "") -> float:
    """Check one plain number against a kind; raise a readable problem otherwise."""
    if isinstance(raw, bool):
        shown = "true" if raw else "false"
        raise _problem(
            f"expected {kind.describe}, got {shown} (YAML reads yes/no/on/off/true/false as "
            "true or false)", sub)
    if isinstance(raw, str):
        raise _problem(
            f"expected {kind.describe}, got the text {raw!r} (write plain digits such as 1000 "
            "or 0.05; forms like 1e3 are read as text)", sub)
    if not isinstance(raw, int | float):
        raise _problem(f"expected {kind.describe}, got {type(raw).__name__}", sub)
    x = float(raw)
    if not math.isfinite(x):
        raise _problem(f"must be a finite number ({kind.describe}), got {raw}", sub)
    if kind.integer and not x.is_integer():
        raise _problem(f"must be {kind.describe}, got {_fmt(raw)}", sub)
    if not kind.contains(x):
        raise _problem(f"must be {kind.describe}, got {_fmt(raw)}", sub)
    return x


def _parse_value(raw: Any, kind: Kind) -> Value:
    """Turn a file value (number or mapping) into a `Value`, checking it against the kind."""
    if isinstance(raw, Fixed | Interval90 | Uniform | Triangular | Normal) or (
        type(raw) in DIST_CLASSES.values()
    ):
        raw = to_plain(raw)
    if not isinstance(raw, Mapping):
        return Fixed(_number(raw, kind))
    if not kind.uncertain:
        raise _problem(f"must be a plain number ({kind.describe}); ranges are not allowed here")
    keys = set(raw)
    if "dist" not in keys:
        if keys != {"low", "high"}:
            extra = sorted(map(str, keys - {"low", "high"}))
            missing = sorted({"low", "high"} - keys)
            what = f"unknown key(s) {', '.join(map(str, extra))}" if extra else (
                f"missing {', '.join(missing)}")
            raise _problem(
                f"{what}: an uncertain value is {{low: a, high: b}} (a 90% interval) or "
                "{dist: uniform|triangular|normal|beta, ...}")
        low = _number(raw["low"], kind, "low")
        high = _number(raw["high"], kind, "high")
        if not low < high:
            raise _problem(f"low must be below high, got low {_fmt(low)} and high {_fmt(high)}")
        if kind.name == "rate":
            if not (low > 0.0 and high < 1.0):
                raise _problem(
                    "a {low, high} range of a rate needs 0 < low < high < 1 (logit-normal); "
                    "for a range touching 0 or 1 use {dist: uniform, min, max} or {dist: beta}")
        elif low <= 0.0:
            raise _problem(
                "a {low, high} range needs 0 < low < high (lognormal); for a range that "
                "includes 0 or negative values use {dist: uniform|triangular|normal, ...}")
        return Interval90(low, high)
    dist = raw["dist"]
    if dist not in DIST_PARAMS:
        hint = difflib.get_close_matches(str(dist), list(DIST_PARAMS), n=1)
        did = f" (did you mean {hint[0]!r}?)" if hint else ""
        raise _problem(
            f"unknown dist {dist!r}{did}; allowed: {', '.join(DIST_PARAMS)}", "dist")
    params = DIST_PARAMS[dist]
    unknown = sorted(map(str, keys - set(params) - {"dist"}))
    if unknown:
        raise _problem(
            f"unknown key(s) {', '.join(unknown)} for dist {dist}; it takes "
            f"{', '.join(params)}")
    missing = [p for p in params if p not in raw]
    if missing:
        raise _problem(f"dist {dist} needs {', '.join(params)}; missing {', '.join(missing)}")
    if dist == "uniform":
        lo, hi = _number(raw["min"], kind, "min"), _number(raw["max"], kind, "max")
        if not lo < hi:
            raise _problem(f"min must be below max, got {_fmt(lo)} and {_fmt(hi)}")
        return Uniform(lo, hi)
    if dist == "triangular":
        lo = _number(raw["min"], kind, "min")
        mode = _number(raw["mode"], kind, "mode")
        hi = _number(raw["max"], kind, "max")
        if not (lo <= mode <= hi and lo < hi):
            raise _problem(
                f"needs min <= mode <= max and min < max, got {_fmt(lo)}, {_fmt(mode)}, "
                f"{_fmt(hi)}")
        return Triangular(lo, mode, hi)
    if dist == "normal":
        mean = _number(raw["mean"], kind, "mean")
        sd = _number(raw["sd"], KINDS["amount"], "sd")
        return Normal(mean, sd)
    # beta
    if kind.name != "rate":
        raise _problem(f"dist beta is for rates only; use uniform, triangular or normal for "
                       f"{kind.describe}")
    a = _number(raw["a"], KINDS["shape"], "a")
    b = _number(raw["b"], KINDS["shape"], "b")
    return DIST_CLASSES["beta"](a, b)


def _plain_number(x: float) -> int | float:
    """Write whole numbers without a trailing .0, so files stay readable."""
    return int(x) if x.is_integer() and abs(x) < 1e15 else x


def parse_value(raw: Any, kind: Kind) -> Value:
    """Return a file value (number or mapping such as {low: 6, high: 14}) as a `Value` in the
    field's units; raises ValueError (pydantic's error type) when it does not fit the kind."""
    return _parse_value(raw, kind)


def _value_to_file(value: Value) -> Any:
    plain = to_plain(value)
    if isinstance(plain, dict):
        return {k: (_plain_number(v) if isinstance(v, float) else v) for k, v in plain.items()}
    return _plain_number(plain)


@dataclass(frozen=True)
class _ValueField:
    """Pydantic hook: validate with `_parse_value` for a kind, serialise to the file form."""

    kind: str

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        return core_schema.no_info_plain_validator_function(
            partial(_parse_value, kind=KINDS[self.kind]),
            serialization=core_schema.plain_serializer_function_ser_schema(_value_to_file),
        )


@dataclass(frozen=True)
class _NumberField:
    """Pydantic hook for plain numbers (ints or floats) of a kind."""

    kind: str

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        kind = KINDS[self.kind]

        def parse(raw: Any) -> float | int:
            x = _number(raw, kind)
            return int(x) if kind.integer else x

        return core_schema.no_info_plain_validator_function(
            parse,
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda x: _plain_number(float(x)) if not isinstance(x, int) else x),
        )


Rate = Annotated[Value, _ValueField("rate")]
Amount = Annotated[Value, _ValueField("amount")]
Cost = Annotated[Value, _ValueField("cost")]
Count = Annotated[Value, _ValueField("count")]
Elasticity = Annotated[Value, _ValueField("elasticity")]
Discount = Annotated[Value, _ValueField("discount")]
Growth = Annotated[Value, _ValueField("growth")]
Shape = Annotated[Value, _ValueField("shape")]
Share = Annotated[float, _NumberField("share")]
Horizon = Annotated[int, _NumberField("horizon")]
Trials = Annotated[int, _NumberField("trials")]
Seed = Annotated[int, _NumberField("seed")]
Days = Annotated[int, _NumberField("days")]
Tenure = Annotated[int, _NumberField("tenure")]

