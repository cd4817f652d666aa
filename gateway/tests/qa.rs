//! The moderated Q&A queue through real sockets.

mod common;

use std::{collections::BTreeMap, time::Duration};

use common::*;
use plenary_client::v1::{
    ErrorCode, Position, QaThread, ThreadActionKind, ThreadState, push::Body,
};

fn thread_push(p: &plenary_client::v1::Push) -> Option<QaThread> {
    match &p.body {
        Some(Body::Thread(t)) => Some(t.clone()),
        _ => None,
    }
}

fn state(t: &QaThread) -> ThreadState {
    ThreadState::try_from(t.state).unwrap()
}

#[tokio::test]
async fn thread_life_cycle_single_thread() {
    const CTX: &str = "qa-single";
    let server = start(|_| {}).await;
    let alice = connect(&server.ws_url, attendee_token("alice")).await;
    let bob = connect(&server.ws_url, attendee_token("bob")).await;
    let m1 = connect(&server.ws_url, moderator_token("m1", CTX)).await;
    let m2 = connect(&server.ws_url, moderator_token("m2", CTX)).await;
    for c in [&alice, &bob, &m1, &m2] {
        c.join(CTX).await.unwrap();
    }

    let asked = alice
        .ask(CTX, "Will the slides be shared?", "q-1", 0)
        .await
        .unwrap();
    let thread = asked.thread_id;
    assert_ne!(thread, 0);
    let seen = expect_push(&m1, thread_push).await;
    assert_eq!((seen.id, state(&seen)), (thread, ThreadState::Pending));
    assert_eq!(seen.counts.unwrap().pending, 1);
    let own = expect_push(&alice, thread_push).await;
    assert_eq!(own.id, thread);
    assert!(
        own.counts.is_none() && own.owner_id.is_empty(),
        "attendees see no queue internals"
    );
    // A second question goes to the same thread.
    assert_eq!(
        alice
            .ask(CTX, "And the recording?", "q-2", 0)
            .await
            .unwrap()
            .thread_id,
        thread
    );

    // m1 answers: that claims the thread; the attendee sees the answer as the session.
    m1.answer(CTX, thread, "Yes, after the session.", "a-1")
        .await
        .unwrap();
    let answer = expect_push(&alice, |p| match &p.body {
        Some(Body::Message(m)) if m.text == "Yes, after the session." => Some(m.clone()),
        _ => None,
    })
    .await;
    let author = answer.author.unwrap();
    assert!(author.as_context);
    assert_eq!(author.given_name, CTX, "answering as the session's name");
    assert!(author.user_id.is_empty());
    let claimed = expect_push(&m2, |p| {
        thread_push(p).filter(|t| state(t) == ThreadState::Owned)
    })
    .await;
    assert_eq!(claimed.owner_id, "m1");

    // Nobody steals it.
    let err = m2
        .thread_action(CTX, thread, ThreadActionKind::Claim)
        .await
        .unwrap_err();
    assert_eq!(err.server_code(), Some(ErrorCode::AlreadyClaimed));
    assert_eq!(
        refused(m2.thread_action(CTX, thread, ThreadActionKind::Resolve)).await,
        ErrorCode::Forbidden
    );
    // Send back, claim by m2, resolve, clear.
    m1.thread_action(CTX, thread, ThreadActionKind::Release)
        .await
        .unwrap();
    m2.thread_action(CTX, thread, ThreadActionKind::Claim)
        .await
        .unwrap();
    m2.thread_action(CTX, thread, ThreadActionKind::Resolve)
        .await
        .unwrap();
    assert_eq!(
        refused(m2.thread_action(CTX, thread, ThreadActionKind::Resolve)).await,
        ErrorCode::InvalidState
    );
    m2.thread_action(CTX, thread, ThreadActionKind::Clear)
        .await
        .unwrap();
    expect_push(&alice, |p| {
        thread_push(p).filter(|t| state(t) == ThreadState::Done)
    })
    .await;
    // Asking again brings the thread back to the queue.
    alice.ask(CTX, "One more thing", "q-3", 0).await.unwrap();
    let back = expect_push(&m1, |p| {
        thread_push(p).filter(|t| state(t) == ThreadState::Pending)
    })
    .await;
    assert_eq!(back.id, thread);

    // Attendees cannot work the queue; bob saw nothing of alice's thread.
    assert_eq!(
        refused(bob.thread_action(CTX, thread, ThreadActionKind::Claim)).await,
        ErrorCode::Forbidden
    );
    assert_eq!(
        refused(bob.ask(CTX, "me too", "b-1", thread)).await,
        ErrorCode::NotFound
    );
    let marker = m1.send(CTX, "group chat marker", "mk", 0).await.unwrap();
    let mut bob_saw = Vec::new();
    loop {
        let p = tokio::time::timeout(Duration::from_secs(5), bob.next_push())
            .await
            .unwrap()
            .unwrap();
        let done = matches!(&p.body, Some(Body::Message(m)) if m.id == marker.message_id);
        bob_saw.push(p);
        if done {
            break;
        }
    }
    assert!(
        bob_saw
            .iter()
            .all(|p| !matches!(&p.body, Some(Body::Thread(_)))
                && !matches!(&p.body, Some(Body::Message(m)) if m.thread_id != 0)),
        "bob received part of alice's thread: {bob_saw:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn multi_thread_mode_opens_a_thread_per_question() {
    const CTX: &str = "qa-multi";
    let server = start(|_| {}).await;
    let mut api = plenary_proto::v1::admin::admin_client::AdminClient::connect(format!(
        "http://{}",
        server.admin
    ))
    .await
    .unwrap();
    let mut request = tonic::Request::new(plenary_proto::v1::admin::CreateContextRequest {
        id: CTX.into(),
        qa_mode: plenary_client::v1::QaMode::MultiThread as i32,
        ..Default::default()
    });
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {ADMIN_KEY}").parse().unwrap(),
    );
    api.create_context(request).await.unwrap();
    let alice = connect(&server.ws_url, attendee_token("alice")).await;
    alice.join(CTX).await.unwrap();
    let first = alice.ask(CTX, "first", "", 0).await.unwrap().thread_id;
    let second = alice.ask(CTX, "second", "", 0).await.unwrap().thread_id;
    assert_ne!(first, second);
    assert_eq!(
        alice
            .ask(CTX, "follow-up", "", first)
            .await
            .unwrap()
            .thread_id,
        first
    );
    let snapshot = connect(&server.ws_url, attendee_token("alice"))
        .await
        .join(CTX)
        .await
        .unwrap()
        .snapshot
        .unwrap();
    assert_eq!(
        snapshot.threads.iter().map(|t| t.id).collect::<Vec<_>>(),
        vec![first, second]
    );
    assert_eq!(snapshot.thread_messages.len(), 3);
    server.stop().await;
}

