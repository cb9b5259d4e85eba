//! Stage-machine tests: each rule of the module doc, and invariants over random events.

use jiff::civil::date;
use proptest::prelude::*;

use super::*;
use crate::case::Category;
use crate::money::Usd;

fn book() -> RuleBook {
    RuleBook::builtin().expect("compiled-in rules parse")
}

fn line(quantity: u32, unit_dollars: u64) -> CaseLine {
    CaseLine {
        item: "PAC-3 MSE interceptor".into(),
        quantity,
        unit_usd: Usd::from_dollars(unit_dollars).expect("small"),
        mde: true,
        category: Category::Article,
        production_line: Some("pac3-mse".into()),
    }
}

fn open(purchaser: &str, lines: Vec<CaseLine>) -> Case {
    let new = NewCase {
        id: CaseId::parse("PL-B-ZAB").expect("valid id"),
        purchaser: Country::parse(purchaser).expect("known"),
        agency: Agency::Army,
        channel: Channel::Fms,
        lines,
        lor_received: date(2024, 1, 10),
        offer_expiration_days: None,
        emergency: false,
        rule_set: None,
    };
    Case::open(new, &book()).expect("valid case")
}

fn advance(to: Stage, day: Date) -> Event {
    Event {
        date: day,
        kind: EventKind::Advance { to },
    }
}

fn deliver(line: usize, quantity: u32, day: Date) -> Event {
    Event {
        date: day,
        kind: EventKind::Deliver { line, quantity },
    }
}

fn run(case: &Case, events: &[Event]) -> Result<Case, TransitionError> {
    events
        .iter()
        .try_fold(case.clone(), |case, event| case.apply(event, &book()))
}

/// A $240M Polish PAC-3 case (48 × $5M): above the NATO+5 $25M MDE threshold.
fn notified_polish_case_offered() -> Case {
    let case = open("POL", vec![line(48, 5_000_000)]);
    run(
        &case,
        &[
            advance(Stage::LorActionable, date(2024, 1, 15)),
            advance(Stage::LoaDevelopment, date(2024, 1, 20)),
            advance(Stage::CongressionalReview, date(2024, 6, 1)),
            advance(Stage::Offered, date(2024, 6, 16)),
        ],
    )
    .expect("valid path")
}

#[test]
fn a_notified_case_is_offered_on_the_day_review_ends_and_not_before() {
    let case = open("POL", vec![line(48, 5_000_000)]);
    let in_review = run(
        &case,
        &[
            advance(Stage::LorActionable, date(2024, 1, 15)),
            advance(Stage::LoaDevelopment, date(2024, 1, 20)),
            advance(Stage::CongressionalReview, date(2024, 6, 1)),
        ],
    )
    .expect("valid path");
    let early = in_review
        .apply(&advance(Stage::Offered, date(2024, 6, 15)), &book())
        .expect_err("the rule forbids this");
    assert_eq!(
        early.rule,
        Rule::ReviewNotEnded {
            earliest_offer: date(2024, 6, 16)
        }
    );
    assert_eq!(early.stage, Stage::CongressionalReview);
    assert!(
        in_review
            .apply(&advance(Stage::Offered, date(2024, 6, 16)), &book())
            .is_ok()
    );
}

#[test]
fn outside_nato_plus_5_the_offer_is_30_days_after_the_formal_notification() {
    // The case enters review on the formal notification; the informal 20 days came before
    // it (update §1.3), so they do not delay the offer.
    let case = open("EGY", vec![line(3, 5_000_000)]);
    let in_review = run(
        &case,
        &[
            advance(Stage::LorActionable, date(2024, 1, 15)),
            advance(Stage::LoaDevelopment, date(2024, 1, 20)),
            advance(Stage::CongressionalReview, date(2024, 6, 1)),
        ],
    )
    .expect("valid path");
    let review = in_review.review.as_ref().expect("review recorded");
    assert_eq!(
        review.earliest_offer,
        date(2024, 7, 1),
        "2024-06-01 + 30 days"
    );
}

#[test]
fn a_notified_case_cannot_skip_congressional_review() {
    let case = open("POL", vec![line(48, 5_000_000)]);
    let error = run(
        &case,
        &[
            advance(Stage::LorActionable, date(2024, 1, 15)),
            advance(Stage::LoaDevelopment, date(2024, 1, 20)),
            advance(Stage::Offered, date(2024, 6, 1)),
        ],
    )
    .expect_err("the rule forbids this");
    assert_eq!(
        (error.stage, error.rule),
        (Stage::LoaDevelopment, Rule::ReviewRequired)
    );
}

