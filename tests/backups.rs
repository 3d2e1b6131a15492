//! Backups and restore, on real SQLCipher stores: consistency under concurrent writes, every
//! kind of damaged or foreign file refused with the live store untouched, no plain text in the
//! file, an older schema restored and migrated, point-in-time restore, and retention over a year.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};

use chrono::{Datelike, Duration, NaiveDate, TimeZone, Utc};
use clinicdesk_core::{
    BackupSettings, ErrorCode, NewPatient, Registration, RetentionPolicy, Session, Sex,
};
use clinicdesk_store::rusqlite::{types::ValueRef, Connection};
use clinicdesk_tests::{Clinic, STAFF_PASSWORD};

fn quiet(_: clinicdesk_core::BackupProgress) {}

fn new_patient(given: &str, family: &str) -> NewPatient {
    NewPatient {
        given_name: given.into(),
        family_name: family.into(),
        date_of_birth: "1980-04-02".into(),
        sex: Sex::Unknown,
        phone: None,
        restricted: false,
    }
}

/// Registers a patient; (id, MRN).
fn register(session: &mut Session, given: &str, family: &str) -> (String, String) {
    match session
        .register_patient(&new_patient(given, family), true)
        .expect("register")
    {
        Registration::Registered { patient_id, mrn } => (patient_id.to_string(), mrn),
        other => panic!("not registered: {other:?}"),
    }
}

