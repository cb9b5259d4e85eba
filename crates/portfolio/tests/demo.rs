//! The demo's portfolio on the shipped data: which notifications become cases, the stage of
//! each, real milestones as facts, and the scenario for known cases the back-test uses.

use expedite_core::{Channel, Country, Date, Stage, Usd};
use expedite_data::capacity::Catalog;
use expedite_data::dsca;
use expedite_data::timelines::Timeline;
use expedite_forecast::RunOptions;
use expedite_portfolio::demo::{
    DemoCase, KnownCase, KnownMilestones, known_cases_scenario, matching_timeline,
};
use expedite_portfolio::{PortfolioError, Provenance, Template, build_demo, run_demo};

fn date(year: i16, month: i8, day: i8) -> Date {
    jiff::civil::date(year, month, day)
}

struct Shipped {
    template: Template,
    catalog: Catalog,
    notifications: Vec<dsca::Notification>,
    timelines: Vec<Timeline>,
}

fn shipped() -> Shipped {
    Shipped {
        template: Template::builtin().expect("template"),
        catalog: Catalog::builtin().expect("catalog"),
        notifications: dsca::builtin().expect("notifications"),
        timelines: Timeline::builtin().expect("timelines"),
    }
}

fn case<'a>(cases: &'a [DemoCase], id: &str) -> &'a DemoCase {
    cases
        .iter()
        .find(|case| case.id == id)
        .unwrap_or_else(|| panic!("case {id}"))
}

#[test]
fn estonias_himars_delivered_2025_04_30_show_as_delivered_with_their_real_date() {
    let data = shipped();
    let as_of = date(2026, 1, 1);
    let portfolio = build_demo(
        &data.template,
        &data.catalog,
        &data.notifications,
        &data.timelines,
        as_of,
    )
    .expect("demo");
    let estonia = case(&portfolio.cases, "EST-2022-07-15-himars");
    assert_eq!(estonia.facts.timeline.as_deref(), Some("EST-HIMARS-2022"));
    assert_eq!(estonia.facts.loa, Some(date(2022, 12, 2)));
    assert_eq!(
        (estonia.stage, estonia.since, estonia.stage_provenance),
        (Stage::Delivered, date(2025, 4, 30), Provenance::Fact)
    );
    let options = RunOptions {
        trials: Some(50),
        ..RunOptions::default()
    };
    let outcome = run_demo(&portfolio, "expedite", &options).expect("runs");
    let result = outcome
        .cases
        .iter()
        .find(|result| result.case.id == estonia.id)
        .expect("a result");
    for dates in [result.base, result.expedite] {
        assert_eq!(
            (dates.p10, dates.p50, dates.p90),
            (date(2025, 4, 30), date(2025, 4, 30), date(2025, 4, 30)),
            "a delivered case reports its real date with a zero-width band"
        );
    }
    assert!(result.base_forecast.delivered);
}

#[test]
fn before_its_delivery_estonias_case_keeps_only_the_facts_known_then() {
    let data = shipped();
    let portfolio = build_demo(
        &data.template,
        &data.catalog,
        &data.notifications,
        &data.timelines,
        date(2024, 1, 1),
    )
    .expect("demo");
    let estonia = case(&portfolio.cases, "EST-2022-07-15-himars");
    assert_eq!(estonia.facts.final_delivery, None, "delivered only in 2025");
    assert_eq!(estonia.facts.loa, Some(date(2022, 12, 2)));
    // 535 days after notification the rule says 'implemented', as the LOA fact does.
    assert_eq!(
        (estonia.stage, estonia.since, estonia.stage_provenance),
        (Stage::Implemented, date(2022, 12, 2), Provenance::Fact)
    );
    // 870 days after notification the rule (on contract from day 730) takes the case further
    // than the facts go, and says it assumed so.
    let later = build_demo(
        &data.template,
        &data.catalog,
        &data.notifications,
        &data.timelines,
        date(2024, 12, 1),
    )
    .expect("demo");
    let estonia = case(&later.cases, "EST-2022-07-15-himars");
    assert_eq!(
        (estonia.stage, estonia.since, estonia.stage_provenance),
        (Stage::OnContract, date(2024, 7, 14), Provenance::Assumed)
    );
}

