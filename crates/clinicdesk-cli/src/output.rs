//! How results reach the terminal: JSON for scripts (`--json`), or lines for people; never a
//! control character the tool did not mean (stored text is shown with its control and
//! text-direction characters escaped), and never a panic when the reader went away (`| head`).

use std::cell::Cell;
use std::io::Write;

pub(crate) struct Output {
    pub(crate) json: bool,
    /// Standard output was closed by its reader; nothing more is printed.
    closed: Cell<bool>,
}

impl Output {
    pub(crate) fn new(json: bool) -> Output {
        Output {
            json,
            closed: Cell::new(false),
        }
    }

    /// Prints `value` as JSON with `--json`, else the text `human` makes.
    pub(crate) fn value(&self, value: serde_json::Value, human: impl FnOnce() -> String) {
        let text = if self.json {
            json_safe(&serde_json::to_string_pretty(&value).unwrap_or_default())
        } else {
            terminal_safe(&human())
        };
        self.bytes(format!("{text}\n").as_bytes());
    }

    /// Writes `bytes` as they are (an export the person asked for on standard output).
    pub(crate) fn bytes(&self, bytes: &[u8]) {
        if self.closed.get() {
            return;
        }
        let mut stdout = std::io::stdout().lock();
        if stdout
            .write_all(bytes)
            .and_then(|_| stdout.flush())
            .is_err()
        {
            self.closed.set(true);
        }
    }
}

/// A progress or notice line on standard error (ignored if standard error is gone).
pub(crate) fn notice(text: &str) {
    let _ = write!(std::io::stderr(), "{}", terminal_safe(text));
}

/// `text` with every control character other than line breaks and tabs, and every
/// text-direction override, written as a visible escape (`\u{1b}`).
pub(crate) fn terminal_safe(text: &str) -> String {
    let mut shown = String::with_capacity(text.len());
    for character in text.chars() {
        let harmless = matches!(character, '\n' | '\t');
        if !harmless && clinicdesk_core::visible(&character.to_string()) != character.to_string() {
            shown.extend(character.escape_unicode());
        } else {
            shown.push(character);
        }
    }
    shown
}

/// JSON text with the text-direction characters (which JSON allows raw) escaped as `\uXXXX`;
/// control characters are escaped by JSON itself.
fn json_safe(json: &str) -> String {
    let mut shown = String::with_capacity(json.len());
    for character in json.chars() {
        let direction = !character.is_control()
            && clinicdesk_core::visible(&character.to_string()) != character.to_string();
        if direction {
            shown.push_str(&format!("\\u{:04x}", character as u32));
        } else {
            shown.push(character);
        }
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_direction_characters_are_shown_escaped() {
        assert_eq!(terminal_safe("Ada\u{1b}[2J"), "Ada\\u{1b}[2J");
        assert_eq!(terminal_safe("a\u{202e}b\u{7}c"), "a\\u{202e}b\\u{7}c");
        assert_eq!(terminal_safe("line\n\tnext"), "line\n\tnext");
        let json = json_safe(&serde_json::json!({ "name": "a\u{202e}b" }).to_string());
        assert_eq!(json, "{\"name\":\"a\\u202eb\"}");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&json).unwrap()["name"],
            "a\u{202e}b"
        );
    }
}