#[tokio::test]
async fn other_attendees_never_read_a_thread_not_even_through_recovery() {
    const CTX: &str = "qa-private";
    let server = start(|_| {}).await;
    let alice = connect(&server.ws_url, attendee_token("alice")).await;
    let bob = connect(&server.ws_url, attendee_token("bob")).await;
    let moderator = connect(&server.ws_url, moderator_token("mod", CTX)).await;
    let joined = bob.join(CTX).await.unwrap();
    alice.join(CTX).await.unwrap();
    moderator.join(CTX).await.unwrap();
    let since = Position {
        epoch: joined.epoch,
        seq: joined.seq,
    };
    let asked = alice.ask(CTX, "private question", "", 0).await.unwrap();
    moderator
        .answer(CTX, asked.thread_id, "private answer", "")
        .await
        .unwrap();
    let later = connect(&server.ws_url, attendee_token("bob")).await;
    let recovered = later.join_since(CTX, since).await.unwrap();
    assert!(recovered.recovered);
    assert!(
        recovered
            .missed
            .iter()
            .all(|p| !matches!(&p.body, Some(Body::Thread(_)) | Some(Body::Message(_)))),
        "{:?}",
        recovered.missed
    );
    let snapshot = later.join(CTX).await.unwrap().snapshot.unwrap();
    assert!(snapshot.threads.is_empty() && snapshot.thread_messages.is_empty());
    // Alice recovers her own thread, with the answer shown as the session.
    let alice_again = connect(&server.ws_url, attendee_token("alice")).await;
    let mine = alice_again.join_since(CTX, since).await.unwrap();
    let texts: Vec<String> = mine
        .missed
        .iter()
        .filter_map(|p| match &p.body {
            Some(Body::Message(m)) => Some(m.text.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(texts, ["private question", "private answer"]);
    server.stop().await;
}

/// A moderator's view of the queue, from a snapshot plus thread pushes.
fn apply_view(view: &mut BTreeMap<u64, (i32, String)>, thread: &QaThread) {
    view.insert(thread.id, (thread.state, thread.owner_id.clone()));
}

#[tokio::test]
async fn recovery_restores_a_moderators_queue_view_exactly() {
    const CTX: &str = "qa-recover";
    let server = start(|c| {
        c.user_rate = 1_000;
        c.user_burst = 1_000;
    })
    .await;
    let moderator = connect(&server.ws_url, moderator_token("mod", CTX)).await;
    let other = connect(&server.ws_url, moderator_token("other", CTX)).await;
    let joined = moderator.join(CTX).await.unwrap();
    other.join(CTX).await.unwrap();
    let mut threads = Vec::new();
    for i in 0..4 {
        let a = connect(&server.ws_url, attendee_token(&format!("att{i}"))).await;
        a.join(CTX).await.unwrap();
        threads.push(a.ask(CTX, &format!("q{i}"), "", 0).await.unwrap().thread_id);
    }
    let mut view = BTreeMap::new();
    for t in joined.snapshot.unwrap().threads {
        apply_view(&mut view, &t);
    }
    let since = Position {
        epoch: joined.epoch,
        seq: joined.seq,
    };
    // While the moderator is away, the queue moves.
    for (thread, action) in [
        (threads[0], ThreadActionKind::Claim),
        (threads[1], ThreadActionKind::Claim),
        (threads[1], ThreadActionKind::Resolve),
        (threads[2], ThreadActionKind::Claim),
        (threads[2], ThreadActionKind::Release),
    ] {
        other.thread_action(CTX, thread, action).await.unwrap();
    }
    let back = connect(&server.ws_url, moderator_token("mod", CTX)).await;
    let recovered = back.join_since(CTX, since).await.unwrap();
    assert!(recovered.recovered);
    for p in &recovered.missed {
        if let Some(t) = thread_push(p) {
            apply_view(&mut view, &t);
        }
    }
    let fresh = connect(&server.ws_url, moderator_token("third", CTX)).await;
    let mut expected = BTreeMap::new();
    let snapshot = fresh.join(CTX).await.unwrap().snapshot.unwrap();
    for t in &snapshot.threads {
        apply_view(&mut expected, t);
    }
    assert_eq!(view, expected);
    let counts = snapshot.counts.unwrap();
    assert_eq!((counts.pending, counts.owned, counts.resolved), (2, 1, 1));
    server.stop().await;
}

#[tokio::test]
async fn a_question_and_its_answer_are_published_to_the_feed_and_removed() {
    const CTX: &str = "qa-feed";
    let server = start(|_| {}).await;
    let alice = connect(&server.ws_url, attendee_token("alice")).await;
    let bob = connect(&server.ws_url, attendee_token("bob")).await;
    let moderator = connect(&server.ws_url, moderator_token("mod", CTX)).await;
    for c in [&alice, &bob, &moderator] {
        c.join(CTX).await.unwrap();
    }
    let question = alice
        .ask(CTX, "Is there a recording?", "", 0)
        .await
        .unwrap();
    let answer = moderator
        .answer(CTX, question.thread_id, "Yes, tomorrow.", "")
        .await
        .unwrap();
    assert_eq!(
        refused(alice.publish_qa(
            CTX,
            question.thread_id,
            question.message_id,
            answer.message_id
        ))
        .await,
        ErrorCode::Forbidden
    );
    // The answer as the question is refused.
    assert_eq!(
        refused(moderator.publish_qa(
            CTX,
            question.thread_id,
            answer.message_id,
            question.message_id
        ))
        .await,
        ErrorCode::BadRequest
    );
    let published = moderator
        .publish_qa(
            CTX,
            question.thread_id,
            question.message_id,
            answer.message_id,
        )
        .await
        .unwrap();
    let item = expect_push(&bob, |p| match &p.body {
        Some(Body::FeedQa(f)) => Some(f.clone()),
        _ => None,
    })
    .await;
    assert_eq!(item.item_id, published.seq);
    assert_eq!(
        item.question.as_ref().unwrap().text,
        "Is there a recording?"
    );
    let shown = item.answer.as_ref().unwrap().author.clone().unwrap();
    assert!(shown.as_context, "the answer is shown as the session");
    let late = connect(&server.ws_url, attendee_token("late")).await;
    assert_eq!(
        late.join(CTX)
            .await
            .unwrap()
            .snapshot
            .unwrap()
            .published
            .len(),
        1
    );

    moderator.unpublish(CTX, item.item_id).await.unwrap();
    expect_push(&bob, |p| {
        matches!(&p.body, Some(Body::FeedRemoved(r)) if r.item_id == item.item_id).then_some(())
    })
    .await;
    // Deleting a published answer takes the item out of the feed too.
    let again = moderator
        .publish_qa(
            CTX,
            question.thread_id,
            question.message_id,
            answer.message_id,
        )
        .await
        .unwrap();
    moderator.delete(CTX, answer.message_id).await.unwrap();
    expect_push(&bob, |p| {
        matches!(&p.body, Some(Body::FeedRemoved(r)) if r.item_id == again.seq).then_some(())
    })
    .await;
    assert!(
        late.join(CTX)
            .await
            .unwrap()
            .snapshot
            .unwrap()
            .published
            .is_empty()
    );
    server.stop().await;
}

#[tokio::test]
async fn a_claim_is_released_when_its_moderator_stays_away() {
    const CTX: &str = "qa-auto-release";
    let server = start(|c| c.qa_auto_release_secs = 1).await;
    let alice = connect(&server.ws_url, attendee_token("alice")).await;
    let present = connect(&server.ws_url, moderator_token("present", CTX)).await;
    let leaving = connect(&server.ws_url, moderator_token("leaving", CTX)).await;
    for c in [&alice, &present, &leaving] {
        c.join(CTX).await.unwrap();
    }
    let kept = alice.ask(CTX, "first", "", 0).await.unwrap().thread_id;
    let bob = connect(&server.ws_url, attendee_token("bob")).await;
    bob.join(CTX).await.unwrap();
    let dropped = bob.ask(CTX, "second", "", 0).await.unwrap().thread_id;
    present
        .thread_action(CTX, kept, ThreadActionKind::Claim)
        .await
        .unwrap();
    leaving
        .thread_action(CTX, dropped, ThreadActionKind::Claim)
        .await
        .unwrap();
    leaving.close().await;

    // The absent moderator's thread goes back to pending; the present one's does not.
    expect_push(&present, |p| {
        thread_push(p).filter(|t| t.id == dropped && state(t) == ThreadState::Owned)
    })
    .await;
    let released = expect_push(&present, |p| {
        thread_push(p).filter(|t| t.id == dropped && state(t) == ThreadState::Pending)
    })
    .await;
    assert_eq!(released.counts.unwrap().owned, 1);
    let snapshot = connect(&server.ws_url, moderator_token("third", CTX))
        .await
        .join(CTX)
        .await
        .unwrap()
        .snapshot
        .unwrap();
    let states: BTreeMap<u64, i32> = snapshot.threads.iter().map(|t| (t.id, t.state)).collect();
    assert_eq!(states[&kept], ThreadState::Owned as i32);
    assert_eq!(states[&dropped], ThreadState::Pending as i32);
    server.stop().await;
}

#[tokio::test]
async fn replies_stay_in_their_thread_for_attendees_and_moderators_alike() {
    use plenary_client::v1::SendMessage;
    const CTX: &str = "qa-replies";
    let server = start(|_| {}).await;
    let alice = connect(&server.ws_url, attendee_token("alice")).await;
    let moderator = connect(&server.ws_url, moderator_token("mod", CTX)).await;
    alice.join(CTX).await.unwrap();
    moderator.join(CTX).await.unwrap();
    let group = alice
        .send(CTX, "hello all", "g-1", 0)
        .await
        .unwrap()
        .message_id;
    let asked = alice.ask(CTX, "my question", "q-1", 0).await.unwrap();
    let (thread, question) = (asked.thread_id, asked.message_id);
    let back = moderator
        .send_backchannel(CTX, "mods only", "b-1", 0)
        .await
        .unwrap()
        .message_id;
    let in_thread = |text: &str, reply_to: u64| SendMessage {
        context_id: CTX.into(),
        text: text.into(),
        reply_to,
        thread_id: thread,
        ..Default::default()
    };
    // From the thread, a group-chat or backchannel message cannot be answered.
    assert_eq!(
        refused(alice.send_message(in_thread("re group", group))).await,
        ErrorCode::NotFound
    );
    assert_eq!(
        refused(moderator.send_message(in_thread("re group", group))).await,
        ErrorCode::NotFound
    );
    assert_eq!(
        refused(moderator.send_message(in_thread("re back", back))).await,
        ErrorCode::NotFound
    );
    // From the group chat or the backchannel, a thread message cannot be answered.
    assert_eq!(
        refused(alice.send(CTX, "re question", "", question)).await,
        ErrorCode::NotFound
    );
    assert_eq!(
        refused(moderator.send(CTX, "re question", "", question)).await,
        ErrorCode::NotFound
    );
    assert_eq!(
        refused(moderator.send_backchannel(CTX, "re question", "", question)).await,
        ErrorCode::NotFound
    );
    // Within the thread both reply, and the reply says what it answers.
    let answer = moderator
        .send_message(in_thread("the answer", question))
        .await
        .unwrap()
        .message_id;
    let follow_up = alice
        .send_message(in_thread("thanks", answer))
        .await
        .unwrap()
        .message_id;
    let pushed = expect_push(&moderator, |p| match &p.body {
        Some(Body::Message(m)) if m.id == follow_up => Some(m.clone()),
        _ => None,
    })
    .await;
    assert_eq!((pushed.thread_id, pushed.reply_to), (thread, answer));
    // Nothing refused was stored.
    let snapshot = connect(&server.ws_url, attendee_token("alice"))
        .await
        .join(CTX)
        .await
        .unwrap()
        .snapshot
        .unwrap();
    let texts: Vec<&str> = snapshot
        .thread_messages
        .iter()
        .map(|m| m.text.as_str())
        .collect();
    assert_eq!(texts, ["my question", "the answer", "thanks"]);
    assert_eq!(snapshot.messages.len(), 1);
    server.stop().await;
}
