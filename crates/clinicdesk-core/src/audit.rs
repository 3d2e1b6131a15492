//! The tamper-evident audit trail: append inside the caller's transaction, verify, list, export.
//!
//! Each entry's hash is SHA-256 over the previous entry's hash and the entry's fields (each
//! length-prefixed, so no two different entries encode alike). The chain head (last sequence
//! number and hash) is kept in `audit_chain_head`, moved by trigger, so deleting the newest
//! entries is caught as well as editing, deleting or reordering older ones.

use chrono::{DateTime, Utc};
use clinicdesk_error::{Error, Result};
use clinicdesk_store::rusqlite::{self, params, Connection, OptionalExtension};
use clinicdesk_store::sql_error;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::environment::{format_timestamp, Environment};

/// The hash the first entry chains from.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// How an audited attempt ended.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditOutcome {
    Success,
    Denied,
    Failure,
}

impl AuditOutcome {
    pub fn code(self) -> &'static str {
        match self {
            AuditOutcome::Success => "success",
            AuditOutcome::Denied => "denied",
            AuditOutcome::Failure => "failure",
        }
    }
}

/// Who did it; `None` fields for events before anyone is known (a failed login of an unknown name).
#[derive(Debug, Clone, Default)]
pub struct AuditActor {
    pub user_id: Option<String>,
    pub username: Option<String>,
}

/// An entry about to be appended.
#[derive(Debug, Clone)]
pub struct NewAuditEntry {
    pub occurred_at: DateTime<Utc>,
    pub actor: AuditActor,
    pub action: String,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    pub patient_id: Option<String>,
    pub outcome: AuditOutcome,
    pub details: serde_json::Value,
    /// Where it happened, when not this workstation (failed logins reported later).
    pub workstation: Option<String>,
}

impl NewAuditEntry {
    pub fn new(
        occurred_at: DateTime<Utc>,
        actor: AuditActor,
        action: &str,
        outcome: AuditOutcome,
    ) -> NewAuditEntry {
        NewAuditEntry {
            occurred_at,
            actor,
            action: action.to_owned(),
            object_type: None,
            object_id: None,
            patient_id: None,
            outcome,
            details: serde_json::json!({}),
            workstation: None,
        }
    }

    pub fn outcome(mut self, outcome: AuditOutcome) -> NewAuditEntry {
        self.outcome = outcome;
        self
    }

    pub fn workstation(mut self, workstation: &str) -> NewAuditEntry {
        self.workstation = Some(workstation.to_owned());
        self
    }

    pub fn object(mut self, object_type: &str, object_id: impl AsRef<str>) -> NewAuditEntry {
        self.object_type = Some(object_type.to_owned());
        self.object_id = Some(object_id.as_ref().to_owned());
        self
    }

    pub fn patient(mut self, patient_id: impl AsRef<str>) -> NewAuditEntry {
        self.patient_id = Some(patient_id.as_ref().to_owned());
        self
    }

    /// Sets the entry's details; a password verifier in them (a user's row before and after)
    /// is written as `"(changed)"` or `"(unchanged)"`, never as itself.
    pub fn details(mut self, mut details: serde_json::Value) -> NewAuditEntry {
        hide_password_verifiers(&mut details);
        self.details = details;
        self
    }
}

/// Replaces every `password_verifier` value in `details` by what changed about it.
fn hide_password_verifiers(details: &mut serde_json::Value) {
    let before = details
        .pointer("/before/password_verifier")
        .cloned()
        .unwrap_or_default();
    let after = details
        .pointer("/after/password_verifier")
        .cloned()
        .unwrap_or_default();
    let changed = before != after;
    fn hide(value: &mut serde_json::Value, changed: bool) {
        match value {
            serde_json::Value::Object(object) => {
                for (key, inner) in object.iter_mut() {
                    if key == "password_verifier" {
                        if !inner.is_null() {
                            *inner = if changed { "(changed)" } else { "(unchanged)" }.into();
                        }
                    } else {
                        hide(inner, changed);
                    }
                }
            }
            serde_json::Value::Array(items) => {
                items.iter_mut().for_each(|item| hide(item, changed))
            }
            _ => {}
        }
    }
    hide(details, changed);
}

