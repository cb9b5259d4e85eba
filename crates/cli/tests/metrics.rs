//! `expedite metrics|alerts|sources` end to end, on a store seeded with hand-made cases.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use expedite_core::{CaseId, Event, EventKind, NewCase, Stage};
use expedite_store::{Author, SqlStore, Store};
use predicates::prelude::*;
use serde_json::Value;

fn expedite() -> Command {
    let mut command = Command::cargo_bin("expedite").expect("the binary is built");
    command
        .env_remove("EXPEDITE_SIPRI")
        .env_remove("EXPEDITE_DB");
    command
}

fn json(command: &mut Command) -> Value {
    let output = command.output().expect("runs");
    assert!(
        output.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("valid JSON")
}

fn author(date: &str) -> Author {
    let at = date
        .parse::<expedite_core::Date>()
        .expect("date")
        .at(12, 0, 0, 0)
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .expect("time")
        .timestamp();
    Author {
        name: "seed".into(),
        at,
    }
}

/// A store with two small Polish cases (2 × $1M): one offered 2025-02-10 after 40 days
/// (the offer recorded on 2025-04-01, 50 days late), one still waiting for validation.
fn seeded_store(folder: &Path) -> String {
    let url = format!("sqlite://{}", folder.join("cases.db").display());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        // The key file where `expedite metrics --db URL` looks for it: beside the database.
        let key = expedite_store::HistoryKey::create(&expedite_store::key::default_key_path(&url))
            .expect("history key");
        let store = SqlStore::open(&url, &expedite_store::OpenOptions::new(key))
            .await
            .expect("open");
        for (id, lor) in [("PL-B-EAA", "2025-01-01"), ("PL-B-EAB", "2025-03-01")] {
            let new: NewCase = serde_json::from_value(serde_json::json!({
                "id": id, "purchaser": "POL", "agency": "army", "lor_received": lor,
                "lines": [{"item": "Javelin missile", "quantity": 2, "unit_usd": 1_000_000,
                           "mde": true, "production_line": "javelin"}]
            }))
            .expect("case");
            store.open_case(new, &author(lor)).await.expect("open case");
        }
        let id = CaseId::parse("PL-B-EAA").expect("id");
        for (version, (date, to, recorded)) in (1..).zip([
            ("2025-01-03", Stage::LorActionable, "2025-01-03"),
            ("2025-01-04", Stage::LoaDevelopment, "2025-01-04"),
            ("2025-02-10", Stage::Offered, "2025-04-01"),
        ]) {
            let event = Event {
                date: date.parse().expect("date"),
                kind: EventKind::Advance { to },
            };
            store
                .append_event(&id, version, event, &author(recorded))
                .await
                .expect("legal event");
        }
        store.close().await;
    });
    url
}

#[test]
fn metrics_json_has_the_documented_rows_the_late_count_and_the_store_as_a_source() {
    let folder = tempfile::tempdir().expect("temp dir");
    let db = seeded_store(folder.path());
    let body = json(expedite().args([
        "metrics",
        "--db",
        &db,
        "--from",
        "2025-Q1",
        "--to",
        "2025-Q1",
        "--by",
        "line",
        "--as-of",
        "2025-06-30",
        "--format",
        "json",
    ]));
    let rows = body["quarters"].as_array().expect("quarters");
    let row = |group: Option<&str>| {
        rows.iter()
            .find(|row| row["phase"] == "lor_to_offer" && row["group"].as_str() == group)
            .cloned()
            .expect("row")
    };
    let all = row(None);
    assert_eq!(all["completed"], 1);
    assert_eq!(all["median_days"], 40);
    assert_eq!(all["on_time_share"], 1.0);
    // The waiting LOR of 2025-03-01 is 30 days old at the quarter's end.
    assert_eq!(all["open_at_end"], 1);
    assert_eq!(all["open_median_age_days"], 30);
    assert_eq!(row(Some("javelin"))["completed"], 1);
    assert_eq!(body["late_recorded_events"], 1);
    assert_eq!(body["events"], 5);
    assert_eq!(body["sources"][0]["id"], "cases");
    assert_eq!(body["sources"][0]["date"], "2025-04-01");
}

