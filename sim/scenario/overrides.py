"""Building a scenario from plain data, its variants, and dotted overrides.

- `build_scenario` validates plain data (as read from YAML) including every variant;
- `apply_overrides` applies dotted overrides (``{"guarantee.days": 365}``) as share links do;
- `variant_scenario` gives the base with one named variant applied;
- `flat_fields` / `changed_fields` list leaf fields as ``{dotted.path: file value}``.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from sim.scenario.catalog import _SECTION_MODELS, _catalog, _keys_at
from sim.scenario.kinds import ScenarioError
from sim.scenario.messages import _messages
from sim.scenario.schema import Scenario

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

