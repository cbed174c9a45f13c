"""Guarantee page helpers: cached runs, length names, the answer sentence, the desk worker.

The monthly engine runs in this process (NumPy releases the GIL). The individual-customer model
(`sim.guarantee.desk_study`, pure Python SimPy) would hold the GIL and stall every other session,
so it runs in one worker process shared by all sessions; the page polls the future and shows the
progress the worker reports through a manager value.
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import sys
import threading
import time
import types
from collections import OrderedDict
from collections.abc import Hashable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.managers import SyncManager

import streamlit as st

from sim.cancel import CancellableProgress
from sim.guarantee import (
    FIVE_YEARS,
    SWEEP_DAYS,
    BreakEven,
    DeskStudy,
    LengthRuns,
    LiftReturnMap,
    break_even,
    desk_study,
    evaluate_lengths,
    lift_return_map,
)
from sim.metrics import Comparison
from sim.scenario import Scenario, variant_scenario
from ui import format as fmt
from ui.runs import SCENARIO_HASH, cached_run

#: Desk runs kept for all sessions (each a few hundred kB).
DESK_RESULTS_KEPT = 24
#: A desk run that takes longer than this is abandoned with a message (seconds).
DESK_TIMEOUT_S = 180.0


# --------------------------------------------------------------------------------------------
# Lengths in words
# --------------------------------------------------------------------------------------------


def length_label(days: int) -> str:
    """Return a guarantee length as people say it: 30 days, 1 year, 5 years, 180 days."""
    if days >= 365 and days % 365 == 0:
        years = days // 365
        return "1 year" if years == 1 else f"{years} years"
    return "1 day" if days == 1 else f"{days:,} days"


def length_adjective(days: int) -> str:
    """Return a length before a noun: a 30-day guarantee, a 5-year guarantee."""
    if days >= 365 and days % 365 == 0:
        return f"{days // 365}-year"
    return f"{days:,}-day"


def variant_lengths(scenario: Scenario) -> list[int]:
    """Return the guarantee lengths the scenario's variants try (other than its own)."""
    lengths = {variant_scenario(scenario, name).guarantee.days
               for name in scenario.variant_names()}
    return sorted(lengths - {scenario.guarantee.days})


def length_options(scenario: Scenario) -> list[int]:
    """Return the lengths a user may pick: the sweep, the current one and the variants'."""
    return sorted(set(SWEEP_DAYS) | {scenario.guarantee.days} | set(variant_lengths(scenario)))


def default_length(scenario: Scenario) -> int:
    """Return the length the page weighs by default: the longest variant, else five years."""
    variants = variant_lengths(scenario)
    if variants:
        return max(variants)
    return FIVE_YEARS if scenario.guarantee.days != FIVE_YEARS else 365


# --------------------------------------------------------------------------------------------
# Cached computations (pure work in sim.guarantee)
# --------------------------------------------------------------------------------------------


@cached_run(max_entries=16, show_spinner="Simulating each guarantee length on the same "
            "futures…", show_time=True, hash_funcs=SCENARIO_HASH)
def length_runs(scenario: Scenario, days: tuple[int, ...], seed: int, trials: int
                ) -> LengthRuns:
    """Return the scenario at these lengths (plus its current one) on the same draws."""
    return evaluate_lengths(scenario, days, trials=trials, seed=seed)


@cached_run(max_entries=32, show_spinner="Finding the break-even lift with the engine…",
            hash_funcs=SCENARIO_HASH)
def break_even_for(scenario: Scenario, days: int) -> BreakEven:
    """Return the break-even lifts of one length (closed forms and engine)."""
    return break_even(scenario, days)


@cached_run(max_entries=16, show_spinner="Mapping lift against returns…",
            hash_funcs=SCENARIO_HASH)
def lift_map_for(scenario: Scenario, days: int) -> LiftReturnMap:
    """Return the lift x return-multiplier map of one length."""
    return lift_return_map(scenario, days)


# --------------------------------------------------------------------------------------------
# The answer
# --------------------------------------------------------------------------------------------


def _lift_words(lift: float) -> str:
    if lift == float("inf"):
        return "more than a 400% conversion lift (no realistic lift)"
    if lift < 0:
        return f"a conversion fall of up to {fmt.share(-lift, 1)}"
    return f"a {fmt.share(lift, 1)} conversion lift"


def _short_lift(lift: float) -> str:
    if lift == float("inf"):
        return "no realistic lift"
    return f"a fall of up to {fmt.share(-lift, 1)}" if lift < 0 else fmt.share(lift, 1)


