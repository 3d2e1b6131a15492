//! Password policy: 12–128 characters, no composition rules, not guessable, not the username.

use clinicdesk_error::{Error, ErrorCode, Result};
use zxcvbn::Score;

pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_CHARS: usize = 128;

/// Refuses a password the policy does not allow, saying why in words a person can act on.
pub fn check_new_password(password: &str, username: &str, display_name: &str) -> Result<()> {
    let weak = |why: String| Err(Error::new(ErrorCode::WeakPassword, why));
    let length = password.chars().count();
    if length < MIN_PASSWORD_CHARS {
        return weak(format!(
            "the password is too short: {length} characters, at least {MIN_PASSWORD_CHARS} are needed (a few unrelated words make a good one)"
        ));
    }
    if length > MAX_PASSWORD_CHARS {
        return weak(format!("the password is too long: {length} characters, at most {MAX_PASSWORD_CHARS} are allowed"));
    }
    let lowered = password.to_lowercase();
    let username = username.trim().to_lowercase();
    if username.len() >= 2 && lowered.contains(&username) {
        return weak("the password must not contain your username".to_owned());
    }
    let mut hints: Vec<&str> = vec![username.as_str(), "clinicdesk", "clinic", "password"];
    hints.extend(display_name.split_whitespace());
    let estimate = zxcvbn::zxcvbn(password, &hints);
    if estimate.score() < Score::Three {
        let mut why = String::from("the password is too easy to guess");
        if let Some(feedback) = estimate.feedback() {
            if let Some(warning) = feedback.warning() {
                why.push_str(&format!(" ({warning})"));
            }
            if let Some(suggestion) = feedback.suggestions().first() {
                why.push_str(&format!("; {suggestion}"));
            }
        }
        return weak(why);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(password: &str, expect_ok: bool, reason_contains: &str) {
        let outcome = check_new_password(password, "nurse.joy", "Joy Adams");
        match (expect_ok, outcome) {
            (true, Ok(())) => {}
            (false, Err(error)) => {
                assert_eq!(error.code, ErrorCode::WeakPassword, "{password}");
                assert!(
                    error.message.contains(reason_contains),
                    "{password}: {}",
                    error.message
                );
            }
            (expected, outcome) => panic!("{password}: expected ok={expected}, got {outcome:?}"),
        }
    }

    #[test]
    fn the_policy_table() {
        check("short1!", false, "too short");
        check("elevenchars", false, "too short");
        check(
            &"correct horse battery staple ".repeat(5),
            false,
            "too long",
        );
        check("password1234", false, "too easy to guess");
        check("qwertyuiopasdf", false, "too easy to guess");
        check("Nurse.Joy-likes-tea-1987", false, "username");
        check("abcdefghijklmnop", false, "too easy to guess");
        check("violet tractor umbrella sings", true, "");
        check("Gq7#vR2m!xPz9Lw", true, "");
        let longest: String = "quartz meadow lantern ripple saffron harbour tundra echo copper willow basket thunder granite sparrow velvet moon harvest comet jasmine ferry"
            .chars()
            .take(MAX_PASSWORD_CHARS)
            .collect();
        assert_eq!(longest.chars().count(), 128);
        check(&longest, true, "");
    }
}
