"""Saving keeps what the marketer wrote (issue 14): sim.yaml_keep and the library's save.

Each edit checks the three guarantees of `updated_file_text`:
(a) the saved text loads back as exactly the scenario that was saved;
(b) only the lines of the values that changed differ: the test names the lines removed and the
    lines added, so every comment line and every other line is byte-identical;
(c) saving the result again with no change gives the same bytes.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sim import yaml_keep
from sim.scenario import (
    Scenario,
    ScenarioError,
    apply_overrides,
    build_scenario,
    dump_scenario,
    load_scenario_text,
)
from sim.splits import BudgetSplit, add_split_variant
from sim.yaml_keep import updated_file_text
from ui.library import read_entry, save_scenario

SHIPPED = sorted((Path(__file__).resolve().parents[2] / "scenarios").glob("*.yaml"))

HAND_WRITTEN = """\
# Funnel Lab scenario for the spring plan.
# Owner: marketing (Ana). Figures from the Q3 review.
schema: 1
name: 'Spring plan'   # shown in the sidebar
description: >-
  A hand-written scenario with a long folded description that goes on for more than eighty
  characters, so that it is folded over several lines when it is written.

# --- Simulation -------------------------------------------------
simulation:
  horizon_months: 36    # three years
  trials: 5000
  seed: 20261122
  flows: "expected"

finance: {discount_rate_annual: 0.10}
market: {prospects: 2000000, warm_start: 20000, customers_start: 5000, customers_start_tenure: 12}

budget:
  monthly: 50000          # agreed with finance
  growth_monthly: 0.0
  split: {cold: 0.6, warm: 0.3, hot: 0.1}

# CPM range from Q3 invoices
cold:
  cost_per_thousand: {low: 6, high: 14}   # CPM range from Q3 invoices
  engagement_rate: {low: 0.005, high: 0.02}

  # decay guessed from the CRM export
  lead_decay_monthly: 0.10
warm: {conversion_no_spend: 0.002, conversion_max: {low: 0.03, high: 0.08}, spend_scale: 3.0}
hot:
  churn:
    monthly: {low: 0.07, high: 0.13}   # churn as in 2025
  churn_unpreventable: 0.3
  repeat_no_spend: 0.10
  repeat_max: 0.35
  spend_scale: {low: 4, high: 25}
orders: {first_value: {low: 45, high: 80}, repeat_value: {low: 75, high: 130}, gross_margin: 0.5}
guarantee: {days: 30, reference_days: 30, return_rate_at_reference: {low: 0.03, high: 0.07}, \
return_elasticity: 0.169, conversion_elasticity: {dist: uniform, min: 0.0, max: 0.04}, \
handling_cost: 8, resale_share: 0.5}

# Plans we compare
variants:
  # what the CFO asked for
  "8:2:0 acquisition first": {budget: {split: {cold: 0.8, warm: 0.2, hot: 0.0}}}   # CFO
  "4:3:3 balanced": {budget: {split: {cold: 0.4, warm: 0.3, hot: 0.3}}}

  # retention ideas
  "2:3:5 retention heavy": {budget: {split: {cold: 0.2, warm: 0.3, hot: 0.5}}}
