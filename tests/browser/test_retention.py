"""Real browser: the Retention page answers, the share slider moves the looked-at column, and an
uploaded cohort table is fitted and only changes the scenario after "Use this fit"."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from playwright.sync_api import Page

from sim.cohorts import read_and_fit
from tests.browser.helpers import REPO_ROOT, app_errors, metric_value, screenshot, wait_for_app

#: The first view runs the whole share sweep, the what-ifs and the cohorts: allow a slow machine.
SETTLE_MS = 240_000
EXAMPLE_CSV = REPO_ROOT / "scenarios" / "examples" / "cohorts_example.csv"
SHARE_SLIDER = "Look at a share for existing buyers (hot)"


def _answer(page: Page) -> str:
    return page.locator(".st-key-answer").inner_text()


def _link(page: Page) -> str:
    return page.locator(".st-key-share code").inner_text().strip()


def _pct(text: str) -> float:
    return float(text.strip().rstrip("%"))


def test_share_slider_and_cohort_calibration(open_app) -> None:
    # 1. The page answers.
    page = open_app("/retention?scenario=baseline&trials=1000&retention_section=Unit+economics",
                    wait=False)
    wait_for_app(page, timeout=SETTLE_MS)
    assert not app_errors(page)
    answer = _answer(page)
    assert answer.startswith(("Move to ", "Test ", "Keep ")), answer
    assert "1,000 futures" in answer or answer.startswith("Keep ")
    assert page.get_by_role("heading", name="Calibrate churn from your own cohort table").count()
    churn_caption = page.get_by_text("The scenario's churn today (medians):")
    assert churn_caption.count() == 1
    old_churn = churn_caption.inner_text()
    assert "constant" in old_churn  # baseline.yaml has a constant monthly churn
    assert "hot.churn" not in _link(page)
    path = screenshot(page, "retention")
    assert path.stat().st_size > 50_000

    # 2. The share slider: three steps right and one back, two grid steps (5 points each) up
    #    from the best share, which then gets its own "Looking at" column and cohort charts.
    thumb = page.get_by_role("slider", name=SHARE_SLIDER)
    start = _pct(thumb.get_attribute("aria-valuetext"))
    assert 0 <= start <= 70, "the best share leaves no room to look two steps to the right"
    thumb.focus()
    for key in ("ArrowRight", "ArrowRight", "ArrowRight", "ArrowLeft"):
        thumb.press(key)
    looked = start + 10
    label = f"{looked:g}%"
    page.wait_for_function(
        """(label) => [...document.querySelectorAll(
              '[data-testid="stDataFrame"] [role="columnheader"]')]
            .some(h => h.innerText.startsWith('Looking at ' + label + ' ('))""",
        arg=label, timeout=SETTLE_MS)
    wait_for_app(page, timeout=SETTLE_MS)
    assert not app_errors(page)
    assert thumb.get_attribute("aria-valuetext") == label
    headers = page.locator("[data-testid='stDataFrame'] [role='columnheader']").all_inner_texts()
    assert [h.split(" (")[0] for h in headers] == [
        "Median over futures", "Today 10%", f"Best {start:g}%", f"Looking at {label}"]
    page.get_by_role("tab", name="Cohorts").click()
    page.get_by_text(f"Looking at {label} (", exact=False).first.wait_for(timeout=SETTLE_MS)
    wait_for_app(page, timeout=SETTLE_MS)
    assert not app_errors(page)
    assert parse_qs(urlparse(page.url).query)["retention_section"] == ["Cohorts"]
    assert parse_qs(urlparse(page.url).query)["retention_share"] == [label]
    assert _answer(page) == answer  # looking at a share does not change the best one

    # 3. Upload the example cohort table: the fit is shown, the scenario is untouched.
    charts_before = page.locator("[data-testid='stVegaLiteChart']").count()
    page.locator(".st-key-retention_upload input[type='file']").set_input_files(str(EXAMPLE_CSV))
    apply_button = page.get_by_role("button", name="Use this fit")
    apply_button.wait_for(timeout=SETTLE_MS)
    wait_for_app(page, timeout=SETTLE_MS)
    assert not app_errors(page)
    assert page.locator("[data-testid='stAlertContentError']").count() == 0
    alpha, beta = float(metric_value(page, "alpha")), float(metric_value(page, "beta"))
    assert 0 < alpha < 1000 and 0 < beta < 1000
    expected = read_and_fit(EXAMPLE_CSV.read_bytes()).fit
    assert (f"{alpha:.3f}", f"{beta:.3f}") == (f"{expected.alpha:.3f}", f"{expected.beta:.3f}")
    churn = _pct(metric_value(page, "First-month churn"))
    assert abs(churn - 100 * alpha / (alpha + beta)) < 0.1
    assert metric_value(page, "Cohorts / months") == "6 / 7"
    # Page charts are drawn on a canvas (ui.chart_specs.CANVAS): the fit chart's legend is pixels,
    # so the chart is found by its key and must have been drawn; its two series and their
    # names are checked in tests/app/test_retention.py.
    fit_chart = page.locator(".st-key-retention_fit [data-testid='stVegaLiteChart'] canvas")
    assert fit_chart.count() == 1
    assert fit_chart.bounding_box()["width"] > 300 and fit_chart.bounding_box()["height"] > 200
    assert page.locator("[data-testid='stVegaLiteChart']").count() == charts_before + 1
    assert page.get_by_text("cohorts_example.csv: 6 cohorts (long layout)").count() == 1
    button_text = apply_button.inner_text()
    assert f"hot.churn.sbg (alpha {alpha:.3f}, beta {beta:.3f})" in button_text
    # Nothing in the scenario changed yet: same answer, no churn change in the link or address.
    assert _answer(page) == answer
    assert "hot.churn" not in _link(page)
    assert "hot.churn" not in page.url
    assert page.locator("[data-testid='stAlertContentSuccess']").count() == 0

    # Use the fit: the page says so, the link carries it and the simulation runs with it.
    apply_button.click()
    page.locator("[data-testid='stAlertContentSuccess']").filter(
        has_text="Churn now follows hot.churn.sbg").wait_for(timeout=SETTLE_MS)
    wait_for_app(page, timeout=SETTLE_MS)
    assert not app_errors(page)
    link = _link(page)
    query = parse_qs(urlparse(link).query)
    assert abs(float(query["hot.churn.sbg.alpha"][0]) - alpha) < 5e-4
    assert abs(float(query["hot.churn.sbg.beta"][0]) - beta) < 5e-4
    assert "hot.churn.sbg.alpha" in page.url
    assert _answer(page) != answer  # a new churn model gives new numbers
    path = screenshot(page, "retention-calibration")
    assert path.stat().st_size > 50_000

    # The link reproduces the fitted churn: without an upload the caption names it.
    shared = open_app(f"/retention?{urlparse(link).query}", wait=False)
    wait_for_app(shared, timeout=SETTLE_MS)
    assert not app_errors(shared)
    new_churn = shared.get_by_text("The scenario's churn today (medians):").inner_text()
    assert new_churn != old_churn
    assert f"shifted-beta-geometric with alpha {alpha:.3g} and beta {beta:.3g}" in new_churn
    assert _answer(shared) == _answer(page)
