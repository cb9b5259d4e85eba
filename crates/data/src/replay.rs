//! Replaying the shipped DSCA notifications under a rule set: which of the real §36(b)
//! notifications would Congress not have seen under a bill, and does every one of them
//! cross a threshold under the law in force on its date (update §2: the question the 2025
//! bills raise).
//!
//! A notification states its total value (a ceiling) and rarely its Major Defense Equipment
//! value. Where the MDE value is not stated it lies anywhere from zero to the total, so a
//! verdict can be "required only if the MDE is at least X" ([`Verdict::DependsOnMde`]); the
//! replay never guesses it. Design and construction is not stated either and is taken as
//! zero. Notifications without a date or a value cannot be judged and are listed as skipped.

use expedite_core::rules::{Channel, RuleBook, RuleError, RuleSet, SaleCheck};
use expedite_core::{AecaGroup, Country, Date, Usd};
use serde::Serialize;

use crate::dsca::Notification;

/// Whether a notification would be required under one rule set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "verdict")]
pub enum Verdict {
    /// Required whatever the unstated MDE value.
    Required,
    /// Not required, even if all of the value were MDE.
    NotRequired,
    /// Required only if the unstated MDE value is at least this much.
    DependsOnMde {
        /// The MDE threshold that decides.
        mde_at_least: Usd,
    },
}

impl Verdict {
    /// A short wire name: `required`, `not_required` or `depends_on_mde`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Required => "required",
            Verdict::NotRequired => "not_required",
            Verdict::DependsOnMde { .. } => "depends_on_mde",
        }
    }
}

/// What the rule set changes for one notification, against the law in force on its date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// The same verdict.
    Unchanged,
    /// Congress would not have seen it.
    NoLongerRequired,
    /// Required under the rule set, not under the law.
    NewlyRequired,
    /// Depends on the unstated MDE value.
    Undetermined,
}

impl Change {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Unchanged => "unchanged",
            Change::NoLongerRequired => "no_longer_required",
            Change::NewlyRequired => "newly_required",
            Change::Undetermined => "undetermined",
        }
    }
}

/// One notification judged twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplayRow {
    /// Date of the announcement.
    pub date: Date,
    /// The purchasing country (ISO3).
    pub iso3: Country,
    /// The purchaser as the release names it.
    pub purchaser: String,
    /// The headline system or service.
    pub item: String,
    /// The notified value.
    pub value_usd: Usd,
    /// The MDE value, where stated.
    pub mde_value_usd: Option<Usd>,
    /// The purchaser's group on the date.
    pub group: AecaGroup,
    /// The law in force on the date.
    pub law: String,
    /// Verdict under that law.
    pub under_law: Verdict,
    /// Verdict under the rule set replayed.
    pub under_rule_set: Verdict,
    /// What the rule set changes.
    pub change: Change,
}

/// A notification that could not be judged, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// Date, if known.
    pub date: Option<Date>,
    /// The purchaser as the release names it.
    pub purchaser: String,
    /// The headline system or service.
    pub item: String,
    /// Why it was not judged.
    pub reason: String,
}

/// Counts and notified values for one purchaser group (or all).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupTotals {
    /// `nato_plus_5`, `other` or `all`.
    pub group: &'static str,
    /// Notifications judged.
    pub notifications: usize,
    /// Their notified value.
    pub value_usd: Usd,
    /// Notifications Congress would not have seen under the rule set.
    pub no_longer_required: usize,
    /// Their value.
    pub no_longer_required_usd: Usd,
    /// Notifications that depend on the unstated MDE value.
    pub undetermined: usize,
    /// Their value.
    pub undetermined_usd: Usd,
    /// Required under the rule set but not under the law.
    pub newly_required: usize,
    /// Notifications not required under the law in force (data or rules wrong).
    pub not_required_under_law: usize,
}

/// The whole replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Replay {
    /// The rule set replayed.
    pub rule_set: String,
    /// Every notification judged, in input order.
    pub rows: Vec<ReplayRow>,
    /// Notifications not judged.
    pub skipped: Vec<Skipped>,
    /// Totals by purchaser group, then all.
    pub totals: Vec<GroupTotals>,
}

