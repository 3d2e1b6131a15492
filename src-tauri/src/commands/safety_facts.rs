//! The chart's safety facts: allergies and the allergy banner, medications and their review,
//! problems.

use clinicdesk_core::{
    AllergyDetails, AllergyId, AllergyList, AllergyState, MedicationDetails, MedicationId,
    MedicationList, Problem, ProblemDetails, ProblemId, Result,
};
use tauri::State;

use crate::state::AppState;

/// The allergy banner: allergies, none known, or not recorded (the front desk: no substances).
#[tauri::command]
pub async fn allergy_state(state: State<'_, AppState>, mrn: String) -> Result<AllergyState> {
    state
        .with_session(move |session| session.allergy_state(&mrn))
        .await
}

/// Every allergy recorded for the patient, and the banner's state.
#[tauri::command]
pub async fn allergies(state: State<'_, AppState>, mrn: String) -> Result<AllergyList> {
    state
        .with_session(move |session| session.allergies(&mrn))
        .await
}

#[tauri::command]
pub async fn record_allergy(
    state: State<'_, AppState>,
    mrn: String,
    details: AllergyDetails,
) -> Result<AllergyId> {
    state
        .with_session(move |session| session.record_allergy(&mrn, &details))
        .await
}

#[tauri::command]
pub async fn update_allergy(
    state: State<'_, AppState>,
    allergy_id: AllergyId,
    details: AllergyDetails,
) -> Result<()> {
    state
        .with_session(move |session| session.update_allergy(&allergy_id, &details))
        .await
}

/// Confirms the patient has no known allergies (refused while an allergy is active).
#[tauri::command]
pub async fn confirm_no_known_allergies(state: State<'_, AppState>, mrn: String) -> Result<()> {
    state
        .with_session(move |session| session.confirm_no_known_allergies(&mrn))
        .await
}

#[tauri::command]
pub async fn mark_allergy_in_error(
    state: State<'_, AppState>,
    allergy_id: AllergyId,
    reason: String,
) -> Result<()> {
    state
        .with_session(move |session| session.mark_allergy_in_error(&allergy_id, &reason))
        .await
}

/// The medications and the last review, each marked when changed by someone else since.
#[tauri::command]
pub async fn medications(state: State<'_, AppState>, mrn: String) -> Result<MedicationList> {
    state
        .with_session(move |session| session.medications(&mrn))
        .await
}

#[tauri::command]
pub async fn record_medication(
    state: State<'_, AppState>,
    mrn: String,
    details: MedicationDetails,
) -> Result<MedicationId> {
    state
        .with_session(move |session| session.record_medication(&mrn, &details))
        .await
}

#[tauri::command]
pub async fn update_medication(
    state: State<'_, AppState>,
    medication_id: MedicationId,
    details: MedicationDetails,
) -> Result<()> {
    state
        .with_session(move |session| session.update_medication(&medication_id, &details))
        .await
}

#[tauri::command]
pub async fn mark_medication_in_error(
    state: State<'_, AppState>,
    medication_id: MedicationId,
    reason: String,
) -> Result<()> {
    state
        .with_session(move |session| session.mark_medication_in_error(&medication_id, &reason))
        .await
}

/// Marks the medication list reviewed now (clinicians).
#[tauri::command]
pub async fn review_medications(state: State<'_, AppState>, mrn: String) -> Result<()> {
    state
        .with_session(move |session| session.review_medications(&mrn))
        .await
}

#[tauri::command]
pub async fn problems(state: State<'_, AppState>, mrn: String) -> Result<Vec<Problem>> {
    state
        .with_session(move |session| session.problems(&mrn))
        .await
}

#[tauri::command]
pub async fn record_problem(
    state: State<'_, AppState>,
    mrn: String,
    details: ProblemDetails,
) -> Result<ProblemId> {
    state
        .with_session(move |session| session.record_problem(&mrn, &details))
        .await
}

#[tauri::command]
pub async fn update_problem(
    state: State<'_, AppState>,
    problem_id: ProblemId,
    details: ProblemDetails,
) -> Result<()> {
    state
        .with_session(move |session| session.update_problem(&problem_id, &details))
        .await
}

#[tauri::command]
pub async fn mark_problem_in_error(
    state: State<'_, AppState>,
    problem_id: ProblemId,
    reason: String,
) -> Result<()> {
    state
        .with_session(move |session| session.mark_problem_in_error(&problem_id, &reason))
        .await
}
