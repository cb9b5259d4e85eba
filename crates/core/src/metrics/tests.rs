//! Metrics on hand-made cases whose phase durations are known.

use jiff::ToSpan;
use jiff::civil::date;

use super::*;
use crate::case::{Agency, CaseId, CaseLine, Category, Channel};
use crate::country::Country;
use crate::machine::{Event, EventKind, NewCase};
use crate::money::Usd;
use crate::rules::RuleBook;

fn book() -> RuleBook {
    RuleBook::builtin().expect("compiled-in rules parse")
}

/// A case of two units at `unit_dollars`, taken through `steps` in order. `delivering` and
/// `delivered` deliver one unit each.
fn case(id: &str, purchaser: &str, unit_dollars: u64, lor: Date, steps: &[(Stage, Date)]) -> Case {
    let book = book();
    let new = NewCase {
        id: CaseId::parse(id).expect("valid id"),
        purchaser: Country::parse(purchaser).expect("known country"),
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
    for &(stage, day) in steps {
        let kind = match stage {
            Stage::Delivering | Stage::Delivered => EventKind::Deliver {
                line: 0,
                quantity: 1,
            },
            to => EventKind::Advance { to },
        };
        case = case
            .apply(&Event { date: day, kind }, &book)
            .expect("a legal event");
    }
    case
}

/// A small Polish case (2 × $1M, under every §36(b) threshold) offered `days` after its
/// LOR, which became actionable 5 days after it arrived; the offer is on `offered`.
fn offered_after(id: &str, days: i64, offered: Date) -> Case {
    let lor = offered.saturating_sub(days.days());
    case(
        id,
        "POL",
        1_000_000,
        lor,
        &[
            (Stage::LorActionable, lor.saturating_add(5.days())),
            (Stage::LoaDevelopment, lor.saturating_add(6.days())),
            (Stage::Offered, offered),
        ],
    )
}

fn window(from: &str, to: &str, as_of: Date) -> Window {
    Window {
        from: Quarter::parse(from).expect("quarter"),
        to: Quarter::parse(to).expect("quarter"),
        as_of,
    }
}

fn find<'a>(
    rows: &'a [PhaseMetrics],
    quarter: &str,
    phase: Phase,
    group: Option<&str>,
) -> &'a PhaseMetrics {
    rows.iter()
        .find(|row| {
            row.quarter.to_string() == quarter
                && row.phase == phase
                && row.group.as_deref() == group
        })
        .expect("row present")
}

#[test]
fn quarters_read_print_and_end_on_the_right_day() {
    let q3 = Quarter::parse("2025-Q3").expect("valid");
    assert_eq!(q3.to_string(), "2025-Q3");
    assert_eq!(q3.first_day(), date(2025, 7, 1));
    assert_eq!(q3.last_day(), date(2025, 9, 30));
    assert_eq!(
        Quarter::parse("2024-q1").expect("valid").last_day(),
        date(2024, 3, 31)
    );
    assert_eq!(
        Quarter::of(date(2025, 12, 31)).next().to_string(),
        "2026-Q1"
    );
    for bad in ["2025-Q5", "2025Q3", "Q3-2025", "2025-Q0", ""] {
        assert!(Quarter::parse(bad).is_err(), "{bad} must be refused");
    }
}

#[test]
fn nearest_rank_percentiles_are_values_that_occurred() {
    let values = [100, 120, 140, 200, 300];
    assert_eq!(nearest_rank(&values, 50), Some(140));
    assert_eq!(nearest_rank(&values, 90), Some(300));
    assert_eq!(nearest_rank(&[7], 90), Some(7));
    assert_eq!(nearest_rank(&[1, 2], 50), Some(1));
    assert_eq!(nearest_rank(&[], 50), None);
}

