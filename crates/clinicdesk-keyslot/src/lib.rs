//! Key slots: the store's random data key, wrapped once per user and per recovery key, in a file beside the store.
//!
//! Layout of one slot:
//!
//! * an X25519 key pair made for the slot; its secret half is sealed with XChaCha20-Poly1305 under a
//!   key derived from the user's password (or the recovery key) by Argon2id, with per-slot salt and
//!   parameters;
//! * the data key, sealed to the slot's public key (a libsodium-style sealed box).
//!
//! So a password change re-wraps only the secret half of one slot, and an administrator can rotate
//! the data key and seal the new one to every slot without knowing anybody's password. The old
//! data key tells nothing about the new one.
//!
//! The file also carries what must be readable before the store is unlocked: the clinic's name,
//! the login policy and each user's failed-login counters. It is rewritten atomically (temporary
//! file, fsync, rename, fsync of the folder) under an exclusive lock, so a crash leaves either the
//! old or the new file, never a torn one.

mod file;
mod recovery;
mod secret;
mod verifier;

pub use file::KeySlotFile;
pub use recovery::{generate_recovery_key, normalise_recovery_key};
pub use secret::{DataKey, SlotSecret};
pub use verifier::{make_verifier, verifier_accepts, VerifierChallenge};

use argon2::{Algorithm, Argon2, Params, Version};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use chrono::{DateTime, Utc};
use clinicdesk_error::{Error, ErrorCode, Result};
use rand::rngs::OsRng;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zeroize::Zeroizing;

/// The version of the key-slot file layout this crate reads and writes.
pub const KEY_SLOT_FORMAT: u32 = 1;

/// Argon2id cost parameters, stored per slot so they can be raised later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl KdfParams {
    /// The product default: m = 64 MiB, t = 3, p = 1.
    pub const DEFAULT: KdfParams = KdfParams {
        memory_kib: 64 * 1024,
        iterations: 3,
        parallelism: 1,
    };

    fn argon2(&self) -> Result<Argon2<'static>> {
        let params = Params::new(self.memory_kib, self.iterations, self.parallelism, Some(32))
            .map_err(|error| Error::integrity(format!("invalid Argon2id parameters: {error}")))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }

    /// Derives the 256-bit key-encryption key for `secret` with `salt`.
    pub fn derive(&self, secret: &SlotSecret, salt: &[u8]) -> Result<Zeroizing<[u8; 32]>> {
        let mut out = Zeroizing::new([0u8; 32]);
        self.argon2()?
            .hash_password_into(secret.as_bytes(), salt, out.as_mut())
            .map_err(|error| Error::unexpected(format!("Argon2id failed: {error}")))?;
        Ok(out)
    }

    /// Raises the iteration count from the default until one derivation takes at least
    /// `at_least`, so logins cost 0.3–1 s on this machine. Measures real time: call once at init.
    pub fn calibrated(at_least: std::time::Duration) -> KdfParams {
        let mut params = KdfParams::DEFAULT;
        let probe = SlotSecret::new("calibration probe".to_owned());
        for _ in 0..8 {
            let started = std::time::Instant::now();
            if params.derive(&probe, &[0u8; 16]).is_err() {
                return KdfParams::DEFAULT;
            }
            let took = started.elapsed();
            if took >= at_least {
                break;
            }
            let scale = at_least.as_secs_f64() / took.as_secs_f64().max(0.001);
            let next = (params.iterations as f64 * scale).ceil() as u32;
            params.iterations = next.clamp(params.iterations + 1, 24);
        }
        params
    }
}

/// Who a slot belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlotOwner {
    /// A user; the name is the store's username, compared case-insensitively.
    User(String),
    /// A recovery key shown once at setup.
    Recovery,
    /// The workstation's first-sign-in slot: opened with a secret the central server keeps and
    /// hands out only for a password its verifier accepts, so a member of staff with no slot
    /// here yet can sign in once the server has checked them. Neither half alone opens it.
    Workstation,
}

impl SlotOwner {
    pub fn user(username: &str) -> SlotOwner {
        SlotOwner::User(username.to_lowercase())
    }

    fn binding(&self) -> String {
        match self {
            SlotOwner::User(name) => format!("user:{name}"),
            SlotOwner::Recovery => "recovery".to_owned(),
            SlotOwner::Workstation => "workstation".to_owned(),
        }
    }
}

