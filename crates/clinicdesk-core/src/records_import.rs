//! Bringing records from another system into the store (the reading of FHIR is in
//! `clinicdesk-fhir`): the same record kinds an export hands over, checked one by one, written in
//! one recorded transaction (outbox and audit like every other change), never twice, and never
//! over a patient the store already holds under another record (likely duplicates are reported).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use clinicdesk_error::Result;
use clinicdesk_store::rusqlite::{OptionalExtension, ToSql};
use clinicdesk_store::sql_error;
use serde::{Deserialize, Serialize};

use crate::audit::{AuditOutcome, NewAuditEntry};
use crate::environment::{format_timestamp, parse_timestamp};
use crate::patients::{LikelyDuplicate, NewPatient, Sex};
use crate::permission::Permission;
use crate::recorded_write::RecordedWrite;
use crate::records_export::{ExportCounts, ExportedRecord};
use crate::session::Session;
use crate::tables::Table;
use crate::vital_signs::{check_plausible, VitalKind};

/// One record to import, with where it came from (`file:line`, or a Bundle entry), for the report.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportItem {
    pub place: String,
    pub record: ExportedRecord,
}

/// A record the import left out, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRefusal {
    pub place: String,
    pub reason: String,
}

/// A patient held back because the store already holds someone who looks the same (the
/// likely-duplicate rule of registration); nothing of theirs was imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportDuplicate {
    pub place: String,
    pub name: String,
    pub date_of_birth: String,
    pub candidates: Vec<LikelyDuplicate>,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    /// Records written now.
    pub created: ExportCounts,
    /// Records the store already held (an import run again creates nothing new).
    pub already_present: ExportCounts,
    pub likely_duplicates: Vec<ImportDuplicate>,
    pub refused: Vec<ImportRefusal>,
    /// Notes and vital signs whose author or recorder has no staff account of the same name here:
    /// they are recorded as written by the importing administrator.
    pub attributed_to_importer: u64,
}

impl ImportReport {
    fn refuse(&mut self, place: &str, reason: impl Into<String>) {
        self.refused.push(ImportRefusal {
            place: place.to_owned(),
            reason: reason.into(),
        });
    }
}

/// The order records are written in: what others refer to first.
fn rank(record: &ExportedRecord) -> u8 {
    match record {
        ExportedRecord::Provider(_) => 0,
        ExportedRecord::Patient(_) => 1,
        ExportedRecord::Appointment(_) => 2,
        ExportedRecord::Observation(_) => 3,
        ExportedRecord::Note(note) if note.parent_note_id.is_none() => 4,
        ExportedRecord::Note(_) => 5,
        ExportedRecord::Allergy(_) => 6,
        // After the allergies: when a source holds both for one patient, the store keeps the
        // allergy and refuses the "no known allergies" it contradicts, never the other way round.
        ExportedRecord::NoKnownAllergies(_) => 7,
        ExportedRecord::Medication(_) => 8,
        ExportedRecord::Problem(_) => 9,
    }
}

fn table_of(record: &ExportedRecord) -> Table {
    match record {
        ExportedRecord::Provider(_) => Table::Providers,
        ExportedRecord::Patient(_) => Table::Patients,
        ExportedRecord::Appointment(_) => Table::Appointments,
        ExportedRecord::Observation(_) => Table::VitalObservations,
        ExportedRecord::Note(_) => Table::Notes,
        ExportedRecord::Allergy(_) => Table::Allergies,
        ExportedRecord::NoKnownAllergies(_) => Table::AllergyConfirmations,
        ExportedRecord::Medication(_) => Table::Medications,
        ExportedRecord::Problem(_) => Table::Problems,
    }
}

fn id_of(record: &ExportedRecord) -> &str {
    match record {
        ExportedRecord::Provider(r) => &r.id,
        ExportedRecord::Patient(r) => &r.id,
        ExportedRecord::Appointment(r) => &r.id,
        ExportedRecord::Observation(r) => &r.id,
        ExportedRecord::Note(r) => &r.id,
        ExportedRecord::Allergy(r) => &r.id,
        ExportedRecord::NoKnownAllergies(r) => &r.id,
        ExportedRecord::Medication(r) => &r.id,
        ExportedRecord::Problem(r) => &r.id,
    }
}

/// A problem with one record: it is refused, the rest goes on.
struct Refused(String);

type Checked<T> = std::result::Result<T, Refused>;

