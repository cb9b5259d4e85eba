//! `expedite rules` through the real binary: JSON shape, exit codes, error messages.

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
    assert_eq!(json["earliest_offer_after_notification_days"], 50);
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
fn rules_list_names_both_rule_sets() {
    expedite()
        .args(["rules", "list", "--format", "json"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("\"aeca-36b\"")
                .and(predicate::str::contains("\"tiger-act-2024\"")),
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
