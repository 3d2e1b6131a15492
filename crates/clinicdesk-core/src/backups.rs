//! Encrypted backups: create (on demand or on the daily schedule, with retention), list, verify,
//! restore whole, and restore to a point in time by replaying the change journal.
//!
//! A restore never leaves the clinic without a working store: the backup is decrypted into a
//! new file beside the store, checked completely (SQLCipher and SQLite integrity, foreign keys,
//! audit chain), migrated, and only then swapped in by one rename, after the current store was
//! kept as a rollback copy by a hard link. The audit trail is never rolled back: entries written
//! after the backup are carried into the restored store, followed by the restore's own entry.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use clinicdesk_backup::{
    BackupHeader, BackupReader, BackupWriter, ChainHead, RecipientKey, RecipientKind, RecoverySlot,
    SnapshotFacts,
};
use clinicdesk_error::{Error, ErrorCode, Result};
use clinicdesk_keyslot::{DataKey, KeySlotFile, SlotOwner};
use clinicdesk_keyslot::{KdfParams, SlotSecret};
use clinicdesk_store::rusqlite::{params, Connection, OptionalExtension};
use clinicdesk_store::{sql_error, DataDir};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::audit::{self, AuditEntry, AuditOutcome, NewAuditEntry};
use crate::backup_schedule::{self, RetentionPolicy};
use crate::change_journal;
use crate::environment::{format_timestamp, parse_timestamp};
use crate::permission::Permission;
use crate::session::Session;

