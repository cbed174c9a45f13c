"""Scenario files: every validation rule of the schema, hostile YAML, round trips, overrides."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from sim.scenario import (
    MAX_FILE_BYTES,
    Scenario,
    ScenarioError,
    apply_overrides,
    changed_fields,
    dump_scenario,
    field_catalog,
    load_scenario_file,
    load_scenario_text,
    variant_scenario,
)
from sim.values import Beta, Fixed, Interval90, Normal, Triangular, Uniform


def problems_of(text: str | bytes) -> list[str]:
    """The problems a load reports (the test fails if the text loads)."""
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(text)
    assert caught.value.problems, "a ScenarioError must list its problems"
    return caught.value.problems


def assert_problem(text: str | bytes, path: str, *phrases: str) -> None:
    """Assert that loading fails with a problem at `path` mentioning every phrase."""
    problems = problems_of(text)
    matching = [p for p in problems if p.startswith(f"{path}: ")]
    assert matching, f"no problem at {path!r} in {problems}"
    for phrase in phrases:
        assert any(phrase in p for p in matching), f"{phrase!r} not in {matching}"


# ---------------------------------------------------------------- validation rules

@pytest.mark.parametrize(("text", "path", "phrases"), [
    # Unknown keys, with a "did you mean".
    ("budgte: {monthly: 5}", "budgte", ["unknown key", "did you mean 'budget'?"]),
    ("guarantee: {dayz: 60}", "guarantee.dayz", ["unknown key", "did you mean 'days'?"]),
    ("hot: {churn: {montly: 0.1}}", "hot.churn.montly", ["did you mean 'monthly'?"]),
    ("cold: {cost_per_thousand: {dist: unifrom, min: 1, max: 2}}",
     "cold.cost_per_thousand.dist", ["unknown dist", "did you mean 'uniform'?"]),
    ("cold: {cost_per_thousand: {lo: 1, high: 2}}", "cold.cost_per_thousand",
     ["unknown key(s) lo", "{low: a, high: b}"]),
    ("cold: {cost_per_thousand: {dist: uniform, min: 1, max: 2, mode: 1}}",
     "cold.cost_per_thousand", ["unknown key(s) mode", "min, max"]),
    # Wrong types.
    ("budget: 5", "budget", ["expected a mapping"]),
    ("name: [1, 2]", "name", ["expected text"]),
    ("simulation: {flows: fast}", "simulation.flows", ["'fast'", "'expected' or 'random'"]),
    ("budget: {monthly: [1, 2]}", "budget.monthly", ["expected an amount of 0 or more"]),
    ("cold: {engagement_rate: '0.5'}", "cold.engagement_rate", ["got the text '0.5'"]),
    ("budget: {split: {cold: {low: 0.5, high: 0.7}, warm: 0.3, hot: 0.1}}",
     "budget.split.cold", ["a share between 0 and 1"]),
    ("simulation: {trials: {low: 100, high: 200}}", "simulation.trials",
     ["a whole number from 100 to 200,000"]),
    ("simulation: {seed: 1.5}", "simulation.seed", ["whole number"]),
    ("schema: 2", "schema", ["unsupported schema version 2"]),
    # NaN and infinity.
    ("budget: {monthly: .nan}", "budget.monthly", ["finite number"]),
    ("budget: {monthly: .inf}", "budget.monthly", ["finite number"]),
    ("orders: {first_value: -.inf}", "orders.first_value", ["finite number"]),
    ("cold: {engagement_rate: {low: .nan, high: 0.5}}", "cold.engagement_rate.low",
     ["finite number"]),
    # Rates outside [0, 1].
    ("cold: {engagement_rate: 1.5}", "cold.engagement_rate", ["a rate between 0 and 1", "1.5"]),
    ("hot: {churn: {monthly: -0.1}}", "hot.churn.monthly", ["a rate between 0 and 1"]),
    ("orders: {gross_margin: 2}", "orders.gross_margin", ["a rate between 0 and 1"]),
    ("warm: {conversion_max: {dist: uniform, min: 0.5, max: 1.2}}",
     "warm.conversion_max.max", ["a rate between 0 and 1"]),
    ("cold: {engagement_rate: {low: 0, high: 0.5}}", "cold.engagement_rate",
     ["0 < low < high < 1"]),
    # Not rates: their own ranges.
    ("finance: {discount_rate_annual: 11}", "finance.discount_rate_annual", ["from 0 to 10"]),
    ("guarantee: {return_elasticity: 2.5}", "guarantee.return_elasticity", ["from -2 to 2"]),
    ("guarantee: {conversion_elasticity: -2.1}", "guarantee.conversion_elasticity",
     ["from -2 to 2"]),
    # Negative amounts (amounts > 0, costs and counts >= 0).
    ("budget: {monthly: -5}", "budget.monthly", ["0 or more", "-5"]),
    ("guarantee: {handling_cost: -1}", "guarantee.handling_cost", ["0 or more"]),
    ("market: {prospects: -1}", "market.prospects", ["0 or more"]),
    ("orders: {first_value: 0}", "orders.first_value", ["above 0"]),
    ("warm: {spend_scale: -3}", "warm.spend_scale", ["above 0"]),
    ("cold: {cost_per_thousand: {dist: normal, mean: 10, sd: -1}}",
     "cold.cost_per_thousand.sd", ["above 0"]),
    ("cold: {cost_per_thousand: {low: 0, high: 5}}", "cold.cost_per_thousand.low",
     ["above 0"]),
    ("guarantee: {handling_cost: {low: 0, high: 5}}", "guarantee.handling_cost",
     ["0 < low < high", "lognormal"]),
    # low >= high (and the other distributions' order rules).
    ("cold: {cost_per_thousand: {low: 14, high: 6}}", "cold.cost_per_thousand",
     ["low must be below high", "14", "6"]),
    ("cold: {cost_per_thousand: {low: 6, high: 6}}", "cold.cost_per_thousand",
     ["low must be below high"]),
    ("cold: {cost_per_thousand: {dist: uniform, min: 3, max: 2}}", "cold.cost_per_thousand",
     ["min must be below max"]),
    ("cold: {cost_per_thousand: {dist: triangular, min: 1, mode: 3, max: 2}}",
     "cold.cost_per_thousand", ["min <= mode <= max"]),
    ("cold: {cost_per_thousand: {dist: beta, a: 1, b: 2}}", "cold.cost_per_thousand",
     ["beta is for rates only"]),
    ("cold: {cost_per_thousand: {dist: normal, mean: 10}}", "cold.cost_per_thousand",
     ["missing sd"]),
    # The split.
    ("budget: {split: {cold: -0.1, warm: 1.0, hot: 0.1}}", "budget.split.cold",
     ["a share between 0 and 1", "-0.1"]),
    ("budget: {split: {cold: 0.5, warm: 0.3, hot: 0.1}}", "budget.split",
     ["must sum to 1", "0.000001", "0.9"]),
    ("budget: {split: {cold: 0.6, warm: 0.3, hot: 0.10001}}", "budget.split",
     ["must sum to 1"]),
    # Trials, horizon, guarantee days.
    ("simulation: {trials: 99}", "simulation.trials", ["100 to 200,000", "99"]),
    ("simulation: {trials: 200001}", "simulation.trials", ["100 to 200,000"]),
    ("simulation: {horizon_months: 0}", "simulation.horizon_months", ["1 to 120"]),
    ("simulation: {horizon_months: 121}", "simulation.horizon_months", ["1 to 120"]),
    ("simulation: {horizon_months: 12.5}", "simulation.horizon_months", ["whole number"]),
    ("guarantee: {days: 0}", "guarantee.days", ["1 to 3,650"]),
    ("guarantee: {days: 3651}", "guarantee.days", ["1 to 3,650"]),
    ("guarantee: {reference_days: 0}", "guarantee.reference_days", ["1 to 3,650"]),
    # Churn: exactly one model.
    ("hot: {churn: {monthly: 0.1, sbg: {alpha: 1, beta: 2}}}", "hot.churn", ["exactly one"]),
    # Variants that name a missing field, or set a bad value.
    ("variants: {Long: {guarantee: {dayz: 365}}}", "variants.Long.guarantee.dayz",
     ["names no field", "did you mean 'days'?"]),
    ("variants: {Long: {guarntee: {days: 365}}}", "variants.Long.guarntee",
     ["names no field", "did you mean 'guarantee'?"]),
    ("variants: {Long: {guarantee: {days: 5000}}}", "variants.Long.guarantee.days",
     ["1 to 3,650"]),
    ("variants: {Shift: {budget: {split: {cold: 0.9}}}}", "variants.Shift.budget.split",
     ["must sum to 1"]),
])
def test_validation_rule(text: str, path: str, phrases: list[str]) -> None:
    assert_problem(text, path, *phrases)


def test_booleans_and_exponents_where_a_number_is_wanted() -> None:
    # YAML 1.1 reads NO as false and 1e3 (no dot) as text: both must be refused, clearly.
    assert_problem("budget: {monthly: NO}", "budget.monthly", "got false", "yes/no")
    assert_problem("cold: {engagement_rate: yes}", "cold.engagement_rate", "got true")
    assert_problem("budget: {monthly: 1e3}", "budget.monthly", "the text '1e3'", "1000")


def test_every_problem_is_reported_at_once() -> None:
    problems = problems_of("simulation: {trials: 5, horizon_months: 500}\n"
                           "guarantee: {days: 0}\nbudgte: 1\n")
    paths = {p.split(": ")[0] for p in problems}
    assert {"simulation.trials", "simulation.horizon_months", "guarantee.days",
            "budgte"} <= paths


def test_boundary_values_are_accepted() -> None:
    s = load_scenario_text(
        "simulation: {trials: 100, horizon_months: 120}\n"
        "guarantee: {days: 3650, reference_days: 1, return_rate_at_reference: 1,"
        " return_elasticity: -2, conversion_elasticity: 2, handling_cost: 0}\n"
        "budget: {monthly: 0, split: {cold: 1, warm: 0, hot: 0}}\n"
        "finance: {discount_rate_annual: 10}\n")
    assert s.simulation.trials == 100 and s.simulation.horizon_months == 120
    assert s.guarantee.days == 3650
    s = load_scenario_text("simulation: {trials: 200000, horizon_months: 1}\n"
                           "guarantee: {days: 1}\n"
                           "budget: {split: {cold: 0.6, warm: 0.3, hot: 0.1000005}}\n")
    assert s.simulation.trials == 200_000


# ---------------------------------------------------------------- hostile YAML

BILLION_LAUGHS = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "g: [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
)


@pytest.mark.parametrize(("text", "phrase"), [
    (BILLION_LAUGHS, "anchors"),
    ("name: x\ndescription: *nothing\n", "aliases"),
    ("[" * 10_000 + "]" * 10_000, "nesting deeper than 20"),
    ("name: " + "[" * 10_000, "nesting deeper than 20"),
    ("{a: " * 10_000 + "1" + "}" * 10_000, "nesting deeper than 20"),
    ("budget: " + "{a: " * 10_000 + "1" + "}" * 10_000, "nesting deeper than 20"),
    ("".join(" " * i + "a:\n" for i in range(40)) + " " * 40 + "1\n", "nesting deeper than 20"),
    ("name: x\ndescription: " + "y" * 300_000 + "\n", "256 KB"),
    (b"name: x\ndescription: " + b"y" * 300_000 + b"\n", "256 KB"),
    ("name: a\nname: b\n", "duplicate key 'name'"),
    ("budget: {monthly: 1, monthly: 2}\n", "duplicate key 'monthly'"),
    ("name: !!python/object:os.system x\n", "tag"),
    ("budget: !!python/object/apply:os.system [echo]\n", "tag"),
    ("name: !!binary aGVsbG8=\n", "tag"),
    ("name: a\n---\nname: b\n", "more than one YAML document"),
    ("name: [unclosed\n", "not valid YAML"),
    (b"name: \xff\xfe\n", "not UTF-8"),
])
def test_hostile_yaml_is_refused_fast(text: str | bytes, phrase: str) -> None:
    started = time.perf_counter()
    problems = problems_of(text)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0, f"took {elapsed:.2f} s"
    assert any(phrase in p for p in problems), problems
    assert all(p.startswith("(file): ") for p in problems), problems


def test_oversized_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"name: x\ndescription: " + b"y" * (MAX_FILE_BYTES + 10) + b"\n")
    before = path.read_bytes()
    with pytest.raises(ScenarioError) as caught:
        load_scenario_file(path)
    assert "the limit is 256 KB" in caught.value.problems[0]
    assert path.read_bytes() == before


def test_empty_and_non_mapping_files() -> None:
    assert_problem("", "(file)", "empty")
    assert_problem("- 1\n- 2\n", "(top level)", "expected a mapping")


def test_missing_file_is_a_scenario_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario_file(tmp_path / "nope.yaml")
    assert "cannot read nope.yaml" in caught.value.problems[0]


# ---------------------------------------------------------------- round trips

EVERY_FORM = """\
schema: 1
name: Every form
description: Uses every kind of value and two variants.
simulation: {horizon_months: 24, trials: 1000, seed: 7, flows: random}
finance: {discount_rate_annual: {dist: triangular, min: 0.05, mode: 0.1, max: 0.2}}
market: {prospects: {low: 1000000, high: 3000000}, warm_start: 15000.5,
         customers_start: {dist: normal, mean: 4000, sd: 500}, customers_start_tenure: 6}
