"""Sampled inputs with attribute access generated from the schema's catalog.

`Inputs` is still a mapping of dotted path to array (so stacking, slicing and overrides work
on it as on a dict), and adds section attribute access named as in the scenario
file: ``inputs.hot.churn_unpreventable``, ``inputs.warm.conversion_max``,
``inputs.budget.split.cold``. The attribute names come from `sim.scenario.field_catalog()`, so a
field added to the schema is reachable at once and a typo is an AttributeError, not a silent
default. Base churn is either constant or sBG; `Inputs.churn` returns the one the inputs hold
(sim/funnel.py `ConstantChurn` or `SbgChurn`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

from sim.funnel import ChurnModel, churn_model
from sim.scenario import field_catalog

#: Path -> True for a numeric field, False for a section ("hot", "budget.split"); built from the
#: catalog on first use (attribute access runs in the engine's month loop, so it is one lookup).
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


class Section:
    """One section of the inputs (``inputs.hot``); its attributes are the fields under it."""

    __slots__ = ("_inputs", "_prefix")

    def __init__(self, inputs: Inputs, prefix: str):
        self._inputs = inputs
        self._prefix = prefix

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self._inputs._attribute(f"{self._prefix}.{name}")

    def __repr__(self) -> str:
        return f"Section({self._prefix!r})"


class Inputs(MutableMapping[str, Any]):
    """One value (an array over trials, or a float for a single future) per numeric field,
    keyed by dotted path, with section attribute access (module doc). Item assignment
    overrides a field (``inputs["guarantee.days"] = ...``), as on a dict."""

    __slots__ = ("_sections", "_values")

    def __init__(self, values: Mapping[str, Any]):
        self._values = dict(values)
        self._sections: dict[str, Section] = {}

    def __reduce__(self) -> tuple[type[Inputs], tuple[dict[str, Any]]]:
        # Copies and pickles carry the values only; sections are rebuilt on the new object.
        return Inputs, (self._values,)

    def __getitem__(self, path: str) -> Any:
        return self._values[path]

    def __setitem__(self, path: str, value: Any) -> None:
        self._values[path] = value

    def __delitem__(self, path: str) -> None:
        del self._values[path]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Inputs({sorted(self._values)})"

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self._attribute(name)

    def _attribute(self, path: str) -> Any:
        is_field = _nodes().get(path)
        if is_field:
            try:
                return self._values[path]
            except KeyError:
                raise AttributeError(
                    f"these inputs have no {path!r} (not in the scenario)") from None
        if is_field is None:
            raise AttributeError(f"no scenario field or section {path!r}")
        section = self._sections.get(path)
        if section is None:
            section = self._sections[path] = Section(self, path)
        return section

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
