//! Signed updates with the real tauri-plugin-updater: a real Debian package, signed with a key
//! the test generates the way `tauri signer` does, offered by an update manifest served on the
//! loopback interface. A correctly signed newer version is installed (unpacked into a temporary
//! folder); a tampered package, another key's signature, a signature for another version, an
//! older version, a cut-off download and unreachable or malformed endpoints are refused, audited,
//! and install nothing. An update that changes the schema is preceded by a verified backup, and the
//! new version migrates a store of the previous one with everyone still able to sign in.

mod ipc_shell;
mod update_server;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use clinicdesk_desktop::state::AppState;
use clinicdesk_desktop::updates::{UpdateInstallation, UpdateProgress, UpdateSetup};
use clinicdesk_tests::{Clinic, ADMIN, ADMIN_PASSWORD, STAFF_PASSWORD};
use ipc_shell::Shell;
use serde_json::{json, Value};
use update_server::{debian_package, Reply, SigningKey, UpdateServer};

/// The version the app under test has (tauri.conf.json).
const INSTALLED: &str = "0.1.0";

/// The app trusting `key` for updates and installing them as `installation` says.
fn shell_trusting(clinic: &Clinic, key: &SigningKey, installation: UpdateInstallation) -> Shell {
    Shell::with_state(AppState::with_update_setup(
        clinic.data_dir.clone(),
        clinic.environment.clone(),
        UpdateSetup {
            installation,
            public_key: Some(key.public_key()),
        },
    ))
}

fn sign_in(shell: &Shell, username: &str, password: &str) -> Value {
    shell
        .call(
            "login",
            json!({ "username": username, "password": password }),
        )
        .unwrap_or_else(|error| panic!("{username} signs in: {error}"))
}

fn point_at(shell: &Shell, server: &UpdateServer) {
    shell
        .call(
            "set_update_settings",
            json!({ "settings": { "endpoint": server.url("/latest.json") } }),
        )
        .unwrap();
}

fn install(shell: &Shell) -> Result<Value, Value> {
    shell.call("install_update", json!({ "onProgress": "__CHANNEL__:1" }))
}

/// Installs directly (not through IPC), collecting every progress report.
fn install_watching_progress(
    shell: &Shell,
) -> (Vec<UpdateProgress>, clinicdesk_core::Result<Value>) {
    let state = shell.state();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let reports = seen.clone();
    let outcome = tauri::async_runtime::block_on(clinicdesk_desktop::updates::install(
        &state,
        move |progress| reports.lock().unwrap().push(progress),
    ));
    let seen = seen.lock().unwrap().clone();
    (
        seen,
        outcome.map(|installed| serde_json::to_value(installed).unwrap()),
    )
}

/// One clinic, its update server and signing key, and the app trusting that key.
struct Setting {
    clinic: Clinic,
    key: SigningKey,
    server: UpdateServer,
    folder: tempfile::TempDir,
    package: Vec<u8>,
    shell: Shell,
}

impl Setting {
    /// Updates unpacked into a temporary root.
    fn new() -> Setting {
        Setting::installing(UpdateInstallation::UnpackInto)
    }

    fn installing(installation: impl FnOnce(PathBuf) -> UpdateInstallation) -> Setting {
        let clinic = Clinic::with_staff();
        let key = SigningKey::generate();
        let server = UpdateServer::start();
        let folder = tempfile::tempdir().unwrap();
        let package = debian_package(folder.path(), "0.2.0");
        server.serve("/package.deb", Reply::Bytes(package.clone()));
        let shell = shell_trusting(&clinic, &key, installation(folder.path().join("root")));
        sign_in(&shell, ADMIN, ADMIN_PASSWORD);
        point_at(&shell, &server);
        Setting {
            clinic,
            key,
            server,
            folder,
            package,
            shell,
        }
    }

    fn install_root(&self) -> PathBuf {
        self.folder.path().join("root")
    }

