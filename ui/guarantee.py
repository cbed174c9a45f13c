"""Guarantee page helpers: cached runs, length names, the answer sentence, the desk worker.

The monthly engine runs in this process (NumPy releases the GIL). The individual-customer model
(`sim.guarantee.desk_study`, pure Python SimPy) would hold the GIL and stall every other session,
so it runs in one worker process shared by all sessions; the page polls the future and shows the
progress the worker reports through a manager value.
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import multiprocessing.spawn as mp_spawn
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.managers import SyncManager
from typing import Any

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from sim.cancel import CancellableProgress
from sim.des import DAYS_PER_MONTH, HOURS_PER_DAY, DesResult
from sim.guarantee import (
    FIVE_YEARS,
    SWEEP_DAYS,
    BreakEven,
    DeskStudy,
    LengthRuns,
    LiftReturnMap,
    ab_plan,
    break_even,
    desk_study,
    evaluate_lengths,
    lift_return_map,
)
from sim.metrics import Comparison, compare_paired, summarize
from sim.queueing import agents_for_target_wait
from sim.scenario import Scenario, variant_scenario
from ui import format as fmt
from ui import prefetch
from ui.charts import band_chart, bar_chart, heatmap_chart, line_chart
from ui.memo import LruTable
from ui.navigation import at_run_end
from ui.runs import SCENARIO_HASH, cached_run, single_flight
from ui.state import PageContext, page_params, share_query

#: Lengths named on the sweep's log axis.
AXIS_LENGTHS = {7: "1 wk", 30: "30 d", 90: "90 d", 365: "1 yr", 1825: "5 yr", 3650: "10 yr"}
#: Futures drawn as dots on the lift map, at most.
CLOUD_POINTS = 800
#: Desk runs kept for all sessions (each a few hundred kB).
DESK_RESULTS_KEPT = 24
#: Session state: this session has shown the page and asked for its neighbours before.
_PREFETCHED_KEY = "_guarantee_prefetched"
#: A desk run that takes longer than this is abandoned with a message (seconds).
DESK_TIMEOUT_S = 180.0


# --------------------------------------------------------------------------------------------
# Lengths in words
# --------------------------------------------------------------------------------------------


def length_label(days: int) -> str:
    """Return a guarantee length as people say it: 30 days, 1 year, 5 years, 180 days."""
    if days >= 365 and days % 365 == 0:
        years = days // 365
        return "1 year" if years == 1 else f"{years} years"
    return "1 day" if days == 1 else f"{days:,} days"


def length_adjective(days: int) -> str:
    """Return a length before a noun: a 30-day guarantee, a 5-year guarantee."""
    if days >= 365 and days % 365 == 0:
        return f"{days // 365}-year"
    return f"{days:,}-day"


def variant_lengths(scenario: Scenario) -> list[int]:
    """Return the guarantee lengths the scenario's variants try (other than its own)."""
    lengths = {variant_scenario(scenario, name).guarantee.days
               for name in scenario.variant_names()}
    return sorted(lengths - {scenario.guarantee.days})


def length_options(scenario: Scenario) -> list[int]:
    """Return the lengths a user may pick: the sweep, the current one and the variants'."""
    return sorted(set(SWEEP_DAYS) | {scenario.guarantee.days} | set(variant_lengths(scenario)))


def default_length(scenario: Scenario) -> int:
    """Return the length the page weighs by default: the longest variant, else five years."""
    variants = variant_lengths(scenario)
    if variants:
        return max(variants)
    return FIVE_YEARS if scenario.guarantee.days != FIVE_YEARS else 365


# --------------------------------------------------------------------------------------------
# Cached computations (pure work in sim.guarantee)
# --------------------------------------------------------------------------------------------


@cached_run(max_entries=16, show_spinner="Simulating each guarantee length on the same "
            "futures…", show_time=True, hash_funcs=SCENARIO_HASH)
def length_runs(scenario: Scenario, days: tuple[int, ...], seed: int, trials: int
                ) -> LengthRuns:
    """Return the scenario at these lengths (plus its current one) on the same draws."""
    return evaluate_lengths(scenario, days, trials=trials, seed=seed)


