//! A day at the clinic through the CLI, as a script would drive it: register, search, set up a
//! provider, book (a double booking is exit 7), check in, record vitals (implausible is exit 5),
//! write a note.

mod support;

use support::{last_line, Cli, STAFF_PASSWORD as STAFF};

/// The arguments, then `--as someone`.
fn with<'a>(args: &[&'a str], who: &[&'a str]) -> Vec<&'a str> {
    args.iter().chain(who).copied().collect()
}

#[test]
fn register_book_check_in_record_vitals_and_write_a_note() {
    let cli = Cli::clinic(&[
        ("frank", "front_desk"),
        ("joy", "nurse"),
        ("cole", "clinician"),
    ]);
    let frank = ["--as", "frank"];

    let added = cli.ok(
        &with(
            &[
                "patient",
                "add",
                "--given",
                "Ngozi",
                "--family",
                "Okafor",
                "--dob",
                "1984-03-27",
                "--sex",
                "f",
                "--phone",
                "+49 30 1234567",
            ],
            &frank,
        ),
        STAFF,
    );
    let mrn = last_line(&added);
    let hits = cli.json(&with(&["patient", "search", "ngozi", "okafr"], &frank));
    assert_eq!(hits[0]["mrn"], mrn.as_str());
    let by_phone = cli.json(&with(&["patient", "search", "030", "1234567"], &frank));
    assert_eq!(by_phone[0]["mrn"], mrn.as_str());
    let other = last_line(&cli.ok(
        &with(
            &[
                "patient",
                "add",
                "--given",
                "Hans",
                "--family",
                "Weber",
                "--dob",
                "1951-12-24",
                "--sex",
                "m",
            ],
            &frank,
        ),
        STAFF,
    ));

    let provider = last_line(&cli.ok(
        &with(
            &["provider", "add", "--name", "Dr. Cole", "--user", "cole"],
            &frank,
        ),
        STAFF,
    ));
    cli.ok(
        &with(
            &[
                "provider",
                "hours",
                &provider,
                "--days",
                "1-5",
                "--window",
                "08:00-12:00",
                "--window",
                "13:00-17:00",
            ],
            &frank,
        ),
        STAFF,
    );
    let booked = cli.json(&with(
        &[
            "appointment",
            "book",
            "--patient",
            &mrn,
            "--provider",
            &provider,
            "--at",
            "2030-01-07 09:00",
            "--minutes",
            "30",
        ],
        &frank,
    ));
    let appointment = booked[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(booked[0]["local_start"], "2030-01-07 09:00");
    let clash = cli.run(
        &with(
            &[
                "appointment",
                "book",
                "--patient",
                &other,
                "--provider",
                &provider,
                "--at",
                "2030-01-07 09:15",
            ],
            &frank,
        ),
        STAFF,
    );
    assert_eq!(clash.status.code(), Some(7));
    assert!(String::from_utf8_lossy(&clash.stderr).contains("Dr. Cole already sees"));
    let next = cli.json(&with(
        &[
            "appointment",
            "next-free",
            "--provider",
            &provider,
            "--minutes",
            "30",
            "--from",
            "2030-01-07 09:00",
        ],
        &frank,
    ));
    assert_eq!(next["next_free"], "2030-01-07 09:30");
    cli.ok(
        &with(&["appointment", "status", &appointment, "arrived"], &frank),
        STAFF,
    );
    let day = cli.json(&with(
        &[
            "appointment",
            "list",
            "--provider",
            &provider,
            "--date",
            "2030-01-07",
        ],
        &frank,
    ));
    assert_eq!(day[0]["status"], "arrived");

    let joy = ["--as", "joy"];
    let implausible = cli.run(
        &with(
            &["vitals", "record", "--patient", &mrn, "--heart-rate", "400"],
            &joy,
        ),
        STAFF,
    );
    assert_eq!(implausible.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&implausible.stderr)
        .contains("Heart rate 400 /min is outside the plausible range 20–300 /min"));
    let set = cli.json(&with(
        &[
            "vitals",
            "record",
            "--patient",
            &mrn,
            "--systolic",
            "150",
            "--diastolic",
            "95",
            "--temperature",
            "98.6F",
            "--weight",
            "150lb",
            "--height",
            "70in",
        ],
        &joy,
    ));
    let observations = set[0]["observations"].as_array().unwrap();
    let bmi = observations
        .iter()
        .find(|o| o["loinc"] == "39156-5")
        .unwrap();
    assert_eq!(bmi["value"], 21.5);
    let systolic = observations
        .iter()
        .find(|o| o["loinc"] == "8480-6")
        .unwrap();
    assert_eq!(systolic["interpretation"], "high");

    let cole = ["--as", "cole"];
    let note = last_line(&cli.ok(
        &with(
            &[
                "note",
                "add",
                "--patient",
                &mrn,
                "--title",
                "Hypertension",
                "--text",
                "BP raised today; recheck in two weeks.",
            ],
            &cole,
        ),
        STAFF,
    ));
    cli.ok(
        &with(
            &[
                "note",
                "addendum",
                &note,
                "--patient",
                &mrn,
                "--text",
                "Home readings requested.",
            ],
            &cole,
        ),
        STAFF,
    );
    let notes = cli.json(&with(
        &["note", "list", "--patient", &mrn, "--search", "readings"],
        &cole,
    ));
    assert_eq!(notes[0]["addenda"][0]["body"], "Home readings requested.");
    assert_eq!(
        cli.run(&with(&["note", "list", "--patient", &mrn], &frank), STAFF)
            .status
            .code(),
        Some(4)
    );
}

#[test]
fn allergies_medications_and_problems_with_the_same_rules_and_exit_codes() {
    let cli = Cli::clinic(&[
        ("frank", "front_desk"),
        ("joy", "nurse"),
        ("cole", "clinician"),
    ]);
    let (frank, joy, cole) = (["--as", "frank"], ["--as", "joy"], ["--as", "cole"]);
    let mrn = last_line(&cli.ok(
        &with(
            &[
                "patient",
                "add",
                "--given",
                "Ngozi",
                "--family",
                "Okafor",
                "--dob",
                "1984-03-27",
                "--sex",
                "f",
            ],
            &frank,
        ),
        STAFF,
    ));
    let code = |args: &[&str]| cli.run(args, STAFF).status.code();
    let stderr = |args: &[&str]| String::from_utf8_lossy(&cli.run(args, STAFF).stderr).into_owned();

    // Never asked, then "no known allergies", then an allergy that withdraws it.
    let list = cli.json(&with(&["allergy", "list", "--patient", &mrn], &joy));
    assert_eq!(list["state"]["kind"], "not_recorded");
    cli.ok(
        &with(&["allergy", "none-known", "--patient", &mrn], &joy),
        STAFF,
    );
    let list = cli.json(&with(&["allergy", "list", "--patient", &mrn], &joy));
    assert_eq!(list["state"]["kind"], "no_known_allergies");
    let added = cli.json(&with(
        &[
            "allergy",
            "add",
            "--patient",
            &mrn,
            "--substance",
            "Penicillin",
            "--category",
            "medication",
            "--reaction",
            "Hives",
            "--severity",
            "moderate",
        ],
        &joy,
    ));
    let allergy = added["allergy_id"].as_str().unwrap().to_owned();
    let list = cli.json(&with(&["allergy", "list", "--patient", &mrn], &cole));
    assert_eq!(list["state"]["kind"], "has_allergies");
    assert_eq!(list["state"]["substances"][0], "Penicillin");
    let text = cli.ok(&with(&["allergy", "list", "--patient", &mrn], &cole), STAFF);
    assert!(text.starts_with("ALLERGIES: Penicillin"), "{text}");

    // The rules: refused with exit 5 (invalid input) or 4 (not this role), naming the problem.
    let none_known = with(&["allergy", "none-known", "--patient", &mrn], &joy);
    assert_eq!(code(&none_known), Some(5));
    assert!(stderr(&none_known).contains("Penicillin"));
    let pollen = with(
        &[
            "allergy",
            "add",
            "--patient",
            &mrn,
            "--substance",
            "Birch",
            "--category",
            "pollen",
        ],
        &joy,
    );
    assert_eq!(code(&pollen), Some(5));
    assert!(stderr(&pollen).contains("food, medication, environment"));
    let future = with(
        &[
            "allergy",
            "add",
            "--patient",
            &mrn,
            "--substance",
            "Latex",
            "--category",
            "environment",
            "--onset",
            "2999-01-01",
        ],
        &joy,
    );
    assert_eq!(code(&future), Some(5));
    assert_eq!(
        code(&with(&["allergy", "list", "--patient", &mrn], &frank)),
        Some(4)
    );

    // A change keeps what is not given; inactive leaves the allergy status "not recorded".
    cli.ok(
        &with(
            &[
                "allergy",
                "update",
                &allergy,
                "--patient",
                &mrn,
                "--status",
                "inactive",
            ],
            &cole,
        ),
        STAFF,
    );
    let list = cli.json(&with(&["allergy", "list", "--patient", &mrn], &cole));
    assert_eq!(list["state"]["kind"], "not_recorded");
    assert_eq!(list["allergies"][0]["reaction"], "Hives");
    cli.ok(
        &with(
            &[
                "allergy",
                "mark-in-error",
                &allergy,
                "--reason",
                "wrong patient",
            ],
            &cole,
        ),
        STAFF,
    );
    assert_eq!(
        code(&with(
            &[
                "allergy",
                "mark-in-error",
                &allergy,
                "--reason",
                "wrong patient"
            ],
            &cole
        )),
        Some(7)
    );

    // Medications and their review (clinicians only).
    let medication = cli.json(&with(
        &[
            "medication",
            "add",
            "--patient",
            &mrn,
            "--name",
            "Metformin",
            "--dose",
            "500 mg",
            "--frequency",
            "twice a day",
            "--started",
            "2024-03-01",
        ],
        &joy,
    ))["medication_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let list = cli.json(&with(&["medication", "list", "--patient", &mrn], &cole));
    assert_eq!(list["medications"][0]["changed_since_review"], true);
    assert_eq!(
        code(&with(&["medication", "review", "--patient", &mrn], &joy)),
        Some(4)
    );
    cli.ok(
        &with(&["medication", "review", "--patient", &mrn], &cole),
        STAFF,
    );
    let list = cli.json(&with(&["medication", "list", "--patient", &mrn], &cole));
    assert_eq!(list["medications"][0]["changed_since_review"], false);
    assert!(list["last_review"]["reviewed_by"].is_string());
    let stopped_early = with(
        &[
            "medication",
            "update",
            &medication,
            "--patient",
            &mrn,
            "--status",
            "stopped",
            "--stopped",
            "2024-02-01",
        ],
        &cole,
    );
    assert_eq!(code(&stopped_early), Some(5));
    assert!(stderr(&stopped_early).contains("before 2024-03-01"));

    // Problems: ICD-10 checked by shape; resolving without a date resolves today.
    assert_eq!(
        code(&with(
            &[
                "problem",
                "add",
                "--patient",
                &mrn,
                "--description",
                "Diabetes",
                "--icd10",
                "diabetes",
            ],
            &cole
        )),
        Some(5)
    );
    let problem = cli.json(&with(
        &[
            "problem",
            "add",
            "--patient",
            &mrn,
            "--description",
            "Type 2 diabetes",
            "--icd10",
            "e11.9",
        ],
        &cole,
    ))["problem_id"]
        .as_str()
        .unwrap()
        .to_owned();
    cli.ok(
        &with(
            &[
                "problem",
                "update",
                &problem,
                "--patient",
                &mrn,
                "--status",
                "resolved",
            ],
            &cole,
        ),
        STAFF,
    );
    let problems = cli.json(&with(&["problem", "list", "--patient", &mrn], &joy));
    assert_eq!(problems[0]["icd10_code"], "E11.9");
    assert_eq!(problems[0]["status"], "resolved");
    assert!(problems[0]["resolved_on"].is_string());
}
