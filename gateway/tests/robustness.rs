//! Bad input and bad clients: typed errors or documented closes, never a panic, and
//! other clients are unaffected.

mod common;

use std::time::Duration;

use common::*;
use futures_util::{SinkExt, StreamExt};
use plenary_client::v1::{self, ErrorCode, push::Body};
use plenary_proto::wire;
use tokio_tungstenite::tungstenite::Message;

const CTX: &str = "robust";

async fn connected_raw(url: &str, subprotocol: &str, sub: &str) -> RawWs {
    let mut ws = raw(url, subprotocol).await;
    let connect = v1::ClientFrame {
        id: 1,
        command: Some(v1::client_frame::Command::Connect(v1::Connect {
            token: attendee_token(sub),
        })),
    };
    if subprotocol == "plenary.v1.json" {
        send_text(&mut ws, &wire::encode_json(&connect)).await;
        let reply = next_json(&mut ws).await;
        assert!(reply["reply"]["connect"].is_object(), "{reply}");
    } else {
        ws.send(Message::binary(wire::encode_proto(&connect)))
            .await
            .unwrap();
        let reply = next_proto(&mut ws).await;
        assert!(matches!(reply.result, Some(v1::reply::Result::Connect(_))));
    }
    ws
}

async fn next_proto(ws: &mut RawWs) -> v1::Reply {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        if let Message::Binary(b) = msg {
            let frame: v1::ServerFrame = wire::decode_proto(&b).unwrap();
            match frame.frame {
                Some(v1::server_frame::Frame::Reply(r)) => return r,
                _ => continue,
            }
        }
    }
}

/// A bystander who must keep chatting through all of it.
async fn bystander_still_works(server: &TestServer) {
    let c = connect(&server.ws_url, attendee_token("bystander")).await;
    c.join(CTX).await.unwrap();
    let sent = c.send(CTX, "still fine", "", 0).await.unwrap();
    expect_push(&c, |p| {
        matches!(&p.body, Some(Body::Message(m)) if m.id == sent.message_id).then_some(())
    })
    .await;
}

