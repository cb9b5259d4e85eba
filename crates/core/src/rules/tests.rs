//! Rule tests from the reference: each threshold at exactly its value and a dollar below,
//! both groups, the dated membership edges, the emergency waiver, one test per clause of
//! §36 (update §1), and each what-if rule set at and a dollar below each of its figures.

use jiff::civil::date;

use super::*;
use crate::case::CaseValues;
use crate::country::{AecaGroup, Country};

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
fn review_outside_nato_plus_5_is_30_days_from_the_formal_notification_after_20_informal() {
    // Update §1.3: the informal review comes before the formal notification, so the offer
    // is 30 days after the formal notification, not 50.
    let decision = decide(&sale("EGY", TODAY, 14_000_000, 14_000_000, 0));
    assert_eq!(decision.group, AecaGroup::Other);
    assert_eq!(
        (decision.informal_review_days, decision.formal_review_days),
        (20, 30)
    );
    assert_eq!(decision.earliest_offer_after_notification_days, 30);
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
        "unknown rule set 'hr-9999': known rule sets are aeca-36b, tiger-act-2024, hr3138-2025, hr3613-2025"
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

fn country(code: &str) -> Country {
    Country::parse(code).expect("test country")
}

fn millions(value: u64) -> Option<Usd> {
    Usd::from_millions(value)
}

fn judge(check: &SaleCheck) -> NotificationDecision {
    book().judge(check, None).expect("valid check")
}

#[test]
fn section_36b6_a_polish_sale_whose_territory_includes_ukraine_gets_the_general_thresholds() {
    // $20M of MDE to Poland: below the NATO+5 $25M, above the general $14M.
    let mut check = SaleCheck::new(country("POL"), TODAY, Channel::Fms);
    check.mde = millions(20);
    let inside = judge(&check);
    assert!(!inside.notification_required && !inside.territory_outside_nato_plus_5);
    check.territory = vec![country("UKR")];
    let outside = judge(&check);
    assert!(outside.territory_outside_nato_plus_5);
    assert_eq!(outside.thresholds_crossed, [Threshold::Mde]);
    // The review period still follows the purchaser (15 days), not the territory.
    assert_eq!(
        (outside.group, outside.formal_review_days),
        (AecaGroup::NatoPlus5, 15)
    );
}

#[test]
fn section_36b6_a_territory_inside_nato_plus_5_keeps_the_nato_plus_5_thresholds() {
    let mut check = SaleCheck::new(country("POL"), TODAY, Channel::Fms);
    check.mde = millions(20);
    check.territory = vec![country("DEU"), country("JPN"), country("POL")];
    let decision = judge(&check);
    assert!(!decision.territory_outside_nato_plus_5 && !decision.notification_required);
}

#[test]
fn section_36b6_finland_in_a_territory_is_outside_nato_plus_5_before_2023_04_04() {
    let mut check = SaleCheck::new(country("NOR"), date(2023, 4, 3), Channel::Fms);
    check.mde = millions(20);
    check.territory = vec![country("FIN")];
    assert!(judge(&check).territory_outside_nato_plus_5);
    check.date = date(2023, 4, 4);
    assert!(!judge(&check).territory_outside_nato_plus_5);
}

#[test]
fn section_36c_dcs_of_30m_mde_to_japan_needs_notification_with_15_days() {
    let mut check = SaleCheck::new(country("JPN"), TODAY, Channel::Dcs);
    check.mde = millions(30);
    let decision = judge(&check);
    assert_eq!(decision.channel, Channel::Dcs);
    assert_eq!(decision.thresholds_crossed, [Threshold::Mde]);
    assert_eq!(
        (decision.formal_review_days, decision.informal_review_days),
        (15, 0)
    );
    assert!(decision.citation.contains("§36(c)"));
}

#[test]
fn section_36c_dcs_of_30m_mde_to_egypt_needs_notification_with_30_days() {
    let mut check = SaleCheck::new(country("EGY"), TODAY, Channel::Dcs);
    check.mde = millions(30);
    let decision = judge(&check);
    assert_eq!(decision.thresholds_crossed, [Threshold::Mde]);
    assert_eq!(decision.earliest_offer_after_notification_days, 30);
}

#[test]
fn section_36c_dcs_thresholds_at_and_a_dollar_below_each_figure() {
    let table: [(&str, u64, u64, u64, &[Threshold]); 10] = [
        ("EGY", 14_000_000, 14_000_000, 0, &[Threshold::Mde]),
        ("EGY", 13_999_999, 13_999_999, 0, &[]),
        ("EGY", 0, 50_000_000, 0, &[Threshold::ArticlesServices]),
        ("EGY", 0, 49_999_999, 0, &[]),
        ("EGY", 0, 1_000_000, 1_000_000, &[Threshold::Firearms]),
        ("EGY", 0, 999_999, 999_999, &[]),
        ("JPN", 25_000_000, 25_000_000, 0, &[Threshold::Mde]),
        ("JPN", 24_999_999, 24_999_999, 0, &[]),
        ("JPN", 0, 100_000_000, 0, &[Threshold::ArticlesServices]),
        ("JPN", 0, 99_999_999, 0, &[]),
    ];
    for (purchaser, mde, total, firearms, crossed) in table {
        let mut check = SaleCheck::new(country(purchaser), TODAY, Channel::Dcs);
        check.mde = Some(usd(mde));
        check.articles_services = Some(usd(total));
        check.firearms = Some(usd(firearms));
        assert_eq!(
            judge(&check).thresholds_crossed,
            crossed,
            "{purchaser} {mde} {total} {firearms}"
        );
    }
}

#[test]
fn section_36c5_a_licence_to_japan_with_a_territory_outside_nato_plus_5_gets_14m() {
    let mut check = SaleCheck::new(country("JPN"), TODAY, Channel::Dcs);
    check.mde = millions(20);
    assert!(!judge(&check).notification_required);
    check.territory = vec![country("IND")];
    assert_eq!(judge(&check).thresholds_crossed, [Threshold::Mde]);
}

#[test]
fn section_36d_a_manufacturing_licence_agreement_is_always_notified_with_no_thresholds() {
    let japan = judge(&SaleCheck::new(country("JPN"), TODAY, Channel::Mla));
    assert!(japan.notification_required);
    assert!(japan.thresholds_crossed.is_empty());
    assert_eq!(
        (japan.formal_review_days, japan.channel),
        (15, Channel::Mla)
    );
    let egypt = judge(&SaleCheck::new(country("EGY"), TODAY, Channel::Mla));
    assert_eq!(egypt.earliest_offer_after_notification_days, 30);
    assert!(egypt.citation.contains("§36(d)"));
}

#[test]
fn section_36b5c_an_upgrade_at_the_thresholds_needs_a_new_certification_and_a_45_day_report() {
    // An upgrade of Egypt's notified sale: $14M of MDE is a new numbered certification.
    let mut check = SaleCheck::new(country("EGY"), TODAY, Channel::Fms);
    check.mde = millions(14);
    check.upgrade = true;
    let decision = judge(&check);
    assert!(decision.notification_required);
    assert_eq!(decision.pre_delivery_report_days, Some(45));
}

#[test]
fn section_36b5a_an_upgrade_below_the_thresholds_still_needs_the_45_day_report() {
    let mut check = SaleCheck::new(country("EGY"), TODAY, Channel::Fms);
    check.mde = Some(usd(13_999_999));
    check.upgrade = true;
    let decision = judge(&check);
    assert!(!decision.notification_required);
    assert_eq!(decision.pre_delivery_report_days, Some(45));
    check.upgrade = false;
    assert_eq!(judge(&check).pre_delivery_report_days, None);
}

#[test]
fn section_36b5c_upgrade_with_a_territory_outside_nato_plus_5_gets_the_general_thresholds() {
    let mut check = SaleCheck::new(country("GRC"), TODAY, Channel::Fms);
    check.mde = millions(20);
    check.upgrade = true;
    check.territory = vec![country("CYP")];
    assert_eq!(judge(&check).thresholds_crossed, [Threshold::Mde]);
}

#[test]
fn an_omitted_total_is_the_mde_so_14m_of_mde_to_egypt_needs_notification() {
    let mut check = SaleCheck::new(country("EGY"), TODAY, Channel::Fms);
    check.mde = millions(14);
    assert_eq!(judge(&check).thresholds_crossed, [Threshold::Mde]);
}

#[test]
fn inputs_a_channel_does_not_know_are_errors_naming_them() {
    type Case = (Channel, fn(&mut SaleCheck), SaleInput);
    let cases: [Case; 9] = [
        (
            Channel::Fms,
            |c| c.firearms = Some(Usd::ZERO),
            SaleInput::Firearms,
        ),
        (
            Channel::Dcs,
            |c| c.design_construction = Some(Usd::ZERO),
            SaleInput::DesignConstruction,
        ),
        (Channel::Dcs, |c| c.upgrade = true, SaleInput::Upgrade),
        (Channel::Mla, |c| c.mde = Some(Usd::ZERO), SaleInput::Mde),
        (
            Channel::Mla,
            |c| c.articles_services = Some(Usd::ZERO),
            SaleInput::Total,
        ),
        (
            Channel::Mla,
            |c| c.design_construction = Some(Usd::ZERO),
            SaleInput::DesignConstruction,
        ),
        (
            Channel::Mla,
            |c| c.firearms = Some(Usd::ZERO),
            SaleInput::Firearms,
        ),
        (
            Channel::Mla,
            |c| c.territory = vec![country("UKR")],
            SaleInput::Territory,
        ),
        (Channel::Mla, |c| c.upgrade = true, SaleInput::Upgrade),
    ];
    for (channel, set, input) in cases {
        let mut check = SaleCheck::new(country("POL"), TODAY, channel);
        set(&mut check);
        let error = book()
            .judge(&check, None)
            .expect_err("the rule forbids this");
        assert!(
            matches!(error, RuleError::NotForChannel { input: named, .. } if named == input),
            "{channel} {input:?}: {error}"
        );
        assert!(error.to_string().starts_with(input.key()), "{error}");
    }
}

#[test]
fn firearms_above_the_total_is_an_input_error() {
    let mut check = SaleCheck::new(country("EGY"), TODAY, Channel::Dcs);
    check.firearms = millions(2);
    check.articles_services = millions(1);
    assert!(matches!(
        book().judge(&check, None),
        Err(RuleError::FirearmsAboveTotal { .. })
    ));
}

/// Judges an FMS sale of only MDE, only articles and services, or only D&C under a set.
fn fms_under(set: &str, purchaser: &str, threshold: Threshold, dollars: u64) -> bool {
    let (mde, total, dc) = match threshold {
        Threshold::Mde => (dollars, dollars, 0),
        Threshold::ArticlesServices => (0, dollars, 0),
        Threshold::DesignConstruction => (0, 0, dollars),
        Threshold::Firearms => unreachable!("not an FMS threshold"),
    };
    let decision = book()
        .check(&sale(purchaser, TODAY, mde, total, dc), Some(set))
        .expect("known set");
    decision.thresholds_crossed.contains(&threshold)
}

#[test]
fn hr3138_2025_raises_the_non_nato_plus_5_figures_at_and_a_dollar_below_each() {
    // Update §2: non-NATO+5 $23M / $83M / $332M; NATO+5 unchanged $25M / $100M / $300M.
    for (purchaser, threshold, figure) in [
        ("EGY", Threshold::Mde, 23_000_000),
        ("EGY", Threshold::ArticlesServices, 83_000_000),
        ("EGY", Threshold::DesignConstruction, 332_000_000),
        ("POL", Threshold::Mde, 25_000_000),
        ("POL", Threshold::ArticlesServices, 100_000_000),
        ("POL", Threshold::DesignConstruction, 300_000_000),
    ] {
        assert!(
            fms_under("hr3138-2025", purchaser, threshold, figure),
            "{purchaser} {threshold} at"
        );
        assert!(
            !fms_under("hr3138-2025", purchaser, threshold, figure - 1),
            "{purchaser} {threshold} below"
        );
    }
}

#[test]
fn hr3613_2025_raises_its_confirmed_figures_and_keeps_current_law_for_the_rest() {
    // Update §2: NATO+5 MDE $105M, others' MDE $30M, NATO+5 D&C $615M confirmed; the others
    // are current law ($100M, $50M, $200M) and marked unconfirmed.
    for (purchaser, threshold, figure) in [
        ("POL", Threshold::Mde, 105_000_000),
        ("EGY", Threshold::Mde, 30_000_000),
        ("POL", Threshold::DesignConstruction, 615_000_000),
        ("POL", Threshold::ArticlesServices, 100_000_000),
        ("EGY", Threshold::ArticlesServices, 50_000_000),
        ("EGY", Threshold::DesignConstruction, 200_000_000),
    ] {
        assert!(
            fms_under("hr3613-2025", purchaser, threshold, figure),
            "{purchaser} {threshold} at"
        );
        assert!(
            !fms_under("hr3613-2025", purchaser, threshold, figure - 1),
            "{purchaser} {threshold} below"
        );
    }
    let set = book().get("hr3613-2025").expect("shipped").clone();
    let confirmed = |group, name| {
        set.figures()
            .into_iter()
            .find(|row| row.section == "fms" && row.group == group && row.name == name)
            .map(|row| row.confirmed)
    };
    assert_eq!(confirmed("nato_plus_5", "mde"), Some(true));
    assert_eq!(confirmed("other", "mde"), Some(true));
    assert_eq!(confirmed("nato_plus_5", "design_construction"), Some(true));
    assert_eq!(confirmed("nato_plus_5", "articles_services"), Some(false));
    assert_eq!(confirmed("other", "articles_services"), Some(false));
    assert_eq!(confirmed("other", "design_construction"), Some(false));
}

#[test]
fn tiger_act_2024_at_and_a_dollar_below_each_figure() {
    for (purchaser, threshold, figure) in [
        ("EGY", Threshold::Mde, 23_000_000),
        ("EGY", Threshold::ArticlesServices, 83_000_000),
        ("EGY", Threshold::DesignConstruction, 332_000_000),
        ("POL", Threshold::Mde, 42_000_000),
        ("POL", Threshold::ArticlesServices, 166_000_000),
        ("POL", Threshold::DesignConstruction, 500_000_000),
    ] {
        assert!(
            fms_under("tiger-act-2024", purchaser, threshold, figure),
            "{purchaser} {threshold} at"
        );
        assert!(
            !fms_under("tiger-act-2024", purchaser, threshold, figure - 1),
            "{purchaser} {threshold} below"
        );
    }
}

#[test]
fn every_rule_set_is_dated_with_a_status_a_source_and_a_sourced_figure_each() {
    let book = book();
    for set in book.rule_sets() {
        assert!(
            !set.status.is_empty() && !set.citation.is_empty(),
            "{}",
            set.id
        );
        let figures = set.figures();
        assert_eq!(figures.len(), 18, "{}", set.id);
        for figure in figures {
            assert!(
                !figure.source.trim().is_empty(),
                "{} {}",
                set.id,
                figure.name
            );
        }
        if set.kind == RuleKind::Proposal {
            assert!(set.status.contains("not enacted"), "{}", set.id);
        }
    }
    let ids: Vec<&str> = book.rule_sets().iter().map(|set| set.id.as_str()).collect();
    assert_eq!(
        ids,
        ["aeca-36b", "tiger-act-2024", "hr3138-2025", "hr3613-2025"]
    );
}

#[test]
fn a_proposal_cannot_be_in_force_even_after_its_date() {
    assert_eq!(
        book()
            .in_force_on(date(2025, 12, 31))
            .map(|set| set.id.as_str()),
        Ok("aeca-36b")
    );
}
