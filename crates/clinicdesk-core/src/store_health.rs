//! The store's own health: a full check of it (SQLCipher's authentication of every page, SQLite's
//! structure, the foreign keys, the audit chain), on demand and weekly, with its record; and the
//! damage mark.
//!
//! When an operation meets a damaged page, or a check fails, the workstation leaves a damage mark
//! beside the store (when, and what was found: no patient data). From then on every sign-in is
//! told the store is damaged and only the way out works: verifying and restoring a backup (which
//! removes the mark), checking again, signing off. Nothing is read from or written to a damaged
//! store as if it were sound, and no backup is made of it.

use std::fs::File;
use std::io::Write;

use chrono::{DateTime, Duration, Utc};
use clinicdesk_error::{Error, Result};
use clinicdesk_store::rusqlite::{params, Connection, OptionalExtension};
use clinicdesk_store::{sql_error, DataDir};
use serde::{Deserialize, Serialize};

use crate::environment::{format_timestamp, parse_timestamp};
use crate::permission::Permission;
use crate::session::{Session, StoreWorker};

/// How often the store is checked in full while the app is open.
pub const CHECK_EVERY: Duration = Duration::days(7);

/// What the damage mark says: when the damage was found, and the message that said so.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DamageMark {
    pub detected_at: String,
    pub detail: String,
}

impl DamageMark {
    /// The error every refused operation gets: the one that found the damage.
    pub(crate) fn error(&self) -> Error {
        Error {
            message: self.detail.clone(),
            ..Error::store_damaged("")
        }
    }
}

/// The damage mark of this data folder, if the store was found damaged.
pub(crate) fn read_mark(data_dir: &DataDir) -> Option<DamageMark> {
    let text = std::fs::read_to_string(data_dir.damage_mark_file()).ok()?;
    Some(serde_json::from_str(&text).unwrap_or(DamageMark {
        detected_at: String::from("at an unknown time"),
        detail: String::from("the damage mark itself is unreadable"),
    }))
}

/// Leaves the damage mark (the first one found is kept: it says when damage was first seen).
pub(crate) fn write_mark(data_dir: &DataDir, error: &Error, now: DateTime<Utc>) {
    if data_dir.damage_mark_file().exists() {
        return;
    }
    let mark = DamageMark {
        detected_at: format_timestamp(now),
        detail: error.message.clone(),
    };
    let path = data_dir.damage_mark_file();
    let partial = path.with_extension("json.partial");
    let written = File::create(&partial).and_then(|mut file| {
        file.write_all(
            serde_json::to_string_pretty(&mark)
                .unwrap_or_default()
                .as_bytes(),
        )?;
        file.sync_all()
    });
    if written.is_ok() {
        let _ = std::fs::rename(&partial, &path);
        if let Ok(folder) = File::open(data_dir.root()) {
            let _ = folder.sync_all();
        }
    }
}

/// Removes the damage mark (a restored store, or a full check that passed).
pub(crate) fn clear_mark(data_dir: &DataDir) {
    let _ = std::fs::remove_file(data_dir.damage_mark_file());
}

/// Leaves the damage mark when `error` says the store is damaged; for shells that met an error
/// without a session (a sign-in that could not open the store).
pub fn note_store_damage(data_dir: &DataDir, error: &Error, now: DateTime<Utc>) {
    if error.is_store_damage() {
        write_mark(data_dir, error, now);
    }
}

/// One full check of the store and what it found.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreCheck {
    pub started_at: String,
    pub finished_at: String,
    pub scheduled: bool,
    pub passed: bool,
    pub problems: Vec<String>,
}

/// What a manager sees of the store's health.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreHealth {
    pub last_check: Option<StoreCheck>,
    /// The last full check failed, or the store was found damaged since: shown as an alert.
    pub failing: bool,
    pub damage: Option<DamageMark>,
    /// When the next weekly check is due.
    pub next_check_at: String,
}

pub(crate) fn last_check(connection: &Connection) -> Result<Option<StoreCheck>> {
    connection
        .query_row(
            "SELECT started_at, finished_at, scheduled, outcome, problems FROM store_checks
             ORDER BY finished_at DESC LIMIT 1",
            [],
            |row| {
                let problems: String = row.get(4)?;
                Ok(StoreCheck {
                    started_at: row.get(0)?,
                    finished_at: row.get(1)?,
                    scheduled: row.get(2)?,
                    passed: row.get::<_, String>(3)? == "passed",
                    problems: serde_json::from_str(&problems).unwrap_or_default(),
                })
            },
        )
        .optional()
        .map_err(sql_error("reading the store checks"))
}

