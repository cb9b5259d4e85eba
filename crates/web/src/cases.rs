//! `/api/v1/cases`: open, list, read and transition cases; their history and its check.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use expedite_core::case::{CaseLine, Category};
use expedite_core::machine::{MAX_TIER, Milestone, Promised, Review};
use expedite_core::{
    Agency, CaseId, Channel, Country, Date, Event, EventKind, NewCase, Stage, Usd,
};
use expedite_store::{CaseFilter, EventRecord, Scope, StoredCase, Verification};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::input::{Checks, JsonObject, MAX_YEAR, MIN_YEAR, PathParam, reject_unknown};
use crate::{AppState, now, today};

/// Longest item description accepted.
pub const MAX_ITEM_CHARS: usize = 200;
/// Longest production-line name accepted.
pub const MAX_PRODUCTION_LINE_CHARS: usize = 100;
/// Most lines in one case.
pub const MAX_LINES: usize = 100;
/// Most units in one line (or one delivery).
pub const MAX_QUANTITY: u32 = 100_000;
/// Longest offer validity, in days.
pub const MAX_OFFER_DAYS: u32 = 3_650;
/// Highest version a transition may name.
pub const MAX_VERSION: i64 = 1_000_000_000;
/// Largest page.
pub const MAX_PAGE: u32 = 500;
/// Page size when none is asked for.
pub const DEFAULT_PAGE: u32 = 50;

const CASE_FIELDS: [&str; 9] = [
    "id",
    "purchaser",
    "agency",
    "channel",
    "lines",
    "lor_received",
    "offer_expiration_days",
    "emergency",
    "rule_set",
];
const LINE_FIELDS: [&str; 6] = [
    "item",
    "quantity",
    "unit_usd",
    "mde",
    "category",
    "production_line",
];

/// A case as the API shows it.
#[derive(Debug, Serialize)]
pub struct CaseView<'a> {
    id: &'a CaseId,
    purchaser: &'static str,
    purchaser_name: &'static str,
    agency: Agency,
    channel: Channel,
    stage: Stage,
    version: i64,
    lor_received: Option<Date>,
    last_event: Date,
    milestones: &'a [Milestone],
    #[serde(skip_serializing_if = "Option::is_none")]
    review: Option<&'a Review>,
    #[serde(skip_serializing_if = "Option::is_none")]
    offer_expires: Option<Date>,
    offer_expiration_days: u32,
    emergency: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_set: Option<&'a str>,
    /// Set by a `prioritise` event; absent while the case is at the default tier 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    tier: Option<u32>,
    /// Set by a `promise` event: the first delivery promised and the day it was made.
    #[serde(skip_serializing_if = "Option::is_none")]
    promise: Option<Promised>,
    samm_due: Option<Date>,
    late: bool,
    lines: Vec<LineView<'a>>,
}

#[derive(Debug, Serialize)]
struct LineView<'a> {
    #[serde(flatten)]
    line: &'a CaseLine,
    delivered: u32,
}

impl<'a> CaseView<'a> {
    /// The view of a stored case; `late` is judged on `today`.
    pub fn of(stored: &'a StoredCase, today: Date) -> CaseView<'a> {
        let case = &stored.case;
        CaseView {
            id: &case.id,
            purchaser: case.purchaser.iso3(),
            purchaser_name: case.purchaser.name(),
            agency: case.agency,
            channel: case.channel,
            stage: case.stage,
            version: stored.version,
            lor_received: case.entered(Stage::LorReceived),
            last_event: case.last_event,
            milestones: &case.milestones,
            review: case.review.as_ref(),
            offer_expires: case.offer_expires,
            offer_expiration_days: case.offer_expiration_days,
            emergency: case.emergency,
            rule_set: case.rule_set.as_deref(),
            tier: case.priority_tier,
            promise: case.promise,
            samm_due: stored.samm_due,
            late: stored.samm_due.is_some_and(|due| due < today),
            lines: case
                .lines
                .iter()
                .zip(case.delivered.iter().copied())
                .map(|(line, delivered)| LineView { line, delivered })
                .collect(),
        }
    }
}

/// `POST /api/v1/cases`: opens a case from a Letter of Request.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    caller.may_write()?;
    let new = parse_new_case(&state, body)?;
    // The identifier carries the implementing agency's letter (reference §0.1) and must
    // agree with `agency`. So a case manager can only name ids of its own agency, and an id
    // that is taken is always one of its own cases: "exists already" tells it nothing
    // about another agency's cases.
    if new.id.agency_letter() != new.agency.letter() {
        return Err(ApiError::invalid(
            "id",
            format!(
                "the identifier's agency letter is {}, but {} cases carry {}",
                new.id.agency_letter(),
                new.agency,
                new.agency.letter()
            ),
        ));
    }
    if let Scope::Agency(agency) = caller.scope()
        && agency != new.agency
    {
        return Err(ApiError::Forbidden("open cases of another agency"));
    }
    let stored = state.store.open_case(new, &caller.author(now())).await?;
    let location = format!("/api/v1/cases/{}", stored.case.id);
    let view = CaseView::of(&stored, today());
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(view),
    )
        .into_response())
}

