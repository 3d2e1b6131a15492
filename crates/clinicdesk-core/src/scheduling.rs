//! Scheduling: providers and their weekly hours and days off, appointment types, booking (single
//! or a recurring series checked as a whole), rescheduling, cancelling, status changes, the next
//! free slot, and day and week lists. Times are stored in UTC and shown in the clinic's zone.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use clinicdesk_error::{Error, Result};
use clinicdesk_store::rusqlite::{params, Connection, OptionalExtension};
use clinicdesk_store::{query_all, sql_error};
use serde::{Deserialize, Serialize};

use crate::recorded_write::{RecordedWrite, RowChange};
use crate::tables::Table;

use crate::environment::{format_timestamp, parse_timestamp};
use crate::ids::{AppointmentId, AppointmentTypeId, ProviderId};
use crate::permission::Permission;
use crate::session::Session;
use crate::validation::{field, optional_line, single_line};

/// Appointment statuses and the moves allowed between them.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppointmentStatus {
    Booked,
    Arrived,
    InProgress,
    Completed,
    Cancelled,
    NoShow,
}

crate::ids::stored_as_code!(AppointmentStatus);

impl std::fmt::Display for AppointmentStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

impl AppointmentStatus {
    pub fn code(self) -> &'static str {
        match self {
            AppointmentStatus::Booked => "booked",
            AppointmentStatus::Arrived => "arrived",
            AppointmentStatus::InProgress => "in_progress",
            AppointmentStatus::Completed => "completed",
            AppointmentStatus::Cancelled => "cancelled",
            AppointmentStatus::NoShow => "no_show",
        }
    }

    pub fn from_code(code: &str) -> Result<AppointmentStatus> {
        let all = [
            AppointmentStatus::Booked,
            AppointmentStatus::Arrived,
            AppointmentStatus::InProgress,
            AppointmentStatus::Completed,
            AppointmentStatus::Cancelled,
            AppointmentStatus::NoShow,
        ];
        let wanted = code.trim().to_lowercase().replace(['-', ' '], "_");
        all.into_iter().find(|s| s.code() == wanted).ok_or_else(|| {
            Error::invalid_input(format!("status {code:?} is not one of booked, arrived, in_progress, completed, cancelled, no_show"))
        })
    }

    fn may_become(self, next: AppointmentStatus) -> bool {
        use AppointmentStatus::*;
        matches!(
            (self, next),
            (Booked, Arrived)
                | (Booked, NoShow)
                | (Booked, Cancelled)
                | (Arrived, InProgress)
                | (Arrived, Cancelled)
                | (InProgress, Completed)
        )
    }

    fn permission(self) -> Permission {
        match self {
            AppointmentStatus::Arrived | AppointmentStatus::NoShow => {
                Permission::AppointmentsCheckin
            }
            AppointmentStatus::InProgress | AppointmentStatus::Completed => {
                Permission::AppointmentsStatus
            }
            AppointmentStatus::Cancelled | AppointmentStatus::Booked => {
                Permission::AppointmentsWrite
            }
        }
    }
}

/// A provider as the schedule shows them.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provider {
    pub id: ProviderId,
    pub display_name: String,
    pub specialty: Option<String>,
}

/// One working window of a weekday (ISO 1 = Monday), in local minutes after midnight.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkingWindow {
    pub weekday: u32,
    pub start_minute: u32,
    pub end_minute: u32,
}

/// An appointment type with its default length.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppointmentType {
    pub id: AppointmentTypeId,
    pub name: String,
    pub default_minutes: u32,
}

/// A weekly repetition: every `every_weeks` weeks, until a day or for a number of times.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repeat {
    pub every_weeks: u32,
    pub until: Option<NaiveDate>,
    pub count: Option<u32>,
}

/// What the front desk fills in to book.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingRequest {
    pub mrn: String,
    pub provider_id: ProviderId,
    /// Local wall-clock time in the clinic's zone.
    pub starts_local: NaiveDateTime,
    /// Length; else the type's default; else 15 minutes.
    pub minutes: Option<u32>,
    pub appointment_type_id: Option<AppointmentTypeId>,
    pub reason: Option<String>,
    /// Book even outside the provider's working hours.
    pub outside_hours_override: bool,
    pub repeat: Option<Repeat>,
    /// Which of the two times is meant when the clocks go back and `starts_local` happens
    /// twice; the first unless said otherwise.
    #[serde(default)]
    pub repeated_hour: RepeatedHour,
}

/// On the night the clocks go back, a wall-clock time in the repeated hour happens twice: the
/// first (still on summer time) or the second (on winter time). The rule when nobody says: the
/// first.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RepeatedHour {
    #[default]
    First,
    Second,
}

impl RepeatedHour {
    /// `first` or `second`, as the CLI takes it.
    pub fn from_code(code: &str) -> Result<RepeatedHour> {
        match code.trim().to_lowercase().as_str() {
            "first" => Ok(RepeatedHour::First),
            "second" => Ok(RepeatedHour::Second),
            _ => Err(Error::invalid_field(
                "repeated_hour",
                format!(
                    "{:?} is not first or second",
                    crate::validation::visible(code)
                ),
            )),
        }
    }
}

/// An appointment as lists show it.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appointment {
    pub id: AppointmentId,
    pub version: i64,
    pub mrn: String,
    pub patient_name: String,
    pub provider_id: ProviderId,
    pub provider_name: String,
    pub type_name: Option<String>,
    pub starts_at: String,
    pub ends_at: String,
    /// The start in the clinic's zone, `YYYY-MM-DD HH:MM`.
    pub local_start: String,
    pub local_end: String,
    pub status: AppointmentStatus,
    pub reason: Option<String>,
    pub series_id: Option<String>,
    pub outside_hours_override: bool,
    /// Said when the start falls in the hour the clocks go back: which of the two it is.
    pub clock_note: Option<String>,
}

