//! `expedite forecast SCENARIO.toml`: the capacity-aware delivery forecast on the command
//! line (issue 3). Reads the file, runs `expedite_forecast::run`, prints a table, JSON or
//! CSV, and optionally draws a fan chart.

use std::io::{self, IsTerminal};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use clap::Args;
use comfy_table::Cell;
use expedite_core::Date;
use expedite_forecast::{Report, Run, RunOptions, Scenario};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::output::{self, Format};

/// The progress bar appears only once a run has lasted this long (issue 3, "Command").
const PROGRESS_AFTER: Duration = Duration::from_secs(1);

/// At most this many cases are drawn in a chart: beyond that the bands are unreadable.
const CHART_MAX_CASES: usize = 40;

/// Arguments of `forecast`.
#[derive(Debug, Args)]
pub struct ForecastArgs {
    /// The scenario file (TOML): lines, cases, stage durations, policies.
    scenario: PathBuf,
    /// Trials per run, instead of the file's `trials`.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    trials: Option<u32>,
    /// Seed of the random streams, instead of the file's `seed`.
    #[arg(long)]
    seed: Option<u64>,
    /// Run only this policy beside the base (repeatable); without it, every policy runs.
    #[arg(long = "policy", value_name = "NAME")]
    policies: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// Also write an SVG fan chart of final delivery (P10–P90 per case, base and policies;
    /// the first 40 cases).
    #[arg(long, value_name = "FILE.svg")]
    chart: Option<PathBuf>,
    /// Also measure how much of each band each source of uncertainty makes (JSON
    /// `band_parts`); one more pass of the trials per source the scenario has.
    #[arg(long)]
    band_parts: bool,
}

/// Runs `forecast`.
pub fn run(args: ForecastArgs) -> anyhow::Result<()> {
    let scenario = read_scenario(&args.scenario)?;
    if let Some(path) = &args.chart {
        check_writable(path)?;
    }
    let show_progress = !output::quiet() && io::stderr().is_terminal();
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    if let Ok(style) =
        ProgressStyle::default_bar().template("{elapsed_precise} [{bar:40}] {pos}/{len} trials")
    {
        bar.set_style(style);
    }
    let started = Instant::now();
    let progress = |done: u64, total: u64| {
        if show_progress && bar.is_hidden() && started.elapsed() > PROGRESS_AFTER {
            bar.set_draw_target(ProgressDrawTarget::stderr());
        }
        bar.set_length(total);
        bar.set_position(done);
    };
    let options = RunOptions {
        trials: args.trials,
        seed: args.seed,
        policies: (!args.policies.is_empty()).then_some(args.policies.as_slice()),
        progress: Some(&progress),
        band_parts: args.band_parts,
    };
    let report = expedite_forecast::run(&scenario, &options)?;
    bar.finish_and_clear();
    if let Some(path) = &args.chart {
        let source = args.scenario.file_name().map_or_else(
            || args.scenario.display().to_string(),
            |name| name.to_string_lossy().into_owned(),
        );
        draw_chart(&report, path, &source)
            .with_context(|| format!("cannot write the chart {}", path.display()))?;
        let cases = report.runs.first().map_or(0, |run| run.cases.len());
        if cases > CHART_MAX_CASES {
            eprintln!(
                "note: the chart {} shows the first {CHART_MAX_CASES} of {cases} cases",
                path.display()
            );
        }
    }
    match args.format {
        Format::Json => output::print_json(&report),
        Format::Csv => output::print_csv(&CASE_COLUMNS, csv_rows(&report)),
        Format::Table => print_table(&report),
    }
}

/// Fails, before any trial is run, when the chart cannot be written where asked: a run of
/// many trials should not end in an error about the output file. A file this creates is
/// removed again; the chart itself is written after the run.
fn check_writable(path: &Path) -> anyhow::Result<()> {
    let existed = path.exists();
    match std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
    {
        Ok(_) => {
            if !existed {
                // Best effort: the file is written again after the run anyway.
                let _ = std::fs::remove_file(path);
            }
            Ok(())
        }
        Err(error) => {
            let reason = match error.kind() {
                io::ErrorKind::NotFound => "its folder does not exist".to_owned(),
                io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
                io::ErrorKind::IsADirectory => "it is a folder".to_owned(),
                _ => error.to_string(),
            };
            Err(anyhow!(
                "cannot write the chart to {}: {reason}",
                path.display()
            ))
        }
    }
}

