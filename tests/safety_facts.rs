//! The chart's safety facts through the core and on disk: allergies with "no known allergies"
//! kept apart from "never asked" (and the store refusing the two together), medications with
//! their review, problems; every closed set and date rule refused naming its field; nothing
//! deleted; every read and change audited.

use clinicdesk_core::{
    AllergyCategory, AllergyCriticality, AllergyDetails, AllergySeverity, AllergyState,
    AllergyStatus, ErrorCode, MedicationDetails, MedicationStatus, ProblemDetails, ProblemStatus,
};
use clinicdesk_store::rusqlite::Connection;
use clinicdesk_tests::Clinic;

fn penicillin() -> AllergyDetails {
    AllergyDetails {
        substance: "Penicillin".into(),
        substance_code: Some("RxNorm 7980".into()),
        category: AllergyCategory::Medication,
        reaction: Some("Hives".into()),
        severity: Some(AllergySeverity::Moderate),
        criticality: Some(AllergyCriticality::High),
        onset: Some("2010-06-01".into()),
        status: AllergyStatus::Active,
    }
}

fn metformin() -> MedicationDetails {
    MedicationDetails {
        name: "Metformin".into(),
        code: None,
        dose: Some("500 mg".into()),
        route: Some("by mouth".into()),
        frequency: Some("twice a day".into()),
        started_on: Some("2024-03-01".into()),
        stopped_on: None,
        reason: Some("Type 2 diabetes".into()),
        status: MedicationStatus::Active,
    }
}

fn diabetes() -> ProblemDetails {
    ProblemDetails {
        description: "Type 2 diabetes".into(),
        icd10_code: Some("E11.9".into()),
        onset: Some("2024-02-15".into()),
        resolved_on: None,
        status: ProblemStatus::Active,
    }
}

