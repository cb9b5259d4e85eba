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
}

/// A production line.
#[derive(Debug, Clone)]
pub struct Line {
    /// Unique id, referred to by case lines.
    pub id: String,
    /// Name for people.
    pub name: String,
    /// Units already queued ahead of every case (priority tier 0).
    pub backlog: u32,
    /// Days from a unit's release to its completion.
    pub lead_time_days: f64,
    /// Rate steps, strictly increasing in date; before the first step the line builds
    /// nothing.
    pub rate: Vec<RateStep>,
}

/// A line builds `per_year` units a year from `from` until the next step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateStep {
    /// First day of the step.
    pub from: Date,
    /// Units per year.
    pub per_year: f64,
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
}

/// One line of a case.
#[derive(Debug, Clone)]
pub struct CaseLine {
    /// Index into [`Scenario::lines`].
    pub line: usize,
    /// Units still to build.
    pub quantity: u32,
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
        let raw = RawScenario::parse(text)?;
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
}

/// A production line as written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLine {
    /// Id.
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Backlog units.
    #[serde(default)]
    pub backlog: i64,
    /// Lead time, days.
    #[serde(default)]
    pub lead_time_days: f64,
    /// Rate steps.
    pub rate: Vec<RawRateStep>,
}

/// A rate step as written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRateStep {
    /// From date.
    pub from: RawDate,
    /// Units per year.
    pub per_year: f64,
}

/// A case as written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCase {
    /// Id.
    pub id: String,
    /// ISO 3166-1 alpha-3.
    pub purchaser: String,
    /// `fms` (default), `dcs` or `g2g`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Current stage.
    pub stage: String,
    /// Date it entered that stage.
    pub since: RawDate,
    /// Priority tier (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<i64>,
    /// Lines.
    pub lines: Vec<RawCaseLine>,
}

/// A case line as written.
#[derive(Debug, Clone, Serialize, Deserialize)]
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

fn dist_of(path: &str, raw: &RawDist) -> Result<DurationDist, ScenarioError> {
    let built = match *raw {
        RawDist::Fixed { days } => DurationDist::fixed(days),
        RawDist::Uniform { min, max } => DurationDist::uniform(min, max),
        RawDist::Triangular { min, mode, max } => DurationDist::triangular(min, mode, max),
        RawDist::Pert { min, mode, max } => DurationDist::pert(min, mode, max),
        RawDist::Lognormal { median, p90 } => DurationDist::lognormal(median, p90),
    };
    built.map_err(|error: DistError| invalid(path, error.to_string()))
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
    let lines = validate_lines(&raw.lines)?;
    let line_ids: HashMap<&str, usize> = lines
        .iter()
        .enumerate()
        .map(|(index, line)| (line.id.as_str(), index))
        .collect();
    let rules = RuleBook::builtin().map_err(|error| invalid("cases", error.to_string()))?;
    let cases = validate_cases(&raw.cases, start, &line_ids, &rules)?;
    let policies = validate_policies(&raw.policies, &line_ids)?;
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
            let dist = dist_of(&path, raw_dist)?;
            if key == "transport" {
                times.transport = Some(dist);
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
            Ok(Line {
                id: line.id.clone(),
                name: if line.name.is_empty() {
                    line.id.clone()
                } else {
                    line.name.clone()
                },
                backlog: count(&format!("{path}.backlog"), line.backlog, 0)?,
                lead_time_days: finite_at_least(
                    &format!("{path}.lead_time_days"),
                    line.lead_time_days,
                    0.0,
                )?,
                rate,
            })
        })
        .collect()
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
        steps.push(RateStep { from, per_year });
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
    let stage = Stage::parse(&raw.stage)
        .map_err(|error| invalid(format!("{path}.stage"), error.to_string()))?;
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
    let since = parse_date(&format!("{path}.since"), &raw.since.0)?;
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
    if raw.lines.is_empty() {
        return Err(invalid(
            format!("{path}.lines"),
            "a case needs at least one line",
        ));
    }
    let lines = raw
        .lines
        .iter()
        .enumerate()
        .map(|(index, line)| validate_case_line(&format!("{path}.lines[{index}]"), line, line_ids))
        .collect::<Result<Vec<_>, _>>()?;
    let mut case = Case {
        id: raw.id.clone(),
        purchaser,
        channel,
        stage,
        since,
        tier,
        lines,
        congressional_review_days: 0,
    };
    case.congressional_review_days = review_days(path, &case, start, rules)?;
    Ok(case)
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
    // The paperwork path to the offer holds both reviews: the informal one comes before the
    // formal notification (update §1.3), which is where `earliest_offer_after_...` counts from.
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
