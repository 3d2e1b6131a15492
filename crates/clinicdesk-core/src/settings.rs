//! Settings kept in the store: security settings (idle logoff, lockout) with their ranges.

use clinicdesk_error::{Error, Result};
use clinicdesk_keyslot::KeySlotFile;
use clinicdesk_store::rusqlite::{params, Connection};
use clinicdesk_store::sql_error;
use serde::{Deserialize, Serialize};

use crate::permission::Permission;
use crate::policy::IdleTimings;
use crate::recorded_write::RecordedWrite;
use crate::session::Session;
use crate::tables::Table;

/// (key, default, minimum, maximum)
const INTEGER_SETTINGS: &[(&str, i64, i64, i64)] = &[
    ("idle_logoff_seconds", 600, 60, 3600),
    ("idle_warning_seconds", 60, 10, 600),
    ("max_failed_logins", 5, 3, 20),
    ("lock_minutes", 15, 1, 1440),
    ("emergency_access_minutes", 60, 5, 1440),
];

pub(crate) fn seed_defaults(write: &mut RecordedWrite<'_>, stamp: &str) -> Result<()> {
    for (key, default, _, _) in INTEGER_SETTINGS {
        write
            .execute(
                "INSERT INTO settings (key, value, updated_at) VALUES (?1, ?2, ?3)",
                params![key, default.to_string(), stamp],
            )
            .map_err(sql_error("writing default settings"))?;
        write.inserted(Table::Settings, key)?;
    }
    Ok(())
}

pub(crate) fn read_integer(connection: &Connection, key: &str) -> Result<i64> {
    let default = INTEGER_SETTINGS
        .iter()
        .find(|(known, ..)| *known == key)
        .map(|(_, default, ..)| *default)
        .ok_or_else(|| Error::unexpected(format!("unknown setting {key}")))?;
    let value: Option<String> = connection
        .query_row("SELECT value FROM settings WHERE key = ?1", [key], |row| {
            row.get(0)
        })
        .ok();
    Ok(value.and_then(|text| text.parse().ok()).unwrap_or(default))
}

/// The security settings an administrator sets.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecuritySettings {
    pub idle_logoff_seconds: i64,
    pub idle_warning_seconds: i64,
    pub max_failed_logins: i64,
    pub lock_minutes: i64,
    pub emergency_access_minutes: i64,
}

impl SecuritySettings {
    fn pairs(&self) -> [(&'static str, i64); 5] {
        [
            ("idle_logoff_seconds", self.idle_logoff_seconds),
            ("idle_warning_seconds", self.idle_warning_seconds),
            ("max_failed_logins", self.max_failed_logins),
            ("lock_minutes", self.lock_minutes),
            ("emergency_access_minutes", self.emergency_access_minutes),
        ]
    }

    fn validate(&self) -> Result<()> {
        for (key, value) in self.pairs() {
            let (_, _, minimum, maximum) = INTEGER_SETTINGS
                .iter()
                .find(|(known, ..)| *known == key)
                .expect("known setting");
            if value < *minimum || value > *maximum {
                return Err(Error::invalid_field(
                    key,
                    format!(
                        "{} must be between {minimum} and {maximum} (got {value})",
                        crate::validation::capitalised(&key.replace('_', " "))
                    ),
                ));
            }
        }
        if self.idle_warning_seconds >= self.idle_logoff_seconds {
            return Err(Error::invalid_field(
                "idle_warning_seconds",
                "The idle warning must come before the logoff: make it shorter than the idle logoff time",
            ));
        }
        Ok(())
    }
}

fn read_security(connection: &Connection) -> Result<SecuritySettings> {
    Ok(SecuritySettings {
        idle_logoff_seconds: read_integer(connection, "idle_logoff_seconds")?,
        idle_warning_seconds: read_integer(connection, "idle_warning_seconds")?,
        max_failed_logins: read_integer(connection, "max_failed_logins")?,
        lock_minutes: read_integer(connection, "lock_minutes")?,
        emergency_access_minutes: read_integer(connection, "emergency_access_minutes")?,
    })
}

impl Session {
    /// The idle logoff time and warning every signed-in user's window needs (the defaults
    /// while a temporary password must still be replaced, before settings may be read).
    pub fn idle_timings(&mut self) -> Result<IdleTimings> {
        if self.must_change_password() || self.store_damage().is_some() {
            self.check_live()?;
            return Ok(IdleTimings::DEFAULT);
        }
        self.authorize_any_user()?;
        let connection = self.connection()?;
        Ok(IdleTimings {
            logoff_seconds: read_integer(connection, "idle_logoff_seconds")?,
            warning_seconds: read_integer(connection, "idle_warning_seconds")?,
        })
    }

    pub fn security_settings(&mut self) -> Result<SecuritySettings> {
        self.authorize("security.read", Some(Permission::SecurityManage), None)?;
        read_security(self.connection()?)
    }

    /// Changes the security settings; audited with before and after, mirrored into the key-slot
    /// file (lockout must be known before unlock).
    pub fn set_security_settings(&mut self, wanted: SecuritySettings) -> Result<()> {
        self.authorize("settings.change", Some(Permission::SecurityManage), None)?;
        wanted.validate()?;
        let before = read_security(self.connection()?)?;
        self.write(|transaction| {
            for (key, value) in wanted.pairs() {
                let (stamp, by) = (transaction.stamp(), transaction.user_id().map(str::to_owned));
                transaction
                    .execute(
                        "UPDATE settings SET value = ?2, updated_at = ?3, updated_by = ?4, version = version + 1 WHERE key = ?1",
                        params![key, value.to_string(), stamp, by],
                    )
                    .map_err(sql_error("changing a setting"))?;
                transaction.updated(Table::Settings, key)?;
            }
            let entry = transaction
                .entry("settings.change")
                .object("settings", "security")
                .details(serde_json::json!({ "before": before, "after": wanted }));
            transaction.audit(entry)?;
            Ok(())
        })?;
        KeySlotFile::new(self.data_dir.key_slot_file()).update(|document| {
            document.login_policy.max_failed_logins = wanted.max_failed_logins as u32;
            document.login_policy.lock_minutes = wanted.lock_minutes as u32;
            Ok(())
        })?;
        self.set_idle_timeout(chrono::Duration::seconds(wanted.idle_logoff_seconds));
        Ok(())
    }
}
