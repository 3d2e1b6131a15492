//! `clinicdesk backup …`: create, list, verify and restore encrypted backups, and set their
//! schedule and retention.

use std::path::PathBuf;

use clap::Subcommand;
use clinicdesk_core::{
    BackupFacts, BackupProgress, BackupSettings, Error, ErrorCode, Result, RetentionPolicy, Session,
};

use crate::output::Output;

#[derive(Subcommand)]
pub(crate) enum BackupCommand {
    #[command(flatten)]
    SignedIn(SignedInBackupCommand),
    /// On a new workstation (an empty data folder), rebuild the store from a backup with the
    /// clinic's recovery key, and set a new password for one of its administrators. No login.
    RestoreNew {
        file: PathBuf,
        /// An administrator in the backup, who gets a new password now.
        #[arg(long, value_name = "USERNAME")]
        admin: String,
    },
    /// When this workstation's store is so damaged that nobody can sign in, restore a backup over
    /// it with the clinic's recovery key (everyone's password keeps working; the damaged store is
    /// kept in `rollback/`). No login.
    RestoreDamaged { file: PathBuf },
}

/// The backup commands that run as a signed-in manager or administrator (`--as`).
#[derive(Subcommand)]
pub(crate) enum SignedInBackupCommand {
    /// Make an encrypted backup now (into the backup folder, or --out FILE).
    Create {
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Decrypt a backup completely and check it, without touching the live store. Exit 6 when
    /// it is damaged, altered, or not this clinic's.
    Verify { file: PathBuf },
    /// The backups in the backup folder, with what their headers say.
    List,
    /// Replace the store with a backup (verified first; the current store is kept as a
    /// rollback copy), or with --to TIME bring it back to that moment.
    Restore {
        #[arg(required_unless_present = "to", conflicts_with = "to")]
        file: Option<PathBuf>,
        /// A moment such as 2026-11-21T14:05:00Z: restores the backup before it and replays the
        /// recorded changes up to it.
        #[arg(long, value_name = "TIME")]
        to: Option<String>,
    },
    /// What `restore --to TIME` would undo, without doing it.
    Plan {
        #[arg(long, value_name = "TIME")]
        to: String,
    },
    /// The backup folder, schedule, retention, and the last success and failure.
    Status,
    /// Change the backup folder, the daily time and the retention.
    Schedule {
        /// An absolute folder (an external drive or network share); "" for the data folder.
        #[arg(long)]
        folder: Option<String>,
        /// HH:MM in the clinic's time zone; "" to switch scheduled backups off.
        #[arg(long, value_name = "HH:MM")]
        daily_at: Option<String>,
        #[arg(long, value_parser = clinicdesk_cli::arguments::count)]
        keep_daily: Option<u32>,
        #[arg(long, value_parser = clinicdesk_cli::arguments::count)]
        keep_weekly: Option<u32>,
        #[arg(long, value_parser = clinicdesk_cli::arguments::count)]
        keep_monthly: Option<u32>,
    },
    /// Run the scheduled backup now if it is due (for a timer when the desktop app is closed).
    RunDue,
}

/// Prints a percentage to standard error when it changes (the core reports every chunk).
fn progress_printer(out: &Output) -> impl FnMut(BackupProgress) + '_ {
    let mut shown = None;
    move |progress: BackupProgress| {
        let percent = (progress.done_bytes * 100).checked_div(progress.total_bytes);
        if !out.json && percent.is_some() && shown != Some((progress.stage, percent)) {
            shown = Some((progress.stage, percent));
            crate::output::notice(&format!(
                "\r{:?}: {:>3}%{}",
                progress.stage,
                progress.done_bytes * 100 / progress.total_bytes,
                if progress.done_bytes == progress.total_bytes {
                    "\n"
                } else {
                    ""
                }
            ));
        }
    }
}

