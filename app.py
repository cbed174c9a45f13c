"""Funnel Lab: Monte Carlo workbench for marketing budgets (run with `streamlit run app.py`).

Builds the menu over app_pages/ and the sidebar shared by every page: scenario file, seed, trials
and presenter mode. What is shown is resolved from the URL and the session by ui.state, so
every view has a link that reproduces it.
"""

import streamlit as st

from ui import state, warmup
from ui.library import list_stems, scenario_title

st.set_page_config(page_title="Funnel Lab", page_icon=":material/insights:", layout="wide")

PAGES = [
    st.Page("app_pages/overview.py", title="Overview", icon=":material/dashboard:",
            url_path="overview", default=True),
    st.Page("app_pages/budget_split.py", title="Budget split", icon=":material/pie_chart:",
            url_path="budget-split"),
    st.Page("app_pages/guarantee.py", title="Guarantee", icon=":material/verified:",
            url_path="guarantee"),
    st.Page("app_pages/retention.py", title="Retention vs acquisition", icon=":material/autorenew:",
            url_path="retention"),
    st.Page("app_pages/compare.py", title="Compare scenarios", icon=":material/compare_arrows:",
            url_path="compare"),
    st.Page("app_pages/sensitivity.py", title="Sensitivity", icon=":material/tune:",
            url_path="sensitivity"),
    st.Page("app_pages/calibrate.py", title="Calibrate from data", icon=":material/query_stats:",
            url_path="calibrate"),
    st.Page("app_pages/assumptions.py", title="Assumptions", icon=":material/help_center:",
            url_path="assumptions"),
    st.Page("app_pages/scenario_editor.py", title="Scenario", icon=":material/edit_document:",
            url_path="scenario"),
]

# Once per server process: load the compiled engine and cache the shipped scenarios' runs.
warmup.start()
context = state.resolve()
navigation = st.navigation(PAGES, position="hidden" if context and context.present
                           else "sidebar")

with st.sidebar:
    st.header("Funnel Lab")
    stems = list_stems()
    if stems:
        st.selectbox(
            "Scenario", stems, key="scenario_file",
            format_func=scenario_title,
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

navigation.run()
