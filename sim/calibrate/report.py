"""Calibration results as plain data (the CLI's JSON, the page's tables) and as text tables.

JSON keeps full float precision (Python's shortest repr of each float); NaN and infinities
become null.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sim.calibrate.customers import CLV_MONTHS, ONE_AND_DONE_BELOW, TransactionCalibration
from sim.calibrate.files import CalibrationFileError
from sim.calibrate.history_fit import HistoryCalibration, fit_range
from sim.calibrate.ranges import ProposedRange, ranges_json
from sim.calibrate.transactions import RateEstimate


def plain(x: Any) -> Any:
    """Return data with NumPy numbers as Python ones and non-finite floats as None."""
    if isinstance(x, dict):
        return {str(k): plain(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [plain(v) for v in x]
    if isinstance(x, np.ndarray):
        return [plain(v) for v in x.tolist()]
    if isinstance(x, bool | np.bool_):
        return bool(x)
    if isinstance(x, int | np.integer):
        return int(x)
    if isinstance(x, float | np.floating):
        value = float(x)
        return value if math.isfinite(value) else None
    return x


def read_capped(path: str, limit: int, what: str) -> bytes:
    """Return a file's bytes, refusing files over `limit` bytes before reading them."""
    size = Path(path).stat().st_size
    if size > limit:
        raise CalibrationFileError([f"the file is {size:,} bytes; {what} files are limited "
                                    f"to {limit:,} bytes"])
    return Path(path).read_bytes()


def _rate(estimate: RateEstimate | None) -> dict[str, Any] | None:
    if estimate is None:
        return None
    return {"value": estimate.value, "se": estimate.se, "events": estimate.events,
            "exposures": estimate.exposures}


def transactions_report(calibration: TransactionCalibration, ranges: Sequence[ProposedRange],
                        file_name: str) -> dict[str, Any]:
    """Return an order export's calibration as plain data (the CLI's JSON)."""
    s = calibration.summary
    bg, gg = calibration.bgnbd, calibration.gamma_gamma
    holdout = None
    if calibration.holdout is not None:
        check = calibration.holdout
        holdout = {"length": s.holdout, "groups": [
            {"calibration_repeat_purchases": label, "customers": count, "actual": actual,
             "predicted": predicted}
            for label, count, actual, predicted in zip(check.groups, check.customers,
                                                       check.actual, check.predicted,
                                                       strict=True)]}
    sbg = None
    if calibration.sbg is not None:
        fit = calibration.sbg.cohorts.fit
        sbg = {"alpha": fit.alpha, "beta": fit.beta, "log_likelihood": fit.log_likelihood,
               "se_log_alpha": calibration.sbg.se_log_alpha,
               "se_log_beta": calibration.sbg.se_log_beta,
               "cohorts": len(calibration.sbg.cohorts.table.labels)}
    clv = calibration.clv
    return plain({
        "file": file_name,
        "unit": s.unit,
        "until": s.until.isoformat(),
        "customers": s.customers,
        "repeat_customers": s.repeat_customers,
        "bgnbd": {**bg.params, "log_likelihood": bg.log_likelihood, "se": bg.se},
        "gamma_gamma": None if gg is None else {
            **gg.params, "log_likelihood": gg.log_likelihood, "se": gg.se,
            "customers": gg.customers},
        "holdout": holdout,
        "clv": {"months": CLV_MONTHS, "margin": calibration.margin, "mean": np.mean(clv),
                "p10": np.percentile(clv, 10), "p50": np.percentile(clv, 50),
                "p90": np.percentile(clv, 90)},
        "observed": {"first_value": _rate(calibration.first_value),
                     "repeat_value": _rate(calibration.repeat_value),
                     "repeat_rate_monthly": _rate(calibration.repeat_rate),
                     "return_rate": _rate(calibration.return_rate)},
        "sbg": sbg,
        "channels": [{"channel": c.channel, "customers": c.customers,
                      "repeat_share": c.repeat_share, "clv": c.clv, "cac": c.cac,
                      "ltv_to_cac": c.ltv_to_cac, "one_and_done": c.one_and_done}
                     for c in calibration.channels],
        "one_and_done_below": ONE_AND_DONE_BELOW,
        "ranges": ranges_json(ranges),
    })


def history_report(calibration: HistoryCalibration, ranges: Sequence[ProposedRange],
                   file_name: str) -> dict[str, Any]:
    """Return a history's calibration as plain data (the CLI's JSON)."""
    fit, test = calibration.fit, calibration.backtest
    parameters = {}
    for parameter in fit.parameters:
        low, high = fit_range(fit, parameter.path)
        parameters[parameter.path] = {
            "estimate": fit.estimate[parameter.path], "low": low, "high": high,
            "se_scale": fit.se_scale[parameter.path],
            "identified": fit.identified[parameter.path]}
    return plain({
        "file": file_name,
        "months": len(test.months),
        "fitted_months": fit.months,
        "holdout": test.holdout,
        "converged": fit.converged,
        "parameters": parameters,
        "backtest": {"mape_fit": test.mape_fit, "mape_holdout": test.mape_holdout,
                     "months": list(test.months),
                     "actual": test.actual, "predicted": test.predicted},
        "ranges": ranges_json(ranges),
    })


