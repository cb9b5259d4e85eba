//! The conventions every command follows (docs/README.md, "Conventions"): formats, table
//! widths, exit codes, help, completions, the manual page, the version, global flags.

use std::path::PathBuf;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn expedite() -> Command {
    let mut command = Command::cargo_bin("expedite").expect("the binary is built");
    command
        .env_remove("EXPEDITE_SIPRI")
        .env_remove("COLUMNS")
        .env_remove("NO_COLOR");
    command
}

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../data/tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

/// The data commands, each as the words after `expedite` (the SIPRI ones on the hand-made
/// fixtures of the data crate).
fn data_commands() -> Vec<Vec<String>> {
    let per_deal = fixture("leadtimes-per-deal.csv");
    let censored = fixture("leadtimes-censored.csv");
    let per_year = fixture("leadtimes-per-delivery-year.csv");
    let commands: Vec<Vec<&str>> = vec![
        vec!["nato", "status"],
        vec!["nato", "status", "--year", "2024"],
        vec!["nato", "trend", "DEU"],
        vec!["nato", "path"],
        vec!["dsca", "list"],
        vec!["dsca", "summary"],
        vec!["sipri", "leadtimes", "--file", &per_deal],
        vec![
            "sipri",
            "leadtimes",
            "--file",
            &per_deal,
            "--by",
            "supplier-recipient",
        ],
        vec!["sipri", "leadtimes", "--file", &censored],
        vec!["sipri", "leadtimes", "--file", &per_year],
        vec!["sipri", "deals", "--file", &per_deal],
    ];
    commands
        .into_iter()
        .map(|words| words.into_iter().map(str::to_owned).collect())
        .collect()
}

