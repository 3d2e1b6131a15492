//! The table registry: every table of the local store, its key, whether its rows sync and
//! whether the change journal records them, and why. The outbox, the change journal's triggers,
//! sync and their tests all derive from this one list, so a table added later cannot be
//! forgotten by any of them: a test fails when the store holds a table that is not listed here.

use serde::{Deserialize, Serialize};

/// How a table's rows leave this workstation.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TableSync {
    /// Every change is written to the outbox in its transaction and pushed to the central server.
    Outbox,
    /// The audit trail: pushed entry by entry as a per-workstation hash chain, never changed.
    AuditTrail,
    /// Stays on this workstation.
    DeviceLocal,
}

/// One table of the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TableSpec {
    pub name: &'static str,
    /// The column that names a row (a UUIDv7 `id` for every synced table).
    pub key: &'static str,
    pub sync: TableSync,
    /// The change journal records every change (point-in-time restore replays it).
    pub journaled: bool,
    pub why: &'static str,
}

impl TableSpec {
    pub fn syncs_through_outbox(&self) -> bool {
        self.sync == TableSync::Outbox
    }
}

/// A table whose rows the core writes through [`crate::recorded_write::RecordedWrite`]: every
/// journaled table. Only these names are ever put into SQL text by the write path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Table {
    Users,
    Clinics,
    Locations,
    Providers,
    ProviderWorkingHours,
    ProviderDaysOff,
    Patients,
    PatientPhones,
    PatientAddresses,
    PatientEmails,
    CareTeamMembers,
    EmergencyAccessGrants,
    AppointmentTypes,
    AppointmentSeries,
    Appointments,
    VitalsSets,
    VitalObservations,
    Notes,
    Allergies,
    AllergyConfirmations,
    Medications,
    MedicationReviews,
    Problems,
    PatientMerges,
    Settings,
}

impl Table {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Table::Users => "users",
            Table::Clinics => "clinics",
            Table::Locations => "locations",
            Table::Providers => "providers",
            Table::ProviderWorkingHours => "provider_working_hours",
            Table::ProviderDaysOff => "provider_days_off",
            Table::Patients => "patients",
            Table::PatientPhones => "patient_phones",
            Table::PatientAddresses => "patient_addresses",
            Table::PatientEmails => "patient_emails",
            Table::CareTeamMembers => "care_team_members",
            Table::EmergencyAccessGrants => "emergency_access_grants",
            Table::AppointmentTypes => "appointment_types",
            Table::AppointmentSeries => "appointment_series",
            Table::Appointments => "appointments",
            Table::VitalsSets => "vitals_sets",
            Table::VitalObservations => "vital_observations",
            Table::Notes => "notes",
            Table::Allergies => "allergies",
            Table::AllergyConfirmations => "allergy_confirmations",
            Table::Medications => "medications",
            Table::MedicationReviews => "medication_reviews",
            Table::Problems => "problems",
            Table::PatientMerges => "patient_merges",
            Table::Settings => "settings",
        }
    }

    pub(crate) fn spec(self) -> &'static TableSpec {
        spec(self.name()).expect("every Table is in the registry")
    }

    pub(crate) fn from_name(name: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|table| table.name() == name)
    }

    pub(crate) const ALL: [Table; 25] = [
        Table::Users,
        Table::Clinics,
        Table::Locations,
        Table::Providers,
        Table::ProviderWorkingHours,
        Table::ProviderDaysOff,
        Table::Patients,
        Table::PatientPhones,
        Table::PatientAddresses,
        Table::PatientEmails,
        Table::CareTeamMembers,
        Table::EmergencyAccessGrants,
        Table::AppointmentTypes,
        Table::AppointmentSeries,
        Table::Appointments,
        Table::VitalsSets,
        Table::VitalObservations,
        Table::Notes,
        Table::Allergies,
        Table::AllergyConfirmations,
        Table::Medications,
        Table::MedicationReviews,
        Table::Problems,
        Table::PatientMerges,
        Table::Settings,
    ];
}

const fn synced(name: &'static str, why: &'static str) -> TableSpec {
    TableSpec {
        name,
        key: "id",
        sync: TableSync::Outbox,
        journaled: true,
        why,
    }
}

const fn local(
    name: &'static str,
    key: &'static str,
    journaled: bool,
    why: &'static str,
) -> TableSpec {
    TableSpec {
        name,
        key,
        sync: TableSync::DeviceLocal,
        journaled,
        why,
    }
}

