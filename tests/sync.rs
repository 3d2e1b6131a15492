//! Sync against a real central PostgreSQL server started by the test: the schema against the
//! table registry, workstations converging, conflicts kept for a person, double booking,
//! idempotent pushes, clinics kept apart, pinned certificates, refused batches, restarts.

use clinicdesk_core::{
    ConflictResolution, DemographicsChange, ErrorCode, NewPatient, Registration, Session, Sex,
    VitalKind, VitalReading,
};
use clinicdesk_sync::postgres::Client;
use clinicdesk_tests::central::{CentralServer, Workstation};
use clinicdesk_tests::Clinic;

/// A clinic with staff and a provider, enrolled with a fresh server as its first workstation,
/// and a second workstation holding a copy of its store (enrolled too).
struct Group {
    server: CentralServer,
    clinic_id: String,
    desk: Workstation,
    nurses: Workstation,
    provider: clinicdesk_core::ProviderId,
    _origin: Clinic,
}

fn group() -> Group {
    let server = CentralServer::start();
    let registry = server.add_clinic("Riverside Family Clinic");
    let origin = Clinic::with_staff();
    let provider = origin
        .staff("frank")
        .add_provider("Dr. Cole", None, None)
        .unwrap()
        .id;
    let desk = Workstation::copy_of(&origin, "front-desk");
    let nurses = Workstation::copy_of(&origin, "nurses-room");
    let enrolled = desk.enrol(&server, &registry);
    nurses.enrol(&server, &enrolled.clinic_id);
    Group {
        server,
        clinic_id: enrolled.clinic_id,
        desk,
        nurses,
        provider,
        _origin: origin,
    }
}

fn register(session: &mut Session, given: &str, family: &str, birth: &str) -> String {
    let new = NewPatient {
        given_name: given.into(),
        family_name: family.into(),
        date_of_birth: birth.into(),
        sex: Sex::Female,
        phone: Some("+49 30 1234567".into()),
        restricted: false,
    };
    match session.register_patient(&new, true).expect("register") {
        Registration::Registered { mrn, .. } => mrn,
        other => panic!("not registered: {other:?}"),
    }
}

fn change(given: Option<&str>, family: Option<&str>, birth: Option<&str>) -> DemographicsChange {
    DemographicsChange {
        given_name: given.map(str::to_owned),
        family_name: family.map(str::to_owned),
        date_of_birth: birth.map(str::to_owned),
        sex: None,
        phone: None,
    }
}

fn booking(
    provider: &clinicdesk_core::ProviderId,
    mrn: &str,
    day: u32,
    hour: u32,
) -> clinicdesk_core::BookingRequest {
    clinicdesk_core::BookingRequest {
        mrn: mrn.into(),
        provider_id: provider.clone(),
        starts_local: chrono::NaiveDate::from_ymd_opt(2026, 11, day)
            .unwrap()
            .and_hms_opt(hour, 0, 0)
            .unwrap(),
        minutes: Some(20),
        appointment_type_id: None,
        reason: Some("check-up".into()),
        outside_hours_override: true,
        repeat: None,
        repeated_hour: Default::default(),
    }
}

fn rows(
    workstation: &Workstation,
) -> std::collections::BTreeMap<String, std::collections::BTreeMap<String, serde_json::Value>> {
    clinicdesk_core::synced_rows_of(&workstation.staff("frank")).unwrap()
}

fn server_row_count(client: &mut Client, table: &str, clinic: &str) -> i64 {
    client
        .query_one(
            &format!("SELECT count(*) FROM clinicdesk.{table} WHERE clinic_id = $1::text::uuid"),
            &[&clinic],
        )
        .unwrap()
        .get(0)
}

#[test]
fn the_central_schema_holds_every_synced_table_with_the_stores_columns_and_forced_row_security() {
    let server = CentralServer::start();
    let clinic = Clinic::new();
    let store = clinic.raw_store();
    let mut owner = server.owner();
    for spec in clinicdesk_core::synced_tables() {
        let mut local: Vec<String> = store
            .prepare(&format!(
                "SELECT name FROM pragma_table_info('{}')",
                spec.name
            ))
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        if !local.iter().any(|c| c == "clinic_id") {
            local.push("clinic_id".into());
        }
        local.sort();
        let mut central: Vec<String> = owner
            .query(
                "SELECT column_name::text FROM information_schema.columns WHERE table_schema = 'clinicdesk' AND table_name = $1",
                &[&spec.name],
            )
            .unwrap()
            .into_iter()
            .map(|row| row.get(0))
            .collect();
        central.sort();
        assert_eq!(local, central, "columns of {}", spec.name);
        let (enabled, forced): (bool, bool) = owner
            .query_one(
                "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = format('clinicdesk.%I', $1::text)::regclass",
                &[&spec.name],
            )
            .map(|row| (row.get(0), row.get(1)))
            .unwrap();
        assert!(
            enabled && forced,
            "{} has forced row level security",
            spec.name
        );
        let leading: String = owner
            .query_one(
                "SELECT a.attname::text FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                 WHERE i.indrelid = format('clinicdesk.%I', $1::text)::regclass AND i.indisprimary",
                &[&spec.name],
            )
            .unwrap()
            .get(0);
        assert_eq!(
            leading, "clinic_id",
            "{}'s primary key leads with clinic_id",
            spec.name
        );
    }
    // The push function accepts exactly the registry's synced tables.
    let source: String = owner
        .query_one(
            "SELECT prosrc FROM pg_proc WHERE proname = 'push_changes'",
            &[],
        )
        .unwrap()
        .get(0);
    let start = source.find("synced text[] := ARRAY[").unwrap() + "synced text[] := ARRAY[".len();
    let list = &source[start..start + source[start..].find(']').unwrap()];
    let accepted: Vec<&str> = list.split('\'').skip(1).step_by(2).collect();
    let registry: Vec<&str> = clinicdesk_core::synced_tables()
        .map(|spec| spec.name)
        .collect();
    assert_eq!(
        accepted, registry,
        "push_changes takes the registry's tables, in its order"
    );
    // Every unique and exclusion constraint leads with clinic_id too.
    let stray: Vec<String> = owner
        .query(
            "SELECT conname::text FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
             WHERE c.connamespace = 'clinicdesk'::regnamespace AND c.contype IN ('p', 'u', 'x')
               AND a.attname <> 'clinic_id'
               AND c.conrelid NOT IN ('clinicdesk.clinic_registry'::regclass, 'clinicdesk.workstations'::regclass)",
            &[],
        )
        .unwrap()
        .into_iter()
        .map(|row| row.get(0))
        .collect();
    assert!(
        stray.is_empty(),
        "constraints not led by clinic_id: {stray:?}"
    );
    // A second `server init` is refused; `server migrate` has nothing to do.
    let again = clinicdesk_sync::central_schema::init(&mut owner).unwrap_err();
    assert_eq!(again.code, ErrorCode::StoreAlreadyInitialized);
    assert_eq!(
        clinicdesk_sync::central_schema::migrate(&mut owner).unwrap(),
        clinicdesk_sync::central_schema_version()
    );
}

