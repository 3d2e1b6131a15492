//! Encrypted backups: create (on demand or on the daily schedule, with retention), list, verify,
//! restore whole, restore to a point in time by replaying the change journal, and, with the recovery
//! key, rebuild a lost workstation or replace a store too damaged to sign in to.
//!
//! A restore never leaves the clinic without a working store: the backup is decrypted into a
//! new file beside the store, checked completely (SQLCipher and SQLite integrity, foreign keys,
//! audit chain), migrated, and only then swapped in by one rename, after the current store was
//! kept as a rollback copy by a hard link. The audit trail is never rolled back: entries written
//! after the backup are carried into the restored store, followed by the restore's own entry.
//!
//! Long work runs as a job a session prepares (authorised, audited) and that then runs on a
//! connection of its own ([`crate::session::StoreWorker`]), so the session stays free for short
//! work while a backup, a verify or the staging of a restore goes on.
//!
//! The parts: `settings` (folder, schedule, retention, status), `keys` (the clinic's backup key
//! and the recovery recipient), `snapshot` (writing a backup), `checks` (decrypting and checking a
//! backup), `restore` (verify, restore whole or to a moment), `recovery_key` (restores opened with
//! the recovery key: a new workstation, or over an unreadable store), `files`.

mod checks;
mod files;
mod keys;
mod recovery_key;
mod restore;
mod settings;
mod snapshot;

use std::collections::BTreeMap;
use std::path::Path;

use clinicdesk_backup::BackupHeader;
use serde::{Deserialize, Serialize};

use crate::audit::AuditEntry;
use crate::backup_schedule::RetentionPolicy;

pub use recovery_key::{
    restore_onto_new_workstation, restore_unreadable_store, NewWorkstationRestore,
    UnreadableStoreRestore,
};
pub use restore::{RestoreJob, StagedRestore, VerifyJob};
pub use settings::{backups_found_in, default_backup_folder};
pub use snapshot::BackupJob;
#[cfg(feature = "bench-api")]
pub(crate) use snapshot::{write_snapshot, SnapshotRequest};

/// The row counts a backup's header reports.
pub(crate) const COUNTED_TABLES: &[&str] = &[
    "patients",
    "appointments",
    "vitals_sets",
    "vital_observations",
    "notes",
    "users",
    "audit_log",
];

/// A backup file and what its header says (nothing is decrypted to list it).
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackupFacts {
    pub path: String,
    pub file_name: String,
    pub file_bytes: u64,
    pub backup_id: String,
    pub created_at: String,
    pub created_by: Option<String>,
    pub scheduled: bool,
    pub app_version: String,
    pub schema_version: u32,
    pub clinic_name: String,
    pub row_counts: BTreeMap<String, i64>,
    pub store_bytes: u64,
}

impl BackupFacts {
    pub(crate) fn from_header(path: &Path, header: &BackupHeader) -> BackupFacts {
        BackupFacts {
            path: path.display().to_string(),
            file_name: path
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default(),
            file_bytes: std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
            backup_id: header.facts.backup_id.clone(),
            created_at: header.facts.created_at.clone(),
            created_by: header.facts.created_by.clone(),
            scheduled: header.facts.scheduled,
            app_version: header.facts.app_version.clone(),
            schema_version: header.facts.schema_version,
            clinic_name: header.facts.clinic_name.clone(),
            row_counts: header.facts.row_counts.clone(),
            store_bytes: header.snapshot_bytes(),
        }
    }
}

/// What a long backup operation is doing, for progress bars.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackupStage {
    /// Reading the store and writing the encrypted file.
    Snapshot,
    /// Decrypting the backup into a new store file.
    Decrypt,
    /// Integrity, foreign-key and audit-chain checks of the decrypted store.
    Check,
    /// Replaying the change journal up to the chosen moment.
    Replay,
    /// Keeping the rollback copy and swapping the restored store in.
    Swap,
}

#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupProgress {
    pub stage: BackupStage,
    pub done_bytes: u64,
    pub total_bytes: u64,
}

/// Where backups go, when the daily one runs, and how many are kept.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupSettings {
    /// An absolute folder path (an external drive or a network share); empty means the
    /// `backups` folder inside the data folder.
    pub folder: String,
    /// `HH:MM` in the clinic's time zone; empty means no scheduled backups.
    pub daily_time: String,
    pub retention: RetentionPolicy,
}

/// One backup attempt and how it ended.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupRun {
    pub started_at: String,
    pub finished_at: String,
    pub scheduled: bool,
    pub succeeded: bool,
    pub file_path: Option<String>,
    pub bytes: Option<i64>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

/// What the manager sees first: the settings, the last success and failure, the next run.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupStatus {
    pub settings: BackupSettings,
    pub folder_in_use: String,
    pub last_success: Option<BackupRun>,
    pub last_failure: Option<BackupRun>,
    /// True when the last attempt failed: shown as an alert until a backup succeeds.
    pub failing: bool,
    pub next_scheduled_at: Option<String>,
    /// The same row counts a backup's header carries, for the store as it is now.
    pub store_counts: BTreeMap<String, i64>,
}

/// What a restore did.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestoreOutcome {
    pub backup: BackupFacts,
    pub rollback_copy: String,
    pub migrated_from_schema: Option<u32>,
    pub replayed_transactions: u32,
    pub audit_entries_kept: u32,
    pub restored_to: Option<String>,
}

/// What a point-in-time restore would do, shown before it is done.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointInTimePlan {
    pub target: String,
    pub backup: BackupFacts,
    pub replayed_transactions: u32,
    /// Audit entries after the chosen moment: what will be undone (newest first, at most 500).
    pub undone: Vec<AuditEntry>,
    pub undone_total: u32,
}

/// The row counts of the store open on `connection`, as a backup's header reports them.
pub(crate) fn row_counts(
    connection: &clinicdesk_store::rusqlite::Connection,
) -> clinicdesk_error::Result<BTreeMap<String, i64>> {
    let mut counts = BTreeMap::new();
    for table in COUNTED_TABLES {
        let count: i64 = connection
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
                row.get(0)
            })
            .map_err(clinicdesk_store::sql_error("counting rows"))?;
        counts.insert((*table).to_owned(), count);
    }
    Ok(counts)
}

/// Tells `progress` that a stage with no size of its own started (`finished` false) or ended.
pub(crate) fn step(progress: &mut dyn FnMut(BackupProgress), stage: BackupStage, finished: bool) {
    progress(BackupProgress {
        stage,
        done_bytes: u64::from(finished),
        total_bytes: 1,
    });
}