/// The row counts a backup's header reports.
const COUNTED_TABLES: &[&str] = &[
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
    fn from_header(path: &Path, header: &BackupHeader) -> BackupFacts {
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

const SETTING_FOLDER: &str = "backup_folder";
const SETTING_TIME: &str = "backup_daily_time";
const SETTING_KEEP: [&str; 3] = [
    "backup_keep_daily",
    "backup_keep_weekly",
    "backup_keep_monthly",
];

fn read_setting(connection: &Connection, key: &str) -> Result<Option<String>> {
    connection
        .query_row("SELECT value FROM settings WHERE key = ?1", [key], |row| {
            row.get(0)
        })
        .optional()
        .map_err(sql_error("reading the backup settings"))
}

fn read_settings(connection: &Connection) -> Result<BackupSettings> {
    let defaults = RetentionPolicy::default();
    let keep = |index: usize, default: u32| -> Result<u32> {
        Ok(read_setting(connection, SETTING_KEEP[index])?
            .and_then(|text| text.parse().ok())
            .unwrap_or(default))
    };
    Ok(BackupSettings {
        folder: read_setting(connection, SETTING_FOLDER)?.unwrap_or_default(),
        daily_time: read_setting(connection, SETTING_TIME)?.unwrap_or_default(),
        retention: RetentionPolicy {
            keep_daily: keep(0, defaults.keep_daily)?,
            keep_weekly: keep(1, defaults.keep_weekly)?,
            keep_monthly: keep(2, defaults.keep_monthly)?,
        },
    })
}

fn settings_pairs(settings: &BackupSettings) -> [(&'static str, String); 5] {
    [
        (SETTING_FOLDER, settings.folder.clone()),
        (SETTING_TIME, settings.daily_time.clone()),
        (SETTING_KEEP[0], settings.retention.keep_daily.to_string()),
        (SETTING_KEEP[1], settings.retention.keep_weekly.to_string()),
        (SETTING_KEEP[2], settings.retention.keep_monthly.to_string()),
    ]
}

fn write_settings(
    connection: &Connection,
    settings: &BackupSettings,
    at: &str,
    by: Option<&str>,
) -> Result<()> {
    for (key, value) in settings_pairs(settings) {
        connection
            .execute(
                "INSERT INTO settings (key, value, updated_at, updated_by) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at,
                    updated_by = excluded.updated_by, version = version + 1
                 WHERE value IS NOT excluded.value",
                params![key, value, at, by],
            )
            .map_err(sql_error("writing the backup settings"))?;
    }
    Ok(())
}

fn validate_settings(settings: &BackupSettings) -> Result<BackupSettings> {
    let folder = settings.folder.trim().to_owned();
    if !folder.is_empty() && (!Path::new(&folder).is_absolute() || folder.chars().count() > 1000) {
        return Err(Error::invalid_input(format!(
            "backup folder: {folder:?} is not a full path (such as /media/backup-drive/clinicdesk)"
        )));
    }
    let daily_time = settings.daily_time.trim().to_owned();
    if !daily_time.is_empty() {
        backup_schedule::parse_daily_time(&daily_time)?;
    }
    settings.retention.validate()?;
    Ok(BackupSettings {
        folder,
        daily_time,
        retention: settings.retention,
    })
}

fn folder_in_use(data_dir: &DataDir, settings: &BackupSettings) -> PathBuf {
    if settings.folder.is_empty() {
        data_dir.root().join("backups")
    } else {
        PathBuf::from(&settings.folder)
    }
}

fn restore_work_folder(data_dir: &DataDir) -> PathBuf {
    data_dir.root().join("restore-work")
}

fn rollback_folder(data_dir: &DataDir) -> PathBuf {
    data_dir.root().join("rollback")
}

/// The clinic's backup key pair, made at the first backup: (public, secret).
fn backup_key(connection: &Connection) -> Result<Option<([u8; 32], [u8; 32])>> {
    let row: Option<(String, Vec<u8>)> = connection
        .query_row(
            "SELECT public_key, secret_key FROM backup_keys ORDER BY created_at LIMIT 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
        .map_err(sql_error("reading the backup key"))?;
    let Some((public, secret)) = row else {
        return Ok(None);
    };
    let public: [u8; 32] = hex::decode(public)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| Error::integrity("the store's backup key is damaged"))?;
    let secret: [u8; 32] = secret
        .try_into()
        .map_err(|_| Error::integrity("the store's backup key is damaged"))?;
    Ok(Some((public, secret)))
}

/// Makes the clinic's backup key pair; returns its public half.
fn create_backup_key(connection: &Connection, id: &str, at: &str) -> Result<[u8; 32]> {
    let mut secret = zeroize::Zeroizing::new([0u8; 32]);
    rand::rngs::OsRng.fill_bytes(secret.as_mut());
    let public = crypto_box::SecretKey::from(*secret).public_key();
    connection
        .execute(
            "INSERT INTO backup_keys (id, public_key, secret_key, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![id, hex::encode(public.as_bytes()), &secret[..], at],
        )
        .map_err(sql_error("creating the backup key"))?;
    Ok(*public.as_bytes())
}

/// The recovery slot, so the recovery key alone opens a backup when the workstation is lost.
fn recovery_recipient(data_dir: &DataDir) -> Result<Option<RecipientKey>> {
    let document = KeySlotFile::new(data_dir.key_slot_file()).read()?;
    let Some(slot) = document.slot(&SlotOwner::Recovery) else {
        return Ok(None);
    };
    let public_key: [u8; 32] = slot
        .public_key
        .as_slice()
        .try_into()
        .map_err(|_| Error::integrity("the recovery slot's public key is damaged"))?;
    let mut slot = slot.clone();
    slot.lockout = Default::default();
    slot.sealed_data_key = Vec::new();
    slot.sealed_next_data_key = None;
    Ok(Some(RecipientKey {
        kind: RecipientKind::Recovery,
        public_key,
        recovery_slot: Some(RecoverySlot {
            store_id: document.store_id.to_string(),
            slot,
        }),
    }))
}

fn row_counts(connection: &Connection) -> Result<BTreeMap<String, i64>> {
    let mut counts = BTreeMap::new();
    for table in COUNTED_TABLES {
        let count: i64 = connection
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
                row.get(0)
            })
            .map_err(sql_error("counting rows"))?;
        counts.insert((*table).to_owned(), count);
    }
    Ok(counts)
}

struct LastScheduledRuns {
    success: Option<DateTime<Utc>>,
    failure: Option<DateTime<Utc>>,
}

/// Who made a snapshot and why; the rest of the header is read from the store itself.
pub struct SnapshotRequest {
    pub backup_id: String,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<String>,
    pub scheduled: bool,
}

/// Writes a backup of the store open on `connection` to `path`: one read transaction, so the
/// snapshot is consistent while others write; pages stream through one chunk of memory.
#[doc(hidden)]
pub fn write_snapshot(
    connection: &Connection,
    path: &Path,
    request: SnapshotRequest,
    recipients: &[RecipientKey],
    progress: &mut dyn FnMut(BackupProgress),
) -> Result<BackupHeader> {
    connection
        .execute_batch("BEGIN DEFERRED")
        .map_err(sql_error("starting the snapshot"))?;
    let written = (|| -> Result<BackupHeader> {
        let schema_version = clinicdesk_store::applied_schema_version(connection)?;
        let clinic_id = crate::changes::clinic_id(connection)?;
        let clinic_name: String = connection
            .query_row(
                "SELECT name FROM clinics WHERE id = ?1",
                [&clinic_id],
                |row| row.get(0),
            )
            .map_err(sql_error("reading the clinic"))?;
        let row_counts = row_counts(connection)?;
        let audit_chain_head = connection
            .query_row(
                "SELECT seq, entry_hash FROM audit_chain_head WHERE singleton = 1",
                [],
                |row| {
                    Ok(ChainHead {
                        seq: row.get(0)?,
                        entry_hash: row.get(1)?,
                    })
                },
            )
            .map_err(sql_error("reading the audit chain head"))?;
        let journal = change_journal::position(connection)?;
        let page_size =
            clinicdesk_store::page_size(connection).map_err(sql_error("reading the page size"))?;
        let page_count = connection
            .query_row("PRAGMA page_count", [], |row| row.get::<_, i64>(0))
            .map_err(sql_error("reading the page count"))? as u64;
        let facts = SnapshotFacts {
            backup_id: request.backup_id,
            created_at: format_timestamp(request.created_at),
            created_by: request.created_by,
            scheduled: request.scheduled,
            app_version: env!("CARGO_PKG_VERSION").to_owned(),
            schema_version,
            clinic_id,
            clinic_name,
            row_counts,
            audit_chain_head,
            change_journal_txn: journal.as_ref().map(|j| j.txn).unwrap_or(0),
            change_journal_timeline: journal
                .map(|j| j.timeline)
                .unwrap_or_else(|| "0".repeat(32)),
            page_size,
            page_count,
        };
        let total = u64::from(page_size) * page_count;
        let writer = BackupWriter::create(path, facts, recipients)?;
        progress(BackupProgress {
            stage: BackupStage::Snapshot,
            done_bytes: 0,
            total_bytes: total,
        });
        let header = read_and_seal_in_parallel(connection, writer, page_size, |done| {
            progress(BackupProgress {
                stage: BackupStage::Snapshot,
                done_bytes: done,
                total_bytes: total,
            })
        })?;
        progress(BackupProgress {
            stage: BackupStage::Snapshot,
            done_bytes: total,
            total_bytes: total,
        });
        Ok(header)
    })();
    let _ = connection.execute_batch("COMMIT");
    written
}

/// Pages are read (and decrypted by SQLCipher) on this thread and sealed and written by a second
/// one, 64 KiB at a time through a channel of eight: two cores share the work, memory stays small.
fn read_and_seal_in_parallel(
    connection: &Connection,
    mut writer: BackupWriter,
    page_size: u32,
    mut progress: impl FnMut(u64),
) -> Result<BackupHeader> {
    const BATCH: usize = 64 << 10;
    std::thread::scope(|scope| {
        let (sender, receiver) = std::sync::mpsc::sync_channel::<Vec<u8>>(8);
        let sealing = scope.spawn(move || -> Result<BackupHeader> {
            for batch in receiver {
                for page in batch.chunks(page_size as usize) {
                    writer.write_page(page)?;
                }
            }
            writer.finish()
        });
        let mut writer_stopped = false;
        let mut batch = Vec::with_capacity(BATCH);
        let mut done = 0u64;
        let send = |batch: Vec<u8>, writer_stopped: &mut bool| -> Result<()> {
            sender.send(batch).map_err(|_| {
                *writer_stopped = true;
                Error::unexpected("the backup writer stopped")
            })
        };
        let read = clinicdesk_store::read_pages(connection, |page| {
            batch.extend_from_slice(page);
            done += page.len() as u64;
            if batch.len() >= BATCH {
                send(
                    std::mem::replace(&mut batch, Vec::with_capacity(BATCH)),
                    &mut writer_stopped,
                )?;
                progress(done);
            }
            Ok(())
        })
        .and_then(|_| {
            if batch.is_empty() {
                Ok(())
            } else {
                send(std::mem::take(&mut batch), &mut writer_stopped)
            }
        });
        drop(sender);
        let sealed = sealing
            .join()
            .unwrap_or_else(|_| Err(Error::unexpected("the backup writer stopped")));
        match (read, sealed) {
            // The writer's own error (a full disk, say) explains a reader that could not send.
            (Err(_), Err(error)) if writer_stopped => Err(error),
            (Err(error), _) => Err(error),
            (Ok(_), sealed) => sealed,
        }
    })
}

/// Decrypts `reader`'s pages into a new store file at `destination` under `key`.
fn decrypt_into(
    reader: &mut BackupReader,
    destination: &Path,
    key: &DataKey,
    progress: &mut dyn FnMut(BackupProgress),
) -> Result<()> {
    let header = reader.header().clone();
    let total = header.snapshot_bytes();
    let mut sink = clinicdesk_store::PageSink::create(destination, key, header.facts.page_size)?;
    let mut done = 0u64;
    while let Some(chunk) = reader.next_chunk()? {
        sink.write(chunk)?;
        done += chunk.len() as u64;
        progress(BackupProgress {
            stage: BackupStage::Decrypt,
            done_bytes: done,
            total_bytes: total,
        });
    }
    sink.finish()
}

/// Reports the start (`finished` false) or end of a stage that has no size of its own.
fn step(progress: &mut dyn FnMut(BackupProgress), stage: BackupStage, finished: bool) {
    progress(BackupProgress {
        stage,
        done_bytes: u64::from(finished),
        total_bytes: 1,
    });
}

/// Decrypts the backup into a new store file at `path` under `key` and runs every check on it.
fn decrypt_and_check(
    reader: &mut BackupReader,
    path: &Path,
    key: &DataKey,
    progress: &mut dyn FnMut(BackupProgress),
) -> Result<Connection> {
    decrypt_into(reader, path, key, progress)?;
    step(progress, BackupStage::Check, false);
    let connection = check_decrypted(path, key, reader.header())?;
    step(progress, BackupStage::Check, true);
    Ok(connection)
}

/// Brings a restored store from an older Clinicdesk up to date; the schema it had, if older.
fn migrate_restored(store: &mut Connection, now: DateTime<Utc>) -> Result<Option<u32>> {
    let outcome = clinicdesk_store::migrate(
        store,
        clinicdesk_store::EMBEDDED_MIGRATIONS,
        &format_timestamp(now),
        |_, _| Ok(()),
    )?;
    Ok((outcome.from_version != outcome.to_version).then_some(outcome.from_version))
}

/// Leaves the restored store as one complete, synced file (no WAL) ready to be renamed.
fn close_restored(store: Connection, path: &Path) -> Result<()> {
    store
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .map_err(sql_error("checkpointing the restored store"))?;
    store
        .close()
        .map_err(|(_, error)| Error::unexpected(format!("closing the restored store: {error}")))?;
    File::open(path)?.sync_all()?;
    Ok(())
}

/// The checks a decrypted backup must pass before it may replace anything.
fn check_decrypted(path: &Path, key: &DataKey, header: &BackupHeader) -> Result<Connection> {
    let connection = clinicdesk_store::open_store(path, key)
        .map_err(|error| error.context("the decrypted backup does not open as a store"))?;
    let problems = clinicdesk_store::integrity_problems_of_file(path, key)?;
    if !problems.is_empty() {
        return Err(Error::integrity(format!(
            "the backup decrypts, but its store fails the integrity check ({}); nothing was restored",
            problems.iter().take(3).cloned().collect::<Vec<_>>().join("; ")
        )));
    }
    let version = clinicdesk_store::applied_schema_version(&connection)?;
    let newest = clinicdesk_store::EMBEDDED_MIGRATIONS
        .iter()
        .map(|migration| migration.version)
        .max()
        .unwrap_or(0);
    if version > newest {
        return Err(Error::new(
            ErrorCode::StoreNewerThanApp,
            format!("the backup has schema version {version}, newer than this Clinicdesk ({newest}); install the newer Clinicdesk that made it"),
        ));
    }
    if version != header.facts.schema_version
        || crate::changes::clinic_id(&connection)? != header.facts.clinic_id
    {
        return Err(Error::integrity(
            "the backup's store does not match its header; nothing was restored",
        ));
    }
    audit::verify_chain(&connection).map_err(|error| {
        Error::integrity(format!(
            "the backup's audit trail does not verify ({}); nothing was restored",
            error.message
        ))
    })?;
    Ok(connection)
}

fn fresh_folder(folder: &Path) -> Result<()> {
    if folder.exists() {
        std::fs::remove_dir_all(folder)?;
    }
    std::fs::create_dir_all(folder)?;
    Ok(())
}

fn sync_folder(folder: &Path) -> Result<()> {
    File::open(folder)?.sync_all()?;
    Ok(())
}

impl Session {
    pub fn backup_settings(&mut self) -> Result<BackupSettings> {
        self.authorize(
            "backup.settings_read",
            Some(Permission::BackupsCreate),
            None,
        )?;
        read_settings(self.connection()?)
    }

    /// Changes where, when and how many backups; audited with before and after.
    pub fn set_backup_settings(&mut self, wanted: BackupSettings) -> Result<BackupSettings> {
        let now = self.authorize(
            "backup.settings_change",
            Some(Permission::BackupsCreate),
            None,
        )?;
        let wanted = validate_settings(&wanted)?;
        let before = read_settings(self.connection()?)?;
        let environment = self.environment.clone();
        let actor = self.actor();
        let user_id = self.user().id.clone();
        self.write(|transaction| {
            write_settings(transaction, &wanted, &format_timestamp(now), Some(&user_id))?;
            audit::append(
                transaction,
                &environment,
                NewAuditEntry::new(now, actor, "backup.settings_change", AuditOutcome::Success)
                    .object("settings", "backups")
                    .details(serde_json::json!({ "before": before, "after": wanted })),
            )?;
            Ok(())
        })?;
        Ok(wanted)
    }

    pub fn backup_status(&mut self) -> Result<BackupStatus> {
        self.authorize("backup.status", Some(Permission::BackupsCreate), None)?;
        self.read_backup_status()
    }

    fn read_backup_status(&mut self) -> Result<BackupStatus> {
        let connection = self.connection()?;
        let settings = read_settings(connection)?;
        let last = |outcome: &str| -> Result<Option<BackupRun>> {
            connection
                .query_row(
                    "SELECT started_at, finished_at, scheduled, outcome, file_path, bytes, error_code, error_message
                     FROM backup_runs WHERE outcome = ?1 ORDER BY finished_at DESC LIMIT 1",
                    [outcome],
                    |row| {
                        Ok(BackupRun {
                            started_at: row.get(0)?,
                            finished_at: row.get(1)?,
                            scheduled: row.get(2)?,
                            succeeded: row.get::<_, String>(3)? == "success",
                            file_path: row.get(4)?,
                            bytes: row.get(5)?,
                            error_code: row.get(6)?,
                            error_message: row.get(7)?,
                        })
                    },
                )
                .optional()
                .map_err(sql_error("reading the backup runs"))
        };
        let last_success = last("success")?;
        let last_failure = last("failure")?;
        let failing = match (&last_success, &last_failure) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(success), Some(failure)) => failure.finished_at > success.finished_at,
        };
        let next_scheduled_at = if settings.daily_time.is_empty() {
            None
        } else {
            let time = backup_schedule::parse_daily_time(&settings.daily_time)?;
            let zone = crate::scheduling::clinic_zone(connection)?;
            let runs = self.last_scheduled_runs()?;
            let now = self.environment.now();
            Some(format_timestamp(
                if backup_schedule::scheduled_backup_due(
                    time,
                    zone,
                    runs.success,
                    runs.failure,
                    now,
                ) {
                    now
                } else {
                    backup_schedule::next_slot(time, zone, now)
                },
            ))
        };
        Ok(BackupStatus {
            store_counts: row_counts(connection)?,
            folder_in_use: folder_in_use(&self.data_dir, &settings)
                .display()
                .to_string(),
            settings,
            last_success,
            last_failure,
            failing,
            next_scheduled_at,
        })
    }

    /// When the last scheduled backup succeeded and when one last failed.
    fn last_scheduled_runs(&self) -> Result<LastScheduledRuns> {
        let connection = self.connection()?;
        let last = |outcome: &str| -> Result<Option<DateTime<Utc>>> {
            let text: Option<String> = connection
                .query_row(
                    "SELECT max(started_at) FROM backup_runs WHERE scheduled = 1 AND outcome = ?1",
                    [outcome],
                    |row| row.get(0),
                )
                .map_err(sql_error("reading the backup runs"))?;
            Ok(text.as_deref().and_then(parse_timestamp))
        };
        Ok(LastScheduledRuns {
            success: last("success")?,
            failure: last("failure")?,
        })
    }

    /// Makes a backup now, into `out` or the backup folder. Audited; a failure is recorded and
    /// shown in the backup status.
    pub fn create_backup(
        &mut self,
        out: Option<&Path>,
        progress: &mut dyn FnMut(BackupProgress),
    ) -> Result<BackupFacts> {
        let now = self.authorize("backup.create", Some(Permission::BackupsCreate), None)?;
        self.make_backup(now, out, false, progress)
    }

    /// Runs the daily backup if it is due (see [`backup_schedule::scheduled_backup_due`]), then
    /// applies the retention rule. Any signed-in session may trigger it: the schedule was set by
    /// a manager, and making a backup reveals nothing to the person signed in.
    pub fn run_scheduled_backup_if_due(
        &mut self,
        progress: &mut dyn FnMut(BackupProgress),
    ) -> Result<Option<BackupFacts>> {
        self.check_live()?;
        let now = self.environment.now();
        let settings = read_settings(self.connection()?)?;
        if settings.daily_time.is_empty() {
            return Ok(None);
        }
        let time = backup_schedule::parse_daily_time(&settings.daily_time)?;
        let zone = crate::scheduling::clinic_zone(self.connection()?)?;
        let runs = self.last_scheduled_runs()?;
        if !backup_schedule::scheduled_backup_due(time, zone, runs.success, runs.failure, now) {
            return Ok(None);
        }
        let made = self.make_backup(now, None, true, progress)?;
        self.apply_retention(now, &settings)?;
        Ok(Some(made))
    }

    fn make_backup(
        &mut self,
        now: DateTime<Utc>,
        out: Option<&Path>,
        scheduled: bool,
        progress: &mut dyn FnMut(BackupProgress),
    ) -> Result<BackupFacts> {
        let made = self.write_backup_file(now, out, scheduled, progress);
        let environment = self.environment.clone();
        let actor = self.actor();
        let finished = format_timestamp(self.environment.now());
        let user_id = self.user().id.clone();
        let run_id = self.environment.new_id().to_string();
        self.write(|transaction| {
            let (outcome, path, bytes, code, message) = match &made {
                Ok(facts) => ("success", Some(facts.path.clone()), Some(facts.file_bytes as i64), None, None),
                Err(error) => ("failure", None, None, Some(error.code.as_str()), Some(error.message.clone())),
            };
            transaction
                .execute(
                    "INSERT INTO backup_runs (id, started_at, finished_at, scheduled, outcome, file_path, bytes, error_code, error_message, user_id)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                    params![run_id, format_timestamp(now), finished, scheduled, outcome, path, bytes, code, message, user_id],
                )
                .map_err(sql_error("recording the backup run"))?;
            let details = match &made {
                Ok(facts) => serde_json::json!({ "scheduled": scheduled, "file": facts.path, "backup_id": facts.backup_id, "bytes": facts.file_bytes, "row_counts": facts.row_counts }),
                Err(error) => serde_json::json!({ "scheduled": scheduled, "error": error }),
            };
            let outcome = if made.is_ok() { AuditOutcome::Success } else { AuditOutcome::Failure };
            audit::append(
                transaction,
                &environment,
                NewAuditEntry::new(now, actor, "backup.create", outcome).details(details),
            )?;
            Ok(())
        })?;
        made
    }

    fn write_backup_file(
        &mut self,
        now: DateTime<Utc>,
        out: Option<&Path>,
        scheduled: bool,
        progress: &mut dyn FnMut(BackupProgress),
    ) -> Result<BackupFacts> {
        let settings = read_settings(self.connection()?)?;
        let backup_id = self.environment.new_id().to_string();
        let public = match backup_key(self.connection()?)? {
            Some((public, _)) => public,
            None => {
                let at = format_timestamp(now);
                let id = self.environment.new_id().to_string();
                self.write(|transaction| create_backup_key(transaction, &id, &at))?
            }
        };
        let mut recipients = vec![RecipientKey {
            kind: RecipientKind::Clinic,
            public_key: public,
            recovery_slot: None,
        }];
        recipients.extend(recovery_recipient(&self.data_dir)?);
        let target = match out {
            Some(path) => path.to_owned(),
            None => {
                let folder = folder_in_use(&self.data_dir, &settings);
                std::fs::create_dir_all(&folder).map_err(|error| {
                    Error::unexpected(format!(
                        "the backup folder {} cannot be used ({error}); is the drive connected?",
                        folder.display()
                    ))
                })?;
                let stem = format!(
                    "clinicdesk-{}{}",
                    now.format("%Y%m%d-%H%M%S"),
                    if scheduled { "-daily" } else { "" }
                );
                let mut candidate = folder.join(format!("{stem}.{}", clinicdesk_backup::EXTENSION));
                let mut counter = 2;
                while candidate.exists() {
                    candidate =
                        folder.join(format!("{stem}-{counter}.{}", clinicdesk_backup::EXTENSION));
                    counter += 1;
                }
                candidate
            }
        };
        if target.exists() {
            return Err(Error::invalid_input(format!(
                "{} already exists; choose another file name",
                target.display()
            )));
        }
        let partial = PathBuf::from(format!("{}.partial", target.display()));
        let _ = std::fs::remove_file(&partial);
        let reader = clinicdesk_store::open_store(&self.data_dir.store_file(), self.data_key()?)?;
        let request = SnapshotRequest {
            backup_id,
            created_at: now,
            created_by: Some(self.user().username.clone()),
            scheduled,
        };
        let written =
            write_snapshot(&reader, &partial, request, &recipients, progress).and_then(|header| {
                std::fs::rename(&partial, &target)?;
                if let Some(parent) = target.parent() {
                    sync_folder(parent)?;
                }
                Ok(header)
            });
        drop(reader);
        match written {
            Ok(header) => Ok(BackupFacts::from_header(&target, &header)),
            Err(error) => {
                let _ = std::fs::remove_file(&partial);
                Err(error)
            }
        }
    }

    /// Deletes the scheduled backups of this clinic in the backup folder that the retention
    /// rule no longer keeps. Backups made on demand are never deleted automatically.
    fn apply_retention(&mut self, now: DateTime<Utc>, settings: &BackupSettings) -> Result<()> {
        let zone = crate::scheduling::clinic_zone(self.connection()?)?;
        let clinic_id = crate::changes::clinic_id(self.connection()?)?;
        let folder = folder_in_use(&self.data_dir, settings);
        let scheduled: Vec<(PathBuf, DateTime<chrono_tz::Tz>)> = backup_files(&folder)?
            .into_iter()
            .filter_map(|path| {
                let header = clinicdesk_backup::read_header(&path).ok()?;
                let created = parse_timestamp(&header.facts.created_at)?;
                (header.facts.scheduled && header.facts.clinic_id == clinic_id)
                    .then(|| (path, created.with_timezone(&zone)))
            })
            .collect();
        let times: Vec<_> = scheduled.iter().map(|(_, at)| *at).collect();
        let keep = backup_schedule::kept_by_retention(&times, settings.retention);
        let mut deleted = Vec::new();
        for ((path, _), keep) in scheduled.iter().zip(keep) {
            if !keep {
                std::fs::remove_file(path)?;
                deleted.push(path.display().to_string());
            }
        }
        if deleted.is_empty() {
            return Ok(());
        }
        let environment = self.environment.clone();
        let actor = self.actor();
        self.write(|transaction| {
            audit::append(
                transaction,
                &environment,
                NewAuditEntry::new(now, actor, "backup.prune", AuditOutcome::Success).details(
                    serde_json::json!({ "deleted": deleted, "retention": settings.retention }),
                ),
            )?;
            Ok(())
        })
    }

    /// The backups in the backup folder, newest first, from their headers.
    pub fn list_backups(&mut self) -> Result<Vec<BackupFacts>> {
        self.authorize("backup.list", Some(Permission::BackupsCreate), None)?;
        let settings = read_settings(self.connection()?)?;
        let folder = folder_in_use(&self.data_dir, &settings);
        let mut listed: Vec<BackupFacts> = backup_files(&folder)?
            .into_iter()
            .filter_map(|path| {
                clinicdesk_backup::read_header(&path)
                    .ok()
                    .map(|header| BackupFacts::from_header(&path, &header))
            })
            .collect();
        listed.sort_by(|a, b| b.created_at.cmp(&a.created_at));
        Ok(listed)
    }

    /// Decrypts the whole backup into a scratch file under a throwaway key and runs every check
    /// a restore runs. The live store is not touched; the attempt is audited.
    pub fn verify_backup(
        &mut self,
        file: &Path,
        progress: &mut dyn FnMut(BackupProgress),
    ) -> Result<BackupFacts> {
        let now = self.authorize("backup.verify", Some(Permission::BackupsCreate), None)?;
        let scratch = restore_work_folder(&self.data_dir)
            .join(format!("verify-{}", self.environment.new_id()));
        let checked = (|| -> Result<BackupFacts> {
            let mut reader = self.open_backup(file)?;
            std::fs::create_dir_all(&scratch)?;
            let throwaway = DataKey::generate();
            let store = scratch.join("check.db");
            drop(decrypt_and_check(
                &mut reader,
                &store,
                &throwaway,
                progress,
            )?);
            Ok(BackupFacts::from_header(file, reader.header()))
        })();
        let _ = std::fs::remove_dir_all(&scratch);
        self.audit_backup_attempt(now, "backup.verify", file, &checked)?;
        checked
    }

    /// Opens a backup of this clinic with the clinic's backup key.
    fn open_backup(&self, file: &Path) -> Result<BackupReader> {
        let mut reader = BackupReader::open(file)?;
        let connection = self.connection()?;
        let clinic_id = crate::changes::clinic_id(connection)?;
        if reader.header().facts.clinic_id != clinic_id {
            return Err(Error::integrity(format!(
                "this backup belongs to another clinic ({}), not to this one; nothing was restored",
                reader.header().facts.clinic_name
            )));
        }
        let (_, secret) = backup_key(connection)?.ok_or_else(|| {
            Error::integrity(
                "this store has never made a backup, so it holds no key that opens one",
            )
        })?;
        reader.unlock(RecipientKind::Clinic, &secret)?;
        Ok(reader)
    }

    fn audit_backup_attempt<T>(
        &mut self,
        now: DateTime<Utc>,
        action: &str,
        file: &Path,
        outcome: &Result<T>,
    ) -> Result<()> {
        let environment = self.environment.clone();
        let actor = self.actor();
        let (result, details) = match outcome {
            Ok(_) => (
                AuditOutcome::Success,
                serde_json::json!({ "file": file.display().to_string() }),
            ),
            Err(error) => (
                AuditOutcome::Failure,
                serde_json::json!({ "file": file.display().to_string(), "error": error }),
            ),
        };
        self.write(|transaction| {
            audit::append(
                transaction,
                &environment,
                NewAuditEntry::new(now, actor, action, result).details(details),
            )?;
            Ok(())
        })
    }

    /// Restores `file` whole. Needs every other Clinicdesk window on this workstation closed.
    pub fn restore_backup(
        &mut self,
        file: &Path,
        progress: &mut dyn FnMut(BackupProgress),
    ) -> Result<RestoreOutcome> {
        self.restore(file, None, progress)
    }

    /// Restores `file` under the exclusive store lock, replaying the journal up to `target` when
    /// given; a failure leaves no scratch files and is audited in the unchanged store.
    fn restore(
        &mut self,
        file: &Path,
        target: Option<DateTime<Utc>>,
        progress: &mut dyn FnMut(BackupProgress),
    ) -> Result<RestoreOutcome> {
        let now = self.authorize("backup.restore", Some(Permission::BackupsRestore), None)?;
        let restored = self.with_exclusive_store_lock(|session| {
            session.restore_under_lock(now, file, target, progress)
        });
        if restored.is_err() {
            let _ = std::fs::remove_dir_all(restore_work_folder(&self.data_dir));
            self.audit_backup_attempt(now, "backup.restore", file, &restored)?;
        }
        restored
    }

    /// Shows what bringing the store back to `target` would do: which backup is restored, how
    /// many recorded transactions are replayed, and which audited actions are undone.
    pub fn plan_point_in_time_restore(&mut self, target: DateTime<Utc>) -> Result<PointInTimePlan> {
        let now = self.authorize(
            "backup.restore_plan",
            Some(Permission::BackupsRestore),
            None,
        )?;
        if target >= now {
            return Err(Error::invalid_input(
                "the moment to go back to must be in the past",
            ));
        }
        let (path, header) = self.backup_before(target)?;
        let connection = self.connection()?;
        let (count, gap) =
            change_journal::count_replay(connection, header.facts.change_journal_txn, target)?;
        if gap {
            return Err(Error::conflict(
                "the change journal has a gap between that backup and the chosen moment (a bulk import), so the records cannot be rebuilt exactly; choose an earlier moment or a later backup",
            ));
        }
        let stamp = format_timestamp(target);
        let undone_total: i64 = connection
            .query_row(
                "SELECT count(*) FROM audit_log WHERE occurred_at > ?1",
                [&stamp],
                |row| row.get(0),
            )
            .map_err(sql_error("reading the audit trail"))?;
        let mut statement = connection
            .prepare("SELECT * FROM audit_log WHERE occurred_at > ?1 ORDER BY seq DESC LIMIT 500")
            .map_err(sql_error("reading the audit trail"))?;
        let undone = statement
            .query_map([&stamp], AuditEntry::from_row)
            .map_err(sql_error("reading the audit trail"))?
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(sql_error("reading the audit trail"))?;
        Ok(PointInTimePlan {
            target: stamp,
            backup: BackupFacts::from_header(&path, &header),
            replayed_transactions: count.transactions as u32,
            undone,
            undone_total: undone_total as u32,
        })
    }

    /// Brings the store back to `target`: restores the newest backup from before it (on this
    /// store's timeline) and replays the change journal up to it.
    pub fn restore_to_point_in_time(
        &mut self,
        target: DateTime<Utc>,
        progress: &mut dyn FnMut(BackupProgress),
    ) -> Result<RestoreOutcome> {
        let plan = self.plan_point_in_time_restore(target)?;
        self.restore(&PathBuf::from(&plan.backup.path), Some(target), progress)
    }

    /// The newest backup in the folder made before `target` on the current journal timeline.
    fn backup_before(&mut self, target: DateTime<Utc>) -> Result<(PathBuf, BackupHeader)> {
        let connection = self.connection()?;
        let settings = read_settings(connection)?;
        let clinic_id = crate::changes::clinic_id(connection)?;
        let timeline = change_journal::position(connection)?
            .map(|position| position.timeline)
            .unwrap_or_default();
        let stamp = format_timestamp(target);
        backup_files(&folder_in_use(&self.data_dir, &settings))?
            .into_iter()
            .filter_map(|path| clinicdesk_backup::read_header(&path).ok().map(|header| (path, header)))
            .filter(|(_, header)| {
                header.facts.clinic_id == clinic_id
                    && header.facts.change_journal_timeline == timeline
                    && header.facts.created_at <= stamp
            })
            .max_by(|a, b| a.1.facts.created_at.cmp(&b.1.facts.created_at))
            .ok_or_else(|| {
                Error::not_found(format!(
                    "there is no backup from before {stamp} since the last restore, so the store cannot be brought back to that moment"
                ))
            })
    }

    fn restore_under_lock(
        &mut self,
        now: DateTime<Utc>,
        file: &Path,
        target: Option<DateTime<Utc>>,
        progress: &mut dyn FnMut(BackupProgress),
    ) -> Result<RestoreOutcome> {
        let data_dir = self.data_dir.clone();
        let mut reader = self.open_backup(file)?;
        let header = reader.header().clone();
        let work = restore_work_folder(&data_dir);
        fresh_folder(&work)?;
        let incoming = work.join("incoming.db");
        let key = self.data_key()?.duplicate();
        let mut restored = decrypt_and_check(&mut reader, &incoming, &key, progress)?;
        let migrated_from_schema = migrate_restored(&mut restored, now)?;

        let live = self.connection()?;
        let live_position = change_journal::position(live)?
            .ok_or_else(|| Error::unexpected("the current store has no change journal"))?;
        let transaction = restored
            .unchecked_transaction()
            .map_err(sql_error("starting the restore"))?;
        change_journal::start_transaction(&transaction, now)?;
        let mut replayed_transactions = 0;
        if let Some(target) = target {
            if header.facts.change_journal_timeline != live_position.timeline {
                return Err(Error::conflict(
                    "the store was restored since this backup was made, so its journal does not continue the backup; restore it whole instead",
                ));
            }
            step(progress, BackupStage::Replay, false);
            let count = change_journal::replay(
                live,
                &transaction,
                header.facts.change_journal_txn,
                target,
            )?;
            replayed_transactions = count.transactions as u32;
            step(progress, BackupStage::Replay, true);
        }
        let audit_entries_kept = carry_forward(live, &transaction, &header)?;
        change_journal::start_timeline(&transaction, live_position.txn + 1)?;
        let rollback = rollback_folder(&data_dir).join(format!(
            "clinicdesk-before-restore-{}.db",
            now.format("%Y%m%d-%H%M%S")
        ));
        let restored_to = target.map(format_timestamp);
        let result = RestoreOutcome {
            backup: BackupFacts::from_header(file, &header),
            rollback_copy: rollback.display().to_string(),
            migrated_from_schema,
            replayed_transactions,
            audit_entries_kept,
            restored_to: restored_to.clone(),
        };
        audit::append(
            &transaction,
            &self.environment,
            NewAuditEntry::new(now, self.actor(), "backup.restore", AuditOutcome::Success).details(
                serde_json::json!({
                    "file": file.display().to_string(),
                    "backup_id": header.facts.backup_id,
                    "backup_created_at": header.facts.created_at,
                    "restored_to": restored_to,
                    "replayed_transactions": replayed_transactions,
                    "rollback_copy": result.rollback_copy,
                    "migrated_from_schema": migrated_from_schema,
                }),
            ),
        )?;
        transaction
            .commit()
            .map_err(sql_error("finishing the restored store"))?;
        close_restored(restored, &incoming)?;

        step(progress, BackupStage::Swap, false);
        self.swap_in(&incoming, &rollback)?;
        step(progress, BackupStage::Swap, true);
        let _ = std::fs::remove_dir_all(&work);
        Ok(result)
    }

    /// Keeps the current store as `rollback` (a hard link, so no copy and no moment without
    /// it) and renames `incoming` over the store. At every instant the store's name points at a
    /// complete store: the old one until the rename, the new one after.
    fn swap_in(&mut self, incoming: &Path, rollback: &Path) -> Result<()> {
        let data_dir = self.data_dir.clone();
        if let Some(live) = self.take_connection() {
            live.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                .map_err(sql_error("checkpointing the current store"))?;
            live.close().map_err(|(_, error)| {
                Error::unexpected(format!("closing the current store: {error}"))
            })?;
        }
        let swapped = (|| -> Result<()> {
            std::fs::create_dir_all(rollback.parent().expect("has a folder"))?;
            let _ = std::fs::remove_file(rollback);
            if std::fs::hard_link(data_dir.store_file(), rollback).is_err() {
                std::fs::copy(data_dir.store_file(), rollback)?;
                File::open(rollback)?.sync_all()?;
            }
            sync_folder(rollback.parent().expect("has a folder"))?;
            // The old store was checkpointed and closed: its WAL and shared memory hold nothing,
            // and must not be read as the new store's.
            for leftover in data_dir.store_files().iter().skip(1) {
                if leftover.exists() {
                    std::fs::remove_file(leftover)?;
                }
            }
            std::fs::rename(incoming, data_dir.store_file())?;
            sync_folder(data_dir.root())?;
            Ok(())
        })();
        let key = self.data_key()?.duplicate();
        let reopened = clinicdesk_store::open_store(&data_dir.store_file(), &key)?;
        self.replace_store(reopened, key);
        swapped
    }
}