@cached_run(max_entries=32, show_spinner="Finding the break-even lift with the engine…",
            hash_funcs=SCENARIO_HASH)
def break_even_for(scenario: Scenario, days: int) -> BreakEven:
    """Return the break-even lifts of one length (closed forms and engine)."""
    return break_even(scenario, days)


@cached_run(max_entries=16, show_spinner="Mapping lift against returns…",
            hash_funcs=SCENARIO_HASH)
def lift_map_for(scenario: Scenario, days: int) -> LiftReturnMap:
    """Return the lift x return-multiplier map of one length."""
    return lift_return_map(scenario, days)


def prefetch_neighbours(context: PageContext, options: Sequence[int], chosen: int) -> int:
    """Have the lengths one slider step either side of `chosen` computed in the background
    (ui.prefetch), on this view's link otherwise: a presenter's next step finds them cached.
    Call after the page's widgets exist. Returns how many were queued."""
    index = list(options).index(chosen)
    params = page_params(bound_only=True)
    queries = [share_query(context, {**params, "guarantee_days": length_label(days)})
               for days in (*options[max(0, index - 1):index], *options[index + 1:index + 2])]
    # A page just opened draws for seconds after its run: wait longer than after a step.
    opened = not st.session_state.get(_PREFETCHED_KEY)
    st.session_state[_PREFETCHED_KEY] = True
    return prefetch.request("guarantee", queries,
                            prefetch.OPEN_PAUSE_S if opened else prefetch.STEP_PAUSE_S)


# --------------------------------------------------------------------------------------------
# The answer
# --------------------------------------------------------------------------------------------


def _lift_words(lift: float) -> str:
    if lift == float("inf"):
        return "more than a 400% conversion lift (no realistic lift)"
    if lift < 0:
        return f"a conversion fall of up to {fmt.share(-lift, 1)}"
    return f"a {fmt.share(lift, 1)} conversion lift"


def _short_lift(lift: float) -> str:
    if lift == float("inf"):
        return "no realistic lift"
    return f"a fall of up to {fmt.share(-lift, 1)}" if lift < 0 else fmt.share(lift, 1)


def guarantee_sentence(*, current: int, chosen: int, be: BreakEven, expected_lift: float,
                       profit: Comparison, revenue: Comparison, open_liability: float,
                       trials: int, horizon: int) -> str:
    """Return the page's decision for the chosen length against the current one (issue 13:
    the decision first, one risk clause, ~30 words). Profit counts the refunds still owed at
    the horizon; the average and the share of futures in which it pays are said apart. The
    break-even lifts, revenue and the refunds owed go to `guarantee_detail`."""
    keep = f"Keep the {length_adjective(current)} guarantee"
    if chosen == current:
        return (f"{keep}: it is the chosen length; pick another length above to see whether it "
                "wins more than it refunds.")
    if profit.p_tie >= 0.999 and revenue.p_tie >= 0.999:
        return (f"{keep}: a {length_adjective(chosen)} one makes no difference here, as the "
                "return and conversion elasticities are zero.")
    words = f"{fmt.horizon_words(horizon)} profit"
    odds = fmt.share(profit.p_beats)
    gain = fmt.money(abs(profit.diff_mean))
    other = f"the {length_adjective(chosen)} guarantee"
    futures = f"{trials:,} futures"
    if profit.diff_mean > 0 and profit.p_beats >= 0.5:
        return (f"Switch to {other}: it earns {gain} more {words} on average and pays in "
                f"{odds} of {futures}, after refunds still owed.")
    if profit.diff_mean > 0:
        return (f"Test {other} before switching: it earns {gain} more {words} on average but "
                f"pays in only {odds} of {futures}.")
    return (f"{keep}: a {length_adjective(chosen)} one earns {gain} less {words} on average "
            f"and pays in only {odds} of {futures}, after refunds still owed.")


