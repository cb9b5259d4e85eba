//! The last good forecast of every stored case, kept in memory and recomputed in the
//! background, never inside a request.
//!
//! Every open case on a production line of the catalog goes into one scenario (so cases on
//! the same line queue for it together) built like `expedite demo` and `expedite backtest`
//! build theirs: the catalog's rates known on the day, the calibrated stage durations,
//! rate multiplier, ramp slip and first-delivery delay (`expedite_portfolio::calibrate`),
//! the template's build times, transport and backlog ([`ForecastInputs`]), and the case's
//! own history as facts, at the tier its latest `prioritise` event set (default 1).
//! [`keep_fresh`] recomputes after every write (a transition or delivery touches its case's
//! line, and so every case on it) and periodically; requests read the last good result with
//! the day it was computed.
//!
//! Every recompute also keeps each case's forecast in the store as a
//! [`ForecastSnapshot`] (P10/P50/P90, its place in each line's queue from
//! [`Scenario::queue_positions`], and the inputs that explain a change); the store adds a
//! row only when it says something new, and the forecast alerts compare them
//! (`expedite_store::history::forecast_alerts_for`). [`record`] does the same once, for
//! `expedite alerts --refresh`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use expedite_core::forecast_alerts::{
    Band, ForecastSnapshot, LineInputs, RateStep, SnapshotInputs,
};
use expedite_core::machine::{Case, DEFAULT_TIER};
use expedite_core::{CaseId, Date, Event, EventKind, Stage};
use expedite_data::capacity::Catalog;
use expedite_forecast::Percentiles;
use expedite_forecast::queue::CaseQueues;
use expedite_forecast::report::CaseForecast;
use expedite_forecast::scenario::{
    RawBacklog, RawCase, RawCaseLine, RawDate, RawDelivery, RawDist, RawLine, RawMilestones,
    RawScenario,
};
use expedite_forecast::{RunOptions, Scenario};
use expedite_portfolio::backtest::{Assumed, known_rates};
use expedite_portfolio::calibrate::Params;
use expedite_store::{CaseFilter, Change, Scope, Store};
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

/// What every case forecast is built from: the catalog, the calibrated parameters and the
/// demo template's assumptions, as `expedite demo` and `expedite backtest` use them.
#[derive(Debug, Clone)]
pub struct ForecastInputs {
    catalog: Catalog,
    params: Params,
    assumed: Assumed,
    template_channels: BTreeMap<String, BTreeMap<String, RawDist>>,
    backlog_years: BTreeMap<String, f64>,
    trials: u32,
    seed: u64,
}

/// Why the forecast inputs could not be read (a build defect: the shipped files are tested).
#[derive(Debug, thiserror::Error)]
#[error("forecast inputs: {0}")]
pub struct InputsError(String);

impl ForecastInputs {
    /// The shipped catalog, calibration and template.
    ///
    /// # Errors
    /// If a shipped file does not read.
    pub fn shipped() -> Result<ForecastInputs, InputsError> {
        let error = |what: &str, detail: String| InputsError(format!("{what}: {detail}"));
        let template_text = expedite_data::demo::SCENARIO_TEMPLATE;
        let template: toml::Table =
            toml::from_str(template_text).map_err(|e| error("scenario template", e.to_string()))?;
        let mut template_channels = BTreeMap::new();
        if let Some(channels) = template.get("channels").and_then(toml::Value::as_table) {
            for (channel, stages) in channels {
                let stages: BTreeMap<String, RawDist> = stages
                    .clone()
                    .try_into()
                    .map_err(|e: toml::de::Error| error("template channels", e.to_string()))?;
                template_channels.insert(channel.clone(), stages);
            }
        }
        let mut backlog_years = BTreeMap::new();
        if let Some(lines) = template.get("lines").and_then(toml::Value::as_table) {
            for (id, line) in lines {
                if let Some(years) = line.get("backlog_years").and_then(|value| {
                    value
                        .as_float()
                        .or_else(|| value.as_integer().map(|years| years as f64))
                }) {
                    backlog_years.insert(id.clone(), years);
                }
            }
        }
        let number = |key: &str| template.get(key).and_then(toml::Value::as_integer);
        Ok(ForecastInputs {
            catalog: Catalog::builtin().map_err(|e| error("catalog", e.to_string()))?,
            params: Params::shipped().map_err(|e| error("calibration", e.to_string()))?,
            assumed: Assumed::from_template(template_text, "scenario template")
                .map_err(|e| error("scenario template", e.to_string()))?,
            template_channels,
            backlog_years,
            trials: number("trials")
                .and_then(|trials| u32::try_from(trials).ok())
                .unwrap_or(2_000),
            seed: number("seed")
                .and_then(|seed| u64::try_from(seed).ok())
                .unwrap_or(1),
        })
    }

