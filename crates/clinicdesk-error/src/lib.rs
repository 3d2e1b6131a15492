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
}

impl ErrorCode {
    /// Every code, for exhaustive tests and for generating UI bindings.
    pub const ALL: [ErrorCode; 18] = [
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
    ];

    /// The command-line exit code for this error (see PRODUCT.md, "Errors").
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
            ErrorCode::Conflict => 7,
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
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error with a stable code and a message a person can act on.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Error {
        Error {
            code,
            message: message.into(),
        }
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
        self.message = format!("{doing}: {}", self.message);
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
    fn error_serialises_as_code_and_message() {
        let error = Error::invalid_input("pulse 400 is outside 20–300 /min");
        let json = serde_json::to_value(&error).unwrap();
        assert_eq!(json["code"], "invalid_input");
        assert_eq!(json["message"], "pulse 400 is outside 20–300 /min");
    }
}
