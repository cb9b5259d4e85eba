//! The demo's portfolio and scenarios of real cases.
//!
//! - [`build_demo`]: the DSCA notifications of sales to European allies in the template's
//!   window become cases on the catalog's production lines. A notification that matches a
//!   real timeline ([`matching_timeline`]) takes its milestones up to the as-of date as facts
//!   (LOA, contract, deliveries); a stage the facts do not reach is inferred from the
//!   template's rule (days since notification) and marked assumed. Lines take the catalog's
//!   base rates (with the day each was stated), its stated backlog where one holds by the
//!   start (else the template's, counted on a fixed day), the template's build time and
//!   production uncertainty; the expedite policy comes from the template and the catalog's
//!   announced targets. [`run_demo`] runs base and policy and pairs each case's forecasts.
//! - [`known_cases_scenario`]: a scenario for given real cases with their known milestones,
//!   on the catalog as known on a date ([`Catalog::as_known_on`]): what the back-test
//!   forecasts as of a past day, and what the service forecasts for stored cases.
//!
//! Every value is either a fact (from the data, with where it came from) or an assumption
//! of the template, and the types say which ([`Provenance`]).

use expedite_core::{Country, Date, Stage, Usd};
use expedite_data::capacity::{Catalog, Line as CatalogLine, RateStep as CatalogStep};
use expedite_data::dsca::Notification;
use expedite_data::timelines::{Precision, Promise, Timeline};
use expedite_forecast::scenario::{
    RawBacklog, RawCase, RawCaseLine, RawDate, RawDatedBacklog, RawDelivery, RawLine,
    RawMilestones, RawPolicy, RawRateChange, RawRateStep, RawScenario, RawTierChange,
};
use expedite_forecast::{CaseForecast, Percentiles, Report, RunOptions, Scenario};
use serde::Serialize;

use crate::PortfolioError;
use crate::backtest::DAYS_PER_MONTH;
use crate::template::{EARLIEST_TEMPLATE_DATE, LATEST_TEMPLATE_DATE, Template};

/// Whether a value is a fact from the data or an assumption of the template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Provenance {
    /// From the data (a notification, a real timeline, the catalog's cited figures).
    Fact,
    /// From the template (or a rule of this crate the template parameterises).
    Assumed,
}

/// The milestones of a demo case known on the as-of date.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CaseFacts {
    /// The real timeline (`crates/data/data/cases/timelines.csv`) the case matched, if any.
    pub timeline: Option<String>,
    /// LOA signed (a fact from the timeline).
    pub loa: Option<Date>,
    /// Production contract (a fact from the timeline).
    pub contract: Option<Date>,
    /// First delivery (a fact from the timeline).
    pub first_delivery: Option<Date>,
    /// Final delivery (a fact from the timeline).
    pub final_delivery: Option<Date>,
    /// The first delivery the sale was promised (the middle of the period the promise
    /// names), when known on the as-of date: a dated promise from the day it was made, an
    /// undated one once the timelines' facts are complete (their `OBSERVED` day). With the
    /// fitted `promise_slip` the forecast's first delivery is drawn from it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub promised_first_delivery: Option<Date>,
    /// That promise as the timeline states it (`2026`, `2023-10/2023-12`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub promise_stated: Option<String>,
    /// The delivery window the catalog states for this order (a fact, for comparison with
    /// the forecast; e.g. Poland's Apaches: from 2028 to 2032-05-30).
    pub planned_deliveries: Option<PlannedDeliveries>,
}

/// A delivery window as the catalog states it for an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedDeliveries {
    /// First delivery planned.
    pub from: Option<Date>,
    /// Completion planned.
    pub to: Option<Date>,
    /// The order as published.
    pub as_published: String,
}

/// One notification turned into a forecast case.
#[derive(Debug, Clone, Serialize)]
pub struct DemoCase {
    /// `ISO3-notification date-line`, e.g. `POL-2023-02-07-himars`.
    pub id: String,
    /// The purchaser, ISO 3166-1 alpha-3.
    pub purchaser: &'static str,
    /// The DSCA notification date (a fact).
    pub notified: Date,
    /// The notified item, as published.
    pub item: String,
    /// The catalog line that builds it.
    pub line: String,
    /// Units of that line.
    pub units: u32,
    /// Notified value ÷ units (the whole notified value is put on the mapped item).
    pub unit_usd: Usd,
    /// The stage on the as-of date.
    pub stage: Stage,
    /// The day it entered that stage.
    pub since: Date,
    /// Fact when the stage and its date come from a real timeline; assumed when the template's
    /// rule (days since notification) put the case there.
    pub stage_provenance: Provenance,
    /// The real milestones known on the as-of date (facts).
    pub facts: CaseFacts,
    /// Whether the expedite policy moves it up the queue.
    pub eastern_flank: bool,
}

