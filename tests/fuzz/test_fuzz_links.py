"""Any link in, a clear message out: query strings are read into settings and problems only.

read_link never raises; the overrides it returns either apply to the scenario or raise
ScenarioError (the page then shows the saved file and says why).
"""

from __future__ import annotations

from urllib.parse import parse_qsl, quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.scenario import ScenarioError, apply_overrides, load_scenario_file
from tests.conftest import SHIPPED_SCENARIOS
from tests.fuzz.strategies import FAST, SLOW, mutated
from ui.state import MAX_TRIALS, MIN_TRIALS, read_link

STEMS = ["baseline", "guarantee", "retention_first"]
BASELINE = load_scenario_file(SHIPPED_SCENARIOS / "baseline.yaml")
SHARED = [
    b"scenario=baseline&seed=7&trials=2000&guarantee.days=365",
    b"scenario=guarantee&seed=1&trials=500&present=1&cold.engagement_rate={low: 0.004, high: 0.03}",
    b"trials=1000&compare_metric=NPV+of+profit&compare_plans=a&compare_plans=b",
    b"budget.split.cold=0.5&budget.split.warm=0.3&budget.split.hot=0.2&seed=42",
    b"hot.churn.monthly={dist: beta, a: 2, b: 30}&guarantee_days=1+year",
]


def _check(params: dict[str, str]) -> None:
    settings, problems = read_link(params, STEMS)
    assert all(isinstance(p, str) and p.strip() for p in problems)
    if "trials" in settings:
        assert MIN_TRIALS <= settings["trials"] <= MAX_TRIALS
    if settings.get("scenario") is not None:
        assert settings["scenario"] in STEMS
    overrides = settings.get("overrides") or {}
    if overrides:
        try:
            apply_overrides(BASELINE, overrides)
        except ScenarioError as error:
            assert error.problems


def _from_query(data: bytes) -> dict[str, str]:
    """Read bytes as the server reads a query string (percent-decoded, last value wins)."""
    return dict(parse_qsl(quote(data, safe="=&{}:, "), keep_blank_values=True))


def test_trials_message_states_the_apps_limits() -> None:
    for text in ("5", "many", "1e3"):
        _, problems = read_link({"trials": text}, STEMS)
        assert problems == [f"trials: expected a whole number from 100 to 20,000 in the app, "
                            f"got {text!r}"]
    settings, problems = read_link({"trials": "1000000000000"}, STEMS)
    assert settings["trials"] == MAX_TRIALS and "capped at 20,000" in problems[0]


_text = st.text(max_size=60)
_keys = st.one_of(_text, st.sampled_from(["scenario", "seed", "trials", "present",
                                          "guarantee.days", "budget.split.cold",
                                          "hot.churn.monthly", "x.y", "guarantee_days"]))
RANDOM_PARAMS = st.dictionaries(_keys, _text, max_size=12)


@FAST
@given(RANDOM_PARAMS)
def test_any_parameters_give_settings_and_problems(params: dict[str, str]) -> None:
    _check(params)


@FAST
@given(mutated(SHARED))
def test_any_mutated_link_gives_settings_and_problems(data: bytes) -> None:
    _check(_from_query(data))


@pytest.mark.slow
@SLOW
@given(st.one_of(RANDOM_PARAMS, mutated(SHARED).map(_from_query)))
def test_any_link_gives_settings_and_problems_10k(params: dict[str, str]) -> None:
    _check(params)
