//! Scheduling: no double booking (also when the code is bypassed), series booked whole or not at
//! all, working hours with an explicit override, statuses, next free slot, and local times that
//! stay put across a daylight-saving change; the clinic's locale for writing them.

use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};
use clinicdesk_core::AuditFilter;
use clinicdesk_core::{
    AppointmentStatus, BookingRequest, ErrorCode, ProviderId, Repeat, RepeatedHour, Session,
};
use clinicdesk_tests::{Clinic, ADMIN};

fn at(day: (i32, u32, u32), hour: u32, minute: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(day.0, day.1, day.2)
        .unwrap()
        .and_hms_opt(hour, minute, 0)
        .unwrap()
}

struct Desk {
    clinic: Clinic,
    provider: ProviderId,
    other_provider: ProviderId,
    patient: String,
    other_patient: String,
}

fn desk() -> Desk {
    let clinic = Clinic::with_staff();
    let patient = clinic.register("Ngozi", "Okafor", "1984-03-27", None);
    let other_patient = clinic.register("Hans", "Weber", "1951-12-24", None);
    let mut frank = clinic.staff("frank");
    let provider = frank
        .add_provider("Dr. Cole", Some("dr.cole"), None)
        .unwrap()
        .id;
    let other_provider = frank.add_provider("Dr. Amin", None, None).unwrap().id;
    for id in [&provider, &other_provider] {
        frank
            .set_working_hours(
                id,
                &[1, 2, 3, 4, 5],
                &[(8 * 60, 12 * 60), (13 * 60, 17 * 60)],
            )
            .unwrap();
    }
    drop(frank);
    Desk {
        clinic,
        provider,
        other_provider,
        patient,
        other_patient,
    }
}

fn request(mrn: &str, provider: &ProviderId, start: NaiveDateTime, minutes: u32) -> BookingRequest {
    BookingRequest {
        mrn: mrn.into(),
        provider_id: provider.clone(),
        starts_local: start,
        minutes: Some(minutes),
        appointment_type_id: None,
        reason: None,
        outside_hours_override: false,
        repeat: None,
        repeated_hour: RepeatedHour::First,
    }
}