#[test]
fn a_small_case_goes_straight_to_offer_and_cannot_enter_review() {
    let case = open("POL", vec![line(2, 1_000_000)]);
    let developed = run(
        &case,
        &[
            advance(Stage::LorActionable, date(2024, 1, 15)),
            advance(Stage::LoaDevelopment, date(2024, 1, 20)),
        ],
    )
    .expect("valid");
    let error = developed
        .apply(
            &advance(Stage::CongressionalReview, date(2024, 3, 1)),
            &book(),
        )
        .expect_err("the rule forbids this");
    assert_eq!(error.rule, Rule::ReviewNotRequired);
    assert!(
        developed
            .apply(&advance(Stage::Offered, date(2024, 3, 1)), &book())
            .is_ok()
    );
}

#[test]
fn implementation_is_refused_after_the_85_day_offer_expiration() {
    let offered = notified_polish_case_offered();
    assert_eq!(
        offered.offer_expires,
        Some(date(2024, 9, 9)),
        "2024-06-16 + 85 days"
    );
    let late = offered
        .apply(&advance(Stage::Implemented, date(2024, 9, 10)), &book())
        .expect_err("the rule forbids this");
    assert_eq!(
        late.rule,
        Rule::OfferExpired {
            offer_expires: date(2024, 9, 9)
        }
    );
    assert!(
        offered
            .apply(&advance(Stage::Implemented, date(2024, 9, 9)), &book())
            .is_ok()
    );
}

#[test]
fn the_offer_expiration_can_be_set_per_case() {
    let mut case = open("POL", vec![line(2, 1_000_000)]);
    case.offer_expiration_days = 120;
    let offered = run(
        &case,
        &[
            advance(Stage::LorActionable, date(2024, 1, 15)),
            advance(Stage::LoaDevelopment, date(2024, 1, 20)),
            advance(Stage::Offered, date(2024, 3, 1)),
        ],
    )
    .expect("valid");
    assert_eq!(offered.offer_expires, Some(date(2024, 6, 29)));
}

#[test]
fn an_offer_expires_only_after_its_expiration_date() {
    let offered = notified_polish_case_offered();
    let early = offered
        .apply(&advance(Stage::Expired, date(2024, 9, 9)), &book())
        .expect_err("the rule forbids this");
    assert_eq!(
        early.rule,
        Rule::OfferNotYetExpired {
            offer_expires: date(2024, 9, 9)
        }
    );
    let expired = offered
        .apply(&advance(Stage::Expired, date(2024, 9, 10)), &book())
        .expect("expires");
    let after = expired
        .apply(&advance(Stage::Implemented, date(2024, 9, 11)), &book())
        .expect_err("the rule forbids this");
    assert_eq!(
        (after.stage, after.rule),
        (Stage::Expired, Rule::TerminalStage)
    );
}

#[test]
fn dates_never_go_backwards() {
    let offered = notified_polish_case_offered();
    let error = offered
        .apply(&advance(Stage::Implemented, date(2024, 6, 15)), &book())
        .expect_err("the rule forbids this");
    assert_eq!(
        error.rule,
        Rule::DateBeforeLastEvent {
            last_event: date(2024, 6, 16)
        }
    );
}

#[test]
fn deliveries_are_partial_per_line_and_delivered_needs_every_line() {
    let case = open("POL", vec![line(48, 5_000_000), line(4, 10_000_000)]);
    let contracted = run(
        &case,
        &[
            advance(Stage::LorActionable, date(2024, 1, 15)),
            advance(Stage::LoaDevelopment, date(2024, 1, 20)),
            advance(Stage::CongressionalReview, date(2024, 6, 1)),
            advance(Stage::Offered, date(2024, 6, 16)),
            advance(Stage::Implemented, date(2024, 7, 1)),
            advance(Stage::OnContract, date(2024, 12, 1)),
        ],
    )
    .expect("valid");
    let skip = contracted
        .apply(&advance(Stage::Delivered, date(2025, 1, 1)), &book())
        .expect_err("the rule forbids this");
    assert_eq!(skip.rule, Rule::DeliveredNeedsEveryLine);
    let partly = run(
        &contracted,
        &[
            deliver(0, 48, date(2026, 1, 1)),
            deliver(1, 3, date(2026, 2, 1)),
        ],
    )
    .expect("valid deliveries");
    assert_eq!(partly.stage, Stage::Delivering);
    let too_many = partly
        .apply(&deliver(1, 2, date(2026, 3, 1)), &book())
        .expect_err("the rule forbids this");
    assert_eq!(too_many.rule, Rule::DeliveryExceedsOrder { remaining: 1 });
    let done = partly
        .apply(&deliver(1, 1, date(2026, 3, 1)), &book())
        .expect("last unit");
    assert_eq!(done.stage, Stage::Delivered);
    assert_eq!(done.entered(Stage::Delivered), Some(date(2026, 3, 1)));
    let closed = done
        .apply(&advance(Stage::Closed, date(2027, 3, 1)), &book())
        .expect("closes");
    assert!(closed.stage.is_terminal());
}

