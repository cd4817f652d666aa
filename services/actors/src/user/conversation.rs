//! The conversation actor: one per pair of users (stream `~dm/<a>/<b>`), on the shared
//! runtime ([`crate::runtime`]). It is the only writer of a pair's connection and
//! messages. After a commit it tells both users' actors what changed (a [`Notice`],
//! from each side's point of view), in order, through the registry, and answers the
//! command only once both have appended it to their own stream (and pushed it to every
//! device of their user): whatever a sender was acknowledged is in both users' streams.
//!
//! History older than the messages in memory is read from the log by a task of its
//! own (`read_archive`), so the actor never waits for it.

use std::{sync::Arc, time::Duration};

use plenary_bus::EventLog;
use plenary_proto::v1::{
    DirectHistoryOk, DirectMessage, Peer, PeerUpdate,
    events::{Actor, ConversationEvent, conversation_event::Kind},
};
use tokio::sync::mpsc;
use tracing::{info_span, warn};

use super::{
    actor::{Call, Notice, PrivateRequest, Reply, UserCard, not_for},
    pair::{ConversationState, HistoryPage, PairCommand, PairDecision, Party},
};
use crate::{
    context::{CommandOutcome, ContextConfig, Rejection},
    runtime::{ArchiveReads, Held, Journal, Machine, Start, Stop, log_unavailable},
    telemetry::{self, ActorKind},
};

/// How a conversation reaches its users' actors (the registry routes, locally or to
/// the owner node).
#[derive(Clone)]
pub(crate) struct Messenger {
    /// Delivers one user's notices, in order; resolves once their actor committed them
    /// (in one append).
    pub deliver: Arc<dyn Fn(Vec<Notice>) -> Call<()> + Send + Sync>,
    /// A user's card, with where they were last told about `about`.
    pub card: Arc<dyn Fn(String, String) -> Call<UserCard> + Send + Sync>,
    /// Called when the conversation stops because a user could not be told: starts
    /// it again later (with back-off), so it catches that user up without waiting
    /// for someone to use it.
    pub revive: Arc<dyn Fn() + Send + Sync>,
}

/// Attempts to deliver a notice before giving up on it: with the back-off below,
/// about 4 s, longer than a shard takes to change owner after a node dies.
const NOTICE_ATTEMPTS: u32 = 8;
/// The longest wait between two attempts.
const NOTICE_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// History pages of one conversation read from the log at once; one more is refused
/// (rate limited) rather than queued.
const ARCHIVE_READS: usize = 4;

/// Starts a conversation actor for the pair `(a, b)` (once its predecessor has
/// exited).
pub(crate) fn spawn_pair(
    start: Start,
    a: String,
    b: String,
    messenger: Messenger,
) -> mpsc::Sender<PrivateRequest> {
    let Ok(state) = ConversationState::new(&a, &b) else {
        // Not a pair (one user twice).
        let why = Rejection::BadRequest("you cannot talk to yourself".into());
        return start.refuse_all(why, PrivateRequest::refuse);
    };
    let actor = PairActor {
        state,
        messenger,
        refresh: false,
        archive_reads: ArchiveReads::new(ARCHIVE_READS),
    };
    let span = info_span!(parent: None, "conversation", stream = %start.id);
    // No recovery window: devices recover through their users' streams.
    start.spawn(actor, 0, span)
}

struct PairActor {
    state: ConversationState,
    messenger: Messenger,
    /// A `Refresh` in the batch being decided: tell both users where things stand
    /// even if nothing changed.
    refresh: bool,
    /// Bounds the history pages being read from the log.
    archive_reads: ArchiveReads,
}

impl Machine for PairActor {
    type Request = PrivateRequest;
    type State = ConversationState;
    const KIND: ActorKind = ActorKind::Conversation;

    fn state(&mut self) -> &mut ConversationState {
        &mut self.state
    }

    fn fresh(&self) -> ConversationState {
        self.state.emptied()
    }

    fn passivate_after(config: &ContextConfig) -> Duration {
        config.private_passivate_after
    }

    async fn started(
        &mut self,
        _: &mut Journal<ConversationEvent>,
        tail: &[ConversationEvent],
    ) -> Result<(), Stop> {
        if self.state.is_empty() || self.catch_up(tail).await {
            Ok(())
        } else {
            self.give_up()
        }
    }

