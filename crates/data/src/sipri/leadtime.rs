//! Lead times from order to delivery, by supplier, recipient, category or pair.
//!
//! Definitions (issue 4; kept exact so that results can be checked by hand):
//! - a deal is one row of the register (one deal id in the per-year layout);
//! - `--from`/`--to` filter on the year of order, both inclusive;
//! - lead time to first delivery = first delivery year − order year, over deals with any
//!   delivery;
//! - lead time to full delivery = last delivery year − order year, only where the number
//!   delivered equals the number ordered;
//! - median = the middle value, or the mean of the two middle values for an even count;
//!   p90 = linear interpolation between the closest ranks, as numpy's default
//!   ([`crate::stats`]);
//! - the share of first deliveries within 1, 2 or 3 years counts lead times `<= n` among
//!   the deals with a delivery;
//! - the NATO recipient group counts a deal only if its recipient was a member in the year of
//!   order (joined by the end of that year), unless [`DealFilter::members_any_time`];
//! - a deal whose first delivery comes before its year of order is a data error: it is
//!   listed in [`LeadTimeReport::data_errors`] and kept out of every statistic;
//! - undelivered deals are counted in every row, and a Kaplan–Meier estimate of the years to
//!   first delivery ([`crate::stats::KaplanMeier`]) treats them as censored at the register's
//!   last year ([`TradeRegister::last_year`]): still waiting after that many years. The plain
//!   median and p90 above cover delivered deals only and so lean towards fast deals when
//!   many are still waiting.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};

use expedite_core::Country;
use serde::Serialize;

use super::{Deal, Party, TradeRegister};
use crate::{DataError, stats};

/// Which deals to keep by status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatusFilter {
    /// New weapons only.
    New,
    /// Second-hand weapons, modernised or not.
    SecondHand,
    /// Everything.
    #[default]
    All,
}

impl StatusFilter {
    fn admits(self, deal: &Deal) -> bool {
        match self {
            StatusFilter::New => !deal.status.is_second_hand(),
            StatusFilter::SecondHand => deal.status.is_second_hand(),
            StatusFilter::All => true,
        }
    }
}

/// What to group lead times by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GroupBy {
    /// The supplier, as SIPRI names it.
    #[default]
    Supplier,
    /// The recipient, as SIPRI names it.
    Recipient,
    /// The weapon category ([`Deal::category`]).
    Category,
    /// The pair, keyed `Supplier -> Recipient`.
    SupplierRecipient,
}

impl GroupBy {
    fn key(self, deal: &Deal) -> Cow<'_, str> {
        match self {
            GroupBy::Supplier => Cow::Borrowed(&deal.supplier.name),
            GroupBy::Recipient => Cow::Borrowed(&deal.recipient.name),
            GroupBy::Category => Cow::Borrowed(deal.category()),
            GroupBy::SupplierRecipient => {
                Cow::Owned(format!("{} -> {}", deal.supplier, deal.recipient))
            }
        }
    }
}

/// A named group of recipients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecipientGroup {
    /// NATO members (the accession table of `expedite-core`).
    Nato,
}

impl RecipientGroup {
    /// Whether the party belongs to the group: in `year` (joined by the end of it), or with
    /// `year` `None`, at any time up to now.
    fn contains(self, party: &Party, year: Option<i32>) -> bool {
        match self {
            RecipientGroup::Nato => party
                .country
                .and_then(|country| country.nato_accession())
                .is_some_and(|joined| year.is_none_or(|year| i32::from(joined.year()) <= year)),
        }
    }
}

/// A supplier or recipient named on the command line: a country (ISO3 code, English name or
/// SIPRI spelling), or else a name exactly as SIPRI spells it (`NATO**`,
/// `Hezbollah (Lebanon)*`), compared without regard to case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartySelector {
    /// Every party that is this country.
    Country(Country),
    /// A party by its SIPRI name.
    Name(String),
}

impl PartySelector {
    /// A country where the text names one, else a SIPRI name.
    pub fn parse(text: &str) -> PartySelector {
        match Country::parse(text) {
            Ok(country) if !text.trim().ends_with('*') => PartySelector::Country(country),
            _ => PartySelector::Name(text.trim().to_owned()),
        }
    }