fn describe(facts: &BackupFacts) -> String {
    let counts: Vec<String> = facts
        .row_counts
        .iter()
        .map(|(table, count)| format!("{table} {count}"))
        .collect();
    format!(
        "{}\n  made {} by {}{}, Clinicdesk {}, schema {}, clinic {}\n  {} MiB; {}",
        facts.path,
        facts.created_at,
        facts.created_by.as_deref().unwrap_or("-"),
        if facts.scheduled {
            " (daily schedule)"
        } else {
            ""
        },
        facts.app_version,
        facts.schema_version,
        facts.clinic_name,
        facts.file_bytes / (1024 * 1024),
        counts.join(", ")
    )
}

pub(crate) fn run_backup(
    session: &mut Session,
    command: SignedInBackupCommand,
    out: &Output,
) -> Result<()> {
    match command {
        SignedInBackupCommand::Create { out: file } => {
            let facts = session.create_backup(file.as_deref(), &mut progress_printer(out))?;
            out.value(serde_json::json!(facts), || {
                format!("Backup written and synced:\n{}", describe(&facts))
            });
        }
        SignedInBackupCommand::Verify { file } => {
            let facts = session.verify_backup(&file, &mut progress_printer(out))?;
            out.value(serde_json::json!(facts), || {
                format!(
                    "The backup is complete and intact: it decrypts, and its store passes the integrity, foreign-key and audit-chain checks.\n{}",
                    describe(&facts)
                )
            });
        }
        SignedInBackupCommand::List => {
            let listed = session.list_backups()?;
            out.value(serde_json::json!(listed), || {
                if listed.is_empty() {
                    "No backups in the backup folder yet (clinicdesk backup create).".to_owned()
                } else {
                    listed.iter().map(describe).collect::<Vec<_>>().join("\n")
                }
            });
        }
        SignedInBackupCommand::Restore { file, to } => {
            let outcome = match (file, to) {
                (Some(file), None) => session.restore_backup(&file, &mut progress_printer(out))?,
                (None, Some(to)) => {
                    let target = clinicdesk_cli::arguments::moment(&to, "--to")?;
                    session.restore_to_point_in_time(target, &mut progress_printer(out))?
                }
                _ => {
                    return Err(Error::new(
                        ErrorCode::Usage,
                        "give either a backup FILE or --to TIME",
                    ))
                }
            };
            out.value(serde_json::json!(outcome), || {
                let mut text = format!(
                    "Restored the backup made {}{}.\nThe store it replaced is kept at {}.",
                    outcome.backup.created_at,
                    match &outcome.restored_to {
                        Some(moment) => format!(
                            ", then replayed {} recorded transactions up to {moment}",
                            outcome.replayed_transactions
                        ),
                        None => String::new(),
                    },
                    outcome.rollback_copy
                );
                if let Some(from) = outcome.migrated_from_schema {
                    text.push_str(&format!("\nThe backup had schema version {from}; it was migrated."));
                }
                text.push_str(&format!(
                    "\nThe audit trail was kept whole ({} entries written after the backup were carried over).",
                    outcome.audit_entries_kept
                ));
                text
            });
        }
        SignedInBackupCommand::Plan { to } => {
            let target = clinicdesk_cli::arguments::moment(&to, "--to")?;
            let plan = session.plan_point_in_time_restore(target)?;
            out.value(serde_json::json!(plan), || {
                let mut text = format!(
                    "Going back to {} restores the backup made {} and replays {} recorded transactions.\n{} audited actions after that moment will be undone",
                    plan.target, plan.backup.created_at, plan.replayed_transactions, plan.undone_total
                );
                text.push_str(if plan.undone.is_empty() { "." } else { ", newest first:" });
                for entry in &plan.undone {
                    text.push_str(&format!(
                        "\n  {}  {:<14} {}",
                        entry.occurred_at,
                        entry.username.as_deref().unwrap_or("-"),
                        entry.action
                    ));
                }
                text
            });
        }
        SignedInBackupCommand::Status => {
            let status = session.backup_status()?;
            out.value(serde_json::json!(status), || {
                let run = |run: &Option<clinicdesk_core::BackupRun>| match run {
                    Some(run) => format!(
                        "{}{}",
                        run.finished_at,
                        run.error_message
                            .as_deref()
                            .map(|message| format!(" ({message})"))
                            .unwrap_or_default()
                    ),
                    None => "never".to_owned(),
                };
                format!(
                    "Backup folder: {}\nDaily at: {}\nKeep: {} daily, {} weekly, {} monthly\nLast success: {}\nLast failure: {}{}\nNext scheduled: {}",
                    status.folder_in_use,
                    if status.settings.daily_time.is_empty() { "off" } else { &status.settings.daily_time },
                    status.settings.retention.keep_daily,
                    status.settings.retention.keep_weekly,
                    status.settings.retention.keep_monthly,
                    run(&status.last_success),
                    run(&status.last_failure),
                    if status.failing { "\nTHE LAST BACKUP FAILED." } else { "" },
                    status.next_scheduled_at.as_deref().unwrap_or("-")
                )
            });
        }
        SignedInBackupCommand::Schedule {
            folder,
            daily_at,
            keep_daily,
            keep_weekly,
            keep_monthly,
        } => {
            let current = session.backup_settings()?;
            let wanted = BackupSettings {
                folder: folder.unwrap_or(current.folder),
                daily_time: daily_at.unwrap_or(current.daily_time),
                retention: RetentionPolicy {
                    keep_daily: keep_daily.unwrap_or(current.retention.keep_daily),
                    keep_weekly: keep_weekly.unwrap_or(current.retention.keep_weekly),
                    keep_monthly: keep_monthly.unwrap_or(current.retention.keep_monthly),
                },
            };
            let saved = session.set_backup_settings(wanted)?;
            out.value(serde_json::json!(saved), || {
                "Backup settings saved.".to_owned()
            });
        }
        SignedInBackupCommand::RunDue => {
            let made = session.run_scheduled_backup_if_due(&mut progress_printer(out))?;
            out.value(serde_json::json!(made), || match &made {
                Some(facts) => format!("The scheduled backup ran:\n{}", describe(facts)),
                None => "No scheduled backup is due.".to_owned(),
            });
        }
    }
    Ok(())
}

