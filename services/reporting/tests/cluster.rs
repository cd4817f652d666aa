//! Cluster mode end to end: real `plenary-reporting serve` processes ingest a cluster's
//! reporting streams from the real Redis (127.0.0.1:6379, a key prefix per test) into
//! the real PostgreSQL (127.0.0.1:5432, database `test`, a schema per test). Events
//! are appended the way gateways append them (`RedisLog::append` under a shard lease).
//!
//! Each thread of the script is opened, asked in and claimed: three events, one claim.
//! Claims have no key that would absorb a second delivery, so "every claim counted
//! once" shows nothing was lost and nothing applied twice.

use std::{
    process::Stdio,
    time::{Duration, Instant},
};

use futures_util::TryStreamExt;
use plenary_bus::redis::{
    ClusterConfig, Keys, Ownership, RedisConn, RedisLog, connect,
    report::{ReportConsumer, ReportConsumerConfig},
    shard_of,
};
use plenary_proto::v1::{
    events::{
        Actor, ContextEvent, MessagePosted, ThreadClaimed, ThreadOpened, context_event::Kind,
    },
    reporting::{ReportRequest, StatusRequest, reporting_client::ReportingClient},
};
use plenary_reporting::{Store, cluster as ingestion, store::test_support};
use tokio::process::{Child, Command};

const REDIS: &str = "redis://127.0.0.1:6379/";
const SHARDS: u32 = 8;
const SECRET: &str = "cluster-test-secret-0123456789";
const API_KEY: &str = "cluster-test-admin-key";

/// One test's cluster: its Redis prefix, its PostgreSQL schema, and a "gateway" that
/// holds every shard and appends.
struct Cluster {
    prefix: String,
    conn: RedisConn,
    schema: String,
    log: RedisLog,
    owner: std::sync::Arc<Ownership>,
    store: Store,
}

fn config(prefix: &str) -> ClusterConfig {
    ClusterConfig {
        redis_url: REDIS.into(),
        prefix: prefix.into(),
        node_id: "gateway".into(),
        shards: SHARDS,
        lease_ttl: Duration::from_secs(30),
        forward_timeout: Duration::from_secs(2),
        stream_cap: 1_000,
        snapshot_every: 1_000,
    }
}

impl Cluster {
    async fn new(tag: &str) -> Cluster {
        let prefix = format!("plenary-test-rep-{tag}-{}", std::process::id());
        let config = config(&prefix);
        let (_, conn) = connect(&config)
            .await
            .expect("needs Redis on 127.0.0.1:6379: start redis-server");
        let owner = Ownership::new(&config, conn.clone());
        owner.tick().await.unwrap();
        let schema = test_support::unique_schema(tag);
        // The store as the reporters will see it (made here first, so queries work at
        // once).
        let store = test_support::postgres_store(&schema).await;
        Cluster {
            prefix,
            conn: conn.clone(),
            schema,
            log: RedisLog::new(&config, conn),
            owner,
            store,
        }
    }

    /// Appends `threads` threads to `context` (3 events each) from thread `first`.
    async fn produce(&self, context: &str, first: u64, threads: u64) {
        let fence = self
            .owner
            .fence_for(shard_of(context, SHARDS))
            .expect("the test's gateway holds every shard");
        let actor = |id: &str, moderator: bool| Actor {
            user_id: id.into(),
            email: format!("{id}@example.com"),
            moderator,
            ..Default::default()
        };
        let mut batch = Vec::with_capacity(600);
        for t in first..first + threads {
            let seq = t * 3;
            let event = |seq: u64, actor: Actor, kind: Kind| ContextEvent {
                context_id: context.into(),
                epoch: 1,
                seq,
                at_ms: 1_767_225_600_000 + seq,
                actor: Some(actor),
                kind: Some(kind),
            };
            let attendee = format!("att-{t}");
            batch.push(event(
                seq + 1,
                actor(&attendee, false),
                Kind::ThreadOpened(ThreadOpened {
                    thread_id: t + 1,
                    attendee_id: attendee.clone(),
                }),
            ));
            batch.push(event(
                seq + 2,
                actor(&attendee, false),
                Kind::MessagePosted(MessagePosted {
                    message_id: seq + 2,
                    thread_id: t + 1,
                    text: format!("question {t}, with a comma"),
                    ..Default::default()
                }),
            ));
            batch.push(event(
                seq + 3,
                actor(&format!("mod-{}", t % 3), true),
                Kind::ThreadClaimed(ThreadClaimed {
                    thread_id: t + 1,
                    took_over_from: String::new(),
                }),
            ));
            if batch.len() >= 600 {
                self.log.append(context, 1, &batch, &fence).await.unwrap();
                batch.clear();
            }
        }
        if !batch.is_empty() {
            self.log.append(context, 1, &batch, &fence).await.unwrap();
        }
    }

