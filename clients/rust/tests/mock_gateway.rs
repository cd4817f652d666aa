//! The client against a scripted in-process WebSocket server that speaks the Plenary
//! frames: connect, replies, pushes, close codes and recovery after a reconnect.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use plenary_client::v1::{
    self, ChatMessage, ClientFrame, ConnectOk, ErrorCode, JoinOk, Position, Push, Reply,
    ServerFrame, client_frame::Command, push, reply, server_frame::Frame,
};
use plenary_client::{Client, ClientConfig, ClientError, WireFormat};
use plenary_proto::wire;
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

const WAIT: Duration = Duration::from_secs(5);

/// One accepted server-side socket and the format it negotiated.
struct Peer {
    ws: WebSocketStream<TcpStream>,
    format: WireFormat,
}

impl Peer {
    // The handshake callback's error type is tungstenite's, large by design.
    #[allow(clippy::result_large_err)]
    async fn accept(listener: &TcpListener) -> Peer {
        let (tcp, _) = tokio::time::timeout(WAIT, listener.accept())
            .await
            .unwrap()
            .unwrap();
        let mut format = WireFormat::Json;
        let ws = tokio_tungstenite::accept_hdr_async(tcp, |req: &Request, mut resp: Response| {
            let offered = req
                .headers()
                .get_all("Sec-WebSocket-Protocol")
                .iter()
                .filter_map(|v| v.to_str().ok());
            format = WireFormat::negotiate(offered).unwrap();
            resp.headers_mut().insert(
                "Sec-WebSocket-Protocol",
                format.subprotocol().parse().unwrap(),
            );
            Ok(resp)
        })
        .await
        .unwrap();
        Peer { ws, format }
    }

    async fn recv(&mut self) -> ClientFrame {
        loop {
            let msg = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .unwrap()
                .unwrap()
                .unwrap();
            match msg {
                Message::Text(t) => {
                    assert_eq!(self.format, WireFormat::Json);
                    return wire::decode_client_frame_json(t.as_str()).unwrap();
                }
                Message::Binary(b) => {
                    assert_eq!(self.format, WireFormat::Proto);
                    return wire::decode_proto(&b).unwrap();
                }
                _ => continue,
            }
        }
    }

    async fn send(&mut self, frame: Frame) {
        let frame = ServerFrame { frame: Some(frame) };
        let msg = match self.format {
            WireFormat::Json => Message::text(wire::encode_json(&frame)),
            WireFormat::Proto => Message::binary(wire::encode_proto(&frame)),
        };
        self.ws.send(msg).await.unwrap();
    }

    async fn reply(&mut self, id: u64, result: reply::Result) {
        self.send(Frame::Reply(Reply {
            id,
            result: Some(result),
        }))
        .await;
    }

    /// Answers the next command, a join, as taken at `epoch`/`seq` (nothing to recover).
    async fn accept_join(&mut self, epoch: u64, seq: u64) {
        let join = self.recv().await;
        assert!(matches!(join.command, Some(Command::Join(_))), "{join:?}");
        let ok = JoinOk {
            epoch,
            seq,
            ..Default::default()
        };
        self.reply(join.id, reply::Result::Join(ok)).await;
    }

    /// Expects `connect` and accepts it.
    async fn handshake(&mut self, user: &str) {
        let frame = self.recv().await;
        match frame.command {
            Some(Command::Connect(c)) => assert_eq!(c.token, "tok"),
            other => panic!("expected connect, got {other:?}"),
        }
        self.reply(
            frame.id,
            reply::Result::Connect(ConnectOk {
                user_id: user.into(),
                server_time_ms: 1,
                limits: None,
                node_id: String::new(),
            }),
        )
        .await;
    }

    async fn close(&mut self, code: u16, reason: &str) {
        self.ws
            .close(Some(CloseFrame {
                code: CloseCode::from(code),
                reason: reason.into(),
            }))
            .await
            .unwrap();
        // Let the client's close reply arrive.
        let _ = tokio::time::timeout(WAIT, async { while self.ws.next().await.is_some() {} }).await;
    }
}

