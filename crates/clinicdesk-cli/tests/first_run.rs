//! The README's first run, as a new user types it: init, user add, the new user's first login and
//! password change, status; and the exit codes scripts rely on.

use std::io::Write;
use std::process::{Command, Output, Stdio};

const ADMIN_PASSWORD: &str = "violet tractor umbrella sings";
const NURSE_PASSWORD: &str = "pebble orchard drift lantern";

struct Cli {
    folder: tempfile::TempDir,
}

impl Cli {
    fn new() -> Cli {
        Cli {
            folder: tempfile::tempdir().unwrap(),
        }
    }

    /// Runs `clinicdesk` with the data folder in the environment, `stdin` on standard input and
    /// the given extra environment variables.
    fn run(&self, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_clinicdesk"));
        command
            .args(args)
            .env("CLINICDESK_DATA_DIR", self.folder.path().join("data"))
            .env_remove("CLINICDESK_PASSWORD")
            .env_remove("CLINICDESK_NEW_PASSWORD")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    fn ok(&self, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> String {
        let output = self.run(args, stdin, env);
        assert!(
            output.status.success(),
            "clinicdesk {args:?} failed with {:?}: {}",
            output.status.code(),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }
}

fn last_line(text: &str) -> String {
    text.lines().last().unwrap_or_default().trim().to_owned()
}

#[test]
fn a_new_clinic_from_init_to_a_nurse_who_has_chosen_her_password() {
    let cli = Cli::new();
    let init = cli.ok(
        &[
            "init",
            "--clinic-name",
            "Riverside Family Clinic",
            "--admin",
            "admin",
            "--time-zone",
            "Europe/Berlin",
        ],
        &format!("{ADMIN_PASSWORD}\n"),
        &[],
    );
    let recovery_line = init
        .lines()
        .find(|line| line.trim().split('-').count() == 8)
        .expect("the recovery key is printed");
    assert_eq!(recovery_line.trim().len(), 39);

    let admin = [("CLINICDESK_PASSWORD", ADMIN_PASSWORD)];
    let added = cli.ok(
        &[
            "user",
            "add",
            "nurse.joy",
            "--role",
            "nurse",
            "--name",
            "Joy Adams",
            "--as",
            "admin",
        ],
        "",
        &admin,
    );
    let temporary = last_line(&added);
    assert_eq!(
        temporary.len(),
        23,
        "a temporary password is the last line: {added}"
    );

    // The temporary password works only for choosing a new one.
    let refused = cli.run(
        &["status", "--as", "nurse.joy"],
        &format!("{temporary}\n"),
        &[],
    );
    assert_eq!(refused.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("temporary password"));

    // passwd: current password on the first stdin line, the new one on the next.
    cli.ok(
        &["passwd", "--as", "nurse.joy"],
        &format!("{temporary}\n{NURSE_PASSWORD}\n"),
        &[],
    );
    let status = cli.ok(
        &["status", "--as", "nurse.joy"],
        "",
        &[("CLINICDESK_PASSWORD", NURSE_PASSWORD)],
    );
    assert!(status.contains("Riverside Family Clinic"), "{status}");
    assert!(status.contains("Schema version:"), "{status}");
    assert!(status.contains("clinicdesk.db"), "{status}");

    let json = cli.ok(&["status", "--json", "--as", "admin"], "", &admin);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["clinic_name"], "Riverside Family Clinic");
    assert!(value["schema_version"].as_u64().unwrap() >= 1);
    assert_eq!(
        value["schema_version"], value["latest_schema_version"],
        "a new store is at the latest schema"
    );

    let users = cli.ok(&["user", "list", "--json", "--as", "admin"], "", &admin);
    let users: serde_json::Value = serde_json::from_str(&users).unwrap();
    let joy = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "nurse.joy")
        .unwrap();
    assert_eq!(joy["must_change_password"], false);
    assert_eq!(joy["role"], "nurse");
}

#[test]
fn exit_codes_say_what_went_wrong() {
    let cli = Cli::new();
    let check = |args: &[&str], stdin: &str, env: &[(&str, &str)], code: i32, says: &str| {
        let output = cli.run(args, stdin, env);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(
            stderr.contains(says),
            "{args:?}: {stderr:?} should say {says:?}"
        );
    };
    check(
        &["status", "--as", "admin"],
        "whatever\n",
        &[],
        2,
        "clinicdesk init",
    );
    check(
        &["init", "--clinic-name", "C", "--admin", "admin"],
        "short\n",
        &[],
        5,
        "too short",
    );
    cli.ok(
        &["init", "--clinic-name", "C", "--admin", "admin"],
        &format!("{ADMIN_PASSWORD}\n"),
        &[],
    );
    check(
        &["init", "--clinic-name", "C", "--admin", "admin"],
        &format!("{ADMIN_PASSWORD}\n"),
        &[],
        2,
        "already holds",
    );
    check(
        &["status", "--as", "admin"],
        "not the password at all\n",
        &[],
        3,
        "Wrong username or password",
    );
    check(&["status"], "", &[], 2, "--as USERNAME");
    let admin = [("CLINICDESK_PASSWORD", ADMIN_PASSWORD)];
    check(
        &[
            "user", "add", "bo", "--role", "surgeon", "--name", "Bo", "--as", "admin",
        ],
        "",
        &admin,
        5,
        "no role",
    );
    let added = cli.ok(
        &[
            "user",
            "add",
            "frank",
            "--role",
            "front_desk",
            "--name",
            "Frank",
            "--as",
            "admin",
        ],
        "",
        &admin,
    );
    cli.ok(
        &["passwd", "--as", "frank"],
        &format!("{}\ncopper willow basket thunder\n", last_line(&added)),
        &[],
    );
    check(
        &["user", "list", "--as", "frank"],
        "copper willow basket thunder\n",
        &[],
        4,
        "may not",
    );
    check(
        &[
            "user", "add", "frank", "--role", "nurse", "--name", "F", "--as", "admin",
        ],
        "",
        &admin,
        7,
        "already exists",
    );
    check(&["frobnicate"], "", &[], 2, "unrecognized subcommand");
}

#[test]
fn disable_enable_set_role_reset_password_and_recover() {
    let cli = Cli::new();
    let init = cli.ok(
        &["init", "--clinic-name", "C", "--admin", "admin"],
        &format!("{ADMIN_PASSWORD}\n"),
        &[],
    );
    let recovery_key = init
        .lines()
        .find(|line| line.trim().split('-').count() == 8)
        .unwrap()
        .trim()
        .to_owned();
    let admin = [("CLINICDESK_PASSWORD", ADMIN_PASSWORD)];
    let added = cli.ok(
        &[
            "user",
            "add",
            "frank",
            "--role",
            "front_desk",
            "--name",
            "Frank",
            "--as",
            "admin",
        ],
        "",
        &admin,
    );
    cli.ok(
        &["passwd", "--as", "frank"],
        &format!("{}\ncopper willow basket thunder\n", last_line(&added)),
        &[],
    );
    let frank = [("CLINICDESK_PASSWORD", "copper willow basket thunder")];

    cli.ok(
        &["user", "set-role", "frank", "nurse", "--as", "admin"],
        "",
        &admin,
    );
    let status = cli.ok(&["status", "--json", "--as", "frank"], "", &frank);
    assert!(status.contains("clinic_name"));
    cli.ok(&["user", "disable", "frank", "--as", "admin"], "", &admin);
    assert_eq!(
        cli.run(&["status", "--as", "frank"], "", &frank)
            .status
            .code(),
        Some(3)
    );
    let enabled = cli.ok(&["user", "enable", "frank", "--as", "admin"], "", &admin);
    assert_eq!(
        cli.run(&["status", "--as", "frank"], "", &frank)
            .status
            .code(),
        Some(3),
        "the old password stays dead"
    );
    let reset = cli.ok(
        &["user", "reset-password", "frank", "--as", "admin"],
        "",
        &admin,
    );
    assert_ne!(last_line(&enabled), last_line(&reset));
    cli.ok(
        &["passwd", "--as", "frank"],
        &format!("{}\nmarble canyon whistle frost\n", last_line(&reset)),
        &[],
    );

    cli.ok(
        &["recover", "--admin", "admin"],
        &format!("{recovery_key}\nharvest comet jasmine ferry\n"),
        &[],
    );
    assert_eq!(
        cli.run(&["status", "--as", "admin"], "", &admin)
            .status
            .code(),
        Some(3)
    );
    let verified = cli.ok(
        &["audit", "verify", "--as", "admin"],
        "",
        &[("CLINICDESK_PASSWORD", "harvest comet jasmine ferry")],
    );
    assert!(verified.contains("intact"), "{verified}");
}
