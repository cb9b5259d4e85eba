//! The scenario file (TOML) and its validation.
//!
//! [`Scenario::from_toml_str`] reads the file in two passes: serde reads the shape (with
//! `serde_path_to_error` so that a wrong type names its path), then [`validate`] checks the
//! meaning and builds the typed [`Scenario`]. Every error names the TOML path, e.g.
//! `cases[3].lines[0].line`, and the problem. The schema is issue 3's; the names below are
//! the file's names.

use std::collections::{BTreeMap, HashMap, HashSet};

use expedite_core::case::{CaseLine as CoreCaseLine, CaseValues, Category};
use expedite_core::rules::{NotificationCheck, RuleBook};
use expedite_core::{Channel, Country, Date, Stage, Usd};
use serde::{Deserialize, Serialize};

use crate::dist::{DistError, DurationDist};

/// Trials when the file does not say.
pub const DEFAULT_TRIALS: u32 = 1000;

/// A validated scenario: everything the engine needs, with names resolved to indices.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Its name, for reports.
    pub name: String,
    /// "Today": the forecast clock starts here.
    pub start: Date,
    /// Monte Carlo trials (at least one).
    pub trials: u32,
    /// Seed of the random streams.
    pub seed: u64,
    /// Optional date against which `p_on_target` is reported.
    pub target: Option<Date>,
    /// Stage durations per channel.
    pub channels: BTreeMap<Channel, ChannelTimes>,
    /// Production lines, in file order.
    pub lines: Vec<Line>,
    /// Cases, in file order.
    pub cases: Vec<Case>,
    /// Named policies, in file order.
    pub policies: Vec<Policy>,
}

/// How long each stage lasts in one channel; an omitted stage lasts zero days.
#[derive(Debug, Clone, Default)]
pub struct ChannelTimes {
    /// Time spent in each stage before the next (stages before `on_contract` only).
    pub stages: BTreeMap<Stage, DurationDist>,
    /// From a unit's completion to its delivery.
    pub transport: Option<DurationDist>,
    /// Days added to a new configuration's first delivery (integration, first article,
    /// testing), drawn per case per trial.
    pub first_delivery_delay: Option<DurationDist>,
    /// Days from a case's first delivery to its last, at the least: buyers receive an
    /// order lot by lot, not as fast as the line completes it. Drawn per case per trial.
    pub delivery_span: Option<DurationDist>,
    /// Days from the first delivery promised at signing to the real one (a signed offset),
    /// for a case that states its promise: drawn per case per trial instead of the
    /// production model's first delivery and its delay.
    pub promise_slip: Option<DurationDist>,
}

/// A production line.
#[derive(Debug, Clone)]
pub struct Line {
    /// Unique id, referred to by case lines.
    pub id: String,
    /// Name for people.
    pub name: String,
    /// Units queued ahead of every case (priority tier 0), as of [`Line::backlog_as_of`];
    /// with `includes_cases`, the units of this scenario's cases it already held have been
    /// taken out (they queue under their own order dates), and the rest are other
    /// customers' orders dated over the time the line needed to build them before
    /// `backlog_as_of` (the engine's `backlog_orders`), not a block ahead of every case.
    pub backlog: u32,
    /// The date the backlog is stated as of; `None` for the plain integer form, which
    /// states it as of the scenario start.
    pub backlog_as_of: Option<Date>,
    /// Whether the stated backlog held the undelivered units of this scenario's cases
    /// ordered by `backlog_as_of` (already subtracted from [`Line::backlog`]).
    pub backlog_includes_cases: bool,
    /// With `backlog_includes_cases`, the priority tier of the other customers' orders the
    /// rest of the backlog becomes: the tier the held cases compete at (default 1, a case's
    /// default).
    pub backlog_tier: u32,
    /// Other customers' dated orders.
    pub orders: Vec<Order>,
    /// Days from a unit's release to its completion.
    pub lead_time_days: f64,
    /// Rate steps, strictly increasing in date; before the first step the line builds
    /// nothing.
    pub rate: Vec<RateStep>,
    /// Realised ÷ planned rate: one draw per trial, shared by every case on the line.
    pub rate_multiplier: Option<DurationDist>,
    /// Days by which each rate step that raises the rate (not the first) comes late: one
    /// draw per trial.
    pub ramp_slip: Option<DurationDist>,
    /// The first-delivery delay of cases on this line, instead of their channel's.
    pub first_delivery_delay: Option<DurationDist>,
    /// The delivery span of cases on this line, instead of their channel's.
    pub delivery_span: Option<DurationDist>,
    /// How the span (the line's or the channel's) grows with the size of an order.
    pub delivery_span_scale: Option<SpanScale>,
}

/// How a delivery span grows with the order: the span drawn is that of an order of
/// `units` units; an order of `q` units takes `(q / units)^exponent` times as long (a larger order
/// arrives in more lots).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpanScale {
    /// The order size the span is stated for.
    pub units: f64,
    /// The span's elasticity in the order's size: 0 ignores it, 1 is proportional.
    pub exponent: f64,
}

impl SpanScale {
    /// What is wrong with the scale, if anything: its field and the problem. The order size
    /// must be a positive number and the exponent lie in 0–2 (a larger order is never
    /// delivered in less time, nor more than quadratically more).
    pub fn problem(&self) -> Option<(&'static str, String)> {
        if !(self.units.is_finite() && self.units > 0.0) {
            return Some((
                "units",
                format!("{} must be a finite number of units above 0", self.units),
            ));
        }
        if !(0.0..=2.0).contains(&self.exponent) {
            return Some((
                "exponent",
                format!("{} must be a number from 0 to 2", self.exponent),
            ));
        }
        None
    }

    /// The factor on a span for an order of `units`.
    pub fn factor(&self, units: f64) -> f64 {
        (units / self.units).powf(self.exponent)
    }
}

impl Line {
    /// Whether the line keeps a dated order book (a dated backlog or dated orders): it is
    /// then simulated from its book date, not from the scenario start (see the engine's
    /// `book_date`).
    pub fn has_dated_book(&self) -> bool {
        self.backlog_as_of.is_some() || !self.orders.is_empty()
    }
}

/// Another customer's order on a line.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    /// The day it joins the queue.
    pub date: Date,
    /// Units ordered.
    pub units: u32,
    /// Priority tier, lower first.
    pub tier: u32,
    /// Who ordered, for people.
    pub customer: Option<String>,
}

/// A line builds `per_year` units a year from `from` until the next step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateStep {
    /// First day of the step.
    pub from: Date,
    /// Units per year.
    pub per_year: f64,
    /// When the plan was made public (a back-test drops steps announced after its as-of
    /// date; the engine itself does not use it).
    pub announced: Option<Date>,
}