/// Copies into the restored store what a restore must not roll back: the audit entries written
/// after the backup (when the backup's chain head is in the current chain), the clinic's backup
/// key, the record of backup runs, and the backup settings. Returns the audit entries carried.
fn carry_forward(live: &Connection, restored: &Connection, header: &BackupHeader) -> Result<u32> {
    let linked: bool = live
        .query_row(
            "SELECT count(*) > 0 FROM audit_log WHERE seq = ?1 AND entry_hash = ?2",
            params![
                header.facts.audit_chain_head.seq,
                header.facts.audit_chain_head.entry_hash
            ],
            |row| row.get(0),
        )
        .map_err(sql_error("reading the audit trail"))?;
    let carried = if linked || header.facts.audit_chain_head.seq == 0 {
        copy_rows(
            live,
            restored,
            "INSERT",
            "audit_log",
            "WHERE seq > ?1 ORDER BY seq",
            header.facts.audit_chain_head.seq,
        )?
    } else {
        0
    };
    restored
        .execute("DELETE FROM backup_keys", [])
        .map_err(sql_error("carrying the backup key"))?;
    copy_rows(live, restored, "INSERT", "backup_keys", "WHERE ?1 = 1", 1)?;
    copy_rows(
        live,
        restored,
        "INSERT OR IGNORE",
        "backup_runs",
        "WHERE ?1 = 1",
        1,
    )?;
    let keys = settings_pairs(&BackupSettings {
        folder: String::new(),
        daily_time: String::new(),
        retention: RetentionPolicy::default(),
    })
    .map(|(key, _)| format!("'{key}'"))
    .join(", ");
    let backup_settings = format!("WHERE key IN ({keys}) AND ?1 = 1");
    restored
        .execute(&format!("DELETE FROM settings {backup_settings}"), [1])
        .map_err(sql_error("carrying the backup settings"))?;
    copy_rows(live, restored, "INSERT", "settings", &backup_settings, 1)?;
    Ok(carried)
}

