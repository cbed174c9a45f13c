"""The scenario: one business and its plan, as a validated, frozen model.

This module is the single place that reads, checks, changes and writes scenarios:

- `load_scenario_text` / `load_scenario_file` read YAML safely (size cap, no aliases or anchors,
  no duplicate keys, no tags, bounded nesting) and validate it;
- `dump_scenario` writes keys in schema order with a header comment, so that
  save -> load -> save is byte-identical;
- `apply_overrides` applies dotted overrides (``{"guarantee.days": 365}``) as share links do;
- `variant_scenario` gives the base with one named variant applied;
- `field_catalog` lists every field with its label, unit and help, for editors and charts.

Every problem is reported as ``dotted.path: what is wrong and what is allowed`` and nothing is
changed when a problem is found: callers get a `ScenarioError` listing all of them.
"""

from __future__ import annotations

import copy
import difflib
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError, core_schema

from sim.text_input import TextDecodeError, control_character_problem, decode_text
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

MAX_FILE_BYTES = 256 * 1024
MAX_NESTING = 20
#: Digits a number in a file may have (floats stop near 1e308).
MAX_NUMBER_DIGITS = 300
SCHEMA_VERSION = 1
HEADER = (
    "# Funnel Lab scenario (schema 1). A value is a number, {low, high} (a 90% interval)\n"
    "# or {dist: uniform|triangular|normal|beta, ...}. See README.md for every field.\n"
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


def _f(default: Any, label: str, unit: str, help: str) -> Any:
    """A field with the label, unit and one-line help shown in editors and charts."""
    return Field(default=default, json_schema_extra={"label": label, "unit": unit, "help": help})


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Simulation(_Section):
    horizon_months: Horizon = _f(36, "Horizon", "months", "How many months to simulate.")
    trials: Trials = _f(5000, "Trials", "futures", "How many simulated futures (Monte Carlo).")
    seed: Seed = _f(20261122, "Seed", "", "Same seed and trials give the same numbers.")
    flows: Literal["expected", "random"] = _f(
        "expected", "Flows", "",
        "expected: average flows; random: whole customers drawn by chance (small businesses).")


class Finance(_Section):
    discount_rate_annual: Discount = _f(
        Fixed(0.10), "Discount rate", "per year", "Used for NPV, CLV and customer equity.")


class Market(_Section):
    prospects: Count = _f(Fixed(2_000_000.0), "Prospects not yet reached", "people",
                          "People cold traffic can still reach.")
    warm_start: Count = _f(Fixed(20_000.0), "Warm leads at start", "leads",
                           "Leads who know us but have not bought yet.")
    customers_start: Count = _f(Fixed(5_000.0), "Customers at start", "customers",
                                "Active customers at month 0.")
    customers_start_tenure: Tenure = _f(12, "Tenure of starting customers", "months",
                                        "How long the starting customers have been with us.")


class Split(_Section):
    cold: Share = _f(0.6, "Cold traffic share", "share of budget",
                     "Reach people who do not know us yet.")
    warm: Share = _f(0.3, "Warm leads share", "share of budget", "Turn leads into buyers.")
    hot: Share = _f(0.1, "Existing buyers share", "share of budget",
                    "Make buyers buy again and stay.")

    @model_validator(mode="after")
    def _sums_to_one(self) -> Split:
        total = self.cold + self.warm + self.hot
        if abs(total - 1.0) > 1e-6:
            raise _problem(
                f"cold + warm + hot must sum to 1 (within 0.000001), got {total:.6g}")
        return self


class Budget(_Section):
    monthly: Cost = _f(Fixed(50_000.0), "Monthly budget", "$ per month",
                       "Marketing budget in month 0.")
    growth_monthly: Growth = _f(Fixed(0.0), "Budget growth", "per month",
                                "Budget in month t is monthly x (1 + growth)^t.")
    split: Split = Field(default_factory=Split)


class Cold(_Section):
    cost_per_thousand: Amount = _f(Fixed(10.0), "Cost per 1,000 impressions", "$",
                                   "What cold traffic costs (CPM).")
    engagement_rate: Rate = _f(Fixed(0.01), "Engagement rate", "per impression",
                               "Share of impressions that become leads (on fresh prospects).")
    lead_decay_monthly: Rate = _f(Fixed(0.10), "Lead decay", "per month",
                                  "Share of warm leads who go cold each month.")


class Warm(_Section):
    conversion_no_spend: Rate = _f(Fixed(0.002), "Conversion with no warm spend", "per month",
                                   "Share of leads who buy each month without nurturing.")
    conversion_max: Rate = _f(Fixed(0.05), "Conversion ceiling", "per month",
                              "Share of leads who buy each month with unlimited nurturing.")
    spend_scale: Amount = _f(Fixed(3.0), "Warm spend scale", "$ per lead",
                             "Spend per lead that closes 63% of the gap to the ceiling.")


class Sbg(_Section):
    alpha: Shape = _f(Fixed(0.7), "Churn shape alpha", "", "Shifted-beta-geometric alpha.")
    beta: Shape = _f(Fixed(1.2), "Churn shape beta", "", "Shifted-beta-geometric beta.")


class Churn(_Section):
    monthly: Rate | None = _f(None, "Monthly churn", "per month",
                              "Share of customers lost each month with no retention spend.")
    sbg: Sbg | None = None

    @model_validator(mode="before")
    @classmethod
    def _default_monthly(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and not data:
            return {"monthly": 0.10}
        return data

    @model_validator(mode="after")
    def _exactly_one(self) -> Churn:
        if (self.monthly is None) == (self.sbg is None):
            raise _problem(
                "give exactly one of monthly (a constant monthly churn rate) or "
                "sbg: {alpha, beta} (churn that falls with tenure)")
        return self


class Hot(_Section):
    churn: Churn = Field(default_factory=lambda: Churn(monthly=Fixed(0.10)))
    churn_unpreventable: Rate = _f(Fixed(0.3), "Unpreventable churn", "share",
                                   "Part of churn that no retention spend can stop.")
    repeat_no_spend: Rate = _f(Fixed(0.10), "Repeat rate with no spend", "per month",
                               "Share of customers who order again each month unprompted.")
    repeat_max: Rate = _f(Fixed(0.35), "Repeat rate ceiling", "per month",
                          "Share of customers who order again each month at saturation.")
    spend_scale: Amount = _f(Fixed(4.0), "Retention spend scale", "$ per customer",
                             "Spend per customer that closes 63% of the gap to the ceiling.")


class Orders(_Section):
    first_value: Amount = _f(Fixed(60.0), "First order value", "$",
                             "Average value of a first order.")
    repeat_value: Amount = _f(Fixed(100.0), "Repeat order value", "$",
                              "Average value of a repeat order.")
    gross_margin: Rate = _f(Fixed(0.5), "Gross margin", "share of revenue",
                            "Revenue left after the cost of goods.")


class Guarantee(_Section):
    days: Days = _f(30, "Guarantee length", "days", "Money-back guarantee offered.")
    reference_days: Days = _f(30, "Reference length", "days",
                              "Guarantee length at which the return rate below was measured.")
    return_rate_at_reference: Rate = _f(Fixed(0.05), "Return rate at reference", "share of orders",
                                        "Share of orders returned under the reference guarantee.")
    return_elasticity: Elasticity = _f(
        Fixed(0.169), "Return elasticity", "",
        "Returns scale with (days / reference)^elasticity; 0.169 doubles them at 5 years.")
    conversion_elasticity: Elasticity = _f(
        Fixed(0.0), "Conversion elasticity", "",
        "Conversion scales with (days / reference)^elasticity.")
    handling_cost: Cost = _f(Fixed(8.0), "Handling cost", "$ per return",
                             "Cost of processing one return.")
    resale_share: Rate = _f(Fixed(0.5), "Resale share", "share of goods cost",
                            "Part of a returned item's cost recovered by reselling it.")


class Scenario(BaseModel):
    """One business and its plan (see DESIGN.md, "Scenario file")."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    schema_version: Literal[1] = Field(default=1, alias="schema")
    name: str = Field(default="Untitled scenario", min_length=1, max_length=120)
    description: str = Field(default="", max_length=2000)
    simulation: Simulation = Field(default_factory=Simulation)
    finance: Finance = Field(default_factory=Finance)
    market: Market = Field(default_factory=Market)
    budget: Budget = Field(default_factory=Budget)
    cold: Cold = Field(default_factory=Cold)
    warm: Warm = Field(default_factory=Warm)
    hot: Hot = Field(default_factory=Hot)
    orders: Orders = Field(default_factory=Orders)
    guarantee: Guarantee = Field(default_factory=Guarantee)
    variants: dict[str, dict[str, Any]] = Field(default_factory=dict)

    def to_file_dict(self) -> dict[str, Any]:
        """Return the scenario as plain data in schema order, as it is written to a file."""
        data = self.model_dump(by_alias=True, mode="python", exclude_none=True)
        data["variants"] = copy.deepcopy(self.variants)
        return data

    def canonical(self) -> str:
        """Return the scenario as its YAML text: a stable key for caches and equality."""
        return dump_scenario(self)

    def __hash__(self) -> int:
        return hash(self.canonical())

    def variant_names(self) -> list[str]:
        """Return the variant names in file order."""
        return list(self.variants)


# --------------------------------------------------------------------------------------------
# Field catalogue: every leaf field with its metadata, derived from the models above.


@dataclass(frozen=True)
class FieldInfo:
    """One scenario field: dotted path, label, unit, one-line help and kind."""

    path: str
    label: str
    unit: str
    help: str
    kind: str
    uncertain_allowed: bool


_SECTION_MODELS: dict[str, type[BaseModel]] = {}


def _walk_fields(model: type[BaseModel], prefix: str) -> Iterator[FieldInfo]:
    for name, info in model.model_fields.items():
        key = info.alias or name
        path = f"{prefix}{key}"
        annotation = info.annotation
        sub = _submodel(annotation)
        if sub is not None:
            _SECTION_MODELS[path] = sub
            yield from _walk_fields(sub, path + ".")
            continue
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        if not extra:
            continue
        kind = _kind_of(info)
        yield FieldInfo(path, str(extra["label"]), str(extra["unit"]), str(extra["help"]),
                        kind.name if kind else "choice",
                        bool(kind and kind.uncertain))


def _submodel(annotation: Any) -> type[BaseModel] | None:
    candidates = getattr(annotation, "__args__", None) or (annotation,)
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _kind_of(info: Any) -> Kind | None:
    for meta in info.metadata:
        if isinstance(meta, _ValueField | _NumberField):
            return KINDS[meta.kind]
    args = getattr(info.annotation, "__args__", ())
    for arg in args:
        for meta in getattr(arg, "__metadata__", ()):
            if isinstance(meta, _ValueField | _NumberField):
                return KINDS[meta.kind]
    return None


@lru_cache(maxsize=1)
def _catalog() -> tuple[FieldInfo, ...]:
    return tuple(_walk_fields(Scenario, ""))


def field_catalog() -> list[FieldInfo]:
    """Return every leaf field of the schema with its label, unit, help and kind."""
    return list(_catalog())


def field_info(path: str) -> FieldInfo:
    """Return the catalogue entry of one dotted path (KeyError when there is none)."""
    for info in _catalog():
        if info.path == path:
            return info
    raise KeyError(path)


def _keys_at(loc: tuple[Any, ...]) -> list[str]:
    """Return the keys allowed at a location, for 'did you mean' hints."""
    _catalog()
    model: type[BaseModel] = Scenario
    for part in loc:
        sub = _submodel(model.model_fields[part].annotation) if part in model.model_fields else None
        if sub is None:
            return []
        model = sub
    return [info.alias or name for name, info in model.model_fields.items()]


# --------------------------------------------------------------------------------------------
# Validation messages.


def _loc_to_path(loc: tuple[Any, ...]) -> list[str]:
    parts = []
    for part in loc:
        if part == "schema_version":
            part = "schema"
        parts.append(str(part))
    return parts


#: Problems listed at most per scenario; a file with thousands of bad keys is not read further.
MAX_PROBLEMS = 50


def _messages(error: ValidationError, prefix: str = "") -> list[str]:
    problems = []
    items = error.errors()
    for item in items[:MAX_PROBLEMS]:
        loc = tuple(item["loc"])
        parts = _loc_to_path(loc)
        ctx = item.get("ctx") or {}
        kind = item["type"]
        if kind == "funnel":
            if ctx.get("sub"):
                parts.append(ctx["sub"])
            message = ctx["message"]
        elif kind == "extra_forbidden":
            allowed = _keys_at(loc[:-1])
            hint = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
            did = f" did you mean {hint[0]!r}?" if hint else ""
            message = f"unknown key;{did} allowed here: {', '.join(allowed)}"
        elif kind in ("model_type", "dict_type"):
            message = "expected a mapping of keys (key: value lines indented below it)"
        elif kind == "literal_error" and parts and parts[-1] == "schema":
            message = f"unsupported schema version {item['input']!r}; this Funnel Lab reads 1"
        elif kind == "literal_error":
            message = f"got {item['input']!r}; {item['msg'].removeprefix('Input should be ')}"
        elif kind in ("string_type", "string_too_short", "string_too_long"):
            message = f"expected text; {item['msg'].lower()}"
        else:
            message = item["msg"]
        path = prefix + ".".join(parts)
        problems.append(f"{path or '(top level)'}: {message}")
    if len(items) > MAX_PROBLEMS:
        problems.append(f"{prefix or '(file)'}: {len(items) - MAX_PROBLEMS} more problems not "
                        "listed; fix the ones above first")
    return problems


# --------------------------------------------------------------------------------------------
# Safe YAML.


class _SafeLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases, anchors, tags, duplicate keys and deep nesting."""

    _PLAIN_TAGS = frozenset({
        "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
        "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null", "tag:yaml.org,2002:map",
        "tag:yaml.org,2002:seq",
    })

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0

    def fetch_flow_collection_start(self, token_class: Any) -> None:
        # Refuse deep [[[...]]] / {{{...}}} while scanning: the scanner looks up to 1,024
        # characters ahead for a possible key before the composer's depth check runs, which
        # costs about half a second on a deeply nested line.
        if self.flow_level >= MAX_NESTING:
            raise _YamlProblem(f"line {self.line + 1}: nesting deeper than {MAX_NESTING} "
                               "levels is not allowed")
        super().fetch_flow_collection_start(token_class)

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _YamlProblem(f"line {event.start_mark.line + 1}: aliases (*name) are not "
                               "allowed; write the value out")
        event = self.peek_event()
        if getattr(event, "anchor", None):
            raise _YamlProblem(f"line {event.start_mark.line + 1}: anchors (&name) are not "
                               "allowed; write the value out")
        tag = getattr(event, "tag", None)
        if tag not in (None, "!") and tag not in self._PLAIN_TAGS:
            raise _YamlProblem(f"line {event.start_mark.line + 1}: tag {tag} is not allowed; "
                               "write plain numbers, text and mappings")
        self._depth += 1
        if self._depth > MAX_NESTING:
            raise _YamlProblem(f"line {event.start_mark.line + 1}: nesting deeper than "
                               f"{MAX_NESTING} levels is not allowed")
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_yaml_int(self, node: Any) -> Any:
        # A 400-digit integer cannot become a float (and Python refuses to read 4,300+ digits).
        digits = sum(ch.isdigit() for ch in str(node.value))
        if digits > MAX_NUMBER_DIGITS:
            raise _YamlProblem(f"line {node.start_mark.line + 1}: a number with {digits:,} "
                               f"digits; numbers may have at most {MAX_NUMBER_DIGITS} digits")
        value = super().construct_yaml_int(node)
        if value.bit_length() > 1023:  # beyond the largest float (about 1.8e308)
            raise _YamlProblem(f"line {node.start_mark.line + 1}: a number too large to "
                               "compute with (over 1.8e308)")
        return value

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool) or key is None:
                raise _YamlProblem(f"line {key_node.start_mark.line + 1}: keys must be text")
            if key in seen:
                raise _YamlProblem(f"line {key_node.start_mark.line + 1}: duplicate key "
                                   f"{key!r}; each key may appear once")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


class _YamlProblem(Exception):
    pass


_SafeLoader.add_constructor("tag:yaml.org,2002:int", _SafeLoader.construct_yaml_int)


def parse_yaml(text: str | bytes, what: str = "file") -> Any:
    """Parse YAML text safely and return plain data; raise ScenarioError on any problem."""
    if isinstance(text, bytes):
        if len(text) > MAX_FILE_BYTES:
            raise ScenarioError([f"(file): the {what} is {len(text) // 1024} KB; the limit is "
                                 f"{MAX_FILE_BYTES // 1024} KB"])
        try:
            text = decode_text(text)
        except TextDecodeError as error:
            raise ScenarioError([f"(file): the {what} {error}"]) from None
    if len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        raise ScenarioError([f"(file): the {what} is larger than the "
                             f"{MAX_FILE_BYTES // 1024} KB limit"])
    control = control_character_problem(text)
    if control is not None:
        raise ScenarioError([f"(file): {control}"])
    loader = _SafeLoader(text)
    try:
        documents = []
        while loader.check_node():
            documents.append(loader.construct_document(loader.get_node()))
            if len(documents) > 1:
                raise _YamlProblem("the file holds more than one YAML document (---)")
        return documents[0] if documents else None
    except _YamlProblem as problem:
        raise ScenarioError([f"(file): {problem}"]) from None
    except yaml.YAMLError as problem:
        mark = getattr(problem, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        reason = getattr(problem, "problem", None) or str(problem).splitlines()[0]
        raise ScenarioError([f"(file): not valid YAML at {where}{reason}"]) from None
    except RecursionError:
        raise ScenarioError([f"(file): nesting deeper than {MAX_NESTING} levels"]) from None
    finally:
        loader.dispose()


# --------------------------------------------------------------------------------------------
# Building, variants and overrides.

# Sections whose keys are alternatives: giving one in an override drops the others.
_ALTERNATIVES = {"hot.churn": ("monthly", "sbg")}


def _is_section(path: str) -> bool:
    _catalog()
    return path in _SECTION_MODELS


def merge_overrides(base: Mapping[str, Any], overrides: Mapping[str, Any],
                    prefix: str = "") -> dict[str, Any]:
    """Return base (file data) with nested overrides merged in; sections merge, values replace."""
    merged = copy.deepcopy(dict(base))
    for alternative in _ALTERNATIVES.get(prefix[:-1], ()):
        if any(key in overrides for key in _ALTERNATIVES[prefix[:-1]] if key != alternative):
            merged.pop(alternative, None)
    for key, value in overrides.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and _is_section(path) and isinstance(merged.get(key),
                                                                           Mapping):
            merged[key] = merge_overrides(merged[key], value, path + ".")
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _unknown_paths(overrides: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Return problems for override keys that name no field (with a 'did you mean')."""
    problems = []
    _catalog()
    for key, value in overrides.items():
        path = f"{prefix}{key}"
        parent = prefix[:-1]
        allowed = _keys_at(tuple(parent.split("."))) if parent else [
            k for k in _keys_at(()) if k not in ("schema", "variants")]
        if str(key) not in allowed:
            hint = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
            did = f" did you mean {hint[0]!r}?" if hint else ""
            problems.append(f"{path}: names no field of the scenario;{did} allowed here: "
                            f"{', '.join(allowed)}")
        elif isinstance(value, Mapping) and _is_section(path):
            problems.extend(_unknown_paths(value, path + "."))
    return problems


def build_scenario(data: Any) -> Scenario:
    """Validate plain data (as read from YAML) and return the Scenario; raise ScenarioError."""
    if data is None:
        raise ScenarioError(["(file): the file is empty; a scenario needs at least a name"])
    if not isinstance(data, Mapping):
        raise ScenarioError(["(top level): expected a mapping of sections (name:, budget:, ...)"])
    try:
        scenario = Scenario.model_validate(dict(data))
    except ValidationError as error:
        raise ScenarioError(_messages(error)) from None
    problems = []
    base_data = scenario.to_file_dict()
    base_data.pop("variants")
    for name, overrides in scenario.variants.items():
        prefix = f"variants.{name}."
        if not isinstance(overrides, Mapping):
            problems.append(f"variants.{name}: expected a mapping of overrides such as "
                            "{guarantee: {days: 365}}")
            continue
        unknown = _unknown_paths(overrides)
        if unknown:
            problems.extend(f"variants.{name}.{p}" for p in unknown)
            continue
        try:
            Scenario.model_validate(merge_overrides(base_data, overrides))
        except ValidationError as error:
            problems.extend(_messages(error, prefix))
    if problems:
        raise ScenarioError(problems)
    return scenario


def load_scenario_text(text: str | bytes) -> Scenario:
    """Read a scenario from YAML text; raise ScenarioError listing every problem."""
    return build_scenario(parse_yaml(text))


def load_scenario_file(path: str | Path) -> Scenario:
    """Read a scenario file (size-capped); raise ScenarioError listing every problem."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ScenarioError([f"(file): {path.name} is {size // 1024} KB; the limit is "
                                 f"{MAX_FILE_BYTES // 1024} KB"])
        raw = path.read_bytes()
    except OSError as error:
        raise ScenarioError([f"(file): cannot read {path.name}: {error.strerror}"]) from None
    return load_scenario_text(raw)


class _Dumper(yaml.SafeDumper):
    fold_long_text = True


class _PlainDumper(_Dumper):
    fold_long_text = False


#: Text longer than this is written as a folded block (`>-`), wrapped for reading.
FOLD_TEXT_AT = 80


def _represent_str(dumper: _Dumper, data: str) -> Any:
    fold = dumper.fold_long_text and len(data) > FOLD_TEXT_AT and "\n" not in data
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=">" if fold else None)


_Dumper.add_representer(str, _represent_str)


class _FlowDict(dict):
    """A mapping written on one line (uncertain values, the split)."""


_Dumper.add_representer(
    _FlowDict,
    lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data,
                                                  flow_style=True))


