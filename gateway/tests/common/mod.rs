//! One helper to start a real gateway on 127.0.0.1:0 (in-process, or as the `plenary`
//! binary for crash and signal tests) and to connect clients to it.
#![allow(dead_code, unreachable_pub)]

pub mod cluster;

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use plenary_client::{Claims, Client, ClientConfig, mint_hs256, v1};
use plenary_gateway::Config;
use tokio::{net::TcpStream, task::JoinHandle};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};
use tokio_util::sync::CancellationToken;

pub const SECRET: &str = "integration-test-secret-0123456789";
pub const ADMIN_KEY: &str = "integration-admin-key-0123456789";

/// A gRPC request carrying the admin API key (the admin and reporting APIs).
pub fn authed<T>(message: T) -> tonic::Request<T> {
    let mut r = tonic::Request::new(message);
    r.metadata_mut().insert(
        "authorization",
        tonic::metadata::MetadataValue::try_from(format!("Bearer {ADMIN_KEY}")).unwrap(),
    );
    r
}

pub struct TestServer {
    pub ws_url: String,
    pub admin: SocketAddr,
    shutdown: CancellationToken,
    task: Option<JoinHandle<anyhow::Result<()>>>,
    /// The data directory, when the server made its own (see [`start_in`]).
    pub dir: Option<tempfile::TempDir>,
}

impl TestServer {
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(15), task).await;
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Base flags for a test node: loopback, ephemeral ports, its own data directory.
pub fn base_config(data_dir: &Path) -> Config {
    Config::parse_from([
        "plenary",
        "--listen",
        "127.0.0.1:0",
        "--admin-listen",
        "127.0.0.1:0",
        "--data-dir",
        data_dir.to_str().unwrap(),
        "--sync-mode",
        "normal",
    ])
}

/// Starts an embedded node in this process, with a data directory of its own.
pub async fn start(configure: impl FnOnce(&mut Config)) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start_in(dir.path(), configure).await;
    server.dir = Some(dir);
    server
}

/// Starts an embedded node in this process on `data_dir` (which outlives it: a
/// restart on the same directory).
pub async fn start_in(data_dir: &Path, configure: impl FnOnce(&mut Config)) -> TestServer {
    let mut config = base_config(data_dir);
    configure(&mut config);
    let settings = config
        .validate_with(Some(SECRET.into()), Some(ADMIN_KEY.into()))
        .expect("valid test config");
    let (ws, admin, bound) = plenary_gateway::bind(&settings).await.unwrap();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(plenary_gateway::run(settings, ws, admin, shutdown.clone()));
    TestServer {
        ws_url: format!("ws://{}/ws", bound.ws),
        admin: bound.admin,
        shutdown,
        task: Some(task),
        dir: None,
    }
}

pub fn attendee_token(sub: &str) -> String {
    mint_hs256(
        SECRET.as_bytes(),
        &Claims::new(sub).with_name(sub, "Attendee"),
    )
    .unwrap()
}

pub fn moderator_token(sub: &str, context: &str) -> String {
    mint_hs256(
        SECRET.as_bytes(),
        &Claims::new(sub)
            .with_name(sub, "Moderator")
            .with_moderates([context]),
    )
    .unwrap()
}

pub async fn connect(url: &str, token: String) -> Client {
    let (client, _) = Client::connect(ClientConfig::new(url, token))
        .await
        .expect("connect");
    client
}

/// Saves an interaction as `moderator` in `context` and publishes it; its id.
pub async fn publish_interaction(
    moderator: &Client,
    context: &str,
    kind: v1::interaction_spec::Kind,
) -> u64 {
    let spec = v1::InteractionSpec { kind: Some(kind) };
    let id = moderator
        .save_interaction(context, 0, spec)
        .await
        .unwrap()
        .interaction_id;
    moderator
        .interaction_action(context, id, v1::InteractionActionKind::Publish)
        .await
        .unwrap();
    id
}

