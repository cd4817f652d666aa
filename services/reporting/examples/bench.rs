//! Reporting benchmark: fills a fresh log with a webinar of `--attendees` users and
//! `--messages` Q&A messages, then measures ingestion (events/s, CPU), the context
//! stats, moderator performance and user stats reports, and a CSV export of every
//! message (moderator transcripts) with the process's peak RSS before and after.
//!
//! Embedded mode (SQLite log into a SQLite store):
//! `cargo run --release -p plenary-reporting --example bench -- --messages 1000000`
//!
//! Cluster mode (`--postgres 1`): the events are appended to the Redis reporting
//! streams on 127.0.0.1:6379 as a gateway appends them (under a bench key prefix),
//! then ingested by the cluster ingestion (consumer group, fenced batches) into
//! PostgreSQL on 127.0.0.1:5432 (a schema of its own, dropped at the end):
//! `cargo run --release -p plenary-reporting --example bench -- --messages 1000000 --postgres 1`

use std::{sync::Arc, time::Instant};

use futures_util::StreamExt;
use plenary_bus::redis::{
    ClusterConfig, Fence, Ownership, RedisLog,
    report::{ReportConsumer, ReportConsumerConfig},
};
use plenary_bus::{EventLog, SyncMode};
use plenary_proto::v1::{
    events::{
        Actor, ContextEvent, MessagePosted, ThreadClaimed, ThreadOpened, ThreadResolved,
        context_event::Kind,
    },
    reporting::ReportRequest,
};
use plenary_reporting::{Store, cluster, csv_out, ingest, store::test_support};

/// Where the generated events go.
enum Sink {
    Sqlite(EventLog),
    Redis(RedisLog, Fence),
}

impl Sink {
    async fn append(&self, batch: &[ContextEvent]) {
        match self {
            Sink::Sqlite(log) => log.append("w1", 1, batch, None).await.unwrap(),
            Sink::Redis(log, fence) => log.append("w1", 1, batch, fence).await.unwrap(),
        }
    }
}

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// (user + system CPU seconds, peak RSS in bytes) of this process.
fn cpu_and_peak_rss() -> (f64, u64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0)
        + fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let hwm = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0)
        * 1024;
    (ticks as f64 / 100.0, hwm)
}

