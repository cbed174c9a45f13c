"""Money-back guarantee length: does a longer guarantee win more than it refunds?

A longer guarantee raises returns (``rho = rho_ref * (days / reference_days) ^ return_elasticity``)
and conversion (``(days / reference_days) ^ conversion_elasticity``). This module answers the
question on the engine's own futures:

- `evaluate_lengths` runs one scenario at several guarantee lengths on the same draws (only the
  ``guarantee.days`` array of `sample_inputs` is replaced), so every comparison is paired;
- `break_even` gives the conversion lift that keeps revenue and profit unchanged, from the closed
  forms in `sim.analytics` and checked by the engine on the scenario's median inputs;
- `lift_return_map` gives the profit difference over a grid of conversion lift and return
  multiplier, with the break-even line;
- `ab_plan` sizes an A/B test that would detect the lift;
- `desk_study` runs the individual-customer model (`sim.des`) and sizes the returns desk; it is a
  top-level function of plain arguments so it can run in a worker process.

Refunds that fall after the horizon are not in the horizon's cash: a 5-year guarantee would look
good just because its refunds come later. The engine's decision metrics (profit, NPV, net revenue)
therefore deduct the refunds still owed at the horizon (docs/model.md#refunds-owed-at-the-horizon),
and every "does it pay" here reads them. The cash-within-the-horizon figures
(`profit_in_horizon`, `net_revenue_in_horizon`) are kept beside them to show the difference.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from sim import funnel
from sim.analytics import (
    ab_sample_size_per_arm,
    ab_weeks_needed,
    break_even_lift_profit,
    break_even_lift_revenue,
    return_rate_for_days,
)
from sim.des import DesResult, run_des
from sim.distributions import constant_inputs, point_inputs, sample_inputs
from sim.engine import simulate
from sim.inputs import as_inputs
from sim.metrics import monthly_bands
from sim.scenario import Scenario
from sim.stacked import StackedPart, run_stacked

#: Guarantee lengths of the sweep, in days: one week to five years.
SWEEP_DAYS: tuple[int, ...] = (7, 14, 30, 60, 90, 180, 365, 730, 1095, 1460, 1825)
#: Lengths the page and the CLI call by name.
ONE_YEAR, FIVE_YEARS = 365, 1825
#: Per-trial results kept for each length (each an array over trials).
LENGTH_METRICS: tuple[str, ...] = (
    "return_rate", "return_multiplier", "conversion_multiplier", "gross_revenue", "net_revenue",
    "profit", "refunds", "open_guarantee_liability", "net_revenue_in_horizon",
    "profit_in_horizon",
)
#: The LENGTH_METRICS the engine computes (the others follow from the length); asking only for
#: these lets the compiled engine skip the customer-value pass.
ENGINE_METRICS: tuple[str, ...] = (
    "gross_revenue", "net_revenue", "profit", "refunds", "open_guarantee_liability",
    "net_revenue_in_horizon", "profit_in_horizon")
#: Monthly series kept (as P10/P50/P90 bands) for the refund timing charts.
TIMING_SERIES: tuple[str, ...] = ("refunds", "open_liability")
#: Grid of the lift x return-multiplier map.
MAP_LIFTS = np.round(np.linspace(0.0, 0.30, 31), 4)
MAP_MULTIPLIERS = np.round(np.linspace(1.0, 3.0, 21), 4)


# --------------------------------------------------------------------------------------------
# Orders of the horizon
# --------------------------------------------------------------------------------------------


def orders_placed(metrics: Mapping[str, np.ndarray], inputs: Mapping[str, np.ndarray]
                  ) -> np.ndarray:
    """Return the orders placed within the horizon per trial (first orders plus repeat orders).

    Repeat orders are the repeat revenue (repeat share x gross revenue) divided by the repeat
    order value; every new customer places one first order. Gross revenue / orders is the
    average order value of the break-even closed form.
    """
    repeat_revenue = np.nan_to_num(metrics["repeat_revenue_share"]) * metrics["gross_revenue"]
    return metrics["new_customers"] + repeat_revenue / as_inputs(inputs).orders.repeat_value


def _return_rate(inputs: Mapping[str, np.ndarray], days: np.ndarray | float) -> np.ndarray:
    """Return rate per trial at a guarantee length (sim/funnel.py `return_rate`)."""
    g = as_inputs(inputs).guarantee
    return funnel.return_rate(np.asarray(days, dtype=float), g.reference_days,
                              g.return_rate_at_reference, g.return_elasticity)


def _conversion_factor(inputs: Mapping[str, np.ndarray], days: np.ndarray | float) -> np.ndarray:
    """Conversion multiplier per trial at a guarantee length, relative to the reference length
    (sim/funnel.py `guarantee_conversion_factor`)."""
    g = as_inputs(inputs).guarantee
    return funnel.guarantee_conversion_factor(np.asarray(days, dtype=float), g.reference_days,
                                              g.conversion_elasticity)


# --------------------------------------------------------------------------------------------
# Several lengths on the same draws
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LengthRuns:
    """One scenario at several guarantee lengths, all on the same simulated futures.

    metrics[name] has shape (lengths, trials), rows in the order of `days`: return rate (share of
    orders), return and conversion multipliers relative to the current guarantee, money metrics
    over the horizon in $ (profit and net revenue after the refunds still owed, the *_in_horizon
    ones without them, see the module doc). timing[series][days] holds P10/P50/P90 per month
    of "refunds" and "open_liability".
    lead_conversion and leads_per_month describe the current guarantee's funnel per kept future:
    the share of leads who become customers over the horizon, and new leads per month.
    """

    days: tuple[int, ...]
    current_days: int
    trials: int
    seed: int
    horizon: int
    metrics: dict[str, np.ndarray]
    timing: dict[str, dict[int, dict[str, np.ndarray]]]
    lead_conversion: np.ndarray
    leads_per_month: np.ndarray

    def row(self, days: int) -> int:
        """Return the row of a length in `metrics` (KeyError if it was not run)."""
        try:
            return self.days.index(int(days))
        except ValueError:
            raise KeyError(f"guarantee length {days} days was not evaluated") from None

    def metric(self, name: str, days: int) -> np.ndarray:
        """Return one metric's per-trial values at one length."""
        return self.metrics[name][self.row(days)]


