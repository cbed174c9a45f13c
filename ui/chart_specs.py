"""How a chart reaches the browser: Altair charts as the Vega-Lite specs Streamlit sends.

Specs are made once per chart and copied out; charts whose rows change with the settings are
a layout built once plus their rows (`with_rows`, `with_marks`), so the browser swaps rows
into a chart already drawn; `show_chart` draws every page chart, on a canvas. The chart kinds
themselves are in `ui.charts`.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping

import altair as alt
import pandas as pd
import streamlit as st
from streamlit.dataframe_util import convert_anything_to_arrow_bytes
from streamlit.delta_generator import DeltaGenerator

# Streamlit's own conversion of an Altair chart (its data transformer, theme and locks), so a
# chart drawn by `show_chart` reaches the browser exactly as `st.altair_chart` would send it.
from streamlit.elements.vega_charts import (
    _convert_altair_to_vega_lite_spec as _streamlit_spec,
)

from ui.memo import LruTable, by_content

#: Streamlit draws charts as SVG, one DOM element per mark and label (the Guarantee's lift map
#: alone made 1,675), unless the spec asks for a canvas (`usermeta.embedOptions.renderer`).
#: Page charts ask for one: A/B of ten Guarantee length steps, three runs, medians 1.21 ->
#: 1.08, 1.07 -> 0.99 and 0.98 -> 0.88 s; warm Guarantee opens 0.84x (same browser), other
#: pages unchanged. Only drawing on a canvas for the maps gained nothing (1.07 -> 1.08 s).
#: Slides (`for_slide`) stay SVG, sharp when a projector scales them.
CANVAS = {"embedOptions": {"renderer": "canvas"}}


class _Unvalidated:
    """An Altair chart whose `to_dict` skips Altair's JSON-schema validation."""

    def __init__(self, chart: alt.TopLevelMixin):
        self.chart = chart

    def to_dict(self) -> dict:
        return self.chart.to_dict(validate=False)


#: Charts kept per chart kind (and specs in all) for reuse across reruns and sessions: a page
#: draws at most five charts of one kind, so this holds every page's charts for a dozen
#: scenarios and settings; the tables behind them are small (binned or per-month rows).
CHART_CACHE_SIZE = 64

#: Build each chart once per content of its arguments (ui.memo): a rerun then skips Altair's
#: chart construction, and `vega_spec` finds the chart's finished spec by identity. Charts are
#: shared between sessions, so nothing may change one in place (Altair's `.properties(...)`
#: and friends return copies).
cached_chart = by_content(CHART_CACHE_SIZE)
#: id(chart) -> (chart, its spec); keeping the chart keeps its id from being reused.
_specs = LruTable(4 * CHART_CACHE_SIZE)


#: Markers (dashed rules at chosen values: the chosen guarantee length, today's and the best
#: share) are drawn from the dataset of this name. A chart's markers are rows of it, not layers
#: of their own, so when only a marker moves the chart's spec stays the same, no chart is built
#: or converted anew, and the browser swaps the chart's data in place instead of drawing the
#: chart again (Streamlit redraws a Vega chart only when its spec or dataset names change).
MARKS = "marks"
#: Charts whose rows change with every setting (a chosen length's refund fans, a desk run) draw
#: them from datasets named with this prefix (`rows_data`): the chart without rows is built
#: once per layout, and `with_rows` adds each setting's rows (see MARKS for why).
ROWS_PREFIX = "rows-"
#: id(chart with datasets) -> (that chart, the chart without them, name -> rows or the Arrow
#: bytes sent for them); see `with_marks` and `with_rows`.
_marked = LruTable(4 * CHART_CACHE_SIZE)
#: (id(chart), rows as JSON) -> (chart, marked chart): the same marked chart for the same rows.
_marked_by_rows = LruTable(4 * CHART_CACHE_SIZE)


def marks_data() -> alt.NamedData:
    """The data of a chart's marker layers: the MARKS dataset that `with_marks` fills."""
    return alt.NamedData(name=MARKS)


def rows_data(name: str) -> alt.NamedData:
    """The data of a chart built once per layout: its dataset `name`, filled by `with_rows`."""
    return alt.NamedData(name=ROWS_PREFIX + name)


def is_named_by_chart(dataset: str) -> bool:
    """Whether a dataset's name is the chart helpers' own (markers, rows) rather than the
    content hash Streamlit gives a table inside a chart."""
    return dataset == MARKS or dataset.startswith(ROWS_PREFIX)


def _with_datasets(chart: alt.TopLevelMixin, datasets: dict[str, list[dict[str, object]]],
                   sent: Mapping[str, bytes] | None = None) -> alt.TopLevelMixin:
    """`chart` with these top-level datasets (name -> rows), registered for `vega_spec`, which
    sends a dataset named in `sent` as those Arrow bytes instead of its rows."""
    # A new top-level chart that shares its parts with `chart` (nothing changes a chart in
    # place, see cached_chart). `chart.properties(datasets=...)` would do the same but copy
    # every layer and check every row against the schema: 40 ms for a 72-row fan chart.
    marked = copy.copy(chart)
    object.__setattr__(marked, "_kwds", {**chart._kwds, "datasets": datasets})
    _marked.put(id(marked), (marked, chart, {**datasets, **(sent or {})}))
    return marked


