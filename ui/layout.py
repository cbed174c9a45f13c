"""The frame every page shares: title, the one-sentence answer, controls, share link, footer.

Presenter mode (``?present=1``) hides the sidebar and every control (their values still come
from the link), enlarges the type and keeps the answers, charts and a footer with the
scenario, seed and trials so the audience can reproduce the numbers.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from ui.state import MAX_LINK_CHARS, PageContext, share_query

_PRESENTER_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stExpandSidebarButton"], .st-key-controls, .st-key-share { display: none; }
.stMainBlockContainer { max-width: 1400px; }
html, body, [data-testid="stAppViewContainer"] { font-size: 22px; }
.st-key-answer p { font-size: 2.0rem !important; line-height: 1.3; }
[data-testid="stMetricValue"] { font-size: 2.6rem; }
</style>
"""
_BASE_CSS = """
<style>
.st-key-answer p { font-size: 1.45rem; font-weight: 600; line-height: 1.35; }
.st-key-footer p { color: #555; font-size: 0.9rem; }
</style>
"""


def page_header(context: PageContext, title: str) -> None:
    """Draw the page title, the scenario's description and any link problems."""
    st.markdown(_PRESENTER_CSS if context.present else _BASE_CSS, unsafe_allow_html=True)
    st.title(title)
    caption = context.scenario.name
    if context.overrides:
        changed = ", ".join(f"{path} = {value}" for path, value in context.overrides.items())
        caption += f" — changed from the saved file: {changed}"
    st.caption(caption)
    if context.scenario.description and not context.present:
        st.caption(context.scenario.description)
    if context.link_problems:
        lines = "\n".join(f"- {html.escape(p)}" for p in context.link_problems)
        st.warning(f"Some of this link or file could not be used:\n{lines}")


def answer(sentence: str) -> None:
    """Show the page's one-sentence answer, first and large (presenters read it out)."""
    with st.container(key="answer"):
        st.markdown(sentence)


@contextmanager
def controls() -> Iterator[None]:
    """A container for a page's inputs; hidden in presenter mode (values come from the link)."""
    with st.container(key="controls"):
        yield


def footer(context: PageContext, page_path: str = "") -> None:
    """Draw the share link and the line that lets anyone reproduce the numbers."""
    st.divider()
    query = share_query(context)
    base = _app_base_url()
    link = f"{base}{page_path}?{query}"
    with st.container(key="share"):
        if len(link) <= MAX_LINK_CHARS:
            st.markdown("**Share this view** — the link reproduces these numbers "
                        "(copy it with the button on the right):")
            st.code(link, language=None, wrap_lines=True)
        else:
            st.info(f"This view has too many changes for a link ({len(link):,} characters; "
                    f"the limit is {MAX_LINK_CHARS:,}). Save or download the scenario as YAML "
                    "on the Scenario page and share the file instead.")
    with st.container(key="footer"):
        st.markdown(
            f"Scenario **{html.escape(context.scenario.name)}** (file `{context.stem}.yaml`) · "
            f"seed {context.seed} · {context.trials:,} trials · "
            f"{context.horizon} months")


def _app_base_url() -> str:
    url = st.context.url or ""
    url = url.split("?", 1)[0]
    # st.context.url ends at the current page; keep the app's root only.
    for prefix in ("http://", "https://"):
        if url.startswith(prefix):
            host_and_path = url[len(prefix):]
            host = host_and_path.split("/", 1)[0]
            return f"{prefix}{host}/"
    return "/"