#[test]
fn two_workstations_of_one_clinic_converge() {
    let group = group();
    // The front desk registers a patient and books her; the nurses' room records vitals and a
    // note for a patient of its own, and corrects a name; all offline at first.
    let mut frank = group.desk.staff("frank");
    let ada = register(&mut frank, "Ada", "Lovelace", "1985-12-10");
    frank
        .book_appointment(&booking(&group.provider, &ada, 16, 9))
        .unwrap();
    drop(frank);
    let mut joy = group.nurses.staff("nurse.joy");
    let mut nurse_frank = group.nurses.staff("frank");
    let grace = register(&mut nurse_frank, "Grace", "Hoper", "1976-12-09");
    nurse_frank
        .update_demographics(&grace, &change(None, Some("Hopper"), None), None)
        .unwrap();
    drop(nurse_frank);
    joy.record_vitals(
        &grace,
        &[VitalReading {
            kind: VitalKind::HeartRate,
            value: 64.0,
            unit: None,
        }],
        None,
    )
    .unwrap();
    drop(joy);
    let mut cole = group.nurses.staff("dr.cole");
    cole.write_note(
        &grace,
        clinicdesk_core::NoteKind::Clinical,
        Some("First visit"),
        "Well.",
        None,
    )
    .unwrap();
    drop(cole);
    // The administrator chooses how the clinic writes dates and numbers, at the desk.
    group.desk.admin().set_clinic_locale("en-GB").unwrap();

    group.desk.sync();
    group.nurses.sync();
    group.desk.sync();

    assert_eq!(rows(&group.desk), rows(&group.nurses));
    assert_eq!(
        group.nurses.staff("nurse.joy").clinic_locale().unwrap(),
        "en-GB",
        "the clinic's locale reaches every workstation"
    );
    // What people see: the nurse finds the patient registered at the desk; the desk sees the
    // corrected name and the vitals recorded in the nurses' room.
    let mut joy = group.nurses.staff("nurse.joy");
    let hits = joy.search_patients("Lovelace").unwrap();
    assert!(hits.iter().any(|hit| hit.mrn == ada), "{hits:?}");
    drop(joy);
    let mut desk_joy = group.desk.staff("nurse.joy");
    let chart = desk_joy.open_chart(&grace).unwrap();
    assert_eq!(chart.demographics.family_name, "Hopper");
    assert_eq!(chart.recent_vitals.len(), 1);
    assert_eq!(chart.recent_vitals[0].value, 64.0);
    assert_eq!(chart.recent_notes.len(), 1);
    drop(desk_joy);
    let mut owner = group.server.owner();
    assert_eq!(
        server_row_count(&mut owner, "patients", &group.clinic_id),
        2
    );
    assert_eq!(
        server_row_count(&mut owner, "appointments", &group.clinic_id),
        1
    );
    assert_eq!(server_row_count(&mut owner, "notes", &group.clinic_id), 1);
    let mut frank = group.desk.staff("frank");
    clinicdesk_sync::sync_now(&mut frank).unwrap();
    let status = frank.sync_status().unwrap();
    assert_eq!(status.pending_changes, 0);
    assert_eq!(status.pending_audit_entries, 0);
    assert_eq!(status.open_conflicts, 0);
    // The server holds each workstation's audit chain, whole.
    let chains = clinicdesk_sync::verify_audit_chains(&mut owner).unwrap();
    assert_eq!(chains.len(), 2);
    assert!(
        chains.iter().all(|chain| chain.problems.is_empty()),
        "{chains:?}"
    );
}

#[test]
fn a_stale_offline_edit_becomes_a_conflict_that_a_person_resolves_field_by_field() {
    let group = group();
    let mut frank = group.desk.staff("frank");
    let ada = register(&mut frank, "Ada", "Lovelace", "1985-12-10");
    drop(frank);
    group.desk.sync();
    group.nurses.sync();
    // Both change the same patient while apart.
    group
        .desk
        .staff("frank")
        .update_demographics(&ada, &change(Some("Augusta"), None, None), None)
        .unwrap();
    group
        .nurses
        .staff("frank")
        .update_demographics(&ada, &change(None, Some("King"), Some("1985-10-12")), None)
        .unwrap();
    group.desk.sync();
    let report = group.nurses.sync();
    assert_eq!(report.pushed.conflicts, 1, "{report:?}");
    // Nothing was overwritten: the nurses' room now shows the server's version, and its own
    // waits in a conflict that the front desk sees with both versions.
    let mut frank = group.nurses.staff("frank");
    let conflicts = frank.sync_conflicts().unwrap();
    assert_eq!(conflicts.len(), 1);
    let conflict = &conflicts[0];
    assert_eq!(conflict.table, "patients");
    assert_eq!(conflict.mine["family_name"], "King");
    assert_eq!(conflict.theirs["given_name"], "Augusta");
    assert_eq!(conflict.theirs["family_name"], "Lovelace");
    assert_eq!(
        frank.open_chart(&ada).unwrap().demographics.given_name,
        "Augusta"
    );
    // A clinician's role may not settle demographics; the front desk may.
    assert!(group
        .nurses
        .staff("nurse.joy")
        .sync_conflicts()
        .unwrap()
        .is_empty());
    frank
        .resolve_sync_conflict(
            &conflict.id,
            ConflictResolution::FieldByField(vec!["family_name".into(), "date_of_birth".into()]),
        )
        .unwrap();
    assert!(frank.sync_conflicts().unwrap().is_empty());
    drop(frank);
    group.nurses.sync();
    group.desk.sync();
    for workstation in [&group.desk, &group.nurses] {
        let chart = workstation.staff("frank").open_chart(&ada).unwrap();
        assert_eq!(chart.demographics.given_name, "Augusta");
        assert_eq!(chart.demographics.family_name, "King");
        assert_eq!(chart.demographics.date_of_birth, "1985-10-12");
    }
    assert_eq!(rows(&group.desk), rows(&group.nurses));
}

#[test]
fn the_same_slot_booked_offline_on_two_workstations_is_kept_once_and_the_other_is_a_conflict() {
    let group = group();
    let mut frank = group.desk.staff("frank");
    let ada = register(&mut frank, "Ada", "Lovelace", "1985-12-10");
    let bob = register(&mut frank, "Bob", "Marley", "1945-02-06");
    drop(frank);
    group.desk.sync();
    group.nurses.sync();
    group
        .desk
        .staff("frank")
        .book_appointment(&booking(&group.provider, &ada, 17, 10))
        .unwrap();
    group
        .nurses
        .staff("frank")
        .book_appointment(&booking(&group.provider, &bob, 17, 10))
        .unwrap();
    group.desk.sync();
    let report = group.nurses.sync();
    assert_eq!(report.pushed.conflicts, 1, "{report:?}");
    let mut owner = group.server.owner();
    assert_eq!(
        server_row_count(&mut owner, "appointments", &group.clinic_id),
        1
    );
    group.desk.sync();
    assert_eq!(rows(&group.desk), rows(&group.nurses));
    // The front desk in the nurses' room sees who keeps the slot and why theirs was refused.
    let mut frank = group.nurses.staff("frank");
    let conflicts = frank.sync_conflicts().unwrap();
    assert_eq!(conflicts.len(), 1);
    assert!(
        conflicts[0].reason.contains("booked at that time"),
        "{}",
        conflicts[0].reason
    );
    assert!(conflicts[0].theirs.is_null());
    let day = frank
        .day_schedule(
            Some(&group.provider),
            chrono::NaiveDate::from_ymd_opt(2026, 11, 17).unwrap(),
        )
        .unwrap();
    assert_eq!(day.len(), 1);
    assert_eq!(day[0].mrn, ada);
    frank
        .resolve_sync_conflict(&conflicts[0].id, ConflictResolution::KeepTheirs)
        .unwrap();
    assert!(frank.sync_conflicts().unwrap().is_empty());
}

