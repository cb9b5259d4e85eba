//! Forecast alerts on hand-made snapshots: one input changes between two forecasts.

use jiff::civil::date;

use super::*;

fn band(p50: Date) -> Percentiles {
    Percentiles {
        p10: p50.saturating_sub(jiff::Span::new().days(60)),
        p50,
        p90: p50.saturating_add(jiff::Span::new().days(120)),
    }
}

/// The Swiss case CH-B-PAT, on contract 2025-03-01 at the default tier, on line pac3-mse
/// building 600 a year, with the Polish case PL-B-ZAB (ordered later) behind it.
fn swiss_snapshot() -> ForecastSnapshot {
    ForecastSnapshot {
        case: CaseId::parse("CH-B-PAT").expect("valid id"),
        purchaser: Country::parse("CHE").expect("known"),
        agency: Agency::Army,
        computed_at: "2026-11-01T06:00:00Z".parse().expect("timestamp"),
        as_of: date(2026, 11, 1),
        first_delivery: band(date(2027, 6, 1)),
        final_delivery: band(date(2028, 3, 1)),
        queues: vec![LineQueue {
            line: "pac3-mse".to_owned(),
            place: Some(QueuePlace {
                position: 1,
                tier: 1,
                order_date: date(2025, 3, 1),
                units_ahead: 300,
                other_units_ahead: 300,
            }),
            cases: vec![QueuedCase {
                case: "PL-B-ZAB".to_owned(),
                tier: 1,
                order_date: date(2025, 6, 1),
                units: 48,
                ahead: false,
            }],
        }],
        inputs: SnapshotInputs {
            stage: Stage::OnContract,
            milestones: vec![Milestone {
                stage: Stage::OnContract,
                date: date(2025, 3, 1),
            }],
            delivered: 0,
            tier: 1,
            promised_first_delivery: None,
            lines: vec![LineInputs {
                line: "pac3-mse".to_owned(),
                rate: vec![RateStep {
                    from: date(2024, 1, 1),
                    per_year: 600.0,
                }],
                backlog: 300,
            }],
        },
    }
}

/// The same forecast computed a day later.
fn next_day(snapshot: &ForecastSnapshot) -> ForecastSnapshot {
    let mut next = snapshot.clone();
    next.computed_at = "2026-11-02T06:00:00Z".parse().expect("timestamp");
    next.as_of = date(2026, 11, 2);
    next
}

/// The next day's forecast after PL-B-ZAB went to tier 0: it moves ahead of the Swiss case,
/// which is second in the queue with PL-B-ZAB's 48 units ahead besides the backlog.
fn polish_case_moved_to_tier_0(before: &ForecastSnapshot) -> ForecastSnapshot {
    let mut after = next_day(before);
    let queue = &mut after.queues[0];
    queue.cases[0].tier = 0;
    queue.cases[0].ahead = true;
    if let Some(place) = queue.place.as_mut() {
        place.position = 2;
        place.units_ahead = 348;
    }
    after
}

#[test]
fn nothing_changed_raises_no_alert_and_says_the_same() {
    let before = swiss_snapshot();
    let after = next_day(&before);
    assert!(compare(&before, &after, DEFAULT_THRESHOLD_DAYS).is_empty());
    assert!(after.says_the_same_as(&before));
}

#[test]
fn a_rate_cut_that_moves_the_p50_past_the_threshold_raises_p50_moved_naming_the_line() {
    let before = swiss_snapshot();
    let mut after = next_day(&before);
    after.inputs.lines[0].rate[0].per_year = 400.0;
    after.first_delivery = band(date(2027, 8, 15));
    after.final_delivery = band(date(2028, 3, 20));
    let alerts = compare(&before, &after, DEFAULT_THRESHOLD_DAYS);
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let alert = &alerts[0];
    assert_eq!(alert.kind, ForecastAlertKind::P50Moved);
    assert_eq!(alert.subject, "first_delivery");
    assert_eq!(alert.moved, Some(75));
    assert_eq!(alert.raised_on, date(2026, 11, 2));
    assert_eq!(alert.purchaser, "CHE");
    assert_eq!(
        alert.message,
        "P50 of the first delivery moved 75 days later: 2027-06-01 → 2027-08-15 (P10–P90 now 2027-06-16 to 2027-12-13)"
    );
    assert_eq!(
        alert.why,
        "line pac3-mse's known rate steps changed: from 2024-01-01, 600 → 400 a year"
    );
    assert_eq!(
        alert.id,
        "CH-B-PAT/p50_moved/first_delivery/2026-11-02T06:00:00Z"
    );
}

