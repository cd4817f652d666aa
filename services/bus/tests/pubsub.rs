//! Subscriptions against the real Redis on 127.0.0.1:6379 (isolated by prefix).

use std::{sync::Arc, time::Duration};

use plenary_bus::{
    Channel,
    redis::{ClusterConfig, Keys, RedisBus, connect},
};

async fn subscribers(names: &[String]) -> Vec<u64> {
    let client = redis::Client::open("redis://127.0.0.1:6379/").unwrap();
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("Redis must run on 127.0.0.1:6379 (start redis-server)");
    let counts: Vec<(String, u64)> = redis::cmd("PUBSUB")
        .arg("NUMSUB")
        .arg(names)
        .query_async(&mut conn)
        .await
        .unwrap();
    counts.into_iter().map(|(_, n)| n).collect()
}

// One thread: the releases below all happen before the subscriber task runs again, as
// when thousands of sockets close at once on a busy node.
#[tokio::test(flavor = "current_thread")]
async fn a_mass_release_leaves_no_subscription_behind() {
    let prefix = format!("plenary-test-release-{}", std::process::id());
    let config = ClusterConfig {
        redis_url: "redis://127.0.0.1:6379/".into(),
        prefix: prefix.clone(),
        node_id: "n1".into(),
        shards: 4,
        lease_ttl: Duration::from_secs(3),
        forward_timeout: Duration::from_secs(1),
        stream_cap: 1_000,
        snapshot_every: 100,
    };
    let (source, publisher) = connect(&config).await.expect("Redis on 127.0.0.1:6379");
    let bus = RedisBus::start(&config, source, publisher);
    // More channels than the subscriber's command queue holds (4,096).
    let channels: Vec<Channel> = (0..6_000)
        .map(|i| Channel::ContextPublic(Arc::from(format!("c{i}"))))
        .collect();
    bus.acquire(&channels).await.unwrap();
    let keys = Keys::new(&prefix, config.shards);
    let names: Vec<String> = channels.iter().map(|c| keys.channel(c)).collect();
    assert!(subscribers(&names[..10]).await.iter().all(|&n| n == 1));

    for channel in &channels {
        bus.release(std::slice::from_ref(channel));
    }

    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let left = subscribers(&names).await.iter().filter(|&&n| n > 0).count();
        if left == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{left} of {} subscriptions leaked after their last listener left",
            names.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
