//! The app's state: the data folder, the environment, and at most one open session; and the
//! three ways a command reaches the core, none of which runs on the window's thread:
//!
//! * [`AppState::with_session`]: short work with the session (the session is held only for it);
//! * [`AppState::with_job`]: long work a session prepares and that then runs on its own
//!   connection (a backup, a verify, staging a restore), so the session stays free meanwhile;
//! * [`AppState::exclusively`]: work that must hold the session from start to end (key
//!   rotation, the swap at the end of a restore); meanwhile other commands are told at once that
//!   the store is busy instead of waiting.

use std::sync::{Arc, Mutex, TryLockError};

use clinicdesk_core::{DataDir, Environment, Error, ErrorCode, Result, Session};

#[derive(Clone)]
pub struct AppState {
    shared: Arc<Shared>,
}

struct Shared {
    data_dir: DataDir,
    environment: Environment,
    session: Mutex<Option<Session>>,
    /// What holds the session exclusively right now, to tell others why they must wait.
    exclusive_work: Mutex<Option<&'static str>>,
}

impl AppState {
    pub fn new(data_dir: DataDir, environment: Environment) -> AppState {
        AppState {
            shared: Arc::new(Shared {
                data_dir,
                environment,
                session: Mutex::new(None),
                exclusive_work: Mutex::new(None),
            }),
        }
    }

    pub fn data_dir(&self) -> &DataDir {
        &self.shared.data_dir
    }

    pub fn environment(&self) -> &Environment {
        &self.shared.environment
    }

    /// Runs `work` on the blocking pool, without a session (first run, login).
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&AppState) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let state = self.clone();
        tauri::async_runtime::spawn_blocking(move || work(&state))
            .await
            .map_err(|error| Error::unexpected(format!("the command stopped: {error}")))?
    }

    /// Runs short `work` with the open session, on the blocking pool. A session that ended
    /// (idle logoff) is dropped, and its key with it.
    pub async fn with_session<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Session) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        self.run(move |state| state.with_session_now(work)).await
    }

    /// Prepares long work with the session (briefly), then runs it without holding the session.
    pub async fn with_job<J: Send + 'static, T: Send + 'static>(
        &self,
        prepare: impl FnOnce(&mut Session) -> Result<J> + Send + 'static,
        run: impl FnOnce(J) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        self.run(move |state| {
            let job = state.with_session_now(prepare)?;
            let outcome = run(job);
            if let Err(error) = &outcome {
                clinicdesk_core::note_store_damage(
                    state.data_dir(),
                    error,
                    state.environment().now(),
                );
            }
            outcome
        })
        .await
    }

    /// Runs `work` holding the session from start to end; other commands meanwhile get a
    /// `busy` error naming `what` at once.
    pub async fn exclusively<T: Send + 'static>(
        &self,
        what: &'static str,
        work: impl FnOnce(&mut Session) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        self.run(move |state| {
            let mut guard = state.lock_session()?;
            *state.exclusive_work() = Some(what);
            let outcome = Self::work_on(&mut guard, work);
            *state.exclusive_work() = None;
            outcome
        })
        .await
    }

    fn exclusive_work(&self) -> std::sync::MutexGuard<'_, Option<&'static str>> {
        self.shared
            .exclusive_work
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn lock_session(&self) -> Result<std::sync::MutexGuard<'_, Option<Session>>> {
        match self.shared.session.try_lock() {
            Ok(guard) => Ok(guard),
            Err(TryLockError::Poisoned(poisoned)) => Ok(poisoned.into_inner()),
            Err(TryLockError::WouldBlock) => {
                if let Some(what) = *self.exclusive_work() {
                    return Err(Error::new(
                        ErrorCode::Busy,
                        format!("{what} is running on this workstation; try again in a moment"),
                    ));
                }
                Ok(self
                    .shared
                    .session
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()))
            }
        }
    }

    fn with_session_now<T>(&self, work: impl FnOnce(&mut Session) -> Result<T>) -> Result<T> {
        let mut guard = self.lock_session()?;
        Self::work_on(&mut guard, work)
    }

    fn work_on<T>(
        guard: &mut Option<Session>,
        work: impl FnOnce(&mut Session) -> Result<T>,
    ) -> Result<T> {
        let session = guard.as_mut().ok_or_else(|| {
            Error::new(
                ErrorCode::SessionExpired,
                "You are not logged in; log in first",
            )
        })?;
        let outcome = work(session);
        session.note_outcome(&outcome);
        if !session.is_active() {
            *guard = None;
        }
        outcome
    }

    /// Puts `session` in place of the open one (none to log off); returns the one it replaced.
    pub fn replace_session(&self, session: Option<Session>) -> Result<Option<Session>> {
        let mut guard = self.lock_session()?;
        Ok(std::mem::replace(&mut *guard, session))
    }
}
