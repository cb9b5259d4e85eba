//! Quarterly case-execution metrics: how long each phase of a case took, per quarter.
//!
//! The February 2026 executive order "Establishing an America First Arms Transfer Strategy"
//! orders aggregate quarterly performance metrics on case execution to be published
//! (update §2–3). This module computes them from cases as the stage machine built them; it
//! reads no store and no clock: the caller passes the cases and the day the figures are
//! taken on ([`Window::as_of`]).
//!
//! A [`Phase`] runs from one milestone of the stage machine to another (see
//! [`Phase::start`] and [`Phase::end`]); the dates are the events' own dates, never the
//! time they were recorded. A phase counts in the quarter it ends. For each quarter and
//! phase a [`PhaseMetrics`] row gives the phases completed, their median and P90 days
//! (nearest rank), the share completed on time against the phase's SAMM target where one
//! exists ([`PhaseTarget`]), and the cases still in the phase at the quarter's end with
//! their median age: open cases are censored at the quarter's end, not dropped. A phase
//! cut short by a terminal stage (cancelled, expired, disapproved) is neither completed nor
//! open after that day; so is one the case skipped (a direct commercial sale that goes on
//! contract without an LOA offer).

use std::collections::BTreeMap;
use std::fmt;

use jiff::ToSpan;
use serde::{Deserialize, Serialize};

use crate::Date;
use crate::country::AecaGroup;
use crate::machine::Case;
use crate::rules::{Confidence, SammStandards};
use crate::stage::Stage;

/// The AOD group whose LOA-processing target `lor_to_offer` is judged by: cases carry no
/// AOD group, and B is the group of the ordinary defined-order LOA (reference §2.3). The
/// store's "late" flag uses the same group.
pub const AOD_GROUP: &str = "B";

/// An event recorded more than this many days after its own date counts as late-recorded.
pub const LATE_RECORDING_DAYS: i64 = 30;

/// A phase of a case, between two milestones of the stage machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Letter of Request received → LOA offered.
    LorToOffer,
    /// LOA offered → accepted and implemented.
    OfferToAcceptance,
    /// Implemented → production contract awarded.
    AcceptanceToContract,
    /// On contract → first delivery.
    ContractToFirstDelivery,
    /// First delivery → last line delivered.
    FirstToFinalDelivery,
    /// Congressional notification (start of review) → LOA offered.
    NotificationToOffer,
}

impl Phase {
    /// Every phase, in the order tables show them.
    pub const ALL: [Phase; 6] = [
        Phase::LorToOffer,
        Phase::OfferToAcceptance,
        Phase::AcceptanceToContract,
        Phase::ContractToFirstDelivery,
        Phase::FirstToFinalDelivery,
        Phase::NotificationToOffer,
    ];

