//! DSCA notifications as shipped.

use expedite_core::{Country, Usd};
use expedite_data::dsca::{self, NotificationFilter};

#[test]
fn all_ninety_notifications_with_sources() {
    let notifications = dsca::builtin().expect("the shipped file parses");
    assert_eq!(notifications.len(), 90);
    assert!(
        notifications
            .iter()
            .all(|n| n.source_url.starts_with("http"))
    );
    assert_eq!(
        notifications.iter().filter(|n| n.date.is_none()).count(),
        1,
        "Latvia HIMARS is undated"
    );
    let total =
        Usd::checked_sum(notifications.iter().filter_map(|n| n.value_usd)).expect("no overflow");
    // The README's coverage table: $175.48 bn in all.
    assert_eq!((total.cents() / 100 + 5_000_000) / 10_000_000, 17_548);
}

#[test]
fn filter_and_summary_by_purchaser_and_year() {
    let notifications = dsca::builtin().expect("the shipped file parses");
    let poland = NotificationFilter {
        purchasers: vec![Country::parse("POL").expect("a country")],
        ..NotificationFilter::default()
    };
    let polish: Vec<_> = notifications.iter().filter(|n| poland.matches(n)).collect();
    assert_eq!(polish.len(), 13);
    let summary = dsca::summary(polish.iter().copied()).expect("sums");
    let years: Vec<(Option<i16>, usize)> =
        summary.iter().map(|row| (row.year, row.count)).collect();
    assert_eq!(years, [(Some(2023), 5), (Some(2024), 6), (Some(2025), 2)]);
    let dated = NotificationFilter {
        from: Some("2023-01-01".parse().expect("a date")),
        to: Some("2023-12-31".parse().expect("a date")),
        ..NotificationFilter::default()
    };
    assert_eq!(
        notifications.iter().filter(|n| dated.matches(n)).count(),
        25
    );
    let latvia =
        dsca::summary(notifications.iter().filter(|n| n.country.iso3() == "LVA")).expect("sums");
    assert_eq!(
        latvia.last().map(|row| row.year),
        Some(None),
        "undated rows are kept as undated"
    );
}

#[test]
fn errors_name_the_line_and_field() {
    let text = "date,purchaser,iso3,item,quantity,value_usd,mde_value_usd,contractors,transmittal,source_url\n2022-13-01,Poland,POL,X,,1,,,,https://example.invalid\n";
    let error = dsca::from_csv_str(text, "edited.csv").expect_err("a bad date");
    assert_eq!(
        error.to_string(),
        "edited.csv line 2: field 'date': expected YYYY-MM-DD (found '2022-13-01')"
    );
}
