//! Forecast alerts: a case's delivery forecast moved, or its place in a production line's
//! queue changed, between two of its kept forecasts.
//!
//! Allies ask for early warning when a delivery slips or their place in a queue changes
//! (issue 11; `reference/fms-2026-update.md` §3 item 5: Switzerland learnt in July 2025 that its
//! Patriots slip because Ukraine goes first). Every forecast of a stored case is kept as a
//! [`ForecastSnapshot`]: the P10/P50/P90 of its first and final delivery, its place in each
//! line's queue, and the inputs that explain a change (each line's known rate steps and
//! backlog, the case's stage, milestones, deliveries, tier and promised first delivery, and
//! the tier and order date
//! of every case queued on its lines). [`compare`] judges a snapshot against the case's
//! previous one and raises:
//!
//! - `p50_moved` when the P50 of the first or the final delivery moved by more than the
//!   threshold ([`DEFAULT_THRESHOLD_DAYS`]), saying by how much and which inputs moved;
//! - `queue_changed` when the case took its place in a line's queue (it went on contract),
//!   or another case moved ahead of it or behind it, naming that case and the rule that
//!   put it there: the lower tier first, then the earlier order (contract) date, then the
//!   case id (DESIGN.md, "Production");
//! - `promise_at_risk` when the P50 of the first delivery has passed the first delivery the
//!   case was promised (a `promise` event): the promise is now more likely missed than kept.
//!   Raised when the P50 crosses it (or a new promise is already behind it), not at every
//!   forecast that still says so; never once a delivery is recorded.
//!   Purchasers ask for early warning of slips against the date promised at signing
//!   (`reference/fms-2026-update.md` §3 item 4: every early F-16 Block 70 buyer got its
//!   jets about two years later than promised).
//!
//! A case ahead that leaves the queue (its units are all delivered, or it ended) moves the
//! case up without an alert: that is the queue working, not a change of rules. Nothing here
//! reads a clock: each alert is dated by the `as_of` of the snapshot that raised it.

use std::collections::BTreeSet;
use std::fmt::{self, Write as _};

use serde::{Deserialize, Serialize};

use crate::case::{Agency, CaseId};
use crate::country::Country;
use crate::machine::Milestone;
use crate::stage::Stage;
use crate::{Date, Percentiles};

/// Days the P50 of a delivery must move by, more than, to raise an alert when the caller
/// names no threshold.
pub const DEFAULT_THRESHOLD_DAYS: i64 = 30;

/// The largest threshold a caller may name: ten years.
pub const MAX_THRESHOLD_DAYS: i64 = 3650;

/// Another case queued on the same line, as the queue orders it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedCase {
    /// Its id.
    pub case: String,
    /// Its priority tier (lower first).
    pub tier: u32,
    /// The day its units joined the queue: its contract date.
    pub order_date: Date,
    /// Its units on this line still to build.
    pub units: u32,
    /// Whether it is ahead of the case the queue is seen from.
    pub ahead: bool,
}

/// A case's place in one line's queue, once it is on contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuePlace {
    /// 1 + the number of cases ahead of it.
    pub position: u32,
    /// Its tier.
    pub tier: u32,
    /// Its order (contract) date.
    pub order_date: Date,
    /// Units still to build ahead of it: the stated backlog, other customers' orders that
    /// go first, and the cases ahead (their undelivered units).
    pub units_ahead: u64,
    /// Of those, the units of the backlog and of other customers' orders.
    pub other_units_ahead: u64,
}

/// A case's view of one production line's queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineQueue {
    /// The production line.
    pub line: String,
    /// The case's own place; `None` while it is not on contract: its units join the queue
    /// on its contract date, so it has no place before.
    pub place: Option<QueuePlace>,
    /// Every other case with units queued on the line, by queue order.
    pub cases: Vec<QueuedCase>,
}

impl LineQueue {
    /// The ids of the cases ahead.
    fn ahead(&self) -> BTreeSet<&str> {
        self.cases
            .iter()
            .filter(|queued| queued.ahead)
            .map(|queued| queued.case.as_str())
            .collect()
    }

