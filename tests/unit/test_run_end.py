"""`at_run_end`: clean-up that runs when a page run ends, however it ends."""

from __future__ import annotations

import pytest
from streamlit.runtime.scriptrunner_utils.exceptions import StopException

from ui.navigation import at_run_end, run_page


class _Page:
    """Stands in for the StreamlitPage that st.navigation returns: `run` runs `body`."""

    def __init__(self, body):
        self.body = body

    def run(self) -> None:
        self.body()


def test_outside_a_page_run_nothing_is_registered() -> None:
    assert at_run_end(lambda: None) is False


def test_callbacks_run_in_order_after_the_page_finishes() -> None:
    calls: list[str] = []

    def body() -> None:
        assert at_run_end(lambda: calls.append("first")) is True
        at_run_end(lambda: calls.append("second"))
        calls.append("page")

    run_page(_Page(body))
    assert calls == ["page", "first", "second"]
    assert at_run_end(lambda: None) is False  # the run is over: nothing registers


def test_callbacks_run_when_the_run_is_interrupted_and_a_failing_one_stops_nothing() -> None:
    """A rerun or a closed session ends the run with an exception raised in the script; the
    clean-up still runs, and a clean-up that fails does not replace the page's exception."""
    calls: list[str] = []

    def failing() -> None:
        raise RuntimeError("clean-up failed")

    def body() -> None:
        at_run_end(failing)
        at_run_end(lambda: calls.append("stopped the job"))
        raise StopException()  # what Streamlit raises in a script whose session closed

    with pytest.raises(StopException):
        run_page(_Page(body))
    assert calls == ["stopped the job"]
