//! `/metrics`: the quarterly case-execution metrics of `expedite metrics` and
//! `GET /api/v1/metrics` as a page: per quarter and phase the phases completed, their median
//! and P90 days, the share on time against the SAMM target (confirmed or assumed), the cases
//! open at the quarter's end with their median age; charts of the median days and the open
//! cases by phase; the late-recorded events, the definitions and the sources.
//!
//! Scoped like the API (`expedite_store::history::metrics_for`): the all-country rows cover
//! every case, the group rows only the viewer's, so a purchaser sees its own country's
//! figures and the aggregate and nothing else.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use expedite_core::Date;
use expedite_core::metrics::{self, GroupBy, Phase, PhaseMetrics};
use expedite_core::rules::Confidence;
use expedite_data::sources::Freshness;
use expedite_store::history::{self, MetricsError, MetricsQuery, MetricsReport};

use super::charts::{self, Line};
use super::session::Viewer;
use super::{Layout, Opt, PageError, html, options};
use crate::AppState;
use crate::reporting::{METRICS_PARAMETERS, metrics_query, read_metrics_parameter};

/// What the form shows: the values asked for, as typed.
struct Asked {
    from: String,
    to: String,
    as_of: String,
    by: Vec<Opt>,
}

/// One row of the table, as people read it.
struct RowView {
    quarter: String,
    phase: &'static str,
    group: String,
    completed: usize,
    median_days: String,
    p90_days: String,
    on_time: String,
    open_at_end: usize,
    open_median_age_days: String,
}

struct TargetView {
    phase: &'static str,
    days: u32,
    measured: &'static str,
    confidence: &'static str,
    confirmed: bool,
    source: String,
}

#[derive(Template)]
#[template(path = "metrics.html")]
struct MetricsPage {
    layout: Layout,
    asked: Asked,
    as_of: Date,
    window: String,
    scope_note: String,
    events: usize,
    late_recorded_events: usize,
    median_chart: String,
    open_chart: String,
    rows: Vec<RowView>,
    rows_left_out: usize,
    targets: Vec<TargetView>,
    sources: Vec<Freshness>,
}

/// Phases as people read them.
fn phase_label(phase: Phase) -> &'static str {
    match phase {
        Phase::LorToOffer => "LOR → offer",
        Phase::OfferToAcceptance => "offer → acceptance",
        Phase::AcceptanceToContract => "acceptance → contract",
        Phase::ContractToFirstDelivery => "contract → first delivery",
        Phase::FirstToFinalDelivery => "first → final delivery",
        Phase::NotificationToOffer => "notification → offer",
    }
}

fn bad(field: &str, message: impl std::fmt::Display) -> PageError {
    PageError::BadRequest(format!("{field}: {message}"))
}

/// The query from the page's parameters; an empty value means the default, as a form sends
/// it. Each bad value is refused naming its parameter.
fn read_query(params: &[(String, String)], today: Date) -> Result<MetricsQuery, PageError> {
    let mut query = metrics_query(today);
    for (key, value) in params {
        let value = value.trim();
        if value.is_empty() && METRICS_PARAMETERS.contains(&key.as_str()) {
            continue;
        }
        match read_metrics_parameter(&mut query, key, value) {
            Some(Ok(())) => {}
            Some(Err(message)) => {
                return Err(bad(key, message));
            }
            None => {
                return Err(PageError::BadRequest(format!(
                    "unknown query parameter '{key}': expected {}",
                    METRICS_PARAMETERS.join(", ")
                )));
            }
        }
    }
    Ok(query)
}

