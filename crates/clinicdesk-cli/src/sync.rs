//! `clinicdesk sync …` (this workstation's sync with its central server) and
//! `clinicdesk server …` (the central server's tools, for whoever runs its PostgreSQL).

use std::path::PathBuf;

use clap::Subcommand;
use clinicdesk_core::{ConflictId, ConflictResolution, Error, Result, Session};
use clinicdesk_sync::EnrolmentCode;

use crate::output::Output;

#[derive(Subcommand)]
pub(crate) enum SyncCommand {
    /// Enrol this workstation (administrators): the server's address and the one-time code from
    /// `clinicdesk server add-workstation`. The code also names the server's certificate; any
    /// other certificate is refused. In an empty data folder, the store is made from the server
    /// (the clinic and its accounts; `--admin` names you, and you choose your password for this
    /// workstation) and every record is pulled.
    Enroll {
        /// postgres://host:port/database (no user, no password).
        #[arg(long)]
        server: String,
        /// The enrolment code (CDK1-…); read from CLINICDESK_ENROLMENT_CODE when not given.
        #[arg(long, env = "CLINICDESK_ENROLMENT_CODE", hide_env_values = true)]
        code: String,
        /// In an empty data folder: the clinic administrator who enrols it.
        #[arg(long, value_name = "USERNAME")]
        admin: Option<String>,
    },
    /// Push this workstation's changes and pull everyone else's, now.
    Now,
    /// Server, last sync, changes waiting, conflicts.
    Status,
    /// Conflicts waiting for a person (those of the records your role may change).
    Conflicts,
    /// Settle a conflict: keep mine, keep theirs, or take some fields from mine.
    Resolve {
        /// The conflict's id (from `sync conflicts`).
        id: String,
        /// mine | theirs | fields
        #[arg(long)]
        keep: String,
        /// With `--keep fields`: the fields to take from this workstation's version.
        #[arg(long, value_delimiter = ',')]
        fields: Vec<String>,
    },
}

pub(crate) fn run_sync(session: &mut Session, command: SyncCommand, out: &Output) -> Result<()> {
    match command {
        SyncCommand::Enroll { server, code, .. } => {
            let code = EnrolmentCode::parse(&code)?;
            let enrolled = clinicdesk_sync::enroll(session, &server, &code)?;
            out.value(serde_json::to_value(&enrolled).unwrap_or_default(), || {
                format!(
                    "Enrolled with {server} as workstation {} of {}.\nServer certificate: {}\nRun `clinicdesk sync now` to send this workstation's records.",
                    enrolled.workstation_role,
                    enrolled.clinic_name,
                    fingerprint_for_reading(&enrolled.certificate_sha256)
                )
            });
            Ok(())
        }
        SyncCommand::Now => {
            let report = clinicdesk_sync::sync_now(session)?;
            out.value(serde_json::to_value(&report).unwrap_or_default(), || {
                format!(
                    "Pushed {} changes ({} already on the server) and {} audit entries; pulled {} changes.\nConflicts: {} new{}",
                    report.pushed.applied,
                    report.pushed.already_applied,
                    report.pushed.audit_entries,
                    report.pulled.applied,
                    report.pushed.conflicts + report.pulled.conflicts,
                    if report.pushed.conflicts + report.pulled.conflicts > 0 {
                        " (see `clinicdesk sync conflicts`)"
                    } else {
                        ""
                    }
                )
            });
            Ok(())
        }
        SyncCommand::Status => {
            let status = session.sync_status()?;
            out.value(serde_json::to_value(&status).unwrap_or_default(), || {
                let never = || "never".to_owned();
                format!(
                    "Server:             {}\nLast push:          {}\nLast pull:          {}\nChanges waiting:    {}\nAudit entries waiting: {}\nConflicts:          {}\nLast problem:       {}",
                    status
                        .server_url
                        .clone()
                        .unwrap_or_else(|| "not enrolled (this workstation works on its own)".to_owned()),
                    status.last_push_at.clone().unwrap_or_else(never),
                    status.last_pull_at.clone().unwrap_or_else(never),
                    status.pending_changes,
                    status.pending_audit_entries,
                    status.open_conflicts,
                    status.last_error.clone().unwrap_or_else(|| "none".to_owned()),
                )
            });
            Ok(())
        }
        SyncCommand::Conflicts => {
            let conflicts = session.sync_conflicts()?;
            out.value(serde_json::to_value(&conflicts).unwrap_or_default(), || {
                if conflicts.is_empty() {
                    return "No conflicts waiting for you.".to_owned();
                }
                let mut text = String::new();
                for conflict in &conflicts {
                    text.push_str(&format!(
                        "{}  {} {}: {} (found {})\n",
                        conflict.id,
                        conflict.table,
                        conflict.row_id,
                        conflict.reason,
                        conflict.detected_at
                    ));
                    let fields = differing_fields(&conflict.mine, &conflict.theirs);
                    for (field, mine, theirs) in fields {
                        text.push_str(&format!("    {field}: mine {mine}  | theirs {theirs}\n"));
                    }
                }
                text.trim_end().to_owned()
            });
            Ok(())
        }
        SyncCommand::Resolve { id, keep, fields } => {
            let id = ConflictId::parse(&id)?;
            let resolution =
                match keep.as_str() {
                    "mine" => ConflictResolution::KeepMine,
                    "theirs" => ConflictResolution::KeepTheirs,
                    "fields" if !fields.is_empty() => ConflictResolution::FieldByField(fields),
                    "fields" => return Err(Error::invalid_field(
                        "fields",
                        "name the fields to keep from this workstation's version (--fields a,b)",
                    )),
                    other => {
                        return Err(Error::invalid_field(
                            "keep",
                            format!(
                                "{:?} is not one of mine, theirs, fields",
                                clinicdesk_core::visible(other)
                            ),
                        ))
                    }
                };
            session.resolve_sync_conflict(&id, resolution)?;
            out.value(serde_json::json!({ "resolved": id }), || {
                "Resolved; a kept version goes to the server at the next sync.".to_owned()
            });
            Ok(())
        }
    }
}

