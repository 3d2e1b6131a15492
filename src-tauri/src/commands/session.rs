//! First run, login, password change, logoff, idle time and drafts, demo data.

use clinicdesk_core::{
    DamageMark, DemoSize, DemoStaffMember, DemoSummary, Draft, IdleTimings, InitRequest,
    LogoffReason, Permission, Result, Session, SessionUser, SlotSecret,
};
use serde::{Deserialize, Serialize};
use tauri::State;

use crate::state::AppState;

/// What the window shows before anyone logs in.
#[derive(ts_rs::TS, Debug, Serialize, Deserialize)]
pub struct StoreOverview {
    pub data_folder: String,
    pub initialized: bool,
    pub clinic_name: Option<String>,
}

/// The signed-in user and what the UI needs to know about them.
#[derive(ts_rs::TS, Debug, Serialize, Deserialize)]
pub struct SessionInfo {
    pub user: SessionUser,
    pub permissions: Vec<Permission>,
    pub must_change_password: bool,
    pub idle: IdleTimings,
    /// Set when the store was found damaged: the window shows the damaged-store screen.
    pub store_damage: Option<DamageMark>,
    /// The clinic's time zone: every date and time on screen is the clinic's.
    pub clinic_time_zone: String,
    /// How the clinic writes dates, times and numbers (a BCP 47 tag such as `de-DE`).
    pub clinic_locale: String,
}

/// What the first-run screen shows once.
#[derive(ts_rs::TS, Debug, Serialize, Deserialize)]
pub struct FirstRun {
    pub recovery_key: String,
    pub administrator: SessionUser,
}

/// What the first-run screen asks for.
#[derive(ts_rs::TS, Debug, Deserialize)]
pub struct FirstRunRequest {
    pub clinic_name: String,
    pub time_zone: String,
    /// One of the offered locales; empty: the time zone's.
    pub locale: String,
    pub admin_username: String,
    pub admin_display_name: String,
    pub admin_password: String,
}

fn session_info(session: &mut Session) -> Result<SessionInfo> {
    Ok(SessionInfo {
        idle: session.idle_timings()?,
        user: session.user().clone(),
        permissions: session.permissions().iter().copied().collect(),
        must_change_password: session.must_change_password(),
        store_damage: session.store_damage().cloned(),
        clinic_time_zone: session
            .clinic_time_zone()
            .unwrap_or_else(|_| "UTC".to_owned()),
        clinic_locale: session
            .clinic_locale()
            .unwrap_or_else(|_| "en-GB".to_owned()),
    })
}

/// Is there a store yet, and for which clinic (no key needed).
#[tauri::command]
pub async fn store_overview(state: State<'_, AppState>) -> Result<StoreOverview> {
    state
        .run(|state| {
            let initialized = clinicdesk_core::store_exists(state.data_dir());
            Ok(StoreOverview {
                data_folder: state.data_dir().root().display().to_string(),
                initialized,
                clinic_name: initialized
                    .then(|| clinicdesk_core::clinic_name_before_login(state.data_dir()))
                    .transpose()?,
            })
        })
        .await
}

/// Creates the clinic's store and its first administrator; the recovery key is shown once.
#[tauri::command]
pub async fn create_clinic(
    state: State<'_, AppState>,
    request: FirstRunRequest,
) -> Result<FirstRun> {
    state
        .run(move |state| {
            let outcome = clinicdesk_core::init(
                state.data_dir(),
                InitRequest {
                    clinic_name: request.clinic_name,
                    time_zone: request.time_zone,
                    locale: Some(request.locale),
                    admin_username: request.admin_username,
                    admin_display_name: request.admin_display_name,
                    admin_password: SlotSecret::new(request.admin_password),
                    kdf: clinicdesk_core::product_kdf(),
                },
                state.environment(),
            )?;
            Ok(FirstRun {
                recovery_key: outcome.recovery_key.to_string(),
                administrator: outcome.administrator,
            })
        })
        .await
}

/// Unlocks the store with this user's password (a previous session is logged off).
#[tauri::command]
pub async fn login(
    state: State<'_, AppState>,
    username: String,
    password: String,
) -> Result<SessionInfo> {
    state
        .run(move |state| {
            let mut session = clinicdesk_sync::sign_in(
                state.data_dir(),
                &username,
                &SlotSecret::new(password),
                state.environment(),
            )
            .inspect_err(|error| {
                clinicdesk_core::note_store_damage(
                    state.data_dir(),
                    error,
                    state.environment().now(),
                )
            })?;
            let info = session_info(&mut session)?;
            if let Some(mut previous) = state.replace_session(Some(session))? {
                previous.logoff(LogoffReason::Manual)?;
            }
            state.wake_sync();
            Ok(info)
        })
        .await
}

/// Changes the signed-in user's password (also how a temporary one is replaced).
#[tauri::command]
pub async fn change_password(
    state: State<'_, AppState>,
    current: String,
    new_password: String,
) -> Result<SessionInfo> {
    state
        .with_session(move |session| {
            session.change_password(&SlotSecret::new(current), &SlotSecret::new(new_password))?;
            session_info(session)
        })
        .await
}

#[tauri::command]
pub async fn logoff(state: State<'_, AppState>, idle: bool) -> Result<()> {
    state
        .run(move |state| match state.replace_session(None)? {
            Some(mut session) => session.logoff(if idle {
                LogoffReason::Idle
            } else {
                LogoffReason::Manual
            }),
            None => Ok(()),
        })
        .await
}

/// Any input in the window: resets the idle timer. Returns the seconds left.
#[tauri::command]
pub async fn touch(state: State<'_, AppState>) -> Result<i64> {
    state
        .with_session(|session| session.touch().map(|left| left.num_seconds()))
        .await
}

/// This user's saved, unsubmitted forms.
#[tauri::command]
pub async fn drafts(state: State<'_, AppState>) -> Result<Vec<Draft>> {
    state.with_session(|session| session.drafts()).await
}

#[tauri::command]
pub async fn save_draft(
    state: State<'_, AppState>,
    form_key: String,
    payload: serde_json::Value,
) -> Result<()> {
    state
        .with_session(move |session| session.save_draft(&form_key, &payload))
        .await
}

#[tauri::command]
pub async fn discard_draft(state: State<'_, AppState>, form_key: String) -> Result<()> {
    state
        .with_session(move |session| session.discard_draft(&form_key))
        .await
}

/// What loading demo data made.
#[derive(ts_rs::TS, Debug, Serialize, Deserialize)]
pub struct DemoLoaded {
    pub summary: DemoSummary,
    pub staff: Vec<DemoStaffMember>,
}

/// Fills a new clinic with demo data and demo staff; returns their one-time passwords. The
/// generation runs on its own connection, without holding the session.
#[tauri::command]
pub async fn load_demo_data(state: State<'_, AppState>) -> Result<DemoLoaded> {
    state
        .with_job(
            |session| {
                let staff = session.add_demo_staff()?;
                let job = session.prepare_demo_data(
                    DemoSize::Tiny,
                    1,
                    Some("demo.nurse"),
                    Some("demo.doctor"),
                )?;
                Ok((staff, job))
            },
            |(staff, job)| {
                let summary = job.run(|_| {})?;
                Ok(DemoLoaded { summary, staff })
            },
        )
        .await
}
