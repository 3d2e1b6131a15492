//! The desktop shell through Tauri's IPC (no webview): errors cross as `{code, message}`, and no
//! command returns data a role may not see.

mod ipc_shell;

use clinicdesk_desktop::state::AppState;
use clinicdesk_tests::{Clinic, ADMIN_PASSWORD, STAFF_PASSWORD};
use ipc_shell::{call_on, Shell};
use serde_json::{json, Value};

#[test]
fn errors_cross_as_code_and_message() {
    let clinic = Clinic::new();
    let shell = Shell::new(&clinic);
    let not_logged_in = shell
        .call("search_patients", json!({ "query": "x" }))
        .unwrap_err();
    assert_eq!(not_logged_in["code"], "session_expired");
    assert!(not_logged_in["message"]
        .as_str()
        .unwrap()
        .contains("log in"));
    let wrong = shell
        .call(
            "login",
            json!({ "username": "admin", "password": "not the password" }),
        )
        .unwrap_err();
    assert_eq!(wrong["code"], "authentication_failed");
    let overview = shell.call("store_overview", json!({})).unwrap();
    assert_eq!(overview["initialized"], true);
    assert_eq!(overview["clinic_name"], "Riverside Family Clinic");
}

#[test]
fn no_command_returns_data_a_role_may_not_see() {
    let clinic = Clinic::with_staff();
    let mrn = clinic.register("Ngozi", "Okafor", "1984-03-27", Some("+49 30 1234567"));
    clinic
        .staff("dr.cole")
        .write_note(
            &mrn,
            clinicdesk_core::NoteKind::Clinical,
            None,
            "Private clinical note.",
            None,
        )
        .unwrap();
    let shell = Shell::new(&clinic);
    // (command, arguments, roles that may)
    let table: Vec<(&str, Value, &[&str])> = vec![
        (
            "search_patients",
            json!({ "query": "Okafor" }),
            &["front_desk", "nurse", "clinician", "manager"],
        ),
        (
            "open_chart",
            json!({ "mrn": mrn }),
            &["front_desk", "nurse", "clinician", "manager"],
        ),
        (
            "vitals_flowsheet",
            json!({ "mrn": mrn }),
            &["nurse", "clinician"],
        ),
        (
            "list_notes",
            json!({ "mrn": mrn, "search": null }),
            &["nurse", "clinician"],
        ),
        ("allergies", json!({ "mrn": mrn }), &["nurse", "clinician"]),
        (
            "allergy_state",
            json!({ "mrn": mrn }),
            &["front_desk", "nurse", "clinician"],
        ),
        (
            "medications",
            json!({ "mrn": mrn }),
            &["nurse", "clinician"],
        ),
        ("problems", json!({ "mrn": mrn }), &["nurse", "clinician"]),
        (
            "audit_list",
            json!({ "filter": {} }),
            &["administrator", "manager"],
        ),
        ("access_report", json!({ "mrn": mrn }), &["manager"]),
        ("list_users", json!({}), &["administrator", "manager"]),
        ("security_settings", json!({}), &["administrator"]),
        ("backup_status", json!({}), &["administrator", "manager"]),
        ("list_backups", json!({}), &["administrator", "manager"]),
        (
            "emergency_review_list",
            json!({ "includeReviewed": true }),
            &["manager"],
        ),
        (
            "week_schedule",
            json!({ "providerId": null, "firstDay": "2026-11-02" }),
            &["front_desk", "nurse", "clinician", "manager"],
        ),
    ];
    for (role, username, password) in [
        ("administrator", "admin", ADMIN_PASSWORD),
        ("front_desk", "frank", STAFF_PASSWORD),
        ("nurse", "nurse.joy", STAFF_PASSWORD),
        ("clinician", "dr.cole", STAFF_PASSWORD),
        ("manager", "mona", STAFF_PASSWORD),
    ] {
        let session = shell
            .call(
                "login",
                json!({ "username": username, "password": password }),
            )
            .unwrap();
        assert_eq!(session["user"]["role"], role);
        for (command, arguments, allowed) in &table {
            let response = shell.call(command, arguments.clone());
            match (allowed.contains(&role), response) {
                (true, Ok(_)) => {}
                (false, Err(error)) => assert_eq!(
                    error["code"], "permission_denied",
                    "{command} as {role}: {error}"
                ),
                (true, Err(error)) => panic!("{command} as {role} should work: {error}"),
                (false, Ok(data)) => {
                    panic!("{command} as {role} returned data it may not see: {data}")
                }
            }
        }
        // The chart a front-desk user opens has no clinical content in it.
        if role == "front_desk" || role == "manager" {
            let chart = shell.call("open_chart", json!({ "mrn": mrn })).unwrap();
            assert!(
                chart["recent_notes"].as_array().unwrap().is_empty(),
                "{role} sees no notes"
            );
            assert!(
                chart["recent_vitals"].as_array().unwrap().is_empty(),
                "{role} sees no vitals"
            );
        }
        if role == "clinician" {
            let chart = shell.call("open_chart", json!({ "mrn": mrn })).unwrap();
            assert_eq!(chart["recent_notes"][0]["body"], "Private clinical note.");
        }
        // An administrator's audit view holds security events only: no patient ids.
        if role == "administrator" {
            let entries = shell
                .call("audit_list", json!({ "filter": { "limit": 10000 } }))
                .unwrap();
            assert!(
                entries["entries"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|e| e["patient_id"].is_null()),
                "no patient data for administrators"
            );
        }
        shell.call("logoff", json!({ "idle": false })).unwrap();
    }
}

