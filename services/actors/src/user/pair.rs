//! One conversation between two users — their connection, private messages and read
//! markers — as a pure state machine. The conversation actor runs it; every change is
//! a [`ConversationEvent`] on the pair's own stream (`~dm/<a>/<b>`).
//!
//! Memory is bounded: the state keeps the last [`DM_WINDOW`] to `2 × DM_WINDOW`
//! messages and the client ids of the last [`DM_CLIENT_IDS`] messages sent with one.
//! Older messages are archived: read-only, and read from the log page by page
//! ([`HistoryPage`]).

use std::collections::{BTreeMap, HashMap, HashSet};

use plenary_proto::v1::{
    DirectMessage, DirectMessageRef, Peer, PeerStatus, PeerUpdate,
    events::{
        ConnectionChange, ConnectionChanged, ConversationEvent, DirectMessageDeleted,
        DirectMessagePosted, DirectMessageRead, conversation_event::Kind,
    },
};
use serde::{Deserialize, Serialize};

pub use super::dm_history::{ArchiveMark, HistoryPage, LogRead};
use super::{
    connection::{ConnectionCommand, ConnectionEvent, ConnectionRejection, Pair, PairState},
    dm_history::Step,
};
use crate::context::{CommandOutcome, Rejection, state::ChatLimits};

/// Messages of a conversation kept in memory: when more than twice this many are held,
/// the oldest leave in one batch down to this many (so eviction costs little per
/// message). Messages that left are archived: `dm_history` reads them from the log,
/// and they can no longer be deleted.
pub const DM_WINDOW: usize = 500;

/// Client message ids remembered for idempotent resends: those of the last this many
/// messages of the conversation sent with one (either sender). A resend of an older
/// message is posted again.
pub const DM_CLIENT_IDS: usize = 1_000;

/// Stream ids of conversations start with this; context ids may not.
pub const PAIR_PREFIX: &str = "~dm/";

/// Escapes `/` and `%` so a user id cannot break the stream id apart.
pub(crate) fn escape(user: &str) -> String {
    user.replace('%', "%25").replace('/', "%2F")
}

/// The stream id of the conversation between two users (either order).
pub fn pair_stream_id(x: &str, y: &str) -> String {
    let (a, b) = if x < y { (x, y) } else { (y, x) };
    format!("{PAIR_PREFIX}{}/{}", escape(a), escape(b))
}

/// One side of a conversation as its user actor describes it when a command runs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    pub user_id: String,
    /// As the user chose to show it.
    pub name: String,
    pub email: String,
    pub moderator: bool,
    pub allows_private_chat: bool,
}

/// What a user does to a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectionAction {
    Request,
    Accept,
    Ignore,
    Remove,
}

/// A command on a conversation, from `me` about the other party.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PairCommand {
    Connection(ConnectionAction),
    Send {
        text: String,
        client_msg_id: String,
    },
    Delete {
        message_id: u64,
    },
    Read {
        message_id: u64,
    },
    /// Nothing changes but how `me` is shown (their settings changed): both users are
    /// told the conversation as it stands, with the new name.
    Refresh,
}

/// A private message as the state keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredMessage {
    pub id: u64,
    pub sender: String,
    pub text: String,
    pub at_ms: u64,
    pub client_msg_id: String,
    pub deleted: bool,
}

/// The client ids of the last [`DM_CLIENT_IDS`] messages sent with one:
/// `sender \u{1f} client_msg_id` → message id, and the same by id to forget the oldest.
/// Stored as the map alone (the shape snapshots always had): ids are seqs, so their
/// order is the order the messages were posted in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct ClientIds {
    by_key: HashMap<String, u64>,
    by_id: BTreeMap<u64, String>,
}

impl ClientIds {
    fn get(&self, key: &str) -> Option<u64> {
        self.by_key.get(key).copied()
    }

    fn insert(&mut self, key: String, message_id: u64) {
        if let Some(old) = self.by_key.insert(key.clone(), message_id) {
            self.by_id.remove(&old);
        }
        self.by_id.insert(message_id, key);
        while self.by_id.len() > DM_CLIENT_IDS {
            if let Some((_, key)) = self.by_id.pop_first() {
                self.by_key.remove(&key);
            }
        }
    }
}

impl Serialize for ClientIds {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.by_key.serialize(s)
    }
}

impl<'de> Deserialize<'de> for ClientIds {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut list: Vec<(String, u64)> = HashMap::<String, u64>::deserialize(d)?
            .into_iter()
            .collect();
        list.sort_unstable_by_key(|(_, id)| *id);
        // An older snapshot may hold more: the oldest are forgotten, as a replay would.
        let mut ids = ClientIds::default();
        for (key, id) in list {
            ids.insert(key, id);
        }
        Ok(ids)
    }
}

/// The state of one conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationState {
    pub epoch: u64,
    pub seq: u64,
    pub pair: Pair,
    /// Display names, by user id, as last known.
    names: BTreeMap<String, String>,
    /// The messages in memory (the window), by id (ascending): every message after
    /// the archive. Deleted ones keep their place without text.
    messages: Vec<StoredMessage>,
    /// For idempotent resends.
    client_ids: ClientIds,
    /// The last message each user has read.
    read: BTreeMap<String, u64>,
    /// One mark per batch of messages that left memory, in order.
    #[serde(default)]
    archive: Vec<ArchiveMark>,
    /// Archived messages deleted after they left memory: only logs written before
    /// messages were archived hold such deletes (they are refused now).
    #[serde(default)]
    deleted_late: Vec<u64>,
}

