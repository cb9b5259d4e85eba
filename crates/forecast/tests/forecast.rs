//! The forecast's rules, each checked by a test named after it (issue 3, "Tests that must
//! exist"). One integration-test binary for the crate (STYLE.md habit 7).
//!
//! Deterministic scenarios use fixed distributions and a line building one unit a day
//! (365 a year), so every date below is computed by hand in the comment beside it.

use expedite_forecast::generate::{PortfolioSpec, portfolio};
use expedite_forecast::{CaseForecast, DurationDist, Report, RunOptions, Scenario, run};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Start of every hand-computed scenario: t days later is `2025-01-01 + ceil(t)`.
const HEADER: &str = r#"
name = "hand computed"
start = "2025-01-01"
trials = 5
seed = 1
"#;

/// One unit a day from before the start.
const ONE_A_DAY: &str = r#"rate = [ { from = "2024-01-01", per_year = 365 } ]"#;

fn scenario(body: &str) -> Scenario {
    Scenario::from_toml_str(&format!("{HEADER}\n{body}")).expect("the test scenario is valid")
}

fn forecast(scenario: &Scenario) -> Report {
    run(scenario, &RunOptions::default()).expect("the test scenario runs")
}

fn case<'r>(report: &'r Report, id: &str) -> &'r CaseForecast {
    report.runs[0]
        .cases
        .iter()
        .find(|case| case.id == id)
        .expect("the case is in the report")
}

/// Asserts that P10, P50 and P90 are all the same date (a deterministic scenario).
fn exactly(percentiles: expedite_forecast::Percentiles, date: &str) {
    for (name, value) in [
        ("p10", percentiles.p10),
        ("p50", percentiles.p50),
        ("p90", percentiles.p90),
    ] {
        assert_eq!(value.to_string(), date, "{name}");
    }
}

fn line_case(id: &str, stage: &str, tier: u32, quantity: u32) -> String {
    format!(
        r#"
[[cases]]
id = "{id}"
purchaser = "POL"
stage = "{stage}"
since = "2025-01-01"
tier = {tier}
lines = [ {{ line = "l", quantity = {quantity}, unit_usd = 1000 }} ]
"#
    )
}

// ---------------------------------------------------------------------------------------
// Production: hand-computed queues.

#[test]
fn backlog_units_are_built_before_any_case() {
    // Backlog units are released at t = 1..10, the case's five at t = 11..15.
    let s = scenario(&format!(
        "[[lines]]\nid = \"l\"\nbacklog = 10\n{ONE_A_DAY}\n{}",
        line_case("PL-B-AAA", "on_contract", 1, 5)
    ));
    let report = forecast(&s);
    let forecast = case(&report, "PL-B-AAA");
    exactly(forecast.contract, "2025-01-01");
    exactly(forecast.first_delivery, "2025-01-12");
    exactly(forecast.final_delivery, "2025-01-16");
}

#[test]
fn a_higher_tier_arriving_later_takes_the_next_unit() {
    // A (tier 2) is building from t = 0; B (tier 1) reaches contract at t = 3, the instant
    // A's third unit is released, so B's units come next (t = 4, 5), then A's last seven
    // (t = 6..12).
    let s = scenario(&format!(
        "[channels.fms]\nimplemented = {{ dist = \"fixed\", days = 3 }}\n\
         [[lines]]\nid = \"l\"\n{ONE_A_DAY}\n{}{}",
        line_case("PL-B-AAA", "on_contract", 2, 10),
        line_case("PL-B-BBB", "implemented", 1, 2)
    ));
    let report = forecast(&s);
    let (a, b) = (case(&report, "PL-B-AAA"), case(&report, "PL-B-BBB"));
    exactly(a.first_delivery, "2025-01-02");
    exactly(a.final_delivery, "2025-01-13");
    exactly(b.contract, "2025-01-04");
    exactly(b.first_delivery, "2025-01-05");
    exactly(b.final_delivery, "2025-01-06");
}

#[test]
fn capacity_left_idle_is_lost() {
    // A's two units are done at t = 2; B arrives at t = 10 and gets nothing from the idle
    // days: its units are released at t = 11, 12, 13. The line built 5 units with 13 days
    // of capacity.
    let s = scenario(&format!(
        "[channels.fms]\nimplemented = {{ dist = \"fixed\", days = 10 }}\n\
         [[lines]]\nid = \"l\"\n{ONE_A_DAY}\n{}{}",
        line_case("PL-B-AAA", "on_contract", 1, 2),
        line_case("PL-B-BBB", "implemented", 1, 3)
    ));
    let report = forecast(&s);
    exactly(case(&report, "PL-B-AAA").final_delivery, "2025-01-03");
    exactly(case(&report, "PL-B-BBB").final_delivery, "2025-01-14");
    let line = &report.runs[0].lines[0];
    exactly(line.clears, "2025-01-14");
    assert!(
        (line.utilisation - 0.385).abs() < 1e-9,
        "5 units / 13 days = 0.385, got {}",
        line.utilisation
    );
}

#[test]
fn work_continues_across_a_rate_change_at_the_new_rate() {
    // 146 a year = 0.4 a day until t = 4, then 1 a day. Unit 1: 0 → 2.5. Unit 2 starts at
    // 2.5, does 0.6 of its work by t = 4 and the remaining 0.4 by 4.4. Units 3, 4: 5.4, 6.4.
    let s = scenario(&format!(
        "[[lines]]\nid = \"l\"\nrate = [ {{ from = \"2024-01-01\", per_year = 146 }}, \
         {{ from = \"2025-01-05\", per_year = 365 }} ]\n{}",
        line_case("PL-B-AAA", "on_contract", 1, 4)
    ));
    let report = forecast(&s);
    let forecast = case(&report, "PL-B-AAA");
    exactly(forecast.first_delivery, "2025-01-04"); // ceil(2.5) = 3
    exactly(forecast.final_delivery, "2025-01-08"); // ceil(6.4) = 7
}

#[test]
fn delivery_is_last_completion_plus_lead_time_plus_transport() {
    // Releases at t = 1, 2, 3; completions 100 days later; transport 30 days: first
    // delivery 101 + 30 = 131, final 103 + 30 = 133.
    let s = scenario(&format!(
        "[channels.fms]\ntransport = {{ dist = \"fixed\", days = 30 }}\n\
         [[lines]]\nid = \"l\"\nlead_time_days = 100\n{ONE_A_DAY}\n{}",
        line_case("PL-B-AAA", "on_contract", 1, 3)
    ));
    let report = forecast(&s);
    let forecast = case(&report, "PL-B-AAA");
    exactly(forecast.first_delivery, "2025-05-12");
    exactly(forecast.final_delivery, "2025-05-14");
}

#[test]
fn a_case_already_on_contract_is_ordered_by_its_since_date() {
    // Both on contract, same tier: B since 2024-12-01 comes before A since 2024-12-15
    // although A is first in the file and first by id.
    let body = format!(
        "[[lines]]\nid = \"l\"\n{ONE_A_DAY}\n{}{}",
        line_case("PL-B-AAA", "on_contract", 1, 3).replace("2025-01-01", "2024-12-15"),
        line_case("PL-B-BBB", "on_contract", 1, 3).replace("2025-01-01", "2024-12-01")
    );
    let report = forecast(&scenario(&body));
    exactly(case(&report, "PL-B-BBB").contract, "2024-12-01");
    exactly(case(&report, "PL-B-BBB").final_delivery, "2025-01-04");
    exactly(case(&report, "PL-B-AAA").final_delivery, "2025-01-07");
}

// ---------------------------------------------------------------------------------------
// Paperwork.

#[test]
fn paperwork_stages_add_up_to_the_contract_date_with_review_from_aeca_36b() {
    // Egypt is outside NATO+5: $24M of MDE needs notification, 20 days informal + 30
    // formal review. 40 of 100 days of LOA development are spent: 60 + 50 + 10 + 20 = 140.
    let body = format!(
        r#"
[channels.fms]
loa_development = {{ dist = "fixed", days = 100 }}
offered = {{ dist = "fixed", days = 10 }}
implemented = {{ dist = "fixed", days = 20 }}
[[lines]]
id = "l"
{ONE_A_DAY}
[[cases]]
id = "EG-D-AAA"
purchaser = "EGY"
stage = "loa_development"
since = "2024-11-22"
lines = [ {{ line = "l", quantity = 1, unit_usd = 24000000, mde = true }} ]
[[cases]]
id = "PL-D-AAA"
purchaser = "POL"
stage = "loa_development"
since = "2024-11-22"
lines = [ {{ line = "l", quantity = 1, unit_usd = 240000000, mde = true }} ]
[[cases]]
id = "PL-D-BBB"
purchaser = "POL"
stage = "loa_development"
since = "2024-11-22"
lines = [ {{ line = "l", quantity = 1, unit_usd = 1000, mde = true }} ]
"#
    );
    let report = forecast(&scenario(&body));
    exactly(case(&report, "EG-D-AAA").contract, "2025-05-21"); // t = 140
    exactly(case(&report, "PL-D-AAA").contract, "2025-04-16"); // NATO+5: 15 days, t = 105
    exactly(case(&report, "PL-D-BBB").contract, "2025-04-01"); // below thresholds: t = 90
}