    /// Every file unpacked into the install root.
    fn installed_files(&self) -> Vec<String> {
        fn walk(folder: &Path, base: &Path, found: &mut Vec<String>) {
            let Ok(entries) = std::fs::read_dir(folder) else {
                return;
            };
            for entry in entries {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, base, found);
                } else {
                    found.push(path.strip_prefix(base).unwrap().display().to_string());
                }
            }
        }
        let mut found = Vec::new();
        walk(&self.install_root(), &self.install_root(), &mut found);
        found.sort();
        found
    }

    /// The store's records: the row count of every table but the audit trail.
    fn records(&self) -> Vec<(String, i64)> {
        let store = self.clinic.raw_store();
        clinicdesk_core::TABLES
            .iter()
            .filter(|table| table.name != "audit_log")
            .map(|table| {
                let count: i64 = store
                    .query_row(&format!("SELECT count(*) FROM {}", table.name), [], |row| {
                        row.get(0)
                    })
                    .unwrap();
                (table.name.to_owned(), count)
            })
            .collect()
    }

    /// The audit entries after `seq`: (action, outcome, details).
    fn audit_after(&self, seq: i64) -> Vec<(String, String, Value)> {
        let store = self.clinic.raw_store();
        let mut query = store
            .prepare("SELECT action, outcome, details FROM audit_log WHERE seq > ?1 ORDER BY seq")
            .unwrap();
        let rows = query
            .query_map([seq], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    serde_json::from_str(&row.get::<_, String>(2)?).unwrap(),
                ))
            })
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        rows
    }

    fn audit_head(&self) -> i64 {
        self.clinic
            .raw_store()
            .query_row("SELECT max(seq) FROM audit_log", [], |row| row.get(0))
            .unwrap()
    }

    /// Offers the package with a correct signature for 0.2.0.
    fn offer_signed(&self, schema_version: Option<i64>) {
        let signature = self
            .key
            .sign(&self.package, "clinicdesk_0.2.0_amd64.deb", "0.2.0");
        self.server.offer("0.2.0", &signature, schema_version);
    }

    fn store_schema(&self) -> i64 {
        i64::from(clinicdesk_store::applied_schema_version(&self.clinic.raw_store()).unwrap())
    }
}

/// One refusal: what the administrator sees (the offers name the store's own schema, so that no
/// backup comes first and every table can be compared) (code and a phrase of the message), the audit entry's
/// reason, and that nothing was installed and no record changed.
fn check_refused(
    setting: &Setting,
    step: impl FnOnce(&Shell) -> Result<Value, Value>,
    code: &str,
    phrase: &str,
    reason: &str,
) {
    let (records, head) = (setting.records(), setting.audit_head());
    let error = step(&setting.shell).expect_err("the update is refused");
    assert_eq!(error["code"], code, "{error}");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains(phrase), "{message:?} lacks {phrase:?}");
    assert!(
        setting.installed_files().is_empty(),
        "nothing is installed: {:?}",
        setting.installed_files()
    );
    assert_eq!(setting.records(), records, "the records are unchanged");
    let audit = setting.audit_after(head);
    let refusals: Vec<_> = audit
        .iter()
        .filter(|(action, ..)| action == "update.refused")
        .collect();
    assert_eq!(refusals.len(), 1, "one refusal is audited: {audit:?}");
    let (_, outcome, details) = refusals[0];
    assert_eq!(outcome, "failure");
    assert_eq!(details["reason"], reason, "{details}");
    assert_eq!(details["installed_version"], INSTALLED);
    assert!(
        !audit.iter().any(|(action, ..)| action == "update.install"),
        "{audit:?}"
    );
}