/// A case in the portfolio.
#[derive(Debug, Clone)]
pub struct Case {
    /// Unique id (an FMS case id where there is one).
    pub id: String,
    /// The purchasing country.
    pub purchaser: Country,
    /// FMS, DCS or government to government.
    pub channel: Channel,
    /// Current stage, on the forward path up to `delivered`.
    pub stage: Stage,
    /// The day it entered that stage.
    pub since: Date,
    /// Priority tier, lower first.
    pub tier: u32,
    /// What it buys, and from which line.
    pub lines: Vec<CaseLine>,
    /// Days of congressional review under AECA §36(b) (informal plus formal), from the
    /// core rules; zero when no notification is required or the channel is not FMS.
    pub congressional_review_days: u32,
    /// The day its units join the line's queue, when known: the contract milestone, else
    /// for a case on contract or later the LOA milestone, else `since`.
    pub order_date: Option<Date>,
    /// Whether a first-delivery delay applies (a new buyer or configuration).
    pub new_configuration: bool,
    /// The dated facts given in the file, if any.
    pub milestones: Option<Milestones>,
    /// The first delivery promised at signing (the LOA's delivery estimate), when known.
    pub promised_first_delivery: Option<Date>,
}

impl Case {
    /// Units delivered so far, over all lines.
    pub fn delivered_units(&self) -> u64 {
        self.lines
            .iter()
            .map(|line| u64::from(line.delivered))
            .sum()
    }

    /// Whether every unit is delivered (stage `delivered`, or deliveries adding up to the
    /// quantity).
    pub fn is_delivered(&self) -> bool {
        self.stage == Stage::Delivered
    }

    /// The first delivery, when it has happened: the earliest delivery milestone, or
    /// `since` for a case in stage `delivering` or `delivered` without milestones.
    pub fn first_delivery(&self) -> Option<Date> {
        let recorded = self
            .milestones
            .as_ref()
            .and_then(|milestones| milestones.deliveries.iter().map(|d| d.date).min());
        recorded.or_else(|| {
            matches!(self.stage, Stage::Delivering | Stage::Delivered).then_some(self.since)
        })
    }
}

/// A case's dated milestones: facts, never drawn again.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Milestones {
    /// Letter of Request (or public request).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<Date>,
    /// DSCA notification to Congress.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notification: Option<Date>,
    /// LOA signed (offer accepted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loa: Option<Date>,
    /// Production contract awarded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contract: Option<Date>,
    /// Units delivered so far.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deliveries: Vec<Delivery>,
}

/// Units handed over on one day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Delivery {
    /// The day.
    pub date: Date,
    /// Units.
    pub units: u32,
    /// Index of the case line (within the case) they belong to.
    #[serde(skip)]
    pub case_line: usize,
    /// The production line id.
    pub line: String,
}

/// One line of a case.
#[derive(Debug, Clone)]
pub struct CaseLine {
    /// Index into [`Scenario::lines`].
    pub line: usize,
    /// Units bought (delivered ones included).
    pub quantity: u32,
    /// Units already delivered (from the milestones).
    pub delivered: u32,
    /// The last delivery on this line, when any.
    pub last_delivery: Option<Date>,
    /// Value of one unit.
    pub unit_usd: Usd,
    /// Whether the item is Major Defense Equipment.
    pub mde: bool,
    /// Article, service, or design and construction.
    pub category: Category,
}

/// A named variation on the base scenario.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Its name (not `base`).
    pub name: String,
    /// Multiplies the remaining time of a stage.
    pub stage_scale: BTreeMap<Stage, f64>,
    /// Multiplies transport times.
    pub transport_scale: Option<f64>,
    /// Multiplies a line's rate from a date on.
    pub rate: Vec<RateChange>,
    /// Moves purchasers to another priority tier.
    pub tier: Vec<TierChange>,
}

/// From `from` on, line `line` builds at `multiplier` times its rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateChange {
    /// Index into [`Scenario::lines`].
    pub line: usize,
    /// First day of the change.
    pub from: Date,
    /// Factor on the rate (positive).
    pub multiplier: f64,
}

/// Cases of these purchasers get this tier.
#[derive(Debug, Clone, PartialEq)]
pub struct TierChange {
    /// The purchasers.
    pub purchasers: Vec<Country>,
    /// Their new tier.
    pub tier: u32,
}

/// Why a scenario was refused: the TOML path and the problem.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScenarioError {
    /// The text is not TOML, or a value has the wrong type or a field is unknown.
    #[error("{path}: {message}")]
    Syntax {
        /// Where (`.` when at the top level), with the line number when known.
        path: String,
        /// What the TOML reader said.
        message: String,
    },
    /// The value is well-formed but means nothing sensible.
    #[error("{path}: {message}")]
    Invalid {
        /// Where, e.g. `cases[3].lines[0].line`.
        path: String,
        /// What is wrong.
        message: String,
    },
}

impl ScenarioError {
    /// The TOML path of the problem.
    pub fn path(&self) -> &str {
        match self {
            ScenarioError::Syntax { path, .. } | ScenarioError::Invalid { path, .. } => path,
        }
    }
}

fn invalid(path: impl Into<String>, message: impl Into<String>) -> ScenarioError {
    ScenarioError::Invalid {
        path: path.into(),
        message: message.into(),
    }
}

impl Scenario {
    /// Reads and validates a scenario.
    ///
    /// # Errors
    /// [`ScenarioError`] naming the TOML path and the problem.
    pub fn from_toml_str(text: &str) -> Result<Scenario, ScenarioError> {
        Scenario::from_raw(RawScenario::parse(text)?)
    }

    /// Validates a scenario built in code in the file's shape, with the same checks and
    /// messages as a file, without writing it out and reading it back.
    ///
    /// # Errors
    /// [`ScenarioError`] naming the TOML path and the problem.
    pub fn from_raw(raw: RawScenario) -> Result<Scenario, ScenarioError> {
        validate(raw)
    }

    /// A line's index by id.
    pub fn line_index(&self, id: &str) -> Option<usize> {
        self.lines.iter().position(|line| line.id == id)
    }

    /// The times of a channel (empty when the file gives none: every stage zero days).
    pub fn channel_times(&self, channel: Channel) -> Option<&ChannelTimes> {
        self.channels.get(&channel)
    }
}

// ---------------------------------------------------------------------------------------
// The file's shape. Public so that generators and the web API can build and write files.

/// The scenario file as written, before validation.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    /// Name.
    pub name: String,
    /// Start date, `YYYY-MM-DD`.
    pub start: RawDate,
    /// Trials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trials: Option<i64>,
    /// Seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// Target date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<RawDate>,
    /// Channel name → stage name (or `transport`) → distribution.
    #[serde(default)]
    pub channels: BTreeMap<String, BTreeMap<String, RawDist>>,
    /// Production lines.
    #[serde(default)]
    pub lines: Vec<RawLine>,
    /// Cases.
    #[serde(default)]
    pub cases: Vec<RawCase>,
    /// Policies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<RawPolicy>,
}

/// A date as written: a string `"2025-03-01"` or a TOML local date `2025-03-01`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct RawDate(pub String);