/// A stored entry, as listed and exported.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
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
    pub prev_hash: String,
    pub entry_hash: String,
    /// Recorded on another workstation of the clinic (known here as of the last sync; its
    /// chain is that workstation's, verified by `server audit verify`).
    #[serde(default)]
    pub from_other_workstation: bool,
    /// The action in words, for people (the code stays in `action`).
    #[serde(default)]
    pub action_in_words: String,
    /// The patient concerned, by name and MRN (for roles that read the whole trail).
    #[serde(default)]
    pub patient: Option<String>,
}

/// An audit action in words: "chart.open" is "opened a chart".
pub fn action_in_words(action: &str) -> String {
    let known = match action {
        "login.success" => "signed in",
        "login.failure" => "failed to sign in",
        "login.lockout" => "account locked after failed sign-ins",
        "login.first_on_workstation" => {
            "signed in here for the first time (checked by the central server)"
        }
        "logoff.manual" => "signed off",
        "logoff.idle" => "signed off after inactivity",
        "chart.open" => "opened the chart",
        "vitals.read" => "read vital signs",
        "vitals.record" => "recorded vital signs",
        "vitals.mark_in_error" => "marked a vital sign entered in error",
        "notes.read" => "read notes",
        "note.create" => "wrote a note",
        "note.addendum" => "added an addendum",
        "note.mark_in_error" => "marked a note entered in error",
        "allergies.state_read" => "saw whether a patient has allergies",
        "allergies.read" => "read allergies",
        "allergy.record" => "recorded an allergy",
        "allergy.update" => "changed an allergy",
        "allergy.mark_in_error" => "marked an allergy entered in error",
        "allergies.no_known_confirm" => "confirmed no known allergies",
        "allergies.no_known_withdrawn" => "withdrew \"no known allergies\"",
        "medications.read" => "read medications",
        "medication.record" => "recorded a medication",
        "medication.update" => "changed a medication",
        "medication.mark_in_error" => "marked a medication entered in error",
        "medications.review" => "reviewed the medication list",
        "problems.read" => "read problems",
        "problem.record" => "recorded a problem",
        "problem.update" => "changed a problem",
        "problem.mark_in_error" => "marked a problem entered in error",
        "patient.create" => "registered a patient",
        "patient.update" => "changed patient details",
        "patient.delete" => "deleted a patient record",
        "patient.merge" => "merged two patient records",
        "patient.unmerge" => "undid a merge",
        "patient.restrict" => "changed who may open a chart",
        "patients.search" => "searched for patients",
        "appointment.book" => "booked an appointment",
        "appointment.reschedule" => "moved an appointment",
        "appointment.status" => "changed an appointment's status",
        "emergency.access" => "opened a restricted chart in an emergency",
        "emergency.review" => "reviewed an emergency access",
        "permission.denied" => "was refused",
        "user.create" => "added a user",
        "user.disable" => "disabled a user",
        "user.enable" => "enabled a user",
        "user.role_change" => "changed a user's role",
        "user.password_reset" => "reset a user's password",
        "user.password_change" => "changed their password",
        "recovery.password_reset" => "reset an administrator's password with the recovery key",
        "security.key_slot_removed" => {
            "removed a key slot (the account changed on another workstation)"
        }
        "security.keyslot_rollback" => "found an older key-slot file",
        "settings.change" => "changed settings",
        "settings.clinic_locale" => "changed how the clinic writes dates and numbers",
        "key.rotate" => "rotated the database key",
        "backup.create" => "made a backup",
        "backup.verify" => "verified a backup",
        "backup.restore" => "restored a backup",
        "backup.prune" => "removed old backups",
        "backup.settings_change" => "changed backup settings",
        "audit.export" => "exported the audit trail",
        "audit.access_report" => "viewed a patient's access report",
        "store.init" => "created the clinic's store",
        "store.check" => "checked the whole store",
        "sync.pull" => "received changes from the central server",
        "sync.conflict" => "found sync conflicts",
        "sync.resolve" => "settled a sync conflict",
        "sync.enroll" => "connected this workstation to the central server",
        "sync.sign_in_prepared" => "prepared first sign-ins on this workstation",
        "demo_data.generate" => "loaded demo data",
        "update.settings_change" => "changed the update address",
        "records.export" => "exported the clinic's records",
        "records.export_patient" => "exported a patient's chart",
        "records.import" => "imported records from another system",
        "update.refused" => "refused an update",
        "update.install" => "installed an update",
        _ => "",
    };
    if known.is_empty() {
        action.replace(['.', '_'], " ")
    } else {
        known.to_owned()
    }
}

