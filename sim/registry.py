"""The metric registry: every number the engine and the analyses report, named once.

Each per-trial metric (the engine's METRIC_NAMES plus the analyses' derived ones) and each
monthly series (the engine's MONTHLY_NAMES) has one entry here with its label, short label,
unit, which direction is better, whether refunds still owed after the horizon are counted, its
horizon and a one-line description (docs/model.md, "Metrics"). The command line, the pages,
the sentences and the CSV/JSON outputs read these entries; none keeps its own copy.

Metrics and monthly series are two separate name spaces: "profit" the metric is the total over
the horizon, "profit" the series is each month's profit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from sim.engine import CLV_MONTHS, EARLY_REPEAT_MONTHS

Unit = Literal["money", "money_per_customer", "count", "share", "ratio", "months"]
Better = Literal["higher", "lower", "neither"]

#: Horizon wordings (the `horizon` field): what period a number covers.
OVER_HORIZON = "over the horizon"
AT_HORIZON = "at the horizon"
PER_MONTH = "per month"
AT_MONTH_END = "at the end of each month"
OVER_CLV = f"over {CLV_MONTHS} months"
PER_ORDER = "per order"


@dataclass(frozen=True)
class UnitInfo:
    """How a unit is written: symbol for headers ("$", "%", "" for none), the factor that
    turns a stored value into the shown one (shares are stored as 0..1, shown in percent) and
    the decimals kept when a number is rounded for people (CSV downloads)."""

    symbol: str
    scale: float
    decimals: int


UNITS: dict[str, UnitInfo] = {
    "money": UnitInfo("$", 1.0, 0),
    "money_per_customer": UnitInfo("$", 1.0, 2),
    "count": UnitInfo("", 1.0, 0),
    "share": UnitInfo("%", 100.0, 1),
    "ratio": UnitInfo("", 1.0, 2),
    "months": UnitInfo("months", 1.0, 1),
}


@dataclass(frozen=True)
class MetricInfo:
    """One reported number.

    name: the engine's (or analysis's) key; label: the name on screen (also what a link
    stores for a metric picked in a select box, so it must not change lightly); short: a label
    that fits a narrow table column; unit: one of UNITS; better: "higher", "lower" or
    "neither" (a choice, not a score: P(beats) is not defined); owed_refunds_counted: True when
    refunds still owed after the horizon on the orders counted are deducted (the decision
    metrics profit, NPV and net revenue, docs/model.md#refunds-owed-at-the-horizon, and the
    per-customer values that charge each order its full expected return rate), False when
    they are left out (only refunds paid within the horizon
    are deducted), None when refunds do not enter the number; horizon: the period covered, in
    words; description: one line.
    """

    name: str
    label: str
    short: str
    unit: Unit
    better: Better
    owed_refunds_counted: bool | None
    horizon: str
    description: str

    @property
    def title(self) -> str:
        """The label without its note in brackets: 'CAC', 'CLV of a new customer'."""
        return self.label.split(" (")[0]

    @property
    def owed_note(self) -> str:
        """How refunds still owed at the horizon enter a money total, in words, or "" where
        they need no note: 'refunds still owed deducted' for the decision metrics."""
        if self.unit == "money" and self.is_total and self.owed_refunds_counted:
            return OWED_DEDUCTED
        return ""

    @property
    def heading(self) -> str:
        """The label as a table heading or caption shows it, with the owed-refunds note:
        'Profit (refunds still owed deducted)'. The plain label stays what links store."""
        return f"{self.label} ({self.owed_note})" if self.owed_note else self.label

    @property
    def column_title(self) -> str:
        """The title as a download's column heading shows it, with the owed-refunds note:
        'Profit (refunds still owed deducted)', 'CAC'."""
        return f"{self.title} ({self.owed_note})" if self.owed_note else self.title

    @property
    def higher_is_better(self) -> bool:
        """True unless lower is better (the flag `sim.metrics.compare_paired` takes)."""
        return self.better != "lower"

    @property
    def is_total(self) -> bool:
        """True for amounts summed over the horizon (said as "3-year profit")."""
        return self.horizon == OVER_HORIZON and self.unit in ("money", "count")


def _entries(*infos: MetricInfo) -> dict[str, MetricInfo]:
    return {info.name: info for info in infos}


_AFTER = "refunds still owed after the horizon on orders placed within it"
#: The note every table heading and caption adds to a money total that deducts the refunds
#: still owed (the decision metrics, `MetricInfo.heading`; docs/model.md#metrics).
OWED_DEDUCTED = "refunds still owed deducted"
#: The note of the cash-within-the-horizon versions kept beside them.
OWED_LEFT_OUT = "cash; refunds still owed left out"

#: Per-trial metrics: the engine's, in the engine's order, then the analyses' derived ones.
METRICS: dict[str, MetricInfo] = _entries(
    MetricInfo("net_revenue", "Net revenue", "Net revenue", "money",
               "higher", True, OVER_HORIZON,
               f"Order value minus every refund of the horizon's orders: those paid within "
               f"it and the {_AFTER}."),
    MetricInfo("gross_revenue", "Gross revenue", "Gross revenue", "money", "higher", False,
               OVER_HORIZON, "Order value before any refund."),
    MetricInfo("profit", "Profit", "Profit", "money", "higher", True,
               OVER_HORIZON,
               "Net revenue minus goods cost, returns handling (less resale of returned goods) "
               f"and marketing spend, and minus the cost of the {_AFTER}."),
    MetricInfo("npv", "NPV of profit", "NPV", "money", "higher", True,
               OVER_HORIZON,
               "Monthly profit discounted at the scenario's discount rate and summed, minus "
               f"the cost of the {_AFTER} discounted at the horizon's end."),
    MetricInfo("new_customers", "New customers", "New customers", "count", "higher", None,
               OVER_HORIZON, "Leads who placed a first order."),
    MetricInfo("cac", "CAC (cost per new customer)", "CAC", "money_per_customer", "lower",
               None, OVER_HORIZON, "Cold plus warm spend divided by the new customers won."),
    MetricInfo("active_customers_end", "Active customers at the end", "Active at end",
               "count", "higher", None, AT_HORIZON,
               "Customers who have not churned by the end of the last month."),
    MetricInfo("repeat_revenue_share", "Repeat-revenue share", "Repeat share", "share",
               "higher", None, OVER_HORIZON,
               "Share of gross revenue from repeat orders of existing customers."),
    MetricInfo("leaky_bucket_ratio", "Leaky-bucket ratio (lost per won)", "Lost per won",
               "ratio", "lower", None, OVER_HORIZON,
               "Customers churned divided by new customers won."),
    MetricInfo("early_repeat_rate", f"Early repeat rate ({EARLY_REPEAT_MONTHS} months)",
               "Early repeat", "share", "higher", None,
               f"within {EARLY_REPEAT_MONTHS} months of a first order",
               f"Share of new customers who order again within {EARLY_REPEAT_MONTHS} months."),
    MetricInfo("clv_new_customer", "CLV of a new customer", "CLV", "money_per_customer",
               "higher", True, OVER_CLV,
               "Discounted contribution of a new customer (first order, then repeat orders "
               "net of expected refunds and retention spend), from the last month's rates."),
    MetricInfo("customer_equity_end", "Customer equity at the end", "Equity at end", "money",
               "higher", False, AT_HORIZON,
               f"Discounted value of the customers active at the end over {CLV_MONTHS} more "
               "months (their future orders net of expected refunds)."),
    MetricInfo("ltv_to_cac", "LTV : CAC", "LTV:CAC", "ratio", "higher", True, OVER_CLV,
               "CLV of a new customer divided by CAC."),
    MetricInfo("payback_month", "CAC payback", "Payback", "months", "lower", True,
               f"within {CLV_MONTHS} months of a first order",
               "Months after the first order until a new customer's undiscounted contribution "
               "repays CAC (none if it never does)."),
    MetricInfo("open_guarantee_liability", "Open guarantee liability", "Owed refunds",
               "money", "lower", True, AT_HORIZON, f"Sum of the {_AFTER}."),
    MetricInfo("marketing_spend", "Marketing spend", "Spend", "money", "neither", None,
               OVER_HORIZON, "The budget spent on cold, warm and hot."),
    MetricInfo("churned_customers", "Customers lost", "Lost", "count", "lower", None,
               OVER_HORIZON, "Customers who churned."),
    MetricInfo("refunds", "Refunds", "Refunds", "money", "lower", False, OVER_HORIZON,
               "Refunds paid within the horizon."),
    MetricInfo("open_guarantee_returns", "Returns still owed a refund", "Owed returns",
               "count", "lower", True, AT_HORIZON,
               "Returned orders of the horizon whose refunds fall due after it."),
    MetricInfo("net_revenue_in_horizon", f"Net revenue within the horizon ({OWED_LEFT_OUT})",
               "Net rev. in horizon", "money", "higher", False, OVER_HORIZON,
               "Order value minus the refunds paid within the horizon."),
    MetricInfo("profit_in_horizon", f"Profit within the horizon ({OWED_LEFT_OUT})",
               "Profit in horizon",
               "money", "higher", False, OVER_HORIZON,
               "Profit of the horizon's cash: refunds, resale and handling only when paid "
               "within it."),
    MetricInfo("return_rate", "Return rate", "Return rate", "share", "lower", None, PER_ORDER,
               "Share of orders returned for a refund at this guarantee length."),
    MetricInfo("return_multiplier", "Return-rate multiplier", "Returns ×", "ratio", "lower",
               None, PER_ORDER, "Return rate divided by the current guarantee's."),
    MetricInfo("conversion_multiplier", "Conversion multiplier", "Conversion ×", "ratio",
               "higher", None, PER_ORDER,
               "Conversion divided by the conversion at the reference guarantee length."),
    # Derived by the retention analysis (sim/retention.py, _long_run_value).
    MetricInfo("long_run_value", "Long-run value (NPV + customers kept, discounted)",
               "Long-run value", "money", "higher", True, f"{OVER_HORIZON} and beyond",
               "NPV of profit plus customer equity at the end, discounted to today."),
)

#: Monthly series (one value per trial and month).
SERIES: dict[str, MetricInfo] = _entries(
    MetricInfo("gross_revenue", "Gross revenue per month", "Gross revenue", "money", "higher",
               False, PER_MONTH, "Order value of the month before any refund."),
    MetricInfo("refunds", "Refunds per month", "Refunds", "money", "lower", False, PER_MONTH,
               "Refunds paid in the month."),
    MetricInfo("net_revenue", "Net revenue per month", "Net revenue", "money", "higher",
               False, PER_MONTH, "Gross revenue minus the refunds paid in the month."),
    MetricInfo("profit", "Profit per month", "Profit", "money", "higher", False, PER_MONTH,
               "The month's net revenue minus goods cost, returns handling and spend."),
    MetricInfo("new_customers", "New customers per month", "New customers", "count",
               "higher", None, PER_MONTH, "Leads who placed a first order in the month."),
    MetricInfo("active_customers", "Active customers", "Active", "count", "higher", None,
               AT_MONTH_END, "Customers who have not churned by the end of the month."),
    MetricInfo("churned", "Customers lost per month", "Lost", "count", "lower", None,
               PER_MONTH, "Customers who churned in the month."),
    MetricInfo("repeat_orders", "Repeat orders per month", "Repeat orders", "count", "higher",
               None, PER_MONTH, "Orders of existing customers in the month."),
    MetricInfo("spend", "Marketing spend per month", "Spend", "money", "neither", None,
               PER_MONTH, "The month's budget."),
    MetricInfo("leads", "New leads per month", "Leads", "count", "higher", None, PER_MONTH,
               "Prospects reached by cold spend who became leads in the month."),
    MetricInfo("open_liability", "Refunds still owed", "Owed refunds", "money", "lower", True,
               AT_MONTH_END, "Refunds still owed on orders placed so far, at the month's end."),
    MetricInfo("open_returns", "Returns still owed a refund", "Owed returns", "count", "lower",
               True, AT_MONTH_END,
               "Returned orders placed so far whose refunds are still to be paid, at the "
               "month's end."),
)


def metric(name: str) -> MetricInfo:
    """Return a per-trial metric's entry; a clear error names the known ones."""
    try:
        return METRICS[name]
    except KeyError:
        raise KeyError(f"unknown metric {name!r}; known: {', '.join(METRICS)}") from None


