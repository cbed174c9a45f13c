"""Scenario page through AppTest: edit, validate beside the field, save, reopen, upload."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from sim.scenario import dump_scenario, load_scenario_file, load_scenario_text
from tests.app.conftest import new_app, open_page
from tests.conftest import REPO_ROOT

PAGE = "pages/scenario.py"


@pytest.fixture
def lib(fresh_scenario_library: Path) -> Path:
    return fresh_scenario_library


@pytest.fixture
def at(lib: Path) -> AppTest:
    return open_page(new_app(), PAGE, trials="500")


def _field(app: AppTest, path: str, param: str = "value", form: str = "number"):
    suffix = f":{path}:{form}:{param}"
    matches = [box for box in app.text_input if box.key and box.key.endswith(suffix)]
    assert len(matches) == 1, f"no single input for {path} ({form}/{param})"
    return matches[0]


def _by_key_end(widgets, suffix: str):
    matches = [w for w in widgets if w.key and w.key.endswith(suffix)]
    assert len(matches) == 1, suffix
    return matches[0]


def _name_box(app: AppTest):
    """The scenario's name input (its key is ed<generation>:name)."""
    return next(box for box in app.text_input if re.fullmatch(r"ed\d+:name", box.key or ""))


def _answer(app: AppTest) -> str:
    return next(m.value for m in app.markdown if m.value.startswith("“")
                or m.value.startswith("This scenario has"))


def _errors(app: AppTest) -> str:
    return "\n".join(e.value for e in app.error)


def _library(lib: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(lib.glob("*.yaml"))}


def test_every_field_of_the_format_is_editable(at: AppTest) -> None:
    from sim.scenario import field_catalog

    keys = {w.key for w in [*at.text_input, *at.selectbox, *at.radio] if w.key}
    for info in field_catalog():
        if info.path.startswith("hot.churn.sbg"):
            continue  # shown when the sBG churn model is picked (tested below)
        assert any(f":{info.path}:" in key for key in keys), info.path
    # Uncertain-capable fields offer every form; rates also beta.
    form = _by_key_end(at.selectbox, ":cold.engagement_rate:form")
    assert set(form.options) == {"A number", "90% range (low–high)", "Uniform (min–max)",
                                 "Triangular (min, mode, max)", "Normal (mean, sd)",
                                 "Beta (a, b)"}
    model = _by_key_end(at.radio, ":hot.churn:model")
    model.set_value("sbg").run()
    assert _field(at, "hot.churn.sbg.alpha").value == "0.7"
    assert _field(at, "hot.churn.sbg.beta").value == "1.2"


def test_round_trip_edit_save_reopen(at: AppTest, lib: Path) -> None:
    _name_box(at).set_value("Round trip shop").run()
    _field(at, "guarantee.days").set_value("365").run()
    _by_key_end(at.selectbox, ":orders.first_value:form").set_value("triangular").run()
    _field(at, "orders.first_value", "min", "triangular").set_value("40").run()
    _field(at, "orders.first_value", "mode", "triangular").set_value("55.5").run()
    _field(at, "orders.first_value", "max", "triangular").set_value("$90").run()
    _field(at, "budget.monthly").set_value("62,500").run()
    at.button(key=next(b.key for b in at.button if b.key.endswith("add_variant"))).click().run()
    rows = [t for t in at.text_input if t.key.endswith(":name") and ":v" in t.key]
    new_row = rows[-1]
    new_row.set_value("Year guarantee, more cold").run()
    text = _by_key_end(at.text_area, new_row.key.removesuffix(":name").split(":", 1)[1]
                       + ":text")
    text.set_value("guarantee.days: 365\nbudget.split: {cold: 0.7, warm: 0.3, hot: 0}").run()
    # Remove the first shipped variant.
    first_remove = next(b for b in at.button if b.key.endswith(":remove"))
    first_remove.click().run()
    assert not at.exception
    assert _errors(at) == ""
    # Every field change is already in the app's link.
    assert at.query_params["guarantee.days"] == "365"
    assert at.query_params["budget.monthly"] == "62500"
    # Save under the scenario's own name (the file name is its slug).
    target = _by_key_end(at.radio, "save_target")
    target.set_value("round-trip-shop").run()
    at.button(key="editor_save").click().run()
    assert not at.exception
    saved_path = lib / "round-trip-shop.yaml"
    assert saved_path.exists()
    saved = load_scenario_file(saved_path)
    assert saved.name == "Round trip shop"
    assert saved.guarantee.days == 365
    assert saved.budget.monthly.value == 62500
    first = saved.orders.first_value
    assert (first.min, first.mode, first.max) == (40, 55.5, 90)
    assert list(saved.variants)[-1] == "Year guarantee, more cold"
    assert saved.variants["Year guarantee, more cold"] == {
        "guarantee": {"days": 365}, "budget": {"split": {"cold": 0.7, "warm": 0.3, "hot": 0}}}
    assert "80/20/0 acquisition first" not in saved.variants
    first_bytes = saved_path.read_bytes()
    assert first_bytes == dump_scenario(saved).encode()
    # The app now shows the saved file, with no changes left in the link.
    assert at.selectbox(key="scenario_file").value == "round-trip-shop"
    assert "guarantee.days" not in at.query_params
    assert "saved in round-trip-shop.yaml" in _answer(at)
    # Reopen it: the editor shows the saved values; saving again changes no byte.
    assert _field(at, "guarantee.days").value == "365"
    assert _name_box(at).value == "Round trip shop"
    at.button(key="editor_save").click().run()
    assert "round-trip-shop.yaml already exists" in " ".join(w.value for w in at.warning)
    at.button(key="editor_confirm_replace").click().run()
    assert not at.exception
    assert saved_path.read_bytes() == first_bytes
    # The baseline it was started from is untouched.
    assert (lib / "baseline.yaml").read_bytes() == (REPO_ROOT / "scenarios" /
                                                    "baseline.yaml").read_bytes()


