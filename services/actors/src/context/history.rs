//! Chat history a page at a time: the group chat, or for moderators the backchannel.
//! A page comes from memory while the area's window reaches back far enough; its older
//! part is read from the event log. An archived message (older than the window) can no
//! longer change, so everything that changed it — likes, a delete — is in the log
//! before the mark of the batch it left memory in: the page reads its posts backwards,
//! then the events after them up to that mark, and renders them as they ended.
//!
//! [`plan`] is pure (the actor runs it on its state); [`read_archive`] does the I/O
//! (a task the actor spawns, so it never waits on the log).

use std::collections::{BTreeMap, HashMap, HashSet};

use plenary_bus::{BusError, EventLog};
use plenary_proto::v1::{
    Author, ChatMessage, HistoryOk,
    events::{ContextEvent, MessagePosted, context_event::Kind},
};

use super::{
    chat::{self, ArchiveMark},
    command::Rejection,
    state::ContextState,
    view::{self, Area, Viewer},
};
use crate::identity::{Role, author_of};

/// Events read from the log at a time, backwards for posts or forwards for what
/// changed them.
const LOG_CHUNK: usize = 1_024;

/// What a page needs once memory gave what it holds.
#[derive(Debug)]
pub(crate) struct Plan {
    /// The part from memory, oldest first (the whole page when `archive` is `None`).
    pub page: HistoryOk,
    pub limit: usize,
    /// The older part, to read from the log.
    pub archive: Option<ArchiveRead>,
}

/// A read of an area's archive: posts with seqs up to `below`, newest first, until
/// `want` visible ones are found.
#[derive(Debug)]
pub(crate) struct ArchiveRead {
    area: Area,
    below: u64,
    want: usize,
    viewer: String,
    /// The area's marks, in order, and the held messages let go one at a time.
    marks: Vec<ArchiveMark>,
    late: BTreeMap<u64, u64>,
    /// Messages older than the window still in memory (pinned or published): shown
    /// as they are now.
    held: HashMap<u64, (ChatMessage, bool)>,
    /// How an attendee sees a moderator's answer in their thread: as the session.
    as_session: Option<Author>,
}

/// Plans a page of `area` before `before_id` (0: the newest), at most `limit`
/// messages, as `viewer` sees it.
pub(crate) fn plan(
    state: &ContextState,
    viewer: Viewer<'_>,
    area: Area,
    before_id: u64,
    limit: usize,
) -> Result<Plan, Rejection> {
    if !state.exists() {
        return Err(Rejection::ContextNotFound(state.id.clone()));
    }
    if let Area::Thread(thread) = area
        && state.qa.thread(thread).is_none()
    {
        return Err(Rejection::NotFound("thread".into()));
    }
    if !view::sees(state, area, viewer) {
        return Err(Rejection::Forbidden);
    }
    let before = if before_id == 0 { u64::MAX } else { before_id };
    let boundary = state.chat.archived_up_to(area);
    let start = boundary.saturating_add(1);
    let recent: Vec<ChatMessage> = state
        .chat
        .messages
        .range(start..before.max(start))
        .rev()
        .filter(|(_, m)| m.area() == area)
        .take(limit + 1)
        .map(|(id, m)| chat::chat_message(state, *id, m, viewer))
        .collect();
    let mut page = HistoryOk {
        context_id: state.id.clone(),
        messages: recent.into_iter().rev().collect(),
        has_more: false,
        liked_by_me: Vec::new(),
    };
    let archive = (page.messages.len() <= limit && boundary > 0 && before > 1).then(|| {
        let held = state
            .chat
            .messages
            .range(..=boundary)
            .filter(|(_, m)| m.area() == area)
            .map(|(id, m)| {
                let liked = m.likers.contains(viewer.user_id);
                (*id, (chat::chat_message(state, *id, m, viewer), liked))
            })
            .collect();
        ArchiveRead {
            area,
            below: boundary.min(before - 1),
            want: limit + 1 - page.messages.len(),
            viewer: viewer.user_id.to_owned(),
            marks: state
                .chat
                .archive
                .iter()
                .filter(|m| m.area == area)
                .copied()
                .collect(),
            late: state.chat.archived_late.clone(),
            held,
            as_session: (matches!(area, Area::Thread(_)) && viewer.role == Role::Attendee)
                .then(|| chat::as_context(state)),
        }
    });
    page.liked_by_me = chat::liked_by(state, page.messages.iter(), viewer);
    let plan = Plan {
        page,
        limit,
        archive,
    };
    Ok(match plan.archive {
        Some(_) => plan,
        None => plan.finish(Vec::new(), Vec::new()),
    })
}

