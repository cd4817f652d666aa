//! Chat messages: posting (in the group chat, the backchannel or a Q&A thread — the
//! message's area), likes and deletes, and the views of a message. Who may see a
//! message is the visibility rule's (`view::can_see`); the backchannel's own rules are
//! in `backchannel`, a thread's in `qa`, the feed's in `feed`.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use plenary_proto::v1::{
    Author, ChatMessage, LikeCount, LikeCounts, MessageRemoved,
    events::{
        Actor, ContextEvent, MessageDeleted, MessageLiked, MessagePosted, MessageUnliked,
        context_event::Kind,
    },
    push::Body,
};
use serde::{Deserialize, Serialize};

use super::{
    backchannel,
    command::{ChatCommand, CommandOutcome, Rejection},
    state::{ContextState, Decision},
    view::{self, Area, Viewer},
};
use crate::identity::{Role, author_of};

/// Limits the state machine enforces.
#[derive(Clone, Debug)]
pub struct ChatLimits {
    /// Longest message text, in characters.
    pub max_text_chars: usize,
    /// Most pinned items a context holds at once.
    pub max_pinned: usize,
    /// Longest client message id, in bytes.
    pub max_client_msg_id: usize,
}

impl Default for ChatLimits {
    fn default() -> Self {
        ChatLimits {
            max_text_chars: 2000,
            max_pinned: 50,
            max_client_msg_id: 64,
        }
    }
}

/// One chat message still visible (deleted messages are dropped from the state).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MessageRecord {
    pub author: Actor,
    pub text: String,
    pub reply_to: u64,
    pub sent_at_ms: u64,
    pub client_msg_id: String,
    pub likers: HashSet<String>,
    /// In the moderator-only backchannel.
    #[serde(default)]
    pub backchannel: bool,
    /// The Q&A thread of the message, 0 for the group chat.
    #[serde(default)]
    pub thread_id: u64,
}

impl MessageRecord {
    /// Where this message lives.
    pub fn area(&self) -> Area {
        Area::of(self.backchannel, self.thread_id)
    }
}

/// Messages of each area (the group chat, the backchannel, each Q&A thread) kept in
/// memory: the last `MESSAGE_WINDOW` to `2 × MESSAGE_WINDOW` (older ones leave in a
/// batch, so eviction costs little per message). Older messages are archived: read
/// from the log by `history`, no longer liked, replied to, pinned or deleted.
pub const MESSAGE_WINDOW: usize = 1_000;
/// Messages of all Q&A threads together kept in memory: above this many, whole threads
/// leave (resolved and done ones first, then the least recently active) down to three
/// quarters of it, so memory does not grow with the number of questions asked.
pub const THREAD_MESSAGES: usize = 10_000;
/// Client message ids remembered for idempotent resends: those of the last this many
/// posts of the context. A resend of an older post is posted again.
pub const CLIENT_ID_WINDOW: usize = 10_000;

/// Where an area's archive ends: its messages up to `up_to` left memory in one batch
/// when event `seq` was applied. Everything that changed them (likes, deletes) is in
/// the log before `seq`, so history reads no further to render them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveMark {
    pub area: Area,
    pub up_to: u64,
    pub seq: u64,
}

/// The messages of a context (flattened into the context's snapshot). Bounded: the
/// window of each area, plus the pinned and published messages older than it (held
/// while referenced).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Chat {
    #[serde(with = "super::id_keys")]
    pub messages: BTreeMap<u64, MessageRecord>,
    /// `(user id, client message id)` → message id, for idempotent resends.
    pub client_ids: ClientIds,
    /// One mark per batch of messages that left memory, in order.
    #[serde(default)]
    pub archive: Vec<ArchiveMark>,
    /// Held messages (pinned or published when their window moved on) that left
    /// memory later, one at a time: message id → seq of the event that let them go.
    #[serde(default, with = "super::id_keys")]
    pub archived_late: BTreeMap<u64, u64>,
    /// Ids in each area's window, oldest first: derived (from the messages and the
    /// marks) when first needed after a snapshot is read.
    #[serde(skip)]
    windows: Option<HashMap<Area, VecDeque<u64>>>,
    /// Messages in the windows of Q&A threads, all together: derived with the windows
    /// and kept with them.
    #[serde(skip)]
    thread_total: usize,
}

impl PartialEq for Chat {
    /// The derived windows are not compared: a state read from a snapshot equals the
    /// one it was written from.
    fn eq(&self, other: &Self) -> bool {
        self.messages == other.messages
            && self.client_ids == other.client_ids
            && self.archive == other.archive
            && self.archived_late == other.archived_late
    }
}

