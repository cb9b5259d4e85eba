//! The one error type of the API: every status the service answers with is decided here.
//!
//! The body is always `{"error": {"code", "message", "fields"?}}`. Causes of a 500 are logged
//! and never sent; no error carries a token.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use expedite_core::machine::TransitionError;
use expedite_store::StoreError;
use serde::Serialize;
use serde_json::json;

/// One invalid field: a path such as `lines[0].quantity` and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// Where, e.g. `lines[0].quantity`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl FieldError {
    /// A field and its message.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body is not JSON, not an object, or has a field the endpoint does not know (400).
    #[error("{message}")]
    Malformed {
        /// What is wrong.
        message: String,
        /// The unknown field, if that is the problem.
        field: Option<String>,
    },
    /// Values of the right shape that are not acceptable, each named (422).
    #[error("invalid values in {} field(s)", .0.len())]
    Invalid(Vec<FieldError>),
    /// The stage machine refuses the event (422, naming the stage and the rule).
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// The case is no longer at the version the caller named (409).
    #[error("{0}")]
    Conflict(String),
    /// No token, or one that is unknown or revoked (401).
    #[error("a valid bearer token is required")]
    Unauthorized,
    /// The token may see the resource but not do this (403).
    #[error("this token's role may not {0}")]
    Forbidden(&'static str),
    /// Nothing there, or nothing the caller may see (404).
    #[error("not found")]
    NotFound,
    /// No route has this path (404).
    #[error("no such path in this API")]
    NoRoute,
    /// The path exists but does not take this method (405).
    #[error("this path does not take that method")]
    MethodNotAllowed,
    /// The body is larger than the service accepts (413).
    #[error("the request body is larger than {0} bytes")]
    TooLarge(usize),
    /// The body is not declared as JSON (415).
    #[error("the body must be JSON: send Content-Type: application/json")]
    UnsupportedMediaType,
    /// The request took longer than the service allows (408).
    #[error("{0}")]
    Timeout(&'static str),
    /// Every connection slot is in use (503).
    #[error("the service is at its connection limit: try again shortly")]
    Busy,
    /// HTTP that the server could not parse (400, 414 or 431; the status is hyper's).
    #[error("{0}")]
    Protocol(&'static str),
    /// An analysis larger than a request may ask for (422, naming the budget).
    #[error("{message}")]
    OverBudget {
        /// The budget and how far the request exceeds it.
        message: String,
    },
    /// The caller already runs as many analyses as a token may at once (429).
    #[error("this token already runs {0} analyses: wait for one to finish")]
    TooManyAnalyses(usize),
    /// The case's stored row fails its keyed check: changed behind the service's back (409).
    #[error(
        "case {0} is broken: its stored row does not match its history; an administrator should run `expedite verify`"
    )]
    BrokenCase(String),
    /// The store cannot be reached (503).
    #[error("the case store is unavailable")]
    Unavailable,
    /// Anything else (500); the cause is logged, not sent.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// A malformed body.
    pub fn malformed(message: impl Into<String>) -> ApiError {
        ApiError::Malformed {
            message: message.into(),
            field: None,
        }
    }

    /// One invalid field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::Invalid(vec![FieldError::new(field, message)])
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Malformed { field: Some(_), .. } => {
                (StatusCode::BAD_REQUEST, "unknown_field")
            }
            ApiError::Malformed { .. } => (StatusCode::BAD_REQUEST, "malformed"),
            ApiError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            ApiError::Transition(_) => (StatusCode::UNPROCESSABLE_ENTITY, "illegal_transition"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::NoRoute => (StatusCode::NOT_FOUND, "no_route"),
            ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            ApiError::UnsupportedMediaType => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            ApiError::Timeout(_) => (StatusCode::REQUEST_TIMEOUT, "timeout"),
            ApiError::Busy => (StatusCode::SERVICE_UNAVAILABLE, "busy"),
            ApiError::Protocol(_) => (StatusCode::BAD_REQUEST, "protocol"),
            ApiError::OverBudget { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "over_budget"),
            ApiError::TooManyAnalyses(_) => (StatusCode::TOO_MANY_REQUESTS, "too_many_analyses"),
            ApiError::BrokenCase(_) => (StatusCode::CONFLICT, "broken_case"),
            ApiError::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    /// The JSON error body this error is answered with.
    pub fn json_body(&self) -> serde_json::Value {
        let (_, code) = self.status_and_code();
        self.body(code)
    }

    fn body(&self, code: &str) -> serde_json::Value {
        let mut error = json!({ "code": code, "message": self.to_string() });
        match self {
            ApiError::Invalid(fields) => error["fields"] = json!(fields),
            ApiError::Malformed {
                field: Some(field), ..
            } => {
                error["fields"] = json!([FieldError::new(field.clone(), "unknown field")]);
            }
            ApiError::OverBudget { .. } => {
                error["fields"] = json!([FieldError::new("scenario", self.to_string())]);
            }
            ApiError::Transition(refusal) => {
                error["stage"] = json!(refusal.stage);
                error["event"] = json!(refusal.event);
                error["rule"] = json!(refusal.rule);
            }
            _ => {}
        }
        json!({ "error": error })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let ApiError::Internal(cause) = &self {
            tracing::error!(%cause, "request failed");
        }
        let mut response = (status, Json(self.body(code))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        match error {
            StoreError::CaseNotFound(_) => ApiError::NotFound,
            StoreError::BrokenCase(id) => ApiError::BrokenCase(id),
            StoreError::CaseExists(id) => ApiError::Conflict(format!("case {id} exists already")),
            StoreError::Conflict { .. } => ApiError::Conflict(error.to_string()),
            StoreError::Transition(refusal) => ApiError::Transition(refusal),
            StoreError::InvalidCase(refusal) => field_error_from_message(&refusal.to_string()),
            unreachable if unreachable.is_unavailable() => {
                tracing::error!(cause = %unreachable, "store unavailable");
                ApiError::Unavailable
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// The core writes field errors as `path: message`.
fn field_error_from_message(message: &str) -> ApiError {
    match message.split_once(": ") {
        Some((field, detail)) => ApiError::invalid(field, detail),
        None => ApiError::invalid("body", message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_paths_and_methods_are_decided_by_the_one_error_type() {
        assert_eq!(
            ApiError::NoRoute.status_and_code(),
            (StatusCode::NOT_FOUND, "no_route")
        );
        assert_eq!(
            ApiError::MethodNotAllowed.status_and_code(),
            (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
        );
        assert_eq!(
            ApiError::NoRoute.body("no_route"),
            json!({ "error": { "code": "no_route", "message": "no such path in this API" } })
        );
    }
}
