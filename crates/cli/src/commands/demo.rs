//! `expedite demo`: the main job on the embedded data. Builds a forecast scenario from the
//! DSCA notifications of sales to European allies (2022–2025) on the production lines of the
//! capacity catalog, runs the base and an "expedite" policy on the same random numbers, and
//! prints P10/P50/P90 of final delivery per case and the shift the policy buys. Every
//! assumption comes from the scenario template (`expedite demo --print-template`) and is
//! printed with the results. No network, no database, no user files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use clap::Args;
use expedite_core::{Country, Date, Usd};
use expedite_data::capacity::{Catalog, Line as CatalogLine, RateStep as CatalogStep};
use expedite_data::dsca::{self, Notification};
use expedite_forecast::scenario::{
    RawCase, RawCaseLine, RawDist, RawLine, RawPolicy, RawRateChange, RawRateStep, RawScenario,
    RawTierChange,
};
use expedite_forecast::{CaseForecast, Percentiles, Report, RunOptions, Scenario};
use serde::{Deserialize, Serialize};

use crate::output::print_csv;
use crate::output::{self, Format};

/// Arguments of `demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The forecast's "today" (default: the template's `as_of`).
    #[arg(long, value_name = "DATE")]
    as_of: Option<Date>,
    /// Trials per run (default: the template's).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    trials: Option<u32>,
    /// Also write an SVG chart of final delivery, base and expedite, per case.
    #[arg(long, value_name = "FILE.svg")]
    chart: Option<PathBuf>,
    /// A changed copy of the scenario template instead of the shipped one.
    #[arg(long, value_name = "FILE.toml")]
    template: Option<PathBuf>,
    /// Print the shipped scenario template and stop.
    #[arg(long)]
    print_template: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// The scenario template (`crates/data/data/demo/scenario-template.toml`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Template {
    name: String,
    as_of: Date,
    trials: u32,
    seed: u64,
    portfolio: PortfolioRule,
    stage_by_days_since_notification: Vec<StageRule>,
    channels: BTreeMap<String, BTreeMap<String, RawDist>>,
    lines: BTreeMap<String, LineAssumption>,
    expedite: ExpediteRule,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct PortfolioRule {
    from: Date,
    to: Date,
    exclude: Vec<String>,
    base_tier: u32,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct StageRule {
    stage: String,
    from_days: i64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct LineAssumption {
    backlog_years: f64,
    lead_time_days: f64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct ExpediteRule {
    name: String,
    stage_scale: BTreeMap<String, f64>,
    eastern_flank: Vec<String>,
    eastern_flank_tier: u32,
    announced_rate_increases: bool,
}

/// One notification turned into a forecast case.
#[derive(Debug, Clone, Serialize)]
struct DemoCase {
    id: String,
    purchaser: &'static str,
    notified: Date,
    item: String,
    line: String,
    units: u32,
    /// Notified value ÷ units (the whole notified value is put on the mapped item).
    unit_usd: Usd,
    stage: String,
    since: Date,
    eastern_flank: bool,
}

/// A notification that did not become a case, and why.
#[derive(Debug, Clone, Serialize)]
struct LeftOut {
    purchaser: &'static str,
    date: Option<Date>,
    item: String,
    reason: &'static str,
}

/// A rate increase the expedite policy applies (from an announced target).
#[derive(Debug, Clone, Serialize)]
struct RateIncrease {
    line: String,
    from: Date,
    multiplier: f64,
    to_units_per_year: f64,
    as_published: String,
    sources: Vec<u32>,
}

/// A line as the demo runs it.
#[derive(Debug, Clone, Serialize)]
struct DemoLine {
    id: String,
    system: String,
    base_rate: Vec<(Date, f64)>,
    backlog_units: u32,
    backlog_years: f64,
    lead_time_days: f64,
}

/// Everything the demo assumed, for the output.
#[derive(Debug, Clone, Serialize)]
struct Assumptions {
    template: String,
    as_of: Date,
    trials: u32,
    seed: u64,
    stage_by_days_since_notification: Vec<StageRule>,
    channels: BTreeMap<String, BTreeMap<String, RawDist>>,
    base_tier: u32,
    lines: Vec<DemoLine>,
    expedite: ExpediteRule,
    rate_increases: Vec<RateIncrease>,
}

/// One case's result.
#[derive(Debug, Clone, Serialize)]
struct CaseResult {
    #[serde(flatten)]
    case: DemoCase,
    base: Percentiles,
    expedite: Percentiles,
    /// Days earlier at P50 under the expedite policy.
    shift_p50_days: i64,
}

#[derive(Debug, Serialize)]
struct DemoOutput {
    assumptions: Assumptions,
    cases: Vec<CaseResult>,
    left_out: Vec<LeftOut>,
}

/// Runs `demo`.
pub fn run(args: DemoArgs) -> anyhow::Result<()> {
    if args.print_template {
        return output::print_text(expedite_data::demo::SCENARIO_TEMPLATE.trim_end());
    }
    let (template_name, text) = match &args.template {
        Some(path) => (
            path.display().to_string(),
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?,
        ),
        None => (
            "shipped template".to_owned(),
            expedite_data::demo::SCENARIO_TEMPLATE.to_owned(),
        ),
    };
    let template: Template =
        toml::from_str(&text).with_context(|| format!("{template_name}: invalid template"))?;
    let as_of = args.as_of.unwrap_or(template.as_of);
    let catalog = Catalog::builtin().context("the shipped capacity catalog")?;
    let notifications = dsca::builtin().context("the shipped DSCA notifications")?;
    let (cases, left_out) = build_cases(&template, &catalog, &notifications, as_of)?;
    if cases.is_empty() {
        bail!(
            "no notification to a European ally before {as_of} maps to a catalog line with a quantity"
        );
    }
    let lines = demo_lines(&template, &catalog, &cases, as_of)?;
    let rate_increases = if template.expedite.announced_rate_increases {
        lines
            .iter()
            .filter_map(|line| catalog.line(&line.id))
            .flat_map(rate_increases)
            .collect()
    } else {
        Vec::new()
    };
    let raw = raw_scenario(&template, as_of, &cases, &lines, &rate_increases);
    let scenario_text = toml::to_string(&raw).context("cannot write the demo scenario")?;
    let scenario = Scenario::from_toml_str(&scenario_text)
        .map_err(|error| anyhow!("the demo scenario: {error}"))?;
    let options = RunOptions {
        trials: args.trials,
        ..RunOptions::default()
    };
    let report = expedite_forecast::run(&scenario, &options)?;
    let results = results(&report, &cases, &template.expedite.name)?;
    let assumptions = Assumptions {
        template: template_name,
        as_of,
        trials: report.trials,
        seed: report.seed,
        stage_by_days_since_notification: template.stage_by_days_since_notification.clone(),
        channels: template.channels.clone(),
        base_tier: template.portfolio.base_tier,
        lines,
        expedite: template.expedite.clone(),
        rate_increases,
    };
    let demo = DemoOutput {
        assumptions,
        cases: results,
        left_out,
    };
    if let Some(path) = &args.chart {
        draw_chart(&demo, path)
            .with_context(|| format!("cannot write the chart {}", path.display()))?;
    }
    match args.format {
        Format::Json => output::print_json(&demo),
        Format::Csv => print_csv(&CASE_COLUMNS, demo.cases.iter().map(case_cells).collect()),
        Format::Table => print_table(&demo, args.chart.as_deref()),
    }
}

/// The cases: notifications to European allies in the window, announced by the as-of date,
/// whose item maps to a catalog line with a stated quantity.
fn build_cases(
    template: &Template,
    catalog: &Catalog,
    notifications: &[Notification],
    as_of: Date,
) -> anyhow::Result<(Vec<DemoCase>, Vec<LeftOut>)> {
    let excluded = countries(&template.portfolio.exclude, "portfolio.exclude")?;
    let eastern = countries(&template.expedite.eastern_flank, "expedite.eastern_flank")?;
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
        if !template.lines.contains_key(&mapped.line) {
            left_out.push(leave("the template has no assumptions for this line"));
            continue;
        }
        let (stage, since) = stage_on(template, date, as_of)?;
        cases.push(DemoCase {
            id: format!("{}-{date}-{}", notification.country.iso3(), mapped.line),
            purchaser: notification.country.iso3(),
            notified: date,
            item: notification.item.clone(),
            line: mapped.line,
            units,
            unit_usd: Usd::from_cents(value.cents() / u64::from(units.max(1))),
            stage,
            since,
            eastern_flank: eastern.contains(&notification.country),
        });
    }
    Ok((cases, left_out))
}

fn countries(codes: &[String], field: &str) -> anyhow::Result<Vec<Country>> {
    codes
        .iter()
        .map(|code| Country::parse(code).with_context(|| format!("template {field}")))
        .collect()
}

/// The stage on the as-of date by the template's rule, and the day it was entered.
fn stage_on(template: &Template, notified: Date, as_of: Date) -> anyhow::Result<(String, Date)> {
    let age = i64::from((as_of - notified).get_days());
    let rule = template
        .stage_by_days_since_notification
        .iter()
        .filter(|rule| rule.from_days <= age)
        .max_by_key(|rule| rule.from_days)
        .context("template: no stage rule applies from day 0 after notification")?;
    let since = notified
        .checked_add(jiff::Span::new().days(rule.from_days))
        .context("template: stage rule date out of range")?;
    Ok((rule.stage.clone(), since))
}

/// The lines the cases use, with the base rates of the catalog and the template's backlog and
/// build time.
fn demo_lines(
    template: &Template,
    catalog: &Catalog,
    cases: &[DemoCase],
    as_of: Date,
) -> anyhow::Result<Vec<DemoLine>> {
    let mut ids: Vec<&str> = cases.iter().map(|case| case.line.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    ids.into_iter()
        .map(|id| {
            let line = catalog
                .line(id)
                .with_context(|| format!("catalog line '{id}'"))?;
            let assumption = template
                .lines
                .get(id)
                .with_context(|| format!("template: no [lines.{id}]"))?;
            let base_rate = base_schedule(line);
            let rate_now = rate_at(&base_rate, as_of);
            Ok(DemoLine {
                id: id.to_owned(),
                system: line.system.clone(),
                backlog_units: (rate_now * assumption.backlog_years).round() as u32,
                backlog_years: assumption.backlog_years,
                lead_time_days: assumption.lead_time_days,
                base_rate,
            })
        })
        .collect()
}

/// The catalog's base steps, one per date (the later entry wins on a shared date).
fn base_schedule(line: &CatalogLine) -> Vec<(Date, f64)> {
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
fn rate_at(schedule: &[(Date, f64)], date: Date) -> f64 {
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
    let eastern: Vec<String> = cases
        .iter()
        .filter(|case| case.eastern_flank)
        .map(|case| case.purchaser.to_owned())
        .collect();
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
                backlog: i64::from(line.backlog_units).into(),
                lead_time_days: line.lead_time_days,
                rate: line
                    .base_rate
                    .iter()
                    .map(|&(from, per_year)| RawRateStep {
                        from: from.to_string().as_str().into(),
                        per_year,
                        announced: None,
                    })
                    .collect(),
                ..RawLine::default()
            })
            .collect(),
        cases: cases
            .iter()
            .map(|case| RawCase {
                id: case.id.clone(),
                purchaser: case.purchaser.to_owned(),
                channel: None,
                stage: Some(case.stage.clone()),
                since: Some(case.since.to_string().as_str().into()),
                tier: Some(i64::from(template.portfolio.base_tier)),
                lines: vec![RawCaseLine {
                    line: case.line.clone(),
                    quantity: i64::from(case.units),
                    unit_usd: case.unit_usd,
                    mde: true,
                    category: None,
                }],
                ..RawCase::default()
            })
            .collect(),
        policies: vec![policy],
    }
}

fn results(report: &Report, cases: &[DemoCase], policy: &str) -> anyhow::Result<Vec<CaseResult>> {
    let base = report
        .runs
        .iter()
        .find(|run| run.policy == "base")
        .context("the base run")?;
    let expedite = report
        .runs
        .iter()
        .find(|run| run.policy == policy)
        .context("the expedite run")?;
    let by_id = |forecasts: &[CaseForecast], id: &str| {
        forecasts
            .iter()
            .find(|f| f.id == id)
            .map(|f| f.final_delivery)
    };
    cases
        .iter()
        .map(|case| {
            let base = by_id(&base.cases, &case.id).context("a base forecast per case")?;
            let expedite =
                by_id(&expedite.cases, &case.id).context("an expedite forecast per case")?;
            Ok(CaseResult {
                case: case.clone(),
                base,
                expedite,
                shift_p50_days: i64::from((base.p50 - expedite.p50).get_days()),
            })
        })
        .collect()
}

const CASE_COLUMNS: [&str; 13] = [
    "case",
    "purchaser",
    "item",
    "line",
    "units",
    "stage",
    "since",
    "base_p10",
    "base_p50",
    "base_p90",
    "expedite_p10",
    "expedite_p50",
    "expedite_p90",
];

fn case_cells(result: &CaseResult) -> Vec<String> {
    let case = &result.case;
    vec![
        case.id.clone(),
        case.purchaser.to_owned(),
        case.item.clone(),
        case.line.clone(),
        case.units.to_string(),
        case.stage.clone(),
        case.since.to_string(),
        result.base.p10.to_string(),
        result.base.p50.to_string(),
        result.base.p90.to_string(),
        result.expedite.p10.to_string(),
        result.expedite.p50.to_string(),
        result.expedite.p90.to_string(),
    ]
}

fn print_table(demo: &DemoOutput, chart: Option<&Path>) -> anyhow::Result<()> {
    let a = &demo.assumptions;
    let mut text = format!(
        "expedite demo: notified US sales to European allies on their production lines, as of {} \
         ({} trials, seed {}; assumptions from the {}).\n\n",
        a.as_of, a.trials, a.seed, a.template
    );
    text.push_str("ASSUMPTIONS (edit a copy: expedite demo --print-template > my.toml; expedite demo --template my.toml)\n");
    let rules: Vec<String> = a
        .stage_by_days_since_notification
        .iter()
        .map(|rule| format!("{} from day {}", rule.stage, rule.from_days))
        .collect();
    text.push_str(&format!(
        "- stage as of the date, by days since notification: {}\n",
        rules.join(", ")
    ));
    for (channel, stages) in &a.channels {
        for (stage, dist) in stages {
            text.push_str(&format!(
                "- {channel} {stage}: {} days\n",
                describe_dist(dist)
            ));
        }
    }
    text.push_str("- congressional review: per case from the AECA 36(b) rules\n");
    text.push_str("- each case is one notification on one line; its unit value is the notified value ÷ units (the whole ceiling put on the mapped item)\n");
    let mut lines = output::table(&[
        "line",
        "base rate (units/yr from date; catalog)",
        "backlog (assumed)",
        "build days (assumed)",
    ]);
    for line in &a.lines {
        let steps: Vec<String> = line
            .base_rate
            .iter()
            .map(|(from, rate)| format!("{rate} from {from}"))
            .collect();
        lines.add_row(vec![
            format!("{} ({})", line.id, line.system),
            steps.join("; "),
            format!(
                "{} units = {} years",
                line.backlog_units, line.backlog_years
            ),
            line.lead_time_days.to_string(),
        ]);
    }
    text.push_str(&format!("{lines}\n"));
    let scales: Vec<String> = a
        .expedite
        .stage_scale
        .iter()
        .map(|(stage, factor)| format!("{stage} ×{factor}"))
        .collect();
    text.push_str(&format!(
        "- policy '{}': stages {}; eastern flank ({}) to tier {} (others tier {})\n",
        a.expedite.name,
        scales.join(", "),
        a.expedite.eastern_flank.join(" "),
        a.expedite.eastern_flank_tier,
        a.base_tier
    ));
    for increase in &a.rate_increases {
        let sources: Vec<String> = increase.sources.iter().map(|n| format!("[{n}]")).collect();
        text.push_str(&format!(
            "- policy rate: {} ×{} from {} (to {}/yr: \"{}\" {})\n",
            increase.line,
            increase.multiplier,
            increase.from,
            increase.to_units_per_year,
            increase.as_published,
            sources.join("")
        ));
    }
    let mut table = output::table(&[
        "case",
        "item",
        "units",
        "stage (since)",
        "base P10 / P50 / P90",
        "expedite P10 / P50 / P90",
        "P50 shift",
    ]);
    for result in &demo.cases {
        let case = &result.case;
        table.add_row(vec![
            case.id.clone(),
            case.item.clone(),
            case.units.to_string(),
            format!("{} ({})", case.stage, case.since),
            format!(
                "{} / {} / {}",
                result.base.p10, result.base.p50, result.base.p90
            ),
            format!(
                "{} / {} / {}",
                result.expedite.p10, result.expedite.p50, result.expedite.p90
            ),
            describe_shift(result.shift_p50_days),
        ]);
    }
    text.push_str(&format!("\nFINAL DELIVERY PER CASE\n{table}\n"));
    if !demo.left_out.is_empty() {
        text.push_str(&format!(
            "{} notifications to European allies in the window were left out (no catalog line, no quantity, or later than the date); --format json lists them.\n",
            demo.left_out.len()
        ));
    }
    if let Some(path) = chart {
        text.push_str(&format!("Chart written to {}.\n", path.display()));
    }
    text.push_str("Sources: DSCA notifications (crates/data/data/dsca), production rates from the FMS process reference §6 (crates/data/data/capacity/lines.toml).");
    output::print_text(&text)
}

fn describe_shift(days_earlier: i64) -> String {
    match days_earlier {
        0 => "none".to_owned(),
        days if days > 0 => format!("{days} days earlier"),
        days => format!("{} days later", -days),
    }
}

fn describe_dist(dist: &RawDist) -> String {
    match dist {
        RawDist::Fixed { days } => format!("fixed {days}"),
        RawDist::Uniform { min, max } => format!("uniform {min}–{max}"),
        RawDist::Triangular { min, mode, max } => format!("triangular {min}/{mode}/{max}"),
        RawDist::Pert { min, mode, max } => format!("PERT min {min}, mode {mode}, max {max}"),
        RawDist::Lognormal { median, p90 } => format!("lognormal median {median}, p90 {p90}"),
    }
}

/// One row per case: the base band and the expedite band from P10 to P90 of final delivery,
/// a tick at P50. Drawn with plotters' SVG backend.
fn draw_chart(demo: &DemoOutput, path: &Path) -> anyhow::Result<()> {
    use plotters::prelude::*;
    use plotters::style::text_anchor::{HPos, Pos, VPos};

    let as_of = demo.assumptions.as_of;
    let day = |date: Date| f64::from((date - as_of).get_days());
    let bands = |result: &CaseResult| [("base", result.base), ("expedite", result.expedite)];
    let (mut earliest, mut latest) = (0.0_f64, 1.0_f64);
    for result in &demo.cases {
        for (_, dates) in bands(result) {
            earliest = earliest.min(day(dates.p10));
            latest = latest.max(day(dates.p90));
        }
    }
    let rows = demo.cases.len();
    let height = u32::try_from(140 + 26 * rows).unwrap_or(u32::MAX);
    let root = SVGBackend::new(path, (1000, height)).into_drawing_area();
    root.fill(&WHITE).map_err(|error| anyhow!("{error:?}"))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("Final delivery P10–P90 from {as_of}: base vs expedite"),
            ("sans-serif", 18),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(220)
        .build_cartesian_2d(earliest..(latest + 30.0), 0.0..rows.max(1) as f64)
        .map_err(|error| anyhow!("{error:?}"))?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        // Case names are drawn beside their rows below: axis labels would land between rows.
        .y_label_formatter(&|_| String::new())
        .x_label_formatter(&|x| {
            as_of
                .checked_add(jiff::Span::new().days(x.round() as i64))
                .map(|date| date.to_string())
                .unwrap_or_default()
        })
        .draw()
        .map_err(|error| anyhow!("{error:?}"))?;
    let colours = [RGBColor(70, 110, 180), RGBColor(220, 120, 40)];
    for (band, colour) in colours.into_iter().enumerate() {
        let placed: Vec<(f64, Percentiles)> = demo
            .cases
            .iter()
            .enumerate()
            .map(|(index, result)| {
                (
                    (rows - index - 1) as f64 + 0.1 + 0.4 * band as f64,
                    bands(result)[band].1,
                )
            })
            .collect();
        let name = ["base", "expedite"][band];
        chart
            .draw_series(placed.iter().map(|&(row, dates)| {
                Rectangle::new(
                    [(day(dates.p10), row), (day(dates.p90), row + 0.36)],
                    colour.mix(0.45).filled(),
                )
            }))
            .map_err(|error| anyhow!("{error:?}"))?
            .label(name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], colour.filled()));
        chart
            .draw_series(placed.iter().map(|&(row, dates)| {
                PathElement::new(
                    vec![(day(dates.p50), row), (day(dates.p50), row + 0.36)],
                    colour.stroke_width(2),
                )
            }))
            .map_err(|error| anyhow!("{error:?}"))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
        .map_err(|error| anyhow!("{error:?}"))?;
    let label_style =
        TextStyle::from(("sans-serif", 12).into_font()).pos(Pos::new(HPos::Right, VPos::Center));
    for (index, result) in demo.cases.iter().enumerate() {
        let (x, y) = chart.backend_coord(&(earliest, (rows - index - 1) as f64 + 0.5));
        root.draw(&Text::new(
            result.case.id.clone(),
            (x - 8, y),
            label_style.clone(),
        ))
        .map_err(|error| anyhow!("{error:?}"))?;
    }
    root.present().map_err(|error| anyhow!("{error:?}"))?;
    Ok(())
}
