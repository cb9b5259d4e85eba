//! `expedite demo`: the main job on the embedded data. The portfolio (the DSCA notifications
//! of sales to European allies on the catalog's production lines, each case's stage, the
//! lines, the expedite policy) is built by `expedite_portfolio::demo`; this module parses the
//! arguments, runs it, and prints the table, JSON, CSV or chart. Every assumption comes from
//! the scenario template (`expedite demo --print-template`) and is printed with the results.
//! No network, no database, no user files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use clap::Args;
use expedite_core::{Channel, Date};
use expedite_data::capacity::Catalog;
use expedite_data::dsca;
use expedite_data::timelines::Timeline;
use expedite_forecast::RunOptions;
use expedite_forecast::scenario::{RawDist, SpanScale};
use expedite_portfolio::calibrate::Params;
use expedite_portfolio::demo::{CaseResult, DemoLine, LeftOut, RateIncrease};
use expedite_portfolio::promise::PROMISE_SLIP;
use expedite_portfolio::template::{
    ExpediteRule, ParameterOrigin, SHIPPED_TEMPLATE, StageRule, Uncertainty,
};
use expedite_portfolio::{Provenance, Template, build_demo, run_demo};
use serde::Serialize;

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
    /// Seed of the random streams (default: the template's); the same seed gives the same
    /// results.
    #[arg(long)]
    seed: Option<u64>,
    /// Also write an SVG chart of final delivery, base and expedite, per case.
    #[arg(long, value_name = "FILE.svg")]
    chart: Option<PathBuf>,
    /// A changed copy of the scenario template instead of the shipped one.
    #[arg(long, value_name = "FILE.toml")]
    template: Option<PathBuf>,
    /// Distributions fitted from the real timelines (`shipped`: the parameters `expedite
    /// calibrate` wrote into crates/data/data/calibration/params.toml) replace the template's
    /// for the parameters they fit; `none` keeps the template's values alone.
    #[arg(long, value_enum, default_value_t = Calibration::Shipped)]
    calibration: Calibration,
    /// Print the shipped scenario template and stop.
    #[arg(long)]
    print_template: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// Which fitted parameters the demo uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Calibration {
    /// The shipped parameters fitted from the shipped timelines.
    Shipped,
    /// None: the template's values.
    None,
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
    uncertainty: Uncertainty,
    parameters: Vec<ParameterOrigin>,
    /// Line id → how its cases' delivery span grows with their order.
    delivery_span_scales: BTreeMap<String, SpanScale>,
    /// Line id → its own first-delivery delay and delivery span, where it has them.
    line_distributions: BTreeMap<String, LineDistributions>,
    timeline_match: String,
    base_tier: u32,
    lines: Vec<DemoLine>,
    expedite: ExpediteRule,
    rate_increases: Vec<RateIncrease>,
}