def _lines(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(str(row[i])) for row in (header, *rows)) for i in range(len(header))]
    return ["  ".join([str(row[0]).ljust(widths[0])] + [str(c).rjust(w) for c, w in
                                                        zip(row[1:], widths[1:], strict=True)])
            .rstrip() for row in (header, *rows)]


def _g(x: Any, digits: int = 4) -> str:
    return "n/a" if x is None else f"{x:.{digits}g}"


def _range_rows(report: dict[str, Any]) -> list[str]:
    rows = [[path, _g(r["estimate"]), _g(r["low"]), _g(r["high"]),
             "yes" if r["recommended"] else "check"] for path, r in report["ranges"].items()]
    return ["", "Proposed 90% ranges (scenario fields)",
            *_lines(["Field", "Estimate", "Low", "High", "Use"], rows)]


def transactions_table(report: dict[str, Any]) -> str:
    """Return an order export's calibration as readable text."""
    bg, gg = report["bgnbd"], report["gamma_gamma"]
    lines = [f"{report['file']}: {report['customers']:,} customers, "
             f"{report['repeat_customers']:,} ordered again by {report['until']} "
             f"(times in {report['unit']}s)", "",
             "BG/NBD (repeat purchases while alive)"]
    lines += _lines(["Parameter", "Estimate", "Std. error"],
                    [[k, _g(bg[k]), _g(bg["se"][k])] for k in ("r", "alpha", "a", "b")])
    lines.append(f"log-likelihood {bg['log_likelihood']:.2f}")
    if gg is not None:
        lines += ["", "Gamma-Gamma (value per order)"]
        lines += _lines(["Parameter", "Estimate", "Std. error"],
                        [[k, _g(gg[k]), _g(gg["se"][k])] for k in ("p", "q", "gamma")])
    if report["holdout"] is not None:
        lines += ["", f"Holdout ({_g(report['holdout']['length'])} {report['unit']}s): mean "
                  "repeat purchases by calibration repeat purchases"]
        lines += _lines(["Calibration", "Customers", "Actual", "Predicted"],
                        [[g["calibration_repeat_purchases"], f"{g['customers']:,.0f}",
                          _g(g["actual"], 3), _g(g["predicted"], 3)]
                         for g in report["holdout"]["groups"]])
    clv = report["clv"]
    lines += ["", f"CLV over {clv['months']} months at margin {clv['margin']:g}: mean "
              f"{clv['mean']:,.2f}, median {clv['p50']:,.2f}"]
    if report["channels"]:
        lines += ["", f"By acquisition channel (one-and-done: fewer than "
                  f"{report['one_and_done_below']:.0%} bought twice)"]
        lines += _lines(["Channel", "Customers", "Bought twice", "CLV", "CAC", "LTV:CAC",
                         "Flag"],
                        [[c["channel"], f"{c['customers']:,}", f"{c['repeat_share']:.1%}",
                          f"{c['clv']:,.2f}",
                          "n/a" if c["cac"] is None else f"{c['cac']:,.2f}",
                          _g(c["ltv_to_cac"], 3), "one-and-done" if c["one_and_done"]
                          else ""] for c in report["channels"]])
    lines += _range_rows(report)
    return "\n".join(lines) + "\n"


def history_table(report: dict[str, Any]) -> str:
    """Return a history's calibration as readable text."""
    lines = [f"{report['file']}: {report['months']} months, fitted on the first "
             f"{report['fitted_months']}, {report['holdout']} held out", "",
             "Fitted parameters (90% range from the bootstrap)"]
    lines += _lines(["Field", "Estimate", "Low", "High", "Identified"],
                    [[path, _g(p["estimate"]), _g(p["low"]), _g(p["high"]),
                      "yes" if p["identified"] else "no"]
                     for path, p in report["parameters"].items()])
    test = report["backtest"]
    lines += ["", "Backtest: mean absolute percentage error"]
    lines += _lines(["Series", "Fitted months", "Held-out months"],
                    [[name, "n/a" if test["mape_fit"][name] is None
                      else f"{test['mape_fit'][name]:.1%}",
                      "n/a" if test["mape_holdout"][name] is None
                      else f"{test['mape_holdout'][name]:.1%}"]
                     for name in test["mape_fit"]])
    lines += _range_rows(report)
    return "\n".join(lines) + "\n"