#[test]
fn a_notification_without_a_timeline_gets_the_templates_stage_marked_assumed() {
    let data = shipped();
    let portfolio = build_demo(
        &data.template,
        &data.catalog,
        &data.notifications,
        &data.timelines,
        date(2026, 1, 1),
    )
    .expect("demo");
    // Denmark's Patriot, notified 2025-08-29: 125 days later, 'offered' from day 45.
    let denmark = case(&portfolio.cases, "DNK-2025-08-29-pac3-mse");
    assert_eq!(denmark.facts.timeline, None);
    assert_eq!(
        (denmark.stage, denmark.since, denmark.stage_provenance),
        (Stage::Offered, date(2025, 10, 13), Provenance::Assumed)
    );
    // Poland's Apaches: the real production contract (2025-11) is a fact.
    let apache = case(&portfolio.cases, "POL-2023-08-21-ah64e");
    assert_eq!(
        (apache.stage, apache.stage_provenance),
        (Stage::OnContract, Provenance::Fact)
    );
    assert_eq!(apache.facts.contract, Some(date(2025, 11, 15)));
    let planned = apache
        .facts
        .planned_deliveries
        .as_ref()
        .expect("the catalog states the Nov 2025 contract's delivery window");
    assert_eq!(
        (planned.from, planned.to),
        (Some(date(2028, 1, 1)), Some(date(2032, 5, 30)))
    );
}

#[test]
fn cases_are_notifications_to_european_allies_on_lines_with_a_rate() {
    let data = shipped();
    let portfolio = build_demo(
        &data.template,
        &data.catalog,
        &data.notifications,
        &data.timelines,
        date(2026, 1, 1),
    )
    .expect("demo");
    for case in &portfolio.cases {
        let country = Country::parse(case.purchaser).expect("ISO3");
        assert!(country.is_nato_member_on(case.notified), "{}", case.id);
        assert!(!["USA", "CAN"].contains(&case.purchaser), "{}", case.id);
        assert!(case.units > 0);
    }
    // Poland's AMRAAM: the catalog has only the framework's target, no current rate.
    let amraam = portfolio
        .left_out
        .iter()
        .find(|left| left.purchaser == "POL" && left.item.contains("AMRAAM"))
        .expect("Poland's AMRAAM is left out");
    assert!(
        amraam.reason.contains("no current production rate"),
        "{}",
        amraam.reason
    );
    // Norway's F-35 sustainment and others without a line are listed, not dropped silently.
    assert!(
        portfolio
            .left_out
            .iter()
            .any(|left| left.reason == "no catalog line for this item")
    );
}

#[test]
fn every_demo_case_has_a_band_and_its_parts() {
    let data = shipped();
    let portfolio = build_demo(
        &data.template,
        &data.catalog,
        &data.notifications,
        &data.timelines,
        date(2026, 1, 1),
    )
    .expect("demo");
    let options = RunOptions {
        trials: Some(200),
        band_parts: true,
        ..RunOptions::default()
    };
    let outcome = run_demo(&portfolio, "expedite", &options).expect("runs");
    for result in &outcome.cases {
        let band = result.base;
        assert!(
            band.p10 <= band.p50 && band.p50 <= band.p90,
            "{}",
            result.case.id
        );
        if !result.base_forecast.delivered {
            assert!(
                band.p10 < band.p90,
                "{}: an open case has a band",
                result.case.id
            );
        }
        assert!(
            result.base_forecast.band_parts.is_some(),
            "{}",
            result.case.id
        );
    }
}

