//! The central server's tools, run by whoever administers the clinic group's PostgreSQL:
//! clinics, workstations and their one-time enrolment codes, revocation, status, the check of
//! every workstation's audit chain, and a self-signed certificate for a server without one.

use std::path::Path;

use clinicdesk_core::{AuditEntry, Error, ErrorCode, Result, AUDIT_GENESIS_HASH};
use postgres::{Client, NoTls};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::enrolment::EnrolmentCode;
use crate::transport::{connect_pinned_admin, parse_server_url, server_error};

/// Connects the server tools to `database_url` as its owner. Over a Unix socket or the loopback
/// interface without TLS; to any other host only over TLS pinned to `certificate_pem`. The
/// password, where one is needed, comes from `CLINICDESK_SERVER_PASSWORD`, never the URL.
pub fn connect_as_owner(database_url: &str, certificate_pem: Option<&str>) -> Result<Client> {
    let mut config = parse_server_url(database_url)?;
    if let Ok(password) = std::env::var("CLINICDESK_SERVER_PASSWORD") {
        config.password(password);
    }
    let local = config.get_hosts().iter().all(|host| match host {
        postgres::config::Host::Unix(_) => true,
        postgres::config::Host::Tcp(name) => {
            matches!(name.as_str(), "localhost" | "127.0.0.1" | "::1")
        }
    });
    match certificate_pem {
        Some(pem) => {
            connect_pinned_admin(config, &crate::transport::pem_certificate_fingerprint(pem)?)
        }
        None if local => config
            .connect(NoTls)
            .map_err(|e| server_error("connecting to the database", e)),
        None => Err(Error::invalid_field(
            "server_certificate",
            "to reach a database on another host, give its certificate (--server-certificate FILE)",
        )),
    }
}

/// Adds a clinic; returns its id. Its first workstation to enrol brings its records.
pub fn add_clinic(client: &mut Client, name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(Error::invalid_field(
            "name",
            "the clinic's name is 1 to 200 characters",
        ));
    }
    let id = uuid::Uuid::now_v7();
    let mut transaction = client
        .transaction()
        .map_err(|e| server_error("adding a clinic", e))?;
    transaction
        .execute(
            "INSERT INTO clinicdesk.clinic_registry (clinic_id, name) VALUES ($1::text::uuid, $2)",
            &[&id.to_string(), &name],
        )
        .map_err(|e| server_error("adding a clinic", e))?;
    transaction
        .execute(
            "INSERT INTO clinicdesk.clinic_sequences (clinic_id) VALUES ($1::text::uuid)",
            &[&id.to_string()],
        )
        .map_err(|e| server_error("adding a clinic", e))?;
    transaction
        .commit()
        .map_err(|e| server_error("adding a clinic", e))?;
    Ok(id.to_string())
}

/// The clinic named by `clinic` (its id, or its exact name).
fn find_clinic(client: &mut Client, clinic: &str) -> Result<String> {
    let rows = client
        .query(
            "SELECT clinic_id::text FROM clinicdesk.clinic_registry WHERE clinic_id::text = $1 OR name = $1",
            &[&clinic.trim()],
        )
        .map_err(|e| server_error("finding the clinic", e))?;
    match rows.as_slice() {
        [row] => Ok(row.get(0)),
        [] => Err(Error::not_found(format!(
            "No clinic {:?} on this server (`server status` lists them)",
            clinicdesk_core::visible(clinic)
        ))),
        _ => Err(Error::invalid_field(
            "clinic",
            "several clinics have that name; give the clinic's id",
        )),
    }
}

fn random_text(bytes: usize) -> String {
    let mut raw = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut raw);
    hex::encode(raw)
}

/// A password as PostgreSQL keeps it (SCRAM-SHA-256), so the password itself never reaches the
/// server's statement log.
pub(crate) fn scram_verifier(password: &str) -> Result<String> {
    let verifier = postgres_protocol::password::scram_sha_256(password.as_bytes());
    if verifier.contains('\'') {
        return Err(Error::unexpected("a password verifier held a quote"));
    }
    Ok(verifier)
}

