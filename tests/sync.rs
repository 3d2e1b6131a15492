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

    group.desk.sync();
    group.nurses.sync();
    group.desk.sync();

    assert_eq!(rows(&group.desk), rows(&group.nurses));
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
    let cut = clinicdesk_sync::sync_over(&mut frank, &mut client).unwrap_err();
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
    group.nurses.sync();
    assert_eq!(rows(&group.desk), rows(&group.nurses));
}
