"""Links made before the shipped plans were renamed to the percent notation (issue 13) still
open the same plan, and the page says the plan was renamed (the table:
sim/scenario/renamed.py; reading links: ui/plan_names.py and ui/state.py)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from streamlit.testing.v1 import AppTest

from sim.engine import BASE_LABEL
from tests.app.conftest import new_app, open_page, share_link_text

TRIALS = "200"


def _warnings(at: AppTest) -> str:
    return "\n".join(w.value for w in at.warning)


def test_an_old_sensitivity_link_opens_the_renamed_plans(fresh_scenario_library: Path) -> None:
    # Neither is the page's default choice, so both stay in the share link.
    at = open_page(new_app(timeout=300), "pages/sensitivity.py", scenario="baseline",
                   trials=TRIALS, sens_a="Base plan (6:3:1)", sens_b="2:3:5 retention heavy")
    assert at.selectbox(key="sens_a").value == BASE_LABEL
    assert at.selectbox(key="sens_b").value == "20/30/50 retention heavy"
    notes = _warnings(at)
    assert "sens\\_a: the plan “Base plan (6:3:1)” is now called “Base plan (60/30/10)”" in notes
    assert ("sens\\_b: the plan “2:3:5 retention heavy” is now called “20/30/50 retention "
            "heavy”") in notes
    assert "not one of this control's choices" not in notes
    # The share link carries the new names.
    link = parse_qs(urlsplit(share_link_text(at)).query)
    assert link["sens_a"] == ["Base plan (60/30/10)"]
    assert link["sens_b"] == ["20/30/50 retention heavy"]


def test_an_old_compare_link_keeps_every_plan_it_named(fresh_scenario_library: Path) -> None:
    at = open_page(new_app(), "pages/compare.py", trials=TRIALS, compare_plans=[
        "baseline — base plan", "baseline — 4:3:3 balanced", "baseline — 8:2:0 acquisition first"])
    assert at.multiselect(key="compare_plans").value == [
        "baseline — base plan", "baseline — 40/30/30 balanced",
        "baseline — 80/20/0 acquisition first"]
    notes = _warnings(at)
    assert "“baseline — 4:3:3 balanced” is now called “baseline — 40/30/30 balanced”" in notes
    assert "“baseline — 8:2:0 acquisition first” is now called" in notes


def test_an_old_budget_split_pick_opens_the_renamed_variant(
        fresh_scenario_library: Path) -> None:
    at = open_page(new_app(), "pages/budget-split.py", scenario="retention_first",
                   trials=TRIALS, split_pick="6:3:1 rule")
    assert at.selectbox(key="split_pick").value == "variant:60/30/10 rule"
    assert "split\\_pick: the plan “6:3:1 rule” is now called “60/30/10 rule”" in _warnings(at)


def test_a_file_that_still_uses_the_old_name_keeps_it(fresh_scenario_library: Path) -> None:
    """A plan someone still calls "4:3:3 balanced" in their own file is not renamed."""
    text = (fresh_scenario_library / "baseline.yaml").read_text()
    (fresh_scenario_library / "mine.yaml").write_text(
        text.replace("40/30/30 balanced", "4:3:3 balanced"))
    at = open_page(new_app(timeout=300), "pages/sensitivity.py", scenario="mine",
                   trials=TRIALS, sens_a="4:3:3 balanced")
    assert at.selectbox(key="sens_a").value == "4:3:3 balanced"
    assert "now called" not in _warnings(at)
