//! Administration: users, security settings, key rotation. No patient data here.

use clinicdesk_core::{Result, SecuritySettings, UserSummary};
use tauri::State;

use crate::state::AppState;

#[tauri::command]
pub fn list_users(state: State<'_, AppState>) -> Result<Vec<UserSummary>> {
    state.with_session(|session| session.list_users())
}

/// Returns the one-time password to hand to the new user.
#[tauri::command]
pub fn add_user(
    state: State<'_, AppState>,
    username: String,
    display_name: String,
    role: String,
) -> Result<String> {
    state.with_session(|session| {
        session
            .add_user(&username, &display_name, &role)
            .map(|p| p.0.to_string())
    })
}

#[tauri::command]
pub fn disable_user(state: State<'_, AppState>, username: String) -> Result<()> {
    state.with_session(|session| session.disable_user(&username))
}

#[tauri::command]
pub fn enable_user(state: State<'_, AppState>, username: String) -> Result<String> {
    state.with_session(|session| session.enable_user(&username).map(|p| p.0.to_string()))
}

#[tauri::command]
pub fn set_user_role(state: State<'_, AppState>, username: String, role: String) -> Result<()> {
    state.with_session(|session| session.set_user_role(&username, &role))
}

#[tauri::command]
pub fn reset_password(state: State<'_, AppState>, username: String) -> Result<String> {
    state.with_session(|session| session.reset_password(&username).map(|p| p.0.to_string()))
}

#[tauri::command]
pub fn security_settings(state: State<'_, AppState>) -> Result<SecuritySettings> {
    state.with_session(|session| session.security_settings())
}

#[tauri::command]
pub fn set_security_settings(state: State<'_, AppState>, settings: SecuritySettings) -> Result<()> {
    state.with_session(|session| session.set_security_settings(settings))
}

#[tauri::command]
pub fn rotate_data_key(state: State<'_, AppState>) -> Result<()> {
    state.with_session(|session| session.rotate_data_key())
}
