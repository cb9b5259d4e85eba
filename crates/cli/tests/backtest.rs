//! `expedite calibrate` and `expedite backtest` end to end, on the shipped timelines.

use std::path::PathBuf;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

mod shared;
use shared::shared_register;

fn expedite() -> Command {
    Command::cargo_bin("expedite").expect("the binary is built")
}

fn shipped_timelines() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/data/cases/timelines.csv")
}

fn json_of(command: &mut Command) -> Value {
    let output = command.output().expect("runs");
    assert!(
        output.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("valid JSON")
}

/// `backtest` of the shipped timelines as JSON, 200 trials, with `extra` arguments.
fn shipped_backtest_json(extra: &[&std::ffi::OsStr]) -> Value {
    json_of(
        expedite()
            .arg("backtest")
            .arg(shipped_timelines())
            .args([
                "--observed",
                "2026-03-31",
                "--trials",
                "200",
                "--format",
                "json",
            ])
            .args(extra),
    )
}

fn written(text: &str) -> (tempfile::TempDir, PathBuf) {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let path = folder.path().join("timelines.csv");
    std::fs::write(&path, text).expect("writes");
    (folder, path)
}

#[test]
fn backtest_json_keeps_the_issue_keys() {
    let report = json_of(expedite().arg("backtest").arg(shipped_timelines()).args([
        "--observed",
        "2026-03-31",
        "--as-of",
        "loa",
        "--trials",
        "100",
        "--format",
        "json",
    ]));
    assert_eq!(report["observed"], "2026-03-31");
    let forecasts = report["forecasts"].as_array().expect("forecasts");
    assert!(!forecasts.is_empty());
    let estonia = forecasts
        .iter()
        .find(|f| f["id"] == "EST-HIMARS-2022")
        .expect("Estonia's HIMARS are forecast");
    assert_eq!(estonia["line"], "himars");
    assert_eq!(estonia["as_of_kind"], "loa");
    assert_eq!(estonia["as_of"], "2022-12-03");
    assert_eq!(estonia["actual_first_delivery"], "2025-04-30");
    for key in ["p10", "p50", "p90"] {
        assert!(estonia["first_delivery"][key].is_string(), "{key}");
    }
    assert!(estonia["error_months"].is_number());
    assert!(["inside", "early", "late"].contains(&estonia["outcome"].as_str().expect("a string")));
    assert!(forecasts.iter().all(|f| f["as_of_kind"] == "loa"));
    let skipped = report["skipped"].as_array().expect("skipped");
    let korean = skipped
        .iter()
        .find(|s| s["id"] == "POL-K2-2022")
        .expect("a Korean sale is listed as skipped");
    assert!(
        korean["reason"]
            .as_str()
            .expect("reason")
            .contains("non-US")
    );
    for key in [
        "scored",
        "inside",
        "coverage",
        "median_abs_error_months",
        "median_band_months",
        "baseline_median_abs_error_months",
    ] {
        assert!(report["summary"].get(key).is_some(), "summary.{key}");
    }
}

#[test]
fn calibrate_writes_a_parameters_file_that_names_its_command() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let out = folder.path().join("params.toml");
    let report = json_of(
        expedite()
            .arg("calibrate")
            .arg(shipped_timelines())
            .args(["--observed", "2026-03-31", "--format", "json", "--out"])
            .arg(&out),
    );
    let fits = report["fit"].as_array().expect("fits");
    let offered = fits
        .iter()
        .find(|fit| fit["parameter"] == "channels.fms.offered")
        .expect("notification to LOA is fitted");
    assert!(offered["n"].as_u64().expect("n") >= 20);
    let text = std::fs::read_to_string(&out).expect("written");
    assert!(
        text.contains("# Produced by: expedite calibrate "),
        "{text}"
    );
    assert!(text.contains("[channels.fms.offered]"), "{text}");
}

#[test]
fn the_shipped_parameters_are_reproduced_by_the_command_in_their_header() {
    // The header says `expedite calibrate crates/data/data/cases/timelines.csv --observed
    // 2026-03-31 --register ../shared/data/sipri/trade-register.csv
    // --register-ordered-before 2015 --out ...`: running it again must give the same
    // distributions.
    let Some(register) = shared_register() else {
        return;
    };
    let shipped = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/data/calibration/params.toml"),
    )
    .expect("shipped");
    assert!(
        shipped.contains(
            "--register ../shared/data/sipri/trade-register.csv --register-ordered-before 2015"
        ),
        "the header names the register and its years"
    );
    let folder = tempfile::tempdir().expect("a temporary folder");
    let out = folder.path().join("params.toml");
    expedite()
        .arg("calibrate")
        .arg(shipped_timelines())
        .args([
            "--observed",
            "2026-03-31",
            "--register-ordered-before",
            "2015",
            "--register",
        ])
        .arg(&register)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let fresh = std::fs::read_to_string(&out).expect("written");
    let body = |text: &str| {
        text.lines()
            .filter(|line| !line.starts_with('#') && !line.starts_with("source ="))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(body(&fresh), body(&shipped));
}

