//! Parsing the trade-register exports, quirk by quirk (numbers refer to the list in the
//! shared SIPRI README):
//!
//! 1. The header is found by its text, not at a fixed line: exports differ in preamble.
//! 2. The per-deal layout has three columns named `' '` holding `?` flags for the column
//!    to their left; columns are mapped by position, never by name.
//! 3. Delivery years are a `'; '`-separated list, empty when nothing was delivered.
//! 4. Empty fields mean "no data" (`Number ordered`, TIVs) and become `None`.
//! 5. A real CSV parser (the `csv` crate) reads the records, so quoted fields also work.
//! 6. A few comments hold raw line breaks: a record that comes out short is joined with the
//!    next one, the break kept inside the comment.
//! 7. The text is ISO-8859-1: input that is not valid UTF-8 is decoded as Latin-1 (by
//!    `encoding_rs`, whose `windows-1252` is the WHATWG decoder for the ISO-8859-1 label).

use std::borrow::Cow;
use std::collections::HashMap;

use csv::StringRecord;

use super::{Deal, DealStatus, Layout, Party, TradeRegister};
use crate::DataError;

/// How many lines to look at for the header before giving up.
const HEADER_SEARCH_LINES: usize = 100;

const PER_DEAL_COLUMNS: [&str; 16] = [
    "Recipient",
    "Supplier",
    "Year of order",
    " ",
    "Number ordered",
    " ",
    "Weapon designation",
    "Weapon description",
    "Number delivered",
    " ",
    "Year(s) of delivery",
    "status",
    "Comments",
    "SIPRI TIV per unit",
    "SIPRI TIV for total order",
    "SIPRI TIV of delivered weapons",
];

const PER_DELIVERY_YEAR_COLUMNS: [&str; 17] = [
    "SIPRI AT Database ID",
    "Supplier",
    "Recipient",
    "Designation",
    "Description",
    "Armament category",
    "Order date",
    "Order date is estimate",
    "Numbers delivered",
    "Numbers delivered is estimate",
    "Delivery year",
    "Delivery year is estimate",
    "Status",
    "SIPRI estimate",
    "TIV deal unit",
    "TIV delivery values",
    "Local production",
];

/// Names for the uncertainty flag columns in errors: their header is a blank.
const ORDER_YEAR_FLAG: &str = "? flag of Year of order (column 4)";
const NUMBER_ORDERED_FLAG: &str = "? flag of Number ordered (column 6)";
const NUMBER_DELIVERED_FLAG: &str = "? flag of Number delivered (column 10)";

/// Parses a whole export held in memory; `input` names it in errors.
///
/// # Errors
/// As [`super::read`].
pub fn parse_bytes(bytes: &[u8], input: &str) -> Result<TradeRegister, DataError> {
    let text = decode(bytes);
    let preamble = find_header(&text, input)?;
    let body = &text[preamble.body_offset..];
    let expected = match preamble.layout {
        Layout::PerDeal => PER_DEAL_COLUMNS.len(),
        Layout::PerDeliveryYear => PER_DELIVERY_YEAR_COLUMNS.len(),
    };
    let records = JoinedRecords::new(body, preamble.header_line, expected, input);
    let (deals, record_count) = match preamble.layout {
        Layout::PerDeal => parse_per_deal(records, input)?,
        Layout::PerDeliveryYear => parse_per_delivery_year(records, input)?,
    };
    Ok(TradeRegister {
        layout: preamble.layout,
        generated: preamble.generated,
        records: record_count,
        deals,
    })
}

/// UTF-8 when it is valid UTF-8 (re-saved copies, with or without BOM), else Latin-1.
fn decode(bytes: &[u8]) -> Cow<'_, str> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => {
            encoding_rs::WINDOWS_1252
                .decode_without_bom_handling(bytes)
                .0
        }
    }
}

struct Preamble {
    layout: Layout,
    generated: Option<String>,
    /// Physical line of the header (1-based).
    header_line: u64,
    /// Byte offset of the first line after the header.
    body_offset: usize,
}

