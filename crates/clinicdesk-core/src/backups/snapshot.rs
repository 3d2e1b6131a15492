//! Writing a backup: a consistent snapshot of the store's pages, sealed into the backup file as
//! they are read, and the job that does it on its own connection while the session stays free.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use clinicdesk_backup::{
    BackupHeader, BackupWriter, ChainHead, RecipientKey, RecipientKind, SnapshotFacts,
};
use clinicdesk_error::{Error, Result};
use clinicdesk_store::rusqlite::{params, Connection};
use clinicdesk_store::sql_error;

use super::files::{folder_in_use, sync_folder};
use super::keys::{backup_key, create_backup_key, recovery_recipient};
use super::settings::{apply_retention, read_settings, scheduled_backup_due};
use super::{row_counts, BackupFacts, BackupProgress, BackupSettings, BackupStage};
use crate::audit::AuditOutcome;
use crate::change_journal;
use crate::environment::format_timestamp;
use crate::permission::Permission;
use crate::recorded_write::RecordedWrite;
use crate::session::{Session, StoreWorker};

/// Who made a snapshot and why; the rest of the header is read from the store itself.
pub(crate) struct SnapshotRequest {
    pub backup_id: String,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<String>,
    pub scheduled: bool,
}

/// Writes a backup of the store open on `connection` to `path`: one read transaction, so the
/// snapshot is consistent while others write; pages stream through one chunk of memory.
pub(crate) fn write_snapshot(
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
        let clinic_id = crate::recorded_write::clinic_id(connection)?;
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
        // SQLCipher hands a page that fails its authentication to the page reader zeroed,
        // without an error, and marks the connection: a backup is good or it is not made.
        if clinicdesk_store::met_a_damaged_page(connection)? {
            return Err(Error::store_damaged(
                "a page of the store fails its authentication, so no backup was made",
            ));
        }
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

/// A backup a session authorised and prepared, that runs on a connection of its own: the
/// session stays free for short work while the store is read and sealed.
pub struct BackupJob {
    worker: StoreWorker,
    target: PathBuf,
    request: SnapshotRequest,
    recipients: Vec<RecipientKey>,
    /// For a scheduled backup: the settings whose retention rule runs after it succeeded.
    retention: Option<BackupSettings>,
}

impl BackupJob {
    /// Writes the backup (as `*.partial`, renamed once synced), records the run and its audit
    /// entry, and for a scheduled backup applies the retention rule.
    pub fn run(mut self, progress: &mut dyn FnMut(BackupProgress)) -> Result<BackupFacts> {
        let started = self.request.created_at;
        let scheduled = self.request.scheduled;
        let partial = PathBuf::from(format!("{}.partial", self.target.display()));
        let _ = std::fs::remove_file(&partial);
        let written = write_snapshot(
            &self.worker.connection,
            &partial,
            self.request,
            &self.recipients,
            progress,
        )
        .and_then(|header| {
            std::fs::rename(&partial, &self.target)?;
            if let Some(parent) = self.target.parent() {
                sync_folder(parent)?;
            }
            Ok(header)
        });
        let made = match written {
            Ok(header) => Ok(BackupFacts::from_header(&self.target, &header)),
            Err(error) => {
                let _ = std::fs::remove_file(&partial);
                Err(error)
            }
        };
        let recorded = self
            .worker
            .write(|write| record_backup_run(write, started, scheduled, &made));
        // When the backup failed, its own error says more than a failure to record it (a
        // damaged store refuses the record too).
        if let (Err(error), Ok(_)) = (recorded, &made) {
            return Err(error);
        }
        if let (Ok(_), Some(settings)) = (&made, &self.retention) {
            let deleted =
                apply_retention(&self.worker.connection, &self.worker.data_dir, settings)?;
            if !deleted.is_empty() {
                self.worker.write(|write| {
                    let entry = write.entry("backup.prune").details(
                        serde_json::json!({ "deleted": deleted, "retention": settings.retention }),
                    );
                    write.audit(entry)?;
                    Ok(())
                })?;
            }
        }
        made
    }
}

/// Records a backup attempt (the run a manager sees in the status, and its audit entry).
fn record_backup_run(
    write: &mut RecordedWrite<'_>,
    started: DateTime<Utc>,
    scheduled: bool,
    made: &Result<BackupFacts>,
) -> Result<()> {
    let (outcome, path, bytes, code, message) = match made {
        Ok(facts) => (
            "success",
            Some(facts.path.clone()),
            Some(facts.file_bytes as i64),
            None,
            None,
        ),
        Err(error) => (
            "failure",
            None,
            None,
            Some(error.code.as_str()),
            Some(error.message.clone()),
        ),
    };
    let run_id = write.new_id();
    let (finished, user_id) = (write.stamp(), write.user_id().map(str::to_owned));
    write
        .execute(
            "INSERT INTO backup_runs (id, started_at, finished_at, scheduled, outcome, file_path, bytes, error_code, error_message, user_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![run_id, format_timestamp(started), finished, scheduled, outcome, path, bytes, code, message, user_id],
        )
        .map_err(sql_error("recording the backup run"))?;
    let details = match made {
        Ok(facts) => {
            serde_json::json!({ "scheduled": scheduled, "file": facts.path, "backup_id": facts.backup_id, "bytes": facts.file_bytes, "row_counts": facts.row_counts })
        }
        Err(error) => serde_json::json!({ "scheduled": scheduled, "error": error }),
    };
    let outcome = if made.is_ok() {
        AuditOutcome::Success
    } else {
        AuditOutcome::Failure
    };
    let entry = write
        .entry("backup.create")
        .outcome(outcome)
        .details(details);
    let entry = crate::audit::NewAuditEntry {
        occurred_at: started,
        ..entry
    };
    write.audit(entry)?;
    Ok(())
}

impl Session {
    /// Makes a backup now, into `out` or the backup folder. Audited; a failure is recorded and
    /// shown in the backup status.
    pub fn create_backup(
        &mut self,
        out: Option<&Path>,
        progress: &mut dyn FnMut(BackupProgress),
    ) -> Result<BackupFacts> {
        self.prepare_backup(out)?.run(progress)
    }

    /// Authorises and prepares a backup to run with [`BackupJob::run`] without this session.
    pub fn prepare_backup(&mut self, out: Option<&Path>) -> Result<BackupJob> {
        let now = self.authorize("backup.create", Some(Permission::BackupsCreate), None)?;
        self.prepare_backup_job(now, out, false)
    }

    /// Runs the daily backup if it is due, then applies the retention rule. Any signed-in
    /// session may trigger it: the schedule was set by a manager, and making a backup reveals
    /// nothing to the person signed in.
    pub fn run_scheduled_backup_if_due(
        &mut self,
        progress: &mut dyn FnMut(BackupProgress),
    ) -> Result<Option<BackupFacts>> {
        match self.prepare_scheduled_backup_if_due()? {
            Some(job) => job.run(progress).map(Some),
            None => Ok(None),
        }
    }

    /// The daily backup as a job, when it is due (see [`crate::backup_schedule`]).
    pub fn prepare_scheduled_backup_if_due(&mut self) -> Result<Option<BackupJob>> {
        self.check_live()?;
        let now = self.environment.now();
        if !scheduled_backup_due(self.connection()?, now)? {
            return Ok(None);
        }
        self.prepare_backup_job(now, None, true).map(Some)
    }

    /// Everything a backup needs before the long part; a failure here is recorded like a failed
    /// backup, so a manager sees it.
    fn prepare_backup_job(
        &mut self,
        now: DateTime<Utc>,
        out: Option<&Path>,
        scheduled: bool,
    ) -> Result<BackupJob> {
        let prepared = self.backup_job_parts(now, out, scheduled);
        match prepared {
            Ok(job) => Ok(job),
            Err(error) => {
                let failed: Result<BackupFacts> = Err(error.clone());
                self.write(|write| record_backup_run(write, now, scheduled, &failed))?;
                Err(error)
            }
        }
    }

    fn backup_job_parts(
        &mut self,
        now: DateTime<Utc>,
        out: Option<&Path>,
        scheduled: bool,
    ) -> Result<BackupJob> {
        let settings = read_settings(self.connection()?)?;
        let public = match backup_key(self.connection()?)? {
            Some((public, _)) => public,
            None => self.write(|write| {
                let (id, at) = (write.new_id(), write.stamp());
                create_backup_key(write, &id, &at)
            })?,
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
            return Err(Error::invalid_field(
                "out",
                format!(
                    "{} already exists; choose another file name",
                    target.display()
                ),
            ));
        }
        Ok(BackupJob {
            worker: self.store_worker()?,
            target,
            request: SnapshotRequest {
                backup_id: self.environment.new_id().to_string(),
                created_at: now,
                created_by: Some(self.user().username.clone()),
                scheduled,
            },
            recipients,
            retention: scheduled.then_some(settings),
        })
    }
}
