"""The frame every page shares: title, the one-sentence answer, controls, share link, footer.

Presenter mode (``?present=1``) hides the sidebar and every control (their values still come
from the link), enlarges the type and keeps the answers, charts and a footer with the
scenario, seed and trials so the audience can reproduce the numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import streamlit as st

from sim.scenario import dump_scenario
from ui.format import plain
from ui.navigation import ALIAS_LINKS, SECTIONS
from ui.report import PageAnswer
from ui.state import MAX_LINK_CHARS, PageContext, check_page_params, page_params, share_query

# Presenter mode: the page is one slide of the viewport's height (no scrolling); the chart
# container takes what the title, decision, figures and footer leave (clamped for short
# screens), and the Altair chart fills it (ui.charts.for_slide).
_PRESENTER_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stExpandSidebarButton"], [data-testid="stHeader"], .st-key-controls,
.st-key-share, .st-key-page_header, .st-key-sections, [data-testid="stToolbar"] { display: none; }
/* What shows nothing (this style sheet, the hidden inputs, the arrow-key listener) takes no
   room: the gaps around them would push the footer off a 720 px screen. */
[data-testid="stElementContainer"]:has(> [data-testid="stMarkdown"] style),
[data-testid="stLayoutWrapper"]:has(> .st-key-controls),
[data-testid="stLayoutWrapper"]:has(> .st-key-sections) { display: none; }
[data-testid="stElementContainer"]:has(> [data-testid="stIFrame"]) { position: absolute; }
.stMainBlockContainer { max-width: 100%; padding: 1.2vh 3vw 0 3vw !important; }
html, body, [data-testid="stAppViewContainer"] { font-size: 20px; }
.slide-title { font-size: 1.1rem; color: #555; font-weight: 600; }
.st-key-slide .st-key-answer p { font-size: clamp(24px, 2.15vw, 42px) !important;
  line-height: 1.22; font-weight: 650; margin: 0; }
.st-key-slide [data-testid="stMetricValue"] { font-size: clamp(26px, 2.4vw, 46px); }
.st-key-slide [data-testid="stMetricLabel"] p { font-size: clamp(16px, 1.1vw, 22px); }
.st-key-slide [data-testid="stMetricLabel"] p, .st-key-slide [data-testid="stMetricLabel"] div,
.st-key-slide [data-testid="stMetricValue"] > div,
.st-key-slide [data-testid="stMetricValue"] [data-testid="stMarkdownContainer"],
.st-key-slide [data-testid="stMetricValue"] p {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
  overflow-wrap: break-word; line-height: 1.15; }
.st-key-slide_chart_short { display: none; }
@media (max-height: 900px) {
  .st-key-slide_chart_tall { display: none; }
  .st-key-slide_chart_short { display: flex; }
  .st-key-slide .st-key-answer p { font-size: clamp(20px, 1.75vw, 30px) !important; }
  .st-key-slide [data-testid="stMetricValue"] { font-size: 28px; }
}
.st-key-slide [data-testid="stVerticalBlock"] { gap: 0.4rem; }
.st-key-slide_footer { font-size: 18px; }
.st-key-slide_footer p { font-size: 18px !important; color: #444; margin: 0; }
.slide-number { font-weight: 700; color: #111; padding-left: 0.5em; }
.st-key-slide_footer [data-testid="stMarkdown"] { flex: 1 1 auto; text-align: center; }
</style>
"""
_NOTES_SLOT_KEY = "_funnel_link_notes_slot"
_BASE_CSS = """
<style>
.st-key-answer p { font-size: 1.45rem; font-weight: 600; line-height: 1.35; }
.st-key-answer_detail p { color: #444; font-size: 1.0rem; }
.st-key-footer p { color: #555; font-size: 0.9rem; }
/* The share link wraps anywhere (a long link has no spaces to break at). */
.st-key-share code { white-space: pre-wrap; word-break: break-all; }
.st-key-share button.funnel-copy-link { font-size: 0.9rem; padding: 0.25rem 0.75rem;
  border: 1px solid #bbb; border-radius: 0.5rem; background: #fff; cursor: pointer; }
.st-key-share button.funnel-copy-link:hover { border-color: #ff4b4b; color: #ff4b4b; }
/* A page's sections (`sections`): their tab labels stand out from the tabs inside a section
   (the section tab list is the sections container's own tabs; Streamlit 1.67's structure). */
.st-key-sections > .stTabs > div > div > [data-testid="stTab"] p { font-size: 1.05rem;
  font-weight: 600; }
/* Narrow screens: metric values and labels wrap instead of ending in "...", buttons keep
   their whole text, and the downloads wrap onto more lines. */
[data-testid="stMetricValue"] > div, [data-testid="stMetricValue"] p,
[data-testid="stMetricValue"] [data-testid="stMarkdownContainer"], [data-testid="stMetricLabel"] p,
[data-testid="stMetricLabel"] div { white-space: normal !important; overflow: visible !important;
  text-overflow: clip !important; overflow-wrap: anywhere; }
@media (max-width: 1000px) {
  [data-testid="stMetricValue"] { font-size: 1.6rem; }
  .stButton button p, .stDownloadButton button p { white-space: normal; overflow: visible;
    text-overflow: clip; }
  /* The split map takes the whole width; its reading notes go below it. */
  .st-key-split_map [data-testid="stHorizontalBlock"] { flex-wrap: wrap; }
  .st-key-split_map [data-testid="stColumn"] { width: 100% !important; flex: 1 1 100% !important;
    min-width: 100% !important; }
}
</style>
"""
# Below 1000 px the sidebar collapses once per tab (Streamlit collapses it only on phones):
# a click on its own collapse button, so the user can open it again and it stays open. In
# Streamlit 1.67 the open state is the button's aria-expanded (the sidebar has none). The
# script runs in the page (window.parent is the page's own window there).
_COLLAPSE_JS = """
<script>
(() => {  // its own scope: the script runs again on every page view
const win = window.parent, doc = win.document;
if (win.innerWidth < 1000 && !doc.funnelCollapsed) {
  const close = () => {
    const button = doc.querySelector(
      '[data-testid="stSidebarCollapseButton"] button[aria-expanded="true"]');
    if (button) { button.click(); doc.funnelCollapsed = true; return true; }
    return false;
  };
  if (!close()) { let tries = 0; const timer = setInterval(() => {
    if (close() || ++tries > 40) clearInterval(timer); }, 100); }
}
})();
</script>
"""