/// The store's health as the store and the damage mark tell it.
pub(crate) fn health(connection: &Connection, data_dir: &DataDir) -> Result<StoreHealth> {
    let damage = read_mark(data_dir);
    let last = if damage.is_some() {
        last_check(connection).unwrap_or(None)
    } else {
        last_check(connection)?
    };
    let next_check_at = last
        .as_ref()
        .and_then(|check| parse_timestamp(&check.finished_at))
        .map(|at| format_timestamp(at + CHECK_EVERY))
        .unwrap_or_else(|| String::from("now"));
    Ok(StoreHealth {
        failing: damage.is_some() || last.as_ref().is_some_and(|check| !check.passed),
        last_check: last,
        damage,
        next_check_at,
    })
}

/// Every problem a full check finds in the store open on `connection`.
fn problems_of(connection: &Connection) -> Result<Vec<String>> {
    let mut problems = clinicdesk_store::integrity_problems(connection)?;
    if let Err(error) = crate::audit::verify_chain(connection) {
        problems.push(format!("audit trail: {}", error.message));
    }
    Ok(problems)
}

/// A full check a session authorised, run on a connection of its own.
pub struct StoreCheckJob {
    worker: StoreWorker,
    scheduled: bool,
    started: DateTime<Utc>,
}

impl StoreCheckJob {
    /// Checks the whole store and records the outcome; a failure is also the damage mark, and
    /// comes back as the damaged-store error.
    pub fn run(mut self) -> Result<StoreCheck> {
        let problems = match problems_of(&self.worker.connection) {
            Ok(problems) => problems,
            Err(error) => vec![error.message],
        };
        let finished = self.worker.environment.now();
        let check = StoreCheck {
            started_at: format_timestamp(self.started),
            finished_at: format_timestamp(finished),
            scheduled: self.scheduled,
            passed: problems.is_empty(),
            problems,
        };
        let recorded = self.worker.write(|write| {
            let id = write.new_id();
            let user = write.user_id().map(str::to_owned);
            write
                .execute(
                    "INSERT INTO store_checks (id, started_at, finished_at, scheduled, outcome, problems, user_id)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![
                        id,
                        check.started_at,
                        check.finished_at,
                        check.scheduled,
                        if check.passed { "passed" } else { "failed" },
                        serde_json::to_string(&check.problems).unwrap_or_default(),
                        user
                    ],
                )
                .map_err(sql_error("recording the store check"))?;
            let outcome = if check.passed {
                crate::audit::AuditOutcome::Success
            } else {
                crate::audit::AuditOutcome::Failure
            };
            let entry = write.entry("store.check").outcome(outcome).details(
                serde_json::json!({ "scheduled": check.scheduled, "problems": check.problems }),
            );
            write.audit(entry)?;
            Ok(())
        });
        if check.passed {
            recorded?;
            clear_mark(&self.worker.data_dir);
            return Ok(check);
        }
        let damaged = Error::store_damaged(format!(
            "the full check found {}",
            check
                .problems
                .iter()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join("; ")
        ));
        write_mark(&self.worker.data_dir, &damaged, finished);
        Err(damaged)
    }
}

impl Session {
    /// Checks the whole store now (managers and administrators); see [`StoreCheckJob::run`].
    pub fn check_store(&mut self) -> Result<StoreCheck> {
        self.prepare_store_check()?.run()
    }

    /// Authorises a full check, for [`StoreCheckJob::run`] without this session.
    pub fn prepare_store_check(&mut self) -> Result<StoreCheckJob> {
        let now = self.authorize("store.check", Some(Permission::BackupsCreate), None)?;
        Ok(StoreCheckJob {
            worker: self.store_worker()?,
            scheduled: false,
            started: now,
        })
    }

    /// The weekly check as a job, when it is due. Any signed-in session may start it: it reveals
    /// nothing to the person signed in.
    pub fn prepare_scheduled_store_check_if_due(&mut self) -> Result<Option<StoreCheckJob>> {
        self.check_live()?;
        if self.store_damage().is_some() {
            return Ok(None);
        }
        let now = self.environment.now();
        let due = match last_check(self.connection()?)? {
            Some(check) => parse_timestamp(&check.finished_at)
                .is_none_or(|finished| now - finished >= CHECK_EVERY),
            None => true,
        };
        if !due {
            return Ok(None);
        }
        Ok(Some(StoreCheckJob {
            worker: self.store_worker()?,
            scheduled: true,
            started: now,
        }))
    }

    /// The store's health for the status screens (managers and administrators).
    pub fn store_health(&mut self) -> Result<StoreHealth> {
        self.authorize("store.health", Some(Permission::BackupsCreate), None)?;
        health(self.connection()?, &self.data_dir)
    }
}
