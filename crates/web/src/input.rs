//! Reading request bodies at the edge: JSON objects, checked field by field.
//!
//! Shape problems (not JSON, not an object, a field the endpoint does not know) are 400s;
//! values of the wrong type or out of range are collected, every field at once, into one
//! 422. Only then is the domain type built, so the core sees parsed values only.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::{ApiError, FieldError};

/// The largest body accepted, in bytes: a case with a hundred lines fits many times over.
pub const BODY_LIMIT: usize = 64 * 1024;

/// A request body that is a JSON object.
#[derive(Debug)]
pub struct JsonObject(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for JsonObject {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<JsonObject, ApiError> {
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::TooLarge(BODY_LIMIT)
                } else {
                    ApiError::malformed(format!("the body could not be read: {rejection}"))
                }
            })?;
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(object)) => Ok(JsonObject(object)),
            Ok(_) => Err(ApiError::malformed("the body must be a JSON object")),
            Err(error) => Err(ApiError::malformed(format!(
                "the body is not valid JSON: {error}"
            ))),
        }
    }
}

/// The one parameter of a path such as `/cases/{id}`. A segment that cannot be read (not
/// UTF-8 once percent-decoded) is a 400 with the error body, like every other bad request.
#[derive(Debug)]
pub struct PathParam(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathParam {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<PathParam, ApiError> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| PathParam(value))
            .map_err(|rejection| {
                ApiError::malformed(format!(
                    "the path cannot be read: {}",
                    rejection.body_text()
                ))
            })
    }
}

/// Refuses any key of `object` not in `allowed` (400, naming the first such field).
///
/// # Errors
/// [`ApiError::Malformed`] with the field's path.
pub fn reject_unknown(
    object: &Map<String, Value>,
    allowed: &[&str],
    path: &str,
) -> Result<(), ApiError> {
    match object.keys().find(|key| !allowed.contains(&key.as_str())) {
        Some(unknown) => {
            let field = join(path, unknown);
            Err(ApiError::Malformed {
                message: format!(
                    "unknown field '{field}': expected one of {}",
                    allowed.join(", ")
                ),
                field: Some(field),
            })
        }
        None => Ok(()),
    }
}

/// `lines[0]` + `item` → `lines[0].item`.
pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// Collects every invalid field of one body.
#[derive(Debug, Default)]
pub struct Checks {
    errors: Vec<FieldError>,
}

impl Checks {
    /// A value that may be absent.
    pub fn optional<T: DeserializeOwned>(
        &mut self,
        object: &Map<String, Value>,
        path: &str,
        key: &str,
    ) -> Option<T> {
        let value = object.get(key)?;
        match serde_json::from_value::<T>(value.clone()) {
            Ok(parsed) => Some(parsed),
            Err(error) => {
                self.fail(join(path, key), error.to_string());
                None
            }
        }
    }

    /// A value that must be present.
    pub fn required<T: DeserializeOwned>(
        &mut self,
        object: &Map<String, Value>,
        path: &str,
        key: &str,
    ) -> Option<T> {
        if object.get(key).is_none_or(Value::is_null) {
            self.fail(join(path, key), "is required");
            return None;
        }
        self.optional(object, path, key)
    }

    /// Text no longer than `max` characters (and not blank when `required`).
    pub fn text(&mut self, value: Option<String>, field: &str, max: usize) -> Option<String> {
        let text = value?;
        if text.chars().count() > max {
            self.fail(
                field.to_owned(),
                format!("must be at most {max} characters"),
            );
            return None;
        }
        Some(text)
    }

    /// Records one invalid field.
    pub fn fail(&mut self, field: String, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    /// Ok if no field failed.
    ///
    /// # Errors
    /// [`ApiError::Invalid`] with every failed field.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Invalid(self.errors))
        }
    }
}
