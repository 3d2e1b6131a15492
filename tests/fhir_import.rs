//! Importing FHIR R4: the demo clinic exported and imported into an empty store comes back the
//! same (what FHIR carries); the same import twice creates nothing new; a file from another system
//! (a transaction Bundle with its own ids) is mapped and what was not mapped is counted; bad
//! resources are refused one by one with their line; a file that is not FHIR changes nothing;
//! likely duplicates are reported, never merged; "no known allergy" arrives as the chart's "no
//! known allergies", never as an allergy; only administrators import, and it is audited.

use std::path::{Path, PathBuf};

use clinicdesk_core::{
    AllergyState, DemoSize, ErrorCode, ExportScope, ExportedRecord, ImportReport, Session,
};
use clinicdesk_fhir::FhirReading;
use clinicdesk_tests::{Clinic, STAFF_PASSWORD};
use serde_json::json;

/// The whole clinic as NDJSON files in `folder`; the files written.
fn export_to(session: &mut Session, folder: &Path) -> Vec<PathBuf> {
    let clinic = session.export_clinic().unwrap();
    clinicdesk_fhir::write_clinic_ndjson(folder, clinic, |visit| {
        session
            .export_records(&ExportScope::WholeClinic, visit)
            .map(drop)
    })
    .unwrap()
    .keys()
    .map(|kind| folder.join(format!("{kind}.ndjson")))
    .collect()
}

/// Reads `files` and imports them as `session`.
fn import(
    session: &mut Session,
    files: &[PathBuf],
    source: &str,
) -> clinicdesk_core::Result<ImportReport> {
    let mut reading = FhirReading::new(source);
    for file in files {
        reading.read_file(file)?;
    }
    let (items, refused, _) = reading.finish();
    session.import_records(items, refused)
}

/// Every record of the clinic, in a comparable form: the fields FHIR carries, in a stable order.
fn records(session: &mut Session) -> Vec<String> {
    let mut all = Vec::new();
    session
        .export_records(&ExportScope::WholeClinic, &mut |record| {
            let comparable = match record {
                ExportedRecord::Patient(mut patient) => {
                    patient.updated_at.clear();
                    ExportedRecord::Patient(patient)
                }
                // A blood-pressure panel carries one id for its two values (the set's).
                ExportedRecord::Observation(mut observation)
                    if ["8480-6", "8462-4"].contains(&observation.loinc_code.as_str()) =>
                {
                    observation.id.clear();
                    ExportedRecord::Observation(observation)
                }
                // When a fact was recorded is when it was recorded here.
                ExportedRecord::Allergy(mut allergy) => {
                    allergy.recorded_at.clear();
                    ExportedRecord::Allergy(allergy)
                }
                ExportedRecord::NoKnownAllergies(mut confirmation) => {
                    confirmation.recorded_at.clear();
                    ExportedRecord::NoKnownAllergies(confirmation)
                }
                ExportedRecord::Problem(mut problem) => {
                    problem.recorded_at.clear();
                    ExportedRecord::Problem(problem)
                }
                // FHIR carries a medication's dosage as one text.
                ExportedRecord::Medication(mut medication) => {
                    medication.recorded_at.clear();
                    let dosage: Vec<String> =
                        [&medication.dose, &medication.route, &medication.frequency]
                            .into_iter()
                            .flatten()
                            .cloned()
                            .collect();
                    medication.dose = (!dosage.is_empty()).then(|| dosage.join(", "));
                    medication.route = None;
                    medication.frequency = None;
                    ExportedRecord::Medication(medication)
                }
                other => other,
            };
            all.push(serde_json::to_string(&comparable).unwrap());
            Ok(())
        })
        .unwrap();
    all.sort();
    all
}

fn demo_clinic() -> Clinic {
    let clinic = Clinic::new();
    clinic
        .admin()
        .generate_demo_data(DemoSize::Tiny, 11, None, None, |_| {})
        .unwrap();
    clinic.add_user("mona", "manager", STAFF_PASSWORD);
    clinic
}