fn find_header(text: &str, input: &str) -> Result<Preamble, DataError> {
    let mut generated = None;
    let mut offset = 0;
    for (index, line) in text
        .split_inclusive('\n')
        .take(HEADER_SEARCH_LINES)
        .enumerate()
    {
        let header_line = index as u64 + 1;
        let content = line.trim_end_matches(['\r', '\n']);
        if let Some(value) = content.strip_prefix("Data generated:") {
            generated = Some(value.trim().to_owned());
        }
        let layout = if content.starts_with("Recipient,Supplier,Year of order") {
            Some(Layout::PerDeal)
        } else if content.starts_with("SIPRI AT Database ID,") {
            Some(Layout::PerDeliveryYear)
        } else {
            None
        };
        offset += line.len();
        if let Some(layout) = layout {
            check_columns(content, layout, header_line, input)?;
            return Ok(Preamble {
                layout,
                generated,
                header_line,
                body_offset: offset,
            });
        }
    }
    Err(DataError::NoHeader {
        input: input.to_owned(),
        lines_searched: HEADER_SEARCH_LINES,
    })
}

fn check_columns(header: &str, layout: Layout, line: u64, input: &str) -> Result<(), DataError> {
    let expected: &[&'static str] = match layout {
        Layout::PerDeal => &PER_DEAL_COLUMNS,
        Layout::PerDeliveryYear => &PER_DELIVERY_YEAR_COLUMNS,
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(header.as_bytes());
    let mut found = StringRecord::new();
    reader
        .read_record(&mut found)
        .map_err(|source| DataError::Csv {
            input: input.to_owned(),
            line,
            source,
        })?;
    for (position, &name) in expected.iter().enumerate() {
        let actual = found.get(position).unwrap_or_default();
        // Blank-named flag columns may be written as one space or as nothing.
        if actual.trim() != name.trim() {
            return Err(DataError::UnexpectedColumn {
                input: input.to_owned(),
                line,
                column: position + 1,
                expected: name,
                found: actual.to_owned(),
            });
        }
    }
    if found.len() != expected.len() {
        return Err(DataError::FieldCount {
            input: input.to_owned(),
            line,
            expected: expected.len(),
            found: found.len(),
        });
    }
    Ok(())
}

/// One logical record: its first physical line and its fields.
struct Record {
    line: u64,
    fields: Vec<String>,
}

impl Record {
    fn get(&self, position: usize) -> &str {
        self.fields.get(position).map_or("", String::as_str)
    }
}

/// Records of the body, with records broken by a raw line break joined again (quirk 6).
struct JoinedRecords<'a> {
    reader: csv::Reader<&'a [u8]>,
    header_line: u64,
    expected: usize,
    input: &'a str,
    scratch: StringRecord,
}

impl<'a> JoinedRecords<'a> {
    fn new(body: &'a str, header_line: u64, expected: usize, input: &'a str) -> Self {
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(body.as_bytes());
        JoinedRecords {
            reader,
            header_line,
            expected,
            input,
            scratch: StringRecord::new(),
        }
    }

    /// Reads the next physical record; `None` at the end.
    fn next_fragment(&mut self) -> Result<Option<Record>, DataError> {
        let more = self
            .reader
            .read_record(&mut self.scratch)
            .map_err(|source| {
                let line =
                    self.header_line + source.position().map_or(0, |position| position.line());
                DataError::Csv {
                    input: self.input.to_owned(),
                    line,
                    source,
                }
            })?;
        if !more {
            return Ok(None);
        }
        let line = self.header_line
            + self
                .scratch
                .position()
                .map_or(0, |position| position.line());
        Ok(Some(Record {
            line,
            fields: self.scratch.iter().map(str::to_owned).collect(),
        }))
    }

    fn next_record(&mut self) -> Result<Option<Record>, DataError> {
        let Some(mut record) = self.next_fragment()? else {
            return Ok(None);
        };
        while record.fields.len() < self.expected {
            let Some(continuation) = self.next_fragment()? else {
                break;
            };
            join_broken(&mut record.fields, continuation.fields);
        }
        if record.fields.len() != self.expected {
            return Err(DataError::FieldCount {
                input: self.input.to_owned(),
                line: record.line,
                expected: self.expected,
                found: record.fields.len(),
            });
        }
        Ok(Some(record))
    }
}

impl Iterator for JoinedRecords<'_> {
    type Item = Result<Record, DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_record().transpose()
    }
}

/// The line break fell inside the last field of `fields`: the first field of the
/// continuation is the rest of it.
fn join_broken(fields: &mut Vec<String>, continuation: Vec<String>) {
    let mut rest = continuation.into_iter();
    if let (Some(last), Some(tail)) = (fields.last_mut(), rest.next()) {
        last.push('\n');
        last.push_str(&tail);
    }
    fields.extend(rest);
}

