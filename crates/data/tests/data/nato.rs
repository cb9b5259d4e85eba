//! NATO figures as shipped: the counts NATO reported, and gaps reported as gaps.

use expedite_core::Country;
use expedite_data::Percent;
use expedite_data::nato::{EDITION, NatoData, NatoSources, earlier_counts};

fn nato() -> NatoData {
    NatoData::builtin().expect("the shipped NATO files parse")
}

fn country(code: &str) -> Country {
    Country::parse(code).expect("a country")
}

const TWO_PERCENT: Percent = Percent::from_hundredths(200);

#[test]
fn members_at_or_above_two_percent_as_nato_reported() {
    let nato = nato();
    let in_2014 = nato.status(Some(2014), TWO_PERCENT).expect("2014 figures");
    assert_eq!(in_2014.count_meeting, 3);
    let mut codes: Vec<&str> = in_2014.meeting.iter().map(|m| m.iso3).collect();
    codes.sort_unstable();
    assert_eq!(codes, ["GBR", "GRC", "USA"]);
    assert_eq!(
        nato.status(Some(2023), TWO_PERCENT)
            .expect("2023 figures")
            .count_meeting,
        10
    );
    assert_eq!(
        nato.status(Some(2024), TWO_PERCENT)
            .expect("2024 figures")
            .count_meeting,
        18
    );
    // Members that year only: 28 in 2014 (before Montenegro, North Macedonia, Finland,
    // Sweden), of which Iceland has no figure.
    assert_eq!(in_2014.members_reporting, 27);
    assert_eq!(in_2014.below.len(), 24);
}

#[test]
fn a_member_without_a_figure_is_missing_not_zero() {
    let nato = nato();
    assert_eq!(nato.latest_year(), Some(2025));
    let latest = nato.status(None, TWO_PERCENT).expect("the latest year");
    assert_eq!(latest.year, 2025);
    let missing: Vec<&str> = latest.missing.iter().map(|m| m.iso3).collect();
    assert_eq!(missing, ["DEU", "ISL"]);
    assert!(
        latest.below.iter().all(|below| below.iso3 != "DEU"),
        "Germany is not counted as 0%"
    );
    assert_eq!((latest.members_reporting, latest.count_meeting), (30, 30));
    let germany = nato.trend(country("DEU")).expect("Germany is a member");
    let last = germany.series.last().expect("a series");
    assert_eq!((last.year, last.pct_gdp), (2025, None));
    assert_eq!(germany.latest_year, Some(2024));
}

#[test]
fn gaps_below_the_target_in_percentage_points() {
    let status = nato()
        .status(Some(2023), Percent::from_hundredths(350))
        .expect("2023");
    let poland = status.meeting.iter().chain([]).find(|m| m.iso3 == "POL");
    assert!(
        poland.is_none(),
        "Poland was at 3.27% in 2023 in the 2025 edition"
    );
    let poland = status
        .below
        .iter()
        .find(|b| b.iso3 == "POL")
        .expect("Poland below 3.5%");
    assert_eq!(
        (poland.pct_gdp, poland.gap_pct_points),
        (Percent::from_hundredths(327), Percent::from_hundredths(23))
    );
}

#[test]
fn trend_and_path() {
    let nato = nato();
    let poland = nato.trend(country("Poland")).expect("a member");
    assert_eq!(poland.series.len(), 12);
    assert_eq!(
        poland.series[0].pct_gdp,
        Some(Percent::from_hundredths(186))
    );
    assert_eq!(poland.latest_year, Some(2025));
    // 4.48 (2025e) - 1.86 (2014) = 2.62 points.
    assert_eq!(
        poland.change_since_2014_pct_points,
        Some(Percent::from_hundredths(262))
    );
    assert!(poland.series[11].estimate);
    assert!(
        nato.trend(country("AUT")).is_err(),
        "Austria is not a member"
    );

    let path = nato
        .path(Percent::from_hundredths(350), 2035)
        .expect("2035 is after 2025");
    let step = |code: &str| {
        path.iter()
            .find(|step| step.iso3 == code)
            .expect("every member")
    };
    // Germany: latest 2.00 (2024), (3.50 - 2.00) / 11 years = 0.136.
    assert_eq!(step("DEU").latest_year, Some(2024));
    assert_eq!(step("DEU").yearly_increase_pct_points, Some(0.136));
    assert_eq!(
        step("POL").yearly_increase_pct_points,
        Some(0.0),
        "already above 3.5%"
    );
    assert_eq!(
        step("ISL").yearly_increase_pct_points,
        None,
        "no figure at all"
    );
    assert_eq!(path.len(), 32);
    assert!(nato.path(Percent::from_hundredths(350), 2025).is_err());
}

#[test]
fn errors_in_a_file_name_the_line_and_field() {
    let bad = "# note\ncountry,iso3,year,pct_gdp,estimate,source_id\nPoland,POL,2014,1.86,,X\nPoland,POL,2015,2.2.1,,X\n";
    let sources = NatoSources {
        expenditure: bad,
        ..NatoSources::BUILTIN
    };
    let error = NatoData::from_sources(sources).expect_err("a bad figure");
    assert_eq!(
        error.to_string(),
        "nato/defence-expenditure.csv line 4: field 'pct_gdp': expected a percentage with at most 2 decimals (found '2.2.1')"
    );
}

#[test]
fn a_year_dropped_from_the_data_is_reported_missing() {
    let text = NatoSources::BUILTIN.expenditure;
    let without_poland_2023: String = text
        .lines()
        .filter(|line| !line.starts_with("Poland,POL,2023,"))
        .map(|line| format!("{line}\n"))
        .collect();
    let sources = NatoSources {
        expenditure: &without_poland_2023,
        ..NatoSources::BUILTIN
    };
    let nato = NatoData::from_sources(sources).expect("still parses");
    let status = nato.status(Some(2023), TWO_PERCENT).expect("2023");
    assert!(status.missing.iter().any(|m| m.iso3 == "POL"));
    assert_eq!(status.count_meeting, 9);
}

#[test]
fn earlier_editions_counted_more_allies_at_two_percent_in_2024_and_2023() {
    // The project's NATO source notes: the June 2024 edition counted 23 Allies at 2% in
    // 2024 and the Secretary General's report of April 2025 22; the 2025 edition used here
    // counts 18. The February 2024 release counted 11 for 2023, the 2025 edition 10.
    let earlier = earlier_counts().expect("the shipped notes parse");
    let count = |year: i32, source_id: &str| {
        earlier
            .iter()
            .find(|count| count.year == year && count.source_id == source_id)
            .map(|count| count.allies_meeting)
    };
    assert_eq!(count(2024, "NATO-DE-2024"), Some(23));
    assert_eq!(count(2024, "NATO-SGAR-2024"), Some(22));
    assert_eq!(count(2023, "NATO-DE-2024-FEB"), Some(11));
    let data = nato();
    let two = TWO_PERCENT;
    assert_eq!(
        data.status(Some(2024), two).expect("2024").count_meeting,
        18
    );
    assert_eq!(
        data.status(Some(2023), two).expect("2023").count_meeting,
        10
    );
    // 2014: both editions count 3, so no note would differ.
    assert_eq!(count(2014, "NATO-DE-2024"), Some(3));
    assert_eq!(data.status(Some(2014), two).expect("2014").count_meeting, 3);
    assert_eq!(EDITION.published, "2025-08-28");
}
