//! The clinic's locale: how its dates, times and numbers are written on every screen.
//!
//! One clinic-wide choice (it syncs with the clinic's row), made at first run and changed by an
//! administrator. Until one is chosen, the locale follows the clinic's time zone: a clinic in
//! Berlin writes 01.12.2026, 10:05; one in London 1 Dec 2026, 10:05; one in New York Dec 1, 2026,
//! 10:05 AM. The screens format through one module (`ui/src/lib/format.ts`) with this locale.

use clinicdesk_error::{Error, Result};
use clinicdesk_store::rusqlite::{params, Connection};
use clinicdesk_store::sql_error;
use serde::{Deserialize, Serialize};

use crate::permission::Permission;
use crate::session::Session;
use crate::tables::Table;

/// A locale a clinic can choose, with its name as its speakers write it.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocaleChoice {
    /// A BCP 47 tag such as `de-DE`.
    pub code: String,
    pub name: String,
}

/// The locales offered, in the order the first-run screen lists them.
pub const OFFERED_LOCALES: &[(&str, &str)] = &[
    ("en-GB", "English (United Kingdom)"),
    ("en-US", "English (United States)"),
    ("en-IE", "English (Ireland)"),
    ("en-CA", "English (Canada)"),
    ("en-AU", "English (Australia)"),
    ("en-NZ", "English (New Zealand)"),
    ("en-IN", "English (India)"),
    ("en-ZA", "English (South Africa)"),
    ("de-DE", "Deutsch (Deutschland)"),
    ("de-AT", "Deutsch (Österreich)"),
    ("de-CH", "Deutsch (Schweiz)"),
    ("fr-FR", "Français (France)"),
    ("fr-BE", "Français (Belgique)"),
    ("fr-CH", "Français (Suisse)"),
    ("fr-CA", "Français (Canada)"),
    ("it-IT", "Italiano (Italia)"),
    ("es-ES", "Español (España)"),
    ("es-MX", "Español (México)"),
    ("pt-PT", "Português (Portugal)"),
    ("pt-BR", "Português (Brasil)"),
    ("nl-NL", "Nederlands (Nederland)"),
    ("nl-BE", "Nederlands (België)"),
    ("da-DK", "Dansk (Danmark)"),
    ("sv-SE", "Svenska (Sverige)"),
    ("nb-NO", "Norsk bokmål (Norge)"),
    ("fi-FI", "Suomi (Suomi)"),
    ("pl-PL", "Polski (Polska)"),
    ("cs-CZ", "Čeština (Česko)"),
];

/// Time zones whose clinics write by a locale other than the default of their region.
const LOCALE_BY_TIME_ZONE: &[(&str, &str)] = &[
    ("Europe/Berlin", "de-DE"),
    ("Europe/Vienna", "de-AT"),
    ("Europe/Zurich", "de-CH"),
    ("Europe/London", "en-GB"),
    ("Europe/Dublin", "en-IE"),
    ("Europe/Paris", "fr-FR"),
    ("Europe/Brussels", "nl-BE"),
    ("Europe/Madrid", "es-ES"),
    ("Europe/Rome", "it-IT"),
    ("Europe/Amsterdam", "nl-NL"),
    ("Europe/Lisbon", "pt-PT"),
    ("Europe/Warsaw", "pl-PL"),
    ("Europe/Prague", "cs-CZ"),
    ("Europe/Stockholm", "sv-SE"),
    ("Europe/Oslo", "nb-NO"),
    ("Europe/Copenhagen", "da-DK"),
    ("Europe/Helsinki", "fi-FI"),
    ("Australia/Sydney", "en-AU"),
    ("Australia/Melbourne", "en-AU"),
    ("Australia/Brisbane", "en-AU"),
    ("Australia/Perth", "en-AU"),
    ("Pacific/Auckland", "en-NZ"),
    ("Asia/Kolkata", "en-IN"),
    ("Africa/Johannesburg", "en-ZA"),
    ("America/Toronto", "en-CA"),
    ("America/Vancouver", "en-CA"),
    ("America/Montreal", "fr-CA"),
    ("America/Mexico_City", "es-MX"),
    ("America/Sao_Paulo", "pt-BR"),
];

