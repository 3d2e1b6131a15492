//! A day at the clinic through the CLI, as a script would drive it: register, search, set up a
//! provider, book (a double booking is exit 7), check in, record vitals (implausible is exit 5),
//! write a note.

mod support;

use support::{last_line, Cli, STAFF_PASSWORD as STAFF};

#[test]
fn register_book_check_in_record_vitals_and_write_a_note() {
    let cli = Cli::clinic(&[
        ("frank", "front_desk"),
        ("joy", "nurse"),
        ("cole", "clinician"),
    ]);
    let frank = ["--as", "frank"];
    fn with<'a>(args: &[&'a str], who: &[&'a str]) -> Vec<&'a str> {
        args.iter().chain(who).copied().collect()
    }

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
