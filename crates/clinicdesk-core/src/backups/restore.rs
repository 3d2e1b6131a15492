//! Verifying a backup, and restoring one whole or to a moment in time.
//!
//! Both start as a job a session prepares (authorised, the backup opened with the clinic's key).
//! The long part, decrypting the backup into a new file and checking it completely, runs on the
//! job's own connection while the session stays free. Only the end of a restore needs the
//! session and every other window closed: replaying the journal up to the moment, carrying the
//! audit trail forward, and swapping the checked store in by one rename.

use std::fs::File;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use clinicdesk_backup::{BackupHeader, BackupReader};
use clinicdesk_error::{Error, Result};
use clinicdesk_keyslot::DataKey;
use clinicdesk_store::rusqlite::{params, Connection};
use clinicdesk_store::sql_error;

use super::checks::{close_restored, decrypt_and_check, migrate_restored};
use super::files::{
    backup_files, folder_in_use, fresh_folder, remove_scratch, restore_work_folder,
    rollback_folder, sync_folder,
};
use super::keys::open_clinic_backup;
use super::settings::{read_settings, setting_keys};
use super::{step, BackupFacts, BackupProgress, BackupStage, PointInTimePlan, RestoreOutcome};
use crate::audit::{AuditEntry, AuditOutcome, NewAuditEntry};
use crate::change_journal;
use crate::environment::format_timestamp;
use crate::permission::Permission;
use crate::recorded_write::RecordedWrite;
use crate::session::{Session, StoreWorker};

/// Audits a verify or restore attempt, with the error when it failed.
fn record_attempt<T>(
    write: &mut RecordedWrite<'_>,
    started: DateTime<Utc>,
    action: &str,
    file: &Path,
    outcome: &Result<T>,
) -> Result<()> {
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
    let entry = write.entry(action).outcome(result).details(details);
    write.audit(NewAuditEntry {
        occurred_at: started,
        ..entry
    })?;
    Ok(())
}

/// A verify a session authorised: decrypts the whole backup into a scratch file under a
/// throwaway key and runs every check a restore runs. The live store is not touched.
pub struct VerifyJob {
    worker: StoreWorker,
    reader: BackupReader,
    file: PathBuf,
    started: DateTime<Utc>,
}

impl VerifyJob {
    pub fn run(mut self, progress: &mut dyn FnMut(BackupProgress)) -> Result<BackupFacts> {
        let scratch = restore_work_folder(&self.worker.data_dir)
            .join(format!("verify-{}", self.worker.environment.new_id()));
        let checked = (|| -> Result<BackupFacts> {
            std::fs::create_dir_all(&scratch)?;
            let throwaway = DataKey::generate();
            let store = scratch.join("check.db");
            drop(decrypt_and_check(
                &mut self.reader,
                &store,
                &throwaway,
                progress,
            )?);
            Ok(BackupFacts::from_header(&self.file, self.reader.header()))
        })();
        remove_scratch(&scratch);
        let (started, file) = (self.started, self.file.clone());
        self.worker
            .write(|write| record_attempt(write, started, "backup.verify", &file, &checked))?;
        checked
    }
}

/// A restore a session authorised, before its long part: [`RestoreJob::stage`] decrypts and
/// checks the backup on the job's own connection; [`Session::finish_restore`] swaps it in.
pub struct RestoreJob {
    worker: StoreWorker,
    reader: BackupReader,
    file: PathBuf,
    target: Option<DateTime<Utc>>,
    started: DateTime<Utc>,
}

/// A backup decrypted into a new store file beside the live one, checked and migrated, waiting
/// to be swapped in.
pub struct StagedRestore {
    folder: PathBuf,
    incoming: PathBuf,
    key: DataKey,
    header: BackupHeader,
    file: PathBuf,
    target: Option<DateTime<Utc>>,
    started: DateTime<Utc>,
    migrated_from_schema: Option<u32>,
}

