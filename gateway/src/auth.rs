//! Token verification: a `connect` frame's JWT becomes an [`Identity`]. The algorithm
//! is pinned by configuration, so `alg: none` and algorithm-confusion tokens (an HS256
//! token "signed" with an RS256 public key) are refused. Names from the claims are
//! cleaned by the rule in [`crate::text`].

use std::collections::HashSet;

use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};
use plenary_actors::Identity;
use serde::Deserialize;

use crate::{
    config::{JwtAlgorithm, JwtKey, Settings},
    text,
};

/// The claims Plenary reads.
#[derive(Debug, Deserialize)]
struct Claims {
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
    /// Contexts whose reports the token may read (the reporting service).
    #[serde(default)]
    report_contexts: Vec<String>,
    /// Expiry, seconds since the Unix epoch (required and checked by the validation).
    exp: u64,
}

/// A verified token: who, and until when.
#[derive(Debug)]
pub struct Verified {
    pub identity: Identity,
    /// When the token stops being valid (`exp` plus the leeway), Unix seconds. An open
    /// connection is closed with 4001 once this has passed.
    pub valid_until_secs: u64,
    /// Contexts whose reports it may read.
    pub report_contexts: Vec<String>,
}

/// Why a token was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("token expired")]
    Expired,
    #[error("token not valid yet")]
    NotYetValid,
    #[error("token has the wrong audience")]
    WrongAudience,
    #[error("token has the wrong issuer")]
    WrongIssuer,
    #[error("token algorithm not accepted")]
    WrongAlgorithm,
    #[error("token signature is invalid")]
    BadSignature,
    #[error("token is malformed or lacks a required claim")]
    Malformed,
}

/// Verifies tokens with the configured key and rules.
#[derive(Clone)]
pub struct Verifier {
    key: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("algorithms", &self.validation.algorithms)
            .finish()
    }
}

impl Verifier {
    /// Builds the verifier; fails on an unreadable key.
    pub fn new(settings: &Settings) -> Result<Self, String> {
        let config = &settings.config;
        let (algorithm, key) = match (&settings.jwt_key, config.jwt_algorithm) {
            (JwtKey::Secret(s), JwtAlgorithm::Hs256) => {
                (Algorithm::HS256, DecodingKey::from_secret(s))
            }
            (JwtKey::PublicKeyPem(pem), JwtAlgorithm::Rs256) => (
                Algorithm::RS256,
                DecodingKey::from_rsa_pem(pem)
                    .map_err(|e| format!("invalid RSA public key: {e}"))?,
            ),
            (JwtKey::PublicKeyPem(pem), JwtAlgorithm::EdDsa) => (
                Algorithm::EdDSA,
                DecodingKey::from_ed_pem(pem)
                    .map_err(|e| format!("invalid Ed25519 public key: {e}"))?,
            ),
            _ => return Err("JWT key does not match the algorithm".into()),
        };
        let mut validation = Validation::new(algorithm);
        validation.leeway = config.jwt_leeway_secs;
        validation.validate_nbf = true;
        validation.set_audience(&[&config.jwt_audience]);
        validation.set_issuer(&[&config.jwt_issuer]);
        validation.set_required_spec_claims(&["exp", "sub", "aud", "iss"]);
        Ok(Verifier { key, validation })
    }

    /// Checks a token and returns who it names.
    pub fn verify(&self, token: &str) -> Result<Verified, AuthError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation).map_err(
            |e| match e.kind() {
                ErrorKind::ExpiredSignature => AuthError::Expired,
                ErrorKind::ImmatureSignature => AuthError::NotYetValid,
                ErrorKind::InvalidAudience => AuthError::WrongAudience,
                ErrorKind::InvalidIssuer => AuthError::WrongIssuer,
                ErrorKind::InvalidAlgorithm
                | ErrorKind::InvalidAlgorithmName
                | ErrorKind::MissingAlgorithm => AuthError::WrongAlgorithm,
                ErrorKind::InvalidSignature => AuthError::BadSignature,
                _ => AuthError::Malformed,
            },
        )?;
        let c = data.claims;
        // The user id is an identity, not a label: it is refused rather than changed
        // when it holds what a name would lose (controls, bidi controls, invisible
        // characters, white space at the ends).
        if c.sub.is_empty() || c.sub.len() > 128 || text::clean_name(&c.sub) != c.sub {
            return Err(AuthError::Malformed);
        }
        Ok(Verified {
            valid_until_secs: c.exp.saturating_add(self.validation.leeway),
            report_contexts: c.report_contexts,
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
