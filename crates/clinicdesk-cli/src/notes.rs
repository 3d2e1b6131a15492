//! `clinicdesk note …`: clinical and nursing notes with addenda.

use clap::Subcommand;
use clinicdesk_core::{NoteId, Result, Session};

use crate::output::Output;

#[derive(Subcommand)]
pub(crate) enum NoteCommand {
    /// Write a note (clinicians: clinical; nurses: nursing).
    Add {
        #[arg(long)]
        patient: String,
        #[arg(long)]
        title: Option<String>,
        #[arg(long)]
        text: String,
    },
    Addendum {
        note_id: String,
        #[arg(long)]
        patient: String,
        #[arg(long)]
        text: String,
    },
    /// Notes with addenda, newest first; --search finds words within this patient's notes.
    List {
        #[arg(long)]
        patient: String,
        #[arg(long)]
        search: Option<String>,
        #[arg(long, default_value_t = 50, value_parser = clinicdesk_cli::arguments::count)]
        limit: u32,
    },
}

pub(crate) fn run_note(session: &mut Session, command: NoteCommand, out: &Output) -> Result<()> {
    match command {
        NoteCommand::Add {
            patient,
            title,
            text,
        } => {
            let kind = session.default_note_kind();
            let id = session.write_note(&patient, kind, title.as_deref(), &text, None)?;
            out.value(serde_json::json!({ "note_id": id }), || {
                format!("Saved. Note id:\n{id}")
            });
        }
        NoteCommand::Addendum {
            note_id,
            patient,
            text,
        } => {
            let kind = session.default_note_kind();
            let id =
                session.write_note(&patient, kind, None, &text, Some(&NoteId::parse(&note_id)?))?;
            out.value(serde_json::json!({ "note_id": id }), || {
                format!("Addendum saved. Id:\n{id}")
            });
        }
        NoteCommand::List {
            patient,
            search,
            limit,
        } => {
            let notes = session.list_notes(&patient, search.as_deref(), limit)?;
            out.value(serde_json::to_value(&notes).unwrap_or_default(), || {
                let mut text = String::new();
                for note in &notes {
                    text.push_str(&format!(
                        "── {} · {} · {} note · {}\n",
                        note.written_at, note.author, note.kind, note.id
                    ));
                    if let Some(title) = &note.title {
                        text.push_str(&format!("{title}\n"));
                    }
                    text.push_str(&format!("{}\n", note.body));
                    for addendum in &note.addenda {
                        text.push_str(&format!(
                            "   + Addendum {} · {}: {}\n",
                            addendum.written_at, addendum.author, addendum.body
                        ));
                    }
                }
                if text.is_empty() {
                    "No notes.".to_owned()
                } else {
                    text.trim_end().to_owned()
                }
            });
        }
    }
    Ok(())
}
