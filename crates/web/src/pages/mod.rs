//! The dashboard: server-rendered HTML pages over the same store, rules and data as the API.
//!
//! Every page is an askama template (escaping on) under `crates/web/templates/`; every chart
//! is an SVG drawn on the server ([`charts`]) with a table beside it; the one stylesheet is
//! compiled in and served at `/static/style.css`. Nothing is loaded from the internet.
//!
//! Sign-in ([`session`]) turns an API token into a session cookie; a page sees exactly what
//! the token sees through the API: a purchaser only its own country's cases, everywhere
//! (lists, counts, charts, search, forecasts), and another country's case is a 404. Every
//! form carries a CSRF token bound to the session.

mod case;
pub mod charts;
mod forecast;
mod format;
mod lines;
mod metrics;
mod nato;
mod portfolio;
pub mod session;
mod suppliers;

use askama::Template;
use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use expedite_store::{Role, StoreError};

use crate::AppState;
use crate::auth::Caller;

pub use forecast::ForecastJobs;
pub use session::Sessions;

/// The stylesheet, compiled in.
pub const STYLESHEET: &str = include_str!("../../static/style.css");

/// Largest body a forecast upload may have (a scenario of a few thousand cases).
pub const UPLOAD_LIMIT: usize = 2 * 1024 * 1024;

/// What the dashboard keeps in memory: sessions and forecast runs started from the page.
#[derive(Debug, Default)]
pub struct Dashboard {
    /// Signed-in sessions.
    pub sessions: Sessions,
    /// Forecast runs started from `/forecast`.
    pub jobs: ForecastJobs,
}

/// The dashboard's routes, merged into the service's router.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(portfolio::page))
        .route("/login", get(session::login_form).post(session::login))
        .route("/logout", post(session::logout))
        .route("/cases/{id}", get(case::page).post(case::record))
        .route("/lines", get(lines::page))
        .route("/metrics", get(metrics::page))
        .route("/suppliers", get(suppliers::page))
        .route("/nato", get(nato::page))
        .route(
            "/forecast",
            get(forecast::page)
                .post(forecast::start)
                .layer(axum::extract::DefaultBodyLimit::max(UPLOAD_LIMIT)),
        )
        .route("/forecast/runs/{id}", get(forecast::run_page))
        .route(
            "/forecast/runs/{id}/report.json",
            get(forecast::report_json),
        )
        .route("/forecast/runs/{id}/report.csv", get(forecast::report_csv))
        .route("/static/style.css", get(stylesheet))
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
}

/// What every page's frame shows: the title, the navigation, who is signed in, and the CSRF
/// token for the sign-out form.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The page title.
    pub title: String,
    /// Which navigation entry is the current page.
    pub active: &'static str,
    /// The signed-in token's name.
    pub user: String,
    /// Its role, as a person reads it.
    pub role: String,
    /// The session's CSRF token.
    pub csrf: String,
    /// Whether the analytics pages (suppliers, allies) are open to this role.
    pub analytics: bool,
    /// The navigation entries.
    pub nav: Vec<NavItem>,
}

/// One entry of the navigation.
#[derive(Debug, Clone)]
pub struct NavItem {
    /// Where it goes.
    pub href: &'static str,
    /// What it says.
    pub label: &'static str,
    /// Whether it is the current page.
    pub current: bool,
}

/// One option of a select box.
#[derive(Debug, Clone)]
pub struct Opt {
    /// The value sent.
    pub value: String,
    /// What it says.
    pub label: String,
    /// Whether it is chosen.
    pub selected: bool,
}

/// Options from (value, label) pairs, with `selected` chosen.
pub(crate) fn options(
    pairs: impl IntoIterator<Item = (String, String)>,
    selected: &str,
) -> Vec<Opt> {
    pairs
        .into_iter()
        .map(|(value, label)| Opt {
            selected: value == selected,
            value,
            label,
        })
        .collect()
}