/// What a decided command produces.
#[derive(Debug, PartialEq)]
pub enum PairDecision {
    /// Append these events; the last one answers the command.
    Emit(Vec<Kind>),
    /// Nothing to append; answer with this.
    Already(CommandOutcome),
}

fn client_key(sender: &str, client_msg_id: &str) -> String {
    format!("{sender}\u{1f}{client_msg_id}")
}

fn connection_rejection(e: ConnectionRejection) -> Rejection {
    match e {
        ConnectionRejection::SelfConnection => {
            Rejection::BadRequest("you cannot connect with yourself".into())
        }
        ConnectionRejection::PrivateChatDisabled => Rejection::PrivateChatDisabled,
        ConnectionRejection::NoRequest => {
            Rejection::InvalidState("there is no request from this user to answer".into())
        }
        ConnectionRejection::NotConnected => Rejection::NotConnected,
        ConnectionRejection::NotAParty => Rejection::Forbidden,
    }
}

impl ConversationState {
    /// An empty conversation between two distinct users.
    pub fn new(x: &str, y: &str) -> Result<Self, Rejection> {
        Ok(ConversationState {
            epoch: 0,
            seq: 0,
            pair: Pair::new(x, y).map_err(connection_rejection)?,
            names: BTreeMap::new(),
            messages: Vec::new(),
            client_ids: ClientIds::default(),
            read: BTreeMap::new(),
            archive: Vec::new(),
            deleted_late: Vec::new(),
        })
    }

    /// The same pair before any event.
    pub fn emptied(&self) -> Self {
        ConversationState {
            epoch: 0,
            seq: 0,
            pair: Pair {
                a: self.pair.a.clone(),
                b: self.pair.b.clone(),
                state: PairState::None,
            },
            names: BTreeMap::new(),
            messages: Vec::new(),
            client_ids: ClientIds::default(),
            read: BTreeMap::new(),
            archive: Vec::new(),
            deleted_late: Vec::new(),
        }
    }

    /// The other user of the pair.
    pub fn other(&self, user: &str) -> &str {
        if self.pair.a == user {
            &self.pair.b
        } else {
            &self.pair.a
        }
    }

    /// Whether anything ever happened here.
    pub fn is_empty(&self) -> bool {
        self.seq == 0
    }

    /// Remembers the names the parties show now (not an event: names reach the log
    /// with the next connection change).
    pub fn refresh_names(&mut self, parties: &[&Party]) {
        for party in parties {
            if !party.name.is_empty() {
                self.names.insert(party.user_id.clone(), party.name.clone());
            }
        }
    }

    /// Decides a command of `me` (whose peer is `peer`).
    pub fn decide(
        &self,
        limits: &ChatLimits,
        me: &Party,
        peer: &Party,
        command: &PairCommand,
    ) -> Result<PairDecision, Rejection> {
        match command {
            PairCommand::Connection(action) => {
                if *action == ConnectionAction::Request && !me.allows_private_chat {
                    return Err(Rejection::BadRequest(
                        "turn on private chat in your settings first".into(),
                    ));
                }
                let (by, other) = (me.user_id.clone(), peer.user_id.clone());
                let command = match action {
                    ConnectionAction::Request => ConnectionCommand::Request {
                        from: by,
                        to: other,
                        to_allows_private_chat: peer.allows_private_chat,
                    },
                    ConnectionAction::Accept => ConnectionCommand::Accept { by },
                    ConnectionAction::Ignore => ConnectionCommand::Ignore { by },
                    ConnectionAction::Remove => ConnectionCommand::Remove { by },
                };
                let events = self.pair.decide(&command).map_err(connection_rejection)?;
                if events.is_empty() {
                    return Ok(PairDecision::Already(CommandOutcome::Done { seq: 0 }));
                }
                Ok(PairDecision::Emit(
                    events
                        .into_iter()
                        .map(|e| {
                            let change = match e {
                                ConnectionEvent::Requested { .. } => ConnectionChange::Requested,
                                ConnectionEvent::Accepted { .. } => ConnectionChange::Accepted,
                                ConnectionEvent::Ignored { .. } => ConnectionChange::Ignored,
                                ConnectionEvent::Removed { .. } => ConnectionChange::Removed,
                            };
                            Kind::ConnectionChanged(Box::new(ConnectionChanged {
                                user_id: me.user_id.clone(),
                                peer_id: peer.user_id.clone(),
                                change: change as i32,
                                user_name: me.name.clone(),
                                peer_name: peer.name.clone(),
                            }))
                        })
                        .collect(),
                ))
            }
            PairCommand::Send {
                text,
                client_msg_id,
            } => {
                if client_msg_id.len() > limits.max_client_msg_id {
                    return Err(Rejection::BadRequest(format!(
                        "client_msg_id is longer than {} bytes",
                        limits.max_client_msg_id
                    )));
                }
                if !client_msg_id.is_empty()
                    && let Some(id) = self.client_ids.get(&client_key(&me.user_id, client_msg_id))
                {
                    return Ok(PairDecision::Already(CommandOutcome::Sent {
                        message_id: id,
                        seq: id,
                        duplicate: true,
                        thread_id: 0,
                    }));
                }
                if self.pair.state != PairState::Accepted {
                    return Err(Rejection::NotConnected);
                }
                if !me.allows_private_chat || !peer.allows_private_chat {
                    return Err(Rejection::PrivateChatDisabled);
                }
                if text.trim().is_empty() || text.chars().count() > limits.max_text_chars {
                    return Err(Rejection::InvalidText {
                        max: limits.max_text_chars,
                    });
                }
                Ok(PairDecision::Emit(vec![Kind::DirectMessagePosted(
                    Box::new(DirectMessagePosted {
                        sender_id: me.user_id.clone(),
                        recipient_id: peer.user_id.clone(),
                        text: text.clone(),
                        client_msg_id: client_msg_id.clone(),
                        sender_moderator: me.moderator,
                        recipient_moderator: peer.moderator,
                        recipient_email: peer.email.clone(),
                    }),
                )]))
            }
            PairCommand::Delete { message_id } => {
                if self.is_archived(*message_id) {
                    return Err(Rejection::Archived("message".into()));
                }
                let message = self
                    .message(*message_id)
                    .filter(|m| !m.deleted)
                    .ok_or(Rejection::NotFound("message".into()))?;
                if message.sender != me.user_id {
                    return Err(Rejection::Forbidden);
                }
                Ok(PairDecision::Emit(vec![Kind::DirectMessageDeleted(
                    DirectMessageDeleted {
                        message_id: *message_id,
                    },
                )]))
            }
            PairCommand::Refresh => Ok(PairDecision::Already(CommandOutcome::Done { seq: 0 })),
            PairCommand::Read { message_id } => {
                // Needs no message body: an archived id is a marker like any other
                // (the last message is always in memory).
                let last = self.messages.last().map_or(0, |m| m.id);
                let up_to = (*message_id).min(last);
                if up_to <= self.read_by(&me.user_id) {
                    return Ok(PairDecision::Already(CommandOutcome::Done { seq: 0 }));
                }
                Ok(PairDecision::Emit(vec![Kind::DirectMessageRead(
                    DirectMessageRead {
                        reader_id: me.user_id.clone(),
                        message_id: up_to,
                    },
                )]))
            }
        }
    }

