"""Warm the server up in the background: load the compiled engine, then open every page of
the first library scenarios' default links once, so the first link of the day finds its page
computed.

The server calls `start` as it starts (ui/server.py, with its event loop), once per process.
The thread loads the compiled engine first (the pages' searches use all futures only with
it), then opens the pages, and each section of each page, one by one in sessions without a
browser (`ui.headless`): each computes exactly what a visitor's first open would, with the
page's own defaults (its simulations, searches, charts and the returns desk), into the caches
every session shares.
Before each page it waits until no page run is under way (`ui.navigation.pages_running`) and
pauses `PAUSE_S`, so a visitor's page never waits behind it for long. It never raises: a failed
step is logged and the rest is skipped. Numbers do not depend on it (`sim.dispatch`): it only
decides when results exist. `compiled_within` lets a page that needs the compiled engine wait
a bounded time for it. FUNNEL_LAB_WARM_UP=0 turns the page warm-up off (the tests do); the
server still loads the compiled engine as it starts (`start_engine`). A server started with
`streamlit run app.py` (not serve.py) has no warm-up.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

from streamlit import runtime

from sim.dispatch import compiled_ready, load_compiled
from ui.headless import open_page
from ui.library import list_stems, read_entry
from ui.navigation import APP_SCRIPT, SECTIONS, pages_running

#: Seconds between two pages the warm-up opens (leaves the cores to a page being answered).
PAUSE_S = 0.5
#: Longest wait for one page the warm-up opens (the returns desk alone may take 180 s).
PAGE_LIMIT_S = 240.0
#: Longest wait, before a step, for the page runs under way to end (then the step runs anyway).
YIELD_LIMIT_S = 30.0
#: Longest wait for Streamlit's runtime, whose sessions open the pages (it exists within
#: moments of the server starting).
RUNTIME_LIMIT_S = 60.0
#: Library scenarios warmed up, the first ones in the library's order: the Budget split grid's
#: cache keeps 4 entries (ui/splits.py), and a larger library would evict the first
#: scenario's, the one a link without a scenario opens, and grow memory by about 150 MB each.
WARM_SCENARIOS = 3
#: The warm-up thread's name (its log lines say it).
THREAD_NAME = "funnel-lab-warm-up"

_LOG = logging.getLogger(__name__)
_started = False
_start_lock = threading.Lock()
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


def _wait_until(ready: Callable[[], bool], limit_s: float) -> bool:
    """Wait (polling every 0.1 s) until `ready()` or `limit_s` seconds; returns `ready()`."""
    deadline = time.monotonic() + limit_s
    while not ready() and time.monotonic() < deadline:
        time.sleep(0.1)
    return ready()


def start(loop: asyncio.AbstractEventLoop) -> bool:
    """Start the warm-up thread unless this process already did or FUNNEL_LAB_WARM_UP=0;
    `loop` is the server's event loop. Returns whether it started."""
    global _started
    with _start_lock:
        if _started or os.environ.get("FUNNEL_LAB_WARM_UP", "1") == "0":
            return False
        _started = True
    threading.Thread(target=warm_up, args=(loop,), name=THREAD_NAME, daemon=True).start()
    return True


def page_links(app_root: Path = APP_SCRIPT.parent) -> list[str]:
    """The links of the app's pages, the Overview (the default page, "") first: each page
    file of pages/ is named after its link (app.py)."""
    links = sorted(path.stem for path in (app_root / "pages").glob("*.py"))
    return ["" if link == "overview" else link
            for link in sorted(links, key=lambda link: link != "overview")]


def section_queries(link: str, stem: str) -> list[str]:
    """The queries that open each section of the page at `link` (its default link first) on
    the library scenario `stem` (ui.navigation.SECTIONS; one query for a page without)."""
    key, labels = SECTIONS.get(link or "overview", ("", ("",)))
    return [urlencode({"scenario": stem, **({key: label} if index else {})})
            for index, label in enumerate(labels)]


def warm_up(loop: asyncio.AbstractEventLoop) -> None:
    """Load the compiled engine, then open every page (`page_links`) of the default link (its
    seed and trials), each of its sections in turn (`section_queries`), of the first
    WARM_SCENARIOS readable library scenarios, one scenario after the other. Logs and stops
    at the first error; never raises."""
    try:
        started = time.perf_counter()
        _wait_until(runtime.exists, RUNTIME_LIMIT_S)
        if start_engine():  # the split searches use all futures only with the compiled engine
            _kernel_done.wait()
        readable = [stem for stem in list_stems() if read_entry(stem).scenario is not None]
        for stem in readable[:WARM_SCENARIOS]:
            for link in page_links():
                for query in section_queries(link, stem):
                    _wait_until(lambda: pages_running() == 0, YIELD_LIMIT_S)
                    time.sleep(PAUSE_S)
                    if not open_page(loop, link, query, PAGE_LIMIT_S):
                        _LOG.warning("warm-up: /%s?%s did not finish within %.0f s",
                                     link, query, PAGE_LIMIT_S)
            _LOG.info("warm-up: %s's pages computed after %.1f s", stem,
                      time.perf_counter() - started)
    except Exception:  # a warm-up must never take the app down; the pages still work cold
        _LOG.exception("warm-up stopped")
