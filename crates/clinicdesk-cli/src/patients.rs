//! `clinicdesk patient …` and `clinicdesk emergency …`: registration with the likely-duplicate
//! check, charts, search, demographics, restriction and care team, deleting, merging; emergency
//! access to restricted charts and its review.

use clap::Subcommand;
use clinicdesk_core::{DemographicsChange, Error, GrantId, Result, Session, Sex};

use crate::output::Output;

#[derive(Subcommand)]
pub(crate) enum PatientCommand {
    /// Register a patient; prints the new MRN as the last line. A likely duplicate is exit 7.
    Add {
        #[arg(long)]
        given: String,
        #[arg(long)]
        family: String,
        /// Date of birth, YYYY-MM-DD.
        #[arg(long)]
        dob: String,
        /// female, male, other or unknown.
        #[arg(long)]
        sex: String,
        #[arg(long)]
        phone: Option<String>,
        /// Only the care team may open the chart.
        #[arg(long)]
        restricted: bool,
        /// Register even though a similar record exists.
        #[arg(long)]
        confirm_not_duplicate: bool,
    },
    /// Open a chart (audited).
    Show { mrn: String },
    /// Restrict a chart to its care team (or lift the restriction with --lift).
    Restrict {
        mrn: String,
        #[arg(long)]
        lift: bool,
    },
    #[command(flatten)]
    Record(PatientRecordCommand),
    /// Name a user on a patient's care team.
    CareTeamAdd {
        mrn: String,
        username: String,
        #[arg(long, default_value = "clinician")]
        care_role: String,
    },
}

/// Extra patient commands: search, update, delete, merge.
#[derive(Subcommand)]
pub(crate) enum PatientRecordCommand {
    /// Find patients by name (typos welcome), MRN, date of birth or phone; best 20.
    Search {
        query: Vec<String>,
    },
    Update {
        mrn: String,
        #[arg(long)]
        given: Option<String>,
        #[arg(long)]
        family: Option<String>,
        #[arg(long)]
        dob: Option<String>,
        #[arg(long)]
        sex: Option<String>,
        #[arg(long)]
        phone: Option<String>,
        #[arg(long)]
        expect_version: Option<i64>,
    },
    /// Delete a record registered by mistake (kept, hidden).
    Delete {
        mrn: String,
        #[arg(long)]
        reason: String,
    },
    /// Merge MERGED into SURVIVING (managers); undo with `patient unmerge MERGED`.
    Merge {
        surviving: String,
        merged: String,
    },
    Unmerge {
        merged: String,
    },
}

#[derive(Subcommand)]
pub(crate) enum EmergencyCommand {
    /// Open a restricted chart in an emergency; the reason is required and reviewed.
    Open {
        #[arg(long)]
        patient: String,
        #[arg(long)]
        reason: String,
    },
    /// Grants waiting for review (--all: reviewed ones too).
    List {
        #[arg(long)]
        all: bool,
    },
    /// Record your review of a grant.
    Review {
        grant_id: String,
        #[arg(long)]
        note: String,
    },
}

fn print_chart(out: &Output, chart: &clinicdesk_core::Chart) {
    let d = &chart.demographics;
    out.value(serde_json::to_value(chart).unwrap_or_default(), || {
        format!(
            "{} {}   MRN {}\nBorn {}   Sex {}{}\nPhone: {}",
            d.given_name,
            d.family_name,
            d.mrn,
            d.date_of_birth,
            d.sex,
            if d.restricted { "   RESTRICTED" } else { "" },
            if d.phones.is_empty() {
                "-".to_owned()
            } else {
                d.phones.join(", ")
            }
        )
    });
}

pub(crate) fn run_patient(
    session: &mut Session,
    command: PatientCommand,
    out: &Output,
) -> Result<()> {
    match command {
        PatientCommand::Add {
            given,
            family,
            dob,
            sex,
            phone,
            restricted,
            confirm_not_duplicate,
        } => {
            let new = clinicdesk_core::NewPatient {
                given_name: given,
                family_name: family,
                date_of_birth: dob,
                sex: clinicdesk_core::Sex::from_code(&sex)?,
                phone,
                restricted,
            };
            match session.register_patient(&new, confirm_not_duplicate)? {
                clinicdesk_core::Registration::Registered { patient_id, mrn } => {
                    out.value(
                        serde_json::json!({ "patient_id": patient_id, "mrn": mrn }),
                        || {
                            format!(
                                "Registered {} {}. MRN:\n{mrn}",
                                new.given_name.trim(),
                                new.family_name.trim()
                            )
                        },
                    );
                    Ok(())
                }
                clinicdesk_core::Registration::LikelyDuplicates { candidates } => {
                    let list: Vec<String> = candidates
                        .iter()
                        .map(|c| {
                            format!(
                                "MRN {} {} {}, born {} ({})",
                                c.mrn, c.given_name, c.family_name, c.date_of_birth, c.why
                            )
                        })
                        .collect();
                    if out.json {
                        out.value(
                            serde_json::to_value(&candidates).unwrap_or_default(),
                            String::new,
                        );
                    }
                    Err(Error::conflict(format!(
                        "nothing was registered: this looks like an existing patient: {}. If it is a different person, run again with --confirm-not-duplicate",
                        list.join("; ")
                    )))
                }
            }
        }
        PatientCommand::Record(command) => run_patient_record(session, command, out),
        PatientCommand::Show { mrn } => {
            let chart = session.open_chart(&mrn)?;
            print_chart(out, &chart);
            Ok(())
        }
        PatientCommand::Restrict { mrn, lift } => {
            session.set_patient_restricted(&mrn, !lift)?;
            out.value(
                serde_json::json!({ "mrn": mrn, "restricted": !lift }),
                || {
                    if lift {
                        format!("The chart of {mrn} is open to all clinical staff again.")
                    } else {
                        format!("The chart of {mrn} is now restricted to its care team.")
                    }
                },
            );
            Ok(())
        }
        PatientCommand::CareTeamAdd {
            mrn,
            username,
            care_role,
        } => {
            session.add_care_team_member(&mrn, &username, &care_role)?;
            out.value(
                serde_json::json!({ "mrn": mrn, "username": username, "care_role": care_role }),
                || format!("{username} is on the care team of {mrn} ({care_role})."),
            );
            Ok(())
        }
    }
}