impl<'de> Deserialize<'de> for RawDate {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Wire {
            Text(String),
            Toml(toml::value::Datetime),
        }
        Ok(RawDate(match Wire::deserialize(deserializer)? {
            Wire::Text(text) => text,
            Wire::Toml(datetime) => datetime.to_string(),
        }))
    }
}

impl From<&str> for RawDate {
    fn from(text: &str) -> RawDate {
        RawDate(text.to_owned())
    }
}

/// A distribution as written: `{ dist = "pert", min = 45, mode = 150, max = 420 }`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "dist", rename_all = "lowercase", deny_unknown_fields)]
pub enum RawDist {
    /// `{ dist = "fixed", days }`
    Fixed {
        /// Days.
        days: f64,
    },
    /// `{ dist = "uniform", min, max }`
    Uniform {
        /// Lower bound.
        min: f64,
        /// Upper bound.
        max: f64,
    },
    /// `{ dist = "triangular", min, mode, max }`
    Triangular {
        /// Lower bound.
        min: f64,
        /// Most likely.
        mode: f64,
        /// Upper bound.
        max: f64,
    },
    /// `{ dist = "pert", min, mode, max }` (Beta-PERT, λ = 4)
    Pert {
        /// Lower bound.
        min: f64,
        /// Most likely.
        mode: f64,
        /// Upper bound.
        max: f64,
    },
    /// `{ dist = "lognormal", median, p90 }`
    Lognormal {
        /// Median.
        median: f64,
        /// 90th percentile.
        p90: f64,
    },
    /// `{ dist = "normal", median, p90 }`: a signed offset, only for `first_delivery_delay`
    /// and `promise_slip`
    /// (its median may be negative).
    Normal {
        /// Median (the mean).
        median: f64,
        /// 90th percentile.
        p90: f64,
    },
    /// `{ dist = "weibull", median, p90 }`
    Weibull {
        /// Median.
        median: f64,
        /// 90th percentile.
        p90: f64,
    },
}

/// A production line as written.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLine {
    /// Id.
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Backlog: `1200` (units queued ahead of every case on the scenario start) or
    /// `{ units = 1240, as_of = "2025-01-01" }`.
    #[serde(default)]
    pub backlog: RawBacklog,
    /// Other customers' dated orders.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub orders: Vec<RawOrder>,
    /// Lead time, days.
    #[serde(default)]
    pub lead_time_days: f64,
    /// Rate steps.
    pub rate: Vec<RawRateStep>,
    /// Realised ÷ planned rate, one draw per trial for the line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_multiplier: Option<RawMultiplier>,
    /// Days by which each raising rate step comes late, one draw per trial for the line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ramp_slip: Option<RawDist>,
    /// First-delivery delay of cases on this line (instead of their channel's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_delivery_delay: Option<RawDist>,
    /// Delivery span of cases on this line (instead of their channel's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_span: Option<RawDist>,
    /// `{ units, exponent }`: how the span of cases on this line grows with their order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_span_scale: Option<SpanScale>,
}

/// A line's backlog as written: a plain number of units (as of the scenario start) or a
/// table stating it as of a date.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum RawBacklog {
    /// `backlog = 1200`: units queued ahead of every case on the scenario start.
    Units(i64),
    /// `backlog = { units = 1240, as_of = "2025-01-01" }`.
    Dated(RawDatedBacklog),
}

impl Default for RawBacklog {
    fn default() -> RawBacklog {
        RawBacklog::Units(0)
    }
}

impl From<i64> for RawBacklog {
    fn from(units: i64) -> RawBacklog {
        RawBacklog::Units(units)
    }
}

impl<'de> Deserialize<'de> for RawBacklog {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct BacklogVisitor;
        impl<'de> serde::de::Visitor<'de> for BacklogVisitor {
            type Value = RawBacklog;
            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str(
                    "a number of units, or a table { units = N, as_of = \"YYYY-MM-DD\" }",
                )
            }
            fn visit_i64<E: serde::de::Error>(self, units: i64) -> Result<RawBacklog, E> {
                Ok(RawBacklog::Units(units))
            }
            fn visit_u64<E: serde::de::Error>(self, units: u64) -> Result<RawBacklog, E> {
                i64::try_from(units)
                    .map(RawBacklog::Units)
                    .map_err(|_| E::custom(format!("{units} is too large")))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<RawBacklog, A::Error> {
                RawDatedBacklog::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(RawBacklog::Dated)
            }
        }
        deserializer.deserialize_any(BacklogVisitor)
    }
}

/// A backlog stated as of a date.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDatedBacklog {
    /// Units in the queue on `as_of`.
    pub units: i64,
    /// The date it is stated as of.
    pub as_of: RawDate,
    /// The stated units already hold the undelivered units of this scenario's cases whose
    /// order date is on or before `as_of` (default false). The rest are then taken as other
    /// customers' orders spread evenly before `as_of` at the planned rate, so each held case
    /// queues by its own order date among them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub includes_cases: bool,
    /// With `includes_cases`, the priority tier of the other customers' orders in it
    /// (default 1): the tier of the cases that should queue among them by date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<i64>,
}

/// Another customer's order as written.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOrder {
    /// The day it joins the queue.
    pub date: RawDate,
    /// Units.
    pub units: i64,
    /// Priority tier (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<i64>,
    /// Who ordered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<String>,
}

/// A rate step as written.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRateStep {
    /// From date.
    pub from: RawDate,
    /// Units per year.
    pub per_year: f64,
    /// When the plan was made public.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub announced: Option<RawDate>,
}

/// A positive multiplier's distribution as written: the duration shapes with `value`
/// instead of `days` for the fixed one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "dist", rename_all = "lowercase", deny_unknown_fields)]
pub enum RawMultiplier {
    /// `{ dist = "fixed", value }`
    Fixed {
        /// The multiplier.
        value: f64,
    },
    /// `{ dist = "uniform", min, max }`
    Uniform {
        /// Lower bound.
        min: f64,
        /// Upper bound.
        max: f64,
    },
    /// `{ dist = "triangular", min, mode, max }`
    Triangular {
        /// Lower bound.
        min: f64,
        /// Most likely.
        mode: f64,
        /// Upper bound.
        max: f64,
    },
    /// `{ dist = "pert", min, mode, max }`
    Pert {
        /// Lower bound.
        min: f64,
        /// Most likely.
        mode: f64,
        /// Upper bound.
        max: f64,
    },
    /// `{ dist = "lognormal", median, p90 }`
    Lognormal {
        /// Median.
        median: f64,
        /// 90th percentile.
        p90: f64,
    },
}

