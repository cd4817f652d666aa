//! Room pace through real sockets: a room accepts messages only as fast as its budget
//! of deliveries allows, and slow mode holds attendees (not moderators) to one message
//! per interval. Members are never cut off because a sender was fast.

mod common;

use std::time::Duration;

use common::*;
use plenary_client::v1::{ErrorCode, push::Body};
use plenary_proto::v1::admin::{UpdateContextRequest, admin_client::AdminClient};
use tonic::Code;

const CTX: &str = "webinar-pace";

#[tokio::test]
async fn a_fast_sender_is_rate_limited_and_no_member_is_cut_off() {
    // 20 deliveries a second, 2 at once: whatever the machine's speed, 60 messages
    // sent at once are more than the room takes.
    // The user's own command budget is lifted: every refusal here is the room's.
    let server = start(|c| {
        c.room_deliveries_per_sec = 20;
        c.user_rate = 100_000;
        c.user_burst = 100_000;
    })
    .await;
    let sender = connect(&server.ws_url, attendee_token("fast")).await;
    let members = [
        connect(&server.ws_url, attendee_token("m1")).await,
        connect(&server.ws_url, attendee_token("m2")).await,
    ];
    sender.join(CTX).await.unwrap();
    for m in &members {
        m.join(CTX).await.unwrap();
    }
    let sends = (0..60).map(|i| {
        let sender = &sender;
        async move {
            sender
                .send(CTX, &format!("m{i}"), &format!("c{i}"), 0)
                .await
        }
    });
    let (mut accepted, mut limited) = (Vec::new(), 0);
    for result in futures_util::future::join_all(sends).await {
        match result {
            Ok(sent) => accepted.push(sent.message_id),
            Err(e) => {
                assert_eq!(e.server_code(), Some(ErrorCode::RateLimited), "{e}");
                assert!(e.to_string().contains("delivery budget"), "{e}");
                let wait = e.retry_after().expect("RATE_LIMITED says when to retry");
                assert!(wait <= Duration::from_secs(1), "{wait:?}");
                limited += 1;
            }
        }
    }
    assert!(limited > 0, "60 messages at once exceed the budget");
    assert!(!accepted.is_empty(), "a full bucket admits the first");
    // Retrying as told gets a refused message through (the wait may grow once if the
    // node's attendee count arrives in between and makes a message cost more).
    let mut retries = 0;
    loop {
        match sender.send(CTX, "one more", "more", 0).await {
            Ok(sent) => {
                accepted.push(sent.message_id);
                break;
            }
            Err(e) => {
                assert!(e.to_string().contains("delivery budget"), "{e}");
                retries += 1;
                assert!(retries <= 5, "still refused after {retries} waits");
                tokio::time::sleep(e.retry_after().unwrap()).await;
            }
        }
    }
    // Every member got every accepted message, and is still connected.
    for m in &members {
        for id in &accepted {
            expect_push(m, |p| match &p.body {
                Some(Body::Message(msg)) if msg.id == *id => Some(()),
                _ => None,
            })
            .await;
        }
        m.ping().await.expect("still connected");
    }
}

#[tokio::test]
async fn slow_mode_holds_attendees_to_one_message_per_interval() {
    let server = start(|_| {}).await;
    let moderator = connect(&server.ws_url, moderator_token("mod", CTX)).await;
    let alice = connect(&server.ws_url, attendee_token("alice")).await;
    moderator.join(CTX).await.unwrap();
    let api = AdminClient::connect(format!("http://{}", server.admin))
        .await
        .unwrap();
    let slow_mode = |secs| {
        let mut api = api.clone();
        async move {
            api.update_context(authed(UpdateContextRequest {
                id: CTX.into(),
                slow_mode_secs: Some(secs),
                ..Default::default()
            }))
            .await
        }
    };
    let too_slow = slow_mode(3_601).await.unwrap_err();
    assert_eq!(too_slow.code(), Code::InvalidArgument, "{too_slow:?}");
    let updated = slow_mode(30).await.unwrap().into_inner();
    assert_eq!(updated.slow_mode_secs, 30);
    let joined = alice.join(CTX).await.unwrap();
    assert_eq!(joined.context.unwrap().slow_mode_secs, 30, "clients see it");

    alice.send(CTX, "first", "a-1", 0).await.unwrap();
    let e = alice.send(CTX, "second", "a-2", 0).await.unwrap_err();
    assert_eq!(e.server_code(), Some(ErrorCode::RateLimited));
    let wait = e.retry_after().unwrap();
    assert!(
        wait > Duration::from_secs(25) && wait <= Duration::from_secs(30),
        "{wait:?}"
    );
    // The same message again is its duplicate, not a new one: still answered.
    assert!(alice.send(CTX, "first", "a-1", 0).await.unwrap().duplicate);
    // Moderators are exempt.
    for i in 0..3 {
        moderator
            .send(CTX, &format!("mod {i}"), &format!("m-{i}"), 0)
            .await
            .unwrap();
    }
    // Turned off, attendees send freely again.
    slow_mode(0).await.unwrap();
    alice.send(CTX, "second", "a-2", 0).await.unwrap();
}
