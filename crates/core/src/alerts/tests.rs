//! Deadline alerts on hand-made cases.

use jiff::civil::date;

use super::*;
use crate::case::{CaseLine, Category};
use crate::country::Country;
use crate::machine::{Event, EventKind, NewCase};
use crate::money::Usd;
use crate::rules::RuleBook;

fn book() -> RuleBook {
    RuleBook::builtin().expect("compiled-in rules parse")
}

fn case(id: &str, unit_dollars: u64, lor: Date, steps: &[(Stage, Date)]) -> Case {
    let book = book();
    let new = NewCase {
        id: CaseId::parse(id).expect("valid id"),
        purchaser: Country::parse("POL").expect("known"),
        agency: Agency::Army,
        channel: Channel::Fms,
        lines: vec![CaseLine {
            item: "PAC-3 MSE interceptor".into(),
            quantity: 2,
            unit_usd: Usd::from_dollars(unit_dollars).expect("small"),
            mde: true,
            category: Category::Article,
            production_line: Some("pac3-mse".into()),
        }],
        lor_received: lor,
        offer_expiration_days: None,
        emergency: false,
        rule_set: None,
    };
    let mut case = Case::open(new, &book).expect("valid case");
    for &(to, day) in steps {
        let event = Event {
            date: day,
            kind: EventKind::Advance { to },
        };
        case = case.apply(&event, &book).expect("a legal event");
    }
    case
}

/// Polish case: LOR 2025-01-01, actionable 01-03, offered `offered`.
fn offered_on(id: &str, offered: Date) -> Case {
    case(
        id,
        1_000_000,
        date(2025, 1, 1),
        &[
            (Stage::LorActionable, date(2025, 1, 3)),
            (Stage::LoaDevelopment, date(2025, 1, 4)),
            (Stage::Offered, offered),
        ],
    )
}

fn kinds(alerts: &[Alert]) -> Vec<(DeadlineKind, AlertStatus, Date)> {
    alerts
        .iter()
        .map(|alert| (alert.kind, alert.status, alert.raised_on))
        .collect()
}

#[test]
fn an_offer_nearing_its_85_day_expiration_raises_a_near_alert() {
    // Offered 2025-01-10: the offer expiration date is 85 days on, 2025-04-05
    // (reference §2.4); the warning comes 14 days before, on 03-22.
    let samm = book().samm().clone();
    let offered = offered_on("PL-B-BAA", date(2025, 1, 10));
    let alerts = deadline_alerts(&offered, &samm, date(2025, 3, 25), DEFAULT_NEAR_DAYS);
    assert_eq!(
        kinds(&alerts),
        vec![(
            DeadlineKind::OfferExpiration,
            AlertStatus::Near,
            date(2025, 3, 22)
        )]
    );
    assert_eq!(alerts[0].due, date(2025, 4, 5));
    assert_eq!(
        alerts[0].message,
        "the offer expires on 2025-04-05, in 14 days, and is not accepted"
    );
    assert_eq!(alerts[0].confidence, Confidence::Confirmed);
    // The day before the warning, nothing.
    assert!(deadline_alerts(&offered, &samm, date(2025, 3, 21), DEFAULT_NEAR_DAYS).is_empty());
}

#[test]
fn nothing_is_raised_since_the_last_look_when_nothing_changed() {
    let samm = book().samm().clone();
    let cases = [offered_on("PL-B-BBA", date(2025, 1, 10))];
    let first = alerts_since(&cases, &samm, date(2025, 3, 25), None, DEFAULT_NEAR_DAYS);
    assert_eq!(first.len(), 1);
    let again = alerts_since(
        &cases,
        &samm,
        date(2025, 3, 30),
        Some(date(2025, 3, 26)),
        DEFAULT_NEAR_DAYS,
    );
    assert!(again.is_empty(), "{again:?}");
}

#[test]
fn an_offer_accepted_in_time_raises_nothing() {
    let samm = book().samm().clone();
    let accepted = case(
        "PL-B-BCA",
        1_000_000,
        date(2025, 1, 1),
        &[
            (Stage::LorActionable, date(2025, 1, 3)),
            (Stage::LoaDevelopment, date(2025, 1, 4)),
            (Stage::Offered, date(2025, 1, 10)),
            (Stage::Implemented, date(2025, 2, 1)),
        ],
    );
    assert!(deadline_alerts(&accepted, &samm, date(2025, 12, 31), DEFAULT_NEAR_DAYS).is_empty());
}