/// Judges every notification under `rule_set` and under the law in force on its date.
///
/// # Errors
/// [`RuleError::UnknownRuleSet`] when the rule set is not known.
pub fn replay<'a>(
    book: &RuleBook,
    rule_set: &str,
    notifications: impl IntoIterator<Item = &'a Notification>,
) -> Result<Replay, RuleError> {
    let replayed = book.get(rule_set)?;
    let mut rows = Vec::new();
    let mut skipped = Vec::new();
    for notification in notifications {
        let skip = |reason: String| Skipped {
            date: notification.date,
            purchaser: notification.purchaser.clone(),
            item: notification.item.clone(),
            reason,
        };
        let (Some(date), Some(value)) = (notification.date, notification.value_usd) else {
            let reason = if notification.date.is_none() {
                "no announcement date"
            } else {
                "no notified value"
            };
            skipped.push(skip(reason.to_owned()));
            continue;
        };
        let judged = book.in_force_on(date).and_then(|law| {
            let under_law = verdict(
                law,
                notification.country,
                date,
                value,
                notification.mde_value_usd,
            )?;
            let under_rule_set = verdict(
                replayed,
                notification.country,
                date,
                value,
                notification.mde_value_usd,
            )?;
            Ok((law, under_law, under_rule_set))
        });
        match judged {
            Ok((law, under_law, under_rule_set)) => rows.push(ReplayRow {
                date,
                iso3: notification.country,
                purchaser: notification.purchaser.clone(),
                item: notification.item.clone(),
                value_usd: value,
                mde_value_usd: notification.mde_value_usd,
                group: notification.country.aeca_group_on(date),
                law: law.id.clone(),
                under_law,
                under_rule_set,
                change: change(under_law, under_rule_set),
            }),
            Err(error) => skipped.push(skip(error.to_string())),
        }
    }
    let totals = vec![
        totals(
            "nato_plus_5",
            rows.iter().filter(|row| row.group == AecaGroup::NatoPlus5),
        ),
        totals(
            "other",
            rows.iter().filter(|row| row.group == AecaGroup::Other),
        ),
        totals("all", rows.iter()),
    ];
    Ok(Replay {
        rule_set: replayed.id.clone(),
        rows,
        skipped,
        totals,
    })
}

/// The verdict on a notified FMS sale of `value` under one rule set. With the MDE value
/// unknown, it is judged at both ends of its range (zero and the whole value).
///
/// # Errors
/// [`RuleError::MdeAboveTotal`] when a stated MDE value exceeds the total.
pub fn verdict(
    set: &RuleSet,
    purchaser: Country,
    date: Date,
    value: Usd,
    mde: Option<Usd>,
) -> Result<Verdict, RuleError> {
    let required_with = |mde: Usd| -> Result<bool, RuleError> {
        let mut sale = SaleCheck::new(purchaser, date, Channel::Fms);
        sale.mde = Some(mde);
        sale.articles_services = Some(value);
        set.judge(&sale)
            .map(|decision| decision.notification_required)
    };
    match mde {
        Some(mde) => Ok(if required_with(mde)? {
            Verdict::Required
        } else {
            Verdict::NotRequired
        }),
        None if required_with(Usd::ZERO)? => Ok(Verdict::Required),
        None if !required_with(value)? => Ok(Verdict::NotRequired),
        None => {
            let group = purchaser.aeca_group_on(date);
            Ok(Verdict::DependsOnMde {
                mde_at_least: set.fms().group(group).mde.value,
            })
        }
    }
}

fn change(under_law: Verdict, under_rule_set: Verdict) -> Change {
    match (under_law, under_rule_set) {
        (law, set) if law == set => Change::Unchanged,
        (_, Verdict::NotRequired) => Change::NoLongerRequired,
        (Verdict::NotRequired, Verdict::Required) => Change::NewlyRequired,
        // Notified under the law: a set that requires it whatever the MDE changes nothing.
        (Verdict::DependsOnMde { .. }, Verdict::Required) => Change::Unchanged,
        _ => Change::Undetermined,
    }
}

fn totals<'a>(group: &'static str, rows: impl Iterator<Item = &'a ReplayRow>) -> GroupTotals {
    let mut totals = GroupTotals {
        group,
        notifications: 0,
        value_usd: Usd::ZERO,
        no_longer_required: 0,
        no_longer_required_usd: Usd::ZERO,
        undetermined: 0,
        undetermined_usd: Usd::ZERO,
        newly_required: 0,
        not_required_under_law: 0,
    };
    // Notified values are at most tens of billions and u64 cents hold about $184 quadrillion,
    // so the sum cannot overflow with real figures; if it did, it would stop at the maximum.
    let add = |sum: Usd, value: Usd| sum.checked_add(value).unwrap_or(Usd::from_cents(u64::MAX));
    for row in rows {
        totals.notifications += 1;
        totals.value_usd = add(totals.value_usd, row.value_usd);
        match row.change {
            Change::NoLongerRequired => {
                totals.no_longer_required += 1;
                totals.no_longer_required_usd = add(totals.no_longer_required_usd, row.value_usd);
            }
            Change::Undetermined => {
                totals.undetermined += 1;
                totals.undetermined_usd = add(totals.undetermined_usd, row.value_usd);
            }
            Change::NewlyRequired => totals.newly_required += 1,
            Change::Unchanged => {}
        }
        if row.under_law == Verdict::NotRequired {
            totals.not_required_under_law += 1;
        }
    }
    totals
}

#[cfg(test)]
mod tests;
