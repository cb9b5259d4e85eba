//! `spawn_app`: the API on port 0 over a fresh SQLite database, with one token per role;
//! `spawn_app_on` the same over a fresh PostgreSQL database when `EXPEDITE_TEST_PG_URL` is
//! set (with `CI=true`, its absence fails the test instead of skipping PostgreSQL).

// Shared by several test binaries, each of which uses only part of it.
#![allow(dead_code)]

use std::sync::Arc;

use expedite_core::{Agency, Country};
use expedite_store::{HistoryKey, NewToken, OpenOptions, Role, SqlStore, Store};
use expedite_web::AppState;
use serde_json::{Value, json};
use sqlx::{AssertSqlSafe, Connection, Executor};
use tokio::sync::oneshot;

/// Which database a test app runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in a temporary folder.
    Sqlite,
    /// A fresh database on the server `EXPEDITE_TEST_PG_URL` names.
    Postgres,
}

/// The backends to run on: SQLite, and PostgreSQL when `EXPEDITE_TEST_PG_URL` is set.
pub fn backends() -> Vec<Backend> {
    let in_ci = std::env::var("CI").is_ok_and(|value| value == "true");
    match std::env::var("EXPEDITE_TEST_PG_URL") {
        Ok(url) if !url.is_empty() => vec![Backend::Sqlite, Backend::Postgres],
        _ if in_ci => panic!("CI=true but EXPEDITE_TEST_PG_URL is not set"),
        _ => {
            eprintln!("skipping PostgreSQL: EXPEDITE_TEST_PG_URL is not set");
            vec![Backend::Sqlite]
        }
    }
}

/// A fresh PostgreSQL database: its URL, and the admin URL and name to drop it with.
async fn fresh_postgres() -> (String, String, String) {
    let base = std::env::var("EXPEDITE_TEST_PG_URL").expect("EXPEDITE_TEST_PG_URL");
    sqlx::any::install_default_drivers();
    let mut admin = sqlx::AnyConnection::connect(&base)
        .await
        .expect("EXPEDITE_TEST_PG_URL is set but PostgreSQL is unreachable");
    let stamp = jiff::Timestamp::now().as_nanosecond();
    let name = format!("expedite_web_{}_{stamp}", std::process::id());
    admin
        .execute(AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .expect("create database");
    admin.close().await.expect("close");
    let server = base
        .rsplit_once('/')
        .map_or(base.as_str(), |(server, _)| server);
    (format!("{server}/{name}"), base.clone(), name)
}

/// A running server and what a test needs to talk to it.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    /// The store under the server, for checks past the API.
    pub store: SqlStore,
    /// The database URL, for tampering.
    pub db_url: String,
    /// An HTTP client.
    pub client: reqwest::Client,
    /// Tokens: admin, Polish and Estonian purchasers, Army and Navy case managers, analyst.
    pub admin: String,
    pub poland: String,
    pub estonia: String,
    pub army: String,
    pub navy: String,
    pub analyst: String,
    _shutdown: oneshot::Sender<()>,
    _folder: tempfile::TempDir,
    /// The PostgreSQL database to drop at the end (admin URL, name).
    postgres: Option<(String, String)>,
}

/// Starts the API; logs go to the test output only with `TEST_LOG=1`.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|state| state).await
}

/// Starts the API with changes to its state (e.g. a SIPRI register).
pub async fn spawn_app_with(configure: impl FnOnce(AppState) -> AppState) -> TestApp {
    spawn(Backend::Sqlite, configure).await
}

/// Starts the API on a backend.
pub async fn spawn_app_on(backend: Backend) -> TestApp {
    spawn(backend, |state| state).await
}

async fn spawn(backend: Backend, configure: impl FnOnce(AppState) -> AppState) -> TestApp {
    if std::env::var("TEST_LOG").is_ok() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter("debug")
            .try_init();
    }
    let folder = tempfile::tempdir().expect("temp dir");
    let (db_url, postgres) = match backend {
        Backend::Sqlite => (
            format!("sqlite://{}", folder.path().join("api.db").display()),
            None,
        ),
        Backend::Postgres => {
            let (url, base, name) = fresh_postgres().await;
            (url, Some((base, name)))
        }
    };
    let store = SqlStore::open(&db_url, &OpenOptions::new(HistoryKey::generate()))
        .await
        .expect("open store");
    let token = |role, country: Option<&str>, agency, name: &str| {
        let country = country.map(|code| Country::from_iso3(code).expect("test country"));
        NewToken::new(role, country, agency, Some(name.to_owned())).expect("test token")
    };
    let at = jiff::Timestamp::now();
    let mut secrets = Vec::new();
    for new in [
        token(Role::Admin, None, None, "admin"),
        token(Role::Purchaser, Some("POL"), None, "mon-poland"),
        token(Role::Purchaser, Some("EST"), None, "ecdi-estonia"),
        token(Role::CaseManager, None, Some(Agency::Army), "usasac-army"),
        token(Role::CaseManager, None, Some(Agency::Navy), "nipo-navy"),
        token(Role::Analyst, None, None, "analyst"),
    ] {
        secrets.push(
            store
                .create_token(new, at)
                .await
                .expect("create token")
                .token,
        );
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind port 0");
    let address = format!("http://{}", listener.local_addr().expect("address"));
    let state = configure(AppState::new(Arc::new(store.clone()) as Arc<dyn Store>).expect("state"));
    let (shutdown, stop) = oneshot::channel::<()>();
    tokio::spawn(expedite_web::serve(listener, state, async move {
        let _ = stop.await;
    }));
    let mut secrets = secrets.into_iter();
    let mut next = || secrets.next().expect("six tokens");
    TestApp {
        address,
        store,
        db_url,
        client: reqwest::Client::new(),
        admin: next(),
        poland: next(),
        estonia: next(),
        army: next(),
        navy: next(),
        analyst: next(),
        _shutdown: shutdown,
        _folder: folder,
        postgres,
    }
}

