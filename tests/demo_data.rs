//! The demo-data generator: the same seed gives the same clinic; it fills only an empty store,
//! only for an administrator; what it writes passes the store's own integrity checks; every row
//! it writes, and every row someone writes meanwhile, has exactly one outbox row; the change
//! journal leaves out the generated rows and only those.

use clinicdesk_core::{DemoSize, ErrorCode};
use clinicdesk_store::rusqlite::Connection;
use clinicdesk_tests::Clinic;

fn fingerprint(clinic: &Clinic) -> (String, Vec<i64>) {
    let connection = Connection::open(clinic.data_dir.store_file()).unwrap();
    connection
        .pragma_update(None, "key", clinic.data_key().sqlcipher_literal().as_str())
        .unwrap();
    let patients: String = connection
        .query_row(
            "SELECT group_concat(mrn || given_name || family_name || date_of_birth || sex, ';') FROM (SELECT * FROM patients ORDER BY mrn)",
            [],
            |row| row.get(0),
        )
        .unwrap();
    let counts = [
        "patients",
        "appointments",
        "vitals_sets",
        "vital_observations",
        "notes",
        "providers",
    ]
    .iter()
    .map(|table| {
        connection
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
                row.get(0)
            })
            .unwrap()
    })
    .collect();
    let problems = clinicdesk_store::integrity_problems(&connection).unwrap();
    assert!(
        problems.is_empty(),
        "the generated store is consistent: {problems:?}"
    );
    (patients, counts)
}

fn generate(seed: u64) -> Clinic {
    let clinic = Clinic::new();
    let summary = clinic
        .admin()
        .generate_demo_data(DemoSize::Tiny, seed, None, None, |_| {})
        .unwrap();
    assert_eq!(
        (
            summary.patients,
            summary.observations,
            summary.appointments,
            summary.notes
        ),
        (200, 4_000, 1_000, 500)
    );
    clinic
}

#[test]
fn the_same_seed_makes_the_same_clinic_and_another_seed_another() {
    let first = fingerprint(&generate(7));
    let again = fingerprint(&generate(7));
    let other = fingerprint(&generate(8));
    assert_eq!(first, again);
    assert_ne!(first.0, other.0);
    assert_eq!(first.1, vec![200, 1_000, first.1[2], 4_000, 500, 4]);
}

#[test]
fn demo_data_goes_only_into_an_empty_store_and_only_by_an_administrator() {
    let clinic = Clinic::with_staff();
    let mut frank = clinic.staff("frank");
    let denied = frank
        .generate_demo_data(DemoSize::Tiny, 1, None, None, |_| {})
        .err()
        .unwrap();
    assert_eq!(denied.code, ErrorCode::PermissionDenied);
    clinic.register("Ngozi", "Okafor", "1984-03-27", None);
    let refused = clinic
        .admin()
        .generate_demo_data(DemoSize::Tiny, 1, None, None, |_| {})
        .err()
        .unwrap();
    assert_eq!(refused.code, ErrorCode::Conflict);
    assert!(refused.message.contains("empty store"));
}

#[test]
fn generated_patients_can_be_found_and_their_charts_opened() {
    let clinic = generate(3);
    let connection = Connection::open(clinic.data_dir.store_file()).unwrap();
    connection
        .pragma_update(None, "key", clinic.data_key().sqlcipher_literal().as_str())
        .unwrap();
    let (mrn, given, family): (String, String, String) = connection
        .query_row(
            "SELECT mrn, given_name, family_name FROM patients ORDER BY rowid LIMIT 1 OFFSET 17",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .unwrap();
    drop(connection);
    clinic.add_user("dr.cole", "clinician", clinicdesk_tests::STAFF_PASSWORD);
    let mut cole = clinic.staff("dr.cole");
    let hits = cole.search_patients(&format!("{given} {family}")).unwrap();
    assert!(
        hits.iter().any(|hit| hit.mrn == mrn),
        "{given} {family} is found"
    );
    let chart = cole.open_chart(&mrn).unwrap();
    assert_eq!(chart.demographics.family_name, family);
}

#[test]
fn a_demo_patients_recorded_sex_agrees_with_their_name() {
    let clinic = generate(11);
    let store = clinic.raw_store();
    let count = |sql: &str| -> i64 { store.query_row(sql, [], |row| row.get(0)).unwrap() };
    let womens = "('Lisa', 'Emma', 'Maria', 'Sarah', 'Anna', 'Olivia', 'Mary', 'Sophia')";
    let mens = "('Thomas', 'John', 'Peter', 'David', 'Paul', 'Liam', 'James', 'Lucas')";
    assert_eq!(
        count(&format!(
            "SELECT count(*) FROM patients WHERE given_name IN {womens} AND sex = 'male'"
        )),
        0
    );
    assert_eq!(
        count(&format!(
            "SELECT count(*) FROM patients WHERE given_name IN {mens} AND sex = 'female'"
        )),
        0
    );
    // Not vacuous: both kinds of name are there, and so are "other" and "unknown".
    assert!(
        count(&format!(
            "SELECT count(*) FROM patients WHERE given_name IN {womens}"
        )) > 0
    );
    assert!(
        count(&format!(
            "SELECT count(*) FROM patients WHERE given_name IN {mens}"
        )) > 0
    );
    assert!(count("SELECT count(*) FROM patients WHERE sex IN ('other', 'unknown')") > 0);
}

#[test]
fn demo_patients_have_allergies_none_known_or_never_asked_and_medications_with_their_problems() {
    let clinic = generate(5);
    let store = clinic.raw_store();
    let count = |sql: &str| -> i64 { store.query_row(sql, [], |row| row.get(0)).unwrap() };
    let with_allergies =
        count("SELECT count(DISTINCT patient_id) FROM allergies WHERE status = 'active'");
    let none_known = count(
        "SELECT count(DISTINCT patient_id) FROM allergy_confirmations WHERE status = 'current'",
    );
    let never_asked = count(
        "SELECT count(*) FROM patients p WHERE NOT EXISTS (SELECT 1 FROM allergies a WHERE a.patient_id = p.id)
           AND NOT EXISTS (SELECT 1 FROM allergy_confirmations c WHERE c.patient_id = p.id)",
    );
    // Of 200 patients: about 60, 100 and 40.
    for (what, found) in [
        ("with active allergies", with_allergies),
        ("with no known allergies", none_known),
        ("never asked", never_asked),
    ] {
        assert!((20..=130).contains(&found), "{found} patients {what}");
    }
    // Every medication treats a problem of the same patient, stopped when it resolved.
    assert!(count("SELECT count(*) FROM medications") > 50);
    assert_eq!(
        count(
            "SELECT count(*) FROM medications m WHERE NOT EXISTS (SELECT 1 FROM problems p
               WHERE p.patient_id = m.patient_id AND p.description = m.reason
                 AND (p.status = 'resolved') = (m.status = 'stopped'))"
        ),
        0
    );
    assert!(count("SELECT count(*) FROM medication_reviews") > 10);
}

