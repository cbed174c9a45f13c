"""The history model: the month-by-month replay is the engine, the fit recovers known
parameters (simulation-based: histories drawn from the engine with random flows), its 90%
ranges cover the truth, and accepted ranges reproduce the backtest."""

from __future__ import annotations

import numpy as np
import pytest

from sim.calibrate.history import (
    SERIES,
    History,
    base_values,
    draw_histories,
    from_scale,
    parse_history,
    replay,
)
from sim.calibrate.history_fit import (
    HistoryCalibration,
    backtest,
    calibrate_history,
    fit_batch,
    make_problem,
    mape,
    ninety_range,
)
from sim.calibrate.ranges import chosen_overrides, history_ranges
from sim.distributions import constant_inputs
from sim.engine import simulate
from sim.scenario import Scenario, apply_overrides, dump_scenario, load_scenario_text
from tests.conftest import REPO_ROOT

EXAMPLE = REPO_ROOT / "scenarios" / "examples" / "history_example.csv"
MONTHS = 36
#: The truth of the recovery study (as in scenarios/examples/make_examples.py).
TRUTH: dict[str, float] = {
    "cold.engagement_rate": 0.012, "warm.conversion_no_spend": 0.004,
    "warm.conversion_max": 0.04, "warm.spend_scale": 0.3, "market.warm_start": 25_000.0,
    "hot.churn.monthly": 0.08, "market.customers_start": 4_000.0,
    "hot.repeat_no_spend": 0.12, "hot.repeat_max": 0.30, "hot.spend_scale": 1.0,
    "guarantee.return_rate_at_reference": 0.06,
}


def _design(seed: int = 1) -> History:
    rng = np.random.default_rng(seed)
    spend = np.column_stack([30_000 * rng.uniform(0.3, 1.7, MONTHS),
                             15_000 * rng.uniform(0.2, 2.0, MONTHS),
                             5_000 * rng.uniform(0.1, 3.0, MONTHS)])
    labels = tuple(f"{2023 + m // 12}-{m % 12 + 1:02d}" for m in range(MONTHS))
    return History(labels, spend, None, {name: np.zeros(MONTHS) for name in SERIES})


def test_replay_equals_one_engine_run_when_spends_are_constant() -> None:
    # The engine runs a constant budget and split over 24 months in one go; replaying the
    # same spends month by month must give the same months (state carried between calls).
    scenario = Scenario()
    values = base_values(scenario)
    months = 24
    budget, split = 50_000.0, (0.6, 0.3, 0.1)
    history = History(tuple(str(m) for m in range(months)),
                      np.tile([budget * s for s in split], (months, 1)), None, {})
    replayed = replay(history, {k: np.full(1, v) for k, v in values.items()})
    inputs = constant_inputs({**values, "budget.monthly": budget}, 1)
    run = simulate(scenario, inputs=inputs, horizon=months)
    for name, engine_name in (("leads", "leads"), ("new_customers", "new_customers"),
                              ("active_customers", "active_customers"),
                              ("repeat_orders", "repeat_orders"),
                              ("orders_returned", "refunds")):
        np.testing.assert_allclose(replayed[name][0], run.monthly[engine_name][0], rtol=1e-9,
                                   err_msg=name)


def test_mape_by_hand() -> None:
    assert mape(np.array([100.0, 0.0, 50.0]), np.array([110.0, 5.0, 40.0])) == pytest.approx(
        0.15)
    assert np.isnan(mape(np.zeros(3), np.ones(3)))


def _recovery(replications: int, bootstrap: int) -> tuple[dict[str, np.ndarray], ...]:
    design = _design()
    truth = {**base_values(Scenario()), **TRUTH}
    data = draw_histories(design, truth, replications, seed=11)
    problem = make_problem(design, Scenario())
    u, draws, _, done = fit_batch(problem, data, bootstrap=bootstrap, seed=3)
    assert done.all()
    estimates = from_scale(problem.parameters, u)
    flat = from_scale(problem.parameters, draws.reshape(-1, len(problem.parameters)))
    covered = {}
    for path, value in TRUTH.items():
        low, high = ninety_range(path, estimates[path],
                                 flat[path].reshape(replications, bootstrap))
        covered[path] = (low <= value) & (value <= high)
    return estimates, covered


def test_fit_recovers_known_parameters() -> None:
    estimates, _ = _recovery(replications=10, bootstrap=20)
    for path, value in TRUTH.items():
        median = float(np.median(estimates[path]))
        # Point recovery: the median over 10 histories within 5% of the truth (the ceilings
        # and spend scales, seen only through the response curve's bend, within 10%).
        tolerance = 0.10 if path.endswith(("_max", "spend_scale", "warm_start")) else 0.05
        assert median == pytest.approx(value, rel=tolerance), path


@pytest.mark.slow
def test_ninety_percent_ranges_cover_the_truth() -> None:
    # 200 histories drawn from the engine with random flows; each one's 90% range (100
    # bootstrap histories) should hold the truth in 80-97% of them, for every parameter.
    _, covered = _recovery(replications=200, bootstrap=100)
    rates = {path: float(np.mean(hit)) for path, hit in covered.items()}
    assert all(0.80 <= rate <= 0.97 for rate in rates.values()), rates


@pytest.fixture(scope="module")
def example() -> tuple[History, HistoryCalibration]:
    history = parse_history(EXAMPLE.read_bytes())
    return history, calibrate_history(history, Scenario(), holdout=6, bootstrap=100)


def test_example_history_is_recovered_and_its_ranges_hold_the_truth(
        example: tuple[History, HistoryCalibration]) -> None:
    _, calibration = example
    ranges = {p.path: p for p in history_ranges(calibration, EXAMPLE.name)}
    assert set(ranges) == set(TRUTH)
    inside = [ranges[path].low <= value <= ranges[path].high for path, value in TRUTH.items()]
    assert sum(inside) >= 9, {p: (r.low, r.high) for p, r in ranges.items()}
    # The held-out months are replayed within a few percent.
    assert all(v < 0.06 for v in calibration.backtest.mape_holdout.values())


def test_accepted_ranges_reproduce_the_backtest(
        example: tuple[History, HistoryCalibration]) -> None:
    # Round trip: ranges accepted into a scenario, the scenario saved and loaded, its medians
    # replayed over the history: the backtest error is unchanged.
    history, calibration = example
    proposals = history_ranges(calibration, EXAMPLE.name)
    overrides = chosen_overrides(proposals, [p.path for p in proposals], {})
    accepted = load_scenario_text(dump_scenario(apply_overrides(Scenario(), overrides)))
    assert set(accepted.sources) == {p.path for p in proposals}
    again = backtest(history, base_values(accepted), 6)
    for name, error in calibration.backtest.mape_holdout.items():
        assert again.mape_holdout[name] == pytest.approx(error, abs=1e-4), name
        assert again.mape_fit[name] == pytest.approx(calibration.backtest.mape_fit[name],
                                                     abs=1e-4), name
