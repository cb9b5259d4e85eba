//! Sign-in, sessions and CSRF protection for the dashboard.
//!
//! `POST /login` takes an API token (the field `token`) and, when the store knows it, starts
//! a session: a random id in a cookie that is `HttpOnly`, `SameSite=Strict` and, when the
//! request came over TLS (a proxy's `X-Forwarded-Proto: https` or `Forwarded: proto=https`),
//! `Secure`. The session holds the token in this process's memory only; every request
//! authenticates it against the store again, so a revoked token signs its sessions out at
//! once. Sessions end after [`SESSION_HOURS`] hours or on `POST /logout`; a restart of the
//! server signs everyone out.
//!
//! Every form carries a CSRF token. After sign-in it is a random value bound to the session;
//! the sign-in form itself uses a double-submit cookie (a random value both in a cookie and in
//! the form). A form whose token does not match is refused with 403.

use std::collections::HashMap;
use std::sync::Mutex;

use askama::Template;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use sha2::{Digest, Sha256};

use super::{PageError, html_with};
use crate::AppState;
use crate::auth::Caller;

/// The session cookie.
pub const SESSION_COOKIE: &str = "expedite_session";
/// The sign-in form's double-submit cookie.
pub const LOGIN_COOKIE: &str = "expedite_login";
/// How long a session lasts.
pub const SESSION_HOURS: i64 = 8;
/// Most sessions kept at once; the oldest go first.
pub const MAX_SESSIONS: usize = 10_000;
/// Longest token accepted in the form (real ones are far shorter).
const MAX_TOKEN_CHARS: usize = 200;

#[derive(Debug, Clone)]
struct Session {
    secret: String,
    csrf: String,
    expires: jiff::Timestamp,
}

/// The sessions of this server process, by the SHA-256 of their id (so the map holds no
/// cookie value an attacker could reuse).
#[derive(Debug, Default)]
pub struct Sessions {
    live: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    /// Starts a session for a token secret; returns the cookie value.
    fn start(&self, secret: &str, now: jiff::Timestamp) -> Result<String, PageError> {
        let id = random_hex()?;
        let session = Session {
            secret: secret.to_owned(),
            csrf: random_hex()?,
            expires: now
                .checked_add(jiff::SignedDuration::from_hours(SESSION_HOURS))
                .unwrap_or(now),
        };
        let mut live = self.lock();
        live.retain(|_, session| session.expires > now);
        if live.len() >= MAX_SESSIONS
            && let Some(oldest) = live
                .iter()
                .min_by_key(|(_, session)| session.expires)
                .map(|(key, _)| key.clone())
        {
            live.remove(&oldest);
        }
        live.insert(digest(&id), session);
        Ok(id)
    }

    fn get(&self, id: &str, now: jiff::Timestamp) -> Option<Session> {
        let key = digest(id);
        let mut live = self.lock();
        match live.get(&key) {
            Some(session) if session.expires > now => Some(session.clone()),
            Some(_) => {
                live.remove(&key);
                None
            }
            None => None,
        }
    }

    fn end(&self, id: &str) {
        self.lock().remove(&digest(id));
    }

    /// How many sessions are live (for tests and logs).
    pub fn count(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        // A panic while holding the lock cannot leave the map half-written (every change
        // is one insert or remove), so a poisoned lock is still safe to use.
        self.live
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn digest(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// 32 random bytes from the operating system, as hex.
pub(crate) fn random_hex() -> Result<String, PageError> {
    let mut bytes = [0_u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|error| PageError::Internal(format!("no randomness: {error}")))?;
    Ok(hex::encode(bytes))
}

/// Compares two secrets in time independent of where they differ.
fn same_secret(left: &str, right: &str) -> bool {
    let (left, right) = (
        Sha256::digest(left.as_bytes()),
        Sha256::digest(right.as_bytes()),
    );
    left.iter()
        .zip(right.iter())
        .fold(0_u8, |acc, (a, b)| acc | (a ^ b))
        == 0
}

/// The value of a cookie in the request, if sent.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
}

/// Whether the request reached the proxy in front of the server over TLS.
fn over_tls(headers: &HeaderMap) -> bool {
    let header_says = |name: &str, test: &dyn Fn(&str) -> bool| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .is_some_and(test)
    };
    header_says("x-forwarded-proto", &|value| {
        value.trim().eq_ignore_ascii_case("https")
    }) || header_says("forwarded", &|value| {
        value.to_ascii_lowercase().contains("proto=https")
    })
}

fn set_cookie(
    name: &str,
    value: &str,
    max_age: i64,
    secure: bool,
) -> Result<HeaderValue, PageError> {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .map_err(|error| PageError::Internal(format!("cookie: {error}")))
}

/// A signed-in viewer of a page: the caller its token makes, and its session's CSRF token.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// The token's caller, with the same scope as in the API.
    pub caller: Caller,
    /// The session's CSRF token, for forms.
    pub csrf: String,
    /// The session cookie's value.
    session: String,
}