def test_problems_show_beside_their_fields_and_block_saving(at: AppTest, lib: Path) -> None:
    before = _library(lib)
    _field(at, "guarantee.days").set_value("99999").run()
    _field(at, "orders.gross_margin").set_value("abc").run()
    _field(at, "budget.split.cold").set_value("0.7").run()
    errors = [e.value for e in at.error]
    beside = [e for e in errors if not e.startswith("**")]
    assert "guarantee.days: must be a whole number of days from 1 to 3,650, got 99999" in beside
    assert any(e.startswith("orders.gross_margin: 'abc' is not a number") for e in beside)
    assert any(e.startswith("budget.split: cold + warm + hot must sum to 1") for e in beside)
    summary = next(e for e in errors if e.startswith("**3 problems to fix**"))
    assert "guarantee.days" in summary and "budget.split" in summary
    assert _answer(at).startswith("This scenario has 3 problems to fix")
    assert not [b for b in at.button if b.key == "editor_save"]
    # A bad value never reaches the app's link.
    assert "guarantee.days" not in at.query_params
    _field(at, "guarantee.days").set_value("730").run()
    _field(at, "orders.gross_margin").set_value("45%").run()
    _field(at, "budget.split.warm").set_value("0.2").run()
    assert _errors(at) == ""
    assert at.query_params["orders.gross_margin"] == "0.45"
    assert _library(lib) == before


def test_variant_problems_name_the_variant(at: AppTest) -> None:
    def area():  # fetched again after each run: elements belong to one run's tree
        return next(t for t in at.text_area if t.key.endswith(":text"))

    area().set_value("guarantee.dayz: 365").run()
    name = next(t for t in at.text_input if t.key.endswith(":name") and ":v" in t.key)
    errors = _errors(at)
    assert (f"variants.{name.value}.guarantee.dayz: names no field of the scenario; did you "
            "mean 'days'?") in errors
    area().set_value("budget.split.cold: [1, 2").run()
    assert f"variants.{name.value}: not valid YAML" in _errors(at)
    # Two variants with one name.
    other = [t for t in at.text_input if t.key.endswith(":name") and ":v" in t.key][1]
    other.set_value(name.value).run()
    assert "two variants are called" in _errors(at)


def test_overwriting_asks_first_and_cancel_keeps_the_file(at: AppTest, lib: Path) -> None:
    at.button(key="editor_new").click().run()
    _name_box(at).set_value("Baseline").run()
    before = (lib / "baseline.yaml").read_bytes()
    at.button(key="editor_save").click().run()
    warning = " ".join(w.value for w in at.warning)
    assert "baseline.yaml already exists (“Online shop, 6:3:1”)" in warning
    assert (lib / "baseline.yaml").read_bytes() == before
    at.button(key="editor_cancel_replace").click().run()
    assert (lib / "baseline.yaml").read_bytes() == before
    at.button(key="editor_save").click().run()
    at.button(key="editor_confirm_replace").click().run()
    assert load_scenario_file(lib / "baseline.yaml").name == "Baseline"


def test_file_changed_on_disk_is_not_overwritten(at: AppTest, lib: Path) -> None:
    _field(at, "guarantee.days").set_value("365").run()
    # Someone else changes the file after it was opened.
    theirs = (lib / "baseline.yaml").read_text().replace("days: 30,", "days: 90,")
    assert theirs != (lib / "baseline.yaml").read_text()
    (lib / "baseline.yaml").write_text(theirs)
    os.utime(lib / "baseline.yaml")
    _field(at, "guarantee.days").set_value("400").run()
    assert "baseline.yaml was changed on disk since you opened it" in _errors(at)
    assert not [b for b in at.button if b.key in ("editor_save", "editor_confirm_replace")]
    copy_button = at.button(key="editor_save_copy")
    assert copy_button.label == "Save my version as online-shop-6-3-1-copy.yaml"
    copy_button.click().run()
    assert not at.exception
    assert (lib / "baseline.yaml").read_text() == theirs
    mine = load_scenario_file(lib / "online-shop-6-3-1-copy.yaml")
    assert (mine.name, mine.guarantee.days) == ("Online shop, 6:3:1 (copy)", 400)


