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
//! 7. The text is ISO-8859-1: input that is not valid UTF-8 is read as Latin-1. The CSV is
//!    split on the raw bytes (the delimiters are ASCII in both encodings) and each field is
//!    decoded on its own (by `encoding_rs`, whose `windows-1252` is the WHATWG decoder for
//!    the ISO-8859-1 label), so the mostly-ASCII file is never copied whole.

use std::borrow::Cow;
use std::collections::HashMap;

use csv::ByteRecord;

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
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let encoding = Encoding::of(bytes);
    let preamble = find_header(bytes, encoding, input)?;
    let expected = match preamble.layout {
        Layout::PerDeal => PER_DEAL_COLUMNS.len(),
        Layout::PerDeliveryYear => PER_DELIVERY_YEAR_COLUMNS.len(),
    };
    let body = &bytes[preamble.body_offset..];
    let records = JoinedRecords::new(body, preamble.header_line, expected, input);
    let context = Context { input, encoding };
    let (deals, record_count) = match preamble.layout {
        Layout::PerDeal => parse_per_deal(records, &context)?,
        Layout::PerDeliveryYear => parse_per_delivery_year(records, &context)?,
    };
    Ok(TradeRegister {
        layout: preamble.layout,
        generated: preamble.generated,
        records: record_count,
        deals,
    })
}

/// How the bytes of a field become text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    /// Re-saved copies, with or without a byte-order mark.
    Utf8,
    /// SIPRI's own exports (ISO-8859-1).
    Latin1,
}

impl Encoding {
    /// UTF-8 when the whole input is valid UTF-8, else Latin-1.
    fn of(bytes: &[u8]) -> Encoding {
        if std::str::from_utf8(bytes).is_ok() {
            Encoding::Utf8
        } else {
            Encoding::Latin1
        }
    }

    fn decode(self, bytes: &[u8]) -> Cow<'_, str> {
        match (self, std::str::from_utf8(bytes)) {
            (_, Ok(text)) => Cow::Borrowed(text),
            (Encoding::Utf8, Err(_)) => String::from_utf8_lossy(bytes),
            (Encoding::Latin1, Err(_)) => {
                encoding_rs::WINDOWS_1252
                    .decode_without_bom_handling(bytes)
                    .0
            }
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

fn find_header(bytes: &[u8], encoding: Encoding, input: &str) -> Result<Preamble, DataError> {
    let mut generated = None;
    let mut offset = 0;
    for (index, line) in bytes
        .split_inclusive(|&byte| byte == b'\n')
        .take(HEADER_SEARCH_LINES)
        .enumerate()
    {
        let header_line = index as u64 + 1;
        offset += line.len();
        let text = encoding.decode(line);
        let content = text.trim_end_matches(['\r', '\n']);
        if let Some(value) = content.strip_prefix("Data generated:") {
            generated = Some(value.trim().to_owned());
        }
        let layout = if content.starts_with("Recipient,Supplier,Year of order") {
            Layout::PerDeal
        } else if content.starts_with("SIPRI AT Database ID,") {
            Layout::PerDeliveryYear
        } else {
            continue;
        };
        check_columns(content, layout, header_line, input)?;
        return Ok(Preamble {
            layout,
            generated,
            header_line,
            body_offset: offset,
        });
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
    let mut found = csv::StringRecord::new();
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

/// Records of the body, with records broken by a raw line break joined again (quirk 6).
struct JoinedRecords<'a> {
    reader: csv::Reader<&'a [u8]>,
    header_line: u64,
    expected: usize,
    input: &'a str,
    continuation: ByteRecord,
}

impl<'a> JoinedRecords<'a> {
    fn new(body: &'a [u8], header_line: u64, expected: usize, input: &'a str) -> Self {
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(body);
        JoinedRecords {
            reader,
            header_line,
            expected,
            input,
            continuation: ByteRecord::new(),
        }
    }

    /// Reads the next physical record into `record`; its first line, or `None` at the end.
    fn read_fragment(&mut self, record: &mut ByteRecord) -> Result<Option<u64>, DataError> {
        let more = self.reader.read_byte_record(record).map_err(|source| {
            let line = self.header_line + source.position().map_or(0, |position| position.line());
            DataError::Csv {
                input: self.input.to_owned(),
                line,
                source,
            }
        })?;
        Ok(
            more.then(|| {
                self.header_line + record.position().map_or(0, |position| position.line())
            }),
        )
    }

    /// Reads the next logical record into `record`; its first line, or `None` at the end.
    fn next_record(&mut self, record: &mut ByteRecord) -> Result<Option<u64>, DataError> {
        let Some(line) = self.read_fragment(record)? else {
            return Ok(None);
        };
        while record.len() < self.expected {
            let mut continuation = std::mem::take(&mut self.continuation);
            let found = self.read_fragment(&mut continuation)?;
            if found.is_some() {
                *record = join_broken(record, &continuation);
            }
            self.continuation = continuation;
            if found.is_none() {
                break;
            }
        }
        if record.len() != self.expected {
            return Err(DataError::FieldCount {
                input: self.input.to_owned(),
                line,
                expected: self.expected,
                found: record.len(),
            });
        }
        Ok(Some(line))
    }
}

/// The line break fell inside the last field of `head`: the first field of `tail` is the
/// rest of it.
fn join_broken(head: &ByteRecord, tail: &ByteRecord) -> ByteRecord {
    let mut joined = ByteRecord::new();
    let kept = head.len().saturating_sub(1);
    for field in head.iter().take(kept) {
        joined.push_field(field);
    }
    let mut broken = head.get(kept).unwrap_or_default().to_vec();
    broken.push(b'\n');
    broken.extend_from_slice(tail.get(0).unwrap_or_default());
    joined.push_field(&broken);
    for field in tail.iter().skip(1) {
        joined.push_field(field);
    }
    joined
}

/// What every field reader needs: the input's name and encoding.
struct Context<'a> {
    input: &'a str,
    encoding: Encoding,
}

/// Resolves party names once per distinct name: there are a few hundred, and tens of
/// thousands of rows.
#[derive(Default)]
struct Parties {
    known: HashMap<Vec<u8>, Party>,
}

impl Parties {
    fn get(&mut self, name: &[u8], encoding: Encoding) -> Party {
        if let Some(party) = self.known.get(name) {
            return party.clone();
        }
        let party = Party::from_sipri_name(&encoding.decode(name));
        self.known.insert(name.to_vec(), party.clone());
        party
    }
}

/// Reads fields of one record, turning bad values into errors that name line and field.
struct Fields<'a> {
    record: &'a ByteRecord,
    line: u64,
    context: &'a Context<'a>,
}

impl Fields<'_> {
    fn raw(&self, position: usize) -> &[u8] {
        self.record.get(position).unwrap_or_default().trim_ascii()
    }