#[test]
fn no_known_allergies_and_an_allergy_recorded_offline_on_two_workstations_both_arrive_and_the_chart_says_so(
) {
    let group = group();
    let mut frank = group.desk.staff("frank");
    let ada = register(&mut frank, "Ada", "Lovelace", "1985-12-10");
    drop(frank);
    group.desk.sync();
    group.nurses.sync();
    // Offline, each in their room: one asks and hears "none", the other records penicillin.
    group
        .desk
        .staff("nurse.joy")
        .confirm_no_known_allergies(&ada)
        .unwrap();
    let penicillin = clinicdesk_core::AllergyDetails {
        substance: "Penicillin".into(),
        substance_code: None,
        category: clinicdesk_core::AllergyCategory::Medication,
        reaction: Some("Hives".into()),
        severity: None,
        criticality: None,
        onset: None,
        status: clinicdesk_core::AllergyStatus::Active,
    };
    group
        .nurses
        .staff("dr.cole")
        .record_allergy(&ada, &penicillin)
        .unwrap();
    group.desk.sync();
    group.nurses.sync();
    group.desk.sync();
    assert_eq!(rows(&group.desk), rows(&group.nurses));
    // Neither pull was refused; both workstations show the allergy, flagged as contradicted.
    for workstation in [&group.desk, &group.nurses] {
        let state = workstation.staff("nurse.joy").allergy_state(&ada).unwrap();
        assert_eq!(
            state,
            clinicdesk_core::AllergyState::HasAllergies {
                count: 1,
                substances: vec!["Penicillin".into()],
                contradicted_by_confirmation: true
            }
        );
    }
    // A nurse settles it with the patient: recording the allergy again withdraws the confirmation.
    let mut joy = group.desk.staff("nurse.joy");
    let id = joy.allergies(&ada).unwrap().allergies[0].id.clone();
    joy.update_allergy(&id, &penicillin).unwrap();
    drop(joy);
    group.desk.sync();
    group.nurses.sync();
    let state = group.nurses.staff("dr.cole").allergy_state(&ada).unwrap();
    assert_eq!(
        state,
        clinicdesk_core::AllergyState::HasAllergies {
            count: 1,
            substances: vec!["Penicillin".into()],
            contradicted_by_confirmation: false
        }
    );
}

