//! Product policy the shells must not decide on their own: where a workstation keeps its data
//! folder, what a password derivation costs, the idle timings before the store can say its own,
//! and where exports go. The desktop app and the CLI call these and only translate.

use std::path::PathBuf;

use clinicdesk_keyslot::KdfParams;
use clinicdesk_store::DataDir;
use serde::{Deserialize, Serialize};

/// How long one Argon2id derivation of a key slot must take at least on this machine (the
/// memory cost stays at 64 MiB; the iteration count is raised until it does): logins cost
/// 0.3–1 s, and an attacker with the key-slot file pays as much per guess.
const KDF_AT_LEAST: std::time::Duration = std::time::Duration::from_millis(300);

/// The Argon2id cost for new key slots, calibrated on this machine (takes about a second).
pub fn product_kdf() -> KdfParams {
    KdfParams::calibrated(KDF_AT_LEAST)
}

/// The workstation's data folder: `CLINICDESK_DATA_DIR` when set, else the user's data folder
/// (`~/.local/share/clinicdesk` on Linux), the same for the desktop app and the CLI.
pub fn default_data_dir() -> DataDir {
    if let Some(folder) = std::env::var_os("CLINICDESK_DATA_DIR").filter(|f| !f.is_empty()) {
        return DataDir::new(folder);
    }
    directories::ProjectDirs::from("com", "Clinicdesk", "Clinicdesk")
        .map(|dirs| DataDir::new(dirs.data_dir()))
        .unwrap_or_else(|| DataDir::new("clinicdesk-data"))
}

/// Where explicit exports (the audit trail as CSV, FHIR exports) go when the person names no
/// file: their Downloads folder (as the desktop names it, else `~/Downloads`), and only without a
/// home folder the system's temporary folder. Exports hold patient records: never a shared place
/// when the person has one of their own.
pub fn exports_folder() -> PathBuf {
    let dirs = directories::UserDirs::new();
    dirs.as_ref()
        .and_then(|dirs| dirs.download_dir().map(|folder| folder.to_path_buf()))
        .or_else(|| dirs.map(|dirs| dirs.home_dir().join("Downloads")))
        .unwrap_or_else(std::env::temp_dir)
}

/// The idle logoff and the warning before it, in seconds.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdleTimings {
    pub logoff_seconds: i64,
    pub warning_seconds: i64,
}

impl IdleTimings {
    /// The defaults (docs/reference.md, "Security defaults"), used until the store's own
    /// settings may be read (a person signed in with a temporary password).
    pub const DEFAULT: IdleTimings = IdleTimings {
        logoff_seconds: 600,
        warning_seconds: 60,
    };
}

/// How often a signed-in workstation syncs in the background: every 30 seconds
/// (docs/reference.md, "Sync with the central server"), or every `CLINICDESK_SYNC_EVERY_SECONDS`
/// when set (a slow link; the end-to-end tests sync only when asked).
pub fn sync_interval() -> std::time::Duration {
    let seconds = std::env::var("CLINICDESK_SYNC_EVERY_SECONDS")
        .ok()
        .and_then(|text| text.trim().parse::<u64>().ok())
        .filter(|seconds| *seconds >= 5)
        .unwrap_or(30);
    std::time::Duration::from_secs(seconds)
}

/// How long the background sync waits before its next attempt: `every`, twice as long after
/// each failed attempt in a row (the server cannot be reached), up to ten times `every` (five
/// minutes at the default).
pub fn background_sync_delay(
    every: std::time::Duration,
    failures_in_a_row: u32,
) -> std::time::Duration {
    let factor = 1u32 << failures_in_a_row.min(8);
    (every * factor).min(every * 10)
}

#[cfg(test)]
mod tests {
    use super::background_sync_delay;
    use std::time::Duration;

    #[test]
    fn the_background_sync_backs_off_while_the_server_cannot_be_reached() {
        let every = Duration::from_secs(30);
        let seconds: Vec<u64> = (0..7)
            .map(|n| background_sync_delay(every, n).as_secs())
            .collect();
        assert_eq!(seconds, [30, 60, 120, 240, 300, 300, 300]);
        assert_eq!(background_sync_delay(every, u32::MAX).as_secs(), 300);
    }
}
