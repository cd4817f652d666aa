//! Admission: sockets that have not authenticated do not take the node's connection
//! slots. They have their own budget, in total and per source address, and the overflow
//! is refused at once with HTTP 503 instead of waiting out the connect time-out.

mod common;

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    time::Duration,
};

use common::*;
use plenary_client::{Client, ClientConfig, ClientError};
use tokio::{io::AsyncReadExt, net::TcpStream};

const OTHER_SOURCE: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

fn ws_addr(server: &TestServer) -> SocketAddr {
    server
        .ws_url
        .trim_start_matches("ws://")
        .trim_end_matches("/ws")
        .parse()
        .unwrap()
}

/// A TCP socket that never starts the WebSocket handshake.
async fn silent_tcp(server: &TestServer) -> TcpStream {
    TcpStream::connect(ws_addr(server)).await.unwrap()
}

/// A socket that finishes the WebSocket handshake and never sends `connect`. Since the
/// server accepts in order, it also proves every earlier socket was accepted.
async fn silent_ws(server: &TestServer) -> RawWs {
    raw(&server.ws_url, "plenary.v1.json").await
}

/// Connects and authenticates `user`, from `source` if given.
async fn try_connect(
    server: &TestServer,
    user: &str,
    source: Option<IpAddr>,
) -> Result<Client, ClientError> {
    let mut config = ClientConfig::new(&server.ws_url, attendee_token(user))
        .with_connect_timeout(Duration::from_secs(5));
    if let Some(source) = source {
        config = config.with_local_addr(source);
    }
    Client::connect(config).await.map(|(client, _)| client)
}

#[tokio::test]
async fn silent_sockets_do_not_lock_real_users_out() {
    let server = start(|c| c.max_connections = 3).await;
    let mut silent = Vec::new();
    for _ in 0..4 {
        silent.push(silent_tcp(&server).await);
    }
    let mut upgraded = Vec::new();
    for _ in 0..4 {
        upgraded.push(silent_ws(&server).await);
    }
    // Eight sockets that never authenticate, with three connection slots: real users
    // still get in (they used to be closed with 4013 for the whole connect time-out).
    let mut users = Vec::new();
    for user in ["alice", "bob", "carol"] {
        let client = try_connect(&server, user, None)
            .await
            .unwrap_or_else(|e| panic!("{user} locked out by silent sockets: {e}"));
        client.ping().await.unwrap();
        users.push(client);
    }
    // The connection limit still holds for authenticated connections.
    let refused = try_connect(&server, "dave", None).await.err();
    assert_eq!(
        refused.as_ref().and_then(ClientError::close_code),
        Some(4013),
        "{refused:?}"
    );
    // One leaves: the slot is free again.
    users.pop().unwrap().close().await;
    let dave = wait_until_connected(&server, "dave").await;
    dave.ping().await.unwrap();
    drop((silent, upgraded));
    server.stop().await;
}

/// The admin port's `/metrics` text.
async fn metrics(server: &TestServer) -> String {
    use tokio::io::AsyncWriteExt;
    let mut socket = TcpStream::connect(server.admin).await.unwrap();
    socket
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut text = String::new();
    socket.read_to_string(&mut text).await.unwrap();
    text
}

/// Connects `user`, retrying while the server is still releasing what a closed socket
/// held (bounded).
async fn wait_until_connected(server: &TestServer, user: &str) -> Client {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        match try_connect(server, user, None).await {
            Ok(client) => return client,
            Err(_) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => panic!("{user} could not connect: {e}"),
        }
    }
}

#[tokio::test]
async fn over_the_pending_budget_a_socket_gets_503_at_once() {
    let server = start(|c| {
        c.max_pending_connections = 4;
        c.max_pending_per_ip = 0;
    })
    .await;
    let silent = vec![silent_tcp(&server).await, silent_tcp(&server).await];
    let mut upgraded = vec![silent_ws(&server).await, silent_ws(&server).await];

    // The connect time-out is 10 s: a refusal within 2 s is not a time-out.
    let refusal = async {
        // A WebSocket client is refused before the upgrade.
        let refused = try_connect(&server, "alice", None).await.err();
        assert!(
            matches!(refused, Some(ClientError::Rejected { status: 503 })),
            "{refused:?}"
        );
        // A socket that sends nothing gets the 503 and the end of the stream.
        let mut socket = silent_tcp(&server).await;
        let mut answer = Vec::new();
        socket.read_to_end(&mut answer).await.unwrap();
        assert!(
            answer.starts_with(b"HTTP/1.1 503 "),
            "{}",
            String::from_utf8_lossy(&answer)
        );
    };
    tokio::time::timeout(Duration::from_secs(2), refusal)
        .await
        .expect("over-budget sockets are refused at once");
    assert!(
        metrics(&server)
            .await
            .contains(r#"plenary_pending_refused_total{reason="pending_full"}"#)
    );

    // A silent socket goes: its place is free again.
    drop(upgraded.pop());
    let alice = wait_until_connected(&server, "alice").await;
    // Authenticating gave alice's place back: with three silent sockets left, bob fits.
    let bob = try_connect(&server, "bob", None)
        .await
        .expect("an authenticated connection holds no pending place");
    alice.ping().await.unwrap();
    bob.ping().await.unwrap();
    drop((silent, upgraded));
    server.stop().await;
}

#[tokio::test]
async fn each_source_address_has_its_own_pending_budget() {
    let server = start(|c| c.max_pending_per_ip = 2).await;
    let _silent = silent_tcp(&server).await;
    let _upgraded = silent_ws(&server).await;
    let refused = try_connect(&server, "alice", None).await.err();
    assert!(
        matches!(refused, Some(ClientError::Rejected { status: 503 })),
        "a third socket from 127.0.0.1: {refused:?}"
    );
    assert!(
        metrics(&server)
            .await
            .contains(r#"plenary_pending_refused_total{reason="pending_per_ip"}"#)
    );
    // A user from another address is not held up by them.
    let bob = try_connect(&server, "bob", Some(OTHER_SOURCE))
        .await
        .expect("127.0.0.2 has its own budget");
    bob.ping().await.unwrap();
    drop((_silent, _upgraded));
    server.stop().await;
}

#[tokio::test]
async fn a_socket_still_in_its_handshake_does_not_hold_up_the_drain() {
    let server = start(|_| {}).await;
    let _silent = silent_tcp(&server).await;
    // Accepted (the server accepts in order) and still waiting for its request.
    let _upgraded = silent_ws(&server).await;
    let stopping = tokio::time::Instant::now();
    server.stop().await;
    assert!(
        stopping.elapsed() < Duration::from_secs(5),
        "the drain waited {:?} for a socket that never sent its request",
        stopping.elapsed()
    );
}

#[test]
fn bad_pending_limits_exit_64() {
    for (flag, env) in [
        (Some(["--max-pending-connections", "0"]), None),
        (None, Some(("PLENARY_MAX_PENDING_PER_IP", "many"))),
        (None, Some(("PLENARY_MAX_PENDING_CONNECTIONS", "-1"))),
    ] {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_plenary"));
        command
            .env("PLENARY_JWT_SECRET", SECRET)
            .args(["--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        if let Some(args) = flag {
            command.args(args);
        }
        if let Some((name, value)) = env {
            command.env(name, value);
        }
        let output = command.output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(64),
            "{flag:?} {env:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
