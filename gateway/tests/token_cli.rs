//! `plenary token`: the binary mints a token the node accepts, and says clearly why it
//! will not; a token lacking a required claim is refused naming the claim.

mod common;

use std::process::Command;

use common::*;
use plenary_client::v1::Role;

fn plenary(args: &[&str], secret: Option<&str>) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_plenary"));
    command.args(args).env_remove("PLENARY_JWT_SECRET");
    command.env_remove("PLENARY_JWT_ALGORITHM");
    if let Some(secret) = secret {
        command.env("PLENARY_JWT_SECRET", secret);
    }
    command.output().expect("run plenary")
}

#[tokio::test]
async fn a_minted_token_connects_with_the_roles_it_names() {
    let out = plenary(
        &[
            "token",
            "--sub",
            "mia",
            "--name",
            "Mia Moderator",
            "--moderates",
            "webinar-1",
            "--ttl",
            "10m",
        ],
        Some(SECRET),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert_eq!(
        token.split('.').count(),
        3,
        "one JWT on stdout, nothing else"
    );
    let server = start(|_| {}).await;
    let mia = connect(&server.ws_url, token).await;
    let joined = mia.join("webinar-1").await.unwrap();
    assert_eq!(joined.role, Role::Moderator as i32);
    let elsewhere = mia.join("webinar-2").await.unwrap();
    assert_eq!(elsewhere.role, Role::Attendee as i32);
    server.stop().await;
}

#[test]
fn it_refuses_what_it_cannot_sign_and_says_why() {
    let no_secret = plenary(&["token", "--sub", "mia"], None);
    assert_eq!(no_secret.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&no_secret.stderr).contains("PLENARY_JWT_SECRET"));
    let rs256 = plenary(
        &["--jwt-algorithm", "RS256", "token", "--sub", "mia"],
        Some(SECRET),
    );
    assert_eq!(rs256.status.code(), Some(64));
    let why = String::from_utf8_lossy(&rs256.stderr);
    assert!(why.contains("HS256 only") && why.contains("RS256"), "{why}");
    let bad_ttl = plenary(&["token", "--sub", "mia", "--ttl", "1y"], Some(SECRET));
    assert_eq!(bad_ttl.status.code(), Some(64));
    assert!(bad_ttl.stdout.is_empty());
}

#[tokio::test]
async fn a_token_without_exp_or_aud_is_refused_naming_the_claim() {
    use jsonwebtoken::{EncodingKey, Header, encode};
    let server = start(|_| {}).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = [
        (
            "exp",
            serde_json::json!({"sub": "ned", "aud": "plenary", "iss": "plenary"}),
        ),
        (
            "aud",
            serde_json::json!({"sub": "ned", "iss": "plenary", "exp": now + 60}),
        ),
    ];
    for (missing, claims) in claims {
        let token = encode(
            &Header::default(),
            &claims,
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap();
        let mut ws = raw(&server.ws_url, "plenary.v1.json").await;
        send_text(
            &mut ws,
            &format!(r#"{{"id":1,"connect":{{"token":"{token}"}}}}"#),
        )
        .await;
        let reply = next_json(&mut ws).await;
        let error = &reply["reply"]["error"];
        assert_eq!(error["code"], "ERROR_CODE_UNAUTHORIZED", "{reply}");
        let message = error["message"].as_str().unwrap();
        assert!(message.contains(&format!("`{missing}`")), "{message}");
    }
    server.stop().await;
}