/// A case as written.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCase {
    /// Id.
    pub id: String,
    /// ISO 3166-1 alpha-3.
    pub purchaser: String,
    /// `fms` (default), `dcs` or `g2g`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Current stage; may be omitted when the milestones imply it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// Date it entered that stage; may be omitted when the milestones imply it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<RawDate>,
    /// Priority tier (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<i64>,
    /// A new buyer or configuration, so a first-delivery delay applies (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_configuration: Option<bool>,
    /// Dated facts: stages passed and deliveries so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub milestones: Option<RawMilestones>,
    /// The first delivery promised at signing; with a channel's `promise_slip`, the
    /// forecast's first delivery is this day plus the slip drawn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promised_first_delivery: Option<RawDate>,
    /// Lines.
    pub lines: Vec<RawCaseLine>,
}

/// A case's milestones as written.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMilestones {
    /// Letter of Request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<RawDate>,
    /// DSCA notification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification: Option<RawDate>,
    /// LOA signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loa: Option<RawDate>,
    /// Production contract.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract: Option<RawDate>,
    /// Deliveries so far.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deliveries: Vec<RawDelivery>,
}

/// A delivery as written.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDelivery {
    /// The day.
    pub date: RawDate,
    /// Units.
    pub units: i64,
    /// Production line id (optional when the case has one line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<String>,
}

/// A case line as written.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCaseLine {
    /// Production line id.
    pub line: String,
    /// Units.
    pub quantity: i64,
    /// Unit value in dollars (`5000000`, `"$5M"`).
    pub unit_usd: Usd,
    /// Major Defense Equipment.
    #[serde(default)]
    pub mde: bool,
    /// `article` (default), `service` or `design_construction`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
}

/// A policy as written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPolicy {
    /// Name.
    pub name: String,
    /// Stage name (or `transport`) → factor.
    #[serde(default)]
    pub stage_scale: BTreeMap<String, f64>,
    /// Rate changes.
    #[serde(default)]
    pub rate: Vec<RawRateChange>,
    /// Tier changes.
    #[serde(default)]
    pub tier: Vec<RawTierChange>,
}

/// A policy's rate change as written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRateChange {
    /// Line id.
    pub line: String,
    /// From date.
    pub from: RawDate,
    /// Factor.
    pub multiplier: f64,
}

/// A policy's tier change as written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTierChange {
    /// ISO3 codes.
    pub purchasers: Vec<String>,
    /// New tier.
    pub tier: i64,
}

impl RawScenario {
    /// Reads the file's shape.
    ///
    /// # Errors
    /// [`ScenarioError::Syntax`] with the path of the offending value.
    pub fn parse(text: &str) -> Result<RawScenario, ScenarioError> {
        let deserializer =
            toml::Deserializer::parse(text).map_err(|error| syntax(text, ".", &error))?;
        serde_path_to_error::deserialize(deserializer).map_err(|error| {
            let path = error.path().to_string();
            syntax(text, &path, error.inner())
        })
    }
}

fn syntax(text: &str, path: &str, error: &toml::de::Error) -> ScenarioError {
    let message = error.message().trim().to_owned();
    let located = match error.span() {
        Some(span) => {
            let line = text
                .get(..span.start)
                .map_or(1, |before| before.lines().count().max(1));
            format!("{message} (line {line})")
        }
        None => message,
    };
    ScenarioError::Syntax {
        path: path.to_owned(),
        message: located,
    }
}

// ---------------------------------------------------------------------------------------
// Validation.

fn parse_date(path: &str, text: &str) -> Result<Date, ScenarioError> {
    text.trim().parse::<Date>().map_err(|_| {
        invalid(
            path,
            format!("'{text}' is not a date of the form YYYY-MM-DD"),
        )
    })
}

fn count(path: &str, value: i64, least: i64) -> Result<u32, ScenarioError> {
    if value < least {
        return Err(invalid(path, format!("{value} must be {least} or more")));
    }
    u32::try_from(value).map_err(|_| invalid(path, format!("{value} is too large")))
}

fn finite_at_least(path: &str, value: f64, least: f64) -> Result<f64, ScenarioError> {
    if value.is_finite() && value >= least {
        Ok(value)
    } else {
        Err(invalid(
            path,
            format!("{value} must be a finite number, {least} or more"),
        ))
    }
}

impl RawDist {
    /// The distribution the table describes.
    ///
    /// # Errors
    /// [`DistError`] when its parameters describe no distribution (e.g. `min > max`).
    pub fn build(&self) -> Result<DurationDist, DistError> {
        match *self {
            RawDist::Fixed { days } => DurationDist::fixed(days),
            RawDist::Uniform { min, max } => DurationDist::uniform(min, max),
            RawDist::Triangular { min, mode, max } => DurationDist::triangular(min, mode, max),
            RawDist::Pert { min, mode, max } => DurationDist::pert(min, mode, max),
            RawDist::Lognormal { median, p90 } => DurationDist::lognormal(median, p90),
            RawDist::Weibull { median, p90 } => DurationDist::weibull(median, p90),
            RawDist::Normal { median, p90 } => DurationDist::signed_normal(median, p90),
        }
    }

    /// The distribution as a duration: as [`RawDist::build`], but a signed offset
    /// (`normal`), which only the first-delivery delay and the promise slip take, is
    /// refused.
    ///
    /// # Errors
    /// [`DistError`] as [`RawDist::build`], and [`DistError::SignedDuration`].
    pub fn build_duration(&self) -> Result<DurationDist, DistError> {
        let dist = self.build()?;
        if dist.is_signed() {
            return Err(DistError::SignedDuration);
        }
        Ok(dist)
    }
}

/// As people read it, e.g. `lognormal median 595, p90 1308` (days).
impl std::fmt::Display for RawDist {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RawDist::Fixed { days } => write!(f, "fixed {days}"),
            RawDist::Uniform { min, max } => write!(f, "uniform {min}–{max}"),
            RawDist::Triangular { min, mode, max } => write!(f, "triangular {min}/{mode}/{max}"),
            RawDist::Pert { min, mode, max } => write!(f, "PERT min {min}, mode {mode}, max {max}"),
            RawDist::Lognormal { median, p90 } => write!(f, "lognormal median {median}, p90 {p90}"),
            RawDist::Weibull { median, p90 } => write!(f, "weibull median {median}, p90 {p90}"),
            RawDist::Normal { median, p90 } => write!(f, "normal median {median}, p90 {p90}"),
        }
    }
}

impl RawMultiplier {
    /// The same shape as a duration table: a multiplier takes the duration shapes, with
    /// `value` for `days`.
    fn as_dist(&self) -> RawDist {
        match *self {
            RawMultiplier::Fixed { value } => RawDist::Fixed { days: value },
            RawMultiplier::Uniform { min, max } => RawDist::Uniform { min, max },
            RawMultiplier::Triangular { min, mode, max } => RawDist::Triangular { min, mode, max },
            RawMultiplier::Pert { min, mode, max } => RawDist::Pert { min, mode, max },
            RawMultiplier::Lognormal { median, p90 } => RawDist::Lognormal { median, p90 },
        }
    }

