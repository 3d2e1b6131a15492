//! What reaches a terminal: output piped into `head` or `true` ends quietly with the session
//! logged off, stored text with control or text-direction characters is printed escaped, an
//! argument that is not valid text is refused naming its option, and nothing panics.

mod support;

use std::io::{BufRead, BufReader};
use std::os::unix::ffi::OsStrExt;
use std::process::{Command, Stdio};

use clinicdesk_keyslot::{KeySlotFile, SlotOwner, SlotSecret};
use support::{stderr, Cli, ADMIN_PASSWORD, STAFF_PASSWORD};

fn clinic() -> Cli {
    let cli = Cli::clinic(&[("mona", "manager"), ("frank", "front_desk")]);
    cli.ok(
        &[
            "demo-data",
            "--size",
            "tiny",
            "--seed",
            "2",
            "--as",
            "admin",
        ],
        ADMIN_PASSWORD,
    );
    cli
}

/// How many times `frank` was logged off, as the audit trail says.
fn logoffs_of_frank(cli: &Cli) -> usize {
    let listed = cli.json(&[
        "audit", "list", "--user", "frank", "--action", "logoff.", "--as", "mona",
    ]);
    listed["entries"].as_array().unwrap().len()
}

/// Runs a search as frank, reading `lines` lines of its output before closing the pipe.
fn search_then_close(cli: &Cli, lines: usize) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_clinicdesk"))
        .args(["patient", "search", "a", "--as", "frank"])
        .env("CLINICDESK_DATA_DIR", cli.folder.path())
        .env("CLINICDESK_PASSWORD", STAFF_PASSWORD)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut reader = BufReader::new(stdout);
    for _ in 0..lines {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        assert!(!line.is_empty());
    }
    drop(reader);
    child.wait_with_output().unwrap()
}

#[test]
fn output_into_a_closed_pipe_ends_quietly_and_the_session_is_logged_off() {
    let cli = clinic();
    for lines in [0, 1] {
        let before = logoffs_of_frank(&cli);
        let output = search_then_close(&cli, lines);
        let said = stderr(&output);
        assert_eq!(output.status.code(), Some(0), "| head -n{lines}: {said}");
        assert!(!said.contains("panicked"), "{said}");
        assert_eq!(logoffs_of_frank(&cli), before + 1, "| head -n{lines}");
    }
}

#[test]
fn stored_control_and_direction_characters_are_printed_escaped() {
    let cli = clinic();
    let mrn = cli.add_patient("Ada", "Lovelace", "1915-12-10");
    // Text from before the core refused such characters, or written by another program.
    let key = KeySlotFile::new(cli.folder.path().join("keyslots.json"))
        .read()
        .unwrap()
        .unlock(
            &SlotOwner::user("admin"),
            &SlotSecret::new(ADMIN_PASSWORD.to_owned()),
        )
        .unwrap()
        .data_key;
    let store =
        clinicdesk_store::open_store(&cli.folder.path().join("clinicdesk.db"), &key).unwrap();
    store
        .execute(
            "UPDATE patients SET family_name = 'Love\u{1b}[2Jlace\u{7}\u{202e}' WHERE mrn = ?1",
            [&mrn],
        )
        .unwrap();
    drop(store);

    for args in [
        vec!["patient", "search", &mrn, "--as", "frank"],
        vec!["patient", "show", &mrn, "--as", "frank"],
        vec!["patient", "search", &mrn, "--json", "--as", "frank"],
    ] {
        let printed = cli.ok(&args, STAFF_PASSWORD);
        assert!(
            !printed.contains('\u{1b}')
                && !printed.contains('\u{7}')
                && !printed.contains('\u{202e}'),
            "{args:?} printed a raw control character: {printed:?}"
        );
        assert!(
            printed.contains("1b") && printed.contains("202e"),
            "{args:?} does not show the escaped characters: {printed:?}"
        );
    }
}

#[test]
fn an_argument_that_is_not_text_is_refused_naming_its_option() {
    let cli = clinic();
    let output = Command::new(env!("CARGO_BIN_EXE_clinicdesk"))
        .args(["patient", "add", "--given"])
        .arg(std::ffi::OsStr::from_bytes(b"Ad\xffa"))
        .args([
            "--family",
            "X",
            "--dob",
            "1990-01-01",
            "--sex",
            "f",
            "--as",
            "frank",
        ])
        .env("CLINICDESK_DATA_DIR", cli.folder.path())
        .env("CLINICDESK_PASSWORD", STAFF_PASSWORD)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let said = stderr(&output);
    assert_eq!(output.status.code(), Some(5), "{said}");
    assert!(
        said.contains("--given") && said.contains("[invalid_input]"),
        "{said}"
    );
}
