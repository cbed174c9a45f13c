"""BG/NBD and Gamma-Gamma against the published CDNOW figures, read through our own order
parser from the CDNOW sample (tests/data/cdnow_sample.txt, see tests/data/README.md)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from sim.calibrate.bgnbd import (
    bgnbd_log_likelihood,
    expected_purchases,
    expected_spend,
    fit_bgnbd,
    fit_gamma_gamma,
    holdout_check,
    probability_alive,
)
from sim.calibrate.transactions import CustomerSummary, parse_transactions, summarize
from tests.conftest import REPO_ROOT

CDNOW = REPO_ROOT / "tests" / "data" / "cdnow_sample.txt"
#: End of the 39-week calibration period of Fader, Hardie & Lee (2005).
CALIBRATION_END = dt.date(1997, 9, 30)


def _cdnow_csv() -> bytes:
    """The sample as an order export: customer id, date, CDs, value (its columns as CSV)."""
    lines = ["customer_id,order_date,cds,order_value"]
    for line in CDNOW.read_text().splitlines():
        if line.strip():
            _, customer, date, cds, value = line.split()
            lines.append(f"{customer},{date},{cds},{value}")
    return "\n".join(lines).encode()


@pytest.fixture(scope="module")
def cdnow() -> CustomerSummary:
    return summarize(parse_transactions(_cdnow_csv()), CALIBRATION_END, "week")


def _two_digits(x: float) -> float:
    return float(f"{x:.2g}")


def test_cdnow_sample_counts(cdnow: CustomerSummary) -> None:
    assert cdnow.customers == 2357
    assert cdnow.repeat_customers == 946
    assert cdnow.x.sum() == 2457  # repeat purchases in the calibration period (FHL 2005)
    assert cdnow.holdout == 39.0
    assert cdnow.T.max() == pytest.approx(38.857, abs=1e-3)


def test_bgnbd_reproduces_the_published_cdnow_parameters(cdnow: CustomerSummary) -> None:
    fit = fit_bgnbd(cdnow.x, cdnow.t_x, cdnow.T)
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    for name, value in published.items():
        assert _two_digits(fit.params[name]) == _two_digits(value), name
        assert fit.params[name] == pytest.approx(value, rel=2e-3), name
    assert fit.log_likelihood == pytest.approx(-9582.4, abs=0.1)
    # Standard errors from the inverse Hessian: positive, and r is the best determined.
    assert 0.005 < fit.se["r"] < 0.03 and fit.se["r"] / fit.params["r"] < 0.1


def test_gamma_gamma_reproduces_the_published_cdnow_parameters(cdnow: CustomerSummary) -> None:
    fit = fit_gamma_gamma(cdnow.x, cdnow.spend)
    assert fit.customers == 946
    for name, value in {"p": 6.25, "q": 3.74, "gamma": 15.44}.items():
        assert _two_digits(fit.params[name]) == _two_digits(value), name
        assert fit.params[name] == pytest.approx(value, rel=5e-3), name


def test_conditional_expectation_matches_the_papers_example() -> None:
    # FHL (2005): a customer with 2 repeat purchases, the last at week 30.43, observed for
    # 38.86 weeks, is expected to make 1.226 purchases in the next 39 weeks.
    params = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    one = np.array([2.0]), np.array([30.43]), np.array([38.86])
    assert expected_purchases(params, 39.0, *one)[0] == pytest.approx(1.226, abs=5e-4)
    # A customer with no repeat purchase is alive for sure (the model's assumption).
    assert probability_alive(params, np.zeros(1), np.zeros(1), np.full(1, 30.0))[0] == 1.0


def test_expected_purchases_agree_with_simulated_customers() -> None:
    # Unconditional check: customers with x = 0 at T = 0 are new customers; the mean number
    # of purchases of simulated BG/NBD customers over t must match E[X(t) | 0, 0, 0].
    params = {"r": 0.5, "alpha": 5.0, "a": 0.8, "b": 2.5}
    rng = np.random.default_rng(7)
    n, t = 200_000, 20.0
    rate = rng.gamma(params["r"], 1.0 / params["alpha"], n)
    dropout = rng.beta(params["a"], params["b"], n)
    # Purchases before dropping out: geometric (including the purchase at which they drop).
    alive_purchases = rng.geometric(dropout)
    within = rng.poisson(rate * t)
    simulated = np.minimum(within, alive_purchases)
    expected = expected_purchases(params, t, np.zeros(1), np.zeros(1), np.zeros(1))[0]
    assert simulated.mean() == pytest.approx(expected, rel=0.02)


def test_log_likelihood_of_a_one_off_customer_is_closed_form() -> None:
    # x = 0: L = (alpha / (alpha + T))^r (never bought again while alive).
    value = bgnbd_log_likelihood(0.5, 3.0, 1.0, 2.0, np.zeros(1), np.zeros(1), np.full(1, 10.0))
    assert value[0] == pytest.approx(0.5 * np.log(3.0 / 13.0))


def test_expected_spend_weights_own_mean_and_population_mean() -> None:
    params = {"p": 6.25, "q": 3.74, "gamma": 15.44}
    population = params["p"] * params["gamma"] / (params["q"] - 1)
    assert expected_spend(params, np.zeros(1), np.zeros(1))[0] == pytest.approx(population)
    many = expected_spend(params, np.array([1e6]), np.array([50.0]))[0]
    assert many == pytest.approx(50.0, rel=1e-4)


def test_holdout_check_groups_as_in_the_paper(cdnow: CustomerSummary) -> None:
    params = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    check = holdout_check(params, cdnow.x, cdnow.t_x, cdnow.T, cdnow.x_holdout, cdnow.holdout)
    assert check.groups[-1] == "7+" and check.customers.sum() == 2357
    assert check.customers[0] == 1411  # customers with no repeat purchase in calibration
    # The BG/NBD tracks the holdout within 0.4 purchases per customer in every group.
    assert np.all(np.abs(check.actual - check.predicted) < 0.4)


def test_clv_of_a_customer_observed_longer_than_the_clv_period_is_their_orders() -> None:
    # Customer "old" has been observed for over 36 months: nothing is forecast, and orders
    # after month 36 do not count: CLV = margin x (10 + 20). The others make the fit possible.
    from sim.calibrate.customers import calibrate_transactions, customer_table

    rows = ["customer,date,value", "old,2020-01-01,10", "old,2021-01-01,20",
            "old,2023-06-01,30"]
    for k in range(30):
        rows.append(f"c{k},2023-{1 + k % 12:02d}-01,15")
        if k % 3:
            rows.append(f"c{k},2023-{1 + k % 12:02d}-20,25")
    calibration = calibrate_transactions(parse_transactions("\n".join(rows).encode()),
                                         until=dt.date(2024, 1, 1), margin=0.5)
    old = calibration.summary.ids.index("old")
    assert calibration.future_orders[old] == 0.0
    assert calibration.clv[old] == pytest.approx(15.0)
    table = customer_table(calibration).splitlines()
    assert table[0].startswith("customer_id,channel,first_order,x,t_x_weeks,T_weeks")
    assert table[1 + old].startswith("old,(all),2020-01-01,2,")
    assert table[1 + old].endswith(",15.0")