/// The actions of the audit entries after `seq`, with their patient set or not.
fn audited_since(store: &Connection, seq: i64) -> Vec<(String, bool)> {
    let mut statement = store
        .prepare("SELECT action, patient_id IS NOT NULL FROM audit_log WHERE seq > ?1 ORDER BY seq")
        .unwrap();
    statement
        .query_map([seq], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn audit_head(store: &Connection) -> i64 {
    store
        .query_row("SELECT coalesce(max(seq), 0) FROM audit_log", [], |row| {
            row.get(0)
        })
        .unwrap()
}

#[test]
fn never_asked_no_known_allergies_and_an_allergy_are_three_different_facts() {
    let clinic = Clinic::with_staff();
    let mrn = clinic.register("Ngozi", "Okafor", "1984-03-27", None);
    let mut joy = clinic.staff("nurse.joy");

    assert_eq!(joy.allergy_state(&mrn).unwrap(), AllergyState::NotRecorded);
    joy.confirm_no_known_allergies(&mrn).unwrap();
    match joy.allergy_state(&mrn).unwrap() {
        AllergyState::NoKnownAllergies {
            confirmed_by,
            confirmed_at,
        } => {
            assert_eq!(confirmed_by, "Staff nurse.joy");
            assert!(
                confirmed_at.starts_with("2026-11-02T08:00"),
                "{confirmed_at}"
            );
        }
        other => panic!("expected no known allergies, got {other:?}"),
    }

    // Recording an allergy withdraws "no known allergies" in the same change.
    joy.record_allergy(&mrn, &penicillin()).unwrap();
    let list = joy.allergies(&mrn).unwrap();
    assert_eq!(
        list.state,
        AllergyState::HasAllergies {
            count: 1,
            substances: vec!["Penicillin".into()],
            contradicted_by_confirmation: false
        }
    );
    assert_eq!(list.allergies[0].recorded_by, "Staff nurse.joy");
    let store = clinic.raw_store();
    let withdrawn: String = store
        .query_row("SELECT status FROM allergy_confirmations", [], |row| {
            row.get(0)
        })
        .unwrap();
    assert_eq!(withdrawn, "withdrawn");

    // Confirming "no known allergies" now is refused, naming the allergy, and changes nothing.
    let refused = joy.confirm_no_known_allergies(&mrn).unwrap_err();
    assert_eq!(refused.code, ErrorCode::InvalidInput);
    assert_eq!(refused.field.as_deref(), Some("allergy_status"));
    assert!(
        refused.message.contains("Penicillin"),
        "{}",
        refused.message
    );
    let confirmations: i64 = store
        .query_row("SELECT count(*) FROM allergy_confirmations", [], |row| {
            row.get(0)
        })
        .unwrap();
    assert_eq!(confirmations, 1);

    // The front desk sees the badge, not the list; the manager sees neither.
    let mut frank = clinic.staff("frank");
    assert_eq!(
        frank.allergy_state(&mrn).unwrap(),
        AllergyState::HasAllergies {
            count: 1,
            substances: vec![],
            contradicted_by_confirmation: false
        }
    );
    assert_eq!(
        frank.allergies(&mrn).unwrap_err().code,
        ErrorCode::PermissionDenied
    );
    let mut mona = clinic.staff("mona");
    assert_eq!(
        mona.allergy_state(&mrn).unwrap_err().code,
        ErrorCode::PermissionDenied
    );
}

#[test]
fn the_store_refuses_no_known_allergies_beside_an_active_allergy_unless_sync_brings_both() {
    let clinic = Clinic::with_staff();
    let mrn = clinic.register("Ngozi", "Okafor", "1984-03-27", None);
    let mut joy = clinic.staff("nurse.joy");
    joy.record_allergy(&mrn, &penicillin()).unwrap();
    let store = clinic.raw_store();
    let patient: String = store
        .query_row("SELECT id FROM patients WHERE mrn = ?1", [&mrn], |row| {
            row.get(0)
        })
        .unwrap();
    let confirmation = |id: &str| {
        format!(
            "INSERT INTO allergy_confirmations (id, created_at, updated_at, patient_id, status)
             VALUES ('{id}', '2026-11-02T08:00:00.000Z', '2026-11-02T08:00:00.000Z', '{patient}', 'current')"
        )
    };
    let refused = store
        .execute_batch(&confirmation("00000000-0000-7000-8000-000000000001"))
        .unwrap_err()
        .to_string();
    assert!(refused.contains("no known allergies"), "{refused}");

    // And the other way round: an active allergy beside a current confirmation.
    let mrn_two = clinic.register("Lisa", "Thompson", "1990-01-02", None);
    joy.confirm_no_known_allergies(&mrn_two).unwrap();
    let refused = joy
        .record_allergy(
            &mrn_two,
            &AllergyDetails {
                status: AllergyStatus::Inactive,
                ..penicillin()
            },
        )
        .map(|_| ());
    assert_eq!(refused, Ok(()), "an inactive allergy does not contradict");
    let id: String = store
        .query_row(
            "SELECT a.id FROM allergies a JOIN patients p ON p.id = a.patient_id WHERE p.mrn = ?1",
            [&mrn_two],
            |row| row.get(0),
        )
        .unwrap();
    let refused = store
        .execute(
            "UPDATE allergies SET status = 'active' WHERE id = ?1",
            [&id],
        )
        .unwrap_err()
        .to_string();
    assert!(refused.contains("no known allergies"), "{refused}");

    // Sync applies what two workstations recorded offline: both kept, the chart says so.
    store
        .execute_batch(&format!(
            "BEGIN;
             INSERT INTO sync_state (key, value, updated_at) VALUES ('applying_server_rows', '1', '2026-11-02T08:00:00.000Z');
             {};
             DELETE FROM sync_state WHERE key = 'applying_server_rows';
             COMMIT;",
            confirmation("00000000-0000-7000-8000-000000000002")
        ))
        .unwrap();
    assert_eq!(
        joy.allergy_state(&mrn).unwrap(),
        AllergyState::HasAllergies {
            count: 1,
            substances: vec!["Penicillin".into()],
            contradicted_by_confirmation: true
        }
    );
}

#[test]
fn nothing_is_deleted_and_entered_in_error_is_final() {
    let clinic = Clinic::with_staff();
    let mrn = clinic.register("Ngozi", "Okafor", "1984-03-27", None);
    let mut joy = clinic.staff("nurse.joy");
    let allergy = joy.record_allergy(&mrn, &penicillin()).unwrap();
    let medication = joy.record_medication(&mrn, &metformin()).unwrap();
    let problem = joy.record_problem(&mrn, &diabetes()).unwrap();

    let short = joy.mark_allergy_in_error(&allergy, "x").unwrap_err();
    assert_eq!(short.field.as_deref(), Some("reason"));
    joy.mark_allergy_in_error(&allergy, "Wrong patient")
        .unwrap();
    joy.mark_medication_in_error(&medication, "Wrong patient")
        .unwrap();
    joy.mark_problem_in_error(&problem, "Wrong patient")
        .unwrap();

    assert_eq!(joy.allergy_state(&mrn).unwrap(), AllergyState::NotRecorded);
    let list = joy.allergies(&mrn).unwrap();
    assert_eq!(list.allergies[0].status, AllergyStatus::EnteredInError);
    assert_eq!(
        list.allergies[0].entered_in_error_reason.as_deref(),
        Some("Wrong patient")
    );
    assert_eq!(
        joy.update_allergy(&allergy, &penicillin())
            .unwrap_err()
            .code,
        ErrorCode::Conflict
    );
    assert_eq!(
        joy.update_medication(&medication, &metformin())
            .unwrap_err()
            .code,
        ErrorCode::Conflict
    );
    assert_eq!(
        joy.update_problem(&problem, &diabetes()).unwrap_err().code,
        ErrorCode::Conflict
    );

    let store = clinic.raw_store();
    for (table, id) in [
        ("allergies", allergy.as_str()),
        ("medications", medication.as_str()),
        ("problems", problem.as_str()),
    ] {
        let deleted = store
            .execute(&format!("DELETE FROM {table} WHERE id = ?1"), [id])
            .unwrap_err()
            .to_string();
        assert!(deleted.contains("never deleted"), "{table}: {deleted}");
        let revived = store
            .execute(
                &format!("UPDATE {table} SET status = 'active' WHERE id = ?1"),
                [id],
            )
            .unwrap_err()
            .to_string();
        assert!(revived.contains("stays so"), "{table}: {revived}");
    }
}

/// A rule check: `change` makes the details wrong in one way; the core refuses it as
/// `invalid_input` naming `field`, and nothing is written.
fn check(store: &Connection, case: &str, field: &str, outcome: clinicdesk_core::Result<()>) {
    let error = outcome.expect_err(case);
    assert_eq!(error.code, ErrorCode::InvalidInput, "{case}: {error:?}");
    assert_eq!(error.field.as_deref(), Some(field), "{case}: {error:?}");
    let rows: i64 = store
        .query_row(
            "SELECT (SELECT count(*) FROM allergies) + (SELECT count(*) FROM medications) + (SELECT count(*) FROM problems)",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(rows, 0, "{case}: nothing is written");
}

#[test]
fn every_closed_set_and_date_rule_is_refused_naming_its_field() {
    let clinic = Clinic::with_staff();
    // Born 1984-03-27; the clinic's today is 2026-11-02.
    let mrn = clinic.register("Ngozi", "Okafor", "1984-03-27", None);
    let mut joy = clinic.staff("nurse.joy");
    let store = clinic.raw_store();

    let allergy_cases: Vec<(&str, &str, AllergyDetails)> = vec![
        (
            "onset in the future",
            "onset",
            AllergyDetails {
                onset: Some("2026-11-03".into()),
                ..penicillin()
            },
        ),
        (
            "onset before birth",
            "onset",
            AllergyDetails {
                onset: Some("1984-03-26".into()),
                ..penicillin()
            },
        ),
        (
            "onset not a date",
            "onset",
            AllergyDetails {
                onset: Some("2010-02-30".into()),
                ..penicillin()
            },
        ),
        (
            "onset in another format",
            "onset",
            AllergyDetails {
                onset: Some("01.06.2010".into()),
                ..penicillin()
            },
        ),
        (
            "no substance",
            "substance",
            AllergyDetails {
                substance: "  ".into(),
                ..penicillin()
            },
        ),
        (
            "substance too long",
            "substance",
            AllergyDetails {
                substance: "x".repeat(201),
                ..penicillin()
            },
        ),
        (
            "entered in error without a reason",
            "status",
            AllergyDetails {
                status: AllergyStatus::EnteredInError,
                ..penicillin()
            },
        ),
    ];
    for (case, field, details) in allergy_cases {
        let outcome = joy.record_allergy(&mrn, &details).map(|_| ());
        check(&store, case, field, outcome);
    }
    let medication_cases: Vec<(&str, &str, MedicationDetails)> = vec![
        (
            "started in the future",
            "started_on",
            MedicationDetails {
                started_on: Some("2026-12-01".into()),
                ..metformin()
            },
        ),
        (
            "stopped before it started",
            "stopped_on",
            MedicationDetails {
                stopped_on: Some("2024-02-01".into()),
                status: MedicationStatus::Stopped,
                ..metformin()
            },
        ),
        (
            "active but stopped yesterday",
            "stopped_on",
            MedicationDetails {
                stopped_on: Some("2026-11-01".into()),
                ..metformin()
            },
        ),
        (
            "stopping more than a year ahead",
            "stopped_on",
            MedicationDetails {
                stopped_on: Some("2028-01-01".into()),
                ..metformin()
            },
        ),
        (
            "no name",
            "name",
            MedicationDetails {
                name: String::new(),
                ..metformin()
            },
        ),
        (
            "dose too long",
            "dose",
            MedicationDetails {
                dose: Some("1".repeat(101)),
                ..metformin()
            },
        ),
    ];
    for (case, field, details) in medication_cases {
        let outcome = joy.record_medication(&mrn, &details).map(|_| ());
        check(&store, case, field, outcome);
    }
    let problem_cases: Vec<(&str, &str, ProblemDetails)> = vec![
        (
            "not an ICD-10 code",
            "icd10_code",
            ProblemDetails {
                icd10_code: Some("diabetes".into()),
                ..diabetes()
            },
        ),
        (
            "resolved before onset",
            "resolved_on",
            ProblemDetails {
                resolved_on: Some("2024-01-01".into()),
                status: ProblemStatus::Resolved,
                ..diabetes()
            },
        ),
        (
            "active with a resolution date",
            "resolved_on",
            ProblemDetails {
                resolved_on: Some("2025-01-01".into()),
                ..diabetes()
            },
        ),
        (
            "resolved in the future",
            "resolved_on",
            ProblemDetails {
                resolved_on: Some("2026-11-03".into()),
                status: ProblemStatus::Resolved,
                ..diabetes()
            },
        ),
    ];
    for (case, field, details) in problem_cases {
        let outcome = joy.record_problem(&mrn, &details).map(|_| ());
        check(&store, case, field, outcome);
    }
    // The closed sets, as text from outside.
    for (case, field, outcome) in [
        (
            "category",
            "category",
            AllergyCategory::from_code("pollen").map(|_| ()),
        ),
        (
            "severity",
            "severity",
            AllergySeverity::from_code("deadly").map(|_| ()),
        ),
        (
            "criticality",
            "criticality",
            AllergyCriticality::from_code("medium").map(|_| ()),
        ),
        (
            "allergy status",
            "status",
            AllergyStatus::from_code("resolved").map(|_| ()),
        ),
        (
            "medication status",
            "status",
            MedicationStatus::from_code("paused").map(|_| ()),
        ),
        (
            "problem status",
            "status",
            ProblemStatus::from_code("chronic").map(|_| ()),
        ),
    ] {
        check(&store, case, field, outcome);
    }

    // The store refuses the same when the core is bypassed.
    let patient: String = store
        .query_row("SELECT id FROM patients WHERE mrn = ?1", [&mrn], |row| {
            row.get(0)
        })
        .unwrap();
    let good = ["environment", "mild", "low", "active", "2010-02-01"];
    for (column, value) in [
        (0, "pollen"),
        (1, "deadly"),
        (2, "medium"),
        (3, "resolved"),
        (4, "2010-02-30"),
        (4, "1899-12-31"),
        (4, "1.2.2010"),
    ] {
        let mut values = good.map(str::to_owned);
        values[column] = value.to_owned();
        let outcome = store.execute(
            "INSERT INTO allergies (id, created_at, updated_at, patient_id, substance, category,
                                    severity, criticality, status, onset)
             VALUES ('00000000-0000-7000-8000-000000000009', '2026-11-02T08:00:00.000Z',
                     '2026-11-02T08:00:00.000Z', ?1, 'Latex', ?2, ?3, ?4, ?5, ?6)",
            (
                &patient, &values[0], &values[1], &values[2], &values[3], &values[4],
            ),
        );
        assert!(
            outcome.is_err(),
            "the store takes an allergy with {value:?}"
        );
    }
    // The same row with good values is taken: the refusals above were the values'.
    let good = good.map(str::to_owned);
    store
        .execute(
            "INSERT INTO allergies (id, created_at, updated_at, patient_id, substance, category,
                                    severity, criticality, status, onset)
             VALUES ('00000000-0000-7000-8000-000000000009', '2026-11-02T08:00:00.000Z',
                     '2026-11-02T08:00:00.000Z', ?1, 'Latex', ?2, ?3, ?4, ?5, ?6)",
            (&patient, &good[0], &good[1], &good[2], &good[3], &good[4]),
        )
        .unwrap();
}

#[test]
fn a_medication_entered_by_someone_else_since_the_last_review_is_highlighted() {
    let clinic = Clinic::with_staff();
    let mrn = clinic.register("Ngozi", "Okafor", "1984-03-27", None);
    let mut joy = clinic.staff("nurse.joy");
    let mut cole = clinic.staff("dr.cole");
    let from_nurse = joy.record_medication(&mrn, &metformin()).unwrap();
    cole.record_medication(
        &mrn,
        &MedicationDetails {
            name: "Lisinopril".into(),
            ..metformin()
        },
    )
    .unwrap();

    let list = cole.medications(&mrn).unwrap();
    assert_eq!(list.last_review, None);
    let highlighted: Vec<(&str, bool)> = list
        .medications
        .iter()
        .map(|m| (m.name.as_str(), m.changed_since_review))
        .collect();
    assert_eq!(
        highlighted,
        vec![("Lisinopril", false), ("Metformin", true)]
    );

    clinic.clock.advance(chrono::Duration::minutes(1));
    cole.review_medications(&mrn).unwrap();
    let list = cole.medications(&mrn).unwrap();
    let review = list.last_review.expect("reviewed");
    assert_eq!(review.reviewed_by, "Staff dr.cole");
    assert!(review.reviewed_at.starts_with("2026-11-02T08:01"));
    assert!(list.medications.iter().all(|m| !m.changed_since_review));

    // The nurse changes the dose afterwards: highlighted again for the clinician.
    clinic.clock.advance(chrono::Duration::minutes(1));
    joy.update_medication(
        &from_nurse,
        &MedicationDetails {
            dose: Some("1000 mg".into()),
            ..metformin()
        },
    )
    .unwrap();
    let list = cole.medications(&mrn).unwrap();
    let metformin_now = list
        .medications
        .iter()
        .find(|m| m.name == "Metformin")
        .unwrap();
    assert_eq!(metformin_now.dose.as_deref(), Some("1000 mg"));
    assert!(metformin_now.changed_since_review);

    // Only clinicians review.
    assert_eq!(
        joy.review_medications(&mrn).unwrap_err().code,
        ErrorCode::PermissionDenied
    );
}

#[test]
fn stopping_and_resolving_default_to_today_and_every_change_is_audited_with_before_and_after() {
    let clinic = Clinic::with_staff();
    let mrn = clinic.register("Ngozi", "Okafor", "1984-03-27", None);
    let mut cole = clinic.staff("dr.cole");
    let store = clinic.raw_store();
    let start = audit_head(&store);

    let medication = cole.record_medication(&mrn, &metformin()).unwrap();
    cole.update_medication(
        &medication,
        &MedicationDetails {
            status: MedicationStatus::Stopped,
            ..metformin()
        },
    )
    .unwrap();
    let problem = cole.record_problem(&mrn, &diabetes()).unwrap();
    cole.update_problem(
        &problem,
        &ProblemDetails {
            status: ProblemStatus::Resolved,
            ..diabetes()
        },
    )
    .unwrap();
    let stopped = cole.medications(&mrn).unwrap().medications.remove(0);
    assert_eq!(
        (stopped.status, stopped.stopped_on.as_deref()),
        (MedicationStatus::Stopped, Some("2026-11-02"))
    );
    let resolved = cole.problems(&mrn).unwrap().remove(0);
    assert_eq!(
        (resolved.status, resolved.resolved_on.as_deref()),
        (ProblemStatus::Resolved, Some("2026-11-02"))
    );
    cole.allergies(&mrn).unwrap();
    cole.allergy_state(&mrn).unwrap();

    let actions = audited_since(&store, start);
    let expected = [
        "medication.record",
        "medication.update",
        "problem.record",
        "problem.update",
        "medications.read",
        "problems.read",
        "allergies.read",
        "allergies.state_read",
    ];
    assert_eq!(
        actions,
        expected
            .iter()
            .map(|action| (action.to_string(), true))
            .collect::<Vec<_>>()
    );
    let details: String = store
        .query_row(
            "SELECT details FROM audit_log WHERE action = 'medication.update'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    let details: serde_json::Value = serde_json::from_str(&details).unwrap();
    assert_eq!(details["before"]["status"], "active");
    assert_eq!(details["after"]["status"], "stopped");
    assert_eq!(details["after"]["stopped_on"], "2026-11-02");
}