#[test]
fn lor_to_offer_gives_median_p90_and_on_time_share_against_aod_group_b() {
    // Five offers in 2025-Q1 after 100, 120, 140, 200 and 300 days. Each LOR became
    // actionable 5 days after it arrived, so the AOD group B target (100 days from the
    // actionable LOR) is met only by offers within 105 days of the LOR: one of five.
    let cases = vec![
        offered_after("PL-B-AAA", 100, date(2025, 1, 20)),
        offered_after("PL-B-AAB", 120, date(2025, 2, 3)),
        offered_after("PL-B-AAC", 140, date(2025, 2, 17)),
        offered_after("PL-B-AAD", 200, date(2025, 3, 3)),
        offered_after("PL-B-AAE", 300, date(2025, 3, 31)),
    ];
    let samm = book().samm().clone();
    let rows = compute(
        &cases,
        None,
        &window("2025-Q1", "2025-Q1", date(2025, 6, 30)),
        &samm,
    );
    let lor_to_offer = find(&rows, "2025-Q1", Phase::LorToOffer, None);
    assert_eq!(lor_to_offer.completed, 5);
    assert_eq!(lor_to_offer.median_days, Some(140));
    assert_eq!(lor_to_offer.p90_days, Some(300));
    assert_eq!(lor_to_offer.on_time_share, Some(0.2));
    assert_eq!(lor_to_offer.open_at_end, 0);
    assert_eq!(lor_to_offer.open_median_age_days, None);
    // The same five offers are open in offer_to_acceptance at the quarter's end, aged
    // 70, 56, 42, 28 and 0 days; no phase without a target has an on-time share.
    let offer = find(&rows, "2025-Q1", Phase::OfferToAcceptance, None);
    assert_eq!(offer.completed, 0);
    assert_eq!(offer.on_time_share, None);
    assert_eq!(offer.open_at_end, 5);
    assert_eq!(offer.open_median_age_days, Some(42));
}

#[test]
fn a_phase_counts_in_the_quarter_it_ends_and_is_open_until_then() {
    // LOR 2024-12-01, offered 2025-04-10 (130 days): open at the end of Q1 aged 120 days,
    // completed in Q2.
    let cases = vec![offered_after("PL-B-ABA", 130, date(2025, 4, 10))];
    let samm = book().samm().clone();
    let rows = compute(
        &cases,
        None,
        &window("2024-Q4", "2025-Q2", date(2025, 12, 31)),
        &samm,
    );
    let q4 = find(&rows, "2024-Q4", Phase::LorToOffer, None);
    assert_eq!((q4.completed, q4.open_at_end), (0, 1));
    assert_eq!(q4.open_median_age_days, Some(30));
    let q1 = find(&rows, "2025-Q1", Phase::LorToOffer, None);
    assert_eq!((q1.completed, q1.open_at_end), (0, 1));
    assert_eq!(q1.open_median_age_days, Some(120));
    let q2 = find(&rows, "2025-Q2", Phase::LorToOffer, None);
    assert_eq!((q2.completed, q2.open_at_end), (1, 0));
    assert_eq!(q2.median_days, Some(130));
}

#[test]
fn open_cases_are_censored_at_quarter_end_and_cancelled_ones_leave() {
    let samm = book().samm().clone();
    let waiting = case("PL-B-ACA", "POL", 1_000_000, date(2025, 1, 1), &[]);
    let cancelled = case(
        "PL-B-ACB",
        "POL",
        1_000_000,
        date(2024, 10, 1),
        &[(Stage::Cancelled, date(2025, 2, 1))],
    );
    let rows = compute(
        &[waiting, cancelled],
        None,
        &window("2024-Q4", "2025-Q1", date(2025, 12, 31)),
        &samm,
    );
    // End of 2024-Q4: only the case that was still alive and had its LOR, aged 91 days.
    let q4 = find(&rows, "2024-Q4", Phase::LorToOffer, None);
    assert_eq!((q4.completed, q4.open_at_end), (0, 1));
    assert_eq!(q4.open_median_age_days, Some(91));
    // End of 2025-Q1: the cancelled case left; the waiting one is 89 days old.
    let q1 = find(&rows, "2025-Q1", Phase::LorToOffer, None);
    assert_eq!((q1.completed, q1.open_at_end), (0, 1));
    assert_eq!(q1.open_median_age_days, Some(89));
}

