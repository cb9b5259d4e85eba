//! The SIPRI Arms Transfers Database trade register: deals from order to delivery.
//!
//! SIPRI publishes the register as a CSV export that a user downloads
//! (<https://www.sipri.org/databases/armstransfers>); expedite reads it and never ships it.
//! Two layouts exist, and [`read`] recognises each by its header line:
//!
//! - [`Layout::PerDeal`], the classic export: one row per deal, with `?` uncertainty flags
//!   in three blank-named columns and the delivery years as a `'; '`-separated list.
//! - [`Layout::PerDeliveryYear`], the newer export: one row per deal and delivery year,
//!   keyed by `SIPRI AT Database ID`, with `Yes`/`No` estimate columns. Rows of one deal
//!   are gathered into one [`Deal`]. This layout does not give the number ordered, so its
//!   deals never count as fully delivered.
//!
//! The reader copes with what real exports hold (see `reader` for the details): a text
//! preamble before the header, ISO-8859-1 text, comments broken across lines without
//! quotes, empty fields, and names with `*` (non-state actor) or `**` (international
//! organisation) suffixes, which are kept as names and not turned into countries.
//!
//! Credit: SIPRI Arms Transfers Database, <https://www.sipri.org/databases/armstransfers>.
//! Lead times computed here are expedite's calculations, not SIPRI's.

pub mod leadtime;
mod reader;

use std::fmt;
use std::io::Read;
use std::path::Path;

use expedite_core::Country;
use serde::Serialize;

use crate::DataError;

pub use reader::parse_bytes;

/// Which export layout a file uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// One row per deal (`Recipient,Supplier,Year of order, ,...`).
    PerDeal,
    /// One row per deal and delivery year (`SIPRI AT Database ID,Supplier,...`).
    PerDeliveryYear,
}

/// A parsed trade register.
#[derive(Debug, Clone)]
pub struct TradeRegister {
    /// The layout the file used.
    pub layout: Layout,
    /// The preamble's `Data generated:` value, as SIPRI wrote it.
    pub generated: Option<String>,
    /// Records read from the file (rows after joining broken lines).
    pub records: usize,
    /// The deals, in file order (for the per-year layout, in order of first appearance).
    pub deals: Vec<Deal>,
}

/// One deal: an order of a number of weapons of one designation by a recipient from a
/// supplier in a year, and what has been delivered of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deal {
    /// Physical line (1-based) where the deal's first record starts.
    pub line: u64,
    /// `SIPRI AT Database ID` (per-year layout only).
    pub sipri_id: Option<u64>,
    /// The receiving party.
    pub recipient: Party,
    /// The supplying party.
    pub supplier: Party,
    /// Year of order.
    pub order_year: i32,
    /// SIPRI marks the order year as uncertain.
    pub order_year_uncertain: bool,
    /// Number ordered; `None` where SIPRI has no data yet (or the layout lacks it).
    pub number_ordered: Option<u32>,
    /// SIPRI marks the number ordered as uncertain.
    pub number_ordered_uncertain: bool,
    /// Weapon designation, e.g. `K2 Black Panther`.
    pub designation: String,
    /// Weapon description, e.g. `tank`.
    pub description: String,
    /// Armament category (per-year layout only), e.g. `Armoured vehicles`.
    pub armament_category: Option<String>,
    /// Number delivered so far.
    pub number_delivered: u32,
    /// SIPRI marks the number delivered as uncertain.
    pub number_delivered_uncertain: bool,
    /// Years with deliveries, ascending, without repeats; empty when none.
    pub delivery_years: Vec<i32>,
    /// New or second-hand.
    pub status: DealStatus,
    /// SIPRI's comments (line breaks inside them kept as `\n`).
    pub comments: String,
    /// TIV per unit, in millions.
    pub tiv_per_unit: Option<f64>,
    /// TIV of the whole order, in millions.
    pub tiv_total_order: Option<f64>,
    /// TIV of what has been delivered, in millions.
    pub tiv_delivered: Option<f64>,
    /// Produced under licence in the recipient country (per-year layout only).
    pub local_production: Option<bool>,
}

impl TradeRegister {
    /// The last year the register covers: the latest year of order or delivery in it.
    /// Undelivered deals have waited at least until then.
    pub fn last_year(&self) -> Option<i32> {
        self.deals
            .iter()
            .flat_map(|deal| std::iter::once(deal.order_year).chain(deal.last_delivery_year()))
            .max()
    }
}