def _file_layout(data: Any, depth: int = 0) -> Any:
    """Whole numbers without .0; sections as indented blocks, leaf mappings on one line."""
    if isinstance(data, dict):
        cleaned = {k: _file_layout(v, depth + 1) for k, v in data.items()}
        leaf = all(not isinstance(v, dict) for v in cleaned.values())
        return _FlowDict(cleaned) if leaf and depth >= 2 and cleaned else cleaned
    if isinstance(data, float):
        return _plain_number(data)
    return data


def dump_scenario(scenario: Scenario) -> str:
    """Return the scenario as YAML text: schema order, header comment, stable bytes."""
    data = _file_layout(scenario.to_file_dict())
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=96)
    # PyYAML's folded style cannot carry every text (leading spaces, tabs); such text is
    # written on one quoted line instead, so that loading always gives the same text back.
    if yaml.load(body, Loader=yaml.SafeLoader) != data:
        body = yaml.dump(data, Dumper=_PlainDumper, sort_keys=False, default_flow_style=False,
                         allow_unicode=True, width=4096)
    return HEADER + body


def variant_scenario(scenario: Scenario, name: str) -> Scenario:
    """Return the base scenario with variant `name` applied and no variants of its own."""
    if name not in scenario.variants:
        known = ", ".join(scenario.variants) or "none"
        raise ScenarioError([f"variants: no variant named {name!r}; this scenario has: {known}"])
    data = scenario.to_file_dict()
    data["variants"] = {}
    merged = merge_overrides(data, scenario.variants[name])
    merged["name"] = f"{scenario.name} — {name}"[:120]
    return build_scenario(merged)


