//! The TypeScript side of the IPC boundary, generated from the Rust: `ui/src/lib/bindings.ts`
//! declares every type that crosses it (ts-rs), and `ui/src/lib/commands.ts` a typed wrapper
//! for every command (from the signatures `build.rs` collected). Both are committed; a test
//! fails when either is stale (`UPDATE_BINDINGS=1 cargo test -p clinicdesk-desktop --test
//! bindings` rewrites them).

use ts_rs::TS;

use crate::commands::records::RecordsExported;
use crate::commands::session::{DemoLoaded, FirstRun, FirstRunRequest, SessionInfo, StoreOverview};
use crate::commands::sync::{
    EnrolledWorkstation, EnrolmentPreview, JoinedClinic, SyncOutcome, SyncOverview,
};
use crate::commands::vitals::VitalDefinitionView;
use crate::state::SyncActivity;
use crate::updates::{InstalledUpdate, UpdateCheck, UpdateNotice, UpdateProgress};

/// One command as `build.rs` found it, its types in TypeScript terms.
#[derive(Debug, Clone, Copy)]
pub struct CommandSignature {
    pub name: &'static str,
    pub doc: &'static str,
    /// (Rust argument name, TypeScript type)
    pub arguments: &'static [(&'static str, &'static str)],
    pub returns: &'static str,
    /// The progress message type, for a command that reports progress on a channel.
    pub progress: Option<&'static str>,
}

include!(concat!(env!("OUT_DIR"), "/command_signatures.rs"));

macro_rules! declarations {
    ($($type:ty),* $(,)?) => {
        vec![$(<$type as TS>::decl()),*]
    };
}

const GENERATED: &str = "// Generated from the Rust by src-tauri/src/bindings.rs. Do not edit by hand:\n// run `UPDATE_BINDINGS=1 cargo test -p clinicdesk-desktop --test bindings`.\n\n";

/// `bindings.ts`: every type that crosses the IPC boundary.
pub fn typescript_bindings() -> String {
    use clinicdesk_core::*;
    let declarations: Vec<String> = declarations![
        serde_json::Value,
        ErrorCode,
        Error,
        Permission,
        Role,
        UserId,
        PatientId,
        ProviderId,
        AppointmentId,
        AppointmentTypeId,
        ObservationId,
        VitalsSetId,
        NoteId,
        GrantId,
        MergeId,
        IdleTimings,
        SessionUser,
        Draft,
        UserSummary,
        SecuritySettings,
        StoreStatus,
        AuditOutcome,
        AuditEntry,
        AuditFilter,
        AuditListing,
        AuditVerification,
        AccessReportLine,
        EmergencyGrant,
        Sex,
        NewPatient,
        LikelyDuplicate,
        Registration,
        Demographics,
        Chart,
        ChartObservation,
        ChartAppointment,
        ChartNote,
        PatientHit,
        DemographicsChange,
        MergeRecord,
        AppointmentStatus,
        Provider,
        WorkingWindow,
        AppointmentType,
        Repeat,
        RepeatedHour,
        BookingRequest,
        Appointment,
        PatientFlow,
        TodayEntry,
        LocaleChoice,
        VitalKind,
        Interpretation,
        VitalReading,
        Observation,
        VitalsSet,
        TrendPoint,
        NoteKind,
        Note,
        AllergyId,
        MedicationId,
        ProblemId,
        AllergyCategory,
        AllergySeverity,
        AllergyCriticality,
        AllergyStatus,
        AllergyState,
        Allergy,
        AllergyList,
        AllergyDetails,
        MedicationStatus,
        Medication,
        MedicationReview,
        MedicationList,
        MedicationDetails,
        ProblemStatus,
        Problem,
        ProblemDetails,
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
        DamageMark,
        StoreCheck,
        StoreHealth,
        RemoteLockout,
        ConflictId,
        SyncStatus,
        SyncConflict,
        ConflictResolution,
        FreeSlot,
        PullProgress,
        SyncActivity,
        SyncOverview,
        SyncOutcome,
        EnrolmentPreview,
        EnrolledWorkstation,
        JoinedClinic,
        UpdateSettings,
        UpdateOffer,
        UpdatePlan,
        UpdateRefusal,
        UpdateCheck,
        UpdateNotice,
        UpdateProgress,
        InstalledUpdate,
        ExportCounts,
        ExportProgress,
        RecordsExported,
    ];
    let mut text = String::from(GENERATED);
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

/// The name a wrapper has in TypeScript: `create_backup` is `createBackup`.
fn camel_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for character in name.chars() {
        if character == '_' {
            upper = true;
        } else if upper {
            out.extend(character.to_uppercase());
            upper = false;
        } else {
            out.push(character);
        }
    }
    out
}

/// `commands.ts`: a typed function per command, named for it; no command name is written by
/// hand anywhere in the UI.
pub fn typescript_commands() -> String {
    let mut text = String::from(GENERATED);
    text.push_str("import { call, withProgress } from \"./ipc\";\nimport type * as B from \"./bindings\";\n\nexport const commands = {\n");
    for command in COMMAND_SIGNATURES {
        let mut parameters: Vec<String> = command
            .arguments
            .iter()
            .map(|(name, ty)| format!("{}: {ty}", camel_case(name)))
            .collect();
        let arguments: Vec<String> = command
            .arguments
            .iter()
            .map(|(name, _)| camel_case(name))
            .collect();
        let arguments = format!("{{ {} }}", arguments.join(", "));
        let arguments = if arguments == "{  }" {
            "{}".to_owned()
        } else {
            arguments
        };
        if !command.doc.is_empty() {
            text.push_str(&format!("  /** {} */\n", command.doc));
        }
        let body = match command.progress {
            Some(progress) => {
                parameters.push(format!("onProgress: (progress: {progress}) => void"));
                format!(
                    "withProgress<{}, {progress}>({:?}, {arguments}, onProgress)",
                    command.returns, command.name
                )
            }
            None => format!("call<{}>({:?}, {arguments})", command.returns, command.name),
        };
        text.push_str(&format!(
            "  {}: ({}) => {body},\n",
            camel_case(command.name),
            parameters.join(", ")
        ));
    }
    text.push_str("};\n");
    text
}

/// The `B.Name` types the command wrappers use, for the test that each is declared.
pub fn types_used_by_commands() -> Vec<String> {
    let mut used = Vec::new();
    for command in COMMAND_SIGNATURES {
        let types = command
            .arguments
            .iter()
            .map(|(_, ty)| *ty)
            .chain([command.returns])
            .chain(command.progress);
        for ty in types {
            for part in ty.split(|c: char| !(c.is_alphanumeric() || c == '.' || c == '_')) {
                if let Some(name) = part.strip_prefix("B.") {
                    used.push(name.to_owned());
                }
            }
        }
    }
    used.sort();
    used.dedup();
    used
}
