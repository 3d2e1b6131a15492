//! Finding and maintaining patient records: search (name with typos, swapped or partial; MRN;
//! date of birth; phone), demographic updates guarded by version, soft delete, and merging two
//! records of one person (audited, and undoable).

use chrono::NaiveDate;
use clinicdesk_error::{Error, ErrorCode, Result};
use clinicdesk_store::rusqlite::{params, Connection, OptionalExtension};
use clinicdesk_store::sql_error;
use serde::{Deserialize, Serialize};

use crate::tables::Table;

use crate::environment::format_timestamp;
use crate::ids::{MergeId, PatientId};
use crate::patients::{clean_name, parse_birth_date, phone_number, Sex, FAMILY_NAME, GIVEN_NAME};
use crate::permission::Permission;
use crate::session::Session;

/// One search result.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatientHit {
    pub patient_id: PatientId,
    pub mrn: String,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: String,
    pub sex: String,
    pub restricted: bool,
    pub phone: Option<String>,
    /// Higher is better; 1.0 is an exact match.
    pub score: f64,
}

/// Changes to demographics; `None` leaves a field as it is.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemographicsChange {
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub date_of_birth: Option<String>,
    pub sex: Option<Sex>,
    pub phone: Option<String>,
}

/// A merge as recorded, for undoing it.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeRecord {
    pub merge_id: MergeId,
    pub surviving_mrn: String,
    pub merged_mrn: String,
    pub moved: Vec<(String, usize)>,
}

pub const SEARCH_LIMIT: usize = 20;

/// The tables whose rows follow a patient in a merge.
const MOVED_TABLES: &[Table] = &[
    Table::Appointments,
    Table::VitalsSets,
    Table::VitalObservations,
    Table::Notes,
    Table::AllergyConfirmations,
    Table::Allergies,
    Table::Medications,
    Table::MedicationReviews,
    Table::Problems,
    Table::PatientPhones,
    Table::PatientAddresses,
    Table::PatientEmails,
];

enum Term {
    Mrn(String),
    Phone(String),
    Birth(NaiveDate),
    Name(String),
}

fn parse_query(query: &str, today: NaiveDate) -> Vec<Term> {
    let mut terms = Vec::new();
    let joined_digits: String = query.chars().filter(|c| c.is_ascii_digit()).collect();
    let only_number = !query.chars().any(|c| c.is_alphabetic())
        && !query.contains(['.', '/'])
        && query.matches('-').count() != 2;
    if only_number && joined_digits.len() >= 7 {
        if crate::mrn::is_valid(&joined_digits) {
            terms.push(Term::Mrn(joined_digits.clone()));
        }
        terms.push(Term::Phone(joined_digits));
        return terms;
    }
    for token in query
        .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .filter(|t| !t.is_empty())
    {
        let date = NaiveDate::parse_from_str(token, "%Y-%m-%d")
            .or_else(|_| NaiveDate::parse_from_str(token, "%d.%m.%Y"))
            .ok()
            .filter(|d| *d <= today);
        if let Some(date) = date {
            terms.push(Term::Birth(date));
        } else if token.chars().any(|c| c.is_alphabetic()) {
            for part in token.split('-') {
                let name: String = part
                    .chars()
                    .filter(|c| c.is_alphabetic() || *c == '\'')
                    .collect();
                if !name.is_empty() {
                    terms.push(Term::Name(name.to_lowercase()));
                }
            }
        } else if crate::mrn::is_valid(token) {
            terms.push(Term::Mrn(crate::mrn::normalise(token)));
        }
    }
    terms
}

/// How well the query's name words fit a patient's names (0–1), in any order, with typos,
/// and with a word matching the start of a name (partial names) counted as a good fit.
fn name_score(words: &[String], given: &str, family: &str) -> f64 {
    if words.is_empty() {
        return 0.0;
    }
    let parts: Vec<String> = format!("{given} {family}")
        .to_lowercase()
        .split([' ', '-'])
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    let mut total = 0.0;
    for word in words {
        let best = parts
            .iter()
            .map(|part| {
                if part == word {
                    1.0
                } else if part.starts_with(word.as_str()) {
                    0.9 + 0.1 * (word.len() as f64 / part.len() as f64)
                } else {
                    let similarity = strsim::jaro_winkler(word, part);
                    let distance = strsim::damerau_levenshtein(word, part);
                    if distance <= 1 {
                        similarity.max(0.85)
                    } else {
                        similarity * 0.9
                    }
                }
            })
            .fold(0.0, f64::max);
        total += best;
    }
    total / words.len() as f64
}