#[test]
fn a_draft_saved_before_idle_logoff_is_offered_back_to_the_same_user() {
    let clinic = Clinic::with_staff();
    let shell = Shell::new(&clinic);
    shell
        .call(
            "login",
            json!({ "username": "nurse.joy", "password": STAFF_PASSWORD }),
        )
        .unwrap();
    shell
        .call(
            "save_draft",
            json!({ "formKey": "vitals:4830172955", "payload": { "systolic": "142" } }),
        )
        .unwrap();
    clinic.clock.advance(chrono::Duration::seconds(601));
    let expired = shell.call("touch", json!({})).unwrap_err();
    assert_eq!(expired["code"], "session_expired");
    shell
        .call(
            "login",
            json!({ "username": "dr.cole", "password": STAFF_PASSWORD }),
        )
        .unwrap();
    assert_eq!(shell.call("drafts", json!({})).unwrap(), json!([]));
    shell
        .call(
            "login",
            json!({ "username": "nurse.joy", "password": STAFF_PASSWORD }),
        )
        .unwrap();
    let drafts = shell.call("drafts", json!({})).unwrap();
    assert_eq!(drafts[0]["payload"]["systolic"], "142");
}

#[test]
fn every_command_is_granted_and_registered() {
    let clinic = Clinic::new();
    let shell = Shell::new(&clinic);
    assert!(clinicdesk_desktop::bindings::COMMAND_SIGNATURES.len() > 50);
    for command in clinicdesk_desktop::bindings::COMMAND_SIGNATURES
        .iter()
        .map(|signature| signature.name)
    {
        // Arguments are deliberately missing: a registered, granted command answers with its own
        // complaint about them (or works); an unknown or ungranted one is refused by Tauri.
        let outcome = shell.call(command, json!({}));
        if let Err(error) = outcome {
            let text = error.to_string();
            assert!(
                !text.contains("not allowed") && !text.contains("not found"),
                "{command}: {text}"
            );
        }
    }
    let unknown = shell
        .call("drop_all_tables", json!({}))
        .unwrap_err()
        .to_string();
    assert!(
        unknown.contains("not found") || unknown.contains("not allowed"),
        "{unknown}"
    );
}

/// Runs `call` on a thread of its own and waits at most a minute for it: a command that waits on
/// something held elsewhere fails the test instead of hanging it.
fn answers_within_a_minute<T: Send + 'static>(call: impl FnOnce() -> T + Send + 'static) -> T {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(call());
    });
    receiver
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the command did not answer while a sync and a backup were running")
}

/// A backup run as the app runs its jobs, stopped in its first progress report (so in the middle
/// of reading the store) until the returned sender says go on; joined for its outcome.
fn backup_paused_in_the_middle(
    state: AppState,
) -> (
    std::thread::JoinHandle<clinicdesk_core::Result<clinicdesk_core::BackupFacts>>,
    std::sync::mpsc::SyncSender<()>,
) {
    let (reached, in_the_middle) = std::sync::mpsc::sync_channel::<()>(0);
    let (go_on, released) = std::sync::mpsc::sync_channel::<()>(0);
    let backup = std::thread::spawn(move || {
        let mut first = true;
        tauri::async_runtime::block_on(state.with_job(
            |session| session.prepare_backup(None),
            move |job| {
                job.run(&mut |_| {
                    if std::mem::take(&mut first) {
                        reached.send(()).unwrap();
                        released.recv().unwrap();
                    }
                })
            },
        ))
    });
    in_the_middle
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the backup started");
    (backup, go_on)
}

/// A central server that takes the connection and then says nothing until told to hang up: a
/// sync against it waits on the network for as long as the test wants.
struct SilentServer {
    port: u16,
    connected: std::sync::mpsc::Receiver<()>,
    hang_up: std::sync::mpsc::SyncSender<()>,
}

impl SilentServer {
    fn start() -> SilentServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (reached, connected) = std::sync::mpsc::sync_channel(1);
        let (hang_up, told) = std::sync::mpsc::sync_channel(1);
        std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            reached.send(()).unwrap();
            let _ = told.recv();
            drop(stream);
        });
        SilentServer {
            port,
            connected,
            hang_up,
        }
    }
}

