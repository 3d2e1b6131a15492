//! Vital signs: the reference table for inline validation, recording, flowsheet, trends.

use clinicdesk_core::{
    ObservationId, Result, TrendPoint, VitalKind, VitalReading, VitalsSet, VITALS,
};
use serde::Serialize;
use tauri::State;

use crate::state::AppState;

/// One row of the vital-signs table (docs/reference.md), for the form's inline checks and flags.
#[derive(ts_rs::TS, Debug, Serialize)]
pub struct VitalDefinitionView {
    pub kind: VitalKind,
    pub label: &'static str,
    pub loinc: &'static str,
    /// The UCUM code (in the data and exports).
    pub unit: &'static str,
    /// The unit as people write it, for everything on screen.
    pub display_unit: &'static str,
    pub plausible_low: f64,
    pub plausible_high: f64,
    pub normal: Option<(f64, f64)>,
    /// Critical below this value.
    pub critical_below: Option<f64>,
    /// Critical above this value (or at it, when the flag says so).
    pub critical_high: Option<(f64, bool)>,
    pub decimals: u32,
}

/// The vital-signs table, for the form's checks as the nurse types.
#[tauri::command]
pub async fn vital_definitions() -> Result<Vec<VitalDefinitionView>> {
    Ok(VITALS
        .iter()
        .map(|d| VitalDefinitionView {
            kind: d.kind,
            label: d.label,
            loinc: d.loinc,
            unit: d.unit,
            display_unit: d.display_unit,
            plausible_low: d.plausible.0,
            plausible_high: d.plausible.1,
            normal: d.normal,
            critical_below: d.critical_below,
            critical_high: d.critical_high,
            decimals: d.decimals,
        })
        .collect())
}

/// Records a vitals set (converted, flagged, BMI added).
#[tauri::command]
pub async fn record_vitals(
    state: State<'_, AppState>,
    mrn: String,
    readings: Vec<VitalReading>,
) -> Result<VitalsSet> {
    state
        .with_session(move |session| session.record_vitals(&mrn, &readings, None))
        .await
}

/// The last 50 vitals sets, newest first.
#[tauri::command]
pub async fn vitals_flowsheet(state: State<'_, AppState>, mrn: String) -> Result<Vec<VitalsSet>> {
    state
        .with_session(move |session| session.vitals_flowsheet(&mrn, 50))
        .await
}

#[tauri::command]
pub async fn vitals_trend(
    state: State<'_, AppState>,
    mrn: String,
    kind: VitalKind,
) -> Result<Vec<TrendPoint>> {
    state
        .with_session(move |session| session.vitals_trend(&mrn, kind, None))
        .await
}

/// Marks a value entered-in-error, with a reason (never an edit).
#[tauri::command]
pub async fn mark_observation_in_error(
    state: State<'_, AppState>,
    observation_id: ObservationId,
    reason: String,
) -> Result<()> {
    state
        .with_session(move |session| session.mark_observation_in_error(&observation_id, &reason))
        .await
}
