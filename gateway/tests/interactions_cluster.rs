//! Votes across a three-node cluster (the real Redis on 127.0.0.1:6379): counted
//! exactly, every client converges on the final tally, and a killed owner loses no
//! acknowledged vote and counts none twice.

mod common;

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use common::{cluster::*, *};
use futures_util::StreamExt;
use plenary_client::{
    Client, ClientError,
    v1::{
        InteractionActionKind, InteractionSpec, PollSpec, Tally, interaction_spec::Kind, push::Body,
    },
};
use tokio::sync::Notify;

const GIVE_UP: Duration = Duration::from_secs(30);

fn shared_poll(options: usize) -> InteractionSpec {
    InteractionSpec {
        kind: Some(Kind::Poll(PollSpec {
            question: "Which?".into(),
            options: (0..options).map(|i| format!("option {i}")).collect(),
            share_results: true,
            multiple_answers: false,
        })),
    }
}

/// Saves and publishes a shared poll, retrying while shards settle.
async fn publish(moderator: &Client) -> u64 {
    let id = retrying(|| moderator.save_interaction(CTX, 0, shared_poll(4)))
        .await
        .interaction_id;
    retrying(|| moderator.interaction_action(CTX, id, InteractionActionKind::Publish)).await;
    id
}

/// Votes until acknowledged, with the same client vote id, as the protocol says;
/// returns how many attempts were refused on the way.
async fn vote_until_acknowledged(voter: &Client, id: u64, i: usize) -> usize {
    let started = tokio::time::Instant::now();
    let mut refused = 0;
    loop {
        match voter
            .vote(CTX, id, &format!("v{i}"), &[(i % 4) as u32])
            .await
        {
            Ok(_) => return refused,
            Err(e) if e.is_retryable() || matches!(e, ClientError::Timeout(_)) => {
                refused += 1;
                tokio::time::sleep(e.retry_after().unwrap_or(Duration::from_millis(100))).await;
            }
            Err(e) => panic!("vote {i}: {e}"),
        }
        assert!(started.elapsed() < GIVE_UP, "vote {i} never acknowledged");
    }
}

/// Waits until `client` has seen a tally of `id` with `voters` voters; returns it.
async fn tally_reaching(client: &Client, id: u64, voters: u32) -> Tally {
    let deadline = tokio::time::Instant::now() + GIVE_UP;
    loop {
        let push = tokio::time::timeout_at(deadline, client.next_push())
            .await
            .unwrap_or_else(|_| panic!("no tally with {voters} voters in time"))
            .expect("the connection stays up");
        if let Some(Body::Tallies(t)) = push.body
            && let Some(tally) = t.tallies.into_iter().find(|t| t.interaction_id == id)
            && tally.voters >= voters
        {
            return tally;
        }
    }
}

/// The poll's tally in a fresh moderator's snapshot, from `url`.
async fn tally_in_snapshot(url: &str, id: u64) -> Tally {
    let reader = connect(url, moderator_token("reader", CTX)).await;
    let joined = retrying(|| reader.join(CTX)).await;
    joined
        .snapshot
        .unwrap()
        .interactions
        .into_iter()
        .find(|i| i.id == id)
        .and_then(|i| i.tally)
        .expect("the poll and its tally")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_votes_over_three_nodes_count_exactly_and_everyone_converges() {
    require_redis().await;
    let prefix = unique_prefix("votes");
    let nodes = three_nodes(&prefix).await;
    let refs: Vec<&TestServer> = nodes.iter().collect();
    let voters = attendees_in_ctx(&refs, 200).await;
    let moderator = connect(&nodes[0].ws_url, moderator_token("m1", CTX)).await;
    retrying(|| moderator.join(CTX)).await;
    let id = publish(&moderator).await;

    // Everyone at once.
    futures_util::stream::iter(voters.iter().enumerate())
        .for_each_concurrent(None, |(i, voter)| async move {
            vote_until_acknowledged(voter, id, i).await;
        })
        .await;
    for voter in &voters {
        let tally = tally_reaching(voter, id, 200).await;
        assert_eq!(tally.voters, 200);
        assert_eq!(tally.counts, [50, 50, 50, 50]);
    }
    let tally = tally_in_snapshot(&nodes[2].ws_url, id).await;
    assert_eq!((tally.voters, tally.counts), (200, vec![50, 50, 50, 50]));
    redis_cleanup(&prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_killed_during_voting_loses_no_acknowledged_vote_and_counts_none_twice() {
    require_redis().await;
    const VOTERS: usize = 80;
    const KILL_AFTER: usize = 25;
    let prefix = unique_prefix("votekill");
    let (mut nodes, _dirs) = spawn_three(&prefix).await;
    let owner: usize = owner_of(&prefix, CTX).await[1..].parse().unwrap();
    let survivors: Vec<usize> = (0..3).filter(|&n| n != owner).collect();
    let mut voters = Vec::new();
    for (i, &node) in survivors.iter().cycle().take(VOTERS).enumerate() {
        let c = connect(&nodes[node].ws_url, attendee_token(&format!("v{i}"))).await;
        retrying(|| c.join(CTX)).await;
        voters.push(c);
    }
    let moderator = connect(&nodes[survivors[0]].ws_url, moderator_token("m1", CTX)).await;
    retrying(|| moderator.join(CTX)).await;
    let id = publish(&moderator).await;

    let acknowledged = Arc::new(AtomicUsize::new(0));
    let refused = Arc::new(AtomicUsize::new(0));
    let kill_now = Arc::new(Notify::new());
    let votes = futures_util::stream::iter(voters.iter().enumerate()).for_each_concurrent(
        16,
        |(i, voter)| {
            let (acknowledged, refused, kill_now) =
                (acknowledged.clone(), refused.clone(), kill_now.clone());
            async move {
                let attempts = vote_until_acknowledged(voter, id, i).await;
                refused.fetch_add(attempts, Ordering::SeqCst);
                if acknowledged.fetch_add(1, Ordering::SeqCst) + 1 == KILL_AFTER {
                    kill_now.notify_one();
                }
            }
        },
    );
    let killer = async {
        kill_now.notified().await;
        kill(&mut nodes[owner]);
    };
    tokio::join!(votes, killer);
    assert_eq!(acknowledged.load(Ordering::SeqCst), VOTERS);
    assert!(
        refused.load(Ordering::SeqCst) > 0,
        "the owner died while votes were in flight: some were refused and retried"
    );

    // Every voter's vote is in the tally once: no more, no fewer.
    let tally = tally_in_snapshot(&nodes[survivors[1]].ws_url, id).await;
    assert_eq!(tally.voters as usize, VOTERS, "{tally:?}");
    assert_eq!(tally.counts, [20, 20, 20, 20], "{tally:?}");
    // A voter retrying now is told it voted (the same vote), not counted again.
    let again = voters[0].vote(CTX, id, "v0", &[0]).await.unwrap();
    assert!(again.duplicate);
    drop(nodes);
    redis_cleanup(&prefix).await;
}