    /// Folds one committed event into the state.
    pub fn apply(&mut self, event: &ConversationEvent) {
        self.seq = event.seq;
        self.epoch = event.epoch;
        match &event.kind {
            Some(Kind::ConnectionChanged(c)) => {
                let by = c.user_id.clone();
                let change = match ConnectionChange::try_from(c.change) {
                    Ok(ConnectionChange::Requested) => ConnectionEvent::Requested { by },
                    Ok(ConnectionChange::Accepted) => ConnectionEvent::Accepted { by },
                    Ok(ConnectionChange::Ignored) => ConnectionEvent::Ignored { by },
                    Ok(ConnectionChange::Removed) | Err(_) => ConnectionEvent::Removed { by },
                };
                self.pair.apply(&change);
                for (user, name) in [(&c.user_id, &c.user_name), (&c.peer_id, &c.peer_name)] {
                    if !name.is_empty() {
                        self.names.insert(user.clone(), name.clone());
                    }
                }
            }
            Some(Kind::DirectMessagePosted(m)) => {
                if !m.client_msg_id.is_empty() {
                    self.client_ids
                        .insert(client_key(&m.sender_id, &m.client_msg_id), event.seq);
                }
                self.messages.push(StoredMessage {
                    id: event.seq,
                    sender: m.sender_id.clone(),
                    text: m.text.clone(),
                    at_ms: event.at_ms,
                    client_msg_id: m.client_msg_id.clone(),
                    deleted: false,
                });
                self.keep_window(event.seq);
            }
            Some(Kind::DirectMessageDeleted(d)) => {
                match self.messages.binary_search_by_key(&d.message_id, |m| m.id) {
                    Ok(i) => {
                        let message = &mut self.messages[i];
                        message.deleted = true;
                        message.text.clear();
                    }
                    Err(_) if self.is_archived(d.message_id) => {
                        if !self.deleted_late.contains(&d.message_id) {
                            self.deleted_late.push(d.message_id);
                        }
                    }
                    Err(_) => {}
                }
            }
            Some(Kind::DirectMessageRead(r)) => {
                let read = self.read.entry(r.reader_id.clone()).or_default();
                *read = (*read).max(r.message_id);
            }
            _ => {}
        }
    }

    /// When more than twice [`DM_WINDOW`] messages are held, the oldest leave memory
    /// down to [`DM_WINDOW`], and a mark records the batch (with `seq`, the event that
    /// made them leave). Part of `apply`: a replay, or a snapshot and the events after
    /// it, leave exactly the same window.
    fn keep_window(&mut self, seq: u64) {
        if self.messages.len() <= 2 * DM_WINDOW {
            return;
        }
        let leaving = self.messages.len() - DM_WINDOW;
        let up_to = self.messages[leaving - 1].id;
        self.messages.drain(..leaving);
        self.archive.push(ArchiveMark { up_to, seq });
    }

    /// The highest id of the messages that left memory (0: none did). Every message
    /// after it is in memory.
    pub fn archived_up_to(&self) -> u64 {
        self.archive.last().map_or(0, |m| m.up_to)
    }

    /// Whether `id` is at or before the archive's end: a message there (if it is one)
    /// is only in the log.
    fn is_archived(&self, id: u64) -> bool {
        (1..=self.archived_up_to()).contains(&id)
    }

    fn message(&self, id: u64) -> Option<&StoredMessage> {
        self.messages
            .binary_search_by_key(&id, |m| m.id)
            .ok()
            .map(|i| &self.messages[i])
    }

    fn read_by(&self, user: &str) -> u64 {
        self.read.get(user).copied().unwrap_or(0)
    }

