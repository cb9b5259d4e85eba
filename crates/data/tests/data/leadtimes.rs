//! Lead-time statistics on the hand-made fixture. Expected values are computed by hand in
//! the comments (first / full delivery lead times per deal are also written in each row's
//! comment).

use expedite_core::Country;
use expedite_data::sipri::leadtime::{
    DealFilter, GroupBy, LeadTimeGroup, PartySelector, RecipientGroup, StatusFilter, lead_times,
    select,
};
use expedite_data::sipri::{self, TradeRegister};

use crate::fixture;

fn register() -> TradeRegister {
    sipri::read_path(&fixture("leadtimes-per-deal.csv")).expect("the fixture parses")
}

fn group<'a>(groups: &'a [LeadTimeGroup], key: &str) -> &'a LeadTimeGroup {
    groups
        .iter()
        .find(|group| group.key == key)
        .expect("the group exists")
}

#[test]
fn by_supplier_with_an_even_number_of_full_deliveries() {
    let report = lead_times(&register(), &DealFilter::default(), GroupBy::Supplier);
    assert_eq!(report.source.rows, 10);
    assert_eq!(
        report.source.generated.as_deref(),
        Some("1 Jan 2026 12:00:00 PM")
    );
    // South Korea: first delivery after 1, 3, 2 years; one deal with nothing delivered.
    // sorted [1, 2, 3]: median 2; p90 at rank 0.9 * 2 = 1.8 -> 2 + 0.8 * (3 - 2) = 2.8;
    // mean 2. Fully delivered: 2 and 3 years -> median (2 + 3) / 2 = 2.5.
    let korea = group(&report.groups, "South Korea");
    assert_eq!(
        (
            korea.deals,
            korea.deals_with_delivery,
            korea.deals_fully_delivered
        ),
        (4, 3, Some(2))
    );
    assert_eq!(korea.first_delivery_years.median, Some(2.0));
    assert_eq!(korea.first_delivery_years.p90, Some(2.8));
    assert_eq!(korea.first_delivery_years.mean, Some(2.0));
    assert_eq!(korea.full_delivery_years.median, Some(2.5));
    assert_eq!(korea.share_first_delivery_within_years.one, Some(0.3333));
    assert_eq!(korea.share_first_delivery_within_years.two, Some(0.6667));
    assert_eq!(korea.share_first_delivery_within_years.three, Some(1.0));
    assert_eq!(korea.tiv_total_order, Some(34.0));
}

#[test]
fn by_supplier_with_an_even_number_of_first_deliveries() {
    let report = lead_times(&register(), &DealFilter::default(), GroupBy::Supplier);
    // United States: first after 2, 0, 4, 5 years; the NATO** order has none.
    // sorted [0, 2, 4, 5]: median (2 + 4) / 2 = 3; p90 at rank 0.9 * 3 = 2.7 ->
    // 4 + 0.7 * (5 - 4) = 4.7; mean 11 / 4 = 2.75. Full: 4, 0, 5 (the order with no number
    // ordered is not full) -> median 4. Within 1 year: 1 of 4; 2: 2 of 4; 3: 2 of 4.
    let us = group(&report.groups, "United States");
    assert_eq!(
        (us.deals, us.deals_with_delivery, us.deals_fully_delivered),
        (5, 4, Some(3))
    );
    assert_eq!(us.first_delivery_years.median, Some(3.0));
    assert_eq!(us.first_delivery_years.p90, Some(4.7));
    assert_eq!(us.first_delivery_years.mean, Some(2.75));
    assert_eq!(us.full_delivery_years.median, Some(4.0));
    assert_eq!(us.share_first_delivery_within_years.one, Some(0.25));
    assert_eq!(us.share_first_delivery_within_years.two, Some(0.5));
    assert_eq!(us.share_first_delivery_within_years.three, Some(0.5));
    // The empty total of the unknown-quantity order adds nothing: 10 + 3 + 2.5 + 30.
    assert_eq!(us.tiv_total_order, Some(45.5));
    // Groups come most deals first.
    let keys: Vec<&str> = report
        .groups
        .iter()
        .map(|group| group.key.as_str())
        .collect();
    assert_eq!(keys, ["United States", "South Korea", "Germany"]);
}

#[test]
fn a_group_without_deliveries_has_no_statistics() {
    let filter = DealFilter {
        recipients: vec![PartySelector::parse("NATO**")],
        ..DealFilter::default()
    };
    let report = lead_times(&register(), &filter, GroupBy::Recipient);
    let nato = group(&report.groups, "NATO**");
    assert_eq!((nato.deals, nato.deals_with_delivery), (1, 0));
    assert_eq!(nato.first_delivery_years.median, None);
    assert_eq!(nato.first_delivery_years.p90, None);
    assert_eq!(nato.full_delivery_years.median, None);
    assert_eq!(nato.share_first_delivery_within_years.one, None);
}

