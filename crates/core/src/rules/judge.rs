//! Judging one sale under a rule set: AECA §36(b) FMS (with the §36(b)(6) new-territory
//! condition and §36(b)(5) upgrades), §36(c) direct commercial sales and §36(d)
//! manufacturing licence and technical assistance agreements (update §1).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{RuleError, RuleSet};
use crate::Date;
use crate::case::CaseValues;
use crate::country::{AecaGroup, Country};
use crate::money::Usd;

/// How the sale is made, which decides the paragraph of §36 that applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// Foreign Military Sale under an LOA: §36(b).
    #[default]
    Fms,
    /// Direct commercial sale under an export licence: §36(c).
    Dcs,
    /// Manufacturing licence or technical assistance agreement for significant combat
    /// equipment made abroad: §36(d).
    Mla,
}

impl Channel {
    /// The wire name: `fms`, `dcs` or `mla`.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Fms => "fms",
            Channel::Dcs => "dcs",
            Channel::Mla => "mla",
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Channel {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "fms" => Ok(Channel::Fms),
            "dcs" => Ok(Channel::Dcs),
            "mla" => Ok(Channel::Mla),
            _ => Err(format!(
                "unknown channel '{text}': expected fms, dcs or mla"
            )),
        }
    }
}

/// The inputs of a check that only some channels know; named in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaleInput {
    /// Value of the Major Defense Equipment.
    Mde,
    /// Total of defense articles and services.
    Total,
    /// Design and construction services.
    DesignConstruction,
    /// USML Category I firearms.
    Firearms,
    /// Countries of the sales territory.
    Territory,
    /// An enhancement or upgrade of a notified sale.
    Upgrade,
}

impl SaleInput {
    /// The command-line flag.
    pub fn flag(self) -> &'static str {
        match self {
            SaleInput::Mde => "--mde-usd",
            SaleInput::Total => "--total-usd",
            SaleInput::DesignConstruction => "--dc-usd",
            SaleInput::Firearms => "--firearms-usd",
            SaleInput::Territory => "--territory",
            SaleInput::Upgrade => "--upgrade",
        }
    }

    /// The JSON key.
    pub fn key(self) -> &'static str {
        match self {
            SaleInput::Mde => "mde_usd",
            SaleInput::Total => "total_usd",
            SaleInput::DesignConstruction => "dc_usd",
            SaleInput::Firearms => "firearms_usd",
            SaleInput::Territory => "territory",
            SaleInput::Upgrade => "upgrade",
        }
    }
}

/// The threshold categories of §36(b)(1) and §36(c)(1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Threshold {
    /// Major Defense Equipment.
    Mde,
    /// Defense articles and services.
    ArticlesServices,
    /// Design and construction services (FMS only).
    DesignConstruction,
    /// USML Category I firearms (DCS only).
    Firearms,
}

impl Threshold {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Threshold::Mde => "mde",
            Threshold::ArticlesServices => "articles_services",
            Threshold::DesignConstruction => "design_construction",
            Threshold::Firearms => "firearms",
        }
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A proposed Foreign Military Sale to judge under §36(b)(1): the check the case machine and
/// the forecast make. [`SaleCheck`] is the full question on any channel.
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

/// A proposed sale on any channel. Values that were not given are `None`, so that an input
/// the channel does not know is an error rather than silently ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleCheck {
    /// The purchasing country.
    pub purchaser: Country,
    /// The date the sale is judged on (group membership and rule set are taken on it).
    pub date: Date,
    /// FMS, DCS or MLA.
    pub channel: Channel,
    /// Major Defense Equipment value (FMS, DCS).
    pub mde: Option<Usd>,
    /// Total of defense articles and services, MDE and firearms included (FMS, DCS). When
    /// not given, the sale is taken to be nothing but its MDE and firearms: their sum.
    pub articles_services: Option<Usd>,
    /// Design and construction services (FMS).
    pub design_construction: Option<Usd>,
    /// USML Category I firearms (DCS).
    pub firearms: Option<Usd>,
    /// The countries of the sales territory besides the purchaser (FMS, DCS; §36(b)(6)).
    pub territory: Vec<Country>,
    /// An enhancement or upgrade of a notified sale (FMS; §36(b)(5)).
    pub upgrade: bool,
    /// Whether the President invokes the emergency waiver (reference §3.4).
    pub emergency: bool,
}