fn refused<T>(reason: impl Into<String>) -> Checked<T> {
    Err(Refused(reason.into()))
}

/// A store timestamp from an RFC 3339 instant.
fn instant(field: &str, text: &str) -> Checked<String> {
    match parse_timestamp(text) {
        Some(at) => Ok(format_timestamp(at)),
        None => refused(format!("{field} {text:?} is not a date and time")),
    }
}

/// A `YYYY-MM-DD` date from 1900 on, not after `today`.
fn past_date(field: &str, text: &str, today: NaiveDate) -> Checked<String> {
    match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        Ok(date) if date.format("%Y-%m-%d").to_string() != text => {
            refused(format!("{field} {text:?} is not a date (YYYY-MM-DD)"))
        }
        Ok(date) if date > today => refused(format!("{field} {text} is in the future")),
        Ok(date) if date < NaiveDate::from_ymd_opt(1900, 1, 1).expect("a date") => {
            refused(format!("{field} {text} is before 1900"))
        }
        Ok(_) => Ok(text.to_owned()),
        Err(_) => refused(format!("{field} {text:?} is not a date (YYYY-MM-DD)")),
    }
}

fn optional_past_date(field: &str, text: &Option<String>, today: NaiveDate) -> Checked<()> {
    match text {
        Some(text) => past_date(field, text, today).map(drop),
        None => Ok(()),
    }
}

fn one_of(field: &str, value: &str, allowed: &[&str]) -> Checked<()> {
    if allowed.contains(&value) {
        Ok(())
    } else {
        refused(format!(
            "{field} {value:?} is not one of {}",
            allowed.join(", ")
        ))
    }
}

fn line(field: &str, value: &str, max: usize) -> Checked<()> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return refused(format!("{field} is empty"));
    }
    if trimmed.chars().count() > max {
        return refused(format!("{field} is longer than {max} characters"));
    }
    if trimmed.chars().any(crate::validation::is_forbidden_in_line) {
        return refused(format!("{field} holds control characters"));
    }
    Ok(())
}

/// What one import knows while it writes: the patients and providers it may refer to, and who
/// wrote what.
struct ImportContext {
    today: NaiveDate,
    importer: String,
    clinic_id: String,
    /// Patients written by this import, or already in the store (by id).
    patients_here: BTreeSet<String>,
    /// Patients of this import held back (likely duplicates, or refused): what refers to them is
    /// left out too, saying why.
    patients_held_back: BTreeMap<String, String>,
    /// Staff accounts by display name (for authors and recorders).
    staff_by_name: HashMap<String, String>,
}

impl ImportContext {
    fn patient(&self, write: &RecordedWrite<'_>, id: &str) -> Checked<()> {
        if let Some(why) = self.patients_held_back.get(id) {
            return refused(format!("its patient was not imported ({why})"));
        }
        if self.patients_here.contains(id) || exists(write, Table::Patients, id).unwrap_or(false) {
            return Ok(());
        }
        refused(format!(
            "it refers to patient {id}, who is neither in the import nor in this store"
        ))
    }

    fn staff(&self, name: Option<&str>, report: &mut ImportReport) -> String {
        match name.and_then(|name| self.staff_by_name.get(name)) {
            Some(id) => id.clone(),
            None => {
                report.attributed_to_importer += 1;
                self.importer.clone()
            }
        }
    }
}

fn exists(write: &RecordedWrite<'_>, table: Table, id: &str) -> Result<bool> {
    write
        .prepare_cached(&format!("SELECT 1 FROM {} WHERE id = ?1", table.name()))
        .and_then(|mut statement| statement.exists([id]))
        .map_err(sql_error("looking for an imported record"))
}

/// Runs one of the savepoint statements around a record (prepared once for the whole import).
fn savepoint(write: &RecordedWrite<'_>, statements: &[&str]) -> Result<()> {
    for sql in statements {
        write
            .prepare_cached(sql)
            .and_then(|mut statement| statement.execute([]))
            .map_err(sql_error("importing a record"))?;
    }
    Ok(())
}

fn checked_id(id: &str) -> Checked<()> {
    match uuid::Uuid::parse_str(id) {
        Ok(parsed) if parsed.hyphenated().to_string() == id => Ok(()),
        _ => refused(format!("its id {id:?} is not a lower-case UUID")),
    }
}

