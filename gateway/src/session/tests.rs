//! The session driven over in-memory channels, without sockets: a [`Transport`] of
//! whole messages, and a node's shared parts as embedded mode builds them.

use std::{
    net::{IpAddr, Ipv4Addr},
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use clap::Parser;
use futures_util::{Sink, Stream};
use plenary_actors::ContextRegistry;
use plenary_bus::{Bus, EventLog};
use plenary_client::{Claims, mint_hs256};
use plenary_proto::{
    WireFormat,
    v1::{
        ClientFrame, Connect, ErrorCode, Join, Leave, Ping, PrivateOpen, SendMessage, ServerFrame,
        client_frame::Command, reply::Result as ReplyResult, server_frame::Frame,
    },
    wire,
};
use tokio::{
    sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel},
    task::JoinHandle,
    time::Instant,
};
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_util::sync::CancellationToken;

use super::{Shared, Transport, run};
use crate::{
    auth::Verifier, config::Config, directory::Directory, hub::Hub, outlet::Outlet,
    presence::Presence, protocol::CloseCode,
};

const SECRET: &str = "session-unit-test-secret-0123456789";

/// The server's end of an in-memory WebSocket: messages from the client in, messages
/// to it out.
struct ChannelSocket {
    incoming: UnboundedReceiver<Result<Message, tungstenite::Error>>,
    outgoing: UnboundedSender<Message>,
}

impl Stream for ChannelSocket {
    type Item = Result<Message, tungstenite::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.incoming.poll_recv(cx)
    }
}

impl Sink<Message> for ChannelSocket {
    type Error = tungstenite::Error;

    fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), Self::Error> {
        self.outgoing
            .send(message)
            .map_err(|_| tungstenite::Error::ConnectionClosed)
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }
}

impl Transport for ChannelSocket {}

/// A node's shared parts as embedded mode builds them, on a temporary directory.
struct Node {
    shared: Arc<Shared>,
    shutdown: CancellationToken,
    _dir: tempfile::TempDir,
}

impl Node {
    async fn start(configure: impl FnOnce(&mut Config)) -> Node {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::parse_from([
            "plenary",
            "--data-dir",
            dir.path().to_str().unwrap(),
            "--sync-mode",
            "normal",
        ]);
        configure(&mut config);
        let settings = config
            .validate_with(Some(SECRET.into()), None)
            .expect("valid test config");
        let config = settings.config.clone();
        let log = EventLog::open(&config.data_dir, config.sync_mode)
            .await
            .unwrap();
        let registry = ContextRegistry::new(crate::context_config(&config), log, Bus::memory());
        let hub = Arc::new(Hub::new(2));
        registry.bus().attach(hub.clone());
        let shared = Shared::new(
            config,
            Verifier::new(&settings).unwrap(),
            registry,
            hub,
            Arc::new(Presence::default()),
            Arc::new(Directory::memory()),
        );
        Node {
            shared: Arc::new(shared),
            shutdown: CancellationToken::new(),
            _dir: dir,
        }
    }

    /// A session over channels, in JSON, its connect time-out counted from now.
    fn open(&self) -> Client {
        let (to_server, incoming) = unbounded_channel();
        let (outgoing, from_server) = unbounded_channel();
        let outlet = Outlet::messages(outgoing.clone(), WireFormat::Json);
        let socket = ChannelSocket { incoming, outgoing };
        let pending = self
            .shared
            .admission
            .admit(IpAddr::V4(Ipv4Addr::LOCALHOST))
            .expect("room in the pending budget");
        let deadline = Instant::now() + self.shared.config.connect_timeout();
        let session = tokio::spawn(run(
            socket,
            outlet,
            WireFormat::Json,
            self.shared.clone(),
            deadline,
            pending,
            self.shutdown.clone(),
        ));
        Client {
            to_server,
            from_server,
            session,
            next_id: 1,
        }
    }

    /// A session that sent `connect` for `user` and got its answer.
    async fn connect(&self, user: &str) -> Client {
        let mut client = self.open();
        let id = client.send(Command::Connect(Connect { token: token(user) }));
        let (reply_id, result) = client.reply().await;
        assert_eq!(reply_id, id);
        assert!(
            matches!(result, ReplyResult::Connect(_)),
            "not connected: {result:?}"
        );
        client
    }
}

fn token(user: &str) -> String {
    mint_hs256(SECRET.as_bytes(), &Claims::new(user)).unwrap()
}

/// The client's end.
struct Client {
    to_server: UnboundedSender<Result<Message, tungstenite::Error>>,
    from_server: UnboundedReceiver<Message>,
    session: JoinHandle<()>,
    next_id: u64,
}

impl Client {
    fn send_raw(&self, message: Message) {
        self.to_server.send(Ok(message)).expect("session running");
    }

