"""Summaries and paired comparisons against numpy, published intervals and coverage."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from sim.metrics import (
    CLEAR_WIN,
    Z90,
    compare_paired,
    mc_error_90,
    mean_with_error,
    monthly_bands,
    percentile_interval,
    summarize,
    verdict,
    wilson_interval,
)


def test_summarize_matches_numpy(rng: np.random.Generator) -> None:
    values = rng.lognormal(3.0, 0.7, 5001)
    s = summarize(values)
    assert s.n == 5001
    assert s.mean == pytest.approx(values.mean(), rel=1e-12)
    assert s.se == pytest.approx(values.std(ddof=1) / math.sqrt(5001), rel=1e-12)
    p5, p10, p50, p90, p95 = np.percentile(values, [5, 10, 50, 90, 95])
    assert (s.p5, s.p10, s.p50, s.p90, s.p95) == pytest.approx((p5, p10, p50, p90, p95),
                                                               rel=1e-12)


def test_summarize_known_small_array() -> None:
    # 1..5: mean 3, sample sd sqrt(2.5), median 3, P10 = 1.4 (linear interpolation).
    s = summarize(np.array([5.0, 1.0, 4.0, 2.0, 3.0]))
    assert s.mean == 3 and s.p50 == 3
    assert s.se == pytest.approx(math.sqrt(2.5) / math.sqrt(5), rel=1e-12)
    assert s.p10 == pytest.approx(1.4) and s.p90 == pytest.approx(4.6)


def test_summarize_leaves_out_undefined_trials() -> None:
    s = summarize(np.array([1.0, np.nan, 3.0, np.inf]))
    assert s.n == 2 and s.mean == 2
    empty = summarize(np.array([np.nan, np.nan]))
    assert empty.n == 0 and math.isnan(empty.mean)
    assert empty.as_dict()["mean"] is None


def test_plan_against_itself_is_a_tie(rng: np.random.Generator) -> None:
    a = rng.normal(1e6, 2e5, 2000)
    c = compare_paired(a, a.copy())
    assert c.p_beats == 0 and c.p_loses == 0 and c.p_tie == 1
    assert c.diff_mean == 0 and c.diff_p5 == 0 and c.diff_p95 == 0
    assert c.verdict == "tie"
    # Rounding noise far below the values is still a tie, never a win.
    c = compare_paired(a * (1 + 1e-13), a)
    assert c.p_tie == 1 and c.verdict == "tie"


def test_compare_paired_counts_wins_per_trial() -> None:
    a = np.array([3.0, 5.0, 1.0, 4.0, 2.0])
    b = np.array([1.0, 4.0, 2.0, 4.0, 1.0])
    c = compare_paired(a, b)
    assert (c.p_beats, c.p_loses, c.p_tie) == pytest.approx((0.6, 0.2, 0.2))
    assert c.diff_mean == pytest.approx(0.6)
    assert c.diff_p50 == pytest.approx(1.0)
    assert c.diff_se == pytest.approx(np.std(a - b, ddof=1) / math.sqrt(5))
    assert (c.p_beats_low, c.p_beats_high) == pytest.approx(wilson_interval(3, 5, 0.90))
    lower = compare_paired(a, b, higher_is_better=False)
    assert (lower.p_beats, lower.p_loses) == pytest.approx((0.2, 0.6))


def test_compare_paired_is_paired_not_pooled(rng: np.random.Generator) -> None:
    # B = A + 1 in every future: a pooled test would call these close; paired, B always wins.
    a = rng.normal(100, 50, 1000)
    c = compare_paired(a + 1, a)
    assert c.p_beats == 1 and c.verdict == "better"
    assert compare_paired(a, a + 1).verdict == "worse"


def test_compare_paired_leaves_out_undefined_and_checks_shape() -> None:
    c = compare_paired(np.array([1.0, np.nan, 3.0]), np.array([0.0, 1.0, np.nan]))
    assert c.n == 1 and c.p_beats == 1
    with pytest.raises(ValueError, match="same trials"):
        compare_paired(np.zeros(3), np.zeros(4))


def test_verdict_threshold() -> None:
    assert CLEAR_WIN == 0.8
    assert verdict(0.8, 0.1) == "better"
    assert verdict(0.79, 0.2) == "tie"
    assert verdict(0.1, 0.85) == "worse"


def test_wilson_interval_published_value() -> None:
    # 8 successes of 10 at 95%: 0.4902 to 0.9433 (Wilson 1927; e.g. Newcombe 1998, table I).
    low, high = wilson_interval(8, 10, confidence=0.95)
    assert (low, high) == pytest.approx((0.4902, 0.9433), abs=5e-5)
    # The default is a 90% interval, narrower than the 95% one.
    low90, high90 = wilson_interval(8, 10)
    z = stats.norm.ppf(0.95)
    centre = (0.8 + z * z / 20) / (1 + z * z / 10)
    half = z * math.sqrt(0.8 * 0.2 / 10 + z * z / 400) / (1 + z * z / 10)
    assert (low90, high90) == pytest.approx((centre - half, centre + half), rel=1e-12)
    assert low < low90 < high90 < high
    assert wilson_interval(0, 10)[0] == 0 and wilson_interval(10, 10)[1] == 1
    assert all(math.isnan(x) for x in wilson_interval(0, 0))


def test_z90_is_the_two_sided_90_percent_normal_quantile() -> None:
    # Published: z(0.95) = 1.644854 (e.g. NIST/SEMATECH e-Handbook, table 1.3.6.7.1).
    assert pytest.approx(1.644854, abs=5e-7) == Z90
    assert stats.norm.cdf(Z90) - stats.norm.cdf(-Z90) == pytest.approx(0.90, abs=1e-12)


def test_mc_error_90_and_mean_with_error_closed_form() -> None:
    assert mc_error_90(2.0) == pytest.approx(2.0 * 1.644854, abs=1e-6)
    assert math.isnan(mc_error_90(float("nan")))
    # 1, 2, 3, 4: mean 2.5, sample sd sqrt(5/3), se sqrt(5/3) / 2 = 0.645497.
    mean, error = mean_with_error(np.array([1.0, 2.0, 3.0, np.nan, 4.0]))
    assert mean == 2.5
    assert error == pytest.approx(1.644854 * 0.6454972, rel=1e-6)
    _, alone = mean_with_error(np.array([7.0]))
    assert math.isnan(alone)


def test_mc_error_90_covers_the_true_mean_in_90_percent_of_runs(
        rng: np.random.Generator) -> None:
    # 4,000 runs of 400 exponential draws (true mean 1): the mean +/- its 90% error should
    # cover 1 in about 90% of runs (binomial sd of the share: 0.5 points).
    draws = rng.exponential(1.0, (4000, 400))
    means = draws.mean(axis=1)
    errors = mc_error_90(1.0) * draws.std(axis=1, ddof=1) / math.sqrt(400)
    covered = np.mean(np.abs(means - 1.0) <= errors)
    assert 0.88 <= covered <= 0.92


def test_percentile_interval_covers_the_true_quantile(rng: np.random.Generator) -> None:
    # A 90% interval for the median and the P90 of 400 standard normals should cover the true
    # quantile in about 90% of repeats (order statistics are slightly conservative).
    repeats, n = 400, 400
    for percentile in (50, 90):
        truth = stats.norm.ppf(percentile / 100)
        covered = 0
        for _ in range(repeats):
            low, high = percentile_interval(rng.standard_normal(n), percentile)
            covered += low <= truth <= high
        assert 0.85 <= covered / repeats <= 0.97, (percentile, covered / repeats)


def test_percentile_interval_brackets_the_sample_percentile(rng: np.random.Generator) -> None:
    values = rng.exponential(1.0, 1000)
    low, high = percentile_interval(values, 10)
    assert low <= np.percentile(values, 10) <= high
    assert all(math.isnan(x) for x in percentile_interval(np.array([np.nan]), 50))


def test_monthly_bands() -> None:
    series = np.arange(20, dtype=float).reshape(5, 4)  # rows are trials
    bands = monthly_bands(series)
    np.testing.assert_allclose(bands["p50"], np.median(series, axis=0))
    cumulative = monthly_bands(series, cumulative=True)
    np.testing.assert_allclose(cumulative["p90"],
                               np.percentile(np.cumsum(series, axis=1), 90, axis=0))


def test_the_90_percent_monte_carlo_error_is_1_645_standard_errors() -> None:
    from sim.metrics import mc_error_90

    # sd of 1..5 is sqrt(2.5), so the standard error of their mean is sqrt(2.5 / 5) = sqrt(0.5);
    # the two-sided 90% normal quantile is 1.644854 (published tables).
    se = summarize(np.arange(1.0, 6.0)).se
    assert mc_error_90(se) == pytest.approx(1.644854 * math.sqrt(0.5), rel=1e-6)
