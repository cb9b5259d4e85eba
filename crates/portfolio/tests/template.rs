//! The demo template is checked like a scenario (issue 8 §5): each wrong value is an error
//! naming the file and the field, never a silent change of results.

use expedite_data::capacity::Catalog;
use expedite_data::demo::SCENARIO_TEMPLATE;
use expedite_portfolio::{PortfolioError, Template, build_demo};

const FILE: &str = "my-template.toml";

/// The shipped template with one text replaced (the replaced text must be there).
fn changed(from: &str, to: &str) -> String {
    assert!(
        SCENARIO_TEMPLATE.contains(from),
        "the template has '{from}'"
    );
    SCENARIO_TEMPLATE.replacen(from, to, 1)
}

/// The error a changed template gets, as (field, message).
fn refused(text: &str) -> (String, String) {
    match Template::from_toml_str(text, FILE) {
        Err(error @ PortfolioError::Template { .. }) => {
            let PortfolioError::Template {
                ref file,
                ref field,
                ..
            } = error
            else {
                unreachable!()
            };
            assert_eq!(file, FILE, "the message names the file");
            (field.clone(), error.to_string())
        }
        Err(other) => panic!("expected a template error, got {other}"),
        Ok(_) => panic!("the template was accepted"),
    }
}

#[test]
fn the_shipped_template_passes_its_own_checks() {
    let template = Template::builtin().expect("shipped template");
    template
        .check_lines(&Catalog::builtin().expect("catalog"))
        .expect("every template line is in the catalog");
}

#[test]
fn an_unknown_line_id_names_the_line_and_the_file() {
    let template = Template::from_toml_str(&changed("[lines.himars]", "[lines.himars-typo]"), FILE)
        .expect("the line ids are checked against the catalog");
    let catalog = Catalog::builtin().expect("catalog");
    let notifications = expedite_data::dsca::builtin().expect("notifications");
    let error = build_demo(&template, &catalog, &notifications, &[], template.as_of)
        .expect_err("an unknown line is refused");
    let message = error.to_string();
    assert!(
        message.starts_with("my-template.toml: lines.himars-typo: unknown line id"),
        "{message}"
    );
}

#[test]
fn a_negative_backlog_is_refused() {
    let (field, message) = refused(&changed(
        "[lines.himars]\nbacklog_years = 1.5",
        "[lines.himars]\nbacklog_years = -1.5",
    ));
    assert_eq!(field, "lines.himars.backlog_years", "{message}");
}

#[test]
fn a_negative_build_time_is_refused() {
    let (field, message) = refused(&changed("lead_time_days = 365", "lead_time_days = -365"));
    assert_eq!(field, "lines.himars.lead_time_days", "{message}");
}

#[test]
fn a_negative_stage_duration_is_refused() {
    let (field, message) = refused(&changed(
        "offered = { dist = \"pert\", min = 14,",
        "offered = { dist = \"pert\", min = -14,",
    ));
    assert_eq!(field, "channels.fms.offered", "{message}");
}

#[test]
fn a_signed_offset_is_refused_for_a_duration_but_taken_for_the_first_delivery_delay() {
    let signed = "{ dist = \"normal\", median = -30, p90 = 60 }";
    let (field, message) = refused(&changed(
        "ramp_slip = { dist = \"pert\", min = 0, mode = 180, max = 730 }",
        &format!("ramp_slip = {signed}"),
    ));
    assert_eq!(field, "uncertainty.ramp_slip", "{message}");
    assert!(
        message.contains("a duration cannot be negative"),
        "{message}"
    );
    let (field, _) = refused(&changed(
        "transport = { dist = \"pert\", min = 14, mode = 35, max = 120 }",
        &format!("transport = {signed}"),
    ));
    assert_eq!(field, "channels.fms.transport");
    let delay = changed(
        "[lines.himars]\n",
        &format!("[lines.himars]\nfirst_delivery_delay = {signed}\n"),
    );
    Template::from_toml_str(&delay, FILE).expect("a delay may be a signed offset");
}

