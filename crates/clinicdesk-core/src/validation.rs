//! One check per kind of input field, applied in the core before the store sees a value: single-
//! line text (names, titles, reasons), multi-line text (notes), phone numbers, identifiers.
//! Limits here equal the store's CHECK constraints (docs/reference.md, "Input limits"), and every
//! refusal names its field.

use clinicdesk_error::{Error, Result};

/// Shows `text` for an error message: every control or bidirectional-formatting character
/// escaped (`\u{1b}`), so a message never carries a raw one, and cut after about 80 shown
/// characters (`…`), so a megabyte typed by mistake is not echoed back.
pub fn visible(text: &str) -> String {
    const SHOWN: usize = 80;
    let mut shown = String::new();
    let mut count = 0;
    for character in text.chars() {
        if count >= SHOWN {
            shown.push('…');
            break;
        }
        if is_forbidden_in_line(character) {
            let escaped = character.escape_unicode();
            count += escaped.len();
            shown.extend(escaped);
        } else {
            count += 1;
            shown.push(character);
        }
    }
    shown
}

/// C0 and C1 control characters (tab and line breaks included) and the Unicode bidirectional
/// overrides, embeddings and isolates, which can make text read differently from what it is.
pub(crate) fn is_forbidden_in_line(character: char) -> bool {
    character.is_control()
        || matches!(
            character,
            '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{061c}'
        )
}

/// A reason a person gives (one line) of at least `min` and at most `max` characters; `why`
/// says what the reason is for, when it is too short.
pub(crate) fn reason(
    field: Field,
    value: &str,
    min: usize,
    max: usize,
    why: &str,
) -> Result<String> {
    let cleaned = optional_line(field, value, max)?.unwrap_or_default();
    if cleaned.chars().count() < min {
        return Err(Error::invalid_field(
            field.name,
            format!("{why} (at least {min} characters)"),
        ));
    }
    Ok(cleaned)
}

/// In multi-line text (notes), line breaks and tabs are kept; other controls are refused.
fn is_forbidden_in_text(character: char) -> bool {
    !matches!(character, '\n' | '\r' | '\t') && is_forbidden_in_line(character)
}

/// A field's name (as the API and the UI call it) and how a person reads it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field {
    pub name: &'static str,
    pub label: &'static str,
}

pub(crate) const fn field(name: &'static str, label: &'static str) -> Field {
    Field { name, label }
}

/// A required single-line text of 1 to `max` characters, inner white space collapsed.
pub(crate) fn single_line(field: Field, value: &str, max: usize) -> Result<String> {
    let cleaned = optional_line(field, value, max)?;
    cleaned.ok_or_else(|| {
        Error::invalid_field(
            field.name,
            format!("{} must not be empty", capitalised(field.label)),
        )
    })
}

/// An optional single-line text of at most `max` characters; empty means none.
pub(crate) fn optional_line(field: Field, value: &str, max: usize) -> Result<Option<String>> {
    refuse_characters(field, value, is_forbidden_in_line)?;
    let cleaned = value.split_whitespace().collect::<Vec<_>>().join(" ");
    let length = cleaned.chars().count();
    refuse_longer(field, length, max)?;
    Ok((length > 0).then_some(cleaned))
}

/// A required multi-line text (a note) of 1 to `max` characters; line breaks and tabs are kept.
pub(crate) fn multi_line(field: Field, value: &str, max: usize) -> Result<String> {
    refuse_characters(field, value, is_forbidden_in_text)?;
    if value.trim().is_empty() {
        return Err(Error::invalid_field(
            field.name,
            format!("{} must not be empty", capitalised(field.label)),
        ));
    }
    refuse_longer(field, value.chars().count(), max)?;
    Ok(value.to_owned())
}

