//! The chart's safety facts: allergies (with "no known allergies" kept apart from "never asked"),
//! current medications with their review, and problems. Recorded and updated by nurses and
//! clinicians, never deleted (entered-in-error instead), every change audited with before and
//! after, every read of a list audited.

use chrono::{NaiveDate, Utc};
use clinicdesk_error::{Error, Result};
use clinicdesk_store::rusqlite::{params, Connection, OptionalExtension};
use clinicdesk_store::sql_error;
use serde::{Deserialize, Serialize};

use crate::ids::{AllergyId, MedicationId, ProblemId};
use crate::permission::Permission;
use crate::recorded_write::{RecordedWrite, RowChange};
use crate::session::Session;
use crate::tables::Table;
use crate::validation::{field, optional_line, single_line, Field};

/// A closed set of codes: the enum, its stored text and its parsing from outside (naming the
/// field when the text is not one of them).
macro_rules! closed_set {
    ($(#[$doc:meta])* $name:ident, $field:literal, $what:literal, { $($(#[$variant_doc:meta])* $variant:ident => $code:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$variant_doc])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn code(self) -> &'static str {
                match self {
                    $($name::$variant => $code),+
                }
            }

            /// Parses the code as the command line and the store write it (`unable_to_assess`,
            /// or with a hyphen).
            pub fn from_code(text: &str) -> Result<$name> {
                let wanted = text.trim().to_lowercase().replace('-', "_");
                $name::ALL
                    .iter()
                    .copied()
                    .find(|candidate| candidate.code() == wanted)
                    .ok_or_else(|| {
                        let offered: Vec<&str> = $name::ALL.iter().map(|c| c.code()).collect();
                        Error::invalid_field(
                            $field,
                            format!(
                                "{:?} is not {}: use one of {}",
                                crate::validation::visible(text),
                                $what,
                                offered.join(", ")
                            ),
                        )
                    })
            }
        }

        crate::ids::stored_as_code!($name);
    };
}

closed_set!(
    /// What an allergy is to.
    AllergyCategory, "category", "an allergy category", {
        Food => "food",
        Medication => "medication",
        Environment => "environment",
    }
);
closed_set!(
    /// How bad the reaction was.
    AllergySeverity, "severity", "a severity", {
        Mild => "mild",
        Moderate => "moderate",
        Severe => "severe",
    }
);
closed_set!(
    /// The risk of a future life-threatening reaction (FHIR's criticality).
    AllergyCriticality, "criticality", "a criticality", {
        Low => "low",
        High => "high",
        UnableToAssess => "unable_to_assess",
    }
);
closed_set!(
    /// Whether an allergy holds now.
    AllergyStatus, "status", "an allergy status", {
        Active => "active",
        Inactive => "inactive",
        /// Recorded by mistake; kept, never shown as a fact.
        EnteredInError => "entered_in_error",
    }
);
closed_set!(
    /// Whether a medication is taken now.
    MedicationStatus, "status", "a medication status", {
        Active => "active",
        Stopped => "stopped",
        EnteredInError => "entered_in_error",
    }
);
closed_set!(
    /// Whether a problem is being treated.
    ProblemStatus, "status", "a problem status", {
        Active => "active",
        Resolved => "resolved",
        EnteredInError => "entered_in_error",
    }
);

/// What is known about a patient's allergies, as the allergy banner shows it.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AllergyState {
    /// Nobody has recorded an allergy or confirmed that there is none (amber: ask).
    NotRecorded,
    /// A nurse or clinician confirmed the patient has no known allergies.
    NoKnownAllergies {
        confirmed_by: String,
        confirmed_at: String,
    },
    /// At least one active allergy. `substances` is empty for roles that see only the badge.
    HasAllergies {
        count: u32,
        substances: Vec<String>,
        /// A "no known allergies" confirmation recorded on another workstation at the same time
        /// (sync brought both): a nurse or clinician must look at it.
        contradicted_by_confirmation: bool,
    },
}

/// One allergy.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allergy {
    pub id: AllergyId,
    pub substance: String,
    pub substance_code: Option<String>,
    pub category: AllergyCategory,
    pub reaction: Option<String>,
    pub severity: Option<AllergySeverity>,
    pub criticality: Option<AllergyCriticality>,
    /// YYYY-MM-DD.
    pub onset: Option<String>,
    pub status: AllergyStatus,
    pub entered_in_error_reason: Option<String>,
    pub recorded_by: String,
    pub recorded_at: String,
    pub updated_by: String,
    pub updated_at: String,
}

/// A patient's allergies: the state the banner shows and every allergy recorded (active first).
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllergyList {
    pub state: AllergyState,
    pub allergies: Vec<Allergy>,
}

/// An allergy as a person enters or corrects it.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllergyDetails {
    pub substance: String,
    pub substance_code: Option<String>,
    pub category: AllergyCategory,
    pub reaction: Option<String>,
    pub severity: Option<AllergySeverity>,
    pub criticality: Option<AllergyCriticality>,
    /// YYYY-MM-DD, not in the future.
    pub onset: Option<String>,
    /// `active` or `inactive` (entered-in-error has its own operation, with a reason).
    pub status: AllergyStatus,
}

