//! Cluster mode against the real Redis on 127.0.0.1:6379, isolated by key prefix.

mod common;

use std::time::Duration;

use common::{cluster::*, *};
use plenary_client::v1::push::Body;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_deliver_every_message_in_the_same_order() {
    require_redis().await;
    let prefix = unique_prefix("order");
    let nodes = three_nodes(&prefix).await;

    let clients = attendees_in_ctx(&[&nodes[0], &nodes[1], &nodes[2]], 9).await;
    // Publishers on two different nodes, interleaving.
    let p1 = connect(&nodes[0].ws_url, moderator_token("p1", CTX)).await;
    let p2 = connect(&nodes[2].ws_url, attendee_token("p2")).await;
    p1.join(CTX).await.unwrap();
    p2.join(CTX).await.unwrap();
    let mut ids = Vec::new();
    for i in 0..20 {
        let who = if i % 2 == 0 { &p1 } else { &p2 };
        ids.push(
            who.send(CTX, &format!("m{i}"), &format!("c{i}"), 0)
                .await
                .unwrap()
                .message_id,
        );
    }
    ids.sort_unstable();
    for c in &clients {
        let mut got = Vec::new();
        while got.len() < ids.len() {
            got.push(
                expect_push(c, |p| match &p.body {
                    Some(Body::Message(m)) => Some(m.id),
                    _ => None,
                })
                .await,
            );
        }
        assert_eq!(got, ids, "every client sees every message, in one order");
    }
    // The log really is in Redis: the created event plus twenty messages.
    let mut expected = vec!["created"];
    expected.extend(["message_posted"; 20]);
    assert_eq!(logged_kinds(&prefix, CTX).await, expected);
    for n in nodes {
        n.stop().await;
    }
    redis_cleanup(&prefix).await;
}