/// `sync enroll` in a data folder without a store: the store comes from the server.
pub(crate) fn enroll_new_workstation(
    data_dir: &clinicdesk_core::DataDir,
    command: SyncCommand,
    secrets: &mut crate::secrets::Secrets,
    environment: &clinicdesk_core::Environment,
    out: &Output,
) -> Result<()> {
    let SyncCommand::Enroll {
        server,
        code,
        admin,
    } = command
    else {
        return Err(Error::new(
            clinicdesk_core::ErrorCode::StoreNotInitialized,
            "This data folder holds no store yet: enrol it with a central server (`sync enroll --admin`), or create one with `clinicdesk init`",
        ));
    };
    let admin = admin.ok_or_else(|| {
        Error::invalid_field(
            "admin",
            "this data folder is empty: name the clinic administrator who enrols it (--admin USERNAME); the store comes from the server",
        )
    })?;
    let code = EnrolmentCode::parse(&code)?;
    let password = secrets.new_password(&format!("Password for {admin} on this workstation"))?;
    crate::output::notice("Making this workstation's store from the central server…\n");
    let (enrolled, outcome) = clinicdesk_sync::enroll_new_workstation(
        &server,
        &code,
        clinicdesk_sync::NewWorkstation {
            data_dir,
            admin_username: &admin,
            admin_password: password,
            kdf: clinicdesk_core::product_kdf(),
            pull_now: true,
        },
        environment,
    )?;
    out.value(
        serde_json::json!({
            "enrolled": enrolled,
            "store": data_dir.store_file(),
            "recovery_key": outcome.recovery_key.as_str(),
        }),
        || {
            format!(
                "Enrolled with {server} as workstation {} of {}, and pulled the clinic's records.\nServer certificate: {}\n\nRECOVERY KEY of this workstation (shown only now; print it or write it down and keep it locked away):\n\n    {}\n",
                enrolled.workstation_role,
                enrolled.clinic_name,
                fingerprint_for_reading(&enrolled.certificate_sha256),
                outcome.recovery_key.as_str()
            )
        },
    );
    Ok(())
}