impl Plan {
    /// The page: `older` (newest first, from the archive) before the part from
    /// memory, cut to `limit` (the oldest beyond it only says that more exist).
    fn finish(mut self, older: Vec<ChatMessage>, liked_older: Vec<u64>) -> Plan {
        let mut messages: Vec<ChatMessage> = older.into_iter().rev().collect();
        messages.append(&mut self.page.messages);
        let extra = messages.len().saturating_sub(self.limit);
        self.page.has_more = extra > 0;
        messages.drain(..extra);
        let first = messages.first().map_or(u64::MAX, |m| m.id);
        self.page.liked_by_me.extend(liked_older);
        self.page.liked_by_me.retain(|id| *id >= first);
        self.page.liked_by_me.sort_unstable();
        self.page.messages = messages;
        self.archive = None;
        self
    }

    /// Whether the page needs the log (else [`Self::into_page`] is the whole page).
    pub(crate) fn reads_log(&self) -> bool {
        self.archive.is_some()
    }

    /// The page, whole (when no archive read is needed).
    pub(crate) fn into_page(self) -> HistoryOk {
        self.page
    }
}

/// Reads the older part of a page from the log and finishes it.
pub(crate) async fn read_archive(
    log: &EventLog,
    stream_id: &str,
    mut plan: Plan,
) -> Result<HistoryOk, BusError> {
    let Some(read) = plan.archive.take() else {
        return Ok(plan.page);
    };
    let mut older: Vec<ChatMessage> = Vec::new();
    let mut liked = Vec::new();
    let mut upper = read.below;
    // What changed the posts found so far, and the seqs already read for it: each
    // older chunk reads only what was not read yet.
    let mut changes = Changes::default();
    let mut scanned: Option<(u64, u64)> = None;
    while older.len() < read.want && upper > 0 {
        let chunk: Vec<ContextEvent> = log.read_seqs(stream_id, 1, upper, LOG_CHUNK, true).await?;
        let Some(last) = chunk.last() else { break };
        upper = last.seq.saturating_sub(1);
        let posts: Vec<(ContextEvent, MessagePosted)> = chunk
            .into_iter()
            .filter_map(|e| match &e.kind {
                Some(Kind::MessagePosted(m))
                    if Area::of(m.backchannel, m.thread_id) == read.area =>
                {
                    let m = m.clone();
                    Some((e, m))
                }
                _ => None,
            })
            .collect();
        let (Some((newest, _)), Some((oldest, _))) = (posts.first(), posts.last()) else {
            continue;
        };
        let (lo, hi) = (oldest.seq, newest.seq);
        let horizon = read.horizon(lo, hi);
        let (from, to) = scanned.unwrap_or((hi.saturating_add(1), hi));
        changes
            .read(log, stream_id, lo.saturating_add(1), from.saturating_sub(1))
            .await?;
        changes
            .read(log, stream_id, to.saturating_add(1), horizon)
            .await?;
        scanned = Some((from.min(lo.saturating_add(1)), to.max(horizon)));
        // A capped Redis stream trimmed meanwhile: what changed the posts up to there
        // is gone, so they are not shown (nor anything older: the page ends).
        let posts = match changes.gone_through {
            gone if gone > lo => {
                upper = 0;
                posts
                    .into_iter()
                    .filter(|(_, m)| m.message_id > gone)
                    .collect()
            }
            _ => posts,
        };
        for (event, m) in posts {
            if older.len() == read.want {
                break;
            }
            let id = m.message_id;
            if let Some((live, likes)) = read.held.get(&id) {
                older.push(live.clone());
                if *likes {
                    liked.push(id);
                }
                continue;
            }
            if changes.deleted.contains(&id) {
                continue;
            }
            if changes.likes(id, &read.viewer) {
                liked.push(id);
            }
            let author = event.actor.as_ref().map(|a| match &read.as_session {
                Some(session) if a.moderator => session.clone(),
                _ => author_of(a),
            });
            older.push(chat::posted_message(
                &event,
                &m,
                author,
                changes.like_count(id),
            ));
        }
    }
    Ok(plan.finish(older, liked).into_page())
}

