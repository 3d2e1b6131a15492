//! The keys a backup is sealed to: the clinic's backup key pair (its secret half kept inside the
//! store) and the recovery slot (so the recovery key alone opens a backup when the workstation is
//! gone); and opening a backup of this clinic.

use std::path::Path;

use clinicdesk_backup::{BackupReader, RecipientKey, RecipientKind, RecoverySlot};
use clinicdesk_error::{Error, Result};
use clinicdesk_keyslot::{KeySlotFile, SlotOwner};
use clinicdesk_store::rusqlite::{params, Connection, OptionalExtension};
use clinicdesk_store::{sql_error, DataDir};
use rand::RngCore;

/// The clinic's backup key pair, made at the first backup: (public, secret).
pub(crate) fn backup_key(connection: &Connection) -> Result<Option<([u8; 32], [u8; 32])>> {
    let row: Option<(String, Vec<u8>)> = connection
        .query_row(
            "SELECT public_key, secret_key FROM backup_keys ORDER BY created_at LIMIT 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
        .map_err(sql_error("reading the backup key"))?;
    let Some((public, secret)) = row else {
        return Ok(None);
    };
    let public: [u8; 32] = hex::decode(public)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| Error::integrity("the store's backup key is damaged"))?;
    let secret: [u8; 32] = secret
        .try_into()
        .map_err(|_| Error::integrity("the store's backup key is damaged"))?;
    Ok(Some((public, secret)))
}

/// Makes the clinic's backup key pair; returns its public half.
pub(crate) fn create_backup_key(connection: &Connection, id: &str, at: &str) -> Result<[u8; 32]> {
    let mut secret = zeroize::Zeroizing::new([0u8; 32]);
    rand::rngs::OsRng.fill_bytes(secret.as_mut());
    let public = crypto_box::SecretKey::from(*secret).public_key();
    connection
        .execute(
            "INSERT INTO backup_keys (id, public_key, secret_key, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![id, hex::encode(public.as_bytes()), &secret[..], at],
        )
        .map_err(sql_error("creating the backup key"))?;
    Ok(*public.as_bytes())
}

/// The recovery slot, so the recovery key alone opens a backup when the workstation is lost.
pub(crate) fn recovery_recipient(data_dir: &DataDir) -> Result<Option<RecipientKey>> {
    let document = KeySlotFile::new(data_dir.key_slot_file()).read()?;
    let Some(slot) = document.slot(&SlotOwner::Recovery) else {
        return Ok(None);
    };
    let public_key: [u8; 32] = slot
        .public_key
        .as_slice()
        .try_into()
        .map_err(|_| Error::integrity("the recovery slot's public key is damaged"))?;
    let mut slot = slot.clone();
    slot.lockout = Default::default();
    slot.sealed_data_key = Vec::new();
    slot.sealed_next_data_key = None;
    Ok(Some(RecipientKey {
        kind: RecipientKind::Recovery,
        public_key,
        recovery_slot: Some(RecoverySlot {
            store_id: document.store_id.to_string(),
            slot,
        }),
    }))
}

/// Opens a backup of the clinic whose store is open on `connection`, with the clinic's backup key.
pub(crate) fn open_clinic_backup(connection: &Connection, file: &Path) -> Result<BackupReader> {
    let mut reader = BackupReader::open(file)?;
    let clinic_id = crate::recorded_write::clinic_id(connection)?;
    if reader.header().facts.clinic_id != clinic_id {
        return Err(Error::integrity(format!(
            "this backup belongs to another clinic ({}), not to this one; nothing was restored",
            reader.header().facts.clinic_name
        )));
    }
    let (_, secret) = backup_key(connection)?.ok_or_else(|| {
        Error::integrity("this store has never made a backup, so it holds no key that opens one")
    })?;
    reader.unlock(RecipientKind::Clinic, &secret)?;
    Ok(reader)
}
