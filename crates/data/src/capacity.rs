//! The production-line catalog: US lines of the systems notified to European allies, their
//! rates as published with a citation per number, and the mapping from DSCA notification
//! items to lines.
//!
//! The catalog lives in `data/capacity/lines.toml` (in this crate, compiled in); its
//! header states the rules it keeps: no invented numbers, rates and dates as published,
//! `kind` = reported, capacity or target, source numbers from the FMS process reference §6.

use std::collections::BTreeMap;

use expedite_core::Date;
use serde::{Deserialize, Serialize};

use crate::DataError;
use crate::dsca::Notification;

const CATALOG_TOML: &str = include_str!("../data/capacity/lines.toml");
const CATALOG_FILE: &str = "capacity/lines.toml";

/// What a rate step reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RateKind {
    /// An output rate or delivery count a source reports.
    Reported,
    /// What a plant is said to be able to do.
    Capacity,
    /// An announced goal or plan.
    Target,
}

/// One dated rate of a line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RateStep {
    /// The date expedite applies the step from.
    pub from: Date,
    /// Reported, capacity or target.
    pub kind: RateKind,
    /// Units a year (a monthly figure times 12).
    pub units_per_year: f64,
    /// The figure and its date as the source gives them.
    pub as_published: String,
    /// Source numbers of the FMS process reference.
    pub sources: Vec<u32>,
    /// How `from` was read from the published date, where it needed reading.
    pub date_note: Option<String>,
}

/// A production line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line {
    /// Short identifier, e.g. `pac3-mse`.
    pub id: String,
    /// What it builds.
    pub system: String,
    /// The unit counted.
    pub unit: String,
    /// Who builds it, where a source says.
    pub producer: Option<String>,
    /// Rate steps in date order.
    pub rates: Vec<RateStep>,
    /// Further published facts and disagreements.
    pub notes: Option<String>,
}

impl Line {
    /// The steps a base forecast uses: the reported ones, or where a line has none, its
    /// capacity.
    pub fn base_rates(&self) -> Vec<&RateStep> {
        let reported: Vec<&RateStep> = self
            .rates
            .iter()
            .filter(|step| step.kind == RateKind::Reported)
            .collect();
        let has_capacity_after_reports = |step: &&RateStep| {
            step.kind == RateKind::Capacity
                && (reported.is_empty() || reported.iter().all(|r| r.from < step.from))
        };
        let mut steps: Vec<&RateStep> = reported.clone();
        steps.extend(self.rates.iter().filter(has_capacity_after_reports));
        steps.sort_by_key(|step| step.from);
        steps
    }

    /// Announced rate increases (targets).
    pub fn targets(&self) -> impl Iterator<Item = &RateStep> {
        self.rates
            .iter()
            .filter(|step| step.kind == RateKind::Target)
    }
}

/// A rule mapping notification items to a line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping {
    /// The line's id.
    pub line: String,
    /// Any of these in the item (case-insensitive).
    pub item_contains: Vec<String>,
    /// None of these in the item.
    #[serde(default)]
    pub item_excludes: Vec<String>,
    /// The quantity part naming the line's units.
    pub quantity_token: Option<String>,
}

/// A notification placed on a line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MappedItem {
    /// The line's id.
    pub line: String,
    /// Units of that line in the notification; `None` when the quantity does not say.
    pub units: Option<u32>,
}

/// The catalog: lines, mapping rules and the sources they cite.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Catalog {
    /// The lines.
    pub lines: Vec<Line>,
    /// The mapping rules, in order.
    pub mappings: Vec<Mapping>,
    /// Reference source number → title and address.
    pub sources: BTreeMap<u32, String>,
}

impl Catalog {
    /// The catalog shipped with expedite.
    ///
    /// # Errors
    /// Only if the shipped file were broken; a test reads it.
    pub fn builtin() -> Result<Catalog, DataError> {
        Catalog::from_toml_str(CATALOG_TOML, CATALOG_FILE)
    }

    /// Reads a catalog of the shipped layout and checks it: every rate has exactly one of
    /// `units_per_year`/`units_per_month`, a date and a cited source that the file lists;
    /// every mapping names a line.
    ///
    /// # Errors
    /// [`DataError::Toml`] for bad TOML, [`DataError::Invalid`] for a failed check.
    pub fn from_toml_str(text: &str, input: &str) -> Result<Catalog, DataError> {
        let file: CatalogFile = toml::from_str(text).map_err(|source| DataError::Toml {
            input: input.to_owned(),
            source,
        })?;
        let invalid = |problem: String| DataError::Invalid {
            input: input.to_owned(),
            problem,
        };
        let sources: BTreeMap<u32, String> = file
            .sources
            .into_iter()
            .map(|(number, text)| number.parse().map(|n| (n, text)))
            .collect::<Result<_, _>>()
            .map_err(|_| invalid("source keys must be reference numbers".to_owned()))?;
        let lines = file
            .line
            .into_iter()
            .map(|line| line.check(&sources).map_err(&invalid))
            .collect::<Result<Vec<Line>, DataError>>()?;
        for mapping in &file.mapping {
            if !lines.iter().any(|line| line.id == mapping.line) {
                return Err(invalid(format!(
                    "mapping names unknown line '{}'",
                    mapping.line
                )));
            }
        }
        Ok(Catalog {
            lines,
            mappings: file.mapping,
            sources,
        })
    }

