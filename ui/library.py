"""The scenario library: the folder of YAML files the app lists, opens and saves into.

The folder is `scenarios/` beside the app, or the one named by the FUNNEL_LAB_SCENARIOS
environment variable. Files are addressed by their stem (``baseline`` for ``baseline.yaml``);
stems are restricted to safe characters so that nothing outside the folder can be named.

Saving is atomic and careful: the text goes to a temporary file in the same folder, is flushed
and fsynced, then renamed over the target (readers see the old file or the new one, never half
of one); saves hold an exclusive lock on a lock file in the folder, so two saves never
interleave; an existing file is only replaced when the caller says so, and a file that changed
on disk since it was opened is never silently overwritten.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import tempfile
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PosixPath

from sim.scenario import Scenario, ScenarioError, dump_scenario, load_scenario_file
from sim.yaml_keep import updated_file_text

APP_ROOT = Path(__file__).resolve().parent.parent
STEM_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,79}$")
#: Lock file (in the library folder) that serialises saves.
LOCK_NAME = ".funnel-lab.lock"


class LibraryError(Exception):
    """A save that was refused; the message says why and what to do."""


class ScenarioExistsError(LibraryError):
    """The target file exists and the caller did not ask to overwrite it."""

    def __init__(self, path: Path):
        self.path = path
        super().__init__(f"{path.name} already exists in the library; confirm to overwrite it "
                         "or choose another name")


class ScenarioConflictError(LibraryError):
    """The file changed (or vanished) on disk since it was opened; nothing was written."""

    def __init__(self, path: Path, reason: str):
        self.path = path
        super().__init__(f"{path.name} {reason} since you opened it; nothing was saved. Reload "
                         "it to see the other change, or save under a new name")


def library_dir() -> Path:
    """Return the folder that holds the scenario files."""
    configured = os.environ.get("FUNNEL_LAB_SCENARIOS")
    return Path(configured).expanduser().resolve() if configured else APP_ROOT / "scenarios"


def scenario_path(stem: str) -> Path:
    """Return the path of a library file by stem; ValueError for an unsafe stem."""
    if not STEM_PATTERN.match(stem):
        raise ValueError(f"{stem!r} is not a scenario file name (letters, digits, - and _)")
    return library_dir() / f"{stem}.yaml"


def slugify(name: str) -> str:
    """Return a safe file stem for a scenario name ('Online shop, 6:3:1' -> 'online-shop-6-3-1').

    Lower-case ASCII letters, digits and single hyphens, at most 80 characters; 'scenario' when
    nothing usable is left.
    """
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:80].strip("-")
    return slug or "scenario"


def list_stems() -> list[str]:
    """Return the stems of the library's YAML files, sorted, baseline first when present."""
    folder = library_dir()
    if not folder.is_dir():
        return []
    stems = sorted(p.stem for p in folder.glob("*.yaml") if STEM_PATTERN.match(p.stem))
    if "baseline" in stems:
        stems.remove("baseline")
        stems.insert(0, "baseline")
    return stems


@dataclass(frozen=True)
class LibraryEntry:
    """One library file: its stem, the scenario (or the problems that stop it loading).

    modified_ns is the file's modification time in nanoseconds and sha256 the hash of its bytes
    when it was read (both identify the version that was opened; 0 and "" when missing).
    """

    stem: str
    scenario: Scenario | None
    problems: tuple[str, ...]
    modified_ns: int
    sha256: str = ""


def _fingerprint(path: Path) -> tuple[int, str] | None:
    """Return (mtime_ns, sha256 of the bytes) of a file, or None when it does not exist."""
    try:
        modified = path.stat().st_mtime_ns
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None
    return modified, digest


#: Entries already read, by path and (mtime_ns, size, inode): the sidebar asks for every file
#: on every rerun of every session, and parsing them each time cost 0.1 CPU s per page view.
_ENTRIES: dict[Path, tuple[tuple[int, int, int], LibraryEntry]] = {}
_ENTRIES_LOCK = threading.Lock()
_ENTRIES_KEPT = 256


