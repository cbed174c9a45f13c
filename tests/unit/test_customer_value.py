"""The constant-churn customer's discounted months (sim/customer_value.py) against 40-digit
arithmetic, at ratios near 1 where the textbook formula loses digits."""

from __future__ import annotations

import decimal

import numpy as np
import pytest

from sim.customer_value import CLV_MONTHS, geometric_terms


def _exact(churn_share: float, monthly_discount: float) -> float:
    """sum_{j < CLV_MONTHS} ((1 - c) / (1 + d))^j, term by term in 40 digits."""
    with decimal.localcontext(decimal.Context(prec=40)):
        ratio = (1 - decimal.Decimal(churn_share)) / (1 + decimal.Decimal(monthly_discount))
        total = term = decimal.Decimal(1)
        for _ in range(CLV_MONTHS - 1):
            term *= ratio
            total += term
        return float(total)


@pytest.mark.parametrize(("churn_share", "monthly_discount"), [
    (0.03, 0.008), (1e-8, 0.0), (1e-13, 0.0), (0.0, 1e-9), (0.5, 0.0), (1.0, 0.0), (1.0, 0.01),
])
def test_geometric_terms_keep_their_digits(churn_share: float, monthly_discount: float) -> None:
    # (1 - r^N) / (1 - r) at a churn of 1e-8 a month is right to about 8 digits only.
    got = geometric_terms(np.array([churn_share]), np.array([monthly_discount]))[0]
    assert got == pytest.approx(_exact(churn_share, monthly_discount), rel=1e-14)


def test_no_churn_and_no_discount_count_every_month() -> None:
    assert geometric_terms(np.array([0.0]), np.array([0.0]))[0] == CLV_MONTHS
