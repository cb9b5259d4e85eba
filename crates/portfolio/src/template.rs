//! The demo's scenario template (`crates/data/data/demo/scenario-template.toml`): what the
//! public data does not say (the stage of an unmatched case, stage durations, backlogs where
//! no source states one, build times, the expedite policy), read and checked like a
//! scenario. A wrong value is an error naming the file, the field and the problem; nothing is
//! silently clamped or dropped, so a template never changes results behind the user's back.

use std::collections::BTreeMap;

use expedite_core::{Country, Date, Stage};
use expedite_data::capacity::Catalog;
use expedite_forecast::DurationDist;
use expedite_forecast::scenario::{RawDist, RawMultiplier, SpanScale};
use serde::{Deserialize, Serialize};

use crate::PortfolioError;

/// The name a template read from the shipped text carries in messages.
pub const SHIPPED_TEMPLATE: &str =
    "shipped template (crates/data/data/demo/scenario-template.toml)";

/// The latest date a template may name. Forecasts run decades past their start; keeping
/// inputs well inside jiff's calendar (which ends 9999-12-31) keeps every result a real date.
pub const LATEST_TEMPLATE_DATE: Date = jiff::civil::date(2199, 12, 31);

/// The earliest date a template may name (before any sale the data holds).
pub const EARLIEST_TEMPLATE_DATE: Date = jiff::civil::date(1950, 1, 1);

/// The longest duration, in days, a template may give any stage, build time or distribution
/// bound: a century. Longer is a typing mistake, and would push results off the calendar.
pub const LONGEST_DAYS: f64 = 36_500.0;

/// The most years of production a stated backlog may hold.
pub const LONGEST_BACKLOG_YEARS: f64 = 50.0;

/// The scenario template.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    /// Set by [`Template::calibrated`] under a fitted first-delivery delay: no backlog of
    /// other buyers is queued, not even a catalog's stated one, since the delay holds the
    /// usual wait behind them.
    #[serde(skip)]
    pub backlogs_held_by_the_delay: bool,
    /// The scenario's name.
    pub name: String,
    /// The forecast's "today" unless the caller gives another.
    pub as_of: Date,
    /// Trials per run.
    pub trials: u32,
    /// Seed of the random streams.
    pub seed: u64,
    /// Which notifications become cases.
    pub portfolio: PortfolioRule,
    /// The stage of a case no real timeline matches, by days since its notification.
    pub stage_by_days_since_notification: Vec<StageRule>,
    /// Channel → stage (or `transport`) → duration distribution, forecast scenario syntax.
    pub channels: BTreeMap<String, BTreeMap<String, RawDist>>,
    /// The day the template's assumed backlogs (`lines.<id>.backlog_years`) hold for.
    pub backlog_as_of: Date,
    /// Line id (of the catalog) → what the template assumes for it.
    pub lines: BTreeMap<String, LineAssumption>,
    /// Production uncertainty of every line.
    pub uncertainty: Uncertainty,
    /// The expedite policy.
    pub expedite: ExpediteRule,
    /// Where the template was read from, for messages.
    #[serde(skip)]
    pub file: String,
}

/// Which notifications become cases.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PortfolioRule {
    /// First notification date taken.
    pub from: Date,
    /// Last notification date taken.
    pub to: Date,
    /// NATO members left out (ISO 3166-1 alpha-3).
    pub exclude: Vec<String>,
    /// Priority tier of every case in the base run.
    pub base_tier: u32,
}

/// A case moves to `stage` `from_days` after its notification (an assumption).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StageRule {
    /// The stage.
    pub stage: String,
    /// Days after notification.
    pub from_days: i64,
}

/// What the template assumes for one line.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LineAssumption {
    /// Other buyers' orders queued on the template's `backlog_as_of`, in years of the line's
    /// base rate on that day; used where the catalog states no backlog.
    pub backlog_years: f64,
    /// Days from a unit's release to its completion.
    pub lead_time_days: f64,
    /// The first-delivery delay on this line, instead of the channel's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_delivery_delay: Option<RawDist>,
    /// The delivery span on this line, instead of the channel's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_span: Option<RawDist>,
    /// How the span of cases on this line grows with their order (`{ units, exponent }`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_span_scale: Option<SpanScale>,
}

