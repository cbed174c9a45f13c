"""Charts reach the browser unchanged: `ui.chart_specs.show_chart` sends the spec `st.altair_chart`
would send (same marks, encodings, config and Arrow datasets), only without re-validating it
and with its datasets named by place instead of by content, and `_style` sets the same sizes
and text sizes as before (one copy instead of four)."""

from __future__ import annotations

import json

import altair as alt
import numpy as np
import pandas as pd
import pytest
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec

from sim.splits import OBJECTIVES, Bounds
from ui import chart_specs, charts
from ui.splits import GRID, map_cells

rng = np.random.default_rng(5)
BANDS = {"A": {"p10": np.arange(12.0), "p50": np.arange(12.0) + 1, "p90": np.arange(12.0) + 2},
         "B": {"p10": -np.arange(12.0), "p50": 1 - np.arange(12.0), "p90": 2 - np.arange(12.0)}}
VALUES = rng.normal(1e5, 2e4, size=(len(GRID), 40))

def _sent_by_streamlit(chart: alt.TopLevelMixin) -> dict:
    """The spec `st.altair_chart` sends for `chart`, its datasets (other than the markers' and
    the rows the chart helpers name) renamed data-0, data-1, ... in the order Streamlit lists
    them."""
    spec = _convert_altair_to_vega_lite_spec(chart)
    datasets = spec.pop("datasets", {})
    text = json.dumps(spec)
    names = [name for name in datasets if not chart_specs.is_named_by_chart(name)]
    for place, name in enumerate(names):
        text = text.replace(f'"{name}"', f'"data-{place}"')
    renamed = json.loads(text)
    if datasets:
        renamed["datasets"] = {(f"data-{names.index(name)}" if name in names else name): rows
                               for name, rows in datasets.items()}
    return renamed


def _table(rows: bytes | list[dict]) -> pd.DataFrame:
    """A dataset as the browser gets it: Arrow bytes as sent, or rows Streamlit converts."""
    return (convert_arrow_bytes_to_pandas_df(rows) if isinstance(rows, bytes)
            else pd.DataFrame(rows))


def _assert_same_spec(sent: dict, expected: dict) -> None:
    """Same spec and, dataset by dataset, the same table (as Arrow bytes or as rows)."""
    sent, expected = dict(sent), dict(expected)
    sent_data, expected_data = sent.pop("datasets", {}), expected.pop("datasets", {})
    assert sent == expected
    assert list(sent_data) == list(expected_data)
    for name, rows in sent_data.items():
        pd.testing.assert_frame_equal(_table(rows), _table(expected_data[name]),
                                      check_dtype=False)


CHARTS = {
    "fan": lambda: charts.fan_chart(BANDS, "Profit ($)"),
    "distribution": lambda: charts.distribution_chart(
        {"A": rng.normal(size=500), "B": rng.normal(1, 1, size=500)}, "Profit ($)",
        reference=0.0, reference_label="break-even"),
    "interval": lambda: charts.interval_chart(pd.DataFrame(
        {"label": ["x", "y"], "p10": [-1.0, 0.0], "p50": [0.0, 1.0], "p90": [1.0, 2.0]}),
        "Profit ($)"),
    "split map": lambda: charts.split_map_chart(
        map_cells(VALUES, OBJECTIVES["mean_profit"], Bounds(), 3), "Median profit ($)"),
    "line": lambda: charts.line_chart(np.arange(1.0, 31.0), {"each day": np.arange(30.0),
                                                             "average": np.ones(30)},
                                      "Day", "$ per day", title="Refunds"),
    "line with dots": lambda: charts.line_chart(
        np.arange(1.0, 13.0), {"fit": np.linspace(1, 0.5, 12), "observed": np.linspace(1, 0.4, 12)},
        "Month", "Share left", "share", dots=("observed",)),
    "bar": lambda: charts.bar_chart(["1", "2", "3+"], np.array([5.0, 3.0, 1.0]), "Orders",
                                    "Customers"),
    "heatmap": lambda: charts.heatmap_chart(
        np.linspace(0, 0.2, 5), np.linspace(1, 2, 4), rng.normal(size=(4, 5)) * 1e4,
        "Lift", "Return multiplier", "Profit change ($)",
        lines={"break-even": (np.linspace(0, 0.2, 5), np.linspace(1, 2, 5))},
        points=(rng.uniform(0, 0.2, 30), rng.uniform(1, 2, 30)), points_label="futures"),
}


