"""Budget split page through Streamlit's AppTest: the answer against the optimiser run on its
own, the table of named splits, added splits (good and bad), a tie with 6:3:1, and bounds."""

from __future__ import annotations

import json
import re
from functools import cache

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from sim.distributions import sample_inputs
from sim.engine import simulate
from sim.metrics import compare_paired
from sim.scenario import Scenario, load_scenario_file
from sim.splits import (
    OBJECTIVES,
    Bounds,
    BudgetSplit,
    evaluate_splits,
    optimise_split,
    with_split,
)
from tests.app.conftest import new_app, open_page, open_section
from tests.conftest import REPO_ROOT
from ui import format as fmt
from ui.splits import RULE_LABEL, label, p_beats_text
from ui.words import base_plan_label

PAGE = "pages/budget-split.py"
#: Futures for the page and its map (the map uses min(its own choice, trials) of them): the
#: app's minimum, to keep the tests fast.
TRIALS = 100
SPLIT = re.compile(r"\b\d+/\d+/\d+\b")
#: How the answer starts: the decision (ui.words.DECISION_VERBS).
DECISIONS = ("Move to ", "Stay with 60/30/10: ", "Test ")
BASELINE_VARIANTS = ["80/20/0 acquisition first", "40/30/30 balanced", "30/60/10 nurture leads",
                     "20/30/50 retention heavy"]


def _open(at: AppTest, scenario: str = "baseline", **params: str) -> AppTest:
    return open_page(at, PAGE, scenario=scenario, trials=str(TRIALS), **params)


def _answer(at: AppTest) -> str:
    texts = [m.value for m in at.container("answer").markdown]
    assert len(texts) == 1, texts
    return texts[0]


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _table(at: AppTest) -> pd.DataFrame:
    """The profit tab of the named splits' table (the first dataframe on the page)."""
    return at.dataframe[0].value


def _row(table: pd.DataFrame, plan: str) -> pd.Series:
    rows = table[table["Plan"] == plan]
    assert len(rows) == 1, (plan, table["Plan"].tolist())
    return rows.iloc[0]


def _scenario(stem: str) -> Scenario:
    return load_scenario_file(REPO_ROOT / "scenarios" / f"{stem}.yaml")


@cache
def _expected_pick(stem: str, bounds: Bounds = Bounds()) -> BudgetSplit:  # noqa: B008
    """The optimiser's pick worked out without the page: mean profit over the file's horizon,
    5% grid then 2- and 1-point moves, on the first TRIALS futures of the file's seed."""
    scenario = _scenario(stem)
    seed, horizon = scenario.simulation.seed, scenario.simulation.horizon_months
    inputs = sample_inputs(scenario, TRIALS, seed)

    def evaluate(splits: list[BudgetSplit]) -> np.ndarray:
        return evaluate_splits(scenario, splits, inputs, horizons=(horizon,),
                               metrics=("profit",), seed=seed)[horizon]["profit"]

    return optimise_split(evaluate, OBJECTIVES["mean_profit"], bounds, coarse_step=5,
                          refine_steps=(2, 1)).split


def _versus_rule(stem: str, split: BudgetSplit) -> tuple[str, str]:
    """P(beats 60/30/10) of a split as the answer words it, and as the table does."""
    scenario = _scenario(stem)
    seed = scenario.simulation.seed
    rule = simulate(with_split(scenario, BudgetSplit(60, 30, 10)), trials=TRIALS, seed=seed)
    mine = simulate(with_split(scenario, split), trials=TRIALS, seed=seed)
    comparison = compare_paired(mine.metrics["profit"], rule.metrics["profit"])
    return fmt.share(comparison.p_beats), p_beats_text(comparison)


def test_baseline_answer_names_the_optimisers_pick_against_6_3_1(app: AppTest) -> None:
    _open(app)
    pick = _expected_pick("baseline")
    share, _ = _versus_rule("baseline", pick)
    sentence = _answer(app)
    assert sentence.startswith(DECISIONS) and label(pick) in sentence, sentence
    assert "profit than 60/30/10 on average" in sentence
    # The map uses min(500, TRIALS) futures: here all of them, so no re-run to mention.
    assert f"wins in {share} of {TRIALS:,} futures." in sentence or (
        f"wins in only {share}" in sentence)
    assert _metrics(app)["Split in the answer"] == label(pick)
    assert _metrics(app)["Beats 60/30/10 in"] == share
    table = _table(app)
    assert table["Plan"].tolist() == [
        "Base plan (60/30/10)", *BASELINE_VARIANTS,
        f"Optimiser's pick {label(pick)} (best mean profit)"]
    assert table["Split (cold/warm/hot, %)"].tolist() == [
        "60/30/10", "80/20/0", "40/30/30", "30/60/10", "20/30/50", label(pick)]
    # The table's P(beats 60/30/10) of a shipped variant is a paired run of that split.
    assert _row(table, "40/30/30 balanced")["P(beats 60/30/10)"] == _versus_rule(
        "baseline", BudgetSplit(40, 30, 30))[1]
    assert _row(table, "Base plan (60/30/10)")["P(beats 60/30/10)"] == "—"
    # The link reproduces the view: the page's own settings are in it.
    assert app.query_params["trials"] == str(TRIALS)


