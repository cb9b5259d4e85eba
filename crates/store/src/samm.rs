//! When a case is late against the SAMM targets.
//!
//! A case awaiting its Letter of Request's validation is due `lor_acknowledgement_days`
//! after the LOR arrived (SAMM: acknowledge and validate within 5 days, reference §2.1).
//! Once actionable and until offered, its offer is due the AOD Group B target after the LOR
//! became actionable (100 days for defined-order LOAs, reference §2.3): cases carry no AOD
//! group yet, and B is the group of the ordinary defined-order LOA. After the offer no
//! SAMM processing target applies.

use expedite_core::machine::Case;
use expedite_core::rules::SammStandards;
use expedite_core::{Date, Stage};
use jiff::ToSpan;

/// The AOD group whose target a case is judged by.
pub const DEFAULT_AOD_GROUP: &str = "B";

/// The day the case's next SAMM target falls due, while one applies.
pub fn samm_due(case: &Case, samm: &SammStandards) -> Option<Date> {
    let (since, days) = match case.stage {
        Stage::LorReceived => (
            case.entered(Stage::LorReceived)?,
            samm.lor_acknowledgement_days.value,
        ),
        Stage::LorActionable | Stage::LoaDevelopment | Stage::CongressionalReview => (
            case.entered(Stage::LorActionable)?,
            samm.aod_target_days(DEFAULT_AOD_GROUP)?,
        ),
        _ => return None,
    };
    Some(since.saturating_add(i64::from(days).days()))
}