@pytest.mark.parametrize("name", list(CHARTS))
def test_the_spec_sent_is_the_one_st_altair_chart_sends(name: str) -> None:
    chart = CHARTS[name]()
    _assert_same_spec(chart_specs.vega_spec(chart), _sent_by_streamlit(chart))


def test_new_data_in_the_same_chart_keeps_its_spec_and_dataset_names() -> None:
    """Streamlit's browser code draws a Vega chart anew only when its spec or its datasets'
    names change; other data is swapped into the chart already drawn."""
    moved = {plan: {q: values * 1.5 + 3 for q, values in band.items()}
             for plan, band in BANDS.items()}
    one = chart_specs.vega_spec(charts.fan_chart(BANDS, "Profit ($)"))
    other = chart_specs.vega_spec(charts.fan_chart(moved, "Profit ($)"))
    data_one, data_other = one.pop("datasets"), other.pop("datasets")
    assert one == other
    assert list(data_one) == list(data_other) == ["rows-fan"]
    assert data_one["rows-fan"] != data_other["rows-fan"]


def test_a_renamed_plan_keeps_the_fan_charts_spec_and_its_colour_order() -> None:
    """The Guarantee's refund-timing fans name the chosen length and Budget split's fans the
    typed split: a new name is new rows, not a new spec (the chart is not drawn anew), and
    the plans keep their colours in the order given."""
    renamed = {"C": BANDS["A"], "B": BANDS["B"]}
    one = chart_specs.vega_spec(charts.fan_chart(BANDS, "Profit ($)"))
    other = chart_specs.vega_spec(charts.fan_chart(renamed, "Profit ($)"))
    data_one, data_other = one.pop("datasets"), other.pop("datasets")
    assert one == other
    assert list(data_one) == list(data_other) == ["rows-fan"]
    color = one["layer"][1]["encoding"]["color"]
    assert color["sort"] == {"field": "place", "op": "min"}
    assert color["scale"]["range"][:2] == charts.PALETTE[:2]
    assert "domain" not in color["scale"]
    rows = _table(data_other["rows-fan"])
    assert rows.groupby("plan")["place"].first().to_dict() == {"C": 0, "B": 1}


def test_charts_built_once_per_layout_carry_each_settings_rows() -> None:
    """Line, bar and map charts are their layout (built once) plus their rows: new values
    keep the spec, the rows are the values given, and the layout is left without rows (a
    picture of the chart, which reads `to_dict`, has the rows too)."""
    x = np.arange(1.0, 31.0)
    one = charts.line_chart(x, {"each day": x * 2, "average": x}, "Day", "$ per day")
    other = charts.line_chart(x, {"each day": x * 3, "average": x + 1}, "Day", "$ per day")
    spec_one, spec_other = chart_specs.vega_spec(one), chart_specs.vega_spec(other)
    rows_one, rows_other = spec_one.pop("datasets"), spec_other.pop("datasets")
    assert spec_one == spec_other
    frame = _table(rows_other["rows-lines"])
    assert frame[frame["series"] == "each day"]["y"].tolist() == (x * 3).tolist()
    assert frame[frame["series"] == "average"]["x"].tolist() == x.tolist()
    assert _table(rows_one["rows-lines"])["y"].sum() == (x * 2).sum() + x.sum()
    pd.testing.assert_frame_equal(_table(other.to_dict()["datasets"]["rows-lines"]), frame)
    assert "datasets" not in charts._line_layout(
        ("each day", "average"), (), "Day", "$ per day", "money", "", False, (), ",.0f", None,
        260, True, True).to_dict()

    z = np.array([[-3.0, 1.0], [2.0, 5.0]])
    grid = (np.array([0.0, 0.1]), np.array([1.0, 2.0]))
    first = chart_specs.vega_spec(charts.heatmap_chart(*grid, z, "x", "y", "z"))
    moved = chart_specs.vega_spec(charts.heatmap_chart(*grid, z[::-1], "x", "y", "z"))
    cells = _table(moved.pop("datasets")["rows-cells"])
    first.pop("datasets")
    assert first == moved  # same colour limit (5): same spec
    assert cells["z"].tolist() == [2.0, 5.0, -3.0, 1.0]
    assert cells[["x0", "x1"]].iloc[1].tolist() == pytest.approx([0.05, 0.15])
    assert moved["layer"][0]["encoding"]["color"]["scale"]["domain"] == [-5.0, 5.0]

    bars = chart_specs.vega_spec(charts.bar_chart(["1", "2+"], np.array([4.0, 1.0]), "Orders", "N"))
    assert _table(bars["datasets"]["rows-bars"]).to_dict("records") == [
        {"label": "1", "value": 4.0}, {"label": "2+", "value": 1.0}]
    assert bars["encoding"]["x"]["sort"] == ["1", "2+"]


