//! Read-only analytics over public data (`expedite-data`) and the delivery forecast
//! (`expedite-forecast`): `/api/v1/analytics/…` and `POST /api/v1/forecast`.
//!
//! Purchasers read their own cases and their forecasts, nothing else: they may run a
//! forecast only when every case in the scenario is theirs, and see no analytics.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Query, State};
use expedite_core::Country;
use expedite_data::Percent;
use expedite_data::nato::{SpendingStatus, Trend};
use expedite_data::sipri::leadtime::{
    self, DealFilter, GroupBy, LeadTimeReport, PartySelector, StatusFilter,
};
use expedite_forecast::{Report, RunOptions, Scenario};
use expedite_store::{Role, Scope};
use serde_json::{Map, Value};

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::input::{Checks, JsonObject, PathParam, reject_unknown};

/// Most trials one forecast request may ask for (the scenario's own count included).
pub const MAX_TRIALS: u32 = 20_000;

fn analysts_only(caller: &Caller) -> Result<(), ApiError> {
    if caller.role() == Role::Purchaser {
        return Err(ApiError::Forbidden("read analytics"));
    }
    Ok(())
}

/// `GET /api/v1/analytics/nato/status?year=2024&target=2`: who meets a share-of-GDP target.
pub async fn nato_status(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Json<SpendingStatus>, ApiError> {
    analysts_only(&caller)?;
    crate::input::refuse_nul_params(&params)?;
    let mut checks = Checks::default();
    let mut year = None;
    let mut target = Percent::from_hundredths(200);
    for (key, value) in &params {
        match key.as_str() {
            "year" => match value.parse::<i32>() {
                Ok(parsed) => year = Some(parsed),
                Err(_) => checks.fail(key.clone(), "must be a year"),
            },
            "target" => match value
                .parse::<f64>()
                .ok()
                .filter(|target| (0.0..=100.0).contains(target))
                .and_then(Percent::from_f64)
            {
                Some(parsed) => target = parsed,
                None => checks.fail(key.clone(), "must be a percentage of GDP such as 2 or 3.5"),
            },
            unknown => return Err(unknown_parameter(unknown, "year, target")),
        }
    }
    checks.finish()?;
    state
        .nato
        .status(year, target)
        .map(Json)
        .map_err(|error| ApiError::invalid("year", error.to_string()))
}

/// `GET /api/v1/analytics/nato/trend/{country}`: one member's spending over the years.
pub async fn nato_trend(
    State(state): State<AppState>,
    caller: Caller,
    PathParam(country): PathParam,
) -> Result<Json<Trend>, ApiError> {
    analysts_only(&caller)?;
    let country = Country::from_iso3(&country).map_err(|_| ApiError::NotFound)?;
    state
        .nato
        .trend(country)
        .map(Json)
        .map_err(|_| ApiError::NotFound)
}

/// `GET /api/v1/analytics/sipri/leadtimes?by=supplier&from=2000&recipient=POL`: years from
/// order to delivery in the SIPRI register the server was started with (`--sipri`).
pub async fn sipri_leadtimes(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Json<LeadTimeReport>, ApiError> {
    analysts_only(&caller)?;
    let Some(register) = state.sipri.as_deref() else {
        return Err(ApiError::NotFound);
    };
    crate::input::refuse_nul_params(&params)?;
    let mut checks = Checks::default();
    let mut filter = DealFilter::default();
    let mut by = GroupBy::Supplier;
    for (key, value) in &params {
        let year = |checks: &mut Checks| {
            value
                .parse::<i32>()
                .map_err(|_| checks.fail(key.clone(), "must be a year"))
                .ok()
        };
        match key.as_str() {
            "from" => filter.from_year = year(&mut checks),
            "to" => filter.to_year = year(&mut checks),
            "supplier" => filter.suppliers.push(PartySelector::parse(value)),
            "recipient" => filter.recipients.push(PartySelector::parse(value)),
            "status" => match value.as_str() {
                "new" => filter.status = StatusFilter::New,
                "second_hand" => filter.status = StatusFilter::SecondHand,
                "all" => filter.status = StatusFilter::All,
                _ => checks.fail(key.clone(), "must be new, second_hand or all"),
            },
            "by" => match value.as_str() {
                "supplier" => by = GroupBy::Supplier,
                "recipient" => by = GroupBy::Recipient,
                "category" => by = GroupBy::Category,
                "supplier_recipient" => by = GroupBy::SupplierRecipient,
                _ => checks.fail(
                    key.clone(),
                    "must be supplier, recipient, category or supplier_recipient",
                ),
            },
            unknown => {
                return Err(unknown_parameter(
                    unknown,
                    "by, from, to, supplier, recipient, status",
                ));
            }
        }
    }
    checks.finish()?;
    if let Err(error) = filter.check_names(register) {
        return Err(ApiError::invalid("supplier", error.to_string()));
    }
    Ok(Json(leadtime::lead_times(register, &filter, by)))
}

fn unknown_parameter(name: &str, expected: &str) -> ApiError {
    ApiError::Malformed {
        message: format!("unknown query parameter '{name}': expected {expected}"),
        field: Some(name.to_owned()),
    }
}

/// `POST /api/v1/forecast`: `{"scenario": TOML text or the same as a JSON object,
/// "trials"?, "seed"?, "policies"?}`; answers with the JSON of `expedite forecast`.
///
/// Cost is bounded three ways: the work a request asks for ([`forecast_work`]) must fit
/// [`MAX_FORECAST_WORK`] (else 422 naming the budget); a token runs at most
/// [`MAX_ANALYSES_PER_TOKEN`] at once (else 429); and a run stops between blocks of trials
/// once nobody waits for it (the client hung up, or the request's time ran out).
pub async fn forecast(
    State(state): State<AppState>,
    caller: Caller,
    JsonObject(body): JsonObject,
) -> Result<Json<Report>, ApiError> {
    reject_unknown(&body, &["scenario", "trials", "seed", "policies"], "")?;
    let mut checks = Checks::default();
    let trials = checks.optional::<u32>(&body, "", "trials");
    if trials == Some(0) {
        checks.fail("trials".to_owned(), "must be at least 1");
    }
    let seed = checks.optional::<u64>(&body, "", "seed");
    let policies = checks.optional::<Vec<String>>(&body, "", "policies");
    let scenario = scenario_of(&body, &mut checks);
    checks.finish()?;
    let scenario = scenario.ok_or_else(|| ApiError::invalid("scenario", "is required"))?;
    if let Scope::Purchaser(country) = caller.scope()
        && scenario.cases.iter().any(|case| case.purchaser != country)
    {
        return Err(ApiError::Forbidden("forecast another country's cases"));
    }
    let effective = trials.unwrap_or(scenario.trials);
    if effective > MAX_TRIALS {
        return Err(ApiError::invalid(
            "trials",
            format!("at most {MAX_TRIALS} trials per request, not {effective}"),
        ));
    }
    if let Some(names) = &policies
        && let Some(unknown) = names
            .iter()
            .find(|name| !scenario.policies.iter().any(|policy| &policy.name == *name))
    {
        return Err(ApiError::invalid(
            "policies",
            format!("unknown policy '{unknown}': not in the scenario"),
        ));
    }
    let work = forecast_work(&scenario, effective, policies.as_deref());
    if work > MAX_FORECAST_WORK {
        return Err(ApiError::OverBudget {
            message: format!(
                "this forecast asks for {work} line-trials (trials × runs × (case lines + rate steps)); the budget per request is {MAX_FORECAST_WORK}: use fewer trials, policies or cases"
            ),
        });
    }
    // The slot is held by the run itself, so it is free again only once the work stops.
    let slot = state.analyses.enter(caller.token_id())?;
    let cancelled = Arc::new(AtomicBool::new(false));
    let _cancel_when_dropped = CancelOnDrop(cancelled.clone());
    let scenario = Arc::new(scenario);
    let outcome = tokio::task::spawn_blocking(move || {
        let _slot = slot;
        let progress = move |_done: u64, _total: u64| {
            if cancelled.load(Ordering::Relaxed) {
                // Unwinds out of the run between two blocks of trials (without invoking
                // the panic hook), caught just below: the forecast crate knows nothing of
                // requests, and nothing it holds is left half-updated at a block boundary.
                std::panic::resume_unwind(Box::new(Cancelled));
            }
        };
        let options = RunOptions {
            trials,
            seed,
            policies: policies.as_deref(),
            progress: Some(&progress),
            band_parts: false,
        };
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            expedite_forecast::run(&scenario, &options)
        }))
    })
    .await
    .map_err(|error| ApiError::Internal(format!("forecast task: {error}")))?;
    match outcome {
        Ok(Ok(report)) => Ok(Json(report)),
        Ok(Err(error)) => Err(ApiError::invalid("policies", error.to_string())),
        Err(payload) if payload.is::<Cancelled>() => {
            Err(ApiError::Timeout("the forecast was cancelled"))
        }
        Err(payload) => std::panic::resume_unwind(payload),
    }
}

