//! The registry's own tests, on an embedded registry: routing by kind of stream, calls
//! meant only for running actors, and forwarded calls served from their bytes.

use std::sync::Arc;

use dashmap::DashMap;
use plenary_bus::{Bus, EventLog, SyncMode};
use plenary_proto::v1::internal as pb;
use prost::Message;
use tokio::sync::oneshot;

use super::{
    ContextRegistry,
    call::{Chat, Get, ModeratorPresence},
    shrink_if_sparse,
    wire::{self, LEGACY_REFUSAL},
};
use crate::{
    context::{
        ChatCommand, CommandOutcome, ContextConfig, ContextView, JoinAnswer, JoinRequest, Rejection,
    },
    identity::Identity,
};

async fn registry() -> (Arc<ContextRegistry>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::open(dir.path(), SyncMode::Normal).await.unwrap();
    let registry = ContextRegistry::new(ContextConfig::default(), log, Bus::memory());
    (registry, dir)
}

fn moderator() -> Arc<Identity> {
    Arc::new(Identity {
        user_id: "mod-1".into(),
        admin: true,
        ..Identity::default()
    })
}

fn join() -> JoinRequest {
    JoinRequest {
        identity: moderator(),
        since: None,
        create: true,
    }
}

/// Serves forwarded bytes as the owner would, and returns the bytes it answered.
async fn served(registry: &ContextRegistry, body: &[u8]) -> Vec<u8> {
    let (tx, rx) = oneshot::channel();
    registry.serve_forwarded(body, move |bytes| drop(tx.send(bytes)));
    rx.await.expect("every forwarded request is answered")
}

#[tokio::test]
async fn moderator_presence_never_starts_an_actor() {
    let (registry, _dir) = registry().await;
    registry.moderator_presence("webinar", "mod-1", true);
    let told = registry
        .run(
            "webinar",
            ModeratorPresence {
                user_id: "mod-1".into(),
                present: true,
            },
        )
        .await;
    assert_eq!(told, Ok(()));
    let forwarded = wire::encode_request(
        "webinar",
        ModeratorPresence {
            user_id: "mod-1".into(),
            present: false,
        },
    );
    let answer = served(&registry, &forwarded).await;
    assert_eq!(wire::decode_answer::<()>(&answer), Ok(Ok(())));
    assert_eq!(registry.actors_in_memory(), 0);

    // Once the context runs, the same calls reach it and still start nothing else.
    registry.join("webinar", join()).await.unwrap();
    registry.moderator_presence("webinar", "mod-1", true);
    assert_eq!(
        registry
            .run(
                "webinar",
                ModeratorPresence {
                    user_id: "mod-1".into(),
                    present: true,
                },
            )
            .await,
        Ok(())
    );
    assert_eq!(registry.actors_in_memory(), 1);
}

#[tokio::test]
async fn a_context_call_for_a_private_stream_is_refused_as_the_wrong_kind() {
    let (registry, _dir) = registry().await;
    let refused = registry.join("~u/al", join()).await.unwrap_err();
    assert_eq!(
        refused,
        Rejection::BadRequest("this id belongs to another kind of stream".into())
    );
    let refused = registry.get("~u/al").await.unwrap_err();
    assert!(matches!(refused, Rejection::BadRequest(_)), "{refused:?}");
}

