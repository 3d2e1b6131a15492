//! Clinical and nursing notes: append-only, corrected by addenda; listed and searched per patient.

use clinicdesk_error::{Error, Result};
use clinicdesk_store::rusqlite::{params, OptionalExtension};
use clinicdesk_store::sql_error;
use serde::{Deserialize, Serialize};

use crate::ids::NoteId;
use crate::permission::Permission;
use crate::session::Session;
use crate::tables::Table;

/// Clinical notes are written by clinicians, nursing notes by nurses.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoteKind {
    Clinical,
    Nursing,
}

impl NoteKind {
    fn code(self) -> &'static str {
        match self {
            NoteKind::Clinical => "clinical",
            NoteKind::Nursing => "nursing",
        }
    }

    fn permission(self) -> Permission {
        match self {
            NoteKind::Clinical => Permission::NotesWriteClinical,
            NoteKind::Nursing => Permission::NotesWriteNursing,
        }
    }

    pub fn from_code(code: &str) -> Result<NoteKind> {
        match code.trim().to_lowercase().as_str() {
            "clinical" => Ok(NoteKind::Clinical),
            "nursing" => Ok(NoteKind::Nursing),
            other => Err(Error::invalid_input(format!(
                "note kind {other:?} is not clinical or nursing"
            ))),
        }
    }
}

/// A note with its addenda.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub id: NoteId,
    pub kind: String,
    pub author: String,
    pub written_at: String,
    pub title: Option<String>,
    pub body: String,
    pub addenda: Vec<Note>,
}

impl Session {
    /// The kind of note this user writes: clinicians clinical notes, nurses nursing notes.
    pub fn default_note_kind(&self) -> NoteKind {
        if self.permissions().contains(&Permission::NotesWriteClinical) {
            NoteKind::Clinical
        } else {
            NoteKind::Nursing
        }
    }

    /// Writes a note (or, with `parent_note_id`, an addendum to one).
    pub fn write_note(
        &mut self,
        mrn: &str,
        kind: NoteKind,
        title: Option<&str>,
        body: &str,
        parent_note_id: Option<&NoteId>,
    ) -> Result<NoteId> {
        let (patient_id, _, _) = self.enter_chart(mrn, "note.write", kind.permission())?;
        let body = crate::validation::multi_line(
            crate::validation::field("body", "the note"),
            body.trim(),
            crate::limits::NOTE_BODY.max,
        )?;
        let body = body.as_str();
        let title = title
            .map(|title| {
                crate::validation::optional_line(
                    crate::validation::field("title", "the title"),
                    title,
                    crate::limits::NOTE_TITLE.max,
                )
            })
            .transpose()?
            .flatten();
        let title = title.as_deref();
        if let Some(parent) = parent_note_id {
            let parent_patient: Option<String> = self
                .connection()?
                .query_row(
                    "SELECT patient_id FROM notes WHERE id = ?1 AND parent_note_id IS NULL",
                    [parent],
                    |row| row.get(0),
                )
                .optional()
                .map_err(sql_error("finding the note"))?;
            if parent_patient.as_deref() != Some(patient_id.as_str()) {
                return Err(Error::not_found(
                    "there is no such note in this patient's chart to add to",
                ));
            }
        }
        let by = self.user().id.to_string();
        self.write(|transaction| {
            let written = transaction.stamp();
            let id = transaction.insert_row(
                Table::Notes,
                &[
                    ("patient_id", &patient_id),
                    ("author_id", &by),
                    ("kind", &kind.code()),
                    ("parent_note_id", &parent_note_id),
                    ("title", &title),
                    ("body", &body),
                    ("written_at", &written),
                ],
            )?;
            let action = if parent_note_id.is_some() { "note.addendum" } else { "note.create" };
            transaction.audit(transaction.entry(action)
                    .object("note", &id)
                    .patient(&patient_id)
                    .details(serde_json::json!({ "kind": kind.code(), "parent_note_id": parent_note_id, "characters": body.chars().count() })),
            )?;
            Ok(NoteId::from_store(id))
        })
    }

    /// The patient's notes, newest first, each with its addenda; with `search`, only notes whose
    /// title or body (or an addendum's) match the words. Audited as a chart read.
    pub fn list_notes(&mut self, mrn: &str, search: Option<&str>, limit: u32) -> Result<Vec<Note>> {
        let (patient_id, now, access) =
            self.enter_chart(mrn, "notes.read", Permission::NotesRead)?;
        let notes = {
            let connection = self.connection()?;
            let query = search.map(fts_query).filter(|q| !q.is_empty());
            let sql = if query.is_some() {
                "SELECT n.id, n.kind, u.username, n.written_at, n.title, n.body FROM notes n JOIN users u ON u.id = n.author_id
                 WHERE n.patient_id = ?1 AND n.parent_note_id IS NULL AND n.status = 'final' AND (
                    n.rowid IN (SELECT rowid FROM note_search WHERE note_search MATCH ?2)
                    OR n.id IN (SELECT a.parent_note_id FROM notes a WHERE a.patient_id = ?1 AND a.rowid IN (SELECT rowid FROM note_search WHERE note_search MATCH ?2)))
                 ORDER BY n.written_at DESC LIMIT ?3"
            } else {
                "SELECT n.id, n.kind, u.username, n.written_at, n.title, n.body FROM notes n JOIN users u ON u.id = n.author_id
                 WHERE n.patient_id = ?1 AND n.parent_note_id IS NULL AND n.status = 'final' AND ?2 IS NULL
                 ORDER BY n.written_at DESC LIMIT ?3"
            };
            let mut statement = connection
                .prepare(sql)
                .map_err(sql_error("reading notes"))?;
            let read = |row: &clinicdesk_store::rusqlite::Row<'_>| {
                Ok(Note {
                    id: row.get(0)?,
                    kind: row.get(1)?,
                    author: row.get(2)?,
                    written_at: row.get(3)?,
                    title: row.get(4)?,
                    body: row.get(5)?,
                    addenda: Vec::new(),
                })
            };
            let mut notes: Vec<Note> = statement
                .query_map(params![patient_id, query, limit.clamp(1, 1000)], read)
                .map_err(sql_error("reading notes"))?
                .collect::<Result<_, _>>()
                .map_err(sql_error("reading notes"))?;
            let mut addenda = connection
                .prepare(
                    "SELECT n.id, n.kind, u.username, n.written_at, n.title, n.body FROM notes n JOIN users u ON u.id = n.author_id
                     WHERE n.parent_note_id = ?1 AND n.status = 'final' ORDER BY n.written_at",
                )
                .map_err(sql_error("reading addenda"))?;
            for note in &mut notes {
                note.addenda = addenda
                    .query_map([&note.id], read)
                    .map_err(sql_error("reading addenda"))?
                    .collect::<Result<_, _>>()
                    .map_err(sql_error("reading addenda"))?;
            }
            notes
        };
        self.audit_chart_read(&patient_id, "notes.read", now, serde_json::json!({ "access": access, "notes": notes.len(), "searched": search.is_some() }))?;
        Ok(notes)
    }
}

/// Words as an FTS5 query: each word quoted (no operators from user input), prefix-matched.
fn fts_query(text: &str) -> String {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| format!("\"{}\"*", word.replace('"', "")))
        .collect::<Vec<_>>()
        .join(" ")
}