/// The kinds of a context's events in its Redis stream, in order, without the
/// `JoinsCounted` events the actor writes whenever a joins window closes (a wall-clock
/// boundary the test may or may not cross).
async fn logged_kinds(prefix: &str, context: &str) -> Vec<&'static str> {
    use plenary_bus::redis::{ClusterConfig, RedisLog, connect};
    use plenary_client::v1::events::{ContextEvent, context_event::Kind};
    let config = ClusterConfig {
        redis_url: REDIS_URL.to_owned(),
        prefix: prefix.to_owned(),
        node_id: "test-reader".into(),
        shards: 8,
        lease_ttl: Duration::from_secs(1),
        forward_timeout: Duration::from_secs(1),
        stream_cap: 10_000,
        snapshot_every: 1_000,
    };
    let (_, conn) = connect(&config).await.expect("Redis for the log");
    let loaded = RedisLog::new(&config, conn)
        .load::<ContextEvent>(context)
        .await
        .unwrap();
    loaded
        .events
        .iter()
        .filter_map(|e| match e.kind {
            Some(Kind::Created(_)) => Some("created"),
            Some(Kind::MessagePosted(_)) => Some("message_posted"),
            Some(Kind::JoinsCounted(_)) => None,
            _ => Some("other"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owner_killed_another_node_takes_over_and_nothing_acknowledged_is_lost() {
    require_redis().await;
    let prefix = unique_prefix("failover");
    let (mut nodes, _dirs) = spawn_three(&prefix).await;
    let owner: usize = owner_of(&prefix, CTX).await[1..].parse().unwrap();
    let (client_node, other_node) = match owner {
        0 => (1, 2),
        1 => (2, 0),
        _ => (0, 1),
    };
    let publisher = connect(&nodes[client_node].ws_url, moderator_token("pub", CTX)).await;
    publisher.join(CTX).await.unwrap();
    let mut ids = send_many(&publisher, CTX, 0..10).await;

    kill(&mut nodes[owner]);
    let killed = std::time::Instant::now();
    let mut retryable_errors = 0;
    let after = loop {
        match publisher
            .send(CTX, "after the failover", "after-1", 0)
            .await
        {
            Ok(ok) => break ok,
            Err(e) => {
                assert!(
                    e.is_retryable() && !e.is_rate_limited(),
                    "hand-over errors must be the retryable kind: {e}"
                );
                retryable_errors += 1;
                assert!(
                    killed.elapsed() < Duration::from_secs(10),
                    "no new owner after 10 s"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    let took = killed.elapsed();
    assert!(
        retryable_errors > 0,
        "the hand-over was not observed; nothing was tested"
    );
    assert!(took < Duration::from_secs(5), "failover took {took:?}");
    // Sequence numbers continue where the dead owner stopped.
    assert_eq!(after.message_id, ids.last().unwrap() + 1);
    ids.push(after.message_id);

    // Every acknowledged message is there, exactly once, on any node.
    let reader = connect(&nodes[other_node].ws_url, attendee_token("reader")).await;
    let snapshot = reader.join(CTX).await.unwrap().snapshot.unwrap();
    assert_eq!(
        snapshot.messages.iter().map(|m| m.id).collect::<Vec<_>>(),
        ids
    );
    // The retried send is not stored twice.
    let again = publisher
        .send(CTX, "after the failover", "after-1", 0)
        .await
        .unwrap();
    assert!(again.duplicate);
    drop(nodes);
    redis_cleanup(&prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_owner_gateway_dies_and_its_clients_recover_elsewhere() {
    require_redis().await;
    let prefix = unique_prefix("gwdeath");
    let (mut nodes, _dirs) = spawn_three(&prefix).await;
    let owner: usize = owner_of(&prefix, CTX).await[1..].parse().unwrap();
    let victim = (owner + 1) % 3;
    let survivor = (owner + 2) % 3;

    let listener = connect(&nodes[victim].ws_url, attendee_token("listener")).await;
    let joined = listener.join(CTX).await.unwrap();
    let publisher = connect(&nodes[survivor].ws_url, moderator_token("pub", CTX)).await;
    publisher.join(CTX).await.unwrap();

    let mut ids = send_many(&publisher, CTX, 0..15).await;
    // The listener reads what it gets before its gateway dies.
    let mut seen = Vec::new();
    let mut position = plenary_client::v1::Position {
        epoch: joined.epoch,
        seq: joined.seq,
    };
    while seen.len() < 15 {
        let push = tokio::time::timeout(Duration::from_secs(5), listener.next_push())
            .await
            .unwrap()
            .unwrap();
        position.seq = push.seq;
        if let Some(Body::Message(m)) = push.body {
            seen.push(m.id);
        }
    }
    kill(&mut nodes[victim]);
    ids.extend(send_many(&publisher, CTX, 15..30).await);

    // It reconnects to another node with its last position.
    let back = connect(&nodes[survivor].ws_url, attendee_token("listener")).await;
    let recovered = back.join_since(CTX, position).await.unwrap();
    assert!(recovered.recovered);
    for push in &recovered.missed {
        if let Some(Body::Message(m)) = &push.body {
            seen.push(m.id);
        }
    }
    assert_eq!(seen, ids, "0 lost, 0 duplicated, in order");
    drop(nodes);
    redis_cleanup(&prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_drops_within_seconds_after_a_node_dies() {
    require_redis().await;
    let prefix = unique_prefix("presence");
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut a = spawn_cluster_process(dirs[0].path(), &prefix, "a").await;
    let b = spawn_cluster_process(dirs[1].path(), &prefix, "b").await;
    settle(&prefix, &[&a.ws_url, &b.ws_url]).await;
    let mut clients = Vec::new();
    for i in 0..2 {
        let c = connect(&a.ws_url, attendee_token(&format!("att{i}"))).await;
        c.join(CTX).await.unwrap();
        clients.push(c);
    }
    let m = connect(&b.ws_url, moderator_token("mod", CTX)).await;
    m.join(CTX).await.unwrap();

    let admin_addr = format!("http://127.0.0.1:{}", b.ports.1);
    let presence = || async {
        let mut api =
            plenary_proto::v1::admin::admin_client::AdminClient::connect(admin_addr.clone())
                .await
                .unwrap();
        let mut request = tonic::Request::new(plenary_proto::v1::admin::GetPresenceRequest {
            context_id: CTX.into(),
        });
        request.metadata_mut().insert(
            "authorization",
            format!("Bearer {ADMIN_KEY}").parse().unwrap(),
        );
        api.get_presence(request).await.unwrap().into_inner()
    };
    let mut counts = (0, 0);
    for _ in 0..30 {
        let p = presence().await;
        counts = (p.attendees, p.moderators);
        if counts == (2, 1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(counts, (2, 1), "presence is summed over both nodes");

    kill(&mut a);
    let died = std::time::Instant::now();
    loop {
        let p = presence().await;
        if (p.attendees, p.moderators) == (0, 1) {
            break;
        }
        assert!(
            died.elapsed() < Duration::from_secs(6),
            "presence still counts the dead node"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(b);
    redis_cleanup(&prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_emptied_clients_resync_and_chat_continues() {
    require_redis().await;
    let prefix = unique_prefix("emptied");
    let n1 = start_node(&prefix, "n1", |_| {}).await;
    let n2 = start_node(&prefix, "n2", |_| {}).await;
    settle(&prefix, &[&n1.ws_url, &n2.ws_url]).await;
    let alice = connect(&n1.ws_url, attendee_token("alice")).await;
    let bob = connect(&n2.ws_url, attendee_token("bob")).await;
    let epoch = alice.join(CTX).await.unwrap().epoch;
    bob.join(CTX).await.unwrap();
    let sent = alice.send(CTX, "before", "b-1", 0).await.unwrap();
    expect_push(&bob, |p| {
        matches!(&p.body, Some(Body::Message(m)) if m.id == sent.message_id).then_some(())
    })
    .await;

    // Every key of this cluster disappears, as when Redis restarts empty.
    redis_cleanup(&prefix).await;

    // Both clients are told to resync.
    for c in [&alice, &bob] {
        expect_push(c, |p| {
            matches!(&p.body, Some(Body::Resync(_))).then_some(())
        })
        .await;
    }
    // Rejoining with the old position gets a fresh snapshot of a new epoch.
    let mut rejoined = None;
    for _ in 0..40 {
        match bob
            .join_since(
                CTX,
                plenary_client::v1::Position {
                    epoch,
                    seq: sent.message_id,
                },
            )
            .await
        {
            Ok(j) => {
                rejoined = Some(j);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    let rejoined = rejoined.expect("rejoin after the data loss");
    assert!(!rejoined.recovered);
    assert_ne!(rejoined.epoch, epoch);
    assert!(rejoined.snapshot.is_some());
    // Right after the data loss the shards are being placed again: retry like a client.
    let mut alice_back = false;
    for _ in 0..40 {
        if alice.join(CTX).await.is_ok() {
            alice_back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(alice_back, "alice could not rejoin after the data loss");
    // Chat continues.
    let after = alice.send(CTX, "after", "a-2", 0).await.unwrap();
    expect_push(&bob, |p| {
        matches!(&p.body, Some(Body::Message(m)) if m.id == after.message_id).then_some(())
    })
    .await;
    n1.stop().await;
    n2.stop().await;
    redis_cleanup(&prefix).await;
}

/// A raw JSON connection. Unlike `plenary_client`, it never rejoins by itself after a
/// `resync`, so a test sees what a client gets before it rejoins.
struct JsonClient {
    ws: RawWs,
    next_id: u64,
    resynced: bool,
}

impl JsonClient {
    async fn connect(url: &str, token: String) -> Self {
        let mut c = JsonClient {
            ws: raw(url, "plenary.v1.json").await,
            next_id: 1,
            resynced: false,
        };
        let r = c
            .call("connect", serde_json::json!({ "token": token }))
            .await;
        assert!(r["connect"].is_object(), "{r}");
        c
    }

    /// Sends a command and returns its reply, noting a `resync` push on the way.
    async fn call(&mut self, command: &str, body: serde_json::Value) -> serde_json::Value {
        let id = self.next_id;
        self.next_id += 1;
        let frame = serde_json::json!({ "id": id, command: body });
        send_text(&mut self.ws, &frame.to_string()).await;
        loop {
            let frame = next_json(&mut self.ws).await;
            self.note(&frame);
            if int64(&frame["reply"]["id"]) == Some(id) {
                return frame["reply"].clone();
            }
        }
    }

    fn note(&mut self, frame: &serde_json::Value) {
        if frame["push"]["resync"].is_object() {
            self.resynced = true;
        }
    }

    /// Reads until a `resync` push has come.
    async fn until_resync(&mut self) {
        while !self.resynced {
            let frame = next_json(&mut self.ws).await;
            self.note(&frame);
        }
    }

    /// Joins `CTX`, retrying while shards are placed (`UNAVAILABLE`); the last reply.
    async fn join(&mut self) -> serde_json::Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let r = self
                .call("join", serde_json::json!({ "context_id": CTX }))
                .await;
            if r["error"]["code"] != "ERROR_CODE_UNAVAILABLE"
                || tokio::time::Instant::now() >= deadline
            {
                return r;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn send(&mut self, text: &str, client_msg_id: &str) -> serde_json::Value {
        let body = serde_json::json!({
            "context_id": CTX, "text": text, "client_msg_id": client_msg_id,
        });
        self.call("send", body).await
    }
}

/// Redis loses this cluster's data while alice (on n1) and bob (on n2) are joined: a
/// `send` from either, forwarded or not, is retryable, never `NOT_FOUND`, until they
/// rejoin. Returns the nodes and the two clients, both still joined.
async fn send_after_redis_emptied(
    prefix: &str,
    require_created: bool,
) -> ([TestServer; 2], [JsonClient; 2]) {
    let configure = |c: &mut plenary_gateway::Config| c.require_created_contexts = require_created;
    let n1 = start_node(prefix, "n1", configure).await;
    let n2 = start_node(prefix, "n2", configure).await;
    settle_placement(REDIS_URL, prefix, 2).await;
    if require_created {
        create_context(&n1, CTX).await;
    }
    let mut alice = JsonClient::connect(&n1.ws_url, attendee_token("alice")).await;
    let mut bob = JsonClient::connect(&n2.ws_url, attendee_token("bob")).await;
    for c in [&mut alice, &mut bob] {
        let r = c.join().await;
        assert!(r["join"].is_object(), "{r}");
    }
    let r = alice.send("before", "b-1").await;
    assert!(r["send"].is_object(), "{r}");

    // Every key of this cluster disappears, as after FLUSHALL or a restart without
    // persistence.
    redis_cleanup(prefix).await;
    for c in [&mut alice, &mut bob] {
        c.until_resync().await;
    }
    settle_placement(REDIS_URL, prefix, 2).await;

    // Until they rejoin, a send meets the owner's fresh actor, which finds no context:
    // retryable, as the shards are placed again, never "does not exist".
    for (who, c) in [("alice", &mut alice), ("bob", &mut bob)] {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let r = c.send("after the loss", "a-1").await;
            assert!(
                !r["send"].is_object(),
                "{who}: a send to a lost context was accepted: {r}"
            );
            assert_eq!(
                r["error"]["code"], "ERROR_CODE_UNAVAILABLE",
                "{who}: a joined context that lost its data must be retryable: {r}"
            );
            assert!(
                int64(&r["error"]["retry_after_ms"]).is_some_and(|ms| ms > 0),
                "{who}: no retry_after_ms: {r}"
            );
            // The message is for people, but it tells which refusal this was: the lost
            // context itself, not the shards being placed again.
            let message = r["error"]["message"].as_str().unwrap_or_default();
            if message.contains("lost its history") {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{who} never reached the context's actor: {r}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    ([n1, n2], [alice, bob])
}

async fn create_context(node: &TestServer, id: &str) {
    use plenary_proto::v1::admin::{CreateContextRequest, admin_client::AdminClient};
    let mut api = AdminClient::connect(format!("http://{}", node.admin))
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let mut request = tonic::Request::new(CreateContextRequest {
            id: id.into(),
            ..Default::default()
        });
        request.metadata_mut().insert(
            "authorization",
            format!("Bearer {ADMIN_KEY}").parse().unwrap(),
        );
        match api.create_context(request).await {
            Ok(_) => return,
            Err(e) if e.code() == tonic::Code::Unavailable => {
                assert!(tokio::time::Instant::now() < deadline, "{e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("create {id}: {e}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_emptied_a_send_is_retryable_and_the_rejoin_recreates_the_context() {
    require_redis().await;
    let prefix = unique_prefix("emptied-send");
    let (nodes, [mut alice, mut bob]) = send_after_redis_emptied(&prefix, false).await;
    // Rejoining recreates the context (a new epoch, empty); the retried send goes
    // through, and bob gets it.
    for c in [&mut alice, &mut bob] {
        let r = c.join().await;
        assert!(r["join"].is_object(), "{r}");
        let before = r["join"]["snapshot"]["messages"]
            .as_array()
            .map_or(0, Vec::len);
        assert_eq!(before, 0, "the context came back empty: {r}");
    }
    let r = alice.send("after the loss", "a-1").await;
    assert!(
        r["send"].is_object() && r["send"]["duplicate"] != true,
        "{r}"
    );
    let message_id = r["send"]["message_id"].clone();
    loop {
        let frame = next_json(&mut bob.ws).await;
        if frame["push"]["message"]["id"] == message_id {
            break;
        }
    }
    for node in nodes {
        node.stop().await;
    }
    redis_cleanup(&prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_emptied_with_required_creation_the_rejoin_is_not_found() {
    require_redis().await;
    let prefix = unique_prefix("emptied-required");
    let (nodes, [mut alice, _bob]) = send_after_redis_emptied(&prefix, true).await;
    // The context must be created again: the rejoin says so, and the client is no
    // longer joined.
    let r = alice.join().await;
    assert_eq!(r["error"]["code"], "ERROR_CODE_NOT_FOUND", "{r}");
    let r = alice.send("after the loss", "a-1").await;
    assert_eq!(r["error"]["code"], "ERROR_CODE_NOT_JOINED", "{r}");
    for node in nodes {
        node.stop().await;
    }
    redis_cleanup(&prefix).await;
}

/// A private `redis-server` on a free loopback port, so this test can stop and restart
/// it without disturbing the shared one.
struct PrivateRedis {
    child: std::process::Child,
    port: u16,
}

impl PrivateRedis {
    async fn start(port: u16) -> Self {
        let mut child = std::process::Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("this test starts its own redis-server (Debian package redis-server)");
        if answers_ping(port).await {
            return PrivateRedis { child, port };
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("redis-server did not start on port {port}");
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_outage_fails_fast_keeps_sockets_open_and_recovers() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(std::env::var("TEST_LOG").unwrap_or_default())
        .with_test_writer()
        .try_init();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut redis = PrivateRedis::start(port).await;
    let url = redis.url();
    let node = start(move |c| {
        c.redis_url = Some(url);
        c.redis_prefix = "outage".into();
        c.node_id = Some("n1".into());
        c.shards = 4;
        c.lease_ttl_ms = 1_000;
        c.user_rate = 1_000;
        c.user_burst = 1_000;
    })
    .await;
    let alice = connect(&node.ws_url, attendee_token("alice")).await;
    alice.join(CTX).await.unwrap();
    alice.send(CTX, "before", "b-1", 0).await.unwrap();

    redis.kill();
    let started = std::time::Instant::now();
    let err = alice.send(CTX, "during", "d-1", 0).await.unwrap_err();
    // UNAVAILABLE, or OUTCOME_UNKNOWN when the write was under way as Redis died: both
    // say "retry the same command".
    assert!(
        matches!(
            err.server_code(),
            Some(
                plenary_client::v1::ErrorCode::Unavailable
                    | plenary_client::v1::ErrorCode::OutcomeUnknown
            )
        ),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "failing took {:?}",
        started.elapsed()
    );
    assert!(
        alice.ping().await.is_ok(),
        "the socket stays open while Redis is away"
    );

    // Redis comes back (empty): the node resubscribes, re-acquires its leases and tells
    // the client to resync; chat continues.
    let _redis = PrivateRedis::start(port).await;
    expect_push_within(&alice, Duration::from_secs(15), |p| {
        matches!(&p.body, Some(Body::Resync(_))).then_some(())
    })
    .await;
    let mut sent = None;
    for _ in 0..100 {
        if alice.join(CTX).await.is_ok()
            && let Ok(ok) = alice.send(CTX, "after", "a-1", 0).await
        {
            sent = Some(ok);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(sent.is_some(), "chat did not resume after Redis came back");
    node.stop().await;
}

/// A private three-master Redis Cluster on free loopback ports (each port and its
/// cluster-bus port, +10000, must be free).
struct PrivateRedisCluster {
    servers: Vec<PrivateRedisNode>,
    _dir: tempfile::TempDir,
}

struct PrivateRedisNode {
    child: std::process::Child,
    port: u16,
}

impl Drop for PrivateRedisNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port_pair() -> u16 {
    for _ in 0..100 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if port < 55_000 && std::net::TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
    panic!("no free port pair for a Redis Cluster node");
}

impl PrivateRedisCluster {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut servers = Vec::new();
        for _ in 0..3 {
            let port = free_port_pair();
            let child = std::process::Command::new("redis-server")
                .args([
                    "--port",
                    &port.to_string(),
                    "--bind",
                    "127.0.0.1",
                    "--cluster-enabled",
                    "yes",
                ])
                .args([
                    "--cluster-config-file",
                    &format!("nodes-{port}.conf"),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ])
                .current_dir(dir.path())
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("this test starts its own redis-server (Debian package redis-server)");
            servers.push(PrivateRedisNode { child, port });
        }
        for server in &servers {
            assert!(
                answers_ping(server.port).await,
                "redis-server did not start on port {}",
                server.port
            );
        }
        let addresses: Vec<String> = servers
            .iter()
            .map(|s| format!("127.0.0.1:{}", s.port))
            .collect();
        let status = std::process::Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(&addresses)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdout(std::process::Stdio::null())
            .status()
            .expect("this test needs redis-cli (Debian package redis-tools)");
        assert!(status.success(), "redis-cli --cluster create failed");
        let url = format!("redis://127.0.0.1:{}/", servers[0].port);
        let client = redis::Client::open(url.as_str()).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        for _ in 0..100 {
            let info: String = redis::cmd("CLUSTER")
                .arg("INFO")
                .query_async(&mut conn)
                .await
                .unwrap();
            if info.contains("cluster_state:ok") {
                return PrivateRedisCluster { servers, _dir: dir };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the private Redis Cluster never reached cluster_state:ok");
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.servers[0].port)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_redis_cluster_nodes_use_sharded_pubsub_and_forward() {
    let redis_cluster = PrivateRedisCluster::start().await;
    let nodes = [
        start_node("rc", "n1", |c| c.redis_url = Some(redis_cluster.url())).await,
        start_node("rc", "n2", |c| c.redis_url = Some(redis_cluster.url())).await,
    ];
    settle_on(
        &redis_cluster.url(),
        "rc",
        &[&nodes[0].ws_url, &nodes[1].ws_url],
    )
    .await;
    let clients = attendees_in_ctx(&[&nodes[0], &nodes[1]], 4).await;
    // One publisher per node: one of them is not the owner, so its sends are forwarded.
    let publishers = [
        connect(&nodes[0].ws_url, attendee_token("p0")).await,
        connect(&nodes[1].ws_url, attendee_token("p1")).await,
    ];
    for p in &publishers {
        p.join(CTX).await.unwrap();
    }
    let mut ids = Vec::new();
    for i in 0..10 {
        let p = &publishers[i % 2];
        ids.push(
            p.send(CTX, &format!("m{i}"), &format!("c{i}"), 0)
                .await
                .unwrap()
                .message_id,
        );
    }
    for c in &clients {
        let mut got = Vec::new();
        while got.len() < ids.len() {
            got.push(
                expect_push(c, |p| match &p.body {
                    Some(Body::Message(m)) => Some(m.id),
                    _ => None,
                })
                .await,
            );
        }
        assert_eq!(got, ids);
    }
    // The sharded channels really are in use.
    let mut total = 0;
    for server in &redis_cluster.servers {
        let client = redis::Client::open(format!("redis://127.0.0.1:{}/", server.port)).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let channels: Vec<String> = redis::cmd("PUBSUB")
            .arg("SHARDCHANNELS")
            .query_async(&mut conn)
            .await
            .unwrap();
        total += channels.len();
    }
    assert!(
        total >= 3,
        "expected sharded channels (context and forwarding), found {total}"
    );
    // Private chat on the Redis Cluster: user and conversation streams, the people
    // directory and the private channels all live in their shard's slot.
    use plenary_client::v1::ConnectionActionKind as Action;
    let [p0, p1] = &publishers;
    // Each user and conversation stream has its own shard, which may still be
    // changing owner: retry as a client does.
    retrying(|| p0.private_open()).await;
    retrying(|| p1.private_open()).await;
    let found = p0.find_people("p1", 5).await.unwrap().people;
    assert_eq!(found.len(), 1, "{found:?}");
    retrying(|| p0.connection("p1", Action::Request)).await;
    retrying(|| p1.connection("p0", Action::Accept)).await;
    let sent = retrying(|| p0.dm_send("p1", "across the cluster", "dm-1")).await;
    let got = expect_push(p1, |p| match &p.body {
        Some(Body::PeerUpdate(u)) => u.message.clone(),
        _ => None,
    })
    .await;
    assert_eq!(
        (got.message_id, got.text.as_str()),
        (sent.message_id, "across the cluster")
    );
    let history = p1.dm_history("p0", 0, 10).await.unwrap();
    assert_eq!(history.messages.len(), 1);
    for n in nodes {
        n.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_owner_rebuilds_from_the_snapshot_and_the_stream_tail() {
    require_redis().await;
    let prefix = unique_prefix("snapshot");
    let first = start_node(&prefix, "n1", |c| c.snapshot_every = 5).await;
    settle(&prefix, &[&first.ws_url]).await;
    let alice = connect(&first.ws_url, attendee_token("alice")).await;
    alice.join(CTX).await.unwrap();
    let ids = send_many(&alice, CTX, 0..12).await;
    let liked = alice.like(CTX, ids[2]).await.unwrap();
    assert_eq!(liked.like_count, 1);

    // A second node starts, the first leaves: the second owns everything and rebuilds
    // the context from Redis (snapshot at seq 10, then the tail).
    let second = start_node(&prefix, "n2", |c| c.snapshot_every = 5).await;
    first.stop().await;
    settle(&prefix, &[&second.ws_url]).await;
    let bob = connect(&second.ws_url, attendee_token("bob")).await;
    let mut snapshot = None;
    for _ in 0..40 {
        if let Ok(j) = bob.join(CTX).await {
            snapshot = j.snapshot;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let snapshot = snapshot.expect("joined on the new owner");
    assert_eq!(
        snapshot.messages.iter().map(|m| m.id).collect::<Vec<_>>(),
        ids
    );
    assert_eq!(snapshot.messages[2].like_count, 1);
    // Idempotency survived the move too.
    let alice = connect(&second.ws_url, attendee_token("alice")).await;
    alice.join(CTX).await.unwrap();
    assert!(alice.send(CTX, "m3", "c3", 0).await.unwrap().duplicate);
    // The snapshot exists in Redis.
    let client = redis::Client::open(REDIS_URL).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{{{prefix}:s*}}:ctx:{CTX}:snap"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(keys.len(), 1);
    let seq: u64 = redis::cmd("HGET")
        .arg(&keys[0])
        .arg("seq")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(seq >= 10, "snapshot at seq {seq}");
    second.stop().await;
    redis_cleanup(&prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_moderators_on_three_nodes_claim_one_thread_and_exactly_one_wins() {
    use plenary_client::v1::{ErrorCode, ThreadActionKind, ThreadState};
    require_redis().await;
    let prefix = unique_prefix("claim");
    let nodes = three_nodes(&prefix).await;
    let attendee = connect(&nodes[0].ws_url, attendee_token("asker")).await;
    attendee.join(CTX).await.unwrap();
    let thread = attendee
        .ask(CTX, "who takes this?", "q", 0)
        .await
        .unwrap()
        .thread_id;
    let mut moderators = Vec::new();
    for i in 0..20 {
        let m = connect(
            &nodes[i % 3].ws_url,
            moderator_token(&format!("mod{i}"), CTX),
        )
        .await;
        m.join(CTX).await.unwrap();
        moderators.push(m);
    }
    let claims = futures_util::future::join_all(
        moderators
            .iter()
            .map(|m| m.thread_action(CTX, thread, ThreadActionKind::Claim)),
    )
    .await;
    let winners: Vec<usize> = claims
        .iter()
        .enumerate()
        .filter(|(_, r)| r.is_ok())
        .map(|(i, _)| i)
        .collect();
    assert_eq!(winners.len(), 1, "{claims:?}");
    for result in &claims {
        if let Err(e) = result {
            assert_eq!(e.server_code(), Some(ErrorCode::AlreadyClaimed), "{e}");
        }
    }
    let winner = format!("mod{}", winners[0]);
    // Every moderator's view converges on the one owner.
    for m in &moderators {
        let owned = expect_push(m, |p| match &p.body {
            Some(Body::Thread(t)) if t.id == thread && t.state == ThreadState::Owned as i32 => {
                Some(t.clone())
            }
            _ => None,
        })
        .await;
        assert_eq!(owned.owner_id, winner);
    }
    for n in nodes {
        n.stop().await;
    }
    redis_cleanup(&prefix).await;
}

/// Whether a Redis on `port` answers PING within about 5 s.
async fn answers_ping(port: u16) -> bool {
    let url = format!("redis://127.0.0.1:{port}/");
    for _ in 0..100 {
        if let Ok(client) = redis::Client::open(url.as_str())
            && let Ok(mut conn) = client.get_multiplexed_async_connection().await
            && redis::cmd("PING")
                .query_async::<String>(&mut conn)
                .await
                .is_ok()
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}
