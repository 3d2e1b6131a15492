//! Exporting records from the desktop: one patient's chart as a FHIR Bundle (clinicians,
//! managers), the whole clinic as FHIR NDJSON, plain or de-identified (managers), into the
//! person's Downloads folder. The clinic's export runs on its own connection with progress.

use std::path::PathBuf;

use clinicdesk_core::{ExportCounts, ExportProgress, ExportScope, Result};
use serde::{Deserialize, Serialize};
use tauri::ipc::Channel;
use tauri::State;

use crate::state::AppState;

/// Where an export went, and what it holds.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordsExported {
    /// The file (one chart) or the folder (the clinic).
    pub path: String,
    pub counts: ExportCounts,
}

/// Exports one patient's chart as a FHIR R4 `collection` Bundle into the Downloads folder.
#[tauri::command]
pub async fn export_patient_fhir(
    state: State<'_, AppState>,
    mrn: String,
) -> Result<RecordsExported> {
    state
        .with_session(move |session| {
            let clinic = session.export_clinic()?;
            let stamp = session.last_activity();
            let path = clinicdesk_core::exports_folder().join(format!(
                "clinicdesk-chart-{mrn}-{}.fhir.json",
                stamp.format("%Y%m%d-%H%M%S")
            ));
            let timestamp = clinicdesk_core::format_timestamp(stamp);
            let mut counts = ExportCounts::default();
            clinicdesk_fhir::write_patient_bundle(&path, clinic, &timestamp, |visit| {
                counts = session.export_records(&ExportScope::Patient(mrn), visit)?;
                Ok(())
            })?;
            Ok(RecordsExported {
                path: path.display().to_string(),
                counts,
            })
        })
        .await
}

/// Exports the whole clinic as FHIR R4 NDJSON (de-identified for research when asked) into a new
/// folder in Downloads, reporting progress patient by patient.
#[tauri::command]
pub async fn export_clinic_fhir(
    state: State<'_, AppState>,
    deidentified: bool,
    on_progress: Channel<ExportProgress>,
) -> Result<RecordsExported> {
    let scope = if deidentified {
        ExportScope::WholeClinicDeidentified
    } else {
        ExportScope::WholeClinic
    };
    state
        .with_job(
            move |session| {
                let clinic = session.export_clinic()?;
                let folder = clinicdesk_core::exports_folder().join(format!(
                    "clinicdesk-{}-{}",
                    if deidentified { "deidentified" } else { "fhir" },
                    session.last_activity().format("%Y%m%d-%H%M%S")
                ));
                Ok((clinic, folder, session.prepare_records_export(&scope)?))
            },
            move |(clinic, folder, job): (_, PathBuf, _)| {
                let mut counts = ExportCounts::default();
                let mut last_percent = None;
                let mut progress = |report: ExportProgress| {
                    let percent = (report.patients_done * 100).checked_div(report.patients_total);
                    if last_percent != Some(percent) {
                        last_percent = Some(percent);
                        let _ = on_progress.send(report);
                    }
                };
                let run = |visit: &mut dyn FnMut(_) -> Result<()>| {
                    counts = job.run(visit, &mut progress)?;
                    Ok(())
                };
                if deidentified {
                    clinicdesk_fhir::write_deidentified_export(&folder, clinic, run)?;
                } else {
                    clinicdesk_fhir::write_clinic_ndjson(&folder, clinic, run)?;
                }
                Ok(RecordsExported {
                    path: folder.display().to_string(),
                    counts,
                })
            },
        )
        .await
}
