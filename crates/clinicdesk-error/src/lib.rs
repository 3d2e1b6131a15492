//! The closed set of errors that cross the Clinicdesk core API, with stable codes and exit codes.
//!
//! Every error a caller can see is an [`Error`]: a [`ErrorCode`] from a closed enum (the UI and
//! scripts switch on it, never on the message) and a message a person can act on. The
//! serialised form is `{"code": "snake_case_code", "message": "..."}`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Stable error codes. Adding a variant is an API change; renaming one is a breaking change.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// A bug or an environment failure (disk, I/O) that the caller cannot fix by changing input.
    Unexpected,
    /// The command line or request was malformed.
    Usage,
    /// The data directory holds no store yet.
    StoreNotInitialized,
    /// `init` was asked to create a store where one already exists.
    StoreAlreadyInitialized,
    /// Unknown user or wrong password (deliberately not told apart).
    AuthenticationFailed,
    /// Too many failed logins; the message says until when.
    AccountLocked,
    /// The account was disabled by an administrator.
    AccountDisabled,
    /// The user logs in with a temporary password and must choose a new one first.
    PasswordChangeRequired,
    /// The session ended (idle logoff or logoff); log in again.
    SessionExpired,
    /// The caller's role does not allow the operation. Denials are audited.
    PermissionDenied,
    /// The chart is restricted to its care team; a clinical user may open it with emergency access.
    EmergencyAccessRequired,
    /// Input failed validation; the message names the field, the value and the rule.
    InvalidInput,
    /// A password that the policy refuses; the message says why.
    WeakPassword,
    /// The named record does not exist (or is not visible to the caller).
    NotFound,
    /// The store was written by a newer Clinicdesk than this one.
    StoreNewerThanApp,
    /// An applied migration was edited after it ran, or the store's schema is otherwise not ours.
    MigrationMismatch,
    /// Tampering or corruption detected: audit chain, key slots, store or backup file.
    IntegrityFailure,
    /// The change collides with existing data (double booking, stale version, duplicate).
    Conflict,
    /// The store is held by work that must finish first (a key rotation, the end of a
    /// restore); try again in a moment.
    Busy,
    /// This workstation is not enrolled with a central server (`sync enroll`).
    SyncNotEnrolled,
    /// The central server cannot be reached now; changes wait in the outbox.
    ServerUnreachable,
    /// This member of staff has no key slot on this workstation yet: their first sign-in here
    /// is checked by the central server (the shells do that and retry).
    SignInNeedsServer,
    /// The server presented a certificate other than the one enrolled: refused before any data
    /// was sent.
    ServerCertificateMismatch,
    /// The central server refused a change or a batch (its rules, an unknown table or column, a
    /// row of another clinic); nothing of the batch was applied and the outbox keeps it.
    ServerRefused,
    /// The central server no longer accepts this workstation (revoked, or the enrolment code was
    /// already used).
    WorkstationRevoked,
    /// The central server's schema is newer (or older) than this build knows.
    ServerSchemaMismatch,
    /// An update was refused: its signature does not verify with the project's key, it was signed
    /// by another key or for another version, it is older than the installed version, or its
    /// download is incomplete or not a package. Nothing was installed.
    UpdateRefused,
    /// The update server cannot be reached, or did not answer with an update manifest.
    UpdateServerUnreachable,
}

impl ErrorCode {
    /// Every code, for exhaustive tests and for generating UI bindings.
    pub const ALL: [ErrorCode; 28] = [
        ErrorCode::Unexpected,
        ErrorCode::Usage,
        ErrorCode::StoreNotInitialized,
        ErrorCode::StoreAlreadyInitialized,
        ErrorCode::AuthenticationFailed,
        ErrorCode::AccountLocked,
        ErrorCode::AccountDisabled,
        ErrorCode::PasswordChangeRequired,
        ErrorCode::SessionExpired,
        ErrorCode::PermissionDenied,
        ErrorCode::EmergencyAccessRequired,
        ErrorCode::InvalidInput,
        ErrorCode::WeakPassword,
        ErrorCode::NotFound,
        ErrorCode::StoreNewerThanApp,
        ErrorCode::MigrationMismatch,
        ErrorCode::IntegrityFailure,
        ErrorCode::Conflict,
        ErrorCode::Busy,
        ErrorCode::SyncNotEnrolled,
        ErrorCode::ServerUnreachable,
        ErrorCode::SignInNeedsServer,
        ErrorCode::ServerCertificateMismatch,
        ErrorCode::ServerRefused,
        ErrorCode::WorkstationRevoked,
        ErrorCode::ServerSchemaMismatch,
        ErrorCode::UpdateRefused,
        ErrorCode::UpdateServerUnreachable,
    ];