#[test]
fn a_samm_offer_target_missed_raises_near_then_missed() {
    // Actionable 2025-01-03; AOD group B's 100 days (unconfirmed) fall due on 04-13. Still
    // in LOA development on 05-01: warned on 03-30, missed from 04-14.
    let samm = book().samm().clone();
    let waiting = case(
        "PL-B-BDA",
        1_000_000,
        date(2025, 1, 1),
        &[
            (Stage::LorActionable, date(2025, 1, 3)),
            (Stage::LoaDevelopment, date(2025, 1, 4)),
        ],
    );
    let alerts = deadline_alerts(&waiting, &samm, date(2025, 5, 1), DEFAULT_NEAR_DAYS);
    assert_eq!(
        kinds(&alerts),
        vec![
            (
                DeadlineKind::SammOffer,
                AlertStatus::Near,
                date(2025, 3, 30)
            ),
            (
                DeadlineKind::SammOffer,
                AlertStatus::Missed,
                date(2025, 4, 14)
            ),
        ]
    );
    assert_eq!(alerts[1].confidence, Confidence::Unconfirmed);
    assert_eq!(
        alerts[1].message,
        "the SAMM target of 2025-04-13 is missed: 18 days late on 2025-05-01"
    );
}

#[test]
fn a_lor_not_validated_in_five_days_is_missed_without_a_warning() {
    let samm = book().samm().clone();
    let unvalidated = case("PL-B-BEA", 1_000_000, date(2025, 1, 1), &[]);
    let alerts = deadline_alerts(&unvalidated, &samm, date(2025, 1, 10), DEFAULT_NEAR_DAYS);
    assert_eq!(
        kinds(&alerts),
        vec![(
            DeadlineKind::SammLorValidation,
            AlertStatus::Missed,
            date(2025, 1, 7)
        )]
    );
}

#[test]
fn judged_on_a_day_before_the_lor_was_validated_the_target_is_still_missed_not_met_later() {
    // LOR 2025-01-01, validated late on 2025-01-20. Judged on 2025-01-10 the SAMM target of
    // 2025-01-06 is open and missed by 4 days; the later validation is not known yet.
    let samm = book().samm().clone();
    let validated_late = case(
        "PL-B-BEB",
        1_000_000,
        date(2025, 1, 1),
        &[(Stage::LorActionable, date(2025, 1, 20))],
    );
    let then = deadline_alerts(&validated_late, &samm, date(2025, 1, 10), DEFAULT_NEAR_DAYS);
    assert_eq!(then.len(), 1);
    assert_eq!(then[0].resolved_on, None);
    assert_eq!(
        then[0].message,
        "the SAMM target of 2025-01-06 is missed: 4 days late on 2025-01-10"
    );
    let now = deadline_alerts(&validated_late, &samm, date(2025, 2, 1), DEFAULT_NEAR_DAYS);
    assert_eq!(now[0].resolved_on, Some(date(2025, 1, 20)));
    assert_eq!(
        now[0].message,
        "the SAMM target of 2025-01-06 was missed by 14 days (met on 2025-01-20)"
    );
}

#[test]
fn the_end_of_a_congressional_review_is_announced_and_then_overdue() {
    // 2 × $60M MDE for Poland: notified 2025-03-03, NATO+5 review of 15 days, offer
    // allowed from 03-18; still not offered on 04-01.
    let samm = book().samm().clone();
    let notified = case(
        "PL-B-BFA",
        60_000_000,
        date(2025, 1, 6),
        &[
            (Stage::LorActionable, date(2025, 1, 8)),
            (Stage::LoaDevelopment, date(2025, 1, 10)),
            (Stage::CongressionalReview, date(2025, 3, 3)),
        ],
    );
    let alerts: Vec<Alert> = deadline_alerts(&notified, &samm, date(2025, 4, 1), DEFAULT_NEAR_DAYS)
        .into_iter()
        .filter(|alert| alert.kind == DeadlineKind::ReviewPeriod)
        .collect();
    assert_eq!(
        kinds(&alerts),
        vec![
            (
                DeadlineKind::ReviewPeriod,
                AlertStatus::Near,
                date(2025, 3, 4)
            ),
            (
                DeadlineKind::ReviewPeriod,
                AlertStatus::Missed,
                date(2025, 3, 19)
            ),
        ]
    );
    assert_eq!(alerts[0].due, date(2025, 3, 18));
}

#[test]
fn a_cancelled_case_raises_nothing_after_it_ended() {
    let samm = book().samm().clone();
    let cancelled = case(
        "PL-B-BGA",
        1_000_000,
        date(2025, 1, 1),
        &[
            (Stage::LorActionable, date(2025, 1, 3)),
            (Stage::Cancelled, date(2025, 2, 1)),
        ],
    );
    assert!(deadline_alerts(&cancelled, &samm, date(2025, 12, 31), DEFAULT_NEAR_DAYS).is_empty());
}
