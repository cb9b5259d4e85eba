//! Real case timelines: dated milestones of real arms sales, the ground truth that the
//! forecast is calibrated on and back-tested against (`expedite calibrate`,
//! `expedite backtest`).
//!
//! The shipped file is `data/cases/timelines.csv` (43 sales, 2015–2026, each with its
//! sources; facts complete up to [`OBSERVED`]), compiled in: [`Timeline::builtin`] reads it.
//! A user's file with the same columns goes through [`read`]. A milestone may be known to
//! the day (`2022-12-02`), only to the month (`2023-01`) or only to the year (`2021`): a
//! month-only date is read as the 15th, the middle of the month, a year-only date as the 1st
//! of July, the middle of the year, and each keeps its [`Precision`] so that reports can say
//! so and fits can blur it.
//!
//! ```
//! use expedite_data::timelines::{Precision, Timeline};
//! let rows = Timeline::builtin().expect("the shipped file parses");
//! let estonia = rows.iter().find(|row| row.id == "EST-HIMARS-2022").expect("shipped");
//! let first = estonia.milestones.first_delivery.expect("delivered");
//! assert_eq!((first.date.to_string(), first.precision), ("2025-04-30".to_owned(), Precision::Day));
//! ```

use std::collections::HashSet;
use std::io::Read;

use expedite_core::{Channel, Country, Date, Usd};
use serde::{Deserialize, Serialize};

use crate::DataError;

const TIMELINES_CSV: &str = include_str!("../data/cases/timelines.csv");
const TIMELINES_FILE: &str = "cases/timelines.csv";

/// The parameters `expedite calibrate` fitted on the shipped timelines
/// (`data/calibration/params.toml`; its header names the command that wrote it). Read by
/// `expedite_portfolio::calibrate::Params::shipped`.
pub const CALIBRATION_TOML: &str = include_str!("../data/calibration/params.toml");

/// The date up to which the shipped file's facts are complete: a milestone that is empty
/// had not happened, or was not reported, by then (`data/cases/README.md`).
pub const OBSERVED: &str = "2026-03-31";

/// How precisely a milestone's date is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    /// The day is known.
    Day,
    /// Only the month is known; the date is the 15th of that month.
    Month,
    /// Only the year is known (a SIPRI trade register's order and delivery years, a
    /// timeline whose sources give only the year); the date is the 1st of July, the middle
    /// of the year.
    Year,
}

/// A dated milestone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Milestone {
    /// The day (the 15th when only the month is known).
    pub date: Date,
    /// Whether the day is known or read as the middle of the month or of the year.
    pub precision: Precision,
}

impl Milestone {
    /// The first day the milestone may have fallen on: the day itself, or the first of its
    /// month or of its year.
    pub fn earliest(&self) -> Date {
        match self.precision {
            Precision::Day => self.date,
            Precision::Month => self.date.first_of_month(),
            Precision::Year => self.date.first_of_year(),
        }
    }

    /// The last day the milestone may have fallen on.
    pub fn latest(&self) -> Date {
        match self.precision {
            Precision::Day => self.date,
            Precision::Month => self.date.last_of_month(),
            Precision::Year => self.date.last_of_year(),
        }
    }
}

/// The milestones of a sale, in the file's order; `None` where the file leaves it empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Milestones {
    /// Letter of Request or public selection.
    pub request: Option<Milestone>,
    /// DSCA public notification (US FMS).
    pub notification: Option<Milestone>,
    /// LOA signed, or for a non-FMS sale the contract signed.
    pub loa: Option<Milestone>,
    /// Production contract awarded to the maker.
    pub production_contract: Option<Milestone>,
    /// First hardware formally handed over.
    pub first_delivery: Option<Milestone>,
    /// Last delivery, where a source states completion.
    pub final_delivery: Option<Milestone>,
}

/// Which milestone: the columns of the file in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MilestoneKind {
    /// `request`
    Request,
    /// `notification`
    Notification,
    /// `loa_or_contract_signed`
    Loa,
    /// `production_contract`
    ProductionContract,
    /// `first_delivery`
    FirstDelivery,
    /// `final_delivery`
    FinalDelivery,
}

