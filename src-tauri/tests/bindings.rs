//! The committed TypeScript (types, command wrappers and text limits) matches the Rust, and
//! every type a command names is declared.

fn check(file: &str, generated: String) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../ui/src/lib")
        .join(file);
    if std::env::var("UPDATE_BINDINGS").as_deref() == Ok("1") {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "ui/src/lib/{file} is stale: run `UPDATE_BINDINGS=1 cargo test -p clinicdesk-desktop --test bindings` and commit the result"
    );
}

#[test]
fn the_committed_typescript_types_are_current() {
    check(
        "bindings.ts",
        clinicdesk_desktop::bindings::typescript_bindings(),
    );
}

#[test]
fn the_committed_command_wrappers_are_current() {
    check(
        "commands.ts",
        clinicdesk_desktop::bindings::typescript_commands(),
    );
}

#[test]
fn the_committed_text_limits_are_current() {
    check("limits.ts", clinicdesk_core::limits_typescript_module());
}

#[test]
fn every_type_a_command_names_is_declared() {
    let declared = clinicdesk_desktop::bindings::typescript_bindings();
    for name in clinicdesk_desktop::bindings::types_used_by_commands() {
        assert!(
            declared.contains(&format!("export type {name} ")),
            "a command uses {name}, which bindings.ts does not declare: add it to bindings.rs"
        );
    }
}