#[test]
fn a_move_of_exactly_the_threshold_raises_nothing() {
    let before = swiss_snapshot();
    let mut after = next_day(&before);
    after.final_delivery = band(date(2028, 3, 31));
    assert!(compare(&before, &after, 30).is_empty());
    assert_eq!(compare(&before, &after, 29).len(), 1);
}

#[test]
fn a_tier_change_that_moves_another_case_ahead_names_it_and_the_tier_rule() {
    let before = swiss_snapshot();
    let mut after = polish_case_moved_to_tier_0(&before);
    after.first_delivery = band(date(2027, 8, 1));
    let alerts = compare(&before, &after, DEFAULT_THRESHOLD_DAYS);
    let kinds: Vec<ForecastAlertKind> = alerts.iter().map(|alert| alert.kind).collect();
    assert_eq!(
        kinds,
        [ForecastAlertKind::P50Moved, ForecastAlertKind::QueueChanged]
    );
    assert_eq!(
        alerts[0].why,
        "PL-B-ZAB's tier on line pac3-mse went from 1 to 0"
    );
    let queue_alert = &alerts[1];
    assert_eq!(queue_alert.subject, "pac3-mse");
    assert_eq!(queue_alert.moved, Some(1));
    assert_eq!(
        queue_alert.message,
        "position in the queue of line pac3-mse 1 → 2 (348 units ahead, was 300); PL-B-ZAB moved ahead of it"
    );
    assert_eq!(
        queue_alert.why,
        "PL-B-ZAB is tier 0, this case tier 1: the lower tier goes first (PL-B-ZAB's tier went from 1 to 0)"
    );
}

#[test]
fn a_new_case_ordered_earlier_names_the_order_date_rule() {
    let before = swiss_snapshot();
    let mut after = next_day(&before);
    let queue = &mut after.queues[0];
    queue.cases.insert(
        0,
        QueuedCase {
            case: "DE-B-AAA".to_owned(),
            tier: 1,
            order_date: date(2025, 1, 10),
            units: 10,
            ahead: true,
        },
    );
    let alerts = compare(&before, &after, DEFAULT_THRESHOLD_DAYS);
    assert_eq!(alerts.len(), 1);
    assert_eq!(
        alerts[0].why,
        "DE-B-AAA and this case are both tier 1; DE-B-AAA was ordered on 2025-01-10, this case on 2025-03-01: within a tier the earlier order goes first (DE-B-AAA is new in the queue)"
    );
}

#[test]
fn a_case_ahead_leaving_the_queue_raises_no_queue_alert() {
    let mut before = swiss_snapshot();
    before.queues[0].cases[0].ahead = true;
    let mut after = next_day(&before);
    after.queues[0].cases.clear();
    assert!(compare(&before, &after, DEFAULT_THRESHOLD_DAYS).is_empty());
}

#[test]
fn a_case_going_on_contract_takes_its_place_with_an_alert() {
    let mut before = swiss_snapshot();
    before.queues[0].place = None;
    let after = next_day(&swiss_snapshot());
    let alerts = compare(&before, &after, DEFAULT_THRESHOLD_DAYS);
    assert_eq!(alerts.len(), 1);
    assert_eq!(
        alerts[0].message,
        "took its place in the queue of line pac3-mse: position 1, 300 units ahead"
    );
}

