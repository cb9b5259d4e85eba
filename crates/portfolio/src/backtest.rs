//! The back-test (`expedite backtest`): real sales forecast as of past days, scored against
//! what happened.
//!
//! For every sale whose `line` is in the catalog, the forecast engine is run as of the day
//! after the DSCA notification and as of the day after the LOA, on a scenario built from
//! facts dated before that day only:
//!
//! - the sale's own milestones before that day (the rest of its row is hidden);
//! - the catalog as it was known on that day ([`known_rates`]): rate steps dated (or, where
//!   the catalog says, announced) on or after it are dropped; where the catalog knew no
//!   rate yet, its first step is moved back to that day, and the forecast says so
//!   (`rate_backdated`);
//! - the calibrated parameters: the shipped ones, or with `leave-one-out` the parameters
//!   refitted on every other sale of the file.
//!
//! Scoring (issue 8, §4): a sale delivered by the observation date is `inside` its
//! P10–P90 band, `early` or `late`; one not delivered by then is `late` when its P90 is
//! earlier, else `pending` and not scored. The error is P50 − actual in months of 30.44
//! days. The baseline forecasts LOA + the median LOA → first delivery time of the other
//! US sales in the file that have both.

use std::collections::BTreeMap;

use expedite_core::rules::RuleBook;
use expedite_core::{Channel, Date, Percentiles, Usd};
use expedite_data::capacity::{Catalog, Line as CatalogLine};
use expedite_data::stats;
use expedite_data::timelines::{MilestoneKind, Precision, Timeline};
use expedite_forecast::scenario::{
    RawBacklog, RawCase, RawCaseLine, RawDate, RawDatedBacklog, RawDist, RawLine, RawMilestones,
    RawOrder, RawRateStep, RawScenario,
};
use expedite_forecast::{RunOptions, Scenario};
use serde::Serialize;

use crate::calibrate::{self, Anchor, Params};
use crate::fit::Family;
use crate::promise::PROMISE_SLIP;
use crate::template::Template;

/// Days in the average month, for errors and bands in months.
pub const DAYS_PER_MONTH: f64 = 30.44;

/// The day a forecast is made: the day after which milestone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AsOfKind {
    /// The day after the DSCA notification.
    Notification,
    /// The day after the LOA was signed.
    Loa,
}

impl AsOfKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            AsOfKind::Notification => "notification",
            AsOfKind::Loa => "loa",
        }
    }

    fn milestone(self) -> MilestoneKind {
        match self {
            AsOfKind::Notification => MilestoneKind::Notification,
            AsOfKind::Loa => MilestoneKind::Loa,
        }
    }
}

/// Which parameters the forecasts use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CalibrationMode {
    /// The parameters given (the shipped ones, for a file that did not feed them).
    Shipped,
    /// Refitted without the sale being tested.
    LeaveOneOut,
}

/// What the demo template assumes and the timelines cannot give: each line's build time
/// and the transport time of each channel.
#[derive(Debug, Clone, Default)]
pub struct Assumed {
    /// Line id → days from a unit's release to its completion.
    pub lead_time_days: BTreeMap<String, f64>,
    /// Channel (`fms`, …) → transport time.
    pub transport: BTreeMap<String, RawDist>,
    /// Channel → the template's other stage durations and first-delivery delay, stated
    /// assumptions taken where the calibration could not fit the parameter.
    pub stages: BTreeMap<String, BTreeMap<String, RawDist>>,
}

impl Assumed {
    /// The template's first-delivery delay for `channel`, else its FMS one: the delay is a
    /// production-side time, as [`Params::first_delivery_delay`] says.
    pub fn delay(&self, channel: &str) -> Option<&RawDist> {
        [channel, "fms"].into_iter().find_map(|channel| {
            self.stages
                .get(channel)
                .and_then(|stages| stages.get("first_delivery_delay"))
        })
    }

    /// The build times (`[lines.ID] lead_time_days`), transport times (`[channels.CHANNEL]
    /// transport`) and other channel durations (`[channels.CHANNEL] STAGE`,
    /// `first_delivery_delay`) of a checked scenario template.
    pub fn of(template: &Template) -> Assumed {
        let mut assumed = Assumed {
            lead_time_days: template
                .lines
                .iter()
                .map(|(id, line)| (id.clone(), line.lead_time_days))
                .collect(),
            ..Assumed::default()
        };
        for (channel, durations) in &template.channels {
            for (stage, dist) in durations {
                if stage == "transport" {
                    assumed.transport.insert(channel.clone(), dist.clone());
                } else {
                    assumed
                        .stages
                        .entry(channel.clone())
                        .or_default()
                        .insert(stage.clone(), dist.clone());
                }
            }
        }
        assumed
    }
}

/// How to run the back-test.
#[derive(Debug, Clone)]
pub struct Options {
    /// The day the file's facts are complete.
    pub observed: Date,
    /// Which forecasts to make.
    pub as_of: Vec<AsOfKind>,
    /// Shipped parameters or leave-one-out.
    pub calibration: CalibrationMode,
    /// Trials per forecast.
    pub trials: u32,
    /// Seed of every forecast.
    pub seed: u64,
}

/// What the forecasts of history are built from besides the timelines and the parameters.
pub struct Context<'a> {
    /// The production-line catalog.
    pub catalog: &'a Catalog,
    /// The AECA §36(b) rules (congressional review inside notification → LOA).
    pub rules: &'a RuleBook,
    /// Build and transport times.
    pub assumed: &'a Assumed,
    /// The distribution family fits write (calibration and leave-one-out refits).
    pub family: Family,
    /// Year-dated sales from a register that feed the first-delivery delay of the
    /// calibration and of every leave-one-out refit (empty: the timelines alone).
    pub register: &'a [Timeline],
}

/// How a forecast came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Delivered between P10 and P90.
    Inside,
    /// Delivered before P10.
    Early,
    /// Delivered after P90, or not delivered by the observation date with P90 earlier.
    Late,
    /// Not delivered by the observation date, P90 later: not scored.
    Pending,
}

impl Outcome {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Inside => "inside",
            Outcome::Early => "early",
            Outcome::Late => "late",
            Outcome::Pending => "pending",
        }
    }
}

/// One forecast and its score.
#[derive(Debug, Clone, Serialize)]
pub struct Forecast {
    /// The sale.
    pub id: String,
    /// Its line.
    pub line: String,
    /// After which milestone.
    pub as_of_kind: AsOfKind,
    /// The forecast's day.
    pub as_of: Date,
    /// How precisely the milestone is known: its day, only its month (the 15th was used) or
    /// only its year (a SIPRI register's; 1 July was used).
    pub as_of_precision: Precision,
    /// The real first delivery, when it happened by the observation date.
    pub actual_first_delivery: Option<Date>,
    /// How precisely that delivery is known, as `as_of_precision`; `None` without one.
    pub actual_precision: Option<Precision>,
    /// The first delivery promised, when the promise was made public before `as_of` and
    /// the forecast is its slip from it (the middle of the promised period).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub promised_first_delivery: Option<Date>,
    /// The forecast of first delivery.
    pub first_delivery: Percentiles,
    /// How it came out.
    pub outcome: Outcome,
    /// P50 − actual, months; `null` when there is no actual date.
    pub error_months: Option<f64>,
    /// For a sale late and still undelivered: P50 − observation date, months (the error is
    /// at least this large).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_at_least_months: Option<f64>,
    /// P90 − P10, months.
    pub band_months: f64,
    /// The band's interval score, months (see [`interval_score_months`]); `null` when
    /// pending.
    pub interval_score_months: Option<f64>,
    /// The forecast of final delivery.
    pub final_delivery: Percentiles,
    /// The real final delivery, when it happened by the observation date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual_final_delivery: Option<Date>,
    /// How the final-delivery forecast came out, scored like the first delivery's: a sale
    /// not completely delivered by the observation date is late if the final P90 is earlier,
    /// else pending.
    pub final_outcome: Outcome,
    /// Final P50 − actual final delivery, months; `null` without one.
    pub final_error_months: Option<f64>,
    /// The final band's interval score, months; `null` when pending.
    pub final_interval_score_months: Option<f64>,
    /// The baseline's first delivery (as of LOA only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_first_delivery: Option<Date>,
    /// Baseline − actual, months.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_error_months: Option<f64>,
    /// History's own band (as of LOA only): LOA + the P10, median and P90 of the other
    /// sales' LOA → first delivery times.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_band: Option<Percentiles>,
    /// History's band's interval score, months (as of LOA only; `null` when pending).
    pub baseline_interval_score_months: Option<f64>,
    /// How history's band came out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_outcome: Option<Outcome>,
    /// The catalog knew no rate for the line on `as_of`: its first step was moved back.
    pub rate_backdated: bool,
    /// Parameters the calibration could not fit (too few sales), taken from the demo
    /// template's stated assumptions instead.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub assumed_parameters: Vec<String>,
}

