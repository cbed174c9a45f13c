"""Summaries of per-trial results, and paired comparisons on common random numbers.

Every number a page shows comes with its Monte Carlo error:

- a mean with its standard error;
- a percentile with a distribution-free 90% interval from order statistics (the binomial
  method: the p-quantile lies between the order statistics whose ranks are n*p -/+ Z90 *
  sqrt(n*p*(1-p)), with no resampling);
- a probability with a 90% Wilson score interval.

Comparisons are paired: trial i of A and trial i of B saw the same future, so "A beats B in 78%
of futures" is a statement about the per-trial difference. Exact ties (the same plan twice, or
a change that cannot matter) are counted as ties, never as wins.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from statistics import NormalDist

import numpy as np

PERCENTILES: tuple[int, ...] = (5, 10, 50, 90, 95)
#: Two-sided 90% quantile of the standard normal distribution (1.6449): the true mean lies
#: within Z90 standard errors of the simulated one in about 90% of repeated runs. Use
#: `mc_error_90` rather than multiplying by it (or by a literal 1.645) in place.
Z90 = NormalDist().inv_cdf(0.95)
#: Share of futures above which one plan is called clearly better than another.
CLEAR_WIN = 0.8


@dataclass(frozen=True)
class Summary:
    """Mean (with standard error) and percentiles of one metric over the trials, in its units.

    `n` counts the trials where the metric is defined (CAC is undefined with no new customers).
    """

    mean: float
    se: float
    p5: float
    p10: float
    p50: float
    p90: float
    p95: float
    n: int

    def as_dict(self) -> dict[str, float]:
        """Return mean, se and the percentiles as a plain dict (JSON-ready; NaN as None)."""
        return {key: (None if isinstance(value, float) and math.isnan(value) else value)
                for key, value in asdict(self).items() if key != "n"}


def summarize(values: np.ndarray) -> Summary:
    """Return the mean, its standard error and P5/P10/P50/P90/P95 of the defined values."""
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    n = int(finite.size)
    if n == 0:
        nan = float("nan")
        return Summary(nan, nan, nan, nan, nan, nan, nan, 0)
    quantiles = np.percentile(finite, PERCENTILES)
    se = float(finite.std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan")
    return Summary(float(finite.mean()), se, *map(float, quantiles), n)


def mc_error_90(se: float) -> float:
    """Return the 90% Monte Carlo error (half-width of the 90% interval) of an estimate with
    standard error `se`: Z90 * se, in the units of the estimate (NaN stays NaN).

    Every `Summary.se` and `Comparison.diff_se` turns into the "±" a page shows this way.
    """
    return Z90 * float(se)


def mean_with_error(values: np.ndarray) -> tuple[float, float]:
    """Return the mean of the defined values and its 90% Monte Carlo error, both in the values'
    units (NaN for the error with fewer than two defined values)."""
    summary = summarize(values)
    return summary.mean, mc_error_90(summary.se)


def percentile_interval(values: np.ndarray, percentile: float) -> tuple[float, float]:
    """Return a 90% interval for one percentile of the defined values (order statistics)."""
    finite = np.sort(np.asarray(values, dtype=float)[np.isfinite(values)])
    n = finite.size
    if n == 0:
        return float("nan"), float("nan")
    p = percentile / 100.0
    half = Z90 * math.sqrt(n * p * (1 - p))
    low = int(max(0, math.floor(n * p - half)))
    high = int(min(n - 1, math.ceil(n * p + half)))
    return float(finite[low]), float(finite[high])


def wilson_interval(successes: float, n: int, confidence: float = 0.90) -> tuple[float, float]:
    """Return the Wilson score interval of a proportion (successes out of n)."""
    if n <= 0:
        return float("nan"), float("nan")
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Comparison:
    """Paired comparison of plan A against plan B on one metric (A - B per trial).

    p_beats: share of futures where A is strictly better (by more than rounding);
    p_tie: share where they are equal; p_beats_low/high: 90% Wilson interval of p_beats;
    diff_*: mean (with standard error) and percentiles of A - B, in the metric's units.
    """

    p_beats: float
    p_beats_low: float
    p_beats_high: float
    p_tie: float
    p_loses: float
    diff_mean: float
    diff_se: float
    diff_p5: float
    diff_p50: float
    diff_p95: float
    n: int

    @property
    def verdict(self) -> str:
        """Return "better", "worse" or "tie" (neither wins in CLEAR_WIN of futures)."""
        return verdict(self.p_beats, self.p_loses)

    def as_dict(self) -> dict[str, float]:
        """Return the fields as a plain dict (JSON-ready; NaN as None)."""
        return {key: (None if isinstance(value, float) and math.isnan(value) else value)
                for key, value in asdict(self).items()}


def tie_tolerance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Return the per-trial difference below which A and B count as equal (rounding noise)."""
    return 1e-9 * np.maximum(1.0, np.maximum(np.abs(a), np.abs(b)))


def compare_paired(a: np.ndarray, b: np.ndarray, higher_is_better: bool = True) -> Comparison:
    """Compare A with B trial by trial; trials where either is undefined are left out."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired comparison needs the same trials, got {a.shape} and {b.shape}")
    defined = np.isfinite(a) & np.isfinite(b)
    a, b = a[defined], b[defined]
    n = int(a.size)
    if n == 0:
        nan = float("nan")
        return Comparison(nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, 0)
    diff = a - b
    signed = diff if higher_is_better else -diff
    tolerance = tie_tolerance(a, b)
    wins = int(np.count_nonzero(signed > tolerance))
    losses = int(np.count_nonzero(signed < -tolerance))
    ties = n - wins - losses
    low, high = wilson_interval(wins, n)
    p5, p50, p95 = np.percentile(diff, [5, 50, 95])
    se = float(diff.std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan")
    return Comparison(wins / n, low, high, ties / n, losses / n, float(diff.mean()), se,
                      float(p5), float(p50), float(p95), n)


def verdict(p_beats: float, p_loses: float) -> str:
    """Return "better" when A wins in at least CLEAR_WIN of futures, "worse" when it loses in
    that many, else "tie" (not clearly different)."""
    if p_beats >= CLEAR_WIN:
        return "better"
    if p_loses >= CLEAR_WIN:
        return "worse"
    return "tie"


def monthly_bands(series: np.ndarray, cumulative: bool = False) -> dict[str, np.ndarray]:
    """Return P10, P50 and P90 per month of a (trials, months) series (cumulated if asked)."""
    data = np.cumsum(series, axis=1) if cumulative else series
    p10, p50, p90 = np.percentile(data, [10, 50, 90], axis=0)
    return {"p10": p10, "p50": p50, "p90": p90}

