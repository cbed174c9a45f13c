"""Presenter slides and report downloads drawn from a page's `PageAnswer` (issue 15).

`ui.layout.show_answer` calls `draw_slide` in presenter mode (``?present=1``): the page becomes
one slide that fits the screen (decision, up to four figures, one chart filling the rest,
footer with scenario, seed, trials and "3 / 7", Previous/Next buttons and the arrow keys) and
the script stops there. In normal mode `download_row` offers the page's answer and the whole
deck as HTML, PDF and PowerPoint, built only when clicked.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qsl

import streamlit as st
import streamlit.components.v1 as components

from ui import charts
from ui.answers import SLIDES, assumption_pictures, build_deck, slide_index
from ui.format import plain
from ui.report import (
    MIME_TYPES,
    PageAnswer,
    ReportError,
    ReportMeta,
    assumptions_from_scenario,
    report_filename,
    report_html,
    report_pdf,
    report_pptx,
)
from ui.state import PageContext, keep_for_page_switch, share_query

#: Keys that move between slides (KeyboardEvent.key values).
NEXT_KEYS = ("ArrowRight", "PageDown")
PREVIOUS_KEYS = ("ArrowLeft", "PageUp")

# Listens on the app's document (the component runs in an iframe) and clicks the slide buttons,
# so the keys do exactly what the buttons do. Each slide's iframe replaces the previous
# listener: a listener whose iframe is gone stops running in Chromium.
_KEYS_JS = """
<script>
const doc = window.parent.document;
if (doc.funnelDeckKeys) doc.removeEventListener('keydown', doc.funnelDeckKeys);
doc.funnelDeckKeys = (event) => {
  const tag = (event.target && event.target.tagName) || '';
  if (['INPUT', 'TEXTAREA', 'SELECT'].includes(tag)) return;
  const next = %s.includes(event.key), back = %s.includes(event.key);
  if (!next && !back) return;
  const button = doc.querySelector((next ? '.st-key-slide_next' : '.st-key-slide_previous')
                                    + ' button');
  if (button && !button.disabled) { event.preventDefault(); button.click(); }
};
doc.addEventListener('keydown', doc.funnelDeckKeys);
</script>
"""

#: Total chart height (px) and its axis and legend text (px) on a tall screen (1080 px) and
#: on a short one (up to 900 px): what the title, a two-line decision, figures with two-line
#: labels and the footer leave, with about 40 px to spare (tests/browser/test_deck.py).
SLIDE_CHART_SIZES = {"tall": (650, charts.SLIDE_FONT_SIZE), "short": (390, 18)}

_FORMATS = (("html", "HTML"), ("pdf", "PDF"), ("pptx", "PowerPoint"))
_BUILDERS = {"html": report_html, "pdf": report_pdf, "pptx": report_pptx}


def _go(context: PageContext, index: int) -> None:
    # The session keeps scenario, seed, trials, present and changed fields and ui.state writes
    # them into the new page's URL; the query is passed too, so the link is complete at once.
    query = dict(parse_qsl(share_query(context)))
    keep_for_page_switch(context)
    st.switch_page(SLIDES[index].script, query_params=query)


def draw_slide(context: PageContext, answer: PageAnswer,
               body: Callable[[int, int], None] | None = None) -> None:
    """Draw `answer` as one slide and stop the script. `body(height, font_size)` replaces the
    chart (the Assumptions slide draws its small pictures there), given the px the chart
    would take and its text size."""
    index = slide_index(answer.page)
    with st.container(key="slide"):
        st.markdown(f"<div class='slide-title'>{plain(answer.title)}</div>",
                    unsafe_allow_html=True)
        with st.container(key="answer"):
            st.markdown(answer.decision)
        if answer.figures:
            for column, figure in zip(st.columns(len(answer.figures)), answer.figures,
                                      strict=True):
                column.metric(figure.label, figure.value_text)
        with st.container(key="slide_chart"):
            # Two sizes, one shown by the CSS for the screen's height (ui.layout): the
            # browser knows the viewport, the script does not.
            for size, (height, font_size) in SLIDE_CHART_SIZES.items():
                if body is None and answer.chart is None:
                    break
                with st.container(key=f"slide_chart_{size}"):
                    if body is not None:
                        body(height, font_size)
                    else:
                        st.vega_lite_chart(
                            spec=charts.for_slide(answer.chart, height, font_size),
                            width="stretch")
        with st.container(key="slide_footer", horizontal=True,
                          vertical_alignment="center"):
            previous = st.button("Previous", key="slide_previous",
                                 icon=":material/arrow_back:", disabled=index == 0)
            st.markdown(
                f"Scenario **{plain(context.scenario.name)}** · seed {context.seed} · "
                f"{context.trials:,} trials · {context.horizon} months · "
                f"<span class='slide-number'>{index + 1} / {len(SLIDES)}</span>",
                unsafe_allow_html=True)
            following = st.button("Next", key="slide_next", icon=":material/arrow_forward:",
                                  disabled=index == len(SLIDES) - 1)
            st.button("Leave", key="leave_present", on_click=_leave_presenter,
                      icon=":material/close_fullscreen:",
                      help="Leave presenter mode: show the sidebar and the inputs again.")
    components.html(_KEYS_JS % (list(NEXT_KEYS), list(PREVIOUS_KEYS)), height=0)
    if previous or following:
        # In the script, not a callback: the sidebar's widgets (seed, trials, presenter flag)
        # have been drawn in this run, so their values survive the switch.
        _go(context, index + (1 if following else -1))
    st.stop()


def _leave_presenter() -> None:
    st.session_state["present"] = False


def report_meta(context: PageContext, share_link: str) -> ReportMeta:
    """Return how to reproduce a report of this context (name, file, seed, trials, link)."""
    return ReportMeta(context.scenario.name, context.stem if not context.overrides else "",
                      context.seed, context.trials, context.horizon, share_link)


def report_bytes(kind: str, answers: list[PageAnswer], context: PageContext,
                 share_link: str) -> bytes:
    """Return the report of `answers` as `kind` ("html", "pdf" or "pptx") with the appendix
    of every assumption (the top drivers pictured)."""
    pictured = {a.path: a for a in assumption_pictures(context)}
    listed = [pictured.get(a.path, a) for a in assumptions_from_scenario(context.scenario)]
    return _BUILDERS[kind](answers, listed, report_meta(context, share_link))


#: Session key of the reports that could not be made: {button key: (share link, reason)}.
FAILED_REPORTS_KEY = "_report_failures"


def report_maker(kind: str, answers: Callable[[], list[PageAnswer]], context: PageContext,
                 share_link: str, failures: dict[str, tuple[str, str]], key: str
                 ) -> Callable[[], bytes]:
    """Return the function that makes a report file when its download button is clicked.

    Streamlit runs it on a worker thread after the click (no Streamlit calls there). A
    report that cannot be made raises, so the button says the download failed, and its
    reason is kept in `failures` under `key` for the page to show on its next run."""
    def make() -> bytes:
        try:
            data = report_bytes(kind, answers(), context, share_link)
        except ReportError as error:
            failures[key] = (share_link, str(error))
            raise
        failures.pop(key, None)
        return data

    return make


def download_row(context: PageContext, answer: PageAnswer, share_link: str) -> None:
    """Draw "Download report" (this page) and "Download the whole deck" as HTML, PDF and
    PowerPoint. One click makes the file (it can take seconds; the button spins meanwhile)
    and saves it; a file that could not be made says why on the page's next run. The whole
    deck holds this page's answer with the settings chosen on it and every other page with
    its default settings."""
    meta = report_meta(context, share_link)
    failed: dict[str, tuple[str, str]] = st.session_state.setdefault(FAILED_REPORTS_KEY, {})
    failures = []
    with st.container(key="downloads", horizontal=True, vertical_alignment="center"):
        for whole, words in ((False, "Download report"), (True, "Download the whole deck")):
            scope = "deck" if whole else "page"
            st.markdown(f"**{words}:**")
            answers = ((lambda: build_deck(context, answer)) if whole else (lambda: [answer]))
            for kind, name in _FORMATS:
                key = f"report_{scope}_{kind}"
                if key in failed and failed[key][0] == share_link:
                    failures.append(f"{name} ({words.lower()}): {failed[key][1]}")
                stem = report_filename(meta, kind).rsplit(".", 1)[0]
                st.download_button(
                    name, data=report_maker(kind, answers, context, share_link, failed, key),
                    mime=MIME_TYPES[kind],
                    file_name=f"{stem}-{scope if whole else answer.page}.{kind}",
                    on_click="ignore", icon=":material/download:", key=key,
                    help=f"Make and save the {name} file (it takes a few seconds).")
    for failure in failures:
        st.error(f"The report could not be made: {failure}")