/// A status and a JSON body (or `Null` when the body is not JSON).
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Reply {
    /// The `error.code` of an error body.
    pub fn code(&self) -> &str {
        self.body["error"]["code"]
            .as_str()
            .unwrap_or("<no error code>")
    }

    /// The field names of an error body.
    pub fn fields(&self) -> Vec<String> {
        self.body["error"]["fields"]
            .as_array()
            .map(|fields| {
                fields
                    .iter()
                    .filter_map(|f| f["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl TestApp {
    /// Stops using the database and drops it if it was a PostgreSQL one.
    pub async fn finish(self) {
        self.store.close().await;
        if let Some((base, name)) = &self.postgres
            && let Ok(mut admin) = sqlx::AnyConnection::connect(base).await
        {
            let _ = admin
                .execute(AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .await;
        }
    }

    /// Sends a request with any method, content type and raw body.
    pub async fn send_raw(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: Option<String>,
    ) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.address));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        Reply {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }

    /// Sends a request with a token and an optional raw body.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<String>,
    ) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.address));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        Reply {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }

    /// GET with a token.
    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.send("GET", path, Some(token), None).await
    }

    /// POST JSON with a token.
    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Reply {
        self.send("POST", path, Some(token), Some(body.to_string()))
            .await
    }

    /// Opens a case as admin and checks it was created.
    pub async fn open(&self, body: &Value) -> Reply {
        let reply = self.post("/api/v1/cases", &self.admin, body).await;
        assert_eq!(reply.status, 201, "open case: {}", reply.body);
        reply
    }
}

/// A Letter of Request modelled on a DSCA notification: Poland's IBCS-enabled Patriot
/// (2023-06-28) for `PL-…`, Estonia's HIMARS (2022-07-15) otherwise.
pub fn letter(id: &str, purchaser: &str, agency: &str) -> Value {
    let (item, quantity, unit_usd) = if purchaser == "POL" {
        ("PAC-3 MSE interceptor", 644, 4_000_000)
    } else {
        ("M142 HIMARS launcher", 6, 40_000_000)
    };
    json!({
        "id": id,
        "purchaser": purchaser,
        "agency": agency,
        "lor_received": "2025-01-01",
        "lines": [{"item": item, "quantity": quantity, "unit_usd": unit_usd, "mde": true}]
    })
}

/// An `advance` event body.
pub fn advance(version: i64, date: &str, to: &str) -> Value {
    json!({"version": version, "date": date, "kind": "advance", "to": to})
}

/// Moves a case put on contract by [`himars_on_contract`] to priority `tier` on 2026-11-01
/// (its sixth event), as the administrator: the reply, for the caller to check.
pub async fn prioritise(app: &TestApp, id: &str, tier: i64) -> Reply {
    app.post(
        &format!("/api/v1/cases/{id}/events"),
        &app.admin,
        &json!({"version": 6, "date": "2026-11-01", "kind": "prioritise", "tier": tier}),
    )
    .await
}

/// A HIMARS case (`launchers` × $100,000, below every §36(b) threshold) on contract on
/// `contract`: LOR 2025-01-01, offered 01-20, implemented 02-01.
pub async fn himars_on_contract(
    app: &TestApp,
    id: &str,
    purchaser: &str,
    launchers: u32,
    contract: &str,
) {
    app.open(&json!({
        "id": id, "purchaser": purchaser, "agency": "army", "lor_received": "2025-01-01",
        "lines": [{"item": "M142 HIMARS launcher", "quantity": launchers, "unit_usd": 100_000,
                   "mde": true, "production_line": "himars"}]
    }))
    .await;
    let path = format!("/api/v1/cases/{id}/events");
    for (version, (date, to)) in (1..).zip([
        ("2025-01-03", "lor_actionable"),
        ("2025-01-04", "loa_development"),
        ("2025-01-20", "offered"),
        ("2025-02-01", "implemented"),
        (contract, "on_contract"),
    ]) {
        let reply = app
            .post(&path, &app.admin, &advance(version, date, to))
            .await;
        assert_eq!(reply.status, 201, "{id} to {to}: {}", reply.body);
    }
}
