"""Retention vs acquisition (sim/retention.py): the sweep's extremes, the paired what-ifs, the
"+5 points retention" figure against a hand calculation, cohort curves against closed forms,
and cohort tables parsed and fitted against Fader & Hardie's published example."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.analytics import retention_response, sbg_survival
from sim.cohorts import CohortTableError, parse_cohort_table, read_and_fit
from sim.distributions import sample_inputs
from sim.engine import SimResult, simulate
from sim.retention import (
    EXTRA_MONTHLY,
    TOP_HOT_SHARE,
    bd_textbook,
    best_share,
    cohort_survival,
    improved_retention_inputs,
    next_dollar,
    retention_check,
    simulate_hot_share,
    split_for_hot_share,
    sweep_hot_share,
    sweep_shares,
)
from sim.scenario import apply_overrides, load_scenario_file, load_scenario_text
from tests.conftest import REPO_ROOT

BASELINE = load_scenario_file(REPO_ROOT / "scenarios" / "baseline.yaml")
RETENTION_FIRST = load_scenario_file(REPO_ROOT / "scenarios" / "retention_first.yaml")
#: Fader & Hardie (2007), "How to project customer retention", regular customers' cohort.
PUBLISHED = [1000, 631, 468, 382, 326, 289, 262, 241]
PUBLISHED_ALPHA, PUBLISHED_BETA = 0.704, 1.182


# ------------------------------------------------------------------ splits and the sweep


def test_split_keeps_the_scenarios_cold_to_warm_ratio() -> None:
    cold, warm, hot = split_for_hot_share(BASELINE, 0.4)
    assert hot == 0.4
    assert cold + warm + hot == pytest.approx(1.0)
    assert cold / warm == pytest.approx(0.6 / 0.3)


def test_sweep_grid_is_0_to_80_in_5_point_steps_plus_an_off_grid_current_share() -> None:
    assert np.allclose(sweep_shares(BASELINE), np.arange(17) * 0.05)
    odd = apply_overrides(BASELINE, {"budget.split.cold": 0.55, "budget.split.warm": 0.33,
                                     "budget.split.hot": 0.12})
    shares = sweep_shares(odd)
    assert len(shares) == 18 and np.any(np.isclose(shares, 0.12))


def test_stacked_sweep_equals_separate_runs_on_the_same_draws() -> None:
    sweep = sweep_hot_share(BASELINE, trials=300, seed=5, shares=np.array([0.1, 0.35]))
    for index, hot in enumerate((0.1, 0.35)):
        cold, warm, _ = split_for_hot_share(BASELINE, hot)
        alone = simulate(apply_overrides(BASELINE, {"budget.split.cold": cold,
                                                    "budget.split.warm": warm,
                                                    "budget.split.hot": hot}),
                         trials=300, seed=5)
        assert np.allclose(sweep.metrics["profit"][index], alone.metrics["profit"], rtol=1e-9)


def test_best_share_is_zero_when_retention_spend_does_nothing() -> None:
    # Repeat rate and churn ignore retention spend, so every dollar moved to hot is wasted.
    scenario = apply_overrides(BASELINE, {"hot.repeat_max": 0.10, "hot.repeat_no_spend": 0.10,
                                          "hot.churn_unpreventable": 1.0})
    sweep = sweep_hot_share(scenario, trials=400, seed=11)
    for goal in ("profit", "npv", "long_run_value"):
        best = best_share(sweep, goal)
        assert best.share == 0.0
        # Less acquisition only loses: the best beats every other share in every future.
        assert np.all(best.beaten_share[1:] == 1.0)


def test_best_share_is_the_top_of_the_range_when_cold_and_warm_spend_do_nothing() -> None:
    # No engagement (no new leads) and a flat conversion curve: acquisition money is wasted,
    # while the budget is spent either way, so more retention can only help.
    scenario = apply_overrides(BASELINE, {"cold.engagement_rate": 0.0,
                                          "warm.conversion_max": 0.002,
                                          "warm.conversion_no_spend": 0.002})
    sweep = sweep_hot_share(scenario, trials=400, seed=11)
    best = best_share(sweep, "profit")
    assert best.share == pytest.approx(TOP_HOT_SHARE)
    assert np.all(np.diff(sweep.metrics["profit"].mean(axis=1)) > 0)
    assert best.vs_current.p_beats == 1.0


def test_next_ten_thousand_spends_exactly_the_extra_and_goes_where_it_works() -> None:
    # Acquisition is useless here, so the extra money does more in retention in every future.
    scenario = apply_overrides(BASELINE, {"cold.engagement_rate": 0.0,
                                          "warm.conversion_max": 0.002,
                                          "warm.conversion_no_spend": 0.002})
    result = next_dollar(scenario, trials=300, seed=3)
    horizon = scenario.simulation.horizon_months
    for option in (result.acquisition, result.retention):
        extra = option["marketing_spend"] - result.current["marketing_spend"]
        assert np.allclose(extra, EXTRA_MONTHLY * horizon)  # zero budget growth
    assert result.retention_vs_acquisition.p_beats == 1.0
    # Useless acquisition spend lowers profit by exactly what it costs.
    assert np.allclose(result.acquisition["profit"] - result.current["profit"],
                       -EXTRA_MONTHLY * horizon)


# ------------------------------------------------------------------ +5 points retention

HAND_SCENARIO = """
schema: 1
name: Hand calculation
simulation: {horizon_months: 12, trials: 100, seed: 1, flows: expected}
finance: {discount_rate_annual: 0.0}
market: {prospects: 0, warm_start: 0, customers_start: 1000, customers_start_tenure: 12}
budget: {monthly: 1000, growth_monthly: 0.0, split: {cold: 1.0, warm: 0.0, hot: 0.0}}
hot: {churn: {monthly: 0.10}, churn_unpreventable: 0.3, repeat_no_spend: 0.2, repeat_max: 0.35,
      spend_scale: 4.0}
