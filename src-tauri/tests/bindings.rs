//! The committed TypeScript bindings match the Rust types.

#[test]
fn the_committed_typescript_bindings_are_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/lib/bindings.ts");
    let generated = clinicdesk_desktop::bindings::typescript_bindings();
    if std::env::var("UPDATE_BINDINGS").as_deref() == Ok("1") {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "ui/src/lib/bindings.ts is stale: run `UPDATE_BINDINGS=1 cargo test -p clinicdesk-desktop --test bindings` and commit the result"
    );
}
