//! The backup file format: a readable header line, then the store's pages encrypted and
//! authenticated in chunks with STREAM (ChaCha20-Poly1305, big-endian 32-bit counter).
//!
//! ```text
//! CLINICDESK BACKUP\n                      magic line
//! {"format_version":1,...}\n              header: JSON on one line, readable with `head -2`
//! chunk 0 .. chunk n-1                    PAGES_PER_CHUNK pages each (the last may hold fewer),
//!                                         each followed by its 16-byte tag
//! ```
//!
//! Every chunk is authenticated with the SHA-256 of the magic and header bytes as associated
//! data, and STREAM puts the chunk's position and a last-chunk flag in its nonce. So an edited
//! header, a flipped bit anywhere, reordered or dropped chunks, and a truncated or extended file
//! all fail authentication. The page count is in the header, so the reader knows exactly how
//! many bytes must follow.
//!
//! The chunks are encrypted under a random file key. The header carries that key sealed
//! (X25519 sealed box) to each [`Recipient`]: the clinic's backup key pair, whose secret half
//! lives inside the encrypted store, and the clinic's recovery key slot. Nothing in the file is
//! derived from a password, so the file alone offers nothing to guess at. This crate knows
//! files and keys, not SQL: the core reads and writes the pages.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;

use aead::stream::{DecryptorBE32, EncryptorBE32};
use aead::KeyInit;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use chacha20poly1305::ChaCha20Poly1305;
use clinicdesk_error::{Error, Result};
use rand::rngs::OsRng;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

pub use clinicdesk_keyslot::KeySlot;

/// The first line of every backup file.
pub const MAGIC: &[u8] = b"CLINICDESK BACKUP\n";
/// The format this code writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// Pages per encrypted chunk (64 KiB of 4 KiB pages): memory stays bounded by one chunk.
pub const PAGES_PER_CHUNK: u32 = 16;
/// The file name extension of backups.
pub const EXTENSION: &str = "cdbackup";

const TAG_BYTES: u64 = 16;
const STREAM_NONCE_BYTES: usize = 7;
const MAX_HEADER_BYTES: u64 = 1 << 20;

/// Where the audit chain stood when the snapshot was taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHead {
    pub seq: i64,
    pub entry_hash: String,
}

/// Who can open the file key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecipientKind {
    /// The clinic's backup key pair; its secret half is inside the store, so any signed-in
    /// manager or administrator of the clinic opens the backup.
    Clinic,
    /// The clinic's recovery key (the sheet kept in the safe), for a workstation that was lost.
    Recovery,
}

/// The file key sealed to one public key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Recipient {
    pub kind: RecipientKind,
    pub public_key: String,
    pub sealed_file_key: String,
    /// For [`RecipientKind::Recovery`]: the recovery key slot (its secret half wrapped by the
    /// recovery key under Argon2id), and the key-slot file's store id it is bound to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_slot: Option<RecoverySlot>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecoverySlot {
    pub store_id: String,
    pub slot: KeySlot,
}

/// What the readable header says about the snapshot. Authenticated by every chunk.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BackupHeader {
    pub format_version: u32,
    #[serde(flatten)]
    pub facts: SnapshotFacts,
    pub pages_per_chunk: u32,
    pub stream_nonce: String,
    pub recipients: Vec<Recipient>,
}

/// The facts a snapshot supplies; the writer adds the format, chunking and key fields.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SnapshotFacts {
    pub backup_id: String,
    pub created_at: String,
    pub created_by: Option<String>,
    pub scheduled: bool,
    pub app_version: String,
    pub schema_version: u32,
    pub clinic_id: String,
    pub clinic_name: String,
    pub row_counts: BTreeMap<String, i64>,
    pub audit_chain_head: ChainHead,
    pub change_journal_txn: i64,
    /// The journal timeline the snapshot belongs to (a restore starts a new one).
    pub change_journal_timeline: String,
    pub page_size: u32,
    pub page_count: u64,
}

/// A public key to seal the file key to.
pub struct RecipientKey {
    pub kind: RecipientKind,
    pub public_key: [u8; 32],
    pub recovery_slot: Option<RecoverySlot>,
}

impl BackupHeader {
    /// Number of chunks that follow the header.
    pub fn chunk_count(&self) -> u64 {
        self.facts
            .page_count
            .div_ceil(u64::from(self.pages_per_chunk))
    }

    /// The plaintext size of the snapshot (the store's size).
    pub fn snapshot_bytes(&self) -> u64 {
        self.facts.page_count * u64::from(self.facts.page_size)
    }