fn chat(ctx: &str, epoch: u64, seq: u64, text: &str) -> Push {
    Push {
        context_id: ctx.into(),
        epoch,
        seq,
        body: Some(push::Body::Message(ChatMessage {
            id: seq,
            text: text.into(),
            ..Default::default()
        })),
    }
}

async fn listener() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ws", listener.local_addr().unwrap());
    (listener, url)
}

fn config(url: &str, format: WireFormat) -> ClientConfig {
    ClientConfig::new(url, "tok")
        .with_format(format)
        .with_connect_timeout(WAIT)
}

async fn next(client: &Client) -> Option<Push> {
    tokio::time::timeout(WAIT, client.next_push())
        .await
        .unwrap()
}

async fn commands_replies_and_pushes(format: WireFormat) {
    let (listener, url) = listener().await;
    let server = tokio::spawn(async move {
        let mut peer = Peer::accept(&listener).await;
        peer.handshake("alice").await;

        let join = peer.recv().await;
        assert!(
            matches!(join.command, Some(Command::Join(ref j)) if j.context_id == "w1" && j.since.is_none())
        );
        peer.reply(
            join.id,
            reply::Result::Join(JoinOk {
                epoch: 3,
                seq: 10,
                ..Default::default()
            }),
        )
        .await;
        peer.send(Frame::Push(chat("w1", 3, 12, "first"))).await;

        // Two commands in flight at once; the server answers in order.
        let a = peer.recv().await;
        let b = peer.recv().await;
        for frame in [a, b] {
            match frame.command {
                Some(Command::Send(s)) => {
                    peer.reply(
                        frame.id,
                        reply::Result::Send(v1::SendOk {
                            message_id: 100 + s.reply_to,
                            seq: 13,
                            duplicate: false,
                            thread_id: 0,
                        }),
                    )
                    .await;
                }
                Some(Command::Ping(_)) => {
                    peer.reply(
                        frame.id,
                        reply::Result::Pong(v1::Pong { server_time_ms: 7 }),
                    )
                    .await;
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        peer.send(Frame::Push(chat("w1", 3, 15, "second"))).await;

        let like = peer.recv().await;
        peer.reply(
            like.id,
            reply::Result::Error(v1::Error {
                code: ErrorCode::RateLimited as i32,
                message: "slow down".into(),
                retry_after_ms: 250,
            }),
        )
        .await;
        peer.close(4008, "slow consumer").await;
    });

    let (client, hello) = Client::connect(config(&url, format)).await.unwrap();
    assert_eq!(hello.user_id, "alice");
    let joined = client.join("w1").await.unwrap();
    assert_eq!((joined.epoch, joined.seq), (3, 10));
    assert_eq!(client.position("w1"), Some(Position { epoch: 3, seq: 10 }));

    let (sent, pong) = tokio::join!(client.send("w1", "hi", "m1", 1), client.ping());
    assert_eq!(sent.unwrap().message_id, 101);
    assert_eq!(pong.unwrap().server_time_ms, 7);

    let first = next(&client).await.unwrap();
    assert_eq!(first.seq, 12);
    let second = next(&client).await.unwrap();
    assert_eq!(second.seq, 15);
    assert_eq!(client.position("w1"), Some(Position { epoch: 3, seq: 15 }));

    let err = client.like("w1", 5).await.unwrap_err();
    assert!(err.is_rate_limited(), "{err:?}");
    assert_eq!(err.retry_after(), Some(Duration::from_millis(250)));

    // The server then closes: the stream ends and later commands report the code.
    assert!(next(&client).await.is_none());
    let err = client.ping().await.unwrap_err();
    assert_eq!(err.close_code(), Some(4008), "{err:?}");
    let info = client.close_info().unwrap();
    assert_eq!((info.code, info.reason.as_str()), (4008, "slow consumer"));
    assert!(!client.is_open());
    server.await.unwrap();
}

#[tokio::test]
async fn json_commands_replies_and_pushes() {
    commands_replies_and_pushes(WireFormat::Json).await;
}

#[tokio::test]
async fn proto_commands_replies_and_pushes() {
    commands_replies_and_pushes(WireFormat::Proto).await;
}

#[tokio::test]
async fn refused_connect_reports_close_code_or_error() {
    let (listener, url) = listener().await;
    let server = tokio::spawn(async move {
        let mut peer = Peer::accept(&listener).await;
        let _ = peer.recv().await;
        peer.close(4001, "bad token").await;

        let mut peer = Peer::accept(&listener).await;
        let frame = peer.recv().await;
        peer.reply(
            frame.id,
            reply::Result::Error(v1::Error {
                code: ErrorCode::TokenExpired as i32,
                message: "expired".into(),
                retry_after_ms: 0,
            }),
        )
        .await;
    });
    match Client::connect(config(&url, WireFormat::Json)).await {
        Err(ClientError::Closed { code, reason }) => {
            assert_eq!(code, 4001);
            assert_eq!(reason, "bad token");
        }
        other => panic!("unexpected {other:?}"),
    }
    let err = Client::connect(config(&url, WireFormat::Json))
        .await
        .unwrap_err();
    assert_eq!(err.server_code(), Some(ErrorCode::TokenExpired), "{err:?}");
    server.await.unwrap();
}

#[tokio::test]
async fn connect_times_out_when_the_server_is_silent() {
    let (listener, url) = listener().await;
    let server = tokio::spawn(async move {
        let mut peer = Peer::accept(&listener).await;
        let _ = peer.recv().await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    });
    let cfg = config(&url, WireFormat::Json).with_connect_timeout(Duration::from_millis(200));
    let err = Client::connect(cfg).await.unwrap_err();
    assert!(matches!(err, ClientError::Timeout(_)), "{err:?}");
    server.await.unwrap();
}

#[tokio::test]
async fn reconnect_recovers_missed_pushes_in_order() {
    let (listener, url) = listener().await;
    let server = tokio::spawn(async move {
        let mut peer = Peer::accept(&listener).await;
        peer.handshake("bob").await;
        for _ in ["w1", "w2"] {
            peer.accept_join(1, 10).await;
        }
        peer.send(Frame::Push(chat("w1", 1, 11, "a"))).await;
        peer.send(Frame::Push(chat("w2", 1, 12, "b"))).await;
        peer.close(1012, "restarting").await;

        let mut peer = Peer::accept(&listener).await;
        peer.handshake("bob").await;
        // w1 recovers; w2 gets a snapshot.
        let join = peer.recv().await;
        match join.command {
            Some(Command::Join(j)) => {
                assert_eq!(j.context_id, "w1");
                assert_eq!(j.since, Some(Position { epoch: 1, seq: 11 }));
            }
            other => panic!("{other:?}"),
        }
        peer.reply(
            join.id,
            reply::Result::Join(JoinOk {
                epoch: 1,
                seq: 14,
                recovered: true,
                missed: vec![chat("w1", 1, 13, "c"), chat("w1", 1, 14, "d")],
                ..Default::default()
            }),
        )
        .await;
        let join = peer.recv().await;
        match join.command {
            Some(Command::Join(j)) => {
                assert_eq!(j.context_id, "w2");
                // Queued but not yet read by the user still counts as seen.
                assert_eq!(j.since, Some(Position { epoch: 1, seq: 12 }));
            }
            other => panic!("{other:?}"),
        }
        peer.reply(
            join.id,
            reply::Result::Join(JoinOk {
                epoch: 2,
                seq: 5,
                recovered: false,
                snapshot: Some(v1::Snapshot::default()),
                ..Default::default()
            }),
        )
        .await;
        peer.send(Frame::Push(chat("w1", 1, 16, "e"))).await;
        peer.send(Frame::Push(chat("w2", 2, 6, "f"))).await;
        // The client's normal close.
        while let Some(Ok(msg)) = peer.ws.next().await {
            if let Message::Close(frame) = msg {
                assert_eq!(frame.map(|f| u16::from(f.code)), Some(1000));
                break;
            }
        }
    });

    let (mut client, _) = Client::connect(config(&url, WireFormat::Json))
        .await
        .unwrap();
    let mut pushes = client.take_pushes().unwrap();
    client.join("w1").await.unwrap();
    client.join("w2").await.unwrap();
    // Read only the first push before the connection drops; w2's stays queued.
    let a = tokio::time::timeout(WAIT, pushes.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((a.context_id.as_str(), a.seq), ("w1", 11));
    while client.is_open() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(client.close_info().unwrap().code, 1012);
    assert_eq!(client.position("w2"), Some(Position { epoch: 1, seq: 12 }));

    let joins = client.reconnect().await.unwrap();
    assert_eq!(joins.len(), 2);
    assert!(joins[0].recovered);
    assert!(!joins[1].recovered);

    let mut seen = Vec::new();
    for _ in 0..4 {
        let p = tokio::time::timeout(WAIT, pushes.recv())
            .await
            .unwrap()
            .unwrap();
        seen.push((p.context_id, p.epoch, p.seq));
    }
    // w2's queued 1/12 is older than its snapshot at 2/5 and is skipped.
    assert_eq!(
        seen,
        [
            ("w1".to_owned(), 1, 13),
            ("w1".to_owned(), 1, 14),
            ("w1".to_owned(), 1, 16),
            ("w2".to_owned(), 2, 6),
        ]
    );
    assert_eq!(client.position("w1"), Some(Position { epoch: 1, seq: 16 }));
    client.close().await;
    server.await.unwrap();
}

#[tokio::test]
async fn a_full_push_queue_stalls_neither_replies_nor_reconnects() {
    let (listener, url) = listener().await;
    let server = tokio::spawn(async move {
        let mut peer = Peer::accept(&listener).await;
        peer.handshake("carol").await;
        for _ in 0..2 {
            peer.accept_join(1, 0).await;
        }
        for seq in 1..=3 {
            peer.send(Frame::Push(chat("w1", 1, seq, "x"))).await;
        }
        let ping = peer.recv().await;
        peer.reply(ping.id, reply::Result::Pong(v1::Pong { server_time_ms: 1 }))
            .await;
        // More than the queue and the backlog hold; the client stops reading.
        for seq in 4..=9 {
            peer.send(Frame::Push(chat("w1", 1, seq, "x"))).await;
        }
        // The client gives up on this socket without reading further.
        let _ = tokio::time::timeout(WAIT, async { while peer.ws.next().await.is_some() {} }).await;

        let mut peer = Peer::accept(&listener).await;
        peer.handshake("carol").await;
        // The server replays everything after `since`.
        for (ctx, last) in [("w1", 12), ("w2", 5)] {
            let join = peer.recv().await;
            let since = match join.command {
                Some(Command::Join(j)) => j.since.unwrap(),
                other => panic!("{other:?}"),
            };
            assert!(since.seq < 4, "{ctx} since {since:?}");
            let missed: Vec<Push> = (since.seq + 1..=last)
                .map(|seq| chat(ctx, 1, seq, "m"))
                .collect();
            peer.reply(
                join.id,
                reply::Result::Join(JoinOk {
                    epoch: 1,
                    seq: missed.last().map_or(since.seq, |p| p.seq),
                    recovered: true,
                    missed,
                    ..Default::default()
                }),
            )
            .await;
        }
        let _ = tokio::time::timeout(WAIT, async { while peer.ws.next().await.is_some() {} }).await;
    });

    let cfg = config(&url, WireFormat::Json).with_push_buffer(2);
    let (mut client, _) = Client::connect(cfg).await.unwrap();
    client.join("w1").await.unwrap();
    client.join("w2").await.unwrap();
    // Three pushes precede the pong, one more than the queue holds.
    tokio::time::timeout(WAIT, client.ping())
        .await
        .unwrap()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;

    // Both rejoins replay more than the queue holds while nobody reads it.
    let joins = tokio::time::timeout(WAIT, client.reconnect())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(joins.len(), 2);

    let mut seen = Vec::new();
    while let Ok(Some(p)) =
        tokio::time::timeout(Duration::from_millis(300), client.next_push()).await
    {
        seen.push((p.context_id, p.seq));
    }
    let w1: Vec<u64> = seen
        .iter()
        .filter(|(c, _)| c == "w1")
        .map(|(_, s)| *s)
        .collect();
    let w2: Vec<u64> = seen
        .iter()
        .filter(|(c, _)| c == "w2")
        .map(|(_, s)| *s)
        .collect();
    assert_eq!(w1, (1..=12).collect::<Vec<_>>(), "{seen:?}");
    assert_eq!(w2, (1..=5).collect::<Vec<_>>(), "{seen:?}");
    assert_eq!(client.position("w1"), Some(Position { epoch: 1, seq: 12 }));
    assert_eq!(client.position("w2"), Some(Position { epoch: 1, seq: 5 }));
    drop(client);
    server.await.unwrap();
}

fn resync(ctx: &str) -> Push {
    Push {
        context_id: ctx.into(),
        body: Some(push::Body::Resync(v1::Resync {})),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_resync_notice_is_answered_by_a_rejoin_that_fills_the_gap_in_order() {
    let (listener, url) = listener().await;
    let server = tokio::spawn(async move {
        let mut peer = Peer::accept(&listener).await;
        peer.handshake("carol").await;
        for _ in ["w1", "w2"] {
            peer.accept_join(1, 10).await;
        }
        peer.send(Frame::Push(chat("w1", 1, 11, "a"))).await;
        // 12 and 13 never arrive; the gateway noticed and says so.
        peer.send(Frame::Push(resync("w1"))).await;
        // Sent before the rejoin was taken: the rejoin's answer covers it.
        peer.send(Frame::Push(chat("w1", 1, 14, "d"))).await;
        let join = peer.recv().await;
        match &join.command {
            Some(Command::Join(j)) => {
                assert_eq!(j.context_id, "w1");
                assert_eq!(j.since, Some(Position { epoch: 1, seq: 11 }));
            }
            other => panic!("{other:?}"),
        }
        peer.reply(
            join.id,
            reply::Result::Join(JoinOk {
                epoch: 1,
                seq: 14,
                recovered: true,
                missed: vec![
                    chat("w1", 1, 12, "b"),
                    chat("w1", 1, 13, "c"),
                    chat("w1", 1, 14, "d"),
                ],
                ..Default::default()
            }),
        )
        .await;
        peer.send(Frame::Push(chat("w1", 1, 15, "e"))).await;
        // w2 cannot be recovered (new epoch): the user gets the notice and starts over.
        peer.send(Frame::Push(resync("w2"))).await;
        let join = peer.recv().await;
        match &join.command {
            Some(Command::Join(j)) => assert_eq!(j.context_id, "w2"),
            other => panic!("{other:?}"),
        }
        peer.reply(
            join.id,
            reply::Result::Join(JoinOk {
                epoch: 2,
                seq: 3,
                recovered: false,
                snapshot: Some(v1::Snapshot::default()),
                ..Default::default()
            }),
        )
        .await;
        while let Some(Ok(msg)) = peer.ws.next().await {
            if let Message::Close(_) = msg {
                break;
            }
        }
    });

    let (client, _) = Client::connect(config(&url, WireFormat::Proto))
        .await
        .unwrap();
    client.join("w1").await.unwrap();
    client.join("w2").await.unwrap();
    let mut seen = Vec::new();
    for _ in 0..6 {
        let p = next(&client).await.unwrap();
        let what = match p.body {
            Some(push::Body::Resync(_)) => "resync".to_owned(),
            _ => p.seq.to_string(),
        };
        seen.push(format!("{}:{what}", p.context_id));
    }
    assert_eq!(
        seen,
        ["w1:11", "w1:12", "w1:13", "w1:14", "w1:15", "w2:resync"],
        "the gap is filled in order, once, and only the unrecoverable notice reaches the user"
    );
    assert_eq!(client.position("w1"), Some(Position { epoch: 1, seq: 15 }));
    assert_eq!(
        client.position("w2"),
        Some(Position { epoch: 1, seq: 10 }),
        "left for the user's own rejoin, which gets a snapshot"
    );
    client.close().await;
    server.await.unwrap();
}