/// One medication, with whether it is new to the person looking since the list was reviewed.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Medication {
    pub id: MedicationId,
    pub name: String,
    pub code: Option<String>,
    pub dose: Option<String>,
    pub route: Option<String>,
    pub frequency: Option<String>,
    pub started_on: Option<String>,
    pub stopped_on: Option<String>,
    pub reason: Option<String>,
    pub status: MedicationStatus,
    pub entered_in_error_reason: Option<String>,
    pub recorded_by: String,
    pub recorded_at: String,
    pub updated_by: String,
    pub updated_at: String,
    /// Entered or changed by someone else since the list was last reviewed (or ever, if it
    /// never was): the reviewing clinician should look at it.
    pub changed_since_review: bool,
}

/// The last "medication list reviewed".
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MedicationReview {
    pub reviewed_by: String,
    pub reviewed_at: String,
}

/// A patient's medications (active first) and the last review of the list.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MedicationList {
    pub medications: Vec<Medication>,
    pub last_review: Option<MedicationReview>,
}

/// A medication as a person enters or corrects it.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MedicationDetails {
    pub name: String,
    pub code: Option<String>,
    pub dose: Option<String>,
    pub route: Option<String>,
    pub frequency: Option<String>,
    /// YYYY-MM-DD, not in the future.
    pub started_on: Option<String>,
    /// YYYY-MM-DD, not before the start; up to a year ahead (a planned course).
    pub stopped_on: Option<String>,
    pub reason: Option<String>,
    /// `active` or `stopped`.
    pub status: MedicationStatus,
}

/// One problem.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub id: ProblemId,
    pub description: String,
    pub icd10_code: Option<String>,
    pub onset: Option<String>,
    pub resolved_on: Option<String>,
    pub status: ProblemStatus,
    pub entered_in_error_reason: Option<String>,
    pub recorded_by: String,
    pub recorded_at: String,
    pub updated_by: String,
    pub updated_at: String,
}

/// A problem as a person enters or corrects it.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProblemDetails {
    pub description: String,
    /// ICD-10, such as `E11` or `E11.65`.
    pub icd10_code: Option<String>,
    /// YYYY-MM-DD, not in the future.
    pub onset: Option<String>,
    /// YYYY-MM-DD, not in the future, not before the onset.
    pub resolved_on: Option<String>,
    /// `active` or `resolved`.
    pub status: ProblemStatus,
}

/// The three lists, told apart where one operation serves them all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SafetyList {
    Allergies,
    Medications,
    Problems,
}

impl SafetyList {
    fn table(self) -> Table {
        match self {
            SafetyList::Allergies => Table::Allergies,
            SafetyList::Medications => Table::Medications,
            SafetyList::Problems => Table::Problems,
        }
    }

    fn object_type(self) -> &'static str {
        match self {
            SafetyList::Allergies => "allergy",
            SafetyList::Medications => "medication",
            SafetyList::Problems => "problem",
        }
    }

    fn write_permission(self) -> Permission {
        match self {
            SafetyList::Allergies => Permission::AllergiesWrite,
            SafetyList::Medications => Permission::MedicationsWrite,
            SafetyList::Problems => Permission::ProblemsWrite,
        }
    }

    /// The SQL that finds the row's patient's MRN by the row's id.
    fn mrn_query(self) -> String {
        format!(
            "SELECT p.mrn FROM {} r JOIN patients p ON p.id = r.patient_id WHERE r.id = ?1",
            self.table().name()
        )
    }
}

/// The limits of the fields of these lists (the store's CHECKs say the same; `limits.rs`).
const SUBSTANCE: Field = field("substance", "the substance");
const CODE: Field = field("code", "the code");
const REACTION: Field = field("reaction", "the reaction");
const ONSET: Field = field("onset", "the onset");
const MEDICATION_NAME: Field = field("name", "the medication");
const DOSE: Field = field("dose", "the dose");
const ROUTE: Field = field("route", "the route");
const FREQUENCY: Field = field("frequency", "the frequency");
const STARTED_ON: Field = field("started_on", "the start date");
const STOPPED_ON: Field = field("stopped_on", "the stop date");
const MEDICATION_REASON: Field = field("reason", "the reason for the medication");
const DESCRIPTION: Field = field("description", "the problem");
const ICD10: Field = field("icd10_code", "the ICD-10 code");
const RESOLVED_ON: Field = field("resolved_on", "the date it resolved");

fn optional(field: Field, value: &Option<String>, max: usize) -> Result<Option<String>> {
    match value {
        Some(text) => optional_line(field, text, max),
        None => Ok(None),
    }
}

/// A calendar day given as YYYY-MM-DD, from 1900 on, not after `latest`, not before `earliest`.
fn day(
    field: Field,
    value: &Option<String>,
    earliest: Option<NaiveDate>,
    latest: NaiveDate,
) -> Result<Option<NaiveDate>> {
    let Some(text) = value
        .as_deref()
        .map(str::trim)
        .filter(|text| !text.is_empty())
    else {
        return Ok(None);
    };
    let parsed = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .filter(|_| text.len() == 10)
        .ok_or_else(|| {
            Error::invalid_field(
                field.name,
                format!(
                    "{:?} is not a date like 2024-03-01 for {}",
                    crate::validation::visible(text),
                    field.label
                ),
            )
        })?;
    let floor = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN);
    if parsed < floor {
        return Err(Error::invalid_field(
            field.name,
            format!("{} {text} is before 1900", field.label),
        ));
    }
    if let Some(earliest) = earliest.filter(|earliest| parsed < *earliest) {
        return Err(Error::invalid_field(
            field.name,
            format!(
                "{} {text} is before {}",
                field.label,
                earliest.format("%Y-%m-%d")
            ),
        ));
    }
    if parsed > latest {
        return Err(Error::invalid_field(
            field.name,
            format!(
                "{} {text} is after {}",
                field.label,
                latest.format("%Y-%m-%d")
            ),
        ));
    }
    Ok(Some(parsed))
}