#[test]
fn a_patient_registered_while_the_generator_runs_goes_to_the_server_once_like_every_generated_row()
{
    let clinic = Clinic::with_staff();
    let mut registered = None;
    clinic
        .admin()
        .generate_demo_data(DemoSize::Tiny, 5, None, None, |_| {
            // Between two of the generator's transactions, the front desk registers someone.
            if registered.is_none() {
                registered = Some(clinic.register("Ada", "Lovelace", "1985-12-10", None));
            }
        })
        .unwrap();
    let mrn = registered.expect("the generator reports its progress");
    let store = clinic.raw_store();
    let doubled: Vec<(String, String, i64)> = store
        .prepare(
            "SELECT table_name, row_id, count(*) FROM outbox WHERE operation = 'insert'
             GROUP BY table_name, row_id HAVING count(*) > 1",
        )
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(doubled.is_empty(), "rows sent twice: {doubled:?}");
    let count = |sql: &str| -> i64 { store.query_row(sql, [&mrn], |row| row.get(0)).unwrap() };
    assert_eq!(
        count(
            "SELECT count(*) FROM outbox o JOIN patients p ON p.id = o.row_id
             WHERE o.table_name = 'patients' AND o.operation = 'insert' AND p.mrn = ?1"
        ),
        1,
        "the registered patient's own outbox row"
    );
    assert_eq!(
        count(
            "SELECT count(*) FROM patients p WHERE ?1 <> '' AND NOT EXISTS
             (SELECT 1 FROM outbox o WHERE o.table_name = 'patients' AND o.row_id = p.id)"
        ),
        0,
        "every patient goes to the server"
    );
    // The generation's own rows are left out of the change journal (a gap per transaction), but
    // the registration in between is journaled, and the journal records on afterwards.
    assert_eq!(
        count(
            "SELECT count(*) FROM change_journal j JOIN patients p ON p.id = json_extract(j.row_key, '$.id')
             WHERE j.table_name = 'patients' AND j.operation = 'insert' AND p.mrn = ?1"
        ),
        1,
        "the registration is in the change journal"
    );
    let one = |sql: &str| -> i64 { store.query_row(sql, [], |row| row.get(0)).unwrap() };
    assert!(one("SELECT count(*) FROM change_journal WHERE operation = 'gap'") >= 2);
    assert_eq!(
        one("SELECT count(*) FROM change_journal WHERE table_name = 'vital_observations'"),
        0
    );
    assert_eq!(one("SELECT recording FROM change_journal_clock"), 1);
}

#[test]
fn a_store_whose_journal_an_earlier_generation_left_paused_records_again_from_the_next_change() {
    let clinic = Clinic::with_staff();
    // What a generation stopped halfway by an earlier release left behind.
    clinic
        .raw_store()
        .execute_batch("UPDATE change_journal_clock SET recording = 0")
        .unwrap();
    let mrn = clinic.register("Ada", "Lovelace", "1985-12-10", None);
    let store = clinic.raw_store();
    let count = |sql: &str| -> i64 { store.query_row(sql, [&mrn], |row| row.get(0)).unwrap() };
    assert_eq!(
        count("SELECT recording FROM change_journal_clock WHERE ?1 <> ''"),
        1
    );
    assert_eq!(
        count(
            "SELECT count(*) FROM change_journal WHERE operation = 'gap' AND ?1 <> ''
             AND json_extract(row_key, '$.why') = 'a demo-data generation stopped before it finished'"
        ),
        1
    );
    assert_eq!(
        count(
            "SELECT count(*) FROM change_journal j JOIN patients p ON p.id = json_extract(j.row_key, '$.id')
             WHERE j.table_name = 'patients' AND j.operation = 'insert' AND p.mrn = ?1"
        ),
        1,
        "the registration is in the change journal"
    );
}
