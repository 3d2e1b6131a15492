//! HL7 FHIR R4 for Clinicdesk's records: each exported record as a FHIR resource (JSON), the
//! FHIR Bulk Data NDJSON files of a whole clinic, and one patient's chart as a `collection` Bundle.
//! Knows FHIR and the store's codes; reading the records is the core's (`Session::export_records`).
//!
//! Choices (docs/reference.md, "FHIR export"): notes are DocumentReference (plain text with a title,
//! author and date: what US Core and Bulk Data exports use for notes; a Composition needs sections
//! Clinicdesk does not have). A vitals set's systolic and diastolic values become one blood-pressure
//! panel (85354-9) with two components, as the vital-signs profile requires.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use clinicdesk_core::{
    Error, ExportedAllergy, ExportedAppointment, ExportedClinic, ExportedMedication,
    ExportedNoKnownAllergies, ExportedNote, ExportedObservation, ExportedPatient, ExportedProblem,
    ExportedProvider, ExportedRecord, Result, VITALS,
};
use serde_json::{json, Map, Value};

mod deidentify;
mod reader;
pub use deidentify::{
    write_deidentified_export, Deidentifier, APPOINTMENT_YEAR_EXTENSION, SMALL_ZIP3_AREAS,
};
pub use reader::{FhirReading, IMPORTED_TYPES};

const LOINC: &str = "http://loinc.org";
const UCUM: &str = "http://unitsofmeasure.org";
const VITAL_SIGNS_PROFILE: &str = "http://hl7.org/fhir/StructureDefinition/";
const SYSTOLIC: &str = "8480-6";
const DIASTOLIC: &str = "8462-4";
const BLOOD_PRESSURE_PANEL: &str = "85354-9";

/// How resources refer to each other: `Patient/{id}` in NDJSON files, `urn:uuid:{id}` inside a
/// Bundle whose entries carry `urn:uuid` full URLs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum References {
    Relative,
    Uuid,
}

impl References {
    fn to(self, resource_type: &str, id: &str) -> Value {
        match self {
            References::Relative => json!({ "reference": format!("{resource_type}/{id}") }),
            References::Uuid => json!({ "reference": format!("urn:uuid:{id}") }),
        }
    }
}

/// The identifier system of the clinic's MRNs.
pub fn mrn_system(clinic: &ExportedClinic) -> String {
    format!("urn:clinicdesk:clinic:{}:mrn", clinic.id)
}

/// Turns exported records into FHIR resources. Observations of one vitals set arrive together
/// (the core hands them over in order); a set's blood-pressure pair becomes one panel.
pub struct FhirWriter {
    clinic: ExportedClinic,
    references: References,
    pending_set: Vec<ExportedObservation>,
}

impl FhirWriter {
    pub fn new(clinic: ExportedClinic, references: References) -> FhirWriter {
        FhirWriter {
            clinic,
            references,
            pending_set: Vec::new(),
        }
    }

    /// The resources `record` completes (none while a vitals set is still arriving).
    pub fn resources(&mut self, record: ExportedRecord) -> Vec<Value> {
        let resource = match record {
            ExportedRecord::Observation(observation) => {
                let next_set = self
                    .pending_set
                    .first()
                    .is_some_and(|first| first.vitals_set_id != observation.vitals_set_id);
                let out = if next_set { self.flush() } else { Vec::new() };
                self.pending_set.push(observation);
                return out;
            }
            ExportedRecord::Provider(provider) => practitioner(&provider),
            ExportedRecord::Patient(patient) => self.patient(&patient),
            ExportedRecord::Appointment(appointment) => self.appointment(&appointment),
            ExportedRecord::Note(note) => self.document_reference(&note),
            ExportedRecord::Allergy(allergy) => self.allergy_intolerance(&allergy),
            ExportedRecord::NoKnownAllergies(confirmation) => {
                self.no_known_allergies(&confirmation)
            }
            ExportedRecord::Medication(medication) => self.medication_statement(&medication),
            ExportedRecord::Problem(problem) => self.condition(&problem),
        };
        let mut out = self.flush();
        out.push(resource);
        out
    }

