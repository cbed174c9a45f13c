"""Cached simulation runs for the pages.

Results are cached by the validated scenario (its canonical YAML text), the plan labels, seed,
trials and horizon, so a rerun of a page (any widget click) reuses them. Each page calls these
functions instead of the engine so that one cache serves every page.
"""

from __future__ import annotations

import streamlit as st

from sim.engine import BASE_LABEL, SimResult, plan_scenarios, simulate_plans
from sim.scenario import Scenario

#: Cache key of a scenario: its canonical YAML text (pydantic models do not hash by value).
SCENARIO_HASH = {Scenario: lambda scenario: scenario.canonical()}


@st.cache_data(max_entries=24, show_spinner="Simulating futures…", show_time=True,
               hash_funcs=SCENARIO_HASH)
def run_plans(scenario: Scenario, labels: tuple[str, ...] | None, seed: int, trials: int,
              horizon: int | None = None) -> dict[str, SimResult]:
    """Run the base plan and the named variants (all when labels is None) on the same futures.

    Returns label -> SimResult; the base plan is under BASE_LABEL, first.
    """
    variants = None if labels is None else [name for name in labels if name != BASE_LABEL]
    return simulate_plans(plan_scenarios(scenario, variants), seed=seed, trials=trials,
                          horizon=horizon)


@st.cache_data(max_entries=24, show_spinner="Simulating futures…", show_time=True,
               hash_funcs=SCENARIO_HASH)
def run_scenario(scenario: Scenario, seed: int, trials: int,
                 horizon: int | None = None) -> SimResult:
    """Run one scenario as it stands (its variants ignored); returns the SimResult."""
    plans = plan_scenarios(scenario, [])
    return simulate_plans(plans, seed=seed, trials=trials, horizon=horizon)[BASE_LABEL]
