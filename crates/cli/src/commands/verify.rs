//! `expedite verify`: checks a whole case database against its history key.
//!
//! Every case's event chain, its row and its lines, and the ledger record over all cases.
//! Prints the first broken link of each broken case and what is wrong beyond single cases
//! (a missing table, a deleted case), then the ledger head to keep outside the database.
//! Exit codes: 0 everything verifies, 3 something does not, 1 the database or the key
//! cannot be reached, 2 bad usage.

use clap::Args;
use expedite_store::Store;

use super::database::{Access, DbArgs};
use crate::output::{self, Format};

/// Arguments of `verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// The history does not verify (exit code 3).
#[derive(Debug, thiserror::Error)]
#[error("the history does not verify: {0}")]
pub struct NotVerified(pub String);

/// Runs `verify`.
pub fn run(args: VerifyArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(verify(args))
}

async fn verify(args: VerifyArgs) -> anyhow::Result<()> {
    let store = args.db.open(Access::Existing { needs_key: true }).await?;
    let report = store.verify_all().await.map_err(|error| {
        output::RuntimeFailure(anyhow::anyhow!("verifying {}: {error}", args.db.shown()))
    });
    store.close().await;
    let report = report?;
    let broken: Vec<_> = report.cases.iter().filter(|case| !case.valid).collect();
    match args.format {
        Format::Json => output::print_json(&serde_json::json!({
            "verification": report,
            "sources": [{"name": args.db.shown(), "date": jiff::Timestamp::now()}],
        }))?,
        Format::Csv => output::print_csv(
            &["case", "events", "valid", "seq", "reason"],
            report
                .cases
                .iter()
                .map(|case| {
                    vec![
                        case.case.to_string(),
                        case.events.to_string(),
                        case.valid.to_string(),
                        case.broken
                            .as_ref()
                            .map(|link| link.seq.to_string())
                            .unwrap_or_default(),
                        case.broken
                            .as_ref()
                            .map(|link| link.reason.clone())
                            .unwrap_or_default(),
                    ]
                })
                .collect(),
        )?,
        Format::Table => {
            let mut lines = Vec::new();
            for case in &broken {
                if let Some(link) = &case.broken {
                    lines.push(format!(
                        "{}: broken at {}: {}",
                        case.case, link.seq, link.reason
                    ));
                }
            }
            for problem in &report.problems {
                lines.push(format!("database: {problem}"));
            }
            lines.push(format!(
                "{} case(s) checked, {} broken; ledger head: {} case(s), digest {}",
                report.cases.len(),
                broken.len(),
                report.head.cases,
                report.head.digest
            ));
            output::print_text(&lines.join("\n"))?;
        }
    }
    if report.valid {
        Ok(())
    } else {
        Err(NotVerified(format!(
            "{} broken case(s), {} database problem(s)",
            broken.len(),
            report.problems.len()
        ))
        .into())
    }
}
