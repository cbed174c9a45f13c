"""A closed session stops its returns-desk run: the progress callback raises once cancelled."""

from __future__ import annotations

import multiprocessing
import threading
import time
from concurrent.futures import ProcessPoolExecutor

import pytest

from sim.cancel import CancellableProgress, WorkCancelled
from sim.guarantee import desk_study
from tests.unit.test_guarantee import ONE_YEAR, _small_shop_inputs


class _Value:
    def __init__(self) -> None:
        self.value = 0.0

    def set(self, value: float) -> None:
        self.value = value


def test_progress_is_recorded_until_cancelled() -> None:
    done, cancelled = _Value(), threading.Event()
    progress = CancellableProgress(done, cancelled)
    progress(0.25)
    assert done.value == 0.25
    cancelled.set()
    with pytest.raises(WorkCancelled):
        progress(0.5)
    assert done.value == 0.25


def test_a_cancelled_desk_study_stops_at_its_first_report() -> None:
    cancelled = threading.Event()
    cancelled.set()
    with pytest.raises(WorkCancelled):
        desk_study(_small_shop_inputs(ONE_YEAR), 12, 2, 1.0, 4.0, 3,
                   CancellableProgress(_Value(), cancelled))


@pytest.mark.slow
def test_cancelling_frees_the_worker_process_for_the_next_run() -> None:
    """The page's path: spawned worker, manager proxies; cancel mid-run, then run again."""
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, ProcessPoolExecutor(1, mp_context=context) as pool:
        done, cancelled = manager.Value("d", 0.0), manager.Event()
        first = pool.submit(desk_study, _small_shop_inputs(ONE_YEAR), 60, 2, 1.0, 4.0, 3,
                            CancellableProgress(done, cancelled))
        deadline = time.monotonic() + 60
        while done.get() == 0.0 and time.monotonic() < deadline:
            time.sleep(0.01)
        cancelled.set()
        with pytest.raises(WorkCancelled):
            first.result(timeout=60)
        assert done.get() < 1.0
        second = pool.submit(desk_study, _small_shop_inputs(ONE_YEAR), 12, 2, 1.0, 4.0, 3)
        assert second.result(timeout=120).result.claims > 0