    /// The resources still held (the last vitals set).
    pub fn flush(&mut self) -> Vec<Value> {
        let set = std::mem::take(&mut self.pending_set);
        if set.is_empty() {
            return Vec::new();
        }
        let systolic = set.iter().find(|o| o.loinc_code == SYSTOLIC);
        let diastolic = set.iter().find(|o| o.loinc_code == DIASTOLIC);
        let mut out = Vec::new();
        let panel = match (systolic, diastolic) {
            (Some(systolic), Some(diastolic)) if systolic.status == diastolic.status => {
                out.push(self.blood_pressure(systolic, diastolic));
                true
            }
            _ => false,
        };
        for observation in &set {
            let in_panel =
                panel && [SYSTOLIC, DIASTOLIC].contains(&observation.loinc_code.as_str());
            if !in_panel {
                out.push(self.observation(observation));
            }
        }
        out
    }

    fn subject(&self, patient_id: &str) -> Value {
        self.references.to("Patient", patient_id)
    }

    fn patient(&self, patient: &ExportedPatient) -> Value {
        let mut given = vec![patient.given_name.clone()];
        given.extend(patient.middle_name.clone());
        let mut names =
            vec![json!({ "use": "official", "family": patient.family_name, "given": given })];
        if let Some(preferred) = &patient.preferred_name {
            names.push(json!({ "use": "usual", "given": [preferred] }));
        }
        let telecom: Vec<Value> = patient
            .phones
            .iter()
            .map(|phone| contact("phone", phone.kind.as_str(), &phone.value, phone.primary))
            .chain(
                patient
                    .emails
                    .iter()
                    .map(|email| contact("email", email.kind.as_str(), &email.value, false)),
            )
            .collect();
        let addresses: Vec<Value> = patient
            .addresses
            .iter()
            .map(|address| {
                let mut lines = vec![address.line1.clone()];
                lines.extend(address.line2.clone());
                object([
                    ("use", contact_use(&address.kind).map(Value::from)),
                    ("line", Some(json!(lines))),
                    ("city", Some(json!(address.city))),
                    ("state", address.region.clone().map(Value::from)),
                    ("postalCode", address.postal_code.clone().map(Value::from)),
                    ("country", address.country.clone().map(Value::from)),
                ])
            })
            .collect();
        object([
            ("resourceType", Some(json!("Patient"))),
            ("id", Some(json!(patient.id))),
            ("meta", Some(json!({ "lastUpdated": patient.updated_at }))),
            (
                "identifier",
                Some(json!([{
                    "use": "usual",
                    "type": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR", "display": "Medical record number" }] },
                    "system": mrn_system(&self.clinic),
                    "value": patient.mrn,
                    "assigner": { "display": self.clinic.name },
                }])),
            ),
            ("name", Some(json!(names))),
            ("telecom", (!telecom.is_empty()).then(|| json!(telecom))),
            ("gender", Some(json!(gender(&patient.sex)))),
            ("birthDate", Some(json!(patient.date_of_birth))),
            ("address", (!addresses.is_empty()).then(|| json!(addresses))),
        ])
    }

    fn appointment(&self, appointment: &ExportedAppointment) -> Value {
        object([
            ("resourceType", Some(json!("Appointment"))),
            ("id", Some(json!(appointment.id))),
            (
                "status",
                Some(json!(appointment_status(&appointment.status))),
            ),
            (
                "cancelationReason",
                appointment
                    .cancel_reason
                    .as_ref()
                    .map(|reason| json!({ "text": reason })),
            ),
            (
                "serviceType",
                appointment
                    .appointment_type
                    .as_ref()
                    .map(|kind| json!([{ "text": kind }])),
            ),
            (
                "reasonCode",
                appointment
                    .reason
                    .as_ref()
                    .map(|reason| json!([{ "text": reason }])),
            ),
            ("start", Some(json!(appointment.starts_at))),
            ("end", Some(json!(appointment.ends_at))),
            (
                "participant",
                Some(json!([
                    { "actor": self.subject(&appointment.patient_id), "required": "required", "status": "accepted" },
                    { "actor": self.references.to("Practitioner", &appointment.provider_id), "required": "required", "status": "accepted" },
                ])),
            ),
        ])
    }

