"""Scenario page in a real browser: validation beside the field, upload, save, screenshot."""

from __future__ import annotations

from pathlib import Path

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
    link = page.locator(".st-key-share [data-testid='stCode']").inner_text().strip()
    assert "scenario=browser-built-shop" in link
    screenshot(page, "scenario-editor")
    assert not app_errors(page)
