//! The expedite HTTP API: JSON under `/api/v1`, described by the OpenAPI document at
//! `/api/v1/openapi.json`, with `/healthz` and `/readyz` at the root.
//!
//! Every request but the health checks and the document carries a bearer token; [`auth`]
//! says what each role sees and may do. Every error goes through [`error::ApiError`], which
//! decides the status and writes `{"error": {"code", "message", "fields"?}}`.
//!
//! The server takes a bound listener and a shutdown future ([`serve`]); it reads the clock
//! only for the time of a write and the day "late" is judged on. This crate depends on
//! `expedite-core`, `expedite-store`, `expedite-forecast` and `expedite-data`.
//!
//! Where to start reading: [`router`], then [`cases`].

pub mod analytics;
pub mod auth;
pub mod cases;
pub mod demo;
pub mod error;
pub mod forecasts;
pub mod input;
pub mod pages;
pub mod reporting;
pub mod rules;
pub mod server;

use std::future::Future;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use expedite_core::{Date, RuleBook};
use expedite_data::nato::NatoData;
use expedite_data::sipri::TradeRegister;
use expedite_store::Store;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

use crate::error::ApiError;
pub use crate::server::Limits;

/// The OpenAPI 3.1 document, written by hand and held to the router by a test.
pub const OPENAPI: &str = include_str!("../openapi.json");

/// Every route the API serves, as (method, path): the OpenAPI document must list exactly
/// these, and the router is built from the same table.
pub const ROUTES: [(&str, &str); 17] = [
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/api/v1/openapi.json"),
    ("get", "/api/v1/cases"),
    ("post", "/api/v1/cases"),
    ("get", "/api/v1/cases/{id}"),
    ("get", "/api/v1/cases/{id}/events"),
    ("post", "/api/v1/cases/{id}/events"),
    ("get", "/api/v1/cases/{id}/verify"),
    ("get", "/api/v1/cases/{id}/forecast"),
    ("post", "/api/v1/rules/notification"),
    ("post", "/api/v1/forecast"),
    ("get", "/api/v1/analytics/nato/status"),
    ("get", "/api/v1/analytics/nato/trend/{country}"),
    ("get", "/api/v1/analytics/sipri/leadtimes"),
    ("get", "/api/v1/metrics"),
    ("get", "/api/v1/alerts"),
];

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The case store.
    pub store: Arc<dyn Store>,
    /// The statutory rules.
    pub rules: Arc<RuleBook>,
    /// NATO defence expenditure, as shipped.
    pub nato: Arc<NatoData>,
    /// The SIPRI trade register the server was given, if any.
    pub sipri: Option<Arc<TradeRegister>>,
    /// Analyses running per token (the cost limit of `POST /forecast`).
    pub analyses: Arc<analytics::AnalysisSlots>,
    /// Dashboard: sessions and forecast runs started from the pages.
    pub dashboard: Arc<pages::Dashboard>,
    /// The last good forecast of every stored case.
    pub forecasts: Arc<forecasts::CaseForecasts>,
    /// What every case forecast is built from (the shipped catalog, calibration and
    /// template), read once: the background forecasts, the dashboard's forecast of stored
    /// cases and its lines page share it.
    pub forecast_inputs: Arc<forecasts::ForecastInputs>,
}

impl AppState {
    /// State over a store, with the compiled-in rules, NATO figures and forecast inputs, and
    /// no SIPRI register (see [`AppState::with_sipri`]).
    ///
    /// # Errors
    /// If the compiled-in rules, NATO figures or forecast inputs do not load (a build
    /// defect).
    pub fn new(store: Arc<dyn Store>) -> Result<AppState, StateError> {
        Ok(AppState {
            store,
            rules: Arc::new(RuleBook::builtin()?),
            nato: Arc::new(NatoData::builtin()?),
            sipri: None,
            analyses: Arc::default(),
            dashboard: Arc::default(),
            forecasts: Arc::default(),
            forecast_inputs: Arc::new(forecasts::ForecastInputs::shipped()?),
        })
    }

    /// The same state with a SIPRI trade register for `/analytics/sipri/leadtimes`.
    pub fn with_sipri(self, register: TradeRegister) -> AppState {
        AppState {
            sipri: Some(Arc::new(register)),
            ..self
        }
    }
}

/// Why the shared state could not be built.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The compiled-in rule files.
    #[error(transparent)]
    Rules(#[from] expedite_core::rules::RuleError),
    /// The shipped NATO figures.
    #[error(transparent)]
    Nato(#[from] expedite_data::DataError),
    /// The shipped catalog, calibration and scenario template.
    #[error(transparent)]
    ForecastInputs(#[from] forecasts::InputsError),
}

/// The whole service as an axum router, under the default [`Limits`].
pub fn router(state: AppState) -> Router {
    router_with(state, Limits::default())
}

/// The whole service as an axum router, its requests held to `limits` (total time, body
/// read); the connection limits are [`server::serve`]'s.
pub fn router_with(state: AppState, limits: Limits) -> Router {
    routes(state).layer(axum::middleware::from_fn(move |request, next| {
        server::request_limits(limits, request, next)
    }))
}

fn routes(state: AppState) -> Router {
    let api = Router::new()
        .route("/openapi.json", get(openapi))
        .route("/cases", get(cases::list).post(cases::create))
        .route("/cases/{id}", get(cases::get_case))
        .route(
            "/cases/{id}/events",
            get(cases::events).post(cases::post_event),
        )
        .route("/cases/{id}/verify", get(cases::verify))
        .route("/cases/{id}/forecast", get(forecasts::case_forecast))
        .route("/rules/notification", post(rules::notification))
        .route("/forecast", post(analytics::forecast))
        .route("/analytics/nato/status", get(analytics::nato_status))
        .route(
            "/analytics/nato/trend/{country}",
            get(analytics::nato_trend),
        )
        .route(
            "/analytics/sipri/leadtimes",
            get(analytics::sipri_leadtimes),
        )
        .route("/metrics", get(reporting::metrics))
        .route("/alerts", get(reporting::alerts));
    Router::new()
        // The dashboard's pages (HTML, session cookies): see `pages`.
        .merge(pages::router())
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .nest("/api/v1", api)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(input::BODY_LIMIT))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves the API on `listener` under the default [`Limits`] until `shutdown` completes,
/// then lets requests in flight finish (within the shutdown deadline) before returning.
///
/// # Errors
/// The listener's I/O errors.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, state, Limits::default(), shutdown).await
}

/// [`serve`] under chosen limits ([`server`] says what each one bounds).
///
/// # Errors
/// The listener's I/O errors.
pub async fn serve_with(
    listener: TcpListener,
    state: AppState,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    server::serve(listener, router_with(state, limits), limits, shutdown).await
}

/// The current time, for recording writes.
pub(crate) fn now() -> jiff::Timestamp {
    jiff::Timestamp::now()
}

/// Today in UTC, the day "late" is judged on when the caller names none.
pub(crate) fn today() -> Date {
    jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date()
}

async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({ "status": "ok" }))
}

async fn readyz(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    state.store.ping().await.map_err(|error| {
        tracing::warn!(%error, "store not ready");
        ApiError::Unavailable
    })?;
    Ok(Json(serde_json::json!({ "status": "ready" })))
}

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}

async fn not_found() -> ApiError {
    ApiError::NoRoute
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
