//! Quarterly metrics and deadline alerts read back from a store seeded with hand-made cases
//! whose phase durations are known, on SQLite and (with `EXPEDITE_TEST_PG_URL`)
//! PostgreSQL.

mod support;

use expedite_core::metrics::{Phase, PhaseMetrics, Quarter};
use expedite_core::{Country, Date, Event, EventKind, NewCase, RuleBook, Stage};
use expedite_store::history::{self, MetricsQuery};
use expedite_store::{Author, Scope, Store};
use support::for_each_backend;

fn day(text: &str) -> Date {
    text.parse().expect("test date")
}

/// A writer recording at noon UTC on `date`.
fn recorded_on(date: &str) -> Author {
    let at = day(date)
        .at(12, 0, 0, 0)
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .expect("a valid time")
        .timestamp();
    Author {
        name: "seed".into(),
        at,
    }
}

/// Two units at $1M: below every AECA §36(b) threshold, so no congressional review.
fn small_case(id: &str, purchaser: &str, lor: &str) -> NewCase {
    serde_json::from_value(serde_json::json!({
        "id": id, "purchaser": purchaser, "agency": "army", "lor_received": lor,
        "lines": [{"item": "PAC-3 MSE interceptor", "quantity": 2, "unit_usd": 1_000_000,
                   "mde": true, "production_line": "pac3-mse"}]
    }))
    .expect("test case")
}

/// Opens a case and takes it to `offered`: actionable 5 days after the LOR, offered on
/// `offered`, the offer recorded on `offer_recorded`.
async fn seed_offered(
    store: &dyn Store,
    id: &str,
    purchaser: &str,
    lor: &str,
    offered: &str,
    offer_recorded: &str,
) {
    let lor_day = day(lor);
    let actionable = lor_day.saturating_add(jiff::Span::new().days(5));
    let development = lor_day.saturating_add(jiff::Span::new().days(6));
    store
        .open_case(small_case(id, purchaser, lor), &recorded_on(lor))
        .await
        .expect("open");
    let case = expedite_core::CaseId::parse(id).expect("case id");
    let steps = [
        (actionable, Stage::LorActionable, actionable),
        (development, Stage::LoaDevelopment, development),
        (day(offered), Stage::Offered, day(offer_recorded)),
    ];
    for (version, (date, to, recorded)) in (1..).zip(steps) {
        let event = Event {
            date,
            kind: EventKind::Advance { to },
        };
        store
            .append_event(&case, version, event, &recorded_on(&recorded.to_string()))
            .await
            .expect("legal event");
    }
}

/// Four offers in 2025-Q1 after 100, 120, 140 (Germany) and 300 days; a fifth Polish LOR of
/// 2025-01-01 still waits. The 120-day offer of 2025-02-03 was recorded on 2025-03-20, 45
/// days late.
async fn seed(store: &dyn Store) {
    seed_offered(
        store,
        "PL-B-CAA",
        "POL",
        "2024-10-12",
        "2025-01-20",
        "2025-01-20",
    )
    .await;
    seed_offered(
        store,
        "PL-B-CAB",
        "POL",
        "2024-10-06",
        "2025-02-03",
        "2025-03-20",
    )
    .await;
    seed_offered(
        store,
        "GM-B-CAC",
        "DEU",
        "2024-09-30",
        "2025-02-17",
        "2025-02-17",
    )
    .await;
    seed_offered(
        store,
        "PL-B-CAD",
        "POL",
        "2024-06-04",
        "2025-03-31",
        "2025-03-31",
    )
    .await;
    store
        .open_case(
            small_case("PL-B-CAE", "POL", "2025-01-01"),
            &recorded_on("2025-01-01"),
        )
        .await
        .expect("open");
}

fn query(by: Option<expedite_core::metrics::GroupBy>) -> MetricsQuery {
    MetricsQuery {
        from: Some(Quarter::parse("2025-Q1").expect("quarter")),
        to: Some(Quarter::parse("2025-Q1").expect("quarter")),
        by,
        as_of: day("2025-06-30"),
    }
}

fn lor_to_offer<'a>(rows: &'a [PhaseMetrics], group: Option<&str>) -> Option<&'a PhaseMetrics> {
    rows.iter()
        .find(|row| row.phase == Phase::LorToOffer && row.group.as_deref() == group)
}

