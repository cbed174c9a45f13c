"""An order export calibrated end to end: BG/NBD, Gamma-Gamma, the holdout check, the cohort
table's sBG fit, observed order values and rates, and value by acquisition channel
(docs/calibration.md).

CLV of a customer over CLV_MONTHS months from their first order, in the file's currency:

    CLV = margin * (value of their orders so far within those months
                    + E[X(t) | x, t_x, T] * E[M | x, m])

with t = the part of the CLV_MONTHS not yet observed at the calibration date (0 once a
customer has been observed that long), E[X] the BG/NBD expected repeat orders and E[M] the
Gamma-Gamma expected value per order (the population mean p gamma / (q - 1) for a customer
with no repeat order yet). Undiscounted.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from dataclasses import dataclass

import numpy as np

from sim.analytics import sbg_log_likelihood
from sim.calibrate.bgnbd import (
    HoldoutCheck,
    ModelFit,
    _numerical_hessian,
    expected_purchases,
    expected_spend,
    fit_bgnbd,
    fit_gamma_gamma,
    holdout_check,
    probability_alive,
)
from sim.calibrate.files import (
    CalibrationFileError,
    Column,
    cell,
    csv_rows,
    decode_text,
    find_columns,
    number_problem,
)
from sim.calibrate.transactions import (
    DAYS_PER_MONTH,
    UNIT_DAYS,
    CustomerSummary,
    RateEstimate,
    Transactions,
    cohort_table,
    monthly_repeat_rate,
    ratio_estimate,
    return_rate,
    summarize,
)
from sim.cohorts import CohortFit, fit_cohort_table

#: Months after the first order that a customer's CLV covers.
CLV_MONTHS = 36
#: A channel whose customers buy a second time less often than this is flagged one-and-done.
ONE_AND_DONE_BELOW = 0.10
#: Gross margin used when none is given (the scenario schema's default).
DEFAULT_MARGIN = 0.5
MAX_SPEND_BYTES = 200_000
SPEND_COLUMNS = (Column("the channel", ("channel", "acquisition_channel", "source")),
                 Column("the spend", ("spend", "cost", "marketing_spend", "amount")))


@dataclass(frozen=True)
class ChannelValue:
    """Value of the customers a channel acquired in the calibration period.

    repeat_share: share who ordered a second time (in the calibration period); clv: mean CLV
    per customer ($); cac: spend / customers (None without spend); ltv_to_cac: clv / cac.
    """

    channel: str
    customers: int
    repeat_share: float
    clv: float
    cac: float | None
    ltv_to_cac: float | None

    @property
    def one_and_done(self) -> bool:
        """Return True when fewer than ONE_AND_DONE_BELOW of its customers bought twice."""
        return self.repeat_share < ONE_AND_DONE_BELOW


@dataclass(frozen=True)
class SbgEstimate:
    """The cohort table's sBG fit with standard errors of log alpha and log beta."""

    cohorts: CohortFit
    se_log_alpha: float
    se_log_beta: float


@dataclass(frozen=True)
class TransactionCalibration:
    """Everything fitted from an order export (see the module docstring for CLV)."""

    summary: CustomerSummary
    bgnbd: ModelFit
    gamma_gamma: ModelFit | None
    holdout: HoldoutCheck | None
    future_orders: np.ndarray
    value_per_order: np.ndarray
    clv: np.ndarray
    margin: float
    first_value: RateEstimate
    repeat_value: RateEstimate | None
    repeat_rate: RateEstimate
    return_rate: RateEstimate | None
    sbg: SbgEstimate | None
    channels: tuple[ChannelValue, ...]


def parse_channel_spend(data: bytes) -> dict[str, float]:
    """Read marketing spend per acquisition channel (CSV: channel, spend) over the calibration
    period; CalibrationFileError naming row and column."""
    rows = csv_rows(decode_text(data, MAX_SPEND_BYTES, "channel spend"))
    if len(rows) < 2:
        raise CalibrationFileError(["the file needs a header row and at least one channel"])
    header = [text.strip() for text in rows[0][1]]
    found = find_columns(header, SPEND_COLUMNS)
    spend: dict[str, float] = {}
    problems = []
    for number, row in rows[1:]:
        name = cell(row, found["the channel"])
        if not name:
            problems.append(f"row {number}, column '{header[found['the channel']]}': the "
                            "channel is empty")
            continue
        value, problem = number_problem(cell(row, found["the spend"]),
                                        header[found["the spend"]], number,
                                        "an amount of 0 or more")
        if problem:
            problems.append(problem)
        elif name in spend:
            problems.append(f"row {number}, column '{header[found['the channel']]}': channel "
                            f"{name[:40]} appears twice")
        else:
            spend[name] = float(value or 0.0)
    if problems:
        raise CalibrationFileError(problems)
    return spend


def _window_value(tx: Transactions, summary: CustomerSummary, horizon_days: float
                  ) -> np.ndarray:
    """Return each calibration customer's order value within `horizon_days` of their first
    order and on or before the calibration date."""
    until = (summary.until - dt.date(1970, 1, 1)).days
    first = np.full(len(tx.customers), np.iinfo(np.int64).max)
    np.minimum.at(first, tx.customer, tx.day)
    inside = (tx.day <= until) & (tx.day - first[tx.customer] < horizon_days)
    value = np.bincount(tx.customer[inside], weights=tx.value[inside],
                        minlength=len(tx.customers))
    return value[first <= until]


