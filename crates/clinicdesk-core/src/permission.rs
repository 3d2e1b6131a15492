//! The closed set of permissions; which role has which is data in the store (`role_permissions`).

use serde::{Deserialize, Serialize};

/// A permission an operation needs. The codes equal the `permissions` table's rows.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Permission {
    UsersList,
    UsersManage,
    SecurityManage,
    KeyRotate,
    PatientsRead,
    PatientsWrite,
    PatientsMerge,
    AppointmentsRead,
    AppointmentsWrite,
    AppointmentsStatus,
    AppointmentsCheckin,
    VitalsRead,
    VitalsWrite,
    NotesRead,
    NotesWriteClinical,
    NotesWriteNursing,
    AuditReadSecurity,
    AuditReadAll,
    BackupsCreate,
    BackupsRestore,
    SyncRead,
    SyncManage,
    EmergencyUse,
    EmergencyReview,
    ScheduleManage,
    AllergiesRead,
    AllergiesWrite,
    AllergiesFlag,
    MedicationsRead,
    MedicationsWrite,
    MedicationsReview,
    ProblemsRead,
    ProblemsWrite,
    UpdatesManage,
    RecordsExport,
    RecordsExportPatient,
    RecordsImport,
}

impl Permission {
    pub const ALL: [Permission; 37] = [
        Permission::UsersList,
        Permission::UsersManage,
        Permission::SecurityManage,
        Permission::KeyRotate,
        Permission::PatientsRead,
        Permission::PatientsWrite,
        Permission::PatientsMerge,
        Permission::AppointmentsRead,
        Permission::AppointmentsWrite,
        Permission::AppointmentsStatus,
        Permission::AppointmentsCheckin,
        Permission::VitalsRead,
        Permission::VitalsWrite,
        Permission::NotesRead,
        Permission::NotesWriteClinical,
        Permission::NotesWriteNursing,
        Permission::AuditReadSecurity,
        Permission::AuditReadAll,
        Permission::BackupsCreate,
        Permission::BackupsRestore,
        Permission::SyncRead,
        Permission::SyncManage,
        Permission::EmergencyUse,
        Permission::EmergencyReview,
        Permission::ScheduleManage,
        Permission::AllergiesRead,
        Permission::AllergiesWrite,
        Permission::AllergiesFlag,
        Permission::MedicationsRead,
        Permission::MedicationsWrite,
        Permission::MedicationsReview,
        Permission::ProblemsRead,
        Permission::ProblemsWrite,
        Permission::UpdatesManage,
        Permission::RecordsExport,
        Permission::RecordsExportPatient,
        Permission::RecordsImport,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Permission::UsersList => "users.list",
            Permission::UsersManage => "users.manage",
            Permission::SecurityManage => "security.manage",
            Permission::KeyRotate => "key.rotate",
            Permission::PatientsRead => "patients.read",
            Permission::PatientsWrite => "patients.write",
            Permission::PatientsMerge => "patients.merge",
            Permission::AppointmentsRead => "appointments.read",
            Permission::AppointmentsWrite => "appointments.write",
            Permission::AppointmentsStatus => "appointments.status",
            Permission::AppointmentsCheckin => "appointments.checkin",
            Permission::VitalsRead => "vitals.read",
            Permission::VitalsWrite => "vitals.write",
            Permission::NotesRead => "notes.read",
            Permission::NotesWriteClinical => "notes.write_clinical",
            Permission::NotesWriteNursing => "notes.write_nursing",
            Permission::AuditReadSecurity => "audit.read_security",
            Permission::AuditReadAll => "audit.read_all",
            Permission::BackupsCreate => "backups.create",
            Permission::BackupsRestore => "backups.restore",
            Permission::SyncRead => "sync.read",
            Permission::SyncManage => "sync.manage",
            Permission::EmergencyUse => "emergency.use",
            Permission::EmergencyReview => "emergency.review",
            Permission::ScheduleManage => "schedule.manage",
            Permission::AllergiesRead => "allergies.read",
            Permission::AllergiesWrite => "allergies.write",
            Permission::AllergiesFlag => "allergies.flag",
            Permission::MedicationsRead => "medications.read",
            Permission::MedicationsWrite => "medications.write",
            Permission::MedicationsReview => "medications.review",
            Permission::ProblemsRead => "problems.read",
            Permission::ProblemsWrite => "problems.write",
            Permission::UpdatesManage => "updates.manage",
            Permission::RecordsExport => "records.export",
            Permission::RecordsExportPatient => "records.export_patient",
            Permission::RecordsImport => "records.import",
        }
    }

    pub fn from_code(code: &str) -> Option<Permission> {
        Permission::ALL
            .into_iter()
            .find(|permission| permission.code() == code)
    }
}

/// The five roles the store is seeded with.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Administrator,
    Manager,
    Clinician,
    Nurse,
    FrontDesk,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Administrator,
        Role::Manager,
        Role::Clinician,
        Role::Nurse,
        Role::FrontDesk,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Role::Administrator => "administrator",
            Role::Manager => "manager",
            Role::Clinician => "clinician",
            Role::Nurse => "nurse",
            Role::FrontDesk => "front_desk",
        }
    }

    /// Reads a role as people and scripts write it (`front-desk`, `Front_Desk`).
    pub fn from_code(code: &str) -> clinicdesk_error::Result<Role> {
        let normalised = code.trim().to_lowercase().replace(['-', ' '], "_");
        Role::ALL
            .into_iter()
            .find(|role| role.code() == normalised)
            .ok_or_else(|| {
                let known: Vec<&str> = Role::ALL.iter().map(|role| role.code()).collect();
                clinicdesk_error::Error::invalid_field(
                    "role",
                    format!(
                        "there is no role {:?}; roles are {}",
                        crate::validation::visible(code),
                        known.join(", ")
                    ),
                )
            })
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

crate::ids::stored_as_code!(Role);
