//! Patients: registration with an offline-safe MRN and a likely-duplicate check, demographics,
//! restricted charts with their care team, and opening a chart (always audited).

use chrono::NaiveDate;
use clinicdesk_error::{Error, ErrorCode, Result};
use clinicdesk_store::rusqlite::{params, Connection, OptionalExtension};
use clinicdesk_store::{query_all, sql_error};
use serde::{Deserialize, Serialize};

use crate::audit::{AuditOutcome, NewAuditEntry};
use crate::environment::format_timestamp;
use crate::ids::{AppointmentId, NoteId, ObservationId, PatientId};
use crate::permission::Permission;
use crate::recorded_write::{RecordedWrite, RowChange};
use crate::scheduling::AppointmentStatus;
use crate::session::Session;
use crate::tables::Table;
use crate::validation::{field, Field};

/// Administrative sex, as registered.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Female,
    Male,
    Other,
    Unknown,
}

impl Sex {
    pub fn code(self) -> &'static str {
        match self {
            Sex::Female => "female",
            Sex::Male => "male",
            Sex::Other => "other",
            Sex::Unknown => "unknown",
        }
    }

    pub fn from_code(code: &str) -> Result<Sex> {
        match code.trim().to_lowercase().as_str() {
            "female" | "f" => Ok(Sex::Female),
            "male" | "m" => Ok(Sex::Male),
            "other" | "o" => Ok(Sex::Other),
            "unknown" | "u" => Ok(Sex::Unknown),
            other => Err(Error::invalid_field(
                "sex",
                format!(
                    "Sex {:?} is not one of female, male, other, unknown",
                    crate::validation::visible(other)
                ),
            )),
        }
    }
}

/// What the front desk types to register a patient.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPatient {
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: String,
    pub sex: Sex,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub restricted: bool,
}

/// An existing record the new one may duplicate.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LikelyDuplicate {
    pub patient_id: PatientId,
    pub mrn: String,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: String,
    pub why: String,
}

/// The outcome of a registration attempt.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Registration {
    Registered {
        patient_id: PatientId,
        mrn: String,
    },
    /// Nothing was created: confirm to register anyway.
    LikelyDuplicates {
        candidates: Vec<LikelyDuplicate>,
    },
}

/// Demographics as shown at the top of a chart.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Demographics {
    pub patient_id: PatientId,
    pub mrn: String,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: String,
    pub sex: String,
    pub restricted: bool,
    pub phones: Vec<String>,
    pub version: i64,
}

/// A chart as the caller's role may see it.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chart {
    pub demographics: Demographics,
    /// How the caller came to see it: `open`, `care_team` or `emergency_access`.
    pub access: String,
    /// The last 50 observations (empty for roles that do not read vitals).
    pub recent_vitals: Vec<ChartObservation>,
    /// Upcoming appointments (for roles that read appointments).
    pub upcoming_appointments: Vec<ChartAppointment>,
    /// The last 20 notes (for roles that read notes).
    pub recent_notes: Vec<ChartNote>,
}

/// One observation as the chart summary shows it.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartObservation {
    pub id: ObservationId,
    pub effective_at: String,
    pub loinc: String,
    pub value: f64,
    pub unit: String,
    pub interpretation: Option<String>,
    pub status: String,
}

/// One upcoming appointment on the chart.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChartAppointment {
    pub id: AppointmentId,
    pub starts_at: String,
    pub provider_name: String,
    pub status: AppointmentStatus,
}

/// One note on the chart summary.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChartNote {
    pub id: NoteId,
    pub written_at: String,
    pub kind: String,
    pub author: String,
    pub title: Option<String>,
    pub body: String,
}

/// What a chart opening reads, part by part (a role sees only what it may).
#[derive(Debug, Clone, Copy)]
pub struct ChartParts {
    pub vitals: bool,
    pub appointments: bool,
    pub notes: bool,
}