impl Viewer {
    /// Refuses a form whose CSRF token is not this session's.
    ///
    /// # Errors
    /// [`PageError::Csrf`].
    pub fn check_csrf(&self, sent: Option<&str>) -> Result<(), PageError> {
        match sent {
            Some(sent) if same_secret(sent, &self.csrf) => Ok(()),
            _ => Err(PageError::Csrf),
        }
    }

    /// An id only this session knows, to tie forecast runs to it.
    pub(crate) fn session_key(&self) -> String {
        digest(&self.session)
    }
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Viewer, PageError> {
        let next = parts
            .uri
            .path_and_query()
            .map_or("/", |path| path.as_str())
            .to_owned();
        let sign_in = || PageError::SignIn { next: next.clone() };
        let id = cookie(&parts.headers, SESSION_COOKIE).ok_or_else(sign_in)?;
        let session = state
            .dashboard
            .sessions
            .get(id, crate::now())
            .ok_or_else(sign_in)?;
        let Some(token) = state
            .store
            .authenticate(&session.secret, crate::now())
            .await?
        else {
            state.dashboard.sessions.end(id);
            return Err(sign_in());
        };
        Ok(Viewer {
            caller: Caller::from_token(token),
            csrf: session.csrf,
            session: id.to_owned(),
        })
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    csrf: &'a str,
    next: &'a str,
    message: Option<&'a str>,
}

/// The page to return to after sign-in: a path on this site, nothing else.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

/// `GET /login`: the sign-in form, with a fresh double-submit CSRF cookie.
pub async fn login_form(
    headers: HeaderMap,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let next = safe_next(
        params
            .iter()
            .find(|(key, _)| key == "next")
            .map(|(_, value)| value.as_str()),
    );
    login_page(&headers, &next, None, StatusCode::OK)
}

fn login_page(
    headers: &HeaderMap,
    next: &str,
    message: Option<&str>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let csrf = random_hex()?;
    let mut response = html_with(
        status,
        &LoginPage {
            csrf: &csrf,
            next,
            message,
        },
    )?;
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(LOGIN_COOKIE, &csrf, 3600, over_tls(headers))?,
    );
    Ok(response)
}

/// `POST /login`: `token`, `csrf`, `next`.
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, PageError> {
    let Form(fields) = form.map_err(|rejection| PageError::BadRequest(rejection.body_text()))?;
    let field = |name: &str| form_field(&fields, name);
    match (cookie(&headers, LOGIN_COOKIE), field("csrf")) {
        (Some(expected), Some(sent)) if same_secret(expected, sent) => {}
        _ => return Err(PageError::Csrf),
    }
    let next = safe_next(field("next"));
    let secret = field("token").map(str::trim).unwrap_or_default();
    if secret.is_empty() || secret.chars().count() > MAX_TOKEN_CHARS {
        return login_page(
            &headers,
            &next,
            Some("Enter the access token you were given."),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    if state
        .store
        .authenticate(secret, crate::now())
        .await?
        .is_none()
    {
        return login_page(
            &headers,
            &next,
            Some("That token is unknown or has been revoked."),
            StatusCode::UNAUTHORIZED,
        );
    }
    let id = state.dashboard.sessions.start(secret, crate::now())?;
    let secure = over_tls(&headers);
    let mut response = Redirect::to(&next).into_response();
    let cookies = response.headers_mut();
    cookies.append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, &id, SESSION_HOURS * 3600, secure)?,
    );
    cookies.append(header::SET_COOKIE, set_cookie(LOGIN_COOKIE, "", 0, secure)?);
    Ok(response)
}

/// `POST /logout`: ends the session and clears its cookie.
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    viewer: Viewer,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, PageError> {
    let Form(fields) = form.map_err(|rejection| PageError::BadRequest(rejection.body_text()))?;
    viewer.check_csrf(form_field(&fields, "csrf"))?;
    state.dashboard.sessions.end(&viewer.session);
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", 0, over_tls(&headers))?,
    );
    Ok(response)
}

/// The first value of a form field.
pub(crate) fn form_field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_on_this_site_are_returned_to_after_sign_in() {
        assert_eq!(safe_next(Some("/cases/PL-B-ZAB")), "/cases/PL-B-ZAB");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn a_cookie_is_secure_only_behind_tls() {
        let mut headers = HeaderMap::new();
        assert!(!over_tls(&headers));
        headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert!(over_tls(&headers));
        let cookie = set_cookie(SESSION_COOKIE, "abc", 60, true).expect("cookie");
        let text = cookie.to_str().expect("ascii");
        assert!(
            text.contains("HttpOnly")
                && text.contains("SameSite=Strict")
                && text.ends_with("Secure")
        );
    }

    #[test]
    fn an_expired_or_ended_session_is_gone() {
        let sessions = Sessions::default();
        let now = jiff::Timestamp::UNIX_EPOCH;
        let id = sessions.start("secret", now).expect("start");
        assert!(sessions.get(&id, now).is_some());
        let later = now
            .checked_add(jiff::SignedDuration::from_hours(SESSION_HOURS + 1))
            .expect("later");
        assert!(sessions.get(&id, later).is_none());
        let id = sessions.start("secret", now).expect("start");
        sessions.end(&id);
        assert!(sessions.get(&id, now).is_none());
    }
}
