//! `expedite nato status|trend|path`: NATO defence expenditure against the targets, from
//! the figures shipped with expedite (NATO, Defence Expenditure of NATO Countries
//! (2014–2025), August 2025).

use anyhow::Context;
use clap::{Args, Subcommand};
use expedite_core::Country;
use expedite_data::Percent;
use expedite_data::nato::{self, EDITION, EarlierCount, NatoData, PathStep, SpendingStatus, Trend};

use crate::output::print_csv;
use crate::output::{self, Format, Source};

const CREDIT: &str = "Source: NATO, Defence Expenditure of NATO Countries (2014-2025), 28 Aug 2025 \
(Table 3; 2024 and 2025 are estimates).";

/// The edition every figure comes from, for the JSON `sources`.
fn edition_source() -> Source {
    Source::new(format!("NATO, {}", EDITION.title), EDITION.published)
}

/// The `nato` subcommands.
#[derive(Debug, Subcommand)]
pub enum NatoCommand {
    /// Who meets a spending target (% of GDP) in a year, who does not and by how much.
    Status(StatusArgs),
    /// One member's series since 2014 and its change.
    Trend(TrendArgs),
    /// For each member, the yearly increase needed to reach a target by a year.
    Path(PathArgs),
}

/// Arguments of `nato status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The year (default: the latest year with figures).
    #[arg(long)]
    year: Option<i32>,
    /// The target, % of GDP (2 = the Wales pledge, 3.5 = The Hague core, 5 = The Hague total).
    #[arg(long, default_value_t = 2.0)]
    target: f64,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// Arguments of `nato trend`.
