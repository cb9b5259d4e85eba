//! `POST /api/v1/rules/notification`: the check `expedite rules check` makes.

use axum::Json;
use axum::extract::State;
use expedite_core::case::CaseValues;
use expedite_core::rules::{NotificationDecision, RuleError};
use expedite_core::{Country, Date, NotificationCheck, Usd};

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::input::{Checks, JsonObject, reject_unknown};

const FIELDS: [&str; 7] = [
    "purchaser",
    "date",
    "mde_usd",
    "total_usd",
    "dc_usd",
    "emergency",
    "rule_set",
];

/// Must Congress be notified of this sale, and when can the offer go out?
pub async fn notification(
    State(state): State<AppState>,
    caller: Caller,
    JsonObject(body): JsonObject,
) -> Result<Json<NotificationDecision>, ApiError> {
    if caller.role() == expedite_store::Role::Purchaser {
        return Err(ApiError::Forbidden("use the rules endpoints"));
    }
    reject_unknown(&body, &FIELDS, "")?;
    let mut checks = Checks::default();
    let purchaser = checks.required::<Country>(&body, "", "purchaser");
    let date = checks.required::<Date>(&body, "", "date");
    let mut amount = |key| checks.optional::<Usd>(&body, "", key).unwrap_or(Usd::ZERO);
    let values = CaseValues {
        mde: amount("mde_usd"),
        articles_services: amount("total_usd"),
        design_construction: amount("dc_usd"),
    };
    let emergency = checks
        .optional::<bool>(&body, "", "emergency")
        .unwrap_or(false);
    let rule_set = checks.optional::<String>(&body, "", "rule_set");
    checks.finish()?;
    let (Some(purchaser), Some(date)) = (purchaser, date) else {
        return Err(ApiError::invalid("body", "purchaser and date are required"));
    };
    let check = NotificationCheck {
        purchaser,
        date,
        values,
        emergency,
    };
    state
        .rules
        .check(&check, rule_set.as_deref())
        .map(Json)
        .map_err(|error| match error {
            RuleError::UnknownRuleSet { .. } => ApiError::invalid("rule_set", error.to_string()),
            RuleError::MdeAboveTotal { .. } => ApiError::invalid("mde_usd", error.to_string()),
            RuleError::NothingInForce(_) => ApiError::invalid("date", error.to_string()),
            RuleError::InvalidRuleFile { .. } => ApiError::Internal(error.to_string()),
        })
}
