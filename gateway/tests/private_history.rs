//! Private history longer than a conversation keeps in memory, through real sockets:
//! `dm_history` pages back from the newest message to the very first (the older ones
//! read from the event log), deleted messages stay hidden, and an archived message can
//! no longer be deleted. Embedded mode (SQLite), and a one-node cluster (Redis).

mod common;

use std::collections::BTreeMap;

use common::{cluster::*, *};
use futures_util::{StreamExt, stream};
use plenary_actors::user::pair::DM_WINDOW;
use plenary_client::{
    Client, PRIVATE_STREAM,
    v1::{ConnectionActionKind as Action, ErrorCode, PeerStatus, push::Body},
};

/// Messages in the conversation: more than twice the window, so the oldest are
/// archived.
const TOTAL: usize = 2 * DM_WINDOW + 200;
/// Sends in flight at once per test (under the connection's in-flight limit).
const IN_FLIGHT: usize = 16;

/// Lifts the per-user limits: the test sends well over a thousand messages at once.
fn fast(c: &mut plenary_gateway::Config) {
    c.user_rate = 100_000;
    c.user_burst = 100_000;
    c.direct_messages_per_sec = 100_000;
}

/// Two users on `url` who share a context, connected with each other.
async fn connected(url: &str) -> (Client, Client) {
    let (alice, bob) = (
        connect(url, attendee_token("alice")).await,
        connect(url, attendee_token("bob")).await,
    );
    for c in [&alice, &bob] {
        retrying(|| c.join("webinar")).await;
        retrying(|| c.private_open()).await;
    }
    retrying(|| alice.connection("bob", Action::Request)).await;
    retrying(|| bob.connection("alice", Action::Accept)).await;
    expect_push(&alice, |p| match &p.body {
        Some(Body::PeerUpdate(u))
            if p.context_id == PRIVATE_STREAM
                && u.peer.as_ref().unwrap().status == PeerStatus::Connected as i32 =>
        {
            Some(())
        }
        _ => None,
    })
    .await;
    (alice, bob)
}

/// Sends `m<i>` for every `i` in `range`, by alice or bob (`i % 3 == 0`), several at
/// once; records each message id → its text and sender.
async fn send(
    alice: &Client,
    bob: &Client,
    range: std::ops::Range<usize>,
    sent: &mut BTreeMap<u64, (String, &'static str)>,
) {
    let results: Vec<_> = stream::iter(range)
        .map(|i| async move {
            let (by, from, to) = if i % 3 == 0 {
                (bob, "bob", "alice")
            } else {
                (alice, "alice", "bob")
            };
            let text = format!("m{i}");
            let ok = by.dm_send(to, &text, &format!("c{i}")).await;
            (
                ok.unwrap_or_else(|e| panic!("send {text}: {e}")),
                text,
                from,
            )
        })
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    for (ok, text, from) in results {
        assert!(!ok.duplicate);
        sent.insert(ok.message_id, (text, from));
    }
}

/// Deletes message `i` (by its sender) and forgets it.
async fn delete(
    alice: &Client,
    bob: &Client,
    i: usize,
    sent: &mut BTreeMap<u64, (String, &'static str)>,
) {
    let text = format!("m{i}");
    let (&id, &(_, from)) = sent.iter().find(|(_, (t, _))| *t == text).unwrap();
    let (by, peer) = if from == "bob" {
        (bob, "alice")
    } else {
        (alice, "bob")
    };
    by.dm_delete(peer, id).await.unwrap();
    sent.remove(&id);
}

/// Pages `viewer`'s history back from the newest message by `limit`: the ids and
/// texts, oldest first. Every page is full but the last, and only the last says
/// there is nothing more.
async fn page_back(viewer: &Client, peer: &str, limit: u32) -> Vec<(u64, String)> {
    let (mut all, mut before) = (Vec::new(), 0);
    loop {
        let page = viewer.dm_history(peer, before, limit).await.unwrap();
        if page.has_more {
            assert_eq!(
                page.messages.len(),
                limit as usize,
                "a page before the last is full"
            );
        }
        assert!(page.messages.iter().all(|m| m.peer_id == peer));
        let ids: Vec<(u64, String)> = page
            .messages
            .iter()
            .map(|m| (m.message_id, m.text.clone()))
            .collect();
        all.splice(0..0, ids);
        if !page.has_more {
            return all;
        }
        before = page.messages[0].message_id;
    }
}

/// More private messages than the window, a few deleted, paged back to the first.
async fn history_reaches_back_to_the_first_message(url: &str) {
    let (alice, bob) = connected(url).await;
    let mut sent = BTreeMap::new();
    // Deleted while in memory, archived later.
    send(&alice, &bob, 0..100, &mut sent).await;
    for i in [0, 1, 42, 99] {
        delete(&alice, &bob, i, &mut sent).await;
    }
    send(&alice, &bob, 100..TOTAL, &mut sent).await;
    // Deleted in memory, after the first batch was archived.
    for i in [TOTAL - 300, TOTAL - 1] {
        delete(&alice, &bob, i, &mut sent).await;
    }

    let expected: Vec<(u64, String)> = sent
        .iter()
        .map(|(&id, (text, _))| (id, text.clone()))
        .collect();
    assert_eq!(expected.len(), TOTAL - 6);
    assert_eq!(page_back(&bob, "alice", 100).await, expected, "bob, by 100");
    assert_eq!(page_back(&alice, "bob", 37).await, expected, "alice, by 37");

    // The first message left is archived now: it can be read, no longer deleted.
    let (&first, &(_, from)) = sent.iter().next().unwrap();
    let (by, peer) = if from == "bob" {
        (&bob, "alice")
    } else {
        (&alice, "bob")
    };
    assert_eq!(
        refused(by.dm_delete(peer, first)).await,
        ErrorCode::Archived
    );
    // A page that starts in the archive ends at the first message.
    let fourth = expected[3].0;
    let page = bob.dm_history("alice", fourth, 100).await.unwrap();
    let shown: Vec<(u64, String)> = page
        .messages
        .iter()
        .map(|m| (m.message_id, m.text.clone()))
        .collect();
    assert_eq!(shown, expected[..3]);
    assert!(!page.has_more);
}

#[tokio::test]
async fn embedded_history_pages_back_past_the_window_to_the_first_message() {
    let server = start(fast).await;
    history_reaches_back_to_the_first_message(&server.ws_url).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_history_pages_back_past_the_window_to_the_first_message() {
    require_redis().await;
    let prefix = unique_prefix("private-history");
    let node = start_node(&prefix, "n1", fast).await;
    settle(&prefix, &[&node.ws_url]).await;
    history_reaches_back_to_the_first_message(&node.ws_url).await;
    node.stop().await;
    redis_cleanup(&prefix).await;
}