/// Where a distribution the demo draws comes from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParameterOrigin {
    /// The template path, e.g. `channels.fms.offered` or `lines.himars.first_delivery_delay`.
    pub parameter: String,
    /// `fitted` (from the real timelines, by `expedite calibrate`) or `assumed` (the
    /// template's value).
    pub origin: &'static str,
    /// Sales behind a fit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<usize>,
    /// Of them, a SIPRI register's deals dated by years only (`expedite calibrate
    /// --register`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub year_dated: Option<usize>,
    /// How it was fitted, or the template's word for an assumption.
    pub method: String,
}

/// Production uncertainty every line gets (issue 8 §3), drawn once per line per trial.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Uncertainty {
    /// Realised ÷ planned rate.
    pub rate_multiplier: RawMultiplier,
    /// Days by which each announced ramp-up comes late.
    pub ramp_slip: RawDist,
}

/// The expedite policy.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExpediteRule {
    /// Its name in the report.
    pub name: String,
    /// Stage → factor on its remaining time.
    pub stage_scale: BTreeMap<String, f64>,
    /// Purchasers moved up the queue.
    pub eastern_flank: Vec<String>,
    /// Their tier.
    pub eastern_flank_tier: u32,
    /// Whether each line is raised to its announced targets.
    pub announced_rate_increases: bool,
}

impl Template {
    /// The shipped template, checked.
    ///
    /// # Errors
    /// Only if the shipped file were broken; a test reads it.
    pub fn builtin() -> Result<Template, PortfolioError> {
        Template::from_toml_str(expedite_data::demo::SCENARIO_TEMPLATE, SHIPPED_TEMPLATE)
    }

    /// Reads a template and checks every value that does not need the catalog (see
    /// [`Template::check_lines`] for the line ids).
    ///
    /// # Errors
    /// [`PortfolioError::Template`] naming `file`, the field and the problem.
    pub fn from_toml_str(text: &str, file: &str) -> Result<Template, PortfolioError> {
        let deserializer = toml::Deserializer::parse(text)
            .map_err(|error| template_error(file, ".", error.message().trim().to_owned()))?;
        let mut template: Template =
            serde_path_to_error::deserialize(deserializer).map_err(|error| {
                let field = error.path().to_string();
                template_error(file, &field, error.inner().message().trim().to_owned())
            })?;
        template.file = file.to_owned();
        template.check()?;
        Ok(template)
    }

