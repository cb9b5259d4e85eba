//! The demo's portfolio: the DSCA notifications of sales to European allies in the
//! template's window become cases on the catalog's production lines; each case's stage on
//! the as-of date is inferred from the template's rule; the lines take the catalog's base
//! rates with the template's backlog and build time; the expedite policy is built from the
//! template and the catalog's announced targets. [`build_demo`] does all that and maps it to a
//! forecast [`RawScenario`]; [`run_demo`] runs it and pairs each case's base and policy
//! forecasts.
//!
//! Every value is either a fact (from the data, with where it came from) or an assumption
//! of the template, and the types say which ([`Provenance`]).

use expedite_core::{Country, Date, Stage, Usd};
use expedite_data::capacity::{Catalog, Line as CatalogLine, RateStep as CatalogStep};
use expedite_data::dsca::Notification;
use expedite_forecast::scenario::{
    RawCase, RawCaseLine, RawLine, RawPolicy, RawRateChange, RawRateStep, RawScenario,
    RawTierChange,
};
use expedite_forecast::{CaseForecast, Percentiles, Report, RunOptions, Scenario};
use serde::Serialize;

use crate::PortfolioError;
use crate::template::Template;

/// Whether a value is a fact from the data or an assumption of the template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Provenance {
    /// From the data (a notification, a real timeline, the catalog's cited figures).
    Fact,
    /// From the template (or a rule of this crate the template parameterises).
    Assumed,
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
    /// Whether the stage and its date are facts or inferred from the days since notification.
    pub stage_provenance: Provenance,
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

/// A line as the demo runs it.
#[derive(Debug, Clone, Serialize)]
pub struct DemoLine {
    /// The catalog id.
    pub id: String,
    /// What it builds.
    pub system: String,
    /// The catalog's base rate steps (units a year from a date; facts).
    pub base_rate: Vec<(Date, f64)>,
    /// Units queued ahead of the demo's cases.
    pub backlog_units: u32,
    /// The same in years of the base rate (the template's assumption).
    pub backlog_years: f64,
    /// Where the backlog comes from.
    pub backlog_provenance: Provenance,
    /// Days from a unit's release to its completion (the template's assumption).
    pub lead_time_days: f64,
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

/// Builds the demo's portfolio: the notifications to European allies in the template's
/// window, announced by `as_of`, whose item maps to a catalog line with a stated quantity.
///
/// # Errors
/// [`PortfolioError::Template`] for a template value that does not fit the catalog (an
/// unknown line id); [`PortfolioError::NoCases`] when no notification becomes a case;
/// [`PortfolioError::Scenario`] if the forecast refuses the mapped scenario.
pub fn build_demo(
    template: &Template,
    catalog: &Catalog,
    notifications: &[Notification],
    as_of: Date,
) -> Result<DemoPortfolio, PortfolioError> {
    template.check_lines(catalog)?;
    let (cases, left_out) = select_cases(template, catalog, notifications, as_of)?;
    if cases.is_empty() {
        return Err(PortfolioError::NoCases { as_of });
    }
    let lines = demo_lines(template, catalog, &cases, as_of)?;
    let rate_increases = if template.expedite.announced_rate_increases {
        lines
            .iter()
            .filter_map(|line| catalog.line(&line.id))
            .flat_map(rate_increases)
            .collect()
    } else {
        Vec::new()
    };
    let raw = raw_scenario(template, as_of, &cases, &lines, &rate_increases);
    let text = toml::to_string(&raw).map_err(|error| {
        PortfolioError::Scenario(expedite_forecast::ScenarioError::Syntax {
            path: ".".to_owned(),
            message: error.to_string(),
        })
    })?;
    let scenario = Scenario::from_toml_str(&text)?;
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

/// The cases and the notifications left out.
fn select_cases(
    template: &Template,
    catalog: &Catalog,
    notifications: &[Notification],
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
            .is_none_or(|line| line.base_rates().is_empty())
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
        let (stage, since) = template.stage_on(date, as_of)?;
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
            stage_provenance: Provenance::Assumed,
            eastern_flank: eastern.contains(&notification.country),
        });
    }
    Ok((cases, left_out))
}

