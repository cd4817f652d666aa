//! One conversation between two users — their connection, private messages and read
//! markers — as a pure state machine. The conversation actor runs it; every change is
//! a [`ConversationEvent`] on the pair's own stream (`~dm/<a>/<b>`).

use std::collections::{BTreeMap, HashMap};

use plenary_proto::v1::{
    DirectMessage, DirectMessageRef, Peer, PeerStatus, PeerUpdate,
    events::{
        ConnectionChange, ConnectionChanged, ConversationEvent, DirectMessageDeleted,
        DirectMessagePosted, DirectMessageRead, conversation_event::Kind,
    },
};
use serde::{Deserialize, Serialize};

use super::connection::{ConnectionCommand, ConnectionEvent, ConnectionRejection, Pair, PairState};
use crate::context::{CommandOutcome, Rejection, state::ChatLimits};

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

/// The state of one conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationState {
    pub epoch: u64,
    pub seq: u64,
    pub pair: Pair,
    /// Display names, by user id, as last known.
    names: BTreeMap<String, String>,
    /// Every message, by id (ascending); deleted ones keep their place without text.
    messages: Vec<StoredMessage>,
    /// `sender \u{1f} client_msg_id` → message id.
    client_ids: HashMap<String, u64>,
    /// The last message each user has read.
    read: BTreeMap<String, u64>,
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
            client_ids: HashMap::new(),
            read: BTreeMap::new(),
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
            client_ids: HashMap::new(),
            read: BTreeMap::new(),
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
                    && let Some(&id) = self.client_ids.get(&client_key(&me.user_id, client_msg_id))
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
            }
            Some(Kind::DirectMessageDeleted(d)) => {
                if let Ok(i) = self.messages.binary_search_by_key(&d.message_id, |m| m.id) {
                    let message = &mut self.messages[i];
                    message.deleted = true;
                    message.text.clear();
                }
            }
            Some(Kind::DirectMessageRead(r)) => {
                let read = self.read.entry(r.reader_id.clone()).or_default();
                *read = (*read).max(r.message_id);
            }
            _ => {}
        }
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

    /// Messages from the other side that `viewer` has not read.
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

    /// A page of messages before `before_id` (0: the latest), oldest first, and
    /// whether older ones exist.
    pub fn history(
        &self,
        viewer: &str,
        before_id: u64,
        limit: usize,
    ) -> (Vec<DirectMessage>, bool) {
        let end = if before_id == 0 {
            self.messages.len()
        } else {
            self.messages.partition_point(|m| m.id < before_id)
        };
        let visible: Vec<&StoredMessage> = self.messages[..end]
            .iter()
            .rev()
            .filter(|m| !m.deleted)
            .take(limit + 1)
            .collect();
        let has_more = visible.len() > limit;
        let page = visible
            .into_iter()
            .take(limit)
            .rev()
            .map(|m| self.direct(viewer, m))
            .collect();
        (page, has_more)
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
        let (page, more) = s.history("b", 0, 2);
        assert_eq!(
            page.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(),
            ["m2", "m3"]
        );
        assert!(more);
        assert_eq!(page[0].peer_id, "a");
        let (page, more) = s.history("b", page[0].message_id, 10);
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
            let (all, more) = s.history("a", 0, 1_000);
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
}