def test_missing_values_in_rows_are_written_as_nulls() -> None:
    chart = charts.line_chart(np.arange(3.0), {"a": np.array([1.0, np.nan, 3.0])}, "x", "y")
    rows = chart.to_dict()["datasets"]["rows-lines"]
    assert [row["y"] for row in rows] == [1.0, None, 3.0]
    assert np.isnan(_table(chart_specs.vega_spec(chart)["datasets"]["rows-lines"])["y"][1])
    json.dumps(chart.to_dict(), allow_nan=False)  # a picture's spec is valid JSON


def test_page_charts_are_drawn_on_a_canvas_and_slides_as_svg() -> None:
    """Pages ask Streamlit for a canvas (Streamlit's default is SVG); slides stay SVG."""
    for name, build in CHARTS.items():
        chart = build()
        spec = chart_specs.page_spec(chart)
        assert spec.pop("usermeta") == {"embedOptions": {"renderer": "canvas"}}, name
        _assert_same_spec(spec, _sent_by_streamlit(chart))
        assert "usermeta" not in charts.for_slide(chart, 500), name


def test_style_sets_size_and_text_sizes_once() -> None:
    base = alt.Chart(pd.DataFrame({"x": [1, 2]})).mark_point().encode(x="x:Q")
    spec = charts._style(base, height=250).to_dict()
    assert spec["height"] == 250 and spec["width"] == "container"
    assert spec["autosize"] == {"type": "fit-x", "contains": "padding"}
    assert spec["config"]["axis"] == {"labelFontSize": 14, "titleFontSize": 14}
    assert spec["config"]["legend"] == {"labelFontSize": 14, "titleFontSize": 14,
                                        "orient": "bottom", "labelLimit": 400,
                                        "titleLimit": 700}
    assert spec["config"]["title"] == {"fontSize": 16}
    assert base.config is alt.Undefined  # the chart passed in is left as it was


def test_same_inputs_reuse_the_chart_and_its_spec_and_other_inputs_do_not() -> None:
    first = charts.fan_chart(BANDS, "Profit ($)")
    again = charts.fan_chart({k: {q: v.copy() for q, v in band.items()}
                              for k, band in BANDS.items()}, "Profit ($)")
    assert again is first  # equal content, fresh arrays: the chart built once is reused
    moved = {k: dict(band) for k, band in BANDS.items()}
    moved["B"] = {**moved["B"], "p90": moved["B"]["p90"] + 1e-9}
    assert charts.fan_chart(moved, "Profit ($)") is not first
    assert charts.fan_chart(BANDS, "Profit ($)", unit="share") is not first
    assert charts.fan_chart(dict(reversed(BANDS.items())), "Profit ($)") is not first
    spec = chart_specs.vega_spec(first)
    # The page may edit the spec it gets (Streamlit does): the next one is still whole.
    spec["datasets"].clear()
    spec["layer"][0]["encoding"]["y"]["title"] = "changed"
    _assert_same_spec(chart_specs.vega_spec(first), _sent_by_streamlit(first))