#[test]
fn a_correctly_signed_newer_version_is_offered_with_its_notes_and_installed() {
    let setting = Setting::new();
    let schema = setting.store_schema();
    setting.offer_signed(Some(schema));

    let offered = setting
        .shell
        .call("check_for_update", json!({ "quiet": false }))
        .unwrap();
    assert_eq!(offered["kind"], "available", "{offered}");
    assert_eq!(offered["offer"]["version"], "0.2.0");
    assert_eq!(offered["offer"]["installed_version"], INSTALLED);
    assert_eq!(
        offered["offer"]["notes"],
        "Clinicdesk 0.2.0: allergies on the day list."
    );
    assert_eq!(offered["offer"]["published_at"], "2026-12-01T09:00:00Z");
    // Same schema: no backup needed first.
    assert_eq!(offered["plan"]["backup_first"], false);

    // Everyone signed in here is told a new version waits, before it is installed.
    let notice = setting.shell.call("update_notice", json!({})).unwrap();
    assert_eq!(notice["installed_version"], INSTALLED);
    assert_eq!(notice["available"]["version"], "0.2.0");

    let head = setting.audit_head();
    let (progress, installed) = install_watching_progress(&setting.shell);
    let installed = installed.expect("the update installs");
    assert_eq!(installed["version"], "0.2.0");
    assert_eq!(installed["backup_file"], Value::Null);
    assert_eq!(
        setting.installed_files(),
        vec![
            "usr/bin/clinicdesk-desktop".to_owned(),
            "usr/share/doc/clinicdesk/VERSION".to_owned()
        ]
    );
    assert_eq!(
        std::fs::read_to_string(
            setting
                .install_root()
                .join("usr/share/doc/clinicdesk/VERSION")
        )
        .unwrap(),
        "0.2.0"
    );
    // Progress: the download to its full size, then the install; no backup.
    let downloaded: Vec<u64> = progress
        .iter()
        .filter_map(|report| match report {
            UpdateProgress::Download { received_bytes, .. } => Some(*received_bytes),
            _ => None,
        })
        .collect();
    assert_eq!(
        downloaded.last().copied(),
        Some(setting.package.len() as u64)
    );
    assert_eq!(progress.last(), Some(&UpdateProgress::Install));
    assert!(!progress
        .iter()
        .any(|report| matches!(report, UpdateProgress::Backup { .. })));
    let audit = setting.audit_after(head);
    let install = audit
        .iter()
        .find(|(action, ..)| action == "update.install")
        .expect("the install is audited");
    assert_eq!(install.1, "success");
    assert_eq!(install.2["from_version"], INSTALLED);
    assert_eq!(install.2["to_version"], "0.2.0");
    // The offer is used up: nothing waits any more.
    let notice = setting.shell.call("update_notice", json!({})).unwrap();
    assert_eq!(notice["available"], Value::Null);
}

#[test]
fn an_update_that_changes_the_schema_is_installed_only_after_a_verified_backup() {
    let setting = Setting::new();
    let schema = setting.store_schema();
    for announced in [Some(schema + 1), None] {
        setting.offer_signed(announced);
        let offered = setting
            .shell
            .call("check_for_update", json!({ "quiet": false }))
            .unwrap();
        assert_eq!(
            offered["plan"]["backup_first"], true,
            "{announced:?}: {offered}"
        );
        let head = setting.audit_head();
        let (progress, installed) = install_watching_progress(&setting.shell);
        let installed = installed.expect("the update installs");
        let backup = installed["backup_file"]
            .as_str()
            .expect("a backup was made");
        assert!(Path::new(backup).is_file(), "{backup}");
        // Made, verified, then the update: in that order in the audit trail and the progress.
        let actions: Vec<String> = setting
            .audit_after(head)
            .into_iter()
            .filter(|(_, outcome, _)| outcome == "success")
            .map(|(action, ..)| action)
            .filter(|action| action.starts_with("backup.") || action.starts_with("update."))
            .collect();
        assert_eq!(
            actions,
            ["backup.create", "backup.verify", "update.install"],
            "{announced:?}"
        );
        // The package is downloaded and its signature checked first (no backup for a package
        // that will be refused), then the backup, then the install.
        let first_backup = progress
            .iter()
            .position(|report| matches!(report, UpdateProgress::Backup { .. }))
            .expect("the backup reports progress");
        assert!(progress[..first_backup]
            .iter()
            .any(|report| matches!(report, UpdateProgress::Download { .. })));
        assert!(!progress[first_backup..]
            .iter()
            .any(|report| matches!(report, UpdateProgress::Download { .. })));
        assert_eq!(progress.last(), Some(&UpdateProgress::Install));
        // The backup restores: it is the clinic as it was just before the update.
        let facts = setting
            .shell
            .call(
                "verify_backup",
                json!({ "path": backup, "onProgress": "__CHANNEL__:1" }),
            )
            .unwrap();
        assert_eq!(facts["row_counts"]["users"], 5);
        std::fs::remove_dir_all(setting.install_root()).unwrap();
    }
}

