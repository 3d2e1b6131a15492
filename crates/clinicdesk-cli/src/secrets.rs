//! Where passwords and recovery keys come from: an environment variable, else the terminal
//! (without echo), else lines of standard input, in that order.

use std::io::{BufRead, IsTerminal};

use clinicdesk_core::{Error, ErrorCode, Result, SlotSecret};

pub struct Secrets {
    stdin_lines: Option<std::io::Lines<std::io::StdinLock<'static>>>,
}

impl Secrets {
    pub fn new() -> Secrets {
        Secrets { stdin_lines: None }
    }

    fn interactive() -> bool {
        std::io::stdin().is_terminal()
    }

    fn next_stdin_line(&mut self, what: &str) -> Result<String> {
        let lines = self
            .stdin_lines
            .get_or_insert_with(|| std::io::stdin().lock().lines());
        match lines.next() {
            Some(Ok(line)) => Ok(line.trim_end_matches(['\r', '\n']).to_owned()),
            Some(Err(error)) => Err(Error::new(ErrorCode::Usage, format!("could not read {what} from standard input: {error}"))),
            None => Err(Error::new(
                ErrorCode::Usage,
                format!("{what} is needed: set it in the environment, type it at a terminal, or give it as a line on standard input"),
            )),
        }
    }

    fn prompt(label: &str) -> Result<String> {
        rpassword::prompt_password(format!("{label}: ")).map_err(|error| {
            Error::new(
                ErrorCode::Usage,
                format!("could not read from the terminal: {error}"),
            )
        })
    }

    /// The signed-in user's password: CLINICDESK_PASSWORD, else the terminal, else stdin.
    pub fn password(&mut self, username: &str) -> Result<SlotSecret> {
        if let Ok(password) = std::env::var("CLINICDESK_PASSWORD") {
            return Ok(SlotSecret::new(password));
        }
        if Self::interactive() {
            return Self::prompt(&format!("Password for {username}")).map(SlotSecret::new);
        }
        self.next_stdin_line("the password").map(SlotSecret::new)
    }

    /// A new password: CLINICDESK_NEW_PASSWORD, else asked twice on the terminal, else the next
    /// line of stdin.
    pub fn new_password(&mut self, label: &str) -> Result<SlotSecret> {
        if let Ok(password) = std::env::var("CLINICDESK_NEW_PASSWORD") {
            return Ok(SlotSecret::new(password));
        }
        if Self::interactive() {
            crate::output::notice(
                "At least 12 characters; a few unrelated words make a good password.\n",
            );
            let first = Self::prompt(label)?;
            let second = Self::prompt("Type it again")?;
            if first != second {
                return Err(Error::invalid_input(
                    "the two passwords differ; nothing was changed",
                ));
            }
            return Ok(SlotSecret::new(first));
        }
        self.next_stdin_line("the new password")
            .map(SlotSecret::new)
    }

    /// The recovery key: CLINICDESK_RECOVERY_KEY, else the terminal, else stdin.
    pub fn recovery_key(&mut self) -> Result<String> {
        if let Ok(key) = std::env::var("CLINICDESK_RECOVERY_KEY") {
            return Ok(key);
        }
        if Self::interactive() {
            return Self::prompt("Recovery key");
        }
        self.next_stdin_line("the recovery key")
    }
}
