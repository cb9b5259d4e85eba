//! Calibration from history: fitting the forecast's stage durations and its first-delivery
//! delay to real timelines (`expedite calibrate`), and the parameters file it writes.
//!
//! # The method, in plain words
//!
//! Each parameter is a time between two milestones of real sales (days). For every sale that
//! reached the first milestone by the observation date (the day the file's facts are
//! complete), the interval is either **observed** (both dates known) or **right-censored**
//! (the second milestone had not happened by the observation date, so the interval is
//! longer than `observed − start`). Sales where a *later* milestone is known but this one is
//! empty are left out: the milestone happened and was not reported, so nothing is known of
//! its date. Production contracts are the exception to censoring: they are often not
//! reported at all (F-35 lots, multi-customer awards), so an empty production contract is
//! always "not reported", never "not yet".
//!
//! The stage intervals of one channel get a log-normal and a Weibull distribution by **maximum likelihood with right-censoring**: an
//! observed interval contributes its density, a censored one the probability of lasting
//! longer than it has so far. The more likely of the two is kept ([`crate::fit`]) and written
//! as the scenario syntax's `{ dist = "lognormal" | "weibull", median, p90 }`. A parameter
//! needs at least [`MIN_OBSERVED`] observed intervals; with fewer, no fit
//! is written and the report says so.
//!
//! The **first-delivery delay** is what the production model does not explain: for each
//! sale with a line in the catalog, the forecast engine is run once with every duration at
//! its median and no delay, from the production contract (or, where none is reported, from
//! the LOA), with the catalog as it was known on that day; the delay is the real first
//! delivery minus that date, negative where the plain model was already late. Sales not yet
//! delivered give a censored delay; a register's sales (`Inputs::register`) give delays
//! known to within a year. The delays are fitted as a signed normal offset
//! ([`crate::offset`]): a mean for each line with [`MIN_OBSERVED`] dated sales, one for the
//! rest of each channel, and one spread shared by all. The caller supplies that model run
//! ([`Explain`]), so this module stays pure statistics.
//!
//! The **delivery span**, the least time from a sale's first delivery to its last, is
//! fitted as a log-normal by line and by channel on the timelines and the register's deals
//! ([`crate::span`]).
//!
//! The **rate multiplier** and the **ramp slip** are not identified by the timelines (one
//! US sale on a catalog line has a final delivery, and the file holds no dated rate
//! changes): they stay stated assumptions, with their sources, in the file's
//! `[line_defaults]` and `[[assumption]]` tables.

use std::collections::BTreeMap;

use expedite_core::case::{CaseLine as CoreCaseLine, CaseValues, Category};
use expedite_core::rules::{NotificationCheck, RuleBook};
use expedite_core::{Channel, Date, Usd};
use expedite_data::timelines::{Milestone, MilestoneKind, Precision, Timeline};
use expedite_forecast::scenario::{RawDist, RawMultiplier, SpanScale};
use serde::{Deserialize, Serialize};

/// The fewest observed (uncensored) intervals a fit needs. Below five, the spread of a
/// log-normal is a guess; the report then says "not enough" and no parameter is written.
pub const MIN_OBSERVED: usize = 5;

use crate::offset::{self, Known, Offset, OffsetFit, best_mean, dated, fit_offsets};
use crate::{promise, span};

pub use crate::fit::{
    Choice, Family, Fitted, Interval, LogNormalFit, WeibullFit, fit_family, fit_lognormal,
    fit_weibull,
};

fn days_between(from: Date, to: Date) -> f64 {
    f64::from((to - from).get_days())
}

/// What the production model explains of a sale's first delivery: given a sale and the
/// milestone to start from (the production contract, or the LOA), the first delivery the
/// engine gives with every duration at its median and no first-delivery delay, using only
/// what was known on that day. `None` when the sale cannot be modelled (no line in the
/// catalog).
pub type Explain<'a> = dyn Fn(&Timeline, Anchor) -> Option<Date> + 'a;

/// The milestone a delay residual is measured from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Anchor {
    /// The production contract (known).
    Contract,
    /// The LOA, with LOA → contract at its fitted median (no contract reported).
    Loa,
}

/// The interval from milestone `from` to milestone `to` of one sale, as of `observed`.
///
/// `None` when the start is unknown or after `observed`, when the end is empty but a later
/// milestone is known (it happened, unreported), when the end is a production contract that
/// is empty (not reported is the rule, not the exception), or when the end is before the
/// start.
pub fn interval(
    timeline: &Timeline,
    from: MilestoneKind,
    to: MilestoneKind,
    observed: Date,
) -> Option<Interval> {
    let start = timeline.milestones.get(from)?.date;
    if start > observed {
        return None;
    }
    match timeline.milestones.get(to) {
        Some(end) if end.date <= observed => {
            let days = days_between(start, end.date);
            (days >= 0.0).then(|| Interval {
                id: timeline.id.clone(),
                days: days.max(1.0),
                censored: false,
            })
        }
        _ => {
            let later_known = MilestoneKind::ALL
                .into_iter()
                .filter(|kind| *kind > to)
                .any(|kind| {
                    timeline
                        .milestones
                        .get(kind)
                        .is_some_and(|m| m.date <= observed)
                });
            if later_known || to == MilestoneKind::ProductionContract {
                return None;
            }
            Some(Interval {
                id: timeline.id.clone(),
                days: days_between(start, observed).max(1.0),
                censored: true,
            })
        }
    }
}

