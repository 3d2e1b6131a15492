//! Recording vitals through the core: conversion, flags, BMI from the latest height, refusal of
//! implausible values naming the field, entered-in-error; notes with addenda and search.

use clinicdesk_core::{ErrorCode, NoteKind, VitalKind, VitalReading};
use clinicdesk_tests::Clinic;

fn reading(kind: VitalKind, value: f64, unit: Option<&str>) -> VitalReading {
    VitalReading {
        kind,
        value,
        unit: unit.map(str::to_owned),
    }
}

#[test]
fn a_vitals_set_is_converted_flagged_and_gets_a_bmi_from_the_latest_height() {
    let clinic = Clinic::with_staff();
    let mrn = clinic.register("Ngozi", "Okafor", "1984-03-27", None);
    let mut joy = clinic.staff("nurse.joy");
    joy.record_vitals(&mrn, &[reading(VitalKind::Height, 70.0, Some("in"))], None)
        .unwrap();
    let set = joy
        .record_vitals(
            &mrn,
            &[
                reading(VitalKind::Systolic, 182.0, None),
                reading(VitalKind::Diastolic, 95.0, None),
                reading(VitalKind::HeartRate, 88.0, None),
                reading(VitalKind::Temperature, 100.4, Some("°F")),
                reading(VitalKind::OxygenSaturation, 97.0, None),
                reading(VitalKind::Weight, 150.0, Some("lb")),
            ],
            None,
        )
        .unwrap();
    let find = |kind: VitalKind| {
        set.observations
            .iter()
            .find(|o| o.kind == kind)
            .unwrap_or_else(|| panic!("{kind:?} missing"))
    };
    assert_eq!(
        (
            find(VitalKind::Systolic).value,
            find(VitalKind::Systolic).interpretation.as_deref()
        ),
        (182.0, Some("critical_high"))
    );
    assert_eq!(
        find(VitalKind::Diastolic).interpretation.as_deref(),
        Some("high")
    );
    assert_eq!(
        find(VitalKind::HeartRate).interpretation.as_deref(),
        Some("normal")
    );
    assert_eq!(
        (
            find(VitalKind::Temperature).value,
            find(VitalKind::Temperature).unit.as_str()
        ),
        (38.0, "Cel")
    );
    assert_eq!(
        find(VitalKind::Temperature).interpretation.as_deref(),
        Some("high")
    );
    assert_eq!(
        (
            find(VitalKind::Weight).value,
            find(VitalKind::Weight).unit.as_str()
        ),
        (68.0, "kg")
    );
    assert_eq!(
        (
            find(VitalKind::Bmi).value,
            find(VitalKind::Bmi).loinc.as_str()
        ),
        (21.5, "39156-5"),
        "68 kg at 177.8 cm"
    );

    let trend = joy.vitals_trend(&mrn, VitalKind::Weight, None).unwrap();
    assert_eq!(trend.len(), 1);
    let weight_id = find(VitalKind::Weight).id.clone();
    joy.mark_observation_in_error(&weight_id, "weighed with coat and boots")
        .unwrap();
    assert!(
        joy.vitals_trend(&mrn, VitalKind::Weight, None)
            .unwrap()
            .is_empty(),
        "entered-in-error values leave the trend"
    );
    let sheet = joy.vitals_flowsheet(&mrn, 10).unwrap();
    let marked = sheet[0]
        .observations
        .iter()
        .find(|o| o.id == weight_id)
        .unwrap();
    assert_eq!(marked.status, "entered_in_error");
    assert_eq!(marked.value, 68.0, "the value is kept, never edited");
    assert_eq!(
        joy.mark_observation_in_error(&weight_id, "again")
            .err()
            .unwrap()
            .code,
        ErrorCode::Conflict
    );
}

