"""Benchmark of the Budget split page's map (run by `make bench`; prints numbers, asserts nothing).

1. The full 5% grid (231 splits) on scenarios/baseline.yaml at the page's default map trials,
   over the file's horizon: stacked on shared draws in one thread and in the page's two
   threads, against 231 separate engine runs of the same draws (the obvious way to do it).
   All three are timed in this run; their totals must agree to the last bit, otherwise the
   comparison would be of different work.
2. The optimiser's refinement on top of the map (the page passes the map's cells as known).
3. The page's cached map: first call against a repeated call with the same scenario and
   settings (Streamlit's cache_data, outside a running app).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sim.distributions import sample_inputs
from sim.engine import simulate
from sim.scenario import load_scenario_file, without_variants
from sim.splits import (
    OBJECTIVES,
    Bounds,
    evaluate_splits,
    optimise_split,
    stacked_inputs,
)

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence file descriptor 2: outside a running app Streamlit warns on every cached call
    and progress bar that no app is running, which is expected here."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def main() -> None:
    with _quiet_stderr():
        from ui.splits import GRID, MAP_TRIALS_DEFAULT, WORKERS, split_grid
    scenario = without_variants(load_scenario_file(ROOT / "scenarios" / "baseline.yaml"))
    seed, horizon = scenario.simulation.seed, scenario.simulation.horizon_months
    trials = MAP_TRIALS_DEFAULT
    inputs = sample_inputs(scenario, trials, seed)
    print(f"grid: {len(GRID)} splits x {trials:,} futures x {horizon} months "
          f"(baseline.yaml, seed {seed})")

    timings: dict[str, float] = {}
    results: dict[str, np.ndarray] = {}
    for name, workers in (("stacked, 1 thread", 1), (f"stacked, {WORKERS} threads", WORKERS)):
        start = time.perf_counter()
        totals = evaluate_splits(scenario, GRID, inputs, horizons=(horizon,), workers=workers,
                                 seed=seed)
        timings[name] = time.perf_counter() - start
        results[name] = totals[horizon]["profit"]

    start = time.perf_counter()
    separate = np.empty((len(GRID), trials))
    for row, split in enumerate(GRID):
        one = stacked_inputs(inputs, [split])
        separate[row] = simulate(scenario, inputs=one, horizon=horizon, seed=seed).metrics["profit"]
    timings["231 separate runs"] = time.perf_counter() - start
    results["231 separate runs"] = separate

    reference = results["231 separate runs"]
    for name, seconds in timings.items():
        same = np.array_equal(results[name], reference)
        print(f"  {name:<22} {seconds:6.2f} s   totals equal to separate runs: {same}")
    slowest = timings["231 separate runs"]
    for name in list(timings)[:2]:
        print(f"  speed-up of {name} over separate runs: {slowest / timings[name]:.1f}x")

    known = {split: results["stacked, 1 thread"][i] for i, split in enumerate(GRID)}

    def evaluate(splits: list) -> np.ndarray:
        return evaluate_splits(scenario, splits, inputs, horizons=(horizon,),
                               metrics=("profit",), seed=seed)[horizon]["profit"]

    start = time.perf_counter()
    result = optimise_split(evaluate, OBJECTIVES["mean_profit"], Bounds(), coarse_step=5,
                            refine_steps=(2, 1), known=known)
    refine_seconds = time.perf_counter() - start
    print(f"optimiser refinement after the map: {refine_seconds:.2f} s "
          f"({refine_seconds / timings['stacked, 1 thread']:.2f}x the map), "
          f"pick {result.split.code()}")

    with _quiet_stderr():
        start = time.perf_counter()
        split_grid(scenario, seed, trials, horizon)
        first = time.perf_counter() - start
        start = time.perf_counter()
        split_grid(scenario, seed, trials, horizon)
        repeated = time.perf_counter() - start
    print(f"page's cached map: first {first:.2f} s, repeated {repeated * 1000:.1f} ms "
          f"({first / repeated:,.0f}x faster)")


if __name__ == "__main__":
    main()
