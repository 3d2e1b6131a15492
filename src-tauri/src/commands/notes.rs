//! Clinical and nursing notes.

use clinicdesk_core::{Note, NoteId, Result};
use tauri::State;

use crate::state::AppState;

/// The chart's notes with their addenda, newest first; `search` narrows them.
#[tauri::command]
pub async fn list_notes(
    state: State<'_, AppState>,
    mrn: String,
    search: Option<String>,
) -> Result<Vec<Note>> {
    state
        .with_session(move |session| session.list_notes(&mrn, search.as_deref(), 100))
        .await
}

/// Writes a note (clinical for clinicians, nursing for nurses), or an addendum to one.
#[tauri::command]
pub async fn write_note(
    state: State<'_, AppState>,
    mrn: String,
    title: Option<String>,
    body: String,
    parent_note_id: Option<NoteId>,
) -> Result<NoteId> {
    state
        .with_session(move |session| {
            let kind = session.default_note_kind();
            session.write_note(&mrn, kind, title.as_deref(), &body, parent_note_id.as_ref())
        })
        .await
}