#[test]
fn a_quarter_not_yet_over_is_judged_on_the_day_given() {
    let samm = book().samm().clone();
    let waiting = case("PL-B-ADA", "POL", 1_000_000, date(2025, 7, 1), &[]);
    let rows = compute(
        &[waiting],
        None,
        &window("2025-Q3", "2025-Q3", date(2025, 8, 10)),
        &samm,
    );
    let q3 = find(&rows, "2025-Q3", Phase::LorToOffer, None);
    assert_eq!(q3.open_median_age_days, Some(40));
}

#[test]
fn every_later_phase_is_measured_between_its_milestones() {
    let samm = book().samm().clone();
    let lor = date(2024, 1, 10);
    let full = case(
        "PL-B-AEA",
        "POL",
        1_000_000,
        lor,
        &[
            (Stage::LorActionable, date(2024, 1, 12)),
            (Stage::LoaDevelopment, date(2024, 1, 15)),
            (Stage::Offered, date(2024, 4, 19)),
            (Stage::Implemented, date(2024, 6, 1)),
            (Stage::OnContract, date(2024, 9, 1)),
            (Stage::Delivering, date(2025, 3, 1)),
            (Stage::Delivered, date(2025, 3, 31)),
        ],
    );
    let rows = compute(
        &[full],
        None,
        &window("2024-Q1", "2025-Q1", date(2025, 12, 31)),
        &samm,
    );
    let check = |quarter, phase, days| {
        let row = find(&rows, quarter, phase, None);
        assert_eq!(row.completed, 1, "{phase} in {quarter}");
        assert_eq!(row.median_days, Some(days), "{phase} in {quarter}");
    };
    check("2024-Q2", Phase::LorToOffer, 100);
    check("2024-Q2", Phase::OfferToAcceptance, 43);
    check("2024-Q3", Phase::AcceptanceToContract, 92);
    check("2025-Q1", Phase::ContractToFirstDelivery, 181);
    check("2025-Q1", Phase::FirstToFinalDelivery, 30);
    // Offered 98 days after the LOR became actionable: on time against group B's 100.
    assert_eq!(
        find(&rows, "2024-Q2", Phase::LorToOffer, None).on_time_share,
        Some(1.0)
    );
    // Accepted 43 days into an 85-day offer: on time.
    assert_eq!(
        find(&rows, "2024-Q2", Phase::OfferToAcceptance, None).on_time_share,
        Some(1.0)
    );
    // A case that never went to Congress has no notification_to_offer phase.
    let notified = find(&rows, "2024-Q2", Phase::NotificationToOffer, None);
    assert_eq!((notified.completed, notified.open_at_end), (0, 0));
}

#[test]
fn notification_to_offer_runs_from_the_start_of_review_to_the_offer() {
    // 2 × $60M of MDE for Poland: above the NATO+5 $25M MDE threshold, so the case goes
    // to Congress (15-day review for NATO+5) and is offered 40 days after notification.
    let samm = book().samm().clone();
    let notified = case(
        "PL-B-AFA",
        "POL",
        60_000_000,
        date(2025, 1, 6),
        &[
            (Stage::LorActionable, date(2025, 1, 8)),
            (Stage::LoaDevelopment, date(2025, 1, 10)),
            (Stage::CongressionalReview, date(2025, 3, 3)),
            (Stage::Offered, date(2025, 4, 12)),
        ],
    );
    let rows = compute(
        &[notified],
        None,
        &window("2025-Q1", "2025-Q2", date(2025, 12, 31)),
        &samm,
    );
    let q1 = find(&rows, "2025-Q1", Phase::NotificationToOffer, None);
    assert_eq!((q1.open_at_end, q1.open_median_age_days), (1, Some(28)));
    let q2 = find(&rows, "2025-Q2", Phase::NotificationToOffer, None);
    assert_eq!((q2.completed, q2.median_days), (1, Some(40)));
    assert_eq!(q2.on_time_share, None, "review sets no maximum");
}

