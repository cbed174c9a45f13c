"""Sampled inputs with attribute access generated from the schema's catalog.

`Inputs` is still a mapping of dotted path to array (so stacking, slicing and overrides work
on it as on a dict), and adds section attribute access named as in the scenario file:
``inputs.hot.churn_unpreventable``, ``inputs.warm.conversion_max``, ``inputs.budget.split.cold``.
The attribute names come from `sim.scenario.field_catalog()`, so a field added to the schema is
reachable at once, and a typo or a field the scenario does not hold is an AttributeError that
says which, not a silent default. Base churn is either constant or sBG; `Inputs.churn` returns
the one the inputs hold (sim/funnel.py `ConstantChurn` or `SbgChurn`).

Sections are plain objects built once from the values (the engine reads them every month, so a
read must cost no more than an attribute); assigning or deleting a path rebuilds them, so a
section read after a change sees it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

from sim.funnel import ChurnModel, churn_model
from sim.scenario import field_catalog

#: Path -> True for a numeric field, False for a section ("hot", "budget.split"); built from the
#: catalog on first use.
_NODES: dict[str, bool] = {}


def _nodes() -> dict[str, bool]:
    if not _NODES:
        paths = [info.path for info in field_catalog() if info.kind != "choice"]
        for path in paths:
            parts = path.split(".")
            for depth in range(1, len(parts)):
                _NODES[".".join(parts[:depth])] = False
        _NODES.update(dict.fromkeys(paths, True))
    return _NODES


def _missing(path: str) -> AttributeError:
    if path in _nodes():
        return AttributeError(f"these inputs have no {path!r} (not in the scenario)")
    return AttributeError(f"no scenario field or section {path!r}")


class Section:
    """One section of the inputs (``inputs.hot``); its attributes are the fields under it."""

    def __init__(self, prefix: str):
        self._prefix = prefix

    def __getattr__(self, name: str) -> Any:
        # Called only for names that are not set: unknown, or not in these inputs.
        if name.startswith("_"):
            raise AttributeError(name)
        raise _missing(f"{self._prefix}.{name}")

    def __repr__(self) -> str:
        return f"Section({self._prefix!r})"


def _sections(values: Mapping[str, Any]) -> dict[str, Section]:
    """Top-level sections holding the catalog's fields present in `values`."""
    top: dict[str, Section] = {}
    nodes = _nodes()
    for path, value in values.items():
        if not nodes.get(path):
            continue
        parts = path.split(".")
        node = top.get(parts[0])
        if node is None:
            node = top[parts[0]] = Section(parts[0])
        for depth in range(1, len(parts) - 1):
            child = node.__dict__.get(parts[depth])
            if child is None:
                child = Section(".".join(parts[: depth + 1]))
                setattr(node, parts[depth], child)
            node = child
        setattr(node, parts[-1], value)
    return top


class Inputs(MutableMapping[str, Any]):
    """One value (an array over trials, or a float for a single future) per numeric field,
    keyed by dotted path, with section attribute access (module doc). Item assignment
    overrides a field (``inputs["guarantee.days"] = ...``), as on a dict."""

    def __init__(self, values: Mapping[str, Any]):
        self._values = dict(values)
        self._built = False

    def __reduce__(self) -> tuple[type[Inputs], tuple[dict[str, Any]]]:
        # Copies and pickles carry the values only; sections are rebuilt on the new object.
        return Inputs, (self._values,)

    def __getitem__(self, path: str) -> Any:
        return self._values[path]

    def __setitem__(self, path: str, value: Any) -> None:
        self._values[path] = value
        self._forget_sections()

    def __delitem__(self, path: str) -> None:
        del self._values[path]
        self._forget_sections()

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Inputs({sorted(self._values)})"

    def __getattr__(self, name: str) -> Any:
        # Called only when `name` is not set yet: build the sections once, then they are plain
        # attributes of this object.
        if name.startswith("_") or self._built:
            raise AttributeError(name) if name.startswith("_") else _missing(name)
        for section, node in _sections(self._values).items():
            if hasattr(type(self), section):
                raise TypeError(f"section {section!r} clashes with an Inputs attribute")
            setattr(self, section, node)
        self._built = True
        return getattr(self, name)

    def _forget_sections(self) -> None:
        if self._built:
            for name in [key for key, value in vars(self).items() if isinstance(value, Section)]:
                delattr(self, name)
            self._built = False

    def has(self, path: str) -> bool:
        """Whether the inputs hold the field at `path` (optional fields: the churn forms)."""
        return path in self._values

    @property
    def churn(self) -> ChurnModel:
        """The base churn model these inputs hold: sBG or constant (sim/funnel.py)."""
        get = self._values.get
        return churn_model(get("hot.churn.monthly"), get("hot.churn.sbg.alpha"),
                           get("hot.churn.sbg.beta"))

    @property
    def churn_is_sbg(self) -> bool:
        """True when base churn is shifted-beta-geometric, False when constant."""
        return "hot.churn.sbg.alpha" in self._values

    def replaced(self, values: Mapping[str, Any]) -> Inputs:
        """A copy with the given paths' values replaced (or added)."""
        return Inputs({**self._values, **values})

    def rows(self, rows: slice | Any) -> Inputs:
        """The inputs of some trials only: every array indexed by `rows` (a slice or indices)."""
        return Inputs({path: values[rows] for path, values in self._values.items()})


def as_inputs(values: Mapping[str, Any]) -> Inputs:
    """`values` as Inputs (itself when it already is)."""
    return values if isinstance(values, Inputs) else Inputs(values)