/// `GET /metrics?from=2025-Q1&to=2025-Q4&by=purchaser&as_of=2025-12-31`.
pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let query = read_query(&params, crate::today())?;
    let scope = viewer.caller.scope();
    let report = history::metrics_for(state.store.as_ref(), scope, &query, state.rules.samm())
        .await
        .map_err(|error| match error {
            // The window's message starts with the field it is about ("from: …").
            MetricsError::Window(window) => PageError::BadRequest(window.to_string()),
            MetricsError::Store(store) => PageError::from(store),
        })?;
    let sources = crate::reporting::store_source(report.newest_recorded, query.as_of);
    let param = |name: &str| {
        params
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map_or_else(String::new, |(_, value)| value.trim().to_owned())
    };
    let by = query.by.map_or("", GroupBy::as_str);
    // Left empty, a viewer who sees every case gets no split, one who sees only some cases
    // the split by its own purchaser or agency (as the API).
    let default_split = match scope {
        expedite_store::Scope::All => "no split",
        expedite_store::Scope::Purchaser(_) => "default: your country",
        expedite_store::Scope::Agency(_) => "default: your agency",
    };
    let asked = Asked {
        from: param("from"),
        to: param("to"),
        as_of: param("as_of"),
        by: options(
            [
                ("", default_split),
                ("purchaser", "purchaser"),
                ("agency", "agency"),
                ("group", "AECA group"),
                ("line", "production line"),
            ]
            .map(|(value, label)| (value.to_owned(), label.to_owned())),
            by,
        ),
    };
    let scope_note = match scope {
        expedite_store::Scope::All => "Every case of every country.".to_owned(),
        expedite_store::Scope::Purchaser(country) => format!(
            "The rows marked “all countries” cover every case; the other rows only {}'s cases.",
            country.name()
        ),
        expedite_store::Scope::Agency(agency) => format!(
            "The rows marked “all countries” cover every case; the other rows only the {} cases.",
            agency.as_str().replace('_', " ")
        ),
    };
    let (rows, rows_left_out) = row_views(&report.quarters);
    html(&MetricsPage {
        layout: Layout::new("Case-execution metrics", "metrics", &viewer),
        as_of: report.as_of,
        window: window_text(&report),
        scope_note,
        events: report.events,
        late_recorded_events: report.late_recorded_events,
        median_chart: phase_chart(
            &report,
            "Median days per phase, all countries",
            "median days",
            |row| row.median_days,
        )?,
        open_chart: phase_chart(
            &report,
            "Cases open at the quarter's end, all countries",
            "open cases",
            |row| i64::try_from(row.open_at_end).ok(),
        )?,
        rows,
        rows_left_out,
        targets: report
            .targets
            .iter()
            .map(|target| TargetView {
                phase: phase_label(target.phase),
                days: target.days,
                measured: target.measured,
                confidence: target.confidence.in_words(),
                confirmed: target.confidence == Confidence::Confirmed,
                source: target.source.clone(),
            })
            .collect(),
        sources,
        asked,
    })
}

fn window_text(report: &MetricsReport) -> String {
    match (report.quarters.first(), report.quarters.last()) {
        (Some(first), Some(last)) if first.quarter != last.quarter => {
            format!("{} to {}", first.quarter, last.quarter)
        }
        (Some(only), _) => only.quarter.to_string(),
        _ => "no quarter".to_owned(),
    }
}

fn optional(value: Option<i64>) -> String {
    value.map_or_else(|| "–".to_owned(), |value| value.to_string())
}

/// The rows with something to show (a phase completed or open), and how many were left out.
fn row_views(rows: &[PhaseMetrics]) -> (Vec<RowView>, usize) {
    let shown: Vec<RowView> = rows
        .iter()
        .filter(|row| row.completed > 0 || row.open_at_end > 0)
        .map(|row| RowView {
            quarter: row.quarter.to_string(),
            phase: phase_label(row.phase),
            group: row
                .group
                .clone()
                .unwrap_or_else(|| "all countries".to_owned()),
            completed: row.completed,
            median_days: optional(row.median_days),
            p90_days: optional(row.p90_days),
            on_time: row
                .on_time_share
                .map_or_else(|| "–".to_owned(), |share| format!("{:.0} %", share * 100.0)),
            open_at_end: row.open_at_end,
            open_median_age_days: optional(row.open_median_age_days),
        })
        .collect();
    let left_out = rows.len() - shown.len();
    (shown, left_out)
}

/// One line per phase over the quarters of the all-country rows.
fn phase_chart(
    report: &MetricsReport,
    title: &str,
    y_label: &str,
    value: fn(&PhaseMetrics) -> Option<i64>,
) -> Result<String, PageError> {
    let quarters = metrics::quarter_axis(&report.quarters);
    let lines: Vec<Line> = Phase::ALL
        .into_iter()
        .map(|phase| Line {
            name: phase_label(phase).to_owned(),
            points: metrics::all_cases_series(&report.quarters, &quarters, phase, value)
                .into_iter()
                // Quarter indexes and day counts are small.
                .map(|(index, days)| (index as f64, days as f64))
                .collect(),
            steps: false,
        })
        .collect();
    let labels: Vec<String> = quarters.iter().map(ToString::to_string).collect();
    charts::by_quarter(title, y_label, &labels, &lines)
}
