"""The scenario editor: every field of the file as an input, validated as it is typed.

The editor works on a *draft*, kept in the session under a key of its own (not a widget's):
the file data being edited, where it came from (a library file with the version that was
opened, an upload, or a new scenario), what was typed in every input and a generation number
that names its widgets. The draft is the source of truth: each widget is created from it and
writes back to it when changed (`_bound`), because Streamlit forgets a widget's state as soon
as a run draws another page - a page switch must not lose a variant or a rename. Each run
reads the widgets into plain file data and validates the whole of it with
`sim.scenario.build_scenario`; every problem is shown beside the field its dotted path names
(and listed at the top, because tabs hide fields).

While the draft belongs to the file shown in the sidebar, its valid field changes are the
app's field overrides (`ui.state.set_overrides`): every page shows them and the share link
carries them. Name, description and variant changes travel only when saved.
"""


from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

import streamlit as st

from sim.scenario import (
    MAX_FILE_BYTES,
    FieldInfo,
    Scenario,
    ScenarioError,
    apply_overrides,
    changed_fields,
    field_catalog,
    load_scenario_text,
)
from ui import format as fmt
from ui.draft import (
    CHURN_MODELS,
    FORM_LABELS,
    FORM_PARAMS,
    MONTHLY_DEFAULT,
    PARAM_LABELS,
    SBG_DEFAULTS,
    SECTION_TITLES,
    Draft,
    EditorResult,
    draft_from_scenario,
    form_defaults,
    form_value,
    free_stem,
    get_path,
    number_text,
    overrides_to_text,
    parse_number,
    place_problems,
    read_variants,
    scenario_table,
    set_path,
    validate_draft,
    value_centre,
    value_form,
    value_params,
    variant_where,
)
from ui.library import (
    LibraryError,
    ScenarioConflictError,
    ScenarioExistsError,
    list_stems,
    read_entry,
    save_scenario,
    slugify,
)
from ui.memo import scenario_text
from ui.pictures import distribution_picture
from ui.state import PageContext, open_scenario, set_overrides

DRAFT_KEY = "_editor_draft"
_UPLOAD_DONE_KEY = "_editor_upload_done"
TABS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Simulation & finance", ("simulation", "finance")),
    ("Market & budget", ("market", "budget")),
    ("Cold traffic", ("cold",)),
    ("Warm leads", ("warm",)),
    ("Existing buyers", ("hot",)),
    ("Orders & guarantee", ("orders", "guarantee")),
)
_VARIANT_HELP = ("One change per line as `dotted.path: value`, for example `guarantee.days: 365`, "
                 "`budget.split: {cold: 0.8, warm: 0.2, hot: 0}` or "
                 "`orders.first_value: {low: 50, high: 90}`. Lines starting with # are notes.")


def _open_context(context: PageContext) -> Draft:
    draft = draft_from_scenario(context.scenario, f"opened from {context.stem}.yaml",
                                context.stem)
    draft.pushed = context.scenario.canonical()
    return draft


def ensure_draft(context: PageContext) -> Draft:
    """Return the session's draft, (re)opening the sidebar's file when the draft is not
    about it, and following field changes made on other pages."""
    state = st.session_state
    draft: Draft | None = state.get(DRAFT_KEY)
    if draft is None or (draft.stem is not None and draft.stem != context.stem):
        previous = draft
        draft = _open_context(context)
        if previous is not None and previous.stem is not None:
            draft.notice = (f"Opened {context.stem}.yaml (picked in the sidebar); edits to "
                            f"{previous.stem}.yaml that were not saved were left behind.")
        state[DRAFT_KEY] = draft
    elif (draft.stem == context.stem and draft.conflict is None
          and read_entry(context.stem).sha256 == draft.sha256
          and draft.pushed != context.scenario.canonical()):
        # Another page or the sidebar changed fields: show them, keep name and variants.
        draft.follow_fields(context.scenario)
    if draft.stem is not None and draft.conflict is None:
        entry = read_entry(draft.stem)
        if entry.modified_ns and entry.sha256 != draft.sha256:
            draft.conflict = (f"{draft.stem}.yaml was changed on disk since you opened it "
                              "(by another window or person).")
    return draft