impl MilestoneKind {
    /// Every milestone, in the file's (and the usual) order.
    pub const ALL: [MilestoneKind; 6] = [
        MilestoneKind::Request,
        MilestoneKind::Notification,
        MilestoneKind::Loa,
        MilestoneKind::ProductionContract,
        MilestoneKind::FirstDelivery,
        MilestoneKind::FinalDelivery,
    ];

    /// The column name.
    pub fn column(self) -> &'static str {
        match self {
            MilestoneKind::Request => "request",
            MilestoneKind::Notification => "notification",
            MilestoneKind::Loa => "loa_or_contract_signed",
            MilestoneKind::ProductionContract => "production_contract",
            MilestoneKind::FirstDelivery => "first_delivery",
            MilestoneKind::FinalDelivery => "final_delivery",
        }
    }
}

impl Milestones {
    /// The milestone of this kind.
    pub fn get(&self, kind: MilestoneKind) -> Option<Milestone> {
        match kind {
            MilestoneKind::Request => self.request,
            MilestoneKind::Notification => self.notification,
            MilestoneKind::Loa => self.loa,
            MilestoneKind::ProductionContract => self.production_contract,
            MilestoneKind::FirstDelivery => self.first_delivery,
            MilestoneKind::FinalDelivery => self.final_delivery,
        }
    }

    /// Only the milestones dated before `day`: what was known on `day`.
    pub fn known_before(&self, day: Date) -> Milestones {
        let keep = |milestone: Option<Milestone>| milestone.filter(|m| m.date < day);
        Milestones {
            request: keep(self.request),
            notification: keep(self.notification),
            loa: keep(self.loa),
            production_contract: keep(self.production_contract),
            first_delivery: keep(self.first_delivery),
            final_delivery: keep(self.final_delivery),
        }
    }
}

/// The first delivery a sale was promised, as a source states it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Promise {
    /// The middle of the promised period: the day itself, the 15th of a month, the 1st of
    /// July of a year, or halfway between the middles of a window's two ends; for a promise
    /// made inside the period, the middle of what was left of it.
    pub first_delivery: Date,
    /// As the file states it: `2024`, `2025-01`, `2023-10/2023-12`.
    pub stated: String,
    /// The day the promise was made public, where a source dates it; a back-test forecast
    /// (made the day after a milestone) uses a promise only from the day after, the demo
    /// from that day, as it does every fact.
    pub made: Option<Milestone>,
}

/// One real sale.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timeline {
    /// `BUYER-SYSTEM-YEAR`, unique in the file.
    pub id: String,
    /// The buyer as the file names it.
    pub buyer: String,
    /// The purchasing country.
    pub purchaser: Country,
    /// The selling country.
    pub supplier: Country,
    /// FMS, DCS or government to government.
    pub channel: Channel,
    /// What was bought, in words.
    pub system: String,
    /// The production line of the capacity catalog that builds it, where one does.
    pub line: Option<String>,
    /// Units of the main item.
    pub quantity: u32,
    /// Notified ceiling (FMS) or signed value.
    pub value_usd: Option<Usd>,
    /// The dated milestones.
    pub milestones: Milestones,
    /// The first delivery promised at signing, where a source states one.
    pub promise: Option<Promise>,
    /// What each date is, disagreements between sources.
    pub notes: String,
    /// The addresses the row was read from.
    pub sources: Vec<String>,
    /// The physical line of the row in its file (1-based), for messages.
    pub file_line: u64,
}

impl Timeline {
    /// The timelines shipped with expedite (`data/cases/timelines.csv`), in file order.
    ///
    /// # Errors
    /// Only if the shipped file were broken; a test reads it.
    pub fn builtin() -> Result<Vec<Timeline>, DataError> {
        read(TIMELINES_CSV.as_bytes(), TIMELINES_FILE)
    }

    /// Whether the seller is the United States.
    pub fn is_us_sale(&self) -> bool {
        self.supplier.iso3() == "USA"
    }
}