/// The fields where the two versions differ, as shown text (sync columns left out).
fn differing_fields(
    mine: &serde_json::Value,
    theirs: &serde_json::Value,
) -> Vec<(String, String, String)> {
    let empty = serde_json::Map::new();
    let mine = mine.as_object().unwrap_or(&empty);
    let theirs_map = theirs.as_object();
    let mut fields = Vec::new();
    for (name, value) in mine {
        if matches!(
            name.as_str(),
            "version" | "created_at" | "created_by" | "updated_at" | "updated_by"
        ) {
            continue;
        }
        let other = theirs_map
            .and_then(|map| map.get(name))
            .cloned()
            .unwrap_or(serde_json::Value::Null);
        if theirs_map.is_none() || other != *value {
            fields.push((
                name.clone(),
                value.to_string(),
                if theirs_map.is_none() {
                    "(not on the server)".to_owned()
                } else {
                    other.to_string()
                },
            ));
        }
    }
    fields
}

fn fingerprint_for_reading(fingerprint: &str) -> String {
    fingerprint
        .as_bytes()
        .chunks(4)
        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Subcommand)]
pub(crate) enum ServerCommand {
    /// Create the central schema in an empty database.
    Init {
        #[command(flatten)]
        database: Database,
    },
    /// Bring the central schema to this build's version.
    Migrate {
        #[command(flatten)]
        database: Database,
    },
    /// Add a clinic; prints its id.
    AddClinic {
        #[command(flatten)]
        database: Database,
        #[arg(long)]
        name: String,
    },
    /// Add a workstation to a clinic; prints its one-time enrolment code.
    AddWorkstation {
        #[command(flatten)]
        database: Database,
        /// The clinic's id or name.
        #[arg(long)]
        clinic: String,
        /// What the workstation is, for people: "front desk", "nurses' room".
        #[arg(long)]
        label: String,
        /// The server's certificate (its `ssl_cert_file`), whose fingerprint goes in the code.
        #[arg(long, value_name = "FILE")]
        certificate: PathBuf,
    },
    /// Revoke a workstation: it can no longer sign in, and sees and changes nothing.
    RevokeWorkstation {
        #[command(flatten)]
        database: Database,
        /// The workstation's role (cdws_…; `server status` lists them).
        role: String,
    },
    /// Clinics, workstations, changes and the schema version.
    Status {
        #[command(flatten)]
        database: Database,
    },
    /// The audit trails the workstations pushed.
    Audit {
        #[command(subcommand)]
        command: ServerAuditCommand,
    },
    /// Write a self-signed certificate and key for the server into a folder.
    Certificate {
        #[arg(long, value_name = "FOLDER")]
        out: PathBuf,
        /// Host names the certificate is for (default: localhost).
        #[arg(long = "host", value_name = "NAME")]
        hosts: Vec<String>,
    },
}

#[derive(Subcommand)]
pub(crate) enum ServerAuditCommand {
    /// Check every workstation's audit chain on the server (exit 6 on a gap, fork or change).
    Verify {
        #[command(flatten)]
        database: Database,
    },
}

/// How the server tools reach the database.
#[derive(clap::Args)]
pub(crate) struct Database {
    /// postgres://owner@host:port/database, or host=/run/postgresql dbname=… (no password: it
    /// comes from CLINICDESK_SERVER_PASSWORD).
    #[arg(long, env = "CLINICDESK_DATABASE_URL")]
    database_url: String,
    /// The server's certificate, to reach a database on another host over TLS.
    #[arg(long, value_name = "FILE")]
    server_certificate: Option<PathBuf>,
}

impl Database {
    fn connect(&self) -> Result<clinicdesk_sync::postgres::Client> {
        let pem = self
            .server_certificate
            .as_ref()
            .map(|path| read_text(path, "server_certificate"))
            .transpose()?;
        clinicdesk_sync::connect_as_owner(&self.database_url, pem.as_deref())
    }
}

fn read_text(path: &PathBuf, field: &str) -> Result<String> {
    std::fs::read_to_string(path).map_err(|error| {
        Error::invalid_field(field, format!("cannot read {}: {error}", path.display()))
    })
}