    /// The command-line exit code for this error (docs/reference.md, "Errors").
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorCode::Unexpected => 1,
            ErrorCode::Usage => 2,
            ErrorCode::StoreNotInitialized | ErrorCode::StoreAlreadyInitialized => 2,
            ErrorCode::AuthenticationFailed
            | ErrorCode::AccountLocked
            | ErrorCode::AccountDisabled
            | ErrorCode::PasswordChangeRequired
            | ErrorCode::SessionExpired => 3,
            ErrorCode::PermissionDenied | ErrorCode::EmergencyAccessRequired => 4,
            ErrorCode::InvalidInput | ErrorCode::WeakPassword | ErrorCode::NotFound => 5,
            ErrorCode::StoreNewerThanApp
            | ErrorCode::MigrationMismatch
            | ErrorCode::IntegrityFailure => 6,
            ErrorCode::Conflict | ErrorCode::Busy => 7,
            ErrorCode::SyncNotEnrolled => 2,
            ErrorCode::WorkstationRevoked => 3,
            ErrorCode::ServerRefused => 5,
            ErrorCode::ServerCertificateMismatch | ErrorCode::ServerSchemaMismatch => 6,
            ErrorCode::ServerUnreachable | ErrorCode::SignInNeedsServer => 8,
            ErrorCode::UpdateRefused => 6,
            ErrorCode::UpdateServerUnreachable => 8,
        }
    }

    /// The stable snake_case name, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Unexpected => "unexpected",
            ErrorCode::Usage => "usage",
            ErrorCode::StoreNotInitialized => "store_not_initialized",
            ErrorCode::StoreAlreadyInitialized => "store_already_initialized",
            ErrorCode::AuthenticationFailed => "authentication_failed",
            ErrorCode::AccountLocked => "account_locked",
            ErrorCode::AccountDisabled => "account_disabled",
            ErrorCode::PasswordChangeRequired => "password_change_required",
            ErrorCode::SessionExpired => "session_expired",
            ErrorCode::PermissionDenied => "permission_denied",
            ErrorCode::EmergencyAccessRequired => "emergency_access_required",
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::WeakPassword => "weak_password",
            ErrorCode::NotFound => "not_found",
            ErrorCode::StoreNewerThanApp => "store_newer_than_app",
            ErrorCode::MigrationMismatch => "migration_mismatch",
            ErrorCode::IntegrityFailure => "integrity_failure",
            ErrorCode::Conflict => "conflict",
            ErrorCode::Busy => "busy",
            ErrorCode::SyncNotEnrolled => "sync_not_enrolled",
            ErrorCode::ServerUnreachable => "server_unreachable",
            ErrorCode::SignInNeedsServer => "sign_in_needs_server",
            ErrorCode::ServerCertificateMismatch => "server_certificate_mismatch",
            ErrorCode::ServerRefused => "server_refused",
            ErrorCode::WorkstationRevoked => "workstation_revoked",
            ErrorCode::ServerSchemaMismatch => "server_schema_mismatch",
            ErrorCode::UpdateRefused => "update_refused",
            ErrorCode::UpdateServerUnreachable => "update_server_unreachable",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error with a stable code and a message a person can act on. `field` names the input the
/// error is about (`given_name`, `time_zone`, …) when there is one, so a form can place the
/// message beside that field without reading the message.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub field: Option<String>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `text` with its first letter in upper case: messages are sentences.
pub fn capitalised(text: &str) -> String {
    let mut characters = text.chars();
    match characters.next() {
        Some(first) => first.to_uppercase().chain(characters).collect(),
        None => String::new(),
    }
}