def test_conflict_reload_shows_the_file_on_disk(at: AppTest, lib: Path) -> None:
    _field(at, "guarantee.days").set_value("365").run()
    text = (lib / "baseline.yaml").read_text().replace("days: 30,", "days: 90,")
    (lib / "baseline.yaml").write_text(text)
    at.run()
    at.button(key="editor_reload_conflict").click().run()
    assert not at.exception
    assert _field(at, "guarantee.days").value == "90"
    assert "guarantee.days" not in at.query_params
    assert _errors(at) == ""


def test_bad_upload_lists_problems_and_changes_nothing(at: AppTest, lib: Path) -> None:
    before = _library(lib)
    bad = (b"schema: 1\nname: Broken\nbudget: {monthly: -5, split: {cold: 0.5, warm: 0.3, "
           b"hot: 0.1}}\nguarantee: {dayz: 30}\norders: {gross_margin: 1.5}\n")
    at.file_uploader(key="editor_upload").set_value(("broken.yaml", bad,
                                                     "application/x-yaml")).run()
    assert not at.exception
    message = _errors(at)
    assert "broken.yaml cannot be used" in message and "the library is unchanged" in message
    for path in ("budget.monthly", "budget.split", "guarantee.dayz", "orders.gross_margin"):
        assert f"`{path}`" in message, path
    assert "did you mean 'days'?" in message
    assert _library(lib) == before
    # The editor still holds what it held.
    assert _name_box(at).value == "Online shop, 6:3:1"
    oversize = b"name: big\n" + b"# padding\n" * 30_000
    at.file_uploader(key="editor_upload").set_value(("big.yaml", oversize,
                                                     "application/x-yaml")).run()
    assert "the limit is 256 KB" in _errors(at)
    assert _library(lib) == before


def test_good_upload_opens_for_review_then_saves(at: AppTest, lib: Path) -> None:
    source = load_scenario_file(lib / "guarantee.yaml")
    text = dump_scenario(source.model_copy(update={"name": "Uploaded shop"})).encode()
    at.file_uploader(key="editor_upload").set_value(("mine.yaml", text,
                                                     "application/x-yaml")).run()
    assert not at.exception
    assert not (lib / "uploaded-shop.yaml").exists()
    assert _name_box(at).value == "Uploaded shop"
    assert "not saved yet" in _answer(at)
    at.button(key="editor_save").click().run()
    assert (lib / "uploaded-shop.yaml").read_bytes() == text
    assert load_scenario_text(text).name == "Uploaded shop"


def test_presenter_mode_shows_the_scenario_read_only(lib: Path) -> None:
    app = open_page(new_app(), PAGE, present="1", **{"guarantee.days": "365"})
    assert not app.text_input and not app.file_uploader
    table = app.table[0].value
    days = table[table["Field"] == "Guarantee length"]["Value"].iloc[0]
    assert days == "365 days"
    assert "1 changed field from baseline.yaml is not saved yet" in _answer(app)


def _variant_rows(app: AppTest) -> list:
    return [t for t in app.text_input if t.key.endswith(":name") and ":v" in t.key]


def _variant_text(app: AppTest, name_box) -> Any:
    return _by_key_end(app.text_area, name_box.key.removesuffix(":name").split(":", 1)[1]
                       + ":text")


