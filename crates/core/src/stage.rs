//! The stages of a case (DESIGN.md, "Domain in brief"; reference §1.1).

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where a case is. The forward path is
/// `lor_received → lor_actionable → loa_development → congressional_review → offered →
/// implemented → on_contract → delivering → delivered → closed`; `cancelled`, `expired`
/// and `disapproved` end a case early.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// The Letter of Request has been received (reference §1.2, stage 1).
    LorReceived,
    /// The LOR has been validated as actionable (SAMM C5.1.7).
    LorActionable,
    /// The Letter of Offer and Acceptance is being written (stage 3).
    LoaDevelopment,
    /// Congress reviews the proposed sale under AECA §36(b) (stage 4).
    CongressionalReview,
    /// The LOA has been offered and carries an offer expiration date (stage 5).
    Offered,
    /// Accepted, deposit paid, obligational authority issued (stages 6–8).
    Implemented,
    /// The implementing agency has awarded the production contract (stage 9).
    OnContract,
    /// Some, not all, of the case lines have been delivered (stages 10–11).
    Delivering,
    /// Every line is delivered (supply complete).
    Delivered,
    /// Closed after final accounting (stage 13).
    Closed,
    /// Withdrawn by the purchaser or the US government.
    Cancelled,
    /// The offer was not accepted by its expiration date (reference §2.4).
    Expired,
    /// Congress blocked the sale by joint resolution (reference §1.2, stage 4).
    Disapproved,
}

/// A stage name that does not exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown stage '{0}': expected one of {list}", list = Stage::names().join(", "))]
pub struct UnknownStage(pub String);

impl Stage {
    /// Every stage, the forward path first and the early ends last.
    pub const ALL: [Stage; 13] = [
        Stage::LorReceived,
        Stage::LorActionable,
        Stage::LoaDevelopment,
        Stage::CongressionalReview,
        Stage::Offered,
        Stage::Implemented,
        Stage::OnContract,
        Stage::Delivering,
        Stage::Delivered,
        Stage::Closed,
        Stage::Cancelled,
        Stage::Expired,
        Stage::Disapproved,
    ];

    /// The forward path in order.
    pub const FORWARD: [Stage; 10] = [
        Stage::LorReceived,
        Stage::LorActionable,
        Stage::LoaDevelopment,
        Stage::CongressionalReview,
        Stage::Offered,
        Stage::Implemented,
        Stage::OnContract,
        Stage::Delivering,
        Stage::Delivered,
        Stage::Closed,
    ];

    /// The wire name, e.g. `loa_development`.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::LorReceived => "lor_received",
            Stage::LorActionable => "lor_actionable",
            Stage::LoaDevelopment => "loa_development",
            Stage::CongressionalReview => "congressional_review",
            Stage::Offered => "offered",
            Stage::Implemented => "implemented",
            Stage::OnContract => "on_contract",
            Stage::Delivering => "delivering",
            Stage::Delivered => "delivered",
            Stage::Closed => "closed",
            Stage::Cancelled => "cancelled",
            Stage::Expired => "expired",
            Stage::Disapproved => "disapproved",
        }
    }

    /// All wire names, for error messages.
    pub fn names() -> Vec<&'static str> {
        Stage::ALL.iter().map(|stage| stage.as_str()).collect()
    }

    /// Reads a wire name.
    ///
    /// # Errors
    /// [`UnknownStage`] naming the text and the valid names.
    pub fn parse(text: &str) -> Result<Stage, UnknownStage> {
        Stage::ALL
            .into_iter()
            .find(|stage| stage.as_str() == text.trim())
            .ok_or_else(|| UnknownStage(text.to_owned()))
    }

    /// Position on the forward path; `None` for the early ends.
    pub fn forward_position(self) -> Option<usize> {
        Stage::FORWARD.iter().position(|&stage| stage == self)
    }

    /// Whether no event can move a case out of this stage.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Stage::Closed | Stage::Cancelled | Stage::Expired | Stage::Disapproved
        )
    }

    /// Whether the case has a production contract (it is on contract or later on the
    /// forward path).
    pub fn is_on_contract_or_later(self) -> bool {
        self.forward_position()
            .is_some_and(|position| position >= Stage::OnContract.forward_position().unwrap_or(6))
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Stage {
    type Err = UnknownStage;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Stage::parse(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip() {
        for stage in Stage::ALL {
            assert_eq!(Stage::parse(stage.as_str()), Ok(stage));
            let json = format!("\"{stage}\"");
            assert_eq!(serde_json::from_str::<Stage>(&json).ok(), Some(stage));
        }
    }

    #[test]
    fn unknown_stage_lists_the_valid_ones() {
        let message = Stage::parse("shipped")
            .expect_err("no such stage")
            .to_string();
        assert!(message.contains("'shipped'") && message.contains("on_contract"));
    }
}
