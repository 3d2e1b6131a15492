//! Lockout, idle logoff, drafts, audit tamper evidence and key rotation, on an injected clock.

use chrono::Duration;
use clinicdesk_core::{AuditFilter, ErrorCode, LogoffReason};
use clinicdesk_keyslot::DataKey;
use clinicdesk_store::rusqlite::Connection;
use clinicdesk_tests::{secret, Clinic, ADMIN, ADMIN_PASSWORD};

const NURSE_PASSWORD: &str = "pebble orchard drift lantern";

#[test]
fn five_wrong_passwords_lock_the_account_until_the_lock_period_ends() {
    let clinic = Clinic::new();
    clinic.add_user("nurse.joy", "nurse", NURSE_PASSWORD);
    for attempt in 1..=4 {
        let error = clinic
            .login("nurse.joy", "not her password at all")
            .err()
            .unwrap();
        assert_eq!(
            error.code,
            ErrorCode::AuthenticationFailed,
            "attempt {attempt}"
        );
    }
    let locked = clinic
        .login("nurse.joy", "not her password at all")
        .err()
        .unwrap();
    assert_eq!(locked.code, ErrorCode::AccountLocked);
    let refused = clinic.login("nurse.joy", NURSE_PASSWORD).err().unwrap();
    assert_eq!(
        refused.code,
        ErrorCode::AccountLocked,
        "the right password is refused while locked"
    );
    assert_eq!(refused.exit_code(), 3);
    assert!(
        refused.message.contains("2026-11-02 08:15"),
        "says when: {}",
        refused.message
    );

    clinic.clock.advance(Duration::minutes(14));
    assert_eq!(
        clinic
            .login("nurse.joy", NURSE_PASSWORD)
            .err()
            .unwrap()
            .code,
        ErrorCode::AccountLocked
    );
    clinic.clock.advance(Duration::minutes(1));
    clinic
        .login("nurse.joy", NURSE_PASSWORD)
        .expect("accepted after the lock period");

    let mut admin = clinic.admin();
    let failures = admin
        .audit_list(&AuditFilter {
            username: Some("nurse.joy".into()),
            action: Some("login.".into()),
            ..Default::default()
        })
        .unwrap()
        .entries;
    let count = |action: &str| {
        failures
            .iter()
            .filter(|entry| entry.action == action)
            .count()
    };
    assert_eq!(
        count("login.failure"),
        7,
        "5 wrong passwords and 2 refused while locked"
    );
    assert_eq!(count("login.lockout"), 1);
}

#[test]
fn an_operation_after_the_idle_timeout_fails_and_drops_the_session() {
    let clinic = Clinic::new();
    let mut admin = clinic.admin();
    clinic.clock.advance(Duration::seconds(599));
    admin.status().expect("still live just before the timeout");
    clinic.clock.advance(Duration::seconds(600));
    let expired = admin.status().err().unwrap();
    assert_eq!(expired.code, ErrorCode::SessionExpired);
    assert!(!admin.is_active());
    assert_eq!(
        admin.list_users().err().unwrap().code,
        ErrorCode::SessionExpired,
        "stays ended"
    );
    let mut again = clinic.admin();
    let idle = again
        .audit_list(&AuditFilter {
            action: Some("logoff.idle".into()),
            ..Default::default()
        })
        .unwrap()
        .entries;
    assert_eq!(idle.len(), 1);
    assert_eq!(
        idle[0].occurred_at, "2026-11-02T08:19:59.000Z",
        "logged off at the moment the timeout passed"
    );
}

#[test]
fn a_draft_comes_back_to_the_same_user_and_to_no_one_else() {
    let clinic = Clinic::new();
    clinic.add_user("nurse.joy", "nurse", NURSE_PASSWORD);
    clinic.add_user("nurse.kim", "nurse", "granite sparrow velvet moon");
    let mut joy = clinic.login("nurse.joy", NURSE_PASSWORD).unwrap();
    let draft = serde_json::json!({ "systolic": "142", "diastolic": "9" });
    joy.save_draft("vitals:patient-1", &draft).unwrap();
    clinic.clock.advance(Duration::seconds(700));
    assert_eq!(joy.status().err().unwrap().code, ErrorCode::SessionExpired);

    let mut kim = clinic
        .login("nurse.kim", "granite sparrow velvet moon")
        .unwrap();
    assert!(kim.drafts().unwrap().is_empty());
    let mut joy = clinic.login("nurse.joy", NURSE_PASSWORD).unwrap();
    let drafts = joy.drafts().unwrap();
    assert_eq!(drafts.len(), 1);
    assert_eq!(drafts[0].payload, draft);
    joy.discard_draft("vitals:patient-1").unwrap();
    assert!(joy.drafts().unwrap().is_empty());
}

