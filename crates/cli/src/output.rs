//! How results are printed: a table for people, JSON or CSV for programs.
//!
//! The conventions every command follows (docs/README.md, "Output"):
//! - tables fit the terminal (`--width`, else `COLUMNS`, else the terminal's width) by
//!   wrapping text columns; a column whose cells are single tokens (ids, dates, numbers,
//!   codes) is never broken;
//! - on a terminal tables have box borders; piped, with `NO_COLOR` set or with
//!   `--color never` they are plain aligned text, without box characters and not wrapped
//!   unless a width is given;
//! - CSV leaves a missing number empty;
//! - JSON is one object: the command's data and a `sources` list ([`Source`]).

use std::fmt;
use std::io::{self, IsTerminal, Write};
use std::ops::{Deref, DerefMut};
use std::sync::OnceLock;

use clap::ValueEnum;
use comfy_table::presets::{NOTHING, UTF8_FULL_CONDENSED};
use comfy_table::{ColumnConstraint, ContentArrangement, Width};
use serde::Serialize;

/// The `--format` every result-printing command takes (DESIGN.md, "Interfaces").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Format {
    /// Aligned table for people.
    #[default]
    Table,
    /// JSON for programs.
    Json,
    /// CSV for spreadsheets.
    Csv,
}

/// The global `--color`: whether tables are drawn with box characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum ColorChoice {
    /// Box characters on a terminal unless `NO_COLOR` is set; plain text when piped.
    #[default]
    Auto,
    /// Always box characters.
    Always,
    /// Never: plain aligned text.
    Never,
}

/// How this run prints, set once by `main` from the global flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// The width tables and notes must fit in: `--width`, else `COLUMNS`, else the
    /// terminal's; `None` (no limit) when piped without either.
    pub width: Option<u16>,
    /// Box-drawn tables (true) or plain aligned text (false).
    pub styled: bool,
    /// `--quiet`: no progress bars or notes on stderr.
    pub quiet: bool,
}

impl Settings {
    /// The settings for the global flags, reading `COLUMNS`, `NO_COLOR` and whether stdout
    /// is a terminal.
    pub fn from_flags(width: Option<u16>, color: ColorChoice, quiet: bool) -> Settings {
        let width = width
            .or_else(|| {
                std::env::var("COLUMNS")
                    .ok()
                    .and_then(|columns| columns.trim().parse::<u16>().ok())
                    .filter(|&columns| columns > 0)
            })
            .or_else(|| {
                io::stdout()
                    .is_terminal()
                    .then(|| terminal_size::terminal_size().map(|(width, _)| width.0))
                    .flatten()
            });
        let styled = match color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
            }
        };
        Settings {
            width,
            styled,
            quiet,
        }
    }
}

static SETTINGS: OnceLock<Settings> = OnceLock::new();

/// Sets how this run prints; the first call wins.
pub fn configure(settings: Settings) {
    let _ = SETTINGS.set(settings);
}

/// How this run prints (from the environment alone when `main` has not configured it).
pub fn settings() -> Settings {
    *SETTINGS.get_or_init(|| Settings::from_flags(None, ColorChoice::Auto, false))
}

/// Whether `--quiet` was given: commands then print no progress and no notes on stderr.
pub fn quiet() -> bool {
    settings().quiet
}

/// Where a command's data comes from, listed in every JSON output under `sources`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Source {
    /// The publication or data set, e.g. `NATO, Defence Expenditure of NATO Countries
    /// (2014-2025)`.
    pub name: String,
    /// The date of the data as its publisher gives it (publication date, export date or the
    /// span of a sample); `None` when the source states none.
    pub date: Option<String>,
}

impl Source {
    /// A source with its date.
    pub fn new(name: impl Into<String>, date: impl Into<String>) -> Source {
        Source {
            name: name.into(),
            date: Some(date.into()),
        }
    }

    /// A source that states no date.
    pub fn undated(name: impl Into<String>) -> Source {
        Source {
            name: name.into(),
            date: None,
        }
    }
}

