"""Order exports, monthly histories and channel spend files: what is read, the message for each
kind of bad file (naming row and column), size caps, and fuzzing (any bytes give either a
result or CalibrationFileError)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.calibrate.customers import parse_channel_spend
from sim.calibrate.files import CalibrationFileError
from sim.calibrate.history import MAX_HISTORY_BYTES, parse_history
from sim.calibrate.transactions import (
    MAX_TRANSACTION_BYTES,
    cohort_table,
    monthly_repeat_rate,
    parse_transactions,
    return_rate,
    summarize,
)
from tests.conftest import REPO_ROOT

EXAMPLES = REPO_ROOT / "scenarios" / "examples"

ORDERS = b"""Customer_ID,Order Date,Order_Value,Channel,Returned
a,2025-01-05,10,search,0
a,2025-01-19,20,search,1
a,2025-03-02,30,search,0
b,2025-01-10,50,social,0
c,2025-02-01,40,social,0
c,2025-02-01,5,social,0
"""


def _problems(parse, data: bytes) -> list[str]:
    with pytest.raises(CalibrationFileError) as caught:
        parse(data)
    return caught.value.problems


def test_orders_are_summarised_by_customer_day() -> None:
    tx = parse_transactions(ORDERS)
    assert tx.customers == ("a", "b", "c") and tx.channels == ("search", "social", "social")
    s = summarize(tx, dt.date(2025, 3, 2), "day")
    # a: first 01-05, repeats 01-19 and 03-02; c's two orders on 02-01 are one order of 45.
    assert s.x.tolist() == [2, 0, 0]
    assert s.t_x.tolist() == [56, 0, 0]
    assert s.T.tolist() == [56, 51, 29]
    assert s.spend.tolist() == [25.0, 0.0, 0.0]
    assert s.first_value.tolist() == [10.0, 50.0, 45.0]
    weeks = summarize(tx, dt.date(2025, 2, 1), "week")
    assert weeks.x.tolist() == [1, 0, 0] and weeks.x_holdout.tolist() == [1, 0, 0]
    assert weeks.T[0] == pytest.approx(27 / 7) and weeks.holdout == pytest.approx(29 / 7)


def test_cohort_table_and_rates_by_hand() -> None:
    tx = parse_transactions(ORDERS)
    table = cohort_table(tx)
    assert table is not None
    assert table.labels == ("2025-01", "2025-02")
    # January: a (last order in March), b (January only); February: c.
    assert table.counts[0].tolist() == [2, 1, 1]
    assert table.counts[1].tolist() == [1, 0]
    repeat = monthly_repeat_rate(tx)
    # a is active in February and March (after January, up to March) and orders in March.
    assert (repeat.events, repeat.exposures, repeat.value) == (1.0, 2.0, 0.5)
    returned = return_rate(tx)
    assert returned is not None and returned.value == pytest.approx(1 / 6)


def test_missing_column_lists_the_accepted_names() -> None:
    problems = _problems(parse_transactions, b"client,when,amount\nx,2025-01-01,3\n")
    assert len(problems) == 1
    assert problems[0].startswith("row 1: no column for the order date; accepted names: "
                                  "order_date, date")


@pytest.mark.parametrize(("row", "message"), [
    (b"a,2025-13-01,10", "row 2, column 'date': '2025-13-01' is not a date"),
    (b"a,yesterday,10", "row 2, column 'date': 'yesterday' is not a date"),
    (b"a,2025-01-01,-5", "row 2, column 'value': -5 is negative"),
    (b"a,2025-01-01,ten", "row 2, column 'value': 'ten' is not a number"),
    (b",2025-01-01,3", "row 2, column 'customer': the customer id is empty"),
])
def test_bad_order_cells_name_row_and_column(row: bytes, message: str) -> None:
    problems = _problems(parse_transactions, b"customer,date,value\n" + row + b"\n")
    assert problems[0].startswith(message), problems


def test_orders_out_of_order_are_reported() -> None:
    data = b"customer,date,value\na,2025-02-01,1\nb,2025-01-01,1\na,2025-01-15,1\n"
    problems = _problems(parse_transactions, data)
    assert problems == ["row 4, column 'date': customer a's order on 2025-01-15 comes after "
                        "their order on 2025-02-01 (row 2); list each customer's orders "
                        "oldest first"]


def test_every_problem_is_listed_one_line_each() -> None:
    data = b"customer,date,value\na,2025-01-01,x\nb,nodate,1\nc,2025-01-01,-1\n"
    assert len(_problems(parse_transactions, data)) == 3


def test_size_caps() -> None:
    big = b"customer,date,value\n" + b"a,2025-01-01,1\n" * (MAX_TRANSACTION_BYTES // 15 + 1)
    assert "limited to 20,000,000 bytes" in _problems(parse_transactions, big)[0]
    history = b"month,spend_cold,spend_warm,spend_hot\n" + b"2025-01,1,1,1\n" * 20_000
    assert len(history) > MAX_HISTORY_BYTES
    assert "limited to 200,000 bytes" in _problems(parse_history, history)[0]
    assert _problems(parse_transactions, b"\x00\x01binary") == [
        "the file is not text (save it as CSV, UTF-8)"]


HISTORY = b"""month,spend_cold,spend_warm,spend_hot,leads
2025-01,100,50,10,30
2025-02,110,55,11,31
2025-03,120,60,12,33
"""


def test_history_is_read_with_its_optional_series() -> None:
    history = parse_history(HISTORY)
    assert history.months == ("2025-01", "2025-02", "2025-03")
    assert history.spend[1].tolist() == [110, 55, 11]
    assert history.impressions is None and list(history.series) == ["leads"]


@pytest.mark.parametrize(("data", "message"), [
    (HISTORY.replace(b"2025-02,", b"2025-04,"),
     "row 3, column 'month': 2025-04 skips 2 months after 2025-01 (row 2)"),
    (HISTORY.replace(b"2025-03,", b"2025-02,"),
     "row 4, column 'month': 2025-02 repeats or goes back from 2025-02 (row 3)"),
    (HISTORY.replace(b"110,", b"1l0,"), "row 3, column 'spend_cold': '1l0' is not a number"),
    (HISTORY.replace(b",31\n", b",-31\n"), "row 3, column 'leads': -31 is negative"),
    (HISTORY.replace(b"2025-03,", b"March,"), "row 4, column 'month': 'March' is not a month"),
    (HISTORY.replace(b",spend_hot", b",hot_money"),
     "row 1: no column for spend_hot; accepted names: spend_hot, hot_spend, hot, "
     "retention_spend"),
])
def test_bad_history_names_row_and_column(data: bytes, message: str) -> None:
    problems = _problems(parse_history, data)
    assert problems[0].startswith(message), problems


def test_channel_spend() -> None:
    assert parse_channel_spend(b"channel,spend\nsearch,1000\nsocial,\"2,500\"\n") == {
        "search": 1000.0, "social": 2500.0}
    assert _problems(parse_channel_spend, b"channel,spend\nx,1\nx,2\n") == [
        "row 3, column 'channel': channel x appears twice"]


# --------------------------------------------------------------------------------------------
# Fuzzing: nothing but CalibrationFileError, whatever the bytes.

PARSERS = (parse_transactions, parse_history, parse_channel_spend)
SEEDS = [(EXAMPLES / "transactions_example.csv").read_bytes()[:3000],
         (EXAMPLES / "history_example.csv").read_bytes(),
         (EXAMPLES / "channel_spend_example.csv").read_bytes(), ORDERS, HISTORY]


def _mutate(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    for position, cut, insert in edits:
        at = position % (len(data) + 1)
        data = data[:at] + insert + data[at + cut:]
    return data


def _only_documented_errors(data: bytes) -> None:
    for parse in PARSERS:
        try:
            result = parse(data)
        except CalibrationFileError as error:
            assert error.problems and all(isinstance(p, str) and p for p in error.problems)
            continue
        if parse is parse_transactions:
            summary = summarize(result)
            assert np.all(summary.x >= 0) and np.all(summary.t_x <= summary.T)


_edits = st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 8),
                            st.sampled_from([b"", b",", b"\n", b"-", b"\"", b"1e999", b"nan",
                                             b"2025-02-30", b"\xff", b";", b"\t", b"0000"])),
                  max_size=6)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_random_bytes_never_crash(data: bytes) -> None:
    _only_documented_errors(data)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SEEDS), _edits)
def test_mutated_examples_never_crash(seed: bytes, edits: list[tuple[int, int, bytes]]) -> None:
    _only_documented_errors(_mutate(seed, edits))


@pytest.mark.slow
@settings(max_examples=5_000, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_random_bytes_never_crash_long(data: bytes) -> None:
    _only_documented_errors(data)


@pytest.mark.slow
@settings(max_examples=5_000, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SEEDS), _edits)
def test_mutated_examples_never_crash_long(seed: bytes,
                                           edits: list[tuple[int, int, bytes]]) -> None:
    _only_documented_errors(_mutate(seed, edits))
