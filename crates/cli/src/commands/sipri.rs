//! `expedite sipri leadtimes|deals`: lead times from order to delivery in the SIPRI trade
//! register the user downloaded (`--file` or `EXPEDITE_SIPRI`).

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use expedite_data::sipri::leadtime::{
    self, DealFilter, GroupBy, LeadTimeReport, PartySelector, RecipientGroup, StatusFilter,
};
use expedite_data::sipri::{self, Deal, TradeRegister};

use crate::output::{self, Format};

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
    /// Earliest year of order (inclusive).
    #[arg(long, value_name = "YEAR")]
    from: Option<i32>,
    /// Latest year of order (inclusive).
    #[arg(long, value_name = "YEAR")]
    to: Option<i32>,
    /// New weapons, second-hand ones (modernised or not), or all.
    #[arg(long, value_enum, default_value_t = StatusArg::All)]
    status: StatusArg,
    /// Supplier, as SIPRI spells it or as an ISO3 code; repeat for several.
    #[arg(long = "supplier", value_name = "NAME")]
    suppliers: Vec<String>,
    /// Recipient, as SIPRI spells it or as an ISO3 code; repeat for several.
    #[arg(long = "recipient", value_name = "NAME")]
    recipients: Vec<String>,
    /// A group of recipients: `nato` = the 32 current members.
    #[arg(long, value_enum)]
    recipient_group: Option<GroupArg>,
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
    let trade_register =
        sipri::read_path(&register.file).context("cannot read the SIPRI trade register")?;
    let filter = DealFilter {
        from_year: filter.from,
        to_year: filter.to,
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
        Format::Json => output::print_json(&report),
        Format::Csv => output::print_csv(&LEADTIME_COLUMNS, leadtime_rows(&report)),
        Format::Table => {
            let mut table = output::table(&LEADTIME_HEADINGS);
            for row in leadtime_rows(&report) {
                table.add_row(row);
            }
            output::print_text(&format!("{table}\n{}\n{CREDIT}", source_line(&report)))
        }
    }
}

const LEADTIME_COLUMNS: [&str; 12] = [
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
];

const LEADTIME_HEADINGS: [&str; 12] = [
    "group",
    "deals",
    "with delivery",
    "fully delivered",
    "first: median yrs",
    "first: p90 yrs",
    "first: mean yrs",
    "full: median yrs",
    "first ≤1y",
    "first ≤2y",
    "first ≤3y",
    "TIV ordered (m)",
];

fn leadtime_rows(report: &LeadTimeReport) -> Vec<Vec<String>> {
    let number = |value: Option<f64>| value.map_or_else(String::new, |value| value.to_string());
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
                group.deals_fully_delivered.to_string(),
                number(first.median),
                number(first.p90),
                number(first.mean),
                number(group.full_delivery_years.median),
                number(share.one),
                number(share.two),
                number(share.three),
                group
                    .tiv_total_order
                    .map_or_else(String::new, |tiv| tiv.to_string()),
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
            output::print_json(&rows)
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
            output::print_text(&format!("{table}\n{} deals.\n{CREDIT}", selected.len()))
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
