//! Moderator-only backchannel, updates to everyone, and moderator activity.

mod common;

use std::time::Duration;

use common::*;
use plenary_client::v1::{ErrorCode, Position, push::Body};

const CTX: &str = "moderation";

fn is_backchannel(p: &plenary_client::v1::Push) -> bool {
    match &p.body {
        Some(Body::Message(m)) => m.backchannel,
        _ => false,
    }
}

#[tokio::test]
async fn the_backchannel_never_reaches_attendees() {
    let server = start(|_| {}).await;
    let attendee = connect(&server.ws_url, attendee_token("att")).await;
    let m1 = connect(&server.ws_url, moderator_token("m1", CTX)).await;
    let m2 = connect(&server.ws_url, moderator_token("m2", CTX)).await;
    let joined = attendee.join(CTX).await.unwrap();
    m1.join(CTX).await.unwrap();
    m2.join(CTX).await.unwrap();
    let before = Position {
        epoch: joined.epoch,
        seq: joined.seq,
    };

    // Attendees cannot post there.
    let err = attendee
        .send_backchannel(CTX, "let me in", "", 0)
        .await
        .unwrap_err();
    assert_eq!(err.server_code(), Some(ErrorCode::Forbidden));

    let secret = m1
        .send_backchannel(CTX, "mods only", "b-1", 0)
        .await
        .unwrap();
    let got = expect_push(&m2, |p| match &p.body {
        Some(Body::Message(m)) if m.id == secret.message_id => Some(m.clone()),
        _ => None,
    })
    .await;
    assert!(got.backchannel);
    // Like and reply stay among moderators; an attendee cannot even find the message.
    m2.like(CTX, secret.message_id).await.unwrap();
    let reply = m2
        .send_backchannel(CTX, "agreed", "b-2", secret.message_id)
        .await
        .unwrap();
    // The like aggregate is flushed before the reply's push, so it comes first.
    expect_push(&m1, |p| match &p.body {
        Some(Body::Likes(l)) => l
            .counts
            .iter()
            .any(|c| c.message_id == secret.message_id && c.count == 1)
            .then_some(()),
        _ => None,
    })
    .await;
    expect_push(&m1, |p| {
        matches!(&p.body, Some(Body::Message(m)) if m.id == reply.message_id).then_some(())
    })
    .await;
    for err in [
        attendee.like(CTX, secret.message_id).await.unwrap_err(),
        attendee.delete(CTX, secret.message_id).await.unwrap_err(),
        attendee
            .send(CTX, "re", "", secret.message_id)
            .await
            .unwrap_err(),
    ] {
        assert_eq!(err.server_code(), Some(ErrorCode::NotFound), "{err}");
    }
    // In the backchannel, moderators delete only their own messages.
    assert_eq!(
        refused(m2.delete(CTX, secret.message_id)).await,
        ErrorCode::Forbidden
    );

    // A public message after all that, so the attendee has something to wait for.
    let public = m1.send(CTX, "hello everyone", "p-1", 0).await.unwrap();
    let mut seen = Vec::new();
    loop {
        let push = tokio::time::timeout(Duration::from_secs(5), attendee.next_push())
            .await
            .unwrap()
            .unwrap();
        let done = matches!(&push.body, Some(Body::Message(m)) if m.id == public.message_id);
        seen.push(push);
        if done {
            break;
        }
    }
    assert!(
        !seen.iter().any(is_backchannel),
        "an attendee received a backchannel push"
    );
    assert!(
        !seen.iter().any(|p| matches!(&p.body, Some(Body::Likes(l)) if l.counts.iter().any(|c| c.message_id == secret.message_id))),
        "an attendee received backchannel like counts"
    );

    // Not through snapshots or recovery either.
    let late = connect(&server.ws_url, attendee_token("late")).await;
    let snapshot = late.join(CTX).await.unwrap().snapshot.unwrap();
    assert!(snapshot.backchannel.is_empty());
    assert!(snapshot.messages.iter().all(|m| !m.backchannel));
    let recovered = late.join_since(CTX, before).await.unwrap();
    assert!(recovered.recovered);
    assert!(!recovered.missed.iter().any(is_backchannel));
    assert!(
        recovered
            .missed
            .iter()
            .any(|p| matches!(&p.body, Some(Body::Message(m)) if m.id == public.message_id))
    );
    // Moderators get it all.
    let m3 = connect(&server.ws_url, moderator_token("m3", CTX)).await;
    let snapshot = m3.join(CTX).await.unwrap().snapshot.unwrap();
    assert_eq!(
        snapshot
            .backchannel
            .iter()
            .map(|m| m.id)
            .collect::<Vec<_>>(),
        vec![secret.message_id, reply.message_id]
    );
    let recovered = m3.join_since(CTX, before).await.unwrap();
    assert!(
        recovered
            .missed
            .iter()
            .filter(|p| is_backchannel(p))
            .count()
            == 2
    );
    server.stop().await;
}