def guarantee_detail(*, current: int, chosen: int, be: BreakEven, expected_lift: float,
                     revenue: Comparison, open_liability: float, trials: int,
                     horizon: int) -> str:
    """Return the answer's detail line: break-even lifts (engine and per-order formula), the
    lift the scenario expects, how often it pays on revenue and the refunds still owed."""
    if chosen == current:
        return (f"{length_label(current)}, {trials:,} futures, after refunds still owed at "
                f"month {horizon}.")
    needs = "needs" if be.revenue_engine >= 0 else "can afford"
    return (f"{length_label(chosen)} instead of {length_label(current)} {needs} "
            f"{_lift_words(be.revenue_engine)} to break even on revenue "
            f"({fmt.share(be.revenue_closed_form, 1)} by the per-order formula) and "
            f"{_short_lift(be.profit_engine)} on profit; the scenario expects a median "
            f"{fmt.share(expected_lift, 1, signed=True)}. It pays on revenue in "
            f"{fmt.share(revenue.p_beats)} of {trials:,} futures, counting the "
            f"{fmt.money(open_liability)} of refunds still owed after {horizon} months.")


# --------------------------------------------------------------------------------------------
# Tables and figures the page shows (pure; the page lays them out)
# --------------------------------------------------------------------------------------------


def pays(runs: LengthRuns, metric: str, days: int) -> Comparison:
    """Paired comparison of one length against the current guarantee on one metric."""
    return compare_paired(runs.metric(metric, days), runs.metric(metric, runs.current_days))


def desk_agents_for(runs: LengthRuns, days: int, order_value: float, service_hours: float,
                    target_wait: float) -> int:
    """Return the returns desk agents a length needs (Erlang C, M/M/c, desk open round the
    clock): the fewest whose P95 wait stays under `target_wait` hours at the busiest month's
    median claim rate. `order_value` in $ per order, `service_hours` per claim."""
    peak_claims_per_day = (float(np.max(runs.timing["refunds"][days]["p50"]))
                           / order_value / DAYS_PER_MONTH)
    return agents_for_target_wait(peak_claims_per_day / HOURS_PER_DAY, 1.0 / service_hours,
                                  target_wait, 0.95)


def lengths_table(scenario: Scenario, runs: LengthRuns, compared: tuple[int, ...], chosen: int,
                  service_hours: float, target_wait: float) -> pd.DataFrame:
    """Return the compared lengths side by side (one column each): return rate, conversion,
    break-even lifts, profit change, how often each pays, refunds still owed, desk agents."""
    current_days, horizon = runs.current_days, runs.horizon
    variants = set(variant_lengths(scenario))

    def role(days: int) -> str:
        """How a compared length got into the table."""
        parts = (["current"] if days == current_days else []) + (
            ["chosen"] if days == chosen else []) + (["variant"] if days in variants else [])
        return f"{length_label(days)} ({', '.join(parts)})"

    rows = []
    for days in compared:
        length_be = break_even_for(scenario, days)
        profit_cmp = pays(runs, "profit", days)
        within_cmp = pays(runs, "profit_in_horizon", days)
        revenue_cmp = pays(runs, "net_revenue", days)
        conversion = summarize(runs.metric("conversion_multiplier", days) - 1.0)
        owed = summarize(runs.metric("open_guarantee_liability", days))
        gain = summarize(runs.metric("profit", days) - runs.metric("profit", current_days))
        desk = desk_agents_for(runs, days, length_be.order_value, service_hours, target_wait)
        is_current = days == current_days
        rows.append({
            "Guarantee": role(days),
            "Return rate": fmt.share(float(np.median(runs.metric("return_rate", days))), 1),
            "Conversion vs current (median, P10–P90)": (
                "—" if is_current else f"{fmt.share(conversion.p50, 1, signed=True)} "
                f"({fmt.share(conversion.p10, 1, signed=True)} to "
                f"{fmt.share(conversion.p90, 1, signed=True)})"),
            "Break-even lift: revenue (formula / engine)": (
                "—" if is_current else f"{fmt.share(length_be.revenue_closed_form, 1)} / "
                f"{fmt.share(length_be.revenue_engine, 1)}"),
            "Break-even lift: profit (formula / engine)": (
                "—" if is_current else f"{fmt.share(length_be.profit_closed_form, 1)} / "
                f"{fmt.share(length_be.profit_engine, 1)}"),
            "Profit change vs current (median)": "—" if is_current else fmt.money(gain.p50, True),
            "Pays on profit": "—" if is_current else (
                f"{fmt.share(profit_cmp.p_beats)} ({fmt.share(profit_cmp.p_beats_low)}–"
                f"{fmt.share(profit_cmp.p_beats_high)})"),
            "Pays on profit ignoring refunds owed": (
                "—" if is_current else fmt.share(within_cmp.p_beats)),
            "Pays on revenue": "—" if is_current else fmt.share(revenue_cmp.p_beats),
            f"Refunds still owed at month {horizon} (median, P10–P90)": (
                f"{fmt.money(owed.p50)} ({fmt.money(owed.p10)} to {fmt.money(owed.p90)})"),
            "Desk agents (Erlang C, busiest month)": f"{desk:,}",
        })
    return pd.DataFrame(rows).set_index("Guarantee").T


