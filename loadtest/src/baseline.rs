//! The `baseline` command: the limit a gateway's delivery cost is measured against. A
//! minimal broadcast WebSocket server (tokio + tokio-tungstenite) that speaks just
//! enough of Plenary's protocol for the `fanout` scenario's clients to run unchanged
//! (`fanout --raw`): it answers `connect` and `join` at once without checking anything,
//! and a `send` is framed ONCE (WebSocket header included) as a minimal `message` push
//! and those bytes are written to every other joined socket, then the sender gets its
//! `SendOk`. No auth, no storage, no per-socket work beyond reading and writing.
//!
//! Delivery: `--shards` walker tasks each own a share of the joined sockets; a message
//! wakes each walker once, and it `try_write`s the frame to each of its sockets. Only a
//! socket that would block gets the frame queued (bounded by `--max-queued`; one more
//! and the socket is dropped and counted as a slow consumer) and its writer task woken,
//! which writes the queue as the socket drains. Every byte to a socket, the handshake,
//! replies and tungstenite's own pongs and close replies included, goes through that
//! one ordered path.
//!
//! The gateway's outlet (`gateway/src/outlet.rs`) follows the same pattern; this file
//! keeps its own copy on purpose: a baseline sharing code with what it measures would
//! move with it, and the ratio would hide a regression.
//!
//! It stops by itself after `--duration-secs`, when stdin closes (unless
//! `--ignore-stdin`), or on SIGTERM/SIGINT, and then prints a one-line JSON summary.

use std::collections::VecDeque;
use std::io::{self, Read as _, Write as _};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context as _, bail};
use bytes::{Buf as _, Bytes};
use futures_util::{SinkExt as _, StreamExt as _};
use plenary_proto::v1::{
    Ack, ChatMessage, ClientFrame, ConnectOk, Error as ErrorReply, ErrorCode, JoinOk, Limits, Pong,
    Push, Reply, SendOk, ServerFrame, client_frame::Command, push, reply, server_frame,
};
use plenary_proto::wire::{self, DecodeError, WireFormat};
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_util::sync::CancellationToken;

use crate::cli::BaselineArgs;

/// `ConnectOk.node_id` of the baseline: `fanout` tells the baseline from a gateway by it.
pub(crate) const NODE_ID: &str = "plenary-loadtest-baseline";
/// Limit for the WebSocket upgrade.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest message (and frame) a client may send.
const MAX_MESSAGE_BYTES: usize = 1 << 20;
/// Messages waiting for one walker.
const SHARD_QUEUE: usize = 1024;
/// How many slow-consumer drops and write errors are logged before only counting.
const LOGGED_DROPS: u64 = 5;

/// Runs the server until its duration ends, stdin closes or a signal arrives.
pub(crate) async fn run(args: BaselineArgs) -> anyhow::Result<()> {
    if !args.listen.ip().is_loopback() {
        bail!(
            "--listen {}: the baseline has no authentication and listens on loopback \
             addresses only (127.0.0.0/8 or ::1)",
            args.listen
        );
    }
    let options = Options::from_args(&args)?;
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => tracing::info!(limit, "open-file limit"),
        Err(e) => tracing::warn!(error = %e, "could not raise the open-file limit"),
    }
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let local = listener.local_addr().context("the listening address")?;
    // The first line on stdout: scripts and tests read the port from it.
    println!("listening on ws://{local}/ws");
    io::stdout().flush().context("writing stdout")?;

    let started = Instant::now();
    let server = Server::start(options);
    let stdin_closed = if args.ignore_stdin {
        None
    } else {
        Some(watch_stdin()?)
    };
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing the SIGTERM handler")?;
    let reason = tokio::select! {
        () = accept_loop(listener, Arc::clone(&server)) => "the listener failed",
        () = tokio::time::sleep(Duration::from_secs(args.duration_secs)) => "--duration-secs elapsed",
        _ = async {
            match stdin_closed {
                Some(closed) => closed.await,
                None => std::future::pending().await,
            }
        } => "stdin closed",
        _ = sigterm.recv() => "SIGTERM",
        _ = tokio::signal::ctrl_c() => "SIGINT",
    };
    tracing::info!(reason, "stopping");
    let summary = server.summary(reason, local, started.elapsed());
    println!(
        "{}",
        serde_json::to_string(&summary).context("serialising the summary")?
    );
    Ok(())
}

/// Settings of a running server.
#[derive(Clone, Copy, Debug)]
struct Options {
    max_queued: usize,
    shards: usize,
}

