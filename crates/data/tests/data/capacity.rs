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
            "m1a2"
        ]
    );
    assert!(
        catalog
            .lines
            .iter()
            .flat_map(|line| &line.rates)
            .all(|step| !step.sources.is_empty())
    );
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
    let text = "mapping = []\n[[line]]\nid = \"x\"\nsystem = \"X\"\nunit = \"unit\"\n[[line.rate]]\nfrom = \"2024-01-01\"\nkind = \"reported\"\nunits_per_year = 5\nas_published = \"5/yr\"\nsources = []\n[sources]\n";
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
