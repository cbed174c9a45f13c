"""Share links in a real browser: a link opened in a fresh browser reproduces the numbers."""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

from playwright.sync_api import Page

from tests.browser.helpers import app_errors, wait_for_app


def _answer(page: Page) -> str:
    return page.locator(".st-key-answer").inner_text().strip()


def _share_link(page: Page) -> str:
    return page.locator(".st-key-share code").inner_text().strip()


def _path_and_query(link: str) -> str:
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


def test_shared_link_reproduces_the_headline(open_app, app_server: str) -> None:
    page = open_app("/compare?trials=1000")
    # Change things on the page: another seed in the sidebar, another metric, fewer plans.
    seed = page.get_by_role("spinbutton", name="Seed")
    seed.fill("4242")
    seed.press("Enter")
    wait_for_app(page)
    page.locator(".st-key-compare_metric").click()
    page.get_by_role("option", name="NPV of profit").click()
    wait_for_app(page)
    box = page.locator(".st-key-compare_plans input")
    box.click()
    box.press("Backspace")  # removes the last of the five plans chosen by default
    box.press("Escape")
    wait_for_app(page)
    made = _answer(page)
    assert "NPV of profit" in made and "1,000 simulated futures" in made
    link = _share_link(page)
    # The link is this page's own address (st.context.url) with the view's settings.
    assert link.startswith(f"{app_server}/compare?")
    query = parse_qs(urlsplit(link).query)
    assert query["seed"] == ["4242"] and query["trials"] == ["1000"]
    assert query["compare_metric"] == ["NPV of profit"]
    assert query["compare_plans"] == ["baseline — base plan",
                                      "baseline — 80/20/0 acquisition first",
                                      "baseline — 40/30/30 balanced",
                                      "baseline — 30/60/10 nurture leads"]
    assert not app_errors(page)
    # A fresh browser context (no cookies, no session) opens the link: same sentence.
    other = open_app(_path_and_query(link))
    assert _answer(other) == made
    assert _share_link(other) == link


def test_a_link_naming_a_renamed_plan_opens_it(open_app) -> None:
    """A link made before the shipped variants were named in percent (issue 13) opens the
    same plans, says the plan was renamed, and its share link carries the new name."""
    old = quote("baseline — 4:3:3 balanced")
    page = open_app(f"/compare?trials=500&compare_plans={quote('baseline — base plan')}"
                    f"&compare_plans={old}")
    warning = page.locator("[data-testid='stAlertContentWarning']").inner_text()
    assert "is now called “baseline — 40/30/30 balanced”" in warning
    assert "40/30/30 balanced" in _answer(page)
    query = parse_qs(urlsplit(_share_link(page)).query)
    assert query["compare_plans"] == ["baseline — base plan", "baseline — 40/30/30 balanced"]
    assert not app_errors(page)


def test_field_change_travels_and_reproduces(open_app) -> None:
    page = open_app("/scenario?trials=1000")
    page.get_by_role("tab", name="Orders & guarantee").click()
    days = page.get_by_label("Guarantee length value")
    days.fill("365")
    days.press("Enter")
    wait_for_app(page)
    link = _share_link(page)
    assert "guarantee.days=365" in link
    page.get_by_role("link", name="Overview").click()
    wait_for_app(page)
    made = _answer(page)
    overview_link = _share_link(page)
    assert "guarantee.days=365" in overview_link
    caption = page.get_by_text("changed from the saved file: guarantee.days = 365")
    assert caption.count() == 1
    other = open_app(_path_and_query(overview_link))
    assert _answer(other) == made
    fresh = open_app("/?trials=1000")
    assert _answer(fresh) != made or "guarantee.days" not in _share_link(fresh)


def test_bad_link_says_what_was_wrong_and_falls_back(open_app) -> None:
    page = open_app("/compare?trials=many&guarantee.days=99999&scenario=nope&present=maybe")
    warning = page.locator("[data-testid='stAlertContentWarning']").inner_text()
    assert "trials: expected a whole number from 100 to 20,000 in the app, got 'many'" in warning
    assert "guarantee.days: must be a whole number of days from 1 to 3,650" in warning
    assert "no scenario file named 'nope'" in warning
    assert "present: expected 1 or 0" in warning
    assert "simulated futures" in _answer(page)
    assert not app_errors(page)
    link = _share_link(page)
    assert "guarantee.days" not in link and "scenario=baseline" in link


def test_oversized_link_is_refused(open_app) -> None:
    page = open_app("/?trials=500&guarantee.days=" + "1" * 5000)
    warning = page.locator("[data-testid='stAlertContentWarning']").inner_text()
    assert "more than this app accepts" in warning
    assert "simulated futures" in _answer(page)
    assert "1111" not in page.url, "the refused link's text stays out of the address bar"


def test_link_trials_are_capped(open_app) -> None:
    page = open_app("/?trials=900000")
    warning = page.locator("[data-testid='stAlertContentWarning']").inner_text()
    assert "trials: capped at 20,000" in warning
    assert "trials=20000" in _share_link(page)


def test_the_overview_link_opens_without_a_popup(open_app, app_server: str) -> None:
    """Issue 14: /overview (the Overview's own share link) showed "Page not found"."""
    page = open_app("/overview?trials=500&seed=3")
    assert page.get_by_text("Page not found").count() == 0
    assert "simulated futures" in _answer(page)
    assert not app_errors(page)
    link = _share_link(page)
    assert link.startswith(f"{app_server}/?") and "seed=3" in link and "trials=500" in link
    other = open_app(_path_and_query(link))
    assert other.get_by_text("Page not found").count() == 0
    assert _answer(other) == _answer(page)


def test_unknown_parameters_are_dropped_with_a_note(open_app) -> None:
    page = open_app("/compare?trials=500&foo=bar&compare_metric=banana")
    warning = " ".join(page.locator("[data-testid='stAlertContentWarning']").all_inner_texts())
    assert "foo=bar is not a setting of this page" in warning
    assert "compare_metric: 'banana' is not one of this control's choices" in warning
    assert "foo=" not in page.url and "banana" not in page.url
    link = _share_link(page)
    assert "foo" not in link and "banana" not in link


def test_copy_link_button_copies_the_shown_link(open_app) -> None:
    page = open_app("/compare?trials=1000&seed=77")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    link = _share_link(page)
    button = page.locator(".st-key-share button", has_text="Copy link")
    button.click()
    page.wait_for_function(
        "() => document.querySelector('.st-key-share button.funnel-copy-link')"
        ".textContent === 'Copied'", timeout=5000)
    assert page.evaluate("navigator.clipboard.readText()") == link
    assert "seed=77" in link and "trials=1000" in link
    assert not app_errors(page)
