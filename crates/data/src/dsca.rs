//! DSCA "Major Arms Sales" notifications: what allies asked to buy, 2022–2025.
//!
//! Each row of `data/dsca/notifications.csv` is one congressional notification under AECA
//! §36(b), announced by DSCA, with the public address it was read from (`source_url`;
//! further corroborating addresses in `data/dsca/notification_sources.csv`). The file is a
//! sample of 90, not a census. Values are the notified ceilings, not prices.

use std::collections::BTreeMap;

use expedite_core::{Country, Date, Usd};
use serde::{Deserialize, Serialize};

use crate::DataError;
use crate::nato::read_rows;

const NOTIFICATIONS_CSV: &str = include_str!("../data/dsca/notifications.csv");
const NOTIFICATIONS_FILE: &str = "dsca/notifications.csv";

/// One notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notification {
    /// Date of the announcement (US Eastern); `None` where the day is not known.
    pub date: Option<Date>,
    /// The purchaser as the release names it.
    pub purchaser: String,
    /// The purchasing country (TWN for TECRO).
    #[serde(serialize_with = "serialize_iso3", rename = "iso3")]
    pub country: Country,
    /// The headline system or service.
    pub item: String,
    /// Quantity as stated (may list several items, or say "up to 40").
    pub quantity: Option<String>,
    /// Estimated total case value as announced (a ceiling).
    pub value_usd: Option<Usd>,
    /// Major Defense Equipment value, where a source stated it.
    pub mde_value_usd: Option<Usd>,
    /// Prime contractors named as such.
    pub contractors: Vec<String>,
    /// DSCA transmittal number, where seen.
    pub transmittal: Option<String>,
    /// The best single public source.
    pub source_url: String,
}

fn serialize_iso3<S: serde::Serializer>(
    country: &Country,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(country.iso3())
}

/// The notifications shipped with expedite (`data/dsca/notifications.csv`), in file order.
///
/// # Errors
/// Only if the shipped file were broken; a test reads it.
pub fn builtin() -> Result<Vec<Notification>, DataError> {
    from_csv_str(NOTIFICATIONS_CSV, NOTIFICATIONS_FILE)
}

/// Reads notifications from CSV text of the shipped layout.
///
/// # Errors
/// [`DataError::Field`] naming the line and column of a bad date, code or amount.
pub fn from_csv_str(text: &str, input: &str) -> Result<Vec<Notification>, DataError> {
    read_rows::<Row>(text, input)?
        .into_iter()
        .map(|(line, row)| row.into_notification(input, line))
        .collect()
}

#[derive(Deserialize)]
struct Row {
    date: String,
    purchaser: String,
    iso3: String,
    item: String,
    quantity: String,
    value_usd: String,
    mde_value_usd: String,
    contractors: String,
    transmittal: String,
    source_url: String,
}

impl Row {
    fn into_notification(self, input: &str, line: u64) -> Result<Notification, DataError> {
        let error = |field: &'static str, value: &str, problem: &'static str| DataError::Field {
            input: input.to_owned(),
            line,
            field,
            value: value.to_owned(),
            problem,
        };
        let date = match self.date.trim() {
            "" => None,
            text => Some(
                text.parse::<Date>()
                    .map_err(|_| error("date", text, "expected YYYY-MM-DD"))?,
            ),
        };
        let country = Country::from_iso3(&self.iso3)
            .map_err(|_| error("iso3", &self.iso3, "unknown ISO3 code"))?;
        let amount = |field: &'static str, text: &str| match text.trim() {
            "" => Ok(None),
            text => Usd::parse(text)
                .map(Some)
                .map_err(|_| error(field, text, "expected whole dollars")),
        };
        Ok(Notification {
            date,
            purchaser: self.purchaser,
            country,
            item: self.item,
            quantity: non_empty(self.quantity),
            value_usd: amount("value_usd", &self.value_usd)?,
            mde_value_usd: amount("mde_value_usd", &self.mde_value_usd)?,
            contractors: self
                .contractors
                .split(';')
                .map(str::trim)
                .filter(|name| !name.is_empty())
                .map(str::to_owned)
                .collect(),
            transmittal: non_empty(self.transmittal),
            source_url: self.source_url,
        })
    }
}

fn non_empty(text: String) -> Option<String> {
    if text.trim().is_empty() {
        None
    } else {
        Some(text.trim().to_owned())
    }
}

/// Which notifications to keep. The default keeps all; a date bound drops undated rows.
#[derive(Debug, Clone, Default)]
pub struct NotificationFilter {
    /// Any of these purchasers; empty = any.
    pub purchasers: Vec<Country>,
    /// Announced on or after.
    pub from: Option<Date>,
    /// Announced on or before.
    pub to: Option<Date>,
}

impl NotificationFilter {
    /// Whether a notification passes.
    pub fn matches(&self, notification: &Notification) -> bool {
        let purchaser_ok =
            self.purchasers.is_empty() || self.purchasers.contains(&notification.country);
        let dates_ok = match notification.date {
            Some(date) => {
                self.from.is_none_or(|from| date >= from) && self.to.is_none_or(|to| date <= to)
            }
            None => self.from.is_none() && self.to.is_none(),
        };
        purchaser_ok && dates_ok
    }
}

/// What the shipped notifications are: a sample, its size and the span of its dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SampleInfo {
    /// Notifications in the sample.
    pub notifications: usize,
    /// The earliest announcement date.
    pub first_date: Option<Date>,
    /// The latest announcement date.
    pub last_date: Option<Date>,
}

impl SampleInfo {
    /// The size and date span of a set of notifications.
    pub fn of(notifications: &[Notification]) -> SampleInfo {
        let dates = || notifications.iter().filter_map(|n| n.date);
        SampleInfo {
            notifications: notifications.len(),
            first_date: dates().min(),
            last_date: dates().max(),
        }
    }
}

/// Count and notified value of one purchaser in one year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SummaryRow {
    /// ISO3 code.
    pub iso3: &'static str,
    /// Purchaser name.
    pub purchaser: String,
    /// Year of announcement; `None` for undated notifications.
    pub year: Option<i16>,
    /// Notifications.
    pub count: usize,
    /// Sum of the notified values that were stated.
    pub total_value_usd: Usd,
    /// Notifications without a stated value (not counted in the total).
    pub without_value: usize,
}

/// Count and total notified value by purchaser and year, ordered by ISO3 code and year
/// (undated last).
///
/// # Errors
/// [`DataError::NoData`] only if a sum overflowed (it cannot with real figures).
pub fn summary<'a>(
    notifications: impl IntoIterator<Item = &'a Notification>,
) -> Result<Vec<SummaryRow>, DataError> {
    let mut rows: BTreeMap<(&'static str, bool, Option<i16>), SummaryRow> = BTreeMap::new();
    for notification in notifications {
        let year = notification.date.map(|date| date.year());
        let key = (notification.country.iso3(), year.is_none(), year);
        let row = rows.entry(key).or_insert_with(|| SummaryRow {
            iso3: notification.country.iso3(),
            purchaser: notification.purchaser.clone(),
            year,
            count: 0,
            total_value_usd: Usd::ZERO,
            without_value: 0,
        });
        row.count += 1;
        match notification.value_usd {
            Some(value) => {
                row.total_value_usd = row
                    .total_value_usd
                    .checked_add(value)
                    .map_err(|_| DataError::NoData("notified values overflow".to_owned()))?;
            }
            None => row.without_value += 1,
        }
    }
    Ok(rows.into_values().collect())
}
