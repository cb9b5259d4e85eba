//! `expedite dsca list|summary`: DSCA congressional notifications of proposed sales,
//! 2022–2025, shipped with expedite with the source address of each.

use anyhow::Context;
use clap::{Args, Subcommand};
use expedite_core::Country;
use expedite_data::dsca::{self, Notification, NotificationFilter, SampleInfo, SummaryRow};

use crate::output::print_csv;
use crate::output::{self, Format, Source};
use crate::period::{self, YearOrDate};

const CREDIT: &str = "Source: DSCA Major Arms Sales notifications (AECA 36(b)), via the source address of each row; \
values are notified ceilings.";

/// The `dsca` subcommands.
#[derive(Debug, Subcommand)]
pub enum DscaCommand {
    /// The notifications that match the filters.
    List(FilterArgs),
    /// Count and notified value by purchaser and year.
    Summary(FilterArgs),
}

/// Filters of `dsca list` and `dsca summary`.
#[derive(Debug, Args)]
pub struct FilterArgs {
    /// Purchaser: ISO3 code (e.g. POL) or name; repeat for several.
    #[arg(long = "purchaser", value_name = "ISO3")]
    purchasers: Vec<String>,
    /// Announced on or after: a date (YYYY-MM-DD) or a year (from its first day).
    #[arg(long, value_name = "DATE|YEAR")]
    from: Option<YearOrDate>,
    /// Announced on or before: a date (YYYY-MM-DD) or a year (to its last day).
    #[arg(long, value_name = "DATE|YEAR")]
    to: Option<YearOrDate>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// Runs a `dsca` subcommand.
pub fn run(command: DscaCommand) -> anyhow::Result<()> {
    let all = dsca::builtin().context("the shipped DSCA notifications")?;
    let sample = SampleInfo::of(&all);
    match command {
        DscaCommand::List(args) => list(&matching(&all, &args)?, args.format, &sample),
        DscaCommand::Summary(args) => summary(&matching(&all, &args)?, args.format, &sample),
    }
}

/// The shipped sample as a source: its size and the span of its dates.
fn sample_source(sample: &SampleInfo) -> Source {
    let name = format!(
        "DSCA Major Arms Sales notifications, the sample of {} shipped with expedite",
        sample.notifications
    );
    match (sample.first_date, sample.last_date) {
        (Some(first), Some(last)) => Source::new(name, format!("{first} to {last}")),
        _ => Source::undated(name),
    }
}

/// What the totals cover, for people.
fn sample_line(sample: &SampleInfo) -> String {
    let span = match (sample.first_date, sample.last_date) {
        (Some(first), Some(last)) => format!(", announced {first} to {last}"),
        _ => String::new(),
    };
    format!(
        "Totals of the sample shipped with expedite ({} notifications{span}), not of every sale notified.",
        sample.notifications
    )
}

fn matching<'a>(
    all: &'a [Notification],
    args: &FilterArgs,
) -> anyhow::Result<Vec<&'a Notification>> {
    let purchasers = args
        .purchasers
        .iter()
        .map(|text| Country::parse(text).context("--purchaser"))
        .collect::<anyhow::Result<Vec<_>>>()?;
    period::check_range(args.from, args.to)?;
    let filter = NotificationFilter {
        purchasers,
        from: args.from.map(YearOrDate::first_day),
        to: args.to.map(YearOrDate::last_day),
    };
    Ok(all
        .iter()
        .filter(|notification| filter.matches(notification))
        .collect())
}

fn list(
    notifications: &[&Notification],
    format: Format,
    sample: &SampleInfo,
) -> anyhow::Result<()> {
    match format {
        Format::Json => output::print_json_with_sources(
            &serde_json::json!({ "notifications": notifications }),
            &[sample_source(sample)],
        ),
        Format::Csv => print_csv(
            &[
                "date",
                "purchaser",
                "iso3",
                "item",
                "quantity",
                "value_usd",
                "source_url",
            ],
            notifications
                .iter()
                .map(|n| notification_cells(n, true))
                .collect(),
        ),
        Format::Table => {
            let mut table = output::table(&["date", "purchaser", "item", "quantity", "value"]);
            for notification in notifications {
                table.add_row(notification_cells(notification, false));
            }
            let notes = output::notes(&format!(
                "{} notifications.\n{}\n{CREDIT}",
                notifications.len(),
                sample_line(sample).replace("Totals of the sample", "From the sample")
            ));
            output::print_text(&format!("{table}\n{notes}"))
        }
    }
}

fn notification_cells(notification: &Notification, machine: bool) -> Vec<String> {
    let date = notification
        .date
        .map_or_else(|| "undated".to_owned(), |date| date.to_string());
    let quantity = notification.quantity.clone().unwrap_or_default();
    let value = notification.value_usd.map_or_else(String::new, |value| {
        if machine {
            (value.cents() / 100).to_string()
        } else {
            value.to_string()
        }
    });
    if machine {
        vec![
            date,
            notification.purchaser.clone(),
            notification.country.iso3().to_owned(),
            notification.item.clone(),
            quantity,
            value,
            notification.source_url.clone(),
        ]
    } else {
        vec![
            date,
            notification.purchaser.clone(),
            notification.item.clone(),
            quantity,
            value,
        ]
    }
}

fn summary(
    notifications: &[&Notification],
    format: Format,
    sample: &SampleInfo,
) -> anyhow::Result<()> {
    let rows = dsca::summary(notifications.iter().copied())?;
    match format {
        Format::Json => output::print_json_with_sources(
            &serde_json::json!({ "summary": rows, "sample": sample }),
            &[sample_source(sample)],
        ),
        Format::Csv => print_csv(
            &[
                "iso3",
                "purchaser",
                "year",
                "count",
                "total_value_usd",
                "without_value",
            ],
            rows.iter().map(|row| summary_cells(row, true)).collect(),
        ),
        Format::Table => {
            let mut table = output::table(&[
                "ISO3",
                "purchaser",
                "year",
                "count",
                "notified value",
                "without value",
            ]);
            for row in &rows {
                table.add_row(summary_cells(row, false));
            }
            let notes = output::notes(&format!("{}\n{CREDIT}", sample_line(sample)));
            output::print_text(&format!("{table}\n{notes}"))
        }
    }
}

fn summary_cells(row: &SummaryRow, machine: bool) -> Vec<String> {
    let value = if machine {
        (row.total_value_usd.cents() / 100).to_string()
    } else {
        row.total_value_usd.to_string()
    };
    vec![
        row.iso3.to_owned(),
        row.purchaser.clone(),
        row.year
            .map_or_else(|| "undated".to_owned(), |year| year.to_string()),
        row.count.to_string(),
        value,
        row.without_value.to_string(),
    ]
}