# --------------------------------------------------------------------------------------------
# Widgets.


def _bound(key: str, default: Any) -> dict[str, Any]:
    """Return the key and on_change of an input bound to the draft.

    A widget Streamlit does not know (first drawn, or forgotten while another page was shown)
    gets what the draft recorded for it, else `default`; every change is written back to the
    draft by the callback, which runs even when the next run draws another page.
    """
    draft: Draft = st.session_state[DRAFT_KEY]
    if key not in st.session_state:
        st.session_state[key] = draft.inputs.get(key.removeprefix(draft.prefix()), default)
    return {"key": key, "on_change": _keep, "args": (key,)}


def _keep(key: str) -> None:
    draft: Draft | None = st.session_state.get(DRAFT_KEY)
    if draft is not None and key.startswith(draft.prefix()) and key in st.session_state:
        draft.keep_input(key.removeprefix(draft.prefix()), st.session_state[key])


def _field_label(info: FieldInfo) -> str:
    return f"{info.label} ({info.unit})" if info.unit else info.label


def _field_row(info: FieldInfo, loaded_value: Any, key: str) -> tuple[Any, Any, str | None]:
    """Draw one field (label, unit, help; form; parameters) and return
    (file value, slot for its messages, problem with the typed text or None)."""
    label_col, form_col, value_col = st.columns([5, 3, 6])
    with label_col:
        st.markdown(f"**{_field_label(info)}**")
        st.caption(f"{info.help} `{info.path}`")
    loaded_form = value_form(loaded_value) if loaded_value is not None else "number"
    form = "number"
    with form_col:
        if info.uncertain_allowed:
            forms = [name for name in FORM_LABELS if name != "beta" or info.kind == "rate"]
            form = st.selectbox(
                f"Form of {info.label}", forms,
                format_func=FORM_LABELS.__getitem__,
                **_bound(f"{key}:form", loaded_form if loaded_form in forms else forms[0]),
                label_visibility="collapsed",
                help="A number, or an uncertain value: each simulated future draws its own.")
    params = FORM_PARAMS[form]
    if form == loaded_form and loaded_value is not None:
        defaults = value_params(loaded_value)
    else:
        defaults = form_defaults(form, value_centre(loaded_value), info.kind)
    typed: dict[str, Any] = {}
    problem = None
    with value_col:
        columns = st.columns(len(params))
        for column, param in zip(columns, params, strict=True):
            with column:
                label = PARAM_LABELS[param] if len(params) > 1 else f"{info.label} value"
                text = st.text_input(
                    label, **_bound(f"{key}:{form}:{param}", number_text(defaults.get(param))),
                    label_visibility="visible" if len(params) > 1 else "collapsed")
            try:
                typed[param] = parse_number(text)
            except ValueError as error:
                where = info.path if form == "number" else f"{info.path}.{param}"
                problem = problem or f"{where}: {error}"
                typed[param] = text
        slot = st.container()
    value = form_value(form, typed)
    if form != "number" and problem is None:
        spec = distribution_picture(info.path, repr(sorted(typed.items())))
        if spec is not None:
            with value_col:
                st.vega_lite_chart(spec=spec, width="stretch")
    return value, slot, problem


def _choice_row(info: FieldInfo, loaded_value: Any, key: str) -> tuple[Any, Any]:
    label_col, input_col = st.columns([5, 9])
    with label_col:
        st.markdown(f"**{_field_label(info)}**")
        st.caption(f"{info.help} `{info.path}`")
    options = ["expected", "random"]
    with input_col:
        value = st.selectbox(info.label, options,
                             **_bound(f"{key}:choice", loaded_value if loaded_value in options
                                      else options[0]),
                             label_visibility="collapsed")
        slot = st.container()
    return value, slot