def test_variants_and_renames_survive_another_page_and_are_saved(at: AppTest,
                                                                 lib: Path) -> None:
    """The lost-variant steps (issue 14): add a variant, name it, set a field in it, rename
    another variant, go to the Guarantee page and back: all still there; saving writes them."""
    at.button(key=next(b.key for b in at.button if b.key.endswith("add_variant"))).click().run()
    _variant_rows(at)[-1].set_value("Longer guarantee").run()
    _variant_text(at, _variant_rows(at)[-1]).set_value("guarantee.days: 90").run()
    first = _variant_rows(at)[0]
    old_name = first.value
    first.set_value("Acquisition first (renamed)").run()
    assert not at.exception and _errors(at) == ""
    at.switch_page("pages/guarantee.py").run()
    assert not at.exception
    # The other page says the editor holds unsaved changes, with a link back.
    assert any(w.value.startswith("Unsaved changes in the Scenario editor (baseline.yaml)")
               for w in at.warning)
    at.switch_page(PAGE).run()
    assert not at.exception
    names = [box.value for box in _variant_rows(at)]
    assert names[0] == "Acquisition first (renamed)" and old_name not in names
    assert names[-1] == "Longer guarantee"
    assert _variant_text(at, _variant_rows(at)[-1]).value == "guarantee.days: 90"
    assert "New variant" not in names
    at.button(key="editor_save").click().run()
    at.button(key="editor_confirm_replace").click().run()
    assert not at.exception
    text = (lib / "baseline.yaml").read_text()
    assert "New variant" not in text
    saved = load_scenario_file(lib / "baseline.yaml")
    assert saved.variants["Longer guarantee"] == {"guarantee": {"days": 90}}
    assert "Acquisition first (renamed)" in saved.variants and old_name not in saved.variants
    assert "Saved baseline.yaml." in " ".join(s.value for s in at.success)
    # Saved: the other pages no longer warn.
    at.switch_page("pages/guarantee.py").run()
    assert not [w for w in at.warning if w.value.startswith("Unsaved changes")]


def test_a_field_typed_just_before_leaving_is_kept(at: AppTest) -> None:
    """The last change can arrive with the run that draws another page: its callback keeps it."""
    box = _field(at, "guarantee.days")
    box.set_value("120")
    at.switch_page("pages/guarantee.py").run()
    at.switch_page(PAGE).run()
    assert _field(at, "guarantee.days").value == "120"
    _field(at, "orders.gross_margin").set_value("abc").run()
    at.switch_page("pages/overview.py").run()
    at.switch_page(PAGE).run()
    assert _field(at, "orders.gross_margin").value == "abc"
    assert any(e.startswith("orders.gross_margin: 'abc' is not a number")
               for e in (e.value for e in at.error))


def test_revert_to_saved_asks_then_drops_the_draft(at: AppTest, lib: Path) -> None:
    before = _library(lib)
    _field(at, "guarantee.days").set_value("365").run()
    _variant_rows(at)[0].set_value("Renamed").run()
    at.button(key="editor_revert").click().run()
    assert "Discard your unsaved changes" in " ".join(w.value for w in at.warning)
    at.button(key="editor_discard_no").click().run()
    assert _field(at, "guarantee.days").value == "365"
    assert _variant_rows(at)[0].value == "Renamed"
    at.button(key="editor_revert").click().run()
    at.button(key="editor_discard_yes").click().run()
    assert not at.exception
    assert _field(at, "guarantee.days").value == "30"
    assert _variant_rows(at)[0].value != "Renamed"
    assert "guarantee.days" not in at.query_params
    assert _library(lib) == before
    # Nothing unsaved: revert needs no confirmation, and other pages show no notice.
    at.button(key="editor_revert").click().run()
    assert not [w for w in at.warning if "Discard" in w.value]
    at.switch_page("pages/guarantee.py").run()
    assert not [w for w in at.warning if w.value.startswith("Unsaved changes")]


def test_saving_over_a_file_whose_comments_cannot_be_kept_says_so(lib: Path) -> None:
    path = lib / "baseline.yaml"
    flow = json.dumps(load_scenario_file(path).to_file_dict())
    path.write_text("# notes\n" + flow + "\n")
    at = open_page(new_app(), PAGE, trials="500")
    _field(at, "guarantee.days").set_value("45").run()
    at.button(key="editor_save").click().run()
    at.button(key="editor_confirm_replace").click().run()
    assert not at.exception
    notice = " ".join(s.value for s in at.success)
    assert "Saved baseline.yaml." in notice
    assert "Comments could not be kept" in notice
    assert "baseline.yaml was rewritten in the standard layout" in notice
    assert load_scenario_file(path).guarantee.days == 45


def test_no_server_folder_is_shown(at: AppTest, lib: Path) -> None:
    at.button(key="editor_new").click().run()
    _name_box(at).set_value("Folder check").run()
    shown = " ".join(m.value for m in [*at.markdown, *at.caption, *at.info])
    assert "Saves to **folder-check.yaml** in the scenario library" in shown
    at.button(key="editor_save").click().run()
    shown = " ".join(m.value for m in [*at.markdown, *at.caption, *at.success, *at.info,
                                      *at.warning, *at.error])
    assert "Saved folder-check.yaml." in shown
    assert str(lib) not in shown and str(REPO_ROOT) not in shown


def test_a_new_session_opens_the_field_changes_of_its_link(lib: Path) -> None:
    """What a reload keeps: a new session has no draft, but field changes are in the address."""
    app = open_page(new_app(), PAGE, trials="500", **{"guarantee.days": "365"})
    assert _field(app, "guarantee.days").value == "365"
    assert "1 changed field from baseline.yaml is not saved yet" in _answer(app)
