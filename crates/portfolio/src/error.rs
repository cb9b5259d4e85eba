//! The one error type of this crate: every failure names its input and, where it can, the
//! field.

use expedite_forecast::{RunError, ScenarioError};

/// Why a portfolio could not be built or forecast.
#[derive(Debug, thiserror::Error)]
pub enum PortfolioError {
    /// A value of the scenario template is wrong: the file, the field and the problem.
    #[error("{file}: {field}: {problem}")]
    Template {
        /// The template's name (a path, or "shipped template").
        file: String,
        /// The TOML path of the value, e.g. `lines.himars.backlog_years`.
        field: String,
        /// What is wrong.
        problem: String,
    },
    /// The shipped data could not be read.
    #[error(transparent)]
    Data(#[from] expedite_data::DataError),
    /// The scenario the portfolio maps to was refused by the forecast (a bug here, or a
    /// value the template check missed): the forecast's path and problem.
    #[error("the portfolio's scenario: {0}")]
    Scenario(#[from] ScenarioError),
    /// The forecast could not run.
    #[error(transparent)]
    Run(#[from] RunError),
    /// A case of the caller is wrong (back-test and service input).
    #[error("case '{case}': {field}: {problem}")]
    Case {
        /// The case id.
        case: String,
        /// The field.
        field: String,
        /// What is wrong.
        problem: String,
    },
    /// The forecast's "today" lies outside the calendar a forecast can use.
    #[error("as-of date {as_of}: must be from {earliest} to {latest}")]
    AsOf {
        /// The date given.
        as_of: expedite_core::Date,
        /// The earliest allowed.
        earliest: expedite_core::Date,
        /// The latest allowed.
        latest: expedite_core::Date,
    },
    /// No notification became a case.
    #[error(
        "no notification to a European ally before {as_of} maps to a catalog line with a quantity"
    )]
    NoCases {
        /// The as-of date.
        as_of: expedite_core::Date,
    },
    /// A forecast date reached the end of the calendar: a result that says nothing, refused
    /// rather than printed as 9999-12-31.
    #[error(
        "case '{case}': its {what} reaches the end of the calendar; a duration or rate of the \
         template is out of all proportion"
    )]
    EndOfCalendar {
        /// The case id.
        case: String,
        /// Which date.
        what: &'static str,
    },
}