def test_a_cached_chart_stays_as_built_after_its_spec_is_taken() -> None:
    chart = CHARTS["split map"]()
    before = chart.to_dict()
    chart_specs.vega_spec(chart)
    chart_specs.vega_spec(chart)
    assert chart.to_dict() == before


def test_sized_is_properties_height_kept_per_chart() -> None:
    chart = CHARTS["interval"]()
    tall = chart_specs.sized(chart, 190)
    assert chart_specs.sized(chart, 190) is tall and chart_specs.sized(chart, 200) is not tall
    assert tall.to_dict() == chart.properties(height=190).to_dict()
    assert chart.to_dict()["height"] != 190  # the chart passed in is left as it was


def test_encodings_are_channel_objects_not_strings_or_value_dicts() -> None:
    # Altair 6.3 turns an encoding given as a string ("x:Q") or as alt.value()/alt.datum()
    # (dicts) into a channel through a converter that first hashes its whole schema, about 570
    # classes and 13 ms, every time; channel objects (alt.X("x:Q"), alt.YValue(0)) skip it.
    # Measured on a Sensitivity metric change: 1.09 -> 0.87 server CPU s (same specs sent).
    import re
    from pathlib import Path

    channels = "x|y|x2|y2|text|order|color|size|detail|tooltip|theta|opacity|shape|strokeDash"
    shorthand = re.compile(rf'\b({channels})="[A-Za-z_0-9.]+:[QNOT]"')
    as_dict = re.compile(rf"\b({channels})=alt\.(value|datum)\(")
    root = Path(charts.__file__).resolve().parent
    found = [f"{path.name}:{number}: {line.strip()}"
             for path in sorted(root.rglob("*.py"))
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if shorthand.search(line) or as_dict.search(line)]
    assert found == []


MARKED = {
    "band": lambda at: charts.band_chart(np.arange(12.0) + 1, BANDS, "Days", "Profit ($)",
                                         mark_x=at, log_x=True),
    "share sweep": lambda at: charts.share_sweep_chart(
        np.linspace(0, 0.5, 12), BANDS["A"], "Profit ($)",
        marks={"today": 0.1, "best": 0.3, "looked at": at / 24}, zone=(0.2, 0.35)),
}


@pytest.mark.parametrize("name", list(MARKED))
def test_a_moved_marker_changes_only_the_marks_dataset(name: str) -> None:
    first, moved = MARKED[name](3.0), MARKED[name](7.0)
    for chart in (first, moved):
        # What the page sends is what st.altair_chart would send for the chart with its marks.
        assert chart_specs.vega_spec(chart) == _sent_by_streamlit(chart)
    one, other = chart_specs.vega_spec(first), chart_specs.vega_spec(moved)
    marks = chart_specs.MARKS
    rows_one, rows_other = one["datasets"].pop(marks), other["datasets"].pop(marks)
    # Same spec and same dataset names: the browser swaps the data instead of redrawing.
    assert one == other
    assert rows_one != rows_other
    assert {row["x"] for row in rows_other} >= ({7.0} if name == "band" else {7.0 / 24})
    # The chart itself carries its marks, for a report's picture of it.
    assert first.to_dict()["datasets"][chart_specs.MARKS] == rows_one
    assert MARKED[name](3.0) is first  # the same marks: the same chart, no rebuild


def test_marker_layers_draw_from_the_marks_dataset() -> None:
    spec = chart_specs.vega_spec(MARKED["share sweep"](3.0))
    marker_layers = [layer for layer in spec["layer"]
                     if layer.get("data") == {"name": chart_specs.MARKS}]
    assert [layer["mark"]["type"] for layer in marker_layers] == ["rule", "text", "text"]
    labels = [row["label"] for row in spec["datasets"][chart_specs.MARKS]]
    assert labels == ["today", "best", "looked at"]
    assert [row["level"] for row in spec["datasets"][chart_specs.MARKS]] == [0, 1, 0]