    fn observation_base(&self, id: &str, observation: &ExportedObservation) -> Map<String, Value> {
        let mut resource = Map::new();
        resource.insert("resourceType".into(), json!("Observation"));
        resource.insert("id".into(), json!(id));
        resource.insert(
            "status".into(),
            json!(if observation.status == "entered_in_error" {
                "entered-in-error"
            } else {
                "final"
            }),
        );
        resource.insert("subject".into(), self.subject(&observation.patient_id));
        resource.insert("effectiveDateTime".into(), json!(observation.effective_at));
        if let Some(by) = &observation.recorded_by {
            resource.insert("performer".into(), json!([{ "display": by }]));
        }
        if let Some(reason) = &observation.entered_in_error_reason {
            resource.insert(
                "note".into(),
                json!([{ "text": format!("Entered in error: {reason}") }]),
            );
        }
        resource
    }

    fn observation(&self, observation: &ExportedObservation) -> Value {
        let definition = VITALS
            .iter()
            .find(|definition| definition.loinc == observation.loinc_code);
        let label = definition.map_or(observation.loinc_code.as_str(), |d| d.label);
        let profile = vital_signs_profile(&observation.loinc_code);
        let mut resource = self.observation_base(&observation.id, observation);
        if let Some(profile) = profile {
            resource.insert(
                "meta".into(),
                json!({ "profile": [format!("{VITAL_SIGNS_PROFILE}{profile}")] }),
            );
        }
        resource.insert(
            "category".into(),
            json!([category(if profile.is_some() {
                "vital-signs"
            } else {
                "survey"
            })]),
        );
        let mut codings = vec![
            json!({ "system": LOINC, "code": observation.loinc_code, "display": capitalised(label) }),
        ];
        // The oxygen-saturation profile asks for 2708-6; the pulse-oximetry code stays first.
        if observation.loinc_code == "59408-5" {
            codings.push(json!({ "system": LOINC, "code": "2708-6", "display": "Oxygen saturation in Arterial blood" }));
        }
        resource.insert(
            "code".into(),
            json!({ "coding": codings, "text": capitalised(label) }),
        );
        resource.insert(
            "valueQuantity".into(),
            quantity(observation.value, &observation.unit),
        );
        if let Some(flag) = observation
            .interpretation
            .as_deref()
            .and_then(interpretation)
        {
            resource.insert("interpretation".into(), json!([flag]));
        }
        Value::Object(resource)
    }

    /// A vitals set's systolic and diastolic values as the blood-pressure panel; its id is the
    /// vitals set's (one panel per set).
    fn blood_pressure(
        &self,
        systolic: &ExportedObservation,
        diastolic: &ExportedObservation,
    ) -> Value {
        let mut resource = self.observation_base(&systolic.vitals_set_id, systolic);
        resource.insert(
            "meta".into(),
            json!({ "profile": [format!("{VITAL_SIGNS_PROFILE}bp")] }),
        );
        resource.insert("category".into(), json!([category("vital-signs")]));
        resource.insert(
            "code".into(),
            json!({ "coding": [{ "system": LOINC, "code": BLOOD_PRESSURE_PANEL, "display": "Blood pressure panel with all children optional" }], "text": "Blood pressure" }),
        );
        let component = |observation: &ExportedObservation, display: &str| {
            object([
                (
                    "code",
                    Some(
                        json!({ "coding": [{ "system": LOINC, "code": observation.loinc_code, "display": display }] }),
                    ),
                ),
                (
                    "valueQuantity",
                    Some(quantity(observation.value, &observation.unit)),
                ),
                (
                    "interpretation",
                    observation
                        .interpretation
                        .as_deref()
                        .and_then(interpretation)
                        .map(|flag| json!([flag])),
                ),
            ])
        };
        resource.insert(
            "component".into(),
            json!([
                component(systolic, "Systolic blood pressure"),
                component(diastolic, "Diastolic blood pressure")
            ]),
        );
        Value::Object(resource)
    }

