"""A monthly spend sheet: parsing, the engine replayed over it and the fitted parameters.

The model is the engine itself (docs/calibration.md): each month of the history is one month of
`sim.engine.simulate` with that month's spends, the state (prospects not yet reached, warm
leads, active customers) carried from the month before. Only the warm leads' decay, which the
engine does not report, is carried here, with the engine's equation.

The fit, its bootstrap and the backtest are in `sim.calibrate.history_fit`: parameters are
fitted by weighted least squares (Pearson residuals of each observed monthly
count, a Levenberg-Marquardt solver that fits many data sets at once along the engine's trial
axis), with a weak normal prior (sd PRIOR_SD on the logit / log scale) around the scenario's own
values so that a parameter the data cannot see stays where it was and is reported as not
identified. Uncertainty: a parametric bootstrap; B histories drawn from the fitted model with
random flows (whole customers), each refitted by one Gauss-Newton step from the fit; the
observed residuals' excess over the simulated ones widens the noise (overdispersion).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import special

from sim.calibrate.files import (
    CalibrationFileError,
    Column,
    cell,
    csv_rows,
    decode_text,
    find_columns,
    limited,
    number_problem,
    read_month,
)
from sim.distributions import point_inputs, stream
from sim.engine import MONTHLY_TRIALS_KEPT, simulate
from sim.scenario import Scenario

MAX_HISTORY_BYTES = 200_000
MAX_HISTORY_MONTHS = 240
#: Months the fit needs at least (after the held-out ones).
MIN_FIT_MONTHS = 12

SPENDS = ("spend_cold", "spend_warm", "spend_hot")
SERIES = ("leads", "new_customers", "active_customers", "repeat_orders", "orders_returned")
SERIES_LABELS: dict[str, str] = {
    "leads": "Leads", "new_customers": "New customers", "active_customers": "Active customers",
    "repeat_orders": "Repeat orders", "orders_returned": "Orders returned"}
_ENGINE_SERIES = {"leads": "leads", "new_customers": "new_customers",
                  "active_customers": "active_customers", "repeat_orders": "repeat_orders",
                  "orders_returned": "refunds"}

COLUMNS: tuple[Column, ...] = (
    Column("the month", ("month", "date", "period")),
    Column("spend_cold", ("spend_cold", "cold_spend", "cold")),
    Column("spend_warm", ("spend_warm", "warm_spend", "warm")),
    Column("spend_hot", ("spend_hot", "hot_spend", "hot", "retention_spend")),
    Column("impressions", ("impressions",), required=False),
    Column("leads", ("leads", "new_leads"), required=False),
    Column("new_customers", ("new_customers", "customers_new", "new_buyers"), required=False),
    Column("active_customers", ("active_customers", "customers_active", "active"),
           required=False),
    Column("repeat_orders", ("repeat_orders", "orders_repeat", "repeats"), required=False),
    Column("orders_returned", ("orders_returned", "returned_orders", "returns"),
           required=False),
)


@dataclass(frozen=True)
class History:
    """Monthly history: month labels (YYYY-MM), spends (months, 3: cold, warm, hot) in
    currency, impressions (None when not given) and the observed series given."""

    months: tuple[str, ...]
    spend: np.ndarray
    impressions: np.ndarray | None
    series: dict[str, np.ndarray]

    def head(self, months: int) -> History:
        """Return the first `months` months."""
        return History(self.months[:months], self.spend[:months],
                       None if self.impressions is None else self.impressions[:months],
                       {name: values[:months] for name, values in self.series.items()})


def parse_history(data: bytes) -> History:
    """Read a monthly history from CSV bytes; CalibrationFileError naming row and column.

    One row per month, oldest first, no month missing; spends required, the rest optional.
    """
    rows = csv_rows(decode_text(data, MAX_HISTORY_BYTES, "monthly history"))
    if len(rows) < 2:
        raise CalibrationFileError(["the file needs a header row and at least one month"])
    if len(rows) - 1 > MAX_HISTORY_MONTHS:
        raise CalibrationFileError([f"the file has {len(rows) - 1:,} rows; at most "
                                    f"{MAX_HISTORY_MONTHS} months are supported"])
    header = [text.strip() for text in rows[0][1]]
    found = find_columns(header, COLUMNS)
    numbers = [name for name in (*SPENDS, "impressions", *SERIES) if name in found]
    values: dict[str, list[float]] = {name: [] for name in numbers}
    months: list[str] = []
    problems: list[str] = []
    previous: tuple[int, int, int] | None = None
    for number, row in rows[1:]:
        if limited(problems):
            break
        text = cell(row, found["the month"])
        try:
            year, month = read_month(text)
        except ValueError:
            problems.append(f"row {number}, column '{header[found['the month']]}': "
                            f"{text[:40]!r} is not a month; write 2025-03 or 2025-03-01")
            continue
        index = year * 12 + month - 1
        if previous is not None and index != previous[0] + 1:
            if index <= previous[0]:
                what = "repeats or goes back from"
            else:
                gap = index - previous[0] - 1
                what = f"skips {gap} month{'s' if gap > 1 else ''} after"
            problems.append(f"row {number}, column '{header[found['the month']]}': "
                            f"{year}-{month:02d} {what} {_label(previous[0])} (row "
                            f"{previous[1]}); one row per month, oldest first, none missing")
        previous = (index, number, 0)
        months.append(f"{year}-{month:02d}")
        for name in numbers:
            what = "an amount of 0 or more" if name in SPENDS else "a count of 0 or more"
            value, problem = number_problem(cell(row, found[name]), header[found[name]],
                                            number, what)
            if problem:
                problems.append(problem)
            values[name].append(value or 0.0)
    if problems:
        raise CalibrationFileError(problems)
    spend = np.column_stack([np.asarray(values[name]) for name in SPENDS])
    impressions = np.asarray(values["impressions"]) if "impressions" in values else None
    series = {name: np.asarray(values[name]) for name in SERIES if name in values}
    return History(tuple(months), spend, impressions, series)


def _label(index: int) -> str:
    return f"{index // 12}-{index % 12 + 1:02d}"


# --------------------------------------------------------------------------------------------
# The engine replayed over the history.


def base_values(scenario: Scenario) -> dict[str, float]:
    """Return the scenario's medians as replay inputs: constant churn (an sBG scenario's
    first-month churn alpha / (alpha + beta)), no late returns, order values of 1 (so refunds
    count returned orders)."""
    values = point_inputs(scenario)
    alpha = values.pop("hot.churn.sbg.alpha", None)
    beta = values.pop("hot.churn.sbg.beta", None)
    if alpha is not None and beta is not None:
        values["hot.churn.monthly"] = alpha / (alpha + beta)
    values["guarantee.days"] = values["guarantee.reference_days"]
    values["orders.first_value"] = values["orders.repeat_value"] = 1.0
    values["budget.growth_monthly"] = 0.0
    return values


def _one_month(settings: Scenario, inputs: dict[str, np.ndarray], seed: int
               ) -> dict[str, np.ndarray]:
    """Run one engine month for every trial (in blocks the engine keeps monthly series of)."""
    n = len(inputs["budget.monthly"])
    out = {name: np.empty(n) for name in _ENGINE_SERIES.values()}
    for start in range(0, n, MONTHLY_TRIALS_KEPT):
        stop = min(n, start + MONTHLY_TRIALS_KEPT)
        part = {path: values[start:stop] for path, values in inputs.items()}
        result = simulate(settings, inputs=part, horizon=1, seed=seed + start)
        for name in out:
            out[name][start:stop] = result.monthly[name][:, 0]
    return out


def replay(history: History, values: Mapping[str, np.ndarray], *, random: bool = False,
           seed: int = 0) -> dict[str, np.ndarray]:
    """Replay the history's spends through the engine month by month.

    `values`: engine inputs (arrays over trials, as `base_values` broadcast); random=True draws
    whole-customer flows (seeded by `seed`). Returns each series of SERIES as (trials, months).
    """
    settings = Scenario.model_validate(
        {"simulation": {"flows": "random" if random else "expected"}})
    n = len(next(iter(values.values())))
    inputs = {path: np.broadcast_to(np.asarray(v, dtype=float), (n,)).copy()
              for path, v in values.items()}
    prospects = inputs["market.prospects"].copy()
    warm = inputs["market.warm_start"].copy()
    active = inputs["market.customers_start"].copy()
    if random:
        prospects, warm, active = np.rint(prospects), np.rint(warm), np.rint(active)
    cpm = inputs["cold.cost_per_thousand"].copy()
    months = len(history.months)
    out = {name: np.empty((n, months)) for name in SERIES}
    for t in range(months):
        cold, warm_spend, hot = history.spend[t]
        total = cold + warm_spend + hot
        shares = (cold / total, warm_spend / total, hot / total) if total > 0 else (1 / 3,) * 3
        inputs["budget.monthly"] = np.full(n, total)
        for key, share in zip(("cold", "warm", "hot"), shares, strict=True):
            inputs[f"budget.split.{key}"] = np.full(n, share)
        if history.impressions is not None:
            shown = history.impressions[t]
            # Impressions bought at that month's price (none without cold spend).
            inputs["cold.cost_per_thousand"] = np.full(
                n, cold / shown * 1000.0 if shown > 0 and cold > 0 else np.inf)
        else:
            inputs["cold.cost_per_thousand"] = cpm
        inputs["market.prospects"] = prospects
        inputs["market.warm_start"] = warm
        inputs["market.customers_start"] = active
        month = _one_month(settings, inputs, seed + 7919 * t)
        for name, engine_name in _ENGINE_SERIES.items():
            out[name][:, t] = month[engine_name]
        leads, new = month["leads"], month["new_customers"]
        keep = 1.0 - inputs["cold.lead_decay_monthly"]
        if random:
            rng = stream(seed, f"history/decay/{t}")
            kept = rng.binomial(np.maximum(np.rint(warm - new), 0).astype(np.int64),
                                np.clip(keep, 0.0, 1.0)).astype(float)
        else:
            kept = (warm - new) * keep
        warm = kept + leads
        prospects = prospects - leads
        active = month["active_customers"]
    return out


# --------------------------------------------------------------------------------------------
# Fitted parameters and their scales.


@dataclass(frozen=True)
class Parameter:
    """A fitted engine input: dotted path, scale (logit, log, or gap: a ceiling above `floor`,
    fitted as logit((value - floor) / (1 - floor))) and the series it needs."""

    path: str
    scale: str
    needs: tuple[str, ...]
    floor: str | None = None


PARAMETERS: tuple[Parameter, ...] = (
    Parameter("cold.engagement_rate", "logit", ("leads",)),
    Parameter("warm.conversion_no_spend", "logit", ("new_customers",)),
    Parameter("warm.conversion_max", "gap", ("new_customers",), "warm.conversion_no_spend"),
    Parameter("warm.spend_scale", "log", ("new_customers",)),
    Parameter("market.warm_start", "log", ("new_customers",)),
    Parameter("hot.churn.monthly", "logit", ("active_customers",)),
    Parameter("market.customers_start", "log", ("active_customers",)),
    Parameter("hot.repeat_no_spend", "logit", ("active_customers", "repeat_orders")),
    Parameter("hot.repeat_max", "gap", ("active_customers", "repeat_orders"),
              "hot.repeat_no_spend"),
    Parameter("hot.spend_scale", "log", ("active_customers", "repeat_orders")),
    Parameter("guarantee.return_rate_at_reference", "logit", ("orders_returned",)),
)


def fitted_parameters(history: History) -> tuple[Parameter, ...]:
    """Return the parameters the history's columns can inform."""
    return tuple(p for p in PARAMETERS if all(name in history.series for name in p.needs))


