//! Who may read which reports: the gRPC interceptor in front of the `Reporting`
//! service, the same in the gateway (embedded mode) and in `plenary-reporting serve`.
//! The admin API key reads everything; a token the shared JWT rules
//! ([`plenary_auth::TokenVerifier`]) accept reads the contexts its `report_contexts`
//! claim lists. The interceptor puts the [`Scope`] in the request's extensions, and
//! the service checks each request against it.

use std::sync::Arc;

use plenary_auth::TokenVerifier;
use serde::Deserialize;
use tonic::{Request, Status};

use crate::service::Scope;

/// The claims access reads (the token checks themselves are the verifier's).
#[derive(Debug, Deserialize)]
struct ReportClaims {
    /// Contexts whose reports the token may read.
    #[serde(default)]
    report_contexts: Vec<String>,
}

/// Compares without an early exit, so the time taken does not reveal the key.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The credential of `authorization: Bearer <credential>` (empty without one).
pub fn bearer<T>(request: &Request<T>) -> &str {
    request
        .metadata()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
}

/// Who may read reports: the admin API key (`api_key`) reads everything; a token
/// `tokens` accepts reads the contexts its `report_contexts` claim lists (the service
/// checks each request against that [`Scope`]); a valid token listing none is
/// `PERMISSION_DENIED`; anything else `UNAUTHENTICATED`.
pub fn reporting_access(
    api_key: Option<Arc<str>>,
    tokens: TokenVerifier,
) -> impl Fn(Request<()>) -> Result<Request<()>, Status> + Clone {
    move |mut request: Request<()>| {
        let presented = bearer(&request).to_owned();
        let is_key = api_key
            .as_ref()
            .is_some_and(|key| constant_time_eq(presented.as_bytes(), key.as_bytes()));
        let scope = if is_key {
            Scope::All
        } else {
            match tokens.decode::<ReportClaims>(&presented) {
                Ok(c) if !c.report_contexts.is_empty() => Scope::Contexts(c.report_contexts),
                Ok(_) => {
                    return Err(Status::permission_denied(
                        "this token may read no reports: its `report_contexts` claim lists none",
                    ));
                }
                Err(e) => {
                    return Err(Status::unauthenticated(format!(
                        "reports need the admin API key or a token with `report_contexts` ({e})"
                    )));
                }
            }
        };
        request.extensions_mut().insert(scope);
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use std::time::{SystemTime, UNIX_EPOCH};

    use clap::Parser;
    use jsonwebtoken::{EncodingKey, Header};
    use serde::Serialize;
    use tonic::Code;

    use super::*;

    const SECRET: &str = "test-secret-0123456789abcdef";
    const KEY: &str = "admin-key-0123456789";

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        jwt: plenary_auth::JwtArgs,
    }

    #[derive(Serialize)]
    struct Mint<'a> {
        sub: &'a str,
        aud: &'a str,
        iss: &'a str,
        exp: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        report_contexts: Option<Vec<&'a str>>,
    }

    fn token(aud: &str, report_contexts: Option<Vec<&str>>) -> String {
        let exp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970")
            .as_secs()
            + 3_600;
        let claims = Mint {
            sub: "analyst",
            aud,
            iss: "plenary",
            exp,
            report_contexts,
        };
        jsonwebtoken::encode(
            &Header::default(),
            &claims,
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .expect("token signs")
    }

    fn access(
        api_key: Option<&str>,
    ) -> impl Fn(Request<()>) -> Result<Request<()>, Status> + Clone {
        let args = Cli::try_parse_from(["test"]).expect("defaults parse").jwt;
        let key = args.key(Some(SECRET.into())).expect("secret accepted");
        let tokens = TokenVerifier::new(&args, &key).expect("verifier builds");
        reporting_access(api_key.map(Arc::from), tokens)
    }

    fn call(credential: Option<&str>) -> Request<()> {
        let mut request = Request::new(());
        if let Some(c) = credential {
            request.metadata_mut().insert(
                "authorization",
                format!("Bearer {c}").parse().expect("ascii header"),
            );
        }
        request
    }

    fn scope(result: Result<Request<()>, Status>) -> Scope {
        result
            .expect("access granted")
            .extensions()
            .get::<Scope>()
            .expect("scope set")
            .clone()
    }

    #[test]
    fn api_key_compare() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }

    #[test]
    fn bearer_reads_the_credential() {
        assert_eq!(bearer(&call(Some("xyz"))), "xyz");
        assert_eq!(bearer(&call(None)), "");
        let mut basic = Request::new(5u8);
        basic
            .metadata_mut()
            .insert("authorization", "Basic xyz".parse().expect("ascii header"));
        assert_eq!(bearer(&basic), "");
    }

    #[test]
    fn the_admin_key_reads_everything() {
        let check = access(Some(KEY));
        assert_eq!(scope(check(call(Some(KEY)))), Scope::All);
        let wrong = check(call(Some("admin-key-0123456780"))).unwrap_err();
        assert_eq!(wrong.code(), Code::Unauthenticated);
        assert_eq!(check(call(None)).unwrap_err().code(), Code::Unauthenticated);
        // Without a configured key, nothing is the key (not even an empty bearer).
        let keyless = access(None);
        assert_eq!(
            keyless(call(Some(""))).unwrap_err().code(),
            Code::Unauthenticated
        );
    }

    #[test]
    fn a_token_reads_its_report_contexts() {
        let check = access(Some(KEY));
        let t = token("plenary", Some(vec!["ctx-a", "ctx-b"]));
        assert_eq!(
            scope(check(call(Some(&t)))),
            Scope::Contexts(vec!["ctx-a".into(), "ctx-b".into()])
        );
    }

    #[test]
    fn a_token_without_report_contexts_is_denied() {
        let check = access(Some(KEY));
        for t in [token("plenary", None), token("plenary", Some(vec![]))] {
            let e = check(call(Some(&t))).unwrap_err();
            assert_eq!(e.code(), Code::PermissionDenied);
            assert_eq!(
                e.message(),
                "this token may read no reports: its `report_contexts` claim lists none"
            );
        }
    }

    #[test]
    fn an_invalid_token_is_unauthenticated() {
        let check = access(Some(KEY));
        let e = check(call(Some(&token("elsewhere", Some(vec!["ctx-a"]))))).unwrap_err();
        assert_eq!(e.code(), Code::Unauthenticated);
        assert_eq!(
            e.message(),
            "reports need the admin API key or a token with `report_contexts` (token has the wrong audience)"
        );
        let e = check(call(Some("not-a-jwt"))).unwrap_err();
        assert_eq!(e.code(), Code::Unauthenticated);
    }
}