    /// This template with every distribution the calibration fitted put in place of the
    /// template's own (the FMS channel's stages and first-delivery delay, and a line's own
    /// first-delivery delay for the lines the template has), and where each distribution the
    /// demo draws now comes from. Values the calibration did not fit stay the template's
    /// assumptions.
    pub fn calibrated(
        &self,
        params: &crate::calibrate::Params,
    ) -> (Template, Vec<ParameterOrigin>) {
        let mut template = self.clone();
        let fit_of = |parameter: &str| {
            params
                .fits
                .iter()
                .find(|fit| fit.parameter == parameter && fit.dist.is_some())
        };
        let mut origins = Vec::new();
        let mut place = |parameter: String, slot: &mut Option<RawDist>| match fit_of(&parameter) {
            Some(fit) => {
                *slot = fit.dist.clone();
                origins.push(ParameterOrigin {
                    parameter,
                    origin: "fitted",
                    n: Some(fit.n),
                    year_dated: fit.year_dated,
                    method: fit.method.clone(),
                });
            }
            None if slot.is_some() => origins.push(ParameterOrigin {
                parameter,
                origin: "assumed",
                n: None,
                year_dated: None,
                method: "the template's value".to_owned(),
            }),
            None => {}
        };
        for (channel, stages) in &mut template.channels {
            let keys: Vec<String> = stages.keys().cloned().collect();
            let mut wanted = keys.clone();
            for fitted_only in [
                "first_delivery_delay",
                "delivery_span",
                crate::promise::PROMISE_SLIP,
            ] {
                if !keys.iter().any(|key| key == fitted_only) {
                    wanted.push(fitted_only.to_owned());
                }
            }
            for key in wanted {
                let mut slot = stages.get(&key).cloned();
                place(format!("channels.{channel}.{key}"), &mut slot);
                if let Some(dist) = slot {
                    stages.insert(key, dist);
                }
            }
        }
        for (id, line) in &mut template.lines {
            let mut slot = line.first_delivery_delay.clone();
            place(format!("lines.{id}.first_delivery_delay"), &mut slot);
            line.first_delivery_delay = slot;
            let mut slot = line.delivery_span.clone();
            place(format!("lines.{id}.delivery_span"), &mut slot);
            line.delivery_span = slot;
        }
        for (id, line) in &mut template.lines {
            place_span_scale(id, line, params, &mut origins);
        }
        pin_spread_held_by_the_delay(&mut template, params, &mut origins);
        drop_backlogs_held_by_the_delay(&mut template, params, &mut origins);
        date_stages_by_the_fitted_medians(&mut template, params, &mut origins);
        // The calibration file states the production uncertainty with its sources; the
        // back-test scored it, so the demo takes the same values rather than the template's.
        template.uncertainty.rate_multiplier = params.line_defaults.rate_multiplier.clone();
        template.uncertainty.ramp_slip = params.line_defaults.ramp_slip.clone();
        for parameter in ["rate_multiplier", "ramp_slip"] {
            let source = params
                .assumptions
                .iter()
                .find(|assumption| assumption.parameter == format!("line_defaults.{parameter}"))
                .map_or_else(String::new, |assumption| assumption.why.clone());
            origins.push(ParameterOrigin {
                parameter: format!("uncertainty.{parameter}"),
                origin: "assumed",
                n: None,
                year_dated: None,
                method: format!("the calibration file's stated assumption: {source}"),
            });
        }
        (template, origins)
    }

    /// Where each distribution of this template comes from when no calibration is used: all
    /// assumed.
    pub fn assumed_origins(&self) -> Vec<ParameterOrigin> {
        let assumed = |parameter: String| ParameterOrigin {
            parameter,
            origin: "assumed",
            n: None,
            year_dated: None,
            method: "the template's value".to_owned(),
        };
        let mut origins: Vec<ParameterOrigin> = self
            .channels
            .iter()
            .flat_map(|(channel, stages)| {
                stages
                    .keys()
                    .map(move |key| format!("channels.{channel}.{key}"))
            })
            .map(assumed)
            .collect();
        origins.extend(
            self.lines
                .iter()
                .filter(|(_, line)| line.first_delivery_delay.is_some())
                .map(|(id, _)| assumed(format!("lines.{id}.first_delivery_delay"))),
        );
        origins.extend(
            self.lines
                .iter()
                .filter(|(_, line)| line.delivery_span.is_some())
                .map(|(id, _)| assumed(format!("lines.{id}.delivery_span"))),
        );
        origins.extend(
            self.lines
                .iter()
                .filter(|(_, line)| line.delivery_span_scale.is_some())
                .map(|(id, _)| assumed(format!("lines.{id}.delivery_span_scale"))),
        );
        origins.push(assumed("uncertainty.rate_multiplier".to_owned()));
        origins.push(assumed("uncertainty.ramp_slip".to_owned()));
        origins
    }

    /// An error about `field` of this template.
    pub(crate) fn error(&self, field: &str, problem: impl Into<String>) -> PortfolioError {
        template_error(&self.file, field, problem.into())
    }