/// `GET /api/v1/cases`: the caller's cases, filtered and paged.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, ApiError> {
    crate::input::refuse_nul_params(&params)?;
    let filter = parse_filter(caller.scope(), &params)?;
    let page = state.store.list_cases(&filter).await?;
    let today = today();
    let cases: Vec<CaseView<'_>> = page
        .cases
        .iter()
        .map(|stored| CaseView::of(stored, today))
        .collect();
    Ok(Json(serde_json::json!({
        "cases": cases,
        "total": page.total,
        "limit": filter.limit,
        "offset": filter.offset,
    })))
}

/// `GET /api/v1/cases/{id}`.
pub async fn get_case(
    State(state): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam,
) -> Result<Response, ApiError> {
    let stored = visible_case(&state, &caller, &id).await?;
    Ok(Json(CaseView::of(&stored, today())).into_response())
}

/// `POST /api/v1/cases/{id}/events`: one transition, naming the version it expects.
pub async fn post_event(
    State(state): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let stored = visible_case(&state, &caller, &id).await?;
    caller.may_write()?;
    let (version, event) = parse_event(&body)?;
    let moved = state
        .store
        .append_event(&stored.case.id, version, event, &caller.author(now()))
        .await?;
    state.forecasts.touched(&moved.case);
    Ok((StatusCode::CREATED, Json(CaseView::of(&moved, today()))).into_response())
}

/// `GET /api/v1/cases/{id}/events`: the history, oldest first, with its hashes.
pub async fn events(
    State(state): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam,
) -> Result<Json<Value>, ApiError> {
    let stored = visible_case(&state, &caller, &id).await?;
    let events: Vec<EventRecord> = state.store.events(&stored.case.id).await?;
    Ok(Json(
        serde_json::json!({ "case": stored.case.id, "events": events }),
    ))
}

/// `GET /api/v1/cases/{id}/verify`: walks the hash chain; reports the first broken link.
pub async fn verify(
    State(state): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam,
) -> Result<Json<Verification>, ApiError> {
    // A caller who sees every case verifies a broken one too (that is what verify is for);
    // a scoped caller only a case whose row still proves it is theirs.
    if caller.scope() == Scope::All {
        let id = CaseId::parse(&id).map_err(|_| ApiError::NotFound)?;
        return Ok(Json(state.store.verify(&id).await?));
    }
    let stored = visible_case(&state, &caller, &id).await?;
    Ok(Json(state.store.verify(&stored.case.id).await?))
}

/// The case, if it exists and the caller may see it; 404 alike otherwise. A broken case
/// (its row fails the keyed check) is a 409 for callers who see every case, and a 404 for
/// the others: its purchaser and agency cannot be trusted to decide who may see it.
async fn visible_case(state: &AppState, caller: &Caller, id: &str) -> Result<StoredCase, ApiError> {
    let id = CaseId::parse(id).map_err(|_| ApiError::NotFound)?;
    let stored = match state.store.case(&id).await {
        Err(expedite_store::StoreError::BrokenCase(_)) if caller.scope() != Scope::All => {
            return Err(ApiError::NotFound);
        }
        other => other?,
    };
    stored
        .filter(|stored| caller.scope().covers(&stored.case))
        .ok_or(ApiError::NotFound)
}