#[test]
fn alerts_keep_each_cases_history_apart_put_the_newest_first_and_keep_to_their_window() {
    let first = swiss_snapshot();
    let mut later = next_day(&first);
    later.final_delivery = band(date(2028, 9, 1));
    let mut other = swiss_snapshot();
    other.case = CaseId::parse("PL-B-ZAB").expect("valid id");
    other.final_delivery = band(date(2030, 1, 1));
    // Another case's snapshot right after this one's is not compared with it.
    let snapshots = [first.clone(), later.clone(), other];
    let window = |since, until| Raised { since, until };
    let every_day = window(None, later.as_of);
    let alerts = alerts_raised(&snapshots, DEFAULT_THRESHOLD_DAYS, every_day);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].case.as_str(), "CH-B-PAT");
    let after = window(Some(date(2026, 11, 3)), date(2026, 12, 31));
    assert!(alerts_raised(&snapshots, DEFAULT_THRESHOLD_DAYS, after).is_empty());
    let before = window(None, later.as_of.yesterday().expect("a day before"));
    assert!(alerts_raised(&snapshots, DEFAULT_THRESHOLD_DAYS, before).is_empty());
    let on_the_day = window(Some(later.as_of), later.as_of);
    assert_eq!(
        alerts_raised(&snapshots, DEFAULT_THRESHOLD_DAYS, on_the_day).len(),
        1
    );
}

#[test]
fn a_purchaser_is_told_another_country_moved_ahead_but_not_which_case() {
    let before = swiss_snapshot();
    let after = polish_case_moved_to_tier_0(&before);
    let alerts = compare(&before, &after, DEFAULT_THRESHOLD_DAYS);
    let snapshots = [before, after];
    let hidden = hide_cases(alerts.clone(), &snapshots, |id| id != "PL-B-ZAB");
    let queue_alert = hidden
        .iter()
        .find(|alert| alert.kind == ForecastAlertKind::QueueChanged)
        .expect("raised");
    assert_eq!(
        queue_alert.why,
        "another purchaser's case is tier 0, this case tier 1: the lower tier goes first \
         (another purchaser's case's tier went from 1 to 0)"
    );
    assert!(
        hidden
            .iter()
            .all(|alert| !alert.message.contains("PL-B-ZAB"))
    );
    assert_eq!(hide_cases(alerts.clone(), &snapshots, |_| true), alerts);
}

#[test]
fn a_promise_recorded_that_moves_the_p50_raises_p50_moved_naming_the_promise() {
    // The Swiss case is promised its first Patriots for 2028-06-30: its forecast is drawn
    // from the promise and moves the first-delivery P50 622 days later.
    let before = swiss_snapshot();
    let mut after = next_day(&before);
    after.inputs.promised_first_delivery = Some(date(2028, 6, 30));
    after.first_delivery = band(date(2029, 2, 12));
    let alerts = compare(&before, &after, DEFAULT_THRESHOLD_DAYS);
    assert_eq!(alerts.len(), 2, "{alerts:#?}");
    assert_eq!(alerts[0].kind, ForecastAlertKind::P50Moved);
    assert_eq!(alerts[0].subject, "first_delivery");
    assert_eq!(
        alerts[0].why,
        "the first delivery promised went from none to 2028-06-30"
    );
    // Its P50 is after the promise from the start: the promise is at risk as soon as made.
    assert_eq!(alerts[1].kind, ForecastAlertKind::PromiseAtRisk);
    assert!(!after.says_the_same_as(&before));
    let json = serde_json::to_string(&before.inputs).expect("serialises");
    assert!(
        !json.contains("promised"),
        "a case without a promise keeps its bytes: {json}"
    );
}

/// The Swiss case promised its first Patriots for 2027-09-01, with a first-delivery P50 of
/// 2027-06-01 (before the promise).
fn swiss_promised_for_september_2027() -> ForecastSnapshot {
    let mut snapshot = swiss_snapshot();
    snapshot.inputs.promised_first_delivery = Some(date(2027, 9, 1));
    snapshot
}

