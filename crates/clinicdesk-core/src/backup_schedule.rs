//! When scheduled backups are due, and which scheduled backups the retention rule keeps.
//! Pure functions of the settings, the past runs and the injected time.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use clinicdesk_error::{Error, Result};
use serde::{Deserialize, Serialize};

/// How many scheduled backups to keep: the newest of each of the last `daily` days, `weekly`
/// ISO weeks and `monthly` months that have one (a backup can count for several rules).
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionPolicy {
    pub keep_daily: u32,
    pub keep_weekly: u32,
    pub keep_monthly: u32,
}

impl Default for RetentionPolicy {
    fn default() -> RetentionPolicy {
        RetentionPolicy {
            keep_daily: 7,
            keep_weekly: 4,
            keep_monthly: 12,
        }
    }
}

impl RetentionPolicy {
    pub fn validate(&self) -> Result<()> {
        for (name, value) in [
            ("daily", self.keep_daily),
            ("weekly", self.keep_weekly),
            ("monthly", self.keep_monthly),
        ] {
            if value > 120 {
                return Err(Error::invalid_input(format!(
                    "keep {name}: {value} is more than 120"
                )));
            }
        }
        if self.keep_daily == 0 {
            return Err(Error::invalid_input(
                "keep daily must be at least 1, or the newest backup would be deleted",
            ));
        }
        Ok(())
    }
}

/// The bucket (day, ISO week or month) a backup falls in, for one retention rule.
type BucketOf = fn(&DateTime<Tz>) -> (i32, u32);

/// Which of `backups` (their local creation days, any order) the policy keeps.
pub fn kept_by_retention(backups: &[DateTime<Tz>], policy: RetentionPolicy) -> Vec<bool> {
    let mut order: Vec<usize> = (0..backups.len()).collect();
    order.sort_by_key(|index| std::cmp::Reverse(backups[*index]));
    let mut keep = vec![false; backups.len()];
    let rules: [(u32, BucketOf); 3] = [
        (policy.keep_daily, |at| (at.year(), at.ordinal())),
        (policy.keep_weekly, |at| {
            let week = at.iso_week();
            (week.year(), week.week())
        }),
        (policy.keep_monthly, |at| (at.year(), at.month())),
    ];
    for (count, bucket_of) in rules {
        let mut remaining = count;
        let mut last_bucket = None;
        for index in &order {
            if remaining == 0 {
                break;
            }
            let bucket = bucket_of(&backups[*index]);
            if last_bucket != Some(bucket) {
                last_bucket = Some(bucket);
                keep[*index] = true;
                remaining -= 1;
            }
        }
    }
    keep
}

/// Parses a daily time such as `02:30`.
pub fn parse_daily_time(text: &str) -> Result<NaiveTime> {
    NaiveTime::parse_from_str(text.trim(), "%H:%M").map_err(|_| {
        Error::invalid_input(format!(
            "daily time: {text:?} is not a time of day like 02:30"
        ))
    })
}

/// The moment `time` happens on `day` in `zone` (on a daylight-saving change: the first such
/// moment, or an hour later when the time does not exist that day).
fn moment_on(day: NaiveDate, time: NaiveTime, zone: Tz) -> DateTime<Utc> {
    let local = day.and_time(time);
    zone.from_local_datetime(&local)
        .earliest()
        .or_else(|| {
            zone.from_local_datetime(&(local + Duration::hours(1)))
                .earliest()
        })
        .map(|at| at.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&local))
}

/// The most recent scheduled moment at or before `now`.
pub fn latest_slot(time: NaiveTime, zone: Tz, now: DateTime<Utc>) -> DateTime<Utc> {
    let today = now.with_timezone(&zone).date_naive();
    let slot = moment_on(today, time, zone);
    if slot <= now {
        slot
    } else {
        moment_on(today - Duration::days(1), time, zone)
    }
}

/// The scheduled moment after `after`.
pub fn next_slot(time: NaiveTime, zone: Tz, after: DateTime<Utc>) -> DateTime<Utc> {
    let day = after.with_timezone(&zone).date_naive();
    let slot = moment_on(day, time, zone);
    if slot > after {
        slot
    } else {
        moment_on(day + Duration::days(1), time, zone)
    }
}

/// A failed scheduled backup is tried again after this long.
pub const RETRY_AFTER: Duration = Duration::hours(1);

/// Whether a scheduled backup should run now: the latest slot has passed with no scheduled
/// success since (so a schedule missed while the app was closed runs at the next start), and no
/// failed attempt in the last [`RETRY_AFTER`].
pub fn scheduled_backup_due(
    time: NaiveTime,
    zone: Tz,
    last_success: Option<DateTime<Utc>>,
    last_failure: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> bool {
    let slot = latest_slot(time, zone, now);
    if last_success.is_some_and(|at| at >= slot) {
        return false;
    }
    !last_failure.is_some_and(|at| at >= slot && now - at < RETRY_AFTER)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn the_schedule_table() {
        let zone: Tz = "Europe/Berlin".parse().unwrap();
        let two = parse_daily_time("02:00").unwrap();
        // (now, last success, last failure, due)
        let table = [
            ("2026-03-10T00:30:00Z", None, None, true),
            (
                "2026-03-10T00:30:00Z",
                Some("2026-03-10T01:00:00Z"),
                None,
                false,
            ),
            (
                "2026-03-10T00:30:00Z",
                Some("2026-03-09T01:00:00Z"),
                None,
                false,
            ),
            (
                "2026-03-10T01:30:00Z",
                Some("2026-03-09T01:00:00Z"),
                None,
                true,
            ),
            (
                "2026-03-12T09:00:00Z",
                Some("2026-03-09T01:00:00Z"),
                None,
                true,
            ),
            (
                "2026-03-10T01:30:00Z",
                Some("2026-03-09T01:00:00Z"),
                Some("2026-03-10T01:10:00Z"),
                false,
            ),
            (
                "2026-03-10T02:30:00Z",
                Some("2026-03-09T01:00:00Z"),
                Some("2026-03-10T01:10:00Z"),
                true,
            ),
        ];
        for (now, success, failure, due) in table {
            assert_eq!(
                scheduled_backup_due(two, zone, success.map(at), failure.map(at), at(now)),
                due,
                "now {now}, success {success:?}, failure {failure:?}"
            );
        }
        assert!(parse_daily_time("25:00").is_err());
        assert_eq!(
            next_slot(two, zone, at("2026-03-10T01:00:00Z")),
            at("2026-03-11T01:00:00Z")
        );
        // 02:30 does not exist on 29 March 2026 in Berlin: the backup runs at 03:30 local.
        let half_two = parse_daily_time("02:30").unwrap();
        assert_eq!(
            next_slot(half_two, zone, at("2026-03-28T12:00:00Z")),
            at("2026-03-29T01:30:00Z")
        );
    }
}
