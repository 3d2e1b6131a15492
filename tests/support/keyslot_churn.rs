//! Test helper process: rewrites the key-slot file in a loop (password changes back and forth)
//! until it is killed, printing a line after each rewrite. `keyslot_crash` kills it at random
//! points and checks every user still logs in. Arguments: DATA_DIR USERNAME PASSWORD_A PASSWORD_B.

use std::io::Write;

use clinicdesk_core::{DataDir, Environment, Session, SlotSecret};

fn main() {
    let arguments: Vec<String> = std::env::args().collect();
    let [_, folder, username, first, second] = arguments.as_slice() else {
        eprintln!("usage: keyslot-churn DATA_DIR USERNAME PASSWORD_A PASSWORD_B");
        std::process::exit(2);
    };
    let data_dir = DataDir::new(folder);
    let environment = Environment::system();
    // The last run may have been killed after either write: start from whichever password works.
    let (mut current, mut next) = if Session::login(
        &data_dir,
        username,
        &SlotSecret::new(first.clone()),
        &environment,
    )
    .is_ok()
    {
        (first.clone(), second.clone())
    } else {
        (second.clone(), first.clone())
    };
    let mut stdout = std::io::stdout();
    for rewrite in 0u64.. {
        let mut session = Session::login(
            &data_dir,
            username,
            &SlotSecret::new(current.clone()),
            &environment,
        )
        .expect("the churned user logs in");
        session
            .change_password(
                &SlotSecret::new(current.clone()),
                &SlotSecret::new(next.clone()),
            )
            .expect("password change");
        std::mem::swap(&mut current, &mut next);
        writeln!(stdout, "rewrite {rewrite}").expect("report progress");
        stdout.flush().expect("report progress");
    }
}
