//! `clinicdesk-bench`: builds a reference clinic (docs/reference.md, "Measured targets") in the encrypted store, copies it
//! unencrypted, and times the daily operations on both in the same run. Prints one line per
//! operation: `BENCH op=… n=… p50_ms=… p99_ms=… baseline_p99_ms=… ratio=…`, and the peak memory.
//! With `--backup`, times backup, verify and restore instead (see `backup_bench`); with `--sync`,
//! push and pull against a PostgreSQL started for the run (see `sync_bench`); with `--import`, the
//! FHIR import of the whole clinic into an empty store (see `bulk_bench`).

mod backup_bench;
mod bulk_bench;
mod sync_bench;

use std::path::PathBuf;
use std::time::Instant;

use chrono::{Datelike, Duration, NaiveDate};
use clap::Parser;
use clinicdesk_core::{
    DataDir, DemoSize, Environment, InitRequest, KdfParams, Session, SlotSecret, VitalKind,
    VitalReading,
};
use clinicdesk_store::rusqlite::{params, Connection};
use rand::{Rng, SeedableRng};

#[derive(Parser)]
#[command(about = "Clinicdesk benchmarks on the reference data sets")]
struct Arguments {
    /// small (20 000 patients) or large (1 000 000).
    #[arg(long, default_value = "small")]
    size: String,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Timed repetitions per operation.
    #[arg(long, default_value_t = 2000)]
    repetitions: usize,
    /// Where to build (and keep) the stores; reused when it already holds them.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Benchmark backup, verify and restore (against `cp` of the store) instead of the queries.
    /// Run it in its own process after the store exists, so peak memory is the backup's own.
    #[arg(long)]
    backup: bool,
    /// With --backup: skip the separate verify (a restore does the same decrypt and checks, then
    /// swaps), when the store is too big to time both.
    #[arg(long)]
    skip_verify: bool,
    /// Benchmark sync against a PostgreSQL started for the run: the first push of the clinic
    /// (against COPY of the same rows) and its first pull into an empty workstation.
    #[arg(long)]
    sync: bool,
    /// Benchmark bulk loading through the FHIR import: the clinic exported and imported into an
    /// empty store, against `cp` of the imported store.
    #[arg(long)]
    import: bool,
    /// Only build the store (so the measurements can run later in a process of their own).
    #[arg(long)]
    generate_only: bool,
}

const PASSWORD: &str = "violet tractor umbrella sings";

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

struct Timing {
    samples: Vec<f64>,
}

impl Timing {
    fn measure(repetitions: usize, mut work: impl FnMut(usize)) -> Timing {
        for index in 0..repetitions.min(50) {
            work(index); // warm the caches the same way for both stores
        }
        let mut samples = Vec::with_capacity(repetitions);
        for index in 0..repetitions {
            let started = Instant::now();
            work(index);
            samples.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        samples.sort_by(f64::total_cmp);
        Timing { samples }
    }

    fn p50(&self) -> f64 {
        percentile(&self.samples, 0.50)
    }

    fn p99(&self) -> f64 {
        percentile(&self.samples, 0.99)
    }
}

fn report(op: &str, measured: &Timing, baseline: Option<&Timing>) {
    match baseline {
        Some(baseline) => println!(
            "BENCH op={op} n={} p50_ms={:.3} p99_ms={:.3} baseline_p99_ms={:.3} ratio={:.2}",
            measured.samples.len(),
            measured.p50(),
            measured.p99(),
            baseline.p99(),
            measured.p99() / baseline.p99().max(1e-9)
        ),
        None => println!(
            "BENCH op={op} n={} p50_ms={:.3} p99_ms={:.3}",
            measured.samples.len(),
            measured.p50(),
            measured.p99()
        ),
    }
}

pub(crate) fn peak_rss_mib() -> f64 {
    process_memory_mib("VmHWM:")
}

/// A memory figure of this process from /proc/self/status (`VmHWM:` peak, `VmRSS:` now), in MiB.
pub(crate) fn process_memory_mib(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with(field))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kib| kib.parse::<f64>().ok())
        })
        .map(|kib| kib / 1024.0)
        .unwrap_or(0.0)
}

/// The store's data key, from the administrator `admin`'s key slot.
pub(crate) fn admin_data_key(data_dir: &DataDir, password: &str) -> clinicdesk_keyslot::DataKey {
    clinicdesk_keyslot::KeySlotFile::new(data_dir.key_slot_file())
        .read()
        .and_then(|slots| {
            slots.unlock(
                &clinicdesk_keyslot::SlotOwner::user("admin"),
                &SlotSecret::new(password.into()),
            )
        })
        .unwrap_or_else(|e| fail("unlocking", e))
        .data_key
}

