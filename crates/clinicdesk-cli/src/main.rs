//! `clinicdesk`: the command-line shell over clinicdesk-core. Parses arguments, reads secrets,
//! calls the core, prints the result, and maps errors to the documented exit codes
//! (docs/reference.md, "Errors"). One module per domain, as the desktop app's commands are.

mod accounts;
mod audit;
mod backups;
mod demo_data;
mod fhir;
mod notes;
mod output;
mod patients;
mod safety_facts;
mod scheduling;
mod secrets;
mod settings;
mod signing_in;
mod sync;
mod vitals;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use clinicdesk_core::{Environment, InitRequest, Result, Session};

use crate::output::Output;
use crate::secrets::Secrets;
use crate::signing_in::{data_dir, finish, with_session, Login};

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
        /// How the clinic writes dates, times and numbers (for example de-DE, en-GB, en-US);
        /// default: the locale of the time zone's country.
        #[arg(long)]
        locale: Option<String>,
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
        command: accounts::UserCommand,
    },
    /// Review the audit trail (managers: all; administrators: security events).
    Audit {
        #[command(subcommand)]
        command: audit::AuditCommand,
    },
    /// Security settings: idle logoff and lockout (administrators).
    Settings {
        #[command(subcommand)]
        command: settings::SettingsCommand,
    },
    /// Rotate the database key (administrators); every user keeps their password.
    Rekey,
    /// Check the whole store now (managers, administrators): every page's authentication, its
    /// structure, its links and the audit trail. Exit 6 naming what is damaged.
    Check,
    /// Patients: register, open a chart, restrict it, name its care team.
    Patient {
        #[command(subcommand)]
        command: patients::PatientCommand,
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
        command: scheduling::ProviderCommand,
    },
    /// Book, reschedule, cancel, check in; day and week lists; the next free slot.
    Appointment {
        #[command(subcommand)]
        command: scheduling::AppointmentCommand,
    },
    /// Record vitals, read the flowsheet and trends, mark a value entered-in-error.
    Vitals {
        #[command(subcommand)]
        command: vitals::VitalsCommand,
    },
    /// The clinic's records as HL7 FHIR R4 (export).
    Fhir {
        #[command(subcommand)]
        command: fhir::FhirCommand,
    },
    /// A patient's allergies and the allergy status ("no known allergies" or never asked).
    Allergy {
        #[command(subcommand)]
        command: safety_facts::AllergyCommand,
    },
    /// A patient's current and past medications, and the clinician's review of the list.
    Medication {
        #[command(subcommand)]
        command: safety_facts::MedicationCommand,
    },
    /// A patient's problem list.
    Problem {
        #[command(subcommand)]
        command: safety_facts::ProblemCommand,
    },
    /// Clinical and nursing notes with addenda.
    Note {
        #[command(subcommand)]
        command: notes::NoteCommand,
    },
    /// Emergency access to restricted charts (clinicians, nurses) and its review (managers).
    Emergency {
        #[command(subcommand)]
        command: patients::EmergencyCommand,
    },
    /// Encrypted backups: create, list, verify, restore (whole or to a moment), schedule.
    Backup {
        #[command(subcommand)]
        command: backups::BackupCommand,
    },
    /// Sync with the clinic's central server: enrol, sync now, status, conflicts.
    Sync {
        #[command(subcommand)]
        command: sync::SyncCommand,
    },
    /// The central server's tools (for whoever runs the clinic group's PostgreSQL): schema,
    /// clinics, workstations and their enrolment codes, status, audit check.
    Server {
        #[command(subcommand)]
        command: sync::ServerCommand,
    },
}

fn main() -> ExitCode {
    // A panic is a bug: the person sees one line and exit 1, never a Rust backtrace (the
    // command's session is logged off on the way out, see `signing_in`).
    std::panic::set_hook(Box::new(|_| {}));
    let json = std::env::args_os().any(|argument| argument == "--json");
    if let Err(error) = arguments_are_text() {
        return report(&error, json);
    }
    let cli = match command_line()
        .try_get_matches()
        .and_then(|matches| Cli::from_arg_matches(&matches))
    {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() { 2 } else { 0 });
        }
    };
    match std::panic::catch_unwind(move || run(cli)) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(error)) => report(&error, json),
        Err(panic) => {
            let what = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("no details");
            report(
                &clinicdesk_core::Error::unexpected(format!(
                    "An unexpected problem stopped this command ({what}); nothing half-done was saved. Please report it with what you typed"
                )),
                json,
            )
        }
    }
}

/// The command line, where a negative number is a value rather than an option: `--minutes -15`
/// is then refused for what it is ("invalid value '-15' for '--minutes'"), not as an unknown
/// option `-1`.
fn command_line() -> clap::Command {
    fn negatives_are_values(command: clap::Command) -> clap::Command {
        command
            .allow_negative_numbers(true)
            .mut_subcommands(negatives_are_values)
    }
    negatives_are_values(Cli::command())
}

/// Prints `error` on standard error (as JSON with `--json`) and gives its exit code.
fn report(error: &clinicdesk_core::Error, json: bool) -> ExitCode {
    use std::io::Write;
    let line = if json {
        serde_json::to_string(error).unwrap_or_default()
    } else {
        format!(
            "clinicdesk: {} [{}]",
            output::terminal_safe(&error.message),
            error.code
        )
    };
    let _ = writeln!(std::io::stderr(), "{line}");
    ExitCode::from(error.exit_code() as u8)
}