#[test]
fn a_push_whose_acknowledgement_was_lost_is_applied_once() {
    let group = group();
    let mut frank = group.desk.staff("frank");
    for (index, name) in ["Ada", "Bea", "Cy", "Dee"].iter().enumerate() {
        register(&mut frank, name, "Lost-Ack", &format!("198{index}-01-01"));
        // Kill points: the server committed a batch of this size, the workstation never
        // recorded it (the answer is dropped, as when the app is killed at that moment).
        let mut client = clinicdesk_sync::connect(&mut frank).unwrap();
        let batch = frank.sync_outgoing(index + 1).unwrap();
        clinicdesk_sync::push_batch(&mut client, &batch).unwrap();
    }
    let report = clinicdesk_sync::sync_now(&mut frank).unwrap();
    assert!(report.pushed.already_applied >= 4, "{report:?}");
    drop(frank);
    let mut owner = group.server.owner();
    let duplicates: i64 = owner
        .query_one(
            "SELECT count(*) FROM (SELECT change_id FROM clinicdesk.changes GROUP BY change_id HAVING count(*) > 1) d",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(duplicates, 0);
    assert_eq!(
        server_row_count(&mut owner, "patients", &group.clinic_id),
        4
    );
    let gaps: i64 = owner
        .query_one(
            "SELECT max(seq) - count(*) FROM clinicdesk.changes WHERE clinic_id = $1::text::uuid",
            &[&group.clinic_id],
        )
        .unwrap()
        .get(0);
    assert_eq!(gaps, 0, "the sequence has no gaps");
    group.nurses.sync();
    assert_eq!(rows(&group.desk), rows(&group.nurses));
}

#[test]
fn a_server_restarted_between_batches_loses_nothing_and_applies_nothing_twice() {
    let group = group();
    let mut frank = group.desk.staff("frank");
    for index in 0..6 {
        register(
            &mut frank,
            "Restart",
            &format!("Patient{index}"),
            "1990-05-05",
        );
    }
    let mut client = clinicdesk_sync::connect(&mut frank).unwrap();
    let first = frank.sync_outgoing(3).unwrap();
    let results = clinicdesk_sync::push_batch(&mut client, &first).unwrap();
    frank.sync_record_push(&first, &results).unwrap();
    group.server.restart();
    let cut = clinicdesk_sync::sync_over(
        &std::cell::RefCell::new(&mut frank),
        &mut client,
        &mut |_| {},
    )
    .unwrap_err();
    assert_eq!(cut.code, ErrorCode::ServerUnreachable, "{cut}");
    assert!(frank.sync_status().unwrap().pending_changes > 0);
    let report = clinicdesk_sync::sync_now(&mut frank).unwrap();
    assert_eq!(
        frank.sync_status().unwrap().pending_changes,
        0,
        "{report:?}"
    );
    drop(frank);
    let mut owner = group.server.owner();
    assert_eq!(
        server_row_count(&mut owner, "patients", &group.clinic_id),
        6
    );
    // And in the middle of a pull: the nurses' room applies one small batch, the server restarts.
    let mut nurse_frank = group.nurses.staff("frank");
    let mut client = clinicdesk_sync::connect(&mut nurse_frank).unwrap();
    let first = clinicdesk_sync::pull_batch(&mut client, 0, 4).unwrap();
    nurse_frank.sync_apply_pulled(&first).unwrap();
    group.server.restart();
    let cut = clinicdesk_sync::pull_batch(&mut client, 4, 4).unwrap_err();
    assert_eq!(cut.code, ErrorCode::ServerUnreachable, "{cut}");
    assert_eq!(nurse_frank.sync_cursor().unwrap(), 4);
    clinicdesk_sync::sync_now(&mut nurse_frank).unwrap();
    drop(nurse_frank);
    group.desk.sync();
    assert_eq!(rows(&group.desk), rows(&group.nurses));
}

/// This workstation's own connection to the server, as a person with its credentials could
/// open it by hand.
fn own_connection(workstation: &Workstation) -> Client {
    clinicdesk_sync::connect(&mut workstation.staff("frank")).unwrap()
}

#[test]
fn a_workstation_of_one_clinic_reads_and_changes_nothing_of_another_even_by_hand() {
    let group = group();
    let mut frank = group.desk.staff("frank");
    let ada = register(&mut frank, "Ada", "Lovelace", "1985-12-10");
    drop(frank);
    group.desk.sync();
    // A second clinic on the same server, with its own workstation.
    let other_registry = group.server.add_clinic("Hillside Practice");
    let other = Clinic::with_staff();
    register(&mut other.staff("frank"), "Hilde", "Hill", "1970-07-07");
    let hill = Workstation::copy_of(&other, "hillside-desk");
    hill.enrol(&group.server, &other_registry);
    hill.sync();

    let mut hand = own_connection(&hill);
    let visible: i64 = hand
        .query_one("SELECT count(*) FROM clinicdesk.patients", &[])
        .unwrap()
        .get(0);
    assert_eq!(visible, 1, "Hillside sees only its own patient");
    let seen: i64 = hand
        .query_one(
            "SELECT count(*) FROM clinicdesk.changes WHERE clinic_id = $1::text::uuid",
            &[&group.clinic_id],
        )
        .unwrap()
        .get(0);
    assert_eq!(seen, 0, "nor any of Riverside's changes");
    let changed = hand
        .execute(
            "UPDATE clinicdesk.patients SET given_name = 'Mallory' WHERE clinic_id = $1::text::uuid",
            &[&group.clinic_id],
        )
        .unwrap();
    assert_eq!(changed, 0);
    let planted = hand.execute(
        "INSERT INTO clinicdesk.clinic_sequences (clinic_id, last_seq) VALUES ($1::text::uuid, 99)",
        &[&group.clinic_id],
    );
    assert!(planted.is_err(), "a row for another clinic is refused");
    assert!(hand
        .execute("DELETE FROM clinicdesk.patients", &[])
        .is_err());
    assert!(hand
        .execute("DELETE FROM clinicdesk.audit_entries", &[])
        .is_err());
    assert!(hand
        .execute("UPDATE clinicdesk.audit_entries SET action = 'x.y'", &[])
        .is_err());
    // A pushed row naming the other clinic is refused whole.
    let mut forged = hill.staff("frank");
    let batch = clinicdesk_core::OutgoingBatch {
        changes: vec![clinicdesk_core::OutgoingChange {
            change_id: uuid_v7(),
            table: "patients".into(),
            row_id: uuid_v7(),
            operation: "insert".into(),
            base_version: None,
            new_version: 1,
            payload: serde_json::json!({ "clinic_id": group.clinic_id, "version": 1 }),
        }],
        audit: vec![],
    };
    let mut client = clinicdesk_sync::connect(&mut forged).unwrap();
    let mut forged_batch = batch.clone();
    forged_batch.changes[0].payload["id"] = forged_batch.changes[0].row_id.clone().into();
    let refused = clinicdesk_sync::push_batch(&mut client, &forged_batch).unwrap_err();
    assert_eq!(refused.code, ErrorCode::ServerRefused, "{refused}");
    assert!(
        refused.message.contains("another clinic"),
        "{}",
        refused.message
    );
    drop(forged);
    // Riverside's record is untouched.
    let chart = group.nurses.staff("frank");
    drop(chart);
    group.nurses.sync();
    assert_eq!(
        group
            .nurses
            .staff("frank")
            .open_chart(&ada)
            .unwrap()
            .demographics
            .given_name,
        "Ada"
    );

    // A revoked workstation can do nothing: not sign in, and an open connection sees nothing.
    let role = hill
        .staff("frank")
        .sync_enrolment()
        .unwrap()
        .workstation_role;
    let mut still_open = own_connection(&hill);
    clinicdesk_sync::revoke_workstation(&mut group.server.owner(), &role).unwrap();
    let error = clinicdesk_sync::sync_now(&mut hill.staff("frank")).unwrap_err();
    assert_eq!(error.code, ErrorCode::WorkstationRevoked, "{error}");
    assert!(still_open
        .query_one("SELECT count(*) FROM clinicdesk.patients", &[])
        .map(|row| row.get::<_, i64>(0) == 0)
        .unwrap_or(true));
    let status = hill.staff("frank").sync_status().unwrap();
    assert!(
        status
            .last_error
            .as_deref()
            .unwrap_or("")
            .starts_with("workstation_revoked"),
        "{status:?}"
    );
}

fn uuid_v7() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[test]
fn a_server_whose_certificate_is_not_the_enrolled_one_is_refused() {
    let mut server = CentralServer::start();
    let registry = server.add_clinic("Riverside Family Clinic");
    let origin = Clinic::with_staff();
    let desk = Workstation::copy_of(&origin, "front-desk");
    // A code naming another certificate: enrolment stops before sending anything.
    let mut code = server.enrolment_code(&registry, "front desk");
    let genuine = code.certificate_sha256.clone();
    code.certificate_sha256 = "ab".repeat(32);
    let error =
        clinicdesk_sync::enroll(&mut desk.admin(), &server.workstation_url(), &code).unwrap_err();
    assert_eq!(error.code, ErrorCode::ServerCertificateMismatch, "{error}");
    code.certificate_sha256 = genuine;
    clinicdesk_sync::enroll(&mut desk.admin(), &server.workstation_url(), &code).unwrap();
    // The same code twice: refused.
    let again = Workstation::copy_of(&origin, "another");
    let reused =
        clinicdesk_sync::enroll(&mut again.admin(), &server.workstation_url(), &code).unwrap_err();
    assert_eq!(reused.code, ErrorCode::WorkstationRevoked, "{reused}");
    register(&mut desk.staff("frank"), "Ada", "Lovelace", "1985-12-10");
    // Someone else answers at the server's address with another certificate.
    server.replace_certificate();
    let error = clinicdesk_sync::sync_now(&mut desk.staff("frank")).unwrap_err();
    assert_eq!(error.code, ErrorCode::ServerCertificateMismatch, "{error}");
    assert_eq!(server.count("patients"), 0, "nothing reached the impostor");
    assert!(desk.staff("frank").sync_status().unwrap().pending_changes > 0);
}

#[test]
fn malformed_or_refused_batches_change_nothing_on_either_side() {
    let group = group();
    let mut frank = group.desk.staff("frank");
    register(&mut frank, "Ada", "Lovelace", "1985-12-10");
    let good = frank.sync_outgoing(100).unwrap();
    let mut client = clinicdesk_sync::connect(&mut frank).unwrap();
    let changes_before = group.server.count("changes");
    let pending_before = frank.sync_status().unwrap().pending_changes;
    let mut cases: Vec<(&str, clinicdesk_core::OutgoingBatch)> = Vec::new();
    let mut unknown_table = good.clone();
    unknown_table.changes.last_mut().unwrap().table = "secrets".into();
    cases.push(("unknown table", unknown_table));
    let mut unknown_column = good.clone();
    unknown_column.changes.last_mut().unwrap().payload["shoe_size"] = 44.into();
    cases.push(("unknown column", unknown_column));
    let mut malformed = good.clone();
    malformed.changes.last_mut().unwrap().new_version = 7;
    cases.push(("malformed", malformed));
    let mut refused_by_rule = good.clone();
    let last = refused_by_rule
        .changes
        .iter_mut()
        .find(|change| change.table == "patients")
        .unwrap();
    last.payload["sex"] = "robot".into();
    cases.push(("a server rule", refused_by_rule));
    for (what, batch) in cases {
        let error = clinicdesk_sync::push_batch(&mut client, &batch).unwrap_err();
        assert_eq!(error.code, ErrorCode::ServerRefused, "{what}: {error}");
        assert_eq!(
            group.server.count("changes"),
            changes_before,
            "{what}: nothing applied"
        );
        assert_eq!(group.server.count("patients"), 0, "{what}");
    }
    // A garbled pull is refused too, and the cursor does not move.
    let garbled = vec![clinicdesk_core::PulledChange {
        seq: 1,
        change_id: uuid_v7(),
        table: "secrets".into(),
        row_id: uuid_v7(),
        version: 1,
        payload: serde_json::json!({}),
    }];
    let error = frank.sync_apply_pulled(&garbled).unwrap_err();
    assert_eq!(error.code, ErrorCode::ServerRefused);
    assert_eq!(frank.sync_cursor().unwrap(), 0);
    assert_eq!(frank.sync_status().unwrap().pending_changes, pending_before);
    // The genuine batch still goes through.
    clinicdesk_sync::sync_now(&mut frank).unwrap();
    assert_eq!(group.server.count("patients"), 1);
}

#[test]
fn a_pull_that_runs_while_other_workstations_push_never_skips_a_change() {
    let group = group();
    let pushers: Vec<Workstation> = (0..3)
        .map(|n| {
            let station = Workstation::copy_of(&group._origin, &format!("pusher-{n}"));
            station.enrol(&group.server, &group.clinic_id);
            station
        })
        .collect();
    let rounds = 15;
    std::thread::scope(|scope| {
        for (n, station) in pushers.iter().enumerate() {
            scope.spawn(move || {
                let mut frank = station.staff("frank");
                for round in 0..rounds {
                    register(
                        &mut frank,
                        &format!("P{n}"),
                        &format!("Round{round}"),
                        "1990-01-01",
                    );
                    clinicdesk_sync::sync_now(&mut frank).unwrap();
                }
            });
        }
        scope.spawn(|| {
            // Pulls as fast as it can while they push; each pull applies what it saw.
            let mut frank = group.nurses.staff("frank");
            let mut client = clinicdesk_sync::connect(&mut frank).unwrap();
            for _ in 0..40 {
                let cursor = frank.sync_cursor().unwrap();
                let changes = clinicdesk_sync::pull_batch(&mut client, cursor, 7).unwrap();
                for (offset, change) in changes.iter().enumerate() {
                    assert_eq!(change.seq, cursor + 1 + offset as i64, "no change skipped");
                }
                if !changes.is_empty() {
                    frank.sync_apply_pulled(&changes).unwrap();
                }
            }
        });
    });
    group.nurses.sync();
    for station in &pushers {
        station.sync();
    }
    group.nurses.sync();
    assert_eq!(rows(&group.nurses), rows(&pushers[0]));
    let mut owner = group.server.owner();
    assert_eq!(
        server_row_count(&mut owner, "patients", &group.clinic_id),
        3 * rounds as i64
    );
}

#[test]
fn the_server_keeps_each_workstations_audit_chain_and_reports_a_gap_or_a_change() {
    let group = group();
    register(
        &mut group.desk.staff("frank"),
        "Ada",
        "Lovelace",
        "1985-12-10",
    );
    group.desk.sync();
    group.nurses.sync();
    let mut owner = group.server.owner();
    let checks = clinicdesk_sync::verify_audit_chains(&mut owner).unwrap();
    assert!(
        checks
            .iter()
            .all(|check| check.problems.is_empty() && check.entries > 3),
        "{checks:?}"
    );
    // Only the owner, with the trigger switched off on purpose, can remove an entry: verify
    // then names the gap.
    owner
        .batch_execute(
            "ALTER TABLE clinicdesk.audit_entries DISABLE TRIGGER audit_entries_no_update;
             DELETE FROM clinicdesk.audit_entries WHERE seq = 3
                 AND workstation_role = (SELECT min(workstation_role) FROM clinicdesk.audit_entries);
             UPDATE clinicdesk.audit_entries SET action = 'chart.open' WHERE seq = 2
                 AND workstation_role = (SELECT max(workstation_role) FROM clinicdesk.audit_entries);
             ALTER TABLE clinicdesk.audit_entries ENABLE TRIGGER audit_entries_no_update;",
        )
        .unwrap();
    let checks = clinicdesk_sync::verify_audit_chains(&mut owner).unwrap();
    let problems: Vec<String> = checks
        .iter()
        .flat_map(|check| check.problems.clone())
        .collect();
    assert!(problems.iter().any(|p| p.contains("gap")), "{problems:?}");
    assert!(
        problems.iter().any(|p| p.contains("changed")),
        "{problems:?}"
    );
    assert!(owner
        .batch_execute("TRUNCATE clinicdesk.audit_entries")
        .is_err());
}

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// Twenty workstations (SYNC_WORKSTATIONS), each going offline at random and making random
/// changes (SYNC_CHANGES each) to a shared set of patients and new ones of their own. At the end
/// every workstation holds exactly the server's rows, every stale edit is a visible conflict,
/// and every local change is on the server or in a conflict.
#[test]
fn twenty_workstations_offline_at_random_converge_and_lose_no_change() {
    use rand::{Rng, SeedableRng};
    let count = setting("SYNC_WORKSTATIONS", 20);
    let changes_each = setting("SYNC_CHANGES", 12);
    let seed = setting("SYNC_SEED", 7) as u64;
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let server = CentralServer::start();
    let registry = server.add_clinic("Riverside Family Clinic");
    let origin = Clinic::with_staff();
    let shared: Vec<String> = (0..5)
        .map(|n| {
            register(
                &mut origin.staff("frank"),
                "Shared",
                &format!("Patient{n}"),
                "1970-01-01",
            )
        })
        .collect();
    let stations: Vec<Workstation> = (0..count)
        .map(|n| Workstation::copy_of(&origin, &format!("station-{n}")))
        .collect();
    let clinic_id = stations[0].enrol(&server, &registry).clinic_id;
    for station in &stations[1..] {
        station.enrol(&server, &clinic_id);
    }
    let mut sessions: Vec<Session> = stations.iter().map(|s| s.staff("frank")).collect();
    let mut online = vec![true; count];
    // (station, the value it wrote): each must end on the server or in that station's conflicts.
    // An edit the same station overwrote before it next synced is its own later choice.
    let mut edits: Vec<(usize, String)> = Vec::new();
    let mut unsynced: std::collections::BTreeMap<(usize, String), String> = Default::default();
    let mut registrations: Vec<(usize, String)> = Vec::new();
    for step in 0..count * changes_each {
        let n = rng.gen_range(0..count);
        if rng.gen_bool(0.2) {
            online[n] = !online[n];
        }
        let session = &mut sessions[n];
        if rng.gen_bool(0.7) {
            let mrn = &shared[rng.gen_range(0..shared.len())];
            let value = format!("Edit{n}x{step}");
            session
                .update_demographics(mrn, &change(Some(&value), None, None), None)
                .unwrap();
            unsynced.insert((n, mrn.clone()), value);
        } else {
            let family = format!("New{n}x{step}");
            register(session, "Own", &family, "2001-02-03");
            registrations.push((n, family));
        }
        if online[n] && rng.gen_bool(0.5) {
            clinicdesk_sync::sync_now(session).unwrap();
            let synced: Vec<_> = unsynced
                .keys()
                .filter(|(station, _)| *station == n)
                .cloned()
                .collect();
            for key in synced {
                edits.push((n, unsynced.remove(&key).unwrap()));
            }
        }
    }
    edits.extend(unsynced.into_iter().map(|((n, _), value)| (n, value)));
    for _ in 0..2 {
        for session in sessions.iter_mut() {
            clinicdesk_sync::sync_now(session).unwrap();
        }
    }
    let expected = clinicdesk_core::synced_rows_of(&sessions[0]).unwrap();
    for (n, session) in sessions.iter_mut().enumerate() {
        assert_eq!(
            clinicdesk_core::synced_rows_of(session).unwrap(),
            expected,
            "station {n}"
        );
        assert_eq!(
            session.sync_status().unwrap().pending_changes,
            0,
            "station {n}"
        );
    }
    let mut owner = server.owner();
    assert_eq!(
        server_row_count(&mut owner, "patients", &clinic_id) as usize,
        expected["patients"].len()
    );
    let written: std::collections::BTreeSet<String> = owner
        .query(
            "SELECT payload ->> 'given_name' FROM clinicdesk.changes WHERE table_name = 'patients'",
            &[],
        )
        .unwrap()
        .into_iter()
        .filter_map(|row| row.get::<_, Option<String>>(0))
        .collect();
    let mut conflicts_seen = 0;
    let conflicts: Vec<Vec<clinicdesk_core::SyncConflict>> = sessions
        .iter_mut()
        .map(|session| session.sync_conflicts().unwrap())
        .collect();
    for (n, value) in &edits {
        let in_conflict = conflicts[*n]
            .iter()
            .any(|conflict| conflict.mine["given_name"] == value.as_str());
        if in_conflict {
            conflicts_seen += 1;
        }
        assert!(
            written.contains(value) || in_conflict,
            "station {n}'s edit {value} is neither on the server nor in a conflict"
        );
    }
    for (n, family) in &registrations {
        assert!(
            expected["patients"]
                .values()
                .any(|row| row["family_name"] == family.as_str()),
            "station {n}'s registration {family} reached everyone"
        );
    }
    assert!(
        conflicts_seen > 0,
        "overlapping offline edits made conflicts"
    );
    println!(
        "{count} workstations, {} edits ({conflicts_seen} kept as conflicts), {} registrations",
        edits.len(),
        registrations.len()
    );
}

/// A TCP proxy in front of the server that cuts every connection after `budget` bytes from
/// the server, to break a sync at chosen points of the exchange.
struct CuttingProxy {
    port: u16,
}

impl CuttingProxy {
    fn start(
        server_port: u16,
        budget: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    ) -> CuttingProxy {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let Ok(upstream) = std::net::TcpStream::connect(("127.0.0.1", server_port)) else {
                    continue;
                };
                let limit = budget.load(std::sync::atomic::Ordering::SeqCst);
                let (client_read, upstream_write) =
                    (client.try_clone().unwrap(), upstream.try_clone().unwrap());
                std::thread::spawn(move || pipe(client_read, upstream_write, usize::MAX));
                std::thread::spawn(move || pipe(upstream, client, limit));
            }
        });
        CuttingProxy { port }
    }
}

