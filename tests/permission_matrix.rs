//! Every core operation × every role, against the matrix in docs/reference.md. An allowed operation
//! succeeds; a denied one fails with `permission_denied`, leaves exactly one `permission.denied`
//! audit entry, and changes nothing else (store rows and key slots compared before and after).

use std::collections::HashMap;

use chrono::NaiveDate;
use clinicdesk_core::{
    AllergyCategory, AllergyDetails, AllergyId, AllergyStatus, AppointmentId, AppointmentStatus,
    AuditFilter, BookingRequest, DemographicsChange, ErrorCode, GrantId, MedicationDetails,
    MedicationId, MedicationStatus, NewPatient, NoteKind, ObservationId, ProblemDetails, ProblemId,
    ProblemStatus, ProviderId, Registration, Result, Role, SecuritySettings, Session, Sex,
    UpdateOffer, UpdateRefusal, UpdateSettings, VitalKind, VitalReading,
};
use clinicdesk_keyslot::KeySlotFile;
use clinicdesk_store::rusqlite::{types::ValueRef, Connection};
use clinicdesk_tests::Clinic;

const ROLES: [(&str, &str); 5] = [
    ("administrator", "admin"),
    ("manager", "mona"),
    ("clinician", "dr.cole"),
    ("nurse", "nurse.joy"),
    ("front_desk", "frank"),
];
const PASSWORD: &str = "saffron harbour tundra echo";

/// The records the operations act on.
struct Fixture {
    open_mrn: String,
    restricted_mrn: String,
    grant_id: GrantId,
    duplicate_mrn: String,
    provider_id: ProviderId,
    /// Per role: a booked appointment (check-in), an arrived one (start visit), a patient with no
    /// clinical data (delete), an observation (mark in error).
    booked: HashMap<&'static str, AppointmentId>,
    arrived: HashMap<&'static str, AppointmentId>,
    deletable: HashMap<&'static str, String>,
    observation: HashMap<&'static str, ObservationId>,
    /// Per role: an allergy, a medication and a problem to change, and one of each to mark in
    /// error (keys like "allergy to change").
    safety_facts: HashMap<(&'static str, &'static str), String>,
    /// A backup of the fixture, made by the manager.
    backup_file: String,
}

fn day(d: u32, hour: u32, minute: u32) -> chrono::NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 11, d)
        .unwrap()
        .and_hms_opt(hour, minute, 0)
        .unwrap()
}

fn vitals() -> Vec<VitalReading> {
    vec![VitalReading {
        kind: VitalKind::HeartRate,
        value: 72.0,
        unit: None,
    }]
}

type Run = fn(&mut Session, &Fixture, &str) -> Result<()>;

struct Operation {
    name: &'static str,
    allowed: &'static [&'static str],
    run: Run,
}

const EVERYONE: &[&str] = &[
    "administrator",
    "manager",
    "clinician",
    "nurse",
    "front_desk",
];

