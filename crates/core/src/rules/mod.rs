//! Dated statutory rule sets: AECA §36(b) congressional notification, and the SAMM time
//! standards.
//!
//! Rule sets are data: each is a TOML file in this folder, compiled in, so a new law is a
//! new file rather than new code. A case is judged by the law in force on its date
//! ([`RuleBook::in_force_on`]); a proposal that is not law (the 2024 TIGER Act) is used only
//! when asked for by id.

mod samm;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Date;
use crate::case::CaseValues;
use crate::country::{AecaGroup, Country};
use crate::money::Usd;

pub use samm::{AodGroup, Confidence, SammStandards, Sourced};

const BUILTIN_RULE_SETS: [(&str, &str); 2] = [
    ("aeca-36b.toml", include_str!("aeca-36b.toml")),
    ("tiger-act-2024.toml", include_str!("tiger-act-2024.toml")),
];

/// Whether a rule set is law or a proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// In force from its effective date.
    Law,
    /// A bill or proposal: only applied when asked for by id.
    Proposal,
}

/// Thresholds and review periods for one AECA group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupRules {
    /// Major Defense Equipment threshold (notification at this value or more).
    pub mde_usd: Usd,
    /// Defense articles and services threshold.
    pub articles_services_usd: Usd,
    /// Design and construction services threshold.
    pub design_construction_usd: Usd,
    /// Formal review period, calendar days.
    pub formal_review_days: u32,
    /// Informal advance review before the formal period, calendar days.
    pub informal_review_days: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
struct Groups {
    nato_plus_5: GroupRules,
    other: GroupRules,
}

/// One dated rule set for AECA §36(b).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    /// Short id, e.g. `aeca-36b`.
    pub id: String,
    /// What it is, for people.
    pub title: String,
    /// Law or proposal.
    pub kind: RuleKind,
    /// First day it applies (for a proposal: the day it was made).
    pub effective: Date,
    /// Where the numbers come from.
    pub citation: String,
    groups: Groups,
}

/// The threshold categories of §36(b)(1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Threshold {
    /// Major Defense Equipment.
    Mde,
    /// Defense articles and services.
    ArticlesServices,
    /// Design and construction services.
    DesignConstruction,
}

impl Threshold {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Threshold::Mde => "mde",
            Threshold::ArticlesServices => "articles_services",
            Threshold::DesignConstruction => "design_construction",
        }
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A proposed sale to judge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotificationCheck {
    /// The purchasing country.
    pub purchaser: Country,
    /// The date the sale is judged on (group membership and rule set are taken on it).
    pub date: Date,
    /// MDE, articles-and-services and design-and-construction values.
    pub values: CaseValues,
    /// Whether the President invokes the emergency waiver (reference §3.4).
    pub emergency: bool,
}

/// The answer: must Congress be notified, how long it reviews, when the offer can go out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationDecision {
    /// ISO3 of the purchaser.
    pub purchaser: Country,
    /// The date judged.
    pub date: Date,
    /// The rule set applied.
    pub rule_set: String,
    /// The purchaser's AECA group on that date.
    pub group: AecaGroup,
    /// Whether a §36(b) notification is required.
    pub notification_required: bool,
    /// Which thresholds the sale reaches.
    pub thresholds_crossed: Vec<Threshold>,
    /// Informal advance review, days (zero if no notification or emergency).
    pub informal_review_days: u32,
    /// Formal review period, days (zero if no notification or emergency).
    pub formal_review_days: u32,
    /// Days from the start of review (the informal notification where there is one) to the
    /// first day the LOA may be offered: informal plus formal review.
    pub earliest_offer_after_notification_days: u32,
    /// Whether the emergency waiver set the review periods to zero.
    pub emergency_waiver: bool,
    /// The legal source.
    pub citation: String,
}

/// Why a check could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// No rule set by that id.
    #[error("unknown rule set '{id}': known rule sets are {known}")]
    UnknownRuleSet {
        /// The id asked for.
        id: String,
        /// The ids there are.
        known: String,
    },
    /// No law was in force on the date.
    #[error("no rule set is in force on {0}")]
    NothingInForce(Date),
    /// MDE counts inside the articles-and-services total, so it cannot exceed it.
    #[error(
        "MDE value {mde} is above the total of articles and services {total}; MDE is part of that total"
    )]
    MdeAboveTotal {
        /// MDE value.
        mde: Usd,
        /// Articles and services total.
        total: Usd,
    },
    /// A compiled-in rule file does not parse (a build defect, caught by tests).
    #[error("rule file {file} is invalid: {message}")]
    InvalidRuleFile {
        /// The file.
        file: String,
        /// What is wrong.
        message: String,
    },
}

