//! The stage machine: `(case, event) -> Result<case, TransitionError>`.
//!
//! [`Case::apply`] is the only way a case changes. It enforces, citing the rule each time:
//! dates never go backwards; FMS stages follow the forward path in order; a case that needs
//! an AECA §36(b) notification passes through congressional review and is offered only
//! after the review period ends; an offer is implemented on or before its expiration date;
//! deliveries never exceed what was ordered, and `delivered` comes only when every line is;
//! `closed`, `cancelled`, `expired` and `disapproved` are terminal.

use std::fmt;

use jiff::ToSpan;
use serde::{Deserialize, Serialize};

use crate::Date;
use crate::case::{Agency, CaseId, CaseLine, CaseValues, Channel};
use crate::country::Country;
use crate::money::MoneyError;
use crate::rules::{NotificationCheck, NotificationDecision, RuleBook};
use crate::stage::Stage;

/// What it takes to open a case from a Letter of Request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCase {
    /// Case identifier, e.g. `PL-B-ZAB`.
    pub id: CaseId,
    /// Purchasing country.
    pub purchaser: Country,
    /// Implementing agency.
    pub agency: Agency,
    /// Sale channel (default `fms`).
    #[serde(default)]
    pub channel: Channel,
    /// What is bought.
    pub lines: Vec<CaseLine>,
    /// The day the Letter of Request was received.
    pub lor_received: Date,
    /// Offer validity in days, if not the SAMM default of 85 (reference §2.4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer_expiration_days: Option<u32>,
    /// Whether the emergency waiver of AECA §36(b) applies (reference §3.4).
    #[serde(default)]
    pub emergency: bool,
    /// A rule set to judge the case by instead of the law in force (what-if analysis).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_set: Option<String>,
}

/// A dated event that moves a case. On the wire:
/// `{"date": "2025-01-10", "kind": "advance", "to": "offered"}`. Unknown fields are refused
/// by [`EventKind`]; serde does not support `deny_unknown_fields` beside `flatten` here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The day it happened.
    pub date: Date,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// What happened to a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum EventKind {
    /// The case moves to another stage (including `cancelled`, `expired`, `disapproved`,
    /// `closed`).
    Advance {
        /// The stage it moves to.
        to: Stage,
    },
    /// Units of one line are delivered.
    Deliver {
        /// The line's position in the case, from 0.
        line: usize,
        /// How many units.
        quantity: u32,
    },
    /// The case's units get another priority tier on its production lines from this day:
    /// lower goes first ([`DEFAULT_TIER`] until set). The stage does not change. Tiers are
    /// how capacity is reallocated between buyers of one line: in July 2025 Switzerland
    /// learnt its Patriot deliveries slip because Ukraine's go first
    /// (`reference/fms-2026-update.md` §3 item 5; DESIGN.md, "Production").
    Prioritise {
        /// The new tier, 0 (first) to [`MAX_TIER`].
        tier: u32,
    },
    /// The purchaser is promised a first delivery on this day, as of the event's date (the
    /// LOA's delivery estimate, or a revised one; the latest stands). The stage does not
    /// change. Purchasers ask for reliable dates and early warning of slips: every early
    /// F-16 Block 70 buyer got its jets about two years after the date promised at signing
    /// (`reference/fms-2026-update.md` §3 item 4). The forecast draws the first delivery
    /// from the promise and the fitted slip of promises.
    Promise {
        /// The first delivery promised.
        first_delivery: Date,
    },
}

/// The priority tier of a case nobody prioritised: the forecast's default, behind tier 0
/// (the stated backlog and anything prioritised above every case).
pub const DEFAULT_TIER: u32 = 1;

/// The highest tier a case may be given; a bound so that a typo is refused, not queued last.
pub const MAX_TIER: u32 = 9;

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventKind::Advance { to } => write!(f, "advance to {to}"),
            EventKind::Deliver { line, quantity } => write!(f, "deliver {quantity} of line {line}"),
            EventKind::Prioritise { tier } => write!(f, "prioritise at tier {tier}"),
            EventKind::Promise { first_delivery } => {
                write!(f, "promise the first delivery for {first_delivery}")
            }
        }
    }
}

/// When a stage was entered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Milestone {
    /// The stage.
    pub stage: Stage,
    /// The day it was entered.
    pub date: Date,
}