impl Deal {
    /// The first delivery year, if any delivery was made.
    pub fn first_delivery_year(&self) -> Option<i32> {
        self.delivery_years.first().copied()
    }

    /// The last delivery year, if any delivery was made.
    pub fn last_delivery_year(&self) -> Option<i32> {
        self.delivery_years.last().copied()
    }

    /// Years from order to first delivery (rows with any delivery).
    pub fn years_to_first_delivery(&self) -> Option<i32> {
        Some(self.first_delivery_year()? - self.order_year)
    }

    /// Whether the number delivered equals the number ordered (and something was).
    pub fn is_fully_delivered(&self) -> bool {
        !self.delivery_years.is_empty() && self.number_ordered == Some(self.number_delivered)
    }

    /// Years from order to the last delivery, only for fully delivered deals.
    pub fn years_to_full_delivery(&self) -> Option<i32> {
        if self.is_fully_delivered() {
            Some(self.last_delivery_year()? - self.order_year)
        } else {
            None
        }
    }

    /// The weapon category: the armament category where the export has one, else the
    /// weapon description (the per-deal layout has no category column).
    pub fn category(&self) -> &str {
        self.armament_category
            .as_deref()
            .unwrap_or(&self.description)
    }
}

/// A supplier or recipient as SIPRI names it, with the country where the name is a state.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Party {
    /// The name exactly as SIPRI spells it, e.g. `Turkiye`, `NATO**`, `Hezbollah (Lebanon)*`.
    pub name: String,
    /// The country, for states (current or former) only.
    #[serde(serialize_with = "serialize_country")]
    pub country: Option<Country>,
}

fn serialize_country<S: serde::Serializer>(
    country: &Option<Country>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match country {
        Some(country) => serializer.serialize_some(country.iso3()),
        None => serializer.serialize_none(),
    }
}

impl Party {
    /// Resolves a SIPRI name: names with a `*` suffix (non-state actors, `**` international
    /// organisations) and `unknown ...` parties never become countries.
    pub fn from_sipri_name(name: &str) -> Party {
        let name = name.trim();
        let is_state_name = !name.ends_with('*') && !name.starts_with("unknown");
        let country = if is_state_name {
            Country::parse(name).ok()
        } else {
            None
        };
        Party {
            name: name.to_owned(),
            country,
        }
    }

    /// Whether this party is a non-state actor (`*`) or an organisation (`**`).
    pub fn is_non_state(&self) -> bool {
        self.name.ends_with('*')
    }
}

impl fmt::Display for Party {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// Whether the weapons were new.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum DealStatus {
    /// `New`.
    New,
    /// `Second hand`.
    SecondHand,
    /// `Second hand but modernized`.
    SecondHandModernized,
}

impl DealStatus {
    /// Parses SIPRI's status text.
    pub fn parse(text: &str) -> Option<DealStatus> {
        match text.trim() {
            "New" => Some(DealStatus::New),
            "Second hand" => Some(DealStatus::SecondHand),
            "Second hand but modernized" => Some(DealStatus::SecondHandModernized),
            _ => None,
        }
    }

    /// SIPRI's text for this status.
    pub fn as_str(self) -> &'static str {
        match self {
            DealStatus::New => "New",
            DealStatus::SecondHand => "Second hand",
            DealStatus::SecondHandModernized => "Second hand but modernized",
        }
    }

    /// Second hand, modernised or not.
    pub fn is_second_hand(self) -> bool {
        !matches!(self, DealStatus::New)
    }
}

impl fmt::Display for DealStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Reads a trade register from a file.
///
/// # Errors
/// [`DataError::Io`] when the file cannot be read; parse errors as in [`read`], naming the
/// file.
pub fn read_path(path: &Path) -> Result<TradeRegister, DataError> {
    let bytes = std::fs::read(path).map_err(|source| DataError::Io {
        path: path.to_owned(),
        source,
    })?;
    parse_bytes(&bytes, &path.display().to_string())
}

/// Reads a trade register from any reader; `input` names it in error messages.
///
/// # Errors
/// [`DataError::Read`] when the reader fails; [`DataError::NoHeader`] when no known header
/// is found; [`DataError::Field`], [`DataError::FieldCount`] or [`DataError::Csv`] with the
/// line and field of the first bad record.
pub fn read(mut reader: impl Read, input: &str) -> Result<TradeRegister, DataError> {
    let mut bytes = Vec::new();
    reader
        .read_to_end(&mut bytes)
        .map_err(|source| DataError::Read {
            input: input.to_owned(),
            source,
        })?;
    parse_bytes(&bytes, input)
}
