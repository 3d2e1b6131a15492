//! Test helper process: restores a backup, printing a line for every progress report (one per
//! decrypted chunk, and at each stage), then "done". `restore_crash` kills it part-way and checks
//! the store still works. Arguments: DATA_DIR USERNAME PASSWORD BACKUP_FILE.

use std::io::Write;
use std::path::Path;

use clinicdesk_core::{DataDir, Environment, Session, SlotSecret};

fn main() {
    let arguments: Vec<String> = std::env::args().collect();
    let [_, folder, username, password, file] = arguments.as_slice() else {
        eprintln!("usage: restore-churn DATA_DIR USERNAME PASSWORD BACKUP_FILE");
        std::process::exit(2);
    };
    let data_dir = DataDir::new(folder);
    let mut session = Session::login(
        &data_dir,
        username,
        &SlotSecret::new(password.clone()),
        &Environment::system(),
    )
    .expect("the manager logs in");
    let mut stdout = std::io::stdout();
    session
        .restore_backup(Path::new(file), &mut |progress| {
            writeln!(
                stdout,
                "progress {:?} {} {}",
                progress.stage, progress.done_bytes, progress.total_bytes
            )
            .and_then(|_| stdout.flush())
            .expect("report progress");
        })
        .expect("restore");
    writeln!(stdout, "done")
        .and_then(|_| stdout.flush())
        .expect("report");
}