#[test]
fn a_tampered_package_is_refused_and_nothing_is_installed() {
    let setting = Setting::new();
    setting.offer_signed(Some(setting.store_schema()));
    setting
        .shell
        .call("check_for_update", json!({ "quiet": false }))
        .unwrap();
    let mut tampered = setting.package.clone();
    let middle = tampered.len() / 2;
    tampered[middle] ^= 0x01;
    setting.server.serve("/package.deb", Reply::Bytes(tampered));
    check_refused(
        &setting,
        install,
        "update_refused",
        "does not match its signature",
        "bad_signature",
    );
    // A refused package is not offered to anyone any more, not even by the next check.
    let notice = setting.shell.call("update_notice", json!({})).unwrap();
    assert_eq!(notice["available"], Value::Null);
    let again = setting
        .shell
        .call("check_for_update", json!({ "quiet": false }))
        .unwrap();
    assert_eq!(again["kind"], "refused_earlier", "{again}");
    assert_eq!(again["version"], "0.2.0");
    assert!(install(&setting.shell).is_err());
    assert!(setting.installed_files().is_empty());
}

#[test]
fn a_signature_that_names_no_version_is_refused() {
    let setting = Setting::new();
    let signature = setting
        .key
        .sign_without_version(&setting.package, "clinicdesk_0.2.0_amd64.deb");
    setting
        .server
        .offer("0.2.0", &signature, Some(setting.store_schema()));
    setting
        .shell
        .call("check_for_update", json!({ "quiet": false }))
        .unwrap();
    check_refused(
        &setting,
        install,
        "update_refused",
        "signature is for another version",
        "signed_for_another_version",
    );
}

#[test]
fn a_package_offered_at_a_plain_http_address_elsewhere_is_refused_at_the_check() {
    let setting = Setting::new();
    let signature = setting
        .key
        .sign(&setting.package, "clinicdesk_0.2.0_amd64.deb", "0.2.0");
    setting.server.serve(
        "/latest.json",
        Reply::Json(json!({
            "version": "0.2.0",
            "notes": "Clinicdesk 0.2.0",
            "pub_date": "2026-12-01T09:00:00Z",
            "platforms": { "linux-x86_64": {
                "signature": signature,
                "url": "http://mirror.example.org/clinicdesk_0.2.0_amd64.deb"
            } }
        })),
    );
    check_refused(
        &setting,
        |shell| shell.call("check_for_update", json!({ "quiet": false })),
        "update_refused",
        "names a package address that is not https",
        "insecure_package_address",
    );
}

#[test]
fn a_copy_not_installed_from_the_package_says_so_before_any_backup() {
    // The app as it runs from a source checkout: it would hand the package to the system.
    let setting = Setting::installing(|_| UpdateInstallation::SystemPackage);
    // No schema in the manifest: a backup would come first, if the install went that far.
    setting.offer_signed(None);
    setting
        .shell
        .call("check_for_update", json!({ "quiet": false }))
        .unwrap();
    check_refused(
        &setting,
        install,
        "update_refused",
        "was not installed from the Debian package",
        "not_installed_from_package",
    );
}

#[test]
fn a_package_signed_with_another_key_is_refused() {
    let setting = Setting::new();
    let stranger = SigningKey::generate();
    let signature = stranger.sign(&setting.package, "clinicdesk_0.2.0_amd64.deb", "0.2.0");
    setting
        .server
        .offer("0.2.0", &signature, Some(setting.store_schema()));
    setting
        .shell
        .call("check_for_update", json!({ "quiet": false }))
        .unwrap();
    check_refused(
        &setting,
        install,
        "update_refused",
        "not signed with the Clinicdesk project's key",
        "signed_by_another_key",
    );
}

