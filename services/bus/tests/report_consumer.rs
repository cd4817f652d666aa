//! The reporting consumer against the real Redis on 127.0.0.1:6379 (isolated by prefix):
//! reading in order, acknowledging, trimming only what the group acknowledged, shard
//! leases between reporters and their fences.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
    time::{Duration, Instant},
};

use plenary_bus::redis::{
    ClusterConfig, Keys, Ownership, RedisConn, RedisLog, ReportConsumer, ReportConsumerConfig,
    ReportEntry, connect, shard_of,
};
use plenary_proto::v1::events::{ContextEvent, MessagePosted, context_event::Kind};
use prost::Message;

const TTL: Duration = Duration::from_millis(600);

fn cluster(prefix: &str, shards: u32) -> ClusterConfig {
    ClusterConfig {
        redis_url: "redis://127.0.0.1:6379/".into(),
        prefix: prefix.into(),
        node_id: "writer".into(),
        shards,
        lease_ttl: Duration::from_secs(5),
        forward_timeout: Duration::from_secs(2),
        stream_cap: 1_000,
        snapshot_every: 100,
    }
}

fn reporter(prefix: &str, shards: u32, consumer: &str, ttl: Duration) -> ReportConsumerConfig {
    ReportConsumerConfig {
        prefix: prefix.into(),
        shards,
        consumer: consumer.into(),
        lease_ttl: ttl,
    }
}

fn unique_prefix(test: &str) -> String {
    format!(
        "plenary-test-report-{test}-{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    )
}

fn event(context: &str, seq: u64) -> ContextEvent {
    ContextEvent {
        context_id: context.into(),
        epoch: 1,
        seq,
        at_ms: seq,
        actor: None,
        kind: Some(Kind::MessagePosted(MessagePosted {
            message_id: seq,
            text: format!("m{seq}"),
            ..Default::default()
        })),
    }
}

/// The writing node: owns every shard and appends through the real append script.
struct Writer {
    ownership: Arc<Ownership>,
    log: RedisLog,
    shards: u32,
    next_seq: HashMap<String, u64>,
}

impl Writer {
    async fn new(prefix: &str, shards: u32) -> (Writer, RedisConn) {
        let config = cluster(prefix, shards);
        let (_, conn) = connect(&config)
            .await
            .expect("needs Redis on 127.0.0.1:6379: start redis-server");
        let ownership = Ownership::new(&config, conn.clone());
        ownership.tick().await.unwrap();
        assert_eq!(ownership.owned_shards().len(), shards as usize);
        let log = RedisLog::new(&config, conn.clone());
        let writer = Writer {
            ownership,
            log,
            shards,
            next_seq: HashMap::new(),
        };
        (writer, conn)
    }

    /// Appends `n` events to a context, `batch` per append.
    async fn append(&mut self, context: &str, n: u64, batch: u64) {
        let fence = self
            .ownership
            .fence_for(shard_of(context, self.shards))
            .unwrap();
        let next = self.next_seq.entry(context.to_owned()).or_insert(1);
        let end = *next + n;
        while *next < end {
            let events: Vec<ContextEvent> = (*next..end.min(*next + batch))
                .map(|seq| event(context, seq))
                .collect();
            self.log.append(context, 1, &events, &fence).await.unwrap();
            *next += events.len() as u64;
        }
    }
}

/// `per_shard` context names on each shard.
fn contexts(shards: u32, per_shard: usize) -> Vec<String> {
    let mut found: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    let mut i = 0;
    while found.len() < shards as usize || found.values().any(|v| v.len() < per_shard) {
        let name = format!("ctx-{i}");
        let list = found.entry(shard_of(&name, shards)).or_default();
        if list.len() < per_shard {
            list.push(name);
        }
        i += 1;
    }
    found.into_values().flatten().collect()
}

/// Reads until `want` entries came or the deadline passes.
async fn read_n(consumer: &mut ReportConsumer, want: usize) -> Vec<ReportEntry> {
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut out = Vec::new();
    while out.len() < want && Instant::now() < deadline {
        out.extend(
            consumer
                .read(want - out.len(), Duration::from_millis(50))
                .await
                .unwrap(),
        );
    }
    out
}

/// Balances until the consumer holds `want` shards.
async fn balance_until(consumer: &mut ReportConsumer, want: usize) {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        consumer.balance().await.unwrap();
        if consumer.held().len() == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{} holds {:?}, not {want} shards",
            consumer.consumer(),
            consumer.held()
        );
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
}