    fn queued(&self, case: &str) -> Option<&QueuedCase> {
        self.cases.iter().find(|queued| queued.case == case)
    }
}

/// One known rate step of a line: `per_year` units a year from `from`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RateStep {
    /// First day.
    pub from: Date,
    /// Units per year.
    pub per_year: f64,
}

/// What a line's forecast was built from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineInputs {
    /// The production line.
    pub line: String,
    /// The rate steps known on the forecast day.
    pub rate: Vec<RateStep>,
    /// Units queued ahead of every case on the forecast day.
    pub backlog: u64,
}

/// What the case's forecast was built from, as far as it explains a change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotInputs {
    /// The case's stage.
    pub stage: Stage,
    /// Every stage it entered, with the day.
    pub milestones: Vec<Milestone>,
    /// Units delivered so far, all lines.
    pub delivered: u64,
    /// Its priority tier.
    pub tier: u32,
    /// The first delivery promised, once a `promise` event records one; absent before, so
    /// snapshots of cases without one keep their stored bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promised_first_delivery: Option<Date>,
    /// Each of its production lines.
    pub lines: Vec<LineInputs>,
}

/// One kept forecast of a stored case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForecastSnapshot {
    /// The case.
    pub case: CaseId,
    /// Its purchaser.
    pub purchaser: Country,
    /// Its implementing agency.
    pub agency: Agency,
    /// When the forecast was computed.
    pub computed_at: jiff::Timestamp,
    /// The day the forecast was made for ("today" in the scenario).
    pub as_of: Date,
    /// First delivery.
    pub first_delivery: Percentiles,
    /// Final delivery.
    pub final_delivery: Percentiles,
    /// Its place in each of its lines' queues.
    pub queues: Vec<LineQueue>,
    /// What it was built from.
    pub inputs: SnapshotInputs,
}

impl ForecastSnapshot {
    /// Whether two snapshots say the same thing, whenever and for whichever day they were
    /// computed: a recompute that changes nothing need not be kept.
    pub fn says_the_same_as(&self, other: &ForecastSnapshot) -> bool {
        self.case == other.case
            && self.first_delivery == other.first_delivery
            && self.final_delivery == other.final_delivery
            && self.queues == other.queues
            && self.inputs == other.inputs
    }
}

/// What a forecast alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ForecastAlertKind {
    /// The P50 of the first or the final delivery moved by more than the threshold.
    P50Moved,
    /// The case's place in a line's queue changed.
    QueueChanged,
    /// The P50 of the first delivery passed the first delivery promised.
    PromiseAtRisk,
}

impl ForecastAlertKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ForecastAlertKind::P50Moved => "p50_moved",
            ForecastAlertKind::QueueChanged => "queue_changed",
            ForecastAlertKind::PromiseAtRisk => "promise_at_risk",
        }
    }
}

/// One forecast alert on one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ForecastAlert {
    /// A stable identifier: case, kind, subject and the time of the forecast that raised it.
    pub id: String,
    /// The case.
    pub case: CaseId,
    /// Its purchaser, ISO 3166-1 alpha-3.
    pub purchaser: &'static str,
    /// Its implementing agency.
    pub agency: Agency,
    /// What moved.
    pub kind: ForecastAlertKind,
    /// `first_delivery` or `final_delivery` for a P50; the production line for a queue.
    pub subject: String,
    /// The `as_of` of the forecast that raised it.
    pub raised_on: Date,
    /// The `as_of` of the forecast it is compared with.
    pub previous_as_of: Date,
    /// Days the P50 moved (later is positive); for a queue, the change of position (down
    /// the queue is positive), when the case had a place before.
    pub moved: Option<i64>,
    /// What changed, by how much, as one sentence.
    pub message: String,
    /// Why: which inputs moved, or which queue rule put another case ahead.
    pub why: String,
}