    /// The wire name, e.g. `lor_to_offer`.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::LorToOffer => "lor_to_offer",
            Phase::OfferToAcceptance => "offer_to_acceptance",
            Phase::AcceptanceToContract => "acceptance_to_contract",
            Phase::ContractToFirstDelivery => "contract_to_first_delivery",
            Phase::FirstToFinalDelivery => "first_to_final_delivery",
            Phase::NotificationToOffer => "notification_to_offer",
        }
    }

    /// The stages whose entry starts and ends the phase. The stage machine enters
    /// `delivering` on the first delivery and `delivered` on the one that completes the
    /// last line (both on the same day when one delivery completes the case).
    pub fn stages(self) -> (Stage, Stage) {
        match self {
            Phase::LorToOffer => (Stage::LorReceived, Stage::Offered),
            Phase::OfferToAcceptance => (Stage::Offered, Stage::Implemented),
            Phase::AcceptanceToContract => (Stage::Implemented, Stage::OnContract),
            Phase::ContractToFirstDelivery => (Stage::OnContract, Stage::Delivering),
            Phase::FirstToFinalDelivery => (Stage::Delivering, Stage::Delivered),
            Phase::NotificationToOffer => (Stage::CongressionalReview, Stage::Offered),
        }
    }

    /// The day the case entered the phase, if it has.
    pub fn start(self, case: &Case) -> Option<Date> {
        case.entered(self.stages().0)
    }

    /// The day the case completed the phase, if it has.
    pub fn end(self, case: &Case) -> Option<Date> {
        let start = self.start(case)?;
        case.entered(self.stages().1).filter(|&end| end >= start)
    }

    /// The day by which the phase is due under its SAMM target, where one applies.
    fn due(self, case: &Case, samm: &SammStandards) -> Option<Date> {
        match self {
            Phase::LorToOffer => {
                let actionable = case.entered(Stage::LorActionable)?;
                let days = samm.aod_target_days(AOD_GROUP)?;
                Some(actionable.saturating_add(i64::from(days).days()))
            }
            Phase::OfferToAcceptance => case.offer_expires,
            _ => None,
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The SAMM target a phase is judged by, with its source and how sure we are of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PhaseTarget {
    /// The phase.
    pub phase: Phase,
    /// The target, days.
    pub days: u32,
    /// How the target is measured.
    pub measured: &'static str,
    /// `confirmed`, `low` or `unconfirmed` (assumed), as in `samm.toml`.
    pub confidence: Confidence,
    /// Where it comes from.
    pub source: String,
}

/// The targets the metrics judge phases by. Phases absent here have no SAMM target in
/// force: the 180-day implementation-to-first-delivery standard was cancelled in 2018
/// (reference §2.6), and congressional review sets a minimum, not a maximum.
pub fn phase_targets(samm: &SammStandards) -> Vec<PhaseTarget> {
    let mut targets = Vec::new();
    if let Some(group) = samm
        .aod_groups
        .iter()
        .find(|group| group.group.eq_ignore_ascii_case(AOD_GROUP))
        && let Some(days) = group.target_days
    {
        targets.push(PhaseTarget {
            phase: Phase::LorToOffer,
            days,
            measured: "from the day the LOR became actionable to the offer (AOD group B; SAMM C5.4.2)",
            confidence: group.confidence,
            source: group.source.clone(),
        });
    }
    targets.push(PhaseTarget {
        phase: Phase::OfferToAcceptance,
        days: samm.offer_expiration_days.value,
        measured: "from the offer to acceptance, by the case's offer expiration date (its own validity where one was agreed)",
        confidence: samm.offer_expiration_days.confidence,
        source: samm.offer_expiration_days.source.clone(),
    });
    targets
}

/// A calendar quarter, written `2025-Q3`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quarter {
    year: i16,
    number: i8,
}

/// Text that is not a quarter of the form `2025-Q3`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a quarter of the form YYYY-QN (e.g. 2025-Q3)")]
pub struct InvalidQuarter(pub String);

impl Quarter {
    /// The quarter a day falls in.
    pub fn of(day: Date) -> Quarter {
        Quarter {
            year: day.year(),
            number: (day.month() - 1) / 3 + 1,
        }
    }

    /// Reads `2025-Q3` (the `Q` in either case).
    ///
    /// # Errors
    /// [`InvalidQuarter`] naming the text.
    pub fn parse(text: &str) -> Result<Quarter, InvalidQuarter> {
        let invalid = || InvalidQuarter(text.to_owned());
        let (year, number) = text.trim().split_once('-').ok_or_else(invalid)?;
        let number = number
            .strip_prefix(['Q', 'q'])
            .and_then(|digits| digits.parse::<i8>().ok())
            .filter(|number| (1..=4).contains(number))
            .ok_or_else(invalid)?;
        let year = year
            .parse::<i16>()
            .ok()
            .filter(|year| (1900..=9998).contains(year))
            .ok_or_else(invalid)?;
        Ok(Quarter { year, number })
    }

    /// The quarter's first day.
    pub fn first_day(self) -> Date {
        Date::constant(self.year, (self.number - 1) * 3 + 1, 1)
    }

    /// The quarter's last day.
    pub fn last_day(self) -> Date {
        self.next().first_day().saturating_sub(1.day())
    }

    /// The quarter after this one.
    pub fn next(self) -> Quarter {
        if self.number == 4 {
            Quarter {
                year: self.year + 1,
                number: 1,
            }
        } else {
            Quarter {
                year: self.year,
                number: self.number + 1,
            }
        }
    }
}

impl fmt::Display for Quarter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-Q{}", self.year, self.number)
    }
}

impl Serialize for Quarter {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// How rows are split beside the all-case aggregate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// The purchasing country (ISO 3166-1 alpha-3).
    Purchaser,
    /// The implementing agency.
    Agency,
    /// The purchaser's AECA §36(b) group on the day of its LOR (`nato_plus_5`, `other`).
    Group,
    /// The production line of each case line (`unassigned` where none is named); a case
    /// with several lines counts once in each of its lines.
    Line,
}

/// A grouping that does not exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown grouping '{0}': expected purchaser, agency, group or line")]
pub struct UnknownGroupBy(pub String);

