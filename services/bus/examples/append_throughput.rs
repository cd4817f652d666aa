//! Appends per second the embedded (SQLite) log sustains with many concurrent
//! appenders (one event each, like actors committing small batches).
//!
//! `cargo run --release -p plenary-bus --example append_throughput -- 2000 5 full`

use std::time::{Duration, Instant};

use plenary_bus::{EventLog, SyncMode};
use plenary_proto::v1::events::{ContextEvent, MessagePosted, context_event::Kind};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let appenders: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2_000);
    let secs: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let sync: SyncMode = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(SyncMode::Full);
    let dir = tempfile::tempdir().expect("temp dir");
    let log = EventLog::open(dir.path(), sync).await.expect("log");
    let deadline = Instant::now() + Duration::from_secs(secs);
    let tasks: Vec<_> = (0..appenders)
        .map(|i| {
            let log = log.clone();
            tokio::spawn(async move {
                let id = format!("ctx-{i}");
                let mut seq = 0;
                while Instant::now() < deadline {
                    seq += 1;
                    let event = ContextEvent {
                        context_id: id.clone(),
                        epoch: 1,
                        seq,
                        at_ms: seq,
                        actor: None,
                        kind: Some(Kind::MessagePosted(MessagePosted {
                            message_id: seq,
                            text: "a message of some forty characters, say".into(),
                            ..Default::default()
                        })),
                    };
                    log.append(&id, 1, &[event], None).await.expect("append");
                }
                seq
            })
        })
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await.expect("task");
    }
    println!(
        "{{\"appenders\":{appenders},\"secs\":{secs},\"appends\":{total},\"appends_per_sec\":{:.0}}}",
        total as f64 / secs as f64
    );
}
