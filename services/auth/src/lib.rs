//! Plenary's JWT settings and verification, shared by every process that accepts
//! tokens (the gateway `plenary` and the reporting service `plenary-reporting`), so
//! both read the same `--jwt-*` flags and apply the same rules.
//!
//! - [`JwtArgs`]: the `--jwt-*` flags (each with its `PLENARY_JWT_*` variable), to
//!   `#[command(flatten)]` into a binary's configuration.
//! - [`JwtArgs::key`]: the verification key, read and checked at start-up
//!   ([`JwtKey`]).
//! - [`TokenVerifier`]: checks a token's signature and standard claims and decodes
//!   the claims the caller asks for. The algorithm is pinned by configuration, so
//!   `alg: none` and algorithm-confusion tokens (an HS256 token "signed" with an RS256
//!   public key) are refused.

use std::path::PathBuf;

use clap::ValueEnum;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};
use serde::de::DeserializeOwned;

/// JWT signature algorithm (pinned: tokens signed otherwise are refused).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum JwtAlgorithm {
    /// HMAC-SHA256 with the shared secret in `PLENARY_JWT_SECRET`.
    #[value(name = "HS256")]
    Hs256,
    /// RSA-SHA256, verified with the public key in `--jwt-public-key-file`.
    #[value(name = "RS256")]
    Rs256,
    /// Ed25519, verified with the public key in `--jwt-public-key-file`.
    #[value(name = "EdDSA")]
    EdDsa,
}

/// The JWT flags and environment variables. The secret of HS256 is not among them:
/// it comes only from the environment (`PLENARY_JWT_SECRET`) and is passed to
/// [`JwtArgs::key`].
#[derive(Clone, Debug, clap::Args)]
pub struct JwtArgs {
    /// JWT algorithm.
    #[arg(
        id = "jwt_algorithm",
        value_name = "JWT_ALGORITHM",
        long = "jwt-algorithm",
        env = "PLENARY_JWT_ALGORITHM",
        value_enum,
        default_value = "HS256"
    )]
    pub algorithm: JwtAlgorithm,
    /// PEM public key for RS256 or EdDSA.
    #[arg(
        id = "jwt_public_key_file",
        value_name = "JWT_PUBLIC_KEY_FILE",
        long = "jwt-public-key-file",
        env = "PLENARY_JWT_PUBLIC_KEY_FILE"
    )]
    pub public_key_file: Option<PathBuf>,
    /// Required `aud` claim.
    #[arg(
        id = "jwt_audience",
        value_name = "JWT_AUDIENCE",
        long = "jwt-audience",
        env = "PLENARY_JWT_AUDIENCE",
        default_value = "plenary"
    )]
    pub audience: String,
    /// Required `iss` claim.
    #[arg(
        id = "jwt_issuer",
        value_name = "JWT_ISSUER",
        long = "jwt-issuer",
        env = "PLENARY_JWT_ISSUER",
        default_value = "plenary"
    )]
    pub issuer: String,
    /// Clock skew allowed on `exp` and `nbf`, in seconds.
    #[arg(
        id = "jwt_leeway_secs",
        value_name = "JWT_LEEWAY_SECS",
        long = "jwt-leeway-secs",
        env = "PLENARY_JWT_LEEWAY_SECS",
        default_value_t = 30
    )]
    pub leeway_secs: u64,
}

/// JWT verification material, read and checked at start-up.
#[derive(Clone)]
pub enum JwtKey {
    /// The HS256 shared secret.
    Secret(Vec<u8>),
    /// The PEM public key of RS256 or EdDSA.
    PublicKeyPem(Vec<u8>),
}

impl std::fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        match self {
            JwtKey::Secret(_) => f.write_str("Secret(..)"),
            JwtKey::PublicKeyPem(_) => f.write_str("PublicKeyPem(..)"),
        }
    }
}

