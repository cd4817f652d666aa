//! What a context actor keeps, and for how long: a join that may not create leaves
//! nothing behind, one that may creates the context once, and an idle context leaves
//! the registry (and is rebuilt from the log when used again).

mod common;

use std::{sync::Arc, time::Duration};

use common::registry;
use plenary_actors::{ContextConfig, ContextRegistry, Identity, JoinRequest, Rejection};
use plenary_proto::v1::Role;

fn join(create: bool) -> JoinRequest {
    JoinRequest {
        identity: Arc::new(Identity {
            user_id: "ann".into(),
            given_name: "Ann".into(),
            ..Identity::default()
        }),
        since: None,
        create,
    }
}

/// Waits (at most 5 s) until the registry holds no actor.
async fn until_empty(registry: &ContextRegistry) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while registry.actors_in_memory() > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} actors still in memory after 5 s",
            registry.actors_in_memory()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_join_that_may_not_create_an_unknown_context_leaves_nothing_behind() {
    // The default idle time-out (ten minutes) must not apply to a context that is not.
    let (registry, log, _dir) = registry(ContextConfig::default()).await;
    for i in 0..20 {
        let refused = registry.join(&format!("unknown-{i}"), join(false)).await;
        assert!(
            matches!(refused, Err(Rejection::ContextNotFound(_))),
            "{refused:?}"
        );
    }
    until_empty(&registry).await;
    let stored = log.load("unknown-0").await.unwrap();
    assert!(stored.events.is_empty(), "nothing is written");
}

#[tokio::test]
async fn a_join_that_may_create_creates_the_context_once() {
    let (registry, log, _dir) = registry(ContextConfig::default()).await;
    let created = registry.join("adhoc", join(true)).await.unwrap().ok;
    assert_eq!(created.context.unwrap().name, "adhoc");
    assert_eq!(created.seq, 1);
    // Joining it again, whether or not the join may create, creates nothing more.
    for create in [false, true] {
        let joined = registry.join("adhoc", join(create)).await.unwrap().ok;
        assert_eq!((joined.epoch, joined.seq), (created.epoch, 1));
        assert_eq!(joined.role, Role::Attendee as i32);
    }
    assert_eq!(log.load("adhoc").await.unwrap().events.len(), 1);
}

#[tokio::test]
async fn a_node_that_requires_created_contexts_never_creates_one_by_a_join() {
    let config = ContextConfig {
        auto_create: false,
        ..ContextConfig::default()
    };
    let (registry, log, _dir) = registry(config).await;
    let refused = registry.join("adhoc", join(true)).await;
    assert!(
        matches!(refused, Err(Rejection::ContextNotFound(_))),
        "{refused:?}"
    );
    until_empty(&registry).await;
    assert!(log.load("adhoc").await.unwrap().events.is_empty());
}

#[tokio::test]
async fn an_idle_context_leaves_the_registry_and_comes_back_from_the_log() {
    let config = ContextConfig {
        passivate_after: Duration::from_millis(200),
        ..ContextConfig::default()
    };
    let (registry, log, _dir) = registry(config).await;
    let created = registry.join("adhoc", join(true)).await.unwrap().ok;
    assert_eq!(registry.actors_in_memory(), 1);
    until_empty(&registry).await;
    // Stopping cleanly, it wrote the joins of the window in progress (one join).
    let events = log.load("adhoc").await.unwrap().events;
    match &events.last().and_then(|e| e.kind.as_ref()) {
        Some(plenary_proto::v1::events::context_event::Kind::JoinsCounted(counted)) => {
            assert_eq!(counted.joins, 1)
        }
        other => panic!("the last event is not the joins counted: {other:?}"),
    }
    let again = registry.join("adhoc", join(false)).await.unwrap().ok;
    assert_eq!(
        (again.epoch, again.seq),
        (created.epoch, created.seq + 1),
        "back from the log, as it was left"
    );
}