impl RestoreJob {
    /// Decrypts, checks and migrates the backup into a scratch folder. On failure nothing is
    /// left behind and the attempt is audited.
    pub fn stage(mut self, progress: &mut dyn FnMut(BackupProgress)) -> Result<StagedRestore> {
        let folder = restore_work_folder(&self.worker.data_dir)
            .join(format!("restore-{}", self.worker.environment.new_id()));
        let incoming = folder.join("incoming.db");
        let key = self.worker.data_key.duplicate();
        let started = self.started;
        let staged = (|| -> Result<Option<u32>> {
            fresh_folder(&folder)?;
            let mut restored = decrypt_and_check(&mut self.reader, &incoming, &key, progress)?;
            let migrated = migrate_restored(&mut restored, started)?;
            close_restored(restored, &incoming)?;
            Ok(migrated)
        })();
        match staged {
            Ok(migrated_from_schema) => Ok(StagedRestore {
                folder,
                incoming,
                key,
                header: self.reader.header().clone(),
                file: self.file,
                target: self.target,
                started,
                migrated_from_schema,
            }),
            Err(error) => {
                remove_scratch(&folder);
                let failed: Result<()> = Err(error.clone());
                let file = self.file.clone();
                self.worker.write(|write| {
                    record_attempt(write, started, "backup.restore", &file, &failed)
                })?;
                Err(error)
            }
        }
    }
}

impl StagedRestore {
    /// Throws the staged store away (the person changed their mind).
    pub fn abandon(self) {
        remove_scratch(&self.folder);
    }
}

impl Session {
    /// Verifies a backup completely without touching the store; audited.
    pub fn verify_backup(
        &mut self,
        file: &Path,
        progress: &mut dyn FnMut(BackupProgress),
    ) -> Result<BackupFacts> {
        self.prepare_verify(file)?.run(progress)
    }

    /// Authorises a verify and opens the backup, for [`VerifyJob::run`] without this session.
    pub fn prepare_verify(&mut self, file: &Path) -> Result<VerifyJob> {
        let now = self.authorize("backup.verify", Some(Permission::BackupsCreate), None)?;
        let opened = open_clinic_backup(self.connection()?, file);
        match opened {
            Ok(reader) => Ok(VerifyJob {
                worker: self.store_worker()?,
                reader,
                file: file.to_owned(),
                started: now,
            }),
            Err(error) => {
                let failed: Result<()> = Err(error.clone());
                self.write(|write| record_attempt(write, now, "backup.verify", file, &failed))?;
                Err(error)
            }
        }
    }

    /// Restores `file` whole. Needs every other Clinicdesk window on this workstation closed.
    pub fn restore_backup(
        &mut self,
        file: &Path,
        progress: &mut dyn FnMut(BackupProgress),
    ) -> Result<RestoreOutcome> {
        let staged = self.prepare_restore(file)?.stage(progress)?;
        self.finish_restore(staged, progress)
    }

    /// Brings the store back to `target`: restores the newest backup from before it (on this
    /// store's timeline) and replays the change journal up to it.
    pub fn restore_to_point_in_time(
        &mut self,
        target: DateTime<Utc>,
        progress: &mut dyn FnMut(BackupProgress),
    ) -> Result<RestoreOutcome> {
        let staged = self
            .prepare_restore_to_point_in_time(target)?
            .stage(progress)?;
        self.finish_restore(staged, progress)
    }

    /// Authorises a whole restore of `file` and opens the backup.
    pub fn prepare_restore(&mut self, file: &Path) -> Result<RestoreJob> {
        let now = self.authorize("backup.restore", Some(Permission::BackupsRestore), None)?;
        self.restore_job(now, file, None)
    }

    /// Authorises bringing the store back to `target` and opens the backup it starts from.
    pub fn prepare_restore_to_point_in_time(
        &mut self,
        target: DateTime<Utc>,
    ) -> Result<RestoreJob> {
        let plan = self.plan_point_in_time_restore(target)?;
        let now = self.authorize("backup.restore", Some(Permission::BackupsRestore), None)?;
        self.restore_job(now, &PathBuf::from(&plan.backup.path), Some(target))
    }

