//! Patient search finds the right person first from a typo, swapped names, a partial name, the
//! MRN, the date of birth and the phone; a merge moves appointments, vitals and notes and is undone.

use chrono::NaiveDate;
use clinicdesk_core::{BookingRequest, ErrorCode, NoteKind, VitalKind, VitalReading};
use clinicdesk_tests::Clinic;

struct People {
    clinic: Clinic,
    okafor: String,
}

fn people() -> People {
    let clinic = Clinic::with_staff();
    let okafor = clinic.register("Ngozi", "Okafor", "1984-03-27", Some("+49 30 1234567"));
    for (given, family, birth, phone) in [
        ("Ngozi", "Okoro", "1990-06-01", Some("+49 30 7654321")),
        ("Nkechi", "Okafor", "1984-03-28", None),
        ("Hans", "Okafor-Weber", "1951-12-24", None),
        ("Maria", "Schmidt", "1984-03-27", Some("0171 2222222")),
        ("Ngozi", "Adeyemi", "2001-09-09", None),
        ("Peter", "Müller", "1975-01-15", None),
    ] {
        clinic.register(given, family, birth, phone);
    }
    People { clinic, okafor }
}

#[test]
fn the_right_patient_ranks_first_for_every_kind_of_query() {
    let People { clinic, okafor } = people();
    let mut frank = clinic.staff("frank");
    let check = |frank: &mut clinicdesk_core::Session, query: &str| {
        let hits = frank.search_patients(query).unwrap();
        assert!(!hits.is_empty(), "{query:?} found nothing");
        assert_eq!(
            hits[0].mrn, okafor,
            "{query:?} ranked {} {} first: {hits:#?}",
            hits[0].given_name, hits[0].family_name
        );
    };
    check(&mut frank, "Ngozi Okafor");
    check(&mut frank, "ngozi okafr");
    check(&mut frank, "Ngzoi Okafor");
    check(&mut frank, "Okafor Ngozi");
    check(&mut frank, "okafor, ngozi");
    check(&mut frank, "Ngo Okaf");
    check(&mut frank, &okafor);
    check(&mut frank, &format!("{} {}", &okafor[..5], &okafor[5..]));
    check(&mut frank, "Okafor 1984-03-27");
    check(&mut frank, "27.03.1984 ngozi");
    check(&mut frank, "030 1234567");
    check(&mut frank, "+49 (30) 123-4567");
    let by_birth = frank.search_patients("1984-03-27").unwrap();
    assert_eq!(
        by_birth.len(),
        2,
        "both patients born that day, and only they"
    );
    assert!(frank.search_patients("").unwrap().is_empty());
    assert!(frank.search_patients("zzzzqqqq").unwrap().is_empty());
    assert_eq!(
        frank.search_patients("Müller").unwrap()[0].family_name,
        "Müller"
    );
    assert!(frank.search_patients(&"x".repeat(300)).is_err());
}

