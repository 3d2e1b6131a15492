//! `clinicdesk provider …` and `clinicdesk appointment …`: providers, working hours, days off,
//! appointment types; booking, rescheduling, cancelling, check-in, day and week lists, the next
//! free slot.

use clap::Subcommand;
use clinicdesk_cli::arguments::{date, local_time, weekdays, window};
use clinicdesk_core::{
    AppointmentId, AppointmentStatus, AppointmentTypeId, BookingRequest, ProviderId, Repeat,
    RepeatedHour, Result, Session,
};

use crate::output::Output;

#[derive(Subcommand)]
pub(crate) enum ProviderCommand {
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
        #[arg(long, value_parser = clinicdesk_cli::arguments::count)]
        minutes: u32,
    },
    Types,
}

#[derive(Subcommand)]
pub(crate) enum AppointmentCommand {
    /// Book (exit 7 with what it collides with); prints the appointment id(s), the last one last.
    Book {
        #[arg(long)]
        patient: String,
        #[arg(long)]
        provider: String,
        /// Local time in the clinic's zone, `YYYY-MM-DD HH:MM`.
        #[arg(long)]
        at: String,
        #[arg(long, value_parser = clinicdesk_cli::arguments::count)]
        minutes: Option<u32>,
        #[arg(long = "type")]
        type_id: Option<String>,
        #[arg(long)]
        reason: Option<String>,
        /// Book outside the provider's working hours on purpose.
        #[arg(long)]
        outside_hours: bool,
        /// Repeat every N weeks (needs --until or --times).
        #[arg(long, value_parser = clinicdesk_cli::arguments::count)]
        every_weeks: Option<u32>,
        #[arg(long)]
        until: Option<String>,
        #[arg(long, value_parser = clinicdesk_cli::arguments::count)]
        times: Option<u32>,
        /// On the night the clocks go back, which of the two times --at names: first (the
        /// default) or second.
        #[arg(long, default_value = "first")]
        repeated_hour: String,
    },
    Reschedule {
        appointment_id: String,
        #[arg(long)]
        at: String,
        /// On the night the clocks go back, which of the two times --at names: first (the
        /// default) or second.
        #[arg(long, default_value = "first")]
        repeated_hour: String,
        #[arg(long, value_parser = clinicdesk_cli::arguments::count)]
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
        #[arg(long, value_parser = clinicdesk_cli::arguments::count)]
        minutes: u32,
        /// Local time to search from, default now.
        #[arg(long)]
        from: Option<String>,
    },
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
                    let line = format!(
                        "{}–{}  {:<12} {:<24} MRN {}  {:<11} {}",
                        a.local_start,
                        &a.local_end[11..],
                        a.provider_name,
                        a.patient_name,
                        a.mrn,
                        a.status,
                        a.id
                    );
                    match &a.clock_note {
                        Some(note) => format!("{line}\n  starts at {note}"),
                        None => line,
                    }
                })
                .collect::<Vec<_>>()
                .join("\n")
        },
    );
}

pub(crate) fn run_provider(
    session: &mut Session,
    command: ProviderCommand,
    out: &Output,
) -> Result<()> {
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
            let provider_id = ProviderId::parse(&provider_id)?;
            if let Some(days) = days {
                let windows = windows
                    .iter()
                    .map(|w| window(w))
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
            let provider_id = ProviderId::parse(&provider_id)?;
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

pub(crate) fn run_appointment(
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
            repeated_hour,
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
                provider_id: ProviderId::parse(&provider)?,
                starts_local: local_time(&at)?,
                minutes,
                appointment_type_id: type_id
                    .as_deref()
                    .map(AppointmentTypeId::parse)
                    .transpose()?,
                reason,
                outside_hours_override: outside_hours,
                repeat,
                repeated_hour: RepeatedHour::from_code(&repeated_hour)?,
            })?;
            print_appointments(out, &booked);
        }
        AppointmentCommand::Reschedule {
            appointment_id,
            at,
            repeated_hour,
            minutes,
            expect_version,
            outside_hours,
        } => {
            let moved = session.reschedule_appointment(
                &AppointmentId::parse(&appointment_id)?,
                local_time(&at)?,
                RepeatedHour::from_code(&repeated_hour)?,
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
                &AppointmentId::parse(&appointment_id)?,
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
                &AppointmentId::parse(&appointment_id)?,
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
            let provider = provider.as_deref().map(ProviderId::parse).transpose()?;
            let list = if week {
                session.week_schedule(provider.as_ref(), day)?
            } else {
                session.day_schedule(provider.as_ref(), day)?
            };
            print_appointments(out, &list);
        }
        AppointmentCommand::NextFree {
            provider,
            minutes,
            from,
        } => {
            let from = match from {
                Some(text) => local_time(&text)?,
                None => chrono::Local::now().naive_local(),
            };
            let slot = session.next_free_slot(&ProviderId::parse(&provider)?, minutes, from)?;
            out.value(serde_json::json!({ "next_free": slot.map(|s| s.format("%Y-%m-%d %H:%M").to_string()) }), || match slot {
                Some(slot) => slot.format("%Y-%m-%d %H:%M").to_string(),
                None => "No free slot in the next 90 days.".to_owned(),
            });
        }
    }
    Ok(())
}