/// Days of AECA §36(b) review the forecast engine gives a sale notified on `notified`
/// (informal plus formal, from the core rule book; zero when no review applies): the part
/// of notification → LOA that is statute, not paperwork. The whole notified value is
/// taken as Major Defense Equipment, as the back-test's scenarios do.
pub fn review_days(timeline: &Timeline, notified: Date, rules: &RuleBook) -> u32 {
    if timeline.channel != Channel::Fms {
        return 0;
    }
    let value = timeline.value_usd.unwrap_or(Usd::ZERO);
    let line = CoreCaseLine {
        item: timeline.system.clone(),
        quantity: 1,
        unit_usd: value,
        mde: true,
        category: Category::Article,
        production_line: None,
    };
    let Ok(values) = CaseValues::of_lines(&[line]) else {
        return 0;
    };
    let check = NotificationCheck {
        purchaser: timeline.purchaser,
        date: notified,
        values,
        emergency: false,
    };
    // What the engine adds for review (forecast `review_days`): the informal review and the
    // formal period after it. `earliest_offer_after_notification_days` counts the formal
    // period only (update §1.3), so it would leave the informal days inside `offered`.
    rules.check(&check, None).map_or(0, |decision| {
        decision.informal_review_days + decision.formal_review_days
    })
}

/// One fitted (or not fitted) parameter.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fit {
    /// Where it goes in the parameters file, e.g. `channels.fms.offered`.
    pub parameter: String,
    /// What interval it measures.
    pub interval: String,
    /// Sales that gave an interval.
    pub n: usize,
    /// Of which observed.
    pub observed: usize,
    /// Of which censored.
    pub censored: usize,
    /// The fit, when there are enough observed intervals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dist: Option<RawDist>,
    /// 10th, 50th and 90th percentile of the fit, days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p10_days: Option<f64>,
    /// Median of the fit, days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p50_days: Option<f64>,
    /// 90th percentile of the fit, days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p90_days: Option<f64>,
    /// How it was fitted, or why it was not.
    pub method: String,
    /// The sales behind it (for people checking the figure).
    pub cases: Vec<String>,
    /// Of the sales, those dated by years only (a register's deals), when there are any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year_dated: Option<usize>,
}

/// A parameter the timelines do not identify: kept as a stated assumption.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Assumption {
    /// Where it goes, e.g. `line_defaults.ramp_slip`.
    pub parameter: String,
    /// Why it is not fitted.
    pub why: String,
    /// Where its value comes from.
    pub source: String,
}

/// What every line gets unless a line's own table says otherwise.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LineDefaults {
    /// Realised ÷ planned rate, per line per trial.
    pub rate_multiplier: RawMultiplier,
    /// Days a raising rate step comes late, per line per trial.
    pub ramp_slip: RawDist,
}

/// A line's own fitted parameters.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LineParams {
    /// The first-delivery delay of cases on this line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_delivery_delay: Option<RawDist>,
    /// The delivery span of cases on this line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_span: Option<RawDist>,
    /// How the span of cases on this line (its own or the channel's) grows with the order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_span_scale: Option<SpanScale>,
}

/// The parameters file (`crates/data/data/calibration/params.toml`): distributions in the
/// scenario's syntax, then the fit report behind each.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// The day the timelines' facts are complete.
    pub observed: Date,
    /// The timelines it was fitted on.
    pub source: String,
    /// The distribution family the fits were written in (`expedite calibrate --family`).
    #[serde(default)]
    pub family: Family,
    /// Channel → stage (`loa_development`, `offered`, `implemented`),
    /// `first_delivery_delay` or `delivery_span` → distribution.
    pub channels: BTreeMap<String, BTreeMap<String, RawDist>>,
    /// Rate multiplier and ramp slip of every line (assumptions).
    pub line_defaults: LineDefaults,
    /// Line id → its own fits.
    #[serde(default)]
    pub lines: BTreeMap<String, LineParams>,
    /// Every parameter tried, with n and the fit or the reason there is none.
    #[serde(default, rename = "fit")]
    pub fits: Vec<Fit>,
    /// The parameters kept as assumptions.
    #[serde(default, rename = "assumption")]
    pub assumptions: Vec<Assumption>,
}

/// Why a parameters file was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{input}: {message}")]
pub struct ParamsError {
    /// What was read.
    pub input: String,
    /// What is wrong.
    pub message: String,
}

impl Params {
    /// The parameters shipped with expedite: `expedite calibrate` on the shipped timelines.
    ///
    /// # Errors
    /// Only if the shipped file were broken; a test reads it.
    pub fn shipped() -> Result<Params, ParamsError> {
        Params::from_toml_str(
            expedite_data::timelines::CALIBRATION_TOML,
            "crates/data/data/calibration/params.toml",
        )
    }

    /// Reads a parameters file.
    ///
    /// # Errors
    /// [`ParamsError`] naming the input and the TOML problem.
    pub fn from_toml_str(text: &str, input: &str) -> Result<Params, ParamsError> {
        toml::from_str(text).map_err(|error: toml::de::Error| ParamsError {
            input: input.to_owned(),
            message: error.to_string(),
        })
    }

