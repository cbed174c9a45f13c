"""Hostile files and links through the whole app (issue 14): a clear message, never a crash."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.app.conftest import open_page, share_link_text


def _texts(at: AppTest) -> str:
    return " ".join([e.value for e in at.error] + [w.value for w in at.warning]
                    + [m.value for m in at.markdown])


def _headline(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if "simulated futures" in m.value]


def test_a_nul_file_in_the_library_takes_down_nothing(app: AppTest,
                                                      fresh_scenario_library: Path) -> None:
    (fresh_scenario_library / "nul.yaml").write_bytes(b"a: \x00\n")
    open_page(app, "pages/overview.py", trials="500")
    assert _headline(app), "the baseline still answers"
    picker = next(s for s in app.selectbox if s.label == "Scenario")
    assert "nul.yaml (invalid)" in picker.options
    picker.set_value("nul").run()
    assert not app.exception
    assert not _headline(app), "no headline from built-in defaults"
    errors = " ".join(e.value for e in app.error)
    assert "nul.yaml" in errors and "line 1, column 4" in errors and "NUL" in errors


def test_a_broken_library_file_is_refused_on_every_simulating_page(
        app: AppTest, fresh_scenario_library: Path) -> None:
    (fresh_scenario_library / "broken.yaml").write_text("name: Broken\nbudget: {monthly: -5}\n")
    for page in ("pages/overview.py", "pages/budget-split.py",
                 "pages/guarantee.py", "pages/compare.py"):
        at = AppTest.from_file(app._script_path, default_timeout=240)
        open_page(at, page, scenario="broken", trials="500")
        assert not _headline(at), page
        errors = " ".join(e.value for e in at.error)
        assert "broken.yaml" in errors and "budget.monthly" in errors, page
        links = [link for link in at.get("page_link")]
        assert links and "Scenario editor" in links[0].proto.label, page


def test_the_editor_still_opens_a_broken_file(app: AppTest,
                                              fresh_scenario_library: Path) -> None:
    (fresh_scenario_library / "broken.yaml").write_text("name: [\n")
    open_page(app, "pages/scenario.py", scenario="broken")
    assert "broken.yaml" in _texts(app)


def test_unknown_link_parameters_are_dropped_with_a_note(app: AppTest) -> None:
    open_page(app, "pages/overview.py", trials="500", foo="bar")
    assert "foo=bar is not a setting of this page" in _texts(app)
    assert "foo" not in app.query_params
    code = share_link_text(app)
    assert "foo" not in code and "trials=500" in code


def test_a_bad_page_parameter_is_named(app: AppTest) -> None:
    # Opened directly, as the link opens it (guarantee.py's url_path equals its file name).
    app.query_params.update(trials="500", guarantee_days="banana")
    app.switch_page("pages/guarantee.py").run()
    assert not app.exception
    warnings = " ".join(w.value for w in app.warning)
    assert "guarantee\\_days: 'banana' is not one of this control's choices" in warnings
    assert "showing 5 years instead" in warnings
    assert "guarantee_days" not in app.query_params


def test_a_refused_long_link_leaves_nothing_in_the_address(app: AppTest) -> None:
    open_page(app, "pages/overview.py", junk="x" * 10_000, trials="500")
    assert "10,0" in " ".join(w.value for w in app.warning)
    assert "junk" not in app.query_params
    assert app.query_params.get("trials") != ["500"]


def test_the_trials_message_states_the_apps_limit(app: AppTest) -> None:
    open_page(app, "pages/overview.py", trials="5")
    assert "from 100 to 20,000" in " ".join(w.value for w in app.warning)
