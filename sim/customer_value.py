"""Customer value beyond the horizon: CLV, customer equity and payback (docs/model.md#metrics).

A customer's value sums CLV_MONTHS months of contribution after acquisition, with the retention
and repeat rates of the horizon's last month held from then on (docs/model.md#customer-value).
The engine (sim/engine.py) passes those last-month rates in explicitly.
"""

from __future__ import annotations

import numpy as np

from sim.funnel import ChurnModel, ConstantChurn

#: Months summed for CLV and customer equity beyond the horizon (at least this many).
CLV_MONTHS = 240


def geometric_terms(churn_share: np.ndarray, monthly_discount: np.ndarray) -> np.ndarray:
    """sum_{j < CLV_MONTHS} ratio^j with ratio = (1 - churn_share) / (1 + monthly_discount):
    months of a constant-churn customer's life, each discounted (dimensionless).

    (1 - ratio^N) / (1 - ratio) loses digits when ratio is near 1 (a churn of 1e-8 a month
    keeps about 8 of 16); here 1 - ratio = (d + c) / (1 + d) and
    ratio^N = exp(N (log1p(-c) - log1p(d))), each to the last digits. N when ratio is 1.
    """
    churn_share = np.asarray(churn_share, dtype=float)
    monthly_discount = np.asarray(monthly_discount, dtype=float)
    shortfall = (monthly_discount + churn_share) / (1.0 + monthly_discount)
    with np.errstate(divide="ignore", invalid="ignore"):  # log1p(-1) = -inf: ratio 0, one term
        log_ratio = np.log1p(-churn_share) - np.log1p(monthly_discount)
        terms = -np.expm1(CLV_MONTHS * log_ratio) / shortfall
    return np.where(shortfall == 0.0, float(CLV_MONTHS), terms)


def customer_values(
    *, churn: ChurnModel, keep_rate: np.ndarray, month_contribution: np.ndarray,
    monthly_discount: np.ndarray, start_tenure_end: np.ndarray, cohort_tenures: np.ndarray,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Value of a customer alive at the start of a month with tenure k (that month's
    contribution counted, discounted to the end of the month), for the tenures needed.

    Returns ({"one": V(1), "start": V(start customers' tenure), "cohorts": V(each cohort's
    tenure) of shape (n, months)}, retention at tenure 0).
    """
    n = len(keep_rate)
    growth = 1.0 / (1.0 + monthly_discount)
    if isinstance(churn, ConstantChurn):
        churn_share = churn.base(0) * keep_rate
        retention = 1.0 - churn_share
        # Geometric sum of CLV_MONTHS terms: contribution * sum_j (retention * growth)^j * growth
        value = month_contribution * growth * geometric_terms(churn_share, monthly_discount)
        cohorts = np.broadcast_to(value[:, None], (n, len(cohort_tenures)))
        return {"one": value, "start": value, "cohorts": cohorts}, retention
    top = int(max(start_tenure_end.max(), cohort_tenures.max(initial=1))) + CLV_MONTHS
    value = np.zeros(n)
    wanted_cohorts = np.zeros((n, len(cohort_tenures)))
    start_value = np.zeros(n)
    position = {int(k): i for i, k in enumerate(cohort_tenures)}
    start_whole = np.rint(start_tenure_end).astype(np.int64)
    for k in range(top, 0, -1):
        retention_k = 1.0 - churn.base(k) * keep_rate
        value = growth * (month_contribution + retention_k * value)
        if k in position:
            wanted_cohorts[:, position[k]] = value
        hit = start_whole == k
        start_value = np.where(hit, value, start_value)
    # A new customer's value sums CLV_MONTHS months after acquisition (docs/model.md#metrics),
    # however long the horizon or the starting customers' tenure that set `top` above.
    value_one = np.zeros(n)
    for k in range(CLV_MONTHS, 0, -1):
        retention_k = 1.0 - churn.base(k) * keep_rate
        value_one = growth * (month_contribution + retention_k * value_one)
    retention_zero = 1.0 - churn.base(0) * keep_rate
    return {"one": value_one, "start": start_value, "cohorts": wanted_cohorts}, retention_zero


def payback_month(
    churn: ChurnModel, keep_rate: np.ndarray, first_contribution: np.ndarray,
    month_contribution: np.ndarray, cac: np.ndarray,
) -> np.ndarray:
    """Months after acquisition until a new customer's undiscounted contribution repays CAC
    (0 = the first order does); NaN when it never does within CLV_MONTHS or CAC is undefined."""
    cumulative = first_contribution.copy()
    survival = np.ones(len(first_contribution))
    payback = np.where(cumulative >= cac, 0.0, np.nan)
    for month in range(1, CLV_MONTHS + 1):
        survival = survival * (1.0 - churn.base(month - 1) * keep_rate)
        cumulative = cumulative + survival * month_contribution
        payback = np.where(np.isnan(payback) & (cumulative >= cac), float(month), payback)
    return np.where(np.isnan(cac), np.nan, payback)