@dataclass(frozen=True)
class _LengthRow:
    """One length's share of `evaluate_lengths`: per-trial metrics, refund timing bands, and
    (current length only) the lead funnel."""

    metrics: dict[str, np.ndarray]
    timing: dict[str, dict[str, np.ndarray]]
    lead_funnel: dict[str, np.ndarray] | None


def evaluate_lengths(
    scenario: Scenario,
    days: Sequence[int],
    *,
    trials: int,
    seed: int,
    horizon: int | None = None,
    progress: Callable[[float], None] | None = None,
) -> LengthRuns:
    """Run the scenario at each guarantee length (plus its current one) on the same draws.

    The inputs are sampled once; only the ``guarantee.days`` array changes between lengths.
    Lengths are stacked along the trial axis of one engine call (grouped so the engine keeps
    every row's monthly series); with ``flows: random`` each length gets its own call so that
    the flow draws line up trial by trial too. Returns a `LengthRuns`.
    """
    current = int(scenario.guarantee.days)
    lengths = tuple(sorted({int(d) for d in days} | {current}))
    horizon = scenario.simulation.horizon_months if horizon is None else int(horizon)
    inputs = sample_inputs(scenario, trials, seed)
    rho_current = _return_rate(inputs, current)
    conversion_current = _conversion_factor(inputs, current)

    def summarise(part: StackedPart) -> _LengthRow:
        length = lengths[part.index]
        rho = _return_rate(inputs, length)
        metrics = {name: part.metrics[name] for name in ENGINE_METRICS}
        metrics |= {
            "return_rate": rho,
            "return_multiplier": np.divide(rho, rho_current, out=np.ones(trials),
                                           where=rho_current > 0),
            "conversion_multiplier": _conversion_factor(inputs, length) / conversion_current,
        }
        timing = {series: monthly_bands(part.monthly[series]) for series in TIMING_SERIES}
        lead_funnel = _lead_funnel(part.monthly, inputs) if length == current else None
        return _LengthRow(metrics, timing, lead_funnel)

    sets = [inputs.replaced({"guarantee.days": np.full(trials, float(length))})
            for length in lengths]
    rows = run_stacked(scenario, sets, summarise, seed=seed, horizon=horizon, keep_monthly=True,
                       progress=progress, metrics=ENGINE_METRICS)
    metrics = {name: np.stack([row.metrics[name] for row in rows]) for name in LENGTH_METRICS}
    timing = {series: {length: row.timing[series]
                       for length, row in zip(lengths, rows, strict=True)}
              for series in TIMING_SERIES}
    lead_funnel = rows[lengths.index(current)].lead_funnel or {}
    return LengthRuns(lengths, current, trials, seed, horizon, metrics, timing,
                      lead_funnel["lead_conversion"], lead_funnel["leads_per_month"])


