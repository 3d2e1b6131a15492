//! The folders and files backups use: the backup folder's `.cdbackup` files, the scratch folder
//! for restores and verifies, the rollback copies, and syncing folders after a rename.

use std::fs::File;
use std::path::{Path, PathBuf};

use clinicdesk_error::{Error, Result};
use clinicdesk_store::DataDir;

use super::BackupSettings;

/// Where backups go: the configured folder, else `backups` inside the data folder.
pub(crate) fn folder_in_use(data_dir: &DataDir, settings: &BackupSettings) -> PathBuf {
    if settings.folder.is_empty() {
        default_folder(data_dir)
    } else {
        PathBuf::from(&settings.folder)
    }
}

/// `backups` inside the data folder.
pub(crate) fn default_folder(data_dir: &DataDir) -> PathBuf {
    data_dir.root().join("backups")
}

/// Scratch space for decrypting backups (each verify and restore in a folder of its own).
pub(crate) fn restore_work_folder(data_dir: &DataDir) -> PathBuf {
    data_dir.root().join("restore-work")
}

/// Removes one verify's or restore's scratch folder, and the scratch space when nothing else is
/// in it.
pub(crate) fn remove_scratch(folder: &Path) {
    let _ = std::fs::remove_dir_all(folder);
    if let Some(parent) = folder.parent() {
        let _ = std::fs::remove_dir(parent);
    }
}

/// The stores a restore replaced, kept so it can be undone by hand.
pub(crate) fn rollback_folder(data_dir: &DataDir) -> PathBuf {
    data_dir.root().join("rollback")
}

/// Empties (or creates) `folder`.
pub(crate) fn fresh_folder(folder: &Path) -> Result<()> {
    if folder.exists() {
        std::fs::remove_dir_all(folder)?;
    }
    std::fs::create_dir_all(folder)?;
    Ok(())
}

/// Makes a rename or a new file in `folder` durable.
pub(crate) fn sync_folder(folder: &Path) -> Result<()> {
    File::open(folder)?.sync_all()?;
    Ok(())
}

/// The `.cdbackup` files directly in `folder` (none when it does not exist yet).
pub(crate) fn backup_files(folder: &Path) -> Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(folder) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => {
            return Err(Error::unexpected(format!(
                "the backup folder {} cannot be read ({error}); is the drive connected?",
                folder.display()
            )))
        }
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| {
            path.extension().and_then(|ext| ext.to_str()) == Some(clinicdesk_backup::EXTENSION)
        })
        .collect();
    files.sort();
    Ok(files)
}