/// Every row of every journaled table, as text, table by table: "the records".
fn records(connection: &Connection) -> BTreeMap<String, Vec<String>> {
    let mut all = BTreeMap::new();
    for (table, key) in clinicdesk_core::journaled_tables().map(|spec| (spec.name, spec.key)) {
        let mut statement = connection
            .prepare(&format!("SELECT * FROM {table} ORDER BY {key}"))
            .unwrap();
        let columns = statement.column_count();
        let rows: Vec<String> = statement
            .query_map([], |row| {
                Ok((0..columns)
                    .map(|index| match row.get_ref(index).unwrap() {
                        ValueRef::Null => "null".to_owned(),
                        ValueRef::Integer(n) => n.to_string(),
                        ValueRef::Real(n) => n.to_string(),
                        ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                        ValueRef::Blob(b) => format!("{b:?}"),
                    })
                    .collect::<Vec<_>>()
                    .join("|"))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        all.insert((*table).to_owned(), rows);
    }
    all
}

fn audit_tail(connection: &Connection, after_seq: i64) -> Vec<(String, String)> {
    let mut statement = connection
        .prepare("SELECT action, outcome FROM audit_log WHERE seq > ?1 ORDER BY seq")
        .unwrap();
    statement
        .query_map([after_seq], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn audit_head(connection: &Connection) -> i64 {
    connection
        .query_row("SELECT seq FROM audit_chain_head", [], |row| row.get(0))
        .unwrap()
}

#[test]
fn a_backup_taken_while_another_session_writes_holds_every_earlier_commit_and_restores_clean() {
    let clinic = Clinic::with_staff();
    let data_dir = clinic.data_dir.clone();
    let environment = clinic.environment.clone();
    let committed = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let (started_tx, started_rx) = mpsc::channel();
    let writer = {
        let committed = committed.clone();
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut frank = Session::login(
                &data_dir,
                "frank",
                &clinicdesk_tests::secret(STAFF_PASSWORD),
                &environment,
            )
            .unwrap();
            let mut ids = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                ids.push(register(&mut frank, "Writer", &format!("Number{}", ids.len())).0);
                committed.store(ids.len(), Ordering::SeqCst);
                if ids.len() == 20 {
                    started_tx.send(()).unwrap();
                }
            }
            ids
        })
    };
    started_rx.recv().unwrap();
    let mut mona = clinic.staff("mona");
    let before_backup = committed.load(Ordering::SeqCst);
    let backup = mona.create_backup(None, &mut quiet).unwrap();
    // Keep writing a little after the snapshot ended, so the store moved on.
    let after_backup = committed.load(Ordering::SeqCst);
    while committed.load(Ordering::SeqCst) < after_backup + 5 {
        std::hint::spin_loop();
    }
    stop.store(true, Ordering::SeqCst);
    let written = writer.join().unwrap();
    drop(mona);

    let in_header = backup.row_counts["patients"] as usize;
    assert!(in_header >= before_backup, "{in_header} < {before_backup}");
    assert!(in_header < written.len());

    let mut mona = clinic.staff("mona");
    let outcome = mona
        .restore_backup(Path::new(&backup.path), &mut quiet)
        .unwrap();
    assert_eq!(outcome.backup.backup_id, backup.backup_id);
    drop(mona);
    let store = clinic.raw_store();
    assert!(clinicdesk_store::integrity_problems(&store)
        .unwrap()
        .is_empty());
    clinicdesk_core::bench_api::verify_audit_chain(&store).unwrap();
    let patients: Vec<String> = store
        .prepare("SELECT id FROM patients")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(patients.len(), in_header);
    for id in &written[..before_backup] {
        assert!(
            patients.contains(id),
            "a patient committed before the backup is missing"
        );
    }
    let rollback = PathBuf::from(&outcome.rollback_copy);
    let old = clinicdesk_store::open_store(&rollback, &clinic.data_key()).unwrap();
    let old_count: i64 = old
        .query_row("SELECT count(*) FROM patients", [], |row| row.get(0))
        .unwrap();
    assert_eq!(
        old_count as usize,
        written.len(),
        "the rollback copy is the store as it was"
    );
}

/// One way to spoil a good backup file.
type Spoil = (&'static str, Box<dyn Fn(&mut Vec<u8>)>);

fn header_end(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .enumerate()
        .filter(|(_, byte)| **byte == b'\n')
        .nth(1)
        .unwrap()
        .0
        + 1
}

fn edit_header(bytes: &mut Vec<u8>, from: &str, to: &str) {
    let end = header_end(bytes);
    let text = String::from_utf8(bytes[..end].to_vec()).unwrap();
    assert!(text.contains(from), "the header holds {from}");
    bytes.splice(..end, text.replacen(from, to, 1).into_bytes());
}

#[test]
fn every_damaged_or_foreign_backup_is_refused_with_exit_6_and_changes_nothing_but_the_audit() {
    let clinic = Clinic::with_staff();
    clinic.register("Ada", "Lovelace", "1915-12-10", None);
    let mut mona = clinic.staff("mona");
    let good = mona
        .create_backup(
            Some(&clinic.folder.path().join("good.cdbackup")),
            &mut quiet,
        )
        .unwrap();
    drop(mona);
    let good_bytes = std::fs::read(&good.path).unwrap();
    let chunk = 16 * 4096 + 16;

    // Another clinic's backup, and one whose header was forged to name this clinic.
    let other = Clinic::with_staff();
    let mut other_manager = other.staff("mona");
    let foreign = other_manager
        .create_backup(
            Some(&other.folder.path().join("other.cdbackup")),
            &mut quiet,
        )
        .unwrap();
    drop(other_manager);
    let foreign_bytes = std::fs::read(&foreign.path).unwrap();
    let our_clinic_id: String = clinic
        .raw_store()
        .query_row(
            "SELECT value FROM store_meta WHERE key = 'clinic_id'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    let their_clinic_id: String = other
        .raw_store()
        .query_row(
            "SELECT value FROM store_meta WHERE key = 'clinic_id'",
            [],
            |row| row.get(0),
        )
        .unwrap();

    let spoils: Vec<Spoil> = vec![
        (
            "truncated in the header",
            Box::new(|b: &mut Vec<u8>| b.truncate(100)),
        ),
        (
            "truncated after the header",
            Box::new(|b: &mut Vec<u8>| {
                let end = header_end(b);
                b.truncate(end)
            }),
        ),
        (
            "truncated mid-chunk",
            Box::new(move |b: &mut Vec<u8>| {
                let end = header_end(b);
                b.truncate(end + chunk + 999)
            }),
        ),
        (
            "truncated at a chunk boundary",
            Box::new(move |b: &mut Vec<u8>| {
                let end = header_end(b);
                b.truncate(end + 2 * chunk)
            }),
        ),
        (
            "last byte cut",
            Box::new(|b: &mut Vec<u8>| {
                b.pop();
            }),
        ),
        (
            "bit flipped in the magic",
            Box::new(|b: &mut Vec<u8>| b[0] ^= 0x20),
        ),
        (
            "bit flipped in the header",
            Box::new(|b: &mut Vec<u8>| {
                let at = header_end(b) - 40;
                b[at] ^= 0x01
            }),
        ),
        (
            "bit flipped in the first chunk",
            Box::new(|b: &mut Vec<u8>| {
                let at = header_end(b) + 7;
                b[at] ^= 0x01
            }),
        ),
        (
            "bit flipped in a tag",
            Box::new(move |b: &mut Vec<u8>| {
                let at = header_end(b) + chunk - 1;
                b[at] ^= 0x01
            }),
        ),
        (
            "bit flipped in the last chunk",
            Box::new(|b: &mut Vec<u8>| {
                let at = b.len() - 100;
                b[at] ^= 0x01
            }),
        ),
        (
            "chunks reordered",
            Box::new(move |b: &mut Vec<u8>| {
                let start = header_end(b);
                let first: Vec<u8> = b[start..start + chunk].to_vec();
                let second: Vec<u8> = b[start + chunk..start + 2 * chunk].to_vec();
                b[start..start + chunk].copy_from_slice(&second);
                b[start + chunk..start + 2 * chunk].copy_from_slice(&first);
            }),
        ),
        (
            "header edited: row counts",
            Box::new(|b: &mut Vec<u8>| edit_header(b, "\"patients\":1", "\"patients\":2")),
        ),
        (
            "header edited: created_at",
            Box::new(|b: &mut Vec<u8>| {
                edit_header(b, "\"created_at\":\"2026", "\"created_at\":\"2025")
            }),
        ),
        (
            "another clinic's backup",
            Box::new(move |b: &mut Vec<u8>| *b = foreign_bytes.clone()),
        ),
        ("wrong key: another clinic's backup claiming to be ours", {
            let forged = {
                let mut bytes = std::fs::read(&foreign.path).unwrap();
                edit_header(&mut bytes, &their_clinic_id, &our_clinic_id);
                bytes
            };
            Box::new(move |b: &mut Vec<u8>| *b = forged.clone())
        }),
    ];

    let live = clinic.raw_store();
    let records_before = records(&live);
    let mut mona = clinic.staff("mona");
    for (name, spoil) in spoils {
        let mut bytes = good_bytes.clone();
        spoil(&mut bytes);
        let path = clinic.folder.path().join("spoiled.cdbackup");
        std::fs::write(&path, &bytes).unwrap();
        let head = audit_head(&live);
        let verified = mona.verify_backup(&path, &mut quiet).map(|_| ());
        let restored = mona.restore_backup(&path, &mut quiet).map(|_| ());
        for (what, outcome) in [("verify", verified), ("restore", restored)] {
            let error = outcome.expect_err(&format!("{name}: {what} must refuse"));
            assert_eq!(
                error.code,
                ErrorCode::IntegrityFailure,
                "{name}: {what}: {}",
                error.message
            );
            assert_eq!(error.exit_code(), 6);
        }
        assert_eq!(
            records(&live),
            records_before,
            "{name}: the records changed"
        );
        assert_eq!(
            audit_tail(&live, head),
            vec![
                ("backup.verify".to_owned(), "failure".to_owned()),
                ("backup.restore".to_owned(), "failure".to_owned())
            ],
            "{name}: the refusals are audited, and nothing else"
        );
        assert!(!clinic.data_dir.root().join("restore-work").exists());
    }
    // The good file still verifies.
    mona.verify_backup(Path::new(&good.path), &mut quiet)
        .unwrap();
}

#[test]
fn no_plain_text_from_the_store_appears_in_the_backup_file() {
    let clinic = Clinic::with_staff();
    let marker = "Quorthwyndle";
    clinic.register(marker, "Zebediahson", "1970-01-01", Some("+49 30 5550199"));
    let mut mona = clinic.staff("mona");
    let backup = mona.create_backup(None, &mut quiet).unwrap();
    let bytes = std::fs::read(&backup.path).unwrap();
    for needle in [
        marker,
        "Zebediahson",
        "5550199",
        "SQLite format 3",
        "CREATE TABLE",
    ] {
        assert!(
            !bytes
                .windows(needle.len())
                .any(|window| window == needle.as_bytes()),
            "{needle} is readable in the backup"
        );
    }
    // The header is readable, and it is all that is.
    let header = clinicdesk_backup::read_header(Path::new(&backup.path)).unwrap();
    assert_eq!(header.facts.clinic_name, "Riverside Family Clinic");
    assert_eq!(header.facts.row_counts["patients"], 1);
}

#[test]
fn a_backup_from_the_previous_schema_version_restores_and_migrates() {
    let clinic = Clinic::with_staff();
    clinic.register("Grace", "Hopper", "1906-12-09", None);
    let mut mona = clinic.staff("mona");
    // The clinic's backup key exists from its first backup.
    mona.create_backup(None, &mut quiet).unwrap();
    drop(mona);
    let live = clinic.raw_store();
    let (public, secret): (String, Vec<u8>) = live
        .query_row(
            "SELECT public_key, secret_key FROM backup_keys",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    let old_store = clinic.folder.path().join("previous-version.db");
    clinicdesk_store::copy_store_encrypted(&live, &old_store, &clinic.data_key()).unwrap();
    drop(live);
    let old = clinicdesk_store::open_store(&old_store, &clinic.data_key()).unwrap();
    clinicdesk_tests::previous_schema::downgrade_to_previous_schema(&old);
    let file = clinic.folder.path().join("previous-version.cdbackup");
    let recipient = clinicdesk_backup::RecipientKey {
        kind: clinicdesk_backup::RecipientKind::Clinic,
        public_key: hex_bytes(&public),
        recovery_slot: None,
    };
    let header = clinicdesk_core::bench_api::write_snapshot(
        &old,
        &file,
        "0f0e0d0c-0b0a-4908-8706-050403020100",
        clinic.environment.now(),
        &[recipient],
        &mut quiet,
    )
    .unwrap();
    let newest = clinicdesk_store::EMBEDDED_MIGRATIONS
        .last()
        .unwrap()
        .version;
    assert_eq!(header.facts.schema_version, newest - 1);
    assert_eq!(secret.len(), 32);

    clinic.register("Not", "InTheBackup", "1999-01-01", None);
    let mut mona = clinic.staff("mona");
    let outcome = mona.restore_backup(&file, &mut quiet).unwrap();
    assert_eq!(outcome.migrated_from_schema, Some(newest - 1));
    drop(mona);
    let store = clinic.raw_store();
    assert_eq!(
        clinicdesk_store::applied_schema_version(&store).unwrap(),
        newest
    );
    assert!(clinicdesk_store::integrity_problems(&store)
        .unwrap()
        .is_empty());
    clinicdesk_core::bench_api::verify_audit_chain(&store).unwrap();
    let names: Vec<String> = store
        .prepare("SELECT family_name FROM patients ORDER BY family_name")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(names, vec!["Hopper".to_owned()]);
    // The restored store goes on: it backs up again with the same clinic key.
    let mut mona = clinic.staff("mona");
    let again = mona.create_backup(None, &mut quiet).unwrap();
    mona.verify_backup(Path::new(&again.path), &mut quiet)
        .unwrap();
}

fn hex_bytes(text: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (index, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[index * 2..index * 2 + 2], 16).unwrap();
    }
    out
}

#[test]
fn point_in_time_restore_brings_back_exactly_the_records_of_the_chosen_moment() {
    let clinic = Clinic::with_staff();
    let minute = Duration::minutes(1);
    let mut frank = clinic.staff("frank");
    let ada = register(&mut frank, "Ada", "Lovelace");
    drop(frank);
    clinic.clock.advance(minute);
    let mut mona = clinic.staff("mona");
    mona.create_backup(None, &mut quiet).unwrap();
    drop(mona);

    // Changes after the backup and before the moment: they must come back.
    clinic.clock.advance(minute);
    let mut frank = clinic.staff("frank");
    let grace = register(&mut frank, "Grace", "Hopper");
    let change = clinicdesk_core::DemographicsChange {
        family_name: Some("King".into()),
        ..Default::default()
    };
    frank.update_demographics(&ada.1, &change, None).unwrap();
    drop(frank);
    let mut admin = clinic.admin();
    let mut security = admin.security_settings().unwrap();
    security.idle_logoff_seconds = 900;
    admin.set_security_settings(security).unwrap();
    drop(admin);

    // The moment, and a copy of the store taken at it.
    clinic.clock.advance(minute);
    let moment = clinic.environment.now();
    let copy = clinic.folder.path().join("at-the-moment.db");
    clinicdesk_store::copy_store_encrypted(&clinic.raw_store(), &copy, &clinic.data_key()).unwrap();
    clinic.clock.advance(minute);

    // Changes after the moment: they must be undone.
    let mut frank = clinic.staff("frank");
    register(&mut frank, "Bad", "Change");
    let change = clinicdesk_core::DemographicsChange {
        given_name: Some("Amazing Grace".into()),
        ..Default::default()
    };
    frank.update_demographics(&grace.1, &change, None).unwrap();
    drop(frank);
    clinic.add_user("late.nurse", "nurse", STAFF_PASSWORD);
    clinic.clock.advance(minute);

    let mut mona = clinic.staff("mona");
    let plan = mona.plan_point_in_time_restore(moment).unwrap();
    assert!(plan.replayed_transactions >= 3, "{plan:?}");
    let undone: Vec<&str> = plan
        .undone
        .iter()
        .map(|entry| entry.action.as_str())
        .collect();
    assert!(undone.contains(&"patient.create"), "{undone:?}");
    assert!(undone.contains(&"user.create"), "{undone:?}");
    let outcome = mona.restore_to_point_in_time(moment, &mut quiet).unwrap();
    assert_eq!(outcome.replayed_transactions, plan.replayed_transactions);
    drop(mona);

    let restored = clinic.raw_store();
    let at_the_moment = clinicdesk_store::open_store(&copy, &clinic.data_key()).unwrap();
    assert_eq!(records(&restored), records(&at_the_moment));
    assert!(clinicdesk_store::integrity_problems(&restored)
        .unwrap()
        .is_empty());
    clinicdesk_core::bench_api::verify_audit_chain(&restored).unwrap();
    // The audit trail was not rolled back: the undone registration is still in it.
    let registrations: i64 = restored
        .query_row(
            "SELECT count(*) FROM audit_log WHERE action = 'patient.create'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(registrations, 3);
    // Search still finds the replayed patient under the replayed name.
    let mut frank = clinic.staff("frank");
    let hits = frank.search_patients("Hopper").unwrap();
    assert_eq!(
        hits.first().map(|hit| hit.patient_id.as_str()),
        Some(grace.0.as_str())
    );
    // A second point-in-time restore across the first one is refused clearly.
    drop(frank);
    let mut mona = clinic.staff("mona");
    let error = mona
        .plan_point_in_time_restore(moment - minute)
        .unwrap_err();
    assert_eq!(error.code, ErrorCode::NotFound, "{}", error.message);
}

#[test]
fn the_retention_rule_keeps_exactly_the_expected_backups_over_a_simulated_year() {
    let clinic = Clinic::with_staff();
    let zone: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
    clinic
        .clock
        .set(Utc.with_ymd_and_hms(2025, 12, 31, 12, 0, 0).unwrap());
    let mut mona = clinic.staff("mona");
    let folder = clinic.folder.path().join("backup-drive");
    mona.set_backup_settings(BackupSettings {
        folder: folder.display().to_string(),
        daily_time: "02:00".into(),
        retention: RetentionPolicy::default(),
    })
    .unwrap();
    // An on-demand backup is never deleted by the rule.
    let on_demand = mona.create_backup(None, &mut quiet).unwrap();
    drop(mona);

    let mut day = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    while day.year() == 2026 {
        let local = zone
            .from_local_datetime(&day.and_hms_opt(3, 5, 0).unwrap())
            .unwrap();
        clinic.clock.set(local.with_timezone(&Utc));
        let mut session = clinic.staff("nurse.joy");
        let made = session.run_scheduled_backup_if_due(&mut quiet).unwrap();
        assert!(made.is_some(), "the backup of {day} ran");
        assert!(
            session
                .run_scheduled_backup_if_due(&mut quiet)
                .unwrap()
                .is_none(),
            "once a day"
        );
        drop(session);
        day = day.succ_opt().unwrap();
    }

    let mut kept: Vec<String> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path != Path::new(&on_demand.path))
        .map(|path| {
            let header = clinicdesk_backup::read_header(&path).unwrap();
            let at = chrono::DateTime::parse_from_rfc3339(&header.facts.created_at).unwrap();
            at.with_timezone(&zone).format("%m-%d").to_string()
        })
        .collect();
    kept.sort();
    let expected = [
        "01-31", "02-28", "03-31", "04-30", "05-31", "06-30", "07-31", "08-31", "09-30", "10-31",
        "11-30", "12-13", "12-20", "12-25", "12-26", "12-27", "12-28", "12-29", "12-30", "12-31",
    ];
    assert_eq!(kept, expected);
    assert!(Path::new(&on_demand.path).exists());
    let mut mona = clinic.staff("mona");
    let status = mona.backup_status().unwrap();
    assert!(!status.failing);
    assert!(status.last_success.is_some());
}

#[test]
fn a_failed_backup_is_recorded_and_shown_until_one_succeeds() {
    let clinic = Clinic::with_staff();
    let mut mona = clinic.staff("mona");
    let blocked = clinic.folder.path().join("not-a-folder");
    std::fs::write(&blocked, b"a file where the folder should be").unwrap();
    mona.set_backup_settings(BackupSettings {
        folder: blocked.display().to_string(),
        daily_time: "02:00".into(),
        retention: RetentionPolicy::default(),
    })
    .unwrap();
    let error = mona.create_backup(None, &mut quiet).unwrap_err();
    assert_eq!(error.code, ErrorCode::Unexpected, "{}", error.message);
    let status = mona.backup_status().unwrap();
    assert!(status.failing);
    assert!(status
        .last_failure
        .unwrap()
        .error_message
        .unwrap()
        .contains("not-a-folder"));
    let head = audit_head(&clinic.raw_store());
    assert!(head > 0);
    mona.set_backup_settings(BackupSettings {
        folder: clinic.folder.path().join("drive").display().to_string(),
        daily_time: "02:00".into(),
        retention: RetentionPolicy::default(),
    })
    .unwrap();
    mona.create_backup(None, &mut quiet).unwrap();
    assert!(!mona.backup_status().unwrap().failing);
    // Bad settings are refused and change nothing.
    let before = mona.backup_settings().unwrap();
    for bad in [
        BackupSettings {
            folder: "relative/path".into(),
            ..before.clone()
        },
        BackupSettings {
            daily_time: "25:61".into(),
            ..before.clone()
        },
        BackupSettings {
            retention: RetentionPolicy {
                keep_daily: 0,
                ..before.retention
            },
            ..before.clone()
        },
    ] {
        assert_eq!(
            mona.set_backup_settings(bad).unwrap_err().code,
            ErrorCode::InvalidInput
        );
    }
    assert_eq!(mona.backup_settings().unwrap(), before);
}

#[test]
fn every_table_is_in_the_registry_and_the_journal_covers_every_column_of_every_journaled_one() {
    let clinic = Clinic::new();
    let store = clinic.raw_store();
    let tables: Vec<String> = store
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
             AND name NOT IN (SELECT t.name FROM sqlite_master t JOIN sqlite_master v
                              ON v.type = 'table' AND v.sql LIKE 'CREATE VIRTUAL%' AND t.name LIKE v.name || '_%')",
        )
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for table in &tables {
        assert!(
            clinicdesk_core::TABLES.iter().any(|spec| spec.name == table),
            "{table} is not in the table registry (crates/clinicdesk-core/src/tables.rs): say whether it syncs, whether it is journaled, and why"
        );
    }
    for spec in clinicdesk_core::TABLES {
        assert!(
            tables.contains(&spec.name.to_owned()),
            "the registry names {}, which the store does not have",
            spec.name
        );
    }
    let journaled: Vec<&str> = clinicdesk_core::journaled_tables()
        .map(|spec| spec.name)
        .collect();
    for table in journaled {
        let columns: Vec<String> = store
            .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for operation in ["insert", "update"] {
            let sql: String = store
                .query_row(
                    "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?1",
                    [format!("{table}_journal_{operation}")],
                    |row| row.get(0),
                )
                .unwrap_or_else(|_| panic!("{table} has no {operation} journal trigger"));
            for column in &columns {
                assert!(
                    sql.contains(&format!("'{column}', NEW.{column}")),
                    "the {operation} journal trigger of {table} leaves out {column}"
                );
            }
        }
        store
            .query_row(
                "SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = ?1",
                [format!("{table}_journal_delete")],
                |_| Ok(()),
            )
            .unwrap_or_else(|_| panic!("{table} has no delete journal trigger"));
    }
}

#[test]
fn a_lost_workstation_is_rebuilt_from_a_backup_with_the_recovery_key() {
    let clinic = Clinic::with_staff();
    let (_, mrn) = register(&mut clinic.staff("frank"), "Ada", "Lovelace");
    let mut mona = clinic.staff("mona");
    let backup = mona
        .create_backup(
            Some(&clinic.folder.path().join("external-drive.cdbackup")),
            &mut quiet,
        )
        .unwrap();
    drop(mona);
    let original = records(&clinic.raw_store());

    let new_machine = clinicdesk_core::DataDir::new(clinic.folder.path().join("new-workstation"));
    let request = |recovery_key: &str, admin: &str| clinicdesk_core::NewWorkstationRestore {
        backup_file: PathBuf::from(&backup.path),
        recovery_key: recovery_key.to_owned(),
        admin_username: admin.to_owned(),
        admin_password: clinicdesk_tests::secret("lantern quarry mosaic ribbon"),
        kdf: clinicdesk_tests::TEST_KDF,
    };
    let restore = |recovery_key: &str, admin: &str| {
        clinicdesk_core::restore_onto_new_workstation(
            &new_machine,
            request(recovery_key, admin),
            &clinic.environment,
            &mut quiet,
        )
    };
    // A wrong recovery key, or someone who is not an administrator, rebuilds nothing.
    let other = Clinic::new();
    assert_eq!(
        restore(&other.recovery_key, "admin").unwrap_err().code,
        ErrorCode::IntegrityFailure
    );
    assert_eq!(
        restore(&clinic.recovery_key, "frank").unwrap_err().code,
        ErrorCode::InvalidInput
    );
    assert!(!new_machine.store_file().exists());

    // The recovery key as someone types it: lower case, spaces for dashes.
    let typed = clinic.recovery_key.to_lowercase().replace('-', " ");
    restore(&typed, "admin").unwrap();
    let mut admin = Session::login(
        &new_machine,
        "admin",
        &clinicdesk_tests::secret("lantern quarry mosaic ribbon"),
        &clinic.environment,
    )
    .unwrap();
    // Everyone else needs a new password: theirs were on the lost machine.
    let temporary = admin.reset_password("frank").unwrap();
    drop(admin);
    let relogin = Session::login(
        &new_machine,
        "frank",
        &clinicdesk_tests::secret(STAFF_PASSWORD),
        &clinic.environment,
    );
    assert!(relogin.is_err());
    let mut frank = Session::login(
        &new_machine,
        "frank",
        &clinicdesk_tests::secret(&temporary.0),
        &clinic.environment,
    )
    .unwrap();
    frank
        .change_password(
            &clinicdesk_tests::secret(&temporary.0),
            &clinicdesk_tests::secret(STAFF_PASSWORD),
        )
        .unwrap();
    assert_eq!(frank.search_patients(&mrn).unwrap().len(), 1);
    drop(frank);

    let rebuilt = clinicdesk_store::open_store(
        &new_machine.store_file(),
        &clinicdesk_keyslot::KeySlotFile::new(new_machine.key_slot_file())
            .read()
            .unwrap()
            .unlock(
                &clinicdesk_keyslot::SlotOwner::user("admin"),
                &clinicdesk_tests::secret("lantern quarry mosaic ribbon"),
            )
            .unwrap()
            .data_key,
    )
    .unwrap();
    let mut after = records(&rebuilt);
    let mut before = original;
    // Logins and the password reset touched the users table since; compare the clinical records.
    after.remove("users");
    before.remove("users");
    after.remove("settings");
    before.remove("settings");
    assert_eq!(after, before);
    clinicdesk_core::bench_api::verify_audit_chain(&rebuilt).unwrap();
    let keyslot_warnings: i64 = rebuilt
        .query_row(
            "SELECT count(*) FROM audit_log WHERE action = 'security.keyslot_rollback'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(keyslot_warnings, 0);
    // A second rebuild into the same folder is refused: the store is there now.
    assert_eq!(
        restore(&clinic.recovery_key, "admin").unwrap_err().code,
        ErrorCode::StoreAlreadyInitialized
    );
}

#[test]
fn a_store_past_one_gibibyte_holding_sqlites_lock_byte_page_backs_up_and_restores() {
    // SQLite never uses the page at 1 GiB (its lock byte); a store that large has that page and
    // must still restore. Found on the 16 GiB reference set.
    let clinic = Clinic::with_staff();
    let live = clinic.raw_store();
    live.execute_batch(
        "CREATE TABLE padding_for_size (bytes BLOB NOT NULL);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 270000)
         INSERT INTO padding_for_size SELECT randomblob(3900) FROM n;",
    )
    .unwrap();
    let pages: i64 = live
        .query_row("PRAGMA page_count", [], |row| row.get(0))
        .unwrap();
    assert!(pages * 4096 > (1 << 30) + (16 << 20), "only {pages} pages");
    drop(live);
    let mut mona = clinic.staff("mona");
    let backup = mona.create_backup(None, &mut quiet).unwrap();
    clinic.register("After", "Thebackup", "1990-01-01", None);
    mona.restore_backup(Path::new(&backup.path), &mut quiet)
        .unwrap();
    drop(mona);
    let restored = clinic.raw_store();
    let padding: i64 = restored
        .query_row("SELECT count(*) FROM padding_for_size", [], |row| {
            row.get(0)
        })
        .unwrap();
    assert_eq!(padding, 270000);
    let patients: i64 = restored
        .query_row("SELECT count(*) FROM patients", [], |row| row.get(0))
        .unwrap();
    assert_eq!(patients, 0);
    assert!(clinicdesk_store::integrity_problems(&restored)
        .unwrap()
        .is_empty());
}
