"""An order export: parsing, per-customer summaries, the cohort table and observed rates.

One row per order: customer id, order date, order value; optionally the customer's acquisition
channel and whether the order was returned. Orders a customer places on one day count as one
order (as in the BG/NBD papers), with their values added. Time is measured in days and
reported in the chosen unit (day, week = 7 days, month = 365.25 / 12 days).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from sim.calibrate.files import (
    CalibrationFileError,
    Column,
    cell,
    csv_rows,
    decode_text,
    find_columns,
    limited,
    number_problem,
    read_date,
)
from sim.cohorts import CohortTable

#: Upload limit of an order export, in bytes, and its rows.
MAX_TRANSACTION_BYTES = 20_000_000
MAX_ORDER_ROWS = 1_000_000
#: Days in each time unit the models can be fitted in.
UNIT_DAYS: dict[str, float] = {"day": 1.0, "week": 7.0, "month": 365.25 / 12.0}
DAYS_PER_MONTH = UNIT_DAYS["month"]
_EPOCH = dt.date(1970, 1, 1)

COLUMNS: tuple[Column, ...] = (
    Column("the customer id", ("customer_id", "customer", "customerid", "client_id", "client",
                               "user_id", "buyer_id", "id")),
    Column("the order date", ("order_date", "date", "purchase_date", "transaction_date",
                              "created_at", "ordered_at", "day")),
    Column("the order value", ("order_value", "value", "amount", "revenue", "total",
                               "order_total", "sales", "price")),
    Column("the acquisition channel", ("channel", "acquisition_channel", "source",
                                       "utm_source", "first_channel"), required=False),
    Column("the returned flag", ("returned", "is_returned", "refunded", "return"),
           required=False),
)
_YES = {"1", "true", "yes", "y", "returned", "refunded"}
_NO = {"0", "false", "no", "n", ""}


def _day_number(day: dt.date) -> int:
    return (day - _EPOCH).days


def day_date(number: int) -> dt.date:
    """Return the date of a day number (days since 1970-01-01)."""
    return _EPOCH + dt.timedelta(days=int(number))


@dataclass(frozen=True)
class Transactions:
    """Orders read from a file, one entry per row, in file order.

    customer: index into `customers` per row; day: days since 1970-01-01; value: order value in
    the file's currency; returned: per row (None when the file has no returned column);
    channels: each customer's acquisition channel (their first order's), None without a channel
    column.
    """

    customers: tuple[str, ...]
    customer: np.ndarray
    day: np.ndarray
    value: np.ndarray
    returned: np.ndarray | None
    channels: tuple[str, ...] | None

    @property
    def first_day(self) -> int:
        """Return the earliest order's day number."""
        return int(self.day.min())

    @property
    def last_day(self) -> int:
        """Return the latest order's day number."""
        return int(self.day.max())


def parse_transactions(data: bytes) -> Transactions:
    """Read an order export from CSV bytes; CalibrationFileError naming row and column.

    Problems found: missing columns (with the names accepted), unparseable dates, text or
    negative numbers in the value column, a customer's orders out of date order, returned flags
    that are not yes/no, and files over MAX_TRANSACTION_BYTES or MAX_ORDER_ROWS.
    """
    rows = csv_rows(decode_text(data, MAX_TRANSACTION_BYTES, "order export"))
    if len(rows) < 2:
        raise CalibrationFileError(["the file needs a header row and at least one order"])
    if len(rows) - 1 > MAX_ORDER_ROWS:
        raise CalibrationFileError([f"the file has {len(rows) - 1:,} orders; at most "
                                    f"{MAX_ORDER_ROWS:,} are supported"])
    header = [text.strip() for text in rows[0][1]]
    found = find_columns(header, COLUMNS)
    c_id, c_date, c_value = (found["the customer id"], found["the order date"],
                             found["the order value"])
    c_channel = found.get("the acquisition channel")
    c_returned = found.get("the returned flag")
    index: dict[str, int] = {}
    last_seen: dict[int, tuple[int, int]] = {}
    channels: list[str] = []
    customer, days, values, returned = [], [], [], []
    problems: list[str] = []
    for number, row in rows[1:]:
        if limited(problems):
            break
        ident = cell(row, c_id)
        if not ident:
            problems.append(f"row {number}, column '{header[c_id]}': the customer id is empty")
            continue
        date_text = cell(row, c_date)
        try:
            day = _day_number(read_date(date_text))
        except ValueError:
            problems.append(f"row {number}, column '{header[c_date]}': {date_text[:40]!r} is not "
                            "a date; write dates as 2025-03-31 (YYYY-MM-DD) or 20250331")
            continue
        value, problem = number_problem(cell(row, c_value), header[c_value], number,
                                        "an order value of 0 or more")
        if problem:
            problems.append(problem)
            continue
        flag = False
        if c_returned is not None:
            word = cell(row, c_returned).lower()
            if word not in _YES and word not in _NO:
                problems.append(f"row {number}, column '{header[c_returned]}': {word[:20]!r} is "
                                "not yes/no (use 1/0, true/false or yes/no)")
                continue
            flag = word in _YES
        who = index.setdefault(ident, len(index))
        if who == len(channels):
            channels.append(cell(row, c_channel) or "(none)" if c_channel is not None else "")
        previous = last_seen.get(who)
        if previous is not None and day < previous[0]:
            problems.append(
                f"row {number}, column '{header[c_date]}': customer {ident[:40]}'s order on "
                f"{day_date(day)} comes after their order on {day_date(previous[0])} (row "
                f"{previous[1]}); list each customer's orders oldest first")
            continue
        last_seen[who] = (day, number)
        customer.append(who)
        days.append(day)
        values.append(value)
        returned.append(flag)
    if problems:
        raise CalibrationFileError(problems)
    return Transactions(
        tuple(index), np.asarray(customer, dtype=np.int64), np.asarray(days, dtype=np.int64),
        np.asarray(values, dtype=float),
        np.asarray(returned, dtype=bool) if c_returned is not None else None,
        tuple(channels) if c_channel is not None else None)