/// Checks every field of a Letter of Request, then builds the core's [`NewCase`].
fn parse_new_case(state: &AppState, body: Map<String, Value>) -> Result<NewCase, ApiError> {
    reject_unknown(&body, &CASE_FIELDS, "")?;
    let mut checks = Checks::default();
    checks.required::<CaseId>(&body, "", "id");
    checks.required::<Country>(&body, "", "purchaser");
    checks.required::<Agency>(&body, "", "agency");
    checks.optional::<Channel>(&body, "", "channel");
    checks.required::<Date>(&body, "", "lor_received");
    if checks
        .optional::<u32>(&body, "", "offer_expiration_days")
        .is_some_and(|days| days > MAX_OFFER_DAYS)
    {
        checks.fail(
            "offer_expiration_days".to_owned(),
            format!("must be at most {MAX_OFFER_DAYS}"),
        );
    }
    checks.optional::<bool>(&body, "", "emergency");
    let rule_set = checks.optional::<String>(&body, "", "rule_set");
    if let Some(rule_set) = rule_set
        && let Err(error) = state.rules.get(&rule_set)
    {
        checks.fail("rule_set".to_owned(), error.to_string());
    }
    check_lines(&body, &mut checks)?;
    checks.finish()?;
    serde_json::from_value(Value::Object(body))
        .map_err(|error| ApiError::invalid("body", error.to_string()))
}

fn check_lines(body: &Map<String, Value>, checks: &mut Checks) -> Result<(), ApiError> {
    let lines = match body.get("lines") {
        None | Some(Value::Null) => {
            checks.fail("lines".to_owned(), "is required");
            return Ok(());
        }
        Some(Value::Array(lines)) => lines,
        Some(_) => {
            checks.fail("lines".to_owned(), "must be an array of lines");
            return Ok(());
        }
    };
    if lines.is_empty() || lines.len() > MAX_LINES {
        checks.fail(
            "lines".to_owned(),
            format!("must hold 1 to {MAX_LINES} lines"),
        );
    }
    for (position, line) in lines.iter().enumerate() {
        let path = format!("lines[{position}]");
        let Value::Object(line) = line else {
            checks.fail(path, "must be an object");
            continue;
        };
        reject_unknown(line, &LINE_FIELDS, &path)?;
        let item = checks.required::<String>(line, &path, "item");
        if let Some(item) = checks.text(item, &format!("{path}.item"), MAX_ITEM_CHARS)
            && item.trim().is_empty()
        {
            checks.fail(format!("{path}.item"), "must not be empty");
        }
        if let Some(quantity) = checks.required::<u32>(line, &path, "quantity")
            && !(1..=MAX_QUANTITY).contains(&quantity)
        {
            checks.fail(
                format!("{path}.quantity"),
                format!("must be from 1 to {MAX_QUANTITY}"),
            );
        }
        checks.required::<Usd>(line, &path, "unit_usd");
        checks.optional::<bool>(line, &path, "mde");
        checks.optional::<Category>(line, &path, "category");
        let production_line = checks.optional::<String>(line, &path, "production_line");
        checks.text(
            production_line,
            &format!("{path}.production_line"),
            MAX_PRODUCTION_LINE_CHARS,
        );
    }
    Ok(())
}

/// The fields an event of `kind` has, `None` for an unknown kind.
pub(crate) fn event_fields(kind: &str) -> Option<&'static [&'static str]> {
    match kind {
        "advance" => Some(&["version", "date", "kind", "to"]),
        "deliver" => Some(&["version", "date", "kind", "line", "quantity"]),
        "prioritise" => Some(&["version", "date", "kind", "tier"]),
        "promise" => Some(&["version", "date", "kind", "first_delivery"]),
        _ => None,
    }
}

