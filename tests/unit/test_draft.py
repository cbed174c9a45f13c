"""The editor's draft without widgets (ui/draft.py): values as typed, variants, validation.

Expected values are written out by hand from the scenario files and the schema's rules, never
taken from the functions under test.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from sim.scenario import apply_overrides, dump_scenario, load_scenario_file
from tests.conftest import REPO_ROOT
from ui.draft import (
    Draft,
    describe_value,
    draft_from_scenario,
    form_defaults,
    form_value,
    get_path,
    overrides_to_text,
    parse_number,
    place_problems,
    read_variants,
    set_path,
    text_to_overrides,
    validate_draft,
    value_centre,
    value_form,
    value_params,
)

BASELINE = load_scenario_file(REPO_ROOT / "scenarios" / "baseline.yaml")


def _draft() -> Draft:
    return draft_from_scenario(BASELINE, "a test")


def _rows(draft: Draft) -> list[dict]:
    return [dict(row) for row in draft.variants]


def test_the_draft_module_needs_no_streamlit() -> None:
    code = "import sys, ui.draft; print('streamlit' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True,
                          text=True, check=True, timeout=120)
    assert done.stdout.strip() == "False"


def test_a_draft_starts_with_the_file_variants_as_rows_in_file_order() -> None:
    draft = _draft()
    assert [row["name"] for row in draft.variants] == [
        "80/20/0 acquisition first", "40/30/30 balanced", "30/60/10 nurture leads",
        "20/30/50 retention heavy"]
    assert [row["id"] for row in draft.variants] == [0, 1, 2, 3]
    assert draft.variants[1]["text"] == (
        "budget.split.cold: 0.4\nbudget.split.warm: 0.3\nbudget.split.hot: 0.3")


def test_adding_variants_numbers_the_new_names_and_gives_fresh_ids() -> None:
    draft = _draft()
    draft.add_new_variant()
    draft.add_new_variant()
    assert [(row["id"], row["name"], row["text"]) for row in draft.variants[-2:]] == [
        (4, "New variant", ""), (5, "New variant 2", "")]
    variants, problems = read_variants(_rows(draft))
    assert problems == []
    assert variants["New variant"] == {} and variants["New variant 2"] == {}


def test_a_removed_variant_leaves_the_file_and_its_id_is_not_reused() -> None:
    draft = _draft()
    draft.remove_variant(1)
    assert [row["name"] for row in draft.variants] == [
        "80/20/0 acquisition first", "30/60/10 nurture leads", "20/30/50 retention heavy"]
    draft.add_new_variant()
    assert draft.variants[-1]["id"] == 4
    data = dict(draft.data)
    data["variants"], problems = read_variants(_rows(draft))
    result = validate_draft(data, problems)
    assert result.problems == []
    assert result.scenario is not None
    assert list(result.scenario.variants) == [
        "80/20/0 acquisition first", "30/60/10 nurture leads", "20/30/50 retention heavy",
        "New variant"]


def test_a_renamed_variant_keeps_its_changes_under_the_new_name() -> None:
    draft = _draft()
    rows = _rows(draft)
    rows[0]["name"] = "All on acquisition"
    data = dict(draft.data)
    data["variants"], problems = read_variants(rows)
    result = validate_draft(data, problems)
    assert result.scenario is not None
    assert "80/20/0 acquisition first" not in result.scenario.variants
    assert result.scenario.variants["All on acquisition"] == {
        "budget": {"split": {"cold": 0.8, "warm": 0.2, "hot": 0.0}}}


def test_variant_rows_without_a_name_or_with_a_repeated_name_are_problems() -> None:
    rows = [{"id": 0, "name": "", "text": "guarantee.days: 90"},
            {"id": 1, "name": "Long", "text": "guarantee.days: 365"},
            {"id": 2, "name": "Long", "text": "guarantee.days: 180"}]
    variants, problems = read_variants(rows)
    assert variants == {"Long": {"guarantee": {"days": 365}}}
    assert problems == ["variants.(row 1): give the variant a name",
                        "variants.Long: two variants are called 'Long'; names must differ"]


def test_variant_text_that_is_not_yaml_names_the_variant() -> None:
    variants, problems = read_variants([{"id": 0, "name": "Bad", "text": "guarantee.days: [1"}])
    assert variants == {"Bad": {}}
    assert len(problems) == 1
    assert problems[0].startswith("variants.Bad: not valid YAML at line 1")


def test_a_variant_line_naming_no_field_is_reported_by_validation() -> None:
    data = _draft().data
    data["variants"], problems = read_variants(
        [{"id": 0, "name": "Typo", "text": "guarantee.dayz: 90"}])
    result = validate_draft(data, problems)
    assert result.scenario is None
    assert result.problems == [
        "variants.Typo.guarantee.dayz: names no field of the scenario; did you mean 'days'? "
        "allowed here: days, reference_days, return_rate_at_reference, return_elasticity, "
        "conversion_elasticity, handling_cost, resale_share"]


def test_setting_a_field_changes_the_scenario_and_only_that_field() -> None:
    draft = _draft()
    data = draft.data
    set_path(data, "guarantee.days", 365)
    set_path(data, "orders.first_value", form_value("range", {"low": 50, "high": 90}))
    result = validate_draft(data, [])
    assert result.problems == []
    assert result.scenario.guarantee.days == 365
    assert get_path(result.scenario.to_file_dict(), "orders.first_value") == {
        "low": 50.0, "high": 90.0}
    assert result.scenario.orders.repeat_value == BASELINE.orders.repeat_value
    assert get_path(data, "no.such.path") is None


def test_set_path_creates_missing_sections() -> None:
    data: dict = {}
    set_path(data, "hot.churn.sbg.alpha", 0.7)
    assert data == {"hot": {"churn": {"sbg": {"alpha": 0.7}}}}


def test_out_of_range_values_are_reported_at_their_dotted_path() -> None:
    data = _draft().data
    set_path(data, "guarantee.days", 0)
    set_path(data, "hot.churn_unpreventable", 1.5)
    result = validate_draft(data, [])
    assert result.scenario is None
    assert result.problems == [
        "hot.churn_unpreventable: must be a rate between 0 and 1, got 1.5",
        "guarantee.days: must be a whole number of days from 1 to 3,650, got 0"]


def test_text_that_is_not_a_number_keeps_only_its_own_message() -> None:
    data = _draft().data
    set_path(data, "budget.monthly", "lots")
    typed = ["budget.monthly: 'lots' is not a number (type digits such as 1500 or 0.05)"]
    result = validate_draft(data, typed)
    # The schema would also complain about the text; the typed problem is the clearer one.
    assert result.problems == typed
    assert result.scenario is None


def test_a_split_that_does_not_sum_to_one_is_one_problem_on_the_split() -> None:
    data = _draft().data
    set_path(data, "budget.split.hot", 0.2)
    result = validate_draft(data, [])
    assert result.problems == [
        "budget.split: cold + warm + hot must sum to 1 (within 0.000001), got 1.1"]
    placed = place_problems(result.problems, ["budget", "budget.split", "budget.split.hot"])
    assert placed == {"budget.split": result.problems}


def test_problems_go_beside_the_longest_matching_slot_or_to_the_top() -> None:
    problems = ["budget.split.cold: must be a share between 0 and 1, got 2",
                "hot.churn.sbg.alpha: must be a number above 0 (up to 1000), got 0",
                "(file): the file is empty"]
    placed = place_problems(problems, ["budget", "budget.split", "hot.churn", "name"])
    assert placed == {"budget.split": [problems[0]], "hot.churn": [problems[1]],
                      "": [problems[2]]}


def test_a_draft_round_trips_to_the_same_scenario_and_bytes() -> None:
    draft = _draft()
    data = dict(draft.data)
    data["variants"], problems = read_variants(_rows(draft))
    result = validate_draft(data, problems)
    assert result.problems == []
    assert result.scenario == BASELINE
    assert dump_scenario(result.scenario) == dump_scenario(BASELINE)


def test_following_fields_keeps_name_description_and_variants() -> None:
    draft = _draft()
    draft.data["name"] = "My edit"
    draft.data["variants"] = {"Only": {"guarantee": {"days": 60}}}
    generation = draft.generation
    other = BASELINE.model_copy(update={"name": "Other name"})
    other = apply_overrides(other, {"guarantee.days": 90})
    draft.follow_fields(other)
    assert draft.data["guarantee"]["days"] == 90
    assert draft.data["name"] == "My edit"
    assert draft.data["variants"] == {"Only": {"guarantee": {"days": 60}}}
    assert draft.loaded == draft.data
    assert draft.generation > generation
    assert draft.pushed == other.canonical()


@pytest.mark.parametrize(("typed", "expected"), [
    ("2,000,000", 2_000_000), ("$45", 45), ("5%", 0.05), ("1e-4", 0.0001), (" 0.25 ", 0.25),
    ("-3", -3), (".5", 0.5),
])
def test_numbers_are_read_as_people_type_them(typed: str, expected: float) -> None:
    value = parse_number(typed)
    assert value == pytest.approx(expected, rel=1e-15)
    assert isinstance(value, int) == isinstance(expected, int)


@pytest.mark.parametrize(("typed", "message"), [
    ("", "enter a number"),
    ("ten", "'ten' is not a number (type digits such as 1500 or 0.05)"),
    ("1.2.3", "'1.2.3' is not a number (type digits such as 1500 or 0.05)"),
])
def test_text_that_is_not_a_number_gets_a_readable_message(typed: str, message: str) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)")
                       .replace(".", r"\.") + "$"):
        parse_number(typed)


def test_value_forms_and_their_parameters() -> None:
    assert value_form(30) == "number" and value_params(30) == {"value": 30}
    assert value_form({"low": 6, "high": 14}) == "range"
    assert value_form({"dist": "uniform", "min": 0.0, "max": 0.04}) == "uniform"
    assert value_params({"dist": "uniform", "min": 0.0, "max": 0.04}) == {"min": 0.0,
                                                                          "max": 0.04}
    assert form_value("triangular", {"min": 1, "mode": 2, "max": 4}) == {
        "dist": "triangular", "min": 1, "mode": 2, "max": 4}


def test_the_centre_of_a_value_prefills_another_form() -> None:
    # A 90% range's centre is its geometric mean (the lognormal median): sqrt(6 * 14).
    assert value_centre({"low": 6, "high": 14}) == pytest.approx(84 ** 0.5, rel=1e-12)
    assert value_centre({"dist": "beta", "a": 3, "b": 7}) == pytest.approx(0.3, rel=1e-12)
    assert value_centre({"dist": "normal", "mean": 5, "sd": 1}) == 5.0
    assert value_centre({"low": "x"}) == 0.0
    # Around a rate of 0.9 the range's top stays below 1: (1 + 0.9) / 2.
    assert form_defaults("range", 0.9, "rate") == {"low": 0.675, "high": 0.95}
    assert form_defaults("normal", 40.0, "amount") == {"mean": 40.0, "sd": 4.0}
    assert form_defaults("beta", 0.25, "rate") == {"a": 5.0, "b": 15.0}


def test_values_in_words_put_dollars_before_the_number() -> None:
    assert describe_value({"low": 6, "high": 14}, "$") == "$6 to $14 (90% range)"
    assert describe_value(50000, "$ per month") == "$50,000 per month"
    assert describe_value({"dist": "uniform", "min": 0.0, "max": 0.04}) == "0 to 0.04 (uniform)"
    assert describe_value(30, "days") == "30 days"


def test_overrides_become_one_line_per_field_and_back() -> None:
    overrides = {"guarantee": {"days": 365}, "orders": {"first_value": {"low": 50, "high": 90}}}
    text = overrides_to_text(overrides)
    assert text == "guarantee.days: 365\norders.first_value: {low: 50, high: 90}"
    assert text_to_overrides(text, "variants.x") == overrides
    assert text_to_overrides("# only a note\n", "variants.x") == {}


def test_typed_inputs_are_kept_by_the_draft_and_make_it_unsaved() -> None:
    draft = _draft()
    assert not draft.unsaved(BASELINE)
    first, last = draft.variants[0], draft.variants[-1]
    draft.add_new_variant()
    new_id = draft.variants[-1]["id"]
    draft.keep_input(f"v{new_id}:name", " Longer guarantee ")
    draft.keep_input(f"v{new_id}:text", "guarantee.days: 90")
    draft.keep_input(f"v{first['id']}:name", "Renamed")
    variants = draft.file_data()["variants"]
    assert variants["Longer guarantee"] == {"guarantee": {"days": 90}}
    assert "Renamed" in variants and "80/20/0 acquisition first" not in variants
    assert variants[last["name"]] == BASELINE.variants[last["name"]]
    assert "New variant" not in variants
    assert draft.unsaved(BASELINE)
    # A field: the typed text is kept for its widget, and a number goes into the data at once.
    draft.keep_input("guarantee.days:number:value", "120")
    assert draft.inputs["guarantee.days:number:value"] == "120"
    assert draft.data["guarantee"]["days"] == 120
    draft.keep_input("orders.gross_margin:number:value", "abc")
    assert draft.inputs["orders.gross_margin:number:value"] == "abc"
    assert draft.data["orders"]["gross_margin"] == BASELINE.orders.gross_margin.value
    draft.keep_input("name", "  Shop  ")
    assert draft.data["name"] == "Shop"
    # Following fields changed elsewhere recreates the widgets from the data: typed text goes.
    draft.reload_widgets()
    assert draft.inputs == {}


def test_a_draft_equal_to_its_file_is_saved_and_a_new_one_is_not() -> None:
    draft = _draft()
    draft.keep_input("guarantee.days:number:value", "60")
    assert draft.unsaved(BASELINE)
    draft.keep_input("guarantee.days:number:value", "30")
    assert BASELINE.guarantee.days == 30
    assert not draft.unsaved(BASELINE)
    assert draft.unsaved(None)