#[test]
fn filters_by_years_status_parties_and_nato_group() {
    let register = register();
    let years = DealFilter {
        from_year: Some(2018),
        to_year: Some(2020),
        ..DealFilter::default()
    };
    assert_eq!(select(&register, &years).len(), 4);
    let new_only = DealFilter {
        status: StatusFilter::New,
        ..DealFilter::default()
    };
    assert_eq!(select(&register, &new_only).len(), 8);
    let second_hand = DealFilter {
        status: StatusFilter::SecondHand,
        ..DealFilter::default()
    };
    assert_eq!(select(&register, &second_hand).len(), 2);
    // ISO3 codes and SIPRI names select the same deals.
    let by_code = DealFilter {
        suppliers: vec![PartySelector::parse("KOR")],
        ..DealFilter::default()
    };
    let by_name = DealFilter {
        suppliers: vec![PartySelector::parse("South Korea")],
        ..DealFilter::default()
    };
    assert_eq!(select(&register, &by_code), select(&register, &by_name));
    assert_eq!(select(&register, &by_code).len(), 4);
    // NATO members only: NATO** is an organisation, not a member state.
    let nato = DealFilter {
        suppliers: vec![PartySelector::Country(
            Country::parse("USA").expect("a country"),
        )],
        recipient_group: Some(RecipientGroup::Nato),
        ..DealFilter::default()
    };
    let recipients: Vec<&str> = select(&register, &nato)
        .iter()
        .map(|deal| deal.recipient.name.as_str())
        .collect();
    assert_eq!(recipients, ["Poland", "Estonia", "Germany", "Poland"]);
}

#[test]
fn unknown_names_are_errors_not_empty_results() {
    let register = register();
    let typo = DealFilter {
        suppliers: vec![PartySelector::parse("Sout Korea")],
        ..DealFilter::default()
    };
    let error = typo.check_names(&register).expect_err("a typo is caught");
    assert!(
        error.to_string().contains("unknown supplier 'Sout Korea'"),
        "{error}"
    );
    let organisation = DealFilter {
        recipients: vec![PartySelector::parse("nato**")],
        ..DealFilter::default()
    };
    organisation
        .check_names(&register)
        .expect("SIPRI names match without regard to case");
}

#[test]
fn by_pair_and_by_category() {
    let register = register();
    let pairs = lead_times(
        &register,
        &DealFilter::default(),
        GroupBy::SupplierRecipient,
    );
    let korea_poland = group(&pairs.groups, "South Korea -> Poland");
    // 1 and 3 years: median of an even count (1 + 3) / 2 = 2; p90 1 + 0.9 * 2 = 2.8.
    assert_eq!(korea_poland.first_delivery_years.median, Some(2.0));
    assert_eq!(korea_poland.first_delivery_years.p90, Some(2.8));
    let categories = lead_times(&register, &DealFilter::default(), GroupBy::Category);
    // The per-deal layout has no category column: the weapon description stands in.
    let guns = group(&categories.groups, "self-propelled gun");
    assert_eq!(guns.deals, 3);
}

#[test]
fn per_delivery_year_layout_gathers_rows_of_a_deal() {
    let register = sipri::read_path(&fixture("leadtimes-per-delivery-year.csv"))
        .expect("the per-year fixture parses");
    assert_eq!(register.layout, sipri::Layout::PerDeliveryYear);
    assert_eq!(register.records, 3);
    assert_eq!(register.deals.len(), 2);
    let tanks = &register.deals[0];
    assert_eq!(tanks.sipri_id, Some(101));
    assert_eq!(tanks.delivery_years, [2021, 2023]);
    assert_eq!(tanks.number_delivered, 10);
    assert!(tanks.number_delivered_uncertain);
    assert_eq!(tanks.tiv_delivered, Some(20.0));
    assert_eq!(tanks.category(), "Armoured vehicles");
    assert_eq!(
        tanks.number_ordered, None,
        "this layout has no number ordered"
    );
    let report = lead_times(&register, &DealFilter::default(), GroupBy::Supplier);
    let korea = group(&report.groups, "South Korea");
    assert_eq!(
        (korea.deals_with_delivery, korea.deals_fully_delivered),
        (1, None),
        "without a number ordered, how many are fully delivered is unknown, not zero"
    );
    assert_eq!(korea.first_delivery_years.median, Some(1.0));
}

#[test]
fn total_order_tiv_is_missing_not_zero_when_no_deal_has_one() {
    // The per-delivery-year layout has no order TIV at all.
    let per_year = sipri::read_path(&fixture("leadtimes-per-delivery-year.csv"))
        .expect("the per-year fixture parses");
    let report = lead_times(&per_year, &DealFilter::default(), GroupBy::Supplier);
    assert_eq!(group(&report.groups, "South Korea").tiv_total_order, None);
    // Germany's one fixture deal has no number ordered, hence no order TIV.
    let report = lead_times(&register(), &DealFilter::default(), GroupBy::Recipient);
    assert_eq!(group(&report.groups, "Germany").tiv_total_order, None);
}

