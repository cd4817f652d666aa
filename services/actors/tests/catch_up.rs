//! A conversation that committed a change but died before telling its users (a crash
//! between the two) tells them, in order, as soon as it runs again.

use std::{sync::Arc, time::Duration};

use plenary_actors::{
    ContextConfig, ContextRegistry, Identity,
    user::{ConnectionAction, PairCommand, pair_stream_id},
};
use plenary_bus::{Bus, EventLog, SyncMode};
use plenary_proto::v1::{
    Position,
    events::{ConversationEvent, DirectMessagePosted, conversation_event::Kind},
    push::Body,
};

fn identity(id: &str) -> Arc<Identity> {
    Arc::new(Identity {
        user_id: id.into(),
        given_name: id.into(),
        ..Identity::default()
    })
}

#[tokio::test]
async fn a_change_committed_but_never_told_reaches_the_users_when_the_conversation_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::open(dir.path(), SyncMode::Normal).await.unwrap();
    let config = ContextConfig {
        private_passivate_after: Duration::from_millis(150),
        ..ContextConfig::default()
    };
    let registry = ContextRegistry::new(config, log.clone(), Bus::memory());
    let (alice, bob) = (identity("alice"), identity("bob"));
    registry.private_open(alice.clone(), None).await.unwrap();
    registry.private_open(bob.clone(), None).await.unwrap();
    let request = PairCommand::Connection(ConnectionAction::Request);
    registry
        .pair_command(&alice, "bob", None, request)
        .await
        .unwrap();
    let accept = PairCommand::Connection(ConnectionAction::Accept);
    registry
        .pair_command(&bob, "alice", None, accept)
        .await
        .unwrap();
    let send = PairCommand::Send {
        text: "told".into(),
        client_msg_id: "1".into(),
    };
    registry
        .pair_command(&alice, "bob", None, send)
        .await
        .unwrap();
    let before = registry.private_open(bob.clone(), None).await.unwrap();
    let position = Position {
        epoch: before.epoch,
        seq: before.seq,
    };

    // Every actor passivates; then a message is committed that nobody was told of,
    // as if the conversation had crashed between its commit and its notices.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let stream = pair_stream_id("alice", "bob");
    let loaded = log.load_stream::<ConversationEvent>(&stream).await.unwrap();
    let last = loaded.events.last().unwrap();
    let lost = ConversationEvent {
        stream_id: stream.clone(),
        epoch: last.epoch,
        seq: last.seq + 1,
        at_ms: last.at_ms + 1,
        actor: None,
        kind: Some(Kind::DirectMessagePosted(Box::new(DirectMessagePosted {
            sender_id: "alice".into(),
            recipient_id: "bob".into(),
            text: "committed, never told".into(),
            client_msg_id: "2".into(),
            ..Default::default()
        }))),
    };
    log.append(&stream, last.epoch, std::slice::from_ref(&lost), None)
        .await
        .unwrap();
    let untold = registry
        .private_open(bob.clone(), Some(position))
        .await
        .unwrap();
    assert!(untold.recovered && untold.missed.is_empty(), "not told yet");

    // Any use of the conversation starts it, and it catches its users up first.
    let history = registry.history("bob", "alice", 0, 10).await.unwrap();
    assert_eq!(history.messages.len(), 2);
    let after = registry
        .private_open(bob.clone(), Some(position))
        .await
        .unwrap();
    assert!(after.recovered);
    let texts: Vec<String> = after
        .missed
        .iter()
        .filter_map(|p| match &p.body {
            Some(Body::PeerUpdate(u)) => u.message.as_ref().map(|m| m.text.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(texts, ["committed, never told"]);
    // Told once: starting again tells nothing new.
    tokio::time::sleep(Duration::from_millis(500)).await;
    registry.history("bob", "alice", 0, 10).await.unwrap();
    let again = registry
        .private_open(bob.clone(), Some(position))
        .await
        .unwrap();
    assert_eq!(again.missed.len(), after.missed.len());
}
