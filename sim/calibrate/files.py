"""Reading uploaded CSV files for calibration: size caps, text, columns, numbers and dates.

The CSV dialect (comma, semicolon or tab) and number cells (thousands separators) are read by
the cohort-table helpers of `sim.retention`, so every upload in the app accepts the same files.
Every problem becomes one line naming the row (as numbered in a spreadsheet: the header is row
1) and the column; `CalibrationFileError` carries them all (at most MAX_PROBLEMS).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sim.cohorts import CohortTableError, _number, _rows

#: Problems listed at most per file; a file full of errors is not read further.
MAX_PROBLEMS = 20
#: Dates outside these years are taken for typing errors.
FIRST_YEAR, LAST_YEAR = 1970, 2100


class CalibrationFileError(ValueError):
    """An uploaded file that cannot be used; `.problems` lists what is wrong, by row and column.

    The only error the calibration parsers raise for bad bytes.
    """

    def __init__(self, problems: list[str]):
        self.problems = problems[:MAX_PROBLEMS]
        super().__init__("; ".join(self.problems))


def decode_text(data: bytes, limit: int, what: str) -> str:
    """Return the text of an uploaded file; CalibrationFileError when it is too big or binary.

    `limit` in bytes; UTF-8 (with or without a byte-order mark), else Windows-1252.
    """
    if len(data) > limit:
        raise CalibrationFileError([
            f"the file is {len(data):,} bytes; {what} files are limited to {limit:,} bytes"])
    if b"\x00" in data:
        raise CalibrationFileError(["the file is not text (save it as CSV, UTF-8)"])
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CalibrationFileError(["the file is not text (save it as CSV, UTF-8)"])


def csv_rows(text: str) -> list[tuple[int, list[str]]]:
    """Return the non-empty rows of CSV text with their spreadsheet row numbers (header = 1)."""
    try:
        rows = _rows(text)
    except CohortTableError as error:
        raise CalibrationFileError(list(error.problems)) from None
    except Exception as error:  # the csv module's own limits (a field too large, ...)
        raise CalibrationFileError([f"not a readable CSV file ({error})"]) from None
    return [(number, row) for number, row in enumerate(rows, start=1)
            if any(cell.strip() for cell in row)]


def _normal_name(header: str) -> str:
    return re.sub(r"[\s\-.]+", "_", header.strip().lower()).strip("_")


@dataclass(frozen=True)
class Column:
    """A column the parser looks for: its name in messages and the header names it accepts."""

    name: str
    accepted: tuple[str, ...]
    required: bool = True


def find_columns(header: Sequence[str], columns: Sequence[Column]) -> dict[str, int]:
    """Return column name -> index in the header (names matched case-insensitively, spaces,
    hyphens and underscores alike); CalibrationFileError naming every missing required column
    with the names it accepts."""
    normal = [_normal_name(cell) for cell in header]
    found: dict[str, int] = {}
    problems = []
    for column in columns:
        index = next((i for i, name in enumerate(normal) if name in column.accepted
                      and i not in found.values()), None)
        if index is not None:
            found[column.name] = index
        elif column.required:
            problems.append(f"row 1: no column for {column.name}; accepted names: "
                            f"{', '.join(column.accepted)} (any case)")
    seen: dict[str, int] = {}
    for index, name in enumerate(normal):
        if name and name in seen and index in found.values():
            problems.append(f"row 1: column '{header[index].strip()}' appears twice (columns "
                            f"{seen[name] + 1} and {index + 1})")
        seen.setdefault(name, index)
    if problems:
        raise CalibrationFileError(problems)
    return found


def cell(row: Sequence[str], index: int) -> str:
    """Return one cell, stripped ('' when the row is short)."""
    return row[index].strip() if index < len(row) else ""


def read_number(text: str) -> float | None:
    """Return a number cell's value (thousands separators allowed), None when it is empty.

    ValueError for text that is not a finite number.
    """
    return _number(text)


def number_problem(text: str, header: str, number: int, what: str,
                   allow_empty: bool = False) -> tuple[float | None, str]:
    """Read a number that must be 0 or more; return (value, '') or (None, problem line)."""
    where = f"row {number}, column '{header}'"
    try:
        value = read_number(text)
    except (ValueError, OverflowError):
        return None, f"{where}: {text[:40]!r} is not a number ({what})"
    if value is None:
        return None, "" if allow_empty else f"{where}: empty; expected {what}"
    if value < 0:
        return None, f"{where}: {value:g} is negative; expected {what}"
    return value, ""


_ISO = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ][\d:.+\-Z]*)?")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_MONTH = re.compile(r"(\d{4})[-/.](\d{1,2})")


def read_date(text: str) -> dt.date:
    """Return the date of a cell written 2025-03-31 (optionally with a time), 2025/03/31 or
    20250331; ValueError otherwise."""
    found = _ISO.fullmatch(text) or _COMPACT.fullmatch(text)
    if not found:
        raise ValueError(text)
    year, month, day = (int(part) for part in found.groups())
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(text)
    return dt.date(year, month, day)


def read_month(text: str) -> tuple[int, int]:
    """Return (year, month) of a cell written 2025-03, 2025-03-01 (any day) or 202503;
    ValueError otherwise."""
    compact = re.fullmatch(r"(\d{4})(\d{2})", text)
    found = _MONTH.fullmatch(text) or compact
    if found:
        year, month = int(found.group(1)), int(found.group(2))
        if not (FIRST_YEAR <= year <= LAST_YEAR and 1 <= month <= 12):
            raise ValueError(text)
        return year, month
    day = read_date(text)
    return day.year, day.month


def limited(problems: list[str]) -> bool:
    """Return True when enough problems were found to stop reading."""
    return len(problems) >= MAX_PROBLEMS

