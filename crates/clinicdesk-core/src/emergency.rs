//! Emergency access ("break the glass"): a clinical user opens a restricted chart with a reason,
//! for a limited time; every grant is audited and waits for a manager's review.

use chrono::Duration;
use clinicdesk_error::{Error, Result};
use clinicdesk_store::rusqlite::{params, OptionalExtension};
use clinicdesk_store::sql_error;
use serde::{Deserialize, Serialize};

use crate::tables::Table;

use crate::environment::format_timestamp;
use crate::ids::GrantId;
use crate::permission::Permission;
use crate::session::Session;
use crate::settings;

pub const MIN_REASON_CHARS: usize = 10;

/// One emergency-access grant, as the manager reviews it.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmergencyGrant {
    pub id: GrantId,
    pub mrn: String,
    pub username: String,
    pub reason: String,
    pub granted_at: String,
    pub expires_at: String,
    pub reviewed_at: Option<String>,
    pub reviewed_by: Option<String>,
    pub review_note: Option<String>,
}

const GRANT_SELECT: &str = "SELECT g.id, p.mrn, u.username, g.reason, g.granted_at, g.expires_at, g.reviewed_at, r.username, g.review_note
     FROM emergency_access_grants g
     JOIN patients p ON p.id = g.patient_id
     JOIN users u ON u.id = g.user_id
     LEFT JOIN users r ON r.id = g.reviewed_by";

fn grant_from_row(
    row: &clinicdesk_store::rusqlite::Row<'_>,
) -> clinicdesk_store::rusqlite::Result<EmergencyGrant> {
    Ok(EmergencyGrant {
        id: row.get(0)?,
        mrn: row.get(1)?,
        username: row.get(2)?,
        reason: row.get(3)?,
        granted_at: row.get(4)?,
        expires_at: row.get(5)?,
        reviewed_at: row.get(6)?,
        reviewed_by: row.get(7)?,
        review_note: row.get(8)?,
    })
}

impl Session {
    /// Grants this clinical user access to a restricted chart for the configured minutes.
    pub fn request_emergency_access(&mut self, mrn: &str, reason: &str) -> Result<EmergencyGrant> {
        let patient_id =
            self.patient_id_for_operation(mrn, "emergency.access", Permission::EmergencyUse)?;
        let now = self.authorize(
            "emergency.access",
            Some(Permission::EmergencyUse),
            Some(&patient_id),
        )?;
        let reason = crate::validation::reason(
            crate::validation::field("reason", "the reason"),
            reason,
            MIN_REASON_CHARS,
            crate::limits::EMERGENCY_REASON.max,
            "Emergency access needs a reason: what is the emergency? Nothing was opened",
        )?;
        let minutes = settings::read_integer(self.connection()?, "emergency_access_minutes")?;
        let expires = now + Duration::minutes(minutes);
        let by = self.user().id.to_string();
        let grant_id = self.write(|transaction| {
            let (granted, until) = (format_timestamp(now), format_timestamp(expires));
            let id = transaction.insert_row(
                Table::EmergencyAccessGrants,
                &[
                    ("patient_id", &patient_id),
                    ("user_id", &by),
                    ("reason", &reason),
                    ("granted_at", &granted),
                    ("expires_at", &until),
                ],
            )?;
            transaction.audit(
                transaction
                    .entry("emergency.access")
                    .object("emergency_access_grant", &id)
                    .patient(&patient_id)
                    .details(serde_json::json!({
                        "reason": reason,
                        "expires_at": format_timestamp(expires),
                        "flagged_for_review": true,
                    })),
            )?;
            Ok(id)
        })?;
        self.grant(&grant_id)
    }

    fn grant(&self, id: &str) -> Result<EmergencyGrant> {
        self.connection()?
            .query_row(
                &format!("{GRANT_SELECT} WHERE g.id = ?1"),
                [id],
                grant_from_row,
            )
            .optional()
            .map_err(sql_error("reading the grant"))?
            .ok_or_else(|| Error::not_found(format!("there is no emergency-access grant {id}")))
    }

    /// Grants waiting for review (or all, newest first).
    pub fn emergency_access_for_review(
        &mut self,
        include_reviewed: bool,
    ) -> Result<Vec<EmergencyGrant>> {
        self.authorize(
            "emergency.review_list",
            Some(Permission::EmergencyReview),
            None,
        )?;
        let filter = if include_reviewed {
            ""
        } else {
            " WHERE g.reviewed_at IS NULL"
        };
        let connection = self.connection()?;
        let mut statement = connection
            .prepare(&format!(
                "{GRANT_SELECT}{filter} ORDER BY g.granted_at DESC"
            ))
            .map_err(sql_error("listing emergency access"))?;
        let rows = statement
            .query_map([], grant_from_row)
            .map_err(sql_error("listing emergency access"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(sql_error("listing emergency access"))
    }

    /// Records the manager's review of a grant.
    pub fn mark_emergency_access_reviewed(
        &mut self,
        grant_id: &GrantId,
        note: &str,
    ) -> Result<EmergencyGrant> {
        let now = self.authorize("emergency.review", Some(Permission::EmergencyReview), None)?;
        let existing = self.grant(grant_id)?;
        if existing.reviewed_at.is_some() {
            return Err(Error::conflict(format!(
                "this grant was already reviewed by {} at {}",
                existing.reviewed_by.unwrap_or_default(),
                existing.reviewed_at.unwrap_or_default()
            )));
        }
        let by = self.user().id.to_string();
        let note = crate::validation::optional_line(
            crate::validation::field("note", "the review note"),
            note,
            crate::limits::REVIEW_NOTE.max,
        )?
        .unwrap_or_default();
        self.write(|transaction| {
            let before = transaction.row_json(Table::EmergencyAccessGrants, grant_id)?;
            transaction
                .execute(
                    "UPDATE emergency_access_grants SET reviewed_at = ?1, reviewed_by = ?2, review_note = ?3,
                        updated_at = ?1, updated_by = ?2, version = version + 1 WHERE id = ?4",
                    params![format_timestamp(now), by, note, grant_id],
                )
                .map_err(sql_error("recording the review"))?;
            transaction.updated(Table::EmergencyAccessGrants, grant_id)?;
            let after = transaction.row_json(Table::EmergencyAccessGrants, grant_id)?;
            let patient_id = after["patient_id"].as_str().unwrap_or_default().to_owned();
            transaction.audit(transaction.entry("emergency.review")
                    .object("emergency_access_grant", grant_id)
                    .patient(&patient_id)
                    .details(serde_json::json!({ "before": before, "after": after })),
            )?;
            Ok(())
        })?;
        self.grant(grant_id)
    }
}
