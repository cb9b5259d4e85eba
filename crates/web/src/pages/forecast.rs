//! `/forecast`: upload or pick a scenario, run it in the background with a progress bar, then
//! the fan chart and the table (the base against each policy) and the report as JSON or CSV.
//!
//! Runs live in this process's memory, tied to the session that started them; at most
//! [`MAX_RUNNING`] run at once and at most [`analytics::MAX_TRIALS`] trials each, as in the API.
//! A purchaser may run only scenarios whose every case is its own country's (as the API).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use expedite_forecast::{Report, RunOptions, Scenario};
use expedite_store::Scope;

use super::charts::{self, Mark, Row};
use super::session::Viewer;
use super::{Layout, PageError, html, html_with};
use crate::AppState;
use crate::analytics;

/// Forecast runs at once, over every session (the machine's cores are shared).
pub const MAX_RUNNING: usize = 2;
/// Runs kept in memory; the oldest finished ones go first.
pub const MAX_KEPT: usize = 50;
/// Cases drawn in the fan chart (the table lists all).
pub const CHART_CASES: usize = 40;

/// The scenarios shipped with the program, to pick from: (key, label, TOML).
const SHIPPED: [(&str, &str, &str); 1] = [(
    "eastern-flank",
    "Eastern flank air defence (example, illustrative cases)",
    include_str!("../../../../examples/forecast/eastern-flank.toml"),
)];

/// The choice that forecasts the stored cases the viewer may see.
const STORED: &str = "stored";

/// The stored cases the viewer may see, as one scenario built like the case forecasts.
async fn stored_scenario(
    state: &AppState,
    viewer: &Viewer,
) -> Result<Result<Scenario, String>, PageError> {
    let today = crate::today();
    let facts = crate::forecasts::facts_in_scope(
        state.store.as_ref(),
        viewer.caller.scope(),
        today,
        state.forecast_inputs.rules(),
    )
    .await?;
    Ok(
        crate::forecasts::scenario_for(&facts, &state.forecast_inputs, today).and_then(
            |(scenario, ids)| {
                if ids.is_empty() {
                    Err(
                        "none of your cases is on a production line with a published rate"
                            .to_owned(),
                    )
                } else {
                    Ok(scenario)
                }
            },
        ),
    )
}

/// One forecast run started from the page.
#[derive(Debug)]
struct Job {
    owner: String,
    name: String,
    done: AtomicU64,
    total: AtomicU64,
    outcome: Mutex<Option<Result<Arc<Report>, String>>>,
}

