//! Reading request bodies at the edge: JSON objects, checked field by field.
//!
//! Shape problems (not JSON, not an object, a field the endpoint does not know) are 400s;
//! values of the wrong type or out of range are collected, every field at once, into one
//! 422. Only then is the domain type built, so the core sees parsed values only.
//!
//! Refused before any field is read: a body not declared as JSON (415), one not received
//! within the body-read limit (408), a key given twice in one object (400). Refused field by
//! field (422): text holding a NUL character (PostgreSQL cannot store one), a number with a
//! fraction (money is whole dollars or a string, so that no amount is rounded on the way
//! in; `500.0` is the integer 500, as JSON Schema reads it), a date outside
//! [`MIN_YEAR`]–[`MAX_YEAR`].

use std::any::Any;
use std::collections::HashSet;
use std::fmt;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use expedite_core::{Date, Usd};
use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::error::{ApiError, FieldError};
use crate::server::BodyDeadline;

/// The earliest year a date in a request may fall in.
pub const MIN_YEAR: i16 = 1950;
/// The latest year a date in a request may fall in.
pub const MAX_YEAR: i16 = 2100;

/// The largest body accepted, in bytes: a case with a hundred lines fits many times over.
pub const BODY_LIMIT: usize = 64 * 1024;

/// A request body that is a JSON object.
#[derive(Debug)]
pub struct JsonObject(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for JsonObject {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<JsonObject, ApiError> {
        if !declares_json(request.headers().get(header::CONTENT_TYPE)) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let deadline = request
            .extensions()
            .get::<BodyDeadline>()
            .map_or(crate::server::Limits::default().body_read, |deadline| {
                deadline.0
            });
        let read = Bytes::from_request(request, state);
        let bytes = tokio::time::timeout(deadline, read)
            .await
            .map_err(|_| ApiError::Timeout("the request body did not arrive in time"))?
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::TooLarge(BODY_LIMIT)
                } else {
                    ApiError::malformed(format!("the body could not be read: {rejection}"))
                }
            })?;
        if let Err(error) = serde_json::from_slice::<NoDuplicateKeys>(&bytes)
            && error.is_data()
        {
            return Err(ApiError::malformed(error.to_string()));
        }
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(object)) => {
                let mut object = Value::Object(object);
                integral_numbers_as_integers(&mut object);
                if let Some(field) = find_nul(&object, "") {
                    let field = if field.is_empty() {
                        "body".to_owned()
                    } else {
                        field
                    };
                    return Err(ApiError::invalid(field, "must not contain a NUL character"));
                }
                match object {
                    Value::Object(object) => Ok(JsonObject(object)),
                    _ => Err(ApiError::malformed("the body must be a JSON object")),
                }
            }
            Ok(_) => Err(ApiError::malformed("the body must be a JSON object")),
            Err(error) => Err(ApiError::malformed(format!(
                "the body is not valid JSON: {error}"
            ))),
        }
    }
}

/// `application/json`, or any `+json` type, with or without parameters.
fn declares_json(value: Option<&header::HeaderValue>) -> bool {
    let Some(essence) = value
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|essence| essence.trim().to_ascii_lowercase())
    else {
        return false;
    };
    essence == "application/json"
        || essence
            .strip_prefix("application/")
            .is_some_and(|subtype| subtype.ends_with("+json"))
}

/// Walks a JSON document and fails on the first object that names a key twice (serde_json
/// would keep the last silently).
struct NoDuplicateKeys;

impl<'de> de::Deserialize<'de> for NoDuplicateKeys {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NoDuplicateKeys)
    }
}

impl<'de> DeserializeSeed<'de> for NoDuplicateKeys {
    type Value = NoDuplicateKeys;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NoDuplicateKeys)
    }
}