fn operations() -> Vec<Operation> {
    vec![
        Operation {
            name: "status",
            allowed: EVERYONE,
            run: |s, _, _| s.status().map(drop),
        },
        Operation {
            name: "drafts",
            allowed: EVERYONE,
            run: |s, _, _| {
                s.save_draft("form", &serde_json::json!({"a": 1}))
                    .and(s.drafts().map(drop))
            },
        },
        Operation {
            name: "list users",
            allowed: &["administrator", "manager"],
            run: |s, _, _| s.list_users().map(drop),
        },
        Operation {
            name: "add user",
            allowed: &["administrator"],
            run: |s, _, role| {
                s.add_user(&format!("new.{role}"), "New Person", Role::Nurse)
                    .map(drop)
            },
        },
        Operation {
            name: "disable user",
            allowed: &["administrator"],
            run: |s, _, _| s.disable_user("target.disable"),
        },
        Operation {
            name: "enable user",
            allowed: &["administrator"],
            run: |s, _, _| s.enable_user("target.enable").map(drop),
        },
        Operation {
            name: "set role",
            allowed: &["administrator"],
            run: |s, _, _| s.set_user_role("target.role", Role::Clinician),
        },
        Operation {
            name: "reset password",
            allowed: &["administrator"],
            run: |s, _, _| s.reset_password("target.reset").map(drop),
        },
        Operation {
            name: "read security settings",
            allowed: &["administrator"],
            run: |s, _, _| s.security_settings().map(drop),
        },
        Operation {
            name: "change security settings",
            allowed: &["administrator"],
            run: |s, _, _| {
                s.set_security_settings(SecuritySettings {
                    idle_logoff_seconds: 900,
                    idle_warning_seconds: 60,
                    max_failed_logins: 5,
                    lock_minutes: 15,
                    emergency_access_minutes: 60,
                })
            },
        },
        Operation {
            name: "read update settings",
            allowed: &["administrator"],
            run: |s, _, _| s.update_settings().map(drop),
        },
        Operation {
            name: "change the update address",
            allowed: &["administrator"],
            run: |s, _, _| {
                s.set_update_settings(UpdateSettings {
                    endpoint: Some("https://updates.riverside.example/latest.json".into()),
                })
                .map(drop)
            },
        },
        Operation {
            name: "plan an update",
            allowed: &["administrator"],
            run: |s, _, _| {
                s.plan_update(&UpdateOffer {
                    version: "0.2.0".into(),
                    installed_version: "0.1.0".into(),
                    notes: None,
                    published_at: None,
                    schema_version: None,
                })
                .map(drop)
            },
        },
        Operation {
            name: "record a refused update",
            allowed: &["administrator"],
            run: |s, _, _| {
                s.record_update_refusal("0.1.0", Some("0.2.0"), UpdateRefusal::BadSignature, "test")
            },
        },
        Operation {
            name: "rotate key",
            allowed: &["administrator"],
            run: |s, _, _| s.rotate_data_key(),
        },
        Operation {
            name: "audit list",
            allowed: &["administrator", "manager"],
            run: |s, _, _| s.audit_list(&AuditFilter::default()).map(drop),
        },
        Operation {
            name: "audit verify",
            allowed: &["administrator", "manager"],
            run: |s, _, _| s.audit_verify().map(drop),
        },
        Operation {
            name: "audit export",
            allowed: &["administrator", "manager"],
            run: |s, _, _| {
                s.audit_export_csv(&AuditFilter::default(), Vec::new())
                    .map(drop)
            },
        },
        Operation {
            name: "import records",
            allowed: &["administrator"],
            run: |s, _, _| s.import_records(Vec::new(), Vec::new()).map(drop),
        },
        Operation {
            name: "access report",
            allowed: &["manager"],
            run: |s, f, _| s.access_report(&f.open_mrn).map(drop),
        },
        Operation {
            name: "register patient",
            allowed: &["clinician", "front_desk"],
            run: |s, _, role| {
                let new = NewPatient {
                    given_name: format!("Given{}", role.len()),
                    family_name: format!("Family-{role}"),
                    date_of_birth: "1990-01-01".into(),
                    sex: Sex::Unknown,
                    phone: None,
                    restricted: false,
                };
                match s.register_patient(&new, true)? {
                    Registration::Registered { .. } => Ok(()),
                    other => panic!("confirmed registration did not register: {other:?}"),
                }
            },
        },
        Operation {
            name: "open chart",
            allowed: &["manager", "clinician", "nurse", "front_desk"],
            run: |s, f, _| s.open_chart(&f.open_mrn).map(drop),
        },
        Operation {
            name: "restrict chart",
            allowed: &["clinician", "front_desk"],
            run: |s, f, _| s.set_patient_restricted(&f.open_mrn, false),
        },
        Operation {
            name: "add to care team",
            allowed: &["clinician", "front_desk"],
            run: |s, f, _| s.add_care_team_member(&f.restricted_mrn, "nurse.joy", "nurse"),
        },
        Operation {
            name: "emergency access",
            allowed: &["clinician", "nurse"],
            run: |s, f, _| {
                s.request_emergency_access(
                    &f.restricted_mrn,
                    "unconscious patient in the waiting room",
                )
                .map(drop)
            },
        },
        Operation {
            name: "emergency review list",
            allowed: &["manager"],
            run: |s, _, _| s.emergency_access_for_review(true).map(drop),
        },
        Operation {
            name: "emergency review",
            allowed: &["manager"],
            run: |s, f, _| {
                s.mark_emergency_access_reviewed(&f.grant_id, "checked with the ward")
                    .map(drop)
            },
        },
        Operation {
            name: "search patients",
            allowed: &["manager", "clinician", "nurse", "front_desk"],
            run: |s, _, _| s.search_patients("Okafor").map(drop),
        },
        Operation {
            name: "update demographics",
            allowed: &["clinician", "front_desk"],
            run: |s, f, _| {
                s.update_demographics(
                    &f.open_mrn,
                    &DemographicsChange {
                        phone: Some("+49 30 5550000".into()),
                        ..Default::default()
                    },
                    None,
                )
            },
        },
        Operation {
            name: "delete patient",
            allowed: &["clinician", "front_desk"],
            run: |s, f, role| s.delete_patient(&f.deletable[role], "registered twice by mistake"),
        },
        Operation {
            name: "merge patients",
            allowed: &["manager"],
            run: |s, f, _| s.merge_patients(&f.open_mrn, &f.duplicate_mrn).map(drop),
        },
        Operation {
            name: "undo merge",
            allowed: &["manager"],
            run: |s, f, _| s.undo_merge(&f.duplicate_mrn),
        },
        Operation {
            name: "record vitals",
            allowed: &["clinician", "nurse"],
            run: |s, f, _| s.record_vitals(&f.open_mrn, &vitals(), None).map(drop),
        },
        Operation {
            name: "vitals flowsheet",
            allowed: &["clinician", "nurse"],
            run: |s, f, _| s.vitals_flowsheet(&f.open_mrn, 10).map(drop),
        },
        Operation {
            name: "vitals trend",
            allowed: &["clinician", "nurse"],
            run: |s, f, _| {
                s.vitals_trend(&f.open_mrn, VitalKind::HeartRate, None)
                    .map(drop)
            },
        },
        Operation {
            name: "mark in error",
            allowed: &["clinician", "nurse"],
            run: |s, f, role| s.mark_observation_in_error(&f.observation[role], "wrong patient"),
        },
        Operation {
            name: "allergy badge",
            allowed: &["clinician", "nurse", "front_desk"],
            run: |s, f, _| s.allergy_state(&f.open_mrn).map(drop),
        },
        Operation {
            name: "read allergies",
            allowed: &["clinician", "nurse"],
            run: |s, f, _| s.allergies(&f.open_mrn).map(drop),
        },
        Operation {
            name: "record allergy",
            allowed: &["clinician", "nurse"],
            run: |s, f, _| s.record_allergy(&f.open_mrn, &allergy()).map(drop),
        },
        Operation {
            name: "change allergy",
            allowed: &["clinician", "nurse"],
            run: |s, f, role| {
                let id = AllergyId::parse(&f.safety_facts[&("allergy to change", role)])?;
                s.update_allergy(&id, &allergy())
            },
        },
        Operation {
            name: "allergy in error",
            allowed: &["clinician", "nurse"],
            run: |s, f, role| {
                let id = AllergyId::parse(&f.safety_facts[&("allergy in error", role)])?;
                s.mark_allergy_in_error(&id, "wrong patient")
            },
        },
        Operation {
            name: "no known allergies",
            allowed: &["clinician", "nurse"],
            run: |s, f, _| s.confirm_no_known_allergies(&f.duplicate_mrn),
        },
        Operation {
            name: "read medications",
            allowed: &["clinician", "nurse"],
            run: |s, f, _| s.medications(&f.open_mrn).map(drop),
        },
        Operation {
            name: "record medication",
            allowed: &["clinician", "nurse"],
            run: |s, f, _| s.record_medication(&f.open_mrn, &medication()).map(drop),
        },
        Operation {
            name: "change medication",
            allowed: &["clinician", "nurse"],
            run: |s, f, role| {
                let id = MedicationId::parse(&f.safety_facts[&("medication to change", role)])?;
                s.update_medication(&id, &medication())
            },
        },
        Operation {
            name: "medication in error",
            allowed: &["clinician", "nurse"],
            run: |s, f, role| {
                let id = MedicationId::parse(&f.safety_facts[&("medication in error", role)])?;
                s.mark_medication_in_error(&id, "wrong patient")
            },
        },
        Operation {
            name: "review medications",
            allowed: &["clinician"],
            run: |s, f, _| s.review_medications(&f.open_mrn),
        },
        Operation {
            name: "read problems",
            allowed: &["clinician", "nurse"],
            run: |s, f, _| s.problems(&f.open_mrn).map(drop),
        },
        Operation {
            name: "record problem",
            allowed: &["clinician", "nurse"],
            run: |s, f, _| s.record_problem(&f.open_mrn, &problem()).map(drop),
        },
        Operation {
            name: "change problem",
            allowed: &["clinician", "nurse"],
            run: |s, f, role| {
                let id = ProblemId::parse(&f.safety_facts[&("problem to change", role)])?;
                s.update_problem(&id, &problem())
            },
        },
        Operation {
            name: "problem in error",
            allowed: &["clinician", "nurse"],
            run: |s, f, role| {
                let id = ProblemId::parse(&f.safety_facts[&("problem in error", role)])?;
                s.mark_problem_in_error(&id, "wrong patient")
            },
        },
        Operation {
            name: "clinical note",
            allowed: &["clinician"],
            run: |s, f, _| {
                s.write_note(&f.open_mrn, NoteKind::Clinical, None, "Seen today.", None)
                    .map(drop)
            },
        },
        Operation {
            name: "nursing note",
            allowed: &["nurse"],
            run: |s, f, _| {
                s.write_note(&f.open_mrn, NoteKind::Nursing, None, "Obs stable.", None)
                    .map(drop)
            },
        },
        Operation {
            name: "read notes",
            allowed: &["clinician", "nurse"],
            run: |s, f, _| s.list_notes(&f.open_mrn, Some("seen"), 10).map(drop),
        },
        Operation {
            name: "add provider",
            allowed: &["administrator", "front_desk"],
            run: |s, _, role| s.add_provider(&format!("Dr. {role}"), None, None).map(drop),
        },
        Operation {
            name: "working hours",
            allowed: &["administrator", "front_desk"],
            run: |s, f, _| s.set_working_hours(&f.provider_id, &[6], &[(9 * 60, 12 * 60)]),
        },
        Operation {
            name: "day off",
            allowed: &["administrator", "front_desk"],
            run: |s, f, _| {
                s.add_day_off(
                    &f.provider_id,
                    NaiveDate::from_ymd_opt(2026, 12, 24).unwrap(),
                    NaiveDate::from_ymd_opt(2026, 12, 26).unwrap(),
                    None,
                )
            },
        },
        Operation {
            name: "appointment type",
            allowed: &["administrator", "front_desk"],
            run: |s, _, role| {
                s.add_appointment_type(&format!("Visit {role}"), 20)
                    .map(drop)
            },
        },
        Operation {
            name: "read working hours",
            allowed: EVERYONE,
            run: |s, f, _| s.working_hours(&f.provider_id).map(drop),
        },
        Operation {
            name: "list appointment types",
            allowed: EVERYONE,
            run: |s, _, _| s.list_appointment_types().map(drop),
        },
        Operation {
            name: "list providers",
            allowed: EVERYONE,
            run: |s, _, _| s.list_providers().map(drop),
        },
        Operation {
            name: "book",
            allowed: &["front_desk"],
            run: |s, f, _| {
                s.book_appointment(&BookingRequest {
                    mrn: f.open_mrn.clone(),
                    provider_id: f.provider_id.clone(),
                    starts_local: day(6, 15, 0),
                    minutes: Some(15),
                    appointment_type_id: None,
                    reason: None,
                    outside_hours_override: false,
                    repeat: None,
                    repeated_hour: Default::default(),
                })
                .map(drop)
            },
        },
        Operation {
            name: "reschedule",
            allowed: &["front_desk"],
            run: |s, f, _| {
                s.reschedule_appointment(
                    &f.booked["manager"],
                    day(6, 16, 0),
                    Default::default(),
                    None,
                    None,
                    false,
                )
                .map(drop)
            },
        },
        Operation {
            name: "check in",
            allowed: &["nurse", "front_desk"],
            run: |s, f, role| {
                s.set_appointment_status(&f.booked[role], AppointmentStatus::Arrived, None)
                    .map(drop)
            },
        },
        Operation {
            name: "start visit",
            allowed: &["clinician", "front_desk"],
            run: |s, f, role| {
                s.set_appointment_status(&f.arrived[role], AppointmentStatus::InProgress, None)
                    .map(drop)
            },
        },
        Operation {
            name: "day schedule",
            allowed: &["manager", "clinician", "nurse", "front_desk"],
            run: |s, f, _| {
                s.day_schedule(Some(&f.provider_id), day(3, 0, 0).date())
                    .map(drop)
            },
        },
        Operation {
            name: "week schedule",
            allowed: &["manager", "clinician", "nurse", "front_desk"],
            run: |s, _, _| s.week_schedule(None, day(2, 0, 0).date()).map(drop),
        },
        Operation {
            name: "next free slot",
            allowed: &["manager", "clinician", "nurse", "front_desk"],
            run: |s, f, _| s.next_free_slot(&f.provider_id, 30, day(3, 8, 0)).map(drop),
        },
        Operation {
            name: "arrived today",
            allowed: &["manager", "clinician", "nurse", "front_desk"],
            run: |s, _, _| s.arrived_today().map(drop),
        },
        Operation {
            name: "backup status",
            allowed: &["administrator", "manager"],
            run: |s, _, _| s.backup_status().map(drop),
        },
        Operation {
            name: "backup settings",
            allowed: &["administrator", "manager"],
            run: |s, _, _| s.backup_settings().map(drop),
        },
        Operation {
            name: "change backup settings",
            allowed: &["administrator", "manager"],
            run: |s, _, _| {
                s.set_backup_settings(clinicdesk_core::BackupSettings {
                    folder: String::new(),
                    daily_time: "23:30".into(),
                    retention: Default::default(),
                })
                .map(drop)
            },
        },
        Operation {
            name: "create backup",
            allowed: &["administrator", "manager"],
            run: |s, _, _| s.create_backup(None, &mut |_| {}).map(drop),
        },
        Operation {
            name: "list backups",
            allowed: &["administrator", "manager"],
            run: |s, _, _| s.list_backups().map(drop),
        },
        Operation {
            name: "verify backup",
            allowed: &["administrator", "manager"],
            run: |s, f, _| {
                s.verify_backup(std::path::Path::new(&f.backup_file), &mut |_| {})
                    .map(drop)
            },
        },
        Operation {
            name: "plan a point-in-time restore",
            allowed: &["administrator", "manager"],
            run: |s, _, _| {
                // No backup precedes the moment here: allowed roles get "not found", not a denial.
                match s.plan_point_in_time_restore(chrono::Utc::now() - chrono::Duration::days(400))
                {
                    Err(error) if error.code == ErrorCode::NotFound => Ok(()),
                    other => other.map(drop),
                }
            },
        },
        Operation {
            name: "restore backup",
            allowed: &["administrator", "manager"],
            run: |s, f, _| {
                s.restore_backup(std::path::Path::new(&f.backup_file), &mut |_| {})
                    .map(drop)
            },
        },
    ]
}