/// Reads a chart on a connection: the query the desktop app and the benchmark share.
pub(crate) fn chart_on(
    connection: &Connection,
    patient_id: &str,
    parts: ChartParts,
    now: &str,
) -> Result<Chart> {
    let demographics = demographics(connection, patient_id)?;
    let mut chart = Chart {
        demographics,
        access: "open".into(),
        recent_vitals: Vec::new(),
        upcoming_appointments: Vec::new(),
        recent_notes: Vec::new(),
    };
    if parts.vitals {
        chart.recent_vitals = query_all(
            connection,
            "SELECT id, effective_at, loinc_code, value, unit, interpretation, status FROM vital_observations
             WHERE patient_id = ?1 AND deleted_at IS NULL ORDER BY effective_at DESC LIMIT 50",
            [patient_id],
            "reading vitals",
            |row| {
                Ok(ChartObservation {
                    id: row.get(0)?,
                    effective_at: row.get(1)?,
                    loinc: row.get(2)?,
                    value: row.get(3)?,
                    unit: row.get(4)?,
                    interpretation: row.get(5)?,
                    status: row.get(6)?,
                })
            },
        )?;
    }
    if parts.appointments {
        chart.upcoming_appointments = query_all(
            connection,
            "SELECT a.id, a.starts_at, pr.display_name, a.status FROM appointments a JOIN providers pr ON pr.id = a.provider_id
             WHERE a.patient_id = ?1 AND a.starts_at >= ?2 AND a.deleted_at IS NULL AND a.status <> 'cancelled'
             ORDER BY a.starts_at LIMIT 20",
            params![patient_id, now],
            "reading appointments",
            |row| {
                Ok(ChartAppointment {
                    id: row.get(0)?,
                    starts_at: row.get(1)?,
                    provider_name: row.get(2)?,
                    status: row.get(3)?,
                })
            },
        )?;
    }
    if parts.notes {
        chart.recent_notes = query_all(
            connection,
            "SELECT n.id, n.written_at, n.kind, u.username, n.title, n.body FROM notes n JOIN users u ON u.id = n.author_id
             WHERE n.patient_id = ?1 AND n.status = 'final' ORDER BY n.written_at DESC LIMIT 20",
            [patient_id],
            "reading notes",
            |row| {
                Ok(ChartNote {
                    id: row.get(0)?,
                    written_at: row.get(1)?,
                    kind: row.get(2)?,
                    author: row.get(3)?,
                    title: row.get(4)?,
                    body: row.get(5)?,
                })
            },
        )?;
    }
    Ok(chart)
}

pub(crate) const GIVEN_NAME: Field = field("given_name", "the given name");
pub(crate) const FAMILY_NAME: Field = field("family_name", "the family name");
pub(crate) const PHONE: Field = field("phone", "the phone number");

/// A name part: one line, 1 to 100 characters.
pub(crate) fn clean_name(which: Field, value: &str) -> Result<String> {
    crate::validation::single_line(which, value, crate::limits::PERSON_NAME.max)
}

pub(crate) fn parse_birth_date(text: &str, today: NaiveDate) -> Result<NaiveDate> {
    let invalid = |message: String| Error::invalid_field("date_of_birth", message);
    let date = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        invalid(format!(
            "The date of birth {:?} is not a date like 1984-03-27",
            crate::validation::visible(text)
        ))
    })?;
    if date > today {
        return Err(invalid(format!(
            "The date of birth {date} is in the future"
        )));
    }
    if date < NaiveDate::from_ymd_opt(1880, 1, 1).expect("valid date") {
        return Err(invalid(format!("The date of birth {date} is before 1880")));
    }
    Ok(date)
}

/// A phone number as written (cleaned) and its digits, for matching whatever the formatting.
pub(crate) fn phone_number(number: &str) -> Result<(String, String)> {
    crate::validation::phone(PHONE, number)
}

fn names_similar(a_given: &str, a_family: &str, b_given: &str, b_family: &str) -> bool {
    let norm = |s: &str| s.to_lowercase();
    let close = |x: &str, y: &str| strsim::jaro_winkler(&norm(x), &norm(y)) >= 0.88;
    (close(a_given, b_given) && close(a_family, b_family))
        || (close(a_given, b_family) && close(a_family, b_given))
}

