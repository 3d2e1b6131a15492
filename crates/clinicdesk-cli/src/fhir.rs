//! `clinicdesk fhir export`: the clinic's records as HL7 FHIR R4, the whole clinic as Bulk Data
//! NDJSON files (managers) or one patient's chart as a `collection` Bundle (clinicians, managers).

use std::path::PathBuf;

use clap::Subcommand;
use clinicdesk_core::{Error, ExportScope, Result, Session};
use clinicdesk_fhir::{collection_bundle, FhirWriter, NdjsonFiles, References};

use crate::output::Output;

#[derive(Subcommand)]
pub(crate) enum FhirCommand {
    /// Exports FHIR R4: with --patient, one chart as a Bundle written to --out (a file); without,
    /// the whole clinic as one NDJSON file per resource type in --out (a new or empty folder).
    Export {
        /// Where to write: a folder for the whole clinic, a file for one patient.
        #[arg(long)]
        out: PathBuf,
        /// The MRN of the one patient to export.
        #[arg(long)]
        patient: Option<String>,
    },
}

pub(crate) fn run_fhir(session: &mut Session, command: FhirCommand, out: &Output) -> Result<()> {
    let FhirCommand::Export { out: path, patient } = command;
    let clinic = session.export_clinic()?;
    match patient {
        Some(mrn) => {
            if path.exists() {
                return Err(Error::invalid_field(
                    "out",
                    format!("{} exists already: name a new file", path.display()),
                ));
            }
            let mut writer = FhirWriter::new(clinic, References::Uuid);
            let mut resources = Vec::new();
            let counts = session.export_records(&ExportScope::Patient(mrn), &mut |record| {
                resources.extend(writer.resources(record));
                Ok(())
            })?;
            resources.extend(writer.flush());
            let timestamp = clinicdesk_core::format_timestamp(session_now(session));
            let bundle = collection_bundle(resources, &timestamp);
            let text = serde_json::to_string_pretty(&bundle)
                .map_err(|error| Error::unexpected(format!("writing the bundle: {error}")))?;
            std::fs::write(&path, text)
                .map_err(|error| Error::unexpected(format!("{}: {error}", path.display())))?;
            let entries = bundle["entry"].as_array().map_or(0, Vec::len);
            out.value(
                serde_json::json!({ "file": path, "resources": entries, "counts": counts }),
                || {
                    format!(
                        "Wrote a FHIR Bundle of {entries} resources to {}",
                        path.display()
                    )
                },
            );
        }
        None => {
            let mut files = NdjsonFiles::create(&path)?;
            let mut writer = FhirWriter::new(clinic, References::Relative);
            session.export_records(&ExportScope::WholeClinic, &mut |record| {
                writer
                    .resources(record)
                    .iter()
                    .try_for_each(|resource| files.write(resource))
            })?;
            for resource in writer.flush() {
                files.write(&resource)?;
            }
            let counts = files.finish()?;
            out.value(
                serde_json::json!({ "folder": path, "resources": counts }),
                || {
                    let lines: Vec<String> = counts
                        .iter()
                        .map(|(kind, count)| format!("  {kind}.ndjson: {count}"))
                        .collect();
                    format!(
                        "Wrote FHIR R4 NDJSON to {}:\n{}",
                        path.display(),
                        lines.join("\n")
                    )
                },
            );
        }
    }
    Ok(())
}

fn session_now(session: &Session) -> chrono::DateTime<chrono::Utc> {
    session.last_activity()
}