/// A notification that did not become a case, and why.
#[derive(Debug, Clone, Serialize)]
pub struct LeftOut {
    /// The purchaser.
    pub purchaser: &'static str,
    /// The notification date.
    pub date: Option<Date>,
    /// The notified item.
    pub item: String,
    /// Why it is not a case.
    pub reason: &'static str,
}

/// A rate increase the expedite policy applies (from an announced target).
#[derive(Debug, Clone, Serialize)]
pub struct RateIncrease {
    /// The line.
    pub line: String,
    /// From this date.
    pub from: Date,
    /// Factor over the previous increases.
    pub multiplier: f64,
    /// The announced rate.
    pub to_units_per_year: f64,
    /// The figure as published.
    pub as_published: String,
    /// Its source keys in the catalog.
    pub sources: Vec<String>,
}

/// The backlog a line starts from.
#[derive(Debug, Clone, Serialize)]
pub struct LineBacklog {
    /// Units.
    pub units: u32,
    /// The day they are counted on.
    pub as_of: Date,
    /// Whether the count holds the undelivered units of the cases ordered by then (a
    /// catalog backlog marked `all_customers` does: the rest are then other customers'
    /// orders dated before `as_of`, among which each such case queues by its contract date;
    /// the template's assumption counts only others' orders, queued ahead of every case).
    pub includes_cases: bool,
    /// Fact (the catalog states it) or assumed (the template's years of production).
    pub provenance: Provenance,
    /// How it was obtained: the catalog's words, or the template's years.
    pub basis: String,
}

/// A line as the portfolio runs it.
#[derive(Debug, Clone, Serialize)]
pub struct DemoLine {
    /// The catalog id.
    pub id: String,
    /// What it builds.
    pub system: String,
    /// The catalog's base rate steps (units a year from a date; facts) and the day each was
    /// stated.
    pub base_rate: Vec<(Date, f64)>,
    /// The backlog it starts from.
    pub backlog: LineBacklog,
    /// Days from a unit's release to its completion (the template's assumption, or for a line
    /// known only by its lead time, the catalog's reported contract-to-delivery time).
    pub lead_time_days: f64,
    /// Whether the line has no published unit rate and runs on its lead time alone.
    pub lead_time_only: bool,
}

/// The demo's portfolio, ready to forecast.
#[derive(Debug, Clone)]
pub struct DemoPortfolio {
    /// The forecast's "today".
    pub as_of: Date,
    /// The cases, in notification order.
    pub cases: Vec<DemoCase>,
    /// The notifications in the window that are not cases.
    pub left_out: Vec<LeftOut>,
    /// The lines the cases use.
    pub lines: Vec<DemoLine>,
    /// The expedite policy's rate increases.
    pub rate_increases: Vec<RateIncrease>,
    /// The forecast scenario, as it would be written to a file.
    pub raw: RawScenario,
    /// The same, validated by the forecast.
    pub scenario: Scenario,
}

/// Days a real timeline's notification may lie from a DSCA notification's date for the two to
/// be the same sale (Congress may be told 1–3 days before the public release; the timelines'
/// README). A timeline known only to the month matches a notification in that month.
pub const MATCH_DAYS: i32 = 7;

/// The real timeline of the same sale as a notification: same purchaser, same catalog line,
/// and a notification date within [`MATCH_DAYS`] days (or in the same month when the
/// timeline gives only the month). `None` when no timeline, or more than one, matches.
pub fn matching_timeline<'a>(
    timelines: &'a [Timeline],
    purchaser: Country,
    line: &str,
    notified: Date,
) -> Option<&'a Timeline> {
    let mut matches = timelines.iter().filter(|timeline| {
        timeline.purchaser == purchaser
            && timeline.line.as_deref() == Some(line)
            && timeline
                .milestones
                .notification
                .is_some_and(|milestone| match milestone.precision {
                    Precision::Day => (milestone.date - notified).get_days().abs().le(&MATCH_DAYS),
                    Precision::Month => {
                        (milestone.date.year(), milestone.date.month())
                            == (notified.year(), notified.month())
                    }
                    Precision::Year => milestone.date.year() == notified.year(),
                })
    });
    let first = matches.next()?;
    matches.next().is_none().then_some(first)
}

