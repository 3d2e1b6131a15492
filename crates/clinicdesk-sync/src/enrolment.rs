//! Enrolment: the one-time code `server add-workstation` prints, and what a workstation does with
//! it (checks the server's certificate against the code, binds itself to its clinic, replaces the
//! one-time password with one only it knows, and keeps that inside its encrypted store).

use base64::Engine;
use clinicdesk_core::{Error, Result, Session, SyncEnrolment};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::central_schema::check_server_version;
use crate::engine::SessionAccess;
use crate::server_tools::scram_verifier;
use crate::transport::{connect_pinned, parse_server_url, server_error};

const PREFIX: &str = "CDK1-";

/// What an enrolment code carries: the workstation's role, its one-time password and the
/// fingerprint of the server's certificate.
#[derive(Clone, Serialize, Deserialize)]
pub struct EnrolmentCode {
    #[serde(rename = "w")]
    pub workstation_role: String,
    #[serde(rename = "p")]
    pub one_time_password: String,
    #[serde(rename = "f")]
    pub certificate_sha256: String,
}

impl std::fmt::Debug for EnrolmentCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrolmentCode")
            .field("workstation_role", &self.workstation_role)
            .field("certificate_sha256", &self.certificate_sha256)
            .finish_non_exhaustive()
    }
}

impl EnrolmentCode {
    /// The code as typed or pasted: `CDK1-` and URL-safe base64.
    pub fn to_text(&self) -> String {
        let json = serde_json::to_vec(self).expect("a code serialises");
        format!(
            "{PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
        )
    }

    /// What this workstation keeps of an enrolment the server accepted.
    fn enrolment(
        &self,
        server_url: &str,
        own_password: Zeroizing<String>,
        clinic_id: &str,
    ) -> SyncEnrolment {
        SyncEnrolment {
            server_url: server_url.trim().to_owned(),
            workstation_role: self.workstation_role.clone(),
            workstation_password: own_password,
            certificate_sha256: self.certificate_sha256.to_ascii_lowercase(),
            clinic_id: clinic_id.to_owned(),
        }
    }

    fn enrolled(&self, clinic_id: String, clinic_name: String) -> Enrolled {
        Enrolled {
            clinic_id,
            clinic_name,
            workstation_role: self.workstation_role.clone(),
            certificate_sha256: self.certificate_sha256.to_ascii_lowercase(),
        }
    }

    pub fn parse(text: &str) -> Result<EnrolmentCode> {
        let invalid = || {
            Error::invalid_field(
                "code",
                "this is not an enrolment code (it starts with CDK1- and comes from `clinicdesk server add-workstation`)",
            )
        };
        let body = text.trim().strip_prefix(PREFIX).ok_or_else(invalid)?;
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| invalid())?;
        let code: EnrolmentCode = serde_json::from_slice(&json).map_err(|_| invalid())?;
        let hex_fingerprint = code.certificate_sha256.len() == 64
            && code
                .certificate_sha256
                .chars()
                .all(|c| c.is_ascii_hexdigit());
        let role_ok = code.workstation_role.starts_with("cdws_")
            && code.workstation_role[5..]
                .chars()
                .all(|c| c.is_ascii_hexdigit());
        if !hex_fingerprint || !role_ok || code.one_time_password.is_empty() {
            return Err(invalid());
        }
        Ok(code)
    }
}

/// Connects with the code's one-time credentials, pinned to the code's certificate, and checks
/// the server speaks this build's schema.
fn connect_with_code(server_url: &str, code: &EnrolmentCode) -> Result<postgres::Client> {
    let mut client = connect_pinned(
        server_url,
        &code.workstation_role,
        &code.one_time_password,
        &code.certificate_sha256,
    )?;
    check_server_version(&mut client)?;
    Ok(client)
}

/// The workstation's own password, and its SCRAM verifier for the server.
fn own_password() -> Result<(Zeroizing<String>, String)> {
    let mut bytes = [0u8; 24];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut bytes);
    let password = Zeroizing::new(hex::encode(bytes));
    let verifier = scram_verifier(&password)?;
    Ok((password, verifier))
}

/// The clinic id and name from `enroll_workstation`'s answer.
fn clinic_of(answer: &str) -> Result<(String, String)> {
    let answer: serde_json::Value = serde_json::from_str(answer)
        .map_err(|_| Error::unexpected("the server's answer to enrolment is not JSON"))?;
    let text = |name: &str| answer[name].as_str().unwrap_or_default().to_owned();
    Ok((text("clinic_id"), text("clinic_name")))
}

/// What enrolment tells the administrator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolled {
    pub clinic_id: String,
    pub clinic_name: String,
    pub workstation_role: String,
    pub certificate_sha256: String,
}

/// Enrols this workstation (an administrator's session) with the server at `server_url`.
/// The store's clinic becomes the server's clinic when it is the first to enrol; otherwise the
/// store must hold the same clinic. The server's certificate must be the one the code names.
pub fn enroll(session: &mut Session, server_url: &str, code: &EnrolmentCode) -> Result<Enrolled> {
    enroll_through(&std::cell::RefCell::new(session), server_url, code)
}