/// The error code a refused command got; fails the test if it was accepted.
pub async fn refused<T: std::fmt::Debug>(
    call: impl std::future::Future<Output = Result<T, plenary_client::ClientError>>,
) -> v1::ErrorCode {
    match call.await {
        Ok(ok) => panic!("expected a refusal, got {ok:?}"),
        Err(e) => e
            .server_code()
            .unwrap_or_else(|| panic!("expected an error reply, got {e}")),
    }
}

/// Sends the messages `m<i>` (client ids `c<i>`) for every `i` in `range`, in order;
/// returns their ids.
pub async fn send_many(client: &Client, context: &str, range: std::ops::Range<usize>) -> Vec<u64> {
    let mut ids = Vec::with_capacity(range.len());
    for i in range {
        let sent = client
            .send(context, &format!("m{i}"), &format!("c{i}"), 0)
            .await;
        ids.push(sent.unwrap_or_else(|e| panic!("send m{i}: {e}")).message_id);
    }
    ids
}

/// Waits for the next push matching `pick`, skipping others; fails after 5 s.
pub async fn expect_push<T>(client: &Client, pick: impl FnMut(&v1::Push) -> Option<T>) -> T {
    expect_push_within(client, Duration::from_secs(5), pick).await
}

/// Waits up to `wait` for the next push matching `pick`, skipping others.
pub async fn expect_push_within<T>(
    client: &Client,
    wait: Duration,
    mut pick: impl FnMut(&v1::Push) -> Option<T>,
) -> T {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let push = tokio::time::timeout_at(deadline, client.next_push())
            .await
            .expect("timed out waiting for a push")
            .expect("push stream ended");
        if let Some(t) = pick(&push) {
            return t;
        }
    }
}

/// Asserts that no push matching `pick` arrives within `wait`.
pub async fn expect_no_push(
    client: &Client,
    wait: Duration,
    mut pick: impl FnMut(&v1::Push) -> bool,
) {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, client.next_push()).await {
            Err(_) => return,
            // A dropped connection would pass any "nothing arrives" check.
            Ok(None) => panic!("push stream ended: {:?}", client.close_info()),
            Ok(Some(push)) => assert!(!pick(&push), "unexpected push {push:?}"),
        }
    }
}

pub type RawWs = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A raw WebSocket with a chosen subprotocol, for malformed-input tests.
pub async fn raw(url: &str, subprotocol: &str) -> RawWs {
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_str(subprotocol).unwrap(),
    );
    let (ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("raw connect");
    ws
}

/// Sends a JSON text frame.
pub async fn send_text(ws: &mut RawWs, text: &str) {
    ws.send(Message::text(text.to_string())).await.unwrap();
}

/// A 64-bit field of a JSON frame as the server writes it: proto3 JSON's decimal string
/// (`"seq":"12"`). `None` when absent or written otherwise.
pub fn int64(v: &serde_json::Value) -> Option<u64> {
    v.as_str()?.parse().ok()
}

/// The next text frame, parsed as a server frame (skipping pings).
pub async fn next_json(ws: &mut RawWs) -> serde_json::Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("timed out waiting for a frame")
            .expect("stream ended")
            .expect("read error");
        match msg {
            Message::Text(t) => return serde_json::from_str(t.as_str()).unwrap(),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("expected a text frame, got {other:?}"),
        }
    }
}

/// Reads until the server closes; returns the close code.
pub async fn close_code(ws: &mut RawWs) -> u16 {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("timed out waiting for the close");
        match msg {
            Some(Ok(Message::Close(Some(frame)))) => return u16::from(frame.code),
            Some(Ok(Message::Close(None))) => return 1005,
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return 1006,
        }
    }
}