/// A phone number as people write it: digits with spaces, dashes, dots, parentheses, a leading
/// `+`, and an extension (`x12`); 3 to 20 digits. Returns (as written, digits only).
pub(crate) fn phone(field: Field, value: &str) -> Result<(String, String)> {
    let written = single_line(field, value, crate::limits::PHONE_NUMBER.max)?;
    let allowed = |c: char| c.is_ascii_digit() || " -./()x+".contains(c);
    let plus_only_first = written.chars().skip(1).all(|c| c != '+');
    if !written.chars().all(allowed) || !plus_only_first {
        return Err(Error::invalid_field(
            field.name,
            format!(
                "{} {:?} may hold only digits, spaces, dashes, dots, parentheses and a leading +",
                capitalised(field.label),
                visible(value)
            ),
        ));
    }
    let digits: String = written.chars().filter(|c| c.is_ascii_digit()).collect();
    if !(3..=20).contains(&digits.len()) {
        return Err(Error::invalid_field(
            field.name,
            format!(
                "{} {:?} needs 3 to 20 digits",
                capitalised(field.label),
                visible(value)
            ),
        ));
    }
    Ok((written, digits))
}

pub(crate) use clinicdesk_error::capitalised;

/// Refuses `value` when it holds a character `forbidden` says may not be in this field.
fn refuse_characters(field: Field, value: &str, forbidden: fn(char) -> bool) -> Result<()> {
    match value.chars().find(|c| forbidden(*c)) {
        Some(bad) => Err(Error::invalid_field(
            field.name,
            format!(
                "{} contains a control or text-direction character ({}); type it again without it",
                capitalised(field.label),
                visible(&bad.to_string())
            ),
        )),
        None => Ok(()),
    }
}

/// Refuses a text longer than `max` characters.
fn refuse_longer(field: Field, length: usize, max: usize) -> Result<()> {
    if length > max {
        return Err(Error::invalid_field(
            field.name,
            format!(
                "{} is {length} characters long; at most {max} are allowed",
                capitalised(field.label)
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAME: Field = field("given_name", "given name");

    #[test]
    fn control_and_direction_characters_are_refused_in_a_line_and_named() {
        for bad in [
            "a\u{1b}[2J",
            "bell\u{7}",
            "back\u{8}",
            "del\u{7f}",
            "rtl\u{202e}x",
            "c1\u{85}",
            "tab\there",
        ] {
            let error = single_line(NAME, bad, 100).unwrap_err();
            assert_eq!(error.field.as_deref(), Some("given_name"), "{bad:?}");
            assert!(
                !error.message.chars().any(is_forbidden_in_line),
                "{}",
                error.message
            );
        }
    }

    #[test]
    fn notes_keep_line_breaks_and_tabs() {
        let text = "line one\n\tline two\r\n";
        assert_eq!(
            multi_line(field("body", "the note"), text, 100).unwrap(),
            text
        );
        assert!(multi_line(field("body", "the note"), "esc \u{1b}", 100).is_err());
    }

    #[test]
    fn lengths_count_characters_and_say_the_limit() {
        assert_eq!(
            single_line(NAME, &"é".repeat(100), 100)
                .unwrap()
                .chars()
                .count(),
            100
        );
        let error = single_line(NAME, &"é".repeat(101), 100).unwrap_err();
        assert!(error.message.contains("at most 100"), "{}", error.message);
    }

    #[test]
    fn phones_take_what_people_write_and_nothing_else() {
        assert_eq!(
            phone(field("phone", "phone"), "+49 (30) 1234-567")
                .unwrap()
                .1,
            "49301234567"
        );
        assert!(phone(field("phone", "phone"), "555-CALL-NOW").is_err());
        assert!(phone(field("phone", "phone"), "12").is_err());
        assert!(phone(field("phone", "phone"), "1+2345").is_err());
    }

    #[test]
    fn visible_escapes_what_a_terminal_would_act_on() {
        assert_eq!(visible("a\u{1b}b"), "a\\u{1b}b");
        assert_eq!(visible("Zoë"), "Zoë");
        assert_eq!(visible(&"x".repeat(1_000_000)).chars().count(), 81);
        assert!(visible(&"\u{1b}".repeat(1_000_000)).chars().count() < 90);
    }
}
