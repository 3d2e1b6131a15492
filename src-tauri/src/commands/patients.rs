//! Patients: search, registration, charts, restrictions, care team, emergency access.

use clinicdesk_core::{
    Chart, DemographicsChange, EmergencyGrant, NewPatient, PatientHit, Registration, Result,
};
use tauri::State;

use crate::state::AppState;

#[tauri::command]
pub fn search_patients(state: State<'_, AppState>, query: String) -> Result<Vec<PatientHit>> {
    state.with_session(|session| session.search_patients(&query))
}

#[tauri::command]
pub fn register_patient(
    state: State<'_, AppState>,
    patient: NewPatient,
    confirmed_not_duplicate: bool,
) -> Result<Registration> {
    state.with_session(|session| session.register_patient(&patient, confirmed_not_duplicate))
}

#[tauri::command]
pub fn open_chart(state: State<'_, AppState>, mrn: String) -> Result<Chart> {
    state.with_session(|session| session.open_chart(&mrn))
}

#[tauri::command]
pub fn update_demographics(
    state: State<'_, AppState>,
    mrn: String,
    change: DemographicsChange,
    expected_version: i64,
) -> Result<()> {
    state.with_session(|session| session.update_demographics(&mrn, &change, Some(expected_version)))
}

#[tauri::command]
pub fn set_patient_restricted(
    state: State<'_, AppState>,
    mrn: String,
    restricted: bool,
) -> Result<()> {
    state.with_session(|session| session.set_patient_restricted(&mrn, restricted))
}

#[tauri::command]
pub fn request_emergency_access(
    state: State<'_, AppState>,
    mrn: String,
    reason: String,
) -> Result<EmergencyGrant> {
    state.with_session(|session| session.request_emergency_access(&mrn, &reason))
}
