//! Access control as a script sees it: lockout (exit 3 with the unlock time), a tampered audit
//! trail (exit 6 naming the first bad entry), emergency access without a reason (exit 5), a likely
//! duplicate patient (exit 7).

use clinicdesk_keyslot::{normalise_recovery_key, KeySlotFile, SlotOwner};

mod support;

use std::process::{Command, Stdio};

use support::{stderr, Cli, ADMIN_PASSWORD, STAFF_PASSWORD};

#[test]
fn lockout_tampering_reasons_and_duplicates_have_their_exit_codes() {
    let cli = Cli::clinic(&[("frank", "front_desk"), ("dr.cole", "clinician")]);
    let recovery = cli.recovery_key.clone();

    // Five wrong passwords lock the account; the right one is then refused with the unlock time.
    for _ in 0..5 {
        assert_eq!(
            cli.run(&["status", "--as", "frank"], "not the right one at all")
                .status
                .code(),
            Some(3)
        );
    }
    let locked = cli.run(&["status", "--as", "frank"], STAFF_PASSWORD);
    assert_eq!(locked.status.code(), Some(3));
    assert!(
        stderr(&locked).contains("locked") && stderr(&locked).contains("until"),
        "{}",
        stderr(&locked)
    );
    assert!(stderr(&locked).contains("[account_locked]"));
    let failures = cli.ok(
        &[
            "audit", "list", "--action", "login.", "--user", "frank", "--json", "--as", "admin",
        ],
        ADMIN_PASSWORD,
    );
    let failures: serde_json::Value = serde_json::from_str(&failures).unwrap();
    let count = |action: &str| {
        failures["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == action)
            .count()
    };
    assert_eq!(count("login.failure"), 6);
    assert_eq!(count("login.lockout"), 1);
    cli.ok(
        &["user", "reset-password", "frank", "--as", "admin"],
        ADMIN_PASSWORD,
    );

    // A likely duplicate patient is exit 7 naming the existing record; confirming registers.
    let added = cli.ok(
        &[
            "patient",
            "add",
            "--given",
            "Ngozi",
            "--family",
            "Okafor",
            "--dob",
            "1984-03-27",
            "--sex",
            "female",
            "--restricted",
            "--as",
            "dr.cole",
        ],
        STAFF_PASSWORD,
    );
    let mrn = added.lines().last().unwrap().trim().to_owned();
    assert_eq!(mrn.len(), 10, "the MRN is the last line: {added}");
    let duplicate = cli.run(
        &[
            "patient",
            "add",
            "--given",
            "Ngozi",
            "--family",
            "Okafur",
            "--dob",
            "1984-03-27",
            "--sex",
            "female",
            "--as",
            "dr.cole",
        ],
        STAFF_PASSWORD,
    );
    assert_eq!(duplicate.status.code(), Some(7));
    assert!(stderr(&duplicate).contains(&mrn), "{}", stderr(&duplicate));

    // Emergency access: no reason is exit 5; with one the chart opens.
    let no_reason = cli.run(
        &[
            "emergency",
            "open",
            "--patient",
            &mrn,
            "--reason",
            " ",
            "--as",
            "dr.cole",
        ],
        STAFF_PASSWORD,
    );
    assert_eq!(no_reason.status.code(), Some(5), "{}", stderr(&no_reason));

    // Tampering with the trail (with the data key, through the recovery slot) is exit 6.
    let clean = cli.ok(&["audit", "verify", "--as", "admin"], ADMIN_PASSWORD);
    assert!(clean.contains("intact"));
    let key = KeySlotFile::new(cli.folder.path().join("keyslots.json"))
        .read()
        .unwrap()
        .unlock(&SlotOwner::Recovery, &normalise_recovery_key(&recovery))
        .unwrap()
        .data_key;
    let connection =
        clinicdesk_store::rusqlite::Connection::open(cli.folder.path().join("clinicdesk.db"))
            .unwrap();
    connection
        .pragma_update(None, "key", key.sqlcipher_literal().as_str())
        .unwrap();
    connection
        .execute_batch("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET outcome = 'success' WHERE action = 'login.lockout';")
        .unwrap();
    drop(connection);
    let tampered = cli.run(&["audit", "verify", "--as", "admin"], ADMIN_PASSWORD);
    assert_eq!(tampered.status.code(), Some(6));
    assert!(
        stderr(&tampered).contains("first bad entry is #"),
        "{}",
        stderr(&tampered)
    );
}

#[test]
fn backups_from_the_command_line_damaged_or_foreign_files_are_exit_6() {
    let cli = Cli::clinic(&[("frank", "front_desk"), ("dr.cole", "clinician")]);
    let recovery_key = cli.recovery_key.clone();
    cli.add_patient("Ada", "Lovelace", "1915-12-10");
    let file = cli.folder.path().join("before.cdbackup");
    let file = file.to_str().unwrap();
    cli.ok(
        &["backup", "create", "--out", file, "--as", "admin"],
        ADMIN_PASSWORD,
    );
    let listed = cli.ok(&["backup", "list", "--as", "admin"], ADMIN_PASSWORD);
    assert!(
        listed.contains("No backups"),
        "--out files are not in the folder: {listed}"
    );
    cli.ok(&["backup", "create", "--as", "admin"], ADMIN_PASSWORD);
    let listed = cli.ok(&["backup", "list", "--as", "admin"], ADMIN_PASSWORD);
    assert!(listed.contains("patients 1"), "{listed}");
    cli.ok(&["backup", "verify", file, "--as", "admin"], ADMIN_PASSWORD);

    let mut bytes = std::fs::read(file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x10;
    let damaged = cli.folder.path().join("damaged.cdbackup");
    std::fs::write(&damaged, &bytes).unwrap();
    let other = Cli::clinic(&[]);
    let foreign = other.folder.path().join("other.cdbackup");
    other.ok(
        &[
            "backup",
            "create",
            "--out",
            foreign.to_str().unwrap(),
            "--as",
            "admin",
        ],
        ADMIN_PASSWORD,
    );
    for bad in [damaged.to_str().unwrap(), foreign.to_str().unwrap()] {
        for command in ["verify", "restore"] {
            let output = cli.run(&["backup", command, bad, "--as", "admin"], ADMIN_PASSWORD);
            assert_eq!(
                output.status.code(),
                Some(6),
                "{command} {bad}: {}",
                stderr(&output)
            );
            assert!(stderr(&output).contains("integrity_failure"));
        }
    }
    // Managers and administrators only.
    let denied = cli.run(&["backup", "create", "--as", "frank"], STAFF_PASSWORD);
    assert_eq!(denied.status.code(), Some(4));

    cli.add_patient("Grace", "Hopper", "1906-12-09");
    let restored = cli.ok(
        &["backup", "restore", file, "--as", "admin"],
        ADMIN_PASSWORD,
    );
    assert!(restored.contains("kept at"), "{restored}");
    let status = cli.ok(&["status", "--as", "admin"], ADMIN_PASSWORD);
    assert!(status.contains("patients:           1"), "{status}");

    // The workstation is lost: a new one is rebuilt from the file with the recovery key.
    let new_machine = cli.folder.path().join("new-workstation");
    let rebuild = |key: &str| {
        Command::new(env!("CARGO_BIN_EXE_clinicdesk"))
            .args(["backup", "restore-new", file, "--admin", "admin"])
            .env("CLINICDESK_DATA_DIR", &new_machine)
            .env("CLINICDESK_RECOVERY_KEY", key)
            .env("CLINICDESK_NEW_PASSWORD", "orchid tandem pylon sherbet")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let wrong = rebuild("0000-0000-0000-0000-0000-0000-0000-0000");
    assert_eq!(wrong.status.code(), Some(6), "{}", stderr(&wrong));
    let rebuilt = rebuild(&recovery_key);
    assert!(rebuilt.status.success(), "{}", stderr(&rebuilt));
    let status = Command::new(env!("CARGO_BIN_EXE_clinicdesk"))
        .args(["status", "--as", "admin"])
        .env("CLINICDESK_DATA_DIR", &new_machine)
        .env("CLINICDESK_PASSWORD", "orchid tandem pylon sherbet")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(status.status.success(), "{}", stderr(&status));
    assert!(String::from_utf8_lossy(&status.stdout).contains("patients:           1"));
}