/// Every table, in the order a full copy can insert them (parents before children).
pub const TABLES: &[TableSpec] = &[
    synced("users", "staff accounts follow people to every workstation; key slots stay local"),
    synced("clinics", "the clinic itself: its name and time zone"),
    synced("locations", "the clinic's places"),
    synced("providers", "who can be booked"),
    synced("provider_working_hours", "weekly templates every front desk books against"),
    synced("provider_days_off", "absences every front desk must see"),
    synced("patients", "demographics"),
    synced("patient_phones", "contact details"),
    synced("patient_addresses", "contact details"),
    synced("patient_emails", "contact details"),
    synced("care_team_members", "who may open a restricted chart"),
    synced("emergency_access_grants", "break-glass access, reviewed by a manager anywhere"),
    synced("appointment_types", "what can be booked and for how long"),
    synced("appointment_series", "recurring bookings"),
    synced("appointments", "the schedule"),
    synced("vitals_sets", "clinical observations (append-only)"),
    synced("vital_observations", "clinical observations (append-only)"),
    synced("notes", "clinical and nursing notes (append-only)"),
    synced("allergies", "a patient's allergies (never deleted; entered-in-error instead)"),
    synced("allergy_confirmations", "\"no known allergies\", as a nurse or clinician confirmed it"),
    synced("medications", "the medications a patient takes or took"),
    synced("medication_reviews", "a clinician's \"medication list reviewed\" (append-only)"),
    synced("problems", "a patient's problem list (never deleted; entered-in-error instead)"),
    synced("patient_merges", "a merge and exactly which rows moved, so any workstation can undo it"),
    local(
        "settings",
        "key",
        true,
        "security settings and this workstation's backup folder and schedule",
    ),
    TableSpec {
        name: "audit_log",
        key: "seq",
        sync: TableSync::AuditTrail,
        journaled: false,
        why: "the tamper-evident trail: pushed as this workstation's chain, carried whole through a restore",
    },
    local("audit_chain_head", "singleton", false, "the chain head the audit triggers move"),
    local("store_meta", "key", false, "facts about this store file (clinic, key-slot generation)"),
    local("roles", "code", false, "reference data, the same in every store (migrations)"),
    local("permissions", "code", false, "reference data, the same in every store (migrations)"),
    local("role_permissions", "role", false, "reference data, the same in every store (migrations)"),
    local("drafts", "user_id", false, "a person's unsaved form on this workstation"),
    local("user_sign_ins", "user_id", false, "when someone last signed in on this workstation"),
    local("outbox", "seq", false, "changes waiting to be pushed"),
    local("sync_state", "key", false, "this workstation's sync cursor and server"),
    local("sync_conflicts", "id", false, "conflicts waiting for a person"),
    local("remote_audit_entries", "received_seq", false, "the other workstations' audit trails as of the last sync, for reading"),
    local("backup_keys", "id", false, "the clinic's backup key pair, carried through restores"),
    local("backup_runs", "id", false, "this workstation's backup attempts"),
    local("store_checks", "id", false, "this workstation's full checks of its own store"),
    local("change_journal", "seq", false, "the journal itself"),
    local("change_journal_clock", "singleton", false, "the journal's transaction counter"),
    local("schema_migrations", "version", false, "the migration ledger"),
    local("patient_name_search", "rowid", false, "a search index rebuilt by triggers"),
    local("note_search", "rowid", false, "a search index rebuilt by triggers"),
];

/// The registry entry of `name`.
pub fn spec(name: &str) -> Option<&'static TableSpec> {
    TABLES.iter().find(|spec| spec.name == name)
}

/// The tables whose changes go through the outbox.
pub fn synced_tables() -> impl Iterator<Item = &'static TableSpec> {
    TABLES.iter().filter(|spec| spec.syncs_through_outbox())
}

/// The tables the change journal records.
pub fn journaled_tables() -> impl Iterator<Item = &'static TableSpec> {
    TABLES.iter().filter(|spec| spec.journaled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_name_is_in_the_registry_and_every_journaled_table_is_writable() {
        for table in Table::ALL {
            assert!(spec(table.name()).is_some(), "{table:?}");
        }
        for spec in journaled_tables() {
            assert!(
                Table::from_name(spec.name).is_some(),
                "{} is journaled but the write path cannot name it",
                spec.name
            );
        }
    }

    #[test]
    fn synced_tables_are_journaled_and_keyed_by_id() {
        for spec in synced_tables() {
            assert!(spec.journaled, "{}", spec.name);
            assert_eq!(spec.key, "id", "{}", spec.name);
        }
    }
}
