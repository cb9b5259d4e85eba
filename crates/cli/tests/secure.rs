//! The service's commands under the issue-12 rules, as processes: `expedite verify` on a
//! tampered database, reading commands that never create a database, an unreachable
//! PostgreSQL that fails fast with one message, passwords that never reach the terminal,
//! token expiry and revocation by an ambiguous name, one demo admin token, private files,
//! and two server processes on one PostgreSQL database (when `EXPEDITE_TEST_PG_URL` is
//! set; with `CI=true` its absence fails the run).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::Row;
use sqlx::{AssertSqlSafe, Connection, Executor};

const EXPEDITE: &str = env!("CARGO_BIN_EXE_expedite");

fn expedite(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(EXPEDITE);
    command.args(args).env_remove("EXPEDITE_KEY");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("run expedite")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

struct Server {
    child: Child,
    address: String,
}

impl Server {
    fn start(db: &str, env: &[(&str, &str)], extra: &[&str]) -> Server {
        let mut command = Command::new(EXPEDITE);
        command
            .args(["serve", "--db", db, "--addr", "127.0.0.1:0"])
            .args(extra)
            .env("RUST_LOG", "warn")
            .env_remove("EXPEDITE_KEY")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("start expedite serve");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let address = loop {
            let line = lines.next().expect("a line").expect("stdout");
            if let Some(address) = line.strip_prefix("listening on ") {
                break address.to_owned();
            }
        };
        std::thread::spawn(move || lines.for_each(drop));
        Server { child, address }
    }

    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn create_token(db: &str, env: &[(&str, &str)], extra: &[&str]) -> Value {
    let mut args = vec!["token", "create", "--db", db, "--format", "json"];
    args.extend_from_slice(extra);
    let output = expedite(&args, env);
    assert!(output.status.success(), "token create: {}", stderr(&output));
    serde_json::from_slice(&output.stdout).expect("token JSON")
}

async fn post(client: &reqwest::Client, url: String, token: &str, body: &Value) -> (u16, Value) {
    let response = client
        .post(url)
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("POST");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn verify_passes_a_clean_database_and_exits_3_naming_each_broken_case() {
    let folder = tempfile::tempdir().expect("temp dir");
    let path = folder.path().join("cases.db");
    let db = format!("sqlite://{}", path.display());
    let server = Server::start(&db, &[], &["--demo"]);
    server.stop();
    let clean = expedite(&["verify", "--db", &db], &[]);
    assert!(clean.status.success(), "{}", stderr(&clean));
    let clean_report = String::from_utf8_lossy(&clean.stdout).into_owned();
    let checked: usize = clean_report
        .split(" case(s) checked, 0 broken")
        .next()
        .and_then(|head| head.rsplit(|c: char| !c.is_ascii_digit()).next())
        .and_then(|count| count.parse().ok())
        .unwrap_or_else(|| panic!("a clean verify counts the demo's cases: {clean_report}"));
    assert!(checked > 2, "{clean_report}");

    // One real case moved into another country's list, another deleted outright.
    sqlx::any::install_default_drivers();
    let mut connection = sqlx::AnyConnection::connect(&db).await.expect("connect");
    let rows = sqlx::query("SELECT id, purchaser FROM cases ORDER BY id LIMIT 2")
        .fetch_all(&mut connection)
        .await
        .expect("two demo cases");
    let moved: String = rows[0].get("id");
    let purchaser: String = rows[0].get("purchaser");
    let deleted: String = rows[1].get("id");
    let other = if purchaser == "POL" { "EST" } else { "POL" };
    let tamper = format!(
        "DROP TRIGGER events_no_delete; UPDATE cases SET purchaser = '{other}' WHERE id = '{moved}'; \
                 DELETE FROM events WHERE case_id = '{deleted}'; DELETE FROM case_lines WHERE case_id = '{deleted}'; \
                 DELETE FROM cases WHERE id = '{deleted}';"
    );
    connection
        .execute(AssertSqlSafe(tamper))
        .await
        .expect("tamper");
    connection.close().await.expect("close");
    let broken = expedite(&["verify", "--db", &db], &[]);
    assert_eq!(broken.status.code(), Some(3), "{}", stderr(&broken));
    let report = String::from_utf8_lossy(&broken.stdout);
    assert!(
        report.contains(&format!("{moved}: broken at "))
            && report.contains(&format!("the case row's purchaser is '{other}'")),
        "{report}"
    );
    assert!(
        report.contains(&format!(
            "database: the ledger records {checked} case(s) but {}",
            checked - 1
        )),
        "{report}"
    );

    // Without the key there is nothing to verify against: a runtime failure, exit 1.
    std::fs::remove_file(folder.path().join("cases.db.key")).expect("remove key");
    let keyless = expedite(&["verify", "--db", &db], &[]);
    assert_eq!(keyless.status.code(), Some(1), "{}", stderr(&keyless));
    assert!(stderr(&keyless).contains("cases.db.key"));
    // And no server starts on a history without its key (a new key would hide the loss).
    let refused = expedite(&["serve", "--db", &db, "--addr", "127.0.0.1:0"], &[]);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("restore it from your backup"));
}

#[test]
fn reading_commands_never_create_a_database_and_files_are_private() {
    let folder = tempfile::tempdir().expect("temp dir");
    let mistyped = folder.path().join("mistyped.db");
    let db = format!("sqlite://{}", mistyped.display());
    for args in [
        vec!["token", "list", "--db", &db],
        vec!["token", "revoke", "--db", &db, "someone"],
        vec!["verify", "--db", &db],
    ] {
        let output = expedite(&args, &[]);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(&mistyped.display().to_string()),
            "{}",
            stderr(&output)
        );
        assert_eq!(stderr(&output).lines().count(), 1, "{}", stderr(&output));
        assert!(
            !mistyped.exists(),
            "{args:?} created {}",
            mistyped.display()
        );
    }
    // A writing command creates the database and its key, readable by their owner only.
    let real = folder.path().join("real.db");
    create_token(
        &format!("sqlite://{}", real.display()),
        &[],
        &["--role", "analyst"],
    );
    #[cfg(unix)]
    for file in [real.clone(), folder.path().join("real.db.key")] {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&file)
            .expect("exists")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{}", file.display());
    }
}

