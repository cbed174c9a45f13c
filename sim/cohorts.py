"""Cohort tables: reading a customer cohort table (CSV) and fitting the sBG churn model to it.

A cohort table lists, for each cohort of customers acquired in the same month, how many are
still active k months after their first purchase. `parse_cohort_table` reads the long layout
(cohort, month, active) or the wide one (one column per month) and names the row and column of
every problem; `fit_cohort_table` fits the shifted-beta-geometric model by maximum likelihood
(`sim.analytics.fit_sbg`); `read_and_fit` does both for an uploaded file.

Pure NumPy; no streamlit, no printing.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import re
from dataclasses import dataclass

import numpy as np

from sim.analytics import SbgFit, fit_sbg
from sim.text_input import TextDecodeError, control_character_problem, decode_text

#: Upload limits: bytes, cohorts and months per cohort.
MAX_TABLE_BYTES = 200_000
MAX_COHORTS = 240
MAX_MONTHS = 240
_COHORT_WORDS = ("cohort", "acquired", "first purchase month", "start")
_MONTH_WORDS = ("month", "period", "age", "tenure")
_ACTIVE_WORDS = ("active", "customer", "retained", "remaining", "alive", "count")


class CohortTableError(ValueError):
    """A cohort table that cannot be used; `.problems` lists what is wrong, by row and column."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class CohortTable:
    """Cohorts read from a table: labels and active counts from month 0 (the cohort size).

    counts[i][k] = customers of cohort i still active k months after their first purchase.
    """

    labels: tuple[str, ...]
    counts: tuple[np.ndarray, ...]
    layout: str

    @property
    def months(self) -> int:
        """Return the longest cohort's observed months after month 0."""
        return max(len(c) for c in self.counts) - 1


def _number(cell: str) -> float | None:
    """Read a count cell: digits, a decimal point, thousands separators; None if empty."""
    text = cell.strip().replace("\u00a0", "").replace(" ", "").replace("_", "")
    if not text:
        return None
    if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", text):
        text = text.replace(",", "")
    value = float(text)  # ValueError for anything else
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def _decode(data: bytes) -> str:
    if len(data) > MAX_TABLE_BYTES:
        raise CohortTableError([f"the file is {len(data):,} bytes; cohort tables are limited to "
                                f"{MAX_TABLE_BYTES:,} bytes"])
    try:
        text = decode_text(data)  # UTF-8, or UTF-16/32 announced by a byte-order mark
    except TextDecodeError:
        try:
            text = data.decode("cp1252")  # what spreadsheet programs on Windows export
        except UnicodeDecodeError:
            raise CohortTableError(["the file is not text (save it as CSV, UTF-8)"]) from None
    problem = control_character_problem(text)
    if problem is not None:
        raise CohortTableError([f"the file is not text: {problem} (save it as CSV, "
                                "UTF-8)"])
    return text


def _rows(text: str) -> list[list[str]]:
    sample = text[:4096]
    delimiter = ","
    if sample.count(";") > sample.count(",") and sample.count(";") > sample.count("\t"):
        delimiter = ";"
    elif sample.count("\t") > sample.count(","):
        delimiter = "\t"
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error as error:
        raise CohortTableError([f"not a readable CSV file ({error})"]) from None
    return rows


def _matches(header: str, words: tuple[str, ...]) -> bool:
    name = header.strip().lower()
    return any(word in name for word in words)


def parse_cohort_table(data: bytes) -> CohortTable:
    """Read a cohort table from CSV bytes; raise CohortTableError naming row and column.

    Long layout: a header with columns for the cohort, the months since first purchase and the
    customers still active (one row per cohort and month). Wide layout: a first column naming
    the cohort and one column per month since first purchase (headers 0, 1, 2, ...), one row per
    cohort, empty cells after a young cohort's last month. Rows are numbered as in a
    spreadsheet (the header is row 1).
    """
    rows = _rows(_decode(data))
    numbered = [(number, row) for number, row in enumerate(rows, start=1)
                if any(cell.strip() for cell in row)]
    if len(numbered) < 2:
        raise CohortTableError(["the file needs a header row and at least one row of data"])
    header = [cell.strip() for cell in numbered[0][1]]
    month_headers = [_month_header(cell) for cell in header[1:]]
    if len(header) >= 3 and all(m is not None for m in month_headers if m != -1) and any(
            m is not None and m >= 0 for m in month_headers):
        return _parse_wide(header, month_headers, numbered[1:])
    return _parse_long(header, numbered[1:])


