//! Every kind of damage to a backup file is refused before a single page is handed out as good.

use std::collections::BTreeMap;
use std::path::Path;

use clinicdesk_backup::{
    BackupReader, BackupWriter, ChainHead, RecipientKey, RecipientKind, SnapshotFacts,
};
use clinicdesk_error::ErrorCode;

const PAGE: usize = 4096;
const PAGES: u64 = 40; // three chunks: 16 + 16 + 8 pages

fn key_pair(seed: u8) -> ([u8; 32], [u8; 32]) {
    let secret = [seed; 32];
    let public = *crypto_box::SecretKey::from(secret).public_key().as_bytes();
    (secret, public)
}

fn page(number: u64) -> Vec<u8> {
    (0..PAGE)
        .map(|i| (number as usize * 31 + i) as u8)
        .collect()
}

fn write_backup(path: &Path, clinic_public: [u8; 32]) {
    let facts = SnapshotFacts {
        backup_id: "0b7c6a64-5b32-4f7e-9d6c-3e2f7f6a1b00".into(),
        created_at: "2026-11-21T10:00:00.000Z".into(),
        created_by: Some("manager".into()),
        scheduled: false,
        app_version: "0.1.0".into(),
        schema_version: 3,
        clinic_id: "clinic-a".into(),
        clinic_name: "Clinic A".into(),
        row_counts: BTreeMap::from([("patients".into(), 12)]),
        audit_chain_head: ChainHead {
            seq: 7,
            entry_hash: "ab".repeat(32),
        },
        change_journal_txn: 9,
        change_journal_timeline: "0".repeat(32),
        page_size: PAGE as u32,
        page_count: PAGES,
    };
    let recipients = [RecipientKey {
        kind: RecipientKind::Clinic,
        public_key: clinic_public,
        recovery_slot: None,
    }];
    let mut writer = BackupWriter::create(path, facts, &recipients).unwrap();
    for number in 1..=PAGES {
        writer.write_page(&page(number)).unwrap();
    }
    writer.finish().unwrap();
}

/// Reads the whole file with `secret`; the pages on success, the error code otherwise.
fn read_all(path: &Path, secret: &[u8; 32]) -> Result<Vec<u8>, ErrorCode> {
    let mut reader = BackupReader::open(path).map_err(|e| e.code)?;
    reader
        .unlock(RecipientKind::Clinic, secret)
        .map_err(|e| e.code)?;
    let mut all = Vec::new();
    while let Some(chunk) = reader.next_chunk().map_err(|e| e.code)? {
        all.extend_from_slice(chunk);
    }
    Ok(all)
}

fn header_length(bytes: &[u8]) -> usize {
    let second_newline = bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(1)
        .unwrap()
        .0;
    second_newline + 1
}

