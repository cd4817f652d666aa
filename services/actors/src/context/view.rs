//! What clients see of a context: snapshots on join, and the push each event becomes
//! for each audience (or none, for an audience that may not see it).

use std::collections::HashMap;

use plenary_proto::v1::{
    Author, BlockedUser, ChatMessage, ContextInfo, FeedQa, FeedRef, LikeCount, LikeCounts,
    MessageRef, MessageRemoved, QaThread, QueueCounts, Snapshot, Update, UserRef,
    events::{
        Actor, ContextEvent, ContextSettings, MessagePinned, MessageUnpinned, context_event::Kind,
    },
    push::Body,
};

use super::{
    qa::ThreadState,
    state::{ContextState, MessageRecord, PublishedQa},
};
use crate::identity::{Role, author_of};

/// Who may see an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Audience {
    Everyone,
    /// Blocks and the backchannel.
    Moderators,
    /// A Q&A thread: moderators, and this attendee.
    Thread {
        attendee: String,
    },
}

/// Who is looking.
#[derive(Clone, Copy, Debug)]
pub struct Viewer<'a> {
    pub user_id: &'a str,
    pub role: Role,
}

impl<'a> Viewer<'a> {
    /// The viewer an event's actor is (their role is on the actor).
    pub fn of(actor: &'a Actor) -> Self {
        Viewer {
            user_id: &actor.user_id,
            role: if actor.moderator {
                Role::Moderator
            } else {
                Role::Attendee
            },
        }
    }
}

/// Where a message lives. Its area alone decides who may see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Area {
    GroupChat,
    /// The moderators' backchannel.
    Backchannel,
    /// A Q&A thread.
    Thread(u64),
}

impl Area {
    /// The area of a message (or of an event about one) carrying these flags. Posting
    /// in both is refused, but a log written before may hold such a message: the
    /// narrower audience wins, so it stays in the backchannel.
    pub fn of(backchannel: bool, thread_id: u64) -> Area {
        match (backchannel, thread_id) {
            (true, _) => Area::Backchannel,
            (false, 0) => Area::GroupChat,
            (false, thread) => Area::Thread(thread),
        }
    }
}

impl MessageRecord {
    /// Where this message lives.
    pub fn area(&self) -> Area {
        Area::of(self.backchannel, self.thread_id)
    }
}

/// The visibility rule: who may see what is in `area`. Pushes, recovery, snapshots and
/// every command naming a message id all go through here (through [`can_see`] or
/// [`audience_of`]), so they cannot disagree.
pub fn audience_of_area(state: &ContextState, area: Area) -> Audience {
    match area {
        Area::GroupChat => Audience::Everyone,
        Area::Backchannel => Audience::Moderators,
        Area::Thread(thread_id) => match state.qa.thread(thread_id) {
            Some(t) => Audience::Thread {
                attendee: t.attendee.clone(),
            },
            // A thread always exists before its events; fall back to the safe side.
            None => Audience::Moderators,
        },
    }
}

/// Whether `viewer` may see `message`; for anyone else it does not exist.
pub fn can_see(state: &ContextState, message: &MessageRecord, viewer: Viewer<'_>) -> bool {
    visible_to(&audience_of_area(state, message.area()), viewer)
}

/// Who may see an event, given the state after it.
pub fn audience_of(state: &ContextState, kind: &Kind) -> Audience {
    let area = match kind {
        Kind::UserBlocked(_) | Kind::UserUnblocked(_) => return Audience::Moderators,
        Kind::MessagePosted(m) => Area::of(m.backchannel, m.thread_id),
        Kind::MessageLiked(l) => Area::of(l.backchannel, l.thread_id),
        Kind::MessageUnliked(l) => Area::of(l.backchannel, l.thread_id),
        Kind::MessageDeleted(d) => Area::of(d.backchannel, d.thread_id),
        // Only group-chat messages are pinned; the message's area decides all the same.
        Kind::MessagePinned(MessagePinned { message_id })
        | Kind::MessageUnpinned(MessageUnpinned { message_id }) => state
            .messages
            .get(message_id)
            .map_or(Area::GroupChat, MessageRecord::area),
        Kind::ThreadOpened(t) => Area::Thread(t.thread_id),
        Kind::ThreadReopened(t) => Area::Thread(t.thread_id),
        Kind::ThreadClaimed(t) => Area::Thread(t.thread_id),
        Kind::ThreadReleased(t) => Area::Thread(t.thread_id),
        Kind::ThreadResolved(t) => Area::Thread(t.thread_id),
        Kind::ThreadCleared(t) => Area::Thread(t.thread_id),
        // Settings, updates and the feed are for everyone (a published Q&A is a
        // moderator's deliberate copy of two thread messages into the feed).
        _ => Area::GroupChat,
    };
    audience_of_area(state, area)
}

