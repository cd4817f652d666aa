//! Subscriptions against the real Redis on 127.0.0.1:6379 (isolated by prefix).

use std::{sync::Arc, time::Duration};

use plenary_bus::{
    Channel,
    redis::{ClusterConfig, Keys, RedisBus, connect},
};

/// One node's cluster settings, its keys under `prefix`.
fn config(prefix: &str) -> ClusterConfig {
    ClusterConfig {
        redis_url: "redis://127.0.0.1:6379/".into(),
        prefix: prefix.to_owned(),
        node_id: "n1".into(),
        shards: 4,
        lease_ttl: Duration::from_secs(3),
        forward_timeout: Duration::from_secs(1),
        stream_cap: 1_000,
        snapshot_every: 100,
    }
}

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
    let config = config(&prefix);
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

#[tokio::test]
async fn a_published_push_carries_its_client_frames_encoded_once() {
    use futures_util::StreamExt as _;
    use plenary_proto::{
        v1::{ChatMessage, Push, ServerFrame, internal::BusPush, push::Body, server_frame},
        wire,
    };
    use prost::Message as _;

    let prefix = format!("plenary-test-frames-{}", std::process::id());
    let config = config(&prefix);
    let (source, publisher) = connect(&config).await.expect("Redis on 127.0.0.1:6379");
    let bus = RedisBus::start(&config, source, publisher);
    let channel = Channel::ContextPublic(Arc::from("c1"));
    let name = Keys::new(&prefix, config.shards).channel(&channel);
    let client = redis::Client::open("redis://127.0.0.1:6379/").unwrap();
    let mut pubsub = client
        .get_async_pubsub()
        .await
        .expect("Redis must run on 127.0.0.1:6379 (start redis-server)");
    pubsub.subscribe(&name).await.unwrap();
    let mut messages = pubsub.on_message();

    let push = Push {
        context_id: "c1".into(),
        epoch: 7,
        seq: 3,
        body: Some(Body::Message(ChatMessage {
            id: 3,
            text: "hello".into(),
            ..Default::default()
        })),
    };
    for announce in [false, true] {
        let sent = BusPush {
            push: Some(push.clone()),
            prev_seq: 2,
            announce,
            ..Default::default()
        };
        bus.publish(&channel, sent).await;
        let message = tokio::time::timeout(Duration::from_secs(5), messages.next())
            .await
            .expect("the push arrives")
            .unwrap();
        let got = BusPush::decode(message.get_payload_bytes()).unwrap();
        assert_eq!((got.push.as_ref(), got.prev_seq), (Some(&push), 2));
        if announce {
            assert!(got.frame_json.is_empty() && got.frame_proto.is_empty());
            continue;
        }
        let (json, proto) = wire::push_frames(&push);
        assert_eq!(got.frame_json, json.to_vec());
        assert_eq!(got.frame_proto, proto.to_vec());
        // Whole frames: header (a final text frame, 7- or 16-bit length), then the
        // server frame a client decodes.
        assert_eq!(got.frame_json[0], 0x81);
        let start = if got.frame_json[1] == 126 { 4 } else { 2 };
        let decoded: ServerFrame =
            wire::decode_json(std::str::from_utf8(&got.frame_json[start..]).unwrap()).unwrap();
        assert_eq!(decoded.frame, Some(server_frame::Frame::Push(push.clone())));
        assert_eq!(got.frame_proto[0], 0x82);
    }
}