fn seq_of(entry: &ReportEntry) -> u64 {
    ContextEvent::decode(entry.payload.as_slice()).unwrap().seq
}

/// Entry ids of a shard's reporting stream.
async fn stream_ids(conn: &mut RedisConn, keys: &Keys, shard: u32) -> Vec<String> {
    let reply: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
        .arg(keys.report_stream(shard))
        .arg("-")
        .arg("+")
        .query_async(conn)
        .await
        .unwrap();
    reply.ids.into_iter().map(|e| e.id).collect()
}

async fn xlen(conn: &mut RedisConn, keys: &Keys, shard: u32) -> u64 {
    redis::cmd("XLEN")
        .arg(keys.report_stream(shard))
        .query_async(conn)
        .await
        .unwrap()
}

async fn cleanup(prefix: &str) {
    plenary_bus::redis::delete_keys_of("redis://127.0.0.1:6379/", prefix)
        .await
        .unwrap();
}

#[tokio::test]
async fn one_consumer_reads_in_order_acks_trims_and_hands_unacked_entries_on() {
    let prefix = unique_prefix("order");
    let keys = Keys::new(&prefix, 2);
    let (mut writer, mut conn) = Writer::new(&prefix, 2).await;
    let names = contexts(2, 2);
    for name in &names {
        writer.append(name, 5, 2).await;
    }

    let mut r1 = ReportConsumer::new(reporter(&prefix, 2, "r1", TTL), conn.clone())
        .await
        .unwrap();
    let balance = r1.balance().await.unwrap();
    assert_eq!((balance.acquired.len(), balance.live), (2, 1));
    assert_eq!(r1.held(), vec![0, 1]);
    // A small count: several reads, shards taking turns.
    let mut entries = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(3);
    while entries.len() < 20 && Instant::now() < deadline {
        let batch = r1.read(3, Duration::from_millis(50)).await.unwrap();
        assert!(batch.len() <= 3);
        entries.extend(batch);
    }
    assert_eq!(entries.len(), 20);
    assert!(
        r1.read(10, Duration::from_millis(20))
            .await
            .unwrap()
            .is_empty()
    );

    // In stream order per shard, each context's events in seq order, fields intact.
    let mut per_context: HashMap<String, Vec<u64>> = HashMap::new();
    let mut last_id: HashMap<u32, (u64, u64)> = HashMap::new();
    let fences: HashMap<u32, u64> = r1.fences().into_iter().collect();
    for entry in &entries {
        assert_eq!(entry.shard, shard_of(&entry.stream_id, 2));
        assert_eq!(entry.fence, fences[&entry.shard]);
        let (ms, seq) = entry.id.split_once('-').unwrap();
        let id = (ms.parse::<u64>().unwrap(), seq.parse::<u64>().unwrap());
        assert_eq!(entry.at_ms, id.0);
        if let Some(previous) = last_id.insert(entry.shard, id) {
            assert!(previous < id, "shard {} out of order", entry.shard);
        }
        per_context
            .entry(entry.stream_id.clone())
            .or_default()
            .push(seq_of(entry));
    }
    for name in &names {
        assert_eq!(per_context[name], vec![1, 2, 3, 4, 5], "{name}");
    }

    // Acknowledge all but one entry in the middle of shard 0.
    let shard0: Vec<&ReportEntry> = entries.iter().filter(|e| e.shard == 0).collect();
    let unacked = shard0[4].clone();
    let acked: Vec<ReportEntry> = entries
        .iter()
        .filter(|e| e.id != unacked.id || e.shard != unacked.shard)
        .cloned()
        .collect();
    r1.ack(&acked).await.unwrap();
    assert_eq!(r1.lag().await.unwrap(), 1);

    // Trim removes the acknowledged entries before the unacknowledged one, and all of
    // shard 1; the unacknowledged entry and everything after it stay.
    let removed = r1.trim().await.unwrap();
    assert_eq!(removed, 4 + 10);
    let left = stream_ids(&mut conn, &keys, 0).await;
    let expected: Vec<String> = shard0[4..].iter().map(|e| e.id.clone()).collect();
    assert_eq!(left, expected);
    assert_eq!(xlen(&mut conn, &keys, 1).await, 0);
    assert_eq!(r1.trim().await.unwrap(), 0);

    // A restart under the same name takes the leases over at once (new fences) and
    // reads the unacknowledged entry again; the old instance is fenced off.
    let mut r1b = ReportConsumer::new(reporter(&prefix, 2, "r1", TTL), conn.clone())
        .await
        .unwrap();
    r1b.balance().await.unwrap();
    assert_eq!(r1b.held(), vec![0, 1]);
    for ((shard, old), (_, new)) in r1.fences().into_iter().zip(r1b.fences()) {
        assert!(new > old, "shard {shard}: fence {new} after {old}");
    }
    let again = read_n(&mut r1b, 1).await;
    assert_eq!(again.len(), 1);
    assert_eq!(
        (again[0].id.as_str(), again[0].payload.as_slice()),
        (unacked.id.as_str(), unacked.payload.as_slice())
    );
    assert!(
        r1.read(10, Duration::ZERO).await.unwrap().is_empty(),
        "the old instance still reads"
    );
    assert!(r1.held().is_empty());
    assert!(
        r1b.read(10, Duration::from_millis(20))
            .await
            .unwrap()
            .is_empty()
    );

    // Released without acknowledging: another reporter claims the entry from r1.
    r1b.release().await.unwrap();
    let mut r2 = ReportConsumer::new(reporter(&prefix, 2, "r2", TTL), conn.clone())
        .await
        .unwrap();
    r2.balance().await.unwrap();
    assert_eq!(r2.held(), vec![0, 1]);
    writer.append(&names[0], 2, 2).await;
    let claimed = read_n(&mut r2, 3).await;
    assert_eq!(claimed.len(), 3);
    assert_eq!(claimed[0].id, unacked.id, "the claimed entry comes first");
    assert_eq!(
        claimed[1..].iter().map(seq_of).collect::<Vec<_>>(),
        vec![6, 7]
    );
    r2.ack(&claimed).await.unwrap();
    assert_eq!(r2.lag().await.unwrap(), 0);
    assert_eq!(r2.trim().await.unwrap(), 6 + 2);
    assert_eq!(xlen(&mut conn, &keys, 0).await, 0);

    r2.release().await.unwrap();
    cleanup(&prefix).await;
}

