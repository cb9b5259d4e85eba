//! `expedite rules` through the real binary: JSON shape, exit codes, error messages, every
//! format of every rules command, each clause of AECA §36 and the replay.

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn expedite() -> Command {
    Command::cargo_bin("expedite").expect("the expedite binary is built")
}

fn check_json(args: &[&str]) -> Value {
    let output = expedite()
        .args(["rules", "check", "--format", "json"])
        .args(args)
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("valid JSON")
}

#[test]
fn check_json_has_exactly_the_documented_keys() {
    let json = check_json(&[
        "--purchaser",
        "POL",
        "--date",
        "2025-03-01",
        "--mde-usd",
        "$240M",
        "--total-usd",
        "240,000,000",
    ]);
    let mut keys: Vec<&str> = json
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "channel",
            "citation",
            "date",
            "earliest_offer_after_notification_days",
            "emergency_waiver",
            "formal_review_days",
            "group",
            "informal_review_days",
            "notification_required",
            "purchaser",
            "rule_set",
            "sources",
            "territory_outside_nato_plus_5",
            "thresholds_crossed",
        ]
    );
    assert_eq!(json["group"], "nato_plus_5");
    assert_eq!(
        json["thresholds_crossed"],
        serde_json::json!(["mde", "articles_services"])
    );
    assert_eq!(json["earliest_offer_after_notification_days"], 15);
}

#[test]
fn a_finnish_sale_the_day_before_accession_gets_the_longer_review() {
    let json = check_json(&[
        "--purchaser",
        "Finland",
        "--date",
        "2023-04-03",
        "--mde-usd",
        "20M",
        "--total-usd",
        "20M",
    ]);
    assert_eq!(json["group"], "other");
    // 30 days from the formal notification; the informal 20 days come before it.
    assert_eq!(json["earliest_offer_after_notification_days"], 30);
    assert_eq!(json["informal_review_days"], 20);
    let after = check_json(&[
        "--purchaser",
        "Finland",
        "--date",
        "2023-04-04",
        "--mde-usd",
        "20M",
    ]);
    assert_eq!(
        (
            after["group"].clone(),
            after["notification_required"].clone()
        ),
        (Value::from("nato_plus_5"), Value::Bool(false))
    );
}

#[test]
fn a_dollar_below_the_threshold_needs_no_notification() {
    let json = check_json(&[
        "--purchaser",
        "EGY",
        "--date",
        "2025-03-01",
        "--mde-usd",
        "13999999",
        "--total-usd",
        "13999999",
    ]);
    assert_eq!(json["notification_required"], false);
    assert_eq!(json["thresholds_crossed"], serde_json::json!([]));
}

#[test]
fn emergency_waiver_is_flagged_in_json() {
    let json = check_json(&[
        "--purchaser",
        "SAU",
        "--date",
        "2019-05-24",
        "--mde-usd",
        "$1B",
        "--total-usd",
        "$8.1B",
        "--emergency",
    ]);
    assert_eq!(
        (
            json["notification_required"].clone(),
            json["emergency_waiver"].clone()
        ),
        (Value::Bool(true), Value::Bool(true))
    );
    assert_eq!(json["formal_review_days"], 0);
}

#[test]
fn tiger_act_rule_set_is_selectable() {
    let json = check_json(&[
        "--purchaser",
        "POL",
        "--date",
        "2025-03-01",
        "--mde-usd",
        "30M",
        "--total-usd",
        "30M",
        "--rule-set",
        "tiger-act-2024",
    ]);
    assert_eq!(json["rule_set"], "tiger-act-2024");
    assert_eq!(json["notification_required"], false);
}

#[test]
fn bad_input_exits_2_with_one_message_naming_the_field() {
    let cases: [(&[&str], &str); 6] = [
        (
            &["--purchaser", "Atlantis", "--date", "2025-03-01"],
            "--purchaser: unknown country 'Atlantis'",
        ),
        (
            &["--purchaser", "POL", "--date", "2025-02-30"],
            "--date: '2025-02-30' is not a date",
        ),
        (
            &[
                "--purchaser",
                "POL",
                "--date",
                "2025-03-01",
                "--mde-usd",
                "-5",
            ],
            "--mde-usd: invalid amount: amount '-5' is negative",
        ),
        (
            &[
                "--purchaser",
                "POL",
                "--date",
                "2025-03-01",
                "--total-usd",
                "lots",
            ],
            "--total-usd: invalid amount: amount 'lots' is not a number",
        ),
        (
            &[
                "--purchaser",
                "POL",
                "--date",
                "2025-03-01",
                "--rule-set",
                "hr-1",
            ],
            "unknown rule set 'hr-1'",
        ),
        (
            &[
                "--purchaser",
                "POL",
                "--date",
                "2025-03-01",
                "--mde-usd",
                "30M",
                "--total-usd",
                "20M",
            ],
            "MDE value $30M is above the total",
        ),
    ];
    for (args, message) in cases {
        expedite()
            .args(["rules", "check"])
            .args(args)
            .assert()
            .code(2)
            .stdout("")
            .stderr(predicate::str::contains(message));
    }
}

