//! The audit trail for managers (and security events for administrators), access reports,
//! emergency-access review.

use clinicdesk_core::{
    AccessReportLine, AuditFilter, AuditListing, AuditVerification, EmergencyGrant, GrantId, Result,
};
use tauri::State;

use crate::state::AppState;

#[tauri::command]
pub async fn audit_list(state: State<'_, AppState>, filter: AuditFilter) -> Result<AuditListing> {
    state
        .with_session(move |session| session.audit_list(&filter))
        .await
}

#[tauri::command]
pub async fn audit_verify(state: State<'_, AppState>) -> Result<AuditVerification> {
    state.with_session(|session| session.audit_verify()).await
}

/// Writes the filtered trail as CSV into the user's Downloads folder; returns the file's path.
#[tauri::command]
pub async fn audit_export_csv(state: State<'_, AppState>, filter: AuditFilter) -> Result<String> {
    state
        .with_session(move |session| session.export_audit_csv_file(&filter, None))
        .await
        .map(|path| path.display().to_string())
}

/// Who saw or changed this patient's record, and when.
#[tauri::command]
pub async fn access_report(
    state: State<'_, AppState>,
    mrn: String,
) -> Result<Vec<AccessReportLine>> {
    state
        .with_session(move |session| session.access_report(&mrn))
        .await
}

#[tauri::command]
pub async fn emergency_review_list(
    state: State<'_, AppState>,
    include_reviewed: bool,
) -> Result<Vec<EmergencyGrant>> {
    state
        .with_session(move |session| session.emergency_access_for_review(include_reviewed))
        .await
}

#[tauri::command]
pub async fn emergency_mark_reviewed(
    state: State<'_, AppState>,
    grant_id: GrantId,
    note: String,
) -> Result<EmergencyGrant> {
    state
        .with_session(move |session| session.mark_emergency_access_reviewed(&grant_id, &note))
        .await
}
