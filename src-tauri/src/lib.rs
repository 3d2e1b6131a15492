//! The Clinicdesk desktop app: a Tauri 2 shell over clinicdesk-core. This crate holds no domain
//! logic: commands take the session, call the core, and return `{code, message}` errors.

pub mod bindings;
pub mod commands;
pub mod state;

use clinicdesk_core::Environment;
use tauri::{Builder, Runtime};

/// Registers the state and every command on `builder` (the real app and the IPC tests share it).
pub fn with_commands<R: Runtime>(builder: Builder<R>, state: state::AppState) -> Builder<R> {
    use commands::*;
    builder
        .manage(state)
        .invoke_handler(tauri::generate_handler![
            session::store_overview,
            session::create_clinic,
            session::login,
            session::change_password,
            session::logoff,
            session::touch,
            session::drafts,
            session::save_draft,
            session::discard_draft,
            session::load_demo_data,
            patients::search_patients,
            patients::register_patient,
            patients::open_chart,
            patients::update_demographics,
            patients::set_patient_restricted,
            patients::request_emergency_access,
            scheduling::list_providers,
            scheduling::list_appointment_types,
            scheduling::day_schedule,
            scheduling::week_schedule,
            scheduling::arrived_today,
            scheduling::book_appointment,
            scheduling::reschedule_appointment,
            scheduling::set_appointment_status,
            scheduling::next_free_slot,
            scheduling::add_provider,
            scheduling::working_hours,
            scheduling::set_working_hours,
            scheduling::add_day_off,
            scheduling::add_appointment_type,
            vitals::vital_definitions,
            vitals::record_vitals,
            vitals::vitals_flowsheet,
            vitals::vitals_trend,
            vitals::mark_observation_in_error,
            notes::list_notes,
            notes::write_note,
            audit::audit_list,
            audit::audit_verify,
            audit::audit_export_csv,
            audit::access_report,
            audit::emergency_review_list,
            audit::emergency_mark_reviewed,
            admin::list_users,
            admin::add_user,
            admin::disable_user,
            admin::enable_user,
            admin::set_user_role,
            admin::reset_password,
            admin::security_settings,
            admin::set_security_settings,
            admin::rotate_data_key,
            backups::backup_status,
            backups::set_backup_settings,
            backups::list_backups,
            backups::plan_point_in_time_restore,
            backups::create_backup,
            backups::verify_backup,
            backups::restore_backup,
            backups::restore_to_point_in_time,
        ])
}

/// Starts the desktop app on the local store.
pub fn run() {
    let state = state::AppState::new(state::default_data_dir(), Environment::system());
    with_commands(tauri::Builder::default(), state)
        .setup(|app| {
            commands::backups::start_schedule(app.handle().clone());
            Ok(())
        })
        .run(tauri::generate_context!())
        .expect("Clinicdesk could not start its window");
}
