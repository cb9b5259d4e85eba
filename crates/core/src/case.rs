//! What a case is made of: its identifier, implementing agency, channel and lines.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::money::{MoneyError, Usd};

/// An FMS case identifier such as `PL-B-ZAB`: a two-letter purchaser code, the
/// implementing agency's letter, and a three-letter designator (reference §1.2).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CaseId {
    text: String,
}

/// A case identifier that does not have the `PL-B-ZAB` shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "case id '{0}' is not of the form CC-A-XXX (two-letter purchaser code, agency letter, \
     three-letter designator, e.g. PL-B-ZAB)"
)]
pub struct InvalidCaseId(pub String);

impl CaseId {
    /// Reads `PL-B-ZAB` (letters only, upper-cased).
    ///
    /// # Errors
    /// [`InvalidCaseId`] when the shape is wrong.
    pub fn parse(text: &str) -> Result<CaseId, InvalidCaseId> {
        let upper = text.trim().to_ascii_uppercase();
        let parts: Vec<&str> = upper.split('-').collect();
        let shape_ok = matches!(parts.as_slice(), [purchaser, agency, designator]
            if purchaser.len() == 2 && agency.len() == 1 && designator.len() == 3
            && upper.chars().all(|c| c == '-' || c.is_ascii_alphanumeric()));
        if shape_ok {
            Ok(CaseId { text: upper })
        } else {
            Err(InvalidCaseId(text.to_owned()))
        }
    }

    /// The identifier as text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The purchaser code, e.g. `PL`.
    pub fn purchaser_code(&self) -> &str {
        &self.text[..2]
    }

    /// The implementing agency letter, e.g. `B` (Army).
    pub fn agency_letter(&self) -> char {
        self.text.chars().nth(3).unwrap_or('?')
    }
}

impl fmt::Display for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for CaseId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for CaseId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        CaseId::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// The implementing agency that writes and manages a case (reference §0.1). The letter is
/// the one the case identifier carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Agency {
    /// Department of the Army (`B`).
    Army,
    /// Department of the Navy (`P`).
    Navy,
    /// Department of the Air Force (`D`).
    AirForce,
    /// Defense Security Cooperation Agency (`Q`).
    Dsca,
    /// Defense Logistics Agency (`R`).
    Dla,
    /// Another DoD agency, or a foreign government for `g2g` sales.
    Other,
}

/// An agency code that is not known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown agency '{0}': expected army, navy, air_force, dsca, dla, other, or a letter B, P, D, Q, R"
)]
pub struct UnknownAgency(pub String);

impl Agency {
    /// Every agency.
    pub const ALL: [Agency; 6] = [
        Agency::Army,
        Agency::Navy,
        Agency::AirForce,
        Agency::Dsca,
        Agency::Dla,
        Agency::Other,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Agency::Army => "army",
            Agency::Navy => "navy",
            Agency::AirForce => "air_force",
            Agency::Dsca => "dsca",
            Agency::Dla => "dla",
            Agency::Other => "other",
        }
    }

    /// The letter FMS case identifiers use.
    pub fn letter(self) -> char {
        match self {
            Agency::Army => 'B',
            Agency::Navy => 'P',
            Agency::AirForce => 'D',
            Agency::Dsca => 'Q',
            Agency::Dla => 'R',
            Agency::Other => 'X',
        }
    }

    /// Reads a wire name or a case-identifier letter.
    ///
    /// # Errors
    /// [`UnknownAgency`].
    pub fn parse(text: &str) -> Result<Agency, UnknownAgency> {
        let lower = text.trim().to_ascii_lowercase();
        Agency::ALL
            .into_iter()
            .find(|agency| {
                agency.as_str() == lower
                    || agency.letter().to_ascii_lowercase().to_string() == lower
            })
            .ok_or_else(|| UnknownAgency(text.to_owned()))
    }
}

impl fmt::Display for Agency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a sale is made.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// Foreign Military Sale: the US government sells (AECA §36(b) applies).
    #[default]
    Fms,
    /// Direct commercial sale by a US company under an export licence.
    Dcs,
    /// A sale by another government, e.g. South Korea's to Poland.
    G2g,
}

