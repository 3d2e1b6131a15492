//! Commands for the clinic's daily work: patients, providers, appointments, vitals and notes.

use chrono::NaiveDate;
use clap::Subcommand;
use clinicdesk_core::scheduling::{parse_local_time, parse_window};
use clinicdesk_core::{
    AppointmentStatus, BookingRequest, DemographicsChange, Error, ErrorCode, Repeat, Result,
    Session, Sex, VitalKind, VitalReading,
};

use crate::Output;

#[derive(Subcommand)]
pub enum ProviderCommand {
    /// Add a provider (optionally linked to a user account).
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        user: Option<String>,
        #[arg(long)]
        specialty: Option<String>,
    },
    List,
    /// Set weekly working hours: `--days 1-5 --window 08:00-12:00 --window 13:00-17:00`.
    Hours {
        provider_id: String,
        /// ISO weekdays: 1 = Monday … 7 = Sunday; a list (1,3,5) or a range (1-5).
        #[arg(long)]
        days: Option<String>,
        #[arg(long = "window")]
        windows: Vec<String>,
    },
    /// Mark days off (inclusive).
    DayOff {
        provider_id: String,
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: Option<String>,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Add an appointment type with its default length.
    AddType {
        #[arg(long)]
        name: String,
        #[arg(long)]
        minutes: u32,
    },
    Types,
}