def guarantee_sentence(*, current: int, chosen: int, be: BreakEven, expected_lift: float,
                       profit: Comparison, revenue: Comparison, open_liability: float,
                       trials: int, horizon: int) -> str:
    """Return the page's one-sentence answer for the chosen length against the current one."""
    if chosen == current:
        return (f"The chosen length is the current {length_adjective(current)} guarantee: pick "
                "another length above to see whether it wins more than it refunds.")
    if profit.p_tie >= 0.999 and revenue.p_tie >= 0.999:
        return (f"A {length_adjective(chosen)} guarantee makes no difference in this scenario: "
                "its return and conversion elasticities are zero, so every length gives the "
                "same futures.")
    needs = "needs" if be.revenue_engine >= 0 else "can afford"
    return (
        f"A {length_adjective(chosen)} guarantee instead of {length_label(current)} {needs} "
        f"{_lift_words(be.revenue_engine)} to break even on revenue "
        f"({fmt.share(be.revenue_closed_form, 1)} by the per-order formula) and "
        f"{_short_lift(be.profit_engine)} on profit; with the lift this "
        f"scenario expects (median {fmt.share(expected_lift, 1, signed=True)}) it pays on profit "
        f"in {fmt.share(profit.p_beats)} of {trials:,} futures and on revenue in "
        f"{fmt.share(revenue.p_beats)}, counting the {fmt.money(open_liability)} of refunds "
        f"still owed after {horizon} months.")


# --------------------------------------------------------------------------------------------
# The returns desk in a worker process
# --------------------------------------------------------------------------------------------


@dataclass
class _DeskWorker:
    pool: ProcessPoolExecutor
    manager: SyncManager


@contextmanager
def _plain_main() -> Iterator[None]:
    """Start child processes as if from a plain script.

    Streamlit installs the running page script as ``__main__``, and a spawned child re-imports
    ``__main__`` from its file: it would run the whole app again, headless. While children start,
    ``__main__`` is an empty module, so they import only what their tasks need.
    """
    saved = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if saved is not None:
            sys.modules["__main__"] = saved


@st.cache_resource(show_spinner="Starting the worker process for the customer model…")
def _desk_worker() -> _DeskWorker:
    """One worker process for every session (max_workers=1: desk runs queue, the app stays
    responsive). Spawned, not forked: forking a threaded server process is unsafe."""
    context = multiprocessing.get_context("spawn")
    with _plain_main():
        manager = context.Manager()
        pool = ProcessPoolExecutor(max_workers=1, mp_context=context,
                                   initializer=importlib.import_module,
                                   initargs=("sim.guarantee",))
        # The pool starts its process on the first submit: do it now, under the plain main.
        pool.submit(int)
    return _DeskWorker(pool, manager)


class _DeskStore:
    """Finished desk runs shared by all sessions (least recently used dropped first)."""

    def __init__(self, size: int) -> None:
        self._items: OrderedDict[Hashable, DeskStudy] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def get(self, key: Hashable) -> DeskStudy | None:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            return None

    def put(self, key: Hashable, study: DeskStudy) -> None:
        with self._lock:
            self._items[key] = study
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


@st.cache_resource
def _desk_store() -> _DeskStore:
    return _DeskStore(DESK_RESULTS_KEPT)


def run_desk(inputs: Mapping[str, float], horizon: int, agents: int, service_hours: float,
             target_wait_hours: float, seed: int) -> DeskStudy | None:
    """Return the desk study for these settings, running it in the worker process if needed.

    Shows a progress bar while the worker runs; returns None (after showing why) when the
    worker fails or takes longer than DESK_TIMEOUT_S.
    """
    key = (tuple(sorted((path, float(value)) for path, value in inputs.items())), int(horizon),
           int(agents), float(service_hours), float(target_wait_hours), int(seed))
    store = _desk_store()
    found = store.get(key)
    if found is not None:
        return found
    worker = _desk_worker()
    bar = st.progress(0.0, text="Simulating individual customers and the returns desk in a "
                      "worker process…")
    future: Future[DeskStudy] | None = None
    cancelled = None
    try:
        done = worker.manager.Value("d", 0.0)
        cancelled = worker.manager.Event()
        future = worker.pool.submit(
            desk_study, dict(inputs), int(horizon), int(agents), float(service_hours),
            float(target_wait_hours), int(seed), CancellableProgress(done, cancelled))
        started = time.monotonic()
        while not future.done():
            if time.monotonic() - started > DESK_TIMEOUT_S:
                future.cancel()
                st.warning(f"The customer model took longer than {DESK_TIMEOUT_S:.0f} s and "
                           "was abandoned; try fewer agents' worth of claims or a shorter "
                           "horizon.")
                return None
            fraction = min(1.0, max(0.0, float(done.get())))
            bar.progress(fraction, text=f"Simulating individual customers and the returns "
                         f"desk in a worker process… {fraction:.0%}")
            time.sleep(0.15)
        study = future.result()
    except (BrokenProcessPool, EOFError, OSError):
        # The worker or its progress manager died (ConnectionError is an OSError).
        _desk_worker.clear()
        st.error("The worker process running the customer model stopped unexpectedly; reload "
                 "the page to start a new one.")
        return None
    finally:
        # Leaving early (the session ended, a rerun, a timeout): stop the worker's run so it
        # is free for the sessions still open.
        if future is not None and cancelled is not None and not future.done():
            with contextlib.suppress(OSError, EOFError):
                cancelled.set()
            future.cancel()
        bar.empty()
    store.put(key, study)
    return study