/// Refuses an argument that is not valid text, naming the option it was given to.
fn arguments_are_text() -> Result<()> {
    let mut previous = None;
    for argument in std::env::args_os().skip(1) {
        if argument.to_str().is_none() {
            let field = previous
                .as_deref()
                .and_then(|flag: &str| flag.strip_prefix("--"))
                .unwrap_or("argument")
                .replace('-', "_");
            return Err(clinicdesk_core::Error::invalid_field(
                &field,
                format!(
                    "The value given {} is not valid text (UTF-8); type it again",
                    previous
                        .map(|flag| format!("to {flag}"))
                        .unwrap_or_else(|| String::from("as an argument"))
                ),
            ));
        }
        previous = argument.to_str().map(str::to_owned);
    }
    Ok(())
}

fn run(cli: Cli) -> Result<()> {
    let data_dir = data_dir(cli.data_dir);
    let login = Login {
        username: cli.as_user,
    };
    let environment = Environment::system();
    let out = Output::new(cli.json);
    let mut secrets = Secrets::new();
    match cli.command {
        Command::Init {
            clinic_name,
            admin,
            admin_name,
            time_zone,
            locale,
        } => {
            let password = secrets.new_password("Password for the new administrator")?;
            output::notice("Tuning the key derivation for this machine…\n");
            let outcome = clinicdesk_core::init(
                &data_dir,
                InitRequest {
                    clinic_name,
                    time_zone,
                    locale,
                    admin_display_name: admin_name.unwrap_or_else(|| admin.clone()),
                    admin_username: admin,
                    admin_password: password,
                    kdf: clinicdesk_core::product_kdf(),
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
            let mut session =
                clinicdesk_sync::sign_in(&data_dir, username, &current, &environment)?;
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
                accounts::run_user(session, command, &out)
            })
        }
        Command::Audit { command } => {
            with_session(&data_dir, &login, &environment, &mut secrets, |session| {
                audit::run_audit(session, command, &out)
            })
        }
        Command::Settings { command } => {
            with_session(&data_dir, &login, &environment, &mut secrets, |session| {
                settings::run_settings(session, command, &out)
            })
        }
        Command::Patient { command } => {
            with_session(&data_dir, &login, &environment, &mut secrets, |session| {
                patients::run_patient(session, command, &out)
            })
        }
        Command::DemoData { size, seed } => {
            with_session(&data_dir, &login, &environment, &mut secrets, |session| {
                demo_data::run_demo_data(session, &size, seed, &out)
            })
        }
        Command::Provider { command } => {
            with_session(&data_dir, &login, &environment, &mut secrets, |session| {
                scheduling::run_provider(session, command, &out)
            })
        }
        Command::Appointment { command } => {
            with_session(&data_dir, &login, &environment, &mut secrets, |session| {
                scheduling::run_appointment(session, command, &out)
            })
        }
        Command::Vitals { command } => {
            with_session(&data_dir, &login, &environment, &mut secrets, |session| {
                vitals::run_vitals(session, command, &out)
            })
        }
        Command::Fhir { command } => {
            with_session(&data_dir, &login, &environment, &mut secrets, |session| {
                fhir::run_fhir(session, command, &out)
            })
        }
        Command::Allergy { command } => {
            with_session(&data_dir, &login, &environment, &mut secrets, |session| {
                safety_facts::run_allergy(session, command, &out)
            })
        }
        Command::Medication { command } => {
            with_session(&data_dir, &login, &environment, &mut secrets, |session| {
                safety_facts::run_medication(session, command, &out)
            })
        }
        Command::Problem { command } => {
            with_session(&data_dir, &login, &environment, &mut secrets, |session| {
                safety_facts::run_problem(session, command, &out)
            })
        }
        Command::Note { command } => {
            with_session(&data_dir, &login, &environment, &mut secrets, |session| {
                notes::run_note(session, command, &out)
            })
        }
        Command::Emergency { command } => {
            with_session(&data_dir, &login, &environment, &mut secrets, |session| {
                patients::run_emergency(session, command, &out)
            })
        }
        Command::Backup {
            command: backups::BackupCommand::RestoreNew { file, admin },
        } => backups::restore_new(&data_dir, &file, &admin, &mut secrets, &environment, &out),
        Command::Backup {
            command: backups::BackupCommand::RestoreDamaged { file },
        } => backups::restore_damaged(&data_dir, &file, &mut secrets, &environment, &out),
        Command::Backup {
            command: backups::BackupCommand::SignedIn(command),
        } => with_session(&data_dir, &login, &environment, &mut secrets, |session| {
            backups::run_backup(session, command, &out)
        }),
        Command::Sync { command } if !clinicdesk_core::store_exists(&data_dir) => {
            sync::enroll_new_workstation(&data_dir, command, &mut secrets, &environment, &out)
        }
        Command::Sync { command } => {
            with_session(&data_dir, &login, &environment, &mut secrets, |session| {
                sync::run_sync(session, command, &out)
            })
        }
        Command::Server { command } => sync::run_server(command, &out),
        Command::Check => with_session(&data_dir, &login, &environment, &mut secrets, |session| {
            let check = session.check_store()?;
            out.value(serde_json::to_value(&check).unwrap_or_default(), || {
                format!(
                    "The store is sound: every page is authentic, its structure and links are whole, and the audit trail verifies (checked {}).",
                    check.finished_at
                )
            });
            Ok(())
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
