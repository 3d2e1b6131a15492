//! The clinic's day as each role starts it: today's appointments with where each patient is
//! (booked, waiting for the nurse, ready for the clinician, with the clinician, done, no-show),
//! and, for roles that may read vital signs, what the nurse recorded today.

use clinicdesk_error::Result;
use clinicdesk_store::rusqlite::OptionalExtension;
use clinicdesk_store::sql_error;
use serde::{Deserialize, Serialize};

use crate::environment::{format_timestamp, parse_timestamp};
use crate::permission::Permission;
use crate::scheduling::{Appointment, AppointmentStatus};
use crate::session::Session;
use crate::vital_signs::VitalKind;

/// Where a patient with an appointment today is.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PatientFlow {
    /// Not here yet.
    Booked,
    /// Checked in; no vital signs recorded today yet.
    WaitingForNurse,
    /// Checked in, vital signs recorded today.
    ReadyForClinician,
    /// The visit has started.
    WithClinician,
    Done,
    NoShow,
}

/// One appointment of today's board.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TodayEntry {
    pub appointment: Appointment,
    pub flow: PatientFlow,
    /// When the patient was checked in (UTC), for the nurse's oldest-first list.
    pub arrived_at: Option<String>,
    /// Today's vital signs in short ("BP 150/95 mmHg · HR 88 /min"), for roles that may read them.
    pub vitals_today: Option<String>,
    /// The appointment is with the provider who is the signed-in person.
    pub mine: bool,
    /// The allergy badge, for roles that may see it (substances only for those that read the
    /// list); none for a restricted chart.
    pub allergies: Option<crate::safety_facts::AllergyState>,
}

impl Session {
    /// Today's appointments of the whole clinic in the clinic's zone, with where each patient
    /// is; cancelled ones are left out.
    pub fn today_board(&mut self) -> Result<Vec<TodayEntry>> {
        let now = self.environment.now();
        let zone = self.zone()?;
        let today = now.with_timezone(&zone).date_naive();
        let appointments = self.day_schedule(None, today)?;
        let may_read_vitals = self.permissions().contains(&Permission::VitalsRead);
        let reads_allergies = self.permissions().contains(&Permission::AllergiesRead);
        let sees_allergies =
            reads_allergies || self.permissions().contains(&Permission::AllergiesFlag);
        let me = self.user().id.to_string();
        let day_start = crate::scheduling::local_to_utc(
            zone,
            today.and_hms_opt(0, 0, 0).unwrap_or_default(),
            crate::scheduling::RepeatedHour::First,
        )?;
        let connection = self.connection()?;
        let mut entries = Vec::new();
        for appointment in appointments {
            if appointment.status == AppointmentStatus::Cancelled {
                continue;
            }
            let (arrived_at, patient_id, mine, restricted): (Option<String>, String, bool, bool) = connection
                .query_row(
                    "SELECT a.arrived_at, a.patient_id,
                            EXISTS (SELECT 1 FROM providers p WHERE p.id = a.provider_id AND p.user_id = ?2),
                            (SELECT restricted FROM patients WHERE id = a.patient_id)
                     FROM appointments a WHERE a.id = ?1",
                    [appointment.id.as_str(), me.as_str()],
                    |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
                )
                .map_err(sql_error("reading today's board"))?;
            let latest_set: Option<String> = connection
                .query_row(
                    "SELECT id FROM vitals_sets WHERE patient_id = ?1 AND deleted_at IS NULL
                       AND effective_at >= ?2 ORDER BY effective_at DESC LIMIT 1",
                    [patient_id.as_str(), format_timestamp(day_start).as_str()],
                    |row| row.get(0),
                )
                .optional()
                .map_err(sql_error("reading today's board"))?;
            let flow = match appointment.status {
                AppointmentStatus::Booked => PatientFlow::Booked,
                AppointmentStatus::Arrived if latest_set.is_some() => {
                    PatientFlow::ReadyForClinician
                }
                AppointmentStatus::Arrived => PatientFlow::WaitingForNurse,
                AppointmentStatus::InProgress => PatientFlow::WithClinician,
                AppointmentStatus::Completed => PatientFlow::Done,
                AppointmentStatus::NoShow => PatientFlow::NoShow,
                AppointmentStatus::Cancelled => continue,
            };
            let vitals_today = match (&latest_set, may_read_vitals) {
                (Some(set), true) => Some(vitals_in_short(connection, set)?),
                _ => None,
            };
            let allergies = if sees_allergies && !restricted {
                Some(crate::safety_facts::allergy_state(
                    connection,
                    &patient_id,
                    reads_allergies,
                )?)
            } else {
                None
            };
            entries.push(TodayEntry {
                appointment,
                flow,
                arrived_at: arrived_at.filter(|at| parse_timestamp(at).is_some()),
                vitals_today,
                mine,
                allergies,
            });
        }
        Ok(entries)
    }
}

/// A vitals set in short: "BP 150/95 mmHg · HR 88 /min · T 37.2 °C", values entered in error left
/// out, abnormal ones marked with "!".
fn vitals_in_short(
    connection: &clinicdesk_store::rusqlite::Connection,
    set_id: &str,
) -> Result<String> {
    let mut statement = connection
        .prepare_cached(
            "SELECT loinc_code, value, interpretation FROM vital_observations
             WHERE vitals_set_id = ?1 AND status = 'final' AND deleted_at IS NULL",
        )
        .map_err(sql_error("reading today's vital signs"))?;
    let rows = statement
        .query_map([set_id], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, f64>(1)?,
                row.get::<_, Option<String>>(2)?,
            ))
        })
        .map_err(sql_error("reading today's vital signs"))?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(sql_error("reading today's vital signs"))?;
    let value_of = |kind: VitalKind| {
        rows.iter()
            .find(|(loinc, _, _)| VitalKind::from_loinc(loinc) == Some(kind))
            .map(|(_, value, interpretation)| {
                let flag = match interpretation.as_deref() {
                    Some("normal") | None => "",
                    Some(_) => "!",
                };
                (crate::vital_signs::trim_number(*value), flag)
            })
    };
    let mut parts = Vec::new();
    if let (Some((systolic, a)), Some((diastolic, b))) = (
        value_of(VitalKind::Systolic),
        value_of(VitalKind::Diastolic),
    ) {
        let flag = if a.is_empty() && b.is_empty() {
            ""
        } else {
            "!"
        };
        parts.push(format!("BP {systolic}/{diastolic} mmHg{flag}"));
    }
    for (kind, short) in [
        (VitalKind::HeartRate, "HR"),
        (VitalKind::RespiratoryRate, "RR"),
        (VitalKind::Temperature, "T"),
        (VitalKind::OxygenSaturation, "SpO₂"),
        (VitalKind::Weight, "Wt"),
        (VitalKind::Pain, "Pain"),
    ] {
        if let Some((value, flag)) = value_of(kind) {
            parts.push(format!(
                "{short} {value} {}{flag}",
                kind.definition().display_unit
            ));
        }
    }
    Ok(parts.join(" · "))
}