/// The congressional review a case went through, with the decision behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    /// The notification decision for the case on the day review started.
    pub decision: NotificationDecision,
    /// The first day the LOA may be offered.
    pub earliest_offer: Date,
}

/// A case and everything the stage machine needs to judge its next event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    /// Case identifier.
    pub id: CaseId,
    /// Purchasing country.
    pub purchaser: Country,
    /// Implementing agency.
    pub agency: Agency,
    /// Sale channel.
    pub channel: Channel,
    /// What is bought.
    pub lines: Vec<CaseLine>,
    /// Units delivered so far, per line.
    pub delivered: Vec<u32>,
    /// The current stage.
    pub stage: Stage,
    /// Every stage entered, with its date, in order.
    pub milestones: Vec<Milestone>,
    /// The date of the latest event.
    pub last_event: Date,
    /// Offer validity, days.
    pub offer_expiration_days: u32,
    /// Whether the emergency waiver applies.
    pub emergency: bool,
    /// The rule set chosen instead of the law in force, if any.
    pub rule_set: Option<String>,
    /// The congressional review, once one has started.
    pub review: Option<Review>,
    /// The offer expiration date, once offered.
    pub offer_expires: Option<Date>,
    /// The priority tier set by the latest `prioritise` event, if any ([`Case::tier`]).
    /// Absent from the stored state until set, so cases never prioritised keep their
    /// stored bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_tier: Option<u32>,
    /// The first delivery promised by the latest `promise` event, and that event's day.
    /// Absent until one is recorded, as the tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promise: Option<Promised>,
}

/// A promised first delivery and the day it was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Promised {
    /// The first delivery promised.
    pub first_delivery: Date,
    /// The day the promise was made (the `promise` event's date).
    pub made: Date,
}

/// Why a case cannot be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    /// A case buys something.
    #[error("lines: a case needs at least one line")]
    NoLines,
    /// A line with nothing in it.
    #[error("lines[{0}].quantity: must be at least 1")]
    ZeroQuantity(usize),
    /// A line without an item.
    #[error("lines[{0}].item: must not be empty")]
    EmptyItem(usize),
    /// Values too large.
    #[error("lines: {0}")]
    Money(#[from] MoneyError),
}

