//! Sync with the clinic's central server: the header's status, sync on demand, enrolment of
//! this workstation (from the administrator's screen, or a new workstation joining before
//! anyone has signed in), and the conflicts a person settles. Nothing here holds the session
//! while it waits on the network.

use clinicdesk_core::{
    ConflictId, ConflictResolution, Error, FreeSlot, Result, SlotSecret, SyncConflict, SyncStatus,
};
use serde::{Deserialize, Serialize};
use tauri::State;

use crate::state::{AppState, SyncActivity};

/// The header's sync status: the store's figures and what sync is doing now.
#[derive(ts_rs::TS, Debug, Serialize, Deserialize)]
pub struct SyncOverview {
    pub status: SyncStatus,
    pub activity: SyncActivity,
}

/// What a sync on demand did.
#[derive(ts_rs::TS, Debug, Serialize, Deserialize)]
pub struct SyncOutcome {
    pub pushed: i64,
    pub pulled: i64,
    pub conflicts: i64,
}

/// What the enrolment screen shows before anything is sent: the certificate the server must
/// present, for the administrator to compare with the one the server's operator read out.
#[derive(ts_rs::TS, Debug, Serialize, Deserialize)]
pub struct EnrolmentPreview {
    pub server_url: String,
    pub workstation_role: String,
    /// SHA-256 of the server's certificate, in groups of four hex digits.
    pub certificate_fingerprint: String,
}

/// A workstation enrolled.
#[derive(ts_rs::TS, Debug, Serialize, Deserialize)]
pub struct EnrolledWorkstation {
    pub clinic_name: String,
    pub workstation_role: String,
}

/// A new workstation that joined its clinic's server: the recovery key is shown once.
#[derive(ts_rs::TS, Debug, Serialize, Deserialize)]
pub struct JoinedClinic {
    pub clinic_name: String,
    pub recovery_key: String,
}

fn grouped(fingerprint: &str) -> String {
    fingerprint
        .to_ascii_uppercase()
        .as_bytes()
        .chunks(4)
        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The header's sync status, for everyone signed in.
#[tauri::command]
pub async fn sync_overview(state: State<'_, AppState>) -> Result<SyncOverview> {
    let activity = state.sync_activity();
    let status = state.with_session(|session| session.sync_status()).await?;
    Ok(SyncOverview { status, activity })
}

/// Syncs now (waits for a sync already running to finish first).
#[tauri::command]
pub async fn sync_now(state: State<'_, AppState>) -> Result<SyncOutcome> {
    let report = state.run(|state| state.sync_once()).await?.ok_or_else(|| {
        Error::new(
            clinicdesk_core::ErrorCode::SyncNotEnrolled,
            "This workstation is not connected to a central server; an administrator connects it in Administration",
        )
    })?;
    Ok(SyncOutcome {
        pushed: report.pushed.applied + report.pushed.already_applied,
        pulled: report.pulled.applied,
        conflicts: report.pushed.conflicts + report.pulled.conflicts,
    })
}

/// Reads an enrolment code and shows what it binds to, without contacting the server.
#[tauri::command]
pub async fn preview_enrolment(server_url: String, code: String) -> Result<EnrolmentPreview> {
    clinicdesk_sync::transport::parse_server_url(&server_url)
        .map_err(|error| error.for_field("server_url"))?;
    let code = clinicdesk_sync::EnrolmentCode::parse(&code)?;
    Ok(EnrolmentPreview {
        server_url: server_url.trim().to_owned(),
        workstation_role: code.workstation_role,
        certificate_fingerprint: grouped(&code.certificate_sha256),
    })
}

/// Enrols this workstation with the central server (administrators); the first sync follows
/// in the background.
#[tauri::command]
pub async fn enrol_workstation(
    state: State<'_, AppState>,
    server_url: String,
    code: String,
) -> Result<EnrolledWorkstation> {
    let enrolled = state
        .run(move |state| {
            let code = clinicdesk_sync::EnrolmentCode::parse(&code)?;
            clinicdesk_sync::enroll_through(state, &server_url, &code)
        })
        .await?;
    state.wake_sync();
    Ok(EnrolledWorkstation {
        clinic_name: enrolled.clinic_name,
        workstation_role: enrolled.workstation_role,
    })
}

/// A new workstation (empty data folder) joins its clinic's server, for an administrator of
/// the clinic with their own password; the records arrive after they sign in.
#[tauri::command]
pub async fn join_clinic_server(
    state: State<'_, AppState>,
    server_url: String,
    code: String,
    admin_username: String,
    admin_password: String,
) -> Result<JoinedClinic> {
    state
        .run(move |state| {
            let code = clinicdesk_sync::EnrolmentCode::parse(&code)?;
            let (enrolled, outcome) = clinicdesk_sync::enroll_new_workstation(
                &server_url,
                &code,
                clinicdesk_sync::NewWorkstation {
                    data_dir: state.data_dir(),
                    admin_username: &admin_username,
                    admin_password: SlotSecret::new(admin_password),
                    kdf: clinicdesk_core::product_kdf(),
                    pull_now: false,
                },
                state.environment(),
            )?;
            Ok(JoinedClinic {
                clinic_name: enrolled.clinic_name,
                recovery_key: outcome.recovery_key.to_string(),
            })
        })
        .await
}

/// The open conflicts of the records this person's role owns.
#[tauri::command]
pub async fn sync_conflicts(state: State<'_, AppState>) -> Result<Vec<SyncConflict>> {
    state.with_session(|session| session.sync_conflicts()).await
}

/// For a booking that lost its time: the provider's next free starts.
#[tauri::command]
pub async fn conflict_free_slots(
    state: State<'_, AppState>,
    id: ConflictId,
) -> Result<Vec<FreeSlot>> {
    state
        .with_session(move |session| session.conflict_free_slots(&id, 3))
        .await
}

/// Settles a conflict: keep mine, keep theirs, field by field, or move a booking.
#[tauri::command]
pub async fn resolve_sync_conflict(
    state: State<'_, AppState>,
    id: ConflictId,
    resolution: ConflictResolution,
) -> Result<()> {
    state
        .with_session(move |session| session.resolve_sync_conflict(&id, resolution))
        .await?;
    state.wake_sync();
    Ok(())
}
