//! Bringing a store to this build's schema: the ordered migrations of `migrations/sqlite/`,
//! then the triggers generated from the table registry and the columns the migrations left (the
//! change journal's, and the outbox's copy-before-change).

use chrono::{DateTime, Utc};
use clinicdesk_error::Result;
use clinicdesk_store::rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use clinicdesk_store::{sql_error, MigrationOutcome};

use crate::environment::format_timestamp;

/// Migrates `connection`'s store (calling `before_changing` first when an existing store is
/// about to change: the caller keeps its encrypted copy there) and writes the generated triggers.
pub(crate) fn bring_up_to_date(
    connection: &mut Connection,
    now: DateTime<Utc>,
    before_changing: impl FnOnce(&Connection, u32) -> Result<()>,
) -> Result<MigrationOutcome> {
    let outcome = clinicdesk_store::migrate(
        connection,
        clinicdesk_store::EMBEDDED_MIGRATIONS,
        &format_timestamp(now),
        before_changing,
    )?;
    let transaction = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql_error("writing the journal triggers"))?;
    crate::change_journal::ensure_triggers(&transaction)?;
    crate::sync::ensure_outbox_payload_triggers(&transaction)?;
    transaction
        .commit()
        .map_err(sql_error("writing the journal triggers"))?;
    Ok(outcome)
}

/// Writes trigger `name` as `sql` unless the store holds exactly that already; true when written.
pub(crate) fn write_trigger(connection: &Connection, name: &str, sql: &str) -> Result<bool> {
    let existing: Option<String> = connection
        .query_row(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?1",
            [name],
            |row| row.get(0),
        )
        .optional()
        .map_err(sql_error("reading the store's triggers"))?;
    if existing.as_deref() == Some(sql) {
        return Ok(false);
    }
    connection
        .execute_batch(&format!("DROP TRIGGER IF EXISTS {name};\n{sql};"))
        .map_err(sql_error("writing a trigger"))?;
    Ok(true)
}

/// The newest schema this build knows.
pub(crate) fn newest_schema_version() -> u32 {
    clinicdesk_store::EMBEDDED_MIGRATIONS
        .iter()
        .map(|migration| migration.version)
        .max()
        .unwrap_or(0)
}
