//! Clinical and nursing notes.

use clinicdesk_core::{Note, Result};
use tauri::State;

use crate::state::AppState;

#[tauri::command]
pub fn list_notes(
    state: State<'_, AppState>,
    mrn: String,
    search: Option<String>,
) -> Result<Vec<Note>> {
    state.with_session(|session| session.list_notes(&mrn, search.as_deref(), 100))
}

#[tauri::command]
pub fn write_note(
    state: State<'_, AppState>,
    mrn: String,
    title: Option<String>,
    body: String,
    parent_note_id: Option<String>,
) -> Result<String> {
    state.with_session(|session| {
        let kind = session.default_note_kind();
        session.write_note(
            &mrn,
            kind,
            title.as_deref(),
            &body,
            parent_note_id.as_deref(),
        )
    })
}
