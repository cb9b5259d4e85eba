//! The production-line catalog and the notification mapping.

use expedite_data::capacity::{Catalog, RateKind, units_in};
use expedite_data::dsca;

#[test]
fn the_catalog_cites_every_number() {
    let catalog = Catalog::builtin().expect("the shipped catalog parses and checks");
    let ids: Vec<&str> = catalog.lines.iter().map(|line| line.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "pac3-mse",
            "gmlrs",
            "himars",
            "javelin",
            "shells-155mm",
            "f35",
            "ah64e",
            "m1a2",
            "f16-b70",
            "amraam",
            "thaad",
            "nasams"
        ]
    );
    let cited = |sources: &[String]| {
        !sources.is_empty() && sources.iter().all(|key| catalog.sources.contains_key(key))
    };
    for line in &catalog.lines {
        for step in &line.rates {
            assert!(cited(&step.sources), "{} rate {}", line.id, step.from);
        }
        for backlog in &line.backlogs {
            assert!(
                cited(&backlog.sources),
                "{} backlog {}",
                line.id,
                backlog.as_of
            );
        }
        for order in &line.orders {
            assert!(cited(&order.sources), "{} order {}", line.id, order.date);
        }
        if let Some(lead) = &line.lead_time {
            assert!(cited(&lead.sources), "{} lead time", line.id);
        }
    }
    let himars = catalog.line("himars").expect("HIMARS");
    let base: Vec<f64> = himars
        .base_rates()
        .iter()
        .map(|step| step.units_per_year)
        .collect();
    assert_eq!(base, [48.0, 60.0]);
    assert_eq!(
        himars
            .targets()
            .map(|step| step.units_per_year)
            .collect::<Vec<_>>(),
        [96.0]
    );
    // Monthly figures become yearly ones.
    let shells = catalog.line("shells-155mm").expect("shells");
    assert_eq!(
        shells.base_rates().last().map(|step| step.units_per_year),
        Some(480_000.0)
    );
    // A line without a reported rate runs on its stated capacity.
    let apache = catalog.line("ah64e").expect("Apache");
    assert_eq!(apache.base_rates().len(), 1);
    assert_eq!(apache.base_rates()[0].kind, RateKind::Capacity);
}

#[test]
fn a_catalog_number_without_a_source_is_rejected() {
    let text = "mapping = []\n[[line]]\nid = \"x\"\nsystem = \"X\"\nunit = \"unit\"\n[[line.rate]]\nfrom = \"2024-01-01\"\nkind = \"reported\"\nunits_per_year = 5\nas_published = \"5/yr\"\nstated = \"2024-01-01\"\nsources = []\n[sources]\n";
    let error = Catalog::from_toml_str(text, "test.toml").expect_err("no source");
    assert!(
        error.to_string().contains("every number needs a source"),
        "{error}"
    );
}

#[test]
fn quantities_are_read_from_the_part_that_names_the_units() {
    assert_eq!(
        units_in(
            "48 M903 launchers; 644 PAC-3 MSE; 12 LTAMDS radars",
            Some("PAC-3 MSE")
        ),
        Some(644)
    );
    assert_eq!(
        units_in("36 GEM-T; 20 PAC-3 MSE", Some("PAC-3 MSE")),
        Some(20)
    );
    assert_eq!(units_in("600", Some("PAC-3 MSE")), Some(600));
    assert_eq!(
        units_in("2,506 FGM-148F missiles; 253 LwCLU", Some("FGM-148")),
        Some(2506)
    );
    assert_eq!(units_in("up to 6 launchers", Some("launcher")), Some(6));
    assert_eq!(units_in("up to 40", None), Some(40));
    assert_eq!(units_in("6 AH-1Z; 2 UH-1Y", None), None);
}

#[test]
fn notifications_to_european_allies_map_to_lines() {
    let catalog = Catalog::builtin().expect("catalog");
    let notifications = dsca::builtin().expect("notifications");
    let mapped: Vec<(String, &str, Option<u32>)> = notifications
        .iter()
        .filter_map(|n| {
            let item = catalog.map(n)?;
            Some((item.line, n.country.iso3(), item.units))
        })
        .collect();
    let find = |line: &str, iso3: &str| {
        mapped
            .iter()
            .filter(|(l, c, _)| l == line && *c == iso3)
            .map(|(_, _, units)| *units)
            .collect::<Vec<_>>()
    };
    assert_eq!(find("pac3-mse", "POL"), [Some(644)]);
    assert_eq!(find("pac3-mse", "DEU"), [Some(600)]);
    assert_eq!(find("pac3-mse", "DNK"), [Some(20)]);
    assert_eq!(find("himars", "POL"), [Some(18)]);
    assert_eq!(find("javelin", "POL"), [Some(2506)]);
    assert_eq!(find("ah64e", "POL"), [Some(96)]);
    assert_eq!(find("m1a2", "ROU"), [Some(54)]);
    assert_eq!(find("f35", "GRC"), [Some(40)]);
    assert!(
        find("f35", "POL").is_empty(),
        "F-35 sustainment is not an aircraft order"
    );
    assert_eq!(find("gmlrs", "FIN"), [None], "no quantity stated");
}

