//! What the context's unit tests share.

use plenary_proto::v1::events::{Actor, ContextEvent, ContextSettings, context_event::Kind};

use super::{
    CommandOutcome,
    command::{AdminCommand, ChatCommand},
    state::{ChatLimits, ContextState, Decision, outcome_of},
};
use crate::Rejection;

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

/// Runs `command` by `who` as the actor does: decide, then apply each event, as `stamp`
/// makes it from the state before it. Its outcome and the events appended.
pub(crate) fn run_stamped(
    s: &mut ContextState,
    who: &Actor,
    command: ChatCommand,
    stamp: impl Fn(&ContextState, Option<&Actor>, Kind) -> ContextEvent,
) -> Result<(CommandOutcome, Vec<ContextEvent>), Rejection> {
    let kinds = match s.decide(&ChatLimits::default(), who, &command)? {
        Decision::Already(outcome) => return Ok((outcome, Vec::new())),
        Decision::Emit(kind) => vec![kind],
        Decision::EmitAll(kinds) => kinds,
    };
    let mut events = Vec::new();
    for kind in kinds {
        let event = stamp(s, Some(who), kind);
        s.apply(&event);
        events.push(event);
    }
    let outcome = events
        .last()
        .map_or(CommandOutcome::Done { seq: 0 }, outcome_of);
    Ok((outcome, events))
}
