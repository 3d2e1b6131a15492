//! First sign-in on a workstation: what an enrolled workstation keeps so that a member of staff
//! with no key slot here yet can sign in once the central server has checked their password.
//!
//! At each sync until it is done, the workstation makes a first-sign-in slot (its data key
//! under a random secret), writes `server-sign-in.json` (the server, its pinned certificate and
//! a sign-in role's credentials), and then gives the server the secret and the role's SCRAM
//! verifier (`clinicdesk.prepare_sign_in`). The server hands the secret back only for a
//! password its verifier accepts. See docs/reference.md, "Accounts across workstations".

use std::io::Write;

use clinicdesk_error::{Error, Result};
use clinicdesk_keyslot::{KeySlotFile, SlotOwner, SlotSecret};
use clinicdesk_store::DataDir;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::session::Session;

/// `server-sign-in.json`: everything a first sign-in needs before the store is open. The role
/// can ask for a password challenge and answer it, nothing else.
#[derive(Clone, Serialize, Deserialize)]
pub struct ServerSignIn {
    pub server_url: String,
    pub certificate_sha256: String,
    pub role: String,
    /// Kept in the clear: it can do nothing but answer a password challenge.
    pub password: String,
}

impl std::fmt::Debug for ServerSignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerSignIn")
            .field("server_url", &self.server_url)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// The server sign-in this workstation keeps, if it is enrolled and prepared.
pub fn server_sign_in(data_dir: &DataDir) -> Result<Option<ServerSignIn>> {
    let path = data_dir.server_sign_in_file();
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error.into()),
    };
    serde_json::from_str(&text).map(Some).map_err(|_| {
        Error::integrity(format!(
            "{} is damaged; an administrator signs in here and syncs to write it again",
            path.display()
        ))
    })
}

/// A new first-sign-in secret and sign-in password, made before the server knows them.
pub struct SignInPreparation {
    pub unlock_secret: Zeroizing<[u8; 32]>,
    pub sign_in_password: Zeroizing<String>,
    pub sign_in_role: String,
}

const READY: &str = "sign_in_ready";

impl Session {
    /// A new preparation when this workstation's first sign-in is not set up yet (or no longer
    /// is: its slot or its file went missing); `None` when it is.
    pub fn sign_in_preparation(&mut self) -> Result<Option<SignInPreparation>> {
        let enrolment = self.sync_enrolment()?;
        let slot_present = KeySlotFile::new(self.data_dir.key_slot_file())
            .read()?
            .slot(&SlotOwner::Workstation)
            .is_some();
        let file_present = server_sign_in(&self.data_dir)?.is_some();
        if slot_present && file_present && self.sync_state_value(READY)?.is_some() {
            return Ok(None);
        }
        let mut unlock_secret = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(unlock_secret.as_mut());
        let mut password = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut password);
        Ok(Some(SignInPreparation {
            unlock_secret,
            sign_in_password: Zeroizing::new(hex::encode(password)),
            sign_in_role: format!("{}_signin", enrolment.workstation_role),
        }))
    }

    /// Keeps `preparation` here (the slot and the file), before the server is told: until
    /// [`Session::sign_in_prepared`], the next sync prepares anew.
    pub fn keep_sign_in_preparation(&mut self, preparation: &SignInPreparation) -> Result<()> {
        let enrolment = self.sync_enrolment()?;
        crate::sync::clear_state(self.connection()?, READY)?;
        {
            let data_key = self.data_key()?;
            let secret = SlotSecret::new(hex::encode(*preparation.unlock_secret));
            KeySlotFile::new(self.data_dir.key_slot_file())
                .update(|document| document.put_slot(SlotOwner::Workstation, &secret, data_key))?;
        }
        let file = ServerSignIn {
            server_url: enrolment.server_url,
            certificate_sha256: enrolment.certificate_sha256,
            role: preparation.sign_in_role.clone(),
            password: preparation.sign_in_password.to_string(),
        };
        write_private_file(
            &self.data_dir.server_sign_in_file(),
            serde_json::to_string_pretty(&file)
                .map_err(|error| Error::unexpected(error.to_string()))?
                .as_bytes(),
        )?;
        Ok(())
    }

    /// Notes that the server holds the preparation kept here.
    pub fn sign_in_prepared(&mut self) -> Result<()> {
        let now = self.environment.now();
        crate::sync::set_state(self.connection()?, READY, "yes", now)?;
        self.write(|write| {
            let entry = write.entry("sync.sign_in_prepared").details(serde_json::json!({
                "meaning": "staff with no key slot here can now sign in once the central server has checked their password",
            }));
            write.audit(entry)?;
            Ok(())
        })
    }
}

/// Writes `bytes` to `path` readable by this account only, atomically (temporary file, fsync,
/// rename).
fn write_private_file(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    let temporary = path.with_extension("json.new");
    {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&temporary, path)?;
    if let Some(folder) = path.parent() {
        std::fs::File::open(folder)?.sync_all()?;
    }
    Ok(())
}