    fn direct(&self, viewer: &str, m: &StoredMessage) -> DirectMessage {
        DirectMessage {
            peer_id: self.other(viewer).to_owned(),
            message_id: m.id,
            sender_id: m.sender.clone(),
            text: m.text.clone(),
            sent_at_ms: m.at_ms,
            client_msg_id: m.client_msg_id.clone(),
        }
    }

    /// Messages from the other side that `viewer` has not read, counted in memory:
    /// exact while `viewer`'s read marker is in memory (it is at least within the last
    /// [`DM_WINDOW`] messages), otherwise the unread messages among those in memory.
    pub fn unread(&self, viewer: &str) -> u32 {
        let read = self.read_by(viewer);
        self.messages
            .iter()
            .rev()
            .take_while(|m| m.id > read)
            .filter(|m| !m.deleted && m.sender != viewer)
            .count() as u32
    }

    /// The other party as `viewer` sees them.
    pub fn peer_view(&self, viewer: &str) -> Peer {
        let other = self.other(viewer);
        let status = match &self.pair.state {
            PairState::None => PeerStatus::None,
            PairState::Requested { by } if by == viewer => PeerStatus::RequestSent,
            PairState::Requested { .. } => PeerStatus::RequestReceived,
            PairState::Accepted => PeerStatus::Connected,
            // Ignoring is silent: the requester still sees a pending request.
            PairState::Ignored { requester, .. } if requester == viewer => PeerStatus::RequestSent,
            PairState::Ignored { .. } => PeerStatus::Ignored,
        };
        Peer {
            user_id: other.to_owned(),
            name: self
                .names
                .get(other)
                .cloned()
                .unwrap_or_else(|| other.to_owned()),
            status: status as i32,
            unread: self.unread(viewer),
            my_read_id: self.read_by(viewer),
            peer_read_id: self.read_by(other),
            last_message: self
                .messages
                .iter()
                .rev()
                .find(|m| !m.deleted)
                .map(|m| self.direct(viewer, m)),
        }
    }

    /// What `viewer`'s devices are told about a committed event (`None` for an
    /// event they must not hear of: the requester is never told of an ignore).
    pub fn notice_for(&self, viewer: &str, event: &ConversationEvent) -> Option<PeerUpdate> {
        let mut update = PeerUpdate {
            peer: Some(self.peer_view(viewer)),
            message: None,
            removed: None,
        };
        match &event.kind {
            Some(Kind::ConnectionChanged(c))
                if c.change == ConnectionChange::Ignored as i32 && c.user_id != viewer =>
            {
                return None;
            }
            Some(Kind::DirectMessagePosted(_)) => {
                // Deleted since (in the same batch, or before a replay): no text to show.
                update.message = self
                    .message(event.seq)
                    .filter(|m| !m.deleted)
                    .map(|m| self.direct(viewer, m));
            }
            Some(Kind::DirectMessageDeleted(d)) => {
                update.removed = Some(DirectMessageRef {
                    peer_id: self.other(viewer).to_owned(),
                    message_id: d.message_id,
                });
            }
            _ => {}
        }
        Some(update)
    }

