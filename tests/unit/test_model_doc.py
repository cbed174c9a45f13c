"""docs/model.md's worked numbers, recomputed by hand and checked against the engine.

The numbers below are the ones printed in docs/model.md, section "Worked example"
(docs/model.md#worked-example) and section "Refunds owed at the horizon"
(docs/model.md#refunds-owed-at-the-horizon). Each is recomputed here from the documented
formulas in plain Python (medians from the closed forms of a 90% interval, not from the sampler),
and the engine must give the same to 1e-9. When the model changes, this test fails until the
document (and the numbers copied here from it) are updated together.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from sim.distributions import constant_inputs, point_inputs
from sim.engine import simulate
from sim.scenario import load_scenario_file, variant_scenario, without_variants

ROOT = Path(__file__).resolve().parents[2]
TOLERANCE = 1e-9


def close(value: float) -> object:
    """Equal to 1e-9, relative (absolute for values near 0)."""
    return pytest.approx(value, rel=TOLERANCE, abs=TOLERANCE)


def logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def expit(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def lognormal_median(low: float, high: float) -> float:
    """Median of the lognormal whose P5 and P95 are low and high: the geometric mean."""
    return math.sqrt(low * high)


def logit_normal_median(low: float, high: float) -> float:
    """Median of the logit-normal whose P5 and P95 are low and high."""
    return expit((logit(low) + logit(high)) / 2.0)


# docs/model.md#worked-example: the medians table (12 significant digits as printed).
DOC_MEDIANS = {
    "cold.cost_per_thousand": 9.16515138991,
    "cold.engagement_rate": 0.0100253489085,
    "warm.conversion_max": 0.049302419072,
    "hot.churn.monthly": 0.0958835223887,
    "hot.spend_scale": 10.0,
    "orders.first_value": 60.0,
    "orders.repeat_value": 98.7420882907,
    "guarantee.return_rate_at_reference": 0.046027578339,
    "guarantee.conversion_elasticity": 0.02,
}

# The same medians from the closed forms of scenarios/baseline.yaml's distributions.
MEDIANS = {
    "cold.cost_per_thousand": lognormal_median(6, 14),
    "cold.engagement_rate": logit_normal_median(0.005, 0.02),
    "warm.conversion_max": logit_normal_median(0.03, 0.08),
    "hot.churn.monthly": logit_normal_median(0.07, 0.13),
    "hot.spend_scale": lognormal_median(4, 25),
    "orders.first_value": lognormal_median(45, 80),
    "orders.repeat_value": lognormal_median(75, 130),
    "guarantee.return_rate_at_reference": logit_normal_median(0.03, 0.07),
    "guarantee.conversion_elasticity": (0.0 + 0.04) / 2.0,
}

# docs/model.md#worked-example: the month's numbers, as printed.
DOC_MONTH = {
    "budget": 50_000.0,
    "impressions": 3_273_268.35354,
    "reach_share": 0.0162739534376,
    "leads": 32_547.9068753,
    "spend_per_lead": 0.75,
    "conversion": 0.0124632580576,
    "new_customers": 249.265161151,
    "spend_per_customer": 1.0,
    "repeat_rate": 0.123790645491,
    "repeat_orders": 618.953227455,
    "gross_revenue": 76_072.6439022,
    "return_rate": 0.046027578339,
    "refunds": 3_501.43957666,
    "returned_orders": 39.9619898969,
    "profit": -14_909.4536506,
    "churn_share": 0.0894963558978,
    "churned": 469.790103065,
    "active_customers": 4_779.47505809,
}

# docs/model.md#worked-example: the one-month run's metrics, as printed.
DOC_METRICS = {
    "npv": -14_791.5041196,
    "cac": 180.530643722,
    "clv_new_customer": 70.9428956255,
    "customer_equity_end": 227_725.496665,
    "ltv_to_cac": 0.392968718014,
    "repeat_revenue_share": 0.803399633536,
    "leaky_bucket_ratio": 1.88470021601,
    "open_guarantee_liability": 0.0,
}
DOC_CLV_PARTS = {
    "first_contribution": 27.5605383480,
    "repeat_contribution": 45.5941791155,
    "month_contribution": 4.64413286334,
    "retention": 0.910503644102,
    "monthly_discount": 0.00797414042890,
    "value_from_month_one": 47.6465498612,
}
#: 240 months of undiscounted contribution, printed rounded to cents.
DOC_PAYBACK_REACH = 74.81

# Fixed inputs of scenarios/baseline.yaml (docs/model.md#worked-example, "Fixed: ...").
FIXED = {
    "budget": 50_000.0, "cold": 0.6, "warm": 0.3, "hot": 0.1, "prospects": 2_000_000.0,
    "warm_start": 20_000.0, "customers_start": 5_000.0, "p0": 0.002, "warm_scale": 3.0,
    "unpreventable": 0.3, "q0": 0.1, "qmax": 0.35, "margin": 0.5, "handling": 8.0,
    "resale": 0.5, "discount_annual": 0.1, "days": 30.0, "reference_days": 30.0,
    "return_elasticity": 0.169,
}


def order_contribution(value: float, rho: float) -> float:
    """docs/model.md#profit-of-the-month: pi(v)."""
    m, r, h = FIXED["margin"], FIXED["resale"], FIXED["handling"]
    return value * ((1 - rho) - (1 - m) + rho * r * (1 - m)) - rho * h


