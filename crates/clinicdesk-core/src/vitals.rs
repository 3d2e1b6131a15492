//! Recording vitals sets (validated, converted, flagged, BMI computed), marking an observation
//! entered-in-error, and reading them back as a flowsheet and per-vital trends.

use chrono::{DateTime, Utc};
use clinicdesk_error::{Error, Result};
use clinicdesk_store::rusqlite::{params, OptionalExtension};
use clinicdesk_store::sql_error;
use serde::{Deserialize, Serialize};

use crate::recorded_write::RowChange;
use crate::tables::Table;

use crate::environment::{format_timestamp, parse_timestamp};
use crate::ids::{ObservationId, VitalsSetId};
use crate::permission::Permission;
use crate::session::Session;
use crate::vital_signs::{body_mass_index, check_plausible, interpret, to_canonical, VitalKind};

/// One value as entered, in any accepted unit.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VitalReading {
    pub kind: VitalKind,
    pub value: f64,
    /// `None` for the canonical unit; else e.g. `°F`, `lb`, `in`.
    #[serde(default)]
    pub unit: Option<String>,
}

/// A stored observation.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    pub id: ObservationId,
    pub kind: VitalKind,
    pub loinc: String,
    pub value: f64,
    pub unit: String,
    pub interpretation: Option<String>,
    pub status: String,
    pub entered_in_error_reason: Option<String>,
}

/// A vitals set as recorded.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VitalsSet {
    pub id: VitalsSetId,
    pub effective_at: String,
    pub recorded_by: String,
    pub observations: Vec<Observation>,
}

/// One point of a trend.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendPoint {
    pub effective_at: String,
    pub value: f64,
    pub interpretation: Option<String>,
}

struct Prepared {
    kind: VitalKind,
    value: f64,
    interpretation: Option<&'static str>,
}

impl VitalReading {
    /// The value in the vital's canonical unit (°F → Cel, lb → kg, in → cm), rounded to its
    /// precision, refused as `invalid_input` naming the vital when the unit is not one it takes or
    /// the value is not plausible.
    pub fn canonical_value(&self) -> Result<f64> {
        let value = to_canonical(self.kind, self.value, self.unit.as_deref())?;
        check_plausible(self.kind, value).map_err(|error| match self.unit.as_deref() {
            Some(unit) if !unit.trim().is_empty() && unit != self.kind.definition().unit => {
                Error::invalid_field(
                    self.kind.field_name(),
                    format!(
                        "{} (entered as {} {unit})",
                        error.message,
                        crate::vital_signs::trim_number(self.value)
                    ),
                )
            }
            _ => error,
        })?;
        Ok(value)
    }
}

fn prepare(readings: &[VitalReading], latest_height_cm: Option<f64>) -> Result<Vec<Prepared>> {
    if readings.is_empty() {
        return Err(Error::invalid_field(
            "readings",
            "a vitals set needs at least one value",
        ));
    }
    let mut prepared: Vec<Prepared> = Vec::new();
    for reading in readings {
        if reading.kind == VitalKind::Bmi {
            return Err(Error::invalid_field(
                "bmi",
                "BMI is computed from weight and height; enter those instead",
            ));
        }
        if prepared.iter().any(|p| p.kind == reading.kind) {
            return Err(Error::invalid_field(
                reading.kind.field_name(),
                format!(
                    "{} is given twice in one set",
                    reading.kind.definition().label
                ),
            ));
        }
        let value = reading.canonical_value()?;
        prepared.push(Prepared {
            kind: reading.kind,
            value,
            interpretation: interpret(reading.kind, value).map(|i| i.code()),
        });
    }
    let find = |kind: VitalKind| prepared.iter().find(|p| p.kind == kind).map(|p| p.value);
    if let (Some(systolic), Some(diastolic)) =
        (find(VitalKind::Systolic), find(VitalKind::Diastolic))
    {
        if diastolic >= systolic {
            return Err(Error::invalid_field(
                "diastolic",
                format!(
                    "diastolic blood pressure {diastolic} mm[Hg] must be below systolic {systolic} mm[Hg]; check the reading"
                ),
            ));
        }
    }
    if let Some(weight) = find(VitalKind::Weight) {
        if let Some(height) = find(VitalKind::Height).or(latest_height_cm) {
            let bmi = body_mass_index(weight, height);
            prepared.push(Prepared {
                kind: VitalKind::Bmi,
                value: bmi,
                interpretation: interpret(VitalKind::Bmi, bmi).map(|i| i.code()),
            });
        }
    }
    Ok(prepared)
}

