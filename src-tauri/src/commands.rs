//! Tauri commands, a few lines each: take the session, call the core, return `{code, message}` on error.

use std::sync::Mutex;

use clinicdesk_core::{
    clinic_name_before_login, store_exists, DataDir, Environment, Error, ErrorCode, LogoffReason,
    Result, Session, SessionUser, SlotSecret, StoreStatus,
};
use serde::Serialize;

pub struct AppState {
    data_dir: DataDir,
    environment: Environment,
    session: Mutex<Option<Session>>,
}

impl AppState {
    pub fn new(data_dir: DataDir) -> AppState {
        AppState {
            data_dir,
            environment: Environment::system(),
            session: Mutex::new(None),
        }
    }

    fn with_session<T>(&self, work: impl FnOnce(&mut Session) -> Result<T>) -> Result<T> {
        let mut guard = self
            .session
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let session = guard.as_mut().ok_or_else(|| {
            Error::new(
                ErrorCode::SessionExpired,
                "you are not logged in; log in first",
            )
        })?;
        let outcome = work(session);
        if !session.is_active() {
            *guard = None;
        }
        outcome
    }
}

/// The data folder: CLINICDESK_DATA_DIR, else the user's data folder (the same as the CLI's).
pub fn default_data_dir() -> DataDir {
    if let Some(folder) = std::env::var_os("CLINICDESK_DATA_DIR") {
        return DataDir::new(folder);
    }
    directories::ProjectDirs::from("com", "Clinicdesk", "Clinicdesk")
        .map(|dirs| DataDir::new(dirs.data_dir()))
        .unwrap_or_else(|| DataDir::new("clinicdesk-data"))
}

/// What the window shows before anyone logs in.
#[derive(Serialize)]
pub struct StoreOverview {
    data_folder: String,
    initialized: bool,
    clinic_name: Option<String>,
}

#[tauri::command]
pub fn store_overview(state: tauri::State<'_, AppState>) -> Result<StoreOverview> {
    let initialized = store_exists(&state.data_dir);
    let clinic_name = if initialized {
        Some(clinic_name_before_login(&state.data_dir)?)
    } else {
        None
    };
    Ok(StoreOverview {
        data_folder: state.data_dir.root().display().to_string(),
        initialized,
        clinic_name,
    })
}

#[tauri::command]
pub fn login(
    state: tauri::State<'_, AppState>,
    username: String,
    password: String,
) -> Result<SessionUser> {
    let session = Session::login(
        &state.data_dir,
        &username,
        &SlotSecret::new(password),
        &state.environment,
    )?;
    let user = session.user().clone();
    *state
        .session
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(session);
    Ok(user)
}

#[tauri::command]
pub fn store_status(state: tauri::State<'_, AppState>) -> Result<StoreStatus> {
    state.with_session(|session| session.status())
}

#[tauri::command]
pub fn logoff(state: tauri::State<'_, AppState>) -> Result<()> {
    let taken = state
        .session
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .take();
    match taken {
        Some(mut session) => session.logoff(LogoffReason::Manual),
        None => Ok(()),
    }
}
