"""Any bytes in, a clear message out: scenario YAML only ever raises ScenarioError."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given

from sim.scenario import Scenario, ScenarioError, load_scenario_text, parse_scalar
from tests.conftest import SHIPPED_SCENARIOS
from tests.fuzz.strategies import FAST, SLOW, hostile_bytes

SHIPPED = [path.read_bytes() for path in sorted(SHIPPED_SCENARIOS.glob("*.yaml"))]


def _load(data: bytes | str) -> None:
    """Loading gives a Scenario or a ScenarioError with readable problems, nothing else."""
    try:
        scenario = load_scenario_text(data)
    except ScenarioError as error:
        assert error.problems, "a ScenarioError must say what is wrong"
        assert all(isinstance(p, str) and p.strip() for p in error.problems)
        assert not any("Traceback" in p for p in error.problems)
        return
    assert isinstance(scenario, Scenario)


def _check(data: bytes) -> None:
    _load(data)
    # Also as text (what the editor passes), when the bytes are text at all.
    with contextlib.suppress(UnicodeDecodeError):
        _load(data.decode("utf-8"))


def test_shipped_files_load() -> None:
    """The mutations start from files that load (else every example would be an error)."""
    assert len(SHIPPED) >= 3
    for data in SHIPPED:
        assert load_scenario_text(data).name


@pytest.mark.parametrize("data, words", [
    (b"a: \x00\n", "NUL"),
    (b"name: caf\xe9\n", "not UTF-8"),
    (b"name: x\nsimulation: {trials: " + b"9" * 5000 + b"}\n", "5,000 digits"),
    (b"[" * 5000, "nesting"),
    (b"name: x\nsimulation: {horizon_months: 0x" + b"f" * 290 + b"}\n", "too large"),
    # Found by the slow fuzz test: a number as a key of a range used to raise TypeError.
    (b"name: x\ncold: {engagement_rate: {low: 0.004, 0.03: 1}}\n", "unknown key(s) 0.03"),
])
def test_hostile_files_are_named(data: bytes, words: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(data)
    assert words in caught.value.problems[0]


def test_byte_order_marks_and_utf16_are_read() -> None:
    text = SHIPPED[0].decode("utf-8")
    expected = load_scenario_text(text)
    for data in (b"\xef\xbb\xbf" + SHIPPED[0], text.encode("utf-16"), text.encode("utf-32")):
        assert load_scenario_text(data) == expected


@FAST
@given(hostile_bytes(SHIPPED))
def test_any_bytes_give_a_scenario_or_scenario_error(data: bytes) -> None:
    _check(data)


@FAST
@given(hostile_bytes([b"365", b"{low: 0.01, high: 0.02}", b"{dist: beta, a: 2, b: 30}"]))
def test_any_typed_value_gives_a_value_or_scenario_error(data: bytes) -> None:
    try:
        parse_scalar(data.decode("utf-8", "replace"))
    except ScenarioError as error:
        assert error.problems


@pytest.mark.slow
@SLOW
@given(hostile_bytes(SHIPPED))
def test_any_bytes_give_a_scenario_or_scenario_error_10k(data: bytes) -> None:
    _check(data)