#[test]
fn a_bad_timelines_file_is_exit_2_naming_line_and_field() {
    let (_folder, path) = written(
        "id,buyer,iso3,supplier,channel,system,line,quantity,value_usd,request,notification,\
         loa_or_contract_signed,production_contract,first_delivery,final_delivery,notes,sources\n\
         X-1,Xland,EST,USA,fms,HIMARS,himars,6,,,2022-07-15,2022-13-02,,,,,\n",
    );
    expedite()
        .arg("backtest")
        .arg(&path)
        .args(["--observed", "2026-03-31"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("line 2")
                .and(predicate::str::contains("loa_or_contract_signed")),
        );
    expedite()
        .arg("calibrate")
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("line 2"));
}

#[test]
fn an_unknown_as_of_or_a_bad_date_is_exit_2() {
    expedite()
        .arg("backtest")
        .arg(shipped_timelines())
        .args(["--observed", "2026-03-31", "--as-of", "contract"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("contract").and(predicate::str::contains("loa")));
    expedite()
        .arg("backtest")
        .arg(shipped_timelines())
        .args(["--observed", "2026-02-30"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--observed"));
    expedite()
        .arg("backtest")
        .arg(shipped_timelines())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--observed"));
}

#[test]
fn a_missing_file_is_a_runtime_failure_exit_1() {
    expedite()
        .args(["backtest", "no-such-file.csv", "--observed", "2026-03-31"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no-such-file.csv"));
}

#[test]
fn a_parameters_file_from_calibrate_is_used_as_given_and_the_shipped_one_gives_the_shipped_run() {
    let shipped_params =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/data/calibration/params.toml");
    assert_eq!(
        shipped_backtest_json(&["--params".as_ref(), shipped_params.as_os_str()]),
        shipped_backtest_json(&[]),
        "the shipped file given as --params is the shipped calibration"
    );
}

#[test]
fn a_parameters_file_with_leave_one_out_is_refused_naming_the_flag() {
    let (_folder, params) = written("observed = \"2026-03-31\"\n");
    expedite()
        .arg("backtest")
        .arg(shipped_timelines())
        .args([
            "--observed",
            "2026-03-31",
            "--calibration",
            "leave-one-out",
            "--params",
        ])
        .arg(&params)
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("--params").and(predicate::str::contains("leave-one-out")),
        );
}

#[test]
fn a_family_with_shipped_parameters_is_refused_naming_the_flag() {
    expedite()
        .arg("backtest")
        .arg(shipped_timelines())
        .args(["--observed", "2026-03-31", "--family", "weibull"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("--family").and(predicate::str::contains("leave-one-out")),
        );
}

#[test]
fn weibull_parameters_from_calibrate_run_in_the_backtest_and_are_scored() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let out = folder.path().join("weibull.toml");
    expedite()
        .arg("calibrate")
        .arg(shipped_timelines())
        .args(["--observed", "2026-03-31", "--family", "weibull", "--out"])
        .arg(&out)
        .assert()
        .success();
    let text = std::fs::read_to_string(&out).expect("written");
    assert!(text.contains("dist = \"weibull\""), "{text}");
    let report = shipped_backtest_json(&["--params".as_ref(), out.as_os_str()]);
    let summary = &report["summary"];
    assert!(summary["scored"].as_u64().expect("scored") > 0);
    let score = summary["mean_interval_score_months"]
        .as_f64()
        .expect("a mean interval score");
    let band = summary["median_band_months"].as_f64().expect("a band");
    assert!(score > 0.0 && band > 0.0, "score {score}, band {band}");
}

#[test]
fn leave_one_out_json_names_the_family_its_refits_wrote() {
    let report = shipped_backtest_json(&[
        "--calibration".as_ref(),
        "leave-one-out".as_ref(),
        "--family".as_ref(),
        "weibull".as_ref(),
    ]);
    assert_eq!(report["calibration"], "leave-one-out");
    assert_eq!(report["family"], "weibull");
    assert!(shipped_backtest_json(&[]).get("family").is_none());
}

#[test]
fn a_sipri_register_is_tested_as_of_each_deals_order_year_leaving_out_the_known_sales() {
    let Some(register) = shared_register() else {
        return;
    };
    let report = json_of(expedite().arg("backtest").arg(&register).args([
        "--sipri",
        "--observed",
        "2024-12-31",
        "--ordered-from",
        "2015",
        "--trials",
        "100",
        "--format",
        "json",
    ]));
    let forecasts = report["forecasts"].as_array().expect("forecasts");
    assert!(forecasts.len() > 50, "{} forecasts", forecasts.len());
    for forecast in forecasts {
        assert_eq!(forecast["as_of_kind"], "loa");
        assert_eq!(forecast["as_of_precision"], "year");
        let actual = &forecast["actual_precision"];
        assert!(actual == "year" || actual.is_null(), "{actual}");
        let as_of = forecast["as_of"].as_str().expect("a date");
        assert!(
            as_of.ends_with("-07-02") && as_of[..4] >= *"2015",
            "{as_of}"
        );
    }
    let ids: Vec<&str> = forecasts.iter().filter_map(|f| f["id"].as_str()).collect();
    assert!(!ids.iter().any(|id| id.starts_with("POL-HIMARS-2019")));
    let skipped = report["skipped"].as_array().expect("skipped");
    assert!(skipped.iter().any(|row| {
        row["reason"]
            .as_str()
            .is_some_and(|reason| reason.contains("the same sale as timeline POL-HIMARS-2019"))
    }));
    assert!(report["summary"]["scored"].as_u64().is_some_and(|n| n > 20));
}

#[test]
fn a_sipri_register_goes_with_shipped_parameters_and_the_loa_only() {
    let Some(register) = shared_register() else {
        return;
    };
    for (flags, named) in [
        (&["--calibration", "leave-one-out"][..], "--sipri"),
        (&["--as-of", "notification"][..], "--as-of"),
        (&["--as-of", "both"][..], "--as-of"),
    ] {
        expedite()
            .arg("backtest")
            .arg(&register)
            .args(["--sipri", "--observed", "2024-12-31"])
            .args(flags)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(named));
    }
}

#[test]
fn ordered_from_without_sipri_is_refused() {
    expedite()
        .arg("backtest")
        .arg(shipped_timelines())
        .args(["--observed", "2026-03-31", "--ordered-from", "2015"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--sipri"));
}

#[test]
fn a_register_feeds_a_calibration_or_a_leave_one_out_refit_not_shipped_parameters() {
    expedite()
        .arg("backtest")
        .arg(shipped_timelines())
        .args(["--observed", "2026-03-31", "--register", "register.csv"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--register: goes with --calibration leave-one-out",
        ));
    expedite()
        .arg("calibrate")
        .arg(shipped_timelines())
        .args(["--register-ordered-before", "2015"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--register"));
}

#[test]
fn only_a_promise_public_before_the_forecast_day_anchors_a_shipped_forecast() {
    // Poland's F-35s were promised for 2024 at signing (2020-01-31), Germany's for 2026 and
    // Romania's for 2030 in statements on their LOA days, Slovakia's F-16s for the fourth
    // quarter of 2022 and Bahrain's for 2021 at signing: the forecasts as of the day after
    // carry the promise. Estonia's and Lithuania's HIMARS promises were published on the
    // day after their LOA, the forecast's own day, so it does not; Poland's Abrams and
    // Apaches were promised only after their LOA.
    let report = shipped_backtest_json(&[]);
    let anchored: Vec<(&str, &str, &str)> = report["forecasts"]
        .as_array()
        .expect("forecasts")
        .iter()
        .filter_map(|forecast| {
            Some((
                forecast["id"].as_str()?,
                forecast["as_of_kind"].as_str()?,
                forecast["promised_first_delivery"].as_str()?,
            ))
        })
        .collect();
    assert_eq!(
        anchored,
        [
            ("POL-F35-2020", "loa", "2024-07-01"),
            ("ROU-F35-2024", "loa", "2030-07-01"),
            ("DEU-F35-2022", "loa", "2026-07-01"),
            ("SVK-F16B70-2018", "loa", "2022-11-14"),
            ("BHR-F16B70-2017", "loa", "2021-07-01"),
        ]
    );
}

#[test]
fn a_delivery_dated_only_to_its_year_is_scored_against_the_middle_of_that_year_and_marked() {
    // Poland's 2020 Javelins were delivered "in 2021" (PAP), no month given.
    let report = shipped_backtest_json(&["--as-of".as_ref(), "notification".as_ref()]);
    let javelin = report["forecasts"]
        .as_array()
        .expect("forecasts")
        .iter()
        .find(|f| f["id"] == "POL-JAVELIN-2020")
        .expect("Poland's Javelins are forecast as of their notification");
    assert_eq!(javelin["actual_first_delivery"], "2021-07-01");
    assert_eq!(javelin["actual_precision"], "year");
    assert!(javelin["error_months"].is_number(), "scored, not pending");
    expedite()
        .arg("backtest")
        .arg(shipped_timelines())
        .args(["--observed", "2026-03-31", "--as-of", "notification"])
        .args(["--trials", "200", "--color", "never"])
        .assert()
        .success()
        .stdout(predicate::str::contains("2021-07-01 (year)"))
        .stdout(predicate::str::contains(
            "(month), (year): the sources give only the month or the year",
        ));
}
