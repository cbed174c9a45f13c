"""Small pictures of one uncertain input, as Guesstimate and Squiggle show them: a histogram of
its draws with the 90% interval marked (the Scenario page draws one beside each range)."""

from __future__ import annotations

import ast

import streamlit as st

from sim.distributions import quantile, uniforms
from sim.scenario import KINDS, field_info, parse_value
from ui.chart_specs import vega_spec
from ui.charts import assumption_chart
from ui.draft import FORM_PARAMS, form_value
from ui.report.model import chart_unit_of, describe_assumption

#: Draws behind each small distribution picture on the Scenario page.
PICTURE_DRAWS = 2_000


@st.cache_data(max_entries=512, show_spinner=False)
def distribution_picture(path: str, typed: str) -> dict | None:
    """Return the Vega-Lite spec (as `ui.chart_specs.vega_spec` gives it) of a small histogram of
    PICTURE_DRAWS draws of the field at `path` as typed (`typed`: repr of its sorted
    (parameter, number) pairs) with its 90% interval marked, or None when the typed value does
    not fit the field (its problem is shown beside it). Sampled for this one field only, on a
    fixed stream, so it redraws as the low and high are typed."""
    info = field_info(path)
    params = dict(ast.literal_eval(typed))
    form = next((name for name, names in FORM_PARAMS.items() if set(names) == set(params)),
                None)
    if form is None:
        return None
    kind = KINDS[info.kind]
    try:
        value = parse_value(form_value(form, params), kind)
        _, low, high = describe_assumption(value, kind, info.unit)
    except (ValueError, TypeError):
        return None
    draws = quantile(value, kind, uniforms(0, path, PICTURE_DRAWS))
    unit = chart_unit_of(kind.name, info.unit)
    # As show_chart sends it: the tables already Arrow bytes, so a rerun that draws the
    # cached picture converts nothing (inline rows cost 60 ms per picture and rerun).
    return vega_spec(assumption_chart(draws, low, high, f"{PICTURE_DRAWS:,} draws, 90% "
                                      "interval shaded", unit, height=70))