impl ForecastAlert {
    /// Which way it moved: `later` or `earlier` for a P50; `down`, `up` or `reordered` (the
    /// same position, other cases ahead) for a queue, `joined` when the case took its place;
    /// `after_promise` for a promise at risk.
    pub fn direction(&self) -> &'static str {
        match (self.kind, self.moved) {
            (ForecastAlertKind::PromiseAtRisk, _) => "after_promise",
            (ForecastAlertKind::P50Moved, Some(days)) if days < 0 => "earlier",
            (ForecastAlertKind::P50Moved, _) => "later",
            (ForecastAlertKind::QueueChanged, None) => "joined",
            (ForecastAlertKind::QueueChanged, Some(places)) if places > 0 => "down",
            (ForecastAlertKind::QueueChanged, Some(places)) if places < 0 => "up",
            (ForecastAlertKind::QueueChanged, Some(_)) => "reordered",
        }
    }
}

/// The alerts a snapshot raises against the case's previous one, P50 moves first.
pub fn compare(
    previous: &ForecastSnapshot,
    current: &ForecastSnapshot,
    threshold_days: i64,
) -> Vec<ForecastAlert> {
    let mut alerts = Vec::new();
    let measures = [
        (
            "first_delivery",
            "first delivery",
            previous.first_delivery,
            current.first_delivery,
        ),
        (
            "final_delivery",
            "final delivery",
            previous.final_delivery,
            current.final_delivery,
        ),
    ];
    for (subject, name, before, after) in measures {
        let days = i64::from((after.p50 - before.p50).get_days());
        if days.abs() <= threshold_days {
            continue;
        }
        let direction = if days > 0 { "later" } else { "earlier" };
        alerts.push(alert(
            previous,
            current,
            ForecastAlertKind::P50Moved,
            subject,
            Some(days),
            format!(
                "P50 of the {name} moved {} days {direction}: {} → {} (P10–P90 now {} to {})",
                days.abs(),
                before.p50,
                after.p50,
                after.p10,
                after.p90
            ),
            input_changes(previous, current).join("; "),
        ));
    }
    for queue in &current.queues {
        let before = previous.queues.iter().find(|old| old.line == queue.line);
        if let Some(alert) = queue_alert(previous, current, before, queue) {
            alerts.push(alert);
        }
    }
    alerts.extend(promise_alert(previous, current));
    alerts
}

/// The days the first-delivery P50 falls after the promise, when it does and nothing is
/// delivered yet (once a delivery is recorded the first delivery is a fact, not a risk).
fn days_after_promise(snapshot: &ForecastSnapshot) -> Option<(Date, i64)> {
    let promised = snapshot.inputs.promised_first_delivery?;
    let days = i64::from((snapshot.first_delivery.p50 - promised).get_days());
    (snapshot.inputs.delivered == 0 && days > 0).then_some((promised, days))
}

/// The promise alert, if the first-delivery P50 is now after the promise and was not after
/// the same promise before.
fn promise_alert(previous: &ForecastSnapshot, current: &ForecastSnapshot) -> Option<ForecastAlert> {
    let (promised, days) = days_after_promise(current)?;
    let already_at_risk = days_after_promise(previous)
        .is_some_and(|(promised_before, _)| promised_before == promised);
    if already_at_risk {
        return None;
    }
    let first = current.first_delivery;
    Some(alert(
        previous,
        current,
        ForecastAlertKind::PromiseAtRisk,
        "first_delivery",
        Some(days),
        format!(
            "the first delivery promised for {promised} is now more likely missed than kept: P50 {} is {days} days after it (P10–P90 {} to {})",
            first.p50, first.p10, first.p90
        ),
        input_changes(previous, current).join("; "),
    ))
}

fn alert(
    previous: &ForecastSnapshot,
    current: &ForecastSnapshot,
    kind: ForecastAlertKind,
    subject: &str,
    moved: Option<i64>,
    message: String,
    why: String,
) -> ForecastAlert {
    ForecastAlert {
        id: format!(
            "{}/{}/{subject}/{}",
            current.case,
            kind.as_str(),
            current.computed_at
        ),
        case: current.case.clone(),
        purchaser: current.purchaser.iso3(),
        agency: current.agency,
        kind,
        subject: subject.to_owned(),
        raised_on: current.as_of,
        previous_as_of: previous.as_of,
        moved,
        message,
        why,
    }
}

