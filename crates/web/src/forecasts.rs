//! The last good forecast of every stored case, kept in memory and recomputed in the
//! background, never inside a request.
//!
//! Every open case on a production line of the catalog goes into one scenario (so cases on
//! the same line queue for it together) built like `expedite demo` and `expedite backtest`
//! build theirs: the catalog's rates known on the day, the calibrated stage durations,
//! rate multiplier, ramp slip and first-delivery delay (`expedite_portfolio::calibrate`),
//! the template's build times, transport and backlog ([`ForecastInputs`]), and the case's
//! own history as facts, at the tier its latest `prioritise` event set (default 1): the
//! scenario is `expedite_portfolio::stored`'s, read here from the store.
//! [`keep_fresh`] recomputes after every write (a transition or delivery touches its case's
//! line, and so every case on it) and periodically; requests read the last good result with
//! the day it was computed.
//!
//! Every recompute also keeps each case's forecast in the store as a
//! [`ForecastSnapshot`] (P10/P50/P90, its place in each line's queue from
//! `Scenario::queue_positions`, and the inputs that explain a change); the store adds a
//! row only when it says something new, and the forecast alerts compare them
//! (`expedite_store::history::every_alert_for`). [`record`] does the same once, for
//! `expedite alerts --refresh`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use expedite_core::forecast_alerts::ForecastSnapshot;
use expedite_core::machine::Case;
use expedite_core::{CaseId, Date, Event, EventKind, RuleBook, Stage};
use expedite_forecast::RunOptions;
use expedite_forecast::report::CaseForecast;
use expedite_portfolio::stored::snapshot_of;
pub use expedite_portfolio::stored::{CaseFacts, ForecastInputs, InputsError, scenario_for};
use expedite_store::{Change, EventRecord, Scope, Store};
use serde::Serialize;

/// One case's forecast, with when and from what it was computed.
#[derive(Debug, Clone, Serialize)]
pub struct StoredForecast {
    /// P10/P50/P90 of contract, first and final delivery.
    pub forecast: CaseForecast,
    /// The scenario start ("today") the forecast was made for.
    pub as_of: Date,
    /// When it was computed.
    pub computed_at: jiff::Timestamp,
    /// The assumptions behind it, as the scenario states them.
    pub assumptions: Vec<String>,
}

/// Every case's last good forecast, by case id.
#[derive(Debug, Default)]
pub struct CaseForecasts {
    by_case: RwLock<HashMap<String, StoredForecast>>,
    /// Wakes the background worker after a write.
    wake: tokio::sync::Notify,
}

impl CaseForecasts {
    /// The last good forecast of a case, if one was computed.
    pub fn get(&self, id: &CaseId) -> Option<StoredForecast> {
        self.read().get(id.as_str()).cloned()
    }

    /// Replaces the forecasts of the cases given; others keep theirs.
    pub fn store(&self, forecasts: impl IntoIterator<Item = StoredForecast>) {
        let mut map = self
            .by_case
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for forecast in forecasts {
            map.insert(forecast.forecast.id.clone(), forecast);
        }
    }

    /// Tells the background worker, where one runs, that a case changed.
    pub fn touched(&self, _case: &expedite_core::machine::Case) {
        self.wake.notify_one();
    }

    /// Waits until a write is reported (see [`CaseForecasts::touched`]).
    pub async fn changed(&self) {
        self.wake.notified().await;
    }