/// A line's own distributions (else the channel's apply).
#[derive(Debug, Clone, Serialize)]
struct LineDistributions {
    #[serde(skip_serializing_if = "Option::is_none")]
    first_delivery_delay: Option<RawDist>,
    #[serde(skip_serializing_if = "Option::is_none")]
    delivery_span: Option<RawDist>,
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
    let template = match &args.template {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            Template::from_toml_str(&text, &path.display().to_string())?
        }
        None => Template::builtin()?,
    };
    let (template, parameters) = match args.calibration {
        Calibration::Shipped => {
            let params = Params::shipped().context("the shipped calibration parameters")?;
            template.calibrated(&params)
        }
        Calibration::None => {
            let origins = template.assumed_origins();
            (template, origins)
        }
    };
    if let Some(path) = &args.chart {
        check_chart_path(path)?;
    }
    let as_of = args.as_of.unwrap_or(template.as_of);
    let catalog = Catalog::builtin().context("the shipped capacity catalog")?;
    let notifications = dsca::builtin().context("the shipped DSCA notifications")?;
    let timelines = Timeline::builtin().context("the shipped case timelines")?;
    let portfolio = build_demo(&template, &catalog, &notifications, &timelines, as_of)?;
    let options = RunOptions {
        trials: args.trials,
        seed: args.seed,
        // The parts of each band cost one more pass per source of uncertainty: only JSON
        // shows them.
        band_parts: args.format == Format::Json,
        ..RunOptions::default()
    };
    let outcome = run_demo(&portfolio, &template.expedite.name, &options)?;
    let template_name = if args.template.is_some() {
        template.file.clone()
    } else {
        SHIPPED_TEMPLATE.to_owned()
    };
    let assumptions = Assumptions {
        template: template_name,
        as_of,
        trials: outcome.trials,
        seed: outcome.seed,
        stage_by_days_since_notification: template.stage_by_days_since_notification.clone(),
        channels: template.channels.clone(),
        uncertainty: template.uncertainty.clone(),
        line_distributions: template
            .lines
            .iter()
            .filter(|(_, line)| line.first_delivery_delay.is_some() || line.delivery_span.is_some())
            .map(|(id, line)| {
                let own = LineDistributions {
                    first_delivery_delay: line.first_delivery_delay.clone(),
                    delivery_span: line.delivery_span.clone(),
                };
                (id.clone(), own)
            })
            .collect(),
        delivery_span_scales: template
            .lines
            .iter()
            .filter_map(|(id, line)| Some((id.clone(), line.delivery_span_scale?)))
            .collect(),
        parameters,
        timeline_match: format!(
            "a notification takes the milestones of the real timeline (crates/data/data/cases/\
             timelines.csv) with the same purchaser and line and a notification date within {} \
             days (the same month for a month-only date), up to the as-of date",
            expedite_portfolio::demo::MATCH_DAYS
        ),
        base_tier: template.portfolio.base_tier,
        lines: portfolio.lines,
        expedite: template.expedite.clone(),
        rate_increases: portfolio.rate_increases,
    };
    let demo = DemoOutput {
        assumptions,
        cases: outcome.cases,
        left_out: portfolio.left_out,
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

/// Refuses a chart path that cannot be written, before minutes of simulation are spent.
fn check_chart_path(path: &Path) -> anyhow::Result<()> {
    let parent = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !parent.is_dir() {
        anyhow::bail!(
            "--chart {}: the folder {} does not exist; create it or name another file",
            path.display(),
            parent.display()
        );
    }
    if path.is_dir() {
        anyhow::bail!("--chart {}: is a folder; name an .svg file", path.display());
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("--chart {}: the file cannot be written", path.display()))?;
    Ok(())
}

const CASE_COLUMNS: [&str; 15] = [
    "case",
    "purchaser",
    "item",
    "line",
    "units",
    "stage",
    "since",
    "stage_provenance",
    "base_p10",
    "base_p50",
    "base_p90",
    "expedite_p10",
    "expedite_p50",
    "expedite_p90",
    "shift_p50_days",
];

fn case_cells(result: &CaseResult) -> Vec<String> {
    let case = &result.case;
    vec![
        case.id.clone(),
        case.purchaser.to_owned(),
        case.item.clone(),
        case.line.clone(),
        case.units.to_string(),
        case.stage.to_string(),
        case.since.to_string(),
        provenance(case.stage_provenance).to_owned(),
        result.base.p10.to_string(),
        result.base.p50.to_string(),
        result.base.p90.to_string(),
        result.expedite.p10.to_string(),
        result.expedite.p50.to_string(),
        result.expedite.p90.to_string(),
        result.shift_p50_days.to_string(),
    ]
}

fn provenance(provenance: Provenance) -> &'static str {
    match provenance {
        Provenance::Fact => "fact",
        Provenance::Assumed => "assumed",
    }
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
    let fitted_days = a.parameters.iter().any(|origin| {
        origin
            .parameter
            .starts_with("stage_by_days_since_notification.")
    });
    text.push_str(&format!(
        "- stage as of the date, by days since notification: {}{}\n",
        rules.join(", "),
        if fitted_days {
            " (implemented and on_contract: the stage before plus the fitted median of the stage between)"
        } else {
            ""
        }
    ));
    for (channel, stages) in &a.channels {
        for (stage, dist) in stages {
            let parameter = format!("channels.{channel}.{stage}");
            text.push_str(&format!(
                "- {channel} {stage}: {} days ({})\n",
                dist,
                describe_origin(&a.parameters, &parameter)
            ));
        }
    }
    type OwnDist = fn(&LineDistributions) -> Option<&RawDist>;
    let kinds: [(&str, &str, OwnDist); 2] = [
        (
            "first_delivery_delay",
            "first-delivery delay (every buyer)",
            |own| own.first_delivery_delay.as_ref(),
        ),
        (
            "delivery_span",
            "delivery span (first to final delivery, at the least)",
            |own| own.delivery_span.as_ref(),
        ),
    ];
    for (key, what, of_line) in kinds {
        for (line, own) in &a.line_distributions {
            if let Some(dist) = of_line(own) {
                text.push_str(&format!(
                    "- {line} {what}: {dist} days ({})\n",
                    describe_origin(&a.parameters, &format!("lines.{line}.{key}"))
                ));
            }
        }
    }
    for (line, scale) in &a.delivery_span_scales {
        text.push_str(&format!(
            "- {line} delivery span grows with the order: × (units ÷ {:.0})^{:.2} ({})\n",
            scale.units,
            scale.exponent,
            describe_origin(&a.parameters, &format!("lines.{line}.delivery_span_scale"))
        ));
    }
    let held: Vec<&str> = a
        .lines
        .iter()
        .filter(|line| !line.lead_time_only && line.backlog.provenance == Provenance::Assumed)
        .map(|line| line.id.as_str())
        .filter(|id| {
            a.parameters.iter().any(|origin| {
                origin.origin == "held by the delay"
                    && origin.parameter == format!("lines.{id}.backlog_years")
            })
        })
        .collect();
    if !held.is_empty() {
        text.push_str(&format!(
            "- other buyers' backlog: none queued on {}: the fitted first-delivery delay, measured against lines with no order book, already holds the usual wait behind them (the template's backlog_years and a catalog's stated backlog are not queued; the table shows the stated one)\n",
            held.join(", ")
        ));
    }
    text.push_str("- congressional review: per case from the AECA 36(b) rules\n");
    text.push_str(&format!(
        "- every line: realised rate = plan × {}; each announced ramp-up late by {} days (drawn per line per trial)\n",
        a.uncertainty.rate_multiplier,
        a.uncertainty.ramp_slip
    ));
    text.push_str(&format!(
        "- facts: {}; a stage the facts do not reach is assumed by the rule above\n",
        a.timeline_match
    ));
    text.push_str("- each case is one notification on one line; its unit value is the notified value ÷ units (the whole ceiling put on the mapped item)\n");
    text.push_str("- delivery span: a case's final delivery is no earlier than its first plus a span drawn per case per trial (fms delivery_span, or its line's): buyers receive an order lot by lot, not as fast as the line completes it\n");
    let mut lines = output::table(&[
        "line",
        "base rate (units/yr from date; catalog)",
        "backlog (units as of date)",
        "build days (assumed)",
    ]);
    for line in &a.lines {
        let steps: Vec<String> = line
            .base_rate
            .iter()
            .map(|(from, rate)| format!("{rate} from {from}"))
            .collect();
        let backlog = &line.backlog;
        lines.add_row(vec![
            format!("{} ({})", line.id, line.system),
            if line.lead_time_only {
                "no unit rate published: lead time only".to_owned()
            } else {
                steps.join("; ")
            },
            format!(
                "{} on {} ({}: {})",
                backlog.units,
                backlog.as_of,
                provenance(backlog.provenance),
                backlog.basis
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
        "shift (expedite P50 − base P50)",
    ]);
    for result in &demo.cases {
        let case = &result.case;
        table.add_row(vec![
            case.id.clone(),
            case.item.clone(),
            case.units.to_string(),
            describe_stage(case),
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
    // Every demo case is a DSCA notification, so an FMS case: its promise is drawn from only
    // when the calibration gave FMS a slip of promises (not under --calibration none).
    let promises_drawn = demo
        .assumptions
        .channels
        .get(Channel::Fms.as_str())
        .is_some_and(|stages| stages.contains_key(PROMISE_SLIP));
    let from = if promises_drawn {
        "forecast from the promise and the fitted slip of promises"
    } else {
        "not used without a fitted slip of promises; forecast"
    };
    for result in &demo.cases {
        let facts = &result.case.facts;
        if let Some(promised) = facts
            .promised_first_delivery
            .filter(|_| facts.first_delivery.is_none())
        {
            let first = &result.base_forecast.first_delivery;
            text.push_str(&format!(
                "{}: first delivery promised for {} ({}; read as {promised}), {from}: \
                 {} / {} / {}; on or before {promised} in {:.0}% of trials\n",
                result.case.id,
                facts.promise_stated.as_deref().unwrap_or("?"),
                facts.timeline.as_deref().unwrap_or("timeline"),
                first.p10,
                first.p50,
                first.p90,
                result.base_forecast.p_first_by_promise.unwrap_or_default() * 100.0
            ));
        }
        if let Some(planned) = &result.case.facts.planned_deliveries {
            let day = |date: Option<Date>| date.map_or("?".to_owned(), |date| date.to_string());
            text.push_str(&format!(
                "{}: the contract plans deliveries from {} to {} (catalog: \"{}\")\n",
                result.case.id,
                day(planned.from),
                day(planned.to),
                planned.as_published
            ));
        }
    }
    if !demo.left_out.is_empty() {
        text.push_str(&format!(
            "{} notifications to European allies in the window were left out (no catalog line, no quantity, or later than the date); --format json lists them.\n",
            demo.left_out.len()
        ));
    }
    if let Some(path) = chart {
        text.push_str(&format!("Chart written to {}.\n", path.display()));
    }
    text.push_str("Sources: DSCA notifications (crates/data/data/dsca), real case timelines (crates/data/data/cases/timelines.csv), production rates and backlogs from the FMS process reference §6 and its 2025-2026 update §4 (crates/data/data/capacity/lines.toml).");
    output::print_text(&text)
}

/// "fitted from the real timelines, n = 24", "fitted from the real timelines and SIPRI
/// register deals, n = 25 (21 register deals)" or "assumed".
fn describe_origin(origins: &[ParameterOrigin], parameter: &str) -> String {
    match origins.iter().find(|origin| origin.parameter == parameter) {
        Some(ParameterOrigin {
            origin: "fitted",
            n: Some(n),
            year_dated,
            ..
        }) => match year_dated {
            Some(deals) => format!(
                "fitted from the real timelines and SIPRI register deals, n = {n} ({deals} \
                 register deals)"
            ),
            None => format!("fitted from the real timelines, n = {n}"),
        },
        Some(ParameterOrigin {
            origin: "median", ..
        }) => "held at its median: the fitted first-delivery delay already holds its spread"
            .to_owned(),
        _ => "assumed".to_owned(),
    }
}

/// The stage, its date, and where they come from.
fn describe_stage(case: &expedite_portfolio::demo::DemoCase) -> String {
    let origin = match (&case.facts.timeline, case.stage_provenance) {
        (Some(timeline), Provenance::Fact) => format!("fact: {timeline}"),
        (Some(timeline), Provenance::Assumed) => format!("assumed (facts: {timeline})"),
        (None, _) => "assumed".to_owned(),
    };
    format!("{} ({}) {origin}", case.stage, case.since)
}

/// Policy P50 minus base P50, the sign `expedite forecast` prints.
fn describe_shift(days: i64) -> String {
    match days {
        0 => "none".to_owned(),
        days if days < 0 => format!("{days} days (earlier)"),
        days => format!("+{days} days (later)"),
    }
}

/// One row per case: the base band and the expedite band from P10 to P90 of final delivery,
/// a tick at P50; date ticks on year starts (month starts for a short span); axis titles; a
/// footnote with the source, the trial count and which stages are assumed. Drawn with
/// plotters' SVG backend.
fn draw_chart(demo: &DemoOutput, path: &Path) -> anyhow::Result<()> {
    use plotters::prelude::*;
    use plotters::style::text_anchor::{HPos, Pos, VPos};

    let as_of = demo.assumptions.as_of;
    let day = |date: Date| f64::from((date - as_of).get_days());
    let bands = |result: &CaseResult| [result.base, result.expedite];
    let (mut earliest, mut latest) = (0.0_f64, 1.0_f64);
    for result in &demo.cases {
        for dates in bands(result) {
            earliest = earliest.min(day(dates.p10));
            latest = latest.max(day(dates.p90));
        }
    }
    let latest = latest + 30.0;
    let ticks = date_ticks(as_of, earliest, latest);
    let rows = demo.cases.len();
    let height = u32::try_from(190 + 26 * rows).unwrap_or(u32::MAX);
    let root = SVGBackend::new(path, (1000, height)).into_drawing_area();
    root.fill(&WHITE).map_err(|error| anyhow!("{error:?}"))?;
    let (plot_area, footnote_area) = root.split_vertically(height - 50);
    let mut chart = ChartBuilder::on(&plot_area)
        .caption(
            format!("Final delivery P10–P90 as of {as_of}: base vs expedite"),
            ("sans-serif", 18),
        )
        .margin(12)
        .x_label_area_size(48)
        .y_label_area_size(230)
        .build_cartesian_2d(earliest..latest, 0.0..rows.max(1) as f64)
        .map_err(|error| anyhow!("{error:?}"))?;
    // plotters would put ticks on round numbers of days; the dates are ticked here, on the
    // first of a year, quarter or month, with grid lines drawn to match.
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(0)
        // Case names are drawn beside their rows below: axis labels would land between rows.
        .y_label_formatter(&|_| String::new())
        .x_desc("final delivery date (P10–P90 band, P50 tick)")
        .y_desc("case (* = stage assumed)")
        .draw()
        .map_err(|error| anyhow!("{error:?}"))?;
    chart
        .draw_series(ticks.iter().map(|&(x, _)| {
            PathElement::new(
                vec![(x, 0.0), (x, rows.max(1) as f64)],
                RGBColor(200, 200, 200).stroke_width(1),
            )
        }))
        .map_err(|error| anyhow!("{error:?}"))?;
    let tick_style =
        TextStyle::from(("sans-serif", 12).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
    for (x, label) in &ticks {
        let (px, py) = chart.backend_coord(&(*x, 0.0));
        plot_area
            .draw(&Text::new(label.clone(), (px, py + 6), tick_style.clone()))
            .map_err(|error| anyhow!("{error:?}"))?;
    }
    let colours = [RGBColor(70, 110, 180), RGBColor(220, 120, 40)];
    for (band, colour) in colours.into_iter().enumerate() {
        let placed: Vec<(f64, expedite_forecast::Percentiles)> = demo
            .cases
            .iter()
            .enumerate()
            .map(|(index, result)| {
                (
                    (rows - index - 1) as f64 + 0.1 + 0.4 * band as f64,
                    bands(result)[band],
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
        let mark = match result.case.stage_provenance {
            Provenance::Assumed => " *",
            Provenance::Fact => "",
        };
        root.draw(&Text::new(
            format!("{}{mark}", result.case.id),
            (x - 8, y),
            label_style.clone(),
        ))
        .map_err(|error| anyhow!("{error:?}"))?;
    }
    let assumed = demo
        .cases
        .iter()
        .filter(|result| result.case.stage_provenance == Provenance::Assumed)
        .count();
    let footnote = [
        format!(
            "{} trials, seed {}. * {assumed} of {rows} cases: stage assumed from the days since \
             notification (the others' from real timelines); durations, build times and most \
             backlogs are the template's assumptions.",
            demo.assumptions.trials, demo.assumptions.seed
        ),
        "Sources: DSCA notifications (crates/data/data/dsca); production rates, capacity \
         catalog (crates/data/data/capacity/lines.toml); expedite demo --format json lists every \
         value and its origin."
            .to_owned(),
    ];
    let note_style = TextStyle::from(("sans-serif", 11).into_font());
    for (index, text) in footnote.into_iter().enumerate() {
        footnote_area
            .draw(&Text::new(
                text,
                (12, 8 + 18 * index as i32),
                note_style.clone(),
            ))
            .map_err(|error| anyhow!("{error:?}"))?;
    }
    root.present().map_err(|error| anyhow!("{error:?}"))?;
    Ok(())
}

/// Tick positions (days after `as_of`) and labels: the first of each year, or of each month
/// where the span is under two years, or of each quarter under four.
fn date_ticks(as_of: Date, earliest: f64, latest: f64) -> Vec<(f64, String)> {
    let span_years = (latest - earliest) / 365.25;
    let months_apart: i8 = if span_years < 2.0 {
        1
    } else if span_years < 4.0 {
        3
    } else {
        12
    };
    let at = |x: f64| {
        as_of
            .checked_add(jiff::Span::new().days(x.round() as i64))
            .ok()
    };
    let (Some(first), Some(last)) = (at(earliest), at(latest)) else {
        return Vec::new();
    };
    let mut ticks = Vec::new();
    let mut date = jiff::civil::date(first.year(), 1, 1);
    while date <= last {
        if date >= first {
            let label = if months_apart == 12 {
                date.year().to_string()
            } else {
                date.strftime("%Y-%m").to_string()
            };
            ticks.push((f64::from((date - as_of).get_days()), label));
        }
        match date.checked_add(jiff::Span::new().months(months_apart)) {
            Ok(next) => date = next,
            Err(_) => break,
        }
    }
    ticks
}
