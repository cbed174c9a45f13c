"""What the app is showing: scenario file, seed, trials, presenter flag and changed fields.

The URL is the single source a share link is made from, so this module keeps it in step with
the session: on a session's first run the query parameters are read and validated like YAML
(a bad link shows what was wrong and falls back to the saved file); after that the sidebar and
the pages change the session state and the URL is rewritten from it.

Query parameters owned here: ``scenario`` (library file stem), ``seed``, ``trials``,
``present`` and one parameter per changed field, named by its dotted path
(``guarantee.days=365``). Page widgets may bind their own parameters (keys without dots).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from sim.scenario import (
    KINDS,
    Scenario,
    ScenarioError,
    apply_overrides,
    changed_fields,
    field_catalog,
    parse_scalar,
)
from ui.bound_params import shown_value, widget_accepts
from ui.format import format_param
from ui.library import list_stems, read_entry
from ui.navigation import ensure_app_navigation
from ui.plan_names import renamed_value
from ui.words import base_plan_label

#: Trials the app allows (a link asking for more is capped).
MIN_TRIALS, MAX_TRIALS = 100, 20_000
#: Characters a link may carry before we offer the YAML file instead.
MAX_LINK_CHARS = 2000
#: Field overrides a link may carry.
MAX_LINK_FIELDS = 60
RESERVED_PARAMS = ("scenario", "seed", "trials", "present")
#: Pages' URL-bound widget keys start with their page's prefix (Compare, Guarantee, Overview,
#: Retention, Sensitivity, Budget split); any other key no widget of the page uses is unknown.
PAGE_PARAM_PREFIXES = ("compare_", "guarantee_", "overview_", "retention_", "sens_", "split_")
#: Link parameters of switches that became a page section (old links keep working): the old
#: parameter switched on opens the section (parameter, tab label; ui.navigation.SECTIONS).
MOVED_SWITCHES = {"split_horizons": ("split_section", "By horizon")}

_CTX_KEY = "_funnel_context"
_OVERRIDES_KEY = "_funnel_overrides"
_LINK_PROBLEMS_KEY = "_funnel_link_problems"
_INITIALISED_KEY = "_funnel_initialised"
_PENDING_STEM_KEY = "_funnel_pending_stem"
_CARRY_KEY = "_funnel_carry"
#: The page's own parameters of the link the session opened with (checked once widgets exist).
_LINK_PAGE_PARAMS_KEY = "_funnel_link_page_params"
_LINK_NOTES_KEY = "_funnel_link_notes"
#: Set on a link's first run: its page parameters are checked for plans named the old way.
_RENAME_CHECK_KEY = "_funnel_rename_check"
#: Page parameter -> note, for link values that named a renamed plan (shown by its page).
_RENAMED_NOTES_KEY = "_funnel_renamed_notes"
#: Words a link may use for the presenter flag.
_PRESENT_WORDS = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}


@dataclass(frozen=True)
class PageContext:
    """Everything a page needs to know about what is being shown."""

    stem: str
    saved: Scenario
    scenario: Scenario
    overrides: dict[str, Any]
    seed: int
    trials: int
    present: bool
    link_problems: tuple[str, ...] = field(default=())
    #: Why the library file cannot be read (empty when it can); pages refuse to simulate it.
    file_problems: tuple[str, ...] = field(default=())

    @property
    def horizon(self) -> int:
        """Return the horizon in months of the scenario being shown."""
        return self.scenario.simulation.horizon_months


def _field_sections() -> frozenset[str]:
    """Return the top-level sections that hold fields (what a dotted link key may start with)."""
    return frozenset(info.path.split(".", 1)[0] for info in field_catalog())


def _parse_int(text: str, name: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ScenarioError([f"{name}: expected a whole number, got {text!r}"]) from None
    if not low <= value <= high:
        raise ScenarioError([f"{name}: must be from {low:,} to {high:,}, got {value:,}"])
    return value


def read_link(params: Mapping[str, str], stems: list[str]) -> tuple[dict[str, Any], list[str]]:
    """Validate a link's query parameters.

    Returns (settings, problems): settings may hold "scenario", "seed", "trials", "present"
    and "overrides" (dotted path -> value). Every problem is a readable line; a bad part is
    left out and the rest is used, except that bad field overrides drop all overrides (the
    saved file is shown instead).
    """
    settings: dict[str, Any] = {}
    problems: list[str] = []
    total = sum(len(k) + len(str(v)) + 2 for k, v in params.items())
    if total > MAX_LINK_CHARS * 2:
        return {}, [f"link: {total:,} characters is more than this app accepts; showing the "
                    "saved scenario (share the YAML file instead)"]
    stem = params.get("scenario")
    if stem is not None:
        if stem in stems:
            settings["scenario"] = stem
        else:
            problems.append(f"scenario: no scenario file named {stem!r} in the library; "
                            f"showing {stems[0] if stems else 'nothing'}")
    seed_kind = KINDS["seed"]
    if "seed" in params:
        try:
            settings["seed"] = _parse_int(params["seed"], "seed", int(seed_kind.low),
                                          int(seed_kind.high))
        except ScenarioError as error:
            problems.extend(error.problems)
    if "trials" in params:
        try:
            # Any size parses, so that an over-large count is capped rather than refused.
            settings["trials"] = _parse_int(params["trials"], "trials", MIN_TRIALS, 10**30)
        except ScenarioError:
            problems.append(f"trials: expected a whole number from {MIN_TRIALS:,} to "
                            f"{MAX_TRIALS:,} in the app, got {params['trials'][:40]!r}")
    if settings.get("trials", 0) > MAX_TRIALS:
        problems.append(f"trials: capped at {MAX_TRIALS:,} in the app (the link asked for "
                        f"{settings['trials']:,}); use the CLI for larger runs")
        settings["trials"] = MAX_TRIALS
    if "present" in params:
        flag = _PRESENT_WORDS.get(str(params["present"]).strip().lower())
        if flag is None:
            problems.append(f"present: expected 1 or 0, got {params['present']!r}; "
                            "presenter mode is off")
            flag = False
        settings["present"] = flag
    dotted = {k: v for k, v in params.items() if "." in k}
    sections = _field_sections()
    outside = sorted(k for k in dotted if k.split(".", 1)[0] not in sections)
    if outside:
        problems.append(f"{outside[0]}: a link may only change scenario fields (keys starting "
                        f"with {', '.join(sorted(sections))}); showing the saved scenario")
        dotted = {}
    if len(dotted) > MAX_LINK_FIELDS:
        problems.append(f"link: {len(dotted)} changed fields is more than {MAX_LINK_FIELDS}; "
                        "showing the saved scenario")
        dotted = {}
    overrides: dict[str, Any] = {}
    for key, text in dotted.items():
        try:
            overrides[key] = parse_scalar(text)
        except ScenarioError as error:
            problems.extend(f"{key}: {p.split(': ', 1)[-1]}" for p in error.problems)
            overrides = {}
            break
    settings["overrides"] = overrides
    return settings, problems


def default_trials(scenario: Scenario) -> int:
    """The trials a page runs for a scenario before the sidebar changes them."""
    return max(MIN_TRIALS, min(MAX_TRIALS, scenario.simulation.trials))


def resolve() -> PageContext | None:
    """Work out what to show from the URL (first run) or the session; keep the URL in step.

    Returns None when the library holds no usable scenario (the caller says so).
    """
    state = st.session_state
    stems = list_stems()
    if not stems:
        return None
    carried = state.pop(_CARRY_KEY, None)
    if carried:
        # Set before the sidebar's widgets exist in this run (see keep_for_page_switch).
        state.update(carried)
    pending = state.pop(_PENDING_STEM_KEY, None)
    if pending in stems and state.get(_INITIALISED_KEY):
        # Set before the sidebar's selectbox exists in this run, so Streamlit accepts it.
        state["scenario_file"] = pending
    if not state.get(_INITIALISED_KEY):
        settings, problems = read_link(st.query_params.to_dict(), stems)
        if not settings:
            # A refused link: none of its text stays in the address bar.
            st.query_params.clear()
        state[_LINK_PAGE_PARAMS_KEY] = page_params()
        state[_RENAME_CHECK_KEY] = True
        state["scenario_file"] = settings.get("scenario", stems[0])
        entry = read_entry(state["scenario_file"])
        saved = entry.scenario or Scenario()
        state["seed"] = settings.get("seed", saved.simulation.seed)
        state["trials"] = settings.get("trials", default_trials(saved))
        state["present"] = settings.get("present", False)
        state[_OVERRIDES_KEY] = settings.get("overrides", {})
        state[_LINK_PROBLEMS_KEY] = tuple(problems)
        state[_INITIALISED_KEY] = True
        state["_funnel_last_stem"] = state["scenario_file"]
    if state.get("scenario_file") not in stems:
        state["scenario_file"] = stems[0]
    stem = state["scenario_file"]
    if state.get("_funnel_last_stem") != stem:
        # A different file: its own settings, no carried-over changes.
        entry = read_entry(stem)
        if entry.scenario is not None:
            state["seed"] = entry.scenario.simulation.seed
            state["trials"] = default_trials(entry.scenario)
        state[_OVERRIDES_KEY] = {}
        state["_funnel_last_stem"] = stem
    entry = read_entry(stem)
    problems = list(state.get(_LINK_PROBLEMS_KEY, ()))
    file_problems: tuple[str, ...] = ()
    if entry.scenario is None:
        file_problems = tuple(entry.problems)
        problems = [f"{stem}.yaml: {p}" for p in entry.problems] + problems
        saved = Scenario(name=f"{stem} (cannot be read)")
    else:
        saved = entry.scenario
    overrides = dict(state.get(_OVERRIDES_KEY, {}))
    scenario = saved
    if overrides:
        try:
            scenario = apply_overrides(saved, overrides)
        except ScenarioError as error:
            problems.extend(error.problems)
            problems.append("link: showing the saved scenario instead")
            overrides = {}
            state[_OVERRIDES_KEY] = {}
    overrides = changed_fields(saved, scenario)
    # The session keeps exactly what the link shows, so both reproduce the same scenario.
    state[_OVERRIDES_KEY] = dict(overrides)
    seed = int(state.get("seed", saved.simulation.seed))
    trials = int(state.get("trials", default_trials(saved)))
    context = PageContext(stem, saved, scenario, overrides, seed, trials,
                          bool(state.get("present", False)), tuple(problems), file_problems)
    state[_CTX_KEY] = context
    _write_url(context)
    return context


def _follow_renamed_plans(context: PageContext) -> None:
    """Point a link's page parameters that name a plan by its old name (ui.plan_names) at the
    plan's new name, keep a note for the page, and run the page again; likewise (without a
    note) an old switch that is now a section (`MOVED_SWITCHES`).

    The run again is needed because Streamlit seeds URL-bound widgets from the address the
    run started with: the next run starts from the rewritten one, so the widgets open on the
    renamed plan and the share link carries the new name. Called from `current()`, inside the
    page st.navigation chose: a rerun asked for before that would open the default page.
    """
    state = st.session_state

    def variants(stem: str | None) -> list[str] | None:
        scenario = (context.scenario if stem in (None, context.stem)
                    else read_entry(stem).scenario if stem in list_stems() else None)
        return None if scenario is None else scenario.variant_names()

    base = base_plan_label(context.scenario)
    link = state.get(_LINK_PAGE_PARAMS_KEY) or {}
    moved = [old for old in MOVED_SWITCHES if old in st.query_params]
    for old in moved:
        new, section = MOVED_SWITCHES[old]
        switched_on = st.query_params.get(old, "").strip().lower() == "true"
        del st.query_params[old]
        link.pop(old, None)
        if switched_on and new not in st.query_params:
            st.query_params[new] = section
            link[new] = [section]
    notes: dict[str, str] = {}
    for key in page_params():
        values = st.query_params.get_all(key)
        renamed = [renamed_value(value, variants, base) for value in values]
        if not any(renamed):
            continue
        now = [new or value for new, value in zip(renamed, values, strict=True)]
        st.query_params[key] = now if len(now) > 1 else now[0]
        link[key] = now
        notes[key] = "; ".join(
            f"{key}: the plan “{value[:80]}” is now called “{new}” (splits are written in "
            "percent); showing it" for new, value in zip(renamed, values, strict=True) if new)
    if notes:
        state[_RENAMED_NOTES_KEY] = notes
    if notes or moved:
        st.rerun()


def _write_url(context: PageContext) -> None:
    """Rewrite the parameters this module owns; page widgets' own parameters are untouched."""
    wanted = {"scenario": context.stem, "seed": str(context.seed),
              "trials": str(context.trials)}
    if context.present:
        wanted["present"] = "1"
    wanted.update(link_fields(context.overrides))
    params = st.query_params
    for key in list(params.keys()):
        if (key in RESERVED_PARAMS or "." in key) and key not in wanted:
            del params[key]
    for key, value in wanted.items():
        if params.get(key) != value:
            params[key] = value


