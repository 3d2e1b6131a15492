//! `clinicdesk`: the command-line shell over clinicdesk-core. Parses arguments, reads secrets,
//! calls the core, prints the result, and maps errors to the documented exit codes.

mod backups;
mod secrets;
mod workflows;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use clinicdesk_core::{
    AuditFilter, DataDir, Environment, Error, ErrorCode, InitRequest, KdfParams, LogoffReason,
    Result, SecuritySettings, Session,
};

use crate::secrets::Secrets;

#[derive(Parser)]
#[command(
    name = "clinicdesk",
    version,
    about = "Clinicdesk: encrypted clinic records, from the command line"
)]
struct Cli {
    /// The data folder (default: your user data folder; CLINICDESK_DATA_DIR overrides it).
    #[arg(long, global = true, env = "CLINICDESK_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Print results as JSON, for scripts.
    #[arg(long, global = true)]
    json: bool,
    /// Who you are, for commands that need a login. The password comes from CLINICDESK_PASSWORD,
    /// else the terminal, else the first line of standard input.
    #[arg(long = "as", value_name = "USERNAME", global = true)]
    as_user: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the store and the first administrator; prints the recovery key once.
    Init {
        #[arg(long)]
        clinic_name: String,
        /// The first administrator's username.
        #[arg(long, value_name = "USERNAME")]
        admin: String,
        /// The administrator's full name (default: the username).
        #[arg(long)]
        admin_name: Option<String>,
        /// The clinic's IANA time zone.
        #[arg(long, default_value = "UTC")]
        time_zone: String,
    },
    /// Store path, schema version, clinic and row counts.
    Status,
    /// Change your own password (the new one from CLINICDESK_NEW_PASSWORD, the terminal, or stdin).
    Passwd,
    /// Set a new administrator password with the recovery key.
    Recover {
        /// The administrator whose password to set.
        #[arg(long, value_name = "USERNAME")]
        admin: String,
    },
    /// Manage user accounts (administrators).
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Review the audit trail (managers: all; administrators: security events).
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Security settings: idle logoff and lockout (administrators).
    Settings {
        #[command(subcommand)]
        command: SettingsCommand,
    },
    /// Rotate the database key (administrators); every user keeps their password.
    Rekey,
    /// Patients: register, open a chart, restrict it, name its care team.
    Patient {
        #[command(subcommand)]
        command: PatientCommand,
    },
    /// Fill a new, empty store with a generated clinic (administrators), and add demo staff.
    DemoData {
        /// tiny (a few hundred patients), small (20 000) or large (1 000 000).
        #[arg(long, default_value = "tiny")]
        size: String,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Providers, working hours, days off, appointment types.
    Provider {
        #[command(subcommand)]
        command: workflows::ProviderCommand,
    },
    /// Book, reschedule, cancel, check in; day and week lists; the next free slot.
    Appointment {
        #[command(subcommand)]
        command: workflows::AppointmentCommand,
    },
    /// Record vitals, read the flowsheet and trends, mark a value entered-in-error.
    Vitals {
        #[command(subcommand)]
        command: workflows::VitalsCommand,
    },
    /// Clinical and nursing notes with addenda.
    Note {
        #[command(subcommand)]
        command: workflows::NoteCommand,
    },
    /// Emergency access to restricted charts (clinicians, nurses) and its review (managers).
    Emergency {
        #[command(subcommand)]
        command: EmergencyCommand,
    },
    /// Encrypted backups: create, list, verify, restore (whole or to a moment), schedule.
    Backup {
        #[command(subcommand)]
        command: backups::BackupCommand,
    },
}

#[derive(Subcommand)]
enum PatientCommand {
    /// Register a patient; prints the new MRN as the last line. A likely duplicate is exit 7.
    Add {
        #[arg(long)]
        given: String,
        #[arg(long)]
        family: String,
        /// Date of birth, YYYY-MM-DD.
        #[arg(long)]
        dob: String,
        /// female, male, other or unknown.
        #[arg(long)]
        sex: String,
        #[arg(long)]
        phone: Option<String>,
        /// Only the care team may open the chart.
        #[arg(long)]
        restricted: bool,
        /// Register even though a similar record exists.
        #[arg(long)]
        confirm_not_duplicate: bool,
    },
    /// Open a chart (audited).
    Show { mrn: String },
    /// Restrict a chart to its care team (or lift the restriction with --lift).
    Restrict {
        mrn: String,
        #[arg(long)]
        lift: bool,
    },
    #[command(flatten)]
    Record(workflows::PatientRecordCommand),
    /// Name a user on a patient's care team.
    CareTeamAdd {
        mrn: String,
        username: String,
        #[arg(long, default_value = "clinician")]
        care_role: String,
    },
}

#[derive(Subcommand)]
enum EmergencyCommand {
    /// Open a restricted chart in an emergency; the reason is required and reviewed.
    Open {
        #[arg(long)]
        patient: String,
        #[arg(long)]
        reason: String,
    },
    /// Grants waiting for review (--all: reviewed ones too).
    List {
        #[arg(long)]
        all: bool,
    },
    /// Record your review of a grant.
    Review {
        grant_id: String,
        #[arg(long)]
        note: String,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user; prints a one-time temporary password as the last line.
    Add {
        username: String,
        #[arg(long)]
        role: String,
        #[arg(long)]
        name: String,
    },
    List,
    Disable {
        username: String,
    },
    /// Enable a disabled user; prints a new temporary password as the last line.
    Enable {
        username: String,
    },
    SetRole {
        username: String,
        role: String,
    },
    /// Give a user a new temporary password (printed as the last line).
    ResetPassword {
        username: String,
    },
}

#[derive(Args)]
struct AuditFilterArgs {
    #[arg(long)]
    user: Option<String>,
    /// A patient's MRN.
    #[arg(long)]
    patient: Option<String>,
    /// An action (`login.failure`) or a family ending in a dot (`login.`).
    #[arg(long)]
    action: Option<String>,
    /// From this time (RFC 3339, e.g. 2026-11-01T00:00:00Z).
    #[arg(long)]
    from: Option<String>,
    /// Up to (not including) this time.
    #[arg(long)]
    to: Option<String>,
    #[arg(long)]
    limit: Option<u32>,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the hash chain; exit 6 and the first bad entry when tampered.
    Verify,
    List(AuditFilterArgs),
    Export {
        #[arg(long, default_value = "csv")]
        format: String,
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        filter: AuditFilterArgs,
    },
    /// Who saw this patient's record, and when.
    AccessReport {
        #[arg(long)]
        patient: String,
    },
}

#[derive(Subcommand)]
enum SettingsCommand {
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

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() { 2 } else { 0 });
        }
    };
    let json = cli.json;
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            if json {
                eprintln!("{}", serde_json::to_string(&error).unwrap_or_default());
            } else {
                eprintln!("clinicdesk: {} [{}]", error.message, error.code);
            }
            ExitCode::from(error.exit_code() as u8)
        }
    }
}