#[tokio::test]
async fn metrics_from_the_store_give_known_medians_p90_on_time_share_and_censored_open_cases() {
    for_each_backend(|db| async move {
        seed(&db.store).await;
        let samm = RuleBook::builtin().expect("rules").samm().clone();
        let report = history::metrics_for(&db.store, Scope::All, &query(None), &samm)
            .await
            .expect("metrics");
        let all = lor_to_offer(&report.quarters, None).expect("aggregate row");
        assert_eq!(all.completed, 4);
        assert_eq!(all.median_days, Some(120));
        assert_eq!(all.p90_days, Some(300));
        // Only the 100-day offer beat AOD group B's 100 days from the actionable LOR.
        assert_eq!(all.on_time_share, Some(0.25));
        // The waiting LOR is censored at 2025-03-31, 89 days old, not dropped.
        assert_eq!((all.open_at_end, all.open_median_age_days), (1, Some(89)));
        // The late offer counts on its own date (2025-02-03, in Q1), and is counted as
        // recorded late: 4 cases × 4 events + 1 opening.
        assert_eq!(report.events, 17);
        assert_eq!(report.late_recorded_events, 1);
        assert!(report.quarters.iter().all(|row| row.group.is_none()));
    })
    .await;
}

#[tokio::test]
async fn a_purchaser_sees_its_own_figures_and_the_all_country_aggregate_only() {
    for_each_backend(|db| async move {
        seed(&db.store).await;
        let samm = RuleBook::builtin().expect("rules").samm().clone();
        let poland = Scope::Purchaser(Country::from_iso3("POL").expect("country"));
        let report = history::metrics_for(&db.store, poland, &query(None), &samm)
            .await
            .expect("metrics");
        assert_eq!(
            lor_to_offer(&report.quarters, None).map(|row| row.completed),
            Some(4),
            "the aggregate covers every country"
        );
        let own = lor_to_offer(&report.quarters, Some("POL")).expect("own row");
        assert_eq!(
            (own.completed, own.median_days, own.p90_days),
            (3, Some(120), Some(300))
        );
        assert_eq!(own.on_time_share, Some(0.333));
        assert!(
            report
                .quarters
                .iter()
                .all(|row| row.group.is_none() || row.group.as_deref() == Some("POL")),
            "no other country's rows"
        );
        // Grouped another way, still only Polish cases behind the groups.
        let by_line = history::metrics_for(
            &db.store,
            poland,
            &query(Some(expedite_core::metrics::GroupBy::Line)),
            &samm,
        )
        .await
        .expect("metrics");
        let line = lor_to_offer(&by_line.quarters, Some("pac3-mse")).expect("line row");
        assert_eq!(line.completed, 3);
        // Events and late recordings are counted over the purchaser's own cases.
        assert_eq!((report.events, report.late_recorded_events), (13, 1));
    })
    .await;
}

/// The deadline alerts of the cases in `scope` judged on `today`, raised from `since`.
async fn deadline_alerts(
    store: &dyn Store,
    scope: Scope,
    today: Date,
    since: Option<Date>,
) -> Vec<expedite_core::alerts::Alert> {
    let rules = RuleBook::builtin().expect("rules");
    let window = history::AlertWindow {
        today,
        since,
        near_days: 14,
        threshold_days: expedite_core::forecast_alerts::DEFAULT_THRESHOLD_DAYS,
    };
    let (deadlines, _) = history::every_alert_for(store, scope, rules.samm(), window)
        .await
        .expect("alerts");
    deadlines
}

#[tokio::test]
async fn deadline_alerts_are_scoped_to_the_callers_cases() {
    for_each_backend(|db| async move {
        seed(&db.store).await;
        let today = day("2025-04-20");
        let all = deadline_alerts(&db.store, Scope::All, today, None).await;
        // Germany's offer of 2025-02-17 expires on 05-13 (85 days): warned from 04-29, not
        // yet. Poland's of 01-20 expires on 04-15 and was not accepted: missed.
        assert!(all.iter().any(|alert| alert.case.as_str() == "PL-B-CAA"
            && alert.kind == expedite_core::alerts::DeadlineKind::OfferExpiration
            && alert.status == expedite_core::alerts::AlertStatus::Missed));
        let germany = Scope::Purchaser(Country::from_iso3("DEU").expect("country"));
        let own = deadline_alerts(&db.store, germany, today, None).await;
        assert!(own.iter().all(|alert| alert.purchaser == "DEU"));
        let since = deadline_alerts(&db.store, Scope::All, today, Some(today)).await;
        assert!(since.is_empty(), "nothing became true on 04-20: {since:?}");
    })
    .await;
}

#[tokio::test]
async fn the_newest_recording_is_the_last_day_an_event_of_a_case_in_scope_was_recorded() {
    for_each_backend(|db| async move {
        let empty = history::newest_recording(&db.store, Scope::All).await;
        assert_eq!(empty.expect("read"), None);
        seed(&db.store).await;
        // PL-B-CAD's offer, recorded on 2025-03-31, is the newest; Germany's own newest is
        // its offer, recorded on 2025-02-17.
        let all = history::newest_recording(&db.store, Scope::All).await;
        assert_eq!(all.expect("read"), Some(day("2025-03-31")));
        let germany = Scope::Purchaser(Country::from_iso3("DEU").expect("country"));
        let own = history::newest_recording(&db.store, germany).await;
        assert_eq!(own.expect("read"), Some(day("2025-02-17")));
    })
    .await;
}
