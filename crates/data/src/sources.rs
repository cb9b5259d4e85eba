//! Where each data source comes from and the day it was last refreshed, so every output
//! can print how old its figures are and a source older than a year is flagged.
//!
//! Public trackers keep a freshness clock per source (update §3, "lessons from public
//! trackers"). The shipped sources carry the date of their newest edition or fact read
//! ([`builtin`]); a SIPRI register the user passes in carries the `Data generated:` date of
//! its preamble ([`sipri`]); a case store carries the day of its newest recorded event
//! ([`Source::new`] by the caller). Nothing here reads the clock: "today" is passed in.

use expedite_core::Date;
use jiff::ToSpan;
use serde::Serialize;

use crate::sipri::TradeRegister;

/// A source older than this many days is stale.
pub const STALE_AFTER_DAYS: i64 = 365;

/// One data source and the day it was last refreshed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Source {
    /// A short key: `nato`, `dsca`, `capacity`, `timelines`, `sipri`, `cases`.
    pub id: String,
    /// What it is.
    pub name: String,
    /// The day it was last refreshed; `date` on the wire, as every command's `sources`
    /// list names it.
    #[serde(rename = "date")]
    pub refreshed: Date,
    /// What that day is (an edition's publication, the newest fact read, ...).
    pub basis: String,
    /// Where the data lives.
    pub location: String,
}

/// A source judged on a day: its age and whether it is stale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Freshness {
    /// The source.
    #[serde(flatten)]
    pub source: Source,
    /// Days from its refresh to the day judged on.
    pub age_days: i64,
    /// Older than [`STALE_AFTER_DAYS`].
    pub stale: bool,
}

impl Source {
    /// A source from its parts.
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        refreshed: Date,
        basis: impl Into<String>,
        location: impl Into<String>,
    ) -> Source {
        Source {
            id: id.into(),
            name: name.into(),
            refreshed,
            basis: basis.into(),
            location: location.into(),
        }
    }

    /// How old the source is on `today`, and whether that is more than a year.
    pub fn freshness(&self, today: Date) -> Freshness {
        let age_days = i64::from((today - self.refreshed).get_days());
        Freshness {
            source: self.clone(),
            age_days,
            stale: age_days > STALE_AFTER_DAYS,
        }
    }

    /// The day after which the source is stale.
    pub fn stale_after(&self) -> Date {
        self.refreshed.saturating_add(STALE_AFTER_DAYS.days())
    }
}

/// The sources shipped inside the program, with the date of the newest edition or fact
/// each holds (their files' headers and `data/README.md` say where each comes from).
pub fn builtin() -> Vec<Source> {
    vec![
        Source::new(
            "nato",
            "NATO, Defence Expenditure of NATO Countries (2014-2025)",
            Date::constant(2025, 8, 28),
            "publication date of the edition shipped (source_id NATO-DE-2025)",
            "compiled in from data/nato/",
        ),
        Source::new(
            "dsca",
            "DSCA Major Arms Sales congressional notifications, 2022-2025 (sample of 90)",
            Date::constant(2025, 12, 22),
            "date of the newest notification in the file",
            "compiled in from data/dsca/notifications.csv",
        ),
        Source::new(
            "capacity",
            "US production-line catalog (rates as published)",
            Date::constant(2026, 1, 8),
            "date of the newest source cited in the catalog ([143], 8 Jan 2026)",
            "compiled in from data/capacity/lines.toml",
        ),
        Source::new(
            "timelines",
            "Real case timelines: 43 arms sales to allies, 2015-2026",
            Date::constant(2026, 3, 31),
            "facts complete up to this day (the newest source read)",
            "expedite-data timelines module (from shared/data/cases/timelines.csv)",
        ),
    ]
}

/// The shipped source with this id, if any.
pub fn builtin_source(id: &str) -> Option<Source> {
    builtin().into_iter().find(|source| source.id == id)
}

/// A SIPRI trade register the user passed in, dated by its `Data generated:` line
/// (e.g. `13 Apr 2024 3:44:54 PM`); `None` when the file has no readable date.
pub fn sipri(register: &TradeRegister, location: &str) -> Option<Source> {
    let refreshed = register
        .generated
        .as_deref()
        .and_then(sipri_generated_date)?;
    Some(Source::new(
        "sipri",
        "SIPRI Arms Transfers Database trade register",
        refreshed,
        "the export's 'Data generated' date",
        location,
    ))
}

/// The day of a SIPRI `Data generated:` value such as `13 Apr 2024 3:44:54 PM`.
pub fn sipri_generated_date(text: &str) -> Option<Date> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let mut words = text.split_whitespace();
    let day: i8 = words.next()?.parse().ok()?;
    let month_word = words.next()?.to_ascii_lowercase();
    let month = MONTHS
        .iter()
        .position(|name| month_word.starts_with(name))?;
    let year: i16 = words.next()?.parse().ok()?;
    Date::new(year, i8::try_from(month + 1).ok()?, day).ok()
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;

    #[test]
    fn the_timelines_source_names_as_many_sales_as_the_shipped_file_holds() {
        let sales = crate::timelines::Timeline::builtin()
            .expect("the shipped file parses")
            .len();
        let source = builtin_source("timelines").expect("shipped");
        assert!(
            source.name.contains(&format!(": {sales} arms sales")),
            "{} for {sales} rows",
            source.name
        );
    }

    #[test]
    fn a_source_older_than_a_year_is_flagged_stale() {
        let nato = builtin_source("nato").expect("shipped");
        assert!(
            !nato.freshness(date(2026, 8, 28)).stale,
            "365 days is a year"
        );
        let a_year_and_a_day = nato.freshness(date(2026, 8, 29));
        assert!(a_year_and_a_day.stale);
        assert_eq!(a_year_and_a_day.age_days, 366);
        assert_eq!(nato.stale_after(), date(2026, 8, 28));
    }

    #[test]
    fn sipri_exports_are_dated_by_their_data_generated_line() {
        assert_eq!(
            sipri_generated_date("13 Apr 2024 3:44:54 PM"),
            Some(date(2024, 4, 13))
        );
        assert_eq!(
            sipri_generated_date("13 Mar 2025 10:02:49 AM"),
            Some(date(2025, 3, 13))
        );
        assert_eq!(sipri_generated_date("yesterday"), None);
        assert_eq!(sipri_generated_date("31 Feb 2024"), None);
    }

    #[test]
    fn every_shipped_source_has_a_distinct_id() {
        let mut ids: Vec<String> = builtin().into_iter().map(|source| source.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids, ["capacity", "dsca", "nato", "timelines"]);
    }
}
