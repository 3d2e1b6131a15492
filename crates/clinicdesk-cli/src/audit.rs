//! `clinicdesk audit …`: list, verify and export the audit trail, and a patient's access report.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use clinicdesk_cli::arguments::moment;
use clinicdesk_core::{AuditFilter, Error, ErrorCode, Result, Session};

use crate::output::Output;

#[derive(Args)]
pub(crate) struct AuditFilterArgs {
    #[arg(long)]
    user: Option<String>,
    /// A patient's MRN.
    #[arg(long)]
    patient: Option<String>,
    /// An action (`login.failure`) or a family ending in a dot (`login.`).
    #[arg(long)]
    action: Option<String>,
    /// From this time (RFC 3339, e.g. 2026-11-01T00:00:00Z).
    #[arg(long)]
    from: Option<String>,
    /// Up to (not including) this time.
    #[arg(long)]
    to: Option<String>,
    #[arg(long, value_parser = clinicdesk_cli::arguments::count)]
    limit: Option<u32>,
}

#[derive(Subcommand)]
pub(crate) enum AuditCommand {
    /// Check the hash chain; exit 6 and the first bad entry when tampered.
    Verify,
    List(AuditFilterArgs),
    Export {
        #[arg(long, default_value = "csv")]
        format: String,
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        filter: AuditFilterArgs,
    },
    /// Who saw this patient's record, and when.
    AccessReport {
        #[arg(long)]
        patient: String,
    },
}

fn audit_filter(session: &mut Session, args: AuditFilterArgs) -> Result<AuditFilter> {
    let patient_id = match args.patient {
        Some(mrn) => Some(session.patient_id_for_mrn(&mrn)?),
        None => None,
    };
    Ok(AuditFilter {
        username: args.user,
        patient_id,
        action: args.action,
        from: args
            .from
            .as_deref()
            .map(|text| moment(text, "--from"))
            .transpose()?,
        to: args
            .to
            .as_deref()
            .map(|text| moment(text, "--to"))
            .transpose()?,
        limit: args.limit,
    })
}

pub(crate) fn run_audit(session: &mut Session, command: AuditCommand, out: &Output) -> Result<()> {
    match command {
        AuditCommand::Verify => {
            let verified = session.audit_verify()?;
            out.value(serde_json::to_value(&verified).unwrap_or_default(), || {
                format!(
                    "The audit trail is intact: {} entries, chain head {}.",
                    verified.entries, verified.head_hash
                )
            });
        }
        AuditCommand::List(args) => {
            let filter = audit_filter(session, args)?;
            let listing = session.audit_list(&filter)?;
            out.value(serde_json::to_value(&listing).unwrap_or_default(), || {
                let mut text = String::new();
                for entry in &listing.entries {
                    text.push_str(&format!(
                        "#{:<6} {} {:<16} {:<24} {:<8} {}\n",
                        entry.seq,
                        entry.occurred_at,
                        entry.username.as_deref().unwrap_or("-"),
                        entry.action,
                        entry.outcome,
                        what_it_concerned(entry)
                    ));
                }
                if listing.entries.is_empty() {
                    text.push_str("No audit entries match.\n");
                }
                if listing.hidden_from_your_role > 0 {
                    text.push_str(&format!(
                        "{} more entries match but are not security events, so your role does not see them (the gaps in the numbers).\n",
                        listing.hidden_from_your_role
                    ));
                }
                text.trim_end().to_owned()
            });
        }
        AuditCommand::Export {
            format,
            out: path,
            filter,
        } => {
            if format != "csv" {
                return Err(Error::new(
                    ErrorCode::Usage,
                    format!("export format {format:?} is not supported; use --format csv"),
                ));
            }
            let filter = audit_filter(session, filter)?;
            match path {
                Some(path) => {
                    let file = std::fs::File::create(&path).map_err(|error| {
                        Error::invalid_input(format!("cannot write {}: {error}", path.display()))
                    })?;
                    let count = session.audit_export_csv(&filter, file)?;
                    crate::output::notice(&format!(
                        "Exported {count} entries to {}\n",
                        path.display()
                    ));
                }
                None => {
                    let mut buffer = Vec::new();
                    session.audit_export_csv(&filter, &mut buffer)?;
                    out.bytes(&buffer);
                }
            }
        }
        AuditCommand::AccessReport { patient } => {
            let lines = session.access_report(&patient)?;
            out.value(serde_json::to_value(&lines).unwrap_or_default(), || {
                let mut text = String::new();
                for line in &lines {
                    text.push_str(&format!(
                        "{} {:<16} {:<24} {:<20} {}\n",
                        line.occurred_at,
                        line.username.as_deref().unwrap_or("-"),
                        line.action,
                        line.workstation,
                        line.outcome
                    ));
                }
                if text.is_empty() {
                    "Nobody has accessed this record.".to_owned()
                } else {
                    text.trim_end().to_owned()
                }
            });
        }
    }
    Ok(())
}

/// The object an entry concerns; for a refusal, the operation that was refused.
fn what_it_concerned(entry: &clinicdesk_core::AuditEntry) -> String {
    if entry.outcome == "denied" {
        let details: serde_json::Value = serde_json::from_str(&entry.details).unwrap_or_default();
        if let Some(operation) = details["operation"].as_str() {
            return format!("refused: {}", operation.replace(['.', '_'], " "));
        }
    }
    entry.object_id.clone().unwrap_or_default()
}
