//! End to end with a central server: the real app on the front desk's workstation, a real
//! PostgreSQL started by the test, and the nurses' workstation driven through the core. An
//! administrator connects the front desk on screen (the certificate's fingerprint shown); the
//! front desk sees a patient registered on the other workstation after a sync; the header says
//! offline while the server is stopped, with the changes that wait, and online again after it
//! restarts; a booking both workstations made offline for the same time is settled on screen.
//! Screenshots of the enrolment, the sync status and the conflicts screen go to
//! `target/e2e-screenshots/` (and `docs/screenshots/` with `UPDATE_SCREENSHOTS=1`).

mod desktop;

use clinicdesk_tests::central::{CentralServer, Workstation};
use clinicdesk_tests::{Clinic, ADMIN_PASSWORD, STAFF_PASSWORD};
use desktop::Desktop;

/// Runs blocking work (the PostgreSQL client, the core) on a thread of its own, outside the
/// test's async runtime.
fn off_runtime<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| scope.spawn(work).join().expect("the work finished"))
}

fn register(session: &mut clinicdesk_core::Session, given: &str, family: &str) -> String {
    let new = clinicdesk_core::NewPatient {
        given_name: given.into(),
        family_name: family.into(),
        date_of_birth: "1906-12-09".into(),
        sex: clinicdesk_core::Sex::Female,
        phone: None,
        restricted: false,
    };
    match session.register_patient(&new, true).unwrap() {
        clinicdesk_core::Registration::Registered { mrn, .. } => mrn,
        other => panic!("not registered: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_workstations_sync_through_the_central_server_in_the_real_app() {
    let (server, registry, origin, desk) = off_runtime(|| {
        let server = CentralServer::start();
        let registry = server.add_clinic("Riverside Family Clinic");
        let origin = Clinic::with_staff();
        let mut frank = origin.staff("frank");
        let provider = frank.add_provider("Dr. Cole", None, None).unwrap().id;
        frank
            .set_working_hours(&provider, &[1, 2, 3, 4, 5, 6, 7], &[(0, 1440)])
            .unwrap();
        drop(frank);
        let desk = Workstation::copy_of(&origin, "front-desk");
        (server, registry, origin, desk)
    });
    // The app syncs when someone signs in and when asked, so the test decides the order.
    let app = Desktop::start_with(
        desk.data_dir.root(),
        &[("CLINICDESK_SYNC_EVERY_SECONDS", "3600")],
    )
    .await;

    // The administrator connects the front desk to the central server.
    app.login("admin", ADMIN_PASSWORD).await;
    app.wait_text("[data-testid=sync-state]", "This workstation only")
        .await;
    app.click("Central server").await;
    app.fill("#server-url", &server.workstation_url()).await;
    let code = off_runtime(|| server.enrolment_code(&registry, "front desk").to_text());
    app.fill("#enrolment-code", &code).await;
    app.click("Check the code").await;
    let shown = app.text("[data-testid=certificate-fingerprint]").await;
    assert_eq!(
        shown.replace(' ', "").to_lowercase(),
        server.fingerprint,
        "the fingerprint the code pins is shown to compare"
    );
    app.find("[data-testid=enrolment-preview] input[type=checkbox]")
        .await
        .click()
        .await
        .unwrap();
    app.screenshot("21-sync-enrolment").await;
    app.click("Connect this workstation").await;
    app.wait_text("[data-testid=enrolled]", "Riverside Family Clinic")
        .await;
    app.wait_text("[data-testid=sync-state]", "Online").await;
    app.wait_text("[data-testid=central-server]", "0 changes")
        .await;
    app.logoff().await;

    // The nurses' workstation joins with an empty data folder; the front desk's account works
    // there (its first sign-in is checked by the server).
    let clock = clinicdesk_core::ManualClock::starting_at(chrono::Utc::now());
    let (nurses, mut frank_there, grace, ada) = off_runtime(|| {
        let (nurses, _) =
            Workstation::joining(&server, &registry_clinic(&server), &clock, "nurses-room");
        let mut frank_there = nurses.login("frank", STAFF_PASSWORD);
        let grace = register(&mut frank_there, "Grace", "Hopper");
        let ada = register(&mut frank_there, "Ada", "Lovelace");
        clinicdesk_sync::sync_now(&mut frank_there).unwrap();
        (nurses, frank_there, grace, ada)
    });

    // The front desk sees Grace after a sync.
    app.login("frank", STAFF_PASSWORD).await;
    app.wait_text("[data-testid=sync-state]", "Online").await;
    app.click("Sync now").await;
    app.wait_text("[data-testid=sync-said]", "received").await;
    app.click("Patients").await;
    app.fill("#search", "Hopper").await;
    app.wait_text("#results", &grace).await;
    app.wait_text("[data-testid=sync-waiting]", "Nothing waiting")
        .await;
    app.screenshot("22-sync-online").await;

    // The server stops: the header says offline, and a booking made meanwhile waits.
    off_runtime(|| server.shut_down());
    app.click("Sync now").await;
    app.wait_text("[data-testid=sync-state]", "Offline").await;
    app.click("Schedule").await;
    app.click("Book appointment").await;
    app.fill("#book-patient", &grace).await;
    app.button(&format!("Hopper, Grace · 1906-12-09 · {grace}"))
        .await
        .click()
        .await
        .unwrap();
    app.click("Next free").await;
    let slot = app.wait_value("#book-at").await;
    assert_eq!(slot.len(), 16, "next free slot filled in: {slot:?}");
    app.click("Book").await;
    app.wait_text("[data-testid=schedule-message]", "Booked Grace Hopper")
        .await;
    app.wait_text("[data-testid=sync-waiting]", "1 change waiting")
        .await;
    app.wait_text("[data-testid=sync-state]", "Offline").await;
    app.screenshot("23-sync-offline").await;

    // Meanwhile the nurses' workstation, offline too, books Ada with Dr. Cole at that time,
    // and reaches the server first when it is back.
    off_runtime(|| {
        let provider = frank_there.list_providers().unwrap()[0].id.clone();
        frank_there
            .book_appointment(&clinicdesk_core::BookingRequest {
                mrn: ada.clone(),
                provider_id: provider,
                starts_local: clinicdesk_core::parse_local_time(&slot).unwrap(),
                minutes: Some(30),
                appointment_type_id: None,
                reason: Some("check-up".into()),
                outside_hours_override: true,
                repeat: None,
                repeated_hour: Default::default(),
            })
            .unwrap();
        server.start_again();
        clinicdesk_sync::sync_now(&mut frank_there).unwrap();
    });

    // Online again; the front desk's booking lost its time: a conflict for the front desk.
    app.click("Sync now").await;
    app.wait_text("[data-testid=sync-state]", "Online").await;
    app.wait_text("[data-testid=sync-conflicts]", "1 conflict to settle")
        .await;
    app.click("1 conflict to settle").await;
    app.wait_text("[data-testid=conflict-subject]", "Grace Hopper")
        .await;
    app.wait_text(
        "[data-testid=conflict]",
        "another workstation booked that time first",
    )
    .await;
    let offered = app.text("[data-testid=free-slot]").await;
    assert!(offered.starts_with("Book at"), "{offered}");
    app.screenshot("24-sync-conflicts").await;
    app.find("[data-testid=free-slot]")
        .await
        .click()
        .await
        .unwrap();
    app.wait_text("[data-testid=conflict-done]", "booked at")
        .await;
    app.wait_text("[data-testid=no-conflicts]", "nothing to settle")
        .await;
    app.click("Sync now").await;
    app.wait_text("[data-testid=sync-said]", "Synced").await;
    app.wait_text("[data-testid=sync-waiting]", "Nothing waiting")
        .await;
    app.stop().await;

    // A third workstation joins from the app's first-run screen; its administrator signs in and
    // the records arrive.
    let office = tempfile::tempdir().unwrap();
    let office_code = off_runtime(|| {
        server
            .enrolment_code(&registry_clinic(&server), "office")
            .to_text()
    });
    let app =
        Desktop::start_with(office.path(), &[("CLINICDESK_SYNC_EVERY_SECONDS", "3600")]).await;
    app.click("Join it instead").await;
    app.fill("#join-server", &server.workstation_url()).await;
    app.fill("#join-code", &office_code).await;
    app.fill("#join-username", "admin").await;
    app.fill("#join-password", ADMIN_PASSWORD).await;
    app.click("Check the code").await;
    app.find("[data-testid=enrolment-preview] input[type=checkbox]")
        .await
        .click()
        .await
        .unwrap();
    app.click("Join the clinic").await;
    let key = app.text("[data-testid=recovery-key]").await;
    assert_eq!(
        key.split('-').count(),
        8,
        "the recovery key is shown: {key}"
    );
    app.find("input[type=checkbox]")
        .await
        .click()
        .await
        .unwrap();
    app.click("Start using Clinicdesk").await;
    app.wait_text("[data-testid=sync-state]", "Online").await;
    app.logoff().await;
    app.login("frank", STAFF_PASSWORD).await;
    app.click("Patients").await;
    app.fill("#search", "Hopper").await;
    app.wait_text("#results", &grace).await;
    app.stop().await;

    // The nurses' workstation has both bookings, at different times.
    off_runtime(move || {
        clinicdesk_sync::sync_now(&mut frank_there).unwrap();
        let rows = clinicdesk_core::synced_rows_of(&frank_there).unwrap();
        let bookings: Vec<&serde_json::Value> = rows["appointments"].values().collect();
        assert_eq!(bookings.len(), 2, "{bookings:?}");
        assert_ne!(bookings[0]["starts_at"], bookings[1]["starts_at"]);
        let trail = nurses
            .login("mona", STAFF_PASSWORD)
            .audit_list(&clinicdesk_core::AuditFilter {
                action: Some("sync.resolve".into()),
                ..Default::default()
            })
            .unwrap();
        assert!(
            trail
                .entries
                .iter()
                .any(|entry| entry.from_other_workstation
                    && entry.username.as_deref() == Some("frank")),
            "the resolution is in the audit trail, seen from the other workstation after sync: {:?}",
            trail
                .entries
                .iter()
                .map(|entry| (&entry.action, &entry.username, entry.from_other_workstation))
                .collect::<Vec<_>>()
        );
        drop(server);
        drop(origin);
    });
}

/// The clinic's id on the server (the front desk's store bound it when it enrolled).
fn registry_clinic(server: &CentralServer) -> String {
    server
        .owner()
        .query_one(
            "SELECT clinic_id::text FROM clinicdesk.clinic_registry",
            &[],
        )
        .unwrap()
        .get(0)
}
