//! First run, login, password change, logoff, idle time and drafts.

use clinicdesk_core::demo_data::DemoStaffMember;
use clinicdesk_core::{
    DemoSize, DemoSummary, Draft, InitRequest, KdfParams, LogoffReason, Permission, Result,
    Session, SessionUser, SlotSecret,
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
    pub idle_logoff_seconds: i64,
    pub idle_warning_seconds: i64,
}

/// What the first-run screen shows once, and what it needs.
#[derive(ts_rs::TS, Debug, Serialize, Deserialize)]
pub struct FirstRun {
    pub recovery_key: String,
    pub administrator: SessionUser,
}

#[derive(ts_rs::TS, Debug, Deserialize)]
pub struct FirstRunRequest {
    pub clinic_name: String,
    pub time_zone: String,
    pub admin_username: String,
    pub admin_display_name: String,
    pub admin_password: String,
}

fn session_info(session: &mut Session) -> Result<SessionInfo> {
    let (idle_logoff_seconds, idle_warning_seconds) = if session.must_change_password() {
        (600, 60)
    } else {
        session.idle_settings()?
    };
    Ok(SessionInfo {
        user: session.user().clone(),
        permissions: session.permissions().iter().copied().collect(),
        must_change_password: session.must_change_password(),
        idle_logoff_seconds,
        idle_warning_seconds,
    })
}

#[tauri::command]
pub fn store_overview(state: State<'_, AppState>) -> Result<StoreOverview> {
    let initialized = clinicdesk_core::store_exists(&state.data_dir);
    let clinic_name = if initialized {
        Some(clinicdesk_core::clinic_name_before_login(&state.data_dir)?)
    } else {
        None
    };
    Ok(StoreOverview {
        data_folder: state.data_dir.root().display().to_string(),
        initialized,
        clinic_name,
    })
}

#[tauri::command]
pub fn create_clinic(state: State<'_, AppState>, request: FirstRunRequest) -> Result<FirstRun> {
    let kdf = KdfParams::calibrated(std::time::Duration::from_millis(300));
    let outcome = clinicdesk_core::init(
        &state.data_dir,
        InitRequest {
            clinic_name: request.clinic_name,
            time_zone: request.time_zone,
            admin_username: request.admin_username,
            admin_display_name: request.admin_display_name,
            admin_password: SlotSecret::new(request.admin_password),
            kdf,
        },
        &state.environment,
    )?;
    Ok(FirstRun {
        recovery_key: outcome.recovery_key.to_string(),
        administrator: outcome.administrator,
    })
}

#[tauri::command]
pub fn login(
    state: State<'_, AppState>,
    username: String,
    password: String,
) -> Result<SessionInfo> {
    let mut session = Session::login(
        &state.data_dir,
        &username,
        &SlotSecret::new(password),
        &state.environment,
    )?;
    let info = session_info(&mut session)?;
    if let Some(mut previous) = state.replace_session(Some(session)) {
        previous.logoff(LogoffReason::Manual)?;
    }
    Ok(info)
}

#[tauri::command]
pub fn change_password(
    state: State<'_, AppState>,
    current: String,
    new_password: String,
) -> Result<SessionInfo> {
    state.with_session(|session| {
        session.change_password(&SlotSecret::new(current), &SlotSecret::new(new_password))?;
        session_info(session)
    })
}

#[tauri::command]
pub fn logoff(state: State<'_, AppState>, idle: bool) -> Result<()> {
    match state.replace_session(None) {
        Some(mut session) => session.logoff(if idle {
            LogoffReason::Idle
        } else {
            LogoffReason::Manual
        }),
        None => Ok(()),
    }
}

/// Any input in the window: resets the idle timer. Returns the seconds left.
#[tauri::command]
pub fn touch(state: State<'_, AppState>) -> Result<i64> {
    state.with_session(|session| session.touch().map(|left| left.num_seconds()))
}

#[tauri::command]
pub fn drafts(state: State<'_, AppState>) -> Result<Vec<Draft>> {
    state.with_session(|session| session.drafts())
}

#[tauri::command]
pub fn save_draft(
    state: State<'_, AppState>,
    form_key: String,
    payload: serde_json::Value,
) -> Result<()> {
    state.with_session(|session| session.save_draft(&form_key, &payload))
}

#[tauri::command]
pub fn discard_draft(state: State<'_, AppState>, form_key: String) -> Result<()> {
    state.with_session(|session| session.discard_draft(&form_key))
}

/// What loading demo data made.
#[derive(ts_rs::TS, Debug, Serialize, Deserialize)]
pub struct DemoLoaded {
    pub summary: DemoSummary,
    pub staff: Vec<DemoStaffMember>,
}

/// Fills a new clinic with demo data and demo staff; returns their one-time passwords.
#[tauri::command]
pub fn load_demo_data(state: State<'_, AppState>) -> Result<DemoLoaded> {
    state.with_session(|session| {
        let staff = session.add_demo_staff()?;
        let summary = session.generate_demo_data(
            DemoSize::Tiny,
            1,
            Some("demo.nurse"),
            Some("demo.doctor"),
            |_| {},
        )?;
        Ok(DemoLoaded { summary, staff })
    })
}
