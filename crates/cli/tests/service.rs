//! `expedite serve` and `expedite token` as processes: tokens made while the server runs,
//! graceful shutdown, and a SIGKILL in the middle of a stream of acknowledged writes.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

const EXPEDITE: &str = env!("CARGO_BIN_EXE_expedite");

/// A running `expedite serve` on a free port.
struct Server {
    child: Child,
    address: String,
}

impl Server {
    fn start(db: &str) -> Server {
        let mut child = Command::new(EXPEDITE)
            .args(["serve", "--db", db, "--addr", "127.0.0.1:0"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start expedite serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let line = lines
            .next()
            .expect("a first line")
            .expect("readable stdout");
        let address = line
            .strip_prefix("listening on ")
            .expect("the listening line")
            .to_owned();
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Server { child, address }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn expedite(args: &[&str]) -> std::process::Output {
    Command::new(EXPEDITE)
        .args(args)
        .output()
        .expect("run expedite")
}

fn create_token(db: &str, extra: &[&str]) -> String {
    let mut args = vec!["token", "create", "--db", db, "--format", "json"];
    args.extend_from_slice(extra);
    let output = expedite(&args);
    assert!(
        output.status.success(),
        "token create: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let created: Value = serde_json::from_slice(&output.stdout).expect("token JSON");
    created["token"].as_str().expect("a token").to_owned()
}

fn sqlite_url(folder: &Path) -> String {
    format!("sqlite://{}", folder.join("service.db").display())
}

async fn post(
    client: &reqwest::Client,
    url: String,
    token: &str,
    body: &Value,
) -> Result<(u16, Value), reqwest::Error> {
    let response = client
        .post(url)
        .bearer_auth(token)
        .json(body)
        .send()
        .await?;
    let status = response.status().as_u16();
    Ok((status, response.json().await.unwrap_or(Value::Null)))
}

async fn get(client: &reqwest::Client, url: String, token: &str) -> (u16, Value) {
    let response = client
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("GET");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON body"))
}

#[tokio::test]
async fn tokens_are_created_listed_and_revoked_while_the_server_runs() {
    let folder = tempfile::tempdir().expect("temp dir");
    let db = sqlite_url(folder.path());
    let server = Server::start(&db);
    let client = reqwest::Client::new();
    let token = create_token(
        &db,
        &[
            "--role",
            "purchaser",
            "--country",
            "POL",
            "--name",
            "mon-pl",
        ],
    );
    assert!(token.starts_with("exp_"));
    let (status, body) = get(&client, format!("{}/api/v1/cases", server.address), &token).await;
    assert_eq!((status, body["total"].as_i64()), (200, Some(0)));

    let listed = expedite(&["token", "list", "--db", &db, "--format", "json"]);
    let listed: Value = serde_json::from_slice(&listed.stdout).expect("list JSON");
    assert_eq!(listed["tokens"][0]["name"], "mon-pl");
    assert_eq!(listed["tokens"][0]["country"], "POL");
    assert!(listed["sources"][0]["name"].is_string());
    assert!(
        !listed.to_string().contains(&token),
        "token list must not show secrets"
    );

    let revoked = expedite(&["token", "revoke", "--db", &db, "mon-pl"]);
    assert!(revoked.status.success());
    let (status, _) = get(&client, format!("{}/api/v1/cases", server.address), &token).await;
    assert_eq!(status, 401);
    let again = expedite(&["token", "revoke", "--db", &db, "mon-pl"]);
    assert_eq!(again.status.code(), Some(2));
    let bad = expedite(&["token", "create", "--db", &db, "--role", "purchaser"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--country"));
}

#[cfg(unix)]
#[tokio::test]
async fn sigterm_stops_the_server_cleanly() {
    let folder = tempfile::tempdir().expect("temp dir");
    let mut server = Server::start(&sqlite_url(folder.path()));
    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill")
            .success()
    );
    let status = server.child.wait().expect("wait");
    assert!(status.success(), "{status:?}");
}

/// A case with enough units for a long stream of one-unit deliveries, on contract.
async fn case_on_contract(client: &reqwest::Client, address: &str, token: &str, id: &str) {
    let letter = json!({"id": id, "purchaser": "EST", "agency": "army", "lor_received": "2025-01-01",
        "lines": [{"item": "GMLRS rocket", "quantity": 100_000, "unit_usd": 1, "mde": false}]});
    let (status, body) = post(client, format!("{address}/api/v1/cases"), token, &letter)
        .await
        .expect("open");
    assert_eq!(status, 201, "{body}");
    for (version, stage) in [
        "lor_actionable",
        "loa_development",
        "offered",
        "implemented",
        "on_contract",
    ]
    .iter()
    .enumerate()
    {
        let event =
            json!({"version": version + 1, "date": "2025-01-02", "kind": "advance", "to": stage});
        let (status, body) = post(
            client,
            format!("{address}/api/v1/cases/{id}/events"),
            token,
            &event,
        )
        .await
        .expect("advance");
        assert_eq!(status, 201, "{body}");
    }
}

const STREAM_CASES: [&str; 4] = ["EE-B-AAA", "EE-B-AAB", "EE-B-AAC", "EE-B-AAD"];

/// Writers, one per case, each delivering one unit at a time and remembering every
/// version the server acknowledged, until the server goes away.
struct WriteStream {
    stopped: Arc<AtomicBool>,
    writers: tokio::task::JoinSet<(&'static str, Vec<i64>)>,
}

fn start_writing(client: &reqwest::Client, address: &str, token: &str) -> WriteStream {
    let stopped = Arc::new(AtomicBool::new(false));
    let mut writers = tokio::task::JoinSet::new();
    for id in STREAM_CASES {
        let (client, token, address, stopped) = (
            client.clone(),
            token.to_owned(),
            address.to_owned(),
            stopped.clone(),
        );
        writers.spawn(async move {
            let mut acknowledged = Vec::new();
            let mut version = 6;
            while acknowledged.len() < 5_000 {
                let event = json!({"version": version, "date": "2025-06-01", "kind": "deliver", "line": 0, "quantity": 1});
                match post(&client, format!("{address}/api/v1/cases/{id}/events"), &token, &event).await {
                    Ok((201, body)) => {
                        version = body["version"].as_i64().expect("version");
                        acknowledged.push(version);
                    }
                    Ok((status, body)) => panic!("{id}: unexpected {status} {body}"),
                    Err(_) if stopped.load(Ordering::SeqCst) => break,
                    Err(error) => panic!("{id}: {error}"),
                }
            }
            (id, acknowledged)
        });
    }
    WriteStream { stopped, writers }
}

/// Opens the stream's cases, writes for a while, stops the server with `stop`, restarts it,
/// and checks every acknowledged write. Returns, per case, the acknowledged versions and
/// the version found after the restart.
async fn write_stop_and_restart(stop: impl FnOnce(&mut Child)) -> Vec<(Vec<i64>, i64)> {
    let folder = tempfile::tempdir().expect("temp dir");
    let db = sqlite_url(folder.path());
    let token = create_token(&db, &["--role", "admin", "--name", "stream-test"]);
    let mut server = Server::start(&db);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    for id in STREAM_CASES {
        case_on_contract(&client, &server.address, &token, id).await;
    }
    let stream = start_writing(&client, &server.address, &token);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stream.stopped.store(true, Ordering::SeqCst);
    stop(&mut server.child);
    let streams = stream.writers.join_all().await;

    let server = Server::start(&db);
    let mut outcomes = Vec::new();
    for (id, acknowledged) in streams {
        assert!(
            acknowledged.len() > 10,
            "{id}: the stream was too short to mean anything"
        );
        let (status, case) = get(
            &client,
            format!("{}/api/v1/cases/{id}", server.address),
            &token,
        )
        .await;
        assert_eq!(status, 200);
        let version = case["version"].as_i64().expect("version");
        let delivered = case["lines"][0]["delivered"].as_i64().expect("delivered");
        assert_eq!(
            delivered,
            version - 6,
            "{id}: one unit per event after the five advances"
        );
        let (_, history) = get(
            &client,
            format!("{}/api/v1/cases/{id}/events", server.address),
            &token,
        )
        .await;
        let seqs: Vec<i64> = history["events"]
            .as_array()
            .expect("events")
            .iter()
            .filter_map(|e| e["seq"].as_i64())
            .collect();
        for acked in &acknowledged {
            assert!(
                seqs.contains(&(acked - 1)),
                "{id}: acknowledged event {} is missing",
                acked - 1
            );
        }
        let (_, verified) = get(
            &client,
            format!("{}/api/v1/cases/{id}/verify", server.address),
            &token,
        )
        .await;
        assert_eq!(verified["valid"], true, "{id}: {verified}");
        outcomes.push((acknowledged, version));
    }
    outcomes
}

#[tokio::test]
async fn a_sigkill_mid_stream_loses_no_acknowledged_event() {
    let outcomes = write_stop_and_restart(|child| {
        child.kill().expect("SIGKILL the server");
        child.wait().expect("reap");
    })
    .await;
    for (acknowledged, version) in &outcomes {
        let last = *acknowledged.last().expect("acknowledged writes");
        // At most the one write in flight at the kill is there without an acknowledgement.
        assert!(
            *version == last || *version == last + 1,
            "acknowledged up to {last}, found {version}"
        );
    }
    let total: usize = outcomes
        .iter()
        .map(|(acknowledged, _)| acknowledged.len())
        .sum();
    eprintln!("{total} acknowledged writes survived the SIGKILL");
}

#[cfg(unix)]
#[tokio::test]
async fn a_sigterm_mid_stream_finishes_requests_in_flight_and_exits_cleanly() {
    let outcomes = write_stop_and_restart(|child| {
        let pid = child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .expect("kill")
                .success()
        );
        let status = child.wait().expect("wait");
        assert!(status.success(), "{status:?}");
    })
    .await;
    for (acknowledged, version) in &outcomes {
        // Requests in flight were answered before the server stopped: nothing it committed
        // went unacknowledged.
        assert_eq!(acknowledged.last(), Some(version));
    }
}
