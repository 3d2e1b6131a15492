//! Typed identifiers of the API: a `PatientId` cannot be passed where a `ProviderId` is meant.
//! Each is a UUID in text form (as the store and the IPC boundary carry it), checked when it
//! comes from outside.

use clinicdesk_error::{Error, Result};
use clinicdesk_store::rusqlite::types::{FromSql, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use serde::{Deserialize, Serialize};

macro_rules! identifier {
    ($(#[$doc:meta])* $name:ident, $field:literal, $what:literal) => {
        $(#[$doc])*
        #[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String")]
        pub struct $name(String);

        impl TryFrom<String> for $name {
            type Error = Error;
            fn try_from(text: String) -> Result<$name> {
                $name::parse(&text)
            }
        }

        impl $name {
            /// Checks text from outside (a command line, the window) and names the field when
            /// it is not an identifier.
            pub fn parse(text: &str) -> Result<$name> {
                let trimmed = text.trim();
                uuid::Uuid::parse_str(trimmed)
                    .map(|uuid| $name(uuid.hyphenated().to_string()))
                    .map_err(|_| {
                        Error::invalid_field(
                            $field,
                            format!("{:?} is not {}", crate::validation::visible(text), $what),
                        )
                    })
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// An id the store already holds (no check needed).
            #[allow(dead_code)] // each id type has one; not every type is made this way yet
            pub(crate) fn from_store(text: String) -> $name {
                $name(text)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = Error;
            fn from_str(text: &str) -> Result<$name> {
                $name::parse(text)
            }
        }

        /// Reads as the text it is (SQL parameters, messages); it is made only by `parse` or
        /// from the store, so the text is always a well-formed id.
        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl ToSql for $name {
            fn to_sql(&self) -> clinicdesk_store::rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.0.as_str()))
            }
        }

        impl FromSql for $name {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<$name> {
                value.as_str().map(|text| $name(text.to_owned()))
            }
        }
    };
}

identifier!(
    /// A patient record.
    PatientId, "patient_id", "a patient id"
);
identifier!(
    /// A provider who can be booked.
    ProviderId, "provider_id", "a provider id"
);
identifier!(
    /// One appointment.
    AppointmentId, "appointment_id", "an appointment id"
);
identifier!(
    /// An appointment type.
    AppointmentTypeId, "appointment_type_id", "an appointment type id"
);
identifier!(
    /// One vital-sign observation.
    ObservationId, "observation_id", "an observation id"
);
identifier!(
    /// A set of vital signs recorded together.
    VitalsSetId, "vitals_set_id", "a vitals set id"
);
identifier!(
    /// A note or addendum.
    NoteId, "note_id", "a note id"
);
identifier!(
    /// One allergy in a chart.
    AllergyId, "allergy_id", "an allergy id"
);
identifier!(
    /// One medication in a chart.
    MedicationId, "medication_id", "a medication id"
);
identifier!(
    /// One problem in a chart.
    ProblemId, "problem_id", "a problem id"
);
identifier!(
    /// A user account.
    UserId, "user_id", "a user id"
);
identifier!(
    /// An emergency-access grant.
    GrantId, "grant_id", "an emergency-access grant id"
);
identifier!(
    /// A merge of two patient records.
    MergeId, "merge_id", "a merge id"
);
identifier!(
    /// A sync conflict waiting for a person.
    ConflictId, "conflict_id", "a conflict id"
);

/// Implements the store's text form for a closed set that has `code()` and `from_code()`.
macro_rules! stored_as_code {
    ($name:ty) => {
        impl clinicdesk_store::rusqlite::types::ToSql for $name {
            fn to_sql(
                &self,
            ) -> clinicdesk_store::rusqlite::Result<
                clinicdesk_store::rusqlite::types::ToSqlOutput<'_>,
            > {
                Ok(clinicdesk_store::rusqlite::types::ToSqlOutput::from(
                    self.code(),
                ))
            }
        }

        impl clinicdesk_store::rusqlite::types::FromSql for $name {
            fn column_result(
                value: clinicdesk_store::rusqlite::types::ValueRef<'_>,
            ) -> clinicdesk_store::rusqlite::types::FromSqlResult<$name> {
                let text = value.as_str()?;
                <$name>::from_code(text).map_err(|_| {
                    clinicdesk_store::rusqlite::types::FromSqlError::Other(
                        format!("{text:?} is not a known {}", stringify!($name)).into(),
                    )
                })
            }
        }
    };
}
pub(crate) use stored_as_code;
