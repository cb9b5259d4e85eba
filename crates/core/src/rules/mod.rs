//! Dated statutory rule sets: AECA §36 congressional notification (FMS §36(b), direct
//! commercial sales §36(c), manufacturing licence and technical assistance agreements §36(d)),
//! and the SAMM time standards.
//!
//! Rule sets are data: each is a TOML file in this folder, compiled in, so a new law is a
//! new file rather than new code. Every figure in a rule set carries its source and whether
//! that source confirms it ([`Figure`]). A case is judged by the law in force on its date
//! ([`RuleBook::in_force_on`]); a proposal that is not law (the 2024 TIGER Act, the 2025
//! bills H.R. 3138 and H.R. 3613) is used only when asked for by id.

mod judge;
mod samm;

use serde::{Deserialize, Serialize};

use crate::Date;
use crate::country::AecaGroup;
use crate::money::Usd;

pub use judge::{
    Channel, NotificationCheck, NotificationDecision, SaleCheck, SaleInput, Threshold,
};
pub use samm::{AodGroup, Confidence, SammStandards, Sourced};

const BUILTIN_RULE_SETS: [(&str, &str); 4] = [
    ("aeca-36b.toml", include_str!("aeca-36b.toml")),
    ("tiger-act-2024.toml", include_str!("tiger-act-2024.toml")),
    ("hr3138-2025.toml", include_str!("hr3138-2025.toml")),
    ("hr3613-2025.toml", include_str!("hr3613-2025.toml")),
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

impl RuleKind {
    /// The wire name: `law` or `proposal`.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Law => "law",
            RuleKind::Proposal => "proposal",
        }
    }
}

/// One figure of a rule set: its value, whether a primary or official source confirms it,
/// and where it comes from. An unconfirmed figure is usually current law kept in a proposal
/// whose own figure is not known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Figure<T> {
    /// The value (dollars or days).
    pub value: T,
    /// Whether a source confirms this value for this rule set.
    pub confirmed: bool,
    /// Where it comes from.
    pub source: String,
}

/// §36(b)(1) thresholds for one group (notification at the value or more).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FmsThresholds {
    /// Major Defense Equipment.
    pub mde: Figure<Usd>,
    /// Defense articles and services, MDE included.
    pub articles_services: Figure<Usd>,
    /// Design and construction services.
    pub design_construction: Figure<Usd>,
}

/// §36(c) thresholds for one group: no design and construction, Category I firearms instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DcsThresholds {
    /// Major Defense Equipment.
    pub mde: Figure<Usd>,
    /// Defense articles and services, MDE included.
    pub articles_services: Figure<Usd>,
    /// Firearms on USML Category I.
    pub firearms: Figure<Usd>,
}

/// Review periods for one group, calendar days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewPeriods {
    /// Formal review, counted from the formal notification.
    pub formal_days: Figure<u32>,
    /// Informal ("tiered") review, which comes before the formal notification.
    pub informal_days: Figure<u32>,
}

/// §36(b)(5)(A)–(B): the report on enhancements and upgrades before delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpgradeRules {
    /// The report reaches Congress at least this many days before delivery.
    pub pre_delivery_report_days: Figure<u32>,
    /// For deliveries within this many years of the original certification.
    pub report_window_years: Figure<u32>,
}

/// One channel's thresholds, by purchaser group, with the statute they come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelRules<T> {
    /// The legal source of this channel's rules.
    pub citation: String,
    /// NATO, its members and the five partners.
    pub nato_plus_5: T,
    /// Everyone else (and NATO+5 sales that open a new sales territory outside NATO+5).
    pub other: T,
}

impl<T> ChannelRules<T> {
    /// The figures for a group.
    pub fn group(&self, group: AecaGroup) -> &T {
        match group {
            AecaGroup::NatoPlus5 => &self.nato_plus_5,
            AecaGroup::Other => &self.other,
        }
    }
}

/// §36(d): no thresholds, only the source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MlaRules {
    /// The legal source.
    pub citation: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReviewByGroup {
    nato_plus_5: ReviewPeriods,
    other: ReviewPeriods,
}

/// One dated rule set for AECA §36.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    /// Short id, e.g. `aeca-36b`.
    pub id: String,
    /// What it is, for people.
    pub title: String,
    /// Law or proposal.
    pub kind: RuleKind,
    /// Where it stands, e.g. "introduced 2025-05-01; not enacted".
    pub status: String,
    /// First day it applies (for a proposal: the day it was made).
    pub effective: Date,
    /// Where the numbers come from.
    pub citation: String,
    fms: ChannelRules<FmsThresholds>,
    dcs: ChannelRules<DcsThresholds>,
    mla: MlaRules,
    review: ReviewByGroup,
    upgrade: UpgradeRules,
}

