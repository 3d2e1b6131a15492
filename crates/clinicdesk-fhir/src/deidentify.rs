//! The de-identified export for research and reporting: the FHIR resources of an export with the
//! 18 identifier kinds of the HIPAA Safe Harbor method (45 CFR 164.514(b)(2)) removed or
//! generalised, and a manifest that says what was done (docs/reference.md, "De-identified export").
//!
//! Dates are reduced to the year (Safe Harbor keeps no other element of a date; shifted dates are
//! still dates). Ids are replaced by pseudonyms made with a key drawn for this export and then
//! forgotten, so two exports cannot be linked to each other or to the store (the store's ids are
//! UUIDv7 and hold the time a record was made).

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use clinicdesk_core::{Error, ExportedClinic, ExportedRecord, Result};
use serde_json::{json, Map, Value};

use crate::{FhirWriter, NdjsonFiles, References};
use sha2::{Digest, Sha256};

/// The three-digit ZIP codes whose areas held 20 000 people or fewer (2000 census, as HHS lists
/// them for Safe Harbor): reported as `000`.
pub const SMALL_ZIP3_AREAS: [&str; 17] = [
    "036", "059", "063", "102", "203", "556", "692", "790", "821", "823", "830", "831", "878",
    "879", "884", "890", "893",
];

/// The extension that carries an appointment's year (its start and end are instants, which
/// cannot be reduced to a year).
pub const APPOINTMENT_YEAR_EXTENSION: &str = "urn:clinicdesk:fhir:deidentified-appointment-year";

/// Turns an export's resources into de-identified ones.
pub struct Deidentifier {
    key: [u8; 32],
    today: NaiveDate,
    export_id: String,
    left_out: BTreeMap<String, u64>,
    over_89: u64,
    small_zip_areas: u64,
}