def _month_header(cell: str) -> int | None:
    """Return the month of a wide-layout header ('0', 'month 3', 'M3'), -1 if empty, None if
    it names no month."""
    text = cell.strip().lower()
    if not text:
        return -1
    found = re.fullmatch(r"(?:months?|m|period|p)?\s*_?(\d{1,3})", text)
    return int(found.group(1)) if found else None


def _parse_wide(header: list[str], months: list[int | None],
                body: list[tuple[int, list[str]]]) -> CohortTable:
    problems: list[str] = []
    columns = [(index + 1, m) for index, m in enumerate(months) if m is not None and m >= 0]
    wanted = list(range(len(columns)))
    found = [m for _, m in columns]
    if found != wanted:
        problems.append(f"row 1: month columns must be 0, 1, 2, ... in order; found "
                        f"{', '.join(str(m) for m in found)}")
        raise CohortTableError(problems)
    if len(columns) - 1 > MAX_MONTHS:
        raise CohortTableError([f"row 1: at most {MAX_MONTHS} months are supported"])
    if len(body) > MAX_COHORTS:
        raise CohortTableError([f"at most {MAX_COHORTS} cohorts are supported, got {len(body)}"])
    labels, counts = [], []
    for number, row in body:
        label = row[0].strip() if row else ""
        values: list[float] = []
        ended_at: str | None = None
        for column, month in columns:
            cell = row[column] if column < len(row) else ""
            name = f"column '{header[column]}'"
            try:
                value = _number(cell)
            except ValueError:
                problems.append(f"row {number}, {name}: {cell.strip()!r} is not a number of "
                                "customers")
                break
            if value is None:
                ended_at = ended_at or name
                continue
            if ended_at is not None:
                problems.append(f"row {number}, {name}: a count after the empty cell in "
                                f"{ended_at} (only the last months of a young cohort may be "
                                "empty)")
                break
            problem = _count_problem(value, values, month)
            if problem:
                problems.append(f"row {number}, {name}: {problem}")
                break
            values.append(value)
        else:
            if len(values) < 2 and not problems:
                problems.append(f"row {number}: cohort {label or '(no name)'} needs its size "
                                "(month 0) and at least month 1")
        labels.append(label or f"row {number}")
        counts.append(np.asarray(values, dtype=float))
        if len(problems) >= 5:
            break
    if problems:
        raise CohortTableError(problems)
    return CohortTable(tuple(labels), tuple(counts), "wide")


def _count_problem(value: float, earlier: list[float], month: int) -> str:
    """Return what is wrong with one active count given the cohort's earlier ones ('' if
    nothing)."""
    if value < 0:
        return f"{value:g} is negative; counts of customers are 0 or more"
    if month == 0 and value <= 0:
        return "the cohort size (month 0) must be more than 0"
    if earlier and value > earlier[-1] + 1e-9 * max(earlier[0], 1.0):
        return (f"{value:g} customers is more than the {earlier[-1]:g} active a month earlier "
                "(customers still active can only fall; count each customer in their first "
                "purchase month's cohort)")
    return ""