#[test]
fn a_merge_moves_appointments_vitals_and_notes_and_can_be_undone() {
    let People { clinic, okafor } = people();
    let duplicate = clinic.register("Ngozi", "Okafor", "1984-03-27", None);
    let provider = clinic
        .admin()
        .add_provider("Dr. Cole", Some("dr.cole"), Some("General practice"))
        .unwrap();
    let mut frank = clinic.staff("frank");
    frank
        .set_working_hours(&provider.id, &[1, 2, 3, 4, 5], &[(8 * 60, 17 * 60)])
        .unwrap();
    let booked = frank
        .book_appointment(&BookingRequest {
            mrn: duplicate.clone(),
            provider_id: provider.id.clone(),
            starts_local: NaiveDate::from_ymd_opt(2026, 11, 3)
                .unwrap()
                .and_hms_opt(10, 0, 0)
                .unwrap(),
            minutes: Some(20),
            appointment_type_id: None,
            reason: Some("Follow-up".into()),
            outside_hours_override: false,
            repeat: None,
            repeated_hour: Default::default(),
        })
        .unwrap();
    clinic
        .staff("nurse.joy")
        .record_vitals(
            &duplicate,
            &[VitalReading {
                kind: VitalKind::HeartRate,
                value: 72.0,
                unit: None,
            }],
            None,
        )
        .unwrap();
    clinic
        .staff("dr.cole")
        .write_note(
            &duplicate,
            NoteKind::Clinical,
            Some("Visit"),
            "Seen for cough.",
            None,
        )
        .unwrap();

    assert_eq!(
        frank
            .merge_patients(&okafor, &duplicate)
            .err()
            .unwrap()
            .code,
        ErrorCode::PermissionDenied
    );
    let mut mona = clinic.staff("mona");
    let merge = mona.merge_patients(&okafor, &duplicate).unwrap();
    let moved = |table: &str| merge.moved.iter().find(|(t, _)| t == table).unwrap().1;
    assert_eq!(
        (
            moved("appointments"),
            moved("vitals_sets"),
            moved("vital_observations"),
            moved("notes")
        ),
        (1, 1, 1, 1)
    );

    let mut cole = clinic.staff("dr.cole");
    assert_eq!(cole.list_notes(&okafor, None, 50).unwrap().len(), 1);
    assert_eq!(cole.vitals_flowsheet(&okafor, 50).unwrap().len(), 1);
    let day = frank
        .day_schedule(
            Some(&provider.id),
            NaiveDate::from_ymd_opt(2026, 11, 3).unwrap(),
        )
        .unwrap();
    assert_eq!(day[0].mrn, okafor);
    assert_eq!(day[0].id, booked[0].id);
    let gone = cole.open_chart(&duplicate).err().unwrap();
    assert!(
        gone.message.contains(&okafor),
        "points to the surviving record: {}",
        gone.message
    );
    assert!(
        frank
            .search_patients("Ngozi Okafor")
            .unwrap()
            .iter()
            .all(|hit| hit.mrn != duplicate),
        "the merged record is hidden"
    );

    mona.undo_merge(&duplicate).unwrap();
    assert_eq!(cole.list_notes(&duplicate, None, 50).unwrap().len(), 1);
    assert!(cole.list_notes(&okafor, None, 50).unwrap().is_empty());
    assert_eq!(cole.vitals_flowsheet(&duplicate, 50).unwrap().len(), 1);
    let day = frank
        .day_schedule(
            Some(&provider.id),
            NaiveDate::from_ymd_opt(2026, 11, 3).unwrap(),
        )
        .unwrap();
    assert_eq!(day[0].mrn, duplicate);
    mona.audit_verify().unwrap();
    let trail = mona
        .audit_list(&clinicdesk_core::AuditFilter {
            action: Some("patient.".into()),
            ..Default::default()
        })
        .unwrap()
        .entries;
    assert!(
        trail.iter().any(|e| e.action == "patient.merge")
            && trail.iter().any(|e| e.action == "patient.unmerge")
    );
}

#[test]
fn a_stale_demographics_change_is_a_conflict_not_an_overwrite() {
    let People { clinic, okafor } = people();
    let mut frank = clinic.staff("frank");
    let seen = frank.open_chart(&okafor).unwrap().demographics.version;
    let mut cole = clinic.staff("dr.cole");
    cole.update_demographics(
        &okafor,
        &clinicdesk_core::DemographicsChange {
            family_name: Some("Okafor-Eze".into()),
            ..Default::default()
        },
        Some(seen),
    )
    .unwrap();
    let stale = frank
        .update_demographics(
            &okafor,
            &clinicdesk_core::DemographicsChange {
                given_name: Some("Ngozika".into()),
                ..Default::default()
            },
            Some(seen),
        )
        .err()
        .unwrap();
    assert_eq!(stale.code, ErrorCode::Conflict);
    let chart = frank.open_chart(&okafor).unwrap();
    assert_eq!(
        (
            chart.demographics.given_name.as_str(),
            chart.demographics.family_name.as_str()
        ),
        ("Ngozi", "Okafor-Eze")
    );
    assert_eq!(
        frank.search_patients("okafor-eze").unwrap()[0].mrn,
        okafor,
        "the search index follows the change"
    );
}