def _section(section: str, draft: Draft, data: dict[str, Any], slots: dict[str, Any],
             local: list[str]) -> None:
    """Draw every field of one file section and write the typed values into `data`."""
    st.subheader(SECTION_TITLES.get(section, section.capitalize()))
    prefix = draft.prefix()
    for info in field_catalog():
        if not info.path.startswith(section + "."):
            continue
        if info.path.startswith("hot.churn."):
            if info.path == "hot.churn.monthly":
                _churn(draft, data, slots, local)
            continue
        loaded_value = get_path(draft.loaded, info.path)
        if info.kind == "choice":
            value, slots[info.path] = _choice_row(info, loaded_value, prefix + info.path)
        else:
            value, slots[info.path], problem = _field_row(info, loaded_value,
                                                          prefix + info.path)
            if problem:
                local.append(problem)
        set_path(data, info.path, value)
        if info.path == "budget.split.hot":
            slots["budget.split"] = st.container()


def _churn(draft: Draft, data: dict[str, Any], slots: dict[str, Any], local: list[str]) -> None:
    """Churn is either constant (monthly) or falls with tenure (sBG alpha, beta)."""
    prefix = draft.prefix()
    loaded = get_path(draft.loaded, "hot.churn") or {}
    loaded_model = "sbg" if isinstance(loaded, Mapping) and "sbg" in loaded else "monthly"
    models = list(CHURN_MODELS)
    model = st.radio("Churn model", models, format_func=CHURN_MODELS.__getitem__,
                     **_bound(f"{prefix}hot.churn:model", loaded_model),
                     horizontal=True,
                     help="sBG: customers differ, so the ones who stay churn less and less.")
    slots["hot.churn"] = st.container()
    infos = {info.path: info for info in field_catalog()}
    if model == "monthly":
        paths = ["hot.churn.monthly"]
        fallback = {"hot.churn.monthly": MONTHLY_DEFAULT}
    else:
        paths = ["hot.churn.sbg.alpha", "hot.churn.sbg.beta"]
        fallback = {f"hot.churn.sbg.{k}": v for k, v in SBG_DEFAULTS.items()}
    churn: dict[str, Any] = {}
    for path in paths:
        loaded_value = get_path(draft.loaded, path)
        if loaded_value is None:
            loaded_value = fallback[path]
        value, slots[path], problem = _field_row(infos[path], loaded_value, prefix + path)
        if problem:
            local.append(problem)
        set_path(churn, path.removeprefix("hot.churn."), value)
    set_path(data, "hot.churn", churn)




def _variants(draft: Draft, data: dict[str, Any], slots: dict[str, Any],
              local: list[str]) -> None:
    """Draw the variant rows (name, changes, remove) and write them into `data`."""
    st.subheader("Variants")
    st.caption("A variant is the base plan with a few fields changed. The Overview and Compare "
               "pages run every variant on the same simulated futures as the base plan. "
               + _VARIANT_HELP)
    prefix = draft.prefix()
    typed: list[dict[str, Any]] = []
    for row in draft.variants:
        key = f"{prefix}v{row['id']}"
        name_col, text_col, remove_col = st.columns([4, 8, 2], vertical_alignment="top")
        with name_col:
            name = st.text_input("Variant name", **_bound(f"{key}:name", row["name"]),
                                 max_chars=120).strip()
        with text_col:
            text = st.text_area("Changes from the base plan (dotted.path: value)",
                                **_bound(f"{key}:text", row["text"]), height=110)
        with remove_col:
            st.button("Remove", key=f"{key}:remove", on_click=draft.remove_variant,
                      args=(row["id"],), icon=":material/delete:",
                      help="Remove this variant (saved only when you save).")
        with text_col:
            slots[variant_where(row["id"], name)] = st.container()
        typed.append({"id": row["id"], "name": name, "text": text})
    variants, problems = read_variants(typed)
    local.extend(problems)
    st.button("Add a variant", key=f"{prefix}add_variant", on_click=draft.add_new_variant,
              icon=":material/add:")
    data["variants"] = variants


def _show(slot: Any, problems: list[str]) -> None:
    with slot:
        st.error("\n".join(f"- {problem}" for problem in problems)
                 if len(problems) > 1 else problems[0], icon=":material/error:")