    fn validate(&self) -> Result<()> {
        if self.format_version != FORMAT_VERSION {
            return Err(Error::integrity(format!(
                "the backup has format version {}, but this Clinicdesk reads version {FORMAT_VERSION}",
                self.format_version
            )));
        }
        let page_size_ok = self.facts.page_size.is_power_of_two()
            && (512..=65_536).contains(&self.facts.page_size);
        if !page_size_ok
            || self.facts.page_count == 0
            || self.facts.page_count > 1 << 40
            || !(1..=256).contains(&self.pages_per_chunk)
            || self.chunk_count() >= u64::from(u32::MAX)
        {
            return Err(damaged("its header describes an impossible snapshot"));
        }
        if hex::decode(&self.stream_nonce).map(|n| n.len()) != Ok(STREAM_NONCE_BYTES) {
            return Err(damaged("its header's stream nonce is malformed"));
        }
        Ok(())
    }

    fn chunk_plain_bytes(&self, index: u64) -> usize {
        let first_page = index * u64::from(self.pages_per_chunk);
        let pages = (self.facts.page_count - first_page).min(u64::from(self.pages_per_chunk));
        (pages * u64::from(self.facts.page_size)) as usize
    }
}

fn damaged(what: &str) -> Error {
    Error::integrity(format!(
        "the backup file is damaged or was altered: {what}; nothing was restored"
    ))
}

/// Writes one backup file: header first, then pages in order, then [`BackupWriter::finish`].
pub struct BackupWriter {
    out: BufWriter<File>,
    header: BackupHeader,
    encryptor: Option<EncryptorBE32<ChaCha20Poly1305>>,
    aad: [u8; 32],
    buffer: Vec<u8>,
    chunks_written: u64,
    pages_written: u64,
}

impl BackupWriter {
    /// Starts the file at `path` (created new; an existing file is refused).
    pub fn create(
        path: &Path,
        facts: SnapshotFacts,
        recipients: &[RecipientKey],
    ) -> Result<BackupWriter> {
        let file_key = Zeroizing::new({
            let mut key = [0u8; 32];
            OsRng.fill_bytes(&mut key);
            key
        });
        let mut nonce = [0u8; STREAM_NONCE_BYTES];
        OsRng.fill_bytes(&mut nonce);
        let mut sealed = Vec::with_capacity(recipients.len());
        for recipient in recipients {
            let public_key = crypto_box::PublicKey::from(recipient.public_key);
            let sealed_file_key = public_key
                .seal(&mut OsRng, file_key.as_ref())
                .map_err(|_| Error::unexpected("sealing the backup's file key failed"))?;
            sealed.push(Recipient {
                kind: recipient.kind,
                public_key: hex::encode(recipient.public_key),
                sealed_file_key: BASE64.encode(sealed_file_key),
                recovery_slot: recipient.recovery_slot.clone(),
            });
        }
        let header = BackupHeader {
            format_version: FORMAT_VERSION,
            facts,
            pages_per_chunk: PAGES_PER_CHUNK,
            stream_nonce: hex::encode(nonce),
            recipients: sealed,
        };
        header.validate()?;
        let header_line = serde_json::to_vec(&header)
            .map_err(|error| Error::unexpected(format!("writing the backup header: {error}")))?;
        let file = File::options()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|error| Error::unexpected(format!("creating {}: {error}", path.display())))?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        out.write_all(MAGIC)?;
        out.write_all(&header_line)?;
        out.write_all(b"\n")?;
        let aad = header_digest(&header_line);
        let cipher = ChaCha20Poly1305::new(file_key.as_ref().into());
        let encryptor = EncryptorBE32::from_aead(cipher, nonce.as_ref().into());
        let chunk_bytes = (PAGES_PER_CHUNK * header.facts.page_size) as usize;
        Ok(BackupWriter {
            out,
            header,
            encryptor: Some(encryptor),
            aad,
            buffer: Vec::with_capacity(chunk_bytes + TAG_BYTES as usize),
            chunks_written: 0,
            pages_written: 0,
        })
    }

    pub fn header(&self) -> &BackupHeader {
        &self.header
    }

    /// Appends the next page (pages come in order, 1 to page_count).
    pub fn write_page(&mut self, page: &[u8]) -> Result<()> {
        if page.len() != self.header.facts.page_size as usize
            || self.pages_written >= self.header.facts.page_count
        {
            return Err(Error::unexpected(format!(
                "the snapshot changed while it was read (page {} of {}, {} bytes)",
                self.pages_written + 1,
                self.header.facts.page_count,
                page.len()
            )));
        }
        self.buffer.extend_from_slice(page);
        self.pages_written += 1;
        if self.buffer.len() == self.header.chunk_plain_bytes(self.chunks_written) {
            self.seal_chunk()?;
        }
        Ok(())
    }

    fn seal_chunk(&mut self) -> Result<()> {
        let last = self.chunks_written + 1 == self.header.chunk_count();
        let failed = |_| Error::unexpected("encrypting a backup chunk failed");
        if last {
            let encryptor = self
                .encryptor
                .take()
                .ok_or_else(|| Error::unexpected("the backup is already complete"))?;
            encryptor
                .encrypt_last_in_place(&self.aad, &mut self.buffer)
                .map_err(failed)?;
        } else {
            let encryptor = self
                .encryptor
                .as_mut()
                .ok_or_else(|| Error::unexpected("the backup is already complete"))?;
            encryptor
                .encrypt_next_in_place(&self.aad, &mut self.buffer)
                .map_err(failed)?;
        }
        self.out.write_all(&self.buffer)?;
        self.buffer.clear();
        self.chunks_written += 1;
        Ok(())
    }

    /// Checks every page arrived, flushes and fsyncs the file.
    pub fn finish(self) -> Result<BackupHeader> {
        if self.pages_written != self.header.facts.page_count || self.encryptor.is_some() {
            return Err(Error::unexpected(format!(
                "the snapshot ended early ({} of {} pages)",
                self.pages_written, self.header.facts.page_count
            )));
        }
        let file = self
            .out
            .into_inner()
            .map_err(|error| Error::unexpected(format!("writing the backup: {}", error.error())))?;
        file.sync_all()?;
        Ok(self.header)
    }
}

