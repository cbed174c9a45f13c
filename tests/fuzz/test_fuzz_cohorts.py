"""Any bytes in, a clear message out: a cohort CSV only ever raises CohortTableError."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given

from sim.retention import CohortTable, CohortTableError, parse_cohort_table
from tests.conftest import SHIPPED_SCENARIOS
from tests.fuzz.strategies import FAST, SLOW, hostile_bytes

EXAMPLE = (SHIPPED_SCENARIOS / "examples" / "cohorts_example.csv").read_bytes()
WIDE = b"cohort,0,1,2,3\n2025-01,1000,631,468,382\n2025-02,800,500,371,\n"
ORIGINALS = [EXAMPLE, WIDE, EXAMPLE.replace(b",", b";"), EXAMPLE.replace(b",", b"\t")]


def _check(data: bytes) -> None:
    try:
        table = parse_cohort_table(data)
    except CohortTableError as error:
        assert error.problems and all(p.strip() for p in error.problems)
        return
    assert isinstance(table, CohortTable)
    assert all(np.all(np.isfinite(counts)) for counts in table.counts)


def test_example_reads() -> None:
    table = parse_cohort_table(EXAMPLE)
    assert table.counts[0][:4].tolist() == [1000, 631, 468, 382]


@pytest.mark.parametrize("data", [b"\xef\xbb\xbf" + EXAMPLE, EXAMPLE.decode().encode("utf-16")])
def test_byte_order_marks_and_utf16_are_read(data: bytes) -> None:
    assert parse_cohort_table(data).counts[0][:4].tolist() == [1000, 631, 468, 382]


def test_a_nul_byte_is_named() -> None:
    with pytest.raises(CohortTableError) as caught:
        parse_cohort_table(EXAMPLE[:20] + b"\x00" + EXAMPLE[20:])
    assert "NUL" in caught.value.problems[0]


@FAST
@given(hostile_bytes(ORIGINALS))
def test_any_bytes_give_a_table_or_cohort_table_error(data: bytes) -> None:
    _check(data)


@pytest.mark.slow
@SLOW
@given(hostile_bytes(ORIGINALS))
def test_any_bytes_give_a_table_or_cohort_table_error_10k(data: bytes) -> None:
    _check(data)