budget: {monthly: 40000, growth_monthly: {dist: uniform, min: -0.01, max: 0.02},
         split: {cold: 0.5, warm: 0.35, hot: 0.15}}
cold: {cost_per_thousand: {low: 6, high: 14}, engagement_rate: {low: 0.005, high: 0.02},
       lead_decay_monthly: {dist: beta, a: 2, b: 18}}
warm: {conversion_no_spend: 0.002, conversion_max: {dist: uniform, min: 0.03, max: 0.08},
       spend_scale: 3.25}
hot: {churn: {sbg: {alpha: {low: 0.5, high: 1.0}, beta: 1.2}}, churn_unpreventable: 0.3,
      repeat_no_spend: 0.1, repeat_max: 0.35, spend_scale: 4}
orders: {first_value: {low: 45, high: 80}, repeat_value: {low: 75, high: 130},
         gross_margin: {dist: normal, mean: 0.5, sd: 0.05}}
guarantee: {days: 30, reference_days: 30, return_rate_at_reference: {low: 0.03, high: 0.07},
            return_elasticity: 0.169, conversion_elasticity: {dist: uniform, min: 0.0, max: 0.04},
            handling_cost: 8, resale_share: 0.5}
variants:
  "Acquisition first 8:2:0": {budget: {split: {cold: 0.8, warm: 0.2, hot: 0.0}}}
  "Five-year guarantee": {guarantee: {days: 1825}}
  "Constant churn": {hot: {churn: {monthly: {low: 0.07, high: 0.13}}}}
