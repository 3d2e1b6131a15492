//! Every text field of every core operation, given any text (control characters, text-direction
//! overrides, a megabyte, random Unicode): the operation succeeds and what is stored reads back
//! as the field's stated rule says, or it is `invalid_input` naming the field. Never
//! `unexpected`, never a panic, never a message that carries a raw control character or echoes
//! the megabyte back.

use chrono::NaiveDate;
use clinicdesk_core::{
    AppointmentStatus, AuditFilter, Error, ErrorCode, InitRequest, NewPatient, Registration,
    Session, Sex, VitalKind, VitalReading,
};
use clinicdesk_store::rusqlite::OptionalExtension;
use clinicdesk_tests::{secret, Desk, TEST_KDF};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// How a stored value reads back from what was typed.
#[derive(Clone, Copy)]
enum Rule {
    /// One line: outer white space dropped, inner runs of white space made one space.
    Line,
    /// Lowercased and trimmed (usernames).
    Lowercase,
    /// Many lines: kept as typed apart from outer white space.
    Text,
    /// Parsed into something else (a date, a unit, an MRN): success is all that is checked.
    Parsed,
}

impl Rule {
    fn stored_form(self, typed: &str) -> Option<String> {
        match self {
            Rule::Line => Some(typed.split_whitespace().collect::<Vec<_>>().join(" ")),
            Rule::Lowercase => Some(typed.trim().to_lowercase()),
            Rule::Text => Some(typed.trim().to_owned()),
            Rule::Parsed => None,
        }
    }
}

/// Where an operation put the text: `SELECT column FROM table WHERE key_column = key`.
enum Stored {
    In {
        table: &'static str,
        column: &'static str,
        key_column: &'static str,
        key: String,
    },
    /// A search or a lookup: nothing is stored.
    Nowhere,
}

fn stored(table: &'static str, column: &'static str, key: impl Into<String>) -> Stored {
    Stored::In {
        table,
        column,
        key_column: "id",
        key: key.into(),
    }
}

type Run = fn(&mut Desk, &mut Session, &str) -> Result<Stored, Error>;

/// One text field of one operation.
struct TextField {
    operation: &'static str,
    /// The field an `invalid_input` error must name.
    field: &'static str,
    /// Who does it.
    as_user: &'static str,
    rule: Rule,
    /// Besides success and `invalid_input`, the outcome a well-formed value may meet here
    /// (a lookup that finds nothing, a username already taken).
    also_allowed: Option<ErrorCode>,
    run: Run,
}

fn register(
    session: &mut Session,
    given: &str,
    family: &str,
    birth: &str,
    phone: Option<&str>,
) -> Result<Stored, Error> {
    let registration = session.register_patient(
        &NewPatient {
            given_name: given.into(),
            family_name: family.into(),
            date_of_birth: birth.into(),
            sex: Sex::Unknown,
            phone: phone.map(str::to_owned),
            restricted: false,
        },
        true,
    )?;
    let Registration::Registered { patient_id, .. } = registration else {
        panic!("a confirmed registration is made")
    };
    Ok(Stored::In {
        table: "patients",
        column: "id",
        key_column: "id",
        key: patient_id.to_string(),
    })
}

