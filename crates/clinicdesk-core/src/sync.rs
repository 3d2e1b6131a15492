//! Sync's rules on the workstation: what waits to be pushed, what the server's answer to a push
//! does to the store, applying pulled changes, and the conflicts a person resolves. No network
//! code lives here: the `clinicdesk-sync` crate carries these batches to and from the central
//! server and calls these methods.
//!
//! Invariants: a local change leaves the outbox only when the server acknowledged it (applied,
//! or already applied) or when it became a conflict, which keeps the local version for a person;
//! a pulled change is applied in the same transaction as the cursor that passes it, so a crash
//! repeats it (harmlessly: a row already at that version is skipped) and never skips it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use clinicdesk_error::{Error, ErrorCode, Result};
use clinicdesk_keyslot::{KeySlotFile, SlotOwner};
use clinicdesk_store::rusqlite::{
    params, params_from_iter, types::Value as SqlValue, Connection, OptionalExtension,
};
use clinicdesk_store::{sql_error, DataDir};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::environment::format_timestamp;
use crate::ids::ConflictId;
use crate::permission::Permission;
use crate::recorded_write::{row_json, RecordedWrite};
use crate::session::Session;
use crate::tables::Table;

/// A free start offered for a booking that lost its time.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FreeSlot {
    /// The clinic's local time, `YYYY-MM-DDTHH:MM` (what [`ConflictResolution::MoveTo`] takes).
    pub local: String,
    /// The same moment in UTC, for display.
    pub starts_at: String,
}

/// How far a sync's pull has come: changes taken so far of those that were waiting.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullProgress {
    pub pulled: i64,
    pub to_pull: i64,
}

/// One entry of another workstation's audit trail, as the central server keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteAuditEntry {
    /// The server's arrival number (the pull cursor).
    pub received_seq: i64,
    pub workstation_role: String,
    pub seq: i64,
    pub id: String,
    pub occurred_at: String,
    pub user_id: Option<String>,
    pub username: Option<String>,
    pub workstation: String,
    pub action: String,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    pub patient_id: Option<String>,
    pub outcome: String,
    pub details: String,
}

/// How this workstation reaches its central server (kept inside the encrypted store).
#[derive(Clone)]
pub struct SyncEnrolment {
    /// `postgres://host:port/database`, without user or password.
    pub server_url: String,
    /// The workstation's PostgreSQL role.
    pub workstation_role: String,
    /// The workstation's own password, chosen at enrolment; never shown.
    pub workstation_password: Zeroizing<String>,
    /// SHA-256 of the server certificate (DER), hex: the only certificate accepted.
    pub certificate_sha256: String,
    /// The clinic the server knows this workstation by.
    pub clinic_id: String,
}

impl std::fmt::Debug for SyncEnrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncEnrolment")
            .field("server_url", &self.server_url)
            .field("workstation_role", &self.workstation_role)
            .field("certificate_sha256", &self.certificate_sha256)
            .finish_non_exhaustive()
    }
}

/// What `sync status` shows.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncStatus {
    /// The server's address, when this workstation is enrolled.
    pub server_url: Option<String>,
    pub workstation_role: Option<String>,
    /// Local changes not yet acknowledged by the server.
    pub pending_changes: i64,
    /// Audit entries not yet on the server.
    pub pending_audit_entries: i64,
    /// Conflicts waiting for a person.
    pub open_conflicts: i64,
    pub last_push_at: Option<String>,
    pub last_pull_at: Option<String>,
    /// The last change of the clinic's sequence this workstation has.
    pub cursor: i64,
    /// The last failure's code, until a sync succeeds.
    pub last_error_code: Option<ErrorCode>,
    /// The last failure, until a sync succeeds: `{code}: {message}`.
    pub last_error: Option<String>,
}

/// One local change on its way to the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutgoingChange {
    pub change_id: String,
    pub table: String,
    pub row_id: String,
    pub operation: String,
    pub base_version: Option<i64>,
    pub new_version: i64,
    pub payload: serde_json::Value,
}

/// A batch of the outbox, in order, and the audit entries not yet pushed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutgoingBatch {
    pub changes: Vec<OutgoingChange>,
    /// Audit entries as their rows (every column), in chain order.
    pub audit: Vec<serde_json::Value>,
}

impl OutgoingBatch {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.audit.is_empty()
    }

    fn audit_through(&self) -> Option<i64> {
        self.audit
            .iter()
            .filter_map(|entry| entry.get("seq").and_then(|seq| seq.as_i64()))
            .max()
    }
}

/// What the server did with one pushed change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum PushOutcome {
    /// Applied now, at `seq` of the clinic's sequence.
    Applied { seq: i64 },
    /// Applied by an earlier push of the same change.
    Duplicate { seq: i64 },
    /// Refused: the row changed on the server since this change's base version (`stale`), or a
    /// constraint of the server refused it (its name: someone else holds the slot).
    Conflict {
        reason: String,
        server_version: Option<i64>,
        server_row: Option<serde_json::Value>,
    },
}

/// The server's answer to one pushed change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushResult {
    pub change_id: String,
    #[serde(flatten)]
    pub outcome: PushOutcome,
}

/// What a push did, for the person who asked for it.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushSummary {
    pub applied: i64,
    pub already_applied: i64,
    pub conflicts: i64,
    pub audit_entries: i64,
}

/// One change of the clinic's sequence, pulled from the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PulledChange {
    pub seq: i64,
    pub change_id: String,
    pub table: String,
    pub row_id: String,
    pub version: i64,
    pub payload: serde_json::Value,
}

/// What a pull did.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullSummary {
    pub applied: i64,
    /// Changes this workstation already had (its own, or pulled before a crash).
    pub already_here: i64,
    pub conflicts: i64,
    pub cursor: i64,
}

/// A conflict waiting for a person: both versions of the row.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncConflict {
    pub id: ConflictId,
    pub table: String,
    pub row_id: String,
    /// `stale` (changed elsewhere first) or the server rule that refused this workstation's
    /// change, in words.
    pub reason: String,
    /// This workstation's version (what it would have written).
    #[cfg_attr(feature = "typescript", ts(type = "Record<string, unknown>"))]
    pub mine: serde_json::Value,
    /// The server's version (`null` when the server refused a new row).
    #[cfg_attr(feature = "typescript", ts(type = "Record<string, unknown> | null"))]
    pub theirs: serde_json::Value,
    pub detected_at: String,
    /// The reason as a code: `stale`, or the name of the rule that refused the change.
    pub reason_code: String,
    /// A booking whose time another workstation took first: the screen offers free slots.
    pub lost_its_time: bool,
    /// Whose record it is, in words (the patient, the provider, the account).
    pub subject: String,
}

/// How a person settles a conflict.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "fields", rename_all = "snake_case")]
pub enum ConflictResolution {
    /// This workstation's version wins: written as a new change on top of the server's.
    KeepMine,
    /// The server's version stays (it is already here).
    KeepTheirs,
    /// These fields from this workstation's version, every other from the server's.
    FieldByField(Vec<String>),
    /// A booking that lost its time to another workstation, kept at another start (the
    /// clinic's local time, `YYYY-MM-DDTHH:MM`, one of [`Session::conflict_free_slots`]).
    MoveTo(String),
}

const SYNC_COLUMNS: &[&str] = &[
    "id",
    "version",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
];

/// The permission a person needs to see and settle a conflict of `table`.
/// The permission by which this person settles a conflict of `table`: a note's conflict goes to
/// the clinicians and to the nurses (each writes their own kind of note).
fn settling_permission(table: Table, held: &std::collections::BTreeSet<Permission>) -> Permission {
    if table == Table::Notes && held.contains(&Permission::NotesWriteNursing) {
        return Permission::NotesWriteNursing;
    }
    permission_for(table)
}