/// The client ids of the last [`CLIENT_ID_WINDOW`] posts: `(user, client id)` →
/// message id, and the same in post order, to forget the oldest. Stored as a list of
/// `(user, client id, message id)` (the shape snapshots always had).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClientIds {
    by_key: HashMap<(String, String), u64>,
    by_id: BTreeMap<u64, (String, String)>,
}

impl ClientIds {
    pub fn get(&self, user_id: &str, client_msg_id: &str) -> Option<u64> {
        self.by_key
            .get(&(user_id.to_owned(), client_msg_id.to_owned()))
            .copied()
    }

    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    fn insert(&mut self, key: (String, String), message_id: u64) {
        if let Some(old) = self.by_key.insert(key.clone(), message_id) {
            self.by_id.remove(&old);
        }
        self.by_id.insert(message_id, key);
        while self.by_id.len() > CLIENT_ID_WINDOW {
            if let Some((_, key)) = self.by_id.pop_first() {
                self.by_key.remove(&key);
            }
        }
    }
}

impl Serialize for ClientIds {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.by_id
            .iter()
            .map(|(id, (u, c))| (u, c, id))
            .collect::<Vec<_>>()
            .serialize(s)
    }
}

impl<'de> Deserialize<'de> for ClientIds {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut ids = ClientIds::default();
        let mut list = Vec::<(String, String, u64)>::deserialize(d)?;
        list.sort_unstable_by_key(|(_, _, id)| *id);
        for (u, c, id) in list {
            ids.insert((u, c), id);
        }
        Ok(ids)
    }
}

impl Chat {
    /// The highest id of `area` that left memory in a batch (0: none did).
    pub fn archived_up_to(&self, area: Area) -> u64 {
        self.archive
            .iter()
            .rev()
            .find(|m| m.area == area)
            .map_or(0, |m| m.up_to)
    }

    /// Whether `id`, not in memory, may be an archived message rather than one that
    /// never existed or was deleted in the window.
    pub fn may_be_archived(&self, id: u64) -> bool {
        self.archive.iter().any(|m| id <= m.up_to) || self.archived_late.contains_key(&id)
    }

    /// Whether the message is in memory only because it is referenced (pinned or
    /// published): older than its area's window.
    pub fn is_held(&self, id: u64) -> bool {
        self.messages
            .get(&id)
            .is_some_and(|m| id <= self.archived_up_to(m.area()))
    }

    /// The windows, derived from the messages and the marks if not yet.
    fn windows(&mut self) -> &mut HashMap<Area, VecDeque<u64>> {
        if self.windows.is_none() {
            self.thread_total = 0;
            let mut windows: HashMap<Area, VecDeque<u64>> = HashMap::new();
            let mut bounds: HashMap<Area, u64> = HashMap::new();
            for mark in &self.archive {
                bounds.insert(mark.area, mark.up_to);
            }
            for (&id, m) in &self.messages {
                if id > bounds.get(&m.area()).copied().unwrap_or(0) {
                    windows.entry(m.area()).or_default().push_back(id);
                    if let Area::Thread(_) = m.area() {
                        self.thread_total += 1;
                    }
                }
            }
            self.windows = Some(windows);
        }
        self.windows.get_or_insert_with(HashMap::new)
    }

    /// When `area`'s window holds twice [`MESSAGE_WINDOW`], its oldest leave memory
    /// down to [`MESSAGE_WINDOW`] — except those `held` says are referenced — and a
    /// mark records the batch.
    pub(super) fn keep_window(&mut self, area: Area, seq: u64, held: impl Fn(u64) -> bool) {
        let window = self.windows().entry(area).or_default();
        if window.len() < 2 * MESSAGE_WINDOW {
            return;
        }
        let leaving: Vec<u64> = window.drain(..window.len() - MESSAGE_WINDOW).collect();
        if let Area::Thread(_) = area {
            self.thread_total -= leaving.len();
        }
        let Some(&up_to) = leaving.last() else { return };
        for id in leaving {
            if !held(id) {
                self.messages.remove(&id);
            }
        }
        self.archive.push(ArchiveMark { area, up_to, seq });
    }

