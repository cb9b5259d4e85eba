//! The domain of expedite: what a foreign military sale *is*, and the rules it must obey.
//!
//! This crate holds no I/O and never reads a clock: every date is passed in. It may depend
//! on `std`, `serde`, `thiserror`, `jiff` and `toml` (to read its own compiled-in rule files)
//! and nothing else; `.ci/run` checks that.
//!
//! Where to start reading:
//! - [`country`]: ISO 3166-1 alpha-3 countries, their aliases, and the dated groups the
//!   statutes use (NATO members with accession dates, the AECA "NATO+5" group).
//! - [`money`]: US dollars as integer cents.
//! - [`case`]: case identifiers, agencies, channels, case lines.
//! - [`stage`]: the stages of a case.
//! - [`machine`]: the stage machine, `(case, event) -> Result<case, TransitionError>`.
//! - [`alerts`]: deadline alerts (SAMM targets, congressional review, offer expiry).
//! - [`forecast_alerts`]: kept forecasts of a case and the alerts raised when one moves
//!   (a delivery P50, a place in a line's queue), with why.
//! - [`metrics`]: quarterly case-execution metrics per phase, computed from cases.
//! - [`rules`]: dated rule sets: AECA §36(b) congressional notification and the SAMM time
//!   standards, loaded from TOML files compiled into the crate.

pub mod alerts;
pub mod case;
pub mod country;
pub mod forecast_alerts;
pub mod machine;
pub mod metrics;
pub mod money;
pub mod rules;
pub mod stage;

pub use case::{Agency, CaseId, CaseLine, Category, Channel};
pub use country::{AecaGroup, Country};
pub use machine::{Case, Event, EventKind, NewCase, TransitionError};
pub use money::Usd;
pub use rules::{NotificationCheck, NotificationDecision, RuleBook, RuleSet};
pub use stage::Stage;

/// Calendar dates are civil dates without a time zone: statutes count calendar days.
pub type Date = jiff::civil::Date;

/// A forecast date at its 10th, 50th and 90th percentiles: what the forecast reports, the
/// back-test scores and a kept forecast records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Percentiles {
    /// 10th percentile.
    pub p10: Date,
    /// Median.
    pub p50: Date,
    /// 90th percentile.
    pub p90: Date,
}
