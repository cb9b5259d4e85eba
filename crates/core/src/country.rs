//! Countries (ISO 3166-1 alpha-3) and the dated groups the statutes use.
//!
//! The country table lives in `data/countries.tsv`, compiled in. Each country has an English
//! short name and the other spellings that SIPRI and NATO use, so that `Country::parse`
//! accepts `POL`, `Poland`, `Turkiye` or `Türkiye` alike.
//!
//! Group membership is dated, because the statutes are (reference §3.1): a Finnish purchase
//! before Finland joined NATO on 2023-04-04 is judged as a non-NATO+5 sale.

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use jiff::civil::date;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Date;

const COUNTRY_TABLE: &str = include_str!("../data/countries.tsv");

struct CountryRecord {
    iso3: &'static str,
    name: &'static str,
    aliases: Vec<&'static str>,
}

struct CountryIndex {
    records: Vec<CountryRecord>,
    by_key: HashMap<String, u16>,
}

fn index() -> &'static CountryIndex {
    static INDEX: OnceLock<CountryIndex> = OnceLock::new();
    INDEX.get_or_init(build_index)
}

fn build_index() -> CountryIndex {
    let records: Vec<CountryRecord> = COUNTRY_TABLE
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let mut fields = line.split('\t');
            let iso3 = fields.next().unwrap_or_default();
            let name = fields.next().unwrap_or_default();
            let aliases = fields
                .next()
                .unwrap_or_default()
                .split(';')
                .map(str::trim)
                .filter(|alias| !alias.is_empty())
                .collect();
            CountryRecord {
                iso3,
                name,
                aliases,
            }
        })
        .collect();
    let mut by_key = HashMap::new();
    for (position, record) in records.iter().enumerate() {
        let position = u16::try_from(position).unwrap_or(u16::MAX);
        for key in [record.iso3, record.name]
            .into_iter()
            .chain(record.aliases.iter().copied())
        {
            by_key.entry(normalise(key)).or_insert(position);
        }
    }
    CountryIndex { records, by_key }
}

fn normalise(text: &str) -> String {
    text.trim().to_lowercase()
}

/// A country, by its ISO 3166-1 alpha-3 code. Only codes in the compiled-in table exist.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Country {
    position: u16,
}

/// A country name or code that is not in the table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown country '{0}': expected an ISO 3166-1 alpha-3 code such as POL, or an English name"
)]
pub struct UnknownCountry(pub String);

impl Country {
    /// Finds a country by ISO3 code, English name or a known alias (SIPRI or NATO
    /// spelling), ignoring case and surrounding spaces.
    ///
    /// # Errors
    /// [`UnknownCountry`] when nothing matches.
    ///
    /// ```
    /// use expedite_core::Country;
    /// assert_eq!(Country::parse("Turkiye").unwrap().iso3(), "TUR");
    /// assert_eq!(Country::parse("pol").unwrap().name(), "Poland");
    /// ```
    pub fn parse(text: &str) -> Result<Self, UnknownCountry> {
        index()
            .by_key
            .get(&normalise(text))
            .map(|&position| Country { position })
            .ok_or_else(|| UnknownCountry(text.to_owned()))
    }

    /// Finds a country by its ISO3 code only (case-insensitive): for wire formats where a
    /// name would be ambiguous.
    ///
    /// # Errors
    /// [`UnknownCountry`] when the text is not a known code.
    pub fn from_iso3(code: &str) -> Result<Self, UnknownCountry> {
        let country = Self::parse(code)?;
        if country.iso3().eq_ignore_ascii_case(code.trim()) {
            Ok(country)
        } else {
            Err(UnknownCountry(code.to_owned()))
        }
    }

    /// The ISO 3166-1 alpha-3 code (ISO 3166-3 for historic states).
    pub fn iso3(self) -> &'static str {
        self.record().iso3
    }

    /// The English short name.
    pub fn name(self) -> &'static str {
        self.record().name
    }

    /// Other spellings this country is known by.
    pub fn aliases(self) -> &'static [&'static str] {
        &self.record().aliases
    }

    /// Every country in the table, in table order.
    pub fn all() -> impl Iterator<Item = Country> {
        (0..index().records.len()).map(|position| Country {
            position: position as u16,
        })
    }

    fn record(self) -> &'static CountryRecord {
        &index().records[usize::from(self.position)]
    }

    /// The date this country joined NATO, if it has.
    pub fn nato_accession(self) -> Option<Date> {
        NATO_ACCESSIONS
            .iter()
            .find(|(code, _)| *code == self.iso3())
            .map(|&(_, joined)| joined)
    }

    /// Whether the country was a NATO member on `day`.
    pub fn is_nato_member_on(self, day: Date) -> bool {
        self.nato_accession().is_some_and(|joined| joined <= day)
    }

    /// The AECA group the country belonged to on `day` (reference §3.1).
    pub fn aeca_group_on(self, day: Date) -> AecaGroup {
        let listed = NATO_PLUS_5_PARTNERS
            .iter()
            .any(|&(code, since)| code == self.iso3() && since.is_none_or(|joined| joined <= day));
        if listed || self.is_nato_member_on(day) {
            AecaGroup::NatoPlus5
        } else {
            AecaGroup::Other
        }
    }
}

