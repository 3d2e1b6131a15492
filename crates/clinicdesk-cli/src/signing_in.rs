//! Who runs a command: the data folder, the `--as` user and their password, and the session a
//! command runs in, logged off when it ends (also when it fails).

use std::path::PathBuf;

use clinicdesk_core::{DataDir, Environment, Error, ErrorCode, LogoffReason, Result, Session};

use crate::secrets::Secrets;

/// `--data-dir` (or `CLINICDESK_DATA_DIR`), else the workstation's data folder.
pub(crate) fn data_dir(choice: Option<PathBuf>) -> DataDir {
    choice
        .map(DataDir::new)
        .unwrap_or_else(clinicdesk_core::default_data_dir)
}

/// The `--as` user.
pub(crate) struct Login {
    pub(crate) username: Option<String>,
}

impl Login {
    pub(crate) fn username(&self) -> Result<&str> {
        self.username.as_deref().ok_or_else(|| {
            Error::new(
                ErrorCode::Usage,
                "this command needs --as USERNAME (who you are)",
            )
        })
    }
}

/// Logs in as the `--as` user, runs `work`, and logs off whatever happened.
pub(crate) fn with_session(
    data_dir: &DataDir,
    login: &Login,
    environment: &Environment,
    secrets: &mut Secrets,
    work: impl FnOnce(&mut Session) -> Result<()>,
) -> Result<()> {
    let username = login.username()?;
    let password = secrets.password(username)?;
    let mut session = clinicdesk_sync::sign_in(data_dir, username, &password, environment)
        .inspect_err(|error| {
            clinicdesk_core::note_store_damage(data_dir, error, environment.now())
        })?;
    drop(password);
    // A bug that panics still ends the session properly (the logoff is audited), then goes on
    // to `main`, which reports it in one line.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(&mut session)));
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(panic) => {
            let _ = session.logoff(LogoffReason::Manual);
            std::panic::resume_unwind(panic);
        }
    };
    session.note_outcome(&outcome);
    finish(session, outcome)
}

/// Logs off, then returns `outcome` (its error first, if it failed).
pub(crate) fn finish<T>(mut session: Session, outcome: Result<T>) -> Result<T> {
    let logged_off = session.logoff(LogoffReason::Manual);
    let value = outcome?;
    logged_off?;
    Ok(value)
}