    /// The distribution the table describes.
    ///
    /// # Errors
    /// [`DistError`] when its parameters describe no distribution (e.g. `min > max`).
    pub fn build(&self) -> Result<DurationDist, DistError> {
        self.as_dist().build()
    }

    /// The lowest value the table states, which must be above zero: the fixed value, the
    /// `min`, or the log-normal's `median` (the log-normal itself never reaches zero).
    pub fn lowest_stated(&self) -> f64 {
        match *self {
            RawMultiplier::Fixed { value } => value,
            RawMultiplier::Uniform { min, .. }
            | RawMultiplier::Triangular { min, .. }
            | RawMultiplier::Pert { min, .. } => min,
            RawMultiplier::Lognormal { median, .. } => median,
        }
    }
}

/// As people read it, e.g. `lognormal median 1, p90 1.39` (times the planned rate): as the
/// duration table of the same shape.
impl std::fmt::Display for RawMultiplier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_dist().fmt(f)
    }
}

fn dist_of(path: &str, raw: &RawDist) -> Result<DurationDist, ScenarioError> {
    raw.build_duration()
        .map_err(|error: DistError| invalid(path, error.to_string()))
}

/// A first-delivery delay or a promise slip: any duration, or a signed `normal` offset.
fn offset_of(path: &str, raw: &RawDist) -> Result<DurationDist, ScenarioError> {
    raw.build()
        .map_err(|error: DistError| invalid(path, error.to_string()))
}

fn parse_channel(path: &str, text: &str) -> Result<Channel, ScenarioError> {
    Channel::ALL
        .into_iter()
        .find(|channel| channel.as_str() == text.trim())
        .ok_or_else(|| {
            invalid(
                path,
                format!("unknown channel '{text}': expected fms, dcs or g2g"),
            )
        })
}

/// A stage whose time the scenario may give: those before `on_contract`.
fn paperwork_stage(path: &str, text: &str) -> Result<Stage, ScenarioError> {
    let stage = Stage::parse(text).map_err(|error| invalid(path, error.to_string()))?;
    if is_paperwork(stage) {
        Ok(stage)
    } else {
        Err(invalid(
            path,
            format!(
                "stage '{stage}' is not timed here: only stages before on_contract (and \
                 `transport`) have durations; production time comes from the lines"
            ),
        ))
    }
}

/// Stages before the production contract, in order (DESIGN.md, "Domain in brief").
pub(crate) fn is_paperwork(stage: Stage) -> bool {
    stage
        .forward_position()
        .zip(Stage::OnContract.forward_position())
        .is_some_and(|(at, contract)| at < contract)
}

fn validate(raw: RawScenario) -> Result<Scenario, ScenarioError> {
    let start = parse_date("start", &raw.start.0)?;
    let trials = match raw.trials {
        Some(trials) => count("trials", trials, 1)?,
        None => DEFAULT_TRIALS,
    };
    let seed = match raw.seed {
        Some(seed) => u64::try_from(seed)
            .map_err(|_| invalid("seed", format!("{seed} must be zero or more")))?,
        None => 0,
    };
    let target = raw
        .target
        .as_ref()
        .map(|text| parse_date("target", &text.0))
        .transpose()?;
    let channels = validate_channels(&raw.channels)?;
    let mut lines = validate_lines(&raw.lines)?;
    let line_ids: HashMap<&str, usize> = lines
        .iter()
        .enumerate()
        .map(|(index, line)| (line.id.as_str(), index))
        .collect();
    let rules = RuleBook::builtin().map_err(|error| invalid("cases", error.to_string()))?;
    let cases = validate_cases(&raw.cases, start, &line_ids, &rules)?;
    let policies = validate_policies(&raw.policies, &line_ids)?;
    drop(line_ids);
    check_book_dates(&mut lines, &cases, start)?;
    Ok(Scenario {
        name: raw.name,
        start,
        trials,
        seed,
        target,
        channels,
        lines,
        cases,
        policies,
    })
}

fn validate_channels(
    raw: &BTreeMap<String, BTreeMap<String, RawDist>>,
) -> Result<BTreeMap<Channel, ChannelTimes>, ScenarioError> {
    let mut channels = BTreeMap::new();
    for (name, stages) in raw {
        let channel = parse_channel(&format!("channels.{name}"), name)?;
        let mut times = ChannelTimes::default();
        for (key, raw_dist) in stages {
            let path = format!("channels.{name}.{key}");
            if key == "first_delivery_delay" {
                times.first_delivery_delay = Some(offset_of(&path, raw_dist)?);
                continue;
            }
            if key == "promise_slip" {
                times.promise_slip = Some(offset_of(&path, raw_dist)?);
                continue;
            }
            let dist = dist_of(&path, raw_dist)?;
            if key == "transport" {
                times.transport = Some(dist);
                continue;
            }
            if key == "delivery_span" {
                times.delivery_span = Some(dist);
                continue;
            }
            let stage = paperwork_stage(&path, key)?;
            if stage == Stage::CongressionalReview && channel == Channel::Fms {
                return Err(invalid(
                    path,
                    "FMS congressional review lasts what AECA §36(b) gives for each case; it \
                     cannot be set here (scale it in a policy instead)",
                ));
            }
            times.stages.insert(stage, dist);
        }
        channels.insert(channel, times);
    }
    Ok(channels)
}