#[test]
fn a_genuine_package_announced_as_another_version_is_refused() {
    let setting = Setting::new();
    // The project really signed this package, but as 0.1.5; the manifest calls it 0.2.0.
    let signature = setting
        .key
        .sign(&setting.package, "clinicdesk_0.1.5_amd64.deb", "0.1.5");
    setting
        .server
        .offer("0.2.0", &signature, Some(setting.store_schema()));
    setting
        .shell
        .call("check_for_update", json!({ "quiet": false }))
        .unwrap();
    check_refused(
        &setting,
        install,
        "update_refused",
        "signature is for another version",
        "signed_for_another_version",
    );
}

#[test]
fn a_download_cut_off_before_the_end_is_refused() {
    let setting = Setting::new();
    setting.offer_signed(Some(setting.store_schema()));
    setting
        .shell
        .call("check_for_update", json!({ "quiet": false }))
        .unwrap();
    let sent = setting.package.len() / 3;
    setting.server.serve(
        "/package.deb",
        Reply::CutOff {
            bytes: setting.package.clone(),
            sent,
        },
    );
    check_refused(
        &setting,
        install,
        "update_refused",
        "stopped before the whole package arrived",
        "incomplete_download",
    );
}

#[test]
fn an_older_version_is_refused_at_the_check_and_cannot_be_installed() {
    let setting = Setting::new();
    let older = debian_package(setting.folder.path(), "0.0.9");
    let signature = setting
        .key
        .sign(&older, "clinicdesk_0.0.9_amd64.deb", "0.0.9");
    setting.server.serve("/package.deb", Reply::Bytes(older));
    setting.server.offer("0.0.9", &signature, None);
    check_refused(
        &setting,
        |shell| shell.call("check_for_update", json!({ "quiet": false })),
        "update_refused",
        "older than the version installed here",
        "older_version",
    );
    let nothing = install(&setting.shell).unwrap_err();
    assert_eq!(nothing["code"], "conflict");
    assert!(nothing["message"]
        .as_str()
        .unwrap()
        .contains("check for updates first"));
}

#[test]
fn unreachable_and_malformed_update_addresses_are_refused_clearly() {
    let setting = Setting::new();
    // A server that answers with a web page instead of a manifest.
    setting
        .server
        .serve("/latest.json", Reply::Text("<html>Welcome</html>"));
    check_refused(
        &setting,
        |shell| shell.call("check_for_update", json!({ "quiet": false })),
        "update_server_unreachable",
        "did not answer with an update manifest",
        "malformed_manifest",
    );
    // A manifest without the fields of one.
    setting
        .server
        .serve("/latest.json", Reply::Json(json!({ "hello": "world" })));
    check_refused(
        &setting,
        |shell| shell.call("check_for_update", json!({ "quiet": false })),
        "update_server_unreachable",
        "did not answer with an update manifest",
        "malformed_manifest",
    );
    // Nobody listens at the address.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    setting
        .shell
        .call(
            "set_update_settings",
            json!({ "settings": { "endpoint": format!("http://127.0.0.1:{port}/latest.json") } }),
        )
        .unwrap();
    check_refused(
        &setting,
        |shell| shell.call("check_for_update", json!({ "quiet": false })),
        "update_server_unreachable",
        "cannot be reached",
        "server_unreachable",
    );
    // The quiet check made when an administrator signs in says the same, and records nothing.
    let head = setting.audit_head();
    let quiet = setting
        .shell
        .call("check_for_update", json!({ "quiet": true }))
        .unwrap_err();
    assert_eq!(quiet["code"], "update_server_unreachable");
    assert_eq!(setting.audit_after(head), vec![]);
}

