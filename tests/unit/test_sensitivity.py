"""Sensitivity analysis against hand-solved cases: tornado, variance shares, thresholds, EVPI.

Every expected number is written out from the model's equations or from elementary
probability, never read back from the code under test.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any

import numpy as np
import pytest

from sim.engine import BASE_LABEL, plan_scenarios, simulate, simulate_plans
from sim.scenario import Scenario, apply_overrides
from sim.sensitivity import (
    Threshold,
    decision_thresholds,
    tornado,
    value_of_knowing,
    variance_shares,
)
from ui.sensitivity import flip_words, input_note, input_value, losing_ranges

Z95 = NormalDist().inv_cdf(0.95)


def scenario(**dotted: Any) -> Scenario:
    """The default scenario with dotted overrides (written with '__' for '.') applied."""
    return apply_overrides(Scenario(), {k.replace("__", "."): v for k, v in dotted.items()})


def lognormal_quantile(low: float, high: float, p: float) -> float:
    """Quantile p of the lognormal whose 5th and 95th percentiles are low and high."""
    mu = (math.log(low) + math.log(high)) / 2
    sigma = (math.log(high) - math.log(low)) / (2 * Z95)
    return math.exp(mu + sigma * NormalDist().inv_cdf(p))


# ---------------------------------------------------------------- one input decides profit

# Starting customers only: no spend, no prospects, no leads, no returns. Profit over H months is
# margin * q * repeat_value * N * sum_{t < H} (1 - churn)^t, so it depends on repeat order value
# alone. Five other inputs are uncertain but cannot move it (nothing is bought with cold or warm
# spend, and a 30-day guarantee makes the conversion elasticity irrelevant).
N, Q, CHURN, MARGIN, H = 1000.0, 0.3, 0.1, 0.5, 12
ONE_INPUT: dict[str, Any] = {
    "simulation__trials": 2000, "simulation__horizon_months": H,
    "budget__monthly": 0, "market__prospects": 0, "market__warm_start": 0,
    "market__customers_start": N, "hot__repeat_no_spend": Q, "hot__repeat_max": Q,
    "hot__churn__monthly": CHURN, "hot__churn_unpreventable": 1,
    "guarantee__return_rate_at_reference": 0, "guarantee__handling_cost": 0,
    "orders__gross_margin": MARGIN,
    "orders__repeat_value": {"low": 75, "high": 130},
    "orders__first_value": {"low": 45, "high": 80},
    "cold__cost_per_thousand": {"low": 6, "high": 14},
    "cold__engagement_rate": {"low": 0.005, "high": 0.02},
    "warm__conversion_max": {"low": 0.03, "high": 0.08},
    "guarantee__conversion_elasticity": {"dist": "uniform", "min": 0.0, "max": 0.04},
}


def profit_by_hand(repeat_value: float) -> float:
    return MARGIN * Q * repeat_value * N * sum((1 - CHURN) ** t for t in range(H))


def test_tornado_one_bar_when_profit_depends_on_one_input() -> None:
    s = scenario(**ONE_INPUT)
    result = tornado(s, "profit")
    assert len(result.bars) == 6
    first, *others = result.bars
    assert first.path == "orders.repeat_value"
    assert first.input_low == pytest.approx(lognormal_quantile(75, 130, 0.10), rel=1e-12)
    assert first.input_high == pytest.approx(lognormal_quantile(75, 130, 0.90), rel=1e-12)
    assert first.output_low == pytest.approx(profit_by_hand(first.input_low), rel=1e-9)
    assert first.output_high == pytest.approx(profit_by_hand(first.input_high), rel=1e-9)
    assert result.base_value == pytest.approx(profit_by_hand(math.sqrt(75 * 130)), rel=1e-9)
    assert all(bar.width == 0.0 for bar in others)
    assert first.width > 0.2 * result.base_value


def test_variance_all_on_the_one_input() -> None:
    s = scenario(**ONE_INPUT)
    run = simulate(s)
    fields = ["orders.repeat_value", "orders.first_value", "cold.cost_per_thousand",
              "cold.engagement_rate", "warm.conversion_max", "guarantee.conversion_elasticity"]
    shares = variance_shares(run.metrics["profit"], run.inputs, fields)
    # Binning a smooth input into 20 quantile bins leaves a little variance inside the bins.
    assert shares["orders.repeat_value"] > 0.97
    assert sum(shares[path] for path in fields[1:]) < 0.01


def test_variance_shares_of_a_linear_model_and_an_interaction(rng: np.random.Generator) -> None:
    # Y = 3 X1 + X2 with independent uniforms: first-order shares 9/10 and 1/10, X3 none.
    x = {f"x{i}": rng.random(40_000) for i in (1, 2, 3)}
    shares = variance_shares(3 * x["x1"] + x["x2"], x, ["x1", "x2", "x3"])
    assert shares["x1"] == pytest.approx(0.9, abs=0.01)
    assert shares["x2"] == pytest.approx(0.1, abs=0.01)
    assert shares["x3"] == pytest.approx(0.0, abs=0.002)
    # Y = X1 * X2 on (-1, 1): E[Y | X1] = 0, so all the variance is interaction.
    u = {key: 2 * value - 1 for key, value in x.items()}
    shares = variance_shares(u["x1"] * u["x2"], u, ["x1", "x2"])
    assert shares["x1"] + shares["x2"] < 0.01


# ---------------------------------------------------------------- decision thresholds

RATIO = 1825 / 30


def guarantee_case(elasticity: dict[str, Any]) -> dict[str, Scenario]:
    """30-day base vs a 5-year guarantee, orders only in month 0 (as in the engine's
    break-even test): 5% returns at 30 days double to 10% at 1825 days, and every late refund
    falls inside the 70-month horizon."""
    s = scenario(
        simulation__trials=100, simulation__horizon_months=70,
        budget__monthly=20_000, budget__growth_monthly=0,
        budget__split={"cold": 0.0, "warm": 1.0, "hot": 0.0},
        market__prospects=0, market__warm_start=50_000, market__customers_start=0,
        cold__lead_decay_monthly=1, hot__repeat_no_spend=0, hot__repeat_max=0,
        guarantee__days=30, guarantee__reference_days=30,
        guarantee__return_rate_at_reference=0.05,
        guarantee__return_elasticity=math.log(2) / math.log(RATIO),
        guarantee__conversion_elasticity=elasticity,
        variants={"Five-year guarantee": {"guarantee": {"days": 1825}}},
    )
    return plan_scenarios(s)


def test_threshold_matches_the_break_even_elasticity_solved_by_hand() -> None:
    # Net revenue is equal when conversion * 0.90 = base conversion * 0.95, i.e.
    # (1825 / 30)^e = 0.95 / 0.90: e = ln(0.95 / 0.90) / ln(1825 / 30) = 0.013161.
    expected = math.log(0.95 / 0.90) / math.log(RATIO)
    assert expected == pytest.approx(0.013161, abs=1e-6)
    plans = guarantee_case({"dist": "uniform", "min": 0.0, "max": 0.04})
    found = decision_thresholds(plans["Five-year guarantee"], plans[BASE_LABEL],
                                ["guarantee.conversion_elasticity"], "net_revenue",
                                trials=20, seed=1)["guarantee.conversion_elasticity"]
    assert found.low == pytest.approx(0.0004) and found.high == pytest.approx(0.0396)
    assert len(found.roots) == 1
    assert found.roots[0] == pytest.approx(expected, abs=2e-5)
    assert found.root_se == (0.0,)  # every future is the same one: no Monte Carlo error
    assert found.a_wins_at(0.03) and not found.a_wins_at(0.005)
    # The guarantee loses below the threshold: that is where the choice flips.
    (losing,) = losing_ranges(found, winner_is_a=True)
    assert losing.low is None and losing.high == pytest.approx(expected, abs=2e-5)


def test_threshold_never_flips_when_every_lift_pays() -> None:
    plans = guarantee_case({"dist": "uniform", "min": 0.02, "max": 0.04})
    found = decision_thresholds(plans["Five-year guarantee"], plans[BASE_LABEL],
                                ["guarantee.conversion_elasticity"], "net_revenue",
                                trials=20, seed=1)["guarantee.conversion_elasticity"]
    assert found.roots == ()
    assert min(found.grid_diff) > 0
    assert flip_words(found, winner_is_a=True, plans=list(plans.values())) == ""


def test_flip_words_and_elasticity_note_by_hand() -> None:
    plans = guarantee_case({"dist": "uniform", "min": 0.0, "max": 0.04})
    made_up = Threshold("guarantee.conversion_elasticity", 0.0, 0.04, (0.02,), (0.001,),
                        (0.0, 0.01, 0.02, 0.03, 0.04), (-2.0, -1.0, 0.0, 1.0, 2.0),
                        (0.1, 0.1, 0.1, 0.1, 0.1), 100)
    lift = RATIO ** 0.02 - 1  # 8.57%
    words = flip_words(made_up, winner_is_a=True, plans=list(plans.values()))
    assert words == f"conversion elasticity is below 0.02 (a {lift * 100:.1f}% conversion " \
                    "lift at 5 years)"
    assert input_note("guarantee.conversion_elasticity", 0.02,
                      list(plans.values())).startswith(" (a 8.6%")
    assert flip_words(made_up, winner_is_a=False, plans=list(plans.values())).startswith(
        "conversion elasticity is above 0.02")
    assert input_value("cold.engagement_rate", 0.0062) == "0.62%"
    assert input_value("orders.repeat_value", 83.2) == "$83.20"
    assert input_value("guarantee.conversion_elasticity", 0.0000729) == "0.0000729"


# ---------------------------------------------------------------- value of knowing


def test_evpi_zero_when_one_plan_wins_in_every_future() -> None:
    # Same business, but the variant pays more to handle every return: with returns in every
    # future, the base plan has the higher profit in every single future.
    s = scenario(simulation__trials=1000,
                 orders__first_value={"low": 45, "high": 80},
                 cold__engagement_rate={"low": 0.005, "high": 0.02},
                 guarantee__return_rate_at_reference={"low": 0.03, "high": 0.07},
                 variants={"Costly returns": {"guarantee": {"handling_cost": 20}}})
    results = simulate_plans(plan_scenarios(s))
    profits = {label: result.metrics["profit"] for label, result in results.items()}
    assert np.all(profits[BASE_LABEL] > profits["Costly returns"])
    fields = ["orders.first_value", "cold.engagement_rate", "guarantee.return_rate_at_reference"]
    worth = value_of_knowing(profits, results[BASE_LABEL].inputs, fields)
    assert worth.best_plan == BASE_LABEL
    assert worth.evpi == pytest.approx(0.0, abs=1e-6)
    assert all(value == pytest.approx(0.0, abs=1e-6) for value in worth.per_input.values())
    assert worth.noise == pytest.approx(0.0, abs=1e-6)


def test_evpi_of_a_coin_toss_decision(rng: np.random.Generator) -> None:
    # Plan A pays x and plan B pays -x with x uniform on (-1, 1): choosing now is worth
    # max(E[x], E[-x]) ~ 0, choosing after learning x is worth E|x| = 1/2. Knowing x is worth
    # all of it; knowing an unrelated z is worth nothing beyond binning noise.
    x = rng.uniform(-1, 1, 40_000)
    z = rng.uniform(-1, 1, 40_000)
    worth = value_of_knowing({"A": x, "B": -x}, {"x": x, "z": z}, ["x", "z"])
    assert worth.evpi == pytest.approx(np.mean(np.abs(x)) - abs(np.mean(x)), rel=1e-9)
    assert worth.evpi == pytest.approx(0.5, abs=0.01)
    assert worth.per_input["x"] == pytest.approx(0.5, abs=0.01)
    assert worth.per_input["z"] < 0.02
    assert 0 < worth.noise < 0.02
