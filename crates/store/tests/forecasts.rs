//! Kept forecasts (migration 0003) and the forecast alerts over them, on every backend:
//! SQLite always, PostgreSQL when `EXPEDITE_TEST_PG_URL` is set (required under `CI=true`).

mod support;

use expedite_core::RuleBook;
use expedite_core::forecast_alerts::{
    DEFAULT_THRESHOLD_DAYS, ForecastAlertKind, ForecastSnapshot, LineInputs, LineQueue, QueuePlace,
    RateStep, SnapshotInputs,
};
use expedite_core::{Agency, CaseId, Country, Date, Event, EventKind, Percentiles, Stage};
use expedite_store::history::{AlertWindow, every_alert_for};
use expedite_store::{Scope, Store, StoredCase};
use support::{author, for_each_backend, new_case};

fn day(text: &str) -> Date {
    text.parse().expect("test date")
}

/// The forecast alerts of the cases in `scope` raised from `since` (if given) to `until`.
async fn forecast_alerts_for(
    store: &dyn Store,
    scope: Scope,
    since: Option<Date>,
    until: Date,
) -> Vec<expedite_core::forecast_alerts::ForecastAlert> {
    let rules = RuleBook::builtin().expect("rules");
    let window = AlertWindow {
        today: until,
        since,
        near_days: 14,
        threshold_days: DEFAULT_THRESHOLD_DAYS,
    };
    let (_, forecast_alerts) = every_alert_for(store, scope, rules.samm(), window)
        .await
        .expect("alerts");
    forecast_alerts
}

fn band(p50: &str) -> Percentiles {
    Percentiles {
        p10: day("2027-01-01"),
        p50: day(p50),
        p90: day("2029-12-31"),
    }
}

/// Opens the Polish case PL-B-ZAB, the case of every [`snapshot`].
async fn open_polish_case(store: &dyn Store) -> StoredCase {
    store
        .open_case(new_case("PL-B-ZAB", "POL", "army"), &author("alice"))
        .await
        .expect("open")
}

/// Keeps one forecast; returns the rows it added (0 when it says nothing new).
async fn keep(store: &dyn Store, snapshot: &ForecastSnapshot) -> usize {
    store
        .append_forecast_snapshots(std::slice::from_ref(snapshot))
        .await
        .expect("append")
}

/// A forecast of the Polish case as of `as_of`, with its final delivery's P50 and the
/// line's rate.
fn snapshot(as_of: &str, final_p50: &str, per_year: f64) -> ForecastSnapshot {
    ForecastSnapshot {
        case: CaseId::parse("PL-B-ZAB").expect("id"),
        purchaser: Country::parse("POL").expect("known"),
        agency: Agency::Army,
        computed_at: format!("{as_of}T06:00:00Z").parse().expect("timestamp"),
        as_of: day(as_of),
        first_delivery: band("2027-06-01"),
        final_delivery: band(final_p50),
        queues: vec![LineQueue {
            line: "lm-camden-pac3".to_owned(),
            place: Some(QueuePlace {
                position: 1,
                tier: 1,
                order_date: day("2025-06-01"),
                units_ahead: 500,
                other_units_ahead: 500,
            }),
            cases: Vec::new(),
        }],
        inputs: SnapshotInputs {
            stage: Stage::OnContract,
            milestones: Vec::new(),
            delivered: 0,
            tier: 1,
            promised_first_delivery: None,
            lines: vec![LineInputs {
                line: "lm-camden-pac3".to_owned(),
                rate: vec![RateStep {
                    from: day("2024-01-01"),
                    per_year,
                }],
                backlog: 500,
            }],
        },
    }
}

#[tokio::test]
async fn kept_forecasts_round_trip_and_an_unchanged_recompute_adds_no_row() {
    for_each_backend(|db| async move {
        let store = &db.store;
        open_polish_case(store).await;
        let first = snapshot("2026-11-01", "2028-03-01", 650.0);
        assert_eq!(keep(store, &first).await, 1);
        // The same forecast a day later: nothing new to keep.
        let same = snapshot("2026-11-02", "2028-03-01", 650.0);
        assert_eq!(keep(store, &same).await, 0);
        let cut = snapshot("2026-11-03", "2028-09-01", 400.0);
        assert_eq!(keep(store, &cut).await, 1);
        let kept = store
            .forecast_snapshots(Scope::All, None)
            .await
            .expect("read");
        assert_eq!(kept, [first, cut]);
        let poland = Scope::Purchaser(Country::parse("POL").expect("known"));
        let germany = Scope::Purchaser(Country::parse("DEU").expect("known"));
        assert_eq!(
            store
                .forecast_snapshots(poland, None)
                .await
                .expect("read")
                .len(),
            2
        );
        assert!(
            store
                .forecast_snapshots(germany, None)
                .await
                .expect("read")
                .is_empty()
        );
    })
    .await;
}