/// A row, or a forecast of a row, that could not be made.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    /// The sale.
    pub id: String,
    /// Which forecast, when only one of the two could not be made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_of_kind: Option<AsOfKind>,
    /// Why.
    pub reason: String,
}

/// The figures the issue's targets are measured on.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// How the first-delivery forecasts came out (flattened: the issue's keys).
    #[serde(flatten)]
    pub first: Scores,
    /// Median |baseline − actual|, months, over the as-of-LOA forecasts with an actual date.
    pub baseline_median_abs_error_months: Option<f64>,
    /// Median |P50 − actual| over the same forecasts as the baseline.
    pub median_abs_error_months_loa: Option<f64>,
    /// How many forecasts the two figures above compare.
    pub baseline_n: usize,
    /// Median width of history's band, months, over the as-of-LOA forecasts it scores.
    pub baseline_median_band_months: Option<f64>,
    /// Share of those forecasts whose real first delivery fell inside history's band.
    pub baseline_coverage: Option<f64>,
    /// Median width of the model's band over the same forecasts.
    pub median_band_months_loa: Option<f64>,
    /// The model's coverage over the same forecasts.
    pub coverage_loa: Option<f64>,
    /// How many forecasts the four figures above compare.
    pub baseline_scored: usize,
    /// Mean interval score of history's band on the as-of-LOA forecasts both score.
    pub baseline_mean_interval_score_months: Option<f64>,
    /// The model's mean interval score on the same forecasts.
    pub mean_interval_score_months_loa: Option<f64>,
    /// How the same forecasts' final deliveries came out.
    pub final_delivery: Scores,
}

/// How the forecasts of one date (first or final delivery) came out.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Scores {
    /// Forecasts scored (not pending).
    pub scored: usize,
    /// Of which inside P10–P90.
    pub inside: usize,
    /// Of which early.
    pub early: usize,
    /// Of which late.
    pub late: usize,
    /// Forecasts not scored.
    pub pending: usize,
    /// inside ÷ scored.
    pub coverage: Option<f64>,
    /// Median |P50 − actual|, months, over the scored forecasts with an actual date.
    pub median_abs_error_months: Option<f64>,
    /// Median P90 − P10, months, over the scored forecasts.
    pub median_band_months: Option<f64>,
    /// Mean interval score of the scored forecasts, months (lower is better; see
    /// [`interval_score_months`]).
    pub mean_interval_score_months: Option<f64>,
}

/// What [`Scores`] reads of one forecast of one date.
struct Scored {
    outcome: Outcome,
    error_months: Option<f64>,
    band_months: f64,
    interval_score_months: Option<f64>,
}

impl Scores {
    fn of(forecasts: &[&Forecast], date: impl Fn(&Forecast) -> Scored) -> Scores {
        let scored: Vec<Scored> = forecasts.iter().map(|f| date(f)).collect();
        let count = |outcome: Outcome| scored.iter().filter(|s| s.outcome == outcome).count();
        let (inside, early, late) = (
            count(Outcome::Inside),
            count(Outcome::Early),
            count(Outcome::Late),
        );
        let scored_count = inside + early + late;
        let not_pending = || scored.iter().filter(|s| s.outcome != Outcome::Pending);
        let mut errors: Vec<f64> = not_pending()
            .filter_map(|s| s.error_months.map(f64::abs))
            .collect();
        let mut bands: Vec<f64> = not_pending().map(|s| s.band_months).collect();
        Scores {
            scored: scored_count,
            inside,
            early,
            late,
            pending: count(Outcome::Pending),
            coverage: coverage(inside, scored_count),
            median_abs_error_months: round1(median(&mut errors)),
            median_band_months: round1(median(&mut bands)),
            mean_interval_score_months: round1(mean(
                not_pending().filter_map(|s| s.interval_score_months),
            )),
        }
    }

    fn of_first_delivery(forecasts: &[&Forecast]) -> Scores {
        Scores::of(forecasts, |f| Scored {
            outcome: f.outcome,
            error_months: f.error_months,
            band_months: f.band_months,
            interval_score_months: f.interval_score_months,
        })
    }

    fn of_final_delivery(forecasts: &[&Forecast]) -> Scores {
        Scores::of(forecasts, |f| Scored {
            outcome: f.final_outcome,
            error_months: f.final_error_months,
            band_months: months_between(f.final_delivery.p10, f.final_delivery.p90),
            interval_score_months: f.final_interval_score_months,
        })
    }
}

/// `value` to one decimal.
fn round1(value: Option<f64>) -> Option<f64> {
    value.map(|v| (v * 10.0).round() / 10.0)
}

/// The whole back-test.
#[derive(Debug, Clone, Serialize)]
pub struct Backtest {
    /// The observation date.
    pub observed: Date,
    /// `shipped` or `leave-one-out`.
    pub calibration: CalibrationMode,
    /// The family the leave-one-out refits wrote (`null` with shipped parameters: their
    /// file says each distribution's family).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family: Option<Family>,
    /// Trials per forecast.
    pub trials: u32,
    /// Seed.
    pub seed: u64,
    /// Every forecast made, in file order.
    pub forecasts: Vec<Forecast>,
    /// What could not be forecast, and why.
    pub skipped: Vec<Skipped>,
    /// The measured figures.
    pub summary: Summary,
    /// The same figures for each production line's forecasts, by line id.
    pub by_line: BTreeMap<String, Summary>,
}

/// Why the back-test could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BacktestError {
    /// A scenario built for a sale was refused by the forecast engine (a bug or a catalog
    /// the engine cannot read).
    #[error("sale {id}: the forecast scenario is invalid: {message}")]
    Scenario {
        /// The sale.
        id: String,
        /// The engine's message.
        message: String,
    },
    /// A scenario could not be written.
    #[error("sale {id}: {message}")]
    Build {
        /// The sale.
        id: String,
        /// What went wrong.
        message: String,
    },
}

/// Months between two dates (positive when `to` is later), to one decimal: what the
/// reports print, and what the summary's medians are taken over.
pub fn months_between(from: Date, to: Date) -> f64 {
    (f64::from((to - from).get_days()) / DAYS_PER_MONTH * 10.0).round() / 10.0
}

fn day_after(date: Date) -> Date {
    date.tomorrow().unwrap_or(date)
}

/// The rate steps of a catalog line as known on `day`, in scenario syntax, and whether the
/// first had to be moved back to `day` because the catalog knew no rate yet.
///
/// Only steps the catalog says were stated (published) before `day` are used
/// ([`CatalogLine::as_known_on`]): the reported and capacity steps a base forecast uses, and
/// the announced targets (which the engine delays by the ramp slip). Where none had been
/// stated, the line's first step is moved back to `day`: the rate level then comes from a
/// later report, which the forecast flags; with no queue known it moves the first delivery
/// by one unit's build time at most.
pub fn known_rates(line: &CatalogLine, day: Date) -> (Vec<RawRateStep>, bool) {
    let known = line.as_known_on(day_before(day));
    let mut steps: Vec<(Date, f64, Date)> = known
        .base_rates()
        .into_iter()
        .chain(known.targets())
        .map(|step| (step.from, step.units_per_year, step.stated))
        .collect();
    steps.sort_by_key(|step| step.0);
    steps.dedup_by_key(|step| step.0);
    let mut backdated = false;
    if steps.is_empty() {
        let first = line
            .base_rates()
            .into_iter()
            .min_by_key(|step| step.from)
            .or_else(|| line.rates.iter().min_by_key(|step| step.from));
        if let Some(first) = first {
            steps.push((day, first.units_per_year, first.stated));
            backdated = true;
        }
    }
    // A step of zero at the end would leave units unbuilt for ever; the engine refuses it.
    while steps.last().is_some_and(|step| step.1 <= 0.0) {
        steps.pop();
    }
    let raw = steps
        .into_iter()
        .map(|(from, per_year, stated)| RawRateStep {
            from: RawDate(from.to_string()),
            per_year,
            announced: Some(RawDate(stated.to_string())),
        })
        .collect();
    (raw, backdated)
}

/// The line's order book as known on `day`: its latest backlog stated before `day` (a
/// backlog marked `all_customers` counts every undelivered unit, this sale's too when
/// ordered by then, which then queues by its contract date inside it), and the dated
/// orders of other customers stated before `day` and placed after that backlog's date (an
/// earlier order is inside the backlog). An order naming the buyer is left out: it may be
/// this very sale.
fn known_book(line: &CatalogLine, day: Date, purchaser: &str) -> (RawBacklog, Vec<RawOrder>) {
    let known = line.as_known_on(day_before(day));
    let backlog = known.backlog_on(day_before(day));
    let since = backlog.map(|backlog| backlog.as_of);
    let orders = known
        .orders
        .iter()
        .filter(|order| since.is_none_or(|since| order.date > since))
        .filter(|order| !order.customer.contains(purchaser))
        .filter_map(|order| {
            order.units.map(|units| RawOrder {
                date: RawDate(order.date.to_string()),
                units: i64::from(units),
                tier: None,
                customer: Some(order.customer.clone()),
            })
        })
        .collect();
    let backlog = backlog.map_or(RawBacklog::Units(0), |backlog| {
        RawBacklog::Dated(RawDatedBacklog {
            units: i64::from(backlog.units),
            as_of: RawDate(backlog.as_of.to_string()),
            includes_cases: backlog.all_customers,
            // The sale's tier (a case's default), so that it queues among them by date.
            tier: None,
        })
    });
    (backlog, orders)
}