#[tokio::main]
async fn main() {
    let messages = arg("--messages", 1_000_000);
    let attendees = arg("--attendees", 10_000);
    let moderators = 20u64;
    let dir = tempfile::tempdir().unwrap();
    if arg("--keep", 0) == 1 {
        println!("data in {}", dir.path().display());
    }
    let postgres = arg("--postgres", 0) == 1;
    let prefix = format!("plenary-bench-{}", std::process::id());
    let cluster_config = ClusterConfig {
        redis_url: "redis://127.0.0.1:6379/".into(),
        prefix: prefix.clone(),
        node_id: "bench".into(),
        shards: 8,
        lease_ttl: std::time::Duration::from_secs(60),
        forward_timeout: std::time::Duration::from_secs(2),
        stream_cap: 1_000,
        snapshot_every: 1_000,
    };
    let (sink, redis) = if postgres {
        let (_, conn) = plenary_bus::redis::connect(&cluster_config).await.unwrap();
        let owner = Ownership::new(&cluster_config, conn.clone());
        owner.tick().await.unwrap();
        let fence = owner
            .fence_for(plenary_bus::redis::shard_of("w1", 8))
            .unwrap();
        (
            Sink::Redis(RedisLog::new(&cluster_config, conn.clone()), fence),
            Some(conn),
        )
    } else {
        let log = EventLog::open(dir.path(), SyncMode::Normal).await.unwrap();
        (Sink::Sqlite(log), None)
    };

    // The webinar: every attendee opens a thread; a moderator claims and resolves it;
    // then the messages go round the threads (every 4th one a moderator's).
    let t0 = Instant::now();
    let mut seq = 0u64;
    let mut at_ms = 1_767_225_600_000u64;
    let mut batch = Vec::with_capacity(512);
    let mut total = 0u64;
    let attendee = |i: u64| Actor {
        user_id: format!("att-{i}"),
        email: format!("att-{i}@example.com"),
        given_name: "A".into(),
        family_name: format!("{i}"),
        moderator: false,
    };
    let moderator = |i: u64| Actor {
        user_id: format!("mod-{}", i % moderators),
        email: format!("mod-{}@example.com", i % moderators),
        moderator: true,
        ..Default::default()
    };
    // Each event gets the next seq; `kind` is made from it (ids are seqs).
    let mut push = |actor: Actor, kind: &dyn Fn(u64) -> Kind, batch: &mut Vec<ContextEvent>| {
        seq += 1;
        at_ms += 7;
        batch.push(ContextEvent {
            context_id: "w1".into(),
            epoch: 1,
            seq,
            at_ms,
            actor: Some(actor),
            kind: Some(kind(seq)),
        });
        seq
    };
    let mut thread_of = Vec::with_capacity(attendees as usize);
    for i in 0..attendees {
        let thread = push(
            attendee(i),
            &|seq| {
                Kind::ThreadOpened(ThreadOpened {
                    thread_id: seq,
                    attendee_id: format!("att-{i}"),
                })
            },
            &mut batch,
        );
        thread_of.push(thread);
        push(
            moderator(i),
            &|_| {
                Kind::ThreadClaimed(ThreadClaimed {
                    thread_id: thread,
                    took_over_from: String::new(),
                })
            },
            &mut batch,
        );
        if batch.len() >= 500 {
            total += batch.len() as u64;
            sink.append(&batch).await;
            batch.clear();
        }
    }
    for m in 0..messages {
        let i = m % attendees;
        let thread = thread_of[i as usize];
        let author = if m % 4 == 3 {
            moderator(i)
        } else {
            attendee(i)
        };
        push(
            author,
            &|seq| {
                Kind::MessagePosted(MessagePosted {
                    message_id: seq,
                    text: format!("message {m}, with a comma"),
                    thread_id: thread,
                    ..Default::default()
                })
            },
            &mut batch,
        );
        if batch.len() >= 500 {
            total += batch.len() as u64;
            sink.append(&batch).await;
            batch.clear();
        }
    }
    for i in 0..attendees {
        let thread = thread_of[i as usize];
        push(
            moderator(i),
            &|_| Kind::ThreadResolved(ThreadResolved { thread_id: thread }),
            &mut batch,
        );
        if batch.len() >= 500 {
            total += batch.len() as u64;
            sink.append(&batch).await;
            batch.clear();
        }
    }
    total += batch.len() as u64;
    sink.append(&batch).await;
    println!(
        "log filled: {total} events in {:.1} s",
        t0.elapsed().as_secs_f64()
    );

    let schema = test_support::unique_schema("bench");
    let progress = Arc::new(ingest::Progress::default());
    let (store, secs, cpu0) = match (&sink, redis) {
        (Sink::Sqlite(log), _) => {
            let store = Store::open(&dir.path().join("reporting.db")).await.unwrap();
            let (cpu0, _) = cpu_and_peak_rss();
            let t = Instant::now();
            while ingest::round(log, &store, &progress).await.unwrap() > 0 {}
            (store, t.elapsed().as_secs_f64(), cpu0)
        }
        (Sink::Redis(..), Some(conn)) => {
            let store = test_support::postgres_store(&schema).await;
            let mut consumer = ReportConsumer::new(
                ReportConsumerConfig {
                    prefix: prefix.clone(),
                    shards: 8,
                    consumer: "bench".into(),
                    lease_ttl: std::time::Duration::from_secs(60),
                },
                conn,
            )
            .await
            .unwrap();
            consumer.balance().await.unwrap();
            let (cpu0, _) = cpu_and_peak_rss();
            let t = Instant::now();
            while progress.ingested.load(std::sync::atomic::Ordering::Relaxed) < total {
                cluster::round(&mut consumer, &store, &progress)
                    .await
                    .unwrap();
            }
            (store, t.elapsed().as_secs_f64(), cpu0)
        }
        (Sink::Redis(..), None) => unreachable!("a Redis sink has its connection"),
    };
    let (cpu1, rss_after_ingest) = cpu_and_peak_rss();
    println!(
        "ingest: {total} events in {secs:.2} s = {:.0} events/s; {:.2} CPU-s ({:.1} µs CPU per event)",
        total as f64 / secs,
        cpu1 - cpu0,
        (cpu1 - cpu0) * 1e6 / total as f64
    );

    let range = ReportRequest {
        context_id: "w1".into(),
        from_ms: 1,
        to_ms: u64::MAX / 2,
    };
    let t = Instant::now();
    let stats: Vec<_> = store.context_stats(&range).collect().await;
    println!(
        "context stats: {:.3} s ({} row, {:?} user messages)",
        t.elapsed().as_secs_f64(),
        stats.len(),
        stats[0].as_ref().map(|r| r.user_messages).ok()
    );
    let t = Instant::now();
    let perf = store.moderator_performance(&range).await.unwrap();
    println!(
        "moderator performance: {:.3} s ({} rows)",
        t.elapsed().as_secs_f64(),
        perf.len()
    );
    let t = Instant::now();
    let users: Vec<_> = store.user_stats().collect().await;
    println!(
        "user stats: {:.3} s ({} rows)",
        t.elapsed().as_secs_f64(),
        users.len()
    );

    let t = Instant::now();
    let mut bytes = 0u64;
    let mut rows = std::pin::pin!(csv_out::encode(store.moderator_transcripts(&range)));
    while let Some(chunk) = rows.next().await {
        bytes += chunk.unwrap().len() as u64;
    }
    let (_, rss_after_export) = cpu_and_peak_rss();
    println!(
        "export (moderator transcripts, {messages} rows): {:.2} s, {:.1} MiB of CSV; peak RSS {:.1} MiB after ingestion, {:.1} MiB after the export",
        t.elapsed().as_secs_f64(),
        bytes as f64 / 1048576.0,
        rss_after_ingest as f64 / 1048576.0,
        rss_after_export as f64 / 1048576.0
    );
    if postgres {
        plenary_bus::redis::delete_keys_of("redis://127.0.0.1:6379/", &prefix)
            .await
            .unwrap();
        test_support::drop_schema(&schema).await;
    }
    if arg("--keep", 0) == 1 {
        let _ = dir.keep();
    }
}