    fn handle(
        &mut self,
        journal: &mut Journal<ConversationEvent>,
        request: PrivateRequest,
        held: &mut Vec<Held>,
    ) {
        match request {
            PrivateRequest::Pair { op, reply } => {
                let (me, peer, command) = *op;
                self.state.refresh_names(&[&me, &peer]);
                self.refresh |= command == PairCommand::Refresh && !self.state.is_empty();
                let limits = &journal.config.limits;
                let result = match self.state.decide(limits, &me, &peer, &command) {
                    Ok(PairDecision::Already(outcome)) => Ok(outcome),
                    Ok(PairDecision::Emit(kinds)) => {
                        let actor = Actor {
                            user_id: me.user_id.clone(),
                            email: me.email.clone(),
                            given_name: me.name.clone(),
                            family_name: String::new(),
                            moderator: me.moderator,
                        };
                        let mut outcome = CommandOutcome::Done { seq: 0 };
                        for kind in kinds {
                            let posted = matches!(kind, Kind::DirectMessagePosted(_));
                            let seq = journal.emit(&mut self.state, actor.clone(), kind).seq;
                            outcome = if posted {
                                CommandOutcome::Sent {
                                    message_id: seq,
                                    seq,
                                    duplicate: false,
                                    thread_id: 0,
                                }
                            } else {
                                CommandOutcome::Done { seq }
                            };
                        }
                        Ok(outcome)
                    }
                    Err(rejection) => Err(rejection),
                };
                held.push(Held::new(reply, result));
            }
            PrivateRequest::History {
                viewer,
                before_id,
                limit,
                reply,
            } => {
                let peer = self.state.peer_view(&viewer);
                let page = self.state.history(&viewer, before_id, limit);
                if page.next_read().is_none() {
                    let (messages, has_more) = page.finish();
                    let ok = DirectHistoryOk {
                        messages,
                        has_more,
                        peer: Some(peer),
                    };
                    held.push(Held::new(reply, Ok(ok)));
                } else {
                    self.answer_from_log(journal, page, peer, reply, held);
                }
            }
            other => other.refuse(&not_for("user")),
        }
    }

    async fn committed(
        &mut self,
        _: &mut Journal<ConversationEvent>,
        events: Vec<ConversationEvent>,
        held: Vec<Held>,
    ) -> Result<(), Stop> {
        let refresh = std::mem::take(&mut self.refresh);
        // Notices describe each event from each side. The state already holds the
        // whole batch, so a notice shows where the conversation stands after it — and
        // carries the event's own message or removal (a batch, at most `batch_max`
        // requests, is far smaller than `DM_WINDOW`: its messages are all in memory).
        // A refresh with nothing new tells each user where things stand.
        let notices: Vec<Notice> = if events.is_empty() {
            if !refresh {
                Held::answer(held);
                return Ok(());
            }
            [&self.state.pair.a, &self.state.pair.b]
                .into_iter()
                .map(|user| self.where_it_stands(user))
                .collect()
        } else {
            let mut notices = Vec::with_capacity(events.len() * 2);
            for event in &events {
                for user in [&self.state.pair.a, &self.state.pair.b] {
                    if let Some(update) = self.state.notice_for(user, event) {
                        notices.push(Notice {
                            user_id: user.clone(),
                            pair_epoch: self.state.epoch,
                            pair_seq: event.seq,
                            update,
                        });
                    }
                }
            }
            notices
        };
        // Answer once both users' streams hold the change. If one cannot be reached,
        // the change is still committed: answer, then stop, so that the next command
        // starts a conversation that first tells that user what they lack.
        let told = self.notify(notices).await;
        Held::answer(held);
        if told { Ok(()) } else { self.give_up() }
    }

    fn refuse(request: PrivateRequest, why: &Rejection) {
        request.refuse(why);
    }
}

impl PairActor {
    /// Completes a history page from the log, in a task of its own started once the
    /// batch is committed (the log then holds everything the page may show); the task
    /// answers `reply`.
    fn answer_from_log(
        &self,
        journal: &Journal<ConversationEvent>,
        page: HistoryPage,
        peer: Peer,
        reply: Reply<DirectHistoryOk>,
        held: &mut Vec<Held>,
    ) {
        let (log, stream) = (journal.log().clone(), journal.id.clone());
        self.archive_reads.answer(reply, held, async move {
            let (messages, has_more) = read_archive(&log, &stream, page).await?;
            Ok(DirectHistoryOk {
                messages,
                has_more,
                peer: Some(peer),
            })
        });
    }