impl AuditEntry {
    /// The entry's hash from its fields and the hash before it (the chain's rule, also checked by
    /// the central server's `server audit verify`).
    pub fn computed_hash(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(b"clinicdesk-audit-v1");
        hasher.update(self.prev_hash.as_bytes());
        let seq = self.seq.to_string();
        let fields: [Option<&str>; 12] = [
            Some(&seq),
            Some(&self.id),
            Some(&self.occurred_at),
            self.user_id.as_deref(),
            self.username.as_deref(),
            Some(&self.workstation),
            Some(&self.action),
            self.object_type.as_deref(),
            self.object_id.as_deref(),
            self.patient_id.as_deref(),
            Some(&self.outcome),
            Some(&self.details),
        ];
        for field in fields {
            match field {
                Some(text) => {
                    hasher.update((text.len() as u32).to_be_bytes());
                    hasher.update(text.as_bytes());
                }
                None => hasher.update(u32::MAX.to_be_bytes()),
            }
        }
        hex::encode(hasher.finalize())
    }

    pub(crate) fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<AuditEntry> {
        Self::read(row, false)
    }

    /// An entry of `remote_audit_entries`: another workstation's, without its chain's hashes.
    fn from_remote_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<AuditEntry> {
        Self::read(row, true)
    }

    fn read(row: &rusqlite::Row<'_>, from_other_workstation: bool) -> rusqlite::Result<AuditEntry> {
        let hash = |name: &str| -> rusqlite::Result<String> {
            if from_other_workstation {
                Ok(String::new())
            } else {
                row.get(name)
            }
        };
        Ok(AuditEntry {
            seq: row.get("seq")?,
            id: row.get("id")?,
            occurred_at: row.get("occurred_at")?,
            user_id: row.get("user_id")?,
            username: row.get("username")?,
            workstation: row.get("workstation")?,
            action: row.get("action")?,
            object_type: row.get("object_type")?,
            object_id: row.get("object_id")?,
            patient_id: row.get("patient_id")?,
            outcome: row.get("outcome")?,
            details: row.get("details")?,
            prev_hash: hash("prev_hash")?,
            entry_hash: hash("entry_hash")?,
            from_other_workstation,
            action_in_words: String::new(),
            patient: None,
        })
    }
}

/// Appends `entry` inside the caller's open transaction (the same one as the change it records).
pub(crate) fn append(
    connection: &Connection,
    environment: &Environment,
    entry: NewAuditEntry,
) -> Result<i64> {
    let (head_seq, head_hash): (i64, String) = connection
        .query_row(
            "SELECT seq, entry_hash FROM audit_chain_head WHERE singleton = 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .map_err(sql_error("reading the audit chain head"))?;
    let mut stored = AuditEntry {
        seq: head_seq + 1,
        id: environment.new_id().to_string(),
        occurred_at: format_timestamp(entry.occurred_at),
        user_id: entry.actor.user_id,
        username: entry.actor.username,
        workstation: entry
            .workstation
            .unwrap_or_else(|| environment.workstation.clone()),
        action: entry.action,
        object_type: entry.object_type,
        object_id: entry.object_id,
        patient_id: entry.patient_id,
        outcome: entry.outcome.code().to_owned(),
        details: entry.details.to_string(),
        prev_hash: head_hash,
        entry_hash: String::new(),
        from_other_workstation: false,
        action_in_words: String::new(),
        patient: None,
    };
    stored.entry_hash = stored.computed_hash();
    connection
        .execute(
            "INSERT INTO audit_log (seq, id, occurred_at, user_id, username, workstation, action,
                object_type, object_id, patient_id, outcome, details, prev_hash, entry_hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            params![
                stored.seq,
                stored.id,
                stored.occurred_at,
                stored.user_id,
                stored.username,
                stored.workstation,
                stored.action,
                stored.object_type,
                stored.object_id,
                stored.patient_id,
                stored.outcome,
                stored.details,
                stored.prev_hash,
                stored.entry_hash
            ],
        )
        .map_err(sql_error("writing the audit entry"))?;
    Ok(stored.seq)
}

/// The result of a successful verification.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditVerification {
    pub entries: i64,
    pub head_hash: String,
}

