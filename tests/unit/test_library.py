"""The scenario library: safe file names, byte-exact round trips, atomic and locked saves."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import ui.library as library
from sim.scenario import (
    Scenario,
    apply_overrides,
    dump_scenario,
    load_scenario_file,
    load_scenario_text,
)
from tests.conftest import REPO_ROOT
from ui.library import (
    STEM_PATTERN,
    ScenarioConflictError,
    ScenarioExistsError,
    list_stems,
    read_entry,
    save_scenario,
    scenario_path,
    slugify,
)


@pytest.fixture
def lib(fresh_scenario_library: Path) -> Path:
    """A private copy of scenarios/ as the library folder."""
    return fresh_scenario_library


def _leftovers(folder: Path) -> list[str]:
    """Temporary files a save may have left behind."""
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.mark.parametrize(("name", "stem"), [
    ("Online shop, 6:3:1", "online-shop-6-3-1"),
    ("  Café été — 5-year guarantee!! ", "cafe-ete-5-year-guarantee"),
    ("../../etc/passwd", "etc-passwd"),
    ("日本のお店", "scenario"),
    ("", "scenario"),
    ("A" * 300, "a" * 80),
])
def test_slugify_gives_safe_stems(name: str, stem: str) -> None:
    assert slugify(name) == stem
    assert STEM_PATTERN.match(slugify(name))


def test_unsafe_stem_is_refused(lib: Path) -> None:
    before = sorted(p.name for p in lib.parent.rglob("*"))
    for stem in ("../baseline", "Baseline", "a/b", "", ".hidden"):
        with pytest.raises(ValueError, match="not a scenario file name"):
            save_scenario(stem, Scenario())
    assert sorted(p.name for p in lib.parent.rglob("*")) == before


def test_save_round_trips_byte_for_byte(lib: Path, shipped_scenarios: list[Path]) -> None:
    for shipped in shipped_scenarios:
        scenario = load_scenario_file(shipped)
        stem = f"copy-{shipped.stem}"
        path = save_scenario(stem, scenario)
        assert path == lib / f"{stem}.yaml"
        first = path.read_bytes()
        assert first == dump_scenario(scenario).encode()
        reloaded = load_scenario_file(path)
        assert reloaded == scenario
        entry = read_entry(stem)
        save_scenario(stem, reloaded, expected_mtime_ns=entry.modified_ns)
        assert path.read_bytes() == first
    assert _leftovers(lib) == []


def test_existing_file_needs_overwrite(lib: Path) -> None:
    before = (lib / "baseline.yaml").read_bytes()
    with pytest.raises(ScenarioExistsError, match=r"baseline\.yaml already exists"):
        save_scenario("baseline", Scenario(name="Other"))
    assert (lib / "baseline.yaml").read_bytes() == before
    save_scenario("baseline", Scenario(name="Other"), overwrite=True)
    assert load_scenario_file(lib / "baseline.yaml").name == "Other"


def test_file_changed_on_disk_is_never_overwritten(lib: Path) -> None:
    opened = read_entry("baseline")
    mine = apply_overrides(opened.scenario, {"guarantee.days": 365})
    # Someone else saves the file after we opened it.
    theirs = apply_overrides(opened.scenario, {"guarantee.days": 90})
    time.sleep(0.01)
    save_scenario("baseline", theirs, overwrite=True)
    their_bytes = (lib / "baseline.yaml").read_bytes()
    with pytest.raises(ScenarioConflictError, match="changed on disk"):
        save_scenario("baseline", mine, expected_mtime_ns=opened.modified_ns)
    with pytest.raises(ScenarioConflictError):
        save_scenario("baseline", mine, expected_mtime_ns=opened.modified_ns,
                      expected_sha256=opened.sha256)
    assert (lib / "baseline.yaml").read_bytes() == their_bytes
    assert load_scenario_file(lib / "baseline.yaml").guarantee.days == 90


def test_deleted_file_is_a_conflict(lib: Path) -> None:
    opened = read_entry("guarantee")
    (lib / "guarantee.yaml").unlink()
    with pytest.raises(ScenarioConflictError, match="deleted"):
        save_scenario("guarantee", opened.scenario, expected_mtime_ns=opened.modified_ns)
    assert not (lib / "guarantee.yaml").exists()


def test_touch_without_change_is_not_a_conflict(lib: Path) -> None:
    opened = read_entry("baseline")
    path = lib / "baseline.yaml"
    os.utime(path, ns=(opened.modified_ns + 10**9, opened.modified_ns + 10**9))
    changed = apply_overrides(opened.scenario, {"guarantee.days": 60})
    save_scenario("baseline", changed, expected_mtime_ns=opened.modified_ns,
                  expected_sha256=opened.sha256)
    assert load_scenario_file(path).guarantee.days == 60


@pytest.mark.parametrize("failing", ["replace", "fsync", "write"])
def test_crash_mid_write_keeps_old_file_whole(lib: Path, monkeypatch: pytest.MonkeyPatch,
                                              failing: str) -> None:
    path = lib / "baseline.yaml"
    before = path.read_bytes()
    opened = read_entry("baseline")
    changed = apply_overrides(opened.scenario, {"guarantee.days": 365})

    def crash(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    # A context of its own: undoing it must not undo the library folder's setting.
    with monkeypatch.context() as patch:
        if failing == "write":
            real_fdopen = os.fdopen

            def half_write(fd: int, mode: str = "r", *args: object, **kwargs: object):
                handle = real_fdopen(fd, mode, *args, **kwargs)
                real_write = handle.write

                def write(data: bytes) -> int:
                    real_write(data[: len(data) // 2])
                    raise OSError(28, "No space left on device")

                handle.write = write  # type: ignore[method-assign]
                return handle

            patch.setattr(library.os, "fdopen", half_write)
        else:
            patch.setattr(library.os, failing, crash)
        with pytest.raises(OSError, match="No space left"):
            save_scenario("baseline", changed, expected_mtime_ns=opened.modified_ns)
    assert library.library_dir() == lib
    assert path.read_bytes() == before
    assert load_scenario_text(path.read_bytes()) == opened.scenario
    assert _leftovers(lib) == []
    # The library still works: the next save goes through.
    save_scenario("baseline", changed, expected_mtime_ns=opened.modified_ns)
    assert load_scenario_file(path).guarantee.days == 365


def test_killed_process_mid_save_leaves_old_file(lib: Path) -> None:
    """A process that dies between writing the temporary file and renaming it (power cut,
    kill -9) leaves the old file whole and the library listing unchanged."""
    path = lib / "baseline.yaml"
    before = path.read_bytes()
    stems = list_stems()
    script = (
        "import os, sys\n"
        "import ui.library as library\n"
        "from sim.scenario import apply_overrides\n"
        "entry = library.read_entry('baseline')\n"
        "library.os.replace = lambda *a: os._exit(9)\n"
        "library.save_scenario('baseline', apply_overrides(entry.scenario, "
        "{'guarantee.days': 365}), expected_mtime_ns=entry.modified_ns)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, check=False,
                            env={**os.environ, "FUNNEL_LAB_SCENARIOS": str(lib),
                                 "PYTHONPATH": str(REPO_ROOT)}, timeout=120)
    assert result.returncode == 9
    assert path.read_bytes() == before
    assert list_stems() == stems


def test_racing_saves_never_interleave(lib: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Many threads save two different versions to one file; a slow write widens the window.
    Writes never overlap, readers only ever see a complete version, and the end file is one of
    the two, byte for byte."""
    base = read_entry("baseline").scenario
    versions = [apply_overrides(base, {"guarantee.days": 365, "name": "Version A"}),
                apply_overrides(base, {"guarantee.days": 1825, "name": "Version B"})]
    texts = {dump_scenario(v).encode() for v in versions}
    inside = 0
    overlaps: list[int] = []
    counter_lock = threading.Lock()
    real_write = library._write_atomically

    def slow_write(path: Path, data: bytes) -> None:
        nonlocal inside
        with counter_lock:
            inside += 1
            overlaps.append(inside)
        time.sleep(0.01)
        try:
            real_write(path, data)
        finally:
            with counter_lock:
                inside -= 1

    monkeypatch.setattr(library, "_write_atomically", slow_write)
    seen: list[bytes] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            seen.append((lib / "race.yaml").read_bytes() if (lib / "race.yaml").exists()
                        else b"")

    def writer(index: int) -> None:
        for _ in range(8):
            save_scenario("race", versions[index % 2], overwrite=True)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(6)]
    watcher = threading.Thread(target=reader)
    watcher.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stop.set()
    watcher.join()
    assert max(overlaps) == 1, "two saves wrote at the same time"
    final = (lib / "race.yaml").read_bytes()
    assert final in texts
    assert load_scenario_text(final).name in ("Version A", "Version B")
    assert {s for s in seen if s} <= texts, "a reader saw a partial file"
    assert _leftovers(lib) == []


