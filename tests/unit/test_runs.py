"""The page cache of simulation runs (ui/runs.py): one shared, read-only copy per run, holding
exactly the engine's numbers for the monthly series the pages read."""

from __future__ import annotations

import numpy as np
import pytest

from sim.engine import BASE_LABEL, plan_scenarios, simulate_plans
from sim.scenario import load_scenario_file
from tests.conftest import REPO_ROOT
from ui.runs import PAGE_MONTHLY, clear_cached_runs, run_plans

TRIALS = 200
SEED = 7


@pytest.fixture(scope="module")
def scenario():
    return load_scenario_file(REPO_ROOT / "scenarios" / "baseline.yaml")


def test_cached_runs_keep_the_engines_numbers_for_the_series_pages_read(scenario) -> None:
    clear_cached_runs()
    cached = run_plans(scenario, None, SEED, TRIALS)
    fresh = simulate_plans(plan_scenarios(scenario, None), seed=SEED, trials=TRIALS)
    assert list(cached) == list(fresh)
    for label, result in fresh.items():
        kept = cached[label]
        assert set(kept.monthly) == set(PAGE_MONTHLY)
        for name in PAGE_MONTHLY:
            np.testing.assert_array_equal(kept.monthly[name], result.monthly[name])
        for name, values in result.metrics.items():
            np.testing.assert_array_equal(kept.metrics[name], values)


def test_every_session_gets_the_one_cached_run_and_cannot_change_it(scenario) -> None:
    clear_cached_runs()
    first = run_plans(scenario, None, SEED, TRIALS)
    again = run_plans(scenario, None, SEED, TRIALS)
    assert again is first  # no copy per call
    profit = first[BASE_LABEL].metrics["profit"]
    with pytest.raises(ValueError, match="read-only"):
        profit[0] = 0.0
    with pytest.raises(ValueError, match="read-only"):
        first[BASE_LABEL].monthly["profit"] += 1.0