def current() -> PageContext:
    """Return the context app.py resolved for this run (pages call this first).

    A page script Streamlit started without app.py is run through app.py first (see
    ui/navigation.py), so the context is always this run's.
    """
    ensure_app_navigation()
    context = st.session_state.get(_CTX_KEY)
    if context is None:
        context = resolve()
    if context is None:
        st.error("The scenario library is empty: add a scenario YAML file to the scenarios "
                 "folder (or the folder named by FUNNEL_LAB_SCENARIOS).")
        st.stop()
    if st.session_state.pop(_RENAME_CHECK_KEY, False):
        _follow_renamed_plans(context)
    return context


def set_override(path: str, value: Any) -> None:
    """Change one field of the scenario being shown (it travels in share links)."""
    overrides = dict(st.session_state.get(_OVERRIDES_KEY, {}))
    overrides[path] = value
    st.session_state[_OVERRIDES_KEY] = overrides


def set_overrides(overrides: Mapping[str, Any]) -> None:
    """Replace all field changes at once (an empty mapping goes back to the saved file)."""
    st.session_state[_OVERRIDES_KEY] = dict(overrides)


def open_scenario(stem: str) -> None:
    """Show another library file from the next run on (as if picked in the sidebar).

    Call `st.rerun()` afterwards; the sidebar's picker follows.
    """
    st.session_state[_PENDING_STEM_KEY] = stem