/// Reads timelines in the shipped layout from `reader`; `name` names the input in errors.
/// Lines starting with `#` at the top are notes. Columns are found by their header names, so their
/// order does not matter; every column of the shipped file must be there but `notes` and
/// `sources`, which only describe the row (a user's own file of sales may not carry them).
///
/// # Errors
/// [`DataError::Read`] when the reader fails, [`DataError::Csv`] for malformed CSV or a
/// missing column, [`DataError::Field`] naming the line and the column of a bad value
/// (unknown channel or country, a date that is not `YYYY-MM-DD`, `YYYY-MM` or `YYYY`, a
/// quantity that is not a whole number of one or more), [`DataError::Invalid`] for a
/// repeated id.
pub fn read<R: Read>(mut reader: R, name: &str) -> Result<Vec<Timeline>, DataError> {
    let mut text = String::new();
    reader
        .read_to_string(&mut text)
        .map_err(|source| DataError::Read {
            input: name.to_owned(),
            source,
        })?;
    // The notes at the top are cut off here rather than by the CSV reader, whose line
    // numbers do not count comment lines: errors must name the line a person sees.
    let mut notes = 0u64;
    let mut body = text.as_str();
    while body.starts_with('#') {
        notes += 1;
        body = body.split_once('\n').map_or("", |(_, rest)| rest);
    }
    let csv_error = |line: u64| {
        move |source: csv::Error| DataError::Csv {
            input: name.to_owned(),
            line,
            source,
        }
    };
    let mut csv = csv::ReaderBuilder::new().from_reader(body.as_bytes());
    let headers = csv.headers().map_err(csv_error(notes + 1))?.clone();
    let mut seen = HashSet::new();
    let mut timelines = Vec::new();
    let mut next_line = notes + 2;
    for result in csv.records() {
        let record = result.map_err(csv_error(next_line))?;
        // Counted here, not taken from the record's position: csv 1.4 reports the position
        // of the previous record for some inputs (seen on the shipped file). A record spans
        // one line plus the line breaks inside its quoted fields.
        let line = next_line;
        next_line += 1 + record
            .iter()
            .map(|field| field.matches('\n').count() as u64)
            .sum::<u64>();
        let row: Row = record
            .deserialize(Some(&headers))
            .map_err(csv_error(line))?;
        let timeline = row.into_timeline(name, line)?;
        if !seen.insert(timeline.id.clone()) {
            return Err(DataError::Invalid {
                input: name.to_owned(),
                problem: format!("line {line}: field 'id': '{}' appears twice", timeline.id),
            });
        }
        timelines.push(timeline);
    }
    Ok(timelines)
}

#[derive(Deserialize)]
struct Row {
    id: String,
    buyer: String,
    iso3: String,
    supplier: String,
    channel: String,
    system: String,
    line: String,
    quantity: String,
    value_usd: String,
    request: String,
    notification: String,
    loa_or_contract_signed: String,
    production_contract: String,
    first_delivery: String,
    final_delivery: String,
    #[serde(default)]
    promised_first_delivery: String,
    #[serde(default)]
    promised_on: String,
    #[serde(default)]
    notes: String,
    #[serde(default)]
    sources: String,
}

/// Reads `YYYY-MM-DD`, `YYYY-MM` as the 15th of the month, or `YYYY` as the 1st of July.
fn parse_milestone(text: &str) -> Option<Milestone> {
    let text = text.trim();
    if let Ok(date) = text.parse::<Date>() {
        return Some(Milestone {
            date,
            precision: Precision::Day,
        });
    }
    if text.len() == 4 {
        return Some(Milestone {
            date: Date::new(text.parse().ok()?, 7, 1).ok()?,
            precision: Precision::Year,
        });
    }
    let (year, month) = text.split_once('-')?;
    if year.len() != 4 || month.len() != 2 {
        return None;
    }
    let year: i16 = year.parse().ok()?;
    let month: i8 = month.parse().ok()?;
    let date = Date::new(year, month, 15).ok()?;
    Some(Milestone {
        date,
        precision: Precision::Month,
    })
}

/// The middle of a promised period (see [`Promise::first_delivery`]): `YYYY-MM-DD`,
/// `YYYY-MM`, `YYYY`, or a window `FROM/TO` of those.
fn parse_promised(text: &str) -> Option<Date> {
    let middle = |text: &str| {
        let text = text.trim();
        match text.parse::<i16>() {
            Ok(year) if text.len() == 4 => Date::new(year, 7, 1).ok(),
            _ => parse_milestone(text).map(|milestone| milestone.date),
        }
    };
    match text.split_once('/') {
        None => middle(text),
        Some((from, to)) => {
            let (from, to) = (middle(from)?, middle(to)?);
            let days = from.until(to).ok()?.get_days();
            (days >= 0).then(|| from.checked_add(jiff::Span::new().days(days / 2)).ok())?
        }
    }
}