/// Every row of the tables an operation could touch (the audit trail is checked separately).
fn snapshot(clinic: &Clinic) -> String {
    let key = clinic.data_key();
    let connection = Connection::open(clinic.data_dir.store_file()).unwrap();
    connection
        .pragma_update(None, "key", key.sqlcipher_literal().as_str())
        .unwrap();
    let mut text = String::new();
    for table in [
        "users",
        "patients",
        "patient_phones",
        "care_team_members",
        "emergency_access_grants",
        "settings",
        "outbox",
        "drafts",
        "clinics",
    ] {
        let mut statement = connection
            .prepare(&format!("SELECT * FROM {table} ORDER BY 1, 2"))
            .unwrap();
        let columns = statement.column_count();
        let mut rows = statement.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            text.push_str(table);
            for index in 0..columns {
                let value = match row.get_ref(index).unwrap() {
                    ValueRef::Null => "null".to_owned(),
                    ValueRef::Integer(n) => n.to_string(),
                    ValueRef::Real(n) => n.to_string(),
                    ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                    ValueRef::Blob(b) => format!("{b:?}"),
                };
                text.push('|');
                text.push_str(&value);
            }
            text.push('\n');
        }
    }
    let slots = KeySlotFile::new(clinic.data_dir.key_slot_file())
        .read()
        .unwrap();
    for slot in &slots.slots {
        text.push_str(&format!(
            "slot {:?} {:?} {:?}\n",
            slot.owner, slot.sealed_secret_key, slot.sealed_data_key
        ));
    }
    text
}

