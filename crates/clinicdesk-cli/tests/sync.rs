//! The central server and a workstation set up the way the README says, with the `clinicdesk`
//! program against a real PostgreSQL: `server init`, `add-clinic`, `add-workstation`,
//! `sync enroll`, `sync now`, `sync status`, `server status`, `server audit verify`.

mod support;

use clinicdesk_tests::central::CentralServer;
use support::{Cli, ADMIN_PASSWORD, STAFF_PASSWORD};

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|_| panic!("not JSON: {text}"))
}

#[test]
fn a_clinic_is_set_up_on_a_central_server_and_its_workstation_syncs_from_the_command_line() {
    let server = CentralServer::start_without_schema();
    let database = server.owner_url();
    let owner = Cli::clinic(&[]);
    let init = owner.ok(&["server", "init", "--database-url", &database], "");
    assert!(init.contains("Created the central schema"), "{init}");
    let again = owner.run(&["server", "init", "--database-url", &database], "");
    assert_eq!(again.status.code(), Some(2), "a second init is refused");

    let clinic = json(&owner.ok(
        &[
            "server",
            "add-clinic",
            "--database-url",
            &database,
            "--name",
            "Riverside",
            "--json",
        ],
        "",
    ));
    let clinic_id = clinic["clinic_id"].as_str().unwrap().to_owned();
    let certificate = server.certificate_file();
    let added = json(&owner.ok(
        &[
            "server",
            "add-workstation",
            "--database-url",
            &database,
            "--clinic",
            "Riverside",
            "--label",
            "front desk",
            "--certificate",
            certificate.to_str().unwrap(),
            "--json",
        ],
        "",
    ));
    let code = added["code"].as_str().unwrap().to_owned();
    assert!(code.starts_with("CDK1-"));

    let desk = Cli::clinic(&[("frank", "front_desk")]);
    let mrn = desk.add_patient("Ada", "Lovelace", "1985-12-10");
    // A password in the server address is refused before anything is sent.
    let with_password = desk.run(
        &[
            "sync",
            "enroll",
            "--server",
            &format!(
                "postgres://cdws:secret@localhost:{}/clinicdesk",
                server.port
            ),
            "--code",
            &code,
            "--as",
            "admin",
        ],
        ADMIN_PASSWORD,
    );
    assert_eq!(with_password.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&with_password.stderr).contains("password"));
    // Only an administrator enrols.
    let by_front_desk = desk.run(
        &[
            "sync",
            "enroll",
            "--server",
            &server.workstation_url(),
            "--code",
            &code,
            "--as",
            "frank",
        ],
        STAFF_PASSWORD,
    );
    assert_eq!(by_front_desk.status.code(), Some(4));
    let not_yet = desk.run(&["sync", "now", "--as", "frank"], STAFF_PASSWORD);
    assert_eq!(not_yet.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&not_yet.stderr).contains("sync_not_enrolled"));

    let enrolled = desk.ok(
        &[
            "sync",
            "enroll",
            "--server",
            &server.workstation_url(),
            "--code",
            &code,
            "--as",
            "admin",
        ],
        ADMIN_PASSWORD,
    );
    assert!(enrolled.contains("Enrolled with"), "{enrolled}");
    let before = desk.ok(&["sync", "status", "--as", "frank"], STAFF_PASSWORD);
    assert!(before.contains(&server.workstation_url()), "{before}");
    assert!(before.contains("Last push:          never"), "{before}");
    let synced = desk.ok(&["sync", "now", "--as", "frank"], STAFF_PASSWORD);
    assert!(synced.starts_with("Pushed "), "{synced}");
    let after = json(&desk.ok(
        &["sync", "status", "--as", "frank", "--json"],
        STAFF_PASSWORD,
    ));
    assert_eq!(after["pending_changes"], 0);
    assert!(after["last_push_at"].is_string());
    assert!(after["last_error"].is_null());

    let status = json(&owner.ok(
        &["server", "status", "--database-url", &database, "--json"],
        "",
    ));
    let riverside = &status["clinics"][0];
    assert_eq!(riverside["has_records"], true);
    assert!(riverside["changes"].as_i64().unwrap() > 0);
    assert_eq!(riverside["workstations"][0]["enrolled"], true);
    let patients: i64 = server
        .owner()
        .query_one(
            "SELECT count(*) FROM clinicdesk.patients WHERE mrn = $1 AND clinic_id::text = $2",
            &[&mrn, &riverside["clinic_id"].as_str().unwrap()],
        )
        .unwrap()
        .get(0);
    assert_eq!(patients, 1, "Ada is on the server");
    assert_ne!(
        riverside["clinic_id"].as_str().unwrap(),
        clinic_id,
        "the clinic took the store's id"
    );
    let verify = owner.ok(
        &["server", "audit", "verify", "--database-url", &database],
        "",
    );
    assert!(verify.contains("intact"), "{verify}");
    let conflicts = desk.ok(&["sync", "conflicts", "--as", "frank"], STAFF_PASSWORD);
    assert_eq!(conflicts, "No conflicts waiting for you.\n");
}