pub(crate) fn likely_duplicates(
    connection: &Connection,
    new: &NewPatient,
    digits: Option<&str>,
) -> Result<Vec<LikelyDuplicate>> {
    let mut found: Vec<LikelyDuplicate> = Vec::new();
    let mut statement = connection
        .prepare(
            "SELECT id, mrn, given_name, family_name, date_of_birth FROM patients
             WHERE date_of_birth = ?1 AND deleted_at IS NULL AND merged_into_id IS NULL",
        )
        .map_err(sql_error("checking for duplicates"))?;
    let rows = statement
        .query_map([&new.date_of_birth], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, String>(4)?,
            ))
        })
        .map_err(sql_error("checking for duplicates"))?;
    for row in rows {
        let (patient_id, mrn, given_name, family_name, date_of_birth) =
            row.map_err(sql_error("checking for duplicates"))?;
        if names_similar(&new.given_name, &new.family_name, &given_name, &family_name) {
            found.push(LikelyDuplicate {
                patient_id: PatientId::from_store(patient_id),
                mrn,
                given_name,
                family_name,
                date_of_birth,
                why: "similar name, same date of birth".into(),
            });
        }
    }
    if let Some(digits) = digits {
        let mut statement = connection
            .prepare(
                "SELECT p.id, p.mrn, p.given_name, p.family_name, p.date_of_birth FROM patient_phones ph
                 JOIN patients p ON p.id = ph.patient_id
                 WHERE ph.digits = ?1 AND ph.deleted_at IS NULL AND p.deleted_at IS NULL AND p.merged_into_id IS NULL",
            )
            .map_err(sql_error("checking for duplicates"))?;
        let rows = statement
            .query_map([digits], |row| {
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                ))
            })
            .map_err(sql_error("checking for duplicates"))?;
        for row in rows {
            let (patient_id, mrn, given_name, family_name, date_of_birth): (
                String,
                String,
                String,
                String,
                String,
            ) = row.map_err(sql_error("checking for duplicates"))?;
            if !found
                .iter()
                .any(|existing| *existing.patient_id == *patient_id)
            {
                found.push(LikelyDuplicate {
                    patient_id: PatientId::from_store(patient_id),
                    mrn,
                    given_name,
                    family_name,
                    date_of_birth,
                    why: "same phone number".into(),
                });
            }
        }
    }
    Ok(found)
}

pub(crate) fn demographics(connection: &Connection, patient_id: &str) -> Result<Demographics> {
    let mut demographics = connection
        .query_row(
            "SELECT id, mrn, given_name, family_name, date_of_birth, sex, restricted, version FROM patients
             WHERE id = ?1 AND deleted_at IS NULL",
            [patient_id],
            |row| {
                Ok(Demographics {
                    patient_id: row.get(0)?,
                    mrn: row.get(1)?,
                    given_name: row.get(2)?,
                    family_name: row.get(3)?,
                    date_of_birth: row.get(4)?,
                    sex: row.get(5)?,
                    restricted: row.get(6)?,
                    phones: Vec::new(),
                    version: row.get(7)?,
                })
            },
        )
        .optional()
        .map_err(sql_error("reading the patient"))?
        .ok_or_else(|| Error::not_found("there is no such patient"))?;
    demographics.phones = query_all(
        connection,
        "SELECT number FROM patient_phones WHERE patient_id = ?1 AND deleted_at IS NULL ORDER BY is_primary DESC, created_at",
        [patient_id],
        "reading phones",
        |row| row.get(0),
    )?;
    Ok(demographics)
}