/// Prints a command's JSON: `data` (which must serialise as an object, e.g.
/// `serde_json::json!({"cases": cases})` or a struct) with a `sources` list added.
///
/// # Errors
/// When `data` is not an object or already has a `sources` key (a programming error the
/// tests catch), or when stdout fails.
pub fn print_json_with_sources<T: Serialize>(data: &T, sources: &[Source]) -> anyhow::Result<()> {
    let value = with_sources(data, sources)?;
    print_json(&value)
}

/// `data` as a JSON object with `sources` added (see [`print_json_with_sources`]).
///
/// # Errors
/// When `data` does not serialise as an object or already has a `sources` key.
pub fn with_sources<T: Serialize>(
    data: &T,
    sources: &[Source],
) -> anyhow::Result<serde_json::Value> {
    let mut value = serde_json::to_value(data)?;
    let Some(object) = value.as_object_mut() else {
        anyhow::bail!("internal: JSON output must be an object to carry its sources");
    };
    if object.contains_key("sources") {
        anyhow::bail!("internal: JSON output already has a `sources` key");
    }
    object.insert("sources".to_owned(), serde_json::to_value(sources)?);
    Ok(value)
}

/// Prints a value as pretty JSON followed by a newline.
pub fn print_json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    // Serialise first so that a closed pipe surfaces as an io::Error, which main treats
    // as success, rather than hidden inside a serde_json::Error.
    let text = serde_json::to_string_pretty(value)?;
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "{text}")?;
    Ok(())
}

/// A table in the house style. It dereferences to [`comfy_table::Table`] (add rows as
/// usual) and, when displayed, fits the width of [`settings`]: text columns wrap, columns
/// whose cells are all single tokens (ids, dates, numbers) keep them whole.
#[derive(Debug, Clone)]
pub struct Table {
    inner: comfy_table::Table,
}

impl Deref for Table {
    type Target = comfy_table::Table;

    fn deref(&self) -> &comfy_table::Table {
        &self.inner
    }
}

impl DerefMut for Table {
    fn deref_mut(&mut self) -> &mut comfy_table::Table {
        &mut self.inner
    }
}

impl Table {
    /// The table laid out for `settings` (what `Display` prints with the run's settings).
    pub fn render(&self, settings: Settings) -> String {
        let mut table = self.inner.clone();
        table.load_style(if settings.styled {
            UTF8_FULL_CONDENSED
        } else {
            NOTHING
        });
        if settings.styled {
            table.enforce_styling();
        } else {
            table.force_no_tty();
        }
        match settings.width {
            Some(width) => {
                table
                    .set_width(width)
                    .set_content_arrangement(ContentArrangement::Dynamic);
            }
            None if settings.styled => {
                table.set_content_arrangement(ContentArrangement::Dynamic);
            }
            None => {
                table.set_content_arrangement(ContentArrangement::Disabled);
            }
        }
        let widths = self.whole_token_widths();
        let last = widths.len().saturating_sub(1);
        for (index, whole) in widths.into_iter().enumerate() {
            let Some(column) = table.column_mut(index) else {
                continue;
            };
            // Plain text: no left padding and two spaces between columns.
            let padding = if settings.styled {
                (1, 1)
            } else if index == last {
                (0, 0)
            } else {
                (0, 2)
            };
            column.set_padding(padding);
            if let Some(width) = whole {
                let padded = width.saturating_add(padding.0 + padding.1);
                column.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(padded)));
            }
        }
        if settings.styled {
            table.to_string()
        } else {
            table.trim_fmt()
        }
    }

    /// For each column whose body cells are all single tokens (no whitespace), the width of
    /// its widest cell or header word: such a column is never narrower, so its values never
    /// break and neither do the words of its heading.
    fn whole_token_widths(&self) -> Vec<Option<u16>> {
        let width = |text: &str| u16::try_from(text.chars().count()).unwrap_or(u16::MAX);
        let header: Vec<String> = self
            .inner
            .header()
            .map(|row| row.cell_iter().map(comfy_table::Cell::content).collect())
            .unwrap_or_default();
        let columns = self
            .inner
            .row_iter()
            .map(comfy_table::Row::cell_count)
            .max()
            .unwrap_or(0)
            .max(header.len());
        let mut widths: Vec<Option<u16>> = (0..columns)
            .map(|index| {
                let longest_word = header
                    .get(index)
                    .and_then(|text| text.split_whitespace().map(width).max());
                Some(longest_word.unwrap_or(0))
            })
            .collect();
        for row in self.inner.row_iter() {
            for (index, cell) in row.cell_iter().enumerate() {
                let content = cell.content();
                let Some(slot) = widths.get_mut(index) else {
                    continue;
                };
                if content.split_whitespace().nth(1).is_some() {
                    *slot = None;
                } else if let Some(widest) = slot {
                    *widest = (*widest).max(width(content.trim()));
                }
            }
        }
        widths
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(settings()))
    }
}

