"""Scenario: build, edit, validate, save, upload and download scenario files."""

import streamlit as st

from ui import editor
from ui.calibrate import sources_panel
from ui.draft import EditorResult, editor_sentence
from ui.draft_actions import draft_actions
from ui.layout import answer, controls, footer, page_header
from ui.state import current

context = current()
page_header(context, "Scenario")
answer_slot = st.container()

if context.present:
    # Presenter mode: the scenario in words, nothing to edit.
    with answer_slot:
        answer(editor_sentence(editor.ensure_draft(context),
                               EditorResult(context.scenario.to_file_dict(), context.scenario,
                                            [])))
    editor.presenter_view(context)
else:
    draft = editor.ensure_draft(context)
    with controls():
        notice_slot = st.container()
        st.markdown(f"Editing **{draft.data.get('name') or 'an unnamed scenario'}**, "
                    f"{draft.origin}.")
        draft_actions(draft, context)
        st.caption(editor.money_hint())
        result = editor.editor_widgets(draft)
        sources_panel(result.scenario)
        if editor.push_overrides(draft, result, context):
            st.rerun()
        st.subheader("Save, download or upload")
        save_col, file_col = st.columns([3, 2], gap="large")
        with save_col:
            editor.save_panel(draft, result, context)
        with file_col:
            editor.download_button(result)
            editor.upload_panel(editor.open_upload)
        if draft.notice:
            with notice_slot:
                st.success(draft.notice, icon=":material/check_circle:")
            draft.notice = None
    with answer_slot:
        answer(editor_sentence(draft, result))

footer(context, page_path="scenario")
