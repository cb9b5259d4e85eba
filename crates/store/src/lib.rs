//! Persistence of cases and their tamper-evident event history.
//!
//! One [`Store`] trait, one SQL implementation ([`SqlStore`]) that speaks to two backends
//! chosen by URL: `sqlite://PATH` (embedded, the default; a file created on first open, WAL
//! journal with `synchronous=FULL`) and `postgres://…` (shared by several server processes).
//! Each backend has its own migrations, embedded and run on open.
//!
//! A case is its events: the first records the Letter of Request ([`Change::Opened`]), each
//! later one a transition the core stage machine accepted. Events are append-only and
//! chained under a key that lives outside the database ([`key`]): each stores a keyed hash
//! of the previous event and of its own canonical JSON ([`chain`]), so [`Store::verify`]
//! finds any edit or deletion, even by someone who recomputes hashes. The case rows and
//! lines the service reads are projections of the events, sealed with the key
//! ([`projection`]) and checked against the replay; one keyed ledger record over every
//! case's chain end makes a deleted case or an emptied table visible
//! ([`Store::verify_all`]). Every case has a version; a write names the version it expects
//! and a stale one is a [`StoreError::Conflict`]. Access tokens are stored only as hashes
//! ([`token`]). The forecasts of stored cases are kept beside the history, not in it
//! ([`Store::append_forecast_snapshots`]): a forecast can be computed again, and
//! [`history::forecast_alerts_for`] compares each with the one before.
//!
//! This crate depends on `expedite-core` and on sqlx; it knows nothing of HTTP.
//!
//! Where to start reading: [`Store`], then [`sql::SqlStore`], then [`chain`].

pub mod chain;
mod error;
pub mod history;
pub mod key;
pub mod model;
pub mod projection;
pub mod redact;
pub mod samm;
mod snapshots;
pub mod sql;
pub mod token;

use std::collections::BTreeMap;

use async_trait::async_trait;
use expedite_core::forecast_alerts::ForecastSnapshot;
use expedite_core::{CaseId, Event, NewCase};
use serde::Serialize;

pub use chain::{BrokenLink, Verification};
pub use error::StoreError;
pub use key::HistoryKey;
pub use model::{Author, CaseFilter, CasePage, Change, EventRecord, Scope, StoredCase};
pub use sql::OpenOptions;
pub use sql::SqlStore;
pub use token::{IssuedToken, NewToken, Role, TokenInfo};

/// Everything the service persists. Implemented by [`SqlStore`] for both backends.
#[async_trait]
pub trait Store: Send + Sync {
    /// Opens a case from its Letter of Request, at version 1.
    ///
    /// # Errors
    /// [`StoreError::InvalidCase`] when the core rejects it, [`StoreError::CaseExists`]
    /// when the id is taken, [`StoreError::Database`] otherwise.
    async fn open_case(&self, new: NewCase, by: &Author) -> Result<StoredCase, StoreError>;

    /// A case as of its latest event, or `None`.
    ///
    /// # Errors
    /// [`StoreError::Database`] or [`StoreError::Corrupt`].
    async fn case(&self, id: &CaseId) -> Result<Option<StoredCase>, StoreError>;

    /// One page of the cases matching `filter`, with the count of all that match.
    ///
    /// # Errors
    /// [`StoreError::Database`] or [`StoreError::Corrupt`].
    async fn list_cases(&self, filter: &CaseFilter) -> Result<CasePage, StoreError>;

    /// Applies one event to a case that is still at `expected_version`. Nothing is written
    /// unless the core stage machine accepts the event.
    ///
    /// # Errors
    /// [`StoreError::CaseNotFound`], [`StoreError::Conflict`] when the version is stale,
    /// [`StoreError::Transition`] when the stage machine rejects the event.
    async fn append_event(
        &self,
        id: &CaseId,
        expected_version: i64,
        event: Event,
        by: &Author,
    ) -> Result<StoredCase, StoreError>;

    /// A case's history, oldest first.
    ///
    /// # Errors
    /// [`StoreError::CaseNotFound`] or [`StoreError::Database`].
    async fn events(&self, id: &CaseId) -> Result<Vec<EventRecord>, StoreError>;

    /// The histories of every case in `scope`, each oldest first, read in one query: for
    /// reports over a whole portfolio ([`history`]), where one [`Store::events`] per case
    /// would cost a round trip per case.
    ///
    /// Each event is checked as [`Store::events`] checks it: its hashed body must read and
    /// belong to the case and position it is stored under. A case belongs to a scope by the
    /// purchaser and agency of its opening event, so an edited case row cannot widen a view.
    /// Neither method walks the keyed hash chain: that is [`Store::verify`].
    ///
    /// # Errors
    /// [`StoreError::BrokenCase`] naming a case with an event that does not read or a
    /// history that does not start with its opening, [`StoreError::Database`].
    async fn events_in(
        &self,
        scope: Scope,
    ) -> Result<BTreeMap<CaseId, Vec<EventRecord>>, StoreError>;