fn permission_for(table: Table) -> Permission {
    match table {
        Table::Users => Permission::UsersManage,
        Table::Clinics
        | Table::Locations
        | Table::Providers
        | Table::ProviderWorkingHours
        | Table::ProviderDaysOff
        | Table::AppointmentTypes
        | Table::Settings => Permission::ScheduleManage,
        Table::Patients
        | Table::PatientPhones
        | Table::PatientAddresses
        | Table::PatientEmails
        | Table::CareTeamMembers
        | Table::PatientMerges => Permission::PatientsWrite,
        Table::EmergencyAccessGrants => Permission::EmergencyReview,
        Table::AppointmentSeries | Table::Appointments => Permission::AppointmentsWrite,
        Table::VitalsSets | Table::VitalObservations => Permission::VitalsWrite,
        Table::Notes => Permission::NotesWriteClinical,
        Table::Allergies | Table::AllergyConfirmations => Permission::AllergiesWrite,
        Table::Medications => Permission::MedicationsWrite,
        Table::MedicationReviews => Permission::MedicationsReview,
        Table::Problems => Permission::ProblemsWrite,
    }
}

fn synced_table(name: &str) -> Result<Table> {
    Table::from_name(name)
        .filter(|table| table.spec().syncs_through_outbox())
        .ok_or_else(|| {
            Error::new(
                ErrorCode::ServerRefused,
                format!(
                    "the server sent a change to {:?}, which is not a synced table of this build",
                    crate::validation::visible(name)
                ),
            )
        })
}

fn state(connection: &Connection, key: &str) -> Result<Option<String>> {
    connection
        .query_row(
            "SELECT value FROM sync_state WHERE key = ?1",
            [key],
            |row| row.get(0),
        )
        .optional()
        .map_err(sql_error("reading the sync state"))
}

pub(crate) fn set_state(
    connection: &Connection,
    key: &str,
    value: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    connection
        .execute(
            "INSERT INTO sync_state (key, value, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            params![key, value, format_timestamp(now)],
        )
        .map_err(sql_error("saving the sync state"))?;
    Ok(())
}

pub(crate) fn clear_state(connection: &Connection, key: &str) -> Result<()> {
    connection
        .execute("DELETE FROM sync_state WHERE key = ?1", [key])
        .map_err(sql_error("saving the sync state"))?;
    Ok(())
}

fn count(connection: &Connection, sql: &str) -> Result<i64> {
    connection
        .query_row(sql, [], |row| row.get(0))
        .map_err(sql_error("counting for sync"))
}

/// A JSON value as an SQLite value (objects and arrays as their JSON text, as the store keeps them).
fn sql_value(value: &serde_json::Value) -> SqlValue {
    match value {
        serde_json::Value::Null => SqlValue::Null,
        serde_json::Value::Bool(flag) => SqlValue::Integer(i64::from(*flag)),
        serde_json::Value::Number(number) => match number.as_i64() {
            Some(integer) => SqlValue::Integer(integer),
            None => SqlValue::Real(number.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(text) => SqlValue::Text(text.clone()),
        other => SqlValue::Text(other.to_string()),
    }
}

fn columns_of(connection: &Connection, table: Table) -> Result<Vec<String>> {
    let mut statement = connection
        .prepare_cached(&format!(
            "SELECT name FROM pragma_table_info('{}')",
            table.name()
        ))
        .map_err(sql_error("reading a table's columns"))?;
    let names = statement
        .query_map([], |row| row.get::<_, String>(0))
        .map_err(sql_error("reading a table's columns"))?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(sql_error("reading a table's columns"))?;
    Ok(names)
}

/// The row's columns from `row`, checked against the table: an unknown column is refused.
fn checked_columns<'r>(
    connection: &Connection,
    table: Table,
    row: &'r serde_json::Value,
) -> Result<Vec<(&'r str, &'r serde_json::Value)>> {
    let object = row.as_object().ok_or_else(|| {
        Error::new(
            ErrorCode::ServerRefused,
            format!("a row of {} from the server is not an object", table.name()),
        )
    })?;
    let known = columns_of(connection, table)?;
    let mut columns = Vec::with_capacity(object.len());
    for (name, value) in object {
        if !known.iter().any(|column| column == name) {
            return Err(Error::new(
                ErrorCode::ServerRefused,
                format!(
                    "a row of {} from the server has a column this build does not know ({:?}); update Clinicdesk",
                    table.name(),
                    crate::validation::visible(name)
                ),
            ));
        }
        columns.push((name.as_str(), value));
    }
    Ok(columns)
}

/// Writes `row` as the server holds it (insert, or replace every column of the local row).
pub(crate) fn put_server_row(
    write: &mut RecordedWrite<'_>,
    table: Table,
    row: &serde_json::Value,
) -> Result<()> {
    let columns = checked_columns(write, table, row)?;
    let id = row
        .get("id")
        .and_then(|id| id.as_str())
        .ok_or_else(|| {
            Error::new(
                ErrorCode::ServerRefused,
                format!("a row of {} from the server has no id", table.name()),
            )
        })?
        .to_owned();
    let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
    let placeholders: Vec<String> = (1..=names.len()).map(|n| format!("?{n}")).collect();
    let updates: Vec<String> = names
        .iter()
        .filter(|name| **name != "id")
        .map(|name| format!("{name} = excluded.{name}"))
        .collect();
    let sql = format!(
        "INSERT INTO {table} ({columns}) VALUES ({placeholders}) ON CONFLICT (id) DO UPDATE SET {updates}",
        table = table.name(),
        columns = names.join(", "),
        placeholders = placeholders.join(", "),
        updates = updates.join(", "),
    );
    let values: Vec<SqlValue> = columns.iter().map(|(_, value)| sql_value(value)).collect();
    let doing = format!("applying a row of {} from the server", table.name());
    // Two workstations can each record an allergy and "no known allergies" offline; the store
    // refuses the pair from people, but takes it from the server, where both were recorded (the
    // chart then shows the contradiction for a nurse or clinician to settle).
    let may_contradict = matches!(table, Table::Allergies | Table::AllergyConfirmations);
    if may_contradict {
        let stamp = write.stamp();
        write
            .execute(
                "INSERT OR REPLACE INTO sync_state (key, value, updated_at) VALUES ('applying_server_rows', '1', ?1)",
                [stamp],
            )
            .map_err(sql_error(&doing))?;
    }
    write
        .prepare_cached(&sql)
        .and_then(|mut statement| statement.execute(params_from_iter(values)))
        .map_err(sql_error(&doing))?;
    if may_contradict {
        clear_state(write, "applying_server_rows")?;
    }
    write.took_from_server(table, &id);
    Ok(())
}

/// Brings an account's row to the server's version at a first sign-in, unless this workstation
/// has that version already (or unpushed changes of its own to it, which sync settles).
pub(crate) fn put_account_from_server(
    write: &mut RecordedWrite<'_>,
    row: &serde_json::Value,
) -> Result<()> {
    let id = row.get("id").and_then(|v| v.as_str()).unwrap_or_default();
    let version = row.get("version").and_then(|v| v.as_i64()).unwrap_or(0);
    let here = local_version(write, Table::Users, id)?;
    if here.is_some_and(|here| here >= version) || has_unpushed_changes(write, Table::Users, id)? {
        return Ok(());
    }
    write
        .execute_batch("PRAGMA defer_foreign_keys = ON")
        .map_err(sql_error("applying the account from the server"))?;
    put_server_row(write, Table::Users, row)
}

/// The username whose key slot here no longer fits its account once `after` replaces `before`:
/// a new password, a disable, a role change or a removal made on another workstation.
fn account_made_slot_stale(
    before: &serde_json::Value,
    after: &serde_json::Value,
) -> Option<String> {
    if before.is_null() {
        return None;
    }
    let field = |row: &serde_json::Value, name: &str| row.get(name).cloned().unwrap_or_default();
    let changed = ["password_verifier", "role", "disabled", "deleted_at"]
        .iter()
        .any(|name| field(before, name) != field(after, name));
    changed
        .then(|| {
            before
                .get("username")
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        })
        .flatten()
}

/// Removes the key slots of accounts changed elsewhere (before the change is committed: if the
/// commit fails, the person signs in through the server once, which is safe) and audits it.
fn remove_stale_slots(
    write: &mut RecordedWrite<'_>,
    data_dir: &DataDir,
    usernames: &[String],
) -> Result<()> {
    if usernames.is_empty() {
        return Ok(());
    }
    let removed = KeySlotFile::new(data_dir.key_slot_file()).update(|document| {
        Ok(usernames
            .iter()
            .filter(|name| document.remove_slot(&SlotOwner::user(name)))
            .cloned()
            .collect::<Vec<_>>())
    })?;
    for username in removed {
        let entry = write
            .entry("security.key_slot_removed")
            .details(serde_json::json!({
                "username": username,
                "meaning": "the account's password, role or status changed on another workstation; the old password no longer opens this workstation, and the next sign-in here is checked by the central server",
            }));
        write.audit(entry)?;
    }
    Ok(())
}

fn local_version(connection: &Connection, table: Table, id: &str) -> Result<Option<i64>> {
    connection
        .prepare_cached(&format!(
            "SELECT version FROM {} WHERE id = ?1",
            table.name()
        ))
        .and_then(|mut statement| statement.query_row([id], |row| row.get(0)).optional())
        .map_err(sql_error("reading a row's version"))
}

fn has_unpushed_changes(connection: &Connection, table: Table, id: &str) -> Result<bool> {
    connection
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM outbox WHERE table_name = ?1 AND row_id = ?2 AND pushed_at IS NULL)",
        )
        .and_then(|mut statement| statement.query_row(params![table.name(), id], |row| row.get(0)))
        .map_err(sql_error("reading the outbox"))
}