def _sbg(tx: Transactions, until: dt.date | None) -> SbgEstimate | None:
    table = cohort_table(tx, until)
    if table is None:
        return None
    try:
        cohorts = fit_cohort_table(table)
    except ValueError:
        return None
    counts = [list(c) for c in table.counts]

    def negative(log_params: np.ndarray) -> float:
        return -sbg_log_likelihood(math.exp(log_params[0]), math.exp(log_params[1]), counts)

    point = np.log([cohorts.fit.alpha, cohorts.fit.beta])
    try:
        covariance = np.linalg.inv(_numerical_hessian(negative, point))
        se = np.sqrt(np.diag(covariance))
    except (np.linalg.LinAlgError, ValueError):
        return None
    if not np.all(np.isfinite(se)):
        return None
    return SbgEstimate(cohorts, float(se[0]), float(se[1]))


def channel_values(summary: CustomerSummary, clv: np.ndarray,
                   spend: dict[str, float] | None) -> tuple[ChannelValue, ...]:
    """Return CLV, CAC and LTV:CAC per acquisition channel (CAC only for channels with
    spend)."""
    out = []
    for index, name in enumerate(summary.channel_names):
        members = summary.channel == index
        count = int(members.sum())
        if count == 0:
            continue
        mean_clv = float(np.mean(clv[members]))
        cost = None if spend is None or name not in spend else spend[name] / count
        ratio = mean_clv / cost if cost else None
        out.append(ChannelValue(name, count, float(np.mean(summary.x[members] > 0)), mean_clv,
                                cost, ratio))
    return tuple(out)


def calibrate_transactions(tx: Transactions, *, until: dt.date | None = None,
                           unit: str = "week", margin: float = DEFAULT_MARGIN,
                           channel_spend: dict[str, float] | None = None
                           ) -> TransactionCalibration:
    """Fit every model of an order export with the calibration period ending on `until`.

    ValueError (with a readable message) when the customers cannot be fitted.
    """
    if not 0.0 <= margin <= 1.0:
        raise ValueError(f"the margin must be a share from 0 to 1, got {margin:g}")
    summary = summarize(tx, until, unit)
    bg = fit_bgnbd(summary.x, summary.t_x, summary.T)
    try:
        gg = fit_gamma_gamma(summary.x, summary.spend)
    except ValueError:
        gg = None
    check = None
    if summary.holdout > 0:
        check = holdout_check(bg.params, summary.x, summary.t_x, summary.T, summary.x_holdout,
                              summary.holdout)
    horizon = CLV_MONTHS * DAYS_PER_MONTH / UNIT_DAYS[unit]
    remaining = np.maximum(horizon - summary.T, 0.0)
    future = expected_purchases(bg.params, remaining, summary.x, summary.t_x, summary.T)
    per_order = (expected_spend(gg.params, summary.x, summary.spend) if gg is not None
                 and gg.params["q"] > 1 else np.full(summary.customers,
                                                     float(np.mean(summary.first_value))))
    observed = _window_value(tx, summary, CLV_MONTHS * DAYS_PER_MONTH)
    clv = margin * (observed + future * per_order)
    first = summary.first_value
    first_value = RateEstimate(float(np.mean(first)),
                               float(np.std(first, ddof=1) / np.sqrt(len(first)))
                               if len(first) > 1 else float("nan"), float(first.sum()),
                               float(len(first)))
    repeat_value = None
    if summary.repeat_customers:
        repeat_value = ratio_estimate(summary.spend * summary.x, summary.x)
    return TransactionCalibration(
        summary, bg, gg, check, future, per_order, clv, margin, first_value, repeat_value,
        monthly_repeat_rate(tx, until), return_rate(tx, until), _sbg(tx, until),
        channel_values(summary, clv, channel_spend))


def customer_table(calibration: TransactionCalibration) -> str:
    """Return one CSV row per customer: the summary, P(alive), the expected repeat orders and
    value per order for the rest of the CLV period, and the CLV (full precision)."""
    s = calibration.summary
    alive = probability_alive(calibration.bgnbd.params, s.x, s.t_x, s.T)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["customer_id", "channel", "first_order", "x", f"t_x_{s.unit}s",
                     f"T_{s.unit}s", "mean_repeat_value", "p_alive", "expected_repeat_orders",
                     "expected_value_per_order", "clv"])
    for i, ident in enumerate(s.ids):
        writer.writerow([ident, s.channel_names[s.channel[i]],
                         (dt.date(1970, 1, 1) + dt.timedelta(days=int(s.first[i]))).isoformat(),
                         int(s.x[i]), repr(float(s.t_x[i])), repr(float(s.T[i])),
                         repr(float(s.spend[i])), repr(float(alive[i])),
                         repr(float(calibration.future_orders[i])),
                         repr(float(calibration.value_per_order[i])),
                         repr(float(calibration.clv[i]))])
    return buffer.getvalue()