/// Builds the demo's portfolio: the notifications to European allies in the template's
/// window, announced by `as_of`, whose item maps to a catalog line with a stated quantity and
/// a published rate. A notification that matches a real timeline ([`matching_timeline`])
/// takes the timeline's milestones up to `as_of` as facts; a stage the facts do not reach is
/// assumed from the template's rule and marked so. The catalog is used as shipped (today's
/// knowledge); a back-test uses [`known_cases_scenario`], which takes the catalog as known on
/// its date.
///
/// # Errors
/// [`PortfolioError::Template`] for a template value that does not fit the catalog (an
/// unknown line id); [`PortfolioError::NoCases`] when no notification becomes a case;
/// [`PortfolioError::Scenario`] if the forecast refuses the mapped scenario.
pub fn build_demo(
    template: &Template,
    catalog: &Catalog,
    notifications: &[Notification],
    timelines: &[Timeline],
    as_of: Date,
) -> Result<DemoPortfolio, PortfolioError> {
    check_as_of(as_of)?;
    template.check_lines(catalog)?;
    let (cases, left_out) = select_cases(template, catalog, notifications, timelines, as_of)?;
    if cases.is_empty() {
        return Err(PortfolioError::NoCases { as_of });
    }
    let line_ids: Vec<&str> = cases.iter().map(|case| case.line.as_str()).collect();
    let lines = portfolio_lines(template, catalog, &line_ids, as_of)?;
    let rate_increases = if template.expedite.announced_rate_increases {
        lines
            .iter()
            .filter_map(|line| catalog.line(&line.id))
            .flat_map(rate_increases)
            .collect()
    } else {
        Vec::new()
    };
    let raw_cases = cases
        .iter()
        .map(|case| demo_raw_case(template, case))
        .collect();
    let mut raw = raw_scenario(template, catalog, as_of, &lines, raw_cases);
    raw.policies = vec![expedite_policy(template, &cases, &rate_increases)];
    let scenario = validated(&raw)?;
    Ok(DemoPortfolio {
        as_of,
        cases,
        left_out,
        lines,
        rate_increases,
        raw,
        scenario,
    })
}

/// "Today" must lie in the calendar a template may name, so that every result is a real date.
fn check_as_of(as_of: Date) -> Result<(), PortfolioError> {
    if (EARLIEST_TEMPLATE_DATE..=LATEST_TEMPLATE_DATE).contains(&as_of) {
        Ok(())
    } else {
        Err(PortfolioError::AsOf {
            as_of,
            earliest: EARLIEST_TEMPLATE_DATE,
            latest: LATEST_TEMPLATE_DATE,
        })
    }
}

/// The scenario validated by the forecast's own checks (so that the file a user would write
/// and the portfolio's scenario are checked alike).
fn validated(raw: &RawScenario) -> Result<Scenario, PortfolioError> {
    Ok(Scenario::from_raw(raw.clone())?)
}

/// The cases and the notifications left out.
fn select_cases(
    template: &Template,
    catalog: &Catalog,
    notifications: &[Notification],
    timelines: &[Timeline],
    as_of: Date,
) -> Result<(Vec<DemoCase>, Vec<LeftOut>), PortfolioError> {
    let excluded = countries(&template.portfolio.exclude);
    let eastern = countries(&template.expedite.eastern_flank);
    let mut cases = Vec::new();
    let mut left_out = Vec::new();
    for notification in notifications {
        let Some(date) = notification.date else {
            continue;
        };
        let european = notification.country.is_nato_member_on(date)
            && !excluded.contains(&notification.country);
        if !european || date < template.portfolio.from || date > template.portfolio.to {
            continue;
        }
        let leave = |reason| LeftOut {
            purchaser: notification.country.iso3(),
            date: Some(date),
            item: notification.item.clone(),
            reason,
        };
        if date > as_of {
            left_out.push(leave("notified after the as-of date"));
            continue;
        }
        let Some(mapped) = catalog.map(notification) else {
            left_out.push(leave("no catalog line for this item"));
            continue;
        };
        let (Some(units), Some(value)) = (mapped.units, notification.value_usd) else {
            left_out.push(leave("no quantity or value stated"));
            continue;
        };
        if units == 0 {
            left_out.push(leave("a stated quantity of zero"));
            continue;
        }
        if catalog
            .line(&mapped.line)
            .is_none_or(|line| line.base_rates().is_empty() && line.lead_time.is_none())
        {
            left_out.push(leave(
                "the catalog publishes no current production rate for this line",
            ));
            continue;
        }
        if !template.lines.contains_key(&mapped.line) {
            left_out.push(leave("the template has no assumptions for this line"));
            continue;
        }
        let timeline = matching_timeline(timelines, notification.country, &mapped.line, date);
        let mut facts = timeline
            .map(|timeline| facts_on(timeline, as_of))
            .unwrap_or_default();
        facts.planned_deliveries = catalog
            .line(&mapped.line)
            .and_then(|line| planned_deliveries(line, notification.country, units, as_of));
        let (stage, since, stage_provenance) = stage_on(template, date, &facts, as_of)?;
        cases.push(DemoCase {
            id: format!("{}-{date}-{}", notification.country.iso3(), mapped.line),
            purchaser: notification.country.iso3(),
            notified: date,
            item: notification.item.clone(),
            line: mapped.line,
            units,
            unit_usd: Usd::from_cents(value.cents() / u64::from(units)),
            stage,
            since,
            stage_provenance,
            facts,
            eastern_flank: eastern.contains(&notification.country),
        });
    }
    Ok((cases, left_out))
}

