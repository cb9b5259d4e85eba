//! `expedite forecast` end to end, on the example scenario in `examples/forecast/`.

use std::path::PathBuf;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn expedite() -> Command {
    Command::cargo_bin("expedite").expect("the binary is built")
}

fn example() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/forecast/eastern-flank.toml")
}

fn stdout_of(command: &mut Command) -> Vec<u8> {
    let output = command.output().expect("runs");
    assert!(
        output.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

fn bad_scenario(text: &str) -> (tempfile::TempDir, PathBuf) {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let path = folder.path().join("bad.toml");
    std::fs::write(&path, text).expect("writes");
    (folder, path)
}

/// `expedite forecast` on the scenario `text` exits 2 and its error says `message`.
fn exits_2_saying(text: &str, message: &str) {
    let (_folder, path) = bad_scenario(text);
    expedite()
        .arg("forecast")
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(message));
}

#[test]
fn json_has_the_issue_keys_for_base_and_policy() {
    let stdout = stdout_of(
        expedite()
            .arg("forecast")
            .arg(example())
            .args(["--trials", "200", "--format", "json", "--quiet"]),
    );
    let report: Value = serde_json::from_slice(&stdout).expect("valid JSON");
    for key in ["scenario", "start", "trials", "seed", "runs"] {
        assert!(report.get(key).is_some(), "missing {key}");
    }
    assert_eq!(report["trials"], 200);
    let runs = report["runs"].as_array().expect("runs");
    assert_eq!(
        runs.iter()
            .map(|run| run["policy"].as_str())
            .collect::<Vec<_>>(),
        [Some("base"), Some("expedite")]
    );
    let case = &runs[0]["cases"][0];
    assert_eq!(case["id"], "PL-B-ZAB");
    for key in ["contract", "first_delivery", "final_delivery"] {
        for p in ["p10", "p50", "p90"] {
            let date = case[key][p].as_str().expect("a date");
            assert!(
                date.len() == 10 && date.as_bytes()[4] == b'-',
                "{key}.{p} = {date}"
            );
        }
    }
    assert!(case["p_on_target"].is_number(), "the example has a target");
    let line = &runs[0]["lines"][0];
    assert!(line["utilisation"].is_number() && line["clears"]["p50"].is_string());
    let bottleneck = runs[0]["bottleneck"].as_array().expect("bottleneck");
    assert!(
        bottleneck
            .iter()
            .all(|part| part["stage"].is_string() && part["median_days"].is_number())
    );
}

#[test]
fn the_same_command_prints_the_same_bytes() {
    let run = || {
        stdout_of(
            expedite()
                .arg("forecast")
                .arg(example())
                .args(["--trials", "300", "--format", "json"]),
        )
    };
    assert_eq!(run(), run());
}

#[test]
fn policy_flag_runs_only_that_policy_beside_the_base_and_an_unknown_one_exits_2() {
    let stdout = stdout_of(
        expedite()
            .arg("forecast")
            .arg(example())
            .args(["--trials", "50", "--policy", "expedite", "--format", "csv"]),
    );
    let text = String::from_utf8(stdout).expect("UTF-8");
    assert!(text.starts_with("policy,case,contract_p10,"), "{text}");
    assert_eq!(
        text.lines().count(),
        1 + 2 * 6,
        "a header and six cases for base and expedite"
    );
    expedite()
        .arg("forecast")
        .arg(example())
        .args(["--policy", "nope"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown policy 'nope'"));
}

#[test]
fn table_shows_each_case_with_its_policy_shift() {
    let stdout = stdout_of(
        expedite()
            .arg("forecast")
            .arg(example())
            .args(["--trials", "100"]),
    );
    let text = String::from_utf8(stdout).expect("UTF-8");
    for expected in [
        "PL-B-ZAB",
        "PL-K2-2",
        "P50",
        "expedite shift",
        "pac3-mse",
        "utilisation",
    ] {
        assert!(text.contains(expected), "missing {expected} in\n{text}");
    }
}

#[test]
fn chart_writes_an_svg_fan_chart() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let chart = folder.path().join("fan.svg");
    stdout_of(
        expedite()
            .arg("forecast")
            .arg(example())
            .args(["--trials", "50", "--quiet", "--chart"])
            .arg(&chart),
    );
    let svg = std::fs::read_to_string(&chart).expect("the chart is written");
    assert!(
        svg.starts_with("<svg") && svg.contains("<rect") && svg.contains("expedite"),
        "{svg}"
    );
}

#[test]
fn the_chart_marks_the_target_and_dates_months_and_names_its_source() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let chart = folder.path().join("fan.svg");
    stdout_of(
        expedite()
            .arg("forecast")
            .arg(example())
            .args(["--trials", "50", "--quiet", "--chart"])
            .arg(&chart),
    );
    let svg = std::fs::read_to_string(&chart).expect("the chart is written");
    for expected in [
        "target 2028-12-31",
        "2028-01",
        "final delivery (bar: P10 to P90, tick: P50)",
        "50 trials per run, seed 7",
        "Source: expedite forecast eastern-flank.toml",
    ] {
        assert!(svg.contains(expected), "missing {expected}");
    }
}

#[test]
fn an_unwritable_chart_path_is_refused_before_any_trial_runs() {
    // A million trials would take minutes: the refusal comes at once, in a sentence.
    expedite()
        .arg("forecast")
        .arg(example())
        .args(["--trials", "1000000", "--quiet", "--chart"])
        .arg("/nonexistent/folder/fan.svg")
        .timeout(std::time::Duration::from_secs(20))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "cannot write the chart to /nonexistent/folder/fan.svg: its folder does not exist",
        ));
}