#[derive(Debug, Args)]
pub struct TrendArgs {
    /// The member: ISO3 code (e.g. POL) or name.
    country: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// Arguments of `nato path`.
#[derive(Debug, Args)]
pub struct PathArgs {
    /// The target, % of GDP.
    #[arg(long, default_value_t = 3.5)]
    target: f64,
    /// The year to reach it by.
    #[arg(long, default_value_t = 2035)]
    by: i32,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// Runs a `nato` subcommand.
pub fn run(command: NatoCommand) -> anyhow::Result<()> {
    let nato = NatoData::builtin().context("the shipped NATO figures")?;
    match command {
        NatoCommand::Status(args) => status(&nato, &args),
        NatoCommand::Trend(args) => trend(&nato, &args),
        NatoCommand::Path(args) => path(&nato, &args),
    }
}

fn target(value: f64) -> anyhow::Result<Percent> {
    Percent::from_f64(value)
        .filter(|percent| percent.hundredths() > 0)
        .with_context(|| format!("--target: {value} is not a percentage above zero"))
}

/// The earlier NATO publications whose count for the year and target differs from the
/// edition used.
fn differing_editions(status: &SpendingStatus) -> anyhow::Result<Vec<EarlierCount>> {
    Ok(nato::earlier_counts()
        .context("the shipped NATO edition notes")?
        .into_iter()
        .filter(|earlier| {
            earlier.year == status.year
                && earlier.target_pct == status.target_pct
                && earlier.allies_meeting != status.count_meeting
        })
        .collect())
}

fn edition_note(status: &SpendingStatus, earlier: &[EarlierCount]) -> String {
    let mut note = format!(
        "Edition used: NATO, {} ({}; {} are estimates).",
        EDITION.title, EDITION.published, EDITION.estimate_years
    );
    for count in earlier {
        let extra = count
            .note
            .as_ref()
            .map_or_else(String::new, |extra| format!(" ({extra})"));
        note.push_str(&format!(
            "\nNote: NATO's {}, {}, counted {} Allies at or above {}% in {}{extra}; this edition counts {}.",
            count.publication,
            count.published,
            count.allies_meeting,
            count.target_pct,
            count.year,
            status.count_meeting
        ));
    }
    note
}

fn status(nato: &NatoData, args: &StatusArgs) -> anyhow::Result<()> {
    let status = nato.status(args.year, target(args.target)?)?;
    let earlier = differing_editions(&status)?;
    match args.format {
        Format::Json => {
            let mut sources = vec![edition_source()];
            sources.extend(earlier.iter().map(|count| {
                Source::new(
                    format!("NATO, {}", count.publication),
                    count.published.clone(),
                )
            }));
            let mut value = output::with_sources(&status, &sources)?;
            if let Some(object) = value.as_object_mut() {
                object.insert("edition".to_owned(), serde_json::to_value(EDITION)?);
                object.insert(
                    "earlier_editions".to_owned(),
                    serde_json::to_value(&earlier)?,
                );
            }
            output::print_json(&value)
        }
        Format::Csv => print_csv(
            &["iso3", "country", "pct_gdp", "gap_pct_points", "status"],
            status_rows(&status),
        ),
        Format::Table => {
            let mut table = output::table(&["ISO3", "member", "% of GDP", "gap (pp)", "status"]);
            for row in status_rows(&status) {
                table.add_row(row);
            }
            let headline = format!(
                "{}: {} of {} members reporting at or above {}% of GDP ({} without a figure).",
                status.year,
                status.count_meeting,
                status.members_reporting,
                status.target_pct,
                status.missing.len()
            );
            let note = edition_note(&status, &earlier);
            let (headline, note) = (output::notes(&headline), output::notes(&note));
            output::print_text(&format!("{headline}\n{table}\n{note}"))
        }
    }
}

fn status_rows(status: &SpendingStatus) -> Vec<Vec<String>> {
    let meeting = status.meeting.iter().map(|m| {
        vec![
            m.iso3.to_owned(),
            m.country.clone(),
            m.pct_gdp.to_string(),
            String::new(),
            "meets".to_owned(),
        ]
    });
    let below = status.below.iter().map(|b| {
        vec![
            b.iso3.to_owned(),
            b.country.clone(),
            b.pct_gdp.to_string(),
            b.gap_pct_points.to_string(),
            "below".to_owned(),
        ]
    });
    let missing = status.missing.iter().map(|m| {
        vec![
            m.iso3.to_owned(),
            m.country.clone(),
            String::new(),
            String::new(),
            "no figure".to_owned(),
        ]
    });
    meeting.chain(below).chain(missing).collect()
}

fn trend(nato: &NatoData, args: &TrendArgs) -> anyhow::Result<()> {
    let country = Country::parse(&args.country).context("the member")?;
    let trend = nato.trend(country)?;
    match args.format {
        Format::Json => output::print_json_with_sources(&trend, &[edition_source()]),
        Format::Csv => print_csv(
            &["year", "pct_gdp", "estimate", "pct_equipment", "member"],
            trend_rows(&trend, ""),
        ),
        Format::Table => {
            let mut table = output::table(&[
                "year",
                "% of GDP",
                "estimate",
                "equipment % of defence",
                "member",
            ]);
            for row in trend_rows(&trend, "missing") {
                table.add_row(row);
            }
            let change = trend.change_since_2014_pct_points.map_or_else(
                || "no change can be given (a figure is missing)".to_owned(),
                |change| {
                    let sign = if change.hundredths() >= 0 { "+" } else { "" };
                    format!("{sign}{change} percentage points since 2014")
                },
            );
            let headline = output::notes(&format!(
                "{} ({}), member since {}: {change}.",
                trend.country, trend.iso3, trend.joined_year
            ));
            output::print_text(&format!("{headline}\n{table}\n{}", output::notes(CREDIT)))
        }
    }
}

/// The rows of a series; `missing` is what a year without a figure shows (empty in CSV).
fn trend_rows(trend: &Trend, missing: &str) -> Vec<Vec<String>> {
    let text = |value: Option<Percent>| value.map_or_else(|| missing.to_owned(), |v| v.to_string());
    trend
        .series
        .iter()
        .map(|point| {
            vec![
                point.year.to_string(),
                text(point.pct_gdp),
                if point.estimate {
                    "e".to_owned()
                } else {
                    String::new()
                },
                text(point.pct_equipment),
                point.member.to_string(),
            ]
        })
        .collect()
}

fn path(nato: &NatoData, args: &PathArgs) -> anyhow::Result<()> {
    let steps = nato.path(target(args.target)?, args.by)?;
    match args.format {
        Format::Json => output::print_json_with_sources(
            &serde_json::json!({ "path": steps }),
            &[edition_source()],
        ),
        Format::Csv => print_csv(
            &[
                "iso3",
                "country",
                "latest_year",
                "latest_pct_gdp",
                "target_pct",
                "by_year",
                "years_left",
                "yearly_increase_pct_points",
            ],
            path_rows(&steps),
        ),
        Format::Table => {
            let mut table = output::table(&[
                "ISO3",
                "member",
                "latest year",
                "latest %",
                "target %",
                "by",
                "years",
                "pp a year",
            ]);
            for row in path_rows(&steps) {
                table.add_row(row);
            }
            output::print_text(&format!("{table}\n{}", output::notes(CREDIT)))
        }
    }
}

fn path_rows(steps: &[PathStep]) -> Vec<Vec<String>> {
    let or_blank = |value: Option<String>| value.unwrap_or_default();
    steps
        .iter()
        .map(|step| {
            vec![
                step.iso3.to_owned(),
                step.country.clone(),
                or_blank(step.latest_year.map(|year| year.to_string())),
                or_blank(step.latest_pct_gdp.map(|pct| pct.to_string())),
                step.target_pct.to_string(),
                step.by_year.to_string(),
                or_blank(step.years_left.map(|years| years.to_string())),
                or_blank(step.yearly_increase_pct_points.map(|pp| format!("{pp:.3}"))),
            ]
        })
        .collect()
}