#[test]
fn the_demo_clinic_exported_and_imported_into_an_empty_store_comes_back_the_same_and_only_once() {
    let demo = demo_clinic();
    let mut manager = demo.login("mona", STAFF_PASSWORD).unwrap();
    let folder = tempfile::tempdir().unwrap();
    let files = export_to(&mut manager, &folder.path().join("export"));
    let before = records(&mut manager);

    let empty = Clinic::new();
    empty.add_user("mona", "manager", STAFF_PASSWORD);
    let mut admin = empty.admin();
    let report = import(&mut admin, &files, "riverside").unwrap();
    assert!(report.refused.is_empty(), "{:?}", report.refused);
    assert!(
        report.likely_duplicates.is_empty(),
        "{:?}",
        report.likely_duplicates
    );
    assert_eq!(report.attributed_to_importer, 0, "authors matched by name");
    let mut manager_there = empty.login("mona", STAFF_PASSWORD).unwrap();
    let after = records(&mut manager_there);
    assert!(report.created.patients > 0 && report.created.observations > 0);
    assert_eq!(before.len(), after.len());
    for (old, new) in before.iter().zip(&after) {
        assert_eq!(old, new);
    }

    // Every imported row goes to the central server; the change journal holds a gap instead of
    // the rows, and records again afterwards.
    let store = empty.raw_store();
    let count = |sql: &str| -> i64 { store.query_row(sql, [], |row| row.get(0)).unwrap() };
    assert_eq!(
        count(
            "SELECT count(*) FROM vital_observations v WHERE NOT EXISTS
             (SELECT 1 FROM outbox o WHERE o.table_name = 'vital_observations' AND o.row_id = v.id)"
        ),
        0
    );
    assert_eq!(
        count("SELECT count(*) FROM change_journal WHERE table_name = 'vital_observations'"),
        0
    );
    assert_eq!(
        count(
            "SELECT count(*) FROM change_journal WHERE operation = 'gap'
             AND json_extract(row_key, '$.why') = 'records imported'"
        ),
        1
    );
    assert_eq!(count("SELECT recording FROM change_journal_clock"), 1);

    // The same files again: nothing new, everything found.
    let again = import(&mut admin, &files, "riverside").unwrap();
    assert_eq!(again.created, clinicdesk_core::ExportCounts::default());
    assert_eq!(again.already_present, report.created);
    assert_eq!(records(&mut manager_there), after);
}

/// A transaction Bundle as another system writes it: its own ids, relative references, elements
/// and resources Clinicdesk does not keep.
fn other_system_bundle() -> serde_json::Value {
    json!({
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            { "fullUrl": "http://other.example/fhir/Patient/p-17", "request": { "method": "POST", "url": "Patient" },
              "resource": { "resourceType": "Patient", "id": "p-17",
                "extension": [{ "url": "http://example.org/birthplace", "valueString": "Lagos" }],
                "identifier": [{ "system": "http://other.example/mrn", "value": "A-17" }],
                "name": [{ "use": "official", "family": "Okafor", "given": ["Ngozi", "Adaeze"] }],
                "gender": "female", "birthDate": "1984-03-27",
                "telecom": [{ "system": "phone", "value": "+49 151 2345678", "use": "mobile", "rank": 1 }],
                "maritalStatus": { "text": "Married" } } },
            { "fullUrl": "http://other.example/fhir/Practitioner/dr-1", "request": { "method": "PUT", "url": "Practitioner/dr-1" },
              "resource": { "resourceType": "Practitioner", "id": "dr-1", "name": [{ "prefix": ["Dr."], "given": ["Amina"], "family": "Yusuf" }] } },
            { "request": { "method": "POST", "url": "Encounter" },
              "resource": { "resourceType": "Encounter", "id": "e-1", "status": "finished" } },
            { "request": { "method": "POST", "url": "Appointment" },
              "resource": { "resourceType": "Appointment", "id": "a-1", "status": "fulfilled",
                "start": "2026-10-05T09:00:00+02:00", "end": "2026-10-05T09:20:00+02:00",
                "serviceType": [{ "text": "Consultation" }],
                "participant": [
                  { "actor": { "reference": "Patient/p-17" }, "status": "accepted" },
                  { "actor": { "reference": "Practitioner/dr-1" }, "status": "accepted" } ] } },
            { "request": { "method": "POST", "url": "Observation" },
              "resource": { "resourceType": "Observation", "id": "o-1", "status": "final",
                "code": { "coding": [{ "system": "http://loinc.org", "code": "8867-4" }] },
                "subject": { "reference": "Patient/p-17" }, "effectiveDateTime": "2026-10-05T09:05:00Z",
                "valueQuantity": { "value": 72, "unit": "beats/minute", "system": "http://unitsofmeasure.org", "code": "/min" } } },
            { "request": { "method": "DELETE", "url": "Patient/p-99" } }
        ]
    })
}