#[test]
fn band_parts_are_in_the_json_only_when_asked_for() {
    let run = |extra: &[&str]| -> Value {
        let stdout = stdout_of(
            expedite()
                .arg("forecast")
                .arg(example())
                .args(["--trials", "100", "--format", "json", "--quiet"])
                .args(extra),
        );
        serde_json::from_slice(&stdout).expect("valid JSON")
    };
    assert!(run(&[])["runs"][0]["cases"][0].get("band_parts").is_none());
    let parts = &run(&["--band-parts"])["runs"][0]["cases"][2]["band_parts"];
    for key in [
        "paperwork",
        "queue",
        "rate",
        "slip",
        "delay",
        "pace",
        "transport",
    ] {
        assert!(
            parts["final_delivery"][key].is_i64(),
            "missing {key}: {parts}"
        );
    }
    assert!(
        parts["final_delivery"]["paperwork"].as_i64() > Some(0),
        "EE-B-ZAD's band is paperwork: {parts}"
    );
}

#[test]
fn bad_input_exits_2_naming_the_file_the_toml_path_and_the_problem() {
    let text = std::fs::read_to_string(example()).expect("the example exists");
    exits_2_saying(
        &text.replace(
            "line = \"himars\", quantity = 6",
            "line = \"hymars\", quantity = 6",
        ),
        "bad.toml: cases[2].lines[0].line: unknown line 'hymars'",
    );
    exits_2_saying(
        &text.replace("since = \"2024-11-01\"", "since = \"2024-13-01\""),
        "cases[0].since: '2024-13-01' is not a date",
    );
    exits_2_saying("name = \"x\"\nstart = 2025-03-01\n[[lines\n", "bad.toml");
    // A file that cannot be read is a failure at run time (exit code 1), not bad input.
    expedite()
        .args(["forecast", "/nonexistent/scenario.toml"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "cannot read /nonexistent/scenario.toml",
        ));
}

#[test]
fn no_progress_bar_when_stderr_is_not_a_terminal() {
    let output = expedite()
        .arg("forecast")
        .arg(example())
        .args(["--trials", "20000", "--format", "json"])
        .output()
        .expect("runs");
    assert!(output.status.success());
    assert!(
        output.stderr.is_empty(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_case_with_a_promise_gets_the_chance_it_is_kept_and_a_bad_promise_exits_2() {
    let text = std::fs::read_to_string(example()).expect("the example exists");
    let promised = text
        .replace(
            "[channels.fms]",
            "[channels.fms]\npromise_slip = { dist = \"normal\", median = 227, p90 = 433 }",
        )
        .replace(
            "id = \"PL-B-ZAB\"",
            "id = \"PL-B-ZAB\"\npromised_first_delivery = \"2028-07-01\"",
        );
    let (_folder, path) = bad_scenario(&promised);
    let table = String::from_utf8(stdout_of(
        expedite()
            .arg("forecast")
            .arg(&path)
            .args(["--trials", "500", "--quiet"]),
    ))
    .expect("text");
    assert!(table.contains("P(first by promise)"), "{table}");
    let csv = String::from_utf8(stdout_of(
        expedite()
            .arg("forecast")
            .arg(&path)
            .args(["--trials", "500", "--format", "csv", "--quiet"]),
    ))
    .expect("text");
    let mut rows = csv.lines();
    assert!(
        rows.next()
            .expect("header")
            .ends_with(",p_first_by_promise")
    );
    let promise_column = |id: &str| {
        csv.lines()
            .find(|row| row.starts_with(&format!("base,{id},")))
            .and_then(|row| row.rsplit(',').next())
            .map(str::to_owned)
            .expect("a base row")
    };
    let share: f64 = promise_column("PL-B-ZAB").parse().expect("a share");
    assert!((0.0..=1.0).contains(&share));
    assert_eq!(promise_column("RO-B-ZAC"), "");
    exits_2_saying(
        &promised.replace("2028-07-01", "2028-13-01"),
        "cases[0].promised_first_delivery: '2028-13-01' is not a date",
    );
}
