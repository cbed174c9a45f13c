"""Field catalogue: every leaf field of the scenario with its label, unit, help and kind.

Derived from the pydantic models in `sim.scenario.schema`, so a new field appears in editors,
charts and "did you mean" hints without being listed twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pydantic import BaseModel

from sim.scenario.kinds import KINDS, Kind, _NumberField, _ValueField
from sim.scenario.schema import Scenario


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

