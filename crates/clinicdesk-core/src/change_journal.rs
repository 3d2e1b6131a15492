//! The change journal: every change to a clinical or administrative row, written by triggers,
//! and its replay for point-in-time restore. The triggers are generated here from the table
//! registry and each table's columns (migration 0003 wrote the first ones by hand), so a column
//! or table added by a later migration is journaled without anyone writing a trigger.

use chrono::{DateTime, Utc};
use clinicdesk_error::{Error, Result};
use clinicdesk_store::rusqlite::{params, Connection, OptionalExtension};
use clinicdesk_store::sql_error;

use crate::environment::format_timestamp;

/// Where the journal stands: the last transaction number and the timeline it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalPosition {
    pub txn: i64,
    pub timeline: String,
}

/// Called at the start of every write transaction: numbers it and stamps it with the core's
/// clock, for the triggers to copy into each journal row. Until schema 13 a demo-data generation
/// paused the journal across its transactions, and one stopped halfway left it paused: the
/// journal resumes here, with its gap recorded.
pub(crate) fn start_transaction(connection: &Connection, now: DateTime<Utc>) -> Result<()> {
    let recording: bool = connection
        .query_row(
            "UPDATE change_journal_clock SET txn = txn + 1, at = ?1 WHERE singleton = 1 RETURNING recording",
            [format_timestamp(now)],
            |row| row.get(0),
        )
        .map_err(sql_error("numbering the transaction"))?;
    if !recording {
        resume_after_gap(
            connection,
            "a demo-data generation stopped before it finished",
        )?;
    }
    Ok(())
}

pub(crate) fn pause(connection: &Connection) -> Result<()> {
    connection
        .execute(
            "UPDATE change_journal_clock SET recording = 0 WHERE singleton = 1",
            [],
        )
        .map_err(sql_error("pausing the change journal"))?;
    Ok(())
}

/// Switches recording back on and leaves a `gap` row saying why rows are missing.
pub(crate) fn resume_after_gap(connection: &Connection, why: &str) -> Result<()> {
    connection
        .execute_batch("UPDATE change_journal_clock SET recording = 1 WHERE singleton = 1")
        .map_err(sql_error("resuming the change journal"))?;
    connection
        .execute(
            "INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)
             SELECT txn, at, '*', 'gap', json_object('why', ?1), NULL FROM change_journal_clock",
            [why],
        )
        .map_err(sql_error("recording the journal gap"))?;
    Ok(())
}

/// The journal position of a store; `None` for a store from before the journal (schema < 3).
pub(crate) fn position(connection: &Connection) -> Result<Option<JournalPosition>> {
    let exists: bool = connection
        .query_row(
            "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'change_journal_clock'",
            [],
            |row| row.get(0),
        )
        .map_err(sql_error("reading the change journal"))?;
    if !exists {
        return Ok(None);
    }
    connection
        .query_row(
            "SELECT txn, timeline FROM change_journal_clock WHERE singleton = 1",
            [],
            |row| {
                Ok(JournalPosition {
                    txn: row.get(0)?,
                    timeline: row.get(1)?,
                })
            },
        )
        .optional()
        .map_err(sql_error("reading the change journal"))
}

/// A restored store starts a new, random timeline, numbered on from `after_txn` so numbers never
/// repeat.
pub(crate) fn start_timeline(connection: &Connection, after_txn: i64) -> Result<()> {
    let timeline = {
        use rand::RngCore;
        let mut bytes = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        hex::encode(bytes)
    };
    connection
        .execute(
            "UPDATE change_journal_clock SET txn = max(txn, ?1), timeline = ?2 WHERE singleton = 1",
            params![after_txn, timeline],
        )
        .map_err(sql_error("starting a new journal timeline"))?;
    Ok(())
}

/// One recorded change, as read from the journal.
struct JournalRow {
    txn: i64,
    table: String,
    operation: String,
    row_key: String,
    row_after: Option<String>,
}

