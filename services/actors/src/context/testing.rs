//! What the context's unit tests share.

use plenary_proto::v1::events::{Actor, ContextEvent, ContextSettings};

use super::{command::AdminCommand, state::ContextState};

/// A user acting in the test context `w1`.
pub(crate) fn actor(id: &str, moderator: bool) -> Actor {
    Actor {
        user_id: id.into(),
        email: format!("{id}@example.test"),
        given_name: id.into(),
        family_name: "Test".into(),
        moderator,
    }
}

/// The context `w1`, just created (seq 1).
pub(crate) fn created() -> ContextState {
    let mut s = ContextState::new("w1");
    let kind = s
        .decide_admin(&AdminCommand::Create(ContextSettings::default()))
        .unwrap();
    s.apply(&ContextEvent {
        context_id: "w1".into(),
        epoch: 1,
        seq: 1,
        at_ms: 5,
        actor: None,
        kind: Some(kind),
    });
    s
}