    fn restore_job(
        &mut self,
        now: DateTime<Utc>,
        file: &Path,
        target: Option<DateTime<Utc>>,
    ) -> Result<RestoreJob> {
        let opened = open_clinic_backup(self.connection()?, file).and_then(|reader| {
            if target.is_some() {
                self.same_timeline(reader.header())?;
            }
            Ok(reader)
        });
        match opened {
            Ok(reader) => Ok(RestoreJob {
                worker: self.store_worker()?,
                reader,
                file: file.to_owned(),
                target,
                started: now,
            }),
            Err(error) => {
                let failed: Result<()> = Err(error.clone());
                self.write(|write| record_attempt(write, now, "backup.restore", file, &failed))?;
                Err(error)
            }
        }
    }

    fn same_timeline(&self, header: &BackupHeader) -> Result<()> {
        let live = change_journal::position(self.connection()?)?
            .ok_or_else(|| Error::unexpected("the current store has no change journal"))?;
        if header.facts.change_journal_timeline != live.timeline {
            return Err(Error::conflict(
                "the store was restored since this backup was made, so its journal does not continue the backup; restore it whole instead",
            ));
        }
        Ok(())
    }

    /// Swaps a staged restore in, under the exclusive store lock: replays the journal up to the
    /// chosen moment, carries the audit trail forward, keeps the current store as a rollback
    /// copy, renames. A failure leaves the live store as it was and is audited in it.
    pub fn finish_restore(
        &mut self,
        staged: StagedRestore,
        progress: &mut dyn FnMut(BackupProgress),
    ) -> Result<RestoreOutcome> {
        let started = staged.started;
        let file = staged.file.clone();
        let folder = staged.folder.clone();
        let restored = self.with_exclusive_store_lock(|session| {
            session.authorize("backup.restore", Some(Permission::BackupsRestore), None)?;
            session.swap_in_staged(staged, progress)
        });
        remove_scratch(&folder);
        if restored.is_err() && self.is_active() {
            self.write(|write| record_attempt(write, started, "backup.restore", &file, &restored))?;
        }
        restored
    }

