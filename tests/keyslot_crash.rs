//! A process killed while it rewrites the key-slot file leaves every user able to log in.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use clinicdesk_tests::{Clinic, ADMIN, ADMIN_PASSWORD};
use rand::Rng;

const CHURN_A: &str = "granite sparrow velvet moon";
const CHURN_B: &str = "harvest comet jasmine ferry";

#[test]
fn killing_a_key_slot_rewrite_at_random_points_never_locks_anyone_out() {
    let clinic = Clinic::new();
    clinic.add_user("nurse.joy", "nurse", "pebble orchard drift lantern");
    clinic.add_user("churn", "front_desk", CHURN_A);
    let mut rng = rand::thread_rng();
    for trial in 0..12 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_keyslot-churn"))
            .args([
                clinic.data_dir.root().to_str().unwrap(),
                "churn",
                CHURN_A,
                CHURN_B,
            ])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the churn process");
        // Synchronise on its progress lines only: after a random number of completed rewrites it
        // is already into the next one, and the kill lands wherever scheduling has it (Argon2id,
        // temporary file, fsync, rename), different from trial to trial.
        let mut progress = BufReader::new(child.stdout.take().unwrap());
        for _ in 0..rng.gen_range(1..6) {
            let mut line = String::new();
            progress.read_line(&mut line).unwrap();
            assert!(
                line.starts_with("rewrite "),
                "trial {trial}: the churn process works: {line:?}"
            );
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "trial {trial}: the churn process is still running when killed"
        );
        child.kill().unwrap();
        let status = child.wait().unwrap();
        assert!(
            !status.success(),
            "trial {trial}: the churn process was killed, not finished"
        );

        clinic
            .login(ADMIN, ADMIN_PASSWORD)
            .unwrap_or_else(|e| panic!("trial {trial}: admin: {e}"));
        clinic
            .login("nurse.joy", "pebble orchard drift lantern")
            .unwrap_or_else(|e| panic!("trial {trial}: nurse: {e}"));
        // The churned user's password is one of the two, whichever write landed last.
        let churn_ok =
            clinic.login("churn", CHURN_A).is_ok() || clinic.login("churn", CHURN_B).is_ok();
        assert!(
            churn_ok,
            "trial {trial}: the churned user can log in with one of their passwords"
        );
        let leftovers: Vec<_> = std::fs::read_dir(clinic.data_dir.root())
            .unwrap()
            .filter_map(|entry| entry.ok())
            .filter(|entry| entry.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(
            leftovers.len() <= 1,
            "trial {trial}: at most the one interrupted temporary file is left"
        );
        for leftover in leftovers {
            std::fs::remove_file(leftover.path()).unwrap();
        }
    }
}