fn day_before(date: Date) -> Date {
    date.yesterday().unwrap_or(date)
}

/// Whether a distribution is kept as drawn or pinned at its median (the calibration's
/// "what the plain model explains").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Draws {
    /// Every distribution as given.
    Random,
    /// Every duration at its median, no first-delivery delay, no rate or ramp uncertainty.
    Median,
}

pub(crate) fn median_days(dist: &RawDist) -> Option<f64> {
    dist.build().ok().map(|dist| dist.median())
}

fn pinned(dist: &RawDist, draws: Draws) -> Option<RawDist> {
    match draws {
        Draws::Random => Some(dist.clone()),
        Draws::Median => median_days(dist).map(|days| RawDist::Fixed { days }),
    }
}

/// The facts a scenario is built from: the sale, the day, and what was known.
struct Setting<'a> {
    timeline: &'a Timeline,
    line: &'a CatalogLine,
    /// The forecast's day: only the sale's milestones dated before it are given.
    start: Date,
    /// Whether the production contract, when dated before `start`, is given (the
    /// calibration's residual from the contract); a forecast never hides it.
    with_contract: bool,
}

/// The sale's milestones dated before `start`, in the scenario's syntax: facts the engine
/// does not draw again. The stage the sale is in follows from them.
fn known_milestones(setting: &Setting<'_>) -> RawMilestones {
    let known = setting.timeline.milestones.known_before(setting.start);
    let date = |milestone: Option<expedite_data::timelines::Milestone>| {
        milestone.map(|m| RawDate(m.date.to_string()))
    };
    // Outside FMS the signed contract is the production contract.
    let signed_contract = (setting.timeline.channel != Channel::Fms)
        .then_some(known.loa)
        .flatten();
    RawMilestones {
        request: date(known.request),
        notification: date(known.notification),
        loa: date(known.loa),
        contract: if setting.with_contract {
            date(known.production_contract.or(signed_contract))
        } else {
            None
        },
        deliveries: Vec::new(),
    }
}

/// The first delivery the sale was promised, when a forecast is anchored on it: the promise
/// was made public before `start` and the sale's channel has a fitted slip of promises (an
/// undated promise only feeds the slip's fit).
fn anchoring_promise(setting: &Setting<'_>, params: &Params) -> Option<Date> {
    let promise = setting.timeline.promise.as_ref()?;
    let made = promise.made?;
    let slip_fitted = params.promise_slip(setting.timeline.channel).is_some();
    (slip_fitted && made.date < setting.start).then_some(promise.first_delivery)
}

/// The stage durations of `channel` a forecast uses: the fitted ones, and the template's
/// stated assumption for a stage the calibration could not fit (too few sales), so that a
/// sparse parameters file never leaves a stage out and narrows the band. The delay is not
/// among them (it goes on the line), nor the promise slip (only a forecast from a known
/// promise draws it; the plain model has no use for it, and a slip with a negative median
/// could not be pinned to it).
fn given_stages<'a>(
    params: &'a Params,
    assumed: &'a Assumed,
    channel: &str,
) -> BTreeMap<&'a str, &'a RawDist> {
    let mut given: BTreeMap<&str, &RawDist> = assumed
        .stages
        .get(channel)
        .into_iter()
        .flatten()
        .map(|(stage, dist)| (stage.as_str(), dist))
        .collect();
    if let Some(fitted) = params.channels.get(channel) {
        given.extend(fitted.iter().map(|(stage, dist)| (stage.as_str(), dist)));
    }
    given.remove("first_delivery_delay");
    given.remove(PROMISE_SLIP);
    given
}

/// The parameters a forecast of `channel` on `line` takes from the template because the
/// calibration could not fit them, by their names in the parameters file.
fn assumed_parameters(
    params: &Params,
    assumed: &Assumed,
    channel: Channel,
    line: &str,
) -> Vec<String> {
    let fitted = params.channels.get(channel.as_str());
    let mut names: Vec<String> = given_stages(params, assumed, channel.as_str())
        .into_keys()
        .filter(|stage| fitted.is_none_or(|fitted| !fitted.contains_key(*stage)))
        .map(|stage| format!("channels.{channel}.{stage}", channel = channel.as_str()))
        .collect();
    if params.first_delivery_delay(channel, line).is_none()
        && assumed.delay(channel.as_str()).is_some()
    {
        names.push(format!("lines.{line}.first_delivery_delay"));
    }
    names
}

/// Builds the one-sale scenario of a forecast (or of a calibration residual).
fn scenario(
    setting: &Setting<'_>,
    context: &Context<'_>,
    params: &Params,
    draws: Draws,
    trials: u32,
    seed: u64,
) -> Result<(Scenario, bool), BacktestError> {
    let timeline = setting.timeline;
    let channel = timeline.channel.as_str();
    let fitted_delay = params.first_delivery_delay(timeline.channel, &setting.line.id);
    let mut stages: BTreeMap<String, RawDist> = BTreeMap::new();
    // The delay residuals were measured with LOA → contract (where no contract is reported)
    // and transport at their medians, so a fitted delay already holds their spread. To
    // count that spread once, a forecast keeps those two at their medians too and draws the
    // delay; the stages before the LOA are not in the residual and are drawn. An assumed
    // delay (not fitted) holds no such spread, and they are drawn.
    let how = |stage: &str| {
        if fitted_delay.is_some() && matches!(stage, "implemented" | "transport") {
            Draws::Median
        } else {
            draws
        }
    };
    for (stage, dist) in given_stages(params, context.assumed, channel) {
        if let Some(dist) = pinned(dist, how(stage)) {
            stages.insert(stage.to_owned(), dist);
        }
    }
    if let Some(transport) = context.assumed.transport.get(channel)
        && let Some(dist) = pinned(transport, how("transport"))
    {
        stages.insert("transport".to_owned(), dist);
    }
    if draws == Draws::Random
        && let Some(slip) = params.promise_slip(timeline.channel)
    {
        stages.insert(PROMISE_SLIP.to_owned(), slip.clone());
    }
    let (rate, backdated) = known_rates(setting.line, setting.start);
    // The fitted delay was measured against lines with no order book (none is public for
    // the years of most sales it was fitted on), so it holds the usual wait behind other
    // buyers: a forecast using it, and the plain model it is measured against, queue no
    // book; an assumed delay does not hold that wait, and the book known that day queues.
    let (backlog, orders) = if draws == Draws::Median || fitted_delay.is_some() {
        (RawBacklog::Units(0), Vec::new())
    } else {
        known_book(setting.line, setting.start, timeline.purchaser.iso3())
    };
    let lead_time_days = context
        .assumed
        .lead_time_days
        .get(&setting.line.id)
        .copied()
        .unwrap_or(0.0);
    let unit_usd = timeline
        .value_usd
        .map(|value| Usd::from_cents(value.cents() / u64::from(timeline.quantity)))
        .unwrap_or(Usd::ZERO);
    let raw = RawScenario {
        name: format!("{} as of {}", timeline.id, setting.start),
        start: RawDate(setting.start.to_string()),
        trials: Some(i64::from(trials)),
        seed: i64::try_from(seed).ok(),
        target: None,
        channels: BTreeMap::from([(channel.to_owned(), stages)]),
        lines: vec![RawLine {
            id: setting.line.id.clone(),
            name: setting.line.system.clone(),
            backlog,
            orders,
            lead_time_days,
            rate,
            rate_multiplier: (draws == Draws::Random)
                .then(|| params.line_defaults.rate_multiplier.clone()),
            ramp_slip: (draws == Draws::Random).then(|| params.line_defaults.ramp_slip.clone()),
            // The delay is what the plain model leaves out: none in the median model.
            first_delivery_delay: match draws {
                Draws::Random => fitted_delay
                    .or_else(|| context.assumed.delay(channel))
                    .cloned(),
                Draws::Median => None,
            },
            delivery_span: params.line_delivery_span(&setting.line.id).cloned(),
            delivery_span_scale: params.line_delivery_span_scale(&setting.line.id),
        }],
        cases: vec![RawCase {
            id: timeline.id.clone(),
            purchaser: timeline.purchaser.iso3().to_owned(),
            channel: Some(channel.to_owned()),
            milestones: Some(known_milestones(setting)),
            // The plain model the delay is measured against knows no promise.
            promised_first_delivery: match draws {
                Draws::Random => {
                    anchoring_promise(setting, params).map(|date| RawDate(date.to_string()))
                }
                Draws::Median => None,
            },
            lines: vec![RawCaseLine {
                line: setting.line.id.clone(),
                quantity: i64::from(timeline.quantity),
                unit_usd,
                mde: true,
                category: None,
            }],
            ..RawCase::default()
        }],
        policies: Vec::new(),
    };
    let scenario = Scenario::from_raw(raw).map_err(|error| BacktestError::Scenario {
        id: timeline.id.clone(),
        message: error.to_string(),
    })?;
    Ok((scenario, backdated))
}