#[tokio::test]
async fn malformed_json_unknown_command_and_wrong_frame_type_get_typed_errors() {
    let server = start(|_| {}).await;
    let watcher = connect(&server.ws_url, attendee_token("watcher")).await;
    watcher.join(CTX).await.unwrap();
    let mut ws = connected_raw(&server.ws_url, "plenary.v1.json", "mallory").await;

    send_text(&mut ws, "{this is not json").await;
    let r = next_json(&mut ws).await;
    assert_eq!(r["reply"]["error"]["code"], "ERROR_CODE_BAD_REQUEST");
    // No id could be read: id 0, which proto3 JSON leaves out.
    assert!(r["reply"]["id"].is_null(), "{r}");

    // A malformed command whose id reads is answered as that command.
    send_text(&mut ws, r#"{"id":7,"send":{"context_id":5}}"#).await;
    let r = next_json(&mut ws).await;
    assert_eq!(r["reply"]["error"]["code"], "ERROR_CODE_BAD_REQUEST", "{r}");
    assert_eq!(r["reply"]["id"], "7", "{r}");

    send_text(&mut ws, r#"{"id":8,"teleport":{"to":"mars"}}"#).await;
    let r = next_json(&mut ws).await;
    assert_eq!(r["reply"]["error"]["code"], "ERROR_CODE_UNKNOWN_COMMAND");
    assert_eq!(r["reply"]["id"], "8");

    ws.send(Message::binary(vec![1u8, 2, 3])).await.unwrap();
    let r = next_json(&mut ws).await;
    assert_eq!(r["reply"]["error"]["code"], "ERROR_CODE_BAD_REQUEST");

    send_text(&mut ws, r#"{"id":9,"connect":{"token":"x"}}"#).await;
    let r = next_json(&mut ws).await;
    assert_eq!(r["reply"]["error"]["code"], "ERROR_CODE_ALREADY_CONNECTED");

    // The connection is still usable.
    send_text(&mut ws, r#"{"id":10,"ping":{}}"#).await;
    let r = next_json(&mut ws).await;
    assert!(int64(&r["reply"]["pong"]["server_time_ms"]).unwrap() > 0);
    bystander_still_works(&server).await;
    expect_push(&watcher, |p| {
        matches!(&p.body, Some(Body::Message(m)) if m.text == "still fine").then_some(())
    })
    .await;
    server.stop().await;
}

#[tokio::test]
async fn malformed_protobuf_gets_a_typed_error() {
    let server = start(|_| {}).await;
    let mut ws = connected_raw(&server.ws_url, "plenary.v1.proto", "mallory").await;
    ws.send(Message::binary(vec![0xff, 0xff, 0xff, 0xff, 0x0f]))
        .await
        .unwrap();
    let r = next_proto(&mut ws).await;
    let Some(v1::reply::Result::Error(e)) = r.result else {
        panic!("{r:?}")
    };
    assert_eq!(e.code, ErrorCode::BadRequest as i32);
    // A text frame on the protobuf subprotocol.
    ws.send(Message::text("{}")).await.unwrap();
    let r = next_proto(&mut ws).await;
    assert!(matches!(r.result, Some(v1::reply::Result::Error(_))));
    // An empty ClientFrame (no command) is an unknown command.
    ws.send(Message::binary(wire::encode_proto(&v1::ClientFrame {
        id: 4,
        command: None,
    })))
    .await
    .unwrap();
    let r = next_proto(&mut ws).await;
    let Some(v1::reply::Result::Error(e)) = r.result else {
        panic!("{r:?}")
    };
    assert_eq!((r.id, e.code), (4, ErrorCode::UnknownCommand as i32));
    bystander_still_works(&server).await;
    server.stop().await;
}

#[tokio::test]
async fn malformed_frame_before_connect_closes_4000() {
    let server = start(|_| {}).await;
    let mut ws = raw(&server.ws_url, "plenary.v1.json").await;
    send_text(&mut ws, "][").await;
    let r = next_json(&mut ws).await;
    assert_eq!(r["reply"]["error"]["code"], "ERROR_CODE_BAD_REQUEST");
    assert_eq!(close_code(&mut ws).await, 4000);
    server.stop().await;
}

#[tokio::test]
async fn oversize_frame_closes_4009_and_others_are_unaffected() {
    let server = start(|c| c.max_frame_bytes = 4096).await;
    let mut ws = connected_raw(&server.ws_url, "plenary.v1.json", "mallory").await;
    let big = format!(
        r#"{{"id":2,"send":{{"context_id":"{CTX}","text":"{}"}}}}"#,
        "x".repeat(10_000)
    );
    send_text(&mut ws, &big).await;
    assert_eq!(close_code(&mut ws).await, 4009);
    bystander_still_works(&server).await;
    server.stop().await;
}

#[tokio::test]
async fn a_client_that_stops_reading_is_cut_off_while_others_get_everything() {
    const MESSAGES: usize = 300;
    let server = start(|c| {
        c.outbound_queue = 16;
        c.write_timeout_ms = 1_000;
        c.max_text_chars = 40_000;
        c.user_rate = 100_000;
        c.user_burst = 100_000;
    })
    .await;
    let publisher = connect(&server.ws_url, moderator_token("pub", CTX)).await;
    publisher.join(CTX).await.unwrap();
    let reader = connect(&server.ws_url, attendee_token("reader")).await;
    reader.join(CTX).await.unwrap();
    // The slow client joins and then never reads again.
    let mut slow = connected_raw(&server.ws_url, "plenary.v1.json", "slow").await;
    send_text(
        &mut slow,
        &format!(r#"{{"id":2,"join":{{"context_id":"{CTX}"}}}}"#),
    )
    .await;
    let r = next_json(&mut slow).await;
    assert!(r["reply"]["join"].is_object(), "{r}");

    let text = "y".repeat(30_000);
    let mut ids = Vec::with_capacity(MESSAGES);
    for i in 0..MESSAGES {
        ids.push(
            publisher
                .send(CTX, &text, &format!("m{i}"), 0)
                .await
                .unwrap()
                .message_id,
        );
    }
    // The healthy reader receives every message, in order.
    let mut got = Vec::with_capacity(MESSAGES);
    while got.len() < MESSAGES {
        got.push(
            expect_push(&reader, |p| match &p.body {
                Some(Body::Message(m)) => Some(m.id),
                _ => None,
            })
            .await,
        );
    }
    assert_eq!(got, ids);

    // The slow one was disconnected: reading now ends in a close (4008) or a reset,
    // having received fewer than all messages.
    let mut received = 0;
    let ended = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match slow.next().await {
                Some(Ok(Message::Text(_))) => received += 1,
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return None,
            }
        }
    })
    .await
    .expect("the slow client was never disconnected");
    assert!(
        received < MESSAGES,
        "the slow client got everything; nothing was tested"
    );
    if let Some(code) = ended {
        assert_eq!(code, 4008);
    }
    server.stop().await;
}

/// What a raw client read after its burst: the replies in order, then how it ended.
struct Aftermath {
    replies: Vec<serde_json::Value>,
    /// The close frame's code, or `None` when the connection ended without one.
    close: Option<u16>,
    /// How the stream ended after the close frame: `Ok` for a clean end, the error
    /// otherwise (a reset shows up here).
    after_close: Result<(), String>,
}

/// Reads replies until the connection ends (bounded).
async fn read_to_the_end(ws: &mut RawWs) -> Aftermath {
    let mut replies = Vec::new();
    let read = async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(t))) => {
                    replies.push(serde_json::from_str::<serde_json::Value>(t.as_str()).unwrap())
                }
                Some(Ok(Message::Close(frame))) => {
                    return Some(frame.map_or(1005, |f| u16::from(f.code)));
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return None,
            }
        }
    };
    let close = tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("the connection neither closed nor failed");
    // The client answers the close frame; the server then ends the TCP connection.
    let after_close = if close.is_some() {
        match tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("the server kept the socket open after the close handshake")
        {
            None
            | Some(Err(tokio_tungstenite::tungstenite::Error::ConnectionClosed))
            | Some(Err(tokio_tungstenite::tungstenite::Error::AlreadyClosed)) => Ok(()),
            Some(other) => Err(format!("{other:?}")),
        }
    } else {
        Err("no close frame".into())
    };
    Aftermath {
        replies,
        close,
        after_close,
    }
}