orders: {first_value: 60, repeat_value: 100, gross_margin: 0.5}
guarantee: {days: 30, reference_days: 30, return_rate_at_reference: 0.0, handling_cost: 8,
            resale_share: 0.5, conversion_elasticity: 0.0}
"""


def test_five_points_more_retention_matches_a_hand_calculation() -> None:
    scenario = load_scenario_text(HAND_SCENARIO)
    check = retention_check(scenario, trials=100, seed=1)
    # docs/model.md with no prospects and no leads: no new customers. No hot spend: e = 1, so the
    # churn applied is the base churn c and the repeat rate is q0 = 0.2. Month t has
    # A_t = 1000 (1 - c)^t customers ordering 0.2 x $100 at 50% margin, minus the $1,000 budget:
    # profit_t = 10 A_t - 1000, summed over 12 months = 10,000 (1 - (1 - c)^12) / c - 12,000.
    def profit(churn: float) -> float:
        return 10_000 * (1 - (1 - churn) ** 12) / churn - 12_000

    before, after = profit(0.10), profit(0.05)  # 59,757.0 and 79,928.3
    assert before == pytest.approx(59_757.0, abs=1)
    assert np.allclose(check.base_profit, before, rtol=1e-9)
    assert np.allclose(check.improved_profit, after, rtol=1e-9)
    assert check.relative_of_means == pytest.approx(after / before - 1, rel=1e-9)  # +33.8%
    assert np.allclose(check.relative, 0.3375, atol=5e-4)
    assert "5 percentage points" in check.definition


def test_five_points_for_sbg_churn_lowers_first_month_churn_by_exactly_five_points() -> None:
    inputs = sample_inputs(RETENTION_FIRST, 50, 1)
    better = improved_retention_inputs(RETENTION_FIRST, inputs)
    alpha = inputs["hot.churn.sbg.alpha"]
    before = alpha / (alpha + inputs["hot.churn.sbg.beta"])
    after = alpha / (alpha + better["hot.churn.sbg.beta"])
    assert np.allclose(before - after, 0.05)
    assert np.array_equal(better["hot.churn.sbg.alpha"], alpha)


# ------------------------------------------------------------------ cohorts in the simulation


def test_cohort_survival_without_retention_spend_is_the_base_churn_curve() -> None:
    # With no hot spend e = 1, so a cohort keeps (1 - c)^k after k months (constant churn) and
    # the sBG survival B(alpha, beta + k) / B(alpha, beta) (Fader & Hardie).
    fixed = apply_overrides(BASELINE, {"hot.churn.monthly": 0.08})
    result = simulate_hot_share(fixed, 0.0, trials=20, seed=2)
    survival = cohort_survival(result, 0)
    assert np.allclose(survival, 0.92 ** np.arange(36))
    result = simulate_hot_share(RETENTION_FIRST, 0.0, trials=20, seed=2)
    survival = cohort_survival(result, 12)
    assert np.allclose(survival, sbg_survival(0.7, 1.2, 23))


def test_cohort_survival_reproduces_the_engines_customer_count() -> None:
    # With constant churn every cohort and the starting customers churn alike, so the
    # customers at the end are the starting ones times the month-0 cohort curve plus each
    # month's new customers times theirs: the rebuilt curves must add up to the engine's count.
    result = simulate_hot_share(BASELINE, 0.3, trials=50, seed=4)
    horizon = result.horizon
    start = result.inputs["market.customers_start"][:50]
    new = result.monthly["new_customers"]
    total = np.zeros(50)
    for month in range(horizon):
        survival = cohort_survival(result, month)
        staying_last = survival[:, -1] * (1 - _last_month_churn(result))
        total += new[:, month] * staying_last
    first = cohort_survival(result, 0)
    total += start * first[:, -1] * (1 - _last_month_churn(result))
    assert np.allclose(total, result.monthly["active_customers"][:, -1], rtol=1e-9)


def _last_month_churn(result: SimResult) -> np.ndarray:
    """Churn of the horizon's last month (constant base churn) for the test above."""
    x = result.inputs
    n = result.monthly["active_customers"].shape[0]
    start = result.monthly["active_customers"][:, -2]
    hot = x["budget.split.hot"][:n] * result.monthly["spend"][:, -1]
    saturation = np.exp(-hot / np.maximum(start, 1.0) / x["hot.spend_scale"][:n])
    u = x["hot.churn_unpreventable"][:n]
    return x["hot.churn.monthly"][:n] * (u + (1 - u) * saturation)