/// NATO members and the day each joined (entry into force of its accession).
/// Source: NATO, "Member countries"; Finland and Sweden per the reference §3.1 and the issue.
pub const NATO_ACCESSIONS: [(&str, Date); 32] = [
    ("BEL", date(1949, 8, 24)),
    ("CAN", date(1949, 8, 24)),
    ("DNK", date(1949, 8, 24)),
    ("FRA", date(1949, 8, 24)),
    ("ISL", date(1949, 8, 24)),
    ("ITA", date(1949, 8, 24)),
    ("LUX", date(1949, 8, 24)),
    ("NLD", date(1949, 8, 24)),
    ("NOR", date(1949, 8, 24)),
    ("PRT", date(1949, 8, 24)),
    ("GBR", date(1949, 8, 24)),
    ("USA", date(1949, 8, 24)),
    ("GRC", date(1952, 2, 18)),
    ("TUR", date(1952, 2, 18)),
    ("DEU", date(1955, 5, 6)),
    ("ESP", date(1982, 5, 30)),
    ("CZE", date(1999, 3, 12)),
    ("HUN", date(1999, 3, 12)),
    ("POL", date(1999, 3, 12)),
    ("BGR", date(2004, 3, 29)),
    ("EST", date(2004, 3, 29)),
    ("LVA", date(2004, 3, 29)),
    ("LTU", date(2004, 3, 29)),
    ("ROU", date(2004, 3, 29)),
    ("SVK", date(2004, 3, 29)),
    ("SVN", date(2004, 3, 29)),
    ("ALB", date(2009, 4, 1)),
    ("HRV", date(2009, 4, 1)),
    ("MNE", date(2017, 6, 5)),
    ("MKD", date(2020, 3, 27)),
    ("FIN", date(2023, 4, 4)),
    ("SWE", date(2024, 3, 7)),
];

/// The "+5" of NATO+5 (reference §3.1): Japan, Australia and New Zealand with no start date
/// in the stored sources (they held the higher levels before Korea joined them), South Korea
/// from P.L. 110-429 (2008-10-15) and Israel from P.L. 111-266 (2010-10-08).
const NATO_PLUS_5_PARTNERS: [(&str, Option<Date>); 5] = [
    ("JPN", None),
    ("AUS", None),
    ("NZL", None),
    ("KOR", Some(date(2008, 10, 15))),
    ("ISR", Some(date(2010, 10, 8))),
];

/// The NATO members on `day`.
pub fn nato_members_on(day: Date) -> Vec<Country> {
    Country::all()
        .filter(|country| country.is_nato_member_on(day))
        .collect()
}

/// The two purchaser groups of AECA §36(b): thresholds and review periods differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AecaGroup {
    /// NATO, its members, Japan, Australia, South Korea, Israel and New Zealand.
    #[serde(rename = "nato_plus_5")]
    NatoPlus5,
    /// Everyone else.
    Other,
}

impl AecaGroup {
    /// The wire name: `nato_plus_5` or `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            AecaGroup::NatoPlus5 => "nato_plus_5",
            AecaGroup::Other => "other",
        }
    }
}

impl fmt::Display for AecaGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Country({})", self.iso3())
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.iso3())
    }
}

impl PartialOrd for Country {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Country {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.iso3().cmp(other.iso3())
    }
}

impl std::str::FromStr for Country {
    type Err = UnknownCountry;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Country::parse(text)
    }
}

impl Serialize for Country {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.iso3())
    }
}

impl<'de> Deserialize<'de> for Country {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Country::from_iso3(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_nato_member_is_in_the_country_table() {
        for (code, _) in NATO_ACCESSIONS {
            assert!(Country::from_iso3(code).is_ok(), "{code} missing");
        }
    }

    #[test]
    fn sipri_and_nato_spellings_are_aliases() {
        for (spelling, iso3) in [
            ("Turkiye", "TUR"),
            ("Türkiye", "TUR"),
            ("Bosnia-Herzegovina", "BIH"),
            ("UAE", "ARE"),
            ("Viet Nam", "VNM"),
            ("DR Congo", "COD"),
            ("South Korea", "KOR"),
            ("eSwatini", "SWZ"),
            ("Soviet Union", "SUN"),
        ] {
            assert_eq!(
                Country::parse(spelling).map(Country::iso3),
                Ok(iso3),
                "{spelling}"
            );
        }
    }

    #[test]
    fn group_wire_names_match_their_display() {
        for group in [AecaGroup::NatoPlus5, AecaGroup::Other] {
            let json = serde_json::to_string(&group).expect("serialises");
            assert_eq!(json, format!("\"{group}\""));
        }
    }

    #[test]
    fn iso3_lookup_refuses_names() {
        assert!(Country::from_iso3("Poland").is_err());
        assert_eq!(Country::from_iso3("pol").map(Country::iso3), Ok("POL"));
    }

    #[test]
    fn thirty_two_members_today_and_twelve_at_the_founding() {
        assert_eq!(nato_members_on(date(2026, 1, 1)).len(), 32);
        assert_eq!(nato_members_on(date(1949, 8, 24)).len(), 12);
        assert_eq!(nato_members_on(date(2023, 4, 3)).len(), 30);
    }

    #[test]
    fn unknown_country_names_the_input() {
        let error = Country::parse("Atlantis").expect_err("no such country");
        assert!(error.to_string().contains("'Atlantis'"));
    }
}