const FIELDS: &[TextField] = &[
    TextField {
        operation: "register a patient",
        field: "given_name",
        as_user: "frank",
        rule: Rule::Line,
        also_allowed: None,
        run: |_, s, text| match register(s, text, "Okafor", "1984-03-27", None)? {
            Stored::In { key, .. } => Ok(stored("patients", "given_name", key)),
            Stored::Nowhere => unreachable!(),
        },
    },
    TextField {
        operation: "register a patient",
        field: "family_name",
        as_user: "frank",
        rule: Rule::Line,
        also_allowed: None,
        run: |_, s, text| match register(s, "Ngozi", text, "1984-03-27", None)? {
            Stored::In { key, .. } => Ok(stored("patients", "family_name", key)),
            Stored::Nowhere => unreachable!(),
        },
    },
    TextField {
        operation: "register a patient",
        field: "date_of_birth",
        as_user: "frank",
        rule: Rule::Parsed,
        also_allowed: None,
        run: |_, s, text| register(s, "Ngozi", "Okafor", text, None),
    },
    TextField {
        operation: "register a patient",
        field: "phone",
        as_user: "frank",
        rule: Rule::Line,
        also_allowed: None,
        run: |_, s, text| match register(s, "Ngozi", "Okafor", "1984-03-27", Some(text))? {
            Stored::In { key, .. } => Ok(Stored::In {
                table: "patient_phones",
                column: "number",
                key_column: "patient_id",
                key,
            }),
            Stored::Nowhere => unreachable!(),
        },
    },
    TextField {
        operation: "change demographics",
        field: "family_name",
        as_user: "frank",
        rule: Rule::Line,
        also_allowed: None,
        run: |desk, s, text| {
            let mrn = desk.mrn.clone();
            s.update_demographics(
                &mrn,
                &clinicdesk_core::DemographicsChange {
                    family_name: Some(text.into()),
                    ..Default::default()
                },
                None,
            )?;
            Ok(Stored::In {
                table: "patients",
                column: "family_name",
                key_column: "mrn",
                key: mrn,
            })
        },
    },
    TextField {
        operation: "search patients",
        field: "query",
        as_user: "frank",
        rule: Rule::Parsed,
        also_allowed: None,
        run: |_, s, text| s.search_patients(text).map(|_| Stored::Nowhere),
    },
    TextField {
        operation: "open a chart",
        field: "mrn",
        as_user: "dr.cole",
        rule: Rule::Parsed,
        also_allowed: Some(ErrorCode::NotFound),
        run: |_, s, text| s.open_chart(text).map(|_| Stored::Nowhere),
    },
    TextField {
        operation: "delete a patient",
        field: "reason",
        as_user: "frank",
        rule: Rule::Parsed,
        also_allowed: None,
        run: |_, s, text| {
            let Stored::In { .. } = register(s, "Temp", "Record", "2001-01-01", None)? else {
                unreachable!()
            };
            let hits = s.search_patients("Temp Record")?;
            s.delete_patient(&hits[0].mrn, text)
                .map(|_| Stored::Nowhere)
        },
    },
    TextField {
        operation: "add a care team member",
        field: "care_role",
        as_user: "frank",
        rule: Rule::Parsed,
        also_allowed: Some(ErrorCode::Conflict),
        run: |desk, s, text| {
            let mrn = desk.mrn.clone();
            s.add_care_team_member(&mrn, "dr.cole", text)
                .map(|_| Stored::Nowhere)
        },
    },
    TextField {
        operation: "add a care team member",
        field: "username",
        as_user: "frank",
        rule: Rule::Parsed,
        also_allowed: Some(ErrorCode::NotFound),
        run: |desk, s, text| {
            let mrn = desk.mrn.clone();
            s.add_care_team_member(&mrn, text, "clinician")
                .map(|_| Stored::Nowhere)
        },
    },
    TextField {
        operation: "add a user",
        field: "username",
        as_user: "admin",
        rule: Rule::Lowercase,
        also_allowed: Some(ErrorCode::Conflict),
        run: |_, s, text| {
            s.add_user(text, "New Person", clinicdesk_core::Role::Nurse)?;
            Ok(Stored::In {
                table: "users",
                column: "username",
                key_column: "username",
                key: text.trim().to_lowercase(),
            })
        },
    },
    TextField {
        operation: "add a user",
        field: "display_name",
        as_user: "admin",
        rule: Rule::Line,
        also_allowed: None,
        run: |desk, s, text| {
            desk.case += 1;
            let username = format!("user.{}", desk.case);
            s.add_user(&username, text, clinicdesk_core::Role::Nurse)?;
            Ok(Stored::In {
                table: "users",
                column: "display_name",
                key_column: "username",
                key: username,
            })
        },
    },
    TextField {
        operation: "add a provider",
        field: "display_name",
        as_user: "frank",
        rule: Rule::Line,
        also_allowed: None,
        run: |_, s, text| {
            let provider = s.add_provider(text, None, None)?;
            Ok(stored("providers", "display_name", provider.id.to_string()))
        },
    },
    TextField {
        operation: "add a provider",
        field: "specialty",
        as_user: "frank",
        rule: Rule::Line,
        also_allowed: None,
        run: |_, s, text| {
            let provider = s.add_provider("Dr. Amin", None, Some(text))?;
            Ok(stored("providers", "specialty", provider.id.to_string()))
        },
    },
    TextField {
        operation: "add a day off",
        field: "reason",
        as_user: "frank",
        rule: Rule::Line,
        also_allowed: None,
        run: |desk, s, text| {
            desk.case += 1;
            let day = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()
                + chrono::Duration::days(i64::from(desk.case));
            let provider = desk.provider.clone();
            s.add_day_off(&provider, day, day, Some(text))?;
            Ok(Stored::In {
                table: "provider_days_off",
                column: "reason",
                key_column: "first_day",
                key: day.to_string(),
            })
        },
    },
    TextField {
        operation: "add an appointment type",
        field: "name",
        as_user: "frank",
        rule: Rule::Line,
        also_allowed: None,
        run: |_, s, text| {
            let kind = s.add_appointment_type(text, 20)?;
            Ok(stored("appointment_types", "name", kind.id.to_string()))
        },
    },
    TextField {
        operation: "book an appointment",
        field: "reason",
        as_user: "frank",
        rule: Rule::Line,
        also_allowed: None,
        run: |desk, s, text| {
            let mrn = desk.mrn.clone();
            let booked = s.book_appointment(&desk.booking(&mrn, Some(text)))?;
            Ok(stored("appointments", "reason", booked[0].id.to_string()))
        },
    },
    TextField {
        operation: "book an appointment",
        field: "mrn",
        as_user: "frank",
        rule: Rule::Parsed,
        also_allowed: Some(ErrorCode::NotFound),
        run: |desk, s, text| {
            let request = desk.booking(text, None);
            s.book_appointment(&request).map(|_| Stored::Nowhere)
        },
    },
    TextField {
        operation: "cancel an appointment",
        field: "reason",
        as_user: "frank",
        rule: Rule::Line,
        also_allowed: None,
        run: |desk, s, text| {
            let mrn = desk.mrn.clone();
            let booked = s.book_appointment(&desk.booking(&mrn, None))?;
            s.set_appointment_status(&booked[0].id, AppointmentStatus::Cancelled, Some(text))?;
            Ok(stored(
                "appointments",
                "cancel_reason",
                booked[0].id.to_string(),
            ))
        },
    },
    TextField {
        operation: "record vitals",
        field: "temperature",
        as_user: "nurse.joy",
        rule: Rule::Parsed,
        also_allowed: None,
        run: |desk, s, text| {
            let mrn = desk.mrn.clone();
            s.record_vitals(
                &mrn,
                &[VitalReading {
                    kind: VitalKind::Temperature,
                    value: 37.0,
                    unit: Some(text.into()),
                }],
                None,
            )
            .map(|_| Stored::Nowhere)
        },
    },
    TextField {
        operation: "mark a vital in error",
        field: "reason",
        as_user: "nurse.joy",
        rule: Rule::Line,
        also_allowed: None,
        run: |desk, s, text| {
            let id = desk.observation(s);
            s.mark_observation_in_error(&id, text)?;
            Ok(stored(
                "vital_observations",
                "entered_in_error_reason",
                id.to_string(),
            ))
        },
    },
    TextField {
        operation: "write a note",
        field: "body",
        as_user: "dr.cole",
        rule: Rule::Text,
        also_allowed: None,
        run: |desk, s, text| {
            let mrn = desk.mrn.clone();
            let kind = s.default_note_kind();
            let id = s.write_note(&mrn, kind, None, text, None)?;
            Ok(stored("notes", "body", id.to_string()))
        },
    },
    TextField {
        operation: "write a note",
        field: "title",
        as_user: "dr.cole",
        rule: Rule::Line,
        also_allowed: None,
        run: |desk, s, text| {
            let mrn = desk.mrn.clone();
            let kind = s.default_note_kind();
            let id = s.write_note(&mrn, kind, Some(text), "Seen today.", None)?;
            Ok(stored("notes", "coalesce(title, '')", id.to_string()))
        },
    },
    TextField {
        operation: "open a restricted chart in an emergency",
        field: "reason",
        as_user: "dr.cole",
        rule: Rule::Line,
        also_allowed: None,
        run: |desk, s, text| {
            let mrn = desk.restricted_mrn.clone();
            let grant = s.request_emergency_access(&mrn, text)?;
            Ok(stored(
                "emergency_access_grants",
                "reason",
                grant.id.to_string(),
            ))
        },
    },
    TextField {
        operation: "review emergency access",
        field: "note",
        as_user: "mona",
        rule: Rule::Line,
        also_allowed: None,
        run: |desk, s, text| {
            let mrn = desk.restricted_mrn.clone();
            let grant = desk
                .as_user("dr.cole")
                .request_emergency_access(&mrn, "Collapsed in the waiting room")
                .unwrap();
            s.mark_emergency_access_reviewed(&grant.id, text)?;
            Ok(stored(
                "emergency_access_grants",
                "coalesce(review_note, '')",
                grant.id.to_string(),
            ))
        },
    },
    TextField {
        operation: "keep an unsaved form",
        field: "form_key",
        as_user: "frank",
        rule: Rule::Line,
        also_allowed: None,
        run: |_, s, text| {
            s.save_draft(text, &serde_json::json!({"given_name": "Ngozi"}))?;
            Ok(Stored::In {
                table: "drafts",
                column: "form_key",
                key_column: "form_key",
                key: text.split_whitespace().collect::<Vec<_>>().join(" "),
            })
        },
    },
    TextField {
        operation: "keep an unsaved form",
        field: "payload",
        as_user: "frank",
        rule: Rule::Parsed,
        also_allowed: None,
        run: |_, s, text| {
            let payload = serde_json::json!({ "note": text });
            s.save_draft("register", &payload)?;
            let kept = s.drafts()?;
            let kept = kept.iter().find(|draft| draft.form_key == "register");
            assert_eq!(
                kept.map(|draft| &draft.payload),
                Some(&payload),
                "a kept form reads back exactly"
            );
            Ok(Stored::Nowhere)
        },
    },
    TextField {
        operation: "list the audit trail",
        field: "username",
        as_user: "mona",
        rule: Rule::Parsed,
        also_allowed: None,
        run: |_, s, text| {
            s.audit_list(&AuditFilter {
                username: Some(text.into()),
                ..Default::default()
            })
            .map(|_| Stored::Nowhere)
        },
    },
    TextField {
        operation: "list the audit trail",
        field: "action",
        as_user: "mona",
        rule: Rule::Parsed,
        also_allowed: None,
        run: |_, s, text| {
            s.audit_list(&AuditFilter {
                action: Some(text.into()),
                ..Default::default()
            })
            .map(|_| Stored::Nowhere)
        },
    },
];

