//! Updates for administrators: the update address, checking for a new version and installing it
//! (a verified backup first when the schema changes; progress on a channel), restarting into it;
//! and, for everyone signed in, the notice that a new version waits.

use clinicdesk_core::{Result, UpdateSettings};
use tauri::ipc::Channel;
use tauri::{AppHandle, Runtime, State};

use crate::state::AppState;
use crate::updates::{self, InstalledUpdate, UpdateCheck, UpdateNotice, UpdateProgress};

#[tauri::command]
pub async fn update_settings(state: State<'_, AppState>) -> Result<UpdateSettings> {
    state
        .with_session(|session| session.update_settings())
        .await
}

#[tauri::command]
pub async fn set_update_settings(
    state: State<'_, AppState>,
    settings: UpdateSettings,
) -> Result<UpdateSettings> {
    let saved = state
        .with_session(move |session| session.set_update_settings(settings))
        .await?;
    state.updates().forget_offer();
    Ok(saved)
}

/// Asks the update address whether a newer version exists (administrators); `quiet` (the check
/// at sign-in) leaves refusals out of the audit trail.
#[tauri::command]
pub async fn check_for_update<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    quiet: bool,
) -> Result<UpdateCheck> {
    updates::check(&app, &state, quiet).await
}

/// Installs the version the last check found, reporting progress.
#[tauri::command]
pub async fn install_update(
    state: State<'_, AppState>,
    on_progress: Channel<UpdateProgress>,
) -> Result<InstalledUpdate> {
    updates::install(&state, move |progress| {
        let _ = on_progress.send(progress);
    })
    .await
}

/// What everyone signed in here sees: the installed version, and a newer one waiting.
#[tauri::command]
pub async fn update_notice<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<UpdateNotice> {
    state
        .with_session(|session| session.check_signed_in())
        .await?;
    Ok(updates::notice(&app, &state))
}

/// Restarts the app into the installed version (the person's drafts are kept in the store).
#[tauri::command]
pub async fn restart_into_update<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<()> {
    state
        .with_session(|session| session.check_signed_in())
        .await?;
    app.restart()
}
