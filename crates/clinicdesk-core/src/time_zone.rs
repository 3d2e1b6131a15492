//! Clinic time zones (IANA names such as `Europe/Berlin`).

use clinicdesk_error::{Error, Result};

pub fn validate(name: &str) -> Result<chrono_tz::Tz> {
    name.trim().parse::<chrono_tz::Tz>().map_err(|_| {
        Error::invalid_field(
            "time_zone",
            format!(
                "The time zone {:?} is not an IANA time zone name such as Europe/Berlin or America/New_York",
                crate::validation::visible(name)
            ),
        )
    })
}

/// The IANA names a clinic can choose from (the canonical `Region/City` ones and `UTC`), sorted.
pub fn time_zone_names() -> Vec<String> {
    let mut names: Vec<String> = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|zone| zone.name())
        .filter(|name| {
            *name == "UTC"
                || (name.contains('/')
                    && [
                        "Africa/",
                        "America/",
                        "Antarctica/",
                        "Asia/",
                        "Atlantic/",
                        "Australia/",
                        "Europe/",
                        "Indian/",
                        "Pacific/",
                    ]
                    .iter()
                    .any(|region| name.starts_with(region)))
        })
        .map(str::to_owned)
        .collect();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_offered_time_zone_is_accepted() {
        let names = super::time_zone_names();
        assert!(names.len() > 300, "{}", names.len());
        for wanted in ["Europe/Berlin", "America/New_York", "UTC", "Asia/Kolkata"] {
            assert!(names.iter().any(|name| name == wanted), "{wanted}");
        }
        assert!(!names.iter().any(|name| name.starts_with("Etc/")));
        for name in &names {
            assert!(super::validate(name).is_ok(), "{name}");
        }
    }
}
