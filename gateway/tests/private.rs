//! Private chat through real sockets on an embedded node: connection requests, accept
//! and ignore, one-to-one messages with read markers and history, settings on every
//! device, people search, authorisation, recovery, rate limits and a `kill -9`.

mod common;

use std::time::Duration;

use common::*;
use plenary_client::{
    Client, PRIVATE_STREAM,
    v1::{
        ConnectionActionKind as Action, ErrorCode, PeerStatus, PeerUpdate, Push, UpdateSettings,
        UserSettings,
        events::{ConnectionChange, ConversationEvent, conversation_event::Kind},
        push::Body,
    },
};

/// A private push about a peer (optionally: carrying a message).
fn peer_update(push: &Push) -> Option<PeerUpdate> {
    match &push.body {
        Some(Body::PeerUpdate(u)) if push.context_id == PRIVATE_STREAM => Some(u.clone()),
        _ => None,
    }
}

fn settings_push(push: &Push) -> Option<UserSettings> {
    match &push.body {
        Some(Body::Settings(s)) if push.context_id == PRIVATE_STREAM => Some(*s),
        _ => None,
    }
}

/// Waits for a peer update about `peer` with `status`.
async fn expect_status(client: &Client, peer: &str, status: PeerStatus) -> PeerUpdate {
    expect_push(client, |p| {
        peer_update(p).filter(|u| {
            u.peer
                .as_ref()
                .is_some_and(|x| x.user_id == peer && x.status == status as i32)
        })
    })
    .await
}

/// Waits for a private message pushed to `client`.
async fn expect_message(client: &Client, text: &str) -> PeerUpdate {
    expect_push(client, |p| {
        peer_update(p).filter(|u| u.message.as_ref().is_some_and(|m| m.text == text))
    })
    .await
}

/// Two users who share a context, both with their private stream open.
async fn pair(url: &str, a: &str, b: &str) -> (Client, Client) {
    let (ca, cb) = (
        connect(url, attendee_token(a)).await,
        connect(url, attendee_token(b)).await,
    );
    for c in [&ca, &cb] {
        c.join("webinar").await.unwrap();
        c.private_open().await.unwrap();
    }
    (ca, cb)
}

async fn connected(url: &str, a: &str, b: &str) -> (Client, Client) {
    let (ca, cb) = pair(url, a, b).await;
    ca.connection(b, Action::Request).await.unwrap();
    expect_status(&cb, a, PeerStatus::RequestReceived).await;
    cb.connection(a, Action::Accept).await.unwrap();
    expect_status(&ca, b, PeerStatus::Connected).await;
    (ca, cb)
}

