//! The key-slot file on disk: locked read-modify-write with an atomic replace.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use clinicdesk_error::{Error, ErrorCode, Result};

use crate::KeySlotsDocument;

/// The key-slot file beside the store (`keyslots.json`), and its lock file.
#[derive(Debug, Clone)]
pub struct KeySlotFile {
    path: PathBuf,
}

impl KeySlotFile {
    pub fn new(path: impl Into<PathBuf>) -> KeySlotFile {
        KeySlotFile { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn exists(&self) -> bool {
        self.path.exists()
    }

    fn lock(&self) -> Result<File> {
        let lock_path = self.path.with_extension("lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)?;
        lock.lock()?;
        Ok(lock)
    }

    /// Reads and checks the file.
    pub fn read(&self) -> Result<KeySlotsDocument> {
        let text = match fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::new(
                    ErrorCode::IntegrityFailure,
                    format!(
                        "the key-slot file {} is missing, so no one can unlock the store; restore it from a backup of this data folder",
                        self.path.display()
                    ),
                ))
            }
            Err(error) => return Err(error.into()),
        };
        let document: KeySlotsDocument = serde_json::from_str(&text).map_err(|error| {
            Error::integrity(format!(
                "the key-slot file {} is damaged ({error}); restore it from a backup of this data folder",
                self.path.display()
            ))
        })?;
        document.validate()?;
        Ok(document)
    }

    /// Writes a brand-new file; refuses to overwrite one.
    pub fn create(&self, document: &KeySlotsDocument) -> Result<()> {
        let _lock = self.lock()?;
        if self.path.exists() {
            return Err(Error::new(
                ErrorCode::StoreAlreadyInitialized,
                format!("{} already exists", self.path.display()),
            ));
        }
        self.replace(document)
    }

    /// Read, change and write back under the lock, so two processes never lose each other's
    /// changes. The change is written only when `change` succeeds.
    pub fn update<T>(&self, change: impl FnOnce(&mut KeySlotsDocument) -> Result<T>) -> Result<T> {
        let _lock = self.lock()?;
        let mut document = self.read()?;
        let outcome = change(&mut document)?;
        document.generation += 1;
        self.replace(&document)?;
        Ok(outcome)
    }

    /// Temporary file in the same folder, fsync, rename over the old one, fsync the folder.
    fn replace(&self, document: &KeySlotsDocument) -> Result<()> {
        let folder = self
            .path
            .parent()
            .ok_or_else(|| Error::unexpected("the key-slot file has no parent folder"))?;
        let temporary = folder.join(format!(
            ".{}.{}.tmp",
            self.path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("keyslots"),
            uuid::Uuid::new_v4().simple()
        ));
        let json = serde_json::to_vec_pretty(document)
            .map_err(|error| Error::unexpected(format!("encoding the key slots: {error}")))?;
        let written = (|| -> std::io::Result<()> {
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&temporary)?;
            file.write_all(&json)?;
            file.sync_all()?;
            drop(file);
            fs::rename(&temporary, &self.path)?;
            File::open(folder)?.sync_all()
        })();
        if written.is_err() {
            let _ = fs::remove_file(&temporary);
        }
        written.map_err(|error| {
            Error::unexpected(format!("could not write {}: {error}", self.path.display()))
        })
    }
}