#[derive(Subcommand)]
pub enum AppointmentCommand {
    /// Book (exit 7 with what it collides with); prints the appointment id(s), the last one last.
    Book {
        #[arg(long)]
        patient: String,
        #[arg(long)]
        provider: String,
        /// Local time in the clinic's zone, `YYYY-MM-DD HH:MM`.
        #[arg(long)]
        at: String,
        #[arg(long)]
        minutes: Option<u32>,
        #[arg(long = "type")]
        type_id: Option<String>,
        #[arg(long)]
        reason: Option<String>,
        /// Book outside the provider's working hours on purpose.
        #[arg(long)]
        outside_hours: bool,
        /// Repeat every N weeks (needs --until or --times).
        #[arg(long)]
        every_weeks: Option<u32>,
        #[arg(long)]
        until: Option<String>,
        #[arg(long)]
        times: Option<u32>,
    },
    Reschedule {
        appointment_id: String,
        #[arg(long)]
        at: String,
        #[arg(long)]
        minutes: Option<u32>,
        /// The version you saw; refused if someone changed it since.
        #[arg(long)]
        expect_version: Option<i64>,
        #[arg(long)]
        outside_hours: bool,
    },
    Cancel {
        appointment_id: String,
        #[arg(long)]
        reason: String,
    },
    /// arrived (check-in), in_progress, completed, no_show.
    Status {
        appointment_id: String,
        status: String,
    },
    /// A provider's (or the clinic's) day or week.
    List {
        #[arg(long)]
        provider: Option<String>,
        /// Local date, default today.
        #[arg(long)]
        date: Option<String>,
        #[arg(long)]
        week: bool,
    },
    NextFree {
        #[arg(long)]
        provider: String,
        #[arg(long)]
        minutes: u32,
        /// Local time to search from, default now.
        #[arg(long)]
        from: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum VitalsCommand {
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
        #[arg(long, default_value_t = 20)]
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

#[derive(Subcommand)]
pub enum NoteCommand {
    /// Write a note (clinicians: clinical; nurses: nursing).
    Add {
        #[arg(long)]
        patient: String,
        #[arg(long)]
        title: Option<String>,
        #[arg(long)]
        text: String,
    },
    Addendum {
        note_id: String,
        #[arg(long)]
        patient: String,
        #[arg(long)]
        text: String,
    },
    /// Notes with addenda, newest first; --search finds words within this patient's notes.
    List {
        #[arg(long)]
        patient: String,
        #[arg(long)]
        search: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
}

fn date(text: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        Error::new(
            ErrorCode::Usage,
            format!("{text:?} is not a date like 2026-11-23"),
        )
    })
}

fn weekdays(text: &str) -> Result<Vec<u32>> {
    let bad = || {
        Error::new(
            ErrorCode::Usage,
            format!("--days {text:?}: use 1-5 or 1,3,5 (1 = Monday)"),
        )
    };
    if let Some((a, b)) = text.split_once('-') {
        let (a, b): (u32, u32) = (
            a.trim().parse().map_err(|_| bad())?,
            b.trim().parse().map_err(|_| bad())?,
        );
        return Ok((a..=b).collect());
    }
    text.split(',')
        .map(|d| d.trim().parse().map_err(|_| bad()))
        .collect()
}

fn print_appointments(out: &Output, appointments: &[clinicdesk_core::Appointment]) {
    out.value(
        serde_json::to_value(appointments).unwrap_or_default(),
        || {
            if appointments.is_empty() {
                return "No appointments.".to_owned();
            }
            appointments
                .iter()
                .map(|a| {
                    format!(
                        "{}–{}  {:<12} {:<24} MRN {}  {:<11} {}",
                        a.local_start,
                        &a.local_end[11..],
                        a.provider_name,
                        a.patient_name,
                        a.mrn,
                        a.status,
                        a.id
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        },
    );
}

pub fn run_provider(session: &mut Session, command: ProviderCommand, out: &Output) -> Result<()> {
    match command {
        ProviderCommand::Add {
            name,
            user,
            specialty,
        } => {
            let provider = session.add_provider(&name, user.as_deref(), specialty.as_deref())?;
            out.value(serde_json::to_value(&provider).unwrap_or_default(), || {
                format!(
                    "Added {}. Provider id:\n{}",
                    provider.display_name, provider.id
                )
            });
        }
        ProviderCommand::List => {
            let providers = session.list_providers()?;
            out.value(serde_json::to_value(&providers).unwrap_or_default(), || {
                providers
                    .iter()
                    .map(|p| {
                        format!(
                            "{}  {}{}",
                            p.id,
                            p.display_name,
                            p.specialty
                                .as_deref()
                                .map(|s| format!(" ({s})"))
                                .unwrap_or_default()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        ProviderCommand::Hours {
            provider_id,
            days,
            windows,
        } => {
            if let Some(days) = days {
                let windows = windows
                    .iter()
                    .map(|w| parse_window(w))
                    .collect::<Result<Vec<_>>>()?;
                session.set_working_hours(&provider_id, &weekdays(&days)?, &windows)?;
            }
            let hours = session.working_hours(&provider_id)?;
            out.value(serde_json::to_value(&hours).unwrap_or_default(), || {
                const NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
                if hours.is_empty() {
                    return "No working hours set.".to_owned();
                }
                hours
                    .iter()
                    .map(|w| {
                        format!(
                            "{} {:02}:{:02}–{:02}:{:02}",
                            NAMES[(w.weekday - 1) as usize],
                            w.start_minute / 60,
                            w.start_minute % 60,
                            w.end_minute / 60,
                            w.end_minute % 60
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        ProviderCommand::DayOff {
            provider_id,
            from,
            to,
            reason,
        } => {
            let first = date(&from)?;
            let last = to.as_deref().map(date).transpose()?.unwrap_or(first);
            session.add_day_off(&provider_id, first, last, reason.as_deref())?;
            out.value(
                serde_json::json!({ "provider_id": provider_id, "from": first, "to": last }),
                || format!("Days off recorded: {first} to {last}."),
            );
        }
        ProviderCommand::AddType { name, minutes } => {
            let kind = session.add_appointment_type(&name, minutes)?;
            out.value(serde_json::to_value(&kind).unwrap_or_default(), || {
                format!(
                    "Added {} ({} min). Type id:\n{}",
                    kind.name, kind.default_minutes, kind.id
                )
            });
        }
        ProviderCommand::Types => {
            let kinds = session.list_appointment_types()?;
            out.value(serde_json::to_value(&kinds).unwrap_or_default(), || {
                kinds
                    .iter()
                    .map(|k| format!("{}  {} ({} min)", k.id, k.name, k.default_minutes))
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
    }
    Ok(())
}

pub fn run_appointment(
    session: &mut Session,
    command: AppointmentCommand,
    out: &Output,
) -> Result<()> {
    match command {
        AppointmentCommand::Book {
            patient,
            provider,
            at,
            minutes,
            type_id,
            reason,
            outside_hours,
            every_weeks,
            until,
            times,
        } => {
            let repeat = match (every_weeks, &until, times) {
                (None, None, None) => None,
                (every, until, times) => Some(Repeat {
                    every_weeks: every.unwrap_or(1),
                    until: until.as_deref().map(date).transpose()?,
                    count: times,
                }),
            };
            let booked = session.book_appointment(&BookingRequest {
                mrn: patient,
                provider_id: provider,
                starts_local: parse_local_time(&at)?,
                minutes,
                appointment_type_id: type_id,
                reason,
                outside_hours_override: outside_hours,
                repeat,
            })?;
            print_appointments(out, &booked);
        }
        AppointmentCommand::Reschedule {
            appointment_id,
            at,
            minutes,
            expect_version,
            outside_hours,
        } => {
            let moved = session.reschedule_appointment(
                &appointment_id,
                parse_local_time(&at)?,
                minutes,
                expect_version,
                outside_hours,
            )?;
            print_appointments(out, &[moved]);
        }
        AppointmentCommand::Cancel {
            appointment_id,
            reason,
        } => {
            let cancelled = session.set_appointment_status(
                &appointment_id,
                AppointmentStatus::Cancelled,
                Some(&reason),
            )?;
            print_appointments(out, &[cancelled]);
        }
        AppointmentCommand::Status {
            appointment_id,
            status,
        } => {
            let changed = session.set_appointment_status(
                &appointment_id,
                AppointmentStatus::from_code(&status)?,
                None,
            )?;
            print_appointments(out, &[changed]);
        }
        AppointmentCommand::List {
            provider,
            date: day,
            week,
        } => {
            let day = match day {
                Some(text) => date(&text)?,
                None => chrono::Local::now().date_naive(),
            };
            let list = if week {
                session.week_schedule(provider.as_deref(), day)?
            } else {
                session.day_schedule(provider.as_deref(), day)?
            };
            print_appointments(out, &list);
        }
        AppointmentCommand::NextFree {
            provider,
            minutes,
            from,
        } => {
            let from = match from {
                Some(text) => parse_local_time(&text)?,
                None => chrono::Local::now().naive_local(),
            };
            let slot = session.next_free_slot(&provider, minutes, from)?;
            out.value(serde_json::json!({ "next_free": slot.map(|s| s.format("%Y-%m-%d %H:%M").to_string()) }), || match slot {
                Some(slot) => slot.format("%Y-%m-%d %H:%M").to_string(),
                None => "No free slot in the next 90 days.".to_owned(),
            });
        }
    }
    Ok(())
}

/// `98.6F`, `150lb`, `70 in`, `120` → value and unit.
fn value_and_unit(kind: VitalKind, text: &str) -> Result<VitalReading> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().map_err(|_| {
        Error::invalid_input(format!(
            "{} {text:?} is not a number",
            kind.definition().label
        ))
    })?;
    let unit = unit.trim();
    Ok(VitalReading {
        kind,
        value,
        unit: (!unit.is_empty()).then(|| unit.to_owned()),
    })
}

pub fn run_vitals(session: &mut Session, command: VitalsCommand, out: &Output) -> Result<()> {
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
                    readings.push(value_and_unit(kind, &text)?);
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
                            kind.definition().unit,
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
            session.mark_observation_in_error(&observation_id, &reason)?;
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
                    o.unit,
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

pub fn run_note(session: &mut Session, command: NoteCommand, out: &Output) -> Result<()> {
    match command {
        NoteCommand::Add {
            patient,
            title,
            text,
        } => {
            let kind = session.default_note_kind();
            let id = session.write_note(&patient, kind, title.as_deref(), &text, None)?;
            out.value(serde_json::json!({ "note_id": id }), || {
                format!("Saved. Note id:\n{id}")
            });
        }
        NoteCommand::Addendum {
            note_id,
            patient,
            text,
        } => {
            let kind = session.default_note_kind();
            let id = session.write_note(&patient, kind, None, &text, Some(&note_id))?;
            out.value(serde_json::json!({ "note_id": id }), || {
                format!("Addendum saved. Id:\n{id}")
            });
        }
        NoteCommand::List {
            patient,
            search,
            limit,
        } => {
            let notes = session.list_notes(&patient, search.as_deref(), limit)?;
            out.value(serde_json::to_value(&notes).unwrap_or_default(), || {
                let mut text = String::new();
                for note in &notes {
                    text.push_str(&format!(
                        "── {} · {} · {} note · {}\n",
                        note.written_at, note.author, note.kind, note.id
                    ));
                    if let Some(title) = &note.title {
                        text.push_str(&format!("{title}\n"));
                    }
                    text.push_str(&format!("{}\n", note.body));
                    for addendum in &note.addenda {
                        text.push_str(&format!(
                            "   + Addendum {} · {}: {}\n",
                            addendum.written_at, addendum.author, addendum.body
                        ));
                    }
                }
                if text.is_empty() {
                    "No notes.".to_owned()
                } else {
                    text.trim_end().to_owned()
                }
            });
        }
    }
    Ok(())
}

/// Extra patient commands: search, update, delete, merge.
#[derive(Subcommand)]
pub enum PatientRecordCommand {
    /// Find patients by name (typos welcome), MRN, date of birth or phone; best 20.
    Search {
        query: Vec<String>,
    },
    Update {
        mrn: String,
        #[arg(long)]
        given: Option<String>,
        #[arg(long)]
        family: Option<String>,
        #[arg(long)]
        dob: Option<String>,
        #[arg(long)]
        sex: Option<String>,
        #[arg(long)]
        phone: Option<String>,
        #[arg(long)]
        expect_version: Option<i64>,
    },
    /// Delete a record registered by mistake (kept, hidden).
    Delete {
        mrn: String,
        #[arg(long)]
        reason: String,
    },
    /// Merge MERGED into SURVIVING (managers); undo with `patient unmerge MERGED`.
    Merge {
        surviving: String,
        merged: String,
    },
    Unmerge {
        merged: String,
    },
}

pub fn run_patient_record(
    session: &mut Session,
    command: PatientRecordCommand,
    out: &Output,
) -> Result<()> {
    match command {
        PatientRecordCommand::Search { query } => {
            let hits = session.search_patients(&query.join(" "))?;
            out.value(serde_json::to_value(&hits).unwrap_or_default(), || {
                if hits.is_empty() {
                    return "No patients match.".to_owned();
                }
                hits.iter()
                    .map(|h| {
                        format!(
                            "MRN {}  {:<28} born {}  {}{}",
                            h.mrn,
                            format!("{} {}", h.given_name, h.family_name),
                            h.date_of_birth,
                            h.phone.as_deref().unwrap_or(""),
                            if h.restricted { "  RESTRICTED" } else { "" }
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        PatientRecordCommand::Update {
            mrn,
            given,
            family,
            dob,
            sex,
            phone,
            expect_version,
        } => {
            let change = DemographicsChange {
                given_name: given,
                family_name: family,
                date_of_birth: dob,
                sex: sex.as_deref().map(Sex::from_code).transpose()?,
                phone,
            };
            session.update_demographics(&mrn, &change, expect_version)?;
            out.value(serde_json::json!({ "updated": mrn }), || {
                format!("Updated {mrn}.")
            });
        }
        PatientRecordCommand::Delete { mrn, reason } => {
            session.delete_patient(&mrn, &reason)?;
            out.value(serde_json::json!({ "deleted": mrn }), || {
                format!("{mrn} is deleted (kept in the store, hidden from search).")
            });
        }
        PatientRecordCommand::Merge { surviving, merged } => {
            let record = session.merge_patients(&surviving, &merged)?;
            out.value(serde_json::to_value(&record).unwrap_or_default(), || {
                let moved: Vec<String> = record
                    .moved
                    .iter()
                    .filter(|(_, n)| *n > 0)
                    .map(|(t, n)| format!("{n} {}", t.replace('_', " ")))
                    .collect();
                format!(
                    "Merged {} into {}; moved {}. Undo with: clinicdesk patient unmerge {}",
                    record.merged_mrn,
                    record.surviving_mrn,
                    if moved.is_empty() {
                        "nothing".into()
                    } else {
                        moved.join(", ")
                    },
                    record.merged_mrn
                )
            });
        }
        PatientRecordCommand::Unmerge { merged } => {
            session.undo_merge(&merged)?;
            out.value(serde_json::json!({ "unmerged": merged }), || {
                format!("{merged} is a record of its own again.")
            });
        }
    }
    Ok(())
}
