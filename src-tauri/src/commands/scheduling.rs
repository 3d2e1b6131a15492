//! Providers, day and week schedules, booking, rescheduling, statuses, next free slot.

use chrono::{NaiveDate, NaiveDateTime};
use clinicdesk_core::{
    Appointment, AppointmentStatus, AppointmentType, BookingRequest, Provider, Result,
    WorkingWindow,
};
use tauri::State;

use crate::state::AppState;

#[tauri::command]
pub fn list_providers(state: State<'_, AppState>) -> Result<Vec<Provider>> {
    state.with_session(|session| session.list_providers())
}

#[tauri::command]
pub fn list_appointment_types(state: State<'_, AppState>) -> Result<Vec<AppointmentType>> {
    state.with_session(|session| session.list_appointment_types())
}

#[tauri::command]
pub fn day_schedule(
    state: State<'_, AppState>,
    provider_id: Option<String>,
    day: NaiveDate,
) -> Result<Vec<Appointment>> {
    state.with_session(|session| session.day_schedule(provider_id.as_deref(), day))
}

#[tauri::command]
pub fn week_schedule(
    state: State<'_, AppState>,
    provider_id: Option<String>,
    first_day: NaiveDate,
) -> Result<Vec<Appointment>> {
    state.with_session(|session| session.week_schedule(provider_id.as_deref(), first_day))
}

#[tauri::command]
pub fn arrived_today(state: State<'_, AppState>) -> Result<Vec<Appointment>> {
    state.with_session(|session| session.arrived_today())
}

#[tauri::command]
pub fn book_appointment(
    state: State<'_, AppState>,
    request: BookingRequest,
) -> Result<Vec<Appointment>> {
    state.with_session(|session| session.book_appointment(&request))
}

#[tauri::command]
pub fn reschedule_appointment(
    state: State<'_, AppState>,
    id: String,
    starts_local: NaiveDateTime,
    expected_version: i64,
) -> Result<Appointment> {
    state.with_session(|session| {
        session.reschedule_appointment(&id, starts_local, None, Some(expected_version), false)
    })
}

#[tauri::command]
pub fn set_appointment_status(
    state: State<'_, AppState>,
    id: String,
    status: AppointmentStatus,
    reason: Option<String>,
) -> Result<Appointment> {
    state.with_session(|session| session.set_appointment_status(&id, status, reason.as_deref()))
}

#[tauri::command]
pub fn next_free_slot(
    state: State<'_, AppState>,
    provider_id: String,
    minutes: u32,
    from_local: NaiveDateTime,
) -> Result<Option<NaiveDateTime>> {
    state.with_session(|session| session.next_free_slot(&provider_id, minutes, from_local))
}

#[tauri::command]
pub fn add_provider(
    state: State<'_, AppState>,
    display_name: String,
    username: Option<String>,
    specialty: Option<String>,
) -> Result<Provider> {
    state.with_session(|session| {
        session.add_provider(&display_name, username.as_deref(), specialty.as_deref())
    })
}

#[tauri::command]
pub fn working_hours(
    state: State<'_, AppState>,
    provider_id: String,
) -> Result<Vec<WorkingWindow>> {
    state.with_session(|session| session.working_hours(&provider_id))
}

/// Replaces the windows of the given weekdays (ISO 1 = Monday); minutes after local midnight.
#[tauri::command]
pub fn set_working_hours(
    state: State<'_, AppState>,
    provider_id: String,
    weekdays: Vec<u32>,
    windows: Vec<(u32, u32)>,
) -> Result<()> {
    state.with_session(|session| session.set_working_hours(&provider_id, &weekdays, &windows))
}

#[tauri::command]
pub fn add_day_off(
    state: State<'_, AppState>,
    provider_id: String,
    first_day: NaiveDate,
    last_day: NaiveDate,
    reason: Option<String>,
) -> Result<()> {
    state.with_session(|session| {
        session.add_day_off(&provider_id, first_day, last_day, reason.as_deref())
    })
}

#[tauri::command]
pub fn add_appointment_type(
    state: State<'_, AppState>,
    name: String,
    default_minutes: u32,
) -> Result<AppointmentType> {
    state.with_session(|session| session.add_appointment_type(&name, default_minutes))
}
