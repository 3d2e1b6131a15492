//! A damaged store, as a script sees it: with one byte changed in a table, an index, the audit
//! trail or the first page, every command says the store is damaged (exit 6, never "unexpected",
//! no SQLCipher log lines), no backup is made of it, `check` names the damage, and restoring the
//! last good backup is the way out.

mod support;

use clinicdesk_keyslot::{KeySlotFile, SlotOwner, SlotSecret};
use support::{stderr, Cli, ADMIN_PASSWORD, STAFF_PASSWORD};

/// The page a table or index starts on (1 for the first page).
fn root_page(cli: &Cli, name: &str) -> i64 {
    if name == "first page" {
        return 1;
    }
    let data = cli.folder.path();
    let key = KeySlotFile::new(data.join("keyslots.json"))
        .read()
        .unwrap()
        .unlock(
            &SlotOwner::user("admin"),
            &SlotSecret::new(ADMIN_PASSWORD.to_owned()),
        )
        .unwrap()
        .data_key;
    let store = clinicdesk_store::open_store(&data.join("clinicdesk.db"), &key).unwrap();
    store
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    store
        .query_row(
            "SELECT rootpage FROM sqlite_master WHERE name = ?1",
            [name],
            |row| row.get(0),
        )
        .unwrap()
}

/// Changes one byte in the middle of `page` of the store file.
fn damage(cli: &Cli, page: i64) {
    use std::io::{Read, Seek, SeekFrom, Write};
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(cli.folder.path().join("clinicdesk.db"))
        .unwrap();
    let offset = (page as u64 - 1) * 4096 + 2000;
    let mut byte = [0u8];
    file.seek(SeekFrom::Start(offset)).unwrap();
    file.read_exact(&mut byte).unwrap();
    file.seek(SeekFrom::Start(offset)).unwrap();
    file.write_all(&[byte[0] ^ 0x5a]).unwrap();
    file.sync_all().unwrap();
}