/// The one check: `text` in `field` either succeeds and reads back by the field's rule, or is
/// refused as `invalid_input` naming the field, with a message safe to show.
fn check(desk: &mut Desk, session: &mut Session, field: &TextField, text: &str) {
    let shown = clinicdesk_core::visible(text);
    let what = format!("{} / {} given {shown:?}", field.operation, field.field);
    match (field.run)(desk, session, text) {
        Ok(Stored::Nowhere) => {}
        Ok(Stored::In {
            table,
            column,
            key_column,
            key,
        }) => {
            let read_back: Option<String> = desk
                .clinic
                .raw_store()
                .query_row(
                    &format!("SELECT {column} FROM {table} WHERE {key_column} = ?1"),
                    [&key],
                    |row| row.get::<_, Option<String>>(0),
                )
                .optional()
                .unwrap()
                .flatten();
            let expected = field.rule.stored_form(text);
            match (read_back, expected) {
                (Some(read_back), Some(expected)) => {
                    assert_eq!(read_back, expected, "{what}: reads back by its rule")
                }
                (Some(_), None) => {}
                // An optional field left empty stores nothing.
                (None, Some(expected)) if expected.is_empty() => {}
                (None, _) => panic!("{what}: accepted, but nothing stored"),
            }
        }
        Err(error) if Some(error.code) == field.also_allowed => {}
        Err(error) => {
            assert_eq!(
                error.code,
                ErrorCode::InvalidInput,
                "{what}: {}",
                error.message
            );
            assert_eq!(
                error.field.as_deref(),
                Some(field.field),
                "{what}: the error names the field ({})",
                error.message
            );
            assert!(
                !error
                    .message
                    .chars()
                    .any(|c| c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c)),
                "{what}: the message carries a raw control character: {:?}",
                error.message
            );
            assert!(
                error.message.chars().count() < 600,
                "{what}: the message echoes too much ({} characters)",
                error.message.chars().count()
            );
        }
    }
}