fn stdout_of(command: &mut Command) -> String {
    let output = command.output().expect("runs");
    assert!(
        output.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8")
}

#[test]
fn csv_of_every_data_command_parses_and_leaves_missing_numbers_empty() {
    for words in data_commands() {
        let text = stdout_of(expedite().args(&words).args(["--format", "csv"]));
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let columns = reader.headers().expect("a header").len();
        let mut rows = 0;
        for record in reader.records() {
            let record = record.unwrap_or_else(|error| panic!("{words:?}: {error}"));
            assert_eq!(record.len(), columns, "{words:?}: a short or long row");
            assert!(
                record.iter().all(|cell| cell != "missing" && cell != "n/r"),
                "{words:?}: a word where a number is missing: {record:?}"
            );
            rows += 1;
        }
        assert!(rows > 0, "{words:?}: no rows");
    }
    // Germany has no 2025 figure: its CSV row has empty cells there.
    let trend = stdout_of(expedite().args(["nato", "trend", "DEU", "-f", "csv"]));
    assert!(trend.contains("\n2025,,,,true\n"), "{trend}");
}

#[test]
fn json_of_every_data_command_is_an_object_with_its_sources() {
    for words in data_commands() {
        let text = stdout_of(expedite().args(&words).args(["--format", "json"]));
        let value: Value = serde_json::from_str(&text).expect("valid JSON");
        let sources = value["sources"]
            .as_array()
            .unwrap_or_else(|| panic!("{words:?}: no sources list in {value}"));
        assert!(!sources.is_empty(), "{words:?}");
        for source in sources {
            assert!(source["name"].is_string(), "{words:?}: {source}");
            assert!(source.get("date").is_some(), "{words:?}: {source}");
        }
    }
    let status = stdout_of(expedite().args(["nato", "status", "--year", "2024", "-f", "json"]));
    let status: Value = serde_json::from_str(&status).expect("JSON");
    assert_eq!(status["sources"][0]["date"], "2025-08-28");
    assert_eq!(status["edition"]["source_id"], "NATO-DE-2025");
    // The fixture's export line `Data generated: 1 Jan 2026 12:00:00 PM`, as a date.
    let per_deal = fixture("leadtimes-per-deal.csv");
    let report =
        stdout_of(expedite().args(["sipri", "leadtimes", "--file", &per_deal, "-f", "json"]));
    let report: Value = serde_json::from_str(&report).expect("JSON");
    assert_eq!(report["sources"][0]["date"], "2026-01-01");
    let summary = stdout_of(expedite().args(["dsca", "summary", "-f", "json"]));
    let summary: Value = serde_json::from_str(&summary).expect("JSON");
    assert_eq!(summary["sources"][0]["date"], "2022-02-07 to 2025-12-22");
}

/// Words of a table that hold a digit (numbers, dates, ids), split at whitespace and at the
/// box characters.
fn tokens_with_digits(table: &str) -> Vec<String> {
    table
        .split(|c: char| c.is_whitespace() || "│┆┌┐└┘├┤┬┴┼╞╡╪═─".contains(c))
        .filter(|word| word.chars().any(|c| c.is_ascii_digit()))
        .map(str::to_owned)
        .collect()
}

#[test]
fn tables_fit_80_100_and_200_columns_and_keep_ids_dates_and_numbers_whole() {
    for words in data_commands() {
        let unlimited = stdout_of(expedite().args(&words).args(["--color", "always"]));
        let whole = tokens_with_digits(&unlimited);
        for width in [80_usize, 100, 200] {
            for (how, color) in [
                ("--width", "always"),
                ("COLUMNS", "always"),
                ("--width", "never"),
            ] {
                let mut command = expedite();
                command.args(&words).args(["--color", color]);
                if how == "COLUMNS" {
                    command.env("COLUMNS", width.to_string());
                } else {
                    command.args(["--width", &width.to_string()]);
                }
                let text = stdout_of(&mut command);
                // Table lines: boxed ones start with a box character; plain ones are those
                // before the notes, which the boxed layout marks.
                for line in text
                    .lines()
                    .filter(|line| line.starts_with(['┌', '│', '╞', '├', '└']))
                {
                    assert!(
                        line.chars().count() <= width,
                        "{words:?} at {width} ({how}): {} wide:\n{text}",
                        line.chars().count()
                    );
                }
                // Notes under the tables wrap too (a single long word may stick out).
                for line in text.lines() {
                    assert!(
                        line.chars().count() <= width || !line.trim().contains(' '),
                        "{words:?} at {width} ({how}, {color}): a line {} wide:\n{line}",
                        line.chars().count()
                    );
                }
                let tokens = tokens_with_digits(&text);
                for token in &whole {
                    assert!(
                        tokens.contains(token),
                        "{words:?} at {width} ({how}, {color}): '{token}' was broken:\n{text}"
                    );
                }
            }
        }
    }
}

#[test]
fn piped_tables_are_plain_text_and_color_always_draws_boxes() {
    let plain = stdout_of(expedite().args(["nato", "status", "--year", "2024"]));
    assert!(!plain.contains(['│', '┆', '─', '┌']), "{plain}");
    assert!(plain.contains("\nPOL   Poland           3.79"), "{plain}");
    assert!(plain.lines().all(|line| line == line.trim_end()));
    let boxed = stdout_of(expedite().args(["nato", "status", "--color", "always"]));
    assert!(boxed.contains('┆'));
    let no_color = stdout_of(
        expedite()
            .env("NO_COLOR", "1")
            .args(["nato", "status", "--color", "auto"]),
    );
    assert!(!no_color.contains('┆'));
}

#[test]
fn exit_codes_are_2_for_bad_input_and_1_for_runtime_failure() {
    let cases: [(&[&str], i32, &str); 9] = [
        (&["nato", "status", "--bogus"], 2, "--bogus"),
        (
            &["nato", "status", "--target=0"],
            2,
            "--target: 0 is not a percentage",
        ),
        (&["nato", "status", "--format", "xml"], 2, "xml"),
        (
            &["dsca", "list", "--from", "2025", "--to", "2024"],
            2,
            "--from 2025 is after --to 2024",
        ),
        (&["dsca", "list", "--from", "20x5"], 2, "neither a year"),
        (
            &[
                "sipri",
                "deals",
                "--file",
                "/nonexistent.csv",
                "--from",
                "2020",
                "--to",
                "2015",
            ],
            2,
            "--from 2020 is after --to 2015",
        ),
        (
            &[
                "sipri",
                "deals",
                "--file",
                "/nonexistent.csv",
                "--members-any-time",
            ],
            2,
            "--recipient-group",
        ),
        (
            &["sipri", "deals", "--file", "/nonexistent.csv"],
            1,
            "cannot read /nonexistent.csv",
        ),
        (
            &["forecast", "/nonexistent/scenario.toml"],
            1,
            "cannot read",
        ),
    ];
    for (words, code, message) in cases {
        expedite()
            .args(words)
            .assert()
            .code(code)
            .stderr(predicate::str::contains(message));
    }
    let once = expedite()
        .args(["sipri", "deals", "--file", "/nonexistent.csv"])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&once.stderr);
    assert_eq!(stderr.lines().count(), 1, "one message: {stderr}");
}

