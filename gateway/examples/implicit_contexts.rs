//! Measures what contexts created by joins cost a node, and what the node still holds
//! once they passivate: starts an embedded node in this process (SQLite log in a temp
//! directory, `--context-passivate-secs 2`, budgets for implicit creation raised out of
//! the way), joins and leaves N unknown context ids through real sockets, then waits
//! until every context actor has stopped. Prints resident memory before the joins,
//! after them and after passivation, as JSON.
//!
//! `cargo run --release -p plenary-gateway --example implicit_contexts -- 5000`
//!
//! Arguments: contexts (default 5,000), connections (default 20), and `refused` to
//! start the node with `--require-created-contexts` (every join is refused).
//!
//! Environment: `ROUNDS=n` repeats the joins and the wait n times with new ids, a
//! minute apart (so the node's pruner has run), and prints the resident memory after
//! each round; `HOLD_SECS=n` waits n seconds after printing (to look at the process
//! from outside, e.g. with gdb); `EXIT_AT_ONCE=1` then exits without dropping anything,
//! so that a heap profiler's "leaked" list is what the node still held.

use std::time::{Duration, Instant};

use clap::Parser;
use plenary_client::{Claims, Client, ClientConfig, mint_hs256, v1::ErrorCode};
use plenary_gateway::Config;
use tokio_util::sync::CancellationToken;

const SECRET: &str = "example-secret-0123456789abcdef";
const PASSIVATE_SECS: u64 = 2;

/// Resident memory of this process, in bytes (Linux).
fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// A gauge's value in the node's `/metrics` text, 0 when it was never set.
fn gauge(name: &str) -> f64 {
    let text = plenary_gateway::admin::metrics_handle().render();
    text.lines()
        .find_map(|line| {
            let value = line.strip_prefix(name)?.strip_prefix(' ')?;
            value.trim().parse().ok()
        })
        .unwrap_or(0.0)
}

/// Joins and leaves `ids` one after the other on a connection of its own; with
/// `refused`, every join must be refused as `NOT_FOUND`.
async fn join_and_leave(url: String, user: String, ids: Vec<String>, refused: bool) {
    let token = mint_hs256(
        SECRET.as_bytes(),
        &Claims::new(&user).with_name(&user, "Example"),
    )
    .expect("token");
    let (client, _) = Client::connect(ClientConfig::new(url, token))
        .await
        .expect("connect");
    for id in ids {
        if refused {
            let e = client.join(&id).await.expect_err("join refused");
            assert_eq!(e.server_code(), Some(ErrorCode::NotFound), "{e}");
            continue;
        }
        client.join(&id).await.expect("join");
        client.leave(&id).await.expect("leave");
    }
    client.close().await;
}

/// Joins `count` unknown ids (`{prefix}-{i}`) through `connections` sockets.
async fn create(url: &str, prefix: &str, count: usize, connections: usize, refused: bool) {
    let tasks: Vec<_> = (0..connections)
        .map(|c| {
            let ids = (c..count)
                .step_by(connections)
                .map(|i| format!("{prefix}-{i:06}"))
                .collect();
            tokio::spawn(join_and_leave(
                url.to_owned(),
                format!("{prefix}-user-{c}"),
                ids,
                refused,
            ))
        })
        .collect();
    for task in tasks {
        task.await.expect("joining task");
    }
}

/// Waits until no context actor runs (passivation), at most a minute.
async fn passivated() -> Duration {
    let started = Instant::now();
    while gauge("plenary_context_actors") > 0.0 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "context actors still running after a minute"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The sessions' and the hub's last releases happen as the connections close.
    tokio::time::sleep(Duration::from_millis(500)).await;
    started.elapsed()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let count: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(5_000);
    let connections: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(20);
    let refused = args.next().as_deref() == Some("refused");
    let dir = tempfile::tempdir()?;
    let passivate = PASSIVATE_SECS.to_string();
    let mut config = Config::parse_from([
        "plenary",
        "--listen",
        "127.0.0.1:0",
        "--admin-listen",
        "127.0.0.1:0",
        "--data-dir",
        dir.path().to_str().expect("utf-8 temp dir"),
        "--sync-mode",
        "normal",
        "--user-rate",
        "100000",
        "--user-burst",
        "100000",
        "--context-passivate-secs",
        &passivate,
        "--implicit-contexts-per-user-per-hour",
        "1000000",
        "--implicit-contexts-per-node-per-hour",
        "1000000",
    ]);
    config.require_created_contexts = refused;
    let settings = config
        .validate_with(Some(SECRET.into()), None)
        .map_err(anyhow::Error::msg)?;
    let (ws, admin, bound) = plenary_gateway::bind(&settings).await?;
    let shutdown = CancellationToken::new();
    let node = tokio::spawn(plenary_gateway::run(settings, ws, admin, shutdown.clone()));
    let url = format!("ws://{}/ws", bound.ws);

    // Warm up the allocator, SQLite and the runtime with contexts that are not counted.
    create(&url, "warm", 200, connections, refused).await;
    passivated().await;
    let before = rss();

    let started = Instant::now();
    create(&url, "adhoc", count, connections, refused).await;
    let took = started.elapsed();
    let actors = gauge("plenary_context_actors");
    let after_joins = rss();
    let waited = passivated().await;
    let after_passivation = rss();

    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    for round in 2..=rounds {
        tokio::time::sleep(Duration::from_secs(61)).await;
        create(&url, &format!("round{round}"), count, connections, refused).await;
        passivated().await;
        println!("{{\"round\":{round},\"rss_after_passivation\":{}}}", rss());
    }
    let db_bytes: u64 = std::fs::read_dir(dir.path())?
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    let per = |bytes: u64| bytes.saturating_sub(before) as f64 / count as f64;
    println!(
        "{{\"contexts\":{count},\"refused\":{refused},\"connections\":{connections},\"joins_per_sec\":{:.0},\"context_actors_after_joins\":{actors},\"rss_before\":{before},\"rss_after_joins\":{after_joins},\"rss_after_passivation\":{after_passivation},\"bytes_per_context_live\":{:.0},\"bytes_per_context_after_passivation\":{:.0},\"passivation_wait_ms\":{},\"data_dir_bytes\":{db_bytes}}}",
        count as f64 / took.as_secs_f64(),
        per(after_joins),
        per(after_passivation),
        waited.as_millis(),
    );
    if let Some(secs) = std::env::var("HOLD_SECS").ok().and_then(|s| s.parse().ok()) {
        tokio::time::sleep(Duration::from_secs(secs)).await;
    }
    if std::env::var_os("EXIT_AT_ONCE").is_some() {
        // Under a heap profiler: what is still allocated here is what the node holds.
        std::process::exit(0);
    }
    shutdown.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(15), node).await;
    Ok(())
}