    /// A `plenary-reporting serve` process of this cluster.
    fn reporter(&self, consumer: &str, listen: &str) -> Child {
        Command::new(env!("CARGO_BIN_EXE_plenary-reporting"))
            .args(["serve", "--listen", listen])
            .env("PLENARY_REDIS_URL", REDIS)
            .env("PLENARY_REDIS_PREFIX", &self.prefix)
            .env("PLENARY_SHARDS", SHARDS.to_string())
            .env("PLENARY_POSTGRES_URL", test_support::postgres_url())
            .env("PLENARY_POSTGRES_SCHEMA", &self.schema)
            .env("PLENARY_REPORTING_CONSUMER", consumer)
            .env("PLENARY_REPORTING_LEASE_TTL_MS", "1000")
            .env("PLENARY_JWT_SECRET", SECRET)
            .env("PLENARY_ADMIN_API_KEY", API_KEY)
            .env("PLENARY_LOG", "warn")
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("the plenary-reporting binary")
    }

    /// Claims counted per context, summed (from the moderator performance report).
    async fn claims(&self, context: &str) -> u64 {
        let rows = self
            .store
            .moderator_performance(&ReportRequest {
                context_id: context.into(),
                ..Default::default()
            })
            .await
            .unwrap();
        rows.iter().map(|r| u64::from(r.threads_claimed)).sum()
    }

    /// Questions counted in a context (user messages of the context stats report).
    async fn questions(&self, context: &str) -> u64 {
        let rows: Vec<_> = self
            .store
            .context_stats(&ReportRequest {
                context_id: context.into(),
                from_ms: 0,
                to_ms: u64::MAX / 2,
            })
            .try_collect()
            .await
            .unwrap();
        rows.first().map_or(0, |r| r.user_messages)
    }

