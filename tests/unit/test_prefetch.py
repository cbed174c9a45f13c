"""The prefetch queue (ui/prefetch.py): what it opens, in which order, and what it never opens.
The opener is a stand-in that records its calls; a real server's is in
tests/browser/test_prefetch.py."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from ui import headless, prefetch


class _Opener:
    """Records the views opened; each waits for `gate` (to hold the worker mid-view)."""

    def __init__(self) -> None:
        self.opened: list[tuple[str, str]] = []
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, loop: object, page: str, query: str, timeout_s: float) -> bool:
        self.gate.wait(10)
        self.opened.append((page, query))
        return True

    def wait_for(self, count: int) -> list[tuple[str, str]]:
        deadline = time.monotonic() + 10
        while len(self.opened) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.opened


@pytest.fixture
def queue(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Opener]:
    """A prefetch module attached to a stand-in loop, with a fresh queue and worker."""
    monkeypatch.setenv("FUNNEL_LAB_PREFETCH", "1")
    monkeypatch.setattr(prefetch, "STEP_PAUSE_S", 0.0)
    monkeypatch.setattr(prefetch, "_not_before", {})
    monkeypatch.setattr(prefetch, "_pending", prefetch.deque())
    monkeypatch.setattr(prefetch, "_done", prefetch.OrderedDict())
    monkeypatch.setattr(prefetch, "_thread", None)
    monkeypatch.setattr(prefetch, "_loop", None)
    monkeypatch.setattr(prefetch, "IDLE_EXIT_S", 0.2)
    assert prefetch.attach(object())  # type: ignore[arg-type]
    yield _Opener()
    worker = prefetch._thread
    if worker is not None:  # ends once the queue is empty: no worker outlives its test
        worker.join(5)
        assert not worker.is_alive()


def test_without_a_server_nothing_is_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prefetch, "_loop", None)
    assert prefetch.request("guarantee", ["a=1"]) == 0


def test_turned_off_it_does_not_attach(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUNNEL_LAB_PREFETCH", "0")
    monkeypatch.setattr(prefetch, "_loop", None)
    assert not prefetch.attach(object())  # type: ignore[arg-type]
    assert prefetch.request("guarantee", ["a=1"]) == 0


def test_views_open_in_order_and_once(queue: _Opener) -> None:
    asked = time.monotonic()
    assert prefetch.request("guarantee", ["d=60", "d=180"], 0.3, opener=queue) == 2
    assert queue.wait_for(1) and time.monotonic() - asked >= 0.3  # not before its pause
    assert queue.wait_for(2) == [("guarantee", "d=60"), ("guarantee", "d=180")]
    # Asked again (the next visitor of the same view): already done, nothing queued.
    assert prefetch.request("guarantee", ["d=60", "d=180"], opener=queue) == 0
    time.sleep(0.2)
    assert len(queue.opened) == 2


def test_only_the_newest_views_wait(queue: _Opener) -> None:
    queue.gate.clear()  # the worker holds its first view while the visitor steps on
    prefetch.request("guarantee", ["d=1"], opener=queue)
    time.sleep(0.1)
    for step in range(2, 8):
        prefetch.request("guarantee", [f"d={step}"], opener=queue)
    queue.gate.set()
    opened = queue.wait_for(1 + prefetch.PENDING_LIMIT)
    time.sleep(0.2)
    # The view under way finishes; of the six asked meanwhile the newest four wait, newest
    # first (the visitor is there now).
    assert [query for _, query in opened] == ["d=1", "d=7", "d=6", "d=5", "d=4"]


def test_a_background_session_asks_for_nothing(queue: _Opener,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prefetch, "_asking_session", lambda: "background")
    monkeypatch.setattr(headless, "_open_sessions", {"background"})
    assert prefetch.request("guarantee", ["d=60"], opener=queue) == 0


def test_a_failing_view_is_logged_and_the_next_still_opens(
        queue: _Opener, caplog: pytest.LogCaptureFixture) -> None:
    opened: list[str] = []

    def opener(loop: object, page: str, query: str, timeout_s: float) -> bool:
        if query == "bad":
            raise RuntimeError("boom")
        opened.append(query)
        return query != "slow"

    prefetch.request("guarantee", ["bad", "slow", "good"], opener=opener)
    deadline = time.monotonic() + 10
    while len(opened) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert opened == ["slow", "good"]
    assert "prefetch of /guarantee?bad failed" in caplog.text
    assert "prefetch: /guarantee?slow did not finish" in caplog.text
