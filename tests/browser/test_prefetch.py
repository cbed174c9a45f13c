"""The background computation of a page's likely next views (ui/prefetch.py) on a real server:
once the Guarantee page is shown, the lengths one slider step either side are computed without
anyone asking, so the presenter's step finds everything cached and shows the same answer a link
to that length shows."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import yaml
from playwright.sync_api import Browser

from tests.browser.helpers import (
    REPO_ROOT,
    app_errors,
    open_page,
    streamlit_server,
    wait_for_app,
    wait_for_quiet_runs,
)
from ui.runs import COUNT_RUNS_ENV

pytestmark = pytest.mark.browser

#: Longest wait for the page and its neighbours on the NumPy engine (seconds).
LIMIT_S = 240.0
#: The neighbours count as computed when nothing new was computed for this long (the prefetch
#: waits ui.prefetch.OPEN_PAUSE_S after a page opens).
QUIET_S = 12.0


def _answer(page) -> str:
    return page.locator(".st-key-answer").inner_text()


def test_a_length_step_finds_its_neighbours_computed(browser: Browser, tmp_path: Path) -> None:
    library = tmp_path / "scenarios"
    library.mkdir()
    scenario = yaml.safe_load((REPO_ROOT / "scenarios" / "guarantee.yaml").read_text())
    scenario["simulation"]["trials"] = 300  # the NumPy engine in tests: keep each length short
    (library / "guarantee.yaml").write_text(yaml.safe_dump(scenario, sort_keys=False))
    counted = tmp_path / "runs.tsv"
    env = {"FUNNEL_LAB_SCENARIOS": str(library), "FUNNEL_LAB_PREFETCH": "1",
           COUNT_RUNS_ENV: str(counted)}
    with streamlit_server(REPO_ROOT / "serve.py", cwd=REPO_ROOT, env=env) as base_url:
        # The break-even section draws the lift map; the prefetch opens its section too.
        page = open_page(browser, base_url,
                         "/guarantee?scenario=guarantee&guarantee_section=Break-even", wait=False)
        try:
            wait_for_app(page, timeout=LIMIT_S * 1000)
            assert app_errors(page) == []
            # The page draws the longest length (the default) and computes its map; the
            # prefetch computes the map of the only step from there, 4 years, with nobody
            # asking (it may finish before the page does).
            before = wait_for_quiet_runs(counted, QUIET_S, LIMIT_S)
            assert [name for name, _ in before].count("ui.guarantee.lift_map_for") == 2, before

            thumb = page.get_by_role("slider").first
            thumb.focus()
            thumb.press("ArrowLeft")
            page.wait_for_function(
                "() => /4-year/.test(document.querySelector('.st-key-answer')?.innerText || '')",
                timeout=LIMIT_S * 1000)
            wait_for_app(page, timeout=LIMIT_S * 1000)
            assert app_errors(page) == []
            assert parse_qs(urlparse(page.url).query)["guarantee_days"] == ["4 years"]
            stepped = _answer(page)
            # The step computed nothing of its own: what follows it is the prefetch of the next
            # step down (3 years), one of each. Had the step missed the cache, its own length's
            # runs, break-even and map would be here too.
            after = wait_for_quiet_runs(counted, QUIET_S, LIMIT_S)[len(before):]
            names = [name for name, _ in after]
            for name in ("ui.guarantee.length_runs", "ui.guarantee.break_even_for",
                         "ui.guarantee.lift_map_for"):
                assert names.count(name) == 1, (name, after)
            assert not set(after) & set(before), after
        finally:
            page.context.close()
        # The same answer as a link to that length opened afresh.
        shared = open_page(browser, base_url, f"/guarantee?{urlparse(page.url).query}",
                           wait=False)
        try:
            wait_for_app(shared, timeout=LIMIT_S * 1000)
            assert _answer(shared) == stepped
        finally:
            shared.context.close()