"""


@pytest.mark.parametrize("source", ["default", "every form"])
def test_dump_load_dump_is_byte_identical(source: str) -> None:
    scenario = Scenario() if source == "default" else load_scenario_text(EVERY_FORM)
    first = dump_scenario(scenario)
    again = load_scenario_text(first)
    assert dump_scenario(again) == first
    assert again == scenario
    assert first.startswith("# Funnel Lab scenario")


def test_every_form_loads_as_the_right_value() -> None:
    s = load_scenario_text(EVERY_FORM)
    assert s.finance.discount_rate_annual == Triangular(0.05, 0.1, 0.2)
    assert s.market.prospects == Interval90(1_000_000, 3_000_000)
    assert s.market.warm_start == Fixed(15000.5)
    assert s.market.customers_start == Normal(4000, 500)
    assert s.budget.growth_monthly == Uniform(-0.01, 0.02)
    assert s.cold.lead_decay_monthly == Beta(2, 18)
    assert s.hot.churn.monthly is None
    assert s.hot.churn.sbg is not None and s.hot.churn.sbg.alpha == Interval90(0.5, 1.0)
    assert s.variant_names() == ["Acquisition first 8:2:0", "Five-year guarantee",
                                 "Constant churn"]


def test_dump_writes_keys_in_schema_order() -> None:
    text = dump_scenario(load_scenario_text(EVERY_FORM))
    tops = [line.split(":")[0] for line in text.splitlines()
            if line and not line.startswith((" ", "#"))]
    assert tops == ["schema", "name", "description", "simulation", "finance", "market",
                    "budget", "cold", "warm", "hot", "orders", "guarantee", "variants"]


def test_shipped_scenarios_round_trip(shipped_scenarios: list[Path]) -> None:
    for path in shipped_scenarios:
        scenario = load_scenario_file(path)
        text = dump_scenario(scenario)
        assert dump_scenario(load_scenario_text(text)) == text, path.name


# ---------------------------------------------------------------- variants and overrides


def test_variant_scenario_applies_overrides_and_drops_variants() -> None:
    s = load_scenario_text(EVERY_FORM)
    five = variant_scenario(s, "Five-year guarantee")
    assert five.guarantee.days == 1825
    assert five.variants == {}
    assert five.orders == s.orders and five.budget == s.budget
    churn = variant_scenario(s, "Constant churn")
    assert churn.hot.churn.sbg is None
    assert churn.hot.churn.monthly == Interval90(0.07, 0.13)
    with pytest.raises(ScenarioError) as caught:
        variant_scenario(s, "Nope")
    assert "no variant named 'Nope'" in caught.value.problems[0]


def test_apply_overrides_and_changed_fields() -> None:
    saved = Scenario()
    current = apply_overrides(saved, {
        "guarantee.days": 365,
        "cold.cost_per_thousand": {"low": 6, "high": 14},
        "budget.split": {"cold": 0.5, "warm": 0.4, "hot": 0.1},
        "hot.churn.sbg": {"alpha": 0.7, "beta": 1.2},
    })
    assert current.guarantee.days == 365
    assert current.cold.cost_per_thousand == Interval90(6, 14)
    assert current.hot.churn.monthly is None  # the alternative model was dropped
    changed = changed_fields(saved, current)
    assert changed == {
        "budget.split.cold": 0.5, "budget.split.warm": 0.4,
        "cold.cost_per_thousand": {"low": 6, "high": 14},
        "hot.churn.sbg.alpha": 0.7, "hot.churn.sbg.beta": 1.2, "guarantee.days": 365,
    }
    # A link carries only the changed fields; applying them reproduces the scenario.
    assert apply_overrides(saved, changed) == current
    assert changed_fields(saved, saved) == {}
    assert dump_scenario(apply_overrides(current, changed_fields(current, saved))) == (
        dump_scenario(saved))


@pytest.mark.parametrize(("overrides", "path", "phrase"), [
    ({"guarantee.dayz": 365}, "guarantee.dayz", "did you mean 'days'?"),
    ({"guarantee.days": 0}, "guarantee.days", "1 to 3,650"),
    ({"budget.split.cold": 0.9}, "budget.split", "must sum to 1"),
    ({"simulation.trials": 10}, "simulation.trials", "100 to 200,000"),
    ({"cold.engagement_rate": float("nan")}, "cold.engagement_rate", "finite"),
    ({"nonsense": 1}, "nonsense", "names no field"),
])
def test_failed_override_changes_nothing(overrides: dict[str, object], path: str,
                                         phrase: str) -> None:
    original = load_scenario_text(EVERY_FORM)
    before = dump_scenario(original)
    with pytest.raises(ScenarioError) as caught:
        apply_overrides(original, overrides)
    assert any(p.startswith(f"{path}: ") and phrase in p for p in caught.value.problems), (
        caught.value.problems)
    assert dump_scenario(original) == before


def test_scenario_is_frozen() -> None:
    s = Scenario()
    with pytest.raises((TypeError, ValueError)):
        s.guarantee.days = 365  # type: ignore[misc]
    assert s.guarantee.days == 30


def test_field_catalog_covers_every_numeric_field() -> None:
    catalog = {info.path: info for info in field_catalog()}
    for path, kind in {
        "cold.engagement_rate": "rate", "hot.churn.monthly": "rate",
        "hot.churn.sbg.alpha": "shape", "budget.split.hot": "share",
        "orders.first_value": "amount", "guarantee.handling_cost": "cost",
        "guarantee.days": "days", "simulation.trials": "trials",
        "finance.discount_rate_annual": "discount", "guarantee.return_elasticity": "elasticity",
    }.items():
        assert catalog[path].kind == kind, path
        assert catalog[path].label and catalog[path].help, path
