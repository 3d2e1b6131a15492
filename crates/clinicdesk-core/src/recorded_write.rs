//! The one write path: every change to the store happens inside a [`RecordedWrite`], which
//! writes each changed row of a synced table to the outbox and the operation's audit entries in
//! the same IMMEDIATE transaction, and refuses to commit a change that was not recorded.
//!
//! The change journal's triggers see every row that changes, whoever changed it; at commit the
//! write compares them with its outbox rows. A row of a synced table that changed without its
//! outbox row, or a change to one that wrote no audit entry, makes the commit fail (nothing is
//! written), so a forgotten record is a failing test, never a silent gap in sync or audit.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use clinicdesk_error::{Error, Result};
use clinicdesk_store::rusqlite::{
    params, params_from_iter, types::ValueRef, Connection, OptionalExtension, ToSql, Transaction,
    TransactionBehavior,
};
use clinicdesk_store::sql_error;

use crate::audit::{self, AuditActor, AuditOutcome, NewAuditEntry};
use crate::environment::{format_timestamp, Environment};
use crate::tables::Table;

/// One operation's changes, inside its transaction. Reads and SQL go through `Deref` to the
/// connection; every row change of a journaled table is followed by [`RecordedWrite::inserted`]
/// or [`RecordedWrite::updated`] (or made by [`RecordedWrite::change_row`]).
pub(crate) struct RecordedWrite<'c> {
    transaction: Transaction<'c>,
    environment: Environment,
    actor: AuditActor,
    now: DateTime<Utc>,
    outbox_before: i64,
    audited: usize,
    /// Rows this write took from the central server (a pull, or a conflict's server side):
    /// they changed without an outbox row, because they came from the outbox of another.
    from_server: RowSet,
    /// Where each synced table ended (its last rowid) before a bulk load the change journal left
    /// out (see [`RecordedWrite::without_journal`]); empty when there was none.
    loaded_after: Vec<(Table, i64)>,
}

impl std::ops::Deref for RecordedWrite<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        &self.transaction
    }
}