/// The work budget of one forecast request, in line-trials (see [`forecast_work`]): about
/// ten seconds of one core for the largest request that fits it.
pub const MAX_FORECAST_WORK: u64 = 4_000_000;

/// Longest scenario text.
pub const MAX_SCENARIO_CHARS: usize = 60_000;

/// Forecasts one token may run at once.
pub const MAX_ANALYSES_PER_TOKEN: usize = 2;

/// What a forecast costs, in line-trials: trials × runs (the base and each policy) × (the
/// scenario's case lines + its production-rate steps), the things each trial walks.
pub fn forecast_work(scenario: &Scenario, trials: u32, policies: Option<&[String]>) -> u64 {
    let runs = 1 + policies.map_or(scenario.policies.len(), <[String]>::len) as u64;
    let case_lines: usize = scenario
        .cases
        .iter()
        .map(|case| case.lines.len().max(1))
        .sum();
    let rate_steps: usize = scenario.lines.iter().map(|line| line.rate.len()).sum();
    u64::from(trials)
        .saturating_mul(runs)
        .saturating_mul((case_lines + rate_steps) as u64)
}

/// The payload a cancelled forecast unwinds with.
struct Cancelled;

/// Marks a forecast cancelled when the request handling it is dropped.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Analyses running per token.
#[derive(Debug, Default)]
pub struct AnalysisSlots {
    running: Mutex<HashMap<String, usize>>,
}