/// A rule that forbids a transition; each names its source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Rule {
    /// Events are dated and never go backwards.
    DateBeforeLastEvent {
        /// The latest event's date.
        last_event: Date,
    },
    /// Nothing follows a terminal stage.
    TerminalStage,
    /// FMS stages follow the forward path one at a time.
    NotNextStage {
        /// The stage that must come next.
        expected: Stage,
    },
    /// The case cannot move back or skip to a stage that does not follow.
    NotForward,
    /// Notification is required, so the case must go through congressional review.
    ReviewRequired,
    /// No notification is required, so there is no review to enter.
    ReviewNotRequired,
    /// Only FMS cases are notified under §36(b).
    ReviewOnlyForFms,
    /// The review period has not ended.
    ReviewNotEnded {
        /// The first day the offer may go out.
        earliest_offer: Date,
    },
    /// The offer expired before it was implemented.
    OfferExpired {
        /// The offer expiration date.
        offer_expires: Date,
    },
    /// An offer expires only after its expiration date.
    OfferNotYetExpired {
        /// The offer expiration date.
        offer_expires: Date,
    },
    /// Only Congress disapproves, during its review.
    DisapprovalOnlyInReview,
    /// Only an offered case expires.
    ExpiryOnlyWhenOffered,
    /// `delivered` follows the delivery of every line.
    DeliveredNeedsEveryLine,
    /// A delivered case is closed, not cancelled.
    DeliveredCannotBeCancelled,
    /// Deliveries need a contract.
    DeliveryBeforeContract,
    /// No such line.
    UnknownLine {
        /// Lines in the case.
        lines: usize,
    },
    /// A delivery of nothing.
    EmptyDelivery,
    /// More than was ordered.
    DeliveryExceedsOrder {
        /// Units still to deliver on the line.
        remaining: u32,
    },
    /// A priority tier beyond the highest.
    TierOutOfRange {
        /// The highest tier.
        max: u32,
    },
    /// A promised first delivery before the day it is made.
    PromiseInThePast,
    /// The first delivery has happened: there is no first delivery left to promise.
    PromiseAfterFirstDelivery,
    /// The notification check itself failed.
    NotificationCheckFailed {
        /// Why.
        reason: String,
    },
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::DateBeforeLastEvent { last_event } => {
                write!(f, "events may not be dated before the latest event ({last_event})")
            }
            Rule::TerminalStage => f.write_str("the stage is terminal: no event can follow it"),
            Rule::NotNextStage { expected } => {
                write!(f, "FMS stages follow the forward path in order; the next stage is {expected} (reference §1.1)")
            }
            Rule::NotForward => f.write_str("a case only moves forward along its stages"),
            Rule::ReviewRequired => f.write_str(
                "the sale reaches an AECA §36(b) threshold, so it must pass congressional review before the offer (legacy SAMM C5.5.1, reference §1.2 stage 4)",
            ),
            Rule::ReviewNotRequired => f.write_str(
                "the sale reaches no AECA §36(b) threshold, so there is no congressional review (reference §3.2)",
            ),
            Rule::ReviewOnlyForFms => f.write_str(
                "congressional review under AECA §36(b) applies to FMS cases; §36(c) review of direct commercial sales is not modelled",
            ),
            Rule::ReviewNotEnded { earliest_offer } => write!(
                f,
                "the LOA may be offered only once the congressional review period has ended, on or after {earliest_offer} (AECA §36(b), reference §3.2–3.3)"
            ),
            Rule::OfferExpired { offer_expires } => write!(
                f,
                "the offer expired on {offer_expires}; an LOA must be accepted and implemented by its offer expiration date (reference §2.4)"
            ),
            Rule::OfferNotYetExpired { offer_expires } => write!(
                f,
                "the offer is valid until {offer_expires}; it expires only after that date (reference §2.4)"
            ),
            Rule::DisapprovalOnlyInReview => {
                f.write_str("Congress disapproves a sale only during its review (reference §1.2 stage 4)")
            }
            Rule::ExpiryOnlyWhenOffered => f.write_str("only an offered LOA can expire (reference §2.4)"),
            Rule::DeliveredNeedsEveryLine => f.write_str(
                "a case is delivered when its last line is delivered; record deliveries with deliver events",
            ),
            Rule::DeliveredCannotBeCancelled => {
                f.write_str("a delivered case can only be closed (reference §1.2 stage 13)")
            }
            Rule::DeliveryBeforeContract => {
                f.write_str("deliveries are recorded only once the case is on contract")
            }
            Rule::UnknownLine { lines } => write!(f, "the case has {lines} line(s), numbered from 0"),
            Rule::EmptyDelivery => f.write_str("a delivery has at least one unit"),
            Rule::DeliveryExceedsOrder { remaining } => {
                write!(f, "only {remaining} unit(s) remain to be delivered on that line")
            }
            Rule::TierOutOfRange { max } => write!(f, "a priority tier is from 0 (first) to {max}"),
            Rule::PromiseInThePast => {
                f.write_str("a first delivery is promised for the day the promise is made or later")
            }
            Rule::PromiseAfterFirstDelivery => f.write_str(
                "the first delivery has happened, so there is no first delivery left to promise",
            ),
            Rule::NotificationCheckFailed { reason } => write!(f, "notification check failed: {reason}"),
        }
    }
}

/// A rejected event: the stage the case was in, the event, and the rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("case {case} in stage {stage}: cannot {event}: {rule}")]
pub struct TransitionError {
    /// The case.
    pub case: CaseId,
    /// Its stage when the event arrived.
    pub stage: Stage,
    /// The event, described.
    pub event: String,
    /// The rule broken.
    pub rule: Rule,
}

impl Case {
    /// Opens a case in `lor_received` on the day its Letter of Request arrived.
    ///
    /// # Errors
    /// [`CaseError`] naming the field: no lines, an empty item, a zero quantity, or values
    /// too large to add up.
    pub fn open(new: NewCase, rules: &RuleBook) -> Result<Case, CaseError> {
        if new.lines.is_empty() {
            return Err(CaseError::NoLines);
        }
        for (position, line) in new.lines.iter().enumerate() {
            if line.item.trim().is_empty() {
                return Err(CaseError::EmptyItem(position));
            }
            if line.quantity == 0 {
                return Err(CaseError::ZeroQuantity(position));
            }
        }
        CaseValues::of_lines(&new.lines)?;
        let default_validity = rules.samm().offer_expiration_days.value;
        Ok(Case {
            delivered: vec![0; new.lines.len()],
            id: new.id,
            purchaser: new.purchaser,
            agency: new.agency,
            channel: new.channel,
            lines: new.lines,
            stage: Stage::LorReceived,
            milestones: vec![Milestone {
                stage: Stage::LorReceived,
                date: new.lor_received,
            }],
            last_event: new.lor_received,
            offer_expiration_days: new.offer_expiration_days.unwrap_or(default_validity),
            emergency: new.emergency,
            rule_set: new.rule_set,
            review: None,
            offer_expires: None,
            priority_tier: None,
            promise: None,
        })
    }

