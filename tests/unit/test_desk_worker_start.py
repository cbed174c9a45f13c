"""The returns-desk worker must not run the app's script: Streamlit installs each running page
script as __main__, and a spawned child re-imports __main__ from its file."""

from __future__ import annotations

import contextlib
import multiprocessing
import sys
import types
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from ui.guarantee import _children_without_main


def _start_child_under_script_main(tmp_path: Path, guarded: bool) -> bool:
    """Start one spawned child while __main__ is a 'page script' that leaves a mark when run;
    return whether the child ran it."""
    mark = tmp_path / "script-ran"
    script = tmp_path / "page_script.py"
    script.write_text(f"open({str(mark)!r}, 'w').close()\n", encoding="utf-8")
    fake_main = types.ModuleType("__main__")
    fake_main.__file__ = str(script)  # as Streamlit's ScriptRunner sets it
    saved = sys.modules["__main__"]
    sys.modules["__main__"] = fake_main
    try:
        context = multiprocessing.get_context("spawn")
        with (_children_without_main() if guarded else contextlib.nullcontext()):
            pool = ProcessPoolExecutor(max_workers=1, mp_context=context)
            started = pool.submit(int)
        assert started.result(timeout=60) == 0
        pool.shutdown()
    finally:
        sys.modules["__main__"] = saved
    return mark.exists()


@pytest.mark.slow
def test_a_child_started_by_the_desk_does_not_run_the_page_script(tmp_path: Path) -> None:
    assert not _start_child_under_script_main(tmp_path, guarded=True)


@pytest.mark.slow
def test_without_the_guard_a_spawned_child_runs_the_page_script(tmp_path: Path) -> None:
    # What the guard is for: the race it closes is real (the test above can fail).
    assert _start_child_under_script_main(tmp_path, guarded=False)
