//! The store's error type.

use expedite_core::CaseId;
use expedite_core::machine::{CaseError, TransitionError};

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL names no backend this store speaks.
    #[error("unsupported database URL '{0}': expected sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    /// No case with that id.
    #[error("no case {0}")]
    CaseNotFound(CaseId),
    /// A case with that id exists already.
    #[error("case {0} exists already")]
    CaseExists(CaseId),
    /// The core refused to open the case.
    #[error("invalid case: {0}")]
    InvalidCase(#[from] CaseError),
    /// The core stage machine rejected the event; nothing was written.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// The case moved on since the caller read it.
    #[error("case {case} is at version {actual}, not {expected}: read it again")]
    Conflict {
        /// The case.
        case: CaseId,
        /// The version the caller named.
        expected: i64,
        /// The version it is at.
        actual: i64,
    },
    /// A token by that name exists already.
    #[error("a token named '{0}' exists already")]
    TokenNameTaken(String),
    /// A token request that makes no sense (e.g. a purchaser without a country).
    #[error("invalid token: {0}")]
    InvalidToken(String),
    /// A case whose stored row fails its keyed check or does not read: changed behind the
    /// service's back. It is neither served nor built upon.
    #[error(
        "case {0} is broken: its stored row does not match its keyed digest; run `expedite verify`"
    )]
    BrokenCase(String),
    /// No SQLite file at the path, and the command may not create one.
    #[error("no database at {}: check the path (this command never creates a database)", .0.display())]
    NoDatabase(std::path::PathBuf),
    /// The database server did not answer in time.
    #[error("the database server did not answer within {} s", .0.as_secs_f64())]
    Unreachable(std::time::Duration),
    /// The history key is missing or unreadable.
    #[error("history key: {0}")]
    Key(String),
    /// The text names one token by id and another by name.
    #[error("'{0}' is one token's id and another's name: revoke by the id shown in `token list`")]
    AmbiguousToken(String),
    /// A stored row does not read back (a defect or tampering).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Migrations failed.
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    /// Whether the database could not be reached, rather than refusing something.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            StoreError::Database(
                sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_)
            ) | StoreError::Unreachable(_)
        )
    }
}