/// Seconds to write `store`'s bytes again (`cp` of the file, synced): the floor under any way of
/// writing a store of that size on this disk.
pub(crate) fn cp_baseline_seconds(store: &std::path::Path, folder: &std::path::Path) -> f64 {
    let copy = folder.join("cp-baseline.db");
    let started = Instant::now();
    std::fs::copy(store, &copy).unwrap_or_else(|e| fail("cp baseline", e));
    std::fs::File::open(&copy)
        .and_then(|f| f.sync_all())
        .unwrap_or_else(|e| fail("syncing the cp baseline", e));
    let seconds = started.elapsed().as_secs_f64();
    std::fs::remove_file(&copy).ok();
    seconds
}

/// The disk's rate of durable small writes, measured in `folder` now: a loop of 4 KiB writes,
/// each followed by `fdatasync` (what one committed transaction in the write-ahead log costs at
/// least), for about two seconds.
fn disk_fsyncs_per_second(folder: &std::path::Path) -> f64 {
    use std::os::unix::fs::FileExt;
    let probe = folder.join("fsync-probe");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .read(true)
        .write(true)
        .open(&probe)
        .unwrap_or_else(|e| fail("the fsync probe", e));
    let page = [0x5au8; 4096];
    let started = Instant::now();
    let mut count = 0u64;
    while started.elapsed().as_secs_f64() < 2.0 {
        file.write_all_at(&page, (count % 16) * 4096)
            .and_then(|_| file.sync_data())
            .unwrap_or_else(|e| fail("the fsync probe", e));
        count += 1;
    }
    let rate = count as f64 / started.elapsed().as_secs_f64();
    std::fs::remove_file(&probe).ok();
    rate
}

pub(crate) fn fail(what: &str, error: impl std::fmt::Display) -> ! {
    eprintln!("clinicdesk-bench: {what}: {error}");
    std::process::exit(1);
}