impl Layout {
    /// The frame for a signed-in viewer.
    pub fn new(title: impl Into<String>, active: &'static str, viewer: &session::Viewer) -> Layout {
        let caller = &viewer.caller;
        let role = match caller.scope() {
            expedite_store::Scope::Purchaser(country) => format!("purchaser, {}", country.name()),
            expedite_store::Scope::Agency(agency) => format!("case manager, {}", agency.as_str()),
            expedite_store::Scope::All => caller.role().as_str().replace('_', " "),
        };
        let analytics = may_read_analytics(caller);
        let mut entries = vec![
            ("/", "Portfolio", "portfolio"),
            ("/lines", "Lines", "lines"),
            ("/metrics", "Metrics", "metrics"),
            ("/forecast", "Forecast", "forecast"),
        ];
        if analytics {
            entries.push(("/suppliers", "Suppliers", "suppliers"));
            entries.push(("/nato", "Allies", "nato"));
        }
        Layout {
            title: title.into(),
            active,
            user: caller.name().to_owned(),
            role,
            csrf: viewer.csrf.clone(),
            analytics,
            nav: entries
                .into_iter()
                .map(|(href, label, key)| NavItem {
                    href,
                    label,
                    current: key == active,
                })
                .collect(),
        }
    }
}

/// Purchasers read their own cases and forecasts, nothing else (as in the API).
pub(crate) fn may_read_analytics(caller: &Caller) -> bool {
    caller.role() != Role::Purchaser
}

/// Why a page could not be shown.
#[derive(Debug)]
pub enum PageError {
    /// No session: go to the sign-in form, then come back to `next`.
    SignIn {
        /// The path to return to.
        next: String,
    },
    /// Nothing there, or nothing this viewer may see (404).
    NotFound,
    /// The role may not do this (403).
    Forbidden(&'static str),
    /// A form without the session's CSRF token (403).
    Csrf,
    /// A request the page cannot read (400).
    BadRequest(String),
    /// Too many forecast runs at once (503).
    Busy,
    /// The store cannot be reached (503).
    Unavailable,
    /// Anything else (500); the cause is logged, not shown.
    Internal(String),
}

impl From<StoreError> for PageError {
    fn from(error: StoreError) -> PageError {
        match error {
            StoreError::CaseNotFound(_) => PageError::NotFound,
            unreachable if unreachable.is_unavailable() => {
                tracing::error!(cause = %unreachable, "store unavailable");
                PageError::Unavailable
            }
            other => PageError::Internal(other.to_string()),
        }
    }
}

impl From<askama::Error> for PageError {
    fn from(error: askama::Error) -> PageError {
        PageError::Internal(format!("template: {error}"))
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, title, message) = match &self {
            PageError::SignIn { next } => {
                let target = format!("/login?next={}", format::query_escape(next));
                return Redirect::to(&target).into_response();
            }
            PageError::NotFound => (
                StatusCode::NOT_FOUND,
                "Not found",
                "There is nothing here, or nothing this sign-in may see.".to_owned(),
            ),
            PageError::Forbidden(what) => (
                StatusCode::FORBIDDEN,
                "Not allowed",
                format!("This sign-in's role may not {what}."),
            ),
            PageError::Csrf => (
                StatusCode::FORBIDDEN,
                "Form refused",
                "The form did not carry this session's security token: it expired or came from \
                 another site. Go back, reload the page and send it again."
                    .to_owned(),
            ),
            PageError::BadRequest(message) => {
                (StatusCode::BAD_REQUEST, "Bad request", message.clone())
            }
            PageError::Busy => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Busy",
                "Other forecasts are running; try again in a minute.".to_owned(),
            ),
            PageError::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Unavailable",
                "The case store cannot be reached; try again shortly.".to_owned(),
            ),
            PageError::Internal(cause) => {
                tracing::error!(%cause, "page failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal error",
                    "Something went wrong on the server; it has been logged.".to_owned(),
                )
            }
        };
        let page = ErrorPage {
            title,
            message: &message,
        };
        match page.render() {
            Ok(body) => (status, Html(body)).into_response(),
            Err(_) => (status, message).into_response(),
        }
    }
}

/// A rendered template as an HTML response.
pub(crate) fn html(template: &impl Template) -> Result<Response, PageError> {
    Ok(Html(template.render()?).into_response())
}

/// A rendered template with a status other than 200.
pub(crate) fn html_with(
    status: StatusCode,
    template: &impl Template,
) -> Result<Response, PageError> {
    Ok((status, Html(template.render()?)).into_response())
}
