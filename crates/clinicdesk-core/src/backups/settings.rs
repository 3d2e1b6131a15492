//! Where backups go, when the daily one runs, how many are kept (retention), the status a
//! manager sees first, and the list of backups in the folder.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use clinicdesk_error::{Error, Result};
use clinicdesk_store::rusqlite::{params, Connection, OptionalExtension};
use clinicdesk_store::{sql_error, DataDir};

use super::files::{backup_files, folder_in_use};
use super::{row_counts, BackupFacts, BackupRun, BackupSettings, BackupStatus};
use crate::backup_schedule::{self, RetentionPolicy};
use crate::environment::{format_timestamp, parse_timestamp, Environment};
use crate::permission::Permission;
use crate::recorded_write::RecordedWrite;
use crate::session::Session;
use crate::tables::Table;

const SETTING_FOLDER: &str = "backup_folder";
const SETTING_TIME: &str = "backup_daily_time";
const SETTING_KEEP: [&str; 3] = [
    "backup_keep_daily",
    "backup_keep_weekly",
    "backup_keep_monthly",
];

fn read_setting(connection: &Connection, key: &str) -> Result<Option<String>> {
    connection
        .query_row("SELECT value FROM settings WHERE key = ?1", [key], |row| {
            row.get(0)
        })
        .optional()
        .map_err(sql_error("reading the backup settings"))
}

pub(crate) fn read_settings(connection: &Connection) -> Result<BackupSettings> {
    let defaults = RetentionPolicy::default();
    let keep = |index: usize, default: u32| -> Result<u32> {
        Ok(read_setting(connection, SETTING_KEEP[index])?
            .and_then(|text| text.parse().ok())
            .unwrap_or(default))
    };
    Ok(BackupSettings {
        folder: read_setting(connection, SETTING_FOLDER)?.unwrap_or_default(),
        daily_time: read_setting(connection, SETTING_TIME)?.unwrap_or_default(),
        retention: RetentionPolicy {
            keep_daily: keep(0, defaults.keep_daily)?,
            keep_weekly: keep(1, defaults.keep_weekly)?,
            keep_monthly: keep(2, defaults.keep_monthly)?,
        },
    })
}

