"""Altair chart helpers: one function per chart kind, readable on a projector.

Every chart has titled axes with units, money axes formatted as $ (k/M), and a legend that
names plans in the business's words. Pages pass plain NumPy arrays; the helpers build tidy
tables.
"""

from __future__ import annotations

from collections.abc import Mapping

import altair as alt
import numpy as np
import pandas as pd

MONEY_FORMAT = "$,.3~s"
FONT_SIZE = 14
PALETTE = ["#1f5fa8", "#e07b00", "#2a9d55", "#c03a3a", "#7a4fb3", "#8c6d1f", "#2b8a99"]


def _style(chart: alt.Chart | alt.LayerChart, height: int = 320) -> alt.Chart:
    return (chart.properties(height=height, width="container")
            .configure_axis(labelFontSize=FONT_SIZE, titleFontSize=FONT_SIZE)
            .configure_legend(labelFontSize=FONT_SIZE, titleFontSize=FONT_SIZE,
                              orient="bottom", labelLimit=400)
            .configure_title(fontSize=FONT_SIZE + 2))


def _axis_format(unit: str) -> str:
    return {"money": MONEY_FORMAT, "share": ".0%", "count": ",.0f"}.get(unit, ",.3~g")


def distribution_chart(samples: Mapping[str, np.ndarray], x_title: str, unit: str = "money",
                       bins: int = 60, reference: float | None = None,
                       reference_label: str = "") -> alt.Chart:
    """Overlaid distributions (share of futures per bin) of one metric for several plans.

    A dashed rule marks `reference` (for example zero profit) when given.
    """
    finite = [np.asarray(v, dtype=float)[np.isfinite(v)] for v in samples.values()]
    everything = np.concatenate(finite) if finite else np.zeros(1)
    low, high = np.percentile(everything, [0.5, 99.5]) if everything.size else (0.0, 1.0)
    if high <= low:
        high = low + 1.0
    edges = np.linspace(low, high, bins + 1)
    rows = []
    for label, values in zip(samples, finite, strict=True):
        counts, _ = np.histogram(np.clip(values, low, high), bins=edges)
        share = counts / max(values.size, 1)
        centres = (edges[:-1] + edges[1:]) / 2
        rows.append(pd.DataFrame({"value": centres, "share": share, "plan": label}))
    data = pd.concat(rows, ignore_index=True)
    order = list(samples)
    color = alt.Color("plan:N", title="Plan", sort=order,
                      scale=alt.Scale(domain=order, range=PALETTE[: len(order)]))
    lines = alt.Chart(data).mark_line(interpolate="step", strokeWidth=2.5).encode(
        x=alt.X("value:Q", title=x_title, axis=alt.Axis(format=_axis_format(unit))),
        y=alt.Y("share:Q", title="Share of simulated futures", axis=alt.Axis(format=".1%")),
        color=color,
        tooltip=[alt.Tooltip("plan:N", title="Plan"),
                 alt.Tooltip("value:Q", title=x_title, format=_axis_format(unit)),
                 alt.Tooltip("share:Q", title="Share of futures", format=".1%")],
    )
    layers: list[alt.Chart] = [lines]
    if reference is not None:
        rule = alt.Chart(pd.DataFrame({"x": [reference], "label": [reference_label]}))
        layers.append(rule.mark_rule(strokeDash=[6, 4], color="#333").encode(x="x:Q"))
        if reference_label:
            layers.append(rule.mark_text(align="left", dx=4, dy=-120, fontSize=FONT_SIZE,
                                         color="#333").encode(x="x:Q", text="label:N"))
    return _style(alt.layer(*layers))


def fan_chart(bands: Mapping[str, Mapping[str, np.ndarray]], y_title: str,
              unit: str = "money", x_title: str = "Month") -> alt.Chart:
    """Median line and P10-P90 band per plan over the months (bands: plan -> p10/p50/p90)."""
    rows = []
    for label, band in bands.items():
        months = np.arange(1, len(band["p50"]) + 1)
        rows.append(pd.DataFrame({"month": months, "p10": band["p10"], "p50": band["p50"],
                                  "p90": band["p90"], "plan": label}))
    data = pd.concat(rows, ignore_index=True)
    order = list(bands)
    color = alt.Color("plan:N", title="Plan (line: median; band: P10-P90)", sort=order,
                      scale=alt.Scale(domain=order, range=PALETTE[: len(order)]))
    fmt = _axis_format(unit)
    base = alt.Chart(data).encode(x=alt.X("month:Q", title=x_title,
                                          axis=alt.Axis(tickMinStep=1)))
    band = base.mark_area(opacity=0.18).encode(
        y=alt.Y("p10:Q", title=y_title, axis=alt.Axis(format=fmt)), y2="p90:Q", color=color)
    line = base.mark_line(strokeWidth=2.5).encode(
        y="p50:Q", color=color,
        tooltip=[alt.Tooltip("plan:N", title="Plan"), alt.Tooltip("month:Q", title="Month"),
                 alt.Tooltip("p10:Q", title="P10", format=fmt),
                 alt.Tooltip("p50:Q", title="Median", format=fmt),
                 alt.Tooltip("p90:Q", title="P90", format=fmt)])
    return _style(alt.layer(band, line))


def interval_chart(rows: pd.DataFrame, x_title: str, unit: str = "money",
                   reference: float | None = 0.0) -> alt.Chart:
    """Horizontal P10-P90 bars with a median tick, one row per label.

    rows needs columns label, p10, p50, p90 (optionally p5/p95 for whiskers).
    """
    fmt = _axis_format(unit)
    order = list(rows["label"])
    base = alt.Chart(rows).encode(y=alt.Y("label:N", title=None, sort=order,
                                          axis=alt.Axis(labelLimit=320)))
    layers = []
    if {"p5", "p95"} <= set(rows.columns):
        layers.append(base.mark_rule(color="#888").encode(
            x=alt.X("p5:Q", title=x_title, axis=alt.Axis(format=fmt)), x2="p95:Q"))
    layers.append(base.mark_bar(height=22, color="#8fb3dd").encode(
        x=alt.X("p10:Q", title=x_title, axis=alt.Axis(format=fmt)), x2="p90:Q",
        tooltip=[alt.Tooltip("label:N", title=""),
                 alt.Tooltip("p10:Q", title="P10", format=fmt),
                 alt.Tooltip("p50:Q", title="Median", format=fmt),
                 alt.Tooltip("p90:Q", title="P90", format=fmt)]))
    layers.append(base.mark_tick(color="#12365f", thickness=3, size=26).encode(x="p50:Q"))
    if reference is not None:
        layers.append(alt.Chart(pd.DataFrame({"x": [reference]})).mark_rule(
            strokeDash=[6, 4], color="#333").encode(x="x:Q"))
    return _style(alt.layer(*layers), height=max(120, 46 * len(rows)))
