//! Builds the Tauri context and declares the app's own commands, so each one is denied unless a
//! capability grants it (capabilities/main.json).

fn main() {
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(
        tauri_build::AppManifest::new().commands(&[
            "store_overview",
            "login",
            "store_status",
            "logoff",
        ]),
    ))
    .expect("tauri build step");
}
