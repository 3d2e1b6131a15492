//! Password verifiers: what the central server keeps to check a member of staff's password at
//! their first sign-in on another workstation, without ever holding the password.
//!
//! A verifier is `cdv1$<memory KiB>$<iterations>$<lanes>$<salt hex>$<check hex>`, where the
//! check is SHA-256 of the Argon2id output for the password and salt. The server hands out
//! everything before the check (the challenge); the workstation answers with the Argon2id output
//! (the proof), and the server compares its SHA-256 with the check. So a copy of the server's
//! table does not let anyone answer for a password they do not know, and guessing a password
//! costs one Argon2id derivation per guess, as it does against a key slot.

use clinicdesk_error::{Error, Result};
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::{KdfParams, SlotSecret};

const PREFIX: &str = "cdv1";

/// What the server sends for a username: the parameters and salt to derive the proof with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierChallenge {
    pub kdf: KdfParams,
    pub salt: Vec<u8>,
}

impl VerifierChallenge {
    /// Reads `cdv1$m$t$p$salt` (a whole verifier also parses: the check is ignored).
    pub fn parse(text: &str) -> Result<VerifierChallenge> {
        let parts: Vec<&str> = text.split('$').collect();
        let malformed = || Error::integrity("the server's password check is malformed");
        if parts.len() < 5 || parts[0] != PREFIX {
            return Err(malformed());
        }
        let number = |part: &str| part.parse::<u32>().map_err(|_| malformed());
        let salt = hex::decode(parts[4]).map_err(|_| malformed())?;
        if salt.len() < 8 {
            return Err(malformed());
        }
        Ok(VerifierChallenge {
            kdf: KdfParams {
                memory_kib: number(parts[1])?,
                iterations: number(parts[2])?,
                parallelism: number(parts[3])?,
            },
            salt,
        })
    }

    /// The proof of `password`: the Argon2id output, hex.
    pub fn proof(&self, password: &SlotSecret) -> Result<String> {
        Ok(hex::encode(*self.kdf.derive(password, &self.salt)?))
    }

    fn text(&self) -> String {
        format!(
            "{PREFIX}${}${}${}${}",
            self.kdf.memory_kib,
            self.kdf.iterations,
            self.kdf.parallelism,
            hex::encode(&self.salt)
        )
    }
}

/// A new verifier of `password` under `kdf`, with a fresh salt.
pub fn make_verifier(kdf: KdfParams, password: &SlotSecret) -> Result<String> {
    let mut salt = vec![0u8; 16];
    OsRng.fill_bytes(&mut salt);
    let challenge = VerifierChallenge { kdf, salt };
    let proof = challenge.proof(password)?;
    Ok(format!("{}${}", challenge.text(), check_of_proof(&proof)))
}

/// Whether `password` matches `verifier` (checked on a workstation, as the server would).
pub fn verifier_accepts(verifier: &str, password: &SlotSecret) -> Result<bool> {
    let challenge = VerifierChallenge::parse(verifier)?;
    let check = verifier.rsplit('$').next().unwrap_or_default();
    Ok(check_of_proof(&challenge.proof(password)?) == check)
}

/// SHA-256 of the proof's bytes, hex: what the verifier stores.
fn check_of_proof(proof_hex: &str) -> String {
    let bytes = hex::decode(proof_hex).unwrap_or_default();
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: KdfParams = KdfParams {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };

    #[test]
    fn a_verifier_accepts_its_password_only() {
        let verifier = make_verifier(FAST, &SlotSecret::new("correct horse".into())).unwrap();
        assert!(verifier.starts_with("cdv1$64$1$1$"));
        assert!(!verifier.contains("correct"));
        assert!(verifier_accepts(&verifier, &SlotSecret::new("correct horse".into())).unwrap());
        assert!(!verifier_accepts(&verifier, &SlotSecret::new("correct horsf".into())).unwrap());
    }

    #[test]
    fn the_challenge_is_the_verifier_without_its_check() {
        let verifier = make_verifier(FAST, &SlotSecret::new("pw one two".into())).unwrap();
        let challenge = VerifierChallenge::parse(&verifier).unwrap();
        assert!(verifier.starts_with(&challenge.text()));
        assert!(VerifierChallenge::parse("cdv2$1$1$1$00").is_err());
        assert!(VerifierChallenge::parse("cdv1$x$1$1$0011223344556677").is_err());
    }
}
