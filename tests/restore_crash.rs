//! A restore killed at any point leaves a working store: the old one or the restored one,
//! never neither and never a mix.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use clinicdesk_tests::{Clinic, STAFF_PASSWORD};

fn patients(clinic: &Clinic) -> BTreeSet<String> {
    let store =
        clinicdesk_store::open_store(&clinic.data_dir.store_file(), &clinic.data_key()).unwrap();
    let mut statement = store.prepare("SELECT id FROM patients").unwrap();
    let ids = statement
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    ids
}

fn add_patients(clinic: &Clinic, family: &str, count: usize) {
    let mut frank = clinic.staff("frank");
    for index in 0..count {
        frank
            .register_patient(
                &clinicdesk_core::NewPatient {
                    given_name: format!("Given{index}"),
                    family_name: family.into(),
                    date_of_birth: "1990-05-05".into(),
                    sex: clinicdesk_core::Sex::Unknown,
                    phone: Some(format!("+49 30 555{index:04}")),
                    restricted: false,
                },
                true,
            )
            .unwrap();
    }
}

/// Runs the restore helper; kills it after `kill_after` progress lines (never, when `None`).
/// Returns the lines it printed and whether it finished.
fn run_restore(clinic: &Clinic, file: &str, kill_after: Option<usize>) -> (usize, bool) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_restore-churn"))
        .args([
            clinic.data_dir.root().to_str().unwrap(),
            "mona",
            STAFF_PASSWORD,
            file,
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the restore process");
    let mut output = BufReader::new(child.stdout.take().unwrap());
    let mut lines = 0;
    let mut finished = false;
    loop {
        if kill_after == Some(lines) {
            break;
        }
        let mut line = String::new();
        if output.read_line(&mut line).unwrap() == 0 {
            break;
        }
        if line.trim() == "done" {
            finished = true;
            break;
        }
        assert!(line.starts_with("progress "), "{line:?}");
        lines += 1;
    }
    if kill_after.is_some() && !finished {
        let _ = child.kill();
    }
    let status = child.wait().unwrap();
    if kill_after.is_none() {
        assert!(status.success(), "the unkilled restore succeeds");
    }
    (lines, finished || status.success())
}

#[test]
fn a_restore_killed_at_any_point_leaves_the_old_or_the_new_store_working() {
    let clinic = Clinic::with_staff();
    add_patients(&clinic, "InBackup", 120);
    let mut mona = clinic.staff("mona");
    let backup = mona.create_backup(None, &mut |_| {}).expect("backup");
    drop(mona);
    let in_backup = patients(&clinic);

    // A complete run, to learn how many progress lines a restore prints.
    add_patients(&clinic, "AfterBackup", 5);
    let (total_lines, finished) = run_restore(&clinic, &backup.path, None);
    assert!(finished);
    assert_eq!(patients(&clinic), in_backup);
    assert!(total_lines >= 10, "only {total_lines} progress lines");

    let mut outcomes = BTreeSet::new();
    for trial in 0..=total_lines {
        add_patients(&clinic, &format!("Trial{trial}"), 2);
        let before = patients(&clinic);
        let (_, finished) = run_restore(&clinic, &backup.path, Some(trial));
        // The store opens, passes every check, and is wholly one of the two.
        let mut mona = clinic
            .login("mona", STAFF_PASSWORD)
            .unwrap_or_else(|e| panic!("trial {trial}: the manager cannot log in: {e}"));
        mona.audit_verify()
            .unwrap_or_else(|e| panic!("trial {trial}: audit: {e}"));
        drop(mona);
        let store = clinicdesk_store::open_store(&clinic.data_dir.store_file(), &clinic.data_key())
            .unwrap();
        assert!(
            clinicdesk_store::integrity_problems(&store)
                .unwrap()
                .is_empty(),
            "trial {trial}"
        );
        drop(store);
        let now = patients(&clinic);
        let which = if now == before {
            "old"
        } else if now == in_backup {
            "new"
        } else {
            panic!("trial {trial}: the store is neither the old nor the restored one")
        };
        if finished {
            assert_eq!(which, "new", "trial {trial}");
        }
        outcomes.insert(which);
    }
    eprintln!(
        "{} kill points; the store afterwards: {outcomes:?}",
        total_lines + 1
    );
    assert!(total_lines + 1 >= 10, "at least 10 kill points");
    assert!(
        outcomes.contains("old"),
        "some kills left the old store: {outcomes:?}"
    );
    // A restore after all those kills still works.
    let (_, finished) = run_restore(&clinic, &backup.path, None);
    assert!(finished);
    assert_eq!(patients(&clinic), in_backup);
}
