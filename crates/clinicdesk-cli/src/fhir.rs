//! `clinicdesk fhir export`: the clinic's records as HL7 FHIR R4, the whole clinic as Bulk Data
//! NDJSON files (managers) or one patient's chart as a `collection` Bundle (clinicians, managers).
//! `clinicdesk fhir import`: records from another system (administrators), with a report.

use std::path::PathBuf;

use clap::Subcommand;
use clinicdesk_core::ImportReport;
use clinicdesk_core::{ExportScope, Result, Session};
use clinicdesk_fhir::{
    write_clinic_ndjson, write_deidentified_export, write_patient_bundle, FhirReading,
};

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
        #[arg(long, conflicts_with = "deidentify")]
        patient: Option<String>,
        /// De-identify the whole clinic for research and reporting (HIPAA Safe Harbor: no names,
        /// contact details, full dates, MRNs or notes; pseudonyms new for each export), with a
        /// `manifest.json` saying what was done.
        #[arg(long)]
        deidentify: bool,
    },
    /// Imports FHIR R4 (a Bundle, or NDJSON files) from another system into this store, and reports
    /// what it created, what the store held already, the likely duplicates it held back, the
    /// resources it refused (with file and line) and the elements it did not map. A file that is
    /// not FHIR at all stops the import before anything is written.
    Import {
        /// The files: Bundles (transaction, batch or collection) or NDJSON.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The system the files come from: ids that are not UUIDs are made from it, so the same
        /// import run again creates nothing new (give each source system its own name).
        #[arg(long, default_value = "fhir-import")]
        source: String,
    },
}

pub(crate) fn run_fhir(session: &mut Session, command: FhirCommand, out: &Output) -> Result<()> {
    let (path, patient) = match command {
        FhirCommand::Export {
            out: folder,
            deidentify: true,
            ..
        } => return export_deidentified(session, &folder, out),
        FhirCommand::Export { out, patient, .. } => (out, patient),
        FhirCommand::Import { files, source } => return import(session, &files, &source, out),
    };
    let clinic = session.export_clinic()?;
    match patient {
        Some(mrn) => {
            let timestamp = clinicdesk_core::format_timestamp(session_now(session));
            let mut counts = None;
            let entries = write_patient_bundle(&path, clinic, &timestamp, |visit| {
                counts = Some(session.export_records(&ExportScope::Patient(mrn), visit)?);
                Ok(())
            })?;
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
            let counts = write_clinic_ndjson(&path, clinic, |visit| {
                session
                    .export_records(&ExportScope::WholeClinic, visit)
                    .map(drop)
            })?;
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

fn import(session: &mut Session, files: &[PathBuf], source: &str, out: &Output) -> Result<()> {
    let mut reading = FhirReading::new(source);
    for file in files {
        reading.read_file(file)?;
    }
    let (items, refused_on_reading, skipped) = reading.finish();
    let report = session.import_records(items, refused_on_reading)?;
    out.value(
        serde_json::json!({ "report": report, "skipped_elements": skipped }),
        || describe(&report, &skipped),
    );
    Ok(())
}

fn describe(report: &ImportReport, skipped: &std::collections::BTreeMap<String, u64>) -> String {
    let counts = |counts: &clinicdesk_core::ExportCounts| {
        format!(
            "{} patients, {} practitioners, {} appointments, {} vital signs, {} notes, {} allergies, {} medications, {} problems",
            counts.patients,
            counts.providers,
            counts.appointments,
            counts.observations,
            counts.notes,
            counts.allergies,
            counts.medications,
            counts.problems
        )
    };
    let mut lines = vec![
        format!("Imported {}.", counts(&report.created)),
        format!(
            "Already in this store (left as they are): {}.",
            counts(&report.already_present)
        ),
    ];
    if report.attributed_to_importer > 0 {
        lines.push(format!(
            "{} notes or vital signs name an author with no staff account here: recorded as yours.",
            report.attributed_to_importer
        ));
    }
    if !report.likely_duplicates.is_empty() {
        lines.push(format!(
            "Held back as likely duplicates of patients in this store ({}; nothing of theirs was imported, nothing was merged):",
            report.likely_duplicates.len()
        ));
        for duplicate in &report.likely_duplicates {
            let candidates: Vec<String> = duplicate
                .candidates
                .iter()
                .map(|candidate| format!("MRN {} ({})", candidate.mrn, candidate.why))
                .collect();
            lines.push(format!(
                "  {}: {} born {} looks like {}",
                duplicate.place,
                duplicate.name,
                duplicate.date_of_birth,
                candidates.join(", ")
            ));
        }
    }
    if !report.refused.is_empty() {
        lines.push(format!("Refused ({}):", report.refused.len()));
        for refusal in &report.refused {
            lines.push(format!("  {}: {}", refusal.place, refusal.reason));
        }
    }
    if !skipped.is_empty() {
        lines.push("Not imported (counted by element):".to_owned());
        for (element, count) in skipped {
            lines.push(format!("  {element}: {count}"));
        }
    }
    lines.join("\n")
}

/// The whole clinic, de-identified (docs/reference.md, "De-identified export").
fn export_deidentified(session: &mut Session, path: &std::path::Path, out: &Output) -> Result<()> {
    let clinic = session.export_clinic()?;
    let manifest = write_deidentified_export(path, clinic, |visit| {
        session
            .export_records(&ExportScope::WholeClinicDeidentified, visit)
            .map(drop)
    })?;
    out.value(
        serde_json::json!({ "folder": path, "manifest": manifest }),
        || {
            format!(
                "Wrote a de-identified FHIR R4 export (HIPAA Safe Harbor) to {}; manifest.json there says what was removed or generalised",
                path.display()
            )
        },
    );
    Ok(())
}