/// Keeps this workstation's version of a row as a conflict and takes the row's unpushed changes
/// out of the outbox: they live on in the conflict (which holds the row with all of them).
fn keep_as_conflict(
    write: &mut RecordedWrite<'_>,
    table: Table,
    row_id: &str,
    mine: &serde_json::Value,
    theirs: Option<&serde_json::Value>,
    reason: &str,
    server_version: Option<i64>,
) -> Result<()> {
    let stamp = write.stamp();
    let theirs_text = theirs
        .filter(|row| !row.is_null())
        .map(|row| row.to_string());
    let id = write.new_id();
    let local_change: Option<String> = write
        .query_row(
            "SELECT change_id FROM outbox WHERE table_name = ?1 AND row_id = ?2 AND pushed_at IS NULL ORDER BY seq DESC LIMIT 1",
            params![table.name(), row_id],
            |row| row.get(0),
        )
        .optional()
        .map_err(sql_error("reading the outbox"))?;
    write
        .execute(
            "INSERT INTO sync_conflicts (id, table_name, row_id, local_change_id, local_payload, server_payload, detected_at, reason, server_version)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                id,
                table.name(),
                row_id,
                local_change,
                mine.to_string(),
                theirs_text,
                stamp,
                reason,
                server_version
            ],
        )
        .map_err(sql_error("saving a conflict"))?;
    write
        .execute(
            "UPDATE outbox SET pushed_at = ?3, last_error = 'kept as a conflict', payload = '{}'
             WHERE table_name = ?1 AND row_id = ?2 AND pushed_at IS NULL",
            params![table.name(), row_id, stamp],
        )
        .map_err(sql_error("updating the outbox"))?;
    Ok(())
}

/// Makes the local row what the server holds: its version, or no row when the server refused a
/// new one (kept if other local rows still point at it).
fn take_server_side(
    write: &mut RecordedWrite<'_>,
    table: Table,
    row_id: &str,
    theirs: Option<&serde_json::Value>,
) -> Result<()> {
    match theirs.filter(|row| !row.is_null()) {
        Some(row) => put_server_row(write, table, row),
        None => {
            write
                .execute_batch("SAVEPOINT refused_row")
                .map_err(sql_error("removing a refused row"))?;
            let removed = write.execute(
                &format!("DELETE FROM {} WHERE id = ?1", table.name()),
                [row_id],
            );
            match removed {
                Ok(_) => {
                    write
                        .execute_batch("RELEASE refused_row")
                        .map_err(sql_error("removing a refused row"))?;
                    write.took_from_server(table, row_id);
                }
                Err(_) => {
                    // Other rows still refer to it (or it may not go): it stays, and the
                    // conflict says what the server refused.
                    write
                        .execute_batch("ROLLBACK TO refused_row; RELEASE refused_row")
                        .map_err(sql_error("removing a refused row"))?;
                }
            }
            Ok(())
        }
    }
}

fn conflict_from_row(
    row: &clinicdesk_store::rusqlite::Row<'_>,
) -> clinicdesk_store::rusqlite::Result<SyncConflict> {
    let mine: String = row.get(3)?;
    let theirs: Option<String> = row.get(4)?;
    Ok(SyncConflict {
        id: ConflictId::from_store(row.get(0)?),
        table: row.get(1)?,
        row_id: row.get(2)?,
        mine: serde_json::from_str(&mine).unwrap_or(serde_json::Value::Null),
        theirs: theirs
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or(serde_json::Value::Null),
        detected_at: row.get(5)?,
        reason: row.get(6)?,
        reason_code: String::new(),
        lost_its_time: false,
        subject: String::new(),
    })
}

/// Whose record a conflict is about, in words, from this workstation's version of it.
fn conflict_subject(connection: &Connection, table: &str, mine: &serde_json::Value) -> String {
    let text = |name: &str| mine.get(name).and_then(|v| v.as_str()).unwrap_or_default();
    let patient = |id: &str| -> Option<String> {
        connection
            .query_row(
                "SELECT given_name || ' ' || family_name || ' (MRN ' || mrn || ')' FROM patients WHERE id = ?1",
                [id],
                |row| row.get(0),
            )
            .optional()
            .ok()
            .flatten()
    };
    let provider = |id: &str| -> Option<String> {
        connection
            .query_row(
                "SELECT display_name FROM providers WHERE id = ?1",
                [id],
                |row| row.get(0),
            )
            .optional()
            .ok()
            .flatten()
    };
    let subject = match table {
        "appointments" => {
            patient(text("patient_id")).map(|who| match provider(text("provider_id")) {
                Some(with) => format!("{who} with {with}"),
                None => who,
            })
        }
        "patients" => patient(text("id"))
            .or_else(|| Some(format!("{} {}", text("given_name"), text("family_name")))),
        "providers" => Some(text("display_name").to_owned()),
        "users" => Some(text("username").to_owned()),
        _ => patient(text("patient_id")),
    };
    subject
        .filter(|words| !words.trim().is_empty())
        .unwrap_or_else(|| table.replace('_', " "))
}

/// The words for a conflict's reason.
fn reason_in_words(reason: &str) -> String {
    match reason {
        "stale" => "changed on another workstation first".to_owned(),
        "appointments_no_provider_double_booking" => {
            "the provider was booked at that time from another workstation".to_owned()
        }
        "appointments_no_patient_double_booking" | "double_booking" => {
            "the patient or provider was booked at that time from another workstation".to_owned()
        }
        "patients_clinic_id_mrn_key" => "another patient already has that MRN".to_owned(),
        "users_clinic_id_username_key" => "another account already has that username".to_owned(),
        other => format!(
            "the server refused it ({})",
            crate::validation::visible(other)
        ),
    }
}

