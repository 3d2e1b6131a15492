//! `clinicdesk demo-data`: a generated clinic and its demo staff, for trying Clinicdesk.

use clinicdesk_core::{Result, Session};

use crate::output::Output;

pub(crate) fn run_demo_data(
    session: &mut Session,
    size: &str,
    seed: u64,
    out: &Output,
) -> Result<()> {
    let size = clinicdesk_core::DemoSize::from_name(size)?;
    let staff = session.add_demo_staff()?;
    let started = std::time::Instant::now();
    let summary = session.generate_demo_data(
        size,
        seed,
        Some("demo.nurse"),
        Some("demo.doctor"),
        |rows| {
            if !out.json {
                crate::output::notice(&format!("\r{rows} rows written…"));
            }
        },
    )?;
    let seconds = started.elapsed().as_secs_f64();
    if !out.json {
        crate::output::notice("\n");
    }
    out.value(
        serde_json::json!({
            "summary": summary,
            "seconds": seconds,
            "rows_per_second": summary.rows as f64 / seconds.max(0.001),
            "staff": staff,
        }),
        || {
            let mut text = format!(
                "Generated {} patients, {} appointments, {} vitals sets ({} observations), {} notes: {} rows in {:.1} s ({:.0} rows/s).\n\nDemo staff (each chooses a new password at first login):\n",
                summary.patients, summary.appointments, summary.vitals_sets, summary.observations, summary.notes, summary.rows, seconds,
                summary.rows as f64 / seconds.max(0.001)
            );
            for member in &staff {
                text.push_str(&format!("  {:<16} {:<11} {}\n", member.username, member.role, member.temporary_password));
            }
            text.trim_end().to_owned()
        },
    );
    Ok(())
}