fn validate_lines(raw: &[RawLine]) -> Result<Vec<Line>, ScenarioError> {
    let mut seen = HashSet::new();
    raw.iter()
        .enumerate()
        .map(|(index, line)| {
            let path = format!("lines[{index}]");
            if line.id.trim().is_empty() {
                return Err(invalid(format!("{path}.id"), "the id is empty"));
            }
            if !seen.insert(line.id.as_str()) {
                return Err(invalid(
                    format!("{path}.id"),
                    format!("duplicate line id '{}'", line.id),
                ));
            }
            let rate = validate_rate_steps(&path, &line.rate)?;
            let (backlog, backlog_as_of, backlog_includes_cases) = match &line.backlog {
                RawBacklog::Units(units) => {
                    (count(&format!("{path}.backlog"), *units, 0)?, None, false)
                }
                RawBacklog::Dated(dated) => (
                    count(&format!("{path}.backlog.units"), dated.units, 0)?,
                    Some(parse_date(
                        &format!("{path}.backlog.as_of"),
                        &dated.as_of.0,
                    )?),
                    dated.includes_cases,
                ),
            };
            let backlog_tier = match &line.backlog {
                RawBacklog::Dated(RawDatedBacklog {
                    tier: Some(tier),
                    includes_cases,
                    ..
                }) => {
                    let tier_path = format!("{path}.backlog.tier");
                    if !includes_cases {
                        return Err(invalid(
                            tier_path,
                            "a tier applies only to a backlog that includes the cases \
                             (includes_cases = true); any other backlog is served first",
                        ));
                    }
                    count(&tier_path, *tier, 0)?
                }
                _ => 1,
            };
            let orders = line
                .orders
                .iter()
                .enumerate()
                .map(|(at, order)| {
                    let order_path = format!("{path}.orders[{at}]");
                    Ok(Order {
                        date: parse_date(&format!("{order_path}.date"), &order.date.0)?,
                        units: count(&format!("{order_path}.units"), order.units, 1)?,
                        tier: match order.tier {
                            Some(tier) => count(&format!("{order_path}.tier"), tier, 0)?,
                            None => 1,
                        },
                        customer: order.customer.clone(),
                    })
                })
                .collect::<Result<Vec<_>, ScenarioError>>()?;
            Ok(Line {
                id: line.id.clone(),
                name: if line.name.is_empty() {
                    line.id.clone()
                } else {
                    line.name.clone()
                },
                backlog,
                backlog_as_of,
                backlog_includes_cases,
                backlog_tier,
                orders,
                lead_time_days: finite_at_least(
                    &format!("{path}.lead_time_days"),
                    line.lead_time_days,
                    0.0,
                )?,
                rate,
                rate_multiplier: line
                    .rate_multiplier
                    .as_ref()
                    .map(|raw| multiplier_of(&format!("{path}.rate_multiplier"), raw))
                    .transpose()?,
                ramp_slip: line
                    .ramp_slip
                    .as_ref()
                    .map(|raw| dist_of(&format!("{path}.ramp_slip"), raw))
                    .transpose()?,
                first_delivery_delay: line
                    .first_delivery_delay
                    .as_ref()
                    .map(|raw| offset_of(&format!("{path}.first_delivery_delay"), raw))
                    .transpose()?,
                delivery_span: line
                    .delivery_span
                    .as_ref()
                    .map(|raw| dist_of(&format!("{path}.delivery_span"), raw))
                    .transpose()?,
                delivery_span_scale: line
                    .delivery_span_scale
                    .map(|scale| span_scale_of(&format!("{path}.delivery_span_scale"), scale))
                    .transpose()?,
            })
        })
        .collect()
}

/// A span scale as the scenario accepts it, or the field at fault and why.
fn span_scale_of(path: &str, scale: SpanScale) -> Result<SpanScale, ScenarioError> {
    match scale.problem() {
        Some((field, message)) => Err(invalid(format!("{path}.{field}"), message)),
        None => Ok(scale),
    }
}

/// A multiplier's distribution: the duration shapes, every value above zero.
fn multiplier_of(path: &str, raw: &RawMultiplier) -> Result<DurationDist, ScenarioError> {
    let dist = raw.build().map_err(|error: DistError| {
        invalid(path, error.to_string().replace("number of days", "number"))
    })?;
    let least = raw.lowest_stated();
    if least <= 0.0 {
        return Err(invalid(
            path,
            format!("a multiplier must be above zero ({least} is not): it scales the planned rate"),
        ));
    }
    Ok(dist)
}

/// The order book's checks that need the start and the cases: a backlog is stated as of a
/// day that has passed, and with `includes_cases` the units of the cases ordered by the
/// backlog's date come out of the stated backlog.
fn check_book_dates(lines: &mut [Line], cases: &[Case], start: Date) -> Result<(), ScenarioError> {
    for (index, line) in lines.iter_mut().enumerate() {
        let Some(as_of) = line.backlog_as_of else {
            continue;
        };
        if as_of > start {
            return Err(invalid(
                format!("lines[{index}].backlog.as_of"),
                format!(
                    "{as_of} is after the scenario start {start}: a backlog is stated as of a \
                     day that has passed (list later orders in `orders`)"
                ),
            ));
        }
        if !line.backlog_includes_cases {
            continue;
        }
        let mut held: u64 = 0;
        for case in cases {
            let Some(ordered) = case.order_date else {
                continue;
            };
            if ordered > as_of {
                continue;
            }
            for (at, case_line) in case.lines.iter().enumerate() {
                if case_line.line != index {
                    continue;
                }
                let delivered_by_then: u64 = case
                    .milestones
                    .as_ref()
                    .map(|milestones| {
                        milestones
                            .deliveries
                            .iter()
                            .filter(|delivery| delivery.case_line == at && delivery.date <= as_of)
                            .map(|delivery| u64::from(delivery.units))
                            .sum()
                    })
                    .unwrap_or(0);
                held += u64::from(case_line.quantity).saturating_sub(delivered_by_then);
            }
        }
        let stated = u64::from(line.backlog);
        if held > stated {
            return Err(invalid(
                format!("lines[{index}].backlog.units"),
                format!(
                    "the backlog of {stated} units as of {as_of} cannot include the {held} \
                     undelivered units of this scenario's cases ordered by then \
                     (includes_cases = true)"
                ),
            ));
        }
        line.backlog = u32::try_from(stated - held).unwrap_or(u32::MAX);
    }
    Ok(())
}

fn validate_rate_steps(path: &str, raw: &[RawRateStep]) -> Result<Vec<RateStep>, ScenarioError> {
    if raw.is_empty() {
        return Err(invalid(
            format!("{path}.rate"),
            "a line needs at least one rate step",
        ));
    }
    let mut steps: Vec<RateStep> = Vec::with_capacity(raw.len());
    for (index, step) in raw.iter().enumerate() {
        let step_path = format!("{path}.rate[{index}]");
        let from = parse_date(&format!("{step_path}.from"), &step.from.0)?;
        let per_year = finite_at_least(&format!("{step_path}.per_year"), step.per_year, 0.0)?;
        if let Some(previous) = steps.last()
            && from <= previous.from
        {
            return Err(invalid(
                format!("{step_path}.from"),
                format!(
                    "rate steps must be in increasing date order: {from} is not after {}",
                    previous.from
                ),
            ));
        }
        let announced = step
            .announced
            .as_ref()
            .map(|text| parse_date(&format!("{step_path}.announced"), &text.0))
            .transpose()?;
        steps.push(RateStep {
            from,
            per_year,
            announced,
        });
    }
    if steps.last().is_some_and(|step| step.per_year <= 0.0) {
        return Err(invalid(
            format!("{path}.rate[{}].per_year", steps.len() - 1),
            "the last rate step must be above zero, or units would never be built",
        ));
    }
    Ok(steps)
}

fn validate_cases(
    raw: &[RawCase],
    start: Date,
    line_ids: &HashMap<&str, usize>,
    rules: &RuleBook,
) -> Result<Vec<Case>, ScenarioError> {
    let mut seen = HashSet::new();
    raw.iter()
        .enumerate()
        .map(|(index, case)| {
            let path = format!("cases[{index}]");
            if case.id.trim().is_empty() {
                return Err(invalid(format!("{path}.id"), "the id is empty"));
            }
            if !seen.insert(case.id.as_str()) {
                return Err(invalid(
                    format!("{path}.id"),
                    format!("duplicate case id '{}'", case.id),
                ));
            }
            validate_case(&path, case, start, line_ids, rules)
        })
        .collect()
}

