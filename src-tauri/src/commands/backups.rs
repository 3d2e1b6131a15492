//! Backups for managers and administrators: status and settings, back up now, list, verify,
//! restore whole or to a moment; and, before sign-in, restoring a store too damaged to sign in to
//! with the recovery key. The long parts run as jobs on their own connection, reporting
//! progress on a channel at most once per percent; the session stays free meanwhile.

use std::path::PathBuf;

use clinicdesk_core::{
    BackupFacts, BackupProgress, BackupSettings, BackupStatus, Error, PointInTimePlan, RestoreJob,
    RestoreOutcome, Result, Session, StoreCheck, StoreHealth,
};
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, Runtime, State};

use crate::state::AppState;

#[tauri::command]
pub async fn backup_status(state: State<'_, AppState>) -> Result<BackupStatus> {
    state.with_session(|session| session.backup_status()).await
}

#[tauri::command]
pub async fn set_backup_settings(
    state: State<'_, AppState>,
    settings: BackupSettings,
) -> Result<BackupSettings> {
    state
        .with_session(move |session| session.set_backup_settings(settings))
        .await
}

#[tauri::command]
pub async fn list_backups(state: State<'_, AppState>) -> Result<Vec<BackupFacts>> {
    state.with_session(|session| session.list_backups()).await
}

/// The store's health: the last full check, and any damage found.
#[tauri::command]
pub async fn store_health(state: State<'_, AppState>) -> Result<StoreHealth> {
    state.with_session(|session| session.store_health()).await
}

/// Checks the whole store now, on its own connection; a failure is the damaged-store error.
#[tauri::command]
pub async fn check_store(state: State<'_, AppState>) -> Result<StoreCheck> {
    state
        .with_job(|session| session.prepare_store_check(), |job| job.run())
        .await
}

/// What going back to `moment` would undo, before it is done.
#[tauri::command]
pub async fn plan_point_in_time_restore(
    state: State<'_, AppState>,
    moment: String,
) -> Result<PointInTimePlan> {
    let moment = parse_moment(&moment)?;
    state
        .with_session(move |session| session.plan_point_in_time_restore(moment))
        .await
}

/// Backs up now, reporting progress.
#[tauri::command]
pub async fn create_backup(
    state: State<'_, AppState>,
    on_progress: Channel<BackupProgress>,
) -> Result<BackupFacts> {
    state
        .with_job(
            |session| session.prepare_backup(None),
            move |job| job.run(&mut progress_to(on_progress)),
        )
        .await
}

/// Decrypts and checks a backup completely, touching nothing.
#[tauri::command]
pub async fn verify_backup(
    state: State<'_, AppState>,
    path: String,
    on_progress: Channel<BackupProgress>,
) -> Result<BackupFacts> {
    state
        .with_job(
            move |session| session.prepare_verify(&PathBuf::from(path)),
            move |job| job.run(&mut progress_to(on_progress)),
        )
        .await
}

/// Restores a backup whole: decrypted and checked on its own connection, then swapped in
/// (other commands are told the store is busy during the swap).
#[tauri::command]
pub async fn restore_backup(
    state: State<'_, AppState>,
    path: String,
    on_progress: Channel<BackupProgress>,
) -> Result<RestoreOutcome> {
    restore(
        &state,
        move |session| session.prepare_restore(&PathBuf::from(path)),
        on_progress,
    )
    .await
}

/// Brings the store back to a moment: the backup before it, checked, then the journal replayed.
#[tauri::command]
pub async fn restore_to_point_in_time(
    state: State<'_, AppState>,
    moment: String,
    on_progress: Channel<BackupProgress>,
) -> Result<RestoreOutcome> {
    let moment = parse_moment(&moment)?;
    restore(
        &state,
        move |session| session.prepare_restore_to_point_in_time(moment),
        on_progress,
    )
    .await
}