    /// Checks that every line the template names is in the catalog.
    ///
    /// # Errors
    /// [`PortfolioError::Template`] naming `lines.<id>`.
    pub fn check_lines(&self, catalog: &Catalog) -> Result<(), PortfolioError> {
        for id in self.lines.keys() {
            if catalog.line(id).is_none() {
                let known: Vec<&str> = catalog.lines.iter().map(|line| line.id.as_str()).collect();
                return Err(self.error(
                    &format!("lines.{id}"),
                    format!(
                        "unknown line id '{id}': the catalog has {}",
                        known.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The template's stage rule for a case notified on `notified`, on `as_of`: the stage and
    /// the day it was entered.
    ///
    /// # Errors
    /// [`PortfolioError::Template`] if no rule applies (the check makes the first rule start
    /// on day 0, so this only happens for an `as_of` before the notification).
    pub fn stage_on(&self, notified: Date, as_of: Date) -> Result<(Stage, Date), PortfolioError> {
        let age = i64::from((as_of - notified).get_days());
        let rule = self
            .stage_by_days_since_notification
            .iter()
            .filter(|rule| rule.from_days <= age)
            .max_by_key(|rule| rule.from_days)
            .ok_or_else(|| {
                self.error(
                    "stage_by_days_since_notification",
                    format!("no rule applies {age} days after notification"),
                )
            })?;
        let stage = Stage::parse(&rule.stage)
            .map_err(|error| self.error("stage_by_days_since_notification", error.to_string()))?;
        let since = notified
            .checked_add(jiff::Span::new().days(rule.from_days))
            .map_err(|_| {
                self.error(
                    "stage_by_days_since_notification",
                    "the stage's date is beyond the calendar",
                )
            })?;
        Ok((stage, since))
    }

    fn check(&self) -> Result<(), PortfolioError> {
        self.check_date("as_of", self.as_of)?;
        if self.trials == 0 {
            return Err(self.error("trials", "must be 1 or more"));
        }
        self.check_date("portfolio.from", self.portfolio.from)?;
        self.check_date("portfolio.to", self.portfolio.to)?;
        if self.portfolio.to < self.portfolio.from {
            return Err(self.error(
                "portfolio.to",
                format!(
                    "{} is before portfolio.from {}",
                    self.portfolio.to, self.portfolio.from
                ),
            ));
        }
        self.check_date("backlog_as_of", self.backlog_as_of)?;
        self.countries("portfolio.exclude", &self.portfolio.exclude)?;
        self.countries("expedite.eastern_flank", &self.expedite.eastern_flank)?;
        let first_stage = self.check_stage_rules()?;
        self.check_channels(first_stage)?;
        for (id, line) in &self.lines {
            let field = format!("lines.{id}.backlog_years");
            if !(line.backlog_years.is_finite()
                && (0.0..=LONGEST_BACKLOG_YEARS).contains(&line.backlog_years))
            {
                return Err(self.error(
                    &field,
                    format!(
                        "{} must be a number of years from 0 to {LONGEST_BACKLOG_YEARS}",
                        line.backlog_years
                    ),
                ));
            }
            self.check_days(&format!("lines.{id}.lead_time_days"), line.lead_time_days)?;
            if let Some(delay) = &line.first_delivery_delay {
                self.check_offset(&format!("lines.{id}.first_delivery_delay"), delay)?;
            }
            if let Some(span) = &line.delivery_span {
                self.check_dist(&format!("lines.{id}.delivery_span"), span)?;
            }
            if let Some((field, problem)) =
                line.delivery_span_scale.and_then(|scale| scale.problem())
            {
                return Err(self.error(&format!("lines.{id}.delivery_span_scale.{field}"), problem));
            }
        }
        self.check_dist("uncertainty.ramp_slip", &self.uncertainty.ramp_slip)?;
        self.check_multiplier(
            "uncertainty.rate_multiplier",
            &self.uncertainty.rate_multiplier,
        )?;
        for (stage, factor) in &self.expedite.stage_scale {
            let field = format!("expedite.stage_scale.{stage}");
            if stage != "transport" {
                Stage::parse(stage).map_err(|error| self.error(&field, error.to_string()))?;
            }
            if !(factor.is_finite() && *factor >= 0.0) {
                return Err(self.error(
                    &field,
                    format!("{factor} must be a finite number, 0 or more"),
                ));
            }
        }
        Ok(())
    }

    fn check_date(&self, field: &str, date: Date) -> Result<(), PortfolioError> {
        if (EARLIEST_TEMPLATE_DATE..=LATEST_TEMPLATE_DATE).contains(&date) {
            Ok(())
        } else {
            Err(self.error(
                field,
                format!(
                    "{date} is beyond the calendar a forecast can use \
                     ({EARLIEST_TEMPLATE_DATE} to {LATEST_TEMPLATE_DATE})"
                ),
            ))
        }
    }

    fn check_days(&self, field: &str, days: f64) -> Result<(), PortfolioError> {
        if days.is_finite() && (0.0..=LONGEST_DAYS).contains(&days) {
            Ok(())
        } else {
            Err(self.error(
                field,
                format!("{days} must be a number of days from 0 to {LONGEST_DAYS}"),
            ))
        }
    }

    fn countries(&self, field: &str, codes: &[String]) -> Result<Vec<Country>, PortfolioError> {
        codes
            .iter()
            .enumerate()
            .map(|(index, code)| {
                Country::parse(code)
                    .map_err(|error| self.error(&format!("{field}[{index}]"), error.to_string()))
            })
            .collect()
    }

    /// The rules start on day 0, rise strictly, and name forward stages up to `on_contract`
    /// in order. Returns the first rule's stage.
    fn check_stage_rules(&self) -> Result<Stage, PortfolioError> {
        const FIELD: &str = "stage_by_days_since_notification";
        let mut previous: Option<(Stage, i64)> = None;
        for (index, rule) in self.stage_by_days_since_notification.iter().enumerate() {
            let field = format!("{FIELD}[{index}]");
            let stage = Stage::parse(&rule.stage)
                .map_err(|error| self.error(&format!("{field}.stage"), error.to_string()))?;
            let position = stage.forward_position();
            let contract = Stage::OnContract.forward_position();
            if position.is_none() || position > contract {
                return Err(self.error(
                    &format!("{field}.stage"),
                    format!(
                        "'{stage}' cannot be inferred from a notification: name a stage from \
                         congressional_review to on_contract"
                    ),
                ));
            }
            if !(0..=LONGEST_DAYS as i64).contains(&rule.from_days) {
                return Err(self.error(
                    &format!("{field}.from_days"),
                    format!("{} must be from 0 to {LONGEST_DAYS} days", rule.from_days),
                ));
            }
            match previous {
                None if rule.from_days != 0 => {
                    return Err(self.error(
                        &format!("{field}.from_days"),
                        "the first rule must start on day 0, or a newly notified case has no stage",
                    ));
                }
                Some((before, days))
                    if rule.from_days <= days || position <= before.forward_position() =>
                {
                    return Err(self.error(
                        &field,
                        format!(
                            "rules must move forward: '{stage}' from day {} does not follow \
                             '{before}' from day {days}",
                            rule.from_days
                        ),
                    ));
                }
                _ => {}
            }
            previous = Some((stage, rule.from_days));
        }
        self.stage_by_days_since_notification
            .first()
            .and_then(|rule| Stage::parse(&rule.stage).ok())
            .ok_or_else(|| self.error(FIELD, "give at least one rule"))
    }

    /// Every distribution is valid and within a century; the FMS channel times every stage a
    /// case may still pass through before `on_contract`, from the first rule's stage (the
    /// forecast would take an omitted stage as zero days, a silent change of results), except
    /// congressional review, which the AECA rules time; and transport.
    fn check_channels(&self, first_stage: Stage) -> Result<(), PortfolioError> {
        for (channel, stages) in &self.channels {
            for (stage, dist) in stages {
                let field = format!("channels.{channel}.{stage}");
                if stage == "first_delivery_delay" {
                    self.check_offset(&field, dist)?;
                } else {
                    self.check_dist(&field, dist)?;
                }
            }
        }
        let fms = self.channels.get("fms");
        let first = first_stage.forward_position().unwrap_or(0);
        let contract = Stage::OnContract.forward_position().unwrap_or(0);
        let mut needed: Vec<&str> = Stage::ALL
            .iter()
            .filter(|stage| {
                stage
                    .forward_position()
                    .is_some_and(|at| at >= first && at < contract)
            })
            .filter(|stage| **stage != Stage::CongressionalReview)
            .map(|stage| stage.as_str())
            .collect();
        needed.push("transport");
        for stage in needed {
            if fms.is_none_or(|times| !times.contains_key(stage)) {
                return Err(self.error(
                    &format!("channels.fms.{stage}"),
                    "a stage a case passes through has no duration (the forecast would count \
                     it as zero days)",
                ));
            }
        }
        Ok(())
    }

    /// A multiplier on a planned rate: above zero at its lowest, at most ten at its highest.
    fn check_multiplier(&self, field: &str, dist: &RawMultiplier) -> Result<(), PortfolioError> {
        let least = dist.lowest_stated();
        let built = dist
            .build()
            .map_err(|error| self.error(field, error.to_string()))?;
        let reach = built.reach();
        if least.is_nan() || least <= 0.0 {
            return Err(self.error(
                field,
                format!("{least} must be above zero: the multiplier scales the planned rate"),
            ));
        }
        if !(reach.is_finite() && reach <= 10.0) {
            return Err(self.error(
                field,
                format!("reaches {reach:.2}, more than ten times the plan"),
            ));
        }
        Ok(())
    }

    /// A duration: any shape but the signed offset.
    fn check_dist(&self, field: &str, dist: &RawDist) -> Result<(), PortfolioError> {
        let built = dist
            .build_duration()
            .map_err(|error| self.error(field, error.to_string()))?;
        self.check_reach(field, &built)
    }

    /// A first-delivery delay: any duration, or a signed offset.
    fn check_offset(&self, field: &str, dist: &RawDist) -> Result<(), PortfolioError> {
        let built = dist
            .build()
            .map_err(|error| self.error(field, error.to_string()))?;
        self.check_reach(field, &built)
    }

    fn check_reach(&self, field: &str, built: &DurationDist) -> Result<(), PortfolioError> {
        // An open-ended distribution's 99.9th percentile stands for its largest value.
        let reach = built.reach();
        if reach.is_finite() && reach <= LONGEST_DAYS {
            Ok(())
        } else {
            Err(self.error(
                field,
                format!("reaches {reach:.0} days, more than {LONGEST_DAYS} (a century)"),
            ))
        }
    }
}

fn template_error(file: &str, field: &str, problem: String) -> PortfolioError {
    PortfolioError::Template {
        file: file.to_owned(),
        field: field.to_owned(),
        problem,
    }
}

/// The calibration's order scale of the span on line `id`, where it has one (it replaces the
/// template's), with its origin.
fn place_span_scale(
    id: &str,
    line: &mut LineAssumption,
    params: &crate::calibrate::Params,
    origins: &mut Vec<ParameterOrigin>,
) {
    let parameter = format!("lines.{id}.delivery_span_scale");
    let fit = params
        .fits
        .iter()
        .find(|fit| fit.parameter == "lines.*.delivery_span_scale");
    match (params.line_delivery_span_scale(id), fit) {
        (Some(scale), Some(fit)) => {
            line.delivery_span_scale = Some(scale);
            origins.push(ParameterOrigin {
                parameter,
                origin: "fitted",
                n: Some(fit.n),
                year_dated: fit.year_dated,
                method: format!("reference order {:.0} units; {}", scale.units, fit.method),
            });
        }
        _ if line.delivery_span_scale.is_some() => origins.push(ParameterOrigin {
            parameter,
            origin: "assumed",
            n: None,
            year_dated: None,
            method: "the template's value".to_owned(),
        }),
        _ => {}
    }
}

/// The days after notification at which a case is assumed implemented (LOA signed) and on
/// contract: the stage before plus the fitted median of the stage between, instead of the
/// template's round numbers. The delay was fitted on the calibrated model's contract dates;
/// a case put on contract later by the rule would wait twice (Lithuania's HIMARS, LOA signed
/// 37 days after notification, were assumed on contract two years after it).
fn date_stages_by_the_fitted_medians(
    template: &mut Template,
    params: &crate::calibrate::Params,
    origins: &mut Vec<ParameterOrigin>,
) {
    let Some(fitted) = params.channels.get("fms") else {
        return;
    };
    let mut previous: Option<(String, i64)> = None;
    for rule in &mut template.stage_by_days_since_notification {
        let lasting = match rule.stage.as_str() {
            "implemented" => "offered",
            "on_contract" => "implemented",
            _ => {
                previous = Some((rule.stage.clone(), rule.from_days));
                continue;
            }
        };
        let median = fitted.get(lasting).and_then(crate::backtest::median_days);
        if let (Some((before, from_days)), Some(median)) = (&previous, median) {
            let days = from_days + median.round() as i64;
            origins.push(ParameterOrigin {
                parameter: format!("stage_by_days_since_notification.{}", rule.stage),
                origin: "median",
                n: None,
                year_dated: None,
                method: format!(
                    "the template's day {} replaced by day {days}: {before} from day {from_days} \
                     plus the fitted median of {lasting} ({median:.0} days)",
                    rule.from_days
                ),
            });
            rule.from_days = days;
        }
        previous = Some((rule.stage.clone(), rule.from_days));
    }
}

/// No backlog of other buyers under a fitted delay, the template's assumed one or a catalog's
/// stated one: it would count the usual wait behind them twice
/// ([`crate::calibrate::Params::delay_holds_the_usual_queue`]).
fn drop_backlogs_held_by_the_delay(
    template: &mut Template,
    params: &crate::calibrate::Params,
    origins: &mut Vec<ParameterOrigin>,
) {
    if !params.delay_holds_the_usual_queue() {
        return;
    }
    template.backlogs_held_by_the_delay = true;
    for (id, line) in &mut template.lines {
        if line.backlog_years == 0.0 {
            continue;
        }
        origins.push(ParameterOrigin {
            parameter: format!("lines.{id}.backlog_years"),
            origin: "held by the delay",
            n: None,
            year_dated: None,
            method: format!(
                "the template's {} years set to none: the fitted first-delivery delay, measured \
                 against lines with no order book, already holds the usual wait behind other \
                 buyers' orders",
                line.backlog_years
            ),
        });
        line.backlog_years = 0.0;
    }
}

/// The fitted first-delivery delay is a residual measured with LOA → contract and transport
/// at their medians (docs/backtest.md), so it already holds their spread. Where a channel
/// has a fitted delay, those two are held at their medians, as the back-test holds them, so
/// that their spread is not counted twice.
fn pin_spread_held_by_the_delay(
    template: &mut Template,
    params: &crate::calibrate::Params,
    origins: &mut Vec<ParameterOrigin>,
) {
    for (channel, stages) in &mut template.channels {
        if !params
            .channels
            .get(channel)
            .is_some_and(|fitted| fitted.contains_key("first_delivery_delay"))
        {
            continue;
        }
        for key in ["implemented", "transport"] {
            let Some(days) = stages.get(key).and_then(crate::backtest::median_days) else {
                continue;
            };
            let days = days.round();
            stages.insert(key.to_owned(), RawDist::Fixed { days });
            let parameter = format!("channels.{channel}.{key}");
            let earlier = origins
                .iter()
                .position(|origin| origin.parameter == parameter);
            let (was, n, year_dated) = earlier.map_or(("assumed", None, None), |index| {
                let origin = origins.remove(index);
                (origin.origin, origin.n, origin.year_dated)
            });
            origins.push(ParameterOrigin {
                parameter,
                origin: "median",
                n,
                year_dated,
                method: format!(
                    "{was}, held at its median ({days:.0} days): the fitted first-delivery delay already holds its spread"
                ),
            });
        }
    }
}
