//! `clinicdesk allergy …`, `medication …` and `problem …`: the chart's safety facts from the
//! command line, with the same rules, audit entries and exit codes as the desktop app.

use clap::{Args, Subcommand};
use clinicdesk_core::{
    AllergyCategory, AllergyCriticality, AllergyDetails, AllergyId, AllergySeverity, AllergyState,
    AllergyStatus, Error, MedicationDetails, MedicationId, MedicationStatus, ProblemDetails,
    ProblemId, ProblemStatus, Result, Session,
};

use crate::output::Output;

/// An allergy's fields; on `update`, the ones given replace the recorded ones.
#[derive(Args)]
pub(crate) struct AllergyFields {
    /// What the patient is allergic to ("Penicillin", "Peanuts").
    #[arg(long)]
    substance: Option<String>,
    /// A code for the substance (RxNorm, SNOMED CT…), as text.
    #[arg(long)]
    code: Option<String>,
    /// food, medication or environment.
    #[arg(long)]
    category: Option<String>,
    /// What happens ("hives", "anaphylaxis").
    #[arg(long)]
    reaction: Option<String>,
    /// mild, moderate or severe.
    #[arg(long)]
    severity: Option<String>,
    /// low, high or unable-to-assess.
    #[arg(long)]
    criticality: Option<String>,
    /// When it began, YYYY-MM-DD.
    #[arg(long)]
    onset: Option<String>,
    /// active or inactive (default active).
    #[arg(long)]
    status: Option<String>,
}

#[derive(Subcommand)]
pub(crate) enum AllergyCommand {
    /// Record an allergy (an active one withdraws "no known allergies").
    Add {
        #[arg(long)]
        patient: String,
        #[command(flatten)]
        fields: AllergyFields,
    },
    /// The patient's allergy status and every allergy recorded.
    List {
        #[arg(long)]
        patient: String,
    },
    /// Change an allergy: the fields given replace the recorded ones.
    Update {
        allergy_id: String,
        #[arg(long)]
        patient: String,
        #[command(flatten)]
        fields: AllergyFields,
    },
    /// Confirm the patient has no known allergies (refused while an allergy is active).
    NoneKnown {
        #[arg(long)]
        patient: String,
    },
    /// Mark an allergy entered-in-error (it stays in the list, never as a fact).
    MarkInError {
        allergy_id: String,
        #[arg(long)]
        reason: String,
    },
}

/// A medication's fields; on `update`, the ones given replace the recorded ones.
#[derive(Args)]
pub(crate) struct MedicationFields {
    /// The medication ("Metformin").
    #[arg(long)]
    name: Option<String>,
    /// A code (RxNorm, ATC…), as text.
    #[arg(long)]
    code: Option<String>,
    /// "500 mg".
    #[arg(long)]
    dose: Option<String>,
    /// "by mouth".
    #[arg(long)]
    route: Option<String>,
    /// "twice a day".
    #[arg(long)]
    frequency: Option<String>,
    /// YYYY-MM-DD.
    #[arg(long)]
    started: Option<String>,
    /// YYYY-MM-DD.
    #[arg(long)]
    stopped: Option<String>,
    /// Why it is taken.
    #[arg(long)]
    reason: Option<String>,
    /// active or stopped (default active).
    #[arg(long)]
    status: Option<String>,
}

#[derive(Subcommand)]
pub(crate) enum MedicationCommand {
    /// Record a medication the patient takes.
    Add {
        #[arg(long)]
        patient: String,
        #[command(flatten)]
        fields: MedicationFields,
    },
    /// The patient's medications and the last review of the list.
    List {
        #[arg(long)]
        patient: String,
    },
    /// Change a medication: the fields given replace the recorded ones.
    Update {
        medication_id: String,
        #[arg(long)]
        patient: String,
        #[command(flatten)]
        fields: MedicationFields,
    },
    /// Mark a medication entered-in-error.
    MarkInError {
        medication_id: String,
        #[arg(long)]
        reason: String,
    },
    /// Mark the medication list reviewed today (clinicians).
    Review {
        #[arg(long)]
        patient: String,
    },
}

/// A problem's fields; on `update`, the ones given replace the recorded ones.
#[derive(Args)]
pub(crate) struct ProblemFields {
    /// The problem ("Type 2 diabetes").
    #[arg(long)]
    description: Option<String>,
    /// ICD-10, such as E11 or E11.65.
    #[arg(long)]
    icd10: Option<String>,
    /// YYYY-MM-DD.
    #[arg(long)]
    onset: Option<String>,
    /// YYYY-MM-DD.
    #[arg(long)]
    resolved: Option<String>,
    /// active or resolved (default active).
    #[arg(long)]
    status: Option<String>,
}

