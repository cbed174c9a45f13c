"""Several input sets of the same trials, run stacked along the trial axis of one engine call.

Every analysis that compares variants on the same futures (budget splits, guarantee lengths,
hot shares) runs through `run_stacked`, which holds the two rules they share:

- random flows: with ``flows: random`` each input set gets its own engine call, so set k sees
  the same flow draws, trial by trial, as a run of that set alone (the flows are drawn from the
  seed per call, not per set);
- monthly series: the engine keeps per-month series for the first MONTHLY_TRIALS_KEPT rows of a
  call only, so when the analysis needs them (`keep_monthly`) no call stacks more rows than that;
  when it does not, the engine keeps none (a call of the split grid kept 35 MB of series that
  nothing read).

With expected flows the numbers are the same however the sets are grouped: the engine's
arithmetic runs row by row.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from sim.dispatch import Engine
from sim.engine import MONTHLY_TRIALS_KEPT, simulate
from sim.inputs import Inputs, as_inputs
from sim.scenario import Scenario

Summary = TypeVar("Summary")


@dataclass(frozen=True)
class StackedPart:
    """One input set's share of a stacked engine call.

    metrics: name -> per-trial values (trials,), in the metric's units. monthly: name ->
    (rows kept, horizon): all of this set's rows when the run asked for `keep_monthly`, else
    none (0 rows).
    """

    index: int
    inputs: Inputs
    metrics: dict[str, np.ndarray]
    monthly: dict[str, np.ndarray]


def stack_inputs(input_sets: Sequence[Mapping[str, np.ndarray]]) -> Inputs:
    """The input sets one after another along the trial axis (set k: rows k*n .. (k+1)*n - 1)."""
    return Inputs({path: np.concatenate([np.asarray(inputs[path], dtype=float)
                                         for inputs in input_sets])
                   for path in input_sets[0]})


def sets_per_call(scenario: Scenario, sets: int, trials: int, *, keep_monthly: bool,
                  max_trials_per_call: int | None = None) -> int:
    """How many input sets of `trials` trials one engine call runs (module doc's rules)."""
    if scenario.simulation.flows == "random":
        return 1
    limit = max_trials_per_call
    if keep_monthly:
        limit = MONTHLY_TRIALS_KEPT if limit is None else min(limit, MONTHLY_TRIALS_KEPT)
    return max(1, sets if limit is None else limit // trials)


def run_stacked(
    scenario: Scenario,
    input_sets: Sequence[Mapping[str, np.ndarray]],
    summarise: Callable[[StackedPart], Summary],
    *,
    seed: int | None = None,
    horizon: int | None = None,
    keep_monthly: bool = False,
    max_trials_per_call: int | None = None,
    workers: int = 1,
    progress: Callable[[float], None] | None = None,
    engine: Engine = "auto",
    metrics: Collection[str] | None = None,
) -> list[Summary]:
    """Run every input set (same trial count each) on `scenario`, stacked along the trial axis,
    and return `summarise` of each set's part, in the order of `input_sets`.

    `summarise` keeps what the analysis needs, so the full results of many sets are never held
    at once. `seed` defaults to the scenario's (the flows of `flows: random` are drawn from it).
    `workers` > 1 runs the engine calls in threads (NumPy releases the GIL); `progress` is then
    called as calls finish, always from the calling thread, with the share done (0..1).
    `engine` and `metrics` (the metrics the parts hold; default all): as in `sim.engine.simulate`.
    """
    if not input_sets:
        return []
    trials = len(next(iter(input_sets[0].values())))
    per_call = sets_per_call(scenario, len(input_sets), trials, keep_monthly=keep_monthly,
                             max_trials_per_call=max_trials_per_call)
    groups = [list(range(start, min(start + per_call, len(input_sets))))
              for start in range(0, len(input_sets), per_call)]
    out: dict[int, Summary] = {}

    def run(group: list[int], call_progress: Callable[[float], None] | None) -> dict[
            int, Summary]:
        result = simulate(scenario, inputs=stack_inputs([input_sets[i] for i in group]),
                          seed=seed, horizon=horizon, progress=call_progress, engine=engine,
                          metrics=metrics, keep_monthly=MONTHLY_TRIALS_KEPT if keep_monthly else 0)
        kept = next(iter(result.monthly.values())).shape[0] if result.monthly else 0
        summaries = {}
        for position, index in enumerate(group):
            rows = slice(position * trials, (position + 1) * trials)
            monthly_rows = slice(min(position * trials, kept), min((position + 1) * trials, kept))
            part = StackedPart(
                index, as_inputs(input_sets[index]),
                {name: values[rows] for name, values in result.metrics.items()},
                {name: values[monthly_rows] for name, values in result.monthly.items()})
            summaries[index] = summarise(part)
        return summaries

    done = 0
    if workers > 1 and len(groups) > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(run, group, None): group for group in groups}
            for future in as_completed(futures):
                out.update(future.result())
                done += len(futures[future])
                if progress is not None:
                    progress(done / len(input_sets))
    else:
        for group in groups:

            def call_progress(fraction: float, done: int = done, size: int = len(group)) -> None:
                if progress is not None:
                    progress((done + fraction * size) / len(input_sets))

            out.update(run(group, call_progress))
            done += len(group)
    return [out[index] for index in range(len(input_sets))]