    /// The same inputs on another catalog (a what-if on a line's rates, or a test's).
    pub fn with_catalog(mut self, catalog: Catalog) -> ForecastInputs {
        self.catalog = catalog;
        self
    }

    /// The catalog the forecasts read the lines' rates from.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The assumptions every case forecast states.
    pub fn assumptions(&self, as_of: Date) -> Vec<String> {
        vec![
            format!("forecast as of {as_of}, {} trials, seed {}", self.trials, self.seed),
            format!(
                "stage durations: calibrated on real timelines ({}), the rest from the demo's scenario template",
                self.params.source
            ),
            "production: the catalog's published rates known on the day, the template's backlog ahead of every case and build time per line, the calibrated rate multiplier, ramp slip and first-delivery delay".to_owned(),
            "every stored case on a line queues with the others in one scenario; lines without a catalog production line are left out".to_owned(),
            "facts first: the milestones and deliveries in the case's history are not drawn again".to_owned(),
        ]
    }
}

/// A stored case with the dated deliveries of its history.
#[derive(Debug, Clone)]
pub struct CaseFacts {
    /// The case.
    pub case: Case,
    /// (date, line position, units) of every delivery so far.
    pub deliveries: Vec<(Date, usize, u32)>,
}

/// Builds one scenario of every case that can be forecast on `as_of`; returns it with the
/// ids it holds.
///
/// # Errors
/// The forecast's refusal of the scenario, as text.
pub fn scenario_for(
    cases: &[CaseFacts],
    inputs: &ForecastInputs,
    as_of: Date,
) -> Result<(Scenario, Vec<String>), String> {
    let mut raw_cases = Vec::new();
    let mut used_lines: Vec<String> = Vec::new();
    for facts in cases {
        if let Some(raw) = raw_case(facts, inputs, as_of) {
            for line in &raw.lines {
                if !used_lines.contains(&line.line) {
                    used_lines.push(line.line.clone());
                }
            }
            raw_cases.push(raw);
        }
    }
    let ids = raw_cases.iter().map(|case| case.id.clone()).collect();
    let mut channels = inputs.template_channels.clone();
    for (channel, stages) in &inputs.params.channels {
        let entry = channels.entry(channel.clone()).or_default();
        for (stage, dist) in stages {
            if stage != "first_delivery_delay" {
                entry.insert(stage.clone(), dist.clone());
            }
        }
    }
    for (channel, transport) in &inputs.assumed.transport {
        channels
            .entry(channel.clone())
            .or_default()
            .insert("transport".to_owned(), transport.clone());
    }
    let lines = used_lines
        .iter()
        .filter_map(|id| inputs.catalog.line(id))
        .map(|line| {
            let (rate, _) = known_rates(line, as_of);
            let now = rate.last().map_or(0.0, |step| step.per_year);
            let backlog = inputs.backlog_years.get(&line.id).copied().unwrap_or(0.0) * now;
            RawLine {
                id: line.id.clone(),
                name: line.system.clone(),
                backlog: RawBacklog::Units(backlog.round() as i64),
                lead_time_days: inputs
                    .assumed
                    .lead_time_days
                    .get(&line.id)
                    .copied()
                    .unwrap_or(0.0),
                rate,
                rate_multiplier: Some(inputs.params.line_defaults.rate_multiplier.clone()),
                ramp_slip: Some(inputs.params.line_defaults.ramp_slip.clone()),
                first_delivery_delay: inputs
                    .params
                    .first_delivery_delay(expedite_core::Channel::Fms, &line.id)
                    .cloned(),
                ..RawLine::default()
            }
        })
        .collect();
    let raw = RawScenario {
        name: "stored cases".to_owned(),
        start: RawDate(as_of.to_string()),
        trials: Some(i64::from(inputs.trials)),
        seed: i64::try_from(inputs.seed).ok(),
        target: None,
        channels,
        lines,
        cases: raw_cases,
        policies: Vec::new(),
    };
    let scenario = Scenario::from_raw(raw).map_err(|error| error.to_string())?;
    Ok((scenario, ids))
}

