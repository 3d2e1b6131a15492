//! Restores opened with the clinic's recovery key, when nobody can sign in to restore: a lost
//! workstation rebuilt in an empty data folder, or this workstation's store so damaged that it
//! cannot be opened (the damaged store is kept aside, never deleted).

use std::path::PathBuf;

use clinicdesk_backup::BackupReader;
use clinicdesk_error::{Error, ErrorCode, Result};
use clinicdesk_keyslot::{DataKey, KdfParams, KeySlotFile, SlotOwner, SlotSecret};
use clinicdesk_store::rusqlite::OptionalExtension;
use clinicdesk_store::{sql_error, DataDir};

use super::checks::{close_restored, decrypt_and_check, migrate_restored};
use super::files::{fresh_folder, restore_work_folder, rollback_folder, sync_folder};
use super::{step, BackupFacts, BackupProgress, BackupStage, RestoreOutcome};
use crate::audit::{self, AuditOutcome, NewAuditEntry};
use crate::change_journal;
use crate::permission::Role;

/// A new timeline for the change journal (no journal is replayed onto a state it did not start
/// from), `prepare` for what else the restored store needs, and the restore's audit entry, in
/// one transaction.
fn finish_restored_store(
    store: &mut clinicdesk_store::rusqlite::Connection,
    now: chrono::DateTime<chrono::Utc>,
    environment: &crate::environment::Environment,
    actor: crate::audit::AuditActor,
    details: serde_json::Value,
    prepare: impl FnOnce(&clinicdesk_store::rusqlite::Transaction<'_>) -> Result<()>,
) -> Result<()> {
    let transaction = store
        .transaction()
        .map_err(sql_error("starting the restore"))?;
    change_journal::start_transaction(&transaction, now)?;
    let after_txn = change_journal::position(&transaction)?
        .map(|position| position.txn)
        .unwrap_or(0);
    change_journal::start_timeline(&transaction, after_txn + 1)?;
    prepare(&transaction)?;
    audit::append(
        &transaction,
        environment,
        NewAuditEntry::new(now, actor, "backup.restore", AuditOutcome::Success).details(details),
    )?;
    transaction
        .commit()
        .map_err(sql_error("finishing the restored store"))
}

/// What restoring onto a new workstation needs: the backup, the clinic's recovery key (the
/// sheet kept in the safe), and who the first administrator is and their new password.
pub struct NewWorkstationRestore {
    pub backup_file: PathBuf,
    /// As typed: case, spaces and dashes do not matter.
    pub recovery_key: String,
    pub admin_username: String,
    pub admin_password: SlotSecret,
    pub kdf: KdfParams,
}

/// Rebuilds a clinic's store in an empty data folder from a backup, when the workstation and its
/// store are gone: the recovery key opens the backup; the store gets a new data key, a recovery
/// slot for the same recovery key and a slot for the named administrator. Everyone else gets a
/// new password from the administrator (`user reset-password`), because their slots were on the
/// lost machine. Checked as completely as any restore before the store appears.
pub fn restore_onto_new_workstation(
    data_dir: &DataDir,
    request: NewWorkstationRestore,
    environment: &crate::environment::Environment,
    progress: &mut dyn FnMut(BackupProgress),
) -> Result<RestoreOutcome> {
    if data_dir.store_file().exists() {
        return Err(Error::new(
            ErrorCode::StoreAlreadyInitialized,
            format!(
                "{} already holds a store; restore into an empty data folder, or use `backup restore` while signed in",
                data_dir.root().display()
            ),
        ));
    }
    let recovery_key = clinicdesk_keyslot::normalise_recovery_key(&request.recovery_key);
    let mut reader = BackupReader::open(&request.backup_file)?;
    reader.unlock_with_recovery_key(&recovery_key)?;
    let header = reader.header().clone();
    crate::session::create_private_folder(data_dir.root())?;
    let work = restore_work_folder(data_dir);
    fresh_folder(&work)?;
    let incoming = work.join("incoming.db");
    let data_key = DataKey::generate();
    let now = environment.now();
    let restored = (|| -> Result<(RestoreOutcome, crate::session::SessionUser)> {
        let mut store = decrypt_and_check(&mut reader, &incoming, &data_key, progress)?;
        let migrated_from_schema = migrate_restored(&mut store, now)?;
        let username = request.admin_username.trim().to_lowercase();
        let admin: Option<(crate::session::SessionUser, bool)> = store
            .query_row(
                "SELECT id, username, display_name, role, disabled FROM users WHERE username = ?1 AND deleted_at IS NULL",
                [&username],
                |row| {
                    Ok((
                        crate::session::SessionUser {
                            id: row.get(0)?,
                            username: row.get(1)?,
                            display_name: row.get(2)?,
                            role: row.get(3)?,
                        },
                        row.get(4)?,
                    ))
                },
            )
            .optional()
            .map_err(sql_error("reading the administrator"))?;
        let admin = match admin {
            Some((user, false)) if user.role == Role::Administrator => user,
            _ => {
                return Err(Error::invalid_input(format!(
                    "the backup has no active administrator named {username}; name one of its administrators"
                )))
            }
        };
        crate::password_policy::check_new_password(
            request.admin_password.as_str(),
            &admin.username,
            &admin.display_name,
        )?;
        let result = RestoreOutcome {
            backup: BackupFacts::from_header(&request.backup_file, &header),
            rollback_copy: String::new(),
            migrated_from_schema,
            replayed_transactions: 0,
            audit_entries_kept: 0,
            restored_to: None,
        };
        let actor = crate::audit::AuditActor {
            user_id: Some(admin.id.to_string()),
            username: Some(admin.username.clone()),
        };
        let details = serde_json::json!({
            "file": request.backup_file.display().to_string(),
            "backup_id": header.facts.backup_id,
            "backup_created_at": header.facts.created_at,
            "new_workstation": true,
            "opened_with": "recovery key",
        });
        // The new key-slot file starts counting again; the store must not mistake that for an
        // old file put back. The new workstation is not the one the backup came from: it does
        // not sync under that one's name, and is enrolled with a code of its own.
        let forget_generation = |transaction: &clinicdesk_store::rusqlite::Transaction<'_>| {
            transaction
                .execute(
                    "DELETE FROM store_meta WHERE key = 'keyslot_generation'",
                    [],
                )
                .map_err(sql_error("resetting the key-slot generation"))?;
            crate::sync::forget_enrolment(transaction)
        };
        finish_restored_store(
            &mut store,
            now,
            environment,
            actor,
            details,
            forget_generation,
        )?;
        close_restored(store, &incoming)?;
        Ok((result, admin))
    })();
    let (result, admin) = match restored {
        Ok(done) => done,
        Err(error) => {
            let _ = std::fs::remove_dir_all(&work);
            return Err(error);
        }
    };
    let mut document = clinicdesk_keyslot::KeySlotsDocument::new(
        uuid::Uuid::new_v4(),
        &header.facts.clinic_name,
        request.kdf,
    );
    document.put_slot(
        SlotOwner::user(&admin.username),
        &request.admin_password,
        &data_key,
    )?;
    document.put_slot(SlotOwner::Recovery, &recovery_key, &data_key)?;
    let slots = KeySlotFile::new(data_dir.key_slot_file());
    let _ = std::fs::remove_file(slots.path());
    slots.create(&document)?;
    step(progress, BackupStage::Swap, false);
    std::fs::rename(&incoming, data_dir.store_file())?;
    sync_folder(data_dir.root())?;
    step(progress, BackupStage::Swap, true);
    let _ = std::fs::remove_dir_all(&work);
    Ok(result)
}

