"""Calibrate page through Streamlit's AppTest: upload the examples, see the fits, accept the
ranges into the scenario (with their source notes, saved with it); a bad file changes
nothing."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from sim.cli import main
from sim.scenario import load_scenario_file, load_scenario_text
from tests.app.conftest import open_page
from tests.conftest import REPO_ROOT

EXAMPLES = REPO_ROOT / "scenarios" / "examples"
PAGE = "pages/calibrate.py"


def _upload(app: AppTest, key: str, name: str, data: bytes | None = None) -> AppTest:
    data = (EXAMPLES / name).read_bytes() if data is None else data
    app.file_uploader(key=key).set_value((name, data, "text/csv")).run()
    assert not app.exception, app.exception
    return app


def _overrides(app: AppTest) -> dict:
    return dict(app.session_state["_funnel_overrides"])


def test_upload_fit_accept_changes_the_scenario(app: AppTest) -> None:
    open_page(app, PAGE, scenario="baseline")
    assert any(m.value.startswith("Drop an order export") for m in app.markdown)
    _upload(app, "calibrate_orders", "transactions_example.csv")
    _upload(app, "calibrate_history", "history_example.csv")
    assert not app.error
    shown = {m.label: m.value for m in app.metric}
    assert shown["Customers"] == "1,500"
    assert float(shown["Active customers: MAPE"].rstrip("%")) < 5
    assert any("Calibration/holdout check" in c.value for c in app.caption)
    assert any("model replays the 6 held-out months" in m.value for m in app.markdown)
    # The page names the command line that gives the same fit, and it does.
    command = next(c.value for c in app.caption if "Same fit on the command line" in c.value)
    argv = command.split("`")[1].split()[3:]
    argv[2] = str(EXAMPLES / argv[2])
    out = io.StringIO()
    assert main([*argv, "--format", "json"], stdout=out, stderr=io.StringIO()) == 0
    cli = json.loads(out.getvalue())["bgnbd"]
    shown = next(m.value for m in app.markdown if m.value.startswith("**BG/NBD**"))
    assert f"r = {cli['r']:.4g} ±" in shown and f"b = {cli['b']:.4g} ±" in shown
    # Nothing changes before the click.
    assert _overrides(app) == {}
    ticked = [box for box in app.checkbox if box.value]
    assert len(ticked) >= 10
    app.button(key="calibrate_apply").click().run()
    assert not app.exception and not app.error
    overrides = _overrides(app)
    assert {"hot.churn.monthly", "cold.engagement_rate", "orders.first_value",
            "sources"} <= set(overrides)
    assert overrides["sources"]["hot.churn.monthly"].startswith("history_example.csv: months")
    assert any("ranges are now in the scenario" in s.value for s in app.success)
    # The scenario every page now shows carries the ranges and their notes when saved.
    context = app.session_state["_funnel_context"]
    text = context.scenario.canonical()
    assert "sources:" in text and load_scenario_text(text).sources == overrides["sources"]
    low, high = (overrides["hot.churn.monthly"][k] for k in ("low", "high"))
    assert low < 0.08 < high  # the example was drawn with 8% monthly churn


def test_accepted_notes_are_listed_and_saved_by_the_editor(app: AppTest,
                                                          fresh_scenario_library: Path) -> None:
    open_page(app, PAGE, scenario="baseline")
    _upload(app, "calibrate_orders", "transactions_example.csv")
    app.button(key="calibrate_apply").click().run()
    accepted = _overrides(app)
    notes = accepted["sources"]
    app.switch_page("pages/scenario.py").run()
    assert not app.exception
    assert [e.label for e in app.expander if e.label.startswith("Where ")] == [
        f"Where {len(notes)} values came from (saved with the file)"]
    app.button(key="editor_save").click().run()
    app.button(key="editor_confirm_replace").click().run()
    assert not app.exception
    saved = load_scenario_file(fresh_scenario_library / "baseline.yaml")
    assert saved.sources == notes
    assert saved.orders.first_value.low == accepted["orders.first_value"]["low"]
    assert "sources:" in (fresh_scenario_library / "baseline.yaml").read_text()


@pytest.mark.parametrize(("key", "data", "message"), [
    ("calibrate_orders", b"customer,date,value\na,2025-01-01,oops\n",
     "row 2, column 'value': 'oops' is not a number"),
    ("calibrate_history", b"month,spend_cold,spend_warm,spend_hot\n2025-01,1,1,1\n2025-03,1,1,1\n",
     "row 3, column 'month': 2025-03 skips 1 month after 2025-01"),
])
def test_bad_file_shows_its_problems_and_changes_nothing(app: AppTest, key: str, data: bytes,
                                                         message: str) -> None:
    open_page(app, PAGE, scenario="baseline")
    _upload(app, key, "bad.csv", data)
    assert len(app.error) == 1 and message in app.error[0].value
    assert "nothing was changed" in app.error[0].value
    assert _overrides(app) == {}
    assert not [b for b in app.button if b.key == "calibrate_apply"]