#[test]
fn dates_and_years_are_both_accepted_as_bounds() {
    let by_year = stdout_of(expedite().args([
        "dsca", "list", "--from", "2025", "--to", "2025", "-f", "csv",
    ]));
    let by_date = stdout_of(expedite().args([
        "dsca",
        "list",
        "--from",
        "2025-01-01",
        "--to",
        "2025-12-31",
        "-f",
        "csv",
    ]));
    assert_eq!(by_year, by_date);
    let per_deal = fixture("leadtimes-per-deal.csv");
    let year = stdout_of(expedite().args([
        "sipri", "deals", "--file", &per_deal, "--from", "2019", "-f", "csv",
    ]));
    let date = stdout_of(expedite().args([
        "sipri",
        "deals",
        "--file",
        &per_deal,
        "--from",
        "2019-07-01",
        "-f",
        "csv",
    ]));
    assert_eq!(
        year, date,
        "SIPRI knows years of order only: a date stands for its year"
    );
}

#[test]
fn completions_generate_for_every_shell_and_the_man_page_renders() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = stdout_of(expedite().args(["completions", shell]));
        assert!(script.contains("expedite"), "{shell}");
        assert!(
            script.contains("leadtimes"),
            "{shell}: subcommands are completed"
        );
    }
    expedite().args(["completions", "tcsh"]).assert().code(2);
    let page = stdout_of(expedite().arg("man"));
    assert!(
        page.starts_with(".ie") || page.contains(".TH expedite"),
        "{page}"
    );
}

#[test]
fn every_help_ends_with_examples() {
    let paths: [&[&str]; 26] = [
        &[],
        &["calibrate"],
        &["backtest"],
        &["metrics"],
        &["alerts"],
        &["sources"],
        &["verify"],
        &["rules", "check"],
        &["rules", "list"],
        &["rules", "samm"],
        &["sipri", "leadtimes"],
        &["sipri", "deals"],
        &["nato", "status"],
        &["nato", "trend"],
        &["nato", "path"],
        &["dsca", "list"],
        &["dsca", "summary"],
        &["demo"],
        &["forecast"],
        &["serve"],
        &["token", "create"],
        &["token", "list"],
        &["token", "revoke"],
        &["completions"],
        &["man"],
        &["nato"],
    ];
    for path in paths {
        let help = stdout_of(expedite().args(path).arg("--help"));
        assert!(help.contains("Examples:\n  expedite"), "{path:?}:\n{help}");
    }
}

#[test]
fn version_gives_the_dates_of_the_shipped_data() {
    let version = stdout_of(expedite().arg("--version"));
    assert!(version.starts_with("expedite "), "{version}");
    assert!(version.contains("published 2025-08-28"), "{version}");
    assert!(version.contains("a sample of 90 notifications, announced 2022-02-07 to 2025-12-22"));
    assert!(version.contains("production-line catalog: 12 lines"));
}