/// Walks the whole chain. The error names the first bad entry and what is wrong with it.
pub(crate) fn verify_chain(connection: &Connection) -> Result<AuditVerification> {
    let (head_seq, head_hash): (i64, String) = connection
        .query_row(
            "SELECT seq, entry_hash FROM audit_chain_head WHERE singleton = 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
        .map_err(sql_error("reading the audit chain head"))?
        .ok_or_else(|| {
            Error::integrity("the audit chain head is missing: the audit trail was tampered with")
        })?;
    let mut statement = connection
        .prepare("SELECT * FROM audit_log ORDER BY seq")
        .map_err(sql_error("reading the audit trail"))?;
    let mut rows = statement
        .query([])
        .map_err(sql_error("reading the audit trail"))?;
    let mut expected_seq = 1i64;
    let mut previous_hash = GENESIS_HASH.to_owned();
    while let Some(row) = rows.next().map_err(sql_error("reading the audit trail"))? {
        let entry = AuditEntry::from_row(row).map_err(sql_error("reading the audit trail"))?;
        let fail = |why: &str| {
            Err(Error::integrity(format!(
                "audit trail tampered: first bad entry is #{} ({} at {}): {why}",
                entry.seq, entry.action, entry.occurred_at
            )))
        };
        if entry.seq != expected_seq {
            return fail(&format!(
                "expected entry #{expected_seq} here; entries are missing or reordered"
            ));
        }
        if entry.prev_hash != previous_hash {
            return fail(
                "it does not chain from the entry before it (an entry was removed or reordered)",
            );
        }
        if entry.computed_hash() != entry.entry_hash {
            return fail("its content does not match its hash (it was edited)");
        }
        previous_hash = entry.entry_hash;
        expected_seq += 1;
    }
    let entries = expected_seq - 1;
    if entries != head_seq || previous_hash != head_hash {
        return Err(Error::integrity(format!(
            "audit trail tampered: the chain head says {head_seq} entries but the trail ends at #{entries}; the newest entries were cut off (first bad entry: #{})",
            entries + 1
        )));
    }
    Ok(AuditVerification { entries, head_hash })
}

/// A page of the trail as a role may see it.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditListing {
    pub entries: Vec<AuditEntry>,
    /// True when the role sees security events only (administrators).
    pub security_events_only: bool,
    /// Entries that match the filter but are not shown to this role (their numbers are the
    /// gaps in the sequence): said, never left unexplained.
    pub hidden_from_your_role: i64,
}

/// Filters for listing the trail; all are optional and combine with AND.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AuditFilter {
    pub username: Option<String>,
    pub patient_id: Option<crate::ids::PatientId>,
    /// An exact action (`login.failure`) or a prefix ending in `.` (`login.`).
    pub action: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub limit: Option<u32>,
}

/// Action families an administrator (security events only) may read.
pub const SECURITY_ACTION_FAMILIES: &[&str] = &[
    "login",
    "logoff",
    "session",
    "user",
    "settings",
    "key",
    "store",
    "audit",
    "backup",
    "restore",
    "recovery",
    "security",
    "permission",
];

/// The WHERE clause (and its values) of `filter`, within the role's scope.
fn filter_clause(
    filter: &AuditFilter,
    security_only: bool,
) -> (String, Vec<rusqlite::types::Value>) {
    let mut sql = String::from("WHERE 1 = 1");
    let mut values: Vec<rusqlite::types::Value> = Vec::new();
    if let Some(username) = &filter.username {
        values.push(username.to_lowercase().into());
        sql.push_str(&format!(" AND username = ?{}", values.len()));
    }
    if let Some(patient_id) = &filter.patient_id {
        values.push(patient_id.to_string().into());
        sql.push_str(&format!(" AND patient_id = ?{}", values.len()));
    }
    if let Some(action) = &filter.action {
        if let Some(prefix) = action.strip_suffix('.') {
            values.push(format!("{prefix}.*").into());
            sql.push_str(&format!(" AND action GLOB ?{}", values.len()));
        } else {
            values.push(action.clone().into());
            sql.push_str(&format!(" AND action = ?{}", values.len()));
        }
    }
    if let Some(from) = filter.from {
        values.push(format_timestamp(from).into());
        sql.push_str(&format!(" AND occurred_at >= ?{}", values.len()));
    }
    if let Some(to) = filter.to {
        values.push(format_timestamp(to).into());
        sql.push_str(&format!(" AND occurred_at < ?{}", values.len()));
    }
    if security_only {
        let families: Vec<String> = SECURITY_ACTION_FAMILIES
            .iter()
            .map(|family| format!("'{family}'"))
            .collect();
        sql.push_str(&format!(
            " AND substr(action, 1, instr(action, '.') - 1) IN ({}) AND patient_id IS NULL",
            families.join(", ")
        ));
    }
    (sql, values)
}