/// A table with a header row.
pub fn table(header: &[&str]) -> Table {
    let mut inner = comfy_table::Table::new();
    inner.set_header(header.iter().copied());
    Table { inner }
}

/// A two-column table of labelled values, without a header row.
pub fn key_value_table() -> Table {
    Table {
        inner: comfy_table::Table::new(),
    }
}

/// Notes under a table, each line longer than the width wrapped at spaces (continuation
/// lines indented by two); unchanged when there is no width (piped).
pub fn notes(text: &str) -> String {
    wrap(text, settings().width)
}

fn wrap(text: &str, width: Option<u16>) -> String {
    let Some(width) = width.map(usize::from) else {
        return text.to_owned();
    };
    let mut wrapped = Vec::new();
    for line in text.lines() {
        let mut current = String::new();
        for word in line.split(' ') {
            let needed = current.chars().count() + 1 + word.chars().count();
            if !current.trim().is_empty() && needed > width {
                wrapped.push(std::mem::take(&mut current));
                current.push_str("  ");
            } else if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(word);
        }
        wrapped.push(current);
    }
    wrapped.join("\n")
}

/// A CSV cell for an optional value: empty when missing, never a word such as `missing`.
pub fn csv_cell<T: ToString>(value: Option<T>) -> String {
    value.map_or_else(String::new, |value| value.to_string())
}

/// Prints rows as CSV under a header line, for every command's `--format csv`.
pub fn print_csv(header: &[&str], rows: Vec<Vec<String>>) -> anyhow::Result<()> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(header)?;
    for row in rows {
        writer.write_record(row)?;
    }
    let bytes = writer.into_inner().map_err(|error| error.into_error())?;
    let mut stdout = io::stdout().lock();
    stdout.write_all(&bytes)?;
    stdout.flush()?;
    Ok(())
}

/// Prints text to stdout.
pub fn print_text(text: &str) -> anyhow::Result<()> {
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "{text}")?;
    Ok(())
}

/// Prints a note on stderr unless `--quiet` was given.
pub fn note(text: &str) {
    if !quiet() {
        eprintln!("{text}");
    }
}

/// A failure at run time rather than bad input (exit code 1): an unreachable database, a
/// file that cannot be read. Wrap an error in it, or return it, to choose that exit code:
/// `Err(output::RuntimeFailure::from(error))?`.
#[derive(Debug)]
pub struct RuntimeFailure(pub anyhow::Error);

impl From<anyhow::Error> for RuntimeFailure {
    fn from(error: anyhow::Error) -> Self {
        RuntimeFailure(error)
    }
}

impl fmt::Display for RuntimeFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

impl std::error::Error for RuntimeFailure {}

/// The process exit code of an error (documented in docs/README.md): 0 for a closed pipe
/// (`expedite ... | head`), 3 for a history that `verify` found broken, 1 for a failure at
/// run time (an I/O error anywhere in the chain, a database that cannot be reached, or a
/// [`RuntimeFailure`]), 2 for bad input.
pub fn exit_code(error: &anyhow::Error) -> u8 {
    if is_broken_pipe(error) {
        return 0;
    }
    if error
        .chain()
        .any(|cause| cause.is::<crate::commands::verify::NotVerified>())
    {
        return 3;
    }
    let runtime = error.chain().any(|cause| {
        cause.is::<RuntimeFailure>()
            || cause.is::<io::Error>()
            || cause
                .downcast_ref::<expedite_store::StoreError>()
                .is_some_and(expedite_store::StoreError::is_unavailable)
    });
    if runtime { 1 } else { 2 }
}