#[tokio::test]
async fn a_forwarded_call_runs_here_and_answers_in_the_wire_format() {
    let (registry, _dir) = registry().await;
    let answer = served(&registry, &wire::encode_request("webinar", join())).await;
    let joined: JoinAnswer = wire::decode_answer(&answer).unwrap().unwrap();
    assert!(joined.ok.epoch > 0, "a real join: {joined:?}");

    let send = Chat {
        identity: moderator(),
        command: ChatCommand::Send {
            text: "hello".into(),
            client_msg_id: "c-1".into(),
            reply_to: 0,
            backchannel: false,
            thread_id: 0,
        },
    };
    let answer = served(&registry, &wire::encode_request("webinar", send.clone())).await;
    let sent = wire::decode_answer::<CommandOutcome>(&answer)
        .unwrap()
        .unwrap();
    let CommandOutcome::Sent {
        message_id,
        duplicate: false,
        ..
    } = sent
    else {
        panic!("not sent: {sent:?}");
    };
    // The same message again (a retry) is recognised, here as through the registry.
    let again = served(&registry, &wire::encode_request("webinar", send)).await;
    assert!(matches!(
        wire::decode_answer::<CommandOutcome>(&again),
        Ok(Ok(CommandOutcome::Sent { message_id: id, duplicate: true, .. })) if id == message_id
    ));

    let answer = served(&registry, &wire::encode_request("webinar", Get)).await;
    let view: ContextView = wire::decode_answer(&answer).unwrap().unwrap();
    assert_eq!(view.id, "webinar");
    assert_eq!(view, registry.get("webinar").await.unwrap());

    // A refusal travels as one: an attendee may not delete others' messages.
    let attendee = Chat {
        identity: Arc::new(Identity {
            user_id: "att-1".into(),
            ..Identity::default()
        }),
        command: ChatCommand::Delete { message_id },
    };
    let answer = served(&registry, &wire::encode_request("webinar", attendee)).await;
    assert_eq!(
        wire::decode_answer::<CommandOutcome>(&answer),
        Ok(Err(Rejection::Forbidden))
    );
}

#[tokio::test]
async fn bytes_a_node_cannot_read_are_answered_with_a_typed_refusal() {
    let (registry, _dir) = registry().await;
    let legacy = br#"{"context_id":"webinar","op":"Get"}"#;
    assert_eq!(served(&registry, legacy).await, LEGACY_REFUSAL);

    let garbage = served(&registry, &[0x0a, 0xff, 0xff]).await;
    let refused = wire::decode_answer::<()>(&garbage).unwrap().unwrap_err();
    assert!(
        matches!(&refused, Rejection::BadRequest(why) if why.starts_with("unreadable forwarded request")),
        "{refused:?}"
    );

    let unknown_kind = pb::Forwarded {
        stream_id: "webinar".into(),
        op: None,
    }
    .encode_to_vec();
    let refused = wire::decode_answer::<()>(&served(&registry, &unknown_kind).await)
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(&refused, Rejection::Unavailable(why) if why.contains("older release")),
        "{refused:?}"
    );

    let without_identity = pb::Forwarded {
        stream_id: "webinar".into(),
        op: Some(pb::forwarded::Op::Join(pb::Join::default())),
    }
    .encode_to_vec();
    let refused = wire::decode_answer::<()>(&served(&registry, &without_identity).await)
        .unwrap()
        .unwrap_err();
    assert_eq!(
        refused,
        Rejection::BadRequest("unreadable forwarded request: the identity is missing".into())
    );
    assert_eq!(
        registry.actors_in_memory(),
        0,
        "nothing unreadable started an actor"
    );
}

#[test]
fn a_map_mostly_emptied_gives_its_room_back() {
    let map: DashMap<u32, u32> = DashMap::new();
    for i in 0..10_000 {
        map.insert(i, i);
    }
    let full = map.capacity();
    let third = (full / 3) as u32;
    map.retain(|k, _| *k < third);
    shrink_if_sparse(&map);
    // (Removals leave tombstones, so `capacity` already reads a little lower.)
    assert!(
        map.capacity() > 2 * map.len(),
        "a third full: kept as it is, {} of {full} kept",
        map.capacity()
    );
    map.retain(|k, _| *k < 100);
    shrink_if_sparse(&map);
    assert!(
        map.capacity() < full / 10,
        "1 % full: {} of {full} kept",
        map.capacity()
    );
    assert_eq!(map.len(), 100);
}
