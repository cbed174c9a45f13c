"""Real browser: the Guarantee page answers, the length slider changes the answer and the link."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from tests.browser.helpers import app_errors, screenshot, wait_for_app

#: The first view runs every length, the sweep and the customer model: allow a slow machine.
SETTLE_MS = 240_000


def _answer(page) -> str:
    return page.locator(".st-key-answer").inner_text()


def test_length_slider_changes_the_break_even_sentence(open_app) -> None:
    page = open_app("/guarantee?scenario=guarantee&trials=1000", wait=False)
    wait_for_app(page, timeout=SETTLE_MS)
    assert not app_errors(page)
    before = _answer(page)
    assert before.startswith("Keep the 30-day guarantee: a 5-year one ")
    assert "of 1,000 futures" in before
    assert "(5.6% by the per-order formula)" in page.locator(".st-key-answer_detail").inner_text()
    # Only the open section is drawn; its tab puts the desk on screen and in the link.
    assert page.get_by_text("Agents for the target wait").count() == 0
    page.get_by_role("tab", name="Returns desk").click()
    page.get_by_text("Agents for the target wait").wait_for(timeout=SETTLE_MS)
    wait_for_app(page, timeout=SETTLE_MS)
    assert not app_errors(page)
    assert parse_qs(urlparse(page.url).query)["guarantee_section"] == ["Returns desk"]

    # The guarantee.yaml lengths: ..., 365, 730, 1095, 1460, 1825. Four steps left: one year.
    thumb = page.get_by_role("slider").first
    thumb.focus()
    for _ in range(4):
        thumb.press("ArrowLeft")
    page.wait_for_function(
        "() => /1-year/.test(document.querySelector('.st-key-answer')?.innerText || '')",
        timeout=SETTLE_MS)
    wait_for_app(page, timeout=SETTLE_MS)
    after = _answer(page)
    assert after.startswith(("Keep the 30-day guarantee: a 1-year one ",
                             "Switch to the 1-year guarantee: ", "Test the 1-year guarantee "))
    assert after != before
    assert not app_errors(page)
    # The chosen length travels in the link, so the link reproduces this sentence.
    assert parse_qs(urlparse(page.url).query)["guarantee_days"] == ["1 year"]
    path = screenshot(page, "guarantee")
    assert path.stat().st_size > 50_000

    shared = open_app(f"/guarantee?{urlparse(page.url).query}", wait=False)
    wait_for_app(shared, timeout=SETTLE_MS)
    assert _answer(shared) == after