/// The template's country lists (checked when the template was read).
fn countries(codes: &[String]) -> Vec<Country> {
    codes
        .iter()
        .filter_map(|code| Country::parse(code).ok())
        .collect()
}

/// The lines the cases use, with the base rates of the catalog and the template's backlog and
/// build time.
fn demo_lines(
    template: &Template,
    catalog: &Catalog,
    cases: &[DemoCase],
    as_of: Date,
) -> Result<Vec<DemoLine>, PortfolioError> {
    let mut ids: Vec<&str> = cases.iter().map(|case| case.line.as_str()).collect();
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
                .ok_or_else(|| template.error(&field, "missing"))?;
            let base_rate = base_schedule(line);
            let rate_now = rate_at(&base_rate, as_of);
            Ok(DemoLine {
                id: id.to_owned(),
                system: line.system.clone(),
                backlog_units: (rate_now * assumption.backlog_years).round() as u32,
                backlog_years: assumption.backlog_years,
                backlog_provenance: Provenance::Assumed,
                lead_time_days: assumption.lead_time_days,
                base_rate,
            })
        })
        .collect()
}

/// The catalog's base steps, one per date (the later entry wins on a shared date).
pub fn base_schedule(line: &CatalogLine) -> Vec<(Date, f64)> {
    let mut steps: Vec<(Date, f64)> = Vec::new();
    for step in line.base_rates() {
        match steps.last_mut() {
            Some(last) if last.0 == step.from => last.1 = step.units_per_year,
            _ => steps.push((step.from, step.units_per_year)),
        }
    }
    steps
}

/// The base rate on a date; before the first step, the first step's rate.
pub fn rate_at(schedule: &[(Date, f64)], date: Date) -> f64 {
    schedule
        .iter()
        .rev()
        .find(|(from, _)| *from <= date)
        .or(schedule.first())
        .map_or(0.0, |&(_, rate)| rate)
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

fn raw_scenario(
    template: &Template,
    as_of: Date,
    cases: &[DemoCase],
    lines: &[DemoLine],
    increases: &[RateIncrease],
) -> RawScenario {
    let mut eastern: Vec<String> = cases
        .iter()
        .filter(|case| case.eastern_flank)
        .map(|case| case.purchaser.to_owned())
        .collect();
    eastern.sort_unstable();
    eastern.dedup();
    let policy = RawPolicy {
        name: template.expedite.name.clone(),
        stage_scale: template.expedite.stage_scale.clone(),
        rate: increases
            .iter()
            .map(|increase| RawRateChange {
                line: increase.line.clone(),
                from: increase.from.to_string().as_str().into(),
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
    };
    RawScenario {
        name: template.name.clone(),
        start: as_of.to_string().as_str().into(),
        trials: Some(i64::from(template.trials)),
        seed: i64::try_from(template.seed).ok(),
        target: None,
        channels: template.channels.clone(),
        lines: lines
            .iter()
            .map(|line| RawLine {
                id: line.id.clone(),
                name: line.system.clone(),
                backlog: i64::from(line.backlog_units),
                lead_time_days: line.lead_time_days,
                rate: line
                    .base_rate
                    .iter()
                    .map(|&(from, per_year)| RawRateStep {
                        from: from.to_string().as_str().into(),
                        per_year,
                    })
                    .collect(),
            })
            .collect(),
        cases: cases
            .iter()
            .map(|case| RawCase {
                id: case.id.clone(),
                purchaser: case.purchaser.to_owned(),
                channel: None,
                stage: case.stage.as_str().to_owned(),
                since: case.since.to_string().as_str().into(),
                tier: Some(i64::from(template.portfolio.base_tier)),
                lines: vec![RawCaseLine {
                    line: case.line.clone(),
                    quantity: i64::from(case.units),
                    unit_usd: case.unit_usd,
                    mde: true,
                    category: None,
                }],
            })
            .collect(),
        policies: vec![policy],
    }
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
                if dates.p90 >= Date::MAX || dates.p10 >= Date::MAX {
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
