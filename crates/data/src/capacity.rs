//! The production-line catalog: US lines of the systems notified to European allies, their
//! rates as published with a citation per number, and the mapping from DSCA notification
//! items to lines.
//!
//! The catalog lives in `data/capacity/lines.toml` (in this crate, compiled in); its
//! header states the rules it keeps: no invented numbers, rates and dates as published,
//! `kind` = reported, capacity or target, sources from the FMS process reference §6 (by
//! number) and its 2025–2026 update §4 (by name). Besides rates, a line may state backlogs
//! (units on order and not delivered, as of a date), dated orders with their delivery window,
//! and a contract-to-delivery lead time (for a line whose unit rate is not published).
//!
//! Every fact carries the date it was stated, so that [`Catalog::as_known_on`] can give the
//! catalog as it was known on a past day (a back-test must not use later announcements).

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
    /// Source keys of the catalog's `[sources]`.
    pub sources: Vec<String>,
    /// How `from` was read from the published date, where it needed reading.
    pub date_note: Option<String>,
    /// The day the figure was stated (published): the latest day by which its source had
    /// published it, so that nothing is known before it really was.
    pub stated: Date,
}

/// Units on order and not yet delivered, as of a date.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Backlog {
    /// Units.
    pub units: u32,
    /// The day the count holds for.
    pub as_of: Date,
    /// The day it was stated.
    pub stated: Date,
    /// The figure as the source gives it.
    pub as_published: String,
    /// Source keys.
    pub sources: Vec<String>,
    /// Whether the count is the whole line's order book: every customer's undelivered
    /// units, so also those of any sale ordered by `as_of` (the catalog's `all_customers`).
    pub all_customers: bool,
}

/// A dated order on a line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Order {
    /// The day it was placed (contract award).
    pub date: Date,
    /// Units, where the source gives them.
    pub units: Option<u32>,
    /// Who ordered (ISO3 codes or words).
    pub customer: String,
    /// First delivery planned, where stated.
    pub deliveries_from: Option<Date>,
    /// Completion planned, where stated.
    pub deliveries_to: Option<Date>,
    /// The day it was stated.
    pub stated: Date,
    /// The facts as the source gives them.
    pub as_published: String,
    /// Source keys.
    pub sources: Vec<String>,
}