#[test]
fn an_unreachable_postgres_fails_fast_with_one_message_and_exit_code_1() {
    // A refused port and an address that never answers (TEST-NET-1, RFC 5737).
    for url in [
        "postgres://postgres@127.0.0.1:1/expedite",
        "postgres://postgres@192.0.2.1:5432/expedite",
    ] {
        let started = Instant::now();
        let output = expedite(
            &["token", "list", "--db", url, "--connect-timeout", "1s"],
            &[],
        );
        let took = started.elapsed();
        assert_eq!(output.status.code(), Some(1), "{url}: {}", stderr(&output));
        assert_eq!(
            stderr(&output).lines().count(),
            1,
            "{url}: {}",
            stderr(&output)
        );
        assert!(took < Duration::from_secs(5), "{url}: took {took:?}");
    }
}

#[test]
fn passwords_never_reach_the_terminal() {
    for url in [
        "postgress://app:S3cretPW@127.0.0.1:1/expedite",
        "postgres://app:S3c/ret@Pw@127.0.0.1:1/expedite",
        "postgres://app@127.0.0.1:1/expedite?password=S3cretPW",
    ] {
        let output = expedite(
            &["token", "list", "--db", url, "--connect-timeout", "1s"],
            &[],
        );
        assert!(!output.status.success());
        let message = stderr(&output);
        assert!(
            !message.contains("S3c") && message.contains("***"),
            "{url}: {message}"
        );
    }
}

#[tokio::test]
async fn tokens_expire_and_an_ambiguous_revoke_is_refused() {
    let folder = tempfile::tempdir().expect("temp dir");
    let db = format!("sqlite://{}", folder.path().join("tokens.db").display());
    let first = create_token(&db, &[], &["--role", "analyst", "--name", "first"]);
    let id = first["id"].as_str().expect("id").to_owned();
    // A second token whose name is the first one's id.
    create_token(&db, &[], &["--role", "analyst", "--name", &id]);
    let ambiguous = expedite(&["token", "revoke", "--db", &db, &id], &[]);
    assert_eq!(ambiguous.status.code(), Some(2), "{}", stderr(&ambiguous));
    assert!(stderr(&ambiguous).contains("one token's id and another's name"));
    let listed = expedite(&["token", "list", "--db", &db, "--format", "json"], &[]);
    let listed: Value = serde_json::from_slice(&listed.stdout).expect("json");
    let tokens = listed["tokens"].as_array().expect("tokens");
    assert!(
        tokens.iter().all(|token| token.get("revoked_at").is_none()),
        "{listed}"
    );

    let short = create_token(&db, &[], &["--role", "analyst", "--expires", "2s"]);
    assert!(short["expires_at"].is_string(), "{short}");
    let server = Server::start(&db, &[], &[]);
    let client = reqwest::Client::new();
    let secret = short["token"].as_str().expect("secret");
    let status = |secret: String| {
        let (client, url) = (client.clone(), format!("{}/api/v1/cases", server.address));
        async move {
            client
                .get(url)
                .bearer_auth(secret)
                .send()
                .await
                .expect("GET")
                .status()
                .as_u16()
        }
    };
    assert_eq!(status(secret.to_owned()).await, 200);
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(status(secret.to_owned()).await, 401);
}

