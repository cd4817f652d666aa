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
    assert_eq!(r["reply"]["id"], 0);

    send_text(&mut ws, r#"{"id":7,"send":{"context_id":5}}"#).await;
    let r = next_json(&mut ws).await;
    assert_eq!(r["reply"]["error"]["code"], "ERROR_CODE_BAD_REQUEST", "{r}");

    send_text(&mut ws, r#"{"id":8,"teleport":{"to":"mars"}}"#).await;
    let r = next_json(&mut ws).await;
    assert_eq!(r["reply"]["error"]["code"], "ERROR_CODE_UNKNOWN_COMMAND");
    assert_eq!(r["reply"]["id"], 8);

    ws.send(Message::binary(vec![1u8, 2, 3])).await.unwrap();
    let r = next_json(&mut ws).await;
    assert_eq!(r["reply"]["error"]["code"], "ERROR_CODE_BAD_REQUEST");

    send_text(&mut ws, r#"{"id":9,"connect":{"token":"x"}}"#).await;
    let r = next_json(&mut ws).await;
    assert_eq!(r["reply"]["error"]["code"], "ERROR_CODE_ALREADY_CONNECTED");

    // The connection is still usable.
    send_text(&mut ws, r#"{"id":10,"ping":{}}"#).await;
    let r = next_json(&mut ws).await;
    assert!(r["reply"]["pong"]["server_time_ms"].as_u64().unwrap() > 0);
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
