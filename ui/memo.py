"""Results kept by the content of their arguments, for per-rerun work on cached results.

Pages pass derived values (a new dict of cached runs, a slice, a table built per rerun), so a
table or a chart derived from them cannot be kept by object identity; `by_content` keys on a
digest of the arguments' values instead (arrays and tables by their bytes) and shares the one
result between reruns and sessions. Nothing may change such a result in place.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from sim.scenario import Scenario

F = TypeVar("F", bound=Callable[..., Any])


class Unhashable(Exception):
    """An argument `fingerprint` cannot digest: the result is computed afresh."""


def fingerprint(value: object) -> object:
    """A hashable stand-in for an argument, equal exactly when the argument's content (values,
    order, dtypes, labels) is; arrays and tables by a digest of their bytes."""
    if value is None or isinstance(value, (bool, int, float, str, np.generic)):
        return (type(value).__name__, repr(value))
    if isinstance(value, np.ndarray):
        data = np.ascontiguousarray(value)
        if data.dtype == object:
            return ("array", data.shape, fingerprint(data.tolist()))
        return ("array", data.dtype.str, data.shape,
                hashlib.blake2b(data.view(np.uint8).reshape(-1), digest_size=16).digest())
    if isinstance(value, pd.DataFrame):
        rows = pd.util.hash_pandas_object(value, index=True).to_numpy()
        return ("frame", tuple(map(str, value.columns)), tuple(map(str, value.dtypes)),
                fingerprint(rows))
    if isinstance(value, pd.Series):
        return ("series", str(value.name), str(value.dtype),
                fingerprint(pd.util.hash_pandas_object(value, index=True).to_numpy()))
    if isinstance(value, Mapping):
        return ("map", tuple((fingerprint(k), fingerprint(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(fingerprint(item) for item in value))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__qualname__, tuple(
            fingerprint(getattr(value, field.name)) for field in dataclasses.fields(value)))
    raise Unhashable(type(value).__name__)


class LruTable:
    """A thread-safe mapping that keeps the `size` most recently used entries."""

    def __init__(self, size: int):
        self.size = size
        self._lock = threading.Lock()
        self._table: OrderedDict[object, Any] = OrderedDict()

    def get(self, key: object) -> Any:
        """Return the value of `key` (None when absent), marking it recently used."""
        with self._lock:
            found = self._table.get(key)
            if found is not None:
                self._table.move_to_end(key)
            return found

    def put(self, key: object, value: Any) -> None:
        """Store `value` under `key`, dropping the least recently used entry when full."""
        with self._lock:
            self._table[key] = value
            self._table.move_to_end(key)
            while len(self._table) > self.size:
                self._table.popitem(last=False)


def by_content(size: int) -> Callable[[F], F]:
    """Decorate a pure function so that calls with the same argument values return the one
    result computed first (at most `size` kept, least recently used dropped first)."""

    def wrap(func: F) -> F:
        kept = LruTable(size)

        @functools.wraps(func)
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                key = (fingerprint(args), fingerprint(sorted(kwargs.items())))
            except Unhashable:
                return func(*args, **kwargs)
            result = kept.get(key)
            if result is None:
                result = func(*args, **kwargs)
                kept.put(key, result)
            return result

        return call  # type: ignore[return-value]

    return wrap


def scenario_key(scenario: Scenario) -> str:
    """Text equal for two scenarios exactly when every field is (pydantic models do not hash
    by value): the model's fields as Python data. Cache keys use it instead of the canonical
    YAML, which took about 50 ms per derived scenario (a plan with its variant applied, a
    split) and a Compare rerun made ten of them (0.5 s of its 0.6 s warm rerun)."""
    return repr(scenario.model_dump(mode="python"))


_SCENARIO_TEXTS = LruTable(32)


def scenario_text(scenario: Scenario) -> str:
    """The scenario's YAML as Save writes it (`Scenario.canonical`), kept per content: the
    editor compares and offers it on every rerun, and writing it costs about 50 ms. No
    Streamlit here: `ui.draft` uses it and must run without Streamlit."""
    key = scenario_key(scenario)
    text = _SCENARIO_TEXTS.get(key)
    if text is None:
        text = scenario.canonical()
        _SCENARIO_TEXTS.put(key, text)
    return text