/// The backups in this workstation's backup folder (or in `folder`), newest first, read from
/// their headers before anyone signs in: for restoring a store nobody can sign in to.
#[tauri::command]
pub async fn backups_before_sign_in(
    state: State<'_, AppState>,
    folder: Option<String>,
) -> Result<Vec<BackupFacts>> {
    state
        .run(move |state| {
            let folder = folder
                .filter(|folder| !folder.trim().is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| clinicdesk_core::default_backup_folder(state.data_dir()));
            clinicdesk_core::backups_found_in(&folder)
        })
        .await
}

/// Restores a backup over a store so damaged that nobody can sign in, with the clinic's recovery
/// key; everyone keeps their password, and the damaged store is kept aside.
#[tauri::command]
pub async fn restore_damaged_store(
    state: State<'_, AppState>,
    path: String,
    recovery_key: String,
    on_progress: Channel<BackupProgress>,
) -> Result<RestoreOutcome> {
    state
        .run(move |state| {
            clinicdesk_core::restore_unreadable_store(
                state.data_dir(),
                clinicdesk_core::UnreadableStoreRestore {
                    backup_file: PathBuf::from(path),
                    recovery_key,
                },
                state.environment(),
                &mut progress_to(on_progress),
            )
        })
        .await
}

/// A restore: the backup decrypted and checked on its own connection (the session free), then
/// swapped in while other commands are told the store is busy.
async fn restore(
    state: &AppState,
    prepare: impl FnOnce(&mut Session) -> Result<RestoreJob> + Send + 'static,
    on_progress: Channel<BackupProgress>,
) -> Result<RestoreOutcome> {
    let checking = on_progress.clone();
    let staged = state
        .with_job(prepare, move |job| job.stage(&mut progress_to(checking)))
        .await?;
    state
        .exclusively("A restore", move |session| {
            session.finish_restore(staged, &mut progress_to(on_progress))
        })
        .await
}

/// Passes progress to the window, at most once per percent of each stage.
fn progress_to(channel: Channel<BackupProgress>) -> impl FnMut(BackupProgress) {
    let mut last_sent = None;
    move |report: BackupProgress| {
        let percent = (report.done_bytes * 100).checked_div(report.total_bytes);
        if last_sent != Some((report.stage, percent)) {
            last_sent = Some((report.stage, percent));
            let _ = channel.send(report);
        }
    }
}

fn parse_moment(text: &str) -> Result<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|moment| moment.with_timezone(&chrono::Utc))
        .map_err(|_| Error::invalid_field("moment", format!("{text:?} is not a date and time")))
}

/// The schedules while the app is open: every minute, if someone is signed in, the weekly full
/// check of the store and the daily backup run as jobs when due (the session stays free), and the
/// window is told of the backup so the manager sees the result. A schedule missed while the app was closed runs at the first
/// check after the next login.
pub fn start_schedule<R: Runtime>(app: AppHandle<R>) {
    std::thread::Builder::new()
        .name("backup-schedule".into())
        .spawn(move || loop {
            std::thread::sleep(std::time::Duration::from_secs(60));
            let state = app.state::<AppState>().inner().clone();
            let _ = tauri::async_runtime::block_on(state.with_job(
                |session| session.prepare_scheduled_store_check_if_due(),
                |job| job.map(|job| job.run()).transpose(),
            ));
            let ran = tauri::async_runtime::block_on(state.with_job(
                |session| session.prepare_scheduled_backup_if_due(),
                |job| job.map(|job| job.run(&mut |_| {})).transpose(),
            ));
            match ran {
                Ok(Some(_)) => {
                    let _ = tauri::Emitter::emit(&app, "backup-finished", true);
                }
                Err(error)
                    if !matches!(
                        error.code,
                        clinicdesk_core::ErrorCode::SessionExpired
                            | clinicdesk_core::ErrorCode::Busy
                    ) =>
                {
                    let _ = tauri::Emitter::emit(&app, "backup-finished", false);
                }
                _ => {}
            }
        })
        .expect("start the backup schedule");
}