    /// The file's text, under a header that says how it was produced.
    ///
    /// # Errors
    /// Only if serialisation failed (it does not for these types).
    pub fn to_toml_string(&self, command: &str) -> Result<String, toml::ser::Error> {
        let body = toml::to_string(self)?;
        Ok(format!(
            "# expedite calibration parameters: stage durations fitted to real timelines\n\
             # (maximum likelihood with right-censoring, in the family named below),\n\
             # first-delivery delays fitted as signed normal offsets and delivery spans as\n\
             # log-normals to the timelines and any register's year-dated sales, and the\n\
             # parameters the timelines do not identify, kept as stated assumptions.\n\
             # See docs/backtest.md for the method.\n\
             #\n\
             # Produced by: {command}\n\
             # Do not edit by hand: change the timelines or the method, and run the command again.\n\n\
             {body}"
        ))
    }

    /// The delivery span of cases on `line`, where the line has a fit of its own (else the
    /// channel's `delivery_span` applies, as a channel stage).
    pub fn line_delivery_span(&self, line: &str) -> Option<&RawDist> {
        self.lines
            .get(line)
            .and_then(|params| params.delivery_span.as_ref())
    }

    /// Whether a first-delivery delay was fitted. It was measured against lines with no
    /// order book (none is public for the years of the sales it was fitted on), so it holds
    /// the usual wait behind other buyers' orders: a forecast using it queues no backlog of
    /// other buyers, assumed or stated (only the deviation of a stated book from the usual
    /// one would be news, and the usual one is not known).
    pub fn delay_holds_the_usual_queue(&self) -> bool {
        self.channels
            .values()
            .any(|stages| stages.contains_key("first_delivery_delay"))
    }

    /// How the delivery span of cases on `line` grows with their order, where the fit saw
    /// orders on it.
    pub fn line_delivery_span_scale(&self, line: &str) -> Option<SpanScale> {
        self.lines
            .get(line)
            .and_then(|params| params.delivery_span_scale)
    }

    /// The first-delivery delay for a case of this channel on this line: the line's own fit,
    /// else the channel's, else (a channel with no fit of its own, such as a US direct
    /// commercial sale) the FMS fit: the delay is a production-side time, the same route
    /// through the plant whoever signed the contract.
    pub fn first_delivery_delay(&self, channel: Channel, line: &str) -> Option<&RawDist> {
        let of_channel = |channel: Channel| {
            self.channels
                .get(channel.as_str())
                .and_then(|stages| stages.get("first_delivery_delay"))
        };
        self.lines
            .get(line)
            .and_then(|params| params.first_delivery_delay.as_ref())
            .or_else(|| of_channel(channel))
            .or_else(|| of_channel(Channel::Fms))
    }

    /// The fitted slip of `channel`'s promises, where the channel had enough dated ones.
    pub fn promise_slip(&self, channel: Channel) -> Option<&RawDist> {
        self.channels
            .get(channel.as_str())
            .and_then(|fitted| fitted.get(promise::PROMISE_SLIP))
    }
}

/// What `calibrate` needs besides the timelines.
pub struct Inputs<'a> {
    /// The day the facts are complete.
    pub observed: Date,
    /// The name of the timelines, for the file's `source`.
    pub source: String,
    /// The rule book (for the statutory review inside notification → LOA).
    pub rules: &'a RuleBook,
    /// The production model's first delivery for a sale (see [`Explain`]).
    pub explain: &'a Explain<'a>,
    /// The family every stage duration's fit writes (the delay is always a signed normal).
    pub family: Family,
    /// Sales dated by years (a SIPRI register's, [`crate::sipri_sales`]) that feed the
    /// first-delivery delay and the delivery span only: they have no stage dates.
    pub register: &'a [Timeline],
}

