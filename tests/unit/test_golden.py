"""Refactors change no number: today's engine and analyses against outputs stored before the
restructuring of issue 12 (tests/golden.py says how the file was made)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.engine import plan_scenarios, simulate
from sim.scenario import apply_overrides, load_scenario_file
from tests.golden import GOLDEN_FILE, REPO_ROOT, TRIALS, golden_outputs


@pytest.fixture(scope="module")
def outputs() -> dict[str, np.ndarray]:
    return golden_outputs()


def test_every_stored_output_is_still_produced(outputs: dict[str, np.ndarray]) -> None:
    stored = np.load(GOLDEN_FILE)
    assert sorted(stored.files) == sorted(outputs)


def test_numbers_unchanged_to_1e_12(outputs: dict[str, np.ndarray]) -> None:
    stored = np.load(GOLDEN_FILE)
    different = []
    for key in stored.files:
        expected, actual = stored[key], outputs[key]
        scale = float(np.nanmax(np.abs(expected))) if np.isfinite(expected).any() else 0.0
        same = np.isclose(actual, expected, rtol=1e-12, atol=1e-12 * scale, equal_nan=True)
        if actual.shape != expected.shape or not same.all():
            different.append(key)
    assert not different, f"{len(different)} outputs changed, e.g. {different[:5]}"


#: profit, NPV and net revenue of tests/golden.py's runs as stored before issue 13 (cash within
#: the horizon), kept when the golden file was re-baselined for the refunds still owed.
CASH_BEFORE_ISSUE_13 = GOLDEN_FILE.parent / "cash_before_issue13.npz"


def test_only_the_refunds_owed_changed_the_decision_metrics() -> None:
    """Adding back what the refunds still owed cost (docs/model.md#refunds-owed-at-the-horizon)
    gives the cash-within-the-horizon numbers stored before issue 13, to 1e-12: the re-baseline
    changed the owed-refund term and nothing else."""
    stored = np.load(CASH_BEFORE_ISSUE_13)
    checked = 0
    for path in sorted((REPO_ROOT / "scenarios").glob("*.yaml")):
        scenario = load_scenario_file(path)
        for flows in ("expected", "random"):
            flowed = apply_overrides(scenario, {"simulation.flows": flows})
            for label, plan in plan_scenarios(flowed).items():
                result = simulate(plan, trials=TRIALS)
                m, x = result.metrics, result.inputs
                owed = m["open_guarantee_liability"]
                # Written out here from the documented formula, not through the engine's helper.
                cost = (owed * (1 - x["guarantee.resale_share"] * (1 - x["orders.gross_margin"]))
                        + x["guarantee.handling_cost"] * m["open_guarantee_returns"])
                discount = (1 + (1 + x["finance.discount_rate_annual"]) ** (1 / 12) - 1
                            ) ** -float(result.horizon)
                cash = {"profit": m["profit"] + cost, "npv": m["npv"] + cost * discount,
                        "net_revenue": m["net_revenue"] + owed}
                for name, values in cash.items():
                    expected = stored[f"run|{path.stem}|{flows}|{label}|{name}"]
                    np.testing.assert_allclose(values, expected, rtol=1e-12,
                                               atol=1e-12 * np.max(np.abs(expected)))
                    checked += 1
                before = stored[f"run|{path.stem}|{flows}|{label}|profit"]
                np.testing.assert_allclose(m["profit_in_horizon"], before, rtol=1e-12,
                                           atol=1e-12 * np.max(np.abs(before)))
    assert checked == len([k for k in stored.files if k.startswith("run|")])


def test_the_guarantee_runs_owe_refunds() -> None:
    """The check above has teeth: the 5-year guarantee's decision profit is well below its
    cash within the horizon in every future."""
    scenario = load_scenario_file(REPO_ROOT / "scenarios" / "guarantee.yaml")
    plan = plan_scenarios(scenario)["5-year guarantee"]
    m = simulate(plan, trials=TRIALS).metrics
    assert (m["profit_in_horizon"] - m["profit"] > 1_000).all()