    /// Applies one event, returning the new case or the rule that forbids it. The case
    /// itself is never changed: a rejected event leaves nothing behind.
    ///
    /// # Errors
    /// [`TransitionError`] naming the stage, the event and the rule.
    pub fn apply(&self, event: &Event, rules: &RuleBook) -> Result<Case, TransitionError> {
        let reject = |rule| TransitionError {
            case: self.id.clone(),
            stage: self.stage,
            event: event.kind.to_string(),
            rule,
        };
        if self.stage.is_terminal() {
            return Err(reject(Rule::TerminalStage));
        }
        if event.date < self.last_event {
            return Err(reject(Rule::DateBeforeLastEvent {
                last_event: self.last_event,
            }));
        }
        let mut next = self.clone();
        next.last_event = event.date;
        match event.kind {
            EventKind::Advance { to } => next.advance(to, event.date, rules).map_err(reject)?,
            EventKind::Deliver { line, quantity } => {
                next.deliver(line, quantity, event.date).map_err(reject)?;
            }
            EventKind::Prioritise { tier } => {
                if tier > MAX_TIER {
                    return Err(reject(Rule::TierOutOfRange { max: MAX_TIER }));
                }
                next.priority_tier = Some(tier);
            }
            EventKind::Promise { first_delivery } => {
                if first_delivery < event.date {
                    return Err(reject(Rule::PromiseInThePast));
                }
                if self.delivered.iter().any(|&units| units > 0) {
                    return Err(reject(Rule::PromiseAfterFirstDelivery));
                }
                next.promise = Some(Promised {
                    first_delivery,
                    made: event.date,
                });
            }
        }
        Ok(next)
    }

    /// The notification decision for this case on `day`.
    ///
    /// # Errors
    /// The rule book's error, as text.
    pub fn notification_on(
        &self,
        day: Date,
        rules: &RuleBook,
    ) -> Result<NotificationDecision, String> {
        let values = CaseValues::of_lines(&self.lines).map_err(|error| error.to_string())?;
        let check = NotificationCheck {
            purchaser: self.purchaser,
            date: day,
            values,
            emergency: self.emergency,
        };
        rules
            .check(&check, self.rule_set.as_deref())
            .map_err(|error| error.to_string())
    }

    /// The day the case entered `stage`, if it has.
    pub fn entered(&self, stage: Stage) -> Option<Date> {
        self.milestones
            .iter()
            .rev()
            .find(|milestone| milestone.stage == stage)
            .map(|m| m.date)
    }

    /// The case's priority tier on its production lines: the latest `prioritise` event's,
    /// else [`DEFAULT_TIER`].
    pub fn tier(&self) -> u32 {
        self.priority_tier.unwrap_or(DEFAULT_TIER)
    }

    /// Whether every line is fully delivered.
    pub fn fully_delivered(&self) -> bool {
        self.lines
            .iter()
            .zip(&self.delivered)
            .all(|(line, &done)| done == line.quantity)
    }

    fn enter(&mut self, stage: Stage, day: Date) {
        self.stage = stage;
        self.milestones.push(Milestone { stage, date: day });
    }

    fn advance(&mut self, to: Stage, day: Date, rules: &RuleBook) -> Result<(), Rule> {
        match to {
            Stage::Cancelled if self.stage == Stage::Delivered => {
                Err(Rule::DeliveredCannotBeCancelled)
            }
            Stage::Cancelled => {
                self.enter(to, day);
                Ok(())
            }
            Stage::Disapproved if self.stage != Stage::CongressionalReview => {
                Err(Rule::DisapprovalOnlyInReview)
            }
            Stage::Expired => self.expire(day),
            Stage::Delivering | Stage::Delivered => Err(Rule::DeliveredNeedsEveryLine),
            Stage::Closed if self.stage != Stage::Delivered => Err(Rule::DeliveredNeedsEveryLine),
            _ => self.advance_forward(to, day, rules),
        }
    }