def editor_widgets(draft: Draft) -> EditorResult:
    """Draw the whole editor for the draft; validate; show each problem beside its field."""
    prefix = draft.prefix()
    data: dict[str, Any] = copy.deepcopy(draft.data)
    slots: dict[str, Any] = {}
    local: list[str] = []
    top = st.container()
    name_col, description_col = st.columns([2, 3])
    with name_col:
        name = st.text_input("Scenario name",
                             **_bound(f"{prefix}name", str(draft.data.get("name", ""))),
                             max_chars=120,
                             help="Shown on every page; the file name is made from it.")
        slots["name"] = st.container()
    with description_col:
        description = st.text_area("Description",
                                   **_bound(f"{prefix}description",
                                            str(draft.data.get("description", ""))),
                                   max_chars=2000, height=80,
                                   help="One or two sentences shown under every page title: "
                                        "what business this is and where the numbers come "
                                        "from.")
        slots["description"] = st.container()
    data["name"], data["description"] = name.strip(), description.strip()
    # Static tab titles: a title that changes would reset the open tab.
    tabs = st.tabs([title for title, _ in TABS] + ["Variants"])
    for tab, (_, sections) in zip(tabs, TABS, strict=False):
        with tab:
            for section in sections:
                _section(section, draft, data, slots, local)
    with tabs[-1]:
        _variants(draft, data, slots, local)
    draft.data = data
    result = validate_draft(data, local)
    placed = place_problems(result.problems, list(slots))
    for where, messages in placed.items():
        if where:
            _show(slots[where], messages)
    if result.problems:
        with top:
            count = len(result.problems)
            lines = "\n".join(f"- {p}" for p in result.problems)
            st.error(f"**{count} problem{'s' if count > 1 else ''} to fix** (each is also "
                     f"shown beside its field):\n{lines}", icon=":material/error:")
    return result


# --------------------------------------------------------------------------------------------
# Keeping the app's overrides in step, saving, uploading.


def push_overrides(draft: Draft, result: EditorResult, context: PageContext) -> bool:
    """Make the app's field overrides equal the draft's field changes; True if they changed.

    Only while the draft belongs to the sidebar's file, is valid and has no conflict.
    """
    if (result.scenario is None or draft.stem != context.stem or draft.conflict
            or draft.sha256 != read_entry(context.stem).sha256):
        return False
    wanted = changed_fields(context.saved, result.scenario)
    if wanted == context.overrides:
        return False
    set_overrides(wanted)
    draft.pushed = apply_overrides(context.saved, wanted).canonical()
    return True


def _after_save(draft: Draft, stem: str, context: PageContext, layout_note: str) -> None:
    entry = read_entry(stem)
    draft.stem, draft.modified_ns, draft.sha256 = stem, entry.modified_ns, entry.sha256
    draft.origin = f"opened from {stem}.yaml"
    draft.confirm = draft.conflict = None
    if entry.scenario is not None:
        draft.pushed = entry.scenario.canonical()
    # Only the file name: the server's folder is none of the reader's business.
    draft.notice = (f"Saved {stem}.yaml. It is in the sidebar's list; its share link is at the "
                    "bottom of the page.")
    if layout_note:
        draft.notice += f" {layout_note}."
    set_overrides({})
    if stem != context.stem:
        open_scenario(stem)


def _save(draft: Draft, scenario: Scenario, stem: str, context: PageContext,
          expected: tuple[int, str] | None) -> None:
    """Save and rerun; a refused save is recorded on the draft and shown."""
    try:
        if expected is None:
            saved = save_scenario(stem, scenario, overwrite=False)
        else:
            saved = save_scenario(stem, scenario, expected_mtime_ns=expected[0],
                                  expected_sha256=expected[1])
    except ScenarioConflictError as error:
        draft.confirm = None
        draft.conflict = str(error)
        st.rerun()
    except ScenarioExistsError as error:
        draft.confirm = None
        draft.notice = None
        st.session_state["_editor_save_error"] = str(error)
        st.rerun()
    except OSError as error:
        # str(OSError) names the full path on the server; say what failed with the file name.
        st.session_state["_editor_save_error"] = (f"Could not save {stem}.yaml: "
                                                  f"{error.strerror or type(error).__name__}")
        st.rerun()
    except (LibraryError, ValueError) as error:
        st.session_state["_editor_save_error"] = f"Could not save: {error}"
        st.rerun()
    _after_save(draft, stem, context, saved.layout_note)
    st.rerun()