    /// A page of `viewer`'s messages before `before_id` (0: the latest), as memory
    /// answers it: complete when memory holds enough, or the reads of the log that
    /// complete it (see [`HistoryPage`]).
    pub fn history(&self, viewer: &str, before_id: u64, limit: usize) -> HistoryPage {
        let limit = limit.max(1);
        let end = if before_id == 0 {
            self.messages.len()
        } else {
            self.messages.partition_point(|m| m.id < before_id)
        };
        // One more than the page: whether older ones exist.
        let mut newer: Vec<DirectMessage> = self.messages[..end]
            .iter()
            .rev()
            .filter(|m| !m.deleted)
            .take(limit + 1)
            .map(|m| self.direct(viewer, m))
            .collect();
        newer.reverse();
        let archived = self.archived_up_to();
        let below = match before_id {
            0 => archived + 1,
            id => id.min(archived + 1),
        };
        let mut page = HistoryPage {
            peer_id: self.other(viewer).to_owned(),
            limit,
            newer,
            older: Vec::new(),
            step: Step::Done,
            cursor: below - 1,
            marks: Vec::new(),
            deleted_late: Vec::new(),
            seq: self.seq,
            pending: Vec::new(),
            deleted: HashSet::new(),
            scanned_from: u64::MAX,
        };
        if page.wanted() > 0 && page.cursor > 0 {
            page.step = Step::Backward;
            page.marks = self.archive.clone();
            page.deleted_late = self
                .deleted_late
                .iter()
                .copied()
                .filter(|&id| id < below)
                .collect();
        }
        page
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Snapshots;

    const REQUEST: PairCommand = PairCommand::Connection(ConnectionAction::Request);
    const ACCEPT: PairCommand = PairCommand::Connection(ConnectionAction::Accept);
    const IGNORE: PairCommand = PairCommand::Connection(ConnectionAction::Ignore);
    const REMOVE: PairCommand = PairCommand::Connection(ConnectionAction::Remove);

    fn party(id: &str, allows: bool) -> Party {
        Party {
            user_id: id.into(),
            name: format!("{id} name"),
            email: format!("{id}@example.com"),
            moderator: false,
            allows_private_chat: allows,
        }
    }

    /// Decides and applies like the actor does; returns the outcome.
    fn run(
        s: &mut ConversationState,
        me: &Party,
        peer: &Party,
        command: PairCommand,
    ) -> Result<Vec<ConversationEvent>, Rejection> {
        let decision = s.decide(&ChatLimits::default(), me, peer, &command)?;
        let PairDecision::Emit(kinds) = decision else {
            return Ok(vec![]);
        };
        let mut out = vec![];
        for kind in kinds {
            let event = ConversationEvent {
                stream_id: "p".into(),
                epoch: 1,
                seq: s.seq + 1,
                at_ms: 1000 + s.seq,
                actor: None,
                kind: Some(kind),
            };
            s.apply(&event);
            out.push(event);
        }
        Ok(out)
    }

    /// Two users, `a` and `b`, connected.
    fn connected() -> (Party, Party, ConversationState) {
        let (a, b) = (party("a", true), party("b", true));
        let mut s = ConversationState::new("a", "b").unwrap();
        run(&mut s, &a, &b, REQUEST).unwrap();
        run(&mut s, &b, &a, ACCEPT).unwrap();
        (a, b, s)
    }

    fn send(text: &str, id: &str) -> PairCommand {
        PairCommand::Send {
            text: text.into(),
            client_msg_id: id.into(),
        }
    }

    #[test]
    fn stream_ids_are_symmetric_and_unambiguous() {
        assert_eq!(pair_stream_id("a", "b"), pair_stream_id("b", "a"));
        assert_ne!(pair_stream_id("a/b", "c"), pair_stream_id("a", "b/c"));
        assert_eq!(pair_stream_id("x/y", "z"), "~dm/x%2Fy/z");
    }

    #[test]
    fn request_accept_chat_read_and_unread_counts() {
        let (a, b) = (party("a", true), party("b", true));
        let mut s = ConversationState::new("a", "b").unwrap();
        assert_eq!(
            run(&mut s, &a, &b, send("hi", "1")),
            Err(Rejection::NotConnected)
        );
        run(&mut s, &a, &b, REQUEST).unwrap();
        assert_eq!(s.peer_view("a").status, PeerStatus::RequestSent as i32);
        assert_eq!(s.peer_view("b").status, PeerStatus::RequestReceived as i32);
        assert_eq!(s.peer_view("b").name, "a name");
        run(&mut s, &b, &a, ACCEPT).unwrap();
        assert_eq!(s.peer_view("a").status, PeerStatus::Connected as i32);
        let m1 = run(&mut s, &a, &b, send("one", "1")).unwrap()[0].seq;
        let m2 = run(&mut s, &a, &b, send("two", "2")).unwrap()[0].seq;
        run(&mut s, &b, &a, send("back", "1")).unwrap();
        assert_eq!(s.unread("b"), 2);
        assert_eq!(s.unread("a"), 1);
        run(&mut s, &b, &a, PairCommand::Read { message_id: m1 }).unwrap();
        assert_eq!(s.unread("b"), 1);
        assert_eq!(s.peer_view("a").peer_read_id, m1);
        // Read markers never go back.
        assert!(
            run(&mut s, &b, &a, PairCommand::Read { message_id: 1 })
                .unwrap()
                .is_empty()
        );
        run(&mut s, &b, &a, PairCommand::Read { message_id: m2 }).unwrap();
        assert_eq!(s.unread("b"), 0);
        // A resend is a duplicate, even after the connection ends.
        let again = s
            .decide(&ChatLimits::default(), &a, &b, &send("one", "1"))
            .unwrap();
        assert!(matches!(
            again,
            PairDecision::Already(CommandOutcome::Sent { message_id, duplicate: true, .. }) if message_id == m1
        ));
        run(&mut s, &b, &a, REMOVE).unwrap();
        assert_eq!(s.peer_view("a").status, PeerStatus::None as i32);
        assert_eq!(
            run(&mut s, &a, &b, send("hello?", "9")),
            Err(Rejection::NotConnected)
        );
    }

    #[test]
    fn delete_own_only_and_history_pages() {
        let (a, b, mut s) = connected();
        let ids: Vec<u64> = (0..5)
            .map(|i| run(&mut s, &a, &b, send(&format!("m{i}"), &i.to_string())).unwrap()[0].seq)
            .collect();
        assert_eq!(
            run(&mut s, &b, &a, PairCommand::Delete { message_id: ids[4] }),
            Err(Rejection::Forbidden)
        );
        run(&mut s, &a, &b, PairCommand::Delete { message_id: ids[4] }).unwrap();
        assert!(matches!(
            run(&mut s, &a, &b, PairCommand::Delete { message_id: ids[4] }),
            Err(Rejection::NotFound(_))
        ));
        let (page, more) = s.history("b", 0, 2).finish();
        assert_eq!(
            page.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(),
            ["m2", "m3"]
        );
        assert!(more);
        assert_eq!(page[0].peer_id, "a");
        let (page, more) = s.history("b", page[0].message_id, 10).finish();
        assert_eq!(page.len(), 2);
        assert!(!more);
        assert_eq!(s.unread("b"), 4, "a deleted message is not unread");
    }

    #[test]
    fn private_chat_disabled_refuses_requests_and_messages() {
        let (a, b_off) = (party("a", true), party("b", false));
        let mut s = ConversationState::new("a", "b").unwrap();
        assert_eq!(
            run(&mut s, &a, &b_off, REQUEST),
            Err(Rejection::PrivateChatDisabled)
        );
        let b = party("b", true);
        run(&mut s, &a, &b, REQUEST).unwrap();
        run(&mut s, &b, &a, ACCEPT).unwrap();
        assert_eq!(
            run(&mut s, &a, &b_off, send("x", "1")),
            Err(Rejection::PrivateChatDisabled)
        );
    }

    #[test]
    fn an_ignore_is_never_told_to_the_requester() {
        let (a, b) = (party("a", true), party("b", true));
        let mut s = ConversationState::new("a", "b").unwrap();
        run(&mut s, &a, &b, REQUEST).unwrap();
        let ignored = run(&mut s, &b, &a, IGNORE).unwrap().remove(0);
        assert!(s.notice_for("a", &ignored).is_none());
        assert_eq!(
            s.notice_for("b", &ignored).unwrap().peer.unwrap().status,
            PeerStatus::Ignored as i32
        );
        assert_eq!(s.peer_view("a").status, PeerStatus::RequestSent as i32);
        // The requester can still withdraw, exactly as if it were pending.
        run(&mut s, &a, &b, REMOVE).unwrap();
        assert_eq!(s.peer_view("b").status, PeerStatus::None as i32);
    }

    proptest::proptest! {
        /// Any sequence of commands by either side keeps the read markers monotonic,
        /// the unread counts equal to a recount, message ids increasing, and the full
        /// history equal to the messages not deleted, in order.
        #[test]
        fn markers_unread_and_history_stay_consistent(
            steps in proptest::collection::vec((proptest::bool::ANY, 0u8..7, 0u64..40), 1..120)
        ) {
            let (a, b) = (party("a", true), party("b", true));
            let mut s = ConversationState::new("a", "b").unwrap();
            let mut sent: Vec<(u64, &str)> = Vec::new();
            let mut deleted = std::collections::HashSet::new();
            let mut marks = [0u64; 2];
            for (i, (by_a, op, n)) in steps.into_iter().enumerate() {
                let (me, peer) = if by_a { (&a, &b) } else { (&b, &a) };
                let command = match op {
                    0 => REQUEST,
                    1 => ACCEPT,
                    2 => REMOVE,
                    3 | 4 => send(&format!("t{i}"), &format!("{i}")),
                    5 => PairCommand::Delete { message_id: sent.get(n as usize % sent.len().max(1)).map_or(n, |m| m.0) },
                    _ => PairCommand::Read { message_id: n },
                };
                if let Ok(events) = run(&mut s, me, peer, command) {
                    for e in &events {
                        match &e.kind {
                            Some(Kind::DirectMessagePosted(m)) => {
                                proptest::prop_assert!(sent.last().is_none_or(|l| l.0 < e.seq));
                                sent.push((e.seq, if m.sender_id == "a" { "a" } else { "b" }));
                            }
                            Some(Kind::DirectMessageDeleted(d)) => {
                                proptest::prop_assert!(deleted.insert(d.message_id));
                            }
                            _ => {}
                        }
                    }
                }
                for (viewer, k) in [("a", 0), ("b", 1)] {
                    let read = s.peer_view(viewer).my_read_id;
                    proptest::prop_assert!(read >= marks[k], "a read marker went back");
                    marks[k] = read;
                    let recount = sent
                        .iter()
                        .filter(|(id, from)| *id > read && *from != viewer && !deleted.contains(id))
                        .count() as u32;
                    proptest::prop_assert_eq!(s.unread(viewer), recount);
                }
            }
            let (all, more) = s.history("a", 0, 1_000).finish();
            proptest::prop_assert!(!more);
            let expected: Vec<u64> = sent.iter().map(|m| m.0).filter(|id| !deleted.contains(id)).collect();
            proptest::prop_assert_eq!(all.iter().map(|m| m.message_id).collect::<Vec<_>>(), expected);
        }
    }

    #[test]
    fn snapshot_round_trips() {
        let (a, b, mut s) = connected();
        run(&mut s, &a, &b, send("kept", "k")).unwrap();
        let back = ConversationState::from_snapshot(&s.to_snapshot().unwrap()).unwrap();
        assert_eq!(back, s);
    }

    /// Answers a read from `log` (every event of the stream), as the event log does.
    fn serve(log: &[ConversationEvent], read: LogRead) -> Vec<ConversationEvent> {
        let mut events: Vec<ConversationEvent> = log
            .iter()
            .filter(|e| (read.from..=read.to).contains(&e.seq))
            .cloned()
            .collect();
        if read.newest_first {
            events.reverse();
        }
        events.truncate(read.limit);
        events
    }

    /// A history page, reading archived messages from `log`.
    fn page(
        s: &ConversationState,
        log: &[ConversationEvent],
        before_id: u64,
        limit: usize,
    ) -> (Vec<DirectMessage>, bool) {
        let mut page = s.history("b", before_id, limit);
        while let Some(read) = page.next_read() {
            page.take(serve(log, read));
        }
        page.finish()
    }

    /// Every message ids history shows, paging back from the latest by `limit`:
    /// each page full but the last, `has_more` false only on the last.
    fn page_back(s: &ConversationState, log: &[ConversationEvent], limit: usize) -> Vec<u64> {
        let (mut all, mut before) = (Vec::new(), 0);
        loop {
            let (messages, more) = page(s, log, before, limit);
            assert!(messages.len() <= limit);
            if more {
                assert_eq!(messages.len(), limit, "only the last page may be short");
            }
            all.splice(0..0, messages.iter().map(|m| m.message_id));
            if !more {
                return all;
            }
            before = messages[0].message_id;
        }
    }

    /// Sends, deletes and reads like the actor does, keeping the log.
    struct Logged {
        a: Party,
        b: Party,
        s: ConversationState,
        log: Vec<ConversationEvent>,
    }

    impl Logged {
        fn new() -> Self {
            let (a, b) = (party("a", true), party("b", true));
            let mut s = ConversationState::new("a", "b").unwrap();
            let mut log = run(&mut s, &a, &b, REQUEST).unwrap();
            log.extend(run(&mut s, &b, &a, ACCEPT).unwrap());
            Logged { a, b, s, log }
        }

        fn by(&mut self, a: bool, command: PairCommand) -> Result<u64, Rejection> {
            let (me, peer) = if a {
                (&self.a, &self.b)
            } else {
                (&self.b, &self.a)
            };
            let events = run(&mut self.s, me, peer, command)?;
            let seq = events.last().map_or(0, |e| e.seq);
            self.log.extend(events);
            Ok(seq)
        }

        fn send(&mut self, a: bool, i: usize) -> u64 {
            self.by(a, send(&format!("m{i}"), &format!("c{i}")))
                .unwrap()
        }
    }

    #[test]
    fn memory_stays_bounded_and_history_pages_back_to_the_first_message() {
        let mut chat = Logged::new();
        let mut visible = Vec::new();
        for i in 0..5_000 {
            let by_a = i % 3 != 0;
            let id = chat.send(by_a, i);
            // Some are deleted at once, some a few hundred messages later (still in
            // memory); others are read.
            if i % 7 == 0 {
                chat.by(by_a, PairCommand::Delete { message_id: id })
                    .unwrap();
            } else {
                visible.push(id);
            }
            if i % 11 == 0 && i >= 300 {
                let old = visible.remove(visible.len() - 250);
                let by_a = chat.s.message(old).unwrap().sender == "a";
                chat.by(by_a, PairCommand::Delete { message_id: old })
                    .unwrap();
            }
            if i % 13 == 0 {
                chat.by(!by_a, PairCommand::Read { message_id: id })
                    .unwrap();
            }
            let held = chat.s.messages.len();
            assert!(held <= 2 * DM_WINDOW && (i < DM_WINDOW || held >= DM_WINDOW));
        }
        assert!(chat.s.client_ids.by_key.len() <= DM_CLIENT_IDS);
        assert_eq!(chat.s.archive.len(), (5_000 - DM_WINDOW) / (DM_WINDOW + 1));
        let snapshot = chat.s.to_snapshot().unwrap();
        assert!(snapshot.len() < 400_000, "{} bytes", snapshot.len());

        for limit in [1, 37, 100] {
            assert_eq!(
                page_back(&chat.s, &chat.log, limit),
                visible,
                "limit {limit}"
            );
        }
        // A page ending exactly at the archive's end, and one within the archive.
        let boundary = chat.s.archived_up_to();
        let (messages, more) = page(&chat.s, &chat.log, boundary + 1, 3);
        let archived: Vec<u64> = visible
            .iter()
            .copied()
            .filter(|&id| id <= boundary)
            .collect();
        assert_eq!(
            messages.iter().map(|m| m.message_id).collect::<Vec<_>>(),
            archived[archived.len() - 3..]
        );
        assert!(more);
        // Rendered as in memory: `m<i>` was sent with client id `c<i>`.
        for m in &messages {
            assert_eq!(m.peer_id, "a");
            assert_eq!(m.text[1..], m.client_msg_id[1..]);
            assert_eq!(m.sent_at_ms, 1000 + m.message_id - 1);
        }
        let (first, more) = page(&chat.s, &chat.log, visible[2], 10);
        assert_eq!(
            first.iter().map(|m| m.message_id).collect::<Vec<_>>(),
            visible[..2]
        );
        assert!(!more);
    }

    #[test]
    fn archived_messages_cannot_be_deleted_but_read_markers_reach_them() {
        let mut chat = Logged::new();
        let ids: Vec<u64> = (0..2 * DM_WINDOW + 1).map(|i| chat.send(true, i)).collect();
        assert_eq!(chat.s.archived_up_to(), ids[DM_WINDOW]);
        assert_eq!(
            chat.by(true, PairCommand::Delete { message_id: ids[0] }),
            Err(Rejection::Archived("message".into()))
        );
        assert_eq!(
            chat.by(
                false,
                PairCommand::Delete {
                    message_id: ids[DM_WINDOW]
                }
            ),
            Err(Rejection::Archived("message".into())),
            "archived: the sender is no longer known"
        );
        assert!(matches!(
            chat.by(true, PairCommand::Delete { message_id: 0 }),
            Err(Rejection::NotFound(_))
        ));
        chat.by(
            true,
            PairCommand::Delete {
                message_id: ids[DM_WINDOW + 1],
            },
        )
        .unwrap();
        // A read marker needs no message body.
        chat.by(false, PairCommand::Read { message_id: ids[3] })
            .unwrap();
        assert_eq!(chat.s.peer_view("a").peer_read_id, ids[3]);
        assert_eq!(
            chat.s.unread("b"),
            (DM_WINDOW - 1) as u32,
            "counted in memory"
        );
    }

    #[test]
    fn client_ids_are_forgotten_first_in_first_out() {
        let mut chat = Logged::new();
        let first = chat.send(true, 0);
        for i in 1..=DM_CLIENT_IDS {
            chat.send(i % 2 == 0, i);
        }
        let resend = |s: &ConversationState, a: &Party, b: &Party, i: usize| {
            s.decide(
                &ChatLimits::default(),
                a,
                b,
                &send("again", &format!("c{i}")),
            )
            .unwrap()
        };
        let (a, b) = (chat.a.clone(), chat.b.clone());
        // `c0` is the oldest of DM_CLIENT_IDS + 1: forgotten, so posted again.
        assert!(matches!(resend(&chat.s, &a, &b, 0), PairDecision::Emit(_)));
        assert!(matches!(
            resend(&chat.s, &a, &b, 2),
            PairDecision::Already(CommandOutcome::Sent { duplicate: true, message_id, .. })
                if message_id == first + 2
        ));
        assert_eq!(chat.s.client_ids.by_key.len(), DM_CLIENT_IDS);
        // A snapshot keeps the order; an older one with more ids forgets the oldest.
        let back = ConversationState::from_snapshot(&chat.s.to_snapshot().unwrap()).unwrap();
        assert_eq!(back, chat.s);
        let mut older = serde_json::to_value(&chat.s).unwrap();
        older["client_ids"]["a\u{1f}c0"] = first.into();
        let older = ConversationState::from_snapshot(older.to_string().as_bytes()).unwrap();
        assert_eq!(older.client_ids, chat.s.client_ids);
    }

    #[test]
    fn a_snapshot_without_archive_fields_is_read_and_trimmed_at_the_next_eviction() {
        let mut chat = Logged::new();
        for i in 0..2 * DM_WINDOW {
            chat.send(true, i);
        }
        let mut old = serde_json::to_value(&chat.s).unwrap();
        let fields = old.as_object_mut().unwrap();
        fields.remove("archive");
        fields.remove("deleted_late");
        let mut back = ConversationState::from_snapshot(old.to_string().as_bytes()).unwrap();
        assert_eq!(back, chat.s);
        let event = chat.log.last().unwrap().clone();
        let next = ConversationEvent {
            seq: back.seq + 1,
            ..event
        };
        back.apply(&next);
        assert_eq!(back.messages.len(), DM_WINDOW);
    }

    #[test]
    fn a_delete_of_an_archived_message_in_an_older_log_still_hides_it() {
        let mut chat = Logged::new();
        let first = chat.send(true, 0);
        for i in 1..=2 * DM_WINDOW {
            chat.send(true, i);
        }
        assert!(chat.s.is_archived(first));
        // Written before messages were archived: a delete long after the message.
        let delete = ConversationEvent {
            stream_id: "p".into(),
            epoch: 1,
            seq: chat.s.seq + 1,
            at_ms: 1,
            actor: None,
            kind: Some(Kind::DirectMessageDeleted(DirectMessageDeleted {
                message_id: first,
            })),
        };
        chat.s.apply(&delete);
        chat.log.push(delete);
        let all = page_back(&chat.s, &chat.log, 100);
        assert_eq!(all.len(), 2 * DM_WINDOW);
        assert!(!all.contains(&first));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

        /// With messages leaving memory, a replay and a snapshot plus the events after
        /// it give the same state, and history shows every message not deleted,
        /// exactly once and in order, as far back as the log holds them.
        #[test]
        fn eviction_keeps_replay_snapshots_and_history_consistent(
            steps in proptest::collection::vec((proptest::bool::ANY, 0u8..10, 0usize..2_000), 1_300..2_800),
            cut in 0usize..3_000,
            limit in 1usize..=100,
            floor in 0u64..3_000,
        ) {
            let mut chat = Logged::new();
            let mut visible: Vec<u64> = Vec::new();
            for (i, (by_a, op, n)) in steps.into_iter().enumerate() {
                match op {
                    0 if !visible.is_empty() => {
                        let id = visible[visible.len() - 1 - n % visible.len()];
                        let sender = chat.s.message(id).map(|m| m.sender == "a");
                        if chat.by(sender.unwrap_or(by_a), PairCommand::Delete { message_id: id }).is_ok() {
                            visible.retain(|&v| v != id);
                        }
                    }
                    1 => {
                        chat.by(by_a, PairCommand::Read { message_id: n as u64 * 3 }).unwrap();
                    }
                    2 if n % 50 == 0 => {
                        // A resend: never posted twice while remembered.
                        chat.by(by_a, send("again", &format!("c{}", i.saturating_sub(n % 20)))).unwrap();
                        if let Some(Kind::DirectMessagePosted(_)) = chat.log.last().and_then(|e| e.kind.as_ref()) {
                            visible.push(chat.log.last().unwrap().seq);
                        }
                    }
                    _ => visible.push(chat.send(by_a, i)),
                }
            }
            visible.dedup();

            let replayed = chat.log.iter().fold(chat.s.emptied(), |mut s, e| {
                s.apply(e);
                s
            });
            proptest::prop_assert_eq!(&replayed, &chat.s);
            let cut = cut.min(chat.log.len());
            let mut at_cut = chat.s.emptied();
            for e in &chat.log[..cut] {
                at_cut.apply(e);
            }
            let mut resumed = ConversationState::from_snapshot(&at_cut.to_snapshot().unwrap()).unwrap();
            for e in &chat.log[cut..] {
                resumed.apply(e);
            }
            proptest::prop_assert_eq!(&resumed, &chat.s);

            proptest::prop_assert_eq!(page_back(&chat.s, &chat.log, limit), visible.clone());
            // A log that lost its oldest events (Redis's capped stream): history
            // reaches back as far as it holds, and memory is always shown.
            let capped: Vec<ConversationEvent> = chat.log.iter().filter(|e| e.seq > floor).cloned().collect();
            let boundary = chat.s.archived_up_to();
            let expected: Vec<u64> = visible.iter().copied().filter(|&id| id > floor || id > boundary).collect();
            proptest::prop_assert_eq!(page_back(&chat.s, &capped, limit), expected);
        }
    }
}
