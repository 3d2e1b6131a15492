//! Secret values that are wiped from memory when dropped: the data key and slot secrets.

use clinicdesk_error::{Error, Result};
use rand::rngs::OsRng;
use rand::RngCore;
use zeroize::{Zeroize, Zeroizing};

/// The store's random 256-bit SQLCipher key. Never written anywhere unwrapped.
pub struct DataKey(Zeroizing<[u8; 32]>);

impl DataKey {
    pub fn generate() -> DataKey {
        let mut bytes = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(bytes.as_mut());
        DataKey(bytes)
    }

    pub fn from_slice(bytes: &[u8]) -> Result<DataKey> {
        let mut key = Zeroizing::new([0u8; 32]);
        if bytes.len() != 32 {
            return Err(Error::integrity("a data key must be 32 bytes"));
        }
        key.copy_from_slice(bytes);
        Ok(DataKey(key))
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The raw-key literal SQLCipher takes in `PRAGMA key` (`x'…'`, no passphrase derivation).
    pub fn sqlcipher_literal(&self) -> Zeroizing<String> {
        Zeroizing::new(format!("x'{}'", hex::encode(self.0.as_ref())))
    }

    pub fn duplicate(&self) -> DataKey {
        DataKey(Zeroizing::new(*self.0))
    }
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(..)")
    }
}

/// A password or recovery key on its way into Argon2id.
pub struct SlotSecret(String);

impl SlotSecret {
    pub fn new(text: String) -> SlotSecret {
        SlotSecret(text)
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Drop for SlotSecret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl std::fmt::Debug for SlotSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SlotSecret(..)")
    }
}