impl ArchiveRead {
    /// The seq up to which the posts `lo..=hi` could change: the mark of the batch
    /// the newest left memory in, or a later let-go of a held one among them.
    fn horizon(&self, lo: u64, hi: u64) -> u64 {
        let batch = self
            .marks
            .iter()
            .find(|m| m.up_to >= hi)
            .map_or(u64::MAX, |m| m.seq);
        self.late
            .range(lo..=hi)
            .map(|(_, seq)| *seq)
            .fold(batch, u64::max)
    }
}

/// Likes and deletes of archived messages, gathered from ranges of the log read in
/// any order: each user's last like or unlike of a message (by seq) wins.
#[derive(Default)]
struct Changes {
    /// Message id → user → (seq of their last like or unlike, liked).
    likes: HashMap<u64, HashMap<String, (u64, bool)>>,
    deleted: HashSet<u64>,
    /// The last seq a read found missing at its start (0: none): the log no longer
    /// holds it (Redis's capped stream, trimmed from its oldest end).
    gone_through: u64,
}

impl Changes {
    /// Reads the events with seqs `from..=to` (nothing when empty).
    async fn read(
        &mut self,
        log: &EventLog,
        stream_id: &str,
        mut from: u64,
        to: u64,
    ) -> Result<(), BusError> {
        while from <= to {
            let chunk: Vec<ContextEvent> =
                log.read_seqs(stream_id, from, to, LOG_CHUNK, false).await?;
            // Every seq of a stream is an event: a read whose first event comes after
            // `from` lost what was before it.
            if let Some(first) = chunk.first()
                && first.seq > from
            {
                self.gone_through = self.gone_through.max(first.seq - 1);
            }
            let Some(last) = chunk.last() else { break };
            from = last.seq.saturating_add(1);
            for event in &chunk {
                let user = event.actor.as_ref().map(|a| a.user_id.clone());
                let (message_id, liked) = match &event.kind {
                    Some(Kind::MessageLiked(l)) => (l.message_id, true),
                    Some(Kind::MessageUnliked(l)) => (l.message_id, false),
                    Some(Kind::MessageDeleted(d)) => {
                        self.deleted.insert(d.message_id);
                        continue;
                    }
                    _ => continue,
                };
                let Some(user) = user else { continue };
                let last = self
                    .likes
                    .entry(message_id)
                    .or_default()
                    .entry(user)
                    .or_insert((0, false));
                if event.seq > last.0 {
                    *last = (event.seq, liked);
                }
            }
        }
        Ok(())
    }

    fn like_count(&self, message_id: u64) -> u32 {
        self.likes.get(&message_id).map_or(0, |users| {
            users.values().filter(|(_, liked)| *liked).count() as u32
        })
    }

    fn likes(&self, message_id: u64, user_id: &str) -> bool {
        self.likes
            .get(&message_id)
            .and_then(|users| users.get(user_id))
            .is_some_and(|(_, liked)| *liked)
    }
}

#[cfg(test)]
mod tests {
    use plenary_bus::SyncMode;
    use plenary_proto::v1::events::{Actor, ContextCreated, ContextSettings};

    use super::*;
    use crate::{
        Snapshots,
        context::{
            chat::{CLIENT_ID_WINDOW, MESSAGE_WINDOW},
            command::ChatCommand,
            state::{ChatLimits, Decision},
            testing::actor,
        },
        identity::Role,
    };

    /// A context and every event it was built from (what its log holds).
    struct Built {
        state: ContextState,
        events: Vec<ContextEvent>,
    }

    impl Built {
        fn new() -> Self {
            let mut built = Built {
                state: ContextState::new("w1"),
                events: Vec::new(),
            };
            built.emit(
                &actor("admin", true),
                Kind::Created(ContextCreated {
                    settings: Some(ContextSettings {
                        name: "w1".into(),
                        ..Default::default()
                    }),
                    implicit: false,
                }),
            );
            built
        }

        fn emit(&mut self, who: &Actor, kind: Kind) -> u64 {
            let event = ContextEvent {
                context_id: "w1".into(),
                epoch: 1,
                seq: self.state.seq + 1,
                at_ms: 1_000 + self.state.seq,
                actor: Some(who.clone()),
                kind: Some(kind),
            };
            self.state.apply(&event);
            self.events.push(event);
            self.state.seq
        }