def month_by_hand() -> dict[str, float]:
    """Month 0 from the equations of docs/model.md#the-month, plain floats."""
    x = MEDIANS
    budget = FIXED["budget"] * (1 + 0.0) ** 0
    impressions = 1000 * FIXED["cold"] * budget / x["cold.cost_per_thousand"]
    reach = 1 - math.exp(-x["cold.engagement_rate"] * impressions / FIXED["prospects"])
    per_lead = FIXED["warm"] * budget / max(FIXED["warm_start"], 1)
    factor = (FIXED["days"] / FIXED["reference_days"]) ** x["guarantee.conversion_elasticity"]
    p0, pmax = FIXED["p0"], x["warm.conversion_max"]
    conversion = min(1, (p0 + (pmax - p0) * (1 - math.exp(-per_lead / FIXED["warm_scale"])))
                     * factor)
    new = FIXED["warm_start"] * conversion
    per_customer = FIXED["hot"] * budget / max(FIXED["customers_start"], 1)
    gap = math.exp(-per_customer / x["hot.spend_scale"])
    repeat = FIXED["q0"] + (FIXED["qmax"] - FIXED["q0"]) * (1 - gap)
    repeats = FIXED["customers_start"] * repeat
    gross = new * x["orders.first_value"] + repeats * x["orders.repeat_value"]
    rho = min(1, x["guarantee.return_rate_at_reference"]
              * (FIXED["days"] / FIXED["reference_days"]) ** FIXED["return_elasticity"])
    refunds, returned = rho * gross, rho * (new + repeats)
    m, r, h = FIXED["margin"], FIXED["resale"], FIXED["handling"]
    profit = gross - refunds - (1 - m) * gross + r * (1 - m) * refunds - h * returned - budget
    u = FIXED["unpreventable"]
    churn = x["hot.churn.monthly"] * (u + (1 - u) * gap)
    churned = (FIXED["customers_start"] + new) * churn
    return {
        "budget": budget, "impressions": impressions, "reach_share": reach,
        "leads": FIXED["prospects"] * reach, "spend_per_lead": per_lead,
        "conversion": conversion, "new_customers": new, "spend_per_customer": per_customer,
        "repeat_rate": repeat, "repeat_orders": repeats, "gross_revenue": gross,
        "return_rate": rho, "refunds": refunds, "returned_orders": returned, "profit": profit,
        "churn_share": churn, "churned": churned,
        "active_customers": FIXED["customers_start"] + new - churned,
    }


def metrics_by_hand(month: dict[str, float]) -> dict[str, float]:
    """The one-month run's metrics from docs/model.md#metrics (constant churn, 240 months)."""
    rho = month["return_rate"]
    first = order_contribution(MEDIANS["orders.first_value"], rho)
    repeat = order_contribution(MEDIANS["orders.repeat_value"], rho)
    per_month = month["repeat_rate"] * repeat - month["spend_per_customer"]
    retention = 1 - month["churn_share"]
    i_m = (1 + FIXED["discount_annual"]) ** (1 / 12) - 1
    g = 1 / (1 + i_m)
    value_one = sum(per_month * g ** (k + 1) * retention ** k for k in range(240))
    clv = first + retention * value_one
    cac = (FIXED["cold"] + FIXED["warm"]) * month["budget"] / month["new_customers"]
    reach_240 = first + sum(per_month * retention ** k for k in range(1, 241))
    return {
        "npv": month["profit"] * g,
        "cac": cac,
        "clv_new_customer": clv,
        "customer_equity_end": month["active_customers"] * value_one,
        "ltv_to_cac": clv / cac,
        "repeat_revenue_share": (month["repeat_orders"] * MEDIANS["orders.repeat_value"]
                                 / month["gross_revenue"]),
        "leaky_bucket_ratio": month["churned"] / month["new_customers"],
        "open_guarantee_liability": 0.0,
        "first_contribution": first, "repeat_contribution": repeat,
        "month_contribution": per_month, "retention": retention, "monthly_discount": i_m,
        "value_from_month_one": value_one, "payback_reach": reach_240,
    }


@pytest.fixture(scope="module")
def baseline_run():
    scenario = load_scenario_file(ROOT / "scenarios" / "baseline.yaml")
    point = point_inputs(scenario)
    return point, simulate(scenario, inputs=constant_inputs(point, 1), horizon=1)


def test_documented_medians_are_the_closed_forms_and_the_samplers(baseline_run) -> None:
    point, _ = baseline_run
    for path, printed in DOC_MEDIANS.items():
        assert MEDIANS[path] == close(printed), path
        assert point[path] == close(MEDIANS[path]), path