/// Whether a viewer may see events for an audience.
pub fn visible_to(audience: &Audience, viewer: Viewer<'_>) -> bool {
    match audience {
        Audience::Everyone => true,
        Audience::Moderators => viewer.role == Role::Moderator,
        Audience::Thread { attendee } => {
            viewer.role == Role::Moderator || attendee == viewer.user_id
        }
    }
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

/// How a moderator's answer in a thread appears to the attendee: as the session.
fn as_context(state: &ContextState) -> Author {
    Author {
        user_id: String::new(),
        given_name: state
            .settings
            .as_ref()
            .map(|s| s.name.clone())
            .unwrap_or_default(),
        family_name: String::new(),
        moderator: true,
        as_context: true,
    }
}

fn shown_author(
    state: &ContextState,
    author: &plenary_proto::v1::events::Actor,
    thread_id: u64,
    viewer: Viewer<'_>,
) -> Author {
    if thread_id != 0 && author.moderator && viewer.role == Role::Attendee {
        as_context(state)
    } else {
        author_of(author)
    }
}

fn chat_message(
    state: &ContextState,
    id: u64,
    m: &MessageRecord,
    viewer: Viewer<'_>,
) -> ChatMessage {
    ChatMessage {
        id,
        author: Some(shown_author(state, &m.author, m.thread_id, viewer)),
        text: m.text.clone(),
        reply_to: m.reply_to,
        sent_at_ms: m.sent_at_ms,
        like_count: m.likers.len() as u32,
        client_msg_id: m.client_msg_id.clone(),
        backchannel: m.backchannel,
        thread_id: m.thread_id,
    }
}

/// Threads per state.
pub fn queue_counts(state: &ContextState) -> QueueCounts {
    let [pending, owned, resolved, _] = state.qa.counts();
    QueueCounts {
        pending: pending as u32,
        owned: owned as u32,
        resolved: resolved as u32,
    }
}

fn thread_view(state: &ContextState, thread_id: u64, viewer: Viewer<'_>) -> Option<QaThread> {
    let counts = (viewer.role == Role::Moderator).then(|| queue_counts(state));
    thread_view_counted(state, thread_id, viewer, counts)
}

/// A thread as `viewer` sees it, with the queue counts given (moderators only), so a
/// snapshot counts the queue once for all its threads.
fn thread_view_counted(
    state: &ContextState,
    thread_id: u64,
    viewer: Viewer<'_>,
    counts: Option<QueueCounts>,
) -> Option<QaThread> {
    let t = state.qa.thread(thread_id)?;
    let moderator = viewer.role == Role::Moderator;
    let (state_value, owner) = match &t.state {
        ThreadState::Pending => (plenary_proto::v1::ThreadState::Pending, ""),
        ThreadState::Owned { by } => (plenary_proto::v1::ThreadState::Owned, by.as_str()),
        ThreadState::Resolved { by } => (plenary_proto::v1::ThreadState::Resolved, by.as_str()),
        ThreadState::Done => (plenary_proto::v1::ThreadState::Done, ""),
    };
    // The question that opened the thread was posted right after it (id + 1); scan
    // only when that message was deleted.
    let asked = |m: &&MessageRecord| m.thread_id == thread_id && m.author.user_id == t.attendee;
    let attendee = state
        .messages
        .get(&(thread_id + 1))
        .filter(asked)
        .or_else(|| {
            state
                .messages
                .range(thread_id..)
                .map(|(_, m)| m)
                .find(asked)
        })
        .map(|m| author_of(&m.author))
        .unwrap_or(Author {
            user_id: t.attendee.clone(),
            ..Default::default()
        });
    Some(QaThread {
        id: thread_id,
        attendee: Some(attendee),
        state: state_value as i32,
        owner_id: if moderator {
            owner.to_owned()
        } else {
            String::new()
        },
        counts,
    })
}

/// The push body an event becomes for a viewer, given the state *after* it was applied.
/// `None` when there is nothing to show (a pin of a message deleted since, in a replay).
pub fn push_body(state: &ContextState, event: &ContextEvent, viewer: Viewer<'_>) -> Option<Body> {
    let kind = event.kind.as_ref()?;
    Some(match kind {
        Kind::Created(c) => Body::Context(context_info(&state.id, c.settings.as_ref()?)),
        Kind::Updated(u) => Body::Context(context_info(&state.id, u.settings.as_ref()?)),
        Kind::MessagePosted(m) => Body::Message(ChatMessage {
            id: m.message_id,
            author: event
                .actor
                .as_ref()
                .map(|a| shown_author(state, a, m.thread_id, viewer)),
            text: m.text.clone(),
            reply_to: m.reply_to,
            sent_at_ms: event.at_ms,
            like_count: 0,
            client_msg_id: m.client_msg_id.clone(),
            backchannel: m.backchannel,
            thread_id: m.thread_id,
        }),
        Kind::MessageLiked(l) => like_counts(l.message_id, l.like_count),
        Kind::MessageUnliked(l) => like_counts(l.message_id, l.like_count),
        Kind::MessageDeleted(d) => Body::Deleted(MessageRemoved {
            message_id: d.message_id,
            by_moderator: d.by_moderator,
        }),
        Kind::MessagePinned(p) => Body::Pinned(chat_message(
            state,
            p.message_id,
            state.messages.get(&p.message_id)?,
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
        Kind::UpdatePosted(u) => Body::Update(Update {
            id: event.seq,
            title: u.title.clone(),
            text: u.text.clone(),
            toast: u.toast,
            posted_at_ms: event.at_ms,
        }),
        Kind::ThreadOpened(t) => Body::Thread(thread_view(state, t.thread_id, viewer)?),
        Kind::ThreadReopened(t) => Body::Thread(thread_view(state, t.thread_id, viewer)?),
        Kind::ThreadClaimed(t) => Body::Thread(thread_view(state, t.thread_id, viewer)?),
        Kind::ThreadReleased(t) => Body::Thread(thread_view(state, t.thread_id, viewer)?),
        Kind::ThreadResolved(t) => Body::Thread(thread_view(state, t.thread_id, viewer)?),
        Kind::ThreadCleared(t) => Body::Thread(thread_view(state, t.thread_id, viewer)?),
        Kind::QaPublished(_) => Body::FeedQa(feed_item(
            state,
            state.published.iter().find(|p| p.item_id == event.seq)?,
        )?),
        Kind::FeedItemRemoved(r) => Body::FeedRemoved(FeedRef { item_id: r.item_id }),
        Kind::ConnectionChanged(_)
        | Kind::DirectMessagePosted(_)
        | Kind::DirectMessageDeleted(_)
        | Kind::DirectMessageRead(_)
        | Kind::SettingsChanged(_)
        | Kind::ProfileChanged(_)
        | Kind::PeerNotice(_) => return None,
    })
}

/// A published Q&A as everyone sees it (the answer as the session). Publishing is a
/// moderator's deliberate copy of a thread's question and answer into the feed, the one
/// way a thread's text reaches everyone; a message outside that thread (a backchannel
/// one in an old log) is never shown there.
fn feed_item(state: &ContextState, item: &PublishedQa) -> Option<FeedQa> {
    let public = Viewer {
        user_id: "",
        role: Role::Attendee,
    };
    let message = |id: u64| {
        state
            .messages
            .get(&id)
            .filter(|m| m.area() == Area::Thread(item.thread_id))
            .map(|m| chat_message(state, id, m, public))
    };
    Some(FeedQa {
        item_id: item.item_id,
        thread_id: item.thread_id,
        question: Some(message(item.question_id)?),
        answer: Some(message(item.answer_id)?),
    })
}

fn like_counts(message_id: u64, count: u32) -> Body {
    Body::Likes(LikeCounts {
        counts: vec![LikeCount { message_id, count }],
    })
}

/// The state a joining user starts from.
pub fn snapshot(state: &ContextState, viewer: Viewer<'_>, recent: usize) -> Snapshot {
    let moderator = viewer.role == Role::Moderator;
    let counts = moderator.then(|| queue_counts(state));
    // Each list holds the messages of one area, and only of an area the viewer may see.
    let sees = |area: Area| visible_to(&audience_of_area(state, area), viewer);
    let recent_in = |area: Area, limit: usize| -> Vec<ChatMessage> {
        if !sees(area) {
            return Vec::new();
        }
        let mut v: Vec<ChatMessage> = state
            .messages
            .iter()
            .rev()
            .filter(|(_, m)| m.area() == area)
            .take(limit)
            .map(|(id, m)| chat_message(state, *id, m, viewer))
            .collect();
        v.reverse();
        v
    };
    let messages = recent_in(Area::GroupChat, recent);
    let pinned: Vec<ChatMessage> = state
        .pinned
        .iter()
        .filter_map(|id| {
            state
                .messages
                .get(id)
                .filter(|m| can_see(state, m, viewer))
                .map(|m| chat_message(state, *id, m, viewer))
        })
        .collect();
    let backchannel = recent_in(Area::Backchannel, recent);
    // Moderators get the open queue; an attendee their own threads, done ones included.
    let threads: Vec<QaThread> = state
        .qa
        .threads()
        .filter(|t| sees(Area::Thread(t.id)) && !(moderator && t.state == ThreadState::Done))
        .filter_map(|t| thread_view_counted(state, t.id, viewer, counts))
        .collect();
    // The last `recent` messages of each shown thread, in one pass from the end.
    let mut per_thread: HashMap<u64, Vec<(u64, &MessageRecord)>> =
        threads.iter().map(|t| (t.id, Vec::new())).collect();
    // Stops as soon as every shown thread has its messages (at once when none is
    // shown, the usual attendee), instead of walking the whole context.
    let mut unfilled = per_thread.len();
    for (id, m) in state.messages.iter().rev() {
        if unfilled == 0 {
            break;
        }
        if let Area::Thread(thread_id) = m.area()
            && let Some(kept) = per_thread.get_mut(&thread_id)
            && kept.len() < recent
        {
            kept.push((*id, m));
            if kept.len() == recent {
                unfilled -= 1;
            }
        }
    }
    let thread_messages: Vec<ChatMessage> = threads
        .iter()
        .flat_map(|t| {
            per_thread
                .remove(&t.id)
                .unwrap_or_default()
                .into_iter()
                .rev()
        })
        .map(|(id, m)| chat_message(state, id, m, viewer))
        .collect();
    let mut liked_by_me: Vec<u64> = messages
        .iter()
        .chain(pinned.iter())
        .chain(backchannel.iter())
        .chain(thread_messages.iter())
        .filter(|m| {
            state
                .messages
                .get(&m.id)
                .is_some_and(|r| r.likers.contains(viewer.user_id))
        })
        .map(|m| m.id)
        .collect();
    liked_by_me.sort_unstable();
    liked_by_me.dedup();
    let blocked_users = if moderator {
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
        blocked: state.blocked.contains_key(viewer.user_id),
        blocked_users,
        backchannel,
        updates,
        threads,
        thread_messages,
        counts,
        published: state
            .published
            .iter()
            .filter_map(|p| feed_item(state, p))
            .collect(),
    }
}
