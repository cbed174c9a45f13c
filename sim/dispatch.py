"""Which engine runs a simulation: the NumPy reference (`sim.engine`) or the compiled one.

`sim.engine.simulate(..., engine=...)` asks `choose_engine` and nothing else does, so the rule
lives here:

- "numpy" and "compiled" are obeyed ("compiled" still needs Numba: without it the NumPy engine
  runs, as `sim.compiled.simulate_compiled` does);
- "auto" runs the compiled engine only for expected flows, where both engines give the same
  numbers (tests/unit/test_compiled.py), and only once its machine code is in this process
  (`compiled_ready`): a first call would otherwise wait 2 s for the disk cache, or minutes
  for a compile. Random flows always run on the NumPy engine, whose draws a link reproduces
  draw for draw (the compiled engine's are only identical in distribution; docs/model.md,
  "The engine").

So a number never depends on timing: before and after the kernel is ready an expected-flows run
gives the same figures, and a random-flows run never changes engine. `load_compiled` makes the
kernel ready (a tiny run); the app calls it in a background thread at start (ui/warmup.py).

FUNNEL_LAB_ENGINE=numpy makes "auto" always the NumPy engine: the tests set it, so that no
test's numbers depend on whether an earlier test in the process loaded the kernel.
"""

from __future__ import annotations

import os
from typing import Literal

from sim.scenario import Scenario

#: The engines `simulate` accepts.
Engine = Literal["auto", "numpy", "compiled"]
ENGINES: tuple[str, ...] = ("auto", "numpy", "compiled")


def compiled_ready() -> bool:
    """True when the compiled kernel is loaded in this process (a call would not compile)."""
    from sim import compiled  # imported here: sim.compiled imports sim.engine

    return bool(compiled.AVAILABLE and compiled._run_trials.signatures)


def choose_engine(scenario: Scenario, engine: Engine = "auto") -> Literal["numpy", "compiled"]:
    """The engine that runs `scenario` when `engine` is asked for (module doc's rule).

    Raises ValueError for an unknown engine name.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    if engine == "numpy":
        return "numpy"
    if engine == "compiled":
        return "compiled"
    if (scenario.simulation.flows == "random" or os.environ.get("FUNNEL_LAB_ENGINE") == "numpy"
            or not compiled_ready()):
        return "numpy"
    return "compiled"


def load_compiled() -> bool:
    """Load the compiled kernel (from the disk cache, or compile it: minutes) with a run of a
    few trials; returns whether it is ready. Blocks; call it from a background thread."""
    from sim import compiled

    if not compiled.AVAILABLE:
        return False
    scenario = Scenario()
    compiled.simulate_compiled(scenario, trials=2, seed=0, horizon=2)
    return compiled_ready()