/// The `field` of an integrity failure that is about the store itself ([`Error::store_damaged`]).
pub const STORE_DAMAGE_FIELD: &str = "store";

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Error {
        Error {
            code,
            message: sentence(message.into()),
            field: None,
        }
    }

    /// Invalid input in the named field.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Error {
        Error::invalid_input(message).for_field(field)
    }

    /// Names the input field this error is about.
    pub fn for_field(mut self, field: &str) -> Error {
        self.field = Some(field.to_owned());
        self
    }

    pub fn unexpected(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::Unexpected, message)
    }

    pub fn invalid_input(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::InvalidInput, message)
    }

    pub fn integrity(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::IntegrityFailure, message)
    }

    /// The store itself is damaged (a page fails its authentication, or SQLite finds it
    /// malformed): an integrity failure about the store, with the way out. Every screen and
    /// command says so, and only a restore (or a new workstation) fixes it.
    pub fn store_damaged(detail: impl fmt::Display) -> Error {
        Error {
            code: ErrorCode::IntegrityFailure,
            message: format!(
                "The store on this workstation is damaged ({detail}), so nothing more is read from it or written to it. A manager or administrator restores the latest backup: in Clinicdesk under Backups, or with `clinicdesk backup restore FILE --as USERNAME`; on a replacement computer, `clinicdesk backup restore-new FILE --admin USERNAME` with the recovery key"
            ),
            field: Some(STORE_DAMAGE_FIELD.to_owned()),
        }
    }

    /// The store is so damaged that nobody can sign in on it (its first page, its schema or its
    /// accounts do not read): the clinic's recovery key is the way out, since no manager can
    /// sign in to restore.
    pub fn store_unreadable() -> Error {
        Error {
            code: ErrorCode::IntegrityFailure,
            message: String::from(
                "The store on this workstation is damaged and cannot be opened, so nobody can sign in on it. Restore the latest backup with the clinic's recovery key: \"Restore with the recovery key\" on the sign-in screen, or `clinicdesk backup restore-damaged FILE`. The damaged store is kept aside, not deleted",
            ),
            field: Some(STORE_DAMAGE_FIELD.to_owned()),
        }
    }

    /// Is this the store's own damage (not a damaged backup file or audit trail)?
    pub fn is_store_damage(&self) -> bool {
        self.code == ErrorCode::IntegrityFailure
            && self.field.as_deref() == Some(STORE_DAMAGE_FIELD)
    }

    pub fn not_found(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::NotFound, message)
    }

    pub fn conflict(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::Conflict, message)
    }

    pub fn permission_denied(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::PermissionDenied, message)
    }

    /// Prefixes the message with what was being done, keeping the code.
    pub fn context(mut self, doing: impl fmt::Display) -> Error {
        self.message = sentence(format!("{doing}: {}", self.message));
        self
    }

    pub fn exit_code(&self) -> i32 {
        self.code.exit_code()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(error: std::io::Error) -> Error {
        Error::unexpected(format!("file system error: {error}"))
    }
}

/// Every message reads as a sentence: it starts with a capital letter (one voice on every
/// screen and in the CLI, whoever wrote the message).
fn sentence(mut message: String) -> String {
    if let Some(first) = message.chars().next().filter(char::is_ascii_lowercase) {
        message.replace_range(..1, &first.to_ascii_uppercase().to_string());
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialised_code_matches_as_str_for_every_code() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }

    #[test]
    fn exit_codes_follow_the_product_table() {
        let check = |code: ErrorCode, exit: i32| assert_eq!(code.exit_code(), exit, "{code}");
        check(ErrorCode::Unexpected, 1);
        check(ErrorCode::Usage, 2);
        check(ErrorCode::AuthenticationFailed, 3);
        check(ErrorCode::SessionExpired, 3);
        check(ErrorCode::PermissionDenied, 4);
        check(ErrorCode::InvalidInput, 5);
        check(ErrorCode::IntegrityFailure, 6);
        check(ErrorCode::Conflict, 7);
    }

    #[test]
    fn every_message_starts_as_a_sentence() {
        let check = |error: Error, expected: &str| assert_eq!(error.message, expected);
        check(Error::conflict("nothing was booked"), "Nothing was booked");
        check(Error::not_found("\"x\" is unknown"), "\"x\" is unknown");
        check(Error::unexpected("Already fine"), "Already fine");
        check(Error::unexpected(""), "");
        check(
            Error::unexpected("no space left").context("writing the backup"),
            "Writing the backup: No space left",
        );
    }

    #[test]
    fn error_serialises_as_code_and_message() {
        let error = Error::invalid_input("pulse 400 is outside 20–300 /min");
        let json = serde_json::to_value(&error).unwrap();
        assert_eq!(json["code"], "invalid_input");
        assert_eq!(json["message"], "Pulse 400 is outside 20–300 /min");
        assert!(json.get("field").is_none());
    }

    #[test]
    fn an_error_about_a_field_names_it() {
        let error = Error::invalid_field("heart_rate", "pulse 400 is outside 20–300 /min");
        let json = serde_json::to_value(&error).unwrap();
        assert_eq!(json["field"], "heart_rate");
        let back: Error = serde_json::from_value(json).unwrap();
        assert_eq!(back, error);
    }
}