#[test]
fn a_timeline_matches_a_notification_by_purchaser_line_and_date() {
    let timelines = Timeline::builtin().expect("timelines");
    let estonia = Country::parse("EST").expect("EST");
    let found = |notified| {
        matching_timeline(&timelines, estonia, "himars", notified).map(|t| t.id.as_str())
    };
    assert_eq!(found(date(2022, 7, 15)), Some("EST-HIMARS-2022"));
    assert_eq!(
        found(date(2022, 7, 12)),
        Some("EST-HIMARS-2022"),
        "3 days apart"
    );
    assert_eq!(
        found(date(2022, 8, 15)),
        None,
        "a month apart is another sale"
    );
    assert_eq!(
        matching_timeline(&timelines, estonia, "javelin", date(2022, 7, 15)),
        None,
        "another line"
    );
    // Latvia's HIMARS notification is known only to the month (2023-10).
    let latvia = Country::parse("LVA").expect("LVA");
    assert_eq!(
        matching_timeline(&timelines, latvia, "himars", date(2023, 10, 2)).map(|t| t.id.as_str()),
        Some("LVA-HIMARS-2023")
    );
}

fn polish_f35() -> KnownCase {
    KnownCase {
        id: "POL-F35-2020".to_owned(),
        purchaser: Country::parse("POL").expect("POL"),
        channel: Channel::Fms,
        line: "f35".to_owned(),
        units: 32,
        unit_usd: Usd::from_cents(14_375_000_000),
        tier: None,
        new_configuration: true,
        milestones: KnownMilestones {
            request: Some(date(2019, 5, 15)),
            notification: Some(date(2019, 9, 11)),
            loa: Some(date(2020, 1, 31)),
            contract: None,
            deliveries: vec![(date(2024, 12, 23), 1)],
        },
    }
}

#[test]
fn a_known_case_uses_only_the_facts_and_catalog_known_on_its_date() {
    let data = shipped();
    // The day after Poland's F-35 LOA: implemented since the LOA; the 2024 delivery is not
    // known yet, and the catalog has only the F-35 counts published by then (2021's count,
    // stated Jan 2022, is not).
    let known = known_cases_scenario(
        &data.template,
        &data.catalog,
        &[polish_f35()],
        date(2020, 2, 1),
    );
    let error = known.expect_err("no F-35 rate had been published by 2020-02-01");
    assert!(
        matches!(error, PortfolioError::Case { ref field, .. } if field == "line"),
        "{error}"
    );
    let known = known_cases_scenario(
        &data.template,
        &data.catalog,
        &[polish_f35()],
        date(2023, 6, 1),
    )
    .expect("a scenario");
    let case = &known.scenario.cases[0];
    assert_eq!(
        (case.stage, case.since),
        (Stage::Implemented, date(2020, 1, 31))
    );
    assert_eq!(
        case.delivered_units(),
        0,
        "the 2024 delivery is in the future"
    );
    let f35 = &known.scenario.lines[0];
    let rates: Vec<f64> = f35.rate.iter().map(|step| step.per_year).collect();
    assert_eq!(
        rates,
        [142.0, 141.0],
        "only the counts published by mid-2023"
    );
    assert!(f35.backlog_as_of.is_some());
    assert_eq!(
        known.lines[0].backlog.provenance,
        Provenance::Assumed,
        "416 is from 2026"
    );
    // On 2025-01-01 the first delivery is a fact: the case is delivering.
    let known = known_cases_scenario(
        &data.template,
        &data.catalog,
        &[polish_f35()],
        date(2025, 1, 1),
    )
    .expect("a scenario");
    assert_eq!(known.scenario.cases[0].stage, Stage::Delivering);
    assert_eq!(known.scenario.cases[0].delivered_units(), 1);
}

#[test]
fn a_known_case_without_any_known_milestone_is_refused() {
    let data = shipped();
    let mut case = polish_f35();
    case.milestones = KnownMilestones::default();
    let error = known_cases_scenario(&data.template, &data.catalog, &[case], date(2025, 1, 1))
        .expect_err("nothing places the case");
    assert!(error.to_string().contains("POL-F35-2020"), "{error}");
}

