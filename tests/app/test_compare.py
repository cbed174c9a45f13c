"""Compare page through AppTest: paired runs across files, the answer, the table, the link."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from sim.engine import BASE_LABEL, plan_scenarios, simulate, simulate_plans
from sim.metrics import compare_paired
from sim.scenario import apply_overrides, dump_scenario, load_scenario_file
from tests.app.conftest import decision_text, new_app, open_page, share_link_text
from ui import compare
from ui import format as fmt

PAGE = "pages/compare.py"
TRIALS = 500
#: The section with the table of every key number (ui.navigation.SECTIONS).
TABLE = "All key numbers"


@pytest.fixture
def lib(fresh_scenario_library: Path) -> Path:
    return fresh_scenario_library


def _open(params: dict[str, str | list[str]] | None = None) -> AppTest:
    return open_page(new_app(), PAGE, trials=str(TRIALS), **(params or {}))


def _answer(app: AppTest) -> str:
    return decision_text(app)


def test_default_answer_matches_the_engine(lib: Path) -> None:
    app = _open({"compare_section": TABLE})
    scenario = load_scenario_file(lib / "baseline.yaml")
    results = simulate_plans(plan_scenarios(scenario), trials=TRIALS,
                             seed=scenario.simulation.seed)
    base = results[BASE_LABEL].metrics["profit"]
    odds = {label: compare_paired(r.metrics["profit"], base)
            for label, r in results.items() if label != BASE_LABEL}
    best = max(odds, key=lambda label: odds[label].p_beats)
    sentence = _answer(app)
    assert odds[best].p_beats > 0.5  # otherwise the decision is to stay with the base plan
    assert sentence == (f"Switch to {best}: its 3-year profit is "
                        f"{fmt.money(odds[best].diff_p50)} higher in the median future and it "
                        f"wins in {fmt.share(odds[best].p_beats)} of 500 simulated futures.")
    table = app.dataframe[0].value
    assert len(table) == len(compare.COMPARE_METRICS) * 5
    row = table[(table["Metric"] == "Profit (refunds still owed deducted)")
                & (table["Plan"] == best)].iloc[0]
    assert row["Median"] == fmt.money(float(np.percentile(results[best].metrics["profit"],
                                                          50)))


def test_identical_files_differ_by_exactly_zero(lib: Path) -> None:
    """Two files with the same plan, run on the same seed and trials, draw the same futures:
    every difference is exactly zero and neither beats the other."""
    (lib / "twin.yaml").write_bytes((lib / "baseline.yaml").read_bytes())
    app = _open({"compare_plans": ["baseline — base plan", "twin — base plan"],
                 "compare_section": TABLE})
    assert app.multiselect(key="compare_plans").value == ["baseline — base plan",
                                                          "twin — base plan"]
    assert _answer(app).startswith("Stay with baseline — base plan: no other plan wins on ")
    table = app.dataframe[0].value
    twin = table[table["Plan"] == "twin — base plan"]
    assert (twin["Median difference"].isin(["$0", "+$0", "+$0.00", "$0.00"])).all()
    assert twin["P(beats the first)"].str.startswith("0%").all()


def test_files_share_draws_for_fields_they_share(lib: Path) -> None:
    """A second file that changes only the guarantee is compared on the same draws of every
    other field: its paired difference equals the engine's paired difference."""
    base = load_scenario_file(lib / "baseline.yaml")
    longer = apply_overrides(base, {"guarantee.days": 365, "name": "Year guarantee shop"})
    (lib / "year.yaml").write_text(dump_scenario(longer))
    app = _open({"compare_plans": ["baseline — base plan", "year — base plan"],
                 "compare_metric": "net_revenue", "compare_section": TABLE})
    seed = base.simulation.seed
    a = simulate(plan_scenarios(base, [])[BASE_LABEL], trials=TRIALS, seed=seed)
    b = simulate(plan_scenarios(longer, [])[BASE_LABEL], trials=TRIALS, seed=seed)
    shared = set(a.inputs) & set(b.inputs) - {"guarantee.days"}
    assert all(np.array_equal(a.inputs[k], b.inputs[k]) for k in shared)
    comparison = compare_paired(b.metrics["net_revenue"], a.metrics["net_revenue"])
    table = app.dataframe[0].value
    row = table[(table["Metric"] == "Net revenue (refunds still owed deducted)")
                & (table["Plan"] == "year — base plan")]
    assert row["Median difference"].iloc[0] == fmt.money(comparison.diff_p50, signed=True)
    assert row["P(beats the first)"].iloc[0].startswith(fmt.share(comparison.p_beats))


def test_choosing_fewer_than_two_asks_for_more(lib: Path) -> None:
    app = _open()
    app.multiselect(key="compare_plans").set_value(["baseline — base plan"]).run()
    assert not app.exception
    assert _answer(app) == "Choose at least two plans to compare (up to six)."
    assert not app.dataframe


def test_choice_travels_in_the_link_and_is_validated(lib: Path) -> None:
    # (The browser test follows a choice made on the page into the link; AppTest does not
    # mirror bound widgets into the URL, so here the choice comes from the link itself.)
    app = _open({"compare_plans": ["guarantee — base plan", "guarantee — 5-year guarantee"],
                 "compare_metric": "NPV of profit"})
    footer_link = share_link_text(app)
    assert footer_link.startswith("/compare?")
    assert ("compare_plans=guarantee+%E2%80%94+base+plan&compare_plans=guarantee+%E2%80%94+"
            "5-year+guarantee") in footer_link
    assert "compare_metric=NPV+of+profit" in footer_link
    assert "3-year NPV of profit" in _answer(app)
    # A link naming a plan that does not exist keeps the valid ones only.
    again = _open({"compare_plans": ["guarantee — base plan", "nope — nothing",
                                     "guarantee — 5-year guarantee"]})
    assert again.multiselect(key="compare_plans").value == ["guarantee — base plan",
                                                            "guarantee — 5-year guarantee"]
    assert "5-year guarantee" in _answer(again)