/// Opens the store with the data key and lifts the append-only triggers, as an attacker would.
fn tamper(clinic: &Clinic, key: &DataKey, sql: &str) {
    let connection = Connection::open(clinic.data_dir.store_file()).unwrap();
    connection
        .pragma_update(None, "key", key.sqlcipher_literal().as_str())
        .unwrap();
    connection
        .execute_batch(&format!(
            "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; {sql}"
        ))
        .unwrap();
}

#[test]
fn every_kind_of_audit_tampering_is_detected_and_an_untouched_trail_verifies() {
    let cases: &[(&str, &str, &str)] = &[
        ("edit a row", "UPDATE audit_log SET username = 'someone' WHERE seq = 3", "#3"),
        ("delete a row", "DELETE FROM audit_log WHERE seq = 4", "#5"),
        (
            "swap two rows",
            "UPDATE audit_log SET seq = 100000 WHERE seq = 4; UPDATE audit_log SET seq = 4 WHERE seq = 5; UPDATE audit_log SET seq = 5 WHERE seq = 100000",
            "#4",
        ),
        // The verifying login appends after the gap, so the report names where #5 should have been.
        ("cut off the newest rows", "DELETE FROM audit_log WHERE seq > 4", "expected entry #5"),
    ];
    for (what, sql, names) in cases {
        let clinic = Clinic::new();
        clinic.add_user("nurse.joy", "nurse", NURSE_PASSWORD);
        let key = clinic.data_key();
        let verified = clinic
            .admin()
            .audit_verify()
            .expect("an untouched trail verifies");
        assert!(
            verified.entries >= 6,
            "{what}: enough entries to tamper with ({})",
            verified.entries
        );
        tamper(&clinic, &key, sql);
        let error = clinic
            .admin()
            .audit_verify()
            .err()
            .unwrap_or_else(|| panic!("{what}: not detected"));
        assert_eq!(error.code, ErrorCode::IntegrityFailure, "{what}");
        assert_eq!(error.exit_code(), 6);
        assert!(error.message.contains(names), "{what}: {}", error.message);
    }
}

#[test]
fn after_rekey_the_old_key_opens_nothing_and_everyone_still_logs_in() {
    let clinic = Clinic::new();
    clinic.add_user("nurse.joy", "nurse", NURSE_PASSWORD);
    let old_key = clinic.data_key();
    let mut admin = clinic.admin();
    admin.rotate_data_key().unwrap();
    admin
        .status()
        .expect("the rotating session goes on under the new key");
    admin.logoff(LogoffReason::Manual).unwrap();

    let new_key = clinic.data_key();
    assert_ne!(old_key.as_bytes(), new_key.as_bytes());
    assert!(clinicdesk_store::open_store(&clinic.data_dir.store_file(), &old_key).is_err());
    clinicdesk_store::open_store(&clinic.data_dir.store_file(), &new_key).unwrap();
    clinic.login(ADMIN, ADMIN_PASSWORD).unwrap();
    let mut joy = clinic.login("nurse.joy", NURSE_PASSWORD).unwrap();
    joy.change_password(
        &secret(NURSE_PASSWORD),
        &secret("granite sparrow velvet moon"),
    )
    .unwrap();
    let mut admin = clinic.admin();
    admin.audit_verify().unwrap();
    assert_eq!(
        admin
            .audit_list(&AuditFilter {
                action: Some("key.rotate".into()),
                ..Default::default()
            })
            .unwrap()
            .entries
            .len(),
        1
    );
}

#[test]
fn rekey_is_refused_while_another_session_has_the_store_open() {
    let clinic = Clinic::new();
    clinic.add_user("nurse.joy", "nurse", NURSE_PASSWORD);
    let _joy = clinic.login("nurse.joy", NURSE_PASSWORD).unwrap();
    let key = clinic.data_key();
    let error = clinic.admin().rotate_data_key().err().unwrap();
    assert_eq!(error.code, ErrorCode::Conflict);
    assert_eq!(
        clinic.data_key().as_bytes(),
        key.as_bytes(),
        "nothing changed"
    );
}