#[test]
fn short_commands_answer_while_a_sync_waits_on_the_network_and_a_backup_runs() {
    let clinic = Clinic::with_staff();
    let mrn = clinic.register("Ngozi", "Okafor", "1984-03-27", None);
    let server = SilentServer::start();
    clinic
        .login("admin", ADMIN_PASSWORD)
        .unwrap()
        .save_sync_enrolment(clinicdesk_core::SyncEnrolment {
            server_url: format!("postgres://127.0.0.1:{}/clinicdesk", server.port),
            workstation_role: "cdws_silent".into(),
            workstation_password: "not used".to_owned().into(),
            certificate_sha256: "00".repeat(32),
            clinic_id: String::new(),
        })
        .unwrap();
    let shell = Shell::new(&clinic);
    shell
        .call(
            "login",
            json!({ "username": "mona", "password": STAFF_PASSWORD }),
        )
        .unwrap();
    // A sync on demand, as the header's button asks for it: it waits on the silent server.
    let window = shell.window.clone();
    let sync = std::thread::spawn(move || call_on(&window, "sync_now", json!({})));
    server
        .connected
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the sync reached the server");
    // The backup runs as the app runs it, stopped in the middle of reading the store.
    let (backup, go_on) = backup_paused_in_the_middle(shell.state());

    let window = shell.window.clone();
    let touched = answers_within_a_minute(move || call_on(&window, "touch", json!({})));
    assert!(touched.unwrap().as_i64().unwrap() > 0);
    let window = shell.window.clone();
    let search = mrn.clone();
    let found = answers_within_a_minute(move || {
        call_on(&window, "search_patients", json!({ "query": search }))
    })
    .unwrap();
    assert_eq!(found[0]["mrn"], mrn.as_str());
    let window = shell.window.clone();
    let status =
        answers_within_a_minute(move || call_on(&window, "backup_status", json!({}))).unwrap();
    assert_eq!(status["failing"], false);
    // The header says a sync is under way, with the changes that wait.
    let window = shell.window.clone();
    let overview =
        answers_within_a_minute(move || call_on(&window, "sync_overview", json!({}))).unwrap();
    assert_eq!(overview["activity"]["running"], true, "{overview}");
    assert!(
        overview["status"]["pending_changes"].as_i64().unwrap() > 0,
        "{overview}"
    );

    go_on.send(()).unwrap();
    let made = backup.join().unwrap().expect("the backup finishes");
    let listed = shell.call("list_backups", json!({})).unwrap();
    assert_eq!(listed[0]["backup_id"], made.backup_id.as_str());

    server.hang_up.send(()).unwrap();
    let failed = sync.join().unwrap().unwrap_err();
    assert_eq!(failed["code"], "server_unreachable", "{failed}");
    let overview = shell.call("sync_overview", json!({})).unwrap();
    assert_eq!(overview["activity"]["running"], false);
    assert_eq!(
        overview["activity"]["online"], false,
        "the header shows offline"
    );
    assert_eq!(overview["status"]["last_error_code"], "server_unreachable");
}

#[test]
fn a_restore_waits_for_the_apps_own_running_backup_instead_of_being_refused() {
    let clinic = Clinic::with_staff();
    let kept = clinic.register("Amara", "Nwosu", "1979-11-02", None);
    let backup_file = clinic
        .staff("mona")
        .create_backup(None, &mut |_| {})
        .expect("a backup to restore")
        .path;
    let later = clinic.register("Bruno", "Keller", "1990-06-14", None);
    let shell = Shell::new(&clinic);
    shell
        .call(
            "login",
            json!({ "username": "mona", "password": STAFF_PASSWORD }),
        )
        .unwrap();
    // A backup runs as the schedule runs it, stopped in the middle: it has the store open on a
    // connection of its own.
    let (backup, go_on) = backup_paused_in_the_middle(shell.state());

    let window = shell.window.clone();
    let restore = std::thread::spawn(move || {
        call_on(
            &window,
            "restore_backup",
            json!({ "path": backup_file, "onProgress": "__CHANNEL__:1" }),
        )
    });
    let state = shell.state();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while state.waiting_for_jobs().is_none() {
        assert!(
            !restore.is_finished(),
            "the restore answered before the backup ended: {:?}",
            restore.join().unwrap()
        );
        assert!(
            std::time::Instant::now() < deadline,
            "the restore never waited for the backup"
        );
        std::thread::yield_now();
    }
    assert_eq!(state.waiting_for_jobs(), Some("A restore"));

    go_on.send(()).unwrap();
    backup.join().unwrap().expect("the backup finishes");
    let restored = restore.join().unwrap();
    assert!(restored.is_ok(), "{restored:?}");
    let found = shell
        .call("search_patients", json!({ "query": kept }))
        .unwrap();
    assert_eq!(found[0]["mrn"], kept.as_str());
    let gone = shell
        .call("search_patients", json!({ "query": later }))
        .unwrap();
    assert_eq!(gone, json!([]), "the patient registered after the backup");
}