# The share link's copy button. It copies the link as shown at the moment of the click, with
# the Clipboard API where the browser allows it (https or localhost) and by selecting a hidden
# text box elsewhere (plain http on a meeting room's network), and says whether it worked.
_COPY_LINK_HTML = """
<button type="button" class="funnel-copy-link">Copy link</button>
<script>
(() => {
  const doc = window.parent.document;
  for (const button of doc.querySelectorAll(".st-key-share button.funnel-copy-link")) {
    if (button.dataset.ready) continue;
    button.dataset.ready = "1";
    const say = (text) => {
      button.textContent = text;
      setTimeout(() => { button.textContent = "Copy link"; }, 2000);
    };
    const byTextBox = (text) => {
      const box = doc.createElement("textarea");
      box.value = text;
      box.setAttribute("readonly", "");
      box.style.position = "fixed";
      box.style.opacity = "0";
      doc.body.appendChild(box);
      box.select();
      let copied = false;
      try { copied = doc.execCommand("copy"); } catch (error) { copied = false; }
      box.remove();
      return copied;
    };
    button.addEventListener("click", () => {
      const code = doc.querySelector(".st-key-share code");
      const text = code ? code.innerText.trim() : "";
      if (!text) { say("No link to copy"); return; }
      const clipboard = window.parent.navigator.clipboard;
      if (clipboard && window.parent.isSecureContext) {
        clipboard.writeText(text).then(() => say("Copied"),
          () => say(byTextBox(text) ? "Copied" : "Select the link and copy it"));
      } else {
        say(byTextBox(text) ? "Copied" : "Select the link and copy it");
      }
    });
  }
})();
</script>
"""


def page_header(context: PageContext, title: str) -> None:
    """Draw the page title, the scenario's description and any link problems."""
    st.markdown(_PRESENTER_CSS if context.present else _BASE_CSS, unsafe_allow_html=True)
    if not context.present:
        # In the page itself (st.html), not an iframe (components.html): no second document
        # to create and load on every page view.
        st.html(_COLLAPSE_JS, unsafe_allow_javascript=True)
    if context.link_problems and context.present:
        st.warning("Some of this link could not be used: " + "; ".join(
            plain(p) for p in context.link_problems))
    if context.present:
        return  # the slide names the page and the scenario itself
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
    _warn_link_problems(context.link_problems)
    # Filled by the footer: page parameters can only be checked once the widgets exist.
    st.session_state[_NOTES_SLOT_KEY] = st.empty()


def _warn_link_problems(problems: Sequence[str], slot: Any = st) -> None:
    if problems:
        lines = "\n".join(f"- {plain(p)}" for p in problems)
        slot.warning(f"Some of this link or file could not be used:\n{lines}")


