//! The app's state: the data folder, the environment, and at most one open session.

use std::sync::Mutex;

use clinicdesk_core::{DataDir, Environment, Error, ErrorCode, Result, Session};

pub struct AppState {
    pub data_dir: DataDir,
    pub environment: Environment,
    session: Mutex<Option<Session>>,
}

impl AppState {
    pub fn new(data_dir: DataDir, environment: Environment) -> AppState {
        AppState {
            data_dir,
            environment,
            session: Mutex::new(None),
        }
    }

    /// Runs `work` with the open session. A session that ended (idle logoff) is dropped, and its
    /// key with it.
    pub fn with_session<T>(&self, work: impl FnOnce(&mut Session) -> Result<T>) -> Result<T> {
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

    pub fn replace_session(&self, session: Option<Session>) -> Option<Session> {
        std::mem::replace(
            &mut *self
                .session
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
            session,
        )
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
