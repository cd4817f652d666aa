//! Input that used to be taken the wrong way, through real sockets: a missing enum
//! that defaulted to an action, frames with two commands, several `Origin` headers,
//! control and invisible characters in names and texts, and payloads in trace logs.

mod common;

use std::time::Duration;

use common::*;
use futures_util::{SinkExt, StreamExt};
use plenary_client::v1::{
    self, ErrorCode, QaThread, ThreadActionKind, ThreadState, client_frame::Command, push::Body,
};
use plenary_proto::wire;
use tokio_tungstenite::tungstenite::Message;

const CTX: &str = "input";

/// A raw JSON connection with `token`, connected and joined to [`CTX`].
async fn joined_json(url: &str, token: String) -> RawWs {
    let mut ws = raw(url, "plenary.v1.json").await;
    send_text(
        &mut ws,
        &format!(r#"{{"id":1,"connect":{{"token":"{token}"}}}}"#),
    )
    .await;
    let r = next_json(&mut ws).await;
    assert!(r["reply"]["connect"].is_object(), "{r}");
    send_text(
        &mut ws,
        &format!(r#"{{"id":2,"join":{{"context_id":"{CTX}"}}}}"#),
    )
    .await;
    let r = next_reply(&mut ws).await;
    assert!(r["join"].is_object(), "{r}");
    ws
}

/// The next reply on a raw JSON connection, skipping pushes.
async fn next_reply(ws: &mut RawWs) -> serde_json::Value {
    loop {
        let frame = next_json(ws).await;
        if let Some(reply) = frame.get("reply") {
            return reply.clone();
        }
    }
}

fn error_code(reply: &serde_json::Value) -> &str {
    reply["error"]["code"].as_str().unwrap_or("(not an error)")
}

fn thread_push(p: &v1::Push) -> Option<QaThread> {
    match &p.body {
        Some(Body::Thread(t)) => Some(t.clone()),
        _ => None,
    }
}

fn message_push(p: &v1::Push) -> Option<v1::ChatMessage> {
    match &p.body {
        Some(Body::Message(m)) => Some(m.clone()),
        _ => None,
    }
}

// ------------------------------------------------------------------ item: enum defaults

#[tokio::test]
async fn a_missing_or_misspelt_thread_action_claims_nothing() {
    let server = start(|_| {}).await;
    let alice = connect(&server.ws_url, attendee_token("alice")).await;
    alice.join(CTX).await.unwrap();
    let thread = alice
        .ask(CTX, "A question", "q-1", 0)
        .await
        .unwrap()
        .thread_id;
    let mut m1 = joined_json(&server.ws_url, moderator_token("m1", CTX)).await;

    for (id, body) in [
        (
            10,
            format!(r#"{{"context_id":"{CTX}","thread_id":{thread}}}"#),
        ),
        (
            11,
            format!(
                r#"{{"context_id":"{CTX}","thread_id":{thread},"actoin":"THREAD_ACTION_KIND_RESOLVE"}}"#
            ),
        ),
        (
            12,
            format!(r#"{{"context_id":"{CTX}","thread_id":{thread},"action":0}}"#),
        ),
        (
            13,
            format!(
                r#"{{"context_id":"{CTX}","thread_id":{thread},"action":"THREAD_ACTION_KIND_UNSPECIFIED"}}"#
            ),
        ),
    ] {
        send_text(&mut m1, &format!(r#"{{"id":{id},"thread_action":{body}}}"#)).await;
        let r = next_reply(&mut m1).await;
        assert_eq!(error_code(&r), "ERROR_CODE_BAD_REQUEST", "{body}: {r}");
    }
    // The protobuf encoding: a thread action without its action field.
    let m2 = plenary_client::Client::connect(
        plenary_client::ClientConfig::new(&server.ws_url, moderator_token("m2", CTX))
            .with_format(plenary_proto::WireFormat::Proto),
    )
    .await
    .unwrap()
    .0;
    m2.join(CTX).await.unwrap();
    assert_eq!(
        refused(m2.thread_action(CTX, thread, ThreadActionKind::Unspecified)).await,
        ErrorCode::BadRequest
    );

    // Nobody claimed it: m2 can, and owns it.
    m2.thread_action(CTX, thread, ThreadActionKind::Claim)
        .await
        .expect("the thread is still pending");
    let owned = expect_push(&m2, |p| {
        thread_push(p).filter(|t| t.state == ThreadState::Owned as i32)
    })
    .await;
    assert_eq!(owned.owner_id, "m2");
    server.stop().await;
}

// ------------------------------------------------------------ item: one command a frame

#[tokio::test]
async fn a_frame_with_two_commands_runs_neither() {
    let server = start(|_| {}).await;
    let watcher = connect(&server.ws_url, attendee_token("watcher")).await;
    watcher.join(CTX).await.unwrap();
    let mut ws = joined_json(&server.ws_url, attendee_token("mallory")).await;

    let send = |text: &str| format!(r#"{{"context_id":"{CTX}","text":"{text}"}}"#);
    for frame in [
        format!(
            r#"{{"id":3,"send":{},"like":{{"context_id":"{CTX}","message_id":1}}}}"#,
            send("first")
        ),
        format!(
            r#"{{"id":4,"send":{},"send":{}}}"#,
            send("first"),
            send("second")
        ),
        format!(r#"{{"id":5,"ping":{{}},"send":{}}}"#, send("first")),
        format!(
            r#"{{"id":6,"sned":{},"send":{}}}"#,
            send("first"),
            send("second")
        ),
    ] {
        send_text(&mut ws, &frame).await;
        let r = next_reply(&mut ws).await;
        assert_eq!(error_code(&r), "ERROR_CODE_BAD_REQUEST", "{frame}: {r}");
    }
    // The protobuf encoding: two members of the oneof in one frame.
    let mut proto = raw(&server.ws_url, "plenary.v1.proto").await;
    let frame = |id, command| {
        wire::encode_proto(&v1::ClientFrame {
            id,
            command: Some(command),
        })
    };
    let send_cmd = |text: &str| {
        Command::Send(v1::SendMessage {
            context_id: CTX.into(),
            text: text.into(),
            ..Default::default()
        })
    };
    for f in [
        frame(
            1,
            Command::Connect(v1::Connect {
                token: attendee_token("proto"),
            }),
        ),
        frame(
            2,
            Command::Join(v1::Join {
                context_id: CTX.into(),
                since: None,
            }),
        ),
        [
            frame(3, send_cmd("first")),
            frame(0, Command::Ping(v1::Ping {})),
        ]
        .concat()
        .into(),
        [
            frame(4, Command::Ping(v1::Ping {})),
            frame(0, send_cmd("first")),
        ]
        .concat()
        .into(),
    ] {
        proto.send(Message::binary(f)).await.unwrap();
    }
    let mut codes = Vec::new();
    while codes.len() < 4 {
        let msg = tokio::time::timeout(Duration::from_secs(5), proto.next())
            .await
            .expect("a reply")
            .expect("open")
            .expect("read");
        let server_frame: v1::ServerFrame = wire::decode_proto(&msg.into_data()).unwrap();
        if let Some(v1::server_frame::Frame::Reply(r)) = server_frame.frame {
            codes.push(match r.result {
                Some(v1::reply::Result::Error(e)) => e.code,
                _ => 0,
            });
        }
    }
    let bad = ErrorCode::BadRequest as i32;
    assert_eq!(codes, [0, 0, bad, bad], "connect, join, then two refusals");

    // Nothing of the refused frames was stored: the next message the watcher sees is
    // the one sent after them.
    send_text(&mut ws, &format!(r#"{{"id":9,"send":{}}}"#, send("after"))).await;
    assert!(next_reply(&mut ws).await["send"].is_object());
    let seen = expect_push(&watcher, message_push).await;
    assert_eq!(seen.text, "after");
    server.stop().await;
}

// ------------------------------------------------------------------------ item: Origin

/// The status of a handshake with these `Origin` headers (101 when it upgraded).
async fn handshake_status(url: &str, origins: &[&str]) -> u16 {
    use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest, http::HeaderValue};

    let mut request = url.into_client_request().unwrap();
    for origin in origins {
        request
            .headers_mut()
            .append("origin", HeaderValue::from_str(origin).unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((_, response)) => response.status().as_u16(),
        Err(tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(e) => panic!("handshake failed otherwise: {e}"),
    }
}

#[tokio::test]
async fn several_origin_headers_are_refused() {
    const GOOD: &str = "https://good.example";
    const EVIL: &str = "https://evil.example";
    let server = start(|c| c.allowed_origins = vec![GOOD.into()]).await;
    let url = &server.ws_url;
    assert_eq!(handshake_status(url, &[GOOD]).await, 101);
    assert_eq!(handshake_status(url, &[]).await, 101, "non-browser clients");
    assert_eq!(handshake_status(url, &[EVIL]).await, 403);
    assert_eq!(handshake_status(url, &[GOOD, EVIL]).await, 400);
    assert_eq!(handshake_status(url, &[EVIL, GOOD]).await, 400);
    assert_eq!(handshake_status(url, &[GOOD, GOOD]).await, 400);
    server.stop().await;
}

// ------------------------------------------------------------------ item: names, texts

#[tokio::test]
async fn names_from_tokens_lose_controls_bidi_and_invisible_characters() {
    use plenary_client::{Claims, mint_hs256};

    let server = start(|_| {}).await;
    let watcher = connect(&server.ws_url, attendee_token("watcher")).await;
    watcher.join(CTX).await.unwrap();
    let token = mint_hs256(
        SECRET.as_bytes(),
        &Claims::new("spoof").with_name(
            " \u{200B}Al\u{0}ice\u{1b}\u{7}\u{202E}nimda ",
            "\u{2067}Smith\u{FEFF}\n",
        ),
    )
    .unwrap();
    let spoof = connect(&server.ws_url, token).await;
    spoof.join(CTX).await.unwrap();
    spoof.send(CTX, "hi", "s-1", 0).await.unwrap();
    let author = expect_push(&watcher, message_push).await.author.unwrap();
    assert_eq!(
        (author.given_name.as_str(), author.family_name.as_str()),
        ("Alicenimda", "Smith")
    );

    // A user id that would need cleaning is refused rather than changed.
    let bad_sub = mint_hs256(SECRET.as_bytes(), &Claims::new("eve\u{202E}")).unwrap();
    let e =
        plenary_client::Client::connect(plenary_client::ClientConfig::new(&server.ws_url, bad_sub))
            .await
            .map(|_| ())
            .unwrap_err();
    assert!(
        e.server_code() == Some(ErrorCode::Unauthorized) || e.close_code() == Some(4001),
        "{e}"
    );
    server.stop().await;
}

#[tokio::test]
async fn texts_with_controls_or_nothing_visible_are_refused_and_bidi_overrides_removed() {
    let server = start(|c| {
        c.user_rate = 1_000;
        c.user_burst = 1_000;
    })
    .await;
    let watcher = connect(&server.ws_url, attendee_token("watcher")).await;
    watcher.join(CTX).await.unwrap();
    let alice = connect(&server.ws_url, attendee_token("alice")).await;
    alice.join(CTX).await.unwrap();
    let moderator = connect(&server.ws_url, moderator_token("mod", CTX)).await;
    moderator.join(CTX).await.unwrap();

    for (text, code) in [
        ("nul\u{0}", ErrorCode::BadRequest),
        ("bell\u{7}", ErrorCode::BadRequest),
        ("\u{1b}[2Jclear", ErrorCode::BadRequest),
        ("c1\u{9b}", ErrorCode::BadRequest),
        ("\u{200B}\u{200C}\u{200D}", ErrorCode::InvalidText),
        ("\u{FEFF}", ErrorCode::InvalidText),
        (" \u{2060}\n", ErrorCode::InvalidText),
        ("\u{202E}", ErrorCode::InvalidText),
    ] {
        assert_eq!(
            refused(alice.send(CTX, text, "", 0)).await,
            code,
            "{text:?}"
        );
        assert_eq!(refused(alice.ask(CTX, text, "", 0)).await, code, "{text:?}");
        assert_eq!(
            refused(moderator.post_update(CTX, "", text, false)).await,
            code,
            "{text:?}"
        );
        // Checked first: these two are not connected, which would be NOT_CONNECTED.
        assert_eq!(
            refused(alice.dm_send("mod", text, "")).await,
            code,
            "{text:?}"
        );
    }
    assert_eq!(
        refused(moderator.post_update(CTX, "title\u{7}", "text", false)).await,
        ErrorCode::BadRequest
    );
    // The client's message id is pushed to everyone with the message: printable only.
    for id in ["id\u{0}", "\u{202E}gnp.exe", "\u{200B}"] {
        assert_eq!(
            refused(alice.send(CTX, "fine", id, 0)).await,
            ErrorCode::BadRequest,
            "{id:?}"
        );
    }

    // Accepted texts: overrides removed, CRLF made LF, newline, tab and marks kept.
    let sent = alice
        .send(CTX, "abc\u{202E}fed\r\nline\ttab\u{200F}", "", 0)
        .await
        .unwrap();
    let seen = expect_push(&watcher, message_push).await;
    assert_eq!(
        (seen.id, seen.text.as_str()),
        (sent.message_id, "abcfed\nline\ttab\u{200F}")
    );
    moderator
        .post_update(CTX, "\u{200B}", "\u{2066}news\u{2069}", false)
        .await
        .unwrap();
    let update = expect_push(&watcher, |p| match &p.body {
        Some(Body::Update(u)) => Some(u.clone()),
        _ => None,
    })
    .await;
    assert_eq!((update.title.as_str(), update.text.as_str()), ("", "news"));
    server.stop().await;
}

// -------------------------------------------------------------------------- item: logs

/// Waits until `path` holds `needle`, for at most 10 s; returns what it holds.
async fn wait_for_log(path: &std::path::Path, needle: &str) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.contains(needle) || tokio::time::Instant::now() >= deadline {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn trace_logs_carry_neither_tokens_nor_texts() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("plenary.log");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let admin_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_plenary"))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--admin-listen", &format!("127.0.0.1:{admin_port}")])
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .env("PLENARY_JWT_SECRET", SECRET)
        .env("PLENARY_ADMIN_API_KEY", ADMIN_KEY)
        .env("PLENARY_LOG", "trace")
        .env("PLENARY_LOG_FORMAT", "json")
        .stdout(std::fs::File::create(&log_path).unwrap())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .expect("spawn plenary");
    let process = KillOnDrop(child);
    let url = format!("ws://127.0.0.1:{port}/ws");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "plenary did not start"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }

    let marker = format!("secret-marker-{:08x}", rand::random::<u32>());
    let token = attendee_token("logged");
    let client = connect(&url, token.clone()).await;
    client.join(CTX).await.unwrap();
    client.send(CTX, &marker, "m-1", 0).await.unwrap();
    client.close().await;

    // The session's own debug line comes after every frame of it was read; without it,
    // verbose logging was not on and nothing was tested.
    let log = wait_for_log(&log_path, "connection closed").await;
    drop(process);
    assert!(log.contains("connection closed"), "no debug lines:\n{log}");
    assert!(!log.contains(&marker), "a message text was logged");
    let signature = token.rsplit('.').next().unwrap();
    assert!(!log.contains(signature), "a token was logged");
}

/// Kills the child process when the test ends, however it ends.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