/// What a replay would do, or did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayCount {
    pub transactions: usize,
    pub rows: usize,
}

/// Replays `source`'s journal after `from_txn` up to and including `until` into `target`,
/// inside the caller's transaction on `target`. Refuses to replay across a gap.
pub(crate) fn replay(
    source: &Connection,
    target: &Connection,
    from_txn: i64,
    until: DateTime<Utc>,
) -> Result<ReplayCount> {
    let until = format_timestamp(until);
    let mut statement = source
        .prepare(
            "SELECT txn, table_name, operation, row_key, row_after FROM change_journal
             WHERE txn > ?1 AND at <= ?2 ORDER BY seq",
        )
        .map_err(sql_error("reading the change journal"))?;
    let mut rows = statement
        .query(params![from_txn, until])
        .map_err(sql_error("reading the change journal"))?;
    let mut count = ReplayCount::default();
    let mut last_txn = None;
    let mut statements = ReplayStatements::default();
    while let Some(row) = rows
        .next()
        .map_err(sql_error("reading the change journal"))?
    {
        let change = JournalRow {
            txn: row
                .get(0)
                .map_err(sql_error("reading the change journal"))?,
            table: row
                .get(1)
                .map_err(sql_error("reading the change journal"))?,
            operation: row
                .get(2)
                .map_err(sql_error("reading the change journal"))?,
            row_key: row
                .get(3)
                .map_err(sql_error("reading the change journal"))?,
            row_after: row
                .get(4)
                .map_err(sql_error("reading the change journal"))?,
        };
        if change.operation == "gap" {
            return Err(Error::conflict(format!(
                "the change journal has a gap before the chosen time ({}), so the records cannot be rebuilt exactly; choose a time before the gap, or restore a backup made after it",
                serde_json::from_str::<serde_json::Value>(&change.row_key)
                    .ok()
                    .and_then(|why| why.get("why").and_then(|w| w.as_str()).map(str::to_owned))
                    .unwrap_or_else(|| "unrecorded changes".into())
            )));
        }
        if last_txn != Some(change.txn) {
            count.transactions += 1;
            last_txn = Some(change.txn);
        }
        statements.apply(target, &change)?;
        count.rows += 1;
    }
    Ok(count)
}

/// Counts what `replay` would apply, without applying it.
pub(crate) fn count_replay(
    source: &Connection,
    from_txn: i64,
    until: DateTime<Utc>,
) -> Result<(ReplayCount, bool)> {
    source
        .query_row(
            "SELECT count(DISTINCT txn), count(*), coalesce(sum(operation = 'gap'), 0) > 0 FROM change_journal
             WHERE txn > ?1 AND at <= ?2",
            params![from_txn, format_timestamp(until)],
            |row| {
                Ok((
                    ReplayCount {
                        transactions: row.get::<_, i64>(0)? as usize,
                        rows: row.get::<_, i64>(1)? as usize,
                    },
                    row.get(2)?,
                ))
            },
        )
        .map_err(sql_error("reading the change journal"))
}

/// The SQL to re-apply a journal row to each table, built once per table from its columns.
#[derive(Default)]
struct ReplayStatements {
    by_table: std::collections::HashMap<String, TableStatements>,
}

struct TableStatements {
    insert: String,
    update: String,
    delete: String,
}