#[tokio::test]
async fn request_accept_chat_read_markers_history_and_remove() {
    let server = start(|_| {}).await;
    let (alice, bob) = pair(&server.ws_url, "alice", "bob").await;

    // Bob is found among people who share a context, by name, without his email.
    let people = alice.find_people("bo", 10).await.unwrap().people;
    assert_eq!(people.len(), 1, "{people:?}");
    assert_eq!(people[0].user_id, "bob");
    assert_eq!(people[0].name, "bob Attendee");
    assert_eq!(people[0].status, PeerStatus::None as i32);
    assert_eq!(
        alice.find_people("", 10).await.unwrap().people.len(),
        1,
        "suggestions: everyone in my contexts but me"
    );

    // Not connected yet: a message is refused.
    assert_eq!(
        refused(alice.dm_send("bob", "hi", "early")).await,
        ErrorCode::NotConnected
    );
    alice.connection("bob", Action::Request).await.unwrap();
    let seen = expect_status(&bob, "alice", PeerStatus::RequestReceived).await;
    assert_eq!(seen.peer.unwrap().name, "alice Attendee");
    expect_status(&alice, "bob", PeerStatus::RequestSent).await;
    bob.connection("alice", Action::Accept).await.unwrap();
    expect_status(&alice, "bob", PeerStatus::Connected).await;
    let found = alice.find_people("bob", 10).await.unwrap().people;
    assert_eq!(found[0].status, PeerStatus::Connected as i32);

    let m1 = alice.dm_send("bob", "hello bob", "a1").await.unwrap();
    let m2 = alice.dm_send("bob", "are you there?", "a2").await.unwrap();
    // A resend of a client message id is answered with the original.
    let again = alice.dm_send("bob", "hello bob", "a1").await.unwrap();
    assert_eq!((again.message_id, again.duplicate), (m1.message_id, true));
    let got = expect_message(&bob, "hello bob").await;
    let message = got.message.unwrap();
    assert_eq!(
        (message.sender_id.as_str(), message.peer_id.as_str()),
        ("alice", "alice")
    );
    let got = expect_message(&bob, "are you there?").await;
    assert_eq!(got.peer.unwrap().unread, 2, "unread counts are exact");
    // The sender's own devices get the message too.
    expect_message(&alice, "are you there?").await;

    bob.dm_read("alice", m1.message_id).await.unwrap();
    let marker = expect_push(&alice, |p| {
        peer_update(p).filter(|u| {
            u.peer
                .as_ref()
                .is_some_and(|x| x.peer_read_id == m1.message_id)
        })
    })
    .await;
    assert_eq!(marker.peer.unwrap().unread, 0, "alice has nothing unread");
    let reply = bob.dm_send("alice", "yes!", "b1").await.unwrap();

    let history = bob.dm_history("alice", 0, 50).await.unwrap();
    let texts: Vec<&str> = history.messages.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, ["hello bob", "are you there?", "yes!"]);
    let peer = history.peer.unwrap();
    assert_eq!((peer.unread, peer.my_read_id), (1, m1.message_id));
    let page = bob.dm_history("alice", reply.message_id, 1).await.unwrap();
    assert_eq!(page.messages[0].message_id, m2.message_id);
    assert!(page.has_more);

    // Delete own only.
    assert_eq!(
        refused(bob.dm_delete("alice", m1.message_id)).await,
        ErrorCode::Forbidden
    );
    alice.dm_delete("bob", m1.message_id).await.unwrap();
    let removed = expect_push(&bob, |p| peer_update(p).and_then(|u| u.removed)).await;
    assert_eq!(removed.message_id, m1.message_id);
    assert_eq!(
        bob.dm_history("alice", 0, 50).await.unwrap().messages.len(),
        2
    );

    // Either side may remove the connection; then messages are refused again.
    bob.connection("alice", Action::Remove).await.unwrap();
    expect_status(&alice, "bob", PeerStatus::None).await;
    assert_eq!(
        refused(alice.dm_send("bob", "come back", "a3")).await,
        ErrorCode::NotConnected
    );
    // The snapshot of a fresh device shows the peer and the last message.
    let fresh = connect(&server.ws_url, attendee_token("alice")).await;
    let snapshot = fresh.private_open().await.unwrap().snapshot.unwrap();
    let peer = &snapshot.peers[0];
    assert_eq!(
        (peer.user_id.as_str(), peer.status),
        ("bob", PeerStatus::None as i32)
    );
    assert_eq!(peer.last_message.as_ref().unwrap().text, "yes!");
    server.stop().await;
}

#[tokio::test]
async fn an_ignored_request_stays_pending_for_the_requester_and_can_be_accepted_later() {
    let server = start(|_| {}).await;
    let (carol, dave) = pair(&server.ws_url, "carol", "dave").await;
    carol.connection("dave", Action::Request).await.unwrap();
    expect_status(&dave, "carol", PeerStatus::RequestReceived).await;
    dave.connection("carol", Action::Ignore).await.unwrap();
    expect_status(&dave, "carol", PeerStatus::Ignored).await;
    // Silent: carol hears nothing and still sees her request pending.
    expect_no_push(&carol, Duration::from_millis(500), |p| {
        peer_update(p).is_some_and(|u| u.peer.unwrap().status != PeerStatus::RequestSent as i32)
    })
    .await;
    let snapshot = carol.private_open().await.unwrap().snapshot.unwrap();
    assert_eq!(snapshot.peers[0].status, PeerStatus::RequestSent as i32);
    // Not even when her conversations restate where they stand (a name change).
    carol
        .update_settings(UpdateSettings {
            show_last_name: Some(false),
            ..Default::default()
        })
        .await
        .unwrap();
    // The refresh has run once dave sees her new name.
    expect_push(&dave, |p| {
        peer_update(p).filter(|u| u.peer.as_ref().is_some_and(|x| x.name == "carol"))
    })
    .await;
    expect_no_push(&carol, Duration::from_millis(300), |p| {
        peer_update(p).is_some()
    })
    .await;
    // Asking again changes nothing; messages are refused.
    carol.connection("dave", Action::Request).await.unwrap();
    assert_eq!(
        refused(carol.dm_send("dave", "hello?", "c1")).await,
        ErrorCode::NotConnected
    );
    // Dave changes his mind.
    dave.connection("carol", Action::Accept).await.unwrap();
    expect_status(&carol, "dave", PeerStatus::Connected).await;
    carol.dm_send("dave", "thanks", "c2").await.unwrap();
    expect_message(&dave, "thanks").await;
    // Answering a request that does not exist is refused.
    let (erin, _frank) = pair(&server.ws_url, "erin", "frank").await;
    assert_eq!(
        refused(erin.connection("frank", Action::Accept)).await,
        ErrorCode::InvalidState
    );
    server.stop().await;
}

