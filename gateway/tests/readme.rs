//! The README's first session, played as written: the `send({...})` frames of its
//! "Your first ten minutes" section go, in order, over real sockets for Mia (who
//! moderates `webinar-1`) and Ann, with tokens minted as the README mints them. If the
//! README's frames stop working, this fails.

mod common;

use common::*;
use plenary_client::token::{Claims, mint_hs256};

/// The `send({...})` frames of the README's first session, as JSON (JavaScript object
/// keys quoted).
fn readme_frames() -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md");
    let section = readme
        .split("## Your first ten minutes")
        .nth(1)
        .expect("the README has its first-ten-minutes section");
    section
        .lines()
        .filter_map(|line| line.trim().strip_prefix("send(")?.strip_suffix(");"))
        .map(quote_keys)
        .collect()
}

/// `{id: 2, join: {context_id: "w"}}` → `{"id": 2, "join": {"context_id": "w"}}`.
fn quote_keys(js: &str) -> String {
    let (mut out, mut chars) = (String::new(), js.chars().peekable());
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            in_string = c != '"';
        } else if c == '"' {
            out.push(c);
            in_string = true;
        } else if c.is_ascii_alphabetic() || c == '_' {
            let mut word = c.to_string();
            while let Some(&n) = chars
                .peek()
                .filter(|n| n.is_ascii_alphanumeric() || **n == '_')
            {
                word.push(n);
                chars.next();
            }
            if chars.peek() == Some(&':') {
                out.push_str(&format!("\"{word}\""));
            } else {
                out.push_str(&word);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The reply to frame `id` (pushes before it are skipped).
async fn reply_to(ws: &mut RawWs, id: u64) -> serde_json::Value {
    loop {
        let frame = next_json(ws).await;
        if int64(&frame["reply"]["id"]) == Some(id) {
            assert!(
                frame["reply"]["error"].is_null(),
                "frame {id} refused: {frame}"
            );
            return frame["reply"].clone();
        }
    }
}

#[tokio::test]
async fn the_readme_first_session_works_as_written() {
    let frames = readme_frames();
    assert_eq!(
        frames.len(),
        5,
        "join, hello, ask, claim, answer: {frames:?}"
    );
    let server = start(|_| {}).await;
    let token = |claims: Claims| mint_hs256(SECRET.as_bytes(), &claims).unwrap();
    let mia_token = token(Claims::new("mia").with_moderates(["webinar-1"]));
    let ann_token = token(Claims::new("ann"));
    let (mut mia, mut ann) = (
        raw(&server.ws_url, "plenary.v1.json").await,
        raw(&server.ws_url, "plenary.v1.json").await,
    );
    for (ws, token) in [(&mut mia, &mia_token), (&mut ann, &ann_token)] {
        send_text(
            ws,
            &format!(r#"{{"id":1,"connect":{{"token":"{token}"}}}}"#),
        )
        .await;
        reply_to(ws, 1).await;
        // Both join and say hello.
        for (frame, id) in frames[..2].iter().zip([2, 3]) {
            send_text(ws, frame).await;
            reply_to(ws, id).await;
        }
    }
    send_text(&mut ann, &frames[2]).await;
    let asked = reply_to(&mut ann, 4).await;
    let thread_id = int64(&asked["send"]["thread_id"]).expect("the ask names its thread");
    for (frame, id) in frames[3..].iter().zip([5, 6]) {
        send_text(
            &mut mia,
            &frame.replace("THREAD_ID", &thread_id.to_string()),
        )
        .await;
        reply_to(&mut mia, id).await;
    }
    // Ann gets the answer in her thread, from the session.
    loop {
        let frame = next_json(&mut ann).await;
        let message = &frame["push"]["message"];
        if message["text"] == "Yes, after the talk." {
            assert_eq!(int64(&message["thread_id"]), Some(thread_id));
            assert_eq!(message["author"]["as_context"], true, "{frame}");
            break;
        }
    }
    server.stop().await;
}
