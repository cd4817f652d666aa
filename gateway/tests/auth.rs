//! Every refused connection gets its documented code.

mod common;

use std::time::Duration;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use plenary_client::{Claims, Client, ClientConfig, ClientError, mint_hs256, v1::ErrorCode};

const RSA_PRIVATE: &[u8] = include_bytes!("fixtures/rsa_private.pem");
const RSA_PUBLIC: &[u8] = include_bytes!("fixtures/rsa_public.pem");
const ED_PRIVATE: &[u8] = include_bytes!("fixtures/ed25519_private.pem");

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

async fn refused(url: &str, token: String) -> ClientError {
    match Client::connect(ClientConfig::new(url, token)).await {
        Ok(_) => panic!("the token was accepted"),
        Err(e) => e,
    }
}

fn assert_unauthorized(err: &ClientError, code: ErrorCode) {
    assert!(
        err.server_code() == Some(code) || err.close_code() == Some(4001),
        "expected {code:?} / close 4001, got {err}"
    );
}

#[tokio::test]
async fn hs256_refusals() {
    let server = start(|_| {}).await;
    let url = &server.ws_url;

    // Good token works.
    connect(url, attendee_token("ok")).await;

    // Bad signature.
    let forged = mint_hs256(b"another-secret-entirely-0000", &Claims::new("eve")).unwrap();
    assert_unauthorized(&refused(url, forged).await, ErrorCode::Unauthorized);

    // alg: none (unsigned).
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&Claims::new("eve")).unwrap());
    assert_unauthorized(
        &refused(url, format!("{header}.{payload}.")).await,
        ErrorCode::Unauthorized,
    );

    // Expired (beyond the leeway).
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let expired = mint_hs256(SECRET.as_bytes(), &Claims::new("eve").with_exp(now - 3_600)).unwrap();
    let err = refused(url, expired).await;
    assert_eq!(err.server_code(), Some(ErrorCode::TokenExpired), "{err}");

    // Wrong audience, wrong issuer.
    let aud = mint_hs256(
        SECRET.as_bytes(),
        &Claims::new("eve").with_aud("someone-else"),
    )
    .unwrap();
    assert_unauthorized(&refused(url, aud).await, ErrorCode::Unauthorized);
    let iss = mint_hs256(
        SECRET.as_bytes(),
        &Claims::new("eve").with_iss("someone-else"),
    )
    .unwrap();
    assert_unauthorized(&refused(url, iss).await, ErrorCode::Unauthorized);

    // Not valid yet.
    let nbf = mint_hs256(
        SECRET.as_bytes(),
        &Claims::new("eve").with_nbf(Some(now + 3_600)),
    )
    .unwrap();
    assert_unauthorized(&refused(url, nbf).await, ErrorCode::Unauthorized);

    // Garbage.
    assert_unauthorized(
        &refused(url, "not-a-jwt".into()).await,
        ErrorCode::Unauthorized,
    );
    server.stop().await;
}

#[tokio::test]
async fn rs256_refuses_hs256_signed_with_the_public_key() {
    let server = start(|c| {
        c.jwt.algorithm = plenary_gateway::config::JwtAlgorithm::Rs256;
        c.jwt.public_key_file = Some(fixture("rsa_public.pem"));
    })
    .await;
    let claims = Claims::new("rsa-user");
    let good = jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        &claims,
        &EncodingKey::from_rsa_pem(RSA_PRIVATE).unwrap(),
    )
    .unwrap();
    connect(&server.ws_url, good).await;

    // Algorithm confusion: HS256 "signed" with the RSA public key as the secret.
    let confused = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(RSA_PUBLIC),
    )
    .unwrap();
    assert_unauthorized(
        &refused(&server.ws_url, confused).await,
        ErrorCode::Unauthorized,
    );
    server.stop().await;
}

#[tokio::test]
async fn eddsa_tokens_are_accepted_when_configured() {
    let server = start(|c| {
        c.jwt.algorithm = plenary_gateway::config::JwtAlgorithm::EdDsa;
        c.jwt.public_key_file = Some(fixture("ed25519_public.pem"));
    })
    .await;
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::EdDSA),
        &Claims::new("ed-user"),
        &EncodingKey::from_ed_pem(ED_PRIVATE).unwrap(),
    )
    .unwrap();
    connect(&server.ws_url, token).await;
    // The HS256 secret of other setups means nothing here.
    assert_unauthorized(
        &refused(&server.ws_url, attendee_token("x")).await,
        ErrorCode::Unauthorized,
    );
    server.stop().await;
}

