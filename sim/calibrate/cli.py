"""`python -m sim calibrate transactions|history`: fit ranges from the business's own data
(sim/calibrate, docs/calibration.md). The fits are imported when a command runs: they need
SciPy's optimisers, which the other commands do not."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from sim.cli import UsageError, _load, _parse_number, to_json, write_atomically


def _calibration_problems(path: str, problems: list[str], stderr: TextIO) -> int:
    for problem in problems:
        stderr.write(f"error: {path}: {problem}\n")
    return 2


def cmd_calibrate_transactions(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """Fit BG/NBD, Gamma-Gamma and the observed rates of an order export; print the report."""
    from sim.calibrate.customers import (
        DEFAULT_MARGIN,
        calibrate_transactions,
        customer_table,
        parse_channel_spend,
    )
    from sim.calibrate.files import CalibrationFileError, read_date
    from sim.calibrate.ranges import transaction_ranges
    from sim.calibrate.report import read_capped, transactions_report, transactions_table
    from sim.calibrate.transactions import MAX_TRANSACTION_BYTES, parse_transactions

    until = None
    if args.until is not None:
        try:
            until = read_date(args.until)
        except ValueError:
            raise UsageError(f"--until: {args.until!r} is not a date; write 2025-03-31") from None
    margin = DEFAULT_MARGIN if args.margin is None else _parse_number(args.margin)
    if not isinstance(margin, int | float) or not 0 <= margin <= 1:
        raise UsageError(f"--margin: expected a share from 0 to 1, got {args.margin!r}")
    path = args.file
    try:
        spend = None
        if args.channel_spend is not None:
            path = args.channel_spend
            spend = parse_channel_spend(read_capped(path, 200_000, "channel spend"))
            path = args.file
        transactions = parse_transactions(read_capped(path, MAX_TRANSACTION_BYTES,
                                                      "order export"))
        calibration = calibrate_transactions(transactions, until=until, unit=args.unit,
                                             margin=float(margin), channel_spend=spend)
    except CalibrationFileError as error:
        return _calibration_problems(path, error.problems, stderr)
    except ValueError as error:  # customers the models cannot be fitted to
        return _calibration_problems(path, [str(error)], stderr)
    name = Path(args.file).name
    if args.customers_out is not None:
        write_atomically(args.customers_out, customer_table(calibration))
    report = transactions_report(calibration, transaction_ranges(calibration, name), name)
    stdout.write(to_json(report) if args.format == "json" else transactions_table(report))
    return 0


def cmd_calibrate_history(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """Fit the funnel's response parameters to a monthly history and backtest them."""
    from sim.calibrate.files import CalibrationFileError
    from sim.calibrate.history import MAX_HISTORY_BYTES, parse_history
    from sim.calibrate.history_fit import DEFAULT_HOLDOUT, calibrate_history
    from sim.calibrate.ranges import history_ranges
    from sim.calibrate.report import history_report, history_table, read_capped

    holdout = DEFAULT_HOLDOUT if args.holdout is None else _parse_number(args.holdout)
    if not isinstance(holdout, int) or holdout < 0:
        raise UsageError(f"--holdout: expected a whole number of months, got {args.holdout!r}")
    scenario = _load(args.scenario) if args.scenario is not None else None
    try:
        history = parse_history(read_capped(args.file, MAX_HISTORY_BYTES, "monthly history"))
    except CalibrationFileError as error:
        return _calibration_problems(args.file, error.problems, stderr)
    try:
        calibration = calibrate_history(history, scenario, holdout=holdout)
    except ValueError as error:
        return _calibration_problems(args.file, [str(error)], stderr)
    name = Path(args.file).name
    report = history_report(calibration, history_ranges(calibration, name), name)
    stdout.write(to_json(report) if args.format == "json" else history_table(report))
    return 0


def add_calibrate(commands: Any) -> None:
    """Add the `calibrate` command and its two kinds of data to the CLI's subparsers."""
    calibrate = commands.add_parser(
        "calibrate", help="fit ranges from the business's own data",
        description="Fit the scenario's ranges from an order export or a monthly history.")
    data = calibrate.add_subparsers(dest="data", required=True, metavar="DATA")
    orders = data.add_parser(
        "transactions", help="an order export (customer id, order date, order value)",
        description="BG/NBD, Gamma-Gamma, the cohort table's sBG fit, order values, repeat "
                    "and return rates, value by acquisition channel; proposed ranges.")
    orders.add_argument("file", metavar="FILE")
    orders.add_argument("--until", metavar="DATE",
                        help="end of the calibration period (later orders are the holdout)")
    orders.add_argument("--unit", choices=("day", "week", "month"), default="week",
                        help="time unit of the BG/NBD fit (default week)")
    orders.add_argument("--margin", metavar="SHARE", help="gross margin for CLV (default 0.5)")
    orders.add_argument("--channel-spend", metavar="CSV",
                        help="spend per acquisition channel (columns channel, spend) for CAC")
    orders.add_argument("--customers-out", metavar="PATH",
                        help="also write one CSV row per customer: P(alive), expected repeat "
                             "orders, expected value per order, CLV")
    orders.add_argument("--format", choices=("table", "json"), default="table")
    orders.set_defaults(handler=cmd_calibrate_transactions)
    history = data.add_parser(
        "history", help="a monthly history (spends and counts, one row per month)",
        description="Fit the funnel's response parameters by replaying the engine over the "
                    "history; parametric-bootstrap ranges and a backtest.")
    history.add_argument("file", metavar="FILE")
    history.add_argument("--holdout", metavar="MONTHS",
                         help="last months kept out of the fit for the backtest (default 6)")
    history.add_argument("--scenario", metavar="FILE",
                         help="scenario giving the inputs that are not fitted (default: the "
                              "schema's defaults)")
    history.add_argument("--format", choices=("table", "json"), default="table")
    history.set_defaults(handler=cmd_calibrate_history)
