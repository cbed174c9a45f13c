"""Stopping long work from outside: a progress callback that also asks "should I go on?".

A worker process runs a long model (the returns desk) for one browser session; when that
session ends, the app sets the flag and the model stops at its next progress report instead
of occupying the worker for sessions that are still open.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class WorkCancelled(Exception):
    """The work was stopped because the session that asked for it ended."""


@dataclass(frozen=True)
class CancellableProgress:
    """Progress callback (fraction done, 0 to 1) that raises WorkCancelled once cancelled.

    `done` has ``set(value)`` and `cancelled` has ``is_set()``; multiprocessing manager
    proxies (a Value and an Event) qualify, so the callback can be sent to a worker process.
    """

    done: Any
    cancelled: Any

    def __call__(self, fraction: float) -> None:
        """Record how far the work is; raise WorkCancelled if it was cancelled."""
        if self.cancelled.is_set():
            raise WorkCancelled("stopped: the session that asked for it has ended")
        self.done.set(fraction)
