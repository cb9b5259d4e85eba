//! Reading whole portfolios back for reporting: every case in a scope with its recording
//! times, and the quarterly metrics ([`expedite_core::metrics`]), deadline alerts
//! ([`expedite_core::alerts`]) and forecast alerts ([`expedite_core::forecast_alerts`]) over
//! them, seen the way a caller's scope allows.
//!
//! The computation is the core's; this module only loads what it needs through the
//! [`Store`] trait, so it works on any backend. The cases of a scope are read in one list
//! and their histories in one query ([`Store::events_in`]): one query per case cost a
//! round trip each, seconds over a few thousand cases (`bench/metrics.sh` measures both).

use expedite_core::Date;
use expedite_core::alerts::{self, Alert};
use expedite_core::forecast_alerts::{self, ForecastAlert, ForecastSnapshot, Raised};
use expedite_core::machine::Case;
use expedite_core::metrics::{
    self, GroupBy, PhaseMetrics, PhaseTarget, Quarter, Recording, Window, WindowError,
};
use expedite_core::rules::SammStandards;
use serde::Serialize;

use crate::model::{CaseFilter, Change, EventRecord, Scope};
use crate::{Store, StoreError};

/// Every case in a scope, as of its latest event, by id.
///
/// One list of them all: [`Store::list_cases`] reads and checks every matching row to
/// count them whatever the page, so reading page by page would read them all once per page.
///
/// # Errors
/// [`StoreError::Database`] or [`StoreError::Corrupt`].
pub async fn cases_in(store: &dyn Store, scope: Scope) -> Result<Vec<Case>, StoreError> {
    let mut filter = CaseFilter::all_in(scope);
    filter.limit = u32::MAX;
    let page = store.list_cases(&filter).await?;
    Ok(page.cases.into_iter().map(|stored| stored.case).collect())
}

/// The recordings of each case, read in one query: a case without a history is
/// [`StoreError::CaseNotFound`], as [`Store::events`] would say.
async fn recordings_of(
    store: &dyn Store,
    scope: Scope,
    cases: &[Case],
) -> Result<Vec<Vec<Recording>>, StoreError> {
    let histories = store.events_in(scope).await?;
    cases
        .iter()
        .map(|case| {
            histories
                .get(&case.id)
                .map(|events| recordings(events))
                .ok_or_else(|| StoreError::CaseNotFound(case.id.clone()))
        })
        .collect()
}

/// When each of a case's events happened and was recorded (recording day in UTC).
pub fn recordings(events: &[EventRecord]) -> Vec<Recording> {
    events
        .iter()
        .map(|record| Recording {
            happened: match &record.change {
                Change::Opened(new) => new.lor_received,
                Change::Event(event) => event.date,
            },
            recorded: record
                .recorded_at
                .to_zoned_datetime(jiff::tz::TimeZone::UTC)
                .date(),
        })
        .collect()
}

/// What the metrics are asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricsQuery {
    /// First quarter (default: the quarter of the earliest LOR).
    pub from: Option<Quarter>,
    /// Last quarter (default: the quarter of `as_of`).
    pub to: Option<Quarter>,
    /// How to split rows beside the aggregate (default: none for a caller who sees every
    /// case, the purchaser or the agency for one who sees only those).
    pub by: Option<GroupBy>,
    /// The day the figures are taken on.
    pub as_of: Date,
}

/// The metrics as a caller may see them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricsReport {
    /// One row per quarter, phase and group (`group` null: every case of every country).
    pub quarters: Vec<PhaseMetrics>,
    /// The day the figures were taken on.
    pub as_of: Date,
    /// Events of the cases the caller can see.
    pub events: usize,
    /// Of those, how many were recorded more than 30 days after their own date.
    pub late_recorded_events: usize,
    /// The SAMM targets the on-time shares are judged by, each confirmed or assumed.
    pub targets: Vec<PhaseTarget>,
    /// The day the newest of those events was recorded (UTC): how fresh the store is. The
    /// caller lists it among its sources.
    #[serde(skip)]
    pub newest_recorded: Option<Date>,
}

