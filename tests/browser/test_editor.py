"""Scenario page in a real browser: validation beside the field, upload, save, screenshot."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from sim.scenario import load_scenario_file
from tests.browser.helpers import app_errors, screenshot, wait_for_app


def _library(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.yaml"))}


def _type(page: Page, label: str, text: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(text)
    box.press("Enter")
    wait_for_app(page)


def test_bad_upload_shows_problems_and_leaves_library(open_app, scenario_library: Path,
                                                      tmp_path: Path) -> None:
    before = _library(scenario_library)
    page = open_app("/scenario?trials=500")
    bad = tmp_path / "broken.yaml"
    bad.write_text("name: Broken\nbudget: {monthly: -5}\nguarantee: {dayz: 30}\n"
                   "orders: {gross_margin: 1.5}\n")
    page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(str(bad))
    wait_for_app(page)
    error = page.locator("[data-testid='stAlertContentError']").filter(
        has_text="broken.yaml cannot be used").inner_text()
    assert "the library is unchanged" in error
    for path in ("budget.monthly", "guarantee.dayz", "orders.gross_margin"):
        assert path in error
    assert not app_errors(page)
    assert _library(scenario_library) == before
    assert page.get_by_label("Scenario name", exact=True).input_value() == "Online shop, 6:3:1"


def test_build_validate_save_and_share(open_app, scenario_library: Path) -> None:
    page = open_app("/scenario?trials=500")
    page.get_by_role("button", name="New scenario").click()
    wait_for_app(page)
    _type(page, "Scenario name", "Browser built shop")
    page.get_by_role("tab", name="Orders & guarantee").click()
    _type(page, "Guarantee length value", "5000")
    message = page.locator(".st-key-controls [data-testid='stAlertContentError']").filter(
        has_text="guarantee.days: must be a whole number of days from 1 to 3,650")
    assert message.count() >= 1
    assert "problem" in page.locator(".st-key-answer").inner_text()
    screenshot(page, "scenario-editor-problem")
    _type(page, "Guarantee length value", "365")
    assert page.locator("[data-testid='stAlertContentError']").count() == 0
    page.get_by_role("button", name="Save browser-built-shop.yaml").click()
    wait_for_app(page)
    saved = scenario_library / "browser-built-shop.yaml"
    assert saved.exists()
    scenario = load_scenario_file(saved)
    assert (scenario.name, scenario.guarantee.days) == ("Browser built shop", 365)
    assert "saved in browser-built-shop.yaml" in page.locator(".st-key-answer").inner_text()
    link = page.locator(".st-key-share code").inner_text().strip()
    assert "scenario=browser-built-shop" in link
    screenshot(page, "scenario-editor")
    assert not app_errors(page)


def _nav(page: Page, title: str) -> None:
    """Go to a page through the sidebar menu, as a user does."""
    page.locator("[data-testid='stSidebarNav']").get_by_role("link", name=title,
                                                              exact=True).click()
    wait_for_app(page)


def _variant_names(page: Page) -> list[str]:
    page.get_by_role("tab", name="Variants").click()
    boxes = page.get_by_label("Variant name", exact=True)
    return [boxes.nth(i).input_value() for i in range(boxes.count())]


@pytest.fixture
def baseline_restored(scenario_library: Path) -> Iterator[None]:
    """Put the session library's baseline.yaml back after a test that saves over it: the
    library is shared by every browser test, and later ones expect the shipped variants."""
    path = scenario_library / "baseline.yaml"
    original = path.read_bytes()
    yield
    path.write_bytes(original)


def test_variants_survive_the_menu_and_a_reload_starts_from_the_file(
        open_app, scenario_library: Path, baseline_restored: None) -> None:
    """The lost-variant steps (issue 14) with real clicks. A reload of the tab starts a new
    Streamlit session: unsaved names and variants are gone (the field changes travel in the
    address), so the editor shows the saved file again - the chosen behaviour."""
    page = open_app("/scenario?trials=500")
    shipped = _variant_names(page)
    page.get_by_role("button", name="Add a variant").click()
    wait_for_app(page)
    names = page.get_by_label("Variant name", exact=True)
    names.last.fill("Longer guarantee")
    names.last.press("Enter")
    wait_for_app(page)
    changes = page.get_by_label("Changes from the base plan (dotted.path: value)", exact=True)
    changes.last.fill("guarantee.days: 90")
    changes.last.press("Control+Enter")
    wait_for_app(page)
    names.first.fill("Renamed first")
    names.first.press("Enter")
    wait_for_app(page)
    _nav(page, "Guarantee")
    notice = page.locator(".st-key-unsaved_notice")
    assert "Unsaved changes in the Scenario editor (baseline.yaml)" in notice.inner_text()
    assert notice.get_by_role("link", name="Back to the Scenario editor").count() == 1
    _nav(page, "Scenario")
    assert _variant_names(page) == ["Renamed first", *shipped[1:], "Longer guarantee"]
    assert changes.last.input_value() == "guarantee.days: 90"
    page.get_by_role("button", name="Save baseline.yaml").click()
    wait_for_app(page)
    page.get_by_role("button", name="Replace it").click()
    wait_for_app(page)
    text = (scenario_library / "baseline.yaml").read_text()
    assert "New variant" not in text
    saved = load_scenario_file(scenario_library / "baseline.yaml")
    assert saved.variants["Longer guarantee"] == {"guarantee": {"days": 90}}
    assert "Renamed first" in saved.variants and shipped[0] not in saved.variants
    assert page.locator(".st-key-controls [data-testid='stAlertContentSuccess']").filter(
        has_text="Saved baseline.yaml.").count() == 1
    assert str(scenario_library) not in page.locator("body").inner_text()
    # An unsaved rename, then a reload: a new session, so the editor shows the saved file.
    _variant_names(page)
    names.first.fill("Unsaved rename")
    names.first.press("Enter")
    wait_for_app(page)
    page.reload()
    wait_for_app(page)
    assert _variant_names(page)[0] == "Renamed first"
    assert (scenario_library / "baseline.yaml").read_text() == text
    assert not app_errors(page)