fn header_digest(header_line: &[u8]) -> [u8; 32] {
    let mut digest = Sha256::new();
    digest.update(MAGIC);
    digest.update(header_line);
    digest.update(b"\n");
    digest.finalize().into()
}

/// Reads only the header of a backup file (for listings): nothing is decrypted.
pub fn read_header(path: &Path) -> Result<BackupHeader> {
    let file = File::open(path)
        .map_err(|error| Error::not_found(format!("cannot open {}: {error}", path.display())))?;
    let mut input = BufReader::new(file);
    Ok(read_header_from(&mut input)?.0)
}

fn read_header_from(input: &mut BufReader<File>) -> Result<(BackupHeader, [u8; 32], u64)> {
    let mut magic = vec![0u8; MAGIC.len()];
    input
        .read_exact(&mut magic)
        .map_err(|_| Error::integrity("this is not a Clinicdesk backup file (it is too short)"))?;
    if magic != MAGIC {
        return Err(Error::integrity(
            "this is not a Clinicdesk backup file (its first line is not CLINICDESK BACKUP)",
        ));
    }
    let mut line = Vec::new();
    input
        .by_ref()
        .take(MAX_HEADER_BYTES)
        .read_until(b'\n', &mut line)?;
    if line.last() != Some(&b'\n') {
        return Err(damaged("its header is cut off or too long"));
    }
    line.pop();
    let header: BackupHeader =
        serde_json::from_slice(&line).map_err(|_| damaged("its header is not readable"))?;
    header.validate()?;
    let header_bytes = MAGIC.len() as u64 + line.len() as u64 + 1;
    Ok((header, header_digest(&line), header_bytes))
}

/// A backup opened for decryption: yields the snapshot's pages chunk by chunk, and fails on the
/// first chunk that does not authenticate, or if the file is longer or shorter than its header
/// says.
pub struct BackupReader {
    input: BufReader<File>,
    header: BackupHeader,
    aad: [u8; 32],
    decryptor: Option<DecryptorBE32<ChaCha20Poly1305>>,
    chunk_index: u64,
    buffer: Vec<u8>,
}

/// A file key recovered from one of the header's recipients.
pub struct FileKey(Zeroizing<[u8; 32]>);

impl BackupReader {
    pub fn open(path: &Path) -> Result<BackupReader> {
        let file = File::open(path).map_err(|error| {
            Error::not_found(format!("cannot open {}: {error}", path.display()))
        })?;
        let length = file.metadata()?.len();
        let mut input = BufReader::with_capacity(1 << 20, file);
        let (header, aad, header_bytes) = read_header_from(&mut input)?;
        let expected = header_bytes + header.snapshot_bytes() + header.chunk_count() * TAG_BYTES;
        if length != expected {
            return Err(damaged(&format!(
                "it is {length} bytes long but its header promises {expected} (truncated or extended)"
            )));
        }
        Ok(BackupReader {
            input,
            header,
            aad,
            decryptor: None,
            chunk_index: 0,
            buffer: Vec::new(),
        })
    }

