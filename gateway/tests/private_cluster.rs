//! Private chat in cluster mode, against the real Redis on 127.0.0.1:6379 (isolated by
//! key prefix): a user's devices on different nodes, and a conversation whose owner
//! node dies.

mod common;

use std::time::{Duration, Instant};

use common::{cluster::*, *};
use plenary_actors::user::pair_stream_id;
use plenary_client::{
    Client, PRIVATE_STREAM,
    v1::{
        ConnectionActionKind as Action, ErrorCode, PeerStatus, PeerUpdate, Push, UpdateSettings,
        push::Body,
    },
};

fn peer_update(push: &Push) -> Option<PeerUpdate> {
    match &push.body {
        Some(Body::PeerUpdate(u)) if push.context_id == PRIVATE_STREAM => Some(u.clone()),
        _ => None,
    }
}

async fn expect_message(client: &Client, text: &str) {
    expect_push(client, |p| {
        peer_update(p).filter(|u| u.message.as_ref().is_some_and(|m| m.text == text))
    })
    .await;
}

/// Retries a command while the cluster hands a shard over (only UNAVAILABLE, and
/// OUTCOME_UNKNOWN for a command that reached the dying owner, are acceptable
/// meanwhile); returns the result and how many retries it took.
async fn retry<T, F, Fut>(mut call: F) -> (T, u32)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, plenary_client::ClientError>>,
{
    let started = Instant::now();
    let mut retries = 0;
    loop {
        match call().await {
            Ok(ok) => return (ok, retries),
            Err(e) => {
                assert!(
                    matches!(
                        e.server_code(),
                        Some(ErrorCode::Unavailable | ErrorCode::OutcomeUnknown)
                    ),
                    "{e}"
                );
                assert!(started.elapsed() < Duration::from_secs(15), "no recovery");
                retries += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Opens the private stream on every client and connects `a` with `b`.
async fn connect_pair(a: &Client, a_id: &str, b: &Client, b_id: &str, others: &[&Client]) {
    for c in [a, b].iter().chain(others) {
        retry(|| c.private_open()).await;
    }
    retry(|| a.connection(b_id, Action::Request)).await;
    retry(|| b.connection(a_id, Action::Accept)).await;
    expect_push(a, |p| {
        peer_update(p).filter(|u| u.peer.as_ref().unwrap().status == PeerStatus::Connected as i32)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_devices_on_different_nodes_get_messages_and_settings() {
    require_redis().await;
    let prefix = unique_prefix("private-devices");
    let nodes = three_nodes(&prefix).await;
    let laptop = connect(&nodes[0].ws_url, attendee_token("alice")).await;
    let phone = connect(&nodes[1].ws_url, attendee_token("alice")).await;
    let bob = connect(&nodes[2].ws_url, attendee_token("bob")).await;
    // People search across nodes: the directory is in Redis.
    for c in [&laptop, &bob] {
        retry(|| c.join(CTX)).await;
    }
    let found = retry(|| laptop.find_people("bob", 10)).await.0.people;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].user_id.as_str(), found[0].name.as_str()),
        ("bob", "bob Attendee")
    );
    connect_pair(&laptop, "alice", &bob, "bob", &[&phone]).await;

    retry(|| bob.dm_send("alice", "hi from node 3", "b1")).await;
    expect_message(&laptop, "hi from node 3").await;
    expect_message(&phone, "hi from node 3").await;
    // What one device sends, the other device sees too.
    retry(|| laptop.dm_send("bob", "typed on the laptop", "a1")).await;
    expect_message(&bob, "typed on the laptop").await;
    expect_message(&phone, "typed on the laptop").await;

    retry(|| {
        laptop.update_settings(UpdateSettings {
            toast: Some(false),
            ..Default::default()
        })
    })
    .await;
    let settings = expect_push(&phone, |p| match &p.body {
        Some(Body::Settings(s)) => Some(*s),
        _ => None,
    })
    .await;
    assert!(!settings.toast && settings.private_chat);
    drop(nodes);
    redis_cleanup(&prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_survives_the_death_of_its_owner_node() {
    require_redis().await;
    let prefix = unique_prefix("private-failover");
    let (mut nodes, _dirs) = spawn_three(&prefix).await;
    let owner: usize = owner_of(&prefix, &pair_stream_id("carol", "dave")).await[1..]
        .parse()
        .unwrap();
    let (n1, n2) = match owner {
        0 => (1, 2),
        1 => (2, 0),
        _ => (0, 1),
    };
    let carol = connect(&nodes[n1].ws_url, attendee_token("carol")).await;
    let dave = connect(&nodes[n2].ws_url, attendee_token("dave")).await;
    connect_pair(&carol, "carol", &dave, "dave", &[]).await;
    let mut sent = Vec::new();
    for i in 0..10 {
        let (text, id) = (format!("m{i}"), format!("c{i}"));
        let (ok, _) = retry(|| carol.dm_send("dave", &text, &id)).await;
        sent.push(ok.message_id);
    }

    kill(&mut nodes[owner]);
    let (after, retries) = retry(|| carol.dm_send("dave", "after the failover", "c-after")).await;
    assert!(
        retries > 0,
        "the hand-over was not observed; nothing was tested"
    );
    assert_eq!(after.message_id, sent.last().unwrap() + 1, "seq continues");
    sent.push(after.message_id);
    // The retried message is not stored twice.
    let (again, _) = retry(|| carol.dm_send("dave", "after the failover", "c-after")).await;
    assert!(again.duplicate);

    // Every acknowledged message, once, in order — from either side, on any live node.
    for (client, peer) in [(&dave, "carol"), (&carol, "dave")] {
        let (history, _) = retry(|| client.dm_history(peer, 0, 100)).await;
        let ids: Vec<u64> = history.messages.iter().map(|m| m.message_id).collect();
        assert_eq!(ids, sent);
    }
    expect_message(&dave, "after the failover").await;
    // Dave's stream holds the conversation too: a fresh device's snapshot.
    let fresh = connect(&nodes[n1].ws_url, attendee_token("dave")).await;
    let (opened, _) = retry(|| fresh.private_open()).await;
    let peer = opened.snapshot.unwrap().peers.remove(0);
    assert_eq!(peer.last_message.unwrap().text, "after the failover");
    assert_eq!(peer.unread, 11);
    drop(nodes);
    redis_cleanup(&prefix).await;
}
