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
use expedite_core::{CaseId, Event, EventKind, NewCase, Stage};
use expedite_store::{Author, NewToken, Role, SqlStore, Store, StoreError};
use expedite_web::{AppState, Limits};
use serde_json::json;

use super::database::{Access, DbArgs, parse_duration};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

/// Arguments of `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Address to listen on (port 0 picks a free port; the address is printed).
    #[arg(long, env = "EXPEDITE_ADDR", default_value = "127.0.0.1:8080")]
    addr: String,
    /// Load the built-in demo cases (once) and print a new admin token.
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

/// One demo case: its Letter of Request and the events since.
struct DemoCase {
    letter: serde_json::Value,
    events: Vec<(&'static str, EventKind)>,
}

fn to(stage: Stage) -> EventKind {
    EventKind::Advance { to: stage }
}

/// Cases modelled on DSCA notifications in `shared/data/dsca/notifications.csv` (dates of
/// notification as the start of congressional review; quantities and values as announced,
/// split into illustrative lines; the other dates are illustrative).
fn demo_cases() -> Vec<DemoCase> {
    use Stage::*;
    vec![
        DemoCase {
            // Poland, IBCS-enabled Patriot (phase II), notified 2023-06-28, $15B.
            letter: json!({"id": "PL-B-ZAB", "purchaser": "POL", "agency": "army", "lor_received": "2022-09-15",
                "lines": [
                    {"item": "PAC-3 MSE interceptor", "quantity": 644, "unit_usd": 8_000_000, "mde": true, "production_line": "pac3-mse"},
                    {"item": "M903 launching station", "quantity": 48, "unit_usd": 20_000_000, "mde": true},
                    {"item": "LTAMDS radar", "quantity": 12, "unit_usd": 300_000_000, "mde": true},
                    {"item": "IBCS engagement operations centre", "quantity": 1, "unit_usd": 2_200_000_000_u64, "mde": true}]}),
            events: vec![
                ("2022-09-20", to(LorActionable)),
                ("2022-10-03", to(LoaDevelopment)),
                ("2023-06-28", to(CongressionalReview)),
                ("2023-08-15", to(Offered)),
                ("2023-09-20", to(Implemented)),
                ("2024-02-29", to(OnContract)),
            ],
        },
        DemoCase {
            // Estonia, M142 HIMARS, notified 2022-07-15, $500M.
            letter: json!({"id": "EE-B-HIM", "purchaser": "EST", "agency": "army", "lor_received": "2022-05-02",
                "lines": [
                    {"item": "M142 HIMARS launcher", "quantity": 6, "unit_usd": 40_000_000, "mde": true, "production_line": "himars"},
                    {"item": "GMLRS pod", "quantity": 45, "unit_usd": 5_000_000, "mde": true}]}),
            events: vec![
                ("2022-05-06", to(LorActionable)),
                ("2022-05-16", to(LoaDevelopment)),
                ("2022-07-15", to(CongressionalReview)),
                ("2022-08-26", to(Offered)),
                ("2022-10-20", to(Implemented)),
                ("2023-03-01", to(OnContract)),
                (
                    "2025-01-15",
                    EventKind::Deliver {
                        line: 0,
                        quantity: 6,
                    },
                ),
            ],
        },
        DemoCase {
            // Norway, AIM-120C-8/D AMRAAM, notified 2022-07-15, $950M.
            letter: json!({"id": "NO-D-AMR", "purchaser": "NOR", "agency": "air_force", "lor_received": "2022-03-01",
                "lines": [{"item": "AIM-120C-8/D AMRAAM", "quantity": 205, "unit_usd": 4_600_000, "mde": true, "production_line": "amraam"}]}),
            events: vec![
                ("2022-03-04", to(LorActionable)),
                ("2022-03-20", to(LoaDevelopment)),
                ("2022-07-15", to(CongressionalReview)),
                ("2022-09-01", to(Offered)),
            ],
        },
        DemoCase {
            // Poland, AH-64E Apache, notified 2023-08-21, $12B.
            letter: json!({"id": "PL-B-APA", "purchaser": "POL", "agency": "army", "lor_received": "2022-09-01",
                "lines": [{"item": "AH-64E Apache helicopter", "quantity": 96, "unit_usd": 125_000_000, "mde": true}]}),
            events: vec![
                ("2022-09-12", to(LorActionable)),
                ("2022-10-01", to(LoaDevelopment)),
            ],
        },
        DemoCase {
            // Poland, AGM-158B-2 JASSM-ER, notified 2024-03-12, $1.77B.
            letter: json!({"id": "PL-D-JAS", "purchaser": "POL", "agency": "air_force", "lor_received": "2024-01-10",
                "lines": [{"item": "AGM-158B-2 JASSM-ER", "quantity": 821, "unit_usd": 2_150_000, "mde": true}]}),
            events: vec![],
        },
    ]
}

/// The name of the one admin token `--demo` keeps: each start gives it a new secret.
const DEMO_ADMIN: &str = "demo-admin";

/// Loads the demo cases that are not there yet, then gives the demo admin token a new
/// secret (one token however often the demo starts; the previous secret stops working).
async fn load_demo(store: &SqlStore) -> anyhow::Result<()> {
    let author = Author {
        name: "demo".to_owned(),
        at: jiff::Timestamp::now(),
    };
    let mut loaded = 0;
    for demo in demo_cases() {
        let new: NewCase = serde_json::from_value(demo.letter).context("a built-in demo case")?;
        let id: CaseId = new.id.clone();
        match store.open_case(new, &author).await {
            Err(StoreError::CaseExists(_)) => continue,
            other => other.with_context(|| format!("demo case {id}"))?,
        };
        for (version, (date, kind)) in (1..).zip(demo.events) {
            let event = Event {
                date: date.parse()?,
                kind,
            };
            store
                .append_event(&id, version, event, &author)
                .await
                .with_context(|| format!("demo case {id}"))?;
        }
        loaded += 1;
    }
    let admin = NewToken::new(Role::Admin, None, None, Some(DEMO_ADMIN.to_owned()))?;
    let issued = store.replace_token(admin, jiff::Timestamp::now()).await?;
    tracing::info!(loaded, "demo cases loaded");
    crate::output::print_text(&format!(
        "demo: {loaded} case(s) loaded; admin token '{}' (shown once): {}",
        issued.info.name, issued.token
    ))
}