fn fts_phrase(word: &str) -> String {
    format!("\"{}\"", word.replace('"', ""))
}

fn trigrams(word: &str) -> Vec<String> {
    let chars: Vec<char> = word.chars().collect();
    if chars.len() < 3 {
        return Vec::new();
    }
    chars.windows(3).map(|w| w.iter().collect()).collect()
}

const HIT_SELECT: &str = "SELECT p.id, p.mrn, p.given_name, p.family_name, p.date_of_birth, p.sex, p.restricted,
        (SELECT number FROM patient_phones ph WHERE ph.patient_id = p.id AND ph.deleted_at IS NULL ORDER BY is_primary DESC LIMIT 1)
     FROM patients p";

fn hits(
    connection: &Connection,
    filter: &str,
    values: &[&dyn clinicdesk_store::rusqlite::ToSql],
    limit: usize,
) -> Result<Vec<PatientHit>> {
    let mut statement = connection
        .prepare_cached(&format!("{HIT_SELECT} WHERE p.deleted_at IS NULL AND p.merged_into_id IS NULL AND {filter} LIMIT {limit}"))
        .map_err(sql_error("searching patients"))?;
    let rows = statement
        .query_map(values, |row| {
            Ok(PatientHit {
                patient_id: row.get(0)?,
                mrn: row.get(1)?,
                given_name: row.get(2)?,
                family_name: row.get(3)?,
                date_of_birth: row.get(4)?,
                sex: row.get(5)?,
                restricted: row.get(6)?,
                phone: row.get(7)?,
                score: 0.0,
            })
        })
        .map_err(sql_error("searching patients"))?;
    rows.collect::<Result<Vec<_>, _>>()
        .map_err(sql_error("searching patients"))
}