/// Resolves party names once per distinct name: there are a few hundred, and tens of
/// thousands of rows.
#[derive(Default)]
struct Parties {
    known: HashMap<String, Party>,
}

impl Parties {
    fn get(&mut self, name: &str) -> Party {
        if let Some(party) = self.known.get(name) {
            return party.clone();
        }
        let party = Party::from_sipri_name(name);
        self.known.insert(name.to_owned(), party.clone());
        party
    }
}

/// Reads fields of one record, turning bad values into errors that name line and field.
struct Fields<'a> {
    record: &'a Record,
    input: &'a str,
}

impl Fields<'_> {
    fn text(&self, position: usize) -> &str {
        self.record.get(position)
    }

    fn error(&self, field: &'static str, value: &str, problem: &'static str) -> DataError {
        DataError::Field {
            input: self.input.to_owned(),
            line: self.record.line,
            field,
            value: value.to_owned(),
            problem,
        }
    }

    fn required_text(&self, position: usize, field: &'static str) -> Result<String, DataError> {
        let value = self.text(position).trim();
        if value.is_empty() {
            return Err(self.error(field, value, "must not be empty"));
        }
        Ok(value.to_owned())
    }

    fn year(&self, position: usize, field: &'static str) -> Result<i32, DataError> {
        let value = self.text(position).trim();
        parse_year(value).ok_or_else(|| self.error(field, value, "expected a 4-digit year"))
    }

    fn count(&self, position: usize, field: &'static str) -> Result<u32, DataError> {
        let value = self.text(position).trim();
        value
            .parse()
            .map_err(|_| self.error(field, value, "expected a whole number"))
    }

    fn optional_count(
        &self,
        position: usize,
        field: &'static str,
    ) -> Result<Option<u32>, DataError> {
        if self.text(position).trim().is_empty() {
            Ok(None)
        } else {
            self.count(position, field).map(Some)
        }
    }

    fn question_flag(&self, position: usize, field: &'static str) -> Result<bool, DataError> {
        match self.text(position).trim() {
            "" => Ok(false),
            "?" => Ok(true),
            other => Err(self.error(field, other, "expected '?' or nothing")),
        }
    }

    fn yes_no(&self, position: usize, field: &'static str) -> Result<bool, DataError> {
        match self.text(position).trim() {
            "Yes" => Ok(true),
            "No" => Ok(false),
            other => Err(self.error(field, other, "expected 'Yes' or 'No'")),
        }
    }

    fn tiv(&self, position: usize, field: &'static str) -> Result<Option<f64>, DataError> {
        let value = self.text(position).trim();
        if value.is_empty() {
            return Ok(None);
        }
        match value.parse::<f64>() {
            Ok(number) if number.is_finite() && number >= 0.0 => Ok(Some(number)),
            _ => Err(self.error(field, value, "expected a TIV in millions such as 4.75")),
        }
    }

    fn status(&self, position: usize, field: &'static str) -> Result<DealStatus, DataError> {
        let value = self.text(position);
        DealStatus::parse(value).ok_or_else(|| {
            self.error(
                field,
                value,
                "expected 'New', 'Second hand' or 'Second hand but modernized'",
            )
        })
    }

    fn delivery_years(&self, position: usize, field: &'static str) -> Result<Vec<i32>, DataError> {
        let value = self.text(position).trim();
        if value.is_empty() {
            return Ok(Vec::new());
        }
        let mut years = value
            .split(';')
            .map(|year| parse_year(year.trim()))
            .collect::<Option<Vec<i32>>>()
            .ok_or_else(|| self.error(field, value, "expected years separated by '; '"))?;
        years.sort_unstable();
        years.dedup();
        Ok(years)
    }
}

