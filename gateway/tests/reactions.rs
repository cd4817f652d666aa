//! Reactions through real sockets: counted per window, pushed as one summary to
//! everyone, never one push per click, and never taken for an event.

mod common;

use std::{collections::BTreeMap, time::Duration};

use common::*;
use plenary_client::v1::{ErrorCode, Push, Reaction, Reactions, client_frame::Command, push::Body};

fn reactions(p: &Push) -> Option<Reactions> {
    match &p.body {
        Some(Body::Reactions(r)) => {
            assert_eq!(p.seq, 0, "reactions are not an event: {p:?}");
            Some(r.clone())
        }
        _ => None,
    }
}

/// Sums `Reactions` pushes until the counts reach `want` (reaction → count, crowd
/// ones negative-keyed), returning how many pushes it took.
async fn pushes_until(client: &plenary_client::Client, want: &BTreeMap<(bool, i32), u32>) -> usize {
    let mut got = BTreeMap::new();
    let mut pushes = 0;
    while &got != want {
        let r = expect_push(client, reactions).await;
        pushes += 1;
        assert!(r.window_ms > 0, "{r:?}");
        for c in &r.counts {
            *got.entry((false, c.reaction)).or_insert(0) += c.count;
        }
        for c in &r.crowd {
            *got.entry((true, c.reaction)).or_insert(0) += c.count;
        }
        assert!(
            got.iter().all(|(k, n)| want.get(k).is_some_and(|w| n <= w)),
            "more than was sent: {got:?}"
        );
    }
    pushes
}

#[tokio::test]
async fn reactions_reach_everyone_as_counts_per_window() {
    const CTX: &str = "reactions";
    let server = start(|_| {}).await;
    let m = connect(&server.ws_url, moderator_token("m1", CTX)).await;
    let alice = connect(&server.ws_url, attendee_token("alice")).await;
    let bob = connect(&server.ws_url, attendee_token("bob")).await;
    for c in [&m, &alice, &bob] {
        c.join(CTX).await.unwrap();
    }

    // Refused: not joined, not one of the five, a crowd reaction from an attendee.
    assert_eq!(
        refused(alice.react("elsewhere", Reaction::Clap, false)).await,
        ErrorCode::NotJoined
    );
    let odd = alice.request(Command::React(plenary_client::v1::React {
        context_id: CTX.into(),
        reaction: 9,
        crowd: false,
    }));
    assert_eq!(refused(odd).await, ErrorCode::BadRequest);
    assert_eq!(
        refused(alice.react(CTX, Reaction::Heart, true)).await,
        ErrorCode::Forbidden
    );

    // Seven clicks and a crowd reaction.
    for _ in 0..3 {
        alice.react(CTX, Reaction::Clap, false).await.unwrap();
    }
    alice.react(CTX, Reaction::Heart, false).await.unwrap();
    for _ in 0..2 {
        bob.react(CTX, Reaction::Clap, false).await.unwrap();
    }
    bob.react(CTX, Reaction::Wow, false).await.unwrap();
    m.react(CTX, Reaction::Wow, true).await.unwrap();
    let want = BTreeMap::from([
        ((false, Reaction::Clap as i32), 5),
        ((false, Reaction::Heart as i32), 1),
        ((false, Reaction::Wow as i32), 1),
        ((true, Reaction::Wow as i32), 1),
    ]);
    for client in [&m, &alice, &bob] {
        let pushes = pushes_until(client, &want).await;
        // Sent within a few ms: one window, two if a report boundary fell between.
        assert!(pushes <= 3, "{pushes} pushes for 8 reactions");
    }
    // Nothing more comes: a window with no reactions is not pushed.
    expect_no_push(&alice, Duration::from_millis(700), |p| {
        reactions(p).is_some()
    })
    .await;

    // Reactions are no position: events after them are delivered and recovered as
    // before.
    let before = alice.position(CTX).unwrap();
    let sent = m.send(CTX, "after the applause", "c1", 0).await.unwrap();
    let message = expect_push(&bob, |p| match &p.body {
        Some(Body::Message(msg)) => Some((p.seq, msg.id)),
        _ => None,
    })
    .await;
    assert_eq!(message, (sent.seq, sent.message_id));
    expect_push(&alice, |p| {
        matches!(&p.body, Some(Body::Message(_))).then_some(())
    })
    .await;
    assert_eq!(alice.position(CTX).unwrap().seq, sent.seq);
    let carol = connect(&server.ws_url, attendee_token("carol")).await;
    let replay = carol.join_since(CTX, before).await.unwrap();
    assert!(replay.recovered);
    assert!(
        replay
            .missed
            .iter()
            .all(|p| p.seq != 0 && !matches!(p.body, Some(Body::Reactions(_)))),
        "{:?}",
        replay.missed
    );
    assert_eq!(replay.missed.len(), 1, "the message, nothing else");
}

/// A context whose actor passivated while its attendees stayed joined still gets their
/// reactions: a click starts it again, like any command.
#[tokio::test]
async fn reactions_reach_a_context_that_passivated_while_attendees_stayed() {
    const CTX: &str = "reactions-passivated";
    let server = start(|c| c.context_passivate_secs = 1).await;
    let alice = connect(&server.ws_url, attendee_token("alice")).await;
    let bob = connect(&server.ws_url, attendee_token("bob")).await;
    for c in [&alice, &bob] {
        c.join(CTX).await.unwrap();
    }
    // Idle for longer than the passivation time (nothing asks the actor meanwhile:
    // attendee counts alone never start or keep one).
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    alice.react(CTX, Reaction::Laugh, false).await.unwrap();
    let want = BTreeMap::from([((false, Reaction::Laugh as i32), 1)]);
    assert_eq!(pushes_until(&bob, &want).await, 1);
}