impl Options {
    fn from_args(args: &BaselineArgs) -> anyhow::Result<Self> {
        if args.max_queued == 0 {
            bail!("--max-queued must be at least 1");
        }
        let shards = match args.shards {
            Some(0) => bail!("--shards must be at least 1"),
            Some(k) => k,
            None => std::thread::available_parallelism().map_or(1, |n| n.get()),
        };
        Ok(Options {
            max_queued: args.max_queued,
            shards,
        })
    }
}

/// Closes the returned channel's sender when stdin reaches its end (or fails).
fn watch_stdin() -> anyhow::Result<oneshot::Receiver<()>> {
    let (closed, rx) = oneshot::channel::<()>();
    std::thread::Builder::new()
        .name("stdin-watch".to_owned())
        .spawn(move || {
            let mut stdin = io::stdin().lock();
            let mut buf = [0u8; 256];
            loop {
                match stdin.read(&mut buf) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
            drop(closed);
        })
        .context("starting the stdin watcher")?;
    Ok(rx)
}

async fn accept_loop(listener: TcpListener, server: Arc<Server>) {
    let mut failures = 0u64;
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(serve(Arc::clone(&server), stream));
            }
            Err(e) => {
                failures += 1;
                if failures <= LOGGED_DROPS {
                    tracing::warn!(error = %e, "accept failed");
                }
                // EMFILE and friends: give the process a moment to close sockets.
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Counters, for the summary line.
#[derive(Debug, Default)]
struct Stats {
    connections: AtomicU64,
    open: AtomicU64,
    peak_open: AtomicU64,
    joined: AtomicU64,
    messages: AtomicU64,
    deliveries: AtomicU64,
    dropped_slow: AtomicU64,
    write_errors: AtomicU64,
}

/// The summary printed on stdout when the server stops.
#[derive(Debug, Serialize)]
struct Summary {
    baseline: &'static str,
    reason: &'static str,
    listen: String,
    seconds: f64,
    shards: usize,
    max_queued: usize,
    /// Connections accepted, and the most open at once.
    connections: u64,
    peak_connections: u64,
    /// Sockets that joined.
    joined: u64,
    /// Messages published, and the frames handed to sockets (written or queued).
    messages: u64,
    deliveries: u64,
    /// Sockets dropped because their queue was full.
    dropped_slow: u64,
    /// Sockets dropped because a write failed.
    write_errors: u64,
}

/// What a walker is told.
enum ShardCmd {
    Add(Arc<Peer>),
    Remove(u64),
    /// A framed message, for every socket but `from`.
    Frame {
        frame: Bytes,
        from: u64,
    },
}

/// The walkers and what every connection shares.
struct Server {
    options: Options,
    shards: Vec<mpsc::Sender<ShardCmd>>,
    next_id: AtomicU64,
    seq: AtomicU64,
    stats: Arc<Stats>,
}

impl Server {
    /// Starts the walkers.
    fn start(options: Options) -> Arc<Server> {
        let stats = Arc::new(Stats::default());
        let shards = (0..options.shards)
            .map(|_| {
                let (tx, rx) = mpsc::channel(SHARD_QUEUE);
                tokio::spawn(walk(rx, Arc::clone(&stats)));
                tx
            })
            .collect();
        Arc::new(Server {
            options,
            shards,
            next_id: AtomicU64::new(1),
            seq: AtomicU64::new(0),
            stats,
        })
    }

    fn shard(&self, id: u64) -> &mpsc::Sender<ShardCmd> {
        &self.shards[(id % self.shards.len() as u64) as usize]
    }

    /// Frames a push of `text` once and hands it to every walker; its sequence number.
    async fn broadcast(&self, format: WireFormat, from: u64, context_id: &str, text: &str) -> u64 {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
        let frame = match format {
            WireFormat::Json => {
                WireFormat::Json.server_frame(push_json(context_id, seq, text).as_bytes())
            }
            WireFormat::Proto => WireFormat::Proto.server_frame(&push_proto(context_id, seq, text)),
        };
        self.stats.messages.fetch_add(1, Ordering::Relaxed);
        for shard in &self.shards {
            let frame = frame.clone();
            // Err: the walkers are gone, the server is stopping.
            let _ = shard.send(ShardCmd::Frame { frame, from }).await;
        }
        seq
    }

    fn summary(&self, reason: &'static str, listen: SocketAddr, elapsed: Duration) -> Summary {
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let stats = &self.stats;
        Summary {
            baseline: "stopped",
            reason,
            listen: listen.to_string(),
            seconds: elapsed.as_secs_f64(),
            shards: self.options.shards,
            max_queued: self.options.max_queued,
            connections: get(&stats.connections),
            peak_connections: get(&stats.peak_open),
            joined: get(&stats.joined),
            messages: get(&stats.messages),
            deliveries: get(&stats.deliveries),
            dropped_slow: get(&stats.dropped_slow),
            write_errors: get(&stats.write_errors),
        }
    }
}

/// A walker: owns a share of the joined sockets and writes each frame to each of them.
async fn walk(mut commands: mpsc::Receiver<ShardCmd>, stats: Arc<Stats>) {
    let mut peers: Vec<Arc<Peer>> = Vec::new();
    while let Some(command) = commands.recv().await {
        match command {
            ShardCmd::Add(peer) => peers.push(peer),
            ShardCmd::Remove(id) => {
                if let Some(i) = peers.iter().position(|p| p.id == id) {
                    peers.swap_remove(i);
                }
            }
            ShardCmd::Frame { frame, from } => {
                let mut delivered = 0u64;
                peers.retain(|peer| {
                    if peer.id == from {
                        return true;
                    }
                    match peer.deliver(&frame) {
                        Ok(()) => {
                            delivered += 1;
                            true
                        }
                        Err(Refused::Gone) => false,
                        Err(refused) => {
                            let counter = match refused {
                                Refused::Full => &stats.dropped_slow,
                                _ => &stats.write_errors,
                            };
                            if counter.fetch_add(1, Ordering::Relaxed) < LOGGED_DROPS {
                                tracing::warn!(peer = peer.id, ?refused, "socket dropped");
                            }
                            peer.shut();
                            false
                        }
                    }
                });
                stats.deliveries.fetch_add(delivered, Ordering::Relaxed);
            }
        }
    }
}

/// Why a socket did not take a frame.
#[derive(Debug)]
enum Refused {
    /// It is closed already.
    Gone,
    /// Its queue is full: a slow consumer.
    Full,
    /// Writing failed.
    Io,
}

/// One connection: its socket, the frames it could not take yet, and its end.
struct Peer {
    id: u64,
    stream: TcpStream,
    /// Frames (or the rest of one) not written yet, oldest first.
    queue: Mutex<VecDeque<Bytes>>,
    max_queued: usize,
    /// Tells the writer task there is something queued.
    wake: Notify,
    /// Cancelled when the connection ends, for whatever reason.
    gone: CancellationToken,
}

impl Peer {
    fn queue(&self) -> MutexGuard<'_, VecDeque<Bytes>> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes `frame` now if nothing is queued before it, else queues it. Whatever the
    /// socket does not take at once is queued for the writer task.
    fn deliver(&self, frame: &Bytes) -> Result<(), Refused> {
        if self.gone.is_cancelled() {
            return Err(Refused::Gone);
        }
        let mut queue = self.queue();
        if !queue.is_empty() {
            if queue.len() >= self.max_queued {
                return Err(Refused::Full);
            }
            queue.push_back(frame.clone());
            return Ok(());
        }
        let mut written = 0;
        while written < frame.len() {
            match self.stream.try_write(&frame[written..]) {
                Ok(0) => return Err(Refused::Io),
                Ok(n) => written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    queue.push_back(frame.slice(written..));
                    drop(queue);
                    self.wake.notify_one();
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Err(Refused::Io),
            }
        }
        Ok(())
    }

    /// Ends the connection: its reader and writer stop, and the socket closes once the
    /// walker has let go of it too.
    fn shut(&self) {
        self.gone.cancel();
    }
}

/// How far a flush of the queue got.
enum Flushed {
    All,
    Blocked,
    Failed,
}

/// Writes queued frames until the queue is empty or the socket would block.
fn flush_queue(stream: &TcpStream, queue: &mut VecDeque<Bytes>) -> Flushed {
    while let Some(front) = queue.front_mut() {
        match stream.try_write(front) {
            Ok(0) => return Flushed::Failed,
            Ok(n) if n == front.len() => {
                queue.pop_front();
            }
            Ok(n) => front.advance(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Flushed::Blocked,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Flushed::Failed,
        }
    }
    Flushed::All
}

/// The writer task of one socket: asleep unless the socket would block.
async fn write_loop(peer: Arc<Peer>) {
    'wait: loop {
        tokio::select! {
            biased;
            () = peer.gone.cancelled() => break 'wait,
            () = peer.wake.notified() => {}
        }
        loop {
            let flushed = flush_queue(&peer.stream, &mut peer.queue());
            match flushed {
                Flushed::All => continue 'wait,
                Flushed::Failed => {
                    peer.shut();
                    return;
                }
                Flushed::Blocked => {}
            }
            tokio::select! {
                biased;
                () = peer.gone.cancelled() => break 'wait,
                ready = peer.stream.writable() => if ready.is_err() {
                    peer.shut();
                    return;
                },
            }
        }
    }
    // A close reply may be the last thing queued: one last try, without waiting.
    let _ = flush_queue(&peer.stream, &mut peer.queue());
}

/// The socket as tungstenite sees it: reads straight from the socket, writes through
/// [`Peer::deliver`], so tungstenite's own frames (handshake, pongs, close replies)
/// stay whole and in order with the broadcast frames. A write is always taken whole, so
/// tungstenite never splits one of its frames around a broadcast frame.
struct PeerIo(Arc<Peer>);

impl AsyncRead for PeerIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            ready!(self.0.stream.poll_read_ready(cx))?;
            match self.0.stream.try_read(buf.initialize_unfilled()) {
                Ok(n) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl AsyncWrite for PeerIo {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.0.deliver(&Bytes::copy_from_slice(buf)) {
            Ok(()) => Poll::Ready(Ok(buf.len())),
            Err(refused) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                format!("socket refused the write: {refused:?}"),
            ))),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Echoes the first Plenary subprotocol the client offers.
#[allow(clippy::result_large_err)] // tungstenite's callback signature
fn negotiate(request: &Request, mut response: Response) -> Result<Response, ErrorResponse> {
    let offered = request
        .headers()
        .get_all("sec-websocket-protocol")
        .iter()
        .filter_map(|v| v.to_str().ok());
    if let Some(format) = WireFormat::negotiate(offered) {
        response.headers_mut().insert(
            "sec-websocket-protocol",
            HeaderValue::from_static(format.subprotocol()),
        );
    }
    Ok(response)
}

/// One connection, from the upgrade to its end.
async fn serve(server: Arc<Server>, stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let id = server.next_id.fetch_add(1, Ordering::Relaxed);
    let peer = Arc::new(Peer {
        id,
        stream,
        queue: Mutex::new(VecDeque::new()),
        max_queued: server.options.max_queued,
        wake: Notify::new(),
        gone: CancellationToken::new(),
    });
    tokio::spawn(write_loop(Arc::clone(&peer)));
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE_BYTES))
        .max_frame_size(Some(MAX_MESSAGE_BYTES));
    let upgrade = tokio_tungstenite::accept_hdr_async_with_config(
        PeerIo(Arc::clone(&peer)),
        negotiate,
        Some(config),
    );
    let mut ws = match tokio::time::timeout(HANDSHAKE_TIMEOUT, upgrade).await {
        Ok(Ok(ws)) => ws,
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "handshake failed");
            peer.shut();
            return;
        }
        Err(_) => {
            tracing::debug!("handshake timed out");
            peer.shut();
            return;
        }
    };
    let stats = &server.stats;
    stats.connections.fetch_add(1, Ordering::Relaxed);
    let open = stats.open.fetch_add(1, Ordering::Relaxed) + 1;
    stats.peak_open.fetch_max(open, Ordering::Relaxed);

    let mut joined = false;
    loop {
        let message = tokio::select! {
            biased;
            () = peer.gone.cancelled() => break,
            message = ws.next() => message,
        };
        let (format, frame) = match message {
            None | Some(Err(_)) => break,
            Some(Ok(Message::Close(_))) => {
                // Sends tungstenite's close reply.
                let _ = ws.flush().await;
                break;
            }
            Some(Ok(Message::Text(text))) => (
                WireFormat::Json,
                wire::decode_client_frame_json(text.as_str()),
            ),
            Some(Ok(Message::Binary(bytes))) => {
                (WireFormat::Proto, wire::decode_client_frame_proto(&bytes))
            }
            // Pings are answered by tungstenite itself.
            Some(Ok(_)) => continue,
        };
        let reply = answer(&server, &peer, &mut joined, format, frame).await;
        if peer.deliver(&reply).is_err() {
            break;
        }
    }
    peer.shut();
    if joined {
        let _ = server.shard(id).send(ShardCmd::Remove(id)).await;
    }
    stats.open.fetch_sub(1, Ordering::Relaxed);
}