fn data_dir(cli_choice: Option<PathBuf>) -> Result<DataDir> {
    if let Some(path) = cli_choice {
        return Ok(DataDir::new(path));
    }
    directories::ProjectDirs::from("com", "Clinicdesk", "Clinicdesk")
        .map(|dirs| DataDir::new(dirs.data_dir()))
        .ok_or_else(|| {
            Error::new(
                ErrorCode::Usage,
                "no user data folder is known on this system; pass --data-dir",
            )
        })
}

struct Login {
    username: Option<String>,
}

impl Login {
    fn username(&self) -> Result<&str> {
        self.username.as_deref().ok_or_else(|| {
            Error::new(
                ErrorCode::Usage,
                "this command needs --as USERNAME (who you are)",
            )
        })
    }
}

pub(crate) struct Output {
    json: bool,
}

impl Output {
    pub(crate) fn value(&self, value: serde_json::Value, human: impl FnOnce() -> String) {
        if self.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&value).unwrap_or_default()
            );
        } else {
            println!("{}", human());
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    let data_dir = data_dir(cli.data_dir)?;
    let login = Login {
        username: cli.as_user,
    };
    let environment = Environment::system();
    let out = Output { json: cli.json };
    let mut secrets = Secrets::new();
    match cli.command {
        Command::Init {
            clinic_name,
            admin,
            admin_name,
            time_zone,
        } => {
            let password = secrets.new_password("Password for the new administrator")?;
            eprintln!("Tuning the key derivation for this machine…");
            let outcome = clinicdesk_core::init(
                &data_dir,
                InitRequest {
                    clinic_name,
                    time_zone,
                    admin_display_name: admin_name.unwrap_or_else(|| admin.clone()),
                    admin_username: admin,
                    admin_password: password,
                    kdf: KdfParams::calibrated(std::time::Duration::from_millis(300)),
                },
                &environment,
            )?;
            out.value(
                serde_json::json!({
                    "store": data_dir.store_file(),
                    "administrator": outcome.administrator,
                    "recovery_key": outcome.recovery_key.as_str(),
                }),
                || {
                    format!(
                        "Created the store at {}\nAdministrator: {}\n\nRECOVERY KEY (shown only now; print it or write it down and keep it locked away).\nIt lets you set a new administrator password if all passwords are lost:\n\n    {}\n",
                        data_dir.store_file().display(),
                        outcome.administrator.username,
                        outcome.recovery_key.as_str()
                    )
                },
            );
            Ok(())
        }
        Command::Recover { admin } => {
            let recovery_key = secrets.recovery_key()?;
            let password = secrets.new_password(&format!("New password for {admin}"))?;
            Session::recover_administrator(
                &data_dir,
                &recovery_key,
                &admin,
                &password,
                &environment,
            )?;
            out.value(serde_json::json!({ "recovered": admin }), || {
                format!("{admin} can now log in with the new password.")
            });
            Ok(())
        }
        Command::Passwd => {
            let username = login.username()?;
            let current = secrets.password(username)?;
            let mut session = Session::login(&data_dir, username, &current, &environment)?;
            let new_password = secrets.new_password("New password")?;
            let changed = session.change_password(&current, &new_password);
            finish(session, changed)?;
            out.value(serde_json::json!({ "changed": true }), || {
                "Password changed.".to_owned()
            });
            Ok(())
        }
        Command::Status => with_session(&data_dir, &login, &environment, &mut secrets, |session| {
            let status = session.status()?;
            out.value(serde_json::to_value(&status).unwrap_or_default(), || {
                let mut text = format!(
                    "Store:              {}\nSchema version:     {} (this Clinicdesk knows up to {})\nClinic:             {} ({})\n",
                    status.store_path, status.schema_version, status.latest_schema_version, status.clinic_name, status.clinic_time_zone
                );
                for (label, count) in &status.counts {
                    text.push_str(&format!("{:<20}{count}\n", format!("{label}:")));
                }
                text.trim_end().to_owned()
            });
            Ok(())
        }),
        Command::User { command } => {
            with_session(&data_dir, &login, &environment, &mut secrets, |session| {
                run_user(session, command, &out)
            })
        }
        Command::Audit { command } => {
            with_session(&data_dir, &login, &environment, &mut secrets, |session| {
                run_audit(session, command, &out)
            })
        }
        Command::Settings { command } => {
            with_session(&data_dir, &login, &environment, &mut secrets, |session| {
                run_settings(session, command, &out)
            })
        }
        Command::Patient { command } => {
            with_session(&data_dir, &login, &environment, &mut secrets, |session| {
                run_patient(session, command, &out)
            })
        }
        Command::DemoData { size, seed } => {
            with_session(&data_dir, &login, &environment, &mut secrets, |session| {
                run_demo_data(session, &size, seed, &out)
            })
        }
        Command::Provider { command } => {
            with_session(&data_dir, &login, &environment, &mut secrets, |session| {
                workflows::run_provider(session, command, &out)
            })
        }
        Command::Appointment { command } => {
            with_session(&data_dir, &login, &environment, &mut secrets, |session| {
                workflows::run_appointment(session, command, &out)
            })
        }
        Command::Vitals { command } => {
            with_session(&data_dir, &login, &environment, &mut secrets, |session| {
                workflows::run_vitals(session, command, &out)
            })
        }
        Command::Note { command } => {
            with_session(&data_dir, &login, &environment, &mut secrets, |session| {
                workflows::run_note(session, command, &out)
            })
        }
        Command::Emergency { command } => {
            with_session(&data_dir, &login, &environment, &mut secrets, |session| {
                run_emergency(session, command, &out)
            })
        }
        Command::Backup {
            command: backups::BackupCommand::RestoreNew { file, admin },
        } => backups::restore_new(&data_dir, &file, &admin, &mut secrets, &environment, &out),
        Command::Backup {
            command: backups::BackupCommand::SignedIn(command),
        } => with_session(&data_dir, &login, &environment, &mut secrets, |session| {
            backups::run_backup(session, command, &out)
        }),
        Command::Rekey => with_session(&data_dir, &login, &environment, &mut secrets, |session| {
            session.rotate_data_key()?;
            out.value(serde_json::json!({ "rotated": true }), || {
                "The database key was rotated; every user keeps their password. Copies taken before now stay readable only with the old key.".to_owned()
            });
            Ok(())
        }),
    }
}

