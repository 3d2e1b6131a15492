//! Nothing readable on disk: the store is SQLCipher under the data key, and no file of the data
//! folder holds patient-like text in the clear.

use clinicdesk_core::ErrorCode;
use clinicdesk_keyslot::DataKey;
use clinicdesk_store::rusqlite::Connection;
use clinicdesk_tests::Clinic;

const MARKER: &str = "ZQXMARKER-Hildegard-Wolkenstein-1931";

fn files_under(folder: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

#[test]
fn the_store_is_not_a_plain_sqlite_file_and_opens_only_with_the_data_key() {
    let clinic = Clinic::new();
    let store = clinic.data_dir.store_file();
    let bytes = std::fs::read(&store).unwrap();
    assert_ne!(&bytes[..16], b"SQLite format 3\0");

    // The sqlite3 tool cannot read it.
    let output = std::process::Command::new("sqlite3")
        .arg(&store)
        .arg("SELECT count(*) FROM users;")
        .output();
    match output {
        Ok(output) => {
            assert!(
                !output.status.success(),
                "sqlite3 read the store: {}",
                String::from_utf8_lossy(&output.stdout)
            );
            assert!(String::from_utf8_lossy(&output.stderr).contains("not a database"));
        }
        Err(error) => {
            panic!("the sqlite3 tool is needed for this test (scripts/setup installs it): {error}")
        }
    }

    // A second, independent SQLCipher connection: with the key it reads, without it it does not.
    let key = clinic.data_key();
    let keyed = Connection::open(&store).unwrap();
    keyed
        .pragma_update(None, "key", key.sqlcipher_literal().as_str())
        .unwrap();
    let users: i64 = keyed
        .query_row("SELECT count(*) FROM users", [], |row| row.get(0))
        .unwrap();
    assert_eq!(users, 1);

    let unkeyed = Connection::open(&store).unwrap();
    assert!(unkeyed
        .query_row("SELECT count(*) FROM users", [], |row| row.get::<_, i64>(0))
        .is_err());
    let wrong = Connection::open(&store).unwrap();
    wrong
        .pragma_update(
            None,
            "key",
            DataKey::generate().sqlcipher_literal().as_str(),
        )
        .unwrap();
    assert!(wrong
        .query_row("SELECT count(*) FROM users", [], |row| row.get::<_, i64>(0))
        .is_err());
}

#[test]
fn a_patient_marker_is_in_no_file_of_the_data_folder_in_plain_text() {
    let clinic = Clinic::new();
    let key = clinic.data_key();
    // A user whose name is the marker goes through the core (users table, audit, outbox)...
    let mut admin = clinic.admin();
    admin
        .add_user("hw1931", MARKER, clinicdesk_core::Role::Clinician)
        .unwrap();
    drop(admin);
    // ...and a patient row written with the data key, while a connection keeps the WAL alive.
    let live = clinicdesk_store::open_store(&clinic.data_dir.store_file(), &key).unwrap();
    live.execute_batch("PRAGMA wal_autocheckpoint = 0;")
        .unwrap();
    let clinic_id: String = live
        .query_row("SELECT id FROM clinics", [], |row| row.get(0))
        .unwrap();
    live.execute(
        "INSERT INTO patients (id, created_at, updated_at, clinic_id, mrn, given_name, family_name, date_of_birth, sex)
         VALUES ('0190d7a0-0000-7000-8000-000000000001', '2026-11-02T08:00:00.000Z', '2026-11-02T08:00:00.000Z', ?1,
                 '4830172955', ?2, 'Wolkenstein', '1931-05-04', 'female')",
        [&clinic_id, MARKER],
    )
    .unwrap();
    // A pre-migration copy made the way the core makes it.
    let copy_folder = clinic.data_dir.pre_migration_folder();
    std::fs::create_dir_all(&copy_folder).unwrap();
    clinicdesk_store::copy_store_encrypted(&live, &copy_folder.join("copy.db"), &key).unwrap();

    let files = files_under(clinic.data_dir.root());
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().any(|n| n == "clinicdesk.db-wal"),
        "the WAL is among the files checked: {names:?}"
    );
    assert!(names.iter().any(|n| n == "keyslots.json"));
    assert!(names.iter().any(|n| n == "copy.db"));
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        assert!(
            !contains(&bytes, MARKER.as_bytes()),
            "{} holds the marker in plain text",
            file.display()
        );
        assert!(
            !contains(&bytes, b"Wolkenstein"),
            "{} holds a surname in plain text",
            file.display()
        );
    }
    let found: String = live
        .query_row("SELECT given_name FROM patients", [], |row| row.get(0))
        .unwrap();
    assert_eq!(found, MARKER, "the marker really is in the store");
}

#[test]
fn a_second_init_on_the_same_folder_is_refused() {
    let clinic = Clinic::new();
    let error = clinicdesk_core::init(
        &clinic.data_dir,
        clinicdesk_core::InitRequest {
            clinic_name: "Other".into(),
            time_zone: "UTC".into(),
            locale: None,
            admin_username: "other".into(),
            admin_display_name: "Other".into(),
            admin_password: clinicdesk_tests::secret("marble canyon whistle frost"),
            kdf: clinicdesk_tests::TEST_KDF,
        },
        &clinic.environment,
    )
    .err()
    .unwrap();
    assert_eq!(error.code, ErrorCode::StoreAlreadyInitialized);
    clinic.admin();
}
