//! Bearer tokens and what each role may do.
//!
//! | role | sees | writes |
//! | --- | --- | --- |
//! | `admin` | every case | every case |
//! | `case_manager` | its agency's cases | opens and transitions them |
//! | `purchaser` | its country's cases | nothing |
//! | `analyst` | every case | nothing |
//!
//! A case outside the caller's scope is answered with 404, so its existence does not leak;
//! a write the role may not make on a case it can see is a 403.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use expedite_store::{Author, Role, Scope, TokenInfo};

use crate::AppState;
use crate::error::ApiError;

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    token: TokenInfo,
}

impl Caller {
    /// The caller a token makes (the dashboard's sessions hold tokens).
    pub(crate) fn from_token(token: TokenInfo) -> Caller {
        Caller { token }
    }

    /// The token's name, recorded in the events it writes.
    pub fn name(&self) -> &str {
        &self.token.name
    }

    /// The token's public id (for per-token limits).
    pub fn token_id(&self) -> &str {
        &self.token.id
    }

    /// The role.
    pub fn role(&self) -> Role {
        self.token.role
    }

    /// Which cases this caller may see.
    pub fn scope(&self) -> Scope {
        match (self.token.role, self.token.country, self.token.agency) {
            (Role::Purchaser, Some(country), _) => Scope::Purchaser(country),
            (Role::CaseManager, _, Some(agency)) => Scope::Agency(agency),
            (Role::Admin | Role::Analyst, _, _) => Scope::All,
            // A purchaser without a country or a manager without an agency cannot be
            // created; if one is read back all the same, it sees nothing.
            (Role::Purchaser | Role::CaseManager, _, _) => {
                Scope::Agency(expedite_core::Agency::Other)
            }
        }
    }

    /// Whether the caller may open or transition a case it can see.
    ///
    /// # Errors
    /// [`ApiError::Forbidden`] for purchasers and analysts.
    pub fn may_write(&self) -> Result<(), ApiError> {
        match self.token.role {
            Role::Admin | Role::CaseManager => Ok(()),
            Role::Purchaser | Role::Analyst => Err(ApiError::Forbidden("write cases")),
        }
    }

    /// Who a write is recorded as, at `at`.
    pub fn author(&self, at: jiff::Timestamp) -> Author {
        Author {
            name: self.token.name.clone(),
            at,
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
        let secret = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|secret| !secret.is_empty())
            .ok_or(ApiError::Unauthorized)?;
        let token = state
            .store
            .authenticate(secret, crate::now())
            .await?
            .ok_or(ApiError::Unauthorized)?;
        Ok(Caller { token })
    }
}