impl Session {
    /// Records a vitals set for the patient with this MRN: every value checked and converted to
    /// its canonical unit, flagged, BMI added; one transaction with its audit entry and outbox rows.
    pub fn record_vitals(
        &mut self,
        mrn: &str,
        readings: &[VitalReading],
        effective_at: Option<DateTime<Utc>>,
    ) -> Result<VitalsSet> {
        let (patient_id, now, _) =
            self.enter_chart(mrn, "vitals.record", Permission::VitalsWrite)?;
        let effective = effective_at.unwrap_or(now);
        if effective > now + chrono::Duration::minutes(5) {
            return Err(Error::invalid_input(
                "vitals cannot be recorded for a time in the future",
            ));
        }
        let latest_height: Option<f64> = self
            .connection()?
            .query_row(
                "SELECT value FROM vital_observations WHERE patient_id = ?1 AND loinc_code = '8302-2' AND status = 'final'
                 ORDER BY effective_at DESC LIMIT 1",
                [&patient_id],
                |row| row.get(0),
            )
            .optional()
            .map_err(sql_error("reading the latest height"))?;
        let prepared = prepare(readings, latest_height)?;
        let by = self.user().id.to_string();
        let set_id = self.write(|transaction| {
            let effective = format_timestamp(effective);
            let set_id = transaction.insert_row(
                Table::VitalsSets,
                &[
                    ("patient_id", &patient_id),
                    ("recorded_by", &by),
                    ("effective_at", &effective),
                ],
            )?;
            let mut recorded = Vec::new();
            for item in &prepared {
                let definition = item.kind.definition();
                transaction.insert_row(
                    Table::VitalObservations,
                    &[
                        ("vitals_set_id", &set_id),
                        ("patient_id", &patient_id),
                        ("effective_at", &effective),
                        ("loinc_code", &definition.loinc),
                        ("value", &item.value),
                        ("unit", &definition.unit),
                        ("interpretation", &item.interpretation),
                    ],
                )?;
                recorded.push(serde_json::json!({ "loinc": definition.loinc, "value": item.value, "unit": definition.unit, "interpretation": item.interpretation }));
            }
            transaction.audit(transaction.entry("vitals.record")
                    .object("vitals_set", &set_id)
                    .patient(&patient_id)
                    .details(serde_json::json!({ "after": { "effective_at": effective, "observations": recorded } })),
            )?;
            Ok(set_id)
        })?;
        let mut sets = self.read_sets(&patient_id, Some(&set_id), 1)?;
        sets.pop()
            .ok_or_else(|| Error::unexpected("the recorded set could not be read back"))
    }

    fn read_sets(
        &self,
        patient_id: &str,
        only: Option<&str>,
        limit: u32,
    ) -> Result<Vec<VitalsSet>> {
        let connection = self.connection()?;
        let mut statement = connection
            .prepare(
                "SELECT s.id, s.effective_at, u.username FROM vitals_sets s JOIN users u ON u.id = s.recorded_by
                 WHERE s.patient_id = ?1 AND (?2 IS NULL OR s.id = ?2) AND s.deleted_at IS NULL
                 ORDER BY s.effective_at DESC LIMIT ?3",
            )
            .map_err(sql_error("reading vitals"))?;
        let mut sets: Vec<VitalsSet> = statement
            .query_map(params![patient_id, only, limit], |row| {
                Ok(VitalsSet {
                    id: row.get(0)?,
                    effective_at: row.get(1)?,
                    recorded_by: row.get(2)?,
                    observations: Vec::new(),
                })
            })
            .map_err(sql_error("reading vitals"))?
            .collect::<Result<_, _>>()
            .map_err(sql_error("reading vitals"))?;
        let mut observations = connection
            .prepare(
                "SELECT id, loinc_code, value, unit, interpretation, status, entered_in_error_reason
                 FROM vital_observations WHERE vitals_set_id = ?1 ORDER BY rowid",
            )
            .map_err(sql_error("reading vitals"))?;
        for set in &mut sets {
            set.observations = observations
                .query_map([&set.id], |row| {
                    let loinc: String = row.get(1)?;
                    Ok(Observation {
                        id: row.get(0)?,
                        kind: VitalKind::from_loinc(&loinc).unwrap_or(VitalKind::Pain),
                        loinc,
                        value: row.get(2)?,
                        unit: row.get(3)?,
                        interpretation: row.get(4)?,
                        status: row.get(5)?,
                        entered_in_error_reason: row.get(6)?,
                    })
                })
                .map_err(sql_error("reading vitals"))?
                .collect::<Result<_, _>>()
                .map_err(sql_error("reading vitals"))?;
        }
        Ok(sets)
    }