/// A stored case in the scenario's syntax, if it can be forecast: open, not delivered, with
/// at least one line on a catalog line that has a rate.
fn raw_case(facts: &CaseFacts, inputs: &ForecastInputs, as_of: Date) -> Option<RawCase> {
    let case = &facts.case;
    if case.stage.is_terminal()
        || matches!(case.stage, Stage::Delivered | Stage::Closed)
        || case.fully_delivered()
    {
        return None;
    }
    let on_line = |line: &expedite_core::CaseLine| {
        let id = line.production_line.as_deref()?;
        let catalog_line = inputs.catalog.line(id)?;
        (!known_rates(catalog_line, as_of).0.is_empty()).then(|| id.to_owned())
    };
    let lines: Vec<RawCaseLine> = case
        .lines
        .iter()
        .filter_map(|line| {
            Some(RawCaseLine {
                line: on_line(line)?,
                quantity: i64::from(line.quantity),
                unit_usd: line.unit_usd,
                mde: line.mde,
                category: Some(line.category),
            })
        })
        .collect();
    if lines.is_empty() {
        return None;
    }
    let date = |stage: Stage| case.entered(stage).map(|day| RawDate(day.to_string()));
    let deliveries = facts
        .deliveries
        .iter()
        .filter_map(|&(day, position, units)| {
            let line = on_line(case.lines.get(position)?)?;
            Some(RawDelivery {
                date: RawDate(day.to_string()),
                units: i64::from(units),
                line: Some(line),
            })
        })
        .collect();
    Some(RawCase {
        id: case.id.to_string(),
        purchaser: case.purchaser.iso3().to_owned(),
        channel: Some(case.channel.as_str().to_owned()),
        stage: Some(case.stage.as_str().to_owned()),
        since: date(case.stage),
        milestones: Some(RawMilestones {
            request: date(Stage::LorReceived),
            notification: date(Stage::CongressionalReview),
            loa: date(Stage::Implemented),
            contract: date(Stage::OnContract),
            deliveries,
        }),
        lines,
        // Left out at the default, so a case never prioritised builds the scenario it did.
        tier: (case.tier() != DEFAULT_TIER).then(|| i64::from(case.tier())),
        ..RawCase::default()
    })
}

/// Reads every stored case with its deliveries.
async fn facts_of_store(store: &dyn Store) -> Result<Vec<CaseFacts>, expedite_store::StoreError> {
    facts_in_scope(store, Scope::All).await
}

/// Reads the stored cases of a scope with their deliveries.
///
/// # Errors
/// The store's error.
pub async fn facts_in_scope(
    store: &dyn Store,
    scope: Scope,
) -> Result<Vec<CaseFacts>, expedite_store::StoreError> {
    let mut filter = CaseFilter::all_in(scope);
    filter.limit = u32::MAX;
    let page = store.list_cases(&filter).await?;
    let mut facts = Vec::with_capacity(page.cases.len());
    for stored in page.cases {
        let mut deliveries = Vec::new();
        if stored.case.delivered.iter().any(|units| *units > 0) {
            for record in store.events(&stored.case.id).await? {
                if let Change::Event(Event {
                    date,
                    kind: EventKind::Deliver { line, quantity },
                }) = record.change
                {
                    deliveries.push((date, line, quantity));
                }
            }
        }
        facts.push(CaseFacts {
            case: stored.case,
            deliveries,
        });
    }
    Ok(facts)
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
    let facts = facts_of_store(store).await?;
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
    let snapshots = forecasts
        .iter()
        .filter_map(|stored| {
            let facts = facts
                .iter()
                .find(|facts| facts.case.id.as_str() == stored.forecast.id)?;
            let queues = queues
                .iter()
                .find(|queues| queues.case == stored.forecast.id)?;
            Some(snapshot_of(facts, &scenario, stored, queues))
        })
        .collect();
    Ok((forecasts, snapshots))
}

/// A case's forecast as the store keeps it: the percentiles, its queues, and the inputs
/// that explain a change (its lines' known rate steps and backlog, its stage, milestones,
/// deliveries and tier).
fn snapshot_of(
    facts: &CaseFacts,
    scenario: &Scenario,
    stored: &StoredForecast,
    queues: &CaseQueues,
) -> ForecastSnapshot {
    let band = |percentiles: &Percentiles| Band {
        p10: percentiles.p10,
        p50: percentiles.p50,
        p90: percentiles.p90,
    };
    let case = &facts.case;
    let lines = queues
        .queues
        .iter()
        .filter_map(|queue| scenario.lines.iter().find(|line| line.id == queue.line))
        .map(|line| LineInputs {
            line: line.id.clone(),
            rate: line
                .rate
                .iter()
                .map(|step| RateStep {
                    from: step.from,
                    per_year: step.per_year,
                })
                .collect(),
            backlog: u64::from(line.backlog),
        })
        .collect();
    ForecastSnapshot {
        case: case.id.clone(),
        purchaser: case.purchaser,
        agency: case.agency,
        computed_at: stored.computed_at,
        as_of: stored.as_of,
        first_delivery: band(&stored.forecast.first_delivery),
        final_delivery: band(&stored.forecast.final_delivery),
        queues: queues.queues.clone(),
        inputs: SnapshotInputs {
            stage: case.stage,
            milestones: case.milestones.clone(),
            delivered: case.delivered.iter().copied().map(u64::from).sum(),
            tier: case.tier(),
            lines,
        },
    }
}

/// Keeps the forecasts fresh until the process ends: computes them at start, after every
/// reported write ([`CaseForecasts::touched`]), and at least every `period` (for writes made
/// by other server processes or by `expedite` commands).
pub async fn keep_fresh(
    store: Arc<dyn Store>,
    inputs: ForecastInputs,
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