/// The delivery window of the catalog's order that is this sale: the same purchaser (the
/// order's customer starts with its ISO3 code) and the same units, stated by `as_of`.
fn planned_deliveries(
    line: &CatalogLine,
    purchaser: Country,
    units: u32,
    as_of: Date,
) -> Option<PlannedDeliveries> {
    line.orders
        .iter()
        .filter(|order| order.stated <= as_of)
        .find(|order| order.customer.starts_with(purchaser.iso3()) && order.units == Some(units))
        .map(|order| PlannedDeliveries {
            from: order.deliveries_from,
            to: order.deliveries_to,
            as_published: order.as_published.clone(),
        })
}

/// A timeline's milestones known on `as_of` (dated on or before it).
fn facts_on(timeline: &Timeline, as_of: Date) -> CaseFacts {
    let known = |milestone: Option<expedite_data::timelines::Milestone>| {
        milestone.map(|m| m.date).filter(|date| *date <= as_of)
    };
    let milestones = &timeline.milestones;
    let promise = promise_known_on(timeline, as_of);
    CaseFacts {
        timeline: Some(timeline.id.clone()),
        loa: known(milestones.loa),
        contract: known(milestones.production_contract),
        first_delivery: known(milestones.first_delivery),
        final_delivery: known(milestones.final_delivery),
        promised_first_delivery: promise.map(|promise| promise.first_delivery),
        promise_stated: promise.map(|promise| promise.stated.clone()),
        planned_deliveries: None,
    }
}

/// The timeline's promised first delivery, if it was public on `as_of` (see
/// [`CaseFacts::promised_first_delivery`]).
fn promise_known_on(timeline: &Timeline, as_of: Date) -> Option<&Promise> {
    let promise = timeline.promise.as_ref()?;
    let public_from = match promise.made {
        Some(made) => made.date,
        None => expedite_data::timelines::OBSERVED.parse().ok()?,
    };
    (public_from <= as_of).then_some(promise)
}

/// The stage on `as_of`: the latest fact, unless the template's rule puts the case further
/// along, in which case the rule's stage is assumed (from no earlier than the latest fact).
fn stage_on(
    template: &Template,
    notified: Date,
    facts: &CaseFacts,
    as_of: Date,
) -> Result<(Stage, Date, Provenance), PortfolioError> {
    let fact = [
        (Stage::Delivered, facts.final_delivery),
        (Stage::Delivering, facts.first_delivery),
        (Stage::OnContract, facts.contract),
        (Stage::Implemented, facts.loa),
    ]
    .into_iter()
    .find_map(|(stage, date)| date.map(|date| (stage, date)));
    let (rule_stage, rule_since) = template.stage_on(notified, as_of)?;
    Ok(match fact {
        Some((stage, date)) if stage.forward_position() >= rule_stage.forward_position() => {
            (stage, date, Provenance::Fact)
        }
        Some((_, date)) => (rule_stage, rule_since.max(date), Provenance::Assumed),
        None => (rule_stage, rule_since, Provenance::Assumed),
    })
}

/// The template's country lists (checked when the template was read).
fn countries(codes: &[String]) -> Vec<Country> {
    codes
        .iter()
        .filter_map(|code| Country::parse(code).ok())
        .collect()
}