impl Session {
    pub(crate) fn sync_state_value(&self, key: &str) -> Result<Option<String>> {
        state(self.connection()?, key)
    }

    /// Where this workstation syncs to, with its credentials (for the sync client only).
    pub fn sync_enrolment(&mut self) -> Result<SyncEnrolment> {
        self.authorize("sync.run", None, None)?;
        let connection = self.connection()?;
        let get = |key: &str| state(connection, key);
        match (
            get("server_url")?,
            get("workstation_role")?,
            get("workstation_password")?,
            get("certificate_sha256")?,
            get("clinic_id")?,
        ) {
            (Some(server_url), Some(workstation_role), Some(password), Some(fingerprint), Some(clinic_id)) => {
                Ok(SyncEnrolment {
                    server_url,
                    workstation_role,
                    workstation_password: Zeroizing::new(password),
                    certificate_sha256: fingerprint,
                    clinic_id,
                })
            }
            _ => Err(Error::new(
                ErrorCode::SyncNotEnrolled,
                "This workstation is not enrolled with a central server; an administrator enrols it with `clinicdesk sync enroll`",
            )),
        }
    }

    /// This store's clinic id, or `None` when the store holds no clinic records yet.
    pub fn store_clinic_id(&mut self) -> Result<String> {
        self.authorize("sync.enroll", Some(Permission::SyncManage), None)?;
        crate::recorded_write::clinic_id(self.connection()?)
    }

    /// Checks that an administrator may enrol this workstation, before the server is contacted.
    pub fn check_may_enrol(&mut self) -> Result<()> {
        self.authorize("sync.enroll", Some(Permission::SyncManage), None)?;
        if self.sync_state_value("server_url")?.is_some() {
            return Err(Error::conflict(
                "This workstation is already enrolled with a central server",
            ));
        }
        Ok(())
    }

    /// Saves the enrolment the server accepted (audited; the password is not in the entry).
    pub fn save_sync_enrolment(&mut self, enrolment: SyncEnrolment) -> Result<()> {
        self.authorize("sync.enroll", Some(Permission::SyncManage), None)?;
        let now = self.environment.now();
        self.write(|write| {
            for (key, value) in [
                ("server_url", enrolment.server_url.as_str()),
                ("workstation_role", enrolment.workstation_role.as_str()),
                (
                    "workstation_password",
                    enrolment.workstation_password.as_str(),
                ),
                ("certificate_sha256", enrolment.certificate_sha256.as_str()),
                ("clinic_id", enrolment.clinic_id.as_str()),
            ] {
                set_state(write, key, value, now)?;
            }
            // This workstation's audit chain goes to the server from its first entry.
            clear_state(write, "audit_pushed_seq")?;
            let entry = write.entry("sync.enroll").details(serde_json::json!({
                "server": enrolment.server_url,
                "workstation": enrolment.workstation_role,
                "certificate_sha256": enrolment.certificate_sha256,
            }));
            write.audit(entry)?;
            Ok(())
        })
    }

    /// Sync's state at a glance: any signed-in person may see it.
    pub fn sync_status(&mut self) -> Result<SyncStatus> {
        self.authorize("sync.status", None, None)?;
        let connection = self.connection()?;
        let audit_pushed: i64 = state(connection, "audit_pushed_seq")?
            .and_then(|seq| seq.parse().ok())
            .unwrap_or(0);
        let audit_head = count(connection, "SELECT coalesce(max(seq), 0) FROM audit_log")?;
        let error = match (
            state(connection, "last_error_code")?,
            state(connection, "last_error")?,
        ) {
            (Some(code), Some(message)) => Some(format!("{code}: {message}")),
            _ => None,
        };
        let enrolled = state(connection, "server_url")?;
        Ok(SyncStatus {
            workstation_role: state(connection, "workstation_role")?,
            pending_changes: count(
                connection,
                "SELECT count(*) FROM outbox WHERE pushed_at IS NULL",
            )?,
            pending_audit_entries: if enrolled.is_some() {
                (audit_head - audit_pushed).max(0)
            } else {
                0
            },
            open_conflicts: count(
                connection,
                "SELECT count(*) FROM sync_conflicts WHERE resolved_at IS NULL",
            )?,
            last_push_at: state(connection, "last_push_at")?,
            last_pull_at: state(connection, "last_pull_at")?,
            cursor: state(connection, "cursor")?
                .and_then(|seq| seq.parse().ok())
                .unwrap_or(0),
            last_error: error,
            last_error_code: state(connection, "last_error_code")?.and_then(|code| {
                ErrorCode::ALL
                    .into_iter()
                    .find(|known| known.as_str() == code)
            }),
            server_url: enrolled,
        })
    }

    /// The next batch to push: up to `max_changes` outbox rows in order, and the audit entries
    /// the server does not have yet (up to the same number).
    pub fn sync_outgoing(&mut self, max_changes: usize) -> Result<OutgoingBatch> {
        self.authorize("sync.run", None, None)?;
        // One read transaction: the outbox and the rows its changes read at push are one state
        // of the store, even while another process writes.
        let connection = self
            .connection()?
            .unchecked_transaction()
            .map_err(sql_error("reading the outbox"))?;
        let connection = &*connection;
        let limit = i64::try_from(max_changes).unwrap_or(i64::MAX);
        let mut statement = connection
            .prepare_cached(
                "SELECT change_id, table_name, row_id, operation, base_version, new_version, payload
                 FROM outbox WHERE pushed_at IS NULL ORDER BY seq LIMIT ?1",
            )
            .map_err(sql_error("reading the outbox"))?;
        let mut changes = statement
            .query_map([limit], |row| {
                let payload: String = row.get(6)?;
                Ok(OutgoingChange {
                    change_id: row.get(0)?,
                    table: row.get(1)?,
                    row_id: row.get(2)?,
                    operation: row.get(3)?,
                    base_version: row.get(4)?,
                    new_version: row.get(5)?,
                    payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
                })
            })
            .map_err(sql_error("reading the outbox"))?
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(sql_error("reading the outbox"))?;
        let mut row_sql_by_table = BTreeMap::new();
        for change in &mut changes {
            if change.payload.is_null() {
                change.payload = row_as_recorded(connection, &mut row_sql_by_table, change)?;
            }
        }
        let audit_pushed: i64 = state(connection, "audit_pushed_seq")?
            .and_then(|seq| seq.parse().ok())
            .unwrap_or(0);
        let mut statement = connection
            .prepare_cached("SELECT seq FROM audit_log WHERE seq > ?1 ORDER BY seq LIMIT ?2")
            .map_err(sql_error("reading the audit trail"))?;
        let seqs = statement
            .query_map(params![audit_pushed, limit], |row| row.get::<_, i64>(0))
            .map_err(sql_error("reading the audit trail"))?
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(sql_error("reading the audit trail"))?;
        let mut audit = Vec::with_capacity(seqs.len());
        for seq in seqs {
            audit.push(audit_row(connection, seq)?);
        }
        Ok(OutgoingBatch { changes, audit })
    }

