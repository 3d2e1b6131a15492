//! End to end in the real app and its real webview: tauri-driver with WebKitWebDriver, under Xvfb
//! (`scripts/test` runs the suite with `xvfb-run`). One clinic's day, person by person, on a new
//! store: first run with demo data and login; an administrator adds a user and changes a role;
//! that user must change the one-time password; the front desk registers, books, reschedules and
//! checks in; a nurse records vitals (abnormal flagged, implausible refused); a clinician writes a
//! note; a manager reviews the audit trail; idle logoff keeps a half-typed form for the same user;
//! a byte of a table is changed, everyone is told, and the manager restores from that screen; the
//! first page is damaged, nobody can sign in, and the recovery key restores from the sign-in
//! screen.
//! Each main screen is saved as a PNG (`target/e2e-screenshots/`, and `docs/screenshots/` with
//! `UPDATE_SCREENSHOTS=1`).

mod desktop;
mod update_server;

use desktop::{Desktop, ADMIN_PASSWORD, STAFF_PASSWORD};
use fantoccini::Locator;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn a_clinic_day_person_by_person_in_the_real_app() {
    let data = tempfile::tempdir().unwrap();
    let app = Desktop::start(data.path()).await;

    // First run: the clinic, the administrator, the recovery key, demo data.
    app.fill("#clinic", "Riverside Family Clinic").await;
    // The time zone from the searchable list; the locale follows it (German dates and numbers).
    app.fill("#zone", "berl").await;
    app.find("#zone-list option[value='Europe/Berlin']")
        .await
        .click()
        .await
        .unwrap();
    app.wait_text("[data-testid=zone-chosen]", "Europe/Berlin")
        .await;
    app.wait_text("[data-testid=locale-example]", "1.234,5")
        .await;
    app.fill("#admin-name", "Alex Admin").await;
    app.fill("#admin-password", "short").await;
    app.fill("#admin-repeat", "short").await;
    app.click("Create the clinic").await;
    app.wait_text(".error", "too short").await;
    app.fill("#admin-password", ADMIN_PASSWORD).await;
    app.fill("#admin-repeat", ADMIN_PASSWORD).await;
    app.screenshot("01-first-run").await;
    app.click("Create the clinic").await;
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
    app.click("Try with demo data").await;
    let nurse_one_time = app.text("[data-testid='demo-password-demo.nurse']").await;
    let front_desk_one_time = app
        .text("[data-testid='demo-password-demo.frontdesk']")
        .await;
    let doctor_one_time = app.text("[data-testid='demo-password-demo.doctor']").await;
    let manager_one_time = app.text("[data-testid='demo-password-demo.manager']").await;
    app.screenshot("02-demo-ready").await;
    app.click("Go to the login").await;
    app.find("#username").await;
    app.login("admin", "not the password at all").await;
    app.wait_text("[data-testid=login-error]", "Wrong username or password")
        .await;
    app.screenshot("03-login").await;

    // The administrator adds a user and changes a role; no patient data on these screens.
    app.login("admin", ADMIN_PASSWORD).await;
    app.click("Users").await;
    app.fill("#new-username", "nina.new").await;
    app.fill("#new-name", "Nina New").await;
    app.click("Add user").await;
    let nina_one_time = app.text("[data-testid=issued-password]").await;
    app.find("#role-nina\\.new")
        .await
        .send_keys("nurse")
        .await
        .unwrap();
    app.wait_text(
        "[data-testid='role-confirm-nina.new']",
        "From front desk to nurse",
    )
    .await;
    app.click("Change role").await;
    app.wait_gone("[data-testid='role-confirm-nina.new']").await;
    app.wait_text("[data-testid='user-nina.new']", "nina.new")
        .await;
    app.screenshot("04-admin-users").await;
    let role = app
        .find("#role-nina\\.new")
        .await
        .prop("value")
        .await
        .unwrap();
    assert_eq!(role.as_deref(), Some("nurse"), "the role was changed");
    let page = app.client.source().await.unwrap();
    assert!(
        !page.contains("Patients"),
        "an administrator sees no patient screens"
    );
    // A new clinic's providers and their weekly hours are set up in the app too.
    app.click("Providers").await;
    app.fill("#provider-name", "Dr. Amina Yusuf").await;
    app.fill("#provider-specialty", "General practice").await;
    app.click("Add provider").await;
    app.wait_text("[role=status]", "Added Dr. Amina Yusuf")
        .await;
    app.click("Save hours").await;
    app.wait_text("[role=status]", "Working hours saved").await;
    app.wait_text("ul.hours", "Friday 13:00–17:00").await;
    app.screenshot("04b-admin-providers").await;
    app.click("Security").await;
    app.fill("#idle", "60").await;
    app.fill("#warning", "10").await;
    app.click("Save settings").await;
    app.wait_text("[role=status]", "Saved").await;
    // Updates: the administrator points the workstation at the clinic group's update server, sees
    // the new version with its notes, and chooses to install it; the package is not signed with
    // the project's key, so it is refused and nothing is installed.
    let update_server = update_server::UpdateServer::start();
    let stranger = update_server::SigningKey::generate();
    let package_folder = tempfile::tempdir().unwrap();
    let package = update_server::debian_package(package_folder.path(), "0.2.0");
    let signature = stranger.sign(&package, "clinicdesk_0.2.0_amd64.deb", "0.2.0");
    update_server.serve("/package.deb", update_server::Reply::Bytes(package));
    update_server.offer("0.2.0", &signature, None);
    app.click("Updates").await;
    app.wait_text("[data-testid=installed-version]", "Clinicdesk 0.1.0")
        .await;
    app.fill(
        "#update-endpoint",
        "http://updates.riverside.example/latest.json",
    )
    .await;
    app.click("Save address").await;
    app.wait_text(".error", "use https").await;
    app.fill("#update-endpoint", &update_server.url("/latest.json"))
        .await;
    app.click("Save address").await;
    app.wait_text(
        "[data-testid=update-available]",
        "Version 0.2.0 is available",
    )
    .await;
    app.wait_text("[data-testid=update-notes]", "allergies on the day list")
        .await;
    app.wait_text(".hint", "a backup is made and verified first")
        .await;
    app.screenshot("04c-admin-updates").await;
    app.click("Install version 0.2.0…").await;
    app.click("Install version 0.2.0 and restart").await;
    app.wait_text(
        "[data-testid=update-error]",
        "not signed with the Clinicdesk project's key",
    )
    .await;
    app.screenshot("04d-update-refused").await;
    // The refused package is not offered again; a new one from the server is.
    app.click("Check for updates").await;
    app.wait_text(
        "[data-testid=update-refused-earlier]",
        "still offers version 0.2.0, which was refused",
    )
    .await;
    let newer = update_server::debian_package(package_folder.path(), "0.3.0");
    let signature = stranger.sign(&newer, "clinicdesk_0.3.0_amd64.deb", "0.3.0");
    update_server.serve("/package.deb", update_server::Reply::Bytes(newer));
    update_server.offer("0.3.0", &signature, None);
    app.click("Check for updates").await;
    app.wait_text(
        "[data-testid=update-available]",
        "Version 0.3.0 is available",
    )
    .await;
    app.logoff().await;

    // The new user must choose a password at first login.
    app.login("nina.new", &nina_one_time).await;
    app.find("#new-password").await;
    app.screenshot("05-change-password").await;
    app.fill("#current", &nina_one_time).await;
    app.fill("#new-password", "nina").await;
    app.fill("#repeat", "nina").await;
    app.click("Save and continue").await;
    app.wait_text("[data-testid=password-error]", "too short")
        .await;
    app.fill("#new-password", STAFF_PASSWORD).await;
    app.fill("#repeat", STAFF_PASSWORD).await;
    app.click("Save and continue").await;
    app.button("Log off").await;
    // Everyone signed in here is told that a new version waits for an administrator.
    app.wait_text(
        "[data-testid=update-notice]",
        "Version 0.3.0 of Clinicdesk is ready. An administrator will install it",
    )
    .await;
    app.screenshot("05b-update-notice").await;
    app.logoff().await;

    // Front desk: register (with the duplicate warning), book, reschedule, check in.
    app.first_login("demo.frontdesk", &front_desk_one_time)
        .await;
    // The front desk starts on today's schedule of the clinic.
    app.wait_text("[data-testid=today] h1", "Today at the clinic")
        .await;
    app.screenshot("06a-front-desk-today").await;
    app.click("Patients").await;
    app.click("New patient").await;
    app.fill("#given", "Ngozi").await;
    app.fill("#family", "Okafor").await;
    app.fill("#dob", "1984-03-27").await;
    app.fill("#phone", "+49 30 1234567").await;
    app.find("#sex").await.send_keys("Female").await.unwrap();
    app.click("Register").await;
    let registered = app.wait_text("[role=status]", "MRN").await;
    let mrn = registered
        .split("MRN ")
        .nth(1)
        .unwrap()
        .trim_end_matches('.')
        .trim()
        .to_owned();
    app.click("New patient").await;
    app.fill("#given", "Ngozi").await;
    app.fill("#family", "Okafr").await;
    app.fill("#dob", "1984-03-27").await;
    app.click("Register").await;
    app.wait_text("[data-testid=duplicate-warning]", &mrn).await;
    app.screenshot("06-front-desk-duplicate-warning").await;
    app.fill("#search", "okafr ngozi").await;
    app.wait_text("#results", &mrn).await;
    app.screenshot("07-front-desk-search").await;
    app.click("Schedule").await;
    app.click("Book appointment").await;
    app.fill("#book-patient", &mrn).await;
    app.button(&format!("Okafor, Ngozi · 1984-03-27 · {mrn}"))
        .await
        .click()
        .await
        .unwrap();
    app.click("Next free").await;
    let slot = app.wait_value("#book-at").await;
    assert_eq!(slot.len(), 16, "next free slot filled in: {slot:?}");
    app.click("Book").await;
    app.wait_text("[data-testid=schedule-message]", "Booked Ngozi Okafor")
        .await;
    // The week view shows the week's appointments with the patient's name, and week → day comes
    // back to the same day.
    let day_title = app.text(".calendar .ec-title").await;
    app.click("Week").await;
    let started = std::time::Instant::now();
    while app.text(".calendar .ec-title").await == day_title {
        assert!(
            started.elapsed() < desktop::WAIT,
            "the week view did not open"
        );
        tokio::task::yield_now().await;
    }
    app.wait_text(".calendar .ec-body", "Ngozi Okafor").await;
    app.screenshot("08b-front-desk-week").await;
    app.click("Day").await;
    app.wait_text(".calendar .ec-title", &day_title).await;
    app.wait_text(".calendar .ec-body", "Ngozi Okafor").await;
    app.button(&format!("{} Ngozi Okafor · booked", &slot[11..]))
        .await
        .click()
        .await
        .unwrap();
    // The appointment's panel shows the patient's allergy badge (the front desk sees whether,
    // not what) in the place kept for it, so the buttons below stay where they are.
    app.wait_text(
        ".columns [data-testid=allergy-banner]",
        "Allergies not recorded",
    )
    .await;
    app.click("Next free").await;
    app.wait_value("#move-to").await;
    app.click("Move").await;
    let moved = app
        .wait_text("[data-testid=schedule-message]", "Moved Ngozi Okafor")
        .await;
    assert!(!moved.contains(&slot), "moved away from {slot}: {moved}");
    app.click("Check in").await;
    app.wait_text("[data-testid=schedule-message]", "arrived")
        .await;
    app.screenshot("08-front-desk-schedule").await;
    app.logoff().await;

    // Nurse: implausible refused, abnormal flagged, BMI shown.
    app.first_login("demo.nurse", &nurse_one_time).await;
    // The nurse starts on the patients waiting for vital signs.
    app.wait_text("[data-testid=today] h1", "Waiting for vital signs")
        .await;
    app.screenshot("08c-nurse-today").await;
    app.open_patient(&mrn).await;
    // A new patient: nobody has asked about allergies yet, and the chart says so (amber), apart
    // from "no known allergies". The nurse records a penicillin allergy from the keyboard.
    app.wait_text("[data-testid=allergy-banner]", "Allergies not recorded")
        .await;
    app.find("[data-testid=allergy-banner][data-state=not_recorded]")
        .await;
    app.click("Add allergy").await;
    app.fill("#allergy-substance", "Penicillin").await;
    app.fill("#allergy-reaction", "Hives").await;
    app.find("#allergy-severity")
        .await
        .send_keys("moderate")
        .await
        .unwrap();
    app.screenshot("09a-nurse-allergy-form").await;
    app.find("#allergy-reaction")
        .await
        .send_keys("\u{E007}")
        .await
        .unwrap();
    app.wait_text(
        "[data-testid=safety-facts-saved]",
        "Allergy to Penicillin recorded",
    )
    .await;
    app.wait_text("[data-testid=allergy-banner]", "Penicillin")
        .await;
    app.find("[data-testid=allergy-banner][data-state=has_allergies]")
        .await;
    app.wait_text(
        "section[aria-labelledby=allergies-heading]",
        "Hives · moderate",
    )
    .await;
    app.screenshot("09b-nurse-allergy-recorded").await;
    app.fill("#vital-heart_rate", "400").await;
    app.wait_text(
        "[data-testid=vital-heart_rate-note]",
        "outside the plausible range 20–300",
    )
    .await;
    assert!(
        app.button("Save vitals")
            .await
            .attr("disabled")
            .await
            .unwrap()
            .is_some(),
        "an implausible value cannot be saved"
    );
    app.fill("#vital-heart_rate", "88").await;
    app.fill("#vital-systolic", "182").await;
    app.fill("#vital-diastolic", "95").await;
    app.fill("#vital-temperature", "100.4").await;
    app.find("button[aria-label^='Unit for body temperature']")
        .await
        .click()
        .await
        .unwrap();
    app.fill("#vital-weight", "68").await;
    app.fill("#vital-height", "177.8").await;
    app.wait_text("[data-testid=vital-systolic-note]", "critical high")
        .await;
    app.wait_text("[data-testid=bmi]", "21.5").await;
    app.screenshot("09-nurse-vitals-form").await;
    app.click("Save vitals").await;
    let saved = app.wait_text("[data-testid=vitals-saved]", "Flagged").await;
    assert!(
        saved.contains("systolic blood pressure 182") && saved.contains("critical high"),
        "{saved}"
    );
    assert!(
        saved.contains("body temperature 38"),
        "°F converted: {saved}"
    );
    // The flowsheet is a grid: the critical systolic value is marked in its cell (the grid appears
    // once the saved set has been read back).
    app.find(
        "table.flowsheet button.flag-critical_high[aria-label^='Systolic blood pressure 182']",
    )
    .await;
    app.client
        .execute(
            "document.querySelector('table.flowsheet').scrollIntoView({block: 'center'})",
            vec![],
        )
        .await
        .unwrap();
    app.screenshot("10-nurse-flowsheet").await;
    // A mistaken value is never edited: it is marked entered-in-error, with a reason, and stays
    // visible, struck through, with the reason one click away.
    app.find("table.flowsheet button[aria-label^='Body weight 68 ']")
        .await
        .click()
        .await
        .unwrap();
    app.fill("#error-reason", "weighed with coat and boots")
        .await;
    app.click("Mark entered in error").await;
    app.find("table.flowsheet button.in-error[aria-label^='Body weight 68 '][aria-label$='entered in error']")
        .await
        .click()
        .await
        .unwrap();
    app.wait_text(
        "[data-testid=picked-observation]",
        "Entered in error: weighed with coat and boots",
    )
    .await;
    app.logoff().await;

    // Clinician: a note on the chart.
    app.first_login("demo.doctor", &doctor_one_time).await;
    // The clinician starts on their patients today.
    app.wait_text("[data-testid=today] h1", "Your patients today")
        .await;
    app.open_patient(&mrn).await;
    // The nurse's allergy is on the clinician's chart, in red, above everything else.
    app.wait_text("[data-testid=allergy-banner]", "Penicillin")
        .await;
    app.find("[data-testid=allergy-banner][data-state=has_allergies]")
        .await;
    app.click("Notes").await;
    app.fill("#note-title", "Hypertension").await;
    app.fill(
        "#note-body",
        "BP 182/95 today, asymptomatic. Recheck in one week; home readings.",
    )
    .await;
    app.click("Save note").await;
    app.wait_text(".note-card", "Recheck in one week").await;
    app.screenshot("11-clinician-notes").await;
    app.click("Vitals").await;
    app.find(".trend").await;
    app.client
        .execute(
            "document.querySelector('.trend').scrollIntoView({block: 'center'})",
            vec![],
        )
        .await
        .unwrap();
    app.screenshot("12-clinician-vitals-trend").await;
    // The chart goes to a specialist as a FHIR Bundle; the file holds this patient's record.
    app.client
        .execute("window.scrollTo(0, 0)", vec![])
        .await
        .unwrap();
    app.click("Export chart (FHIR)").await;
    let exported = app
        .wait_text("[data-testid=chart-exported]", "Exported this chart")
        .await;
    let bundle_path = exported
        .split(" to ")
        .last()
        .expect("the file is named")
        .trim();
    let bundle: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(bundle_path).expect("the Bundle is there"))
            .unwrap();
    assert_eq!(bundle["type"], "collection");
    assert!(
        bundle.to_string().contains(&mrn),
        "the chart's MRN is in it"
    );
    let kinds: Vec<&str> = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|entry| entry["resource"]["resourceType"].as_str())
        .collect();
    for kind in [
        "Patient",
        "Observation",
        "DocumentReference",
        "AllergyIntolerance",
    ] {
        assert!(
            kinds.contains(&kind),
            "the Bundle holds a {kind}: {kinds:?}"
        );
    }
    app.screenshot("12b-clinician-chart-exported").await;
    app.logoff().await;

    // Manager: the audit trail shows who did what.
    app.first_login("demo.manager", &manager_one_time).await;
    app.wait_text("table", "recorded vital signs").await;
    app.wait_text("table", &format!("Ngozi Okafor (MRN {mrn})"))
        .await;
    app.click("Verify the trail").await;
    app.wait_text("[role=status]", "intact").await;
    app.fill("#report-mrn", &mrn).await;
    app.click("Show").await;
    app.wait_text(".card:last-child table", "demo.nurse").await;
    app.client
        .execute("window.scrollTo(0, 0)", vec![])
        .await
        .unwrap();
    app.screenshot("13-manager-audit").await;

    // Manager: the whole clinic as FHIR for another system, with progress; the folder holds one
    // line per patient the screen counts.
    app.click("Export records").await;
    app.click("Export the clinic's records").await;
    let done = app
        .wait_text(
            "[data-testid=export-done]",
            "Exported the clinic's records of",
        )
        .await;
    let folder = app.text("[data-testid=export-folder]").await;
    let patients: usize = done
        .split(" of ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|count| count.parse().ok())
        .expect("a patient count");
    let lines = std::fs::read_to_string(std::path::Path::new(folder.trim()).join("Patient.ndjson"))
        .expect("Patient.ndjson");
    assert_eq!(lines.lines().count(), patients);
    assert!(lines.contains(&mrn));
    app.screenshot("13b-manager-export").await;

    // Manager: a backup, a change after it, a restore, and the earlier records are back.
    app.click("Backups").await;
    app.click("Back up now").await;
    app.wait_text("[data-testid=backup-message]", "Backup saved")
        .await;
    let counts_at_backup = app.text("[data-testid=store-counts]").await;
    app.wait_text("[data-testid=backup-list]", "demo.manager")
        .await;
    app.screenshot("14-manager-backups").await;
    app.logoff().await;
    app.login("demo.frontdesk", STAFF_PASSWORD).await;
    app.click("Patients").await;
    app.click("New patient").await;
    app.fill("#given", "Zed").await;
    app.fill("#family", "Afterbackup").await;
    app.fill("#dob", "1990-02-03").await;
    app.click("Register").await;
    app.wait_text("[role=status]", "MRN").await;
    app.logoff().await;
    app.login("demo.manager", STAFF_PASSWORD).await;
    app.click("Backups").await;
    let counts_now = app.text("[data-testid=store-counts]").await;
    assert_ne!(counts_now, counts_at_backup, "the new patient is counted");
    app.click("Restore…").await;
    app.find("[role=alertdialog]").await;
    app.screenshot("15-manager-restore-confirm").await;
    app.click("Yes, restore").await;
    app.wait_text("[data-testid=restore-result]", "Restored")
        .await;
    app.wait_text("[data-testid=store-counts]", &counts_at_backup)
        .await;
    app.screenshot("16-manager-restored").await;
    app.logoff().await;
    app.login("demo.frontdesk", STAFF_PASSWORD).await;
    app.click("Patients").await;
    app.fill("#search", "Afterbackup").await;
    app.wait_text("main", "No patient matches").await;
    app.fill("#search", &mrn).await;
    app.wait_text("#results", &mrn).await;
    // The front desk sees that the patient has an allergy, not which.
    app.open_patient(&mrn).await;
    let badge = app
        .wait_text("[data-testid=allergy-banner]", "1 recorded")
        .await;
    assert!(
        !badge.contains("Penicillin"),
        "the front desk sees no substances: {badge}"
    );
    app.screenshot("16b-front-desk-allergy-badge").await;
    app.logoff().await;

    // Idle logoff (60 s, warning 10 s, set above) keeps the half-typed form for the same nurse.
    app.login("demo.nurse", STAFF_PASSWORD).await;
    app.open_patient(&mrn).await;
    app.fill("#vital-systolic", "150").await;
    app.click("Add allergy").await;
    app.fill("#allergy-substance", "Latex").await;
    app.client
        .wait()
        .at_most(Duration::from_secs(90))
        .for_element(Locator::Css("[data-testid=idle-countdown]"))
        .await
        .expect("the idle warning appears");
    app.screenshot("17-idle-warning").await;
    let login_again = app
        .client
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css("#username"))
        .await
        .expect("logged off");
    drop(login_again);
    app.wait_text(
        "[role=status]",
        "logged off after 1 minute without activity",
    )
    .await;
    app.login("demo.nurse", STAFF_PASSWORD).await;
    app.wait_text("section.content", "unsaved vitals form for Ngozi Okafor")
        .await;
    app.wait_text("section.content", "unsaved allergy form for Ngozi Okafor")
        .await;
    app.screenshot("18-draft-offered").await;
    app.click("Restore it").await;
    let restored = app
        .find("#vital-systolic")
        .await
        .prop("value")
        .await
        .unwrap();
    assert_eq!(
        restored.as_deref(),
        Some("150"),
        "the half-typed value came back"
    );
    // The chart's other half-typed form came back with it.
    assert_eq!(app.wait_value("#allergy-substance").await, "Latex");
    app.stop().await;

    // A disk fault changes one byte of a table: everyone is told, and the manager restores the
    // latest backup from the same screen; the records are back and the app works again.
    clinicdesk_tests::damage_store_page(data.path(), "admin", ADMIN_PASSWORD, "patients");
    let app = Desktop::start(data.path()).await;
    app.login("demo.frontdesk", STAFF_PASSWORD).await;
    app.wait_text("[data-testid=store-damaged]", "damaged")
        .await;
    app.wait_text("[data-testid=store-damaged]", "Ask a clinic manager")
        .await;
    app.screenshot("19-store-damaged").await;
    app.logoff().await;
    app.login("demo.manager", STAFF_PASSWORD).await;
    app.wait_text("[data-testid=store-damaged]", "Restore the latest backup")
        .await;
    app.wait_text("[data-testid=backup-list]", "demo.manager")
        .await;
    app.click("Restore…").await;
    app.find("[role=alertdialog]").await;
    app.click("Yes, restore").await;
    app.wait_text("[data-testid=restore-result]", "Restored")
        .await;
    // Repaired: the manager's own screens are back.
    app.button("Audit & review").await;
    app.logoff().await;
    app.login("demo.frontdesk", STAFF_PASSWORD).await;
    app.click("Patients").await;
    app.fill("#search", &mrn).await;
    app.wait_text("#results", &mrn).await;
    app.stop().await;

    // Damage to the first page keeps everyone from signing in: the sign-in screen offers the
    // restore with the recovery key, and afterwards everyone signs in with their own password.
    clinicdesk_tests::damage_store_page(data.path(), "admin", ADMIN_PASSWORD, "first page");
    let app = Desktop::start(data.path()).await;
    app.login("demo.frontdesk", STAFF_PASSWORD).await;
    app.wait_text("[data-testid=login-error]", "cannot be opened")
        .await;
    app.wait_text("[data-testid=recovery-restore]", "demo.manager")
        .await;
    app.fill("#recovery-key", &key).await;
    app.screenshot("20-restore-with-recovery-key").await;
    app.click("Restore this backup").await;
    app.wait_text("[data-testid=recovery-result]", "Restored the backup")
        .await;
    app.login("demo.frontdesk", STAFF_PASSWORD).await;
    app.click("Patients").await;
    app.fill("#search", &mrn).await;
    app.wait_text("#results", &mrn).await;
    app.stop().await;
}