/// Does what a command asks, as little as the `fanout` clients need, and frames the
/// reply in the format the command came in.
async fn answer(
    server: &Server,
    peer: &Arc<Peer>,
    joined: &mut bool,
    format: WireFormat,
    frame: Result<ClientFrame, DecodeError>,
) -> Bytes {
    let error = |code: ErrorCode, message: String| {
        reply::Result::Error(ErrorReply {
            code: code as i32,
            message,
            retry_after_ms: 0,
        })
    };
    let (id, result) = match frame {
        Err(e) => (0, error(ErrorCode::BadRequest, e.to_string())),
        Ok(ClientFrame { id, command }) => {
            let result = match command {
                Some(Command::Connect(_)) => reply::Result::Connect(ConnectOk {
                    user_id: format!("baseline-{}", peer.id),
                    server_time_ms: crate::report::unix_ms(SystemTime::now()),
                    limits: Some(Limits {
                        max_frame_bytes: MAX_MESSAGE_BYTES as u32,
                        ..Limits::default()
                    }),
                    node_id: NODE_ID.to_owned(),
                }),
                Some(Command::Join(_)) => {
                    // One room: every joined socket gets every message, whatever context
                    // it named.
                    if !*joined {
                        *joined = true;
                        server.stats.joined.fetch_add(1, Ordering::Relaxed);
                        let add = ShardCmd::Add(Arc::clone(peer));
                        let _ = server.shard(peer.id).send(add).await;
                    }
                    reply::Result::Join(JoinOk::default())
                }
                Some(Command::Leave(_)) => reply::Result::Ack(Ack { seq: 0 }),
                Some(Command::Ping(_)) => reply::Result::Pong(Pong {
                    server_time_ms: crate::report::unix_ms(SystemTime::now()),
                }),
                Some(Command::Send(send)) => {
                    let seq = server
                        .broadcast(format, peer.id, &send.context_id, &send.text)
                        .await;
                    reply::Result::Send(SendOk {
                        message_id: seq,
                        seq,
                        duplicate: false,
                        thread_id: 0,
                    })
                }
                _ => error(
                    ErrorCode::UnknownCommand,
                    "the baseline answers only connect, join, leave, send and ping".to_owned(),
                ),
            };
            (id, result)
        }
    };
    let frame = ServerFrame {
        frame: Some(server_frame::Frame::Reply(Reply {
            id,
            result: Some(result),
        })),
    };
    match format {
        WireFormat::Json => format.server_frame(wire::encode_json(&frame).as_bytes()),
        WireFormat::Proto => format.server_frame(&wire::encode_proto(&frame)),
    }
}