def _lead_funnel(monthly: Mapping[str, np.ndarray], inputs: Mapping[str, np.ndarray]
                 ) -> dict[str, np.ndarray]:
    """Share of leads who become customers and new leads per month, per kept trial.

    The share counts every lead the horizon had (the starting warm leads plus the new ones) and
    every new customer they gave: the conversion an A/B test of leads would measure if it
    followed each lead until it buys or drops out.
    """
    new = monthly["new_customers"].sum(axis=1)
    leads = monthly["leads"]
    pool = as_inputs(inputs).market.warm_start[: len(new)] + leads.sum(axis=1)
    conversion = np.divide(new, pool, out=np.zeros_like(new), where=pool > 0)
    return {"lead_conversion": conversion, "leads_per_month": leads.mean(axis=1)}


# --------------------------------------------------------------------------------------------
# Break-even lift: closed forms, checked by the engine
# --------------------------------------------------------------------------------------------


def _lift_rows(point: Mapping[str, float], candidate_days: int, lifts: np.ndarray,
               multipliers: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Engine inputs, one row per (lift, multiplier): the current guarantee in row 0, then the
    candidate length with conversion multiplied by (1 + lift) and, when given, returns set to
    multiplier x the current guarantee's return rate.

    Conversion is moved through the two conversion rates rather than the elasticity (which is
    set to 0 everywhere): the engine multiplies their mix by the guarantee factor, so scaling
    both is the same thing and works even when a length equals the reference length. Returns
    are moved through the reference rate, which keeps each length's split between early and
    late refunds.
    """
    x = as_inputs(point)
    g = x.guarantee
    current = float(g.days)
    size = len(lifts) + 1
    rows = constant_inputs(point, size)
    factor_current = float(_conversion_factor(point, current))
    scale = factor_current * np.concatenate(([1.0], 1.0 + np.asarray(lifts, dtype=float)))
    rows["warm.conversion_no_spend"] = x.warm.conversion_no_spend * scale
    rows["warm.conversion_max"] = x.warm.conversion_max * scale
    rows["guarantee.conversion_elasticity"] = np.zeros(size)
    rows["guarantee.days"] = np.concatenate(([current], np.full(size - 1, float(candidate_days))))
    if multipliers is not None:
        rho_current = float(_return_rate(point, current))
        growth = funnel.guarantee_length_factor(candidate_days, g.reference_days,
                                                g.return_elasticity)
        wanted = np.minimum(1.0, rho_current * np.asarray(multipliers, dtype=float))
        rows["guarantee.return_rate_at_reference"] = np.concatenate(
            ([g.return_rate_at_reference], np.minimum(1.0, wanted / growth)))
    return rows


def _decision_rows(scenario: Scenario, rows: Mapping[str, np.ndarray], horizon: int,
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run the engine on rows; return (net revenue, profit, average order value), the money
    after the refunds still owed at the horizon (docs/model.md#refunds-owed-at-the-horizon)."""
    result = simulate(scenario, inputs=rows, horizon=horizon)
    revenue, profit = result.metrics["net_revenue"], result.metrics["profit"]
    orders = orders_placed(result.metrics, rows)
    order_value = np.divide(result.metrics["gross_revenue"], orders,
                            out=np.zeros_like(orders), where=orders > 0)
    return revenue, profit, order_value


def _zero_crossing(lifts: np.ndarray, gaps: np.ndarray) -> tuple[float, float] | float:
    """Bracket of the first sign change of gaps (rising), or +/-inf when there is none."""
    above = np.flatnonzero(gaps >= 0)
    if above.size == 0:
        return math.inf
    first = int(above[0])
    if first == 0:
        return -math.inf
    return float(lifts[first - 1]), float(lifts[first])


def _engine_break_even(scenario: Scenario, point: Mapping[str, float], candidate_days: int,
                       horizon: int) -> tuple[float, float]:
    """Conversion lifts at which the candidate matches the current guarantee in the engine,
    on (net revenue, profit) after the open liability; inf when no lift up to 400% does."""
    answers = []
    coarse = np.round(np.arange(-0.9, 4.0 + 1e-9, 0.01), 6)
    revenue, profit, _ = _decision_rows(
        scenario, _lift_rows(point, candidate_days, coarse), horizon)
    for values in (revenue, profit):
        bracket = _zero_crossing(coarse, values[1:] - values[0])
        if not isinstance(bracket, tuple):
            answers.append(bracket)
            continue
        # The gap is smooth and nearly linear in the lift: one finer pass, then interpolate.
        fine = np.linspace(bracket[0], bracket[1], 101)
        rows = _lift_rows(point, candidate_days, fine)
        fine_revenue, fine_profit, _ = _decision_rows(scenario, rows, horizon)
        fine_values = fine_revenue if values is revenue else fine_profit
        gaps = fine_values[1:] - fine_values[0]
        inner = _zero_crossing(fine, gaps)
        if not isinstance(inner, tuple):
            answers.append(float(fine[0] if inner == -math.inf else fine[-1]))
            continue
        low = int(np.searchsorted(fine, inner[0]))
        g0, g1 = gaps[low], gaps[low + 1]
        answers.append(float(fine[low] + (fine[low + 1] - fine[low]) * (-g0) / (g1 - g0)))
    return answers[0], answers[1]


@dataclass(frozen=True)
class BreakEven:
    """Conversion lift a guarantee length needs to do as well as the current one (fractions).

    Closed forms (`sim.analytics`) at the scenario's median inputs: revenue
    ``(1 - rho_current) / (1 - rho_candidate) - 1`` and its profit version at the average order
    value of the current guarantee's run. Engine: the lift at which the engine's net revenue and
    profit after the open liability match the current guarantee, on the same median inputs;
    it differs from the closed form when not every order scales with conversion (starting
    customers' repeat orders, leads used up, retention spend spread over more customers).
    """

    current_days: int
    candidate_days: int
    return_rate_current: float
    return_rate_candidate: float
    order_value: float
    revenue_closed_form: float
    profit_closed_form: float
    revenue_engine: float
    profit_engine: float


def break_even(scenario: Scenario, candidate_days: int, horizon: int | None = None
               ) -> BreakEven:
    """Return the break-even lifts of one length against the scenario's current guarantee."""
    horizon = scenario.simulation.horizon_months if horizon is None else int(horizon)
    point = point_inputs(scenario)
    current = int(scenario.guarantee.days)
    g = point.guarantee
    rho_current = return_rate_for_days(g.return_rate_at_reference, current, g.reference_days,
                                       g.return_elasticity)
    rho_candidate = return_rate_for_days(g.return_rate_at_reference, candidate_days,
                                         g.reference_days, g.return_elasticity)
    _, _, order_value = _decision_rows(
        scenario, _lift_rows(point, current, np.zeros(0)), horizon)
    profit_closed = break_even_lift_profit(
        float(order_value[0]), rho_current, rho_candidate, point.orders.gross_margin,
        g.resale_share, g.handling_cost)
    if int(candidate_days) == current:
        revenue_engine = profit_engine = 0.0
    else:
        revenue_engine, profit_engine = _engine_break_even(scenario, point, candidate_days,
                                                           horizon)
    return BreakEven(current, int(candidate_days), rho_current, rho_candidate,
                     float(order_value[0]), break_even_lift_revenue(rho_current, rho_candidate),
                     profit_closed, revenue_engine, profit_engine)


# --------------------------------------------------------------------------------------------
# The lift x return-multiplier map
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LiftReturnMap:
    """Profit difference of a guarantee length against the current one over a grid.

    lifts (x, fractions) and multipliers (y, x the current return rate); profit_difference has
    shape (multipliers, lifts), in $ over the horizon after the open liability, at the median
    inputs. break_even_closed_form: for each multiplier the profit break-even lift (closed form);
    break_even_engine: where the grid's difference crosses zero (NaN when not within the grid).
    """

    candidate_days: int
    lifts: np.ndarray
    multipliers: np.ndarray
    profit_difference: np.ndarray
    break_even_closed_form: np.ndarray
    break_even_engine: np.ndarray


def lift_return_map(
    scenario: Scenario,
    candidate_days: int,
    *,
    lifts: np.ndarray = MAP_LIFTS,
    multipliers: np.ndarray = MAP_MULTIPLIERS,
    horizon: int | None = None,
) -> LiftReturnMap:
    """Return the profit difference (candidate - current, after the open liability) on a grid
    of conversion lift x return multiplier, all cells in one engine call at the median inputs."""
    horizon = scenario.simulation.horizon_months if horizon is None else int(horizon)
    point = point_inputs(scenario)
    lift_grid, multiplier_grid = np.meshgrid(lifts, multipliers)
    rows = _lift_rows(point, candidate_days, lift_grid.ravel(), multiplier_grid.ravel())
    _, profit, order_value = _decision_rows(scenario, rows, horizon)
    difference = (profit[1:] - profit[0]).reshape(lift_grid.shape)
    rho_current = float(_return_rate(point, point.guarantee.days))
    closed = np.array([
        break_even_lift_profit(float(order_value[0]), rho_current,
                               min(1.0, rho_current * float(m)), point.orders.gross_margin,
                               point.guarantee.resale_share, point.guarantee.handling_cost)
        for m in multipliers])
    engine_line = np.full(len(multipliers), np.nan)
    for index, gaps in enumerate(difference):
        bracket = _zero_crossing(np.asarray(lifts, dtype=float), gaps)
        if isinstance(bracket, tuple):
            low = int(np.searchsorted(lifts, bracket[0]))
            g0, g1 = gaps[low], gaps[low + 1]
            engine_line[index] = lifts[low] + (lifts[low + 1] - lifts[low]) * (-g0) / (g1 - g0)
        elif bracket == -math.inf:
            engine_line[index] = float(lifts[0])
    return LiftReturnMap(int(candidate_days), np.asarray(lifts, dtype=float),
                         np.asarray(multipliers, dtype=float), difference, closed, engine_line)


# --------------------------------------------------------------------------------------------
# A/B test planner
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AbPlan:
    """Size of an A/B test of the guarantee: rates as fractions, leads per arm (rounded up),
    weeks of traffic for both arms at `leads_per_month`."""

    conversion_current: float
    conversion_candidate: float
    lift: float
    alpha: float
    power: float
    leads_per_arm: int
    leads_per_arm_exact: float
    leads_per_month: float
    weeks: float


def ab_plan(conversion_current: float, lift: float, leads_per_month: float,
            alpha: float = 0.05, power: float = 0.80) -> AbPlan:
    """Return the leads per arm and weeks needed to detect a relative conversion lift.

    Two-sided two-proportion test (`sim.analytics.ab_sample_size_per_arm`) of
    ``conversion_current`` against ``conversion_current * (1 + lift)``, two arms sharing the
    monthly leads. ValueError when the lift is 0, infinite or pushes conversion to 1 or above.
    """
    if not math.isfinite(lift) or lift == 0:
        raise ValueError(f"lift must be a finite non-zero fraction, got {lift!r}")
    candidate = conversion_current * (1.0 + lift)
    exact = ab_sample_size_per_arm(conversion_current, candidate, alpha=alpha, power=power)
    per_arm = math.ceil(exact)
    weeks = ab_weeks_needed(per_arm, leads_per_month)
    return AbPlan(conversion_current, candidate, lift, alpha, power, per_arm, exact,
                  leads_per_month, weeks)


# --------------------------------------------------------------------------------------------
# Returns desk (individual customers, SimPy)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeskStudy:
    """One run of the individual-customer model and the desk that meets a target wait.

    agents_needed: fewest agents whose 95th-percentile wait (hours) on this run's claims is at
    most target_wait_hours.
    """

    result: DesResult
    target_wait_hours: float
    agents_needed: int


def desk_study(
    inputs: Mapping[str, float],
    horizon_months: int,
    agents: int,
    service_hours_mean: float,
    target_wait_hours: float,
    seed: int,
    progress: Callable[[float], None] | None = None,
) -> DeskStudy:
    """Run `sim.des.run_des` with `agents` agents and find the agents a target P95 wait needs.

    A top-level function of plain, picklable arguments (run it in a worker process); `progress`
    may be any picklable callable taking the share done (for example a manager Value's `set`).
    """

    def report(fraction: float) -> None:
        if progress is not None:
            progress(0.75 * fraction)

    result = run_des(dict(inputs), horizon_months, agents, service_hours_mean, seed,
                     progress=report)
    needed = result.agents_needed(target_wait_hours, 0.95)
    if progress is not None:
        progress(1.0)
    return DeskStudy(result, float(target_wait_hours), int(needed))
