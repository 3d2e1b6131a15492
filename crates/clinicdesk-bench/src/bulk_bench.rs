//! Bulk loading through the FHIR import: the generated clinic exported as NDJSON and imported into
//! an empty store, against writing the imported store's bytes (`cp`, synced) in the same run.

use std::path::Path;
use std::time::Instant;

use clinicdesk_core::{
    DataDir, Environment, ExportCounts, ExportScope, InitRequest, KdfParams, Role, Session,
    SlotSecret,
};
use clinicdesk_fhir::{write_clinic_ndjson, FhirReading};

/// The tables the generator's row count covers (`DemoSummary::rows`) that the import writes.
const LOADED_TABLES: &[&str] = &[
    "providers",
    "patients",
    "patient_phones",
    "appointments",
    "vitals_sets",
    "vital_observations",
    "notes",
    "allergies",
    "allergy_confirmations",
    "medications",
    "problems",
];

fn records(counts: &ExportCounts) -> u64 {
    counts.providers
        + counts.patients
        + counts.appointments
        + counts.observations
        + counts.notes
        + counts.allergies
        + counts.medications
        + counts.problems
}

fn loaded_rows(data_dir: &DataDir, password: &str) -> u64 {
    let key = crate::admin_data_key(data_dir, password);
    let connection = clinicdesk_store::open_store(&data_dir.store_file(), &key)
        .unwrap_or_else(|e| crate::fail("opening the imported store", e));
    LOADED_TABLES
        .iter()
        .map(|table| {
            connection
                .query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
                    row.get::<_, i64>(0)
                })
                .unwrap_or_else(|e| crate::fail("counting rows", e)) as u64
        })
        .sum()
}

/// A session of the clinic manager `bench.manager` (exports are the manager's), made the first
/// time with the password `password`.
fn manager_session(data_dir: &DataDir, password: &str, environment: &Environment) -> Session {
    const MANAGER: &str = "bench.manager";
    let secret = SlotSecret::new(password.into());
    if let Ok(session) = Session::login(data_dir, MANAGER, &secret, environment) {
        return session;
    }
    let mut admin = Session::login(data_dir, "admin", &secret, environment)
        .unwrap_or_else(|e| crate::fail("login", e));
    let temporary = admin
        .add_user(MANAGER, "Bench Manager", Role::Manager)
        .unwrap_or_else(|e| crate::fail("adding the manager", e));
    drop(admin);
    Session::login(
        data_dir,
        MANAGER,
        &SlotSecret::new(temporary.0.to_string()),
        environment,
    )
    .and_then(|mut first| first.change_password(&SlotSecret::new(temporary.0.to_string()), &secret))
    .unwrap_or_else(|e| crate::fail("the manager's first sign-in", e));
    Session::login(data_dir, MANAGER, &secret, environment)
        .unwrap_or_else(|e| crate::fail("the manager's sign-in", e))
}

pub fn run(data_dir: &DataDir, folder: &Path, password: &str) {
    let environment = Environment::system();
    let secret = || SlotSecret::new(password.into());
    let mut manager = manager_session(data_dir, password, &environment);
    let export_folder = folder.join("fhir-export");
    std::fs::remove_dir_all(&export_folder).ok();
    let started = Instant::now();
    let clinic = manager
        .export_clinic()
        .unwrap_or_else(|e| crate::fail("exporting", e));
    let written = write_clinic_ndjson(&export_folder, clinic, |visit| {
        manager
            .export_records(&ExportScope::WholeClinic, visit)
            .map(drop)
    })
    .unwrap_or_else(|e| crate::fail("exporting", e));
    let export_seconds = started.elapsed().as_secs_f64();
    let resources: u64 = written.values().sum();
    println!(
        "BENCH op=fhir_export resources={resources} seconds={export_seconds:.1} resources_per_s={:.0}",
        resources as f64 / export_seconds.max(1e-9)
    );
    drop(manager);

    let target = DataDir::new(folder.join("import-store"));
    std::fs::remove_dir_all(target.root()).ok();
    clinicdesk_core::init(
        &target,
        InitRequest {
            clinic_name: "Import Clinic".into(),
            time_zone: "Europe/Berlin".into(),
            locale: None,
            admin_username: "admin".into(),
            admin_display_name: "Bench Admin".into(),
            admin_password: secret(),
            kdf: KdfParams::DEFAULT,
        },
        &environment,
    )
    .unwrap_or_else(|e| crate::fail("init", e));
    let mut importer = Session::login(&target, "admin", &secret(), &environment)
        .unwrap_or_else(|e| crate::fail("login", e));
    let rows_before = loaded_rows(&target, password);
    let started = Instant::now();
    let mut reading = FhirReading::new("bench");
    let mut files: Vec<_> = std::fs::read_dir(&export_folder)
        .unwrap_or_else(|e| crate::fail("listing the export", e))
        .filter_map(|entry| Some(entry.ok()?.path()))
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "ndjson")
        })
        .collect();
    files.sort();
    for file in &files {
        reading
            .read_file(file)
            .unwrap_or_else(|e| crate::fail("reading the export", e));
    }
    let (items, refused_on_reading, _skipped) = reading.finish();
    let read_seconds = started.elapsed().as_secs_f64();
    let report = importer
        .import_records(items, refused_on_reading)
        .unwrap_or_else(|e| crate::fail("importing", e));
    let import_seconds = started.elapsed().as_secs_f64();
    drop(importer);
    let rows = loaded_rows(&target, password) - rows_before;
    let cp_seconds = crate::cp_baseline_seconds(&target.store_file(), folder);
    println!(
        "BENCH op=fhir_import records={} refused={} rows={rows} seconds={import_seconds:.1} reading_seconds={read_seconds:.1} rows_per_s={:.0} baseline_cp_seconds={cp_seconds:.2} ratio={:.1}",
        records(&report.created),
        report.refused.len(),
        rows as f64 / import_seconds.max(1e-9),
        import_seconds / cp_seconds.max(1e-9)
    );
    println!(
        "BENCH op=fhir_import peak_rss_mib={:.0}",
        crate::peak_rss_mib()
    );
}
