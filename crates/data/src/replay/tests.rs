//! The replay on a small hand-counted fixture, and the self-check over the shipped
//! notifications.

use super::*;
use crate::dsca;

const HEADER: &str = "date,purchaser,iso3,item,quantity,value_usd,mde_value_usd,contractors,transmittal,source_url\n";

/// Eight notifications, five of them real rows of the shipped file (Taiwan, Saudi Arabia,
/// Italy, Poland, Finland 2024) and three made up to reach each edge (Egypt, Finland before
/// accession, the undated and valueless rows).
fn fixture() -> Vec<Notification> {
    let rows = "\
2024-02-21,Taiwan,TWN,FMS Cross Domain Solutions,,75000000,,,,https://example.org/1
2025-03-20,Saudi Arabia,SAU,APKWS,,100000000,,,,https://example.org/2
2025-06-01,Egypt,EGY,made up: $20M all MDE,,20000000,20000000,,,https://example.org/3
2024-02-15,Italy,ITA,AIM-120C-8 AMRAAM,,69300000,,,,https://example.org/4
2023-03-07,Japan,JPN,E-2D Advanced Hawkeye aircraft,,,,,,https://example.org/5
,Latvia,LVA,M142 HIMARS launchers,,220000000,,,,https://example.org/6
2023-09-13,Poland,POL,F-16 Sustainment (non-MDE),,389000000,0,,,https://example.org/7
2023-03-01,Finland,FIN,made up: before accession,,60000000,20000000,,,https://example.org/8
2024-08-19,Finland,FIN,M1156A1 Precision Guidance Kits,,70000000,,,,https://example.org/9
";
    dsca::from_csv_str(&format!("{HEADER}{rows}"), "fixture").expect("fixture parses")
}

fn book() -> RuleBook {
    RuleBook::builtin().expect("compiled-in rule files parse")
}

fn millions_tenths(tenths: u64) -> Usd {
    Usd::from_dollars(tenths * 100_000).expect("small")
}

fn changes(replay: &Replay) -> Vec<(&str, Change)> {
    replay
        .rows
        .iter()
        .map(|row| (row.iso3.iso3(), row.change))
        .collect()
}

#[test]
fn hr3138_replay_on_the_fixture_matches_the_hand_count() {
    let notifications = fixture();
    let replay = replay(&book(), "hr3138-2025", &notifications).expect("known set");
    // Hand count: EGY ($20M, all MDE, < $23M and < $83M) and FIN 2023 ($60M with $20M MDE,
    // outside NATO+5 before 2023-04-04) drop out; TWN ($75M < $83M, MDE unstated, could be
    // >= $23M) is undetermined; NATO+5 figures do not change.
    assert_eq!(
        changes(&replay),
        [
            ("TWN", Change::Undetermined),
            ("SAU", Change::Unchanged),
            ("EGY", Change::NoLongerRequired),
            ("ITA", Change::Unchanged),
            ("POL", Change::Unchanged),
            ("FIN", Change::NoLongerRequired),
            ("FIN", Change::Unchanged),
        ]
    );
    let skipped: Vec<(&str, &str)> = replay
        .skipped
        .iter()
        .map(|skip| (skip.purchaser.as_str(), skip.reason.as_str()))
        .collect();
    assert_eq!(
        skipped,
        [
            ("Japan", "no notified value"),
            ("Latvia", "no announcement date")
        ]
    );
    let [nato, other, all] = &replay.totals[..] else {
        panic!("three total rows")
    };
    assert_eq!(
        (
            nato.group,
            nato.notifications,
            nato.value_usd,
            nato.no_longer_required
        ),
        ("nato_plus_5", 3, millions_tenths(5283), 0)
    );
    assert_eq!(
        (
            other.notifications,
            other.value_usd,
            other.no_longer_required,
            other.no_longer_required_usd,
            other.undetermined,
            other.undetermined_usd
        ),
        (
            4,
            millions_tenths(2550),
            2,
            millions_tenths(800),
            1,
            millions_tenths(750)
        )
    );
    assert_eq!(
        (
            all.notifications,
            all.no_longer_required,
            all.undetermined,
            all.newly_required
        ),
        (7, 2, 1, 0)
    );
}

