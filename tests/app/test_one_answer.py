"""One answer per question (issue 13): every page, and the CLI, give the same P(beats) and
median gain for the same pair of plans on the same seed and trials.

For every shipped scenario and each of its variants against the base plan, on profit (the
decision metric, after the refunds still owed at the horizon, docs/model.md#metrics):

- the Python API (`sim.engine.simulate_plans` + `sim.metrics.compare_paired`) is the reference;
- `python -m sim compare FILE FILE#VARIANT --format json` gives the same P(beats) and median
  difference to the last bit;
- the Overview table and the Compare page (base plan + that variant picked in its plan picker)
  show the same P(beats) and median gain text;
- the topic page where the plan is judged shows the same figures: the Guarantee page's table for
  the guarantee variants (each compared length, P(beats) and median profit change), the Budget
  split page's table of named splits for the split variants of `scenarios/baseline.yaml` (whose
  base plan is the 6:3:1 the page compares against: P(beats) and the mean gain it shows).

The Retention page sweeps the hot share with cold and warm in the base plan's own ratio; no
shipped variant keeps that ratio, and `scenarios/retention_first.yaml`'s base plan is not the
6:3:1 the Budget split page compares against, so those variants are checked on Overview, Compare
and the CLI. One AppTest per page and scenario; the Compare page's picker is changed in place.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import cli, registry
from sim.engine import BASE_LABEL, plan_scenarios, simulate_plans
from sim.metrics import Comparison, compare_paired
from sim.scenario import load_scenario_file, variant_scenario
from tests.app.conftest import new_app, open_page
from ui import format as fmt
from ui.guarantee import length_label
from ui.splits import TABLE_METRICS
from ui.words import base_plan_label

TRIALS = 400
STEMS = ("baseline", "guarantee", "retention_first")


def _share(text: str) -> str:
    """The P(beats) share a cell starts with: '81% (±3.2%)' -> '81%'."""
    found = re.match(r"\s*(\d+(?:\.\d+)?%)", text)
    assert found, f"no share at the start of {text!r}"
    return found.group(1)


def _reference(library: Path, stem: str) -> tuple[dict[str, Comparison], int]:
    """Each variant against the base plan on profit, from the Python API; and the seed."""
    scenario = load_scenario_file(library / f"{stem}.yaml")
    seed = scenario.simulation.seed
    results = simulate_plans(plan_scenarios(scenario), trials=TRIALS, seed=seed)
    base = results[BASE_LABEL].metrics["profit"]
    return ({name: compare_paired(result.metrics["profit"], base)
             for name, result in results.items() if name != BASE_LABEL}, seed)


def _row(table: pd.DataFrame, column: str, value: str) -> pd.Series:
    rows = table[table[column] == value]
    assert len(rows) == 1, (value, list(table[column]))
    return rows.iloc[0]


@pytest.mark.parametrize("stem", STEMS)
def test_overview_compare_and_cli_agree(fresh_scenario_library: Path, stem: str) -> None:
    library = fresh_scenario_library
    expected, seed = _reference(library, stem)
    scenario = load_scenario_file(library / f"{stem}.yaml")
    base_name = base_plan_label(scenario)

    # The CLI's JSON: the same numbers as the Python API, to the last bit.
    out = io.StringIO()
    args = ["compare", str(library / f"{stem}.yaml"),
            *(f"{library / f'{stem}.yaml'}#{name}" for name in expected),
            "--trials", str(TRIALS), "--seed", str(seed), "--format", "json"]
    assert cli.main(args, stdout=out, stderr=io.StringIO()) == 0
    report = json.loads(out.getvalue())
    for plan in report["plans"][1:]:
        versus = plan["vs_baseline"]["profit"]
        reference = expected[plan["variant"]]
        assert versus["p_beats"] == reference.p_beats
        assert versus["diff_p50"] == reference.diff_p50
        assert versus["diff_mean"] == reference.diff_mean

    # Overview: the profit table, each variant against the base plan.
    overview = open_page(new_app(), "pages/overview.py", scenario=stem, trials=str(TRIALS))
    table = overview.dataframe[0].value
    headline = next(m.value for m in overview.markdown if "simulated futures" in m.value)
    for name, reference in expected.items():
        row = _row(table, "Plan", name)
        assert _share(row["P(beats base)"]) == fmt.share(reference.p_beats), name
        assert row["Median gain vs base"] == fmt.metric_value(
            "profit", reference.diff_p50, signed=True), name
    best = max(expected.values(), key=lambda c: c.p_beats)
    assert fmt.share(best.p_beats) in headline

    # Compare: the base plan and one variant picked in the plan picker, one pair at a time.
    compare = open_page(new_app(), "pages/compare.py", scenario=stem, trials=str(TRIALS),
                        compare_section="All key numbers")
    heading = registry.metric("profit").heading
    for name, reference in expected.items():
        compare.multiselect(key="compare_plans").set_value(
            [f"{stem} — base plan", f"{stem} — {name}"]).run()
        assert not compare.exception, compare.exception
        shown = compare.dataframe[0].value
        row = shown[(shown["Metric"] == heading) & (shown["Plan"] != base_name)].iloc[0]
        assert row["Plan"] == name
        assert _share(row["P(beats the first)"]) == fmt.share(reference.p_beats), name
        assert row["Median difference"] == fmt.metric_value(
            "profit", reference.diff_p50, signed=True), name


def test_guarantee_page_agrees_with_the_overview(fresh_scenario_library: Path) -> None:
    library = fresh_scenario_library
    expected, _ = _reference(library, "guarantee")
    scenario = load_scenario_file(library / "guarantee.yaml")
    page = open_page(new_app(), "pages/guarantee.py", scenario="guarantee",
                     trials=str(TRIALS), guarantee_sweep_trials="500")
    table = page.dataframe[0].value
    assert len(expected) == 2
    for name, reference in expected.items():
        label = length_label(variant_scenario(scenario, name).guarantee.days)
        column = next(c for c in table.columns if c.startswith(f"{label} ("))
        assert _share(table.loc["Pays on profit", column]) == fmt.share(reference.p_beats), name
        assert table.loc["Profit change vs current (median)", column] == fmt.metric_value(
            "profit", reference.diff_p50, signed=True), name


def test_budget_split_page_agrees_with_the_overview(fresh_scenario_library: Path) -> None:
    library = fresh_scenario_library
    expected, _ = _reference(library, "baseline")
    scenario = load_scenario_file(library / "baseline.yaml")
    assert np.isclose(scenario.budget.split.cold, 0.6)  # the page compares against 6:3:1
    page = open_page(new_app(), "pages/budget-split.py", scenario="baseline",
                     trials=str(TRIALS), split_trials="250")
    tables = [frame.value for frame in page.dataframe
              if "P(beats 60/30/10)" in frame.value.columns]
    table = tables[TABLE_METRICS.index("profit")]
    for name, reference in expected.items():
        row = table[table["Plan"].str.startswith(name)].iloc[0]
        assert _share(row["P(beats 60/30/10)"]) == fmt.share(reference.p_beats), name
        assert row["Mean gain over 60/30/10"] == fmt.metric_value(
            "profit", reference.diff_mean, signed=True), name