impl<'c> RecordedWrite<'c> {
    /// Starts an IMMEDIATE transaction on `connection`, numbered and stamped for the journal.
    pub(crate) fn begin(
        connection: &'c mut Connection,
        environment: &Environment,
        actor: AuditActor,
    ) -> Result<RecordedWrite<'c>> {
        let now = environment.now();
        let transaction = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql_error("starting a transaction"))?;
        crate::change_journal::start_transaction(&transaction, now)?;
        let outbox_before: i64 = transaction
            .query_row("SELECT coalesce(max(seq), 0) FROM outbox", [], |row| {
                row.get(0)
            })
            .map_err(sql_error("reading the outbox"))?;
        Ok(RecordedWrite {
            transaction,
            environment: environment.clone(),
            actor,
            now,
            outbox_before,
            audited: 0,
            from_server: RowSet::new(),
            loaded_after: Vec::new(),
        })
    }

    /// `now` in the store's timestamp format.
    pub(crate) fn stamp(&self) -> String {
        format_timestamp(self.now)
    }

    /// A new UUIDv7 for a row.
    pub(crate) fn new_id(&self) -> String {
        self.environment.new_id().to_string()
    }

    /// The signed-in user's id (the `created_by`/`updated_by` of rows this write makes).
    pub(crate) fn user_id(&self) -> Option<&str> {
        self.actor.user_id.as_deref()
    }

    pub(crate) fn actor(&self) -> AuditActor {
        self.actor.clone()
    }

    /// A successful audit entry for `action` by the signed-in user, now.
    pub(crate) fn entry(&self, action: &str) -> NewAuditEntry {
        NewAuditEntry::new(self.now, self.actor.clone(), action, AuditOutcome::Success)
    }

    /// Appends an audit entry in this transaction.
    pub(crate) fn audit(&mut self, entry: NewAuditEntry) -> Result<i64> {
        let seq = audit::append(&self.transaction, &self.environment, entry)?;
        self.audited += 1;
        Ok(seq)
    }

    /// Inserts a row into `table` with its sync columns (a new UUIDv7 `id`; created and updated
    /// now, by the signed-in user) and `values`, and records it; returns its id. Column names are
    /// the caller's own text, never input.
    pub(crate) fn insert_row(
        &mut self,
        table: Table,
        values: &[(&str, &dyn ToSql)],
    ) -> Result<String> {
        let id = self.new_id();
        self.insert_row_with_id(table, &id, values)?;
        Ok(id)
    }

    /// [`RecordedWrite::insert_row`] with an id chosen beforehand.
    pub(crate) fn insert_row_with_id(
        &mut self,
        table: Table,
        id: &str,
        values: &[(&str, &dyn ToSql)],
    ) -> Result<()> {
        let stamp = self.stamp();
        let by = self.actor.user_id.clone();
        let mut columns = vec!["id", "created_at", "created_by", "updated_at", "updated_by"];
        columns.extend(values.iter().map(|(column, _)| *column));
        let placeholders: Vec<String> = (1..=columns.len()).map(|n| format!("?{n}")).collect();
        let sql = format!(
            "INSERT INTO {} ({}) VALUES ({})",
            table.name(),
            columns.join(", "),
            placeholders.join(", ")
        );
        let mut parameters: Vec<&dyn ToSql> = vec![&id, &stamp, &by, &stamp, &by];
        parameters.extend(values.iter().map(|(_, value)| *value));
        let doing = format!("saving a row of {}", table.name());
        self.transaction
            .prepare_cached(&sql)
            .and_then(|mut statement| statement.execute(params_from_iter(parameters)))
            .map_err(sql_error(&doing))?;
        self.inserted(table, id)
    }

    /// Records a row just inserted into `table`.
    pub(crate) fn inserted(&mut self, table: Table, id: impl AsRef<str>) -> Result<()> {
        self.record_outbox(table, id.as_ref(), "insert")
    }

    /// Records a row just updated in `table` (the UPDATE raised its `version` by one).
    pub(crate) fn updated(&mut self, table: Table, id: impl AsRef<str>) -> Result<()> {
        self.record_outbox(table, id.as_ref(), "update")
    }

    /// Records a row of `table` just written (or removed) as the central server holds it: it
    /// needs no outbox row.
    pub(crate) fn took_from_server(&mut self, table: Table, id: impl AsRef<str>) {
        self.from_server
            .insert((table.name().to_owned(), id.as_ref().to_owned()));
    }

    /// One row as a JSON object of its columns.
    pub(crate) fn row_json(&self, table: Table, id: impl AsRef<str>) -> Result<serde_json::Value> {
        row_json(&self.transaction, table, id.as_ref())
    }

    /// One audited change of one row: the row before (which `change` sees, to refuse a change
    /// that no longer applies), the change, its outbox row, the row after, and `entry` holding
    /// both (plus any details the entry already carries).
    pub(crate) fn change_row(
        &mut self,
        row: RowChange<'_>,
        entry: NewAuditEntry,
        change: impl FnOnce(&Connection, &serde_json::Value) -> Result<()>,
    ) -> Result<()> {
        let before = self.row_json(row.table, row.id)?;
        change(&self.transaction, &before)?;
        self.updated(row.table, row.id)?;
        let after = self.row_json(row.table, row.id)?;
        let mut details = serde_json::Map::new();
        details.insert("before".into(), before);
        details.insert("after".into(), after);
        if let Some(extra) = entry.details.as_object() {
            details.extend(extra.clone());
        }
        let mut entry = entry
            .object(row.object_type, row.id)
            .details(serde_json::Value::Object(details));
        if let Some(patient_id) = row.patient_id {
            entry = entry.patient(patient_id);
        }
        self.audit(entry)?;
        Ok(())
    }

    fn record_outbox(&mut self, table: Table, id: &str, operation: &str) -> Result<()> {
        if !table.spec().syncs_through_outbox() {
            return Ok(());
        }
        // No copy of the row: it is read when pushed, or copied just before it next changes
        // (crate::sync::PAYLOAD_READ_AT_PUSH).
        let new_version: i64 = self
            .transaction
            .prepare_cached(&format!(
                "SELECT version FROM {} WHERE id = ?1",
                table.name()
            ))
            .and_then(|mut statement| statement.query_row([id], |row| row.get(0)).optional())
            .map_err(sql_error("writing the outbox"))?
            .ok_or_else(|| {
                Error::unexpected(format!(
                    "recording a change to {} found no row {id}",
                    table.name()
                ))
            })?;
        let base_version = (operation != "insert").then_some(new_version - 1);
        self.transaction
            .prepare_cached(
                "INSERT INTO outbox (change_id, table_name, row_id, operation, base_version, new_version, payload, created_at, created_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .and_then(|mut statement| statement.execute(params![
                    self.environment.new_id().to_string(),
                    table.name(),
                    id,
                    operation,
                    base_version,
                    new_version,
                    crate::sync::PAYLOAD_READ_AT_PUSH,
                    format_timestamp(self.now),
                    self.actor.user_id
                ]))
            .map_err(sql_error("writing the outbox"))?;
        Ok(())
    }

    /// Runs a bulk load (demo data, an import) with the change journal paused: journaling each
    /// row would double the load's size. The journal records a gap instead, so no
    /// point-in-time restore replays across it. Pause and gap are in this transaction: a load
    /// that stops halfway leaves the journal recording, as it was. A load only adds rows; the
    /// commit checks that each row it added to a synced table has its outbox row.
    pub(crate) fn without_journal<T>(
        &mut self,
        why: &str,
        load: impl FnOnce(&mut Self) -> Result<T>,
    ) -> Result<T> {
        if self.loaded_after.is_empty() {
            self.loaded_after = crate::sync::last_rowid_of_each_synced_table(&self.transaction)?;
        }
        crate::change_journal::pause(&self.transaction)?;
        let loaded = load(self)?;
        crate::change_journal::resume_after_gap(&self.transaction, why)?;
        Ok(loaded)
    }

    /// The first row a bulk load added to a synced table without its outbox row, if any.
    fn loaded_row_without_outbox_row(&self) -> Result<Option<(&'static str, String)>> {
        for (table, after) in &self.loaded_after {
            let missing: Option<String> = self
                .transaction
                .query_row(
                    &format!(
                        "SELECT t.id FROM {table} t WHERE t.rowid > ?1 AND NOT EXISTS
                           (SELECT 1 FROM outbox o WHERE o.table_name = '{table}' AND o.row_id = t.id AND o.seq > ?2)
                         LIMIT 1",
                        table = table.name()
                    ),
                    params![after, self.outbox_before],
                    |row| row.get(0),
                )
                .optional()
                .map_err(sql_error("checking the load's outbox rows"))?;
            if let Some(id) = missing {
                return Ok(Some((table.name(), id)));
            }
        }
        Ok(None)
    }

    /// The rows of synced tables the journal saw change in this transaction, and the rows the
    /// outbox recorded; `None` when a bulk load left the journal out of this transaction.
    fn changed_and_recorded(&self) -> Result<Option<(RowSet, RowSet)>> {
        if !self.loaded_after.is_empty() {
            return Ok(None);
        }
        let (txn, recording): (i64, bool) = self
            .transaction
            .query_row(
                "SELECT txn, recording FROM change_journal_clock WHERE singleton = 1",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .map_err(sql_error("reading the change journal"))?;
        if !recording {
            return Err(Error::unexpected(
                "the change journal was found paused outside a bulk load; nothing was saved",
            ));
        }
        let mut changed = RowSet::new();
        let mut statement = self
            .transaction
            .prepare_cached(
                "SELECT DISTINCT table_name, json_extract(row_key, '$.id') FROM change_journal WHERE txn = ?1 AND operation <> 'gap'",
            )
            .map_err(sql_error("reading the change journal"))?;
        let mut rows = statement
            .query([txn])
            .map_err(sql_error("reading the change journal"))?;
        while let Some(row) = rows
            .next()
            .map_err(sql_error("reading the change journal"))?
        {
            let table: String = row
                .get(0)
                .map_err(sql_error("reading the change journal"))?;
            let synced =
                crate::tables::spec(&table).is_some_and(|spec| spec.syncs_through_outbox());
            if synced {
                let id: String = row
                    .get(1)
                    .map_err(sql_error("reading the change journal"))?;
                changed.insert((table, id));
            }
        }
        let mut recorded = RowSet::new();
        let mut statement = self
            .transaction
            .prepare_cached("SELECT table_name, row_id FROM outbox WHERE seq > ?1")
            .map_err(sql_error("reading the outbox"))?;
        let mut rows = statement
            .query([self.outbox_before])
            .map_err(sql_error("reading the outbox"))?;
        while let Some(row) = rows.next().map_err(sql_error("reading the outbox"))? {
            recorded.insert((
                row.get(0).map_err(sql_error("reading the outbox"))?,
                row.get(1).map_err(sql_error("reading the outbox"))?,
            ));
        }
        Ok(Some((changed, recorded)))
    }

    /// Commits, after checking that every changed row of a synced table has its outbox row and
    /// that a change to one was audited.
    pub(crate) fn commit(self) -> Result<()> {
        if let Some((table, id)) = self.loaded_row_without_outbox_row()? {
            return Err(Error::unexpected(format!(
                "a row of {table} ({id}) loaded in bulk was not recorded for sync; nothing was saved"
            )));
        }
        if let Some((changed, recorded)) = self.changed_and_recorded()? {
            let unrecorded: RowSet = changed.difference(&recorded).cloned().collect();
            if let Some((table, id)) = unrecorded.difference(&self.from_server).next() {
                return Err(Error::unexpected(format!(
                    "a change to {table} row {id} was not recorded for sync; nothing was saved"
                )));
            }
            if let Some((table, id)) = recorded.difference(&changed).next() {
                return Err(Error::unexpected(format!(
                    "the outbox names {table} row {id}, which this change did not change; nothing was saved"
                )));
            }
            if !changed.is_empty() && self.audited == 0 {
                let (table, _) = changed.iter().next().expect("not empty");
                return Err(Error::unexpected(format!(
                    "a change to {table} wrote no audit entry; nothing was saved"
                )));
            }
        }
        self.transaction.commit().map_err(sql_error("committing"))
    }
}