fn audit_count(session: &mut Session) -> usize {
    // Counted through the manager, who reads the whole trail (the listing itself adds nothing).
    session
        .audit_list(&AuditFilter {
            limit: Some(100_000),
            ..Default::default()
        })
        .unwrap()
        .entries
        .len()
}

fn fixture(clinic: &Clinic) -> Fixture {
    for (role, username) in ROLES.iter().skip(1) {
        clinic.add_user(username, role, PASSWORD);
    }
    for target in [
        "target.disable",
        "target.enable",
        "target.role",
        "target.reset",
    ] {
        clinic.add_user(target, "nurse", PASSWORD);
    }
    clinic.admin().disable_user("target.enable").unwrap();
    let mut frank = clinic.login("frank", PASSWORD).unwrap();
    fn register(frank: &mut Session, given: &str, restricted: bool) -> String {
        let new = NewPatient {
            given_name: given.into(),
            family_name: "Okafor".into(),
            date_of_birth: "1984-03-27".into(),
            sex: Sex::Female,
            phone: None,
            restricted,
        };
        match frank.register_patient(&new, true).unwrap() {
            Registration::Registered { mrn, .. } => mrn,
            other => panic!("{other:?}"),
        }
    }
    let open_mrn = register(&mut frank, "Adaeze", false);
    let restricted_mrn = register(&mut frank, "Ngozi", true);
    let duplicate_mrn = register(&mut frank, "Adaezee", false);
    let mut deletable = HashMap::new();
    for (index, (role, _)) in ROLES.iter().enumerate() {
        deletable.insert(
            *role,
            register(
                &mut frank,
                &format!("Temporary{}", ["a", "b", "c", "d", "e"][index]),
                false,
            ),
        );
    }
    let provider_id = frank.add_provider("Dr. Matrix", None, None).unwrap().id;
    frank
        .set_working_hours(&provider_id, &[1, 2, 3, 4, 5], &[(8 * 60, 17 * 60)])
        .unwrap();
    let (mut booked, mut arrived) = (HashMap::new(), HashMap::new());
    for (index, (role, _)) in ROLES.iter().enumerate() {
        let mut book = |d: u32| {
            frank
                .book_appointment(&BookingRequest {
                    mrn: open_mrn.clone(),
                    provider_id: provider_id.clone(),
                    starts_local: day(d, 8 + index as u32, 0),
                    minutes: Some(20),
                    appointment_type_id: None,
                    reason: None,
                    outside_hours_override: false,
                    repeat: None,
                    repeated_hour: Default::default(),
                })
                .unwrap()
                .remove(0)
                .id
        };
        let to_check_in = book(3);
        let visit = book(4);
        booked.insert(*role, to_check_in);
        frank
            .set_appointment_status(&visit, AppointmentStatus::Arrived, None)
            .unwrap();
        arrived.insert(*role, visit);
    }
    drop(frank);
    let mut cole = clinic.login("dr.cole", PASSWORD).unwrap();
    let grant = cole
        .request_emergency_access(&restricted_mrn, "chest pain, care team unreachable")
        .unwrap();
    let mut observation = HashMap::new();
    let mut safety_facts = HashMap::new();
    for (role, _) in ROLES {
        let set = cole.record_vitals(&open_mrn, &vitals(), None).unwrap();
        observation.insert(role, set.observations[0].id.clone());
        for keys in [
            [
                "allergy to change",
                "medication to change",
                "problem to change",
            ],
            [
                "allergy in error",
                "medication in error",
                "problem in error",
            ],
        ] {
            let allergy = cole.record_allergy(&open_mrn, &allergy()).unwrap();
            let medication = cole.record_medication(&open_mrn, &medication()).unwrap();
            let problem = cole.record_problem(&open_mrn, &problem()).unwrap();
            safety_facts.insert((keys[0], role), allergy.to_string());
            safety_facts.insert((keys[1], role), medication.to_string());
            safety_facts.insert((keys[2], role), problem.to_string());
        }
    }
    drop(cole);
    let backup_file = clinic
        .login("mona", PASSWORD)
        .unwrap()
        .create_backup(None, &mut |_| {})
        .unwrap()
        .path;
    Fixture {
        backup_file,
        open_mrn,
        restricted_mrn,
        grant_id: grant.id,
        duplicate_mrn,
        provider_id,
        booked,
        arrived,
        deletable,
        observation,
        safety_facts,
    }
}