/// The settings rows' keys and values.
pub(crate) fn settings_pairs(settings: &BackupSettings) -> [(&'static str, String); 5] {
    [
        (SETTING_FOLDER, settings.folder.clone()),
        (SETTING_TIME, settings.daily_time.clone()),
        (SETTING_KEEP[0], settings.retention.keep_daily.to_string()),
        (SETTING_KEEP[1], settings.retention.keep_weekly.to_string()),
        (SETTING_KEEP[2], settings.retention.keep_monthly.to_string()),
    ]
}

/// The keys of the backup settings rows (carried forward through a restore).
pub(crate) fn setting_keys() -> [&'static str; 5] {
    [
        SETTING_FOLDER,
        SETTING_TIME,
        SETTING_KEEP[0],
        SETTING_KEEP[1],
        SETTING_KEEP[2],
    ]
}

fn write_settings(write: &mut RecordedWrite<'_>, settings: &BackupSettings) -> Result<()> {
    let (at, by) = (write.stamp(), write.user_id().map(str::to_owned));
    for (key, value) in settings_pairs(settings) {
        write
            .execute(
                "INSERT INTO settings (key, value, updated_at, updated_by) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at,
                    updated_by = excluded.updated_by, version = version + 1
                 WHERE value IS NOT excluded.value",
                params![key, value, at, by],
            )
            .map_err(sql_error("writing the backup settings"))?;
        write.updated(Table::Settings, key)?;
    }
    Ok(())
}

fn validate_settings(settings: &BackupSettings) -> Result<BackupSettings> {
    let folder = settings.folder.trim().to_owned();
    if folder.chars().any(crate::validation::is_forbidden_in_line) {
        return Err(Error::invalid_field(
            "folder",
            "The backup folder contains a control character; type the path again",
        ));
    }
    if !folder.is_empty() && (!Path::new(&folder).is_absolute() || folder.chars().count() > 1000) {
        return Err(Error::invalid_field(
            "folder",
            format!(
                "The backup folder {:?} is not a full path (such as /media/backup-drive/clinicdesk)",
                crate::validation::visible(&folder)
            ),
        ));
    }
    let daily_time = settings.daily_time.trim().to_owned();
    if !daily_time.is_empty() {
        backup_schedule::parse_daily_time(&daily_time)
            .map_err(|error| error.for_field("daily_time"))?;
    }
    settings
        .retention
        .validate()
        .map_err(|error| error.for_field("retention"))?;
    Ok(BackupSettings {
        folder,
        daily_time,
        retention: settings.retention,
    })
}

/// When the last scheduled backup succeeded and when one last failed.
pub(crate) struct LastScheduledRuns {
    pub(crate) success: Option<DateTime<Utc>>,
    pub(crate) failure: Option<DateTime<Utc>>,
}

pub(crate) fn last_scheduled_runs(connection: &Connection) -> Result<LastScheduledRuns> {
    let last = |outcome: &str| -> Result<Option<DateTime<Utc>>> {
        let text: Option<String> = connection
            .query_row(
                "SELECT max(started_at) FROM backup_runs WHERE scheduled = 1 AND outcome = ?1",
                [outcome],
                |row| row.get(0),
            )
            .map_err(sql_error("reading the backup runs"))?;
        Ok(text.as_deref().and_then(parse_timestamp))
    };
    Ok(LastScheduledRuns {
        success: last("success")?,
        failure: last("failure")?,
    })
}

/// Is the daily backup due now? (Never when no daily time is set.)
pub(crate) fn scheduled_backup_due(connection: &Connection, now: DateTime<Utc>) -> Result<bool> {
    let settings = read_settings(connection)?;
    if settings.daily_time.is_empty() {
        return Ok(false);
    }
    let time = backup_schedule::parse_daily_time(&settings.daily_time)?;
    let zone = crate::scheduling::clinic_zone(connection)?;
    let runs = last_scheduled_runs(connection)?;
    Ok(backup_schedule::scheduled_backup_due(
        time,
        zone,
        runs.success,
        runs.failure,
        now,
    ))
}

/// Deletes the scheduled backups of this clinic in the backup folder that the retention rule no
/// longer keeps (backups made on demand are never deleted automatically); returns the deleted
/// files, for the audit entry.
pub(crate) fn apply_retention(
    connection: &Connection,
    data_dir: &DataDir,
    settings: &BackupSettings,
) -> Result<Vec<String>> {
    let zone = crate::scheduling::clinic_zone(connection)?;
    let clinic_id = crate::recorded_write::clinic_id(connection)?;
    let folder = folder_in_use(data_dir, settings);
    let scheduled: Vec<(PathBuf, DateTime<chrono_tz::Tz>)> = backup_files(&folder)?
        .into_iter()
        .filter_map(|path| {
            let header = clinicdesk_backup::read_header(&path).ok()?;
            let created = parse_timestamp(&header.facts.created_at)?;
            (header.facts.scheduled && header.facts.clinic_id == clinic_id)
                .then(|| (path, created.with_timezone(&zone)))
        })
        .collect();
    let times: Vec<_> = scheduled.iter().map(|(_, at)| *at).collect();
    let keep = backup_schedule::kept_by_retention(&times, settings.retention);
    let mut deleted = Vec::new();
    for ((path, _), keep) in scheduled.iter().zip(keep) {
        if !keep {
            std::fs::remove_file(path)?;
            deleted.push(path.display().to_string());
        }
    }
    Ok(deleted)
}

fn read_status(
    connection: &Connection,
    data_dir: &DataDir,
    environment: &Environment,
) -> Result<BackupStatus> {
    let settings = read_settings(connection)?;
    let last = |outcome: &str| -> Result<Option<BackupRun>> {
        connection
            .query_row(
                "SELECT started_at, finished_at, scheduled, outcome, file_path, bytes, error_code, error_message
                 FROM backup_runs WHERE outcome = ?1 ORDER BY finished_at DESC LIMIT 1",
                [outcome],
                |row| {
                    Ok(BackupRun {
                        started_at: row.get(0)?,
                        finished_at: row.get(1)?,
                        scheduled: row.get(2)?,
                        succeeded: row.get::<_, String>(3)? == "success",
                        file_path: row.get(4)?,
                        bytes: row.get(5)?,
                        error_code: row.get(6)?,
                        error_message: row.get(7)?,
                    })
                },
            )
            .optional()
            .map_err(sql_error("reading the backup runs"))
    };
    let last_success = last("success")?;
    let last_failure = last("failure")?;
    let failing = match (&last_success, &last_failure) {
        (_, None) => false,
        (None, Some(_)) => true,
        (Some(success), Some(failure)) => failure.finished_at > success.finished_at,
    };
    let next_scheduled_at = if settings.daily_time.is_empty() {
        None
    } else {
        let now = environment.now();
        let time = backup_schedule::parse_daily_time(&settings.daily_time)?;
        let zone = crate::scheduling::clinic_zone(connection)?;
        Some(format_timestamp(
            if scheduled_backup_due(connection, now)? {
                now
            } else {
                backup_schedule::next_slot(time, zone, now)
            },
        ))
    };
    Ok(BackupStatus {
        store_counts: row_counts(connection)?,
        folder_in_use: folder_in_use(data_dir, &settings).display().to_string(),
        settings,
        last_success,
        last_failure,
        failing,
        next_scheduled_at,
    })
}

impl Session {
    pub fn backup_settings(&mut self) -> Result<BackupSettings> {
        self.authorize(
            "backup.settings_read",
            Some(Permission::BackupsCreate),
            None,
        )?;
        read_settings(self.connection()?)
    }

    /// Changes where, when and how many backups; audited with before and after.
    pub fn set_backup_settings(&mut self, wanted: BackupSettings) -> Result<BackupSettings> {
        self.authorize(
            "backup.settings_change",
            Some(Permission::BackupsCreate),
            None,
        )?;
        let wanted = validate_settings(&wanted)?;
        let before = read_settings(self.connection()?)?;
        self.write(|write| {
            write_settings(write, &wanted)?;
            let entry = write
                .entry("backup.settings_change")
                .object("settings", "backups")
                .details(serde_json::json!({ "before": before, "after": wanted }));
            write.audit(entry)?;
            Ok(())
        })?;
        Ok(wanted)
    }

    pub fn backup_status(&mut self) -> Result<BackupStatus> {
        self.authorize("backup.status", Some(Permission::BackupsCreate), None)?;
        read_status(self.connection()?, &self.data_dir, &self.environment)
    }

    /// The backups in the backup folder, newest first, from their headers.
    pub fn list_backups(&mut self) -> Result<Vec<BackupFacts>> {
        self.authorize("backup.list", Some(Permission::BackupsCreate), None)?;
        let settings = read_settings(self.connection()?)?;
        backups_found_in(&folder_in_use(&self.data_dir, &settings))
    }
}

/// The backups in `folder`, newest first, from their readable headers (no key needed); files
/// whose header does not read are left out.
pub fn backups_found_in(folder: &Path) -> Result<Vec<BackupFacts>> {
    let mut listed: Vec<BackupFacts> = backup_files(folder)?
        .into_iter()
        .filter_map(|path| {
            clinicdesk_backup::read_header(&path)
                .ok()
                .map(|header| BackupFacts::from_header(&path, &header))
        })
        .collect();
    listed.sort_by(|a, b| b.created_at.cmp(&a.created_at));
    Ok(listed)
}

/// Where backups go unless a folder is chosen: `backups` in the data folder.
pub fn default_backup_folder(data_dir: &DataDir) -> PathBuf {
    super::files::default_folder(data_dir)
}