def without_variants(scenario: Scenario) -> Scenario:
    """Return the scenario with its variants removed."""
    return scenario.model_copy(update={"variants": {}})


def dotted_to_nested(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Turn ``{"a.b": 1}`` into ``{"a": {"b": 1}}``."""
    nested: dict[str, Any] = {}
    for dotted, value in overrides.items():
        parts = dotted.split(".")
        node = nested
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ScenarioError([f"{dotted}: conflicts with another override"])
        node[parts[-1]] = value
    return nested


def apply_overrides(scenario: Scenario, overrides: Mapping[str, Any]) -> Scenario:
    """Return the scenario with dotted overrides applied (``{"guarantee.days": 365}``).

    Each key must name a field; the result is validated like a file. Raises ScenarioError.
    """
    nested = dotted_to_nested(overrides)
    unknown = _unknown_paths({k: v for k, v in nested.items() if k not in ("name",
                                                                            "description",
                                                                            "variants")})
    if unknown:
        raise ScenarioError(unknown)
    return build_scenario(merge_overrides(scenario.to_file_dict(), nested))


def flat_fields(scenario: Scenario) -> dict[str, Any]:
    """Return every leaf field as ``{dotted.path: file value}`` (no variants, name, schema)."""
    flat: dict[str, Any] = {}

    def walk(node: Mapping[str, Any], prefix: str) -> None:
        for key, value in node.items():
            path = f"{prefix}{key}"
            if isinstance(value, Mapping) and _is_section(path):
                walk(value, path + ".")
            else:
                flat[path] = value

    data = scenario.to_file_dict()
    for key in ("schema", "name", "description", "variants"):
        data.pop(key, None)
    walk(data, "")
    return flat


def changed_fields(saved: Scenario, current: Scenario) -> dict[str, Any]:
    """Return the dotted fields whose file value differs between two scenarios."""
    before, after = flat_fields(saved), flat_fields(current)
    return {path: value for path, value in after.items() if before.get(path) != value}


def parse_scalar(text: str) -> Any:
    """Read one value typed by a person or carried in a link (a number, word or {low, high})."""
    return parse_yaml(text, what="value")