/// The lines with these ids (each once, in id order): the catalog's base rates, its stated
/// backlog where one holds on or before `start` (else the template's), the template's build
/// time.
fn portfolio_lines(
    template: &Template,
    catalog: &Catalog,
    ids: &[&str],
    start: Date,
) -> Result<Vec<DemoLine>, PortfolioError> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    ids.into_iter()
        .map(|id| {
            let field = format!("lines.{id}");
            let line = catalog
                .line(id)
                .ok_or_else(|| template.error(&field, "not in the catalog"))?;
            let assumption = template
                .lines
                .get(id)
                .ok_or_else(|| template.error(&field, "the template has no assumptions for it"))?;
            let base_rate = base_schedule(line);
            if base_rate.is_empty() {
                let Some(lead) = &line.lead_time else {
                    return Err(PortfolioError::Case {
                        case: id.to_owned(),
                        field: "line".to_owned(),
                        problem: "the catalog has no rate for this line on this date".to_owned(),
                    });
                };
                return Ok(DemoLine {
                    id: id.to_owned(),
                    system: line.system.clone(),
                    base_rate: Vec::new(),
                    backlog: LineBacklog {
                        units: 0,
                        as_of: start,
                        includes_cases: false,
                        provenance: Provenance::Assumed,
                        basis: "no unit rate published: no queue is modelled".to_owned(),
                    },
                    lead_time_days: ((lead.months_min + lead.months_max) / 2.0 * DAYS_PER_MONTH)
                        .round(),
                    lead_time_only: true,
                });
            }
            let stated = line.backlog_on(start);
            let backlog = match stated.filter(|_| !template.backlogs_held_by_the_delay) {
                Some(stated) => LineBacklog {
                    units: stated.units,
                    as_of: stated.as_of,
                    includes_cases: stated.all_customers,
                    provenance: Provenance::Fact,
                    basis: format!("{} [{}]", stated.as_published, stated.sources.join("][")),
                },
                None => {
                    // With no backlog the book opens when the line first builds, so a case
                    // is served from its own order date whatever the forecast start.
                    let opens = match base_rate.first() {
                        Some(first) if assumption.backlog_years == 0.0 => first.0,
                        _ => template.backlog_as_of,
                    };
                    let as_of = opens.min(start);
                    LineBacklog {
                        units: (rate_at(&base_rate, as_of) * assumption.backlog_years).round()
                            as u32,
                        as_of,
                        includes_cases: false,
                        provenance: Provenance::Assumed,
                        basis: match stated {
                            _ if assumption.backlog_years > 0.0 => format!(
                                "{} years of the base rate on {as_of}",
                                assumption.backlog_years
                            ),
                            Some(stated) => format!(
                                "none queued; stated: {} on {} [{}]",
                                stated.units,
                                stated.as_of,
                                stated.sources.join("][")
                            ),
                            None => "none".to_owned(),
                        },
                    }
                }
            };
            Ok(DemoLine {
                id: id.to_owned(),
                system: line.system.clone(),
                base_rate: base_rate.iter().map(|step| (step.0, step.1)).collect(),
                backlog,
                lead_time_days: assumption.lead_time_days,
                lead_time_only: false,
            })
        })
        .collect()
}

/// A rate that never queues anything, for a line known only by its lead time: a thousand
/// units a day.
const UNCONSTRAINED_PER_YEAR: f64 = 365_000.0;

/// The catalog's base steps, one per date (the later entry wins on a shared date), with the
/// day each was stated.
pub fn base_schedule(line: &CatalogLine) -> Vec<(Date, f64, Date)> {
    let mut steps: Vec<(Date, f64, Date)> = Vec::new();
    for step in line.base_rates() {
        match steps.last_mut() {
            Some(last) if last.0 == step.from => {
                last.1 = step.units_per_year;
                last.2 = last.2.max(step.stated);
            }
            _ => steps.push((step.from, step.units_per_year, step.stated)),
        }
    }
    steps
}

/// The base rate on a date; before the first step, the first step's rate.
pub fn rate_at(schedule: &[(Date, f64, Date)], date: Date) -> f64 {
    schedule
        .iter()
        .rev()
        .find(|(from, _, _)| *from <= date)
        .or(schedule.first())
        .map_or(0.0, |&(_, rate, _)| rate)
}

/// The policy's multipliers that lift a line to each announced target from its date: the
/// forecast multiplies them together, so each is the target's factor over the previous one.
fn rate_increases(line: &CatalogLine) -> Vec<RateIncrease> {
    let schedule = base_schedule(line);
    let mut applied = 1.0;
    let mut increases = Vec::new();
    for target in line.targets() {
        let base = rate_at(&schedule, target.from);
        let factor = target.units_per_year / base;
        if base <= 0.0 || factor <= applied {
            continue;
        }
        increases.push(increase(line, target, factor / applied));
        applied = factor;
    }
    increases
}

fn increase(line: &CatalogLine, target: &CatalogStep, multiplier: f64) -> RateIncrease {
    RateIncrease {
        line: line.id.clone(),
        from: target.from,
        multiplier: (multiplier * 10_000.0).round() / 10_000.0,
        to_units_per_year: target.units_per_year,
        as_published: target.as_published.clone(),
        sources: target.sources.clone(),
    }
}

