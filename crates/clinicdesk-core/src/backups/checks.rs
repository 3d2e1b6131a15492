//! Decrypting a backup into a new store file and every check it must pass before anything
//! relies on it: SQLCipher's page authentication, SQLite's integrity and foreign-key checks, the
//! schema version, the clinic, and the audit chain; then migrating it to this build's schema.

use std::fs::File;
use std::path::Path;

use chrono::{DateTime, Utc};
use clinicdesk_backup::{BackupHeader, BackupReader};
use clinicdesk_error::{Error, ErrorCode, Result};
use clinicdesk_keyslot::DataKey;
use clinicdesk_store::rusqlite::Connection;
use clinicdesk_store::sql_error;

use super::{step, BackupProgress, BackupStage};
use crate::audit;

/// Decrypts `reader`'s pages into a new store file at `destination` under `key`.
pub(crate) fn decrypt_into(
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

/// Decrypts the backup into a new store file at `path` under `key` and runs every check on it.
pub(crate) fn decrypt_and_check(
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
pub(crate) fn migrate_restored(store: &mut Connection, now: DateTime<Utc>) -> Result<Option<u32>> {
    let outcome = crate::store_schema::bring_up_to_date(store, now, |_, _| Ok(()))?;
    Ok((outcome.from_version != outcome.to_version).then_some(outcome.from_version))
}

/// Leaves the restored store as one complete, synced file (no WAL) ready to be renamed.
pub(crate) fn close_restored(store: Connection, path: &Path) -> Result<()> {
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
pub(crate) fn check_decrypted(
    path: &Path,
    key: &DataKey,
    header: &BackupHeader,
) -> Result<Connection> {
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
    let newest = crate::store_schema::newest_schema_version();
    if version > newest {
        return Err(Error::new(
            ErrorCode::StoreNewerThanApp,
            format!("the backup has schema version {version}, newer than this Clinicdesk ({newest}); install the newer Clinicdesk that made it"),
        ));
    }
    if version != header.facts.schema_version
        || crate::recorded_write::clinic_id(&connection)? != header.facts.clinic_id
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