/// Resolves an MRN (spaces and dashes allowed) to the patient's id.
pub(crate) fn patient_id_by_mrn(connection: &Connection, mrn: &str) -> Result<String> {
    let mrn = crate::mrn::parse_argument(mrn)?;
    let found: Option<(String, Option<String>)> = connection
        .query_row(
            "SELECT p.id, s.mrn FROM patients p LEFT JOIN patients s ON s.id = p.merged_into_id WHERE p.mrn = ?1 AND p.deleted_at IS NULL",
            [&mrn],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
        .map_err(sql_error("finding the patient"))?;
    match found {
        Some((id, None)) => Ok(id),
        Some((_, Some(surviving))) => Err(Error::not_found(format!(
            "MRN {mrn} was merged into MRN {surviving}; use that one"
        ))),
        None => Err(Error::not_found(format!("no patient has MRN {mrn}"))),
    }
}

/// A new MRN no patient of this store holds.
pub(crate) fn unused_mrn(connection: &Connection) -> Result<String> {
    loop {
        let mrn = crate::mrn::generate();
        let taken: bool = connection
            .query_row(
                "SELECT count(*) > 0 FROM patients WHERE mrn = ?1",
                [&mrn],
                |row| row.get(0),
            )
            .map_err(sql_error("checking the MRN"))?;
        if !taken {
            return Ok(mrn);
        }
    }
}

fn insert_patient(
    transaction: &mut RecordedWrite<'_>,
    new: &NewPatient,
    mrn: &str,
    digits: Option<&str>,
) -> Result<String> {
    let clinic_id = crate::recorded_write::clinic_id(transaction)?;
    let id = transaction.insert_row(
        Table::Patients,
        &[
            ("clinic_id", &clinic_id),
            ("mrn", &mrn),
            ("given_name", &new.given_name),
            ("family_name", &new.family_name),
            ("date_of_birth", &new.date_of_birth),
            ("sex", &new.sex.code()),
            ("restricted", &new.restricted),
        ],
    )?;
    if let (Some(number), Some(digits)) = (&new.phone, digits) {
        add_phone(transaction, &id, number, digits)?;
    }
    Ok(id)
}

/// A patient's primary (mobile) phone, `number` as written and its digits.
pub(crate) fn add_phone(
    transaction: &mut RecordedWrite<'_>,
    patient_id: &str,
    number: &str,
    digits: &str,
) -> Result<String> {
    transaction.insert_row(
        Table::PatientPhones,
        &[
            ("patient_id", &patient_id),
            ("kind", &"mobile"),
            ("number", &number),
            ("digits", &digits),
            ("is_primary", &true),
        ],
    )
}

impl Session {
    /// Registers a patient. Unless `confirmed_not_duplicate`, a likely duplicate (similar name and
    /// same date of birth, or the same phone) creates nothing and lists the candidates.
    pub fn register_patient(
        &mut self,
        new: &NewPatient,
        confirmed_not_duplicate: bool,
    ) -> Result<Registration> {
        let now = self.authorize("patients.register", Some(Permission::PatientsWrite), None)?;
        let mut new = new.clone();
        new.given_name = clean_name(GIVEN_NAME, &new.given_name)?;
        new.family_name = clean_name(FAMILY_NAME, &new.family_name)?;
        new.date_of_birth = parse_birth_date(&new.date_of_birth, now.date_naive())?.to_string();
        let phone = new
            .phone
            .as_deref()
            .filter(|p| !p.trim().is_empty())
            .map(phone_number)
            .transpose()?;
        new.phone = phone.as_ref().map(|(written, _)| written.clone());
        let digits = phone.map(|(_, digits)| digits);
        if !confirmed_not_duplicate {
            let candidates = likely_duplicates(self.connection()?, &new, digits.as_deref())?;
            if !candidates.is_empty() {
                return Ok(Registration::LikelyDuplicates { candidates });
            }
        }
        self.write(|transaction| {
            let mrn = unused_mrn(transaction)?;
            let id = insert_patient(transaction, &new, &mrn, digits.as_deref())?;
            transaction.audit(
                transaction
                    .entry("patient.create")
                    .object("patient", &id)
                    .patient(&id)
                    .details(serde_json::json!({
                        "after": transaction.row_json(Table::Patients, &id)?,
                        "confirmed_not_duplicate": confirmed_not_duplicate,
                    })),
            )?;
            Ok(Registration::Registered {
                patient_id: PatientId::from_store(id),
                mrn,
            })
        })
    }

    /// How this user may see the patient's chart, or why not. Restricted charts are open to
    /// their care team, and to clinical users holding an unexpired emergency-access grant.
    fn chart_access(&self, patient_id: &str, restricted: bool) -> Result<Option<&'static str>> {
        if !restricted {
            return Ok(Some("open"));
        }
        let connection = self.connection()?;
        let on_team: bool = connection
            .query_row(
                "SELECT count(*) > 0 FROM care_team_members WHERE patient_id = ?1 AND user_id = ?2 AND deleted_at IS NULL",
                params![patient_id, self.user().id],
                |row| row.get(0),
            )
            .map_err(sql_error("checking the care team"))?;
        if on_team {
            return Ok(Some("care_team"));
        }
        let granted: bool = connection
            .query_row(
                "SELECT count(*) > 0 FROM emergency_access_grants
                 WHERE patient_id = ?1 AND user_id = ?2 AND expires_at > ?3 AND deleted_at IS NULL",
                params![
                    patient_id,
                    self.user().id,
                    format_timestamp(self.environment.now())
                ],
                |row| row.get(0),
            )
            .map_err(sql_error("checking emergency access"))?;
        Ok(granted.then_some("emergency_access"))
    }

    /// The gate for anything inside a chart: the role's permission, then the restriction (care
    /// team or an unexpired emergency grant). A refusal is audited as `action` denied.
    pub(crate) fn enter_chart(
        &mut self,
        mrn: &str,
        action: &str,
        permission: Permission,
    ) -> Result<(String, chrono::DateTime<chrono::Utc>, &'static str)> {
        let patient_id = self.patient_id_for_operation(mrn, action, permission)?;
        let now = self.authorize(action, Some(permission), Some(&patient_id))?;
        let restricted: bool = self
            .connection()?
            .query_row(
                "SELECT restricted FROM patients WHERE id = ?1",
                [&patient_id],
                |row| row.get(0),
            )
            .map_err(sql_error("reading the patient"))?;
        if let Some(access) = self.chart_access(&patient_id, restricted)? {
            return Ok((patient_id, now, access));
        }
        let actor = self.actor();
        self.write(|transaction| {
            transaction.audit(
                NewAuditEntry::new(now, actor, action, AuditOutcome::Denied)
                    .object("patient", &patient_id)
                    .patient(&patient_id)
                    .details(
                        serde_json::json!({ "reason": "restricted chart; not on the care team" }),
                    ),
            )?;
            Ok(())
        })?;
        Err(if self.permissions().contains(&Permission::EmergencyUse) {
            Error::new(
                ErrorCode::EmergencyAccessRequired,
                "this chart is restricted to its care team; in an emergency, open it with emergency access and a reason (it will be reviewed)",
            )
        } else {
            Error::permission_denied("this chart is restricted to its care team")
        })
    }

    /// Writes a read of chart contents to the audit trail.
    pub(crate) fn audit_chart_read(
        &mut self,
        patient_id: &str,
        action: &str,
        now: chrono::DateTime<chrono::Utc>,
        details: serde_json::Value,
    ) -> Result<()> {
        let actor = self.actor();
        self.write(|transaction| {
            transaction.audit(
                NewAuditEntry::new(now, actor, action, AuditOutcome::Success)
                    .object("patient", patient_id)
                    .patient(patient_id)
                    .details(details),
            )?;
            Ok(())
        })
    }

    /// Opens a patient's chart by MRN. Every opening is audited, and so is every refusal.
    pub fn open_chart(&mut self, mrn: &str) -> Result<Chart> {
        let (patient_id, now, access) =
            self.enter_chart(mrn, "chart.open", Permission::PatientsRead)?;
        let parts = ChartParts {
            vitals: self.permissions().contains(&Permission::VitalsRead),
            appointments: self.permissions().contains(&Permission::AppointmentsRead),
            notes: self.permissions().contains(&Permission::NotesRead),
        };
        let mut chart = chart_on(
            self.connection()?,
            &patient_id,
            parts,
            &format_timestamp(now),
        )?;
        chart.access = access.to_owned();
        let details = serde_json::json!({
            "access": access,
            "parts": { "vitals": parts.vitals, "appointments": parts.appointments, "notes": parts.notes },
        });
        self.audit_chart_read(&patient_id, "chart.open", now, details)?;
        Ok(chart)
    }

    /// Marks a chart restricted (or open again); audited with before and after.
    pub fn set_patient_restricted(&mut self, mrn: &str, restricted: bool) -> Result<()> {
        let patient_id =
            self.patient_id_for_operation(mrn, "patient.restrict", Permission::PatientsWrite)?;
        let now = self.authorize(
            "patient.restrict",
            Some(Permission::PatientsWrite),
            Some(&patient_id),
        )?;
        let by = self.user().id.to_string();
        self.write(|transaction| {
            let row = RowChange { table: Table::Patients, id: &patient_id, object_type: "patient", patient_id: Some(&patient_id) };
            let entry = transaction.entry("patient.update");
            transaction.change_row(row, entry, |transaction, _| {
                transaction
                    .execute(
                    "UPDATE patients SET restricted = ?1, updated_at = ?2, updated_by = ?3, version = version + 1 WHERE id = ?4",
                    params![restricted, format_timestamp(now), by, patient_id],
                )
                .map_err(sql_error("changing the patient"))?;
                Ok(())
            })
        })
    }

    /// Names a user on the patient's care team (who then sees a restricted chart).
    pub fn add_care_team_member(
        &mut self,
        mrn: &str,
        username: &str,
        care_role: &str,
    ) -> Result<()> {
        let patient_id =
            self.patient_id_for_operation(mrn, "care_team.add", Permission::PatientsWrite)?;
        self.authorize(
            "care_team.add",
            Some(Permission::PatientsWrite),
            Some(&patient_id),
        )?;
        let care_role = care_role.trim().to_lowercase();
        if !["primary_clinician", "clinician", "nurse", "other"].contains(&care_role.as_str()) {
            return Err(Error::invalid_field(
                "care_role",
                format!(
                    "The care role {:?} is not one of primary_clinician, clinician, nurse, other",
                    crate::validation::visible(&care_role)
                ),
            ));
        }
        let member: String = self
            .connection()?
            .query_row(
                "SELECT id FROM users WHERE username = ?1 AND disabled = 0 AND deleted_at IS NULL",
                [username.trim().to_lowercase()],
                |row| row.get(0),
            )
            .optional()
            .map_err(sql_error("finding the user"))?
            .ok_or_else(|| Error::not_found(format!("there is no active user named {username}")))?;
        self.write(|transaction| {
            let already: bool = transaction
                .query_row(
                    "SELECT count(*) > 0 FROM care_team_members WHERE patient_id = ?1 AND user_id = ?2 AND deleted_at IS NULL",
                    params![patient_id, member],
                    |row| row.get(0),
                )
                .map_err(sql_error("checking the care team"))?;
            if already {
                return Ok(());
            }
            let id = transaction.insert_row(
                Table::CareTeamMembers,
                &[("patient_id", &patient_id), ("user_id", &member), ("care_role", &care_role)],
            )?;
            transaction.audit(transaction.entry("care_team.add")
                    .object("care_team_member", &id)
                    .patient(&patient_id)
                    .details(serde_json::json!({ "after": transaction.row_json(Table::CareTeamMembers, &id)? })),
            )?;
            Ok(())
        })
    }

    /// Finds the patient for an operation; a caller without `permission` is refused (and audited)
    /// before learning whether the MRN exists.
    pub(crate) fn patient_id_for_operation(
        &mut self,
        mrn: &str,
        operation: &str,
        permission: Permission,
    ) -> Result<String> {
        if !self.permissions().contains(&permission) {
            self.authorize(operation, Some(permission), None)?;
        }
        patient_id_by_mrn(self.connection()?, mrn)
    }
}