    fn document_reference(&self, note: &ExportedNote) -> Value {
        let (code, display) = if note.kind == "nursing" {
            ("34746-8", "Nurse Note")
        } else {
            ("11506-3", "Progress note")
        };
        object([
            ("resourceType", Some(json!("DocumentReference"))),
            ("id", Some(json!(note.id))),
            (
                "status",
                Some(json!(if note.status == "entered_in_error" {
                    "entered-in-error"
                } else {
                    "current"
                })),
            ),
            ("docStatus", Some(json!("final"))),
            (
                "type",
                Some(json!({ "coding": [{ "system": LOINC, "code": code, "display": display }] })),
            ),
            ("subject", Some(self.subject(&note.patient_id))),
            ("date", Some(json!(note.written_at))),
            (
                "author",
                (!note.author.is_empty()).then(|| json!([{ "display": note.author }])),
            ),
            ("description", note.title.clone().map(Value::from)),
            (
                "relatesTo",
                note.parent_note_id.as_ref().map(|parent| {
                    json!([{ "code": "appends", "target": self.references.to("DocumentReference", parent) }])
                }),
            ),
            (
                "content",
                Some(json!([{ "attachment": object([
                    ("contentType", Some(json!("text/plain; charset=utf-8"))),
                    ("data", Some(json!(base64::engine::general_purpose::STANDARD.encode(&note.body)))),
                    ("title", note.title.clone().map(Value::from)),
                    ("creation", Some(json!(note.written_at))),
                ]) }])),
            ),
        ])
    }

    fn allergy_intolerance(&self, allergy: &ExportedAllergy) -> Value {
        object([
            ("resourceType", Some(json!("AllergyIntolerance"))),
            ("id", Some(json!(allergy.id))),
            ("clinicalStatus", allergy_clinical_status(&allergy.status)),
            ("verificationStatus", Some(allergy_verification_status(&allergy.status))),
            ("category", Some(json!([allergy.category]))),
            (
                "criticality",
                allergy
                    .criticality
                    .as_ref()
                    .map(|c| json!(c.replace('_', "-"))),
            ),
            ("code", Some(text_with_code(&allergy.substance, allergy.substance_code.as_deref()))),
            ("patient", Some(self.subject(&allergy.patient_id))),
            ("onsetDateTime", allergy.onset.clone().map(Value::from)),
            ("recordedDate", Some(json!(allergy.recorded_at))),
            (
                "reaction",
                (allergy.reaction.is_some() || allergy.severity.is_some()).then(|| {
                    json!([object([
                        (
                            "manifestation",
                            Some(json!([{ "text": allergy.reaction.clone().unwrap_or_else(|| "Not recorded".into()) }])),
                        ),
                        ("severity", allergy.severity.clone().map(Value::from)),
                    ])])
                }),
            ),
        ])
    }

    /// "No known allergies" as FHIR states it: an AllergyIntolerance coded SNOMED CT 716186003
    /// (No known allergy), with no category, substance or reaction.
    fn no_known_allergies(&self, confirmation: &ExportedNoKnownAllergies) -> Value {
        object([
            ("resourceType", Some(json!("AllergyIntolerance"))),
            ("id", Some(json!(confirmation.id))),
            (
                "clinicalStatus",
                allergy_clinical_status(&confirmation.status),
            ),
            (
                "verificationStatus",
                Some(allergy_verification_status(&confirmation.status)),
            ),
            (
                "code",
                Some(json!({
                    "coding": [{ "system": SNOMED_CT, "code": NO_KNOWN_ALLERGY, "display": "No known allergy" }],
                    "text": "No known allergies",
                })),
            ),
            ("patient", Some(self.subject(&confirmation.patient_id))),
            ("recordedDate", Some(json!(confirmation.recorded_at))),
        ])
    }

    fn medication_statement(&self, medication: &ExportedMedication) -> Value {
        let dosage: Vec<&str> = [&medication.dose, &medication.route, &medication.frequency]
            .into_iter()
            .filter_map(|part| part.as_deref())
            .collect();
        object([
            ("resourceType", Some(json!("MedicationStatement"))),
            ("id", Some(json!(medication.id))),
            (
                "status",
                Some(json!(match medication.status.as_str() {
                    "entered_in_error" => "entered-in-error",
                    "stopped" => "stopped",
                    _ => "active",
                })),
            ),
            (
                "medicationCodeableConcept",
                Some(text_with_code(&medication.name, medication.code.as_deref())),
            ),
            ("subject", Some(self.subject(&medication.patient_id))),
            (
                "effectivePeriod",
                (medication.started_on.is_some() || medication.stopped_on.is_some()).then(|| {
                    object([
                        ("start", medication.started_on.clone().map(Value::from)),
                        ("end", medication.stopped_on.clone().map(Value::from)),
                    ])
                }),
            ),
            ("dateAsserted", Some(json!(medication.recorded_at))),
            (
                "reasonCode",
                medication
                    .reason
                    .as_ref()
                    .map(|reason| json!([{ "text": reason }])),
            ),
            (
                "dosage",
                (!dosage.is_empty()).then(|| {
                    json!([object([
                        ("text", Some(json!(dosage.join(", ")))),
                        (
                            "route",
                            medication
                                .route
                                .as_ref()
                                .map(|route| json!({ "text": route }))
                        ),
                    ])])
                }),
            ),
        ])
    }

