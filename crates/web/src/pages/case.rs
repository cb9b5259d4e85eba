//! `/cases/{id}`: one case: who buys what, its values, the notification rule that applies,
//! a timeline of its real milestones, SAMM target and forecast bands, its verified history,
//! and for those who may write, the form to record the next transition or a delivery.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use expedite_core::alerts::{self, AlertStatus, DeadlineKind};
use expedite_core::forecast_alerts;
use expedite_core::{CaseId, Date, Stage};
use expedite_store::{Change, Scope, StoreError, StoredCase, history};
use serde_json::{Map, Value};

use super::charts::{self, Mark, Row};
use super::format::{self, stage_label};
use super::session::{Viewer, form_field};
use super::{Layout, Opt, PageError, html_with, options};
use crate::AppState;
use crate::error::ApiError;
use crate::input::PathParam;

struct LineRow {
    index: usize,
    item: String,
    quantity: u32,
    delivered: u32,
    unit: String,
    value: String,
    mde: bool,
    production_line: String,
}

struct RuleView {
    heading: String,
    required: bool,
    group: String,
    thresholds: String,
    informal_days: u32,
    formal_days: u32,
    earliest_offer: Option<Date>,
    rule_set: String,
    citation: String,
}

struct TimelineRow {
    what: String,
    kind: &'static str,
    dates: String,
}

struct EventRow {
    seq: i64,
    date: String,
    what: String,
    actor: String,
    recorded_at: String,
}

/// One alert on the case, in words: generic over where it comes from, so that an alert of
/// another kind (a forecast's P50 that moved, a queue position that changed) is one more
/// [`AlertRow`] pushed in [`case_alerts`].
struct AlertRow {
    /// The day the alert became true.
    raised_on: Date,
    /// What it is about, e.g. "SAMM: offer".
    what: String,
    /// `near`, `missed`, or what another kind says (`moved`, `changed`).
    status: &'static str,
    /// Whether it calls for attention now (a deadline missed), shown in bold.
    urgent: bool,
    /// What changed and by how much.
    message: String,
    /// Why: the rule or the input that moved, with its source.
    why: String,
}

/// The case's alerts raised on or before `today`, newest first, as `expedite alerts` and
/// `/api/v1/alerts` give them for this case: its deadline alerts (SAMM targets, the
/// congressional review, the offer's expiration; `expedite_core::alerts`) and its forecast
/// alerts (`expedite_core::forecast_alerts`: a P50 that moved, a changed place in a queue).
async fn case_alerts(
    state: &AppState,
    scope: Scope,
    case: &expedite_core::machine::Case,
    today: Date,
) -> Result<Vec<AlertRow>, StoreError> {
    let mut rows: Vec<AlertRow> =
        alerts::deadline_alerts(case, state.rules.samm(), today, alerts::DEFAULT_NEAR_DAYS)
            .into_iter()
            .map(|alert| AlertRow {
                raised_on: alert.raised_on,
                what: deadline_label(alert.kind).to_owned(),
                status: alert.status.as_str(),
                urgent: alert.status == AlertStatus::Missed,
                message: alert.message,
                why: alert.rule,
            })
            .collect();
    let forecast_alerts = history::forecast_alerts_of_case(
        state.store.as_ref(),
        scope,
        case,
        today,
        forecast_alerts::DEFAULT_THRESHOLD_DAYS,
    )
    .await?;
    rows.extend(forecast_alerts.into_iter().map(|alert| AlertRow {
        raised_on: alert.raised_on,
        what: forecast_label(&alert),
        status: alert.direction(),
        urgent: false,
        message: alert.message,
        why: alert.why,
    }));
    rows.sort_by_key(|row| std::cmp::Reverse(row.raised_on));
    Ok(rows)
}

/// A forecast alert's subject as people read it.
fn forecast_label(alert: &forecast_alerts::ForecastAlert) -> String {
    match alert.kind {
        forecast_alerts::ForecastAlertKind::P50Moved => {
            format!("forecast: {}", alert.subject.replace('_', " "))
        }
        forecast_alerts::ForecastAlertKind::QueueChanged => {
            format!("queue on line {}", alert.subject)
        }
        forecast_alerts::ForecastAlertKind::PromiseAtRisk => {
            "forecast: promised first delivery".to_owned()
        }
    }
}

