"""Retention page through Streamlit's AppTest: the answer, the share slider, calibration from
an uploaded cohort table (good and bad files) and presenter mode."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest

from sim.retention import best_share, sweep_hot_share
from sim.scenario import load_scenario_file
from tests.app.conftest import decision_text, open_page, open_section
from tests.conftest import REPO_ROOT
from ui import format as fmt

EXAMPLE = REPO_ROOT / "scenarios" / "examples" / "cohorts_example.csv"
TRIALS = 400


def _open(app: AppTest, scenario: str = "baseline", **params: str) -> AppTest:
    return open_page(app, "pages/retention.py", scenario=scenario, trials=str(TRIALS),
                     **params)


def _answer(app: AppTest) -> str:
    return decision_text(app)


@pytest.mark.parametrize("stem", ["baseline", "retention_first", "guarantee"])
def test_answer_names_the_best_share_found_by_the_sweep(app: AppTest, stem: str) -> None:
    _open(app, stem)
    scenario = load_scenario_file(REPO_ROOT / "scenarios" / f"{stem}.yaml")
    best = best_share(sweep_hot_share(scenario, trials=TRIALS, seed=scenario.simulation.seed))
    sentence = _answer(app)
    assert sentence.startswith(("Move to ", "Test ", "Keep ")), sentence
    assert f"{best.share * 100:.0f}%" in sentence
    assert f"{TRIALS:,} futures" in sentence or sentence.startswith("Keep")
    labels = [m.label for m in app.metric]
    assert "Best share for existing buyers" in labels
    assert not any("Does 5 points more retention" in s.value for s in app.subheader)
    open_section(app, "retention", "5 points more retention")
    assert any("Does 5 points more retention" in s.value for s in app.subheader)
    assert _answer(app) == sentence  # the same answer above every section


def test_moving_the_share_adds_it_to_the_unit_economics(app: AppTest) -> None:
    _open(app)
    app.select_slider(key="retention_share").set_value(25.0).run()
    assert not app.exception
    headers = list(open_section(app, "retention", "Unit economics").dataframe[0].value.columns)
    assert any(h.startswith("Looking at 25%") for h in headers), headers
    assert any(h.startswith("Today 10%") for h in headers)


def test_example_upload_fits_and_applies_only_on_click(app: AppTest) -> None:
    _open(app)
    app.file_uploader(key="retention_upload").set_value(
        ("cohorts_example.csv", EXAMPLE.read_bytes(), "text/csv")).run()
    assert not app.exception and not app.error
    shown = {m.label: m.value for m in app.metric}
    assert 0.5 < float(shown["alpha"]) < 0.9 and 0.9 < float(shown["beta"]) < 1.5
    # The fit chart (drawn on a canvas in the browser) names and draws both series.
    fits = [chart.proto for chart in app.get("vega_lite_chart")
            if "Fitted sBG" in chart.proto.spec]
    assert len(fits) == 1
    assert "Observed (all cohorts pooled)" in fits[0].spec
    rows = convert_arrow_bytes_to_pandas_df(
        next(d.data.data for d in fits[0].datasets if d.name == "rows-lines"))
    assert set(rows["series"]) == {"Fitted sBG", "Observed (all cohorts pooled)"}
    fitted = rows[rows["series"] == "Fitted sBG"]["y"].to_numpy()
    assert fitted[0] == pytest.approx(1.0) and (np.diff(fitted) < 0).all()  # survival falls
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


def test_the_sweep_runs_on_all_the_sidebars_futures(app: AppTest) -> None:
    """One set of futures per answer (issue 13): above the 2,000 futures the sweep used to stop
    at, the page's headline, tiles and caption come from all the sidebar's futures."""
    trials = 2500
    open_page(app, "pages/retention.py", scenario="baseline", trials=str(trials))
    scenario = load_scenario_file(REPO_ROOT / "scenarios" / "baseline.yaml")
    sweep = sweep_hot_share(scenario, trials=trials, seed=scenario.simulation.seed)
    best = best_share(sweep)
    assert best.index != sweep.current  # so the headline and tiles state a paired comparison
    shown = {m.label: m.value for m in app.metric}
    today = f"{sweep.shares[sweep.current] * 100:.0f}%"
    assert shown[f"Gain over today's {today}"] == fmt.money(best.vs_current.diff_mean,
                                                            signed=True)
    assert shown["Beats today's split in"] == f"{fmt.share(best.vs_current.p_beats)} of futures"
    assert f"of {trials:,} futures" in _answer(app)
    assert any(f"over all {trials:,} simulated futures of the sidebar" in c.value
               for c in app.caption)
    assert "first 2,000" not in " ".join(c.value for c in app.caption)