#[tokio::test]
async fn settings_reach_every_device_and_private_chat_off_refuses_requests_and_messages() {
    let server = start(|_| {}).await;
    let (gina, hank) = connected(&server.ws_url, "gina", "hank").await;
    let gina_phone = connect(&server.ws_url, attendee_token("gina")).await;
    let opened = gina_phone.private_open().await.unwrap();
    assert_eq!(
        opened.snapshot.unwrap().settings.unwrap(),
        UserSettings {
            toast: true,
            private_chat: true,
            show_last_name: true
        }
    );

    gina.update_settings(UpdateSettings {
        private_chat: Some(false),
        show_last_name: Some(false),
        ..Default::default()
    })
    .await
    .unwrap();
    for device in [&gina, &gina_phone] {
        let s = expect_push(device, settings_push).await;
        assert!(!s.private_chat && !s.show_last_name && s.toast);
    }
    // Her connections see her first name only, at once.
    expect_push(&hank, |p| {
        peer_update(p).filter(|u| u.peer.as_ref().is_some_and(|x| x.name == "gina"))
    })
    .await;
    // Nobody can message her, not even a connection, nor request her.
    assert_eq!(
        refused(hank.dm_send("gina", "hi", "h1")).await,
        ErrorCode::PrivateChatDisabled
    );
    let ivan = connect(&server.ws_url, attendee_token("ivan")).await;
    ivan.join("webinar").await.unwrap();
    assert_eq!(
        refused(ivan.connection("gina", Action::Request)).await,
        ErrorCode::PrivateChatDisabled
    );
    // Others see her first name only, and cannot find her by her family name.
    let people = ivan.find_people("gina", 10).await.unwrap().people;
    assert_eq!(people[0].name, "gina");
    let by_family: Vec<String> = ivan
        .find_people("attendee", 10)
        .await
        .unwrap()
        .people
        .into_iter()
        .map(|p| p.user_id)
        .collect();
    assert_eq!(
        by_family,
        ["hank"],
        "hank shows his family name, gina does not"
    );

    gina.update_settings(UpdateSettings {
        private_chat: Some(true),
        ..Default::default()
    })
    .await
    .unwrap();
    hank.dm_send("gina", "welcome back", "h2").await.unwrap();
    expect_message(&gina_phone, "welcome back").await;
    server.stop().await;
}

#[tokio::test]
async fn nobody_reads_or_writes_a_conversation_they_are_not_in() {
    let server = start(|_| {}).await;
    let (judy, karl) = connected(&server.ws_url, "judy", "karl").await;
    let mallory = connect(&server.ws_url, attendee_token("mallory")).await;
    mallory.join("webinar").await.unwrap();
    let opened = mallory.private_open().await.unwrap();
    let since = plenary_client::v1::Position {
        epoch: opened.epoch,
        seq: opened.seq,
    };
    judy.dm_send("karl", "secret", "j1").await.unwrap();
    expect_message(&karl, "secret").await;

    // Commands always name the other user, so a conversation is reached only from
    // inside it: mallory's "history with judy" is her own (empty) conversation.
    let history = mallory.dm_history("judy", 0, 100).await.unwrap();
    assert!(history.messages.is_empty());
    assert_eq!(
        refused(mallory.dm_send("judy", "hi", "m1")).await,
        ErrorCode::NotConnected
    );
    assert_eq!(
        refused(mallory.dm_delete("karl", 1)).await,
        ErrorCode::NotFound
    );
    // The streams' ids cannot be joined as contexts.
    for id in ["~u/judy", "~dm/judy/karl"] {
        assert_eq!(refused(mallory.join(id)).await, ErrorCode::BadRequest);
    }
    // Recovery of her own stream replays nothing of theirs; no push leaked either.
    let recovered = mallory.private_open_since(since).await.unwrap();
    assert!(recovered.recovered);
    assert!(recovered.missed.is_empty(), "{:?}", recovered.missed);
    expect_no_push(&mallory, Duration::from_millis(300), |p| {
        p.context_id == PRIVATE_STREAM
    })
    .await;
    // And messages to oneself are refused.
    assert_eq!(
        refused(judy.dm_send("judy", "me", "j2")).await,
        ErrorCode::BadRequest
    );
    server.stop().await;
}