#[tokio::test]
async fn appends_are_not_capped_and_trim_stops_at_the_first_unacked_entry() {
    // More than the 100,000 the append script used to cap the stream at.
    const N: u64 = 100_500;
    let prefix = unique_prefix("cap");
    let keys = Keys::new(&prefix, 1);
    let (mut writer, mut conn) = Writer::new(&prefix, 1).await;
    let mut consumer = ReportConsumer::new(reporter(&prefix, 1, "r", TTL), conn.clone())
        .await
        .unwrap();
    writer.append("c", N, 2_000).await;
    assert_eq!(xlen(&mut conn, &keys, 0).await, N, "the append trimmed");
    consumer.balance().await.unwrap();

    // The first ten are read, not acknowledged: nothing may go.
    let first = read_n(&mut consumer, 10).await;
    assert_eq!(
        first.iter().map(seq_of).collect::<Vec<_>>(),
        (1..=10).collect::<Vec<_>>()
    );
    assert_eq!(consumer.trim().await.unwrap(), 0);
    assert_eq!(xlen(&mut conn, &keys, 0).await, N);
    assert_eq!(consumer.lag().await.unwrap(), N);

    // Read and acknowledge the next ten: still nothing, the first ten are pending.
    let next = read_n(&mut consumer, 10).await;
    assert_eq!(seq_of(&next[0]), 11);
    consumer.ack(&next).await.unwrap();
    assert_eq!(consumer.trim().await.unwrap(), 0);
    assert_eq!(consumer.lag().await.unwrap(), N - 10);

    // Acknowledging the first ten frees exactly the twenty delivered entries.
    consumer.ack(&first).await.unwrap();
    assert_eq!(consumer.trim().await.unwrap(), 20);
    assert_eq!(xlen(&mut conn, &keys, 0).await, N - 20);
    assert_eq!(consumer.lag().await.unwrap(), N - 20);

    consumer.release().await.unwrap();
    cleanup(&prefix).await;
}