/// The last day of a promised period: the day itself, a month's last day, a year's 31
/// December, or the end of a window's second part.
fn promised_period_end(text: &str) -> Option<Date> {
    let last = text.rsplit('/').next()?.trim();
    if last.len() == 4 {
        return Date::new(last.parse().ok()?, 12, 31).ok();
    }
    let milestone = parse_milestone(last)?;
    Some(match milestone.precision {
        Precision::Month => milestone.date.last_of_month(),
        _ => milestone.date,
    })
}

/// The first delivery read from a promise: the middle of the period it names, or, for a
/// promise made inside that period (Poland's K9s, promised in August 2022 "for 2022"), the
/// middle of what was left of it; the middle of the whole period would be before the promise.
fn promised_first_delivery(text: &str, made: Option<Milestone>) -> Result<Date, &'static str> {
    const FORM: &str = "expected a date YYYY-MM-DD, a month YYYY-MM, a year YYYY, or a window \
                        FROM/TO of those, FROM not after TO";
    let middle = parse_promised(text).ok_or(FORM)?;
    let end = promised_period_end(text).ok_or(FORM)?;
    let Some(made) = made.map(|made| made.date).filter(|made| *made > middle) else {
        return Ok(middle);
    };
    if made > end {
        return Err("the promise was made after the period it names had ended");
    }
    let left = made.until(end).map_err(|_| FORM)?.get_days();
    made.checked_add(jiff::Span::new().days(left / 2))
        .map_err(|_| FORM)
}