def keep_for_page_switch(context: PageContext) -> None:
    """Keep the sidebar's values (file, seed, trials, presenter flag) across `st.switch_page`:
    Streamlit drops widget values on a page switch made by the script, and the next run
    restores them from here before the sidebar is drawn."""
    st.session_state[_CARRY_KEY] = {"scenario_file": context.stem, "seed": context.seed,
                                    "trials": context.trials, "present": context.present,
                                    "_funnel_last_stem": context.stem}


def page_params(bound_only: bool = False) -> dict[str, list[str]]:
    """Return the page's own parameters in the URL (keys without dots, not reserved).

    With `bound_only`, only those a widget of this run is bound to (call it after the
    page's widgets exist, e.g. from the footer): what a share link may carry.
    """
    params = st.query_params
    return {key: params.get_all(key) for key in params
            if key not in RESERVED_PARAMS and "." not in key
            and (not bound_only or key in st.session_state)}


def check_page_params() -> list[str]:
    """Name the link's page parameters this page cannot use, once, and drop them from the URL.

    Call after the page's widgets exist. A key no widget of this page is bound to is unknown
    (``foo=bar``); a value the bound widget cannot take (``guarantee_days=banana``) is named
    like a bad scenario field. A value that named a plan by its old name was already pointed at
    the new one (`_follow_renamed_plans`): its note goes to the page with that widget. Returns
    one line per problem; the page the link opened keeps showing them on its reruns, other
    pages do not.
    """
    page = _page_hash()
    # Notes on renamed plans go to the page whose widget the parameter is bound to.
    pending = st.session_state.get(_RENAMED_NOTES_KEY, {})
    renamed = [pending.pop(key) for key in list(pending) if key in st.session_state]
    link = st.session_state.pop(_LINK_PAGE_PARAMS_KEY, None)
    if link is None:
        shown_on, notes = st.session_state.get(_LINK_NOTES_KEY, ("", []))
        notes = list(notes) if shown_on == page else []
        if renamed:
            notes = renamed + notes
            st.session_state[_LINK_NOTES_KEY] = (page, notes)
        return notes
    notes = list(renamed)
    here = {key for key in link if key in st.session_state and not key.startswith("_")}
    # Another page's setting (a link made there, opened here first) is left for that page.
    unknown = sorted(key for key in link
                     if key not in here and not key.startswith(PAGE_PARAM_PREFIXES))
    for key in unknown:
        with contextlib.suppress(KeyError):
            del st.query_params[key]
    if unknown:
        shown = ", ".join(f"{key[:40]}={(link[key] or [''])[0][:40]}" for key in unknown[:5])
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        notes.append(f"link: {shown}{more} is not a setting of this page; left out of the "
                     "address and of the share link")
    for key, values in link.items():
        if key not in here or widget_accepts(key, values) is not False:
            continue
        shown = ", ".join(repr(v[:40]) for v in values[:3])
        notes.append(f"{key}: {shown} is not one of this control's choices; showing "
                     f"{shown_value(key, st.session_state[key])} instead")
    st.session_state[_LINK_NOTES_KEY] = (page, notes)
    return notes


def _page_hash() -> str:
    """Return the identity of the page this run shows ("" outside a script run)."""
    ctx = get_script_run_ctx()
    return ctx.page_script_hash if ctx is not None else ""


def share_query(context: PageContext,
                extra: Mapping[str, str | list[str]] | None = None) -> str:
    """Return the query string that reproduces this view (scenario, seed, trials, changes).

    `extra` adds a page's own parameters (its URL-bound widgets, see `page_params`).
    """
    params: dict[str, Any] = {"scenario": context.stem, "seed": context.seed,
                              "trials": context.trials}
    if context.present:
        params["present"] = 1
    for key, value in (extra or {}).items():
        if key not in RESERVED_PARAMS and "." not in key:
            params[key] = value
    params.update(link_fields(context.overrides))
    return urlencode(params, doseq=True, safe="{}:,")


def link_fields(overrides: Mapping[str, Any]) -> dict[str, str]:
    """Return the field changes a link carries: dotted fields only. Notes on where values came
    from (`sources`) travel in the saved file, not in links (they would make links long)."""
    return {path: format_param(value) for path, value in overrides.items() if "." in path}


def is_finite_number(value: Any) -> bool:
    """Return True for a real, finite number (not bool)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(
        value)
