//! `expedite metrics`: quarterly case-execution metrics per phase from a case store, and
//! `--report DIR`, a publishable set of CSV tables and one page of SVG charts.
//!
//! The computation is `expedite_core::metrics`; the store reads the cases
//! (`expedite_store::history`). The command reads the clock once, for the day the figures
//! are taken on (`--as-of` overrides it).

use std::fs;
use std::path::Path;

use anyhow::{Context, anyhow};
use clap::Args;
use expedite_core::metrics::{self, GroupBy, Phase, PhaseMetrics, Quarter};
use expedite_core::{Date, RuleBook};
use expedite_data::sources::{Freshness, Source};
use expedite_store::history::{self, MetricsQuery, MetricsReport};
use expedite_store::{Scope, SqlStore};
use serde::Serialize;

use super::database::{Access, DbArgs};
use crate::output::{self, Format};
use crate::period::DateFlag;

/// Arguments of `metrics`.
#[derive(Debug, Args)]
pub struct MetricsArgs {
    /// Database URL: sqlite://PATH or postgres://…
    #[arg(long, env = "EXPEDITE_DB", default_value = "sqlite://expedite.db")]
    db: String,
    /// First quarter, e.g. 2025-Q1 (default: the quarter of the earliest LOR).
    #[arg(long)]
    from: Option<String>,
    /// Last quarter, e.g. 2025-Q4 (default: the current quarter).
    #[arg(long)]
    to: Option<String>,
    /// Also split every row by purchaser, agency, group (AECA §36(b) group) or line
    /// (production line).
    #[arg(long, value_name = "purchaser|agency|group|line")]
    by: Option<String>,
    /// The day the figures are taken on, YYYY-MM-DD (default: today, UTC).
    #[arg(long, value_parser = DateFlag)]
    as_of: Option<Date>,
    /// Write the tables as CSV and one page of SVG charts into this folder.
    #[arg(long, value_name = "DIR")]
    report: Option<std::path::PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// The JSON of `expedite metrics`: the report and the sources behind it.
#[derive(Debug, Serialize)]
struct MetricsOutput<'a> {
    #[serde(flatten)]
    report: &'a MetricsReport,
    sources: Vec<Freshness>,
}

/// Today in UTC: the CLI's clock, read once and passed in.
pub fn today() -> Date {
    jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date()
}

/// The day of `--as-of`, or today.
pub fn as_of(flag: Option<Date>) -> Date {
    flag.unwrap_or_else(today)
}

fn quarter(flag: &str, text: Option<&str>) -> anyhow::Result<Option<Quarter>> {
    text.map(|text| Quarter::parse(text).with_context(|| format!("--{flag}")))
        .transpose()
}

/// The case store as a source: refreshed on the day of its newest recorded event.
pub fn store_source(db: &str, newest: Option<Date>) -> Option<Source> {
    newest.map(|day| {
        Source::new(
            "cases",
            "case store (events and their own dates)",
            day,
            "day the newest event was recorded",
            expedite_store::redact::redact(db),
        )
    })
}

/// Opens the case store for reading (`metrics` and `alerts` write nothing).
/// They read an existing database only: never create one, and need no history key.
pub async fn open_store(db: &str) -> anyhow::Result<SqlStore> {
    let database = DbArgs {
        db: db.to_owned(),
        key_file: None,
        connect_timeout: std::time::Duration::from_secs(5),
    };
    database
        .open(Access::Existing { needs_key: false })
        .await
        .with_context(|| "--db: cannot open the case database".to_owned())
}

/// Runs `metrics`.
pub fn run(args: MetricsArgs) -> anyhow::Result<()> {
    let query = MetricsQuery {
        from: quarter("from", args.from.as_deref())?,
        to: quarter("to", args.to.as_deref())?,
        by: args
            .by
            .as_deref()
            .map(GroupBy::parse)
            .transpose()
            .context("--by")?,
        as_of: as_of(args.as_of),
    };
    let rules = RuleBook::builtin()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let report = runtime.block_on(async {
        let store = open_store(&args.db).await?;
        let report = history::metrics_for(&store, Scope::All, &query, rules.samm())
            .await
            .map_err(|error| anyhow!(error))
            .context("cannot compute the metrics")?;
        store.close().await;
        anyhow::Ok(report)
    })?;
    let sources: Vec<Freshness> = store_source(&args.db, report.newest_recorded)
        .into_iter()
        .map(|source| source.freshness(query.as_of))
        .collect();
    if let Some(folder) = &args.report {
        write_report(folder, &report, &sources)
            .with_context(|| format!("--report: cannot write {}", folder.display()))?;
        eprintln!(
            "report written to {}: metrics.csv, targets.csv, sources.csv, metrics.svg",
            folder.display()
        );
    }
    match args.format {
        Format::Json => output::print_json(&MetricsOutput {
            report: &report,
            sources,
        }),
        Format::Csv => output::print_csv(&PhaseMetrics::CSV_HEADER, csv_rows(&report.quarters)),
        Format::Table => output::print_text(&table(&report, &sources)),
    }
}