/// Fits every parameter. See the module documentation for the method.
pub fn calibrate(timelines: &[Timeline], inputs: &Inputs<'_>) -> Params {
    let observed = inputs.observed;
    let mut fits = Vec::new();
    let mut channels: BTreeMap<String, BTreeMap<String, RawDist>> = BTreeMap::new();
    for channel in Channel::ALL {
        let of_channel: Vec<&Timeline> = timelines
            .iter()
            .filter(|timeline| timeline.channel == channel)
            .collect();
        if of_channel.is_empty() {
            continue;
        }
        let name = channel.as_str();
        let stages = stage_intervals(channel, &of_channel, observed, inputs.rules);
        for (stage, description, intervals) in stages {
            let fit = fit_parameter(
                inputs.family,
                format!("channels.{name}.{stage}"),
                description,
                &intervals,
                "",
            );
            if let Some(dist) = &fit.dist {
                channels
                    .entry(name.to_owned())
                    .or_default()
                    .insert(stage.to_owned(), dist.clone());
            }
            fits.push(fit);
        }
        for (label, from, to) in reported_only(channel) {
            let intervals: Vec<Interval> = of_channel
                .iter()
                .filter_map(|timeline| interval(timeline, from, to, observed))
                .collect();
            fits.push(fit_parameter(
                inputs.family,
                format!("report.{name}.{label}"),
                format!(
                    "{} → {} (reported, not a scenario parameter)",
                    from.column(),
                    to.column()
                ),
                &intervals,
                "",
            ));
        }
    }
    // The first-delivery delay: offsets of the production model, a mean per line with
    // enough sales and one for the rest of each channel, one spread.
    let implemented_median = channels
        .get("fms")
        .and_then(|stages| stages.get("implemented"))
        .is_some();
    let residuals = delay_residuals(timelines, inputs.register, observed, inputs.explain);
    let DelayFits {
        reports: delay_fits,
        mut lines,
    } = fit_delays(&residuals, implemented_median);
    for (channel, fit) in delay_fits {
        if let (Some(channel), Some(dist)) = (channel, &fit.dist) {
            channels
                .entry(channel.as_str().to_owned())
                .or_default()
                .insert("first_delivery_delay".to_owned(), dist.clone());
        }
        fits.push(fit);
    }
    // The delivery span, from the timelines and the register's deals alike.
    let mut sales = span::spans(timelines, observed);
    sales.extend(span::spans(inputs.register, observed));
    let spans = span::fit_by_line_and_channel(&sales);
    for (channel, fit) in spans.reports {
        if let (Some(channel), Some(dist)) = (channel, &fit.dist) {
            channels
                .entry(channel.as_str().to_owned())
                .or_default()
                .insert("delivery_span".to_owned(), dist.clone());
        }
        fits.push(fit);
    }
    for (line, dist) in spans.lines {
        lines.entry(line).or_default().delivery_span = Some(dist);
    }
    for (line, scale) in spans.scales {
        lines.entry(line).or_default().delivery_span_scale = Some(scale);
    }
    // How far promises slip, from the timelines only (the register's comments date no
    // promise).
    for (channel, fit) in promise::fit_by_channel(timelines, observed) {
        if let Some(dist) = &fit.dist {
            channels
                .entry(channel.as_str().to_owned())
                .or_default()
                .insert(promise::PROMISE_SLIP.to_owned(), dist.clone());
        }
        fits.push(fit);
    }
    let (line_defaults, assumptions) = line_assumptions(timelines, observed);
    Params {
        family: inputs.family,
        observed,
        source: inputs.source.clone(),
        channels,
        line_defaults,
        lines,
        fits,
        assumptions,
    }
}

/// The stage intervals of a channel that become scenario parameters.
fn stage_intervals(
    channel: Channel,
    timelines: &[&Timeline],
    observed: Date,
    rules: &RuleBook,
) -> Vec<(&'static str, String, Vec<Interval>)> {
    let collect = |from: MilestoneKind, to: MilestoneKind| -> Vec<Interval> {
        timelines
            .iter()
            .filter_map(|timeline| interval(timeline, from, to, observed))
            .collect()
    };
    if channel != Channel::Fms {
        // Outside FMS the signed contract is the production contract: the paperwork is
        // request → contract, all of it before the contract.
        return vec![(
            "loa_development",
            "request → contract signed (the whole paperwork outside FMS; lor_received and \
             lor_actionable are folded in)"
                .to_owned(),
            collect(MilestoneKind::Request, MilestoneKind::Loa),
        )];
    }
    let offered: Vec<Interval> = timelines
        .iter()
        .filter_map(|timeline| {
            let notified = timeline.milestones.notification?.date;
            let mut found = interval(
                timeline,
                MilestoneKind::Notification,
                MilestoneKind::Loa,
                observed,
            )?;
            let review = f64::from(review_days(timeline, notified, rules));
            found.days = (found.days - review).max(1.0);
            Some(found)
        })
        .collect();
    vec![
        (
            "loa_development",
            "request → DSCA notification (lor_received and lor_actionable are folded in: the \
             file has no dates for them)"
                .to_owned(),
            collect(MilestoneKind::Request, MilestoneKind::Notification),
        ),
        (
            "offered",
            "notification → LOA, less the AECA §36(b) review the engine adds for the case"
                .to_owned(),
            offered,
        ),
        (
            "implemented",
            "LOA → production contract (observed only: an empty contract is not reported, \
             not censored)"
                .to_owned(),
            collect(MilestoneKind::Loa, MilestoneKind::ProductionContract),
        ),
    ]
}

/// Intervals reported for people (and for the baseline), not written as parameters.
fn reported_only(channel: Channel) -> Vec<(&'static str, MilestoneKind, MilestoneKind)> {
    let mut pairs = vec![
        (
            "contract_to_first_delivery",
            if channel == Channel::Fms {
                MilestoneKind::ProductionContract
            } else {
                MilestoneKind::Loa
            },
            MilestoneKind::FirstDelivery,
        ),
        (
            "first_to_final_delivery",
            MilestoneKind::FirstDelivery,
            MilestoneKind::FinalDelivery,
        ),
    ];
    if channel == Channel::Fms {
        pairs.insert(
            0,
            (
                "loa_to_first_delivery",
                MilestoneKind::Loa,
                MilestoneKind::FirstDelivery,
            ),
        );
    }
    pairs
}