def to_scale(parameters: tuple[Parameter, ...], values: Mapping[str, np.ndarray | float]
             ) -> np.ndarray:
    """Return natural values as the solver's unbounded coordinates, shape (n, parameters)."""
    columns = []
    for p in parameters:
        v = np.asarray(values[p.path], dtype=float)
        if p.scale == "log":
            columns.append(np.log(np.maximum(v, 1e-300)))
        else:
            if p.scale == "gap":
                floor = np.asarray(values[p.floor], dtype=float)
                v = (v - floor) / np.maximum(1.0 - floor, 1e-12)
            columns.append(special.logit(np.clip(v, 1e-9, 1.0 - 1e-9)))
    return np.atleast_2d(np.column_stack(columns))


def from_scale(parameters: tuple[Parameter, ...], u: np.ndarray) -> dict[str, np.ndarray]:
    """Return the natural values of coordinates u (n, parameters), keyed by path."""
    out: dict[str, np.ndarray] = {}
    for j, p in enumerate(parameters):
        if p.scale == "log":
            out[p.path] = np.exp(np.minimum(u[:, j], 700.0))
        elif p.scale == "logit":
            out[p.path] = special.expit(u[:, j])
        else:
            floor = out[p.floor]
            out[p.path] = floor + (1.0 - floor) * special.expit(u[:, j])
    return out


def draw_histories(design: History, values: Mapping[str, float], count: int, seed: int,
                   series: tuple[str, ...] = SERIES) -> np.ndarray:
    """Return `count` histories drawn from the engine with random flows at `values` over the
    design's spends (and impressions): shape (count, months, len(series))."""
    drawn = replay(design, {path: np.full(count, value) for path, value in values.items()},
                   random=True, seed=seed)
    return np.stack([drawn[name] for name in series], axis=-1)
