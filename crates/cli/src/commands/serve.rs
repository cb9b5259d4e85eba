//! `expedite serve`: the case service over HTTP until Ctrl-C or SIGTERM.
//!
//! On a signal the server stops accepting, lets requests in flight finish, and closes the
//! database; every write it acknowledged was committed (and, on SQLite, synced) before the
//! acknowledgement went out.

use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use expedite_core::CaseId;
use expedite_store::{Author, NewToken, Role, SqlStore, Store, StoreError};
use expedite_web::AppState;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

/// How often case forecasts are recomputed even without a write through this process (for
/// writes made by other processes on a shared database).
const FORECAST_REFRESH: std::time::Duration = std::time::Duration::from_secs(600);

/// Arguments of `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Database URL: sqlite://PATH (created on first start) or postgres://…
    #[arg(long, env = "EXPEDITE_DB", default_value = "sqlite://expedite.db")]
    db: String,
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
    let shown_db = redact_url(&args.db);
    let store = expedite_store::open(&args.db)
        .await
        .with_context(|| format!("opening the database {shown_db}"))?;
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
    let inputs = expedite_web::forecasts::ForecastInputs::shipped()?;
    tokio::spawn(expedite_web::forecasts::keep_fresh(
        Arc::clone(&state.store),
        inputs,
        Arc::clone(&state.forecasts),
        FORECAST_REFRESH,
    ));
    expedite_web::serve(listener, state, shutdown).await?;
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

/// A database URL with any password replaced by `***`, for messages and logs.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rsplit_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}{}", &rest[authority_end..])
        }
        _ => url.to_owned(),
    }
}

/// Loads the real cases (`expedite_web::demo`) that are not there yet: each with its dated
/// milestones as events (the event's date is the real date; its recording time is now),
/// then prints a new admin token. A second start finds every id taken and adds nothing.
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
    let admin = NewToken::new(Role::Admin, None, None, None)?;
    let issued = store.create_token(admin, jiff::Timestamp::now()).await?;
    tracing::info!(loaded, left_out = left_out.len(), "demo cases loaded");
    crate::output::print_text(&format!(
        "demo: {loaded} real case(s) loaded; admin token '{}' (shown once): {}",
        issued.info.name, issued.token
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/expedite"),
            "postgres://app:***@db:5432/expedite"
        );
        assert_eq!(
            redact_url("postgres://postgres@127.0.0.1/x"),
            "postgres://postgres@127.0.0.1/x"
        );
        assert_eq!(redact_url("sqlite://expedite.db"), "sqlite://expedite.db");
    }
}