#[test]
fn rules_list_json_is_an_object_of_dated_rule_sets_with_sources() {
    let output = expedite()
        .args(["rules", "list", "--format", "json"])
        .output()
        .expect("runs");
    assert!(output.status.success());
    let json: Value = serde_json::from_slice(&output.stdout).expect("valid JSON");
    let sets = json["rule_sets"].as_array().expect("rule_sets array");
    let ids: Vec<&str> = sets.iter().filter_map(|set| set["id"].as_str()).collect();
    assert_eq!(
        ids,
        ["aeca-36b", "tiger-act-2024", "hr3138-2025", "hr3613-2025"]
    );
    let hr3613 = &sets[3];
    assert_eq!(hr3613["kind"], "proposal");
    assert_eq!(hr3613["effective"], "2025-05-23");
    assert!(
        hr3613["status"]
            .as_str()
            .is_some_and(|s| s.contains("not enacted"))
    );
    assert_eq!(hr3613["fms"]["nato_plus_5"]["mde"]["value"], 105_000_000);
    assert_eq!(hr3613["fms"]["nato_plus_5"]["mde"]["confirmed"], true);
    assert_eq!(
        hr3613["fms"]["other"]["articles_services"]["confirmed"],
        false
    );
    assert_eq!(json["sources"].as_array().map(Vec::len), Some(4));
}

#[test]
fn rules_replay_help_ends_with_examples() {
    let output = expedite()
        .args(["rules", "replay", "--help"])
        .output()
        .expect("runs");
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(
        help.contains("Examples:\n  expedite rules replay --rule-set hr3613-2025"),
        "{help}"
    );
}

#[test]
fn version_and_help_work() {
    expedite()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::starts_with("expedite "));
    expedite()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("rules"));
}

fn run_ok(args: &[&str]) -> String {
    let output = expedite().args(args).output().expect("runs");
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8")
}

#[test]
fn the_docs_example_of_14m_of_mde_to_egypt_works_without_a_total() {
    // An omitted --total-usd means the sale is nothing but its MDE.
    let json = check_json(&[
        "--purchaser",
        "EGY",
        "--date",
        "2025-03-01",
        "--mde-usd",
        "$14M",
    ]);
    assert_eq!(json["thresholds_crossed"], serde_json::json!(["mde"]));
    assert_eq!(json["earliest_offer_after_notification_days"], 30);
}

#[test]
fn section_36b6_polish_sale_with_ukraine_in_the_territory_is_judged_by_the_general_thresholds() {
    let base = [
        "--purchaser",
        "POL",
        "--date",
        "2025-03-01",
        "--mde-usd",
        "20M",
    ];
    let alone = check_json(&base);
    assert_eq!(alone["notification_required"], false);
    assert_eq!(alone["territory_outside_nato_plus_5"], false);
    let with_ukraine = check_json(&[&base[..], &["--territory", "UKR,DEU"]].concat());
    assert_eq!(with_ukraine["territory_outside_nato_plus_5"], true);
    assert_eq!(
        with_ukraine["thresholds_crossed"],
        serde_json::json!(["mde"])
    );
    assert_eq!(with_ukraine["formal_review_days"], 15);
}

#[test]
fn section_36c_dcs_of_30m_mde_to_japan_and_to_egypt() {
    let japan = check_json(&[
        "--purchaser",
        "JPN",
        "--date",
        "2025-03-01",
        "--channel",
        "dcs",
        "--mde-usd",
        "30M",
    ]);
    assert_eq!(japan["channel"], "dcs");
    assert_eq!(japan["thresholds_crossed"], serde_json::json!(["mde"]));
    assert_eq!(japan["earliest_offer_after_notification_days"], 15);
    let egypt = check_json(&[
        "--purchaser",
        "EGY",
        "--date",
        "2025-03-01",
        "--channel",
        "dcs",
        "--mde-usd",
        "30M",
    ]);
    assert_eq!(egypt["earliest_offer_after_notification_days"], 30);
    assert_eq!(egypt["informal_review_days"], 0);
}