#[tokio::test]
async fn no_connect_within_the_timeout_closes_4002() {
    let server = start(|c| c.connect_timeout_ms = 300).await;
    let mut ws = raw(&server.ws_url, "plenary.v1.json").await;
    assert_eq!(close_code(&mut ws).await, 4002);
    server.stop().await;
}

#[tokio::test]
async fn command_before_connect_closes_4001() {
    let server = start(|_| {}).await;
    let mut ws = raw(&server.ws_url, "plenary.v1.json").await;
    send_text(&mut ws, r#"{"id":1,"join":{"context_id":"x"}}"#).await;
    let reply = next_json(&mut ws).await;
    assert_eq!(reply["reply"]["error"]["code"], "ERROR_CODE_UNAUTHORIZED");
    assert_eq!(reply["reply"]["id"], "1");
    assert_eq!(close_code(&mut ws).await, 4001);
    server.stop().await;
}

#[tokio::test]
async fn disallowed_origin_is_refused_at_the_handshake() {
    let server = start(|c| c.allowed_origins = vec!["https://webinar.example".into()]).await;
    let bad =
        ClientConfig::new(&server.ws_url, attendee_token("o")).with_origin("https://evil.example");
    match Client::connect(bad).await {
        Err(ClientError::Rejected { status }) => assert_eq!(status, 403),
        Err(e) => panic!("expected HTTP 403, got {e}"),
        Ok(_) => panic!("a disallowed origin was accepted"),
    }
    let good = ClientConfig::new(&server.ws_url, attendee_token("o"))
        .with_origin("https://webinar.example");
    Client::connect(good)
        .await
        .expect("an allowed origin connects");
    // Exact match only.
    let near = ClientConfig::new(&server.ws_url, attendee_token("o"))
        .with_origin("https://webinar.example.evil");
    assert!(Client::connect(near).await.is_err());
    server.stop().await;
}

#[tokio::test]
async fn unknown_subprotocol_is_refused() {
    let server = start(|_| {}).await;
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
            server.ws_url.as_str(),
        )
        .unwrap();
    request
        .headers_mut()
        .insert("sec-websocket-protocol", "mqtt".parse().unwrap());
    let err = tokio_tungstenite::connect_async(request).await.unwrap_err();
    assert!(err.to_string().contains("400"), "{err}");
    server.stop().await;
}

/// A server that checks token expiry every second, without leeway; and the time now.
async fn start_checking_expiry() -> (TestServer, u64) {
    let server = start(|c| {
        c.jwt.leeway_secs = 0;
        c.ping_interval_secs = 1;
        c.idle_timeout_secs = 30;
    })
    .await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    (server, now)
}

#[tokio::test]
async fn an_open_connection_is_closed_when_its_token_expires() {
    let (server, now) = start_checking_expiry().await;
    let token = mint_hs256(SECRET.as_bytes(), &Claims::new("short").with_exp(now + 2)).unwrap();
    let client = connect(&server.ws_url, token).await;
    client.join("exp").await.unwrap();
    let mut code = None;
    for _ in 0..100 {
        if let Some(info) = client.close_info() {
            code = Some(info.code);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(code, Some(4001), "the connection outlived its token");
    server.stop().await;
}

#[tokio::test]
async fn refresh_moves_an_open_connections_expiry_to_the_new_token() {
    let (server, now) = start_checking_expiry().await;
    let short = |sub: &str, exp: u64| {
        mint_hs256(SECRET.as_bytes(), &Claims::new(sub).with_exp(exp)).unwrap()
    };
    let mut client = connect(&server.ws_url, short("long", now + 2)).await;
    client.join("refreshed").await.unwrap();

    // Refused tokens leave the connection as it was.
    let other = client.refresh(&short("someone-else", now + 3_600)).await;
    assert_eq!(other.unwrap_err().server_code(), Some(ErrorCode::Forbidden));
    let forged = mint_hs256(b"another-secret-entirely-0000", &Claims::new("long")).unwrap();
    let forged = client.refresh(&forged).await;
    assert_eq!(
        forged.unwrap_err().server_code(),
        Some(ErrorCode::Unauthorized)
    );
    let stale = client.refresh(&short("long", now - 10)).await;
    assert_eq!(
        stale.unwrap_err().server_code(),
        Some(ErrorCode::TokenExpired)
    );

    client.refresh(&short("long", now + 3_600)).await.unwrap();
    // Past the first token's expiry (and two ping ticks), the connection is still open.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(
        client.close_info().is_none(),
        "closed: {:?}",
        client.close_info()
    );
    client.ping().await.unwrap();
    client.send("refreshed", "still here", "", 0).await.unwrap();
    server.stop().await;
}