#[derive(Subcommand)]
pub(crate) enum ProblemCommand {
    /// Record a problem.
    Add {
        #[arg(long)]
        patient: String,
        #[command(flatten)]
        fields: ProblemFields,
    },
    /// The patient's problems.
    List {
        #[arg(long)]
        patient: String,
    },
    /// Change a problem: the fields given replace the recorded ones.
    Update {
        problem_id: String,
        #[arg(long)]
        patient: String,
        #[command(flatten)]
        fields: ProblemFields,
    },
    /// Mark a problem entered-in-error.
    MarkInError {
        problem_id: String,
        #[arg(long)]
        reason: String,
    },
}

fn required(value: Option<String>, field: &str, flag: &str) -> Result<String> {
    value.ok_or_else(|| Error::invalid_field(field, format!("Give {flag}")))
}

fn parsed<T>(value: Option<String>, parse: impl Fn(&str) -> Result<T>) -> Result<Option<T>> {
    value.as_deref().map(parse).transpose()
}

/// Text given on the command line: an empty `--reaction ""` clears the field.
fn replaced(given: Option<String>, recorded: Option<String>) -> Option<String> {
    match given {
        Some(text) if text.trim().is_empty() => None,
        Some(text) => Some(text),
        None => recorded,
    }
}

fn allergy_details(
    fields: AllergyFields,
    recorded: Option<AllergyDetails>,
) -> Result<AllergyDetails> {
    let category = parsed(fields.category, AllergyCategory::from_code)?;
    let severity = parsed(fields.severity, AllergySeverity::from_code)?;
    let criticality = parsed(fields.criticality, AllergyCriticality::from_code)?;
    let status = parsed(fields.status, AllergyStatus::from_code)?;
    Ok(match recorded {
        None => AllergyDetails {
            substance: required(fields.substance, "substance", "--substance")?,
            substance_code: fields.code,
            category: category.ok_or_else(|| {
                Error::invalid_field(
                    "category",
                    "Give --category: food, medication or environment",
                )
            })?,
            reaction: fields.reaction,
            severity,
            criticality,
            onset: fields.onset,
            status: status.unwrap_or(AllergyStatus::Active),
        },
        Some(recorded) => AllergyDetails {
            substance: fields.substance.unwrap_or(recorded.substance),
            substance_code: replaced(fields.code, recorded.substance_code),
            category: category.unwrap_or(recorded.category),
            reaction: replaced(fields.reaction, recorded.reaction),
            severity: severity.or(recorded.severity),
            criticality: criticality.or(recorded.criticality),
            onset: replaced(fields.onset, recorded.onset),
            status: status.unwrap_or(recorded.status),
        },
    })
}

fn medication_details(
    fields: MedicationFields,
    recorded: Option<MedicationDetails>,
) -> Result<MedicationDetails> {
    let status = parsed(fields.status, MedicationStatus::from_code)?;
    Ok(match recorded {
        None => MedicationDetails {
            name: required(fields.name, "name", "--name")?,
            code: fields.code,
            dose: fields.dose,
            route: fields.route,
            frequency: fields.frequency,
            started_on: fields.started,
            stopped_on: fields.stopped,
            reason: fields.reason,
            status: status.unwrap_or(MedicationStatus::Active),
        },
        Some(recorded) => MedicationDetails {
            name: fields.name.unwrap_or(recorded.name),
            code: replaced(fields.code, recorded.code),
            dose: replaced(fields.dose, recorded.dose),
            route: replaced(fields.route, recorded.route),
            frequency: replaced(fields.frequency, recorded.frequency),
            started_on: replaced(fields.started, recorded.started_on),
            stopped_on: replaced(fields.stopped, recorded.stopped_on),
            reason: replaced(fields.reason, recorded.reason),
            status: status.unwrap_or(recorded.status),
        },
    })
}

fn problem_details(
    fields: ProblemFields,
    recorded: Option<ProblemDetails>,
) -> Result<ProblemDetails> {
    let status = parsed(fields.status, ProblemStatus::from_code)?;
    Ok(match recorded {
        None => ProblemDetails {
            description: required(fields.description, "description", "--description")?,
            icd10_code: fields.icd10,
            onset: fields.onset,
            resolved_on: fields.resolved,
            status: status.unwrap_or(ProblemStatus::Active),
        },
        Some(recorded) => ProblemDetails {
            description: fields.description.unwrap_or(recorded.description),
            icd10_code: replaced(fields.icd10, recorded.icd10_code),
            onset: replaced(fields.onset, recorded.onset),
            resolved_on: replaced(fields.resolved, recorded.resolved_on),
            status: status.unwrap_or(recorded.status),
        },
    })
}

