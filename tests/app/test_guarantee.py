"""Guarantee page through Streamlit's AppTest: the answer, the lengths table, the link, the desk."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from sim.guarantee import FIVE_YEARS, break_even, evaluate_lengths
from sim.metrics import compare_paired
from sim.scenario import load_scenario_file
from tests.app.conftest import open_page
from tests.conftest import REPO_ROOT

PAGE = "pages/guarantee.py"


def _open(at: AppTest, **params: str) -> AppTest:
    return open_page(at, PAGE, **params)


def _answer(at: AppTest) -> str:
    texts = [m.value for m in at.markdown if ("guarantee" in m.value and "break even" in m.value)
             or "makes no difference" in m.value or "chosen length is the current" in m.value]
    assert texts, "no answer sentence on the page"
    return texts[0]


@pytest.mark.slow
def test_guarantee_scenario_answers_30_days_vs_1_year_vs_5_years(app: AppTest) -> None:
    _open(app, scenario="guarantee", trials="1000")
    sentence = _answer(app)
    scenario = load_scenario_file(REPO_ROOT / "scenarios" / "guarantee.yaml")
    be = break_even(scenario, FIVE_YEARS)
    runs = evaluate_lengths(scenario, [FIVE_YEARS], trials=1000, seed=scenario.simulation.seed)
    pays = compare_paired(runs.metric("profit", FIVE_YEARS), runs.metric("profit", 30)).p_beats
    assert sentence.startswith("A 5-year guarantee instead of 30 days needs a ")
    assert f"{be.revenue_engine * 100:.1f}% conversion lift to break even on revenue" in sentence
    assert "(5.6% by the per-order formula)" in sentence
    assert f"pays on profit in {pays * 100:.0f}% of 1,000 futures" in sentence
    assert "refunds still owed after 36 months" in sentence
    table = app.dataframe[0].value
    assert list(table.columns) == ["30 days (current)", "1 year (variant)",
                                   "5 years (chosen, variant)"]
    owed = table.loc["Refunds still owed at month 36 (median, P10–P90)"]
    assert owed.iloc[0].startswith("$0 ") and not owed.iloc[2].startswith("$0 ")
    labels = [metric.label for metric in app.metric]
    assert "Agents for the target wait" in labels
    assert "Revenue, 3+ orders" in labels
    # The A/B planner sizes a test for both break-even lifts.
    plan = app.dataframe[1].value
    assert list(plan["Lift to detect"]) == ["Revenue break-even (engine)",
                                            "Profit break-even (engine)"]


@pytest.mark.slow
def test_changing_the_length_changes_the_answer(app: AppTest) -> None:
    _open(app, scenario="guarantee", trials="500")
    before = _answer(app)
    app.select_slider(key="guarantee_days").set_value(365).run()
    assert not app.exception
    after = _answer(app)
    assert after != before and after.startswith("A 1-year guarantee instead of 30 days")
    # Back to the current length: nothing to weigh, and the page says so.
    app.select_slider(key="guarantee_days").set_value(30).run()
    assert not app.exception
    assert _answer(app).startswith("The chosen length is the current 30-day guarantee")


@pytest.mark.slow
def test_a_link_with_a_length_and_zero_elasticities(app: AppTest) -> None:
    _open(app, scenario="guarantee", trials="300", guarantee_days="90 days",
          **{"guarantee.return_elasticity": "0", "guarantee.conversion_elasticity": "0"})
    assert "makes no difference" in _answer(app)
    assert "90-day" in _answer(app)


@pytest.mark.slow
def test_baseline_in_presenter_mode_and_a_typed_ab_lift(app: AppTest) -> None:
    _open(app, scenario="baseline", trials="300", present="1", guarantee_ab_lift="15")
    assert _answer(app).startswith("A 5-year guarantee instead of 30 days")
    assert [b.label for b in app.button] == ["Previous", "Next", "Leave"]  # a slide
    assert not app.dataframe
    app.query_params.pop("present")
    app.session_state["present"] = False
    app.run()
    plan = app.dataframe[1].value
    assert list(plan["Lift to detect"])[-1] == "Your lift"
    assert list(plan["Lift"])[-1] == "15.0%"