def _parse_long(header: list[str], body: list[tuple[int, list[str]]]) -> CohortTable:
    def column(words: tuple[str, ...], taken: set[int]) -> int | None:
        for index, name in enumerate(header):
            if index not in taken and _matches(name, words):
                return index
        return None

    month_col = column(_MONTH_WORDS, set())
    active_col = column(_ACTIVE_WORDS, {month_col} if month_col is not None else set())
    cohort_col = column(_COHORT_WORDS, {c for c in (month_col, active_col) if c is not None})
    if len(header) == 3 and None in (month_col, active_col, cohort_col):
        # Unnamed or differently named columns: take them in the documented order.
        cohort_col, month_col, active_col = 0, 1, 2
    missing = [what for what, col in (("cohort", cohort_col),
                                       ("months since first purchase", month_col),
                                       ("customers still active", active_col)) if col is None]
    if missing:
        raise CohortTableError([
            f"row 1: no column for {', '.join(missing)}. Use a header such as 'cohort, "
            "months_since_first_purchase, active_customers' (long layout), or a first column "
            "naming the cohort and one column per month 0, 1, 2, ... (wide layout)"])
    if cohort_col is None or month_col is None or active_col is None:  # for the type checker
        raise CohortTableError(["row 1: the header names too few columns"])
    if len(body) > MAX_COHORTS * (MAX_MONTHS + 1):
        raise CohortTableError([f"the table has {len(body):,} rows; at most "
                                f"{MAX_COHORTS * (MAX_MONTHS + 1):,} are supported"])
    problems: list[str] = []
    cohorts: dict[str, dict[int, tuple[float, int]]] = {}
    for number, row in body:
        def cell(col: int, row: list[str] = row) -> str:
            return row[col].strip() if col < len(row) else ""

        label = cell(cohort_col)
        if not label:
            problems.append(f"row {number}, column '{header[cohort_col]}': the cohort is empty")
            continue
        month_text = cell(month_col)
        try:
            month_value = _number(month_text)
        except ValueError:
            month_value = float("nan")
        if month_value is None or not (month_value >= 0 and float(month_value).is_integer()
                                       and month_value <= MAX_MONTHS):
            problems.append(f"row {number}, column '{header[month_col]}': {month_text!r} is not "
                            f"a whole number of months from 0 to {MAX_MONTHS}")
            continue
        active_text = cell(active_col)
        try:
            active = _number(active_text)
        except ValueError:
            active = None
            active_text = active_text or ""
        if active is None:
            problems.append(f"row {number}, column '{header[active_col]}': {active_text!r} is "
                            "not a number of customers")
            continue
        if active < 0:
            problems.append(f"row {number}, column '{header[active_col]}': {active:g} is "
                            "negative; counts of customers are 0 or more")
            continue
        months = cohorts.setdefault(label, {})
        month = int(month_value)
        if month in months:
            problems.append(f"row {number}, column '{header[month_col]}': cohort {label} has "
                            f"month {month} twice (also on row {months[month][1]})")
            continue
        months[month] = (active, number)
        if len(problems) >= 5:
            break
    if len(cohorts) > MAX_COHORTS:
        problems.append(f"at most {MAX_COHORTS} cohorts are supported, got {len(cohorts)}")
    if not problems:
        for label, months in cohorts.items():
            problem = _check_cohort(label, months, header[month_col], header[active_col])
            if problem:
                problems.append(problem)
            if len(problems) >= 5:
                break
    if problems:
        raise CohortTableError(problems[:5])
    labels = tuple(cohorts)
    counts = tuple(np.asarray([cohorts[label][m][0] for m in sorted(cohorts[label])])
                   for label in labels)
    return CohortTable(labels, counts, "long")


def _check_cohort(label: str, months: dict[int, tuple[float, int]], month_name: str,
                  active_name: str) -> str:
    """Return the first problem of one long-layout cohort ('' when it is usable)."""
    ordered = sorted(months)
    if ordered[0] != 0:
        row = months[ordered[0]][1]
        return (f"row {row}, column '{month_name}': cohort {label} starts at month "
                f"{ordered[0]}; it needs month 0 (the cohort size)")
    for previous, month in itertools.pairwise(ordered):
        if month != previous + 1:
            row = months[month][1]
            return (f"row {row}, column '{month_name}': cohort {label} jumps from month "
                    f"{previous} to {month}; every month in between is needed")
    if len(ordered) < 2:
        row = months[0][1]
        return (f"row {row}: cohort {label} has only month 0; it needs at least month 1 as "
                "well")
    earlier: list[float] = []
    for month in ordered:
        value, row = months[month]
        problem = _count_problem(value, earlier, month)
        if problem:
            return f"row {row}, column '{active_name}': {problem}"
        earlier.append(value)
    return ""


@dataclass(frozen=True)
class CohortFit:
    """An sBG fit of a cohort table with the observed survival it was fitted to.

    observed: share of all cohorts' customers still active k months after first purchase
    (pooled over the cohorts observed that long), k = 0..months; fit.fitted_survival is the
    model's S(k) over the same months.
    """

    table: CohortTable
    fit: SbgFit
    observed: np.ndarray
    cohorts_observed: np.ndarray


def fit_cohort_table(table: CohortTable) -> CohortFit:
    """Fit the shifted-beta-geometric model to a cohort table (maximum likelihood)."""
    fit = fit_sbg([list(c) for c in table.counts])
    months = table.months
    active = np.zeros(months + 1)
    size = np.zeros(months + 1)
    observed_cohorts = np.zeros(months + 1)
    for counts in table.counts:
        length = len(counts)
        active[:length] += counts
        size[:length] += counts[0]
        observed_cohorts[:length] += 1
    return CohortFit(table, fit, active / size, observed_cohorts)


def read_and_fit(data: bytes) -> CohortFit:
    """Parse CSV bytes and fit the sBG model; CohortTableError for a table that cannot be used
    (including one the model cannot fit)."""
    table = parse_cohort_table(data)
    try:
        return fit_cohort_table(table)
    except ValueError as error:
        raise CohortTableError([f"the table could not be fitted: {error}"]) from None
