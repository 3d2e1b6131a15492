//! The Clinicdesk desktop app: a Tauri 2 shell over clinicdesk-core. This crate holds no domain
//! logic: commands take the session, call the core, and return `{code, message, field}` errors.
//! The command list is not written anywhere: `build.rs` collects every `#[tauri::command]` in
//! `src/commands/` into the handler list, the capability and the UI's typed wrappers.

pub mod bindings;
pub mod commands;
pub mod state;
pub mod updates;

use tauri::{Builder, Runtime};

/// Registers the state and every command on `builder` (the real app and the IPC tests share it).
pub fn with_commands<R: Runtime>(builder: Builder<R>, state: state::AppState) -> Builder<R> {
    builder
        .plugin(state.updates().plugin())
        .manage(state)
        .invoke_handler(include!(concat!(env!("OUT_DIR"), "/handlers.rs")))
}

/// Syncs in the background while someone is signed in: every 30 seconds
/// (`clinicdesk_core::sync_interval`), at once when woken (someone signed in, a workstation was
/// enrolled, a conflict was settled), and less often while the server cannot be reached.
fn start_background_sync<R: Runtime>(app: tauri::AppHandle<R>) {
    use tauri::Manager;
    let state = app.state::<state::AppState>().inner().clone();
    tauri::async_runtime::spawn(async move {
        let every = clinicdesk_core::sync_interval();
        let mut failures_in_a_row = 0u32;
        loop {
            let delay = clinicdesk_core::background_sync_delay(every, failures_in_a_row);
            let next = state.environment().now()
                + chrono::Duration::from_std(delay).unwrap_or_else(|_| chrono::Duration::zero());
            state.note_next_sync(Some(next.to_rfc3339()));
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = state.sync_woken() => {}
            }
            state.note_next_sync(None);
            failures_in_a_row = match state.run(|state| state.sync_once()).await {
                Ok(_) => 0,
                Err(_) => failures_in_a_row.saturating_add(1),
            };
        }
    });
}

/// Turns WebKit's GPU compositing off unless the computer's owner chose otherwise (the variable
/// is set, to "0" to keep it on). Clinicdesk draws forms, lists and a calendar, which WebKit paints
/// as fast without it; with it, the web process holds a GL context and its buffers. Measured by
/// `scripts/bench-memory` (release build, demo clinic, idle after signing in): the web process
/// 222 MiB with compositing and 119 MiB without, the whole app 344 MiB and 240 MiB. It also spares
/// clinics the blank windows some GPU drivers give WebKit's compositing.
fn prefer_software_painting() {
    const VARIABLE: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";
    if std::env::var_os(VARIABLE).is_none() {
        // Only the main thread exists yet: nothing else reads the environment meanwhile.
        std::env::set_var(VARIABLE, "1");
    }
}

/// Starts the desktop app on the local store.
pub fn run() {
    prefer_software_painting();
    let state = state::AppState::new(
        clinicdesk_core::default_data_dir(),
        clinicdesk_core::Environment::system(),
    );
    with_commands(tauri::Builder::default(), state)
        .setup(|app| {
            commands::backups::start_schedule(app.handle().clone());
            start_background_sync(app.handle().clone());
            Ok(())
        })
        .run(tauri::generate_context!())
        .expect("Clinicdesk could not start its window");
}