fn day_text(day: Option<NaiveDate>) -> Option<String> {
    day.map(|day| day.format("%Y-%m-%d").to_string())
}

/// An ICD-10 code: a letter, two characters, then optionally a dot and one to four more.
fn icd10(value: &Option<String>) -> Result<Option<String>> {
    let Some(text) = optional(ICD10, value, 8)? else {
        return Ok(None);
    };
    let code = text.to_uppercase();
    let bytes = code.as_bytes();
    let shape_ok = (code.len() == 3 || (code.len() >= 5 && bytes[3] == b'.'))
        && bytes[0].is_ascii_uppercase()
        && bytes[1].is_ascii_digit()
        && bytes[2].is_ascii_alphanumeric()
        && bytes[4.min(bytes.len())..]
            .iter()
            .all(|b| b.is_ascii_alphanumeric());
    if !shape_ok {
        return Err(Error::invalid_field(
            ICD10.name,
            format!(
                "{:?} is not an ICD-10 code like E11 or E11.65",
                crate::validation::visible(&text)
            ),
        ));
    }
    Ok(Some(code))
}

/// What a patient's allergy rows say, for the banner: `with_substances` for roles that read
/// the list.
pub(crate) fn allergy_state(
    connection: &Connection,
    patient_id: &str,
    with_substances: bool,
) -> Result<AllergyState> {
    let substances: Vec<String> = {
        let mut statement = connection
            .prepare_cached(
                "SELECT substance FROM allergies WHERE patient_id = ?1 AND status = 'active'
                 AND deleted_at IS NULL ORDER BY substance COLLATE NOCASE",
            )
            .map_err(sql_error("reading allergies"))?;
        let rows = statement
            .query_map([patient_id], |row| row.get(0))
            .map_err(sql_error("reading allergies"))?;
        rows.collect::<std::result::Result<_, _>>()
            .map_err(sql_error("reading allergies"))?
    };
    let confirmation: Option<(String, String)> = connection
        .query_row(
            "SELECT coalesce(u.display_name, 'someone'), c.created_at FROM allergy_confirmations c
             LEFT JOIN users u ON u.id = c.created_by
             WHERE c.patient_id = ?1 AND c.status = 'current' AND c.deleted_at IS NULL
             ORDER BY c.created_at DESC LIMIT 1",
            [patient_id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
        .map_err(sql_error("reading the allergy status"))?;
    Ok(match (substances.is_empty(), confirmation) {
        (false, confirmation) => AllergyState::HasAllergies {
            count: substances.len() as u32,
            substances: if with_substances {
                substances
            } else {
                Vec::new()
            },
            contradicted_by_confirmation: confirmation.is_some(),
        },
        (true, Some((confirmed_by, confirmed_at))) => AllergyState::NoKnownAllergies {
            confirmed_by,
            confirmed_at,
        },
        (true, None) => AllergyState::NotRecorded,
    })
}

/// The ids of a patient's current "no known allergies" confirmations.
fn current_confirmations(connection: &Connection, patient_id: &str) -> Result<Vec<String>> {
    let mut statement = connection
        .prepare_cached(
            "SELECT id FROM allergy_confirmations WHERE patient_id = ?1 AND status = 'current'",
        )
        .map_err(sql_error("reading the allergy status"))?;
    let rows = statement
        .query_map([patient_id], |row| row.get(0))
        .map_err(sql_error("reading the allergy status"))?;
    rows.collect::<std::result::Result<_, _>>()
        .map_err(sql_error("reading the allergy status"))
}

/// Withdraws every current "no known allergies" confirmation of the patient (an allergy is
/// being recorded), each audited with before and after.
fn withdraw_confirmations(
    transaction: &mut RecordedWrite<'_>,
    patient_id: &str,
    now: &str,
    by: &str,
) -> Result<()> {
    for id in current_confirmations(transaction, patient_id)? {
        let row = RowChange {
            table: Table::AllergyConfirmations,
            id: &id,
            object_type: "allergy_confirmation",
            patient_id: Some(patient_id),
        };
        let entry = transaction.entry("allergies.no_known_withdrawn");
        transaction.change_row(row, entry, |transaction, _| {
            transaction
                .execute(
                    "UPDATE allergy_confirmations SET status = 'withdrawn', updated_at = ?1,
                     updated_by = ?2, version = version + 1 WHERE id = ?3",
                    params![now, by, id],
                )
                .map_err(sql_error("withdrawing the confirmation"))?;
            Ok(())
        })?;
    }
    Ok(())
}

/// Inserts a row of `table` for the patient and audits it as `action` on `object_type`, with the
/// row after (and none before); returns its id.
fn insert_audited(
    transaction: &mut RecordedWrite<'_>,
    table: Table,
    (object_type, action): (&str, &str),
    patient_id: &str,
    values: &[(&str, &dyn clinicdesk_store::rusqlite::ToSql)],
) -> Result<String> {
    let id = transaction.insert_row(table, values)?;
    let after = transaction.row_json(table, &id)?;
    transaction.audit(
        transaction
            .entry(action)
            .object(object_type, &id)
            .patient(patient_id)
            .details(serde_json::json!({ "before": null, "after": after })),
    )?;
    Ok(id)
}

/// The checked form of an allergy.
struct CheckedAllergy {
    substance: String,
    substance_code: Option<String>,
    reaction: Option<String>,
    onset: Option<String>,
}

/// The checked form of a medication.
struct CheckedMedication {
    name: String,
    code: Option<String>,
    dose: Option<String>,
    route: Option<String>,
    frequency: Option<String>,
    started_on: Option<String>,
    stopped_on: Option<String>,
    reason: Option<String>,
}

/// The checked form of a problem.
struct CheckedProblem {
    description: String,
    icd10_code: Option<String>,
    onset: Option<String>,
    resolved_on: Option<String>,
}

impl Session {
    /// Today in the clinic's time zone and the patient's birth date: the bounds of a plausible
    /// date in the chart.
    fn chart_days(&self, patient_id: &str) -> Result<(NaiveDate, Option<NaiveDate>)> {
        let today = self
            .environment
            .now()
            .with_timezone(&self.zone()?)
            .date_naive();
        let born: Option<String> = self
            .connection()?
            .query_row(
                "SELECT date_of_birth FROM patients WHERE id = ?1",
                [patient_id],
                |row| row.get(0),
            )
            .optional()
            .map_err(sql_error("reading the birth date"))?;
        let born = born.and_then(|text| NaiveDate::parse_from_str(&text, "%Y-%m-%d").ok());
        Ok((today, born))
    }

    fn check_allergy(&self, patient_id: &str, details: &AllergyDetails) -> Result<CheckedAllergy> {
        if details.status == AllergyStatus::EnteredInError {
            return Err(Error::invalid_field(
                "status",
                "An allergy is marked entered-in-error with its own action, which asks why",
            ));
        }
        let (today, born) = self.chart_days(patient_id)?;
        Ok(CheckedAllergy {
            substance: single_line(
                SUBSTANCE,
                &details.substance,
                crate::limits::ALLERGY_SUBSTANCE.max,
            )?,
            substance_code: optional(
                CODE,
                &details.substance_code,
                crate::limits::CLINICAL_CODE.max,
            )?,
            reaction: optional(
                REACTION,
                &details.reaction,
                crate::limits::ALLERGY_REACTION.max,
            )?,
            onset: day_text(day(ONSET, &details.onset, born, today)?),
        })
    }

    fn check_medication(
        &self,
        patient_id: &str,
        details: &MedicationDetails,
    ) -> Result<CheckedMedication> {
        if details.status == MedicationStatus::EnteredInError {
            return Err(Error::invalid_field(
                "status",
                "A medication is marked entered-in-error with its own action, which asks why",
            ));
        }
        let (today, born) = self.chart_days(patient_id)?;
        let started = day(STARTED_ON, &details.started_on, born, today)?;
        let a_year_ahead = today + chrono::Duration::days(366);
        let mut stopped = day(
            STOPPED_ON,
            &details.stopped_on,
            started.or(born),
            a_year_ahead,
        )?;
        match details.status {
            MedicationStatus::Stopped if stopped.is_none() => stopped = Some(today),
            MedicationStatus::Active if stopped.is_some_and(|stopped| stopped <= today) => {
                return Err(Error::invalid_field(
                    STOPPED_ON.name,
                    "A medication stopped on or before today is not active: mark it stopped",
                ));
            }
            _ => {}
        }
        let short = crate::limits::MEDICATION_DETAIL.max;
        Ok(CheckedMedication {
            name: single_line(
                MEDICATION_NAME,
                &details.name,
                crate::limits::MEDICATION_NAME.max,
            )?,
            code: optional(CODE, &details.code, crate::limits::CLINICAL_CODE.max)?,
            dose: optional(DOSE, &details.dose, short)?,
            route: optional(ROUTE, &details.route, short)?,
            frequency: optional(FREQUENCY, &details.frequency, short)?,
            started_on: day_text(started),
            stopped_on: day_text(stopped),
            reason: optional(
                MEDICATION_REASON,
                &details.reason,
                crate::limits::MEDICATION_NAME.max,
            )?,
        })
    }

    fn check_problem(&self, patient_id: &str, details: &ProblemDetails) -> Result<CheckedProblem> {
        if details.status == ProblemStatus::EnteredInError {
            return Err(Error::invalid_field(
                "status",
                "A problem is marked entered-in-error with its own action, which asks why",
            ));
        }
        let (today, born) = self.chart_days(patient_id)?;
        let onset = day(ONSET, &details.onset, born, today)?;
        let mut resolved = day(RESOLVED_ON, &details.resolved_on, onset.or(born), today)?;
        match details.status {
            ProblemStatus::Resolved if resolved.is_none() => resolved = Some(today),
            ProblemStatus::Active if resolved.is_some() => {
                return Err(Error::invalid_field(
                    RESOLVED_ON.name,
                    "A problem with a resolution date is not active: mark it resolved",
                ));
            }
            _ => {}
        }
        Ok(CheckedProblem {
            description: single_line(
                DESCRIPTION,
                &details.description,
                crate::limits::PROBLEM_DESCRIPTION.max,
            )?,
            icd10_code: icd10(&details.icd10_code)?,
            onset: day_text(onset),
            resolved_on: day_text(resolved),
        })
    }

    /// The allergy banner's facts: whether the patient has allergies, none known, or nobody
    /// recorded either. Roles holding only `allergies.flag` (the front desk) get no substances.
    /// Audited as `allergies.state_read`.
    pub fn allergy_state(&mut self, mrn: &str) -> Result<AllergyState> {
        let reads_list = self.permissions().contains(&Permission::AllergiesRead);
        let permission = if reads_list {
            Permission::AllergiesRead
        } else {
            Permission::AllergiesFlag
        };
        let (patient_id, now, access) =
            self.enter_chart(mrn, "allergies.state_read", permission)?;
        let state = allergy_state(self.connection()?, &patient_id, reads_list)?;
        self.audit_chart_read(
            &patient_id,
            "allergies.state_read",
            now,
            serde_json::json!({ "access": access }),
        )?;
        Ok(state)
    }

    /// Every allergy recorded for the patient (active first, then inactive, then entered in
    /// error) and the banner's state. Audited as `allergies.read`.
    pub fn allergies(&mut self, mrn: &str) -> Result<AllergyList> {
        let (patient_id, now, access) =
            self.enter_chart(mrn, "allergies.read", Permission::AllergiesRead)?;
        let connection = self.connection()?;
        let state = allergy_state(connection, &patient_id, true)?;
        let mut statement = connection
            .prepare_cached(
                "SELECT a.id, a.substance, a.substance_code, a.category, a.reaction, a.severity,
                        a.criticality, a.onset, a.status, a.entered_in_error_reason,
                        coalesce(c.display_name, 'someone'), a.created_at,
                        coalesce(u.display_name, 'someone'), a.updated_at
                 FROM allergies a
                 LEFT JOIN users c ON c.id = a.created_by
                 LEFT JOIN users u ON u.id = a.updated_by
                 WHERE a.patient_id = ?1 AND a.deleted_at IS NULL
                 ORDER BY CASE a.status WHEN 'active' THEN 0 WHEN 'inactive' THEN 1 ELSE 2 END,
                          a.substance COLLATE NOCASE, a.id",
            )
            .map_err(sql_error("reading allergies"))?;
        let allergies: Vec<Allergy> = statement
            .query_map([&patient_id], |row| {
                Ok(Allergy {
                    id: row.get(0)?,
                    substance: row.get(1)?,
                    substance_code: row.get(2)?,
                    category: row.get(3)?,
                    reaction: row.get(4)?,
                    severity: row.get(5)?,
                    criticality: row.get(6)?,
                    onset: row.get(7)?,
                    status: row.get(8)?,
                    entered_in_error_reason: row.get(9)?,
                    recorded_by: row.get(10)?,
                    recorded_at: row.get(11)?,
                    updated_by: row.get(12)?,
                    updated_at: row.get(13)?,
                })
            })
            .map_err(sql_error("reading allergies"))?
            .collect::<std::result::Result<_, _>>()
            .map_err(sql_error("reading allergies"))?;
        drop(statement);
        self.audit_chart_read(
            &patient_id,
            "allergies.read",
            now,
            serde_json::json!({ "access": access, "allergies": allergies.len() }),
        )?;
        Ok(AllergyList { state, allergies })
    }

    /// Records an allergy. An active one withdraws a "no known allergies" confirmation in the
    /// same change (both audited).
    pub fn record_allergy(&mut self, mrn: &str, details: &AllergyDetails) -> Result<AllergyId> {
        let (patient_id, now, _) =
            self.enter_chart(mrn, "allergy.record", Permission::AllergiesWrite)?;
        let checked = self.check_allergy(&patient_id, details)?;
        let by = self.user().id.to_string();
        let stamp = crate::environment::format_timestamp(now);
        self.write(|transaction| {
            if details.status == AllergyStatus::Active {
                withdraw_confirmations(transaction, &patient_id, &stamp, &by)?;
            }
            let id = insert_audited(
                transaction,
                Table::Allergies,
                ("allergy", "allergy.record"),
                &patient_id,
                &[
                    ("patient_id", &patient_id),
                    ("substance", &checked.substance),
                    ("substance_code", &checked.substance_code),
                    ("category", &details.category),
                    ("reaction", &checked.reaction),
                    ("severity", &details.severity),
                    ("criticality", &details.criticality),
                    ("onset", &checked.onset),
                    ("status", &details.status),
                ],
            )?;
            Ok(AllergyId::from_store(id))
        })
    }

    /// Changes an allergy's details or status (active or inactive); audited with before and
    /// after.
    pub fn update_allergy(&mut self, id: &AllergyId, details: &AllergyDetails) -> Result<()> {
        let (patient_id, now) =
            self.enter_row(SafetyList::Allergies, id.as_str(), "allergy.update")?;
        let checked = self.check_allergy(&patient_id, details)?;
        let by = self.user().id.to_string();
        let stamp = crate::environment::format_timestamp(now);
        self.write(|transaction| {
            if details.status == AllergyStatus::Active {
                withdraw_confirmations(transaction, &patient_id, &stamp, &by)?;
            }
            let row = RowChange {
                table: Table::Allergies,
                id: id.as_str(),
                object_type: "allergy",
                patient_id: Some(&patient_id),
            };
            let entry = transaction.entry("allergy.update");
            transaction.change_row(row, entry, |transaction, before| {
                refuse_entered_in_error(before, "allergy")?;
                transaction
                    .execute(
                        "UPDATE allergies SET substance = ?1, substance_code = ?2, category = ?3,
                         reaction = ?4, severity = ?5, criticality = ?6, onset = ?7, status = ?8,
                         updated_at = ?9, updated_by = ?10, version = version + 1 WHERE id = ?11",
                        params![
                            checked.substance,
                            checked.substance_code,
                            details.category,
                            checked.reaction,
                            details.severity,
                            details.criticality,
                            checked.onset,
                            details.status,
                            stamp,
                            by,
                            id
                        ],
                    )
                    .map_err(sql_error("updating the allergy"))?;
                Ok(())
            })
        })
    }

    /// Confirms the patient has no known allergies (who and when are recorded). Refused while an
    /// allergy is active; a confirmation already current is replaced by this one.
    pub fn confirm_no_known_allergies(&mut self, mrn: &str) -> Result<()> {
        let (patient_id, now, _) = self.enter_chart(
            mrn,
            "allergies.no_known_confirm",
            Permission::AllergiesWrite,
        )?;
        if let AllergyState::HasAllergies { substances, .. } =
            allergy_state(self.connection()?, &patient_id, true)?
        {
            return Err(Error::invalid_field(
                "allergy_status",
                format!(
                    "The patient has active allergies recorded ({}): mark them inactive or entered in error first",
                    substances.join(", ")
                ),
            ));
        }
        let by = self.user().id.to_string();
        let stamp = crate::environment::format_timestamp(now);
        self.write(|transaction| {
            withdraw_confirmations(transaction, &patient_id, &stamp, &by)?;
            insert_audited(
                transaction,
                Table::AllergyConfirmations,
                ("allergy_confirmation", "allergies.no_known_confirm"),
                &patient_id,
                &[("patient_id", &patient_id), ("status", &"current")],
            )?;
            Ok(())
        })
    }

    /// Marks an allergy entered-in-error with a reason; it stays in the list, never as a fact.
    pub fn mark_allergy_in_error(&mut self, id: &AllergyId, reason: &str) -> Result<()> {
        self.mark_in_error(SafetyList::Allergies, id.as_str(), reason)
    }

    /// The patient's medications (active first) and the last review of the list; each marked
    /// when someone other than the caller entered or changed it since that review. Audited as
    /// `medications.read`.
    pub fn medications(&mut self, mrn: &str) -> Result<MedicationList> {
        let (patient_id, now, access) =
            self.enter_chart(mrn, "medications.read", Permission::MedicationsRead)?;
        let me = self.user().id.to_string();
        let connection = self.connection()?;
        let last_review: Option<(MedicationReview, String)> = connection
            .query_row(
                "SELECT coalesce(u.display_name, 'someone'), r.created_at FROM medication_reviews r
                 LEFT JOIN users u ON u.id = r.created_by
                 WHERE r.patient_id = ?1 AND r.deleted_at IS NULL
                 ORDER BY r.created_at DESC, r.id DESC LIMIT 1",
                [&patient_id],
                |row| {
                    Ok((
                        MedicationReview {
                            reviewed_by: row.get(0)?,
                            reviewed_at: row.get(1)?,
                        },
                        row.get(1)?,
                    ))
                },
            )
            .optional()
            .map_err(sql_error("reading the medication review"))?;
        let reviewed_at = last_review.as_ref().map(|(_, at)| at.clone());
        let mut statement = connection
            .prepare_cached(
                "SELECT m.id, m.name, m.code, m.dose, m.route, m.frequency, m.started_on,
                        m.stopped_on, m.reason, m.status, m.entered_in_error_reason,
                        coalesce(c.display_name, 'someone'), m.created_at,
                        coalesce(u.display_name, 'someone'), m.updated_at,
                        m.status <> 'entered_in_error' AND coalesce(m.updated_by, '') <> ?2
                          AND (?3 IS NULL OR m.updated_at > ?3)
                 FROM medications m
                 LEFT JOIN users c ON c.id = m.created_by
                 LEFT JOIN users u ON u.id = m.updated_by
                 WHERE m.patient_id = ?1 AND m.deleted_at IS NULL
                 ORDER BY CASE m.status WHEN 'active' THEN 0 WHEN 'stopped' THEN 1 ELSE 2 END,
                          m.name COLLATE NOCASE, m.id",
            )
            .map_err(sql_error("reading medications"))?;
        let medications: Vec<Medication> = statement
            .query_map(params![&patient_id, &me, &reviewed_at], |row| {
                Ok(Medication {
                    id: row.get(0)?,
                    name: row.get(1)?,
                    code: row.get(2)?,
                    dose: row.get(3)?,
                    route: row.get(4)?,
                    frequency: row.get(5)?,
                    started_on: row.get(6)?,
                    stopped_on: row.get(7)?,
                    reason: row.get(8)?,
                    status: row.get(9)?,
                    entered_in_error_reason: row.get(10)?,
                    recorded_by: row.get(11)?,
                    recorded_at: row.get(12)?,
                    updated_by: row.get(13)?,
                    updated_at: row.get(14)?,
                    changed_since_review: row.get(15)?,
                })
            })
            .map_err(sql_error("reading medications"))?
            .collect::<std::result::Result<_, _>>()
            .map_err(sql_error("reading medications"))?;
        drop(statement);
        self.audit_chart_read(
            &patient_id,
            "medications.read",
            now,
            serde_json::json!({ "access": access, "medications": medications.len() }),
        )?;
        Ok(MedicationList {
            medications,
            last_review: last_review.map(|(review, _)| review),
        })
    }

    /// Records a medication the patient takes (or took).
    pub fn record_medication(
        &mut self,
        mrn: &str,
        details: &MedicationDetails,
    ) -> Result<MedicationId> {
        let (patient_id, _, _) =
            self.enter_chart(mrn, "medication.record", Permission::MedicationsWrite)?;
        let checked = self.check_medication(&patient_id, details)?;
        self.write(|transaction| {
            let id = insert_audited(
                transaction,
                Table::Medications,
                ("medication", "medication.record"),
                &patient_id,
                &[
                    ("patient_id", &patient_id),
                    ("name", &checked.name),
                    ("code", &checked.code),
                    ("dose", &checked.dose),
                    ("route", &checked.route),
                    ("frequency", &checked.frequency),
                    ("started_on", &checked.started_on),
                    ("stopped_on", &checked.stopped_on),
                    ("reason", &checked.reason),
                    ("status", &details.status),
                ],
            )?;
            Ok(MedicationId::from_store(id))
        })
    }

    /// Changes a medication (dose, frequency, stopping it…); audited with before and after.
    pub fn update_medication(
        &mut self,
        id: &MedicationId,
        details: &MedicationDetails,
    ) -> Result<()> {
        let (patient_id, now) =
            self.enter_row(SafetyList::Medications, id.as_str(), "medication.update")?;
        let checked = self.check_medication(&patient_id, details)?;
        let by = self.user().id.to_string();
        let stamp = crate::environment::format_timestamp(now);
        self.write(|transaction| {
            let row = RowChange {
                table: Table::Medications,
                id: id.as_str(),
                object_type: "medication",
                patient_id: Some(&patient_id),
            };
            let entry = transaction.entry("medication.update");
            transaction.change_row(row, entry, |transaction, before| {
                refuse_entered_in_error(before, "medication")?;
                transaction
                    .execute(
                        "UPDATE medications SET name = ?1, code = ?2, dose = ?3, route = ?4,
                         frequency = ?5, started_on = ?6, stopped_on = ?7, reason = ?8, status = ?9,
                         updated_at = ?10, updated_by = ?11, version = version + 1 WHERE id = ?12",
                        params![
                            checked.name,
                            checked.code,
                            checked.dose,
                            checked.route,
                            checked.frequency,
                            checked.started_on,
                            checked.stopped_on,
                            checked.reason,
                            details.status,
                            stamp,
                            by,
                            id
                        ],
                    )
                    .map_err(sql_error("updating the medication"))?;
                Ok(())
            })
        })
    }

    /// Marks a medication entered-in-error with a reason.
    pub fn mark_medication_in_error(&mut self, id: &MedicationId, reason: &str) -> Result<()> {
        self.mark_in_error(SafetyList::Medications, id.as_str(), reason)
    }

    /// A clinician's "medication list reviewed" now: shown with its date, and what others
    /// entered before it is no longer highlighted.
    pub fn review_medications(&mut self, mrn: &str) -> Result<()> {
        let (patient_id, _, _) =
            self.enter_chart(mrn, "medications.review", Permission::MedicationsReview)?;
        self.write(|transaction| {
            insert_audited(
                transaction,
                Table::MedicationReviews,
                ("medication_review", "medications.review"),
                &patient_id,
                &[("patient_id", &patient_id)],
            )?;
            Ok(())
        })
    }

    /// The patient's problems (active first). Audited as `problems.read`.
    pub fn problems(&mut self, mrn: &str) -> Result<Vec<Problem>> {
        let (patient_id, now, access) =
            self.enter_chart(mrn, "problems.read", Permission::ProblemsRead)?;
        let connection = self.connection()?;
        let mut statement = connection
            .prepare_cached(
                "SELECT p.id, p.description, p.icd10_code, p.onset, p.resolved_on, p.status,
                        p.entered_in_error_reason, coalesce(c.display_name, 'someone'),
                        p.created_at, coalesce(u.display_name, 'someone'), p.updated_at
                 FROM problems p
                 LEFT JOIN users c ON c.id = p.created_by
                 LEFT JOIN users u ON u.id = p.updated_by
                 WHERE p.patient_id = ?1 AND p.deleted_at IS NULL
                 ORDER BY CASE p.status WHEN 'active' THEN 0 WHEN 'resolved' THEN 1 ELSE 2 END,
                          p.onset DESC, p.description COLLATE NOCASE, p.id",
            )
            .map_err(sql_error("reading problems"))?;
        let problems: Vec<Problem> = statement
            .query_map([&patient_id], |row| {
                Ok(Problem {
                    id: row.get(0)?,
                    description: row.get(1)?,
                    icd10_code: row.get(2)?,
                    onset: row.get(3)?,
                    resolved_on: row.get(4)?,
                    status: row.get(5)?,
                    entered_in_error_reason: row.get(6)?,
                    recorded_by: row.get(7)?,
                    recorded_at: row.get(8)?,
                    updated_by: row.get(9)?,
                    updated_at: row.get(10)?,
                })
            })
            .map_err(sql_error("reading problems"))?
            .collect::<std::result::Result<_, _>>()
            .map_err(sql_error("reading problems"))?;
        drop(statement);
        self.audit_chart_read(
            &patient_id,
            "problems.read",
            now,
            serde_json::json!({ "access": access, "problems": problems.len() }),
        )?;
        Ok(problems)
    }

    /// Records a problem.
    pub fn record_problem(&mut self, mrn: &str, details: &ProblemDetails) -> Result<ProblemId> {
        let (patient_id, _, _) =
            self.enter_chart(mrn, "problem.record", Permission::ProblemsWrite)?;
        let checked = self.check_problem(&patient_id, details)?;
        self.write(|transaction| {
            let id = insert_audited(
                transaction,
                Table::Problems,
                ("problem", "problem.record"),
                &patient_id,
                &[
                    ("patient_id", &patient_id),
                    ("description", &checked.description),
                    ("icd10_code", &checked.icd10_code),
                    ("onset", &checked.onset),
                    ("resolved_on", &checked.resolved_on),
                    ("status", &details.status),
                ],
            )?;
            Ok(ProblemId::from_store(id))
        })
    }

    /// Changes a problem (resolving it, its code…); audited with before and after.
    pub fn update_problem(&mut self, id: &ProblemId, details: &ProblemDetails) -> Result<()> {
        let (patient_id, now) =
            self.enter_row(SafetyList::Problems, id.as_str(), "problem.update")?;
        let checked = self.check_problem(&patient_id, details)?;
        let by = self.user().id.to_string();
        let stamp = crate::environment::format_timestamp(now);
        self.write(|transaction| {
            let row = RowChange {
                table: Table::Problems,
                id: id.as_str(),
                object_type: "problem",
                patient_id: Some(&patient_id),
            };
            let entry = transaction.entry("problem.update");
            transaction.change_row(row, entry, |transaction, before| {
                refuse_entered_in_error(before, "problem")?;
                transaction
                    .execute(
                        "UPDATE problems SET description = ?1, icd10_code = ?2, onset = ?3,
                         resolved_on = ?4, status = ?5, updated_at = ?6, updated_by = ?7,
                         version = version + 1 WHERE id = ?8",
                        params![
                            checked.description,
                            checked.icd10_code,
                            checked.onset,
                            checked.resolved_on,
                            details.status,
                            stamp,
                            by,
                            id
                        ],
                    )
                    .map_err(sql_error("updating the problem"))?;
                Ok(())
            })
        })
    }

    /// Marks a problem entered-in-error with a reason.
    pub fn mark_problem_in_error(&mut self, id: &ProblemId, reason: &str) -> Result<()> {
        self.mark_in_error(SafetyList::Problems, id.as_str(), reason)
    }

    /// Finds the patient of a row of `list` and enters their chart for `action` (the list's
    /// write permission, the restricted-chart rule); `not_found` when there is no such row.
    fn enter_row(
        &mut self,
        list: SafetyList,
        id: &str,
        action: &str,
    ) -> Result<(String, chrono::DateTime<Utc>)> {
        let mrn: Option<String> = self
            .connection()?
            .query_row(&list.mrn_query(), [id], |row| row.get(0))
            .optional()
            .map_err(sql_error("finding the record"))?;
        let Some(mrn) = mrn else {
            self.authorize(action, Some(list.write_permission()), None)?;
            return Err(Error::not_found(format!(
                "There is no {} {id}",
                list.object_type()
            )));
        };
        let (patient_id, now, _) = self.enter_chart(&mrn, action, list.write_permission())?;
        Ok((patient_id, now))
    }

    fn mark_in_error(&mut self, list: SafetyList, id: &str, reason: &str) -> Result<()> {
        let action = match list {
            SafetyList::Allergies => "allergy.mark_in_error",
            SafetyList::Medications => "medication.mark_in_error",
            SafetyList::Problems => "problem.mark_in_error",
        };
        let (patient_id, now) = self.enter_row(list, id, action)?;
        let reason = crate::validation::reason(
            field("reason", "the reason"),
            reason,
            3,
            crate::limits::CORRECTION_REASON.max,
            "Say why it is in error",
        )?;
        let by = self.user().id.to_string();
        let stamp = crate::environment::format_timestamp(now);
        let table = list.table();
        self.write(|transaction| {
            let row = RowChange {
                table,
                id,
                object_type: list.object_type(),
                patient_id: Some(&patient_id),
            };
            let entry = transaction.entry(action);
            transaction.change_row(row, entry, |transaction, before| {
                refuse_entered_in_error(before, list.object_type())?;
                transaction
                    .execute(
                        &format!(
                            "UPDATE {} SET status = 'entered_in_error', entered_in_error_reason = ?1,
                             updated_at = ?2, updated_by = ?3, version = version + 1 WHERE id = ?4",
                            table.name()
                        ),
                        params![reason, stamp, by, id],
                    )
                    .map_err(sql_error("marking it entered-in-error"))?;
                Ok(())
            })
        })
    }
}

fn refuse_entered_in_error(before: &serde_json::Value, what: &str) -> Result<()> {
    if before["status"] == "entered_in_error" {
        return Err(Error::conflict(format!(
            "This {what} is marked entered-in-error and stays so: record it again"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icd10_codes_are_checked_by_shape() {
        let check = |text: &str| icd10(&Some(text.to_owned())).map_err(|error| error.field);
        assert_eq!(check("e11.65"), Ok(Some("E11.65".to_owned())));
        assert_eq!(check("J45"), Ok(Some("J45".to_owned())));
        assert_eq!(check("I10"), Ok(Some("I10".to_owned())));
        for wrong in ["11", "E1", "E11.", "E1165", "E11.65432", "EE1"] {
            assert_eq!(check(wrong), Err(Some("icd10_code".to_owned())), "{wrong}");
        }
    }

    #[test]
    fn closed_sets_accept_their_codes_and_name_the_field_otherwise() {
        assert_eq!(
            AllergyCriticality::from_code("unable-to-assess").ok(),
            Some(AllergyCriticality::UnableToAssess)
        );
        let error = AllergyCategory::from_code("pollen").expect_err("not a category");
        assert_eq!(error.field.as_deref(), Some("category"));
        assert!(error.message.contains("food, medication, environment"));
    }
}