    fn expire(&mut self, day: Date) -> Result<(), Rule> {
        let offer_expires = match (self.stage, self.offer_expires) {
            (Stage::Offered, Some(expires)) => expires,
            _ => return Err(Rule::ExpiryOnlyWhenOffered),
        };
        if day <= offer_expires {
            return Err(Rule::OfferNotYetExpired { offer_expires });
        }
        self.enter(Stage::Expired, day);
        Ok(())
    }

    fn advance_forward(&mut self, to: Stage, day: Date, rules: &RuleBook) -> Result<(), Rule> {
        if to == Stage::Disapproved {
            self.enter(to, day);
            return Ok(());
        }
        let (Some(from), Some(target)) = (self.stage.forward_position(), to.forward_position())
        else {
            return Err(Rule::NotForward);
        };
        if target <= from {
            return Err(Rule::NotForward);
        }
        match self.channel {
            Channel::Fms => self.check_fms_step(to, day, rules)?,
            Channel::Dcs | Channel::G2g if to == Stage::CongressionalReview => {
                return Err(Rule::ReviewOnlyForFms);
            }
            Channel::Dcs | Channel::G2g => {}
        }
        match to {
            Stage::Offered => self.offer_expires = Some(self.offer_deadline(day)),
            Stage::Implemented => {
                if let Some(offer_expires) = self.offer_expires.filter(|&expires| day > expires) {
                    return Err(Rule::OfferExpired { offer_expires });
                }
            }
            _ => {}
        }
        self.enter(to, day);
        Ok(())
    }

    fn offer_deadline(&self, offered: Date) -> Date {
        offered.saturating_add(i64::from(self.offer_expiration_days).days())
    }

    /// FMS cases take one stage at a time; congressional review is entered exactly when
    /// §36(b) requires a notification, and the offer waits for its end.
    fn check_fms_step(&mut self, to: Stage, day: Date, rules: &RuleBook) -> Result<(), Rule> {
        let expected = self.next_fms_stage(day, rules)?;
        if to != expected {
            return Err(match (expected, to) {
                (Stage::CongressionalReview, _) => Rule::ReviewRequired,
                (Stage::Offered, Stage::CongressionalReview) => Rule::ReviewNotRequired,
                _ => Rule::NotNextStage { expected },
            });
        }
        if to == Stage::CongressionalReview {
            let decision = self
                .notification_on(day, rules)
                .map_err(|reason| Rule::NotificationCheckFailed { reason })?;
            let days = i64::from(decision.earliest_offer_after_notification_days);
            self.review = Some(Review {
                earliest_offer: day.saturating_add(days.days()),
                decision,
            });
        }
        if to == Stage::Offered
            && let Some(review) = self
                .review
                .as_ref()
                .filter(|review| day < review.earliest_offer)
        {
            return Err(Rule::ReviewNotEnded {
                earliest_offer: review.earliest_offer,
            });
        }
        Ok(())
    }

    fn next_fms_stage(&self, day: Date, rules: &RuleBook) -> Result<Stage, Rule> {
        if self.stage == Stage::LoaDevelopment {
            let decision = self
                .notification_on(day, rules)
                .map_err(|reason| Rule::NotificationCheckFailed { reason })?;
            return Ok(if decision.notification_required {
                Stage::CongressionalReview
            } else {
                Stage::Offered
            });
        }
        let position = self.stage.forward_position().ok_or(Rule::NotForward)?;
        Stage::FORWARD
            .get(position + 1)
            .copied()
            .ok_or(Rule::TerminalStage)
    }

    fn deliver(&mut self, line: usize, quantity: u32, day: Date) -> Result<(), Rule> {
        if !matches!(self.stage, Stage::OnContract | Stage::Delivering) {
            return Err(Rule::DeliveryBeforeContract);
        }
        let ordered = self
            .lines
            .get(line)
            .ok_or(Rule::UnknownLine {
                lines: self.lines.len(),
            })?
            .quantity;
        if quantity == 0 {
            return Err(Rule::EmptyDelivery);
        }
        let remaining = ordered - self.delivered[line];
        if quantity > remaining {
            return Err(Rule::DeliveryExceedsOrder { remaining });
        }
        self.delivered[line] += quantity;
        if self.stage == Stage::OnContract {
            self.enter(Stage::Delivering, day);
        }
        if self.fully_delivered() {
            self.enter(Stage::Delivered, day);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