    /// The line with this id.
    pub fn line(&self, id: &str) -> Option<&Line> {
        self.lines.iter().find(|line| line.id == id)
    }

    /// The line a notification's item is built on, and how many units it asks for.
    pub fn map(&self, notification: &Notification) -> Option<MappedItem> {
        let item = notification.item.to_lowercase();
        let mapping = self.mappings.iter().find(|mapping| {
            mapping
                .item_contains
                .iter()
                .any(|word| item.contains(&word.to_lowercase()))
                && !mapping
                    .item_excludes
                    .iter()
                    .any(|word| item.contains(&word.to_lowercase()))
        })?;
        let units = notification
            .quantity
            .as_deref()
            .and_then(|quantity| units_in(quantity, mapping.quantity_token.as_deref()));
        Some(MappedItem {
            line: mapping.line.clone(),
            units,
        })
    }
}

/// Units in a stated quantity: the first whole number of the `;`-part holding `token`, or
/// without a token the quantity when it is one number (`"24"`, `"up to 40"`).
pub fn units_in(quantity: &str, token: Option<&str>) -> Option<u32> {
    let lone_number = || {
        let text = quantity.trim();
        let text = text.strip_prefix("up to").unwrap_or(text).trim();
        parse_count(text)
    };
    match token {
        Some(token) => {
            let token = token.to_lowercase();
            quantity
                .split(';')
                .find(|part| part.to_lowercase().contains(&token))
                .and_then(first_count)
                .or_else(|| (!quantity.contains(';')).then(lone_number).flatten())
        }
        None => lone_number(),
    }
}

/// The first run of digits (with `,` thousands separators) in the text.
fn first_count(text: &str) -> Option<u32> {
    let start = text.find(|c: char| c.is_ascii_digit())?;
    let run: String = text[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ',')
        .filter(|c| c.is_ascii_digit())
        .collect();
    run.parse().ok()
}

fn parse_count(text: &str) -> Option<u32> {
    let digits: String = text.chars().filter(|c| *c != ',').collect();
    digits.parse().ok()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    line: Vec<LineEntry>,
    mapping: Vec<Mapping>,
    sources: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LineEntry {
    id: String,
    system: String,
    unit: String,
    producer: Option<String>,
    #[serde(default)]
    producer_sources: Vec<u32>,
    notes: Option<String>,
    rate: Vec<RateEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RateEntry {
    from: String,
    kind: RateKind,
    units_per_year: Option<f64>,
    units_per_month: Option<f64>,
    as_published: String,
    sources: Vec<u32>,
    date_note: Option<String>,
}

impl LineEntry {
    fn check(self, sources: &BTreeMap<u32, String>) -> Result<Line, String> {
        let id = self.id;
        let cited = |numbers: &[u32]| numbers.iter().find(|n| !sources.contains_key(n)).copied();
        if self.producer.is_some() && self.producer_sources.is_empty() {
            return Err(format!("line '{id}': producer without a source"));
        }
        if let Some(missing) = cited(&self.producer_sources) {
            return Err(format!(
                "line '{id}': source [{missing}] is not listed in [sources]"
            ));
        }
        let mut rates = Vec::new();
        for rate in self.rate {
            let from: Date = rate
                .from
                .parse()
                .map_err(|_| format!("line '{id}': rate date '{}' is not YYYY-MM-DD", rate.from))?;
            let units_per_year = match (rate.units_per_year, rate.units_per_month) {
                (Some(per_year), None) => per_year,
                (None, Some(per_month)) => per_month * 12.0,
                _ => {
                    return Err(format!(
                        "line '{id}' {from}: give units_per_year or units_per_month"
                    ));
                }
            };
            if !(units_per_year.is_finite() && units_per_year > 0.0) {
                return Err(format!("line '{id}' {from}: rate must be positive"));
            }
            if rate.sources.is_empty() {
                return Err(format!("line '{id}' {from}: every number needs a source"));
            }
            if let Some(missing) = cited(&rate.sources) {
                return Err(format!(
                    "line '{id}' {from}: source [{missing}] is not listed in [sources]"
                ));
            }
            rates.push(RateStep {
                from,
                kind: rate.kind,
                units_per_year,
                as_published: rate.as_published,
                sources: rate.sources,
                date_note: rate.date_note,
            });
        }
        rates.sort_by_key(|step| step.from);
        Ok(Line {
            id,
            system: self.system,
            unit: self.unit,
            producer: self.producer,
            rates,
            notes: self.notes,
        })
    }
}
