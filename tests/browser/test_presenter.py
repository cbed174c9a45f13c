"""Presenter mode in a real browser: inputs hidden, large type, a way back, a screenshot."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.browser.helpers import app_errors, screenshot, wait_for_app


def _px(page: Page, selector: str, prop: str = "font-size") -> float:
    value = page.locator(selector).first.evaluate(
        f"el => getComputedStyle(el).getPropertyValue('{prop}')")
    return float(value.removesuffix("px"))


def test_presenter_mode_compare(open_app) -> None:
    page = open_app("/compare?present=1&trials=1000")
    assert not app_errors(page)
    assert not page.locator("[data-testid='stSidebar']").is_visible()
    assert not page.locator(".st-key-controls").is_visible()
    assert not page.locator(".st-key-share").is_visible()
    answer = page.locator(".st-key-answer")
    assert answer.is_visible() and "simulated futures" in answer.inner_text()
    assert _px(page, ".st-key-answer p") >= 30  # readable from the back of the room
    assert _px(page, ".st-key-slide_footer p") >= 18
    footer = page.locator(".st-key-slide_footer").inner_text()
    assert "Online shop, 6:3:1" in footer and "seed 20261122" in footer
    assert "1,000 trials" in footer
    assert page.locator("[data-testid='stVegaLiteChart']:visible").count() == 1  # one chart
    path = screenshot(page, "presenter-compare")
    assert path.stat().st_size > 10_000
    page.get_by_role("button", name="Leave", exact=True).click()
    wait_for_app(page)
    assert page.locator("[data-testid='stSidebar']").is_visible()
    assert page.locator(".st-key-controls").is_visible()
    assert "present=" not in page.url
    assert _px(page, ".st-key-answer p") < 30


def test_presenter_mode_scenario_page_is_read_only(open_app) -> None:
    page = open_app("/scenario?present=1&trials=1000&guarantee.days=365")
    assert not app_errors(page)
    assert page.locator("input[type='text']:visible").count() == 0
    assert page.locator("[data-testid='stFileUploader']").count() == 0
    assert "365 days" in page.locator("[data-testid='stTable']").inner_text()
    assert "not saved yet" in page.locator(".st-key-answer").inner_text()
    screenshot(page, "presenter-scenario")


def test_presenter_toggle_puts_present_in_the_link(open_app) -> None:
    page = open_app("/?trials=500")
    page.get_by_text("Presenter mode").click()
    wait_for_app(page)
    assert "present=1" in page.url
    assert not page.locator("[data-testid='stSidebar']").is_visible()
    assert page.get_by_role("button", name="Leave", exact=True).is_visible()
