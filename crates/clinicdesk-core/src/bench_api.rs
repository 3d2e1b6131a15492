//! What the benchmark and the whole-store tests call on a raw store connection, behind the
//! `bench-api` feature: the same queries the session methods run, without a session around them
//! (so their speed can be compared on an encrypted store and an unencrypted copy), and the
//! checks a test makes of a store file it opened itself. The shells never enable this feature.

use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use clinicdesk_backup::{BackupHeader, RecipientKey};
use clinicdesk_error::Result;
use clinicdesk_store::rusqlite::Connection;

use crate::{AuditVerification, BackupProgress, Chart, PatientHit};

/// Which parts of a chart [`chart`] reads.
pub use crate::patients::ChartParts;

pub fn search_patients(
    connection: &Connection,
    query: &str,
    today: NaiveDate,
) -> Result<Vec<PatientHit>> {
    crate::patient_records::search_patients_on(connection, query, today)
}

pub fn chart(
    connection: &Connection,
    patient_id: &str,
    parts: ChartParts,
    now: &str,
) -> Result<Chart> {
    crate::patients::chart_on(connection, patient_id, parts, now)
}

pub fn schedule(
    connection: &Connection,
    provider_id: Option<&str>,
    from_day: NaiveDate,
    to_day: NaiveDate,
) -> Result<Vec<crate::Appointment>> {
    crate::scheduling::schedule_on(connection, provider_id, from_day, to_day)
}

/// Checks the audit chain of a store a test opened itself.
pub fn verify_audit_chain(connection: &Connection) -> Result<AuditVerification> {
    crate::audit::verify_chain(connection)
}

/// Writes a backup of a store a test opened itself (to take one at an exact moment).
pub fn write_snapshot(
    connection: &Connection,
    path: &Path,
    backup_id: &str,
    created_at: DateTime<Utc>,
    recipients: &[RecipientKey],
    progress: &mut dyn FnMut(BackupProgress),
) -> Result<BackupHeader> {
    crate::backups::write_snapshot(
        connection,
        path,
        crate::backups::SnapshotRequest {
            backup_id: backup_id.to_owned(),
            created_at,
            created_by: None,
            scheduled: false,
        },
        recipients,
        progress,
    )
}
