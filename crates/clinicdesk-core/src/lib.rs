//! Clinicdesk's core: the only door to patient data.
//!
//! Every operation is a method on [`Session`], which checks idle expiry and the role's
//! permission, and writes its audit entry (and outbox row) in the same SQLite transaction as the
//! change. The shells (the `clinicdesk` CLI and the desktop app) call these methods and map
//! [`Error`]s to exit codes or `{code, message}` objects. This crate knows nothing of Tauri,
//! JSON IPC or terminals.

pub mod audit;
mod audit_review;
mod changes;
pub mod emergency;
pub mod environment;
mod keys;
pub mod mrn;
pub mod password_policy;
pub mod patients;
pub mod permission;
pub mod session;
pub mod settings;
pub mod status;
mod time_zone;
pub mod users;

pub use audit::{AuditEntry, AuditFilter, AuditVerification};
pub use audit_review::AccessReportLine;
pub use clinicdesk_error::{Error, ErrorCode, Result};
pub use clinicdesk_keyslot::{KdfParams, SlotSecret};
pub use clinicdesk_store::DataDir;
pub use emergency::EmergencyGrant;
pub use environment::{Clock, Environment, ManualClock, SystemClock};
pub use patients::{Chart, Demographics, LikelyDuplicate, NewPatient, Registration, Sex};
pub use permission::{Permission, Role};
pub use session::{
    clinic_name_before_login, init, store_exists, Draft, InitOutcome, InitRequest, LogoffReason,
    Session, SessionUser,
};
pub use settings::SecuritySettings;
pub use status::StoreStatus;
pub use users::{TemporaryPassword, UserSummary};
