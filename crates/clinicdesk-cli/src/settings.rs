//! `clinicdesk settings …`: security settings (idle logoff, lockout, emergency access).

use clap::Subcommand;
use clinicdesk_core::{Result, SecuritySettings, Session};

use crate::output::Output;

#[derive(Subcommand)]
pub(crate) enum SettingsCommand {
    Show,
    Set {
        #[arg(long)]
        idle_logoff_seconds: Option<i64>,
        #[arg(long)]
        idle_warning_seconds: Option<i64>,
        #[arg(long)]
        max_failed_logins: Option<i64>,
        #[arg(long)]
        lock_minutes: Option<i64>,
        #[arg(long)]
        emergency_access_minutes: Option<i64>,
    },
}

pub(crate) fn run_settings(
    session: &mut Session,
    command: SettingsCommand,
    out: &Output,
) -> Result<()> {
    let current = session.security_settings()?;
    let settings = match command {
        SettingsCommand::Show => current,
        SettingsCommand::Set {
            idle_logoff_seconds,
            idle_warning_seconds,
            max_failed_logins,
            lock_minutes,
            emergency_access_minutes,
        } => {
            let wanted = SecuritySettings {
                idle_logoff_seconds: idle_logoff_seconds.unwrap_or(current.idle_logoff_seconds),
                idle_warning_seconds: idle_warning_seconds.unwrap_or(current.idle_warning_seconds),
                max_failed_logins: max_failed_logins.unwrap_or(current.max_failed_logins),
                lock_minutes: lock_minutes.unwrap_or(current.lock_minutes),
                emergency_access_minutes: emergency_access_minutes
                    .unwrap_or(current.emergency_access_minutes),
            };
            session.set_security_settings(wanted)?;
            wanted
        }
    };
    out.value(serde_json::to_value(settings).unwrap_or_default(), || {
        format!(
            "Idle logoff:        {} s (warning {} s before)\nLockout:            after {} failed logins, for {} min\nEmergency access:   {} min",
            settings.idle_logoff_seconds,
            settings.idle_warning_seconds,
            settings.max_failed_logins,
            settings.lock_minutes,
            settings.emergency_access_minutes
        )
    });
    Ok(())
}
