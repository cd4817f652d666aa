//! Moderation: pins (messages shown above the chat) and blocks (a blocked user reads
//! but cannot write). Moderators only; the caller checks the role.

use std::collections::{BTreeMap, HashMap};

use plenary_proto::v1::{
    BlockedUser, ChatMessage, MessageRef, UserRef,
    events::{
        Actor, ContextEvent, MessagePinned, MessageUnpinned, UserBlocked, UserUnblocked,
        context_event::Kind,
    },
    push::Body,
};
use serde::{Deserialize, Serialize};

use super::{
    backchannel,
    chat::{self, ChatLimits},
    command::{CommandOutcome, Rejection},
    state::{ContextState, Decision},
    view::{self, Viewer},
};

/// Who blocked a user, and when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BlockRecord {
    pub email: String,
    pub by_user_id: String,
    pub by_email: String,
    pub at_ms: u64,
}

/// A context's pins and blocks (flattened into the context's snapshot).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Moderation {
    /// Pinned message ids, in pin order.
    pub pinned: Vec<u64>,
    pub blocked: BTreeMap<String, BlockRecord>,
    /// Emails of users seen acting here, so a block can record the blocked email.
    pub emails: HashMap<String, String>,
}

impl Moderation {
    pub fn is_blocked(&self, user_id: &str) -> bool {
        self.blocked.contains_key(user_id)
    }

    /// Remembers the email of whoever acts, so a later block can record it.
    pub(super) fn remember_email(&mut self, actor: &Actor) {
        if !actor.user_id.is_empty() && !actor.email.is_empty() {
            self.emails
                .insert(actor.user_id.clone(), actor.email.clone());
        }
    }

    pub(super) fn apply(&mut self, event: &ContextEvent, actor: &Actor, kind: &Kind) {
        match kind {
            Kind::MessageDeleted(d) => self.pinned.retain(|id| *id != d.message_id),
            Kind::MessagePinned(p) => self.pinned.push(p.message_id),
            Kind::MessageUnpinned(p) => self.pinned.retain(|id| *id != p.message_id),
            Kind::UserBlocked(b) => {
                self.blocked.insert(
                    b.user_id.clone(),
                    BlockRecord {
                        email: b.email.clone(),
                        by_user_id: actor.user_id.clone(),
                        by_email: actor.email.clone(),
                        at_ms: event.at_ms,
                    },
                );
            }
            Kind::UserUnblocked(b) => {
                self.blocked.remove(&b.user_id);
            }
            _ => {}
        }
    }

    /// A `block` of `user_id` by `actor`.
    pub(super) fn decide_block(&self, actor: &Actor, user_id: &str) -> Result<Decision, Rejection> {
        if user_id.is_empty() {
            return Err(Rejection::BadRequest("user_id is required".into()));
        }
        if user_id == actor.user_id {
            return Err(Rejection::BadRequest("you cannot block yourself".into()));
        }
        if self.is_blocked(user_id) {
            return Ok(Decision::Already(CommandOutcome::Done { seq: 0 }));
        }
        Ok(Decision::Emit(Kind::UserBlocked(UserBlocked {
            user_id: user_id.to_owned(),
            email: self.emails.get(user_id).cloned().unwrap_or_default(),
        })))
    }

    /// An `unblock`.
    pub(super) fn decide_unblock(&self, user_id: &str) -> Decision {
        match self.blocked.get(user_id) {
            None => Decision::Already(CommandOutcome::Done { seq: 0 }),
            Some(record) => Decision::Emit(Kind::UserUnblocked(UserUnblocked {
                user_id: user_id.to_owned(),
                email: record.email.clone(),
            })),
        }
    }

    /// An `unpin`.
    pub(super) fn decide_unpin(&self, message_id: u64) -> Decision {
        if !self.pinned.contains(&message_id) {
            return Decision::Already(CommandOutcome::Done { seq: 0 });
        }
        Decision::Emit(Kind::MessageUnpinned(MessageUnpinned { message_id }))
    }

    /// The blocked users, as moderators see them.
    pub(super) fn blocked_users(&self) -> Vec<BlockedUser> {
        self.blocked
            .iter()
            .map(|(user_id, b)| BlockedUser {
                user_id: user_id.clone(),
                email: b.email.clone(),
                blocked_by: b.by_user_id.clone(),
                blocked_at_ms: b.at_ms,
            })
            .collect()
    }
}

impl ContextState {
    /// A `pin`: a group-chat message the moderator can see, within the pin limit.
    pub(super) fn decide_pin(
        &self,
        limits: &ChatLimits,
        actor: &Actor,
        message_id: u64,
    ) -> Result<Decision, Rejection> {
        let message = self.message(message_id, "message", actor)?;
        if message.thread_id != 0 {
            return Err(Rejection::BadRequest(
                "Q&A messages cannot be pinned; publish the question with its answer instead"
                    .into(),
            ));
        }
        backchannel::check_pin(message)?;
        if self.moderation.pinned.contains(&message_id) {
            return Ok(Decision::Already(CommandOutcome::Done { seq: 0 }));
        }
        if self.moderation.pinned.len() >= limits.max_pinned {
            return Err(Rejection::LimitReached("pinned items".into()));
        }
        Ok(Decision::Emit(Kind::MessagePinned(MessagePinned {
            message_id,
        })))
    }
}

/// The pinned messages `viewer` may see, in pin order.
pub(super) fn pinned_view(state: &ContextState, viewer: Viewer<'_>) -> Vec<ChatMessage> {
    state
        .moderation
        .pinned
        .iter()
        .filter_map(|id| {
            state
                .chat
                .messages
                .get(id)
                .filter(|m| view::can_see(state, m, viewer))
                .map(|m| chat::chat_message(state, *id, m, viewer))
        })
        .collect()
}

/// The push a pin or block event becomes; `None` for other events (or a pin of a
/// message deleted since, in a replay).
pub(super) fn push_body(
    state: &ContextState,
    event: &ContextEvent,
    kind: &Kind,
    viewer: Viewer<'_>,
) -> Option<Body> {
    Some(match kind {
        Kind::MessagePinned(p) => Body::Pinned(chat::chat_message(
            state,
            p.message_id,
            state.chat.messages.get(&p.message_id)?,
            viewer,
        )),
        Kind::MessageUnpinned(p) => Body::Unpinned(MessageRef {
            message_id: p.message_id,
        }),
        Kind::UserBlocked(b) => Body::Blocked(BlockedUser {
            user_id: b.user_id.clone(),
            email: b.email.clone(),
            blocked_by: event
                .actor
                .as_ref()
                .map(|a| a.user_id.clone())
                .unwrap_or_default(),
            blocked_at_ms: event.at_ms,
        }),
        Kind::UserUnblocked(b) => Body::Unblocked(UserRef {
            user_id: b.user_id.clone(),
        }),
        _ => return None,
    })
}