#[test]
fn update_4_facts_are_in_the_catalog_with_their_dates() {
    let catalog = Catalog::builtin().expect("catalog");
    let f35 = catalog.line("f35").expect("F-35");
    let backlog = f35.backlog_on(date(2026, 1, 1)).expect("a stated backlog");
    assert_eq!((backlog.units, backlog.as_of), (416, date(2026, 1, 1)));
    let f16 = catalog.line("f16-b70").expect("F-16 Block 70");
    assert_eq!(f16.backlog_on(date(2025, 1, 1)).map(|b| b.units), Some(132));
    assert_eq!(
        f16.backlog_on(date(2025, 12, 1)).map(|b| b.units),
        Some(117)
    );
    // Each counts the whole line's book, every customer's undelivered units.
    assert!(backlog.all_customers);
    assert!(f16.backlogs.iter().all(|backlog| backlog.all_customers));
    let apache = catalog.line("ah64e").expect("Apache");
    let poland = apache.orders.first().expect("the Nov 2025 FMS contract");
    assert_eq!(poland.units, Some(96));
    assert_eq!(poland.deliveries_to, Some(date(2032, 5, 30)));
    let thaad = catalog.line("thaad").expect("THAAD");
    assert_eq!(thaad.base_rates()[0].units_per_year, 96.0);
    assert_eq!(
        thaad
            .targets()
            .map(|t| t.units_per_year)
            .collect::<Vec<_>>(),
        [400.0]
    );
    let amraam = catalog.line("amraam").expect("AMRAAM");
    assert!(
        amraam.base_rates().is_empty(),
        "no current AMRAAM rate is published, only the framework's target"
    );
    let nasams = catalog.line("nasams").expect("NASAMS");
    assert!(nasams.rates.is_empty(), "a lead-time line has no unit rate");
    let lead = nasams.lead_time.as_ref().expect("lead time");
    assert_eq!((lead.months_min, lead.months_max), (32.0, 35.0));
}

#[test]
fn the_catalog_as_known_on_a_day_drops_what_was_stated_later() {
    let catalog = Catalog::builtin().expect("catalog");
    // On 2025-06-30 the F-35's 416 backlog (Jan 2026), its 2025 count and the Jan 2026
    // capacity were not yet published; the 2024 count (Jan 2025) was.
    let mid_2025 = catalog.as_known_on(date(2025, 6, 30));
    let f35 = mid_2025.line("f35").expect("F-35 stays");
    assert!(f35.backlogs.is_empty());
    assert_eq!(
        f35.rates
            .iter()
            .map(|s| s.units_per_year)
            .collect::<Vec<_>>(),
        [142.0, 141.0, 98.0, 110.0]
    );
    assert!(
        f35.rates
            .iter()
            .all(|step| step.stated <= date(2025, 6, 30))
    );
    // The F-16's Feb 2024 backlog was known; its Jul 2025 one was not.
    let f16 = mid_2025.line("f16-b70").expect("F-16");
    assert_eq!(
        f16.backlogs.iter().map(|b| b.units).collect::<Vec<_>>(),
        [132]
    );
    // The Apache order of Nov 2025 was not known.
    assert!(mid_2025.line("ah64e").expect("Apache").orders.is_empty());
    // Everything in the catalog was known by mid-2026.
    assert_eq!(catalog.as_known_on(date(2026, 6, 30)), catalog);
}

#[test]
fn new_lines_take_their_notifications() {
    let catalog = Catalog::builtin().expect("catalog");
    let notifications = dsca::builtin().expect("notifications");
    let mapped = |iso3: &str, item_part: &str| {
        notifications
            .iter()
            .find(|n| n.country.iso3() == iso3 && n.item.contains(item_part))
            .and_then(|n| catalog.map(n))
            .map(|item| (item.line, item.units))
    };
    assert_eq!(
        mapped("POL", "AMRAAM"),
        Some(("amraam".to_owned(), Some(745)))
    );
    assert_eq!(
        mapped("DEU", "AMRAAM"),
        Some(("amraam".to_owned(), Some(969)))
    );
    assert_eq!(
        mapped("DNK", "AMRAAM-ER"),
        None,
        "AMRAAM-ER is the NASAMS round, not the AIM-120 line"
    );
    assert_eq!(
        mapped("TWN", "NASAMS"),
        Some(("nasams".to_owned(), Some(3)))
    );
    assert_eq!(
        mapped("POL", "F-16 Viper Midlife"),
        None,
        "an upgrade is not a new build"
    );
}

#[test]
fn a_catalog_fact_without_a_stated_date_is_rejected() {
    let text = "mapping = []\n[[line]]\nid = \"x\"\nsystem = \"X\"\nunit = \"unit\"\n[[line.rate]]\nfrom = \"2024-01-01\"\nkind = \"reported\"\nunits_per_year = 5\nas_published = \"5/yr\"\nsources = [1]\n[sources]\n1 = \"a source\"\n";
    let error = Catalog::from_toml_str(text, "test.toml").expect_err("no stated date");
    assert!(error.to_string().contains("test.toml"), "{error}");
}

fn date(year: i16, month: i8, day: i8) -> expedite_core::Date {
    jiff::civil::date(year, month, day)
}
