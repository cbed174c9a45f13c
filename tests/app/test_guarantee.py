"""Guarantee page through Streamlit's AppTest: the answer, the lengths table, the link, the desk."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from sim.guarantee import FIVE_YEARS, break_even, evaluate_lengths
from sim.metrics import compare_paired
from sim.scenario import load_scenario_file
from tests.app.conftest import (
    decision_text,
    detail_text,
    open_page,
    open_section,
    share_link_text,
)
from tests.conftest import REPO_ROOT

PAGE = "pages/guarantee.py"


def _open(at: AppTest, **params: str) -> AppTest:
    return open_page(at, PAGE, **params)


def _answer(at: AppTest) -> str:
    return decision_text(at)


@pytest.mark.slow
def test_guarantee_scenario_answers_30_days_vs_1_year_vs_5_years(app: AppTest) -> None:
    _open(app, scenario="guarantee", trials="1000")
    sentence = _answer(app)
    scenario = load_scenario_file(REPO_ROOT / "scenarios" / "guarantee.yaml")
    be = break_even(scenario, FIVE_YEARS)
    runs = evaluate_lengths(scenario, [FIVE_YEARS], trials=1000, seed=scenario.simulation.seed)
    pays = compare_paired(runs.metric("profit", FIVE_YEARS),
                          runs.metric("profit", 30)).p_beats
    assert pays < 0.5  # the 5-year guarantee pays on profit in a minority of futures
    assert sentence.startswith("Keep the 30-day guarantee: a 5-year one earns "), sentence
    assert f"pays in only {pays * 100:.0f}% of 1,000 futures, after refunds still owed" in sentence
    detail = detail_text(app)
    assert f"{be.revenue_engine * 100:.1f}% conversion lift to break even on revenue" in detail
    assert "(5.6% by the per-order formula)" in detail
    assert "refunds still owed after 36 months" in detail
    table = app.dataframe[0].value
    assert list(table.columns) == ["30 days (current)", "1 year (variant)",
                                   "5 years (chosen, variant)"]
    owed = table.loc["Refunds still owed at month 36 (median, P10–P90)"]
    assert owed.iloc[0].startswith("$0 ") and not owed.iloc[2].startswith("$0 ")
    # Only the open section is drawn: the desk's figures come with its tab.
    labels = [metric.label for metric in app.metric]
    assert "Agents for the target wait" not in labels
    labels = [metric.label for metric in open_section(app, "guarantee", "Returns desk").metric]
    assert "Agents for the target wait" in labels
    assert "Revenue, 3+ orders" in labels
    assert _answer(app) == sentence
    # The A/B planner sizes a test for both break-even lifts.
    plan = open_section(app, "guarantee", "A/B test planner").dataframe[0].value
    assert list(plan["Lift to detect"]) == ["Revenue break-even (engine)",
                                            "Profit break-even (engine)"]


@pytest.mark.slow
def test_changing_the_length_changes_the_answer(app: AppTest) -> None:
    _open(app, scenario="guarantee", trials="500")
    before = _answer(app)
    app.select_slider(key="guarantee_days").set_value(365).run()
    assert not app.exception
    after = _answer(app)
    assert after != before and after.startswith(("Keep the 30-day guarantee: a 1-year one ",
                                                  "Switch to the 1-year guarantee: ",
                                                  "Test the 1-year guarantee "))
    # Back to the current length: nothing to weigh, and the page says so.
    app.select_slider(key="guarantee_days").set_value(30).run()
    assert not app.exception
    assert _answer(app).startswith("Keep the 30-day guarantee: it is the chosen length")


@pytest.mark.slow
def test_a_link_with_a_length_and_zero_elasticities(app: AppTest) -> None:
    _open(app, scenario="guarantee", trials="300", guarantee_days="90 days",
          **{"guarantee.return_elasticity": "0", "guarantee.conversion_elasticity": "0"})
    assert "makes no difference" in _answer(app)
    assert "90-day" in _answer(app)


@pytest.mark.slow
def test_baseline_in_presenter_mode_and_a_typed_ab_lift(app: AppTest) -> None:
    _open(app, scenario="baseline", trials="300", present="1", guarantee_ab_lift="15")
    assert _answer(app).startswith(("Keep the 30-day guarantee: a 5-year one ",
                                    "Switch to the 5-year guarantee: ",
                                    "Test the 5-year guarantee "))
    assert [b.label for b in app.button] == ["Previous", "Next", "Leave"]  # a slide
    assert not app.dataframe
    app.query_params.pop("present")
    app.session_state["present"] = False
    app.run()
    plan = open_section(app, "guarantee", "A/B test planner").dataframe[0].value
    assert list(plan["Lift to detect"])[-1] == "Your lift"
    assert list(plan["Lift"])[-1] == "15.0%"


@pytest.mark.slow
def test_a_link_opens_its_section_and_the_share_link_keeps_it(app: AppTest) -> None:
    _open(app, scenario="guarantee", trials="300", guarantee_section="Refund timing")
    assert [h.value for h in app.subheader] == ["Refund timing: when the money goes back"]
    assert not app.dataframe  # the lengths table is another section's, not computed here
    assert "guarantee_section=Refund+timing" in share_link_text(app)
    # Back to the first section (a browser updates its address; AppTest's stays as opened):
    # the table, and a link without the parameter (the default).
    app.query_params.pop("guarantee_section")
    open_section(app, "guarantee", "Lengths compared")
    assert len(app.dataframe) == 1
    assert "guarantee_section" not in share_link_text(app)


@pytest.mark.slow
def test_a_link_naming_no_section_says_so_and_opens_the_first(app: AppTest) -> None:
    # Opened directly, as the link opens it (see tests/app/test_hostile_input.py).
    app.query_params.update(scenario="guarantee", trials="300", guarantee_section="Banana")
    app.switch_page(PAGE).run()
    assert not app.exception
    warnings = " ".join(w.value for w in app.warning)
    assert "guarantee\\_section: 'Banana' is not one of this control's choices" in warnings
    assert "showing Lengths compared instead" in warnings
    assert len(app.dataframe) == 1  # the lengths table: the first section