    /// Records the server's answer to `batch`: acknowledged changes leave the outbox (the row stays
    /// as a record of what went, without its copy of the row, which the server now holds); a refused
    /// one becomes a conflict (this workstation's version kept for a person) and the row takes
    /// the server's version. Audited when anything became a conflict.
    pub fn sync_record_push(
        &mut self,
        batch: &OutgoingBatch,
        results: &[PushResult],
    ) -> Result<PushSummary> {
        self.authorize("sync.run", None, None)?;
        let now = self.environment.now();
        self.write(|write| {
            let stamp = write.stamp();
            let mut summary = PushSummary::default();
            let mut conflicted = Vec::new();
            if results.len() != batch.changes.len() {
                return Err(Error::new(
                    ErrorCode::ServerRefused,
                    "the server answered for a different number of changes than were sent; nothing was recorded",
                ));
            }
            for result in results {
                let Some(change) = batch
                    .changes
                    .iter()
                    .find(|change| change.change_id == result.change_id)
                else {
                    return Err(Error::new(
                        ErrorCode::ServerRefused,
                        "the server answered for a change this workstation did not send",
                    ));
                };
                match &result.outcome {
                    PushOutcome::Applied { .. } | PushOutcome::Duplicate { .. } => {
                        if matches!(result.outcome, PushOutcome::Applied { .. }) {
                            summary.applied += 1;
                        } else {
                            summary.already_applied += 1;
                        }
                        write
                            .execute(
                                "UPDATE outbox SET pushed_at = ?2, attempts = attempts + 1, last_error = NULL, payload = '{}'
                                 WHERE change_id = ?1 AND pushed_at IS NULL",
                                params![change.change_id, stamp],
                            )
                            .map_err(sql_error("updating the outbox"))?;
                    }
                    PushOutcome::Conflict {
                        reason,
                        server_version,
                        server_row,
                    } => {
                        let table = synced_table(&change.table)?;
                        let still_pending: bool = write
                            .query_row(
                                "SELECT EXISTS (SELECT 1 FROM outbox WHERE change_id = ?1 AND pushed_at IS NULL)",
                                [&change.change_id],
                                |row| row.get(0),
                            )
                            .map_err(sql_error("reading the outbox"))?;
                        if !still_pending {
                            continue;
                        }
                        let mine = row_json(write, table, &change.row_id)?;
                        let mine = if mine.is_null() { change.payload.clone() } else { mine };
                        keep_as_conflict(
                            write,
                            table,
                            &change.row_id,
                            &mine,
                            server_row.as_ref(),
                            reason,
                            *server_version,
                        )?;
                        summary.conflicts += 1;
                        conflicted.push(serde_json::json!({
                            "table": table.name(), "row_id": change.row_id, "reason": reason,
                        }));
                        take_server_side(write, table, &change.row_id, server_row.as_ref())?;
                    }
                }
            }
            if let Some(through) = batch.audit_through() {
                set_state(write, "audit_pushed_seq", &through.to_string(), now)?;
                summary.audit_entries = i64::try_from(batch.audit.len()).unwrap_or(i64::MAX);
            }
            set_state(write, "last_push_at", &stamp, now)?;
            clear_state(write, "last_error")?;
            clear_state(write, "last_error_code")?;
            if !conflicted.is_empty() {
                let entry = write
                    .entry("sync.conflict")
                    .details(serde_json::json!({ "pushed": conflicted }));
                write.audit(entry)?;
            }
            Ok(summary)
        })
    }

    /// The last change of the clinic's sequence this workstation has.
    pub fn sync_cursor(&mut self) -> Result<i64> {
        self.authorize("sync.run", None, None)?;
        Ok(self
            .sync_state_value("cursor")?
            .and_then(|seq| seq.parse().ok())
            .unwrap_or(0))
    }

    /// Applies pulled changes in one transaction with the cursor that passes them. A change to
    /// a row with unpushed local changes keeps the local version as a conflict and takes the
    /// server's; a row already at the change's version is left alone.
    pub fn sync_apply_pulled(&mut self, changes: &[PulledChange]) -> Result<PullSummary> {
        self.authorize("sync.run", None, None)?;
        let now = self.environment.now();
        let cursor_before = self.sync_cursor()?;
        let data_dir = self.data_dir.clone();
        self.write(|write| {
            write
                .execute_batch("PRAGMA defer_foreign_keys = ON")
                .map_err(sql_error("applying pulled changes"))?;
            let mut summary = PullSummary {
                cursor: cursor_before,
                ..PullSummary::default()
            };
            let mut conflicted = Vec::new();
            let mut stale_accounts = Vec::new();
            for change in changes {
                if change.seq <= summary.cursor {
                    return Err(Error::new(
                        ErrorCode::ServerRefused,
                        format!(
                            "the server sent change {} after {}: out of order; nothing was applied",
                            change.seq, summary.cursor
                        ),
                    ));
                }
                let table = synced_table(&change.table)?;
                let here = local_version(write, table, &change.row_id)?;
                if here.is_some_and(|version| version >= change.version) {
                    summary.already_here += 1;
                } else {
                    if has_unpushed_changes(write, table, &change.row_id)? {
                        let mine = row_json(write, table, &change.row_id)?;
                        keep_as_conflict(
                            write,
                            table,
                            &change.row_id,
                            &mine,
                            Some(&change.payload),
                            "stale",
                            Some(change.version),
                        )?;
                        summary.conflicts += 1;
                        conflicted.push(serde_json::json!({
                            "table": table.name(), "row_id": change.row_id, "reason": "stale",
                        }));
                    }
                    if table == Table::Appointments {
                        set_aside_clashing_bookings(
                            write,
                            &change.payload,
                            &mut conflicted,
                            &mut summary,
                        )?;
                    }
                    if table == Table::Users {
                        let before = row_json(write, table, &change.row_id)?;
                        stale_accounts.extend(account_made_slot_stale(&before, &change.payload));
                    }
                    put_server_row(write, table, &change.payload)?;
                    summary.applied += 1;
                }
                summary.cursor = change.seq;
            }
            remove_stale_slots(write, &data_dir, &stale_accounts)?;
            let stamp = write.stamp();
            set_state(write, "cursor", &summary.cursor.to_string(), now)?;
            set_state(write, "last_pull_at", &stamp, now)?;
            if summary.applied > 0 || summary.conflicts > 0 {
                let entry = write.entry("sync.pull").details(serde_json::json!({
                    "applied": summary.applied,
                    "through_seq": summary.cursor,
                    "conflicts": conflicted,
                }));
                write.audit(entry)?;
            }
            Ok(summary)
        })
    }

    /// The last entry of the other workstations' audit trails this workstation has.
    pub fn sync_remote_audit_cursor(&mut self) -> Result<i64> {
        self.authorize("sync.run", None, None)?;
        count(
            self.connection()?,
            "SELECT coalesce(max(received_seq), 0) FROM remote_audit_entries",
        )
    }

