//! TypeScript declarations of every type that crosses the IPC boundary, generated from the Rust
//! types (ts-rs). `ui/src/lib/bindings.ts` is this text, committed; a test fails when it is stale
//! (`UPDATE_BINDINGS=1 cargo test -p clinicdesk-desktop --test bindings` rewrites it).

use ts_rs::TS;

use clinicdesk_core::demo_data::DemoStaffMember;

use crate::commands::session::{DemoLoaded, FirstRun, FirstRunRequest, SessionInfo, StoreOverview};
use crate::commands::vitals::VitalDefinitionView;

macro_rules! declarations {
    ($($type:ty),* $(,)?) => {
        vec![$(<$type as TS>::decl()),*]
    };
}

/// The whole bindings file.
pub fn typescript_bindings() -> String {
    use clinicdesk_core::*;
    let declarations: Vec<String> = declarations![
        serde_json::Value,
        ErrorCode,
        Error,
        Permission,
        Role,
        SessionUser,
        Draft,
        UserSummary,
        SecuritySettings,
        StoreStatus,
        audit::AuditOutcome,
        AuditEntry,
        AuditFilter,
        AuditVerification,
        AccessReportLine,
        EmergencyGrant,
        Sex,
        NewPatient,
        LikelyDuplicate,
        Registration,
        Demographics,
        Chart,
        patients::ChartObservation,
        patients::ChartAppointment,
        patients::ChartNote,
        PatientHit,
        DemographicsChange,
        MergeRecord,
        AppointmentStatus,
        Provider,
        WorkingWindow,
        AppointmentType,
        Repeat,
        BookingRequest,
        Appointment,
        VitalKind,
        Interpretation,
        VitalReading,
        Observation,
        VitalsSet,
        TrendPoint,
        NoteKind,
        Note,
        DemoSize,
        DemoSummary,
        StoreOverview,
        SessionInfo,
        FirstRun,
        FirstRunRequest,
        DemoStaffMember,
        DemoLoaded,
        VitalDefinitionView,
        RetentionPolicy,
        BackupSettings,
        BackupRun,
        BackupStatus,
        BackupFacts,
        BackupStage,
        BackupProgress,
        RestoreOutcome,
        PointInTimePlan,
    ];
    let mut text = String::from(
        "// Generated from the Rust types by src-tauri/src/bindings.rs. Do not edit by hand:\n// run `UPDATE_BINDINGS=1 cargo test -p clinicdesk-desktop --test bindings`.\n\n",
    );
    for declaration in declarations {
        text.push_str("export ");
        // 64-bit integers cross the IPC boundary as JSON numbers, which JavaScript reads as
        // `number`; every one we send (counts, versions, sequence numbers, seconds) is far below
        // 2^53, so `number` is exact where ts-rs would say `bigint`.
        text.push_str(&declaration.trim().replace("bigint", "number"));
        text.push_str("\n\n");
    }
    text.trim_end().to_owned() + "\n"
}
