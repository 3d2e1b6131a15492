//! Clinicdesk's core: the only door to patient data.
//!
//! Every operation is a method on [`Session`], which checks idle expiry and the role's
//! permission, and writes its audit entry (and outbox row) in the same SQLite transaction as the
//! change. The shells (the `clinicdesk` CLI and the desktop app) call these methods and map
//! [`Error`]s to exit codes or `{code, message}` objects. This crate knows nothing of Tauri,
//! JSON IPC or terminals.

pub mod audit;
mod audit_review;
pub mod backup_schedule;
pub mod backups;
pub mod change_journal;
mod changes;
pub mod demo_data;
pub mod emergency;
pub mod environment;
mod keys;
pub mod mrn;
pub mod notes;
pub mod password_policy;
pub mod patient_records;
pub mod patients;
pub mod permission;
pub mod scheduling;
pub mod session;
pub mod settings;
pub mod status;
mod time_zone;
pub mod users;
pub mod vital_signs;
pub mod vitals;

pub use audit::{AuditEntry, AuditFilter, AuditVerification};
pub use audit_review::AccessReportLine;
pub use backup_schedule::RetentionPolicy;
pub use backups::{
    BackupFacts, BackupProgress, BackupRun, BackupSettings, BackupStage, BackupStatus,
    PointInTimePlan, RestoreOutcome,
};
pub use clinicdesk_error::{Error, ErrorCode, Result};
pub use clinicdesk_keyslot::{KdfParams, SlotSecret};
pub use clinicdesk_store::DataDir;
pub use demo_data::{DemoSize, DemoSummary};
pub use emergency::EmergencyGrant;
pub use environment::{Clock, Environment, ManualClock, SystemClock};
pub use notes::{Note, NoteKind};
pub use patient_records::{DemographicsChange, MergeRecord, PatientHit};
pub use patients::{
    chart_on, Chart, ChartParts, Demographics, LikelyDuplicate, NewPatient, Registration, Sex,
};
pub use permission::{Permission, Role};
pub use scheduling::{
    Appointment, AppointmentStatus, AppointmentType, BookingRequest, Provider, Repeat,
    WorkingWindow,
};
pub use session::{
    clinic_name_before_login, init, store_exists, Draft, InitOutcome, InitRequest, LogoffReason,
    Session, SessionUser,
};
pub use settings::SecuritySettings;
pub use status::StoreStatus;
pub use users::{TemporaryPassword, UserSummary};
pub use vital_signs::{Interpretation, VitalKind};
pub use vitals::{Observation, TrendPoint, VitalReading, VitalsSet};
