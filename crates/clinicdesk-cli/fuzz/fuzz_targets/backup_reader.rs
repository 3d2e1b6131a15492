//! The backup file reader on any bytes (a backup file comes from outside: a USB stick, a share):
//! never a panic, and a file that opens and unlocks reads to its end or stops with an error.
//! The seed corpus holds a real three-page backup (page size 512) whose file key is sealed to the
//! clinic key made from the 32 bytes `7`, which this target also holds, so mutations get past the
//! header into the authenticated chunks.

#![no_main]

use clinicdesk_backup::{BackupReader, RecipientKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let folder = std::env::temp_dir().join(format!("backup-reader-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&folder).unwrap();
    let path = folder.join("input.cdbackup");
    std::fs::write(&path, bytes).unwrap();
    let Ok(mut reader) = BackupReader::open(&path) else {
        return;
    };
    let pages = reader.header().facts.page_count;
    if reader.unlock(RecipientKind::Clinic, &[7u8; 32]).is_err() {
        return;
    }
    let mut chunks = 0u64;
    while let Ok(Some(chunk)) = reader.next_chunk() {
        assert!(!chunk.is_empty());
        chunks += 1;
        assert!(chunks <= pages.max(1), "more chunks than the header promises");
    }
});