#[test]
fn quiet_is_global_and_forecast_quiet_still_works() {
    let scenario = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/forecast/eastern-flank.toml")
        .display()
        .to_string();
    for words in [
        vec![
            "forecast", &scenario, "--quiet", "--trials", "20", "-f", "json",
        ],
        vec!["-q", "forecast", &scenario, "--trials", "20", "-f", "json"],
    ] {
        let output = expedite().args(&words).output().expect("runs");
        assert!(
            output.status.success(),
            "{words:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            output.stderr.is_empty(),
            "{words:?}: quiet prints nothing on stderr"
        );
    }
    // Beside CSV, the data errors are a note on stderr, which --quiet silences.
    let censored = fixture("leadtimes-censored.csv");
    let noted = expedite()
        .args(["sipri", "leadtimes", "--file", &censored, "-f", "csv"])
        .output()
        .expect("runs");
    assert!(String::from_utf8_lossy(&noted.stderr).contains("Left out as data errors (1)"));
    let quiet = expedite()
        .args(["sipri", "leadtimes", "--file", &censored, "-f", "csv", "-q"])
        .output()
        .expect("runs");
    assert!(quiet.stderr.is_empty());
}

#[test]
fn nato_recipients_count_only_in_years_they_were_members() {
    let censored = fixture("leadtimes-censored.csv");
    let deals = |extra: &[&str]| -> Vec<String> {
        let text = stdout_of(
            expedite()
                .args(["sipri", "deals", "--file", &censored, "--supplier", "USA"])
                .args(["--recipient-group", "nato", "-f", "csv"])
                .args(extra),
        );
        text.lines()
            .skip(1)
            .map(|line| line.split(',').take(4).collect::<Vec<_>>().join(","))
            .collect()
    };
    // Albania ordered in 1955 (joined 2009), Finland in 2020 (joined 2023): left out.
    assert_eq!(
        deals(&[]),
        [
            "Finland,United States,Test aircraft D,2024",
            "Poland,United States,Test radar E,2018",
            "Poland,United States,Test radar E,2019"
        ]
    );
    let any_time = deals(&["--members-any-time"]);
    assert_eq!(any_time.len(), 5);
    assert!(any_time.contains(&"Albania,United States,Test gun C,1955".to_owned()));
}

#[test]
fn a_delivery_before_the_order_is_reported_outside_the_statistics() {
    let censored = fixture("leadtimes-censored.csv");
    let report: Value = serde_json::from_str(&stdout_of(expedite().args([
        "sipri",
        "leadtimes",
        "--file",
        &censored,
        "--supplier",
        "USA",
        "--recipient",
        "POL",
        "-f",
        "json",
    ])))
    .expect("JSON");
    assert_eq!(report["data_errors"][0]["order_year"], 2019);
    assert_eq!(report["data_errors"][0]["first_delivery_year"], 2018);
    assert_eq!(report["groups"][0]["deals"], 1);
    let table = stdout_of(expedite().args(["sipri", "leadtimes", "--file", &censored]));
    assert!(
        table.contains("Left out as data errors (1)")
            && table.contains("Test radar E: ordered 2019, first delivery 2018"),
        "{table}"
    );
}

#[test]
fn kaplan_meier_columns_stand_beside_the_plain_median() {
    let censored = fixture("leadtimes-censored.csv");
    let report: Value = serde_json::from_str(&stdout_of(expedite().args([
        "sipri",
        "leadtimes",
        "--file",
        &censored,
        "--supplier",
        "KOR",
        "-f",
        "json",
    ])))
    .expect("JSON");
    assert_eq!(report["censored_at_year"], 2025);
    let korea = &report["groups"][0];
    // The hand-computed curve of the data crate's test: KM median 2, p90 not reached.
    assert_eq!(korea["deals_undelivered"], 2);
    assert_eq!(korea["first_delivery_years"]["median"], 2.0);
    assert_eq!(korea["first_delivery_years"]["p90"], 3.4);
    assert_eq!(korea["first_delivery_years_km"]["median"], 2.0);
    assert_eq!(korea["first_delivery_years_km"]["p90"], Value::Null);
    assert_eq!(korea["mostly_undelivered"], false);
}