@pytest.mark.parametrize("stem", ["guarantee", "retention_first"])
def test_every_shipped_scenario_answers(app: AppTest, stem: str) -> None:
    _open(app, stem)
    scenario = _scenario(stem)
    sentence = _answer(app)
    assert "60/30/10" in sentence and sentence.startswith(DECISIONS)
    shown = _metrics(app)["Split in the answer"]
    assert shown in SPLIT.findall(sentence), (shown, sentence)
    assert shown == label(_expected_pick(stem))
    plans = _table(app)["Plan"].tolist()
    if stem == "guarantee":
        # Its variants change the guarantee, not the split: they are named under the table.
        assert plans == ["Base plan (60/30/10)",
                         f"Optimiser's pick {shown} (best mean profit)"]
        assert any("Variants that keep the base split (1-year guarantee, 5-year guarantee)"
                   in c.value for c in app.caption)
    else:
        assert plans == [
            RULE_LABEL, base_plan_label(scenario), "60/30/10 rule",
            "Sales-oriented 70/30/0 — also changes hot.churn_unpreventable",
            "Customer-centric 20/30/50", f"Optimiser's pick {shown} (best mean profit)"]


def test_added_splits_become_rows_and_can_be_the_answer(app: AppTest) -> None:
    _open(app)
    before = _table(app)
    app.text_input(key="split_custom").input("40-30-30, 50-25-25").run()
    assert not app.exception and not app.warning
    table = _table(app)
    assert len(table) == len(before) + 2
    assert table["Plan"].tolist()[-3:-1] == ["Your split 40/30/30", "Your split 50/25/25"]
    # 40-30-30 is the 4:3:3 variant on the same futures: every figure is the same.
    mine, variant = _row(table, "Your split 40/30/30"), _row(table, "40/30/30 balanced")
    assert mine.drop("Plan").tolist() == variant.drop("Plan").tolist()
    picker = app.selectbox(key="split_pick")
    assert picker.options[-2:] == ["Your split 40/30/30", "Your split 50/25/25"]
    picker.set_value("custom:50/25/25").run()
    assert not app.exception
    share, _ = _versus_rule("baseline", BudgetSplit(50, 25, 25))
    sentence = _answer(app)
    assert sentence.startswith(("Move to 50/25/25: ", "Stay with 60/30/10: 50/25/25 ",
                                "Test 50/25/25 ")), sentence
    assert f"wins in {share} of {TRIALS:,} futures" in sentence or f"in only {share} of" in sentence
    assert _metrics(app)["Split in the answer"] == "50/25/25"


def test_a_typed_30_30_40_shows_as_30_30_40_and_an_old_link_still_picks_it(
        app: AppTest) -> None:
    # An older link wrote the added split with dashes in the picker key.
    _open(app, split_custom="30-30-40", split_pick="custom:30-30-40")
    assert not app.exception
    assert app.selectbox(key="split_pick").value == "custom:30/30/40"
    # The link no longer carries the old form.
    assert app.query_params.get("split_pick", "custom:30/30/40") == "custom:30/30/40"
    assert _metrics(app)["Split in the answer"] == "30/30/40"
    assert "30/30/40" in _answer(app) and "3:3:4" not in _answer(app)
    assert "Your split 30/30/40" in _table(app)["Plan"].tolist()


#: Typed splits, the messages they get, and the rows they leave.
BAD_SPLITS = [
    ("40-30-20, half and half, 50-25-25",
     ["40-30-20 adds up to 90%, not 100%: the three shares must split the whole budget",
      "'half and half' is not a split: write three percentages for cold, warm and hot"],
     ["Your split 50/25/25"]),
    # Within a rounding of 100 but not within the scenario schema's tolerance.
    ("33.333-33.333-33.333", ["33.333-33.333-33.333 adds up to 99.999%, not 100%"], []),
]


