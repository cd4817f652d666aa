//! `plenary token`: mints an HS256 access token with the node's own secret
//! (`PLENARY_JWT_SECRET`) and its `--jwt-audience` / `--jwt-issuer`, for trying Plenary
//! out and for tests. Production tokens come from the application's identity provider;
//! a node configured for RS256 or EdDSA has no secret to sign with, so this refuses.

use std::time::Duration;

use clap::Args;
use plenary_auth::{JwtAlgorithm, JwtArgs};
use plenary_client::token::{Claims, mint_hs256};

/// The longest lifetime `plenary token` gives a token.
const MAX_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// `plenary token` flags.
#[derive(Clone, Debug, Args)]
pub struct TokenArgs {
    /// The user id (`sub`), 1–128 bytes.
    #[arg(long)]
    pub sub: String,
    /// The name shown with the user's messages: "Given Family" (the first word is the
    /// given name). Default: the user id.
    #[arg(long)]
    pub name: Option<String>,
    /// The user's e-mail address (shown to moderators). Default: `<sub>@example.invalid`.
    #[arg(long)]
    pub email: Option<String>,
    /// A context this user moderates (repeat for several).
    #[arg(long, value_name = "CONTEXT")]
    pub moderates: Vec<String>,
    /// An administrator: moderates every context.
    #[arg(long)]
    pub admin: bool,
    /// How long the token is valid: seconds, or a number with `s`, `m`, `h` or `d`
    /// (at most 30 days).
    #[arg(long, default_value = "1h", value_parser = parse_ttl)]
    pub ttl: Duration,
}

/// Parses `90`, `90s`, `15m`, `12h`, `7d`.
fn parse_ttl(s: &str) -> Result<Duration, String> {
    let (number, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => s.split_at(at),
        None => (s, "s"),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{s}` is not a duration such as 3600, 90s, 15m, 12h or 7d"))?;
    let secs = match unit {
        "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        "d" => n.saturating_mul(86_400),
        _ => return Err(format!("`{s}`: the unit is one of s, m, h, d")),
    };
    let ttl = Duration::from_secs(secs);
    if ttl.is_zero() || ttl > MAX_TTL {
        return Err(format!("`{s}`: a token lives between 1 s and 30 days"));
    }
    Ok(ttl)
}

/// Why `plenary token` did not print a token.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TokenError(String);

/// The token `args` ask for, signed with `secret` under the node's JWT settings.
pub fn mint(jwt: &JwtArgs, args: &TokenArgs, secret: Option<&str>) -> Result<String, TokenError> {
    let algorithm = match jwt.algorithm {
        JwtAlgorithm::Hs256 => None,
        JwtAlgorithm::Rs256 => Some("RS256"),
        JwtAlgorithm::EdDsa => Some("EdDSA"),
    };
    if let Some(algorithm) = algorithm {
        return Err(TokenError(format!(
            "`plenary token` signs with HS256 only, and this node is configured for \
             {algorithm}: its tokens come from your identity provider (signed with the \
             private key matching --jwt-public-key-file)"
        )));
    }
    let secret = secret.filter(|s| !s.is_empty()).ok_or_else(|| {
        TokenError(
            "set PLENARY_JWT_SECRET to the node's secret: the token is signed with it".into(),
        )
    })?;
    if args.sub.is_empty() || args.sub.len() > 128 || args.sub.trim() != args.sub {
        return Err(TokenError(
            "--sub must be 1 to 128 bytes, without white space at either end".into(),
        ));
    }
    let name = args.name.as_deref().unwrap_or(&args.sub);
    let (given, family) = name.split_once(' ').unwrap_or((name, ""));
    let claims = Claims::new(args.sub.clone())
        .with_name(given.trim(), family.trim())
        .with_email(
            args.email
                .clone()
                .unwrap_or_else(|| format!("{}@example.invalid", args.sub)),
        )
        .with_moderates(args.moderates.iter().cloned())
        .with_admin(args.admin)
        .with_aud(jwt.audience.clone())
        .with_iss(jwt.issuer.clone())
        .expires_in(args.ttl);
    mint_hs256(secret.as_bytes(), &claims).map_err(|e| TokenError(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttls_read_as_people_write_them() {
        assert_eq!(parse_ttl("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_ttl("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_ttl("12h"), Ok(Duration::from_secs(43_200)));
        assert_eq!(parse_ttl("7d"), Ok(Duration::from_secs(604_800)));
        for bad in ["", "0", "1w", "h", "31d", "-5"] {
            assert!(parse_ttl(bad).is_err(), "{bad}");
        }
    }
}