/// One damage: its name and what it does to the file's bytes.
type Damage = (&'static str, Box<dyn Fn(&mut Vec<u8>)>);

fn check(damages: Vec<Damage>) {
    let folder = tempfile::tempdir().unwrap();
    let original = folder.path().join("good.cdbackup");
    let (secret, public) = key_pair(1);
    write_backup(&original, public);
    let good = std::fs::read(&original).unwrap();
    let expected: Vec<u8> = (1..=PAGES).flat_map(page).collect();
    assert_eq!(
        read_all(&original, &secret).unwrap(),
        expected,
        "the undamaged file reads back"
    );
    for (name, damage) in damages {
        let mut bytes = good.clone();
        damage(&mut bytes);
        assert_ne!(bytes, good, "{name}: the damage changed nothing");
        let path = folder.path().join("damaged.cdbackup");
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(
            read_all(&path, &secret),
            Err(ErrorCode::IntegrityFailure),
            "{name}"
        );
    }
}

#[test]
fn truncation_bit_flips_reordering_header_edits_and_appended_bytes_are_all_refused() {
    let chunk = PAGE * 16 + 16;
    let mut damages: Vec<Damage> = Vec::new();
    for cut in [0usize, 5, 18, 40, 200] {
        damages.push((
            "truncated in the magic or header",
            Box::new(move |b: &mut Vec<u8>| b.truncate(cut.min(b.len() - 1))),
        ));
    }
    for from_end in [1usize, 16, 17, 4096, 8 * 4096 + 16, chunk, chunk + 1] {
        damages.push((
            "truncated in the chunks",
            Box::new(move |b: &mut Vec<u8>| {
                let n = b.len();
                b.truncate(n - from_end)
            }),
        ));
    }
    damages.push((
        "one bit flipped in the magic",
        Box::new(|b: &mut Vec<u8>| b[3] ^= 0x01),
    ));
    damages.push((
        "one bit flipped in the header",
        Box::new(|b: &mut Vec<u8>| {
            let at = header_length(b) - 30;
            b[at] ^= 0x04
        }),
    ));
    for (region, offset) in [
        ("first chunk", 10usize),
        ("first tag", chunk - 3),
        ("middle chunk", chunk + 5000),
        ("last chunk", 2 * chunk + 100),
        ("last tag", 2 * chunk + 8 * PAGE + 15),
    ] {
        damages.push((
            region,
            Box::new(move |b: &mut Vec<u8>| {
                let at = header_length(b) + offset;
                b[at] ^= 0x80
            }),
        ));
    }
    damages.push((
        "first two chunks swapped",
        Box::new(move |b: &mut Vec<u8>| {
            let start = header_length(b);
            let first = b[start..start + chunk].to_vec();
            let second = b[start + chunk..start + 2 * chunk].to_vec();
            b[start..start + chunk].copy_from_slice(&second);
            b[start + chunk..start + 2 * chunk].copy_from_slice(&first);
        }),
    ));
    damages.push((
        "a chunk repeated in place of the next",
        Box::new(move |b: &mut Vec<u8>| {
            let start = header_length(b);
            let first = b[start..start + chunk].to_vec();
            b[start + chunk..start + 2 * chunk].copy_from_slice(&first);
        }),
    ));
    damages.push((
        "header edited (more patients) with valid JSON",
        Box::new(|b: &mut Vec<u8>| {
            let end = header_length(b);
            let text = String::from_utf8(b[..end].to_vec())
                .unwrap()
                .replace("\"patients\":12", "\"patients\":99");
            b.splice(..end, text.into_bytes());
        }),
    ));
    damages.push((
        "header's clinic swapped",
        Box::new(|b: &mut Vec<u8>| {
            let end = header_length(b);
            let text = String::from_utf8(b[..end].to_vec())
                .unwrap()
                .replace("clinic-a", "clinic-b");
            b.splice(..end, text.into_bytes());
        }),
    ));
    damages.push((
        "bytes appended",
        Box::new(|b: &mut Vec<u8>| b.extend_from_slice(&[0u8; 16])),
    ));
    damages.push((
        "last chunk dropped",
        Box::new(move |b: &mut Vec<u8>| {
            let n = b.len();
            b.truncate(n - (8 * PAGE + 16))
        }),
    ));
    check(damages);
}

#[test]
fn a_file_sealed_to_another_key_pair_is_refused_as_an_integrity_failure() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("other.cdbackup");
    let (_, other_public) = key_pair(2);
    write_backup(&path, other_public);
    let (our_secret, _) = key_pair(1);
    assert_eq!(
        read_all(&path, &our_secret),
        Err(ErrorCode::IntegrityFailure)
    );
}

#[test]
fn the_file_holds_no_page_content_in_plain_text() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("plain.cdbackup");
    let (_, public) = key_pair(1);
    write_backup(&path, public);
    let bytes = std::fs::read(&path).unwrap();
    let sample = &page(5)[100..132];
    assert!(!bytes.windows(sample.len()).any(|window| window == sample));
}