    /// Keeps entries of the other workstations' audit trails, for reading (audit review, access
    /// reports, lockouts across the clinic). An entry already here is left as it is.
    pub fn sync_apply_remote_audit(&mut self, entries: &[RemoteAuditEntry]) -> Result<usize> {
        self.authorize("sync.run", None, None)?;
        let transaction = self
            .connection()?
            .unchecked_transaction()
            .map_err(sql_error("keeping other workstations' audit entries"))?;
        let mut kept = 0;
        {
            let mut statement = transaction
                .prepare_cached(
                    "INSERT OR IGNORE INTO remote_audit_entries (received_seq, workstation_role, seq, id,
                        occurred_at, user_id, username, workstation, action, object_type, object_id,
                        patient_id, outcome, details)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                )
                .map_err(sql_error("keeping other workstations' audit entries"))?;
            for entry in entries {
                kept += statement
                    .execute(params![
                        entry.received_seq,
                        entry.workstation_role,
                        entry.seq,
                        entry.id,
                        entry.occurred_at,
                        entry.user_id,
                        entry.username,
                        entry.workstation,
                        entry.action,
                        entry.object_type,
                        entry.object_id,
                        entry.patient_id,
                        entry.outcome,
                        entry.details,
                    ])
                    .map_err(sql_error("keeping other workstations' audit entries"))?;
            }
        }
        transaction
            .commit()
            .map_err(sql_error("keeping other workstations' audit entries"))?;
        Ok(kept)
    }

    /// Notes a failed sync (shown by `sync status` until a sync succeeds).
    pub fn sync_record_failure(&mut self, error: &Error) -> Result<()> {
        self.authorize("sync.run", None, None)?;
        let now = self.environment.now();
        let connection = self.connection()?;
        set_state(connection, "last_error_code", error.code.as_str(), now)?;
        set_state(connection, "last_error", &error.message, now)?;
        Ok(())
    }

    /// The open conflicts of the tables this person may change.
    pub fn sync_conflicts(&mut self) -> Result<Vec<SyncConflict>> {
        self.authorize("sync.conflicts", None, None)?;
        let permissions = self.permissions().clone();
        let connection = self.connection()?;
        let mut statement = connection
            .prepare_cached(
                "SELECT id, table_name, row_id, local_payload, server_payload, detected_at, reason
                 FROM sync_conflicts WHERE resolved_at IS NULL ORDER BY detected_at, id",
            )
            .map_err(sql_error("reading the conflicts"))?;
        let conflicts = statement
            .query_map([], conflict_from_row)
            .map_err(sql_error("reading the conflicts"))?
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(sql_error("reading the conflicts"))?;
        Ok(conflicts
            .into_iter()
            .filter(|conflict| {
                Table::from_name(&conflict.table).is_some_and(|table| {
                    permissions.contains(&settling_permission(table, &permissions))
                })
            })
            .map(|mut conflict| {
                conflict.reason_code = conflict.reason.clone();
                conflict.lost_its_time =
                    conflict.table == "appointments" && conflict.reason_code != "stale";
                conflict.subject = conflict_subject(connection, &conflict.table, &conflict.mine);
                conflict.reason = reason_in_words(&conflict.reason);
                conflict
            })
            .collect())
    }

    /// For a booking that lost its time to another workstation: the provider's next free
    /// starts for the same length, from the booking's own time on (the clinic's local time,
    /// `YYYY-MM-DDTHH:MM`), at most `count`.
    pub fn conflict_free_slots(&mut self, id: &ConflictId, count: usize) -> Result<Vec<FreeSlot>> {
        self.authorize("sync.conflicts", Some(Permission::AppointmentsWrite), None)?;
        let mine: Option<String> = self
            .connection()?
            .query_row(
                "SELECT local_payload FROM sync_conflicts
                 WHERE id = ?1 AND resolved_at IS NULL AND table_name = 'appointments'",
                [id],
                |row| row.get(0),
            )
            .optional()
            .map_err(sql_error("reading the conflicts"))?;
        let mine: serde_json::Value = mine
            .as_deref()
            .and_then(|text| serde_json::from_str(text).ok())
            .ok_or_else(|| Error::not_found(format!("No open booking conflict {id}")))?;
        let time = |name: &str| {
            mine.get(name)
                .and_then(|v| v.as_str())
                .and_then(crate::environment::parse_timestamp)
                .ok_or_else(|| Error::unexpected("the kept booking has no time"))
        };
        let (starts, ends) = (time("starts_at")?, time("ends_at")?);
        let minutes = u32::try_from((ends - starts).num_minutes()).unwrap_or(0);
        let provider = crate::ids::ProviderId::from_store(
            mine.get("provider_id")
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned(),
        );
        let zone = self.zone()?;
        let from = starts.with_timezone(&zone).naive_local();
        let mut slots = Vec::new();
        for slot in self.next_free_slots(&provider, minutes, from, count)? {
            let starts_at = crate::scheduling::local_to_utc(
                zone,
                slot,
                crate::scheduling::RepeatedHour::First,
            )?;
            slots.push(FreeSlot {
                local: slot.format("%Y-%m-%dT%H:%M").to_string(),
                starts_at: format_timestamp(starts_at),
            });
        }
        Ok(slots)
    }

    /// The UTC start and end of a kept booking moved to `start` (local), same length.
    fn moved_booking_times(
        &mut self,
        table: Table,
        mine: &serde_json::Map<String, serde_json::Value>,
        start: &str,
    ) -> Result<(String, String)> {
        if table != Table::Appointments {
            return Err(Error::invalid_input(
                "only a booking can be moved to another time",
            ));
        }
        let time = |name: &str| {
            mine.get(name)
                .and_then(|v| v.as_str())
                .and_then(crate::environment::parse_timestamp)
                .ok_or_else(|| Error::unexpected("the kept booking has no time"))
        };
        let length = time("ends_at")? - time("starts_at")?;
        let local =
            crate::scheduling::parse_local_time(start).map_err(|error| error.for_field("start"))?;
        let zone = self.zone()?;
        let starts =
            crate::scheduling::local_to_utc(zone, local, crate::scheduling::RepeatedHour::First)?;
        Ok((format_timestamp(starts), format_timestamp(starts + length)))
    }

    /// Settles a conflict. Keeping this workstation's version (whole or some fields) is a new
    /// change on top of the server's version, pushed at the next sync; both ways are audited.
    pub fn resolve_sync_conflict(
        &mut self,
        id: &ConflictId,
        resolution: ConflictResolution,
    ) -> Result<()> {
        let conflict = {
            let connection = self.connection()?;
            connection
                .query_row(
                    "SELECT id, table_name, row_id, local_payload, server_payload, detected_at, reason
                     FROM sync_conflicts WHERE id = ?1 AND resolved_at IS NULL",
                    [id],
                    conflict_from_row,
                )
                .optional()
                .map_err(sql_error("reading the conflicts"))?
                .ok_or_else(|| Error::not_found(format!("No open conflict {id}")))?
        };
        let table = synced_table(&conflict.table)?;
        let permission = settling_permission(table, self.permissions());
        self.authorize("sync.resolve", Some(permission), None)?;
        let user_id = self.user().id.to_string();
        let mut mine = conflict.mine.as_object().cloned().unwrap_or_default();
        if let ConflictResolution::MoveTo(start) = &resolution {
            let (starts_at, ends_at) = self.moved_booking_times(table, &mine, start)?;
            mine.insert("starts_at".into(), starts_at.into());
            mine.insert("ends_at".into(), ends_at.into());
        }
        self.write(|write| {
            let stamp = write.stamp();
            let fields: Option<Vec<String>> = match &resolution {
                ConflictResolution::KeepTheirs => None,
                ConflictResolution::KeepMine | ConflictResolution::MoveTo(_) => Some(
                    mine.keys()
                        .filter(|name| !SYNC_COLUMNS.contains(&name.as_str()))
                        .cloned()
                        .collect(),
                ),
                ConflictResolution::FieldByField(fields) => {
                    for field in fields {
                        if !mine.contains_key(field) || SYNC_COLUMNS.contains(&field.as_str()) {
                            return Err(Error::invalid_field(
                                "fields",
                                format!(
                                    "{:?} is not a field of this record that can be kept",
                                    crate::validation::visible(field)
                                ),
                            ));
                        }
                    }
                    Some(fields.clone())
                }
            };
            if let Some(fields) = &fields {
                let current = row_json(write, table, &conflict.row_id)?;
                if current.is_null() {
                    // The server refused this row when it was new: it is offered again as new.
                    let mut row = mine.clone();
                    row.insert("version".into(), 1.into());
                    row.insert("created_at".into(), stamp.clone().into());
                    row.insert("updated_at".into(), stamp.clone().into());
                    row.insert("updated_by".into(), user_id.clone().into());
                    let row = serde_json::Value::Object(row);
                    let columns = checked_columns(write, table, &row)?;
                    let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
                    let placeholders: Vec<String> =
                        (1..=names.len()).map(|n| format!("?{n}")).collect();
                    let values: Vec<SqlValue> =
                        columns.iter().map(|(_, value)| sql_value(value)).collect();
                    write
                        .execute(
                            &format!(
                                "INSERT INTO {} ({}) VALUES ({})",
                                table.name(),
                                names.join(", "),
                                placeholders.join(", ")
                            ),
                            params_from_iter(values),
                        )
                        .map_err(sql_error("keeping this workstation's version"))?;
                    write.inserted(table, &conflict.row_id)?;
                } else if !fields.is_empty() {
                    let known = columns_of(write, table)?;
                    let mut assignments = Vec::new();
                    let mut values: Vec<SqlValue> = Vec::new();
                    for field in fields {
                        if !known.contains(field) {
                            continue;
                        }
                        values.push(sql_value(&mine[field]));
                        assignments.push(format!("{field} = ?{}", values.len()));
                    }
                    values.push(SqlValue::Text(stamp.clone()));
                    assignments.push(format!("updated_at = ?{}", values.len()));
                    values.push(SqlValue::Text(user_id.clone()));
                    assignments.push(format!("updated_by = ?{}", values.len()));
                    values.push(SqlValue::Text(conflict.row_id.clone()));
                    let id_parameter = values.len();
                    write
                        .execute(
                            &format!(
                                "UPDATE {} SET {}, version = version + 1 WHERE id = ?{id_parameter}",
                                table.name(),
                                assignments.join(", ")
                            ),
                            params_from_iter(values),
                        )
                        .map_err(sql_error("keeping this workstation's version"))?;
                    write.updated(table, &conflict.row_id)?;
                }
            }
            let resolution_code = match &resolution {
                ConflictResolution::KeepMine => "kept_local",
                ConflictResolution::KeepTheirs => "kept_server",
                ConflictResolution::FieldByField(_) => "merged",
                // Stored as this workstation's version kept (at another time, in the entry).
                ConflictResolution::MoveTo(_) => "kept_local",
            };
            write
                .execute(
                    "UPDATE sync_conflicts SET resolved_at = ?2, resolved_by = ?3, resolution = ?4 WHERE id = ?1",
                    params![conflict.id, stamp, user_id, resolution_code],
                )
                .map_err(sql_error("saving the resolution"))?;
            let after = row_json(write, table, &conflict.row_id)?;
            let entry = write
                .entry("sync.resolve")
                .object(table.name(), &conflict.row_id)
                .details(serde_json::json!({
                    "conflict": conflict.id,
                    "resolution": resolution_code,
                    "moved_to": match &resolution {
                        ConflictResolution::MoveTo(start) => Some(start),
                        _ => None,
                    },
                    "fields": fields,
                    "mine": conflict.mine,
                    "theirs": conflict.theirs,
                    "after": after,
                }));
            write.audit(entry)?;
            Ok(())
        })
    }
}

