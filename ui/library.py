"""The scenario library: the folder of YAML files the app lists, opens and saves into.

The folder is `scenarios/` beside the app, or the one named by the FUNNEL_LAB_SCENARIOS
environment variable. Files are addressed by their stem (``baseline`` for ``baseline.yaml``);
stems are restricted to safe characters so that nothing outside the folder can be named.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from sim.scenario import Scenario, ScenarioError, load_scenario_file

APP_ROOT = Path(__file__).resolve().parent.parent
STEM_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,79}$")


def library_dir() -> Path:
    """Return the folder that holds the scenario files."""
    configured = os.environ.get("FUNNEL_LAB_SCENARIOS")
    return Path(configured).expanduser().resolve() if configured else APP_ROOT / "scenarios"


def scenario_path(stem: str) -> Path:
    """Return the path of a library file by stem; ValueError for an unsafe stem."""
    if not STEM_PATTERN.match(stem):
        raise ValueError(f"{stem!r} is not a scenario file name (letters, digits, - and _)")
    return library_dir() / f"{stem}.yaml"


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
    """One library file: its stem, the scenario (or the problems that stop it loading)."""

    stem: str
    scenario: Scenario | None
    problems: tuple[str, ...]
    modified_ns: int


def read_entry(stem: str) -> LibraryEntry:
    """Load one library file; problems are returned, never raised."""
    path = scenario_path(stem)
    try:
        modified = path.stat().st_mtime_ns
    except OSError:
        return LibraryEntry(stem, None, (f"(file): {path.name} does not exist",), 0)
    try:
        return LibraryEntry(stem, load_scenario_file(path), (), modified)
    except ScenarioError as error:
        return LibraryEntry(stem, None, tuple(error.problems), modified)