/// One failed login that has not yet reached the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedLogin {
    pub at: DateTime<Utc>,
    pub workstation: String,
    /// True when this failure locked the account.
    pub locked_account: bool,
}

/// Failed-login counters for one user; kept outside the store so they count before unlock.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockoutState {
    pub consecutive_failures: u32,
    pub locked_until: Option<DateTime<Utc>>,
    /// Failures not yet written to the audit trail; moved there at the next successful unlock.
    pub unreported: Vec<FailedLogin>,
}

/// The lockout policy; a copy of the store's security settings, readable before unlock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginPolicy {
    pub max_failed_logins: u32,
    pub lock_minutes: u32,
}

impl Default for LoginPolicy {
    fn default() -> LoginPolicy {
        LoginPolicy {
            max_failed_logins: 5,
            lock_minutes: 15,
        }
    }
}

/// One wrapped copy of the data key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeySlot {
    pub id: Uuid,
    pub owner: SlotOwner,
    pub kdf: KdfParams,
    #[serde(with = "base64_bytes")]
    pub salt: Vec<u8>,
    #[serde(with = "base64_bytes")]
    pub public_key: Vec<u8>,
    #[serde(with = "base64_bytes")]
    pub secret_key_nonce: Vec<u8>,
    #[serde(with = "base64_bytes")]
    pub sealed_secret_key: Vec<u8>,
    #[serde(with = "base64_bytes")]
    pub sealed_data_key: Vec<u8>,
    /// Set while a key rotation is under way: the next data key, sealed to this slot.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "optional_base64_bytes"
    )]
    pub sealed_next_data_key: Option<Vec<u8>>,
    #[serde(default)]
    pub lockout: LockoutState,
}

/// What unlocking a slot yields.
pub struct UnlockedSlot {
    pub data_key: DataKey,
    /// Present when a key rotation was interrupted; the store may already be under this key.
    pub next_data_key: Option<DataKey>,
}

/// The whole key-slot file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeySlotsDocument {
    pub format: u32,
    pub store_id: Uuid,
    pub clinic_name: String,
    /// Incremented on every write; the store remembers the last value it saw, so a rolled-back
    /// file (an attempt to reset lockout counters) is noticed at the next unlock.
    pub generation: u64,
    pub default_kdf: KdfParams,
    #[serde(default)]
    pub login_policy: LoginPolicy,
    pub slots: Vec<KeySlot>,
}

impl KeySlotsDocument {
    pub fn new(store_id: Uuid, clinic_name: &str, default_kdf: KdfParams) -> KeySlotsDocument {
        KeySlotsDocument {
            format: KEY_SLOT_FORMAT,
            store_id,
            clinic_name: clinic_name.to_owned(),
            generation: 0,
            default_kdf,
            login_policy: LoginPolicy::default(),
            slots: Vec::new(),
        }
    }

    pub fn slot(&self, owner: &SlotOwner) -> Option<&KeySlot> {
        self.slots.iter().find(|slot| &slot.owner == owner)
    }

    pub fn slot_mut(&mut self, owner: &SlotOwner) -> Option<&mut KeySlot> {
        self.slots.iter_mut().find(|slot| &slot.owner == owner)
    }

    /// Adds a slot for `owner` (replacing any existing one) holding `data_key`, unlockable
    /// with `secret`. Used at init, for new users, and for password resets by an administrator.
    pub fn put_slot(
        &mut self,
        owner: SlotOwner,
        secret: &SlotSecret,
        data_key: &DataKey,
    ) -> Result<()> {
        let previous_lockout = self.slot(&owner).map(|slot| slot.lockout.clone());
        self.remove_slot(&owner);
        let secret_key = crypto_box::SecretKey::generate(&mut OsRng);
        let public_key = secret_key.public_key();
        let sealed_data_key = public_key
            .seal(&mut OsRng, data_key.as_bytes())
            .map_err(|_| Error::unexpected("sealing the data key failed"))?;
        let mut slot = KeySlot {
            id: Uuid::new_v4(),
            owner,
            kdf: self.default_kdf,
            salt: Vec::new(),
            public_key: public_key.as_bytes().to_vec(),
            secret_key_nonce: Vec::new(),
            sealed_secret_key: Vec::new(),
            sealed_data_key,
            sealed_next_data_key: None,
            lockout: previous_lockout.unwrap_or_default(),
        };
        let secret_bytes = Zeroizing::new(secret_key.to_bytes());
        wrap_secret_key(self.store_id, &mut slot, secret, &secret_bytes)?;
        self.slots.push(slot);
        Ok(())
    }

