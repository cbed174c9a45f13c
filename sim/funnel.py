"""The model's month, each equation written once (docs/model.md).

Every function broadcasts over NumPy arrays (one value per trial) and plain floats alike, so the
vectorised engine (sim/engine.py), the customer-level SimPy model (sim/des.py) and the analyses
(sim/guarantee.py, sim/retention.py, sim/splits.py, sim/analytics.py) share one definition of
each equation. Rates are shares per month; money is in the scenario's currency.

The arithmetic is written in one fixed order on purpose: the engine's numbers are compared to
stored outputs to 1e-12 (tests/unit/test_golden.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

Number = Any  # float or np.ndarray: every function here broadcasts

#: Days per month of guarantee time: late returns spread over ceil(extra days / 30) months.
DAYS_PER_MONTH = 30.0


# --- reach (docs/model.md#reach) -------------------------------------------------------------


def budget_for_month(budget_monthly: Number, growth_monthly: Number, month: int) -> Number:
    """Marketing budget of month t: B (1 + g)^t, in currency per month (docs/model.md#reach)."""
    return budget_monthly * (1.0 + growth_monthly) ** month


def impressions_bought(spend_cold: Number, cost_per_thousand: Number) -> Number:
    """Impressions bought by cold spend: 1000 S_cold / CPM, in impressions per month
    (docs/model.md#reach)."""
    return spend_cold / cost_per_thousand * 1000.0


def reach_share(engagement_rate: Number, impressions: Number, prospects: Number) -> Number:
    """Share of prospects who become warm leads this month: 1 - exp(-e I / P), 0 when no
    prospects are left (P = 0). Dimensionless share (docs/model.md#reach)."""
    prospects = np.asarray(prospects, dtype=float)
    share = np.where(
        prospects > 0,
        -np.expm1(-engagement_rate * impressions / np.maximum(prospects, 1e-12)),
        0.0)
    return share if share.ndim else float(share)


# --- conversion and retention spend (docs/model.md#conversion, #retention-spend) -------------


#: Spend per head over its scale at which half of a spend response is reached (ln 2): below it
#: `spend_response` computes the reached share with expm1, above it the gap left with exp.
HALF_REACHED = math.log(2.0)


def spend_response(spend_per_head: Number, spend_scale: Number) -> tuple[Number, Number]:
    """(reached, gap_left) of a spend response: the share reached, 1 - exp(-s / k), and the gap
    left, exp(-s / k), with s the spend per lead or per customer and k the spend scale in the
    same currency (docs/model.md#conversion). Shares; reached 0 and gap 1 with no spend.

    Conversion and the repeat rate move by the reached share of their range; the gap left
    scales preventable churn. Whichever of the two is under one half is computed directly
    (expm1 for the share, exp for the gap) and the other as 1 minus it, so neither loses
    digits: 1 - exp at a cent per lead on a $2,000 scale keeps about 11 of 16, and NumPy's exp
    and the C library's, one unit in the last place apart, then differ by 1e-9 of the share.
    """
    ratio = np.asarray(spend_per_head / spend_scale, dtype=float)
    near = ratio < HALF_REACHED
    minus_reached = np.expm1(-ratio)
    gap_far = np.exp(-ratio)
    reached = np.where(near, -minus_reached, 1.0 - gap_far)
    gap_left = np.where(near, 1.0 + minus_reached, gap_far)
    if reached.ndim:
        return reached, gap_left
    return float(reached), float(gap_left)


def guarantee_length_factor(days: Number, reference_days: Number, elasticity: Number) -> Number:
    """How a quantity scales with the guarantee's length: (d / d_ref)^e, dimensionless. The one
    power law behind the conversion factor and the return rate (docs/model.md#conversion)."""
    return (days / reference_days) ** elasticity


def guarantee_conversion_factor(days: Number, reference_days: Number,
                                conversion_elasticity: Number) -> Number:
    """Factor on conversion of a guarantee of `days` days: (d / d_ref)^ec, dimensionless
    (docs/model.md#conversion)."""
    return guarantee_length_factor(days, reference_days, conversion_elasticity)


def conversion_rate(reached: Number, conversion_no_spend: Number, conversion_max: Number,
                    guarantee_factor: Number) -> Number:
    """Share of warm leads who buy this month: min(1, (p0 + (pmax - p0) r) G), per month, with r
    the share of the spend response reached (`spend_response`) (docs/model.md#conversion)."""
    return np.minimum(1.0, (conversion_no_spend + (conversion_max - conversion_no_spend)
                            * reached) * guarantee_factor)


def repeat_rate(reached: Number, repeat_no_spend: Number, repeat_max: Number) -> Number:
    """Share of active customers who order again this month: q0 + (qmax - q0) r, per month, with
    r the share of the spend response reached (`spend_response`)
    (docs/model.md#retention-spend)."""
    return repeat_no_spend + (repeat_max - repeat_no_spend) * reached


def churn_multiplier(gap_left: Number, churn_unpreventable: Number) -> Number:
    """Factor on base churn left after retention spend: u + (1 - u) gap, dimensionless; u is the
    share of churn no spend can stop (docs/model.md#retention-spend)."""
    return churn_unpreventable + (1.0 - churn_unpreventable) * gap_left


# --- orders and returns (docs/model.md#orders-and-returns) -----------------------------------


def return_rate(days: Number, reference_days: Number, return_rate_at_reference: Number,
                return_elasticity: Number) -> Number:
    """Share of orders returned under a guarantee of `days` days:
    min(1, rho_ref (d / d_ref)^er) (docs/model.md#orders-and-returns)."""
    return np.minimum(1.0, return_rate_at_reference
                      * guarantee_length_factor(days, reference_days, return_elasticity))


def late_return_months(days: Number, reference_days: Number) -> Number:
    """Months over which the extra returns of a guarantee longer than the reference arrive:
    ceil((d - d_ref) / 30), in months (docs/model.md#orders-and-returns)."""
    return np.ceil((days - reference_days) / DAYS_PER_MONTH)


def order_contribution(order_value: Number, return_rate: Number, gross_margin: Number,
                       resale_share: Number, handling_cost: Number) -> Number:
    """Expected contribution of one order before marketing spend, in currency:
    v((1 - rho) - (1 - m) + rho r (1 - m)) - rho h: kept revenue, minus the cost of goods, plus the
    resold part of returned goods' cost, minus handling per return
    (docs/model.md#customer-value)."""
    cost_share = 1.0 - gross_margin
    return (order_value * ((1.0 - return_rate) - cost_share
                           + return_rate * resale_share * cost_share)
            - return_rate * handling_cost)


def owed_refunds_cost(owed_value: Number, owed_returns: Number, gross_margin: Number,
                      resale_share: Number, handling_cost: Number) -> Number:
    """What the refunds still owed at the horizon will cost, in currency
    (docs/model.md#refunds-owed-at-the-horizon):

        cost = OL (1 - r (1 - m)) + h n_owed

    OL is the value of the refunds still owed on orders placed within the horizon (the open
    liability, $), n_owed the count of those returned orders, r the resale share of the
    returned goods' cost, m the gross margin and h the handling cost per return ($). The refund
    is paid in full, the resale recovers r (1 - m) of it, and each owed return is handled once.
    Profit loses this cost, NPV loses it discounted at the horizon's end, net revenue loses OL.
    """
    return owed_value * (1.0 - resale_share * (1.0 - gross_margin)) + handling_cost * owed_returns


# --- customer value (docs/model.md#customer-value) -------------------------------------------


def monthly_discount_rate(discount_rate_annual: Number) -> Number:
    """Monthly discount rate equivalent to an annual one: (1 + i)^(1/12) - 1, per month
    (docs/model.md#customer-value)."""
    return (1.0 + discount_rate_annual) ** (1.0 / 12.0) - 1.0


# --- the move: base churn by tenure (docs/model.md#the-move) ---------------------------------


@dataclass(frozen=True)
class ConstantChurn:
    """Base churn (before retention spend) the same at every tenure: c per month."""

    churn_monthly: Number

    def base(self, tenure: Number) -> Number:
        """Base churn at tenure k months: c, broadcast against `tenure`
        (docs/model.md#the-move)."""
        churn = self.churn_monthly
        if np.ndim(tenure) == 0:
            return churn  # one tenure: the per-trial churn itself (the engine asks 300 times a run)
        churn = np.asarray(churn, dtype=float)
        return np.broadcast_to(churn, np.broadcast_shapes(churn.shape, np.shape(tenure)))

    def column(self) -> ConstantChurn:
        """The same model with per-trial parameters as a column, to broadcast over tenures."""
        return ConstantChurn(np.asarray(self.churn_monthly)[:, None])


@dataclass(frozen=True)
class SbgChurn:
    """Shifted-beta-geometric base churn: falls with tenure as the likely leavers leave."""

    alpha: Number
    beta: Number

    def base(self, tenure: Number) -> Number:
        """Base churn at tenure k months: alpha / (alpha + beta + k), per month
        (docs/model.md#the-move)."""
        return self.alpha / (self.alpha + self.beta + tenure)

    def column(self) -> SbgChurn:
        """The same model with per-trial parameters as a column, to broadcast over tenures."""
        return SbgChurn(np.asarray(self.alpha)[:, None], np.asarray(self.beta)[:, None])


ChurnModel = ConstantChurn | SbgChurn


def churn_model(churn_monthly: Number | None = None, sbg_alpha: Number | None = None,
                sbg_beta: Number | None = None) -> ChurnModel:
    """The base churn model of a scenario's inputs: sBG when alpha and beta are given, constant
    otherwise (docs/model.md#the-move). Exactly one form must be given."""
    if sbg_alpha is not None and sbg_beta is not None:
        if churn_monthly is not None:
            raise ValueError("churn is either constant (monthly) or sBG (alpha, beta), not both")
        return SbgChurn(sbg_alpha, sbg_beta)
    if churn_monthly is None:
        raise ValueError("churn needs hot.churn.monthly or both hot.churn.sbg.alpha and .beta")
    return ConstantChurn(churn_monthly)