fn raw_date(date: Date) -> RawDate {
    RawDate(date.to_string())
}

/// A demo case as the forecast reads it: its stage (fact or assumed), and its facts as
/// milestones, so that what has happened is not drawn again.
fn demo_raw_case(template: &Template, case: &DemoCase) -> RawCase {
    let facts = &case.facts;
    let deliveries = facts
        .final_delivery
        .map(|date| RawDelivery {
            date: raw_date(date),
            units: i64::from(case.units),
            line: None,
        })
        .into_iter()
        .collect();
    RawCase {
        id: case.id.clone(),
        purchaser: case.purchaser.to_owned(),
        channel: None,
        stage: Some(case.stage.as_str().to_owned()),
        since: Some(raw_date(case.since)),
        tier: Some(i64::from(template.portfolio.base_tier)),
        // Every buyer draws the first-delivery delay, a repeat buyer of the line too: on the
        // deals of SIPRI's register, repeat buyers forecast without it came out late 41 times
        // in 45 (docs/backtest.md, "Repeat buyers wait too").
        new_configuration: None,
        milestones: Some(RawMilestones {
            request: None,
            notification: Some(raw_date(case.notified)),
            loa: facts.loa.map(raw_date),
            contract: facts.contract.map(raw_date),
            deliveries,
        }),
        promised_first_delivery: facts.promised_first_delivery.map(raw_date),
        lines: vec![RawCaseLine {
            line: case.line.clone(),
            quantity: i64::from(case.units),
            unit_usd: case.unit_usd,
            mde: true,
            category: None,
        }],
    }
}

fn expedite_policy(
    template: &Template,
    cases: &[DemoCase],
    increases: &[RateIncrease],
) -> RawPolicy {
    let mut eastern: Vec<String> = cases
        .iter()
        .filter(|case| case.eastern_flank)
        .map(|case| case.purchaser.to_owned())
        .collect();
    eastern.sort_unstable();
    eastern.dedup();
    RawPolicy {
        name: template.expedite.name.clone(),
        stage_scale: template.expedite.stage_scale.clone(),
        rate: increases
            .iter()
            .map(|increase| RawRateChange {
                line: increase.line.clone(),
                from: raw_date(increase.from),
                multiplier: increase.multiplier,
            })
            .collect(),
        tier: if eastern.is_empty() {
            Vec::new()
        } else {
            vec![RawTierChange {
                purchasers: eastern,
                tier: i64::from(template.expedite.eastern_flank_tier),
            }]
        },
    }
}

/// The scenario around the cases: the template's channels and uncertainty, the lines with
/// their backlogs and dated rate steps (each with the day it was announced).
fn raw_scenario(
    template: &Template,
    catalog: &Catalog,
    start: Date,
    lines: &[DemoLine],
    cases: Vec<RawCase>,
) -> RawScenario {
    RawScenario {
        name: template.name.clone(),
        start: raw_date(start),
        trials: Some(i64::from(template.trials)),
        seed: i64::try_from(template.seed).ok(),
        target: None,
        channels: template.channels.clone(),
        lines: lines
            .iter()
            .map(|line| raw_line(template, catalog, line))
            .collect(),
        cases,
        policies: Vec::new(),
    }
}

fn raw_line(template: &Template, catalog: &Catalog, line: &DemoLine) -> RawLine {
    if line.lead_time_only {
        return RawLine {
            id: line.id.clone(),
            name: line.system.clone(),
            lead_time_days: line.lead_time_days,
            rate: vec![RawRateStep {
                from: raw_date(jiff::civil::date(1950, 1, 1)),
                per_year: UNCONSTRAINED_PER_YEAR,
                announced: None,
            }],
            ..RawLine::default()
        };
    }
    let announced: Vec<(Date, f64, Date)> = catalog
        .line(&line.id)
        .map(base_schedule)
        .unwrap_or_default();
    let assumption = template.lines.get(&line.id);
    RawLine {
        id: line.id.clone(),
        name: line.system.clone(),
        backlog: RawBacklog::Dated(RawDatedBacklog {
            units: i64::from(line.backlog.units),
            as_of: raw_date(line.backlog.as_of),
            includes_cases: line.backlog.includes_cases,
            // The other customers' orders in a backlog that holds the cases compete with
            // them at the cases' tier, so that each case queues among them by date.
            tier: line
                .backlog
                .includes_cases
                .then(|| i64::from(template.portfolio.base_tier)),
        }),
        orders: Vec::new(),
        lead_time_days: line.lead_time_days,
        rate: announced
            .iter()
            .map(|&(from, per_year, stated)| RawRateStep {
                from: raw_date(from),
                per_year,
                announced: Some(raw_date(stated)),
            })
            .collect(),
        rate_multiplier: Some(template.uncertainty.rate_multiplier.clone()),
        ramp_slip: Some(template.uncertainty.ramp_slip.clone()),
        first_delivery_delay: assumption.and_then(|own| own.first_delivery_delay.clone()),
        delivery_span: assumption.and_then(|own| own.delivery_span.clone()),
        delivery_span_scale: assumption.and_then(|own| own.delivery_span_scale),
    }
}