#[test]
fn a_lines_delivery_span_is_a_duration_checked_like_the_others() {
    let (field, message) = refused(&changed(
        "[lines.himars]\n",
        "[lines.himars]\ndelivery_span = { dist = \"normal\", median = -30, p90 = 60 }\n",
    ));
    assert_eq!(field, "lines.himars.delivery_span", "{message}");
    let (field, _) = refused(&changed(
        "[lines.himars]\n",
        "[lines.himars]\ndelivery_span = { dist = \"lognormal\", median = 3000000, p90 = 9000000 }\n",
    ));
    assert_eq!(field, "lines.himars.delivery_span");
    let span = changed(
        "[lines.himars]\n",
        "[lines.himars]\ndelivery_span = { dist = \"lognormal\", median = 300, p90 = 900 }\n",
    );
    Template::from_toml_str(&span, FILE).expect("a span is a duration");
}

#[test]
fn a_lines_delivery_span_scale_needs_a_positive_order_and_an_exponent_from_zero_to_two() {
    for (scale, field) in [
        (
            "{ units = -5, exponent = 0.5 }",
            "lines.himars.delivery_span_scale.units",
        ),
        (
            "{ units = 15, exponent = 2.5 }",
            "lines.himars.delivery_span_scale.exponent",
        ),
    ] {
        let (refused_field, message) = refused(&changed(
            "[lines.himars]\n",
            &format!("[lines.himars]\ndelivery_span_scale = {scale}\n"),
        ));
        assert_eq!(refused_field, field, "{message}");
    }
    let scaled = changed(
        "[lines.himars]\n",
        "[lines.himars]\ndelivery_span_scale = { units = 15, exponent = 0.65 }\n",
    );
    Template::from_toml_str(&scaled, FILE).expect("a scale of a positive order, exponent 0.65");
}

#[test]
fn a_duration_of_centuries_is_refused_rather_than_printed_as_9999_12_31() {
    let (field, message) = refused(&changed(
        "transport = { dist = \"pert\", min = 14, mode = 35, max = 120 }",
        "transport = { dist = \"lognormal\", median = 3000000, p90 = 9000000 }",
    ));
    assert_eq!(field, "channels.fms.transport", "{message}");
}

#[test]
fn a_weibull_of_centuries_is_refused_too() {
    let (field, message) = refused(&changed(
        "transport = { dist = \"pert\", min = 14, mode = 35, max = 120 }",
        "transport = { dist = \"weibull\", median = 3000000, p90 = 9000000 }",
    ));
    assert_eq!(field, "channels.fms.transport", "{message}");
    assert!(message.contains("a century"), "{message}");
}

#[test]
fn a_date_beyond_the_calendar_is_refused() {
    let (field, message) = refused(&changed("as_of = \"2026-01-01\"", "as_of = \"9999-06-01\""));
    assert_eq!(field, "as_of", "{message}");
    let (field, message) = refused(&changed("to = \"2025-12-31\"", "to = \"2025-02-30\""));
    assert_eq!(field, "portfolio.to", "{message}");
}

#[test]
fn a_stage_without_durations_is_refused() {
    let (field, message) = refused(&changed(
        "implemented = { dist = \"pert\", min = 60, mode = 240, max = 760 }",
        "",
    ));
    assert_eq!(field, "channels.fms.implemented", "{message}");
    assert!(message.contains("zero days"), "{message}");
}

#[test]
fn stage_rules_must_start_on_day_0_and_move_forward() {
    let (field, _) = refused(&changed(
        "stage = \"congressional_review\"\nfrom_days = 0",
        "stage = \"congressional_review\"\nfrom_days = 10",
    ));
    assert_eq!(field, "stage_by_days_since_notification[0].from_days");
    let (field, _) = refused(&changed("from_days = 365", "from_days = 30"));
    assert_eq!(field, "stage_by_days_since_notification[2]");
    let (field, _) = refused(&changed("stage = \"on_contract\"", "stage = \"delivered\""));
    assert_eq!(field, "stage_by_days_since_notification[3].stage");
}

#[test]
fn an_unknown_country_or_field_is_refused_with_its_path() {
    let (field, _) = refused(&changed("\"POL\", \"EST\"", "\"POL\", \"XXX\""));
    assert_eq!(field, "expedite.eastern_flank[1]");
    let (_, message) = refused(&changed("seed = 2022", "seed = 2022\nseeds = 1"));
    assert!(
        message.contains("seeds"),
        "the unknown field is named: {message}"
    );
}