#[tokio::test]
async fn updates_reach_everyone_and_stay_for_late_joiners() {
    let server = start(|_| {}).await;
    let attendee = connect(&server.ws_url, attendee_token("att")).await;
    let moderator = connect(&server.ws_url, moderator_token("mod", CTX)).await;
    attendee.join(CTX).await.unwrap();
    moderator.join(CTX).await.unwrap();
    assert_eq!(
        refused(attendee.post_update(CTX, "", "hi", false)).await,
        ErrorCode::Forbidden
    );
    moderator
        .post_update(CTX, "Mid-webinar alert!", "Get your questions ready", true)
        .await
        .unwrap();
    let update = expect_push(&attendee, |p| match &p.body {
        Some(Body::Update(u)) => Some(u.clone()),
        _ => None,
    })
    .await;
    assert_eq!(
        (update.title.as_str(), update.toast),
        ("Mid-webinar alert!", true)
    );
    let late = connect(&server.ws_url, attendee_token("late")).await;
    let snapshot = late.join(CTX).await.unwrap().snapshot.unwrap();
    assert_eq!(snapshot.updates.len(), 1);
    assert_eq!(snapshot.updates[0].text, "Get your questions ready");
    server.stop().await;
}

#[tokio::test]
async fn moderator_activity_is_recorded_per_context() {
    use plenary_proto::v1::admin::{GetContextRequest, admin_client::AdminClient};
    let server = start(|_| {}).await;
    let moderator = connect(&server.ws_url, moderator_token("mod", CTX)).await;
    let attendee = connect(&server.ws_url, attendee_token("att")).await;
    moderator.join(CTX).await.unwrap();
    attendee.join(CTX).await.unwrap();
    attendee.send(CTX, "question", "", 0).await.unwrap();
    moderator.send(CTX, "answer", "", 0).await.unwrap();
    let mut api = AdminClient::connect(format!("http://{}", server.admin))
        .await
        .unwrap();
    let mut request = tonic::Request::new(GetContextRequest { id: CTX.into() });
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {ADMIN_KEY}").parse().unwrap(),
    );
    let context = api.get_context(request).await.unwrap().into_inner();
    assert_eq!(
        context.moderator_activity.len(),
        1,
        "{:?}",
        context.moderator_activity
    );
    let activity = &context.moderator_activity[0];
    assert_eq!(
        (activity.user_id.as_str(), activity.email.as_str()),
        ("mod", "mod@example.test")
    );
    assert!(activity.last_action_ms > 0);
    server.stop().await;
}

#[tokio::test]
async fn a_message_goes_to_the_backchannel_or_to_a_thread_never_both() {
    use plenary_client::v1::SendMessage;
    const CTX: &str = "moderation-thread";
    let server = start(|_| {}).await;
    let alice = connect(&server.ws_url, attendee_token("alice")).await;
    let moderator = connect(&server.ws_url, moderator_token("mod", CTX)).await;
    alice.join(CTX).await.unwrap();
    moderator.join(CTX).await.unwrap();
    let thread = alice
        .ask(CTX, "my question", "q-1", 0)
        .await
        .unwrap()
        .thread_id;
    let both = |text: &str| SendMessage {
        context_id: CTX.into(),
        text: text.into(),
        backchannel: true,
        thread_id: thread,
        ..Default::default()
    };
    assert_eq!(
        refused(moderator.send_message(both("mods only: keep her waiting"))).await,
        ErrorCode::BadRequest
    );
    // An attendee never posts in the backchannel, in a thread or not.
    assert_eq!(
        refused(alice.send_message(both("psst"))).await,
        ErrorCode::Forbidden
    );
    // Neither reached the thread or the backchannel: alice's next snapshot, and a
    // moderator's, hold only her question.
    for token in [attendee_token("alice"), moderator_token("mod", CTX)] {
        let snapshot = connect(&server.ws_url, token)
            .await
            .join(CTX)
            .await
            .unwrap()
            .snapshot
            .unwrap();
        let texts: Vec<&str> = snapshot
            .thread_messages
            .iter()
            .chain(&snapshot.backchannel)
            .map(|m| m.text.as_str())
            .collect();
        assert_eq!(texts, ["my question"]);
    }
    server.stop().await;
}
