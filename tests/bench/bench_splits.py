"""Benchmark of the Budget split page's map (run by `make bench`; prints numbers, asserts nothing).

1. The full 5% grid (231 splits) on scenarios/baseline.yaml at 5,000 futures (the sidebar's
   default, all of which the map now uses) over the file's horizon: the compiled engine (one
   call at a time, trials over every core, as the page runs it) against the NumPy engine in
   the page's two threads. Wall clock and CPU time of this process, both in this run (other
   jobs on a loaded machine stretch the wall clock, not the CPU time); the two engines' totals
   must agree (to rounding), otherwise the comparison would be of different work.
2. The optimiser's refinement on top of the map (the page passes the map's cells as known).
3. The page's cached map: first call against a repeated call with the same scenario and
   settings (Streamlit's cache_data, outside a running app).

The compiled engine's load (or compile) is done and timed first, outside the comparison.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sim.dispatch import load_compiled
from sim.distributions import sample_inputs
from sim.scenario import load_scenario_file, without_variants
from sim.splits import (
    OBJECTIVES,
    Bounds,
    evaluate_splits,
    optimise_split,
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


def _timed(run: Callable[[], np.ndarray]) -> tuple[np.ndarray, float, float]:
    """Run `run` and return its result, wall seconds and CPU seconds (this process)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = run()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    with _quiet_stderr():
        from ui.splits import COMPILED_BATCH_TRIALS, GRID, WORKERS, split_grid
    scenario = without_variants(load_scenario_file(ROOT / "scenarios" / "baseline.yaml"))
    seed, horizon = scenario.simulation.seed, scenario.simulation.horizon_months
    trials = 5000
    inputs = sample_inputs(scenario, trials, seed)
    _, load_wall, load_cpu = _timed(lambda: np.array(load_compiled()))
    print(f"compiled engine loaded in {load_wall:.1f} s wall, {load_cpu:.1f} s CPU")
    print(f"grid: {len(GRID)} splits x {trials:,} futures x {horizon} months "
          f"(baseline.yaml, seed {seed}); load average {os.getloadavg()[0]:.1f}")

    def grid(engine: str, **settings: int) -> np.ndarray:
        return evaluate_splits(scenario, GRID, inputs, horizons=(horizon,), seed=seed,
                               engine=engine, **settings)[horizon]["profit"]

    runs = {
        "compiled, 1 call at a time": lambda: grid("compiled", workers=1,
                                                   batch_trials=COMPILED_BATCH_TRIALS),
        f"NumPy, {WORKERS} threads": lambda: grid("numpy", workers=WORKERS),
    }
    results: dict[str, tuple[np.ndarray, float, float]] = {
        name: _timed(run) for name, run in runs.items()}
    (fast, fast_wall, fast_cpu), (slow, slow_wall, slow_cpu) = results.values()
    for name, (_, wall, cpu) in results.items():
        print(f"  {name:<28} {wall:6.2f} s wall  {cpu:6.2f} s CPU")
    print(f"  compiled over NumPy: {slow_wall / fast_wall:.1f}x wall, "
          f"{slow_cpu / fast_cpu:.1f}x CPU; totals agree to 1e-9: "
          f"{np.allclose(fast, slow, rtol=1e-9, atol=1e-6)}")

    known = {split: fast[i] for i, split in enumerate(GRID)}

    def evaluate(splits: list) -> np.ndarray:
        return evaluate_splits(scenario, splits, inputs, horizons=(horizon,),
                               metrics=("profit",), seed=seed, engine="compiled", workers=1,
                               batch_trials=COMPILED_BATCH_TRIALS)[horizon]["profit"]

    start = time.perf_counter()
    result = optimise_split(evaluate, OBJECTIVES["mean_profit"], Bounds(), coarse_step=5,
                            refine_steps=(2, 1), known=known)
    refine_seconds = time.perf_counter() - start
    print(f"optimiser refinement after the map (compiled): {refine_seconds:.2f} s "
          f"({refine_seconds / fast_wall:.2f}x the map), pick {result.split.code()}")

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
