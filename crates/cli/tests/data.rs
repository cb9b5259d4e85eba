//! The data commands end to end: `expedite sipri|nato|dsca` (and `demo`).

use std::path::PathBuf;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

mod shared;
use shared::shared_register;

fn expedite() -> Command {
    let mut command = Command::cargo_bin("expedite").expect("the binary is built");
    command.env_remove("EXPEDITE_SIPRI");
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

/// The hand-made fixture of the data crate (our own rows in SIPRI's layout).
fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/tests/fixtures/leadtimes-per-deal.csv")
}

#[test]
fn sipri_leadtimes_json_keeps_the_issue_keys() {
    let report = json(
        expedite()
            .args(["sipri", "leadtimes", "--format", "json"])
            .arg("--file")
            .arg(fixture()),
    );
    assert_eq!(report["source"]["rows"], 10);
    assert_eq!(report["source"]["generated"], "1 Jan 2026 12:00:00 PM");
    let us = &report["groups"][0];
    assert_eq!(us["key"], "United States");
    assert_eq!(us["deals"], 5);
    assert_eq!(us["deals_with_delivery"], 4);
    assert_eq!(us["deals_fully_delivered"], 3);
    assert_eq!(us["first_delivery_years"]["median"], 3.0);
    assert_eq!(us["first_delivery_years"]["p90"], 4.7);
    assert_eq!(us["first_delivery_years"]["mean"], 2.75);
    assert_eq!(us["full_delivery_years"]["median"], 4.0);
    assert_eq!(us["share_first_delivery_within_years"]["1"], 0.25);
    assert_eq!(us["tiv_total_order"], 45.5);
}

#[test]
fn sipri_file_comes_from_the_environment_too() {
    expedite()
        .args([
            "sipri",
            "leadtimes",
            "--by",
            "recipient",
            "--recipient-group",
            "nato",
            "--format",
            "csv",
        ])
        .env("EXPEDITE_SIPRI", fixture())
        .assert()
        .success()
        .stdout(predicate::str::starts_with("key,deals,deals_with_delivery"))
        .stdout(predicate::str::contains(
            "Poland,5,5,5,2,4.2,2.4,3,0.4,0.6,0.8,37.5",
        ))
        // Germany's only deal has no number ordered: fully delivered unknown, not 0.
        .stdout(predicate::str::contains("Germany,1,1,,4,4,4,,0,0,0,,"))
        .stdout(predicate::str::contains("NATO**").not());
}