pub(crate) fn clinic_zone(connection: &Connection) -> Result<Tz> {
    let name: String = connection
        .query_row(
            "SELECT time_zone FROM clinics WHERE deleted_at IS NULL ORDER BY created_at LIMIT 1",
            [],
            |row| row.get(0),
        )
        .map_err(sql_error("reading the clinic's time zone"))?;
    crate::time_zone::validate(&name)
}

/// Local wall-clock time to UTC. A time skipped by a daylight-saving change does not exist; a
/// repeated one (clocks go back) is the one `repeated_hour` names.
pub fn local_to_utc(
    zone: Tz,
    local: NaiveDateTime,
    repeated_hour: RepeatedHour,
) -> Result<DateTime<Utc>> {
    match (zone.from_local_datetime(&local), repeated_hour) {
        (chrono::LocalResult::Single(at), _) => Ok(at.with_timezone(&Utc)),
        (chrono::LocalResult::Ambiguous(first, _), RepeatedHour::First) => {
            Ok(first.with_timezone(&Utc))
        }
        (chrono::LocalResult::Ambiguous(_, second), RepeatedHour::Second) => {
            Ok(second.with_timezone(&Utc))
        }
        (chrono::LocalResult::None, _) => Err(Error::invalid_field(
            "starts_local",
            format!(
                "{} does not exist in {zone}: the clocks jump forward then; choose another time",
                local.format("%Y-%m-%d %H:%M")
            ),
        )),
    }
}

/// For a start in the repeated hour, which of the two it is, as people read it:
/// "the first 01:30 (before the clocks go back, UTC-04:00)".
fn clock_note(zone: Tz, at: &str) -> Option<String> {
    let at = parse_timestamp(at)?.with_timezone(&zone);
    let chrono::LocalResult::Ambiguous(first, _) = zone.from_local_datetime(&at.naive_local())
    else {
        return None;
    };
    let (which, when) = if first == at {
        ("first", "before")
    } else {
        ("second", "after")
    };
    Some(format!(
        "the {which} {} ({when} the clocks go back, UTC{})",
        at.format("%H:%M"),
        at.format("%:z")
    ))
}

