"""The Scenario editor's way out: "New scenario" and "Revert to saved" ask before dropping
unsaved edits, and every other page says when the editor holds unsaved changes.

The draft itself (ui.draft.Draft) lives in the session under its own key (ui.editor.DRAFT_KEY),
so it is there again when the editor is opened; reloading the browser tab starts a new session,
which has no draft (field changes survive in the address, names and variants do not).
"""

from __future__ import annotations

import streamlit as st

from ui.draft import Draft
from ui.editor import DRAFT_KEY, reopen, start_new
from ui.library import read_entry
from ui.state import PageContext

_DISCARD_KEY = "_editor_discard"


def draft_actions(draft: Draft, context: PageContext) -> None:
    """Draw "New scenario" and "Revert to saved" (or "Open <file>" for a draft that is not
    the sidebar's file). Both drop the draft, so with unsaved changes they ask first."""
    pending = st.session_state.get(_DISCARD_KEY)
    if pending is not None:
        what = ("start a new scenario" if pending == "new" else
                f"go back to {context.stem}.yaml as it is saved")
        st.warning(f"Discard your unsaved changes and {what}? This cannot be undone.",
                   icon=":material/warning:")
        yes, no, _ = st.columns([2, 2, 4])
        if yes.button("Discard my changes", key="editor_discard_yes", type="primary",
                      icon=":material/delete_forever:"):
            st.session_state.pop(_DISCARD_KEY)
            _discard(pending, draft, context)
        if no.button("Keep editing", key="editor_discard_no"):
            st.session_state.pop(_DISCARD_KEY)
            st.rerun()
        return
    new_col, revert_col, _ = st.columns([2, 2, 4])
    new = new_col.button("New scenario", key="editor_new", icon=":material/note_add:",
                         help="Start from the schema's defaults (asks before dropping unsaved "
                              "edits).")
    if draft.stem == context.stem:
        revert = revert_col.button("Revert to saved", key="editor_revert",
                                   icon=":material/undo:",
                                   help=f"Discard the unsaved edits and show {context.stem}.yaml "
                                        "as it is on disk (asks first).")
    else:
        revert = revert_col.button(f"Open {context.stem}.yaml", key="editor_reopen",
                                   icon=":material/refresh:",
                                   help="Open the sidebar's file as it is on disk (asks before "
                                        "dropping unsaved edits).")
    action = "new" if new else "revert" if revert else None
    if action is None:
        return
    saved = read_entry(draft.stem).scenario if draft.stem is not None else None
    if draft.unsaved(saved):
        st.session_state[_DISCARD_KEY] = action
        st.rerun()
    _discard(action, draft, context)


def _discard(action: str, draft: Draft, context: PageContext) -> None:
    if action == "new":
        start_new(context)
    reopen(draft if draft.stem == context.stem else None, context)


def unsaved_notice(context: PageContext) -> None:
    """On the other pages: say that the editor holds unsaved changes, with a link back.

    A cheap check (the draft against its file; no simulation). The draft lives in the session,
    so it is there again when the editor is opened; a reload of the browser tab starts a new
    session, which has no draft."""
    draft: Draft | None = st.session_state.get(DRAFT_KEY)
    if draft is None or context.present:
        return
    saved = read_entry(draft.stem).scenario if draft.stem is not None else None
    if not draft.unsaved(saved):
        return
    what = f"{draft.stem}.yaml" if draft.stem is not None else "a scenario not saved yet"
    with st.container(key="unsaved_notice"):
        st.warning(f"Unsaved changes in the Scenario editor ({what}): they are kept while this "
                   "browser tab is open. Save them there, or revert to the saved file.",
                   icon=":material/edit_note:")
        st.page_link("pages/scenario.py", label="Back to the Scenario editor",
                     icon=":material/edit_document:")