/// Reads and validates the file; an error names the file, the TOML path and the problem.
fn read_scenario(path: &Path) -> anyhow::Result<Scenario> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Scenario::from_toml_str(&text).map_err(|error| anyhow!("{}: {error}", path.display()))
}

fn days_between(from: Date, to: Date) -> i64 {
    i64::from((to - from).get_days())
}

fn print_table(report: &Report) -> anyhow::Result<()> {
    let Some(base) = report.runs.first() else {
        return Ok(());
    };
    let policies = &report.runs[1..];
    output::print_text(&format!(
        "{}: {} trials, seed {}, from {}. Final delivery P10/P50/P90{}.",
        report.scenario,
        report.trials,
        report.seed,
        report.start,
        if policies.is_empty() {
            ""
        } else {
            "; shift = policy P50 minus base P50, in days"
        }
    ))?;
    let mut header = vec![
        "case".to_owned(),
        "P10".to_owned(),
        "P50".to_owned(),
        "P90".to_owned(),
    ];
    if report.target.is_some() {
        header.push("P(on target)".to_owned());
    }
    let promised = base
        .cases
        .iter()
        .any(|case| case.p_first_by_promise.is_some());
    if promised {
        header.push("P(first by promise)".to_owned());
    }
    for policy in policies {
        header.push(format!("{} P50", policy.policy));
        header.push(format!("{} shift", policy.policy));
    }
    let header_refs: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut table = output::table(&header_refs);
    for (index, case) in base.cases.iter().enumerate() {
        let final_delivery = case.final_delivery;
        let mut row = vec![
            Cell::new(case_label(case)),
            Cell::new(final_delivery.p10),
            Cell::new(final_delivery.p50),
            Cell::new(final_delivery.p90),
        ];
        if let Some(share) = case.p_on_target {
            row.push(Cell::new(format!("{:.0}%", share * 100.0)));
        }
        if promised {
            row.push(Cell::new(case.p_first_by_promise.map_or_else(
                || "-".to_owned(),
                |share| format!("{:.0}%", share * 100.0),
            )));
        }
        for policy in policies {
            if let Some(other) = policy.cases.get(index) {
                let shift = days_between(final_delivery.p50, other.final_delivery.p50);
                row.push(Cell::new(other.final_delivery.p50));
                row.push(Cell::new(format!("{shift:+}")));
            }
        }
        table.add_row(row);
    }
    output::print_text(&table.to_string())?;
    print_lines_and_bottleneck(base)
}

/// The case id with what the reader must know about its dates: delivered (the dates are
/// recorded), overdue in a stage, or a delivery the model puts before the start although
/// none is recorded (moved to the start).
fn case_label(case: &expedite_forecast::CaseForecast) -> String {
    let mut notes = Vec::new();
    if case.delivered {
        notes.push("delivered".to_owned());
    }
    if let Some(stage) = case.overdue_stage {
        notes.push(format!("overdue in {stage}"));
    }
    if case.first_delivery_clamped || case.final_delivery_clamped {
        notes.push("due before the start, not recorded".to_owned());
    }
    if notes.is_empty() {
        case.id.clone()
    } else {
        format!("{} ({})", case.id, notes.join("; "))
    }
}

fn print_lines_and_bottleneck(base: &Run) -> anyhow::Result<()> {
    let mut lines = output::table(&[
        "line",
        "utilisation",
        "clears P10",
        "clears P50",
        "clears P90",
    ]);
    for line in &base.lines {
        lines.add_row(vec![
            Cell::new(&line.id),
            Cell::new(format!("{:.1}%", line.utilisation * 100.0)),
            Cell::new(line.clears.p10),
            Cell::new(line.clears.p50),
            Cell::new(line.clears.p90),
        ]);
    }
    output::print_text(&lines.to_string())?;
    let parts: Vec<String> = base
        .bottleneck
        .iter()
        .map(|part| format!("{} {:.1} d", part.stage, part.median_days))
        .collect();
    output::print_text(&format!(
        "Median days per case, by where they are spent: {}",
        parts.join(", ")
    ))
}

const CASE_COLUMNS: [&str; 14] = [
    "policy",
    "case",
    "contract_p10",
    "contract_p50",
    "contract_p90",
    "first_delivery_p10",
    "first_delivery_p50",
    "first_delivery_p90",
    "final_delivery_p10",
    "final_delivery_p50",
    "final_delivery_p90",
    "p_on_target",
    "overdue_stage",
    "p_first_by_promise",
];