    /// Re-wraps the slot of `owner` under `new_secret`, after proving `old_secret` opens it.
    /// Only that slot changes; the data key stays sealed as it was.
    pub fn change_slot_secret(
        &mut self,
        owner: &SlotOwner,
        old_secret: &SlotSecret,
        new_secret: &SlotSecret,
    ) -> Result<()> {
        let store_id = self.store_id;
        let default_kdf = self.default_kdf;
        let slot = self.slot_mut(owner).ok_or_else(authentication_failed)?;
        let secret_bytes = unwrap_secret_key(store_id, slot, old_secret)?;
        slot.kdf = default_kdf;
        wrap_secret_key(store_id, slot, new_secret, &secret_bytes)
    }

    pub fn remove_slot(&mut self, owner: &SlotOwner) -> bool {
        let before = self.slots.len();
        self.slots.retain(|slot| &slot.owner != owner);
        before != self.slots.len()
    }

    /// Opens the slot of `owner` with `secret`. A missing slot and a wrong secret give the same
    /// error, so the answer does not tell which usernames exist.
    pub fn unlock(&self, owner: &SlotOwner, secret: &SlotSecret) -> Result<UnlockedSlot> {
        let slot = self.slot(owner).ok_or_else(authentication_failed)?;
        let secret_bytes = unwrap_secret_key(self.store_id, slot, secret)?;
        let secret_key = crypto_box::SecretKey::from(*secret_bytes);
        let open = |sealed: &[u8]| -> Result<DataKey> {
            let bytes = Zeroizing::new(
                secret_key
                    .unseal(sealed)
                    .map_err(|_| Error::integrity("the key slot's sealed data key is damaged"))?,
            );
            DataKey::from_slice(&bytes)
        };
        Ok(UnlockedSlot {
            data_key: open(&slot.sealed_data_key)?,
            next_data_key: slot.sealed_next_data_key.as_deref().map(open).transpose()?,
        })
    }

    /// First step of a key rotation: seal `next_key` to every slot beside the current key.
    pub fn begin_rotation(&mut self, next_key: &DataKey) -> Result<()> {
        for slot in &mut self.slots {
            let public_key = public_key_of(slot)?;
            slot.sealed_next_data_key = Some(
                public_key
                    .seal(&mut OsRng, next_key.as_bytes())
                    .map_err(|_| Error::unexpected("sealing the next data key failed"))?,
            );
        }
        Ok(())
    }

    /// Last step of a key rotation: the next key becomes the only key.
    pub fn finish_rotation(&mut self) {
        for slot in &mut self.slots {
            if let Some(next) = slot.sealed_next_data_key.take() {
                slot.sealed_data_key = next;
            }
        }
    }

    /// Abandons an interrupted rotation that never reached the store.
    pub fn abandon_rotation(&mut self) {
        for slot in &mut self.slots {
            slot.sealed_next_data_key = None;
        }
    }

    pub fn rotation_pending(&self) -> bool {
        self.slots
            .iter()
            .any(|slot| slot.sealed_next_data_key.is_some())
    }

    fn validate(&self) -> Result<()> {
        if self.format != KEY_SLOT_FORMAT {
            return Err(Error::new(
                ErrorCode::StoreNewerThanApp,
                format!(
                    "the key-slot file has format {} but this Clinicdesk reads format {KEY_SLOT_FORMAT}; install the newer Clinicdesk that wrote it",
                    self.format
                ),
            ));
        }
        Ok(())
    }
}

fn authentication_failed() -> Error {
    Error::new(
        ErrorCode::AuthenticationFailed,
        "Wrong username or password; check both and try again",
    )
}

fn public_key_of(slot: &KeySlot) -> Result<crypto_box::PublicKey> {
    let bytes: [u8; 32] = slot
        .public_key
        .as_slice()
        .try_into()
        .map_err(|_| Error::integrity("a key slot's public key is damaged"))?;
    Ok(crypto_box::PublicKey::from(bytes))
}