/// The first and final delivery bands of a one-sale scenario.
fn run(scenario: &Scenario) -> Option<(Percentiles, Percentiles)> {
    let report = expedite_forecast::run(scenario, &RunOptions::default()).ok()?;
    let case = report.runs.first()?.cases.first()?;
    Some((case.first_delivery, case.final_delivery))
}

/// The production model's first delivery for a sale with no delay and every duration at
/// its median, from its production contract or its LOA ([`calibrate::Explain`]).
pub fn explain(
    timeline: &Timeline,
    anchor: Anchor,
    context: &Context<'_>,
    params: &Params,
) -> Option<Date> {
    let line = context.catalog.line(timeline.line.as_deref()?)?;
    let since = match anchor {
        Anchor::Contract => contract_date(timeline)?,
        Anchor::Loa => timeline.milestones.loa?.date,
    };
    let setting = Setting {
        timeline,
        line,
        start: day_after(since),
        with_contract: anchor == Anchor::Contract,
    };
    let (scenario, _) = scenario(&setting, context, params, Draws::Median, 1, 0).ok()?;
    run(&scenario).map(|(first, _)| first.p50)
}

/// The production contract of a sale: the file's, or outside FMS the signed contract.
pub fn contract_date(timeline: &Timeline) -> Option<Date> {
    let signed = (timeline.channel != Channel::Fms)
        .then_some(timeline.milestones.loa)
        .flatten();
    timeline
        .milestones
        .production_contract
        .or(signed)
        .map(|m| m.date)
}

/// Fits the parameters on `timelines` (see [`calibrate::calibrate`]), the production model
/// being this module's scenarios.
pub fn calibrate_with_engine(
    timelines: &[Timeline],
    observed: Date,
    source: &str,
    context: &Context<'_>,
) -> Params {
    // The residual's model needs a LOA → contract median: fit the stages first (they do not
    // depend on the model), then the delays with them.
    let no_model = |_: &Timeline, _: Anchor| None;
    let stages_only = calibrate::calibrate(
        timelines,
        &calibrate::Inputs {
            observed,
            source: source.to_owned(),
            rules: context.rules,
            explain: &no_model,
            family: context.family,
            register: &[],
        },
    );
    let model =
        |timeline: &Timeline, anchor: Anchor| explain(timeline, anchor, context, &stages_only);
    calibrate::calibrate(
        timelines,
        &calibrate::Inputs {
            observed,
            source: source.to_owned(),
            rules: context.rules,
            explain: &model,
            family: context.family,
            register: context.register,
        },
    )
}

/// The parameters refitted on every sale of the file but `id` (leave-one-out).
pub fn params_without(
    timelines: &[Timeline],
    id: &str,
    observed: Date,
    context: &Context<'_>,
) -> Params {
    let others: Vec<Timeline> = timelines
        .iter()
        .filter(|other| other.id != id)
        .cloned()
        .collect();
    calibrate_with_engine(
        &others,
        observed,
        &format!("the file without {id}"),
        context,
    )
}

/// Why a row cannot be forecast at all, if it cannot.
fn unusable(timeline: &Timeline, catalog: &Catalog) -> Option<String> {
    if !timeline.is_us_sale() {
        return Some(format!(
            "non-US supplier ({}): the catalog holds US lines only",
            timeline.supplier.iso3()
        ));
    }
    let Some(line) = &timeline.line else {
        return Some("no line: no catalog line builds it".to_owned());
    };
    match catalog.line(line) {
        None => return Some(format!("line '{line}' is not in the catalog")),
        Some(known) if known.rates.is_empty() => {
            return Some(format!(
                "line '{line}' has no unit rate in the catalog (a lead-time line)"
            ));
        }
        Some(_) => {}
    }
    if timeline.milestones.notification.is_none() && timeline.milestones.loa.is_none() {
        return Some("no notification and no LOA date".to_owned());
    }
    None
}

/// The baseline's LOA → first delivery times, days: the P10, median and P90 over the US
/// sales other than `id` that have both dates (P10 and P90 by nearest rank, as the
/// forecast's own percentiles).
fn baseline_days(timelines: &[Timeline], id: &str, observed: Date) -> Option<[f64; 3]> {
    let mut days: Vec<f64> = timelines
        .iter()
        .filter(|timeline| timeline.id != id && timeline.is_us_sale())
        .filter_map(|timeline| {
            let loa = timeline.milestones.loa?.date;
            let first = timeline.milestones.first_delivery?.date;
            (first <= observed && first >= loa).then(|| f64::from((first - loa).get_days()))
        })
        .collect();
    let middle = median(&mut days)?;
    Some([nearest_rank(&days, 0.10), middle, nearest_rank(&days, 0.90)])
}

/// The `quantile` of sorted, non-empty `values` by nearest rank, the forecast's own rule.
fn nearest_rank(sorted: &[f64], quantile: f64) -> f64 {
    let rank = expedite_forecast::report::nearest_rank(quantile, sorted.len() as u64);
    sorted[usize::try_from(rank - 1).unwrap_or(0)]
}

fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[middle]
    } else {
        (values[middle - 1] + values[middle]) / 2.0
    })
}

fn add_days(date: Date, days: f64) -> Date {
    expedite_forecast::report::date_of(date, days.round() as i32)
}

/// Scores a forecast of first delivery.
pub fn score(band: Percentiles, actual: Option<Date>, observed: Date) -> Outcome {
    match actual {
        Some(actual) if actual < band.p10 => Outcome::Early,
        Some(actual) if actual > band.p90 => Outcome::Late,
        Some(_) => Outcome::Inside,
        None if band.p90 < observed => Outcome::Late,
        None => Outcome::Pending,
    }
}

/// The interval score of a P10–P90 band, in months (Gneiting and Raftery, "Strictly Proper
/// Scoring Rules", 2007, with α = 0.2): the band's width, plus ten (2 ÷ α) times the months
/// by which the real first delivery fell outside it. Lower is better. One number weighs
/// width against coverage: narrowing a band lowers it only while the band still holds the
/// real dates. A sale not delivered by the observation date with P90 earlier has missed by
/// at least observation − P90, and that is what is counted (a lower bound). `None` when the
/// forecast is pending.
pub fn interval_score_months(
    band: Percentiles,
    actual: Option<Date>,
    observed: Date,
) -> Option<f64> {
    const MISS_WEIGHT: f64 = 2.0 / 0.2;
    let width = months_between(band.p10, band.p90);
    let miss = match (score(band, actual, observed), actual) {
        (Outcome::Pending, _) => return None,
        (Outcome::Inside, _) => 0.0,
        (Outcome::Early, Some(actual)) => months_between(actual, band.p10),
        (_, Some(actual)) => months_between(band.p90, actual),
        (_, None) => months_between(band.p90, observed),
    };
    Some(width + MISS_WEIGHT * miss)
}

/// Runs the back-test; `shipped` are the parameters of [`CalibrationMode::Shipped`]. A
/// forecast the engine refuses is listed in `skipped` with the engine's reason.
pub fn backtest(
    timelines: &[Timeline],
    options: &Options,
    context: &Context<'_>,
    shipped: &Params,
) -> Backtest {
    let observed = options.observed;
    let mut forecasts = Vec::new();
    let mut skipped = Vec::new();
    let mut kinds = options.as_of.clone();
    kinds.sort_unstable();
    kinds.dedup();
    for timeline in timelines {
        if let Some(reason) = unusable(timeline, context.catalog) {
            skipped.push(Skipped {
                id: timeline.id.clone(),
                as_of_kind: None,
                reason,
            });
            continue;
        }
        let refitted;
        let params = match options.calibration {
            CalibrationMode::Shipped => shipped,
            CalibrationMode::LeaveOneOut => {
                refitted = params_without(timelines, &timeline.id, observed, context);
                &refitted
            }
        };
        for &kind in &kinds {
            let Some(milestone) = timeline.milestones.get(kind.milestone()) else {
                skipped.push(Skipped {
                    id: timeline.id.clone(),
                    as_of_kind: Some(kind),
                    reason: format!("no {} date", kind.as_str()),
                });
                continue;
            };
            if timeline
                .milestones
                .first_delivery
                .is_some_and(|first| first.date <= milestone.date)
            {
                skipped.push(Skipped {
                    id: timeline.id.clone(),
                    as_of_kind: Some(kind),
                    reason: format!(
                        "the first delivery is not after the {}: nothing to forecast",
                        kind.as_str()
                    ),
                });
                continue;
            }
            if milestone.date > observed {
                skipped.push(Skipped {
                    id: timeline.id.clone(),
                    as_of_kind: Some(kind),
                    reason: format!("the {} is after the observation date", kind.as_str()),
                });
                continue;
            }
            // A row the engine refuses (milestones out of order, say) is listed, not fatal:
            // one odd row must not stop the test of the others.
            match forecast_one(
                timeline,
                kind,
                milestone.date,
                milestone.precision,
                params,
                timelines,
                options,
                context,
            ) {
                Ok(forecast) => forecasts.push(forecast),
                Err(error) => skipped.push(Skipped {
                    id: timeline.id.clone(),
                    as_of_kind: Some(kind),
                    reason: error.to_string(),
                }),
            }
        }
    }
    let summary = summarise(&forecasts.iter().collect::<Vec<_>>());
    let by_line = summarise_by_line(&forecasts);
    Backtest {
        observed,
        calibration: options.calibration,
        family: (options.calibration == CalibrationMode::LeaveOneOut).then_some(context.family),
        trials: options.trials,
        seed: options.seed,
        forecasts,
        skipped,
        summary,
        by_line,
    }
}