fn optional<T: ToString>(value: Option<T>) -> String {
    value.map(|value| value.to_string()).unwrap_or_default()
}

fn csv_rows(rows: &[PhaseMetrics]) -> Vec<Vec<String>> {
    rows.iter().map(|row| row.csv_cells().to_vec()).collect()
}

/// The definitions printed under every table and on the report page.
fn definitions(report: &MetricsReport, sources: &[Freshness]) -> Vec<String> {
    let mut lines = vec![
        format!(
            "Figures taken on {}. A phase counts in the quarter it ends; days between the events' own dates; median and P90 by nearest rank.",
            report.as_of
        ),
        "Open at end: cases in the phase on the quarter's last day (censored at that day, not dropped), with their median age.".to_owned(),
    ];
    for target in &report.targets {
        lines.push(format!(
            "On time, {}: within {} days {} [{}; {}].",
            target.phase,
            target.days,
            target.measured,
            target.confidence.in_words(),
            target.source
        ));
    }
    lines.push("No SAMM target in force for the other phases (on_time_share empty).".to_owned());
    lines.push(format!(
        "{} of {} events were recorded more than 30 days after their own date; metrics use the events' own dates.",
        report.late_recorded_events, report.events
    ));
    for source in sources {
        lines.push(format!(
            "Source: {} ({}), refreshed {} ({} days old{}).",
            source.source.name,
            source.source.location,
            source.source.refreshed,
            source.age_days,
            if source.stale { ", STALE" } else { "" }
        ));
    }
    lines
}

fn table(report: &MetricsReport, sources: &[Freshness]) -> String {
    let mut table = output::table(&[
        "quarter",
        "phase",
        "group",
        "completed",
        "median days",
        "P90 days",
        "on time",
        "open at end",
        "open median age",
    ]);
    for row in &report.quarters {
        table.add_row(vec![
            row.quarter.to_string(),
            row.phase.to_string(),
            row.group.clone().unwrap_or_else(|| "all".to_owned()),
            row.completed.to_string(),
            optional(row.median_days),
            optional(row.p90_days),
            row.on_time_share
                .map(|share| format!("{:.0}%", share * 100.0))
                .unwrap_or_default(),
            row.open_at_end.to_string(),
            optional(row.open_median_age_days),
        ]);
    }
    format!("{table}\n{}", definitions(report, sources).join("\n"))
}

fn write_csv(path: &Path, header: &[&str], rows: Vec<Vec<String>>) -> anyhow::Result<()> {
    let mut writer = csv::Writer::from_path(path)?;
    writer.write_record(header)?;
    for row in rows {
        writer.write_record(row)?;
    }
    writer.flush()?;
    Ok(())
}

fn write_report(
    folder: &Path,
    report: &MetricsReport,
    sources: &[Freshness],
) -> anyhow::Result<()> {
    fs::create_dir_all(folder)?;
    write_csv(
        &folder.join("metrics.csv"),
        &PhaseMetrics::CSV_HEADER,
        csv_rows(&report.quarters),
    )?;
    write_csv(
        &folder.join("targets.csv"),
        &["phase", "days", "measured", "confidence", "source"],
        report
            .targets
            .iter()
            .map(|target| {
                vec![
                    target.phase.to_string(),
                    target.days.to_string(),
                    target.measured.to_owned(),
                    target.confidence.in_words().to_owned(),
                    target.source.clone(),
                ]
            })
            .collect(),
    )?;
    write_csv(
        &folder.join("sources.csv"),
        &super::sources::CSV_COLUMNS,
        sources.iter().map(super::sources::csv_row).collect(),
    )?;
    draw_page(&folder.join("metrics.svg"), report, sources)
}