fn fit_parameter(
    family: Family,
    parameter: String,
    interval_description: String,
    intervals: &[Interval],
    note: &str,
) -> Fit {
    let observed = intervals.iter().filter(|i| !i.censored).count();
    let censored = intervals.len() - observed;
    let cases = intervals
        .iter()
        .map(|interval| {
            if interval.censored {
                format!("{} (>{:.0} d)", interval.id, interval.days)
            } else {
                format!("{} ({:.0} d)", interval.id, interval.days)
            }
        })
        .collect();
    let mut fit = Fit {
        year_dated: None,
        parameter,
        interval: interval_description,
        n: intervals.len(),
        observed,
        censored,
        dist: None,
        p10_days: None,
        p50_days: None,
        p90_days: None,
        method: String::new(),
        cases,
    };
    if observed < MIN_OBSERVED {
        fit.method = format!(
            "not fitted: {observed} observed interval(s), a fit needs {MIN_OBSERVED}{note}"
        );
        return fit;
    }
    match fit_family(family, intervals) {
        Some(choice) => {
            let kept = choice.kept;
            fit.dist = Some(kept.to_raw());
            fit.p10_days = Some(kept.quantile(0.1).round());
            fit.p50_days = Some(kept.quantile(0.5).round());
            fit.p90_days = Some(kept.quantile(0.9).round());
            fit.method = format!(
                "{}, maximum likelihood with right-censoring; log-likelihood {:.1} (log-normal), \
                 {:.1} (Weibull){note}",
                kept.describe(),
                choice.lognormal_log_likelihood,
                choice.weibull_log_likelihood
            );
        }
        None => {
            fit.method = format!("not fitted: the observed intervals have no spread{note}");
        }
    }
    fit
}

/// A first-delivery delay residual of one sale (its `group` set by [`fit_delays`]).
#[derive(Debug, Clone, PartialEq)]
struct Residual {
    channel: Channel,
    line: String,
    offset: Offset,
}

/// The delay residuals of the sales on catalog lines, the timelines' and the register's (see
/// the module documentation).
fn delay_residuals(
    timelines: &[Timeline],
    register: &[Timeline],
    observed: Date,
    explain: &Explain<'_>,
) -> Vec<Residual> {
    timelines
        .iter()
        .chain(register)
        .filter_map(|timeline| delay_residual(timeline, observed, explain))
        .collect()
}

fn delay_residual(timeline: &Timeline, observed: Date, explain: &Explain<'_>) -> Option<Residual> {
    let line = timeline.line.clone()?;
    // From the production contract where it is known (outside FMS the signed contract is
    // the production contract), else from the LOA.
    let (anchor, from) = match (
        timeline.milestones.production_contract,
        timeline.milestones.loa,
    ) {
        (Some(contract), _) if contract.date <= observed => (Anchor::Contract, contract),
        (_, Some(loa)) if loa.date <= observed && timeline.channel == Channel::Fms => {
            (Anchor::Loa, loa)
        }
        (_, Some(signed)) if signed.date <= observed => (Anchor::Contract, signed),
        _ => return None,
    };
    let predicted = explain(timeline, anchor)?;
    let first: Option<Milestone> = timeline
        .milestones
        .first_delivery
        .filter(|first| first.date <= observed);
    let (days, known) = match first {
        Some(first) => (days_between(predicted, first.date), known_to(from, first)),
        None => {
            let so_far = days_between(predicted, observed);
            if so_far <= 0.0 {
                // Not yet due even without a delay: says nothing about the delay.
                return None;
            }
            (so_far, Known::AtLeast)
        }
    };
    Some(Residual {
        channel: timeline.channel,
        line,
        offset: Offset {
            id: timeline.id.clone(),
            group: String::new(),
            days,
            known,
        },
    })
}

/// How far either side of the true interval one read from two year-dated milestones can
/// be: each date is anywhere in its year (the delay's offsets, the delivery spans).
pub(crate) const YEAR_DAYS: f64 = 365.0;

/// How well the interval between two milestones is known: exactly (days or months), as
/// the difference of two years, or with one end anywhere in its year.
pub(crate) fn known_to(from: Milestone, to: Milestone) -> Known {
    let by_year = |milestone: Milestone| milestone.precision == Precision::Year;
    match (by_year(from), by_year(to)) {
        (true, true) => Known::Within(YEAR_DAYS),
        (true, false) | (false, true) => Known::Around(YEAR_DAYS / 2.0),
        (false, false) => Known::Exact,
    }
}

/// The fitted delays: one fit report per line with enough sales of its own and one per
/// channel (the offset of the channel's other lines), and the lines' own.
struct DelayFits {
    /// Each report, with its channel for a channel's.
    reports: Vec<(Option<Channel>, Fit)>,
    /// The lines' own delays.
    lines: BTreeMap<String, LineParams>,
}

/// The parameter, and the delay group, of a line's own delay.
fn line_group(line: &str) -> String {
    format!("lines.{line}.first_delivery_delay")
}

/// The parameter, and the delay group, of a channel's delay.
fn channel_group(channel: Channel) -> String {
    format!("channels.{}.first_delivery_delay", channel.as_str())
}

/// The lines with [`MIN_OBSERVED`] dated sales: those with a delay of their own.
fn lines_with_their_own(residuals: &[Residual]) -> Vec<&str> {
    let mut by_line: BTreeMap<&str, Vec<&Offset>> = BTreeMap::new();
    for residual in residuals {
        by_line
            .entry(&residual.line)
            .or_default()
            .push(&residual.offset);
    }
    by_line
        .into_iter()
        .filter(|(_, offsets)| dated(offsets) >= MIN_OBSERVED)
        .map(|(line, _)| line)
        .collect()
}