impl Row {
    fn into_timeline(self, input: &str, line: u64) -> Result<Timeline, DataError> {
        let error = |field: &'static str, value: &str, problem: &'static str| DataError::Field {
            input: input.to_owned(),
            line,
            field,
            value: value.to_owned(),
            problem,
        };
        let id = self.id.trim().to_owned();
        if id.is_empty() {
            return Err(error("id", &self.id, "the id is empty"));
        }
        let purchaser = Country::from_iso3(&self.iso3)
            .map_err(|_| error("iso3", &self.iso3, "unknown ISO3 code"))?;
        let supplier = Country::from_iso3(&self.supplier)
            .map_err(|_| error("supplier", &self.supplier, "unknown ISO3 code"))?;
        let channel = Channel::ALL
            .into_iter()
            .find(|channel| channel.as_str() == self.channel.trim())
            .ok_or_else(|| error("channel", &self.channel, "expected fms, dcs or g2g"))?;
        let quantity = self
            .quantity
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|&units| units >= 1)
            .ok_or_else(|| {
                error(
                    "quantity",
                    &self.quantity,
                    "expected a whole number of units, 1 or more",
                )
            })?;
        let value_usd = match self.value_usd.trim() {
            "" => None,
            text => Some(
                Usd::parse(text).map_err(|_| error("value_usd", text, "expected whole dollars"))?,
            ),
        };
        let date = |field: &'static str, text: &str| match text.trim() {
            "" => Ok(None),
            text => parse_milestone(text).map(Some).ok_or_else(|| {
                error(
                    field,
                    text,
                    "expected a date YYYY-MM-DD, a month YYYY-MM or a year YYYY",
                )
            }),
        };
        let milestones = Milestones {
            request: date("request", &self.request)?,
            notification: date("notification", &self.notification)?,
            loa: date("loa_or_contract_signed", &self.loa_or_contract_signed)?,
            production_contract: date("production_contract", &self.production_contract)?,
            first_delivery: date("first_delivery", &self.first_delivery)?,
            final_delivery: date("final_delivery", &self.final_delivery)?,
        };
        // Compared as precisely as both are known: a final delivery in 2021 may follow a
        // first one of 2021-06, but not one of 2022.
        if let (Some(first), Some(last)) = (milestones.first_delivery, milestones.final_delivery)
            && last.latest() < first.earliest()
        {
            return Err(error(
                "final_delivery",
                &self.final_delivery,
                "the final delivery is before the first delivery",
            ));
        }
        let promise = match self.promised_first_delivery.trim() {
            "" => None,
            text => {
                let made = date("promised_on", &self.promised_on)?;
                Some(Promise {
                    first_delivery: promised_first_delivery(text, made)
                        .map_err(|problem| error("promised_first_delivery", text, problem))?,
                    stated: text.to_owned(),
                    made,
                })
            }
        };
        if promise.is_none() && !self.promised_on.trim().is_empty() {
            return Err(error(
                "promised_on",
                &self.promised_on,
                "a promise's date without the promise (promised_first_delivery is empty)",
            ));
        }
        let line_id = self.line.trim();
        Ok(Timeline {
            id,
            buyer: self.buyer.trim().to_owned(),
            purchaser,
            supplier,
            channel,
            system: self.system.trim().to_owned(),
            line: (!line_id.is_empty()).then(|| line_id.to_owned()),
            quantity,
            value_usd,
            milestones,
            promise,
            notes: self.notes,
            sources: self
                .sources
                .split(" | ")
                .map(str::trim)
                .filter(|address| !address.is_empty())
                .map(str::to_owned)
                .collect(),
            file_line: line,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "id,buyer,iso3,supplier,channel,system,line,quantity,value_usd,request,\
        notification,loa_or_contract_signed,production_contract,first_delivery,final_delivery,\
        notes,sources\n";

    fn one_row(row: &str) -> Result<Vec<Timeline>, DataError> {
        read(format!("{HEADER}{row}\n").as_bytes(), "mine.csv")
    }

    #[test]
    fn shipped_file_has_43_sales_32_of_them_from_the_us() {
        let rows = Timeline::builtin().expect("the shipped file parses");
        assert_eq!(rows.len(), 43);
        assert_eq!(rows.iter().filter(|row| row.is_us_sale()).count(), 32);
        assert!(rows.iter().all(|row| !row.sources.is_empty()));
    }

    #[test]
    fn month_only_dates_are_the_middle_of_the_month_and_say_so() {
        let rows = Timeline::builtin().expect("parses");
        let taiwan = rows
            .iter()
            .find(|row| row.id == "TWN-HIMARS-2020")
            .expect("shipped");
        let loa = taiwan.milestones.loa.expect("signed June 2021");
        assert_eq!(loa.date.to_string(), "2021-06-15");
        assert_eq!(loa.precision, Precision::Month);
        let notified = taiwan.milestones.notification.expect("notified");
        assert_eq!(notified.precision, Precision::Day);
    }

    #[test]
    fn year_only_dates_are_the_middle_of_the_year_and_say_so() {
        // As for Poland's first Javelins: "delivered in 2021", no month given.
        let rows = one_row("X-1,Xland,POL,USA,fms,Javelin,javelin,180,,,2020-03-04,,,2021,2021,,")
            .expect("a year is a date");
        let first = rows[0]
            .milestones
            .first_delivery
            .expect("delivered in 2021");
        assert_eq!(
            (first.date.to_string(), first.precision),
            ("2021-07-01".to_owned(), Precision::Year)
        );
        assert_eq!(
            (first.earliest().to_string(), first.latest().to_string()),
            ("2021-01-01".to_owned(), "2021-12-31".to_owned())
        );
    }

    #[test]
    fn a_final_delivery_before_the_first_is_refused_as_precisely_as_both_are_known() {
        let row = |first: &str, last: &str| {
            one_row(&format!(
                "X-1,Xland,EST,USA,fms,HIMARS,himars,6,,,2020-03-04,,,{first},{last},,"
            ))
        };
        for (first, last) in [
            ("2021", "2021-03"),
            ("2021-06", "2021"),
            ("2023-07-20", "2023-07"),
            ("2021", "2021"),
        ] {
            assert!(row(first, last).is_ok(), "{first} then {last}");
        }
        for (first, last) in [
            ("2022", "2021"),
            ("2023-07", "2023-05"),
            ("2022", "2021-12-31"),
        ] {
            let message = row(first, last).expect_err(last).to_string();
            assert!(message.contains("field 'final_delivery'"), "{message}");
        }
    }

    #[test]
    fn row_numbers_count_the_note_lines_at_the_top() {
        let rows = Timeline::builtin().expect("parses");
        // Six '#' lines, the header on line 7, the first sale on line 8.
        assert_eq!(rows[0].file_line, 8);
        // The second sale is on line 9, the last of 42 on line 49.
        assert_eq!(rows[1].file_line, 9);
        assert_eq!(rows[41].file_line, 49);
        assert_eq!(rows[0].id, "POL-M1A2SEPV3-2022");
    }

    #[test]
    fn a_good_user_row_reads_with_its_line_and_milestones() {
        let rows = one_row(
            "X-HIMARS-2022,Xland,EST,USA,fms,HIMARS,himars,6,200000000,,2022-07-15,2022-12,,,,note,a | b",
        )
        .expect("valid row");
        let row = &rows[0];
        assert_eq!(row.line.as_deref(), Some("himars"));
        assert_eq!(row.channel, Channel::Fms);
        assert_eq!(row.sources, vec!["a", "b"]);
        assert!(row.milestones.first_delivery.is_none());
        assert_eq!(row.file_line, 2);
    }

    #[test]
    fn a_file_without_notes_and_sources_reads_in_any_column_order() {
        let text = "final_delivery,first_delivery,production_contract,loa_or_contract_signed,\
            notification,request,value_usd,quantity,line,system,channel,supplier,iso3,buyer,id\n\
            2025-04-30,2025-04-30,,2022-12,2022-07-15,,,6,himars,HIMARS,fms,USA,EST,Xland,X-HIMARS-2022\n";
        let rows = read(text.as_bytes(), "user file").expect("notes and sources are optional");
        assert_eq!(rows[0].id, "X-HIMARS-2022");
        assert_eq!(rows[0].line.as_deref(), Some("himars"));
        assert!(rows[0].sources.is_empty());
    }

    /// A row of the columns a file without notes may have, with a promise.
    fn promised(promise: &str, on: &str) -> Result<Vec<Timeline>, DataError> {
        let header = HEADER.replace("notes,sources", "promised_first_delivery,promised_on");
        let row = format!(
            "X-1,Xland,EST,USA,fms,HIMARS,himars,6,,,2022-07-15,2022-12-02,,2025-04-30,,{promise},{on}"
        );
        read(format!("{header}{row}\n").as_bytes(), "mine.csv")
    }

    #[test]
    fn a_promise_is_read_as_the_middle_of_the_period_it_names() {
        for (stated, middle) in [
            ("2024-11-20", "2024-11-20"),
            ("2024-11", "2024-11-15"),
            ("2024", "2024-07-01"),
            // "late 2023": halfway between 15 October and 15 December.
            ("2023-10/2023-12", "2023-11-14"),
            ("2025-04/2026-03", "2025-09-29"),
        ] {
            let rows = promised(stated, "").expect("a valid promise");
            let promise = rows[0].promise.as_ref().expect("stated");
            assert_eq!(promise.first_delivery.to_string(), middle, "{stated}");
            assert_eq!(promise.stated, stated);
            assert_eq!(promise.made, None);
        }
        let dated = promised("2024", "2022-12").expect("valid");
        let made = dated[0]
            .promise
            .as_ref()
            .and_then(|p| p.made)
            .expect("dated");
        assert_eq!(
            (made.date.to_string(), made.precision),
            ("2022-12-15".to_owned(), Precision::Month)
        );
    }

    #[test]
    fn a_promise_made_inside_its_period_is_read_as_the_middle_of_what_was_left() {
        // Poland's K9s: a contract of 2022-08-26 with deliveries "in 2022". What was left of
        // 2022 runs to 31 December, 127 days; its middle is 63 days on.
        let rows = promised("2022", "2022-08-26").expect("valid");
        let promise = rows[0].promise.as_ref().expect("stated");
        assert_eq!(promise.first_delivery.to_string(), "2022-10-28");
        // "2024-11" promised on 2024-11-20: the middle of 20–30 November.
        let rows = promised("2024-11", "2024-11-20").expect("valid");
        let promise = rows[0].promise.as_ref().expect("stated");
        assert_eq!(promise.first_delivery.to_string(), "2024-11-25");
        // Made before the middle: the middle, as for an undated promise.
        let rows = promised("2024", "2024-03-01").expect("valid");
        let promise = rows[0].promise.as_ref().expect("stated");
        assert_eq!(promise.first_delivery.to_string(), "2024-07-01");
    }

    #[test]
    fn a_bad_promise_or_a_promise_date_without_a_promise_names_its_field() {
        for (promise, on, field) in [
            ("late 2024", "", "promised_first_delivery"),
            ("2024-12/2024-01", "", "promised_first_delivery"),
            ("2024", "2022-13-01", "promised_on"),
            ("", "2022-12-02", "promised_on"),
            // Promised in 2023 for a period that had ended.
            ("2022-10/2022-12", "2023-01-10", "promised_first_delivery"),
        ] {
            let message = promised(promise, on).expect_err("refused").to_string();
            assert!(message.contains(&format!("field '{field}'")), "{message}");
            assert!(message.contains("mine.csv line 2"), "{message}");
        }
    }

    #[test]
    fn the_shipped_promises_are_dated_only_where_a_source_dates_them() {
        let rows = Timeline::builtin().expect("the shipped file parses");
        let poland = rows
            .iter()
            .find(|row| row.id == "POL-F35-2020")
            .expect("shipped");
        let promise = poland
            .promise
            .as_ref()
            .expect("promised for 2024 at signing");
        assert_eq!(promise.first_delivery.to_string(), "2024-07-01");
        assert_eq!(
            promise.made.map(|m| m.date),
            poland.milestones.loa.map(|m| m.date)
        );
        let promised = rows.iter().filter(|row| row.promise.is_some()).count();
        let dated = rows
            .iter()
            .filter(|row| row.promise.as_ref().is_some_and(|p| p.made.is_some()))
            .count();
        assert_eq!((promised, dated), (32, 11));
    }

    #[test]
    fn a_bad_date_names_the_line_and_the_field() {
        let error = one_row("X-1,Xland,EST,USA,fms,HIMARS,himars,6,,,2022-13-01,,,,,,")
            .expect_err("month 13");
        let message = error.to_string();
        assert!(message.contains("mine.csv line 2"), "{message}");
        assert!(message.contains("field 'notification'"), "{message}");
        assert!(message.contains("2022-13-01"), "{message}");
        assert!(message.contains("a year YYYY"), "{message}");
    }

    #[test]
    fn a_bad_channel_country_or_quantity_names_its_field() {
        for (row, field) in [
            ("X-1,Xland,EST,USA,loan,HIMARS,,6,,,,,,,,,", "channel"),
            ("X-1,Xland,XXX,USA,fms,HIMARS,,6,,,,,,,,,", "iso3"),
            ("X-1,Xland,EST,USA,fms,HIMARS,,0,,,,,,,,,", "quantity"),
            ("X-1,Xland,EST,USA,fms,HIMARS,,six,,,,,,,,,", "quantity"),
            ("X-1,Xland,EST,USA,fms,HIMARS,,6,lots,,,,,,,,", "value_usd"),
        ] {
            let message = one_row(row).expect_err(row).to_string();
            assert!(message.contains(&format!("field '{field}'")), "{message}");
        }
    }

    #[test]
    fn a_repeated_id_is_refused() {
        let text = format!(
            "{HEADER}X-1,Xland,EST,USA,fms,HIMARS,,6,,,,,,,,,\nX-1,Xland,EST,USA,fms,HIMARS,,6,,,,,,,,,\n"
        );
        let message = read(text.as_bytes(), "mine.csv")
            .expect_err("twice")
            .to_string();
        assert!(
            message.contains("line 3") && message.contains("'X-1'"),
            "{message}"
        );
    }

    #[test]
    fn a_missing_column_is_refused() {
        let text = "id,buyer\nX-1,Xland\n";
        assert!(read(text.as_bytes(), "mine.csv").is_err());
    }

    #[test]
    fn known_before_keeps_only_earlier_milestones() {
        let rows = Timeline::builtin().expect("parses");
        let estonia = rows
            .iter()
            .find(|row| row.id == "EST-HIMARS-2022")
            .expect("shipped");
        let day_after_loa: Date = "2022-12-03".parse().expect("date");
        let known = estonia.milestones.known_before(day_after_loa);
        assert!(known.loa.is_some() && known.notification.is_some());
        assert!(known.first_delivery.is_none() && known.final_delivery.is_none());
    }
}
