//! Cluster test helpers: settling a cluster, finding owners, starting and killing
//! nodes (real Redis on 127.0.0.1:6379, isolated by key prefix).

use std::time::Duration;

use super::*;

pub const CTX: &str = "cluster-webinar";

/// Waits until the nodes at `urls` heartbeat under `prefix`, every shard's lease is held
/// by the node rendezvous placement ranks first, and every node routes `CTX` (a probe
/// joins it on each): the cluster has settled.
pub async fn settle(prefix: &str, urls: &[&str]) {
    settle_on(REDIS_URL, prefix, urls).await;
}

/// `settle` against any Redis, a Redis Cluster included (the nodes' own connection
/// detects which).
pub async fn settle_on(url: &str, prefix: &str, urls: &[&str]) {
    settle_placement(url, prefix, urls.len()).await;
    for node in urls {
        let probe = connect(node, attendee_token("settle-probe")).await;
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        while let Err(e) = probe.join(CTX).await {
            assert!(e.is_retryable() && !e.is_rate_limited(), "{e}");
            assert!(
                std::time::Instant::now() < deadline,
                "{node} never routed {CTX}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        probe.close().await;
    }
}

/// Runs `op` until it does not fail with a retryable error (a shard still changing
/// owner right after a cluster settled: each stream has its own shard), for up to 15 s.
pub async fn retrying<T, Fut>(mut op: impl FnMut() -> Fut) -> T
where
    Fut: std::future::Future<Output = Result<T, plenary_client::ClientError>>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        match op().await {
            Ok(done) => return done,
            Err(e) if e.is_retryable() && std::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("{e}"),
        }
    }
}

/// Waits until `nodes` nodes heartbeat and every shard is held by its rendezvous owner.
pub async fn settle_placement(url: &str, prefix: &str, nodes: usize) {
    use plenary_bus::redis::{ClusterConfig, connect, lease::rendezvous_owner};
    let config = ClusterConfig {
        redis_url: url.to_owned(),
        prefix: prefix.to_owned(),
        node_id: "test-observer".into(),
        shards: 8,
        lease_ttl: Duration::from_secs(1),
        forward_timeout: Duration::from_secs(1),
        stream_cap: 10_000,
        snapshot_every: 1_000,
    };
    let (_, mut conn) = connect(&config).await.expect("Redis for settle()");
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let mut live: Vec<String> = redis::cmd("ZRANGEBYSCORE")
            .arg(format!("{prefix}:nodes"))
            .arg(now.saturating_sub(1_000))
            .arg("+inf")
            .query_async(&mut conn)
            .await
            .unwrap();
        live.sort();
        let mut placed = live.len() == nodes;
        for shard in 0..8u32 {
            if !placed {
                break;
            }
            let lease: Option<String> = redis::cmd("GET")
                .arg(format!("{{{prefix}:s{shard}}}:lease"))
                .query_async(&mut conn)
                .await
                .unwrap();
            let holder = lease
                .as_deref()
                .and_then(|l| l.rsplit_once(':'))
                .map(|(node, _)| node);
            placed = holder.is_some() && holder == rendezvous_owner(shard, &live);
        }
        if placed {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the cluster under {prefix} did not settle"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The node currently holding the lease of `context`'s shard (8 shards in tests).
pub async fn owner_of(prefix: &str, context: &str) -> String {
    let shard = plenary_bus::redis::shard_of(context, 8);
    let client = redis::Client::open(REDIS_URL).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    for _ in 0..50 {
        let token: Option<String> = redis::cmd("GET")
            .arg(format!("{{{prefix}:s{shard}}}:lease"))
            .query_async(&mut conn)
            .await
            .unwrap();
        if let Some(token) = token {
            return token.rsplit_once(':').unwrap().0.to_owned();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("nobody owns the shard of {context}");
}

/// Three in-process nodes under one prefix, settled.
pub async fn three_nodes(prefix: &str) -> [TestServer; 3] {
    let nodes = [
        start_node(prefix, "n1", |_| {}).await,
        start_node(prefix, "n2", |_| {}).await,
        start_node(prefix, "n3", |_| {}).await,
    ];
    settle(
        prefix,
        &[&nodes[0].ws_url, &nodes[1].ws_url, &nodes[2].ws_url],
    )
    .await;
    nodes
}

/// Three node processes under one prefix, each with its own data directory.
pub async fn spawn_three(prefix: &str) -> (Vec<Process>, Vec<tempfile::TempDir>) {
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut nodes = Vec::new();
    for (i, dir) in dirs.iter().enumerate() {
        nodes.push(spawn_cluster_process(dir.path(), prefix, &format!("n{i}")).await);
    }
    settle(
        prefix,
        &[&nodes[0].ws_url, &nodes[1].ws_url, &nodes[2].ws_url],
    )
    .await;
    (nodes, dirs)
}

pub fn kill(process: &mut Process) {
    process.child.kill().unwrap();
    process.child.wait().unwrap();
}

/// `n` attendees spread round-robin over `nodes`, each joined to `CTX`.
pub async fn attendees_in_ctx(nodes: &[&TestServer], n: usize) -> Vec<plenary_client::Client> {
    let mut clients = Vec::with_capacity(n);
    for (i, node) in nodes.iter().enumerate().cycle().take(n) {
        let c = connect(
            &node.ws_url,
            attendee_token(&format!("u{i}-{}", clients.len())),
        )
        .await;
        c.join(CTX).await.unwrap();
        clients.push(c);
    }
    clients
}