    fn condition(&self, problem: &ExportedProblem) -> Value {
        let in_error = problem.status == "entered_in_error";
        let mut code = Map::new();
        if let Some(icd10) = &problem.icd10_code {
            code.insert(
                "coding".into(),
                json!([{ "system": "http://hl7.org/fhir/sid/icd-10", "code": icd10 }]),
            );
        }
        code.insert("text".into(), json!(problem.description));
        object([
            ("resourceType", Some(json!("Condition"))),
            ("id", Some(json!(problem.id))),
            (
                "clinicalStatus",
                (!in_error).then(|| {
                    coded(
                        "http://terminology.hl7.org/CodeSystem/condition-clinical",
                        if problem.status == "resolved" {
                            "resolved"
                        } else {
                            "active"
                        },
                    )
                }),
            ),
            (
                "verificationStatus",
                Some(coded(
                    "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                    if in_error {
                        "entered-in-error"
                    } else {
                        "confirmed"
                    },
                )),
            ),
            (
                "category",
                Some(json!([coded(
                    "http://terminology.hl7.org/CodeSystem/condition-category",
                    "problem-list-item"
                )])),
            ),
            ("code", Some(Value::Object(code))),
            ("subject", Some(self.subject(&problem.patient_id))),
            ("onsetDateTime", problem.onset.clone().map(Value::from)),
            (
                "abatementDateTime",
                (problem.status == "resolved")
                    .then(|| problem.resolved_on.clone().map(Value::from))
                    .flatten(),
            ),
            ("recordedDate", Some(json!(problem.recorded_at))),
        ])
    }
}

fn practitioner(provider: &ExportedProvider) -> Value {
    object([
        ("resourceType", Some(json!("Practitioner"))),
        ("id", Some(json!(provider.id))),
        ("name", Some(json!([{ "text": provider.display_name }]))),
        (
            "qualification",
            provider
                .specialty
                .as_ref()
                .map(|specialty| json!([{ "code": { "text": specialty } }])),
        ),
    ])
}

/// A JSON object of the fields that have a value.
fn object<const N: usize>(fields: [(&str, Option<Value>); N]) -> Value {
    Value::Object(
        fields
            .into_iter()
            .filter_map(|(name, value)| value.map(|value| (name.to_owned(), value)))
            .collect(),
    )
}

/// SNOMED CT's system URI, and its concepts that say no allergy is known: of any kind (the one
/// Clinicdesk records), and of one kind only (drugs, foods, the environment), which it does not.
const SNOMED_CT: &str = "http://snomed.info/sct";
const NO_KNOWN_ALLERGY: &str = "716186003";
const NO_KNOWN_ALLERGY_OF_ONE_KIND: &[(&str, &str)] = &[
    ("409137002", "no known drug allergy"),
    ("429625007", "no known food allergy"),
    ("428607008", "no known environmental allergy"),
];

/// An AllergyIntolerance's clinical status for the export's `status` (`active`, `inactive`,
/// `entered_in_error`): none when entered in error (FHIR's rule).
fn allergy_clinical_status(status: &str) -> Option<Value> {
    (status != "entered_in_error").then(|| {
        coded(
            "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
            if status == "inactive" {
                "inactive"
            } else {
                "active"
            },
        )
    })
}

fn allergy_verification_status(status: &str) -> Value {
    coded(
        "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
        if status == "entered_in_error" {
            "entered-in-error"
        } else {
            "confirmed"
        },
    )
}

