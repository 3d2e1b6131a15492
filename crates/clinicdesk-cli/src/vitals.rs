//! `clinicdesk vitals …`: record a set (values may carry a unit), the flowsheet, a trend, and
//! marking a value entered-in-error.

use clap::Subcommand;
use clinicdesk_cli::arguments::vital_reading;
use clinicdesk_core::{ObservationId, Result, Session, VitalKind};

use crate::output::Output;

#[derive(Subcommand)]
pub(crate) enum VitalsCommand {
    /// Record a set. Values may carry a unit: `--temperature 98.6F --weight 150lb --height 70in`.
    Record {
        #[arg(long)]
        patient: String,
        #[arg(long)]
        systolic: Option<String>,
        #[arg(long)]
        diastolic: Option<String>,
        #[arg(long)]
        heart_rate: Option<String>,
        #[arg(long)]
        respiratory_rate: Option<String>,
        #[arg(long)]
        temperature: Option<String>,
        #[arg(long)]
        spo2: Option<String>,
        #[arg(long)]
        weight: Option<String>,
        #[arg(long)]
        height: Option<String>,
        #[arg(long)]
        pain: Option<String>,
    },
    /// The flowsheet, newest first.
    List {
        #[arg(long)]
        patient: String,
        #[arg(long, default_value_t = 20, value_parser = clinicdesk_cli::arguments::count)]
        limit: u32,
    },
    /// One vital over time.
    Trend {
        #[arg(long)]
        patient: String,
        vital: String,
    },
    MarkInError {
        observation_id: String,
        #[arg(long)]
        reason: String,
    },
}

pub(crate) fn run_vitals(
    session: &mut Session,
    command: VitalsCommand,
    out: &Output,
) -> Result<()> {
    match command {
        VitalsCommand::Record {
            patient,
            systolic,
            diastolic,
            heart_rate,
            respiratory_rate,
            temperature,
            spo2,
            weight,
            height,
            pain,
        } => {
            let mut readings = Vec::new();
            for (kind, value) in [
                (VitalKind::Systolic, systolic),
                (VitalKind::Diastolic, diastolic),
                (VitalKind::HeartRate, heart_rate),
                (VitalKind::RespiratoryRate, respiratory_rate),
                (VitalKind::Temperature, temperature),
                (VitalKind::OxygenSaturation, spo2),
                (VitalKind::Weight, weight),
                (VitalKind::Height, height),
                (VitalKind::Pain, pain),
            ] {
                if let Some(text) = value {
                    readings.push(vital_reading(kind, &text)?);
                }
            }
            let set = session.record_vitals(&patient, &readings, None)?;
            print_sets(out, &[set]);
        }
        VitalsCommand::List { patient, limit } => {
            let sets = session.vitals_flowsheet(&patient, limit)?;
            print_sets(out, &sets);
        }
        VitalsCommand::Trend { patient, vital } => {
            let kind = VitalKind::from_name(&vital)?;
            let points = session.vitals_trend(&patient, kind, None)?;
            out.value(serde_json::to_value(&points).unwrap_or_default(), || {
                points
                    .iter()
                    .map(|p| {
                        format!(
                            "{}  {} {}{}",
                            p.effective_at,
                            p.value,
                            kind.definition().display_unit,
                            flag(p.interpretation.as_deref())
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        VitalsCommand::MarkInError {
            observation_id,
            reason,
        } => {
            session.mark_observation_in_error(&ObservationId::parse(&observation_id)?, &reason)?;
            out.value(
                serde_json::json!({ "entered_in_error": observation_id }),
                || "Marked entered-in-error. Record the right value as a new set.".to_owned(),
            );
        }
    }
    Ok(())
}

fn flag(interpretation: Option<&str>) -> String {
    match interpretation {
        Some("critical_low") => "  !! CRITICAL LOW".into(),
        Some("critical_high") => "  !! CRITICAL HIGH".into(),
        Some("low") => "  (low)".into(),
        Some("high") => "  (high)".into(),
        _ => String::new(),
    }
}

fn print_sets(out: &Output, sets: &[clinicdesk_core::VitalsSet]) {
    out.value(serde_json::to_value(sets).unwrap_or_default(), || {
        let mut text = String::new();
        for set in sets {
            text.push_str(&format!(
                "{}  recorded by {}  (set {})\n",
                set.effective_at, set.recorded_by, set.id
            ));
            for o in &set.observations {
                let error = if o.status == "entered_in_error" {
                    format!(
                        "  [entered in error: {}]",
                        o.entered_in_error_reason.as_deref().unwrap_or("")
                    )
                } else {
                    String::new()
                };
                text.push_str(&format!(
                    "  {:<26} {:>6} {:<7}{}{}   {}\n",
                    o.kind.definition().label,
                    o.value,
                    o.kind.definition().display_unit,
                    flag(o.interpretation.as_deref()),
                    error,
                    o.id
                ));
            }
        }
        if text.is_empty() {
            "No vitals recorded.".to_owned()
        } else {
            text.trim_end().to_owned()
        }
    });
}
