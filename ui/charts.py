"""Altair chart helpers: one function per chart kind, readable on a projector.

Every chart has titled axes with units, money axes formatted as $ (k/M), and a legend that
names plans in the business's words. Pages pass plain NumPy arrays; the helpers build tidy
tables. How a chart becomes the spec the browser gets (made once, rows swapped in, drawn on a
canvas) is `ui.chart_specs`; pages draw charts with its `show_chart`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from functools import lru_cache

import altair as alt
import numpy as np
import pandas as pd

from ui.chart_specs import cached_chart, marks_data, rows_data, with_marks, with_rows

MONEY_FORMAT = "$,.3~s"
FONT_SIZE = 14
PALETTE = ["#1f5fa8", "#e07b00", "#2a9d55", "#c03a3a", "#7a4fb3", "#8c6d1f", "#2b8a99"]


def _style(chart: alt.Chart | alt.LayerChart, height: int = 320) -> alt.Chart:
    # fit-x: the width follows the page while `height` stays the plot's own height; with the
    # default "fit" a bottom legend and axis titles eat into it and squash the plot.
    styled = chart.properties(height=height, width="container",
                              autosize=alt.AutoSizeParams(type="fit-x", contains="padding"))
    # One config set on the one copy (three configure_* calls would copy the chart thrice).
    styled.config = alt.Config(
        axis=alt.AxisConfig(labelFontSize=FONT_SIZE, titleFontSize=FONT_SIZE),
        legend=alt.LegendConfig(labelFontSize=FONT_SIZE, titleFontSize=FONT_SIZE,
                                orient="bottom", labelLimit=400, titleLimit=700),
        title=alt.TitleConfig(fontSize=FONT_SIZE + 2))
    return styled


def _axis_format(unit: str) -> str:
    return {"money": MONEY_FORMAT, "share": ".0%", "count": ",.0f"}.get(unit, ",.3~g")


@cached_chart
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
        layers.append(rule.mark_rule(strokeDash=[6, 4], color="#333").encode(x=alt.X("x:Q")))
        if reference_label:
            layers.append(rule.mark_text(align="left", dx=4, dy=-120, fontSize=FONT_SIZE,
                                         color="#333").encode(x=alt.X("x:Q"),
                                                              text=alt.Text("label:N")))
    return _style(alt.layer(*layers))


@cached_chart
def fan_chart(bands: Mapping[str, Mapping[str, np.ndarray]], y_title: str,
              unit: str = "money", x_title: str = "Month") -> alt.Chart:
    """Median line and P10-P90 band per plan over the months (bands: plan -> p10/p50/p90)."""
    rows = []
    for place, (label, band) in enumerate(bands.items()):
        months = np.arange(1, len(band["p50"]) + 1)
        rows.append(pd.DataFrame({"month": months, "p10": band["p10"], "p50": band["p50"],
                                  "p90": band["p90"], "plan": label, "place": place}))
    return with_rows(_fan_layout(y_title, unit, x_title),
                     {"fan": pd.concat(rows, ignore_index=True)})


@cached_chart
def _fan_layout(y_title: str, unit: str, x_title: str) -> alt.Chart:
    """The fan chart without its rows. The plans' names and order come from the rows (the
    `place` column), not the spec: a page that renames a plan (the Guarantee's chosen length)
    keeps the spec, and the browser swaps the new rows into the chart already drawn."""
    color = alt.Color("plan:N", title="Plan (line: median; band: P10-P90)",
                      sort=alt.EncodingSortField("place", op="min"),
                      scale=alt.Scale(range=PALETTE))
    fmt = _axis_format(unit)
    # nice=False: the axis ends at the last month instead of the next round number.
    base = alt.Chart(rows_data("fan")).encode(x=alt.X("month:Q", title=x_title,
                                                      scale=alt.Scale(nice=False, zero=False),
                                                      axis=alt.Axis(tickMinStep=1)))
    band = base.mark_area(opacity=0.18).encode(
        y=alt.Y("p10:Q", title=y_title, axis=alt.Axis(format=fmt)), y2=alt.Y2("p90:Q"), color=color)
    line = base.mark_line(strokeWidth=2.5).encode(
        y=alt.Y("p50:Q"), color=color,
        tooltip=[alt.Tooltip("plan:N", title="Plan"), alt.Tooltip("month:Q", title="Month"),
                 alt.Tooltip("p10:Q", title="P10", format=fmt),
                 alt.Tooltip("p50:Q", title="Median", format=fmt),
                 alt.Tooltip("p90:Q", title="P90", format=fmt)])
    return _style(alt.layer(band, line))


@cached_chart
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
            x=alt.X("p5:Q", title=x_title, axis=alt.Axis(format=fmt)), x2=alt.X2("p95:Q")))
    layers.append(base.mark_bar(height=22, color="#8fb3dd").encode(
        x=alt.X("p10:Q", title=x_title, axis=alt.Axis(format=fmt)), x2=alt.X2("p90:Q"),
        tooltip=[alt.Tooltip("label:N", title=""),
                 alt.Tooltip("p10:Q", title="P10", format=fmt),
                 alt.Tooltip("p50:Q", title="Median", format=fmt),
                 alt.Tooltip("p90:Q", title="P90", format=fmt)]))
    layers.append(base.mark_tick(color="#12365f", thickness=3, size=26).encode(x=alt.X("p50:Q")))
    if reference is not None:
        layers.append(alt.Chart(pd.DataFrame({"x": [reference]})).mark_rule(
            strokeDash=[6, 4], color="#333").encode(x=alt.X("x:Q")))
    return _style(alt.layer(*layers), height=max(120, 46 * len(rows)))


@cached_chart
def tornado_chart(rows: pd.DataFrame, base_value: float, x_title: str, unit: str = "money",
                  base_label: str = "All inputs at their medians") -> alt.Chart:
    """Tornado: one row per input, bars from the base value to the metric with the input at
    its P10 (first palette colour) and at its P90 (second colour), the input's value written
    at each bar's end and "no effect" on rows that do not move. No legend, so that a chart
    of the same rows beside it lines up: say what the colours mean in the text above it.

    rows needs columns label, low (metric at the input's P10), high (metric at its P90),
    low_text and high_text (the input values, already formatted), in display order.
    """
    fmt = _axis_format(unit)
    order = list(rows["label"])
    settings = (("low", "low_text", "Input at its P10"), ("high", "high_text",
                                                          "Input at its P90"))
    long = pd.concat([
        pd.DataFrame({"label": rows["label"], "end": rows[column], "text": rows[text],
                      "setting": name, "base": base_value})
        for column, text, name in settings], ignore_index=True)
    long["side"] = np.where(long["end"] >= base_value, "right", "left")
    ends = np.concatenate([long["end"].to_numpy(dtype=float), [base_value]])
    low, high = float(np.min(ends)), float(np.max(ends))
    still = np.abs(long["end"].to_numpy(dtype=float) - base_value) <= 1e-9 * max(
        high - low, abs(base_value), 1.0)
    # A row that does not move gets one "no effect" note instead of two overlapping values.
    long.loc[still, "text"] = np.where(long.loc[still, "setting"] == settings[1][2],
                                       "no effect", "")
    long.loc[still, "side"] = "right"
    pad = 0.16 * max(high - low, abs(base_value) * 0.05, 1e-9)
    scale = alt.Scale(domain=[low - pad, high + pad], nice=False)
    names = [name for _, _, name in settings]
    y = alt.Y("label:N", title=None, sort=order, axis=alt.Axis(labelLimit=320))
    base = alt.Chart(long).encode(y=y)
    bars = base.mark_bar(height=24).encode(
        x=alt.X("base:Q", title=x_title, scale=scale, axis=alt.Axis(format=fmt)),
        x2=alt.X2("end:Q"),
        color=alt.Color("setting:N", title="", sort=names, legend=None,
                        scale=alt.Scale(domain=names, range=[PALETTE[0], PALETTE[1]])),
        tooltip=[alt.Tooltip("label:N", title="Input"),
                 alt.Tooltip("setting:N", title="Setting"),
                 alt.Tooltip("text:N", title="Input value"),
                 alt.Tooltip("end:Q", title=x_title, format=fmt)])
    right = base.transform_filter(alt.datum.side == "right").mark_text(
        align="left", dx=4, fontSize=FONT_SIZE - 1, color="#222").encode(
            x=alt.X("end:Q"), text=alt.Text("text:N"))
    left = base.transform_filter(alt.datum.side == "left").mark_text(
        align="right", dx=-4, fontSize=FONT_SIZE - 1, color="#222").encode(x=alt.X("end:Q"),
                                                                           text=alt.Text("text:N"))
    marker = pd.DataFrame({"x": [base_value], "label": [base_label]})
    rule = alt.Chart(marker).mark_rule(color="#222", strokeWidth=2).encode(x=alt.X("x:Q"))
    return _style(alt.layer(bars, left, right, rule), height=max(140, 44 * len(rows)))


@cached_chart
def ranked_bars_chart(rows: pd.DataFrame, x_title: str, unit: str = "share",
                      reference: float | None = None, reference_label: str = "") -> alt.Chart:
    """Horizontal bars, one per label in the given order, each with its value written at its
    end (rows: label, value, text); a dashed rule marks a non-zero `reference` (e.g. a noise
    level)."""
    fmt = _axis_format(unit)
    order = list(rows["label"])
    top = float(max(rows["value"].max(), reference or 0.0, 1e-12))
    scale = alt.Scale(domain=[0, top * 1.25], nice=False)
    base = alt.Chart(rows).encode(y=alt.Y("label:N", title=None, sort=order,
                                          axis=alt.Axis(labelLimit=320)))
    bars = base.mark_bar(height=24, color=PALETTE[0]).encode(
        x=alt.X("value:Q", title=x_title, scale=scale, axis=alt.Axis(format=fmt)),
        tooltip=[alt.Tooltip("label:N", title=""), alt.Tooltip("text:N", title=x_title)])
    text = base.mark_text(align="left", dx=4, fontSize=FONT_SIZE - 1, color="#222").encode(
        x=alt.X("value:Q"), text=alt.Text("text:N"))
    layers: list[alt.Chart] = [bars, text]
    if reference:
        marker = alt.Chart(pd.DataFrame({"x": [reference], "label": [reference_label]}))
        layers.append(marker.mark_rule(strokeDash=[6, 4], color="#c03a3a").encode(
            x=alt.X("x:Q"), tooltip=alt.Tooltip("label:N", title="")))
    return _style(alt.layer(*layers), height=max(140, 44 * len(rows)))


@cached_chart
def threshold_chart(points: pd.DataFrame, roots: pd.DataFrame, x_title: str, y_title: str,
                    x_format: str = ",.3~g", unit: str = "money") -> alt.Chart:
    """Mean difference between two plans as one input moves (points: x, y), a zero line, and
    a labelled vertical rule at each value where the choice flips (roots: x, text)."""
    fmt = _axis_format(unit)
    line = alt.Chart(points).mark_line(point=alt.OverlayMarkDef(size=70), strokeWidth=2.5,
                                       color=PALETTE[0]).encode(
        x=alt.X("x:Q", title=x_title, axis=alt.Axis(format=x_format, tickCount=8),
                scale=alt.Scale(zero=False, nice=False)),
        y=alt.Y("y:Q", title=y_title, axis=alt.Axis(format=fmt)),
        tooltip=[alt.Tooltip("x:Q", title=x_title, format=x_format),
                 alt.Tooltip("y:Q", title=y_title, format=fmt)])
    zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color="#333").encode(y=alt.Y("y:Q"))
    layers: list[alt.Chart] = [zero, line]
    if len(roots):
        flips = alt.Chart(roots)
        layers.append(flips.mark_rule(strokeDash=[6, 4], color=PALETTE[3],
                                      strokeWidth=2).encode(x=alt.X("x:Q")))
        layers.append(flips.mark_text(align="left", dx=5, dy=-8, fontSize=FONT_SIZE,
                                      color=PALETTE[3], baseline="bottom").encode(
            x=alt.X("x:Q"), y=alt.YValue(14), text=alt.Text("text:N")))
    return _style(alt.layer(*layers), height=300)


def _x_axis(x_labels: Mapping[float, str] | None, fmt: str) -> alt.Axis:
    """An x axis with named ticks (e.g. guarantee lengths) when labels are given."""
    if not x_labels:
        # Whole-number axes (months, days) get whole-number ticks, never 0, 1, 1, 2, 2, ...
        return alt.Axis(format=fmt, tickMinStep=1) if fmt.endswith(".0f") else alt.Axis(format=fmt)
    expression = " : ".join(f"datum.value == {value!r} ? {label!r}"
                            for value, label in x_labels.items()) + " : ''"
    return alt.Axis(values=list(x_labels), labelExpr=expression, labelAngle=0,
                    labelOverlap=False, grid=True)


def band_chart(x: np.ndarray, bands: Mapping[str, Mapping[str, np.ndarray]], x_title: str,
               y_title: str, unit: str = "money", *, title: str = "", log_x: bool = False,
               x_labels: Mapping[float, str] | None = None, mark_x: float | None = None,
               reference: float | None = None, y_zero: bool = True,
               height: int = 260) -> alt.Chart:
    """Median line with points and a P10-P90 band per series over a numeric x (not months).

    bands: series label -> {"p10", "p50", "p90"} arrays aligned with x. x_labels names chosen
    ticks (value -> text); mark_x draws a dashed vertical rule (the chosen setting: a marker,
    see ui.chart_specs.MARKS); reference a dashed horizontal one (for example zero change);
    y_zero False lets the y axis leave out 0.
    """
    chart = _band_chart(x, bands, x_title, y_title, unit, title=title, log_x=log_x,
                        x_labels=x_labels, marked=mark_x is not None, reference=reference,
                        y_zero=y_zero, height=height)
    return chart if mark_x is None else with_marks(chart, [{"x": float(mark_x)}])


@cached_chart
def _band_chart(x: np.ndarray, bands: Mapping[str, Mapping[str, np.ndarray]], x_title: str,
                y_title: str, unit: str, *, title: str, log_x: bool,
                x_labels: Mapping[float, str] | None, marked: bool, reference: float | None,
                y_zero: bool, height: int) -> alt.Chart:
    rows = [pd.DataFrame({"x": np.asarray(x, dtype=float), "p10": band["p10"],
                          "p50": band["p50"], "p90": band["p90"], "series": label})
            for label, band in bands.items()]
    data = pd.concat(rows, ignore_index=True)
    order = list(bands)
    fmt = _axis_format(unit)
    color = alt.Color("series:N", title="Line: median; band: P10-P90", sort=order,
                      scale=alt.Scale(domain=order, range=PALETTE[: len(order)]),
                      legend=alt.Legend(orient="bottom") if len(order) > 1 else None)
    scale = alt.Scale(type="log") if log_x else alt.Scale(zero=False, nice=False)
    base = alt.Chart(data, title=title or alt.Undefined).encode(
        x=alt.X("x:Q", title=x_title, scale=scale, axis=_x_axis(x_labels, ",.3~g")))
    band = base.mark_area(opacity=0.2).encode(
        y=alt.Y("p10:Q", title=y_title, scale=alt.Scale(zero=y_zero),
                axis=alt.Axis(format=fmt)), y2=alt.Y2("p90:Q"), color=color)
    line = base.mark_line(strokeWidth=2.5, point=True).encode(
        y=alt.Y("p50:Q"), color=color,
        tooltip=[alt.Tooltip("series:N", title=""), alt.Tooltip("x:Q", title=x_title),
                 alt.Tooltip("p10:Q", title="P10", format=fmt),
                 alt.Tooltip("p50:Q", title="Median", format=fmt),
                 alt.Tooltip("p90:Q", title="P90", format=fmt)])
    layers: list[alt.Chart] = [band, line]
    if reference is not None:
        layers.append(alt.Chart(pd.DataFrame({"y": [reference]})).mark_rule(
            strokeDash=[6, 4], color="#333").encode(y=alt.Y("y:Q")))
    if marked:
        layers.append(alt.Chart(marks_data()).mark_rule(
            strokeDash=[4, 4], color="#c03a3a", strokeWidth=2).encode(x=alt.X("x:Q")))
    return _style(alt.layer(*layers), height=height)


@cached_chart
def line_chart(x: np.ndarray, series: Mapping[str, np.ndarray], x_title: str, y_title: str,
               unit: str = "money", *, title: str = "", log_x: bool = False,
               x_labels: Mapping[float, str] | None = None, x_format: str = ",.0f",
               y_domain: tuple[float, float] | None = None, height: int = 260,
               dots: tuple[str, ...] = ()) -> alt.Chart:
    """One line per label over a numeric x (x_labels names chosen ticks: value -> text).

    Series named in `dots` (observed data beside a fitted curve) are drawn as large dots on top
    of the lines, so a close fit does not hide them.
    """
    rows = [pd.DataFrame({"x": np.asarray(x, dtype=float), "y": np.asarray(values, dtype=float),
                          "series": label}) for label, values in series.items()]
    data = pd.concat(rows, ignore_index=True)
    dotted = tuple(label for label in series if label in dots and len(x))
    layout = _line_layout(tuple(series), dotted, x_title, y_title, unit, title, log_x,
                          tuple((x_labels or {}).items()), x_format,
                          tuple(y_domain) if y_domain else None, height,
                          len(data) <= 60, len(data) <= 200)
    return with_rows(layout, {"lines": data})


@cached_chart
def _line_layout(order: tuple[str, ...], dotted: tuple[str, ...], x_title: str, y_title: str,
                 unit: str, title: str, log_x: bool, x_labels: tuple[tuple[float, str], ...],
                 x_format: str, y_domain: tuple[float, float] | None, height: int,
                 points: bool, thick: bool) -> alt.Chart:
    """The line chart without its rows (`dotted`: the series drawn as dots; `points`: dots on
    the lines too, for a few rows; `thick`: wide lines, for not too many)."""
    fmt = _axis_format(unit)
    color = alt.Color("series:N", title=None, sort=list(order),
                      scale=alt.Scale(domain=list(order), range=PALETTE[: len(order)]),
                      legend=alt.Legend(orient="bottom") if len(order) > 1 else None)
    scale = alt.Scale(type="log") if log_x else alt.Scale(zero=False, nice=False)
    y_scale = alt.Scale(domain=list(y_domain)) if y_domain else alt.Scale()
    encoding = {
        "x": alt.X("x:Q", title=x_title, scale=scale, axis=_x_axis(dict(x_labels) or None,
                                                                    x_format)),
        "y": alt.Y("y:Q", title=y_title, scale=y_scale, axis=alt.Axis(format=fmt)),
        "color": color,
        "tooltip": [alt.Tooltip("series:N", title=""), alt.Tooltip("x:Q", title=x_title),
                    alt.Tooltip("y:Q", title=y_title, format=fmt)],
    }
    chart = alt.Chart(rows_data("lines"), title=title or alt.Undefined)
    width = 2.5 if thick else 1.2
    if not dotted:
        return _style(chart.mark_line(strokeWidth=width, point=points).encode(**encoding),
                      height=height)
    lines = chart.transform_filter(alt.FieldOneOfPredicate(field="series", oneOf=[
        label for label in order if label not in dotted])).mark_line(strokeWidth=width,
                                                                      point=points)
    dots = chart.transform_filter(alt.FieldOneOfPredicate(
        field="series", oneOf=list(dotted))).mark_point(size=110, filled=True, opacity=0.9)
    return _style(alt.layer(lines.encode(**encoding), dots.encode(**encoding)), height=height)


@cached_chart
def bar_chart(labels: list[str], values: np.ndarray, x_title: str, y_title: str,
              unit: str = "count", *, title: str = "", height: int = 260) -> alt.Chart:
    """Vertical bars, one per label, in the order given."""
    data = pd.DataFrame({"label": labels, "value": np.asarray(values, dtype=float)})
    return with_rows(_bar_layout(tuple(labels), x_title, y_title, unit, title, height),
                     {"bars": data})


@cached_chart
def _bar_layout(labels: tuple[str, ...], x_title: str, y_title: str, unit: str, title: str,
                height: int) -> alt.Chart:
    """The bar chart without its rows."""
    fmt = _axis_format(unit)
    chart = alt.Chart(rows_data("bars"), title=title or alt.Undefined).mark_bar(
        color=PALETTE[0]).encode(
        x=alt.X("label:N", title=x_title, sort=list(labels), axis=alt.Axis(labelAngle=0)),
        y=alt.Y("value:Q", title=y_title, axis=alt.Axis(format=fmt)),
        tooltip=[alt.Tooltip("label:N", title=x_title),
                 alt.Tooltip("value:Q", title=y_title, format=fmt)])
    return _style(chart, height=height)


@cached_chart
def heatmap_chart(x: np.ndarray, y: np.ndarray, z: np.ndarray, x_title: str, y_title: str,
                  z_title: str, *, x_unit: str = "share", y_unit: str = "ratio",
                  z_unit: str = "money", lines: Mapping[str, tuple[np.ndarray, np.ndarray]]
                  | None = None, points: tuple[np.ndarray, np.ndarray] | None = None,
                  points_label: str = "", height: int = 420) -> alt.Chart:
    """A map of z over an x by y grid (z shape (len(y), len(x))), diverging around zero.

    lines: label -> (xs, ys) curves drawn over the map (for example break-even lines); points:
    a cloud of (x, y) points (for example the scenario's draws), named points_label.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)

    def edges(values: np.ndarray) -> np.ndarray:
        mids = (values[:-1] + values[1:]) / 2
        return np.concatenate(([values[0] - (mids[0] - values[0])], mids,
                               [values[-1] + (values[-1] - mids[-1])]))

    x_edges, y_edges = edges(x), edges(y)
    xx, yy = np.meshgrid(np.arange(len(x)), np.arange(len(y)))
    tables = {"cells": pd.DataFrame({
        "x0": x_edges[xx.ravel()], "x1": x_edges[xx.ravel() + 1],
        "y0": y_edges[yy.ravel()], "y1": y_edges[yy.ravel() + 1],
        "x": x[xx.ravel()], "y": y[yy.ravel()], "z": np.asarray(z, dtype=float).ravel()})}
    # The colour scale's end, rounded up to three significant digits: maps of nearby settings
    # then share one spec, and the browser swaps their data instead of drawing a new chart.
    z_values = tables["cells"]["z"].to_numpy()
    finite = np.abs(z_values[np.isfinite(z_values)])
    limit = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    step = 10.0 ** (math.floor(math.log10(limit)) - 2)
    limit = math.ceil(limit / step) * step
    if points is not None:
        cloud = pd.DataFrame({"x": np.asarray(points[0], dtype=float),
                              "y": np.asarray(points[1], dtype=float), "series": points_label})
        tables["cloud"] = cloud[(cloud["x"].between(x_edges[0], x_edges[-1]))
                                & (cloud["y"].between(y_edges[0], y_edges[-1]))]
    if lines:
        rows = [pd.DataFrame({"x": np.asarray(xs, dtype=float), "y": np.asarray(ys, dtype=float),
                              "line": label, "order": np.arange(len(xs))})
                for label, (xs, ys) in lines.items()]
        data = pd.concat(rows, ignore_index=True)
        data = data[np.isfinite(data["x"]) & np.isfinite(data["y"])]
        tables["lines"] = data[data["x"].between(x_edges[0], x_edges[-1])]
    layout = _heatmap_layout(
        (float(x_edges[0]), float(x_edges[-1])), (float(y_edges[0]), float(y_edges[-1])),
        limit, x_title, y_title, z_title, x_unit, y_unit, z_unit,
        tuple(lines) if lines else None, points is not None, height)
    return with_rows(layout, tables)


@cached_chart
def _heatmap_layout(x_domain: tuple[float, float], y_domain: tuple[float, float], limit: float,
                    x_title: str, y_title: str, z_title: str, x_unit: str, y_unit: str,
                    z_unit: str, lines: tuple[str, ...] | None, cloud: bool,
                    height: int) -> alt.Chart:
    """The map without its rows: cells coloured from -limit to +limit, then (when given) the
    cloud of points and the lines named in `lines`, in that order."""
    x_fmt, y_fmt, z_fmt = (_axis_format(unit) for unit in (x_unit, y_unit, z_unit))
    x_scale = alt.Scale(domain=list(x_domain), nice=False, zero=False)
    y_scale = alt.Scale(domain=list(y_domain), nice=False, zero=False)
    layers: list[alt.Chart] = [alt.Chart(rows_data("cells")).mark_rect().encode(
        x=alt.X("x0:Q", title=x_title, scale=x_scale, axis=alt.Axis(format=x_fmt)),
        x2=alt.X2("x1:Q"),
        y=alt.Y("y0:Q", title=y_title, scale=y_scale, axis=alt.Axis(format=y_fmt)),
        y2=alt.Y2("y1:Q"),
        color=alt.Color("z:Q", title=z_title,
                        scale=alt.Scale(scheme="redblue", domain=[-limit, limit], domainMid=0),
                        legend=alt.Legend(orient="right", format=z_fmt, gradientLength=300,
                                          titleLimit=300)),
        tooltip=[alt.Tooltip("x:Q", title=x_title, format=x_fmt),
                 alt.Tooltip("y:Q", title=y_title, format=y_fmt),
                 alt.Tooltip("z:Q", title=z_title, format=z_fmt)])]
    if cloud:
        layers.append(alt.Chart(rows_data("cloud")).mark_point(
            size=40, opacity=0.5, filled=True, color="#111", stroke="white",
            strokeWidth=0.5).encode(
            x=alt.X("x:Q", scale=x_scale), y=alt.Y("y:Q", scale=y_scale),
            shape=alt.Shape("series:N", title=None, legend=alt.Legend(orient="bottom"))))
    if lines:
        layers.append(alt.Chart(rows_data("lines")).mark_line(strokeWidth=3).encode(
            x=alt.X("x:Q", scale=x_scale), y=alt.Y("y:Q", scale=y_scale),
            order=alt.Order("order:Q"),
            strokeDash=alt.StrokeDash("line:N", title=None, sort=list(lines),
                                      legend=alt.Legend(orient="bottom", symbolStrokeWidth=3)),
            color=alt.ColorValue("#111")))
    return _style(alt.layer(*layers).resolve_scale(color="independent"), height=height)


def share_sweep_chart(shares: np.ndarray, band: Mapping[str, np.ndarray], y_title: str,
                      unit: str = "money", *, marks: Mapping[str, float] | None = None,
                      zone: tuple[float, float] | None = None, zone_label: str = "",
                      x_title: str = "Share of the budget", height: int = 300) -> alt.Chart:
    """Median line with points and a P10-P90 band of one metric over budget shares (x as %).

    band: {"p10", "p50", "p90"} arrays aligned with shares. marks: label -> share, each drawn
    as a labelled vertical rule (e.g. today's share and the best one: markers, see
    ui.chart_specs.MARKS); zone: a shaded span of shares (e.g. those too close to the best to
    call), named zone_label in the tooltip.
    """
    chart = _share_sweep_chart(shares, band, y_title, unit, marked=bool(marks), zone=zone,
                               zone_label=zone_label, x_title=x_title, height=height)
    if not marks:
        return chart
    # Labels sit at alternating heights so that close marks do not overwrite each other.
    return with_marks(chart, [
        {"x": float(share), "label": label, "colour": PALETTE[(i + 1) % len(PALETTE)],
         "level": i % 2} for i, (label, share) in enumerate(marks.items())])


@cached_chart
def _share_sweep_chart(shares: np.ndarray, band: Mapping[str, np.ndarray], y_title: str,
                       unit: str, *, marked: bool, zone: tuple[float, float] | None,
                       zone_label: str, x_title: str, height: int) -> alt.Chart:
    fmt = _axis_format(unit)
    data = pd.DataFrame({"x": np.asarray(shares, dtype=float), "p10": band["p10"],
                         "p50": band["p50"], "p90": band["p90"]})
    x_scale = alt.Scale(domain=[float(data["x"].min()), float(data["x"].max())], nice=False)
    x = alt.X("x:Q", title=x_title, scale=x_scale, axis=alt.Axis(format=".0%", tickCount=9))
    layers: list[alt.Chart] = []
    if zone is not None:
        span = pd.DataFrame({"x": [zone[0]], "x2": [zone[1]], "label": [zone_label]})
        layers.append(alt.Chart(span).mark_rect(opacity=0.12, color=PALETTE[2]).encode(
            x=alt.X("x:Q", scale=x_scale), x2=alt.X2("x2:Q"),
            tooltip=alt.Tooltip("label:N", title="")))
    base = alt.Chart(data).encode(x=x)
    layers.append(base.mark_area(opacity=0.2, color=PALETTE[0]).encode(
        y=alt.Y("p10:Q", title=y_title, axis=alt.Axis(format=fmt)), y2=alt.Y2("p90:Q")))
    layers.append(base.mark_line(strokeWidth=2.5, color=PALETTE[0], point=True).encode(
        y=alt.Y("p50:Q"),
        tooltip=[alt.Tooltip("x:Q", title=x_title, format=".0%"),
                 alt.Tooltip("p10:Q", title="P10", format=fmt),
                 alt.Tooltip("p50:Q", title="Median", format=fmt),
                 alt.Tooltip("p90:Q", title="P90", format=fmt)]))
    if marked:
        # Rows of MARKS: x (share), label, colour, level (0 or 1: the label's height).
        marker = alt.Chart(marks_data())
        colour = alt.Color("colour:N", scale=None)
        layers.append(marker.mark_rule(strokeDash=[6, 4], strokeWidth=2).encode(
            x=alt.X("x:Q", scale=x_scale), color=colour))
        for level in (0, 1):
            layers.append(marker.transform_filter(alt.datum.level == level).mark_text(
                align="left", dx=5, baseline="top", fontSize=FONT_SIZE,
                fontWeight="bold").encode(x=alt.X("x:Q", scale=x_scale),
                                          y=alt.YValue(4.0 + 20 * level),
                                          text=alt.Text("label:N"), color=colour))
    return _style(alt.layer(*layers), height=height)


@cached_chart
def split_map_chart(cells: pd.DataFrame, value_title: str, *, unit: str = "money",
                    step: float = 5.0, markers: pd.DataFrame | None = None,
                    flag_label: str = "", height: int = 560) -> alt.Chart:
    """Map of three-way budget splits: cold share on x, warm share on y (hot is the rest),
    one square per split coloured by `value`.

    cells: columns cold, warm, hot (percent), value, label (the split as text) and optionally
    note (text for the tooltip), flag (bool: a small dot in the cell, named flag_label in the
    legend) and faded (bool: drawn pale, e.g. outside the allowed range). markers: columns
    cold, warm, kind and label, at most five; each kind gets its own symbol in the legend and
    the label is written beside it (the first above, the second below, the rest to the left).
    """
    data = cells.copy()
    half = step / 2
    data["x0"], data["x1"] = data["cold"] - half, data["cold"] + half
    data["y0"], data["y1"] = data["warm"] - half, data["warm"] + half
    if "faded" not in data:
        data["faded"] = False
    if "note" not in data:
        data["note"] = ""
    data["opacity"] = np.where(data["faded"], 0.3, 1.0)
    fmt = _axis_format(unit)
    scale = alt.Scale(domain=[-half, 100 + half], nice=False, zero=False)
    ticks = list(range(0, 101, 10))
    layers: list[alt.Chart] = [alt.Chart(data).mark_rect(stroke="white", strokeWidth=0.5).encode(
        x=alt.X("x0:Q", title="Cold traffic (% of budget)", scale=scale,
                axis=alt.Axis(values=ticks, grid=False)),
        x2=alt.X2("x1:Q"),
        y=alt.Y("y0:Q", title="Warm leads (% of budget)", scale=scale,
                axis=alt.Axis(values=ticks, grid=False)),
        y2=alt.Y2("y1:Q"),
        color=alt.Color("value:Q", title=value_title, scale=alt.Scale(scheme="viridis"),
                        legend=alt.Legend(orient="right", format=fmt, gradientLength=320,
                                          titleLimit=320, direction="vertical")),
        opacity=alt.Opacity("opacity:Q", legend=None, scale=None),
        tooltip=[alt.Tooltip("label:N", title="Split (cold/warm/hot, %)"),
                 alt.Tooltip("value:Q", title=value_title, format=fmt),
                 alt.Tooltip("note:N", title="Against the best")])]
    flagged = data[data["flag"].astype(bool)] if flag_label and "flag" in data else data[:0]
    marks = markers if markers is not None else pd.DataFrame(
        columns=["cold", "warm", "kind", "label"])
    kinds = ([flag_label] if len(flagged) else []) + list(dict.fromkeys(marks["kind"]))
    if not kinds:
        return _style(alt.layer(*layers), height=height)
    symbols = (["circle"] if len(flagged) else []) + [
        "square", "diamond", "triangle-up", "cross", "triangle-down"][: len(kinds) - bool(
            len(flagged))]
    shape = alt.Shape("kind:N", title=None, sort=kinds,
                      scale=alt.Scale(domain=kinds, range=symbols),
                      legend=alt.Legend(orient="bottom", direction="vertical", symbolSize=140,
                                        symbolFillColor="#111"))
    point_x = alt.X("cold:Q", scale=scale)
    point_y = alt.Y("warm:Q", scale=scale)
    if len(flagged):
        dots = pd.DataFrame({"cold": flagged["cold"], "warm": flagged["warm"],
                             "kind": flag_label, "label": flagged["label"]})
        layers.append(alt.Chart(dots).mark_point(filled=True, size=22, color="#111",
                                                 opacity=0.75).encode(
            x=point_x, y=point_y, shape=shape,
            tooltip=[alt.Tooltip("label:N", title="Split (cold/warm/hot, %)"),
                     alt.Tooltip("kind:N", title="Mark")]))
    if len(marks):
        # Dark symbols ringed in white: Vega-Lite draws a filled point's legend symbol with
        # its fill and no stroke, so a white symbol with a dark ring showed a blank legend.
        layers.append(alt.Chart(marks).mark_point(filled=True, fill="#111", stroke="white",
                                                  strokeWidth=2, size=260, opacity=1).encode(
            x=point_x, y=point_y, shape=shape,
            tooltip=[alt.Tooltip("kind:N", title="Mark"),
                     alt.Tooltip("label:N", title="Split (cold/warm/hot, %)")]))
        placements = [{"align": "left", "dx": 11, "dy": -13},
                      {"align": "left", "dx": 11, "dy": 15},
                      {"align": "right", "dx": -12, "dy": -13},
                      {"align": "right", "dx": -12, "dy": 15},
                      {"align": "left", "dx": 14, "dy": 0}]
        for index, (_, row) in enumerate(marks.iterrows()):
            one = alt.Chart(pd.DataFrame([row]))
            place = placements[index % len(placements)]
            for extra in ({"stroke": "white", "strokeWidth": 4}, {}):
                layers.append(one.mark_text(fontSize=FONT_SIZE, fontWeight="bold",
                                            color="#111", **place, **extra).encode(
                    x=point_x, y=point_y, text=alt.Text("label:N")))
    return _style(alt.layer(*layers), height=height)


@cached_chart
def assumption_chart(draws: np.ndarray, low: float, high: float, label: str,
                     unit: str = "ratio", bins: int = 30, height: int = 90) -> alt.Chart:
    """Small histogram of one uncertain input's draws with its 90% interval (low to high, in
    the input's own units) shaded and its ends written, as Guesstimate and Squiggle show inputs.

    unit: "money", "share", "count" or "ratio" (axis format). The bars are shares of the draws;
    the y axis is left out because only the shape matters. Tails beyond the 0.5th and 99.5th
    percentiles are folded into the end bins so one extreme draw does not flatten the picture.
    """
    values = np.asarray(draws, dtype=float)
    values = values[np.isfinite(values)]
    if values.size:
        start, stop = np.percentile(values, [0.5, 99.5])
    else:
        start, stop = low, high
    start, stop = float(min(start, low)), float(max(stop, high))
    if stop <= start:
        stop = start + max(abs(start) * 0.01, 1e-9)
    edges = np.linspace(start, stop, bins + 1)
    counts, _ = np.histogram(np.clip(values, start, stop), bins=edges)
    bars = pd.DataFrame({"x0": edges[:-1], "x1": edges[1:],
                         "share": counts / max(values.size, 1)})
    # Shares of small rates (0.5%) need decimals that the page-wide ".0%" would round away.
    fmt = ".3~%" if unit == "share" else _axis_format(unit)
    scale = alt.Scale(domain=[start, stop], nice=False, zero=False)
    x = alt.X("x0:Q", title=None, scale=scale, axis=alt.Axis(format=fmt, tickCount=5))
    interval = pd.DataFrame({"low": [float(low)], "high": [float(high)],
                             "interval": ["90% interval"]})
    band = alt.Chart(interval).mark_rect(opacity=0.15, color=PALETTE[1]).encode(
        x=alt.X("low:Q", scale=scale), x2=alt.X2("high:Q"),
        tooltip=[alt.Tooltip("low:Q", title="5th percentile", format=fmt),
                 alt.Tooltip("high:Q", title="95th percentile", format=fmt)])
    histogram = alt.Chart(bars).mark_bar(color=PALETTE[0], opacity=0.85).encode(
        x=x, x2=alt.X2("x1:Q"), y=alt.Y("share:Q", axis=None), y2=alt.Y2Datum(0),
        tooltip=[alt.Tooltip("x0:Q", title="From", format=fmt),
                 alt.Tooltip("x1:Q", title="To", format=fmt),
                 alt.Tooltip("share:Q", title="Share of draws", format=".1%")])
    ends = pd.DataFrame({"x": [float(low), float(high)], "align": ["right", "left"],
                         "end": ["low", "high"]})
    rules = alt.Chart(ends).mark_rule(color=PALETTE[1], strokeWidth=2).encode(x=alt.X(
        "x:Q", scale=scale))
    layers: list[alt.Chart] = [band, histogram, rules]
    for end, align, dx in (("low", "right", -3), ("high", "left", 3)):
        layers.append(alt.Chart(ends[ends["end"] == end]).mark_text(
            align=align, dx=dx, baseline="top", y=2, fontSize=FONT_SIZE - 2,
            color="#7a4300").encode(x=alt.X("x:Q", scale=scale),
                                    text=alt.Text("x:Q", format=fmt)))
    title = alt.TitleParams(label, anchor="start", fontSize=FONT_SIZE, fontWeight="normal")
    return _style(alt.layer(*layers, title=title), height=height)


#: Width (px) a chart whose width follows its container is drawn at when it becomes a picture.
PICTURE_WIDTH = 900


def chart_png(chart: alt.TopLevelMixin, scale: float = 2.0, *, width: int | None = None,
              height: int | None = None, font_size: int | None = None) -> bytes:
    """Return the chart as a PNG picture (bytes), drawn by vl-convert without a browser or
    network, for reports and slides. Pixel size is (width, height) x scale.

    A chart that follows its container's width (every chart of this module) is drawn
    `width` px wide (PICTURE_WIDTH by default); `height` replaces the plot's height. Both apply
    only to single and layered charts: a concatenated chart keeps the sizes of its parts.
    font_size replaces the axis and legend text size (px), e.g. larger type for slides.
    """
    spec = chart.to_dict()
    single = not any(key in spec for key in ("hconcat", "vconcat", "concat", "facet", "repeat"))
    if single and (width is not None or spec.get("width") == "container"):
        spec["width"] = width or PICTURE_WIDTH
    if single and height is not None:
        spec["height"] = height
    if font_size is not None:
        config = spec.setdefault("config", {})
        for part in ("axis", "legend"):
            config.setdefault(part, {}).update(labelFontSize=font_size, titleFontSize=font_size)
        # Larger labels collide sooner: let Vega drop every other one where they would.
        config["axis"].setdefault("labelOverlap", True)
        config["axis"].setdefault("labelSeparation", 8)
        config.setdefault("title", {})["fontSize"] = font_size + 2
    # Transparent pixels turn black in some slide and PDF viewers.
    spec.setdefault("background", "white")
    return _render_png(json.dumps(spec, sort_keys=True), float(scale))


@lru_cache(maxsize=48)
def _render_png(spec_json: str, scale: float) -> bytes:
    """Draw a Vega-Lite spec (JSON text) as PNG; cached because one page's HTML, PDF and
    slides draw the same charts (a few hundred kB each, so 48 stay well under 50 MB)."""
    import vl_convert  # imported here: it takes seconds and only reports need it

    return bytes(vl_convert.vegalite_to_png(spec_json, scale=scale))


#: Axis, legend and label text (px) on a presenter slide: readable from the back of a room.
SLIDE_FONT_SIZE = 20
#: Longest axis label (px) on a slide: whole input and plan names, not "Retention spend sc…".
SLIDE_LABEL_LIMIT = 560
# Room (px) the x axis (labels and title) and a legend's title take from a slide chart's height.
_SLIDE_X_AXIS_PX = 80
_SLIDE_LEGEND_EXTRA_PX = 140
# Area (px²) of a legend symbol on a slide: a diamond of the page's 140 px² reads as a dot.
_SLIDE_SYMBOL_SIZE = 360


def for_slide(chart: alt.TopLevelMixin, height: int, font_size: int = SLIDE_FONT_SIZE, *,
              titled: bool = True) -> dict:
    """Return the chart's Vega-Lite spec as a presenter slide shows it (st.vega_lite_chart):
    axis, legend and title text at `font_size` px (labels written on the marks 2 px smaller),
    legends on the right (a slide is wider than tall: a legend below would squash the plot),
    colour bars no taller than the plot, axis labels up to SLIDE_LABEL_LIMIT px, and (single
    or layered charts) `height` px tall in all, axes and legend included, and as wide as the
    slide. `titled=False` drops the chart's own title (the slide names it). The one place
    presenter charts are configured."""
    spec = chart.to_dict()
    config = spec.setdefault("config", {})
    for part in ("axis", "legend"):
        config.setdefault(part, {}).update(labelFontSize=font_size, titleFontSize=font_size)
    config["axis"].update(labelOverlap=True, labelSeparation=8, labelLimit=SLIDE_LABEL_LIMIT)
    config["legend"].update(labelLimit=600, symbolSize=_SLIDE_SYMBOL_SIZE, orient="right")
    config.setdefault("title", {})["fontSize"] = font_size + 2
    config.setdefault("text", {})["fontSize"] = font_size - 2
    gradient = max(100, int(height) - _SLIDE_X_AXIS_PX - _SLIDE_LEGEND_EXTRA_PX)
    _enlarge_for_slide(spec, font_size, gradient)
    if not titled:
        spec.pop("title", None)
    single = not any(key in spec for key in ("hconcat", "vconcat", "concat", "facet", "repeat"))
    if single:
        spec["height"] = int(height)
        spec["width"] = "container"
        spec["autosize"] = {"type": "fit", "contains": "padding"}
    return spec


def _enlarge_for_slide(node: object, font_size: int, gradient: int) -> None:
    # Settings written on a mark, axis or legend win over the config, so the chart helpers'
    # page sizes (labels at 12-14 px, a 320 px colour bar, a legend below) are replaced here.
    if isinstance(node, list):
        for item in node:
            _enlarge_for_slide(item, font_size, gradient)
        return
    if not isinstance(node, dict):
        return
    mark = node.get("mark")
    if isinstance(mark, dict) and mark.get("type") == "text":
        mark["fontSize"] = max(mark.get("fontSize", 0), font_size - 2)
    title = node.get("title")
    if isinstance(title, dict) and "fontSize" in title:
        title["fontSize"] = max(title["fontSize"], font_size)
    for channel in (node.get("encoding") or {}).values():
        if not isinstance(channel, dict):
            continue
        axis = channel.get("axis")
        if isinstance(axis, dict) and "labelLimit" in axis:
            axis["labelLimit"] = max(axis["labelLimit"], SLIDE_LABEL_LIMIT)
        legend = channel.get("legend")
        if isinstance(legend, dict):
            if legend.get("orient", "right") != "right":
                legend.update(orient="right", direction="vertical")
            if "gradientLength" in legend:
                legend["gradientLength"] = min(legend["gradientLength"], gradient)
            if "symbolSize" in legend:
                legend["symbolSize"] = max(legend["symbolSize"], _SLIDE_SYMBOL_SIZE)
    _enlarge_for_slide(node.get("layer"), font_size, gradient)