    fn text(&self, position: usize) -> Cow<'_, str> {
        self.context.encoding.decode(self.raw(position))
    }

    fn owned_text(&self, position: usize) -> String {
        self.text(position).into_owned()
    }

    fn error(&self, field: &'static str, position: usize, problem: &'static str) -> DataError {
        DataError::Field {
            input: self.context.input.to_owned(),
            line: self.line,
            field,
            value: self.text(position).into_owned(),
            problem,
        }
    }

    fn party(
        &self,
        position: usize,
        field: &'static str,
        parties: &mut Parties,
    ) -> Result<Party, DataError> {
        let name = self.raw(position);
        if name.is_empty() {
            return Err(self.error(field, position, "must not be empty"));
        }
        Ok(parties.get(name, self.context.encoding))
    }

    fn year(&self, position: usize, field: &'static str) -> Result<i32, DataError> {
        parse_year(self.raw(position))
            .ok_or_else(|| self.error(field, position, "expected a 4-digit year"))
    }

    fn count(&self, position: usize, field: &'static str) -> Result<u32, DataError> {
        parse_number(self.raw(position))
            .ok_or_else(|| self.error(field, position, "expected a whole number"))
    }

    fn optional_count(
        &self,
        position: usize,
        field: &'static str,
    ) -> Result<Option<u32>, DataError> {
        if self.raw(position).is_empty() {
            Ok(None)
        } else {
            self.count(position, field).map(Some)
        }
    }

    fn question_flag(&self, position: usize, field: &'static str) -> Result<bool, DataError> {
        match self.raw(position) {
            b"" => Ok(false),
            b"?" => Ok(true),
            _ => Err(self.error(field, position, "expected '?' or nothing")),
        }
    }

    fn yes_no(&self, position: usize, field: &'static str) -> Result<bool, DataError> {
        match self.raw(position) {
            b"Yes" => Ok(true),
            b"No" => Ok(false),
            _ => Err(self.error(field, position, "expected 'Yes' or 'No'")),
        }
    }

    fn tiv(&self, position: usize, field: &'static str) -> Result<Option<f64>, DataError> {
        let raw = self.raw(position);
        if raw.is_empty() {
            return Ok(None);
        }
        match std::str::from_utf8(raw)
            .ok()
            .and_then(|text| text.parse::<f64>().ok())
        {
            Some(number) if number.is_finite() && number >= 0.0 => Ok(Some(number)),
            _ => Err(self.error(field, position, "expected a TIV in millions such as 4.75")),
        }
    }

    fn status(&self, position: usize, field: &'static str) -> Result<DealStatus, DataError> {
        DealStatus::parse(&self.text(position)).ok_or_else(|| {
            self.error(
                field,
                position,
                "expected 'New', 'Second hand' or 'Second hand but modernized'",
            )
        })
    }

    fn delivery_years(&self, position: usize, field: &'static str) -> Result<Vec<i32>, DataError> {
        let raw = self.raw(position);
        if raw.is_empty() {
            return Ok(Vec::new());
        }
        let mut years = raw
            .split(|&byte| byte == b';')
            .map(|year| parse_year(year.trim_ascii()))
            .collect::<Option<Vec<i32>>>()
            .ok_or_else(|| self.error(field, position, "expected years separated by '; '"))?;
        years.sort_unstable();
        years.dedup();
        Ok(years)
    }
}