#[tokio::test]
async fn a_flood_gets_every_decided_reply_and_a_clean_4029() {
    const BURST: u64 = 1_000;
    let server = start(|c| {
        c.user_rate = 10;
        c.user_burst = 20;
    })
    .await;
    let mut ws = connected_raw(&server.ws_url, "plenary.v1.json", "flooder").await;
    // The whole burst is written before anything is read, as a flooding client does.
    for id in 2..2 + BURST {
        ws.feed(Message::text(format!(r#"{{"id":{id},"ping":{{}}}}"#)))
            .await
            .unwrap();
    }
    ws.flush().await.unwrap();

    let end = read_to_the_end(&mut ws).await;
    let ids: Vec<u64> = end
        .replies
        .iter()
        .map(|r| int64(&r["reply"]["id"]).unwrap())
        .collect();
    assert_eq!(
        ids,
        (2..2 + ids.len() as u64).collect::<Vec<_>>(),
        "every frame read is answered, in order"
    );
    let limited = end
        .replies
        .iter()
        .rev()
        .take_while(|r| r["reply"]["error"]["code"] == "ERROR_CODE_RATE_LIMITED")
        .count();
    assert!(
        limited >= 50,
        "the 50 RATE_LIMITED replies come before the close, got {limited} of {} replies \
         (then close {:?}, {:?})",
        end.replies.len(),
        end.close,
        end.after_close
    );
    assert_eq!(end.close, Some(4029), "{} replies", end.replies.len());
    assert_eq!(
        end.after_close,
        Ok(()),
        "the socket ends cleanly, not with a reset"
    );
    bystander_still_works(&server).await;
    server.stop().await;
}

#[tokio::test]
async fn an_oversize_frame_in_a_burst_gets_a_clean_4009() {
    let server = start(|c| c.max_frame_bytes = 4096).await;
    let mut ws = connected_raw(&server.ws_url, "plenary.v1.json", "mallory").await;
    ws.feed(Message::text(r#"{"id":2,"ping":{}}"#))
        .await
        .unwrap();
    let big = format!(
        r#"{{"id":3,"send":{{"context_id":"{CTX}","text":"{}"}}}}"#,
        "x".repeat(200_000)
    );
    ws.feed(Message::text(big)).await.unwrap();
    for id in 4..100 {
        ws.feed(Message::text(format!(r#"{{"id":{id},"ping":{{}}}}"#)))
            .await
            .unwrap();
    }
    ws.flush().await.unwrap();

    let end = read_to_the_end(&mut ws).await;
    let ids: Vec<u64> = end
        .replies
        .iter()
        .map(|r| int64(&r["reply"]["id"]).unwrap())
        .collect();
    assert_eq!(ids, [2], "the ping before the big frame is answered");
    assert_eq!(end.close, Some(4009));
    assert_eq!(
        end.after_close,
        Ok(()),
        "the socket ends cleanly, not with a reset"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_close_from_the_client_is_answered() {
    let server = start(|_| {}).await;
    let mut ws = connected_raw(&server.ws_url, "plenary.v1.json", "leaver").await;
    ws.close(None).await.unwrap();
    let end = read_to_the_end(&mut ws).await;
    assert_eq!(end.close, Some(1005), "the server echoes the close frame");
    assert_eq!(end.after_close, Ok(()));
    server.stop().await;
}