#[test]
fn section_36c_category_i_firearms_of_1m_need_notification() {
    let json = check_json(&[
        "--purchaser",
        "MEX",
        "--date",
        "2025-03-01",
        "--channel",
        "dcs",
        "--firearms-usd",
        "$1M",
    ]);
    assert_eq!(json["thresholds_crossed"], serde_json::json!(["firearms"]));
}

#[test]
fn section_36d_an_mla_is_always_notified_with_no_thresholds() {
    let json = check_json(&[
        "--purchaser",
        "KOR",
        "--date",
        "2025-03-01",
        "--channel",
        "mla",
    ]);
    assert_eq!(json["notification_required"], true);
    assert_eq!(json["thresholds_crossed"], serde_json::json!([]));
    assert_eq!(json["formal_review_days"], 15);
}

#[test]
fn section_36b5_an_upgrade_reports_45_days_before_delivery() {
    let json = check_json(&[
        "--purchaser",
        "EGY",
        "--date",
        "2025-03-01",
        "--mde-usd",
        "14M",
        "--upgrade",
    ]);
    assert_eq!(json["notification_required"], true);
    assert_eq!(json["pre_delivery_report_days"], 45);
    let table = run_ok(&[
        "rules",
        "check",
        "--purchaser",
        "EGY",
        "--date",
        "2025-03-01",
        "--mde-usd",
        "1M",
        "--upgrade",
    ]);
    assert!(
        table.contains("at least 45 days before delivery"),
        "{table}"
    );
}

#[test]
fn the_table_says_the_informal_review_precedes_the_formal_notification() {
    let table = run_ok(&[
        "rules",
        "check",
        "--purchaser",
        "EGY",
        "--date",
        "2025-03-01",
        "--mde-usd",
        "14M",
    ]);
    assert!(
        table.contains("20 days, before the formal notification"),
        "{table}"
    );
    assert!(
        table.contains("30 days after the formal notification"),
        "{table}"
    );
}

#[test]
fn every_rules_command_honours_every_format() {
    let commands: [&[&str]; 4] = [
        &[
            "rules",
            "check",
            "--purchaser",
            "POL",
            "--date",
            "2025-03-01",
            "--mde-usd",
            "30M",
        ],
        &["rules", "list"],
        &["rules", "samm"],
        &["rules", "replay", "--rule-set", "hr3138-2025"],
    ];
    for command in commands {
        let json: Value = serde_json::from_str(&run_ok(&[command, &["--format", "json"]].concat()))
            .expect("valid JSON");
        let sources = json["sources"].as_array().expect("an object with sources");
        assert!(!sources.is_empty(), "{command:?}");
        for source in sources {
            assert!(
                source["name"].is_string() && source["date"].is_string(),
                "{command:?}"
            );
        }
        let csv_text = run_ok(&[command, &["--format", "csv"]].concat());
        assert!(
            !csv_text.contains('│'),
            "{command:?} printed a table as CSV"
        );
        let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
        let width = reader.headers().expect("a header").len();
        let rows: Vec<csv::StringRecord> = reader
            .records()
            .collect::<Result<_, _>>()
            .expect("CSV parses");
        assert!(!rows.is_empty(), "{command:?}");
        assert!(rows.iter().all(|row| row.len() == width), "{command:?}");
        // Piped, a table is plain aligned text: neither JSON nor the CSV.
        let table = run_ok(&[command, &["--format", "table"]].concat());
        assert!(!table.trim_start().starts_with('{'), "{command:?}");
        assert_ne!(table, csv_text, "{command:?}");
    }
}

#[test]
fn replay_of_hr3613_lists_the_notifications_congress_would_not_have_seen() {
    let json: Value = serde_json::from_str(&run_ok(&[
        "rules",
        "replay",
        "--rule-set",
        "hr3613-2025",
        "--format",
        "json",
    ]))
    .expect("valid JSON");
    assert_eq!(json["rule_set"], "hr3613-2025");
    let rows = json["rows"].as_array().expect("rows");
    let dropped: Vec<String> = rows
        .iter()
        .filter(|row| row["change"] == "no_longer_required")
        .map(|row| {
            format!(
                "{} {}",
                row["date"].as_str().unwrap_or(""),
                row["iso3"].as_str().unwrap_or("")
            )
        })
        .collect();
    let all = &json["totals"][2];
    assert_eq!(all["group"], "all");
    assert_eq!(
        all["no_longer_required"].as_u64(),
        Some(dropped.len() as u64)
    );
    assert_eq!(all["notifications"].as_u64(), Some(rows.len() as u64));
    assert_eq!(all["not_required_under_law"], 0);
}

