//! The case row and its lines: projections of a case's history that the service reads and
//! filters by, each row sealed with a keyed digest.
//!
//! A row whose digest does not match was changed behind the service's back; the service
//! treats it as broken (left out of lists, not served) instead of trusting its
//! `purchaser` or `agency` for an access decision. [`crate::chain::verify_case`] checks every
//! column and every line against the replay of the events.

use expedite_core::RuleBook;
use expedite_core::machine::Case;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::StoreError;
use crate::key::{HistoryKey, same_digest};
use crate::samm;

/// The columns of one `cases` row, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseRow {
    /// Case id.
    pub id: String,
    /// ISO 3166-1 alpha-3 code of the purchaser.
    pub purchaser: String,
    /// Implementing agency.
    pub agency: String,
    /// Sales channel.
    pub channel: String,
    /// Current stage.
    pub stage: String,
    /// Number of events.
    pub version: i64,
    /// Hash of the latest event.
    pub head_hash: String,
    /// SAMM due date, if one applies.
    pub samm_due: Option<String>,
    /// Lower-case search text.
    pub search: String,
    /// The case as replayed, JSON.
    pub state: String,
    /// Day the LOR arrived.
    pub opened_on: String,
    /// Time of the latest write.
    pub updated_at: String,
    /// Keyed digest of every column above.
    pub row_mac: String,
}

/// The columns selected to build a [`CaseRow`].
pub(crate) const CASE_COLUMNS: &str = "id, purchaser, agency, channel, stage, version, head_hash, \
     samm_due, search, state, opened_on, updated_at, row_mac";

/// The purpose label of a case row's keyed digest.
const ROW_LABEL: &str = "case-row";

impl CaseRow {
    /// The keyed digest of the row's columns.
    pub fn mac(&self, key: &HistoryKey) -> String {
        let version = self.version.to_string();
        key.mac(
            ROW_LABEL,
            &[
                self.id.as_bytes(),
                self.purchaser.as_bytes(),
                self.agency.as_bytes(),
                self.channel.as_bytes(),
                self.stage.as_bytes(),
                version.as_bytes(),
                self.head_hash.as_bytes(),
                self.samm_due.as_deref().unwrap_or("\u{0}none").as_bytes(),
                self.search.as_bytes(),
                self.state.as_bytes(),
                self.opened_on.as_bytes(),
                self.updated_at.as_bytes(),
            ],
        )
    }

    /// Whether the row's stored digest is the keyed digest of its columns.
    pub fn is_sealed(&self, key: &HistoryKey) -> bool {
        same_digest(&self.mac(key), &self.row_mac)
    }

    /// Reads the [`CASE_COLUMNS`] of a row.
    pub(crate) fn from_row(row: &AnyRow) -> Result<CaseRow, StoreError> {
        Ok(CaseRow {
            id: row.try_get("id")?,
            purchaser: row.try_get("purchaser")?,
            agency: row.try_get("agency")?,
            channel: row.try_get("channel")?,
            stage: row.try_get("stage")?,
            version: row.try_get("version")?,
            head_hash: row.try_get("head_hash")?,
            samm_due: row.try_get("samm_due")?,
            search: row.try_get("search")?,
            state: row.try_get("state")?,
            opened_on: row.try_get("opened_on")?,
            updated_at: row.try_get("updated_at")?,
            row_mac: row.try_get("row_mac")?,
        })
    }
}

/// One `case_lines` row, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineRow {
    /// Position in the case.
    pub position: i64,
    /// Item description.
    pub item: String,
    /// Units ordered.
    pub quantity: i64,
    /// Price of one unit, in cents.
    pub unit_cents: String,
    /// 1 for Major Defense Equipment.
    pub mde: i64,
    /// Article, service or design and construction.
    pub category: String,
    /// Production line, if named.
    pub production_line: Option<String>,
}

impl LineRow {
    pub(crate) fn from_row(row: &AnyRow) -> Result<LineRow, StoreError> {
        Ok(LineRow {
            position: row.try_get("position")?,
            item: row.try_get("item")?,
            quantity: row.try_get("quantity")?,
            unit_cents: row.try_get("unit_cents")?,
            mde: row.try_get("mde")?,
            category: row.try_get("category")?,
            production_line: row.try_get("production_line")?,
        })
    }
}

/// What the case row and lines must say for a case, derived from the case alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Projection {
    pub(crate) purchaser: String,
    pub(crate) agency: String,
    pub(crate) channel: String,
    pub(crate) stage: String,
    pub(crate) samm_due: Option<String>,
    pub(crate) search: String,
    pub(crate) lines: Vec<LineRow>,
}

impl Projection {
    pub(crate) fn of(case: &Case, rules: &RuleBook) -> Projection {
        Projection {
            purchaser: case.purchaser.iso3().to_owned(),
            agency: case.agency.as_str().to_owned(),
            channel: case.channel.as_str().to_owned(),
            stage: case.stage.as_str().to_owned(),
            samm_due: samm::samm_due(case, rules.samm()).map(|day| day.to_string()),
            search: search_text(case),
            lines: case
                .lines
                .iter()
                .enumerate()
                .map(|(position, line)| LineRow {
                    position: i64::try_from(position).unwrap_or(i64::MAX),
                    item: line.item.clone(),
                    quantity: i64::from(line.quantity),
                    unit_cents: line.unit_usd.cents().to_string(),
                    mde: i64::from(line.mde),
                    category: serde_json::to_value(line.category)
                        .ok()
                        .and_then(|value| value.as_str().map(str::to_owned))
                        .unwrap_or_else(|| "article".to_owned()),
                    production_line: line.production_line.clone(),
                })
                .collect(),
        }
    }
}

/// Lower-case text the `text` filter searches: id, purchaser code and name, agency, items.
fn search_text(case: &Case) -> String {
    let mut parts = vec![
        case.id.as_str().to_owned(),
        case.purchaser.iso3().to_owned(),
        case.purchaser.name().to_owned(),
        case.agency.as_str().to_owned(),
    ];
    for line in &case.lines {
        parts.push(line.item.clone());
        parts.extend(line.production_line.clone());
    }
    parts.join(" | ").to_lowercase()
}
