//! Token verification: a `connect` frame's JWT becomes an [`Identity`]. The checks of
//! the token itself (pinned algorithm, so `alg: none` and algorithm-confusion tokens
//! are refused; `aud`, `iss`, `exp`, `nbf`) are [`plenary_auth`]'s, shared with the
//! reporting service; this module reads the gateway's claims from it. Names from the
//! claims are cleaned by the rule in [`crate::text`].

use std::collections::HashSet;

use plenary_actors::Identity;
pub use plenary_auth::{AuthError, TokenVerifier};
use serde::Deserialize;

use crate::{config::Settings, text};

/// The claims Plenary reads.
#[derive(Debug, Deserialize)]
struct Claims {
    /// Required (checked by the validation, which then names a missing one: a default
    /// here lets the check run instead of a bare decoding error).
    #[serde(default)]
    sub: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    given_name: String,
    #[serde(default)]
    family_name: String,
    /// Context ids this user moderates.
    #[serde(default)]
    moderates: Vec<String>,
    /// Moderates every context.
    #[serde(default)]
    admin: bool,
    /// Expiry, seconds since the Unix epoch (required and checked by the validation).
    #[serde(default)]
    exp: u64,
}

/// A verified token: who, and until when.
#[derive(Debug)]
pub struct Verified {
    pub identity: Identity,
    /// When the token stops being valid (`exp` plus the leeway), Unix seconds. An open
    /// connection is closed with 4001 once this has passed.
    pub valid_until_secs: u64,
}

/// Verifies tokens with the configured key and rules, and reads who they name.
#[derive(Clone, Debug)]
pub struct Verifier {
    tokens: TokenVerifier,
}

impl Verifier {
    /// Builds the verifier; fails on an unreadable key.
    pub fn new(settings: &Settings) -> Result<Self, String> {
        let tokens = TokenVerifier::new(&settings.config.jwt, &settings.jwt_key)?;
        Ok(Verifier { tokens })
    }

    /// The token checks alone, for services that read other claims (reports).
    pub fn tokens(&self) -> &TokenVerifier {
        &self.tokens
    }

    /// Checks a token and returns who it names.
    pub fn verify(&self, token: &str) -> Result<Verified, AuthError> {
        let c: Claims = self.tokens.decode(token)?;
        // The user id is an identity, not a label: it is refused rather than changed
        // when it holds what a name would lose (controls, bidi controls, invisible
        // characters, white space at the ends).
        if c.sub.is_empty() || c.sub.len() > 128 || text::clean_name(&c.sub) != c.sub {
            return Err(AuthError::Malformed);
        }
        Ok(Verified {
            valid_until_secs: c.exp.saturating_add(self.tokens.leeway_secs()),
            identity: Identity {
                user_id: c.sub,
                email: text::clean_name(&c.email),
                given_name: text::clean_name(&c.given_name),
                family_name: text::clean_name(&c.family_name),
                moderates: c.moderates.into_iter().collect::<HashSet<_>>(),
                admin: c.admin,
            },
        })
    }
}
