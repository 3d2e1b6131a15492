//! Builds the Tauri context. The app's commands are listed once, in `commands.txt`: from it this
//! script declares the app manifest (each command denied unless granted) and writes the main
//! window's capability, which grants exactly those commands and nothing else.

fn main() {
    println!("cargo:rerun-if-changed=commands.txt");
    let list = std::fs::read_to_string("commands.txt").expect("commands.txt");
    let commands: &'static [&'static str] = Vec::leak(
        list.lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(|line| &*Box::leak(line.to_owned().into_boxed_str()))
            .collect::<Vec<&'static str>>(),
    );
    let permissions: Vec<String> = commands
        .iter()
        .map(|c| format!("\"allow-{}\"", c.replace('_', "-")))
        .collect();
    let capability = format!(
        "{{\n  \"$schema\": \"../gen/schemas/desktop-schema.json\",\n  \"identifier\": \"main\",\n  \"description\": \"Written by build.rs from commands.txt: the main window may call Clinicdesk's own commands and nothing else (no file system, shell, HTTP or other plugins).\",\n  \"windows\": [\"main\"],\n  \"permissions\": [\n    {}\n  ]\n}}\n",
        permissions.join(",\n    ")
    );
    std::fs::create_dir_all("capabilities").expect("capabilities folder");
    let path = "capabilities/main.json";
    if std::fs::read_to_string(path).ok().as_deref() != Some(capability.as_str()) {
        std::fs::write(path, capability).expect("write the capability");
    }
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(commands)),
    )
    .expect("tauri build step");
}