#[test]
fn disapproval_only_during_review() {
    let offered = notified_polish_case_offered();
    let error = offered
        .apply(&advance(Stage::Disapproved, date(2024, 7, 1)), &book())
        .expect_err("the rule forbids this");
    assert_eq!(error.rule, Rule::DisapprovalOnlyInReview);
}

#[test]
fn rejections_name_the_stage_the_event_and_the_rule() {
    let offered = notified_polish_case_offered();
    let message = offered
        .apply(&advance(Stage::Closed, date(2024, 7, 1)), &book())
        .expect_err("the rule forbids this")
        .to_string();
    assert!(
        message.starts_with("case PL-B-ZAB in stage offered: cannot advance to closed:"),
        "{message}"
    );
}

#[test]
fn opening_a_case_checks_its_lines() {
    let new = |lines| NewCase {
        id: CaseId::parse("PL-B-ZAB").expect("valid"),
        purchaser: Country::parse("POL").expect("known"),
        agency: Agency::Army,
        channel: Channel::Fms,
        lines,
        lor_received: date(2024, 1, 10),
        offer_expiration_days: None,
        emergency: false,
        rule_set: None,
    };
    assert_eq!(Case::open(new(vec![]), &book()), Err(CaseError::NoLines));
    assert_eq!(
        Case::open(new(vec![line(0, 1)]), &book()),
        Err(CaseError::ZeroQuantity(0))
    );
}

#[test]
fn events_read_back_their_own_json_and_refuse_unknown_fields() {
    for event in [
        advance(Stage::Offered, date(2025, 1, 10)),
        deliver(0, 2, date(2025, 1, 10)),
    ] {
        let json = serde_json::to_string(&event).expect("serialises");
        assert_eq!(
            serde_json::from_str::<Event>(&json).expect("reads back"),
            event
        );
    }
    let advance_json = r#"{"date": "2025-01-10", "kind": "advance", "to": "offered"}"#;
    assert_eq!(
        serde_json::from_str::<Event>(advance_json).expect("documented form"),
        advance(Stage::Offered, date(2025, 1, 10))
    );
    let unknown = r#"{"date": "2025-01-10", "kind": "advance", "to": "offered", "extra": 1}"#;
    assert!(serde_json::from_str::<Event>(unknown).is_err());
}

fn any_event() -> impl Strategy<Value = Event> {
    let stage = proptest::sample::select(Stage::ALL.to_vec());
    let day = (0i64..4000).prop_map(|offset| date(2024, 1, 1).saturating_add(offset.days()));
    let kind = prop_oneof![
        3 => stage.prop_map(|to| EventKind::Advance { to }),
        1 => (0usize..3, 0u32..60).prop_map(|(line, quantity)| EventKind::Deliver { line, quantity }),
        1 => (0i64..5000).prop_map(|offset| EventKind::Promise {
            first_delivery: date(2024, 1, 1).saturating_add(offset.days()),
        }),
    ];
    (day, kind).prop_map(|(date, kind)| Event { date, kind })
}

proptest! {
    #[test]
    fn random_event_sequences_never_produce_an_invalid_case(
        events in proptest::collection::vec(any_event(), 0..60),
        small in any::<bool>(),
    ) {
        let unit = if small { 100_000 } else { 5_000_000 };
        let mut case = open("FIN", vec![line(48, unit), line(5, unit)]);
        for event in &events {
            let before = case.clone();
            match case.apply(event, &book()) {
                Ok(next) => {
                    prop_assert!(!before.stage.is_terminal(), "an event followed a terminal stage");
                    prop_assert!(next.last_event >= before.last_event);
                    case = next;
                }
                Err(_) => prop_assert_eq!(&case, &before),
            }
            let dates: Vec<Date> = case.milestones.iter().map(|m| m.date).collect();
            prop_assert!(dates.windows(2).all(|pair| pair[0] <= pair[1]), "milestones out of order");
            for (line, &done) in case.lines.iter().zip(&case.delivered) {
                prop_assert!(done <= line.quantity);
            }
            prop_assert_eq!(case.stage == Stage::Delivered, case.fully_delivered() && case.entered(Stage::Closed).is_none() && !case.stage.is_terminal());
        }
    }
}

