//! Deadline alerts: a SAMM target, the end of a congressional review, or an offer's
//! expiration date that is near or was missed.
//!
//! Allies ask for early warning (update §3, items 3–5). Each deadline comes from the case
//! as the stage machine built it and from the SAMM standards; nothing here needs a
//! forecast. The caller passes the day the alerts are judged on.
//!
//! A deadline raises at most two alerts, each dated the day it became true:
//! - `near` on `due − near_days` (only when the deadline is further than `near_days` from
//!   the day it started, so a 5-day target does not warn on its first day), unless the
//!   deadline was met or the case ended before;
//! - `missed` on `due + 1`, unless the deadline was met by `due` or the case ended before.
//!
//! Because every alert is dated by the case's own event dates and the deadline, the same
//! case judged on the same day always gives the same alerts, and asking only for alerts
//! raised since a day gives none when nothing has changed since.

use jiff::ToSpan;
use serde::Serialize;

use crate::Date;
use crate::case::{Agency, CaseId, Channel};
use crate::machine::Case;
use crate::metrics::AOD_GROUP;
use crate::rules::{Confidence, SammStandards};
use crate::stage::Stage;

/// Days before a deadline that a `near` alert is raised, when the caller names none.
pub const DEFAULT_NEAR_DAYS: i64 = 14;

/// Which deadline an alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineKind {
    /// SAMM: the implementing agency validates the LOR within 5 days (reference §2.1).
    SammLorValidation,
    /// SAMM: the LOA is offered within the AOD group's target of the LOR becoming
    /// actionable (group B, 100 days, unconfirmed; reference §2.3).
    SammOffer,
    /// AECA §36(b): the congressional review period ends and the LOA may be offered
    /// (reference §3.2).
    ReviewPeriod,
    /// The offer must be accepted by its offer expiration date (reference §2.4).
    OfferExpiration,
}

impl DeadlineKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeadlineKind::SammLorValidation => "samm_lor_validation",
            DeadlineKind::SammOffer => "samm_offer",
            DeadlineKind::ReviewPeriod => "review_period",
            DeadlineKind::OfferExpiration => "offer_expiration",
        }
    }
}

/// Whether the deadline is near or was missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    /// The deadline falls within the warning window and is not met yet.
    Near,
    /// The deadline passed unmet.
    Missed,
}

impl AlertStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Near => "near",
            AlertStatus::Missed => "missed",
        }
    }
}

/// One alert on one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alert {
    /// A stable identifier: case, deadline, status and due day.
    pub id: String,
    /// The case.
    pub case: CaseId,
    /// Its purchaser, ISO 3166-1 alpha-3.
    pub purchaser: &'static str,
    /// Its implementing agency.
    pub agency: Agency,
    /// Which deadline.
    pub kind: DeadlineKind,
    /// Near or missed.
    pub status: AlertStatus,
    /// The day the alert became true.
    pub raised_on: Date,
    /// The deadline.
    pub due: Date,
    /// The day the deadline was met or the case ended, if it has been.
    pub resolved_on: Option<Date>,
    /// What changed, by how much, as one sentence.
    pub message: String,
    /// Why: the rule and its source, with how sure we are of the target.
    pub rule: String,
    /// How sure the reference is of the target: `confirmed`, `low` or `unconfirmed`.
    pub confidence: Confidence,
}

/// One deadline a case faced.
struct Deadline {
    kind: DeadlineKind,
    started: Date,
    due: Date,
    met: Option<Date>,
    confidence: Confidence,
    rule: String,
}

fn deadlines(case: &Case, samm: &SammStandards) -> Vec<Deadline> {
    let mut found = Vec::new();
    if case.channel == Channel::Fms {
        if let Some(lor) = case.entered(Stage::LorReceived) {
            let target = &samm.lor_acknowledgement_days;
            found.push(Deadline {
                kind: DeadlineKind::SammLorValidation,
                started: lor,
                due: lor.saturating_add(i64::from(target.value).days()),
                met: case.entered(Stage::LorActionable),
                confidence: target.confidence,
                rule: format!(
                    "SAMM: validate the LOR within {} days ({})",
                    target.value, target.source
                ),
            });
        }
        let group = samm
            .aod_groups
            .iter()
            .find(|group| group.group.eq_ignore_ascii_case(AOD_GROUP));
        if let (Some(actionable), Some(group)) = (case.entered(Stage::LorActionable), group)
            && let Some(days) = group.target_days
        {
            found.push(Deadline {
                kind: DeadlineKind::SammOffer,
                started: actionable,
                due: actionable.saturating_add(i64::from(days).days()),
                met: case.entered(Stage::Offered),
                confidence: group.confidence,
                rule: format!(
                    "SAMM: offer the LOA within {days} days of the LOR becoming actionable, AOD group {} ({})",
                    group.group, group.source
                ),
            });
        }
    }
    if let (Some(review_start), Some(review)) =
        (case.entered(Stage::CongressionalReview), &case.review)
    {
        found.push(Deadline {
            kind: DeadlineKind::ReviewPeriod,
            started: review_start,
            due: review.earliest_offer,
            met: case.entered(Stage::Offered),
            confidence: Confidence::Confirmed,
            rule: format!(
                "AECA §36(b): {}-day congressional review; the LOA may be offered from its end (reference §3.2)",
                review.decision.earliest_offer_after_notification_days
            ),
        });
    }
    if let (Some(offered), Some(expires)) = (case.entered(Stage::Offered), case.offer_expires) {
        let default = &samm.offer_expiration_days;
        found.push(Deadline {
            kind: DeadlineKind::OfferExpiration,
            started: offered,
            due: expires,
            met: case.entered(Stage::Implemented),
            confidence: default.confidence,
            rule: format!(
                "SAMM: the offer is valid {} days and must be accepted by its offer expiration date ({})",
                case.offer_expiration_days, default.source
            ),
        });
    }
    found
}