fn with_session(
    data_dir: &DataDir,
    login: &Login,
    environment: &Environment,
    secrets: &mut Secrets,
    work: impl FnOnce(&mut Session) -> Result<()>,
) -> Result<()> {
    let username = login.username()?;
    let password = secrets.password(username)?;
    let mut session = Session::login(data_dir, username, &password, environment)?;
    drop(password);
    let outcome = work(&mut session);
    finish(session, outcome)
}

fn finish<T>(mut session: Session, outcome: Result<T>) -> Result<T> {
    let logged_off = session.logoff(LogoffReason::Manual);
    let value = outcome?;
    logged_off?;
    Ok(value)
}

fn run_user(session: &mut Session, command: UserCommand, out: &Output) -> Result<()> {
    let print_password = |out: &Output,
                          username: &str,
                          password: &clinicdesk_core::TemporaryPassword,
                          what: &str| {
        out.value(serde_json::json!({ "username": username, "temporary_password": password.0.as_str() }), || {
            format!("{what}. Give them this one-time password; they must choose a new one at first login:\n{}", password.0.as_str())
        })
    };
    match command {
        UserCommand::Add {
            username,
            role,
            name,
        } => {
            let password = session.add_user(&username, &name, &role)?;
            print_password(
                out,
                &username,
                &password,
                &format!("Added {username} ({role})"),
            );
        }
        UserCommand::List => {
            let users = session.list_users()?;
            out.value(serde_json::to_value(&users).unwrap_or_default(), || {
                let mut text = format!(
                    "{:<20} {:<28} {:<14} {}\n",
                    "USERNAME", "NAME", "ROLE", "STATE"
                );
                for user in &users {
                    let state = if user.disabled {
                        "disabled".to_owned()
                    } else if let Some(until) = &user.locked_until {
                        format!("locked until {until}")
                    } else if user.must_change_password {
                        "must change password".to_owned()
                    } else {
                        "active".to_owned()
                    };
                    text.push_str(&format!(
                        "{:<20} {:<28} {:<14} {state}\n",
                        user.username, user.display_name, user.role
                    ));
                }
                text.trim_end().to_owned()
            });
        }
        UserCommand::Disable { username } => {
            session.disable_user(&username)?;
            out.value(serde_json::json!({ "disabled": username }), || {
                format!("Disabled {username}; their password no longer unlocks the store.")
            });
        }
        UserCommand::Enable { username } => {
            let password = session.enable_user(&username)?;
            print_password(out, &username, &password, &format!("Enabled {username}"));
        }
        UserCommand::SetRole { username, role } => {
            session.set_user_role(&username, &role)?;
            out.value(
                serde_json::json!({ "username": username, "role": role }),
                || format!("{username} is now {role}."),
            );
        }
        UserCommand::ResetPassword { username } => {
            let password = session.reset_password(&username)?;
            print_password(
                out,
                &username,
                &password,
                &format!("Reset the password of {username}"),
            );
        }
    }
    Ok(())
}