/// The locales a clinic can choose.
pub fn offered_locales() -> Vec<LocaleChoice> {
    OFFERED_LOCALES
        .iter()
        .map(|(code, name)| LocaleChoice {
            code: (*code).to_owned(),
            name: (*name).to_owned(),
        })
        .collect()
}

/// The locale a clinic in `time_zone` writes by until it chooses one: its country's where known,
/// `en-US` in the Americas, `en-GB` elsewhere.
pub fn locale_for_time_zone(time_zone: &str) -> &'static str {
    if let Some((_, locale)) = LOCALE_BY_TIME_ZONE
        .iter()
        .find(|(zone, _)| *zone == time_zone.trim())
    {
        return locale;
    }
    if time_zone.starts_with("America/") || time_zone.starts_with("US/") {
        "en-US"
    } else {
        "en-GB"
    }
}

/// One of [`OFFERED_LOCALES`], or a clear refusal naming a few.
pub(crate) fn validate_locale(locale: &str) -> Result<&'static str> {
    OFFERED_LOCALES
        .iter()
        .map(|(code, _)| *code)
        .find(|code| code.eq_ignore_ascii_case(locale.trim()))
        .ok_or_else(|| {
            Error::invalid_field(
                "locale",
                format!(
                    "{:?} is not a locale Clinicdesk offers; choose one such as en-GB, en-US or de-DE",
                    crate::validation::visible(locale)
                ),
            )
        })
}

/// The clinic's own choice, if it made one.
fn chosen_locale(connection: &Connection) -> Result<(String, Option<String>, String)> {
    connection
        .query_row(
            "SELECT id, locale, time_zone FROM clinics WHERE deleted_at IS NULL ORDER BY created_at LIMIT 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .map_err(sql_error("reading the clinic's locale"))
}

impl Session {
    /// The clinic's locale: its choice, or the one its time zone suggests.
    pub fn clinic_locale(&self) -> Result<String> {
        let (_, chosen, time_zone) = chosen_locale(self.connection()?)?;
        Ok(chosen.unwrap_or_else(|| locale_for_time_zone(&time_zone).to_owned()))
    }

    /// Changes how the clinic's dates, times and numbers are written (administrators); audited
    /// with before and after, and synced to the clinic's other workstations.
    pub fn set_clinic_locale(&mut self, locale: &str) -> Result<()> {
        self.authorize(
            "settings.clinic_locale",
            Some(Permission::SecurityManage),
            None,
        )?;
        let locale = validate_locale(locale)?;
        let (clinic_id, before, _) = chosen_locale(self.connection()?)?;
        if before.as_deref() == Some(locale) {
            return Ok(());
        }
        self.write(|write| {
            let (stamp, by) = (write.stamp(), write.user_id().map(str::to_owned));
            write
                .execute(
                    "UPDATE clinics SET locale = ?2, updated_at = ?3, updated_by = ?4, version = version + 1 WHERE id = ?1",
                    params![clinic_id, locale, stamp, by],
                )
                .map_err(sql_error("changing the clinic's locale"))?;
            write.updated(Table::Clinics, &clinic_id)?;
            let entry = write
                .entry("settings.clinic_locale")
                .object("clinic", &clinic_id)
                .details(serde_json::json!({ "before": before, "after": locale }));
            write.audit(entry)?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clinic_writes_by_its_countrys_locale_until_it_chooses() {
        for (zone, locale) in [
            ("Europe/Berlin", "de-DE"),
            ("Europe/London", "en-GB"),
            ("America/Chicago", "en-US"),
            ("America/Toronto", "en-CA"),
            ("Africa/Nairobi", "en-GB"),
        ] {
            assert_eq!(locale_for_time_zone(zone), locale, "{zone}");
        }
        for (_, locale) in LOCALE_BY_TIME_ZONE {
            assert!(validate_locale(locale).is_ok(), "{locale} is offered");
        }
    }

    #[test]
    fn only_offered_locales_are_taken() {
        assert_eq!(validate_locale(" de-de ").unwrap(), "de-DE");
        let refused = validate_locale("xx-YY").unwrap_err();
        assert_eq!(refused.field.as_deref(), Some("locale"));
    }
}
