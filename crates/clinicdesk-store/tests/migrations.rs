//! Migration discipline: empty → latest, edited migrations refused, newer stores refused,
//! an encrypted pre-migration copy taken before an existing store changes.

use clinicdesk_error::ErrorCode;
use clinicdesk_keyslot::DataKey;
use clinicdesk_store::{
    applied_schema_version, copy_store_encrypted, create_store, migrate, open_store, Migration,
    EMBEDDED_MIGRATIONS,
};

const STAMP: &str = "2026-11-21T09:00:00.000Z";

const FIRST: Migration = Migration {
    version: 1,
    name: "first",
    sql: "CREATE TABLE notes_demo (id INTEGER PRIMARY KEY, body TEXT NOT NULL);",
};
const SECOND: Migration = Migration {
    version: 2,
    name: "second",
    sql: "ALTER TABLE notes_demo ADD COLUMN author TEXT;",
};
const FIRST_EDITED: Migration = Migration {
    version: 1,
    name: "first",
    sql: "CREATE TABLE notes_demo (id INTEGER PRIMARY KEY, body TEXT);",
};

#[test]
fn an_empty_store_migrates_to_the_latest_embedded_version() {
    let folder = tempfile::tempdir().unwrap();
    let key = DataKey::generate();
    let mut connection = create_store(&folder.path().join("store.db"), &key).unwrap();
    let outcome = migrate(&mut connection, EMBEDDED_MIGRATIONS, STAMP, |_, _| {
        panic!("no copy for a new store")
    })
    .unwrap();
    let latest = EMBEDDED_MIGRATIONS.last().unwrap().version;
    assert_eq!((outcome.from_version, outcome.to_version), (0, latest));
    assert_eq!(applied_schema_version(&connection).unwrap(), latest);
    let tables: i64 = connection
        .query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('patients', 'audit_log', 'outbox')", [], |row| row.get(0))
        .unwrap();
    assert_eq!(tables, 3);
    // Running again changes nothing.
    let again = migrate(&mut connection, EMBEDDED_MIGRATIONS, STAMP, |_, _| {
        panic!("nothing to migrate")
    })
    .unwrap();
    assert_eq!((again.from_version, again.to_version), (latest, latest));
}

#[test]
fn an_edited_applied_migration_is_refused() {
    let folder = tempfile::tempdir().unwrap();
    let key = DataKey::generate();
    let mut connection = create_store(&folder.path().join("store.db"), &key).unwrap();
    migrate(&mut connection, &[FIRST], STAMP, |_, _| Ok(())).unwrap();
    let error = migrate(&mut connection, &[FIRST_EDITED, SECOND], STAMP, |_, _| {
        Ok(())
    })
    .unwrap_err();
    assert_eq!(error.code, ErrorCode::MigrationMismatch);
    assert!(
        error.message.contains("0001_first was changed"),
        "{}",
        error.message
    );
    assert_eq!(
        applied_schema_version(&connection).unwrap(),
        1,
        "nothing was applied"
    );
}

#[test]
fn a_store_newer_than_the_binary_is_refused_unchanged() {
    let folder = tempfile::tempdir().unwrap();
    let key = DataKey::generate();
    let mut connection = create_store(&folder.path().join("store.db"), &key).unwrap();
    migrate(&mut connection, &[FIRST, SECOND], STAMP, |_, _| Ok(())).unwrap();
    let error = migrate(&mut connection, &[FIRST], STAMP, |_, _| Ok(())).unwrap_err();
    assert_eq!(error.code, ErrorCode::StoreNewerThanApp);
    assert!(
        error.message.contains("schema version 2"),
        "{}",
        error.message
    );
    assert_eq!(applied_schema_version(&connection).unwrap(), 2);
}

#[test]
fn an_existing_store_is_copied_encrypted_before_it_is_migrated() {
    let folder = tempfile::tempdir().unwrap();
    let key = DataKey::generate();
    let store = folder.path().join("store.db");
    let copy = folder.path().join("pre-migration.db");
    {
        let mut connection = create_store(&store, &key).unwrap();
        migrate(&mut connection, &[FIRST], STAMP, |_, _| Ok(())).unwrap();
        connection
            .execute(
                "INSERT INTO notes_demo (body) VALUES ('before the migration')",
                [],
            )
            .unwrap();
    }
    let mut connection = open_store(&store, &key).unwrap();
    let mut copied_from = None;
    migrate(
        &mut connection,
        &[FIRST, SECOND],
        STAMP,
        |connection, from| {
            copied_from = Some(from);
            copy_store_encrypted(connection, &copy, &key)
        },
    )
    .unwrap();
    assert_eq!(copied_from, Some(1));
    assert_eq!(applied_schema_version(&connection).unwrap(), 2);

    let header = std::fs::read(&copy).unwrap();
    assert_ne!(&header[..16], b"SQLite format 3\0", "the copy is encrypted");
    let copy_connection = open_store(&copy, &key).unwrap();
    assert_eq!(
        applied_schema_version(&copy_connection).unwrap(),
        1,
        "the copy is the store before migrating"
    );
    let body: String = copy_connection
        .query_row("SELECT body FROM notes_demo", [], |row| row.get(0))
        .unwrap();
    assert_eq!(body, "before the migration");
    let wrong = open_store(&copy, &DataKey::generate()).unwrap_err();
    assert_eq!(wrong.code, ErrorCode::IntegrityFailure);
}

#[test]
fn a_failing_copy_leaves_the_store_unmigrated() {
    let folder = tempfile::tempdir().unwrap();
    let key = DataKey::generate();
    let mut connection = create_store(&folder.path().join("store.db"), &key).unwrap();
    migrate(&mut connection, &[FIRST], STAMP, |_, _| Ok(())).unwrap();
    let error = migrate(&mut connection, &[FIRST, SECOND], STAMP, |_, _| {
        Err(clinicdesk_error::Error::unexpected("disk full"))
    })
    .unwrap_err();
    assert_eq!(error.message, "Disk full");
    assert_eq!(applied_schema_version(&connection).unwrap(), 1);
}