fn no_such(what: &str, id: &str) -> Error {
    Error::not_found(format!("There is no {what} {id} in this patient's chart"))
}

fn state_line(state: &AllergyState) -> String {
    match state {
        AllergyState::NotRecorded => "Allergies not recorded: ask the patient.".to_owned(),
        AllergyState::NoKnownAllergies {
            confirmed_by,
            confirmed_at,
        } => format!("No known allergies (confirmed by {confirmed_by}, {confirmed_at})."),
        AllergyState::HasAllergies {
            substances,
            contradicted_by_confirmation,
            ..
        } => {
            let mut line = format!("ALLERGIES: {}", substances.join(", "));
            if *contradicted_by_confirmation {
                line.push_str(
                    "  (a \"no known allergies\" confirmation from another workstation contradicts this: check with the patient)",
                );
            }
            line
        }
    }
}

pub(crate) fn run_allergy(
    session: &mut Session,
    command: AllergyCommand,
    out: &Output,
) -> Result<()> {
    match command {
        AllergyCommand::Add { patient, fields } => {
            let details = allergy_details(fields, None)?;
            let id = session.record_allergy(&patient, &details)?;
            out.value(serde_json::json!({ "allergy_id": id }), || {
                format!("Recorded allergy to {} ({id}).", details.substance.trim())
            });
        }
        AllergyCommand::List { patient } => {
            let list = session.allergies(&patient)?;
            out.value(serde_json::to_value(&list).unwrap_or_default(), || {
                let mut text = state_line(&list.state);
                for allergy in &list.allergies {
                    let mut line = format!(
                        "\n{}  {} ({})",
                        allergy.status.code(),
                        allergy.substance,
                        allergy.category.code()
                    );
                    if let Some(reaction) = &allergy.reaction {
                        line.push_str(&format!("  reaction: {reaction}"));
                    }
                    if let Some(severity) = allergy.severity {
                        line.push_str(&format!("  severity: {}", severity.code()));
                    }
                    if let Some(criticality) = allergy.criticality {
                        line.push_str(&format!("  criticality: {}", criticality.code()));
                    }
                    line.push_str(&format!(
                        "  recorded by {} {}  [{}]",
                        allergy.recorded_by, allergy.recorded_at, allergy.id
                    ));
                    text.push_str(&line);
                }
                text
            });
        }
        AllergyCommand::Update {
            allergy_id,
            patient,
            fields,
        } => {
            let id = AllergyId::parse(&allergy_id)?;
            let recorded = session
                .allergies(&patient)?
                .allergies
                .into_iter()
                .find(|allergy| allergy.id == id)
                .ok_or_else(|| no_such("allergy", &allergy_id))?;
            let details = allergy_details(
                fields,
                Some(AllergyDetails {
                    substance: recorded.substance,
                    substance_code: recorded.substance_code,
                    category: recorded.category,
                    reaction: recorded.reaction,
                    severity: recorded.severity,
                    criticality: recorded.criticality,
                    onset: recorded.onset,
                    status: recorded.status,
                }),
            )?;
            session.update_allergy(&id, &details)?;
            out.value(serde_json::json!({ "updated": id }), || {
                "Allergy changed.".to_owned()
            });
        }
        AllergyCommand::NoneKnown { patient } => {
            session.confirm_no_known_allergies(&patient)?;
            out.value(serde_json::json!({ "no_known_allergies": patient }), || {
                "Recorded: no known allergies.".to_owned()
            });
        }
        AllergyCommand::MarkInError { allergy_id, reason } => {
            session.mark_allergy_in_error(&AllergyId::parse(&allergy_id)?, &reason)?;
            out.value(
                serde_json::json!({ "entered_in_error": allergy_id }),
                || "Marked entered-in-error.".to_owned(),
            );
        }
    }
    Ok(())
}

