//! Ordered `.sql` migrations: each applied once, in a transaction, recorded with its checksum.

use clinicdesk_error::{Error, ErrorCode, Result};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use sha2::{Digest, Sha256};

/// One migration file, embedded at compile time.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: u32,
    pub name: &'static str,
    pub sql: &'static str,
}

impl Migration {
    pub fn checksum(&self) -> String {
        hex::encode(Sha256::digest(self.sql.as_bytes()))
    }
}

include!(concat!(env!("OUT_DIR"), "/embedded_migrations.rs"));

/// What `migrate` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationOutcome {
    pub from_version: u32,
    pub to_version: u32,
}

const LEDGER: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY CHECK (version >= 1),
    name TEXT NOT NULL,
    sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
    applied_at TEXT NOT NULL
)";

/// The highest applied migration, 0 for an empty store.
pub fn applied_schema_version(connection: &Connection) -> Result<u32> {
    let exists: bool = connection
        .query_row(
            "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
            [],
            |row| row.get(0),
        )
        .map_err(crate::sql_error("reading the schema version"))?;
    if !exists {
        return Ok(0);
    }
    connection
        .query_row(
            "SELECT coalesce(max(version), 0) FROM schema_migrations",
            [],
            |row| row.get(0),
        )
        .map_err(crate::sql_error("reading the schema version"))
}

/// Brings the store up to the last of `migrations`.
///
/// Refuses a store that has a migration this binary does not know (newer store) or whose
/// applied migration differs from ours (edited after it ran). When an existing store (one with
/// at least one applied migration) is about to change, `before_changing` runs first; the
/// caller takes its encrypted copy there.
pub fn migrate(
    connection: &mut Connection,
    migrations: &[Migration],
    applied_at: &str,
    before_changing: impl FnOnce(&Connection, u32) -> Result<()>,
) -> Result<MigrationOutcome> {
    connection
        .execute_batch(LEDGER)
        .map_err(crate::sql_error("creating the migration ledger"))?;
    let latest_known = migrations.last().map(|m| m.version).unwrap_or(0);
    let applied: Vec<(u32, String, String)> = {
        let mut statement = connection
            .prepare("SELECT version, name, sha256 FROM schema_migrations ORDER BY version")
            .map_err(crate::sql_error("reading the migration ledger"))?;
        let rows = statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .map_err(crate::sql_error("reading the migration ledger"))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(crate::sql_error("reading the migration ledger"))?
    };
    let from_version = applied.last().map(|(version, _, _)| *version).unwrap_or(0);
    if from_version > latest_known {
        return Err(Error::new(
            ErrorCode::StoreNewerThanApp,
            format!(
                "this store has schema version {from_version}, but this Clinicdesk only knows up to version {latest_known}; install the newer Clinicdesk that last opened it (the store was not changed)"
            ),
        ));
    }
    for (version, name, sha256) in &applied {
        let ours = migrations
            .iter()
            .find(|m| m.version == *version)
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::MigrationMismatch,
                    format!("applied migration {version} ({name}) is unknown to this Clinicdesk"),
                )
            })?;
        if ours.checksum() != *sha256 {
            return Err(Error::new(
                ErrorCode::MigrationMismatch,
                format!(
                    "migration {version:04}_{name} was changed after it was applied to this store (checksum {sha256} in the store, {} in this Clinicdesk); this build cannot be trusted with this store — use the release that created it",
                    ours.checksum()
                ),
            ));
        }
    }
    let pending: Vec<&Migration> = migrations
        .iter()
        .filter(|m| m.version > from_version)
        .collect();
    if pending.is_empty() {
        return Ok(MigrationOutcome {
            from_version,
            to_version: from_version,
        });
    }
    if from_version > 0 {
        before_changing(connection, from_version)?;
    }
    for migration in pending {
        let transaction = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(crate::sql_error("starting a migration"))?;
        let already: Option<u32> = transaction
            .query_row(
                "SELECT version FROM schema_migrations WHERE version = ?1",
                [migration.version],
                |row| row.get(0),
            )
            .optional()
            .map_err(crate::sql_error("reading the migration ledger"))?;
        if already.is_some() {
            continue;
        }
        transaction.execute_batch(migration.sql).map_err(|error| {
            let detail = match &error {
                rusqlite::Error::SqlInputError { msg, offset, .. } => {
                    format!("{msg} at offset {offset}")
                }
                other => other.to_string(),
            };
            Error::unexpected(format!(
                "migration {:04}_{} failed: {detail}",
                migration.version, migration.name
            ))
        })?;
        transaction
            .execute(
                "INSERT INTO schema_migrations (version, name, sha256, applied_at) VALUES (?1, ?2, ?3, ?4)",
                params![migration.version, migration.name, migration.checksum(), applied_at],
            )
            .map_err(crate::sql_error("recording a migration"))?;
        transaction
            .pragma_update(None, "user_version", migration.version)
            .map_err(crate::sql_error("recording a migration"))?;
        transaction
            .commit()
            .map_err(crate::sql_error("committing a migration"))?;
    }
    Ok(MigrationOutcome {
        from_version,
        to_version: latest_known,
    })
}
