//! What the store hands out and takes in: stored cases, event records, list filters.

use expedite_core::machine::Case;
use expedite_core::{Agency, CaseId, Country, Date, Event, NewCase, Stage};
use serde::{Deserialize, Serialize};

/// Who writes, and when: recorded in every event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    /// The name of the token that made the write.
    pub name: String,
    /// When the write was made (passed in: the store reads no clock).
    pub at: jiff::Timestamp,
}

/// A case as of its latest event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredCase {
    /// The case, as the core stage machine built it from the events.
    pub case: Case,
    /// How many events the case has; the version a transition must name.
    pub version: i64,
    /// The day an offer (or, before the LOR is actionable, its validation) is due under the
    /// SAMM targets, while one is due ([`crate::samm::samm_due`]).
    pub samm_due: Option<Date>,
}

/// What an event changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Change {
    /// The case was opened from its Letter of Request.
    Opened(NewCase),
    /// A transition the stage machine accepted.
    Event(Event),
}

/// One stored event with its place in the hash chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventRecord {
    /// The case.
    pub case: CaseId,
    /// Position in the case's history, from 0 (the opening).
    pub seq: i64,
    /// The token name that made it.
    pub actor: String,
    /// When it was recorded.
    pub recorded_at: jiff::Timestamp,
    /// What changed.
    pub change: Change,
    /// Hash of the previous event (64 zeros for the first).
    pub prev_hash: String,
    /// SHA-256 over `prev_hash` and this event's canonical JSON.
    pub hash: String,
}

/// Which cases a caller may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every case.
    All,
    /// The cases of one purchasing country.
    Purchaser(Country),
    /// The cases of one implementing agency.
    Agency(Agency),
}

impl Scope {
    /// Whether a case is inside this scope.
    pub fn covers(self, case: &Case) -> bool {
        self.covers_party(case.purchaser, case.agency)
    }

    /// Whether a case of this purchaser and implementing agency is inside this scope.
    pub fn covers_party(self, purchaser: Country, agency: Agency) -> bool {
        match self {
            Scope::All => true,
            Scope::Purchaser(country) => purchaser == country,
            Scope::Agency(own) => agency == own,
        }
    }
}

/// Which cases to list, and which page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFilter {
    /// The caller's scope: nothing outside it is listed or counted.
    pub scope: Scope,
    /// Only cases in this stage.
    pub stage: Option<Stage>,
    /// Only cases of this purchaser.
    pub purchaser: Option<Country>,
    /// Only cases whose SAMM due date is before this day (late on it).
    pub late_on: Option<Date>,
    /// Only cases whose id, purchaser, agency or items contain this text (any case).
    pub text: Option<String>,
    /// Page size.
    pub limit: u32,
    /// Cases to skip.
    pub offset: u32,
}

impl CaseFilter {
    /// Every case in a scope, first page of 50.
    pub fn all_in(scope: Scope) -> CaseFilter {
        CaseFilter {
            scope,
            stage: None,
            purchaser: None,
            late_on: None,
            text: None,
            limit: 50,
            offset: 0,
        }
    }
}

/// One page of cases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CasePage {
    /// The cases on this page, by id.
    pub cases: Vec<StoredCase>,
    /// How many cases match the filter in all.
    pub total: i64,
}