/// [`enroll`] reaching the session through `access`, never while waiting on the server.
pub fn enroll_through(
    access: &impl SessionAccess,
    server_url: &str,
    code: &EnrolmentCode,
) -> Result<Enrolled> {
    parse_server_url(server_url)?;
    let store_clinic = access.with_session(|session| {
        session.check_may_enrol()?;
        session.store_clinic_id()
    })?;
    let mut client = connect_with_code(server_url, code)?;
    let (own_password, verifier) = own_password()?;
    let mut transaction = client
        .transaction()
        .map_err(|e| server_error("enrolling", e))?;
    let answer: String = transaction
        .query_one(
            "SELECT clinicdesk.enroll_workstation($1::text::uuid)::text",
            &[&store_clinic],
        )
        .map_err(|e| server_error("enrolling", e))?
        .get(0);
    transaction
        .batch_execute(&format!("ALTER ROLE CURRENT_USER PASSWORD '{verifier}'"))
        .map_err(|e| server_error("setting the workstation's own password", e))?;
    transaction
        .commit()
        .map_err(|e| server_error("enrolling", e))?;
    let (clinic_id, clinic_name) = clinic_of(&answer)?;
    access.with_session(|session| {
        session.save_sync_enrolment(code.enrolment(server_url, own_password, &clinic_id))
    })?;
    Ok(code.enrolled(clinic_id, clinic_name))
}

/// What enrolling a new workstation with an empty data folder needs besides the code.
pub struct NewWorkstation<'a> {
    pub data_dir: &'a clinicdesk_core::DataDir,
    pub admin_username: &'a str,
    /// The administrator's password on this workstation.
    pub admin_password: clinicdesk_core::SlotSecret,
    pub kdf: clinicdesk_core::KdfParams,
    /// Pull every record before returning (the CLI); the desktop app pulls in the background
    /// instead, showing progress.
    pub pull_now: bool,
}

/// Enrols a workstation whose data folder is empty: the clinic's accounts and the clinic itself
/// come from the server, the store is made around them with a slot for the enrolling
/// administrator (who must be an active administrator of the clinic on the server), and the first
/// sync pulls every record. Nothing changes on the server unless the store was made.
pub fn enroll_new_workstation(
    server_url: &str,
    code: &EnrolmentCode,
    new: NewWorkstation<'_>,
    environment: &clinicdesk_core::Environment,
) -> Result<(Enrolled, clinicdesk_core::InitOutcome)> {
    parse_server_url(server_url)?;
    if clinicdesk_core::store_exists(new.data_dir) {
        return Err(Error::new(
            clinicdesk_core::ErrorCode::StoreAlreadyInitialized,
            "This data folder already holds a store: enrol it without --new-store",
        ));
    }
    let mut client = connect_with_code(server_url, code)?;
    let (own_password, verifier) = own_password()?;
    let mut transaction = client
        .transaction()
        .map_err(|e| server_error("enrolling", e))?;
    let answer: String = transaction
        .query_one("SELECT clinicdesk.enroll_workstation(NULL)::text", &[])
        .map_err(|e| server_error("enrolling", e))?
        .get(0);
    let (clinic_id, clinic_name) = clinic_of(&answer)?;
    let latest = |table: &str| {
        format!(
            "SELECT DISTINCT ON (row_id) payload::text FROM clinicdesk.changes
             WHERE clinic_id = clinicdesk.current_clinic() AND table_name = '{table}'
             ORDER BY row_id, seq DESC"
        )
    };
    let parse = |text: String| {
        serde_json::from_str::<serde_json::Value>(&text)
            .map_err(|_| Error::unexpected("the server sent a row that is not JSON"))
    };
    let users = transaction
        .query(&latest("users"), &[])
        .map_err(|e| server_error("reading the clinic's accounts", e))?
        .into_iter()
        .map(|row| parse(row.get(0)))
        .collect::<Result<Vec<_>>>()?;
    let clinic = transaction
        .query(&latest("clinics"), &[])
        .map_err(|e| server_error("reading the clinic", e))?
        .into_iter()
        .map(|row| parse(row.get(0)))
        .next()
        .transpose()?
        .ok_or_else(|| {
            Error::new(
                clinicdesk_core::ErrorCode::ServerRefused,
                "the clinic has no records on the server yet: enrol the workstation that holds them first",
            )
        })?;
    let outcome = clinicdesk_core::init_from_central(
        new.data_dir,
        clinicdesk_core::CentralSeed {
            clinic,
            users,
            admin_username: new.admin_username.to_owned(),
            admin_password: clinicdesk_core::SlotSecret::new(
                new.admin_password.as_str().to_owned(),
            ),
            kdf: new.kdf,
        },
        environment,
    )?;
    let committed = transaction
        .batch_execute(&format!("ALTER ROLE CURRENT_USER PASSWORD '{verifier}'"))
        .and_then(|()| transaction.commit())
        .map_err(|e| server_error("enrolling", e));
    if let Err(error) = committed {
        // The server kept the code unused: the new store goes, so the next try starts clean.
        for file in new.data_dir.store_files() {
            let _ = std::fs::remove_file(file);
        }
        let _ = std::fs::remove_file(new.data_dir.key_slot_file());
        return Err(error);
    }
    let mut session = Session::login(
        new.data_dir,
        new.admin_username,
        &new.admin_password,
        environment,
    )?;
    session.save_sync_enrolment(code.enrolment(server_url, own_password, &clinic_id))?;
    if new.pull_now {
        crate::engine::sync_now(&mut session)?;
    }
    Ok((code.enrolled(clinic_id, clinic_name), outcome))
}