    /// Walks a case's hash chain and replays it; reports the first broken link.
    ///
    /// # Errors
    /// [`StoreError::CaseNotFound`] or [`StoreError::Database`]; a broken chain is not an
    /// error but a [`Verification`] that says where.
    async fn verify(&self, id: &CaseId) -> Result<Verification, StoreError>;

    /// Verifies every case (its events, its row and lines) and the ledger record that
    /// makes a deleted case, an emptied table or a dropped one visible.
    ///
    /// # Errors
    /// [`StoreError::Database`] when the database cannot be reached; what is broken or
    /// missing inside it is reported, not an error.
    async fn verify_all(&self) -> Result<DatabaseVerification, StoreError>;

    /// Stores a new token and returns its secret, which is never stored or shown again.
    ///
    /// # Errors
    /// [`StoreError::TokenNameTaken`] or [`StoreError::Database`].
    async fn create_token(
        &self,
        new: NewToken,
        at: jiff::Timestamp,
    ) -> Result<IssuedToken, StoreError>;

    /// Creates the named token, or gives the existing token of that name a new secret,
    /// role and expiry (revived if revoked): for a token that must exist once, such as the
    /// demo's admin.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    async fn replace_token(
        &self,
        new: NewToken,
        at: jiff::Timestamp,
    ) -> Result<IssuedToken, StoreError>;

    /// Every token, revoked ones included, without secrets.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    async fn tokens(&self) -> Result<Vec<TokenInfo>, StoreError>;

    /// Revokes a token by id or name; `false` if there is no such live token.
    ///
    /// # Errors
    /// [`StoreError::AmbiguousToken`] when the text is one token's id and another's name
    /// (nothing is revoked), [`StoreError::Database`].
    async fn revoke_token(&self, id_or_name: &str, at: jiff::Timestamp)
    -> Result<bool, StoreError>;

    /// The live token with this secret at `at` (not revoked, not expired), if any.
    ///
    /// # Errors
    /// [`StoreError::Database`] or [`StoreError::Corrupt`].
    async fn authenticate(
        &self,
        secret: &str,
        at: jiff::Timestamp,
    ) -> Result<Option<TokenInfo>, StoreError>;

    /// Keeps the forecasts of stored cases, in one transaction: each snapshot is appended
    /// unless it says the same as its case's last kept one
    /// ([`ForecastSnapshot::says_the_same_as`]), so periodic recomputes add no rows while
    /// nothing changes. Returns how many were appended. Snapshots are derived data, outside
    /// the keyed history (migration 0003).
    ///
    /// # Errors
    /// [`StoreError::Database`], or [`StoreError::Corrupt`] when a kept snapshot does not
    /// read.
    async fn append_forecast_snapshots(
        &self,
        snapshots: &[ForecastSnapshot],
    ) -> Result<usize, StoreError>;

    /// The kept forecasts of the cases in `scope` (of one case, if given): cases by id, each
    /// case's oldest first.
    ///
    /// # Errors
    /// [`StoreError::Database`] or [`StoreError::Corrupt`].
    async fn forecast_snapshots(
        &self,
        scope: Scope,
        case: Option<&CaseId>,
    ) -> Result<Vec<ForecastSnapshot>, StoreError>;

    /// Whether the database answers.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    async fn ping(&self) -> Result<(), StoreError>;
}

/// Opens the store a URL names (`sqlite://PATH` or `postgres://…`) and runs its migrations.
///
/// # Errors
/// [`StoreError::UnsupportedUrl`], [`StoreError::NoDatabase`], [`StoreError::Unreachable`],
/// [`StoreError::Database`] or [`StoreError::Migration`].
pub async fn open(url: &str, options: &OpenOptions) -> Result<SqlStore, StoreError> {
    SqlStore::open(url, options).await
}

/// What [`Store::verify_all`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DatabaseVerification {
    /// Whether every case and the ledger verify.
    pub valid: bool,
    /// Each case, by id.
    pub cases: Vec<Verification>,
    /// What is wrong beyond single cases: a missing table, a ledger that does not match.
    pub problems: Vec<String>,
    /// The ledger head recomputed from the histories: keep a copy outside the database
    /// to detect a rollback of the whole database to an earlier state.
    pub head: LedgerHead,
}

/// The count of case histories and the keyed digest over their ends.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LedgerHead {
    /// Cases with a history.
    pub cases: i64,
    /// XOR of each case's keyed chain-end digest, hex.
    pub digest: String,
}