fn csv_rows(report: &Report) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for run in &report.runs {
        for case in &run.cases {
            let mut record = vec![run.policy.clone(), case.id.clone()];
            for percentiles in [case.contract, case.first_delivery, case.final_delivery] {
                record.extend(
                    [percentiles.p10, percentiles.p50, percentiles.p90]
                        .map(|date| date.to_string()),
                );
            }
            record.push(
                case.p_on_target
                    .map(|share| share.to_string())
                    .unwrap_or_default(),
            );
            record.push(
                case.overdue_stage
                    .map(|stage| stage.to_string())
                    .unwrap_or_default(),
            );
            record.push(
                case.p_first_by_promise
                    .map(|share| share.to_string())
                    .unwrap_or_default(),
            );
            rows.push(record);
        }
    }
    rows
}

/// Colours of the runs in the chart: base first, then the policies.
const RUN_COLOURS: [plotters::style::RGBColor; 5] = [
    plotters::style::RGBColor(70, 110, 180),
    plotters::style::RGBColor(220, 120, 40),
    plotters::style::RGBColor(60, 160, 90),
    plotters::style::RGBColor(170, 70, 160),
    plotters::style::RGBColor(120, 120, 120),
];

/// Tick marks of the date axis: the first days of months (every 1, 2, 3 or 6 months) or of
/// years (every 1, 2, 5 or 10 years), whichever gives at most about ten ticks over the span;
/// each with its label (`2027-03` or `2027`).
fn date_ticks(start: Date, from_day: f64, to_day: f64) -> Vec<(f64, String)> {
    let span_months = ((to_day - from_day) / 30.44).max(1.0);
    let (step_months, by_year) = [1, 2, 3, 6]
        .into_iter()
        .map(|months| (months, false))
        .chain([12, 24, 60, 120].into_iter().map(|months| (months, true)))
        .find(|&(months, _)| span_months / f64::from(months) <= 10.0)
        .unwrap_or((240, true));
    let day_of = |date: Date| days_between(start, date) as f64;
    let first = expedite_forecast::report::date_of(start, from_day.floor() as i32);
    let mut year = i32::from(first.year());
    let mut month = i32::from(first.month());
    if by_year {
        let years = step_months / 12;
        month = 1;
        year -= year.rem_euclid(years);
    } else {
        month -= (month - 1) % step_months;
    }
    let mut ticks = Vec::new();
    while let Ok(tick) = jiff::civil::Date::new(
        i16::try_from(year).unwrap_or(i16::MAX),
        i8::try_from(month).unwrap_or(1),
        1,
    ) {
        let day = day_of(tick);
        if day > to_day {
            break;
        }
        if day >= from_day {
            ticks.push((
                day,
                if by_year {
                    format!("{year}")
                } else {
                    format!("{year}-{month:02}")
                },
            ));
        }
        month += step_months;
        while month > 12 {
            month -= 12;
            year += 1;
        }
    }
    ticks
}