#[test]
fn a_stage_lasting_past_its_maximum_ends_at_once_and_is_reported_overdue() {
    // 400 days in a stage whose maximum is 90: remaining zero, contract after the 10 days of
    // `implemented`, and the report names the stage.
    let body = format!(
        r#"
[channels.fms]
offered = {{ dist = "triangular", min = 5, mode = 20, max = 90 }}
implemented = {{ dist = "fixed", days = 10 }}
[[lines]]
id = "l"
{ONE_A_DAY}
[[cases]]
id = "PL-B-AAA"
purchaser = "POL"
stage = "offered"
since = "2023-11-28"
lines = [ {{ line = "l", quantity = 1, unit_usd = 1000 }} ]
"#
    );
    let report = forecast(&scenario(&body));
    let forecast = case(&report, "PL-B-AAA");
    exactly(forecast.contract, "2025-01-11");
    assert_eq!(
        forecast.overdue_stage.map(|stage| stage.as_str()),
        Some("offered")
    );
}

// ---------------------------------------------------------------------------------------
// Distributions (fixed seed; tolerance: 1% of the distribution's range, about eight
// standard errors of a median of 200,000 draws).

const DRAWS: usize = 200_000;

fn sample_median(dist: &DurationDist, elapsed: f64) -> f64 {
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let mut draws: Vec<f64> = (0..DRAWS)
        .map(|_| dist.sample_remaining(elapsed, &mut rng))
        .collect();
    draws.sort_by(f64::total_cmp);
    draws[DRAWS / 2]
}

fn assert_close(what: &str, measured: f64, expected: f64, tolerance: f64) {
    assert!(
        (measured - expected).abs() <= tolerance,
        "{what}: measured {measured}, expected {expected} ± {tolerance}"
    );
}

#[test]
fn uniform_median_is_the_midpoint() {
    let dist = DurationDist::uniform(0.0, 200.0).expect("valid");
    assert_close("uniform(0, 200)", sample_median(&dist, 0.0), 100.0, 2.0);
}

#[test]
fn triangular_with_mode_at_min_has_median_max_minus_range_over_root_two() {
    let dist = DurationDist::triangular(0.0, 0.0, 100.0).expect("valid");
    let expected = 100.0 * (1.0 - std::f64::consts::FRAC_1_SQRT_2);
    assert_close(
        "triangular(0, 0, 100)",
        sample_median(&dist, 0.0),
        expected,
        1.0,
    );
}

#[test]
fn symmetric_pert_median_is_its_mode_and_pert_mean_is_min_plus_four_modes_plus_max_over_six() {
    let symmetric = DurationDist::pert(0.0, 50.0, 100.0).expect("valid");
    assert_close(
        "pert(0, 50, 100) median",
        sample_median(&symmetric, 0.0),
        50.0,
        1.0,
    );
    let skewed = DurationDist::pert(45.0, 150.0, 420.0).expect("valid");
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let mean = (0..DRAWS).map(|_| skewed.sample(&mut rng)).sum::<f64>() / DRAWS as f64;
    assert_close(
        "pert(45, 150, 420) mean",
        mean,
        (45.0 + 4.0 * 150.0 + 420.0) / 6.0,
        3.75,
    );
}

#[test]
fn lognormal_median_and_p90_are_as_given() {
    let dist = DurationDist::lognormal(60.0, 180.0).expect("valid");
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let mut draws: Vec<f64> = (0..DRAWS).map(|_| dist.sample(&mut rng)).collect();
    draws.sort_by(f64::total_cmp);
    // No range: 1% of the p90 for both.
    assert_close("lognormal median", draws[DRAWS / 2], 60.0, 1.8);
    assert_close("lognormal p90", draws[DRAWS * 9 / 10], 180.0, 1.8);
}

#[test]
fn weibull_median_and_p90_are_as_given() {
    // The shape of the shipped delay residuals' Weibull fit (median 652, p90 1085 days).
    let dist = DurationDist::weibull(652.0, 1085.0).expect("valid");
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let mut draws: Vec<f64> = (0..DRAWS).map(|_| dist.sample(&mut rng)).collect();
    draws.sort_by(f64::total_cmp);
    assert_close("weibull median", draws[DRAWS / 2], 652.0, 10.9);
    assert_close("weibull p90", draws[DRAWS * 9 / 10], 1085.0, 10.9);
}

#[test]
fn conditioning_on_elapsed_days_draws_the_remaining_time_given_it_exceeds_them() {
    // Uniform(0, 200) after 100 days: the remaining time is uniform(0, 100), median 50.
    let uniform = DurationDist::uniform(0.0, 200.0).expect("valid");
    assert_close(
        "uniform(0, 200) | 100 elapsed",
        sample_median(&uniform, 100.0),
        50.0,
        2.0,
    );
    // Triangular(0, 0, 100) after 50 days: P(X > 50 + r | X > 50) = (50 - r)² / 50², so the
    // remaining median is 50 (1 - 1/√2).
    let triangular = DurationDist::triangular(0.0, 0.0, 100.0).expect("valid");
    let expected = 50.0 * (1.0 - std::f64::consts::FRAC_1_SQRT_2);
    assert_close(
        "triangular(0, 0, 100) | 50 elapsed",
        sample_median(&triangular, 50.0),
        expected,
        1.0,
    );
    // Past the maximum: nothing remains, for every draw.
    let pert = DurationDist::pert(45.0, 150.0, 420.0).expect("valid");
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    assert!((0..1000).all(|_| pert.sample_remaining(500.0, &mut rng) == 0.0));
    // Conditioned PERT never returns less than zero nor more than max - elapsed.
    let remaining: Vec<f64> = (0..10_000)
        .map(|_| pert.sample_remaining(300.0, &mut rng))
        .collect();
    assert!(remaining.iter().all(|&days| (0.0..=120.0).contains(&days)));
}

// ---------------------------------------------------------------------------------------
// Determinism and common random numbers.

fn generated(cases: usize, lines: usize) -> Scenario {
    let raw = portfolio(PortfolioSpec {
        cases,
        lines,
        seed: 3,
    });
    let text = toml::to_string(&raw).expect("the generated portfolio serialises");
    Scenario::from_toml_str(&text).expect("the generated portfolio is valid")
}

fn json_on_threads(scenario: &Scenario, threads: usize, trials: u32) -> String {
    json_on_threads_with(scenario, threads, trials, false)
}

fn json_on_threads_with(
    scenario: &Scenario,
    threads: usize,
    trials: u32,
    band_parts: bool,
) -> String {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool");
    let report = pool
        .install(|| {
            run(
                scenario,
                &RunOptions {
                    trials: Some(trials),
                    band_parts,
                    ..RunOptions::default()
                },
            )
        })
        .expect("the scenario runs");
    serde_json::to_string_pretty(&report).expect("the report serialises")
}

#[test]
fn band_parts_are_the_same_on_one_thread_and_on_many() {
    // The generated portfolio has every source of issue 8; 300 trials span two blocks.
    let s = generated(40, 4);
    let one = json_on_threads_with(&s, 1, 300, true);
    let many = json_on_threads_with(&s, 3, 300, true);
    assert!(one == many, "the band parts differ between 1 and 3 threads");
    assert!(one.contains("\"band_parts\""));
}

#[test]
fn one_thread_and_many_threads_give_byte_identical_json() {
    // 600 trials span three blocks, so the fold order across blocks is exercised too.
    let s = generated(150, 8);
    let one = json_on_threads(&s, 1, 600);
    let many = json_on_threads(&s, 4, 600);
    assert!(one == many, "the JSON differs between 1 and 4 threads");
    assert!(
        one.contains("\"policy\": \"expedite\""),
        "the policy ran too"
    );
}

#[test]
fn a_policy_scaling_a_stage_by_one_gives_the_base_forecast() {
    let mut s = generated(150, 8);
    s.policies = vec![expedite_forecast::Policy {
        name: "no-op".to_owned(),
        stage_scale: [(expedite_core::Stage::LoaDevelopment, 1.0)]
            .into_iter()
            .collect(),
        ..expedite_forecast::Policy::default()
    }];
    let report = run(
        &s,
        &RunOptions {
            trials: Some(300),
            ..RunOptions::default()
        },
    )
    .expect("runs");
    let (base, policy) = (&report.runs[0], &report.runs[1]);
    assert_eq!(policy.policy, "no-op");
    assert_eq!(base.cases, policy.cases);
    assert_eq!(base.lines, policy.lines);
    assert_eq!(base.bottleneck, policy.bottleneck);
}

#[test]
fn policies_share_random_numbers_so_a_rate_change_leaves_paperwork_alone() {
    // A rate change touches production only: every case's contract dates are unchanged.
    let mut s = generated(150, 8);
    s.policies = vec![expedite_forecast::Policy {
        name: "faster".to_owned(),
        rate: vec![expedite_forecast::scenario::RateChange {
            line: 0,
            from: s.start,
            multiplier: 2.0,
        }],
        ..expedite_forecast::Policy::default()
    }];
    let report = run(
        &s,
        &RunOptions {
            trials: Some(200),
            ..RunOptions::default()
        },
    )
    .expect("runs");
    let (base, policy) = (&report.runs[0], &report.runs[1]);
    for (before, after) in base.cases.iter().zip(&policy.cases) {
        assert_eq!(before.contract, after.contract, "{}", before.id);
    }
    assert!(
        policy.lines[0].clears.p50 < base.lines[0].clears.p50,
        "a doubled rate clears line 0 sooner"
    );
}

