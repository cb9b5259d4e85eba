//! `expedite alerts`: deadline alerts on the stored cases: a SAMM target, the end of a
//! congressional review or an offer's expiration date that is near or was missed.
//!
//! Alerts are dated by the case's own events and the deadline (`expedite_core::alerts`), so
//! `--since` the last look lists only what became true since. Alerts on forecast changes
//! (a delivery P50 moving, a queue position changing) need stored forecasts and are not
//! here yet.

use anyhow::Context;
use clap::Args;
use expedite_core::alerts::{Alert, DEFAULT_NEAR_DAYS};
use expedite_core::{Date, RuleBook};
use expedite_data::sources::Freshness;
use expedite_store::Scope;
use expedite_store::history;
use serde::Serialize;

use super::metrics::{as_of, open_store, store_source};
use crate::output::{self, Format};

/// Arguments of `alerts`.
#[derive(Debug, Args)]
pub struct AlertsArgs {
    /// Database URL: sqlite://PATH or postgres://…
    #[arg(long, env = "EXPEDITE_DB", default_value = "sqlite://expedite.db")]
    db: String,
    /// Only alerts raised on or after this day, YYYY-MM-DD (e.g. the day of the last look).
    #[arg(long)]
    since: Option<String>,
    /// Warn this many days before a deadline.
    #[arg(long, default_value_t = DEFAULT_NEAR_DAYS)]
    near_days: i64,
    /// The day alerts are judged on, YYYY-MM-DD (default: today, UTC).
    #[arg(long)]
    as_of: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

#[derive(Debug, Serialize)]
struct AlertsOutput {
    as_of: Date,
    since: Option<Date>,
    alerts: Vec<Alert>,
    sources: Vec<Freshness>,
}

/// Runs `alerts`.
pub fn run(args: AlertsArgs) -> anyhow::Result<()> {
    let today = as_of(args.as_of.as_deref())?;
    let since = args
        .since
        .as_deref()
        .map(|text| {
            text.parse::<Date>()
                .with_context(|| format!("--since: '{text}' is not a date of the form YYYY-MM-DD"))
        })
        .transpose()?;
    if !(0..=365).contains(&args.near_days) {
        anyhow::bail!("--near-days: must be between 0 and 365");
    }
    let rules = RuleBook::builtin()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (alerts, newest) = runtime.block_on(async {
        let store = open_store(&args.db).await?;
        let alerts = history::alerts_for(
            &store,
            Scope::All,
            rules.samm(),
            today,
            since,
            args.near_days,
        )
        .await?;
        let newest = history::newest_recording(&store, Scope::All).await?;
        store.close().await;
        anyhow::Ok((alerts, newest))
    })?;
    let sources: Vec<Freshness> = store_source(&args.db, newest)
        .into_iter()
        .map(|source| source.freshness(today))
        .collect();
    match args.format {
        Format::Json => output::print_json(&AlertsOutput {
            as_of: today,
            since,
            alerts,
            sources,
        }),
        Format::Csv => output::print_csv(
            &[
                "raised_on",
                "case",
                "purchaser",
                "kind",
                "status",
                "due",
                "message",
                "rule",
                "confidence",
            ],
            alerts
                .iter()
                .map(|alert| {
                    vec![
                        alert.raised_on.to_string(),
                        alert.case.to_string(),
                        alert.purchaser.to_owned(),
                        alert.kind.as_str().to_owned(),
                        status_word(alert).to_owned(),
                        alert.due.to_string(),
                        alert.message.clone(),
                        alert.rule.clone(),
                        confidence_word(alert).to_owned(),
                    ]
                })
                .collect(),
        ),
        Format::Table => {
            let mut table = output::table(&["raised", "case", "deadline", "status", "due", "what"]);
            for alert in &alerts {
                table.add_row(vec![
                    alert.raised_on.to_string(),
                    alert.case.to_string(),
                    alert.kind.as_str().to_owned(),
                    status_word(alert).to_owned(),
                    alert.due.to_string(),
                    alert.message.clone(),
                ]);
            }
            let mut text = if alerts.is_empty() {
                format!(
                    "no alerts raised{} up to {today}",
                    since.map(|day| format!(" since {day}")).unwrap_or_default()
                )
            } else {
                table.to_string()
            };
            for source in &sources {
                text.push_str(&format!(
                    "\nSource: {} ({}), refreshed {}{}.",
                    source.source.name,
                    source.source.location,
                    source.source.refreshed,
                    if source.stale { ", STALE" } else { "" }
                ));
            }
            output::print_text(&text)
        }
    }
}

fn status_word(alert: &Alert) -> &'static str {
    match alert.status {
        expedite_core::alerts::AlertStatus::Near => "near",
        expedite_core::alerts::AlertStatus::Missed => "missed",
    }
}

fn confidence_word(alert: &Alert) -> &'static str {
    match alert.confidence {
        expedite_core::rules::Confidence::Confirmed => "confirmed",
        expedite_core::rules::Confidence::Low => "low",
        expedite_core::rules::Confidence::Unconfirmed => "unconfirmed",
    }
}
