//! Sync throughput against a real PostgreSQL started for the run: the first push of a whole
//! generated clinic, against `COPY` of the same rows into the same server in the same run, and
//! the first pull of that clinic into an empty workstation, with the process's memory.

use std::path::Path;
use std::time::Instant;

use clinicdesk_core::{DataDir, Environment, Session, SlotSecret};
use clinicdesk_tests::central::{copy_folder, CentralServer};

/// A workstation's copy of `source`, signed in as the administrator and enrolled.
fn enrolled_copy(
    source: &Path,
    folder: &Path,
    name: &str,
    server: &CentralServer,
    clinic: &str,
    password: &str,
) -> (Session, String) {
    let target = folder.join(name);
    let _ = std::fs::remove_dir_all(&target);
    copy_folder(source, &target);
    let data_dir = DataDir::new(&target);
    let environment = Environment::system();
    let mut session = Session::login(
        &data_dir,
        "admin",
        &SlotSecret::new(password.into()),
        &environment,
    )
    .expect("login");
    let code = server.enrolment_code(clinic, name);
    let enrolled =
        clinicdesk_sync::enroll(&mut session, &server.workstation_url(), &code).expect("enrolment");
    (session, enrolled.clinic_id)
}

pub fn run(data_dir: &DataDir, folder: &Path, password: &str) {
    let empty = folder.join("empty-store");
    if !empty.exists() {
        eprintln!(
            "clinicdesk-bench: {} has no copy of the store from before the generation; remove the folder and run again",
            folder.display()
        );
        std::process::exit(1);
    }
    let server = CentralServer::start();
    let registry = server.add_clinic("Benchmark Clinic");
    let (mut desk, clinic_id) = enrolled_copy(
        data_dir.root(),
        folder,
        "sync-desk",
        &server,
        &registry,
        password,
    );

    // The first push of the whole clinic, in the engine's batches.
    let mut client = clinicdesk_sync::connect(&mut desk).expect("connect");
    let started = Instant::now();
    let mut changes = 0i64;
    // Where the time goes: reading the outbox, the server's work, recording the answer.
    let (mut reading, mut at_server, mut recording) = (0.0, 0.0, 0.0);
    loop {
        let step = Instant::now();
        let batch = desk
            .sync_outgoing(clinicdesk_sync::engine::PUSH_BATCH)
            .expect("outgoing");
        reading += step.elapsed().as_secs_f64();
        if batch.is_empty() {
            break;
        }
        let step = Instant::now();
        let results = clinicdesk_sync::push_batch(&mut client, &batch).expect("push");
        at_server += step.elapsed().as_secs_f64();
        let step = Instant::now();
        let summary = desk.sync_record_push(&batch, &results).expect("record");
        recording += step.elapsed().as_secs_f64();
        changes += summary.applied;
    }
    let push_seconds = started.elapsed().as_secs_f64();
    println!(
        "BENCH op=sync_push changes={changes} seconds={push_seconds:.1} changes_per_s={:.0} reading_s={reading:.1} server_s={at_server:.1} recording_s={recording:.1}",
        changes as f64 / push_seconds
    );

    // Baseline: COPY of the same rows (table, id, row) into a plain table of the same server.
    let mut owner = server.owner();
    let mut rows = Vec::new();
    {
        let mut reader = owner
            .copy_out("COPY (SELECT table_name, row_id, payload FROM clinicdesk.changes ORDER BY seq) TO STDOUT")
            .expect("copy out");
        std::io::Read::read_to_end(&mut reader, &mut rows).expect("read rows");
    }
    owner
        .batch_execute(
            "CREATE TABLE public.copy_baseline (table_name text, row_id uuid, payload jsonb)",
        )
        .expect("baseline table");
    let started = Instant::now();
    let mut transaction = owner.transaction().expect("transaction");
    {
        let mut writer = transaction
            .copy_in("COPY public.copy_baseline FROM STDIN")
            .expect("copy in");
        std::io::Write::write_all(&mut writer, &rows).expect("write rows");
        writer.finish().expect("finish copy");
    }
    transaction.commit().expect("commit");
    let copy_seconds = started.elapsed().as_secs_f64();
    drop(rows);
    println!(
        "BENCH op=sync_push_copy_baseline rows={changes} seconds={copy_seconds:.2} rows_per_s={:.0} ratio={:.2}",
        changes as f64 / copy_seconds,
        push_seconds / copy_seconds
    );

    // The first pull of the whole clinic into a workstation whose store holds none of it.
    let rss_before = crate::process_memory_mib("VmRSS:");
    let (mut empty_desk, _) = enrolled_copy(
        &empty,
        folder,
        "sync-new-desk",
        &server,
        &clinic_id,
        password,
    );
    let mut client = clinicdesk_sync::connect(&mut empty_desk).expect("connect");
    let started = Instant::now();
    let mut cursor = 0;
    let mut pulled = 0i64;
    loop {
        let batch =
            clinicdesk_sync::pull_batch(&mut client, cursor, clinicdesk_sync::engine::PULL_BATCH)
                .expect("pull");
        if batch.is_empty() {
            break;
        }
        let summary = empty_desk.sync_apply_pulled(&batch).expect("apply");
        pulled += summary.applied;
        cursor = summary.cursor;
    }
    let pull_seconds = started.elapsed().as_secs_f64();
    println!(
        "BENCH op=sync_first_pull changes={pulled} seconds={pull_seconds:.1} changes_per_s={:.0} projected_1m_s={:.0}",
        pulled as f64 / pull_seconds,
        1_000_000.0 * pull_seconds / pulled.max(1) as f64
    );
    println!(
        "BENCH memory sync rss_before_pull_mib={rss_before:.0} rss_after_pull_mib={:.0} peak_rss_mib={:.0}",
        crate::process_memory_mib("VmRSS:"),
        crate::peak_rss_mib()
    );
}