fn validate_case(
    path: &str,
    raw: &RawCase,
    start: Date,
    line_ids: &HashMap<&str, usize>,
    rules: &RuleBook,
) -> Result<Case, ScenarioError> {
    let purchaser = Country::parse(&raw.purchaser)
        .map_err(|error| invalid(format!("{path}.purchaser"), error.to_string()))?;
    let channel = match &raw.channel {
        Some(text) => parse_channel(&format!("{path}.channel"), text)?,
        None => Channel::Fms,
    };
    if raw.lines.is_empty() {
        return Err(invalid(
            format!("{path}.lines"),
            "a case needs at least one line",
        ));
    }
    let mut lines = raw
        .lines
        .iter()
        .enumerate()
        .map(|(index, line)| validate_case_line(&format!("{path}.lines[{index}]"), line, line_ids))
        .collect::<Result<Vec<_>, _>>()?;
    let milestones = raw
        .milestones
        .as_ref()
        .map(|milestones| {
            validate_milestones(
                &format!("{path}.milestones"),
                milestones,
                start,
                &raw.lines,
                &mut lines,
            )
        })
        .transpose()?;
    let implied = milestones
        .as_ref()
        .and_then(|milestones| implied_stage(milestones, &lines));
    let stage = match &raw.stage {
        Some(text) => Stage::parse(text)
            .map_err(|error| invalid(format!("{path}.stage"), error.to_string()))?,
        None => implied.map(|(stage, _)| stage).ok_or_else(|| {
            invalid(
                format!("{path}.stage"),
                "a case needs its current stage, or milestones that imply it",
            )
        })?,
    };
    let open = stage
        .forward_position()
        .zip(Stage::Delivered.forward_position())
        .is_some_and(|(at, end)| at <= end);
    if !open {
        return Err(invalid(
            format!("{path}.stage"),
            format!("stage '{stage}' comes after delivered: the case has nothing left to forecast"),
        ));
    }
    if let Some((reached, _)) = implied
        && stage.forward_position() < reached.forward_position()
    {
        return Err(invalid(
            format!("{path}.stage"),
            format!("stage '{stage}' is before '{reached}', which the milestones say was reached"),
        ));
    }
    let since = match (&raw.since, implied) {
        (Some(text), _) => parse_date(&format!("{path}.since"), &text.0)?,
        (None, Some((reached, date))) if reached == stage => date,
        (None, _) => {
            return Err(invalid(
                format!("{path}.since"),
                format!("a case needs the date it entered stage '{stage}'"),
            ));
        }
    };
    if since > start {
        return Err(invalid(
            format!("{path}.since"),
            format!("{since} is after the scenario start {start}"),
        ));
    }
    let tier = match raw.tier {
        Some(tier) => count(&format!("{path}.tier"), tier, 0)?,
        None => 1,
    };
    let recorded_contract = milestones
        .as_ref()
        .and_then(|milestones| milestones.contract);
    let order_date = recorded_contract.or_else(|| {
        if !stage.is_on_contract_or_later() {
            None
        } else if stage == Stage::OnContract {
            Some(since)
        } else {
            milestones
                .as_ref()
                .and_then(|milestones| milestones.loa)
                .or(Some(since))
        }
    });
    let mut case = Case {
        id: raw.id.clone(),
        purchaser,
        channel,
        stage,
        since,
        tier,
        lines,
        congressional_review_days: 0,
        order_date,
        new_configuration: raw.new_configuration.unwrap_or(true),
        milestones,
        promised_first_delivery: raw
            .promised_first_delivery
            .as_ref()
            .map(|text| parse_date(&format!("{path}.promised_first_delivery"), &text.0))
            .transpose()?,
    };
    case.congressional_review_days = review_days(path, &case, start, rules)?;
    Ok(case)
}

/// The stage the milestones say the case is in, and since when: the latest milestone.
fn implied_stage(milestones: &Milestones, lines: &[CaseLine]) -> Option<(Stage, Date)> {
    let bought: u64 = lines.iter().map(|line| u64::from(line.quantity)).sum();
    let delivered: u64 = lines.iter().map(|line| u64::from(line.delivered)).sum();
    let first = milestones.deliveries.iter().map(|d| d.date).min();
    let last = milestones.deliveries.iter().map(|d| d.date).max();
    if let (Some(first), Some(last)) = (first, last) {
        return Some(if delivered >= bought {
            (Stage::Delivered, last)
        } else {
            (Stage::Delivering, first)
        });
    }
    [
        (Stage::OnContract, milestones.contract),
        (Stage::Implemented, milestones.loa),
        (Stage::CongressionalReview, milestones.notification),
        (Stage::LorReceived, milestones.request),
    ]
    .into_iter()
    .find_map(|(stage, date)| date.map(|date| (stage, date)))
}

/// Milestones: dated facts, none after the start, in the order the process allows, and no
/// more units delivered than bought. Records each line's delivered units in `lines`.
fn validate_milestones(
    path: &str,
    raw: &RawMilestones,
    start: Date,
    raw_lines: &[RawCaseLine],
    lines: &mut [CaseLine],
) -> Result<Milestones, ScenarioError> {
    let fact = |name: &str, text: &Option<RawDate>| -> Result<Option<Date>, ScenarioError> {
        let Some(text) = text else {
            return Ok(None);
        };
        let field = format!("{path}.{name}");
        let date = parse_date(&field, &text.0)?;
        if date > start {
            return Err(invalid(
                field,
                format!(
                    "{date} is after the scenario start {start}: a milestone is a fact that \
                     has happened"
                ),
            ));
        }
        Ok(Some(date))
    };
    let request = fact("request", &raw.request)?;
    let notification = fact("notification", &raw.notification)?;
    let loa = fact("loa", &raw.loa)?;
    let contract = fact("contract", &raw.contract)?;
    // The DSCA notice can come before the buyer's own request (the timelines' README), so
    // the request is only held to come before the LOA and the contract.
    let pairs = [
        ("notification", notification, "loa", loa),
        ("notification", notification, "contract", contract),
        ("loa", loa, "contract", contract),
        ("request", request, "loa", loa),
        ("request", request, "contract", contract),
    ];
    for (earlier_name, earlier, later_name, later) in pairs {
        if let (Some(earlier), Some(later)) = (earlier, later)
            && later < earlier
        {
            return Err(invalid(
                format!("{path}.{later_name}"),
                format!("{later_name} {later} is before {earlier_name} {earlier}"),
            ));
        }
    }
    let mut deliveries = Vec::with_capacity(raw.deliveries.len());
    for (index, delivery) in raw.deliveries.iter().enumerate() {
        let delivery_path = format!("{path}.deliveries[{index}]");
        let date = fact(
            &format!("deliveries[{index}].date"),
            &Some(delivery.date.clone()),
        )?
        .unwrap_or(start);
        for (name, milestone) in [("loa", loa), ("contract", contract)] {
            if let Some(milestone) = milestone
                && date < milestone
            {
                return Err(invalid(
                    format!("{delivery_path}.date"),
                    format!("a delivery on {date} is before the {name} on {milestone}"),
                ));
            }
        }
        let units = count(&format!("{delivery_path}.units"), delivery.units, 1)?;
        let case_line = match &delivery.line {
            Some(id) => raw_lines
                .iter()
                .position(|line| &line.line == id)
                .ok_or_else(|| {
                    invalid(
                        format!("{delivery_path}.line"),
                        format!("line '{id}' is not one of this case's lines"),
                    )
                })?,
            None if raw_lines.len() == 1 => 0,
            None => {
                return Err(invalid(
                    format!("{delivery_path}.line"),
                    format!(
                        "the case has {} lines: say which line delivered",
                        raw_lines.len()
                    ),
                ));
            }
        };
        let line = &mut lines[case_line];
        line.delivered = line.delivered.saturating_add(units);
        if line.delivered > line.quantity {
            return Err(invalid(
                format!("{delivery_path}.units"),
                format!(
                    "{} units delivered on line '{}', but the case buys {}",
                    line.delivered, raw_lines[case_line].line, line.quantity
                ),
            ));
        }
        line.last_delivery = Some(line.last_delivery.map_or(date, |last| last.max(date)));
        deliveries.push(Delivery {
            date,
            units,
            case_line,
            line: raw_lines[case_line].line.clone(),
        });
    }
    Ok(Milestones {
        request,
        notification,
        loa,
        contract,
        deliveries,
    })
}