    /// When the Q&A threads together hold more than [`THREAD_MESSAGES`], whole threads
    /// leave memory — those `settled` says are resolved or done first, then the least
    /// recently active — down to three quarters of it, each with its mark (`held`
    /// messages stay).
    pub(super) fn bound_threads(
        &mut self,
        seq: u64,
        settled: impl Fn(u64) -> bool,
        held: impl Fn(u64) -> bool,
    ) {
        #[cfg(debug_assertions)]
        {
            let counted: usize = self
                .windows()
                .iter()
                .filter(|(area, _)| matches!(area, Area::Thread(_)))
                .map(|(_, window)| window.len())
                .sum();
            assert_eq!(
                self.thread_total, counted,
                "the count of thread messages in memory"
            );
        }
        if self.thread_total <= THREAD_MESSAGES {
            return;
        }
        let windows = self.windows();
        // (still open, last message id, thread): settled threads first, then the
        // quietest.
        let mut order: Vec<(bool, u64, u64)> = windows
            .iter()
            .filter_map(|(area, window)| match area {
                Area::Thread(t) if !window.is_empty() => {
                    Some((!settled(*t), window.back().copied().unwrap_or(0), *t))
                }
                _ => None,
            })
            .collect();
        order.sort_unstable();
        for (_, _, thread) in order {
            if self.thread_total <= THREAD_MESSAGES * 3 / 4 {
                break;
            }
            let area = Area::Thread(thread);
            let Some(window) = self.windows().remove(&area) else {
                continue;
            };
            self.thread_total -= window.len();
            let up_to = window.back().copied().unwrap_or(0);
            for id in window {
                if !held(id) {
                    self.messages.remove(&id);
                }
            }
            self.archive.push(ArchiveMark { area, up_to, seq });
        }
    }

    /// A held message no longer referenced (or deleted) leaves memory at `seq`.
    pub(super) fn let_go(&mut self, id: u64, seq: u64) {
        self.messages.remove(&id);
        self.archived_late.insert(id, seq);
    }

    /// Folds a message event in; other events are not the chat's.
    pub(super) fn apply(&mut self, event: &ContextEvent, actor: &Actor, kind: &Kind) {
        match kind {
            Kind::MessagePosted(m) => {
                self.windows();
                if !m.client_msg_id.is_empty() {
                    self.client_ids.insert(
                        (actor.user_id.clone(), m.client_msg_id.clone()),
                        m.message_id,
                    );
                }
                self.messages.insert(
                    m.message_id,
                    MessageRecord {
                        author: actor.clone(),
                        text: m.text.clone(),
                        reply_to: m.reply_to,
                        sent_at_ms: event.at_ms,
                        client_msg_id: m.client_msg_id.clone(),
                        likers: HashSet::new(),
                        backchannel: m.backchannel,
                        thread_id: m.thread_id,
                    },
                );
                // Derived before the insert above when needed, so never counted twice.
                let area = Area::of(m.backchannel, m.thread_id);
                self.windows()
                    .entry(area)
                    .or_default()
                    .push_back(m.message_id);
                if let Area::Thread(_) = area {
                    self.thread_total += 1;
                }
            }
            Kind::MessageLiked(l) => {
                if let Some(m) = self.messages.get_mut(&l.message_id) {
                    m.likers.insert(actor.user_id.clone());
                }
            }
            Kind::MessageUnliked(l) => {
                if let Some(m) = self.messages.get_mut(&l.message_id) {
                    m.likers.remove(&actor.user_id);
                }
            }
            Kind::MessageDeleted(d) => {
                if let Some(m) = self.messages.remove(&d.message_id)
                    && let Some(window) = self.windows().get_mut(&m.area())
                    && let Ok(at) = window.binary_search(&d.message_id)
                {
                    window.remove(at);
                    if let Area::Thread(_) = m.area() {
                        self.thread_total -= 1;
                    }
                }
            }
            _ => {}
        }
    }
}

impl ContextState {
    /// A message the actor may see ([`view::can_see`]); any other does not exist for
    /// them.
    pub(super) fn message(
        &self,
        id: u64,
        what: &'static str,
        actor: &Actor,
    ) -> Result<&MessageRecord, Rejection> {
        match self.chat.messages.get(&id) {
            Some(m) if view::can_see(self, m, Viewer::of(actor)) => Ok(m),
            None if self.chat.may_be_archived(id) => Err(Rejection::Archived(what.into())),
            _ => Err(Rejection::NotFound(what.into())),
        }
    }