pub(crate) fn parse_time(
    text: Option<String>,
    flag: &str,
) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
    text.map(|text| {
        chrono::DateTime::parse_from_rfc3339(&text)
            .map(|at| at.with_timezone(&chrono::Utc))
            .map_err(|_| {
                Error::new(
                    ErrorCode::Usage,
                    format!("{flag} {text:?} is not a time like 2026-11-01T08:00:00Z"),
                )
            })
    })
    .transpose()
}

fn audit_filter(session: &mut Session, args: AuditFilterArgs) -> Result<AuditFilter> {
    let patient_id = match args.patient {
        Some(mrn) => Some(session.patient_id_for_mrn(&mrn)?),
        None => None,
    };
    Ok(AuditFilter {
        username: args.user,
        patient_id,
        action: args.action,
        from: parse_time(args.from, "--from")?,
        to: parse_time(args.to, "--to")?,
        limit: args.limit,
    })
}

fn run_audit(session: &mut Session, command: AuditCommand, out: &Output) -> Result<()> {
    match command {
        AuditCommand::Verify => {
            let verified = session.audit_verify()?;
            out.value(serde_json::to_value(&verified).unwrap_or_default(), || {
                format!(
                    "The audit trail is intact: {} entries, chain head {}.",
                    verified.entries, verified.head_hash
                )
            });
        }
        AuditCommand::List(args) => {
            let filter = audit_filter(session, args)?;
            let entries = session.audit_list(&filter)?;
            out.value(serde_json::to_value(&entries).unwrap_or_default(), || {
                let mut text = String::new();
                for entry in &entries {
                    text.push_str(&format!(
                        "#{:<6} {} {:<16} {:<24} {:<8} {}\n",
                        entry.seq,
                        entry.occurred_at,
                        entry.username.as_deref().unwrap_or("-"),
                        entry.action,
                        entry.outcome,
                        entry.object_id.as_deref().unwrap_or("")
                    ));
                }
                if text.is_empty() {
                    "No audit entries match.".to_owned()
                } else {
                    text.trim_end().to_owned()
                }
            });
        }
        AuditCommand::Export {
            format,
            out: path,
            filter,
        } => {
            if format != "csv" {
                return Err(Error::new(
                    ErrorCode::Usage,
                    format!("export format {format:?} is not supported; use --format csv"),
                ));
            }
            let filter = audit_filter(session, filter)?;
            match path {
                Some(path) => {
                    let file = std::fs::File::create(&path).map_err(|error| {
                        Error::invalid_input(format!("cannot write {}: {error}", path.display()))
                    })?;
                    let count = session.audit_export_csv(&filter, file)?;
                    eprintln!("Exported {count} entries to {}", path.display());
                }
                None => {
                    let mut buffer = Vec::new();
                    session.audit_export_csv(&filter, &mut buffer)?;
                    std::io::stdout().write_all(&buffer)?;
                }
            }
        }
        AuditCommand::AccessReport { patient } => {
            let lines = session.access_report(&patient)?;
            out.value(serde_json::to_value(&lines).unwrap_or_default(), || {
                let mut text = String::new();
                for line in &lines {
                    text.push_str(&format!(
                        "{} {:<16} {:<24} {:<20} {}\n",
                        line.occurred_at,
                        line.username.as_deref().unwrap_or("-"),
                        line.action,
                        line.workstation,
                        line.outcome
                    ));
                }
                if text.is_empty() {
                    "Nobody has accessed this record.".to_owned()
                } else {
                    text.trim_end().to_owned()
                }
            });
        }
    }
    Ok(())
}

