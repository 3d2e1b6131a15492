//! One sync: push the outbox in batches until it is empty, then pull the clinic's changes after
//! this workstation's cursor until there are none. The core decides what each answer does to
//! the store; this module only carries batches. A failure anywhere leaves the outbox and the
//! cursor where the last recorded batch left them, and is noted for `sync status`.

use clinicdesk_core::{
    Error, OutgoingBatch, PullSummary, PulledChange, PushResult, PushSummary, Result, Session,
};
use postgres::Client;
use serde::{Deserialize, Serialize};

use crate::central_schema::check_server_version;
use crate::transport::{connect_pinned, server_error};

/// Changes per push (one server transaction each).
pub const PUSH_BATCH: usize = 500;
/// Changes per pull (one local transaction each).
pub const PULL_BATCH: i64 = 2000;

/// What one sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncReport {
    pub pushed: PushSummary,
    pub pulled: PullSummary,
}

/// Connects as this workstation, over TLS pinned to the enrolled certificate, and checks that
/// the server speaks this build's schema.
pub fn connect(session: &mut Session) -> Result<Client> {
    let enrolment = session.sync_enrolment()?;
    let mut client = connect_pinned(
        &enrolment.server_url,
        &enrolment.workstation_role,
        &enrolment.workstation_password,
        &enrolment.certificate_sha256,
    )?;
    check_server_version(&mut client)?;
    Ok(client)
}

/// Sends one batch; the server applies it in one transaction and answers for every change.
pub fn push_batch(client: &mut Client, batch: &OutgoingBatch) -> Result<Vec<PushResult>> {
    let body = serde_json::json!({ "changes": batch.changes, "audit": batch.audit }).to_string();
    let answer: String = client
        .query_one(
            "SELECT clinicdesk.push_changes($1::text::jsonb)::text",
            &[&body],
        )
        .map_err(|e| server_error("pushing changes", e))?
        .get(0);
    #[derive(Deserialize)]
    struct Answer {
        results: Vec<PushResult>,
    }
    let answer: Answer = serde_json::from_str(&answer).map_err(|error| {
        Error::unexpected(format!(
            "the server's answer to a push was not understood: {error}"
        ))
    })?;
    Ok(answer.results)
}

/// Reads up to `limit` changes of the clinic's sequence after `cursor`, in order.
pub fn pull_batch(client: &mut Client, cursor: i64, limit: i64) -> Result<Vec<PulledChange>> {
    let rows = client
        .query(
            "SELECT seq, change_id::text, table_name, row_id::text, version, payload::text
             FROM clinicdesk.changes
             WHERE clinic_id = clinicdesk.current_clinic() AND seq > $1
             ORDER BY seq LIMIT $2",
            &[&cursor, &limit],
        )
        .map_err(|e| server_error("pulling changes", e))?;
    rows.into_iter()
        .map(|row| {
            let payload: String = row.get(5);
            Ok(PulledChange {
                seq: row.get(0),
                change_id: row.get(1),
                table: row.get(2),
                row_id: row.get(3),
                version: i64::from(row.get::<_, i32>(4)),
                payload: serde_json::from_str(&payload).map_err(|_| {
                    Error::unexpected("the server sent a change whose row is not JSON")
                })?,
            })
        })
        .collect()
}

/// Pushes everything that waits, then pulls everything new, over `client`.
pub fn sync_over(session: &mut Session, client: &mut Client) -> Result<SyncReport> {
    let mut report = SyncReport::default();
    push_all(session, client, &mut report)?;
    let mut cursor = session.sync_cursor()?;
    report.pulled.cursor = cursor;
    loop {
        let changes = pull_batch(client, cursor, PULL_BATCH)?;
        if changes.is_empty() {
            break;
        }
        let summary = session.sync_apply_pulled(&changes)?;
        cursor = summary.cursor;
        report.pulled.applied += summary.applied;
        report.pulled.already_here += summary.already_here;
        report.pulled.conflicts += summary.conflicts;
        report.pulled.cursor = cursor;
    }
    // The pull's own audit entry (and anything written meanwhile) goes too.
    push_all(session, client, &mut report)?;
    Ok(report)
}

fn push_all(session: &mut Session, client: &mut Client, report: &mut SyncReport) -> Result<()> {
    loop {
        let batch = session.sync_outgoing(PUSH_BATCH)?;
        if batch.is_empty() {
            return Ok(());
        }
        let results = push_batch(client, &batch)?;
        let summary = session.sync_record_push(&batch, &results)?;
        report.pushed.applied += summary.applied;
        report.pushed.already_applied += summary.already_applied;
        report.pushed.conflicts += summary.conflicts;
        report.pushed.audit_entries += summary.audit_entries;
    }
}

/// One whole sync of this workstation. A failure is noted for `sync status` and returned.
pub fn sync_now(session: &mut Session) -> Result<SyncReport> {
    let outcome = connect(session).and_then(|mut client| sync_over(session, &mut client));
    if let Err(error) = &outcome {
        // The session itself may have ended (idle logoff): then there is nothing to note in.
        let _ = session.sync_record_failure(error);
    }
    outcome
}