def _bands_of(values: np.ndarray) -> dict[str, np.ndarray]:
    """P10 / median / P90 over futures, one value per length (values: lengths x trials)."""
    p10, p50, p90 = np.percentile(values, [10, 50, 90], axis=1)
    return {"p10": p10, "p50": p50, "p90": p90}


def sweep_charts(sweep: LengthRuns, chosen: int) -> list[alt.Chart]:
    """Return the sweep's six charts (two per row): return rate, conversion multiplier, net
    revenue and profit change against the current guarantee (after refunds still owed and
    within the horizon only), refunds still owed, and the share of futures in which it pays."""
    lengths = np.asarray(sweep.days, dtype=float)
    labels = {days: text for days, text in AXIS_LENGTHS.items()
              if lengths[0] <= days <= lengths[-1]}
    base_row = sweep.row(sweep.current_days)

    def change(metric: str) -> np.ndarray:
        """Per-future change of a metric against the current guarantee (lengths x trials)."""
        return sweep.metrics[metric] - sweep.metrics[metric][base_row]

    others = np.flatnonzero(lengths != sweep.current_days)

    def share_paying(metric: str) -> np.ndarray:
        """Share of futures in which each length (other than the current) beats the current."""
        return np.array([compare_paired(sweep.metrics[metric][i],
                                        sweep.metrics[metric][base_row]).p_beats
                         for i in others])

    x_title = "Guarantee length (log scale)"
    common = {"log_x": True, "x_labels": labels, "mark_x": chosen, "height": 320}
    after, horizon_only = "after refunds still owed", "within the horizon only"
    return [
        band_chart(lengths, {"Return rate": _bands_of(sweep.metrics["return_rate"])}, x_title,
                   "Share of orders", "share", title="Return rate", **common),
        band_chart(lengths, {"Conversion": _bands_of(sweep.metrics["conversion_multiplier"])},
                   x_title, "× current conversion", "ratio",
                   title="Conversion multiplier vs current", reference=1.0, y_zero=False,
                   **common),
        band_chart(lengths, {after: _bands_of(change("net_revenue")),
                             horizon_only: _bands_of(change("net_revenue_in_horizon"))},
                   x_title, "$ vs current", "money", title="Net revenue change vs current",
                   reference=0.0, **common),
        band_chart(lengths, {after: _bands_of(change("profit")),
                             horizon_only: _bands_of(change("profit_in_horizon"))},
                   x_title, "$ vs current", "money", title="Profit change vs current",
                   reference=0.0, **common),
        band_chart(lengths,
                   {"Refunds still owed": _bands_of(sweep.metrics["open_guarantee_liability"])},
                   x_title, "$", "money", title=f"Refunds still owed at month {sweep.horizon}",
                   **common),
        line_chart(lengths[others], {"on profit": share_paying("profit"),
                                     "on revenue": share_paying("net_revenue")},
                   x_title, "Share of futures", "share", title="It pays (after refunds still owed)",
                   y_domain=(0.0, 1.0), log_x=True, x_labels=labels, height=320),
    ]