#[test]
fn under_a_fitted_delay_no_backlog_of_other_buyers_is_assumed_it_would_count_their_wait_twice() {
    // The delay was fitted against lines with no order book, so it holds the usual wait
    // behind other buyers; the template's assumed backlog (HIMARS: 1.5 years) is dropped
    // with the calibration and kept without it.
    let template = Template::builtin().expect("template");
    assert!(template.lines["himars"].backlog_years > 0.0);
    let params = expedite_portfolio::calibrate::Params::shipped().expect("shipped parameters");
    assert!(params.delay_holds_the_usual_queue());
    let (calibrated, origins) = template.calibrated(&params);
    assert_eq!(calibrated.lines["himars"].backlog_years, 0.0);
    let held = origins
        .iter()
        .find(|origin| origin.parameter == "lines.himars.backlog_years")
        .expect("the dropped backlog has an origin");
    assert_eq!(held.origin, "held by the delay");
    assert!(held.method.contains("1.5 years"), "{}", held.method);
}

#[test]
fn under_the_calibration_a_case_is_assumed_on_contract_the_fitted_medians_after_notification() {
    // Offered from day 45 (the review); implemented the fitted median of `offered` later; on
    // contract the fitted median of `implemented` (LOA -> contract) after that, instead of the
    // template's days 365 and 730.
    let template = Template::builtin().expect("template");
    let params = expedite_portfolio::calibrate::Params::shipped().expect("shipped parameters");
    let median = |stage: &str| {
        expedite_forecast::scenario::RawDist::build(&params.channels["fms"][stage])
            .expect("a fitted stage")
            .median()
            .round() as i64
    };
    let (calibrated, origins) = template.calibrated(&params);
    let from = |stage: &str| {
        calibrated
            .stage_by_days_since_notification
            .iter()
            .find(|rule| rule.stage == stage)
            .map(|rule| rule.from_days)
            .expect("a rule")
    };
    assert_eq!(from("offered"), 45);
    assert_eq!(from("implemented"), 45 + median("offered"));
    assert_eq!(
        from("on_contract"),
        from("implemented") + median("implemented")
    );
    let origin = origins
        .iter()
        .find(|origin| origin.parameter == "stage_by_days_since_notification.on_contract")
        .expect("the replaced rule has an origin");
    assert!(
        origin.method.contains("the template's day 730"),
        "{}",
        origin.method
    );
}

#[test]
fn shipped_calibration_replaces_the_fitted_distributions_and_says_so() {
    let template = Template::builtin().expect("template");
    let params = expedite_portfolio::calibrate::Params::shipped().expect("shipped parameters");
    let (calibrated, origins) = template.calibrated(&params);
    let origin = |parameter: &str| {
        origins
            .iter()
            .find(|origin| origin.parameter == parameter)
            .unwrap_or_else(|| panic!("{parameter} has an origin"))
    };
    let offered = origin("channels.fms.offered");
    assert_eq!(offered.origin, "fitted");
    assert!(offered.n.is_some_and(|n| n > 0));
    assert!(matches!(
        calibrated.channels["fms"]["offered"],
        expedite_forecast::scenario::RawDist::Lognormal { .. }
    ));
    // The fitted delay is a residual measured with LOA -> contract and transport at their
    // medians, so both are held there rather than drawn a second time.
    for held in ["channels.fms.transport", "channels.fms.implemented"] {
        assert_eq!(origin(held).origin, "median", "{held}");
    }
    assert!(matches!(
        calibrated.channels["fms"]["transport"],
        expedite_forecast::scenario::RawDist::Fixed { .. }
    ));
    // Production uncertainty is the calibration file's stated assumption, with its source.
    let rate = origin("uncertainty.rate_multiplier");
    assert_eq!(rate.origin, "assumed");
    assert!(rate.method.contains("calibration file"), "{}", rate.method);
    assert_eq!(
        calibrated.uncertainty.rate_multiplier,
        params.line_defaults.rate_multiplier
    );
    // Without calibration every distribution is the template's.
    assert!(
        template
            .assumed_origins()
            .iter()
            .all(|origin| origin.origin == "assumed")
    );
}