fn validate_case_line(
    path: &str,
    raw: &RawCaseLine,
    line_ids: &HashMap<&str, usize>,
) -> Result<CaseLine, ScenarioError> {
    let line = *line_ids.get(raw.line.as_str()).ok_or_else(|| {
        let mut known: Vec<&str> = line_ids.keys().copied().collect();
        known.sort_unstable();
        invalid(
            format!("{path}.line"),
            format!(
                "unknown line '{}': known lines are {}",
                raw.line,
                known.join(", ")
            ),
        )
    })?;
    Ok(CaseLine {
        line,
        quantity: count(&format!("{path}.quantity"), raw.quantity, 1)?,
        delivered: 0,
        last_delivery: None,
        unit_usd: raw.unit_usd,
        mde: raw.mde,
        category: raw.category.unwrap_or_default(),
    })
}

/// Congressional review days for a case (AECA §36(b)(1); reference §3.2–3.3): the informal
/// review the rule set requires plus the formal period, zero when no notification is needed.
///
/// The case is judged once, on the scenario start (or, for a case already in review, on
/// the day it entered review): the rule book holds no future-dated law a forecast could
/// know about, and judging per trial would give the same answer at a far higher cost.
/// Only FMS cases are notified under §36(b); DCS and G2G cases take their channel's
/// `congressional_review` distribution, if any.
fn review_days(
    path: &str,
    case: &Case,
    start: Date,
    rules: &RuleBook,
) -> Result<u32, ScenarioError> {
    if case.channel != Channel::Fms {
        return Ok(0);
    }
    let core_lines: Vec<CoreCaseLine> = case
        .lines
        .iter()
        .map(|line| CoreCaseLine {
            item: String::new(),
            quantity: line.quantity,
            unit_usd: line.unit_usd,
            mde: line.mde,
            category: line.category,
            production_line: None,
        })
        .collect();
    let values = CaseValues::of_lines(&core_lines)
        .map_err(|error| invalid(format!("{path}.lines"), format!("case value: {error}")))?;
    let date = if case.stage == Stage::CongressionalReview {
        case.since
    } else {
        start
    };
    let check = NotificationCheck {
        purchaser: case.purchaser,
        date,
        values,
        emergency: false,
    };
    let decision = rules
        .check(&check, None)
        .map_err(|error| invalid(path, error.to_string()))?;
    // The case sits in review through the informal (tiered) review and the formal period
    // that follows it (update §1.3), not only the formal days the offer date counts from.
    Ok(decision.informal_review_days + decision.formal_review_days)
}

fn validate_policies(
    raw: &[RawPolicy],
    line_ids: &HashMap<&str, usize>,
) -> Result<Vec<Policy>, ScenarioError> {
    let mut seen = HashSet::new();
    raw.iter()
        .enumerate()
        .map(|(index, policy)| {
            let path = format!("policies[{index}]");
            let name = policy.name.trim();
            if name.is_empty() || name == "base" {
                return Err(invalid(
                    format!("{path}.name"),
                    "a policy needs a name other than 'base'",
                ));
            }
            if !seen.insert(name) {
                return Err(invalid(
                    format!("{path}.name"),
                    format!("duplicate policy name '{name}'"),
                ));
            }
            validate_policy(&path, policy, line_ids)
        })
        .collect()
}

fn validate_policy(
    path: &str,
    raw: &RawPolicy,
    line_ids: &HashMap<&str, usize>,
) -> Result<Policy, ScenarioError> {
    let mut policy = Policy {
        name: raw.name.trim().to_owned(),
        ..Policy::default()
    };
    for (key, &factor) in &raw.stage_scale {
        let key_path = format!("{path}.stage_scale.{key}");
        let factor = finite_at_least(&key_path, factor, 0.0)?;
        if key == "transport" {
            policy.transport_scale = Some(factor);
        } else {
            let stage = Stage::parse(key).map_err(|error| invalid(&key_path, error.to_string()))?;
            if !is_paperwork(stage) {
                return Err(invalid(
                    key_path,
                    format!("stage '{stage}' has no duration to scale"),
                ));
            }
            policy.stage_scale.insert(stage, factor);
        }
    }
    for (index, change) in raw.rate.iter().enumerate() {
        let change_path = format!("{path}.rate[{index}]");
        let line = *line_ids.get(change.line.as_str()).ok_or_else(|| {
            invalid(
                format!("{change_path}.line"),
                format!("unknown line '{}'", change.line),
            )
        })?;
        let from = parse_date(&format!("{change_path}.from"), &change.from.0)?;
        let multiplier =
            finite_at_least(&format!("{change_path}.multiplier"), change.multiplier, 0.0)?;
        if multiplier <= 0.0 {
            return Err(invalid(
                format!("{change_path}.multiplier"),
                "the multiplier must be above zero",
            ));
        }
        policy.rate.push(RateChange {
            line,
            from,
            multiplier,
        });
    }
    for (index, change) in raw.tier.iter().enumerate() {
        let change_path = format!("{path}.tier[{index}]");
        let purchasers = change
            .purchasers
            .iter()
            .enumerate()
            .map(|(at, code)| {
                Country::parse(code).map_err(|error| {
                    invalid(format!("{change_path}.purchasers[{at}]"), error.to_string())
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let tier = count(&format!("{change_path}.tier"), change.tier, 0)?;
        policy.tier.push(TierChange { purchasers, tier });
    }
    Ok(policy)
}
