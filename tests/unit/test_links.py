"""Share links: what a link carries, how it is read back, and what a bad link does."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from sim.scenario import (
    RENAMED_VARIANTS,
    ScenarioError,
    apply_overrides,
    changed_fields,
    load_scenario_file,
    parse_scalar,
)
from tests.conftest import REPO_ROOT
from ui.plan_names import renamed_value
from ui.state import (
    MAX_LINK_CHARS,
    MAX_LINK_FIELDS,
    MAX_TRIALS,
    PageContext,
    format_param,
    read_link,
    share_query,
)

STEMS = ["baseline", "guarantee", "retention_first"]


@pytest.fixture(scope="module")
def baseline():
    return load_scenario_file(REPO_ROOT / "scenarios" / "baseline.yaml")


def _context(saved, overrides, *, seed=7, trials=2000, present=False) -> PageContext:
    scenario = apply_overrides(saved, overrides) if overrides else saved
    return PageContext("baseline", saved, scenario, changed_fields(saved, scenario), seed,
                       trials, present)


def _params(query: str) -> dict[str, str]:
    """Parse a query string the way the server does (last value wins, + is a space)."""
    return dict(parse_qsl(query, keep_blank_values=True))


@pytest.mark.parametrize("value", [
    365, 0.1, 0.005, 1e-05, 2.5e-07, 123456789.25, 2_000_000.0, 0.0,
    {"low": 6, "high": 14}, {"low": 0.005, "high": 0.02},
    {"dist": "uniform", "min": 0.0, "max": 0.04},
    {"dist": "triangular", "min": 1e-06, "mode": 0.5, "max": 0.9},
    {"dist": "beta", "a": 2, "b": 30},
])
def test_link_values_read_back_exactly(value) -> None:
    text = format_param(value)
    assert "e-" not in text and "e+" not in text, "YAML would read an exponent as text"
    assert parse_scalar(text) == value


def test_link_round_trip_reproduces_the_scenario(baseline) -> None:
    overrides = {"guarantee.days": 365, "cold.engagement_rate": {"low": 0.004, "high": 0.03},
                 "budget.split.cold": 0.5, "budget.split.warm": 0.4,
                 "hot.churn_unpreventable": 0.00001}
    context = _context(baseline, overrides, seed=42, trials=3000, present=True)
    query = share_query(context)
    # Readable dotted keys, only the changed fields.
    assert "guarantee.days=365" in query
    assert "cold.engagement_rate={low:+0.004,+high:+0.03}" in query
    assert "orders." not in query and "hot.churn.monthly" not in query
    settings, problems = read_link(_params(query), STEMS)
    assert problems == []
    assert settings["scenario"] == "baseline"
    assert (settings["seed"], settings["trials"], settings["present"]) == (42, 3000, True)
    rebuilt = apply_overrides(baseline, settings["overrides"])
    assert rebuilt == context.scenario
    assert changed_fields(baseline, rebuilt) == context.overrides


def test_page_settings_travel_in_the_link(baseline) -> None:
    query = share_query(_context(baseline, {}),
                        {"compare_plans": ["baseline — base plan", "baseline — 40/30/30 balanced"],
                         "compare_metric": "npv", "trials": "999999", "a.b": "1"})
    params = parse_qsl(query)
    assert params.count(("compare_plans", "baseline — 40/30/30 balanced")) == 1
    assert ("compare_metric", "npv") in params
    # A page may not smuggle reserved or dotted keys through its own settings.
    assert ("trials", "999999") not in params and ("a.b", "1") not in params


def test_unchanged_view_has_a_short_link(baseline) -> None:
    query = share_query(_context(baseline, {}))
    assert _params(query) == {"scenario": "baseline", "seed": "7", "trials": "2000"}


def test_trials_are_capped_and_bad_numbers_reported() -> None:
    settings, problems = read_link({"trials": "5000000", "seed": "-3"}, STEMS)
    assert settings["trials"] == MAX_TRIALS
    assert any(f"capped at {MAX_TRIALS:,}" in p for p in problems)
    assert any(p.startswith("seed: must be from 0") for p in problems)
    assert "seed" not in settings
    settings, problems = read_link({"trials": "ten", "present": "maybe"}, STEMS)
    assert "trials" not in settings and settings["present"] is False
    assert any("trials: expected a whole number" in p for p in problems)
    assert any(p.startswith("present:") for p in problems)


def test_unknown_scenario_falls_back(baseline) -> None:
    settings, problems = read_link({"scenario": "../../etc/passwd"}, STEMS)
    assert "scenario" not in settings
    assert problems == ["scenario: no scenario file named '../../etc/passwd' in the library; "
                        "showing baseline"]


def test_bad_field_values_drop_all_changes(baseline) -> None:
    settings, problems = read_link({"guarantee.days": "{low: 1", "budget.monthly": "9"},
                                   STEMS)
    assert settings["overrides"] == {}
    assert problems and problems[0].startswith("guarantee.days: not valid YAML")
    # Values that parse but break the schema are refused when applied, with their paths.
    settings, problems = read_link({"guarantee.days": "99999", "cold.enagement_rate": "0.1"},
                                   STEMS)
    assert problems == []
    with pytest.raises(ScenarioError) as error:
        apply_overrides(load_scenario_file(REPO_ROOT / "scenarios" / "baseline.yaml"),
                        settings["overrides"])
    assert any("cold.enagement_rate" in p and "did you mean 'engagement_rate'" in p
               for p in error.value.problems)


@pytest.mark.parametrize("key", ["variants.x.guarantee.days", "name.x", "schema.v"])
def test_links_change_fields_only(key: str) -> None:
    settings, problems = read_link({key: "1", "guarantee.days": "365"}, STEMS)
    assert settings["overrides"] == {}
    assert problems and problems[0].startswith(f"{key}: a link may only change scenario fields")


def test_oversized_links_are_refused() -> None:
    huge = {"guarantee.days": "1" * (MAX_LINK_CHARS * 2)}
    settings, problems = read_link(huge, STEMS)
    assert settings == {}
    assert "share the YAML file instead" in problems[0]
    many = {f"cold.x{i}": "1" for i in range(MAX_LINK_FIELDS + 1)}
    settings, problems = read_link(many, STEMS)
    assert settings["overrides"] == {}
    assert f"{MAX_LINK_FIELDS + 1} changed fields" in problems[0]


def test_heavily_changed_scenario_is_too_long_for_a_link(baseline) -> None:
    """Many uncertain fields at once make a link longer than the limit (the footer then
    offers the YAML file): the limit is reachable, so the fallback is not dead code."""
    overrides = {path: {"dist": "triangular", "min": 0.01010101, "mode": 0.02020202,
                        "max": 0.03030303}
                 for path in ("cold.engagement_rate", "cold.lead_decay_monthly",
                              "warm.conversion_no_spend", "warm.conversion_max",
                              "hot.churn.monthly", "hot.churn_unpreventable",
                              "hot.repeat_no_spend", "hot.repeat_max", "orders.gross_margin",
                              "guarantee.return_rate_at_reference", "guarantee.resale_share",
                              "budget.growth_monthly", "finance.discount_rate_annual",
                              "guarantee.return_elasticity",
                              "guarantee.conversion_elasticity")}
    overrides.update({path: {"dist": "normal", "mean": 1234.567891, "sd": 123.4567891}
                      for path in ("cold.cost_per_thousand", "warm.spend_scale",
                                   "hot.spend_scale", "orders.first_value",
                                   "orders.repeat_value", "guarantee.handling_cost",
                                   "budget.monthly", "market.prospects", "market.warm_start",
                                   "market.customers_start")})
    query = share_query(_context(baseline, overrides))
    assert len(f"http://localhost:8501/overview?{query}") > MAX_LINK_CHARS
    # Still a valid link if someone sends it anyway (within what the app reads).
    settings, problems = read_link(_params(query), STEMS)
    assert problems == []
    assert apply_overrides(baseline, settings["overrides"]) == apply_overrides(baseline,
                                                                               overrides)


def test_every_renamed_plan_is_a_shipped_variant_named_in_percent() -> None:
    """The table of old names (sim/scenario/renamed.py) points at plans the shipped files have."""
    shipped = {name for stem in STEMS
               for name in load_scenario_file(REPO_ROOT / "scenarios" / f"{stem}.yaml").variants}
    assert set(RENAMED_VARIANTS.values()) <= shipped
    assert not set(RENAMED_VARIANTS) & shipped
    assert RENAMED_VARIANTS["4:3:3 balanced"] == "40/30/30 balanced"


def test_old_plan_names_in_links_are_read_as_the_new_ones() -> None:
    files = {None: ["40/30/30 balanced"], "baseline": ["40/30/30 balanced"],
             "mine": ["4:3:3 balanced", "40/30/30 balanced"]}
    base = "Base plan (60/30/10)"

    def read(value: str) -> str | None:
        return renamed_value(value, files.get, base)

    assert read("4:3:3 balanced") == "40/30/30 balanced"
    assert read("baseline — 4:3:3 balanced") == "baseline — 40/30/30 balanced"
    assert read("Base plan (6:3:1)") == base
    assert read("Base plan (66.7:33.3:0)") == base
    # Current names, a file that still has the old name, an unknown file: left as they are.
    assert read("40/30/30 balanced") is None and read(base) is None
    assert read("mine — 4:3:3 balanced") is None
    assert read("nope — 4:3:3 balanced") is None
    # A renamed name the scenario shown does not have (another file's variant) is left too.
    assert read("6:3:1 rule") is None
