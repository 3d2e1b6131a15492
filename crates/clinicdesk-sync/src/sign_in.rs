//! Signing in on a workstation: with the person's own key slot when they have one here, and
//! otherwise once through the central server, which checks the password against its verifier
//! and hands back the secret of this workstation's first-sign-in slot (see migrations/postgres/
//! 0003_accounts_and_sign_in.sql). The password itself never leaves the workstation.

use clinicdesk_core::{
    DataDir, Environment, Error, ErrorCode, FirstSignInGrant, Result, Session, SlotSecret,
};
use clinicdesk_keyslot::VerifierChallenge;
use zeroize::Zeroizing;

use crate::transport::{connect_pinned, server_error};

/// The most an Argon2id challenge from the server may ask of this workstation.
const MOST_MEMORY_KIB: u32 = 1024 * 1024;
const MOST_ITERATIONS: u32 = 24;

/// Signs `username` in on this workstation, through the central server when this is their
/// first sign-in here.
pub fn sign_in(
    data_dir: &DataDir,
    username: &str,
    password: &SlotSecret,
    environment: &Environment,
) -> Result<Session> {
    match Session::login(data_dir, username, password, environment) {
        Err(error) if error.code == ErrorCode::SignInNeedsServer => {
            sign_in_through_server(data_dir, username, password, environment)
        }
        other => other,
    }
}

/// A first sign-in on this workstation, checked by the central server.
pub fn sign_in_through_server(
    data_dir: &DataDir,
    username: &str,
    password: &SlotSecret,
    environment: &Environment,
) -> Result<Session> {
    let username = username.trim().to_lowercase();
    let sign_in = clinicdesk_core::server_sign_in(data_dir)?.ok_or_else(|| {
        Error::new(
            ErrorCode::AuthenticationFailed,
            "Wrong username or password; check both and try again (an administrator can reset a password)",
        )
    })?;
    let mut client = connect_pinned(
        &sign_in.server_url,
        &sign_in.role,
        &sign_in.password,
        &sign_in.certificate_sha256,
    )
    .map_err(|error| {
        if error.code == ErrorCode::ServerUnreachable {
            Error::new(
                ErrorCode::ServerUnreachable,
                "This is your first sign-in on this workstation: it must reach the central server once to check your password, and the server cannot be reached now. Check the network and try again, or sign in on a workstation you have used before",
            )
        } else {
            error
        }
    })?;
    let challenge: String = client
        .query_one("SELECT clinicdesk.sign_in_challenge($1)", &[&username])
        .map_err(|e| server_error("asking the server to check a password", e))?
        .get(0);
    let challenge = VerifierChallenge::parse(&challenge)?;
    if challenge.kdf.memory_kib > MOST_MEMORY_KIB || challenge.kdf.iterations > MOST_ITERATIONS {
        return Err(Error::new(
            ErrorCode::ServerRefused,
            "the central server asked for a password check far costlier than this product makes; nothing was sent",
        ));
    }
    let proof = challenge.proof(password)?;
    let answer = client
        .query_one(
            "SELECT clinicdesk.first_sign_in($1, $2)::text",
            &[&username, &proof],
        )
        .map_err(|e| server_error("asking the server to check a password", e));
    let answer: String = match answer {
        Ok(row) => row.get(0),
        Err(error) => {
            if matches!(
                error.code,
                ErrorCode::AuthenticationFailed | ErrorCode::AccountDisabled
            ) {
                clinicdesk_core::note_failed_first_sign_in(data_dir, &username, environment)?;
            }
            return Err(error);
        }
    };
    let answer: serde_json::Value = serde_json::from_str(&answer)
        .map_err(|_| Error::unexpected("the server's answer to a sign-in is not JSON"))?;
    let unlock_secret = answer["unlock_secret"]
        .as_str()
        .filter(|secret| secret.len() == 64)
        .ok_or_else(|| {
            Error::new(
                ErrorCode::ServerRefused,
                "the central server holds no first-sign-in secret for this workstation: an administrator signs in here and syncs once",
            )
        })?;
    let grant = FirstSignInGrant {
        unlock_secret: Zeroizing::new(unlock_secret.to_owned()),
        account: answer["user"].clone(),
    };
    Session::login_first_time(data_dir, &username, password, grant, environment)
}