def test_unreadable_files_are_left_out(lib: Path) -> None:
    (lib / "broken.yaml").write_text("name: [unclosed\n")
    app = _open()
    assert not app.exception
    assert "broken.yaml" in " ".join(c.value for c in app.caption)
    assert not any(o.startswith("broken") for o in app.multiselect(key="compare_plans").options)


def test_comparison_table_numbers(lib: Path) -> None:
    """The CSV's numbers against direct NumPy: percentiles, P(beats) and paired differences;
    for CAC, lower is better."""
    scenario = load_scenario_file(lib / "baseline.yaml")
    results = simulate_plans(plan_scenarios(scenario, ["40/30/30 balanced"]), trials=TRIALS,
                             seed=11)
    table = compare.comparison_table(results)
    assert list(table["metric"].unique()) == list(compare.COMPARE_METRICS)
    first = results[BASE_LABEL].metrics
    other = results["40/30/30 balanced"].metrics
    for metric in compare.COMPARE_METRICS:
        row = table[(table.metric == metric) & (table.plan == "40/30/30 balanced")].iloc[0]
        values = other[metric][np.isfinite(other[metric])]
        assert row.p10 == pytest.approx(np.percentile(values, 10))
        assert row.p90 == pytest.approx(np.percentile(values, 90))
        ok = np.isfinite(other[metric]) & np.isfinite(first[metric])
        diff = other[metric][ok] - first[metric][ok]
        wins = diff < 0 if metric == "cac" else diff > 0
        assert row.p_beats_first == pytest.approx(np.mean(wins), abs=0.004)
        assert row.diff_p50 == pytest.approx(np.percentile(diff, 50))
        head = table[(table.metric == metric) & (table.plan == BASE_LABEL)].iloc[0]
        assert np.isnan(head.p_beats_first)


def test_download_csv_has_readable_headers_and_rounded_numbers(lib: Path) -> None:
    """The page's CSV: one row per plan, headers with the metric's name and unit, money in
    whole dollars, CAC in cents, P(beats) in percent to 0.1 point; no machine names."""
    scenario = load_scenario_file(lib / "baseline.yaml")
    results = simulate_plans(plan_scenarios(scenario, ["40/30/30 balanced"]), trials=TRIALS,
                             seed=11)
    table = compare.comparison_table(results)
    text = compare.download_csv(table)
    rows = list(csv.DictReader(io.StringIO(text)))
    header = list(rows[0])
    # The decision metrics say in their heading that refunds still owed are deducted.
    owed = "(refunds still owed deducted)"
    assert header[:4] == ["Plan", f"Net revenue {owed}, P10 ($)",
                          f"Net revenue {owed}, median ($)", f"Net revenue {owed}, P90 ($)"]
    assert f"Profit {owed}, median ($)" in header and "CAC, median ($)" in header
    assert f"Profit {owed}, P(beats the first) (%)" in header
    assert not any("_" in name for name in header)  # no machine names
    assert [row["Plan"] for row in rows] == [BASE_LABEL, "40/30/30 balanced"]
    other = results["40/30/30 balanced"].metrics
    base = results[BASE_LABEL].metrics
    median_profit = float(np.percentile(other["profit"], 50))
    assert rows[1][f"Profit {owed}, median ($)"] == f"{round(median_profit):.1f}"
    cac = float(np.percentile(other["cac"][np.isfinite(other["cac"])], 50))
    assert float(rows[1]["CAC, median ($)"]) == round(cac, 2)
    wins = np.mean(other["profit"] - base["profit"] > 0)
    assert float(rows[1][f"Profit {owed}, P(beats the first) (%)"]) == pytest.approx(
        round(100 * wins, 1), abs=0.051)
    assert rows[0][f"Profit {owed}, P(beats the first) (%)"] == ""  # the first plan against itself
    assert max(len(cell.split(".")[-1]) for row in rows for cell in row.values()
               if cell.replace(".", "").replace("-", "").isdigit()) <= 2  # no 16-digit numbers


def test_cac_sentence_says_lower(lib: Path) -> None:
    scenario = load_scenario_file(lib / "baseline.yaml")
    results = simulate_plans(plan_scenarios(scenario, ["80/20/0 acquisition first"]),
                             trials=TRIALS, seed=3)
    sentence = compare.compare_sentence(results, "cac", TRIALS, 36)
    comparison = compare_paired(results["80/20/0 acquisition first"].metrics["cac"],
                                results[BASE_LABEL].metrics["cac"], higher_is_better=False)
    if comparison.p_beats > 0.5:
        assert "lower by" in sentence
    else:
        assert "(lower is better)" in sentence


def test_presenter_mode_keeps_the_answer_and_charts(lib: Path) -> None:
    app = _open({"present": "1"})
    assert "simulated futures" in _answer(app)
    # A slide: one chart (drawn at a tall and a short size, CSS shows one), the deck's buttons.
    assert len(app.get("vega_lite_chart")) == 2
    assert [b.label for b in app.button] == ["Previous", "Next", "Leave"]
    assert not app.dataframe  # the page's table is not on the slide
