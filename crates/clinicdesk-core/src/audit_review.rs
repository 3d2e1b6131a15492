//! Reading the audit trail through a session: list, verify, export, access report.

use clinicdesk_error::Result;
use serde::{Deserialize, Serialize};

use crate::audit::{self, AuditFilter, AuditListing, AuditVerification};
use crate::ids::PatientId;
use crate::permission::Permission;
use crate::session::Session;

/// One line of a patient's access report.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessReportLine {
    pub occurred_at: String,
    pub username: Option<String>,
    pub workstation: String,
    pub action: String,
    pub outcome: String,
    /// Recorded on another workstation (known here as of the last sync).
    pub from_other_workstation: bool,
}

impl Session {
    /// Managers see the whole trail; administrators see security events only.
    fn audit_scope(&mut self, operation: &str) -> Result<bool> {
        if self.permissions().contains(&Permission::AuditReadAll) {
            self.authorize(operation, Some(Permission::AuditReadAll), None)?;
            Ok(false)
        } else {
            self.authorize(operation, Some(Permission::AuditReadSecurity), None)?;
            Ok(true)
        }
    }

    pub fn audit_list(&mut self, filter: &AuditFilter) -> Result<AuditListing> {
        let security_only = self.audit_scope("audit.list")?;
        let connection = self.connection()?;
        let mut entries = audit::list(connection, filter, security_only)?;
        if !security_only {
            // Managers see whose record each entry concerns, by name and MRN.
            let mut statement = connection
                .prepare_cached(
                    "SELECT given_name || ' ' || family_name || ' (MRN ' || mrn || ')' FROM patients WHERE id = ?1",
                )
                .map_err(clinicdesk_store::sql_error("naming patients in the audit trail"))?;
            for entry in &mut entries {
                if let Some(patient_id) = &entry.patient_id {
                    entry.patient = statement.query_row([patient_id], |row| row.get(0)).ok();
                }
            }
        }
        Ok(AuditListing {
            entries,
            security_events_only: security_only,
            hidden_from_your_role: if security_only {
                audit::count_outside_security_events(connection, filter)?
            } else {
                0
            },
        })
    }

    /// Verifies the whole chain; an `integrity_failure` error names the first bad entry.
    pub fn audit_verify(&mut self) -> Result<AuditVerification> {
        self.audit_scope("audit.verify")?;
        audit::verify_chain(self.connection()?)
    }

    /// Exports the filtered trail as CSV to `out`; the export itself is audited.
    pub fn audit_export_csv(
        &mut self,
        filter: &AuditFilter,
        out: impl std::io::Write,
    ) -> Result<usize> {
        let security_only = self.audit_scope("audit.export")?;
        let entries = audit::list(self.connection()?, filter, security_only)?;
        let count = entries.len();
        self.write(|transaction| {
            transaction.audit(transaction.entry("audit.export").details(
                serde_json::json!({ "format": "csv", "entries": count, "filter": filter }),
            ))?;
            Ok(())
        })?;
        audit::write_csv(&entries, out)?;
        Ok(count)
    }

    /// Exports the filtered trail as a CSV file into `folder` (the person's Downloads folder when
    /// `None`), named for the moment; returns its path. The export is audited.
    pub fn export_audit_csv_file(
        &mut self,
        filter: &AuditFilter,
        folder: Option<&std::path::Path>,
    ) -> Result<std::path::PathBuf> {
        let folder = folder
            .map(std::path::Path::to_path_buf)
            .unwrap_or_else(crate::policy::exports_folder);
        std::fs::create_dir_all(&folder)?;
        let path = folder.join(format!(
            "clinicdesk-audit-{}.csv",
            self.environment.now().format("%Y%m%d-%H%M%S")
        ));
        let file = std::fs::File::create(&path).map_err(|error| {
            clinicdesk_error::Error::invalid_field(
                "folder",
                format!("Cannot write {}: {error}", path.display()),
            )
        })?;
        self.audit_export_csv(filter, file)?;
        Ok(path)
    }

    /// Who looked at or changed this patient's record, and when (newest first).
    pub fn access_report(&mut self, mrn: &str) -> Result<Vec<AccessReportLine>> {
        self.authorize("audit.access_report", Some(Permission::AuditReadAll), None)?;
        let patient_id = crate::patients::patient_id_by_mrn(self.connection()?, mrn)?;
        let filter = AuditFilter {
            patient_id: Some(crate::ids::PatientId::from_store(patient_id)),
            limit: Some(100_000),
            ..AuditFilter::default()
        };
        let entries = audit::list(self.connection()?, &filter, false)?;
        Ok(entries
            .into_iter()
            .map(|entry| AccessReportLine {
                occurred_at: entry.occurred_at,
                username: entry.username,
                workstation: entry.workstation,
                action: entry.action,
                outcome: entry.outcome,
                from_other_workstation: entry.from_other_workstation,
            })
            .collect())
    }
}

impl Session {
    /// The internal id of the patient with this MRN (for filters); needs audit or patient read access.
    pub fn patient_id_for_mrn(&mut self, mrn: &str) -> Result<PatientId> {
        if !self.permissions().contains(&Permission::AuditReadAll) {
            self.authorize("patients.lookup", Some(Permission::PatientsRead), None)?;
        }
        crate::patients::patient_id_by_mrn(self.connection()?, mrn).map(PatientId::from_store)
    }
}