def with_marks(chart: alt.TopLevelMixin, rows: list[dict[str, object]]) -> alt.TopLevelMixin:
    """`chart`, whose marker layers draw from `marks_data()`, with these marker rows as its
    MARKS dataset (a top-level dataset: a picture of it in a report shows the markers too).

    `vega_spec` of the result is the spec of `chart`, made once, with the rows added.
    """
    key = (id(chart), json.dumps(rows, sort_keys=True))
    found = _marked_by_rows.get(key)
    if found is None or found[0] is not chart:
        found = (chart, _with_datasets(chart, {MARKS: [dict(row) for row in rows]}))
        _marked_by_rows.put(key, found)
    return found[1]


def with_rows(chart: alt.TopLevelMixin, tables: Mapping[str, pd.DataFrame]) -> alt.TopLevelMixin:
    """`chart`, built once per layout on `rows_data(name)`, with these tables as its datasets.

    `vega_spec` of the result is the spec of `chart`, made once, with the tables added as the
    Arrow bytes Streamlit makes of a table inside a chart: a new setting costs a table, not a
    chart built and converted anew (about 30 ms a chart), and the browser swaps the rows into
    the chart already drawn. The chart itself carries the rows too (`to_dict`: pictures and
    slides). Callers cache the result (`cached_chart`), so the same rows give the same chart.
    """
    names = {name: ROWS_PREFIX + name for name in tables}
    return _with_datasets(
        chart, {names[name]: _records(table) for name, table in tables.items()},
        sent={names[name]: convert_anything_to_arrow_bytes(table)
              for name, table in tables.items()})


def _records(table: pd.DataFrame) -> list[dict[str, object]]:
    """The table's rows as JSON-ready dicts (missing values as None, as Altair writes them)."""
    if table.isna().to_numpy().any():
        table = table.astype(object).where(table.notna(), None)
    return table.to_dict("records")


def vega_spec(chart: alt.TopLevelMixin) -> dict:
    """The Vega-Lite spec Streamlit sends for `chart` (its tables as Arrow datasets named by
    content hash), built without Altair's JSON-schema validation: the helpers here build
    charts from valid parts, and validating the spec took about a third of a page's server
    time (README, "Performance"). The spec of a chart from `cached_chart` is made once and
    copied out (Streamlit edits the spec it is given); a chart from `with_marks` is the spec
    of its chart without rows plus the rows. tests/unit/test_charts_spec.py checks the spec
    equals the one `st.altair_chart` sends."""
    marked = _marked.get(id(chart))
    if marked is not None and marked[0] is chart:
        spec = vega_spec(marked[1])
        # Streamlit turns rows into Arrow tables without changing them: the lists are copied,
        # the rows shared; Arrow bytes are sent as they are.
        spec.setdefault("datasets", {}).update(
            {name: rows if isinstance(rows, bytes) else list(rows)
             for name, rows in marked[2].items()})
        return spec
    found = _specs.get(id(chart))
    if found is None or found[0] is not chart:
        spec = _names_by_position(_streamlit_spec(_Unvalidated(chart)))  # type: ignore[arg-type]
        _specs.put(id(chart), (chart, spec))
    else:
        spec = found[1]
    return copy.deepcopy(spec)


def _names_by_position(spec: dict) -> dict:
    """`spec` with its datasets named by their place in it ("data-0", "data-1", ...) instead
    of by a hash of their content. Streamlit's browser code builds a Vega chart anew when its
    spec or its datasets' names change, and otherwise replaces the data of the chart already
    drawn, which costs the browser a fraction of the drawing; with names by content, every
    change of data was a change of spec. Names need only be unique within one chart."""
    datasets = spec.get("datasets")
    if not datasets:
        return spec
    names = {old: f"data-{place}" for place, old in
             enumerate(name for name in datasets if not is_named_by_chart(name))}

    def rename(node: object) -> object:
        if isinstance(node, dict):
            return {key: ({**value, "name": names[value["name"]]}
                          if key == "data" and isinstance(value, dict)
                          and value.get("name") in names else rename(value))
                    for key, value in node.items()}
        if isinstance(node, list):
            return [rename(item) for item in node]
        return node

    renamed = rename({key: value for key, value in spec.items() if key != "datasets"})
    renamed["datasets"] = {names.get(name, name): rows for name, rows in datasets.items()}  # type: ignore[index]
    return renamed  # type: ignore[return-value]


_resized = LruTable(CHART_CACHE_SIZE)


def sized(chart: alt.TopLevelMixin, height: int) -> alt.TopLevelMixin:
    """`chart.properties(height=height)`, the same object each time for the same chart and
    height, so that `vega_spec` finds its spec made (a fresh copy per rerun is converted anew).
    """
    key = (id(chart), int(height))
    found = _resized.get(key)
    if found is None or found[0] is not chart:
        found = (chart, chart.properties(height=int(height)))
        _resized.put(key, found)
    return found[1]


def page_spec(chart: alt.TopLevelMixin) -> dict:
    """The spec `show_chart` sends: `vega_spec`, drawn on a canvas (see CANVAS)."""
    spec = vega_spec(chart)
    spec["usermeta"] = copy.deepcopy(CANVAS)
    return spec


def show_chart(chart: alt.TopLevelMixin, where: DeltaGenerator | None = None,
               **options: object) -> DeltaGenerator:
    """Draw an Altair chart on the page (or in the container `where`), as `st.altair_chart`
    with the same options (width="stretch", key, ...) would, without re-validating its spec,
    on a canvas. Every page draws its charts through this function."""
    return (where or st).vega_lite_chart(page_spec(chart), **options)  # type: ignore[arg-type]