pub(crate) fn list(
    connection: &Connection,
    filter: &AuditFilter,
    security_only: bool,
) -> Result<Vec<AuditEntry>> {
    check_filter(filter)?;
    let (clause, values) = filter_clause(filter, security_only);
    let limit = filter.limit.unwrap_or(1000).min(100_000);
    let read = |sql: String,
                from_row: fn(&rusqlite::Row<'_>) -> rusqlite::Result<AuditEntry>|
     -> Result<Vec<AuditEntry>> {
        let mut statement = connection
            .prepare(&sql)
            .map_err(sql_error("listing the audit trail"))?;
        let rows = statement
            .query_map(rusqlite::params_from_iter(values.iter()), from_row)
            .map_err(sql_error("listing the audit trail"))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(sql_error("listing the audit trail"))
    };
    let mut entries = read(
        format!("SELECT * FROM audit_log {clause} ORDER BY seq DESC LIMIT {limit}"),
        AuditEntry::from_row,
    )?;
    let others = read(
        format!(
            "SELECT * FROM remote_audit_entries {clause} ORDER BY occurred_at DESC LIMIT {limit}"
        ),
        AuditEntry::from_remote_row,
    )?;
    if !others.is_empty() {
        // Newest first across the workstations; this workstation's own order breaks ties.
        entries.extend(others);
        entries.sort_by(|a, b| b.occurred_at.cmp(&a.occurred_at));
        entries.truncate(limit as usize);
    }
    for entry in &mut entries {
        entry.action_in_words = action_in_words(&entry.action);
    }
    Ok(entries)
}

/// Refuses filter texts no username or action could match: over 100 characters, or holding
/// control or text-direction characters.
fn check_filter(filter: &AuditFilter) -> Result<()> {
    use crate::validation::{field, optional_line};
    optional_line(
        field("username", "the username filter"),
        filter.username.as_deref().unwrap_or_default(),
        crate::limits::AUDIT_FILTER.max,
    )?;
    optional_line(
        field("action", "the action filter"),
        filter.action.as_deref().unwrap_or_default(),
        crate::limits::AUDIT_FILTER.max,
    )?;
    Ok(())
}

/// How many entries match `filter` but lie outside the security events a role may see.
pub(crate) fn count_outside_security_events(
    connection: &Connection,
    filter: &AuditFilter,
) -> Result<i64> {
    let count = |security_only: bool| -> Result<i64> {
        let (clause, values) = filter_clause(filter, security_only);
        connection
            .query_row(
                &format!("SELECT count(*) FROM audit_log {clause}"),
                rusqlite::params_from_iter(values),
                |row| row.get(0),
            )
            .map_err(sql_error("counting the audit trail"))
    };
    Ok(count(false)? - count(true)?)
}

/// Writes entries as CSV (header row first).
pub(crate) fn write_csv(entries: &[AuditEntry], out: impl std::io::Write) -> Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    writer
        .write_record([
            "seq",
            "occurred_at",
            "username",
            "workstation",
            "action",
            "outcome",
            "object_type",
            "object_id",
            "patient_id",
            "details",
            "recorded_on",
        ])
        .map_err(|error| Error::unexpected(format!("writing CSV: {error}")))?;
    for entry in entries {
        writer
            .write_record([
                entry.seq.to_string().as_str(),
                &entry.occurred_at,
                entry.username.as_deref().unwrap_or(""),
                &entry.workstation,
                &entry.action,
                &entry.outcome,
                entry.object_type.as_deref().unwrap_or(""),
                entry.object_id.as_deref().unwrap_or(""),
                entry.patient_id.as_deref().unwrap_or(""),
                &entry.details,
                if entry.from_other_workstation {
                    "another workstation"
                } else {
                    "this workstation"
                },
            ])
            .map_err(|error| Error::unexpected(format!("writing CSV: {error}")))?;
    }
    writer
        .flush()
        .map_err(|error| Error::unexpected(format!("writing CSV: {error}")))
}