pub(crate) fn run_server(command: ServerCommand, out: &Output) -> Result<()> {
    match command {
        ServerCommand::Init { database } => {
            let version = clinicdesk_sync::central_schema::init(&mut database.connect()?)?;
            out.value(serde_json::json!({ "schema_version": version }), || {
                format!("Created the central schema (version {version}). Next: `clinicdesk server add-clinic`.")
            });
        }
        ServerCommand::Migrate { database } => {
            let version = clinicdesk_sync::central_schema::migrate(&mut database.connect()?)?;
            out.value(serde_json::json!({ "schema_version": version }), || {
                format!("The central schema is at version {version}.")
            });
        }
        ServerCommand::AddClinic { database, name } => {
            let id = clinicdesk_sync::add_clinic(&mut database.connect()?, &name)?;
            out.value(serde_json::json!({ "clinic_id": id }), || {
                format!("Added clinic {name} ({id}). Next: `clinicdesk server add-workstation --clinic {id}`.")
            });
        }
        ServerCommand::AddWorkstation {
            database,
            clinic,
            label,
            certificate,
        } => {
            let pem = read_text(&certificate, "certificate")?;
            let (role, code) =
                clinicdesk_sync::add_workstation(&mut database.connect()?, &clinic, &label, &pem)?;
            out.value(
                serde_json::json!({ "workstation": role, "code": code.to_text(), "certificate_sha256": code.certificate_sha256 }),
                || {
                    format!(
                        "Added workstation {role} ({label}).\nEnrolment code (one use; give it to the workstation's administrator by hand):\n\n    {}\n\nServer certificate: {}",
                        code.to_text(),
                        fingerprint_for_reading(&code.certificate_sha256)
                    )
                },
            );
        }
        ServerCommand::RevokeWorkstation { database, role } => {
            clinicdesk_sync::revoke_workstation(&mut database.connect()?, &role)?;
            out.value(serde_json::json!({ "revoked": role }), || {
                format!("Revoked {role}: it can no longer reach the clinic's records.")
            });
        }
        ServerCommand::Status { database } => {
            let status = clinicdesk_sync::status(&mut database.connect()?)?;
            out.value(serde_json::to_value(&status).unwrap_or_default(), || {
                let mut text = format!("Central schema version {}\n", status.schema_version);
                for clinic in &status.clinics {
                    text.push_str(&format!(
                        "\n{} ({}): {} changes{}\n",
                        clinic.name,
                        clinic.clinic_id,
                        clinic.changes,
                        if clinic.has_records {
                            ""
                        } else {
                            ", waiting for its first workstation"
                        }
                    ));
                    for station in &clinic.workstations {
                        text.push_str(&format!(
                            "    {}  {:<20} {}  {} changes, {} audit entries\n",
                            station.role,
                            station.label,
                            if station.revoked {
                                "revoked"
                            } else if station.enrolled {
                                "enrolled"
                            } else {
                                "code not used yet"
                            },
                            station.changes_pushed,
                            station.audit_entries
                        ));
                    }
                }
                text.trim_end().to_owned()
            });
        }
        ServerCommand::Audit {
            command: ServerAuditCommand::Verify { database },
        } => {
            let checks = clinicdesk_sync::verify_audit_chains(&mut database.connect()?)?;
            let broken: Vec<_> = checks.iter().filter(|c| !c.problems.is_empty()).collect();
            out.value(serde_json::to_value(&checks).unwrap_or_default(), || {
                let mut text = String::new();
                for check in &checks {
                    text.push_str(&format!(
                        "{} ({} entries): {}\n",
                        check.workstation_role,
                        check.entries,
                        if check.problems.is_empty() {
                            "intact".to_owned()
                        } else {
                            check.problems.join("; ")
                        }
                    ));
                }
                if checks.is_empty() {
                    text.push_str("No audit entries on the server yet.");
                }
                text.trim_end().to_owned()
            });
            if let Some(first) = broken.first() {
                return Err(Error::new(
                    clinicdesk_core::ErrorCode::IntegrityFailure,
                    format!(
                        "The audit chain of {} is not whole: {}",
                        first.workstation_role,
                        first.problems.join("; ")
                    ),
                ));
            }
        }
        ServerCommand::Certificate { out: folder, hosts } => {
            let fingerprint = clinicdesk_sync::make_certificate(&folder, &hosts)?;
            out.value(serde_json::json!({ "certificate_sha256": fingerprint }), || {
                format!(
                    "Wrote {0}/server.crt and {0}/server.key. Point PostgreSQL's ssl_cert_file and ssl_key_file at them and set ssl = on.\nFingerprint: {1}",
                    folder.display(),
                    fingerprint_for_reading(&fingerprint)
                )
            });
        }
    }
    Ok(())
}