# ------------------------------------------------------------------ Blattberg-Deighton


def test_textbook_curves_pass_through_the_scenarios_own_response_points() -> None:
    textbook = bd_textbook(BASELINE)
    bd = textbook.inputs
    assert bd is not None and textbook.optimum is not None
    # Medians of the baseline's inputs: churn {low: 0.07, high: 0.13} is logit-normal, so its
    # median has odds sqrt(odds(0.07) x odds(0.13)); spend_scale {low: 4, high: 25} is
    # lognormal, median sqrt(4 x 25) = 10.
    odds = math.sqrt(0.07 / 0.93 * 0.13 / 0.87)
    churn, unpreventable, scale = odds / (1 + odds), 0.3, 10.0
    expected = 1 - churn * (unpreventable + (1 - unpreventable) * math.exp(-1))
    assert float(retention_response(scale, bd.r_ceiling, bd.k_r)) == pytest.approx(expected)
    assert bd.r_ceiling == pytest.approx(1 - churn * unpreventable)
    assert 0 < textbook.optimum.retention_spend < bd.margin * bd.r_ceiling


def test_textbook_says_why_it_does_not_apply_when_retention_ignores_spend() -> None:
    scenario = apply_overrides(BASELINE, {"hot.churn_unpreventable": 1.0})
    textbook = bd_textbook(scenario)
    assert textbook.optimum is None
    assert "retention does not respond" in textbook.problem


# ------------------------------------------------------------------ cohort tables