        /// Checks that a replay of the whole log, and a snapshot after each of `cuts`
        /// events plus the tail, rebuild exactly the live state.
        fn rebuilds_the_same_state(&self, cuts: &[usize]) {
            let replay = |state: &mut ContextState, events: &[ContextEvent]| {
                for event in events {
                    state.apply(event);
                }
            };
            let mut replayed = ContextState::new("w1");
            replay(&mut replayed, &self.events);
            assert!(replayed == self.state, "a replay of the whole log");
            for &cut in cuts {
                let mut before = ContextState::new("w1");
                replay(&mut before, &self.events[..cut]);
                let mut state =
                    ContextState::from_snapshot(&before.to_snapshot().unwrap()).unwrap();
                replay(&mut state, &self.events[cut..]);
                assert!(
                    state == self.state,
                    "a snapshot after {cut} events, then the tail"
                );
            }
        }

        /// Decides and applies; the seq of the last event (a post's message id).
        fn run(&mut self, who: &Actor, command: ChatCommand) -> Result<u64, Rejection> {
            let kinds = match self.state.decide(&ChatLimits::default(), who, &command)? {
                Decision::Already(_) => return Ok(0),
                Decision::Emit(kind) => vec![kind],
                Decision::EmitAll(kinds) => kinds,
            };
            Ok(kinds
                .into_iter()
                .map(|k| self.emit(who, k))
                .last()
                .unwrap_or(0))
        }
    }

    fn send(text: &str, cid: &str, backchannel: bool) -> ChatCommand {
        ChatCommand::Send {
            text: text.into(),
            client_msg_id: cid.into(),
            reply_to: 0,
            backchannel,
            thread_id: 0,
        }
    }

    /// What the scenario below leaves: the group chat's visible messages, with the
    /// likes each has.
    struct Expected {
        group: Vec<(u64, u32)>,
        pinned: u64,
    }

    /// 3,500 group posts (every 7th liked by `b`, every 11th deleted by its author,
    /// a backchannel post every 5th), one early post pinned, liked after it left the
    /// window, then unpinned.
    fn webinar() -> (Built, Expected) {
        let mut w = Built::new();
        let (a, b, c, m) = (
            actor("a", false),
            actor("b", false),
            actor("c", false),
            actor("m", true),
        );
        let mut group = Vec::new();
        let mut pinned = 0;
        for i in 0..3_500u32 {
            let who = if i % 2 == 0 { &a } else { &b };
            let id = w
                .run(who, send(&format!("m{i}"), &format!("c{i}"), false))
                .unwrap();
            let mut likes = 0;
            if i % 7 == 0 {
                w.run(&b, ChatCommand::Like { message_id: id }).unwrap();
                likes = 1;
            }
            if i % 11 == 0 {
                w.run(who, ChatCommand::Delete { message_id: id }).unwrap();
            } else {
                group.push((id, likes));
            }
            if i % 5 == 0 {
                w.run(&m, send(&format!("b{i}"), "", true)).unwrap();
            }
            if i == 3 {
                pinned = id;
                w.run(&m, ChatCommand::Pin { message_id: id }).unwrap();
            }
            if i == 3_000 {
                // Long past its window, still pinned: it is live.
                w.run(&c, ChatCommand::Like { message_id: pinned }).unwrap();
                w.run(&m, ChatCommand::Unpin { message_id: pinned })
                    .unwrap();
            }
        }
        group
            .iter_mut()
            .filter(|(id, _)| *id == pinned)
            .for_each(|(_, likes)| *likes += 1);
        (w, Expected { group, pinned })
    }