/// The day a terminal stage ended the case, if one did.
fn ended(case: &Case) -> Option<Date> {
    [
        Stage::Cancelled,
        Stage::Expired,
        Stage::Disapproved,
        Stage::Closed,
    ]
    .into_iter()
    .filter_map(|stage| case.entered(stage))
    .min()
}

/// What changed and by how much. A near alert counts days from the day it was raised; a
/// missed one to the day the deadline was met, or to `today` while it is not.
fn message(status: AlertStatus, deadline: &Deadline, raised_on: Date, today: Date) -> String {
    let days = |from: Date, to: Date| (to - from).get_days();
    let due = deadline.due;
    let ahead = days(raised_on, due);
    match (deadline.kind, status, deadline.met) {
        (DeadlineKind::ReviewPeriod, AlertStatus::Near, _) => format!(
            "congressional review ends on {due}, in {ahead} days: the LOA may be offered from then"
        ),
        (DeadlineKind::ReviewPeriod, AlertStatus::Missed, Some(met)) => format!(
            "congressional review ended on {due}; the LOA was offered {} days later, on {met}",
            days(due, met)
        ),
        (DeadlineKind::ReviewPeriod, AlertStatus::Missed, None) => format!(
            "congressional review ended on {due} and the LOA is not offered: {} days since",
            days(due, today)
        ),
        (DeadlineKind::OfferExpiration, AlertStatus::Near, _) => {
            format!("the offer expires on {due}, in {ahead} days, and is not accepted")
        }
        (DeadlineKind::OfferExpiration, AlertStatus::Missed, _) => {
            format!("the offer expired unaccepted on {due}")
        }
        (_, AlertStatus::Near, _) => {
            format!("the SAMM target falls due on {due}, in {ahead} days")
        }
        (_, AlertStatus::Missed, Some(met)) => format!(
            "the SAMM target of {due} was missed by {} days (met on {met})",
            days(due, met)
        ),
        (_, AlertStatus::Missed, None) => format!(
            "the SAMM target of {due} is missed: {} days late on {today}",
            days(due, today)
        ),
    }
}

/// The deadline alerts of one case raised on or before `today`, oldest first.
pub fn deadline_alerts(
    case: &Case,
    samm: &SammStandards,
    today: Date,
    near_days: i64,
) -> Vec<Alert> {
    // Judged on `today`: a deadline met, or a case ended, after it is still open then.
    let known = |day: Option<Date>| day.filter(|day| *day <= today);
    let ended = known(ended(case));
    let mut alerts = Vec::new();
    for mut deadline in deadlines(case, samm) {
        deadline.met = known(deadline.met);
        // The deadline is settled by being met or by the case ending, whichever is first.
        let resolved = match (deadline.met, ended) {
            (Some(met), Some(end)) => Some(met.min(end)),
            (met, end) => met.or(end),
        };
        let near_on = deadline.due.saturating_sub(near_days.days());
        let missed_on = deadline.due.saturating_add(1.day());
        // A near alert needs the deadline still open on the day it is raised; a missed one
        // needs it still open after its due day (met on the due day is met in time).
        let candidates = [
            (
                AlertStatus::Near,
                near_on,
                near_on > deadline.started && resolved.is_none_or(|day| day > near_on),
            ),
            (
                AlertStatus::Missed,
                missed_on,
                resolved.is_none_or(|day| day > deadline.due),
            ),
        ];
        for (status, raised_on, applies) in candidates {
            if !applies || raised_on > today {
                continue;
            }
            alerts.push(Alert {
                id: format!(
                    "{}/{}/{}/{}",
                    case.id,
                    deadline.kind.as_str(),
                    status.as_str(),
                    deadline.due
                ),
                case: case.id.clone(),
                purchaser: case.purchaser.iso3(),
                agency: case.agency,
                kind: deadline.kind,
                status,
                raised_on,
                due: deadline.due,
                resolved_on: resolved,
                message: message(status, &deadline, raised_on, today),
                rule: deadline.rule.clone(),
                confidence: deadline.confidence,
            });
        }
    }
    alerts.sort_by_key(|alert| (alert.raised_on, alert.kind, alert.status));
    alerts
}

/// The deadline alerts of many cases raised between `since` (inclusive, if given) and
/// `today`, newest first.
pub fn alerts_since<'a>(
    cases: impl IntoIterator<Item = &'a Case>,
    samm: &SammStandards,
    today: Date,
    since: Option<Date>,
    near_days: i64,
) -> Vec<Alert> {
    let mut alerts: Vec<Alert> = cases
        .into_iter()
        .flat_map(|case| deadline_alerts(case, samm, today, near_days))
        .filter(|alert| since.is_none_or(|since| alert.raised_on >= since))
        .collect();
    alerts.sort_by(|a, b| {
        b.raised_on
            .cmp(&a.raised_on)
            .then_with(|| a.case.cmp(&b.case))
            .then_with(|| a.kind.cmp(&b.kind))
    });
    alerts
}

#[cfg(test)]
mod tests;