#[test]
fn replay_takes_a_year_or_a_date_as_bounds() {
    let by_year = run_ok(&[
        "rules",
        "replay",
        "--rule-set",
        "hr3138-2025",
        "--from",
        "2025",
        "--to",
        "2025",
        "--format",
        "csv",
    ]);
    let by_date = run_ok(&[
        "rules",
        "replay",
        "--rule-set",
        "hr3138-2025",
        "--from",
        "2025-01-01",
        "--to",
        "2025-12-31",
        "--format",
        "csv",
    ]);
    assert_eq!(by_year, by_date);
    assert!(by_year.lines().count() > 1);
}

#[test]
fn replay_respects_the_date_range() {
    let csv_text = run_ok(&[
        "rules",
        "replay",
        "--rule-set",
        "hr3138-2025",
        "--from",
        "2025-12-01",
        "--to",
        "2025-12-31",
        "--format",
        "csv",
    ]);
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let dates: Vec<String> = reader
        .records()
        .map(|row| row.expect("parses")[0].to_owned())
        .collect();
    assert!(!dates.is_empty());
    assert!(
        dates
            .iter()
            .all(|date| date.as_str() >= "2025-12-01" && date.as_str() <= "2025-12-31")
    );
}

#[test]
fn every_bad_flag_combination_gives_one_clear_error_and_exit_2() {
    let base = [
        "rules",
        "check",
        "--purchaser",
        "POL",
        "--date",
        "2025-03-01",
    ];
    let cases: [(&[&str], &str); 14] = [
        (
            &["--channel", "dcs", "--dc-usd", "5M"],
            "--dc-usd does not apply to --channel dcs",
        ),
        (
            &["--channel", "dcs", "--upgrade"],
            "--upgrade does not apply to --channel dcs",
        ),
        (
            &["--firearms-usd", "1M"],
            "--firearms-usd does not apply to --channel fms",
        ),
        (
            &["--channel", "fms", "--firearms-usd", "1M"],
            "--firearms-usd does not apply to --channel fms",
        ),
        (
            &["--channel", "mla", "--mde-usd", "1M"],
            "--mde-usd does not apply to --channel mla",
        ),
        (
            &["--channel", "mla", "--total-usd", "1M"],
            "--total-usd does not apply to --channel mla",
        ),
        (
            &["--channel", "mla", "--dc-usd", "1M"],
            "--dc-usd does not apply to --channel mla",
        ),
        (
            &["--channel", "mla", "--firearms-usd", "1M"],
            "--firearms-usd does not apply to --channel mla",
        ),
        (
            &["--channel", "mla", "--territory", "UKR"],
            "--territory does not apply to --channel mla",
        ),
        (
            &["--channel", "mla", "--upgrade"],
            "--upgrade does not apply to --channel mla",
        ),
        (
            &["--channel", "lease"],
            "invalid value 'lease' for '--channel",
        ),
        (
            &["--territory", "UKR,Atlantis"],
            "--territory: unknown country 'Atlantis'",
        ),
        (
            &[
                "--channel",
                "dcs",
                "--firearms-usd",
                "2M",
                "--total-usd",
                "1M",
            ],
            "firearms value $2M is above the total",
        ),
        (
            &["--upgrade", "--mde-usd", "30M", "--total-usd", "20M"],
            "MDE value $30M is above the total",
        ),
    ];
    for (args, message) in cases {
        let output = expedite().args(base).args(args).output().expect("runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{args:?}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert_eq!(
            stderr.matches("error").count(),
            1,
            "{args:?}: one message: {stderr}"
        );
    }
    let replay_cases: [(&[&str], &str); 3] = [
        (&["--rule-set", "hr-1"], "unknown rule set 'hr-1'"),
        (
            &["--rule-set", "hr3138-2025", "--from", "2025-13-01"],
            "'2025-13-01' is neither a year (YYYY) nor a date (YYYY-MM-DD)",
        ),
        (
            &[
                "--rule-set",
                "hr3138-2025",
                "--from",
                "2025-06-01",
                "--to",
                "2025-01-01",
            ],
            "--from 2025-06-01 is after --to 2025-01-01",
        ),
    ];
    for (args, message) in replay_cases {
        expedite()
            .args(["rules", "replay"])
            .args(args)
            .assert()
            .code(2)
            .stdout("")
            .stderr(predicate::str::contains(message));
    }
}