/// Texts every field is given: the trials an outsider ran, and the edges of every limit.
fn hostile_texts() -> Vec<String> {
    let mut texts: Vec<String> = [
        "",
        " ",
        "Ngozi",
        "  Zoë   Ann  ",
        "4821-0937-15",
        "+49 30 1234567",
        "\u{1b}[2J",
        "phone\u{7}\u{8}\u{7f}",
        "rtl \u{202e}gnp.exe",
        "isolate \u{2066}x\u{2069}",
        "c1 \u{85}\u{9b}",
        "line one\nline two",
        "tab\there",
        "nul\u{0}byte",
        "'; DROP TABLE patients; --",
        "%_*?[",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    for length in [
        19, 20, 21, 40, 41, 64, 65, 100, 101, 200, 201, 500, 501, 1000, 1001,
    ] {
        texts.push("a".repeat(length));
        texts.push("é".repeat(length));
    }
    texts.push("x".repeat(100_001));
    texts.push("x".repeat(1 << 20));
    texts.push("\u{1b}".repeat(1 << 20));
    texts
}

/// Random text, weighted towards what breaks things: controls, direction marks, white space.
fn random_text() -> impl Strategy<Value = String> {
    let character = prop_oneof![
        4 => proptest::char::range('a', 'z'),
        2 => any::<char>(),
        1 => prop::sample::select(vec![
            ' ', '\n', '\t', '\r', '\u{0}', '\u{1b}', '\u{7f}', '\u{85}', '\u{a0}', '\u{200e}',
            '\u{202e}', '\u{2066}', '\u{feff}', '-', '+', '0', '9', '.', '(', 'x',
        ]),
    ];
    prop_oneof![
        8 => proptest::collection::vec(character.clone(), 0..60),
        1 => proptest::collection::vec(character, 0..1200),
    ]
    .prop_map(String::from_iter)
}

#[test]
fn every_text_field_takes_any_text_or_names_itself_in_a_clear_refusal() {
    let cases: u32 = std::env::var("TEXT_FIELD_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(24);
    let mut desk = Desk::new();
    for field in FIELDS {
        let mut session = desk.as_user(field.as_user);
        for text in hostile_texts() {
            check(&mut desk, &mut session, field, &text);
        }
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        });
        let desk_cell = std::cell::RefCell::new(&mut desk);
        let session_cell = std::cell::RefCell::new(&mut session);
        runner
            .run(&random_text(), |text| {
                check(
                    &mut desk_cell.borrow_mut(),
                    &mut session_cell.borrow_mut(),
                    field,
                    &text,
                );
                Ok(())
            })
            .unwrap_or_else(|failure| panic!("{} / {}: {failure}", field.operation, field.field));
    }
}