impl SaleCheck {
    /// A sale with no values, no territory, no upgrade and no emergency.
    pub fn new(purchaser: Country, date: Date, channel: Channel) -> SaleCheck {
        SaleCheck {
            purchaser,
            date,
            channel,
            mde: None,
            articles_services: None,
            design_construction: None,
            firearms: None,
            territory: Vec::new(),
            upgrade: false,
            emergency: false,
        }
    }
}

impl From<&NotificationCheck> for SaleCheck {
    fn from(check: &NotificationCheck) -> SaleCheck {
        SaleCheck {
            mde: Some(check.values.mde),
            articles_services: Some(check.values.articles_services),
            design_construction: Some(check.values.design_construction),
            emergency: check.emergency,
            ..SaleCheck::new(check.purchaser, check.date, Channel::Fms)
        }
    }
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
    /// The purchaser's AECA group on that date (it decides the review period).
    pub group: AecaGroup,
    /// Whether a notification is required (always, for an MLA).
    pub notification_required: bool,
    /// Which thresholds the sale reaches (none for an MLA, which has none).
    pub thresholds_crossed: Vec<Threshold>,
    /// Informal ("tiered") review, days: it comes before the formal notification and is not
    /// counted in the earliest offer (zero if no notification or emergency; FMS only).
    pub informal_review_days: u32,
    /// Formal review period, days (zero if no notification or emergency).
    pub formal_review_days: u32,
    /// Days from the formal notification to the first day the LOA may be offered (for DCS,
    /// the licence issued; for an MLA, the agreement approved): the formal review period.
    pub earliest_offer_after_notification_days: u32,
    /// Whether the emergency waiver set the review periods to zero.
    pub emergency_waiver: bool,
    /// The legal source.
    pub citation: String,
    /// FMS, DCS or MLA.
    #[serde(default)]
    pub channel: Channel,
    /// Whether the sales territory includes a country outside NATO+5, so that the general
    /// thresholds apply even to a NATO+5 purchaser (§36(b)(6), §36(c)(5)).
    #[serde(default)]
    pub territory_outside_nato_plus_5: bool,
    /// For an upgrade: the report of §36(b)(5)(A) reaches Congress at least this many days
    /// before delivery (for deliveries within 10 years of the original certification).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_delivery_report_days: Option<u32>,
}

impl RuleSet {
    /// Judges one proposed Foreign Military Sale (AECA §36(b)(1); thresholds are "or more").
    ///
    /// # Errors
    /// [`RuleError::MdeAboveTotal`] when the values are inconsistent.
    pub fn check(&self, sale: &NotificationCheck) -> Result<NotificationDecision, RuleError> {
        self.judge(&SaleCheck::from(sale))
    }

