//! Group chat through real sockets: two attendees and a moderator.

mod common;

use std::time::Duration;

use common::*;
use plenary_client::v1::{ErrorCode, Role, push::Body};

const CTX: &str = "webinar-chat";

#[tokio::test]
async fn two_attendees_and_a_moderator_chat() {
    let server = start(|_| {}).await;
    let alice = connect(&server.ws_url, attendee_token("alice")).await;
    let bob = connect(&server.ws_url, attendee_token("bob")).await;
    let mod_ = connect(&server.ws_url, moderator_token("mod", CTX)).await;

    let joined = alice.join(CTX).await.unwrap();
    assert_eq!(joined.role, Role::Attendee as i32);
    assert_eq!(
        joined.context.unwrap().name,
        CTX,
        "an unknown context is created with its id as name"
    );
    bob.join(CTX).await.unwrap();
    assert_eq!(mod_.join(CTX).await.unwrap().role, Role::Moderator as i32);

    // Alice posts; everyone receives it.
    let sent = alice.send(CTX, "hello all", "a-1", 0).await.unwrap();
    for c in [&alice, &bob, &mod_] {
        let m = expect_push(c, |p| match &p.body {
            Some(Body::Message(m)) if m.id == sent.message_id => Some(m.clone()),
            _ => None,
        })
        .await;
        assert_eq!(m.text, "hello all");
        let author = m.author.unwrap();
        assert_eq!(
            (author.user_id.as_str(), author.given_name.as_str()),
            ("alice", "alice")
        );
    }

    // Bob replies to it.
    let reply = bob
        .send(CTX, "hi alice", "b-1", sent.message_id)
        .await
        .unwrap();
    let m = expect_push(&alice, |p| match &p.body {
        Some(Body::Message(m)) if m.id == reply.message_id => Some(m.clone()),
        _ => None,
    })
    .await;
    assert_eq!(m.reply_to, sent.message_id);
    assert_eq!(
        refused(bob.send(CTX, "to nothing", "b-2", 999_999)).await,
        ErrorCode::NotFound
    );

    // Likes: the reply carries the count, pushes come as aggregates.
    assert_eq!(bob.like(CTX, sent.message_id).await.unwrap().like_count, 1);
    assert_eq!(mod_.like(CTX, sent.message_id).await.unwrap().like_count, 2);
    assert_eq!(
        bob.like(CTX, sent.message_id).await.unwrap().like_count,
        2,
        "liking twice counts once"
    );
    expect_push(&alice, |p| match &p.body {
        Some(Body::Likes(l)) => l
            .counts
            .iter()
            .any(|c| c.message_id == sent.message_id && c.count == 2)
            .then_some(()),
        _ => None,
    })
    .await;
    assert_eq!(
        bob.unlike(CTX, sent.message_id).await.unwrap().like_count,
        1
    );

    // Delete rules: an attendee cannot delete another's message, can delete their own;
    // a moderator deletes any.
    let err = alice.delete(CTX, reply.message_id).await.unwrap_err();
    assert_eq!(err.server_code(), Some(ErrorCode::Forbidden));
    bob.delete(CTX, reply.message_id).await.unwrap();
    expect_push(&alice, |p| match &p.body {
        Some(Body::Deleted(d)) if d.message_id == reply.message_id => {
            assert!(!d.by_moderator);
            Some(())
        }
        _ => None,
    })
    .await;
    let doomed = bob.send(CTX, "spam", "b-3", 0).await.unwrap();
    mod_.delete(CTX, doomed.message_id).await.unwrap();
    expect_push(&alice, |p| match &p.body {
        Some(Body::Deleted(d)) if d.message_id == doomed.message_id => {
            assert!(d.by_moderator);
            Some(())
        }
        _ => None,
    })
    .await;

    // Pin: moderators only; pinned items reach everyone and form the feed.
    assert_eq!(
        refused(alice.pin(CTX, sent.message_id)).await,
        ErrorCode::Forbidden
    );
    mod_.pin(CTX, sent.message_id).await.unwrap();
    let pinned = expect_push(&bob, |p| match &p.body {
        Some(Body::Pinned(m)) => Some(m.clone()),
        _ => None,
    })
    .await;
    assert_eq!(pinned.id, sent.message_id);
    let late = connect(&server.ws_url, attendee_token("carol")).await;
    let snapshot = late.join(CTX).await.unwrap().snapshot.unwrap();
    assert_eq!(
        snapshot.pinned.iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![sent.message_id]
    );
    assert!(
        snapshot.messages.iter().all(|m| m.id != reply.message_id),
        "deleted messages are gone"
    );
    assert!(snapshot.blocked_users.is_empty());
    mod_.unpin(CTX, sent.message_id).await.unwrap();
    expect_push(&bob, |p| {
        matches!(&p.body, Some(Body::Unpinned(u)) if u.message_id == sent.message_id).then_some(())
    })
    .await;

    // Block: moderators only; the blocked user's sends are refused, others unaffected.
    assert_eq!(refused(alice.block(CTX, "bob")).await, ErrorCode::Forbidden);
    mod_.block(CTX, "bob").await.unwrap();
    let blocked = expect_push(&mod_, |p| match &p.body {
        Some(Body::Blocked(b)) => Some(b.clone()),
        _ => None,
    })
    .await;
    assert_eq!(blocked.user_id, "bob");
    assert_eq!(blocked.email, "bob@example.test");
    assert_eq!(blocked.blocked_by, "mod");
    let err = bob.send(CTX, "let me talk", "b-4", 0).await.unwrap_err();
    assert_eq!(err.server_code(), Some(ErrorCode::Blocked));
    let still = alice.send(CTX, "still here", "a-2", 0).await.unwrap();
    expect_push(&bob, |p| {
        matches!(&p.body, Some(Body::Message(m)) if m.id == still.message_id).then_some(())
    })
    .await;
    // Attendees never see block events; moderators see the blocked list on join.
    expect_no_push(&alice, Duration::from_millis(300), |p| {
        matches!(p.body, Some(Body::Blocked(_)))
    })
    .await;
    let mod2 = connect(&server.ws_url, moderator_token("mod2", CTX)).await;
    let snapshot = mod2.join(CTX).await.unwrap().snapshot.unwrap();
    assert_eq!(snapshot.blocked_users.len(), 1);
    let bob_view = connect(&server.ws_url, attendee_token("bob")).await;
    assert!(
        bob_view.join(CTX).await.unwrap().snapshot.unwrap().blocked,
        "the snapshot tells bob"
    );

    // Unblock restores.
    mod_.unblock(CTX, "bob").await.unwrap();
    bob.send(CTX, "thanks", "b-5", 0).await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn attendee_cannot_moderate() {
    let server = start(|_| {}).await;
    let alice = connect(&server.ws_url, attendee_token("alice")).await;
    let bob = connect(&server.ws_url, attendee_token("bob")).await;
    alice.join(CTX).await.unwrap();
    bob.join(CTX).await.unwrap();
    let m = alice.send(CTX, "mine", "a-1", 0).await.unwrap();
    for err in [
        bob.pin(CTX, m.message_id).await.unwrap_err(),
        bob.unpin(CTX, m.message_id).await.unwrap_err(),
        bob.block(CTX, "alice").await.unwrap_err(),
        bob.unblock(CTX, "alice").await.unwrap_err(),
        bob.delete(CTX, m.message_id).await.unwrap_err(),
    ] {
        assert_eq!(err.server_code(), Some(ErrorCode::Forbidden), "{err}");
    }
    // Nothing changed: the message is still there and unpinned.
    let snapshot = connect(&server.ws_url, attendee_token("carol"))
        .await
        .join(CTX)
        .await
        .unwrap()
        .snapshot
        .unwrap();
    assert_eq!(snapshot.messages.len(), 1);
    assert!(snapshot.pinned.is_empty());
    // A moderator of another context is an attendee here.
    let other = connect(&server.ws_url, moderator_token("m", "another")).await;
    other.join(CTX).await.unwrap();
    assert_eq!(
        refused(other.pin(CTX, m.message_id)).await,
        ErrorCode::Forbidden
    );
    server.stop().await;
}

#[tokio::test]
async fn resend_with_same_client_msg_id_stores_one_message() {
    let server = start(|_| {}).await;
    let alice = connect(&server.ws_url, attendee_token("alice")).await;
    let bob = connect(&server.ws_url, attendee_token("bob")).await;
    alice.join(CTX).await.unwrap();
    bob.join(CTX).await.unwrap();
    let first = alice.send(CTX, "once", "retry-1", 0).await.unwrap();
    let again = alice.send(CTX, "once", "retry-1", 0).await.unwrap();
    assert!(!first.duplicate);
    assert!(again.duplicate);
    assert_eq!(first.message_id, again.message_id);
    // Even from another connection of the same user.
    let alice2 = connect(&server.ws_url, attendee_token("alice")).await;
    alice2.join(CTX).await.unwrap();
    assert_eq!(
        alice2
            .send(CTX, "once", "retry-1", 0)
            .await
            .unwrap()
            .message_id,
        first.message_id
    );
    // Bob saw exactly one message.
    expect_push(&bob, |p| {
        matches!(&p.body, Some(Body::Message(m)) if m.id == first.message_id).then_some(())
    })
    .await;
    expect_no_push(&bob, Duration::from_millis(300), |p| {
        matches!(p.body, Some(Body::Message(_)))
    })
    .await;
    let snapshot = connect(&server.ws_url, attendee_token("c"))
        .await
        .join(CTX)
        .await
        .unwrap()
        .snapshot
        .unwrap();
    assert_eq!(snapshot.messages.len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn commands_need_a_join_and_valid_text() {
    let server = start(|c| c.max_text_chars = 10).await;
    let alice = connect(&server.ws_url, attendee_token("alice")).await;
    assert_eq!(
        refused(alice.send(CTX, "hi", "", 0)).await,
        ErrorCode::NotJoined
    );
    alice.join(CTX).await.unwrap();
    assert_eq!(
        refused(alice.send(CTX, "far too long text", "", 0)).await,
        ErrorCode::InvalidText
    );
    assert_eq!(
        refused(alice.send(CTX, "  ", "", 0)).await,
        ErrorCode::InvalidText
    );
    alice.leave(CTX).await.unwrap();
    assert_eq!(
        refused(alice.send(CTX, "hi", "", 0)).await,
        ErrorCode::NotJoined
    );
    server.stop().await;
}

#[tokio::test]
async fn required_contexts_refuse_unknown_joins() {
    let server = start(|c| c.require_created_contexts = true).await;
    let alice = connect(&server.ws_url, attendee_token("alice")).await;
    assert_eq!(refused(alice.join("nope")).await, ErrorCode::NotFound);
    server.stop().await;
}

#[tokio::test]
async fn per_user_rate_limit_refuses_with_retry_after() {
    let server = start(|c| {
        c.user_rate = 1;
        c.user_burst = 3;
    })
    .await;
    let alice = connect(&server.ws_url, attendee_token("alice")).await;
    alice.join(CTX).await.unwrap();
    let mut limited = None;
    for i in 0..6 {
        if let Err(e) = alice.send(CTX, "x", &format!("r{i}"), 0).await {
            limited = Some(e);
            break;
        }
    }
    let e = limited.expect("the burst is 3, so a later send is limited");
    assert_eq!(e.server_code(), Some(ErrorCode::RateLimited));
    assert!(e.retry_after().unwrap() > Duration::ZERO);
    server.stop().await;
}

#[tokio::test]
async fn connections_per_user_are_limited() {
    let server = start(|c| c.max_connections_per_user = 2).await;
    let _a = connect(&server.ws_url, attendee_token("alice")).await;
    let _b = connect(&server.ws_url, attendee_token("alice")).await;
    let err = plenary_client::Client::connect(plenary_client::ClientConfig::new(
        &server.ws_url,
        attendee_token("alice"),
    ))
    .await
    .unwrap_err();
    assert!(
        err.close_code() == Some(4004) || err.server_code() == Some(ErrorCode::LimitReached),
        "{err}"
    );
    server.stop().await;
}
