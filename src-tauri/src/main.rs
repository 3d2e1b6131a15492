//! The Clinicdesk desktop app: a Tauri 2 shell over clinicdesk-core. Each command checks the
//! session, calls the core and returns its result or its `{code, message}` error.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;

fn main() {
    let data_dir = commands::default_data_dir();
    tauri::Builder::default()
        .manage(commands::AppState::new(data_dir))
        .invoke_handler(tauri::generate_handler![
            commands::store_overview,
            commands::login,
            commands::store_status,
            commands::logoff
        ])
        .run(tauri::generate_context!())
        .expect("Clinicdesk could not start its window");
}
