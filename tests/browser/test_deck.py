"""Presenter deck in a real browser (issue 15): every slide reached with the arrow keys fits
1920x1080 and 1280x720 (no scrolling, nothing wider than its box, charts inside their boxes
with text of at least 16 px, nothing cut with "…", legends with visible symbols), shows its
number, and the Overview slide shows the Overview page's numbers; at 800x900 the sidebar is
collapsed, no metric or button is cut off and the split map keeps the page's width."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page

from tests.browser.helpers import ARTIFACTS_DIR, app_errors, wait_for_app
from ui.answers import SLIDES

DECK_DIR = ARTIFACTS_DIR / "deck"
LINK = "/?present=1&trials=1000&seed=7"

# The app's scroll container, and elements in the main block wider than their own box (SVG
# text is measured by the chart, not by CSS boxes, so it is left out).
_FIT_JS = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  const block = document.querySelector('[data-testid="stMainBlockContainer"]') || main;
  const wide = [...block.querySelectorAll('*')].filter(el =>
      !(el instanceof SVGElement) && el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1
      && getComputedStyle(el).overflowX !== 'auto')
    .map(el => (el.getAttribute('data-testid') || el.tagName) + ': '
         + (el.innerText || '').slice(0, 60));
  return {scroll: main.scrollHeight, client: main.clientHeight, wide: wide};
}"""


# Every chart on the slide (Vega draws SVG): its drawing inside its box, its smallest text,
# text Vega cut short with "…", legend labels, and legend symbols drawn with neither fill nor
# stroke (the split map's marker legend once showed its names beside blank symbols).
_CHARTS_JS = """() => [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')]
  .filter(chart => chart.getBoundingClientRect().height > 0).map(chart => {
    const frame = chart.parentElement.getBoundingClientRect();
    const svg = chart.querySelector('svg');
    if (!svg) return {svg: false};
    const drawn = svg.getBoundingClientRect();
    const texts = [...svg.querySelectorAll('text')].filter(t => t.textContent.trim());
    const blank = v => !v || ['none', 'transparent', 'white', '#fff', '#ffffff']
      .includes(v.trim().toLowerCase());
    return {
      svg: true,
      fits: drawn.left >= frame.left - 1 && drawn.right <= frame.right + 1
            && drawn.height <= chart.getBoundingClientRect().height + 1,
      smallest: Math.min(...texts.map(t => parseFloat(getComputedStyle(t).fontSize))),
      cut: texts.map(t => t.textContent).filter(t => t.endsWith('\u2026')),
      legend: [...svg.querySelectorAll('.role-legend-label text')].map(t => t.textContent),
      blank: [...svg.querySelectorAll('.role-legend-symbol path')].filter(
        p => blank(p.getAttribute('fill')) && blank(p.getAttribute('stroke'))).length,
    };
  })"""
#: Smallest chart text (px) on a slide: axis labels and titles readable from the back of a room.
MIN_CHART_TEXT_PX = 16


def _slide_number(page: Page) -> str:
    return page.locator(".slide-number").inner_text()


def _wait_for_slide(page: Page, number: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        wait_for_app(page)
        if page.locator(".slide-number").count() and _slide_number(page) == number:
            return
        time.sleep(0.5)
    raise AssertionError(f"slide {number} did not open; at {page.url}")


@pytest.mark.parametrize("size", [(1920, 1080), (1280, 720)])
def test_walk_the_deck_with_the_arrow_keys(open_app, size) -> None:
    width, height = size
    page = open_app(LINK, wait=False)
    page.set_viewport_size({"width": width, "height": height})
    DECK_DIR.mkdir(parents=True, exist_ok=True)
    total = len(SLIDES)
    for index, slide in enumerate(SLIDES, start=1):
        _wait_for_slide(page, f"{index} / {total}")
        assert not app_errors(page), slide.name
        assert f"/{slide.url_path}" in page.url or (index == 1 and "present=1" in page.url)
        assert "present=1" in page.url and "trials=1000" in page.url and "seed=7" in page.url
        fit = page.evaluate(_FIT_JS)
        page.screenshot(path=str(DECK_DIR / f"{index}-{slide.name}-{width}x{height}.png"))
        assert fit["scroll"] <= fit["client"] + 2, (slide.name, fit)
        assert not fit["wide"], (slide.name, fit["wide"])
        charts = page.evaluate(_CHARTS_JS)
        assert charts, slide.name
        for chart in charts:
            assert chart["svg"] and chart["fits"], (slide.name, chart)
            assert chart["smallest"] >= MIN_CHART_TEXT_PX, (slide.name, chart["smallest"])
            assert not chart["cut"], (slide.name, chart["cut"])
            assert not chart["blank"], (slide.name, chart)
        if slide.name == "budget_split":
            assert {"6:3:1 rule", "Best cell"} <= set(charts[0]["legend"]), charts[0]["legend"]
        if index < total:
            page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowLeft")
    _wait_for_slide(page, f"{total - 1} / {total}")


def test_overview_slide_shows_the_pages_numbers(open_app) -> None:
    slide = open_app(LINK)
    normal = open_app(LINK.replace("present=1&", ""))
    sentence = slide.locator(".st-key-answer").inner_text().strip()
    assert sentence == normal.locator(".st-key-answer").first.inner_text().strip()
    values = slide.locator("[data-testid='stMetricValue']").all_inner_texts()
    assert values and values == normal.locator(
        "[data-testid='stMetricValue']").all_inner_texts()


def test_narrow_window_collapses_the_sidebar_and_keeps_metrics_whole(browser, app_server):
    context = browser.new_context(viewport={"width": 800, "height": 900})
    page = context.new_page()
    try:
        page.goto(app_server + "/guarantee?trials=500")
        wait_for_app(page)
        time.sleep(1.5)
        # Collapsed: the sidebar is moved off the left edge (or not drawn at all).
        right = page.evaluate("""() => {
            const side = document.querySelector('[data-testid="stSidebar"]');
            return side ? side.getBoundingClientRect().right : 0; }""")
        assert right <= 2, right
        cut = page.evaluate("""() => [...document.querySelectorAll(
            '[data-testid="stMetric"] *')].filter(el => getComputedStyle(el).textOverflow
            === 'ellipsis' && el.scrollWidth > el.clientWidth).map(el => el.innerText)""")
        assert not cut
        page.screenshot(path=str(DECK_DIR / "narrow-800x900.png"))
        # The Budget split page: the Save button shows its whole text, the map keeps the
        # page's width (its notes go below it) instead of a strip beside them.
        page.goto(app_server + "/budget-split?trials=500&split_section=Every+split")
        wait_for_app(page, timeout=180_000)
        save = page.locator(".st-key-split_save button").first
        assert save.inner_text().strip().endswith("Save to baseline.yaml")
        assert save.evaluate("el => el.scrollWidth <= el.clientWidth + 1")
        assert save.locator("p").evaluate(
            "el => getComputedStyle(el).textOverflow !== 'ellipsis' || "
            "el.scrollWidth <= el.clientWidth")
        chart = page.locator(".st-key-split_map [data-testid='stVegaLiteChart']").first
        chart.scroll_into_view_if_needed()
        assert chart.bounding_box()["width"] >= 700
        chart.screenshot(path=str(DECK_DIR / "narrow-split-map-800x900.png"))
    finally:
        context.close()