    /// The patient's vitals sets, newest first (the flowsheet). Audited as a chart read.
    pub fn vitals_flowsheet(&mut self, mrn: &str, limit: u32) -> Result<Vec<VitalsSet>> {
        let (patient_id, now, access) =
            self.enter_chart(mrn, "vitals.read", Permission::VitalsRead)?;
        let sets = self.read_sets(&patient_id, None, limit.clamp(1, 1000))?;
        self.audit_chart_read(
            &patient_id,
            "vitals.read",
            now,
            serde_json::json!({ "access": access, "sets": sets.len() }),
        )?;
        Ok(sets)
    }

    /// One vital over time, oldest first, without entered-in-error values.
    pub fn vitals_trend(
        &mut self,
        mrn: &str,
        kind: VitalKind,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<TrendPoint>> {
        let (patient_id, now, access) =
            self.enter_chart(mrn, "vitals.read", Permission::VitalsRead)?;
        let since = since.map(format_timestamp).unwrap_or_else(|| "0000".into());
        let points = {
            let connection = self.connection()?;
            let mut statement = connection
                .prepare(
                    "SELECT effective_at, value, interpretation FROM vital_observations
                     WHERE patient_id = ?1 AND loinc_code = ?2 AND status = 'final' AND effective_at >= ?3 AND deleted_at IS NULL
                     ORDER BY effective_at",
                )
                .map_err(sql_error("reading the trend"))?;
            let rows = statement
                .query_map(params![patient_id, kind.definition().loinc, since], |row| {
                    Ok(TrendPoint {
                        effective_at: row.get(0)?,
                        value: row.get(1)?,
                        interpretation: row.get(2)?,
                    })
                })
                .map_err(sql_error("reading the trend"))?;
            rows.collect::<Result<Vec<_>, _>>()
                .map_err(sql_error("reading the trend"))?
        };
        self.audit_chart_read(
            &patient_id,
            "vitals.read",
            now,
            serde_json::json!({ "access": access, "trend": kind }),
        )?;
        Ok(points)
    }

    /// Marks an observation entered-in-error with a reason. Nothing is edited or deleted; record
    /// the right value as a new set.
    pub fn mark_observation_in_error(
        &mut self,
        observation_id: &ObservationId,
        reason: &str,
    ) -> Result<()> {
        let patient_mrn: Option<String> = self
            .connection()?
            .query_row(
                "SELECT p.mrn FROM vital_observations o JOIN patients p ON p.id = o.patient_id WHERE o.id = ?1",
                [observation_id],
                |row| row.get(0),
            )
            .optional()
            .map_err(sql_error("finding the observation"))?;
        let Some(mrn) = patient_mrn else {
            if !self.permissions().contains(&Permission::VitalsWrite) {
                self.authorize("vitals.mark_in_error", Some(Permission::VitalsWrite), None)?;
            }
            return Err(Error::not_found(format!(
                "there is no observation {observation_id}"
            )));
        };
        let (patient_id, now, _) =
            self.enter_chart(&mrn, "vitals.mark_in_error", Permission::VitalsWrite)?;
        let reason = crate::validation::reason(
            crate::validation::field("reason", "the reason"),
            reason,
            3,
            crate::limits::CORRECTION_REASON.max,
            "Say why the value is in error",
        )?;
        let by = self.user().id.to_string();
        self.write(|transaction| {
            let row = RowChange { table: Table::VitalObservations,
                id: observation_id,
                object_type: "vital_observation",
                patient_id: Some(&patient_id) };
            let entry = transaction.entry("vitals.mark_in_error");
            transaction.change_row(row, entry, |transaction, before| {
                if before["status"] != "final" {
                    return Err(Error::conflict("this observation is already marked entered-in-error"));
                }
                transaction
                    .execute(
                    "UPDATE vital_observations SET status = 'entered_in_error', entered_in_error_reason = ?1,
                        updated_at = ?2, updated_by = ?3, version = version + 1 WHERE id = ?4",
                    params![reason, format_timestamp(now), by, observation_id],
                )
                .map_err(sql_error("marking the observation"))?;
                Ok(())
            })
        })
    }
}

/// Parses a time given on the command line or from the UI.
pub fn parse_effective_time(text: &str) -> Result<DateTime<Utc>> {
    parse_timestamp(text).ok_or_else(|| {
        Error::invalid_input(format!("{text:?} is not a time like 2026-11-21T09:30:00Z"))
    })
}