fn parse_year(text: &str) -> Option<i32> {
    (text.len() == 4 && text.bytes().all(|byte| byte.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

fn parse_per_deal(
    records: JoinedRecords<'_>,
    input: &str,
) -> Result<(Vec<Deal>, usize), DataError> {
    let mut parties = Parties::default();
    let mut deals = Vec::new();
    for record in records {
        let record = record?;
        let fields = Fields {
            record: &record,
            input,
        };
        deals.push(per_deal(&fields, &mut parties)?);
    }
    let count = deals.len();
    Ok((deals, count))
}

fn per_deal(fields: &Fields<'_>, parties: &mut Parties) -> Result<Deal, DataError> {
    let c = &PER_DEAL_COLUMNS;
    Ok(Deal {
        line: fields.record.line,
        sipri_id: None,
        recipient: parties.get(&fields.required_text(0, c[0])?),
        supplier: parties.get(&fields.required_text(1, c[1])?),
        order_year: fields.year(2, c[2])?,
        order_year_uncertain: fields.question_flag(3, ORDER_YEAR_FLAG)?,
        number_ordered: fields.optional_count(4, c[4])?,
        number_ordered_uncertain: fields.question_flag(5, NUMBER_ORDERED_FLAG)?,
        designation: fields.text(6).trim().to_owned(),
        description: fields.text(7).trim().to_owned(),
        armament_category: None,
        number_delivered: fields.count(8, c[8])?,
        number_delivered_uncertain: fields.question_flag(9, NUMBER_DELIVERED_FLAG)?,
        delivery_years: fields.delivery_years(10, c[10])?,
        status: fields.status(11, c[11])?,
        comments: fields.text(12).trim().to_owned(),
        tiv_per_unit: fields.tiv(13, c[13])?,
        tiv_total_order: fields.tiv(14, c[14])?,
        tiv_delivered: fields.tiv(15, c[15])?,
        local_production: None,
    })
}

fn parse_per_delivery_year(
    records: JoinedRecords<'_>,
    input: &str,
) -> Result<(Vec<Deal>, usize), DataError> {
    let mut parties = Parties::default();
    let mut deals: Vec<Deal> = Vec::new();
    let mut position_of_id: HashMap<u64, usize> = HashMap::new();
    let mut count = 0;
    for record in records {
        let record = record?;
        count += 1;
        let fields = Fields {
            record: &record,
            input,
        };
        let row = per_delivery_year(&fields, &mut parties)?;
        match row.sipri_id.and_then(|id| position_of_id.get(&id)) {
            Some(&position) => merge_delivery(&mut deals[position], row),
            None => {
                if let Some(id) = row.sipri_id {
                    position_of_id.insert(id, deals.len());
                }
                deals.push(row);
            }
        }
    }
    Ok((deals, count))
}

fn per_delivery_year(fields: &Fields<'_>, parties: &mut Parties) -> Result<Deal, DataError> {
    let c = &PER_DELIVERY_YEAR_COLUMNS;
    let id_text = fields.text(0).trim();
    let sipri_id: u64 = id_text
        .parse()
        .map_err(|_| fields.error(c[0], id_text, "expected a whole number"))?;
    // Checked but not kept: a deal holds no per-year estimate flag (the per-deal layout has
    // none), and `SIPRI estimate` is the TIV of a new unit, not of this deal.
    fields.yes_no(11, c[11])?;
    fields.tiv(13, c[13])?;
    Ok(Deal {
        line: fields.record.line,
        sipri_id: Some(sipri_id),
        supplier: parties.get(&fields.required_text(1, c[1])?),
        recipient: parties.get(&fields.required_text(2, c[2])?),
        designation: fields.text(3).trim().to_owned(),
        description: fields.text(4).trim().to_owned(),
        armament_category: Some(fields.text(5).trim().to_owned()),
        order_year: fields.year(6, c[6])?,
        order_year_uncertain: fields.yes_no(7, c[7])?,
        number_ordered: None,
        number_ordered_uncertain: false,
        number_delivered: fields.count(8, c[8])?,
        number_delivered_uncertain: fields.yes_no(9, c[9])?,
        delivery_years: vec![fields.year(10, c[10])?],
        status: fields.status(12, c[12])?,
        comments: String::new(),
        tiv_per_unit: fields.tiv(14, c[14])?,
        tiv_total_order: None,
        tiv_delivered: fields.tiv(15, c[15])?,
        local_production: Some(fields.yes_no(16, c[16])?),
    })
}

/// Adds a further delivery-year row to the deal it belongs to.
fn merge_delivery(deal: &mut Deal, row: Deal) {
    deal.number_delivered += row.number_delivered;
    deal.number_delivered_uncertain |= row.number_delivered_uncertain;
    deal.delivery_years.extend(row.delivery_years);
    deal.delivery_years.sort_unstable();
    deal.delivery_years.dedup();
    deal.tiv_delivered = match (deal.tiv_delivered, row.tiv_delivered) {
        (Some(sum), Some(more)) => Some(sum + more),
        (sum, more) => sum.or(more),
    };
}
