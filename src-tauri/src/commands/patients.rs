//! Patients: search, registration, charts, restrictions, emergency access.

use clinicdesk_core::{
    Chart, DemographicsChange, EmergencyGrant, NewPatient, PatientHit, Registration, Result,
};
use tauri::State;

use crate::state::AppState;

/// The best 20 patients for a name (typos allowed), MRN, birth date or phone.
#[tauri::command]
pub async fn search_patients(state: State<'_, AppState>, query: String) -> Result<Vec<PatientHit>> {
    state
        .with_session(move |session| session.search_patients(&query))
        .await
}

/// Registers a patient; a likely duplicate registers nothing unless confirmed.
#[tauri::command]
pub async fn register_patient(
    state: State<'_, AppState>,
    patient: NewPatient,
    confirmed_not_duplicate: bool,
) -> Result<Registration> {
    state
        .with_session(move |session| session.register_patient(&patient, confirmed_not_duplicate))
        .await
}

/// Opens a chart (audited).
#[tauri::command]
pub async fn open_chart(state: State<'_, AppState>, mrn: String) -> Result<Chart> {
    state
        .with_session(move |session| session.open_chart(&mrn))
        .await
}

/// Changes demographics; a stale `expected_version` is a conflict, nothing overwritten.
#[tauri::command]
pub async fn update_demographics(
    state: State<'_, AppState>,
    mrn: String,
    change: DemographicsChange,
    expected_version: i64,
) -> Result<()> {
    state
        .with_session(move |session| {
            session.update_demographics(&mrn, &change, Some(expected_version))
        })
        .await
}

/// Restricts a chart to its care team, or lifts the restriction.
#[tauri::command]
pub async fn set_patient_restricted(
    state: State<'_, AppState>,
    mrn: String,
    restricted: bool,
) -> Result<()> {
    state
        .with_session(move |session| session.set_patient_restricted(&mrn, restricted))
        .await
}

/// Opens a restricted chart in an emergency, with a reason (audited, flagged for review).
#[tauri::command]
pub async fn request_emergency_access(
    state: State<'_, AppState>,
    mrn: String,
    reason: String,
) -> Result<EmergencyGrant> {
    state
        .with_session(move |session| session.request_emergency_access(&mrn, &reason))
        .await
}