def test_a_split_that_does_not_add_up_gets_a_clear_message(app: AppTest) -> None:
    _open(app)
    rows = len(_table(app))
    for typed, messages, kept in BAD_SPLITS:
        app.text_input(key="split_custom").input(typed).run()
        assert not app.exception, (typed, app.exception)
        warnings = [w.value for w in app.warning]
        assert len(warnings) == 1 and warnings[0].startswith("Some added splits were left out:")
        assert warnings[0].count("\n- ") == len(messages), warnings
        for message in messages:
            assert message in warnings[0], (message, warnings)
        plans = _table(app)["Plan"].tolist()
        assert len(plans) == rows + len(kept)
        assert [p for p in plans if p.startswith("Your split")] == kept
        assert _answer(app)  # the page still answers


def test_a_split_equal_to_6_3_1_is_a_tie_not_a_win(app: AppTest) -> None:
    # The pick comes from the link, as a shared view would give it.
    _open(app, "retention_first", split_pick="60/30/10 rule")
    assert app.selectbox(key="split_pick").value == "variant:60/30/10 rule"
    # The variant's name already says its split: it is not written twice.
    assert _answer(app) == ("Stay with 60/30/10: 60/30/10 rule gives the same profit in every "
                            "future, a tie, not a win.")
    shown = _metrics(app)
    assert shown["Beats 60/30/10 in"] == "tie" and shown["Mean gain in profit"] == "$0"
    table = _table(app)
    variant = table[(table["Plan"] == "60/30/10 rule") & (table["P(beats 60/30/10)"] != "—")]
    assert variant["P(beats 60/30/10)"].tolist() == ["tie (equal in every future)"]


def test_bounds_keep_the_optimisers_pick_inside_them(app: AppTest) -> None:
    _open(app)
    free = _metrics(app)["Split in the answer"]
    app.slider(key="split_hot").set_value((0, 30)).run()
    assert not app.exception
    capped = _expected_pick("baseline", Bounds(hot=(0, 30)))
    assert capped.hot <= 30
    assert _metrics(app)["Split in the answer"] == label(capped) != free
    assert _answer(app).startswith(DECISIONS) and label(capped) in _answer(app)
    open_section(app, "budget-split", "Every split")  # the map
    assert any("Pale squares lie outside your bounds" in m.value for m in app.markdown)
    # Bounds no split can meet: said plainly, and the optimiser searches every split.
    app.slider(key="split_cold").set_value((60, 100))
    app.slider(key="split_warm").set_value((50, 100)).run()
    assert not app.exception
    errors = " ".join(e.value for e in app.error)
    assert "No split fits these bounds" in errors
    assert "the lower ends add up to 110%" in errors
    assert _metrics(app)["Split in the answer"] == free


def test_save_as_variant_says_when_comments_could_not_be_kept(
        app: AppTest, fresh_scenario_library) -> None:
    path = fresh_scenario_library / "baseline.yaml"
    path.write_text("# CPM range from Q3 invoices\n"
                    + json.dumps(load_scenario_file(path).to_file_dict()) + "\n")
    _open(app)
    app.text_input(key="split_variant_name").set_value("Saved from the page")
    app.button(key="split_save").click().run()
    assert not app.exception
    message = " ".join(s.value for s in app.success)
    assert "Saved variant “Saved from the page”" in message
    assert "Comments could not be kept:" in message
    assert "so baseline.yaml was rewritten in the standard layout." in message
    assert str(fresh_scenario_library) not in message
    assert "Saved from the page" in load_scenario_file(path).variants


def _horizon_tables(at: AppTest) -> list[pd.DataFrame]:
    return [frame.value for frame in at.dataframe if "Horizon" in frame.value.columns]


def test_the_best_split_by_horizon_is_worked_out_on_request_and_kept_in_the_link(
        app: AppTest) -> None:
    _open(app)
    assert not app.exception
    assert _horizon_tables(app) == []  # worked out only when its section is opened
    [table] = _horizon_tables(open_section(app, "budget-split", "By horizon"))
    horizon = _scenario("baseline").simulation.horizon_months
    assert list(table["Horizon"]) == [
        f"{h} months" + (" (this scenario)" if h == horizon else "")
        for h in sorted({12, 24, 36, 60, horizon})]
    # The scenario's own horizon is the optimiser's pick above, worked out without the page.
    row = table[table["Horizon"].str.endswith("(this scenario)")].iloc[0]
    assert row["Best split"] == label(_expected_pick("baseline"))
    # A link to the section opens with the table, and so does a link made when the section
    # was a switch (split_horizons=true), without a note.
    linked = _open(new_app(), split_section="By horizon")
    assert _horizon_tables(linked)[0].equals(table)
    old = _open(new_app(), split_horizons="true")
    assert _horizon_tables(old)[0].equals(table)
    assert not old.warning
    assert "split_horizons" not in old.query_params
