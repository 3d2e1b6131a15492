//! The app's state: the data folder, the environment, and at most one open session; and the
//! three ways a command reaches the core, none of which runs on the window's thread:
//!
//! * [`AppState::with_session`]: short work with the session (the session is held only for it);
//! * [`AppState::with_job`]: long work a session prepares and that then runs on its own
//!   connection (a backup, a verify, staging a restore), so the session stays free meanwhile;
//! * [`AppState::exclusively`]: work that must hold the session from start to end (key
//!   rotation, the swap at the end of a restore); it first waits for running jobs to end (they
//!   hold the store open), then other commands are told at once that the store is busy instead
//!   of waiting.
//!
//! Sync reaches the session the first way, one short step at a time ([`AppState::sync_once`]):
//! it never holds the session while it waits on the network.

use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockWriteGuard, TryLockError};

use clinicdesk_core::{DataDir, Environment, Error, ErrorCode, PullProgress, Result, Session};
use serde::{Deserialize, Serialize};

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
    /// Held shared by every running job (each has the store open on a connection of its own,
    /// and so the store lock shared); exclusive work takes it alone first, so a restore waits
    /// for this app's own scheduled check or backup to end instead of being refused.
    jobs: RwLock<()>,
    /// Exclusive work waiting for running jobs to end.
    waiting_for_jobs: Mutex<Option<&'static str>>,
    /// What sync is doing on this workstation, for the header.
    sync_activity: Mutex<SyncActivity>,
    /// Held by the one sync that runs at a time.
    sync_running: Mutex<()>,
    /// Wakes the background sync (a person asked for a sync, or someone signed in).
    sync_wake: tokio::sync::Notify,
    /// The update found and not installed yet, and where updates go.
    updates: crate::updates::UpdateSlot,
}

/// What sync is doing on this workstation now (the store's own figures are in `SyncStatus`).
#[derive(ts_rs::TS, Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncActivity {
    /// A sync is running now.
    pub running: bool,
    /// How far the running sync's pull has come (shown while a new workstation fills).
    pub progress: Option<PullProgress>,
    /// Whether the last attempt reached the server; `None` before the first attempt.
    pub online: Option<bool>,
    pub last_attempt_at: Option<String>,
    /// When the background sync tries next (later while the server cannot be reached).
    pub next_attempt_at: Option<String>,
    /// Why the last attempt failed, until one succeeds.
    pub last_error: Option<Error>,
}

impl AppState {
    pub fn new(data_dir: DataDir, environment: Environment) -> AppState {
        Self::with_update_setup(data_dir, environment, Default::default())
    }

    /// The app's state, installing updates where `updates` says (the tests unpack them into a
    /// folder and sign them with a key of their own).
    pub fn with_update_setup(
        data_dir: DataDir,
        environment: Environment,
        updates: crate::updates::UpdateSetup,
    ) -> AppState {
        AppState {
            shared: Arc::new(Shared {
                data_dir,
                environment,
                session: Mutex::new(None),
                exclusive_work: Mutex::new(None),
                jobs: RwLock::new(()),
                waiting_for_jobs: Mutex::new(None),
                sync_activity: Mutex::new(SyncActivity::default()),
                sync_running: Mutex::new(()),
                sync_wake: tokio::sync::Notify::new(),
                updates: crate::updates::UpdateSlot::new(updates),
            }),
        }
    }

    pub fn data_dir(&self) -> &DataDir {
        &self.shared.data_dir
    }

    pub fn environment(&self) -> &Environment {
        &self.shared.environment
    }

    pub fn updates(&self) -> &crate::updates::UpdateSlot {
        &self.shared.updates
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
            let _running = state
                .shared
                .jobs
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
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
            let _alone = state.alone_with_the_store(what);
            let mut guard = state.lock_session()?;
            *state.exclusive_work() = Some(what);
            let outcome = Self::work_on(&mut guard, work);
            *state.exclusive_work() = None;
            outcome
        })
        .await
    }

    /// Waits until no job of this app has the store open (a scheduled check or backup, a verify),
    /// then keeps new ones from starting until the guard is dropped.
    fn alone_with_the_store(&self, what: &'static str) -> RwLockWriteGuard<'_, ()> {
        match self.shared.jobs.try_write() {
            Ok(alone) => alone,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => {
                *self.lock_waiting_for_jobs() = Some(what);
                let alone = self
                    .shared
                    .jobs
                    .write()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                *self.lock_waiting_for_jobs() = None;
                alone
            }
        }
    }

    /// Exclusive work (named) that waits for this app's running jobs to end, if any.
    pub fn waiting_for_jobs(&self) -> Option<&'static str> {
        *self.lock_waiting_for_jobs()
    }

    fn lock_waiting_for_jobs(&self) -> MutexGuard<'_, Option<&'static str>> {
        self.shared
            .waiting_for_jobs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
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

    /// What sync is doing now.
    pub fn sync_activity(&self) -> SyncActivity {
        self.activity().clone()
    }

    fn activity(&self) -> MutexGuard<'_, SyncActivity> {
        self.shared
            .sync_activity
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Notes when the background sync tries next.
    pub fn note_next_sync(&self, at: Option<String>) {
        self.activity().next_attempt_at = at;
    }

    /// Wakes the background sync now.
    pub fn wake_sync(&self) {
        self.shared.sync_wake.notify_one();
    }

    /// Waits until the background sync is woken.
    pub async fn sync_woken(&self) {
        self.shared.sync_wake.notified().await
    }

    /// One sync of the open session, on the calling (blocking) thread; one at a time. The
    /// session is taken for each local step only. `Ok(None)` when nobody is signed in or this
    /// workstation is not enrolled.
    pub fn sync_once(&self) -> Result<Option<clinicdesk_sync::SyncReport>> {
        let _one_at_a_time = self
            .shared
            .sync_running
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let enrolled = match self.with_session_now(|session| session.sync_status()) {
            Ok(status) => status.server_url.is_some(),
            Err(error) if error.code == ErrorCode::SessionExpired => return Ok(None),
            Err(error) => return Err(error),
        };
        if !enrolled {
            return Ok(None);
        }
        {
            let mut activity = self.activity();
            activity.running = true;
            activity.progress = None;
        }
        let outcome = clinicdesk_sync::sync_through(self, &mut |progress| {
            self.activity().progress = Some(progress);
        });
        let mut activity = self.activity();
        activity.running = false;
        activity.progress = None;
        activity.last_attempt_at = Some(self.environment().now().to_rfc3339());
        match &outcome {
            Ok(_) => {
                activity.online = Some(true);
                activity.last_error = None;
            }
            Err(error) => {
                if error.code == ErrorCode::ServerUnreachable {
                    activity.online = Some(false);
                }
                activity.last_error = Some(error.clone());
            }
        }
        outcome.map(Some)
    }

    /// Puts `session` in place of the open one (none to log off); returns the one it replaced.
    pub fn replace_session(&self, session: Option<Session>) -> Result<Option<Session>> {
        let mut guard = self.lock_session()?;
        Ok(std::mem::replace(&mut *guard, session))
    }
}

/// Sync reaches the open session like a short command: briefly, once per step.
impl clinicdesk_sync::SessionAccess for AppState {
    fn with_session<T>(&self, work: impl FnOnce(&mut Session) -> Result<T>) -> Result<T> {
        self.with_session_now(work)
    }
}
