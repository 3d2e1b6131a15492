//! Reading a clinic's records out whole, for an export (FHIR, in `clinicdesk-fhir`): the whole
//! clinic for managers, one patient's chart for clinicians (and managers), each audited with the
//! patients concerned. Records are handed over one at a time, parents first (providers, then each
//! patient followed by everything of theirs), so an export of any size runs in bounded memory.

use clinicdesk_error::Result;
use clinicdesk_store::rusqlite::{Connection, Row};
use clinicdesk_store::sql_error;
use serde::{Deserialize, Serialize};

use crate::audit::{AuditOutcome, NewAuditEntry};
use crate::permission::Permission;
use crate::session::Session;

/// What to export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportScope {
    /// Every patient of the clinic (not merged away, not deleted), its providers, and everything
    /// in the charts (`records.export`, managers).
    WholeClinic,
    /// [`ExportScope::WholeClinic`] for a de-identified export (the caller de-identifies; the
    /// audit entry says it was one).
    WholeClinicDeidentified,
    /// One patient's chart, by MRN (`records.export_patient`: clinicians and managers; a restricted
    /// chart only for its care team or with emergency access).
    Patient(String),
}

/// The clinic the records belong to (identifier systems are made from its id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedClinic {
    pub id: String,
    pub name: String,
    pub time_zone: String,
    /// The clinic's date when the export was made (`YYYY-MM-DD`).
    pub today: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedContact {
    /// The store's kind (`mobile`, `home`, `work`, …).
    pub kind: String,
    pub value: String,
    pub primary: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedAddress {
    pub kind: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedPatient {
    pub id: String,
    pub mrn: String,
    pub given_name: String,
    pub middle_name: Option<String>,
    pub family_name: String,
    pub preferred_name: Option<String>,
    /// `YYYY-MM-DD`.
    pub date_of_birth: String,
    /// The store's code: `female`, `male`, `other`, `unknown`.
    pub sex: String,
    pub phones: Vec<ExportedContact>,
    pub emails: Vec<ExportedContact>,
    pub addresses: Vec<ExportedAddress>,
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedProvider {
    pub id: String,
    pub display_name: String,
    pub specialty: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedAppointment {
    pub id: String,
    pub patient_id: String,
    pub provider_id: String,
    pub appointment_type: Option<String>,
    /// RFC 3339, UTC.
    pub starts_at: String,
    pub ends_at: String,
    /// The store's code (`booked`, `arrived`, `in_progress`, `completed`, `cancelled`, `no_show`).
    pub status: String,
    pub reason: Option<String>,
    pub cancel_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportedObservation {
    pub id: String,
    pub patient_id: String,
    pub vitals_set_id: String,
    pub effective_at: String,
    pub loinc_code: String,
    pub value: f64,
    /// UCUM.
    pub unit: String,
    /// `normal`, `low`, `high`, `critical_low`, `critical_high`, if flagged.
    pub interpretation: Option<String>,
    /// `final` or `entered_in_error`.
    pub status: String,
    pub entered_in_error_reason: Option<String>,
    pub recorded_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedNote {
    pub id: String,
    pub patient_id: String,
    pub author: String,
    /// `clinical` or `nursing`.
    pub kind: String,
    /// An addendum's note.
    pub parent_note_id: Option<String>,
    pub title: Option<String>,
    pub body: String,
    pub written_at: String,
    /// `final` or `entered_in_error`.
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedAllergy {
    pub id: String,
    pub patient_id: String,
    pub substance: String,
    pub substance_code: Option<String>,
    pub category: String,
    pub reaction: Option<String>,
    pub severity: Option<String>,
    pub criticality: Option<String>,
    pub onset: Option<String>,
    /// `active`, `inactive`, `entered_in_error`.
    pub status: String,
    pub recorded_at: String,
}

/// A patient's recorded "no known allergies" (asked, and none found), as the chart keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedNoKnownAllergies {
    pub id: String,
    pub patient_id: String,
    /// `active` while it stands, `inactive` once withdrawn, `entered_in_error`.
    pub status: String,
    pub recorded_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedMedication {
    pub id: String,
    pub patient_id: String,
    pub name: String,
    pub code: Option<String>,
    pub dose: Option<String>,
    pub route: Option<String>,
    pub frequency: Option<String>,
    pub started_on: Option<String>,
    pub stopped_on: Option<String>,
    pub reason: Option<String>,
    /// `active`, `stopped`, `entered_in_error`.
    pub status: String,
    pub recorded_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedProblem {
    pub id: String,
    pub patient_id: String,
    pub description: String,
    pub icd10_code: Option<String>,
    pub onset: Option<String>,
    pub resolved_on: Option<String>,
    /// `active`, `resolved`, `entered_in_error`.
    pub status: String,
    pub recorded_at: String,
}

/// One record of an export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ExportedRecord {
    Provider(ExportedProvider),
    Patient(ExportedPatient),
    Appointment(ExportedAppointment),
    Observation(ExportedObservation),
    Note(ExportedNote),
    Allergy(ExportedAllergy),
    NoKnownAllergies(ExportedNoKnownAllergies),
    Medication(ExportedMedication),
    Problem(ExportedProblem),
}

/// How many records of each kind an export handed over.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportCounts {
    pub providers: u64,
    pub patients: u64,
    pub appointments: u64,
    pub observations: u64,
    pub notes: u64,
    pub allergies: u64,
    pub medications: u64,
    pub problems: u64,
}

impl ExportCounts {
    pub(crate) fn count(&mut self, record: &ExportedRecord) {
        let counter = match record {
            ExportedRecord::Provider(_) => &mut self.providers,
            ExportedRecord::Patient(_) => &mut self.patients,
            ExportedRecord::Appointment(_) => &mut self.appointments,
            ExportedRecord::Observation(_) => &mut self.observations,
            ExportedRecord::Note(_) => &mut self.notes,
            ExportedRecord::Allergy(_) | ExportedRecord::NoKnownAllergies(_) => &mut self.allergies,
            ExportedRecord::Medication(_) => &mut self.medications,
            ExportedRecord::Problem(_) => &mut self.problems,
        };
        *counter += 1;
    }
}

fn text(row: &Row<'_>, index: usize) -> clinicdesk_store::rusqlite::Result<Option<String>> {
    Ok(row
        .get::<_, Option<String>>(index)?
        .filter(|value| !value.is_empty()))
}

/// Runs `query` with `patient_id` and hands each mapped row to `visit`.
fn each_row(
    connection: &Connection,
    query: &str,
    patient_id: &str,
    what: &'static str,
    map: impl Fn(&Row<'_>) -> clinicdesk_store::rusqlite::Result<ExportedRecord>,
    visit: &mut dyn FnMut(ExportedRecord) -> Result<()>,
) -> Result<()> {
    let mut statement = connection.prepare_cached(query).map_err(sql_error(what))?;
    let mut rows = statement.query([patient_id]).map_err(sql_error(what))?;
    while let Some(row) = rows.next().map_err(sql_error(what))? {
        visit(map(row).map_err(sql_error(what))?)?;
    }
    Ok(())
}

fn contacts(
    connection: &Connection,
    query: &str,
    patient_id: &str,
) -> Result<Vec<ExportedContact>> {
    let mut statement = connection
        .prepare_cached(query)
        .map_err(sql_error("reading contact details"))?;
    let found = statement
        .query_map([patient_id], |row| {
            Ok(ExportedContact {
                kind: row.get(0)?,
                value: row.get(1)?,
                primary: row.get(2)?,
            })
        })
        .map_err(sql_error("reading contact details"))?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(sql_error("reading contact details"))?;
    Ok(found)
}

fn patient(connection: &Connection, patient_id: &str) -> Result<ExportedPatient> {
    let mut patient = connection
        .query_row(
            "SELECT id, mrn, given_name, middle_name, family_name, preferred_name, date_of_birth, sex, updated_at
             FROM patients WHERE id = ?1",
            [patient_id],
            |row| {
                Ok(ExportedPatient {
                    id: row.get(0)?,
                    mrn: row.get(1)?,
                    given_name: row.get(2)?,
                    middle_name: text(row, 3)?,
                    family_name: row.get(4)?,
                    preferred_name: text(row, 5)?,
                    date_of_birth: row.get(6)?,
                    sex: row.get(7)?,
                    phones: Vec::new(),
                    emails: Vec::new(),
                    addresses: Vec::new(),
                    updated_at: row.get(8)?,
                })
            },
        )
        .map_err(sql_error("reading a patient"))?;
    patient.phones = contacts(
        connection,
        "SELECT kind, number, is_primary FROM patient_phones WHERE patient_id = ?1 AND deleted_at IS NULL ORDER BY is_primary DESC, id",
        patient_id,
    )?;
    patient.emails = contacts(
        connection,
        "SELECT kind, address, 0 FROM patient_emails WHERE patient_id = ?1 AND deleted_at IS NULL ORDER BY id",
        patient_id,
    )?;
    let mut statement = connection
        .prepare_cached(
            "SELECT kind, line1, line2, city, region, postal_code, country FROM patient_addresses
             WHERE patient_id = ?1 AND deleted_at IS NULL ORDER BY id",
        )
        .map_err(sql_error("reading addresses"))?;
    patient.addresses = statement
        .query_map([patient_id], |row| {
            Ok(ExportedAddress {
                kind: row.get(0)?,
                line1: row.get(1)?,
                line2: text(row, 2)?,
                city: row.get(3)?,
                region: text(row, 4)?,
                postal_code: text(row, 5)?,
                country: text(row, 6)?,
            })
        })
        .map_err(sql_error("reading addresses"))?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(sql_error("reading addresses"))?;
    Ok(patient)
}

/// Hands over one patient and everything in their chart.
fn patient_and_chart(
    connection: &Connection,
    patient_id: &str,
    visit: &mut dyn FnMut(ExportedRecord) -> Result<()>,
) -> Result<()> {
    visit(ExportedRecord::Patient(patient(connection, patient_id)?))?;
    each_row(
        connection,
        "SELECT a.id, a.patient_id, a.provider_id, t.name, a.starts_at, a.ends_at, a.status, a.reason, a.cancel_reason
         FROM appointments a LEFT JOIN appointment_types t ON t.id = a.appointment_type_id
         WHERE a.patient_id = ?1 AND a.deleted_at IS NULL ORDER BY a.starts_at, a.id",
        patient_id,
        "reading appointments",
        |row| {
            Ok(ExportedRecord::Appointment(ExportedAppointment {
                id: row.get(0)?,
                patient_id: row.get(1)?,
                provider_id: row.get(2)?,
                appointment_type: text(row, 3)?,
                starts_at: row.get(4)?,
                ends_at: row.get(5)?,
                status: row.get(6)?,
                reason: text(row, 7)?,
                cancel_reason: text(row, 8)?,
            }))
        },
        visit,
    )?;
    each_row(
        connection,
        "SELECT o.id, o.patient_id, o.vitals_set_id, o.effective_at, o.loinc_code, o.value, o.unit,
                o.interpretation, o.status, o.entered_in_error_reason, u.display_name
         FROM vital_observations o JOIN vitals_sets s ON s.id = o.vitals_set_id
         LEFT JOIN users u ON u.id = s.recorded_by
         WHERE o.patient_id = ?1 AND o.deleted_at IS NULL ORDER BY o.effective_at, o.id",
        patient_id,
        "reading vital signs",
        |row| {
            Ok(ExportedRecord::Observation(ExportedObservation {
                id: row.get(0)?,
                patient_id: row.get(1)?,
                vitals_set_id: row.get(2)?,
                effective_at: row.get(3)?,
                loinc_code: row.get(4)?,
                value: row.get(5)?,
                unit: row.get(6)?,
                interpretation: text(row, 7)?,
                status: row.get(8)?,
                entered_in_error_reason: text(row, 9)?,
                recorded_by: text(row, 10)?,
            }))
        },
        visit,
    )?;
    each_row(
        connection,
        "SELECT n.id, n.patient_id, COALESCE(u.display_name, ''), n.kind, n.parent_note_id, n.title, n.body,
                n.written_at, n.status
         FROM notes n LEFT JOIN users u ON u.id = n.author_id
         WHERE n.patient_id = ?1 AND n.deleted_at IS NULL ORDER BY n.written_at, n.id",
        patient_id,
        "reading notes",
        |row| {
            Ok(ExportedRecord::Note(ExportedNote {
                id: row.get(0)?,
                patient_id: row.get(1)?,
                author: row.get(2)?,
                kind: row.get(3)?,
                parent_note_id: text(row, 4)?,
                title: text(row, 5)?,
                body: row.get(6)?,
                written_at: row.get(7)?,
                status: row.get(8)?,
            }))
        },
        visit,
    )?;
    each_row(
        connection,
        "SELECT id, patient_id,
                CASE status WHEN 'current' THEN 'active' WHEN 'withdrawn' THEN 'inactive' ELSE status END,
                created_at
         FROM allergy_confirmations WHERE patient_id = ?1 AND deleted_at IS NULL ORDER BY created_at, id",
        patient_id,
        "reading allergy confirmations",
        |row| {
            Ok(ExportedRecord::NoKnownAllergies(ExportedNoKnownAllergies {
                id: row.get(0)?,
                patient_id: row.get(1)?,
                status: row.get(2)?,
                recorded_at: row.get(3)?,
            }))
        },
        visit,
    )?;
    each_row(
        connection,
        "SELECT id, patient_id, substance, substance_code, category, reaction, severity, criticality, onset, status, created_at
         FROM allergies WHERE patient_id = ?1 AND deleted_at IS NULL ORDER BY created_at, id",
        patient_id,
        "reading allergies",
        |row| {
            Ok(ExportedRecord::Allergy(ExportedAllergy {
                id: row.get(0)?,
                patient_id: row.get(1)?,
                substance: row.get(2)?,
                substance_code: text(row, 3)?,
                category: row.get(4)?,
                reaction: text(row, 5)?,
                severity: text(row, 6)?,
                criticality: text(row, 7)?,
                onset: text(row, 8)?,
                status: row.get(9)?,
                recorded_at: row.get(10)?,
            }))
        },
        visit,
    )?;
    each_row(
        connection,
        "SELECT id, patient_id, name, code, dose, route, frequency, started_on, stopped_on, reason, status, created_at
         FROM medications WHERE patient_id = ?1 AND deleted_at IS NULL ORDER BY created_at, id",
        patient_id,
        "reading medications",
        |row| {
            Ok(ExportedRecord::Medication(ExportedMedication {
                id: row.get(0)?,
                patient_id: row.get(1)?,
                name: row.get(2)?,
                code: text(row, 3)?,
                dose: text(row, 4)?,
                route: text(row, 5)?,
                frequency: text(row, 6)?,
                started_on: text(row, 7)?,
                stopped_on: text(row, 8)?,
                reason: text(row, 9)?,
                status: row.get(10)?,
                recorded_at: row.get(11)?,
            }))
        },
        visit,
    )?;
    each_row(
        connection,
        "SELECT id, patient_id, description, icd10_code, onset, resolved_on, status, created_at
         FROM problems WHERE patient_id = ?1 AND deleted_at IS NULL ORDER BY created_at, id",
        patient_id,
        "reading problems",
        |row| {
            Ok(ExportedRecord::Problem(ExportedProblem {
                id: row.get(0)?,
                patient_id: row.get(1)?,
                description: row.get(2)?,
                icd10_code: text(row, 3)?,
                onset: text(row, 4)?,
                resolved_on: text(row, 5)?,
                status: row.get(6)?,
                recorded_at: row.get(7)?,
            }))
        },
        visit,
    )
}

/// Every provider of the clinic (an appointment's provider is always among them).
fn providers(
    connection: &Connection,
    visit: &mut dyn FnMut(ExportedRecord) -> Result<()>,
) -> Result<()> {
    let mut statement = connection
        .prepare("SELECT id, display_name, specialty FROM providers ORDER BY display_name, id")
        .map_err(sql_error("reading providers"))?;
    let mut rows = statement
        .query([])
        .map_err(sql_error("reading providers"))?;
    while let Some(row) = rows.next().map_err(sql_error("reading providers"))? {
        visit(ExportedRecord::Provider(ExportedProvider {
            id: row.get(0).map_err(sql_error("reading providers"))?,
            display_name: row.get(1).map_err(sql_error("reading providers"))?,
            specialty: text(row, 2).map_err(sql_error("reading providers"))?,
        }))?;
    }
    Ok(())
}

impl Session {
    /// The clinic whose records an export holds.
    pub fn export_clinic(&mut self) -> Result<ExportedClinic> {
        let now = self.authorize_any_user()?;
        let zone = crate::scheduling::clinic_zone(self.connection()?)?;
        let today = now.with_timezone(&zone).date_naive().to_string();
        self.connection()?
            .query_row(
                "SELECT id, name, time_zone FROM clinics LIMIT 1",
                [],
                |row| {
                    Ok(ExportedClinic {
                        id: row.get(0)?,
                        name: row.get(1)?,
                        time_zone: row.get(2)?,
                        today,
                    })
                },
            )
            .map_err(sql_error("reading the clinic"))
    }

    /// Hands every record in `scope` to `visit`, one at a time: providers first, then each patient
    /// followed by their appointments, vital signs, notes, allergies, medications and problems.
    /// Audited (`records.export`, with the patient for a single chart, or the number of patients);
    /// an error from `visit` stops the export, and is audited as its failure.
    pub fn export_records(
        &mut self,
        scope: &ExportScope,
        visit: &mut dyn FnMut(ExportedRecord) -> Result<()>,
    ) -> Result<ExportCounts> {
        self.prepare_records_export(scope)?.run(visit, &mut |_| {})
    }

    /// Authorises an export of `scope` and prepares it on a connection of its own, so a long
    /// export runs without holding the session (see [`RecordsExportJob::run`]).
    pub fn prepare_records_export(&mut self, scope: &ExportScope) -> Result<RecordsExportJob> {
        let (patient_ids, single, now) = match scope {
            ExportScope::WholeClinic | ExportScope::WholeClinicDeidentified => {
                let now =
                    self.authorize("records.export", Some(Permission::RecordsExport), None)?;
                let mut statement = self
                    .connection()?
                    .prepare(
                        "SELECT id FROM patients WHERE deleted_at IS NULL AND merged_into_id IS NULL ORDER BY mrn",
                    )
                    .map_err(sql_error("listing patients"))?;
                let ids = statement
                    .query_map([], |row| row.get::<_, String>(0))
                    .map_err(sql_error("listing patients"))?
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map_err(sql_error("listing patients"))?;
                (ids, None, now)
            }
            ExportScope::Patient(mrn) => {
                let (patient_id, now, _) = self.enter_chart(
                    mrn,
                    "records.export_patient",
                    Permission::RecordsExportPatient,
                )?;
                (vec![patient_id.clone()], Some(patient_id), now)
            }
        };
        Ok(RecordsExportJob {
            worker: self.store_worker()?,
            patient_ids,
            single,
            deidentified: *scope == ExportScope::WholeClinicDeidentified,
            started: now,
        })
    }
}

/// How far an export is.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportProgress {
    pub patients_done: u64,
    pub patients_total: u64,
}

/// An export a session authorised, read on a connection of its own.
pub struct RecordsExportJob {
    worker: crate::session::StoreWorker,
    patient_ids: Vec<String>,
    single: Option<String>,
    deidentified: bool,
    started: chrono::DateTime<chrono::Utc>,
}

impl RecordsExportJob {
    /// Hands every record to `visit` (see [`Session::export_records`]) and tells `progress` after
    /// each patient; writes the audit entry at the end, a failure's too.
    pub fn run(
        mut self,
        visit: &mut dyn FnMut(ExportedRecord) -> Result<()>,
        progress: &mut dyn FnMut(ExportProgress),
    ) -> Result<ExportCounts> {
        let mut counts = ExportCounts::default();
        let total = self.patient_ids.len() as u64;
        let outcome = {
            let connection = &self.worker.connection;
            let mut counting = |record: ExportedRecord| {
                counts.count(&record);
                visit(record)
            };
            providers(connection, &mut counting).and_then(|()| {
                self.patient_ids
                    .iter()
                    .enumerate()
                    .try_for_each(|(index, id)| {
                        patient_and_chart(connection, id, &mut counting)?;
                        progress(ExportProgress {
                            patients_done: index as u64 + 1,
                            patients_total: total,
                        });
                        Ok(())
                    })
            })
        };
        let action = if self.single.is_some() {
            "records.export_patient"
        } else {
            "records.export"
        };
        let patients = self.patient_ids.len();
        let deidentified = self.deidentified;
        let details = match &outcome {
            Ok(()) => {
                serde_json::json!({ "patients": patients, "counts": counts, "deidentified": deidentified })
            }
            Err(error) => {
                serde_json::json!({ "patients": patients, "counts": counts, "deidentified": deidentified, "error": error })
            }
        };
        let (started, single) = (self.started, self.single.clone());
        self.worker.write(|write| {
            let mut entry = NewAuditEntry::new(
                started,
                write.actor(),
                action,
                if outcome.is_ok() {
                    AuditOutcome::Success
                } else {
                    AuditOutcome::Failure
                },
            )
            .details(details);
            if let Some(patient_id) = &single {
                entry = entry.object("patient", patient_id).patient(patient_id);
            }
            write.audit(entry)?;
            Ok(())
        })?;
        outcome.map(|()| counts)
    }
}