/// See [`DelayFits`] and the module documentation.
fn fit_delays(residuals: &[Residual], implemented_median: bool) -> DelayFits {
    let own_lines = lines_with_their_own(residuals);
    let grouped: Vec<Offset> = residuals
        .iter()
        .map(|residual| Offset {
            group: if own_lines.contains(&residual.line.as_str()) {
                line_group(&residual.line)
            } else {
                channel_group(residual.channel)
            },
            ..residual.offset.clone()
        })
        .collect();
    let mut groups: BTreeMap<&str, Vec<&Offset>> = BTreeMap::new();
    for offset in &grouped {
        groups.entry(&offset.group).or_default().push(offset);
    }
    // Every group with a spread to give joins the fit of the shared spread.
    let joined: Vec<Offset> = groups
        .values()
        .filter(|offsets| dated(offsets) >= 2)
        .flat_map(|offsets| offsets.iter().map(|offset| (*offset).clone()))
        .collect();
    let joint = fit_offsets(&joined);
    let shared_by = groups
        .values()
        .filter(|offsets| dated(offsets) >= 2)
        .count();
    let mut fits = DelayFits {
        reports: Vec::new(),
        lines: BTreeMap::new(),
    };
    for line in own_lines {
        let group = line_group(line);
        let offsets = groups.get(group.as_str()).cloned().unwrap_or_default();
        let scope = format!("sales on line {line}");
        let mut report = delay_report(&group, &offsets, &scope, implemented_median);
        if let Some(joint) = &joint {
            let mean = joint.means.get(&group).copied();
            describe_delay_fit(&mut report, joint, mean, shared_by, "");
        }
        if let Some(dist) = &report.dist {
            let own = LineParams {
                first_delivery_delay: Some(dist.clone()),
                ..LineParams::default()
            };
            fits.lines.insert(line.to_owned(), own);
        }
        fits.reports.push((None, report));
    }
    let mut channels: Vec<Channel> = residuals.iter().map(|residual| residual.channel).collect();
    channels.sort_unstable_by_key(|channel| channel.as_str());
    channels.dedup();
    for channel in channels {
        let report = channel_delay_report(
            channel,
            residuals,
            &groups,
            joint.as_ref(),
            shared_by,
            implemented_median,
        );
        fits.reports.push((Some(channel), report));
    }
    fits
}

/// A channel's delay: the mean of its pool (the sales of its lines without a fit of their
/// own) where the pool has [`MIN_OBSERVED`] dated sales, else the mean of all its sales.
fn channel_delay_report(
    channel: Channel,
    residuals: &[Residual],
    groups: &BTreeMap<&str, Vec<&Offset>>,
    joint: Option<&OffsetFit>,
    shared_by: usize,
    implemented_median: bool,
) -> Fit {
    let group = channel_group(channel);
    let pool = groups.get(group.as_str()).cloned().unwrap_or_default();
    let joint = match joint {
        Some(joint) if dated(&pool) < MIN_OBSERVED => joint,
        _ => {
            let scope = format!(
                "{} sales on catalog lines without a fit of their own",
                channel.as_str()
            );
            let mut report = delay_report(&group, &pool, &scope, implemented_median);
            if let Some(joint) = joint {
                let mean = joint.means.get(&group).copied();
                describe_delay_fit(&mut report, joint, mean, shared_by, "");
            }
            return report;
        }
    };
    // Too few of its own: the mean of all the channel's sales, any line.
    let all: Vec<&Offset> = residuals
        .iter()
        .filter(|residual| residual.channel == channel)
        .map(|residual| &residual.offset)
        .collect();
    let mean = best_mean(&all, joint.sd).map(|(mean, _)| mean);
    let note = format!(
        "; {} dated sale(s) on lines without a fit of their own, fewer than {MIN_OBSERVED}: the \
         mean is that of all the channel's sales, any line",
        dated(&pool)
    );
    let scope = format!("{} sales on every catalog line", channel.as_str());
    let mut report = delay_report(&group, &all, &scope, implemented_median);
    describe_delay_fit(&mut report, joint, mean, shared_by, &note);
    report
}

/// The report of one delay group, not yet fitted.
fn delay_report(group: &str, offsets: &[&Offset], scope: &str, implemented_median: bool) -> Fit {
    let observed = dated(offsets);
    Fit {
        parameter: group.to_owned(),
        interval: format!(
            "first delivery − the production model's first delivery with no delay, from the \
             production contract (or the LOA{}), {scope}",
            if implemented_median {
                " and the fitted median LOA → contract"
            } else {
                ""
            }
        ),
        n: offsets.len(),
        observed,
        censored: offsets.len() - observed,
        dist: None,
        p10_days: None,
        p50_days: None,
        p90_days: None,
        method: format!(
            "not fitted: the delays' shared spread needs a group of {MIN_OBSERVED} dated sales \
             with some spread"
        ),
        year_dated: Some(
            offsets
                .iter()
                .filter(|offset| matches!(offset.known, Known::Within(_)))
                .count(),
        )
        .filter(|&deals| deals > 0),
        cases: offsets
            .iter()
            .map(|offset| match offset.known {
                Known::Exact => format!("{} ({:.0} d)", offset.id, offset.days),
                Known::AtLeast => format!("{} (>{:.0} d)", offset.id, offset.days),
                Known::Within(days) | Known::Around(days) => {
                    format!("{} ({:.0} ± {days:.0} d)", offset.id, offset.days)
                }
            })
            .collect(),
    }
}