# end of file
"""


def _line_changes(before: str, after: str) -> tuple[list[str], list[str]]:
    """Return (lines removed, lines added) between two texts, in order."""
    removed, added = [], []
    matcher = difflib.SequenceMatcher(a=before.splitlines(), b=after.splitlines(), autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            removed += before.splitlines()[i1:i2]
            added += after.splitlines()[j1:j2]
    return removed, added


def _saved(original: str, scenario: Scenario) -> str:
    """Save `scenario` over `original`; check guarantees (a) and (c); return the text."""
    result = updated_file_text(original, scenario)
    assert result.comments_kept, result.reason
    assert result.reason == ""
    assert load_scenario_text(result.text).canonical() == scenario.canonical()  # (a)
    again = updated_file_text(result.text, scenario)
    assert again.comments_kept and again.text == result.text  # (c)
    return result.text


def _check(original: str, scenario: Scenario, removed: list[str], added: list[str]) -> str:
    """Guarantees (a), (b) and (c) for one edit, (b) as the exact lines removed and added."""
    text = _saved(original, scenario)
    assert _line_changes(original, text) == (removed, added)  # (b)
    return text


@pytest.fixture(scope="module")
def hand() -> Scenario:
    return load_scenario_text(HAND_WRITTEN)


def _with(scenario: Scenario, **changes: Any) -> Scenario:
    data = scenario.to_file_dict()
    data.update(changes)
    return build_scenario(data)


def test_no_change_keeps_every_byte(hand: Scenario) -> None:
    assert _check(HAND_WRITTEN, hand, [], []) == HAND_WRITTEN


def test_changed_numbers_keep_trailing_comments(hand: Scenario) -> None:
    edited = apply_overrides(hand, {"budget.monthly": 60000, "cold.lead_decay_monthly": 0.12})
    _check(HAND_WRITTEN, edited,
           ["  monthly: 50000          # agreed with finance", "  lead_decay_monthly: 0.10"],
           ["  monthly: 60000          # agreed with finance", "  lead_decay_monthly: 0.12"])


def test_number_to_range_in_block_and_flow_sections(hand: Scenario) -> None:
    edited = apply_overrides(hand, {"hot.churn_unpreventable": {"low": 0.2, "high": 0.4},
                                    "finance.discount_rate_annual": {"low": 0.05, "high": 0.15}})
    _check(HAND_WRITTEN, edited,
           ["finance: {discount_rate_annual: 0.10}", "  churn_unpreventable: 0.3"],
           ["finance: {discount_rate_annual: {low: 0.05, high: 0.15}}",
            "  churn_unpreventable: {low: 0.2, high: 0.4}"])


def test_range_to_number_keeps_the_invoice_comment(hand: Scenario) -> None:
    edited = apply_overrides(hand, {"cold.cost_per_thousand": 9})
    _check(HAND_WRITTEN, edited,
           ["  cost_per_thousand: {low: 6, high: 14}   # CPM range from Q3 invoices"],
           ["  cost_per_thousand: 9   # CPM range from Q3 invoices"])


def test_distribution_changes_and_small_numbers_read_back_as_numbers(hand: Scenario) -> None:
    edited = apply_overrides(hand, {
        "guarantee.conversion_elasticity": {"dist": "triangular", "min": 0, "mode": 0.01,
                                            "max": 0.05},
        "cold.engagement_rate": 0.00001})
    old_guarantee = HAND_WRITTEN.split("\n# Plans")[0].rsplit("\n", 2)[-2]
    new_guarantee = old_guarantee.replace(
        "{dist: uniform, min: 0.0, max: 0.04}",
        "{dist: triangular, min: 0.0, mode: 0.01, max: 0.05}")  # the kept min keeps its text
    _check(HAND_WRITTEN, edited,
           ["  engagement_rate: {low: 0.005, high: 0.02}", old_guarantee],
           ["  engagement_rate: 1.0e-05", new_guarantee])


def test_churn_monthly_to_sbg(hand: Scenario) -> None:
    edited = apply_overrides(hand, {"hot.churn.sbg": {"alpha": 0.7, "beta": 1.2}})
    # The trailing comment was on the line of the form that is gone, so it goes with it.
    _check(HAND_WRITTEN, edited, ["    monthly: {low: 0.07, high: 0.13}   # churn as in 2025"],
           ["    sbg: {alpha: 0.7, beta: 1.2}"])
    back = _saved(_saved(HAND_WRITTEN, edited), hand)
    assert _line_changes(HAND_WRITTEN, back) == (
        ["    monthly: {low: 0.07, high: 0.13}   # churn as in 2025"],
        ["    monthly: {low: 0.07, high: 0.13}"])


def test_variant_added_as_budget_split_saves_it(hand: Scenario) -> None:
    edited = add_split_variant(hand, "5:3:2 test", BudgetSplit(50, 30, 20))
    text = _check(HAND_WRITTEN, edited, [],
                  ['  "5:3:2 test": {budget: {split: {cold: 0.5, warm: 0.3, hot: 0.2}}}'])
    # In variant order: after the last variant, before the closing comment.
    assert text.endswith('hot: 0.2}}}\n# end of file\n')


def test_variant_removed_goes_with_its_lines(hand: Scenario) -> None:
    variants = dict(hand.variants)
    del variants["4:3:3 balanced"]
    _check(HAND_WRITTEN, _with(hand, variants=variants),
           ['  "4:3:3 balanced": {budget: {split: {cold: 0.4, warm: 0.3, hot: 0.3}}}'], [])
    # The comment directly above a removed entry (same indentation) is about it: it goes too.
    del variants["8:2:0 acquisition first"]
    _check(HAND_WRITTEN, _with(hand, variants=variants),
           ["  # what the CFO asked for",
            '  "8:2:0 acquisition first": {budget: {split: {cold: 0.8, warm: 0.2, hot: 0.0}}}'
            "   # CFO",
            '  "4:3:3 balanced": {budget: {split: {cold: 0.4, warm: 0.3, hot: 0.3}}}'], [])


def test_every_variant_removed_then_one_added(hand: Scenario) -> None:
    empty = _with(hand, variants={})
    text = _saved(HAND_WRITTEN, empty)
    assert "variants: {}\n# end of file\n" in text
    assert "# Plans we compare\n" in text and "  # retention ideas" not in text
    readded = add_split_variant(empty, "Only", BudgetSplit(50, 30, 20))
    assert _line_changes(text, _saved(text, readded)) == (
        ["variants: {}"],
        ["variants:", "  Only: {budget: {split: {cold: 0.5, warm: 0.3, hot: 0.2}}}"])


def test_variant_renamed_in_place_with_the_file_quoting(hand: Scenario) -> None:
    variants = {("Balanced 4:3:3" if name == "4:3:3 balanced" else name): overrides
                for name, overrides in hand.variants.items()}
    _check(HAND_WRITTEN, _with(hand, variants=variants),
           ['  "4:3:3 balanced": {budget: {split: {cold: 0.4, warm: 0.3, hot: 0.3}}}'],
           ['  "Balanced 4:3:3": {budget: {split: {cold: 0.4, warm: 0.3, hot: 0.3}}}'])


def test_name_and_description_changed(hand: Scenario) -> None:
    description = ("The autumn plan: the same shop with a larger budget, checked against the "
                   "invoices of the third quarter and the churn of last year.")
    edited = _with(hand, name="Autumn plan", description=description)
    canonical_description = dump_scenario(edited).split("description: ")[1].split("\nsimulation")[0]
    text = _check(HAND_WRITTEN, edited,
                  ["name: 'Spring plan'   # shown in the sidebar",
                   *HAND_WRITTEN.split("description: ")[1].split("\n\n")[0].split("\n")[1:]],
                  ["name: Autumn plan   # shown in the sidebar",
                   *canonical_description.split("\n")[1:]])
    assert "description: >-\n  The autumn plan:" in text
    old_lines = text.split("\ndescription: ")[1].split("\n\n")[0].split("\n")
    short = _check(text, _with(edited, description="Short."),
                   ["description: >-", *old_lines[1:]], ["description: Short."])
    assert "description: Short.\n\n# --- Simulation" in short


def test_multi_line_description_and_odd_names_read_back(hand: Scenario) -> None:
    _saved(HAND_WRITTEN, _with(hand, name="It's: 50% {off}, #1 #tag", description="a\nb\n  c"))
    _saved(HAND_WRITTEN, _with(hand, name="yes", description="  leading spaces and tab\t"))


def test_missing_sections_and_keys_are_added_only_when_they_differ() -> None:
    original = "# only a name\nname: Mini  # tiny\n"
    scenario = load_scenario_text(original)
    assert _check(original, scenario, [], []) == original
    edited = add_split_variant(apply_overrides(scenario, {"guarantee.days": 90}), "Five",
                               BudgetSplit(50, 30, 20))
    text = _saved(original, edited)
    assert text.startswith(original)
    assert "variants:\n  Five: {budget: {split: {cold: 0.5, warm: 0.3, hot: 0.2}}}\n" in text
    assert "guarantee: {days: 90, reference_days: 30," in text


def test_windows_line_endings_are_kept(hand: Scenario) -> None:
    original = HAND_WRITTEN.replace("\n", "\r\n")
    edited = add_split_variant(apply_overrides(hand, {"budget.monthly": 1000}), "W",
                               BudgetSplit(50, 30, 20))
    text = _saved(original, edited)
    assert "\n" not in text.replace("\r\n", "")
    assert "  monthly: 1000          # agreed with finance\r\n" in text


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_scenario_edited_and_saved(path: Path) -> None:
    original = path.read_text(encoding="utf-8")
    scenario = load_scenario_text(original)
    assert _check(original, scenario, [], []) == original
    churn = ({"hot.churn.monthly": 0.08} if scenario.hot.churn.sbg is not None
             else {"hot.churn.sbg": {"alpha": 0.7, "beta": 1.2}})
    edited = apply_overrides(scenario, {"budget.monthly": 42000, **churn})
    edited = add_split_variant(edited, "5:3:2 test", BudgetSplit(50, 30, 20))
    text = _saved(original, edited)
    removed, added = _line_changes(original, text)
    assert [line.split(":")[0] for line in removed] == ["budget", "hot"]
    assert [line.split(":")[0] for line in added] == ["budget", "hot", '  "5']
    assert added[0] == removed[0].replace("monthly: 50000", "monthly: 42000").replace(
        "monthly: 30000", "monthly: 42000")


def test_unpatchable_file_falls_back_to_the_standard_text(hand: Scenario) -> None:
    for original in ["name: [unclosed\n", "{name: flow}\n", "name: &a x\ndescription: *a\n",
                     "", "# only a comment\n", "name: a\x00\n", "- a list\n"]:
        result = updated_file_text(original, hand)
        assert not result.comments_kept
        assert result.text == dump_scenario(hand)
        assert result.reason


def test_patch_that_does_not_read_back_falls_back(hand: Scenario,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yaml_keep, "_patched", lambda text, scenario, canonical: text)
    edited = apply_overrides(hand, {"budget.monthly": 1})
    result = updated_file_text(HAND_WRITTEN, edited)
    assert (result.comments_kept, result.text) == (False, dump_scenario(edited))
    assert result.reason == "the patched file would not read back as the saved scenario"


_HAND = load_scenario_text(HAND_WRITTEN)
_HAND_CANONICAL = _HAND.canonical()


@pytest.mark.slow
@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(original=st.text(max_size=300))
def test_any_original_text_never_raises(original: str) -> None:
    result = updated_file_text(original, _HAND)
    assert load_scenario_text(result.text).canonical() == _HAND_CANONICAL


# -------------------------------------------------------------- random edits of shipped files

_NUMBERS = {
    "rate": (0.001, 0.999), "amount": (0.5, 1e6), "cost": (0.0, 1e6), "count": (0.0, 1e7),
    "elasticity": (-2.0, 2.0), "discount": (0.0, 10.0), "growth": (-0.5, 0.5),
    "shape": (0.05, 100.0),
}
_INTEGERS = {"horizon": (1, 120), "trials": (100, 200_000), "seed": (0, 2**32 - 1),
             "days": (1, 3650), "tenure": (1, 240)}


@st.composite
def _field_edit(draw: st.DrawFn) -> dict[str, Any]:
    from sim.scenario import field_catalog

    info = draw(st.sampled_from([f for f in field_catalog() if f.kind != "share"]))
    if info.kind in _INTEGERS:
        return {info.path: draw(st.integers(*_INTEGERS[info.kind]))}
    if info.kind == "choice":
        return {info.path: draw(st.sampled_from(["expected", "random"]))}
    low, high = _NUMBERS[info.kind]
    number = st.floats(low, high, allow_nan=False) | st.integers(int(low), int(high))
    if not draw(st.booleans()):
        return {info.path: draw(number)}
    start = max(low, 0.001)
    lo = draw(st.floats(start, min(high / 2, 1000)))
    hi = draw(st.floats(lo * 1.01 + 1e-6, high if info.kind != "rate" else 0.999))
    return {info.path: {"low": lo, "high": hi}}


@st.composite
def _edits(draw: st.DrawFn) -> tuple[str, list[dict[str, Any]], dict[str, Any]]:
    path = draw(st.sampled_from(SHIPPED))
    fields = draw(st.lists(_field_edit(), min_size=1, max_size=4))
    extra: dict[str, Any] = {}
    if draw(st.booleans()):
        cold = draw(st.integers(0, 20))
        warm = draw(st.integers(0, 20 - cold))
        extra["budget.split"] = {"cold": cold / 20, "warm": warm / 20,
                                 "hot": (20 - cold - warm) / 20}
    extra["name"] = draw(st.none() | st.text(st.characters(min_codepoint=32,
                                                           max_codepoint=0x2FFF,
                                                           exclude_categories=("Cs",)),
                                             min_size=1, max_size=120))
    extra["rename"] = draw(st.booleans())
    return path.read_text(encoding="utf-8"), fields, extra


@pytest.mark.slow
@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow,
                                                   HealthCheck.filter_too_much])
@given(case=_edits())
def test_random_field_edits_of_shipped_files(case: tuple[str, list[dict[str, Any]],
                                                          dict[str, Any]]) -> None:
    original, fields, extra = case
    scenario = load_scenario_text(original)
    try:
        for field in fields:
            scenario = apply_overrides(scenario, field)
        if "budget.split" in extra:
            scenario = apply_overrides(scenario, {"budget.split": extra["budget.split"]})
    except ScenarioError:
        assume(False)
    data = scenario.to_file_dict()
    if extra["name"] is not None:
        data["name"] = extra["name"]
    if extra["rename"] and data["variants"]:
        first = next(iter(data["variants"]))
        data["variants"] = {(f"{name} (renamed)" if name == first else name): overrides
                            for name, overrides in data["variants"].items()}
    _saved(original, build_scenario(data))  # asserts (a), (c) and that comments were kept


# -------------------------------------------------------------- through the library's save


def test_save_as_variant_keeps_the_marketers_comment(fresh_scenario_library: Path) -> None:
    path = fresh_scenario_library / "baseline.yaml"
    shipped = path.read_text(encoding="utf-8")
    commented = shipped.replace("\ncold: {", "\n# CPM range from Q3 invoices\ncold: {")
    assert commented != shipped
    path.write_text(commented, encoding="utf-8")
    entry = read_entry("baseline")
    assert entry.scenario is not None
    updated = add_split_variant(entry.scenario, "5:3:2 test", BudgetSplit(50, 30, 20))
    saved = save_scenario("baseline", updated, expected_mtime_ns=entry.modified_ns,
                          expected_sha256=entry.sha256)
    text = path.read_text(encoding="utf-8")
    assert "\n# CPM range from Q3 invoices\ncold: {" in text
    new_line = '  "5:3:2 test": {budget: {split: {cold: 0.5, warm: 0.3, hot: 0.2}}}\n'
    assert text == commented + new_line
    assert saved.name == "baseline.yaml" and saved.layout_note == ""
    assert read_entry("baseline").scenario.canonical() == updated.canonical()
    # Saving the reloaded file unchanged writes the same bytes.
    again = read_entry("baseline")
    save_scenario("baseline", again.scenario, expected_mtime_ns=again.modified_ns,
                  expected_sha256=again.sha256)
    assert path.read_text(encoding="utf-8") == text


def test_save_over_an_unpatchable_file_says_comments_were_not_kept(
        fresh_scenario_library: Path) -> None:
    path = fresh_scenario_library / "baseline.yaml"
    path.write_text("# notes\n{name: flow style root}\n", encoding="utf-8")
    saved = save_scenario("baseline", Scenario(name="Other"), overwrite=True)
    assert "Comments could not be kept" in saved.layout_note
    assert path.read_text(encoding="utf-8") == dump_scenario(Scenario(name="Other"))
    new = save_scenario("brand-new", Scenario(name="New"))
    assert new.layout_note == ""
    assert new.read_text(encoding="utf-8") == dump_scenario(Scenario(name="New"))
