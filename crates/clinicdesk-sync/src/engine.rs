//! One sync: push the outbox in batches until it is empty, then pull the clinic's changes after
//! this workstation's cursor until there are none, then the other workstations' audit entries.
//! The core decides what each answer does to the store; this module only carries batches.
//!
//! The engine reaches the session through [`SessionAccess`], one short step at a time, and
//! never holds it while it waits on the network: a desktop window stays usable while a sync
//! waits on a slow or unreachable server. A failure anywhere leaves the outbox and the cursors
//! where the last recorded batch left them, and is noted for `sync status`.

use std::cell::RefCell;

use clinicdesk_core::{
    Error, OutgoingBatch, PullProgress, PullSummary, PulledChange, PushResult, PushSummary,
    RemoteAuditEntry, Result, Session, SyncEnrolment,
};
use postgres::Client;
use serde::{Deserialize, Serialize};

use crate::central_schema::check_server_version;
use crate::server_tools::scram_verifier;
use crate::transport::{connect_pinned, server_error};

/// Changes per push (one server transaction each).
pub const PUSH_BATCH: usize = 500;
/// Changes per pull (one local transaction each).
pub const PULL_BATCH: i64 = 2000;
/// Other workstations' audit entries per pull.
pub const AUDIT_PULL_BATCH: i64 = 5000;

/// What one sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncReport {
    pub pushed: PushSummary,
    pub pulled: PullSummary,
    /// Entries of other workstations' audit trails received.
    pub remote_audit_entries: i64,
}

/// How the engine reaches the session: briefly, once per step.
pub trait SessionAccess {
    fn with_session<T>(&self, work: impl FnOnce(&mut Session) -> Result<T>) -> Result<T>;
}

/// A session the caller owns outright (the CLI, tests).
impl SessionAccess for RefCell<&mut Session> {
    fn with_session<T>(&self, work: impl FnOnce(&mut Session) -> Result<T>) -> Result<T> {
        work(&mut self.borrow_mut())
    }
}

/// Connects with `enrolment`, over TLS pinned to the enrolled certificate, and checks that the
/// server speaks this build's schema.
pub fn connect_enrolled(enrolment: &SyncEnrolment) -> Result<Client> {
    let mut client = connect_pinned(
        &enrolment.server_url,
        &enrolment.workstation_role,
        &enrolment.workstation_password,
        &enrolment.certificate_sha256,
    )?;
    check_server_version(&mut client)?;
    Ok(client)
}

