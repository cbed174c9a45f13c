"""Open a page's link in a session of this server that has no browser (the warm-up does, so
that the first person to open that link finds everything the page computes already cached:
its simulations, its searches, its charts, the returns desk).

The session is an ordinary Streamlit session (`Runtime.connect_session`) whose client drops
every message, asked to run the page the way a browser asks (a `rerun_script` message with the
link's page and query string). So the page computes exactly what a visitor's first open would,
with the page's own defaults, and nothing here repeats them. The same route Streamlit's own
agent API (1.67, `streamlit/runtime/agent/interaction.py`) uses to drive a session without a
browser. `Runtime` calls must run on the server's event loop (`loop`); the waiting happens on
the calling thread.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from streamlit import runtime
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.runtime.session_manager import ClientContext, SessionClient

T = TypeVar("T")

#: Seconds of quiet after a run finished before the page counts as done (a page that reruns
#: itself starts its next run within this).
SETTLE_S = 0.5

#: Ids of the sessions `open_page` has open now (a page run can ask `is_headless_session`).
_open_sessions: set[str] = set()


def is_headless_session(session_id: str) -> bool:
    """Whether `session_id` is a session `open_page` opened (no browser, no person)."""
    return session_id in _open_sessions


class _DroppingClient(SessionClient):
    """A session client that drops every message and notes when a run starts and ends."""

    def __init__(self) -> None:
        self.finished = threading.Event()
        self.last_message = time.monotonic()

    def write_forward_msg(self, msg: ForwardMsg) -> None:
        # Called on the event loop for every message; must never raise.
        self.last_message = time.monotonic()
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            self.finished.clear()
        elif kind == "script_finished":
            self.finished.set()

    @property
    def client_context(self) -> ClientContext | None:
        return None


def _on_loop(loop: asyncio.AbstractEventLoop, call: Callable[[], T], timeout_s: float) -> T:
    """Run `call` on the event loop `loop` and return its result (raises what it raises)."""

    async def run() -> T:
        return call()

    return asyncio.run_coroutine_threadsafe(run(), loop).result(timeout_s)


def open_page(loop: asyncio.AbstractEventLoop, page: str, query_string: str,
              timeout_s: float) -> bool:
    """Run the page whose link is `page` ("" for the default page) with `query_string` in a
    new session of this server without a browser, wait until it has finished (at most
    `timeout_s` seconds), then close the session. Returns whether it finished in time."""
    server = runtime.get_instance()
    client = _DroppingClient()
    session_id = _on_loop(loop, lambda: server.connect_session(client=client, user_info={}),
                          timeout_s)
    _open_sessions.add(session_id)
    try:
        # Nobody can take this session over by naming its id from a browser.
        _on_loop(loop, lambda: server.mark_session_nonresumable(session_id), timeout_s)
        message = BackMsg()
        message.rerun_script.query_string = query_string
        message.rerun_script.page_name = page
        _on_loop(loop, lambda: server.handle_backmsg(session_id, message), timeout_s)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if (client.finished.wait(max(0.0, deadline - time.monotonic()))
                    and time.monotonic() - client.last_message >= SETTLE_S):
                return True
            time.sleep(0.1)
        return False
    finally:
        _open_sessions.discard(session_id)
        _on_loop(loop, lambda: server.close_session(session_id), timeout_s)