#[test]
fn grouping_by_purchaser_splits_rows_beside_the_aggregate() {
    let samm = book().samm().clone();
    let lor = date(2025, 1, 2);
    let steps = |offered| {
        [
            (Stage::LorActionable, date(2025, 1, 5)),
            (Stage::LoaDevelopment, date(2025, 1, 6)),
            (Stage::Offered, offered),
        ]
    };
    let cases = vec![
        case("PL-B-AGA", "POL", 1_000_000, lor, &steps(date(2025, 3, 1))),
        case("PL-B-AGB", "POL", 1_000_000, lor, &steps(date(2025, 3, 11))),
        case("GM-B-AGC", "DEU", 1_000_000, lor, &steps(date(2025, 3, 21))),
    ];
    let rows = compute(
        &cases,
        Some(GroupBy::Purchaser),
        &window("2025-Q1", "2025-Q1", date(2025, 12, 31)),
        &samm,
    );
    assert_eq!(find(&rows, "2025-Q1", Phase::LorToOffer, None).completed, 3);
    let poland = find(&rows, "2025-Q1", Phase::LorToOffer, Some("POL"));
    assert_eq!((poland.completed, poland.median_days), (2, Some(58)));
    let germany = find(&rows, "2025-Q1", Phase::LorToOffer, Some("DEU"));
    assert_eq!((germany.completed, germany.median_days), (1, Some(78)));
    // A group with nothing in a phase gets no row; the aggregate always does.
    assert!(
        rows.iter()
            .all(|row| row.group.is_none() || row.phase != Phase::FirstToFinalDelivery)
    );
    assert_eq!(rows.iter().filter(|row| row.group.is_none()).count(), 6);
}

#[test]
fn group_and_line_groupings_name_the_aeca_group_and_production_line() {
    let poland = case("PL-B-AHA", "POL", 1_000_000, date(2025, 1, 2), &[]);
    assert_eq!(GroupBy::Group.groups_of(&poland), vec!["nato_plus_5"]);
    assert_eq!(GroupBy::Line.groups_of(&poland), vec!["pac3-mse"]);
    assert_eq!(GroupBy::Agency.groups_of(&poland), vec!["army"]);
    assert!(GroupBy::parse("country").is_err());
}

#[test]
fn an_event_recorded_more_than_thirty_days_after_its_date_is_late() {
    let recordings = [
        Recording {
            happened: date(2025, 1, 1),
            recorded: date(2025, 1, 31),
        },
        Recording {
            happened: date(2025, 1, 1),
            recorded: date(2025, 2, 1),
        },
        Recording {
            happened: date(2025, 3, 1),
            recorded: date(2025, 3, 1),
        },
    ];
    assert_eq!(late_recorded(&recordings), 1);
}

#[test]
fn windows_refuse_reversed_or_future_quarters() {
    let q = |text| Some(Quarter::parse(text).expect("quarter"));
    let today = date(2025, 8, 1);
    assert!(matches!(
        Window::new(q("2025-Q3"), q("2025-Q1"), today, &[]),
        Err(WindowError::Reversed { .. })
    ));
    assert!(matches!(
        Window::new(q("2025-Q4"), None, today, &[]),
        Err(WindowError::Future { .. })
    ));
    let default = Window::new(None, None, today, &[]).expect("valid");
    assert_eq!(default.quarters().len(), 1);
}

#[test]
fn targets_say_which_are_confirmed_and_which_assumed() {
    let targets = phase_targets(book().samm());
    let lor = targets
        .iter()
        .find(|target| target.phase == Phase::LorToOffer)
        .expect("group B has a target");
    assert_eq!((lor.days, lor.confidence), (100, Confidence::Unconfirmed));
    let offer = targets
        .iter()
        .find(|target| target.phase == Phase::OfferToAcceptance)
        .expect("OED");
    assert_eq!((offer.days, offer.confidence), (85, Confidence::Confirmed));
    assert_eq!(targets.len(), 2);
}