/// Adds a workstation to `clinic`: a login role that owns nothing, with a one-time password.
/// Returns the enrolment code the administrator types on the workstation.
pub fn add_workstation(
    client: &mut Client,
    clinic: &str,
    label: &str,
    certificate_pem: &str,
) -> Result<(String, EnrolmentCode)> {
    let label = label.trim();
    if label.is_empty() || label.chars().count() > 200 {
        return Err(Error::invalid_field(
            "label",
            "the workstation's label is 1 to 200 characters",
        ));
    }
    let clinic_id = find_clinic(client, clinic)?;
    let fingerprint = crate::transport::pem_certificate_fingerprint(certificate_pem)?;
    let role = format!("cdws_{}", random_text(6));
    let password = random_text(24);
    let verifier = scram_verifier(&password)?;
    let mut transaction = client
        .transaction()
        .map_err(|e| server_error("adding a workstation", e))?;
    transaction
        .batch_execute(&format!(
            "CREATE ROLE {role} LOGIN PASSWORD '{verifier}' IN ROLE clinicdesk_workstation"
        ))
        .map_err(|e| server_error("adding a workstation", e))?;
    transaction
        .execute(
            "INSERT INTO clinicdesk.workstations (role_name, clinic_id, label) VALUES ($1, $2::text::uuid, $3)",
            &[&role, &clinic_id, &label],
        )
        .map_err(|e| server_error("adding a workstation", e))?;
    transaction
        .commit()
        .map_err(|e| server_error("adding a workstation", e))?;
    Ok((
        role.clone(),
        EnrolmentCode {
            workstation_role: role,
            one_time_password: password,
            certificate_sha256: fingerprint,
        },
    ))
}

/// Revokes a workstation: it can no longer sign in, its open connections end, and its role sees
/// and changes nothing even if one were left.
pub fn revoke_workstation(client: &mut Client, role: &str) -> Result<()> {
    // The first-sign-in secret goes with it: the workstation's disk alone opens nothing more.
    let revoked = client
        .query_opt(
            "UPDATE clinicdesk.workstations SET revoked_at = now(), unlock_secret = NULL
             WHERE role_name = $1 AND revoked_at IS NULL RETURNING sign_in_role",
            &[&role],
        )
        .map_err(|e| server_error("revoking a workstation", e))?;
    let Some(revoked) = revoked else {
        return Err(Error::not_found(format!(
            "No active workstation {:?} (`server status` lists them)",
            clinicdesk_core::visible(role)
        )));
    };
    let sign_in_role: Option<String> = revoked.get(0);
    for name in std::iter::once(role.to_owned()).chain(sign_in_role) {
        client
            .batch_execute(&format!("ALTER ROLE {} NOLOGIN", quote_identifier(&name)))
            .map_err(|e| server_error("revoking a workstation", e))?;
        client
            .execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1",
                &[&name],
            )
            .map_err(|e| server_error("ending the workstation's connections", e))?;
    }
    Ok(())
}

fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// One workstation in `server status`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorkstationStatus {
    pub role: String,
    pub label: String,
    pub enrolled: bool,
    pub revoked: bool,
    pub changes_pushed: i64,
    pub audit_entries: i64,
}

/// One clinic in `server status`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClinicStatus {
    pub clinic_id: String,
    pub name: String,
    pub has_records: bool,
    pub changes: i64,
    pub workstations: Vec<WorkstationStatus>,
}

/// What `server status` shows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServerStatus {
    pub schema_version: i32,
    pub clinics: Vec<ClinicStatus>,
}

pub fn status(client: &mut Client) -> Result<ServerStatus> {
    let version: Option<i32> = client
        .query_one(
            "SELECT max(version) FROM public.clinicdesk_schema_migrations",
            &[],
        )
        .map_err(|e| server_error("reading the schema version", e))?
        .get(0);
    let mut clinics = Vec::new();
    for row in client
        .query(
            "SELECT r.clinic_id::text, r.name, r.bound_at IS NOT NULL, s.last_seq
             FROM clinicdesk.clinic_registry r JOIN clinicdesk.clinic_sequences s USING (clinic_id)
             ORDER BY r.name",
            &[],
        )
        .map_err(|e| server_error("reading the clinics", e))?
    {
        let clinic_id: String = row.get(0);
        let workstations = client
            .query(
                "SELECT w.role_name, w.label, w.enrolled_at IS NOT NULL, w.revoked_at IS NOT NULL,
                        (SELECT count(*) FROM clinicdesk.changes c WHERE c.clinic_id = w.clinic_id AND c.workstation = w.role_name),
                        (SELECT count(*) FROM clinicdesk.audit_entries a WHERE a.clinic_id = w.clinic_id AND a.workstation_role = w.role_name)
                 FROM clinicdesk.workstations w WHERE w.clinic_id = $1::text::uuid ORDER BY w.created_at",
                &[&clinic_id],
            )
            .map_err(|e| server_error("reading the workstations", e))?
            .into_iter()
            .map(|w| WorkstationStatus {
                role: w.get(0),
                label: w.get(1),
                enrolled: w.get(2),
                revoked: w.get(3),
                changes_pushed: w.get(4),
                audit_entries: w.get(5),
            })
            .collect();
        clinics.push(ClinicStatus {
            clinic_id,
            name: row.get(1),
            has_records: row.get(2),
            changes: row.get(3),
            workstations,
        });
    }
    Ok(ServerStatus {
        schema_version: version.unwrap_or(0),
        clinics,
    })
}

