//! The one write path, seen from the store: every operation that changes rows of synced tables
//! writes exactly one outbox row per changed row and at least one audit entry, in the same
//! transaction; and the outbox holds nothing the operation did not change.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use clinicdesk_core::{
    AppointmentStatus, BookingRequest, DemographicsChange, NoteKind, Role, Session, VitalKind,
    VitalReading,
};
use clinicdesk_store::rusqlite::Connection;
use clinicdesk_tests::{Clinic, STAFF_PASSWORD};

/// Where the store stands: the last outbox row, audit entry and journal transaction.
#[derive(Clone, Copy)]
struct Mark {
    outbox: i64,
    audit: i64,
    txn: i64,
}

fn mark(store: &Connection) -> Mark {
    store
        .query_row(
            "SELECT (SELECT coalesce(max(seq), 0) FROM outbox), (SELECT seq FROM audit_chain_head),
                    (SELECT txn FROM change_journal_clock)",
            [],
            |row| {
                Ok(Mark {
                    outbox: row.get(0)?,
                    audit: row.get(1)?,
                    txn: row.get(2)?,
                })
            },
        )
        .unwrap()
}

/// A table and a row id.
type RowKey = (String, String);

/// What changed since `before`: rows of synced tables the journal saw change, the outbox rows
/// (with repeats), and the number of audit entries.
fn changes_since(store: &Connection, before: Mark) -> (BTreeSet<RowKey>, Vec<RowKey>, i64) {
    let synced: Vec<&str> = clinicdesk_core::synced_tables().map(|t| t.name).collect();
    let mut statement = store
        .prepare(
            "SELECT DISTINCT table_name, json_extract(row_key, '$.id') FROM change_journal
             WHERE txn > ?1 AND operation <> 'gap'",
        )
        .unwrap();
    let changed: BTreeSet<(String, String)> = statement
        .query_map([before.txn], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .filter(|(table, _): &(String, String)| synced.contains(&table.as_str()))
        .collect();
    let mut statement = store
        .prepare("SELECT table_name, row_id FROM outbox WHERE seq > ?1")
        .unwrap();
    let outboxed: Vec<(String, String)> = statement
        .query_map([before.outbox], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let audited: i64 = store
        .query_row(
            "SELECT count(*) FROM audit_log WHERE seq > ?1",
            [before.audit],
            |row| row.get(0),
        )
        .unwrap();
    (changed, outboxed, audited)
}

/// Runs `operation` as `who` and checks what it left in the store.
fn check(clinic: &Clinic, who: &str, what: &str, operation: impl FnOnce(&mut Session)) {
    let mut session = clinic.login(who, STAFF_PASSWORD).unwrap();
    let store =
        clinicdesk_store::open_store(&clinic.data_dir.store_file(), &clinic.data_key()).unwrap();
    let before = mark(&store);
    operation(&mut session);
    let (changed, outboxed, audited) = changes_since(&store, before);
    assert!(!changed.is_empty(), "{what}: changed no synced row");
    let distinct: BTreeSet<(String, String)> = outboxed.iter().cloned().collect();
    assert_eq!(
        distinct.len(),
        outboxed.len(),
        "{what}: a row has more than one outbox row: {outboxed:?}"
    );
    assert_eq!(
        distinct, changed,
        "{what}: the outbox and the changed rows differ"
    );
    assert!(audited >= 1, "{what}: no audit entry");
}

#[test]
fn every_synced_write_has_one_outbox_row_per_changed_row_and_an_audit_entry() {
    let clinic = Clinic::with_staff();
    clinic.add_user("sam.admin", "administrator", STAFF_PASSWORD);
    let provider = clinic
        .staff("frank")
        .add_provider("Dr. Cole", Some("dr.cole"), None)
        .unwrap()
        .id;
    let mrn = clinic.register("Ngozi", "Okafor", "1984-03-27", Some("+49 30 1234567"));
    let other = clinic.register("Adaeze", "Obi", "1990-05-01", None);
    let day = NaiveDate::from_ymd_opt(2026, 11, 3).unwrap();
    let booking = |mrn: &str| BookingRequest {
        mrn: mrn.to_owned(),
        provider_id: provider.clone(),
        starts_local: day.and_hms_opt(9, 0, 0).unwrap(),
        minutes: Some(20),
        appointment_type_id: None,
        reason: Some("cough".into()),
        outside_hours_override: true,
        repeat: None,
        repeated_hour: Default::default(),
    };

    check(&clinic, "frank", "register", |s| {
        s.register_patient(
            &clinicdesk_core::NewPatient {
                given_name: "Ada".into(),
                family_name: "Lovelace".into(),
                date_of_birth: "1915-12-10".into(),
                sex: clinicdesk_core::Sex::Female,
                phone: Some("030 555 0100".into()),
                restricted: false,
            },
            true,
        )
        .unwrap();
    });
    check(&clinic, "frank", "update demographics", |s| {
        s.update_demographics(
            &mrn,
            &DemographicsChange {
                given_name: Some("Ngozi Ada".into()),
                family_name: None,
                date_of_birth: None,
                sex: None,
                phone: Some("+49 30 7654321".into()),
            },
            None,
        )
        .unwrap();
    });
    check(&clinic, "frank", "book", |s| {
        s.book_appointment(&booking(&mrn)).unwrap();
    });
    let appointment = clinic.staff("frank").day_schedule(None, day).unwrap()[0]
        .id
        .clone();
    check(&clinic, "nurse.joy", "check in", |s| {
        s.set_appointment_status(&appointment, AppointmentStatus::Arrived, None)
            .unwrap();
    });
    check(&clinic, "nurse.joy", "record vitals", |s| {
        s.record_vitals(
            &mrn,
            &[
                VitalReading {
                    kind: VitalKind::Weight,
                    value: 70.0,
                    unit: None,
                },
                VitalReading {
                    kind: VitalKind::Height,
                    value: 170.0,
                    unit: None,
                },
            ],
            None,
        )
        .unwrap();
    });
    let observation = clinic.staff("nurse.joy").vitals_flowsheet(&mrn, 1).unwrap()[0].observations
        [0]
    .id
    .clone();
    check(&clinic, "nurse.joy", "mark in error", |s| {
        s.mark_observation_in_error(&observation, "wrong patient's scale")
            .unwrap();
    });
    check(&clinic, "dr.cole", "write a note", |s| {
        s.write_note(
            &mrn,
            NoteKind::Clinical,
            Some("Visit"),
            "Cough for a week.",
            None,
        )
        .unwrap();
    });
    let penicillin = clinicdesk_core::AllergyDetails {
        substance: "Penicillin".into(),
        substance_code: None,
        category: clinicdesk_core::AllergyCategory::Medication,
        reaction: None,
        severity: None,
        criticality: None,
        onset: None,
        status: clinicdesk_core::AllergyStatus::Active,
    };
    let metformin = clinicdesk_core::MedicationDetails {
        name: "Metformin".into(),
        code: None,
        dose: Some("500 mg".into()),
        route: None,
        frequency: None,
        started_on: None,
        stopped_on: None,
        reason: None,
        status: clinicdesk_core::MedicationStatus::Active,
    };
    let asthma = clinicdesk_core::ProblemDetails {
        description: "Asthma".into(),
        icd10_code: Some("J45.9".into()),
        onset: None,
        resolved_on: None,
        status: clinicdesk_core::ProblemStatus::Active,
    };
    check(&clinic, "nurse.joy", "confirm no known allergies", |s| {
        s.confirm_no_known_allergies(&mrn).unwrap();
    });
    let allergy = std::cell::RefCell::new(None);
    check(
        &clinic,
        "nurse.joy",
        "record an allergy (withdrawing the confirmation)",
        |s| {
            *allergy.borrow_mut() = Some(s.record_allergy(&mrn, &penicillin).unwrap());
        },
    );
    let allergy = allergy.into_inner().unwrap();
    check(&clinic, "nurse.joy", "change an allergy", |s| {
        s.update_allergy(&allergy, &penicillin).unwrap();
    });
    check(&clinic, "nurse.joy", "mark an allergy in error", |s| {
        s.mark_allergy_in_error(&allergy, "wrong patient").unwrap();
    });
    let medication = std::cell::RefCell::new(None);
    check(&clinic, "nurse.joy", "record a medication", |s| {
        *medication.borrow_mut() = Some(s.record_medication(&mrn, &metformin).unwrap());
    });
    let medication = medication.into_inner().unwrap();
    check(&clinic, "dr.cole", "change a medication", |s| {
        s.update_medication(&medication, &metformin).unwrap();
    });
    check(&clinic, "dr.cole", "review the medications", |s| {
        s.review_medications(&mrn).unwrap();
    });
    check(&clinic, "dr.cole", "mark a medication in error", |s| {
        s.mark_medication_in_error(&medication, "wrong patient")
            .unwrap();
    });
    let problem = std::cell::RefCell::new(None);
    check(&clinic, "dr.cole", "record a problem", |s| {
        *problem.borrow_mut() = Some(s.record_problem(&mrn, &asthma).unwrap());
    });
    let problem = problem.into_inner().unwrap();
    check(&clinic, "dr.cole", "change a problem", |s| {
        s.update_problem(&problem, &asthma).unwrap();
    });
    check(&clinic, "dr.cole", "mark a problem in error", |s| {
        s.mark_problem_in_error(&problem, "wrong patient").unwrap();
    });
    check(&clinic, "frank", "restrict", |s| {
        s.set_patient_restricted(&other, true).unwrap();
    });
    check(&clinic, "mona", "merge", |s| {
        s.merge_patients(&mrn, &other).unwrap();
    });
    check(&clinic, "mona", "undo the merge", |s| {
        s.undo_merge(&other).unwrap();
    });
    check(&clinic, "sam.admin", "add a user", |s| {
        s.add_user("new.nurse", "New Nurse", Role::Nurse).unwrap();
    });
    check(&clinic, "sam.admin", "change a role", |s| {
        s.set_user_role("new.nurse", Role::Clinician).unwrap();
    });
    check(&clinic, "sam.admin", "disable a user", |s| {
        s.disable_user("new.nurse").unwrap();
    });
}

#[test]
fn a_login_changes_no_synced_row() {
    let clinic = Clinic::with_staff();
    let store =
        clinicdesk_store::open_store(&clinic.data_dir.store_file(), &clinic.data_key()).unwrap();
    let before = mark(&store);
    drop(clinic.staff("frank"));
    let (changed, outboxed, _) = changes_since(&store, before);
    assert!(changed.is_empty(), "a login changed {changed:?}");
    assert!(outboxed.is_empty());
}