fn slot_binding(store_id: Uuid, slot: &KeySlot) -> Vec<u8> {
    format!(
        "clinicdesk-keyslot-v{KEY_SLOT_FORMAT}|{store_id}|{}|{}|{}|{}|{}|{}",
        slot.id,
        slot.owner.binding(),
        slot.kdf.memory_kib,
        slot.kdf.iterations,
        slot.kdf.parallelism,
        hex::encode(&slot.public_key)
    )
    .into_bytes()
}

fn wrap_secret_key(
    store_id: Uuid,
    slot: &mut KeySlot,
    secret: &SlotSecret,
    secret_key: &[u8; 32],
) -> Result<()> {
    let mut salt = vec![0u8; 16];
    OsRng.fill_bytes(&mut salt);
    let mut nonce = vec![0u8; 24];
    OsRng.fill_bytes(&mut nonce);
    let kek = slot.kdf.derive(secret, &salt)?;
    slot.salt = salt;
    slot.secret_key_nonce = nonce;
    let aad = slot_binding(store_id, slot);
    let cipher = XChaCha20Poly1305::new(kek.as_ref().into());
    slot.sealed_secret_key = cipher
        .encrypt(
            XNonce::from_slice(&slot.secret_key_nonce),
            Payload {
                msg: secret_key,
                aad: &aad,
            },
        )
        .map_err(|_| Error::unexpected("wrapping the key slot failed"))?;
    Ok(())
}

/// The secret half of `slot`'s key pair, unwrapped with `secret` (for opening things sealed to
/// the slot's public key outside the key-slot file, such as a backup's file key).
pub fn unwrap_slot_secret_key(
    store_id: Uuid,
    slot: &KeySlot,
    secret: &SlotSecret,
) -> Result<Zeroizing<[u8; 32]>> {
    unwrap_secret_key(store_id, slot, secret)
}

fn unwrap_secret_key(
    store_id: Uuid,
    slot: &KeySlot,
    secret: &SlotSecret,
) -> Result<Zeroizing<[u8; 32]>> {
    if slot.secret_key_nonce.len() != 24 {
        return Err(Error::integrity("a key slot's nonce is damaged"));
    }
    let kek = slot.kdf.derive(secret, &slot.salt)?;
    let aad = slot_binding(store_id, slot);
    let cipher = XChaCha20Poly1305::new(kek.as_ref().into());
    let plain = Zeroizing::new(
        cipher
            .decrypt(
                XNonce::from_slice(&slot.secret_key_nonce),
                Payload {
                    msg: &slot.sealed_secret_key,
                    aad: &aad,
                },
            )
            .map_err(|_| authentication_failed())?,
    );
    let mut out = Zeroizing::new([0u8; 32]);
    if plain.len() != 32 {
        return Err(Error::integrity(
            "a key slot's secret key has the wrong length",
        ));
    }
    out.copy_from_slice(&plain);
    Ok(out)
}

mod base64_bytes {
    use super::*;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&BASE64.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        BASE64.decode(text).map_err(serde::de::Error::custom)
    }
}