    fn swap_in_staged(
        &mut self,
        staged: StagedRestore,
        progress: &mut dyn FnMut(BackupProgress),
    ) -> Result<RestoreOutcome> {
        let now = self.environment.now();
        let header = &staged.header;
        let restored = clinicdesk_store::open_store(&staged.incoming, &staged.key)?;
        let live = self.connection()?;
        // A damaged live store gives what it still can: without its journal position the new
        // timeline is numbered from the backup's, and no point-in-time replay is possible.
        let damaged = self.store_damage().is_some();
        let live_position = match change_journal::position(live) {
            Ok(Some(position)) => position,
            Ok(None) => return Err(Error::unexpected("the current store has no change journal")),
            Err(error) if damaged && staged.target.is_none() => {
                let _ = error;
                change_journal::JournalPosition {
                    txn: header.facts.change_journal_txn,
                    timeline: String::new(),
                }
            }
            Err(error) => return Err(error),
        };
        // Not a recorded write: a restore replaces the store, and the journal replay re-creates
        // rows the outbox already holds; only the restore's own audit entry is new.
        let write = restored
            .unchecked_transaction()
            .map_err(sql_error("starting the restore"))?;
        change_journal::start_transaction(&write, now)?;
        let mut replayed_transactions = 0;
        if let Some(target) = staged.target {
            if header.facts.change_journal_timeline != live_position.timeline {
                return Err(Error::conflict(
                    "the store was restored since this backup was made, so its journal does not continue the backup; restore it whole instead",
                ));
            }
            step(progress, BackupStage::Replay, false);
            let count =
                change_journal::replay(live, &write, header.facts.change_journal_txn, target)?;
            replayed_transactions = count.transactions as u32;
            step(progress, BackupStage::Replay, true);
        }
        let audit_entries_kept = match carry_forward(live, &write, header) {
            Ok(kept) => kept,
            // What cannot be read from a damaged store cannot be carried; the rollback copy
            // keeps it for the record.
            Err(error) if damaged && error.is_store_damage() => 0,
            Err(error) => return Err(error),
        };
        change_journal::start_timeline(&write, live_position.txn + 1)?;
        let rollback = rollback_folder(&self.data_dir).join(format!(
            "clinicdesk-before-restore-{}.db",
            now.format("%Y%m%d-%H%M%S")
        ));
        let restored_to = staged.target.map(format_timestamp);
        let result = RestoreOutcome {
            backup: BackupFacts::from_header(&staged.file, header),
            rollback_copy: rollback.display().to_string(),
            migrated_from_schema: staged.migrated_from_schema,
            replayed_transactions,
            audit_entries_kept,
            restored_to: restored_to.clone(),
        };
        let entry = NewAuditEntry::new(now, self.actor(), "backup.restore", AuditOutcome::Success)
            .details(serde_json::json!({
                "file": staged.file.display().to_string(),
                "backup_id": header.facts.backup_id,
                "backup_created_at": header.facts.created_at,
                "restored_to": restored_to,
                "replayed_transactions": replayed_transactions,
                "rollback_copy": result.rollback_copy,
                "migrated_from_schema": staged.migrated_from_schema,
            }));
        crate::audit::append(&write, &self.environment, entry)?;
        write
            .commit()
            .map_err(sql_error("finishing the restored store"))?;
        close_restored(restored, &staged.incoming)?;

        step(progress, BackupStage::Swap, false);
        self.swap_in(&staged.incoming, &rollback)?;
        self.forget_damage();
        step(progress, BackupStage::Swap, true);
        Ok(result)
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
            return Err(Error::invalid_field(
                "moment",
                "The moment to go back to must be in the past",
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

    /// The newest backup in the folder made before `target` on the current journal timeline.
    fn backup_before(&mut self, target: DateTime<Utc>) -> Result<(PathBuf, BackupHeader)> {
        let connection = self.connection()?;
        let settings = read_settings(connection)?;
        let clinic_id = crate::recorded_write::clinic_id(connection)?;
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

    /// Keeps the current store as `rollback` (a hard link, so no copy and no moment without
    /// it) and renames `incoming` over the store. At every instant the store's name points at a
    /// complete store: the old one until the rename, the new one after.
    fn swap_in(&mut self, incoming: &Path, rollback: &Path) -> Result<()> {
        let data_dir = self.data_dir.clone();
        let damaged = self.store_damage().is_some();
        if let Some(live) = self.take_connection() {
            let checkpointed = live
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                .map_err(sql_error("checkpointing the current store"));
            // A damaged store may refuse its checkpoint; it is replaced anyway, and its
            // write-ahead log goes with it into the rollback folder below.
            if !damaged {
                checkpointed?;
            }
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
            // and must not be read as the new store's. (A damaged store's log is kept beside its
            // rollback copy.)
            for leftover in data_dir.store_files().iter().skip(1) {
                if leftover.exists() {
                    if damaged {
                        let name = leftover.file_name().expect("a file name");
                        let _ = std::fs::copy(leftover, rollback.with_file_name(name));
                    }
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
    let keys = setting_keys().map(|key| format!("'{key}'")).join(", ");
    let backup_settings = format!("WHERE key IN ({keys}) AND ?1 = 1");
    restored
        .execute(&format!("DELETE FROM settings {backup_settings}"), [1])
        .map_err(sql_error("carrying the backup settings"))?;
    copy_rows(live, restored, "INSERT", "settings", &backup_settings, 1)?;
    Ok(carried)
}

/// Copies the rows of `table` matching `filter` (with `?1` bound to `value`) from `live` into
/// `restored`, column for column; returns how many. Table and filter are this module's own text.
pub(crate) fn copy_rows(
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