#[tokio::test]
async fn two_consumers_split_the_shards_and_read_every_entry_once() {
    const SHARDS: u32 = 8;
    let prefix = unique_prefix("split");
    let (mut writer, _) = Writer::new(&prefix, SHARDS).await;
    let names = contexts(SHARDS, 2);
    let mut appended = 0;
    for name in &names {
        writer.append(name, 5, 5).await;
        appended += 5;
    }
    // Each reporter on its own connection, as separate processes would be.
    let (_, conn_a) = connect(&cluster(&prefix, SHARDS)).await.unwrap();
    let (_, conn_b) = connect(&cluster(&prefix, SHARDS)).await.unwrap();
    let mut a = ReportConsumer::new(reporter(&prefix, SHARDS, "a", TTL), conn_a)
        .await
        .unwrap();
    let mut b = ReportConsumer::new(reporter(&prefix, SHARDS, "b", TTL), conn_b)
        .await
        .unwrap();

    let mut seen: HashMap<(u32, String), u32> = HashMap::new();
    let mut per_context: HashMap<String, Vec<u64>> = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut round = 0;
    loop {
        round += 1;
        for consumer in [&mut a, &mut b] {
            consumer.balance().await.unwrap();
            let entries = consumer.read(7, Duration::from_millis(10)).await.unwrap();
            for entry in &entries {
                *seen.entry((entry.shard, entry.id.clone())).or_default() += 1;
                per_context
                    .entry(entry.stream_id.clone())
                    .or_default()
                    .push(seq_of(entry));
            }
            consumer.ack(&entries).await.unwrap();
        }
        let (held_a, held_b) = (a.held(), b.held());
        assert!(
            held_a.iter().all(|s| !held_b.contains(s)),
            "both hold a shard: {held_a:?} {held_b:?}"
        );
        if round == 3 {
            // More arrives while the shards are moving.
            for name in &names {
                writer.append(name, 3, 3).await;
                appended += 3;
            }
        }
        let settled = held_a.len() == 4 && held_b.len() == 4;
        if settled && round > 3 && seen.len() == appended {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not settled: a {held_a:?}, b {held_b:?}, {} of {appended} read",
            seen.len()
        );
    }
    assert!(seen.values().all(|&n| n == 1), "an entry was read twice");
    for name in &names {
        assert_eq!(
            per_context[name],
            (1..=8).collect::<Vec<u64>>(),
            "{name} out of order"
        );
    }
    assert_eq!(a.lag().await.unwrap(), 0);

    // One leaves: the other takes every shard at once.
    a.release().await.unwrap();
    let balance = b.balance().await.unwrap();
    assert_eq!((balance.acquired.len(), balance.live), (4, 1));
    assert_eq!(b.held(), (0..SHARDS).collect::<Vec<_>>());
    b.release().await.unwrap();
    cleanup(&prefix).await;
}