/// Months from the production contract to the first delivery, as reported (for a line
/// whose unit rate is not published).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeadTime {
    /// Shortest reported.
    pub months_min: f64,
    /// Longest reported.
    pub months_max: f64,
    /// The day it was stated.
    pub stated: Date,
    /// The facts as the source gives them.
    pub as_published: String,
    /// Source keys.
    pub sources: Vec<String>,
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
    /// Rate steps in date order (empty for a line known only by its lead time).
    pub rates: Vec<RateStep>,
    /// Stated backlogs, in `as_of` order.
    pub backlogs: Vec<Backlog>,
    /// Dated orders, in date order.
    pub orders: Vec<Order>,
    /// The reported contract-to-first-delivery time, where no unit rate is published.
    pub lead_time: Option<LeadTime>,
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

    /// The latest stated backlog that holds on or before `date`.
    pub fn backlog_on(&self, date: Date) -> Option<&Backlog> {
        self.backlogs
            .iter()
            .filter(|backlog| backlog.as_of <= date)
            .max_by_key(|backlog| backlog.as_of)
    }

    /// The line as known on `day`: only the rate steps, backlogs, orders and lead time
    /// stated on or before it.
    pub fn as_known_on(&self, day: Date) -> Line {
        Line {
            rates: self
                .rates
                .iter()
                .filter(|step| step.stated <= day)
                .cloned()
                .collect(),
            backlogs: self
                .backlogs
                .iter()
                .filter(|backlog| backlog.stated <= day)
                .cloned()
                .collect(),
            orders: self
                .orders
                .iter()
                .filter(|order| order.stated <= day)
                .cloned()
                .collect(),
            lead_time: self.lead_time.clone().filter(|lead| lead.stated <= day),
            ..self.clone()
        }
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
    /// Source key (a reference §6 number, or a name for the update's facts) → title and
    /// address.
    pub sources: BTreeMap<String, String>,
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
        let sources: BTreeMap<String, String> = file.sources;
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

    /// The catalog as it was known on `day`: every rate step, backlog, order and lead time
    /// stated after `day` is dropped (see [`Line::as_known_on`]); lines and mappings stay,
    /// so a line may be left with no rate at all. A back-test forecasting as of a past day
    /// uses this, so that no later announcement leaks into the forecast.
    pub fn as_known_on(&self, day: Date) -> Catalog {
        Catalog {
            lines: self
                .lines
                .iter()
                .map(|line| line.as_known_on(day))
                .collect(),
            ..self.clone()
        }
    }

    /// The line with this id.
    pub fn line(&self, id: &str) -> Option<&Line> {
        self.lines.iter().find(|line| line.id == id)
    }

    /// The line a notification's item is built on, and how many units it asks for.
    pub fn map(&self, notification: &Notification) -> Option<MappedItem> {
        let mapping = self.mapping_of(&notification.item)?;
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

impl Catalog {
    /// The id of the line an item described in words is built on (the first `[[mapping]]`
    /// rule whose words it holds and whose exclusions it does not, case-insensitive), as for
    /// a notification's item.
    pub fn line_for_item(&self, item: &str) -> Option<&str> {
        self.mapping_of(item).map(|mapping| mapping.line.as_str())
    }

    fn mapping_of(&self, item: &str) -> Option<&Mapping> {
        let item = item.to_lowercase();
        self.mappings.iter().find(|mapping| {
            mapping
                .item_contains
                .iter()
                .any(|word| item.contains(&word.to_lowercase()))
                && !mapping
                    .item_excludes
                    .iter()
                    .any(|word| item.contains(&word.to_lowercase()))
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

/// A source as cited: a reference §6 number (`122`) or a name (`"u4-f35"`).
#[derive(Deserialize)]
#[serde(untagged)]
enum SourceKey {
    Number(u32),
    Name(String),
}

fn source_keys<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    let keys = Vec::<SourceKey>::deserialize(deserializer)?;
    Ok(keys
        .into_iter()
        .map(|key| match key {
            SourceKey::Number(number) => number.to_string(),
            SourceKey::Name(name) => name,
        })
        .collect())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LineEntry {
    id: String,
    system: String,
    unit: String,
    producer: Option<String>,
    #[serde(default, deserialize_with = "source_keys")]
    producer_sources: Vec<String>,
    notes: Option<String>,
    #[serde(default)]
    rate: Vec<RateEntry>,
    #[serde(default)]
    backlog: Vec<BacklogEntry>,
    #[serde(default)]
    order: Vec<OrderEntry>,
    lead_time: Option<LeadTimeEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RateEntry {
    from: String,
    kind: RateKind,
    units_per_year: Option<f64>,
    units_per_month: Option<f64>,
    as_published: String,
    #[serde(deserialize_with = "source_keys")]
    sources: Vec<String>,
    date_note: Option<String>,
    stated: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BacklogEntry {
    units: u32,
    as_of: String,
    stated: String,
    as_published: String,
    #[serde(deserialize_with = "source_keys")]
    sources: Vec<String>,
    #[serde(default)]
    all_customers: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrderEntry {
    date: String,
    units: Option<u32>,
    customer: String,
    deliveries_from: Option<String>,
    deliveries_to: Option<String>,
    stated: String,
    as_published: String,
    #[serde(deserialize_with = "source_keys")]
    sources: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LeadTimeEntry {
    months_min: f64,
    months_max: f64,
    stated: String,
    as_published: String,
    #[serde(deserialize_with = "source_keys")]
    sources: Vec<String>,
}

fn date_of(id: &str, field: &str, text: &str) -> Result<Date, String> {
    text.parse()
        .map_err(|_| format!("line '{id}': {field} '{text}' is not YYYY-MM-DD"))
}

impl LineEntry {
    fn check(self, sources: &BTreeMap<String, String>) -> Result<Line, String> {
        let id = self.id;
        let cited = |keys: &[String]| keys.iter().find(|key| !sources.contains_key(*key)).cloned();
        let check_sources = |what: &str, keys: &[String]| {
            if keys.is_empty() {
                return Err(format!("line '{id}' {what}: every number needs a source"));
            }
            match cited(keys) {
                Some(missing) => Err(format!(
                    "line '{id}' {what}: source [{missing}] is not listed in [sources]"
                )),
                None => Ok(()),
            }
        };
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
                stated: date_of(&id, "rate stated", &rate.stated)?,
            });
        }
        rates.sort_by_key(|step| step.from);
        let mut backlogs = Vec::new();
        for backlog in self.backlog {
            let as_of = date_of(&id, "backlog as_of", &backlog.as_of)?;
            check_sources(&format!("backlog {as_of}"), &backlog.sources)?;
            backlogs.push(Backlog {
                units: backlog.units,
                as_of,
                stated: date_of(&id, "backlog stated", &backlog.stated)?,
                as_published: backlog.as_published,
                sources: backlog.sources,
                all_customers: backlog.all_customers,
            });
        }
        backlogs.sort_by_key(|backlog| backlog.as_of);
        let mut orders = Vec::new();
        for order in self.order {
            let date = date_of(&id, "order date", &order.date)?;
            check_sources(&format!("order {date}"), &order.sources)?;
            let optional = |field: &str, text: Option<String>| {
                text.map(|text| date_of(&id, field, &text)).transpose()
            };
            orders.push(Order {
                date,
                units: order.units,
                customer: order.customer,
                deliveries_from: optional("order deliveries_from", order.deliveries_from)?,
                deliveries_to: optional("order deliveries_to", order.deliveries_to)?,
                stated: date_of(&id, "order stated", &order.stated)?,
                as_published: order.as_published,
                sources: order.sources,
            });
        }
        orders.sort_by_key(|order| order.date);
        let lead_time = match self.lead_time {
            Some(lead) => {
                check_sources("lead_time", &lead.sources)?;
                if !(lead.months_min.is_finite()
                    && lead.months_min > 0.0
                    && lead.months_max >= lead.months_min)
                {
                    return Err(format!(
                        "line '{id}' lead_time: months_min must be above zero and at most months_max"
                    ));
                }
                Some(LeadTime {
                    months_min: lead.months_min,
                    months_max: lead.months_max,
                    stated: date_of(&id, "lead_time stated", &lead.stated)?,
                    as_published: lead.as_published,
                    sources: lead.sources,
                })
            }
            None => None,
        };
        if rates.is_empty() && lead_time.is_none() {
            return Err(format!(
                "line '{id}': give at least one rate step, or a lead_time where no rate is published"
            ));
        }
        Ok(Line {
            id,
            system: self.system,
            unit: self.unit,
            producer: self.producer,
            rates,
            backlogs,
            orders,
            lead_time,
            notes: self.notes,
        })
    }
}