/// What restoring onto a new workstation needs: the backup, the clinic's recovery key (the
/// sheet kept in the safe), and who the first administrator is and their new password.
pub struct NewWorkstationRestore {
    pub backup_file: PathBuf,
    /// As typed: case, spaces and dashes do not matter.
    pub recovery_key: String,
    pub admin_username: String,
    pub admin_password: SlotSecret,
    pub kdf: KdfParams,
}

/// Rebuilds a clinic's store in an empty data folder from a backup, when the workstation and its
/// store are gone: the recovery key opens the backup; the store gets a new data key, a recovery
/// slot for the same recovery key and a slot for the named administrator. Everyone else gets a
/// new password from the administrator (`user reset-password`), because their slots were on the
/// lost machine. Checked as completely as any restore before the store appears.
pub fn restore_onto_new_workstation(
    data_dir: &DataDir,
    request: NewWorkstationRestore,
    environment: &crate::environment::Environment,
    progress: &mut dyn FnMut(BackupProgress),
) -> Result<RestoreOutcome> {
    if data_dir.store_file().exists() {
        return Err(Error::new(
            ErrorCode::StoreAlreadyInitialized,
            format!(
                "{} already holds a store; restore into an empty data folder, or use `backup restore` while signed in",
                data_dir.root().display()
            ),
        ));
    }
    let recovery_key = clinicdesk_keyslot::normalise_recovery_key(&request.recovery_key);
    let mut reader = BackupReader::open(&request.backup_file)?;
    reader.unlock_with_recovery_key(&recovery_key)?;
    let header = reader.header().clone();
    crate::session::create_private_folder(data_dir.root())?;
    let work = restore_work_folder(data_dir);
    fresh_folder(&work)?;
    let incoming = work.join("incoming.db");
    let data_key = DataKey::generate();
    let now = environment.now();
    let restored = (|| -> Result<(RestoreOutcome, crate::session::SessionUser)> {
        let mut store = decrypt_and_check(&mut reader, &incoming, &data_key, progress)?;
        let migrated_from_schema = migrate_restored(&mut store, now)?;
        let username = request.admin_username.trim().to_lowercase();
        let admin: Option<(crate::session::SessionUser, bool)> = store
            .query_row(
                "SELECT id, username, display_name, role, disabled FROM users WHERE username = ?1 AND deleted_at IS NULL",
                [&username],
                |row| {
                    Ok((
                        crate::session::SessionUser {
                            id: row.get(0)?,
                            username: row.get(1)?,
                            display_name: row.get(2)?,
                            role: row.get(3)?,
                        },
                        row.get(4)?,
                    ))
                },
            )
            .optional()
            .map_err(sql_error("reading the administrator"))?;
        let admin = match admin {
            Some((user, false)) if user.role == "administrator" => user,
            _ => {
                return Err(Error::invalid_input(format!(
                    "the backup has no active administrator named {username}; name one of its administrators"
                )))
            }
        };
        crate::password_policy::check_new_password(
            request.admin_password.as_str(),
            &admin.username,
            &admin.display_name,
        )?;
        let transaction = store
            .unchecked_transaction()
            .map_err(sql_error("starting the restore"))?;
        change_journal::start_transaction(&transaction, now)?;
        let after_txn = change_journal::position(&transaction)?
            .map(|position| position.txn)
            .unwrap_or(0);
        change_journal::start_timeline(&transaction, after_txn + 1)?;
        // The new key-slot file starts counting again; the store must not mistake that for an
        // old file put back.
        transaction
            .execute(
                "DELETE FROM store_meta WHERE key = 'keyslot_generation'",
                [],
            )
            .map_err(sql_error("resetting the key-slot generation"))?;
        let result = RestoreOutcome {
            backup: BackupFacts::from_header(&request.backup_file, &header),
            rollback_copy: String::new(),
            migrated_from_schema,
            replayed_transactions: 0,
            audit_entries_kept: 0,
            restored_to: None,
        };
        audit::append(
            &transaction,
            environment,
            NewAuditEntry::new(
                now,
                crate::audit::AuditActor {
                    user_id: Some(admin.id.clone()),
                    username: Some(admin.username.clone()),
                },
                "backup.restore",
                AuditOutcome::Success,
            )
            .details(serde_json::json!({
                "file": request.backup_file.display().to_string(),
                "backup_id": header.facts.backup_id,
                "backup_created_at": header.facts.created_at,
                "new_workstation": true,
                "opened_with": "recovery key",
            })),
        )?;
        transaction
            .commit()
            .map_err(sql_error("finishing the restored store"))?;
        close_restored(store, &incoming)?;
        Ok((result, admin))
    })();
    let (result, admin) = match restored {
        Ok(done) => done,
        Err(error) => {
            let _ = std::fs::remove_dir_all(&work);
            return Err(error);
        }
    };
    let mut document = clinicdesk_keyslot::KeySlotsDocument::new(
        uuid::Uuid::new_v4(),
        &header.facts.clinic_name,
        request.kdf,
    );
    document.put_slot(
        SlotOwner::user(&admin.username),
        &request.admin_password,
        &data_key,
    )?;
    document.put_slot(SlotOwner::Recovery, &recovery_key, &data_key)?;
    let slots = KeySlotFile::new(data_dir.key_slot_file());
    let _ = std::fs::remove_file(slots.path());
    slots.create(&document)?;
    step(progress, BackupStage::Swap, false);
    std::fs::rename(&incoming, data_dir.store_file())?;
    sync_folder(data_dir.root())?;
    step(progress, BackupStage::Swap, true);
    let _ = std::fs::remove_dir_all(&work);
    Ok(result)
}

