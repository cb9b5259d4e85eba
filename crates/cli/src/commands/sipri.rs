//! `expedite sipri leadtimes|deals`: lead times from order to delivery in the SIPRI trade
//! register the user downloaded (`--file` or `EXPEDITE_SIPRI`).

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use expedite_data::sipri::leadtime::{
    self, DealFilter, GroupBy, LeadTimeDataError, LeadTimeReport, PartySelector, RecipientGroup,
    StatusFilter,
};
use expedite_data::sipri::{self, Deal, TradeRegister};

use crate::output::{self, Format, Source};
use crate::period::{self, YearOrDate};

/// SIPRI's attribution (its user rules) and ours: the statistics are expedite's.
const CREDIT: &str = "Source: SIPRI Arms Transfers Database, https://www.sipri.org/databases/armstransfers \
(lead-time statistics are expedite's calculations, not SIPRI's)";

/// The `sipri` subcommands.
#[derive(Debug, Subcommand)]
pub enum SipriCommand {
    /// Years from order to first and to full delivery, by supplier, recipient, category or pair.
    Leadtimes(LeadtimesArgs),
    /// The deals that match the filters.
    Deals(DealsArgs),
}

/// Where the trade register is.
#[derive(Debug, Args)]
pub struct RegisterFile {
    /// The trade register CSV exported from the SIPRI Arms Transfers Database.
    #[arg(long = "file", env = "EXPEDITE_SIPRI", value_name = "PATH")]
    file: PathBuf,
}

/// Filters shared by `leadtimes` and `deals`.
#[derive(Debug, Args)]
pub struct FilterArgs {
    /// Earliest year of order (inclusive): a year, or a date standing for its year (SIPRI
    /// records only the year of order).
    #[arg(long, value_name = "YEAR|DATE")]
    from: Option<YearOrDate>,
    /// Latest year of order (inclusive): a year, or a date standing for its year.
    #[arg(long, value_name = "YEAR|DATE")]
    to: Option<YearOrDate>,
    /// New weapons, second-hand ones (modernised or not), or all.
    #[arg(long, value_enum, default_value_t = StatusArg::All)]
    status: StatusArg,
    /// Supplier, as SIPRI spells it or as an ISO3 code; repeat for several.
    #[arg(long = "supplier", value_name = "NAME")]
    suppliers: Vec<String>,
    /// Recipient, as SIPRI spells it or as an ISO3 code; repeat for several.
    #[arg(long = "recipient", value_name = "NAME")]
    recipients: Vec<String>,
    /// A group of recipients: `nato` = NATO members, each counted only for deals ordered in
    /// a year it was a member.
    #[arg(long, value_enum)]
    recipient_group: Option<GroupArg>,
    /// With `--recipient-group`: count every deal of a member, also those ordered before it
    /// joined.
    #[arg(long, requires = "recipient_group")]
    members_any_time: bool,
}

/// `--status`.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum StatusArg {
    New,
    SecondHand,
    All,
}

/// `--recipient-group`.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum GroupArg {
    Nato,
}

/// `--by`.
#[derive(Debug, Clone, Copy, Default, ValueEnum)]
enum ByArg {
    #[default]
    Supplier,
    Recipient,
    Category,
    SupplierRecipient,
}

