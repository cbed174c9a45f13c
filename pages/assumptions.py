"""Assumptions: every uncertain input in words and units, and the ones that matter most pictured
(the top of the Sensitivity tornado), so leadership sees what the answers rest on."""

import streamlit as st

from ui.answers import assumption_pictures, assumptions_answer
from ui.chart_specs import show_chart, sized
from ui.charts import for_slide
from ui.layout import footer, page_header, show_answer
from ui.state import current

context = current()
page_header(context, "Assumptions")
page_answer = assumptions_answer(context)
pictures = assumption_pictures(context)


# Height (px) the range written under a slide's picture takes (two lines at 1280 px wide).
SLIDE_RANGE_TEXT_PX = 70


def draw_pictures(height: int | None = None, font_size: int | None = None) -> None:
    """The top inputs' distributions side by side (each simulated future draws one value).
    On a slide they take `height` px with `font_size` px axis text, untitled: the figures
    above them name the inputs."""
    if not pictures:
        st.info("No input of this scenario is uncertain, so there is nothing to picture.")
        return
    for column, item in zip(st.columns(len(pictures)), pictures, strict=True):
        with column:
            if height is None or font_size is None:
                show_chart(sized(item.chart, 160), width="stretch")
            else:
                st.vega_lite_chart(for_slide(item.chart, height - SLIDE_RANGE_TEXT_PX,
                                             font_size, titled=False), width="stretch")
            st.markdown(item.value_text)


show_answer(context, page_answer, metrics=False, body=draw_pictures)

st.subheader("The inputs that move profit most")
draw_pictures()
st.caption(f"Histograms of {context.trials:,} draws (seed {context.seed}); the shaded band "
           "and the two lines mark the 90% interval. Order: the Sensitivity tornado of the "
           "base plan's profit (each input swung from its P10 to its P90).")

st.subheader("Every uncertain input")
if page_answer.table is not None:
    st.dataframe(page_answer.table, hide_index=True, width="stretch")
st.caption("Change a range on the Scenario page; every page and report follows.")
footer(context, page_path="assumptions")
