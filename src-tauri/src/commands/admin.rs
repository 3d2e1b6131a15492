//! Administration: users, security settings, the clinic's conventions, key rotation. No patient
//! data here.

use clinicdesk_core::{LocaleChoice, Result, Role, SecuritySettings, UserSummary};
use tauri::State;

use crate::state::AppState;

#[tauri::command]
pub async fn list_users(state: State<'_, AppState>) -> Result<Vec<UserSummary>> {
    state.with_session(|session| session.list_users()).await
}

/// Adds a user; returns the one-time password to hand to them.
#[tauri::command]
pub async fn add_user(
    state: State<'_, AppState>,
    username: String,
    display_name: String,
    role: Role,
) -> Result<String> {
    state
        .with_session(move |session| {
            session
                .add_user(&username, &display_name, role)
                .map(|password| password.0.to_string())
        })
        .await
}

/// Disables an account: its key slot is removed.
#[tauri::command]
pub async fn disable_user(state: State<'_, AppState>, username: String) -> Result<()> {
    state
        .with_session(move |session| session.disable_user(&username))
        .await
}

/// Enables an account again; returns its new one-time password.
#[tauri::command]
pub async fn enable_user(state: State<'_, AppState>, username: String) -> Result<String> {
    state
        .with_session(move |session| session.enable_user(&username).map(|p| p.0.to_string()))
        .await
}

#[tauri::command]
pub async fn set_user_role(state: State<'_, AppState>, username: String, role: Role) -> Result<()> {
    state
        .with_session(move |session| session.set_user_role(&username, role))
        .await
}

/// Gives a user a new one-time password (and clears a lockout).
#[tauri::command]
pub async fn reset_password(state: State<'_, AppState>, username: String) -> Result<String> {
    state
        .with_session(move |session| session.reset_password(&username).map(|p| p.0.to_string()))
        .await
}

#[tauri::command]
pub async fn security_settings(state: State<'_, AppState>) -> Result<SecuritySettings> {
    state
        .with_session(|session| session.security_settings())
        .await
}

#[tauri::command]
pub async fn set_security_settings(
    state: State<'_, AppState>,
    settings: SecuritySettings,
) -> Result<()> {
    state
        .with_session(move |session| session.set_security_settings(settings))
        .await
}

/// The locales a clinic can write its dates, times and numbers by (no sign-in needed: first run).
#[tauri::command]
pub async fn offered_locales() -> Result<Vec<LocaleChoice>> {
    Ok(clinicdesk_core::offered_locales())
}

/// The locale a clinic in `time_zone` writes by unless it chooses another.
#[tauri::command]
pub async fn locale_for_time_zone(time_zone: String) -> Result<String> {
    Ok(clinicdesk_core::locale_for_time_zone(&time_zone).to_owned())
}

/// The IANA time zone names a clinic can choose from, sorted.
#[tauri::command]
pub async fn time_zone_names() -> Result<Vec<String>> {
    Ok(clinicdesk_core::time_zone_names())
}

/// Changes how the clinic writes dates, times and numbers (administrators; audited, synced).
#[tauri::command]
pub async fn set_clinic_locale(state: State<'_, AppState>, locale: String) -> Result<()> {
    state
        .with_session(move |session| session.set_clinic_locale(&locale))
        .await
}

/// Rotates the database key; other commands are told the store is busy meanwhile.
#[tauri::command]
pub async fn rotate_data_key(state: State<'_, AppState>) -> Result<()> {
    state
        .exclusively("A key rotation", |session| session.rotate_data_key())
        .await
}
