//! Key slots through the core: every user unlocks, a disabled user does not, a password change
//! re-wraps only that slot, and the recovery key resets an administrator's password.

use clinicdesk_core::{ErrorCode, Session};
use clinicdesk_keyslot::{KeySlotFile, SlotOwner};
use clinicdesk_tests::{secret, Clinic, ADMIN, ADMIN_PASSWORD};

const STAFF: &[(&str, &str, &str)] = &[
    ("mona", "manager", "quartz meadow lantern ripple"),
    ("dr.cole", "clinician", "saffron harbour tundra echo"),
    ("nurse.joy", "nurse", "pebble orchard drift lantern"),
    ("frank", "front_desk", "copper willow basket thunder"),
];

#[test]
fn every_users_password_unlocks_and_a_wrong_one_is_refused() {
    let clinic = Clinic::new();
    for (username, role, password) in STAFF {
        clinic.add_user(username, role, password);
    }
    for (username, role, password) in STAFF {
        let session = clinic.login(username, password).unwrap();
        assert_eq!(session.user().role.code(), *role);
        assert!(!session.must_change_password());
    }
    clinic.admin();
    let wrong = clinic
        .login("nurse.joy", "saffron harbour tundra echo")
        .err()
        .unwrap();
    assert_eq!(wrong.code, ErrorCode::AuthenticationFailed);
    assert_eq!(wrong.exit_code(), 3);
    let unknown = clinic.login("nobody", ADMIN_PASSWORD).err().unwrap();
    assert_eq!(unknown.code, ErrorCode::AuthenticationFailed);
}

#[test]
fn a_disabled_users_password_no_longer_unlocks_and_enabling_issues_a_temporary_one() {
    let clinic = Clinic::new();
    clinic.add_user("frank", "front_desk", "copper willow basket thunder");
    clinic.admin().disable_user("frank").unwrap();
    let refused = clinic
        .login("frank", "copper willow basket thunder")
        .err()
        .unwrap();
    assert_eq!(refused.code, ErrorCode::AuthenticationFailed);
    let slots = KeySlotFile::new(clinic.data_dir.key_slot_file())
        .read()
        .unwrap();
    assert!(
        slots.slot(&SlotOwner::user("frank")).is_none(),
        "the slot is gone, not just flagged"
    );

    let temporary = clinic.admin().enable_user("frank").unwrap();
    let mut session = clinic.login("frank", &temporary.0).unwrap();
    assert!(session.must_change_password());
    assert_eq!(
        session.status().err().unwrap().code,
        ErrorCode::PasswordChangeRequired
    );
}

#[test]
fn a_password_change_rewraps_only_that_users_slot() {
    let clinic = Clinic::new();
    for (username, role, password) in STAFF {
        clinic.add_user(username, role, password);
    }
    let before = KeySlotFile::new(clinic.data_dir.key_slot_file())
        .read()
        .unwrap();
    let mut session = clinic
        .login("nurse.joy", "pebble orchard drift lantern")
        .unwrap();
    session
        .change_password(
            &secret("pebble orchard drift lantern"),
            &secret("granite sparrow velvet moon"),
        )
        .unwrap();
    let after = KeySlotFile::new(clinic.data_dir.key_slot_file())
        .read()
        .unwrap();
    for slot in &before.slots {
        let now = after.slots.iter().find(|s| s.owner == slot.owner).unwrap();
        let changed = now.sealed_secret_key != slot.sealed_secret_key;
        assert_eq!(
            changed,
            slot.owner == SlotOwner::user("nurse.joy"),
            "{:?}",
            slot.owner
        );
        assert_eq!(
            now.sealed_data_key, slot.sealed_data_key,
            "the data key stays sealed as it was"
        );
    }
    assert!(clinic
        .login("nurse.joy", "pebble orchard drift lantern")
        .is_err());
    clinic
        .login("nurse.joy", "granite sparrow velvet moon")
        .unwrap();
}

#[test]
fn the_recovery_key_sets_a_new_administrator_password() {
    let clinic = Clinic::new();
    clinic.add_user("frank", "front_desk", "copper willow basket thunder");
    let sloppy = clinic.recovery_key.to_lowercase().replace('-', " ");
    Session::recover_administrator(
        &clinic.data_dir,
        &sloppy,
        ADMIN,
        &secret("harvest comet jasmine ferry"),
        &clinic.environment,
    )
    .unwrap();
    assert!(clinic.login(ADMIN, ADMIN_PASSWORD).is_err());
    let mut admin = clinic.login(ADMIN, "harvest comet jasmine ferry").unwrap();
    let entries = admin.audit_list(&Default::default()).unwrap().entries;
    assert!(entries
        .iter()
        .any(|entry| entry.action == "recovery.password_reset"));
    admin.audit_verify().unwrap();

    let wrong_key = Session::recover_administrator(
        &clinic.data_dir,
        "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH",
        ADMIN,
        &secret("harvest comet jasmine ferry"),
        &clinic.environment,
    )
    .err()
    .unwrap();
    assert_eq!(wrong_key.code, ErrorCode::AuthenticationFailed);
    let not_admin = Session::recover_administrator(
        &clinic.data_dir,
        &clinic.recovery_key,
        "frank",
        &secret("harvest comet jasmine ferry"),
        &clinic.environment,
    )
    .err()
    .unwrap();
    assert_eq!(not_admin.code, ErrorCode::InvalidInput);
    clinic
        .login("frank", "copper willow basket thunder")
        .unwrap();
}