/// The JSON push of a message: only what a chat push cannot do without (its context,
/// its place in the stream, the text), e.g.
/// `{"push":{"context_id":"c","seq":"7","message":{"text":"hi"}}}` (64-bit integers
/// as strings, as the proto3 JSON mapping writes them).
fn push_json(context_id: &str, seq: u64, text: &str) -> String {
    let context_id = serde_json::Value::from(context_id);
    let text = serde_json::Value::from(text);
    format!(r#"{{"push":{{"context_id":{context_id},"seq":"{seq}","message":{{"text":{text}}}}}}}"#)
}

/// The same push in protobuf.
fn push_proto(context_id: &str, seq: u64, text: &str) -> Bytes {
    wire::encode_proto(&ServerFrame {
        frame: Some(server_frame::Frame::Push(Push {
            context_id: context_id.to_owned(),
            epoch: 0,
            seq,
            body: Some(push::Body::Message(ChatMessage {
                text: text.to_owned(),
                ..ChatMessage::default()
            })),
        })),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};

    #[test]
    fn frames_match_tungstenite() {
        for len in [0usize, 1, 125, 126, 127, 65_535, 65_536, 70_000] {
            let payload = vec![b'x'; len];
            for (format, data) in [
                (WireFormat::Json, Data::Text),
                (WireFormat::Proto, Data::Binary),
            ] {
                let mut expected = Vec::new();
                Frame::message(payload.clone(), OpCode::Data(data), true)
                    .format(&mut expected)
                    .unwrap();
                assert_eq!(
                    format.server_frame(&payload)[..],
                    expected[..],
                    "length {len}"
                );
            }
        }
    }

    #[test]
    fn pushes_decode_as_plenary_messages() {
        let text = "#3@17;\"quoted\" \\ ünï";
        let json = push_json("bench-1", 7, text);
        let proto = push_proto("bench-1", 7, text);
        for frame in [
            wire::decode_json::<ServerFrame>(&json).unwrap(),
            wire::decode_proto::<ServerFrame>(&proto).unwrap(),
        ] {
            let Some(server_frame::Frame::Push(push)) = frame.frame else {
                panic!("not a push: {frame:?}");
            };
            assert_eq!((push.context_id.as_str(), push.seq), ("bench-1", 7));
            let Some(push::Body::Message(message)) = push.body else {
                panic!("not a message");
            };
            assert_eq!(message.text, text);
        }
        assert_eq!(
            push_json("c", 7, "hi"),
            r#"{"push":{"context_id":"c","seq":"7","message":{"text":"hi"}}}"#
        );
    }

    /// A raw client: upgrade with the JSON subprotocol, `connect` and `join`.
    async fn joined_client(
        addr: SocketAddr,
    ) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>> {
        let mut request = format!("ws://{addr}/ws").into_client_request().unwrap();
        request.headers_mut().insert(
            "sec-websocket-protocol",
            HeaderValue::from_static(WireFormat::JSON_SUBPROTOCOL),
        );
        let (mut ws, response) = tokio_tungstenite::connect_async(request).await.unwrap();
        assert_eq!(
            response.headers()["sec-websocket-protocol"],
            WireFormat::JSON_SUBPROTOCOL
        );
        for command in [
            r#"{"id":1,"connect":{"token":"anything"}}"#,
            r#"{"id":2,"join":{"context_id":"c"}}"#,
            r#"{"id":3,"vote":{}}"#,
        ] {
            ws.send(Message::text(command)).await.unwrap();
            let Some(Ok(Message::Text(reply))) = ws.next().await else {
                panic!("no reply to {command}");
            };
            let frame: ServerFrame = wire::decode_json(reply.as_str()).unwrap();
            let Some(server_frame::Frame::Reply(reply)) = frame.frame else {
                panic!("not a reply: {frame:?}");
            };
            match reply.result {
                Some(reply::Result::Connect(ok)) => assert_eq!(ok.node_id, NODE_ID),
                Some(reply::Result::Join(_)) => {}
                Some(reply::Result::Error(e)) => {
                    assert_eq!(e.code, ErrorCode::UnknownCommand as i32)
                }
                other => panic!("unexpected reply {other:?}"),
            }
        }
        ws
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn broadcasts_to_others_and_drops_a_slow_consumer() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = Server::start(Options {
            max_queued: 4,
            shards: 2,
        });
        let accepting = tokio::spawn(accept_loop(listener, Arc::clone(&server)));
        let mut publisher = joined_client(addr).await;
        let mut reader = joined_client(addr).await;
        // Joined but never reads: its socket fills, then its queue, then it is dropped.
        let _slow = joined_client(addr).await;

        publisher
            .send(Message::text(
                r#"{"id":9,"send":{"context_id":"c","text":"hello"}}"#,
            ))
            .await
            .unwrap();
        let Some(Ok(Message::Text(push))) = reader.next().await else {
            panic!("no push");
        };
        assert_eq!(push.as_str(), push_json("c", 1, "hello"));
        let Some(Ok(Message::Text(reply))) = publisher.next().await else {
            panic!("no reply");
        };
        assert!(reply.as_str().contains(r#""id":"9""#), "{reply}");

        // Big messages until the slow socket is dropped; the reader keeps up.
        let text = "x".repeat(60_000);
        let mut sent = 0;
        while server.stats.dropped_slow.load(Ordering::Relaxed) == 0 {
            assert!(sent < 2_000, "the slow consumer was never dropped");
            let command = format!(
                r#"{{"id":{},"send":{{"context_id":"c","text":"{text}"}}}}"#,
                10 + sent
            );
            publisher.send(Message::text(command)).await.unwrap();
            assert!(matches!(publisher.next().await, Some(Ok(Message::Text(_)))));
            assert!(matches!(reader.next().await, Some(Ok(Message::Text(_)))));
            sent += 1;
        }
        assert_eq!(server.stats.dropped_slow.load(Ordering::Relaxed), 1);
        assert_eq!(server.stats.write_errors.load(Ordering::Relaxed), 0);
        assert_eq!(server.stats.joined.load(Ordering::Relaxed), 3);
        // The publisher never gets its own messages: only replies came back to it.
        publisher.close(None).await.unwrap();
        accepting.abort();
    }
}