/// The search itself, on a connection (used by the session method and by the benchmark).
pub(crate) fn search_patients_on(
    connection: &Connection,
    query: &str,
    today: NaiveDate,
) -> Result<Vec<PatientHit>> {
    let query = crate::validation::optional_line(
        crate::validation::field("query", "the search"),
        query,
        crate::limits::SEARCH_QUERY.max,
    )?
    .unwrap_or_default();
    let query = query.as_str();
    if query.is_empty() {
        return Ok(Vec::new());
    }
    let terms = parse_query(query, today);
    let mut found: Vec<PatientHit> = Vec::new();
    let mut add = |mut hit: PatientHit, score: f64| {
        hit.score = score;
        match found.iter_mut().find(|h| h.patient_id == hit.patient_id) {
            Some(existing) => existing.score = existing.score.max(score),
            None => found.push(hit),
        }
    };
    let names: Vec<String> = terms
        .iter()
        .filter_map(|t| {
            if let Term::Name(n) = t {
                Some(n.clone())
            } else {
                None
            }
        })
        .collect();
    let birth = terms.iter().find_map(|t| {
        if let Term::Birth(d) = t {
            Some(d.to_string())
        } else {
            None
        }
    });
    for term in &terms {
        match term {
            Term::Mrn(mrn) => {
                for hit in hits(connection, "p.mrn = ?1", &[mrn], 1)? {
                    add(hit, 1.0);
                }
            }
            Term::Phone(digits) if digits.len() >= 7 => {
                let tail = &digits[digits.len() - 7..];
                // The last seven digits decide (national and international prefixes differ);
                // a full match of everything typed ranks higher.
                let full: Vec<String> = {
                    let mut statement = connection
                        .prepare_cached("SELECT patient_id FROM patient_phones WHERE digits_tail = ?1 AND deleted_at IS NULL AND (digits LIKE '%' || ?2 OR ?2 LIKE '%' || digits)")
                        .map_err(sql_error("searching phones"))?;
                    let rows = statement
                        .query_map(params![tail, digits], |row| row.get(0))
                        .map_err(sql_error("searching phones"))?;
                    rows.collect::<Result<_, _>>()
                        .map_err(sql_error("searching phones"))?
                };
                for hit in hits(
                    connection,
                    "p.id IN (SELECT patient_id FROM patient_phones WHERE digits_tail = ?1 AND deleted_at IS NULL)",
                    &[&tail],
                    SEARCH_LIMIT * 5,
                )? {
                    let score = if full.iter().any(|id: &String| **id == *hit.patient_id) { 0.97 } else { 0.93 };
                    add(hit, score);
                }
            }
            _ => {}
        }
    }
    if names.is_empty() {
        if let Some(birth) = &birth {
            for hit in hits(
                connection,
                "p.date_of_birth = ?1 ORDER BY p.family_name, p.given_name",
                &[birth],
                SEARCH_LIMIT,
            )? {
                add(hit, 0.8);
            }
        }
    } else {
        let mut candidates: Vec<PatientHit> = Vec::new();
        if let Some(birth) = &birth {
            candidates.extend(hits(connection, "p.date_of_birth = ?1", &[birth], 2000)?);
        } else {
            let long: Vec<&String> = names.iter().filter(|n| n.chars().count() >= 3).collect();
            if !long.is_empty() {
                let exact = long
                    .iter()
                    .map(|w| fts_phrase(w))
                    .collect::<Vec<_>>()
                    .join(" AND ");
                candidates.extend(hits(connection, "p.rowid IN (SELECT rowid FROM patient_name_search WHERE patient_name_search MATCH ?1 LIMIT 200)", &[&exact], 200)?);
                if candidates.len() < SEARCH_LIMIT {
                    // Typos: any shared trigram, best-ranked first.
                    let fuzzy = long
                        .iter()
                        .flat_map(|w| trigrams(w))
                        .map(|t| fts_phrase(&t))
                        .collect::<Vec<_>>()
                        .join(" OR ");
                    candidates.extend(hits(
                        connection,
                        "p.rowid IN (SELECT rowid FROM patient_name_search WHERE patient_name_search MATCH ?1 ORDER BY rank LIMIT 300)",
                        &[&fuzzy],
                        300,
                    )?);
                }
            }
            for short in names.iter().filter(|n| n.chars().count() < 3) {
                let prefix = format!("{short}%");
                candidates.extend(hits(
                    connection,
                    "(p.family_name LIKE ?1 OR p.given_name LIKE ?1)",
                    &[&prefix],
                    200,
                )?);
            }
        }
        for candidate in candidates {
            let score = name_score(&names, &candidate.given_name, &candidate.family_name);
            if score >= 0.75 {
                add(candidate, score);
            }
        }
    }
    found.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.family_name.cmp(&b.family_name))
            .then_with(|| a.given_name.cmp(&b.given_name))
    });
    found.truncate(SEARCH_LIMIT);
    Ok(found)
}

