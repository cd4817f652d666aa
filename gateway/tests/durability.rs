//! Crash and restart: `kill -9` loses nothing acknowledged, reconnecting clients
//! recover exactly what they missed, SIGTERM drains with 1012 and exits 0.

mod common;

use std::{collections::HashSet, time::Duration};

use common::*;
use plenary_client::v1::{ErrorCode, Position, push::Body};

const CTX: &str = "durable";

fn message_id(push: &plenary_client::v1::Push) -> Option<u64> {
    match &push.body {
        Some(Body::Message(m)) => Some(m.id),
        _ => None,
    }
}

#[tokio::test]
async fn kill_9_then_restart_keeps_everything_and_clients_recover() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = spawn_process(dir.path(), None).await;
    let ports = node.ports;

    let alice = connect(&node.ws_url, attendee_token("alice")).await;
    let moderator = connect(&node.ws_url, moderator_token("mod", CTX)).await;
    let mut steady = connect(&node.ws_url, attendee_token("steady")).await;
    let offline = connect(&node.ws_url, attendee_token("offline")).await;
    alice.join(CTX).await.unwrap();
    moderator.join(CTX).await.unwrap();
    steady.join(CTX).await.unwrap();
    let epoch = offline.join(CTX).await.unwrap().epoch;

    let mut ids = send_many(&alice, CTX, 0..10).await;
    // `offline` saw the first ten messages, then drops off.
    let mut last_seen = 0;
    while let Some(push) = tokio::time::timeout(Duration::from_secs(5), offline.next_push())
        .await
        .unwrap()
    {
        if message_id(&push) == Some(ids[9]) {
            last_seen = push.seq;
            break;
        }
    }
    offline.close().await;

    ids.extend(send_many(&alice, CTX, 10..20).await);
    moderator.like(CTX, ids[0]).await.unwrap();
    moderator.pin(CTX, ids[1]).await.unwrap();
    moderator.block(CTX, "bob").await.unwrap();

    // Everything above was acknowledged. Now the node dies without a chance to flush.
    node.child.kill().unwrap();
    node.child.wait().unwrap();
    drop(node);
    let node = spawn_process(dir.path(), Some(ports)).await;

    // History, likes, pins and blocks are intact.
    let fresh = connect(&node.ws_url, attendee_token("fresh")).await;
    let joined = fresh.join(CTX).await.unwrap();
    assert_eq!(joined.epoch, epoch, "same log, same epoch");
    let snapshot = joined.snapshot.unwrap();
    assert_eq!(
        snapshot.messages.iter().map(|m| m.id).collect::<Vec<_>>(),
        ids
    );
    assert_eq!(snapshot.messages[0].like_count, 1);
    assert_eq!(
        snapshot.pinned.iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![ids[1]]
    );
    let bob = connect(&node.ws_url, attendee_token("bob")).await;
    bob.join(CTX).await.unwrap();
    assert_eq!(
        refused(bob.send(CTX, "hi", "", 0)).await,
        ErrorCode::Blocked
    );
    let moderator = connect(&node.ws_url, moderator_token("mod", CTX)).await;
    let mod_snapshot = moderator.join(CTX).await.unwrap().snapshot.unwrap();
    assert_eq!(
        mod_snapshot
            .blocked_users
            .iter()
            .map(|b| b.user_id.as_str())
            .collect::<Vec<_>>(),
        ["bob"]
    );
    // A resend of an acknowledged message is still recognised after the crash.
    assert!(alice_resend_is_duplicate(&node.ws_url, &ids).await);

    // The client that dropped off recovers exactly what it missed: no loss, no duplicate.
    let back = connect(&node.ws_url, attendee_token("offline")).await;
    let recovered = back
        .join_since(
            CTX,
            Position {
                epoch,
                seq: last_seen,
            },
        )
        .await
        .unwrap();
    assert!(recovered.recovered);
    let missed: Vec<u64> = recovered.missed.iter().filter_map(message_id).collect();
    assert_eq!(missed, ids[10..].to_vec());
    assert!(recovered.missed.iter().all(|p| p.seq > last_seen));
    assert!(
        recovered
            .missed
            .iter()
            .any(|p| matches!(&p.body, Some(Body::Pinned(m)) if m.id == ids[1]))
    );
    assert!(
        !recovered
            .missed
            .iter()
            .any(|p| matches!(p.body, Some(Body::Blocked(_)))),
        "attendees never see moderator-only events, not even in recovery"
    );

    // The client that was connected through the crash reconnects on its own and ends
    // up with every message exactly once.
    let rejoined = steady.reconnect().await.unwrap();
    assert!(rejoined.iter().all(|j| j.recovered), "{rejoined:?}");
    let mut seen = Vec::new();
    while let Ok(Some(push)) =
        tokio::time::timeout(Duration::from_millis(500), steady.next_push()).await
    {
        if let Some(id) = message_id(&push) {
            seen.push(id);
        }
    }
    let unique: HashSet<u64> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "duplicates in {seen:?}");
    assert_eq!(seen, ids);

    // A position from another epoch gets a fresh snapshot instead.
    let stale = connect(&node.ws_url, attendee_token("stale")).await;
    let j = stale
        .join_since(
            CTX,
            Position {
                epoch: epoch + 1,
                seq: 3,
            },
        )
        .await
        .unwrap();
    assert!(!j.recovered);
    assert_eq!(j.snapshot.unwrap().messages.len(), ids.len());
}

async fn alice_resend_is_duplicate(url: &str, ids: &[u64]) -> bool {
    let alice = connect(url, attendee_token("alice")).await;
    alice.join(CTX).await.unwrap();
    let again = alice.send(CTX, "m3", "c3", 0).await.unwrap();
    again.duplicate && again.message_id == ids[3]
}

#[tokio::test]
async fn too_far_behind_gets_a_snapshot() {
    let server = start(|c| c.recovery_window = 5).await;
    let alice = connect(&server.ws_url, attendee_token("alice")).await;
    let epoch = alice.join(CTX).await.unwrap().epoch;
    for i in 0..10 {
        alice.send(CTX, &format!("m{i}"), "", 0).await.unwrap();
    }
    let late = connect(&server.ws_url, attendee_token("late")).await;
    let j = late
        .join_since(CTX, Position { epoch, seq: 1 })
        .await
        .unwrap();
    assert!(!j.recovered);
    assert!(j.missed.is_empty());
    assert_eq!(j.snapshot.unwrap().messages.len(), 10);
    // Within the window: recovered.
    let j = late
        .join_since(
            CTX,
            Position {
                epoch,
                seq: j.seq - 2,
            },
        )
        .await
        .unwrap();
    assert!(j.recovered);
    assert_eq!(j.missed.len(), 2);
    server.stop().await;
}

#[tokio::test]
async fn sigterm_closes_clients_with_1012_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = spawn_process(dir.path(), None).await;
    let client = connect(&node.ws_url, attendee_token("alice")).await;
    client.join(CTX).await.unwrap();
    let pid = node.child.id().to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(status.success());

    let mut code = None;
    for _ in 0..100 {
        if let Some(info) = client.close_info() {
            code = Some(info.code);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(code, Some(1012));
    let mut exit = None;
    for _ in 0..200 {
        if let Some(status) = node.child.try_wait().unwrap() {
            exit = Some(status);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let exit = exit.expect("plenary did not exit within 10 s of SIGTERM");
    assert_eq!(exit.code(), Some(0), "{exit:?}");
}
