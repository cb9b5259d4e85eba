//! NATO defence expenditure: who meets which target, the trend of each ally, and the path
//! to 3.5% (or any target) by a year.
//!
//! The figures are NATO's published ones (Defence Expenditure of NATO Countries
//! (2014–2025), 28 Aug 2025: Table 3, % of GDP; Table 8a, equipment share), shipped as the
//! project's own files in `data/nato/` with a source line each and compiled in. Members with
//! accession years and the agreed targets (Wales 2014: 2% and 20% on equipment; The Hague
//! 2025: 3.5% core + 1.5% = 5% by 2035) sit beside them. A year without a figure stays
//! missing, never zero: Iceland has no armed forces and no figure, and NATO published no
//! German figure for 2025.

use std::collections::BTreeMap;

use expedite_core::Country;
use serde::{Deserialize, Serialize};

use crate::{DataError, Percent};

const EXPENDITURE_CSV: &str = include_str!("../data/nato/defence-expenditure.csv");
const EQUIPMENT_CSV: &str = include_str!("../data/nato/equipment-share.csv");
const MEMBERS_CSV: &str = include_str!("../data/nato/members.csv");
const TARGETS_CSV: &str = include_str!("../data/nato/targets.csv");
const EARLIER_EDITIONS_CSV: &str = include_str!("../data/nato/earlier-editions.csv");
const EARLIER_EDITIONS_FILE: &str = "nato/earlier-editions.csv";

/// A NATO publication the figures come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Edition {
    /// Its `source_id` in the data files.
    pub source_id: &'static str,
    /// Its title.
    pub title: &'static str,
    /// When NATO published it, YYYY-MM-DD.
    pub published: &'static str,
    /// The years it gives as estimates.
    pub estimate_years: &'static str,
}

/// The edition every figure shipped in `data/nato/` comes from.
pub const EDITION: Edition = Edition {
    source_id: "NATO-DE-2025",
    title: "Defence Expenditure of NATO Countries (2014-2025)",
    published: "2025-08-28",
    estimate_years: "2024 and 2025",
};

/// How many Allies an earlier NATO publication counted at or above a target in a year,
/// where the project's source notes record it (`data/nato/earlier-editions.csv`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EarlierCount {
    /// The year counted.
    pub year: i32,
    /// The target, % of GDP.
    pub target_pct: Percent,
    /// Allies that publication counted at or above the target.
    pub allies_meeting: usize,
    /// Its source id in the project's notes.
    pub source_id: String,
    /// Its title.
    pub publication: String,
    /// When it was published, as the source gives it.
    pub published: String,
    /// What the source adds (estimates, the members that differ).
    pub note: Option<String>,
}

#[derive(Deserialize)]
struct EarlierCountRow {
    year: i32,
    target_pct: String,
    allies_meeting: usize,
    source_id: String,
    publication: String,
    published: String,
    note: Option<String>,
}

/// The counts of earlier NATO publications shipped in `data/nato/earlier-editions.csv`.
///
/// # Errors
/// Only if the shipped file were broken; a test reads it.
pub fn earlier_counts() -> Result<Vec<EarlierCount>, DataError> {
    read_rows::<EarlierCountRow>(EARLIER_EDITIONS_CSV, EARLIER_EDITIONS_FILE)?
        .into_iter()
        .map(|(line, row)| {
            let target_pct = Percent::parse(&row.target_pct).ok_or_else(|| DataError::Field {
                input: EARLIER_EDITIONS_FILE.to_owned(),
                line,
                field: "target_pct",
                problem: "not a percentage",
                value: row.target_pct.clone(),
            })?;
            Ok(EarlierCount {
                year: row.year,
                target_pct,
                allies_meeting: row.allies_meeting,
                source_id: row.source_id,
                publication: row.publication,
                published: row.published,
                note: row.note.filter(|note| !note.trim().is_empty()),
            })
        })
        .collect()
}

/// The year NATO's series start; trends measure change from it.
pub const SERIES_START_YEAR: i32 = 2014;

/// The CSV texts NATO data is read from: the shipped files, or others of the same layout.
#[derive(Debug, Clone, Copy)]
pub struct NatoSources<'a> {
    /// `country,iso3,year,pct_gdp,estimate,source_id`
    pub expenditure: &'a str,
    /// `country,iso3,year,pct_equipment,source_id`
    pub equipment: &'a str,
    /// `country,iso3,joined_year`
    pub members: &'a str,
    /// `target_id,pct_gdp,scope,agreed_year,deadline_year,note`
    pub targets: &'a str,
}

