"""Overview page through Streamlit's AppTest: the headline, the table and the cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from sim.engine import BASE_LABEL, plan_scenarios, simulate_plans
from sim.metrics import compare_paired
from sim.scenario import load_scenario_file
from tests.app.conftest import decision_text, detail_text, open_page
from tests.conftest import REPO_ROOT
from ui import format as fmt
from ui.runs import COUNT_RUNS_ENV, clear_cached_runs


def _answer(at: AppTest) -> str:
    return decision_text(at)


def test_overview_headline_matches_engine(app: AppTest) -> None:
    app.query_params["trials"] = "1000"
    app.run()
    assert not app.exception
    sentence = _answer(app)
    # Re-derive the headline from the engine: the variant most likely to beat the base plan.
    scenario = load_scenario_file(REPO_ROOT / "scenarios" / "baseline.yaml")
    results = simulate_plans(plan_scenarios(scenario), trials=1000,
                             seed=scenario.simulation.seed)
    base = results[BASE_LABEL].metrics["profit"]
    odds = {label: compare_paired(r.metrics["profit"], base).p_beats
            for label, r in results.items() if label != BASE_LABEL}
    best = max(odds, key=odds.get)
    assert odds[best] > 0.5  # otherwise the decision would be to stay with the base plan
    assert sentence.startswith(f"Switch to {best}: ")
    assert f"wins in {odds[best] * 100:.0f}% of 1,000 simulated futures" in sentence


def _shown(at: AppTest) -> tuple[str, ...]:
    """Every number the page shows in its headline and its tables (one CSV per tab)."""
    return (_answer(at), *(frame.value.to_csv() for frame in at.dataframe))


def test_overview_reruns_from_cache_and_seed_changes_numbers(app: AppTest) -> None:
    app.query_params["trials"] = "500"
    app.run()
    first = _shown(app)
    app.run()  # a rerun (any click) gives the same answer
    assert _shown(app) == first
    seed_input = next(n for n in app.number_input if n.label == "Seed")
    seed_input.set_value(7).run()
    assert not app.exception
    second = _shown(app)
    # Another seed draws other futures: every table's numbers change, not only the headline.
    assert len(second) == len(first) == 4
    for before, after in zip(first[1:], second[1:], strict=True):
        assert before != after
    # The base plan's median profit shown for seed 7 is the engine's for seed 7.
    scenario = load_scenario_file(REPO_ROOT / "scenarios" / "baseline.yaml")
    results = simulate_plans(plan_scenarios(scenario), trials=500, seed=7)
    median = float(np.median(results[BASE_LABEL].metrics["profit"]))
    profit_table = app.dataframe[0].value
    assert profit_table["Median"].iloc[0] == fmt.metric_value("profit", median)
    # Back to the first seed: exactly the first numbers again.
    next(n for n in app.number_input if n.label == "Seed").set_value(
        scenario.simulation.seed).run()
    assert _shown(app) == first


def test_bad_link_falls_back_with_message(app: AppTest) -> None:
    app.query_params["trials"] = "many"
    app.query_params["guarantee.days"] = "99999"
    app.query_params["scenario"] = "../etc/passwd"
    app.run()
    assert not app.exception
    warnings = " ".join(w.value for w in app.warning)
    assert "trials: expected a whole number" in warnings
    assert "guarantee.days" in warnings
    assert "no scenario file named '../etc/passwd'" in warnings
    # Fell back to the saved baseline and still answers.
    assert "simulated futures" in _answer(app)


def test_overview_first_points_to_the_best_split_and_share_with_the_pages_numbers(
        app: AppTest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Reconciled "best" (issue 13): on a fresh app the Overview finds the best split and share
    itself, through the Budget split and Retention pages' own cached runs, so the pages opened
    next show the same figures without running the search again. 600 futures: more than the
    NumPy engine's search uses (500), so both pages must say the search used fewer."""
    st.cache_data.clear()
    clear_cached_runs()
    counted = tmp_path / "runs.tsv"
    monkeypatch.setenv(COUNT_RUNS_ENV, str(counted))
    trials = 600
    open_page(app, "pages/overview.py", scenario="baseline", trials=str(trials))
    detail = detail_text(app)
    assert _answer(app).startswith("Switch to ")  # the best named plan stays the answer

    open_page(app, "pages/budget-split.py", scenario="baseline", trials=str(trials))
    tiles = {m.label: m.value for m in app.metric}
    gain = next(value for name, value in tiles.items() if name.startswith("Mean gain in "))
    metric_words = next(name for name in tiles if name.startswith("Mean gain in ")).removeprefix(
        "Mean gain in ")
    assert (f"best split found on Budget split: {tiles['Split in the answer']}" in detail
            or f"({tiles['Split in the answer']} at best)" in detail), detail
    assert (f"{gain} mean {metric_words} over 60/30/10, wins in {tiles['Beats 60/30/10 in']} of "
            f"{trials:,} futures" in detail), detail
    searched = "the map, the optimiser and the horizon table use the first 500 of these futures"
    assert f"On Budget split, {searched}" in detail
    assert any(searched.capitalize() in c.value for c in app.caption)

    open_page(app, "pages/retention.py", scenario="baseline", trials=str(trials))
    tiles = {m.label: m.value for m in app.metric}
    gain_label = next(name for name in tiles if name.startswith("Gain over today's "))
    today = gain_label.removeprefix("Gain over today's ")
    share, split = tiles["Best share for existing buyers"].split(" (")
    odds = tiles["Beats today's split in"].removesuffix(" of futures")
    assert (f"best share on Retention: {share} for existing buyers ({split}, "
            f"{tiles[gain_label]} mean profit over today's {today}, wins in {odds} of "
            f"{trials:,} futures") in detail, detail

    # One search: the pages read what the Overview computed.
    runs = [line.split("\t")[0] for line in counted.read_text().splitlines()]
    for name in ("ui.splits._grid", "ui.splits._optimise", "ui.retention.run_sweep"):
        assert runs.count(name) == 1, (name, runs)