/// `backup restore-new`: no session; the recovery key and the administrator's new password are
/// read like those of `recover`.
pub(crate) fn restore_new(
    data_dir: &clinicdesk_core::DataDir,
    file: &std::path::Path,
    admin: &str,
    secrets: &mut crate::secrets::Secrets,
    environment: &clinicdesk_core::Environment,
    out: &Output,
) -> Result<()> {
    let recovery_key = secrets.recovery_key()?;
    let admin_password = secrets.new_password(&format!("New password for {admin}"))?;
    crate::output::notice("Tuning the key derivation for this machine…\n");
    let outcome = clinicdesk_core::restore_onto_new_workstation(
        data_dir,
        clinicdesk_core::NewWorkstationRestore {
            backup_file: file.to_owned(),
            recovery_key,
            admin_username: admin.to_owned(),
            admin_password,
            kdf: clinicdesk_core::product_kdf(),
        },
        environment,
        &mut progress_printer(out),
    )?;
    out.value(serde_json::json!(outcome), || {
        format!(
            "Restored the backup made {} into {}.\n{admin} can log in with the new password. Everyone else needs a new password from an administrator (clinicdesk user reset-password USERNAME --as {admin}): their passwords were on the lost workstation.",
            outcome.backup.created_at,
            data_dir.root().display()
        )
    });
    Ok(())
}

/// `backup restore-damaged`: no session; the recovery key is read like that of `restore-new`.
pub(crate) fn restore_damaged(
    data_dir: &clinicdesk_core::DataDir,
    file: &std::path::Path,
    secrets: &mut crate::secrets::Secrets,
    environment: &clinicdesk_core::Environment,
    out: &Output,
) -> Result<()> {
    let recovery_key = secrets.recovery_key()?;
    let outcome = clinicdesk_core::restore_unreadable_store(
        data_dir,
        clinicdesk_core::UnreadableStoreRestore {
            backup_file: file.to_owned(),
            recovery_key,
        },
        environment,
        &mut progress_printer(out),
    )?;
    out.value(serde_json::json!(outcome), || {
        format!(
            "Restored the backup made {} over the damaged store, which is kept as {}.\nEveryone signs in with their usual password. Changes made after the backup are not in the restored store.",
            outcome.backup.created_at, outcome.rollback_copy
        )
    });
    Ok(())
}