fn pipe(mut from: std::net::TcpStream, mut to: std::net::TcpStream, limit: usize) {
    use std::io::{Read, Write};
    let mut passed = 0usize;
    let mut buffer = [0u8; 4096];
    while let Ok(read) = from.read(&mut buffer) {
        if read == 0 {
            break;
        }
        let allowed = read.min(limit.saturating_sub(passed));
        if to.write_all(&buffer[..allowed]).is_err() || allowed < read {
            break;
        }
        passed += allowed;
    }
    let _ = from.shutdown(std::net::Shutdown::Both);
    let _ = to.shutdown(std::net::Shutdown::Both);
}

#[test]
fn connections_cut_at_many_points_lose_nothing_and_apply_nothing_twice() {
    let group = group();
    let budget = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(usize::MAX));
    let proxy = CuttingProxy::start(group.server.port, budget.clone());
    // The nurses' room reaches the server only through the proxy.
    let mut frank = group.nurses.staff("frank");
    let mut enrolment = frank.sync_enrolment().unwrap();
    enrolment.server_url = format!("postgres://localhost:{}/clinicdesk", proxy.port);
    let connect_through_proxy = |frank: &mut Session| {
        clinicdesk_sync::transport::connect_pinned(
            &enrolment.server_url,
            &enrolment.workstation_role,
            &enrolment.workstation_password,
            &enrolment.certificate_sha256,
        )
        .and_then(|mut client| {
            clinicdesk_sync::sync_over(&std::cell::RefCell::new(frank), &mut client, &mut |_| {})
        })
    };
    let mut cuts = 0;
    let mut cut_points = 0;
    let trials = setting("SYNC_CUT_TRIALS", 12);
    for round in 0..trials {
        register(&mut frank, "Cut", &format!("Round{round}"), "1980-08-08");
        register(
            &mut group.desk.staff("frank"),
            "Desk",
            &format!("Round{round}"),
            "1981-08-08",
        );
        group.desk.sync();
        // Cut after a growing number of bytes from the server: during TLS, the login, the push's
        // answer, the pull.
        let cut_after = 2_000 + (round % 12) * 1_500 + round / 12 * 97;
        budget.store(cut_after, std::sync::atomic::Ordering::SeqCst);
        cut_points += 1;
        if connect_through_proxy(&mut frank).is_err() {
            cuts += 1;
        }
    }
    assert!(cuts > 3, "the proxy cut {cuts} of {cut_points} syncs");
    budget.store(usize::MAX, std::sync::atomic::Ordering::SeqCst);
    connect_through_proxy(&mut frank).unwrap();
    drop(frank);
    group.desk.sync();
    assert_eq!(rows(&group.desk), rows(&group.nurses));
    let mut owner = group.server.owner();
    assert_eq!(
        server_row_count(&mut owner, "patients", &group.clinic_id),
        2 * trials as i64
    );
    let twice: i64 = owner
        .query_one(
            "SELECT count(*) FROM (SELECT change_id FROM clinicdesk.changes GROUP BY change_id HAVING count(*) > 1) d",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(twice, 0);
}