    /// Judges one proposed sale on its channel (update §1).
    ///
    /// # Errors
    /// [`RuleError::NotForChannel`] for an input the channel's paragraph does not know;
    /// [`RuleError::MdeAboveTotal`] or [`RuleError::FirearmsAboveTotal`] when the values are
    /// inconsistent.
    pub fn judge(&self, sale: &SaleCheck) -> Result<NotificationDecision, RuleError> {
        reject_inputs_the_channel_does_not_know(sale)?;
        let mde = sale.mde.unwrap_or(Usd::ZERO);
        let firearms = sale.firearms.unwrap_or(Usd::ZERO);
        let total = match sale.articles_services {
            Some(total) => total,
            // Overflow is impossible from parsed amounts; if it happened the MDE alone is
            // the smallest honest total.
            None => mde.checked_add(firearms).unwrap_or(mde),
        };
        if mde > total {
            return Err(RuleError::MdeAboveTotal { mde, total });
        }
        if firearms > total {
            return Err(RuleError::FirearmsAboveTotal { firearms, total });
        }
        let design_construction = sale.design_construction.unwrap_or(Usd::ZERO);

        let group = sale.purchaser.aeca_group_on(sale.date);
        // §36(b)(6), §36(c)(5): the NATO+5 figures hold only if the sales territory stays
        // inside NATO+5; the review period still follows the purchaser (update §1.1, §1.3).
        let territory_outside_nato_plus_5 = sale.territory.iter().any(|&country| {
            country != sale.purchaser && country.aeca_group_on(sale.date) == AecaGroup::Other
        });
        let threshold_group = if territory_outside_nato_plus_5 {
            AecaGroup::Other
        } else {
            group
        };
        let candidates: Vec<(Threshold, Usd, Usd)> = match sale.channel {
            Channel::Fms => {
                let figures = self.fms().group(threshold_group);
                vec![
                    (Threshold::Mde, mde, figures.mde.value),
                    (
                        Threshold::ArticlesServices,
                        total,
                        figures.articles_services.value,
                    ),
                    (
                        Threshold::DesignConstruction,
                        design_construction,
                        figures.design_construction.value,
                    ),
                ]
            }
            Channel::Dcs => {
                let figures = self.dcs().group(threshold_group);
                vec![
                    (Threshold::Mde, mde, figures.mde.value),
                    (
                        Threshold::ArticlesServices,
                        total,
                        figures.articles_services.value,
                    ),
                    (Threshold::Firearms, firearms, figures.firearms.value),
                ]
            }
            Channel::Mla => Vec::new(),
        };
        let thresholds_crossed: Vec<Threshold> = candidates
            .into_iter()
            .filter(|&(_, value, threshold)| value >= threshold)
            .map(|(threshold, _, _)| threshold)
            .collect();
        // §36(d) has no dollar threshold: every such agreement is notified (update §1.5).
        let notification_required = sale.channel == Channel::Mla || !thresholds_crossed.is_empty();
        let reviewed = notification_required && !sale.emergency;
        let periods = self.review(group);
        let formal_review_days = if reviewed {
            periods.formal_days.value
        } else {
            0
        };
        // The informal review is described for FMS only (legacy SAMM C5.5.3, reference §3.3).
        let informal_review_days = if reviewed && sale.channel == Channel::Fms {
            periods.informal_days.value
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
            // Counted from the formal notification: the informal review precedes it
            // (update §1.3).
            earliest_offer_after_notification_days: formal_review_days,
            emergency_waiver: notification_required && sale.emergency,
            citation: self.channel_citation(sale.channel).to_owned(),
            channel: sale.channel,
            territory_outside_nato_plus_5,
            pre_delivery_report_days: sale
                .upgrade
                .then_some(self.upgrade().pre_delivery_report_days.value),
        })
    }
}

fn reject_inputs_the_channel_does_not_know(sale: &SaleCheck) -> Result<(), RuleError> {
    let not_for = |input: SaleInput, why: &'static str| RuleError::NotForChannel {
        input,
        channel: sale.channel,
        why,
    };
    match sale.channel {
        Channel::Fms => {
            if sale.firearms.is_some() {
                return Err(not_for(
                    SaleInput::Firearms,
                    "the Category I firearms threshold is a §36(c) export-licence threshold; use --channel dcs",
                ));
            }
        }
        Channel::Dcs => {
            if sale.design_construction.is_some() {
                return Err(not_for(
                    SaleInput::DesignConstruction,
                    "§36(c) has no design-and-construction category",
                ));
            }
            if sale.upgrade {
                return Err(not_for(
                    SaleInput::Upgrade,
                    "enhancements and upgrades of §36(b)(5) are Foreign Military Sales",
                ));
            }
        }
        Channel::Mla => {
            let no_dollars = "§36(d) has no dollar threshold: every such agreement is notified";
            for (given, input) in [
                (sale.mde.is_some(), SaleInput::Mde),
                (sale.articles_services.is_some(), SaleInput::Total),
                (
                    sale.design_construction.is_some(),
                    SaleInput::DesignConstruction,
                ),
                (sale.firearms.is_some(), SaleInput::Firearms),
            ] {
                if given {
                    return Err(not_for(input, no_dollars));
                }
            }
            if !sale.territory.is_empty() {
                return Err(not_for(
                    SaleInput::Territory,
                    "§36(d) has no new-sales-territory condition",
                ));
            }
            if sale.upgrade {
                return Err(not_for(
                    SaleInput::Upgrade,
                    "enhancements and upgrades of §36(b)(5) are Foreign Military Sales",
                ));
            }
        }
    }
    Ok(())
}
