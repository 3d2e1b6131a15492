//! The `clinicdesk` program as a script runs it, in a clinic of its own: a temporary data folder,
//! an administrator, and staff who chose their own passwords.

#![allow(dead_code)] // each test file uses what it needs

use std::process::{Command, Output, Stdio};

pub const ADMIN_PASSWORD: &str = "violet tractor umbrella sings";
pub const STAFF_PASSWORD: &str = "copper willow basket thunder";

pub struct Cli {
    pub folder: tempfile::TempDir,
    /// The recovery key `init` printed.
    pub recovery_key: String,
}

impl Cli {
    /// A clinic in Europe/Berlin with an administrator (`admin`) and `staff` (username, role),
    /// each of whom replaced their temporary password with `STAFF_PASSWORD`.
    pub fn clinic(staff: &[(&str, &str)]) -> Cli {
        let folder = tempfile::tempdir().unwrap();
        let init = Command::new(env!("CARGO_BIN_EXE_clinicdesk"))
            .args([
                "init",
                "--clinic-name",
                "Riverside",
                "--admin",
                "admin",
                "--time-zone",
                "Europe/Berlin",
            ])
            .env("CLINICDESK_DATA_DIR", folder.path())
            .env("CLINICDESK_NEW_PASSWORD", ADMIN_PASSWORD)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            init.status.success(),
            "{}",
            String::from_utf8_lossy(&init.stderr)
        );
        let text = String::from_utf8(init.stdout).unwrap();
        let recovery_key = text
            .lines()
            .find(|line| line.trim().split('-').count() == 8)
            .unwrap()
            .trim()
            .to_owned();
        let cli = Cli {
            folder,
            recovery_key,
        };
        for (user, role) in staff {
            let added = cli.ok(
                &[
                    "user", "add", user, "--role", role, "--name", user, "--as", "admin",
                ],
                ADMIN_PASSWORD,
            );
            cli.ok(&["passwd", "--as", user], &last_line(&added));
        }
        cli
    }

    /// Runs `clinicdesk args…` with `password` as the `--as` user's password.
    pub fn run(&self, args: &[&str], password: &str) -> Output {
        self.run_with(args, password, &[])
    }

    /// Runs `clinicdesk args…` with more environment variables (a recovery key).
    pub fn run_with(&self, args: &[&str], password: &str, variables: &[(&str, &str)]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_clinicdesk"))
            .args(args)
            .env("CLINICDESK_DATA_DIR", self.folder.path())
            .env("CLINICDESK_PASSWORD", password)
            .env("CLINICDESK_NEW_PASSWORD", STAFF_PASSWORD)
            .envs(variables.iter().copied())
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    /// Runs a command that must succeed; its standard output.
    pub fn ok(&self, args: &[&str], password: &str) -> String {
        let output = self.run(args, password);
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// Registers a patient as frank (the front desk); the new MRN.
    pub fn add_patient(&self, given: &str, family: &str, birth: &str) -> String {
        last_line(&self.ok(
            &[
                "patient", "add", "--given", given, "--family", family, "--dob", birth, "--sex",
                "female", "--as", "frank",
            ],
            STAFF_PASSWORD,
        ))
    }

    /// Runs a staff member's command with `--json`; its output.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut with_json = args.to_vec();
        with_json.push("--json");
        serde_json::from_str(&self.ok(&with_json, STAFF_PASSWORD)).unwrap()
    }
}

pub fn last_line(text: &str) -> String {
    text.lines().last().unwrap().trim().to_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}