def test_racing_processes_with_the_same_opened_version(lib: Path, tmp_path: Path) -> None:
    """Two processes both opened the same version and save at once: exactly one wins, the
    other is told about the conflict, and the file is the winner's complete version."""
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "import ui.library as library\n"
        "from sim.scenario import apply_overrides\n"
        "entry = library.read_entry('baseline')\n"
        "days, barrier = int(sys.argv[1]), Path(sys.argv[2])\n"
        "scenario = apply_overrides(entry.scenario, {'guarantee.days': days})\n"
        "(barrier / str(days)).touch()\n"
        "while len(list(barrier.iterdir())) < 2:\n"
        "    time.sleep(0.001)\n"
        "try:\n"
        "    library.save_scenario('baseline', scenario, expected_mtime_ns=entry.modified_ns,"
        " expected_sha256=entry.sha256)\n"
        "    print('saved', days)\n"
        "except library.ScenarioConflictError:\n"
        "    print('conflict', days)\n"
    )
    barrier = tmp_path / "ready"
    barrier.mkdir()
    env = {**os.environ, "FUNNEL_LAB_SCENARIOS": str(lib), "PYTHONPATH": str(REPO_ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", script, str(days), str(barrier)],
                              cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, text=True)
             for days in (365, 1825)]
    outputs = sorted(proc.communicate(timeout=120)[0].strip() for proc in procs)
    outcomes = [line.split()[0] for line in outputs]
    assert sorted(outcomes) == ["conflict", "saved"], outputs
    winner = int(next(line for line in outputs if line.startswith("saved")).split()[1])
    assert load_scenario_file(lib / "baseline.yaml").guarantee.days == winner
    assert _leftovers(lib) == []


def test_listing_ignores_temporary_and_unsafe_files(lib: Path) -> None:
    (lib / ".baseline.abc.tmp").write_text("half a file")
    (lib / "Bad Name.yaml").write_text("name: x\n")
    assert list_stems()[0] == "baseline"
    assert "Bad Name" not in list_stems()
    assert all(STEM_PATTERN.match(stem) for stem in list_stems())
    assert scenario_path("baseline") == lib / "baseline.yaml"