impl Session {
    /// Imports `items` into the store (`records.import`, administrators): providers, patients with
    /// their contact details, appointments, vital signs, notes, allergies, medications and
    /// problems. Each record is checked on its own; a refused one is listed with its place and
    /// reason and the rest goes on. A record whose id the store already holds is left as it is,
    /// so an import run twice creates nothing new. A patient who looks like one the store already
    /// held (registration's likely-duplicate rule) is reported, not imported, and never merged.
    /// Everything is written in one transaction and audited as `records.import`; the change
    /// journal records a gap instead of each row.
    /// `refused_on_reading` are the resources the reader could not use: they head the report's
    /// refusals and count in the audit entry.
    pub fn import_records(
        &mut self,
        mut items: Vec<ImportItem>,
        refused_on_reading: Vec<ImportRefusal>,
    ) -> Result<ImportReport> {
        let now = self.authorize("records.import", Some(Permission::RecordsImport), None)?;
        let zone = crate::scheduling::clinic_zone(self.connection()?)?;
        let today = now.with_timezone(&zone).date_naive();
        let importer = self.user().id.to_string();
        items.sort_by_key(|item| rank(&item.record));
        let mut report = ImportReport {
            refused: refused_on_reading,
            ..ImportReport::default()
        };
        self.write(|write| {
            let mut staff_by_name = HashMap::new();
            {
                let mut statement = write
                    .prepare("SELECT display_name, id FROM users ORDER BY created_at DESC")
                    .map_err(sql_error("reading staff accounts"))?;
                let rows = statement
                    .query_map([], |row| Ok((row.get::<_, String>(0)?, row.get(1)?)))
                    .map_err(sql_error("reading staff accounts"))?;
                for row in rows {
                    let (name, id) = row.map_err(sql_error("reading staff accounts"))?;
                    staff_by_name.insert(name, id);
                }
            }
            let mut context = ImportContext {
                today,
                importer: importer.clone(),
                clinic_id: crate::recorded_write::clinic_id(write)?,
                patients_here: BTreeSet::new(),
                patients_held_back: BTreeMap::new(),
                staff_by_name,
            };
            // Not journaled row by row (it would double the import's size): the journal records
            // a gap, so no point-in-time restore replays across the import.
            write.without_journal("records imported", |write| {
                for item in &items {
                    import_one(write, &mut context, &mut report, item)?;
                }
                Ok(())
            })?;
            let outcome = AuditOutcome::Success;
            write.audit(
                NewAuditEntry::new(now, write.actor(), "records.import", outcome).details(
                    serde_json::json!({
                        "created": report.created,
                        "already_present": report.already_present,
                        "likely_duplicates": report.likely_duplicates.len(),
                        "refused": report.refused.len(),
                        "attributed_to_importer": report.attributed_to_importer,
                    }),
                ),
            )?;
            Ok(())
        })?;
        Ok(report)
    }
}

/// Checks and writes one record (inside a savepoint: a row the store refuses leaves nothing).
fn import_one(
    write: &mut RecordedWrite<'_>,
    context: &mut ImportContext,
    report: &mut ImportReport,
    item: &ImportItem,
) -> Result<()> {
    let record = &item.record;
    if let Err(Refused(reason)) = checked_id(id_of(record)) {
        if let ExportedRecord::Patient(patient) = record {
            context
                .patients_held_back
                .insert(patient.id.clone(), "refused".into());
        }
        report.refuse(&item.place, reason);
        return Ok(());
    }
    if exists(write, table_of(record), id_of(record))? {
        if let ExportedRecord::Patient(patient) = record {
            context.patients_here.insert(patient.id.clone());
        }
        report.already_present.count(record);
        return Ok(());
    }
    savepoint(write, &["SAVEPOINT import_record"])?;
    let outcome = write_record(write, context, report, item);
    match outcome {
        Ok(Ok(true)) => {
            savepoint(write, &["RELEASE import_record"])?;
            report.created.count(record);
            Ok(())
        }
        Ok(Ok(false)) => {
            // Held back (a likely duplicate): already reported.
            savepoint(
                write,
                &["ROLLBACK TO import_record", "RELEASE import_record"],
            )?;
            Ok(())
        }
        Ok(Err(Refused(reason))) => {
            savepoint(
                write,
                &["ROLLBACK TO import_record", "RELEASE import_record"],
            )?;
            if let ExportedRecord::Patient(patient) = record {
                context
                    .patients_held_back
                    .insert(patient.id.clone(), "refused".into());
            }
            report.refuse(&item.place, reason);
            Ok(())
        }
        Err(error) => {
            savepoint(
                write,
                &["ROLLBACK TO import_record", "RELEASE import_record"],
            )?;
            // A row the store's own checks refuse is this record's problem, not the import's.
            if error.code != crate::ErrorCode::IntegrityFailure {
                if let ExportedRecord::Patient(patient) = record {
                    context
                        .patients_held_back
                        .insert(patient.id.clone(), "refused".into());
                }
                report.refuse(
                    &item.place,
                    format!("the store refused it: {}", error.message),
                );
                Ok(())
            } else {
                Err(error)
            }
        }
    }
}

