"""The metric registry: one entry per reported number, and everyone reads it."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pytest

from sim import cli, registry
from sim.engine import CLV_MONTHS, METRIC_NAMES, MONTHLY_NAMES, plan_scenarios, simulate
from sim.funnel import owed_refunds_cost
from sim.guarantee import LENGTH_METRICS
from sim.retention import GOALS, SWEEP_METRICS, UNIT_ECONOMICS
from sim.scenario import load_scenario_file
from ui import compare, retention, sensitivity, splits, words
from ui import format as fmt

REPO_ROOT = Path(__file__).resolve().parents[2]
DERIVED = ("return_rate", "return_multiplier", "conversion_multiplier", "long_run_value")


def test_every_engine_metric_and_monthly_series_has_an_entry() -> None:
    assert tuple(registry.METRICS) == METRIC_NAMES + DERIVED
    assert tuple(registry.SERIES) == MONTHLY_NAMES
    assert all(info.name == name for name, info in registry.METRICS.items())
    assert all(info.name == name for name, info in registry.SERIES.items())


def test_every_name_an_analysis_or_a_view_shows_is_registered() -> None:
    shown = {*LENGTH_METRICS, *GOALS, *SWEEP_METRICS, *UNIT_ECONOMICS,
             *compare.COMPARE_METRICS, *cli.COMPARE_TABLE_METRICS, *sensitivity.METRICS,
             *splits.TABLE_METRICS, *splits.METRIC_WORDS}
    assert shown <= set(registry.METRICS)
    assert set(cli.MONTHLY_REPORTED) <= set(registry.SERIES)
    assert {series for series, _, _, _ in compare.FAN_SERIES.values()} <= set(registry.SERIES)
    with pytest.raises(KeyError, match="unknown metric 'profti'; known: net_revenue"):
        registry.metric("profti")


@pytest.mark.parametrize("entries", [registry.METRICS, registry.SERIES],
                         ids=["metrics", "series"])
def test_labels_are_unique_and_fields_are_valid(entries: dict[str, registry.MetricInfo]) -> None:
    infos = list(entries.values())
    assert len({info.label for info in infos}) == len(infos)
    assert len({info.short for info in infos}) == len(infos)
    assert len({info.title for info in infos}) == len(infos)
    for info in infos:
        assert len(info.short) <= 20, info.short  # fits a narrow column
        assert info.unit in registry.UNITS
        assert info.better in ("higher", "lower", "neither")
        assert info.owed_refunds_counted in (True, False, None)
        assert info.horizon and info.description.endswith(".")


def test_directions_and_horizons_say_what_the_numbers_are() -> None:
    lower = {name for name, info in registry.METRICS.items() if info.better == "lower"}
    assert {"cac", "payback_month", "leaky_bucket_ratio", "churned_customers",
            "open_guarantee_liability", "refunds"} <= lower
    assert not lower & {"profit", "npv", "net_revenue", "clv_new_customer", "ltv_to_cac"}
    assert registry.metric("clv_new_customer").horizon == f"over {CLV_MONTHS} months"
    assert registry.metric("customer_equity_end").horizon == "at the horizon"
    assert registry.metric("profit").horizon == "over the horizon"
    counted = {name for name, info in registry.METRICS.items()
               if info.owed_refunds_counted is True}
    assert counted == {"net_revenue", "profit", "npv", "open_guarantee_liability",
                       "open_guarantee_returns", "clv_new_customer", "ltv_to_cac",
                       "payback_month", "long_run_value"}
    assert all(registry.metric(name).owed_refunds_counted is False
               for name in ("net_revenue_in_horizon", "profit_in_horizon", "refunds",
                            "customer_equity_end"))
    # Tables and captions say it; the plain label (what a link stores) does not change.
    assert registry.metric("profit").heading == "Profit (refunds still owed deducted)"
    assert registry.metric("npv").column_title == "NPV of profit (refunds still owed deducted)"
    assert registry.metric("net_revenue").label == "Net revenue"
    assert registry.metric("cac").heading == "CAC (cost per new customer)"
    assert registry.metric("profit_in_horizon").heading == (
        "Profit within the horizon (cash; refunds still owed left out)")
    assert fmt.metric_heading("profit") == registry.metric("profit").heading


def test_owed_refunds_flag_is_what_the_engine_computes() -> None:
    """Net revenue deducts every refund of the horizon's orders, paid or still owed; the
    *_in_horizon metrics only those paid within it (a five-year guarantee leaves many owed)."""
    scenario = load_scenario_file(REPO_ROOT / "scenarios" / "guarantee.yaml")
    plan = plan_scenarios(scenario)["5-year guarantee"]
    result = simulate(plan, trials=100)
    m = result.metrics
    owed = m["open_guarantee_liability"]
    assert np.all(owed > 0)
    np.testing.assert_allclose(m["net_revenue_in_horizon"], m["gross_revenue"] - m["refunds"],
                               rtol=1e-12)
    np.testing.assert_allclose(m["refunds"], result.monthly["refunds"].sum(axis=1), rtol=1e-12)
    np.testing.assert_allclose(m["net_revenue"], m["net_revenue_in_horizon"] - owed,
                               rtol=1e-12)
    x = result.inputs
    cost = owed_refunds_cost(owed, m["open_guarantee_returns"], x["orders.gross_margin"],
                             x["guarantee.resale_share"], x["guarantee.handling_cost"])
    np.testing.assert_allclose(m["profit"], m["profit_in_horizon"] - cost, rtol=1e-12)
    assert np.all(m["profit"] < m["profit_in_horizon"])


def test_sentences_name_metrics_with_their_own_horizon() -> None:
    assert registry.metric_words("profit", 36) == "3-year profit"
    assert registry.metric_words("npv", 18) == "18-month NPV of profit"
    assert registry.metric_words("clv_new_customer", 36) == "CLV of a new customer over 240 months"
    assert registry.metric_words("cac", 36) == "CAC"
    assert registry.metric_words("customer_equity_end", 36) == "customer equity at the end"
    assert registry.metric_words("long_run_value", 36) == "long-run value"
    assert compare.metric_words is registry.metric_words
    assert sensitivity.metric_words is registry.metric_words


def test_names_inside_sentences_keep_their_acronyms() -> None:
    """Chart titles and tiles say 'Mean NPV of profit gap', never 'npv of profit'."""
    assert fmt.metric_in_sentence("profit") == "profit"
    assert fmt.metric_in_sentence("npv") == "NPV of profit"
    assert fmt.metric_in_sentence("cac") == "CAC"
    assert fmt.metric_in_sentence("clv_new_customer") == "CLV of a new customer"
    assert fmt.metric_in_sentence("long_run_value") == "long-run value"


def test_rounding_for_people() -> None:
    assert registry.rounded(123_456.78, "money") == 123_457.0
    assert registry.rounded(61.404, "money_per_customer") == 61.4
    assert registry.rounded(0.81549, "share") == 81.5
    assert registry.rounded(1234.6, "count") == 1235.0
    assert registry.rounded(3.14159, "ratio") == 3.14
    assert str(registry.rounded(-0.0001, "money")) == "0.0"  # no "-0.0" in a table
    assert math.isnan(registry.rounded(float("nan"), "money"))
    assert registry.with_unit("Profit, median", "money") == "Profit, median ($)"
    assert registry.with_unit("New customers, median", "count") == "New customers, median"


# ------------------------------------------------------------------------------------------
# The CLI and the ui read the registry and keep no copy.

LABEL_COPIES = ("METRIC_LABELS", "LOWER_IS_BETTER", "HORIZON_TOTALS", "HIGHER_IS_BETTER")


@pytest.mark.parametrize("module", [cli, compare, fmt, words, sensitivity, retention, splits],
                         ids=lambda module: module.__name__)
def test_no_module_keeps_its_own_metric_metadata(module: object) -> None:
    assert not [name for name in LABEL_COPIES if hasattr(module, name)]
    # No registry label is spelled out in the module's source either.
    source = Path(module.__file__).read_text(encoding="utf-8")  # type: ignore[attr-defined]
    literals = {node.value for node in ast.walk(ast.parse(source))
                if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    labels = {info.label for info in (*registry.METRICS.values(), *registry.SERIES.values())}
    assert not literals & labels


def test_views_follow_a_change_in_the_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Change one entry and every view changes with it: they read it, not a copy."""
    changed = registry.MetricInfo("profit", "Earnings", "Earn", "share", "lower", True,
                                  "over the horizon", "A test entry.")
    monkeypatch.setitem(registry.METRICS, "profit", changed)
    assert fmt.metric_label("profit") == "Earnings"
    assert fmt.metric_value("profit", 0.5) == "50.0%"
    assert registry.metric_words("profit", 24) == "earnings"  # a share is not a total
    assert cli._heading_note(changed) == "lower is better"
    assert cli.format_value(0.25, registry.metric("profit").unit) == "25.0%"


def test_labels_on_screen_are_the_registrys() -> None:
    for name, info in registry.METRICS.items():
        assert fmt.metric_label(name) == info.label
    assert {goal: registry.metric(goal).label for goal in GOALS} == retention.GOAL_LABELS
    assert splits.METRIC_WORDS == {"profit": "profit", "npv": "NPV of profit",
                                   "net_revenue": "net revenue"}
    assert splits.OBJECTIVE_LABELS == {  # a shared link stores these
        "mean_profit": "Mean profit", "mean_npv": "Mean NPV of profit",
        "p10_profit": "P10 of profit (cautious: the bad-luck futures)",
        "mean_net_revenue": "Mean net revenue"}
    # Fan chart titles keep the words a shared link may carry.
    assert [title for _, _, title, _ in compare.FAN_SERIES.values()] == [
        "Cumulative profit ($)", "Net revenue per month ($)", "Active customers"]
    # Labels a shared link stores for the compare and sensitivity pages' metric choice.
    assert [fmt.metric_label(name) for name in compare.COMPARE_METRICS] == [
        "Net revenue", "Profit", "NPV of profit", "CLV of a new customer",
        "Customer equity at the end", "CAC (cost per new customer)"]