#[test]
fn a_generated_clinic_reaches_the_server_whole_and_a_new_workstation_pulls_all_of_it() {
    let server = CentralServer::start();
    let registry = server.add_clinic("Demo Clinic");
    let origin = Clinic::new();
    let empty_copy = Workstation::copy_of(&origin, "second-desk");
    origin
        .admin()
        .generate_demo_data(clinicdesk_core::DemoSize::Tiny, 3, None, None, |_| {})
        .unwrap();
    let desk = Workstation::copy_of(&origin, "front-desk");
    let clinic_id = desk.enrol(&server, &registry).clinic_id;
    clinicdesk_sync::sync_now(&mut desk.admin()).unwrap();
    let local = clinicdesk_core::synced_rows_of(&desk.admin()).unwrap();
    let mut owner = server.owner();
    for (table, rows) in &local {
        assert_eq!(
            server_row_count(&mut owner, table, &clinic_id) as usize,
            rows.len(),
            "{table} on the server"
        );
    }
    assert!(local["patients"].len() > 100);
    // A workstation whose store was copied before the generation pulls every row of it.
    empty_copy.enrol(&server, &clinic_id);
    let report = clinicdesk_sync::sync_now(&mut empty_copy.admin()).unwrap();
    assert!(report.pulled.applied > 1000, "{report:?}");
    assert_eq!(
        clinicdesk_core::synced_rows_of(&empty_copy.admin()).unwrap(),
        local
    );
}

/// Outbox inserts that hold a copy of their row (the payload is not `null`, \"read at push\").
fn copied_payloads(store: &clinicdesk_store::rusqlite::Connection) -> i64 {
    store
        .query_row(
            "SELECT count(*) FROM outbox WHERE operation = 'insert' AND payload <> 'null'",
            [],
            |row| row.get(0),
        )
        .unwrap()
}

