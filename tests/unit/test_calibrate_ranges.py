"""Proposed ranges and the scenario's `sources` notes: validation, saving byte for byte, and
accepting proposals (paired sBG paths, notes kept)."""

from __future__ import annotations

import pytest

from sim.calibrate.ranges import ProposedRange, chosen_overrides
from sim.scenario import (
    Scenario,
    ScenarioError,
    apply_overrides,
    dump_scenario,
    load_scenario_file,
    load_scenario_text,
)
from tests.conftest import REPO_ROOT

BASELINE = REPO_ROOT / "scenarios" / "baseline.yaml"
NOTE = ("orders.csv: 2,357 customers, orders to 1997-09-30; mean first order, 90% interval of "
        "the mean")


def test_sources_round_trip_byte_for_byte() -> None:
    scenario = apply_overrides(load_scenario_file(BASELINE), {
        "orders.first_value": {"low": 50.5, "high": 70.25},
        "sources": {"orders.first_value": NOTE, "hot.churn.monthly": "history.csv: fitted"}})
    text = dump_scenario(scenario)
    assert "sources:\n  orders.first_value: >-\n" in text
    again = load_scenario_text(text)
    assert again.sources == scenario.sources and dump_scenario(again) == text


def test_files_without_notes_keep_their_bytes() -> None:
    text = BASELINE.read_text()
    assert "sources" not in dump_scenario(load_scenario_text(text))


@pytest.mark.parametrize(("notes", "message"), [
    ({"orders.first_valu": "x"}, "sources: 'orders.first_valu' names no numeric field (did you "
                                 "mean 'orders.first_value'?)"),
    ({"orders.first_value": ""}, "sources: orders.first_value: the note must be text"),
    ({"orders.first_value": "x" * 301}, "sources: orders.first_value: the note has 301 "
                                        "characters; at most 300"),
    ({"simulation.flows": "x"}, "sources: 'simulation.flows' names no numeric field"),
    ("text", "sources: expected a mapping of field path: note"),
])
def test_bad_notes_are_refused(notes: object, message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        apply_overrides(Scenario(), {"sources": notes})
    assert caught.value.problems[0].startswith(message), caught.value.problems


def _proposal(path: str, low: float, high: float) -> ProposedRange:
    return ProposedRange(path, low, high, (low * high) ** 0.5, f"test: {path}")


def test_chosen_overrides_take_the_sbg_pair_together_and_keep_old_notes() -> None:
    proposals = [_proposal("hot.churn.sbg.alpha", 0.5, 0.9),
                 _proposal("hot.churn.sbg.beta", 0.8, 1.2),
                 _proposal("orders.first_value", 50, 60)]
    overrides = chosen_overrides(proposals, ["hot.churn.sbg.alpha"],
                                 {"orders.repeat_value": "kept"})
    assert overrides == {
        "hot.churn.sbg.alpha": {"low": 0.5, "high": 0.9},
        "hot.churn.sbg.beta": {"low": 0.8, "high": 1.2},
        "sources": {"hot.churn.sbg.alpha": "test: hot.churn.sbg.alpha",
                    "hot.churn.sbg.beta": "test: hot.churn.sbg.beta",
                    "orders.repeat_value": "kept"}}
    scenario = apply_overrides(load_scenario_file(BASELINE), overrides)
    # sBG churn replaces the file's constant churn.
    assert scenario.hot.churn.monthly is None and scenario.hot.churn.sbg is not None
    assert chosen_overrides(proposals, [], {"x": "y"}) == {}
