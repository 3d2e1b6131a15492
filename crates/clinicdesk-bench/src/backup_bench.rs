//! Backup, verify and restore throughput of the store, against `cp` of the same file (copied and
//! synced to disk) measured in the same run, and the process's peak memory while doing them.

use std::path::Path;
use std::time::Instant;

use clinicdesk_core::{BackupStage, DataDir, Environment, Session, SlotSecret};

/// Seconds spent in each stage of a verify or restore, from the progress reports.
#[derive(Default)]
struct StageClock {
    current: Option<(BackupStage, Instant)>,
    spent: Vec<(BackupStage, f64)>,
}

impl StageClock {
    fn saw(&mut self, stage: BackupStage) {
        if self.current.map(|(now, _)| now) != Some(stage) {
            self.finish_current();
            self.current = Some((stage, Instant::now()));
        }
    }

    fn finish_current(&mut self) {
        if let Some((stage, since)) = self.current.take() {
            self.spent.push((stage, since.elapsed().as_secs_f64()));
        }
    }

    fn print(mut self, op: &str) {
        self.finish_current();
        let parts: Vec<String> = self
            .spent
            .iter()
            .map(|(stage, seconds)| format!("{stage:?}={seconds:.1}").to_lowercase())
            .collect();
        println!("BENCH op={op}_stages seconds {}", parts.join(" "));
    }
}

fn mib_per_second(bytes: u64, seconds: f64) -> f64 {
    bytes as f64 / 1_048_576.0 / seconds.max(1e-9)
}

pub fn run(data_dir: &DataDir, folder: &Path, password: &str, verify: bool) {
    let store = data_dir.store_file();
    let store_bytes = std::fs::metadata(&store).map(|m| m.len()).unwrap_or(0);
    let rss_before = crate::process_memory_mib("VmRSS:");

    // Baseline: cp of the same file, synced, so both sides pay for reaching the disk.
    let cp_seconds = crate::cp_baseline_seconds(&store, folder);
    println!(
        "BENCH op=cp_baseline mib={:.0} seconds={:.1} mib_per_s={:.0}",
        store_bytes as f64 / 1_048_576.0,
        cp_seconds,
        mib_per_second(store_bytes, cp_seconds)
    );

    let environment = Environment::system();
    let mut session = Session::login(
        data_dir,
        "admin",
        &SlotSecret::new(password.into()),
        &environment,
    )
    .expect("login");
    let file = folder.join("bench.cdbackup");
    std::fs::remove_file(&file).ok();
    let started = Instant::now();
    session
        .create_backup(Some(&file), &mut |_| {})
        .expect("backup");
    let backup_seconds = started.elapsed().as_secs_f64();
    let file_bytes = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    println!(
        "BENCH op=backup mib={:.0} file_mib={:.0} seconds={:.1} mib_per_s={:.0} baseline_cp_seconds={:.1} ratio={:.2}",
        store_bytes as f64 / 1_048_576.0,
        file_bytes as f64 / 1_048_576.0,
        backup_seconds,
        mib_per_second(store_bytes, backup_seconds),
        cp_seconds,
        backup_seconds / cp_seconds.max(1e-9)
    );

    if verify {
        let started = Instant::now();
        let mut stages = StageClock::default();
        session
            .verify_backup(&file, &mut |progress| stages.saw(progress.stage))
            .expect("verify");
        stages.print("verify");
        let verify_seconds = started.elapsed().as_secs_f64();
        println!(
            "BENCH op=verify seconds={:.1} mib_per_s={:.0} ratio_to_cp={:.2}",
            verify_seconds,
            mib_per_second(store_bytes, verify_seconds),
            verify_seconds / cp_seconds.max(1e-9)
        );
    }

    let started = Instant::now();
    let mut stages = StageClock::default();
    let outcome = session
        .restore_backup(&file, &mut |progress| stages.saw(progress.stage))
        .expect("restore");
    stages.print("restore");
    let restore_seconds = started.elapsed().as_secs_f64();
    println!(
        "BENCH op=restore_with_full_verification seconds={:.1} mib_per_s={:.0} ratio_to_cp={:.2}",
        restore_seconds,
        mib_per_second(store_bytes, restore_seconds),
        restore_seconds / cp_seconds.max(1e-9)
    );
    drop(session);
    std::fs::remove_file(&outcome.rollback_copy).ok();
    std::fs::remove_file(&file).ok();
    println!(
        "BENCH memory backup_restore rss_before_mib={:.0} peak_rss_mib={:.0} store_mib={:.0}",
        rss_before,
        crate::peak_rss_mib(),
        store_bytes as f64 / 1_048_576.0
    );
}