/// Arguments of `sipri leadtimes`.
#[derive(Debug, Args)]
pub struct LeadtimesArgs {
    #[command(flatten)]
    register: RegisterFile,
    #[command(flatten)]
    filter: FilterArgs,
    /// What to group by.
    #[arg(long, value_enum, default_value_t)]
    by: ByArg,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// Arguments of `sipri deals`.
#[derive(Debug, Args)]
pub struct DealsArgs {
    #[command(flatten)]
    register: RegisterFile,
    #[command(flatten)]
    filter: FilterArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// Runs a `sipri` subcommand.
pub fn run(command: SipriCommand) -> anyhow::Result<()> {
    match command {
        SipriCommand::Leadtimes(args) => leadtimes(&args),
        SipriCommand::Deals(args) => deals(&args),
    }
}

fn load(
    register: &RegisterFile,
    filter: &FilterArgs,
) -> anyhow::Result<(TradeRegister, DealFilter)> {
    period::check_range(filter.from, filter.to)?;
    let trade_register =
        sipri::read_path(&register.file).context("cannot read the SIPRI trade register")?;
    let filter = DealFilter {
        from_year: filter.from.map(YearOrDate::year),
        to_year: filter.to.map(YearOrDate::year),
        members_any_time: filter.members_any_time,
        status: match filter.status {
            StatusArg::New => StatusFilter::New,
            StatusArg::SecondHand => StatusFilter::SecondHand,
            StatusArg::All => StatusFilter::All,
        },
        suppliers: filter
            .suppliers
            .iter()
            .map(|name| PartySelector::parse(name))
            .collect(),
        recipients: filter
            .recipients
            .iter()
            .map(|name| PartySelector::parse(name))
            .collect(),
        recipient_group: filter
            .recipient_group
            .map(|GroupArg::Nato| RecipientGroup::Nato),
    };
    filter.check_names(&trade_register)?;
    Ok((trade_register, filter))
}

fn leadtimes(args: &LeadtimesArgs) -> anyhow::Result<()> {
    let (register, filter) = load(&args.register, &args.filter)?;
    let by = match args.by {
        ByArg::Supplier => GroupBy::Supplier,
        ByArg::Recipient => GroupBy::Recipient,
        ByArg::Category => GroupBy::Category,
        ByArg::SupplierRecipient => GroupBy::SupplierRecipient,
    };
    let report = leadtime::lead_times(&register, &filter, by);
    match args.format {
        Format::Json => output::print_json_with_sources(&report, &sources(&register)),
        Format::Csv => {
            print_data_errors_note(&report.data_errors);
            output::print_csv(&LEADTIME_COLUMNS, leadtime_rows(&report))
        }
        Format::Table => {
            let mut table = output::table(&LEADTIME_HEADINGS);
            for group in &report.groups {
                table.add_row(leadtime_table_row(group));
            }
            let mut text = source_line(&report);
            text.push_str(&format!(
                "\nYears from order to first delivery. med, p90: over the delivered (deliv.) \
                 deals only; KM: Kaplan-Meier over every deal, counting the others as still waiting in {} \
                 (n/r: not reached by then). full med: to full delivery.",
                report
                    .censored_at_year
                    .map_or_else(|| "the register's last year".to_owned(), |y| y.to_string())
            ));
            if report.groups.iter().any(|group| group.mostly_undelivered) {
                text.push_str(
                    "\n! most deals of this group have no delivery yet: med and p90 describe the \
                     fast minority; read KM med and KM p90.",
                );
            }
            text.push_str(&data_errors_text(&report.data_errors));
            let notes = output::notes(&format!("{text}\n{CREDIT}"));
            output::print_text(&format!("{table}\n{notes}"))
        }
    }
}

/// The sources of every `sipri` output: the export read, dated by its `Data generated:`
/// line (`13 Mar 2025 10:02:49 AM` becomes `2025-03-13`; kept as written if it has another
/// form).
fn sources(register: &TradeRegister) -> Vec<Source> {
    let name = "SIPRI Arms Transfers Database, trade register export";
    vec![match &register.generated {
        Some(generated) => {
            let date = jiff::fmt::strtime::parse("%d %b %Y %I:%M:%S %p", generated.trim())
                .and_then(|parsed| parsed.to_date())
                .map_or_else(|_| generated.clone(), |date| date.to_string());
            Source::new(name, date)
        }
        None => Source::undated(name),
    }]
}

/// CSV has no room for them, so the deals left out as data errors are named on stderr.
fn print_data_errors_note(errors: &[LeadTimeDataError]) {
    if !errors.is_empty() {
        output::note(data_errors_text(errors).trim_start());
    }
}

fn data_errors_text(errors: &[LeadTimeDataError]) -> String {
    let mut text = String::new();
    if errors.is_empty() {
        return text;
    }
    text.push_str(&format!(
        "\nLeft out as data errors ({}): deals whose first delivery comes before their year of order:",
        errors.len()
    ));
    for error in errors {
        text.push_str(&format!(
            "\n  line {}: {} -> {}, {}: ordered {}, first delivery {}",
            error.line,
            error.supplier,
            error.recipient,
            error.designation,
            error.order_year,
            error.first_delivery_year
        ));
    }
    text
}

const LEADTIME_COLUMNS: [&str; 17] = [
    "key",
    "deals",
    "deals_with_delivery",
    "deals_fully_delivered",
    "first_delivery_years_median",
    "first_delivery_years_p90",
    "first_delivery_years_mean",
    "full_delivery_years_median",
    "share_first_delivery_within_1",
    "share_first_delivery_within_2",
    "share_first_delivery_within_3",
    "tiv_total_order",
    "deals_undelivered",
    "first_delivery_years_km_median",
    "first_delivery_years_km_p90",
    "mostly_undelivered",
    "censored_at_year",
];

/// The table for people: the shares and the mean are in CSV and JSON.
const LEADTIME_HEADINGS: [&str; 10] = [
    "group", "deals", "deliv.", "waiting", "med", "p90", "KM med", "KM p90", "full med", "TIV (m)",
];

fn number(value: Option<f64>) -> String {
    output::csv_cell(value)
}

fn leadtime_table_row(group: &leadtime::LeadTimeGroup) -> Vec<String> {
    let first = &group.first_delivery_years;
    let km = &group.first_delivery_years_km;
    // n/r: not reached, too few deals delivered by the end of the data to estimate it.
    let km_cell = |value: Option<f64>| value.map_or_else(|| "n/r".to_owned(), |v| v.to_string());
    let key = if group.mostly_undelivered {
        format!("{} !", group.key)
    } else {
        group.key.clone()
    };
    vec![
        key,
        group.deals.to_string(),
        group.deals_with_delivery.to_string(),
        group.deals_undelivered.to_string(),
        number(first.median),
        number(first.p90),
        km_cell(km.median),
        km_cell(km.p90),
        number(group.full_delivery_years.median),
        number(group.tiv_total_order),
    ]
}

fn leadtime_rows(report: &LeadTimeReport) -> Vec<Vec<String>> {
    report
        .groups
        .iter()
        .map(|group| {
            let first = &group.first_delivery_years;
            let share = &group.share_first_delivery_within_years;
            vec![
                group.key.clone(),
                group.deals.to_string(),
                group.deals_with_delivery.to_string(),
                output::csv_cell(group.deals_fully_delivered),
                number(first.median),
                number(first.p90),
                number(first.mean),
                number(group.full_delivery_years.median),
                number(share.one),
                number(share.two),
                number(share.three),
                number(group.tiv_total_order),
                group.deals_undelivered.to_string(),
                number(group.first_delivery_years_km.median),
                number(group.first_delivery_years_km.p90),
                group.mostly_undelivered.to_string(),
                output::csv_cell(report.censored_at_year),
            ]
        })
        .collect()
}

fn source_line(report: &LeadTimeReport) -> String {
    let generated = report.source.generated.as_deref().unwrap_or("unknown date");
    format!(
        "{} rows read from an export generated {generated}.",
        report.source.rows
    )
}

fn deals(args: &DealsArgs) -> anyhow::Result<()> {
    let (register, filter) = load(&args.register, &args.filter)?;
    let selected = leadtime::select(&register, &filter);
    match args.format {
        Format::Json => {
            let rows: Vec<DealRow<'_>> = selected.iter().map(|deal| DealRow::of(deal)).collect();
            output::print_json_with_sources(
                &serde_json::json!({ "deals": rows }),
                &sources(&register),
            )
        }
        Format::Csv => output::print_csv(
            &DEAL_COLUMNS,
            selected.iter().map(|deal| deal_cells(deal)).collect(),
        ),
        Format::Table => {
            let mut table = output::table(&DEAL_COLUMNS);
            for deal in &selected {
                table.add_row(deal_cells(deal));
            }
            let notes = output::notes(&format!("{} deals.\n{CREDIT}", selected.len()));
            output::print_text(&format!("{table}\n{notes}"))
        }
    }
}

const DEAL_COLUMNS: [&str; 8] = [
    "recipient",
    "supplier",
    "designation",
    "order_year",
    "ordered",
    "delivered",
    "delivery_years",
    "status",
];

/// A deal as `sipri deals --format json` prints it.
#[derive(serde::Serialize)]
struct DealRow<'a> {
    recipient: &'a str,
    supplier: &'a str,
    designation: &'a str,
    order_year: i32,
    ordered: Option<u32>,
    delivered: u32,
    delivery_years: &'a [i32],
    status: &'static str,
}

impl<'a> DealRow<'a> {
    fn of(deal: &'a Deal) -> Self {
        DealRow {
            recipient: &deal.recipient.name,
            supplier: &deal.supplier.name,
            designation: &deal.designation,
            order_year: deal.order_year,
            ordered: deal.number_ordered,
            delivered: deal.number_delivered,
            delivery_years: &deal.delivery_years,
            status: deal.status.as_str(),
        }
    }
}

fn deal_cells(deal: &Deal) -> Vec<String> {
    let years: Vec<String> = deal.delivery_years.iter().map(i32::to_string).collect();
    vec![
        deal.recipient.name.clone(),
        deal.supplier.name.clone(),
        deal.designation.clone(),
        deal.order_year.to_string(),
        deal.number_ordered
            .map_or_else(String::new, |n| n.to_string()),
        deal.number_delivered.to_string(),
        years.join("; "),
        deal.status.as_str().to_owned(),
    ]
}