/// What is known of a real case on a date: its milestones and deliveries so far. Facts dated
/// after the scenario's start are dropped by [`known_cases_scenario`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownMilestones {
    /// Letter of Request.
    pub request: Option<Date>,
    /// DSCA notification.
    pub notification: Option<Date>,
    /// LOA signed.
    pub loa: Option<Date>,
    /// Production contract.
    pub contract: Option<Date>,
    /// Deliveries so far: day and units.
    pub deliveries: Vec<(Date, u32)>,
}

/// A real case to forecast on a catalog line (the back-test's and the service's input).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownCase {
    /// Its id.
    pub id: String,
    /// The purchaser.
    pub purchaser: Country,
    /// FMS, DCS or government to government.
    pub channel: expedite_core::Channel,
    /// The catalog line that builds it.
    pub line: String,
    /// Units bought.
    pub units: u32,
    /// Value of one unit.
    pub unit_usd: Usd,
    /// Priority tier (the template's `portfolio.base_tier` when `None`).
    pub tier: Option<u32>,
    /// Whether the first-delivery delay of a new buyer or configuration applies.
    pub new_configuration: bool,
    /// Its dated facts.
    pub milestones: KnownMilestones,
}

/// A scenario for given real cases, as it could have been written on `as_of`.
#[derive(Debug, Clone)]
pub struct KnownScenario {
    /// The lines the cases use, as the scenario runs them.
    pub lines: Vec<DemoLine>,
    /// The scenario as it would be written to a file (no policies).
    pub raw: RawScenario,
    /// The same, validated by the forecast.
    pub scenario: Scenario,
}

/// Builds a scenario of one or more real cases with their known milestones, on the catalog's
/// lines as they were known on `as_of` ([`Catalog::as_known_on`]: rate steps, backlogs and
/// orders stated after `as_of` are not used), with the template's durations, uncertainty,
/// build times and assumed backlogs. Milestones dated after `as_of` are dropped; each case's
/// stage is the one its latest milestone implies (the forecast draws everything after it).
/// This is what the back-test forecasts "as of the day after notification / LOA", and what
/// the service forecasts for stored cases.
///
/// # Errors
/// [`PortfolioError::Case`] for a case with no milestone known on `as_of`, or on a line the
/// catalog (as known then) has no rate or lead time for; [`PortfolioError::Template`] for a
/// line the template has no assumptions for; [`PortfolioError::Scenario`] if the forecast
/// refuses a case (its path names the case's index).
pub fn known_cases_scenario(
    template: &Template,
    catalog: &Catalog,
    cases: &[KnownCase],
    as_of: Date,
) -> Result<KnownScenario, PortfolioError> {
    check_as_of(as_of)?;
    let known_catalog = catalog.as_known_on(as_of);
    let mut raw_cases = Vec::with_capacity(cases.len());
    for case in cases {
        let problem = |field: &str, problem: String| PortfolioError::Case {
            case: case.id.clone(),
            field: field.to_owned(),
            problem,
        };
        let line = known_catalog
            .line(&case.line)
            .ok_or_else(|| problem("line", format!("'{}' is not in the catalog", case.line)))?;
        if line.base_rates().is_empty() && line.lead_time.is_none() {
            return Err(problem(
                "line",
                format!(
                    "the catalog had published no rate for '{}' by {as_of}",
                    case.line
                ),
            ));
        }
        let known = |date: Option<Date>| date.filter(|date| *date <= as_of);
        let milestones = &case.milestones;
        let raw = RawMilestones {
            request: known(milestones.request).map(raw_date),
            notification: known(milestones.notification).map(raw_date),
            loa: known(milestones.loa).map(raw_date),
            contract: known(milestones.contract).map(raw_date),
            deliveries: milestones
                .deliveries
                .iter()
                .filter(|(date, _)| *date <= as_of)
                .map(|&(date, units)| RawDelivery {
                    date: raw_date(date),
                    units: i64::from(units),
                    line: None,
                })
                .collect(),
        };
        if raw.request.is_none()
            && raw.notification.is_none()
            && raw.loa.is_none()
            && raw.contract.is_none()
            && raw.deliveries.is_empty()
        {
            return Err(problem(
                "milestones",
                format!("no milestone is known on {as_of}: nothing places the case"),
            ));
        }
        raw_cases.push(RawCase {
            id: case.id.clone(),
            purchaser: case.purchaser.iso3().to_owned(),
            channel: Some(case.channel.as_str().to_owned()),
            stage: None,
            since: None,
            tier: Some(i64::from(case.tier.unwrap_or(template.portfolio.base_tier))),
            new_configuration: Some(case.new_configuration),
            milestones: Some(raw),
            promised_first_delivery: None,
            lines: vec![RawCaseLine {
                line: case.line.clone(),
                quantity: i64::from(case.units),
                unit_usd: case.unit_usd,
                mde: true,
                category: None,
            }],
        });
    }
    let line_ids: Vec<&str> = cases.iter().map(|case| case.line.as_str()).collect();
    let lines = portfolio_lines(template, &known_catalog, &line_ids, as_of)?;
    let raw = raw_scenario(template, &known_catalog, as_of, &lines, raw_cases);
    let scenario = validated(&raw)?;
    Ok(KnownScenario {
        lines,
        raw,
        scenario,
    })
}

