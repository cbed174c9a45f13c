"""Cached simulation runs for the pages, computed once however many sessions ask at once.

Results are cached by the validated scenario (its fields, `ui.memo.scenario_key`), the plan
labels, seed, trials and horizon, so a rerun of a page (any widget click) reuses them. Each page
calls these functions instead of the engine so that one cache serves every page.

The cache is `st.cache_resource`: every session gets the one cached object, not a copy.
`st.cache_data` unpickled a fresh copy on every hit (a plan run at 5,000 trials is about 17 MB
of monthly series per plan), which cost CPU on every rerun of every session and made eight
sessions at once hold eight copies. The arrays of a cached result are made read-only, so code
that would change a shared result in place raises instead (nothing may change one).

Caches do not merge concurrent misses: eight sessions opening the same new link at the same
moment would each compute it. `cached_run` puts a per-key lock (single flight) in front of the
cache: the first session computes, the others wait for it and then read the cache. Every
cache is bounded (entries and age) so the server's memory levels off.

With the environment variable FUNNEL_LAB_COUNT_RUNS set to a file path, every actual
computation (a cache miss) appends one line ``<function>\\t<key hash>`` to that file; the load
harness (tests/load/) counts them.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import functools
import hashlib
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

import numpy as np
import streamlit as st

from sim.engine import BASE_LABEL, SimResult, plan_scenarios, simulate_plans
from sim.scenario import Scenario
from ui.memo import scenario_key

#: Cache key of a scenario (see scenario_key).
SCENARIO_HASH = {Scenario: scenario_key}


#: The monthly series the pages read from a cached run (fan charts: profit, net revenue,
#: active customers; Retention's cohorts: new, churned, active and spend; Budget split's
#: cumulative profit). A cached run keeps only these: the other six of the engine's twelve
#: (`sim.engine.MONTHLY_NAMES`) were half of each cached run's memory (8.6 MB per plan at
#: 5,000 trials x 36 months) and no page shows them.
PAGE_MONTHLY: tuple[str, ...] = ("profit", "net_revenue", "active_customers", "new_customers",
                                 "churned", "spend")

#: How long a cached result is kept without being used again (seconds).
CACHE_TTL_S = 3600
COUNT_RUNS_ENV = "FUNNEL_LAB_COUNT_RUNS"

F = TypeVar("F", bound=Callable[..., Any])

_flights_lock = threading.Lock()
#: key -> [lock, number of callers holding or waiting for it]
_flights: dict[str, list[Any]] = {}
_count_lock = threading.Lock()
#: Every cache made by `cached_run` (for `clear_cached_runs`).
_caches: list[Any] = []


def _key_text(value: Any) -> str:
    """Text that identifies an argument (a scenario by `scenario_key`)."""
    if isinstance(value, Scenario):
        return scenario_key(value)
    if isinstance(value, tuple | list):
        return "(" + ",".join(_key_text(item) for item in value) + ")"
    if isinstance(value, dict):
        return "{" + ",".join(f"{k!r}:{_key_text(v)}" for k, v in value.items()) + "}"
    return repr(value)


def flight_key(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """Return the single-flight key of one call (a hash; equal calls give equal keys).

    Two different calls that happened to share a key would only wait for each other; each
    still gets its own result from the cache, which hashes the arguments itself.
    """
    text = _key_text((name, args, sorted(kwargs.items())))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


@contextlib.contextmanager
def single_flight(key: str, waiting: str | None = None) -> Iterator[None]:
    """Hold the lock of `key`: one caller at a time per key (the others wait their turn).

    `waiting` is shown as a spinner while this session waits for another one's run.
    """
    with _flights_lock:
        entry = _flights.setdefault(key, [threading.Lock(), 0])
        entry[1] += 1
    lock: threading.Lock = entry[0]
    try:
        if not lock.acquire(blocking=False):
            with st.spinner(waiting) if waiting else contextlib.nullcontext():
                lock.acquire()
        try:
            yield
        finally:
            lock.release()
    finally:
        with _flights_lock:
            entry[1] -= 1
            if entry[1] == 0:
                _flights.pop(key, None)


def _count_run(name: str, key: str) -> None:
    path = os.environ.get(COUNT_RUNS_ENV)
    if not path:
        return
    with _count_lock, open(path, "a", encoding="utf-8") as log:
        log.write(f"{name}\t{key}\n")


def _load_malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to trim
        return None


_malloc_trim = _load_malloc_trim()


def return_free_memory() -> None:
    """Give the memory the process has freed back to the system (glibc's `malloc_trim`).

    glibc keeps freed blocks of up to 32 MB in its heaps, where they count in the server's
    memory until reused: after the warm-up's runs, 150 MB of its 790 MB were free but held
    (measured in-process; 15 ms a call). Called after each computation, not per rerun."""
    if _malloc_trim is not None:
        _malloc_trim(0)


def freeze(value: Any) -> Any:
    """Make every NumPy array in `value` read-only (through dicts, mappings, lists, tuples and
    dataclasses) and return `value`: a cached result is shared by every session."""
    if isinstance(value, np.ndarray):
        value.flags.writeable = False
    elif isinstance(value, Mapping):
        for item in value.values():
            freeze(item)
    elif isinstance(value, list | tuple):
        for item in value:
            freeze(item)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for part in dataclasses.fields(value):
            freeze(getattr(value, part.name))
    return value


def cached_run(*, max_entries: int, ttl: float = CACHE_TTL_S,
               show_spinner: bool | str = False, show_time: bool = False,
               hash_funcs: dict[Any, Callable[[Any], Any]] | None = None) -> Callable[[F], F]:
    """`st.cache_resource` with a bound on entries and age, one computation per key at once,
    and the result's arrays read-only (module doc).

    Use it like ``@st.cache_data(...)`` on a function of the pages' simulations; callers
    must not change what it returns.
    """

    def wrap(func: F) -> F:
        name = f"{func.__module__}.{func.__qualname__}"

        @functools.wraps(func)
        def counted(*args: Any, **kwargs: Any) -> Any:
            _count_run(name, flight_key(name, args, kwargs))
            try:
                return freeze(func(*args, **kwargs))
            finally:
                return_free_memory()

        cached = st.cache_resource(max_entries=max_entries, ttl=ttl, show_spinner=show_spinner,
                               show_time=show_time, hash_funcs=hash_funcs)(counted)

        @functools.wraps(func)
        def call(*args: Any, **kwargs: Any) -> Any:
            waiting = show_spinner if isinstance(show_spinner, str) else None
            with single_flight(flight_key(name, args, kwargs), waiting):
                return cached(*args, **kwargs)

        call.clear = cached.clear  # type: ignore[attr-defined]
        _caches.append(cached)
        return call  # type: ignore[return-value]

    return wrap


def page_result(result: SimResult) -> SimResult:
    """`result` with only the monthly series the pages read (`PAGE_MONTHLY`), copied into
    one array of their own: the compiled engine's series are views of one (12, trials,
    months) array, which any view kept would keep whole. Metrics and inputs are the same."""
    series = np.stack([result.monthly[name] for name in PAGE_MONTHLY])
    return dataclasses.replace(result, monthly=dict(zip(PAGE_MONTHLY, series, strict=True)))


def clear_cached_runs() -> None:
    """Empty every cache made by `cached_run` (the next call of each computes afresh)."""
    for cached in _caches:
        cached.clear()


@cached_run(max_entries=16, show_spinner="Simulating futures…", show_time=True,
            hash_funcs=SCENARIO_HASH)
def run_plans(scenario: Scenario, labels: tuple[str, ...] | None, seed: int, trials: int,
              horizon: int | None = None) -> dict[str, SimResult]:
    """Run the base plan and the named variants (all when labels is None) on the same futures.

    Returns label -> SimResult; the base plan is under BASE_LABEL, first.
    """
    variants = None if labels is None else [name for name in labels if name != BASE_LABEL]
    results = simulate_plans(plan_scenarios(scenario, variants), seed=seed, trials=trials,
                             horizon=horizon)
    return {label: page_result(result) for label, result in results.items()}


@cached_run(max_entries=16, show_spinner="Simulating futures…", show_time=True,
            hash_funcs=SCENARIO_HASH)
def run_scenario(scenario: Scenario, seed: int, trials: int,
                 horizon: int | None = None) -> SimResult:
    """Run one scenario as it stands (its variants ignored); returns the SimResult."""
    plans = plan_scenarios(scenario, [])
    return page_result(simulate_plans(plans, seed=seed, trials=trials,
                                      horizon=horizon)[BASE_LABEL])