pub(crate) fn run_medication(
    session: &mut Session,
    command: MedicationCommand,
    out: &Output,
) -> Result<()> {
    match command {
        MedicationCommand::Add { patient, fields } => {
            let details = medication_details(fields, None)?;
            let id = session.record_medication(&patient, &details)?;
            out.value(serde_json::json!({ "medication_id": id }), || {
                format!("Recorded {} ({id}).", details.name.trim())
            });
        }
        MedicationCommand::List { patient } => {
            let list = session.medications(&patient)?;
            out.value(serde_json::to_value(&list).unwrap_or_default(), || {
                let mut text = match &list.last_review {
                    Some(review) => format!(
                        "Reviewed by {} at {}.",
                        review.reviewed_by, review.reviewed_at
                    ),
                    None => "The list has never been reviewed.".to_owned(),
                };
                for m in &list.medications {
                    let parts: Vec<&str> = [&m.dose, &m.route, &m.frequency]
                        .into_iter()
                        .filter_map(|part| part.as_deref())
                        .collect();
                    text.push_str(&format!(
                        "\n{}{}  {}  {}  recorded by {}  [{}]",
                        if m.changed_since_review { "* " } else { "" },
                        m.status.code(),
                        m.name,
                        parts.join(", "),
                        m.recorded_by,
                        m.id
                    ));
                }
                if list.medications.iter().any(|m| m.changed_since_review) {
                    text.push_str("\n* entered or changed by someone else since the last review");
                }
                text
            });
        }
        MedicationCommand::Update {
            medication_id,
            patient,
            fields,
        } => {
            let id = MedicationId::parse(&medication_id)?;
            let recorded = session
                .medications(&patient)?
                .medications
                .into_iter()
                .find(|m| m.id == id)
                .ok_or_else(|| no_such("medication", &medication_id))?;
            let details = medication_details(
                fields,
                Some(MedicationDetails {
                    name: recorded.name,
                    code: recorded.code,
                    dose: recorded.dose,
                    route: recorded.route,
                    frequency: recorded.frequency,
                    started_on: recorded.started_on,
                    stopped_on: recorded.stopped_on,
                    reason: recorded.reason,
                    status: recorded.status,
                }),
            )?;
            session.update_medication(&id, &details)?;
            out.value(serde_json::json!({ "updated": id }), || {
                "Medication changed.".to_owned()
            });
        }
        MedicationCommand::MarkInError {
            medication_id,
            reason,
        } => {
            session.mark_medication_in_error(&MedicationId::parse(&medication_id)?, &reason)?;
            out.value(
                serde_json::json!({ "entered_in_error": medication_id }),
                || "Marked entered-in-error.".to_owned(),
            );
        }
        MedicationCommand::Review { patient } => {
            session.review_medications(&patient)?;
            out.value(serde_json::json!({ "reviewed": patient }), || {
                "Medication list marked reviewed.".to_owned()
            });
        }
    }
    Ok(())
}

pub(crate) fn run_problem(
    session: &mut Session,
    command: ProblemCommand,
    out: &Output,
) -> Result<()> {
    match command {
        ProblemCommand::Add { patient, fields } => {
            let details = problem_details(fields, None)?;
            let id = session.record_problem(&patient, &details)?;
            out.value(serde_json::json!({ "problem_id": id }), || {
                format!("Recorded {} ({id}).", details.description.trim())
            });
        }
        ProblemCommand::List { patient } => {
            let problems = session.problems(&patient)?;
            out.value(serde_json::to_value(&problems).unwrap_or_default(), || {
                if problems.is_empty() {
                    return "No problems recorded.".to_owned();
                }
                problems
                    .iter()
                    .map(|p| {
                        format!(
                            "{}  {}{}{}  [{}]",
                            p.status.code(),
                            p.description,
                            p.icd10_code
                                .as_deref()
                                .map(|code| format!(" ({code})"))
                                .unwrap_or_default(),
                            p.onset
                                .as_deref()
                                .map(|onset| format!("  since {onset}"))
                                .unwrap_or_default(),
                            p.id
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        ProblemCommand::Update {
            problem_id,
            patient,
            fields,
        } => {
            let id = ProblemId::parse(&problem_id)?;
            let recorded = session
                .problems(&patient)?
                .into_iter()
                .find(|p| p.id == id)
                .ok_or_else(|| no_such("problem", &problem_id))?;
            let details = problem_details(
                fields,
                Some(ProblemDetails {
                    description: recorded.description,
                    icd10_code: recorded.icd10_code,
                    onset: recorded.onset,
                    resolved_on: recorded.resolved_on,
                    status: recorded.status,
                }),
            )?;
            session.update_problem(&id, &details)?;
            out.value(serde_json::json!({ "updated": id }), || {
                "Problem changed.".to_owned()
            });
        }
        ProblemCommand::MarkInError { problem_id, reason } => {
            session.mark_problem_in_error(&ProblemId::parse(&problem_id)?, &reason)?;
            out.value(
                serde_json::json!({ "entered_in_error": problem_id }),
                || "Marked entered-in-error.".to_owned(),
            );
        }
    }
    Ok(())
}