/// [`connect_enrolled`] with this session's enrolment.
pub fn connect(session: &mut Session) -> Result<Client> {
    connect_enrolled(&session.sync_enrolment()?)
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

/// The last number of the clinic's change sequence (gap-free, so the pull's total is known).
fn last_seq(client: &mut Client) -> Result<i64> {
    Ok(client
        .query_opt(
            "SELECT last_seq FROM clinicdesk.clinic_sequences WHERE clinic_id = clinicdesk.current_clinic()",
            &[],
        )
        .map_err(|e| server_error("reading the clinic's sequence", e))?
        .map(|row| row.get(0))
        .unwrap_or(0))
}

/// Reads up to `limit` entries of the other workstations' audit trails after `cursor`.
pub fn pull_remote_audit(
    client: &mut Client,
    cursor: i64,
    limit: i64,
) -> Result<Vec<RemoteAuditEntry>> {
    let rows = client
        .query(
            "SELECT received_seq, workstation_role, seq, id::text, occurred_at, user_id, username,
                    workstation, action, object_type, object_id, patient_id, outcome, details
             FROM clinicdesk.audit_entries
             WHERE clinic_id = clinicdesk.current_clinic() AND workstation_role <> session_user
               AND received_seq > $1
             ORDER BY received_seq LIMIT $2",
            &[&cursor, &limit],
        )
        .map_err(|e| server_error("pulling other workstations' audit entries", e))?;
    Ok(rows
        .into_iter()
        .map(|row| RemoteAuditEntry {
            received_seq: row.get(0),
            workstation_role: row.get(1),
            seq: row.get(2),
            id: row.get(3),
            occurred_at: row.get(4),
            user_id: row.get(5),
            username: row.get(6),
            workstation: row.get(7),
            action: row.get(8),
            object_type: row.get(9),
            object_id: row.get(10),
            patient_id: row.get(11),
            outcome: row.get(12),
            details: row.get(13),
        })
        .collect())
}

/// Sets up first sign-ins on this workstation if they are not yet (see the core's
/// `first_sign_in` module): the slot and the file first, then the server, then the mark.
fn prepare_sign_in(access: &impl SessionAccess, client: &mut Client) -> Result<()> {
    let Some(preparation) = access.with_session(|session| session.sign_in_preparation())? else {
        return Ok(());
    };
    access.with_session(|session| session.keep_sign_in_preparation(&preparation))?;
    let verifier = scram_verifier(&preparation.sign_in_password)?;
    client
        .execute(
            "SELECT clinicdesk.prepare_sign_in($1, $2)",
            &[&preparation.unlock_secret.as_slice(), &verifier],
        )
        .map_err(|e| server_error("preparing first sign-ins on this workstation", e))?;
    access.with_session(|session| session.sign_in_prepared())
}

/// Pushes everything that waits, pulls everything new, and pushes again, over `client`;
/// `progress` hears how far the pull has come.
pub fn sync_over(
    access: &impl SessionAccess,
    client: &mut Client,
    progress: &mut dyn FnMut(PullProgress),
) -> Result<SyncReport> {
    let mut report = SyncReport::default();
    prepare_sign_in(access, client)?;
    push_all(access, client, &mut report)?;
    let start = access.with_session(|session| session.sync_cursor())?;
    let mut cursor = start;
    report.pulled.cursor = cursor;
    let last = last_seq(client)?;
    let to_pull = (last - start).max(0);
    if to_pull > 0 {
        progress(PullProgress { pulled: 0, to_pull });
    }
    loop {
        let changes = pull_batch(client, cursor, PULL_BATCH)?;
        if changes.is_empty() {
            break;
        }
        let summary = access.with_session(|session| session.sync_apply_pulled(&changes))?;
        cursor = summary.cursor;
        report.pulled.applied += summary.applied;
        report.pulled.already_here += summary.already_here;
        report.pulled.conflicts += summary.conflicts;
        report.pulled.cursor = cursor;
        progress(PullProgress {
            pulled: (cursor - start).min(to_pull.max(cursor - start)),
            to_pull: to_pull.max(cursor - start),
        });
    }
    let mut audit_cursor = access.with_session(|session| session.sync_remote_audit_cursor())?;
    loop {
        let entries = pull_remote_audit(client, audit_cursor, AUDIT_PULL_BATCH)?;
        let Some(last) = entries.last() else {
            break;
        };
        audit_cursor = last.received_seq;
        access.with_session(|session| session.sync_apply_remote_audit(&entries))?;
        report.remote_audit_entries += i64::try_from(entries.len()).unwrap_or(i64::MAX);
    }
    // The pull's own audit entry (and anything written meanwhile) goes too.
    push_all(access, client, &mut report)?;
    Ok(report)
}

fn push_all(
    access: &impl SessionAccess,
    client: &mut Client,
    report: &mut SyncReport,
) -> Result<()> {
    loop {
        let batch = access.with_session(|session| session.sync_outgoing(PUSH_BATCH))?;
        if batch.is_empty() {
            return Ok(());
        }
        let results = push_batch(client, &batch)?;
        let summary = access.with_session(|session| session.sync_record_push(&batch, &results))?;
        report.pushed.applied += summary.applied;
        report.pushed.already_applied += summary.already_applied;
        report.pushed.conflicts += summary.conflicts;
        report.pushed.audit_entries += summary.audit_entries;
    }
}

/// One whole sync through `access`: the session is held for each local step only, never while
/// connecting or waiting for the server. A failure is noted for `sync status` and returned.
pub fn sync_through(
    access: &impl SessionAccess,
    progress: &mut dyn FnMut(PullProgress),
) -> Result<SyncReport> {
    let outcome = access
        .with_session(|session| session.sync_enrolment())
        .and_then(|enrolment| connect_enrolled(&enrolment))
        .and_then(|mut client| sync_over(access, &mut client, progress));
    if let Err(error) = &outcome {
        // The session itself may have ended (idle logoff): then there is nothing to note in.
        let _ = access.with_session(|session| session.sync_record_failure(error));
    }
    outcome
}

/// One whole sync of a session the caller owns (the CLI, tests).
pub fn sync_now(session: &mut Session) -> Result<SyncReport> {
    sync_through(&RefCell::new(session), &mut |_| {})
}
