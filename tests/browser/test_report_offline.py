"""The HTML report opens in Chromium with the network off and shows every chart (issue 15)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, Route

from tests.browser.helpers import ARTIFACTS_DIR
from tests.report_sample import PICTURED, sample_answers, sample_assumptions, sample_meta
from ui.report import report_html

_IMAGES_JS = """() => Array.from(document.images).map(img => ({
  complete: img.complete, width: img.naturalWidth, shown: img.getBoundingClientRect().width}))"""


def test_html_report_shows_every_chart_offline(browser: Browser, tmp_path: Path) -> None:
    answers = sample_answers()
    path = tmp_path / "report.html"
    path.write_bytes(report_html(answers, sample_assumptions(), sample_meta()))
    url = path.as_uri()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    requested: list[str] = []

    def only_the_file(route: Route) -> None:
        requested.append(route.request.url)
        if route.request.url == url:
            route.continue_()
        else:
            route.abort()

    try:
        context.route("**/*", only_the_file)
        context.set_offline(True)
        page = context.new_page()
        page.goto(url, wait_until="load")
        images = page.evaluate(_IMAGES_JS)
        assert len(images) == len(answers) + len(PICTURED)
        for image in images:
            assert image["complete"] and image["width"] > 0 and image["shown"] > 0, image
        # Nothing but the file itself was asked for (pictures are inside it).
        assert requested == [url]
        # Nothing wider than the window at 1280 px.
        assert page.evaluate(
            "() => document.documentElement.scrollWidth <= window.innerWidth")
        for answer in answers:
            assert page.get_by_text(answer.decision, exact=True).is_visible()
        ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS_DIR / "report-offline.png"), full_page=True)
    finally:
        context.close()
