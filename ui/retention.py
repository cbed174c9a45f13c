"""Retention page helpers: cached runs of sim.retention, its sentences and the example table.

The sweep runs many budget splits, so it uses at most SWEEP_TRIALS futures (the first ones of
the sidebar's run: the same draws); the page says so. Everything here is cached by the
validated scenario, the seed and the trial count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.metrics import CLEAR_WIN
from sim.retention import (
    BDTextbook,
    BestShare,
    CohortFit,
    CohortTableError,
    NextDollar,
    RetentionCheck,
    ShareSweep,
    bd_textbook,
    cohort_survival,
    next_dollar,
    read_and_fit,
    retention_check,
    simulate_hot_share,
    sweep_hot_share,
)
from sim.scenario import Scenario
from ui import format as fmt
from ui.library import APP_ROOT
from ui.runs import SCENARIO_HASH, cached_run

#: Futures used by the sweep and the what-ifs (the sidebar's trials when fewer).
SWEEP_TRIALS = 2000
#: Example cohort table shipped with the app.
EXAMPLE_CSV = APP_ROOT / "scenarios" / "examples" / "cohorts_example.csv"
#: Upload limit for cohort tables, in megabytes (the parser also caps the bytes it reads).
UPLOAD_MB = 1
#: How each goal the best share can be chosen on is named on screen.
GOAL_LABELS: dict[str, str] = {
    "profit": "Profit",
    "npv": "NPV of profit",
    "long_run_value": "Long-run value (NPV + customers kept, discounted)",
}



def page_trials(trials: int) -> int:
    """Return the futures the sweep uses: the sidebar's trials, at most SWEEP_TRIALS."""
    return min(int(trials), SWEEP_TRIALS)


@cached_run(max_entries=16, show_spinner="Sweeping the share for existing buyers from 0% to "
            "80% of the budget…", show_time=True, hash_funcs=SCENARIO_HASH)
def run_sweep(scenario: Scenario, seed: int, trials: int) -> ShareSweep:
    """Return the hot-share sweep on `trials` futures (all shares on the same draws)."""
    return sweep_hot_share(scenario, trials=trials, seed=seed)


@cached_run(max_entries=16, show_spinner="Adding $10,000 a month to each side…",
            show_time=True, hash_funcs=SCENARIO_HASH)
def run_next_dollar(scenario: Scenario, seed: int, trials: int, goal: str) -> NextDollar:
    """Return the paired comparison of the next $10,000 a month in acquisition vs retention."""
    return next_dollar(scenario, trials=trials, seed=seed, goal=goal)


@cached_run(max_entries=16, show_spinner="Simulating 5 points more retention…",
            show_time=True, hash_funcs=SCENARIO_HASH)
def run_retention_check(scenario: Scenario, seed: int, trials: int) -> RetentionCheck:
    """Return the profit change from 5 points more monthly retention."""
    return retention_check(scenario, trials=trials, seed=seed)


@cached_run(max_entries=16, show_spinner=False, hash_funcs=SCENARIO_HASH)
def run_textbook(scenario: Scenario) -> BDTextbook:
    """Return the Blattberg-Deighton optimum from the scenario's medians."""
    return bd_textbook(scenario)


@dataclass(frozen=True)
class PlanCohorts:
    """Medians over the futures for one hot share: cohort survival curves (acquired month ->
    share still active by months since first purchase) and customers won and lost a month."""

    survival: dict[int, np.ndarray]
    won: np.ndarray
    lost: np.ndarray


@cached_run(max_entries=32, show_spinner="Following monthly cohorts…", show_time=True,
            hash_funcs=SCENARIO_HASH)
def run_cohorts(scenario: Scenario, seed: int, trials: int, hot: float) -> PlanCohorts:
    """Return the cohort curves and the leaky bucket of one hot share (medians)."""
    result = simulate_hot_share(scenario, hot, trials=trials, seed=seed)
    months = sorted({m for m in (0, 12) if m < result.horizon - 1})
    survival = {m: np.median(cohort_survival(result, m), axis=0) for m in months}
    return PlanCohorts(survival, np.median(result.monthly["new_customers"], axis=0),
                       np.median(result.monthly["churned"], axis=0))


@cached_run(max_entries=8, show_spinner="Fitting the cohort table…")
def fit_upload(data: bytes) -> CohortFit | tuple[str, ...]:
    """Return the sBG fit of an uploaded cohort table, or the problems that stop it."""
    try:
        return read_and_fit(data)
    except CohortTableError as error:
        return tuple(error.problems)


def example_csv() -> bytes:
    """Return the shipped example cohort table (CSV bytes)."""
    return EXAMPLE_CSV.read_bytes()


def share_words(share: float) -> str:
    """Return a budget share as the page writes it (0.35 -> '35%')."""
    return fmt.share(share, 0 if abs(share * 100 - round(share * 100)) < 1e-6 else 1)


def answer_sentence(best: BestShare, sweep: ShareSweep, goal: str) -> str:
    """Return the page's one-sentence answer: how much to put into existing buyers."""
    today = float(sweep.shares[sweep.current])
    words = f"{fmt.horizon_words(sweep.horizon)} {GOAL_LABELS[goal].split(' (')[0].lower()}"
    futures = f"{sweep.trials:,} simulated futures"
    zone = (f"anything from {share_words(best.tie_low)} to {share_words(best.tie_high)} is "
            "as good within the uncertainty" if best.tie_high > best.tie_low else
            "no other share comes close")
    if best.index == sweep.current:
        return (f"Keep {share_words(today)} of the budget on existing buyers: no share from 0% "
                f"to 80% earns more {words} on average ({zone}).")
    comparison = best.vs_current
    verdict = "" if comparison.p_beats >= CLEAR_WIN else ", not a clear win"
    return (f"Put {share_words(best.share)} of the budget into existing buyers ({zone}): it "
            f"earns {fmt.money(comparison.diff_mean)} more {words} on average than today's "
            f"{share_words(today)} (90% range {fmt.money(comparison.diff_p5, signed=True)} to "
            f"{fmt.money(comparison.diff_p95, signed=True)}), and beats it in "
            f"{fmt.share(comparison.p_beats)} of {futures}{verdict}.")