    /// How many cases have a forecast.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// Whether no case has a forecast yet.
    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, StoredForecast>> {
        // Writers replace whole entries, so a poisoned lock still holds whole forecasts.
        self.by_case
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Reads every stored case with its deliveries, as it stood on `as_of`.
async fn facts_of_store(
    store: &dyn Store,
    as_of: Date,
    rules: &RuleBook,
) -> Result<Vec<CaseFacts>, expedite_store::StoreError> {
    facts_in_scope(store, Scope::All, as_of, rules).await
}

/// Reads the stored cases of a scope with their deliveries, each as it stood at the end of
/// `as_of` ([`CaseFacts::as_it_stood`]): a case opened later is left out, and an event dated
/// later (a forecast made for an earlier day, or an event recorded ahead of its date) is not
/// a fact yet.
///
/// # Errors
/// The store's error, or [`expedite_store::StoreError::Corrupt`] naming a case whose history
/// the stage machine refuses.
pub async fn facts_in_scope(
    store: &dyn Store,
    scope: Scope,
    as_of: Date,
    rules: &RuleBook,
) -> Result<Vec<CaseFacts>, expedite_store::StoreError> {
    let cases = expedite_store::history::cases_in(store, scope).await?;
    // One read of every history in the scope, and only when a case has deliveries or
    // events after the day.
    let histories = if cases
        .iter()
        .any(|case| case.last_event > as_of || case.delivered.iter().any(|units| *units > 0))
    {
        store.events_in(scope).await?
    } else {
        BTreeMap::new()
    };
    let mut facts = Vec::with_capacity(cases.len());
    for case in cases {
        let records = histories.get(&case.id).map_or(&[][..], Vec::as_slice);
        if case.last_event <= as_of {
            let deliveries = deliveries_in(records);
            facts.push(CaseFacts { case, deliveries });
        } else if let Some(stood) = as_it_stood(&case.id, records, as_of, rules)? {
            facts.push(stood);
        }
    }
    Ok(facts)
}

/// A case as its stored history stood at the end of `day` (`None`: opened later).
fn as_it_stood(
    id: &CaseId,
    records: &[EventRecord],
    day: Date,
    rules: &RuleBook,
) -> Result<Option<CaseFacts>, expedite_store::StoreError> {
    let corrupt = |why: String| {
        expedite_store::StoreError::Corrupt(format!("case {id}: its history as of {day}: {why}"))
    };
    let Some(Change::Opened(opening)) = records.first().map(|record| &record.change) else {
        return Err(corrupt("it does not start with the opening".to_owned()));
    };
    let events: Vec<Event> = records
        .iter()
        .skip(1)
        .filter_map(|record| match &record.change {
            Change::Event(event) => Some(event.clone()),
            Change::Opened(_) => None,
        })
        .collect();
    CaseFacts::as_it_stood(opening, &events, day, rules).map_err(corrupt)
}

/// (date, line position, units) of every delivery in a case's history.
fn deliveries_in(records: &[EventRecord]) -> Vec<(Date, usize, u32)> {
    records
        .iter()
        .filter_map(|record| match record.change {
            Change::Event(Event {
                date,
                kind: EventKind::Deliver { line, quantity },
            }) => Some((date, line, quantity)),
            _ => None,
        })
        .collect()
}

/// Computes every stored case's forecast once, off the request path, stores it, and keeps
/// the snapshots that say something new in the store. A case the scenario refuses is left
/// out (and logged) so the others still get theirs.
///
/// # Errors
/// The store's error; a forecast failure is logged and keeps the last good forecasts.
pub async fn recompute(
    store: &dyn Store,
    inputs: &ForecastInputs,
    forecasts: &CaseForecasts,
    as_of: Date,
) -> Result<usize, expedite_store::StoreError> {
    let Some((fresh, snapshots)) = compute(store, inputs, as_of).await? else {
        return Ok(0);
    };
    let count = fresh.len();
    forecasts.store(fresh);
    match store.append_forecast_snapshots(&snapshots).await {
        Ok(kept) => tracing::debug!(kept, "forecast snapshots kept"),
        Err(error) => tracing::warn!(%error, "forecast snapshots not kept"),
    }
    Ok(count)
}

/// What [`record`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Recorded {
    /// Cases forecast.
    pub forecast: usize,
    /// Of those, the forecasts kept because they say something new.
    pub kept: usize,
}

/// Computes every stored case's forecast as of `as_of` and keeps the snapshots that say
/// something new: what the background worker does after each recompute, for a caller
/// without a server (`expedite alerts --refresh`).
///
/// # Errors
/// The store's error, or the forecast's refusal of the scenario (as
/// [`expedite_store::StoreError::Corrupt`], naming it).
pub async fn record(
    store: &dyn Store,
    inputs: &ForecastInputs,
    as_of: Date,
) -> Result<Recorded, expedite_store::StoreError> {
    let (fresh, snapshots) = compute(store, inputs, as_of).await?.ok_or_else(|| {
        expedite_store::StoreError::Corrupt(
            "the stored cases' forecast could not be computed (see the log)".to_owned(),
        )
    })?;
    let kept = store.append_forecast_snapshots(&snapshots).await?;
    Ok(Recorded {
        forecast: fresh.len(),
        kept,
    })
}

/// The forecasts and snapshots of every stored case as of `as_of`, computed off the async
/// threads; `None` (logged) when the forecast fails.
async fn compute(
    store: &dyn Store,
    inputs: &ForecastInputs,
    as_of: Date,
) -> Result<Option<(Vec<StoredForecast>, Vec<ForecastSnapshot>)>, expedite_store::StoreError> {
    let facts = facts_of_store(store, as_of, inputs.rules()).await?;
    let inputs = inputs.clone();
    let computed = tokio::task::spawn_blocking(move || run_all(&facts, &inputs, as_of)).await;
    Ok(match computed {
        Ok(Ok(fresh)) => Some(fresh),
        Ok(Err(error)) => {
            tracing::warn!(%error, "case forecasts not recomputed; the last good ones stay");
            None
        }
        Err(error) => {
            tracing::error!(%error, "case forecast task failed");
            None
        }
    })
}

fn run_all(
    facts: &[CaseFacts],
    inputs: &ForecastInputs,
    as_of: Date,
) -> Result<(Vec<StoredForecast>, Vec<ForecastSnapshot>), String> {
    let (scenario, ids) = match scenario_for(facts, inputs, as_of) {
        Ok(built) => built,
        // Find the cases the scenario refuses, one by one, and leave them out.
        Err(_) => {
            let usable: Vec<CaseFacts> = facts
                .iter()
                .filter(|one| match scenario_for(std::slice::from_ref(one), inputs, as_of) {
                    Ok(_) => true,
                    Err(error) => {
                        tracing::warn!(case = %one.case.id, %error, "case left out of the forecast");
                        false
                    }
                })
                .cloned()
                .collect();
            scenario_for(&usable, inputs, as_of)?
        }
    };
    if ids.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let report = expedite_forecast::run(&scenario, &RunOptions::default())
        .map_err(|error| error.to_string())?;
    let computed_at = jiff::Timestamp::now();
    let assumptions = inputs.assumptions(as_of);
    let forecasts: Vec<StoredForecast> = report
        .runs
        .into_iter()
        .next()
        .map(|base| base.cases)
        .unwrap_or_default()
        .into_iter()
        .map(|forecast| StoredForecast {
            forecast,
            as_of,
            computed_at,
            assumptions: assumptions.clone(),
        })
        .collect();
    let queues = scenario.queue_positions();
    // By id, so that a recompute of many cases is not a search per case.
    let facts_of: HashMap<&str, _> = facts
        .iter()
        .map(|facts| (facts.case.id.as_str(), facts))
        .collect();
    let queues_of: HashMap<&str, _> = queues
        .iter()
        .map(|queues| (queues.case.as_str(), queues))
        .collect();
    let snapshots = forecasts
        .iter()
        .filter_map(|stored| {
            let id = stored.forecast.id.as_str();
            let (facts, queues) = (*facts_of.get(id)?, *queues_of.get(id)?);
            Some(snapshot_of(
                facts,
                &scenario,
                &stored.forecast,
                queues,
                as_of,
                computed_at,
            ))
        })
        .collect();
    Ok((forecasts, snapshots))
}

/// Keeps the forecasts fresh until the process ends: computes them at start, after every
/// reported write ([`CaseForecasts::touched`]), and at least every `period` (for writes made
/// by other server processes or by `expedite` commands).
pub async fn keep_fresh(
    store: Arc<dyn Store>,
    inputs: Arc<ForecastInputs>,
    forecasts: Arc<CaseForecasts>,
    period: std::time::Duration,
) {
    loop {
        let as_of = crate::today();
        match recompute(store.as_ref(), &inputs, &forecasts, as_of).await {
            Ok(count) => tracing::info!(count, "case forecasts computed"),
            Err(error) => tracing::warn!(%error, "case forecasts: store unreadable"),
        }
        tokio::select! {
            () = forecasts.changed() => {}
            () = tokio::time::sleep(period) => {}
        }
    }
}

/// `GET /api/v1/cases/{id}/forecast`: the case's last good forecast (P10/P50/P90 of contract,
/// first and final delivery), the assumptions behind it and when it was computed; `null`
/// with the reason while there is none. A case outside the caller's scope is a 404.
pub async fn case_forecast(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
    caller: crate::auth::Caller,
    crate::input::PathParam(id): crate::input::PathParam,
) -> Result<axum::Json<serde_json::Value>, crate::error::ApiError> {
    use crate::error::ApiError;
    let id = CaseId::parse(&id).map_err(|_| ApiError::NotFound)?;
    let stored = state
        .store
        .case(&id)
        .await?
        .filter(|stored| caller.scope().covers(&stored.case))
        .ok_or(ApiError::NotFound)?;
    let body = match state.forecasts.get(&stored.case.id) {
        Some(forecast) => serde_json::json!({
            "case": stored.case.id,
            "as_of": forecast.as_of,
            "computed_at": forecast.computed_at,
            "contract": forecast.forecast.contract,
            "first_delivery": forecast.forecast.first_delivery,
            "final_delivery": forecast.forecast.final_delivery,
            "overdue_stage": forecast.forecast.overdue_stage,
            "p_first_by_promise": forecast.forecast.p_first_by_promise,
            "assumptions": forecast.assumptions,
        }),
        None => serde_json::json!({
            "case": stored.case.id,
            "forecast": null,
            "reason": no_forecast_reason(&stored.case),
        }),
    };
    Ok(axum::Json(body))
}

/// Why a case has no forecast (yet).
pub fn no_forecast_reason(case: &Case) -> &'static str {
    if case.stage.is_terminal() || matches!(case.stage, Stage::Delivered | Stage::Closed) {
        "the case is delivered, closed or ended: nothing is left to forecast"
    } else if case.lines.iter().all(|line| line.production_line.is_none()) {
        "no line of the case names a production line of the catalog"
    } else {
        "not computed yet, or its production line has no published rate: forecasts are recomputed in the background"
    }
}
