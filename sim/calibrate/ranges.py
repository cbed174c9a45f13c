"""Fits turned into proposed scenario ranges, each with the text that says where it came from.

A proposal is a `{low, high}` 90% interval for one scenario field (dotted path), rounded to six
significant digits, with a `source` note that the scenario keeps in its `sources` mapping when
the range is accepted (so the saved YAML says where every calibrated range came from).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from scipy import special

from sim.calibrate.customers import TransactionCalibration
from sim.calibrate.history_fit import HistoryCalibration, fit_range
from sim.calibrate.transactions import RateEstimate
from sim.distributions import Z95
from sim.scenario import MAX_SOURCE_CHARS, field_info

#: Paths proposed together: accepting one accepts the other (sBG churn needs both).
PAIRED: dict[str, str] = {"hot.churn.sbg.alpha": "hot.churn.sbg.beta",
                          "hot.churn.sbg.beta": "hot.churn.sbg.alpha"}


@dataclass(frozen=True)
class ProposedRange:
    """A proposed 90% range for one scenario field.

    estimate: the fitted value (the range's median); source: the note kept in the scenario;
    caveat: what to know before accepting it ('' when nothing); recommended: ticked by
    default (False when the data hardly inform it).
    """

    path: str
    low: float
    high: float
    estimate: float
    source: str
    caveat: str = ""
    recommended: bool = True

    @property
    def label(self) -> str:
        """Return the field's label and unit as the editor shows it."""
        info = field_info(self.path)
        return f"{info.label} ({info.unit})" if info.unit else info.label

    def as_dict(self) -> dict[str, Any]:
        """Return the proposal as plain data (JSON): low, high, estimate, source, caveat."""
        return {"low": self.low, "high": self.high, "estimate": self.estimate,
                "source": self.source, "caveat": self.caveat,
                "recommended": self.recommended}


def _six(x: float) -> float:
    return float(f"{x:.6g}")


def _make(path: str, low: float, high: float, estimate: float, source: str,
          caveat: str = "", recommended: bool = True) -> ProposedRange | None:
    """Return the proposal with rounded ends, or None when no valid range can be made."""
    low, high = _six(low), _six(high)
    rate = field_info(path).kind == "rate"
    if not (math.isfinite(low) and math.isfinite(high) and 0 < low < high) or (
            rate and high >= 1):
        return None
    return ProposedRange(path, low, high, float(estimate), source[:MAX_SOURCE_CHARS], caveat,
                         recommended)


def _rate_range(path: str, estimate: RateEstimate, source: str, caveat: str = "",
                recommended: bool = True) -> ProposedRange | None:
    """A 90% range for a rate: estimate -/+ 1.645 se on the logit scale."""
    p, se = estimate.value, estimate.se
    if not (0 < p < 1 and math.isfinite(se)):
        return None
    half = Z95 * max(se, 1e-9) / (p * (1 - p))
    centre = special.logit(p)
    return _make(path, float(special.expit(centre - half)),
                 float(special.expit(centre + half)), p, source, caveat, recommended)


def _amount_range(path: str, estimate: RateEstimate, source: str) -> ProposedRange | None:
    """A 90% range for a mean amount: estimate x/÷ exp(1.645 se / estimate) (log scale)."""
    m, se = estimate.value, estimate.se
    if not (m > 0 and math.isfinite(se)):
        return None
    factor = math.exp(Z95 * max(se, 1e-9 * m) / m)
    return _make(path, m / factor, m * factor, m, source)


def transaction_ranges(calibration: TransactionCalibration, file_name: str
                       ) -> list[ProposedRange]:
    """Return the proposals an order export supports: order values, the monthly repeat rate,
    the return rate and the sBG churn of its cohort table."""
    s = calibration.summary
    where = (f"{file_name}: {s.customers:,} customers, orders to {s.until.isoformat()}")
    proposals = [
        _amount_range("orders.first_value", calibration.first_value,
                      f"{where}; mean first order, 90% interval of the mean"),
    ]
    if calibration.repeat_value is not None:
        proposals.append(_amount_range(
            "orders.repeat_value", calibration.repeat_value,
            f"{where}; mean repeat order, 90% interval clustered by customer"))
    proposals.append(_rate_range(
        "hot.repeat_no_spend", calibration.repeat_rate,
        f"{where}; share of active customers ordering in a month, 90% interval",
        caveat="Observed at the retention spend of the period: it is the repeat rate with no "
               "spend only if nothing was spent on existing buyers.", recommended=False))
    if calibration.return_rate is not None:
        proposals.append(_rate_range(
            "guarantee.return_rate_at_reference", calibration.return_rate,
            f"{where}; share of orders returned, 90% interval",
            caveat="Measured under the guarantee in force then: set the reference length to "
                   "it."))
    if calibration.sbg is not None:
        fit = calibration.sbg.cohorts.fit
        for path, value, se in (("hot.churn.sbg.alpha", fit.alpha, calibration.sbg.se_log_alpha),
                                ("hot.churn.sbg.beta", fit.beta, calibration.sbg.se_log_beta)):
            factor = math.exp(Z95 * se)
            proposals.append(_make(
                path, value / factor, value * factor, value,
                f"{where}; sBG fit of the monthly cohort table, 90% interval from the "
                "likelihood's curvature",
                caveat="Replaces a constant monthly churn; alpha and beta are accepted together."))
    return [p for p in proposals if p is not None]


def history_ranges(calibration: HistoryCalibration, file_name: str) -> list[ProposedRange]:
    """Return the proposals of a history fit: every fitted parameter, the ones the data
    hardly inform unticked."""
    fit = calibration.fit
    months = calibration.backtest.months
    where = (f"{file_name}: months {months[0]} to {months[fit.months - 1]} replayed through the "
             "engine; 90% interval from a parametric bootstrap")
    proposals = []
    for parameter in fit.parameters:
        low, high = fit_range(fit, parameter.path)
        identified = fit.identified[parameter.path]
        caveat = "" if identified else (
            "The history hardly informs this one (its spend hardly varied): the range mostly "
            "restates the scenario's value.")
        proposal = _make(parameter.path, low, high, fit.estimate[parameter.path], where, caveat,
                         identified)
        if proposal is not None:
            proposals.append(proposal)
    return proposals


def chosen_overrides(proposals: Iterable[ProposedRange], chosen: Iterable[str],
                     sources: Mapping[str, str]) -> dict[str, Any]:
    """Return the dotted overrides that accept the chosen proposals (paired paths together):
    each range, and the scenario's `sources` with their notes added."""
    wanted = set(chosen)
    wanted |= {PAIRED[path] for path in wanted if path in PAIRED}
    overrides: dict[str, Any] = {}
    notes = dict(sources)
    for proposal in proposals:
        if proposal.path in wanted:
            overrides[proposal.path] = {"low": proposal.low, "high": proposal.high}
            notes[proposal.path] = proposal.source
    if overrides:
        overrides["sources"] = dict(sorted(notes.items()))
    return overrides


def ranges_json(proposals: Iterable[ProposedRange]) -> dict[str, dict[str, Any]]:
    """Return the proposals keyed by dotted path, as plain data."""
    return {p.path: p.as_dict() for p in proposals}