/// Deadlines as people read them.
fn deadline_label(kind: DeadlineKind) -> &'static str {
    match kind {
        DeadlineKind::SammLorValidation => "SAMM: LOR validation",
        DeadlineKind::SammOffer => "SAMM: offer",
        DeadlineKind::ReviewPeriod => "congressional review period",
        DeadlineKind::OfferExpiration => "offer expiration",
    }
}

/// What the form shows after a refused submission: the message and each field's problem.
#[derive(Default)]
struct FormState {
    message: Option<String>,
    fields: Vec<(String, String)>,
    to: String,
    date: String,
    line: String,
    quantity: String,
    first_delivery: String,
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    layout: Layout,
    id: String,
    purchaser: String,
    purchaser_iso: String,
    agency: String,
    channel: String,
    stage: String,
    version: i64,
    emergency: bool,
    notified: String,
    signed: Option<String>,
    delivered: String,
    lines: Vec<LineRow>,
    samm_due: Option<Date>,
    late: bool,
    offer_expires: Option<Date>,
    rule: Option<RuleView>,
    rule_error: Option<String>,
    timeline: String,
    timeline_rows: Vec<TimelineRow>,
    forecast_note: Option<String>,
    alerts: Vec<AlertRow>,
    events: Vec<EventRow>,
    verified: bool,
    verify_detail: String,
    can_write: bool,
    stages: Vec<Opt>,
    line_options: Vec<Opt>,
    form: FormState,
}

/// The case, if it exists and the viewer may see it; 404 alike otherwise (as the API).
async fn visible_case(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
) -> Result<StoredCase, PageError> {
    let id = CaseId::parse(id).map_err(|_| PageError::NotFound)?;
    state
        .store
        .case(&id)
        .await?
        .filter(|stored| viewer.caller.scope().covers(&stored.case))
        .ok_or(PageError::NotFound)
}

/// `GET /cases/{id}`.
pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    PathParam(id): PathParam,
) -> Result<Response, PageError> {
    let stored = visible_case(&state, &viewer, &id).await?;
    let form = FormState {
        to: next_stage(stored.case.stage)
            .map(|stage| stage.as_str().to_owned())
            .unwrap_or_default(),
        date: crate::today().to_string(),
        ..FormState::default()
    };
    render(&state, &viewer, &stored, form, StatusCode::OK).await
}

