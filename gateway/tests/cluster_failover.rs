//! The owner of a context is killed while a sender has commands in flight through
//! another node: every client that stays connected must end with every acknowledged
//! message exactly once, and a command whose outcome the cluster could not know must
//! not be answered as if it had not taken effect.
//!
//! Against the real Redis on 127.0.0.1:6379, with node processes (`kill -9`).

mod common;

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use common::{cluster::*, *};
use futures_util::StreamExt;
use plenary_client::{Client, ClientError, v1::ErrorCode, v1::push::Body};
use tokio::sync::Notify;

/// Rounds, each on a fresh cluster: before the fix, 5 of 6 such runs lost messages.
const ROUNDS: usize = 5;
const MESSAGES: usize = 64;
const IN_FLIGHT: usize = 16;
/// The owner is killed once this many sends were acknowledged.
const KILL_AFTER: usize = 20;
const GIVE_UP: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owner_killed_with_sends_in_flight_every_receiver_gets_every_acknowledged_message_once() {
    require_redis().await;
    for round in 0..ROUNDS {
        one_round(round).await;
    }
}

/// How one send ended, after its retries.
struct Sent {
    message_id: u64,
    duplicate: bool,
    /// Errors of the attempts before the one that was answered.
    errors: Vec<ClientError>,
}

async fn one_round(round: usize) {
    let prefix = unique_prefix(&format!("gap{round}"));
    let (mut nodes, _dirs) = spawn_three(&prefix).await;
    let owner: usize = owner_of(&prefix, CTX).await[1..].parse().unwrap();
    let survivors: Vec<usize> = (0..3).filter(|&n| n != owner).collect();
    let mut receivers = Vec::new();
    for (i, &node) in survivors.iter().cycle().take(4).enumerate() {
        let c = connect(&nodes[node].ws_url, attendee_token(&format!("r{i}"))).await;
        c.join(CTX).await.unwrap();
        receivers.push(c);
    }
    let sender = connect(&nodes[survivors[0]].ws_url, moderator_token("sender", CTX)).await;
    sender.join(CTX).await.unwrap();

    let acknowledged = Arc::new(AtomicUsize::new(0));
    let kill_now = Arc::new(Notify::new());
    let sends = futures_util::stream::iter(0..MESSAGES)
        .map(|i| {
            let (sender, acknowledged, kill_now) =
                (&sender, acknowledged.clone(), kill_now.clone());
            async move {
                let sent = send_until_acknowledged(sender, i).await;
                if acknowledged.fetch_add(1, Ordering::SeqCst) + 1 == KILL_AFTER {
                    kill_now.notify_one();
                }
                sent
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect::<Vec<Sent>>();
    let killer = async {
        kill_now.notified().await;
        kill(&mut nodes[owner]);
    };
    let (sent, ()) = tokio::join!(sends, killer);

    // A retry that finds the first attempt stored must follow an answer that said the
    // outcome was unknown, never one that said it did not take effect.
    for s in &sent {
        for e in &s.errors {
            assert!(
                e.is_retryable() || matches!(e, ClientError::Timeout(_)),
                "round {round}: unexpected error {e}"
            );
        }
        if s.duplicate {
            assert!(
                s.errors.iter().any(|e| {
                    e.server_code() == Some(ErrorCode::OutcomeUnknown)
                        || matches!(e, ClientError::Timeout(_))
                }),
                "round {round}: message {} was stored by an attempt answered only with {:?}",
                s.message_id,
                s.errors.iter().map(ToString::to_string).collect::<Vec<_>>()
            );
        }
    }
    let mut expected: Vec<u64> = sent.iter().map(|s| s.message_id).collect();
    expected.sort_unstable();
    expected.dedup();
    assert_eq!(
        expected.len(),
        MESSAGES,
        "round {round}: one id per message"
    );

    for (i, receiver) in receivers.iter().enumerate() {
        let got = messages_until(receiver, &expected).await;
        let twice: Vec<_> = got.iter().filter(|(_, n)| **n > 1).collect();
        assert!(
            twice.is_empty(),
            "round {round}: receiver {i} got {twice:?} more than once"
        );
        let missing: Vec<_> = expected.iter().filter(|id| !got.contains_key(id)).collect();
        assert!(
            missing.is_empty(),
            "round {round}: receiver {i} never got {missing:?} (of {})",
            expected.len()
        );
    }
    drop(nodes);
    redis_cleanup(&prefix).await;
}

/// Sends message `i`, retrying what the protocol says to retry with the same
/// `client_msg_id`.
async fn send_until_acknowledged(sender: &Client, i: usize) -> Sent {
    let started = tokio::time::Instant::now();
    let mut errors = Vec::new();
    loop {
        match sender
            .send(CTX, &format!("m{i}"), &format!("c{i}"), 0)
            .await
        {
            Ok(ok) => {
                return Sent {
                    message_id: ok.message_id,
                    duplicate: ok.duplicate,
                    errors,
                };
            }
            Err(e) if e.is_retryable() || matches!(e, ClientError::Timeout(_)) => {
                let wait = e.retry_after().unwrap_or(Duration::from_millis(100));
                errors.push(e);
                tokio::time::sleep(wait).await;
            }
            Err(e) => panic!("send m{i}: {e}"),
        }
        assert!(started.elapsed() < GIVE_UP, "m{i} never acknowledged");
    }
}

/// The chat messages a receiver gets (id → how often) until it has every one of
/// `expected`, or `GIVE_UP` passes.
async fn messages_until(receiver: &Client, expected: &[u64]) -> HashMap<u64, usize> {
    let mut got: HashMap<u64, usize> = HashMap::new();
    let deadline = tokio::time::Instant::now() + GIVE_UP;
    while !expected.iter().all(|id| got.contains_key(id)) {
        let Ok(push) = tokio::time::timeout_at(deadline, receiver.next_push()).await else {
            break;
        };
        let push = push.expect("the receiver's connection stays up");
        match push.body {
            Some(Body::Message(m)) => *got.entry(m.id).or_default() += 1,
            Some(Body::Resync(_)) => panic!("a gap the client could not recover: {push:?}"),
            _ => {}
        }
    }
    // Anything more that is already on its way would be a duplicate.
    while let Ok(Some(push)) =
        tokio::time::timeout(Duration::from_millis(300), receiver.next_push()).await
    {
        if let Some(Body::Message(m)) = push.body {
            *got.entry(m.id).or_default() += 1;
        }
    }
    got
}
