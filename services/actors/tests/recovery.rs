//! Rejoins with `since`: within reach of what the actor published lately the missed
//! pushes are those very pushes, as encoded when they went out, for the rejoining
//! viewer's channels only; further back they are rendered from the log as before.

use std::sync::{Arc, Mutex};

use plenary_actors::{
    ChatCommand, CommandOutcome, ContextConfig, ContextRegistry, Identity, JoinRequest,
};
use plenary_bus::{Bus, Channel, EventLog, LocalDelivery, SyncMode};
use plenary_proto::v1::{JoinOk, Position, Push, internal::BusPush, push::Body};

/// Every push published, by channel, in order.
#[derive(Default)]
struct Published(Mutex<Vec<(Channel, BusPush)>>);

impl LocalDelivery for Published {
    fn deliver(&self, channel: &Channel, push: BusPush) {
        self.0.lock().unwrap().push((channel.clone(), push));
    }
    fn resync_all(&self) {}
}

impl Published {
    /// The pushes after `after` a viewer listening on `channels` got live.
    fn seen_on(&self, channels: &[Channel], after: u64) -> Vec<Push> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|(channel, bus)| channels.contains(channel) && !bus.announce)
            .filter_map(|(_, bus)| bus.push.clone())
            .filter(|push| push.seq > after)
            .collect()
    }
}

async fn registry(
    config: ContextConfig,
) -> (Arc<ContextRegistry>, Arc<Published>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::open(dir.path(), SyncMode::Normal).await.unwrap();
    let bus = Bus::memory();
    let published = Arc::new(Published::default());
    bus.attach(published.clone());
    (ContextRegistry::new(config, log, bus), published, dir)
}

const CTX: &str = "webinar";

fn person(user_id: &str, moderator: bool) -> Arc<Identity> {
    Arc::new(Identity {
        user_id: user_id.into(),
        given_name: user_id.into(),
        moderates: if moderator {
            [CTX.to_owned()].into()
        } else {
            Default::default()
        },
        ..Identity::default()
    })
}

async fn join(
    registry: &ContextRegistry,
    who: &Arc<Identity>,
    since: Option<Position>,
) -> (JoinOk, usize) {
    let answer = registry
        .join(
            CTX,
            JoinRequest {
                identity: who.clone(),
                since,
                create: true,
            },
        )
        .await
        .unwrap();
    let encoded = answer.missed.len();
    (answer.into_join_ok(), encoded)
}

fn post(text: &str, backchannel: bool) -> ChatCommand {
    ChatCommand::Send {
        text: text.into(),
        client_msg_id: text.into(),
        reply_to: 0,
        backchannel,
        thread_id: 0,
    }
}

async fn run(
    registry: &ContextRegistry,
    who: &Arc<Identity>,
    command: ChatCommand,
) -> CommandOutcome {
    registry.chat(CTX, who.clone(), command).await.unwrap()
}