impl NatoSources<'static> {
    /// The files shipped in `data/nato/`.
    pub const BUILTIN: NatoSources<'static> = NatoSources {
        expenditure: EXPENDITURE_CSV,
        equipment: EQUIPMENT_CSV,
        members: MEMBERS_CSV,
        targets: TARGETS_CSV,
    };
}

/// A NATO member and the year it joined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    /// The country.
    #[serde(serialize_with = "serialize_iso3")]
    pub country: Country,
    /// The name as NATO writes it.
    pub name: String,
    /// Year of accession.
    pub joined_year: i32,
}

/// One published figure: a member's defence expenditure in a year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Expenditure {
    /// The country.
    #[serde(serialize_with = "serialize_iso3")]
    pub country: Country,
    /// NATO's (fiscal) year.
    pub year: i32,
    /// Defence expenditure as % of GDP.
    pub pct_gdp: Percent,
    /// NATO marks the figure as an estimate in the edition used.
    pub estimate: bool,
    /// Which publication (see `data/nato/` source lines).
    pub source_id: String,
}

/// Spending on major equipment (incl. related R&D) as % of defence expenditure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EquipmentShare {
    /// The country.
    #[serde(serialize_with = "serialize_iso3")]
    pub country: Country,
    /// NATO's (fiscal) year.
    pub year: i32,
    /// % of defence expenditure.
    pub pct_equipment: Percent,
    /// Which publication.
    pub source_id: String,
}

/// An agreed target or a stated demand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Target {
    /// E.g. `wales_dip_2pct`, `hague_core_3_5`.
    pub target_id: String,
    /// % of GDP; `None` for the equipment guideline, which is a share of defence spending.
    pub pct_gdp: Option<Percent>,
    /// What it measures.
    pub scope: String,
    /// Year agreed or stated.
    pub agreed_year: i32,
    /// Year to be reached, if one was set.
    pub deadline_year: Option<i32>,
    /// Wording and source.
    pub note: String,
}

fn serialize_iso3<S: serde::Serializer>(
    country: &Country,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(country.iso3())
}

/// NATO's figures, members and targets.
#[derive(Debug, Clone)]
pub struct NatoData {
    members: Vec<Member>,
    expenditure: BTreeMap<(Country, i32), Expenditure>,
    equipment: BTreeMap<(Country, i32), EquipmentShare>,
    targets: Vec<Target>,
}

impl NatoData {
    /// The figures shipped with expedite (`data/nato/`).
    ///
    /// # Errors
    /// Only if the shipped files were broken; a test reads them.
    pub fn builtin() -> Result<NatoData, DataError> {
        NatoData::from_sources(NatoSources::BUILTIN)
    }

    /// Reads figures from CSV texts of the shipped layout (lines starting `#` are source
    /// notes).
    ///
    /// # Errors
    /// [`DataError::Field`] naming the file, line and column of a bad value.
    pub fn from_sources(sources: NatoSources<'_>) -> Result<NatoData, DataError> {
        let members = read_rows::<MemberRow>(sources.members, "nato/members.csv")?
            .into_iter()
            .map(|(line, row)| row.into_member(line))
            .collect::<Result<Vec<_>, _>>()?;
        let mut expenditure = BTreeMap::new();
        for (line, row) in read_rows::<ExpenditureRow>(sources.expenditure, EXPENDITURE_FILE)? {
            if let Some(figure) = row.into_figure(line)? {
                expenditure.insert((figure.country, figure.year), figure);
            }
        }
        let mut equipment = BTreeMap::new();
        for (line, row) in read_rows::<EquipmentRow>(sources.equipment, EQUIPMENT_FILE)? {
            if let Some(share) = row.into_share(line)? {
                equipment.insert((share.country, share.year), share);
            }
        }
        let targets = read_rows::<TargetRow>(sources.targets, "nato/targets.csv")?
            .into_iter()
            .map(|(line, row)| row.into_target(line))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(NatoData {
            members,
            expenditure,
            equipment,
            targets,
        })
    }

    /// All 32 members, in file order.
    pub fn members(&self) -> &[Member] {
        &self.members
    }

    /// The agreed targets and stated demands.
    pub fn targets(&self) -> &[Target] {
        &self.targets
    }

    /// The figure of a country in a year, if NATO published one.
    pub fn expenditure(&self, country: Country, year: i32) -> Option<&Expenditure> {
        self.expenditure.get(&(country, year))
    }

    /// The equipment share of a country in a year, if NATO published one.
    pub fn equipment_share(&self, country: Country, year: i32) -> Option<&EquipmentShare> {
        self.equipment.get(&(country, year))
    }