impl ReplayStatements {
    fn apply(&mut self, target: &Connection, change: &JournalRow) -> Result<()> {
        let (table, key) = crate::tables::Table::from_name(&change.table)
            .map(|table| (table.name(), table.spec().key))
            .ok_or_else(|| {
                Error::integrity(format!(
                    "the change journal names an unknown table {}",
                    change.table
                ))
            })?;
        if !self.by_table.contains_key(table) {
            let statements = TableStatements::for_table(target, table, key)?;
            self.by_table.insert(table.to_owned(), statements);
        }
        let statements = &self.by_table[table];
        let changed = match (change.operation.as_str(), &change.row_after) {
            ("insert", Some(after)) => target.execute(&statements.insert, [after]),
            ("update", Some(after)) => target.execute(&statements.update, [after, &change.row_key]),
            ("delete", None) => target.execute(&statements.delete, [&change.row_key]),
            _ => {
                return Err(Error::integrity(format!(
                    "a change-journal row for {table} is malformed ({})",
                    change.operation
                )))
            }
        }
        .map_err(|error| {
            Error::integrity(format!(
                "replaying a change to {table} failed ({error}); the journal does not continue this backup"
            ))
        })?;
        if changed != 1 {
            return Err(Error::integrity(format!(
                "replaying a change to {table} found no row to change; the journal does not continue this backup"
            )));
        }
        Ok(())
    }
}

impl TableStatements {
    fn for_table(connection: &Connection, table: &str, key: &str) -> Result<TableStatements> {
        let columns = table_columns(connection, table)?;
        let value = |column: &str| format!("json_extract(?1, '$.{column}')");
        Ok(TableStatements {
            insert: format!(
                "INSERT INTO {table} ({}) VALUES ({})",
                columns.join(", "),
                columns
                    .iter()
                    .map(|c| value(c))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            update: format!(
                "UPDATE {table} SET {} WHERE {key} = json_extract(?2, '$.{key}')",
                columns
                    .iter()
                    .map(|c| format!("{c} = {}", value(c)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            delete: format!("DELETE FROM {table} WHERE {key} = json_extract(?1, '$.{key}')"),
        })
    }
}

/// The journal triggers of one table: (name, the text SQLite keeps for it).
fn triggers_for(connection: &Connection, table: &str, key: &str) -> Result<Vec<(String, String)>> {
    let columns = table_columns(connection, table)?;
    let row_after = columns
        .iter()
        .map(|column| format!("        '{column}', NEW.{column}"))
        .collect::<Vec<_>>()
        .join(",\n");
    let changed = |operation: &str, event: &str| {
        (
            format!("{table}_journal_{operation}"),
            format!(
                "CREATE TRIGGER {table}_journal_{operation}\nAFTER {event} ON {table}\nWHEN (SELECT recording FROM change_journal_clock) = 1\nBEGIN\n    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)\n    SELECT txn, at, '{table}', '{operation}', json_object('{key}', NEW.{key}), json_object(\n{row_after})\n    FROM change_journal_clock;\nEND"
            ),
        )
    };
    Ok(vec![
        changed("insert", "INSERT"),
        changed("update", "UPDATE"),
        (
            format!("{table}_journal_delete"),
            format!(
                "CREATE TRIGGER {table}_journal_delete\nAFTER DELETE ON {table}\nWHEN (SELECT recording FROM change_journal_clock) = 1\nBEGIN\n    INSERT INTO change_journal (txn, at, table_name, operation, row_key, row_after)\n    SELECT txn, at, '{table}', 'delete', json_object('{key}', OLD.{key}), NULL\n    FROM change_journal_clock;\nEND"
            ),
        ),
    ])
}

fn table_columns(connection: &Connection, table: &str) -> Result<Vec<String>> {
    let mut statement = connection
        .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
        .map_err(sql_error("reading a table's columns"))?;
    let columns = statement
        .query_map([], |row| row.get::<_, String>(0))
        .map_err(sql_error("reading a table's columns"))?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(sql_error("reading a table's columns"))?;
    Ok(columns)
}

/// Makes every journaled table's insert, update and delete triggers list exactly its columns
/// (inside the caller's transaction); returns how many triggers were written anew.
pub(crate) fn ensure_triggers(connection: &Connection) -> Result<usize> {
    let mut written = 0;
    for spec in crate::tables::journaled_tables() {
        for (name, sql) in triggers_for(connection, spec.name, spec.key)? {
            written += usize::from(crate::store_schema::write_trigger(connection, &name, &sql)?);
        }
    }
    Ok(written)
}