#[test]
fn a_first_delivery_p50_that_passes_the_promise_raises_promise_at_risk_with_the_days_after_it() {
    let before = swiss_promised_for_september_2027();
    // The next day's forecast puts the P50 on 2027-10-31 after a rate cut: 60 days late.
    let mut after = next_day(&before);
    after.first_delivery = band(date(2027, 10, 31));
    after.inputs.lines[0].rate[0].per_year = 300.0;
    let alerts = compare(&before, &after, DEFAULT_THRESHOLD_DAYS);
    let at_risk: Vec<&ForecastAlert> = alerts
        .iter()
        .filter(|alert| alert.kind == ForecastAlertKind::PromiseAtRisk)
        .collect();
    assert_eq!(at_risk.len(), 1, "{alerts:#?}");
    let alert = at_risk[0];
    assert_eq!(alert.moved, Some(60));
    assert_eq!(alert.direction(), "after_promise");
    assert_eq!(
        alert.id,
        "CH-B-PAT/promise_at_risk/first_delivery/2026-11-02T06:00:00Z"
    );
    assert_eq!(
        alert.message,
        "the first delivery promised for 2027-09-01 is now more likely missed than kept: P50 2027-10-31 is 60 days after it (P10–P90 2027-09-01 to 2028-02-28)"
    );
    assert!(
        alert
            .why
            .contains("line pac3-mse's known rate steps changed"),
        "{}",
        alert.why
    );
}

#[test]
fn a_p50_on_or_before_the_promise_raises_no_promise_alert() {
    let before = swiss_promised_for_september_2027();
    let mut after = next_day(&before);
    after.first_delivery = band(date(2027, 9, 1));
    let alerts = compare(&before, &after, DEFAULT_THRESHOLD_DAYS);
    let kinds: Vec<ForecastAlertKind> = alerts.iter().map(|alert| alert.kind).collect();
    assert_eq!(
        kinds,
        [ForecastAlertKind::P50Moved],
        "on the promised day: kept as likely as not"
    );
}

#[test]
fn a_promise_already_at_risk_is_not_raised_again_until_a_new_promise_is_behind_the_p50() {
    let mut before = swiss_promised_for_september_2027();
    before.first_delivery = band(date(2027, 10, 31));
    let mut after = next_day(&before);
    after.first_delivery = band(date(2027, 11, 20));
    assert!(
        compare(&before, &after, DEFAULT_THRESHOLD_DAYS)
            .iter()
            .all(|alert| alert.kind != ForecastAlertKind::PromiseAtRisk),
        "still at risk: no new alert for the same promise"
    );
    // A revised promise, 2027-10-01, that the P50 is also after: at risk again.
    after.inputs.promised_first_delivery = Some(date(2027, 10, 1));
    let alerts = compare(&before, &after, DEFAULT_THRESHOLD_DAYS);
    let at_risk = alerts
        .iter()
        .find(|alert| alert.kind == ForecastAlertKind::PromiseAtRisk)
        .expect("a new promise already behind the P50");
    assert_eq!(at_risk.moved, Some(50));
    assert!(
        at_risk
            .why
            .contains("the first delivery promised went from 2027-09-01 to 2027-10-01"),
        "{}",
        at_risk.why
    );
}

#[test]
fn a_case_with_a_delivery_recorded_raises_no_promise_alert_its_first_delivery_is_a_fact() {
    let before = swiss_promised_for_september_2027();
    let mut after = next_day(&before);
    after.inputs.delivered = 8;
    after.first_delivery = Percentiles {
        p10: date(2027, 10, 31),
        p50: date(2027, 10, 31),
        p90: date(2027, 10, 31),
    };
    assert!(
        compare(&before, &after, DEFAULT_THRESHOLD_DAYS)
            .iter()
            .all(|alert| alert.kind != ForecastAlertKind::PromiseAtRisk)
    );
}
