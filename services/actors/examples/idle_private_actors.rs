//! Measures the memory an idle user actor and an idle conversation actor hold: starts
//! `--users N` user actors (each opens its private stream once) and `N/2` conversations
//! (request, accept, one message each) on an embedded registry with a SQLite log, then
//! reads the process's resident memory before and after.
//!
//! `cargo run --release -p plenary-actors --example idle_private_actors -- 10000`

use std::{sync::Arc, time::Duration};

use plenary_actors::{
    ContextConfig, ContextRegistry, Identity,
    user::{ConnectionAction, PairCommand},
};
use plenary_bus::{Bus, EventLog, SyncMode};

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

fn identity(i: usize) -> Arc<Identity> {
    Arc::new(Identity {
        user_id: format!("user-{i:06}"),
        email: format!("user-{i:06}@example.com"),
        given_name: format!("Given{i}"),
        family_name: format!("Family{i}"),
        ..Identity::default()
    })
}

#[tokio::main]
async fn main() {
    let users: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let log = EventLog::open(dir.path(), SyncMode::Normal)
        .await
        .expect("event log");
    let config = ContextConfig {
        private_passivate_after: Duration::from_secs(3_600),
        ..ContextConfig::default()
    };
    let registry = ContextRegistry::new(config, log, Bus::memory());
    // Warm up allocator, SQLite and the runtime with actors that are not counted.
    for i in 0..100 {
        registry
            .private_open(identity(users + i), None)
            .await
            .expect("open");
    }
    tokio::time::sleep(Duration::from_millis(200)).await;

    let before = rss();
    for i in 0..users {
        registry
            .private_open(identity(i), None)
            .await
            .expect("open");
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let after_users = rss();
    for i in (0..users).step_by(2) {
        let (a, b) = (identity(i), identity(i + 1));
        let send = |text: &str| PairCommand::Send {
            text: text.to_owned(),
            client_msg_id: format!("{i}"),
        };
        registry
            .pair_command(
                &a,
                &b.user_id,
                None,
                PairCommand::Connection(ConnectionAction::Request),
            )
            .await
            .expect("request");
        registry
            .pair_command(
                &b,
                &a.user_id,
                None,
                PairCommand::Connection(ConnectionAction::Accept),
            )
            .await
            .expect("accept");
        registry
            .pair_command(&a, &b.user_id, None, send("hello there, how are you?"))
            .await
            .expect("send");
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let after_pairs = rss();
    let pairs = users / 2;
    let per_user = (after_users - before) as f64 / users as f64;
    let per_pair = (after_pairs.saturating_sub(after_users)) as f64 / pairs as f64;
    println!(
        "{{\"users\":{users},\"conversations\":{pairs},\"rss_before\":{before},\"rss_after_users\":{after_users},\"rss_after_conversations\":{after_pairs},\"bytes_per_idle_user_actor\":{per_user:.0},\"bytes_per_idle_conversation_actor_and_its_notices\":{per_pair:.0}}}"
    );
}