#[test]
fn a_bundle_from_another_system_is_mapped_linked_and_what_was_left_out_is_counted() {
    let clinic = Clinic::new();
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("transfer.json");
    std::fs::write(
        &path,
        serde_json::to_vec_pretty(&other_system_bundle()).unwrap(),
    )
    .unwrap();
    let mut reading = FhirReading::new("other-ehr");
    reading.read_file(&path).unwrap();
    let (items, refused, skipped) = reading.finish();
    assert_eq!(refused.len(), 1, "the DELETE entry: {refused:?}");
    assert_eq!(refused[0].place, "transfer.json entry 6");
    assert_eq!(skipped.get("Patient.extension"), Some(&1));
    assert_eq!(skipped.get("Patient.maritalStatus"), Some(&1));
    assert_eq!(
        skipped.get("Patient.identifier (another system's)"),
        Some(&1)
    );
    assert_eq!(
        skipped.get("Encounter (a resource type Clinicdesk does not import)"),
        Some(&1)
    );
    let mut admin = clinic.admin();
    let report = admin.import_records(items, refused).unwrap();
    assert_eq!(report.created.patients, 1);
    assert_eq!(report.created.providers, 1);
    assert_eq!(report.created.appointments, 1);
    assert_eq!(report.created.observations, 1);

    // The nurse finds her by name, with a new MRN of this clinic, her middle name and her phone.
    clinic.add_user("nurse.joy", "nurse", STAFF_PASSWORD);
    let mut nurse = clinic.login("nurse.joy", STAFF_PASSWORD).unwrap();
    let hits = nurse.search_patients("Ngozi Okafor").unwrap();
    assert_eq!(hits.len(), 1);
    assert!(
        hits[0].mrn.len() == 10 && hits[0].mrn.chars().all(|c| c.is_ascii_digit()),
        "an MRN of this clinic, not the other system's: {}",
        hits[0].mrn
    );
    let mut exported = Vec::new();
    clinic.add_user("mona", "manager", STAFF_PASSWORD);
    let mut manager = clinic.login("mona", STAFF_PASSWORD).unwrap();
    manager
        .export_records(&ExportScope::WholeClinic, &mut |record| {
            exported.push(record);
            Ok(())
        })
        .unwrap();
    let patient = exported
        .iter()
        .find_map(|r| match r {
            ExportedRecord::Patient(p) => Some(p.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(patient.middle_name.as_deref(), Some("Adaeze"));
    assert_eq!(patient.phones[0].value, "+49 151 2345678");
    let appointment = exported
        .iter()
        .find_map(|r| match r {
            ExportedRecord::Appointment(a) => Some(a.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        appointment.patient_id, patient.id,
        "linked by its reference"
    );
    assert_eq!(appointment.starts_at, "2026-10-05T07:00:00.000Z");
    assert_eq!(appointment.status, "completed");
    assert_eq!(
        appointment.appointment_type.as_deref(),
        Some("Consultation")
    );

    // Another system's ids are stable: the same Bundle again creates nothing.
    let mut reading = FhirReading::new("other-ehr");
    reading.read_file(&path).unwrap();
    let (items, refused, _) = reading.finish();
    let again = admin.import_records(items, refused).unwrap();
    assert_eq!(again.created, clinicdesk_core::ExportCounts::default());
    assert_eq!(again.already_present.patients, 1);
    assert_eq!(again.already_present.observations, 1);
}

/// One NDJSON line per resource: the line and the reason expected, or `None` when it is imported.
fn check(lines: &[(serde_json::Value, Option<&str>)]) {
    let clinic = Clinic::new();
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("Mixed.ndjson");
    let text: Vec<String> = lines
        .iter()
        .map(|(line, _)| match line.as_str() {
            Some(raw) => raw.to_owned(),
            None => line.to_string(),
        })
        .collect();
    std::fs::write(&path, text.join("\n")).unwrap();
    let report = import(&mut clinic.admin(), &[path], "lines").unwrap();
    let mut expected_refusals = 0;
    for (number, (_, reason)) in lines.iter().enumerate() {
        let place = format!("Mixed.ndjson:{}", number + 1);
        let refusal = report.refused.iter().find(|r| r.place == place);
        match reason {
            Some(reason) => {
                expected_refusals += 1;
                let refusal =
                    refusal.unwrap_or_else(|| panic!("{place} was not refused: {report:?}"));
                assert!(
                    refusal.reason.contains(reason),
                    "{place}: {:?} does not say {reason:?}",
                    refusal.reason
                );
            }
            None => assert!(refusal.is_none(), "{place} was refused: {refusal:?}"),
        }
    }
    assert_eq!(
        report.refused.len(),
        expected_refusals,
        "{:?}",
        report.refused
    );
}

fn patient(id: &str, birth: &str) -> serde_json::Value {
    json!({ "resourceType": "Patient", "id": id, "name": [{ "family": "Lindqvist", "given": ["Maja"] }], "gender": "female", "birthDate": birth })
}

fn heart_rate(id: &str, subject: &str, value: f64) -> serde_json::Value {
    json!({ "resourceType": "Observation", "id": id, "status": "final",
            "code": { "coding": [{ "system": "http://loinc.org", "code": "8867-4" }] },
            "subject": { "reference": subject }, "effectiveDateTime": "2026-10-05T09:05:00Z",
            "valueQuantity": { "value": value, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min" } })
}

#[test]
fn bad_resources_are_refused_one_by_one_with_their_line_and_reason_and_the_rest_is_imported() {
    check(&[
        (patient("p-1", "1990-05-04"), None),
        (json!("{ this is not json"), Some("not JSON")),
        (
            json!({ "resourceType": "Pateint!", "id": "x" }),
            Some("is not a FHIR resource type"),
        ),
        (json!({ "id": "no-type" }), Some("no resourceType")),
        (patient("p-2", "2021-02-30"), Some("is not a date")),
        (patient("p-3", "2099-01-01"), Some("in the future")),
        (heart_rate("o-1", "Patient/p-1", 72.0), None),
        (heart_rate("o-2", "Patient/p-1", 900.0), Some("plausible")),
        (
            heart_rate("o-3", "Patient/nobody", 70.0),
            Some("neither in the import nor in this store"),
        ),
        (
            heart_rate("o-4", "Practitioner/p-1", 70.0),
            Some("not to a Patient"),
        ),
        (
            json!({ "resourceType": "Appointment", "id": "a-1", "status": "booked", "start": "2026-12-01T10:00:00Z", "end": "2026-12-01T09:00:00Z",
                    "participant": [{ "actor": { "reference": "Patient/p-1" } }, { "actor": { "reference": "Practitioner/nobody" } }] }),
            Some("practitioner"),
        ),
    ]);
}

/// An AllergyIntolerance coded in SNOMED CT; `clinical` none for entered-in-error ones.
fn allergy_statement(
    id: &str,
    subject: &str,
    snomed: &str,
    display: &str,
    clinical: Option<&str>,
    verification: &str,
) -> serde_json::Value {
    let mut resource = json!({ "resourceType": "AllergyIntolerance", "id": id,
            "verificationStatus": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "code": verification }] },
            "code": { "coding": [{ "system": "http://snomed.info/sct", "code": snomed, "display": display }] },
            "category": ["food"],
            "patient": { "reference": subject } });
    if let Some(clinical) = clinical {
        resource["clinicalStatus"] = json!({ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": clinical }] });
    }
    resource
}

fn named_patient(id: &str, given: &str, family: &str) -> serde_json::Value {
    json!({ "resourceType": "Patient", "id": id, "name": [{ "family": family, "given": [given] }], "gender": "female", "birthDate": "1985-03-02" })
}

#[test]
fn another_systems_no_known_allergy_arrives_as_no_known_allergies_never_as_an_allergy() {
    const NKA: &str = "716186003";
    let clinic = Clinic::new();
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("AllergyIntolerance.ndjson");
    let lines = [
        patient("p-1", "1990-05-04"),
        named_patient("p-2", "Ngozi", "Okafor"),
        named_patient("p-3", "Ines", "Duarte"),
        named_patient("p-4", "Lena", "Brandt"),
        named_patient("p-5", "Aiko", "Tanaka"),
        allergy_statement(
            "nka-1",
            "Patient/p-1",
            NKA,
            "No known allergy",
            Some("active"),
            "confirmed",
        ),
        allergy_statement(
            "nkda-1",
            "Patient/p-2",
            "409137002",
            "No known drug allergy",
            Some("active"),
            "confirmed",
        ),
        // An out-of-date "no known allergies" before a real allergy, in the file's order.
        allergy_statement(
            "nka-3",
            "Patient/p-3",
            NKA,
            "No known allergy",
            Some("active"),
            "confirmed",
        ),
        allergy_statement(
            "peanut-3",
            "Patient/p-3",
            "91935009",
            "Peanut",
            Some("active"),
            "confirmed",
        ),
        allergy_statement(
            "nka-4",
            "Patient/p-4",
            NKA,
            "No known allergy",
            Some("inactive"),
            "confirmed",
        ),
        allergy_statement(
            "nka-5",
            "Patient/p-5",
            NKA,
            "No known allergy",
            None,
            "entered-in-error",
        ),
        allergy_statement(
            "nka-6",
            "Patient/p-5",
            NKA,
            "No known allergy",
            Some("active"),
            "refuted",
        ),
    ];
    let text: Vec<String> = lines.iter().map(|line| line.to_string()).collect();
    std::fs::write(&path, text.join("\n")).unwrap();
    let report = import(&mut clinic.admin(), &[path], "other-ehr").unwrap();
    assert_eq!(report.created.patients, 5);
    assert_eq!(
        report.created.allergies, 4,
        "three statements of no known allergy and the peanut allergy"
    );
    let refusal = |line: usize| {
        let place = format!("AllergyIntolerance.ndjson:{line}");
        report
            .refused
            .iter()
            .find(|refusal| refusal.place == place)
            .unwrap_or_else(|| panic!("{place} was not refused: {:?}", report.refused))
            .reason
            .clone()
    };
    assert!(refusal(7).contains("no known drug allergy"));
    assert!(
        refusal(8).contains("active allergy"),
        "the allergy wins over the no-known-allergies it contradicts"
    );
    assert!(refusal(12).contains("refuted"));
    assert_eq!(report.refused.len(), 3, "{:?}", report.refused);

    // The nurse's banner: "no known allergies" for the first, "not recorded" (ask) for the second,
    // the peanut allergy for the third; no allergy where none was stated.
    clinic.add_user("nurse.joy", "nurse", STAFF_PASSWORD);
    let mut nurse = clinic.login("nurse.joy", STAFF_PASSWORD).unwrap();
    let mrn_of =
        |nurse: &mut Session, name: &str| nurse.search_patients(name).unwrap()[0].mrn.clone();
    let first = mrn_of(&mut nurse, "Maja Lindqvist");
    let second = mrn_of(&mut nurse, "Ngozi Okafor");
    let third = mrn_of(&mut nurse, "Ines Duarte");
    assert!(
        matches!(
            nurse.allergy_state(&first).unwrap(),
            AllergyState::NoKnownAllergies { .. }
        ),
        "{:?}",
        nurse.allergy_state(&first)
    );
    assert!(nurse.allergies(&first).unwrap().allergies.is_empty());
    assert_eq!(
        nurse.allergy_state(&second).unwrap(),
        AllergyState::NotRecorded
    );
    assert!(matches!(
        nurse.allergy_state(&third).unwrap(),
        AllergyState::HasAllergies { count: 1, .. }
    ));

    // Withdrawn and entered-in-error statements keep their status, in the store and out again.
    let statuses: Vec<String> = clinic
        .raw_store()
        .prepare("SELECT status FROM allergy_confirmations ORDER BY status")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(statuses, ["current", "entered_in_error", "withdrawn"]);
    clinic.add_user("mona", "manager", STAFF_PASSWORD);
    let mut manager = clinic.login("mona", STAFF_PASSWORD).unwrap();
    let mut exported = Vec::new();
    manager
        .export_records(&ExportScope::WholeClinic, &mut |record| {
            if let ExportedRecord::NoKnownAllergies(confirmation) = record {
                exported.push(confirmation.status);
            }
            Ok(())
        })
        .unwrap();
    exported.sort();
    assert_eq!(exported, ["active", "entered_in_error", "inactive"]);
}

#[test]
fn a_file_that_is_not_fhir_stops_the_import_before_anything_changes() {
    let clinic = Clinic::new();
    let folder = tempfile::tempdir().unwrap();
    let good = folder.path().join("Patient.ndjson");
    std::fs::write(&good, patient("p-1", "1990-05-04").to_string()).unwrap();
    let cases: [(&str, &[u8]); 4] = [
        ("photo.jpg", &[0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]),
        (
            "notes.txt",
            b"Patient Maja Lindqvist, seen on Monday\nno allergies\n",
        ),
        ("empty.ndjson", b"  \n"),
        (
            "history.json",
            br#"{"resourceType": "Bundle", "type": "history", "entry": []}"#,
        ),
    ];
    let count = |clinic: &Clinic| -> i64 {
        clinic
            .raw_store()
            .query_row("SELECT count(*) FROM patients", [], |row| row.get(0))
            .unwrap()
    };
    for (name, bytes) in cases {
        let bad = folder.path().join(name);
        std::fs::write(&bad, bytes).unwrap();
        let error = import(&mut clinic.admin(), &[good.clone(), bad], "files").unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidInput, "{name}: {error:?}");
        assert!(error.message.contains(name), "{name}: {}", error.message);
        assert_eq!(count(&clinic), 0, "{name}: nothing was imported");
    }
}

#[test]
fn a_likely_duplicate_of_a_patient_already_here_is_reported_with_what_refers_to_it_and_nothing_is_merged(
) {
    let clinic = Clinic::with_staff();
    let mrn = clinic.register("Maja", "Lindqvist", "1990-05-04", None);
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("Transfer.ndjson");
    let lines = [
        patient("p-1", "1990-05-04"),
        heart_rate("o-1", "Patient/p-1", 72.0),
    ];
    let text: Vec<String> = lines.iter().map(|line| line.to_string()).collect();
    std::fs::write(&path, text.join("\n")).unwrap();
    let report = import(&mut clinic.admin(), &[path], "transfer").unwrap();
    assert_eq!(report.likely_duplicates.len(), 1);
    assert_eq!(report.likely_duplicates[0].place, "Transfer.ndjson:1");
    assert_eq!(report.likely_duplicates[0].candidates[0].mrn, mrn);
    assert_eq!(report.refused.len(), 1);
    assert!(
        report.refused[0].reason.contains("likely duplicate"),
        "{:?}",
        report.refused
    );
    assert_eq!(report.created, clinicdesk_core::ExportCounts::default());
    let patients: i64 = clinic
        .raw_store()
        .query_row("SELECT count(*) FROM patients", [], |row| row.get(0))
        .unwrap();
    assert_eq!(patients, 1, "nothing merged, nothing added");
}

#[test]
fn only_administrators_import_and_every_import_is_audited() {
    let clinic = Clinic::with_staff();
    for username in ["mona", "dr.cole", "nurse.joy", "frank"] {
        let error = clinic
            .staff(username)
            .import_records(Vec::new(), Vec::new())
            .unwrap_err();
        assert_eq!(error.code, ErrorCode::PermissionDenied, "{username}");
    }
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("Patient.ndjson");
    std::fs::write(&path, patient("p-1", "1990-05-04").to_string()).unwrap();
    import(&mut clinic.admin(), &[path], "audit").unwrap();
    let (action, details): (String, String) = clinic
        .raw_store()
        .query_row(
            "SELECT action, details FROM audit_log WHERE action = 'records.import' ORDER BY seq DESC LIMIT 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    assert_eq!(action, "records.import");
    let details: serde_json::Value = serde_json::from_str(&details).unwrap();
    assert_eq!(details["created"]["patients"], 1);
}