    #[test]
    fn memory_stays_bounded_and_old_messages_are_read_only() {
        let (w, expected) = webinar();
        let s = &w.state;
        let group = s
            .chat
            .messages
            .values()
            .filter(|m| m.area() == Area::GroupChat);
        assert!(group.count() <= 2 * MESSAGE_WINDOW);
        assert!(s.chat.messages.len() <= 3 * MESSAGE_WINDOW);
        assert!(s.chat.client_ids.len() <= CLIENT_ID_WINDOW);
        // Unpinned after its window moved on: it left memory then.
        assert!(!s.chat.messages.contains_key(&expected.pinned));
        assert!(s.chat.archived_late.contains_key(&expected.pinned));
        let (oldest, _) = expected.group[0];
        let a = actor("a", false);
        let m = actor("m", true);
        let archived = |what: &'static str| Err(Rejection::Archived(what.into()));
        assert_eq!(
            s.decide(
                &ChatLimits::default(),
                &a,
                &ChatCommand::Like { message_id: oldest }
            ),
            archived("message")
        );
        assert_eq!(
            s.decide(
                &ChatLimits::default(),
                &m,
                &ChatCommand::Delete { message_id: oldest }
            ),
            archived("message")
        );
        assert_eq!(
            s.decide(
                &ChatLimits::default(),
                &m,
                &ChatCommand::Pin { message_id: oldest }
            ),
            archived("message")
        );
        let reply = ChatCommand::Send {
            text: "re".into(),
            client_msg_id: String::new(),
            reply_to: oldest,
            backchannel: false,
            thread_id: 0,
        };
        assert_eq!(
            s.decide(&ChatLimits::default(), &a, &reply),
            archived("message replied to")
        );
        // An id past the end is not archived: it does not exist.
        let unknown = ChatCommand::Like {
            message_id: s.seq + 10,
        };
        assert_eq!(
            s.decide(&ChatLimits::default(), &a, &unknown),
            Err(Rejection::NotFound("message".into()))
        );
    }

    #[test]
    fn a_snapshot_anywhere_plus_the_tail_rebuilds_the_same_bounded_state() {
        let (w, _) = webinar();
        w.rebuilds_the_same_state(&[100, 2_100, 3_200, 4_444, w.events.len() - 1]);
    }

    #[test]
    fn client_ids_are_remembered_for_the_last_ten_thousand_posts() {
        let mut w = Built::new();
        let a = actor("a", false);
        let first = w.run(&a, send("first", "first", false)).unwrap();
        let again = send("first", "first", false);
        assert_eq!(
            w.run(&a, again.clone()),
            Ok(0),
            "a resend is answered, not posted"
        );
        for i in 0..CLIENT_ID_WINDOW - 1 {
            w.run(&a, send("x", &format!("c{i}"), false)).unwrap();
        }
        assert_eq!(
            w.run(&a, again.clone()),
            Ok(0),
            "still among the last 10,000"
        );
        w.run(&a, send("x", "one more", false)).unwrap();
        assert!(w.run(&a, again).unwrap() > first, "forgotten: posted again");
    }

    #[tokio::test]
    async fn an_older_log_that_changed_an_archived_message_is_shown_as_it_ended() {
        use plenary_proto::v1::events::{MessageDeleted, MessageLiked};
        let (mut w, mut expected) = webinar();
        // Written before archiving existed: decisions refuse these now.
        let (liked, deleted) = (expected.group[1].0, expected.group[2].0);
        let c = actor("c", false);
        let like = Kind::MessageLiked(MessageLiked {
            message_id: liked,
            like_count: 1,
            backchannel: false,
            thread_id: 0,
        });
        w.emit(&c, like);
        let delete = Kind::MessageDeleted(MessageDeleted {
            message_id: deleted,
            author_id: "a".into(),
            by_moderator: true,
            backchannel: false,
            thread_id: 0,
        });
        w.emit(&actor("m", true), delete);
        expected.group.retain(|(id, _)| *id != deleted);
        expected.group[1].1 += 1;
        let dir = tempfile::tempdir().unwrap();
        let log = EventLog::open(dir.path(), SyncMode::Normal).await.unwrap();
        log.append("w1", 1, &w.events, None).await.unwrap();
        let all = page_all(&log, &w.state, ("b", Role::Attendee), Area::GroupChat, 100).await;
        let got: Vec<(u64, u32)> = all.iter().map(|m| (m.id, m.like_count)).collect();
        assert_eq!(got, expected.group);
    }

