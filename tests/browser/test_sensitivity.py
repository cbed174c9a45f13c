"""Real browser: the Sensitivity page answers for every shipped scenario, a setting travels in
the link, and screenshots are saved in tests/artifacts/."""

from __future__ import annotations

import pytest

from tests.browser.helpers import app_errors, screenshot, wait_for_app


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("stem", ["baseline", "guarantee", "retention_first"])
def test_sensitivity_answers_with_charts(open_app, stem: str) -> None:
    page = open_app(f"/sensitivity?scenario={stem}&trials=1000")
    assert not app_errors(page)
    answer = page.locator(".st-key-answer").inner_text()
    assert answer.startswith("Choose ")
    assert "flips only if" in answer or "holds with" in answer
    # The first section is the table of deciding inputs; each other section draws its charts
    # when its tab is picked (tornado and variance shares, threshold curve, value of knowing).
    assert page.locator("[data-testid='stTable']").count() == 1
    for section, heading, charts in (("What moves it", "What moves the", 2),
                                     ("When it flips", "When would", 1),
                                     ("Worth knowing", "What is it worth knowing", 1)):
        page.get_by_role("tab", name=section).click()
        page.get_by_role("heading", name=heading).wait_for()
        wait_for_app(page)
        assert not app_errors(page)
        assert page.locator('[data-testid="stVegaLiteChart"]').count() == charts, section
    path = screenshot(page, f"sensitivity_{stem}")
    assert path.stat().st_size > 10_000


@pytest.mark.slow
@pytest.mark.browser
def test_metric_choice_travels_in_the_link(open_app) -> None:
    page = open_app("/sensitivity?scenario=guarantee&trials=1000")
    page.get_by_role("combobox", name="Metric").click()
    page.get_by_role("option", name="NPV of profit").click()
    wait_for_app(page)
    assert "sens_metric=NPV" in page.url
    assert "NPV of profit" in page.locator(".st-key-answer").inner_text()
    # Opening the link in a new browser context shows the same answer.
    again = open_app(page.url.split("127.0.0.1", 1)[1].split("/", 1)[1])
    assert again.locator(".st-key-answer").inner_text() == page.locator(
        ".st-key-answer").inner_text()
    assert not app_errors(again)
