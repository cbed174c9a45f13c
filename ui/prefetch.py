"""Compute the views a visitor is likely to ask for next, in the background, so that their next
step finds them cached (the Guarantee page's lengths one slider step either side of the chosen
one: a presenter steps through them one at a time).

A page asks with `request(page, queries)`: the links of the next views, as query strings. One
background thread (ending after IDLE_EXIT_S with nothing to open) opens them one after the
other in a session of this server without a browser (`ui.headless.open_page`, as the start-up
warm-up does), so each computes exactly what the visitor's step would, into the caches every
session shares. Before each it waits until no page run is under way
(`ui.navigation.pages_running`), so a visitor's page never shares the cores with it for long.
Only the newest `PENDING_LIMIT` links wait (a visitor who moved on makes older neighbours
unlikely); a link opened in the last `DONE_LIMIT` is not opened again; the sessions it opens
ask for nothing themselves. Numbers never depend on it: it only decides when results exist.
The server attaches its event loop as it starts (ui/server.py); FUNNEL_LAB_PREFETCH=0 turns it
off (the tests do, but for the test of this module); without a server (AppTest) `request` does
nothing.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence

from streamlit.runtime.scriptrunner import get_script_run_ctx

from ui.headless import is_headless_session, open_page
from ui.navigation import pages_running

#: Links waiting to be opened, newest first; older ones are dropped.
PENDING_LIMIT = 4
#: Links opened recently, not opened again (each is a cache hit by then, or was evicted).
DONE_LIMIT = 256
#: Longest wait for one view (the returns desk of a long guarantee may take a minute).
PAGE_LIMIT_S = 120.0
#: Longest wait, before a view, for the page runs under way to end (then it runs anyway).
YIELD_LIMIT_S = 30.0
#: Seconds from a request to its first view when it comes from a control change: the browser
#: draws the changed page for up to a second after its run ends, on the same two cores (with
#: 0.3 s, a Guarantee step was no faster: 1.16 s against 1.12 s without prefetching).
STEP_PAUSE_S = 1.5
#: The same when it comes from a page just opened: a first open draws for 3-5 s after its run
#: (11 charts on the Guarantee page), and a prefetch then would slow the first look at a link.
OPEN_PAUSE_S = 6.0
#: The thread ends after this long with nothing to open (the next request starts another).
IDLE_EXIT_S = 60.0
#: The thread's name (its log lines say it).
THREAD_NAME = "funnel-lab-prefetch"

_LOG = logging.getLogger(__name__)
_lock = threading.Condition()
_loop: asyncio.AbstractEventLoop | None = None
_pending: deque[tuple[str, str]] = deque()
_not_before: dict[tuple[str, str], float] = {}
_done: OrderedDict[tuple[str, str], None] = OrderedDict()
_thread: threading.Thread | None = None


def enabled() -> bool:
    """Whether prefetching is on in this process (FUNNEL_LAB_PREFETCH is not "0")."""
    return os.environ.get("FUNNEL_LAB_PREFETCH", "1") != "0"


def attach(loop: asyncio.AbstractEventLoop) -> bool:
    """Let `request` open views on this server (its event loop `loop`); the server calls it as
    it starts. Returns whether prefetching is on."""
    global _loop
    if not enabled():
        return False
    with _lock:
        _loop = loop
    return True


def _asking_session() -> str | None:
    """The id of the session whose page run calls this (None outside a page run)."""
    context = get_script_run_ctx(suppress_warning=True)
    return context.session_id if context is not None else None


def request(page: str, queries: Sequence[str], pause_s: float | None = None,
            opener: Callable[..., bool] = open_page) -> int:
    """Ask for the views `page` ("guarantee") with these query strings to be computed in the
    background, the first one first, none before `pause_s` seconds from now (STEP_PAUSE_S
    after a control change, OPEN_PAUSE_S after a page opened). A session this module or the
    warm-up opened asks for nothing. Returns how many were queued (0 without a server)."""
    global _thread
    session_id = _asking_session()
    if _loop is None or (session_id is not None and is_headless_session(session_id)):
        return 0
    queued = 0
    with _lock:
        for query in reversed(queries):
            item = (page, query)
            if item in _done or item in _pending:
                continue
            _pending.appendleft(item)
            _not_before[item] = time.monotonic() + (STEP_PAUSE_S if pause_s is None
                                                     else pause_s)
            queued += 1
        while len(_pending) > PENDING_LIMIT:
            _not_before.pop(_pending.pop(), None)
        if queued and (_thread is None or not _thread.is_alive()):
            _thread = threading.Thread(target=_work, args=(opener,), name=THREAD_NAME,
                                       daemon=True)
            _thread.start()
        _lock.notify()
    return queued


def _next() -> tuple[str, str, float] | None:
    """The next view to open and the time it may start, or None (the thread is to end) after
    IDLE_EXIT_S with none."""
    global _thread
    with _lock:
        if not _pending:
            _lock.wait(IDLE_EXIT_S)
        if not _pending:
            _thread = None
            return None
        item = _pending.popleft()
        _done[item] = None
        while len(_done) > DONE_LIMIT:
            _done.popitem(last=False)
        return (*item, _not_before.pop(item, 0.0))


def _wait_for_quiet(not_before: float) -> None:
    """Wait until `not_before` (time.monotonic) and no page run is under way; at most
    YIELD_LIMIT_S for the page runs."""
    time.sleep(max(0.0, not_before - time.monotonic()))
    deadline = time.monotonic() + YIELD_LIMIT_S
    while pages_running() and time.monotonic() < deadline:
        time.sleep(0.05)


def _work(opener: Callable[..., bool]) -> None:
    """Open the pending views one by one until none comes for IDLE_EXIT_S; never raises."""
    while (item := _next()) is not None:
        page, query, not_before = item
        try:
            _wait_for_quiet(not_before)
            loop = _loop
            if loop is not None and not opener(loop, page, query, PAGE_LIMIT_S):
                _LOG.warning("prefetch: /%s?%s did not finish within %.0f s", page, query,
                             PAGE_LIMIT_S)
        except Exception:  # a prefetch must never take the app down; the step still works
            _LOG.exception("prefetch of /%s?%s failed", page, query)