/// Splits text into lines of at most `width` characters at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split(' ') {
        let current = lines.last_mut().map_or(0, |line| line.chars().count());
        if current > 0 && current + 1 + word.chars().count() > width {
            lines.push(format!("  {word}"));
        } else if let Some(line) = lines.last_mut() {
            if current > 0 {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines
}

/// One page: a panel per phase with the all-case median and P90 days by quarter (and the
/// open cases' median age, dashed), then the definitions and sources as text.
fn draw_page(path: &Path, report: &MetricsReport, sources: &[Freshness]) -> anyhow::Result<()> {
    use expedite_web::pages::charts::quarter_runs;
    use plotters::prelude::*;

    let plot = |error: &dyn std::fmt::Debug| anyhow!("chart: {error:?}");
    let notes: Vec<String> = definitions(report, sources)
        .iter()
        .flat_map(|note| wrap(note, 150))
        .collect();
    let text_height = 30 + 18 * u32::try_from(notes.len()).unwrap_or(40);
    let root = SVGBackend::new(path, (1200, 720 + text_height)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot(&e))?;
    let (charts, text) = root.split_vertically(720);
    let root_title = charts
        .titled(
            "FMS case execution by quarter: all cases",
            ("sans-serif", 22),
        )
        .map_err(|e| plot(&e))?;
    let panels = root_title.split_evenly((2, 3));
    let quarters = metrics::quarter_axis(&report.quarters);
    let count = quarters.len().max(1);
    let series = |phase: Phase, pick: fn(&PhaseMetrics) -> Option<i64>| -> Vec<(f64, f64)> {
        metrics::all_cases_series(&report.quarters, &quarters, phase, pick)
            .into_iter()
            // Indexes and day counts are small.
            .map(|(index, days)| (index as f64, days as f64))
            .collect()
    };
    for (panel, phase) in panels.iter().zip(Phase::ALL) {
        let median = series(phase, |row| row.median_days);
        let p90 = series(phase, |row| row.p90_days);
        let open = series(phase, |row| row.open_median_age_days);
        let top = median
            .iter()
            .chain(&p90)
            .chain(&open)
            .map(|&(_, days)| days)
            .fold(10.0_f64, f64::max)
            * 1.1;
        #[allow(clippy::cast_precision_loss)]
        let right = (count - 1).max(1) as f64;
        let mut chart = ChartBuilder::on(panel)
            .caption(phase.as_str(), ("sans-serif", 15))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(45)
            .build_cartesian_2d(-0.2..right + 0.2, 0.0..top)
            .map_err(|e| plot(&e))?;
        let labels = quarters.clone();
        chart
            .configure_mesh()
            .x_labels(count.min(8))
            .x_label_formatter(&move |x| {
                let index = x.round();
                if (x - index).abs() > 0.01 || index < 0.0 {
                    return String::new();
                }
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                labels
                    .get(index as usize)
                    .map(ToString::to_string)
                    .unwrap_or_default()
            })
            .y_desc("days")
            .y_label_formatter(&|days| format!("{days:.0}"))
            .light_line_style(WHITE)
            .draw()
            .map_err(|e| plot(&e))?;
        let styles = [
            ("median", &median, RGBColor(70, 110, 180)),
            ("P90", &p90, RGBColor(220, 120, 40)),
            ("open, median age", &open, RGBColor(120, 120, 120)),
        ];
        for (name, points, colour) in styles {
            // Lines join consecutive quarters only: a quarter without a figure is a gap.
            for (run, segment) in quarter_runs(points).into_iter().enumerate() {
                let drawn = chart
                    .draw_series(LineSeries::new(segment, colour.stroke_width(2)))
                    .map_err(|e| plot(&e))?;
                if run == 0 {
                    drawn.label(name).legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 14, y)], colour.stroke_width(2))
                    });
                }
            }
            chart
                .draw_series(
                    points
                        .iter()
                        .map(|&point| Circle::new(point, 3, colour.filled())),
                )
                .map_err(|e| plot(&e))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.8))
            .label_font(("sans-serif", 11))
            .draw()
            .map_err(|e| plot(&e))?;
    }
    let style = ("sans-serif", 13).into_font().color(&BLACK);
    for (line, note) in (0_i32..).zip(&notes) {
        text.draw(&Text::new(
            note.clone(),
            (16, 16 + 18 * line),
            style.clone(),
        ))
        .map_err(|e| plot(&e))?;
    }
    root.present().map_err(|e| plot(&e))?;
    Ok(())
}
