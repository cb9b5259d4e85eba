//! `/api/v1/metrics` (quarterly case-execution metrics) and `/api/v1/alerts` (deadline and
//! forecast alerts as a JSON Feed 1.1 a ministry can poll).
//!
//! Both are computed by the core over the store's cases (`expedite_store::history`).
//! Metrics: the aggregate rows (`group` null) cover every case of every country, as the
//! published figures would; the group rows only the caller's cases, so a purchaser sees its
//! own country's figures and the all-country aggregate and nothing else. Alerts: only on
//! the caller's cases.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use expedite_core::Date;
use expedite_core::alerts::{Alert, DEFAULT_NEAR_DAYS};
use expedite_core::forecast_alerts::{DEFAULT_THRESHOLD_DAYS, ForecastAlert, MAX_THRESHOLD_DAYS};
use expedite_core::metrics::{GroupBy, PhaseMetrics, Quarter};
use expedite_data::sources::{Freshness, Source};
use expedite_store::history::{self, MetricsError, MetricsQuery};
use serde::Serialize;
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::input::Checks;
use crate::{AppState, today};

/// The JSON Feed version the alerts feed follows.
pub const JSON_FEED_VERSION: &str = "https://jsonfeed.org/version/1.1";

fn unknown_parameter(name: &str, expected: &str) -> ApiError {
    ApiError::Malformed {
        message: format!("unknown query parameter '{name}': expected {expected}"),
        field: Some(name.to_owned()),
    }
}

fn parse_date(checks: &mut Checks, key: &str, value: &str) -> Option<Date> {
    value
        .parse::<Date>()
        .map_err(|_| checks.fail(key.to_owned(), "must be a date YYYY-MM-DD"))
        .ok()
}

/// The case store as a source, without its address (callers do not see it).
pub(crate) fn store_source(newest: Option<Date>, today: Date) -> Vec<Freshness> {
    newest
        .map(|day| {
            Source::new(
                "cases",
                "case store (events and their own dates)",
                day,
                "day the newest event was recorded",
                "the service's case store",
            )
            .freshness(today)
        })
        .into_iter()
        .collect()
}

#[derive(Debug, Serialize)]
struct MetricsBody {
    #[serde(flatten)]
    report: history::MetricsReport,
    sources: Vec<Freshness>,
}

/// `GET /api/v1/metrics?from=2025-Q1&to=2025-Q4&by=purchaser&as_of=2025-12-31&format=json`:
/// JSON (the default) or, with `format=csv`, the rows as `expedite metrics --format csv`.
pub async fn metrics(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let mut checks = Checks::default();
    let mut csv = false;
    let mut query = metrics_query(today());
    for (key, value) in &params {
        if let Some(read) = read_metrics_parameter(&mut query, key, value) {
            if let Err(message) = read {
                checks.fail(key.clone(), message);
            }
            continue;
        }
        match key.as_str() {
            "format" => match value.as_str() {
                "json" => csv = false,
                "csv" => csv = true,
                _ => checks.fail(key.clone(), "must be json or csv"),
            },
            unknown => return Err(unknown_parameter(unknown, "from, to, by, as_of, format")),
        }
    }
    checks.finish()?;
    let report = history::metrics_for(
        state.store.as_ref(),
        caller.scope(),
        &query,
        state.rules.samm(),
    )
    .await
    .map_err(|error| match error {
        MetricsError::Window(window) => {
            let field = window.to_string();
            let (field, message) = field.split_once(": ").unwrap_or(("from", field.as_str()));
            ApiError::invalid(field, message)
        }
        MetricsError::Store(store) => ApiError::from(store),
    })?;
    if csv {
        return Ok((
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            metrics_csv(&report.quarters)?,
        )
            .into_response());
    }
    let sources = store_source(report.newest_recorded, query.as_of);
    Ok(Json(MetricsBody { report, sources }).into_response())
}

/// The metrics query with every parameter at its default: all quarters, no grouping, as of
/// `today`.
pub(crate) fn metrics_query(today: Date) -> MetricsQuery {
    MetricsQuery {
        from: None,
        to: None,
        by: None,
        as_of: today,
    }
}

/// The metrics query's own parameters, read by [`read_metrics_parameter`].
pub(crate) const METRICS_PARAMETERS: [&str; 4] = ["from", "to", "by", "as_of"];

/// Reads one of the metrics query's own parameters (`from`, `to`, `by`, `as_of`) into
/// `query`: `None` when `key` is none of them, else whether `value` was good, with the
/// problem in words. The API and the page both read them here, so they accept and refuse
/// the same values.
pub(crate) fn read_metrics_parameter(
    query: &mut MetricsQuery,
    key: &str,
    value: &str,
) -> Option<Result<(), String>> {
    Some(match key {
        "from" => Quarter::parse(value)
            .map(|quarter| query.from = Some(quarter))
            .map_err(|error| error.to_string()),
        "to" => Quarter::parse(value)
            .map(|quarter| query.to = Some(quarter))
            .map_err(|error| error.to_string()),
        "by" => GroupBy::parse(value)
            .map(|by| query.by = Some(by))
            .map_err(|error| error.to_string()),
        "as_of" => value
            .parse::<Date>()
            .map(|day| query.as_of = day)
            .map_err(|_| format!("'{value}' is not a date of the form YYYY-MM-DD")),
        _ => return None,
    })
}

