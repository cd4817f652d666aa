//! The actor runtime as its users meet it through the registry: the one policy for a
//! failed append (the actor stops; the next request gets a fresh one, loaded from the
//! log), and snapshots on the embedded (SQLite) log.

mod common;

use std::sync::Arc;

use common::registry;
use plenary_actors::{
    ChatCommand, CommandOutcome, ContextConfig, ContextRegistry, Identity, JoinRequest, Rejection,
};
use plenary_bus::Bus;
use sqlx::{Connection, SqliteConnection};

fn ann() -> Arc<Identity> {
    Arc::new(Identity {
        user_id: "ann".into(),
        given_name: "Ann".into(),
        ..Identity::default()
    })
}

fn post(text: &str) -> ChatCommand {
    ChatCommand::Send {
        text: text.into(),
        client_msg_id: text.into(),
        reply_to: 0,
        backchannel: false,
        thread_id: 0,
    }
}

/// A second connection to the embedded log's database, to break it from outside.
async fn database(dir: &tempfile::TempDir) -> SqliteConnection {
    let url = format!("sqlite://{}", dir.path().join("plenary.db").display());
    SqliteConnection::connect(&url).await.unwrap()
}

async fn create(registry: &ContextRegistry, context: &str) {
    let join = JoinRequest {
        identity: ann(),
        since: None,
        create: true,
    };
    registry.join(context, join).await.unwrap();
}

async fn texts(registry: &ContextRegistry, context: &str) -> Vec<String> {
    let join = JoinRequest {
        identity: ann(),
        since: None,
        create: false,
    };
    let ok = registry.join(context, join).await.unwrap().into_join_ok();
    ok.snapshot
        .unwrap()
        .messages
        .into_iter()
        .map(|m| m.text)
        .collect()
}

#[tokio::test]
async fn a_failed_append_stops_the_actor_and_the_next_request_gets_a_fresh_one_from_the_log() {
    let (registry, _log, dir) = registry(ContextConfig::default()).await;
    create(&registry, "room").await;
    let sent = registry.chat("room", ann(), post("one")).await;
    assert!(matches!(sent, Ok(CommandOutcome::Sent { .. })), "{sent:?}");

    // The log refuses every write for a while.
    let mut db = database(&dir).await;
    sqlx::query(
        "CREATE TRIGGER refuse BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'disk says no'); END",
    )
    .execute(&mut db)
    .await
    .unwrap();
    let failed = registry.chat("room", ann(), post("two")).await;
    assert!(
        matches!(failed, Err(Rejection::OutcomeUnknown(_))),
        "the caller is told the outcome is unknown (retry): {failed:?}"
    );

    sqlx::query("DROP TRIGGER refuse")
        .execute(&mut db)
        .await
        .unwrap();
    // The actor that failed stopped; this request reaches its successor, which loaded
    // the log as it is: without `two`, and with seqs that go on from `one`.
    let retried = registry.chat("room", ann(), post("two")).await;
    match retried {
        Ok(CommandOutcome::Sent { seq, .. }) => assert_eq!(seq, 3, "created, one, two"),
        other => panic!("the retry reaches a fresh actor: {other:?}"),
    }
    assert_eq!(texts(&registry, "room").await, ["one", "two"]);
}

#[tokio::test]
async fn an_embedded_context_starts_from_its_snapshot_not_from_its_first_event() {
    let config = ContextConfig {
        snapshot_every: 5,
        recovery_window: 2,
        ..ContextConfig::default()
    };
    let (registry, log, dir) = registry(config.clone()).await;
    create(&registry, "room").await;
    for i in 1..=11 {
        registry
            .chat("room", ann(), post(&format!("m{i}")))
            .await
            .unwrap();
    }
    // Created + 11 messages = seq 12; snapshots at 5 and 10 (one per batch at most).
    let stored = log.load("room").await.unwrap();
    let snapshot = stored.snapshot.expect("SQLite keeps snapshots now");
    assert!(snapshot.seq >= 10, "snapshot at {}", snapshot.seq);

    // Remove the events the snapshot covers (but the last two, the recovery window):
    // a start that replayed from the first event would no longer find the context.
    let mut db = database(&dir).await;
    sqlx::query("DELETE FROM events WHERE context_id = 'room' AND seq <= ?")
        .bind(snapshot.seq as i64 - 2)
        .execute(&mut db)
        .await
        .unwrap();
    drop(registry);
    // The actor, stopping, writes the joins it counted (the join that created the
    // room) as event 13; the next node starts after it has.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while log.load("room").await.unwrap().events.last().map(|e| e.seq) != Some(13) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no joins counted at stop"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }

    let registry = ContextRegistry::new(config, log, Bus::memory());
    let texts = texts(&registry, "room").await;
    assert_eq!(texts.len(), 11, "{texts:?}");
    assert_eq!(texts.last().map(String::as_str), Some("m11"));
    let next = registry.chat("room", ann(), post("m12")).await;
    assert!(
        matches!(next, Ok(CommandOutcome::Sent { seq: 14, .. })),
        "{next:?}"
    );
}
