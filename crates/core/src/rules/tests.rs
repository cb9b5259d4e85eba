//! Rule tests from the reference: each threshold at exactly its value and a dollar below,
//! both groups, the dated membership edges, the emergency waiver, the TIGER rule set.

use jiff::civil::date;

use super::*;

fn book() -> RuleBook {
    RuleBook::builtin().expect("compiled-in rule files parse")
}

fn usd(dollars: u64) -> Usd {
    Usd::from_dollars(dollars).expect("test amounts are small")
}

fn sale(purchaser: &str, day: Date, mde: u64, total: u64, dc: u64) -> NotificationCheck {
    NotificationCheck {
        purchaser: Country::parse(purchaser).expect("test country"),
        date: day,
        values: CaseValues {
            mde: usd(mde),
            articles_services: usd(total),
            design_construction: usd(dc),
        },
        emergency: false,
    }
}

fn decide(check: &NotificationCheck) -> NotificationDecision {
    book().check(check, None).expect("valid check")
}

const TODAY: Date = date(2026, 11, 27);

#[test]
fn each_threshold_is_met_at_exactly_its_value_and_missed_a_dollar_below() {
    // (purchaser, mde, total, dc, crossed) per reference §3.2.
    let table: [(&str, u64, u64, u64, &[Threshold]); 12] = [
        ("EGY", 14_000_000, 14_000_000, 0, &[Threshold::Mde]),
        ("EGY", 13_999_999, 13_999_999, 0, &[]),
        ("EGY", 0, 50_000_000, 0, &[Threshold::ArticlesServices]),
        ("EGY", 0, 49_999_999, 0, &[]),
        ("EGY", 0, 0, 200_000_000, &[Threshold::DesignConstruction]),
        ("EGY", 0, 0, 199_999_999, &[]),
        ("POL", 25_000_000, 25_000_000, 0, &[Threshold::Mde]),
        ("POL", 24_999_999, 24_999_999, 0, &[]),
        ("POL", 0, 100_000_000, 0, &[Threshold::ArticlesServices]),
        ("POL", 0, 99_999_999, 0, &[]),
        ("POL", 0, 0, 300_000_000, &[Threshold::DesignConstruction]),
        ("POL", 0, 0, 299_999_999, &[]),
    ];
    for (purchaser, mde, total, dc, crossed) in table {
        let decision = decide(&sale(purchaser, TODAY, mde, total, dc));
        assert_eq!(
            decision.thresholds_crossed, crossed,
            "{purchaser} {mde} {total} {dc}"
        );
        assert_eq!(decision.notification_required, !crossed.is_empty());
    }
}

#[test]
fn review_is_30_formal_plus_20_informal_days_outside_nato_plus_5() {
    let decision = decide(&sale("EGY", TODAY, 14_000_000, 14_000_000, 0));
    assert_eq!(decision.group, AecaGroup::Other);
    assert_eq!(
        (decision.informal_review_days, decision.formal_review_days),
        (20, 30)
    );
    assert_eq!(decision.earliest_offer_after_notification_days, 50);
}

#[test]
fn review_is_15_days_for_nato_plus_5_with_no_informal_review() {
    let decision = decide(&sale("JPN", TODAY, 25_000_000, 25_000_000, 0));
    assert_eq!(decision.group, AecaGroup::NatoPlus5);
    assert_eq!(
        (decision.informal_review_days, decision.formal_review_days),
        (0, 15)
    );
    assert_eq!(decision.earliest_offer_after_notification_days, 15);
}

#[test]
fn no_notification_means_no_review() {
    let decision = decide(&sale("EGY", TODAY, 1_000_000, 2_000_000, 0));
    assert!(!decision.notification_required);
    assert_eq!(decision.earliest_offer_after_notification_days, 0);
}

#[test]
fn finland_is_nato_plus_5_from_its_accession_on_2023_04_04() {
    let before = decide(&sale("FIN", date(2023, 4, 3), 20_000_000, 20_000_000, 0));
    let after = decide(&sale("FIN", date(2023, 4, 4), 20_000_000, 20_000_000, 0));
    assert_eq!(
        (before.group, before.notification_required),
        (AecaGroup::Other, true)
    );
    assert_eq!(
        (after.group, after.notification_required),
        (AecaGroup::NatoPlus5, false)
    );
}