#[test]
fn sipri_without_a_file_or_with_a_typo_is_a_usage_error_and_an_unreadable_file_a_failure() {
    expedite()
        .args(["sipri", "leadtimes"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--file"));
    expedite()
        .args(["sipri", "deals", "--supplier", "Sout Korea"])
        .arg("--file")
        .arg(fixture())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown supplier 'Sout Korea'"));
    // A file that cannot be read is a failure at run time: exit code 1.
    expedite()
        .args(["sipri", "deals", "--file", "/nonexistent/register.csv"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "cannot read /nonexistent/register.csv",
        ));
}

#[test]
fn sipri_deals_on_the_shared_register() {
    let Some(path) = shared_register() else {
        return;
    };
    let deals = json(
        expedite()
            .args([
                "sipri",
                "deals",
                "--recipient",
                "Poland",
                "--supplier",
                "KOR",
                "--from",
                "2022",
                "--to",
                "2022",
                "--format",
                "json",
            ])
            .arg("--file")
            .arg(path),
    );
    let k2 = deals["deals"]
        .as_array()
        .expect("a list of deals under \"deals\"")
        .iter()
        .find(|deal| deal["designation"] == "K2 Black Panther" && deal["ordered"] == 180)
        .expect("the 2022 K2 order");
    assert_eq!(k2["delivered"], 84);
    assert_eq!(k2["delivery_years"], serde_json::json!([2022, 2023, 2024]));
    assert_eq!(k2["status"], "New");
}

#[test]
fn nato_status_counts_as_nato_reported() {
    let status = json(expedite().args(["nato", "status", "--year", "2014", "--format", "json"]));
    assert_eq!(status["count_meeting"], 3);
    assert_eq!(status["target_pct"], 2.0);
    let status = json(expedite().args([
        "nato", "status", "--year", "2023", "--target", "2", "--format", "json",
    ]));
    assert_eq!(status["count_meeting"], 10);
    let below = status["below"].as_array().expect("below");
    let romania = below
        .iter()
        .find(|b| b["iso3"] == "ROU")
        .expect("Romania below 2% in 2023");
    assert_eq!(romania["gap_pct_points"], 0.4);
    let latest = json(expedite().args(["nato", "status", "--format", "json"]));
    assert_eq!(latest["year"], 2025);
    assert_eq!(
        latest["missing"],
        serde_json::json!([{"iso3": "DEU", "country": "Germany"}, {"iso3": "ISL", "country": "Iceland"}])
    );
}

#[test]
fn nato_trend_and_path() {
    expedite()
        .args(["nato", "trend", "POL"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Poland (POL), member since 1999: +2.62 percentage points since 2014.",
        ));
    let path = json(expedite().args([
        "nato", "path", "--target", "3.5", "--by", "2035", "--format", "json",
    ]));
    let germany = path["path"]
        .as_array()
        .expect("array")
        .iter()
        .find(|s| s["iso3"] == "DEU")
        .expect("Germany");
    assert_eq!(germany["yearly_increase_pct_points"], 0.136);
    expedite()
        .args(["nato", "trend", "AUT"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a NATO member"));
}

#[test]
fn dsca_list_and_summary() {
    expedite()
        .args(["dsca", "list", "--purchaser", "ROU", "--format", "csv"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "2023-11-09,Romania,ROU,M1A2 SEPv3 Abrams main battle tanks,54,2530000000,http",
        ));
    let summary = json(expedite().args([
        "dsca",
        "summary",
        "--from",
        "2023-01-01",
        "--to",
        "2023-12-31",
        "--format",
        "json",
    ]));
    assert_eq!(summary["sample"]["notifications"], 90);
    let poland = summary["summary"]
        .as_array()
        .expect("array")
        .iter()
        .find(|row| row["iso3"] == "POL")
        .expect("Poland");
    assert_eq!(poland["count"], 5);
    assert_eq!(poland["year"], 2023);
}

#[test]
fn demo_runs_end_to_end_with_few_trials() {
    let chart = std::env::temp_dir().join(format!("expedite-demo-{}.svg", std::process::id()));
    let demo = json(
        expedite()
            .args(["demo", "--trials", "20", "--format", "json", "--chart"])
            .arg(&chart),
    );
    let assumptions = &demo["assumptions"];
    assert_eq!(assumptions["as_of"], "2026-01-01");
    assert_eq!(assumptions["trials"], 20);
    assert!(assumptions["channels"]["fms"]["implemented"]["dist"].is_string());
    let cases = demo["cases"].as_array().expect("cases");
    assert!(
        cases.len() >= 10,
        "the notified sales on catalog lines: {}",
        cases.len()
    );
    for case in cases {
        for run in ["base", "expedite"] {
            let dates: Vec<&str> = ["p10", "p50", "p90"]
                .iter()
                .map(|p| case[run][p].as_str().expect("a date"))
                .collect();
            assert!(
                dates[0] <= dates[1] && dates[1] <= dates[2],
                "{}: {dates:?}",
                case["id"]
            );
        }
        assert!(case["shift_p50_days"].is_i64());
    }
    let polish_apache = cases
        .iter()
        .find(|c| c["id"] == "POL-2023-08-21-ah64e")
        .expect("Poland's Apaches");
    assert_eq!(polish_apache["units"], 96);
    let svg = std::fs::read_to_string(&chart).expect("the chart was written");
    assert!(
        svg.starts_with("<svg") && svg.contains("expedite"),
        "an SVG chart"
    );
    std::fs::remove_file(&chart).expect("remove the chart");

    expedite()
        .args(["demo", "--trials", "10"])
        .assert()
        .success()
        .stdout(predicate::str::contains("ASSUMPTIONS"))
        .stdout(predicate::str::contains("backlog (units as of date)"))
        .stdout(predicate::str::contains("POL-2023-02-07-himars"));
}

#[test]
fn demo_template_can_be_printed_changed_and_read_back() {
    let template = expedite()
        .args(["demo", "--print-template"])
        .output()
        .expect("runs");
    let text = String::from_utf8(template.stdout).expect("UTF-8");
    assert!(text.contains("[expedite]"));
    let changed = text.replace(
        "announced_rate_increases = true",
        "announced_rate_increases = false",
    );
    let path = std::env::temp_dir().join(format!("expedite-template-{}.toml", std::process::id()));
    std::fs::write(&path, changed).expect("write the copy");
    let demo = json(
        expedite()
            .args(["demo", "--trials", "10", "--format", "json", "--template"])
            .arg(&path),
    );
    assert_eq!(demo["assumptions"]["rate_increases"], serde_json::json!([]));
    std::fs::remove_file(&path).expect("remove the copy");
}

#[test]
fn demo_marks_facts_and_assumptions_and_shows_band_parts_in_json() {
    let demo = json(expedite().args(["demo", "--trials", "30", "--format", "json"]));
    let cases = demo["cases"].as_array().expect("cases");
    let estonia = cases
        .iter()
        .find(|c| c["id"] == "EST-2022-07-15-himars")
        .expect("Estonia's HIMARS");
    assert_eq!(estonia["stage"], "delivered");
    assert_eq!(estonia["since"], "2025-04-30");
    assert_eq!(estonia["stage_provenance"], "fact");
    assert_eq!(estonia["facts"]["timeline"], "EST-HIMARS-2022");
    assert_eq!(estonia["base"]["p50"], "2025-04-30");
    for case in cases {
        assert!(
            ["fact", "assumed"].contains(&case["stage_provenance"].as_str().expect("a mark")),
            "{}",
            case["id"]
        );
        let parts = &case["base_forecast"]["band_parts"]["final_delivery"];
        for part in ["paperwork", "rate", "slip", "delay", "pace", "transport"] {
            assert!(parts[part].is_i64(), "{}: {part} in {parts}", case["id"]);
        }
    }
    let lines = demo["assumptions"]["lines"].as_array().expect("lines");
    // Under the calibration the F-35's stated backlog is shown, not queued: the fitted delay
    // already holds the usual wait behind other buyers.
    let f35 = lines.iter().find(|l| l["id"] == "f35").expect("F-35");
    assert_eq!(f35["backlog"]["units"], 0);
    let basis = f35["backlog"]["basis"].as_str().expect("a basis");
    assert!(
        basis.starts_with("none queued; stated: 416 on 2026-01-01"),
        "{basis}"
    );
}

#[test]
fn without_the_calibration_the_demo_queues_the_stated_f35_backlog_and_the_assumed_ones() {
    let demo = json(expedite().args([
        "demo",
        "--trials",
        "20",
        "--format",
        "json",
        "--calibration",
        "none",
    ]));
    let lines = demo["assumptions"]["lines"].as_array().expect("lines");
    let line = |id: &str| lines.iter().find(|l| l["id"] == id).expect("a line");
    assert_eq!(line("f35")["backlog"]["units"], 416);
    assert_eq!(line("f35")["backlog"]["provenance"], "fact");
    // HIMARS: the template's 1.5 years of 60 a year.
    assert_eq!(line("himars")["backlog"]["units"], 90);
}

#[test]
fn the_demo_says_a_promise_is_drawn_from_only_when_a_slip_of_promises_is_fitted() {
    // As of 2026-06-01 Lithuania's HIMARS, promised for 2025, are not delivered.
    let promise_line = |calibration: &str| {
        let out = expedite()
            .args([
                "demo",
                "--trials",
                "20",
                "--as-of",
                "2026-06-01",
                "--calibration",
                calibration,
            ])
            .output()
            .expect("runs");
        assert!(out.status.success());
        String::from_utf8(out.stdout)
            .expect("utf-8")
            .lines()
            .find(|line| line.starts_with("LTU-2022-11-09-himars: first delivery promised"))
            .map(str::to_owned)
            .expect("Lithuania's promise line")
    };
    assert!(
        promise_line("shipped").contains("forecast from the promise and the fitted slip"),
        "shipped"
    );
    let uncalibrated = promise_line("none");
    assert!(
        uncalibrated.contains("not used without a fitted slip of promises"),
        "{uncalibrated}"
    );
}

#[test]
fn demo_with_the_same_seed_gives_the_same_results() {
    let run = |seed: &str| {
        expedite()
            .args(["demo", "--trials", "40", "--format", "csv", "--seed", seed])
            .output()
            .expect("runs")
            .stdout
    };
    assert_eq!(run("7"), run("7"));
    assert_ne!(run("7"), run("8"), "another seed draws other numbers");
}

#[test]
fn demo_refuses_a_chart_it_cannot_write_before_simulating() {
    expedite()
        .args([
            "demo",
            "--trials",
            "10",
            "--chart",
            "/no/such/folder/demo.svg",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--chart /no/such/folder/demo.svg"))
        .stderr(predicate::str::contains("does not exist"));
}

#[test]
fn demo_template_errors_name_the_file_and_the_field_with_exit_code_2() {
    let template = expedite()
        .args(["demo", "--print-template"])
        .output()
        .expect("runs");
    let text = String::from_utf8(template.stdout).expect("UTF-8");
    let path = std::env::temp_dir().join(format!("expedite-bad-{}.toml", std::process::id()));
    std::fs::write(
        &path,
        text.replacen("backlog_years = 1.5", "backlog_years = -1.5", 1),
    )
    .expect("write");
    expedite()
        .args(["demo", "--trials", "10", "--template"])
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(path.display().to_string()))
        .stderr(predicate::str::contains("lines.himars.backlog_years"))
        .stderr(predicate::str::contains("9999").not());
    std::fs::remove_file(&path).expect("remove");
    expedite()
        .args([
            "demo",
            "--trials",
            "10",
            "--as-of",
            "9999-06-01",
            "--format",
            "csv",
        ])
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("as-of date 9999-06-01"));
}