    /// The latest year with any figure.
    pub fn latest_year(&self) -> Option<i32> {
        self.expenditure.keys().map(|&(_, year)| year).max()
    }

    /// The members in a year: those that had joined by then.
    pub fn members_in(&self, year: i32) -> impl Iterator<Item = &Member> {
        self.members
            .iter()
            .filter(move |member| member.joined_year <= year)
    }

    /// Who meets `target` (% of GDP, at or above) in `year` (default: the latest year with
    /// figures), who does not and by how much, and who has no figure.
    ///
    /// # Errors
    /// [`DataError::NoData`] when no member has a figure for that year.
    pub fn status(&self, year: Option<i32>, target: Percent) -> Result<SpendingStatus, DataError> {
        let year = match year.or_else(|| self.latest_year()) {
            Some(year) => year,
            None => return Err(DataError::NoData("no NATO figures at all".to_owned())),
        };
        let mut status = SpendingStatus {
            year,
            target_pct: target,
            members_reporting: 0,
            count_meeting: 0,
            meeting: Vec::new(),
            below: Vec::new(),
            missing: Vec::new(),
        };
        for member in self.members_in(year) {
            let iso3 = member.country.iso3();
            let country = member.name.clone();
            match self.expenditure(member.country, year) {
                None => status.missing.push(MissingFigure { iso3, country }),
                Some(figure) if figure.pct_gdp >= target => {
                    status.meeting.push(Meeting {
                        iso3,
                        country,
                        pct_gdp: figure.pct_gdp,
                    });
                }
                Some(figure) => {
                    let gap =
                        Percent::from_hundredths(target.hundredths() - figure.pct_gdp.hundredths());
                    status.below.push(Below {
                        iso3,
                        country,
                        pct_gdp: figure.pct_gdp,
                        gap_pct_points: gap,
                    });
                }
            }
        }
        if status.meeting.is_empty() && status.below.is_empty() {
            return Err(DataError::NoData(format!("no NATO figures for {year}")));
        }
        status
            .meeting
            .sort_by(|a, b| b.pct_gdp.cmp(&a.pct_gdp).then(a.iso3.cmp(b.iso3)));
        status.below.sort_by(|a, b| {
            a.gap_pct_points
                .cmp(&b.gap_pct_points)
                .then(a.iso3.cmp(b.iso3))
        });
        status.count_meeting = status.meeting.len();
        status.members_reporting = status.meeting.len() + status.below.len();
        Ok(status)
    }

    /// A member's series, every year from 2014 to the latest year with figures (missing
    /// years included as missing), and its change since 2014.
    ///
    /// # Errors
    /// [`DataError::NoData`] when the country is not a NATO member.
    pub fn trend(&self, country: Country) -> Result<Trend, DataError> {
        let member = self.member(country)?;
        let last_year = self.latest_year().unwrap_or(SERIES_START_YEAR);
        let series: Vec<TrendPoint> = (SERIES_START_YEAR..=last_year)
            .map(|year| {
                let figure = self.expenditure(country, year);
                TrendPoint {
                    year,
                    pct_gdp: figure.map(|figure| figure.pct_gdp),
                    estimate: figure.is_some_and(|figure| figure.estimate),
                    pct_equipment: self
                        .equipment_share(country, year)
                        .map(|share| share.pct_equipment),
                    member: member.joined_year <= year,
                }
            })
            .collect();
        let first = self.expenditure(country, SERIES_START_YEAR);
        let latest = series
            .iter()
            .rev()
            .find_map(|point| Some((point.year, point.pct_gdp?)));
        let change = match (first, latest) {
            (Some(first), Some((_, latest))) => Some(Percent::from_hundredths(
                latest.hundredths() - first.pct_gdp.hundredths(),
            )),
            _ => None,
        };
        Ok(Trend {
            iso3: country.iso3(),
            country: member.name.clone(),
            joined_year: member.joined_year,
            latest_year: latest.map(|(year, _)| year),
            change_since_2014_pct_points: change,
            series,
        })
    }

