//! `POST /api/v1/rules/notification`: the check `expedite rules check` makes, on any channel
//! of AECA §36 (FMS, DCS, MLA), with the sales territory and upgrades.

use axum::Json;
use axum::extract::State;
use expedite_core::rules::{Channel, NotificationDecision, RuleError, SaleCheck};
use expedite_core::{Country, Date, Usd};

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::input::{Checks, JsonObject, reject_unknown};

const FIELDS: [&str; 11] = [
    "purchaser",
    "date",
    "channel",
    "mde_usd",
    "total_usd",
    "dc_usd",
    "firearms_usd",
    "territory",
    "upgrade",
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
    let channel = checks
        .optional::<Channel>(&body, "", "channel")
        .unwrap_or_default();
    let mut amount = |key| checks.optional::<Usd>(&body, "", key);
    let mde = amount("mde_usd");
    let articles_services = amount("total_usd");
    let design_construction = amount("dc_usd");
    let firearms = amount("firearms_usd");
    let territory = checks
        .optional::<Vec<Country>>(&body, "", "territory")
        .unwrap_or_default();
    let upgrade = checks
        .optional::<bool>(&body, "", "upgrade")
        .unwrap_or(false);
    let emergency = checks
        .optional::<bool>(&body, "", "emergency")
        .unwrap_or(false);
    let rule_set = checks.optional::<String>(&body, "", "rule_set");
    checks.finish()?;
    let (Some(purchaser), Some(date)) = (purchaser, date) else {
        return Err(ApiError::invalid("body", "purchaser and date are required"));
    };
    let sale = SaleCheck {
        mde,
        articles_services,
        design_construction,
        firearms,
        territory,
        upgrade,
        emergency,
        ..SaleCheck::new(purchaser, date, channel)
    };
    state
        .rules
        .judge(&sale, rule_set.as_deref())
        .map(Json)
        .map_err(|error| match error {
            RuleError::UnknownRuleSet { .. } => ApiError::invalid("rule_set", error.to_string()),
            RuleError::MdeAboveTotal { .. } => ApiError::invalid("mde_usd", error.to_string()),
            RuleError::FirearmsAboveTotal { .. } => {
                ApiError::invalid("firearms_usd", error.to_string())
            }
            RuleError::NotForChannel { input, .. } => {
                ApiError::invalid(input.key(), error.to_string())
            }
            RuleError::NothingInForce(_) => ApiError::invalid("date", error.to_string()),
            RuleError::InvalidRuleFile { .. } => ApiError::Internal(error.to_string()),
        })
}
