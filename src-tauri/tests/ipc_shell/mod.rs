//! The desktop app as the real one is built (every command, the updater plugin), on Tauri's mock
//! runtime: commands go through IPC as the window sends them, without a webview. Shared by the IPC
//! and update tests.

#![allow(dead_code)]

use clinicdesk_desktop::state::AppState;
use clinicdesk_tests::Clinic;
use serde_json::Value;
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, MockRuntime, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::WebviewWindow;

pub struct Shell {
    pub window: WebviewWindow<MockRuntime>,
    app: tauri::App<MockRuntime>,
}

impl Shell {
    /// The app on `clinic`'s data folder, set up as the real app is.
    pub fn new(clinic: &Clinic) -> Shell {
        Shell::with_state(AppState::new(
            clinic.data_dir.clone(),
            clinic.environment.clone(),
        ))
    }

    pub fn with_state(state: AppState) -> Shell {
        let app = clinicdesk_desktop::with_commands(mock_builder(), state)
            .build(tauri::generate_context!())
            .expect("app builds");
        let window = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .expect("window");
        Shell { window, app }
    }

    /// The app's state, as the commands see it.
    pub fn state(&self) -> AppState {
        use tauri::Manager;
        self.app.state::<AppState>().inner().clone()
    }

    pub fn call(&self, command: &str, arguments: Value) -> Result<Value, Value> {
        call_on(&self.window, command, arguments)
    }
}

/// One command through IPC, as the window would send it.
pub fn call_on(
    window: &WebviewWindow<MockRuntime>,
    command: &str,
    arguments: Value,
) -> Result<Value, Value> {
    get_ipc_response(
        window,
        InvokeRequest {
            cmd: command.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(arguments),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|body| body.deserialize::<Value>().unwrap())
}