/// `{"version", "date", "kind": "advance", "to"}`, `{"version", "date", "kind": "deliver",
/// "line", "quantity"}`, `{"version", "date", "kind": "prioritise", "tier"}` or
/// `{"version", "date", "kind": "promise", "first_delivery"}`.
pub(crate) fn parse_event(body: &Map<String, Value>) -> Result<(i64, Event), ApiError> {
    let kind = body.get("kind").and_then(Value::as_str);
    let allowed = kind.and_then(event_fields).unwrap_or(&[
        "version",
        "date",
        "kind",
        "to",
        "line",
        "quantity",
        "tier",
        "first_delivery",
    ]);
    reject_unknown(body, allowed, "")?;
    let mut checks = Checks::default();
    let version = checks.required::<i64>(body, "", "version");
    if version.is_some_and(|version| !(1..=MAX_VERSION).contains(&version)) {
        checks.fail(
            "version".to_owned(),
            format!("must be from 1 to {MAX_VERSION}"),
        );
    }
    let date = checks.required::<Date>(body, "", "date");
    let kind = match kind {
        Some("advance") => checks
            .required::<Stage>(body, "", "to")
            .map(|to| EventKind::Advance { to }),
        Some("deliver") => {
            let line = checks.required::<usize>(body, "", "line");
            if line.is_some_and(|line| line >= MAX_LINES) {
                checks.fail(
                    "line".to_owned(),
                    format!("must be from 0 to {}", MAX_LINES - 1),
                );
            }
            let quantity = checks.required::<u32>(body, "", "quantity");
            if quantity.is_some_and(|quantity| !(1..=MAX_QUANTITY).contains(&quantity)) {
                checks.fail(
                    "quantity".to_owned(),
                    format!("must be from 1 to {MAX_QUANTITY}"),
                );
            }
            line.zip(quantity)
                .map(|(line, quantity)| EventKind::Deliver { line, quantity })
        }
        Some("prioritise") => {
            let tier = checks.required::<u32>(body, "", "tier");
            if tier.is_some_and(|tier| tier > MAX_TIER) {
                checks.fail(
                    "tier".to_owned(),
                    format!("must be from 0 (first) to {MAX_TIER}"),
                );
            }
            tier.map(|tier| EventKind::Prioritise { tier })
        }
        Some("promise") => checks
            .required::<Date>(body, "", "first_delivery")
            .map(|first_delivery| EventKind::Promise { first_delivery }),
        _ => {
            checks.fail(
                "kind".to_owned(),
                "is required: advance, deliver, prioritise or promise",
            );
            None
        }
    };
    checks.finish()?;
    match (version, date, kind) {
        (Some(version), Some(date), Some(kind)) => Ok((version, Event { date, kind })),
        _ => Err(ApiError::invalid("body", "incomplete event")),
    }
}

/// `stage`, `purchaser`, `late`, `as_of`, `text`, `limit`, `offset`.
fn parse_filter(scope: Scope, params: &[(String, String)]) -> Result<CaseFilter, ApiError> {
    let mut filter = CaseFilter::all_in(scope);
    filter.limit = DEFAULT_PAGE;
    let mut checks = Checks::default();
    let mut late = false;
    let mut as_of = None;
    for (key, value) in params {
        let mut fail = |message: String| checks.fail(key.clone(), message);
        match key.as_str() {
            "stage" => {
                filter.stage = Stage::parse(value)
                    .ok()
                    .filter(|stage| stage.as_str() == value)
                    .or_else(|| {
                        fail(format!("unknown stage '{value}'"));
                        None
                    })
            }
            "purchaser" => {
                filter.purchaser = Country::from_iso3(value)
                    .ok()
                    .filter(|country| country.iso3() == value)
                    .or_else(|| {
                        fail("must be an upper-case ISO 3166-1 alpha-3 code".to_owned());
                        None
                    })
            }
            "late" => {
                late = value
                    .parse::<bool>()
                    .map_err(|_| fail("must be true or false".to_owned()))
                    .unwrap_or(false)
            }
            "as_of" => {
                as_of = value
                    .parse::<Date>()
                    .ok()
                    .filter(|day| (MIN_YEAR..=MAX_YEAR).contains(&day.year()))
                    .or_else(|| {
                        fail(format!(
                            "must be a date YYYY-MM-DD from {MIN_YEAR} to {MAX_YEAR}"
                        ));
                        None
                    })
            }
            "text" => filter.text = Some(value.clone()).filter(|text| !text.trim().is_empty()),
            "limit" => match value.parse::<u32>() {
                Ok(limit) if (1..=MAX_PAGE).contains(&limit) => filter.limit = limit,
                _ => fail(format!("must be a whole number from 1 to {MAX_PAGE}")),
            },
            "offset" => {
                filter.offset = value
                    .parse::<u32>()
                    .map_err(|_| fail("must be a whole number".to_owned()))
                    .unwrap_or(0)
            }
            unknown => {
                return Err(ApiError::Malformed {
                    message: format!(
                        "unknown query parameter '{unknown}': expected stage, purchaser, late, as_of, text, limit, offset"
                    ),
                    field: Some(unknown.to_owned()),
                });
            }
        }
    }
    if filter
        .text
        .as_ref()
        .is_some_and(|text| text.chars().count() > MAX_ITEM_CHARS)
    {
        checks.fail(
            "text".to_owned(),
            format!("must be at most {MAX_ITEM_CHARS} characters"),
        );
    }
    checks.finish()?;
    if late {
        filter.late_on = Some(as_of.unwrap_or_else(today));
    }
    Ok(filter)
}
