//! `expedite alerts`: alerts on the stored cases: a SAMM target, the end of a congressional
//! review or an offer's expiration date that is near or was missed (`expedite_core::alerts`),
//! and a kept forecast whose delivery P50 moved past `--threshold-days`, whose place in a
//! line's queue changed, or whose first-delivery P50 passed the first delivery promised
//! (`expedite_core::forecast_alerts`).
//!
//! Deadline alerts are dated by the case's own events and the deadline, forecast alerts by
//! the day of the forecast that raised them, so `--since` the last look lists only what
//! became true since. The service keeps a forecast of every case after each recompute;
//! `--refresh` computes and keeps one as of `--as-of` without a server.

use clap::Args;
use expedite_core::alerts::{Alert, DEFAULT_NEAR_DAYS};
use expedite_core::forecast_alerts::{DEFAULT_THRESHOLD_DAYS, ForecastAlert, MAX_THRESHOLD_DAYS};
use expedite_core::{Date, RuleBook};
use expedite_data::sources::Freshness;
use expedite_store::Scope;
use expedite_store::history;
use serde::Serialize;

use super::metrics::{as_of, open_store, store_source};
use crate::output::{self, Format, RuntimeFailure};
use crate::period::DateFlag;

/// Arguments of `alerts`.
#[derive(Debug, Args)]
pub struct AlertsArgs {
    /// Database URL: sqlite://PATH or postgres://…
    #[arg(long, env = "EXPEDITE_DB", default_value = "sqlite://expedite.db")]
    db: String,
    /// Only alerts raised on or after this day, YYYY-MM-DD (e.g. the day of the last look).
    #[arg(long, value_parser = DateFlag)]
    since: Option<Date>,
    /// Warn this many days before a deadline.
    #[arg(long, default_value_t = DEFAULT_NEAR_DAYS)]
    near_days: i64,
    /// Raise p50_moved when a delivery's P50 moves by more than this many days between two
    /// kept forecasts of a case.
    #[arg(long, default_value_t = DEFAULT_THRESHOLD_DAYS)]
    threshold_days: i64,
    /// First compute every stored case's forecast as of --as-of and keep those that say
    /// something new (what `expedite serve` does after each recompute).
    #[arg(long)]
    refresh: bool,
    /// The day alerts are judged on, YYYY-MM-DD (default: today, UTC).
    #[arg(long, value_parser = DateFlag)]
    as_of: Option<Date>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

#[derive(Debug, Serialize)]
struct AlertsOutput {
    as_of: Date,
    since: Option<Date>,
    threshold_days: i64,
    alerts: Vec<Alert>,
    forecast_alerts: Vec<ForecastAlert>,
    sources: Vec<Freshness>,
}

/// One row of the table or the CSV, from either kind of alert.
struct Row {
    raised_on: Date,
    case: String,
    purchaser: &'static str,
    kind: &'static str,
    status: &'static str,
    due: Option<Date>,
    message: String,
    why: String,
    confidence: &'static str,
}

/// Both kinds of alert as rows, newest first (deadline alerts first on a day).
fn rows(alerts: &[Alert], forecast_alerts: &[ForecastAlert]) -> Vec<Row> {
    let deadlines = alerts.iter().map(|alert| Row {
        raised_on: alert.raised_on,
        case: alert.case.to_string(),
        purchaser: alert.purchaser,
        kind: alert.kind.as_str(),
        status: alert.status.as_str(),
        due: Some(alert.due),
        message: alert.message.clone(),
        why: alert.rule.clone(),
        confidence: confidence_word(alert),
    });
    let forecasts = forecast_alerts.iter().map(|alert| Row {
        raised_on: alert.raised_on,
        case: alert.case.to_string(),
        purchaser: alert.purchaser,
        kind: alert.kind.as_str(),
        status: alert.direction(),
        due: None,
        message: alert.message.clone(),
        why: alert.why.clone(),
        confidence: "",
    });
    let mut rows: Vec<Row> = deadlines.chain(forecasts).collect();
    rows.sort_by_key(|row| std::cmp::Reverse(row.raised_on));
    rows
}

/// Runs `alerts`.
pub fn run(args: AlertsArgs) -> anyhow::Result<()> {
    let today = as_of(args.as_of);
    let since = args.since;
    if !(0..=365).contains(&args.near_days) {
        anyhow::bail!("--near-days: must be between 0 and 365");
    }
    if !(0..=MAX_THRESHOLD_DAYS).contains(&args.threshold_days) {
        anyhow::bail!("--threshold-days: must be between 0 and {MAX_THRESHOLD_DAYS}");
    }
    let rules = RuleBook::builtin()?;
    let inputs = args
        .refresh
        .then(expedite_web::forecasts::ForecastInputs::shipped)
        .transpose()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (alerts, forecast_alerts, newest) = runtime.block_on(async {
        let store = open_store(&args.db).await?;
        if let Some(inputs) = &inputs {
            let recorded = expedite_web::forecasts::record(&store, inputs, today)
                .await
                .map_err(|error| RuntimeFailure(error.into()))?;
            output::note(&format!(
                "forecast {} case(s) as of {today}; kept {} that say something new",
                recorded.forecast, recorded.kept
            ));
        }
        let window = history::AlertWindow {
            today,
            since,
            near_days: args.near_days,
            threshold_days: args.threshold_days,
        };
        let (alerts, forecast_alerts) =
            history::every_alert_for(&store, Scope::All, rules.samm(), window).await?;
        let newest = history::newest_recording(&store, Scope::All).await?;
        store.close().await;
        anyhow::Ok((alerts, forecast_alerts, newest))
    })?;
    let sources: Vec<Freshness> = store_source(&args.db, newest)
        .into_iter()
        .map(|source| source.freshness(today))
        .collect();
    let rows = rows(&alerts, &forecast_alerts);
    match args.format {
        Format::Json => output::print_json(&AlertsOutput {
            as_of: today,
            since,
            threshold_days: args.threshold_days,
            alerts,
            forecast_alerts,
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
            rows.into_iter()
                .map(|row| {
                    vec![
                        row.raised_on.to_string(),
                        row.case,
                        row.purchaser.to_owned(),
                        row.kind.to_owned(),
                        row.status.to_owned(),
                        output::csv_cell(row.due),
                        row.message,
                        row.why,
                        row.confidence.to_owned(),
                    ]
                })
                .collect(),
        ),
        Format::Table => {
            let mut table = output::table(&["raised", "case", "alert", "status", "due", "what"]);
            for row in &rows {
                table.add_row(vec![
                    row.raised_on.to_string(),
                    row.case.clone(),
                    row.kind.to_owned(),
                    row.status.to_owned(),
                    output::csv_cell(row.due),
                    row.message.clone(),
                ]);
            }
            let mut text = if rows.is_empty() {
                format!(
                    "no alerts raised{} up to {today}",
                    since.map(|day| format!(" since {day}")).unwrap_or_default()
                )
            } else {
                table.to_string()
            };
            if !forecast_alerts.is_empty() {
                text.push_str("\nWhy the forecasts moved:");
                for alert in &forecast_alerts {
                    text.push_str(&format!(
                        "\n- {} {} ({}): {}",
                        alert.case,
                        alert.kind.as_str(),
                        alert.subject,
                        alert.why
                    ));
                }
            }
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

fn confidence_word(alert: &Alert) -> &'static str {
    match alert.confidence {
        expedite_core::rules::Confidence::Confirmed => "confirmed",
        expedite_core::rules::Confidence::Low => "low",
        expedite_core::rules::Confidence::Unconfirmed => "unconfirmed",
    }
}