    /// Checks a `reply_to` for a post in `area`: the message must be one the actor may
    /// see, in the same area (a reply stays in the group chat, the backchannel or the
    /// thread of the message it answers).
    pub(super) fn check_reply(
        &self,
        reply_to: u64,
        area: Area,
        actor: &Actor,
    ) -> Result<(), Rejection> {
        if reply_to == 0 {
            return Ok(());
        }
        let replied = self.message(reply_to, "message replied to", actor)?;
        if replied.area() != area {
            return Err(Rejection::NotFound("message replied to".into()));
        }
        Ok(())
    }

    /// Checks shared by every post: client id, duplicate, block, text. `Some` is the
    /// answer to a resend.
    pub(super) fn check_post(
        &self,
        limits: &ChatLimits,
        actor: &Actor,
        text: &str,
        client_msg_id: &str,
    ) -> Result<Option<CommandOutcome>, Rejection> {
        if client_msg_id.len() > limits.max_client_msg_id {
            return Err(Rejection::BadRequest(format!(
                "client_msg_id is longer than {} bytes",
                limits.max_client_msg_id
            )));
        }
        if !client_msg_id.is_empty()
            && let Some(message_id) = self.chat.client_ids.get(&actor.user_id, client_msg_id)
        {
            return Ok(Some(CommandOutcome::Sent {
                message_id,
                seq: message_id,
                duplicate: true,
                thread_id: self
                    .chat
                    .messages
                    .get(&message_id)
                    .map_or(0, |m| m.thread_id),
            }));
        }
        if self.moderation.is_blocked(&actor.user_id) {
            return Err(Rejection::Blocked);
        }
        if text.trim().is_empty() || text.chars().count() > limits.max_text_chars {
            return Err(Rejection::InvalidText {
                max: limits.max_text_chars,
            });
        }
        Ok(None)
    }

    /// A `send`: to the group chat, the backchannel, or a Q&A thread (an attendee's
    /// follow-up question, or a moderator's answer, which claims a pending thread).
    pub(super) fn decide_send(
        &self,
        limits: &ChatLimits,
        actor: &Actor,
        admin: bool,
        command: &ChatCommand,
    ) -> Result<Decision, Rejection> {
        let ChatCommand::Send {
            text,
            client_msg_id,
            reply_to,
            backchannel,
            thread_id,
        } = command
        else {
            unreachable!("decide_send is called with a send")
        };
        if *backchannel {
            backchannel::check_post(actor, *thread_id)?;
        }
        if *thread_id != 0 && !actor.moderator {
            // An attendee's message in their thread is a follow-up question.
            return self.decide_ask(limits, actor, text, client_msg_id, *thread_id, *reply_to);
        }
        if let Some(duplicate) = self.check_post(limits, actor, text, client_msg_id)? {
            return Ok(Decision::Already(duplicate));
        }
        let thread = match *thread_id {
            0 => None,
            id => Some(
                self.qa
                    .thread(id)
                    .ok_or(Rejection::NotFound("thread".into()))?,
            ),
        };
        self.check_reply(*reply_to, Area::of(*backchannel, *thread_id), actor)?;
        let mut kinds = match thread {
            Some(thread) => self.claim_to_answer(thread, actor, admin)?,
            None => Vec::new(),
        };
        kinds.push(Kind::MessagePosted(MessagePosted {
            message_id: self.seq + 1 + kinds.len() as u64,
            text: text.clone(),
            reply_to: *reply_to,
            client_msg_id: client_msg_id.clone(),
            backchannel: *backchannel,
            thread_id: *thread_id,
        }));
        Ok(Decision::of(kinds))
    }

    /// A `like` or `unlike` (`like` false): once per user, a repeat changes nothing.
    pub(super) fn decide_like(
        &self,
        actor: &Actor,
        message_id: u64,
        like: bool,
    ) -> Result<Decision, Rejection> {
        if self.moderation.is_blocked(&actor.user_id) {
            return Err(Rejection::Blocked);
        }
        let message = self.message(message_id, "message", actor)?;
        let (backchannel, thread_id) = (message.backchannel, message.thread_id);
        let likes = message.likers.contains(&actor.user_id);
        let count = message.likers.len() as u32;
        Ok(match (like, likes) {
            (true, false) => Decision::Emit(Kind::MessageLiked(MessageLiked {
                message_id,
                like_count: count + 1,
                backchannel,
                thread_id,
            })),
            (false, true) => Decision::Emit(Kind::MessageUnliked(MessageUnliked {
                message_id,
                like_count: count - 1,
                backchannel,
                thread_id,
            })),
            _ => Decision::Already(CommandOutcome::Liked {
                message_id,
                like_count: count,
                seq: 0,
            }),
        })
    }