/// A pulled booking the local double-booking rule would refuse: the clashing local bookings
/// that never reached the server are set aside as conflicts (the server's booking holds the
/// slot), so the pull goes on.
fn set_aside_clashing_bookings(
    write: &mut RecordedWrite<'_>,
    pulled: &serde_json::Value,
    conflicted: &mut Vec<serde_json::Value>,
    summary: &mut PullSummary,
) -> Result<()> {
    let text = |name: &str| {
        pulled
            .get(name)
            .and_then(|value| value.as_str())
            .unwrap_or("")
    };
    if text("status") == "cancelled" || !pulled.get("deleted_at").is_none_or(|v| v.is_null()) {
        return Ok(());
    }
    // Driven by this workstation's unpushed changes (few), never by the whole schedule.
    let mut statement = write
        .prepare_cached(
            "SELECT DISTINCT a.id FROM outbox o JOIN appointments a ON a.id = o.row_id
             WHERE o.pushed_at IS NULL AND o.table_name = 'appointments'
               AND a.id <> ?1 AND a.status <> 'cancelled' AND a.deleted_at IS NULL
               AND (a.provider_id = ?2 OR a.patient_id = ?3)
               AND a.starts_at < ?5 AND a.ends_at > ?4
               AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.table_name = 'appointments'
                               AND p.row_id = a.id AND p.pushed_at IS NOT NULL)",
        )
        .map_err(sql_error("reading the schedule"))?;
    let clashing: Vec<String> = statement
        .query_map(
            params![
                text("id"),
                text("provider_id"),
                text("patient_id"),
                text("starts_at"),
                text("ends_at")
            ],
            |row| row.get(0),
        )
        .map_err(sql_error("reading the schedule"))?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(sql_error("reading the schedule"))?;
    drop(statement);
    for id in clashing {
        let mine = row_json(write, Table::Appointments, &id)?;
        let reason = "double_booking";
        keep_as_conflict(write, Table::Appointments, &id, &mine, None, reason, None)?;
        summary.conflicts += 1;
        conflicted.push(serde_json::json!({
            "table": "appointments", "row_id": id, "reason": reason,
        }));
        take_server_side(write, Table::Appointments, &id, None)?;
    }
    Ok(())
}

/// The payload of an outbox row that holds no copy of its row: the row as the store holds it is
/// what goes to the server. Every change is recorded so (the write path's and the demo-data
/// generator's; a copy of each nearly doubled a generated store); the triggers of
/// [`ensure_outbox_payload_triggers`] copy the row into the payload just before the row is
/// updated or deleted, so the pushed change is always the row as it was when recorded.
pub(crate) const PAYLOAD_READ_AT_PUSH: &str = "null";

/// Makes every synced table's two copy-before-change triggers (before an update and before a
/// delete) list exactly its columns, inside the caller's transaction: each copies the row as it
/// is into any outbox change of it that holds no copy ([`PAYLOAD_READ_AT_PUSH`]), so that change
/// still pushes the row as it was recorded. Returns how many triggers were written anew.
pub(crate) fn ensure_outbox_payload_triggers(connection: &Connection) -> Result<usize> {
    let mut written = 0;
    for spec in crate::tables::synced_tables() {
        let table = synced_table(spec.name)?;
        let row_before = columns_of(connection, table)?
            .iter()
            .map(|column| format!("        '{column}', OLD.{column}"))
            .collect::<Vec<_>>()
            .join(",\n");
        for (operation, event) in [("update", "UPDATE"), ("delete", "DELETE")] {
            let name = format!("{}_outbox_payload_before_{operation}", spec.name);
            let sql = format!(
                "CREATE TRIGGER {name}\nBEFORE {event} ON {table}\nBEGIN\n    UPDATE outbox SET payload = json_object(\n{row_before})\n    WHERE table_name = '{table}' AND row_id = OLD.id AND pushed_at IS NULL AND payload = '{PAYLOAD_READ_AT_PUSH}';\nEND",
                table = spec.name,
            );
            written += usize::from(crate::store_schema::write_trigger(connection, &name, &sql)?);
        }
    }
    Ok(written)
}

/// Where a bulk load (the demo-data generator) stands in recording its rows for sync: per synced
/// table, the last rowid that has its outbox row. The load writes rows without the write path,
/// appended to each table, and records them in the same transaction as the rows
/// ([`BulkOutbox::record_new_rows`]), so a load that stops halfway leaves no row unrecorded. Only
/// the load's own rows are recorded (created at its `stamp`, without an outbox row): not a row
/// someone wrote meanwhile through the write path (it has its outbox row), nor one pulled from the
/// central server (which has it).
pub(crate) struct BulkOutbox {
    recorded_through: Vec<(Table, i64)>,
    /// The first 19 characters of a UUIDv7 made when the load started (its time and random
    /// bits); each change id continues it with a count, so the ids are unique and ascend, and
    /// each new one is appended to the outbox's change-id index.
    change_id_prefix: String,
    next_change_number: i64,
    stamp: String,
    user_id: String,
}