def _long_csv(rows: list[int], cohort: str = "2024-01", sep: str = ",") -> bytes:
    lines = [sep.join(["cohort", "months_since_first_purchase", "active_customers"])]
    lines += [sep.join([cohort, str(month), str(count)]) for month, count in enumerate(rows)]
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize("data", [
    _long_csv(PUBLISHED),
    _long_csv(PUBLISHED, sep=";"),
    b"cohort,0,1,2,3,4,5,6,7\n2024-01,1000,631,468,382,326,289,262,241\n",
    "\ufeffCohort\tMonth 0\tMonth 1\tMonth 2\tMonth 3\tMonth 4\tMonth 5\tMonth 6\tMonth 7\n"
    "Jan\t\"1,000\"\t631\t468\t382\t326\t289\t262\t241\n".encode(),
], ids=["long", "long-semicolon", "wide", "wide-tabs-bom-thousands"])
def test_sbg_fit_of_the_published_example_through_the_csv_path(data: bytes) -> None:
    fit = read_and_fit(data)
    assert fit.fit.alpha == pytest.approx(PUBLISHED_ALPHA, abs=5e-4)
    assert fit.fit.beta == pytest.approx(PUBLISHED_BETA, abs=5e-4)
    assert np.allclose(fit.observed, np.array(PUBLISHED) / 1000)


def test_cohorts_of_different_ages_in_long_layout_in_any_row_order() -> None:
    rows = ["cohort,month,active"]
    rows += [f"A,{m},{v}" for m, v in enumerate(PUBLISHED)]
    rows += [f"B,{m},{v}" for m, v in reversed(list(enumerate([500, 316, 234])))]
    table = parse_cohort_table("\n".join(rows).encode())
    assert table.labels == ("A", "B")
    assert [len(c) for c in table.counts] == [8, 3]
    assert table.counts[1].tolist() == [500, 316, 234]


def test_the_shipped_example_table_fits_near_the_published_curve() -> None:
    data = (REPO_ROOT / "scenarios" / "examples" / "cohorts_example.csv").read_bytes()
    fit = read_and_fit(data)
    assert len(fit.table.labels) >= 4
    assert 0.5 < fit.fit.alpha < 0.9 and 0.9 < fit.fit.beta < 1.5


@pytest.mark.parametrize(("data", "expected"), [
    (b"cohort,month,active\nA,0,1000\nA,1,six hundred\n",
     "row 3, column 'active': 'six hundred' is not a number"),
    (b"cohort,month,active\nA,0,1000\nA,1,631\nA,2,700\n",
     "row 4, column 'active': 700 customers is more than the 631"),
    (b"cohort,month,active\nA,0,1000\nA,2,631\n",
     "row 3, column 'month': cohort A jumps from month 0 to 2"),
    (b"cohort,month,active\nA,1,631\nA,2,500\n",
     "row 2, column 'month': cohort A starts at month 1"),
    (b"cohort,month,active\nA,0,1000\nA,0,990\n",
     "row 3, column 'month': cohort A has month 0 twice (also on row 2)"),
    (b"cohort,month,active\nA,0,1000\nA,1.5,631\n",
     "row 3, column 'month': '1.5' is not a whole number"),
    (b"cohort,month,active\nA,0,1000\n,1,631\n", "row 3, column 'cohort': the cohort is empty"),
    (b"cohort,month,active\nA,0,1000\nA,1,-5\n", "row 3, column 'active': -5 is negative"),
    (b"cohort,month,active\nA,0,1000\n", "row 2: cohort A has only month 0"),
    (b"cohort,0,1,2\nA,1000,,500\n", "row 2, column '2': a count after the empty cell"),
    (b"cohort,0,1,2\nA,1000,631,468\nB,0,0,0\n", "row 3, column '0': the cohort size"),
    (b"cohort,0,1,2\nA,1000,631,x\n", "row 2, column '2': 'x' is not a number"),
    (b"shop,visits\nA,3\n", "row 1: no column for"),
    (b"cohort,month,active\n", "needs a header row and at least one row of data"),
    (b"\x00\xff\xfe" * 10, "the file is not text"),
    (b"a" * 300_000, "cohort tables are limited to 200,000 bytes"),
])
def test_bad_tables_are_refused_naming_row_and_column(data: bytes, expected: str) -> None:
    with pytest.raises(CohortTableError) as caught:
        read_and_fit(data)
    assert any(expected in problem for problem in caught.value.problems), caught.value.problems