type RowSet = BTreeSet<(String, String)>;

/// Which row [`RecordedWrite::change_row`] changes, and how its audit entry names it.
pub(crate) struct RowChange<'a> {
    pub table: Table,
    pub id: &'a str,
    pub object_type: &'a str,
    pub patient_id: Option<&'a str>,
}

/// One row as a JSON object of its columns (`null` when there is no such row).
pub(crate) fn row_json(
    connection: &Connection,
    table: Table,
    id: &str,
) -> Result<serde_json::Value> {
    let key = table.spec().key;
    let mut statement = connection
        .prepare_cached(&format!("SELECT * FROM {} WHERE {key} = ?1", table.name()))
        .map_err(sql_error("reading a row"))?;
    let names: Vec<String> = statement
        .column_names()
        .map(|name| name.to_string())
        .collect();
    let mut rows = statement.query([id]).map_err(sql_error("reading a row"))?;
    let Some(row) = rows.next().map_err(sql_error("reading a row"))? else {
        return Ok(serde_json::Value::Null);
    };
    let mut object = serde_json::Map::new();
    for (index, name) in names.iter().enumerate() {
        let value = match row.get_ref(index).map_err(sql_error("reading a row"))? {
            ValueRef::Null => serde_json::Value::Null,
            ValueRef::Integer(number) => number.into(),
            ValueRef::Real(number) => serde_json::Number::from_f64(number)
                .map(Into::into)
                .unwrap_or(serde_json::Value::Null),
            ValueRef::Text(text) => String::from_utf8_lossy(text).into_owned().into(),
            ValueRef::Blob(blob) => hex::encode(blob).into(),
        };
        object.insert(name.clone(), value);
    }
    Ok(serde_json::Value::Object(object))
}