/// One case's forecast under the base and the expedite policy.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    /// The case.
    #[serde(flatten)]
    pub case: DemoCase,
    /// Final delivery, base run.
    pub base: Percentiles,
    /// Final delivery under the expedite policy.
    pub expedite: Percentiles,
    /// Contract, first and final delivery of the base run.
    pub base_forecast: CaseForecast,
    /// Policy P50 minus base P50 of final delivery, in days (negative = earlier under the
    /// policy), the sign `expedite forecast` uses.
    pub shift_p50_days: i64,
}

/// The demo's forecast.
#[derive(Debug, Clone, Serialize)]
pub struct DemoOutcome {
    /// Trials run.
    pub trials: u32,
    /// Seed used.
    pub seed: u64,
    /// One result per case, in the portfolio's order.
    pub cases: Vec<CaseResult>,
}

/// Runs the portfolio's scenario (base and expedite policy, same random numbers) and pairs
/// each case's forecasts.
///
/// # Errors
/// [`PortfolioError::Run`] if the forecast cannot start; [`PortfolioError::EndOfCalendar`]
/// for a forecast date pushed to the calendar's end (never printed as a result).
pub fn run_demo(
    portfolio: &DemoPortfolio,
    policy: &str,
    options: &RunOptions<'_>,
) -> Result<DemoOutcome, PortfolioError> {
    let report = expedite_forecast::run(&portfolio.scenario, options)?;
    let cases = results(&report, &portfolio.cases, policy)?;
    Ok(DemoOutcome {
        trials: report.trials,
        seed: report.seed,
        cases,
    })
}

fn results(
    report: &Report,
    cases: &[DemoCase],
    policy: &str,
) -> Result<Vec<CaseResult>, PortfolioError> {
    let missing = |case: &str, what: &'static str| PortfolioError::Case {
        case: case.to_owned(),
        field: what.to_owned(),
        problem: "the forecast has no result for it".to_owned(),
    };
    let run_named = |name: &str| report.runs.iter().find(|run| run.policy == name);
    let base = run_named("base").ok_or_else(|| missing("*", "base run"))?;
    let expedite = run_named(policy).ok_or_else(|| missing("*", "policy run"))?;
    let find =
        |forecasts: &[CaseForecast], id: &str| forecasts.iter().find(|f| f.id == id).cloned();
    cases
        .iter()
        .map(|case| {
            let base = find(&base.cases, &case.id).ok_or_else(|| missing(&case.id, "base"))?;
            let policy =
                find(&expedite.cases, &case.id).ok_or_else(|| missing(&case.id, "policy"))?;
            for (what, dates) in [
                ("contract", base.contract),
                ("first delivery", base.first_delivery),
                ("final delivery", base.final_delivery),
                ("final delivery under the policy", policy.final_delivery),
            ] {
                // The calendar ends in 9999: a date in that year is a saturated result.
                if dates.p90.year() >= Date::MAX.year() || dates.p10.year() >= Date::MAX.year() {
                    return Err(PortfolioError::EndOfCalendar {
                        case: case.id.clone(),
                        what,
                    });
                }
            }
            Ok(CaseResult {
                case: case.clone(),
                base: base.final_delivery,
                expedite: policy.final_delivery,
                shift_p50_days: i64::from(
                    (policy.final_delivery.p50 - base.final_delivery.p50).get_days(),
                ),
                base_forecast: base,
            })
        })
        .collect()
}
