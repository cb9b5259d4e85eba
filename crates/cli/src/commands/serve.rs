//! `expedite serve`: the case service over HTTP until Ctrl-C or SIGTERM.
//!
//! On a signal the server stops accepting, closes idle connections, lets requests in
//! flight finish within the shutdown deadline, and closes the database; every write it
//! acknowledged was committed (and, on SQLite, synced) before the acknowledgement went out.
//! Every connection is held to the limits of `expedite_web::server`.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use expedite_core::CaseId;
use expedite_store::{Author, NewToken, Role, SqlStore, Store, StoreError};
use expedite_web::{AppState, Limits};

use super::database::{Access, DbArgs, parse_duration};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

/// How often case forecasts are recomputed even without a write through this process (for
/// writes made by other processes on a shared database).
const FORECAST_REFRESH: std::time::Duration = std::time::Duration::from_secs(600);

/// Arguments of `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Address to listen on (port 0 picks a free port; the address is printed).
    #[arg(long, env = "EXPEDITE_ADDR", default_value = "127.0.0.1:8080")]
    addr: String,
    /// Load the real cases (shipped timelines and DSCA notifications, once) and print a new
    /// admin token.
    #[arg(long)]
    demo: bool,
    /// A SIPRI trade register (CSV as exported by SIPRI) to serve lead times from.
    #[arg(long, env = "EXPEDITE_SIPRI", value_name = "PATH")]
    sipri: Option<std::path::PathBuf>,
    /// Longest wait for a request head, and for the next one on an idle kept-alive
    /// connection.
    #[arg(long, env = "EXPEDITE_HEADER_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    header_timeout: Duration,
    /// Longest time to receive a request body.
    #[arg(long, env = "EXPEDITE_BODY_TIMEOUT", default_value = "15s", value_parser = parse_duration)]
    body_timeout: Duration,
    /// Longest time from a request head to its response.
    #[arg(long, env = "EXPEDITE_REQUEST_TIMEOUT", default_value = "60s", value_parser = parse_duration)]
    request_timeout: Duration,
    /// Most connections open at once; past it the oldest idle ones are closed.
    #[arg(long, env = "EXPEDITE_MAX_CONNECTIONS", default_value_t = 512, value_parser = clap::value_parser!(u32).range(2..=1_000_000))]
    max_connections: u32,
    /// How long requests in flight may run on after SIGTERM or Ctrl-C.
    #[arg(long, env = "EXPEDITE_SHUTDOWN_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    shutdown_timeout: Duration,
}

impl ServeArgs {
    fn limits(&self) -> Limits {
        Limits {
            header_read: self.header_timeout,
            body_read: self.body_timeout,
            request_total: self.request_timeout,
            max_connections: self.max_connections as usize,
            shutdown: self.shutdown_timeout,
        }
    }
}

/// Runs the service until a signal stops it.
pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve(args))
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let shown_db = args.db.shown();
    let store = args.db.open(Access::Create).await?;
    if args.demo {
        load_demo(&store).await?;
    }
    let shutdown = shutdown_signal()?;
    let listener = TcpListener::bind(&args.addr)
        .await
        .with_context(|| format!("--addr {}", args.addr))?;
    let address = listener.local_addr()?;
    tracing::info!(%address, db = %shown_db, "serving");
    crate::output::print_text(&format!("listening on http://{address}"))?;
    let mut state = AppState::new(Arc::new(store.clone()))?;
    if let Some(path) = &args.sipri {
        let register = expedite_data::sipri::read_path(path)
            .with_context(|| format!("--sipri {}", path.display()))?;
        state = state.with_sipri(register);
    }
    // Every stored case's forecast, kept fresh in the background (never inside a request).
    tokio::spawn(expedite_web::forecasts::keep_fresh(
        Arc::clone(&state.store),
        Arc::clone(&state.forecast_inputs),
        Arc::clone(&state.forecasts),
        FORECAST_REFRESH,
    ));
    expedite_web::serve_with(listener, state, args.limits(), shutdown).await?;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Listens for Ctrl-C and SIGTERM from now on (so a signal that arrives before the server
/// runs is not lost) and returns a future that completes on the first of them.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt()).context("listening for Ctrl-C")?;
        let mut terminate = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
            tracing::info!("shutting down: finishing requests in flight");
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("shutting down: finishing requests in flight");
        })
    }
}

/// The name of the one admin token `--demo` keeps: each start gives it a new secret.
const DEMO_ADMIN: &str = "demo-admin";

/// Loads the real cases (`expedite_web::demo`) that are not there yet: each with its dated
/// milestones as events (the event's date is the real date; its recording time is now),
/// then gives the one demo admin token a new secret (one token however often the demo
/// starts; the previous secret stops working). A second start adds no case.
async fn load_demo(store: &SqlStore) -> anyhow::Result<()> {
    let author = Author {
        name: "demo".to_owned(),
        at: jiff::Timestamp::now(),
    };
    let timelines = expedite_data::timelines::Timeline::builtin()?;
    let notifications = expedite_data::dsca::builtin()?;
    let catalog = expedite_data::capacity::Catalog::builtin()?;
    let rules = expedite_core::RuleBook::builtin()?;
    let (cases, left_out) =
        expedite_web::demo::real_cases(&timelines, &notifications, &catalog, &rules);
    let mut loaded = 0;
    for real in cases {
        let id: CaseId = real.letter.id.clone();
        match store.open_case(real.letter, &author).await {
            Err(StoreError::CaseExists(_)) => continue,
            other => other.with_context(|| format!("demo case {id} ({})", real.source))?,
        };
        for (version, event) in (1..).zip(real.events) {
            store
                .append_event(&id, version, event, &author)
                .await
                .with_context(|| format!("demo case {id} ({})", real.source))?;
        }
        loaded += 1;
    }
    let admin = NewToken::new(Role::Admin, None, None, Some(DEMO_ADMIN.to_owned()))?;
    let issued = store.replace_token(admin, jiff::Timestamp::now()).await?;
    tracing::info!(loaded, left_out = left_out.len(), "demo cases loaded");
    crate::output::print_text(&format!(
        "demo: {loaded} real case(s) loaded; admin token '{}' (shown once): {}",
        issued.info.name, issued.token
    ))
}
