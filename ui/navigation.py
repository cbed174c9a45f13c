"""Every page runs through app.py's menu, even when Streamlit starts a page script by itself.

Why this exists (checked in Streamlit 1.67): with a folder named ``pages/`` beside the main
script, Streamlit runs in its first-generation "pages folder" mode until some run of the server
process has called ``st.navigation``. In that mode a request whose URL names a file of
``pages/`` (``/guarantee`` for ``pages/guarantee.py``) runs that file alone: no sidebar, no menu,
and the page reads the context of an older run. This happens on the first request of a freshly
started server, and on every ``AppTest`` run (AppTest resets the mode before each run).

Other ways out were tried and rejected:

- renaming the page files so no file name equals a link (``/guarantee``): Streamlit then runs
  app.py as the "main page", but first tells the browser the page was not found, and the user
  sees a "Page not found" dialog over the right page;
- re-running with ``st.rerun()``: the interrupted run resets button clicks, so a click that
  arrives in such a run (every AppTest run) is lost, e.g. the editor's Save button;
- switching the mode off: the only switch is a private class attribute of Streamlit.

So the page script, when it finds it was not started by app.py, runs app.py in its place (the
menu, the sidebar and then this same page through ``st.navigation``) and stops the outer run.
Only public API is used: a marker app.py sets while it runs the chosen page, and ``st.stop()``.
For this to cover every link, each page file is named after its link (``pages/budget-split.py``
for ``/budget-split``), so the pages-folder mode always finds a file to start.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from contextvars import ContextVar
from pathlib import Path

import streamlit as st
from streamlit.navigation.page import StreamlitPage

#: The app's entry script, which builds the menu and the sidebar.
APP_SCRIPT = Path(__file__).resolve().parents[1] / "app.py"

#: Hidden links app.py keeps for old share links -> the page's own link ("" is the default
#: page at /): /overview shows the Overview, whose share link stays /?...
ALIAS_LINKS = {"overview": ""}

#: Each page's sections below its answer (page file's name -> link parameter, tab labels; the
#: first opens by default). Only the open section is computed and drawn (ui.layout.sections);
#: the warm-up opens each (ui.warmup).
SECTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "overview": ("overview_section", ("Plans compared", "Profit across futures")),
    "compare": ("compare_section", ("Difference", "Over the months", "All key numbers")),
    "budget-split": ("split_section", ("Named splits", "Every split", "By horizon",
                                       "Cumulative profit")),
    "guarantee": ("guarantee_section", ("Lengths compared", "Every length", "Break-even",
                                        "Refund timing", "Returns desk", "A/B test planner")),
    "sensitivity": ("sens_section", ("What decides it", "What moves it", "When it flips",
                                     "Worth knowing")),
    "retention": ("retention_section", ("Share sweep", "Unit economics", "Next dollar",
                                        "5 points more retention", "Textbook optimum",
                                        "Cohorts")),
}

# True while app.py runs the page st.navigation chose. A context variable, because each
# session's script runs in its own thread, and a nested run resets it on the way out.
_RUN_BY_APP: ContextVar[bool] = ContextVar("funnel_lab_run_by_app", default=False)
# What to do when the page run that `run_page` is running ends, however it ends.
_AT_RUN_END: ContextVar[list[Callable[[], None]] | None] = ContextVar(
    "funnel_lab_at_run_end", default=None)
# How many page runs are under way in this process, across sessions (background work such as
# the warm-up waits for none before each step, so it does not slow a page a user waits for).
_running = 0
_running_lock = threading.Lock()


def run_page(page: StreamlitPage) -> None:
    """Run the page `st.navigation` returned, marked as run through app.py (app.py calls this)."""
    global _running
    token = _RUN_BY_APP.set(True)
    callbacks: list[Callable[[], None]] = []
    end_token = _AT_RUN_END.set(callbacks)
    with _running_lock:
        _running += 1
    try:
        page.run()
    finally:
        with _running_lock:
            _running -= 1
        _AT_RUN_END.reset(end_token)
        _RUN_BY_APP.reset(token)
        for callback in callbacks:
            # Clean-up only: one that fails must not hide the page's own outcome.
            with contextlib.suppress(Exception):
                callback()


def pages_running() -> int:
    """How many page runs (of any session) are under way in this process right now."""
    return _running


def at_run_end(callback: Callable[[], None]) -> bool:
    """Call `callback` when this page run ends: finished, stopped, or interrupted by a rerun
    (a user's next click) or the session closing. Returns False, registering nothing, outside
    a page run of app.py's menu."""
    callbacks = _AT_RUN_END.get()
    if callbacks is None:
        return False
    callbacks.append(callback)
    return True


def run_file(path: str) -> None:
    """Run the page script at `path` (relative to app.py's folder) in this run, as the page
    st.navigation chose (app.py's hidden /overview page runs pages/overview.py this way)."""
    script = APP_SCRIPT.parent / path
    code = compile(script.read_bytes(), str(script), "exec")
    # exec of our own page script (not user input), the way Streamlit itself runs scripts.
    exec(code, {"__name__": "__main__", "__file__": str(script)})  # noqa: S102


def ensure_app_navigation() -> None:
    """Make sure this page script runs inside app.py's menu; pages call it (via `current()`) first.

    Inside app.py this returns at once. Started alone by Streamlit's pages-folder mode, it runs
    app.py here instead, which shows the sidebar and the menu and runs this page through
    `st.navigation` (same link, same query parameters, same widget values and button clicks),
    then stops the outer run so the page is not drawn twice.
    """
    if _RUN_BY_APP.get():
        return
    code = compile(APP_SCRIPT.read_bytes(), str(APP_SCRIPT), "exec")
    # exec of our own entry script (not user input), the way Streamlit itself runs scripts.
    exec(code, {"__name__": "__main__", "__file__": str(APP_SCRIPT)})  # noqa: S102
    st.stop()
