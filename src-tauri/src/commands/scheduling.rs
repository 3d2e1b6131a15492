//! Providers, day and week schedules, booking, rescheduling, statuses, next free slot.

use chrono::{NaiveDate, NaiveDateTime};
use clinicdesk_core::{
    Appointment, AppointmentId, AppointmentStatus, AppointmentType, BookingRequest, Provider,
    ProviderId, RepeatedHour, Result, TodayEntry, WorkingWindow,
};
use tauri::State;

use crate::state::AppState;

#[tauri::command]
pub async fn list_providers(state: State<'_, AppState>) -> Result<Vec<Provider>> {
    state.with_session(|session| session.list_providers()).await
}

#[tauri::command]
pub async fn list_appointment_types(state: State<'_, AppState>) -> Result<Vec<AppointmentType>> {
    state
        .with_session(|session| session.list_appointment_types())
        .await
}

/// One local day of one provider, or of the whole clinic.
#[tauri::command]
pub async fn day_schedule(
    state: State<'_, AppState>,
    provider_id: Option<ProviderId>,
    day: NaiveDate,
) -> Result<Vec<Appointment>> {
    state
        .with_session(move |session| session.day_schedule(provider_id.as_ref(), day))
        .await
}

/// Seven local days from `first_day`.
#[tauri::command]
pub async fn week_schedule(
    state: State<'_, AppState>,
    provider_id: Option<ProviderId>,
    first_day: NaiveDate,
) -> Result<Vec<Appointment>> {
    state
        .with_session(move |session| session.week_schedule(provider_id.as_ref(), first_day))
        .await
}

/// Today's appointments of the clinic with where each patient is (the landing screens).
#[tauri::command]
pub async fn today_board(state: State<'_, AppState>) -> Result<Vec<TodayEntry>> {
    state.with_session(|session| session.today_board()).await
}

/// Books one appointment or a series (checked as a whole).
#[tauri::command]
pub async fn book_appointment(
    state: State<'_, AppState>,
    request: BookingRequest,
) -> Result<Vec<Appointment>> {
    state
        .with_session(move |session| session.book_appointment(&request))
        .await
}

/// Moves an appointment; a stale `expected_version` is a conflict. A time in the hour the
/// clocks go back is the first of the two (the returned `clock_note` says so).
#[tauri::command]
pub async fn reschedule_appointment(
    state: State<'_, AppState>,
    id: AppointmentId,
    starts_local: NaiveDateTime,
    expected_version: i64,
) -> Result<Appointment> {
    state
        .with_session(move |session| {
            session.reschedule_appointment(
                &id,
                starts_local,
                RepeatedHour::First,
                None,
                Some(expected_version),
                false,
            )
        })
        .await
}

#[tauri::command]
pub async fn set_appointment_status(
    state: State<'_, AppState>,
    id: AppointmentId,
    status: AppointmentStatus,
    reason: Option<String>,
) -> Result<Appointment> {
    state
        .with_session(move |session| session.set_appointment_status(&id, status, reason.as_deref()))
        .await
}

/// The provider's first free start at or after `from_local`.
#[tauri::command]
pub async fn next_free_slot(
    state: State<'_, AppState>,
    provider_id: ProviderId,
    minutes: u32,
    from_local: NaiveDateTime,
) -> Result<Option<NaiveDateTime>> {
    state
        .with_session(move |session| session.next_free_slot(&provider_id, minutes, from_local))
        .await
}

#[tauri::command]
pub async fn add_provider(
    state: State<'_, AppState>,
    display_name: String,
    username: Option<String>,
    specialty: Option<String>,
) -> Result<Provider> {
    state
        .with_session(move |session| {
            session.add_provider(&display_name, username.as_deref(), specialty.as_deref())
        })
        .await
}

#[tauri::command]
pub async fn working_hours(
    state: State<'_, AppState>,
    provider_id: ProviderId,
) -> Result<Vec<WorkingWindow>> {
    state
        .with_session(move |session| session.working_hours(&provider_id))
        .await
}

/// Replaces the windows of the given weekdays (ISO 1 = Monday); minutes after local midnight.
#[tauri::command]
pub async fn set_working_hours(
    state: State<'_, AppState>,
    provider_id: ProviderId,
    weekdays: Vec<u32>,
    windows: Vec<(u32, u32)>,
) -> Result<()> {
    state
        .with_session(move |session| session.set_working_hours(&provider_id, &weekdays, &windows))
        .await
}

#[tauri::command]
pub async fn add_day_off(
    state: State<'_, AppState>,
    provider_id: ProviderId,
    first_day: NaiveDate,
    last_day: NaiveDate,
    reason: Option<String>,
) -> Result<()> {
    state
        .with_session(move |session| {
            session.add_day_off(&provider_id, first_day, last_day, reason.as_deref())
        })
        .await
}

#[tauri::command]
pub async fn add_appointment_type(
    state: State<'_, AppState>,
    name: String,
    default_minutes: u32,
) -> Result<AppointmentType> {
    state
        .with_session(move |session| session.add_appointment_type(&name, default_minutes))
        .await
}