impl Channel {
    /// Every channel.
    pub const ALL: [Channel; 3] = [Channel::Fms, Channel::Dcs, Channel::G2g];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Fms => "fms",
            Channel::Dcs => "dcs",
            Channel::G2g => "g2g",
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a case line buys (the AECA thresholds count each category separately).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// A defense article.
    #[default]
    Article,
    /// A defense service.
    Service,
    /// Design and construction services.
    DesignConstruction,
}

/// One line of a case: an item, how many, at what unit value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseLine {
    /// What is bought, e.g. "PAC-3 MSE interceptor".
    pub item: String,
    /// How many units.
    pub quantity: u32,
    /// Value of one unit.
    pub unit_usd: Usd,
    /// Whether the item is Major Defense Equipment (22 U.S.C. 2794(6)).
    #[serde(default)]
    pub mde: bool,
    /// Article, service, or design and construction.
    #[serde(default)]
    pub category: Category,
    /// The production line that builds it, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub production_line: Option<String>,
}

impl CaseLine {
    /// Quantity × unit value.
    ///
    /// # Errors
    /// [`MoneyError::Overflow`].
    pub fn value(&self) -> Result<Usd, MoneyError> {
        self.unit_usd.checked_mul(u64::from(self.quantity))
    }
}

/// The three values AECA §36(b) compares with its thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CaseValues {
    /// Value of the Major Defense Equipment.
    pub mde: Usd,
    /// Total defense articles and services, MDE included, design and construction excluded.
    pub articles_services: Usd,
    /// Design and construction services.
    pub design_construction: Usd,
}

impl CaseValues {
    /// Adds up a case's lines by category.
    ///
    /// # Errors
    /// [`MoneyError::Overflow`].
    pub fn of_lines(lines: &[CaseLine]) -> Result<CaseValues, MoneyError> {
        let mut values = CaseValues::default();
        for line in lines {
            let value = line.value()?;
            match line.category {
                Category::DesignConstruction => {
                    values.design_construction = values.design_construction.checked_add(value)?;
                }
                Category::Article | Category::Service => {
                    values.articles_services = values.articles_services.checked_add(value)?;
                    if line.mde {
                        values.mde = values.mde.checked_add(value)?;
                    }
                }
            }
        }
        Ok(values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_ids_have_purchaser_agency_designator() {
        let id = CaseId::parse("pl-b-zab").expect("valid");
        assert_eq!(id.as_str(), "PL-B-ZAB");
        assert_eq!(id.purchaser_code(), "PL");
        assert_eq!(id.agency_letter(), 'B');
        for bad in ["PLB-ZAB", "POL-B-ZAB", "PL-B-ZA", "PL-B-Z B", ""] {
            assert!(CaseId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn mde_counts_in_the_articles_total_and_design_construction_does_not() {
        let line = |quantity, dollars, mde, category| CaseLine {
            item: "x".into(),
            quantity,
            unit_usd: Usd::from_dollars(dollars).expect("small"),
            mde,
            category,
            production_line: None,
        };
        let values = CaseValues::of_lines(&[
            line(10, 1_000_000, true, Category::Article),
            line(1, 5_000_000, false, Category::Service),
            line(1, 7_000_000, false, Category::DesignConstruction),
        ])
        .expect("no overflow");
        assert_eq!(values.mde, Usd::from_dollars(10_000_000).expect("small"));
        assert_eq!(
            values.articles_services,
            Usd::from_dollars(15_000_000).expect("small")
        );
        assert_eq!(
            values.design_construction,
            Usd::from_dollars(7_000_000).expect("small")
        );
    }

    #[test]
    fn agencies_read_by_name_or_letter() {
        assert_eq!(Agency::parse("B"), Ok(Agency::Army));
        assert_eq!(Agency::parse("air_force"), Ok(Agency::AirForce));
        assert!(Agency::parse("marines").is_err());
    }
}