#[test]
fn generated_rows_changed_before_the_first_push_reach_the_server_as_generated_then_as_changed() {
    let server = CentralServer::start();
    let registry = server.add_clinic("Demo Clinic");
    let origin = Clinic::with_staff();
    let second = Workstation::copy_of(&origin, "second-desk");
    let store = origin.raw_store();
    let copies_before = copied_payloads(&store);
    origin
        .admin()
        .generate_demo_data(clinicdesk_core::DemoSize::Tiny, 7, None, None, |_| {})
        .unwrap();
    let (mrn, given): (String, String) = store
        .query_row(
            "SELECT mrn, given_name FROM patients ORDER BY rowid LIMIT 1 OFFSET 17",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    // The generator keeps no copy of its rows in the outbox: they are read when pushed.
    assert_eq!(copied_payloads(&store), copies_before);
    // Before anything is pushed, the front desk corrects a generated patient's name and a
    // manager changes a generated provider's hours (which retires the generated ones).
    origin
        .staff("frank")
        .update_demographics(&mrn, &change(Some("Wilhelmina"), None, None), None)
        .unwrap();
    let provider = origin.staff("frank").list_providers().unwrap()[0]
        .id
        .clone();
    origin
        .staff("frank")
        .set_working_hours(&provider, &[1, 2], &[(9 * 60, 11 * 60)])
        .unwrap();
    // The generated patient's insert now holds the patient as generated: version 1, old name.
    let recorded: String = store
        .query_row(
            "SELECT o.payload FROM outbox o JOIN patients p ON p.id = o.row_id
             WHERE o.table_name = 'patients' AND o.operation = 'insert' AND p.mrn = ?1",
            [&mrn],
            |row| row.get(0),
        )
        .unwrap();
    let recorded: serde_json::Value = serde_json::from_str(&recorded).unwrap();
    assert_eq!(recorded["given_name"], given.as_str());
    assert_eq!(recorded["version"], 1);
    assert!(
        copied_payloads(&store) >= 3,
        "the patient and the retired hours"
    );
    drop(store);

    let desk = Workstation::copy_of(&origin, "front-desk");
    let clinic_id = desk.enrol(&server, &registry).clinic_id;
    let report = clinicdesk_sync::sync_now(&mut desk.admin()).unwrap();
    assert_eq!(report.pushed.conflicts, 0, "{report:?}");
    assert!(desk.staff("frank").sync_conflicts().unwrap().is_empty());
    let mut owner = server.owner();
    let (server_given, server_version): (String, i32) = {
        let row = owner
            .query_one(
                "SELECT given_name, version FROM clinicdesk.patients WHERE clinic_id = $1::text::uuid AND mrn = $2",
                &[&clinic_id, &mrn],
            )
            .unwrap();
        (row.get(0), row.get(1))
    };
    assert_eq!((server_given.as_str(), server_version), ("Wilhelmina", 2));
    // A workstation whose store was copied before the generation pulls the clinic as it is.
    second.enrol(&server, &clinic_id);
    let report = clinicdesk_sync::sync_now(&mut second.admin()).unwrap();
    assert!(report.pulled.applied > 1000, "{report:?}");
    assert_eq!(
        second
            .staff("frank")
            .open_chart(&mrn)
            .unwrap()
            .demographics
            .given_name,
        "Wilhelmina"
    );
    assert_eq!(
        second.staff("frank").working_hours(&provider).unwrap(),
        origin.staff("frank").working_hours(&provider).unwrap()
    );
}

#[test]
fn every_synced_table_copies_the_whole_row_into_an_outbox_change_that_holds_none_before_it_changes()
{
    let clinic = Clinic::new();
    let store = clinic.raw_store();
    for spec in clinicdesk_core::synced_tables() {
        let table = spec.name;
        let columns: Vec<String> = store
            .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for operation in ["update", "delete"] {
            let sql: String = store
                .query_row(
                    "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?1",
                    [format!("{table}_outbox_payload_before_{operation}")],
                    |row| row.get(0),
                )
                .unwrap_or_else(|_| {
                    panic!("{table} has no outbox payload trigger before {operation}")
                });
            for column in &columns {
                assert!(
                    sql.contains(&format!("'{column}', OLD.{column}")),
                    "the outbox payload trigger before {operation} on {table} leaves out {column}"
                );
            }
        }
    }
}

#[test]
fn a_server_whose_schema_is_not_this_builds_is_refused_and_nothing_is_sent() {
    let group = group();
    register(
        &mut group.desk.staff("frank"),
        "Ada",
        "Lovelace",
        "1985-12-10",
    );
    group
        .server
        .owner()
        .batch_execute(
            "INSERT INTO public.clinicdesk_schema_migrations (version, name, checksum) VALUES (99, 'from_the_future', 'x')",
        )
        .unwrap();
    let error = clinicdesk_sync::sync_now(&mut group.desk.staff("frank")).unwrap_err();
    assert_eq!(error.code, ErrorCode::ServerSchemaMismatch, "{error}");
    assert!(error.message.contains("newer"), "{}", error.message);
    assert_eq!(group.server.count("patients"), 0);
    let migrate = clinicdesk_sync::central_schema::migrate(&mut group.server.owner()).unwrap_err();
    assert_eq!(migrate.code, ErrorCode::ServerSchemaMismatch);
    assert!(
        group
            .desk
            .staff("frank")
            .sync_status()
            .unwrap()
            .pending_changes
            > 0
    );
}

#[test]
fn a_new_workstation_with_an_empty_data_folder_gets_the_clinics_store_from_the_server() {
    let group = group();
    let mut frank = group.desk.staff("frank");
    let ada = register(&mut frank, "Ada", "Lovelace", "1985-12-10");
    frank
        .book_appointment(&booking(&group.provider, &ada, 18, 11))
        .unwrap();
    drop(frank);
    group.desk.sync();
    let folder = tempfile::tempdir().unwrap();
    let data_dir = clinicdesk_core::DataDir::new(folder.path().join("data"));
    let environment =
        clinicdesk_core::Environment::with_clock(group._origin.clock.clone(), "doctors-office");
    let code = group
        .server
        .enrolment_code(&group.clinic_id, "doctor's office");
    let password = clinicdesk_tests::ADMIN_PASSWORD;
    let new = |username: &'static str| clinicdesk_sync::NewWorkstation {
        data_dir: &data_dir,
        admin_username: username,
        admin_password: clinicdesk_tests::secret(password),
        kdf: clinicdesk_tests::TEST_KDF,
        pull_now: true,
    };
    // Only an administrator of the clinic enrols; the refusal leaves no store and the code usable.
    let Err(refused) = clinicdesk_sync::enroll_new_workstation(
        &group.server.workstation_url(),
        &code,
        new("frank"),
        &environment,
    ) else {
        panic!("a front-desk account enrolled a workstation")
    };
    assert_eq!(refused.code, ErrorCode::PermissionDenied, "{refused}");
    assert!(!clinicdesk_core::store_exists(&data_dir));
    let (enrolled, outcome) = clinicdesk_sync::enroll_new_workstation(
        &group.server.workstation_url(),
        &code,
        new("admin"),
        &environment,
    )
    .unwrap();
    assert_eq!(enrolled.clinic_id, group.clinic_id);
    assert!(!outcome.recovery_key.is_empty());
    let office = Workstation {
        folder,
        data_dir,
        environment,
    };
    let mut admin = office.login("admin", password);
    assert_eq!(
        clinicdesk_core::synced_rows_of(&admin).unwrap(),
        rows(&group.desk),
        "every record of the clinic is here"
    );
    assert_eq!(admin.sync_status().unwrap().pending_changes, 0);
    // It syncs on from there: an account added here reaches the front desk.
    admin
        .add_user("dr.lee", "Dr. Lee", clinicdesk_core::Role::Clinician)
        .unwrap();
    clinicdesk_sync::sync_now(&mut admin).unwrap();
    drop(admin);
    group.desk.sync();
    assert!(rows(&group.desk)["users"]
        .values()
        .any(|row| row["username"] == "dr.lee"));
    // Everyone else signs in here once through the server, which checks their password.
    let frank_here = office.login("frank", clinicdesk_tests::STAFF_PASSWORD);
    assert_eq!(frank_here.user().role, clinicdesk_core::Role::FrontDesk);
}

/// What a person sees signing in: the error's code, or who they are signed in as.
fn sign_in_outcome(workstation: &Workstation, username: &str, password: &str) -> String {
    match workstation.try_login(username, password) {
        Ok(session) => format!("signed in as {}", session.user().role.code()),
        Err(error) => error.code.as_str().to_owned(),
    }
}