#[tokio::test]
async fn a_device_that_reconnects_gets_exactly_the_private_pushes_it_missed() {
    let server = start(|_| {}).await;
    let (lena, mut mike) = connected(&server.ws_url, "lena", "mike").await;
    lena.dm_send("mike", "before", "l0").await.unwrap();
    expect_message(&mike, "before").await;
    let position = mike.position(PRIVATE_STREAM).expect("tracked");
    mike.reconnect().await.unwrap();
    let reopened = mike
        .take_private_reopened()
        .expect("the private stream reopened");
    assert!(
        reopened.recovered,
        "nothing was missed yet: recovered, no snapshot"
    );
    assert!(reopened.missed.is_empty());
    for i in 1..=3 {
        lena.dm_send("mike", &format!("while away {i}"), &format!("l{i}"))
            .await
            .unwrap();
    }
    for i in 1..=3 {
        expect_message(&mike, &format!("while away {i}")).await;
    }
    // The same through an explicit recovery from the position before.
    let again = mike.private_open_since(position).await.unwrap();
    assert!(again.recovered);
    let texts: Vec<String> = again
        .missed
        .iter()
        .filter_map(|p| peer_update(p).and_then(|u| u.message).map(|m| m.text))
        .collect();
    assert_eq!(texts, ["while away 1", "while away 2", "while away 3"]);
    server.stop().await;
}

#[tokio::test]
async fn connection_requests_and_private_messages_are_rate_limited() {
    let server = start(|c| {
        c.connect_requests_per_min = 3;
        c.direct_messages_per_sec = 2;
    })
    .await;
    let spammer = connect(&server.ws_url, attendee_token("spammer")).await;
    spammer.join("webinar").await.unwrap();
    spammer.private_open().await.unwrap();
    let mut victims = Vec::new();
    for i in 0..4 {
        let v = connect(&server.ws_url, attendee_token(&format!("v{i}"))).await;
        v.join("webinar").await.unwrap();
        victims.push(v);
    }
    for i in 0..3 {
        spammer
            .connection(&format!("v{i}"), Action::Request)
            .await
            .unwrap();
    }
    let refused_request = spammer.connection("v3", Action::Request).await.unwrap_err();
    assert_eq!(refused_request.server_code(), Some(ErrorCode::RateLimited));

    let (nina, _otto) = connected(&server.ws_url, "nina", "otto").await;
    let mut limited = 0;
    for i in 0..10 {
        if let Err(e) = nina.dm_send("otto", "x", &format!("n{i}")).await {
            assert_eq!(e.server_code(), Some(ErrorCode::RateLimited));
            limited += 1;
        }
    }
    assert!(
        limited >= 5,
        "burst is 2 x 2/s: most of 10 at once are refused"
    );
    server.stop().await;
}

#[tokio::test]
async fn private_chat_frames_with_bad_fields_get_typed_errors() {
    let server = start(|_| {}).await;
    let mut ws = raw(&server.ws_url, "plenary.v1.json").await;
    send_text(
        &mut ws,
        &format!(
            r#"{{"id":1,"connect":{{"token":"{}"}}}}"#,
            attendee_token("pat")
        ),
    )
    .await;
    let _ = next_json(&mut ws).await;
    for (frame, code) in [
        (
            r#"{"id":2,"dm_send":{"user_id":"","text":"x"}}"#,
            "ERROR_CODE_BAD_REQUEST",
        ),
        (
            r#"{"id":3,"connection":{"user_id":"q","action":"NOPE"}}"#,
            "ERROR_CODE_BAD_REQUEST",
        ),
        (
            r#"{"id":4,"connection":{"user_id":"q","action":7}}"#,
            "ERROR_CODE_BAD_REQUEST",
        ),
        (
            r#"{"id":5,"dm_read":{"user_id":"pat","message_id":1}}"#,
            "ERROR_CODE_BAD_REQUEST",
        ),
        (
            r#"{"id":6,"connection":{"user_id":"nobody-ever","action":"CONNECTION_ACTION_KIND_REQUEST"}}"#,
            "ERROR_CODE_NOT_FOUND",
        ),
        (
            r#"{"id":7,"settings":{"toast":"yes"}}"#,
            "ERROR_CODE_BAD_REQUEST",
        ),
    ] {
        send_text(&mut ws, frame).await;
        let reply = next_json(&mut ws).await;
        assert_eq!(reply["reply"]["error"]["code"], code, "{frame} → {reply}");
    }
    server.stop().await;
}