fn local_text(zone: Tz, at: &str) -> String {
    parse_timestamp(at)
        .map(|at| at.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

const APPOINTMENT_SELECT: &str = "SELECT a.id, a.version, p.mrn, p.given_name || ' ' || p.family_name, a.provider_id, pr.display_name, t.name,
        a.starts_at, a.ends_at, a.status, a.reason, a.series_id, a.outside_hours_override
     FROM appointments a
     JOIN patients p ON p.id = a.patient_id
     JOIN providers pr ON pr.id = a.provider_id
     LEFT JOIN appointment_types t ON t.id = a.appointment_type_id";

fn read_appointments(
    connection: &Connection,
    zone: Tz,
    filter: &str,
    values: &[&dyn clinicdesk_store::rusqlite::ToSql],
) -> Result<Vec<Appointment>> {
    let mut statement = connection
        .prepare(&format!("{APPOINTMENT_SELECT} WHERE a.deleted_at IS NULL AND {filter} ORDER BY a.starts_at, pr.display_name"))
        .map_err(sql_error("reading appointments"))?;
    let rows = statement
        .query_map(values, |row| {
            let starts_at: String = row.get(7)?;
            let ends_at: String = row.get(8)?;
            Ok(Appointment {
                id: row.get(0)?,
                version: row.get(1)?,
                mrn: row.get(2)?,
                patient_name: row.get(3)?,
                provider_id: row.get(4)?,
                provider_name: row.get(5)?,
                type_name: row.get(6)?,
                local_start: local_text(zone, &starts_at),
                local_end: local_text(zone, &ends_at),
                clock_note: clock_note(zone, &starts_at),
                starts_at,
                ends_at,
                status: row.get(9)?,
                reason: row.get(10)?,
                series_id: row.get(11)?,
                outside_hours_override: row.get(12)?,
            })
        })
        .map_err(sql_error("reading appointments"))?;
    rows.collect::<Result<Vec<_>, _>>()
        .map_err(sql_error("reading appointments"))
}

fn windows_on(
    connection: &Connection,
    provider_id: &ProviderId,
    day: NaiveDate,
) -> Result<Vec<(u32, u32)>> {
    let off: bool = connection
        .query_row(
            "SELECT count(*) > 0 FROM provider_days_off WHERE provider_id = ?1 AND deleted_at IS NULL AND first_day <= ?2 AND last_day >= ?2",
            params![provider_id, day.to_string()],
            |row| row.get(0),
        )
        .map_err(sql_error("reading days off"))?;
    if off {
        return Ok(Vec::new());
    }
    let mut statement = connection
        .prepare(
            "SELECT start_minute, end_minute FROM provider_working_hours
             WHERE provider_id = ?1 AND weekday = ?2 AND deleted_at IS NULL ORDER BY start_minute",
        )
        .map_err(sql_error("reading working hours"))?;
    let rows = statement
        .query_map(
            params![provider_id, day.weekday().number_from_monday()],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .map_err(sql_error("reading working hours"))?;
    rows.collect::<Result<Vec<_>, _>>()
        .map_err(sql_error("reading working hours"))
}

fn within_hours(
    connection: &Connection,
    zone: Tz,
    provider_id: &ProviderId,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<bool> {
    let local_start = start.with_timezone(&zone);
    let local_end = end.with_timezone(&zone);
    if local_start.date_naive() != local_end.date_naive() && local_end.time() != NaiveTime::MIN {
        return Ok(false);
    }
    let from = local_start.time().num_seconds_from_midnight() / 60;
    let to = if local_end.time() == NaiveTime::MIN
        && local_end.date_naive() != local_start.date_naive()
    {
        1440
    } else {
        local_end.time().num_seconds_from_midnight() / 60
    };
    Ok(
        windows_on(connection, provider_id, local_start.date_naive())?
            .iter()
            .any(|(s, e)| *s <= from && to <= *e),
    )
}

use chrono::Timelike;

/// Live appointments of the provider or the patient that overlap [start, end).
fn clashes(
    connection: &Connection,
    zone: Tz,
    provider_id: &ProviderId,
    patient_id: &str,
    start: &str,
    end: &str,
    except: Option<&AppointmentId>,
) -> Result<Vec<String>> {
    let found = read_appointments(
        connection,
        zone,
        "a.status <> 'cancelled' AND a.starts_at > strftime('%Y-%m-%dT%H:%M:%fZ', ?2, '-12 hours') AND a.starts_at < ?1 AND a.ends_at > ?2
         AND (a.provider_id = ?3 OR a.patient_id = ?4) AND a.id IS NOT ?5",
        &[&end, &start, &provider_id, &patient_id, &except],
    )?;
    Ok(found
        .into_iter()
        .map(|a| {
            if a.provider_id == *provider_id {
                format!(
                    "{} already sees {} (MRN {}) from {} to {}",
                    a.provider_name,
                    a.patient_name,
                    a.mrn,
                    a.local_start,
                    &a.local_end[11..]
                )
            } else {
                format!(
                    "the patient already has an appointment with {} from {} to {}",
                    a.provider_name,
                    a.local_start,
                    &a.local_end[11..]
                )
            }
        })
        .collect())
}

/// An appointment length (or a type's default) must be 5 minutes to 8 hours.
fn check_minutes(minutes: u32, name: &str) -> Result<()> {
    if !(5..=480).contains(&minutes) {
        return Err(Error::invalid_field(
            name,
            format!("An appointment of {minutes} minutes is outside 5–480 minutes"),
        ));
    }
    Ok(())
}

/// A calendar day for schedules: within a hundred years either way of 2000-2100.
fn plausible_day(day: NaiveDate, name: &str) -> Result<()> {
    if !(NaiveDate::from_ymd_opt(2000, 1, 1).expect("a date")
        ..=NaiveDate::from_ymd_opt(2100, 12, 31).expect("a date"))
        .contains(&day)
    {
        return Err(Error::invalid_field(
            name,
            format!("{day} is outside the years 2000–2100; check the year"),
        ));
    }
    Ok(())
}

fn occurrences(first: NaiveDateTime, repeat: Option<Repeat>) -> Result<Vec<NaiveDateTime>> {
    let Some(repeat) = repeat else {
        return Ok(vec![first]);
    };
    if !(1..=52).contains(&repeat.every_weeks) {
        return Err(Error::invalid_field(
            "every_weeks",
            "A series repeats every 1 to 52 weeks",
        ));
    }
    if repeat.until.is_none() && repeat.count.is_none() {
        return Err(Error::invalid_field(
            "repeat",
            "A series needs an end: an until date or a number of appointments",
        ));
    }
    let mut all = Vec::new();
    let mut at = first;
    loop {
        if repeat.count.is_some_and(|count| all.len() as u32 >= count)
            || repeat.until.is_some_and(|until| at.date() > until)
        {
            break;
        }
        if all.len() >= 520 {
            return Err(Error::invalid_field(
                "repeat",
                "A series can hold at most 520 appointments",
            ));
        }
        all.push(at);
        at += Duration::weeks(i64::from(repeat.every_weeks));
    }
    if all.is_empty() {
        return Err(Error::invalid_field(
            "repeat",
            "The series ends before its first appointment",
        ));
    }
    Ok(all)
}

fn insert_appointment(
    transaction: &mut RecordedWrite<'_>,
    patient_id: &str,
    request: &BookingRequest,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
    series_id: Option<&str>,
) -> Result<String> {
    let clinic_id = crate::recorded_write::clinic_id(transaction)?;
    let (starts, ends) = (format_timestamp(start), format_timestamp(end));
    let reason = request
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    let id = transaction.insert_row(
        Table::Appointments,
        &[
            ("clinic_id", &clinic_id),
            ("patient_id", &patient_id),
            ("provider_id", &request.provider_id),
            ("appointment_type_id", &request.appointment_type_id),
            ("series_id", &series_id),
            ("starts_at", &starts),
            ("ends_at", &ends),
            ("status", &"booked"),
            ("outside_hours_override", &request.outside_hours_override),
            ("reason", &reason),
        ],
    )?;
    Ok(id)
}

impl Session {
    /// The clinic's time zone (an IANA name), for the screens' dates and times.
    pub fn clinic_time_zone(&self) -> Result<String> {
        Ok(self.zone()?.name().to_owned())
    }

    pub(crate) fn zone(&self) -> Result<Tz> {
        clinic_zone(self.connection()?)
    }

    /// Adds a provider, optionally linked to a user account.
    pub fn add_provider(
        &mut self,
        display_name: &str,
        username: Option<&str>,
        specialty: Option<&str>,
    ) -> Result<Provider> {
        self.authorize("provider.add", Some(Permission::ScheduleManage), None)?;
        let display_name = single_line(
            field("display_name", "the provider's name"),
            display_name,
            crate::limits::STAFF_NAME.max,
        )?;
        let specialty = optional_line(
            field("specialty", "the specialty"),
            specialty.unwrap_or(""),
            crate::limits::SPECIALTY.max,
        )?;
        let user_id: Option<String> = match username {
            Some(name) => Some(
                self.connection()?
                    .query_row(
                        "SELECT id FROM users WHERE username = ?1 AND deleted_at IS NULL",
                        [name.trim().to_lowercase()],
                        |row| row.get(0),
                    )
                    .optional()
                    .map_err(sql_error("finding the user"))?
                    .ok_or_else(|| Error::not_found(format!("there is no user named {name}")))?,
            ),
            None => None,
        };

        self.write(|transaction| {
            let clinic_id = crate::recorded_write::clinic_id(transaction)?;
            let id = transaction
                .insert_row(
                    Table::Providers,
                    &[
                        ("clinic_id", &clinic_id),
                        ("user_id", &user_id),
                        ("display_name", &display_name),
                        ("specialty", &specialty),
                    ],
                )
                .map_err(|error| match error.field.as_deref() {
                    Some("user_id") => Error::conflict("That user is already a provider")
                        .for_field("username"),
                    _ => error,
                })?;
            transaction.audit(transaction.entry("provider.create")
                    .object("provider", &id)
                    .details(serde_json::json!({ "after": transaction.row_json(Table::Providers, &id)? })),
            )?;
            Ok(Provider { id: ProviderId::from_store(id), display_name, specialty })
        })
    }

    pub fn list_providers(&mut self) -> Result<Vec<Provider>> {
        self.authorize_schedule_read("provider.list")?;
        query_all(
            self.connection()?,
            "SELECT id, display_name, specialty FROM providers WHERE deleted_at IS NULL ORDER BY display_name",
            [],
            "listing providers",
            |row| {
                Ok(Provider {
                    id: row.get(0)?,
                    display_name: row.get(1)?,
                    specialty: row.get(2)?,
                })
            },
        )
    }

    /// Schedule set-up (providers, hours, types) is readable by whoever reads schedules or
    /// manages them (administrators manage them without seeing appointments).
    fn authorize_schedule_read(&mut self, operation: &str) -> Result<()> {
        let permission = if self.permissions().contains(&Permission::ScheduleManage) {
            Permission::ScheduleManage
        } else {
            Permission::AppointmentsRead
        };
        self.authorize(operation, Some(permission), None).map(drop)
    }

    fn provider_exists(&self, provider_id: &ProviderId) -> Result<String> {
        self.connection()?
            .query_row(
                "SELECT display_name FROM providers WHERE id = ?1 AND deleted_at IS NULL",
                [provider_id],
                |row| row.get(0),
            )
            .optional()
            .map_err(sql_error("finding the provider"))?
            .ok_or_else(|| {
                Error::not_found(format!(
                    "there is no provider {provider_id}; `clinicdesk provider list` shows them"
                ))
            })
    }

    /// Replaces the provider's working windows for the weekdays named in `windows` (ISO 1 = Monday).
    pub fn set_working_hours(
        &mut self,
        provider_id: &ProviderId,
        weekdays: &[u32],
        windows: &[(u32, u32)],
    ) -> Result<()> {
        let now = self.authorize("provider.hours", Some(Permission::ScheduleManage), None)?;
        self.provider_exists(provider_id)?;
        if weekdays.is_empty() || weekdays.iter().any(|d| !(1..=7).contains(d)) {
            return Err(Error::invalid_field(
                "weekdays",
                "Weekdays are 1 (Monday) to 7 (Sunday)",
            ));
        }
        let mut sorted = windows.to_vec();
        sorted.sort();
        for (start, end) in &sorted {
            if *start >= *end || *end > 1440 {
                return Err(Error::invalid_field(
                    "windows",
                    format!(
                        "The working window {}–{} is not a span within one day",
                        minutes_text(*start),
                        minutes_text(*end)
                    ),
                ));
            }
        }
        if sorted.windows(2).any(|pair| pair[0].1 > pair[1].0) {
            return Err(Error::invalid_field(
                "windows",
                "The working windows of one day must not overlap",
            ));
        }
        let by = self.user().id.to_string();
        self.write(|transaction| {
            let stamp = format_timestamp(now);
            for weekday in weekdays {
                let old: Vec<String> = {
                    let mut statement = transaction
                        .prepare("SELECT id FROM provider_working_hours WHERE provider_id = ?1 AND weekday = ?2 AND deleted_at IS NULL")
                        .map_err(sql_error("reading working hours"))?;
                    let rows = statement.query_map(params![provider_id, weekday], |row| row.get(0)).map_err(sql_error("reading working hours"))?;
                    rows.collect::<Result<_, _>>().map_err(sql_error("reading working hours"))?
                };
                for id in old {
                    transaction
                        .execute(
                            "UPDATE provider_working_hours SET deleted_at = ?1, deleted_by = ?2, updated_at = ?1, updated_by = ?2, version = version + 1 WHERE id = ?3",
                            params![stamp, by, id],
                        )
                        .map_err(sql_error("replacing working hours"))?;
                    transaction.updated(Table::ProviderWorkingHours, &id)?;
                }
                for (start, end) in &sorted {
                    transaction.insert_row(
                        Table::ProviderWorkingHours,
                        &[
                            ("provider_id", &provider_id),
                            ("weekday", &weekday),
                            ("start_minute", start),
                            ("end_minute", end),
                        ],
                    )?;
                }
            }
            transaction.audit(transaction.entry("provider.hours")
                    .object("provider", provider_id)
                    .details(serde_json::json!({ "weekdays": weekdays, "windows": sorted })),
            )?;
            Ok(())
        })
    }

    pub fn working_hours(&mut self, provider_id: &ProviderId) -> Result<Vec<WorkingWindow>> {
        self.authorize_schedule_read("provider.hours_read")?;
        self.provider_exists(provider_id)?;
        let connection = self.connection()?;
        let mut statement = connection
            .prepare("SELECT weekday, start_minute, end_minute FROM provider_working_hours WHERE provider_id = ?1 AND deleted_at IS NULL ORDER BY weekday, start_minute")
            .map_err(sql_error("reading working hours"))?;
        let rows = statement
            .query_map([provider_id], |row| {
                Ok(WorkingWindow {
                    weekday: row.get(0)?,
                    start_minute: row.get(1)?,
                    end_minute: row.get(2)?,
                })
            })
            .map_err(sql_error("reading working hours"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(sql_error("reading working hours"))
    }

    /// Marks days (inclusive) the provider does not work.
    pub fn add_day_off(
        &mut self,
        provider_id: &ProviderId,
        first_day: NaiveDate,
        last_day: NaiveDate,
        reason: Option<&str>,
    ) -> Result<()> {
        self.authorize("provider.day_off", Some(Permission::ScheduleManage), None)?;
        self.provider_exists(provider_id)?;
        if last_day < first_day {
            return Err(Error::invalid_field(
                "last_day",
                "The last day off comes before the first",
            ));
        }
        plausible_day(first_day, "first_day")?;
        plausible_day(last_day, "last_day")?;
        let reason = optional_line(
            field("reason", "the reason"),
            reason.unwrap_or(""),
            crate::limits::DAY_OFF_REASON.max,
        )?;
        self.write(|transaction| {
            let (first, last) = (first_day.to_string(), last_day.to_string());
            transaction.insert_row(
                Table::ProviderDaysOff,
                &[
                    ("provider_id", &provider_id),
                    ("first_day", &first),
                    ("last_day", &last),
                    ("reason", &reason),
                ],
            )?;
            transaction.audit(
                transaction
                    .entry("provider.day_off")
                    .object("provider", provider_id)
                    .details(serde_json::json!({ "first_day": first_day, "last_day": last_day })),
            )?;
            Ok(())
        })
    }

    pub fn add_appointment_type(
        &mut self,
        name: &str,
        default_minutes: u32,
    ) -> Result<AppointmentType> {
        self.authorize(
            "appointment_type.add",
            Some(Permission::ScheduleManage),
            None,
        )?;
        let name = single_line(
            field("name", "the name of the appointment type"),
            name,
            crate::limits::APPOINTMENT_TYPE_NAME.max,
        )?;
        check_minutes(default_minutes, "default_minutes")?;
        self.write(|transaction| {
            let clinic_id = crate::recorded_write::clinic_id(transaction)?;
            let id = transaction.insert_row(
                Table::AppointmentTypes,
                &[
                    ("clinic_id", &clinic_id),
                    ("name", &name),
                    ("default_minutes", &default_minutes),
                ],
            )?;
            transaction.audit(
                transaction
                    .entry("appointment_type.create")
                    .object("appointment_type", &id),
            )?;
            Ok(AppointmentType {
                id: AppointmentTypeId::from_store(id),
                name,
                default_minutes,
            })
        })
    }

    pub fn list_appointment_types(&mut self) -> Result<Vec<AppointmentType>> {
        self.authorize_schedule_read("appointment_type.list")?;
        query_all(
            self.connection()?,
            "SELECT id, name, default_minutes FROM appointment_types WHERE deleted_at IS NULL ORDER BY name",
            [],
            "listing appointment types",
            |row| {
                Ok(AppointmentType {
                    id: row.get(0)?,
                    name: row.get(1)?,
                    default_minutes: row.get(2)?,
                })
            },
        )
    }

    /// Books an appointment, or a whole weekly series: every occurrence is checked (working
    /// hours unless overridden, provider and patient free) before any is booked.
    pub fn book_appointment(&mut self, request: &BookingRequest) -> Result<Vec<Appointment>> {
        let patient_id = self.patient_id_for_operation(
            &request.mrn,
            "appointment.book",
            Permission::AppointmentsWrite,
        )?;
        let now = self.authorize(
            "appointment.book",
            Some(Permission::AppointmentsWrite),
            Some(&patient_id),
        )?;
        self.provider_exists(&request.provider_id)?;
        let zone = self.zone()?;
        let minutes = match (request.minutes, &request.appointment_type_id) {
            (Some(minutes), _) => minutes,
            (None, Some(type_id)) => self
                .connection()?
                .query_row("SELECT default_minutes FROM appointment_types WHERE id = ?1 AND deleted_at IS NULL", [type_id], |row| row.get(0))
                .optional()
                .map_err(sql_error("reading the appointment type"))?
                .ok_or_else(|| Error::not_found(format!("there is no appointment type {type_id}")))?,
            (None, None) => 15,
        };
        check_minutes(minutes, "minutes")?;
        let reason = optional_line(
            field("reason", "the reason"),
            request.reason.as_deref().unwrap_or(""),
            crate::limits::APPOINTMENT_REASON.max,
        )?;
        let request = &BookingRequest {
            reason,
            ..request.clone()
        };
        let mut planned = Vec::new();
        let mut problems = Vec::new();
        for local in occurrences(request.starts_local, request.repeat)? {
            let start = local_to_utc(zone, local, request.repeated_hour)?;
            let end = start + Duration::minutes(i64::from(minutes));
            if start < now - Duration::minutes(5) {
                return Err(Error::invalid_field(
                    "starts_local",
                    format!(
                        "{} is in the past; book a time from now on",
                        local.format("%Y-%m-%d %H:%M")
                    ),
                ));
            }
            if start > now + Duration::days(366 * 5) {
                return Err(Error::invalid_field(
                    "starts_local",
                    format!(
                        "{} is more than five years ahead; check the year",
                        local.format("%Y-%m-%d %H:%M")
                    ),
                ));
            }
            if !request.outside_hours_override
                && !within_hours(self.connection()?, zone, &request.provider_id, start, end)?
            {
                problems.push(format!(
                    "{} is outside the provider's working hours (book with the outside-hours override if this is intended)",
                    local.format("%Y-%m-%d %H:%M")
                ));
                continue;
            }
            let clash = clashes(
                self.connection()?,
                zone,
                &request.provider_id,
                &patient_id,
                &format_timestamp(start),
                &format_timestamp(end),
                None,
            )?;
            problems.extend(clash);
            planned.push((start, end));
        }
        if planned.windows(2).any(|pair| pair[0].1 > pair[1].0) {
            problems.push("occurrences of the series overlap each other".into());
        }
        if !problems.is_empty() {
            let what = if request.repeat.is_some() {
                "Nothing in the series was booked"
            } else {
                "Nothing was booked"
            };
            let mut message = format!("{what}: {}", problems.join("; "));
            if request.repeat.is_none() {
                message.push_str(&self.free_times_instead(
                    &request.provider_id,
                    minutes,
                    request.starts_local,
                )?);
            }
            return Err(Error::conflict(message));
        }
        let ids = self.write(|transaction| {
            let series_id = match request.repeat {
                Some(repeat) => {
                    let until = repeat.until.map(|day| day.to_string());
                    Some(transaction.insert_row(
                        Table::AppointmentSeries,
                        &[
                            ("interval_weeks", &repeat.every_weeks),
                            ("until_day", &until),
                            ("occurrences", &repeat.count),
                        ],
                    )?)
                }
                None => None,
            };
            let mut ids = Vec::new();
            for (start, end) in &planned {
                let id = insert_appointment(
                    transaction,
                    &patient_id,
                    request,
                    (*start, *end),
                    series_id.as_deref(),
                )?;
                transaction.audit(
                    transaction
                        .entry("appointment.book")
                        .object("appointment", &id)
                        .patient(&patient_id)
                        .details(serde_json::json!({
                            "after": transaction.row_json(Table::Appointments, &id)?,
                            "outside_hours_override": request.outside_hours_override,
                        })),
                )?;
                ids.push(id);
            }
            Ok(ids)
        })?;
        let connection = self.connection()?;
        let mut booked = Vec::new();
        for id in ids {
            booked.extend(read_appointments(connection, zone, "a.id = ?1", &[&id])?);
        }
        Ok(booked)
    }

    fn appointment(&self, id: &AppointmentId) -> Result<(Appointment, String)> {
        let zone = self.zone()?;
        let connection = self.connection()?;
        let found = read_appointments(connection, zone, "a.id = ?1", &[&id])?
            .pop()
            .ok_or_else(|| Error::not_found(format!("there is no appointment {id}")))?;
        let patient_id: String = connection
            .query_row(
                "SELECT patient_id FROM appointments WHERE id = ?1",
                [id],
                |row| row.get(0),
            )
            .map_err(sql_error("reading the appointment"))?;
        Ok((found, patient_id))
    }

    /// Moves an appointment; `expected_version` (from when it was shown) guards against
    /// overwriting someone else's change.
    pub fn reschedule_appointment(
        &mut self,
        id: &AppointmentId,
        new_start_local: NaiveDateTime,
        repeated_hour: RepeatedHour,
        minutes: Option<u32>,
        expected_version: Option<i64>,
        outside_hours_override: bool,
    ) -> Result<Appointment> {
        if !self.permissions().contains(&Permission::AppointmentsWrite) {
            self.authorize(
                "appointment.reschedule",
                Some(Permission::AppointmentsWrite),
                None,
            )?;
        }
        let (current, patient_id) = self.appointment(id)?;
        let now = self.authorize(
            "appointment.reschedule",
            Some(Permission::AppointmentsWrite),
            Some(&patient_id),
        )?;
        if let Some(expected) = expected_version.filter(|expected| *expected != current.version) {
            return Err(Error::conflict(format!(
                "this appointment was changed by someone else since you opened it (version {expected}, now {}); reopen it and try again",
                current.version
            )));
        }
        if !matches!(
            current.status,
            AppointmentStatus::Booked | AppointmentStatus::Arrived
        ) {
            return Err(Error::conflict(format!(
                "a {} appointment cannot be moved",
                current.status.code().replace('_', " ")
            )));
        }
        let zone = self.zone()?;
        let old_start = parse_timestamp(&current.starts_at).unwrap_or(now);
        let old_end = parse_timestamp(&current.ends_at).unwrap_or(now);
        if let Some(minutes) = minutes {
            check_minutes(minutes, "minutes")?;
        }
        let length = minutes
            .map(|m| Duration::minutes(i64::from(m)))
            .unwrap_or(old_end - old_start);
        let start = local_to_utc(zone, new_start_local, repeated_hour)?;
        let end = start + length;
        if start < now - Duration::minutes(5) || start > now + Duration::days(366 * 5) {
            return Err(Error::invalid_field(
                "starts_local",
                format!(
                    "{} is in the past or more than five years ahead; choose a time from now on",
                    new_start_local.format("%Y-%m-%d %H:%M")
                ),
            ));
        }
        if !outside_hours_override
            && !within_hours(self.connection()?, zone, &current.provider_id, start, end)?
        {
            return Err(Error::conflict(format!(
                "{} is outside the provider's working hours (use the outside-hours override if this is intended)",
                new_start_local.format("%Y-%m-%d %H:%M")
            )));
        }
        let clash = clashes(
            self.connection()?,
            zone,
            &current.provider_id,
            &patient_id,
            &format_timestamp(start),
            &format_timestamp(end),
            Some(id),
        )?;
        if !clash.is_empty() {
            let offered = self.free_times_instead(
                &current.provider_id,
                u32::try_from(length.num_minutes()).unwrap_or(15),
                new_start_local,
            )?;
            return Err(Error::conflict(format!(
                "Not moved: {}{offered}",
                clash.join("; ")
            )));
        }
        let by = self.user().id.to_string();
        self.write(|transaction| {
            let row = RowChange { table: Table::Appointments, id: id.as_str(), object_type: "appointment", patient_id: Some(&patient_id) };
            let entry = transaction.entry("appointment.reschedule");
            transaction.change_row(row, entry, |transaction, _| {
                transaction
                    .execute(
                    "UPDATE appointments SET starts_at = ?1, ends_at = ?2, outside_hours_override = ?3, updated_at = ?4, updated_by = ?5, version = version + 1 WHERE id = ?6",
                    params![format_timestamp(start), format_timestamp(end), outside_hours_override, format_timestamp(now), by, id],
                )
                .map_err(sql_error("saving the appointment"))?;
                Ok(())
            })
        })?;
        Ok(self.appointment(id)?.0)
    }

    /// Moves an appointment along its statuses (arrived = checked in, in progress, completed,
    /// no-show, cancelled with a reason).
    pub fn set_appointment_status(
        &mut self,
        id: &AppointmentId,
        next: AppointmentStatus,
        reason: Option<&str>,
    ) -> Result<Appointment> {
        let permission = next.permission();
        if !self.permissions().contains(&permission) {
            self.authorize("appointment.status", Some(permission), None)?;
        }
        let (current, patient_id) = self.appointment(id)?;
        let now = self.authorize("appointment.status", Some(permission), Some(&patient_id))?;
        let from = current.status;
        if !from.may_become(next) {
            return Err(Error::conflict(format!(
                "a {} appointment cannot become {}",
                from.code().replace('_', " "),
                next.code().replace('_', " ")
            )));
        }
        let reason = optional_line(
            field("reason", "the reason"),
            reason.unwrap_or(""),
            crate::limits::APPOINTMENT_REASON.max,
        )?;
        if next == AppointmentStatus::Cancelled && reason.is_none() {
            return Err(Error::invalid_field(
                "reason",
                "Say why the appointment is cancelled",
            ));
        }
        let reason = reason.as_deref();
        let by = self.user().id.to_string();
        self.write(|transaction| {
            let row = RowChange { table: Table::Appointments, id: id.as_str(), object_type: "appointment", patient_id: Some(&patient_id) };
            let entry = transaction.entry("appointment.status");
            transaction.change_row(row, entry, |transaction, _| {
                transaction
                    .execute(
                    "UPDATE appointments SET status = ?1, cancel_reason = coalesce(?2, cancel_reason),
                        arrived_at = CASE WHEN ?1 = 'arrived' THEN ?3 ELSE arrived_at END,
                        updated_at = ?3, updated_by = ?4, version = version + 1 WHERE id = ?5",
                    params![next.code(), reason, format_timestamp(now), by, id],
                )
                .map_err(sql_error("saving the appointment"))?;
                Ok(())
            })
        })?;
        Ok(self.appointment(id)?.0)
    }

    /// The appointments of one local day (one provider, or the whole clinic when `None`).
    pub fn day_schedule(
        &mut self,
        provider_id: Option<&ProviderId>,
        day: NaiveDate,
    ) -> Result<Vec<Appointment>> {
        self.schedule_between(provider_id, day, day.succ_opt().unwrap_or(day))
    }

    /// Seven local days from `first_day`.
    pub fn week_schedule(
        &mut self,
        provider_id: Option<&ProviderId>,
        first_day: NaiveDate,
    ) -> Result<Vec<Appointment>> {
        self.schedule_between(provider_id, first_day, first_day + Duration::days(7))
    }

    fn schedule_between(
        &mut self,
        provider_id: Option<&ProviderId>,
        from_day: NaiveDate,
        to_day: NaiveDate,
    ) -> Result<Vec<Appointment>> {
        self.authorize("schedule.read", Some(Permission::AppointmentsRead), None)?;
        schedule_on(
            self.connection()?,
            provider_id.map(ProviderId::as_str),
            from_day,
            to_day,
        )
    }

    /// Today's patients who have arrived (the nurse's list), in the clinic's zone.
    pub fn arrived_today(&mut self) -> Result<Vec<Appointment>> {
        let today = self
            .environment
            .now()
            .with_timezone(&self.zone()?)
            .date_naive();
        Ok(self
            .day_schedule(None, today)?
            .into_iter()
            .filter(|a| {
                matches!(
                    a.status,
                    AppointmentStatus::Arrived | AppointmentStatus::InProgress
                )
            })
            .collect())
    }

    /// Up to `count` starts, from `from_local` on, when the provider works and is free for
    /// `minutes`, each after the one before has ended (for a refused booking or a conflict).
    pub(crate) fn next_free_slots(
        &mut self,
        provider_id: &ProviderId,
        minutes: u32,
        from_local: NaiveDateTime,
        count: usize,
    ) -> Result<Vec<NaiveDateTime>> {
        let mut from = from_local;
        let mut slots = Vec::new();
        while slots.len() < count {
            let Some(slot) = self.next_free_slot(provider_id, minutes, from)? else {
                break;
            };
            slots.push(slot);
            from = slot + Duration::minutes(i64::from(minutes.max(5)));
        }
        Ok(slots)
    }

    /// What a refused booking offers instead: the provider's next three free times.
    fn free_times_instead(
        &mut self,
        provider_id: &ProviderId,
        minutes: u32,
        from_local: NaiveDateTime,
    ) -> Result<String> {
        let slots = self.next_free_slots(provider_id, minutes, from_local, 3)?;
        if slots.is_empty() {
            return Ok(". The provider has no free time in the next 90 days".to_owned());
        }
        let times: Vec<String> = slots
            .iter()
            .map(|slot| slot.format("%Y-%m-%d %H:%M").to_string())
            .collect();
        Ok(format!(". Free instead: {}", times.join(", ")))
    }

    /// The first start, at or after `from_local`, when the provider works and is free for
    /// `minutes` (on 5-minute steps; looks up to 90 days ahead).
    pub fn next_free_slot(
        &mut self,
        provider_id: &ProviderId,
        minutes: u32,
        from_local: NaiveDateTime,
    ) -> Result<Option<NaiveDateTime>> {
        self.authorize(
            "schedule.next_free",
            Some(Permission::AppointmentsRead),
            None,
        )?;
        self.provider_exists(provider_id)?;
        if !(5..=480).contains(&minutes) {
            return Err(Error::invalid_input(format!(
                "a length of {minutes} minutes is outside 5–480"
            )));
        }
        let zone = self.zone()?;
        let now_local = self.environment.now().with_timezone(&zone).naive_local();
        let from_local = from_local.max(now_local);
        let connection = self.connection()?;
        for offset in 0..90 {
            let day = from_local.date() + Duration::days(offset);
            for (window_start, window_end) in windows_on(connection, provider_id, day)? {
                let mut candidate =
                    day.and_time(NaiveTime::MIN) + Duration::minutes(i64::from(window_start));
                if candidate < from_local {
                    let late = (from_local - candidate).num_minutes();
                    candidate += Duration::minutes((late + 4) / 5 * 5);
                }
                let window_close =
                    day.and_time(NaiveTime::MIN) + Duration::minutes(i64::from(window_end));
                while candidate + Duration::minutes(i64::from(minutes)) <= window_close {
                    let Ok(start) = local_to_utc(zone, candidate, RepeatedHour::First) else {
                        candidate += Duration::minutes(5);
                        continue;
                    };
                    let end = start + Duration::minutes(i64::from(minutes));
                    let blocking: Option<String> = connection
                        .query_row(
                            "SELECT max(ends_at) FROM appointments WHERE provider_id = ?1 AND status <> 'cancelled' AND deleted_at IS NULL
                             AND starts_at > strftime('%Y-%m-%dT%H:%M:%fZ', ?3, '-12 hours') AND starts_at < ?2 AND ends_at > ?3",
                            params![provider_id, format_timestamp(end), format_timestamp(start)],
                            |row| row.get(0),
                        )
                        .map_err(sql_error("looking for a free slot"))?;
                    match blocking.and_then(|text| parse_timestamp(&text)) {
                        None => return Ok(Some(candidate)),
                        Some(busy_until) => {
                            let local_busy = busy_until.with_timezone(&zone).naive_local();
                            let skip = (local_busy - candidate).num_minutes().max(5);
                            candidate += Duration::minutes((skip + 4) / 5 * 5);
                        }
                    }
                }
            }
        }
        Ok(None)
    }
}

fn minutes_text(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// Reads `HH:MM-HH:MM` into local minutes after midnight.
pub fn parse_window(text: &str) -> Result<(u32, u32)> {
    let parse = |part: &str| -> Option<u32> {
        let (h, m) = part.trim().split_once(':')?;
        let digits =
            |number: &str| !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit());
        if !digits(h) || !digits(m) || h.len() > 2 || m.len() != 2 {
            return None;
        }
        let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
        (h <= 24 && m < 60 && h * 60 + m <= 1440).then_some(h * 60 + m)
    };
    text.split_once('-')
        .and_then(|(a, b)| Some((parse(a)?, parse(b)?)))
        .filter(|(start, end)| start < end)
        .ok_or_else(|| {
            Error::invalid_field(
                "windows",
                format!(
                    "{:?} is not a working window like 08:00-12:30 (a start before its end, within one day)",
                    crate::validation::visible(text)
                ),
            )
        })
}

/// Reads `YYYY-MM-DD HH:MM` (or with a `T`) as local wall-clock time.
pub fn parse_local_time(text: &str) -> Result<NaiveDateTime> {
    NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%d %H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%dT%H:%M"))
        .map_err(|_| {
            Error::invalid_field(
                "starts_local",
                format!(
                    "{:?} is not a local time like 2026-11-23 09:30",
                    crate::validation::visible(text)
                ),
            )
        })
}

/// Appointments from local day `from_day` up to (not including) `to_day`, for one provider or the
/// whole clinic: the query the desktop app and the benchmark share.
pub(crate) fn schedule_on(
    connection: &Connection,
    provider_id: Option<&str>,
    from_day: NaiveDate,
    to_day: NaiveDate,
) -> Result<Vec<Appointment>> {
    let zone = clinic_zone(connection)?;
    let midnight = |day: NaiveDate| {
        local_to_utc(zone, day.and_time(NaiveTime::MIN), RepeatedHour::First).or_else(|_| {
            local_to_utc(
                zone,
                day.and_hms_opt(1, 0, 0).expect("valid time"),
                RepeatedHour::First,
            )
        })
    };
    let from = format_timestamp(midnight(from_day)?);
    let to = format_timestamp(midnight(to_day)?);
    match provider_id {
        Some(provider) => read_appointments(connection, zone, "a.provider_id = ?1 AND a.starts_at >= ?2 AND a.starts_at < ?3", &[&provider, &from, &to]),
        None => read_appointments(
            connection,
            zone,
            "a.clinic_id = (SELECT value FROM store_meta WHERE key = 'clinic_id') AND a.starts_at >= ?1 AND a.starts_at < ?2",
            &[&from, &to],
        ),
    }
}
