//! Arguments as people type them, turned into core values: dates (`2026-11-23`), local times
//! (`2026-11-23 09:30`), counts (`15`), moments (`2026-11-01T08:00:00Z`), weekday lists (`1-5`, `1,3,5`),
//! working windows (`08:00-12:00`) and vital signs with units (`98.6F`, `150lb`, `70 in`).
//! Each refuses what it cannot read with a usage or invalid-input error that says what it
//! expected, and never panics, whatever the text (fuzzed in `fuzz/`).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use clinicdesk_core::{visible, Error, ErrorCode, Result, VitalKind, VitalReading};

/// A whole number of 0 or more (minutes, weeks, a limit), for clap's `value_parser`: `-15` or
/// `ten` is refused saying what is wanted.
pub fn count(text: &str) -> std::result::Result<u32, String> {
    text.trim()
        .parse::<u32>()
        .map_err(|_| format!("{:?} is not a whole number of 0 or more", visible(text)))
}

/// A calendar date, `YYYY-MM-DD`.
pub fn date(text: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        Error::new(
            ErrorCode::Usage,
            format!("{:?} is not a date like 2026-11-23", visible(text)),
        )
    })
}

/// A wall-clock time in the clinic's zone, `YYYY-MM-DD HH:MM`.
pub fn local_time(text: &str) -> Result<NaiveDateTime> {
    clinicdesk_core::parse_local_time(text)
}

/// A moment in UTC or with an offset (RFC 3339), for `--from`, `--to` and the like.
pub fn moment(text: &str, flag: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|at| at.with_timezone(&Utc))
        .map_err(|_| {
            Error::new(
                ErrorCode::Usage,
                format!(
                    "{flag} {:?} is not a time like 2026-11-01T08:00:00Z",
                    visible(text)
                ),
            )
        })
}

/// ISO weekdays (1 = Monday … 7 = Sunday): a range `1-5` or a list `1,3,5`.
pub fn weekdays(text: &str) -> Result<Vec<u32>> {
    let bad = || {
        Error::new(
            ErrorCode::Usage,
            format!("--days {:?}: use 1-5 or 1,3,5 (1 = Monday)", visible(text)),
        )
    };
    let day = |part: &str| -> Result<u32> {
        part.trim()
            .parse::<u32>()
            .ok()
            .filter(|day| (1..=7).contains(day))
            .ok_or_else(bad)
    };
    if let Some((first, last)) = text.split_once('-') {
        let (first, last) = (day(first)?, day(last)?);
        if first > last {
            return Err(bad());
        }
        return Ok((first..=last).collect());
    }
    text.split(',').map(day).collect()
}

/// A working window, `08:00-12:00`, as minutes after local midnight.
pub fn window(text: &str) -> Result<(u32, u32)> {
    clinicdesk_core::parse_window(text)
}

/// A vital sign as typed: a number, optionally followed by its unit (`98.6F`, `150lb`, `70 in`).
pub fn vital_reading(kind: VitalKind, text: &str) -> Result<VitalReading> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .ok()
        .filter(|value: &f64| value.is_finite())
        .ok_or_else(|| {
            Error::invalid_field(
                kind.field_name(),
                format!(
                    "{} {:?} is not a number",
                    kind.definition().label,
                    visible(text)
                ),
            )
        })?;
    let unit = unit.trim();
    Ok(VitalReading {
        kind,
        value,
        unit: (!unit.is_empty()).then(|| unit.to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekday_lists_and_ranges() {
        assert_eq!(weekdays("1-5").unwrap(), vec![1, 2, 3, 4, 5]);
        assert_eq!(weekdays("1, 3,5").unwrap(), vec![1, 3, 5]);
        for bad in ["0-5", "5-1", "8", "mon", "1-", ""] {
            assert_eq!(weekdays(bad).unwrap_err().code, ErrorCode::Usage, "{bad:?}");
        }
    }

    #[test]
    fn vital_readings_keep_their_unit_and_refuse_what_is_not_a_number() {
        let reading = vital_reading(VitalKind::Temperature, " 98.6F ").unwrap();
        assert_eq!((reading.value, reading.unit.as_deref()), (98.6, Some("F")));
        assert_eq!(vital_reading(VitalKind::Weight, "70").unwrap().unit, None);
        for bad in ["", "F", "NaN", "inf", "--3", "\u{1b}[2J"] {
            let error = vital_reading(VitalKind::Weight, bad).unwrap_err();
            assert_eq!(error.code, ErrorCode::InvalidInput, "{bad:?}");
            assert!(!error.message.contains('\u{1b}'));
        }
    }
}