# --------------------------------------------------------------------------------------------
# Per-customer summaries (recency, frequency, monetary value) at a calibration date.


@dataclass(frozen=True)
class CustomerSummary:
    """Customers who ordered on or before `until`, with their calibration-period summaries.

    Per customer (ids and arrays in the same order): x: repeat orders (order days after the
    first) in the calibration period; t_x: time of the last order after the first; T: time
    from the first order to `until` (both in `unit`); spend: mean value of the repeat orders
    (0 when x = 0); first_value: value of the first order; value: all order value in the
    calibration period; x_holdout: orders after `until`; channel: index into
    `channel_names`. holdout: length of the period after `until` in `unit` (0 when `until` is
    the last order date).
    """

    unit: str
    until: dt.date
    ids: tuple[str, ...]
    first: np.ndarray
    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    spend: np.ndarray
    first_value: np.ndarray
    value: np.ndarray
    x_holdout: np.ndarray
    holdout: float
    channel: np.ndarray
    channel_names: tuple[str, ...]

    @property
    def customers(self) -> int:
        """Return the number of customers in the calibration period."""
        return len(self.x)

    @property
    def repeat_customers(self) -> int:
        """Return the customers with at least one repeat order in the calibration period."""
        return int(np.count_nonzero(self.x))


def _order_days(tx: Transactions) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (customer, day, value) per order day, sorted by customer then day."""
    key = tx.customer * 1_000_000 + (tx.day - tx.first_day)
    unique, inverse = np.unique(key, return_inverse=True)
    value = np.bincount(inverse, weights=tx.value, minlength=len(unique))
    return unique // 1_000_000, unique % 1_000_000 + tx.first_day, value


def summarize(tx: Transactions, until: dt.date | None = None,
              unit: str = "week") -> CustomerSummary:
    """Return the customers' summaries with the calibration period ending on `until`
    (inclusive; default the last order date), times in `unit`."""
    if unit not in UNIT_DAYS:
        raise ValueError(f"unit must be one of {', '.join(UNIT_DAYS)}, got {unit!r}")
    end = tx.last_day if until is None else _day_number(until)
    if end < tx.first_day:
        raise CalibrationFileError([
            f"--until {day_date(end)} is before the first order ({day_date(tx.first_day)}); "
            "the calibration period needs orders"])
    scale = UNIT_DAYS[unit]
    who, day, value = _order_days(tx)
    count = len(tx.customers)
    first = np.full(count, np.iinfo(np.int64).max)
    np.minimum.at(first, who, day)
    keep = first <= end
    inside = day <= end
    is_first = day == first[who]
    repeat = inside & ~is_first
    x = np.bincount(who[repeat], minlength=count).astype(float)
    last = first.copy()
    np.maximum.at(last, who[inside], day[inside])
    spend_total = np.bincount(who[repeat], weights=value[repeat], minlength=count)
    first_value = np.bincount(who[is_first], weights=value[is_first], minlength=count)
    total = np.bincount(who[inside], weights=value[inside], minlength=count)
    x_holdout = np.bincount(who[~inside], minlength=count).astype(float)
    spend = np.divide(spend_total, x, out=np.zeros(count), where=x > 0)
    names = tuple(sorted(set(tx.channels))) if tx.channels is not None else ("(all)",)
    position = {name: i for i, name in enumerate(names)}
    channel = (np.asarray([position[c] for c in tx.channels], dtype=np.int64)
               if tx.channels is not None else np.zeros(count, dtype=np.int64))
    ids = tuple(name for name, kept in zip(tx.customers, keep, strict=True) if kept)
    return CustomerSummary(
        unit, day_date(end), ids, first[keep], x[keep], ((last - first) / scale)[keep],
        ((end - first) / scale)[keep], spend[keep], first_value[keep], total[keep],
        x_holdout[keep], (tx.last_day - end) / scale, channel[keep], names)


# --------------------------------------------------------------------------------------------
# Monthly views: the cohort table and the observed monthly repeat rate.


def _month_index(days: np.ndarray) -> np.ndarray:
    dates = np.asarray(days, dtype="datetime64[D]")
    return dates.astype("datetime64[M]").astype(np.int64)


def cohort_table(tx: Transactions, until: dt.date | None = None) -> CohortTable | None:
    """Return the monthly cohort table of the calibration period, or None when no cohort has
    a second month.

    Cohort = month of the first order; a customer counts as active k months later while they
    still place an order in that month or a later one (so the last observed months read low:
    customers who will order again later look lost).
    """
    end = tx.last_day if until is None else _day_number(until)
    inside = tx.day <= end
    count = len(tx.customers)
    month = _month_index(tx.day)
    first = np.full(count, np.iinfo(np.int64).max)
    np.minimum.at(first, tx.customer[inside], month[inside])
    last = np.full(count, np.iinfo(np.int64).min)
    np.maximum.at(last, tx.customer[inside], month[inside])
    seen = first <= month.max()
    first, last = first[seen], last[seen]
    end_month = int(_month_index(np.asarray([end]))[0])
    labels, counts = [], []
    for cohort in np.unique(first):
        members = last[first == cohort] - cohort
        months = end_month - int(cohort)
        if months < 1:
            continue
        active = np.asarray([(members >= k).sum() for k in range(months + 1)], dtype=float)
        labels.append(str(np.datetime64(int(cohort), "M")))
        counts.append(active)
    if not labels:
        return None
    return CohortTable(tuple(labels), tuple(counts), "transactions")


@dataclass(frozen=True)
class RateEstimate:
    """A share estimated from customers' events, with its standard error.

    events / exposures pooled over customers; se from the customers' spread (a ratio estimator
    clustered by customer, so a few heavy buyers do not look like many independent events).
    """

    value: float
    se: float
    events: float
    exposures: float


def ratio_estimate(events: np.ndarray, exposures: np.ndarray) -> RateEstimate:
    """Return sum(events) / sum(exposures) with its clustered standard error (per customer
    arrays; the delta method for a ratio of sums)."""
    total = float(exposures.sum())
    if total <= 0:
        return RateEstimate(float("nan"), float("nan"), 0.0, 0.0)
    ratio = float(events.sum()) / total
    n = len(events)
    residual = events - ratio * exposures
    se = float(np.sqrt(n / max(n - 1, 1) * np.sum(residual ** 2)) / total)
    return RateEstimate(ratio, se, float(events.sum()), total)


def monthly_repeat_rate(tx: Transactions, until: dt.date | None = None) -> RateEstimate:
    """Return the share of active customers who order in a month (the engine's repeat rate).

    Active in a month: after the first order's month and up to the month of the last order
    (the cohort table's definition); a customer counts once per month whatever their orders.
    """
    end = tx.last_day if until is None else _day_number(until)
    inside = tx.day <= end
    month = _month_index(tx.day[inside])
    who = tx.customer[inside]
    count = len(tx.customers)
    first = np.full(count, np.iinfo(np.int64).max)
    np.minimum.at(first, who, month)
    last = np.full(count, np.iinfo(np.int64).min)
    np.maximum.at(last, who, month)
    seen = first < np.iinfo(np.int64).max
    exposures = np.where(seen, last - first, 0).astype(float)
    pairs = np.unique(who * 100_000 + (month - month.min()))
    pair_who = pairs // 100_000
    pair_month = pairs % 100_000 + month.min()
    repeat_month = pair_month > first[pair_who]
    events = np.bincount(pair_who[repeat_month], minlength=count).astype(float)
    return ratio_estimate(events[seen], exposures[seen])


def return_rate(tx: Transactions, until: dt.date | None = None) -> RateEstimate | None:
    """Return the share of orders (rows) returned, clustered by customer; None without a
    returned column."""
    if tx.returned is None:
        return None
    end = tx.last_day if until is None else _day_number(until)
    inside = tx.day <= end
    count = len(tx.customers)
    events = np.bincount(tx.customer[inside], weights=tx.returned[inside].astype(float),
                         minlength=count)
    exposures = np.bincount(tx.customer[inside], minlength=count).astype(float)
    seen = exposures > 0
    return ratio_estimate(events[seen], exposures[seen])