/// What restoring over this workstation's unreadable store needs: the backup and the clinic's
/// recovery key.
pub struct UnreadableStoreRestore {
    pub backup_file: PathBuf,
    /// As typed: case, spaces and dashes do not matter.
    pub recovery_key: String,
}

/// Restores a backup over this workstation's store when the store is so damaged that nobody can
/// sign in (the way out a manager would take from the Backups screen is closed). The recovery
/// key opens both the key-slot file's recovery slot (the store's data key, so every person's
/// password keeps working) and the backup. Refused when the store opens and is not marked
/// damaged: then a manager restores while signed in, which carries the audit trail forward. The
/// damaged store moves to `rollback/`; entries of its audit trail written after the backup cannot
/// be read, and the restore's own audit entry says so.
pub fn restore_unreadable_store(
    data_dir: &DataDir,
    request: UnreadableStoreRestore,
    environment: &crate::environment::Environment,
    progress: &mut dyn FnMut(BackupProgress),
) -> Result<RestoreOutcome> {
    crate::session::require_store(data_dir)?;
    let _alone = crate::session::exclusive_store_lock(data_dir)?;
    let recovery_key = clinicdesk_keyslot::normalise_recovery_key(&request.recovery_key);
    let data_key = KeySlotFile::new(data_dir.key_slot_file())
        .read()?
        .unlock(&SlotOwner::Recovery, &recovery_key)
        .map_err(|error| match error.code {
            ErrorCode::AuthenticationFailed => Error::new(
                ErrorCode::AuthenticationFailed,
                "This recovery key does not open this workstation's store; check it against the sheet kept when the clinic was set up",
            ),
            _ => error,
        })?
        .data_key;
    let marked = crate::store_health::read_mark(data_dir).is_some();
    let opens = clinicdesk_store::probe_root_pages(&data_dir.store_file(), &data_key).is_ok();
    if opens && !marked {
        return Err(Error::conflict(
            "The store on this workstation opens and is not damaged: a manager or administrator signs in and restores under Backups, which keeps the audit trail written since the backup",
        ));
    }
    let mut reader = BackupReader::open(&request.backup_file)?;
    reader.unlock_with_recovery_key(&recovery_key)?;
    let header = reader.header().clone();
    let work = restore_work_folder(data_dir);
    fresh_folder(&work)?;
    let incoming = work.join("incoming.db");
    let now = environment.now();
    let restored = (|| -> Result<RestoreOutcome> {
        let mut store = decrypt_and_check(&mut reader, &incoming, &data_key, progress)?;
        let migrated_from_schema = migrate_restored(&mut store, now)?;
        let details = serde_json::json!({
            "file": request.backup_file.display().to_string(),
            "backup_id": header.facts.backup_id,
            "backup_created_at": header.facts.created_at,
            "replaced_unreadable_store": true,
            "opened_with": "recovery key",
            "audit_after_backup": "not carried forward: the damaged store could not be read",
        });
        let actor = crate::audit::AuditActor {
            user_id: None,
            username: None,
        };
        finish_restored_store(&mut store, now, environment, actor, details, |_| Ok(()))?;
        close_restored(store, &incoming)?;
        Ok(RestoreOutcome {
            backup: BackupFacts::from_header(&request.backup_file, &header),
            rollback_copy: String::new(),
            migrated_from_schema,
            replayed_transactions: 0,
            audit_entries_kept: 0,
            restored_to: None,
        })
    })();
    let mut outcome = match restored {
        Ok(outcome) => outcome,
        Err(error) => {
            let _ = std::fs::remove_dir_all(&work);
            return Err(error);
        }
    };
    step(progress, BackupStage::Swap, false);
    let kept = rollback_folder(data_dir);
    std::fs::create_dir_all(&kept)?;
    let damaged = kept.join(format!("damaged-{}.db", now.format("%Y%m%dT%H%M%S")));
    let store_file = data_dir.store_file();
    for suffix in ["-wal", "-shm"] {
        let beside = PathBuf::from(format!("{}{suffix}", store_file.display()));
        if beside.exists() {
            std::fs::rename(&beside, format!("{}{suffix}", damaged.display()))?;
        }
    }
    std::fs::rename(&store_file, &damaged)?;
    std::fs::rename(&incoming, &store_file)?;
    sync_folder(&kept)?;
    sync_folder(data_dir.root())?;
    crate::store_health::clear_mark(data_dir);
    step(progress, BackupStage::Swap, true);
    let _ = std::fs::remove_dir_all(&work);
    outcome.rollback_copy = damaged.display().to_string();
    Ok(outcome)
}