impl<'de> Visitor<'de> for NoDuplicateKeys {
    type Value = NoDuplicateKeys;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self, E> {
        Ok(self)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self, E> {
        Ok(self)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self, E> {
        Ok(self)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self, E> {
        Ok(self)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self, E> {
        Ok(self)
    }
    fn visit_unit<E>(self) -> Result<Self, E> {
        Ok(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self, A::Error> {
        while seq.next_element_seed(NoDuplicateKeys)?.is_some() {}
        Ok(self)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self, A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(de::Error::custom(format!(
                    "the key '{key}' appears twice in one object"
                )));
            }
            map.next_value_seed(NoDuplicateKeys)?;
        }
        Ok(self)
    }
}

/// Rewrites every number without a fraction (`500.0`) as the integer it is: JSON has one
/// number type, and JSON Schema counts `500.0` as an integer. Numbers beyond 9e15, where a
/// double no longer holds every integer, stay as they are (and are refused where an
/// integer is due).
fn integral_numbers_as_integers(value: &mut Value) {
    match value {
        Value::Number(number) if number.is_f64() => {
            if let Some(float) = number.as_f64()
                && float.fract() == 0.0
                && float.abs() <= 9.0e15
            {
                *value = if float < 0.0 {
                    Value::from(float as i64)
                } else {
                    Value::from(float as u64)
                };
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_numbers_as_integers),
        Value::Object(map) => map.values_mut().for_each(integral_numbers_as_integers),
        _ => {}
    }
}

/// The first string in a JSON value that holds a NUL character, as a field path.
pub fn find_nul(value: &Value, path: &str) -> Option<String> {
    match value {
        Value::String(text) if text.contains('\0') => Some(path.to_owned()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(position, item)| find_nul(item, &format!("{path}[{position}]"))),
        Value::Object(map) => map.iter().find_map(|(key, inner)| {
            if key.contains('\0') {
                Some(join(path, "<key>"))
            } else {
                find_nul(inner, &join(path, key))
            }
        }),
        _ => None,
    }
}

/// The largest amount of money a request may carry: $9,999,999,999.99, so that a hundred
/// lines of 100,000 units each still add up inside the store's range.
pub const MAX_MONEY_DOLLARS: u64 = 9_999_999_999;

/// The domain parsers are lenient (lower-case codes, spaces, `20250105`, `14,000,000`);
/// the API takes only the forms its OpenAPI document describes, so that the document is
/// exactly the contract: upper-case codes, `YYYY-MM-DD` dates from [`MIN_YEAR`] to
/// [`MAX_YEAR`], money as in [`money_text_ok`].
fn exact_form<T: Any>(parsed: &T, raw: &Value) -> Result<(), String> {
    let parsed = parsed as &dyn Any;
    let text = raw.as_str();
    if let Some(date) = parsed.downcast_ref::<Date>() {
        let shaped = text.is_some_and(|text| {
            text.len() == 10
                && text.char_indices().all(|(at, c)| {
                    if at == 4 || at == 7 {
                        c == '-'
                    } else {
                        c.is_ascii_digit()
                    }
                })
        });
        if !shaped || !(MIN_YEAR..=MAX_YEAR).contains(&date.year()) {
            return Err(format!(
                "must be a date YYYY-MM-DD from {MIN_YEAR} to {MAX_YEAR}"
            ));
        }
    } else if parsed.is::<Usd>() {
        let fits = match raw {
            Value::Number(number) => number.as_u64().is_some_and(|n| n <= MAX_MONEY_DOLLARS),
            Value::String(text) => money_text_ok(text),
            _ => false,
        };
        if !fits {
            return Err(format!(
                "money is whole dollars up to {MAX_MONEY_DOLLARS}, or a string such as \"4000000.50\", \"$14M\" or \"$1.2B\" (at most two decimals, below $10B)"
            ));
        }
    } else if let Some(country) = parsed.downcast_ref::<expedite_core::Country>() {
        if text != Some(country.iso3()) {
            return Err(format!(
                "must be an upper-case ISO 3166-1 alpha-3 code such as {}",
                country.iso3()
            ));
        }
    } else if let Some(id) = parsed.downcast_ref::<expedite_core::CaseId>()
        && text != Some(id.as_str())
    {
        return Err(format!(
            "must be written in upper case without spaces: {id}"
        ));
    }
    Ok(())
}

/// Money as text: an optional `$`, then up to ten whole digits with up to two decimals,
/// or up to four with an `M` suffix, or one with a `B` suffix; no leading zeros.
pub fn money_text_ok(text: &str) -> bool {
    let text = text.strip_prefix('$').unwrap_or(text);
    let (number, max_whole) = if let Some(number) = text.strip_suffix('M') {
        (number, 4)
    } else if let Some(number) = text.strip_suffix('B') {
        (number, 1)
    } else {
        (text, 10)
    };
    let (whole, fraction) = match number.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (number, None),
    };
    let whole_ok = !whole.is_empty()
        && whole.len() <= max_whole
        && whole.bytes().all(|b| b.is_ascii_digit())
        && (whole == "0" || !whole.starts_with('0') || max_whole == 1);
    let fraction_ok = fraction.is_none_or(|fraction| {
        (1..=2).contains(&fraction.len()) && fraction.bytes().all(|b| b.is_ascii_digit())
    });
    whole_ok && fraction_ok
}

/// Whether a text holds a control character (U+0000–U+001F, U+007F).
pub fn has_control(text: &str) -> bool {
    text.chars().any(|c| c.is_ascii_control())
}

/// Refuses query parameters whose name or value holds a NUL character.
///
/// # Errors
/// [`ApiError::Invalid`] naming the parameter.
pub fn refuse_nul_params(params: &[(String, String)]) -> Result<(), ApiError> {
    match params
        .iter()
        .find(|(key, value)| key.contains('\0') || value.contains('\0'))
    {
        Some((key, _)) => Err(ApiError::invalid(
            key.replace('\0', "\\0"),
            "must not contain a NUL character",
        )),
        None => Ok(()),
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
    pub fn optional<T: DeserializeOwned + Any>(
        &mut self,
        object: &Map<String, Value>,
        path: &str,
        key: &str,
    ) -> Option<T> {
        let value = object.get(key)?;
        let field = join(path, key);
        if let Some(nul) = find_nul(value, &field) {
            self.fail(nul, "must not contain a NUL character");
            return None;
        }
        // JSON has one number type: 500.0 is the integer 500 (as JSON Schema says). Only a
        // number with a fraction, or one too large to hold every integer exactly, is refused.
        let integral = value
            .as_f64()
            .filter(|number| value.is_f64() && number.fract() == 0.0 && number.abs() <= 9.0e15)
            .map(|number| {
                if number < 0.0 {
                    Value::from(number as i64)
                } else {
                    Value::from(number as u64)
                }
            });
        let value = integral.as_ref().unwrap_or(value);
        if let Value::Number(number) = value
            && !number.is_i64()
            && !number.is_u64()
        {
            let is_money = std::any::TypeId::of::<T>() == std::any::TypeId::of::<Usd>();
            self.fail(
                field,
                if is_money {
                    "money is whole dollars as an integer, or a string such as \"90071992547409.93\": a JSON number with a fraction could be rounded"
                } else {
                    "must be a whole number, without a fraction"
                },
            );
            return None;
        }
        match serde_json::from_value::<T>(value.clone()) {
            Ok(parsed) => match exact_form(&parsed, value) {
                Ok(()) => Some(parsed),
                Err(message) => {
                    self.fail(field, message);
                    None
                }
            },
            Err(error) => {
                self.fail(join(path, key), error.to_string());
                None
            }
        }
    }

    /// A value that must be present.
    pub fn required<T: DeserializeOwned + Any>(
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

    /// Text no longer than `max` characters, without control characters.
    pub fn text(&mut self, value: Option<String>, field: &str, max: usize) -> Option<String> {
        let text = value?;
        if has_control(&text) {
            self.fail(field.to_owned(), "must not contain control characters");
            return None;
        }
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