    #[tokio::test]
    async fn a_like_and_its_unlike_read_in_different_chunks_count_in_log_order() {
        let mut w = Built::new();
        let (b, m) = (actor("b", false), actor("m", true));
        let a = w.run(&b, send("A", "", false)).unwrap();
        w.run(&b, ChatCommand::Like { message_id: a }).unwrap();
        for i in 0..1_100 {
            w.run(&m, send(&format!("mods {i}"), "", true)).unwrap();
        }
        let g1 = w.run(&b, send("G1", "", false)).unwrap();
        w.run(&b, ChatCommand::Unlike { message_id: a }).unwrap();
        for i in 0..2_000 {
            w.run(&b, send(&format!("later {i}"), "", false)).unwrap();
        }
        assert!(
            !w.state.chat.messages.contains_key(&a) && !w.state.chat.messages.contains_key(&g1)
        );
        let dir = tempfile::tempdir().unwrap();
        let log = EventLog::open(dir.path(), SyncMode::Normal).await.unwrap();
        log.append("w1", 1, &w.events, None).await.unwrap();
        let viewer = Viewer {
            user_id: "b",
            role: Role::Attendee,
        };
        // One page of everything: the backward reads take several chunks.
        let all = plan(&w.state, viewer, Area::GroupChat, 0, 5_000).unwrap();
        let page = read_archive(&log, "w1", all).await.unwrap();
        assert_eq!(page.messages.len(), 2_002);
        assert_eq!((page.messages[0].id, page.messages[0].like_count), (a, 0));
        assert!(page.liked_by_me.is_empty(), "{:?}", page.liked_by_me);
    }

    #[test]
    fn a_join_snapshot_shows_the_window_not_a_pinned_message_held_past_it() {
        let mut w = Built::new();
        let (b, m) = (actor("b", false), actor("m", true));
        let pinned = w.run(&b, send("pinned", "", false)).unwrap();
        w.run(&m, ChatCommand::Pin { message_id: pinned }).unwrap();
        for i in 0..2_000 {
            w.run(&b, send(&format!("m{i}"), "", false)).unwrap();
        }
        assert!(w.state.chat.is_held(pinned));
        let viewer = Viewer {
            user_id: "b",
            role: Role::Attendee,
        };
        let recent = chat::recent_in(&w.state, Area::GroupChat, 5_000, viewer);
        assert_eq!(
            recent.len(),
            MESSAGE_WINDOW + 1,
            "the window, not the pinned one"
        );
        assert!(
            recent
                .iter()
                .all(|m| m.id > w.state.chat.archived_up_to(Area::GroupChat))
        );
        // History before the oldest shown reaches the pinned one, as it is now.
        let page = plan(&w.state, viewer, Area::GroupChat, recent[0].id, 100).unwrap();
        assert!(page.reads_log());
    }

    #[tokio::test]
    async fn threads_leave_memory_settled_first_and_their_history_reads_the_log() {
        use crate::context::{chat::THREAD_MESSAGES, command::ThreadAction};
        let mut w = Built::new();
        let m = actor("m", true);
        let ask = |i: u32| ChatCommand::Ask {
            text: format!("question {i}"),
            client_msg_id: format!("q{i}"),
            thread_id: 0,
        };
        // 3,000 questions answered and resolved (6,000 messages), then 5,000 open ones.
        let mut resolved = Vec::new();
        for i in 0..3_000 {
            let question = w.run(&actor(&format!("u{i}"), false), ask(i)).unwrap();
            let thread = question - 1;
            w.run(
                &m,
                ChatCommand::Send {
                    text: format!("answer {i}"),
                    client_msg_id: String::new(),
                    reply_to: question,
                    backchannel: false,
                    thread_id: thread,
                },
            )
            .unwrap();
            w.run(
                &m,
                ChatCommand::Thread {
                    thread_id: thread,
                    action: ThreadAction::Resolve,
                },
            )
            .unwrap();
            resolved.push((i, thread, question));
        }
        let mut open = Vec::new();
        for i in 3_000..8_000 {
            let question = w.run(&actor(&format!("u{i}"), false), ask(i)).unwrap();
            open.push(question);
        }
        let thread_messages = w
            .state
            .chat
            .messages
            .values()
            .filter(|m| m.thread_id != 0)
            .count();
        assert!(thread_messages <= THREAD_MESSAGES, "{thread_messages}");
        assert!(open.iter().all(|q| w.state.chat.messages.contains_key(q)));
        // The quietest resolved threads left, no open one.
        let gone = resolved
            .iter()
            .take_while(|(_, _, q)| !w.state.chat.messages.contains_key(q))
            .count();
        assert!(gone > 1_000, "{gone}");
        assert!(
            resolved[gone..]
                .iter()
                .all(|(_, _, q)| w.state.chat.messages.contains_key(q))
        );
        // Replay and snapshot + tail agree with whole threads leaving.
        w.rebuilds_the_same_state(&[w.events.len() - 700, w.events.len() / 2]);
        // A resolved thread's attendee pages it back from the log.
        let dir = tempfile::tempdir().unwrap();
        let log = EventLog::open(dir.path(), SyncMode::Normal).await.unwrap();
        for batch in w.events.chunks(1_000) {
            log.append("w1", 1, batch, None).await.unwrap();
        }
        let (i, thread, question) = resolved[234];
        let user = format!("u{i}");
        let attendee = Viewer {
            user_id: &user,
            role: Role::Attendee,
        };
        let page = plan(&w.state, attendee, Area::Thread(thread), 0, 10).unwrap();
        let page = read_archive(&log, "w1", page).await.unwrap();
        let texts: Vec<&str> = page.messages.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(texts, [format!("question {i}"), format!("answer {i}")]);
        assert_eq!(page.messages[0].id, question);
        assert!(
            page.messages[1].author.as_ref().unwrap().as_context,
            "the answer, as the session"
        );
        assert!(!page.has_more);
        // Someone else's thread: not theirs to read.
        let other = Viewer {
            user_id: "u1",
            role: Role::Attendee,
        };
        assert_eq!(
            plan(&w.state, other, Area::Thread(thread), 0, 10).err(),
            Some(Rejection::Forbidden)
        );
        assert_eq!(
            plan(&w.state, other, Area::Thread(999_999_999), 0, 10).err(),
            Some(Rejection::NotFound("thread".into()))
        );
    }