/// Copies the rows of `table` matching `filter` (with `?1` bound to `value`) from `live` into
/// `restored`, column for column; returns how many. Table and filter are this module's own text.
fn copy_rows(
    live: &Connection,
    restored: &Connection,
    insert: &str,
    table: &str,
    filter: &str,
    value: i64,
) -> Result<u32> {
    let reading = sql_error("reading rows to carry into the restored store");
    let mut statement = live
        .prepare(&format!("SELECT * FROM {table} {filter}"))
        .map_err(&reading)?;
    let columns: Vec<String> = statement.column_names().map(str::to_owned).collect();
    let placeholders: Vec<String> = (1..=columns.len()).map(|n| format!("?{n}")).collect();
    let mut target = restored
        .prepare(&format!(
            "{insert} INTO {table} ({}) VALUES ({})",
            columns.join(", "),
            placeholders.join(", ")
        ))
        .map_err(sql_error("carrying rows into the restored store"))?;
    let mut rows = statement.query([value]).map_err(&reading)?;
    let mut copied = 0;
    while let Some(row) = rows.next().map_err(&reading)? {
        let values: Vec<clinicdesk_store::rusqlite::types::Value> = (0..columns.len())
            .map(|index| row.get(index))
            .collect::<std::result::Result<_, _>>()
            .map_err(&reading)?;
        target
            .execute(clinicdesk_store::rusqlite::params_from_iter(values))
            .map_err(sql_error("carrying rows into the restored store"))?;
        copied += 1;
    }
    Ok(copied)
}

/// The `.cdbackup` files directly in `folder` (none when it does not exist yet).
fn backup_files(folder: &Path) -> Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(folder) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => {
            return Err(Error::unexpected(format!(
                "the backup folder {} cannot be read ({error}); is the drive connected?",
                folder.display()
            )))
        }
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| {
            path.extension().and_then(|ext| ext.to_str()) == Some(clinicdesk_backup::EXTENSION)
        })
        .collect();
    files.sort();
    Ok(files)
}
