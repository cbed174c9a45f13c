"""Validation of the returns desk against M/M/c queueing theory (Erlang C), after pydesrap_mms.

Claims arrive as a Poisson process and take exponential service times, so the SimPy desk
(`sim.des.simulate_desk`) is an M/M/c queue: its mean wait, mean queue length, utilisation and
95th-percentile wait must match the closed forms within 15% at every load. The expected figures
are in tests/data/des_mmc_expected.csv; they were computed once with the textbook Erlang C sum
``C = (a^c / c!) / (1 - rho) / (sum_{k<c} a^k / k! + (a^c / c!) / (1 - rho))`` in exact
fractions, independently of `sim.queueing`, which uses the Erlang B recursion instead.

Each case runs one long replication with a fixed seed and discards the first 10% of the time as
warm-up (the desk starts empty). Run lengths were chosen so the standard error of the mean wait
is about 3-4% (a third of the tolerance). Loads 0.9 and 0.95 need far longer runs (queues at
high load stay correlated for a long time), so they are marked slow.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from sim.des import agents_needed_simulated, simulate_desk, time_average_count
from sim.queueing import (
    agents_for_target_wait,
    erlang_c_wait_probability,
    mmc_mean_queue_length,
    mmc_mean_wait,
    mmc_utilisation,
    mmc_wait_quantile,
)

SEED = 20261122
TOLERANCE = 0.15  # relative, as in pydesrap_mms
WARM_UP_SHARE = 0.10
CASES_FILE = Path(__file__).resolve().parents[1] / "data" / "des_mmc_expected.csv"


def _cases() -> list[dict[str, str]]:
    with CASES_FILE.open(newline="") as handle:
        return list(csv.DictReader(handle))


CASES = _cases()


def _params(speed: str) -> list[object]:
    return [pytest.param(row, id=f"{row['case']}-load{row['utilisation']}")
            for row in CASES if row["speed"] == speed]


def _poisson_claims(arrival_rate: float, service_rate: float, claims: int,
                    rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    arrivals = np.cumsum(rng.exponential(1.0 / arrival_rate, claims))
    services = rng.exponential(1.0 / service_rate, claims)
    return arrivals, services


def _check_case(row: dict[str, str]) -> None:
    arrival_rate = float(row["arrival_rate_per_hour"])
    service_rate = float(row["service_rate_per_hour"])
    agents = int(row["agents"])
    rng = np.random.default_rng([SEED, CASES.index(row)])
    arrivals, services = _poisson_claims(arrival_rate, service_rate, int(row["claims"]), rng)

    waits = simulate_desk(arrivals, services, agents)

    start, end = WARM_UP_SHARE * arrivals[-1], arrivals[-1]
    measured = arrivals >= start
    started = arrivals + waits
    simulated = {
        "mean_wait_hours": float(waits[measured].mean()),
        "mean_queue_length": time_average_count(arrivals, started, start, end),
        "utilisation": time_average_count(started, started + services, start, end) / agents,
        "wait_hours_p95": float(np.quantile(waits[measured], 0.95)),
    }
    for name, value in simulated.items():
        expected = float(row[name])
        assert value == pytest.approx(expected, rel=TOLERANCE), (
            f"{row['case']} (load {row['utilisation']}, {agents} agents): {name} simulated "
            f"{value:.4g}, M/M/c {expected:.4g}")


# Cases, each with its load (utilisation = arrival rate / (agents x service rate)), 2 h per claim:
#   light_1_agent      load 0.30, 1 agent,  15,000 claims
#   half_2_agents      load 0.50, 2 agents, 25,000 claims
#   moderate_3_agents  load 0.60, 3 agents, 35,000 claims
#   busy_2_agents      load 0.70, 2 agents, 45,000 claims
#   heavy_4_agents     load 0.80, 4 agents, 80,000 claims
@pytest.mark.parametrize("row", _params("fast"))
def test_desk_matches_mmc_theory(row: dict[str, str]) -> None:
    _check_case(row)


# Slow cases: very_heavy_5_agents (load 0.90, 300,000 claims) and near_capacity_5_agents
# (load 0.95, 800,000 claims).
@pytest.mark.slow
@pytest.mark.parametrize("row", _params("slow"))
def test_desk_matches_mmc_theory_at_high_load(row: dict[str, str]) -> None:
    _check_case(row)


def test_mmc_closed_forms_reproduce_stored_figures() -> None:
    # The recursion in sim.queueing against the textbook sum stored in the CSV.
    for row in CASES:
        rates = (float(row["arrival_rate_per_hour"]), float(row["service_rate_per_hour"]),
                 int(row["agents"]))
        assert erlang_c_wait_probability(*rates) == pytest.approx(
            float(row["wait_probability"]), rel=1e-9)
        assert mmc_mean_wait(*rates) == pytest.approx(float(row["mean_wait_hours"]), rel=1e-9)
        assert mmc_mean_queue_length(*rates) == pytest.approx(
            float(row["mean_queue_length"]), rel=1e-9)
        assert mmc_utilisation(*rates) == pytest.approx(float(row["utilisation"]), rel=1e-12)
        assert mmc_wait_quantile(*rates, 0.95) == pytest.approx(
            float(row["wait_hours_p95"]), rel=1e-9)


@pytest.mark.parametrize("rho", [0.1, 0.45, 0.9, 0.99])
def test_erlang_c_small_desks_match_their_textbook_forms(rho: float) -> None:
    # M/M/1: C = rho, W = rho / (mu - lambda). M/M/2: C = 2 rho^2 / (1 + rho).
    mu = 3.0
    assert erlang_c_wait_probability(rho * mu, mu, 1) == pytest.approx(rho, rel=1e-12)
    assert mmc_mean_wait(rho * mu, mu, 1) == pytest.approx(rho / (mu - rho * mu), rel=1e-12)
    assert erlang_c_wait_probability(2 * rho * mu, mu, 2) == pytest.approx(
        2 * rho**2 / (1 + rho), rel=1e-12)


def test_erlang_c_stays_accurate_for_large_desks() -> None:
    # 300 agents at load 280: the direct sum of a^k / k! overflows floats; logs do not.
    load, agents = 280.0, 300
    log_terms = [k * math.log(load) - math.lgamma(k + 1) for k in range(agents)]
    log_top = agents * math.log(load) - math.lgamma(agents + 1) - math.log(1 - load / agents)
    biggest = max(*log_terms, log_top)
    top = math.exp(log_top - biggest)
    expected = top / (sum(math.exp(t - biggest) for t in log_terms) + top)
    assert erlang_c_wait_probability(load, 1.0, agents) == pytest.approx(expected, rel=1e-9)
    assert 0.0 < expected < 1.0


def test_overloaded_desk_waits_forever() -> None:
    assert erlang_c_wait_probability(5.0, 1.0, 5) == 1.0
    assert mmc_mean_wait(6.0, 1.0, 5) == math.inf
    assert mmc_wait_quantile(6.0, 1.0, 5, 0.95) == math.inf
    assert mmc_utilisation(6.0, 1.0, 5) == pytest.approx(1.2)


def test_agents_for_target_wait_picks_the_first_desk_that_meets_it() -> None:
    # Load 8 (8 claims an hour, 1 hour each): mean waits 0.2046 h at 10 agents, 0.0817 h at 11.
    assert agents_for_target_wait(8.0, 1.0, 0.13) == 11
    assert mmc_mean_wait(8.0, 1.0, 11) <= 0.13 < mmc_mean_wait(8.0, 1.0, 10)
    # P95 waits: 0.2571 h at 12 agents, 0.0837 h at 13.
    assert agents_for_target_wait(8.0, 1.0, 0.16, quantile=0.95) == 13
    # A light load still needs one agent.
    assert agents_for_target_wait(0.01, 1.0, 10.0) == 1
    with pytest.raises(ValueError):
        agents_for_target_wait(8.0, 1.0, 0.0)


def test_simulated_agents_needed_agrees_with_erlang_c() -> None:
    # Same load 8 as above; the targets sit between two desk sizes with ~55% margin either side,
    # far more than the noise of 8,000 claims.
    rng = np.random.default_rng([SEED, 99])
    arrivals, services = _poisson_claims(8.0, 1.0, 8_000, rng)
    for target, quantile in ((0.13, None), (0.16, 0.95)):
        expected = agents_for_target_wait(8.0, 1.0, target, quantile=quantile)
        assert agents_needed_simulated(arrivals, services, target, quantile) == expected


def test_desk_waits_follow_first_come_first_served_by_hand() -> None:
    # One agent; claims at 0, 1, 2 each taking 3 hours wait 0, 2 and 4 hours.
    waits = simulate_desk(np.array([2.0, 0.0, 1.0]), np.array([3.0, 3.0, 3.0]), 1)
    np.testing.assert_allclose(waits, [4.0, 0.0, 2.0])
    # Two agents: the third claim waits for the first agent to finish at 3.
    waits = simulate_desk(np.array([0.0, 0.0, 1.0]), np.array([3.0, 5.0, 1.0]), 2)
    np.testing.assert_allclose(waits, [0.0, 0.0, 2.0])
    # An unlimited desk: nobody waits.
    np.testing.assert_array_equal(simulate_desk(np.array([0.0, 0.0]), np.ones(2), None), [0, 0])


def test_time_average_count_by_hand() -> None:
    # Intervals [0, 2) and [1, 4) over the window [1, 3): 1 + 2 = 3 hours covered in 2.
    assert time_average_count(np.array([0.0, 1.0]), np.array([2.0, 4.0]), 1.0, 3.0) == 1.5
