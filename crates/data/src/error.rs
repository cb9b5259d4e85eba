//! The one error type of this crate: every failure names its input, and where it can, the
//! line and the field.

use std::path::PathBuf;

/// Why data could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be opened or read.
    #[error("cannot read {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A reader passed in failed.
    #[error("cannot read {input}")]
    Read {
        /// What was being read.
        input: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// No line looked like the header of a known trade-register layout.
    #[error(
        "{input}: no trade-register header found in the first {lines_searched} lines \
         (expected a line starting 'Recipient,Supplier,Year of order' or 'SIPRI AT Database ID,')"
    )]
    NoHeader {
        /// What was being read.
        input: String,
        /// How many lines were looked at.
        lines_searched: usize,
    },
    /// A header column is not the one the layout has at that position.
    #[error("{input} line {line}: column {column} is '{found}', expected '{expected}'")]
    UnexpectedColumn {
        /// What was being read.
        input: String,
        /// Physical line of the header (1-based).
        line: u64,
        /// Column position (1-based).
        column: usize,
        /// The header text the layout has there.
        expected: &'static str,
        /// The header text found.
        found: String,
    },
    /// A record has the wrong number of fields, even after joining broken lines.
    #[error("{input} line {line}: expected {expected} fields, found {found}")]
    FieldCount {
        /// What was being read.
        input: String,
        /// Physical line where the record starts (1-based).
        line: u64,
        /// Fields the layout has.
        expected: usize,
        /// Fields found.
        found: usize,
    },
    /// A field holds a value that does not fit it.
    #[error("{input} line {line}: field '{field}': {problem} (found '{value}')")]
    Field {
        /// What was being read.
        input: String,
        /// Physical line where the record starts (1-based).
        line: u64,
        /// The column name.
        field: &'static str,
        /// The text found.
        value: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// The CSV itself is malformed (e.g. an unclosed quote).
    #[error("{input} line {line}: malformed CSV")]
    Csv {
        /// What was being read.
        input: String,
        /// Physical line (1-based).
        line: u64,
        /// The cause.
        #[source]
        source: csv::Error,
    },
    /// A TOML file (the capacity catalog) is malformed.
    #[error("{input}: invalid TOML")]
    Toml {
        /// What was being read.
        input: String,
        /// The cause, with line and column.
        #[source]
        source: toml::de::Error,
    },
    /// A catalog or template refers to something that is not there.
    #[error("{input}: {problem}")]
    Invalid {
        /// What was being read.
        input: String,
        /// What is wrong.
        problem: String,
    },
    /// A name given as a filter is neither a country nor a party in the data.
    #[error(
        "unknown {role} '{name}': not a country (ISO3 or name) and not a name in the trade register"
    )]
    UnknownParty {
        /// `supplier` or `recipient`.
        role: &'static str,
        /// The name given.
        name: String,
    },
    /// No data for what was asked.
    #[error("{0}")]
    NoData(String),
}