/// Writes one record; `Ok(Ok(false))` when it is held back as a likely duplicate.
fn write_record(
    write: &mut RecordedWrite<'_>,
    context: &mut ImportContext,
    report: &mut ImportReport,
    item: &ImportItem,
) -> Result<Checked<bool>> {
    let today = context.today;
    match &item.record {
        ExportedRecord::Provider(provider) => {
            if let Err(refusal) = line("the practitioner's name", &provider.display_name, 200) {
                return Ok(Err(refusal));
            }
            write.insert_row_with_id(
                Table::Providers,
                &provider.id,
                &[
                    ("clinic_id", &context.clinic_id),
                    ("display_name", &provider.display_name.trim()),
                    ("specialty", &provider.specialty),
                ],
            )?;
        }
        ExportedRecord::Patient(patient) => {
            let checks = (|| -> Checked<Sex> {
                line("the given name", &patient.given_name, 100)?;
                line("the family name", &patient.family_name, 100)?;
                past_date("the birth date", &patient.date_of_birth, today)?;
                one_of(
                    "the gender",
                    &patient.sex,
                    &["female", "male", "other", "unknown"],
                )?;
                Ok(Sex::from_code(&patient.sex).unwrap_or(Sex::Unknown))
            })();
            let sex = match checks {
                Ok(sex) => sex,
                Err(refusal) => return Ok(Err(refusal)),
            };
            let new = NewPatient {
                given_name: patient.given_name.trim().to_owned(),
                family_name: patient.family_name.trim().to_owned(),
                date_of_birth: patient.date_of_birth.clone(),
                sex,
                phone: None,
                restricted: false,
            };
            let digits: Option<String> = patient
                .phones
                .first()
                .map(|phone| phone.value.chars().filter(char::is_ascii_digit).collect());
            let candidates: Vec<LikelyDuplicate> =
                crate::patients::likely_duplicates(write, &new, digits.as_deref())?
                    .into_iter()
                    .filter(|candidate| {
                        !context
                            .patients_here
                            .contains(candidate.patient_id.as_str())
                    })
                    .collect();
            let mrn_owner: Option<String> = if crate::mrn::is_valid(&patient.mrn) {
                write
                    .query_row(
                        "SELECT id FROM patients WHERE mrn = ?1",
                        [&patient.mrn],
                        |row| row.get(0),
                    )
                    .optional()
                    .map_err(sql_error("checking an MRN"))?
            } else {
                None
            };
            if !candidates.is_empty() {
                context
                    .patients_held_back
                    .insert(patient.id.clone(), "a likely duplicate".into());
                report.likely_duplicates.push(ImportDuplicate {
                    place: item.place.clone(),
                    name: format!("{} {}", new.given_name, new.family_name),
                    date_of_birth: new.date_of_birth.clone(),
                    candidates,
                });
                return Ok(Ok(false));
            }
            // The record's own MRN when it is one of ours and free; a new one otherwise.
            let mrn = if crate::mrn::is_valid(&patient.mrn) && mrn_owner.is_none() {
                patient.mrn.clone()
            } else {
                crate::patients::unused_mrn(write)?
            };
            let middle = patient.middle_name.as_deref().map(str::trim);
            let preferred = patient.preferred_name.as_deref().map(str::trim);
            write.insert_row_with_id(
                Table::Patients,
                &patient.id,
                &[
                    ("clinic_id", &context.clinic_id),
                    ("mrn", &mrn),
                    ("given_name", &new.given_name),
                    ("middle_name", &middle),
                    ("family_name", &new.family_name),
                    ("preferred_name", &preferred),
                    ("date_of_birth", &new.date_of_birth),
                    ("sex", &new.sex.code()),
                ],
            )?;
            for phone in &patient.phones {
                let digits: String = phone.value.chars().filter(char::is_ascii_digit).collect();
                let kind = if ["mobile", "home", "work"].contains(&phone.kind.as_str()) {
                    phone.kind.as_str()
                } else {
                    "other"
                };
                if !(3..=20).contains(&digits.len()) {
                    return Ok(refused(format!(
                        "the phone number {:?} does not have 3 to 20 digits",
                        phone.value
                    )));
                }
                write.insert_row(
                    Table::PatientPhones,
                    &[
                        ("patient_id", &patient.id),
                        ("kind", &kind),
                        ("number", &phone.value.trim()),
                        ("digits", &digits),
                        ("is_primary", &phone.primary),
                    ],
                )?;
            }
            for email in &patient.emails {
                let kind = if ["personal", "work"].contains(&email.kind.as_str()) {
                    email.kind.as_str()
                } else {
                    "other"
                };
                write.insert_row(
                    Table::PatientEmails,
                    &[
                        ("patient_id", &patient.id),
                        ("kind", &kind),
                        ("address", &email.value.trim()),
                    ],
                )?;
            }
            for address in &patient.addresses {
                let kind = if ["home", "work", "mailing"].contains(&address.kind.as_str()) {
                    address.kind.as_str()
                } else {
                    "other"
                };
                let country = address.country.clone().unwrap_or_else(|| "US".into());
                write.insert_row(
                    Table::PatientAddresses,
                    &[
                        ("patient_id", &patient.id),
                        ("kind", &kind),
                        ("line1", &address.line1),
                        ("line2", &address.line2),
                        ("city", &address.city),
                        ("region", &address.region),
                        ("postal_code", &address.postal_code),
                        ("country", &country),
                    ],
                )?;
            }
            context.patients_here.insert(patient.id.clone());
        }
        ExportedRecord::Appointment(appointment) => {
            let checks = (|| -> Checked<(String, String)> {
                context.patient(write, &appointment.patient_id)?;
                if !exists(write, Table::Providers, &appointment.provider_id).unwrap_or(false) {
                    return refused(format!(
                        "it refers to practitioner {}, who is neither in the import nor in this store",
                        appointment.provider_id
                    ));
                }
                let starts = instant("the start", &appointment.starts_at)?;
                let ends = instant("the end", &appointment.ends_at)?;
                if ends <= starts {
                    return refused("it ends before it starts");
                }
                one_of(
                    "the status",
                    &appointment.status,
                    &[
                        "booked",
                        "arrived",
                        "in_progress",
                        "completed",
                        "cancelled",
                        "no_show",
                    ],
                )?;
                if let Some(reason) = &appointment.reason {
                    line("the reason", reason, 500)?;
                }
                Ok((starts, ends))
            })();
            let (starts, ends) = match checks {
                Ok(times) => times,
                Err(refusal) => return Ok(Err(refusal)),
            };
            let type_id = match &appointment.appointment_type {
                Some(name) => Some(appointment_type(
                    write,
                    &context.clinic_id,
                    name,
                    &starts,
                    &ends,
                )?),
                None => None,
            };
            write.insert_row_with_id(
                Table::Appointments,
                &appointment.id,
                &[
                    ("clinic_id", &context.clinic_id),
                    ("patient_id", &appointment.patient_id),
                    ("provider_id", &appointment.provider_id),
                    ("appointment_type_id", &type_id),
                    ("starts_at", &starts),
                    ("ends_at", &ends),
                    ("status", &appointment.status),
                    ("reason", &appointment.reason),
                    ("cancel_reason", &appointment.cancel_reason),
                ],
            )?;
        }
        ExportedRecord::Observation(observation) => {
            let checks = (|| -> Checked<(String, VitalKind)> {
                context.patient(write, &observation.patient_id)?;
                let effective = instant("the time", &observation.effective_at)?;
                let Some(kind) = VitalKind::from_loinc(&observation.loinc_code) else {
                    return refused(format!(
                        "LOINC {} is not a vital sign Clinicdesk records",
                        observation.loinc_code
                    ));
                };
                let definition = kind.definition();
                if observation.unit != definition.unit {
                    return refused(format!(
                        "{} is in {:?}; Clinicdesk records it in {}",
                        definition.label, observation.unit, definition.unit
                    ));
                }
                if let Err(error) = check_plausible(kind, observation.value) {
                    return refused(error.message);
                }
                if let Some(flag) = &observation.interpretation {
                    one_of(
                        "the interpretation",
                        flag,
                        &["normal", "low", "high", "critical_low", "critical_high"],
                    )?;
                }
                one_of(
                    "the status",
                    &observation.status,
                    &["final", "entered_in_error"],
                )?;
                checked_id(&observation.vitals_set_id)?;
                Ok((effective, kind))
            })();
            let (effective, _) = match checks {
                Ok(checked) => checked,
                Err(refusal) => return Ok(Err(refusal)),
            };
            if !exists(write, Table::VitalsSets, &observation.vitals_set_id)? {
                let recorder = context.staff(observation.recorded_by.as_deref(), report);
                write.insert_row_with_id(
                    Table::VitalsSets,
                    &observation.vitals_set_id,
                    &[
                        ("patient_id", &observation.patient_id),
                        ("recorded_by", &recorder),
                        ("effective_at", &effective),
                    ],
                )?;
            }
            let reason = (observation.status == "entered_in_error").then(|| {
                observation
                    .entered_in_error_reason
                    .clone()
                    .unwrap_or_else(|| "marked entered-in-error in the system it came from".into())
            });
            write.insert_row_with_id(
                Table::VitalObservations,
                &observation.id,
                &[
                    ("vitals_set_id", &observation.vitals_set_id),
                    ("patient_id", &observation.patient_id),
                    ("effective_at", &effective),
                    ("loinc_code", &observation.loinc_code),
                    ("value", &observation.value),
                    ("unit", &observation.unit),
                    ("interpretation", &observation.interpretation),
                    ("status", &observation.status),
                    ("entered_in_error_reason", &reason),
                ],
            )?;
        }
        ExportedRecord::Note(note) => {
            let checks = (|| -> Checked<String> {
                context.patient(write, &note.patient_id)?;
                let written = instant("the date", &note.written_at)?;
                one_of("the kind", &note.kind, &["clinical", "nursing"])?;
                one_of("the status", &note.status, &["final", "entered_in_error"])?;
                if note.body.trim().is_empty() {
                    return refused("the note has no text");
                }
                if let Some(parent) = &note.parent_note_id {
                    if !exists(write, Table::Notes, parent).unwrap_or(false) {
                        return refused(format!(
                            "it adds to note {parent}, which is neither in the import nor in this store"
                        ));
                    }
                }
                Ok(written)
            })();
            let written = match checks {
                Ok(written) => written,
                Err(refusal) => return Ok(Err(refusal)),
            };
            let author =
                context.staff(Some(note.author.as_str()).filter(|a| !a.is_empty()), report);
            let reason = (note.status == "entered_in_error")
                .then_some("marked entered-in-error in the system it came from");
            write.insert_row_with_id(
                Table::Notes,
                &note.id,
                &[
                    ("patient_id", &note.patient_id),
                    ("author_id", &author),
                    ("kind", &note.kind),
                    ("parent_note_id", &note.parent_note_id),
                    ("title", &note.title),
                    ("body", &note.body),
                    ("written_at", &written),
                    ("status", &note.status),
                    ("entered_in_error_reason", &reason),
                ],
            )?;
        }
        ExportedRecord::Allergy(allergy) => {
            let checks = (|| -> Checked<()> {
                context.patient(write, &allergy.patient_id)?;
                line("the substance", &allergy.substance, 200)?;
                one_of(
                    "the category",
                    &allergy.category,
                    &["food", "medication", "environment"],
                )?;
                one_of(
                    "the status",
                    &allergy.status,
                    &["active", "inactive", "entered_in_error"],
                )?;
                optional_past_date("the onset", &allergy.onset, today)?;
                Ok(())
            })();
            if let Err(refusal) = checks {
                return Ok(Err(refusal));
            }
            let reason = (allergy.status == "entered_in_error")
                .then_some("marked entered-in-error in the system it came from");
            let values: [(&str, &dyn ToSql); 10] = [
                ("patient_id", &allergy.patient_id),
                ("substance", &allergy.substance),
                ("substance_code", &allergy.substance_code),
                ("category", &allergy.category),
                ("reaction", &allergy.reaction),
                ("severity", &allergy.severity),
                ("criticality", &allergy.criticality),
                ("onset", &allergy.onset),
                ("status", &allergy.status),
                ("entered_in_error_reason", &reason),
            ];
            write.insert_row_with_id(Table::Allergies, &allergy.id, &values)?;
        }
        ExportedRecord::NoKnownAllergies(confirmation) => {
            let checks = (|| -> Checked<()> {
                context.patient(write, &confirmation.patient_id)?;
                one_of(
                    "the status",
                    &confirmation.status,
                    &["active", "inactive", "entered_in_error"],
                )?;
                Ok(())
            })();
            if let Err(refusal) = checks {
                return Ok(Err(refusal));
            }
            let status = match confirmation.status.as_str() {
                "active" => "current",
                "inactive" => "withdrawn",
                _ => "entered_in_error",
            };
            let reason = (status == "entered_in_error")
                .then_some("marked entered-in-error in the system it came from");
            let values: [(&str, &dyn ToSql); 3] = [
                ("patient_id", &confirmation.patient_id),
                ("status", &status),
                ("entered_in_error_reason", &reason),
            ];
            write.insert_row_with_id(Table::AllergyConfirmations, &confirmation.id, &values)?;
        }
        ExportedRecord::Medication(medication) => {
            let checks = (|| -> Checked<()> {
                context.patient(write, &medication.patient_id)?;
                line("the medication", &medication.name, 200)?;
                one_of(
                    "the status",
                    &medication.status,
                    &["active", "stopped", "entered_in_error"],
                )?;
                optional_past_date("the start", &medication.started_on, today)?;
                optional_past_date("the end", &medication.stopped_on, today)?;
                Ok(())
            })();
            if let Err(refusal) = checks {
                return Ok(Err(refusal));
            }
            let reason = (medication.status == "entered_in_error")
                .then_some("marked entered-in-error in the system it came from");
            let values: [(&str, &dyn ToSql); 11] = [
                ("patient_id", &medication.patient_id),
                ("name", &medication.name),
                ("code", &medication.code),
                ("dose", &medication.dose),
                ("route", &medication.route),
                ("frequency", &medication.frequency),
                ("started_on", &medication.started_on),
                ("stopped_on", &medication.stopped_on),
                ("reason", &medication.reason),
                ("status", &medication.status),
                ("entered_in_error_reason", &reason),
            ];
            write.insert_row_with_id(Table::Medications, &medication.id, &values)?;
        }
        ExportedRecord::Problem(problem) => {
            let checks = (|| -> Checked<()> {
                context.patient(write, &problem.patient_id)?;
                line("the problem", &problem.description, 200)?;
                one_of(
                    "the status",
                    &problem.status,
                    &["active", "resolved", "entered_in_error"],
                )?;
                optional_past_date("the onset", &problem.onset, today)?;
                optional_past_date("the resolution date", &problem.resolved_on, today)?;
                Ok(())
            })();
            if let Err(refusal) = checks {
                return Ok(Err(refusal));
            }
            let reason = (problem.status == "entered_in_error")
                .then_some("marked entered-in-error in the system it came from");
            let values: [(&str, &dyn ToSql); 7] = [
                ("patient_id", &problem.patient_id),
                ("description", &problem.description),
                ("icd10_code", &problem.icd10_code),
                ("onset", &problem.onset),
                ("resolved_on", &problem.resolved_on),
                ("status", &problem.status),
                ("entered_in_error_reason", &reason),
            ];
            write.insert_row_with_id(Table::Problems, &problem.id, &values)?;
        }
    }
    Ok(Ok(true))
}

/// The appointment type named `name`, added (with the appointment's length) when the clinic has
/// none of that name.
fn appointment_type(
    write: &mut RecordedWrite<'_>,
    clinic_id: &str,
    name: &str,
    starts: &str,
    ends: &str,
) -> Result<String> {
    let found: Option<String> = write
        .query_row(
            "SELECT id FROM appointment_types WHERE name = ?1 AND deleted_at IS NULL",
            [name],
            |row| row.get(0),
        )
        .optional()
        .map_err(sql_error("finding an appointment type"))?;
    if let Some(id) = found {
        return Ok(id);
    }
    let minutes = match (parse_timestamp(starts), parse_timestamp(ends)) {
        (Some(start), Some(end)) => (end - start).num_minutes().clamp(5, 480),
        _ => 20,
    };
    write.insert_row(
        Table::AppointmentTypes,
        &[
            ("clinic_id", &clinic_id),
            ("name", &name),
            ("default_minutes", &minutes),
        ],
    )
}