def lift_map_chart(scenario: Scenario, runs: LengthRuns, chosen: int) -> alt.Chart:
    """Return the lift x return-multiplier map of the chosen length (profit change against the
    current guarantee at median inputs), its break-even lines and a cloud of the futures' own
    lift and return multiplier (at most CLOUD_POINTS of them)."""
    lift_map = lift_map_for(scenario, chosen)
    draws_lift = runs.metric("conversion_multiplier", chosen) - 1.0
    draws_multiplier = runs.metric("return_multiplier", chosen)
    step = max(1, len(draws_lift) // CLOUD_POINTS)
    return heatmap_chart(
        lift_map.lifts, lift_map.multipliers, lift_map.profit_difference,
        "Conversion lift vs current", "Return rate multiplier vs current (×)",
        "Profit change ($)",
        lines={"break-even: per-order formula": (lift_map.break_even_closed_form,
                                                lift_map.multipliers),
               "break-even: engine": (lift_map.break_even_engine, lift_map.multipliers)},
        points=(draws_lift[::step], draws_multiplier[::step]),
        points_label="this scenario's futures")


def ab_traffic(runs: LengthRuns) -> tuple[float, float]:
    """Return the A/B test's traffic under the current guarantee: the share of leads who become
    customers and new leads a month (medians over futures)."""
    return float(np.median(runs.lead_conversion)), float(np.median(runs.leads_per_month))


def ab_plan_table(runs: LengthRuns, be: BreakEven, typed_lift: float, alpha: float,
                  power: float) -> pd.DataFrame:
    """Return the A/B test plan for the break-even lifts (and a typed lift when above 0): leads
    per arm and weeks at the traffic of `ab_traffic`."""
    conversion, leads = ab_traffic(runs)
    targets = [("Revenue break-even (engine)", be.revenue_engine),
               ("Profit break-even (engine)", be.profit_engine)]
    if typed_lift > 0:
        targets.append(("Your lift", typed_lift))
    plan_rows = []
    for name, lift in targets:
        if not np.isfinite(lift) or lift <= 0 or conversion * (1 + lift) >= 1:
            plan_rows.append({"Lift to detect": name, "Lift": fmt.share(lift, 1),
                              "Conversion A → B": "—", "Leads per arm": "—",
                              "Weeks (both arms)": "nothing to detect" if lift <= 0 else "—"})
            continue
        plan = ab_plan(conversion, lift, leads, alpha=alpha, power=power)
        plan_rows.append({
            "Lift to detect": name, "Lift": fmt.share(lift, 1),
            "Conversion A → B": f"{fmt.share(plan.conversion_current, 2)} → "
                                f"{fmt.share(plan.conversion_candidate, 2)}",
            "Leads per arm": fmt.count(plan.leads_per_arm),
            "Weeks (both arms)": f"{plan.weeks:,.1f}"})
    return pd.DataFrame(plan_rows)


def show_desk_figures(study: DeskStudy, mean_orders: float, agents: int, target_wait: float,
                      horizon: int) -> None:
    """Draw the desk study's five figures: agents needed for the target P95 wait (hours), the
    waits with `agents` agents, claims over `horizon` months and the customers' orders."""
    result = study.result
    tiles = st.columns(5)
    tiles[0].metric("Agents for the target wait", f"{study.agents_needed:,}",
                    help=f"Fewest agents whose P95 wait on these claims is at most "
                         f"{target_wait:g} hours.")
    tiles[1].metric("Wait P50 / P95", f"{result.wait_hours_p50:.1f} h / "
                    f"{result.wait_hours_p95:.1f} h",
                    help=f"With {agents:,} agent{'s' if agents != 1 else ''}; desk utilisation "
                         f"{fmt.share(result.desk_utilisation)}.")
    tiles[2].metric(f"Claims in {horizon} months", fmt.count(result.claims),
                    help=f"Busiest day: {fmt.money(float(result.daily_refunds.max()))} refunded.")
    tiles[3].metric("Orders per customer", f"{mean_orders:.2f}",
                    help="Average over customers who ordered at least once in the horizon.")
    tiles[4].metric("Revenue, 3+ orders", fmt.share(result.revenue_share_three_plus_orders),
                    help="Share of revenue from customers with three or more orders.")


def desk_charts(result: DesResult) -> tuple[float, alt.Chart, alt.Chart]:
    """Return the desk run's mean orders per ordering customer, its daily refund chart (with
    a 30-day, one-month, average) and its orders-per-customer bars (10 and more in one bar)."""
    orders = result.orders_per_customer
    buyers = orders[1:].sum()
    mean_orders = (float((np.arange(len(orders)) * orders).sum() / buyers) if buyers > 0
                   else float("nan"))
    days_axis = np.arange(1, len(result.daily_refunds) + 1)
    month_average = np.convolve(result.daily_refunds,
                                np.full(DAYS_PER_MONTH, 1 / DAYS_PER_MONTH),
                                mode="full")[: len(result.daily_refunds)]
    refunds = line_chart(days_axis, {"each day": result.daily_refunds,
                                     "30-day average": month_average},
                         "Day", "$ per day", "money", title="Daily refund cash flow",
                         height=300)
    top_orders = 10
    counts = np.concatenate((orders[1:top_orders], [orders[top_orders:].sum()]))
    bars = bar_chart([*(str(n) for n in range(1, top_orders)), f"{top_orders}+"], counts,
                     f"Orders in {result.horizon_months} months", "Customers", "count",
                     title="Orders per customer", height=300)
    return mean_orders, refunds, bars


# --------------------------------------------------------------------------------------------
# The returns desk in a worker process
# --------------------------------------------------------------------------------------------


@dataclass
class _DeskWorker:
    pool: ProcessPoolExecutor
    manager: SyncManager


#: Held while this module starts child processes (it patches how multiprocessing prepares them).
_SPAWN_LOCK = threading.Lock()


@contextmanager
def _children_without_main() -> Iterator[None]:
    """Start child processes without running the app's script in them.

    A spawned child re-imports the parent's ``__main__`` from its file, and Streamlit installs
    each page script it runs as ``__main__``, in every session, at any moment: a child started
    while any session's run began would run the whole app again, headless, start-up warm-up
    included (measured under load: the worker recomputed 16 of the warm-up's simulations).
    Swapping ``__main__`` for the moment of the start was not enough, since another session's
    run could swap it back. Here the preparation data that multiprocessing hands each child
    leaves the main module out, so children import only what their tasks need.
    """
    original = mp_spawn.get_preparation_data

    def without_main(name: str) -> dict[str, Any]:
        data = original(name)
        data.pop("init_main_from_path", None)
        data.pop("init_main_from_name", None)
        return data

    with _SPAWN_LOCK:
        mp_spawn.get_preparation_data = without_main
        try:
            yield
        finally:
            mp_spawn.get_preparation_data = original


@st.cache_resource(show_spinner="Starting the worker process for the customer model…")
def _desk_worker() -> _DeskWorker:
    """One worker process for every session (max_workers=1: desk runs queue, the app stays
    responsive). Spawned, not forked: forking a threaded server process is unsafe."""
    context = multiprocessing.get_context("spawn")
    with _children_without_main():
        manager = context.Manager()
        pool = ProcessPoolExecutor(max_workers=1, mp_context=context,
                                   initializer=importlib.import_module,
                                   initargs=("sim.guarantee",))
        # The pool starts its process on the first submit: do it now, without the script.
        pool.submit(int)
    return _DeskWorker(pool, manager)


@st.cache_resource
def _desk_store() -> LruTable:
    """Finished desk runs shared by all sessions (least recently used dropped first)."""
    return LruTable(DESK_RESULTS_KEPT)


#: Session state slot of the desk run this page run started early (`start_desk`).
_DESK_JOB = "_guarantee_desk_job"
#: Seconds between progress updates while the page waits for the desk (the wait itself ends
#: as soon as the run does).
_DESK_POLL_S = 0.1


@dataclass
class _DeskJob:
    """A desk run submitted to the worker: its settings' key, result and progress proxies."""

    key: tuple
    future: Future[DeskStudy]
    done: Any
    cancelled: Any

    def stop(self) -> None:
        """Stop the run at its next progress report, or drop it from the worker's queue."""
        if not self.future.done():
            with contextlib.suppress(OSError, EOFError):
                self.cancelled.set()
            self.future.cancel()


def _desk_key(inputs: Mapping[str, float], horizon: int, agents: int, service_hours: float,
              target_wait_hours: float, seed: int) -> tuple:
    return (tuple(sorted((path, float(value)) for path, value in inputs.items())), int(horizon),
            int(agents), float(service_hours), float(target_wait_hours), int(seed))


def _submit(key: tuple, inputs: Mapping[str, float], horizon: int, agents: int,
            service_hours: float, target_wait_hours: float, seed: int) -> _DeskJob:
    """Queue a desk run on the worker process (started if need be). Raises BrokenProcessPool,
    EOFError or OSError when the worker or its progress manager is gone."""
    # One worker for all sessions: Streamlit's cache does not merge simultaneous misses.
    with single_flight("returns-desk-worker"):
        worker = _desk_worker()
    done = worker.manager.Value("d", 0.0)
    cancelled = worker.manager.Event()
    future = worker.pool.submit(
        desk_study, dict(inputs), int(horizon), int(agents), float(service_hours),
        float(target_wait_hours), int(seed), CancellableProgress(done, cancelled))
    return _DeskJob(key, future, done, cancelled)


def start_desk(inputs: Mapping[str, float], horizon: int, agents: int, service_hours: float,
               target_wait_hours: float, seed: int) -> None:
    """Start the desk study for these settings in the worker process now, unless it is
    stored, so that it runs while the page draws the sections above the desk; `run_desk`
    with the same settings then waits for it. The run is stopped when this page run ends
    without having waited for it (a rerun, the session closing), so it never holds the worker
    for a page nobody looks at. If the worker cannot take it, `run_desk` says why."""
    key = _desk_key(inputs, horizon, agents, service_hours, target_wait_hours, seed)
    st.session_state.pop(_DESK_JOB, None)
    if _desk_store().get(key) is not None:
        return
    try:
        job = _submit(key, inputs, horizon, agents, service_hours, target_wait_hours, seed)
    except (BrokenProcessPool, EOFError, OSError, RuntimeError):
        return
    if not at_run_end(job.stop):  # outside app.py's page run nothing would stop it
        job.stop()
        return
    st.session_state[_DESK_JOB] = job


def run_desk(inputs: Mapping[str, float], horizon: int, agents: int, service_hours: float,
             target_wait_hours: float, seed: int) -> DeskStudy | None:
    """Return the desk study for these settings: stored, the run `start_desk` began, or run
    now in the worker process.

    Shows a progress bar while the worker runs; returns None (after showing why) when the
    worker fails or takes longer than DESK_TIMEOUT_S.
    """
    key = _desk_key(inputs, horizon, agents, service_hours, target_wait_hours, seed)
    store = _desk_store()
    found = store.get(key)
    job: _DeskJob | None = st.session_state.pop(_DESK_JOB, None)
    if found is not None:
        return found
    bar = st.progress(0.0, text="Simulating individual customers and the returns desk in a "
                      "worker process…")
    try:
        if job is None or job.key != key or job.future.cancelled():
            job = _submit(key, inputs, horizon, agents, service_hours, target_wait_hours, seed)
        started = time.monotonic()
        while not wait([job.future], timeout=_DESK_POLL_S).done:
            if time.monotonic() - started > DESK_TIMEOUT_S:
                st.warning(f"The customer model took longer than {DESK_TIMEOUT_S:.0f} s and "
                           "was abandoned; try fewer agents' worth of claims or a shorter "
                           "horizon.")
                return None
            fraction = min(1.0, max(0.0, float(job.done.get())))
            bar.progress(fraction, text=f"Simulating individual customers and the returns "
                         f"desk in a worker process… {fraction:.0%}")
        study = job.future.result()
    except (BrokenProcessPool, EOFError, OSError):
        # The worker or its progress manager died (ConnectionError is an OSError).
        _desk_worker.clear()
        st.error("The worker process running the customer model stopped unexpectedly; reload "
                 "the page to start a new one.")
        return None
    finally:
        # Leaving early (the session ended, a rerun, a timeout): stop the worker's run so it
        # is free for the sessions still open.
        if job is not None:
            job.stop()
        bar.empty()
    store.put(key, study)
    return study
