//! Leases and fencing against the real Redis on 127.0.0.1:6379 (isolated by prefix).

use std::time::Duration;

use plenary_bus::{
    BusError,
    redis::{ClusterConfig, Ownership, RedisLog, connect, shard_of},
};
use plenary_proto::v1::events::{ContextEvent, MessagePosted, context_event::Kind};

fn config(prefix: &str, node: &str) -> ClusterConfig {
    ClusterConfig {
        redis_url: "redis://127.0.0.1:6379/".into(),
        prefix: prefix.into(),
        node_id: node.into(),
        shards: 1,
        lease_ttl: Duration::from_millis(600),
        forward_timeout: Duration::from_secs(2),
        stream_cap: 1_000,
        snapshot_every: 100,
    }
}

fn event(seq: u64) -> ContextEvent {
    ContextEvent {
        context_id: "c".into(),
        epoch: 9,
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

async fn cleanup(prefix: &str) {
    plenary_bus::redis::delete_keys_of("redis://127.0.0.1:6379/", prefix)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_stale_owner_is_refused_when_it_appends() {
    let prefix = format!(
        "plenary-test-fence-{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    );
    let (_, conn_a) = connect(&config(&prefix, "a"))
        .await
        .expect("needs Redis on 127.0.0.1:6379: start redis-server");
    let (_, conn_b) = connect(&config(&prefix, "b")).await.unwrap();
    let a = Ownership::new(&config(&prefix, "a"), conn_a.clone());
    let log_a = RedisLog::new(&config(&prefix, "a"), conn_a);
    let log_b = RedisLog::new(&config(&prefix, "b"), conn_b.clone());
    assert_eq!(shard_of("c", 1), 0);

    // A owns the only shard and appends.
    a.tick().await.unwrap();
    let fence_a = a.fence_for(0).expect("a single node owns every shard");
    log_a.append("c", 9, &[event(1)], &fence_a).await.unwrap();

    // A stops renewing (a paused process): its lease lapses and B takes the shard.
    a.pause_renewal(true);
    a.tick().await.unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    let b = Ownership::new(&config(&prefix, "b"), conn_b);
    b.tick().await.unwrap();
    let fence_b = b.fence_for(0).expect("b takes over the lapsed shard");
    assert_ne!(fence_a, fence_b);

    // The old owner's append is refused; the new owner's goes through.
    match log_a.append("c", 9, &[event(2)], &fence_a).await {
        Err(BusError::Fenced(_)) => {}
        other => panic!("the stale owner was not fenced off: {other:?}"),
    }
    log_b.append("c", 9, &[event(2)], &fence_b).await.unwrap();
    let loaded = log_b.load::<ContextEvent>("c").await.unwrap();
    assert_eq!(
        loaded.events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert_eq!(loaded.epoch, Some(9));

    // Even with nobody holding the lease, a lapsed owner cannot write.
    b.leave().await;
    assert!(matches!(
        log_a.append("c", 9, &[event(3)], &fence_a).await,
        Err(BusError::Fenced(_))
    ));
    cleanup(&prefix).await;
}

#[tokio::test]
async fn snapshots_are_fenced_and_only_move_forward() {
    let prefix = format!(
        "plenary-test-snap-{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    );
    let (_, conn) = connect(&config(&prefix, "a"))
        .await
        .expect("needs Redis on 127.0.0.1:6379: start redis-server");
    let a = Ownership::new(&config(&prefix, "a"), conn.clone());
    let log = RedisLog::new(&config(&prefix, "a"), conn);
    a.tick().await.unwrap();
    let fence = a.fence_for(0).unwrap();
    log.append("c", 9, &[event(1), event(2), event(3)], &fence)
        .await
        .unwrap();
    log.store_snapshot("c", 3, b"state-3", &fence)
        .await
        .unwrap();
    log.store_snapshot("c", 2, b"older", &fence).await.unwrap();
    let loaded = log.load::<ContextEvent>("c").await.unwrap();
    let snapshot = loaded.snapshot.unwrap();
    assert_eq!(
        (snapshot.seq, snapshot.state.as_slice()),
        (3, b"state-3".as_slice())
    );
    let stale = plenary_bus::redis::Fence {
        shard: 0,
        token: "a:999".into(),
    };
    assert!(matches!(
        log.store_snapshot("c", 4, b"x", &stale).await,
        Err(BusError::Fenced(_))
    ));
    cleanup(&prefix).await;
}
