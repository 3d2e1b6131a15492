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