fn main() {
    let arguments = Arguments::parse();
    let size = DemoSize::from_name(&arguments.size).unwrap_or_else(|e| fail("size", e));
    let folder = arguments.dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!(
            "clinicdesk-bench-{}-{}",
            arguments.size, arguments.seed
        ))
    });
    let data_dir = DataDir::new(folder.join("store"));
    let plain_path = folder.join("plain.db");
    let environment = Environment::system();

    if !data_dir.store_file().exists() {
        std::fs::create_dir_all(&folder).unwrap_or_else(|e| fail("creating the folder", e));
        clinicdesk_core::init(
            &data_dir,
            InitRequest {
                clinic_name: "Benchmark Clinic".into(),
                time_zone: "Europe/Berlin".into(),
                locale: None,
                admin_username: "admin".into(),
                admin_display_name: "Bench Admin".into(),
                admin_password: SlotSecret::new(PASSWORD.into()),
                kdf: KdfParams::DEFAULT,
            },
            &environment,
        )
        .unwrap_or_else(|e| fail("init", e));
        // The store before any clinic data: the empty workstation of the sync benchmark.
        clinicdesk_tests::central::copy_folder(data_dir.root(), &folder.join("empty-store"));
        let mut admin = Session::login(
            &data_dir,
            "admin",
            &SlotSecret::new(PASSWORD.into()),
            &environment,
        )
        .unwrap_or_else(|e| fail("login", e));
        let started = Instant::now();
        let summary = admin
            .generate_demo_data(size, arguments.seed, None, None, |_| {})
            .unwrap_or_else(|e| fail("generating", e));
        let seconds = started.elapsed().as_secs_f64();
        drop(admin);
        let cp_seconds = cp_baseline_seconds(&data_dir.store_file(), &folder);
        println!(
            "BENCH op=generate rows={} seconds={:.1} rows_per_s={:.0} baseline_cp_seconds={:.2} ratio={:.1}",
            summary.rows,
            seconds,
            summary.rows as f64 / seconds,
            cp_seconds,
            seconds / cp_seconds.max(1e-9)
        );
    }
    if arguments.generate_only {
        return;
    }
    if arguments.sync {
        sync_bench::run(&data_dir, &folder, PASSWORD);
        return;
    }
    if arguments.import {
        bulk_bench::run(&data_dir, &folder, PASSWORD);
        return;
    }
    if arguments.backup {
        backup_bench::run(&data_dir, &folder, PASSWORD, !arguments.skip_verify);
        return;
    }
    let key = admin_data_key(&data_dir, PASSWORD);
    let encrypted = clinicdesk_store::open_store(&data_dir.store_file(), &key)
        .unwrap_or_else(|e| fail("opening", e));
    if !plain_path.exists() {
        let started = Instant::now();
        encrypted
            .execute(
                "ATTACH DATABASE ?1 AS plain KEY ''",
                [plain_path.to_str().unwrap()],
            )
            .and_then(|_| encrypted.query_row("SELECT sqlcipher_export('plain')", [], |_| Ok(())))
            .and_then(|_| encrypted.execute("DETACH DATABASE plain", []))
            .unwrap_or_else(|e| fail("making the unencrypted copy", e));
        eprintln!(
            "unencrypted copy made in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    let plain = Connection::open(&plain_path).unwrap_or_else(|e| fail("opening the copy", e));
    for connection in [&encrypted, &plain] {
        connection
            .execute_batch("PRAGMA temp_store = MEMORY; PRAGMA foreign_keys = ON;")
            .unwrap();
    }
    let size_mib = std::fs::metadata(data_dir.store_file())
        .map(|m| m.len() as f64 / 1048576.0)
        .unwrap_or(0.0);
    println!("BENCH store size_mib={size_mib:.0} set={}", arguments.size);

    // The workload: real patients of the store, queried the ways the front desk does.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(arguments.seed);
    let patients: Vec<(String, String, String, String, String, Option<String>)> = {
        let mut statement = encrypted
            .prepare(
                "SELECT p.id, p.mrn, p.given_name, p.family_name, p.date_of_birth,
                        (SELECT number FROM patient_phones WHERE patient_id = p.id LIMIT 1)
                 FROM patients p WHERE p.rowid IN (SELECT abs(random()) % (SELECT max(rowid) FROM patients) + 1 FROM generate_series(1, 4000))",
            )
            .or_else(|_| {
                encrypted.prepare(
                    "SELECT p.id, p.mrn, p.given_name, p.family_name, p.date_of_birth,
                            (SELECT number FROM patient_phones WHERE patient_id = p.id LIMIT 1)
                     FROM patients p ORDER BY p.rowid LIMIT 4000",
                )
            })
            .unwrap();
        statement
            .query_map([], |row| {
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                    row.get(5)?,
                ))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let queries: Vec<String> = (0..arguments.repetitions)
        .map(|index| {
            let (_, mrn, given, family, birth, phone) = &patients[rng.gen_range(0..patients.len())];
            match index % 6 {
                0 => format!("{given} {family}"),
                1 => {
                    let mut chars: Vec<char> = family.chars().collect();
                    if chars.len() > 3 {
                        chars.swap(1, 2);
                    }
                    format!("{given} {}", chars.into_iter().collect::<String>())
                }
                2 => format!("{family} {}", &given[..given.len().min(3)]),
                3 => mrn.clone(),
                4 => format!("{family} {birth}"),
                _ => phone.clone().unwrap_or_else(|| mrn.clone()),
            }
        })
        .collect();
    let today = chrono::Utc::now().date_naive();
    let search = |connection: &Connection| {
        Timing::measure(queries.len(), |index| {
            let hits =
                clinicdesk_core::bench_api::search_patients(connection, &queries[index], today)
                    .unwrap();
            std::hint::black_box(hits);
        })
    };
    let search_encrypted = search(&encrypted);
    let search_plain = search(&plain);
    report("patient_search", &search_encrypted, Some(&search_plain));

    let parts = clinicdesk_core::bench_api::ChartParts {
        vitals: true,
        appointments: true,
        notes: true,
    };
    let now = clinicdesk_core::format_timestamp(chrono::Utc::now());
    let chart = |connection: &Connection| {
        Timing::measure(arguments.repetitions, |index| {
            let chart = clinicdesk_core::bench_api::chart(
                connection,
                &patients[index % patients.len()].0,
                parts,
                &now,
            )
            .unwrap();
            std::hint::black_box(chart);
        })
    };
    let chart_encrypted = chart(&encrypted);
    let chart_plain = chart(&plain);
    report("chart_open", &chart_encrypted, Some(&chart_plain));

    let providers: Vec<String> = {
        let mut statement = encrypted.prepare("SELECT id FROM providers").unwrap();
        statement
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let monday = today - Duration::days(today.weekday().num_days_from_monday() as i64);
    let days: Vec<NaiveDate> = (0..20).map(|week| monday - Duration::weeks(week)).collect();
    for (op, length) in [("schedule_day", 1), ("schedule_week", 7)] {
        let schedule = |connection: &Connection| {
            Timing::measure(arguments.repetitions, |index| {
                let first = days[index % days.len()]
                    + Duration::days((index % 5) as i64 * (length == 1) as i64);
                let list = clinicdesk_core::bench_api::schedule(
                    connection,
                    Some(&providers[index % providers.len()]),
                    first,
                    first + Duration::days(length),
                )
                .unwrap();
                std::hint::black_box(list);
            })
        };
        let encrypted_timing = schedule(&encrypted);
        let plain_timing = schedule(&plain);
        report(op, &encrypted_timing, Some(&plain_timing));
    }
    drop(encrypted);

    // Recording a vitals set through the core (permission, chart gate, audit, outbox, one durable
    // transaction) against the same inserts alone, on the same encrypted store.
    let mut nurse = {
        let mut admin = Session::login(
            &data_dir,
            "admin",
            &SlotSecret::new(PASSWORD.into()),
            &environment,
        )
        .unwrap();
        let username = format!("bench.nurse.{}", std::process::id());
        let temporary = admin
            .add_user(&username, "Bench Nurse", clinicdesk_core::Role::Nurse)
            .unwrap();
        drop(admin);
        let mut nurse = Session::login(
            &data_dir,
            &username,
            &SlotSecret::new(temporary.0.to_string()),
            &environment,
        )
        .unwrap();
        nurse
            .change_password(
                &SlotSecret::new(temporary.0.to_string()),
                &SlotSecret::new("quartz meadow lantern ripple".into()),
            )
            .unwrap();
        nurse
    };
    let readings = [
        VitalReading {
            kind: VitalKind::Systolic,
            value: 128.0,
            unit: None,
        },
        VitalReading {
            kind: VitalKind::Diastolic,
            value: 82.0,
            unit: None,
        },
        VitalReading {
            kind: VitalKind::HeartRate,
            value: 71.0,
            unit: None,
        },
        VitalReading {
            kind: VitalKind::Temperature,
            value: 36.8,
            unit: None,
        },
        VitalReading {
            kind: VitalKind::OxygenSaturation,
            value: 98.0,
            unit: None,
        },
    ];
    let mrns: Vec<&String> = patients.iter().map(|p| &p.1).collect();
    let started = Instant::now();
    let record = Timing::measure(arguments.repetitions, |index| {
        nurse
            .record_vitals(mrns[index % mrns.len()], &readings, None)
            .unwrap();
    });
    let sets_per_second = (arguments.repetitions + 50) as f64 / started.elapsed().as_secs_f64();
    drop(nurse);
    let raw = clinicdesk_store::open_store(&data_dir.store_file(), &key).unwrap();
    let nurse_id: String = raw.query_row("SELECT id FROM users WHERE username LIKE 'bench.nurse.%' ORDER BY created_at DESC LIMIT 1", [], |row| row.get(0)).unwrap();
    let run = std::process::id() as u64;
    let mut sequence = 0u64;
    let baseline = Timing::measure(arguments.repetitions, |index| {
        let transaction = raw.unchecked_transaction().unwrap();
        sequence += 1;
        let set_id = format!("00000000-{:04x}-7000-8000-{:012}", run % 65536, sequence);
        let stamp = clinicdesk_core::format_timestamp(chrono::Utc::now());
        transaction
            .execute(
                "INSERT INTO vitals_sets (id, created_at, created_by, updated_at, updated_by, patient_id, recorded_by, effective_at) VALUES (?1, ?2, ?3, ?2, ?3, ?4, ?3, ?2)",
                params![set_id, stamp, nurse_id, patients[index % patients.len()].0],
            )
            .unwrap();
        for (offset, reading) in readings.iter().enumerate() {
            let definition = reading.kind.definition();
            transaction
                .execute(
                    "INSERT INTO vital_observations (id, created_at, created_by, updated_at, updated_by, vitals_set_id, patient_id, effective_at, loinc_code, value, unit)
                     VALUES (?1, ?2, ?3, ?2, ?3, ?4, ?5, ?2, ?6, ?7, ?8)",
                    params![format!("00000001-{:04x}-7001-{:04}-{:012}", run % 65536, offset, sequence), stamp, nurse_id, set_id, patients[index % patients.len()].0, definition.loinc, reading.value, definition.unit],
                )
                .unwrap();
        }
        transaction.commit().unwrap();
    });
    report("vitals_record", &record, Some(&baseline));
    // Each set is one durable transaction: at best one fsync, so the disk's rate is the ceiling
    // (target: sets/s at least 0.8 of it).
    let fsyncs_per_second = disk_fsyncs_per_second(&folder);
    println!(
        "BENCH op=vitals_record_throughput sets_per_s={sets_per_second:.0} baseline_disk_fsync_per_s={fsyncs_per_second:.0} ratio={:.2}",
        sets_per_second / fsyncs_per_second.max(1e-9)
    );
    println!("BENCH memory peak_rss_mib={:.0}", peak_rss_mib());
}