/// The queue alert of one line, if the case's place changed for a reason other than cases
/// ahead leaving the queue.
fn queue_alert(
    previous: &ForecastSnapshot,
    current: &ForecastSnapshot,
    before: Option<&LineQueue>,
    after: &LineQueue,
) -> Option<ForecastAlert> {
    let line = &after.line;
    let place = after.place.as_ref()?;
    let Some((before, old_place)) = before.and_then(|queue| Some((queue, queue.place.as_ref()?)))
    else {
        return Some(joined_alert(previous, current, after, place));
    };
    let was_ahead = before.ahead();
    // Cases present in both queues that changed sides, and cases new to the queue that
    // went ahead; cases that left are the queue working.
    let moved_ahead: Vec<&QueuedCase> = after
        .cases
        .iter()
        .filter(|queued| queued.ahead && !was_ahead.contains(queued.case.as_str()))
        .collect();
    let moved_behind: Vec<&QueuedCase> = after
        .cases
        .iter()
        .filter(|queued| !queued.ahead && was_ahead.contains(queued.case.as_str()))
        .collect();
    if moved_ahead.is_empty() && moved_behind.is_empty() {
        return None;
    }
    let mut message = format!(
        "position in the queue of line {line} {} → {} ({} units ahead, was {})",
        old_place.position, place.position, place.units_ahead, old_place.units_ahead
    );
    for (cases, side) in [(&moved_ahead, "ahead of it"), (&moved_behind, "behind it")] {
        if !cases.is_empty() {
            let names: Vec<&str> = cases.iter().map(|queued| queued.case.as_str()).collect();
            let _ = write!(message, "; {} moved {side}", names.join(", "));
        }
    }
    let mut why = Vec::new();
    for queued in moved_ahead.iter().chain(&moved_behind) {
        why.push(queue_rule(
            queued,
            place,
            before.queued(&queued.case),
            old_place,
        ));
    }
    Some(alert(
        previous,
        current,
        ForecastAlertKind::QueueChanged,
        line,
        Some(i64::from(place.position) - i64::from(old_place.position)),
        message,
        why.join("; "),
    ))
}

/// The case took its place in a line's queue: it went on contract (or the line is new to it).
fn joined_alert(
    previous: &ForecastSnapshot,
    current: &ForecastSnapshot,
    queue: &LineQueue,
    place: &QueuePlace,
) -> ForecastAlert {
    let line = &queue.line;
    let ahead: Vec<&str> = queue
        .cases
        .iter()
        .filter(|queued| queued.ahead)
        .map(|queued| queued.case.as_str())
        .collect();
    let cases_ahead = if ahead.is_empty() {
        String::new()
    } else {
        format!(" (cases ahead: {})", ahead.join(", "))
    };
    alert(
        previous,
        current,
        ForecastAlertKind::QueueChanged,
        line,
        None,
        format!(
            "took its place in the queue of line {line}: position {}, {} units ahead{cases_ahead}",
            place.position, place.units_ahead
        ),
        format!(
            "on contract since {}: a case's units join its line's queue on its contract date, at tier {}",
            place.order_date, place.tier
        ),
    )
}

/// Which rule orders `other` against the case now, and what changed to make it so.
fn queue_rule(
    other: &QueuedCase,
    own: &QueuePlace,
    other_before: Option<&QueuedCase>,
    own_before: &QueuePlace,
) -> String {
    let name = &other.case;
    let rule = if other.tier != own.tier {
        format!(
            "{name} is tier {}, this case tier {}: the lower tier goes first",
            other.tier, own.tier
        )
    } else if other.order_date != own.order_date {
        format!(
            "{name} and this case are both tier {}; {name} was ordered on {}, this case on {}: within a tier the earlier order goes first",
            own.tier, other.order_date, own.order_date
        )
    } else {
        format!(
            "{name} and this case are both tier {} and ordered on {}: the case id decides",
            own.tier, own.order_date
        )
    };
    let mut changes = Vec::new();
    match other_before {
        None => changes.push(format!("{name} is new in the queue")),
        Some(before) => {
            changes.extend(went_from(
                format_args!("{name}'s tier"),
                before.tier,
                other.tier,
            ));
            changes.extend(went_from(
                format_args!("{name}'s order date"),
                before.order_date,
                other.order_date,
            ));
        }
    }
    changes.extend(went_from("this case's tier", own_before.tier, own.tier));
    changes.extend(went_from(
        "this case's order date",
        own_before.order_date,
        own.order_date,
    ));
    if changes.is_empty() {
        rule
    } else {
        format!("{rule} ({})", changes.join(", "))
    }
}