#[tokio::test]
async fn conversations_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let fast = ["--direct-messages-per-sec".to_owned(), "1000".to_owned()];
    let mut node = spawn_process_with(dir.path(), None, &fast).await;
    let ports = node.ports;
    let (quinn, rosa) = connected(&node.ws_url, "quinn", "rosa").await;
    let mut sent = Vec::new();
    for i in 0..20 {
        sent.push(
            quinn
                .dm_send("rosa", &format!("m{i}"), &format!("q{i}"))
                .await
                .unwrap()
                .message_id,
        );
    }
    rosa.dm_read("quinn", sent[9]).await.unwrap();
    node.child.kill().unwrap();
    let _ = node.child.wait();
    drop((quinn, rosa));

    let node = spawn_process_with(dir.path(), Some(ports), &fast).await;
    let rosa = connect(&node.ws_url, attendee_token("rosa")).await;
    let snapshot = rosa.private_open().await.unwrap().snapshot.unwrap();
    let peer = &snapshot.peers[0];
    assert_eq!(peer.status, PeerStatus::Connected as i32);
    assert_eq!((peer.unread, peer.my_read_id), (10, sent[9]));
    let history = rosa.dm_history("quinn", 0, 100).await.unwrap();
    let ids: Vec<u64> = history.messages.iter().map(|m| m.message_id).collect();
    assert_eq!(ids, sent, "every acknowledged message, once, in order");
    // The log holds what reports need: who sent what to whom, and when.
    let log = plenary_bus::EventLog::open(dir.path(), plenary_bus::SyncMode::Normal)
        .await
        .unwrap();
    let loaded = log
        .load_stream::<ConversationEvent>(&plenary_actors::user::pair_stream_id("quinn", "rosa"))
        .await
        .unwrap();
    let posted: Vec<_> = loaded
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            Some(Kind::DirectMessagePosted(m)) => Some((e, m)),
            _ => None,
        })
        .collect();
    assert_eq!(posted.len(), 20);
    let (event, first) = posted[0];
    assert_eq!(
        (
            first.sender_id.as_str(),
            first.recipient_id.as_str(),
            first.text.as_str()
        ),
        ("quinn", "rosa", "m0")
    );
    assert!(event.at_ms > 0);
    assert_eq!(event.actor.as_ref().unwrap().user_id, "quinn");
    assert!(loaded.events.iter().any(|e| matches!(
        &e.kind,
        Some(Kind::ConnectionChanged(c)) if c.change == ConnectionChange::Accepted as i32
    )));
    // And the conversation goes on.
    let quinn = connect(&node.ws_url, attendee_token("quinn")).await;
    quinn.private_open().await.unwrap();
    quinn
        .dm_send("rosa", "after the crash", "q-after")
        .await
        .unwrap();
    let again = quinn.dm_send("rosa", "m3", "q3").await.unwrap();
    assert_eq!((again.message_id, again.duplicate), (sent[3], true));
}

#[tokio::test]
async fn names_hold_for_a_user_who_never_opened_private_chat() {
    let server = start(|_| {}).await;
    // Zoe never opens her private stream; Yan has his open.
    let zoe = connect(&server.ws_url, attendee_token("zoe")).await;
    let yan = connect(&server.ws_url, attendee_token("yan")).await;
    zoe.join("webinar").await.unwrap();
    yan.join("webinar").await.unwrap();
    yan.private_open().await.unwrap();
    zoe.connection("yan", Action::Request).await.unwrap();
    let asked = expect_status(&yan, "zoe", PeerStatus::RequestReceived).await;
    assert_eq!(asked.peer.unwrap().name, "zoe Attendee");
    yan.connection("zoe", Action::Accept).await.unwrap();
    let accepted = expect_status(&yan, "zoe", PeerStatus::Connected).await;
    assert_eq!(
        accepted.peer.unwrap().name,
        "zoe Attendee",
        "accepting must not replace her name with her id"
    );
    // Her request reached her own stream: she sees it when she opens it later.
    let opened = zoe.private_open().await.unwrap().snapshot.unwrap();
    assert_eq!(
        (opened.peers[0].name.as_str(), opened.peers[0].status),
        ("yan Attendee", PeerStatus::Connected as i32)
    );
    server.stop().await;
}
