"""Funnel Lab: Monte Carlo workbench for marketing budgets (`make run`: `streamlit run serve.py`).

Builds the menu over pages/ and the sidebar shared by every page: scenario file, seed, trials
and presenter mode. What is shown is resolved from the URL and the session by ui.state, so
every view has a link that reproduces it.
"""

from functools import partial

import streamlit as st

from ui import state
from ui.draft_actions import unsaved_notice
from ui.layout import refuse_unreadable_file
from ui.library import list_stems, read_entry
from ui.navigation import run_file, run_page

st.set_page_config(page_title="Funnel Lab", page_icon=":material/insights:", layout="wide")


# Each page file is named after its link (pages/<url_path>.py): a fresh server then finds the
# file for any link and ui/navigation.py runs it through this script; a file named otherwise
# makes Streamlit show "Page not found" over the right page on that first request. The one
# exception is the default page: Streamlit serves it at / only, so its url_path ("home") is
# never a link; /overview is kept working by the hidden alias below, and pages/overview.py
# matches it on a fresh server.
PAGES = [
    st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:",
            url_path="home", default=True),
    st.Page("pages/budget-split.py", title="Budget split", icon=":material/pie_chart:",
            url_path="budget-split"),
    st.Page("pages/guarantee.py", title="Guarantee", icon=":material/verified:",
            url_path="guarantee"),
    st.Page("pages/retention.py", title="Retention vs acquisition", icon=":material/autorenew:",
            url_path="retention"),
    st.Page("pages/compare.py", title="Compare scenarios", icon=":material/compare_arrows:",
            url_path="compare"),
    st.Page("pages/sensitivity.py", title="Sensitivity", icon=":material/tune:",
            url_path="sensitivity"),
    st.Page("pages/calibrate.py", title="Calibrate from data", icon=":material/query_stats:",
            url_path="calibrate"),
    st.Page("pages/assumptions.py", title="Assumptions", icon=":material/help_center:",
            url_path="assumptions"),
    st.Page("pages/scenario.py", title="Scenario", icon=":material/edit_document:",
            url_path="scenario"),
]
EDITOR = PAGES[-1]
# Hidden: old share links and typed addresses ending in /overview (no "Page not found") show
# the Overview itself; switching to / instead ran the script twice on every such link. A
# function, not the file again: a second page of the same file would be the one tools and
# tests open by that file's name.
ALIASES = [st.Page(partial(run_file, "pages/overview.py"), title="Overview",
                   url_path="overview", visibility="hidden")]

context = state.resolve()
navigation = st.navigation(PAGES + ALIASES, position="hidden" if context and context.present
                           else "sidebar")

with st.sidebar:
    st.header("Funnel Lab")
    stems = list_stems()
    if stems:
        st.selectbox(
            "Scenario", stems, key="scenario_file",
            format_func=lambda stem: (read_entry(stem).scenario.name
                                      if read_entry(stem).scenario else f"{stem}.yaml (invalid)"),
            help="Scenario files in the library folder (scenarios/).")
        st.number_input("Seed", min_value=0, max_value=2**32 - 1, step=1, key="seed",
                        help="The same seed and trials give the same numbers on any machine.")
        st.number_input("Trials (simulated futures)", min_value=state.MIN_TRIALS,
                        max_value=state.MAX_TRIALS, step=500, key="trials",
                        help="More trials: smaller Monte Carlo error, slower answers.")
        st.toggle("Presenter mode", key="present",
                  help="Hide inputs, enlarge type; the share link opens in presenter mode.")

if context is None:
    st.error("The scenario library is empty: add a scenario YAML file to the scenarios folder "
             "(or the folder named by FUNNEL_LAB_SCENARIOS) and reload.")
    st.stop()

if context.file_problems and navigation is not EDITOR:
    refuse_unreadable_file(context, navigation.title, EDITOR)

if navigation.url_path != "scenario":
    # Edits left in the Scenario editor are kept in the session; say so on the other pages.
    unsaved_notice(context)
# Through ui.navigation, so a page script knows app.py runs it (a pages/ folder quirk).
run_page(navigation)