impl Job {
    fn outcome(&self) -> Option<Result<Arc<Report>, String>> {
        self.outcome
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// The forecast runs of this process.
#[derive(Debug, Default)]
pub struct ForecastJobs {
    jobs: Mutex<Vec<(String, Arc<Job>)>>,
    running: AtomicUsize,
}

impl ForecastJobs {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(String, Arc<Job>)>> {
        self.jobs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn find(&self, id: &str, owner: &str) -> Option<Arc<Job>> {
        self.lock()
            .iter()
            .find(|(key, job)| key == id && job.owner == owner)
            .map(|(_, job)| Arc::clone(job))
    }

    fn of_owner(&self, owner: &str) -> Vec<(String, Arc<Job>)> {
        self.lock()
            .iter()
            .filter(|(_, job)| job.owner == owner)
            .map(|(key, job)| (key.clone(), Arc::clone(job)))
            .collect()
    }

    fn add(&self, id: String, job: Arc<Job>) {
        let mut jobs = self.lock();
        while jobs.len() >= MAX_KEPT {
            match jobs.iter().position(|(_, job)| job.outcome().is_some()) {
                Some(oldest_finished) => {
                    jobs.remove(oldest_finished);
                }
                None => break,
            }
        }
        jobs.push((id, job));
    }
}

struct RunLink {
    href: String,
    name: String,
    state: String,
}

#[derive(Template)]
#[template(path = "forecast.html")]
struct ForecastPage {
    layout: Layout,
    shipped: Vec<(&'static str, &'static str)>,
    runs: Vec<RunLink>,
    message: Option<String>,
}

struct BandRow {
    policy: String,
    id: String,
    contract: String,
    first: String,
    last: String,
    p_on_target: String,
    overdue: String,
}

#[derive(Template)]
#[template(path = "forecast_run.html")]
struct RunPage {
    layout: Layout,
    id: String,
    running: bool,
    done: u64,
    total: u64,
    error: Option<String>,
    start: String,
    trials: u32,
    seed: u64,
    target: String,
    chart: String,
    rows: Vec<BandRow>,
    bottleneck: Vec<(String, String, String)>,
}

/// `GET /forecast`.
pub async fn page(State(state): State<AppState>, viewer: Viewer) -> Result<Response, PageError> {
    form_page(&state, &viewer, None, StatusCode::OK)
}

fn form_page(
    state: &AppState,
    viewer: &Viewer,
    message: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let runs = state
        .dashboard
        .jobs
        .of_owner(&viewer.session_key())
        .into_iter()
        .rev()
        .map(|(id, job)| RunLink {
            href: format!("/forecast/runs/{id}"),
            name: job.name.clone(),
            state: match job.outcome() {
                None => "running".to_owned(),
                Some(Ok(_)) => "done".to_owned(),
                Some(Err(_)) => "failed".to_owned(),
            },
        })
        .collect();
    html_with(
        status,
        &ForecastPage {
            layout: Layout::new("Forecast", "forecast", viewer),
            shipped: std::iter::once((
                STORED,
                "Your stored cases (those on catalog production lines)",
            ))
            .chain(SHIPPED.iter().map(|(key, label, _)| (*key, *label)))
            .collect(),
            runs,
            message,
        },
    )
}

/// What the multipart form sent.
#[derive(Default)]
struct Upload {
    csrf: Option<String>,
    choice: String,
    file: String,
    text: String,
    trials: String,
    seed: String,
}

async fn read_upload(mut multipart: Multipart) -> Result<Upload, PageError> {
    let mut upload = Upload::default();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|error| PageError::BadRequest(format!("the form could not be read: {error}")))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        let value = field
            .text()
            .await
            .map_err(|error| PageError::BadRequest(format!("{name}: {error}")))?;
        match name.as_str() {
            "csrf" => upload.csrf = Some(value),
            "choice" => upload.choice = value,
            "file" => upload.file = value,
            "scenario" => upload.text = value,
            "trials" => upload.trials = value,
            "seed" => upload.seed = value,
            _ => {}
        }
    }
    Ok(upload)
}

/// `POST /forecast` (multipart): starts a run and goes to its page.
pub async fn start(
    State(state): State<AppState>,
    viewer: Viewer,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    let multipart = multipart.map_err(|rejection| PageError::BadRequest(rejection.body_text()))?;
    let upload = read_upload(multipart).await?;
    viewer.check_csrf(upload.csrf.as_deref())?;
    let refuse = |message: String| {
        form_page(
            &state,
            &viewer,
            Some(message),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
    };
    let read = if !upload.file.trim().is_empty() {
        Scenario::from_toml_str(&upload.file).map_err(|error| error.to_string())
    } else if !upload.text.trim().is_empty() {
        Scenario::from_toml_str(&upload.text).map_err(|error| error.to_string())
    } else if upload.choice == STORED {
        stored_scenario(&state, &viewer).await?
    } else if let Some((_, _, toml)) = SHIPPED.iter().find(|(key, _, _)| *key == upload.choice) {
        Scenario::from_toml_str(toml).map_err(|error| error.to_string())
    } else {
        return refuse("scenario: upload a file, paste a scenario or pick one".to_owned());
    };
    let scenario = match read {
        Ok(scenario) => scenario,
        Err(error) => return refuse(format!("scenario: {error}")),
    };
    if let Scope::Purchaser(country) = viewer.caller.scope()
        && scenario.cases.iter().any(|case| case.purchaser != country)
    {
        return refuse(format!(
            "scenario: a purchaser may forecast only {}'s own cases",
            country.name()
        ));
    }
    let number = |field: &str, text: &str| -> Result<Option<u64>, String> {
        match text.trim() {
            "" => Ok(None),
            text => text
                .parse::<u64>()
                .map(Some)
                .map_err(|_| format!("{field}: must be a whole number")),
        }
    };
    let trials = match number("trials", &upload.trials) {
        Ok(trials) => trials,
        Err(message) => return refuse(message),
    };
    let seed = match number("seed", &upload.seed) {
        Ok(seed) => seed,
        Err(message) => return refuse(message),
    };
    let trials = trials.map(|value| u32::try_from(value).unwrap_or(u32::MAX));
    let effective = trials.unwrap_or(scenario.trials);
    if effective == 0 || effective > analytics::MAX_TRIALS {
        return refuse(format!(
            "trials: from 1 to {} per run, not {effective}",
            analytics::MAX_TRIALS
        ));
    }
    let jobs = &state.dashboard.jobs;
    if jobs.running.fetch_add(1, Ordering::SeqCst) >= MAX_RUNNING {
        jobs.running.fetch_sub(1, Ordering::SeqCst);
        return Err(PageError::Busy);
    }
    let id = super::session::random_hex()?[..16].to_owned();
    let job = Arc::new(Job {
        owner: viewer.session_key(),
        name: scenario.name.clone(),
        done: AtomicU64::new(0),
        total: AtomicU64::new(0),
        outcome: Mutex::new(None),
    });
    jobs.add(id.clone(), Arc::clone(&job));
    let dashboard = Arc::clone(&state.dashboard);
    tokio::task::spawn_blocking(move || {
        let progress = |done: u64, total: u64| {
            job.done.store(done, Ordering::Relaxed);
            job.total.store(total, Ordering::Relaxed);
        };
        let options = RunOptions {
            trials,
            seed,
            policies: None,
            progress: Some(&progress),
            band_parts: false,
        };
        let outcome = expedite_forecast::run(&scenario, &options)
            .map(Arc::new)
            .map_err(|error| error.to_string());
        *job.outcome
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(outcome);
        dashboard.jobs.running.fetch_sub(1, Ordering::SeqCst);
    });
    Ok(Redirect::to(&format!("/forecast/runs/{id}")).into_response())
}

fn job_of(state: &AppState, viewer: &Viewer, id: &str) -> Result<Arc<Job>, PageError> {
    state
        .dashboard
        .jobs
        .find(id, &viewer.session_key())
        .ok_or(PageError::NotFound)
}

/// `GET /forecast/runs/{id}`: progress while it runs, then the results.
pub async fn run_page(
    State(state): State<AppState>,
    viewer: Viewer,
    crate::input::PathParam(id): crate::input::PathParam,
) -> Result<Response, PageError> {
    let job = job_of(&state, &viewer, &id)?;
    let mut page = RunPage {
        layout: Layout::new(format!("Forecast: {}", job.name), "forecast", &viewer),
        id: id.clone(),
        running: false,
        done: job.done.load(Ordering::Relaxed),
        total: job.total.load(Ordering::Relaxed),
        error: None,
        start: String::new(),
        trials: 0,
        seed: 0,
        target: String::new(),
        chart: String::new(),
        rows: Vec::new(),
        bottleneck: Vec::new(),
    };
    match job.outcome() {
        None => page.running = true,
        Some(Err(error)) => page.error = Some(error),
        Some(Ok(report)) => {
            page.start = report.start.to_string();
            page.trials = report.trials;
            page.seed = report.seed;
            page.target = report.target.map(|t| t.to_string()).unwrap_or_default();
            page.chart = fan_chart(&report)?;
            page.rows = report
                .runs
                .iter()
                .flat_map(|run| {
                    run.cases.iter().map(|case| BandRow {
                        policy: run.policy.clone(),
                        id: case.id.clone(),
                        contract: bands(case.contract),
                        first: bands(case.first_delivery),
                        last: bands(case.final_delivery),
                        p_on_target: case
                            .p_on_target
                            .map(|p| format!("{:.0} %", p * 100.0))
                            .unwrap_or_default(),
                        overdue: case
                            .overdue_stage
                            .map(|stage| stage.as_str().to_owned())
                            .unwrap_or_default(),
                    })
                })
                .collect();
            page.bottleneck = report
                .runs
                .iter()
                .flat_map(|run| {
                    run.bottleneck.iter().take(3).map(|step| {
                        (
                            run.policy.clone(),
                            step.stage.replace('_', " "),
                            format!("{:.1}", step.median_days),
                        )
                    })
                })
                .collect();
        }
    }
    html(&page)
}

fn bands(dates: expedite_forecast::Percentiles) -> String {
    format!("{} / {} / {}", dates.p10, dates.p50, dates.p90)
}

/// Final delivery P10–P90 per case, one band per run (base and each policy).
fn fan_chart(report: &Report) -> Result<String, PageError> {
    let names: Vec<&str> = report.runs.iter().map(|run| run.policy.as_str()).collect();
    let Some(base) = report.runs.first() else {
        return Ok(String::new());
    };
    let rows: Vec<Row> = base
        .cases
        .iter()
        .take(CHART_CASES)
        .enumerate()
        .map(|(index, case)| Row {
            label: case.id.clone(),
            marks: report
                .runs
                .iter()
                .enumerate()
                .filter_map(|(series, run)| {
                    let dates = run.cases.get(index)?.final_delivery;
                    Some(Mark::Band {
                        p10: dates.p10,
                        p50: dates.p50,
                        p90: dates.p90,
                        series,
                    })
                })
                .collect(),
        })
        .collect();
    charts::date_rows(
        &format!("{}: final delivery, P10–P90 (tick: P50)", report.scenario),
        &names,
        &rows,
        None,
    )
}

/// `GET /forecast/runs/{id}/report.json`: the report as `expedite forecast --format json`.
pub async fn report_json(
    State(state): State<AppState>,
    viewer: Viewer,
    crate::input::PathParam(id): crate::input::PathParam,
) -> Result<Response, PageError> {
    let report = finished(&state, &viewer, &id)?;
    let body = serde_json::to_string_pretty(&*report)
        .map_err(|error| PageError::Internal(error.to_string()))?;
    Ok(download(body, "application/json", "forecast.json"))
}

/// `GET /forecast/runs/{id}/report.csv`: one row per run and case.
pub async fn report_csv(
    State(state): State<AppState>,
    viewer: Viewer,
    crate::input::PathParam(id): crate::input::PathParam,
) -> Result<Response, PageError> {
    let report = finished(&state, &viewer, &id)?;
    let mut body = String::from(
        "policy,case,contract_p10,contract_p50,contract_p90,first_p10,first_p50,first_p90,\
         final_p10,final_p50,final_p90,p_on_target,overdue_stage\n",
    );
    for run in &report.runs {
        for case in &run.cases {
            let cells = [
                csv_cell(&run.policy),
                csv_cell(&case.id),
                case.contract.p10.to_string(),
                case.contract.p50.to_string(),
                case.contract.p90.to_string(),
                case.first_delivery.p10.to_string(),
                case.first_delivery.p50.to_string(),
                case.first_delivery.p90.to_string(),
                case.final_delivery.p10.to_string(),
                case.final_delivery.p50.to_string(),
                case.final_delivery.p90.to_string(),
                case.p_on_target
                    .map(|p| format!("{p:.4}"))
                    .unwrap_or_default(),
                case.overdue_stage
                    .map(|stage| stage.as_str().to_owned())
                    .unwrap_or_default(),
            ];
            body.push_str(&cells.join(","));
            body.push('\n');
        }
    }
    Ok(download(body, "text/csv; charset=utf-8", "forecast.csv"))
}

/// A CSV cell, quoted when it holds a comma, quote or line break; a leading `=`, `+`, `-` or
/// `@` is prefixed with `'` so a spreadsheet does not run it as a formula.
fn csv_cell(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

fn finished(state: &AppState, viewer: &Viewer, id: &str) -> Result<Arc<Report>, PageError> {
    match job_of(state, viewer, id)?.outcome() {
        Some(Ok(report)) => Ok(report),
        _ => Err(PageError::NotFound),
    }
}

fn download(body: String, content_type: &'static str, name: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_never_formulas() {
        assert_eq!(csv_cell("PL-B-ZAB"), "PL-B-ZAB");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("=HYPERLINK(1)"), "'=HYPERLINK(1)");
    }

    #[test]
    fn the_shipped_scenarios_read() {
        for (key, _, toml) in SHIPPED {
            assert!(Scenario::from_toml_str(toml).is_ok(), "{key}");
        }
    }
}
