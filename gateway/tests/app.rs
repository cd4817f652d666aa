//! The web app at `/app` on the WebSocket port: its files, their content types, 404 for
//! anything else, demo tokens only with `--demo-tokens`, and `/ws` as before.

mod common;

use common::*;
use plenary_client::v1::Role;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// An HTTP answer: status, headers (names lower-cased) and body.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }
}

/// The `host:port` of a test server's WebSocket listener.
fn host(server: &TestServer) -> String {
    server
        .ws_url
        .trim_start_matches("ws://")
        .trim_end_matches("/ws")
        .to_string()
}

/// One request on its own connection (the app answers one and closes).
async fn request(server: &TestServer, method: &str, target: &str) -> Answer {
    let host = host(server);
    let mut stream = TcpStream::connect(&host).await.unwrap();
    let head = format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\nAccept: */*\r\n\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stream.read_to_end(&mut raw),
    )
    .await
    .expect("the answer and the close within 5 s")
    .unwrap();
    if raw.is_empty() {
        // Closed without an answer (a handshake that failed before its callback).
        return Answer {
            status: 0,
            headers: Vec::new(),
            body: Vec::new(),
        };
    }
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = std::str::from_utf8(&raw[..split]).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap();
            (n.to_ascii_lowercase(), v.trim().to_string())
        })
        .collect();
    let body = raw[split + 4..].to_vec();
    let answer = Answer {
        status,
        headers,
        body,
    };
    if method != "HEAD" {
        let length: usize = answer.header("content-length").unwrap().parse().unwrap();
        assert_eq!(length, answer.body.len(), "{target}: Content-Length");
    }
    answer
}

#[tokio::test]
async fn the_app_is_served_beside_the_websocket_endpoint() {
    let server = start(|_| {}).await;

    for target in ["/app", "/app/", "/app/index.html", "/app?x=1"] {
        let index = request(&server, "GET", target).await;
        assert_eq!(index.status, 200, "{target}");
        assert_eq!(
            index.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        assert!(index.text().to_lowercase().starts_with("<!doctype html>"));
        assert!(index.header("content-security-policy").is_some());
    }
    let script = request(&server, "GET", "/app/app.js").await;
    assert_eq!(script.status, 200);
    assert_eq!(
        script.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(script.header("x-content-type-options"), Some("nosniff"));
    let style = request(&server, "GET", "/app/app.css").await;
    assert_eq!(
        style.header("content-type"),
        Some("text/css; charset=utf-8")
    );
    let head = request(&server, "HEAD", "/app/app.js").await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(
        head.header("content-length"),
        script.header("content-length")
    );

    for missing in ["/app/nope.js", "/app/../Cargo.toml", "/app/dist/app.js"] {
        assert_eq!(
            request(&server, "GET", missing).await.status,
            404,
            "{missing}"
        );
    }
    assert_eq!(request(&server, "POST", "/app").await.status, 405);
    // Off by default: the path does not exist.
    let demo = request(&server, "GET", "/app/demo-token?sub=ann").await;
    assert_eq!(demo.status, 404);

    // Anything not under /app is the WebSocket endpoint's, as before: a plain GET is
    // not an upgrade, and /apple is not the app.
    assert_ne!(request(&server, "GET", "/apple").await.status, 200);
    assert_ne!(request(&server, "GET", "/ws").await.status, 200);
    // The WebSocket endpoint works as ever, at /ws and at /.
    let client = connect(&server.ws_url, attendee_token("u-ws")).await;
    client.join("webinar-app").await.unwrap();
    let root = server.ws_url.trim_end_matches("ws");
    connect(root, attendee_token("u-root")).await;
    server.stop().await;
}

#[tokio::test]
async fn demo_tokens_only_when_enabled() {
    let server = start(|c| c.demo_tokens = true).await;

    let minted = request(
        &server,
        "GET",
        "/app/demo-token?sub=u-mia&name=Mia+Moss&moderates=webinar-1,webinar-2",
    )
    .await;
    assert_eq!(minted.status, 200, "{}", minted.text());
    assert_eq!(minted.header("cache-control"), Some("no-cache"));
    let token = minted.text().trim().to_string();
    let client = connect(&server.ws_url, token).await;
    let joined = client.join("webinar-2").await.unwrap();
    assert_eq!(joined.role(), Role::Moderator);
    let joined = client.join("webinar-3").await.unwrap();
    assert_eq!(joined.role(), Role::Attendee);

    let attendee = request(&server, "GET", "/app/demo-token?sub=u-ann").await;
    assert_eq!(attendee.status, 200);
    let client = connect(&server.ws_url, attendee.text().trim().to_string()).await;
    assert_eq!(
        client.join("webinar-1").await.unwrap().role(),
        Role::Attendee
    );

    // A token needs a user id.
    assert_eq!(request(&server, "GET", "/app/demo-token").await.status, 400);
    assert_eq!(
        request(&server, "GET", "/app/demo-token?sub=%20ann")
            .await
            .status,
        400
    );
    server.stop().await;
}

#[test]
fn demo_tokens_need_an_hs256_secret() {
    use clap::Parser;
    let dir = tempfile::tempdir().unwrap();
    let mut config = base_config(dir.path());
    config.demo_tokens = true;
    config.jwt.algorithm = plenary_gateway::config::JwtAlgorithm::Rs256;
    config.jwt.public_key_file = Some(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rsa_public.pem"),
    );
    let err = config.validate_with(None, None).unwrap_err();
    assert!(err.to_string().contains("--demo-tokens"), "{err}");
    let config = plenary_gateway::Config::parse_from(["plenary"]);
    assert!(!config.demo_tokens, "off unless asked for");
}