    /// For each member, the yearly increase in percentage points needed from its latest
    /// figure to reach `target` by `by_year` (zero where it is already there).
    ///
    /// # Errors
    /// [`DataError::NoData`] when `by_year` is not after the latest year with figures.
    pub fn path(&self, target: Percent, by_year: i32) -> Result<Vec<PathStep>, DataError> {
        let latest_year = self.latest_year().unwrap_or(SERIES_START_YEAR);
        if by_year <= latest_year {
            return Err(DataError::NoData(format!(
                "--by {by_year} is not after {latest_year}, the latest year with figures"
            )));
        }
        let mut steps: Vec<PathStep> = self
            .members
            .iter()
            .map(|member| self.path_of(member, target, by_year))
            .collect();
        steps.sort_by(|a, b| {
            b.yearly_increase_pct_points
                .unwrap_or(f64::NEG_INFINITY)
                .total_cmp(&a.yearly_increase_pct_points.unwrap_or(f64::NEG_INFINITY))
                .then(a.iso3.cmp(b.iso3))
        });
        Ok(steps)
    }

    fn path_of(&self, member: &Member, target: Percent, by_year: i32) -> PathStep {
        let latest = (SERIES_START_YEAR..=by_year)
            .rev()
            .find_map(|year| self.expenditure(member.country, year));
        let yearly_increase = latest.map(|figure| {
            let gap = (target.hundredths() - figure.pct_gdp.hundredths()).max(0);
            let per_year = f64::from(gap) / 100.0 / f64::from(by_year - figure.year);
            (per_year * 1000.0).round() / 1000.0
        });
        PathStep {
            iso3: member.country.iso3(),
            country: member.name.clone(),
            latest_year: latest.map(|figure| figure.year),
            latest_pct_gdp: latest.map(|figure| figure.pct_gdp),
            target_pct: target,
            by_year,
            years_left: latest.map(|figure| by_year - figure.year),
            yearly_increase_pct_points: yearly_increase,
        }
    }

    fn member(&self, country: Country) -> Result<&Member, DataError> {
        self.members
            .iter()
            .find(|member| member.country == country)
            .ok_or_else(|| DataError::NoData(format!("{} is not a NATO member", country.name())))
    }
}

/// Who meets a target in a year (`expedite nato status`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpendingStatus {
    /// The year.
    pub year: i32,
    /// The target, % of GDP.
    pub target_pct: Percent,
    /// Members that year with a published figure.
    pub members_reporting: usize,
    /// Members at or above the target.
    pub count_meeting: usize,
    /// At or above the target, highest first.
    pub meeting: Vec<Meeting>,
    /// Below the target, closest first.
    pub below: Vec<Below>,
    /// Members that year without a published figure: missing, not zero.
    pub missing: Vec<MissingFigure>,
}

/// A member at or above the target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Meeting {
    /// ISO3 code.
    pub iso3: &'static str,
    /// Name as NATO writes it.
    pub country: String,
    /// % of GDP.
    pub pct_gdp: Percent,
}

/// A member below the target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Below {
    /// ISO3 code.
    pub iso3: &'static str,
    /// Name as NATO writes it.
    pub country: String,
    /// % of GDP.
    pub pct_gdp: Percent,
    /// Target minus figure, percentage points.
    pub gap_pct_points: Percent,
}

/// A member without a figure that year.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MissingFigure {
    /// ISO3 code.
    pub iso3: &'static str,
    /// Name as NATO writes it.
    pub country: String,
}

/// A member's series (`expedite nato trend`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trend {
    /// ISO3 code.
    pub iso3: &'static str,
    /// Name as NATO writes it.
    pub country: String,
    /// Year of accession.
    pub joined_year: i32,
    /// The latest year with a figure.
    pub latest_year: Option<i32>,
    /// Latest figure minus the 2014 figure, percentage points (`None` if either is missing).
    pub change_since_2014_pct_points: Option<Percent>,
    /// Every year from 2014.
    pub series: Vec<TrendPoint>,
}

/// One year of a series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendPoint {
    /// NATO's (fiscal) year.
    pub year: i32,
    /// % of GDP, `None` when NATO published none.
    pub pct_gdp: Option<Percent>,
    /// NATO's estimate.
    pub estimate: bool,
    /// Equipment share of defence spending, `None` when NATO published none.
    pub pct_equipment: Option<Percent>,
    /// Whether the country was a member that year (NATO tabulates some before they join).
    pub member: bool,
}

/// One member's path to a target (`expedite nato path`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathStep {
    /// ISO3 code.
    pub iso3: &'static str,
    /// Name as NATO writes it.
    pub country: String,
    /// Year of the latest figure (`None`: no figure at all).
    pub latest_year: Option<i32>,
    /// The latest figure.
    pub latest_pct_gdp: Option<Percent>,
    /// The target, % of GDP.
    pub target_pct: Percent,
    /// The year to reach it by.
    pub by_year: i32,
    /// Years from the latest figure to `by_year`.
    pub years_left: Option<i32>,
    /// Percentage points a year (3 decimals), zero where the target is already met.
    pub yearly_increase_pct_points: Option<f64>,
}

