//! Clinicdesk's core: the only door to patient data.
//!
//! Every operation is a method on [`Session`], which checks idle expiry and the role's
//! permission, and writes its audit entry (and outbox row) in the same SQLite transaction as the
//! change (through [`recorded_write`]). The shells (the `clinicdesk` CLI and the desktop app)
//! call these methods and map [`Error`]s to exit codes or `{code, message, field}` objects. The
//! modules are private: what a shell may use is re-exported here, and nothing here takes a raw
//! database connection (the benchmark's needs are behind the `bench-api` feature). This crate
//! knows nothing of Tauri, JSON IPC or terminals.

mod audit;
mod audit_review;
mod backup_schedule;
mod backups;
mod change_journal;
mod clinic_locale;
mod demo_data;
mod emergency;
mod environment;
mod first_sign_in;
mod ids;
mod keys;
mod limits;
mod mrn;
mod notes;
mod password_policy;
mod patient_flow;
mod patient_records;
mod patients;
mod permission;
mod policy;
mod recorded_write;
mod records_export;
mod records_import;
mod safety_facts;
mod scheduling;
mod session;
mod settings;
mod status;
mod store_health;
mod store_schema;
mod sync;
mod tables;
mod time_zone;
mod updates;
mod users;
mod validation;
mod vital_signs;
mod vitals;

#[cfg(feature = "bench-api")]
pub mod bench_api;

pub use audit::{
    AuditEntry, AuditFilter, AuditListing, AuditOutcome, AuditVerification,
    GENESIS_HASH as AUDIT_GENESIS_HASH,
};
pub use audit_review::AccessReportLine;
pub use backup_schedule::RetentionPolicy;
pub use backups::{
    backups_found_in, default_backup_folder, restore_onto_new_workstation,
    restore_unreadable_store, BackupFacts, BackupJob, BackupProgress, BackupRun, BackupSettings,
    BackupStage, BackupStatus, NewWorkstationRestore, PointInTimePlan, RestoreJob, RestoreOutcome,
    StagedRestore, UnreadableStoreRestore, VerifyJob,
};
pub use clinic_locale::{locale_for_time_zone, offered_locales, LocaleChoice};
pub use clinicdesk_error::{Error, ErrorCode, Result};
pub use clinicdesk_keyslot::{KdfParams, SlotSecret};
pub use clinicdesk_store::DataDir;
pub use demo_data::{DemoDataJob, DemoSize, DemoStaffMember, DemoSummary};
pub use emergency::EmergencyGrant;
pub use environment::{
    format_timestamp, parse_timestamp, Clock, Environment, ManualClock, SystemClock,
};
pub use first_sign_in::{server_sign_in, ServerSignIn, SignInPreparation};
pub use ids::{
    AllergyId, AppointmentId, AppointmentTypeId, ConflictId, GrantId, MedicationId, MergeId,
    NoteId, ObservationId, PatientId, ProblemId, ProviderId, UserId, VitalsSetId,
};
pub use limits::{typescript_module as limits_typescript_module, TextLimit, TEXT_LIMITS};
pub use notes::{Note, NoteKind};
pub use patient_flow::{PatientFlow, TodayEntry};
pub use patient_records::{DemographicsChange, MergeRecord, PatientHit};
pub use patients::{
    Chart, ChartAppointment, ChartNote, ChartObservation, Demographics, LikelyDuplicate,
    NewPatient, Registration, Sex,
};
pub use permission::{Permission, Role};
pub use policy::{
    background_sync_delay, default_data_dir, exports_folder, product_kdf, sync_interval,
    IdleTimings,
};
pub use records_export::{
    ExportCounts, ExportProgress, ExportScope, ExportedAddress, ExportedAllergy,
    ExportedAppointment, ExportedClinic, ExportedContact, ExportedMedication,
    ExportedNoKnownAllergies, ExportedNote, ExportedObservation, ExportedPatient, ExportedProblem,
    ExportedProvider, ExportedRecord, RecordsExportJob,
};
pub use records_import::{ImportDuplicate, ImportItem, ImportRefusal, ImportReport};
pub use safety_facts::{
    Allergy, AllergyCategory, AllergyCriticality, AllergyDetails, AllergyList, AllergySeverity,
    AllergyState, AllergyStatus, Medication, MedicationDetails, MedicationList, MedicationReview,
    MedicationStatus, Problem, ProblemDetails, ProblemStatus,
};
pub use scheduling::{
    local_to_utc, parse_local_time, parse_window, Appointment, AppointmentStatus, AppointmentType,
    BookingRequest, Provider, Repeat, RepeatedHour, WorkingWindow,
};
pub use session::{
    clinic_name_before_login, init, init_from_central, note_failed_first_sign_in, store_exists,
    CentralSeed, Draft, FirstSignInGrant, InitOutcome, InitRequest, LogoffReason, Session,
    SessionUser,
};
pub use settings::SecuritySettings;
pub use status::StoreStatus;
pub use store_health::{note_store_damage, DamageMark, StoreCheck, StoreCheckJob, StoreHealth};
pub use sync::{
    synced_rows_of, ConflictResolution, FreeSlot, OutgoingBatch, OutgoingChange, PullProgress,
    PullSummary, PulledChange, PushOutcome, PushResult, PushSummary, RemoteAuditEntry,
    SyncConflict, SyncEnrolment, SyncStatus,
};
pub use tables::{journaled_tables, synced_tables, TableSpec, TableSync, TABLES};
pub use time_zone::time_zone_names;
pub use updates::{
    check_update_address, UpdateOffer, UpdatePlan, UpdateRefusal, UpdateSettings,
    UPDATE_ENDPOINT_MAX_CHARS,
};
pub use users::{RemoteLockout, TemporaryPassword, UserSummary};
pub use validation::visible;
pub use vital_signs::{Bound, Interpretation, VitalDefinition, VitalKind, VITALS};
pub use vitals::{parse_effective_time, Observation, TrendPoint, VitalReading, VitalsSet};