/// A `plenary` process, for kill -9 and SIGTERM tests.
pub struct Process {
    pub child: Child,
    pub ws_url: String,
    pub ports: (u16, u16),
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the `plenary` binary with `data_dir`, on the given loopback ports or free ones.
pub async fn spawn_process(data_dir: &Path, ports: Option<(u16, u16)>) -> Process {
    spawn_process_with(data_dir, ports, &[]).await
}

/// Starts a `plenary` cluster node process.
pub async fn spawn_cluster_process(data_dir: &Path, prefix: &str, node: &str) -> Process {
    let args: Vec<String> = [
        "--redis-url",
        REDIS_URL,
        "--redis-prefix",
        prefix,
        "--node-id",
        node,
        "--shards",
        "8",
        "--lease-ttl-ms",
        "1000",
        "--direct-messages-per-sec",
        "1000",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    spawn_process_with(data_dir, None, &args).await
}

/// Starts the `plenary` binary with extra arguments.
pub async fn spawn_process_with(
    data_dir: &Path,
    ports: Option<(u16, u16)>,
    extra: &[String],
) -> Process {
    // A free port found here may be taken (by another test's outgoing connection)
    // before the process binds it: then it exits at once, and gets other ports.
    let attempts = if ports.is_some() { 1 } else { 3 };
    for _ in 0..attempts {
        let (port, admin_port) = ports.unwrap_or_else(|| (free_port(), free_port()));
        let mut child = Command::new(env!("CARGO_BIN_EXE_plenary"))
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--admin-listen", &format!("127.0.0.1:{admin_port}")])
            .arg("--data-dir")
            .arg(PathBuf::from(data_dir))
            .args(["--drain-grace-secs", "5"])
            .args(["--user-rate", "1000", "--user-burst", "1000"])
            .env("PLENARY_ADMIN_API_KEY", ADMIN_KEY)
            .args(extra)
            .env("PLENARY_JWT_SECRET", SECRET)
            .env("PLENARY_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn plenary");
        let addr = format!("127.0.0.1:{port}");
        for _ in 0..400 {
            if TcpStream::connect(&addr).await.is_ok() {
                return Process {
                    child,
                    ws_url: format!("ws://{addr}/ws"),
                    ports: (port, admin_port),
                };
            }
            if child.try_wait().ok().flatten().is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    panic!("plenary did not start listening (its stderr above says why)");
}

/// Redis for cluster tests; fails with what to start when it is not running.
pub const REDIS_URL: &str = "redis://127.0.0.1:6379/";

/// A key prefix unique to one test, so parallel tests never collide.
pub fn unique_prefix(test: &str) -> String {
    format!(
        "plenary-test-{test}-{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    )
}

/// Deletes every key under `prefix` (best effort, at the end of a test).
pub async fn redis_cleanup(prefix: &str) {
    let Ok(client) = redis::Client::open(REDIS_URL) else {
        return;
    };
    let Ok(mut conn) = client.get_multiplexed_async_connection().await else {
        return;
    };
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("*{prefix}*"))
        .query_async(&mut conn)
        .await
        .unwrap_or_default();
    if !keys.is_empty() {
        let _: Result<(), _> = redis::cmd("DEL").arg(keys).query_async(&mut conn).await;
    }
}

/// Panics with a clear message when Redis is not reachable.
pub async fn require_redis() {
    let ok = match redis::Client::open(REDIS_URL) {
        Ok(client) => match client.get_multiplexed_async_connection().await {
            Ok(mut conn) => redis::cmd("PING")
                .query_async::<String>(&mut conn)
                .await
                .is_ok(),
            Err(_) => false,
        },
        Err(_) => false,
    };
    assert!(
        ok,
        "cluster tests need Redis on 127.0.0.1:6379: start it with \
         `redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no`"
    );
}

/// Starts a cluster node in this process.
pub async fn start_node(
    prefix: &str,
    node: &str,
    configure: impl FnOnce(&mut Config),
) -> TestServer {
    let prefix = prefix.to_owned();
    let node = node.to_owned();
    start(move |c| {
        c.redis_url = Some(REDIS_URL.into());
        c.redis_prefix = prefix;
        c.node_id = Some(node);
        c.shards = 8;
        c.lease_ttl_ms = 1_000;
        c.user_rate = 1_000;
        c.user_burst = 1_000;
        c.direct_messages_per_sec = 1_000;
        configure(c);
    })
    .await
}
