"""M/M/c queueing theory (Erlang C) for the returns desk.

A returns desk with `agents` identical agents, claims arriving as a Poisson process at
`arrival_rate` and each claim taking an exponential time with mean ``1 / service_rate`` is the
M/M/c queue. Its steady state has closed forms (Erlang C), which give two things:

- a quick answer to "how many agents do we need for a target wait?" without simulating, and
- the oracle that the SimPy desk in `sim.des` is validated against (tests/unit/test_des_queue.py).

Rates are per unit of time and waits come out in the same unit: give rates per hour and the
waits are in hours. Waits are the time in queue before an agent picks the claim up (service time
not included). A desk whose load ``arrival_rate / service_rate`` reaches the number of agents has
no steady state: the queue grows without bound, so its wait probability is 1 and its waits are
infinite.
"""

from __future__ import annotations

import math


def _check(arrival_rate: float, service_rate: float, agents: int) -> None:
    if not arrival_rate >= 0 or not math.isfinite(arrival_rate):
        raise ValueError(f"arrival_rate must be a finite number >= 0, got {arrival_rate}")
    if not service_rate > 0 or not math.isfinite(service_rate):
        raise ValueError(f"service_rate must be a finite number > 0, got {service_rate}")
    if int(agents) != agents or agents < 1:
        raise ValueError(f"agents must be a whole number >= 1, got {agents}")


def mmc_utilisation(arrival_rate: float, service_rate: float, agents: int) -> float:
    """Return the share of agent time spent on claims, ``arrival_rate / (agents * service_rate)``.

    A value of 1 or more means the desk cannot keep up.
    """
    _check(arrival_rate, service_rate, agents)
    return arrival_rate / (agents * service_rate)


def erlang_c_wait_probability(arrival_rate: float, service_rate: float, agents: int) -> float:
    """Return the probability that a claim has to wait for an agent (Erlang C), in [0, 1].

    Computed through the Erlang B recursion ``B_k = a B_{k-1} / (k + a B_{k-1})`` with
    ``a = arrival_rate / service_rate``, which stays accurate for hundreds of agents where the
    textbook sum of ``a^k / k!`` overflows. Returns 1 when the desk is overloaded.
    """
    _check(arrival_rate, service_rate, agents)
    load = arrival_rate / service_rate
    if load >= agents:
        return 1.0
    blocking = 1.0
    for k in range(1, int(agents) + 1):
        blocking = load * blocking / (k + load * blocking)
    rho = load / agents
    return blocking / (1.0 - rho * (1.0 - blocking))


def mmc_mean_wait(arrival_rate: float, service_rate: float, agents: int) -> float:
    """Return the mean time a claim waits in the queue, ``C / (agents * mu - lambda)``.

    Same time unit as the rates' denominator (rates per hour -> hours); ``inf`` when overloaded.
    """
    wait_probability = erlang_c_wait_probability(arrival_rate, service_rate, agents)
    spare_rate = agents * service_rate - arrival_rate
    if spare_rate <= 0:
        return math.inf
    return wait_probability / spare_rate


def mmc_mean_queue_length(arrival_rate: float, service_rate: float, agents: int) -> float:
    """Return the time-average number of claims waiting (not yet with an agent), by Little's law.

    ``inf`` when overloaded.
    """
    return arrival_rate * mmc_mean_wait(arrival_rate, service_rate, agents)


def mmc_wait_quantile(
    arrival_rate: float, service_rate: float, agents: int, quantile: float
) -> float:
    """Return the `quantile` (e.g. 0.95) of the time a claim waits in the queue.

    In M/M/c the wait is 0 with probability ``1 - C`` and otherwise exponential with rate
    ``agents * service_rate - arrival_rate``, so ``P(wait > t) = C exp(-(c mu - lambda) t)``.
    Returns 0 when at least `quantile` of claims do not wait at all; ``inf`` when overloaded.
    """
    if not 0.0 < quantile < 1.0:
        raise ValueError(f"quantile must lie strictly between 0 and 1, got {quantile}")
    wait_probability = erlang_c_wait_probability(arrival_rate, service_rate, agents)
    spare_rate = agents * service_rate - arrival_rate
    if spare_rate <= 0:
        return math.inf
    if wait_probability <= 1.0 - quantile:
        return 0.0
    return math.log(wait_probability / (1.0 - quantile)) / spare_rate


def agents_for_target_wait(
    arrival_rate: float,
    service_rate: float,
    target_wait: float,
    quantile: float | None = None,
) -> int:
    """Return the fewest agents whose steady-state wait is at most `target_wait`.

    `quantile` None compares the mean wait (`mmc_mean_wait`); a number such as 0.95 compares that
    quantile of the wait (`mmc_wait_quantile`). `target_wait` is in the rates' time unit.
    Returns at least 1 (a desk needs someone even when nobody ever waits).
    """
    if not target_wait > 0 or not math.isfinite(target_wait):
        raise ValueError(f"target_wait must be a finite number > 0, got {target_wait}")
    _check(arrival_rate, service_rate, 1)
    # Fewer agents than the load can never keep up, so start just above it.
    agents = max(1, math.floor(arrival_rate / service_rate) + 1)
    while True:
        if quantile is None:
            wait = mmc_mean_wait(arrival_rate, service_rate, agents)
        else:
            wait = mmc_wait_quantile(arrival_rate, service_rate, agents, quantile)
        if wait <= target_wait:
            return agents
        agents += 1
