"""Real browser: the Overview page answers in Chromium with the engine's numbers."""

from __future__ import annotations

from sim.engine import BASE_LABEL, plan_scenarios, simulate_plans
from sim.metrics import compare_paired
from sim.scenario import load_scenario_file
from tests.browser.helpers import app_errors, screenshot
from tests.conftest import REPO_ROOT
from ui import format as fmt

TRIALS = 2000


def test_overview_headline_in_browser(open_app) -> None:
    page = open_app(f"/?trials={TRIALS}")
    answer = page.locator(".st-key-answer").inner_text()
    assert not app_errors(page)
    # Re-derive the headline from the engine on the same seed and trials: the variant most
    # likely to beat the base plan on profit, in how many futures, and its median gain.
    scenario = load_scenario_file(REPO_ROOT / "scenarios" / "baseline.yaml")
    results = simulate_plans(plan_scenarios(scenario), trials=TRIALS,
                             seed=scenario.simulation.seed)
    base = results[BASE_LABEL].metrics["profit"]
    odds = {label: compare_paired(result.metrics["profit"], base)
            for label, result in results.items() if label != BASE_LABEL}
    best = max(odds, key=lambda label: odds[label].p_beats)
    assert answer.startswith(f"Switch to {best}: ")
    assert f"wins in {fmt.share(odds[best].p_beats)} of {TRIALS:,} simulated futures" in answer
    assert (f"{fmt.metric_value('profit', odds[best].diff_p50)} higher in the median future"
            in answer)
    # The link in the footer reproduces this view.
    assert "scenario=baseline" in page.url and f"trials={TRIALS}" in page.url
    screenshot(page, "overview")