fn backup_files(cli: &Cli) -> Vec<String> {
    std::fs::read_dir(cli.folder.path().join("backups"))
        .map(|entries| {
            entries
                .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_changed_byte_in_any_kind_of_page_is_damage_to_every_command_and_is_never_backed_up() {
    for page_of in [
        "patients",
        "patients_by_birth_date",
        "audit_log",
        "first page",
    ] {
        let cli = Cli::clinic(&[("mona", "manager"), ("frank", "front_desk")]);
        cli.ok(
            &[
                "demo-data",
                "--size",
                "tiny",
                "--seed",
                "3",
                "--as",
                "admin",
            ],
            ADMIN_PASSWORD,
        );
        cli.ok(&["backup", "create", "--as", "mona"], STAFF_PASSWORD);
        let before = backup_files(&cli);
        damage(&cli, root_page(&cli, page_of));

        for (command, who, password) in [
            (vec!["status"], "mona", STAFF_PASSWORD),
            (vec!["patient", "search", "Okafor"], "frank", STAFF_PASSWORD),
            (vec!["user", "list"], "admin", ADMIN_PASSWORD),
            (vec!["audit", "verify"], "mona", STAFF_PASSWORD),
            (vec!["appointment", "list"], "frank", STAFF_PASSWORD),
            (vec!["backup", "create"], "mona", STAFF_PASSWORD),
            (vec!["check"], "mona", STAFF_PASSWORD),
        ] {
            let mut args = command.clone();
            args.extend(["--as", who]);
            let output = cli.run(&args, password);
            let said = stderr(&output);
            assert_eq!(
                output.status.code(),
                Some(6),
                "{page_of}: {command:?} said {said}"
            );
            assert!(
                said.contains("The store on this workstation is damaged")
                    && said.contains("[integrity_failure]"),
                "{page_of}: {command:?} said {said}"
            );
            assert!(
                !said.contains("hmac") && !said.contains("ERROR CORE"),
                "{page_of}: SQLCipher's log reached the terminal: {said}"
            );
        }
        assert_eq!(
            backup_files(&cli),
            before,
            "{page_of}: a backup (or a partial one) of the damaged store was left"
        );
    }
}

#[test]
fn restoring_the_last_good_backup_is_the_way_out_of_a_damaged_store() {
    let cli = Cli::clinic(&[("mona", "manager"), ("frank", "front_desk")]);
    let mrn = cli.add_patient("Ada", "Lovelace", "1915-12-10");
    cli.ok(&["backup", "create", "--as", "mona"], STAFF_PASSWORD);
    let file = cli
        .folder
        .path()
        .join("backups")
        .join(&backup_files(&cli)[0]);
    damage(&cli, root_page(&cli, "patients"));
    assert_eq!(
        cli.run(&["patient", "show", &mrn, "--as", "frank"], STAFF_PASSWORD)
            .status
            .code(),
        Some(6)
    );

    let restored = cli.run(
        &["backup", "restore", file.to_str().unwrap(), "--as", "mona"],
        STAFF_PASSWORD,
    );
    assert!(restored.status.success(), "{}", stderr(&restored));
    let shown = cli.ok(&["patient", "show", &mrn, "--as", "frank"], STAFF_PASSWORD);
    assert!(shown.contains("Lovelace"), "{shown}");
    assert!(cli
        .ok(&["check", "--as", "mona"], STAFF_PASSWORD)
        .contains("sound"));
    assert!(!cli.folder.path().join("store-damaged.json").exists());
}

#[test]
fn a_store_nobody_can_sign_in_to_is_restored_with_the_recovery_key_and_everyone_keeps_their_password(
) {
    let cli = Cli::clinic(&[("mona", "manager"), ("frank", "front_desk")]);
    let mrn = cli.add_patient("Grace", "Hopper", "1906-12-09");
    cli.ok(&["backup", "create", "--as", "mona"], STAFF_PASSWORD);
    let file = cli
        .folder
        .path()
        .join("backups")
        .join(&backup_files(&cli)[0]);
    let file = file.to_str().unwrap();
    let restore_damaged = |key: &str| {
        cli.run_with(
            &["backup", "restore-damaged", file],
            "",
            &[("CLINICDESK_RECOVERY_KEY", key)],
        )
    };
    let sound = restore_damaged(&cli.recovery_key);
    assert_eq!(sound.status.code(), Some(7), "{}", stderr(&sound));
    assert!(stderr(&sound).contains("not damaged"), "{}", stderr(&sound));

    damage(&cli, root_page(&cli, "first page"));
    let refused = cli.run(&["patient", "show", &mrn, "--as", "frank"], STAFF_PASSWORD);
    assert_eq!(refused.status.code(), Some(6));
    assert!(
        stderr(&refused).contains("recovery key") && stderr(&refused).contains("restore-damaged"),
        "the way out is named: {}",
        stderr(&refused)
    );
    let wrong = restore_damaged("AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH");
    assert_eq!(wrong.status.code(), Some(3), "{}", stderr(&wrong));
    let still = cli.run(&["patient", "show", &mrn, "--as", "frank"], STAFF_PASSWORD);
    assert_eq!(still.status.code(), Some(6), "a wrong key changed nothing");

    let restored = restore_damaged(&cli.recovery_key);
    assert!(restored.status.success(), "{}", stderr(&restored));
    let said = String::from_utf8_lossy(&restored.stdout).into_owned();
    assert!(said.contains("kept as"), "{said}");
    let shown = cli.ok(&["patient", "show", &mrn, "--as", "frank"], STAFF_PASSWORD);
    assert!(
        shown.contains("Hopper"),
        "frank's own password opens it: {shown}"
    );
    let kept: Vec<String> = std::fs::read_dir(cli.folder.path().join("rollback"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        kept.iter().any(|name| name.starts_with("damaged-")),
        "the damaged store is kept aside: {kept:?}"
    );
    let trail = cli.ok(
        &[
            "audit",
            "list",
            "--action",
            "backup.restore",
            "--as",
            "mona",
        ],
        STAFF_PASSWORD,
    );
    assert!(trail.contains("backup.restore"), "{trail}");
    assert!(cli
        .ok(&["check", "--as", "mona"], STAFF_PASSWORD)
        .contains("sound"));
}
