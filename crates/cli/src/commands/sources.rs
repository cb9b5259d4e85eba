//! `expedite sources`: every data source, the day it was last refreshed, its age, and a
//! flag on any older than a year (`expedite_data::sources`).

use anyhow::Context;
use clap::Args;
use expedite_data::sources::{self, Freshness, STALE_AFTER_DAYS};
use serde::Serialize;

use super::metrics::as_of;
use crate::output::{self, Format};
use crate::period::DateFlag;

/// Arguments of `sources`.
#[derive(Debug, Args)]
pub struct SourcesArgs {
    /// A SIPRI trade register (CSV as exported by SIPRI), dated by its "Data generated" line.
    #[arg(long, env = "EXPEDITE_SIPRI", value_name = "PATH")]
    sipri: Option<std::path::PathBuf>,
    /// The day ages are counted to, YYYY-MM-DD (default: today, UTC).
    #[arg(long, value_parser = DateFlag)]
    as_of: Option<expedite_core::Date>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

#[derive(Debug, Serialize)]
struct SourcesOutput {
    as_of: expedite_core::Date,
    stale_after_days: i64,
    sources: Vec<Freshness>,
}

/// Runs `sources`.
pub fn run(args: SourcesArgs) -> anyhow::Result<()> {
    let today = as_of(args.as_of);
    let mut list = sources::builtin();
    if let Some(path) = &args.sipri {
        let register = expedite_data::sipri::read_path(path)
            .with_context(|| format!("--sipri: cannot read {}", path.display()))?;
        let source = sources::sipri(&register, &path.display().to_string()).with_context(|| {
            format!(
                "--sipri: {} has no readable 'Data generated' date",
                path.display()
            )
        })?;
        list.push(source);
    }
    let judged: Vec<Freshness> = list.iter().map(|source| source.freshness(today)).collect();
    match args.format {
        Format::Json => output::print_json(&SourcesOutput {
            as_of: today,
            stale_after_days: STALE_AFTER_DAYS,
            sources: judged,
        }),
        Format::Csv => output::print_csv(&CSV_COLUMNS, judged.iter().map(csv_row).collect()),
        Format::Table => {
            let mut table =
                output::table(&["source", "refreshed", "age (days)", "", "what the date is"]);
            for item in &judged {
                table.add_row(vec![
                    format!("{}: {}", item.source.id, item.source.name),
                    item.source.refreshed.to_string(),
                    item.age_days.to_string(),
                    if item.stale { "STALE" } else { "" }.to_owned(),
                    item.source.basis.clone(),
                ]);
            }
            let stale = judged.iter().filter(|item| item.stale).count();
            output::print_text(&format!(
                "{table}\n{stale} source(s) older than {STALE_AFTER_DAYS} days on {today}."
            ))
        }
    }
}

/// The CSV columns of a judged source, as `sources --format csv` and `metrics --report`
/// write them.
pub(crate) const CSV_COLUMNS: [&str; 7] = [
    "id",
    "name",
    "refreshed",
    "age_days",
    "stale",
    "basis",
    "location",
];

/// One judged source as a CSV row of [`CSV_COLUMNS`].
pub(crate) fn csv_row(item: &Freshness) -> Vec<String> {
    vec![
        item.source.id.clone(),
        item.source.name.clone(),
        item.source.refreshed.to_string(),
        item.age_days.to_string(),
        item.stale.to_string(),
        item.source.basis.clone(),
        item.source.location.clone(),
    ]
}