/// The rows as CSV, with the header and cells of `expedite metrics --format csv`.
fn metrics_csv(rows: &[PhaseMetrics]) -> Result<String, ApiError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let written = std::iter::once(PhaseMetrics::CSV_HEADER.map(str::to_owned))
        .chain(rows.iter().map(PhaseMetrics::csv_cells))
        .try_for_each(|record| writer.write_record(&record));
    let bytes = written
        .map_err(|error| error.to_string())
        .and_then(|()| writer.into_inner().map_err(|error| error.to_string()))
        .and_then(|bytes| String::from_utf8(bytes).map_err(|error| error.to_string()))
        .map_err(ApiError::Internal)?;
    Ok(bytes)
}

/// `GET /api/v1/alerts?since=2025-03-01&near_days=14&threshold_days=30&as_of=…`: the
/// caller's deadline alerts and forecast alerts, newest first, as a JSON Feed 1.1
/// (`application/feed+json`).
pub async fn alerts(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let mut checks = Checks::default();
    let mut since = None;
    let mut as_of = today();
    let mut near_days = DEFAULT_NEAR_DAYS;
    let mut threshold_days = DEFAULT_THRESHOLD_DAYS;
    for (key, value) in &params {
        match key.as_str() {
            "since" => since = parse_date(&mut checks, key, value),
            "as_of" => {
                if let Some(day) = parse_date(&mut checks, key, value) {
                    as_of = day;
                }
            }
            "near_days" => match value.parse::<i64>() {
                Ok(days) if (0..=365).contains(&days) => near_days = days,
                _ => checks.fail(key.clone(), "must be a whole number from 0 to 365"),
            },
            "threshold_days" => match value.parse::<i64>() {
                Ok(days) if (0..=MAX_THRESHOLD_DAYS).contains(&days) => threshold_days = days,
                _ => checks.fail(
                    key.clone(),
                    format!("must be a whole number from 0 to {MAX_THRESHOLD_DAYS}"),
                ),
            },
            unknown => {
                return Err(unknown_parameter(
                    unknown,
                    "since, near_days, threshold_days, as_of",
                ));
            }
        }
    }
    checks.finish()?;
    let window = history::AlertWindow {
        today: as_of,
        since,
        near_days,
        threshold_days,
    };
    let (alerts, forecast_alerts) = history::every_alert_for(
        state.store.as_ref(),
        caller.scope(),
        state.rules.samm(),
        window,
    )
    .await?;
    let feed = feed(&alerts, &forecast_alerts, as_of, since);
    Ok((
        [(header::CONTENT_TYPE, "application/feed+json")],
        Json(feed),
    )
        .into_response())
}

/// The alerts as a JSON Feed 1.1: one item per alert, newest first (deadline alerts before
/// forecast alerts raised the same day), its full record under `_expedite`.
pub fn feed(
    alerts: &[Alert],
    forecast_alerts: &[ForecastAlert],
    as_of: Date,
    since: Option<Date>,
) -> Value {
    let deadline_items = alerts.iter().map(|alert| {
        let status = alert.status.as_str();
        (
            alert.raised_on,
            json!({
                "id": alert.id,
                "title": format!("{}: {} {}", alert.case, alert.kind.as_str(), status),
                "content_text": format!("{}. Why: {}.", alert.message, alert.rule),
                "date_published": format!("{}T00:00:00Z", alert.raised_on),
                "tags": [alert.kind.as_str(), status, alert.purchaser],
                "_expedite": alert,
            }),
        )
    });
    let forecast_items = forecast_alerts.iter().map(|alert| {
        (
            alert.raised_on,
            json!({
                "id": alert.id,
                "title": format!("{}: {} ({})", alert.case, alert.kind.as_str(), alert.subject),
                "content_text": format!("{}. Why: {}.", alert.message, alert.why),
                "date_published": format!("{}T00:00:00Z", alert.raised_on),
                "tags": [alert.kind.as_str(), alert.subject, alert.purchaser],
                "_expedite": alert,
            }),
        )
    });
    let mut dated: Vec<(Date, Value)> = deadline_items.chain(forecast_items).collect();
    // Stable: each list is already newest first, and deadline alerts come first on a day.
    dated.sort_by_key(|item| std::cmp::Reverse(item.0));
    let items: Vec<Value> = dated.into_iter().map(|(_, item)| item).collect();
    let window = match since {
        Some(since) => format!("raised from {since} to {as_of}"),
        None => format!("raised up to {as_of}"),
    };
    json!({
        "version": JSON_FEED_VERSION,
        "title": "expedite: deadline and forecast alerts",
        "description": format!(
            "SAMM targets, congressional review periods and offer expirations near or missed, delivery forecasts whose P50 moved past the threshold and queue positions that changed, on the cases this token may see, {window}. Poll with ?since=the day of the last look."
        ),
        "items": items,
    })
}