/// [`summarise`] over each line's forecasts.
pub fn summarise_by_line(forecasts: &[Forecast]) -> BTreeMap<String, Summary> {
    let mut by_line: BTreeMap<&str, Vec<&Forecast>> = BTreeMap::new();
    for forecast in forecasts {
        by_line
            .entry(forecast.line.as_str())
            .or_default()
            .push(forecast);
    }
    by_line
        .into_iter()
        .map(|(line, forecasts)| (line.to_owned(), summarise(&forecasts)))
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn forecast_one(
    timeline: &Timeline,
    kind: AsOfKind,
    milestone: Date,
    precision: Precision,
    params: &Params,
    timelines: &[Timeline],
    options: &Options,
    context: &Context<'_>,
) -> Result<Forecast, BacktestError> {
    let observed = options.observed;
    let as_of = day_after(milestone);
    let line_id = timeline.line.clone().unwrap_or_default();
    let line = context
        .catalog
        .line(&line_id)
        .ok_or_else(|| BacktestError::Build {
            id: timeline.id.clone(),
            message: format!("line '{line_id}' is not in the catalog"),
        })?;
    let setting = Setting {
        timeline,
        line,
        start: as_of,
        with_contract: true,
    };
    let (scenario, rate_backdated) = scenario(
        &setting,
        context,
        params,
        Draws::Random,
        options.trials,
        options.seed,
    )?;
    let (first, last) = run(&scenario).ok_or_else(|| BacktestError::Build {
        id: timeline.id.clone(),
        message: "the forecast engine did not run".to_owned(),
    })?;
    let delivered = timeline
        .milestones
        .first_delivery
        .filter(|m| m.date <= observed);
    let actual = delivered.map(|m| m.date);
    let actual_precision = delivered.map(|m| m.precision);
    let actual_final_delivery = timeline
        .milestones
        .final_delivery
        .map(|m| m.date)
        .filter(|date| *date <= observed);
    let outcome = score(first, actual, observed);
    let error_months = actual.map(|actual| months_between(actual, first.p50));
    let error_at_least_months =
        (actual.is_none() && outcome == Outcome::Late).then(|| months_between(observed, first.p50));
    let baseline_band = (kind == AsOfKind::Loa)
        .then(|| baseline_days(timelines, &timeline.id, observed))
        .flatten()
        .map(|[p10, p50, p90]| Percentiles {
            p10: add_days(milestone, p10),
            p50: add_days(milestone, p50),
            p90: add_days(milestone, p90),
        });
    let baseline_first_delivery = baseline_band.map(|band| band.p50);
    let baseline_error_months = baseline_first_delivery
        .zip(actual)
        .map(|(baseline, actual)| months_between(actual, baseline));
    let baseline_outcome = baseline_band.map(|band| score(band, actual, observed));
    let baseline_interval_score_months =
        baseline_band.and_then(|band| interval_score_months(band, actual, observed));
    Ok(Forecast {
        id: timeline.id.clone(),
        line: line_id,
        as_of_kind: kind,
        as_of,
        as_of_precision: precision,
        actual_first_delivery: actual,
        actual_precision,
        promised_first_delivery: anchoring_promise(&setting, params),
        first_delivery: first,
        outcome,
        error_months,
        error_at_least_months,
        band_months: months_between(first.p10, first.p90),
        interval_score_months: interval_score_months(first, actual, observed),
        final_delivery: last,
        actual_final_delivery,
        final_outcome: score(last, actual_final_delivery, observed),
        final_error_months: actual_final_delivery.map(|actual| months_between(actual, last.p50)),
        final_interval_score_months: interval_score_months(last, actual_final_delivery, observed),
        baseline_first_delivery,
        baseline_error_months,
        baseline_band,
        baseline_interval_score_months,
        baseline_outcome,
        rate_backdated,
        assumed_parameters: assumed_parameters(params, context.assumed, timeline.channel, &line.id),
    })
}

/// The summary figures of a list of forecasts.
pub fn summarise(forecasts: &[&Forecast]) -> Summary {
    let compared: Vec<&Forecast> = forecasts
        .iter()
        .copied()
        .filter(|f| f.baseline_error_months.is_some() && f.error_months.is_some())
        .collect();
    let mut baseline: Vec<f64> = compared
        .iter()
        .filter_map(|f| f.baseline_error_months.map(f64::abs))
        .collect();
    let mut ours_on_baseline: Vec<f64> = compared
        .iter()
        .filter_map(|f| f.error_months.map(f64::abs))
        .collect();
    let history = HistoryComparison::of(forecasts);
    Summary {
        first: Scores::of_first_delivery(forecasts),
        baseline_median_abs_error_months: round1(median(&mut baseline)),
        median_abs_error_months_loa: round1(median(&mut ours_on_baseline)),
        baseline_n: compared.len(),
        baseline_median_band_months: round1(history.baseline_band),
        baseline_coverage: coverage(history.baseline_inside, history.scored),
        median_band_months_loa: round1(history.model_band),
        coverage_loa: coverage(history.model_inside, history.scored),
        baseline_scored: history.scored,
        baseline_mean_interval_score_months: round1(history.baseline_score),
        mean_interval_score_months_loa: round1(history.model_score),
        final_delivery: Scores::of_final_delivery(forecasts),
    }
}

/// The mean of `values` ([`stats::mean`]), `None` of nothing.
fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    stats::mean(&values.collect::<Vec<f64>>())
}

/// inside ÷ scored, to two decimals.
fn coverage(inside: usize, scored: usize) -> Option<f64> {
    (scored > 0).then(|| ((inside as f64 / scored as f64) * 100.0).round() / 100.0)
}

/// The model's band against history's, on the as-of-LOA forecasts where both are scored
/// (a band as wide as history's says nothing).
struct HistoryComparison {
    scored: usize,
    baseline_inside: usize,
    model_inside: usize,
    baseline_band: Option<f64>,
    model_band: Option<f64>,
    baseline_score: Option<f64>,
    model_score: Option<f64>,
}

