"""The start-up warm-up (ui/warmup.py, ui/headless.py) on a real server: it opens every page of
the library's scenario without a browser, and a person opening a page's link afterwards finds
everything that page computes already cached (the page computes nothing more)."""

from __future__ import annotations

from pathlib import Path

import yaml
from playwright.sync_api import Browser

from tests.browser.helpers import (
    REPO_ROOT,
    app_errors,
    computed_runs,
    open_page,
    streamlit_server,
    wait_for_quiet_runs,
)
from ui.runs import COUNT_RUNS_ENV

#: Longest wait for the warm-up of one small scenario on the NumPy engine (seconds).
WARM_UP_LIMIT_S = 300.0
#: The warm-up counts as finished when nothing new was computed for this long after the last
#: page (Sensitivity, the last link in page order) computed something (its slowest step, the
#: threshold search, takes a few seconds on 300 futures).
QUIET_S = 30.0


def _wait_for_warm_up(counted: Path) -> list[str]:
    """The names of what the warm-up computed, once it finished (the last page's computed)."""
    runs = wait_for_quiet_runs(
        counted, QUIET_S, WARM_UP_LIMIT_S,
        ready=lambda names: any(name.startswith("ui.sensitivity.") for name in names))
    return [name for name, _ in runs]


def test_after_the_warm_up_a_first_link_computes_nothing(browser: Browser,
                                                         tmp_path: Path) -> None:
    library = tmp_path / "scenarios"
    library.mkdir()
    scenario = yaml.safe_load((REPO_ROOT / "scenarios" / "baseline.yaml").read_text())
    scenario["simulation"]["trials"] = 300  # the NumPy engine: keep the warm-up short
    (library / "baseline.yaml").write_text(yaml.safe_dump(scenario, sort_keys=False))
    counted = tmp_path / "runs.tsv"
    env = {"FUNNEL_LAB_SCENARIOS": str(library), "FUNNEL_LAB_WARM_UP": "1",
           COUNT_RUNS_ENV: str(counted)}
    with streamlit_server(REPO_ROOT / "serve.py", cwd=REPO_ROOT, env=env) as base_url:
        warmed = _wait_for_warm_up(counted)
        # Every analysis page's own computations ran, without any browser.
        for name in ("ui.runs.run_scenario", "ui.splits.", "ui.guarantee.length_runs",
                     "ui.retention.run_cohorts", "ui.sensitivity.run_tornado"):
            assert any(done.startswith(name) for done in warmed), (name, sorted(set(warmed)))
        # A visitor's first open of the default links (no query: the first scenario), and of
        # sections other than a page's first (ui.navigation.SECTIONS).
        for link in ("/", "/budget-split", "/guarantee", "/retention", "/sensitivity",
                     "/guarantee?guarantee_section=Every+length",
                     "/guarantee?guarantee_section=Break-even"):
            page = open_page(browser, base_url, link)
            try:
                assert app_errors(page) == [], link
                assert page.locator(".st-key-answer").count() == 1, link
            finally:
                page.context.close()
        assert computed_runs(counted)[len(warmed):] == []
