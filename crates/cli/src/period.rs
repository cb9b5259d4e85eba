//! `--from`/`--to` bounds that take a year (`2015`) or a date (`2015-06-30`) in every command
//! that filters by time, and the check that a range is not inverted.
//!
//! A year as `--from` means its first day and as `--to` its last day; where the data knows
//! only years (SIPRI's year of order), a date stands for its year.
//!
//! Flags that take one day (`--date`, `--as-of`, `--since`) are read by [`DateFlag`].

use std::fmt;
use std::str::FromStr;

use expedite_core::Date;

/// A year or a day, as typed after `--from` or `--to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YearOrDate {
    /// `YYYY`.
    Year(i16),
    /// `YYYY-MM-DD`.
    Date(Date),
}

impl FromStr for YearOrDate {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if text.len() == 4 && text.bytes().all(|byte| byte.is_ascii_digit()) {
            let year: i16 = text
                .parse()
                .map_err(|_| format!("'{text}' is not a year"))?;
            return Ok(YearOrDate::Year(year));
        }
        text.parse::<Date>()
            .map(YearOrDate::Date)
            .map_err(|_| format!("'{text}' is neither a year (YYYY) nor a date (YYYY-MM-DD)"))
    }
}

impl fmt::Display for YearOrDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            YearOrDate::Year(year) => write!(f, "{year}"),
            YearOrDate::Date(date) => write!(f, "{date}"),
        }
    }
}

impl YearOrDate {
    /// The year (of the date).
    pub fn year(self) -> i32 {
        match self {
            YearOrDate::Year(year) => i32::from(year),
            YearOrDate::Date(date) => i32::from(date.year()),
        }
    }

    /// As a lower bound: a year's first day, or the date.
    pub fn first_day(self) -> Date {
        match self {
            YearOrDate::Year(year) => day_of(year, 1, 1),
            YearOrDate::Date(date) => date,
        }
    }

    /// As an upper bound: a year's last day, or the date.
    pub fn last_day(self) -> Date {
        match self {
            YearOrDate::Year(year) => day_of(year, 12, 31),
            YearOrDate::Date(date) => date,
        }
    }
}

/// The value parser of every flag that takes one day, `YYYY-MM-DD`
/// (`#[arg(long, value_parser = DateFlag)]`): clap reads it before the command runs, so a
/// bad day is a usage error (exit code 2) whose message names the flag.
#[derive(Debug, Clone, Copy)]
pub struct DateFlag;

impl clap::builder::TypedValueParser for DateFlag {
    type Value = Date;

    fn parse_ref(
        &self,
        _command: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Date, clap::Error> {
        let flag = arg.and_then(clap::Arg::get_long).unwrap_or("date");
        let text = value.to_string_lossy();
        text.parse::<Date>().map_err(|cause| {
            let error = anyhow::Error::new(cause).context(format!(
                "--{flag}: '{text}' is not a date of the form YYYY-MM-DD"
            ));
            clap::Error::raw(
                clap::error::ErrorKind::ValueValidation,
                format!("{error:#}\n"),
            )
        })
    }
}

/// A day of a four-digit year (always valid; jiff's bounds are the fallback).
fn day_of(year: i16, month: i8, day: i8) -> Date {
    Date::new(year, month, day).unwrap_or(Date::MIN)
}

/// Checks that `--from` is not after `--to`: an inverted range is an error, not an empty
/// result.
///
/// # Errors
/// A message naming both flags and values.
pub fn check_range(from: Option<YearOrDate>, to: Option<YearOrDate>) -> anyhow::Result<()> {
    if let (Some(from), Some(to)) = (from, to)
        && from.first_day() > to.last_day()
    {
        anyhow::bail!("--from {from} is after --to {to}: give the earlier bound first");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_year_means_its_first_and_last_day() {
        let year: YearOrDate = "2025".parse().expect("a year");
        assert_eq!(year.first_day().to_string(), "2025-01-01");
        assert_eq!(year.last_day().to_string(), "2025-12-31");
        let day: YearOrDate = "2025-06-30".parse().expect("a date");
        assert_eq!(day.first_day(), day.last_day());
        assert_eq!(day.year(), 2025);
        assert!("25".parse::<YearOrDate>().is_err());
        assert!("2025-13-01".parse::<YearOrDate>().is_err());
    }

    #[test]
    fn a_day_flag_reads_a_day_and_rejects_anything_else_as_a_usage_error_naming_the_flag() {
        let command = clap::Command::new("expedite")
            .arg(clap::Arg::new("as_of").long("as-of").value_parser(DateFlag));
        let matches = command
            .clone()
            .try_get_matches_from(["expedite", "--as-of", "2025-03-01"])
            .expect("a day");
        assert_eq!(
            matches.get_one::<Date>("as_of").map(ToString::to_string),
            Some("2025-03-01".to_owned())
        );
        let error = command
            .try_get_matches_from(["expedite", "--as-of", "2025-02-30"])
            .expect_err("February has no 30th");
        assert_eq!(error.kind(), clap::error::ErrorKind::ValueValidation);
        assert_eq!(error.exit_code(), 2);
        assert!(
            error
                .to_string()
                .starts_with("error: --as-of: '2025-02-30' is not a date of the form YYYY-MM-DD: "),
            "{error}"
        );
    }

    #[test]
    fn inverted_ranges_are_errors() {
        let parse = |text: &str| text.parse::<YearOrDate>().ok();
        assert!(check_range(parse("2020"), parse("2015")).is_err());
        assert!(check_range(parse("2025-02-01"), parse("2025-01-31")).is_err());
        assert!(check_range(parse("2025-06-30"), parse("2025")).is_ok());
        assert!(check_range(parse("2025"), parse("2025")).is_ok());
        assert!(check_range(None, parse("2025")).is_ok());
    }
}
