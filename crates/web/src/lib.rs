//! The expedite HTTP API: JSON under `/api/v1`, described by the OpenAPI document at
//! `/api/v1/openapi.json`, with `/healthz` and `/readyz` at the root.
//!
//! Every request but the health checks and the document carries a bearer token; [`auth`]
//! says what each role sees and may do. Every error goes through [`error::ApiError`], which
//! decides the status and writes `{"error": {"code", "message", "fields"?}}`.
//!
//! The server takes a bound listener and a shutdown future ([`serve`]); it reads the clock
//! only for the time of a write and the day "late" is judged on. This crate depends on
//! `expedite-core` and `expedite-store` (and, later, on the forecast and data crates).
//!
//! Where to start reading: [`router`], then [`cases`].

pub mod auth;
pub mod cases;
pub mod error;
pub mod input;
pub mod rules;

use std::future::Future;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use expedite_core::{Date, RuleBook};
use expedite_store::Store;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

use crate::error::ApiError;

/// The OpenAPI 3.1 document, written by hand and held to the router by a test.
pub const OPENAPI: &str = include_str!("../openapi.json");

/// Every route the API serves, as (method, path): the OpenAPI document must list exactly
/// these, and the router is built from the same table.
pub const ROUTES: [(&str, &str); 10] = [
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/api/v1/openapi.json"),
    ("get", "/api/v1/cases"),
    ("post", "/api/v1/cases"),
    ("get", "/api/v1/cases/{id}"),
    ("get", "/api/v1/cases/{id}/events"),
    ("post", "/api/v1/cases/{id}/events"),
    ("get", "/api/v1/cases/{id}/verify"),
    ("post", "/api/v1/rules/notification"),
];

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The case store.
    pub store: Arc<dyn Store>,
    /// The statutory rules.
    pub rules: Arc<RuleBook>,
}

impl AppState {
    /// State over a store, with the compiled-in rules.
    ///
    /// # Errors
    /// If the compiled-in rule files do not load (a build defect).
    pub fn new(store: Arc<dyn Store>) -> Result<AppState, expedite_core::rules::RuleError> {
        Ok(AppState {
            store,
            rules: Arc::new(RuleBook::builtin()?),
        })
    }
}

/// The whole service as an axum router.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/openapi.json", get(openapi))
        .route("/cases", get(cases::list).post(cases::create))
        .route("/cases/{id}", get(cases::get_case))
        .route(
            "/cases/{id}/events",
            get(cases::events).post(cases::post_event),
        )
        .route("/cases/{id}/verify", get(cases::verify))
        .route("/rules/notification", post(rules::notification));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .nest("/api/v1", api)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(input::BODY_LIMIT))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves the API on `listener` until `shutdown` completes, then lets requests in flight
/// finish before returning.
///
/// # Errors
/// The listener's I/O errors.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
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
    ApiError::NotFound
}

async fn method_not_allowed() -> impl IntoResponse {
    let body = serde_json::json!({
        "error": { "code": "method_not_allowed", "message": "this path does not take that method" }
    });
    (StatusCode::METHOD_NOT_ALLOWED, Json(body))
}