def save_panel(draft: Draft, result: EditorResult, context: PageContext) -> None:
    """Save to the library: the target, the overwrite question and conflicts."""
    scenario = result.scenario
    named = slugify(result.data.get("name") or "scenario")
    error = st.session_state.pop("_editor_save_error", None)
    if error:
        st.error(error, icon=":material/error:")
    if draft.conflict:
        _conflict_panel(draft, scenario, context)
        return
    if scenario is None:
        st.info("Fix the problems above to save or download this scenario.",
                icon=":material/info:")
        return
    targets = [named]
    if draft.stem is not None and draft.stem != named:
        targets = [draft.stem, named]
    labels = {draft.stem: f"Update {draft.stem}.yaml (the file you opened)",
              named: f"{named}.yaml (named after the scenario)"}
    target = targets[0]
    if len(targets) > 1:
        target = st.radio("Save to", targets, format_func=labels.__getitem__,
                          key=f"{draft.prefix()}save_target", horizontal=True)
    else:
        st.markdown(f"Saves to **{target}.yaml** in the scenario library (the file name is "
                    "made from the scenario name).")
    if draft.confirm and draft.confirm[0] == target:
        existing = read_entry(target)
        who = (f"“{existing.scenario.name}”" if existing.scenario else "a file that does not "
               "load")
        st.warning(f"{target}.yaml already exists ({who}). Replace it with this scenario?",
                   icon=":material/warning:")
        yes, no, _ = st.columns([2, 1, 4])
        if yes.button("Replace it", key="editor_confirm_replace", type="primary",
                      icon=":material/save:"):
            _save(draft, scenario, target, context, draft.confirm[1:])
        if no.button("Cancel", key="editor_cancel_replace"):
            draft.confirm = None
            st.rerun()
        return
    if st.button(f"Save {target}.yaml", key="editor_save", type="primary",
                 icon=":material/save:"):
        existing = read_entry(target)
        if existing.modified_ns:
            if target == draft.stem:
                # The file you opened: replace exactly the version you opened.
                draft.confirm = (target, draft.modified_ns, draft.sha256)
            else:
                draft.confirm = (target, existing.modified_ns, existing.sha256)
            st.rerun()
        _save(draft, scenario, target, context, None)


def _conflict_panel(draft: Draft, scenario: Scenario | None, context: PageContext) -> None:
    st.error(f"{draft.conflict} Nothing was saved over it. Reload the file (your edits here "
             "are dropped) or save your version as a new file.", icon=":material/sync_problem:")
    reload_col, copy_col, _ = st.columns([3, 3, 2])
    if reload_col.button(f"Reload {draft.stem}.yaml from disk", key="editor_reload_conflict",
                         icon=":material/refresh:"):
        reopen(draft, context)
    if scenario is not None:
        name = f"{scenario.name} (copy)"[:120]
        stem = free_stem(slugify(name))
        if copy_col.button(f"Save my version as {stem}.yaml", key="editor_save_copy",
                           icon=":material/save_as:"):
            copied = scenario.model_copy(update={"name": name})
            _save(draft, copied, stem, context, None)
    else:
        copy_col.caption("Fix the problems above to save your version as a new file.")


def reopen(draft: Draft | None, context: PageContext) -> None:
    """Drop the draft and open the sidebar's file as it is on disk now; reruns."""
    set_overrides({})
    st.session_state.pop(DRAFT_KEY, None)
    if draft is not None and draft.stem is not None and draft.stem in list_stems():
        open_scenario(draft.stem)
    st.rerun()