/// A fan chart: one row per case, one band per run from P10 to P90 of final delivery, a
/// tick at P50, the target date as a red line, dates on month or year starts, and a
/// footnote naming the trials and the source. Drawn with plotters' SVG backend.
fn draw_chart(report: &Report, path: &Path, source: &str) -> anyhow::Result<()> {
    use plotters::prelude::*;
    use plotters::style::text_anchor::{HPos, Pos, VPos};

    let drawing = |error: &dyn std::fmt::Display| anyhow!("{error}");
    let case_count = report
        .runs
        .first()
        .map_or(0, |run| run.cases.len().min(CHART_MAX_CASES));
    let run_count = report.runs.len().max(1);
    let start = report.start;
    let day = |date: Date| days_between(start, date) as f64;
    let (mut earliest, mut latest) = (f64::INFINITY, f64::NEG_INFINITY);
    for run in &report.runs {
        for case in run.cases.iter().take(case_count) {
            earliest = earliest.min(day(case.final_delivery.p10));
            latest = latest.max(day(case.final_delivery.p90));
        }
    }
    if let Some(target) = report.target {
        earliest = earliest.min(day(target));
        latest = latest.max(day(target));
    }
    if !earliest.is_finite() {
        (earliest, latest) = (0.0, 1.0);
    }
    let margin = ((latest - earliest) * 0.05).max(10.0);
    let (x_from, x_to) = (earliest - margin, latest + margin);
    let ticks = date_ticks(start, x_from, x_to);
    let height = u32::try_from(150 + 22 * case_count).unwrap_or(u32::MAX);
    let root = SVGBackend::new(path, (960, height)).into_drawing_area();
    root.fill(&WHITE).map_err(|error| drawing(&error))?;
    let (plot_area, footnote_area) = root.split_vertically(height.saturating_sub(28));
    let mut chart = ChartBuilder::on(&plot_area)
        .caption(
            format!("{}: final delivery, P10–P90", report.scenario),
            ("sans-serif", 18),
        )
        .margin(12)
        // Room for the last date label, which is centred on its tick.
        .margin_right(40)
        .x_label_area_size(48)
        .y_label_area_size(170)
        .build_cartesian_2d(
            x_from..x_to,
            // Row k (from the bottom) is centred on y = k, so the axis ticks at whole
            // numbers name the rows.
            -0.5..case_count.max(1) as f64 - 0.5,
        )
        .map_err(|error| drawing(&error))?;
    let base_cases = report
        .runs
        .first()
        .map(|run| run.cases.as_slice())
        .unwrap_or_default();
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(case_count + 1)
        .y_label_formatter(&|y| {
            if (y - y.round()).abs() > 1e-6 || *y < 0.0 {
                return String::new();
            }
            let row = y.round() as usize;
            base_cases
                .get(case_count.saturating_sub(row + 1))
                .map(|case| case.id.clone())
                .unwrap_or_default()
        })
        // The date ticks are drawn below, on month or year starts.
        .x_labels(0)
        .x_desc("final delivery (bar: P10 to P90, tick: P50)")
        .y_desc("case")
        .draw()
        .map_err(|error| drawing(&error))?;
    let top = case_count.max(1) as f64 - 0.5;
    chart
        .draw_series(
            ticks.iter().map(|&(tick, _)| {
                PathElement::new(vec![(tick, -0.5), (tick, top)], BLACK.mix(0.12))
            }),
        )
        .map_err(|error| drawing(&error))?;
    let label_style = ("sans-serif", 13)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Center, VPos::Top));
    for (tick, label) in &ticks {
        let (x, y) = chart.backend_coord(&(*tick, -0.5));
        plot_area
            .draw(&Text::new(label.clone(), (x, y + 6), label_style.clone()))
            .map_err(|error| drawing(&error))?;
    }
    let band = 0.8 / run_count as f64;
    for (run_index, run) in report.runs.iter().enumerate() {
        let colour = RUN_COLOURS[run_index % RUN_COLOURS.len()];
        let rows = run
            .cases
            .iter()
            .take(case_count)
            .enumerate()
            .map(|(index, case)| {
                let row = (case_count - index - 1) as f64 - 0.4 + band * run_index as f64;
                (row, case.final_delivery)
            });
        let rows: Vec<_> = rows.collect();
        chart
            .draw_series(rows.iter().map(|&(row, dates)| {
                Rectangle::new(
                    [(day(dates.p10), row), (day(dates.p90), row + band * 0.9)],
                    colour.mix(0.45).filled(),
                )
            }))
            .map_err(|error| drawing(&error))?
            .label(run.policy.clone())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], colour.filled()));
        chart
            .draw_series(rows.iter().map(|&(row, dates)| {
                PathElement::new(
                    vec![(day(dates.p50), row), (day(dates.p50), row + band * 0.9)],
                    colour.stroke_width(2),
                )
            }))
            .map_err(|error| drawing(&error))?;
    }
    if let Some(target) = report.target {
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(day(target), -0.5), (day(target), top)],
                RED.stroke_width(2),
            )))
            .map_err(|error| drawing(&error))?
            .label(format!("target {target}"))
            .legend(|(x, y)| PathElement::new(vec![(x, y - 6), (x, y + 6)], RED.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
        .map_err(|error| drawing(&error))?;
    footnote_area
        .draw(&Text::new(
            format!(
                "{} trials per run, seed {}, forecast from {}. Source: expedite forecast {source}.",
                report.trials, report.seed, report.start
            ),
            (12, 6),
            ("sans-serif", 13).into_font().color(&BLACK.mix(0.7)),
        ))
        .map_err(|error| drawing(&error))?;
    root.present().map_err(|error| drawing(&error))?;
    Ok(())
}