/// This store's clinic (recorded at init).
pub(crate) fn clinic_id(connection: &Connection) -> Result<String> {
    connection
        .query_row(
            "SELECT value FROM store_meta WHERE key = 'clinic_id'",
            [],
            |row| row.get(0),
        )
        .map_err(sql_error("reading the clinic"))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use clinicdesk_keyslot::{KdfParams, SlotSecret};
    use clinicdesk_store::DataDir;

    use crate::{Environment, InitRequest, ManualClock, Session};

    const PASSWORD: &str = "violet tractor umbrella sings";

    fn session(folder: &std::path::Path) -> Session {
        let data_dir = DataDir::new(folder.join("data"));
        let clock =
            ManualClock::starting_at(chrono::Utc.with_ymd_and_hms(2026, 11, 2, 8, 0, 0).unwrap());
        let environment = Environment::with_clock(clock, "desk-1");
        crate::init(
            &data_dir,
            InitRequest {
                clinic_name: "Riverside".into(),
                time_zone: "Europe/Berlin".into(),
                locale: None,
                admin_username: "admin".into(),
                admin_display_name: "Alex Admin".into(),
                admin_password: SlotSecret::new(PASSWORD.into()),
                kdf: KdfParams {
                    memory_kib: 1024,
                    iterations: 1,
                    parallelism: 1,
                },
            },
            &environment,
        )
        .unwrap();
        Session::login(
            &data_dir,
            "admin",
            &SlotSecret::new(PASSWORD.into()),
            &environment,
        )
        .unwrap()
    }

    fn given_name(session: &Session, id: &str) -> String {
        session
            .connection()
            .unwrap()
            .query_row(
                "SELECT given_name FROM patients WHERE id = ?1",
                [id],
                |row| row.get(0),
            )
            .unwrap()
    }

    #[test]
    fn a_change_to_a_synced_row_without_its_outbox_row_saves_nothing() {
        let folder = tempfile::tempdir().unwrap();
        let mut session = session(folder.path());
        // The administrator may not register patients: the test writes the row itself, as a
        // careless code path would, through the write path's own transaction.
        let id = session
            .write(|write| {
                let (id, stamp) = (write.new_id(), write.stamp());
                let clinic = super::clinic_id(write)?;
                write
                    .execute(
                        "INSERT INTO patients (id, created_at, updated_at, clinic_id, mrn, given_name, family_name, date_of_birth, sex)
                         VALUES (?1, ?2, ?2, ?3, '1234567897', 'Ada', 'Lovelace', '1915-12-10', 'female')",
                        clinicdesk_store::rusqlite::params![id, stamp, clinic],
                    )
                    .unwrap();
                write.inserted(crate::tables::Table::Patients, &id)?;
                write.audit(write.entry("patient.create"))?;
                Ok(id)
            })
            .unwrap();
        let forgotten_outbox = session.write(|write| {
            write
                .execute(
                    "UPDATE patients SET given_name = 'Eve', version = version + 1 WHERE id = ?1",
                    [&id],
                )
                .unwrap();
            write.audit(write.entry("patient.update"))?;
            Ok(())
        });
        let error = forgotten_outbox.unwrap_err();
        assert!(
            error.message.contains("not recorded for sync"),
            "{}",
            error.message
        );
        assert_eq!(given_name(&session, &id), "Ada");

        let forgotten_audit = session.write(|write| {
            write
                .execute(
                    "UPDATE patients SET given_name = 'Eve', version = version + 1 WHERE id = ?1",
                    [&id],
                )
                .unwrap();
            write.updated(crate::tables::Table::Patients, &id)?;
            Ok(())
        });
        let error = forgotten_audit.unwrap_err();
        assert!(
            error.message.contains("no audit entry"),
            "{}",
            error.message
        );
        assert_eq!(given_name(&session, &id), "Ada");
    }
}