fn run_patient_record(
    session: &mut Session,
    command: PatientRecordCommand,
    out: &Output,
) -> Result<()> {
    match command {
        PatientRecordCommand::Search { query } => {
            let hits = session.search_patients(&query.join(" "))?;
            out.value(serde_json::to_value(&hits).unwrap_or_default(), || {
                if hits.is_empty() {
                    return "No patients match.".to_owned();
                }
                hits.iter()
                    .map(|h| {
                        format!(
                            "MRN {}  {:<28} born {}  {}{}",
                            h.mrn,
                            format!("{} {}", h.given_name, h.family_name),
                            h.date_of_birth,
                            h.phone.as_deref().unwrap_or(""),
                            if h.restricted { "  RESTRICTED" } else { "" }
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        PatientRecordCommand::Update {
            mrn,
            given,
            family,
            dob,
            sex,
            phone,
            expect_version,
        } => {
            let change = DemographicsChange {
                given_name: given,
                family_name: family,
                date_of_birth: dob,
                sex: sex.as_deref().map(Sex::from_code).transpose()?,
                phone,
            };
            session.update_demographics(&mrn, &change, expect_version)?;
            out.value(serde_json::json!({ "updated": mrn }), || {
                format!("Updated {mrn}.")
            });
        }
        PatientRecordCommand::Delete { mrn, reason } => {
            session.delete_patient(&mrn, &reason)?;
            out.value(serde_json::json!({ "deleted": mrn }), || {
                format!("{mrn} is deleted (kept in the store, hidden from search).")
            });
        }
        PatientRecordCommand::Merge { surviving, merged } => {
            let record = session.merge_patients(&surviving, &merged)?;
            out.value(serde_json::to_value(&record).unwrap_or_default(), || {
                let moved: Vec<String> = record
                    .moved
                    .iter()
                    .filter(|(_, n)| *n > 0)
                    .map(|(t, n)| format!("{n} {}", t.replace('_', " ")))
                    .collect();
                format!(
                    "Merged {} into {}; moved {}. Undo with: clinicdesk patient unmerge {}",
                    record.merged_mrn,
                    record.surviving_mrn,
                    if moved.is_empty() {
                        "nothing".into()
                    } else {
                        moved.join(", ")
                    },
                    record.merged_mrn
                )
            });
        }
        PatientRecordCommand::Unmerge { merged } => {
            session.undo_merge(&merged)?;
            out.value(serde_json::json!({ "unmerged": merged }), || {
                format!("{merged} is a record of its own again.")
            });
        }
    }
    Ok(())
}
pub(crate) fn run_emergency(
    session: &mut Session,
    command: EmergencyCommand,
    out: &Output,
) -> Result<()> {
    let describe = |g: &clinicdesk_core::EmergencyGrant| {
        format!(
            "{}  {}  MRN {}  until {}  reason: {}{}",
            g.id,
            g.username,
            g.mrn,
            g.expires_at,
            g.reason,
            match (&g.reviewed_by, &g.review_note) {
                (Some(by), note) =>
                    format!("  [reviewed by {by}: {}]", note.as_deref().unwrap_or("")),
                _ => "  [awaiting review]".to_owned(),
            }
        )
    };
    match command {
        EmergencyCommand::Open { patient, reason } => {
            let grant = session.request_emergency_access(&patient, &reason)?;
            let chart = session.open_chart(&patient)?;
            crate::output::notice(&format!(
                "Emergency access until {} UTC. This access is recorded and will be reviewed.\n",
                grant.expires_at
            ));
            print_chart(out, &chart);
        }
        EmergencyCommand::List { all } => {
            let grants = session.emergency_access_for_review(all)?;
            out.value(serde_json::to_value(&grants).unwrap_or_default(), || {
                if grants.is_empty() {
                    "No emergency access awaits review.".to_owned()
                } else {
                    grants.iter().map(describe).collect::<Vec<_>>().join("\n")
                }
            });
        }
        EmergencyCommand::Review { grant_id, note } => {
            let grant =
                session.mark_emergency_access_reviewed(&GrantId::parse(&grant_id)?, &note)?;
            out.value(serde_json::to_value(&grant).unwrap_or_default(), || {
                describe(&grant)
            });
        }
    }
    Ok(())
}