#[tokio::test]
async fn a_taken_over_shard_has_a_higher_fence_and_the_old_holder_reads_nothing() {
    let ttl = Duration::from_millis(300);
    let prefix = unique_prefix("fence");
    let (mut writer, conn) = Writer::new(&prefix, 1).await;
    let (_, conn_b) = connect(&cluster(&prefix, 1)).await.unwrap();
    let mut a = ReportConsumer::new(reporter(&prefix, 1, "a", ttl), conn.clone())
        .await
        .unwrap();
    let mut b = ReportConsumer::new(reporter(&prefix, 1, "b", ttl), conn_b)
        .await
        .unwrap();
    a.balance().await.unwrap();
    let [(0, fence_a)] = a.fences()[..] else {
        panic!("a holds {:?}", a.fences())
    };
    b.balance().await.unwrap();
    assert!(b.held().is_empty(), "b took a held shard");

    // A reads the first entry and stalls (no ack, no renewal) until its lease lapses.
    writer.append("c", 1, 1).await;
    let read = read_n(&mut a, 1).await;
    assert_eq!(read.len(), 1);
    balance_until(&mut b, 1).await;
    let [(0, fence_b)] = b.fences()[..] else {
        panic!("b holds {:?}", b.fences())
    };
    assert!(fence_b > fence_a, "fence {fence_b} after {fence_a}");

    // The old holder can read nothing more; the new one gets the entry a never
    // acknowledged, then the new one.
    writer.append("c", 1, 1).await;
    assert!(a.read(10, Duration::ZERO).await.unwrap().is_empty());
    assert!(a.held().is_empty());
    let entries = read_n(&mut b, 2).await;
    assert_eq!(entries.iter().map(seq_of).collect::<Vec<_>>(), vec![1, 2]);
    assert!(entries.iter().all(|e| e.fence == fence_b));
    assert_eq!(entries[0].id, read[0].id);

    // A learns it lost the shard and does not take it back while b holds it.
    let balance = a.balance().await.unwrap();
    assert_eq!(balance.lost, vec![0]);
    assert!(a.held().is_empty());

    // After a graceful release the other takes over at once, with a higher fence still.
    b.release().await.unwrap();
    a.balance().await.unwrap();
    let [(0, fence_a2)] = a.fences()[..] else {
        panic!("a holds {:?}", a.fences())
    };
    assert!(fence_a2 > fence_b);
    a.release().await.unwrap();
    cleanup(&prefix).await;
}

#[tokio::test]
async fn entries_without_their_fields_are_returned_not_dropped() {
    let prefix = unique_prefix("fields");
    let keys = Keys::new(&prefix, 1);
    let (_, mut conn) = connect(&cluster(&prefix, 1))
        .await
        .expect("needs Redis on 127.0.0.1:6379: start redis-server");
    let mut consumer = ReportConsumer::new(reporter(&prefix, 1, "r", TTL), conn.clone())
        .await
        .unwrap();
    consumer.balance().await.unwrap();
    for fields in [&["x", "1"][..], &["c", "ctx"], &["e", "\u{1}"]] {
        let _: String = redis::cmd("XADD")
            .arg(keys.report_stream(0))
            .arg("*")
            .arg(fields)
            .query_async(&mut conn)
            .await
            .unwrap();
    }
    let entries = read_n(&mut consumer, 3).await;
    let got: Vec<(&str, &[u8])> = entries
        .iter()
        .map(|e| (e.stream_id.as_str(), e.payload.as_slice()))
        .collect();
    assert_eq!(got, vec![("", &b""[..]), ("ctx", b""), ("", b"\x01")]);
    consumer.ack(&entries).await.unwrap();
    assert_eq!(consumer.lag().await.unwrap(), 0);
    consumer.release().await.unwrap();
    cleanup(&prefix).await;
}