    /// Whether the party is the one selected.
    pub fn matches(&self, party: &Party) -> bool {
        match self {
            PartySelector::Country(country) => party.country == Some(*country),
            PartySelector::Name(name) => party.name.eq_ignore_ascii_case(name),
        }
    }
}

/// The filters of `expedite sipri leadtimes|deals`. The default keeps every deal.
#[derive(Debug, Clone, Default)]
pub struct DealFilter {
    /// Earliest year of order (inclusive).
    pub from_year: Option<i32>,
    /// Latest year of order (inclusive).
    pub to_year: Option<i32>,
    /// New, second-hand or all.
    pub status: StatusFilter,
    /// Any of these suppliers; empty = any supplier.
    pub suppliers: Vec<PartySelector>,
    /// Any of these recipients, or any member of `recipient_group`; both empty = any.
    pub recipients: Vec<PartySelector>,
    /// A group of recipients, added to `recipients`.
    pub recipient_group: Option<RecipientGroup>,
    /// Count a recipient in `recipient_group` whenever it joined, not only for deals ordered
    /// while it was a member.
    pub members_any_time: bool,
}

impl DealFilter {
    /// Whether a deal passes every filter.
    pub fn matches(&self, deal: &Deal) -> bool {
        self.from_year.is_none_or(|from| deal.order_year >= from)
            && self.to_year.is_none_or(|to| deal.order_year <= to)
            && self.status.admits(deal)
            && (self.suppliers.is_empty()
                || self.suppliers.iter().any(|s| s.matches(&deal.supplier)))
            && self.admits_recipient(&deal.recipient, deal.order_year)
    }

    fn admits_recipient(&self, recipient: &Party, order_year: i32) -> bool {
        if self.recipients.is_empty() && self.recipient_group.is_none() {
            return true;
        }
        let year = (!self.members_any_time).then_some(order_year);
        self.recipients
            .iter()
            .any(|selector| selector.matches(recipient))
            || self
                .recipient_group
                .is_some_and(|group| group.contains(recipient, year))
    }

    /// Checks that every name that is not a country occurs in the register, so that a typo
    /// is an error rather than an empty result.
    ///
    /// # Errors
    /// [`DataError::UnknownParty`] for the first name found nowhere.
    pub fn check_names(&self, register: &TradeRegister) -> Result<(), DataError> {
        let is_name = |selector: &PartySelector| matches!(selector, PartySelector::Name(_));
        if !self.suppliers.iter().chain(&self.recipients).any(is_name) {
            return Ok(());
        }
        let suppliers: HashSet<String> = register
            .deals
            .iter()
            .map(|deal| deal.supplier.name.to_lowercase())
            .collect();
        let recipients: HashSet<String> = register
            .deals
            .iter()
            .map(|deal| deal.recipient.name.to_lowercase())
            .collect();
        let unknown = |selectors: &[PartySelector], known: &HashSet<String>| {
            selectors.iter().find_map(|selector| match selector {
                PartySelector::Name(name) if !known.contains(&name.to_lowercase()) => {
                    Some(name.clone())
                }
                _ => None,
            })
        };
        if let Some(name) = unknown(&self.suppliers, &suppliers) {
            return Err(DataError::UnknownParty {
                role: "supplier",
                name,
            });
        }
        if let Some(name) = unknown(&self.recipients, &recipients) {
            return Err(DataError::UnknownParty {
                role: "recipient",
                name,
            });
        }
        Ok(())
    }
}

/// The deals that pass the filter, in register order.
pub fn select<'a>(register: &'a TradeRegister, filter: &DealFilter) -> Vec<&'a Deal> {
    register
        .deals
        .iter()
        .filter(|deal| filter.matches(deal))
        .collect()
}

/// Where the numbers come from: the export's date and how many rows it had.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceInfo {
    /// The export's `Data generated:` value.
    pub generated: Option<String>,
    /// Records in the file.
    pub rows: usize,
}

impl SourceInfo {
    /// The source line of a register.
    pub fn of(register: &TradeRegister) -> SourceInfo {
        SourceInfo {
            generated: register.generated.clone(),
            rows: register.records,
        }
    }
}