    /// Tells each user, in order, what their stream lacks of this conversation: a
    /// crash or a hand-over may have come between a commit and its notices. Also
    /// refreshes the names (as each user now shows theirs). False while a user's
    /// actor cannot be reached.
    async fn catch_up(&mut self, events: &[ConversationEvent]) -> bool {
        let users = [self.state.pair.a.clone(), self.state.pair.b.clone()];
        let (a, b) = tokio::join!(
            (self.messenger.card)(users[0].clone(), users[1].clone()),
            (self.messenger.card)(users[1].clone(), users[0].clone()),
        );
        let cards = match (a, b) {
            (Ok(a), Ok(b)) => [a, b],
            (Err(e), _) | (_, Err(e)) => {
                warn!(error = %e, "a conversation cannot read its users' cards to catch them up");
                return false;
            }
        };
        let known: Vec<&Party> = cards.iter().filter(|c| c.known).map(|c| &c.party).collect();
        self.state.refresh_names(&known);
        let mut notices = Vec::new();
        for (user, card) in users.iter().zip(&cards) {
            let (epoch, told) = card.told;
            if epoch == self.state.epoch && told >= self.state.seq {
                continue;
            }
            // Never told anything, or told part of this epoch: replay from there, if
            // the log still holds it; otherwise say where things stand.
            let same_epoch = epoch == self.state.epoch || (epoch, told) == (0, 0);
            // A message replayed must still be in memory for its notice to carry it.
            let replayable = same_epoch
                && told >= self.state.archived_up_to()
                && events.first().is_some_and(|e| e.seq <= told + 1);
            if replayable {
                notices.extend(events.iter().filter(|e| e.seq > told).filter_map(|e| {
                    self.state.notice_for(user, e).map(|update| Notice {
                        user_id: user.clone(),
                        pair_epoch: self.state.epoch,
                        pair_seq: e.seq,
                        update,
                    })
                }));
            } else {
                notices.push(self.where_it_stands(user));
            }
        }
        self.notify(notices).await
    }

    /// A user could not be told of a committed change: stop, and have the
    /// conversation started again to catch them up.
    fn give_up(&self) -> Result<(), Stop> {
        (self.messenger.revive)();
        Err(Stop::Undelivered)
    }

    /// A notice telling `user` where the conversation stands.
    fn where_it_stands(&self, user: &str) -> Notice {
        Notice {
            user_id: user.to_owned(),
            pair_epoch: self.state.epoch,
            pair_seq: self.state.seq,
            update: PeerUpdate {
                peer: Some(self.state.peer_view(user)),
                message: None,
                removed: None,
            },
        }
    }

    /// Delivers notices: each user's in order, the two users concurrently. False if
    /// one could not be delivered (the rest of that user's are not tried: order).
    async fn notify(&self, notices: Vec<Notice>) -> bool {
        let (a, b): (Vec<Notice>, Vec<Notice>) = notices
            .into_iter()
            .partition(|n| n.user_id == self.state.pair.a);
        let (a, b) = tokio::join!(self.deliver(a), self.deliver(b));
        a && b
    }

    /// Delivers one user's notices in one call, retrying a user actor that is briefly
    /// unavailable (moving between nodes, say).
    async fn deliver(&self, notices: Vec<Notice>) -> bool {
        let Some(user) = notices.first().map(|n| n.user_id.clone()) else {
            return true;
        };
        let mut wait = Duration::from_millis(50);
        for attempt in 1..=NOTICE_ATTEMPTS {
            match (self.messenger.deliver)(notices.clone()).await {
                Ok(()) => return true,
                Err(e) if attempt == NOTICE_ATTEMPTS => {
                    telemetry::private_notices_undelivered(notices.len(), &user, &e);
                }
                Err(_) => {
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(NOTICE_BACKOFF_MAX);
                }
            }
        }
        false
    }
}

/// Does the reads of the log `page` asks for, one after the other, and finishes it.
async fn read_archive(
    log: &EventLog,
    stream: &str,
    mut page: HistoryPage,
) -> Result<(Vec<DirectMessage>, bool), Rejection> {
    while let Some(read) = page.next_read() {
        let events = log
            .read_seqs::<ConversationEvent>(
                stream,
                read.from,
                read.to,
                read.limit,
                read.newest_first,
            )
            .await
            .map_err(|e| {
                warn!(error = %e, "cannot read private history from the event log");
                log_unavailable()
            })?;
        page.take(events);
    }
    Ok(page.finish())
}