#[test]
fn an_as_of_date_beyond_the_calendar_is_refused_rather_than_forecast_to_9999() {
    let data = shipped();
    let error = build_demo(
        &data.template,
        &data.catalog,
        &data.notifications,
        &data.timelines,
        date(9999, 6, 1),
    )
    .expect_err("refused");
    assert!(matches!(error, PortfolioError::AsOf { .. }), "{error}");
    assert!(
        error.to_string().contains("as-of date 9999-06-01"),
        "{error}"
    );
}

/// The median of the shipped slip of FMS promises, in days.
fn shipped_promise_slip_median() -> f64 {
    let params = expedite_portfolio::calibrate::Params::shipped().expect("shipped parameters");
    match params.promise_slip(expedite_core::Channel::Fms) {
        Some(expedite_forecast::scenario::RawDist::Normal { median, .. }) => *median,
        other => panic!("the shipped slip of FMS promises is a normal, not {other:?}"),
    }
}

/// Germany's F-35 demo case as of `as_of`, under the shipped calibration, on `timelines`.
fn germanys_f35s(timelines: &[Timeline], as_of: Date) -> expedite_portfolio::demo::CaseResult {
    let data = shipped();
    let params = expedite_portfolio::calibrate::Params::shipped().expect("shipped parameters");
    let (template, _) = data.template.calibrated(&params);
    let portfolio = build_demo(
        &template,
        &data.catalog,
        &data.notifications,
        timelines,
        as_of,
    )
    .expect("demo");
    let outcome = run_demo(&portfolio, "expedite", &RunOptions::default()).expect("runs");
    outcome
        .cases
        .into_iter()
        .find(|result| result.case.id == "DEU-2022-07-28-f35")
        .expect("Germany's F-35s are a demo case")
}

#[test]
fn a_dated_promise_is_a_fact_from_its_day_and_anchors_the_first_delivery() {
    // Germany's F-35s were promised for 2026 (read 2026-07-01) in the statements of
    // 2022-12-14. Under the shipped calibration the first delivery is then the promise plus
    // the fitted slip of FMS promises (a normal): P50 that slip's median after it.
    let slip = shipped_promise_slip_median();
    let timelines = shipped().timelines;
    let before = germanys_f35s(&timelines, date(2022, 12, 13));
    assert_eq!(before.case.facts.promised_first_delivery, None);
    let after = germanys_f35s(&timelines, date(2022, 12, 14));
    assert_eq!(
        after.case.facts.promised_first_delivery,
        Some(date(2026, 7, 1))
    );
    let first = after.base_forecast.first_delivery;
    let days_after_promise = date(2026, 7, 1).until(first.p50).expect("dates").get_days();
    assert!(
        (f64::from(days_after_promise) - slip).abs() <= 15.0,
        "first-delivery P50 {} is {days_after_promise} days after the promise, the slip's \
         median {slip}",
        first.p50
    );
    assert!(first.p90 > first.p50 && first.p10 < first.p50);
}

#[test]
fn an_undated_promise_is_a_fact_once_the_timelines_are_complete() {
    // The same promise with its day unknown: not known as of 2026-01-01, known once the
    // timelines' facts are complete (2026-03-31).
    let mut timelines = shipped().timelines;
    for timeline in &mut timelines {
        if timeline.id == "DEU-F35-2022"
            && let Some(promise) = timeline.promise.as_mut()
        {
            promise.made = None;
        }
    }
    let before = germanys_f35s(&timelines, date(2026, 1, 1));
    assert_eq!(before.case.facts.promised_first_delivery, None);
    let after = germanys_f35s(&timelines, date(2026, 6, 1));
    assert_eq!(
        after.case.facts.promised_first_delivery,
        Some(date(2026, 7, 1))
    );
}