def show_answer(context: PageContext, page_answer: PageAnswer, *, metrics: bool = True,
                body: Callable[[int, int], None] | None = None,
                more: Callable[[], PageAnswer] | None = None, more_words: str = "") -> None:
    """Show the page's answer (see ui.answers): the one way a page states its decision.

    Normal mode: the decision large, the detail smaller, the key figures as st.metric columns
    (`metrics=False` when the page draws its own tiles) and the report downloads; the page
    then continues. Presenter mode (``?present=1``): the page is drawn as one slide (decision,
    figures, the chart or `body(height_px, font_px)`, footer, slide number, Previous/Next and
    arrow keys) and the script stops there.

    `more` builds a fuller answer that takes longer (the Overview's pointers to the best split
    and share): `page_answer` is on screen first, then `more()` runs under a spinner saying
    `more_words`, its detail replaces the first one and the downloads hold it. A slide shows
    the fuller answer.
    """
    from ui import deck  # deck imports ui.answers, which imports the pages' ui modules

    if context.present:
        deck.draw_slide(context, more() if more is not None else page_answer, body)
    answer(page_answer.decision)
    detail = st.empty()
    if more is not None and page_answer.detail:
        detail.markdown(page_answer.detail)
    if metrics and page_answer.figures:
        for column, figure in zip(st.columns(len(page_answer.figures)), page_answer.figures,
                                  strict=True):
            column.metric(figure.label, figure.value_text)
    if more is not None:
        with st.spinner(more_words or "Working…", show_time=True):
            page_answer = more()
    if page_answer.detail:
        with detail.container(key="answer_detail"):
            st.markdown(page_answer.detail)
    deck.download_row(context, page_answer, share_link(context, page_answer.page))


def answer(sentence: str) -> None:
    """Show the page's one-sentence answer, first and large (presenters read it out)."""
    with st.container(key="answer"):
        st.markdown(sentence)


class Sections:
    """A page's sections drawn as tabs, of which only the open one is computed and drawn."""

    def __init__(self, labels: Sequence[str], tabs: Sequence[Any]) -> None:
        self.labels, self._tabs = tuple(labels), tuple(tabs)

    @property
    def open(self) -> str:
        """The label of the open section."""
        return next((label for label, tab in zip(self.labels, self._tabs, strict=True)
                     if tab.open), self.labels[0])

    def draw(self, *drawers: Callable[[], None]) -> None:
        """Run the open section's drawer (one per section, in order) inside its tab."""
        if len(drawers) != len(self.labels):
            raise ValueError(f"{len(self.labels)} sections, {len(drawers)} drawers")
        index = self.labels.index(self.open)
        with self._tabs[index]:
            drawers[index]()


def sections(page: str) -> Sections:
    """Draw the page's sections (`SECTIONS[page]`) as tabs; `.draw(...)` fills the open one.

    Only the open tab is computed and drawn (Streamlit's lazy tabs: picking another reruns the
    page), so a page view draws one section's charts, not every section's (README,
    "Performance"). The open tab is in the link, so a shared link opens the section its
    presenter showed; ui.warmup computes every section of the default links.
    """
    key, labels = SECTIONS[page]
    with st.container(key="sections"):  # hidden on a slide, which stops before the sections
        return Sections(labels, st.tabs(labels, key=key, bind="query-params",
                                        on_change="rerun"))


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
    notes = check_page_params()
    slot = st.session_state.pop(_NOTES_SLOT_KEY, None)
    _warn_link_problems(notes, slot if slot is not None else st)
    st.divider()
    link = share_link(context, page_path)
    with st.container(key="share"):
        if len(link) <= MAX_LINK_CHARS:
            st.markdown("**Share this view** — the link reproduces these numbers:")
            # Inline code, not st.code: st.code loads Streamlit's 1.5 MB syntax highlighter,
            # 0.6 s of browser time on every page view (README, "Performance"). Its copy
            # button is replaced by a small one of ours (in the page, no iframe).
            st.markdown(f"`{link}`")
            st.html(_COPY_LINK_HTML, unsafe_allow_javascript=True)
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
    return f"{_page_url(page_path)}?{share_query(context, page_params(bound_only=True))}"


def _page_url(page_path: str = "") -> str:
    """Return this page's address without its query (st.context.url ends at the page)."""
    url = (st.context.url or "").split("?", 1)[0].split("#", 1)[0]
    folder, _, last = url.rstrip("/").rpartition("/")
    if folder.count("/") >= 2 and last in ALIAS_LINKS:  # an old link: share the page's own
        url = f"{folder}/{ALIAS_LINKS[last]}"
    if url.startswith(("http://", "https://")):
        # The default page's address is the bare host: keep the slash before the query.
        return url if url.count("/") > 2 else url + "/"
    return "/" + page_path.lstrip("/")


def refuse_unreadable_file(context: PageContext, title: str, editor: Any) -> None:
    """Stop a page whose library file cannot be read: say why and link to the editor.

    Nothing is simulated (built-in defaults would give a confident answer about nothing).
    `editor` is the Scenario editor's st.Page, where the file can be fixed or replaced.
    """
    st.markdown(_PRESENTER_CSS if context.present else _BASE_CSS, unsafe_allow_html=True)
    st.title(title)
    lines = "\n".join(f"- {plain(p)}" for p in context.file_problems)
    st.error(f"**{context.stem}.yaml** cannot be read, so this page shows nothing for it:\n"
             f"{lines}")
    st.page_link(editor, label=f"Fix {context.stem}.yaml in the Scenario editor",
                 icon=":material/edit_document:")
    st.caption("Or pick another scenario file in the sidebar.")
    st.stop()