#[cfg(test)]
mod tests {
    use std::{
        collections::HashMap,
        sync::{
            Mutex,
            atomic::{AtomicBool, AtomicUsize, Ordering},
        },
    };

    use plenary_bus::{EventLog, SyncMode};

    use super::*;
    use crate::user::ConnectionAction;
    use tokio::sync::oneshot;

    /// The users' side, as the conversation sees it through its messenger.
    #[derive(Default)]
    struct Users {
        /// Deliveries fail while this is set (a user's shard without owner).
        down: AtomicBool,
        told: Mutex<HashMap<String, (u64, u64)>>,
        messages: Mutex<Vec<(String, String)>>,
        revived: AtomicUsize,
    }

    fn messenger(users: &Arc<Users>) -> Messenger {
        let (d, c, r) = (users.clone(), users.clone(), users.clone());
        Messenger {
            deliver: Arc::new(move |notices: Vec<Notice>| {
                let users = d.clone();
                Box::pin(async move {
                    if users.down.load(Ordering::SeqCst) {
                        return Err(Rejection::Unavailable("down".into()));
                    }
                    let mut told = users.told.lock().unwrap();
                    for notice in notices {
                        let at = told.entry(notice.user_id.clone()).or_default();
                        if notice.pair_seq > at.1 || at.0 != notice.pair_epoch {
                            *at = (notice.pair_epoch, notice.pair_seq);
                            if let Some(m) = &notice.update.message {
                                users
                                    .messages
                                    .lock()
                                    .unwrap()
                                    .push((notice.user_id.clone(), m.text.clone()));
                            }
                        }
                    }
                    Ok(())
                })
            }),
            card: Arc::new(move |user: String, _about: String| {
                let users = c.clone();
                Box::pin(async move {
                    Ok(UserCard {
                        party: party(&user),
                        known: true,
                        told: users
                            .told
                            .lock()
                            .unwrap()
                            .get(&user)
                            .copied()
                            .unwrap_or_default(),
                        ..UserCard::default()
                    })
                })
            }),
            revive: Arc::new(move || {
                r.revived.fetch_add(1, Ordering::SeqCst);
            }),
        }
    }

    fn party(user: &str) -> Party {
        Party {
            user_id: user.into(),
            name: user.into(),
            allows_private_chat: true,
            ..Party::default()
        }
    }

    fn start(log: &EventLog, users: &Arc<Users>) -> mpsc::Sender<PrivateRequest> {
        let start = Start {
            id: Arc::from(crate::user::pair_stream_id("a", "b")),
            config: Arc::new(ContextConfig::default()),
            log: log.clone(),
            fence: None,
            predecessor: crate::runtime::Exited::default(),
            on_exit: Box::new(|| {}),
        };
        spawn_pair(start, "a".into(), "b".into(), messenger(users))
    }

    async fn command(
        tx: &mpsc::Sender<PrivateRequest>,
        me: &str,
        peer: &str,
        command: PairCommand,
    ) -> Result<CommandOutcome, Rejection> {
        let (reply, answer) = oneshot::channel();
        let op = Box::new((party(me), party(peer), command));
        tx.send(PrivateRequest::Pair { op, reply }).await.ok();
        answer
            .await
            .unwrap_or(Err(Rejection::Unavailable("stopped".into())))
    }

    fn send(text: &str) -> PairCommand {
        PairCommand::Send {
            text: text.into(),
            client_msg_id: text.into(),
        }
    }

    /// A conversation actor on `log` whose users `a` and `b` are connected.
    async fn connected(log: &EventLog) -> (Arc<Users>, mpsc::Sender<PrivateRequest>) {
        let users = Arc::new(Users::default());
        let tx = start(log, &users);
        let request = PairCommand::Connection(ConnectionAction::Request);
        command(&tx, "a", "b", request).await.unwrap();
        let accept = PairCommand::Connection(ConnectionAction::Accept);
        command(&tx, "b", "a", accept).await.unwrap();
        (users, tx)
    }