#[test]
fn prioritise_sets_the_tier_without_moving_the_stage() {
    let case = notified_polish_case_offered();
    assert_eq!(case.tier(), DEFAULT_TIER);
    let prioritised = case
        .apply(
            &Event {
                date: date(2024, 7, 1),
                kind: EventKind::Prioritise { tier: 0 },
            },
            &book(),
        )
        .expect("any open case may be prioritised");
    assert_eq!(prioritised.tier(), 0);
    assert_eq!(prioritised.stage, case.stage);
    assert_eq!(prioritised.milestones, case.milestones);
    assert_eq!(prioritised.last_event, date(2024, 7, 1));
}

#[test]
fn a_tier_beyond_the_highest_is_refused_naming_the_bound() {
    let case = notified_polish_case_offered();
    let error = case
        .apply(
            &Event {
                date: date(2024, 7, 1),
                kind: EventKind::Prioritise { tier: MAX_TIER + 1 },
            },
            &book(),
        )
        .expect_err("tier 10 is out of range");
    assert_eq!(error.rule, Rule::TierOutOfRange { max: MAX_TIER });
}

#[test]
fn a_case_never_prioritised_serialises_as_before() {
    let case = notified_polish_case_offered();
    let json = serde_json::to_string(&case).expect("serialises");
    assert!(!json.contains("priority_tier"), "{json}");
    let back: Case = serde_json::from_str(&json).expect("reads back");
    assert_eq!(back, case);
}

fn promise(first_delivery: Date, day: Date) -> Event {
    Event {
        date: day,
        kind: EventKind::Promise { first_delivery },
    }
}

#[test]
fn a_promise_is_kept_with_its_day_without_moving_the_stage_and_the_latest_stands() {
    // The LOA's estimate at implementation, then a revised one (F-16 Block 70 buyers were
    // told of two-year slips after signing: fms-2026-update §3 item 4).
    let offered = notified_polish_case_offered();
    let promised = run(
        &offered,
        &[
            advance(Stage::Implemented, date(2024, 7, 1)),
            promise(date(2027, 6, 30), date(2024, 7, 1)),
        ],
    )
    .expect("valid");
    assert_eq!(promised.stage, Stage::Implemented);
    assert_eq!(
        promised.promise,
        Some(Promised {
            first_delivery: date(2027, 6, 30),
            made: date(2024, 7, 1),
        })
    );
    let revised = promised
        .apply(&promise(date(2029, 6, 30), date(2025, 3, 1)), &book())
        .expect("a revised promise");
    assert_eq!(
        revised.promise.map(|p| (p.first_delivery, p.made)),
        Some((date(2029, 6, 30), date(2025, 3, 1)))
    );
}

#[test]
fn a_promise_for_a_day_already_past_or_after_a_delivery_is_refused_naming_the_rule() {
    let offered = notified_polish_case_offered();
    let past = offered
        .apply(&promise(date(2024, 6, 1), date(2024, 6, 20)), &book())
        .expect_err("the rule forbids this");
    assert_eq!(past.rule, Rule::PromiseInThePast);
    assert!(
        past.to_string()
            .contains("promise the first delivery for 2024-06-01"),
        "{past}"
    );
    let delivering = run(
        &offered,
        &[
            advance(Stage::Implemented, date(2024, 7, 1)),
            advance(Stage::OnContract, date(2024, 12, 1)),
            deliver(0, 1, date(2026, 1, 1)),
        ],
    )
    .expect("valid");
    let late = delivering
        .apply(&promise(date(2026, 6, 1), date(2026, 2, 1)), &book())
        .expect_err("the rule forbids this");
    assert_eq!(late.rule, Rule::PromiseAfterFirstDelivery);
}

#[test]
fn a_case_without_a_promise_serialises_as_before_and_a_promise_reads_back() {
    let case = notified_polish_case_offered();
    assert!(
        !serde_json::to_string(&case)
            .expect("serialises")
            .contains("promise")
    );
    let promised = case
        .apply(&promise(date(2027, 6, 30), date(2024, 7, 1)), &book())
        .expect("valid");
    let json = serde_json::to_string(&promised).expect("serialises");
    let back: Case = serde_json::from_str(&json).expect("reads back");
    assert_eq!(back, promised);
    let event = r#"{"date": "2024-07-01", "kind": "promise", "first_delivery": "2027-06-30"}"#;
    assert_eq!(
        serde_json::from_str::<Event>(event).expect("reads"),
        promise(date(2027, 6, 30), date(2024, 7, 1))
    );
}
