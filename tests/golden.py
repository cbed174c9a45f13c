"""Reference outputs of the engine and the analyses, stored once so refactors can prove they
change no number (issue 12: same numbers for the same seed to 1e-12 on every shipped scenario).

`python -m tests.golden` rewrites tests/data/golden/outputs.npz. Run it ONLY to re-baseline on
purpose (a deliberate change of the model), and say so in the commit message; the test
tests/unit/test_golden.py compares today's code against the stored file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sim.distributions import sample_inputs
from sim.engine import plan_scenarios, simulate
from sim.guarantee import evaluate_lengths
from sim.retention import sweep_hot_share
from sim.scenario import apply_overrides, load_scenario_file
from sim.splits import BudgetSplit, evaluate_splits

REPO_ROOT = Path(__file__).resolve().parents[1]
GOLDEN_FILE = REPO_ROOT / "tests" / "data" / "golden" / "outputs.npz"
TRIALS = 200
ANALYSIS_TRIALS = 100
#: Monthly series are stored for the first few trials only (keeps the file small).
MONTHLY_TRIALS = 20


def golden_outputs() -> dict[str, np.ndarray]:
    """Every number the refactor must keep, keyed by `what|scenario|plan|metric`."""
    out: dict[str, np.ndarray] = {}
    for path in sorted((REPO_ROOT / "scenarios").glob("*.yaml")):
        scenario = load_scenario_file(path)
        for flows in ("expected", "random"):
            flowed = apply_overrides(scenario, {"simulation.flows": flows})
            for label, plan in plan_scenarios(flowed).items():
                result = simulate(plan, trials=TRIALS)
                for name, values in result.metrics.items():
                    out[f"run|{path.stem}|{flows}|{label}|{name}"] = values
                for name, values in result.monthly.items():
                    out[f"monthly|{path.stem}|{flows}|{label}|{name}"] = values[:MONTHLY_TRIALS]
    baseline = load_scenario_file(REPO_ROOT / "scenarios" / "baseline.yaml")
    splits = [BudgetSplit(60, 30, 10), BudgetSplit(40, 30, 30), BudgetSplit(80, 20, 0),
              BudgetSplit(0, 0, 100), BudgetSplit(20, 30, 50), BudgetSplit(35, 35, 30)]
    for flows in ("expected", "random"):
        flowed = apply_overrides(baseline, {"simulation.flows": flows})
        inputs = sample_inputs(flowed, ANALYSIS_TRIALS, flowed.simulation.seed)
        grid = evaluate_splits(flowed, splits, inputs, horizons=(12, 36))
        for horizon, metrics in grid.items():
            for name, values in metrics.items():
                out[f"splits|baseline|{flows}|{horizon}|{name}"] = values
    guarantee = load_scenario_file(REPO_ROOT / "scenarios" / "guarantee.yaml")
    lengths = evaluate_lengths(guarantee, (7, 365, 1825), trials=ANALYSIS_TRIALS,
                               seed=guarantee.simulation.seed)
    for name, values in lengths.metrics.items():
        out[f"lengths|guarantee|{name}"] = values
    retention = load_scenario_file(REPO_ROOT / "scenarios" / "retention_first.yaml")
    sweep = sweep_hot_share(retention, trials=ANALYSIS_TRIALS, seed=retention.simulation.seed,
                            shares=np.array([0.0, 0.2, 0.4, 0.6]))
    for name, values in sweep.metrics.items():
        out[f"sweep|retention_first|{name}"] = values
    return out


if __name__ == "__main__":
    GOLDEN_FILE.parent.mkdir(parents=True, exist_ok=True)
    outputs = golden_outputs()
    np.savez_compressed(GOLDEN_FILE, **outputs)
    print(f"wrote {len(outputs)} arrays to {GOLDEN_FILE}")