    #[tokio::test]
    async fn a_user_who_could_not_be_told_is_caught_up_when_the_conversation_revives() {
        let dir = tempfile::tempdir().unwrap();
        let log = EventLog::open(dir.path(), SyncMode::Normal).await.unwrap();
        let (users, tx) = connected(&log).await;
        command(&tx, "a", "b", send("one")).await.unwrap();

        // Both users' actors are unreachable: the message is stored and answered,
        // then the conversation stops and asks to be revived.
        users.down.store(true, Ordering::SeqCst);
        let sent = command(&tx, "a", "b", send("two")).await;
        assert!(matches!(sent, Ok(CommandOutcome::Sent { .. })), "{sent:?}");
        assert_eq!(users.revived.load(Ordering::SeqCst), 1);
        assert!(
            command(&tx, "a", "b", send("three")).await.is_err(),
            "the stopped conversation refuses (retryable)"
        );
        assert_eq!(
            users.messages.lock().unwrap().len(),
            2,
            "only `one` was told"
        );

        // Revived (as the registry does), it tells both users what they lack, in order.
        users.down.store(false, Ordering::SeqCst);
        let tx = start(&log, &users);
        let (reply, answer) = oneshot::channel();
        tx.send(PrivateRequest::History {
            viewer: "b".into(),
            before_id: 0,
            limit: 10,
            reply,
        })
        .await
        .ok();
        assert_eq!(answer.await.unwrap().unwrap().messages.len(), 2);
        // Each user's messages, in the order they were told.
        let told = users.messages.lock().unwrap().clone();
        for user in ["a", "b"] {
            let theirs: Vec<&str> = told
                .iter()
                .filter(|(u, _)| u == user)
                .map(|(_, text)| text.as_str())
                .collect();
            assert_eq!(theirs, ["one", "two"], "{user}");
        }
    }

    async fn history(
        tx: &mpsc::Sender<PrivateRequest>,
        before_id: u64,
        limit: usize,
    ) -> Result<DirectHistoryOk, Rejection> {
        let (reply, answer) = oneshot::channel();
        let viewer = "b".into();
        tx.send(PrivateRequest::History {
            viewer,
            before_id,
            limit,
            reply,
        })
        .await
        .ok();
        answer
            .await
            .unwrap_or(Err(Rejection::Unavailable("stopped".into())))
    }

    #[tokio::test]
    async fn history_older_than_memory_is_read_from_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let log = EventLog::open(dir.path(), SyncMode::Normal).await.unwrap();
        let (users, tx) = connected(&log).await;
        // Queued together: they commit in batches, as under load. Two are deleted
        // early (then archived), one late (still in memory).
        let total = 2 * crate::user::pair::DM_WINDOW + 150;
        let mut ids = Vec::new();
        for (range, deleted) in [(0..10, &[1, 2][..]), (10..total, &[600][..])] {
            let mut answers = Vec::new();
            for i in range {
                let (reply, answer) = oneshot::channel();
                let op = Box::new((party("a"), party("b"), send(&format!("m{i}"))));
                tx.send(PrivateRequest::Pair { op, reply }).await.unwrap();
                answers.push(answer);
            }
            for answer in answers {
                match answer.await.unwrap() {
                    Ok(CommandOutcome::Sent { message_id, .. }) => ids.push(message_id),
                    other => panic!("{other:?}"),
                }
            }
            for &i in deleted {
                let delete = PairCommand::Delete { message_id: ids[i] };
                command(&tx, "a", "b", delete).await.unwrap();
            }
        }
        assert_eq!(
            command(&tx, "a", "b", PairCommand::Delete { message_id: ids[0] }).await,
            Err(Rejection::Archived("message".into()))
        );

        let (mut texts, mut before) = (Vec::new(), 0);
        loop {
            let page = history(&tx, before, 100).await.unwrap();
            texts.splice(0..0, page.messages.iter().map(|m| m.text.clone()));
            if !page.has_more {
                break;
            }
            before = page.messages[0].message_id;
        }
        let expected: Vec<String> = (0..total)
            .filter(|i| ![1, 2, 600].contains(i))
            .map(|i| format!("m{i}"))
            .collect();
        assert_eq!(texts, expected);

        // A conversation started again (from the snapshot and the log) answers alike.
        drop(tx);
        tokio::time::sleep(Duration::from_millis(100)).await;
        let tx = start(&log, &users);
        let first = history(&tx, ids[5], 100).await.unwrap();
        let shown: Vec<&str> = first.messages.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(shown, ["m0", "m3", "m4"]);
        assert!(!first.has_more);
    }
}