#[test]
fn the_demo_keeps_one_admin_token_however_often_it_starts() {
    let folder = tempfile::tempdir().expect("temp dir");
    let db = format!("sqlite://{}", folder.path().join("demo.db").display());
    for _ in 0..3 {
        Server::start(&db, &[], &["--demo"]).stop();
    }
    let listed = expedite(&["token", "list", "--db", &db, "--format", "json"], &[]);
    let listed: Value = serde_json::from_slice(&listed.stdout).expect("json");
    let admins: Vec<&Value> = listed["tokens"]
        .as_array()
        .expect("tokens")
        .iter()
        .filter(|token| token["role"] == "admin")
        .collect();
    assert_eq!(admins.len(), 1, "{listed}");
    assert_eq!(admins[0]["name"], "demo-admin");
}

/// A fresh PostgreSQL database, or `None` (with the reason printed) when there is none to
/// use outside CI.
async fn fresh_postgres() -> Option<(String, String, String)> {
    let in_ci = std::env::var("CI").is_ok_and(|value| value == "true");
    let base = match std::env::var("EXPEDITE_TEST_PG_URL") {
        Ok(url) if !url.is_empty() => url,
        _ if in_ci => panic!("CI=true but EXPEDITE_TEST_PG_URL is not set"),
        _ => {
            eprintln!("skipping PostgreSQL: EXPEDITE_TEST_PG_URL is not set");
            return None;
        }
    };
    sqlx::any::install_default_drivers();
    let mut admin = sqlx::AnyConnection::connect(&base)
        .await
        .expect("EXPEDITE_TEST_PG_URL is set but PostgreSQL is unreachable");
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    let name = format!("expedite_cli_{}_{stamp}", std::process::id());
    admin
        .execute(AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .expect("create database");
    admin.close().await.expect("close");
    let server = base
        .rsplit_once('/')
        .map_or(base.as_str(), |(server, _)| server);
    Some((format!("{server}/{name}"), base.clone(), name))
}

async fn drop_postgres(base: &str, name: &str) {
    if let Ok(mut admin) = sqlx::AnyConnection::connect(base).await {
        let _ = admin
            .execute(AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .await;
    }
}

#[tokio::test]
async fn two_servers_on_one_postgres_database_keep_one_winner_per_version_and_a_valid_chain() {
    let Some((db, base, name)) = fresh_postgres().await else {
        return;
    };
    let key = [("EXPEDITE_KEY", "5a".repeat(32))];
    let env: Vec<(&str, &str)> = key.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let token = create_token(&db, &env, &["--role", "admin"])["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let servers = [Server::start(&db, &env, &[]), Server::start(&db, &env, &[])];
    let client = reqwest::Client::new();
    let letter = json!({"id": "PL-B-TWO", "purchaser": "POL", "agency": "army", "lor_received": "2025-01-01",
        "lines": [{"item": "GMLRS rocket", "quantity": 1_000, "unit_usd": 1, "mde": false}]});
    let (status, body) = post(
        &client,
        format!("{}/api/v1/cases", servers[0].address),
        &token,
        &letter,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let stages = [
        "lor_actionable",
        "loa_development",
        "offered",
        "implemented",
        "on_contract",
    ];
    for (version, stage) in (1..).zip(stages) {
        // Eight clients, four per server, all naming the same version.
        let mut attempts = tokio::task::JoinSet::new();
        for attempt in 0..8 {
            let url = format!(
                "{}/api/v1/cases/PL-B-TWO/events",
                servers[attempt % 2].address
            );
            let (client, token) = (client.clone(), token.clone());
            let event =
                json!({"version": version, "date": "2025-01-02", "kind": "advance", "to": stage});
            attempts.spawn(async move { post(&client, url, &token, &event).await.0 });
        }
        let statuses = attempts.join_all().await;
        assert_eq!(
            statuses.iter().filter(|status| **status == 201).count(),
            1,
            "{statuses:?}"
        );
        assert!(
            statuses.iter().all(|status| matches!(status, 201 | 409)),
            "{statuses:?}"
        );
    }
    for server in servers {
        server.stop();
    }
    let verified = expedite(&["verify", "--db", &db], &env);
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stdout)
    );
    drop_postgres(&base, &name).await;
}
