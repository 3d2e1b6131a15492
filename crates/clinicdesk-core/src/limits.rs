//! The longest text each field takes: one table that the core's checks use, the store's CHECK
//! constraints must match (tested), and the UI's `maxlength`s are generated from.

/// The limit of one kind of text field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextLimit {
    /// The name the UI knows it by (`limits.appointment_reason` in `ui/src/lib/limits.ts`).
    pub name: &'static str,
    /// At most this many characters (Unicode scalar values, as SQLite's `length()` counts).
    pub max: usize,
    /// The store columns that hold it (`table.column`), whose CHECK or trigger refuses the same
    /// length; empty for text that is never stored (a search).
    pub stored_in: &'static [&'static str],
}

const fn limit(name: &'static str, max: usize, stored_in: &'static [&'static str]) -> TextLimit {
    TextLimit {
        name,
        max,
        stored_in,
    }
}

pub const CLINIC_NAME: TextLimit = limit("clinic_name", 200, &["clinics.name"]);
pub const PERSON_NAME: TextLimit = limit(
    "person_name",
    100,
    &[
        "patients.given_name",
        "patients.family_name",
        "patients.middle_name",
        "patients.preferred_name",
    ],
);
pub const PHONE_NUMBER: TextLimit = limit("phone_number", 40, &["patient_phones.number"]);
pub const USERNAME: TextLimit = limit("username", 64, &["users.username"]);
pub const STAFF_NAME: TextLimit = limit(
    "staff_name",
    200,
    &["users.display_name", "providers.display_name"],
);
pub const SPECIALTY: TextLimit = limit("specialty", 200, &["providers.specialty"]);
pub const APPOINTMENT_TYPE_NAME: TextLimit =
    limit("appointment_type_name", 100, &["appointment_types.name"]);
pub const APPOINTMENT_REASON: TextLimit = limit(
    "appointment_reason",
    500,
    &["appointments.reason", "appointments.cancel_reason"],
);
pub const DAY_OFF_REASON: TextLimit = limit("day_off_reason", 500, &["provider_days_off.reason"]);
/// Why a vital value or a note was entered in error, or a record deleted.
pub const CORRECTION_REASON: TextLimit = limit(
    "correction_reason",
    500,
    &[
        "vital_observations.entered_in_error_reason",
        "notes.entered_in_error_reason",
        "allergies.entered_in_error_reason",
        "allergy_confirmations.entered_in_error_reason",
        "medications.entered_in_error_reason",
        "problems.entered_in_error_reason",
    ],
);
pub const EMERGENCY_REASON: TextLimit = limit(
    "emergency_reason",
    1000,
    &["emergency_access_grants.reason"],
);
pub const REVIEW_NOTE: TextLimit = limit(
    "review_note",
    1000,
    &["emergency_access_grants.review_note"],
);
pub const NOTE_TITLE: TextLimit = limit("note_title", 200, &["notes.title"]);
pub const NOTE_BODY: TextLimit = limit("note_body", 100_000, &["notes.body"]);
pub const ALLERGY_SUBSTANCE: TextLimit = limit("allergy_substance", 200, &["allergies.substance"]);
pub const ALLERGY_REACTION: TextLimit = limit("allergy_reaction", 500, &["allergies.reaction"]);
/// A code from a terminology (RxNorm, SNOMED CT, ATC…), as text.
pub const CLINICAL_CODE: TextLimit = limit(
    "clinical_code",
    64,
    &["allergies.substance_code", "medications.code"],
);
pub const MEDICATION_NAME: TextLimit = limit(
    "medication_name",
    200,
    &["medications.name", "medications.reason"],
);
/// A medication's dose, route or frequency, as text ("500 mg", "by mouth", "twice a day").
pub const MEDICATION_DETAIL: TextLimit = limit(
    "medication_detail",
    100,
    &[
        "medications.dose",
        "medications.route",
        "medications.frequency",
    ],
);
pub const PROBLEM_DESCRIPTION: TextLimit =
    limit("problem_description", 200, &["problems.description"]);
pub const FORM_KEY: TextLimit = limit("form_key", 200, &["drafts.form_key"]);
pub const SEARCH_QUERY: TextLimit = limit("search_query", 200, &[]);
pub const AUDIT_FILTER: TextLimit = limit("audit_filter", 100, &[]);
/// An MRN as typed (this clinic's have 10 digits; another system's may hold letters).
pub const MRN: TextLimit = limit("mrn", 20, &[]);

/// Every limit, for the generated UI constants and the test against the store's schema.
pub const TEXT_LIMITS: &[TextLimit] = &[
    CLINIC_NAME,
    PERSON_NAME,
    PHONE_NUMBER,
    USERNAME,
    STAFF_NAME,
    SPECIALTY,
    APPOINTMENT_TYPE_NAME,
    APPOINTMENT_REASON,
    DAY_OFF_REASON,
    CORRECTION_REASON,
    EMERGENCY_REASON,
    REVIEW_NOTE,
    NOTE_TITLE,
    NOTE_BODY,
    ALLERGY_SUBSTANCE,
    ALLERGY_REACTION,
    CLINICAL_CODE,
    MEDICATION_NAME,
    MEDICATION_DETAIL,
    PROBLEM_DESCRIPTION,
    FORM_KEY,
    SEARCH_QUERY,
    AUDIT_FILTER,
    MRN,
];

/// `ui/src/lib/limits.ts`: the same limits for the UI's `maxlength` attributes.
pub fn typescript_module() -> String {
    let mut module = String::from(
        "// Generated from crates/clinicdesk-core/src/limits.rs; do not edit.\n\
         // The longest text each field takes, the same in the core, the store and the UI.\n\
         export const limits = {\n",
    );
    for limit in TEXT_LIMITS {
        module.push_str(&format!("  {}: {},\n", limit.name, limit.max));
    }
    module.push_str("} as const;\n");
    module
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_limit_has_its_own_name() {
        let mut names: Vec<&str> = TEXT_LIMITS.iter().map(|limit| limit.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), TEXT_LIMITS.len());
    }
}
