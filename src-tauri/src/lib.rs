//! The Clinicdesk desktop app: a Tauri 2 shell over clinicdesk-core. This crate holds no domain
//! logic: commands take the session, call the core, and return `{code, message, field}` errors.
//! The command list is not written anywhere: `build.rs` collects every `#[tauri::command]` in
//! `src/commands/` into the handler list, the capability and the UI's typed wrappers.

pub mod bindings;
pub mod commands;
pub mod state;

use tauri::{Builder, Runtime};

/// Registers the state and every command on `builder` (the real app and the IPC tests share it).
pub fn with_commands<R: Runtime>(builder: Builder<R>, state: state::AppState) -> Builder<R> {
    builder
        .manage(state)
        .invoke_handler(include!(concat!(env!("OUT_DIR"), "/handlers.rs")))
}

/// Starts the desktop app on the local store.
pub fn run() {
    let state = state::AppState::new(
        clinicdesk_core::default_data_dir(),
        clinicdesk_core::Environment::system(),
    );
    with_commands(tauri::Builder::default(), state)
        .setup(|app| {
            commands::backups::start_schedule(app.handle().clone());
            Ok(())
        })
        .run(tauri::generate_context!())
        .expect("Clinicdesk could not start its window");
}
