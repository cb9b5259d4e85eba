//! `expedite serve --demo` loads the real cases once, and the dashboard answers beside the API.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::Value;

const EXPEDITE: &str = env!("CARGO_BIN_EXE_expedite");

/// Starts `serve --demo`, reads its two first lines, and stops it.
fn start_demo(db: &str) -> (std::process::Child, String, String) {
    let mut child = Command::new(EXPEDITE)
        .args(["serve", "--demo", "--db", db, "--addr", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start expedite serve --demo");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let demo = lines.next().expect("the demo line").expect("readable");
    let listening = lines.next().expect("the listening line").expect("readable");
    std::thread::spawn(move || lines.for_each(drop));
    (child, demo, listening)
}

fn loaded(demo_line: &str) -> usize {
    demo_line
        .strip_prefix("demo: ")
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|count| count.parse().ok())
        .unwrap_or_else(|| panic!("not a demo line: {demo_line}"))
}

#[tokio::test]
async fn the_demo_loads_the_real_cases_once_with_their_real_dates() {
    let folder = tempfile::tempdir().expect("temp dir");
    let db = format!("sqlite://{}", folder.path().join("demo.db").display());
    let (mut first, demo, _) = start_demo(&db);
    let _ = first.kill();
    let _ = first.wait();
    let count = loaded(&demo);
    assert!(count > 30, "{demo}");

    let (mut second, demo_again, listening) = start_demo(&db);
    assert_eq!(
        loaded(&demo_again),
        0,
        "a second start adds nothing: {demo_again}"
    );
    let address = listening
        .strip_prefix("listening on ")
        .expect("address")
        .to_owned();
    let admin = demo_again
        .rsplit(' ')
        .next()
        .expect("the admin token")
        .to_owned();
    let client = reqwest::Client::new();
    let list: Value = client
        .get(format!("{address}/api/v1/cases?purchaser=EST&limit=50"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("JSON");
    let himars = list["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .find(|case| case["lines"][0]["production_line"] == "himars")
        .expect("Estonia's HIMARS, a real FMS sale")
        .clone();
    let id = himars["id"].as_str().expect("id");
    assert!(id.starts_with("EE-B-"), "{id}");
    let history: Value = client
        .get(format!("{address}/api/v1/cases/{id}/events"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("events")
        .json()
        .await
        .expect("JSON");
    let first_delivery = history["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|event| event["change"]["event"]["kind"] == "deliver")
        .expect("a delivery");
    // The shipped timeline's first delivery of Estonia's HIMARS.
    assert_eq!(first_delivery["change"]["event"]["date"], "2025-04-30");
    let login = client
        .get(format!("{address}/login"))
        .send()
        .await
        .expect("login page");
    assert_eq!(login.status().as_u16(), 200);
    let _ = second.kill();
    let _ = second.wait();
}
