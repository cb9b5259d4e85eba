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
            )
        )
    }
}