impl JwtArgs {
    /// Reads the verification key the algorithm needs: for HS256 the `secret` (the
    /// value of `PLENARY_JWT_SECRET`, at least 16 bytes); for RS256 and EdDSA the file
    /// of `--jwt-public-key-file`. The error is a message for the operator.
    pub fn key(&self, secret: Option<String>) -> Result<JwtKey, String> {
        match self.algorithm {
            JwtAlgorithm::Hs256 => match secret {
                Some(s) if s.len() >= 16 => Ok(JwtKey::Secret(s.into_bytes())),
                Some(_) => Err("PLENARY_JWT_SECRET must be at least 16 bytes".into()),
                None => Err("PLENARY_JWT_SECRET is not set (needed for HS256)".into()),
            },
            JwtAlgorithm::Rs256 | JwtAlgorithm::EdDsa => {
                let Some(path) = &self.public_key_file else {
                    return Err("--jwt-public-key-file (PLENARY_JWT_PUBLIC_KEY_FILE) is required for RS256 and EdDSA".into());
                };
                std::fs::read(path)
                    .map(JwtKey::PublicKeyPem)
                    .map_err(|e| format!("cannot read JWT public key {}: {e}", path.display()))
            }
        }
    }
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
    /// One of the claims every token must carry (`exp`, `sub`, `aud`, `iss`) is
    /// missing: named, so whoever mints tokens knows what to add.
    #[error("token lacks the `{0}` claim (every token needs exp, sub, aud and iss)")]
    MissingClaim(String),
    #[error("token is malformed or lacks a required claim")]
    Malformed,
}

/// Verifies tokens with the configured key and rules: the pinned algorithm, `exp`
/// and `nbf` with the leeway, the `aud` and `iss` of the configuration, and `exp`,
/// `sub`, `aud` and `iss` required.
#[derive(Clone)]
pub struct TokenVerifier {
    key: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key stays out (an HS256 key is the shared secret).
        f.debug_struct("TokenVerifier")
            .field("algorithms", &self.validation.algorithms)
            .field("leeway_secs", &self.validation.leeway)
            .finish_non_exhaustive()
    }
}

impl TokenVerifier {
    /// Builds the verifier; fails on a key that does not parse or does not match the
    /// algorithm.
    pub fn new(args: &JwtArgs, key: &JwtKey) -> Result<Self, String> {
        let (algorithm, key) = match (key, args.algorithm) {
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
        validation.leeway = args.leeway_secs;
        validation.validate_nbf = true;
        validation.set_audience(&[&args.audience]);
        validation.set_issuer(&[&args.issuer]);
        validation.set_required_spec_claims(&["exp", "sub", "aud", "iss"]);
        Ok(TokenVerifier { key, validation })
    }

    /// Checks a token and decodes its claims as `C` (a claim `C` needs but the token
    /// lacks, or has with the wrong type, is [`AuthError::Malformed`]).
    pub fn decode<C: DeserializeOwned>(&self, token: &str) -> Result<C, AuthError> {
        jsonwebtoken::decode::<C>(token, &self.key, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => AuthError::Expired,
                ErrorKind::ImmatureSignature => AuthError::NotYetValid,
                ErrorKind::InvalidAudience => AuthError::WrongAudience,
                ErrorKind::InvalidIssuer => AuthError::WrongIssuer,
                ErrorKind::InvalidAlgorithm
                | ErrorKind::InvalidAlgorithmName
                | ErrorKind::MissingAlgorithm => AuthError::WrongAlgorithm,
                ErrorKind::InvalidSignature => AuthError::BadSignature,
                ErrorKind::MissingRequiredClaim(claim) => AuthError::MissingClaim(claim.clone()),
                _ => AuthError::Malformed,
            })
    }

    /// The clock skew allowed on `exp` and `nbf`, in seconds (a token is good until
    /// its `exp` plus this).
    pub fn leeway_secs(&self) -> u64 {
        self.validation.leeway
    }
}

#[cfg(test)]
mod tests {
    use std::time::{SystemTime, UNIX_EPOCH};

    use clap::Parser;
    use jsonwebtoken::{EncodingKey, Header};
    use serde::{Deserialize, Serialize};

    use super::*;

    const SECRET: &str = "test-secret-0123456789abcdef";
    const RSA_PRIVATE: &[u8] = include_bytes!("../tests/fixtures/rsa_private.pem");
    const RSA_PUBLIC: &[u8] = include_bytes!("../tests/fixtures/rsa_public.pem");
    const ED_PRIVATE: &[u8] = include_bytes!("../tests/fixtures/ed25519_private.pem");
    const ED_PUBLIC: &[u8] = include_bytes!("../tests/fixtures/ed25519_public.pem");