fn coded(system: &str, code: &str) -> Value {
    json!({ "coding": [{ "system": system, "code": code }] })
}

fn text_with_code(text: &str, code: Option<&str>) -> Value {
    match code {
        Some(code) => json!({ "coding": [{ "code": code, "display": text }], "text": text }),
        None => json!({ "text": text }),
    }
}

fn category(code: &str) -> Value {
    let display = if code == "vital-signs" {
        "Vital Signs"
    } else {
        "Survey"
    };
    json!({ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": code, "display": display }], "text": display })
}

fn quantity(value: f64, unit: &str) -> Value {
    let shown = VITALS
        .iter()
        .find(|definition| definition.unit == unit)
        .map_or(unit, |definition| definition.display_unit);
    json!({ "value": value, "unit": shown, "system": UCUM, "code": unit })
}

fn interpretation(flag: &str) -> Option<Value> {
    let (code, display) = match flag {
        "normal" => ("N", "Normal"),
        "low" => ("L", "Low"),
        "high" => ("H", "High"),
        "critical_low" => ("LL", "Critical low"),
        "critical_high" => ("HH", "Critical high"),
        _ => return None,
    };
    Some(
        json!({ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": code, "display": display }] }),
    )
}

/// The FHIR vital-signs profile of a LOINC code, if it has one.
pub fn vital_signs_profile(loinc: &str) -> Option<&'static str> {
    Some(match loinc {
        "8867-4" => "heartrate",
        "9279-1" => "resprate",
        "8310-5" => "bodytemp",
        "59408-5" | "2708-6" => "oxygensat",
        "29463-7" => "bodyweight",
        "8302-2" => "bodyheight",
        "39156-5" => "bmi",
        BLOOD_PRESSURE_PANEL => "bp",
        _ => return None,
    })
}

fn gender(sex: &str) -> &'static str {
    match sex {
        "female" => "female",
        "male" => "male",
        "other" => "other",
        _ => "unknown",
    }
}

fn contact_use(kind: &str) -> Option<&'static str> {
    match kind {
        "home" => Some("home"),
        "work" => Some("work"),
        "mobile" => Some("mobile"),
        _ => None,
    }
}

fn contact(system: &str, kind: &str, value: &str, primary: bool) -> Value {
    object([
        ("system", Some(json!(system))),
        ("value", Some(json!(value))),
        ("use", contact_use(kind).map(Value::from)),
        ("rank", primary.then(|| json!(1))),
    ])
}

/// FHIR's appointment status for the store's: with the clinician (`in_progress`) is `checked-in`.
fn appointment_status(status: &str) -> &'static str {
    match status {
        "booked" => "booked",
        "arrived" => "arrived",
        "in_progress" => "checked-in",
        "completed" => "fulfilled",
        "cancelled" => "cancelled",
        "no_show" => "noshow",
        _ => "entered-in-error",
    }
}

fn capitalised(text: &str) -> String {
    clinicdesk_error::capitalised(text)
}

/// Writes the Bulk Data NDJSON files of an export into `folder` (one file per resource type, named
/// `{Type}.ndjson`) and returns the files with their line counts.
pub struct NdjsonFiles {
    folder: PathBuf,
    files: BTreeMap<String, (std::io::BufWriter<std::fs::File>, u64)>,
}

impl NdjsonFiles {
    /// Refuses a folder that holds files already (an export never mixes with another).
    pub fn create(folder: &Path) -> Result<NdjsonFiles> {
        if folder.exists()
            && std::fs::read_dir(folder)
                .map_err(|error| io_error(folder, error))?
                .next()
                .is_some()
        {
            return Err(Error::invalid_field(
                "out",
                format!(
                    "{} is not empty: export into a new or empty folder",
                    folder.display()
                ),
            ));
        }
        std::fs::create_dir_all(folder).map_err(|error| io_error(folder, error))?;
        only_for_the_owner(folder, 0o700)?;
        Ok(NdjsonFiles {
            folder: folder.to_owned(),
            files: BTreeMap::new(),
        })
    }