/// Lead times of each group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeadTimeReport {
    /// The export read.
    pub source: SourceInfo,
    /// The register's last year, at which undelivered deals are censored.
    pub censored_at_year: Option<i32>,
    /// One entry per group, most deals first, then by key.
    pub groups: Vec<LeadTimeGroup>,
    /// Deals that passed the filters but whose first delivery comes before their year of
    /// order: errors in the data, left out of every statistic.
    pub data_errors: Vec<LeadTimeDataError>,
}

/// A deal delivered before it was ordered, as the register has it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeadTimeDataError {
    /// Physical line of the deal in the export.
    pub line: u64,
    /// `SIPRI AT Database ID` (per-year layout only).
    pub sipri_id: Option<u64>,
    /// The supplier.
    pub supplier: String,
    /// The recipient.
    pub recipient: String,
    /// The weapon designation.
    pub designation: String,
    /// Year of order.
    pub order_year: i32,
    /// Year of the first delivery, before the year of order.
    pub first_delivery_year: i32,
}

impl LeadTimeDataError {
    /// The error of a deal whose first delivery precedes its order, if it has one.
    pub fn of(deal: &Deal) -> Option<LeadTimeDataError> {
        let first = deal.first_delivery_year()?;
        (first < deal.order_year).then(|| LeadTimeDataError {
            line: deal.line,
            sipri_id: deal.sipri_id,
            supplier: deal.supplier.name.clone(),
            recipient: deal.recipient.name.clone(),
            designation: deal.designation.clone(),
            order_year: deal.order_year,
            first_delivery_year: first,
        })
    }
}

/// Lead-time statistics of one group of deals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeadTimeGroup {
    /// The supplier, recipient, category or `Supplier -> Recipient`.
    pub key: String,
    /// Deals in the group.
    pub deals: usize,
    /// Deals with any delivery.
    pub deals_with_delivery: usize,
    /// Deals whose number delivered equals the number ordered; `None` (JSON `null`, CSV
    /// empty) when no deal of the group has a number ordered, as in the per-delivery-year
    /// layout: unknown, not zero.
    pub deals_fully_delivered: Option<usize>,
    /// Deals without any delivery yet (censored in the Kaplan–Meier estimate).
    pub deals_undelivered: usize,
    /// More than half of the deals have no delivery: the plain statistics of
    /// `first_delivery_years` describe the minority that does.
    pub mostly_undelivered: bool,
    /// Years from order to first delivery.
    pub first_delivery_years: FirstDeliveryYears,
    /// Years from order to first delivery, Kaplan–Meier over every deal (undelivered deals
    /// censored at the register's last year).
    pub first_delivery_years_km: KaplanMeierYears,
    /// Years from order to the last delivery of fully delivered deals.
    pub full_delivery_years: FullDeliveryYears,
    /// Share of deals with a delivery whose first delivery came within 1, 2 and 3 years.
    pub share_first_delivery_within_years: ShareWithin,
    /// Sum of `SIPRI TIV for total order` (millions) over the deals that have one, rounded
    /// to 2 decimals; `None` (JSON `null`, CSV empty) when no deal of the group has a figure,
    /// as in the per-delivery-year layout: missing, not zero.
    pub tiv_total_order: Option<f64>,
}

/// Statistics of the years to first delivery; `None` when no deal has a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FirstDeliveryYears {
    /// Median.
    pub median: Option<f64>,
    /// 90th percentile.
    pub p90: Option<f64>,
    /// Mean.
    pub mean: Option<f64>,
}

/// Kaplan–Meier quantiles of the years to first delivery; `None` where the estimated share
/// still waiting never falls that low (the quantile lies beyond the data).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct KaplanMeierYears {
    /// Years by which half of the deals are estimated to have a first delivery.
    pub median: Option<f64>,
    /// Years by which 90% are.
    pub p90: Option<f64>,
}

/// Statistics of the years to full delivery; `None` when no deal is fully delivered.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FullDeliveryYears {
    /// Median.
    pub median: Option<f64>,
}

/// Shares (0–1) of first deliveries within 1, 2 and 3 years of the order.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ShareWithin {
    /// Within one year.
    #[serde(rename = "1")]
    pub one: Option<f64>,
    /// Within two years.
    #[serde(rename = "2")]
    pub two: Option<f64>,
    /// Within three years.
    #[serde(rename = "3")]
    pub three: Option<f64>,
}

