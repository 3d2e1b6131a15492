//! Opening the store with the key from a slot (finishing an interrupted rotation), migrating it
//! with a pre-migration copy, and rotating the data key.

use std::fs::File;

use clinicdesk_error::{Error, ErrorCode, Result};
use clinicdesk_keyslot::{DataKey, KeySlotFile};
use clinicdesk_store::rusqlite::Connection;
use clinicdesk_store::{sql_error, DataDir};

use crate::environment::{format_timestamp, Environment};
use crate::permission::Permission;
use crate::session::Session;

fn rotation_file(data_dir: &DataDir) -> std::path::PathBuf {
    data_dir.root().join("clinicdesk.db.rekey")
}

/// Opens the store with the slot's key. If a rotation was interrupted, finishes it (the store is
/// already under the next key) or abandons it (it is not), so a crash at any step of a rotation
/// leaves a store that opens. Then migrates, copying the store first when it changes.
pub(crate) fn open_with_slot_keys(
    data_dir: &DataDir,
    slots: &KeySlotFile,
    data_key: DataKey,
    next_key: Option<DataKey>,
    environment: &Environment,
) -> Result<(Connection, DataKey)> {
    let store = data_dir.store_file();
    let (mut connection, key) = match clinicdesk_store::open_store(&store, &data_key) {
        Ok(connection) => {
            if next_key.is_some() {
                slots.update(|document| {
                    document.abandon_rotation();
                    Ok(())
                })?;
                let _ = std::fs::remove_file(rotation_file(data_dir));
            }
            (connection, data_key)
        }
        Err(error) if error.code == ErrorCode::IntegrityFailure && next_key.is_some() => {
            let next_key = next_key.expect("checked");
            let connection = clinicdesk_store::open_store(&store, &next_key)?;
            slots.update(|document| {
                document.finish_rotation();
                Ok(())
            })?;
            (connection, next_key)
        }
        Err(error) => return Err(error),
    };
    let copy_folder = data_dir.pre_migration_folder();
    let stamp = format_timestamp(environment.now());
    crate::store_schema::bring_up_to_date(
        &mut connection,
        environment.now(),
        |connection, from| {
            std::fs::create_dir_all(&copy_folder)?;
            let name = format!("clinicdesk-v{from}-{}.db", stamp.replace([':', '.'], "-"));
            clinicdesk_store::copy_store_encrypted(connection, &copy_folder.join(name), &key)
                .map_err(|error| {
                    error.context("taking the pre-migration copy (the store was not changed)")
                })
        },
    )?;
    Ok((connection, key))
}

impl Session {
    /// Rotates the data key: a new random key, sealed to every slot, the store rewritten under
    /// it and swapped in. Afterwards the old key opens nothing current. Needs every other
    /// Clinicdesk window on this workstation closed.
    pub fn rotate_data_key(&mut self) -> Result<()> {
        self.authorize("key.rotate", Some(Permission::KeyRotate), None)?;
        self.with_exclusive_store_lock(|session| session.rotate_under_exclusive_lock())
    }

    fn rotate_under_exclusive_lock(&mut self) -> Result<()> {
        let data_dir = self.data_dir.clone();
        let slots = KeySlotFile::new(data_dir.key_slot_file());
        self.write(|transaction| {
            transaction.audit(
                transaction
                    .entry("key.rotate")
                    .details(serde_json::json!({ "slots_resealed": "all" })),
            )?;
            Ok(())
        })?;
        let next_key = DataKey::generate();
        slots.update(|document| document.begin_rotation(&next_key))?;
        let staged = rotation_file(&data_dir);
        {
            let connection = self.connection()?;
            connection
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                .map_err(sql_error("checkpointing before key rotation"))?;
            clinicdesk_store::export_store_under_key(connection, &staged, &next_key)?;
        }
        if let Some(connection) = self.take_connection() {
            connection.close().map_err(|(_, error)| {
                Error::unexpected(format!("closing the store before key rotation: {error}"))
            })?;
        }
        for leftover in data_dir.store_files().iter().skip(1) {
            if leftover.exists() {
                std::fs::remove_file(leftover)?;
            }
        }
        std::fs::rename(&staged, data_dir.store_file())?;
        File::open(data_dir.root())?.sync_all()?;
        slots.update(|document| {
            document.finish_rotation();
            Ok(())
        })?;
        let connection = clinicdesk_store::open_store(&data_dir.store_file(), &next_key)?;
        self.replace_store(connection, next_key);
        Ok(())
    }
}
