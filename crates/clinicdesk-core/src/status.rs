//! The store's status: where it is, its schema version, the clinic, and row counts.

use clinicdesk_error::Result;
use clinicdesk_store::sql_error;
use serde::{Deserialize, Serialize};

use crate::session::Session;

/// What `clinicdesk status` and the desktop app's status panel show.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreStatus {
    pub store_path: String,
    pub schema_version: u32,
    pub latest_schema_version: u32,
    pub clinic_name: String,
    pub clinic_time_zone: String,
    pub counts: Vec<(String, i64)>,
}

const COUNTED_TABLES: &[(&str, &str)] = &[
    ("users", "users"),
    ("patients", "patients"),
    ("appointments", "appointments"),
    ("vitals sets", "vitals_sets"),
    ("vital observations", "vital_observations"),
    ("notes", "notes"),
    ("audit entries", "audit_log"),
    ("unsynced changes", "outbox"),
];

impl Session {
    /// Any signed-in user may see the status: it holds no patient data, only counts.
    pub fn status(&mut self) -> Result<StoreStatus> {
        self.authorize_any_user()?;
        let connection = self.connection()?;
        let (clinic_name, clinic_time_zone): (String, String) = connection
            .query_row("SELECT name, time_zone FROM clinics WHERE deleted_at IS NULL ORDER BY created_at LIMIT 1", [], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .map_err(sql_error("reading the clinic"))?;
        let mut counts = Vec::new();
        for (label, table) in COUNTED_TABLES {
            let filter = match *table {
                "outbox" => " WHERE pushed_at IS NULL",
                "audit_log" => "",
                _ => " WHERE deleted_at IS NULL",
            };
            let count: i64 = connection
                .query_row(
                    &format!("SELECT count(*) FROM {table}{filter}"),
                    [],
                    |row| row.get(0),
                )
                .map_err(sql_error("counting rows"))?;
            counts.push((label.to_string(), count));
        }
        Ok(StoreStatus {
            store_path: self.data_dir.store_file().display().to_string(),
            schema_version: clinicdesk_store::applied_schema_version(connection)?,
            latest_schema_version: clinicdesk_store::EMBEDDED_MIGRATIONS
                .last()
                .map(|m| m.version)
                .unwrap_or(0),
            clinic_name,
            clinic_time_zone,
            counts,
        })
    }
}