#[tokio::test]
async fn a_forecast_kept_for_an_earlier_day_takes_its_place_by_day_and_is_compared_with_the_day_before()
 {
    // Forecasts of 2026-11-01 and 2026-11-03 are kept; then `expedite alerts --refresh
    // --as-of` a past day keeps one of 2026-10-15 with an earlier final delivery. The history
    // reads in the order of the days, and each alert compares a forecast with the one made for
    // the day before it.
    for_each_backend(|db| async move {
        let store = &db.store;
        open_polish_case(store).await;
        let november = snapshot("2026-11-01", "2028-03-01", 650.0);
        let cut = snapshot("2026-11-03", "2028-09-01", 400.0);
        keep(store, &november).await;
        keep(store, &cut).await;
        let october = snapshot("2026-10-15", "2027-09-01", 650.0);
        assert_eq!(keep(store, &october).await, 1);
        // The same forecast for the next day says nothing new against its day's predecessor.
        let again = snapshot("2026-10-16", "2027-09-01", 650.0);
        assert_eq!(keep(store, &again).await, 0);
        let kept = store
            .forecast_snapshots(Scope::All, None)
            .await
            .expect("read");
        assert_eq!(kept, [october, november, cut]);
        let alerts = forecast_alerts_for(store, Scope::All, None, day("2026-11-30")).await;
        let moved: Vec<(String, Option<i64>)> = alerts
            .iter()
            .filter(|alert| alert.kind == ForecastAlertKind::P50Moved)
            .map(|alert| (alert.raised_on.to_string(), alert.moved))
            .collect();
        // Newest first: the rate cut of 2026-11-03, then 2026-10-15 -> 2026-11-01 (182 days
        // later); nothing is compared backwards in time.
        assert_eq!(
            moved,
            [
                ("2026-11-03".to_owned(), Some(184)),
                ("2026-11-01".to_owned(), Some(182)),
            ]
        );
    })
    .await;
}

#[tokio::test]
async fn a_rate_cut_between_kept_forecasts_raises_an_alert_seen_only_in_the_cases_scope() {
    for_each_backend(|db| async move {
        let store = &db.store;
        open_polish_case(store).await;
        store
            .append_forecast_snapshots(&[
                snapshot("2026-11-01", "2028-03-01", 650.0),
                snapshot("2026-11-03", "2028-09-01", 400.0),
            ])
            .await
            .expect("append");
        let until = day("2026-11-30");
        let poland = Scope::Purchaser(Country::parse("POL").expect("known"));
        let alerts = forecast_alerts_for(store, poland, None, until).await;
        assert_eq!(alerts.len(), 1, "{alerts:#?}");
        assert_eq!(alerts[0].kind, ForecastAlertKind::P50Moved);
        assert_eq!(alerts[0].moved, Some(184));
        assert_eq!(
            alerts[0].why,
            "line lm-camden-pac3's known rate steps changed: from 2024-01-01, 650 → 400 a year"
        );
        let germany = Scope::Purchaser(Country::parse("DEU").expect("known"));
        let none = forecast_alerts_for(store, germany, None, until).await;
        assert!(none.is_empty());
        let since_after =
            forecast_alerts_for(store, Scope::All, Some(day("2026-11-04")), until).await;
        assert!(since_after.is_empty());
    })
    .await;
}

#[tokio::test]
async fn a_prioritise_event_is_kept_in_the_verified_history_and_sets_the_tier() {
    for_each_backend(|db| async move {
        let store = &db.store;
        let opened = open_polish_case(store).await;
        let prioritised = store
            .append_event(
                &opened.case.id,
                1,
                Event {
                    date: day("2025-01-05"),
                    kind: EventKind::Prioritise { tier: 0 },
                },
                &author("dsca"),
            )
            .await
            .expect("prioritise");
        assert_eq!(prioritised.case.tier(), 0);
        assert_eq!(prioritised.case.stage, Stage::LorReceived);
        let verification = store.verify(&opened.case.id).await.expect("verify");
        assert!(verification.valid, "{verification:?}");
        assert!(store.verify_all().await.expect("verify all").valid);
    })
    .await;
}