impl Deidentifier {
    /// A new export's de-identifier: a pseudonym key from the operating system's random source;
    /// `today` decides who is over 89.
    pub fn new(today: NaiveDate) -> Deidentifier {
        let mut key = [0u8; 32];
        key[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        key[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        Deidentifier {
            key,
            today,
            export_id: uuid::Uuid::new_v4().to_string(),
            left_out: BTreeMap::new(),
            over_89: 0,
            small_zip_areas: 0,
        }
    }

    /// The pseudonym of a resource in this export.
    fn pseudonym(&self, resource_type: &str, id: &str) -> String {
        let digest = Sha256::new()
            .chain_update(self.key)
            .chain_update(resource_type.as_bytes())
            .chain_update(b"/")
            .chain_update(id.as_bytes())
            .finalize();
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .hyphenated()
            .to_string()
    }

    fn leave_out(&mut self, what: &str) {
        *self.left_out.entry(what.to_owned()).or_default() += 1;
    }

    /// The de-identified resource, or `None` when it is left out whole (notes: their free text is
    /// not de-identified by Clinicdesk).
    pub fn resource(&mut self, resource: Value) -> Option<Value> {
        let Value::Object(mut fields) = resource else {
            return None;
        };
        let kind = fields
            .get("resourceType")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if kind == "DocumentReference" {
            self.leave_out("DocumentReference (notes are free text)");
            return None;
        }
        if let Some(id) = fields.get("id").and_then(Value::as_str) {
            let pseudonym = self.pseudonym(&kind, id);
            fields.insert("id".into(), json!(pseudonym));
        }
        if let Some(Value::Object(meta)) = fields.get_mut("meta") {
            meta.remove("lastUpdated");
            if meta.is_empty() {
                fields.remove("meta");
            }
        }
        for (_, value) in fields.iter_mut() {
            self.rewrite_references(value);
        }
        match kind.as_str() {
            "Patient" => self.patient(&mut fields),
            "Practitioner" => {
                fields.remove("name");
            }
            "Appointment" => {
                let year = fields
                    .get("start")
                    .and_then(Value::as_str)
                    .map(|start| start[..4].to_owned());
                fields.remove("start");
                fields.remove("end");
                if let Some(year) = year {
                    fields.insert(
                        "extension".into(),
                        json!([{ "url": APPOINTMENT_YEAR_EXTENSION, "valueDate": year }]),
                    );
                }
                if fields.remove("reasonCode").is_some() {
                    self.leave_out("Appointment.reasonCode (free text)");
                }
                if fields.remove("cancelationReason").is_some() {
                    self.leave_out("Appointment.cancelationReason (free text)");
                }
            }
            "Observation" => {
                to_year(&mut fields, "effectiveDateTime");
                fields.remove("performer");
                if fields.remove("note").is_some() {
                    self.leave_out("Observation.note (free text)");
                }
            }
            "AllergyIntolerance" => {
                to_year(&mut fields, "onsetDateTime");
                to_year(&mut fields, "recordedDate");
            }
            "MedicationStatement" => {
                if let Some(Value::Object(period)) = fields.get_mut("effectivePeriod") {
                    to_year(period, "start");
                    to_year(period, "end");
                }
                to_year(&mut fields, "dateAsserted");
                if fields.remove("reasonCode").is_some() {
                    self.leave_out("MedicationStatement.reasonCode (free text)");
                }
            }
            "Condition" => {
                to_year(&mut fields, "onsetDateTime");
                to_year(&mut fields, "abatementDateTime");
                to_year(&mut fields, "recordedDate");
            }
            _ => {}
        }
        Some(Value::Object(fields))
    }

    /// Every `Type/id` reference in `value`, to the pseudonym; displays (names) are dropped.
    fn rewrite_references(&self, value: &mut Value) {
        match value {
            Value::Object(object) => {
                if let Some(Value::String(reference)) = object.get("reference") {
                    if let Some((kind, id)) = reference.split_once('/') {
                        let pseudonym = format!("{kind}/{}", self.pseudonym(kind, id));
                        object.insert("reference".into(), json!(pseudonym));
                    }
                    object.remove("display");
                }
                for (_, inner) in object.iter_mut() {
                    self.rewrite_references(inner);
                }
            }
            Value::Array(items) => {
                for item in items {
                    self.rewrite_references(item);
                }
            }
            _ => {}
        }
    }

    fn patient(&mut self, fields: &mut Map<String, Value>) {
        let id = fields.get("id").cloned().unwrap_or(Value::Null);
        fields.insert(
            "identifier".into(),
            json!([{ "system": format!("urn:clinicdesk:deidentified-export:{}", self.export_id), "value": id }]),
        );
        fields.remove("name");
        fields.remove("telecom");
        fields.remove("photo");
        fields.remove("contact");
        if let Some(birth) = fields
            .get("birthDate")
            .and_then(Value::as_str)
            .map(str::to_owned)
        {
            let age = NaiveDate::parse_from_str(&birth, "%Y-%m-%d")
                .ok()
                .and_then(|born| self.today.years_since(born));
            if age.is_some_and(|age| age > 89) {
                // Ages over 89 are one group: no year of birth at all.
                self.over_89 += 1;
                fields.remove("birthDate");
                fields.insert(
                    "_birthDate".into(),
                    json!({ "extension": [{ "url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "masked" }] }),
                );
            } else {
                fields.insert("birthDate".into(), json!(birth[..4]));
            }
        }
        let addresses: Vec<Value> = fields
            .remove("address")
            .and_then(|addresses| addresses.as_array().cloned())
            .unwrap_or_default()
            .iter()
            .map(|address| {
                let country = address["country"].as_str().unwrap_or("US");
                let mut kept = Map::new();
                if let Some(state) = address["state"].as_str() {
                    kept.insert("state".into(), json!(state));
                }
                // The first three digits of a US ZIP code, 000 where that area is small; postal
                // codes of other countries are left out.
                if country == "US" {
                    if let Some(zip) = address["postalCode"].as_str() {
                        let digits: String = zip.chars().take(3).collect();
                        if digits.len() == 3 && digits.chars().all(|c| c.is_ascii_digit()) {
                            if SMALL_ZIP3_AREAS.contains(&digits.as_str()) {
                                self.small_zip_areas += 1;
                                kept.insert("postalCode".into(), json!("000"));
                            } else {
                                kept.insert("postalCode".into(), json!(digits));
                            }
                        }
                    }
                }
                kept.insert("country".into(), json!(country));
                Value::Object(kept)
            })
            .collect();
        if !addresses.is_empty() {
            fields.insert("address".into(), json!(addresses));
        }
    }

    /// What was done, for `manifest.json` beside the files (`files`: resource type → count).
    pub fn manifest(&self, files: &BTreeMap<String, u64>) -> Value {
        json!({
            "method": "HIPAA Safe Harbor, 45 CFR 164.514(b)(2)",
            "export": self.export_id,
            "made_on_year": self.today.year(),
            "files": files,
            "left_out": self.left_out,
            "patients_aged_over_89": self.over_89,
            "addresses_in_small_zip_areas": self.small_zip_areas,
            "identifiers": [
                { "kind": "names", "done": "removed (patients; practitioners too)" },
                { "kind": "geographic subdivisions smaller than a state", "done": "street, city and county removed; the state kept; a US ZIP code cut to its first three digits, 000 where that area holds 20 000 people or fewer (the 17 areas HHS lists); other countries' postal codes removed" },
                { "kind": "dates (except the year) directly related to a patient", "done": "reduced to the year: birth, observations, onsets, recordings, medication periods; an appointment's start and end are removed and its year kept in an extension" },
                { "kind": "ages over 89", "done": "no birth year at all (birthDate masked, data-absent-reason)" },
                { "kind": "telephone numbers", "done": "removed" },
                { "kind": "fax numbers", "done": "none held; removed with telecom" },
                { "kind": "email addresses", "done": "removed" },
                { "kind": "social security numbers", "done": "none held" },
                { "kind": "medical record numbers", "done": "replaced by a pseudonym of this export" },
                { "kind": "health plan beneficiary numbers", "done": "none held" },
                { "kind": "account numbers", "done": "none held" },
                { "kind": "certificate or license numbers", "done": "none held" },
                { "kind": "vehicle identifiers", "done": "none held" },
                { "kind": "device identifiers", "done": "none held" },
                { "kind": "web URLs", "done": "none held" },
                { "kind": "IP addresses", "done": "none held" },
                { "kind": "biometric identifiers and photographs", "done": "none held; Patient.photo removed if present" },
                { "kind": "any other unique identifying number, characteristic or code", "done": "every resource id and reference replaced by a pseudonym made with a random key drawn for this export and not kept: two exports cannot be linked; store ids (which hold the time a record was made) never leave; staff names (performers, authors) removed" },
            ],
            "free_text": "notes (DocumentReference) are left out whole; appointment reasons, cancel reasons, medication reasons and entered-in-error reasons are removed. Names of substances, medications, problems and reactions are kept as clinical content.",
        })
    }
}

/// `field` (a FHIR date or dateTime) cut to its year.
fn to_year(fields: &mut Map<String, Value>, field: &str) {
    if let Some(Value::String(text)) = fields.get(field) {
        if text.len() >= 4 {
            let year = text[..4].to_owned();
            fields.insert(field.to_owned(), json!(year));
        }
    }
}

/// Writes a de-identified export of the records `export` hands over into `folder` (a new or empty
/// one): one NDJSON file per resource type and `manifest.json`; returns the manifest.
pub fn write_deidentified_export(
    folder: &std::path::Path,
    clinic: ExportedClinic,
    export: impl FnOnce(&mut dyn FnMut(ExportedRecord) -> Result<()>) -> Result<()>,
) -> Result<Value> {
    let today = NaiveDate::parse_from_str(&clinic.today, "%Y-%m-%d")
        .map_err(|error| Error::unexpected(format!("the clinic's date: {error}")))?;
    let mut files = NdjsonFiles::create(folder)?;
    let mut writer = FhirWriter::new(clinic, References::Relative);
    let mut deidentifier = Deidentifier::new(today);
    export(&mut |record| {
        writer
            .resources(record)
            .into_iter()
            .filter_map(|resource| deidentifier.resource(resource))
            .try_for_each(|resource| files.write(&resource))
    })?;
    for resource in writer.flush() {
        if let Some(resource) = deidentifier.resource(resource) {
            files.write(&resource)?;
        }
    }
    let counts = files.finish()?;
    let manifest = deidentifier.manifest(&counts);
    let path = folder.join("manifest.json");
    let text = serde_json::to_string_pretty(&manifest)
        .map_err(|error| Error::unexpected(format!("writing the manifest: {error}")))?;
    std::fs::write(&path, text)
        .map_err(|error| Error::unexpected(format!("{}: {error}", path.display())))?;
    Ok(manifest)
}
