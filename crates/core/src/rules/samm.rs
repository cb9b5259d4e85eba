//! SAMM time standards (reference §2), each value labelled with its source and confidence.

use serde::{Deserialize, Serialize};

use super::RuleError;

const SAMM_FILE: &str = include_str!("samm.toml");

/// How sure the reference is of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// Read in an official or primary source.
    Confirmed,
    /// Found only in low-reliability copies.
    Low,
    /// Widely repeated, not verified.
    Unconfirmed,
}

impl Confidence {
    /// Confirmed or assumed, as the metrics tables and the report print it.
    pub fn in_words(self) -> &'static str {
        match self {
            Confidence::Confirmed => "confirmed",
            Confidence::Low => "assumed (low-reliability source)",
            Confidence::Unconfirmed => "assumed (unconfirmed)",
        }
    }
}

/// A number with its source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sourced {
    /// The value (days).
    pub value: u32,
    /// How sure we are.
    pub confidence: Confidence,
    /// Where it comes from.
    pub source: String,
}

/// An Anticipated Offer Date group (SAMM Table C5.T6, reference §2.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AodGroup {
    /// A, B, C or D.
    pub group: String,
    /// Which documents it covers.
    pub scope: String,
    /// LOR-complete to offer target, days, where one is known.
    #[serde(default)]
    pub target_days: Option<u32>,
    /// How sure we are.
    pub confidence: Confidence,
    /// Where it comes from.
    pub source: String,
}

/// The SAMM standards expedite applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SammStandards {
    /// The date of the newest source cited: the standards are as of then.
    pub as_of: crate::Date,
    /// Default offer validity (offer expiration date = offer + this).
    pub offer_expiration_days: Sourced,
    /// Offer validity for Building Partner Capacity cases.
    pub bpc_offer_expiration_days: Sourced,
    /// LOR acknowledgement target.
    pub lor_acknowledgement_days: Sourced,
    /// Supply complete to closure.
    pub closure_after_supply_complete_days: Sourced,
    /// LOA processing targets by AOD group.
    pub aod_groups: Vec<AodGroup>,
}

impl SammStandards {
    /// The compiled-in standards.
    ///
    /// # Errors
    /// [`RuleError::InvalidRuleFile`] if the compiled-in file is broken.
    pub fn builtin() -> Result<SammStandards, RuleError> {
        toml::from_str(SAMM_FILE).map_err(|error| RuleError::InvalidRuleFile {
            file: "samm.toml".to_owned(),
            message: error.to_string(),
        })
    }

    /// The LOA processing target for an AOD group letter, if known.
    pub fn aod_target_days(&self, group: &str) -> Option<u32> {
        self.aod_groups
            .iter()
            .find(|candidate| candidate.group.eq_ignore_ascii_case(group))
            .and_then(|found| found.target_days)
    }
}