/// Every input that differs between two snapshots of a case, as sentences: its lines'
/// rates and backlogs, the case itself, the other cases in its queues; or, when none did,
/// that only the forecast day moved.
fn input_changes(previous: &ForecastSnapshot, current: &ForecastSnapshot) -> Vec<String> {
    let mut changes = line_changes(&previous.inputs, &current.inputs);
    changes.extend(case_changes(&previous.inputs, &current.inputs));
    for queue in &current.queues {
        let old = previous.queues.iter().find(|old| old.line == queue.line);
        changes.extend(queue_changes(old, queue));
    }
    if changes.is_empty() {
        changes.push(format!(
            "no recorded input changed: the forecast was remade as of {} (before: {}), and the time already spent in the current stage shortens or lengthens what is left",
            current.as_of, previous.as_of
        ));
    }
    changes
}

/// The case's lines whose known rate steps or backlog changed.
fn line_changes(before: &SnapshotInputs, after: &SnapshotInputs) -> Vec<String> {
    let mut changes = Vec::new();
    for line in &after.lines {
        let Some(old) = before.lines.iter().find(|old| old.line == line.line) else {
            changes.push(format!("line {} is new to the case's forecast", line.line));
            continue;
        };
        if old.rate != line.rate {
            changes.push(format!(
                "line {}'s known rate steps changed: {}",
                line.line,
                rate_change(&old.rate, &line.rate)
            ));
        }
        if old.backlog != line.backlog {
            changes.push(format!(
                "line {}'s backlog ahead of every case went from {} to {} units",
                line.line, old.backlog, line.backlog
            ));
        }
    }
    changes
}

/// The case's own stage (or milestone dates), deliveries and tier.
fn case_changes(before: &SnapshotInputs, after: &SnapshotInputs) -> Vec<String> {
    let mut changes = Vec::new();
    if before.stage != after.stage {
        changes.push(format!(
            "the case moved from {} to {}",
            before.stage, after.stage
        ));
    } else if before.milestones != after.milestones {
        changes.push("the case's milestone dates changed".to_owned());
    }
    changes.extend(went_from(
        "units delivered",
        before.delivered,
        after.delivered,
    ));
    changes.extend(went_from("this case's tier", before.tier, after.tier));
    if before.promised_first_delivery != after.promised_first_delivery {
        let promised = |day: Option<Date>| day.map_or_else(|| "none".to_owned(), |d| d.to_string());
        changes.push(format!(
            "the first delivery promised went from {} to {}",
            promised(before.promised_first_delivery),
            promised(after.promised_first_delivery)
        ));
    }
    changes
}

/// The other cases of one line's queue: a new one ahead, a tier changed, one ahead gone.
fn queue_changes(before: Option<&LineQueue>, after: &LineQueue) -> Vec<String> {
    let mut changes = Vec::new();
    let line = &after.line;
    for queued in &after.cases {
        match before.and_then(|old| old.queued(&queued.case)) {
            None if queued.ahead => changes.push(format!(
                "{} joined the queue of line {line} ahead of this case (tier {}, ordered {})",
                queued.case, queued.tier, queued.order_date
            )),
            Some(was) if was.tier != queued.tier => changes.push(format!(
                "{}'s tier on line {line} went from {} to {}",
                queued.case, was.tier, queued.tier
            )),
            _ => {}
        }
    }
    for gone in before.into_iter().flat_map(|old| &old.cases) {
        if gone.ahead && after.queued(&gone.case).is_none() {
            changes.push(format!(
                "{} left the queue of line {line} ahead of this case",
                gone.case
            ));
        }
    }
    changes
}

