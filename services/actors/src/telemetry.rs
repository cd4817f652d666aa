//! Everything the actors tell operators: each event is one function that writes its
//! log line and its metric together, so the two never drift (docs/OPERATIONS.md §9
//! lists the metrics).

use std::{fmt::Display, time::Duration};

use tracing::{debug, error, warn};

/// The kinds of actor, as metric labels.
#[derive(Clone, Copy, Debug)]
pub(crate) enum ActorKind {
    Context,
    User,
    Conversation,
}

/// An actor was started (first use, after passivation, or a shard moved here).
pub(crate) fn actor_started(kind: ActorKind) {
    debug!(?kind, "actor started");
    match kind {
        ActorKind::Context => metrics::counter!("plenary_context_actors_started_total"),
        ActorKind::User => metrics::counter!("plenary_user_actors_started_total"),
        ActorKind::Conversation => metrics::counter!("plenary_conversation_actors_started_total"),
    }
    .increment(1);
}

/// An actor is running (`running` true) or stopped: the gauges of actors in memory.
pub(crate) fn actor_running(kind: ActorKind, running: bool) {
    let gauge = match kind {
        ActorKind::Context => metrics::gauge!("plenary_context_actors"),
        ActorKind::User => metrics::gauge!("plenary_private_actors", "kind" => "user"),
        ActorKind::Conversation => {
            metrics::gauge!("plenary_private_actors", "kind" => "conversation")
        }
    };
    if running {
        gauge.increment(1.0);
    } else {
        gauge.decrement(1.0);
    }
}

/// A batch of `events` was committed to the log in `took`.
pub(crate) fn log_appended(events: usize, took: Duration) {
    metrics::histogram!("plenary_log_append_seconds").record(took.as_secs_f64());
    metrics::counter!("plenary_events_appended_total").increment(events as u64);
    metrics::histogram!("plenary_log_batch_events").record(events as f64);
}

/// An append of `events` to the log failed, and what the actor does about it (`then`).
/// `fenced`: refused because another node owns the stream now (expected after a shard
/// moved; the actor stops).
pub(crate) fn log_append_failed(error: &impl Display, events: usize, fenced: bool, then: &str) {
    metrics::counter!("plenary_log_append_failures_total").increment(1);
    if fenced {
        warn!(error = %error, "append refused by fencing; this actor stops");
    } else {
        error!(error = %error, events, "event log append failed; {then}");
    }
}

/// A command was refused because an actor's mailbox stayed full.
pub(crate) fn mailbox_full() {
    debug!("mailbox full: command refused");
    metrics::counter!("plenary_mailbox_full_total").increment(1);
}

/// A command was forwarded to the node that owns its stream.
pub(crate) fn command_forwarded(node: &str) {
    debug!(node, "command forwarded to the owner");
    metrics::counter!("plenary_commands_forwarded_total").increment(1);
}

/// A join created its context (no `CreateContext` came first).
pub(crate) fn context_created_implicitly() {
    debug!("context created by a join");
    metrics::counter!("plenary_contexts_created_implicitly_total").increment(1);
}

/// The Q&A queue sent `threads` claims back to pending: their moderators were away.
pub(crate) fn qa_auto_released(threads: u64) {
    debug!(threads, "claims auto-released");
    metrics::counter!("plenary_qa_auto_releases_total").increment(threads);
}

/// A user's actor could not be told of a conversation's change (`notices` of them).
pub(crate) fn private_notices_undelivered(notices: usize, user: &str, error: &impl Display) {
    metrics::counter!("plenary_private_notices_undelivered_total").increment(notices as u64);
    warn!(user_id = %user, error = %error,
        "a user's actor cannot be told of a conversation's change; the conversation stops and tells it when it starts again");
}

/// A group-chat message was refused by its room's pace: the delivery budget (the
/// room sends faster than its fan-out can deliver) or slow mode. Counted only: a
/// flood would otherwise flood the log too.
pub(crate) fn room_paced(reason: &'static str) {
    metrics::counter!("plenary_room_paced_total", "reason" => reason).increment(1);
}
