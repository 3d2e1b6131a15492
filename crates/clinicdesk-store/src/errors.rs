//! What an error of SQLite or SQLCipher means for a person: a damaged store, one of the store's
//! rules refusing a value (and which field), a collision with another record, or something
//! unexpected. Every query's error goes through [`sql_error`], so a damaged page is named as
//! damage wherever it is met, never as "unexpected".

use clinicdesk_error::{capitalised, Error};
use rusqlite::ffi;

/// Maps a SQLite error to the caller-facing error, naming what was being done.
pub fn sql_error(doing: &str) -> impl Fn(rusqlite::Error) -> Error + '_ {
    move |error| classify(doing, error)
}

/// The caller-facing error for `error`, met while `doing`.
pub fn classify(doing: &str, error: rusqlite::Error) -> Error {
    if let rusqlite::Error::SqliteFailure(failure, message) = &error {
        match failure.code {
            rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase => {
                return Error::store_damaged(format!("{doing}: {error}"));
            }
            // The store is opened for writing and checked writable when it is opened; SQLCipher
            // makes a connection read-only when a page fails its authentication.
            rusqlite::ErrorCode::ReadOnly if failure.extended_code == ffi::SQLITE_READONLY => {
                return Error::store_damaged(format!(
                    "{doing}: the store refused the change after a page failed its authentication"
                ));
            }
            rusqlite::ErrorCode::ConstraintViolation => {
                if let Some(refused) = constraint(
                    failure.extended_code,
                    message.as_deref().unwrap_or_default(),
                ) {
                    return refused;
                }
            }
            _ => {}
        }
    }
    Error::unexpected(format!("{doing}: {error}"))
}

/// A rule of the store refused a change: which field, and what a person does about it.
fn constraint(extended_code: i32, message: &str) -> Option<Error> {
    match extended_code {
        ffi::SQLITE_CONSTRAINT_CHECK => {
            let rule = message
                .strip_prefix("CHECK constraint failed: ")
                .unwrap_or(message);
            let field = first_column(rule).unwrap_or("value");
            Some(Error::invalid_field(
                field,
                format!(
                    "The {} is not one the store accepts (its rule: {rule}); nothing was changed",
                    field.replace('_', " ")
                ),
            ))
        }
        ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
            let column = column_of(message, "UNIQUE constraint failed: ")
                .or_else(|| column_of(message, "PRIMARY KEY constraint failed: "))
                .unwrap_or("value");
            Some(
                Error::conflict(format!(
                    "Another record already has this {}; nothing was changed",
                    column.replace('_', " ")
                ))
                .for_field(column),
            )
        }
        ffi::SQLITE_CONSTRAINT_NOTNULL => {
            let column = column_of(message, "NOT NULL constraint failed: ").unwrap_or("value");
            Some(Error::invalid_field(
                column,
                format!(
                    "The {} is required; nothing was changed",
                    column.replace('_', " ")
                ),
            ))
        }
        ffi::SQLITE_CONSTRAINT_FOREIGNKEY => Some(Error::invalid_input(
            "This refers to a record that does not exist (any more); nothing was changed",
        )),
        ffi::SQLITE_CONSTRAINT_TRIGGER => trigger_refusal(message),
        _ => None,
    }
}

/// `table.column` (the first one) after `prefix`.
fn column_of<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = message.strip_prefix(prefix)?;
    let first = rest.split(',').next()?.trim();
    Some(first.rsplit('.').next().unwrap_or(first))
}

/// The first name in a CHECK expression that is a column rather than a function or keyword.
fn first_column(rule: &str) -> Option<&str> {
    const NOT_COLUMNS: &[&str] = &[
        "length",
        "trim",
        "lower",
        "upper",
        "date",
        "json_valid",
        "cast",
        "as",
        "integer",
        "text",
        "real",
        "is",
        "null",
        "not",
        "and",
        "or",
        "between",
        "in",
        "like",
        "glob",
        "case",
        "when",
        "then",
        "else",
        "end",
        "substr",
        "typeof",
        "abs",
        "coalesce",
        "strftime",
    ];
    rule.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|word| !word.is_empty())
        .filter(|word| !word.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .find(|word| !NOT_COLUMNS.contains(&word.to_ascii_lowercase().as_str()))
}

/// A trigger's `RAISE(ABORT, 'kind: words')`: the kinds the schema uses, each with its meaning.
/// `invalid_input:field: words` names the field (the length limits of free text).
fn trigger_refusal(message: &str) -> Option<Error> {
    let (kind, words) = message.split_once(':')?;
    let words = words.trim();
    Some(match kind.trim() {
        "double_booking" => Error::conflict(capitalised(words)),
        "append_only" => Error::conflict(capitalised(words)),
        "appointment_too_long" => Error::invalid_field("minutes", capitalised(words)),
        "audit_chain" => Error::integrity(capitalised(words)),
        "invalid_input" => {
            let (field, words) = words.split_once(':')?;
            Error::invalid_field(field.trim(), capitalised(words.trim()))
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clinicdesk_error::ErrorCode;

    fn check(sql: &str, code: ErrorCode, field: Option<&str>) {
        let connection = rusqlite::Connection::open_in_memory().unwrap();
        connection
            .execute_batch(
                "CREATE TABLE notes (id INTEGER PRIMARY KEY, mrn TEXT UNIQUE, title TEXT NOT NULL,
                    reason TEXT CHECK (reason IS NULL OR length(reason) <= 5));
                 CREATE TRIGGER limit_title BEFORE INSERT ON notes WHEN length(NEW.title) > 10
                 BEGIN SELECT RAISE(ABORT, 'invalid_input:title: the title is at most 10 characters'); END;
                 INSERT INTO notes (mrn, title) VALUES ('1', 'a');",
            )
            .unwrap();
        let error = classify("testing", connection.execute_batch(sql).unwrap_err());
        assert_eq!(
            (error.code, error.field.as_deref()),
            (code, field),
            "{sql}: {}",
            error.message
        );
    }

    #[test]
    fn every_kind_of_refusal_names_its_field() {
        check(
            "INSERT INTO notes (title, reason) VALUES ('a', 'too long')",
            ErrorCode::InvalidInput,
            Some("reason"),
        );
        check(
            "INSERT INTO notes (mrn, title) VALUES ('1', 'b')",
            ErrorCode::Conflict,
            Some("mrn"),
        );
        check(
            "INSERT INTO notes (title) VALUES (NULL)",
            ErrorCode::InvalidInput,
            Some("title"),
        );
        check(
            "INSERT INTO notes (title) VALUES ('much too long a title')",
            ErrorCode::InvalidInput,
            Some("title"),
        );
        check("SELECT * FROM nowhere", ErrorCode::Unexpected, None);
    }

    #[test]
    fn a_check_rule_names_its_first_column() {
        assert_eq!(
            first_column("length(trim(given_name)) BETWEEN 1 AND 100"),
            Some("given_name")
        );
        assert_eq!(
            first_column("reason IS NULL OR length(reason) <= 500"),
            Some("reason")
        );
    }
}