#[test]
fn staff_accounts_follow_people_to_every_workstation_of_the_clinic() {
    let group = group();
    group.desk.sync();
    let (office, office_recovery) = Workstation::joining(
        &group.server,
        &group.clinic_id,
        &group._origin.clock,
        "doctors-office",
    );
    // A nurse's account is made on the front desk, and she chooses her password there.
    let temporary = group
        .desk
        .admin()
        .add_user("nina", "Nina Nurse", clinicdesk_core::Role::Nurse)
        .unwrap();
    let own = "heron quarry velvet drum";
    let mut nina = group.desk.login("nina", &temporary.0);
    nina.change_password(
        &clinicdesk_tests::secret(&temporary.0),
        &clinicdesk_tests::secret(own),
    )
    .unwrap();
    drop(nina);
    group.desk.sync();
    clinicdesk_sync::sync_now(&mut office.admin()).unwrap();

    // Her first sign-in on the office needs the server once: not while it cannot be reached.
    group.server.shut_down();
    let Err(offline) = office.try_login("nina", own) else {
        panic!("a first sign-in went through with the server down")
    };
    assert_eq!(offline.code, ErrorCode::ServerUnreachable, "{offline}");
    assert!(
        offline
            .message
            .contains("first sign-in on this workstation"),
        "{}",
        offline.message
    );
    group.server.start_again();
    assert_eq!(
        sign_in_outcome(&office, "nina", "not her password at all"),
        "authentication_failed"
    );
    assert_eq!(
        sign_in_outcome(&office, "nobody", own),
        "authentication_failed"
    );
    assert_eq!(sign_in_outcome(&office, "nina", own), "signed in as nurse");
    // From then on the office has her slot: she signs in there with the server down.
    group.server.shut_down();
    assert_eq!(sign_in_outcome(&office, "nina", own), "signed in as nurse");
    group.server.start_again();
    let trail = office
        .admin()
        .audit_list(&clinicdesk_core::AuditFilter::default())
        .unwrap();
    assert!(trail
        .entries
        .iter()
        .any(|entry| entry.action == "login.first_on_workstation"
            && entry.username.as_deref() == Some("nina")));
    assert!(
        trail
            .entries
            .iter()
            .all(|entry| !entry.details.contains("cdv1$")),
        "the audit trail never shows a password verifier"
    );

    // She changes her password on the front desk: after the office syncs, the old one opens
    // nothing there, and the new one is checked by the server once.
    let newer = "lantern meadow copper fox";
    group
        .desk
        .login("nina", own)
        .change_password(
            &clinicdesk_tests::secret(own),
            &clinicdesk_tests::secret(newer),
        )
        .unwrap();
    group.desk.sync();
    assert_eq!(
        sign_in_outcome(&office, "nina", own),
        "signed in as nurse",
        "before the office syncs"
    );
    clinicdesk_sync::sync_now(&mut office.admin()).unwrap();
    assert_eq!(
        sign_in_outcome(&office, "nina", own),
        "authentication_failed"
    );
    group.server.shut_down();
    assert_eq!(
        sign_in_outcome(&office, "nina", newer),
        "server_unreachable"
    );
    group.server.start_again();
    assert_eq!(
        sign_in_outcome(&office, "nina", newer),
        "signed in as nurse"
    );

    // A role change on the front desk: the office drops her slot and the server signs her in
    // with her new role.
    group
        .desk
        .admin()
        .set_user_role("nina", clinicdesk_core::Role::Clinician)
        .unwrap();
    group.desk.sync();
    clinicdesk_sync::sync_now(&mut office.admin()).unwrap();
    assert_eq!(
        sign_in_outcome(&office, "nina", newer),
        "signed in as clinician"
    );

    // Disabled on the front desk: after the office syncs she cannot sign in there at all.
    group.desk.admin().disable_user("nina").unwrap();
    group.desk.sync();
    assert_eq!(
        sign_in_outcome(&office, "nina", newer),
        "signed in as clinician",
        "before the office syncs"
    );
    clinicdesk_sync::sync_now(&mut office.admin()).unwrap();
    assert_eq!(sign_in_outcome(&office, "nina", newer), "account_disabled");

    // Lockouts count per workstation and the administrator sees them across the clinic.
    assert_eq!(
        sign_in_outcome(&office, "frank", clinicdesk_tests::STAFF_PASSWORD),
        "signed in as front_desk"
    );
    for _ in 0..5 {
        assert!(office.try_login("frank", "a wrong password").is_err());
    }
    assert_eq!(
        sign_in_outcome(&office, "frank", clinicdesk_tests::STAFF_PASSWORD),
        "account_locked"
    );
    assert_eq!(
        sign_in_outcome(&group.desk, "frank", clinicdesk_tests::STAFF_PASSWORD),
        "signed in as front_desk",
        "a lockout on the office does not lock the front desk"
    );
    clinicdesk_sync::sync_now(&mut office.admin()).unwrap();
    group.desk.sync();
    let users = group.desk.admin().list_users().unwrap();
    let frank = users.iter().find(|user| user.username == "frank").unwrap();
    assert_eq!(frank.locked_until, None);
    assert_eq!(frank.locked_elsewhere.len(), 1, "{frank:?}");
    assert_eq!(frank.locked_elsewhere[0].workstation, "doctors-office");
    let desk_trail = group
        .desk
        .admin()
        .audit_list(&clinicdesk_core::AuditFilter {
            action: Some("login.".into()),
            ..Default::default()
        })
        .unwrap();
    assert!(desk_trail
        .entries
        .iter()
        .any(|entry| entry.from_other_workstation
            && entry.workstation == "doctors-office"
            && entry.action == "login.lockout"));

    // The administrator's password changes on the front desk; on the office the recovery key
    // still opens the store.
    let admin_new = "granite willow signal pear";
    group
        .desk
        .admin()
        .change_password(
            &clinicdesk_tests::secret(clinicdesk_tests::ADMIN_PASSWORD),
            &clinicdesk_tests::secret(admin_new),
        )
        .unwrap();
    group.desk.sync();
    clinicdesk_sync::sync_now(&mut office.admin()).unwrap();
    assert_eq!(
        sign_in_outcome(&office, "admin", clinicdesk_tests::ADMIN_PASSWORD),
        "authentication_failed"
    );
    clinicdesk_core::Session::recover_administrator(
        &office.data_dir,
        &office_recovery.recovery_key,
        "admin",
        &clinicdesk_tests::secret("office keeper phrase nine"),
        &office.environment,
    )
    .expect("the office's recovery key still works");
    assert_eq!(
        sign_in_outcome(&office, "admin", "office keeper phrase nine"),
        "signed in as administrator"
    );

    // A revoked workstation gets no more first sign-ins: the server keeps no secret for it.
    let role = office
        .login("admin", "office keeper phrase nine")
        .sync_status()
        .unwrap()
        .workstation_role
        .unwrap();
    clinicdesk_sync::revoke_workstation(&mut group.server.owner(), &role).unwrap();
    assert_eq!(
        sign_in_outcome(&office, "dr.cole", clinicdesk_tests::STAFF_PASSWORD),
        "workstation_revoked"
    );
}

#[test]
fn a_new_workstations_first_pull_reports_how_far_it_has_come() {
    let group = group();
    let mut frank = group.desk.staff("frank");
    for index in 0..5 {
        register(
            &mut frank,
            "Progress",
            &format!("Patient{index}"),
            "1990-05-05",
        );
    }
    drop(frank);
    group.desk.sync();
    let folder = tempfile::tempdir().unwrap();
    let data_dir = clinicdesk_core::DataDir::new(folder.path().join("data"));
    let environment =
        clinicdesk_core::Environment::with_clock(group._origin.clock.clone(), "new-room");
    let code = group.server.enrolment_code(&group.clinic_id, "new room");
    clinicdesk_sync::enroll_new_workstation(
        &group.server.workstation_url(),
        &code,
        clinicdesk_sync::NewWorkstation {
            data_dir: &data_dir,
            admin_username: clinicdesk_tests::ADMIN,
            admin_password: clinicdesk_tests::secret(clinicdesk_tests::ADMIN_PASSWORD),
            kdf: clinicdesk_tests::TEST_KDF,
            pull_now: false,
        },
        &environment,
    )
    .unwrap();
    let room = Workstation {
        folder,
        data_dir,
        environment,
    };
    let mut admin = room.admin();
    let mut heard = Vec::new();
    clinicdesk_sync::sync_through(&std::cell::RefCell::new(&mut admin), &mut |progress| {
        heard.push(progress)
    })
    .unwrap();
    let first = heard.first().expect("the pull reported progress");
    let last = heard.last().unwrap();
    assert_eq!(first.pulled, 0);
    assert!(last.to_pull >= 5, "{heard:?}");
    assert_eq!(last.pulled, last.to_pull, "{heard:?}");
    assert_eq!(
        rows(&room)["patients"].len(),
        rows(&group.desk)["patients"].len()
    );
}