fn allergy() -> AllergyDetails {
    AllergyDetails {
        substance: "Penicillin".into(),
        substance_code: None,
        category: AllergyCategory::Medication,
        reaction: Some("Hives".into()),
        severity: None,
        criticality: None,
        onset: None,
        status: AllergyStatus::Active,
    }
}

fn medication() -> MedicationDetails {
    MedicationDetails {
        name: "Metformin".into(),
        code: None,
        dose: Some("500 mg".into()),
        route: None,
        frequency: None,
        started_on: None,
        stopped_on: None,
        reason: None,
        status: MedicationStatus::Active,
    }
}

fn problem() -> ProblemDetails {
    ProblemDetails {
        description: "Asthma".into(),
        icd10_code: Some("J45.9".into()),
        onset: None,
        resolved_on: None,
        status: ProblemStatus::Active,
    }
}

#[test]
fn every_operation_for_every_role_follows_the_matrix() {
    let clinic = Clinic::new();
    let fixture = fixture(&clinic);
    let mut checked = 0;
    for operation in operations() {
        for (role, username) in ROLES {
            let password = if username == "admin" {
                clinicdesk_tests::ADMIN_PASSWORD
            } else {
                PASSWORD
            };
            let allowed = operation.allowed.contains(&role);
            let mut manager = clinic.login("mona", PASSWORD).unwrap();
            let audit_before = audit_count(&mut manager);
            drop(manager);
            let mut session = clinic.login(username, password).unwrap();
            let before = snapshot(&clinic);
            let outcome = (operation.run)(&mut session, &fixture, role);
            let after = snapshot(&clinic);
            drop(session);
            match (allowed, outcome) {
                (true, Ok(())) => {}
                (true, Err(error)) => panic!(
                    "{} as {role}: should be allowed, got {error}",
                    operation.name
                ),
                (false, Ok(())) => {
                    panic!("{} as {role}: should be denied, but it ran", operation.name)
                }
                (false, Err(error)) => {
                    assert_eq!(
                        error.code,
                        ErrorCode::PermissionDenied,
                        "{} as {role}: {error}",
                        operation.name
                    );
                    assert_eq!(
                        before, after,
                        "{} as {role}: a denial changed something",
                        operation.name
                    );
                    let mut manager = clinic.login("mona", PASSWORD).unwrap();
                    let entries = manager
                        .audit_list(&AuditFilter {
                            limit: Some(100_000),
                            ..Default::default()
                        })
                        .unwrap()
                        .entries;
                    // The manager's own login and this session's login sit between; find the denial.
                    let denials: Vec<_> = entries[..entries.len() - audit_before]
                        .iter()
                        .filter(|entry| entry.action == "permission.denied")
                        .collect();
                    assert_eq!(
                        denials.len(),
                        1,
                        "{} as {role}: exactly one audited denial",
                        operation.name
                    );
                    assert_eq!(denials[0].username.as_deref(), Some(username));
                    assert_eq!(denials[0].outcome, "denied");
                }
            }
            checked += 1;
        }
    }
    assert_eq!(checked, operations().len() * 5);
}