/// Whether an error is a closed pipe (`expedite ... | head`), which is not a failure.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table {
        let mut table = table(&["ISO3", "member", "% of GDP", "case id"]);
        table.add_row(vec![
            "USA",
            "United States of America, a long name that has to wrap somewhere",
            "57101.79",
            "EST-2022-07-15-himars",
        ]);
        table.add_row(vec!["GBR", "United Kingdom", "2.33", "GBR-2023-01-01-f35"]);
        table
    }

    fn plain(width: Option<u16>) -> Settings {
        Settings {
            width,
            styled: false,
            quiet: false,
        }
    }

    #[test]
    fn plain_tables_have_no_box_characters_and_no_trailing_spaces() {
        let text = sample().render(plain(None));
        assert!(!text.contains(['│', '─', '┌', '|', '+']), "{text}");
        assert!(text.lines().all(|line| line == line.trim_end()));
        assert!(
            text.lines()
                .next()
                .is_some_and(|line| line.starts_with("ISO3  "))
        );
    }

    #[test]
    fn tables_fit_the_width_and_keep_tokens_whole() {
        for width in [60_u16, 80, 100, 200] {
            for styled in [false, true] {
                let settings = Settings {
                    width: Some(width),
                    styled,
                    quiet: false,
                };
                let text = sample().render(settings);
                for line in text.lines() {
                    assert!(
                        line.chars().count() <= usize::from(width),
                        "{width}: {line}"
                    );
                }
                for token in ["57101.79", "EST-2022-07-15-himars", "GBR-2023-01-01-f35"] {
                    assert!(text.contains(token), "{token} broken at {width}:\n{text}");
                }
            }
        }
    }

    #[test]
    fn notes_wrap_at_spaces_to_the_width() {
        let note = "Edition used: NATO, Defence Expenditure of NATO Countries (2014-2025)";
        let wrapped = wrap(note, Some(30));
        assert!(
            wrapped.lines().all(|line| line.chars().count() <= 30),
            "{wrapped}"
        );
        assert_eq!(
            wrapped.split_whitespace().collect::<Vec<_>>(),
            note.split_whitespace().collect::<Vec<_>>()
        );
        assert_eq!(wrap(note, None), note);
    }

    #[test]
    fn json_carries_its_sources() {
        let value = with_sources(
            &serde_json::json!({"rows": [1, 2]}),
            &[Source::new("NATO", "2025-08-28")],
        )
        .expect("an object");
        assert_eq!(value["sources"][0]["name"], "NATO");
        assert_eq!(value["sources"][0]["date"], "2025-08-28");
        assert!(
            with_sources(&[1, 2], &[]).is_err(),
            "a bare array has no place for sources"
        );
    }

    #[test]
    fn exit_codes_tell_bad_input_from_runtime_failure() {
        let bad_input = anyhow::anyhow!("--target: -1 is not a percentage above zero");
        assert_eq!(exit_code(&bad_input), 2);
        let unreadable = anyhow::Error::from(io::Error::from(io::ErrorKind::NotFound))
            .context("cannot read the SIPRI trade register");
        assert_eq!(exit_code(&unreadable), 1);
        let closed = anyhow::Error::from(io::Error::from(io::ErrorKind::BrokenPipe));
        assert_eq!(exit_code(&closed), 0);
        let database = anyhow::Error::from(RuntimeFailure(anyhow::anyhow!("connection refused")));
        assert_eq!(exit_code(&database), 1);
        let unreachable = anyhow::Error::from(expedite_store::StoreError::Database(
            sqlx::Error::PoolTimedOut,
        ))
        .context("opening the database postgres://127.0.0.1:5999/x");
        assert_eq!(
            exit_code(&unreachable),
            1,
            "a database that does not answer"
        );
        let refused = anyhow::Error::from(expedite_store::StoreError::TokenNameTaken(
            "usasac-army".to_owned(),
        ));
        assert_eq!(
            exit_code(&refused),
            2,
            "a refusal is not a failure at run time"
        );
    }
}
