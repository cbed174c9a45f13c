"""Real browser: the Overview page answers in Chromium, and its screenshot is saved."""

from __future__ import annotations

from tests.browser.helpers import app_errors, screenshot


def test_overview_headline_in_browser(open_app) -> None:
    page = open_app("/?trials=2000")
    answer = page.locator(".st-key-answer").inner_text()
    assert "simulated futures" in answer
    assert "2,000" in answer
    assert not app_errors(page)
    # The link in the footer reproduces this view.
    assert "scenario=baseline" in page.url and "trials=2000" in page.url
    path = screenshot(page, "overview")
    assert path.stat().st_size > 10_000