fn parse_year(digits: &[u8]) -> Option<i32> {
    if digits.len() == 4 {
        parse_number(digits).and_then(|year| i32::try_from(year).ok())
    } else {
        None
    }
}

/// A whole number written in ASCII digits only (no sign, no separators).
fn parse_number(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

fn parse_per_deal(
    mut records: JoinedRecords<'_>,
    context: &Context<'_>,
) -> Result<(Vec<Deal>, usize), DataError> {
    let mut parties = Parties::default();
    let mut deals = Vec::new();
    let mut record = ByteRecord::new();
    while let Some(line) = records.next_record(&mut record)? {
        let fields = Fields {
            record: &record,
            line,
            context,
        };
        deals.push(per_deal(&fields, &mut parties)?);
    }
    let count = deals.len();
    Ok((deals, count))
}

fn per_deal(fields: &Fields<'_>, parties: &mut Parties) -> Result<Deal, DataError> {
    let c = &PER_DEAL_COLUMNS;
    Ok(Deal {
        line: fields.line,
        sipri_id: None,
        recipient: fields.party(0, c[0], parties)?,
        supplier: fields.party(1, c[1], parties)?,
        order_year: fields.year(2, c[2])?,
        order_year_uncertain: fields.question_flag(3, ORDER_YEAR_FLAG)?,
        number_ordered: fields.optional_count(4, c[4])?,
        number_ordered_uncertain: fields.question_flag(5, NUMBER_ORDERED_FLAG)?,
        designation: fields.owned_text(6),
        description: fields.owned_text(7),
        armament_category: None,
        number_delivered: fields.count(8, c[8])?,
        number_delivered_uncertain: fields.question_flag(9, NUMBER_DELIVERED_FLAG)?,
        delivery_years: fields.delivery_years(10, c[10])?,
        status: fields.status(11, c[11])?,
        comments: fields.owned_text(12),
        tiv_per_unit: fields.tiv(13, c[13])?,
        tiv_total_order: fields.tiv(14, c[14])?,
        tiv_delivered: fields.tiv(15, c[15])?,
        local_production: None,
    })
}

fn parse_per_delivery_year(
    mut records: JoinedRecords<'_>,
    context: &Context<'_>,
) -> Result<(Vec<Deal>, usize), DataError> {
    let mut parties = Parties::default();
    let mut deals: Vec<Deal> = Vec::new();
    let mut position_of_id: HashMap<u64, usize> = HashMap::new();
    let mut count = 0;
    let mut record = ByteRecord::new();
    while let Some(line) = records.next_record(&mut record)? {
        count += 1;
        let fields = Fields {
            record: &record,
            line,
            context,
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
    let sipri_id = fields.count(0, c[0])?;
    // Checked but not kept: a deal holds no per-year estimate flag (the per-deal layout has
    // none), and `SIPRI estimate` is the TIV of a new unit, not of this deal.
    fields.yes_no(11, c[11])?;
    fields.tiv(13, c[13])?;
    Ok(Deal {
        line: fields.line,
        sipri_id: Some(u64::from(sipri_id)),
        supplier: fields.party(1, c[1], parties)?,
        recipient: fields.party(2, c[2], parties)?,
        designation: fields.owned_text(3),
        description: fields.owned_text(4),
        armament_category: Some(fields.owned_text(5)),
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
