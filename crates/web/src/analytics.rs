//! Read-only analytics over public data (`expedite-data`) and the delivery forecast
//! (`expedite-forecast`): `/api/v1/analytics/…` and `POST /api/v1/forecast`.
//!
//! Purchasers read their own cases and their forecasts, nothing else: they may run a
//! forecast only when every case in the scenario is theirs, and see no analytics.

use std::sync::Arc;

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
    let mut checks = Checks::default();
    let mut year = None;
    let mut target = Percent::from_hundredths(200);
    for (key, value) in &params {
        match key.as_str() {
            "year" => match value.parse::<i32>() {
                Ok(parsed) => year = Some(parsed),
                Err(_) => checks.fail(key.clone(), "must be a year"),
            },
            "target" => match value.parse::<f64>().ok().and_then(Percent::from_f64) {
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
pub async fn forecast(
    State(_state): State<AppState>,
    caller: Caller,
    JsonObject(body): JsonObject,
) -> Result<Json<Report>, ApiError> {
    reject_unknown(&body, &["scenario", "trials", "seed", "policies"], "")?;
    let mut checks = Checks::default();
    let trials = checks.optional::<u32>(&body, "", "trials");
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
    let scenario = Arc::new(scenario);
    let report = tokio::task::spawn_blocking(move || {
        let options = RunOptions {
            trials,
            seed,
            policies: policies.as_deref(),
            progress: None,
            band_parts: false,
        };
        expedite_forecast::run(&scenario, &options)
    })
    .await
    .map_err(|error| ApiError::Internal(format!("forecast task: {error}")))?;
    report
        .map(Json)
        .map_err(|error| ApiError::invalid("policies", error.to_string()))
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