#[test]
fn hr3613_replay_on_the_fixture_matches_the_hand_count() {
    let notifications = fixture();
    let replay = replay(&book(), "hr3613-2025", &notifications).expect("known set");
    // Hand count: NATO+5 MDE $105M: ITA $69.3M and FIN 2024 $70M (both below the unchanged
    // $100M articles-and-services figure) drop out whatever their MDE; EGY $20M < $30M MDE
    // and < $50M drops out; FIN 2023 $60M >= $50M stays.
    assert_eq!(
        changes(&replay),
        [
            ("TWN", Change::Unchanged),
            ("SAU", Change::Unchanged),
            ("EGY", Change::NoLongerRequired),
            ("ITA", Change::NoLongerRequired),
            ("POL", Change::Unchanged),
            ("FIN", Change::Unchanged),
            ("FIN", Change::NoLongerRequired),
        ]
    );
    let all = &replay.totals[2];
    assert_eq!(
        (all.no_longer_required, all.no_longer_required_usd),
        (3, millions_tenths(1593))
    );
}

#[test]
fn a_stated_mde_decides_and_an_unstated_one_is_never_guessed() {
    let notifications = fixture();
    let replay = replay(&book(), "aeca-36b", &notifications).expect("known set");
    let italy = &replay.rows[3];
    assert_eq!(
        italy.under_law,
        Verdict::DependsOnMde {
            mde_at_least: Usd::from_millions(25).expect("small")
        }
    );
    let poland = &replay.rows[4];
    assert_eq!(poland.under_law, Verdict::Required, "$389M >= $100M");
    assert!(
        replay
            .rows
            .iter()
            .all(|row| row.change == Change::Unchanged)
    );
}

#[test]
fn a_notification_below_every_threshold_is_counted_as_not_required_under_law() {
    let text =
        format!("{HEADER}2025-06-01,Egypt,EGY,made up: $10M,,10000000,,,,https://example.org/x\n");
    let notifications = dsca::from_csv_str(&text, "fixture").expect("parses");
    let replay = replay(&book(), "aeca-36b", &notifications).expect("known set");
    assert_eq!(replay.rows[0].under_law, Verdict::NotRequired);
    assert_eq!(replay.totals[2].not_required_under_law, 1);
}

#[test]
fn unknown_rule_set_is_an_error() {
    assert!(matches!(
        replay(&book(), "hr-1", &fixture()),
        Err(RuleError::UnknownRuleSet { .. })
    ));
}

/// The self-check of issue 9: every shipped notification crosses a threshold under the law
/// in force on its date. Investigated: none is below every threshold. Four cross only if
/// their MDE value, which the file does not state, is at least $25M: NATO+5 sales under
/// $100M of Javelin missiles (Australia 2023-03-07, Romania 2023-12-12), AMRAAM (Italy
/// 2024-02-15) and M1156A1 precision guidance kits (Finland 2024-08-19). Their notified
/// values are all above $25M, so the data is consistent with the rules; stating their MDE
/// values in `notifications.csv` (from each DSCA release) would settle them. Two rows cannot
/// be judged: Japan's E-2D notification of 2023-03-07 has no value in the file, and one
/// Latvian HIMARS row has no date.
#[test]
fn every_shipped_dsca_notification_crosses_a_threshold_under_the_law_in_force_on_its_date() {
    let notifications = dsca::builtin().expect("shipped file parses");
    let replay = replay(&book(), "aeca-36b", &notifications).expect("known set");
    let below: Vec<String> = replay
        .rows
        .iter()
        .filter(|row| row.under_law == Verdict::NotRequired)
        .map(|row| format!("{} {} {}", row.date, row.iso3, row.value_usd))
        .collect();
    assert!(below.is_empty(), "below every threshold: {below:?}");
    let depends: Vec<String> = replay
        .rows
        .iter()
        .filter(|row| matches!(row.under_law, Verdict::DependsOnMde { .. }))
        .map(|row| format!("{} {} {}", row.date, row.iso3, row.value_usd))
        .collect();
    assert_eq!(
        depends,
        [
            "2023-03-07 AUS $60.18M",
            "2023-12-12 ROU $80M",
            "2024-02-15 ITA $69.3M",
            "2024-08-19 FIN $70M",
        ]
    );
    assert_eq!(
        replay.rows.len() + replay.skipped.len(),
        notifications.len()
    );
    assert_eq!(replay.skipped.len(), 2);
}