#[test]
fn double_booking_a_provider_or_a_patient_is_refused_by_the_code_and_by_the_store() {
    let Desk {
        clinic,
        provider,
        other_provider,
        patient,
        other_patient,
    } = desk();
    let mut frank = clinic.staff("frank");
    let first = frank
        .book_appointment(&request(&patient, &provider, at((2026, 11, 3), 9, 0), 30))
        .unwrap();
    assert_eq!(first[0].local_start, "2026-11-03 09:00");
    assert_eq!(
        first[0].starts_at, "2026-11-03T08:00:00.000Z",
        "stored in UTC (Berlin is UTC+1 in November)"
    );

    let provider_clash = frank
        .book_appointment(&request(
            &other_patient,
            &provider,
            at((2026, 11, 3), 9, 15),
            30,
        ))
        .err()
        .unwrap();
    assert_eq!(provider_clash.code, ErrorCode::Conflict);
    // The refusal names who is booked then, and offers the provider's next free times.
    assert!(
        provider_clash.message.contains("Dr. Cole already sees")
            && provider_clash.message.contains("Okafor")
            && provider_clash.message.contains(&format!("(MRN {patient})")),
        "{}",
        provider_clash.message
    );
    assert!(
        provider_clash
            .message
            .ends_with("Free instead: 2026-11-03 09:30, 2026-11-03 10:00, 2026-11-03 10:30"),
        "{}",
        provider_clash.message
    );
    let patient_clash = frank
        .book_appointment(&request(
            &patient,
            &other_provider,
            at((2026, 11, 3), 9, 20),
            15,
        ))
        .err()
        .unwrap();
    assert_eq!(patient_clash.code, ErrorCode::Conflict);
    assert!(
        patient_clash.message.contains("the patient already has"),
        "{}",
        patient_clash.message
    );
    frank
        .book_appointment(&request(
            &other_patient,
            &provider,
            at((2026, 11, 3), 9, 30),
            30,
        ))
        .expect("back to back is fine");

    // Bypassing the code: the store's triggers refuse the same overlaps.
    let store = clinic.raw_store();
    let ids: (String, String, String) = store
        .query_row(
            "SELECT a.clinic_id, a.patient_id, (SELECT id FROM patients WHERE mrn = ?1) FROM appointments a LIMIT 1",
            [&other_patient],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .unwrap();
    let insert = |id: &str, patient_id: &str, provider_id: &str, start: &str, end: &str| {
        store.execute(
            "INSERT INTO appointments (id, created_at, updated_at, clinic_id, patient_id, provider_id, starts_at, ends_at)
             VALUES (?1, '2026-11-02T08:00:00.000Z', '2026-11-02T08:00:00.000Z', ?2, ?3, ?4, ?5, ?6)",
            [id, &ids.0, patient_id, provider_id, start, end],
        )
    };
    let direct_provider = insert(
        "0190d7a0-0000-7000-8000-0000000000a1",
        &ids.2,
        &provider,
        "2026-11-03T08:10:00.000Z",
        "2026-11-03T08:20:00.000Z",
    );
    assert!(direct_provider
        .unwrap_err()
        .to_string()
        .contains("double_booking"));
    let direct_patient = insert(
        "0190d7a0-0000-7000-8000-0000000000a2",
        &ids.1,
        &other_provider,
        "2026-11-03T08:10:00.000Z",
        "2026-11-03T08:20:00.000Z",
    );
    assert!(direct_patient
        .unwrap_err()
        .to_string()
        .contains("double_booking"));
    let moved_onto = store.execute(
        "UPDATE appointments SET starts_at = '2026-11-03T08:00:00.000Z', ends_at = '2026-11-03T08:30:00.000Z' WHERE patient_id = ?1",
        [&ids.2],
    );
    assert!(
        moved_onto
            .unwrap_err()
            .to_string()
            .contains("double_booking"),
        "an UPDATE cannot create an overlap either"
    );
    insert(
        "0190d7a0-0000-7000-8000-0000000000a3",
        &ids.2,
        &other_provider,
        "2026-11-03T10:00:00.000Z",
        "2026-11-03T10:20:00.000Z",
    )
    .expect("a free slot is accepted directly too");

    // A cancelled appointment frees its slot.
    frank
        .set_appointment_status(
            &first[0].id,
            AppointmentStatus::Cancelled,
            Some("patient called"),
        )
        .unwrap();
    frank
        .book_appointment(&request(
            &patient,
            &other_provider,
            at((2026, 11, 3), 9, 0),
            15,
        ))
        .expect("the patient is free again");
}

#[test]
fn a_series_with_one_clash_books_none_of_it() {
    let Desk {
        clinic,
        provider,
        patient,
        other_patient,
        ..
    } = desk();
    let mut frank = clinic.staff("frank");
    frank
        .book_appointment(&request(
            &other_patient,
            &provider,
            at((2026, 11, 24), 10, 0),
            30,
        ))
        .unwrap();
    let series = BookingRequest {
        repeat: Some(Repeat {
            every_weeks: 1,
            until: None,
            count: Some(6),
        }),
        ..request(&patient, &provider, at((2026, 11, 3), 10, 0), 30)
    };
    let refused = frank.book_appointment(&series).err().unwrap();
    assert_eq!(refused.code, ErrorCode::Conflict);
    assert!(
        refused.message.contains("Nothing in the series was booked")
            && refused.message.contains("2026-11-24 10:00"),
        "{}",
        refused.message
    );
    let booked_for_patient = frank
        .week_schedule(
            Some(&provider),
            NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(),
        )
        .unwrap()
        .into_iter()
        .filter(|a| a.mrn == patient)
        .count();
    assert_eq!(booked_for_patient, 0);

    let fortnightly = BookingRequest {
        repeat: Some(Repeat {
            every_weeks: 2,
            until: Some(NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()),
            count: None,
        }),
        ..request(&patient, &provider, at((2026, 11, 3), 10, 0), 30)
    };
    let booked = frank.book_appointment(&fortnightly).unwrap();
    let days: Vec<&str> = booked.iter().map(|a| &a.local_start[..10]).collect();
    assert_eq!(
        days,
        [
            "2026-11-03",
            "2026-11-17",
            "2026-12-01",
            "2026-12-15",
            "2026-12-29"
        ]
    );
    assert!(booked
        .iter()
        .all(|a| a.series_id == booked[0].series_id && a.series_id.is_some()));
}

#[test]
fn working_hours_need_an_override_and_statuses_follow_their_order() {
    let Desk {
        clinic,
        provider,
        patient,
        ..
    } = desk();
    let mut frank = clinic.staff("frank");
    let lunch = frank
        .book_appointment(&request(&patient, &provider, at((2026, 11, 3), 12, 15), 15))
        .err()
        .unwrap();
    assert_eq!(lunch.code, ErrorCode::Conflict);
    assert!(lunch
        .message
        .contains("outside the provider's working hours"));
    let saturday =
        frank.book_appointment(&request(&patient, &provider, at((2026, 11, 7), 10, 0), 15));
    assert!(saturday.is_err());
    let overridden = frank
        .book_appointment(&BookingRequest {
            outside_hours_override: true,
            ..request(&patient, &provider, at((2026, 11, 3), 12, 15), 15)
        })
        .unwrap();
    assert!(overridden[0].outside_hours_override);
    frank
        .add_day_off(
            &provider,
            NaiveDate::from_ymd_opt(2026, 11, 4).unwrap(),
            NaiveDate::from_ymd_opt(2026, 11, 4).unwrap(),
            Some("training"),
        )
        .unwrap();
    assert!(
        frank
            .book_appointment(&request(&patient, &provider, at((2026, 11, 4), 9, 0), 15))
            .is_err(),
        "a day off is not working time"
    );

    let id = overridden[0].id.clone();
    let mut joy = clinic.staff("nurse.joy");
    assert_eq!(
        joy.set_appointment_status(&id, AppointmentStatus::Completed, None)
            .err()
            .unwrap()
            .code,
        ErrorCode::PermissionDenied
    );
    joy.set_appointment_status(&id, AppointmentStatus::Arrived, None)
        .unwrap();
    assert_eq!(
        joy.arrived_today().unwrap().len(),
        0,
        "the clock says 2 November; the visit is on the 3rd"
    );
    let mut cole = clinic.staff("dr.cole");
    assert_eq!(
        cole.set_appointment_status(&id, AppointmentStatus::Completed, None)
            .err()
            .unwrap()
            .code,
        ErrorCode::Conflict,
        "arrived → completed skips in progress"
    );
    cole.set_appointment_status(&id, AppointmentStatus::InProgress, None)
        .unwrap();
    let done = cole
        .set_appointment_status(&id, AppointmentStatus::Completed, None)
        .unwrap();
    assert_eq!(done.status, AppointmentStatus::Completed);
    assert_eq!(
        frank
            .set_appointment_status(&id, AppointmentStatus::Cancelled, Some("x"))
            .err()
            .unwrap()
            .code,
        ErrorCode::Conflict
    );
}

#[test]
fn reschedule_checks_versions_and_next_free_slot_skips_busy_and_closed_time() {
    let Desk {
        clinic,
        provider,
        patient,
        other_patient,
        ..
    } = desk();
    let mut frank = clinic.staff("frank");
    let booked = frank
        .book_appointment(&request(&patient, &provider, at((2026, 11, 3), 8, 0), 30))
        .unwrap();
    frank
        .book_appointment(&request(
            &other_patient,
            &provider,
            at((2026, 11, 3), 8, 30),
            60,
        ))
        .unwrap();
    let next = frank
        .next_free_slot(&provider, 30, at((2026, 11, 3), 8, 0))
        .unwrap();
    assert_eq!(next, Some(at((2026, 11, 3), 9, 30)));
    let late = frank
        .next_free_slot(&provider, 45, at((2026, 11, 3), 11, 30))
        .unwrap();
    assert_eq!(late, Some(at((2026, 11, 3), 13, 0)), "not across lunch");

    let moved = frank
        .reschedule_appointment(
            &booked[0].id,
            at((2026, 11, 3), 14, 0),
            RepeatedHour::First,
            None,
            Some(booked[0].version),
            false,
        )
        .unwrap();
    assert_eq!(moved.local_start, "2026-11-03 14:00");
    assert_eq!(moved.local_end, "2026-11-03 14:30");
    let stale = frank
        .reschedule_appointment(
            &booked[0].id,
            at((2026, 11, 3), 15, 0),
            RepeatedHour::First,
            None,
            Some(booked[0].version),
            false,
        )
        .err()
        .unwrap();
    assert_eq!(stale.code, ErrorCode::Conflict);
    assert!(stale.message.contains("changed by someone else"));
    let onto = frank
        .reschedule_appointment(
            &booked[0].id,
            at((2026, 11, 3), 9, 0),
            RepeatedHour::First,
            None,
            None,
            false,
        )
        .err()
        .unwrap();
    assert_eq!(onto.code, ErrorCode::Conflict);
    let day = frank
        .day_schedule(None, NaiveDate::from_ymd_opt(2026, 11, 3).unwrap())
        .unwrap();
    assert_eq!(
        day.iter()
            .map(|a| a.local_start.as_str())
            .collect::<Vec<_>>(),
        ["2026-11-03 08:30", "2026-11-03 14:00"]
    );
}

#[test]
fn nine_oclock_stays_nine_oclock_across_the_daylight_saving_change() {
    let Desk {
        clinic,
        provider,
        patient,
        ..
    } = desk();
    clinic
        .clock
        .set(Utc.with_ymd_and_hms(2026, 10, 12, 8, 0, 0).unwrap());
    let mut frank: Session = clinic.staff("frank");
    // Berlin leaves summer time on Sunday 25 October 2026.
    let weekly = BookingRequest {
        repeat: Some(Repeat {
            every_weeks: 1,
            until: None,
            count: Some(4),
        }),
        ..request(&patient, &provider, at((2026, 10, 15), 9, 0), 20)
    };
    let booked = frank.book_appointment(&weekly).unwrap();
    let local: Vec<&str> = booked.iter().map(|a| &a.local_start[11..]).collect();
    assert_eq!(local, ["09:00", "09:00", "09:00", "09:00"]);
    let utc: Vec<&str> = booked.iter().map(|a| &a.starts_at[11..16]).collect();
    assert_eq!(
        utc,
        ["07:00", "07:00", "08:00", "08:00"],
        "UTC moves so that local time does not"
    );
    let after_change = frank
        .day_schedule(
            Some(&provider),
            NaiveDate::from_ymd_opt(2026, 10, 29).unwrap(),
        )
        .unwrap();
    assert_eq!(after_change.len(), 1);
    assert_eq!(after_change[0].local_start, "2026-10-29 09:00");
    let gap = frank.book_appointment(&BookingRequest {
        outside_hours_override: true,
        ..request(&patient, &provider, at((2027, 3, 28), 2, 30), 15)
    });
    assert!(
        gap.err().unwrap().message.contains("does not exist"),
        "02:30 on the spring-forward night does not exist"
    );
}

#[test]
fn a_time_in_the_repeated_autumn_hour_is_the_first_unless_the_second_is_asked_for_and_says_which() {
    let Desk {
        clinic,
        provider,
        patient,
        ..
    } = desk();
    clinic
        .clock
        .set(Utc.with_ymd_and_hms(2026, 10, 12, 8, 0, 0).unwrap());
    let mut frank: Session = clinic.staff("frank");
    // Berlin's clocks go back from 03:00 to 02:00 on 25 October 2026: 02:30 happens twice.
    let night = BookingRequest {
        outside_hours_override: true,
        ..request(&patient, &provider, at((2026, 10, 25), 2, 30), 15)
    };
    let first = frank.book_appointment(&night).unwrap();
    assert_eq!(first[0].local_start, "2026-10-25 02:30");
    assert_eq!(first[0].starts_at, "2026-10-25T00:30:00.000Z");
    assert_eq!(
        first[0].clock_note.as_deref(),
        Some("the first 02:30 (before the clocks go back, UTC+02:00)")
    );
    let second = frank
        .book_appointment(&BookingRequest {
            repeated_hour: RepeatedHour::Second,
            ..night.clone()
        })
        .unwrap();
    assert_eq!(second[0].local_start, "2026-10-25 02:30");
    assert_eq!(second[0].starts_at, "2026-10-25T01:30:00.000Z");
    assert_eq!(
        second[0].clock_note.as_deref(),
        Some("the second 02:30 (after the clocks go back, UTC+01:00)")
    );
    let ordinary = frank
        .book_appointment(&BookingRequest {
            repeated_hour: RepeatedHour::Second,
            ..request(&patient, &provider, at((2026, 10, 26), 9, 0), 15)
        })
        .unwrap();
    assert_eq!(
        ordinary[0].clock_note, None,
        "an ordinary hour needs no note"
    );
}

#[test]
fn each_role_starts_on_todays_work_with_where_each_patient_is() {
    let desk = desk();
    // The clinic's clock says Monday 2 November 2026, 09:00 in Berlin.
    let mut frank = desk.clinic.staff("frank");
    let booked = frank
        .book_appointment(&request(
            &desk.patient,
            &desk.provider,
            at((2026, 11, 2), 10, 0),
            20,
        ))
        .unwrap();
    frank
        .book_appointment(&request(
            &desk.other_patient,
            &desk.other_provider,
            at((2026, 11, 2), 11, 0),
            20,
        ))
        .unwrap();
    frank
        .book_appointment(&request(
            &desk.other_patient,
            &desk.provider,
            at((2026, 11, 3), 9, 0),
            20,
        ))
        .unwrap();
    let flows = |session: &mut Session| -> Vec<(String, clinicdesk_core::PatientFlow, Option<String>, bool)> {
        session
            .today_board()
            .unwrap()
            .into_iter()
            .map(|entry| (entry.appointment.patient_name, entry.flow, entry.vitals_today, entry.mine))
            .collect()
    };
    use clinicdesk_core::PatientFlow::*;
    // Only today's, in time order, for the front desk.
    assert_eq!(
        flows(&mut frank),
        [
            ("Ngozi Okafor".to_owned(), Booked, None, false),
            ("Hans Weber".to_owned(), Booked, None, false)
        ]
    );
    frank
        .set_appointment_status(&booked[0].id, AppointmentStatus::Arrived, None)
        .unwrap();
    assert_eq!(flows(&mut frank)[0].1, WaitingForNurse);
    let mut joy = desk.clinic.staff("nurse.joy");
    assert_eq!(flows(&mut joy)[0].1, WaitingForNurse);
    joy.record_vitals(
        &desk.patient,
        &[
            clinicdesk_core::VitalReading {
                kind: clinicdesk_core::VitalKind::Systolic,
                value: 150.0,
                unit: None,
            },
            clinicdesk_core::VitalReading {
                kind: clinicdesk_core::VitalKind::Diastolic,
                value: 95.0,
                unit: None,
            },
            clinicdesk_core::VitalReading {
                kind: clinicdesk_core::VitalKind::Temperature,
                value: 37.2,
                unit: None,
            },
        ],
        None,
    )
    .unwrap();
    // The clinician linked to Dr. Cole sees the vitals; the front desk sees only the flow.
    let mut cole = desk.clinic.staff("dr.cole");
    let seen = flows(&mut cole);
    assert_eq!(seen[0].1, ReadyForClinician);
    assert_eq!(seen[0].2.as_deref(), Some("BP 150/95 mmHg! · T 37.2 °C"));
    assert!(seen[0].3, "Dr. Cole's own patient");
    assert!(!seen[1].3);
    let front = flows(&mut frank);
    assert_eq!(front[0].1, ReadyForClinician);
    assert_eq!(front[0].2, None, "the front desk reads no vital signs");

    // The allergy badge on each row: the nurse and the clinician see which, the front desk only
    // whether; a patient nobody asked is marked as such.
    joy.record_allergy(
        &desk.patient,
        &clinicdesk_core::AllergyDetails {
            substance: "Penicillin".into(),
            substance_code: None,
            category: clinicdesk_core::AllergyCategory::Medication,
            reaction: None,
            severity: None,
            criticality: None,
            onset: None,
            status: clinicdesk_core::AllergyStatus::Active,
        },
    )
    .unwrap();
    let badges = |session: &mut Session| -> Vec<Option<clinicdesk_core::AllergyState>> {
        session
            .today_board()
            .unwrap()
            .into_iter()
            .map(|entry| entry.allergies)
            .collect()
    };
    use clinicdesk_core::AllergyState::*;
    let has = |substances: &[&str]| {
        Some(HasAllergies {
            count: 1,
            substances: substances.iter().map(|s| s.to_string()).collect(),
            contradicted_by_confirmation: false,
        })
    };
    assert_eq!(badges(&mut cole), [has(&["Penicillin"]), Some(NotRecorded)]);
    assert_eq!(badges(&mut frank), [has(&[]), Some(NotRecorded)]);
    assert_eq!(
        badges(&mut desk.clinic.staff("mona")),
        [None, None],
        "managers see no allergies"
    );
}

#[test]
fn a_clinic_writes_by_its_time_zones_locale_until_an_administrator_chooses_another() {
    let clinic = Clinic::with_staff();
    // Made in Europe/Berlin with no locale chosen: German conventions.
    assert_eq!(clinic.staff("frank").clinic_locale().unwrap(), "de-DE");

    let mut admin = clinic.admin();
    admin.set_clinic_locale("en-GB").unwrap();
    assert_eq!(clinic.staff("nurse.joy").clinic_locale().unwrap(), "en-GB");
    let entries = admin
        .audit_list(&AuditFilter {
            action: Some("settings.clinic_locale".into()),
            ..Default::default()
        })
        .unwrap()
        .entries;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].username.as_deref(), Some(ADMIN));
    let details: serde_json::Value = serde_json::from_str(&entries[0].details).unwrap();
    assert_eq!(details["before"], "de-DE");
    assert_eq!(details["after"], "en-GB");

    // Not a locale on offer: refused with the field named, nothing changed.
    let refused = admin.set_clinic_locale("klingon").unwrap_err();
    assert_eq!(refused.code, ErrorCode::InvalidInput);
    assert_eq!(refused.field.as_deref(), Some("locale"));
    // Not an administrator: refused, nothing changed.
    let denied = clinic.staff("mona").set_clinic_locale("en-US").unwrap_err();
    assert_eq!(denied.code, ErrorCode::PermissionDenied);
    assert_eq!(clinic.staff("frank").clinic_locale().unwrap(), "en-GB");

    // A store made before the setting existed (no locale stored) follows its time zone.
    clinic
        .raw_store()
        .execute("UPDATE clinics SET locale = NULL", [])
        .unwrap();
    assert_eq!(clinic.staff("frank").clinic_locale().unwrap(), "de-DE");
}