/// "`what` went from `before` to `after`", when the two differ.
fn went_from<T: PartialEq + fmt::Display>(
    what: impl fmt::Display,
    before: T,
    after: T,
) -> Option<String> {
    (before != after).then(|| format!("{what} went from {before} to {after}"))
}

/// The difference between two lists of rate steps, step by step.
fn rate_change(before: &[RateStep], after: &[RateStep]) -> String {
    let mut days: Vec<Date> = before.iter().chain(after).map(|step| step.from).collect();
    days.sort_unstable();
    days.dedup();
    let rate_on = |steps: &[RateStep], day: Date| {
        steps
            .iter()
            .find(|step| step.from == day)
            .map(|step| step.per_year)
    };
    let mut parts = Vec::new();
    for day in days {
        match (rate_on(before, day), rate_on(after, day)) {
            (Some(old), Some(new)) if old != new => {
                parts.push(format!("from {day}, {old} → {new} a year"));
            }
            (Some(old), None) => parts.push(format!("the step of {old} a year from {day} is gone")),
            (None, Some(new)) => parts.push(format!("a new step of {new} a year from {day}")),
            _ => {}
        }
    }
    parts.join(", ")
}

/// The days an alert may have been raised on to be reported: from `since` (if given) to
/// `until`, both included. `until` is the day the alerts are judged on: always given, so
/// that a forecast kept with a later `as_of` never raises an alert "from the future".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Raised {
    /// The first day.
    pub since: Option<Date>,
    /// The last day.
    pub until: Date,
}

impl Raised {
    /// Whether an alert raised on `day` is reported.
    pub fn holds(self, day: Date) -> bool {
        self.since.is_none_or(|since| day >= since) && day <= self.until
    }
}

/// The forecast alerts over one case's snapshots (oldest first): each snapshot against the
/// one before it, keeping those `raised` in the window (on the newer one's `as_of`), oldest
/// first.
pub fn case_alerts(
    snapshots: &[ForecastSnapshot],
    threshold_days: i64,
    raised: Raised,
) -> Vec<ForecastAlert> {
    snapshots
        .windows(2)
        .filter(|pair| raised.holds(pair[1].as_of))
        .flat_map(|pair| compare(&pair[0], &pair[1], threshold_days))
        .collect()
}

/// The forecast alerts of many cases' snapshots (each case's oldest first, cases in any
/// order), `raised` in the window, newest first.
pub fn alerts_raised(
    snapshots: &[ForecastSnapshot],
    threshold_days: i64,
    raised: Raised,
) -> Vec<ForecastAlert> {
    let mut alerts: Vec<ForecastAlert> = snapshots
        .chunk_by(|a, b| a.case == b.case)
        .flat_map(|one_case| case_alerts(one_case, threshold_days, raised))
        .collect();
    alerts.sort_by(|a, b| {
        b.raised_on
            .cmp(&a.raised_on)
            .then_with(|| a.case.cmp(&b.case))
            .then_with(|| a.kind.cmp(&b.kind))
            .then_with(|| a.subject.cmp(&b.subject))
    });
    alerts
}

/// What a caller who may not see another case is told instead of its id.
pub const HIDDEN_CASE: &str = "another purchaser's case";

/// `alerts` with the id of every queued case that `visible` refuses replaced by
/// [`HIDDEN_CASE`]: a purchaser learns that a case moved ahead of its own and by which
/// rule (Switzerland was told that Ukraine goes first), but not the id of another
/// country's case, which the service never shows it.
pub fn hide_cases(
    mut alerts: Vec<ForecastAlert>,
    snapshots: &[ForecastSnapshot],
    visible: impl Fn(&str) -> bool,
) -> Vec<ForecastAlert> {
    let hidden: BTreeSet<&str> = snapshots
        .iter()
        .flat_map(|snapshot| &snapshot.queues)
        .flat_map(|queue| &queue.cases)
        .map(|queued| queued.case.as_str())
        .filter(|id| !visible(id))
        .collect();
    for alert in &mut alerts {
        for id in &hidden {
            alert.message = alert.message.replace(id, HIDDEN_CASE);
            alert.why = alert.why.replace(id, HIDDEN_CASE);
        }
    }
    alerts
}

#[cfg(test)]
mod tests;