impl RuleSet {
    /// Reads one rule set from TOML text.
    ///
    /// # Errors
    /// [`RuleError::InvalidRuleFile`].
    pub fn from_toml(file: &str, text: &str) -> Result<RuleSet, RuleError> {
        toml::from_str(text).map_err(|error| RuleError::InvalidRuleFile {
            file: file.to_owned(),
            message: error.to_string(),
        })
    }

    /// The thresholds and periods for a group.
    pub fn group_rules(&self, group: AecaGroup) -> &GroupRules {
        match group {
            AecaGroup::NatoPlus5 => &self.groups.nato_plus_5,
            AecaGroup::Other => &self.groups.other,
        }
    }

    /// Judges one proposed sale (AECA §36(b)(1); thresholds are "or more").
    ///
    /// # Errors
    /// [`RuleError::MdeAboveTotal`] when the values are inconsistent.
    pub fn check(&self, sale: &NotificationCheck) -> Result<NotificationDecision, RuleError> {
        let values = sale.values;
        if values.mde > values.articles_services {
            return Err(RuleError::MdeAboveTotal {
                mde: values.mde,
                total: values.articles_services,
            });
        }
        let group = sale.purchaser.aeca_group_on(sale.date);
        let rules = self.group_rules(group);
        let thresholds_crossed: Vec<Threshold> = [
            (Threshold::Mde, values.mde, rules.mde_usd),
            (
                Threshold::ArticlesServices,
                values.articles_services,
                rules.articles_services_usd,
            ),
            (
                Threshold::DesignConstruction,
                values.design_construction,
                rules.design_construction_usd,
            ),
        ]
        .into_iter()
        .filter(|&(_, value, threshold)| value >= threshold)
        .map(|(threshold, _, _)| threshold)
        .collect();
        let notification_required = !thresholds_crossed.is_empty();
        let reviewed = notification_required && !sale.emergency;
        let informal_review_days = if reviewed {
            rules.informal_review_days
        } else {
            0
        };
        let formal_review_days = if reviewed {
            rules.formal_review_days
        } else {
            0
        };
        Ok(NotificationDecision {
            purchaser: sale.purchaser,
            date: sale.date,
            rule_set: self.id.clone(),
            group,
            notification_required,
            thresholds_crossed,
            informal_review_days,
            formal_review_days,
            earliest_offer_after_notification_days: informal_review_days + formal_review_days,
            emergency_waiver: notification_required && sale.emergency,
            citation: self.citation.clone(),
        })
    }
}

/// All known rule sets, and the SAMM standards.
#[derive(Debug, Clone)]
pub struct RuleBook {
    rule_sets: Vec<RuleSet>,
    samm: SammStandards,
}

impl RuleBook {
    /// The rule sets and standards compiled into expedite.
    ///
    /// # Errors
    /// [`RuleError::InvalidRuleFile`] if a compiled-in file is broken (tests guard this).
    pub fn builtin() -> Result<RuleBook, RuleError> {
        let rule_sets = BUILTIN_RULE_SETS
            .iter()
            .map(|(file, text)| RuleSet::from_toml(file, text))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(RuleBook {
            rule_sets,
            samm: SammStandards::builtin()?,
        })
    }

    /// Every rule set, laws first, each by effective date.
    pub fn rule_sets(&self) -> &[RuleSet] {
        &self.rule_sets
    }

    /// The SAMM time standards.
    pub fn samm(&self) -> &SammStandards {
        &self.samm
    }

    /// A rule set by id.
    ///
    /// # Errors
    /// [`RuleError::UnknownRuleSet`] listing the known ids.
    pub fn get(&self, id: &str) -> Result<&RuleSet, RuleError> {
        self.rule_sets
            .iter()
            .find(|set| set.id == id)
            .ok_or_else(|| RuleError::UnknownRuleSet {
                id: id.to_owned(),
                known: self
                    .rule_sets
                    .iter()
                    .map(|set| set.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// The law in force on `day`: the latest law whose effective date is on or before it.
    ///
    /// # Errors
    /// [`RuleError::NothingInForce`].
    pub fn in_force_on(&self, day: Date) -> Result<&RuleSet, RuleError> {
        self.rule_sets
            .iter()
            .filter(|set| set.kind == RuleKind::Law && set.effective <= day)
            .max_by_key(|set| set.effective)
            .ok_or(RuleError::NothingInForce(day))
    }

    /// Judges a sale by the named rule set, or by the law in force on its date.
    ///
    /// # Errors
    /// Unknown rule set, nothing in force, or inconsistent values.
    pub fn check(
        &self,
        sale: &NotificationCheck,
        rule_set: Option<&str>,
    ) -> Result<NotificationDecision, RuleError> {
        let set = match rule_set {
            Some(id) => self.get(id)?,
            None => self.in_force_on(sale.date)?,
        };
        set.check(sale)
    }
}

#[cfg(test)]
mod tests;
