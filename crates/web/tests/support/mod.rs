//! `spawn_app`: the API on port 0 over a fresh SQLite database, with one token per role.

use std::sync::Arc;

use expedite_core::{Agency, Country};
use expedite_store::{HistoryKey, NewToken, OpenOptions, Role, SqlStore, Store};
use expedite_web::AppState;
use serde_json::{Value, json};
use tokio::sync::oneshot;

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
}

/// Starts the API; logs go to the test output only with `TEST_LOG=1`.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|state| state).await
}

/// Starts the API with changes to its state (e.g. a SIPRI register).
pub async fn spawn_app_with(configure: impl FnOnce(AppState) -> AppState) -> TestApp {
    if std::env::var("TEST_LOG").is_ok() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter("debug")
            .try_init();
    }
    let folder = tempfile::tempdir().expect("temp dir");
    let db_url = format!("sqlite://{}", folder.path().join("api.db").display());
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