impl AnalysisSlots {
    /// Takes one of the token's slots until the returned guard is dropped.
    ///
    /// # Errors
    /// [`ApiError::TooManyAnalyses`] when the token uses all of its slots.
    pub fn enter(self: &Arc<Self>, token: &str) -> Result<AnalysisSlot, ApiError> {
        let mut running = self
            .running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = running.entry(token.to_owned()).or_default();
        if *count >= MAX_ANALYSES_PER_TOKEN {
            return Err(ApiError::TooManyAnalyses(MAX_ANALYSES_PER_TOKEN));
        }
        *count += 1;
        Ok(AnalysisSlot {
            slots: self.clone(),
            token: token.to_owned(),
        })
    }
}

/// One running analysis of one token.
#[derive(Debug)]
pub struct AnalysisSlot {
    slots: Arc<AnalysisSlots>,
    token: String,
}

impl Drop for AnalysisSlot {
    fn drop(&mut self) {
        let mut running = self
            .slots
            .running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = running.get_mut(&self.token) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                running.remove(&self.token);
            }
        }
    }
}

/// The scenario as TOML text, or a JSON object turned into the same TOML.
fn scenario_of(body: &Map<String, Value>, checks: &mut Checks) -> Option<Scenario> {
    let text = match body.get("scenario") {
        None | Some(Value::Null) => {
            checks.fail(
                "scenario".to_owned(),
                "is required: the scenario TOML as text, or as an object",
            );
            return None;
        }
        Some(Value::String(text)) if text.chars().count() > MAX_SCENARIO_CHARS => {
            checks.fail(
                "scenario".to_owned(),
                format!("must be at most {MAX_SCENARIO_CHARS} characters"),
            );
            return None;
        }
        Some(Value::String(text)) => text.clone(),
        Some(object @ Value::Object(_)) => match toml::to_string(object) {
            Ok(text) => text,
            Err(error) => {
                checks.fail(
                    "scenario".to_owned(),
                    format!("cannot be read as a scenario: {error}"),
                );
                return None;
            }
        },
        Some(_) => {
            checks.fail("scenario".to_owned(), "must be TOML text or an object");
            return None;
        }
    };
    match Scenario::from_toml_str(&text) {
        Ok(scenario) => Some(scenario),
        Err(error) => {
            checks.fail("scenario".to_owned(), error.to_string());
            None
        }
    }
}