impl GroupBy {
    /// Reads `purchaser`, `agency`, `group` or `line`.
    ///
    /// # Errors
    /// [`UnknownGroupBy`].
    pub fn parse(text: &str) -> Result<GroupBy, UnknownGroupBy> {
        match text.trim() {
            "purchaser" => Ok(GroupBy::Purchaser),
            "agency" => Ok(GroupBy::Agency),
            "group" => Ok(GroupBy::Group),
            "line" => Ok(GroupBy::Line),
            _ => Err(UnknownGroupBy(text.to_owned())),
        }
    }

    /// The name [`GroupBy::parse`] reads.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Purchaser => "purchaser",
            GroupBy::Agency => "agency",
            GroupBy::Group => "group",
            GroupBy::Line => "line",
        }
    }

    /// The groups a case belongs to.
    pub fn groups_of(self, case: &Case) -> Vec<String> {
        match self {
            GroupBy::Purchaser => vec![case.purchaser.iso3().to_owned()],
            GroupBy::Agency => vec![case.agency.as_str().to_owned()],
            GroupBy::Group => {
                let lor = case.entered(Stage::LorReceived).unwrap_or(case.last_event);
                let group: AecaGroup = case.purchaser.aeca_group_on(lor);
                vec![group.as_str().to_owned()]
            }
            GroupBy::Line => {
                let mut lines: Vec<String> = case
                    .lines
                    .iter()
                    .map(|line| {
                        line.production_line
                            .clone()
                            .unwrap_or_else(|| "unassigned".to_owned())
                    })
                    .collect();
                lines.sort();
                lines.dedup();
                lines
            }
        }
    }
}

/// Which quarters to report, and the day the figures are taken on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// First quarter reported.
    pub from: Quarter,
    /// Last quarter reported.
    pub to: Quarter,
    /// The day the figures are taken on: a quarter not yet over is judged on this day.
    pub as_of: Date,
}

/// Why a window cannot be reported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    /// `from` after `to`.
    #[error("from: {from} is after to ({to})")]
    Reversed {
        /// First quarter asked for.
        from: Quarter,
        /// Last quarter asked for.
        to: Quarter,
    },
    /// Starts after the day the figures are taken on.
    #[error("from: {from} starts after today ({as_of})")]
    Future {
        /// First quarter asked for.
        from: Quarter,
        /// The day the figures are taken on.
        as_of: Date,
    },
    /// Too many quarters for one report.
    #[error("to: at most {MAX_QUARTERS} quarters may be reported at once")]
    TooLong,
}

/// Most quarters one report covers (100 years).
pub const MAX_QUARTERS: usize = 400;

impl Window {
    /// The window from `from` (default: the quarter of the earliest LOR among `cases`, or
    /// the current one) to `to` (default: the quarter of `as_of`).
    ///
    /// # Errors
    /// [`WindowError`] when `from` is after `to` or after `as_of`, or the window is too long.
    pub fn new(
        from: Option<Quarter>,
        to: Option<Quarter>,
        as_of: Date,
        cases: &[Case],
    ) -> Result<Window, WindowError> {
        let earliest = cases
            .iter()
            .filter_map(|case| case.entered(Stage::LorReceived))
            .min()
            .unwrap_or(as_of);
        let from = from.unwrap_or_else(|| Quarter::of(earliest.min(as_of)));
        let to = to.unwrap_or_else(|| Quarter::of(as_of));
        if from.first_day() > as_of {
            return Err(WindowError::Future { from, as_of });
        }
        if from > to {
            return Err(WindowError::Reversed { from, to });
        }
        let window = Window { from, to, as_of };
        if window.quarters().len() > MAX_QUARTERS {
            return Err(WindowError::TooLong);
        }
        Ok(window)
    }

    /// Every quarter in the window, in order (stops after [`MAX_QUARTERS`] + 1).
    pub fn quarters(&self) -> Vec<Quarter> {
        let mut quarters = vec![self.from];
        let mut current = self.from;
        while current < self.to && quarters.len() <= MAX_QUARTERS {
            current = current.next();
            quarters.push(current);
        }
        quarters
    }
}

/// One row of the metrics: one phase in one quarter, for all cases or one group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhaseMetrics {
    /// The quarter.
    pub quarter: Quarter,
    /// The phase.
    pub phase: Phase,
    /// The group, or `null` for every case.
    pub group: Option<String>,
    /// Phases that ended in the quarter.
    pub completed: usize,
    /// Median days of those phases (nearest rank), if any.
    pub median_days: Option<i64>,
    /// 90th percentile days (nearest rank), if any.
    pub p90_days: Option<i64>,
    /// Share of those phases completed by their SAMM due day, where the phase has a target
    /// and at least one completed phase could be judged.
    pub on_time_share: Option<f64>,
    /// Cases in the phase at the quarter's end (or on `as_of` for a quarter not over).
    pub open_at_end: usize,
    /// Median age in days of those open cases on that day (nearest rank), if any.
    pub open_median_age_days: Option<i64>,
}

