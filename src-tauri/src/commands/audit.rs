//! The audit trail for managers (and security events for administrators), access reports,
//! emergency-access review.

use clinicdesk_core::{
    AccessReportLine, AuditEntry, AuditFilter, AuditVerification, EmergencyGrant, Error, Result,
};
use tauri::State;

use crate::state::AppState;

#[tauri::command]
pub fn audit_list(state: State<'_, AppState>, filter: AuditFilter) -> Result<Vec<AuditEntry>> {
    state.with_session(|session| session.audit_list(&filter))
}

#[tauri::command]
pub fn audit_verify(state: State<'_, AppState>) -> Result<AuditVerification> {
    state.with_session(|session| session.audit_verify())
}

/// Writes the filtered trail as CSV into the user's Downloads folder; returns the file's path.
#[tauri::command]
pub fn audit_export_csv(state: State<'_, AppState>, filter: AuditFilter) -> Result<String> {
    let folder = directories::UserDirs::new()
        .and_then(|dirs| dirs.download_dir().map(|d| d.to_path_buf()))
        .unwrap_or_else(std::env::temp_dir);
    std::fs::create_dir_all(&folder)?;
    let path = folder.join(format!(
        "clinicdesk-audit-{}.csv",
        chrono::Utc::now().format("%Y%m%d-%H%M%S")
    ));
    let file = std::fs::File::create(&path).map_err(|error| {
        Error::invalid_input(format!("cannot write {}: {error}", path.display()))
    })?;
    state.with_session(|session| session.audit_export_csv(&filter, file))?;
    Ok(path.display().to_string())
}

#[tauri::command]
pub fn access_report(state: State<'_, AppState>, mrn: String) -> Result<Vec<AccessReportLine>> {
    state.with_session(|session| session.access_report(&mrn))
}

#[tauri::command]
pub fn emergency_review_list(
    state: State<'_, AppState>,
    include_reviewed: bool,
) -> Result<Vec<EmergencyGrant>> {
    state.with_session(|session| session.emergency_access_for_review(include_reviewed))
}

#[tauri::command]
pub fn emergency_mark_reviewed(
    state: State<'_, AppState>,
    grant_id: String,
    note: String,
) -> Result<EmergencyGrant> {
    state.with_session(|session| session.mark_emergency_access_reviewed(&grant_id, &note))
}