#[test]
fn implausible_values_are_refused_naming_field_value_and_range_and_nothing_is_saved() {
    let clinic = Clinic::with_staff();
    let mrn = clinic.register("Ngozi", "Okafor", "1984-03-27", None);
    let mut joy = clinic.staff("nurse.joy");
    let check = |joy: &mut clinicdesk_core::Session, readings: &[VitalReading], says: &[&str]| {
        let error = joy.record_vitals(&mrn, readings, None).err().unwrap();
        assert_eq!(error.code, ErrorCode::InvalidInput);
        assert_eq!(error.exit_code(), 5);
        for word in says {
            assert!(
                error.message.to_lowercase().contains(&word.to_lowercase()),
                "{:?} should say {word:?}",
                error.message
            );
        }
    };
    check(
        &mut joy,
        &[reading(VitalKind::HeartRate, 400.0, None)],
        &["heart rate", "400", "20–300", "/min"],
    );
    check(
        &mut joy,
        &[reading(VitalKind::Temperature, 120.0, Some("F"))],
        &["body temperature", "48.9", "25–45", "120 F"],
    );
    check(
        &mut joy,
        &[
            reading(VitalKind::Systolic, 120.0, None),
            reading(VitalKind::Diastolic, 130.0, None),
        ],
        &["diastolic", "below systolic"],
    );
    check(
        &mut joy,
        &[reading(VitalKind::Pain, 4.5, None)],
        &["whole number"],
    );
    check(&mut joy, &[], &["at least one"]);
    assert!(
        joy.vitals_flowsheet(&mrn, 10).unwrap().is_empty(),
        "nothing was saved"
    );
    assert_eq!(
        clinic
            .staff("frank")
            .record_vitals(&mrn, &[reading(VitalKind::HeartRate, 70.0, None)], None)
            .err()
            .unwrap()
            .code,
        ErrorCode::PermissionDenied
    );
}

#[test]
fn notes_are_append_only_with_addenda_and_searchable_within_the_chart() {
    let clinic = Clinic::with_staff();
    let mrn = clinic.register("Ngozi", "Okafor", "1984-03-27", None);
    let other = clinic.register("Hans", "Weber", "1951-12-24", None);
    let mut cole = clinic.staff("dr.cole");
    let note = cole
        .write_note(
            &mrn,
            NoteKind::Clinical,
            Some("Cough"),
            "Dry cough for two weeks. Lungs clear. Plan: review in one week.",
            None,
        )
        .unwrap();
    cole.write_note(&other, NoteKind::Clinical, None, "Cough and fever.", None)
        .unwrap();
    cole.write_note(
        &mrn,
        NoteKind::Clinical,
        None,
        "Addendum: chest X-ray ordered.",
        Some(&note),
    )
    .unwrap();
    assert_eq!(
        cole.write_note(&mrn, NoteKind::Nursing, None, "x", None)
            .err()
            .unwrap()
            .code,
        ErrorCode::PermissionDenied,
        "clinicians write clinical notes"
    );
    let mut joy = clinic.staff("nurse.joy");
    joy.write_note(
        &mrn,
        NoteKind::Nursing,
        None,
        "Patient anxious about the X-ray; explained the procedure.",
        None,
    )
    .unwrap();

    let notes = cole.list_notes(&mrn, None, 50).unwrap();
    assert_eq!(notes.len(), 2);
    let with_addendum = notes.iter().find(|n| n.id == note).unwrap();
    assert_eq!(with_addendum.addenda.len(), 1);
    assert!(with_addendum.addenda[0].body.contains("X-ray"));
    let found = cole.list_notes(&mrn, Some("x-ray"), 50).unwrap();
    assert_eq!(
        found.len(),
        2,
        "the note whose addendum matches, and the nursing note"
    );
    let cough = cole.list_notes(&mrn, Some("cough"), 50).unwrap();
    assert_eq!(cough.len(), 1, "only this patient's notes are searched");
    assert!(cole
        .list_notes(&mrn, Some("pneumonia"), 50)
        .unwrap()
        .is_empty());
    assert_eq!(
        clinic
            .staff("frank")
            .list_notes(&mrn, None, 5)
            .err()
            .unwrap()
            .code,
        ErrorCode::PermissionDenied
    );
    assert_eq!(
        cole.write_note(
            &other,
            NoteKind::Clinical,
            None,
            "addendum to the wrong chart",
            Some(&note)
        )
        .err()
        .unwrap()
        .code,
        ErrorCode::NotFound
    );
}
