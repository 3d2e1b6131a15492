//! Reading FHIR R4 from another system for an import: NDJSON files (one resource a line) or a
//! Bundle (`transaction`, `batch` or `collection`), each resource mapped to the store's records.
//! What is understood is mapped; every element that is not is counted by name in the report; a
//! resource that cannot be used is refused with its place (file and line, or Bundle entry) and
//! why. The store's own checks (dates, plausible values, references) are the core's.
//!
//! Ids: a resource whose id is a UUID keeps it (so Clinicdesk's own exports come back as the
//! same records); any other id becomes a UUID made from the import's source name, the resource
//! type and the id, so the same import run twice names the same records and creates nothing new.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use base64::Engine;
use clinicdesk_core::{
    Error, ExportedAddress, ExportedAllergy, ExportedAppointment, ExportedContact,
    ExportedMedication, ExportedNoKnownAllergies, ExportedNote, ExportedObservation,
    ExportedPatient, ExportedProblem, ExportedProvider, ExportedRecord, ImportItem, ImportRefusal,
    Result,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::{
    BLOOD_PRESSURE_PANEL, DIASTOLIC, NO_KNOWN_ALLERGY, NO_KNOWN_ALLERGY_OF_ONE_KIND, SNOMED_CT,
    SYSTOLIC,
};

/// The resource types an import maps; any other is counted and left out.
pub const IMPORTED_TYPES: [&str; 8] = [
    "Patient",
    "Practitioner",
    "Appointment",
    "Observation",
    "DocumentReference",
    "AllergyIntolerance",
    "MedicationStatement",
    "Condition",
];

/// What the files held: the records to import, the resources refused, and the elements (or
/// whole resources of other types) left out, counted by name.
#[derive(Debug, Default)]
pub struct FhirReading {
    source: String,
    pub items: Vec<ImportItem>,
    pub refused: Vec<ImportRefusal>,
    pub skipped: BTreeMap<String, u64>,
    /// Observations wait until every file is read: a vitals set is the observations of one
    /// patient at one time (a blood-pressure panel lends the set its id).
    observations: Vec<(String, ExportedObservation)>,
}

/// Where a reference points, in a Bundle: `urn:uuid:…` full URLs to (type, id).
type FullUrls = HashMap<String, (String, String)>;

struct Refused(String);

type Mapped<T> = std::result::Result<T, Refused>;

fn refuse<T>(reason: impl Into<String>) -> Mapped<T> {
    Err(Refused(reason.into()))
}

impl FhirReading {
    /// `source` names the system the files come from (ids that are not UUIDs are made from it).
    pub fn new(source: &str) -> FhirReading {
        FhirReading {
            source: source.to_owned(),
            ..FhirReading::default()
        }
    }

    /// Reads one file: a Bundle, one resource, or NDJSON. A file that is not UTF-8 text, holds no
    /// JSON at all, or is a Bundle of another type fails as a whole (an error; nothing of it is
    /// kept); a bad line of NDJSON is refused with its number and the rest is read.
    pub fn read_file(&mut self, path: &Path) -> Result<()> {
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let bytes = std::fs::read(path)
            .map_err(|error| Error::not_found(format!("{}: {error}", path.display())))?;
        self.read_text(&name, &bytes)
    }

    /// [`FhirReading::read_file`] on text already read (`name` is used in the report).
    pub fn read_text(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        let text = std::str::from_utf8(bytes).map_err(|_| {
            Error::invalid_field(
                "file",
                format!("the file {name} is not UTF-8 text, so not FHIR JSON"),
            )
        })?;
        if text.trim().is_empty() {
            return Err(Error::invalid_field(
                "file",
                format!("the file {name} is empty"),
            ));
        }
        if let Ok(whole) = serde_json::from_str::<Value>(text) {
            if whole["resourceType"] == "Bundle" {
                return self.read_bundle(name, &whole);
            }
            if whole.is_object() {
                let place = format!("{name}:1");
                self.resource(&place, &whole, &FullUrls::new());
                return Ok(());
            }
        }
        let mut understood = 0usize;
        let mut staged = FhirReading::new(&self.source);
        for (index, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let place = format!("{name}:{}", index + 1);
            match serde_json::from_str::<Value>(line) {
                Ok(resource) => {
                    understood += 1;
                    staged.resource(&place, &resource, &FullUrls::new());
                }
                Err(error) => staged.refused.push(ImportRefusal {
                    place,
                    reason: format!("not JSON ({error})"),
                }),
            }
        }
        if understood == 0 {
            return Err(Error::invalid_field(
                "file",
                format!(
                    "the file {name} is neither a FHIR Bundle nor NDJSON: no line of it is JSON"
                ),
            ));
        }
        self.take(staged);
        Ok(())
    }

    fn take(&mut self, staged: FhirReading) {
        self.items.extend(staged.items);
        self.refused.extend(staged.refused);
        self.observations.extend(staged.observations);
        for (element, count) in staged.skipped {
            *self.skipped.entry(element).or_default() += count;
        }
    }

    fn read_bundle(&mut self, name: &str, bundle: &Value) -> Result<()> {
        let kind = bundle["type"].as_str().unwrap_or_default();
        if !["transaction", "batch", "collection", "searchset"].contains(&kind) {
            return Err(Error::invalid_field(
                "file",
                format!("the file {name} is a Bundle of type {kind:?}; an import reads transaction, batch and collection Bundles"),
            ));
        }
        let Some(entries) = bundle["entry"].as_array() else {
            return Err(Error::invalid_field(
                "file",
                format!("the file {name} is a Bundle without entries"),
            ));
        };
        let mut full_urls = FullUrls::new();
        for entry in entries {
            let resource = &entry["resource"];
            if let (Some(url), Some(kind)) =
                (entry["fullUrl"].as_str(), resource["resourceType"].as_str())
            {
                let id = resource["id"]
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| url.rsplit([':', '/']).next().unwrap_or(url).to_owned());
                full_urls.insert(url.to_owned(), (kind.to_owned(), id));
            }
        }
        let mut staged = FhirReading::new(&self.source);
        for (index, entry) in entries.iter().enumerate() {
            let place = format!("{name} entry {}", index + 1);
            if let Some(method) = entry["request"]["method"].as_str() {
                if method != "POST" && method != "PUT" {
                    staged.refused.push(ImportRefusal {
                        place,
                        reason: format!("a {method} request is not an import of a record"),
                    });
                    continue;
                }
            }
            staged.resource(&place, &entry["resource"], &full_urls);
        }
        self.take(staged);
        Ok(())
    }

    fn skip(&mut self, element: impl Into<String>) {
        *self.skipped.entry(element.into()).or_default() += 1;
    }

    /// The store's id for a FHIR resource id.
    fn store_id(&self, resource_type: &str, id: &str) -> String {
        match uuid::Uuid::parse_str(id) {
            Ok(parsed) => parsed.hyphenated().to_string(),
            Err(_) => {
                let digest = Sha256::new()
                    .chain_update(b"clinicdesk fhir import\0")
                    .chain_update(self.source.as_bytes())
                    .chain_update(b"\0")
                    .chain_update(resource_type.as_bytes())
                    .chain_update(b"\0")
                    .chain_update(id.as_bytes())
                    .finalize();
                let mut bytes = [0u8; 16];
                bytes.copy_from_slice(&digest[..16]);
                uuid::Builder::from_custom_bytes(bytes)
                    .into_uuid()
                    .hyphenated()
                    .to_string()
            }
        }
    }

    /// The store id a reference to a resource of `wanted` type points at.
    fn reference(
        &self,
        value: &Value,
        wanted: &str,
        full_urls: &FullUrls,
        what: &str,
    ) -> Mapped<String> {
        let Some(text) = value["reference"].as_str() else {
            return refuse(format!("{what} has no reference"));
        };
        let (kind, id) = if let Some((kind, id)) = full_urls.get(text) {
            (kind.clone(), id.clone())
        } else if let Some(uuid) = text.strip_prefix("urn:uuid:") {
            (wanted.to_owned(), uuid.to_owned())
        } else {
            let mut parts = text.trim_end_matches('/').rsplit('/');
            let id = parts.next().unwrap_or_default();
            let kind = parts.next().unwrap_or_default();
            // A versioned reference (`Patient/1/_history/2`) names the same resource.
            if kind == "_history" {
                let _version = id;
                let id = parts.next().unwrap_or_default();
                let kind = parts.next().unwrap_or_default();
                (kind.to_owned(), id.to_owned())
            } else {
                (kind.to_owned(), id.to_owned())
            }
        };
        if kind != wanted {
            return refuse(format!("{what} refers to {text}, not to a {wanted}"));
        }
        if id.is_empty() {
            return refuse(format!("{what} refers to {text}, which names no resource"));
        }
        Ok(self.store_id(wanted, &id))
    }

    /// Maps one resource (refusing or skipping what cannot be used).
    fn resource(&mut self, place: &str, resource: &Value, full_urls: &FullUrls) {
        let Some(kind) = resource["resourceType"].as_str() else {
            self.refused.push(ImportRefusal {
                place: place.to_owned(),
                reason: "not a FHIR resource: it has no resourceType".into(),
            });
            return;
        };
        if !IMPORTED_TYPES.contains(&kind) {
            if kind.is_empty() || !kind.chars().all(|c| c.is_ascii_alphabetic()) {
                self.refused.push(ImportRefusal {
                    place: place.to_owned(),
                    reason: format!("{kind:?} is not a FHIR resource type"),
                });
            } else {
                self.skip(format!(
                    "{kind} (a resource type Clinicdesk does not import)"
                ));
            }
            return;
        }
        let Some(id) = resource["id"].as_str().filter(|id| !id.is_empty()) else {
            self.refused.push(ImportRefusal {
                place: place.to_owned(),
                reason: format!("the {kind} has no id"),
            });
            return;
        };
        let id = self.store_id(kind, id);
        let mapped = match kind {
            "Patient" => self.patient(&id, resource).map(|r| vec![r]),
            "Practitioner" => self.practitioner(&id, resource).map(|r| vec![r]),
            "Appointment" => self.appointment(&id, resource, full_urls).map(|r| vec![r]),
            "Observation" => self.observation(&id, resource, full_urls),
            "DocumentReference" => self.document(&id, resource, full_urls).map(|r| vec![r]),
            "AllergyIntolerance" => self.allergy(&id, resource, full_urls).map(|r| vec![r]),
            "MedicationStatement" => self.medication(&id, resource, full_urls).map(|r| vec![r]),
            _ => self.condition(&id, resource, full_urls).map(|r| vec![r]),
        };
        match mapped {
            Ok(records) => {
                self.note_unread(kind, resource);
                for record in records {
                    match record {
                        ExportedRecord::Observation(observation) => {
                            self.observations.push((place.to_owned(), observation));
                        }
                        record => self.items.push(ImportItem {
                            place: place.to_owned(),
                            record,
                        }),
                    }
                }
            }
            Err(Refused(reason)) => self.refused.push(ImportRefusal {
                place: place.to_owned(),
                reason,
            }),
        }
    }

    /// Counts the top-level elements of `resource` this reader does not map.
    fn note_unread(&mut self, kind: &str, resource: &Value) {
        let read: &[&str] = match kind {
            "Patient" => &[
                "identifier",
                "name",
                "telecom",
                "gender",
                "birthDate",
                "address",
            ],
            "Practitioner" => &["name", "qualification"],
            "Appointment" => &[
                "status",
                "cancelationReason",
                "serviceType",
                "reasonCode",
                "start",
                "end",
                "participant",
            ],
            "Observation" => &[
                "status",
                "category",
                "code",
                "subject",
                "effectiveDateTime",
                "effectivePeriod",
                "valueQuantity",
                "component",
                "interpretation",
                "performer",
                "note",
            ],
            "DocumentReference" => &[
                "status",
                "docStatus",
                "type",
                "subject",
                "date",
                "author",
                "description",
                "relatesTo",
                "content",
            ],
            "AllergyIntolerance" => &[
                "clinicalStatus",
                "verificationStatus",
                "category",
                "criticality",
                "code",
                "patient",
                "onsetDateTime",
                "recordedDate",
                "reaction",
            ],
            "MedicationStatement" => &[
                "status",
                "medicationCodeableConcept",
                "subject",
                "effectivePeriod",
                "dateAsserted",
                "reasonCode",
                "dosage",
            ],
            _ => &[
                "clinicalStatus",
                "verificationStatus",
                "category",
                "code",
                "subject",
                "onsetDateTime",
                "abatementDateTime",
                "recordedDate",
            ],
        };
        if let Some(fields) = resource.as_object() {
            for field in fields.keys() {
                let always = ["resourceType", "id", "meta", "text"];
                if !always.contains(&field.as_str()) && !read.contains(&field.as_str()) {
                    self.skip(format!("{kind}.{field}"));
                }
            }
        }
    }

    fn patient(&mut self, id: &str, resource: &Value) -> Mapped<ExportedRecord> {
        let names = resource["name"].as_array().cloned().unwrap_or_default();
        let official = names
            .iter()
            .find(|name| name["use"] == "official")
            .or_else(|| names.iter().find(|name| name["use"] != "usual"))
            .or(names.first());
        let Some(official) = official else {
            return refuse("the Patient has no name");
        };
        let given: Vec<&str> = official["given"]
            .as_array()
            .map(|given| given.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let family = official["family"].as_str().unwrap_or_default();
        let (Some(first), false) = (given.first(), family.trim().is_empty()) else {
            return refuse("the Patient's name needs a given and a family name");
        };
        let middle = (given.len() > 1).then(|| given[1..].join(" "));
        let preferred = names
            .iter()
            .find(|name| name["use"] == "usual")
            .and_then(|name| name["given"][0].as_str())
            .map(str::to_owned);
        let Some(birth) = resource["birthDate"].as_str() else {
            return refuse("the Patient has no birthDate");
        };
        let sex = match resource["gender"].as_str() {
            Some("female") => "female",
            Some("male") => "male",
            Some("other") => "other",
            Some("unknown") | None => "unknown",
            Some(other) => return refuse(format!("gender {other:?} is not a FHIR gender")),
        };
        let mrn = resource["identifier"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|identifier| {
                identifier["system"].as_str().is_some_and(|system| {
                    system.starts_with("urn:clinicdesk:clinic:") && system.ends_with(":mrn")
                })
            })
            .and_then(|identifier| identifier["value"].as_str())
            .unwrap_or_default()
            .to_owned();
        let other_identifiers = resource["identifier"]
            .as_array()
            .map_or(0, |all| all.len())
            .saturating_sub(usize::from(!mrn.is_empty()));
        for _ in 0..other_identifiers {
            self.skip("Patient.identifier (another system's)");
        }
        let mut phones = Vec::new();
        let mut emails = Vec::new();
        for telecom in resource["telecom"].as_array().into_iter().flatten() {
            let Some(value) = telecom["value"].as_str() else {
                continue;
            };
            let usage = telecom["use"].as_str().unwrap_or_default();
            match telecom["system"].as_str() {
                Some("phone") | Some("sms") => phones.push(ExportedContact {
                    kind: match usage {
                        "home" | "work" | "mobile" => usage.to_owned(),
                        _ => "other".to_owned(),
                    },
                    value: value.to_owned(),
                    primary: telecom["rank"] == 1,
                }),
                Some("email") => emails.push(ExportedContact {
                    kind: match usage {
                        "work" => "work".to_owned(),
                        "home" => "personal".to_owned(),
                        _ => "other".to_owned(),
                    },
                    value: value.to_owned(),
                    primary: false,
                }),
                _ => self.skip("Patient.telecom (not a phone or email)"),
            }
        }
        let mut addresses = Vec::new();
        for address in resource["address"].as_array().into_iter().flatten() {
            let lines: Vec<&str> = address["line"]
                .as_array()
                .map(|lines| lines.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let (Some(line1), Some(city)) = (lines.first(), address["city"].as_str()) else {
                self.skip("Patient.address (without a street line and city)");
                continue;
            };
            let country = address["country"].as_str().map(str::to_owned);
            if country.as_ref().is_some_and(|c| c.len() != 2) {
                self.skip("Patient.address.country (not a two-letter code)");
            }
            addresses.push(ExportedAddress {
                kind: match address["use"].as_str().unwrap_or_default() {
                    "home" => "home".to_owned(),
                    "work" => "work".to_owned(),
                    _ => "other".to_owned(),
                },
                line1: (*line1).to_owned(),
                line2: (lines.len() > 1).then(|| lines[1..].join(", ")),
                city: city.to_owned(),
                region: address["state"].as_str().map(str::to_owned),
                postal_code: address["postalCode"].as_str().map(str::to_owned),
                country: country.filter(|c| c.len() == 2),
            });
        }
        Ok(ExportedRecord::Patient(ExportedPatient {
            id: id.to_owned(),
            mrn,
            given_name: (*first).to_owned(),
            middle_name: middle,
            family_name: family.to_owned(),
            preferred_name: preferred,
            date_of_birth: birth.to_owned(),
            sex: sex.to_owned(),
            phones,
            emails,
            addresses,
            updated_at: String::new(),
        }))
    }

    fn practitioner(&mut self, id: &str, resource: &Value) -> Mapped<ExportedRecord> {
        let name = &resource["name"][0];
        let display = match name["text"].as_str() {
            Some(text) => text.to_owned(),
            None => {
                let parts: Vec<&str> = name["prefix"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .chain(name["given"].as_array().into_iter().flatten())
                    .filter_map(Value::as_str)
                    .chain(name["family"].as_str())
                    .collect();
                parts.join(" ")
            }
        };
        if display.trim().is_empty() {
            return refuse("the Practitioner has no name");
        }
        Ok(ExportedRecord::Provider(ExportedProvider {
            id: id.to_owned(),
            display_name: display,
            specialty: resource["qualification"][0]["code"]["text"]
                .as_str()
                .or_else(|| resource["qualification"][0]["code"]["coding"][0]["display"].as_str())
                .map(str::to_owned),
        }))
    }

    fn appointment(
        &mut self,
        id: &str,
        resource: &Value,
        full_urls: &FullUrls,
    ) -> Mapped<ExportedRecord> {
        let status = match resource["status"].as_str().unwrap_or_default() {
            "booked" | "pending" | "proposed" => "booked",
            "arrived" => "arrived",
            "checked-in" => "in_progress",
            "fulfilled" => "completed",
            "cancelled" => "cancelled",
            "noshow" => "no_show",
            "entered-in-error" => return refuse("the Appointment was entered in error"),
            other => return refuse(format!("status {other:?} is not an Appointment status")),
        };
        let (Some(start), Some(end)) = (resource["start"].as_str(), resource["end"].as_str())
        else {
            return refuse("the Appointment needs a start and an end");
        };
        let mut patient = None;
        let mut provider = None;
        for participant in resource["participant"].as_array().into_iter().flatten() {
            let reference = participant["actor"]["reference"]
                .as_str()
                .unwrap_or_default();
            let kind = full_urls
                .get(reference)
                .map(|(kind, _)| kind.as_str())
                .unwrap_or_else(|| reference.split('/').rev().nth(1).unwrap_or_default());
            match kind {
                "Patient" => {
                    patient = Some(self.reference(
                        &participant["actor"],
                        "Patient",
                        full_urls,
                        "the patient",
                    )?)
                }
                "Practitioner" => {
                    provider = Some(self.reference(
                        &participant["actor"],
                        "Practitioner",
                        full_urls,
                        "the practitioner",
                    )?)
                }
                _ => self.skip("Appointment.participant (neither a patient nor a practitioner)"),
            }
        }
        let (Some(patient), Some(provider)) = (patient, provider) else {
            return refuse(
                "the Appointment needs a Patient and a Practitioner among its participants",
            );
        };
        Ok(ExportedRecord::Appointment(ExportedAppointment {
            id: id.to_owned(),
            patient_id: patient,
            provider_id: provider,
            appointment_type: resource["serviceType"][0]["text"]
                .as_str()
                .map(str::to_owned),
            starts_at: start.to_owned(),
            ends_at: end.to_owned(),
            status: status.to_owned(),
            reason: resource["reasonCode"][0]["text"]
                .as_str()
                .map(str::to_owned),
            cancel_reason: resource["cancelationReason"]["text"]
                .as_str()
                .map(str::to_owned),
        }))
    }

    /// An Observation: one vital sign, or a blood-pressure panel (two).
    fn observation(
        &mut self,
        id: &str,
        resource: &Value,
        full_urls: &FullUrls,
    ) -> Mapped<Vec<ExportedRecord>> {
        let status = match resource["status"].as_str().unwrap_or_default() {
            "final" | "amended" | "corrected" => "final",
            "entered-in-error" => "entered_in_error",
            other => {
                return refuse(format!(
                    "an Observation with status {other:?} is not a recorded result"
                ))
            }
        };
        let patient = self.reference(&resource["subject"], "Patient", full_urls, "the subject")?;
        let Some(effective) = resource["effectiveDateTime"]
            .as_str()
            .or_else(|| resource["effectivePeriod"]["start"].as_str())
        else {
            return refuse("the Observation has no effectiveDateTime");
        };
        let recorded_by = resource["performer"][0]["display"]
            .as_str()
            .map(str::to_owned);
        let reason = resource["note"][0]["text"].as_str().map(|text| {
            text.strip_prefix("Entered in error: ")
                .unwrap_or(text)
                .to_owned()
        });
        let base = |observation_id: String,
                    loinc: &str,
                    quantity: &Value,
                    flag: &Value|
         -> Mapped<ExportedRecord> {
            let Some(value) = quantity["value"].as_f64() else {
                return refuse(format!("LOINC {loinc} has no numeric value"));
            };
            let unit = quantity["code"]
                .as_str()
                .or_else(|| quantity["unit"].as_str())
                .unwrap_or_default();
            let interpretation = match flag["coding"][0]["code"].as_str() {
                Some("N") => Some("normal"),
                Some("L") => Some("low"),
                Some("H") => Some("high"),
                Some("LL") => Some("critical_low"),
                Some("HH") => Some("critical_high"),
                _ => None,
            };
            Ok(ExportedRecord::Observation(ExportedObservation {
                id: observation_id,
                patient_id: patient.clone(),
                vitals_set_id: String::new(),
                effective_at: effective.to_owned(),
                loinc_code: loinc.to_owned(),
                value,
                unit: unit.to_owned(),
                interpretation: interpretation.map(str::to_owned),
                status: status.to_owned(),
                entered_in_error_reason: (status == "entered_in_error")
                    .then(|| reason.clone())
                    .flatten(),
                recorded_by: recorded_by.clone(),
            }))
        };
        let codes: Vec<&str> = resource["code"]["coding"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|coding| coding["system"] == crate::LOINC)
            .filter_map(|coding| coding["code"].as_str())
            .collect();
        if codes.contains(&BLOOD_PRESSURE_PANEL) {
            let mut out = Vec::new();
            for component in resource["component"].as_array().into_iter().flatten() {
                let code = component["code"]["coding"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|coding| coding["code"].as_str())
                    .find(|code| [SYSTOLIC, DIASTOLIC].contains(code));
                match code {
                    Some(code) => out.push(base(
                        self.store_id("Observation", &format!("{id}/{code}")),
                        code,
                        &component["valueQuantity"],
                        &component["interpretation"][0],
                    )?),
                    None => self.skip("Observation.component (not systolic or diastolic)"),
                }
            }
            if out.is_empty() {
                return refuse("the blood-pressure panel has no systolic or diastolic value");
            }
            // The panel names its vitals set.
            for record in &mut out {
                if let ExportedRecord::Observation(observation) = record {
                    observation.vitals_set_id = id.to_owned();
                }
            }
            return Ok(out);
        }
        let Some(code) = codes
            .iter()
            .find(|code| clinicdesk_core::VITALS.iter().any(|d| d.loinc == **code))
        else {
            return refuse(format!(
                "the Observation's code ({}) is not a vital sign Clinicdesk records",
                if codes.is_empty() {
                    "no LOINC code".to_owned()
                } else {
                    codes.join(", ")
                }
            ));
        };
        Ok(vec![base(
            id.to_owned(),
            code,
            &resource["valueQuantity"],
            &resource["interpretation"][0],
        )?])
    }

    fn document(
        &mut self,
        id: &str,
        resource: &Value,
        full_urls: &FullUrls,
    ) -> Mapped<ExportedRecord> {
        let status = match resource["status"].as_str().unwrap_or_default() {
            "current" | "superseded" => "final",
            "entered-in-error" => "entered_in_error",
            other => {
                return refuse(format!(
                    "status {other:?} is not a DocumentReference status"
                ))
            }
        };
        let patient = self.reference(&resource["subject"], "Patient", full_urls, "the subject")?;
        let attachment = &resource["content"][0]["attachment"];
        let content_type = attachment["contentType"].as_str().unwrap_or("text/plain");
        if !content_type.starts_with("text/plain") {
            return refuse(format!(
                "the note is {content_type}; Clinicdesk imports plain-text notes"
            ));
        }
        let Some(data) = attachment["data"].as_str() else {
            return refuse("the note's text is not in the resource (only a link to it)");
        };
        let body = base64::engine::general_purpose::STANDARD
            .decode(data)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok());
        let Some(body) = body else {
            return refuse("the note's data is not base64-encoded UTF-8 text");
        };
        let Some(written) = resource["date"]
            .as_str()
            .or_else(|| attachment["creation"].as_str())
        else {
            return refuse("the DocumentReference has no date");
        };
        let nursing = resource["type"]["coding"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|coding| coding["code"] == "34746-8");
        let parent = match resource["relatesTo"].as_array() {
            Some(relations) => match relations.iter().find(|r| r["code"] == "appends") {
                Some(relation) => Some(self.reference(
                    &relation["target"],
                    "DocumentReference",
                    full_urls,
                    "the note it adds to",
                )?),
                None => {
                    self.skip("DocumentReference.relatesTo (other than appends)");
                    None
                }
            },
            None => None,
        };
        Ok(ExportedRecord::Note(ExportedNote {
            id: id.to_owned(),
            patient_id: patient,
            author: resource["author"][0]["display"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            kind: if nursing { "nursing" } else { "clinical" }.to_owned(),
            parent_note_id: parent,
            title: resource["description"]
                .as_str()
                .or_else(|| attachment["title"].as_str())
                .map(str::to_owned),
            body,
            written_at: written.to_owned(),
            status: status.to_owned(),
        }))
    }

    fn allergy(
        &mut self,
        id: &str,
        resource: &Value,
        full_urls: &FullUrls,
    ) -> Mapped<ExportedRecord> {
        let patient = self.reference(&resource["patient"], "Patient", full_urls, "the patient")?;
        let status = if entered_in_error(resource) {
            "entered_in_error"
        } else if resource["clinicalStatus"]["coding"][0]["code"] == "active"
            || resource["clinicalStatus"].is_null()
        {
            "active"
        } else {
            "inactive"
        };
        if resource["verificationStatus"]["coding"][0]["code"] == "refuted" {
            return refuse(
                "its verification status is refuted (shown not to apply): Clinicdesk keeps no refuted allergy statements",
            );
        }
        let snomed_codes: Vec<&str> = resource["code"]["coding"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|coding| coding["system"] == SNOMED_CT)
            .filter_map(|coding| coding["code"].as_str())
            .collect();
        if snomed_codes.contains(&NO_KNOWN_ALLERGY) {
            // Asked, and no allergy found: the chart's "no known allergies", never an allergy.
            return Ok(ExportedRecord::NoKnownAllergies(ExportedNoKnownAllergies {
                id: id.to_owned(),
                patient_id: patient,
                status: status.to_owned(),
                recorded_at: String::new(),
            }));
        }
        if let Some((_, statement)) = NO_KNOWN_ALLERGY_OF_ONE_KIND
            .iter()
            .find(|(code, _)| snomed_codes.contains(code))
        {
            return refuse(format!(
                "it states {statement}: Clinicdesk records only \"no known allergies\" of any kind, and this is not an allergy; record what the patient says in the chart"
            ));
        }
        let substance = concept_text(&resource["code"]);
        let Some(substance) = substance else {
            return refuse("the AllergyIntolerance names no substance");
        };
        let category = match resource["category"][0].as_str() {
            Some(kind @ ("food" | "medication" | "environment")) => kind,
            Some("biologic") => "medication",
            _ => "environment",
        };
        Ok(ExportedRecord::Allergy(ExportedAllergy {
            id: id.to_owned(),
            patient_id: patient,
            substance,
            substance_code: resource["code"]["coding"][0]["code"]
                .as_str()
                .map(str::to_owned),
            category: category.to_owned(),
            reaction: concept_text(&resource["reaction"][0]["manifestation"][0]),
            severity: resource["reaction"][0]["severity"]
                .as_str()
                .map(str::to_owned),
            criticality: resource["criticality"]
                .as_str()
                .map(|c| c.replace('-', "_")),
            onset: day(&resource["onsetDateTime"]),
            status: status.to_owned(),
            recorded_at: String::new(),
        }))
    }

    fn medication(
        &mut self,
        id: &str,
        resource: &Value,
        full_urls: &FullUrls,
    ) -> Mapped<ExportedRecord> {
        let patient = self.reference(&resource["subject"], "Patient", full_urls, "the subject")?;
        let status = match resource["status"].as_str().unwrap_or_default() {
            "entered-in-error" => "entered_in_error",
            "stopped" | "completed" | "not-taken" => "stopped",
            _ => "active",
        };
        let Some(name) = concept_text(&resource["medicationCodeableConcept"]) else {
            return refuse(
                "the MedicationStatement names no medication (a Medication reference is not read)",
            );
        };
        // The text is "dose, route, frequency" when the route is among its parts (as Clinicdesk
        // writes it); otherwise it is kept whole as the dose.
        let text = resource["dosage"][0]["text"].as_str().map(str::to_owned);
        let route = resource["dosage"][0]["route"]["text"]
            .as_str()
            .map(str::to_owned);
        let (dose, frequency) = match (&text, &route) {
            (Some(text), Some(route)) => {
                let parts: Vec<&str> = text.split(", ").collect();
                match parts.iter().position(|part| part == route) {
                    Some(at) => (
                        (at > 0).then(|| parts[..at].join(", ")),
                        (at + 1 < parts.len()).then(|| parts[at + 1..].join(", ")),
                    ),
                    None => (Some(text.clone()), None),
                }
            }
            _ => (text.clone(), None),
        };
        Ok(ExportedRecord::Medication(ExportedMedication {
            id: id.to_owned(),
            patient_id: patient,
            name,
            code: resource["medicationCodeableConcept"]["coding"][0]["code"]
                .as_str()
                .map(str::to_owned),
            dose,
            route,
            frequency,
            started_on: day(&resource["effectivePeriod"]["start"]),
            stopped_on: day(&resource["effectivePeriod"]["end"]),
            reason: resource["reasonCode"][0]["text"]
                .as_str()
                .map(str::to_owned),
            status: status.to_owned(),
            recorded_at: String::new(),
        }))
    }

    fn condition(
        &mut self,
        id: &str,
        resource: &Value,
        full_urls: &FullUrls,
    ) -> Mapped<ExportedRecord> {
        let patient = self.reference(&resource["subject"], "Patient", full_urls, "the subject")?;
        let status = if entered_in_error(resource) {
            "entered_in_error"
        } else {
            match resource["clinicalStatus"]["coding"][0]["code"].as_str() {
                Some("resolved" | "inactive" | "remission") => "resolved",
                _ => "active",
            }
        };
        let Some(description) = concept_text(&resource["code"]) else {
            return refuse("the Condition has no code or text");
        };
        let icd10 = resource["code"]["coding"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|coding| {
                coding["system"]
                    .as_str()
                    .is_some_and(|system| system.contains("icd-10"))
            })
            .find_map(|coding| coding["code"].as_str())
            .map(str::to_owned);
        Ok(ExportedRecord::Problem(ExportedProblem {
            id: id.to_owned(),
            patient_id: patient,
            description,
            icd10_code: icd10,
            onset: day(&resource["onsetDateTime"]),
            resolved_on: day(&resource["abatementDateTime"]),
            status: status.to_owned(),
            recorded_at: String::new(),
        }))
    }

    /// Everything read, observations grouped into vitals sets: those of one patient at one time
    /// form one set (a blood-pressure panel's id names it; otherwise an id made from both).
    pub fn finish(mut self) -> (Vec<ImportItem>, Vec<ImportRefusal>, BTreeMap<String, u64>) {
        let mut sets: HashMap<(String, String), String> = HashMap::new();
        for (_, observation) in &self.observations {
            if !observation.vitals_set_id.is_empty() {
                sets.insert(
                    (
                        observation.patient_id.clone(),
                        observation.effective_at.clone(),
                    ),
                    observation.vitals_set_id.clone(),
                );
            }
        }
        let observations = std::mem::take(&mut self.observations);
        for (place, mut observation) in observations {
            if observation.vitals_set_id.is_empty() {
                let key = (
                    observation.patient_id.clone(),
                    observation.effective_at.clone(),
                );
                let set = match sets.get(&key) {
                    Some(set) => set.clone(),
                    None => {
                        let set = self.store_id("VitalsSet", &format!("{}@{}", key.0, key.1));
                        sets.insert(key, set.clone());
                        set
                    }
                };
                observation.vitals_set_id = set;
            }
            self.items.push(ImportItem {
                place,
                record: ExportedRecord::Observation(observation),
            });
        }
        (self.items, self.refused, self.skipped)
    }
}

/// Whether an AllergyIntolerance or a Condition was entered in error (its verification status).
fn entered_in_error(resource: &Value) -> bool {
    resource["verificationStatus"]["coding"][0]["code"] == "entered-in-error"
}

/// The text of a CodeableConcept (its text, or its first coding's display or code).
fn concept_text(concept: &Value) -> Option<String> {
    concept["text"]
        .as_str()
        .or_else(|| concept["coding"][0]["display"].as_str())
        .or_else(|| concept["coding"][0]["code"].as_str())
        .map(str::to_owned)
        .filter(|text| !text.trim().is_empty())
}

/// The date (`YYYY-MM-DD`) of a FHIR date or dateTime; a year or month alone is no day.
fn day(value: &Value) -> Option<String> {
    value
        .as_str()
        .filter(|text| text.len() >= 10)
        .map(|text| text[..10].to_owned())
}