/// Why metrics could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// The quarters asked for.
    #[error(transparent)]
    Window(#[from] WindowError),
    /// The store.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The default grouping of a scope: a purchaser sees its own country's figures, a case
/// manager its agency's.
fn default_grouping(scope: Scope) -> Option<GroupBy> {
    match scope {
        Scope::All => None,
        Scope::Purchaser(_) => Some(GroupBy::Purchaser),
        Scope::Agency(_) => Some(GroupBy::Agency),
    }
}

/// The quarterly metrics for a caller: the aggregate rows cover every case (the published,
/// all-country figures), the group rows only the cases in `scope`.
///
/// # Errors
/// [`MetricsError::Window`] for quarters that cannot be reported,
/// [`MetricsError::Store`] otherwise.
pub async fn metrics_for(
    store: &dyn Store,
    scope: Scope,
    query: &MetricsQuery,
    samm: &SammStandards,
) -> Result<MetricsReport, MetricsError> {
    let all = cases_in(store, Scope::All).await?;
    let visible: Vec<Case> = all
        .iter()
        .filter(|case| scope.covers(case))
        .cloned()
        .collect();
    let window = Window::new(query.from, query.to, query.as_of, &all)?;
    let by = query.by.or_else(|| default_grouping(scope));
    let quarters = metrics::compute_view(&all, &visible, by, &window, samm);
    let mut events = 0;
    let mut late = 0;
    let mut newest_recorded = None;
    for recorded in recordings_of(store, scope, &visible).await? {
        events += recorded.len();
        late += metrics::late_recorded(&recorded);
        newest_recorded = newest_recorded.max(recorded.iter().map(|r| r.recorded).max());
    }
    Ok(MetricsReport {
        quarters,
        as_of: query.as_of,
        events,
        late_recorded_events: late,
        targets: metrics::phase_targets(samm),
        newest_recorded,
    })
}

/// The day (UTC) the newest event of a case in `scope` was recorded, if there is one.
///
/// # Errors
/// [`StoreError::Database`] or [`StoreError::BrokenCase`] ([`Store::events_in`]).
pub async fn newest_recording(store: &dyn Store, scope: Scope) -> Result<Option<Date>, StoreError> {
    // The histories alone say it: no need to list (and read again) the cases they belong to.
    let histories = store.events_in(scope).await?;
    Ok(histories
        .values()
        .flat_map(|events| recordings(events))
        .map(|recording| recording.recorded)
        .max())
}

/// The forecast alerts of one case the caller may see (the case page's), raised up to
/// `until`, newest first, with the ids of cases outside `scope` hidden as in
/// [`every_alert_for`]. Reads only this case's kept forecasts (and, for a scope narrower
/// than every case, the ids the scope may see).
///
/// # Errors
/// [`StoreError::Database`] or [`StoreError::Corrupt`].
pub async fn forecast_alerts_of_case(
    store: &dyn Store,
    scope: Scope,
    case: &Case,
    until: Date,
    threshold_days: i64,
) -> Result<Vec<ForecastAlert>, StoreError> {
    if !scope.covers(case) {
        return Ok(Vec::new());
    }
    let snapshots = store.forecast_snapshots(scope, Some(&case.id)).await?;
    if scope == Scope::All {
        // Every case is visible: nothing to hide, and no need to list them.
        let raised = Raised { since: None, until };
        return Ok(forecast_alerts::alerts_raised(
            &snapshots,
            threshold_days,
            raised,
        ));
    }
    let cases = cases_in(store, scope).await?;
    Ok(forecast_alerts_among(
        &cases,
        snapshots,
        None,
        until,
        threshold_days,
    ))
}

/// The alerts on the cases in `scope`, reading the cases once for both kinds, each kind
/// newest first and raised from `window.since` (if given) to `window.today`:
/// - the deadline alerts, judged on `window.today`;
/// - the forecast alerts: each kept forecast of a case against the one before it, a P50 of
///   first or final delivery moving by more than `window.threshold_days` or a change of
///   queue position, raised on the `as_of` of the newer forecast.
///
/// Only cases whose stored rows verify are covered, like [`cases_in`]: a snapshot row edited
/// to name another purchaser or agency widens nobody's view.
///
/// # Errors
/// [`StoreError::Database`] or [`StoreError::Corrupt`].
pub async fn every_alert_for(
    store: &dyn Store,
    scope: Scope,
    samm: &SammStandards,
    window: AlertWindow,
) -> Result<(Vec<Alert>, Vec<ForecastAlert>), StoreError> {
    let cases = cases_in(store, scope).await?;
    let deadlines =
        alerts::alerts_since(&cases, samm, window.today, window.since, window.near_days);
    let snapshots = store.forecast_snapshots(scope, None).await?;
    let forecasts = forecast_alerts_among(
        &cases,
        snapshots,
        window.since,
        window.today,
        window.threshold_days,
    );
    Ok((deadlines, forecasts))
}

/// What [`every_alert_for`] raises: alerts judged on `today`, raised from `since` (if given),
/// deadlines warned `near_days` ahead, forecast P50 moves beyond `threshold_days`.
#[derive(Debug, Clone, Copy)]
pub struct AlertWindow {
    /// The day the alerts are judged on; none raised later.
    pub today: Date,
    /// Only alerts raised on or after this day.
    pub since: Option<Date>,
    /// Days before a deadline a `near` alert is raised.
    pub near_days: i64,
    /// Days a P50 must move by, more than, to raise `p50_moved`.
    pub threshold_days: i64,
}

/// The forecast alerts of the kept `snapshots` of `cases` (those a caller may see): only a
/// snapshot whose purchaser and agency match its verified case counts, and a case outside
/// `cases` is named as another purchaser's.
fn forecast_alerts_among(
    cases: &[Case],
    mut snapshots: Vec<ForecastSnapshot>,
    since: Option<Date>,
    until: Date,
    threshold_days: i64,
) -> Vec<ForecastAlert> {
    let visible: std::collections::HashMap<&str, &Case> =
        cases.iter().map(|case| (case.id.as_str(), case)).collect();
    snapshots.retain(|snapshot| {
        visible.get(snapshot.case.as_str()).is_some_and(|case| {
            case.purchaser == snapshot.purchaser && case.agency == snapshot.agency
        })
    });
    let raised = Raised { since, until };
    let alerts = forecast_alerts::alerts_raised(&snapshots, threshold_days, raised);
    forecast_alerts::hide_cases(alerts, &snapshots, |id| visible.contains_key(id))
}