impl HistoryComparison {
    fn of(forecasts: &[&Forecast]) -> HistoryComparison {
        let both_scored: Vec<(&Forecast, Percentiles, Outcome)> = forecasts
            .iter()
            .copied()
            .filter(|f| f.outcome != Outcome::Pending)
            .filter_map(|f| Some((f, f.baseline_band?, f.baseline_outcome?)))
            .filter(|(_, _, outcome)| *outcome != Outcome::Pending)
            .collect();
        let mut baseline_bands: Vec<f64> = both_scored
            .iter()
            .map(|(_, band, _)| months_between(band.p10, band.p90))
            .collect();
        let mut model_bands: Vec<f64> = both_scored.iter().map(|(f, _, _)| f.band_months).collect();
        HistoryComparison {
            scored: both_scored.len(),
            baseline_inside: both_scored
                .iter()
                .filter(|(_, _, outcome)| *outcome == Outcome::Inside)
                .count(),
            model_inside: both_scored
                .iter()
                .filter(|(f, _, _)| f.outcome == Outcome::Inside)
                .count(),
            baseline_band: median(&mut baseline_bands),
            model_band: median(&mut model_bands),
            baseline_score: mean(
                both_scored
                    .iter()
                    .filter_map(|(f, _, _)| f.baseline_interval_score_months),
            ),
            model_score: mean(
                both_scored
                    .iter()
                    .filter_map(|(f, _, _)| f.interval_score_months),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expedite_data::timelines;

    const HEADER: &str = "id,buyer,iso3,supplier,channel,system,line,quantity,value_usd,request,\
        notification,loa_or_contract_signed,production_contract,first_delivery,final_delivery,\
        notes,sources\n";

    /// Parameters a person can follow: LOA → contract uniform over 0–200 days is kept at its
    /// median (100 days, as the delay already holds its spread), no transport, and a
    /// first-delivery delay uniform over 0–300 days; the line builds 48 a year with a
    /// build time of 365 days.
    const PARAMS: &str = r#"
        observed = "2026-03-31"
        source = "hand-made"
        [channels.fms]
        implemented = { dist = "uniform", min = 0, max = 200 }
        first_delivery_delay = { dist = "uniform", min = 0, max = 300 }
        [line_defaults]
        rate_multiplier = { dist = "fixed", value = 1.0 }
        ramp_slip = { dist = "fixed", days = 0 }
    "#;

    fn observed() -> Date {
        "2026-03-31".parse().expect("date")
    }

    fn hand_made() -> Vec<Timeline> {
        // Three HIMARS sales signed on the same day in 2022 and one in 2025. By hand, as of
        // the day after the LOA (2022-01-02): contract 100 days after the LOA (2022-04-11);
        // the first launcher takes 365/48 = 7.6 days at 48 a year and 365 days to build
        // (2023-04-19); then the delay: P10 30 days later (2023-05-19), P50 150
        // (2023-09-16), P90 270 (2024-01-14).
        let rows = "\
            IN-2022,Estonia,EST,USA,fms,HIMARS,himars,6,,,,2022-01-01,,2023-08-01,2023-09-01,,\n\
            LATE-2022,Latvia,LVA,USA,fms,HIMARS,himars,6,,,,2022-01-01,,2024-06-01,2025-01-01,,\n\
            WAIT-2025,Lithuania,LTU,USA,fms,HIMARS,himars,6,,,,2025-06-01,,,,,\n\
            NEVER-2022,Romania,ROU,USA,fms,HIMARS,himars,6,,,,2022-01-01,,,,,\n";
        timelines::read(format!("{HEADER}{rows}").as_bytes(), "hand-made").expect("valid")
    }

    /// HIMARS's 365-day build time, and nothing else assumed.
    fn himars_assumed() -> Assumed {
        Assumed {
            lead_time_days: BTreeMap::from([("himars".to_owned(), 365.0)]),
            transport: BTreeMap::new(),
            stages: BTreeMap::new(),
        }
    }

    fn run_hand_made(calibration: CalibrationMode) -> Backtest {
        let params = Params::from_toml_str(PARAMS, "hand-made").expect("valid params");
        run_hand_made_with(calibration, &himars_assumed(), &params)
    }

    fn run_hand_made_with(
        calibration: CalibrationMode,
        assumed: &Assumed,
        params: &Params,
    ) -> Backtest {
        run_on(&hand_made(), calibration, assumed, params)
    }

    /// The back-test of `sales` as of their LOA, 2,000 trials.
    fn run_on(
        sales: &[Timeline],
        calibration: CalibrationMode,
        assumed: &Assumed,
        params: &Params,
    ) -> Backtest {
        let catalog = Catalog::builtin().expect("catalog");
        let rules = RuleBook::builtin().expect("rules");
        let options = Options {
            observed: observed(),
            as_of: vec![AsOfKind::Loa],
            calibration,
            trials: 2000,
            seed: 1,
        };
        let context = Context {
            catalog: &catalog,
            rules: &rules,
            assumed,
            family: Family::LogNormal,
            register: &[],
        };
        backtest(sales, &options, &context, params)
    }

    fn date(text: &str) -> Date {
        text.parse().expect("date")
    }

    /// The back-test's forecast of one sale, which it must have made.
    fn forecast_of<'a>(result: &'a Backtest, id: &str) -> &'a Forecast {
        result
            .forecasts
            .iter()
            .find(|forecast| forecast.id == id)
            .expect("forecast made")
    }

    fn near(actual: Date, expected: &str, days: i32) -> bool {
        (actual - date(expected)).get_days().abs() <= days
    }

    #[test]
    fn a_promise_made_public_before_the_forecast_day_anchors_it_an_undated_or_later_one_does_not() {
        // All signed 2022-01-01 and promised for June 2023 (read 2023-06-15); the forecast is
        // made on 2022-01-02. Promises slip a fixed 30 days here: the promise made at
        // signing gives 2023-07-15 exactly. The one made public in March, and the undated one,
        // are not known on the day: those sales get the production model and its delay
        // (P50 2023-09-16, as in `hand_made`).
        let header = HEADER.replace("notes,sources", "promised_first_delivery,promised_on");
        let rows = "\
            AT-SIGNING,Estonia,EST,USA,fms,HIMARS,himars,6,,,,2022-01-01,,,,2023-06,2022-01-01\n\
            IN-MARCH,Latvia,LVA,USA,fms,HIMARS,himars,6,,,,2022-01-01,,,,2023-06,2022-03-01\n\
            UNDATED,Lithuania,LTU,USA,fms,HIMARS,himars,6,,,,2022-01-01,,,,2023-06,\n";
        let sales =
            timelines::read(format!("{header}{rows}").as_bytes(), "promised").expect("valid");
        let params = Params::from_toml_str(
            &PARAMS.replace(
                "[line_defaults]",
                "promise_slip = { dist = \"fixed\", days = 30 }\n[line_defaults]",
            ),
            "hand-made",
        )
        .expect("valid params");
        let result = run_on(&sales, CalibrationMode::Shipped, &himars_assumed(), &params);
        let kept = forecast_of(&result, "AT-SIGNING");
        assert_eq!(kept.promised_first_delivery, Some(date("2023-06-15")));
        for percentile in [
            kept.first_delivery.p10,
            kept.first_delivery.p50,
            kept.first_delivery.p90,
        ] {
            assert_eq!(percentile, date("2023-07-15"));
        }
        for id in ["IN-MARCH", "UNDATED"] {
            let unknown = forecast_of(&result, id);
            assert_eq!(unknown.promised_first_delivery, None, "{id}");
            assert!(
                near(unknown.first_delivery.p50, "2023-09-16", 10),
                "{id}: {:?}",
                unknown.first_delivery
            );
        }
    }

    #[test]
    fn three_hand_made_sales_come_out_inside_late_and_pending() {
        let result = run_hand_made(CalibrationMode::Shipped);
        let by_id = |id: &str| forecast_of(&result, id);
        let inside = by_id("IN-2022");
        assert_eq!(inside.as_of, date("2022-01-02"));
        let band = inside.first_delivery;
        // Within 8 days: the sampling error of 2,000 trials and the rounding to whole days.
        assert!(near(band.p10, "2023-05-19", 8), "{band:?}");
        assert!(near(band.p50, "2023-09-16", 8), "{band:?}");
        assert!(near(band.p90, "2024-01-14", 8), "{band:?}");
        assert_eq!(inside.outcome, Outcome::Inside);
        // P50 2023-09-16 against 2023-08-01: 46 days late, +1.5 months.
        let error = inside.error_months.expect("delivered");
        assert!((error - 1.5).abs() < 0.3, "{error}");
        assert_eq!(by_id("LATE-2022").outcome, Outcome::Late);
        // Signed in June 2025: P90 is in 2027, after the observation date: not scored.
        let waiting = by_id("WAIT-2025");
        assert_eq!(waiting.outcome, Outcome::Pending);
        assert!(waiting.error_months.is_none());
        // Signed in 2022, nothing delivered by March 2026, P90 in January 2024: late.
        let never = by_id("NEVER-2022");
        assert_eq!(never.outcome, Outcome::Late);
        assert!(never.error_months.is_none());
        assert!(never.error_at_least_months.expect("a bound") < -25.0);
        assert_eq!(
            (
                result.summary.first.scored,
                result.summary.first.inside,
                result.summary.first.late
            ),
            (3, 1, 2)
        );
        assert_eq!(result.summary.first.pending, 1);
        assert_eq!(result.summary.first.coverage, Some(0.33));
    }

    #[test]
    fn final_deliveries_are_scored_like_first_ones_an_unfinished_sale_past_its_p90_is_late() {
        // Six launchers take 38 days at 48 a year, less than the delay's spread: the final
        // band is about the first one (P50 2023-09-16, P90 2024-01-14). IN-2022 finished on
        // 2023-09-01 (inside, about half a month early), LATE-2022 on 2025-01-01 (late);
        // NEVER-2022 had not finished by 2026-03-31 (late); WAIT-2025 is pending.
        let result = run_hand_made(CalibrationMode::Shipped);
        let by_id = |id: &str| forecast_of(&result, id);
        let inside = by_id("IN-2022");
        assert_eq!(inside.final_outcome, Outcome::Inside);
        let error = inside.final_error_months.expect("finished");
        assert!((error - 0.5).abs() < 0.3, "{error}");
        assert_eq!(by_id("LATE-2022").final_outcome, Outcome::Late);
        assert_eq!(by_id("NEVER-2022").final_outcome, Outcome::Late);
        assert_eq!(by_id("NEVER-2022").final_error_months, None);
        assert_eq!(by_id("WAIT-2025").final_outcome, Outcome::Pending);
        let summary = result.summary.final_delivery;
        assert_eq!(
            (summary.scored, summary.inside, summary.early, summary.late),
            (3, 1, 0, 2)
        );
        assert_eq!((summary.pending, summary.coverage), (1, Some(0.33)));
    }

    #[test]
    fn the_baseline_is_the_median_of_the_other_sales() {
        // The other delivered sale of IN-2022 is LATE-2022: LOA → first delivery 882 days,
        // so the baseline forecasts 2022-01-01 + 882 days = 2024-06-01.
        let result = run_hand_made(CalibrationMode::Shipped);
        let inside = forecast_of(&result, "IN-2022");
        assert_eq!(inside.baseline_first_delivery, Some(date("2024-06-01")));
    }

    #[test]
    fn history_band_is_the_p10_to_p90_of_the_other_sales_scored_like_the_model() {
        // NEVER-2022's others took 577 (IN-2022) and 882 days (LATE-2022) from LOA to first
        // delivery: history's band is 2022-01-01 + 577 = 2023-08-01 to + 882 = 2024-06-01,
        // and nothing came by the observation day, after its P90: late. With one other sale
        // each, IN-2022's and LATE-2022's bands are a single day, missed early and late.
        let result = run_hand_made(CalibrationMode::Shipped);
        let by_id = |id: &str| forecast_of(&result, id);
        let never = by_id("NEVER-2022");
        let band = never.baseline_band.expect("as of LOA");
        assert_eq!(
            (band.p10, band.p90),
            (date("2023-08-01"), date("2024-06-01"))
        );
        assert_eq!(never.baseline_outcome, Some(Outcome::Late));
        assert_eq!(by_id("IN-2022").baseline_outcome, Some(Outcome::Early));
        assert_eq!(by_id("LATE-2022").baseline_outcome, Some(Outcome::Late));
        let summary = &result.summary;
        let scored_by_both = result
            .forecasts
            .iter()
            .filter(|f| f.outcome != Outcome::Pending && f.baseline_outcome.is_some())
            .count();
        assert_eq!(summary.baseline_scored, scored_by_both);
        assert_eq!(summary.baseline_coverage, Some(0.0));
    }

    #[test]
    fn a_parameter_the_calibration_could_not_fit_is_the_templates_assumption_and_is_named() {
        // A parameters file with no FMS fit at all (too few sales) against a template that
        // states LOA → contract as 100 days and the delay as uniform over 0–300 days: the
        // forecast is the one the hand-made fits give (contract held at 100 days, the same
        // delay), rather than a band with no delay in it.
        let sparse = Params::from_toml_str(
            r#"
            observed = "2026-03-31"
            source = "too few sales"
            [channels]
            [line_defaults]
            rate_multiplier = { dist = "fixed", value = 1.0 }
            ramp_slip = { dist = "fixed", days = 0 }
            "#,
            "sparse",
        )
        .expect("valid params");
        let assumed = Assumed {
            lead_time_days: BTreeMap::from([("himars".to_owned(), 365.0)]),
            transport: BTreeMap::new(),
            stages: BTreeMap::from([(
                "fms".to_owned(),
                BTreeMap::from([
                    ("implemented".to_owned(), RawDist::Fixed { days: 100.0 }),
                    (
                        "first_delivery_delay".to_owned(),
                        RawDist::Uniform {
                            min: 0.0,
                            max: 300.0,
                        },
                    ),
                ]),
            )]),
        };
        let from_template = run_hand_made_with(CalibrationMode::Shipped, &assumed, &sparse);
        let fitted = run_hand_made(CalibrationMode::Shipped);
        let in_2022 = |result: &Backtest| forecast_of(result, "IN-2022").clone();
        assert_eq!(
            in_2022(&from_template).first_delivery,
            in_2022(&fitted).first_delivery
        );
        assert_eq!(
            in_2022(&from_template).assumed_parameters,
            [
                "channels.fms.implemented",
                "lines.himars.first_delivery_delay"
            ]
        );
        assert!(in_2022(&fitted).assumed_parameters.is_empty());
    }

    #[test]
    fn an_outcome_is_scored_against_the_band_and_the_observation_date() {
        let band = Percentiles {
            p10: date("2024-01-01"),
            p50: date("2024-06-01"),
            p90: date("2025-01-01"),
        };
        let observed = date("2026-03-31");
        assert_eq!(
            score(band, Some(date("2023-12-31")), observed),
            Outcome::Early
        );
        assert_eq!(
            score(band, Some(date("2024-01-01")), observed),
            Outcome::Inside
        );
        assert_eq!(
            score(band, Some(date("2025-01-02")), observed),
            Outcome::Late
        );
        assert_eq!(score(band, None, observed), Outcome::Late);
        assert_eq!(score(band, None, date("2024-12-31")), Outcome::Pending);
    }

    #[test]
    fn the_interval_score_is_the_band_plus_ten_times_the_miss() {
        // A band of 2024-01-01 to 2025-01-01: 366 days, 12.0 months of 30.44 days.
        let band = Percentiles {
            p10: date("2024-01-01"),
            p50: date("2024-06-01"),
            p90: date("2025-01-01"),
        };
        let observed = date("2026-03-31");
        let months = |from: &str, to: &str| months_between(date(from), date(to));
        let width = months("2024-01-01", "2025-01-01");
        assert_eq!(width, 12.0);
        let scored = |actual: Option<&str>| {
            interval_score_months(band, actual.map(date), observed).expect("scored")
        };
        assert!((scored(Some("2024-08-01")) - width).abs() < 1e-9);
        let early = width + 10.0 * months("2023-11-01", "2024-01-01");
        assert!((scored(Some("2023-11-01")) - early).abs() < 1e-9);
        let late = width + 10.0 * months("2025-01-01", "2025-04-01");
        assert!((scored(Some("2025-04-01")) - late).abs() < 1e-9);
        // Not delivered by the observation date: missed by at least observed − P90.
        let at_least = width + 10.0 * months("2025-01-01", "2026-03-31");
        assert!((scored(None) - at_least).abs() < 1e-9);
        assert_eq!(interval_score_months(band, None, date("2024-12-31")), None);
    }

    #[test]
    fn rows_that_cannot_be_forecast_say_why() {
        let rows = Timeline::builtin().expect("shipped");
        let catalog = Catalog::builtin().expect("catalog");
        let reason = |id: &str| {
            let row = rows.iter().find(|row| row.id == id).expect("shipped");
            unusable(row, &catalog)
        };
        assert!(reason("POL-K2-2022").expect("Korean").contains("non-US"));
        assert!(
            reason("ROU-PATRIOT-2017")
                .expect("no line")
                .contains("no line")
        );
        assert!(reason("EST-HIMARS-2022").is_none());
    }

    #[test]
    fn leave_one_out_refits_without_the_sale_being_tested() {
        let rows = Timeline::builtin().expect("shipped");
        let catalog = Catalog::builtin().expect("catalog");
        let rules = RuleBook::builtin().expect("rules");
        let assumed = Assumed::of(&Template::builtin().expect("template"));
        let context = Context {
            catalog: &catalog,
            rules: &rules,
            assumed: &assumed,
            family: Family::LogNormal,
            register: &[],
        };
        let all = calibrate_with_engine(&rows, observed(), "all", &context);
        let without = params_without(&rows, "EST-HIMARS-2022", observed(), &context);
        let mentions = |params: &Params| {
            params
                .fits
                .iter()
                .flat_map(|fit| fit.cases.iter())
                .any(|case| case.starts_with("EST-HIMARS-2022 "))
        };
        assert!(mentions(&all));
        assert!(!mentions(&without));
        // The sales behind the delays, whichever group they are in.
        let delays = |params: &Params| -> usize {
            let mut ids: Vec<&str> = params
                .fits
                .iter()
                .filter(|fit| fit.parameter.ends_with(".first_delivery_delay"))
                .flat_map(|fit| fit.cases.iter())
                .filter_map(|case| case.split(' ').next())
                .collect();
            ids.sort_unstable();
            ids.dedup();
            ids.len()
        };
        assert_eq!(delays(&all), delays(&without) + 1);
    }

    #[test]
    fn a_rate_not_yet_known_is_moved_back_and_flagged() {
        let catalog = Catalog::builtin().expect("catalog");
        let himars = catalog.line("himars").expect("himars");
        // The catalog's first HIMARS rate (48 a year from 2022) was stated in February 2023:
        // as of 2019 it knew none.
        let (steps, backdated) = known_rates(himars, date("2019-02-14"));
        assert!(backdated);
        assert_eq!(steps.len(), 1);
        assert_eq!(steps[0].from.0, "2019-02-14");
        let (known, later) = known_rates(himars, date("2023-06-01"));
        assert!(!later);
        assert!(known.iter().all(|step| {
            step.announced
                .as_ref()
                .is_some_and(|stated| stated.0.as_str() < "2023-06-01")
        }));
    }

    /// The one-sale scenario of a shipped timeline as of `start`, on its own line, with the
    /// shipped catalog and rules and nothing assumed.
    fn shipped_sale_scenario(
        id: &str,
        start: &str,
        params: &Params,
        draws: Draws,
    ) -> Result<(Scenario, bool), BacktestError> {
        let rows = Timeline::builtin().expect("shipped");
        let timeline = rows.iter().find(|row| row.id == id).expect("shipped");
        let catalog = Catalog::builtin().expect("catalog");
        let rules = RuleBook::builtin().expect("rules");
        let assumed = Assumed::default();
        let context = Context {
            catalog: &catalog,
            rules: &rules,
            assumed: &assumed,
            family: Family::LogNormal,
            register: &[],
        };
        let line = timeline.line.as_deref().expect("on a catalog line");
        let setting = Setting {
            timeline,
            line: catalog.line(line).expect("in the catalog"),
            start: date(start),
            with_contract: true,
        };
        scenario(&setting, &context, params, draws, 10, 0)
    }

    #[test]
    fn a_forecast_as_of_notification_sees_neither_the_loa_nor_later_catalog_facts() {
        // Estonia's HIMARS as of 2022-07-16, the day after the notification: the LOA
        // (2022-12-02) and the delivery are hidden, and the catalog's HIMARS rates, first
        // stated in February 2023, are not known: the first step is moved back and flagged.
        let params = Params::from_toml_str(PARAMS, "hand-made").expect("params");
        let (scenario, backdated) =
            shipped_sale_scenario("EST-HIMARS-2022", "2022-07-16", &params, Draws::Random)
                .expect("valid");
        assert!(backdated);
        let milestones = scenario.cases[0].milestones.as_ref().expect("given");
        assert_eq!(milestones.notification, Some(date("2022-07-15")));
        assert!(milestones.loa.is_none() && milestones.deliveries.is_empty());
        assert_eq!(scenario.lines[0].rate.len(), 1);
        assert_eq!(scenario.lines[0].rate[0].from, date("2022-07-16"));
    }

    #[test]
    fn a_promise_slip_mostly_kept_early_is_drawn_for_a_promise_and_never_pinned_in_the_plain_model()
    {
        // A slip with a negative median (promises kept early) has no fixed-day form: the
        // plain model, which uses no promise, must still build, so the delay residuals it
        // explains are kept; a forecast draws the slip.
        let early = format!(
            "{PARAMS}\n[channels.fms.promise_slip]\ndist = \"normal\"\nmedian = -30\np90 = 60\n"
        );
        let params = Params::from_toml_str(&early, "hand-made").expect("params");
        let as_of_loa = |draws| shipped_sale_scenario("POL-F35-2020", "2020-02-01", &params, draws);
        let fms = expedite_core::Channel::Fms;
        let (plain, _) = as_of_loa(Draws::Median).expect("the plain model builds");
        assert!(plain.channels[&fms].promise_slip.is_none());
        assert!(plain.cases[0].promised_first_delivery.is_none());
        let (forecast, _) = as_of_loa(Draws::Random).expect("valid");
        assert!(forecast.channels[&fms].promise_slip.is_some());
        assert_eq!(
            forecast.cases[0].promised_first_delivery,
            Some(date("2024-07-01"))
        );
    }

    #[test]
    fn the_order_book_is_the_backlog_stated_before_the_day() {
        // F-35: a backlog of 416 at the start of 2026, stated at the end of January 2026.
        let catalog = Catalog::builtin().expect("catalog");
        let f35 = catalog.line("f35").expect("f35");
        let (before, _) = known_book(f35, date("2026-01-15"), "POL");
        assert!(matches!(before, RawBacklog::Units(0)));
        let (after, _) = known_book(f35, date("2026-03-01"), "POL");
        match after {
            RawBacklog::Dated(backlog) => {
                assert_eq!(backlog.units, 416);
                assert_eq!(backlog.as_of.0, "2026-01-01");
                assert!(backlog.includes_cases);
            }
            RawBacklog::Units(units) => panic!("expected a dated backlog, got {units}"),
        }
    }

    #[test]
    fn a_fitted_delay_holds_the_usual_queue_so_the_stated_book_is_queued_only_under_an_assumed_one()
    {
        // An F-35 sale signed 2026-02-01, forecast on 2026-03-02: the catalog's book of 416
        // (stated for 2026-01-01) is known that day. The hand-made parameters fit the FMS
        // delay, which was measured against lines with no book: nothing is queued. Without
        // a fitted delay (the template's assumed one), the book queues.
        let sales = timelines::read(
            format!("{HEADER}LATE-F35,Xland,POL,USA,fms,F-35,f35,32,,,,2026-02-01,,,,,\n")
                .as_bytes(),
            "hand-made",
        )
        .expect("valid");
        let catalog = Catalog::builtin().expect("catalog");
        let rules = RuleBook::builtin().expect("rules");
        let assumed = Assumed {
            lead_time_days: BTreeMap::new(),
            transport: BTreeMap::new(),
            stages: BTreeMap::from([(
                "fms".to_owned(),
                BTreeMap::from([(
                    "first_delivery_delay".to_owned(),
                    RawDist::Fixed { days: 0.0 },
                )]),
            )]),
        };
        let context = Context {
            catalog: &catalog,
            rules: &rules,
            assumed: &assumed,
            family: Family::LogNormal,
            register: &[],
        };
        let setting = Setting {
            timeline: &sales[0],
            line: catalog.line("f35").expect("f35"),
            start: date("2026-03-02"),
            with_contract: true,
        };
        let queued = |params: &Params| {
            let (scenario, _) =
                scenario(&setting, &context, params, Draws::Random, 10, 1).expect("builds");
            scenario.lines[0].backlog
        };
        let fitted = Params::from_toml_str(PARAMS, "hand-made").expect("valid params");
        assert_eq!(queued(&fitted), 0);
        let unfitted = Params::from_toml_str(
            &PARAMS.replace(
                "first_delivery_delay = { dist = \"uniform\", min = 0, max = 300 }",
                "",
            ),
            "hand-made",
        )
        .expect("valid params");
        assert!(queued(&unfitted) > 0);
    }

    #[test]
    fn a_us_direct_commercial_sale_is_on_contract_when_signed_and_takes_the_fms_delay() {
        // A DCS contract signed 2022-01-01 is the production contract: the first launcher
        // is built by 2023-01-09 (7.6 + 365 days), and the FMS delay (uniform 0-300 days,
        // no DCS fit of its own) puts the median 150 days later, about 2023-06-08.
        let text = format!(
            "{HEADER}DCS-2022,Estonia,EST,USA,dcs,HIMARS,himars,6,,,,2022-01-01,,2023-06-01,,,\n"
        );
        let rows = timelines::read(text.as_bytes(), "hand-made").expect("valid");
        let params = Params::from_toml_str(PARAMS, "hand-made").expect("valid params");
        let result = run_on(&rows, CalibrationMode::Shipped, &himars_assumed(), &params);
        let forecast = &result.forecasts[0];
        assert!(
            near(forecast.first_delivery.p50, "2023-06-08", 8),
            "{forecast:?}"
        );
        assert_eq!(forecast.outcome, Outcome::Inside);
    }

    #[test]
    fn a_row_the_engine_refuses_is_listed_and_the_others_still_run() {
        // An LOA dated before its notification: the engine refuses the milestones of the
        // forecast as of the notification; the forecast as of the LOA (which knows only the
        // LOA) and the other sales still run.
        let text = format!(
            "{HEADER}ODD-2022,Estonia,EST,USA,fms,HIMARS,himars,6,,,2022-06-01,2022-01-01,,,,,\n\
             IN-2022,Estonia,EST,USA,fms,HIMARS,himars,6,,,,2022-01-01,,2023-08-01,,,\n"
        );
        let rows = timelines::read(text.as_bytes(), "hand-made").expect("valid CSV");
        let catalog = Catalog::builtin().expect("catalog");
        let rules = RuleBook::builtin().expect("rules");
        let assumed = Assumed::default();
        let params = Params::from_toml_str(PARAMS, "hand-made").expect("valid params");
        let options = Options {
            observed: observed(),
            as_of: vec![AsOfKind::Notification, AsOfKind::Loa],
            calibration: CalibrationMode::Shipped,
            trials: 50,
            seed: 1,
        };
        let context = Context {
            catalog: &catalog,
            rules: &rules,
            assumed: &assumed,
            family: Family::LogNormal,
            register: &[],
        };
        let result = backtest(&rows, &options, &context, &params);
        let refused = result
            .skipped
            .iter()
            .find(|skipped| skipped.id == "ODD-2022")
            .expect("listed");
        assert_eq!(refused.as_of_kind, Some(AsOfKind::Notification));
        assert!(refused.reason.contains("before"), "{}", refused.reason);
        assert!(result.forecasts.iter().any(|f| f.id == "ODD-2022"));
        assert!(result.forecasts.iter().any(|f| f.id == "IN-2022"));
    }
}