#[test]
fn metrics_report_writes_csv_tables_and_one_svg_page_with_definitions() {
    let folder = tempfile::tempdir().expect("temp dir");
    let db = seeded_store(folder.path());
    let report: PathBuf = folder.path().join("report");
    expedite()
        .args([
            "metrics",
            "--db",
            &db,
            "--from",
            "2025-Q1",
            "--as-of",
            "2025-06-30",
        ])
        .arg("--report")
        .arg(&report)
        .assert()
        .success()
        .stdout(predicate::str::contains("lor_to_offer"))
        .stdout(predicate::str::contains(
            "1 of 5 events were recorded more than 30 days after their own date",
        ));
    let csv = std::fs::read_to_string(report.join("metrics.csv")).expect("metrics.csv");
    assert!(csv.starts_with(
        "quarter,phase,group,completed,median_days,p90_days,on_time_share,open_at_end,open_median_age_days\n"
    ));
    assert!(
        csv.contains("2025-Q1,lor_to_offer,,1,40,40,1,1,30\n"),
        "{csv}"
    );
    let targets = std::fs::read_to_string(report.join("targets.csv")).expect("targets.csv");
    assert!(targets.contains("assumed (unconfirmed)") && targets.contains("confirmed"));
    let svg = std::fs::read_to_string(report.join("metrics.svg")).expect("metrics.svg");
    assert!(svg.starts_with("<svg"));
    for text in [
        "contract_to_first_delivery",
        "Source: case store",
        "nearest rank",
    ] {
        assert!(svg.contains(text), "the page shows {text}");
    }
}

#[test]
fn bad_metrics_flags_exit_2_naming_the_flag() {
    let folder = tempfile::tempdir().expect("temp dir");
    let db = format!("sqlite://{}", folder.path().join("empty.db").display());
    expedite()
        .args(["metrics", "--db", &db, "--from", "2025-Q5"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--from"));
    expedite()
        .args(["metrics", "--db", &db, "--by", "country"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--by"));
    expedite()
        .args(["alerts", "--db", &db, "--since", "last week"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--since"));
}

#[test]
fn alerts_list_a_missed_samm_target_and_nothing_since_when_nothing_changed() {
    let folder = tempfile::tempdir().expect("temp dir");
    let db = seeded_store(folder.path());
    // PL-B-EAB's LOR of 2025-03-01 was never validated: 5 days (SAMM) missed on 03-07.
    let body = json(expedite().args([
        "alerts",
        "--db",
        &db,
        "--as-of",
        "2025-03-20",
        "--format",
        "json",
    ]));
    let alerts = body["alerts"].as_array().expect("alerts");
    assert!(
        alerts
            .iter()
            .any(|alert| alert["id"] == "PL-B-EAB/samm_lor_validation/missed/2025-03-06")
    );
    let since = json(expedite().args([
        "alerts",
        "--db",
        &db,
        "--as-of",
        "2025-03-20",
        "--since",
        "2025-03-08",
        "--format",
        "json",
    ]));
    assert_eq!(since["alerts"], serde_json::json!([]));
}

#[test]
fn alerts_refresh_keeps_each_forecast_once_and_raises_nothing_when_nothing_changed() {
    let folder = tempfile::tempdir().expect("temp dir");
    let db = seeded_store(folder.path());
    let refresh = |expected_note: &'static str| {
        let output = expedite()
            .args([
                "alerts",
                "--db",
                &db,
                "--as-of",
                "2025-03-20",
                "--refresh",
                "--format",
                "json",
            ])
            .assert()
            .success()
            .stderr(predicate::str::contains(expected_note))
            .get_output()
            .stdout
            .clone();
        serde_json::from_slice::<Value>(&output).expect("JSON")
    };
    let first = refresh("forecast 2 case(s) as of 2025-03-20; kept 2 that say something new");
    assert_eq!(first["forecast_alerts"], serde_json::json!([]));
    assert_eq!(first["threshold_days"], 30);
    let again = refresh("forecast 2 case(s) as of 2025-03-20; kept 0 that say something new");
    assert_eq!(again["forecast_alerts"], serde_json::json!([]));
    expedite()
        .args(["alerts", "--db", &db, "--threshold-days", "4000"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--threshold-days"));
}

#[test]
fn sources_flags_a_source_older_than_a_year() {
    let body = json(expedite().args(["sources", "--as-of", "2026-11-30", "--format", "json"]));
    let sources = body["sources"].as_array().expect("sources");
    let by_id = |id: &str| {
        sources
            .iter()
            .find(|source| source["id"] == id)
            .cloned()
            .expect("listed")
    };
    // NATO's edition of 2025-08-28 is 459 days old on 2026-11-30: stale.
    assert_eq!(by_id("nato")["age_days"], 459);
    assert_eq!(by_id("nato")["stale"], true);
    assert_eq!(by_id("dsca")["stale"], false);
    expedite()
        .args(["sources", "--as-of", "2026-11-30"])
        .assert()
        .success()
        .stdout(predicate::str::contains("STALE"));
}