def read_entry(stem: str) -> LibraryEntry:
    """Load one library file; problems are returned, never raised.

    A file not changed on disk since it was last read (same modification time in
    nanoseconds, size and inode) is not read again.
    """
    path = scenario_path(stem)
    try:
        info = path.stat()
        version = (info.st_mtime_ns, info.st_size, info.st_ino)
    except OSError:
        version = None
    with _ENTRIES_LOCK:
        known = _ENTRIES.get(path)
    if version is not None and known is not None and known[0] == version:
        return known[1]
    entry = _read_entry(stem, path)
    if version is not None and entry.modified_ns == version[0]:
        with _ENTRIES_LOCK:
            if len(_ENTRIES) >= _ENTRIES_KEPT:
                _ENTRIES.clear()
            _ENTRIES[path] = (version, entry)
    return entry


def _read_entry(stem: str, path: Path) -> LibraryEntry:
    fingerprint = _fingerprint(path)
    if fingerprint is None:
        return LibraryEntry(stem, None, (f"(file): {path.name} does not exist",), 0)
    modified, digest = fingerprint
    try:
        return LibraryEntry(stem, load_scenario_file(path), (), modified, digest)
    except ScenarioError as error:
        return LibraryEntry(stem, None, tuple(error.problems), modified, digest)


@contextlib.contextmanager
def _library_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on the library's lock file (blocks until it is free)."""
    with open(folder / LOCK_NAME, "a+b") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def _write_atomically(path: Path, data: bytes) -> None:
    """Write bytes to a temporary file beside `path`, fsync it, then rename it over `path`."""
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.",
                                         suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as temp:
            temp.write(data)
            temp.flush()
            os.fsync(temp.fileno())
        os.chmod(temp_name, 0o644)
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
    # The rename itself is only durable once the folder's entry is on disk.
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


class SavedPath(PosixPath):
    """The path of a saved file; `layout_note` is "" when the file's comments and layout were
    kept (or the file is new), else a sentence saying they could not be, for the page to show."""

    layout_note: str = ""


def save_scenario(stem: str, scenario: Scenario, expected_mtime_ns: int | None = None,
                  overwrite: bool = False, expected_sha256: str | None = None) -> SavedPath:
    """Write the scenario to the library as ``<stem>.yaml`` atomically; return its path.

    A new file gets `dump_scenario(scenario)`; an existing file is patched with
    `sim.yaml_keep.updated_file_text`, so its comments, key order and layout survive (when it
    cannot be patched safely it gets `dump_scenario` and the returned path's `layout_note` says
    so). Either way save -> load -> save is byte-identical.
    - `expected_mtime_ns` (and optionally `expected_sha256`): the version of the file the caller
      opened (from `read_entry`). If the file on disk is no longer that version (changed or
      deleted), ScenarioConflictError is raised and nothing is written. Passing it means "this
      is the file I opened", which counts as permission to replace that same version.
    - Otherwise an existing file is replaced only with `overwrite=True`; else
      ScenarioExistsError.
    ValueError for an unsafe stem. The check and the write happen under one lock, so racing
    saves never interleave: the file ends up as one complete version.
    """
    path = scenario_path(stem)
    data = dump_scenario(scenario).encode("utf-8")
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    with _library_lock(folder):
        on_disk = _fingerprint(path)
        if expected_mtime_ns is not None or expected_sha256 is not None:
            if on_disk is None:
                raise ScenarioConflictError(path, "was deleted or renamed")
            changed = (expected_mtime_ns is not None and on_disk[0] != expected_mtime_ns) or (
                expected_sha256 is not None and on_disk[1] != expected_sha256)
            if changed and on_disk[1] != expected_sha256:
                raise ScenarioConflictError(path, "was changed on disk")
        elif on_disk is not None and not overwrite:
            raise ScenarioExistsError(path)
        saved = SavedPath(path)
        if on_disk is not None:
            data, saved.layout_note = _keeping_layout(path, scenario)
        _write_atomically(path, data)
    return saved


def _keeping_layout(path: Path, scenario: Scenario) -> tuple[bytes, str]:
    """Return the bytes that overwrite `path` keeping what was written in it, and a note ("" or
    why its comments and layout could not be kept)."""
    try:
        kept = updated_file_text(path.read_bytes().decode("utf-8"), scenario)
    except (OSError, UnicodeDecodeError):
        return dump_scenario(scenario).encode("utf-8"), (
            f"{path.name} could not be read as text, so it was rewritten in the standard layout "
            "and its comments could not be kept")
    note = "" if kept.comments_kept else (
        f"Comments could not be kept: {kept.reason}, so {path.name} was rewritten in the "
        "standard layout")
    return kept.text.encode("utf-8"), note
