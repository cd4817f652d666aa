//! JWT claims as the gateway reads them, and HS256 minting for tests and load runs.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};

/// The audience and issuer a gateway expects unless configured otherwise.
pub const DEFAULT_AUDIENCE: &str = "plenary";
/// See [`DEFAULT_AUDIENCE`].
pub const DEFAULT_ISSUER: &str = "plenary";

/// How long a token from [`Claims::new`] stays valid.
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);

/// Why a token could not be minted.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// jsonwebtoken refused the key or the claims.
    #[error("could not sign the token: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
}

/// The claims of a Plenary access token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    /// The user's e-mail address (shown to moderators).
    pub email: String,
    /// First name shown with the user's messages.
    pub given_name: String,
    /// Last name shown with the user's messages.
    pub family_name: String,
    /// Ids of the contexts this user moderates.
    #[serde(default)]
    pub moderates: Vec<String>,
    /// An administrator moderates every context.
    #[serde(default)]
    pub admin: bool,
    /// Contexts whose reports this token may read (the reporting service).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub report_contexts: Vec<String>,
    /// Expiry, seconds since the Unix epoch.
    pub exp: u64,
    /// Not valid before, seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    /// Issued at, seconds since the Unix epoch.
    pub iat: u64,
    /// Audience; the gateway expects [`DEFAULT_AUDIENCE`] unless configured otherwise.
    pub aud: String,
    /// Issuer; the gateway expects [`DEFAULT_ISSUER`] unless configured otherwise.
    pub iss: String,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Claims {
    /// Claims for user `sub` that any default gateway accepts: e-mail
    /// `<sub>@example.test`, given name `<sub>`, family name `Test`, no moderated
    /// contexts, audience and issuer `plenary`, issued now, expiring in an hour.
    pub fn new(sub: impl Into<String>) -> Self {
        let sub = sub.into();
        let now = unix_now();
        Claims {
            email: format!("{sub}@example.test"),
            given_name: sub.clone(),
            family_name: "Test".to_owned(),
            sub,
            moderates: Vec::new(),
            admin: false,
            report_contexts: Vec::new(),
            exp: now + DEFAULT_LIFETIME.as_secs(),
            nbf: None,
            iat: now,
            aud: DEFAULT_AUDIENCE.to_owned(),
            iss: DEFAULT_ISSUER.to_owned(),
        }
    }

    /// Sets the display name.
    pub fn with_name(
        mut self,
        given_name: impl Into<String>,
        family_name: impl Into<String>,
    ) -> Self {
        self.given_name = given_name.into();
        self.family_name = family_name.into();
        self
    }

    /// Sets the e-mail address.
    pub fn with_email(mut self, email: impl Into<String>) -> Self {
        self.email = email.into();
        self
    }

    /// Sets the contexts this user moderates.
    pub fn with_moderates<I, S>(mut self, contexts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.moderates = contexts.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the contexts whose reports this token may read.
    pub fn with_report_contexts<I, S>(mut self, contexts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.report_contexts = contexts.into_iter().map(Into::into).collect();
        self
    }

    /// Makes the user an administrator (or not).
    pub fn with_admin(mut self, admin: bool) -> Self {
        self.admin = admin;
        self
    }

    /// Sets the audience.
    pub fn with_aud(mut self, aud: impl Into<String>) -> Self {
        self.aud = aud.into();
        self
    }

    /// Sets the issuer.
    pub fn with_iss(mut self, iss: impl Into<String>) -> Self {
        self.iss = iss.into();
        self
    }

    /// Sets the expiry, seconds since the Unix epoch (a past value makes an expired
    /// token).
    pub fn with_exp(mut self, exp: u64) -> Self {
        self.exp = exp;
        self
    }

    /// Makes the token expire `lifetime` from now.
    pub fn expires_in(self, lifetime: Duration) -> Self {
        self.with_exp(unix_now().saturating_add(lifetime.as_secs()))
    }

    /// Sets the not-before time, seconds since the Unix epoch.
    pub fn with_nbf(mut self, nbf: Option<u64>) -> Self {
        self.nbf = nbf;
        self
    }

    /// Sets the issued-at time, seconds since the Unix epoch.
    pub fn with_iat(mut self, iat: u64) -> Self {
        self.iat = iat;
        self
    }
}

/// Signs `claims` with HS256 and `secret`, giving a compact JWT.
pub fn mint_hs256(secret: &[u8], claims: &Claims) -> Result<String, TokenError> {
    Ok(jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret),
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation, decode};

    fn validation() -> Validation {
        let mut v = Validation::new(Algorithm::HS256);
        v.set_audience(&[DEFAULT_AUDIENCE]);
        v.set_issuer(&[DEFAULT_ISSUER]);
        v
    }

    #[test]
    fn mint_round_trip() {
        let claims = Claims::new("alice")
            .with_moderates(["w1", "w2"])
            .with_name("Alice", "Liddell");
        let token = mint_hs256(b"s3cret", &claims).unwrap();
        let data =
            decode::<Claims>(&token, &DecodingKey::from_secret(b"s3cret"), &validation()).unwrap();
        assert_eq!(data.claims, claims);
        assert_eq!(data.claims.email, "alice@example.test");
        assert_eq!(data.claims.moderates, ["w1", "w2"]);
        assert!(!data.claims.admin);
        assert!(data.claims.exp > data.claims.iat);
    }

    #[test]
    fn wrong_secret_audience_or_expiry_is_refused() {
        let token = mint_hs256(b"one", &Claims::new("bob")).unwrap();
        assert!(
            decode::<Claims>(&token, &DecodingKey::from_secret(b"two"), &validation()).is_err()
        );

        let token = mint_hs256(b"one", &Claims::new("bob").with_aud("other")).unwrap();
        assert!(
            decode::<Claims>(&token, &DecodingKey::from_secret(b"one"), &validation()).is_err()
        );

        let token = mint_hs256(b"one", &Claims::new("bob").with_exp(1)).unwrap();
        assert!(
            decode::<Claims>(&token, &DecodingKey::from_secret(b"one"), &validation()).is_err()
        );
    }

    #[test]
    fn nbf_is_omitted_unless_set() {
        let json = serde_json::to_value(Claims::new("c")).unwrap();
        assert!(json.get("nbf").is_none());
        assert_eq!(json["admin"], false);
        let json =
            serde_json::to_value(Claims::new("c").with_nbf(Some(5)).with_admin(true)).unwrap();
        assert_eq!(json["nbf"], 5);
        assert_eq!(json["admin"], true);
    }
}