/// One figure of a rule set, flattened for listing (`rules list --format csv`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FigureRow {
    /// `fms`, `dcs`, `review` or `upgrade`.
    pub section: &'static str,
    /// `nato_plus_5`, `other`, or empty where the figure applies to every group.
    pub group: &'static str,
    /// The figure's name, e.g. `mde` or `formal_days`.
    pub name: &'static str,
    /// The value: whole dollars, days or years.
    pub value: u64,
    /// `usd`, `days` or `years`.
    pub unit: &'static str,
    /// Whether a source confirms it.
    pub confirmed: bool,
    /// Where it comes from.
    pub source: String,
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
    /// Category I firearms count inside the articles-and-services total.
    #[error(
        "firearms value {firearms} is above the total of articles and services {total}; firearms are part of that total"
    )]
    FirearmsAboveTotal {
        /// Category I firearms value.
        firearms: Usd,
        /// Articles and services total.
        total: Usd,
    },
    /// An input that the channel's statute does not know (`dc_usd` for a licence).
    #[error("{} does not apply to channel {channel}: {why}", input.key())]
    NotForChannel {
        /// The input given.
        input: SaleInput,
        /// The channel.
        channel: Channel,
        /// Why, in the statute's terms.
        why: &'static str,
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

    /// §36(b)(1) thresholds, by group.
    pub fn fms(&self) -> &ChannelRules<FmsThresholds> {
        &self.fms
    }

    /// §36(c) thresholds, by group.
    pub fn dcs(&self) -> &ChannelRules<DcsThresholds> {
        &self.dcs
    }

    /// §36(d): its source.
    pub fn mla(&self) -> &MlaRules {
        &self.mla
    }

    /// The review periods of a purchaser group.
    pub fn review(&self, group: AecaGroup) -> &ReviewPeriods {
        match group {
            AecaGroup::NatoPlus5 => &self.review.nato_plus_5,
            AecaGroup::Other => &self.review.other,
        }
    }

    /// §36(b)(5)(A)–(B) figures.
    pub fn upgrade(&self) -> &UpgradeRules {
        &self.upgrade
    }

    /// The legal source of a channel's rules.
    pub fn channel_citation(&self, channel: Channel) -> &str {
        match channel {
            Channel::Fms => &self.fms.citation,
            Channel::Dcs => &self.dcs.citation,
            Channel::Mla => &self.mla.citation,
        }
    }

    /// Every figure of the set, in file order, for listing.
    pub fn figures(&self) -> Vec<FigureRow> {
        fn usd(
            section: &'static str,
            group: AecaGroup,
            name: &'static str,
            figure: &Figure<Usd>,
        ) -> FigureRow {
            FigureRow {
                section,
                group: group.as_str(),
                name,
                value: figure.value.cents() / 100,
                unit: "usd",
                confirmed: figure.confirmed,
                source: figure.source.clone(),
            }
        }
        fn count(
            section: &'static str,
            group: &'static str,
            name: &'static str,
            unit: &'static str,
            figure: &Figure<u32>,
        ) -> FigureRow {
            FigureRow {
                section,
                group,
                name,
                value: u64::from(figure.value),
                unit,
                confirmed: figure.confirmed,
                source: figure.source.clone(),
            }
        }
        let mut rows = Vec::new();
        for group in [AecaGroup::NatoPlus5, AecaGroup::Other] {
            let fms = self.fms.group(group);
            rows.push(usd("fms", group, "mde", &fms.mde));
            rows.push(usd(
                "fms",
                group,
                "articles_services",
                &fms.articles_services,
            ));
            rows.push(usd(
                "fms",
                group,
                "design_construction",
                &fms.design_construction,
            ));
        }
        for group in [AecaGroup::NatoPlus5, AecaGroup::Other] {
            let dcs = self.dcs.group(group);
            rows.push(usd("dcs", group, "mde", &dcs.mde));
            rows.push(usd(
                "dcs",
                group,
                "articles_services",
                &dcs.articles_services,
            ));
            rows.push(usd("dcs", group, "firearms", &dcs.firearms));
        }
        for group in [AecaGroup::NatoPlus5, AecaGroup::Other] {
            let review = self.review(group);
            rows.push(count(
                "review",
                group.as_str(),
                "formal_days",
                "days",
                &review.formal_days,
            ));
            rows.push(count(
                "review",
                group.as_str(),
                "informal_days",
                "days",
                &review.informal_days,
            ));
        }
        rows.push(count(
            "upgrade",
            "",
            "pre_delivery_report_days",
            "days",
            &self.upgrade.pre_delivery_report_days,
        ));
        rows.push(count(
            "upgrade",
            "",
            "report_window_years",
            "years",
            &self.upgrade.report_window_years,
        ));
        rows
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

    /// Judges a sale on any channel by the named rule set, or by the law in force on its
    /// date.
    ///
    /// # Errors
    /// Unknown rule set, nothing in force, an input the channel does not know, or
    /// inconsistent values.
    pub fn judge(
        &self,
        sale: &SaleCheck,
        rule_set: Option<&str>,
    ) -> Result<NotificationDecision, RuleError> {
        let set = match rule_set {
            Some(id) => self.get(id)?,
            None => self.in_force_on(sale.date)?,
        };
        set.judge(sale)
    }
}

#[cfg(test)]
mod tests;