def start_new(context: PageContext) -> None:
    """Replace the draft with a new scenario (schema defaults); reruns."""
    draft = draft_from_scenario(Scenario(name="New scenario",
                                         description="Describe the business in one "
                                                     "sentence."),
                                "a new scenario (schema defaults)")
    draft.notice = ("Started a new scenario from the defaults. Give it a name, fill in the "
                    "fields and save it.")
    st.session_state[DRAFT_KEY] = draft
    st.rerun()


def download_button(result: EditorResult) -> None:
    """Offer the scenario as a YAML file (exactly what Save would write)."""
    if result.scenario is None:
        st.button("Download YAML", disabled=True, key="editor_download_disabled",
                  icon=":material/download:", help="Fix the problems first.")
        return
    stem = slugify(result.scenario.name)
    st.download_button("Download YAML", data=scenario_text(result.scenario),
                       file_name=f"{stem}.yaml", mime="application/x-yaml",
                       on_click="ignore", key="editor_download", icon=":material/download:")


def upload_panel(on_loaded: Callable[[Scenario, str], None]) -> None:
    """Read an uploaded YAML file (capped, validated); call on_loaded for a good one.

    A bad file lists every problem by its dotted path; nothing is written anywhere.
    """
    upload = st.file_uploader("Upload a scenario YAML file", type=["yaml", "yml"],
                              key="editor_upload", max_upload_size=1,
                              help=f"At most {MAX_FILE_BYTES // 1024} KB. It opens here for "
                                   "review; the library changes only when you save.")
    if upload is None:
        return
    done = st.session_state.get(_UPLOAD_DONE_KEY)
    if done and done[0] == upload.file_id:
        if done[1]:
            _upload_problems(upload.name, done[1])
        return
    raw = upload.getvalue()
    problems: list[str] = []
    if len(raw) > MAX_FILE_BYTES:
        problems = [f"(file): {upload.name} is {len(raw) // 1024} KB; the limit is "
                    f"{MAX_FILE_BYTES // 1024} KB"]
    else:
        try:
            scenario = load_scenario_text(raw)
        except ScenarioError as error:
            problems = error.problems
    st.session_state[_UPLOAD_DONE_KEY] = (upload.file_id, problems)
    if problems:
        _upload_problems(upload.name, problems)
        return
    on_loaded(scenario, upload.name)


def _upload_problems(name: str, problems: list[str]) -> None:
    lines = "\n".join(f"- `{p.split(': ', 1)[0]}`: {p.split(': ', 1)[-1]}" for p in problems)
    st.error(f"**{name} cannot be used** — nothing was opened or saved; the library is "
             f"unchanged. {len(problems)} problem{'s' if len(problems) > 1 else ''}:\n{lines}",
             icon=":material/error:")


def open_upload(scenario: Scenario, file_name: str) -> None:
    """Put an uploaded scenario in the editor as a new, unsaved draft; reruns."""
    draft = draft_from_scenario(scenario, f"uploaded from {file_name}")
    draft.notice = (f"Opened {file_name} (“{scenario.name}”). Review it, then save it to add "
                    f"it to the library as {slugify(scenario.name)}.yaml.")
    st.session_state[DRAFT_KEY] = draft
    st.rerun()




def presenter_view(context: PageContext) -> None:
    """Show the scenario read-only (presenter mode): every field in words."""
    # A static table: plain text at the page's (presenter-sized) type, no scrolling grid.
    st.table(scenario_table(context.scenario).drop(columns=["Path"]).set_index("Section"))
    if context.scenario.variants:
        st.subheader("Variants")
        for name, overrides in context.scenario.variants.items():
            st.markdown(f"**{name}**: " + overrides_to_text(overrides).replace("\n", "; "))


def money_hint() -> str:
    """Return the one-line reminder of how numbers may be typed."""
    return (f"Type plain numbers: 2,000,000 or 0.05 (or 5% for a rate); ranges are 90% "
            f"intervals. Example money value: {fmt.money(50000)} is typed 50000.")
