//! Fresh databases for the store tests, one per test and backend.

// Shared by several test binaries, each of which uses only part of it.
#![allow(dead_code)]

use std::future::Future;

use expedite_core::NewCase;
use expedite_store::{Author, HistoryKey, OpenOptions, SqlStore, StoreError};
use sqlx::{AssertSqlSafe, Connection, Executor};

/// A fresh store, and what a test needs to reach under it.
pub struct TestDb {
    /// The store under test.
    pub store: SqlStore,
    /// The database URL.
    pub url: String,
    /// How the store was opened (its key), to open it again.
    pub options: OpenOptions,
}

impl TestDb {
    /// Runs SQL straight on the database, past the store, as someone with database access
    /// would; the append-only triggers are dropped first, as such a person could.
    pub async fn tamper(&self, sql: &str) {
        let mut connection = sqlx::AnyConnection::connect(&self.url)
            .await
            .expect("connect past the store");
        let unguard = if self.url.starts_with("sqlite:") {
            "DROP TRIGGER IF EXISTS events_no_update; DROP TRIGGER IF EXISTS events_no_delete;"
        } else {
            "ALTER TABLE events DISABLE TRIGGER events_no_change;"
        };
        sqlx::raw_sql(AssertSqlSafe(format!("{unguard} {sql}")))
            .execute(&mut connection)
            .await
            .expect("tamper");
        connection.close().await.expect("close");
    }

    /// Whether this is the SQLite run.
    pub fn is_sqlite(&self) -> bool {
        self.url.starts_with("sqlite:")
    }

    /// Whether any text column of a table holds `needle`.
    pub async fn raw_contains(&self, table: &str, needle: &str) -> bool {
        let mut connection = sqlx::AnyConnection::connect(&self.url)
            .await
            .expect("connect");
        let sql = format!(
            "SELECT COUNT(*) AS n FROM {table} WHERE id LIKE $1 OR name LIKE $1 OR secret_hash LIKE $1"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(format!("%{needle}%"))
            .fetch_one(&mut connection)
            .await
            .expect("query");
        let count: i64 = sqlx::Row::try_get(&row, "n").expect("count");
        count > 0
    }
}

/// An author at a fixed time.
pub fn author(name: &str) -> Author {
    Author {
        name: name.to_owned(),
        at: jiff::Timestamp::from_second(1_760_000_000).expect("time"),
    }
}

/// A case modelled on Poland's IBCS-enabled Patriot notification of 2023-06-28 (needs
/// congressional review), with its LOR received on 2025-01-01.
pub fn new_case(id: &str, purchaser: &str, agency: &str) -> NewCase {
    serde_json::from_value(serde_json::json!({
        "id": id,
        "purchaser": purchaser,
        "agency": agency,
        "lor_received": "2025-01-01",
        "lines": [
            {"item": "PAC-3 MSE interceptor", "quantity": 644, "unit_usd": 4_000_000, "mde": true,
             "production_line": "lm-camden-pac3"},
            {"item": "M903 launcher", "quantity": 48, "unit_usd": 10_000_000, "mde": true}
        ]
    }))
    .expect("test case")
}

/// Runs a test body against a fresh SQLite database, then against a fresh PostgreSQL one
/// when `EXPEDITE_TEST_PG_URL` is set.
pub async fn for_each_backend<F, Fut>(test: F)
where
    F: Fn(TestDb) -> Fut,
    Fut: Future<Output = ()>,
{
    let folder = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", folder.path().join("test.db").display());
    let options = OpenOptions::new(HistoryKey::generate());
    let store = SqlStore::open(&url, &options).await.expect("open sqlite");
    test(TestDb {
        store: store.clone(),
        url,
        options,
    })
    .await;
    store.close().await;

    if let Some(base) = postgres_base_url() {
        let (url, name) = fresh_postgres_database(&base).await;
        let options = OpenOptions::new(HistoryKey::generate());
        let store = SqlStore::open(&url, &options).await.expect("open postgres");
        test(TestDb {
            store: store.clone(),
            url,
            options,
        })
        .await;
        store.close().await;
        drop_postgres_database(&base, &name).await;
    }
}

fn postgres_base_url() -> Option<String> {
    let in_ci = std::env::var("CI").is_ok_and(|value| value == "true");
    match std::env::var("EXPEDITE_TEST_PG_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if in_ci => panic!(
            "CI=true but EXPEDITE_TEST_PG_URL is not set: the PostgreSQL story cannot be skipped in CI"
        ),
        _ => {
            eprintln!("skipping PostgreSQL: EXPEDITE_TEST_PG_URL is not set");
            None
        }
    }
}

async fn fresh_postgres_database(base: &str) -> (String, String) {
    sqlx::any::install_default_drivers();
    let mut admin = sqlx::AnyConnection::connect(base)
        .await
        .unwrap_or_else(|error| {
            panic!("EXPEDITE_TEST_PG_URL is set but PostgreSQL is unreachable: {error}")
        });
    let stamp = jiff::Timestamp::now().as_nanosecond();
    let name = format!("expedite_store_{}_{stamp}", std::process::id());
    admin
        .execute(AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .expect("create database");
    admin.close().await.expect("close");
    (replace_database(base, &name), name)
}

async fn drop_postgres_database(base: &str, name: &str) {
    if let Ok(mut admin) = sqlx::AnyConnection::connect(base).await {
        let dropped: Result<_, StoreError> = admin
            .execute(AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .await
            .map_err(StoreError::from);
        if let Err(error) = dropped {
            eprintln!("could not drop test database {name}: {error}");
        }
    }
}

/// The same server URL with another database name (any query string is kept).
fn replace_database(base: &str, name: &str) -> String {
    let (without_query, query) = base
        .split_once('?')
        .map_or((base, None), |(url, query)| (url, Some(query)));
    let authority_end = without_query.find("://").map_or(0, |scheme| scheme + 3);
    let server = match without_query[authority_end..].find('/') {
        Some(slash) => &without_query[..authority_end + slash],
        None => without_query,
    };
    match query {
        Some(query) => format!("{server}/{name}?{query}"),
        None => format!("{server}/{name}"),
    }
}