    /// Waits until every context has `expected` claims; fails if any ever has more.
    async fn wait_for(&self, expected: &[(&str, u64)], within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let mut done = true;
            for &(context, want) in expected {
                let got = self.claims(context).await;
                assert!(got <= want, "{context}: {got} claims counted, {want} made");
                done &= got == want;
            }
            if done {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "not everything was ingested in {within:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn keys(&self) -> Keys {
        Keys::new(&self.prefix, SHARDS)
    }

    /// Waits until every shard's reporter lease is held, by `holders` reporters in all.
    async fn wait_for_lease_holders(&self, holders: usize) {
        let client = redis::Client::open(REDIS).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let mut names = std::collections::BTreeSet::new();
            let mut held = 0;
            for shard in 0..SHARDS {
                let lease: Option<String> = redis::cmd("GET")
                    .arg(self.keys().report_lease(shard))
                    .query_async(&mut conn)
                    .await
                    .unwrap();
                if let Some((name, _fence)) = lease.as_deref().and_then(|l| l.rsplit_once(':')) {
                    held += 1;
                    names.insert(name.to_owned());
                }
            }
            if held == SHARDS && names.len() == holders {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{held} of {SHARDS} shards held, by {names:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The length of each shard's reporting stream.
    async fn stream_lengths(&self) -> Vec<u64> {
        let client = redis::Client::open(REDIS).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let mut lengths = Vec::new();
        for shard in 0..SHARDS {
            let n: u64 = redis::cmd("XLEN")
                .arg(self.keys().report_stream(shard))
                .query_async(&mut conn)
                .await
                .unwrap();
            lengths.push(n);
        }
        lengths
    }

    async fn longest_stream(&self) -> u64 {
        self.stream_lengths().await.into_iter().max().unwrap_or(0)
    }

    /// Entries left in the reporting streams.
    async fn stream_entries(&self) -> u64 {
        self.stream_lengths().await.into_iter().sum()
    }

    async fn cleanup(self) {
        plenary_bus::redis::delete_keys_of(REDIS, &self.prefix)
            .await
            .unwrap();
        test_support::drop_schema(&self.schema).await;
    }
}

impl Cluster {
    /// An in-process consumer of this cluster's reporting streams, holding every shard.
    async fn consumer(&self, name: &str) -> ReportConsumer {
        let mut consumer = ReportConsumer::new(
            ReportConsumerConfig {
                prefix: self.prefix.clone(),
                shards: SHARDS,
                consumer: name.into(),
                lease_ttl: Duration::from_secs(5),
            },
            self.conn.clone(),
        )
        .await
        .unwrap();
        consumer.balance().await.unwrap();
        assert_eq!(
            consumer.held().len(),
            SHARDS as usize,
            "{name} holds every shard"
        );
        consumer
    }

    /// Reads everything there is and commits it to the store, without acknowledging
    /// it: a reporter that dies between its commit and its `XACK`.
    async fn commit_without_ack(&self, consumer: &mut ReportConsumer) -> usize {
        let entries = consumer
            .read(10_000, Duration::from_millis(50))
            .await
            .unwrap();
        let log: Vec<_> = entries.iter().map(ingestion::log_entry).collect();
        self.store
            .ingest(&log, &ingestion::fences_of(&entries))
            .await
            .unwrap();
        entries.len()
    }

    /// Ingests (and acknowledges) until a read finds nothing.
    async fn drain(&self, consumer: &mut ReportConsumer) -> usize {
        let progress = plenary_reporting::ingest::Progress::default();
        let mut read = 0;
        loop {
            match ingestion::round(consumer, &self.store, &progress)
                .await
                .unwrap()
            {
                0 => return read,
                n => read += n,
            }
        }
    }
}

#[tokio::test]
async fn a_batch_committed_but_not_acknowledged_is_delivered_again_and_counted_once() {
    let cluster = Cluster::new("ack").await;
    cluster.produce("webinar-a", 0, 100).await;

    // Dies after its commit, before its XACK; restarts under the same name.
    let mut first = cluster.consumer("r1").await;
    assert_eq!(cluster.commit_without_ack(&mut first).await, 300);
    drop(first);
    let mut again = cluster.consumer("r1").await;
    assert_eq!(
        cluster.drain(&mut again).await,
        300,
        "its pending entries, again"
    );
    assert_eq!(cluster.claims("webinar-a").await, 100, "and counted once");

    // Dies the same way and gives its shards up; another reporter takes them, with
    // the dead one's pending entries (XAUTOCLAIM).
    cluster.produce("webinar-a", 100, 100).await;
    assert_eq!(cluster.commit_without_ack(&mut again).await, 300);
    again.release().await.unwrap();
    let mut other = cluster.consumer("r2").await;
    assert_eq!(cluster.drain(&mut other).await, 300, "claimed from r1");
    assert_eq!(cluster.claims("webinar-a").await, 200);
    assert_eq!(cluster.questions("webinar-a").await, 200);
    cluster.cleanup().await;
}

/// Some claims committed, not all: the moment to kill a reporter.
async fn wait_until_partly(cluster: &Cluster, context: &str, total: u64) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let got = cluster.claims(context).await;
        if got > 0 {
            assert!(
                got < total,
                "ingestion finished before it could be interrupted; make the script longer"
            );
            return got;
        }
        assert!(Instant::now() < deadline, "the reporter ingested nothing");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A free loopback port.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reporter_down_past_the_old_cap_then_killed_mid_ingestion_counts_everything_once() {
    let cluster = Cluster::new("down").await;
    // Reporting is down while more is produced than the old cap of a reporting
    // stream (100,000): 34,000 threads × 3 = 102,000 events, in one context and so in
    // one shard's stream.
    let contexts = [("webinar-a", 34_000)];
    for (context, threads) in contexts {
        cluster.produce(context, 0, threads).await;
    }
    assert!(
        cluster.longest_stream().await >= 102_000,
        "appending must not trim what no reporter has read"
    );

    // It comes back, and is killed (SIGKILL) part way through.
    let mut first = cluster.reporter("reporter-1", "127.0.0.1:0");
    wait_until_partly(&cluster, "webinar-a", 34_000).await;
    first.kill().await.unwrap();

    // Restarted under the same name: its unacknowledged entries are read again and
    // skipped where they had committed.
    let _second = cluster.reporter("reporter-1", "127.0.0.1:0");
    cluster.wait_for(&contexts, Duration::from_secs(240)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    for (context, threads) in contexts {
        assert_eq!(
            cluster.claims(context).await,
            threads,
            "{context}: once each"
        );
        assert_eq!(cluster.questions(context).await, threads);
    }
    // Acknowledged entries are trimmed (on the reporter's next pass, every 5 s).
    let deadline = Instant::now() + Duration::from_secs(15);
    while cluster.stream_entries().await > SHARDS as u64 {
        assert!(Instant::now() < deadline, "the streams were not trimmed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    cluster.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_reporters_in_one_group_count_each_event_once_and_one_takes_over_from_the_other() {
    let cluster = Cluster::new("two").await;
    let port = free_port();
    let mut a = cluster.reporter("reporter-a", &format!("127.0.0.1:{port}"));
    let _b = cluster.reporter("reporter-b", "127.0.0.1:0");
    // Both are up and have split the shards before events arrive.
    cluster.wait_for_lease_holders(2).await;

    let contexts: Vec<(String, u64)> = (0..8).map(|i| (format!("webinar-{i}"), 2_000)).collect();
    for (context, threads) in &contexts {
        cluster.produce(context, 0, *threads).await;
    }
    let expected: Vec<(&str, u64)> = contexts.iter().map(|(c, n)| (c.as_str(), *n)).collect();

    // Reports over gRPC from reporter A while it ingests: the admin key reads them.
    let mut client = connect_grpc(port).await;
    let mut request = tonic::Request::new(StatusRequest {});
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {API_KEY}").parse().unwrap(),
    );
    client
        .status(request)
        .await
        .expect("status from reporter A");

    // A dies part way; B takes its shards over (its pending entries included).
    wait_until_partly(&cluster, "webinar-0", 2_000).await;
    a.kill().await.unwrap();
    cluster.wait_for(&expected, Duration::from_secs(120)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    for (context, threads) in &expected {
        assert_eq!(
            cluster.claims(context).await,
            *threads,
            "{context}: once each"
        );
        assert_eq!(cluster.questions(context).await, *threads);
    }
    cluster.cleanup().await;
}

async fn connect_grpc(port: u16) -> ReportingClient<tonic::transport::Channel> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match ReportingClient::connect(format!("http://127.0.0.1:{port}")).await {
            Ok(client) => return client,
            Err(e) => {
                assert!(Instant::now() < deadline, "reporter A never listened: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

#[tokio::test]
async fn an_entry_postgresql_refuses_as_data_is_set_aside_and_the_rest_applied() {
    let cluster = Cluster::new("bad").await;
    cluster.produce("webinar-a", 0, 100).await;
    // Then two chat messages; PostgreSQL refuses a NUL character in text (SQLSTATE
    // 22021), so the first can never be stored; the second must not wait for it. (The
    // gateway refuses control characters in texts: this is the store's guard for an
    // entry written some other way.)
    let fence = cluster
        .owner
        .fence_for(shard_of("webinar-a", SHARDS))
        .unwrap();
    let message = |seq: u64, text: &str| ContextEvent {
        context_id: "webinar-a".into(),
        epoch: 1,
        seq,
        at_ms: 1_767_225_600_000 + seq,
        actor: Some(Actor {
            user_id: "att-x".into(),
            ..Default::default()
        }),
        kind: Some(Kind::MessagePosted(MessagePosted {
            message_id: seq,
            text: text.into(),
            ..Default::default()
        })),
    };
    let events = [message(301, "bad\0text"), message(302, "fine")];
    cluster
        .log
        .append("webinar-a", 1, &events, &fence)
        .await
        .unwrap();

    let mut consumer = cluster.consumer("r1").await;
    let progress = plenary_reporting::ingest::Progress::default();
    while ingestion::round(&mut consumer, &cluster.store, &progress)
        .await
        .unwrap()
        > 0
    {}
    use std::sync::atomic::Ordering::Relaxed;
    assert_eq!(
        progress.unreadable.load(Relaxed),
        1,
        "set aside and counted"
    );
    assert_eq!(progress.ingested.load(Relaxed), 301);
    assert_eq!(cluster.claims("webinar-a").await, 100);
    assert_eq!(
        cluster.questions("webinar-a").await,
        101,
        "the questions and \"fine\""
    );
    assert_eq!(consumer.lag().await.unwrap(), 0, "all acknowledged");
    cluster.cleanup().await;
}