/// What `server audit verify` found for one workstation's chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainCheck {
    pub clinic_id: String,
    pub workstation_role: String,
    pub entries: i64,
    /// Empty when the chain is whole; otherwise what is wrong, first problem first.
    pub problems: Vec<String>,
}

/// Checks every workstation's audit chain on the server: each entry's hash, the link to the one
/// before, no gap in the numbering, no two entries with one number (a fork).
pub fn verify_audit_chains(client: &mut Client) -> Result<Vec<ChainCheck>> {
    let chains = client
        .query(
            "SELECT DISTINCT clinic_id::text, workstation_role FROM clinicdesk.audit_entries ORDER BY 1, 2",
            &[],
        )
        .map_err(|e| server_error("reading the audit chains", e))?;
    let mut checks = Vec::new();
    for chain in chains {
        let clinic_id: String = chain.get(0);
        let role: String = chain.get(1);
        let rows = client
            .query(
                "SELECT seq, id::text, occurred_at, user_id, username, workstation, action, object_type,
                        object_id, patient_id, outcome, details, prev_hash, entry_hash
                 FROM clinicdesk.audit_entries WHERE clinic_id = $1::text::uuid AND workstation_role = $2
                 ORDER BY seq, received_at",
                &[&clinic_id, &role],
            )
            .map_err(|e| server_error("reading an audit chain", e))?;
        let mut problems = Vec::new();
        let mut previous: Option<(i64, String)> = None;
        for row in &rows {
            let entry = AuditEntry {
                seq: row.get(0),
                id: row.get(1),
                occurred_at: row.get(2),
                user_id: row.get(3),
                username: row.get(4),
                workstation: row.get(5),
                action: row.get(6),
                object_type: row.get(7),
                object_id: row.get(8),
                patient_id: row.get(9),
                outcome: row.get(10),
                details: row.get(11),
                prev_hash: row.get(12),
                entry_hash: row.get(13),
                from_other_workstation: false,
                action_in_words: String::new(),
                patient: None,
            };
            if entry.computed_hash() != entry.entry_hash {
                problems.push(format!(
                    "entry {} was changed after it was written",
                    entry.seq
                ));
            }
            match &previous {
                None if entry.seq != 1 || entry.prev_hash != AUDIT_GENESIS_HASH => {
                    problems.push(format!(
                        "the chain starts at entry {}, not at the first",
                        entry.seq
                    ));
                }
                Some((seq, _)) if *seq == entry.seq => {
                    problems.push(format!(
                        "fork: two different entries {} (the workstation's store went back in time, as after a restore)",
                        entry.seq
                    ));
                }
                Some((seq, _)) if entry.seq != seq + 1 => {
                    problems.push(format!(
                        "gap: entries {} to {} are missing",
                        seq + 1,
                        entry.seq - 1
                    ));
                }
                Some((_, hash)) if *hash != entry.prev_hash => {
                    problems.push(format!(
                        "entry {} does not follow the entry before it",
                        entry.seq
                    ));
                }
                _ => {}
            }
            previous = Some((entry.seq, entry.entry_hash.clone()));
        }
        checks.push(ChainCheck {
            clinic_id,
            workstation_role: role,
            entries: i64::try_from(rows.len()).unwrap_or(i64::MAX),
            problems,
        });
    }
    Ok(checks)
}

/// Writes a self-signed certificate and its key for the server (`server.crt`, `server.key`,
/// the key readable by its owner only) into `folder`; returns the certificate's fingerprint.
pub fn make_certificate(folder: &Path, host_names: &[String]) -> Result<String> {
    let names = if host_names.is_empty() {
        vec!["localhost".to_owned()]
    } else {
        host_names.to_vec()
    };
    let certified = rcgen::generate_simple_self_signed(names)
        .map_err(|error| Error::unexpected(format!("making a certificate: {error}")))?;
    std::fs::create_dir_all(folder)
        .map_err(|error| Error::unexpected(format!("creating {}: {error}", folder.display())))?;
    let certificate = folder.join("server.crt");
    let key = folder.join("server.key");
    for path in [&certificate, &key] {
        if path.exists() {
            return Err(Error::new(
                ErrorCode::Conflict,
                format!("{} exists already; nothing was written", path.display()),
            ));
        }
    }
    std::fs::write(&certificate, certified.cert.pem()).map_err(|error| {
        Error::unexpected(format!("writing {}: {error}", certificate.display()))
    })?;
    write_private(&key, certified.signing_key.serialize_pem().as_bytes())?;
    Ok(crate::transport::certificate_fingerprint(
        certified.cert.der(),
    ))
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|error| Error::unexpected(format!("writing {}: {error}", path.display())))?;
    file.write_all(bytes)
        .map_err(|error| Error::unexpected(format!("writing {}: {error}", path.display())))
}