fn describe_delay_fit(
    report: &mut Fit,
    joint: &OffsetFit,
    mean: Option<f64>,
    shared_by: usize,
    note: &str,
) {
    let Some(mean) = mean else {
        return;
    };
    let sd = joint.sd;
    report.dist = Some(offset::written(mean, sd));
    report.p10_days = Some(offset::quantile(mean, sd, 0.1).round());
    report.p50_days = Some(mean.round());
    report.p90_days = Some(offset::quantile(mean, sd, 0.9).round());
    report.method = format!(
        "normal offset (mean {mean:.0} d, sd {sd:.0} d, the sd shared by the {shared_by} \
         delay group(s)), maximum likelihood: dated offsets by their density, sales not yet \
         delivered right-censored, year-dated ones (a register's) within ± {YEAR_DAYS:.0} d \
         as a triangle; log-likelihood {:.1} (all groups){note}",
        joint.log_likelihood
    )
}

/// The rate multiplier and ramp slip: not identified by the timelines, so stated
/// assumptions with their sources.
fn line_assumptions(timelines: &[Timeline], observed: Date) -> (LineDefaults, Vec<Assumption>) {
    let with_final = timelines
        .iter()
        .filter(|timeline| {
            timeline.line.is_some()
                && timeline
                    .milestones
                    .final_delivery
                    .is_some_and(|last| last.date <= observed)
        })
        .count();
    let defaults = LineDefaults {
        // ln(reported ÷ capacity) of the F-35 line, 2021–2025 (142, 141, 98, 110, 191
        // against a capacity of 156 a year) has a standard deviation of 0.26; the median is
        // kept at 1 (no bias assumed), so p90 = exp(1.2816 × 0.26) = 1.39.
        rate_multiplier: RawMultiplier::Lognormal {
            median: 1.0,
            p90: 1.39,
        },
        // The 155 mm shell target of 100,000 a month, stated in Sep 2023 for 2025, is now
        // expected in early or mid 2026: half a year to a year late.
        ramp_slip: RawDist::Lognormal {
            median: 180.0,
            p90: 365.0,
        },
    };
    let assumptions = vec![
        Assumption {
            parameter: "line_defaults.rate_multiplier".to_owned(),
            why: format!(
                "not identified by the timelines: {with_final} sale(s) on a catalog line have \
                 a final delivery, so realised rates cannot be read from them"
            ),
            source: "spread of the F-35 line's yearly deliveries against its stated capacity \
                     of 156 a year, 2021-2025 (142, 141, 98, 110, 191; lines.toml sources \
                     141, 143): sd of ln(ratio) = 0.26, so p90 = exp(1.2816 x 0.26) = 1.39; \
                     median 1.0 assumed (no bias)"
                .to_owned(),
        },
        Assumption {
            parameter: "line_defaults.ramp_slip".to_owned(),
            why: "not identified by the timelines: they hold no dated rate changes".to_owned(),
            source: "the 155 mm shell target of 100,000 a month, stated in Sep 2023 for 2025, \
                     expected in early or mid 2026 by 2025 reports (lines.toml sources \
                     136-138): six to twelve months late; median 180 days, p90 365 days \
                     assumed"
                .to_owned(),
        },
    ];
    (defaults, assumptions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fewer_than_five_observed_intervals_give_no_fit_and_say_so() {
        let sample: Vec<Interval> = [100.0, 200.0, 400.0, 800.0]
            .iter()
            .map(|&days| Interval {
                id: "x".to_owned(),
                days,
                censored: false,
            })
            .collect();
        let fit = fit_parameter(
            Family::LogNormal,
            "p".to_owned(),
            "i".to_owned(),
            &sample,
            "",
        );
        assert!(fit.dist.is_none());
        assert!(fit.method.contains("4 observed"), "{}", fit.method);
    }

    fn residual(line: &str, index: usize, days: f64, known: Known) -> Residual {
        Residual {
            channel: Channel::Fms,
            line: line.to_owned(),
            offset: Offset {
                id: format!("{line}-{index}"),
                group: String::new(),
                days,
                known,
            },
        }
    }

    #[test]
    fn a_line_with_five_dated_sales_gets_its_own_delay_and_the_others_take_the_channels() {
        // Javelin: five register deals delivered about two months before the plain model
        // (negative offsets are kept, not floored); THAAD: two sales, too few of their own.
        let mut residuals: Vec<Residual> = [-150.0, -100.0, -60.0, 0.0, 10.0]
            .iter()
            .enumerate()
            .map(|(index, &days)| residual("javelin", index, days, Known::Within(365.0)))
            .collect();
        residuals.push(residual("thaad", 0, 800.0, Known::Exact));
        residuals.push(residual("thaad", 1, 2000.0, Known::AtLeast));
        let DelayFits { reports, lines } = fit_delays(&residuals, true);
        let RawDist::Normal { median, .. } = lines["javelin"]
            .first_delivery_delay
            .clone()
            .expect("javelin's own")
        else {
            panic!("a normal offset");
        };
        assert!((-120.0..0.0).contains(&median), "javelin's median {median}");
        assert!(!lines.contains_key("thaad"));
        let (channel, pool) = reports
            .iter()
            .find(|(_, report)| report.parameter == "channels.fms.first_delivery_delay")
            .expect("the channel's delay");
        assert_eq!(*channel, Some(Channel::Fms));
        assert_eq!((pool.n, pool.observed, pool.censored), (7, 6, 1));
        assert_eq!(pool.year_dated, Some(5));
        assert!(
            pool.method
                .contains("1 dated sale(s) on lines without a fit of their own"),
            "{}",
            pool.method
        );
        assert!(pool.dist.is_some(), "lines without a fit still get a delay");
    }

    #[test]
    fn an_interval_with_one_end_known_only_to_its_year_is_blurred_evenly_by_half_a_year() {
        let on = |text: &str, precision| Milestone {
            date: text.parse().expect("a date"),
            precision,
        };
        let signed = on("2020-05-20", Precision::Day);
        let in_2021 = on("2021-07-01", Precision::Year);
        let in_may = on("2021-05-15", Precision::Month);
        assert_eq!(known_to(signed, in_2021), Known::Around(182.5));
        assert_eq!(
            known_to(in_2021, on("2023-07-01", Precision::Year)),
            Known::Within(365.0)
        );
        assert_eq!(known_to(signed, in_may), Known::Exact);
    }
}

#[cfg(test)]
mod timeline_tests {
    use super::*;
    use expedite_data::timelines;
    use expedite_forecast::report::date_of;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, LogNormal};

    const HEADER: &str = "id,buyer,iso3,supplier,channel,system,line,quantity,value_usd,request,\
        notification,loa_or_contract_signed,production_contract,first_delivery,final_delivery,\
        notes,sources\n";

    #[test]
    fn calibration_recovers_notification_to_loa_from_timelines_drawn_from_it() {
        // 300 synthetic FMS sales notified 2016-2025, LOA drawn from a log-normal of median
        // 120 days and p90 400 days; sales whose LOA falls after the observation date have
        // an empty LOA, as a real file would. No value, so no statutory review is added.
        let truth =
            LogNormal::new(120f64.ln(), (400f64 / 120.0).ln() / 1.281_551_565_5).expect("valid");
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let observed: Date = "2026-03-31".parse().expect("date");
        let first: Date = "2016-01-01".parse().expect("date");
        let mut text = HEADER.to_owned();
        let mut censored = 0;
        for index in 0..300 {
            let notified = date_of(first, index * 12);
            let days: f64 = truth.sample(&mut rng);
            let signed = date_of(notified, days.round() as i32);
            let loa = if signed <= observed {
                signed.to_string()
            } else {
                censored += 1;
                String::new()
            };
            text.push_str(&format!(
                "S-{index},Poland,POL,USA,fms,thing,,1,,,{notified},{loa},,,,,\n"
            ));
        }
        assert!(
            censored >= 3,
            "the sample must hold censored sales ({censored})"
        );
        let rows = timelines::read(text.as_bytes(), "synthetic").expect("valid rows");
        let rules = RuleBook::builtin().expect("rules");
        let no_model = |_: &Timeline, _: Anchor| None;
        let params = calibrate(
            &rows,
            &Inputs {
                observed,
                source: "synthetic".to_owned(),
                rules: &rules,
                explain: &no_model,
                family: Family::LogNormal,
                register: &[],
            },
        );
        let fit = params
            .fits
            .iter()
            .find(|fit| fit.parameter == "channels.fms.offered")
            .expect("fitted");
        assert_eq!((fit.n, fit.censored), (300, censored));
        let (median, p90) = (fit.p50_days.expect("fit"), fit.p90_days.expect("fit"));
        assert!((median - 120.0).abs() < 15.0, "median {median}");
        assert!((p90 - 400.0).abs() < 60.0, "p90 {p90}");
        assert!(matches!(
            params.channels["fms"]["offered"],
            RawDist::Lognormal { .. }
        ));
    }

    #[test]
    fn an_unreported_milestone_before_a_known_one_is_left_out_not_censored() {
        // Belgium's F-35: notified in January 2018, no LOA in the file, first jets handed
        // over in December 2024: the LOA happened, unreported.
        let rows = Timeline::builtin().expect("shipped");
        let belgium = rows
            .iter()
            .find(|row| row.id == "BEL-F35-2018")
            .expect("shipped");
        let observed: Date = "2026-03-31".parse().expect("date");
        assert!(
            interval(
                belgium,
                MilestoneKind::Notification,
                MilestoneKind::Loa,
                observed
            )
            .is_none()
        );
        // Lithuania's HIMARS: LOA December 2022, nothing delivered by the end of March 2026:
        // censored at the observation date.
        let lithuania = rows
            .iter()
            .find(|row| row.id == "LTU-HIMARS-2022")
            .expect("shipped");
        let waiting = interval(
            lithuania,
            MilestoneKind::Loa,
            MilestoneKind::FirstDelivery,
            observed,
        )
        .expect("censored interval");
        assert!(waiting.censored);
        assert_eq!(waiting.days, 1202.0);
    }

    #[test]
    fn the_shipped_parameters_are_what_calibrate_wrote() {
        let params = Params::shipped().expect("the shipped file reads");
        assert_eq!(params.observed.to_string(), timelines::OBSERVED);
        assert!(
            timelines::CALIBRATION_TOML.contains("# Produced by: expedite calibrate "),
            "the header names the command"
        );
        for fit in params.fits.iter().filter(|fit| fit.dist.is_some()) {
            assert!(fit.observed >= MIN_OBSERVED, "{}", fit.parameter);
        }
    }
}
