"""Number formatting in the business's words: money, counts, shares, months."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from sim import registry
from sim.metrics import mc_error_90
from sim.registry import horizon_words as horizon_words  # pages say fmt.horizon_words


def money(value: float, signed: bool = False) -> str:
    """Return a dollar amount, compact: $950, $12.3k, $1.24M (sign shown when asked)."""
    if value is None or not math.isfinite(value):
        return "n/a"
    sign = "-" if value < 0 else ("+" if signed and value > 0 else "")
    size = abs(value)
    if size >= 1e9:
        text = f"{size / 1e9:.2f}B"
    elif size >= 1e6:
        text = f"{size / 1e6:.2f}M"
    elif size >= 1e4:
        text = f"{size / 1e3:.0f}k"
    elif size >= 1e3:
        text = f"{size / 1e3:.1f}k"
    else:
        text = f"{size:.0f}"
    return f"{sign}${text}"


def money2(value: float, signed: bool = False) -> str:
    """Return a per-unit dollar amount with cents under $100 ($61.40, $1,240)."""
    if value is None or not math.isfinite(value):
        return "n/a"
    sign = "-" if value < 0 else ("+" if signed and value > 0 else "")
    size = abs(value)
    return f"{sign}${size:,.2f}" if size < 100 else f"{sign}${size:,.0f}"


def count(value: float, signed: bool = False) -> str:
    """Return a whole count with thousands separators."""
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:+,.0f}" if signed else f"{value:,.0f}"


def share(value: float, digits: int = 0, signed: bool = False) -> str:
    """Return a share as a percentage (0.815 -> 82%)."""
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value * 100:+.{digits}f}%" if signed else f"{value * 100:.{digits}f}%"


def ratio(value: float, signed: bool = False) -> str:
    """Return a ratio with two decimals (1.28)."""
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:+.2f}" if signed else f"{value:.2f}"


def months(value: float, signed: bool = False) -> str:
    """Return a number of months (11 months)."""
    if value is None or not math.isfinite(value):
        return "never"
    return f"{value:+.0f} months" if signed else f"{value:.0f} months"


_FORMATTERS = {"money": money, "money_per_customer": money2, "count": count, "ratio": ratio,
               "months": months}


def metric_value(metric: str, value: float, signed: bool = False) -> str:
    """Return a metric's value formatted in its own unit (from the metric registry)."""
    return unit_value(registry.metric(metric).unit, value, signed)


def unit_value(unit: str, value: float, signed: bool = False) -> str:
    """Return a value formatted in a registry unit (shares with one decimal)."""
    if unit == "share":
        return share(value, 1, signed)
    return _FORMATTERS[unit](value, signed)


def metric_label(metric: str) -> str:
    """Return a metric's name as shown on screen (from the metric registry)."""
    return registry.metric(metric).label


def metric_in_sentence(metric: str) -> str:
    """Return a metric's name inside a sentence: 'profit', 'NPV of profit', 'CAC'."""
    return registry.in_sentence(registry.metric(metric).label)


def metric_heading(metric: str) -> str:
    """Return a metric's name as a table heading or chart title shows it, with how refunds
    still owed at the horizon enter it: 'Profit (refunds still owed deducted)'."""
    return registry.metric(metric).heading


def split_label(cold: float, warm: float, hot: float) -> str:
    """Return a split (shares 0-1) in the one notation of the app: whole percents with slashes,
    0.6/0.3/0.1 -> '60/30/10', 2/3, 1/3, 0 -> '67/33/0' (issue 13; data keep exact values)."""
    return "/".join(f"{share * 100:.0f}" for share in (cold, warm, hot))


_MARKDOWN_SPECIALS = "\\`*_[]<>#|$~"


def plain(text: str) -> str:
    """Return user-supplied text (names, link values) escaped so Markdown shows it as typed."""
    return "".join("\\" + ch if ch in _MARKDOWN_SPECIALS else ch for ch in str(text))


def format_param(value: Any) -> str:
    """Return a field's file value as link text (numbers plain, ranges as {low: a, high: b})."""
    if isinstance(value, Mapping):
        inner = ", ".join(f"{key}: {format_param(item)}" for key, item in value.items())
        return "{" + inner + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        # Positional digits: YAML reads "1e-05" as text, so a link must never carry exponents.
        return np.format_float_positional(value, trim="-")
    return str(value)


def mc_margin(standard_error: float) -> float:
    """Return the ± shown after a Monte Carlo mean: its 90% error (same unit as the mean).

    The one place pages get it from (`sim.metrics.mc_error_90`: 1.645 standard errors).
    """
    return mc_error_90(standard_error)