    pub fn header(&self) -> &BackupHeader {
        &self.header
    }

    /// Opens the file key with the secret half of `kind`'s key pair.
    pub fn unlock(&mut self, kind: RecipientKind, secret_key: &[u8; 32]) -> Result<()> {
        let secret = crypto_box::SecretKey::from(*secret_key);
        let public = hex::encode(secret.public_key().as_bytes());
        let recipient = self
            .header
            .recipients
            .iter()
            .find(|recipient| recipient.kind == kind && recipient.public_key == public)
            .ok_or_else(|| {
                Error::integrity(
                    "this backup was not made with this clinic's backup key, so it cannot be opened here (a backup of another clinic, or another installation of it)",
                )
            })?;
        let sealed = BASE64
            .decode(&recipient.sealed_file_key)
            .map_err(|_| damaged("its sealed file key is malformed"))?;
        let opened =
            Zeroizing::new(secret.unseal(&sealed).map_err(|_| {
                damaged("its file key does not open with this clinic's backup key")
            })?);
        let key: [u8; 32] = opened
            .as_slice()
            .try_into()
            .map_err(|_| damaged("its file key has the wrong length"))?;
        self.set_file_key(FileKey(Zeroizing::new(key)))
    }

    /// Opens the file key with the clinic's recovery key (when the workstation and its store are
    /// gone): the recovery slot in the header is unwrapped with it.
    pub fn unlock_with_recovery_key(
        &mut self,
        recovery_key: &clinicdesk_keyslot::SlotSecret,
    ) -> Result<()> {
        let slot = self
            .header
            .recipients
            .iter()
            .find_map(|recipient| recipient.recovery_slot.clone())
            .ok_or_else(|| damaged("it carries no recovery slot"))?;
        let store_id = slot
            .store_id
            .parse()
            .map_err(|_| damaged("its recovery slot is malformed"))?;
        let secret_key =
            clinicdesk_keyslot::unwrap_slot_secret_key(store_id, &slot.slot, recovery_key)
                .map_err(|_| Error::integrity("the recovery key does not open this backup"))?;
        self.unlock(RecipientKind::Recovery, &secret_key)
    }

    fn set_file_key(&mut self, key: FileKey) -> Result<()> {
        let nonce = hex::decode(&self.header.stream_nonce)
            .map_err(|_| damaged("its nonce is malformed"))?;
        let cipher = ChaCha20Poly1305::new(key.0.as_ref().into());
        self.decryptor = Some(DecryptorBE32::from_aead(cipher, nonce.as_slice().into()));
        Ok(())
    }

    /// The next chunk's pages (`page_size` bytes each), or `None` after the last chunk.
    pub fn next_chunk(&mut self) -> Result<Option<&[u8]>> {
        let count = self.header.chunk_count();
        if self.chunk_index >= count {
            return Ok(None);
        }
        let plain = self.header.chunk_plain_bytes(self.chunk_index);
        self.buffer.resize(plain + TAG_BYTES as usize, 0);
        self.input
            .read_exact(&mut self.buffer)
            .map_err(|_| damaged("it ends in the middle of a chunk"))?;
        let last = self.chunk_index + 1 == count;
        let which = self.chunk_index;
        let failed = |_| {
            damaged(&format!(
                "chunk {} of {count} failed authentication",
                which + 1
            ))
        };
        if last {
            let decryptor = self
                .decryptor
                .take()
                .ok_or_else(|| Error::unexpected("the backup's file key was not opened"))?;
            decryptor
                .decrypt_last_in_place(&self.aad, &mut self.buffer)
                .map_err(failed)?;
        } else {
            let decryptor = self
                .decryptor
                .as_mut()
                .ok_or_else(|| Error::unexpected("the backup's file key was not opened"))?;
            decryptor
                .decrypt_next_in_place(&self.aad, &mut self.buffer)
                .map_err(failed)?;
        }
        self.chunk_index += 1;
        Ok(Some(&self.buffer))
    }

    /// Chunks read so far, for progress.
    pub fn chunks_read(&self) -> u64 {
        self.chunk_index
    }
}