/// Lead times of the deals that pass `filter`, grouped by `by`.
pub fn lead_times(register: &TradeRegister, filter: &DealFilter, by: GroupBy) -> LeadTimeReport {
    let mut groups: BTreeMap<Cow<'_, str>, Vec<&Deal>> = BTreeMap::new();
    let mut data_errors = Vec::new();
    for deal in register.deals.iter().filter(|deal| filter.matches(deal)) {
        match LeadTimeDataError::of(deal) {
            Some(error) => data_errors.push(error),
            None => groups.entry(by.key(deal)).or_default().push(deal),
        }
    }
    let censored_at_year = register.last_year();
    let mut groups: Vec<LeadTimeGroup> = groups
        .into_iter()
        .map(|(key, deals)| summarize(key.into_owned(), &deals, censored_at_year))
        .collect();
    groups.sort_by(|a, b| b.deals.cmp(&a.deals).then_with(|| a.key.cmp(&b.key)));
    LeadTimeReport {
        source: SourceInfo::of(register),
        censored_at_year,
        groups,
        data_errors,
    }
}

/// The statistics of one group of deals (none of them a data error), undelivered deals
/// censored at `censored_at_year` (`None`: no Kaplan–Meier estimate).
pub fn summarize(key: String, deals: &[&Deal], censored_at_year: Option<i32>) -> LeadTimeGroup {
    let mut to_first: Vec<f64> = deals
        .iter()
        .filter_map(|deal| deal.years_to_first_delivery())
        .map(f64::from)
        .collect();
    to_first.sort_by(f64::total_cmp);
    let to_full: Vec<f64> = deals
        .iter()
        .filter_map(|deal| deal.years_to_full_delivery())
        .map(f64::from)
        .collect();
    let share_within = |years: f64| {
        (!to_first.is_empty()).then(|| {
            let within = to_first.iter().filter(|&&lead| lead <= years).count();
            round(within as f64 / to_first.len() as f64, 4)
        })
    };
    let known_tiv: Vec<f64> = deals
        .iter()
        .filter_map(|deal| deal.tiv_total_order)
        .collect();
    // Starting from +0.0: an empty f64 sum is -0.0, which would print as "-0".
    let tiv = (!known_tiv.is_empty()).then(|| known_tiv.iter().fold(0.0, |sum, tiv| sum + tiv));
    let deals_undelivered = deals.len() - to_first.len();
    let km = censored_at_year.map(|last_year| {
        stats::KaplanMeier::new(
            deals
                .iter()
                .map(|deal| match deal.years_to_first_delivery() {
                    Some(years) => (f64::from(years), true),
                    None => (f64::from((last_year - deal.order_year).max(0)), false),
                }),
        )
    });
    let km_quantile = |share: f64| km.as_ref().and_then(|km| km.quantile(share));
    LeadTimeGroup {
        key,
        deals: deals.len(),
        deals_with_delivery: to_first.len(),
        deals_fully_delivered: deals
            .iter()
            .any(|deal| deal.number_ordered.is_some())
            .then(|| {
                deals
                    .iter()
                    .filter(|deal| deal.is_fully_delivered())
                    .count()
            }),
        deals_undelivered,
        mostly_undelivered: deals_undelivered * 2 > deals.len(),
        first_delivery_years: FirstDeliveryYears {
            median: stats::percentile_of_sorted(&to_first, 50.0).map(|v| round(v, 4)),
            p90: stats::percentile_of_sorted(&to_first, 90.0).map(|v| round(v, 4)),
            mean: stats::mean(&to_first).map(|v| round(v, 4)),
        },
        first_delivery_years_km: KaplanMeierYears {
            median: km_quantile(0.5),
            p90: km_quantile(0.9),
        },
        full_delivery_years: FullDeliveryYears {
            median: stats::median(&to_full).map(|v| round(v, 4)),
        },
        share_first_delivery_within_years: ShareWithin {
            one: share_within(1.0),
            two: share_within(2.0),
            three: share_within(3.0),
        },
        tiv_total_order: tiv.map(|sum| round(sum, 2)),
    }
}

/// Rounds away binary noise (`4.800000000000001`) for output; statistics of whole years
/// need no more than 4 decimals.
fn round(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}