const EXPENDITURE_FILE: &str = "nato/defence-expenditure.csv";
const EQUIPMENT_FILE: &str = "nato/equipment-share.csv";

/// Reads rows with their physical line numbers (lines starting `#` are notes).
pub(crate) fn read_rows<T: for<'de> Deserialize<'de>>(
    text: &str,
    input: &str,
) -> Result<Vec<(u64, T)>, DataError> {
    let csv_error = |line: u64| {
        move |source: csv::Error| DataError::Csv {
            input: input.to_owned(),
            line,
            source,
        }
    };
    let mut reader = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let headers = reader.headers().map_err(csv_error(1))?.clone();
    let mut rows = Vec::new();
    for result in reader.records() {
        let record = result.map_err(csv_error(0))?;
        let line = record.position().map_or(0, |position| position.line());
        let row = record
            .deserialize(Some(&headers))
            .map_err(csv_error(line))?;
        rows.push((line, row));
    }
    Ok(rows)
}

fn field_error(
    input: &str,
    line: u64,
    field: &'static str,
    value: &str,
    problem: &'static str,
) -> DataError {
    DataError::Field {
        input: input.to_owned(),
        line,
        field,
        value: value.to_owned(),
        problem,
    }
}

fn iso3(input: &str, line: u64, code: &str) -> Result<Country, DataError> {
    Country::from_iso3(code)
        .map_err(|_| field_error(input, line, "iso3", code, "unknown ISO3 code"))
}

fn percent(
    input: &str,
    line: u64,
    field: &'static str,
    text: &str,
) -> Result<Option<Percent>, DataError> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    Percent::parse(text).map(Some).ok_or_else(|| {
        field_error(
            input,
            line,
            field,
            text,
            "expected a percentage with at most 2 decimals",
        )
    })
}

#[derive(Deserialize)]
struct MemberRow {
    country: String,
    iso3: String,
    joined_year: i32,
}

impl MemberRow {
    fn into_member(self, line: u64) -> Result<Member, DataError> {
        let country = iso3("nato/members.csv", line, &self.iso3)?;
        Ok(Member {
            country,
            name: self.country,
            joined_year: self.joined_year,
        })
    }
}

#[derive(Deserialize)]
struct ExpenditureRow {
    iso3: String,
    year: i32,
    pct_gdp: String,
    estimate: String,
    source_id: String,
}

impl ExpenditureRow {
    /// `None` for a row whose figure is empty: a gap, not a zero.
    fn into_figure(self, line: u64) -> Result<Option<Expenditure>, DataError> {
        let country = iso3(EXPENDITURE_FILE, line, &self.iso3)?;
        let Some(pct_gdp) = percent(EXPENDITURE_FILE, line, "pct_gdp", &self.pct_gdp)? else {
            return Ok(None);
        };
        let estimate = match self.estimate.trim() {
            "" => false,
            "e" => true,
            other => {
                return Err(field_error(
                    EXPENDITURE_FILE,
                    line,
                    "estimate",
                    other,
                    "expected 'e' or nothing",
                ));
            }
        };
        Ok(Some(Expenditure {
            country,
            year: self.year,
            pct_gdp,
            estimate,
            source_id: self.source_id,
        }))
    }
}

#[derive(Deserialize)]
struct EquipmentRow {
    iso3: String,
    year: i32,
    pct_equipment: String,
    source_id: String,
}

impl EquipmentRow {
    fn into_share(self, line: u64) -> Result<Option<EquipmentShare>, DataError> {
        let country = iso3(EQUIPMENT_FILE, line, &self.iso3)?;
        let share = percent(EQUIPMENT_FILE, line, "pct_equipment", &self.pct_equipment)?;
        Ok(share.map(|pct_equipment| EquipmentShare {
            country,
            year: self.year,
            pct_equipment,
            source_id: self.source_id,
        }))
    }
}

#[derive(Deserialize)]
struct TargetRow {
    target_id: String,
    pct_gdp: String,
    scope: String,
    agreed_year: i32,
    deadline_year: Option<i32>,
    note: String,
}

impl TargetRow {
    fn into_target(self, line: u64) -> Result<Target, DataError> {
        Ok(Target {
            pct_gdp: percent("nato/targets.csv", line, "pct_gdp", &self.pct_gdp)?,
            target_id: self.target_id,
            scope: self.scope,
            agreed_year: self.agreed_year,
            deadline_year: self.deadline_year,
            note: self.note,
        })
    }
}