    /// `plenary`-like command line holding only the JWT flags.
    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        jwt: JwtArgs,
    }

    fn args(list: &[&str]) -> JwtArgs {
        let mut argv = vec!["test"];
        argv.extend_from_slice(list);
        Cli::try_parse_from(argv).expect("flags parse").jwt
    }

    fn now() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970")
            .as_secs()
    }

    #[derive(Debug, Serialize)]
    struct Mint {
        #[serde(skip_serializing_if = "Option::is_none")]
        sub: Option<String>,
        aud: String,
        iss: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        exp: Option<u64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        nbf: Option<u64>,
    }

    impl Mint {
        fn new() -> Self {
            Mint {
                sub: Some("u-1".into()),
                aud: "plenary".into(),
                iss: "plenary".into(),
                exp: Some(now() + 3_600),
                nbf: None,
            }
        }
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Read {
        sub: String,
    }

    fn hs256(claims: &Mint) -> String {
        sign(
            Algorithm::HS256,
            claims,
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
    }

    fn sign(alg: Algorithm, claims: &Mint, key: &EncodingKey) -> String {
        jsonwebtoken::encode(&Header::new(alg), claims, key).expect("token signs")
    }

    fn hs256_verifier(leeway: &str) -> TokenVerifier {
        let args = args(&["--jwt-leeway-secs", leeway]);
        let key = args.key(Some(SECRET.into())).expect("secret accepted");
        TokenVerifier::new(&args, &key).expect("verifier builds")
    }

    fn verify(v: &TokenVerifier, token: &str) -> Result<Read, AuthError> {
        v.decode::<Read>(token)
    }

    #[test]
    fn flags_keep_their_names_and_defaults() {
        let a = args(&[]);
        assert_eq!(a.algorithm, JwtAlgorithm::Hs256);
        assert_eq!(a.public_key_file, None);
        assert_eq!(a.audience, "plenary");
        assert_eq!(a.issuer, "plenary");
        assert_eq!(a.leeway_secs, 30);

        let a = args(&[
            "--jwt-algorithm",
            "EdDSA",
            "--jwt-public-key-file",
            "/k.pem",
            "--jwt-audience",
            "aud",
            "--jwt-issuer",
            "iss",
            "--jwt-leeway-secs",
            "5",
        ]);
        assert_eq!(a.algorithm, JwtAlgorithm::EdDsa);
        assert_eq!(a.public_key_file, Some(PathBuf::from("/k.pem")));
        assert_eq!(a.audience, "aud");
        assert_eq!(a.issuer, "iss");
        assert_eq!(a.leeway_secs, 5);
        assert_eq!(
            args(&["--jwt-algorithm", "RS256"]).algorithm,
            JwtAlgorithm::Rs256
        );
        assert!(Cli::try_parse_from(["test", "--jwt-algorithm", "none"]).is_err());
    }

    #[test]
    fn key_loading_errors() {
        let hs = args(&[]);
        assert_eq!(
            hs.key(None).unwrap_err(),
            "PLENARY_JWT_SECRET is not set (needed for HS256)"
        );
        assert_eq!(
            hs.key(Some("short".into())).unwrap_err(),
            "PLENARY_JWT_SECRET must be at least 16 bytes"
        );
        assert!(matches!(
            hs.key(Some("0123456789abcdef".into())),
            Ok(JwtKey::Secret(s)) if s == b"0123456789abcdef"
        ));

        let rs = args(&["--jwt-algorithm", "RS256"]);
        assert_eq!(
            rs.key(Some(SECRET.into())).unwrap_err(),
            "--jwt-public-key-file (PLENARY_JWT_PUBLIC_KEY_FILE) is required for RS256 and EdDSA"
        );
        let missing = args(&[
            "--jwt-algorithm",
            "EdDSA",
            "--jwt-public-key-file",
            "/nonexistent/plenary-key.pem",
        ]);
        let e = missing.key(None).unwrap_err();
        assert!(
            e.starts_with("cannot read JWT public key /nonexistent/plenary-key.pem: "),
            "{e}"
        );

        let file = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/rsa_public.pem");
        let rs = args(&["--jwt-algorithm", "RS256", "--jwt-public-key-file", file]);
        assert!(matches!(rs.key(None), Ok(JwtKey::PublicKeyPem(pem)) if pem == RSA_PUBLIC));
    }

    #[test]
    fn key_must_match_the_algorithm_and_parse() {
        let rs = args(&["--jwt-algorithm", "RS256"]);
        assert_eq!(
            TokenVerifier::new(&rs, &JwtKey::Secret(SECRET.into())).unwrap_err(),
            "JWT key does not match the algorithm"
        );
        let hs = args(&[]);
        assert!(TokenVerifier::new(&hs, &JwtKey::PublicKeyPem(RSA_PUBLIC.into())).is_err());
        let e = TokenVerifier::new(&rs, &JwtKey::PublicKeyPem(b"not a pem".to_vec())).unwrap_err();
        assert!(e.starts_with("invalid RSA public key"), "{e}");
        let ed = args(&["--jwt-algorithm", "EdDSA"]);
        let e = TokenVerifier::new(&ed, &JwtKey::PublicKeyPem(b"not a pem".to_vec())).unwrap_err();
        assert!(e.starts_with("invalid Ed25519 public key"), "{e}");
    }

    #[test]
    fn a_good_token_decodes() {
        let v = hs256_verifier("30");
        assert_eq!(
            verify(&v, &hs256(&Mint::new())),
            Ok(Read { sub: "u-1".into() })
        );
        assert_eq!(v.leeway_secs(), 30);
    }

    #[test]
    fn debug_prints_no_key() {
        let v = hs256_verifier("30");
        let shown = format!("{v:?}");
        assert!(!shown.contains(SECRET), "{shown}");
        assert!(shown.contains("HS256"), "{shown}");
        let key = format!("{:?}", JwtKey::Secret(SECRET.into()));
        assert!(!key.contains(SECRET) && !key.contains("116"), "{key}");
    }

    #[test]
    fn unsigned_and_forged_tokens_are_refused() {
        use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

        let v = hs256_verifier("30");
        // alg: none, no signature.
        let payload = format!(
            r#"{{"sub":"eve","aud":"plenary","iss":"plenary","exp":{}}}"#,
            now() + 3_600
        );
        for alg in ["none", "None", "NONE"] {
            let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#));
            let body = URL_SAFE_NO_PAD.encode(&payload);
            let unsigned = format!("{header}.{body}.");
            assert!(verify(&v, &unsigned).is_err(), "alg {alg} accepted");
        }
        // Signed with another secret.
        let forged = sign(
            Algorithm::HS256,
            &Mint::new(),
            &EncodingKey::from_secret(b"another-secret-entirely-0000"),
        );
        assert_eq!(verify(&v, &forged), Err(AuthError::BadSignature));
        // Another HS family member than the pinned one.
        let hs512 = sign(
            Algorithm::HS512,
            &Mint::new(),
            &EncodingKey::from_secret(SECRET.as_bytes()),
        );
        assert_eq!(verify(&v, &hs512), Err(AuthError::WrongAlgorithm));
    }

    #[test]
    fn algorithm_confusion_is_refused() {
        let rs = args(&["--jwt-algorithm", "RS256"]);
        let v = TokenVerifier::new(&rs, &JwtKey::PublicKeyPem(RSA_PUBLIC.into())).unwrap();
        let good = sign(
            Algorithm::RS256,
            &Mint::new(),
            &EncodingKey::from_rsa_pem(RSA_PRIVATE).unwrap(),
        );
        assert!(verify(&v, &good).is_ok());
        // HS256 "signed" with the RSA public key as the secret.
        let confused = sign(
            Algorithm::HS256,
            &Mint::new(),
            &EncodingKey::from_secret(RSA_PUBLIC),
        );
        assert_eq!(verify(&v, &confused), Err(AuthError::WrongAlgorithm));

        let ed = args(&["--jwt-algorithm", "EdDSA"]);
        let v = TokenVerifier::new(&ed, &JwtKey::PublicKeyPem(ED_PUBLIC.into())).unwrap();
        let good = sign(
            Algorithm::EdDSA,
            &Mint::new(),
            &EncodingKey::from_ed_pem(ED_PRIVATE).unwrap(),
        );
        assert!(verify(&v, &good).is_ok());
        assert_eq!(
            verify(&v, &hs256(&Mint::new())),
            Err(AuthError::WrongAlgorithm)
        );
    }

    #[test]
    fn audience_and_issuer_must_match() {
        let v = hs256_verifier("30");
        let wrong_aud = Mint {
            aud: "elsewhere".into(),
            ..Mint::new()
        };
        assert_eq!(
            verify(&v, &hs256(&wrong_aud)),
            Err(AuthError::WrongAudience)
        );
        let wrong_iss = Mint {
            iss: "elsewhere".into(),
            ..Mint::new()
        };
        assert_eq!(verify(&v, &hs256(&wrong_iss)), Err(AuthError::WrongIssuer));

        let custom = args(&["--jwt-audience", "a2", "--jwt-issuer", "i2"]);
        let v = TokenVerifier::new(&custom, &custom.key(Some(SECRET.into())).unwrap()).unwrap();
        // The defaults no longer pass.
        let default_aud = Mint {
            iss: "i2".into(),
            ..Mint::new()
        };
        assert_eq!(
            verify(&v, &hs256(&default_aud)),
            Err(AuthError::WrongAudience)
        );
        let default_iss = Mint {
            aud: "a2".into(),
            ..Mint::new()
        };
        assert_eq!(
            verify(&v, &hs256(&default_iss)),
            Err(AuthError::WrongIssuer)
        );
        let right = Mint {
            aud: "a2".into(),
            iss: "i2".into(),
            ..Mint::new()
        };
        assert!(verify(&v, &hs256(&right)).is_ok());
    }

    #[test]
    fn expiry_and_not_before_with_the_leeway() {
        let v = hs256_verifier("30");
        let just_expired = Mint {
            exp: Some(now() - 10),
            ..Mint::new()
        };
        assert!(
            verify(&v, &hs256(&just_expired)).is_ok(),
            "within the leeway"
        );
        let expired = Mint {
            exp: Some(now() - 120),
            ..Mint::new()
        };
        assert_eq!(verify(&v, &hs256(&expired)), Err(AuthError::Expired));
        let soon = Mint {
            nbf: Some(now() + 10),
            ..Mint::new()
        };
        assert!(verify(&v, &hs256(&soon)).is_ok(), "within the leeway");
        let later = Mint {
            nbf: Some(now() + 600),
            ..Mint::new()
        };
        assert_eq!(verify(&v, &hs256(&later)), Err(AuthError::NotYetValid));

        let strict = hs256_verifier("0");
        assert_eq!(strict.leeway_secs(), 0);
        assert_eq!(
            verify(&strict, &hs256(&just_expired)),
            Err(AuthError::Expired)
        );
        assert_eq!(verify(&strict, &hs256(&soon)), Err(AuthError::NotYetValid));
    }

    #[test]
    fn required_claims_and_garbage() {
        let v = hs256_verifier("30");
        let no_sub = Mint {
            sub: None,
            ..Mint::new()
        };
        // `sub` is read into the claims before the checks run: malformed.
        assert_eq!(verify(&v, &hs256(&no_sub)), Err(AuthError::Malformed));
        let no_exp = Mint {
            exp: None,
            ..Mint::new()
        };
        let missing = verify(&v, &hs256(&no_exp)).unwrap_err();
        assert_eq!(missing, AuthError::MissingClaim("exp".into()));
        assert!(missing.to_string().contains("`exp`"), "{missing}");
        #[derive(Serialize)]
        struct NoAud {
            sub: &'static str,
            iss: &'static str,
            exp: u64,
        }
        let no_aud = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &NoAud {
                sub: "eve",
                iss: "plenary",
                exp: now() + 60,
            },
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap();
        assert_eq!(
            verify(&v, &no_aud),
            Err(AuthError::MissingClaim("aud".into()))
        );
        assert_eq!(verify(&v, "not-a-jwt"), Err(AuthError::Malformed));
        assert_eq!(verify(&v, ""), Err(AuthError::Malformed));
    }
}