#[test]
fn sweden_is_nato_plus_5_from_2024_03_07() {
    assert_eq!(
        decide(&sale("SWE", date(2024, 3, 6), 0, 0, 0)).group,
        AecaGroup::Other
    );
    assert_eq!(
        decide(&sale("SWE", date(2024, 3, 7), 0, 0, 0)).group,
        AecaGroup::NatoPlus5
    );
}

#[test]
fn south_korea_is_nato_plus_5_from_pl_110_429_on_2008_10_15() {
    let before = decide(&sale("KOR", date(2008, 10, 14), 20_000_000, 20_000_000, 0));
    let after = decide(&sale("KOR", date(2008, 10, 15), 20_000_000, 20_000_000, 0));
    assert_eq!(
        (before.group, before.formal_review_days),
        (AecaGroup::Other, 30)
    );
    assert_eq!(
        (after.group, after.notification_required),
        (AecaGroup::NatoPlus5, false)
    );
}

#[test]
fn israel_is_nato_plus_5_from_pl_111_266_on_2010_10_08() {
    assert_eq!(
        decide(&sale("ISR", date(2010, 10, 7), 0, 0, 0)).group,
        AecaGroup::Other
    );
    assert_eq!(
        decide(&sale("ISR", date(2010, 10, 8), 0, 0, 0)).group,
        AecaGroup::NatoPlus5
    );
}

#[test]
fn emergency_waiver_sets_review_to_zero_and_is_flagged() {
    // Reference §3.4: the May 2019 emergency sales to Saudi Arabia, the UAE and Jordan.
    let mut check = sale("SAU", date(2019, 5, 24), 500_000_000, 8_000_000_000, 0);
    check.emergency = true;
    let decision = decide(&check);
    assert!(decision.notification_required && decision.emergency_waiver);
    assert_eq!(decision.earliest_offer_after_notification_days, 0);
}

#[test]
fn tiger_act_raises_thresholds_only_when_asked_for() {
    let check = sale("POL", TODAY, 30_000_000, 30_000_000, 0);
    assert!(
        decide(&check).notification_required,
        "current law: $30M MDE ≥ $25M"
    );
    let tiger = book()
        .check(&check, Some("tiger-act-2024"))
        .expect("known set");
    assert!(!tiger.notification_required, "TIGER: $30M MDE < $42M");
    assert_eq!(tiger.rule_set, "tiger-act-2024");
    let other = book().check(
        &sale("EGY", TODAY, 23_000_000, 23_000_000, 0),
        Some("tiger-act-2024"),
    );
    assert_eq!(
        other.expect("known set").thresholds_crossed,
        vec![Threshold::Mde]
    );
}

#[test]
fn the_law_in_force_is_never_a_proposal() {
    assert_eq!(
        book().in_force_on(TODAY).map(|set| set.id.as_str()),
        Ok("aeca-36b")
    );
}

#[test]
fn unknown_rule_set_lists_the_known_ones() {
    let error = book()
        .check(&sale("POL", TODAY, 0, 0, 0), Some("hr-9999"))
        .expect_err("the rule forbids this");
    assert_eq!(
        error.to_string(),
        "unknown rule set 'hr-9999': known rule sets are aeca-36b, tiger-act-2024"
    );
}

#[test]
fn mde_above_the_total_is_an_input_error() {
    let error = book()
        .check(&sale("POL", TODAY, 10, 5, 0), None)
        .expect_err("the rule forbids this");
    assert!(matches!(error, RuleError::MdeAboveTotal { .. }));
}

#[test]
fn samm_standards_carry_their_confidence() {
    let samm = book().samm().clone();
    assert_eq!(samm.offer_expiration_days.value, 85);
    assert_eq!(samm.offer_expiration_days.confidence, Confidence::Confirmed);
    assert_eq!(samm.aod_target_days("C"), Some(150));
    assert_eq!(samm.aod_target_days("D"), None);
}