mod optional_base64_bytes {
    use super::*;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(
        bytes: &Option<Vec<u8>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(bytes) => serializer.serialize_some(&BASE64.encode(bytes)),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Vec<u8>>, D::Error> {
        let text = Option::<String>::deserialize(deserializer)?;
        text.map(|text| BASE64.decode(text).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cheap parameters: these tests are about the slot logic, not about Argon2id's cost.
    const TEST_KDF: KdfParams = KdfParams {
        memory_kib: 1024,
        iterations: 1,
        parallelism: 1,
    };

    fn secret(text: &str) -> SlotSecret {
        SlotSecret::new(text.to_owned())
    }

    fn document_with(users: &[(&str, &str)], data_key: &DataKey) -> KeySlotsDocument {
        let mut document = KeySlotsDocument::new(Uuid::new_v4(), "Test Clinic", TEST_KDF);
        for (user, password) in users {
            document
                .put_slot(SlotOwner::user(user), &secret(password), data_key)
                .unwrap();
        }
        document
    }

    #[test]
    fn every_user_unlocks_the_same_data_key_and_a_wrong_password_does_not() {
        let data_key = DataKey::generate();
        let document = document_with(
            &[("ada", "first secret"), ("bo", "second secret")],
            &data_key,
        );
        for (user, password) in [("ada", "first secret"), ("bo", "second secret")] {
            let unlocked = document
                .unlock(&SlotOwner::user(user), &secret(password))
                .unwrap();
            assert_eq!(unlocked.data_key.as_bytes(), data_key.as_bytes());
        }
        let wrong = document.unlock(&SlotOwner::user("ada"), &secret("second secret"));
        assert_eq!(wrong.err().unwrap().code, ErrorCode::AuthenticationFailed);
        let unknown = document.unlock(&SlotOwner::user("cy"), &secret("first secret"));
        assert_eq!(unknown.err().unwrap().code, ErrorCode::AuthenticationFailed);
    }

    #[test]
    fn changing_a_password_rewraps_only_that_slot() {
        let data_key = DataKey::generate();
        let mut document = document_with(&[("ada", "old one"), ("bo", "bo's")], &data_key);
        let bo_before =
            serde_json::to_string(document.slot(&SlotOwner::user("bo")).unwrap()).unwrap();
        let ada_before = document.slot(&SlotOwner::user("ada")).unwrap().clone();
        document
            .change_slot_secret(
                &SlotOwner::user("ada"),
                &secret("old one"),
                &secret("new one"),
            )
            .unwrap();
        let bo_after =
            serde_json::to_string(document.slot(&SlotOwner::user("bo")).unwrap()).unwrap();
        assert_eq!(bo_before, bo_after);
        let ada_after = document.slot(&SlotOwner::user("ada")).unwrap();
        assert_ne!(ada_before.sealed_secret_key, ada_after.sealed_secret_key);
        assert_eq!(ada_before.sealed_data_key, ada_after.sealed_data_key);
        assert!(document
            .unlock(&SlotOwner::user("ada"), &secret("old one"))
            .is_err());
        let unlocked = document
            .unlock(&SlotOwner::user("ada"), &secret("new one"))
            .unwrap();
        assert_eq!(unlocked.data_key.as_bytes(), data_key.as_bytes());
    }

    #[test]
    fn a_slot_copied_to_another_owner_does_not_open() {
        let data_key = DataKey::generate();
        let mut document = document_with(&[("ada", "pw")], &data_key);
        let mut forged = document.slot(&SlotOwner::user("ada")).unwrap().clone();
        forged.owner = SlotOwner::user("mallory");
        document.slots.push(forged);
        let result = document.unlock(&SlotOwner::user("mallory"), &secret("pw"));
        assert_eq!(result.err().unwrap().code, ErrorCode::AuthenticationFailed);
    }

    #[test]
    fn rotation_seals_the_next_key_to_every_slot_without_passwords() {
        let old_key = DataKey::generate();
        let next_key = DataKey::generate();
        let mut document = document_with(&[("ada", "a"), ("bo", "b")], &old_key);
        document
            .put_slot(SlotOwner::Recovery, &secret("RECOVERY"), &old_key)
            .unwrap();
        document.begin_rotation(&next_key).unwrap();
        assert!(document.rotation_pending());
        let during = document
            .unlock(&SlotOwner::user("bo"), &secret("b"))
            .unwrap();
        assert_eq!(during.data_key.as_bytes(), old_key.as_bytes());
        assert_eq!(
            during.next_data_key.unwrap().as_bytes(),
            next_key.as_bytes()
        );
        document.finish_rotation();
        assert!(!document.rotation_pending());
        for (owner, password) in [
            (SlotOwner::user("ada"), "a"),
            (SlotOwner::user("bo"), "b"),
            (SlotOwner::Recovery, "RECOVERY"),
        ] {
            let unlocked = document.unlock(&owner, &secret(password)).unwrap();
            assert_eq!(unlocked.data_key.as_bytes(), next_key.as_bytes());
            assert!(unlocked.next_data_key.is_none());
        }
    }

    #[test]
    fn the_document_round_trips_through_json() {
        let data_key = DataKey::generate();
        let document = document_with(&[("ada", "pw")], &data_key);
        let json = serde_json::to_string_pretty(&document).unwrap();
        assert!(!json.contains(&hex::encode(data_key.as_bytes())));
        let back: KeySlotsDocument = serde_json::from_str(&json).unwrap();
        let unlocked = back.unlock(&SlotOwner::user("ADA"), &secret("pw")).unwrap();
        assert_eq!(unlocked.data_key.as_bytes(), data_key.as_bytes());
    }
}