impl PhaseMetrics {
    /// The column names of a row as CSV (`expedite metrics --format csv`, the API's
    /// `format=csv`).
    pub const CSV_HEADER: [&'static str; 9] = [
        "quarter",
        "phase",
        "group",
        "completed",
        "median_days",
        "p90_days",
        "on_time_share",
        "open_at_end",
        "open_median_age_days",
    ];

    /// The row's cells under [`Self::CSV_HEADER`]; an absent value is an empty cell.
    pub fn csv_cells(&self) -> [String; 9] {
        fn optional<T: ToString>(value: Option<T>) -> String {
            value.map(|value| value.to_string()).unwrap_or_default()
        }
        [
            self.quarter.to_string(),
            self.phase.to_string(),
            self.group.clone().unwrap_or_default(),
            self.completed.to_string(),
            optional(self.median_days),
            optional(self.p90_days),
            optional(self.on_time_share),
            self.open_at_end.to_string(),
            optional(self.open_median_age_days),
        ]
    }
}

/// The quarters the rows cover, in their order, each once: the x axis of a chart of them.
pub fn quarter_axis(rows: &[PhaseMetrics]) -> Vec<Quarter> {
    let mut quarters: Vec<Quarter> = rows.iter().map(|row| row.quarter).collect();
    quarters.dedup();
    quarters
}

/// One value per quarter of `phase` over all cases (the rows with no group), as
/// `(index on quarter_axis, value)`, leaving out the quarters where `pick` has none.
pub fn all_cases_series(
    rows: &[PhaseMetrics],
    quarters: &[Quarter],
    phase: Phase,
    pick: fn(&PhaseMetrics) -> Option<i64>,
) -> Vec<(usize, i64)> {
    rows.iter()
        .filter(|row| row.phase == phase && row.group.is_none())
        .filter_map(|row| {
            let index = quarters
                .iter()
                .position(|&quarter| quarter == row.quarter)?;
            Some((index, pick(row)?))
        })
        .collect()
}

/// The metrics of `cases` over a window: for every quarter and phase one row over all of
/// them (`group` null), then, with `by`, one row per group with anything to show.
pub fn compute(
    cases: &[Case],
    by: Option<GroupBy>,
    window: &Window,
    samm: &SammStandards,
) -> Vec<PhaseMetrics> {
    compute_view(cases, cases, by, window, samm)
}

/// Like [`compute`], but the aggregate rows cover `all` cases while the group rows cover
/// only the `visible` ones: a purchaser sees the all-country aggregate and its own figures.
pub fn compute_view(
    all: &[Case],
    visible: &[Case],
    by: Option<GroupBy>,
    window: &Window,
    samm: &SammStandards,
) -> Vec<PhaseMetrics> {
    // Each case's phases are read from its milestones once; every quarter then only
    // compares dates.
    let all: Vec<PhaseSpans> = all.iter().map(|case| spans(case, samm)).collect();
    let all: Vec<&PhaseSpans> = all.iter().collect();
    let visible_spans: Vec<PhaseSpans> = visible.iter().map(|case| spans(case, samm)).collect();
    let mut groups: BTreeMap<String, Vec<&PhaseSpans>> = BTreeMap::new();
    if let Some(by) = by {
        for (case, case_spans) in visible.iter().zip(&visible_spans) {
            for group in by.groups_of(case) {
                groups.entry(group).or_default().push(case_spans);
            }
        }
    }
    let mut rows = Vec::new();
    for quarter in window.quarters() {
        for phase in Phase::ALL {
            rows.push(row(&all, None, quarter, phase, window.as_of));
            for (group, members) in &groups {
                let grouped = row(members, Some(group), quarter, phase, window.as_of);
                if grouped.completed > 0 || grouped.open_at_end > 0 {
                    rows.push(grouped);
                }
            }
        }
    }
    rows
}

/// One phase of one case: when it started, ended, was left unfinished, and fell due.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: Date,
    end: Option<Date>,
    left: Option<Date>,
    due: Option<Date>,
}

/// A case's spans, one per phase of [`Phase::ALL`] it entered.
type PhaseSpans = [Option<Span>; 6];