fn run_settings(session: &mut Session, command: SettingsCommand, out: &Output) -> Result<()> {
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

fn print_chart(out: &Output, chart: &clinicdesk_core::Chart) {
    let d = &chart.demographics;
    out.value(serde_json::to_value(chart).unwrap_or_default(), || {
        format!(
            "{} {}   MRN {}\nBorn {}   Sex {}{}\nPhone: {}",
            d.given_name,
            d.family_name,
            d.mrn,
            d.date_of_birth,
            d.sex,
            if d.restricted { "   RESTRICTED" } else { "" },
            if d.phones.is_empty() {
                "-".to_owned()
            } else {
                d.phones.join(", ")
            }
        )
    });
}

fn run_patient(session: &mut Session, command: PatientCommand, out: &Output) -> Result<()> {
    match command {
        PatientCommand::Add {
            given,
            family,
            dob,
            sex,
            phone,
            restricted,
            confirm_not_duplicate,
        } => {
            let new = clinicdesk_core::NewPatient {
                given_name: given,
                family_name: family,
                date_of_birth: dob,
                sex: clinicdesk_core::Sex::from_code(&sex)?,
                phone,
                restricted,
            };
            match session.register_patient(&new, confirm_not_duplicate)? {
                clinicdesk_core::Registration::Registered { patient_id, mrn } => {
                    out.value(
                        serde_json::json!({ "patient_id": patient_id, "mrn": mrn }),
                        || {
                            format!(
                                "Registered {} {}. MRN:\n{mrn}",
                                new.given_name.trim(),
                                new.family_name.trim()
                            )
                        },
                    );
                    Ok(())
                }
                clinicdesk_core::Registration::LikelyDuplicates { candidates } => {
                    let list: Vec<String> = candidates
                        .iter()
                        .map(|c| {
                            format!(
                                "MRN {} {} {}, born {} ({})",
                                c.mrn, c.given_name, c.family_name, c.date_of_birth, c.why
                            )
                        })
                        .collect();
                    if out.json {
                        println!(
                            "{}",
                            serde_json::to_string_pretty(&candidates).unwrap_or_default()
                        );
                    }
                    Err(Error::conflict(format!(
                        "nothing was registered: this looks like an existing patient: {}. If it is a different person, run again with --confirm-not-duplicate",
                        list.join("; ")
                    )))
                }
            }
        }
        PatientCommand::Record(command) => workflows::run_patient_record(session, command, out),
        PatientCommand::Show { mrn } => {
            let chart = session.open_chart(&mrn)?;
            print_chart(out, &chart);
            Ok(())
        }
        PatientCommand::Restrict { mrn, lift } => {
            session.set_patient_restricted(&mrn, !lift)?;
            out.value(
                serde_json::json!({ "mrn": mrn, "restricted": !lift }),
                || {
                    if lift {
                        format!("The chart of {mrn} is open to all clinical staff again.")
                    } else {
                        format!("The chart of {mrn} is now restricted to its care team.")
                    }
                },
            );
            Ok(())
        }
        PatientCommand::CareTeamAdd {
            mrn,
            username,
            care_role,
        } => {
            session.add_care_team_member(&mrn, &username, &care_role)?;
            out.value(
                serde_json::json!({ "mrn": mrn, "username": username, "care_role": care_role }),
                || format!("{username} is on the care team of {mrn} ({care_role})."),
            );
            Ok(())
        }
    }
}

fn run_emergency(session: &mut Session, command: EmergencyCommand, out: &Output) -> Result<()> {
    let describe = |g: &clinicdesk_core::EmergencyGrant| {
        format!(
            "{}  {}  MRN {}  until {}  reason: {}{}",
            g.id,
            g.username,
            g.mrn,
            g.expires_at,
            g.reason,
            match (&g.reviewed_by, &g.review_note) {
                (Some(by), note) =>
                    format!("  [reviewed by {by}: {}]", note.as_deref().unwrap_or("")),
                _ => "  [awaiting review]".to_owned(),
            }
        )
    };
    match command {
        EmergencyCommand::Open { patient, reason } => {
            let grant = session.request_emergency_access(&patient, &reason)?;
            let chart = session.open_chart(&patient)?;
            eprintln!(
                "Emergency access until {} UTC. This access is recorded and will be reviewed.",
                grant.expires_at
            );
            print_chart(out, &chart);
        }
        EmergencyCommand::List { all } => {
            let grants = session.emergency_access_for_review(all)?;
            out.value(serde_json::to_value(&grants).unwrap_or_default(), || {
                if grants.is_empty() {
                    "No emergency access awaits review.".to_owned()
                } else {
                    grants.iter().map(describe).collect::<Vec<_>>().join("\n")
                }
            });
        }
        EmergencyCommand::Review { grant_id, note } => {
            let grant = session.mark_emergency_access_reviewed(&grant_id, &note)?;
            out.value(serde_json::to_value(&grant).unwrap_or_default(), || {
                describe(&grant)
            });
        }
    }
    Ok(())
}

fn run_demo_data(session: &mut Session, size: &str, seed: u64, out: &Output) -> Result<()> {
    let size = clinicdesk_core::DemoSize::from_name(size)?;
    let staff = session.add_demo_staff()?;
    let started = std::time::Instant::now();
    let summary = session.generate_demo_data(
        size,
        seed,
        Some("demo.nurse"),
        Some("demo.doctor"),
        |rows| {
            if !out.json {
                eprint!("\r{rows} rows written…");
            }
        },
    )?;
    let seconds = started.elapsed().as_secs_f64();
    if !out.json {
        eprintln!();
    }
    out.value(
        serde_json::json!({
            "summary": summary,
            "seconds": seconds,
            "rows_per_second": summary.rows as f64 / seconds.max(0.001),
            "staff": staff,
        }),
        || {
            let mut text = format!(
                "Generated {} patients, {} appointments, {} vitals sets ({} observations), {} notes: {} rows in {:.1} s ({:.0} rows/s).\n\nDemo staff (each chooses a new password at first login):\n",
                summary.patients, summary.appointments, summary.vitals_sets, summary.observations, summary.notes, summary.rows, seconds,
                summary.rows as f64 / seconds.max(0.001)
            );
            for member in &staff {
                text.push_str(&format!("  {:<16} {:<11} {}\n", member.username, member.role, member.temporary_password));
            }
            text.trim_end().to_owned()
        },
    );
    Ok(())
}