    /// Pages back through `area` from the newest, as `who` sees it.
    async fn page_all(
        log: &EventLog,
        state: &ContextState,
        who: (&str, Role),
        area: Area,
        limit: usize,
    ) -> Vec<ChatMessage> {
        let viewer = Viewer {
            user_id: who.0,
            role: who.1,
        };
        let (mut all, mut before) = (Vec::new(), 0);
        loop {
            let plan = plan(state, viewer, area, before, limit).unwrap();
            let page = read_archive(log, "w1", plan).await.unwrap();
            assert!(page.messages.len() <= limit);
            assert!(page.messages.windows(2).all(|w| w[0].id < w[1].id));
            before = page.messages.first().map_or(0, |m| m.id);
            let more = page.has_more;
            all.splice(0..0, page.messages);
            if !more {
                return all;
            }
            assert_ne!(before, 0, "has_more with an empty page");
        }
    }

    #[tokio::test]
    async fn history_pages_back_to_the_first_message_from_memory_and_the_log() {
        let (w, expected) = webinar();
        let dir = tempfile::tempdir().unwrap();
        let log = EventLog::open(dir.path(), SyncMode::Normal).await.unwrap();
        for batch in w.events.chunks(500) {
            log.append("w1", 1, batch, None).await.unwrap();
        }
        for limit in [100, 37] {
            let all = page_all(
                &log,
                &w.state,
                ("b", Role::Attendee),
                Area::GroupChat,
                limit,
            )
            .await;
            let got: Vec<(u64, u32)> = all.iter().map(|m| (m.id, m.like_count)).collect();
            assert_eq!(
                got, expected.group,
                "every visible message once, with its likes (limit {limit})"
            );
            assert!(all.iter().all(|m| !m.backchannel && m.author.is_some()));
        }
        // `b` liked every 7th: the page says which, archived or not.
        let viewer = Viewer {
            user_id: "b",
            role: Role::Attendee,
        };
        let page = read_archive(
            &log,
            "w1",
            plan(&w.state, viewer, Area::GroupChat, expected.group[40].0, 30).unwrap(),
        )
        .await
        .unwrap();
        let liked: Vec<u64> = page
            .messages
            .iter()
            .filter(|m| m.like_count > 0 && m.id != expected.pinned)
            .map(|m| m.id)
            .collect();
        assert_eq!(page.liked_by_me, liked);
        // The backchannel: its moderators only.
        let back = page_all(
            &log,
            &w.state,
            ("m", Role::Moderator),
            Area::Backchannel,
            100,
        )
        .await;
        assert_eq!(back.len(), 700);
        assert!(back.iter().all(|m| m.backchannel));
        assert_eq!(
            plan(&w.state, viewer, Area::Backchannel, 0, 10).err(),
            Some(Rejection::Forbidden)
        );
    }
}