    /// Sends a command; returns its frame id.
    fn send(&mut self, command: Command) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        let frame = ClientFrame {
            id,
            command: Some(command),
        };
        self.send_raw(Message::text(wire::encode_json(&frame)));
        id
    }

    /// The next server frame, skipping WebSocket pings; panics on a close.
    async fn frame(&mut self) -> ServerFrame {
        loop {
            match self.from_server.recv().await.expect("session open") {
                Message::Text(text) => return wire::decode_json(text.as_str()).unwrap(),
                Message::Ping(_) => continue,
                other => panic!("expected a frame, got {other:?}"),
            }
        }
    }

    /// The next reply (pushes skipped).
    async fn reply(&mut self) -> (u64, ReplyResult) {
        loop {
            if let Some(Frame::Reply(reply)) = self.frame().await.frame {
                return (reply.id, reply.result.expect("a reply has a result"));
            }
        }
    }

    /// The next reply's error code; panics if it is not an error.
    async fn error(&mut self) -> (u64, ErrorCode) {
        match self.reply().await {
            (id, ReplyResult::Error(e)) => (id, ErrorCode::try_from(e.code).unwrap()),
            (_, other) => panic!("expected an error, got {other:?}"),
        }
    }

    /// Goes away without a close frame, and waits for the session to end.
    async fn gone(self) {
        drop(self.to_server);
        self.session.await.unwrap();
    }

    /// Reads up to the server's close frame (counting pings on the way), answers it,
    /// and waits for the session to end. Returns the close code and the pings seen.
    async fn closed(mut self) -> (u16, usize) {
        let mut pings = 0;
        let code = loop {
            match self.from_server.recv().await.expect("a close frame") {
                Message::Close(frame) => break u16::from(frame.expect("a close code").code),
                Message::Ping(_) => pings += 1,
                _ => {}
            }
        };
        let _ = self.to_server.send(Ok(Message::Close(None)));
        self.session.await.unwrap();
        (code, pings)
    }
}

#[tokio::test]
async fn connect_then_ping_is_answered_with_pong() {
    let node = Node::start(|_| {}).await;
    let mut client = node.connect("u1").await;
    let id = client.send(Command::Ping(Ping {}));
    let (reply_id, result) = client.reply().await;
    assert_eq!(reply_id, id);
    assert!(matches!(result, ReplyResult::Pong(_)), "{result:?}");
    let id = client.send(Command::Connect(Connect { token: token("u1") }));
    assert_eq!(client.error().await, (id, ErrorCode::AlreadyConnected));
}