    pub fn write(&mut self, resource: &Value) -> Result<()> {
        let kind = resource["resourceType"]
            .as_str()
            .unwrap_or("Unknown")
            .to_owned();
        if !self.files.contains_key(&kind) {
            let path = self.folder.join(format!("{kind}.ndjson"));
            let file = std::fs::File::create(&path).map_err(|error| io_error(&path, error))?;
            only_for_the_owner(&path, 0o600)?;
            self.files
                .insert(kind.clone(), (std::io::BufWriter::new(file), 0));
        }
        let (file, count) = self.files.get_mut(&kind).expect("opened above");
        serde_json::to_writer(&mut *file, resource)
            .map_err(|error| Error::unexpected(format!("writing {kind}: {error}")))?;
        file.write_all(b"\n")
            .map_err(|error| io_error(&self.folder, error))?;
        *count += 1;
        Ok(())
    }

    /// Flushes every file to disk; the resource types and their counts.
    pub fn finish(self) -> Result<BTreeMap<String, u64>> {
        let mut counts = BTreeMap::new();
        for (kind, (file, count)) in self.files {
            let file = file
                .into_inner()
                .map_err(|error| io_error(&self.folder, error.into_error()))?;
            file.sync_all()
                .map_err(|error| io_error(&self.folder, error))?;
            counts.insert(kind, count);
        }
        Ok(counts)
    }
}

/// Exports hold patient records: readable by the person who made them, nobody else on the
/// computer.
fn only_for_the_owner(path: &Path, mode: u32) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .map_err(|error| io_error(path, error))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

fn io_error(path: &Path, error: std::io::Error) -> Error {
    Error::unexpected(format!("{}: {error}", path.display()))
}

/// One patient's resources as a FHIR `collection` Bundle (entries with `urn:uuid` full URLs; the
/// resources must have been made with [`References::Uuid`]).
pub fn collection_bundle(resources: Vec<Value>, timestamp: &str) -> Value {
    let entries: Vec<Value> = resources
        .into_iter()
        .map(|resource| {
            let id = resource["id"].as_str().unwrap_or_default().to_owned();
            json!({ "fullUrl": format!("urn:uuid:{id}"), "resource": resource })
        })
        .collect();
    json!({
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": timestamp,
        "entry": entries,
    })
}

/// The records `export` hands over (a whole clinic) as Bulk Data NDJSON files in `folder` (a new
/// or empty one); the resource types written and their counts.
pub fn write_clinic_ndjson(
    folder: &Path,
    clinic: ExportedClinic,
    export: impl FnOnce(&mut dyn FnMut(ExportedRecord) -> Result<()>) -> Result<()>,
) -> Result<BTreeMap<String, u64>> {
    let mut files = NdjsonFiles::create(folder)?;
    let mut writer = FhirWriter::new(clinic, References::Relative);
    export(&mut |record| {
        writer
            .resources(record)
            .iter()
            .try_for_each(|resource| files.write(resource))
    })?;
    for resource in writer.flush() {
        files.write(&resource)?;
    }
    files.finish()
}

/// The records `export` hands over (one chart) as a `collection` Bundle written to `path` (a new
/// file); the number of resources in it.
pub fn write_patient_bundle(
    path: &Path,
    clinic: ExportedClinic,
    timestamp: &str,
    export: impl FnOnce(&mut dyn FnMut(ExportedRecord) -> Result<()>) -> Result<()>,
) -> Result<usize> {
    if path.exists() {
        return Err(Error::invalid_field(
            "out",
            format!("{} exists already: name a new file", path.display()),
        ));
    }
    let mut writer = FhirWriter::new(clinic, References::Uuid);
    let mut resources = Vec::new();
    export(&mut |record| {
        resources.extend(writer.resources(record));
        Ok(())
    })?;
    resources.extend(writer.flush());
    let entries = resources.len();
    let bundle = collection_bundle(resources, timestamp);
    let text = serde_json::to_string_pretty(&bundle)
        .map_err(|error| Error::unexpected(format!("writing the bundle: {error}")))?;
    if let Some(folder) = path
        .parent()
        .filter(|folder| !folder.as_os_str().is_empty())
    {
        std::fs::create_dir_all(folder).map_err(|error| io_error(folder, error))?;
    }
    std::fs::write(path, text).map_err(|error| io_error(path, error))?;
    only_for_the_owner(path, 0o600)?;
    Ok(entries)
}
