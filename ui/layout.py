"""The frame every page shares: title, the one-sentence answer, controls, share link, footer.

Presenter mode (``?present=1``) hides the sidebar and every control (their values still come
from the link), enlarges the type and keeps the answers, charts and a footer with the
scenario, seed and trials so the audience can reproduce the numbers.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from sim.scenario import dump_scenario
from ui.format import plain
from ui.state import MAX_LINK_CHARS, PageContext, page_params, share_query

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
        # Notes on where calibrated ranges came from are saved with the file, not listed here.
        changed = ", ".join(f"{path} = {value}" for path, value in context.overrides.items()
                            if path != "sources") or "notes on sources"
        caption += f" — changed from the saved file: {changed}"
    st.caption(caption)
    if context.scenario.description and not context.present:
        st.caption(context.scenario.description)
    if context.link_problems:
        lines = "\n".join(f"- {plain(p)}" for p in context.link_problems)
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
    """Draw the share link and the line that lets anyone reproduce the numbers.

    The link is this page's own address (so the page travels with it) plus the scenario, seed,
    trials, presenter flag, changed fields and the page's URL-bound settings. `page_path` is
    used only when the browser's address is unknown (tests without a browser).
    """
    st.divider()
    link = share_link(context, page_path)
    with st.container(key="share"):
        if len(link) <= MAX_LINK_CHARS:
            st.markdown("**Share this view** — the link reproduces these numbers "
                        "(copy it with the button on the right):")
            st.code(link, language=None, wrap_lines=True)
        else:
            st.info(f"This view has too many changes for a link ({len(link):,} characters; "
                    f"the limit is {MAX_LINK_CHARS:,}). Share the scenario as a YAML file "
                    "instead: download it here, or save it to the library on the Scenario "
                    "page.")
            st.download_button("Download this scenario as YAML",
                               data=dump_scenario(context.scenario),
                               file_name=f"{context.stem}-shared.yaml",
                               mime="application/x-yaml", on_click="ignore",
                               key="share_yaml")
    with st.container(key="footer"):
        st.markdown(
            f"Scenario **{plain(context.scenario.name)}** (file `{context.stem}.yaml`) · "
            f"seed {context.seed} · {context.trials:,} trials · "
            f"{context.horizon} months")
        if context.present:
            st.button("Leave presenter mode", key="leave_present", on_click=_leave_presenter,
                      icon=":material/close_fullscreen:",
                      help="Show the sidebar and the inputs again.")


def _leave_presenter() -> None:
    # A callback runs before the sidebar toggle exists in the next run, so it may set it.
    st.session_state["present"] = False


def share_link(context: PageContext, page_path: str = "") -> str:
    """Return the full link that reproduces this page as it is shown now."""
    return f"{_page_url(page_path)}?{share_query(context, page_params())}"


def _page_url(page_path: str = "") -> str:
    """Return this page's address without its query (st.context.url ends at the page)."""
    url = (st.context.url or "").split("?", 1)[0].split("#", 1)[0]
    if url.startswith(("http://", "https://")):
        # The default page's address is the bare host: keep the slash before the query.
        return url if url.count("/") > 2 else url + "/"
    return "/" + page_path.lstrip("/")