#[test]
fn the_same_seed_gives_the_same_report_and_another_seed_another() {
    let s = generated(60, 4);
    let options = |seed| RunOptions {
        trials: Some(100),
        seed: Some(seed),
        ..RunOptions::default()
    };
    let first = run(&s, &options(5)).expect("runs");
    assert_eq!(first, run(&s, &options(5)).expect("runs"));
    assert_ne!(first, run(&s, &options(6)).expect("runs"));
}

/// A lognormal so wide that about one draw in ten overflows to an infinite number of days.
const OVERFLOWING_LOA: &str = r#"[channels.fms]
loa_development = { dist = "lognormal", median = 60, p90 = 1e300 }
"#;

#[test]
fn a_stage_drawn_past_every_date_still_ends_the_forecast_at_the_calendars_end() {
    let s = scenario(&format!(
        "{OVERFLOWING_LOA}[[lines]]\nid = \"l\"\n{ONE_A_DAY}\n{}",
        line_case("PL-B-AAA", "loa_development", 1, 2)
    ));
    let options = RunOptions {
        trials: Some(100),
        ..RunOptions::default()
    };
    let report = run(&s, &options).expect("the scenario runs to the end");
    assert_eq!(
        case(&report, "PL-B-AAA").final_delivery.p90.to_string(),
        "9999-12-31"
    );
}

#[test]
fn a_stage_scaled_by_zero_takes_no_time_even_when_its_draw_overflowed() {
    // With loa_development gone the case is on contract at t = 0 (no notification for
    // $2,000), its two units are released at t = 1 and 2.
    let s = scenario(&format!(
        "{OVERFLOWING_LOA}[[lines]]\nid = \"l\"\n{ONE_A_DAY}\n{}\n\
         [[policies]]\nname = \"no-loa\"\nstage_scale = {{ loa_development = 0 }}\n",
        line_case("PL-B-AAA", "loa_development", 1, 2)
    ));
    let options = RunOptions {
        trials: Some(100),
        ..RunOptions::default()
    };
    let report = run(&s, &options).expect("the scenario runs to the end");
    let policy = report
        .runs
        .iter()
        .find(|run| run.policy == "no-loa")
        .expect("the policy ran");
    let forecast = &policy.cases[0];
    exactly(forecast.contract, "2025-01-01");
    exactly(forecast.final_delivery, "2025-01-03");
}

// ---------------------------------------------------------------------------------------
// Bad input: one error naming the TOML path and the problem.

fn error_of(body: &str) -> String {
    let error =
        Scenario::from_toml_str(&format!("{HEADER}\n{body}")).expect_err("the scenario is refused");
    error.to_string()
}

const GOOD_LINE: &str =
    "[[lines]]\nid = \"l\"\nrate = [ { from = \"2024-01-01\", per_year = 365 } ]\n";

#[test]
fn an_unknown_line_is_named_by_its_path() {
    let message = error_of(&format!(
        "{GOOD_LINE}{}",
        line_case("PL-B-AAA", "on_contract", 1, 1).replace("\"l\"", "\"nope\"")
    ));
    assert!(
        message.starts_with("cases[0].lines[0].line: unknown line 'nope'"),
        "{message}"
    );
}

#[test]
fn inverted_distribution_parameters_are_refused() {
    let message = error_of(
        "[channels.fms]\nloa_development = { dist = \"pert\", min = 400, mode = 150, max = 45 }",
    );
    assert!(
        message.starts_with("channels.fms.loa_development: parameters are out of order"),
        "{message}"
    );
    let message = error_of("[channels.fms]\noffered = { dist = \"uniform\", min = -5, max = 45 }");
    assert!(
        message.starts_with("channels.fms.offered: min = -5"),
        "{message}"
    );
}

#[test]
fn rate_steps_out_of_order_are_refused() {
    let message = error_of(
        "[[lines]]\nid = \"l\"\nrate = [ { from = \"2026-01-01\", per_year = 5 }, { from = \"2025-01-01\", per_year = 6 } ]",
    );
    assert!(
        message.starts_with("lines[0].rate[1].from: rate steps must be in increasing date order"),
        "{message}"
    );
}

#[test]
fn duplicate_ids_are_refused() {
    let case = line_case("PL-B-AAA", "on_contract", 1, 1);
    let message = error_of(&format!("{GOOD_LINE}{case}{case}"));
    assert!(
        message.starts_with("cases[1].id: duplicate case id 'PL-B-AAA'"),
        "{message}"
    );
    let message = error_of(&format!("{GOOD_LINE}{GOOD_LINE}"));
    assert!(
        message.starts_with("lines[1].id: duplicate line id 'l'"),
        "{message}"
    );
}

#[test]
fn dates_that_do_not_parse_are_refused() {
    let case = line_case("PL-B-AAA", "on_contract", 1, 1).replace("2025-01-01", "2025-02-30");
    let message = error_of(&format!("{GOOD_LINE}{case}"));
    assert!(
        message.starts_with("cases[0].since: '2025-02-30' is not a date"),
        "{message}"
    );
}

#[test]
fn a_stage_after_delivered_or_unknown_is_refused() {
    let message = error_of(&format!(
        "{GOOD_LINE}{}",
        line_case("PL-B-AAA", "closed", 1, 1)
    ));
    assert!(
        message.starts_with("cases[0].stage: stage 'closed' comes after delivered"),
        "{message}"
    );
    let message = error_of(&format!(
        "{GOOD_LINE}{}",
        line_case("PL-B-AAA", "shipped", 1, 1)
    ));
    assert!(
        message.starts_with("cases[0].stage: unknown stage 'shipped'"),
        "{message}"
    );
}

#[test]
fn a_value_of_the_wrong_type_is_named_by_its_path() {
    let case =
        line_case("PL-B-AAA", "on_contract", 1, 1).replace("quantity = 1", "quantity = \"many\"");
    let message = error_of(&format!("{GOOD_LINE}{case}"));
    assert!(
        message.starts_with("cases[0].lines[0].quantity: invalid type"),
        "{message}"
    );
}

// ---------------------------------------------------------------------------------------
// Old scenarios keep their results (issue 8 §1: "scenarios written today still run and
// give the same dates").

#[test]
fn an_old_scenario_gives_byte_identical_json_to_the_engine_before_order_books() {
    // The golden file is what `expedite forecast examples/forecast/eastern-flank.toml
    // --format json` printed on main before issue 8 (commit fe3d231).
    let text = include_str!("../../../examples/forecast/eastern-flank.toml");
    let scenario = Scenario::from_toml_str(text).expect("the example is valid");
    let report = run(&scenario, &RunOptions::default()).expect("the example runs");
    let printed = format!(
        "{}\n",
        serde_json::to_string_pretty(&report).expect("the report serialises")
    );
    let golden = include_str!("golden/eastern-flank.json");
    assert!(printed == golden, "the example's JSON changed:\n{printed}");
}

// ---------------------------------------------------------------------------------------
// The order book (issue 8 §1): hand-computed queues on a line building one unit a day.
// A dated book runs on the line's own clock from its book date; t below is days since it.

#[test]
fn a_backlog_stated_as_of_a_past_date_is_drained_by_the_rate_before_the_start() {
    // The book opens on 2024-12-01 with 40 units; 31 are built by the start, the other 9
    // by t = 40 (2025-01-10). The case, ordered on the start (t = 31), gets t = 41..45.
    let s = scenario(&format!(
        "[[lines]]\nid = \"l\"\nbacklog = {{ units = 40, as_of = \"2024-12-01\" }}\n{ONE_A_DAY}\n{}",
        line_case("PL-B-AAA", "on_contract", 1, 5)
    ));
    let report = forecast(&s);
    let forecast = case(&report, "PL-B-AAA");
    exactly(forecast.first_delivery, "2025-01-11");
    exactly(forecast.final_delivery, "2025-01-15");
    exactly(report.runs[0].lines[0].clears, "2025-01-15");
}

#[test]
fn an_order_dated_earlier_is_built_before_a_case_ordered_later() {
    // Another customer's 20 units ordered on 2024-12-20 (t = 0) take t = 1..20; the case,
    // on contract since 2024-12-25, waits and gets t = 21..25 (2025-01-10 .. 2025-01-14).
    let body = format!(
        r#"
[[lines]]
id = "l"
orders = [ {{ date = "2024-12-20", units = 20, customer = "US Army" }} ]
{ONE_A_DAY}
[[cases]]
id = "PL-B-AAA"
purchaser = "POL"
milestones = {{ contract = "2024-12-25" }}
lines = [ {{ line = "l", quantity = 5, unit_usd = 1000 }} ]
"#
    );
    let report = forecast(&scenario(&body));
    let forecast = case(&report, "PL-B-AAA");
    exactly(forecast.contract, "2024-12-25");
    exactly(forecast.first_delivery, "2025-01-10");
    exactly(forecast.final_delivery, "2025-01-14");
}