fn merged_patient(connection: &Connection, mrn: &str) -> Result<(String, Option<String>)> {
    let mrn = crate::mrn::parse_argument(mrn)?;
    connection
        .query_row(
            "SELECT id, merged_into_id FROM patients WHERE mrn = ?1 AND deleted_at IS NULL",
            [&mrn],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
        .map_err(sql_error("finding the patient"))?
        .ok_or_else(|| Error::not_found(format!("no patient has MRN {mrn}")))
}

impl Session {
    /// Finds patients by name (typos, swapped or partial names), MRN, date of birth or phone;
    /// the best 20, best first. Searching is not a chart read: it shows demographics only.
    pub fn search_patients(&mut self, query: &str) -> Result<Vec<PatientHit>> {
        let now = self.authorize("patients.search", Some(Permission::PatientsRead), None)?;
        search_patients_on(self.connection()?, query, now.date_naive())
    }

    /// Changes demographics. `expected_version` is the version the user saw; if someone changed
    /// the record since, nothing is written and the caller gets a conflict.
    pub fn update_demographics(
        &mut self,
        mrn: &str,
        change: &DemographicsChange,
        expected_version: Option<i64>,
    ) -> Result<()> {
        let patient_id =
            self.patient_id_for_operation(mrn, "patient.update", Permission::PatientsWrite)?;
        let now = self.authorize(
            "patient.update",
            Some(Permission::PatientsWrite),
            Some(&patient_id),
        )?;
        let current = crate::patients::demographics(self.connection()?, &patient_id)?;
        if let Some(expected) = expected_version.filter(|v| *v != current.version) {
            return Err(Error::conflict(format!(
                "this record was changed by someone else since you opened it (version {expected}, now {}); reopen it to see their change",
                current.version
            )));
        }
        let given = change
            .given_name
            .as_deref()
            .map(|name| clean_name(GIVEN_NAME, name))
            .transpose()?;
        let family = change
            .family_name
            .as_deref()
            .map(|name| clean_name(FAMILY_NAME, name))
            .transpose()?;
        let birth = change
            .date_of_birth
            .as_deref()
            .map(|d| parse_birth_date(d, now.date_naive()))
            .transpose()?
            .map(|d| d.to_string());
        let phone = change
            .phone
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(phone_number)
            .transpose()?;
        let by = self.user().id.to_string();
        let sex = change.sex.map(Sex::code);
        self.write(|transaction| {
            let before = transaction.row_json(Table::Patients, &patient_id)?;
            let stamp = format_timestamp(now);
            let updated = transaction
                .execute(
                    "UPDATE patients SET given_name = coalesce(?1, given_name), family_name = coalesce(?2, family_name),
                        date_of_birth = coalesce(?3, date_of_birth), sex = coalesce(?4, sex),
                        updated_at = ?5, updated_by = ?6, version = version + 1
                     WHERE id = ?7 AND version = ?8",
                    params![given, family, birth, sex, stamp, by, patient_id, current.version],
                )
                .map_err(sql_error("updating the patient"))?;
            if updated == 0 {
                return Err(Error::conflict("this record was changed by someone else a moment ago; reopen it"));
            }
            transaction.updated(Table::Patients, &patient_id)?;
            let mut phone_change = serde_json::Value::Null;
            if let Some((number, digits)) = &phone {
                let old: Option<(String, String)> = transaction
                    .query_row(
                        "SELECT id, number FROM patient_phones WHERE patient_id = ?1 AND is_primary = 1 AND deleted_at IS NULL",
                        [&patient_id],
                        |row| Ok((row.get(0)?, row.get(1)?)),
                    )
                    .optional()
                    .map_err(sql_error("reading the phone"))?;
                if let Some((old_id, old_number)) = &old {
                    transaction
                        .execute(
                            "UPDATE patient_phones SET deleted_at = ?1, deleted_by = ?2, updated_at = ?1, updated_by = ?2, version = version + 1 WHERE id = ?3",
                            params![stamp, by, old_id],
                        )
                        .map_err(sql_error("replacing the phone"))?;
                    transaction.updated(Table::PatientPhones, old_id)?;
                    phone_change = serde_json::json!({ "before": old_number, "after": number });
                } else {
                    phone_change = serde_json::json!({ "before": null, "after": number });
                }
                crate::patients::add_phone(transaction, &patient_id, number, digits)?;
            }
            let after = transaction.row_json(Table::Patients, &patient_id)?;
            transaction.audit(transaction.entry("patient.update")
                    .object("patient", &patient_id)
                    .patient(&patient_id)
                    .details(serde_json::json!({ "before": before, "after": after, "phone": phone_change })),
            )?;
            Ok(())
        })
    }

    /// Soft-deletes a record registered in error (kept, hidden from search); audited with a reason.
    pub fn delete_patient(&mut self, mrn: &str, reason: &str) -> Result<()> {
        let patient_id =
            self.patient_id_for_operation(mrn, "patient.delete", Permission::PatientsWrite)?;
        let now = self.authorize(
            "patient.delete",
            Some(Permission::PatientsWrite),
            Some(&patient_id),
        )?;
        let reason = crate::validation::reason(
            crate::validation::field("reason", "the reason"),
            reason,
            3,
            crate::limits::CORRECTION_REASON.max,
            "Say why the record is deleted",
        )?;
        let reason = reason.as_str();
        let live: i64 = self
            .connection()?
            .query_row(
                "SELECT (SELECT count(*) FROM appointments WHERE patient_id = ?1 AND status IN ('booked', 'arrived', 'in_progress') AND deleted_at IS NULL)
                      + (SELECT count(*) FROM vitals_sets WHERE patient_id = ?1) + (SELECT count(*) FROM notes WHERE patient_id = ?1)
                      + (SELECT count(*) FROM allergies WHERE patient_id = ?1) + (SELECT count(*) FROM allergy_confirmations WHERE patient_id = ?1)
                      + (SELECT count(*) FROM medications WHERE patient_id = ?1) + (SELECT count(*) FROM medication_reviews WHERE patient_id = ?1)
                      + (SELECT count(*) FROM problems WHERE patient_id = ?1)",
                [&patient_id],
                |row| row.get(0),
            )
            .map_err(sql_error("checking the record"))?;
        if live > 0 {
            return Err(Error::conflict(
                "this record has clinical data or open appointments; if it duplicates another record, ask a manager to merge them instead",
            ));
        }
        let by = self.user().id.to_string();
        self.write(|transaction| {
            let before = transaction.row_json(Table::Patients, &patient_id)?;
            transaction
                .execute(
                    "UPDATE patients SET deleted_at = ?1, deleted_by = ?2, updated_at = ?1, updated_by = ?2, version = version + 1 WHERE id = ?3",
                    params![format_timestamp(now), by, patient_id],
                )
                .map_err(sql_error("deleting the patient"))?;
            transaction.updated(Table::Patients, &patient_id)?;
            transaction.audit(transaction.entry("patient.delete")
                    .object("patient", &patient_id)
                    .patient(&patient_id)
                    .details(serde_json::json!({ "before": before, "reason": reason.trim() })),
            )?;
            Ok(())
        })
    }

    /// Merges the record `merged_mrn` into `surviving_mrn`: appointments, vitals, notes and contact
    /// details move over; the merged record is kept, hidden, pointing at the survivor. Undo with
    /// [`Session::undo_merge`].
    pub fn merge_patients(&mut self, surviving_mrn: &str, merged_mrn: &str) -> Result<MergeRecord> {
        if !self.permissions().contains(&Permission::PatientsMerge) {
            self.authorize("patient.merge", Some(Permission::PatientsMerge), None)?;
        }
        let (surviving, surviving_merged) = merged_patient(self.connection()?, surviving_mrn)?;
        let (merged, already) = merged_patient(self.connection()?, merged_mrn)?;
        let now = self.authorize(
            "patient.merge",
            Some(Permission::PatientsMerge),
            Some(&merged),
        )?;
        if surviving == merged {
            return Err(Error::invalid_field(
                "merged_mrn",
                "A record cannot be merged into itself",
            ));
        }
        if surviving_merged.is_some() || already.is_some() {
            return Err(Error::conflict(
                "one of these records is already merged into another; undo that merge first",
            ));
        }
        let by = self.user().id.to_string();
        let (merge_id, moved) = self.write(|transaction| {
            let stamp = format_timestamp(now);
            let mut moved_rows = serde_json::Map::new();
            let mut counts = Vec::new();
            for table in MOVED_TABLES.iter().copied() {
                let name = table.name();
                let ids: Vec<String> = {
                    let mut statement = transaction
                        .prepare(&format!("SELECT id FROM {name} WHERE patient_id = ?1"))
                        .map_err(sql_error("reading rows to move"))?;
                    let rows = statement.query_map([&merged], |row| row.get(0)).map_err(sql_error("reading rows to move"))?;
                    rows.collect::<Result<_, _>>().map_err(sql_error("reading rows to move"))?
                };
                for id in &ids {
                    transaction
                        .execute(
                            &format!("UPDATE {name} SET patient_id = ?1, updated_at = ?2, updated_by = ?3, version = version + 1 WHERE id = ?4"),
                            params![surviving, stamp, by, id],
                        )
                        .map_err(|error| {
                            if error.to_string().contains("double_booking") {
                                Error::conflict("the two records have appointments at overlapping times; cancel one of them, then merge")
                            } else {
                                Error::unexpected(format!("moving {name}: {error}"))
                            }
                        })?;
                    transaction.updated(table, id)?;
                }
                counts.push((name.to_string(), ids.len()));
                moved_rows.insert(name.to_string(), serde_json::json!(ids));
            }
            transaction
                .execute(
                    "UPDATE patients SET merged_into_id = ?1, updated_at = ?2, updated_by = ?3, version = version + 1 WHERE id = ?4",
                    params![surviving, stamp, by, merged],
                )
                .map_err(sql_error("marking the merged record"))?;
            transaction.updated(Table::Patients, &merged)?;
            let moved_text = serde_json::Value::Object(moved_rows.clone()).to_string();
            let merge_id = transaction.insert_row(
                Table::PatientMerges,
                &[
                    ("surviving_patient_id", &surviving),
                    ("merged_patient_id", &merged),
                    ("moved_rows", &moved_text),
                ],
            )?;
            transaction.audit(transaction.entry("patient.merge")
                    .object("patient_merge", &merge_id)
                    .patient(&merged)
                    .details(serde_json::json!({ "surviving_patient_id": surviving, "merged_patient_id": merged, "moved": moved_rows })),
            )?;
            Ok((merge_id, counts))
        })?;
        Ok(MergeRecord {
            merge_id: MergeId::from_store(merge_id),
            surviving_mrn: crate::mrn::normalise(surviving_mrn),
            merged_mrn: crate::mrn::normalise(merged_mrn),
            moved,
        })
    }

    /// Undoes the merge of `merged_mrn`: every row that moved goes back; the record is live again.
    pub fn undo_merge(&mut self, merged_mrn: &str) -> Result<()> {
        if !self.permissions().contains(&Permission::PatientsMerge) {
            self.authorize("patient.unmerge", Some(Permission::PatientsMerge), None)?;
        }
        let (merged, into) = merged_patient(self.connection()?, merged_mrn)?;
        let now = self.authorize(
            "patient.unmerge",
            Some(Permission::PatientsMerge),
            Some(&merged),
        )?;
        if into.is_none() {
            return Err(Error::new(
                ErrorCode::InvalidInput,
                "this record is not merged into another",
            ));
        }
        let (merge_id, moved): (String, String) = self
            .connection()?
            .query_row(
                "SELECT id, moved_rows FROM patient_merges WHERE merged_patient_id = ?1 AND undone_at IS NULL ORDER BY created_at DESC LIMIT 1",
                [&merged],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .map_err(sql_error("finding the merge"))?;
        let moved: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&moved)
            .map_err(|e| Error::integrity(format!("the merge record is damaged: {e}")))?;
        let by = self.user().id.to_string();
        self.write(|transaction| {
            let stamp = format_timestamp(now);
            for table in MOVED_TABLES.iter().copied() {
                let name = table.name();
                for id in moved.get(name).and_then(|v| v.as_array()).into_iter().flatten().filter_map(|v| v.as_str()) {
                    transaction
                        .execute(
                            &format!("UPDATE {name} SET patient_id = ?1, updated_at = ?2, updated_by = ?3, version = version + 1 WHERE id = ?4"),
                            params![merged, stamp, by, id],
                        )
                        .map_err(sql_error("moving rows back"))?;
                    transaction.updated(table, id)?;
                }
            }
            transaction
                .execute(
                    "UPDATE patients SET merged_into_id = NULL, updated_at = ?1, updated_by = ?2, version = version + 1 WHERE id = ?3",
                    params![stamp, by, merged],
                )
                .map_err(sql_error("restoring the record"))?;
            transaction.updated(Table::Patients, &merged)?;
            transaction
                .execute(
                    "UPDATE patient_merges SET undone_at = ?1, undone_by = ?2, updated_at = ?1, updated_by = ?2, version = version + 1 WHERE id = ?3",
                    params![stamp, by, merge_id],
                )
                .map_err(sql_error("recording the undo"))?;
            transaction.updated(Table::PatientMerges, &merge_id)?;
            transaction.audit(transaction.entry("patient.unmerge")
                    .object("patient_merge", &merge_id)
                    .patient(&merged)
                    .details(serde_json::json!({ "moved_back": moved })),
            )?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_scores_prefer_the_right_person() {
        let words = |text: &str| {
            text.split_whitespace()
                .map(str::to_lowercase)
                .collect::<Vec<_>>()
        };
        let okafor = name_score(&words("ngozi okafr"), "Ngozi", "Okafor");
        let other = name_score(&words("ngozi okafr"), "Nkechi", "Obi");
        assert!(okafor > 0.9 && okafor > other, "{okafor} vs {other}");
        assert_eq!(name_score(&words("okafor ngozi"), "Ngozi", "Okafor"), 1.0);
        assert!(name_score(&words("oka"), "Ngozi", "Okafor") > 0.9);
    }
}