def series(name: str) -> MetricInfo:
    """Return a monthly series' entry; a clear error names the known ones."""
    try:
        return SERIES[name]
    except KeyError:
        raise KeyError(f"unknown monthly series {name!r}; known: {', '.join(SERIES)}") from None


def horizon_words(months: int) -> str:
    """Return a horizon in words: 36 -> '3-year', 18 -> '18-month'."""
    if months % 12 == 0:
        return f"{months // 12}-year"
    return f"{months}-month"


def in_sentence(label: str) -> str:
    """Return a label inside a sentence: its note in brackets dropped, the first letter
    lower-cased unless it starts an acronym ('Profit' -> 'profit', 'NPV of profit' stays)."""
    words = label.split(" (")[0]
    if len(words) > 1 and words[1].isupper():
        return words
    return words[0].lower() + words[1:]


def metric_words(name: str, horizon_months: int) -> str:
    """Return a metric as said in a sentence, with its horizon where it has one of its own:
    '3-year profit', '3-year NPV of profit', 'CLV of a new customer over 240 months',
    'CAC'."""
    info = metric(name)
    words = in_sentence(info.label)
    if info.is_total:
        return f"{horizon_words(horizon_months)} {words}"
    if info.horizon == OVER_CLV:
        return f"{words} {OVER_CLV}"
    return words


def with_unit(title: str, unit: str) -> str:
    """Return a column or axis title with its unit in brackets: 'Profit, median ($)'."""
    symbol = UNITS[unit].symbol
    return f"{title} ({symbol})" if symbol else title


def rounded(value: float, unit: str) -> float:
    """Return a value as people read it in a table: in the shown scale (shares in percent)
    and rounded to the unit's decimals (money to whole dollars, money per customer to cents,
    shares to 0.1 point, counts whole); NaN and infinities stay as they are."""
    info = UNITS[unit]
    value = float(value)
    if not math.isfinite(value):
        return value
    return round(value * info.scale, info.decimals) + 0.0  # + 0.0 turns -0.0 into 0.0
