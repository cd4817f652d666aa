//! What clients see of a context: snapshots on join, and the push each event becomes
//! (or none, for an audience that may not see it).

use plenary_proto::v1::{
    BlockedUser, ChatMessage, ContextInfo, LikeCount, LikeCounts, MessageRef, MessageRemoved,
    Snapshot, Update, UserRef,
    events::{Audience, ContextEvent, ContextSettings, context_event::Kind},
    push::Body,
};

use super::state::{ContextState, MessageRecord};
use crate::identity::{Role, author_of};

/// Who may see an event: blocks and everything in the backchannel are for moderators.
pub fn audience_of(kind: &Kind) -> Audience {
    let moderators_only = match kind {
        Kind::UserBlocked(_) | Kind::UserUnblocked(_) => true,
        Kind::MessagePosted(m) => m.backchannel,
        Kind::MessageLiked(l) => l.backchannel,
        Kind::MessageUnliked(l) => l.backchannel,
        Kind::MessageDeleted(d) => d.backchannel,
        _ => false,
    };
    if moderators_only {
        Audience::Moderators
    } else {
        Audience::Everyone
    }
}

/// Whether someone in `role` may see events for `audience`.
pub fn visible_to(audience: Audience, role: Role) -> bool {
    audience == Audience::Everyone || role == Role::Moderator
}

/// The client view of a context's settings.
pub fn context_info(id: &str, settings: &ContextSettings) -> ContextInfo {
    ContextInfo {
        id: id.to_owned(),
        name: settings.name.clone(),
        starts_at_ms: settings.starts_at_ms,
        ends_at_ms: settings.ends_at_ms,
        registered_attendees: settings.registered_attendees,
        qa_mode: settings.qa_mode,
    }
}

fn chat_message(id: u64, m: &MessageRecord) -> ChatMessage {
    ChatMessage {
        id,
        author: Some(author_of(&m.author)),
        text: m.text.clone(),
        reply_to: m.reply_to,
        sent_at_ms: m.sent_at_ms,
        like_count: m.likers.len() as u32,
        client_msg_id: m.client_msg_id.clone(),
        backchannel: m.backchannel,
    }
}

/// The push body an event becomes, given the state *after* it was applied. `None`
/// when there is nothing to show (a pin of a message deleted since, in a replay).
pub fn push_body(state: &ContextState, event: &ContextEvent) -> Option<Body> {
    let kind = event.kind.as_ref()?;
    Some(match kind {
        Kind::Created(c) => Body::Context(context_info(&state.id, c.settings.as_ref()?)),
        Kind::Updated(u) => Body::Context(context_info(&state.id, u.settings.as_ref()?)),
        Kind::MessagePosted(m) => Body::Message(ChatMessage {
            id: m.message_id,
            author: event.actor.as_ref().map(author_of),
            text: m.text.clone(),
            reply_to: m.reply_to,
            sent_at_ms: event.at_ms,
            like_count: 0,
            client_msg_id: m.client_msg_id.clone(),
            backchannel: m.backchannel,
        }),
        Kind::MessageLiked(l) => like_counts(l.message_id, l.like_count),
        Kind::MessageUnliked(l) => like_counts(l.message_id, l.like_count),
        Kind::MessageDeleted(d) => Body::Deleted(MessageRemoved {
            message_id: d.message_id,
            by_moderator: d.by_moderator,
        }),
        Kind::MessagePinned(p) => Body::Pinned(chat_message(
            p.message_id,
            state.messages.get(&p.message_id)?,
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
        Kind::UpdatePosted(u) => Body::Update(Update {
            id: event.seq,
            title: u.title.clone(),
            text: u.text.clone(),
            toast: u.toast,
            posted_at_ms: event.at_ms,
        }),
    })
}

fn like_counts(message_id: u64, count: u32) -> Body {
    Body::Likes(LikeCounts {
        counts: vec![LikeCount { message_id, count }],
    })
}

/// The state a joining user starts from.
pub fn snapshot(state: &ContextState, user_id: &str, role: Role, recent: usize) -> Snapshot {
    let recent_in = |backchannel: bool| -> Vec<ChatMessage> {
        let mut v: Vec<ChatMessage> = state
            .messages
            .iter()
            .rev()
            .filter(|(_, m)| m.backchannel == backchannel)
            .take(recent)
            .map(|(id, m)| chat_message(*id, m))
            .collect();
        v.reverse();
        v
    };
    let messages = recent_in(false);
    let pinned: Vec<ChatMessage> = state
        .pinned
        .iter()
        .filter_map(|id| state.messages.get(id).map(|m| chat_message(*id, m)))
        .collect();
    let backchannel = if role == Role::Moderator {
        recent_in(true)
    } else {
        Vec::new()
    };
    let mut liked_by_me: Vec<u64> = messages
        .iter()
        .chain(pinned.iter())
        .chain(backchannel.iter())
        .filter(|m| {
            state
                .messages
                .get(&m.id)
                .is_some_and(|r| r.likers.contains(user_id))
        })
        .map(|m| m.id)
        .collect();
    liked_by_me.sort_unstable();
    liked_by_me.dedup();
    let blocked_users = if role == Role::Moderator {
        state
            .blocked
            .iter()
            .map(|(user_id, b)| BlockedUser {
                user_id: user_id.clone(),
                email: b.email.clone(),
                blocked_by: b.by_user_id.clone(),
                blocked_at_ms: b.at_ms,
            })
            .collect()
    } else {
        Vec::new()
    };
    let updates = state
        .updates
        .iter()
        .map(|u| Update {
            id: u.id,
            title: u.title.clone(),
            text: u.text.clone(),
            toast: u.toast,
            posted_at_ms: u.at_ms,
        })
        .collect();
    Snapshot {
        messages,
        pinned,
        liked_by_me,
        blocked: state.blocked.contains_key(user_id),
        blocked_users,
        backchannel,
        updates,
    }
}