#[tokio::test]
async fn a_rejoin_within_reach_gets_the_pushes_that_went_out_for_its_channels() {
    let (registry, published, _dir) = registry(ContextConfig::default()).await;
    let (ann, bob, mod_) = (
        person("ann", false),
        person("bob", false),
        person("mo", true),
    );
    let (joined, _) = join(&registry, &ann, None).await;
    join(&registry, &mod_, None).await;
    let since = Position {
        epoch: joined.epoch,
        seq: joined.seq,
    };
    run(&registry, &mod_, post("to everyone", false)).await;
    run(&registry, &mod_, post("moderators only", true)).await;
    let asked = ChatCommand::Ask {
        text: "bob's question".into(),
        client_msg_id: "q".into(),
        thread_id: 0,
    };
    run(&registry, &bob, asked).await;
    let asked = ChatCommand::Ask {
        text: "ann's question".into(),
        client_msg_id: "q".into(),
        thread_id: 0,
    };
    run(&registry, &ann, asked).await;
    run(&registry, &ann, post("ann again", false)).await;

    // Ann: the public pushes and her own thread's, as they went out; not the
    // backchannel nor Bob's thread.
    let (rejoined, encoded) = join(&registry, &ann, Some(since)).await;
    assert!(rejoined.recovered);
    let ann_saw = published.seen_on(
        &[
            Channel::ContextPublic(CTX.into()),
            Channel::ContextUser(CTX.into(), "ann".into()),
        ],
        since.seq,
    );
    assert_eq!(rejoined.missed, ann_saw);
    assert_eq!(
        encoded,
        ann_saw.len(),
        "every missed push as it was encoded"
    );
    assert_eq!(rejoined.seq, ann_saw.last().unwrap().seq);
    let texts: Vec<String> = rejoined.missed.iter().filter_map(text).collect();
    assert!(texts.contains(&"to everyone".to_owned()), "{texts:?}");
    assert!(texts.contains(&"ann's question".to_owned()), "{texts:?}");
    assert!(
        !texts
            .iter()
            .any(|t| t == "moderators only" || t == "bob's question")
    );

    // The moderator: public and moderators' pushes (both questions, the backchannel).
    let (rejoined, encoded) = join(&registry, &mod_, Some(since)).await;
    let mod_saw = published.seen_on(
        &[
            Channel::ContextPublic(CTX.into()),
            Channel::ContextModerators(CTX.into()),
        ],
        since.seq,
    );
    assert_eq!(rejoined.missed, mod_saw);
    assert_eq!(encoded, mod_saw.len());
    let texts: Vec<String> = rejoined.missed.iter().filter_map(text).collect();
    for shown in ["moderators only", "bob's question", "ann's question"] {
        assert!(texts.contains(&shown.to_owned()), "{shown}: {texts:?}");
    }
}

#[tokio::test]
async fn held_like_counts_are_not_answered_but_follow_live() {
    let config = ContextConfig {
        like_flush: std::time::Duration::from_millis(300),
        ..ContextConfig::default()
    };
    let (registry, published, _dir) = registry(config).await;
    let ann = person("ann", false);
    let (joined, _) = join(&registry, &ann, None).await;
    let CommandOutcome::Sent {
        message_id, seq, ..
    } = run(&registry, &ann, post("like me", false)).await
    else {
        panic!("not sent");
    };
    run(&registry, &ann, ChatCommand::Like { message_id }).await;
    // The like is held back for its summary: the answer ends at the message.
    let since = Position {
        epoch: joined.epoch,
        seq: joined.seq,
    };
    let (rejoined, encoded) = join(&registry, &ann, Some(since)).await;
    assert_eq!(rejoined.seq, seq, "the answer stops before the held like");
    assert_eq!(encoded, 1);
    assert_eq!(rejoined.missed.len(), 1);
    // ...and the summary, published later, is after it.
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let later = published.seen_on(&[Channel::ContextPublic(CTX.into())], rejoined.seq);
    assert!(
        later.iter().any(|p| matches!(p.body, Some(Body::Likes(_)))),
        "{later:?}"
    );
}

#[tokio::test]
async fn a_rejoin_beyond_the_recent_pushes_is_rendered_from_the_log() {
    let (registry, published, _dir) = registry(ContextConfig::default()).await;
    let ann = person("ann", false);
    let (joined, _) = join(&registry, &ann, None).await;
    for i in 0..600 {
        run(&registry, &ann, post(&format!("m{i}"), false)).await;
    }
    let since = Position {
        epoch: joined.epoch,
        seq: joined.seq,
    };
    let (rejoined, encoded) = join(&registry, &ann, Some(since)).await;
    assert!(rejoined.recovered);
    assert_eq!(encoded, 0, "too far back for the recent pushes: rendered");
    assert_eq!(rejoined.missed.len(), 600);
    // Recent enough: from the pushes again.
    let near = Position {
        epoch: joined.epoch,
        seq: rejoined.seq - 100,
    };
    let (rejoined, encoded) = join(&registry, &ann, Some(near)).await;
    assert_eq!(encoded, 100);
    assert_eq!(
        rejoined.missed,
        published.seen_on(&[Channel::ContextPublic(CTX.into())], near.seq)
    );
}

fn text(push: &Push) -> Option<String> {
    match &push.body {
        Some(Body::Message(m)) => Some(m.text.clone()),
        _ => None,
    }
}