#[tokio::test]
async fn malformed_frames_get_typed_errors_and_the_session_goes_on() {
    let node = Node::start(|_| {}).await;
    let mut client = node.connect("u1").await;
    client.send_raw(Message::text("{not json"));
    assert_eq!(client.error().await, (0, ErrorCode::BadRequest));
    client.send_raw(Message::binary(vec![1u8, 2, 3]));
    assert_eq!(client.error().await, (0, ErrorCode::BadRequest));
    client.send_raw(Message::text(r#"{"id":7,"no_such_command":{}}"#));
    assert_eq!(client.error().await, (7, ErrorCode::UnknownCommand));
    let id = client.send(Command::Send(SendMessage {
        context_id: "c1".into(),
        text: "hello".into(),
        ..Default::default()
    }));
    assert_eq!(client.error().await, (id, ErrorCode::NotJoined));
    let id = client.send(Command::Ping(Ping {}));
    assert_eq!(client.reply().await.0, id);
}

#[tokio::test]
async fn a_command_before_connect_is_refused_and_closes() {
    let node = Node::start(|_| {}).await;
    let mut client = node.open();
    let id = client.send(Command::Ping(Ping {}));
    assert_eq!(client.error().await, (id, ErrorCode::Unauthorized));
    assert_eq!(client.closed().await.0, CloseCode::Unauthorized as u16);
}

#[tokio::test]
async fn a_bad_token_is_refused_and_closes() {
    let node = Node::start(|_| {}).await;
    let mut client = node.open();
    let id = client.send(Command::Connect(Connect {
        token: "not-a-token".into(),
    }));
    assert_eq!(client.error().await, (id, ErrorCode::Unauthorized));
    assert_eq!(client.closed().await.0, CloseCode::Unauthorized as u16);
}

#[tokio::test]
async fn no_connect_in_time_closes() {
    let node = Node::start(|_| {}).await;
    // Paused once the event log is open: its pool's time-outs run on tokio's clock.
    tokio::time::pause();
    let started = Instant::now();
    let client = node.open();
    assert_eq!(client.closed().await.0, CloseCode::ConnectTimeout as u16);
    assert!(started.elapsed() >= node.shared.config.connect_timeout());
}

#[tokio::test]
async fn a_silent_client_is_pinged_then_closed_at_the_idle_time_out() {
    let node = Node::start(|_| {}).await;
    tokio::time::pause();
    let client = node.connect("u1").await;
    let connected = Instant::now();
    let (code, pings) = client.closed().await;
    assert_eq!(code, CloseCode::IdleTimeout as u16);
    assert!(pings >= 1, "pinged before the time-out");
    assert!(connected.elapsed() >= node.shared.config.idle_timeout());
}

#[tokio::test]
async fn a_client_that_keeps_sending_past_its_rate_is_closed() {
    let node = Node::start(|config| {
        config.user_rate = 1;
        config.user_burst = 1;
    })
    .await;
    let mut client = node.connect("u1").await;
    for _ in 0..(super::RATE_STRIKES_BEFORE_CLOSE + 10) {
        client.send(Command::Ping(Ping {}));
    }
    // Every command read before the close is answered, `RATE_LIMITED` ones included.
    let mut limited = 0;
    loop {
        match client.from_server.recv().await.expect("a close frame") {
            Message::Text(text) => {
                let frame: ServerFrame = wire::decode_json(text.as_str()).unwrap();
                if let Some(Frame::Reply(reply)) = frame.frame
                    && let Some(ReplyResult::Error(e)) = reply.result
                {
                    assert_eq!(e.code, ErrorCode::RateLimited as i32);
                    assert!(e.retry_after_ms > 0);
                    limited += 1;
                }
            }
            Message::Close(frame) => {
                assert_eq!(
                    u16::from(frame.unwrap().code),
                    CloseCode::RateLimited as u16
                );
                break;
            }
            _ => {}
        }
    }
    assert_eq!(limited, super::RATE_STRIKES_BEFORE_CLOSE);
}

#[tokio::test]
async fn shutdown_closes_with_restart() {
    let node = Node::start(|_| {}).await;
    let client = node.connect("u1").await;
    node.shutdown.cancel();
    assert_eq!(client.closed().await.0, CloseCode::Restart as u16);
}

#[tokio::test]
async fn streams_open_reopen_and_are_given_back() {
    let node = Node::start(|_| {}).await;
    let shared = node.shared.clone();
    let mut client = node.connect("u1").await;
    let join = |client: &mut Client| {
        client.send(Command::Join(Join {
            context_id: "c1".into(),
            since: None,
        }))
    };
    let id = join(&mut client);
    let (reply_id, result) = client.reply().await;
    assert_eq!(reply_id, id);
    assert!(matches!(result, ReplyResult::Join(_)), "{result:?}");
    // A re-join replaces the stream: still one connection in presence.
    join(&mut client);
    assert!(matches!(client.reply().await.1, ReplyResult::Join(_)));
    assert_eq!(shared.presence.counts("c1").connections, 1);

    // A message sent is answered and pushed back once, on the stream.
    let id = client.send(Command::Send(SendMessage {
        context_id: "c1".into(),
        text: "hello".into(),
        client_msg_id: "m1".into(),
        ..Default::default()
    }));
    let (mut replied, mut pushed) = (false, 0);
    while !replied || pushed == 0 {
        match client.frame().await.frame {
            Some(Frame::Reply(reply)) => {
                assert_eq!(reply.id, id);
                assert!(matches!(reply.result, Some(ReplyResult::Send(_))));
                replied = true;
            }
            Some(Frame::Push(push)) => {
                assert_eq!(push.context_id, "c1");
                pushed += 1;
            }
            None => {}
        }
    }

    // The private stream opens, and re-opens, the same way; it is not a context.
    for _ in 0..2 {
        client.send(Command::PrivateOpen(PrivateOpen { since: None }));
        let result = client.reply().await.1;
        assert!(matches!(result, ReplyResult::PrivateOpen(_)), "{result:?}");
    }
    assert_eq!(shared.presence.counts("").connections, 0);

    let leave = |client: &mut Client| {
        client.send(Command::Leave(Leave {
            context_id: "c1".into(),
        }))
    };
    leave(&mut client);
    assert!(matches!(client.reply().await.1, ReplyResult::Ack(_)));
    assert_eq!(shared.presence.counts("c1").connections, 0);
    let id = leave(&mut client);
    assert_eq!(client.error().await, (id, ErrorCode::NotJoined));

    join(&mut client);
    assert!(matches!(client.reply().await.1, ReplyResult::Join(_)));
    // The session ends with the client gone, and gives back what it held.
    client.gone().await;
    assert_eq!(shared.hub.channel_count(), 0);
    assert_eq!(shared.presence.counts("c1").connections, 0);
}

/// Every connection's task holds its session's future for as long as it is open, so
/// its size is memory per idle connection (issue 10: +720 bytes when the session was
/// split, because a command's answer, a stream's opening included, was awaited inline).
/// Answers are boxed now; this keeps it so (sizes of this unoptimised test build).
#[test]
fn an_idle_connection_task_stays_small() {
    type Ws = tokio_tungstenite::WebSocketStream<crate::outlet::OutletIo>;
    fn future_size<A, B, C, D, E, G, H, Fut, F: FnOnce(A, B, C, D, E, G, H) -> Fut>(
        _: &F,
    ) -> usize {
        std::mem::size_of::<Fut>()
    }
    fn method_size<A, B, C, Fut, F: FnOnce(A, B, C) -> Fut>(_: &F) -> usize {
        std::mem::size_of::<Fut>()
    }
    let serve_loop = method_size(&super::Session::<Ws>::serve_loop);
    let task = future_size(&run::<Ws>);
    assert!(
        serve_loop <= 2_048,
        "the serve loop's future is {serve_loop} bytes"
    );
    assert!(task <= 5_120, "a session's future is {task} bytes");
}