    /// A `delete`: one's own message; moderators any, except in the backchannel.
    pub(super) fn decide_delete(
        &self,
        actor: &Actor,
        message_id: u64,
    ) -> Result<Decision, Rejection> {
        let message = self.message(message_id, "message", actor)?;
        let own = message.author.user_id == actor.user_id;
        let may_delete = own || (actor.moderator && backchannel::may_delete_others(message));
        if !may_delete {
            return Err(Rejection::Forbidden);
        }
        // A published Q&A whose question or answer goes leaves the feed first.
        let mut kinds = self.feed.removals_for(message_id);
        kinds.push(Kind::MessageDeleted(MessageDeleted {
            message_id,
            author_id: message.author.user_id.clone(),
            by_moderator: !own,
            backchannel: message.backchannel,
            thread_id: message.thread_id,
        }));
        Ok(Decision::of(kinds))
    }
}

/// How a moderator's answer in a thread appears to the attendee: as the session.
pub(super) fn as_context(state: &ContextState) -> Author {
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

/// The author a viewer is shown: attendees see a moderator's thread answer as the
/// session.
fn shown_author(
    state: &ContextState,
    author: &Actor,
    thread_id: u64,
    viewer: Viewer<'_>,
) -> Author {
    if thread_id != 0 && author.moderator && viewer.role == Role::Attendee {
        as_context(state)
    } else {
        author_of(author)
    }
}

/// A stored message as `viewer` sees it.
pub(super) fn chat_message(
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

/// The push a message event becomes for `viewer`; `None` for other events.
pub(super) fn push_body(
    state: &ContextState,
    event: &ContextEvent,
    kind: &Kind,
    viewer: Viewer<'_>,
) -> Option<Body> {
    Some(match kind {
        Kind::MessagePosted(m) => Body::Message(posted_message(
            event,
            m,
            event
                .actor
                .as_ref()
                .map(|a| shown_author(state, a, m.thread_id, viewer)),
            0,
        )),
        Kind::MessageLiked(l) => like_counts(l.message_id, l.like_count),
        Kind::MessageUnliked(l) => like_counts(l.message_id, l.like_count),
        Kind::MessageDeleted(d) => Body::Deleted(MessageRemoved {
            message_id: d.message_id,
            by_moderator: d.by_moderator,
        }),
        _ => return None,
    })
}

/// A posted message as its event tells it, by `author`, with `like_count` likes.
pub(super) fn posted_message(
    event: &ContextEvent,
    m: &MessagePosted,
    author: Option<Author>,
    like_count: u32,
) -> ChatMessage {
    ChatMessage {
        id: m.message_id,
        author,
        text: m.text.clone(),
        reply_to: m.reply_to,
        sent_at_ms: event.at_ms,
        like_count,
        client_msg_id: m.client_msg_id.clone(),
        backchannel: m.backchannel,
        thread_id: m.thread_id,
    }
}

fn like_counts(message_id: u64, count: u32) -> Body {
    Body::Likes(LikeCounts {
        counts: vec![LikeCount { message_id, count }],
    })
}

/// The last `limit` messages of `area`, oldest first, when the viewer may see it: from
/// the area's window only (a pinned message held past it is not among the recent
/// ones, so `history` before the oldest shown skips nothing).
pub(super) fn recent_in(
    state: &ContextState,
    area: Area,
    limit: usize,
    viewer: Viewer<'_>,
) -> Vec<ChatMessage> {
    if !view::visible_to(&view::audience_of_area(state, area), viewer) {
        return Vec::new();
    }
    let window = state.chat.archived_up_to(area).saturating_add(1)..;
    let mut v: Vec<ChatMessage> = state
        .chat
        .messages
        .range(window)
        .rev()
        .filter(|(_, m)| m.area() == area)
        .take(limit)
        .map(|(id, m)| chat_message(state, *id, m, viewer))
        .collect();
    v.reverse();
    v
}

/// Of the messages shown, the ones `viewer` likes (sorted, once each).
pub(super) fn liked_by<'a>(
    state: &ContextState,
    shown: impl Iterator<Item = &'a ChatMessage>,
    viewer: Viewer<'_>,
) -> Vec<u64> {
    let mut liked: Vec<u64> = shown
        .filter(|m| {
            state
                .chat
                .messages
                .get(&m.id)
                .is_some_and(|r| r.likers.contains(viewer.user_id))
        })
        .map(|m| m.id)
        .collect();
    liked.sort_unstable();
    liked.dedup();
    liked
}
