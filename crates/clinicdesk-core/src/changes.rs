//! Change capture for sync: every local change writes an outbox row in the same transaction,
//! and rows read as JSON for the outbox payload and for audit before/after values.

use clinicdesk_error::{Error, Result};
use clinicdesk_store::rusqlite::{params, types::ValueRef, Connection};
use clinicdesk_store::sql_error;

use crate::environment::{format_timestamp, Environment};

/// Tables whose rows sync (they carry the sync columns). Only these names are ever interpolated.
const SYNCABLE_TABLES: &[&str] = &[
    "users",
    "clinics",
    "locations",
    "providers",
    "provider_working_hours",
    "provider_days_off",
    "patients",
    "patient_phones",
    "patient_addresses",
    "patient_emails",
    "care_team_members",
    "emergency_access_grants",
    "appointment_types",
    "appointment_series",
    "appointments",
    "vitals_sets",
    "vital_observations",
    "notes",
];

fn checked_table(table: &str) -> Result<&str> {
    SYNCABLE_TABLES
        .iter()
        .find(|known| **known == table)
        .copied()
        .ok_or_else(|| Error::unexpected(format!("{table} is not a syncable table")))
}

/// One row as a JSON object of its columns.
pub fn row_json(connection: &Connection, table: &str, id: &str) -> Result<serde_json::Value> {
    let table = checked_table(table)?;
    let mut statement = connection
        .prepare(&format!("SELECT * FROM {table} WHERE id = ?1"))
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

fn record(
    connection: &Connection,
    environment: &Environment,
    table: &str,
    id: &str,
    operation: &str,
    by: Option<&str>,
) -> Result<()> {
    let payload = row_json(connection, table, id)?;
    let new_version = payload.get("version").and_then(|v| v.as_i64()).unwrap_or(1);
    let base_version = if operation == "insert" {
        None
    } else {
        Some(new_version - 1)
    };
    connection
        .execute(
            "INSERT INTO outbox (change_id, table_name, row_id, operation, base_version, new_version, payload, created_at, created_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                environment.new_id().to_string(),
                table,
                id,
                operation,
                base_version,
                new_version,
                payload.to_string(),
                format_timestamp(environment.now()),
                by
            ],
        )
        .map_err(sql_error("writing the outbox"))?;
    Ok(())
}

pub fn record_insert(
    connection: &Connection,
    environment: &Environment,
    table: &str,
    id: &str,
    by: Option<&str>,
) -> Result<()> {
    record(connection, environment, table, id, "insert", by)
}

/// Call after the UPDATE that raised `version` by one.
pub fn record_update(
    connection: &Connection,
    environment: &Environment,
    table: &str,
    id: &str,
    by: Option<&str>,
) -> Result<()> {
    record(connection, environment, table, id, "update", by)
}

/// This store's clinic (recorded at init).
pub fn clinic_id(connection: &Connection) -> Result<String> {
    connection
        .query_row(
            "SELECT value FROM store_meta WHERE key = 'clinic_id'",
            [],
            |row| row.get(0),
        )
        .map_err(sql_error("reading the clinic"))
}

/// One audited change of one row, inside the caller's transaction: the row before, the change
/// itself, its outbox row, the row after, and the audit entry holding both (plus any details the
/// entry already carries).
pub(crate) struct RowChange<'a> {
    pub table: &'a str,
    pub id: &'a str,
    pub object_type: &'a str,
    pub patient_id: Option<&'a str>,
    pub by: Option<&'a str>,
}

impl RowChange<'_> {
    /// `change` sees the row as it was (to refuse a change that no longer applies).
    pub(crate) fn apply(
        &self,
        connection: &Connection,
        environment: &Environment,
        entry: crate::audit::NewAuditEntry,
        change: impl FnOnce(&serde_json::Value) -> Result<()>,
    ) -> Result<()> {
        let before = row_json(connection, self.table, self.id)?;
        change(&before)?;
        record_update(connection, environment, self.table, self.id, self.by)?;
        let after = row_json(connection, self.table, self.id)?;
        let mut details = serde_json::Map::new();
        details.insert("before".into(), before);
        details.insert("after".into(), after);
        if let Some(extra) = entry.details.as_object() {
            details.extend(extra.clone());
        }
        let mut entry = entry
            .object(self.object_type, self.id)
            .details(serde_json::Value::Object(details));
        if let Some(patient_id) = self.patient_id {
            entry = entry.patient(patient_id);
        }
        crate::audit::append(connection, environment, entry)?;
        Ok(())
    }
}