/// The hand-made register of `leadtimes-censored.csv`: each row's comment says what it tests.
fn censored_register() -> TradeRegister {
    sipri::read_path(&fixture("leadtimes-censored.csv")).expect("the fixture parses")
}

#[test]
fn kaplan_meier_counts_undelivered_deals_as_still_waiting() {
    let register = censored_register();
    assert_eq!(register.last_year(), Some(2025));
    let report = lead_times(&register, &DealFilter::default(), GroupBy::Supplier);
    assert_eq!(report.censored_at_year, Some(2025));
    // South Korea: delivered after 1, 2, 2, 4 years; waiting since 2022 and 2020, censored
    // at 3 and 5 years. At risk 6, 5, (3 censored at 3), 2: S(1) = 5/6, S(2) = 5/6 * 3/5 =
    // 1/2, S(4) = 1/2 * 1/2 = 1/4, then the curve ends at 5 with a quarter still waiting:
    // KM median 2, KM p90 beyond the data. The plain p90 over [1, 2, 2, 4] is 3.4.
    let korea = group(&report.groups, "South Korea");
    assert_eq!(
        (
            korea.deals,
            korea.deals_with_delivery,
            korea.deals_undelivered
        ),
        (6, 4, 2)
    );
    assert!(!korea.mostly_undelivered);
    assert_eq!(korea.first_delivery_years.median, Some(2.0));
    assert_eq!(korea.first_delivery_years.p90, Some(3.4));
    assert_eq!(korea.first_delivery_years_km.median, Some(2.0));
    assert_eq!(korea.first_delivery_years_km.p90, None);
}

#[test]
fn most_deals_undelivered_is_flagged() {
    // United States to NATO members in their order year: Finland 2024 (waiting) and Poland
    // 2018 (2 years); Poland 2019 is a data error, so 1 of 2 waits: not most.
    let nato = DealFilter {
        recipient_group: Some(RecipientGroup::Nato),
        suppliers: vec![PartySelector::parse("USA")],
        ..DealFilter::default()
    };
    let report = lead_times(&censored_register(), &nato, GroupBy::Supplier);
    let us = group(&report.groups, "United States");
    assert_eq!((us.deals, us.deals_undelivered), (2, 1));
    assert!(!us.mostly_undelivered);
    let finland_2024 = DealFilter {
        recipients: vec![PartySelector::parse("FIN")],
        from_year: Some(2024),
        ..DealFilter::default()
    };
    let report = lead_times(&censored_register(), &finland_2024, GroupBy::Supplier);
    let us = group(&report.groups, "United States");
    assert!(us.mostly_undelivered, "the only deal waits");
    assert_eq!(us.first_delivery_years.median, None);
    assert_eq!(us.first_delivery_years_km.median, None);
}

#[test]
fn nato_group_counts_a_deal_only_if_the_recipient_was_a_member_in_its_order_year() {
    let register = censored_register();
    let in_order_year = DealFilter {
        suppliers: vec![PartySelector::parse("USA")],
        recipient_group: Some(RecipientGroup::Nato),
        ..DealFilter::default()
    };
    let years = |filter: &DealFilter| -> Vec<(String, i32)> {
        select(&register, filter)
            .iter()
            .map(|deal| (deal.recipient.name.clone(), deal.order_year))
            .collect()
    };
    // Albania's 1955 order (it joined in 2009) and Finland's 2020 one (2023) are left out.
    assert_eq!(
        years(&in_order_year),
        [
            ("Finland".to_owned(), 2024),
            ("Poland".to_owned(), 2018),
            ("Poland".to_owned(), 2019)
        ]
    );
    let any_time = DealFilter {
        members_any_time: true,
        ..in_order_year
    };
    assert_eq!(years(&any_time).len(), 5);
    assert!(years(&any_time).contains(&("Albania".to_owned(), 1955)));
}

#[test]
fn a_delivery_before_the_order_is_a_data_error_outside_the_statistics() {
    let filter = DealFilter {
        recipients: vec![PartySelector::parse("POL")],
        suppliers: vec![PartySelector::parse("USA")],
        ..DealFilter::default()
    };
    let report = lead_times(&censored_register(), &filter, GroupBy::Supplier);
    assert_eq!(report.data_errors.len(), 1);
    let error = &report.data_errors[0];
    assert_eq!((error.order_year, error.first_delivery_year), (2019, 2018));
    assert_eq!(error.designation, "Test radar E");
    let us = group(&report.groups, "United States");
    assert_eq!(us.deals, 1, "only the 2018 order is counted");
    assert_eq!(us.first_delivery_years.median, Some(2.0));
}
