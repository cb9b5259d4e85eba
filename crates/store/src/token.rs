//! Access tokens: a role, an optional country or agency, a name; stored only as hashes.
//!
//! A token's secret is `exp_` followed by 64 hex digits (32 random bytes from the thread's
//! cryptographic generator). The store keeps its SHA-256 and never the secret, which is
//! shown once when the token is created.

use std::fmt;

use expedite_core::{Agency, Country};
use rand::Rng as _;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::StoreError;

/// Prefix of every token secret, so that a leaked one is recognisable.
pub const SECRET_PREFIX: &str = "exp_";

/// What a token may do (the web crate enforces it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything.
    Admin,
    /// Open and transition the cases of one implementing agency.
    CaseManager,
    /// Read the cases of one purchasing country.
    Purchaser,
    /// Read everything, write nothing.
    Analyst,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 4] = [
        Role::Admin,
        Role::CaseManager,
        Role::Purchaser,
        Role::Analyst,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::CaseManager => "case_manager",
            Role::Purchaser => "purchaser",
            Role::Analyst => "analyst",
        }
    }

    /// Reads a wire name.
    ///
    /// # Errors
    /// [`StoreError::InvalidToken`] listing the roles.
    pub fn parse(text: &str) -> Result<Role, StoreError> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == text.trim())
            .ok_or_else(|| {
                StoreError::InvalidToken(format!(
                    "unknown role '{text}': expected admin, case_manager, purchaser or analyst"
                ))
            })
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A token to create: checked so that each role has exactly the scope it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    role: Role,
    country: Option<Country>,
    agency: Option<Agency>,
    name: Option<String>,
    expires_at: Option<jiff::Timestamp>,
}

impl NewToken {
    /// A purchaser needs a country, a case manager an agency; admin and analyst take neither.
    ///
    /// # Errors
    /// [`StoreError::InvalidToken`] saying what is missing or extra.
    pub fn new(
        role: Role,
        country: Option<Country>,
        agency: Option<Agency>,
        name: Option<String>,
    ) -> Result<NewToken, StoreError> {
        let invalid = |message: &str| Err(StoreError::InvalidToken(message.to_owned()));
        match (role, country.is_some(), agency.is_some()) {
            (Role::Purchaser, false, _) => return invalid("a purchaser token needs --country"),
            (Role::CaseManager, _, false) => return invalid("a case_manager token needs --agency"),
            (Role::Purchaser, _, true) => return invalid("a purchaser token takes no --agency"),
            (Role::CaseManager, true, _) => {
                return invalid("a case_manager token takes no --country");
            }
            (Role::Admin | Role::Analyst, true, _) | (Role::Admin | Role::Analyst, _, true) => {
                return invalid("admin and analyst tokens take neither --country nor --agency");
            }
            _ => {}
        }
        if let Some(name) = &name {
            let valid = !name.is_empty()
                && name.len() <= 64
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c));
            if !valid {
                return invalid("a token name is 1 to 64 letters, digits, '-', '_', '.' or '@'");
            }
        }
        Ok(NewToken {
            role,
            country,
            agency,
            name,
            expires_at: None,
        })
    }

    /// The same token, no longer accepted from `at` on.
    pub fn expiring(self, at: jiff::Timestamp) -> NewToken {
        NewToken {
            expires_at: Some(at),
            ..self
        }
    }

    /// When it stops being accepted, if ever.
    pub fn expires_at(&self) -> Option<jiff::Timestamp> {
        self.expires_at
    }

    /// The role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The purchasing country, for a purchaser.
    pub fn country(&self) -> Option<Country> {
        self.country
    }

    /// The agency, for a case manager.
    pub fn agency(&self) -> Option<Agency> {
        self.agency
    }

    /// The chosen name, if any (otherwise one is made from the role and id).
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

/// A stored token, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    /// Short public id.
    pub id: String,
    /// Name recorded in every event it writes.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// The purchasing country of a purchaser token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<Country>,
    /// The agency of a case-manager token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agency: Option<Agency>,
    /// When it was created.
    pub created_at: jiff::Timestamp,
    /// When it stops being accepted, if ever.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<jiff::Timestamp>,
    /// When it was revoked, if it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<jiff::Timestamp>,
}

/// A token just created: the only time its secret exists outside the caller's hands.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct IssuedToken {
    /// The bearer secret.
    pub token: String,
    /// What was stored.
    #[serde(flatten)]
    pub info: TokenInfo,
}

impl fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedToken")
            .field("token", &"<secret>")
            .field("info", &self.info)
            .finish()
    }
}

/// A fresh secret and a fresh public id.
pub(crate) fn generate() -> (String, String) {
    let mut secret = [0u8; 32];
    let mut id = [0u8; 4];
    let mut rng = rand::rng();
    rng.fill_bytes(&mut secret);
    rng.fill_bytes(&mut id);
    (
        format!("{SECRET_PREFIX}{}", hex::encode(secret)),
        hex::encode(id),
    )
}

/// The stored form of a secret.
pub(crate) fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_need_exactly_their_scope() {
        let poland = Country::from_iso3("POL").ok();
        assert!(NewToken::new(Role::Purchaser, poland, None, None).is_ok());
        assert!(NewToken::new(Role::Purchaser, None, None, None).is_err());
        assert!(NewToken::new(Role::CaseManager, None, Some(Agency::Army), None).is_ok());
        assert!(NewToken::new(Role::CaseManager, poland, Some(Agency::Army), None).is_err());
        assert!(NewToken::new(Role::Analyst, poland, None, None).is_err());
        assert!(NewToken::new(Role::Admin, None, None, Some("has space".into())).is_err());
    }

    #[test]
    fn secrets_are_random_prefixed_and_hashed() {
        let (first, _) = generate();
        let (second, _) = generate();
        assert!(first.starts_with(SECRET_PREFIX) && first.len() == 68);
        assert_ne!(first, second);
        assert_ne!(hash_secret(&first), hash_secret(&second));
        assert_eq!(hash_secret(&first), hash_secret(&first));
    }
}
