//! Backups for managers and administrators: status and settings, back up now, list, verify,
//! restore whole or to a moment. The long ones run off the main thread and report progress on a
//! channel, at most once per percent.

use std::path::PathBuf;

use clinicdesk_core::{
    BackupFacts, BackupProgress, BackupSettings, BackupStatus, Error, PointInTimePlan,
    RestoreOutcome, Result, Session,
};
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, Runtime, State};

use crate::state::AppState;

#[tauri::command]
pub fn backup_status(state: State<'_, AppState>) -> Result<BackupStatus> {
    state.with_session(|session| session.backup_status())
}

#[tauri::command]
pub fn set_backup_settings(
    state: State<'_, AppState>,
    settings: BackupSettings,
) -> Result<BackupSettings> {
    state.with_session(|session| session.set_backup_settings(settings))
}

#[tauri::command]
pub fn list_backups(state: State<'_, AppState>) -> Result<Vec<BackupFacts>> {
    state.with_session(|session| session.list_backups())
}

#[tauri::command]
pub fn plan_point_in_time_restore(
    state: State<'_, AppState>,
    moment: String,
) -> Result<PointInTimePlan> {
    let moment = parse_moment(&moment)?;
    state.with_session(|session| session.plan_point_in_time_restore(moment))
}

#[tauri::command]
pub async fn create_backup<R: Runtime>(
    app: AppHandle<R>,
    on_progress: Channel<BackupProgress>,
) -> Result<BackupFacts> {
    off_main_thread(app, on_progress, |session, progress| {
        session.create_backup(None, progress)
    })
    .await
}

#[tauri::command]
pub async fn verify_backup<R: Runtime>(
    app: AppHandle<R>,
    path: String,
    on_progress: Channel<BackupProgress>,
) -> Result<BackupFacts> {
    off_main_thread(app, on_progress, move |session, progress| {
        session.verify_backup(&PathBuf::from(path), progress)
    })
    .await
}

#[tauri::command]
pub async fn restore_backup<R: Runtime>(
    app: AppHandle<R>,
    path: String,
    on_progress: Channel<BackupProgress>,
) -> Result<RestoreOutcome> {
    off_main_thread(app, on_progress, move |session, progress| {
        session.restore_backup(&PathBuf::from(path), progress)
    })
    .await
}

#[tauri::command]
pub async fn restore_to_point_in_time<R: Runtime>(
    app: AppHandle<R>,
    moment: String,
    on_progress: Channel<BackupProgress>,
) -> Result<RestoreOutcome> {
    let moment = parse_moment(&moment)?;
    off_main_thread(app, on_progress, move |session, progress| {
        session.restore_to_point_in_time(moment, progress)
    })
    .await
}

fn parse_moment(text: &str) -> Result<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|moment| moment.with_timezone(&chrono::Utc))
        .map_err(|_| Error::invalid_input(format!("{text:?} is not a date and time")))
}

/// Runs `work` with the session on a blocking thread, passing progress to the window.
async fn off_main_thread<R: Runtime, T: Send + 'static>(
    app: AppHandle<R>,
    channel: Channel<BackupProgress>,
    work: impl FnOnce(&mut Session, &mut dyn FnMut(BackupProgress)) -> Result<T> + Send + 'static,
) -> Result<T> {
    tauri::async_runtime::spawn_blocking(move || {
        let state = app.state::<AppState>();
        let mut last_sent = None;
        let mut progress = |report: BackupProgress| {
            let percent = (report.done_bytes * 100).checked_div(report.total_bytes);
            if last_sent != Some((report.stage, percent)) {
                last_sent = Some((report.stage, percent));
                let _ = channel.send(report);
            }
        };
        state.with_session(|session| work(session, &mut progress))
    })
    .await
    .map_err(|error| Error::unexpected(format!("the backup task stopped: {error}")))?
}

/// The daily schedule while the app is open: every minute, if someone is signed in, run the
/// scheduled backup when it is due (a schedule missed while the app was closed runs at the first
/// check after the next login), and tell the window so the manager sees the result.
pub fn start_schedule(app: AppHandle) {
    std::thread::Builder::new()
        .name("backup-schedule".into())
        .spawn(move || loop {
            std::thread::sleep(std::time::Duration::from_secs(60));
            let state = app.state::<AppState>();
            let ran =
                state.with_session(|session| session.run_scheduled_backup_if_due(&mut |_| {}));
            match ran {
                Ok(Some(_)) => {
                    let _ = tauri::Emitter::emit(&app, "backup-finished", true);
                }
                Err(error) if error.code != clinicdesk_core::ErrorCode::SessionExpired => {
                    let _ = tauri::Emitter::emit(&app, "backup-finished", false);
                }
                _ => {}
            }
        })
        .expect("start the backup schedule");
}
