"""Retention page through Streamlit's AppTest: the answer, the share slider, calibration from
an uploaded cohort table (good and bad files) and presenter mode."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from sim.retention import best_share, sweep_hot_share
from sim.scenario import load_scenario_file
from tests.app.conftest import open_page
from tests.conftest import REPO_ROOT

EXAMPLE = REPO_ROOT / "scenarios" / "examples" / "cohorts_example.csv"
TRIALS = 400


def _open(app: AppTest, scenario: str = "baseline", **params: str) -> AppTest:
    return open_page(app, "pages/retention.py", scenario=scenario, trials=str(TRIALS),
                     **params)


def _answer(app: AppTest) -> str:
    texts = [m.value for m in app.markdown if m.value.startswith(("Put ", "Keep "))]
    assert texts, "no answer sentence on the page"
    return texts[0]


@pytest.mark.parametrize("stem", ["baseline", "retention_first", "guarantee"])
def test_answer_names_the_best_share_found_by_the_sweep(app: AppTest, stem: str) -> None:
    _open(app, stem)
    scenario = load_scenario_file(REPO_ROOT / "scenarios" / f"{stem}.yaml")
    best = best_share(sweep_hot_share(scenario, trials=TRIALS, seed=scenario.simulation.seed))
    sentence = _answer(app)
    assert f"{best.share * 100:.0f}% of the budget" in sentence
    assert f"{TRIALS:,} simulated futures" in sentence or sentence.startswith("Keep")
    labels = [m.label for m in app.metric]
    assert "Best share for existing buyers" in labels
    assert any("Does 5 points more retention" in s.value for s in app.subheader)


def test_moving_the_share_adds_it_to_the_unit_economics(app: AppTest) -> None:
    _open(app)
    app.select_slider(key="retention_share").set_value(25.0).run()
    assert not app.exception
    headers = list(app.dataframe[0].value.columns)
    assert any(h.startswith("Looking at 25%") for h in headers), headers
    assert any(h.startswith("Today 10%") for h in headers)


def test_example_upload_fits_and_applies_only_on_click(app: AppTest) -> None:
    _open(app)
    app.file_uploader(key="retention_upload").set_value(
        ("cohorts_example.csv", EXAMPLE.read_bytes(), "text/csv")).run()
    assert not app.exception and not app.error
    shown = {m.label: m.value for m in app.metric}
    assert 0.5 < float(shown["alpha"]) < 0.9 and 0.9 < float(shown["beta"]) < 1.5
    # Nothing changed yet: the header caption lists no changed fields.
    assert not any("changed from the saved file" in c.value for c in app.caption)
    app.button(key="retention_apply").click().run()
    assert not app.exception
    assert any("Churn now follows hot.churn.sbg" in s.value for s in app.success)
    changed = " ".join(c.value for c in app.caption if "changed from the saved file" in c.value)
    assert f"hot.churn.sbg.alpha = {shown['alpha'][:4]}" in changed
    assert "hot.churn.sbg.beta" in changed
    assert _answer(app)  # the page answers again with the fitted churn


def test_bad_upload_names_row_and_column_and_changes_nothing(app: AppTest) -> None:
    _open(app)
    bad = b"cohort,month,active\nA,0,1000\nA,1,631\nA,2,seven hundred\n"
    app.file_uploader(key="retention_upload").set_value(("mine.csv", bad, "text/csv")).run()
    assert not app.exception
    errors = " ".join(e.value for e in app.error)
    assert "mine.csv" in errors and "row 4, column 'active'" in errors
    assert not [b for b in app.button if b.key == "retention_apply"]
    assert not any("changed from the saved file" in c.value for c in app.caption)


def test_presenter_mode_answers_without_the_calibration_inputs(app: AppTest) -> None:
    _open(app, present="1", retention_share="30")
    assert _answer(app)
    assert not app.file_uploader
    assert not any("Calibrate churn" in s.value for s in app.subheader)