#[test]
fn update_addresses_are_checked_and_only_administrators_manage_updates() {
    let setting = Setting::new();
    let wrong = setting
        .shell
        .call(
            "set_update_settings",
            json!({ "settings": { "endpoint": "http://updates.example.org/latest.json" } }),
        )
        .unwrap_err();
    assert_eq!(wrong["code"], "invalid_input");
    assert_eq!(wrong["field"], "endpoint");
    let kept = setting.shell.call("update_settings", json!({})).unwrap();
    assert_eq!(kept["endpoint"], setting.server.url("/latest.json"));
    setting
        .shell
        .call(
            "set_update_settings",
            json!({ "settings": { "endpoint": "" } }),
        )
        .unwrap();
    let none = setting
        .shell
        .call("check_for_update", json!({ "quiet": false }))
        .unwrap_err();
    assert_eq!(none["code"], "invalid_input");
    assert!(none["message"]
        .as_str()
        .unwrap()
        .contains("No update address is set"));
    point_at(&setting.shell, &setting.server);
    setting.offer_signed(None);
    setting
        .shell
        .call("check_for_update", json!({ "quiet": false }))
        .unwrap();

    // Changing the address forgets what the old one offered.
    setting
        .shell
        .call(
            "set_update_settings",
            json!({ "settings": { "endpoint": "https://updates.riverside.example/latest.json" } }),
        )
        .unwrap();
    let notice = setting.shell.call("update_notice", json!({})).unwrap();
    assert_eq!(notice["available"], Value::Null);
    point_at(&setting.shell, &setting.server);
    setting
        .shell
        .call("check_for_update", json!({ "quiet": false }))
        .unwrap();

    // Another person signs in on this workstation: they are told, and may not install.
    setting
        .shell
        .call("logoff", json!({ "idle": false }))
        .unwrap();
    sign_in(&setting.shell, "mona", STAFF_PASSWORD);
    let notice = setting.shell.call("update_notice", json!({})).unwrap();
    assert_eq!(notice["available"]["version"], "0.2.0");
    for (command, arguments) in [
        ("check_for_update", json!({ "quiet": false })),
        ("install_update", json!({ "onProgress": "__CHANNEL__:1" })),
        ("update_settings", json!({})),
        (
            "set_update_settings",
            json!({ "settings": { "endpoint": null } }),
        ),
    ] {
        let denied = setting.shell.call(command, arguments).unwrap_err();
        assert_eq!(denied["code"], "permission_denied", "{command}: {denied}");
    }
    assert!(setting.installed_files().is_empty());
}

#[test]
fn the_new_version_migrates_a_store_of_the_previous_version_and_everyone_signs_in() {
    let clinic = Clinic::with_staff();
    let latest = clinicdesk_store::EMBEDDED_MIGRATIONS
        .last()
        .unwrap()
        .version;
    clinicdesk_tests::previous_schema::downgrade_to_previous_schema(&clinic.raw_store());
    let key = SigningKey::generate();
    let root = tempfile::tempdir().unwrap();
    let shell = shell_trusting(
        &clinic,
        &key,
        UpdateInstallation::UnpackInto(root.path().to_owned()),
    );
    for (username, password) in [
        (ADMIN, ADMIN_PASSWORD),
        ("frank", STAFF_PASSWORD),
        ("nurse.joy", STAFF_PASSWORD),
        ("dr.cole", STAFF_PASSWORD),
        ("mona", STAFF_PASSWORD),
    ] {
        let session = sign_in(&shell, username, password);
        assert_eq!(session["user"]["username"], username, "{session}");
        assert_eq!(session["store_damage"], Value::Null);
        shell.call("logoff", json!({ "idle": false })).unwrap();
    }
    let store = clinic.raw_store();
    assert_eq!(
        clinicdesk_store::applied_schema_version(&store).unwrap(),
        latest
    );
    let copies: Vec<_> = std::fs::read_dir(clinic.data_dir.pre_migration_folder())
        .expect("a pre-migration copy was taken")
        .collect();
    assert_eq!(copies.len(), 1, "{copies:?}");
    let (integrity,): (String,) = store
        .query_row("PRAGMA integrity_check", [], |row| Ok((row.get(0)?,)))
        .unwrap();
    assert_eq!(integrity, "ok");
}
