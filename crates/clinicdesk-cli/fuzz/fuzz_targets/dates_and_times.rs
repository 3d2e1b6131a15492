//! Dates, local times, moments, weekday lists and working windows as typed on the command line,
//! and a local time on into UTC in zones with daylight saving: never a panic, every refusal
//! free of raw control characters, and what is read writes back as the same value.

#![no_main]

use clinicdesk_cli::arguments::{date, local_time, moment, weekdays, window};
use clinicdesk_core::{local_to_utc, Error, RepeatedHour};
use libfuzzer_sys::fuzz_target;

fn safe(error: Error) {
    assert!(
        !error.message.chars().any(char::is_control),
        "a raw control character in {:?}",
        error.message
    );
}

fuzz_target!(|text: &str| {
    match date(text) {
        Ok(day) => assert_eq!(date(&day.to_string()).ok(), Some(day)),
        Err(error) => safe(error),
    }
    match local_time(text) {
        Ok(at) => {
            let written = at.format("%Y-%m-%d %H:%M").to_string();
            assert_eq!(local_time(&written).ok(), Some(at));
            for zone in [
                chrono_tz::Europe::Berlin,
                chrono_tz::America::New_York,
                chrono_tz::Australia::Lord_Howe,
            ] {
                for repeated in [RepeatedHour::First, RepeatedHour::Second] {
                    match local_to_utc(zone, at, repeated) {
                        Ok(utc) => assert_eq!(
                            utc.with_timezone(&zone).naive_local(),
                            at,
                            "a local time comes back as itself"
                        ),
                        Err(error) => safe(error),
                    }
                }
            }
        }
        Err(error) => safe(error),
    }
    if let Err(error) = moment(text, "--from") {
        safe(error);
    }
    match weekdays(text) {
        Ok(days) => assert!(days.iter().all(|day| (1..=7).contains(day))),
        Err(error) => safe(error),
    }
    match window(text) {
        Ok((start, end)) => assert!(start < end && end <= 24 * 60),
        Err(error) => safe(error),
    }
});