impl BulkOutbox {
    /// Starts at the rows the tables hold now (they were recorded by the write path).
    pub(crate) fn start(
        connection: &Connection,
        environment: &crate::environment::Environment,
        stamp: &str,
        user_id: &str,
    ) -> Result<BulkOutbox> {
        let recorded_through = last_rowid_of_each_synced_table(connection)?;
        let first = environment.new_id().as_u128();
        Ok(BulkOutbox {
            recorded_through,
            change_id_prefix: environment.new_id().to_string()[..19].to_owned(),
            // 52 random bits to start from leave room for 2^59 changes in the 15 hex digits.
            next_change_number: (first & ((1 << 52) - 1)) as i64,
            stamp: stamp.to_owned(),
            user_id: user_id.to_owned(),
        })
    }

    /// Writes an outbox row (an insert) for every row appended to a synced table since the last
    /// call, in table order (parents first) and row order, so the central server receives them
    /// like any other change. Its payload is [`PAYLOAD_READ_AT_PUSH`]: the row is read when it is
    /// pushed (or copied just before it changes, by [`ensure_outbox_payload_triggers`]). Returns how
    /// many were recorded.
    pub(crate) fn record_new_rows(&mut self, connection: &Connection) -> Result<i64> {
        let mut recorded = 0;
        for (table, through) in &mut self.recorded_through {
            let count = connection
                .execute(
                    &format!(
                        "INSERT INTO outbox (change_id, table_name, row_id, operation, base_version, new_version, payload, created_at, created_by)
                         SELECT ?1 || '8' || substr(n, 1, 3) || '-' || substr(n, 4, 12), '{table}', id, 'insert', NULL, version, '{PAYLOAD_READ_AT_PUSH}', ?2, ?3
                         FROM (SELECT printf('%015x', ?4 + row_number() OVER (ORDER BY t.rowid)) AS n, *
                               FROM {table} t WHERE t.rowid > ?5 AND t.created_at = ?2
                                 AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.table_name = '{table}' AND o.row_id = t.id)
                               ORDER BY t.rowid)",
                        table = table.name(),
                    ),
                    params![
                        self.change_id_prefix,
                        self.stamp,
                        self.user_id,
                        self.next_change_number,
                        *through
                    ],
                )
                .map_err(sql_error("recording loaded rows for sync"))? as i64;
            if count > 0 {
                *through = connection
                    .query_row(
                        &format!("SELECT max(rowid) FROM {}", table.name()),
                        [],
                        |row| row.get(0),
                    )
                    .map_err(sql_error("recording loaded rows for sync"))?;
                self.next_change_number += count;
                recorded += count;
            }
        }
        Ok(recorded)
    }
}

/// The row of an outbox change recorded without a copy ([`PAYLOAD_READ_AT_PUSH`]), as the store
/// holds it: the same JSON object a copy made when the change was recorded would be. The row is
/// unchanged since (a change would have copied it first), which its version confirms.
/// `row_sql_by_table` keeps each table's query for the rest of the batch.
fn row_as_recorded(
    connection: &Connection,
    row_sql_by_table: &mut BTreeMap<String, String>,
    change: &OutgoingChange,
) -> Result<serde_json::Value> {
    let table = synced_table(&change.table)?;
    if !row_sql_by_table.contains_key(&change.table) {
        let object: Vec<String> = columns_of(connection, table)?
            .iter()
            .map(|column| format!("'{column}', {column}"))
            .collect();
        row_sql_by_table.insert(
            change.table.clone(),
            format!(
                "SELECT json_object({}), version FROM {} WHERE id = ?1",
                object.join(", "),
                table.name()
            ),
        );
    }
    let row: Option<(String, i64)> = connection
        .prepare_cached(&row_sql_by_table[&change.table])
        .and_then(|mut statement| {
            statement
                .query_row([&change.row_id], |row| Ok((row.get(0)?, row.get(1)?)))
                .optional()
        })
        .map_err(sql_error("reading a row to push"))?;
    match row {
        Some((json, version)) if version == change.new_version => serde_json::from_str(&json)
            .map_err(|error| Error::unexpected(format!("reading a row to push: {error}"))),
        found => Err(Error::unexpected(format!(
            "the outbox change {} of {} row {} holds no copy of the row, and the row is {}; nothing was pushed",
            change.change_id,
            change.table,
            change.row_id,
            match found {
                Some((_, version)) => format!("at version {version}, not {}", change.new_version),
                None => "gone".to_owned(),
            }
        ))),
    }
}

/// Each synced table with the last rowid it holds (0 when empty): where a bulk load, which only
/// appends, starts.
pub(crate) fn last_rowid_of_each_synced_table(
    connection: &Connection,
) -> Result<Vec<(Table, i64)>> {
    crate::tables::synced_tables()
        .map(|spec| {
            let table = Table::from_name(spec.name).expect("synced tables are writable");
            let last: i64 = connection
                .query_row(
                    &format!("SELECT coalesce(max(rowid), 0) FROM {}", table.name()),
                    [],
                    |row| row.get(0),
                )
                .map_err(sql_error("reading where the load starts"))?;
            Ok((table, last))
        })
        .collect()
}

/// Forgets where this store synced to (a store restored onto a new workstation): the new
/// workstation enrols with a code of its own, and pushes its audit trail from the start.
pub(crate) fn forget_enrolment(connection: &Connection) -> Result<()> {
    connection
        .execute(
            "DELETE FROM sync_state WHERE key IN ('server_url', 'workstation_role', 'workstation_password',
                'certificate_sha256', 'clinic_id', 'audit_pushed_seq', 'last_error', 'last_error_code',
                'sign_in_ready')",
            [],
        )
        .map_err(sql_error("forgetting the sync enrolment"))?;
    Ok(())
}

fn audit_row(connection: &Connection, seq: i64) -> Result<serde_json::Value> {
    connection
        .query_row(
            "SELECT seq, id, occurred_at, user_id, username, workstation, action, object_type,
                    object_id, patient_id, outcome, details, prev_hash, entry_hash
             FROM audit_log WHERE seq = ?1",
            [seq],
            |row| {
                Ok(serde_json::json!({
                    "seq": row.get::<_, i64>(0)?,
                    "id": row.get::<_, String>(1)?,
                    "occurred_at": row.get::<_, String>(2)?,
                    "user_id": row.get::<_, Option<String>>(3)?,
                    "username": row.get::<_, Option<String>>(4)?,
                    "workstation": row.get::<_, String>(5)?,
                    "action": row.get::<_, String>(6)?,
                    "object_type": row.get::<_, Option<String>>(7)?,
                    "object_id": row.get::<_, Option<String>>(8)?,
                    "patient_id": row.get::<_, Option<String>>(9)?,
                    "outcome": row.get::<_, String>(10)?,
                    "details": row.get::<_, String>(11)?,
                    "prev_hash": row.get::<_, String>(12)?,
                    "entry_hash": row.get::<_, String>(13)?,
                }))
            },
        )
        .map_err(sql_error("reading the audit trail"))
}

/// The rows of every synced table, as JSON objects by table and id: what a converged workstation
/// and the server must agree on (tests and the convergence check).
pub fn synced_rows_of(
    session: &Session,
) -> Result<BTreeMap<String, BTreeMap<String, serde_json::Value>>> {
    let connection = session.connection()?;
    let mut all = BTreeMap::new();
    for table in Table::ALL {
        if !table.spec().syncs_through_outbox() {
            continue;
        }
        let mut statement = connection
            .prepare(&format!("SELECT id FROM {}", table.name()))
            .map_err(sql_error("reading rows"))?;
        let ids = statement
            .query_map([], |row| row.get::<_, String>(0))
            .map_err(sql_error("reading rows"))?
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(sql_error("reading rows"))?;
        let mut rows = BTreeMap::new();
        for id in ids {
            rows.insert(id.clone(), row_json(connection, table, &id)?);
        }
        all.insert(table.name().to_owned(), rows);
    }
    Ok(all)
}
