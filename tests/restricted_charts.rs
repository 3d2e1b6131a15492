//! Restricted charts: the care team sees them; other clinical users need emergency access with
//! a reason, which lasts for the configured time, is audited and is listed for review.

use chrono::Duration;
use clinicdesk_core::{AuditFilter, ErrorCode, NewPatient, Registration, Sex};
use clinicdesk_tests::Clinic;

const PASSWORD: &str = "saffron harbour tundra echo";

fn restricted_patient(clinic: &Clinic) -> String {
    for (username, role) in [
        ("frank", "front_desk"),
        ("dr.cole", "clinician"),
        ("dr.amin", "clinician"),
        ("mona", "manager"),
    ] {
        clinic.add_user(username, role, PASSWORD);
    }
    let mut frank = clinic.login("frank", PASSWORD).unwrap();
    let new = NewPatient {
        given_name: "Ngozi".into(),
        family_name: "Okafor".into(),
        date_of_birth: "1984-03-27".into(),
        sex: Sex::Female,
        phone: Some("+49 30 1234567".into()),
        restricted: true,
    };
    let Registration::Registered { mrn, .. } = frank.register_patient(&new, false).unwrap() else {
        panic!("registered")
    };
    frank
        .add_care_team_member(&mrn, "dr.cole", "primary_clinician")
        .unwrap();
    mrn
}

#[test]
fn the_care_team_sees_a_restricted_chart_and_others_are_told_how_to_get_in() {
    let clinic = Clinic::new();
    let mrn = restricted_patient(&clinic);
    let chart = clinic
        .login("dr.cole", PASSWORD)
        .unwrap()
        .open_chart(&mrn)
        .unwrap();
    assert_eq!(chart.access, "care_team");
    assert_eq!(chart.demographics.phones, vec!["+49 30 1234567".to_owned()]);

    let refused = clinic
        .login("dr.amin", PASSWORD)
        .unwrap()
        .open_chart(&mrn)
        .err()
        .unwrap();
    assert_eq!(refused.code, ErrorCode::EmergencyAccessRequired);
    let front_desk = clinic
        .login("frank", PASSWORD)
        .unwrap()
        .open_chart(&mrn)
        .err()
        .unwrap();
    assert_eq!(
        front_desk.code,
        ErrorCode::PermissionDenied,
        "front desk cannot break the glass"
    );
}

#[test]
fn emergency_access_needs_a_reason_lasts_its_time_and_is_listed_for_review() {
    let clinic = Clinic::new();
    let mrn = restricted_patient(&clinic);
    let mut amin = clinic.login("dr.amin", PASSWORD).unwrap();
    for reason in ["", "   ", "urgent"] {
        let error = amin.request_emergency_access(&mrn, reason).err().unwrap();
        assert_eq!(error.code, ErrorCode::InvalidInput, "reason {reason:?}");
        assert!(error.message.contains("reason"));
    }
    assert_eq!(
        amin.open_chart(&mrn).err().unwrap().code,
        ErrorCode::EmergencyAccessRequired,
        "no grant was made"
    );

    let grant = amin
        .request_emergency_access(&mrn, "Collapsed in the waiting room; care team unreachable")
        .unwrap();
    assert_eq!(
        grant.expires_at, "2026-11-02T09:00:00.000Z",
        "60 minutes by default"
    );
    assert_eq!(amin.open_chart(&mrn).unwrap().access, "emergency_access");
    clinic.clock.advance(Duration::minutes(59));
    let mut amin = clinic.login("dr.amin", PASSWORD).unwrap();
    amin.open_chart(&mrn).expect("still inside the grant");
    clinic.clock.advance(Duration::minutes(1));
    let amin_again = clinic
        .login("dr.amin", PASSWORD)
        .unwrap()
        .open_chart(&mrn)
        .err()
        .unwrap();
    assert_eq!(
        amin_again.code,
        ErrorCode::EmergencyAccessRequired,
        "the grant expired"
    );

    let mut mona = clinic.login("mona", PASSWORD).unwrap();
    let waiting = mona.emergency_access_for_review(false).unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].username, "dr.amin");
    assert_eq!(waiting[0].mrn, mrn);
    assert!(waiting[0].reason.contains("Collapsed"));
    let reviewed = mona
        .mark_emergency_access_reviewed(&grant.id, "Confirmed with the ward: justified")
        .unwrap();
    assert_eq!(reviewed.reviewed_by.as_deref(), Some("mona"));
    assert!(mona.emergency_access_for_review(false).unwrap().is_empty());
    assert_eq!(
        mona.mark_emergency_access_reviewed(&grant.id, "again")
            .err()
            .unwrap()
            .code,
        ErrorCode::Conflict
    );

    let trail = mona
        .audit_list(&AuditFilter {
            action: Some("emergency.".into()),
            ..Default::default()
        })
        .unwrap()
        .entries;
    let actions: Vec<&str> = trail.iter().map(|entry| entry.action.as_str()).collect();
    assert_eq!(actions, ["emergency.review", "emergency.access"]);
    assert!(trail[1].details.contains("flagged_for_review"));
    let report = mona.access_report(&mrn).unwrap();
    let opened_by_amin = report
        .iter()
        .filter(|line| line.username.as_deref() == Some("dr.amin") && line.action == "chart.open")
        .count();
    assert_eq!(
        opened_by_amin, 4,
        "refused, opened, opened again, refused after expiry: each one is in the access report"
    );
    mona.audit_verify().unwrap();
}

#[test]
fn registering_a_likely_duplicate_creates_nothing_until_confirmed() {
    let clinic = Clinic::new();
    let _ = restricted_patient(&clinic);
    let mut frank = clinic.login("frank", PASSWORD).unwrap();
    let typo = NewPatient {
        given_name: "Ngozi".into(),
        family_name: "Okafr".into(),
        date_of_birth: "1984-03-27".into(),
        sex: Sex::Female,
        phone: None,
        restricted: false,
    };
    let Registration::LikelyDuplicates { candidates } =
        frank.register_patient(&typo, false).unwrap()
    else {
        panic!("a likely duplicate is reported")
    };
    assert_eq!(candidates.len(), 1);
    assert_eq!(candidates[0].family_name, "Okafor");
    let same_phone = NewPatient {
        given_name: "Chidi".into(),
        family_name: "Eze".into(),
        date_of_birth: "2001-01-01".into(),
        phone: Some("+49 (30) 123-4567".into()),
        ..typo.clone()
    };
    let Registration::LikelyDuplicates { candidates } =
        frank.register_patient(&same_phone, false).unwrap()
    else {
        panic!("the same phone number, formatted differently, is a likely duplicate")
    };
    assert_eq!(candidates[0].why, "same phone number");
    let other_phone = NewPatient {
        phone: Some("+49 30 7654321".into()),
        ..same_phone.clone()
    };
    assert!(matches!(
        frank.register_patient(&other_phone, false).unwrap(),
        Registration::Registered { .. }
    ));
    let status_before = frank.status().unwrap();
    assert!(matches!(
        frank.register_patient(&typo, true).unwrap(),
        Registration::Registered { .. }
    ));
    let status_after = frank.status().unwrap();
    assert_ne!(status_before.counts, status_after.counts);
}