#[test]
fn the_clinic_set_up_takes_any_text_or_names_the_field() {
    type Change = fn(&mut InitRequest, &str);
    let fields: &[(&str, Rule, Change)] = &[
        ("clinic_name", Rule::Line, |request, text| {
            request.clinic_name = text.into()
        }),
        ("time_zone", Rule::Parsed, |request, text| {
            request.time_zone = text.into()
        }),
        ("admin_username", Rule::Lowercase, |request, text| {
            request.admin_username = text.into()
        }),
        ("admin_display_name", Rule::Line, |request, text| {
            request.admin_display_name = text.into()
        }),
    ];
    let texts = [
        "Riverside",
        "  Europe/Berlin ",
        "\u{1b}[2J",
        "rtl\u{202e}",
        "line\nbreak",
        &"a".repeat(201),
        &"x".repeat(1 << 20),
    ];
    for (field, rule, change) in fields {
        for text in texts {
            let folder = tempfile::tempdir().unwrap();
            let data_dir = clinicdesk_core::DataDir::new(folder.path().join("data"));
            let mut request = InitRequest {
                clinic_name: "Riverside Family Clinic".into(),
                time_zone: "Europe/Berlin".into(),
                locale: None,
                admin_username: "admin".into(),
                admin_display_name: "Alex Admin".into(),
                admin_password: secret("violet tractor umbrella sings"),
                kdf: TEST_KDF,
            };
            change(&mut request, text);
            let environment = clinicdesk_core::Environment::system();
            let what = format!("init / {field} given {:?}", clinicdesk_core::visible(text));
            match clinicdesk_core::init(&data_dir, request, &environment) {
                Ok(_) => {
                    let Some(expected) = rule.stored_form(text) else {
                        continue;
                    };
                    let username = if *field == "admin_username" {
                        expected.clone()
                    } else {
                        "admin".into()
                    };
                    let mut session = Session::login(
                        &data_dir,
                        &username,
                        &secret("violet tractor umbrella sings"),
                        &environment,
                    )
                    .unwrap_or_else(|error| panic!("{what}: {}", error.message));
                    let read_back = match *field {
                        "clinic_name" => session.status().unwrap().clinic_name,
                        "admin_display_name" => session.user().display_name.clone(),
                        _ => session.user().username.clone(),
                    };
                    assert_eq!(read_back, expected, "{what}");
                }
                Err(error) => {
                    assert_eq!(
                        error.code,
                        ErrorCode::InvalidInput,
                        "{what}: {}",
                        error.message
                    );
                    assert_eq!(
                        error.field.as_deref(),
                        Some(*field),
                        "{what}: {}",
                        error.message
                    );
                    assert!(
                        error.message.chars().count() < 600,
                        "{what}: the message echoes too much"
                    );
                    assert!(
                        !data_dir.store_file().exists(),
                        "{what}: a refused set-up leaves no store"
                    );
                }
            }
        }
    }
}