#[test]
fn a_higher_tier_order_arriving_later_goes_before_a_lower_tier_case_still_waiting() {
    // Book opens 2024-12-22: the 20-unit backlog takes t = 1..20. A tier-1 order of 3 units
    // arrives on 2025-01-05 (t = 14) and goes before the tier-2 case ordered at t = 0:
    // order t = 21..23, case t = 24..43 (2025-01-15 .. 2025-02-03).
    let body = format!(
        r#"
[[lines]]
id = "l"
backlog = {{ units = 20, as_of = "2024-12-22" }}
orders = [ {{ date = "2025-01-05", units = 3, tier = 1 }} ]
{ONE_A_DAY}
[[cases]]
id = "PL-B-AAA"
purchaser = "POL"
tier = 2
milestones = {{ loa = "2024-12-01", contract = "2024-12-22" }}
lines = [ {{ line = "l", quantity = 20, unit_usd = 1000 }} ]
"#
    );
    let report = forecast(&scenario(&body));
    let forecast = case(&report, "PL-B-AAA");
    exactly(forecast.first_delivery, "2025-01-15");
    exactly(forecast.final_delivery, "2025-02-03");
}

// ---------------------------------------------------------------------------------------
// Milestones are facts (issue 8 §2).

#[test]
fn a_fully_delivered_case_reports_its_real_dates_with_a_zero_width_band() {
    // Estonia's six HIMARS, all delivered on 2025-04-30 (timelines.csv), forecast as of
    // 2026-01-01 with random transport: nothing is drawn, nothing is built.
    let text = r#"
name = "Estonia HIMARS"
start = "2026-01-01"
trials = 50
[channels.fms]
transport = { dist = "uniform", min = 10, max = 90 }
implemented = { dist = "pert", min = 60, mode = 180, max = 720 }
[[lines]]
id = "himars"
backlog = 60
rate = [ { from = "2024-01-01", per_year = 96 } ]
[[cases]]
id = "EST-HIMARS-2022"
purchaser = "EST"
milestones = { notification = "2022-07-15", loa = "2022-12-02", deliveries = [ { date = "2025-04-30", units = 6 } ] }
lines = [ { line = "himars", quantity = 6, unit_usd = 16000000, mde = true } ]
"#;
    let report = forecast(&Scenario::from_toml_str(text).expect("valid"));
    let forecast = case(&report, "EST-HIMARS-2022");
    assert!(forecast.delivered, "the case says it is delivered");
    exactly(forecast.contract, "2022-12-02"); // no contract date: the LOA orders it
    exactly(forecast.first_delivery, "2025-04-30");
    exactly(forecast.final_delivery, "2025-04-30");
    let json = serde_json::to_string(&report).expect("serialises");
    assert!(json.contains(r#""delivered":true"#), "{json}");
    assert!(
        json.contains(r#""loa":"2022-12-02""#),
        "the milestones used: {json}"
    );
}

#[test]
fn a_half_delivered_case_builds_only_the_rest_and_keeps_its_recorded_first_delivery() {
    // 5 of 10 delivered on 2024-12-10; the other 5 are released at t = 1..5 from the start
    // (the integer backlog opens the book on the start) and delivered 2025-01-02 .. 01-06.
    let body = format!(
        r#"
[[lines]]
id = "l"
{ONE_A_DAY}
[[cases]]
id = "PL-B-AAA"
purchaser = "POL"
milestones = {{ contract = "2024-06-01", deliveries = [ {{ date = "2024-12-10", units = 5 }} ] }}
lines = [ {{ line = "l", quantity = 10, unit_usd = 1000 }} ]
"#
    );
    let report = forecast(&scenario(&body));
    let forecast = case(&report, "PL-B-AAA");
    assert!(!forecast.delivered);
    exactly(forecast.first_delivery, "2024-12-10");
    exactly(forecast.final_delivery, "2025-01-06");
    assert_eq!(
        report.runs[0].lines[0].utilisation, 1.0,
        "5 units in 5 days"
    );
}

#[test]
fn a_case_ordered_before_the_backlogs_date_queues_on_that_date_behind_the_backlog() {
    // The book opens on 2024-12-22 with 20 units (t = 1..20); the case ordered on
    // 2024-06-01 is not built before then, and follows the backlog: t = 21..25, ending
    // 2025-01-16.
    let body = format!(
        r#"
[[lines]]
id = "l"
backlog = {{ units = 20, as_of = "2024-12-22" }}
{ONE_A_DAY}
[[cases]]
id = "PL-B-AAA"
purchaser = "POL"
milestones = {{ contract = "2024-06-01" }}
lines = [ {{ line = "l", quantity = 5, unit_usd = 1000 }} ]
"#
    );
    let report = forecast(&scenario(&body));
    let forecast = case(&report, "PL-B-AAA");
    exactly(forecast.first_delivery, "2025-01-12");
    exactly(forecast.final_delivery, "2025-01-16");
    assert!(!forecast.first_delivery_clamped);
}

#[test]
fn a_backlog_that_includes_the_cases_is_not_counted_twice() {
    // 30 units stated on 2024-12-22 include the case's 10 (ordered 2024-12-01): the other
    // customers keep 20, dated one a day over 2024-12-02..21 (the line's rate), so the case,
    // ordered before all of them, is built first (t = 1..10 from 2024-12-22, 2025-01-01)
    // and the line clears after 30 units (2025-01-21). Counted twice it would clear ten
    // days later.
    let body = |includes: bool| {
        format!(
            r#"
[[lines]]
id = "l"
backlog = {{ units = 30, as_of = "2024-12-22", includes_cases = {includes} }}
{ONE_A_DAY}
[[cases]]
id = "PL-B-AAA"
purchaser = "POL"
milestones = {{ contract = "2024-12-01" }}
lines = [ {{ line = "l", quantity = 10, unit_usd = 1000 }} ]
"#
        )
    };
    let report = forecast(&scenario(&body(true)));
    exactly(case(&report, "PL-B-AAA").final_delivery, "2025-01-01");
    exactly(report.runs[0].lines[0].clears, "2025-01-21");
    let message = error_of(&body(true).replace("units = 30", "units = 8"));
    assert!(
        message.starts_with("lines[0].backlog.units: the backlog of 8 units as of 2024-12-22"),
        "{message}"
    );
}

/// A line of one unit a day whose 30 units stated on 2024-12-22 include the 10 of
/// PL-B-AAA (contract 2024-12-12), and PL-B-BBB's 5 units ordered after that date.
fn backlog_holding_a_case() -> String {
    format!(
        r#"
[[lines]]
id = "l"
backlog = {{ units = 30, as_of = "2024-12-22", includes_cases = true }}
{ONE_A_DAY}
[[cases]]
id = "PL-B-AAA"
purchaser = "POL"
milestones = {{ contract = "2024-12-12" }}
lines = [ {{ line = "l", quantity = 10, unit_usd = 1000 }} ]
[[cases]]
id = "PL-B-BBB"
purchaser = "POL"
milestones = {{ contract = "2024-12-28" }}
lines = [ {{ line = "l", quantity = 5, unit_usd = 1000 }} ]
"#
    )
}

#[test]
fn a_case_ordered_inside_a_stated_backlog_is_served_before_its_later_part() {
    // The other customers' 20 units are dated one a day (the planned rate on 2024-12-22)
    // on t = -20..-1 from 2024-12-22, i.e. 2024-12-02..21. PL-B-AAA, ordered on t = -10,
    // goes after the 11 dated t = -20..-10 (the unit ordered on its own day first) and
    // before the 9 dated t = -9..-1: built t = 12..21, delivered 2025-01-03 to 2025-01-12.
    // Queued behind the whole backlog (the plain form) it would end on 2025-01-21.
    let report = forecast(&scenario(&backlog_holding_a_case()));
    let forecast = case(&report, "PL-B-AAA");
    exactly(forecast.first_delivery, "2025-01-03");
    exactly(forecast.final_delivery, "2025-01-12");
}

#[test]
fn a_case_ordered_after_the_backlogs_date_waits_behind_all_of_it() {
    // PL-B-BBB (ordered 2024-12-28, t = 6) is not in the 30 stated units: it follows all
    // of them, 11 + PL-B-AAA's 10 + 9, built t = 31..35: 2025-01-22 to 2025-01-26.
    let report = forecast(&scenario(&backlog_holding_a_case()));
    let forecast = case(&report, "PL-B-BBB");
    exactly(forecast.first_delivery, "2025-01-22");
    exactly(forecast.final_delivery, "2025-01-26");
    exactly(report.runs[0].lines[0].clears, "2025-01-26");
}

#[test]
fn the_backlogs_orders_compete_at_its_stated_tier() {
    // The cases at tier 2: by default the others' orders are at tier 1, a case's default,
    // and go first (PL-B-AAA built t = 21..30: 2025-01-12 to 2025-01-21); stated at the
    // cases' tier they compete by date as at tier 1 (2025-01-03 to 2025-01-12).
    let at_tier_two = backlog_holding_a_case()
        .replace("purchaser = \"POL\"\n", "purchaser = \"POL\"\ntier = 2\n");
    let report = forecast(&scenario(&at_tier_two));
    exactly(case(&report, "PL-B-AAA").first_delivery, "2025-01-12");
    exactly(case(&report, "PL-B-AAA").final_delivery, "2025-01-21");
    let stated = at_tier_two.replace("includes_cases = true", "includes_cases = true, tier = 2");
    let report = forecast(&scenario(&stated));
    exactly(case(&report, "PL-B-AAA").first_delivery, "2025-01-03");
    exactly(case(&report, "PL-B-AAA").final_delivery, "2025-01-12");
    let message = error_of(&stated.replace("includes_cases = true, ", ""));
    assert!(
        message.starts_with("lines[0].backlog.tier: a tier applies only to a backlog that"),
        "{message}"
    );
}

#[test]
fn the_backlogs_orders_are_spread_at_the_planned_rate_on_its_date() {
    // Two a day on 2025-01-01: the 20 other units are dated every half day on
    // t = -10..-0.5. The case (4 units, ordered 2024-12-27, t = -5) follows the 11 dated
    // up to t = -5, built by t = 5.5, and is built on t = 6..7.5: first delivery
    // 2025-01-07, final ceil(7.5) = 8, 2025-01-09.
    let body = r#"
[[lines]]
id = "l"
backlog = { units = 24, as_of = "2025-01-01", includes_cases = true }
rate = [ { from = "2024-01-01", per_year = 730 } ]
[[cases]]
id = "PL-B-AAA"
purchaser = "POL"
milestones = { contract = "2024-12-27" }
lines = [ { line = "l", quantity = 4, unit_usd = 1000 } ]
"#;
    let report = forecast(&scenario(body));
    let forecast = case(&report, "PL-B-AAA");
    exactly(forecast.first_delivery, "2025-01-07");
    exactly(forecast.final_delivery, "2025-01-09");
}

#[test]
fn a_delivery_the_facts_do_not_record_is_not_forecast_before_the_start() {
    // Ordered 2024-10-01, queued when the book opens on 2024-12-01: the line would have
    // built the five units by 2024-12-06, but no delivery is recorded, so the forecast puts
    // them on the start and says so.
    let body = format!(
        r#"
[[lines]]
id = "l"
backlog = {{ units = 0, as_of = "2024-12-01" }}
{ONE_A_DAY}
[[cases]]
id = "PL-B-AAA"
purchaser = "POL"
milestones = {{ contract = "2024-10-01" }}
lines = [ {{ line = "l", quantity = 5, unit_usd = 1000 }} ]
"#
    );
    let report = forecast(&scenario(&body));
    let forecast = case(&report, "PL-B-AAA");
    exactly(forecast.first_delivery, "2025-01-01");
    exactly(forecast.final_delivery, "2025-01-01");
    assert!(forecast.first_delivery_clamped && forecast.final_delivery_clamped);
}

// ---------------------------------------------------------------------------------------
// Uncertainty where it really is (issue 8 §3): hand-computed fixed draws first.

#[test]
fn a_fixed_rate_multiplier_scales_the_planned_rate() {
    // Half the planned rate: one unit every two days, 20 units by t = 40 (2025-02-10).
    let s = scenario(&format!(
        "[[lines]]\nid = \"l\"\n{ONE_A_DAY}\nrate_multiplier = {{ dist = \"fixed\", value = 0.5 }}\n{}",
        line_case("PL-B-AAA", "on_contract", 1, 20)
    ));
    exactly(case(&forecast(&s), "PL-B-AAA").final_delivery, "2025-02-10");
}

#[test]
fn a_ramp_up_that_slips_comes_late_and_the_rate_before_it_holds() {
    // Planned: 1 a day, then 2 a day from 2025-01-11 (t = 10): units at t = 1..10, then
    // 10.5 .. 15, final 2025-01-16. Slipped by 10 days, 1 a day holds until t = 20.
    let line = |slip: &str| {
        format!(
            "[[lines]]\nid = \"l\"\nrate = [ {{ from = \"2024-01-01\", per_year = 365 }}, \
             {{ from = \"2025-01-11\", per_year = 730 }} ]\n{slip}\n{}",
            line_case("PL-B-AAA", "on_contract", 1, 20)
        )
    };
    exactly(
        case(&forecast(&scenario(&line(""))), "PL-B-AAA").final_delivery,
        "2025-01-16",
    );
    let slipped = line("ramp_slip = { dist = \"fixed\", days = 10 }");
    exactly(
        case(&forecast(&scenario(&slipped)), "PL-B-AAA").final_delivery,
        "2025-01-21",
    );
}

#[test]
fn units_completed_during_the_first_delivery_delay_are_handed_over_at_its_end() {
    // Units at t = 1..3; the first waits 30 days (t = 31), and the other two with it.
    let s = scenario(&format!(
        "[channels.fms]\nfirst_delivery_delay = {{ dist = \"fixed\", days = 30 }}\n\
         [[lines]]\nid = \"l\"\n{ONE_A_DAY}\n{}",
        line_case("PL-B-AAA", "on_contract", 1, 3)
    ));
    let report = forecast(&s);
    let delayed = case(&report, "PL-B-AAA");
    exactly(delayed.first_delivery, "2025-02-01");
    exactly(delayed.final_delivery, "2025-02-01");
    // A repeat buyer of the same configuration waits for nothing.
    let repeat = scenario(&format!(
        "[channels.fms]\nfirst_delivery_delay = {{ dist = \"fixed\", days = 30 }}\n\
         [[lines]]\nid = \"l\"\n{ONE_A_DAY}\n{}",
        line_case("PL-B-AAA", "on_contract", 1, 3)
            .replace("tier = 1", "tier = 1\nnew_configuration = false")
    ));
    exactly(
        case(&forecast(&repeat), "PL-B-AAA").final_delivery,
        "2025-01-04",
    );
}

#[test]
fn a_negative_first_delivery_offset_brings_the_first_delivery_forward_but_never_before_the_start() {
    // Units at t = 1..3 (the last on 2025-01-04); a line that delivers weeks before its
    // build time says (a normal offset of about −20 days) cannot deliver before the start.
    let s = scenario(&format!(
        "[channels.fms]\nfirst_delivery_delay = {{ dist = \"normal\", median = -20, p90 = -19 }}\n\
         [[lines]]\nid = \"l\"\n{ONE_A_DAY}\n{}",
        line_case("PL-B-AAA", "on_contract", 1, 3)
    ));
    let report = forecast(&s);
    let forward = case(&report, "PL-B-AAA");
    exactly(forward.first_delivery, "2025-01-01");
    exactly(forward.final_delivery, "2025-01-04");
}

#[test]
fn a_delivery_span_holds_the_final_delivery_back_from_the_first_but_never_hurries_it() {
    // Units at t = 1..3 (first delivery 2025-01-02, the last 2025-01-04). A span of 30 days
    // from the channel puts the final delivery on 2025-02-01; a line's own span of 1 day is
    // shorter than the line's own pace and changes nothing; a negative span is refused.
    let with = |channel: &str, line: &str| {
        scenario(&format!(
            "[channels.fms]
{channel}
[[lines]]
id = \"l\"
{ONE_A_DAY}
{line}
{}",
            line_case("PL-B-AAA", "on_contract", 1, 3)
        ))
    };
    let channel_span = "delivery_span = { dist = \"fixed\", days = 30 }";
    let paced = case(&forecast(&with(channel_span, "")), "PL-B-AAA").clone();
    exactly(paced.first_delivery, "2025-01-02");
    exactly(paced.final_delivery, "2025-02-01");
    let line_span = "delivery_span = { dist = \"fixed\", days = 1 }";
    let own = case(&forecast(&with(channel_span, line_span)), "PL-B-AAA").clone();
    exactly(own.final_delivery, "2025-01-04");
    let message = error_of(&format!(
        "[channels.fms]\ndelivery_span = {{ dist = \"fixed\", days = -5 }}\n{GOOD_LINE}{}",
        line_case("PL-B-AAA", "on_contract", 1, 1)
    ));
    assert!(
        message.starts_with("channels.fms.delivery_span"),
        "{message}"
    );
}

#[test]
fn a_span_stated_for_ten_units_takes_twice_as_long_for_forty_at_exponent_one_half() {
    // The line's 100-day span is stated for an order of 10 units; with exponent 0.5 an order
    // of 40 takes (40 / 10)^0.5 = 2 times as long. First delivery 2025-01-02 either way (one
    // unit a day); the span ends 100 days later for 10 units, 200 days later for 40, both
    // after the line's own last unit.
    let with_quantity = |quantity: u32| {
        scenario(&format!(
            "[channels.fms]\ndelivery_span = {{ dist = \"fixed\", days = 1000 }}\n\
             [[lines]]\nid = \"l\"\n{ONE_A_DAY}\n\
             delivery_span = {{ dist = \"fixed\", days = 100 }}\n\
             delivery_span_scale = {{ units = 10, exponent = 0.5 }}\n{}",
            line_case("PL-B-AAA", "on_contract", 1, quantity)
        ))
    };
    let ten = case(&forecast(&with_quantity(10)), "PL-B-AAA").clone();
    exactly(ten.first_delivery, "2025-01-02");
    exactly(ten.final_delivery, "2025-04-12");
    let forty = case(&forecast(&with_quantity(40)), "PL-B-AAA").clone();
    exactly(forty.first_delivery, "2025-01-02");
    exactly(forty.final_delivery, "2025-07-21");
    // The channel's span is scaled by the line's scale too.
    let from_channel = scenario(&format!(
        "[channels.fms]\ndelivery_span = {{ dist = \"fixed\", days = 10 }}\n\
         [[lines]]\nid = \"l\"\n{ONE_A_DAY}\n\
         delivery_span_scale = {{ units = 10, exponent = 1 }}\n{}",
        line_case("PL-B-AAA", "on_contract", 1, 5)
    ));
    exactly(
        case(&forecast(&from_channel), "PL-B-AAA").final_delivery,
        "2025-01-07",
    );
}

#[test]
fn a_span_scale_needs_a_positive_order_size_and_an_exponent_from_zero_to_two() {
    for (scale, field) in [
        (
            "{ units = 0, exponent = 0.5 }",
            "lines[0].delivery_span_scale.units",
        ),
        (
            "{ units = 10, exponent = -0.5 }",
            "lines[0].delivery_span_scale.exponent",
        ),
        (
            "{ units = 10, exponent = 3 }",
            "lines[0].delivery_span_scale.exponent",
        ),
    ] {
        let message = error_of(&format!(
            "{GOOD_LINE}delivery_span_scale = {scale}\n{}",
            line_case("PL-B-AAA", "on_contract", 1, 1)
        ));
        assert!(message.starts_with(field), "{scale}: {message}");
    }
}

#[test]
fn a_delivery_span_counts_from_a_real_first_delivery_in_the_past() {
    // First delivered on 2024-12-01 (a fact), two of three units so far; the last comes off
    // the line on 2025-01-02. A 60-day span from the real first delivery ends on 2025-01-30.
    let s = scenario(&format!(
        "[channels.fms]\ndelivery_span = {{ dist = \"fixed\", days = 60 }}\n\
         [[lines]]\nid = \"l\"\n{ONE_A_DAY}\n{}\n\
         milestones = {{ deliveries = [ {{ date = \"2024-12-01\", units = 2 }} ] }}\n",
        line_case("PL-B-AAA", "delivering", 1, 3)
    ));
    let paced = case(&forecast(&s), "PL-B-AAA").clone();
    exactly(paced.first_delivery, "2024-12-01");
    exactly(paced.final_delivery, "2025-01-30");
}

#[test]
fn a_promised_first_delivery_plus_its_slip_replaces_the_production_date_and_the_delay() {
    // Units at t = 1..3. Promised for 2025-06-01 and promises slipping 30 days, the first
    // delivery is 2025-07-01 and the three units built long before wait for it; the
    // 300-day delay is not added as well.
    let with = |promise: &str, slip: &str| {
        scenario(&format!(
            "[channels.fms]\nfirst_delivery_delay = {{ dist = \"fixed\", days = 300 }}\n{slip}\n\
             [[lines]]\nid = \"l\"\n{ONE_A_DAY}\n{}",
            line_case("PL-B-AAA", "on_contract", 1, 3)
                .replace("tier = 1", &format!("tier = 1\n{promise}"))
        ))
    };
    let promised = "promised_first_delivery = \"2025-06-01\"";
    let slip = "promise_slip = { dist = \"fixed\", days = 30 }";
    let kept = case(&forecast(&with(promised, slip)), "PL-B-AAA").clone();
    exactly(kept.first_delivery, "2025-07-01");
    exactly(kept.final_delivery, "2025-07-01");
    // Without a slip to draw it by, a promise is not used: the delay applies as before
    // (the first unit done on 2025-01-02, plus 300 days).
    let unused = case(&forecast(&with(promised, "")), "PL-B-AAA").clone();
    let unpromised = case(&forecast(&with("", "")), "PL-B-AAA").clone();
    exactly(unused.first_delivery, "2025-10-29");
    assert_eq!(unused.first_delivery, unpromised.first_delivery);
}

#[test]
fn a_promised_first_delivery_is_never_before_the_contract() {
    // Still implemented (LOA signed) with 200 days to contract: the contract comes on
    // 2025-07-20. Promised for 2025-03-01 with no slip, it cannot deliver before then.
    let s = scenario(&format!(
        "[channels.fms]\nimplemented = {{ dist = \"fixed\", days = 200 }}\n\
         promise_slip = {{ dist = \"fixed\", days = 0 }}\n\
         [[lines]]\nid = \"l\"\n{ONE_A_DAY}\n{}",
        line_case("PL-B-AAA", "implemented", 1, 3).replace(
            "tier = 1",
            "tier = 1\npromised_first_delivery = \"2025-03-01\""
        )
    ));
    let promised = case(&forecast(&s), "PL-B-AAA").clone();
    exactly(promised.contract, "2025-07-20");
    exactly(promised.first_delivery, "2025-07-20");
}

#[test]
fn a_promise_slip_is_the_delay_part_of_the_band_when_no_case_has_a_delay() {
    // The only first-delivery uncertainty is the slip of the promise (sd about 78 days):
    // the `delay` part carries it, rather than a zero from a pass never made.
    let s = Scenario::from_toml_str(&format!(
        "{}\n[channels.fms]\npromise_slip = {{ dist = \"normal\", median = 0, p90 = 100 }}\n\
         [[lines]]\nid = \"l\"\n{ONE_A_DAY}\n{}",
        HEADER.replace("trials = 5", "trials = 2000"),
        line_case("PL-B-AAA", "on_contract", 1, 3).replace(
            "tier = 1",
            "tier = 1\npromised_first_delivery = \"2025-06-01\""
        )
    ))
    .expect("the test scenario is valid");
    let report = run(
        &s,
        &RunOptions {
            band_parts: true,
            ..RunOptions::default()
        },
    )
    .expect("runs");
    let parts = report.runs[0].cases[0].band_parts.expect("asked for");
    // P10-P90 of a normal with that sd: 2 x 100 days.
    assert!(
        (180..=220).contains(&parts.first_delivery.delay),
        "{parts:?}"
    );
}

#[test]
fn the_chance_a_promise_is_kept_is_the_share_of_trials_delivering_by_it() {
    // Promised 2025-06-01, slips normal around zero: kept in half the trials.
    let s = Scenario::from_toml_str(&format!(
        "{}\n[channels.fms]\npromise_slip = {{ dist = \"normal\", median = 0, p90 = 100 }}\n\
         [[lines]]\nid = \"l\"\n{ONE_A_DAY}\n{}{}",
        HEADER.replace("trials = 5", "trials = 4000"),
        line_case("PL-B-AAA", "on_contract", 1, 3).replace(
            "tier = 1",
            "tier = 1\npromised_first_delivery = \"2025-06-01\""
        ),
        line_case("PL-B-BBB", "on_contract", 1, 3)
    ))
    .expect("the test scenario is valid");
    let report = forecast(&s);
    let kept = case(&report, "PL-B-AAA")
        .p_first_by_promise
        .expect("promised");
    assert!((kept - 0.5).abs() < 0.03, "kept in {kept}");
    assert_eq!(case(&report, "PL-B-BBB").p_first_by_promise, None);
}

#[test]
fn a_promise_already_missed_has_slipped_at_least_until_the_start() {
    // Promised 2024-06-01, 214 days before the start, with nothing delivered: of slips
    // uniform over 0–400 days only those over 214 remain, so the first delivery is uniform
    // over the 186 days after the start, its median about 93 days in (2025-04-04).
    let s = Scenario::from_toml_str(&format!(
        "{}\n[channels.fms]\npromise_slip = {{ dist = \"uniform\", min = 0, max = 400 }}\n\
         [[lines]]\nid = \"l\"\n{ONE_A_DAY}\n{}",
        HEADER.replace("trials = 5", "trials = 2000"),
        line_case("PL-B-AAA", "on_contract", 1, 3).replace(
            "tier = 1",
            "tier = 1\npromised_first_delivery = \"2024-06-01\""
        )
    ))
    .expect("the test scenario is valid");
    let missed = case(&forecast(&s), "PL-B-AAA").clone();
    let start = expedite_core::Date::new(2025, 1, 1).expect("a date");
    assert!(
        missed.first_delivery.p10 >= start,
        "{:?}",
        missed.first_delivery
    );
    let median = start
        .until(missed.first_delivery.p50)
        .expect("dates")
        .get_days();
    assert!(
        (83..=103).contains(&median),
        "median {median} days after the start"
    );
    assert!(missed.first_delivery.p90 <= start.saturating_add(jiff::ToSpan::days(186)));
}

#[test]
fn a_normal_offset_is_only_for_the_first_delivery_delay() {
    let message = error_of(&format!(
        "[channels.fms]\nimplemented = {{ dist = \"normal\", median = 30, p90 = 60 }}\n{GOOD_LINE}{}",
        line_case("PL-B-AAA", "on_contract", 1, 1)
    ));
    assert!(
        message.starts_with("channels.fms.implemented: dist = \"normal\" is a signed offset"),
        "{message}"
    );
}

/// Two cases on one line, on contract, with nothing random but `source` (TOML lines for
/// the line, or for the channel when it starts with `[channels`).
fn two_cases_on_one_line(source: &str) -> Scenario {
    let (channel, line) = if source.starts_with("[channels") {
        (source, "")
    } else {
        ("", source)
    };
    scenario(&format!(
        "{channel}\n[[lines]]\nid = \"l\"\nrate = [ {{ from = \"2024-01-01\", per_year = 365 }}, \
         {{ from = \"2025-02-01\", per_year = 730 }} ]\n{line}\n{}{}",
        line_case("PL-B-AAA", "on_contract", 1, 40),
        line_case("PL-B-BBB", "on_contract", 1, 40)
    ))
}

fn trial_days(scenario: &Scenario, trials: u64) -> Vec<Vec<[i32; 3]>> {
    let model = expedite_forecast::Model::compile(scenario, None, 11);
    let mut scratch = expedite_forecast::Scratch::default();
    (0..trials)
        .map(|trial| model.simulate(trial, &mut scratch).case_days)
        .collect()
}

fn width(percentiles: expedite_forecast::Percentiles) -> i64 {
    i64::from((percentiles.p90 - percentiles.p10).get_days())
}

#[test]
fn the_rate_multiplier_and_the_ramp_slip_widen_the_band_and_move_cases_on_a_line_together() {
    let sources = [
        "rate_multiplier = { dist = \"lognormal\", median = 0.9, p90 = 1.2 }",
        "ramp_slip = { dist = \"uniform\", min = 0, max = 200 }",
    ];
    let fixed = forecast(&two_cases_on_one_line(""));
    assert_eq!(width(case(&fixed, "PL-B-BBB").final_delivery), 0);
    for source in sources {
        let s = two_cases_on_one_line(source);
        let report = run(
            &s,
            &RunOptions {
                trials: Some(200),
                ..RunOptions::default()
            },
        )
        .expect("runs");
        assert!(
            width(case(&report, "PL-B-BBB").final_delivery) > 5,
            "{source} widens the band"
        );
        // Shared by the line: in every pair of trials, when A is later so is B.
        let days = trial_days(&s, 200);
        for one in &days {
            for other in &days {
                if one[0][2] > other[0][2] {
                    assert!(one[1][2] >= other[1][2], "{source}: cases move apart");
                }
            }
        }
    }
}

#[test]
fn the_first_delivery_delay_widens_the_band_of_each_case_on_its_own() {
    let s = two_cases_on_one_line(
        "[channels.fms]\nfirst_delivery_delay = { dist = \"pert\", min = 30, mode = 200, max = 900 }",
    );
    let report = run(
        &s,
        &RunOptions {
            trials: Some(200),
            ..RunOptions::default()
        },
    )
    .expect("runs");
    for id in ["PL-B-AAA", "PL-B-BBB"] {
        assert!(width(case(&report, id).first_delivery) > 100, "{id}");
    }
    // Drawn per case: the two cases' delays differ within a trial.
    let days = trial_days(&s, 50);
    assert!(
        days.iter()
            .any(|trial| trial[1][1] - trial[0][1] != days[0][1][1] - days[0][0][1]),
        "the delay is not shared between cases"
    );
}

#[test]
fn a_new_source_leaves_the_draws_of_the_others_where_they_were() {
    // Common random numbers across scenario versions: adding a rate multiplier does not
    // change any contract date drawn from the paperwork stages.
    let paperwork =
        "[channels.fms]\nimplemented = { dist = \"pert\", min = 10, mode = 40, max = 300 }\n";
    let cases = format!(
        "{}{}",
        line_case("PL-B-AAA", "implemented", 1, 5),
        line_case("PL-B-BBB", "implemented", 1, 5)
    );
    let plain = scenario(&format!(
        "{paperwork}[[lines]]\nid = \"l\"\n{ONE_A_DAY}\n{cases}"
    ));
    let with_rate = scenario(&format!(
        "{paperwork}[[lines]]\nid = \"l\"\n{ONE_A_DAY}\n\
         rate_multiplier = {{ dist = \"pert\", min = 0.5, mode = 0.9, max = 1.1 }}\n{cases}"
    ));
    let (before, after) = (trial_days(&plain, 100), trial_days(&with_rate, 100));
    for (one, other) in before.iter().zip(&after) {
        assert_eq!(one[0][0], other[0][0]);
        assert_eq!(one[1][0], other[1][0]);
    }
}

#[test]
fn band_parts_name_the_source_that_makes_the_band() {
    // Only the rate multiplier is random: the whole width is the rate's, none is paperwork's.
    let s = two_cases_on_one_line("rate_multiplier = { dist = \"uniform\", min = 0.5, max = 1.5 }");
    let report = run(
        &s,
        &RunOptions {
            trials: Some(200),
            band_parts: true,
            ..RunOptions::default()
        },
    )
    .expect("runs");
    let forecast = case(&report, "PL-B-BBB");
    let parts = forecast.band_parts.expect("asked for");
    assert_eq!(
        i64::from(parts.final_delivery.rate),
        width(forecast.final_delivery)
    );
    assert_eq!(parts.final_delivery.paperwork, 0);
    assert_eq!(parts.final_delivery.queue, 0);
    assert_eq!(parts.final_delivery.delay, 0);
    assert!(forecast_json_has_band_parts(&report));
}

#[test]
fn the_queue_part_is_other_cases_paperwork_deciding_who_orders_first_on_a_shared_line() {
    // Two cases still to sign their contracts queue for one line that builds a unit a day:
    // whichever signs first is built first, so each one's band holds its own signing date
    // (`paperwork`) and the other's (`queue`). A case alone on its line has no queue part.
    let s = scenario(&format!(
        "[channels.fms]\nimplemented = {{ dist = \"uniform\", min = 10, max = 110 }}\n\
         [[lines]]\nid = \"l\"\nrate = [ {{ from = \"2024-01-01\", per_year = 365 }} ]\n\
         [[lines]]\nid = \"m\"\nrate = [ {{ from = \"2024-01-01\", per_year = 365 }} ]\n{}{}\n\
         [[cases]]\nid = \"PL-B-CCC\"\npurchaser = \"POL\"\nstage = \"implemented\"\n\
         since = \"2025-01-01\"\nlines = [ {{ line = \"m\", quantity = 60, unit_usd = 1000 }} ]\n",
        line_case("PL-B-AAA", "implemented", 1, 60),
        line_case("PL-B-BBB", "implemented", 1, 60)
    ));
    let report = run(
        &s,
        &RunOptions {
            trials: Some(400),
            band_parts: true,
            ..RunOptions::default()
        },
    )
    .expect("runs");
    let parts = |id: &str| {
        case(&report, id)
            .band_parts
            .expect("asked for")
            .final_delivery
    };
    for shared in ["PL-B-AAA", "PL-B-BBB"] {
        assert!(
            parts(shared).paperwork > 30,
            "{shared}: {:?}",
            parts(shared)
        );
        assert!(parts(shared).queue > 20, "{shared}: {:?}", parts(shared));
    }
    let alone = parts("PL-B-CCC");
    assert!(alone.paperwork > 30, "{alone:?}");
    assert_eq!(alone.queue, 0, "nobody else builds on line m");
}

fn forecast_json_has_band_parts(report: &Report) -> bool {
    serde_json::to_string(report)
        .expect("serialises")
        .contains(r#""band_parts":{"first_delivery":{"paperwork":"#)
}

// ---------------------------------------------------------------------------------------
// Bad input in the new keys: one error naming the TOML path.

#[test]
fn each_new_key_names_its_path_when_it_is_wrong() {
    let line = |extra: &str| format!("[[lines]]\nid = \"l\"\n{ONE_A_DAY}\n{extra}\n");
    let with_case = |milestones: &str| {
        format!(
            "{}[[cases]]\nid = \"PL-B-AAA\"\npurchaser = \"POL\"\n{milestones}\n\
             lines = [ {{ line = \"l\", quantity = 4, unit_usd = 1000 }} ]\n",
            line("")
        )
    };
    let cases = [
        (
            line("backlog = { units = -3, as_of = \"2024-01-01\" }"),
            "lines[0].backlog.units: -3 must be 0 or more",
        ),
        (
            line("backlog = { units = 3, as_of = \"2025-06-01\" }"),
            "lines[0].backlog.as_of: 2025-06-01 is after the scenario start",
        ),
        (
            line("backlog = { units = 3, since = \"2024-01-01\" }"),
            "lines[0].backlog.since: unknown field `since`",
        ),
        (
            line("orders = [ { date = \"2024-13-01\", units = 5 } ]"),
            "lines[0].orders[0].date: '2024-13-01' is not a date",
        ),
        (
            line("orders = [ { date = \"2024-12-01\", units = 0 } ]"),
            "lines[0].orders[0].units: 0 must be 1 or more",
        ),
        (
            line("rate_multiplier = { dist = \"fixed\", value = 0 }"),
            "lines[0].rate_multiplier: a multiplier must be above zero",
        ),
        (
            line("rate_multiplier = { dist = \"uniform\", min = 1.2, max = 0.8 }"),
            "lines[0].rate_multiplier: parameters are out of order",
        ),
        (
            line("ramp_slip = { dist = \"fixed\", days = -30 }"),
            "lines[0].ramp_slip: days = -30",
        ),
        (
            line("first_delivery_delay = { dist = \"lognormal\", median = 400, p90 = 100 }"),
            "lines[0].first_delivery_delay: parameters are out of order",
        ),
        (
            line("first_delivery_delay = { dist = \"weibull\", median = 400, p90 = 400 }"),
            "lines[0].first_delivery_delay: parameters are out of order",
        ),
        (
            format!(
                "[channels.fms]\nfirst_delivery_delay = {{ dist = \"pert\", min = 9, mode = 1, max = 5 }}\n{}",
                line("")
            ),
            "channels.fms.first_delivery_delay: parameters are out of order",
        ),
        (
            line("rate = [ { from = \"2024-01-01\", per_year = 5, announced = \"soon\" } ]")
                .replacen(ONE_A_DAY, "", 1),
            "lines[0].rate[0].announced: 'soon' is not a date",
        ),
        (
            with_case("milestones = { loa = \"2025-03-01\" }"),
            "cases[0].milestones.loa: 2025-03-01 is after the scenario start",
        ),
        (
            with_case("milestones = { notification = \"2024-05-01\", loa = \"2024-04-01\" }"),
            "cases[0].milestones.loa: loa 2024-04-01 is before notification 2024-05-01",
        ),
        (
            with_case(
                "milestones = { contract = \"2024-05-01\", deliveries = [ { date = \"2024-04-01\", units = 1 } ] }",
            ),
            "cases[0].milestones.deliveries[0].date: a delivery on 2024-04-01 is before the contract",
        ),
        (
            with_case(
                "milestones = { deliveries = [ { date = \"2024-04-01\", units = 3 }, { date = \"2024-05-01\", units = 2 } ] }",
            ),
            "cases[0].milestones.deliveries[1].units: 5 units delivered on line 'l', but the case buys 4",
        ),
        (
            with_case(
                "milestones = { deliveries = [ { date = \"2024-04-01\", units = 1, line = \"x\" } ] }",
            ),
            "cases[0].milestones.deliveries[0].line: line 'x' is not one of this case's lines",
        ),
        (
            with_case("stage = \"offered\"\nmilestones = { contract = \"2024-05-01\" }"),
            "cases[0].stage: stage 'offered' is before 'on_contract'",
        ),
        (
            with_case(""),
            "cases[0].stage: a case needs its current stage, or milestones that imply it",
        ),
        (
            with_case("milestones = { signed = \"2024-05-01\" }"),
            "cases[0].milestones.signed: unknown field `signed`",
        ),
    ];
    for (body, expected) in cases {
        let message = error_of(&body);
        assert!(message.starts_with(expected), "{expected}\n got: {message}");
    }
}

// ---------------------------------------------------------------------------------------
// Invariance (issue 8 §1): when nothing happens to a case, moving the forecast start later
// does not move its forecast.

/// A deterministic order-book scenario: a dated backlog, an order, cases on contract since
/// a recorded date and cases with a signed LOA waiting `implemented` days for contract.
#[derive(Debug, Clone)]
struct BookSpec {
    per_year: f64,
    lead_time: u32,
    transport: u32,
    implemented: u32,
    backlog: (u32, i64),
    /// The backlog also holds the cases on contract by its date (`includes_cases`).
    includes_cases: bool,
    order: (i64, u32, u32),
    /// (days after 2024-01-01 of the contract or LOA, on contract?, units, tier)
    cases: Vec<(i64, bool, u32, u32)>,
}

fn base_day(offset: i64) -> expedite_core::Date {
    jiff::civil::date(2024, 1, 1)
        .checked_add(jiff::Span::new().days(offset))
        .expect("in range")
}

fn book_scenario(spec: &BookSpec, start: expedite_core::Date) -> Scenario {
    // Units of the cases on contract by the backlog's date, which a backlog that includes
    // the cases holds besides the others' units.
    let held: u32 = spec
        .cases
        .iter()
        .filter(|&&(day, on_contract, _, _)| on_contract && day <= spec.backlog.1)
        .map(|case| case.2)
        .sum();
    let stated = if spec.includes_cases {
        spec.backlog.0 + held
    } else {
        spec.backlog.0
    };
    let mut text = format!(
        "name = \"book\"\nstart = \"{start}\"\ntrials = 3\nseed = 5\n\
         [channels.fms]\nimplemented = {{ dist = \"fixed\", days = {} }}\n\
         transport = {{ dist = \"fixed\", days = {} }}\n\
         [[lines]]\nid = \"l\"\nlead_time_days = {}\n\
         backlog = {{ units = {}, as_of = \"{}\", includes_cases = {} }}\n\
         orders = [ {{ date = \"{}\", units = {}, tier = {} }} ]\n\
         rate = [ {{ from = \"2023-01-01\", per_year = {} }} ]\n",
        spec.implemented,
        spec.transport,
        spec.lead_time,
        stated,
        base_day(spec.backlog.1),
        spec.includes_cases,
        base_day(spec.order.0),
        spec.order.1,
        spec.order.2,
        spec.per_year
    );
    for (index, &(day, on_contract, units, tier)) in spec.cases.iter().enumerate() {
        let milestone = if on_contract { "contract" } else { "loa" };
        text.push_str(&format!(
            "[[cases]]\nid = \"PL-B-{index:03}\"\npurchaser = \"POL\"\ntier = {tier}\n\
             milestones = {{ {milestone} = \"{}\" }}\n\
             lines = [ {{ line = \"l\", quantity = {units}, unit_usd = 1000 }} ]\n",
            base_day(day)
        ));
    }
    Scenario::from_toml_str(&text).expect("the generated scenario is valid")
}

fn book_spec() -> impl proptest::strategy::Strategy<Value = BookSpec> {
    use proptest::prelude::*;
    (
        prop_oneof![Just(182.5), Just(365.0), Just(730.0)],
        0_u32..120,
        0_u32..40,
        100_u32..400,
        (0_u32..80, 0_i64..300),
        any::<bool>(),
        (0_i64..600, 1_u32..30, 0_u32..3),
        proptest::collection::vec((0_i64..300, any::<bool>(), 1_u32..25, 0_u32..3), 1..5),
    )
        .prop_map(
            |(
                per_year,
                lead_time,
                transport,
                implemented,
                backlog,
                includes_cases,
                order,
                cases,
            )| BookSpec {
                per_year,
                lead_time,
                transport,
                implemented,
                backlog,
                includes_cases,
                order,
                cases,
            },
        )
}

/// Every case's contract, first and final dates, and the line's clear date.
fn dates_of(report: &Report) -> Vec<String> {
    let run = &report.runs[0];
    run.cases
        .iter()
        .map(|case| {
            format!(
                "{:?} {:?} {:?}",
                case.contract, case.first_delivery, case.final_delivery
            )
        })
        .chain(run.lines.iter().map(|line| format!("{:?}", line.clears)))
        .collect()
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config::with_cases(64))]

    #[test]
    fn moving_the_start_between_two_milestones_leaves_every_date_where_it_was(
        spec in book_spec(),
        fraction in 0.0_f64..=1.0,
    ) {
        // The last fact, and the first forecast event after it: any start between the two
        // sees the same facts.
        let last_fact = spec
            .cases
            .iter()
            .map(|case| case.0)
            .chain([spec.backlog.1])
            .max()
            .unwrap_or(0);
        let first_start = base_day(last_fact);
        let before = forecast(&book_scenario(&spec, first_start));
        // Every date not yet a fact must lie after the first start (a stage already overdue
        // or a delivery already due would move with the start, as DESIGN.md says it must).
        let pending: Vec<_> = before.runs[0]
            .cases
            .iter()
            .zip(&spec.cases)
            .flat_map(|(case, &(_, on_contract, _, _))| {
                let contract = (!on_contract).then_some(case.contract.p50);
                contract
                    .into_iter()
                    .chain([case.first_delivery.p50, case.final_delivery.p50])
            })
            .collect();
        proptest::prop_assume!(pending.iter().all(|&date| date > first_start));
        let Some(&next_event) = pending.iter().min() else {
            return Ok(());
        };
        let span = i64::from((next_event - first_start).get_days());
        let later = base_day(last_fact + (fraction * span as f64).floor() as i64);
        let after = forecast(&book_scenario(&spec, later));
        proptest::prop_assert_eq!(dates_of(&before), dates_of(&after), "start moved to {}", later);
    }
}

#[test]
fn the_himars_example_reports_recorded_deliveries_as_facts_and_forecasts_the_rest() {
    let text = include_str!("../../../examples/forecast/himars-order-book.toml");
    let scenario = Scenario::from_toml_str(text).expect("the example is valid");
    let report = run(
        &scenario,
        &RunOptions {
            trials: Some(200),
            ..RunOptions::default()
        },
    )
    .expect("the example runs");
    // Estonia's six launchers all arrived on 2025-04-30 (timelines.csv).
    let estonia = case(&report, "EST-HIMARS-2022");
    assert!(estonia.delivered);
    exactly(estonia.final_delivery, "2025-04-30");
    // Australia has two of twenty: the first delivery is the recorded one, the rest comes
    // after the start.
    let australia = case(&report, "AUS-HIMARS-2023");
    assert!(!australia.delivered && !australia.final_delivery_clamped);
    exactly(australia.first_delivery, "2025-03-24");
    assert!(australia.final_delivery.p10 > scenario.start);
    // Lithuania and Latvia have a band, not a point.
    for id in ["LTU-HIMARS-2022", "LVA-HIMARS-2023"] {
        assert!(width(case(&report, id).final_delivery) > 30, "{id}");
    }
}