fn spans(case: &Case, samm: &SammStandards) -> PhaseSpans {
    Phase::ALL.map(|phase| {
        Some(Span {
            start: phase.start(case)?,
            end: phase.end(case),
            left: left_without_completing(case, phase),
            due: phase.due(case, samm),
        })
    })
}

/// The phase's place in [`Phase::ALL`].
fn phase_index(phase: Phase) -> usize {
    match phase {
        Phase::LorToOffer => 0,
        Phase::OfferToAcceptance => 1,
        Phase::AcceptanceToContract => 2,
        Phase::ContractToFirstDelivery => 3,
        Phase::FirstToFinalDelivery => 4,
        Phase::NotificationToOffer => 5,
    }
}

/// The day the case left `phase` without completing it, if it did: a terminal stage cut
/// it short (cancelled, expired, disapproved), or it moved past the phase's end without
/// entering it (a direct commercial or government-to-government sale need not be offered
/// as an LOA, and the stage machine lets those skip ahead).
fn left_without_completing(case: &Case, phase: Phase) -> Option<Date> {
    let ended = [Stage::Cancelled, Stage::Expired, Stage::Disapproved]
        .into_iter()
        .filter_map(|stage| case.entered(stage))
        .min();
    let end_position = phase.stages().1.forward_position();
    let skipped = case
        .milestones
        .iter()
        .filter(|milestone| milestone.stage.forward_position() > end_position)
        .map(|milestone| milestone.date)
        .min();
    match (ended, skipped) {
        (Some(ended), Some(skipped)) => Some(ended.min(skipped)),
        (ended, skipped) => ended.or(skipped),
    }
}

fn row(
    cases: &[&PhaseSpans],
    group: Option<&str>,
    quarter: Quarter,
    phase: Phase,
    as_of: Date,
) -> PhaseMetrics {
    let first = quarter.first_day();
    let end_of_quarter = quarter.last_day().min(as_of);
    let index = phase_index(phase);
    let mut durations = Vec::new();
    let mut judged = 0_usize;
    let mut on_time = 0_usize;
    let mut open_ages = Vec::new();
    for span in cases.iter().filter_map(|spans| spans[index]) {
        match span.end {
            Some(end) if end >= first && end <= end_of_quarter => {
                durations.push(days_between(span.start, end));
                if let Some(due) = span.due {
                    judged += 1;
                    if end <= due {
                        on_time += 1;
                    }
                }
            }
            Some(end) if end <= end_of_quarter => {}
            _ => {
                let cut_short = span.left.is_some_and(|day| day <= end_of_quarter);
                if span.start <= end_of_quarter && !cut_short {
                    open_ages.push(days_between(span.start, end_of_quarter));
                }
            }
        }
    }
    durations.sort_unstable();
    open_ages.sort_unstable();
    PhaseMetrics {
        quarter,
        phase,
        group: group.map(str::to_owned),
        completed: durations.len(),
        median_days: nearest_rank(&durations, 50),
        p90_days: nearest_rank(&durations, 90),
        on_time_share: share(on_time, judged),
        open_at_end: open_ages.len(),
        open_median_age_days: nearest_rank(&open_ages, 50),
    }
}

fn days_between(start: Date, end: Date) -> i64 {
    i64::from((end - start).get_days())
}

/// The `percent`-th percentile of sorted values by the nearest-rank method: the value at
/// rank ⌈percent/100 × n⌉. Always a value that occurred, so medians stay whole days.
pub fn nearest_rank(sorted: &[i64], percent: usize) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (percent * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

/// `part / whole` rounded to three decimals, `None` when nothing was judged.
fn share(part: usize, whole: usize) -> Option<f64> {
    if whole == 0 {
        return None;
    }
    #[allow(clippy::cast_precision_loss)] // counts of cases, far below 2^52
    let ratio = part as f64 / whole as f64;
    Some((ratio * 1000.0).round() / 1000.0)
}

/// When an event happened and when it was recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recording {
    /// The event's own date.
    pub happened: Date,
    /// The day (UTC) it was recorded.
    pub recorded: Date,
}

impl Recording {
    /// Whether it was recorded more than [`LATE_RECORDING_DAYS`] after its date.
    pub fn is_late(&self) -> bool {
        days_between(self.happened, self.recorded) > LATE_RECORDING_DAYS
    }
}

/// How many events were recorded more than [`LATE_RECORDING_DAYS`] after their own date.
pub fn late_recorded(recordings: &[Recording]) -> usize {
    recordings
        .iter()
        .filter(|recording| recording.is_late())
        .count()
}

#[cfg(test)]
mod tests;
