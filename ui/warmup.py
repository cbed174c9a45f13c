"""Warm the server up in the background: load the compiled engine, then run the shipped
scenarios' default simulations into the page cache, so the first link of the day is fast.

`start` is called by app.py on every run and starts one daemon thread per process. The thread
waits `WARM_UP_DELAY_S` first (the first page is answered before it competes for the cores),
runs each step with a pause between, and never raises: a failed step is logged and the rest
is skipped. Numbers do not depend on it (`sim.dispatch`): it only decides when results exist.
`compiled_within` lets a page that needs the compiled engine wait a bounded time for it.
Setting FUNNEL_LAB_WARM_UP=0 turns the background warm-up off (the tests do); the server
still loads the compiled engine as it starts (`start_engine`).
"""

from __future__ import annotations

import logging
import os
import threading
import time

from sim.dispatch import compiled_ready, load_compiled
from sim.scenario import Scenario
from ui.library import list_stems, read_entry
from ui.runs import run_plans
from ui.state import PageContext, default_trials

#: Seconds after the first page run before the warm-up starts.
WARM_UP_DELAY_S = 5.0
#: Seconds between two precomputed scenarios (leaves the cores to a page being answered).
PAUSE_S = 1.0

_LOG = logging.getLogger(__name__)
_started = False
_start_lock = threading.Lock()
#: Set when the warm-up has finished (successfully or not); tests and benchmarks wait on it.
finished = threading.Event()
_kernel_started = False
_kernel_done = threading.Event()


def _load_kernel() -> None:
    started = time.perf_counter()
    try:
        ready = load_compiled()
        _LOG.info("compiled engine %s after %.1f s", "ready" if ready else "unavailable",
                  time.perf_counter() - started)
    except Exception:  # the NumPy engine still answers every page
        _LOG.exception("the compiled engine did not load")
    finally:
        _kernel_done.set()


def _start_kernel() -> None:
    """Start loading the compiled engine in a daemon thread unless that already started."""
    global _kernel_started
    with _start_lock:
        if _kernel_started:
            return
        _kernel_started = True
    threading.Thread(target=_load_kernel, name="funnel-lab-kernel", daemon=True).start()


def start_engine() -> bool:
    """Start loading the compiled engine in a background thread, as the server starts
    (ui.server), whether or not the warm-up runs: until it is loaded every simulation runs on
    the NumPy engine, several times slower. Skipped (False) when FUNNEL_LAB_ENGINE=numpy
    makes "auto" the NumPy engine anyway (the tests)."""
    if os.environ.get("FUNNEL_LAB_ENGINE") == "numpy":
        return False
    _start_kernel()
    return True


def compiled_within(timeout_s: float) -> bool:
    """Whether the compiled engine is ready, waiting at most `timeout_s` for it to load (it
    starts loading now if nothing has asked yet): about 2 s from Numba's disk cache, minutes
    when it must compile (first start after a code change)."""
    if compiled_ready():
        return True
    _start_kernel()
    _kernel_done.wait(timeout_s)
    return compiled_ready()


def start(delay_s: float = WARM_UP_DELAY_S) -> bool:
    """Start the warm-up thread unless this process already did; returns whether it started."""
    global _started
    with _start_lock:
        if _started or os.environ.get("FUNNEL_LAB_WARM_UP", "1") == "0":
            return False
        _started = True
    threading.Thread(target=warm_up, args=(delay_s,), name="funnel-lab-warm-up",
                     daemon=True).start()
    return True


def _overview_pointers(stem: str, scenario: Scenario) -> None:
    """Run the Overview's pointers for a library scenario's default link: the Budget split
    page's search and the Retention page's sweep (their own caches), the slowest part of a
    first open of the Overview, Budget split or Retention pages."""
    # Imported here: ui.answers needs ui.splits, which imports this module.
    from ui.answers import beyond_named

    seed, trials = scenario.simulation.seed, default_trials(scenario)
    beyond_named(PageContext(stem, scenario, scenario, {}, seed, trials, False))


def warm_up(delay_s: float = 0.0) -> None:
    """Load the compiled engine, then run every readable library scenario's base plan and
    variants at its own seed and default trials through the page cache (`ui.runs.run_plans`),
    then each one's best split and share (`_overview_pointers`).
    Logs and stops at the first error; never raises."""
    try:
        time.sleep(delay_s)
        started = time.perf_counter()
        _start_kernel()
        _kernel_done.wait()
        for stem in list_stems():
            scenario = read_entry(stem).scenario
            if scenario is None:
                continue
            time.sleep(PAUSE_S)
            run_plans(scenario, None, scenario.simulation.seed, default_trials(scenario))
            _LOG.info("warm-up: %s cached after %.1f s", stem, time.perf_counter() - started)
        for stem in list_stems():
            scenario = read_entry(stem).scenario
            if scenario is None:
                continue
            time.sleep(PAUSE_S)
            _overview_pointers(stem, scenario)
            _LOG.info("warm-up: %s's best split and share found after %.1f s", stem,
                      time.perf_counter() - started)
    except Exception:  # a warm-up must never take the app down; the pages still work cold
        _LOG.exception("warm-up stopped")
    finally:
        finished.set()
