"""Fixtures shared by every test folder: repository paths and throwaway scenario libraries."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

REPO_ROOT = Path(__file__).resolve().parents[1]
SHIPPED_SCENARIOS = REPO_ROOT / "scenarios"

# No background warm-up in the app under test (ui/warmup.py): tests time nothing and must not
# share the cores with it; the servers the browser tests start inherit this.
os.environ.setdefault("FUNNEL_LAB_WARM_UP", "0")
# Nor the background computation of a page's likely next views (ui/prefetch.py), but for its
# own test, which turns it on.
os.environ.setdefault("FUNNEL_LAB_PREFETCH", "0")
# "auto" runs the NumPy engine in tests (sim/dispatch.py), whichever test loaded the compiled one.
os.environ.setdefault("FUNNEL_LAB_ENGINE", "numpy")

# Property tests: no per-example deadline (2 shared cores make timings noisy). `make test` runs
# the same derandomized examples on every machine, so it passes or fails alike for everyone and a
# failure is reproducible from its log; `make explore` (HYPOTHESIS_PROFILE=explore) draws new
# examples on every run, to hunt for cases nobody has tried (what it finds becomes a test).
settings.register_profile("ci", deadline=None, derandomize=True, print_blob=True)
settings.register_profile("explore", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root (where app.py, sim/ and scenarios/ live)."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def shipped_scenarios() -> list[Path]:
    """The scenario files shipped in scenarios/, sorted by name; fails if there are none."""
    files = sorted(SHIPPED_SCENARIOS.glob("*.yaml"))
    if not files:
        pytest.fail(f"no shipped scenarios in {SHIPPED_SCENARIOS}")
    return files


def _copy_library(target: Path) -> Path:
    shutil.copytree(SHIPPED_SCENARIOS, target)
    return target


@pytest.fixture(scope="session")
def scenario_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A session-wide copy of scenarios/ that the app may save into without touching the repo.

    The browser app server points FUNNEL_LAB_SCENARIOS at it; tests that save must use new names.
    """
    return _copy_library(tmp_path_factory.mktemp("library") / "scenarios")


@pytest.fixture
def fresh_scenario_library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of scenarios/ private to one test (for tests that save, overwrite or delete).

    FUNNEL_LAB_SCENARIOS points at it for the test, so the app and the CLI use it too.
    """
    library = _copy_library(tmp_path / "scenarios")
    monkeypatch.setenv("FUNNEL_LAB_SCENARIOS", str(library))
    return library


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded NumPy generator for test data (not for the engine, which seeds itself)."""
    return np.random.default_rng(20261122)
