"""`python -m sim calibrate transactions|history`: JSON keys and values, tables, exit codes and
one line per problem for bad files."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from sim.cli import main
from tests.conftest import REPO_ROOT

EXAMPLES = REPO_ROOT / "scenarios" / "examples"


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def transactions_json() -> dict:
    code, out, err = _run("calibrate", "transactions",
                          str(EXAMPLES / "transactions_example.csv"), "--until", "2025-06-30",
                          "--channel-spend", str(EXAMPLES / "channel_spend_example.csv"),
                          "--format", "json")
    assert code == 0, err
    return json.loads(out)


def test_transactions_json_keys(transactions_json: dict) -> None:
    report = transactions_json
    assert set(report["bgnbd"]) >= {"r", "alpha", "a", "b", "log_likelihood"}
    assert set(report["gamma_gamma"]) >= {"p", "q", "gamma"}
    assert report["customers"] == 1500 and 0 < report["repeat_customers"] < 1500
    assert report["until"] == "2025-06-30" and report["unit"] == "week"
    assert set(report["ranges"]) >= {"orders.first_value", "orders.repeat_value",
                                     "hot.repeat_no_spend",
                                     "guarantee.return_rate_at_reference",
                                     "hot.churn.sbg.alpha", "hot.churn.sbg.beta"}
    for proposal in report["ranges"].values():
        assert 0 < proposal["low"] < proposal["estimate"] < proposal["high"]
        assert proposal["source"].startswith("transactions_example.csv: 1,500 customers")
    # The example's return rate is 5% (make_examples.py): the range holds it.
    returns = report["ranges"]["guarantee.return_rate_at_reference"]
    assert returns["low"] < 0.05 < returns["high"]
    # Full float precision: more digits than the 6 of the other commands.
    assert len(repr(report["bgnbd"]["r"])) > 10


def test_channels_have_cac_and_flag_one_and_done(transactions_json: dict) -> None:
    channels = {c["channel"]: c for c in transactions_json["channels"]}
    assert set(channels) == {"search", "social", "referral"}
    for channel in channels.values():
        assert channel["cac"] == pytest.approx(
            {"search": 21_000, "social": 9_000, "referral": 3_000}[channel["channel"]]
            / channel["customers"])
        assert channel["ltv_to_cac"] == pytest.approx(channel["clv"] / channel["cac"])
        assert channel["one_and_done"] == (channel["repeat_share"] < 0.10)
    # Social was drawn with a = 3, b = 1 (most buyers drop out after a purchase).
    assert channels["social"]["repeat_share"] < channels["search"]["repeat_share"]


def test_transactions_table_names_the_models() -> None:
    code, out, _ = _run("calibrate", "transactions", str(EXAMPLES / "transactions_example.csv"))
    assert code == 0
    assert "BG/NBD (repeat purchases while alive)" in out and "Gamma-Gamma" in out
    assert "Proposed 90% ranges" in out and "orders.first_value" in out


def test_history_json_keys_and_backtest() -> None:
    code, out, err = _run("calibrate", "history", str(EXAMPLES / "history_example.csv"),
                          "--holdout", "6", "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    assert (report["months"], report["fitted_months"], report["holdout"]) == (36, 30, 6)
    assert "hot.churn.monthly" in report["ranges"] and "cold.engagement_rate" in report["ranges"]
    assert set(report["backtest"]["mape_holdout"]) == {
        "leads", "new_customers", "active_customers", "repeat_orders", "orders_returned"}
    assert report["parameters"]["hot.churn.monthly"]["low"] < 0.08 < report["parameters"][
        "hot.churn.monthly"]["high"]


def test_bad_files_exit_2_with_one_line_per_problem(tmp_path: Path) -> None:
    bad = tmp_path / "orders.csv"
    bad.write_text("customer,date,value\na,2025-01-01,x\nb,2025-99-01,1\n")
    code, out, err = _run("calibrate", "transactions", str(bad))
    assert code == 2 and out == ""
    assert err.splitlines() == [
        f"error: {bad}: row 2, column 'value': 'x' is not a number (an order value of 0 or "
        "more)",
        f"error: {bad}: row 3, column 'date': '2025-99-01' is not a date; write dates as "
        "2025-03-31 (YYYY-MM-DD) or 20250331"]
    history = tmp_path / "history.csv"
    history.write_text("month,spend_cold,spend_warm\n2025-01,1,2\n")
    code, _, err = _run("calibrate", "history", str(history))
    assert code == 2 and err.startswith(f"error: {history}: row 1: no column for spend_hot")
    code, _, err = _run("calibrate", "transactions", str(tmp_path / "missing.csv"))
    assert code == 2 and "missing.csv" in err
    code, _, err = _run("calibrate", "transactions", str(bad), "--until", "soon")
    assert code == 2 and err == "error: --until: 'soon' is not a date; write 2025-03-31\n"