#[test]
fn a_direct_commercial_sale_that_skips_the_offer_leaves_lor_to_offer_on_its_contract() {
    // A DCS case goes from its request straight to a contract on 2025-02-01: it is in
    // lor_to_offer at the end of 2024-Q4, and neither completed nor open in it after that.
    let samm = book().samm().clone();
    let book = book();
    let new = NewCase {
        id: CaseId::parse("PL-B-AJA").expect("valid id"),
        purchaser: Country::parse("POL").expect("known"),
        agency: Agency::Army,
        channel: Channel::Dcs,
        lines: vec![CaseLine {
            item: "K2 tank".into(),
            quantity: 2,
            unit_usd: Usd::from_dollars(1_000_000).expect("small"),
            mde: true,
            category: Category::Article,
            production_line: None,
        }],
        lor_received: date(2024, 12, 1),
        offer_expiration_days: None,
        emergency: false,
        rule_set: None,
    };
    let contract = Event {
        date: date(2025, 2, 1),
        kind: EventKind::Advance {
            to: Stage::OnContract,
        },
    };
    let dcs = Case::open(new, &book)
        .expect("valid case")
        .apply(&contract, &book)
        .expect("a DCS sale may go straight to contract");
    let rows = compute(
        &[dcs],
        None,
        &window("2024-Q4", "2025-Q1", date(2025, 12, 31)),
        &samm,
    );
    let q4 = find(&rows, "2024-Q4", Phase::LorToOffer, None);
    assert_eq!((q4.completed, q4.open_at_end), (0, 1));
    let q1 = find(&rows, "2025-Q1", Phase::LorToOffer, None);
    assert_eq!((q1.completed, q1.open_at_end), (0, 0));
    let contract_phase = find(&rows, "2025-Q1", Phase::ContractToFirstDelivery, None);
    assert_eq!(contract_phase.open_at_end, 1);
}

#[test]
fn phase_indexes_follow_the_table_order() {
    for (index, phase) in Phase::ALL.into_iter().enumerate() {
        assert_eq!(phase_index(phase), index, "{phase}");
    }
}

fn row(quarter: &str, phase: Phase, group: Option<&str>, median: Option<i64>) -> PhaseMetrics {
    PhaseMetrics {
        quarter: Quarter::parse(quarter).expect("quarter"),
        phase,
        group: group.map(str::to_owned),
        completed: 1,
        median_days: median,
        p90_days: None,
        on_time_share: Some(0.5),
        open_at_end: 0,
        open_median_age_days: None,
    }
}

#[test]
fn a_chart_series_is_the_all_cases_rows_of_its_phase_placed_on_the_quarter_axis() {
    let rows = [
        row("2025-Q1", Phase::LorToOffer, None, Some(40)),
        row("2025-Q1", Phase::LorToOffer, Some("POL"), Some(99)),
        row("2025-Q2", Phase::LorToOffer, None, None),
        row("2025-Q3", Phase::OfferToAcceptance, None, Some(7)),
        row("2025-Q3", Phase::LorToOffer, None, Some(55)),
    ];
    let axis = quarter_axis(&rows);
    let names: Vec<String> = axis.iter().map(ToString::to_string).collect();
    assert_eq!(names, ["2025-Q1", "2025-Q2", "2025-Q3"]);
    let series = all_cases_series(&rows, &axis, Phase::LorToOffer, |row| row.median_days);
    assert_eq!(series, [(0, 40), (2, 55)], "no group row, no empty quarter");
}

#[test]
fn a_csv_row_leaves_an_absent_value_and_the_all_cases_group_empty() {
    let cells = row("2025-Q1", Phase::LorToOffer, None, None).csv_cells();
    assert_eq!(cells.len(), PhaseMetrics::CSV_HEADER.len());
    assert_eq!(cells[2], "", "group");
    assert_eq!(cells[4], "", "median_days");
    assert_eq!(cells[6], "0.5", "on_time_share");
}