/// `POST /cases/{id}`: records a transition or a delivery from the form, through the API's
/// own validation, and answers with the page again (303 on success, the refusal otherwise).
pub async fn record(
    State(state): State<AppState>,
    viewer: Viewer,
    PathParam(id): PathParam,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, PageError> {
    let Form(fields) = form.map_err(|rejection| PageError::BadRequest(rejection.body_text()))?;
    viewer.check_csrf(form_field(&fields, "csrf"))?;
    let stored = visible_case(&state, &viewer, &id).await?;
    viewer
        .caller
        .may_write()
        .map_err(|_| PageError::Forbidden("record transitions"))?;
    let field = |name: &str| {
        form_field(&fields, name)
            .unwrap_or_default()
            .trim()
            .to_owned()
    };
    let mut form = FormState {
        to: field("to"),
        date: field("date"),
        line: field("line"),
        quantity: field("quantity"),
        first_delivery: field("first_delivery"),
        ..FormState::default()
    };
    let body = event_body(&fields);
    let outcome = match crate::cases::parse_event(&body) {
        Ok((version, event)) => state
            .store
            .append_event(
                &stored.case.id,
                version,
                event,
                &viewer.caller.author(crate::now()),
            )
            .await
            .map_err(ApiError::from),
        Err(error) => Err(error),
    };
    match outcome {
        Ok(moved) => {
            state.forecasts.touched(&moved.case);
            Ok(Redirect::to(&format!("/cases/{}", moved.case.id)).into_response())
        }
        Err(ApiError::Unavailable) => Err(PageError::Unavailable),
        Err(ApiError::Internal(cause)) => Err(PageError::Internal(cause)),
        Err(ApiError::NotFound) => Err(PageError::NotFound),
        Err(refusal) => {
            let status = refusal_status(&refusal);
            form.message = Some(refusal.to_string());
            if let ApiError::Invalid(invalid) = &refusal {
                form.fields = invalid
                    .iter()
                    .map(|field| (field.field.clone(), field.message.clone()))
                    .collect();
            }
            // Show the case as it is now (another write may have moved it).
            let current = visible_case(&state, &viewer, &id).await?;
            render(&state, &viewer, &current, form, status).await
        }
    }
}

fn refusal_status(refusal: &ApiError) -> StatusCode {
    match refusal {
        ApiError::Conflict(_) => StatusCode::CONFLICT,
        ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
        ApiError::Malformed { .. } => StatusCode::BAD_REQUEST,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// The form's fields as the API's event body: numbers where they read as numbers, text
/// otherwise (so the API names the field that is wrong), empty fields left out.
fn event_body(fields: &[(String, String)]) -> Map<String, Value> {
    let mut body = Map::new();
    let kind = form_field(fields, "kind").unwrap_or_default().trim();
    // The page's forms send advance, deliver or promise; anything else is read as an advance.
    let form_kind = if matches!(kind, "deliver" | "promise") {
        kind
    } else {
        "advance"
    };
    let wanted = crate::cases::event_fields(form_kind).unwrap_or_default();
    for name in wanted {
        let Some(value) = form_field(fields, name)
            .map(str::trim)
            .filter(|v| !v.is_empty())
        else {
            continue;
        };
        let json = match *name {
            "version" | "line" | "quantity" => value
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::from(value)),
            _ => Value::from(value),
        };
        body.insert((*name).to_owned(), json);
    }
    body
}

fn next_stage(stage: Stage) -> Option<Stage> {
    let position = stage.forward_position()?;
    Stage::FORWARD.get(position + 1).copied()
}

async fn render(
    state: &AppState,
    viewer: &Viewer,
    stored: &StoredCase,
    form: FormState,
    status: StatusCode,
) -> Result<Response, PageError> {
    let case = &stored.case;
    let today = crate::today();
    let lines: Vec<LineRow> = case
        .lines
        .iter()
        .zip(case.delivered.iter().copied())
        .enumerate()
        .map(|(index, (line, delivered))| LineRow {
            index,
            item: line.item.clone(),
            quantity: line.quantity,
            delivered,
            unit: line.unit_usd.to_string(),
            value: line.value().map(|v| v.to_string()).unwrap_or_default(),
            mde: line.mde,
            production_line: line.production_line.clone().unwrap_or_default(),
        })
        .collect();
    let notified = super::portfolio::notified_value(stored);
    let signed = case
        .entered(Stage::Implemented)
        .map(|_| notified.to_string());
    let delivered = format::sum(
        case.lines
            .iter()
            .zip(case.delivered.iter())
            .filter_map(|(line, count)| line.unit_usd.checked_mul(u64::from(*count)).ok()),
    );

    let (rule, rule_error) = rule_view(state, stored, today);

    let forecast = state.forecasts.get(&case.id);
    let mut rows: Vec<Row> = case
        .milestones
        .iter()
        .map(|milestone| Row {
            label: stage_label(milestone.stage.as_str()),
            marks: vec![Mark::Point {
                date: milestone.date,
                series: 0,
            }],
        })
        .collect();
    let mut timeline_rows: Vec<TimelineRow> = case
        .milestones
        .iter()
        .map(|milestone| TimelineRow {
            what: stage_label(milestone.stage.as_str()),
            kind: "milestone",
            dates: milestone.date.to_string(),
        })
        .collect();
    if let Some(due) = stored.samm_due {
        let what = if case.stage == Stage::LorReceived {
            "SAMM target: LOR validated"
        } else {
            "SAMM target: offer"
        };
        rows.push(Row {
            label: what.to_owned(),
            marks: vec![Mark::Point {
                date: due,
                series: 1,
            }],
        });
        timeline_rows.push(TimelineRow {
            what: what.to_owned(),
            kind: "target",
            dates: due.to_string(),
        });
    }
    let mut forecast_note = None;
    if let Some(stored_forecast) = &forecast {
        let bands = [
            ("contract", stored_forecast.forecast.contract),
            ("first delivery", stored_forecast.forecast.first_delivery),
            ("final delivery", stored_forecast.forecast.final_delivery),
        ];
        for (what, dates) in bands {
            rows.push(Row {
                label: format!("forecast: {what}"),
                marks: vec![Mark::Band {
                    p10: dates.p10,
                    p50: dates.p50,
                    p90: dates.p90,
                    series: 2,
                }],
            });
            timeline_rows.push(TimelineRow {
                what: format!("forecast: {what}"),
                kind: "forecast P10 / P50 / P90",
                dates: format!("{} / {} / {}", dates.p10, dates.p50, dates.p90),
            });
        }
        let kept = stored_forecast
            .forecast
            .p_first_by_promise
            .map(|share| {
                format!(
                    " The first delivery comes on or before the promised day in {:.0}% of trials.",
                    share * 100.0
                )
            })
            .unwrap_or_default();
        forecast_note = Some(format!(
            "Forecast as of {}, computed {}.{kept}",
            stored_forecast.as_of,
            stored_forecast
                .computed_at
                .strftime("%Y-%m-%d %H:%M:%S UTC")
        ));
    }
    if let Some(promise) = case.promise {
        timeline_rows.push(TimelineRow {
            what: format!("first delivery promised (on {})", promise.made),
            kind: "promise",
            dates: promise.first_delivery.to_string(),
        });
    }
    let timeline = charts::date_rows(
        &format!("Timeline of {}", case.id),
        &["milestone", "SAMM target", "forecast P10–P90 (tick: P50)"],
        &rows,
        Some(today),
    )?;

    let events = state
        .store
        .events(&case.id)
        .await?
        .into_iter()
        .map(|record| {
            let (date, what) = match &record.change {
                Change::Opened(new) => (
                    new.lor_received.to_string(),
                    "opened from the Letter of Request".to_owned(),
                ),
                Change::Event(event) => (event.date.to_string(), event.kind.to_string()),
            };
            EventRow {
                seq: record.seq,
                date,
                what,
                actor: record.actor,
                recorded_at: record
                    .recorded_at
                    .strftime("%Y-%m-%d %H:%M:%S UTC")
                    .to_string(),
            }
        })
        .collect();
    let verification = state.store.verify(&case.id).await?;
    let verify_detail = match &verification.broken {
        None => format!("{} events, every link holds", verification.events),
        Some(broken) => format!("broken at event {}: {}", broken.seq, broken.reason),
    };

    let page = CasePage {
        layout: Layout::new(format!("Case {}", case.id), "portfolio", viewer),
        id: case.id.to_string(),
        purchaser: case.purchaser.name().to_owned(),
        purchaser_iso: case.purchaser.iso3().to_owned(),
        agency: case.agency.as_str().to_owned(),
        channel: case.channel.as_str().to_owned(),
        stage: stage_label(case.stage.as_str()),
        version: stored.version,
        emergency: case.emergency,
        notified: notified.to_string(),
        signed,
        delivered: delivered.to_string(),
        lines,
        samm_due: stored.samm_due,
        late: stored.samm_due.is_some_and(|due| due < today),
        offer_expires: case.offer_expires,
        rule,
        rule_error,
        timeline,
        timeline_rows,
        forecast_note,
        alerts: case_alerts(state, viewer.caller.scope(), case, today).await?,
        events,
        verified: verification.valid,
        verify_detail,
        can_write: viewer.caller.may_write().is_ok(),
        stages: options(
            Stage::ALL
                .iter()
                .map(|stage| (stage.as_str().to_owned(), stage_label(stage.as_str()))),
            &form.to,
        ),
        line_options: options(
            case.lines
                .iter()
                .enumerate()
                .map(|(index, line)| (index.to_string(), format!("{index}: {}", line.item))),
            &form.line,
        ),
        form,
    };
    html_with(status, &page)
}

/// The notification decision the case went through, or the one that would apply if it were
/// notified today.
fn rule_view(
    state: &AppState,
    stored: &StoredCase,
    today: Date,
) -> (Option<RuleView>, Option<String>) {
    let case = &stored.case;
    let (heading, decision) = match &case.review {
        Some(review) => (
            format!("Congressional review from {}", review.decision.date),
            Ok((review.decision.clone(), Some(review.earliest_offer))),
        ),
        None => (
            format!("If notified today ({today})"),
            case.notification_on(today, &state.rules)
                .map(|decision| (decision, None)),
        ),
    };
    match decision {
        Ok((decision, earliest_offer)) => (
            Some(RuleView {
                heading,
                required: decision.notification_required,
                group: decision.group.to_string(),
                thresholds: if decision.thresholds_crossed.is_empty() {
                    "none".to_owned()
                } else {
                    decision
                        .thresholds_crossed
                        .iter()
                        .map(|threshold| threshold.as_str().replace('_', " "))
                        .collect::<Vec<_>>()
                        .join(", ")
                },
                informal_days: decision.informal_review_days,
                formal_days: decision.formal_review_days,
                earliest_offer,
                rule_set: decision.rule_set,
                citation: decision.citation,
            }),
            None,
        ),
        Err(error) => (None, Some(error)),
    }
}