def test_month_zero_by_hand_equals_the_document_and_the_engine(baseline_run) -> None:
    _, result = baseline_run
    mine = month_by_hand()
    for name, printed in DOC_MONTH.items():
        assert mine[name] == close(printed), name
    engine = {name: float(series[0, 0]) for name, series in result.monthly.items()}
    for name in ("leads", "new_customers", "repeat_orders", "gross_revenue", "refunds",
                 "profit", "churned", "active_customers"):
        assert engine[name] == close(mine[name]), name
    assert engine["spend"] == close(mine["budget"])
    assert engine["net_revenue"] == close(mine["gross_revenue"] - mine["refunds"])
    assert engine["open_liability"] == 0.0


def test_one_month_metrics_by_hand_equal_the_document_and_the_engine(baseline_run) -> None:
    _, result = baseline_run
    mine = metrics_by_hand(month_by_hand())
    for name, printed in {**DOC_METRICS, **DOC_CLV_PARTS}.items():
        assert mine[name] == close(printed), name
    for name in DOC_METRICS:
        assert float(result.metrics[name][0]) == close(mine[name]), name
    # CAC payback: 240 months of undiscounted contribution never repay CAC.
    assert round(mine["payback_reach"], 2) == DOC_PAYBACK_REACH
    assert mine["payback_reach"] < mine["cac"]
    assert np.isnan(result.metrics["payback_month"][0])
    assert float(result.metrics["early_repeat_rate"][0]) == 0.0


# docs/model.md#refunds-owed-at-the-horizon: scenarios/guarantee.yaml at its medians, 36 months,
# printed rounded to whole dollars (returns to two decimals).
DOC_OWED = {
    "base_profit": 101_901, "long_profit_in_horizon": 190_305, "long_owed": 165_457,
    "long_owed_returns": 2_084.03, "long_cost": 140_765, "long_profit": 49_540,
}


def test_refunds_owed_example_follows_the_documented_arithmetic() -> None:
    scenario = load_scenario_file(ROOT / "scenarios" / "guarantee.yaml")
    base = without_variants(scenario)
    long = variant_scenario(scenario, "5-year guarantee")
    base_metrics = simulate(base, inputs=constant_inputs(point_inputs(base), 1)).metrics
    result = simulate(long, inputs=constant_inputs(point_inputs(long), 1))
    metrics, monthly = result.metrics, result.monthly
    horizon = 36
    # By hand from docs/model.md#orders-and-returns: the returns above the 5% reference rate
    # are refunded evenly over the l = 60 months after each order; at month 36 an order of
    # month j still has (j + 25) / 60 of them to come.
    rho = min(1.0, 0.05 * (1825 / 30) ** 0.169)
    late_rate, late_months = rho - 0.05, math.ceil((1825 - 30) / 30)
    assert late_months == 60
    still_to_come = [min(late_months, j + late_months - (horizon - 1)) / late_months
                     for j in range(horizon)]
    gross = monthly["gross_revenue"][0]
    orders = monthly["new_customers"][0] + monthly["repeat_orders"][0]
    owed = sum(late_rate * gross[j] * still_to_come[j] for j in range(horizon))
    owed_returns = sum(late_rate * orders[j] * still_to_come[j] for j in range(horizon))
    margin, resale, handling = 0.5, 0.5, 8.0  # scenarios/guarantee.yaml
    cost = owed * (1 - resale * (1 - margin)) + handling * owed_returns
    monthly_rate = 1.10 ** (1 / 12) - 1
    cash_profit = float(monthly["profit"][0].sum())
    cash_npv = sum(float(monthly["profit"][0][t]) * (1 + monthly_rate) ** -(t + 1)
                   for t in range(horizon))
    assert float(metrics["open_guarantee_liability"][0]) == close(owed)
    assert float(metrics["open_guarantee_returns"][0]) == close(owed_returns)
    assert float(metrics["profit_in_horizon"][0]) == close(cash_profit)
    assert float(metrics["profit"][0]) == close(cash_profit - cost)
    assert float(metrics["npv"][0]) == close(cash_npv - cost * (1 + monthly_rate) ** -horizon)
    # With expected flows, net revenue is every horizon order's (1 - rho) share.
    assert float(metrics["net_revenue"][0]) == close((1 - rho) * float(gross.sum()))
    # The numbers printed in the document.
    assert round(float(base_metrics["profit"][0])) == DOC_OWED["base_profit"]
    assert float(base_metrics["open_guarantee_liability"][0]) == 0.0
    assert base_metrics["profit"][0] == base_metrics["profit_in_horizon"][0]
    assert round(cash_profit) == DOC_OWED["long_profit_in_horizon"]
    assert round(owed) == DOC_OWED["long_owed"]
    assert round(owed_returns, 2) == DOC_OWED["long_owed_returns"]
    assert round(cost) == DOC_OWED["long_cost"]
    assert round(cash_profit - cost) == DOC_OWED["long_profit"]
