//! The tasks that run private chat: one **user actor** per user (stream `~u/<user>`)
//! and one **conversation actor** per pair of users (stream `~dm/<a>/<b>`). Both work
//! like context actors: a bounded mailbox drained in batches, each batch's events
//! appended in one commit before anything is answered or pushed, passivation when idle,
//! and in cluster mode the shard's lease on every append.
//!
//! The conversation actor is the only writer of a pair's connection and messages. After
//! a commit it tells both users' actors what changed (a [`Notice`], from each side's
//! point of view), in order, through the registry, and answers the command only once
//! both have appended it to their own stream (and pushed it to every device of their
//! user): whatever a sender was acknowledged is in both users' streams. A notice
//! repeated after a retry or a restart is recognised by the conversation's seq and
//! dropped.

use plenary_bus::now_ms;
use std::{
    collections::{BTreeMap, VecDeque},
    future::Future,
    sync::Arc,
    time::Duration,
};

use plenary_bus::{Bus, BusError, Channel, EventLog, LoadedContext, Snapshot, redis::Fence};
use plenary_proto::v1::{
    DirectHistoryOk, PeerUpdate, Position, PrivateOk, Push,
    events::{Actor, ContextEvent, context_event::Kind},
    internal::BusPush,
};
use serde::{Deserialize, Serialize};
use tokio::{
    sync::{mpsc, oneshot},
    time::Instant,
};
use tracing::{Instrument, debug, error, info_span, warn};

use super::{
    inbox::{Profile, SettingsPatch, UserState},
    pair::{ConversationState, PairCommand, PairDecision, Party},
};
use crate::telemetry::{self, ActorKind};
use crate::{
    Snapshots,
    context::{CommandOutcome, ContextConfig, Rejection},
    identity::Identity,
};

/// A user as a conversation (or a people search) needs them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserCard {
    pub party: Party,
    /// Whether the user ever opened private chat (has a profile).
    pub known: bool,
    /// Each peer's `PeerStatus` number (only when asked for).
    pub statuses: BTreeMap<String, i32>,
    /// Whether others see the family name.
    pub shows_last_name: bool,
    /// Where the user was last told about the peer asked for (`about`):
    /// the conversation's `(epoch, seq)`.
    pub told: (u64, u64),
}

/// What a conversation tells one of its users.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    pub user_id: String,
    pub pair_epoch: u64,
    pub pair_seq: u64,
    pub update: PeerUpdate,
}

type Call<T> = std::pin::Pin<Box<dyn Future<Output = Result<T, Rejection>> + Send>>;

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

/// Recent events a user actor keeps for recovery (at most; a smaller
/// `--recovery-window` wins): a device further behind gets a snapshot.
const PRIVATE_RECOVERY_WINDOW: usize = 500;

/// Attempts to deliver a notice before giving up on it: with the back-off below,
/// about 4 s, longer than a shard takes to change owner after a node dies.
const NOTICE_ATTEMPTS: u32 = 8;
/// The longest wait between two attempts.
const NOTICE_BACKOFF_MAX: Duration = Duration::from_secs(1);

type Reply<T> = oneshot::Sender<Result<T, Rejection>>;

/// A message in a private actor's mailbox.
pub(crate) enum PrivateRequest {
    /// A device opens the user's private stream.
    Open {
        identity: Arc<Identity>,
        since: Option<Position>,
        reply: Reply<PrivateOk>,
    },
    Settings {
        patch: SettingsPatch,
        reply: Reply<CommandOutcome>,
    },
    Card {
        with_peers: bool,
        /// Also say where the user was last told about this peer.
        about: Option<String>,
        reply: Reply<UserCard>,
    },
    /// One user's notices, in order.
    Notices {
        notices: Vec<Notice>,
        reply: Reply<()>,
    },
    /// A command of `me` on the conversation with `peer` (boxed: it is much larger
    /// than the other requests, and a mailbox's slots are as large as the largest).
    Pair {
        op: Box<(Party, Party, PairCommand)>,
        reply: Reply<CommandOutcome>,
    },
    History {
        viewer: String,
        before_id: u64,
        limit: usize,
        reply: Reply<DirectHistoryOk>,
    },
}

impl PrivateRequest {
    fn refuse(self, why: &Rejection) {
        let why = why.clone();
        match self {
            PrivateRequest::Open { reply, .. } => drop(reply.send(Err(why))),
            PrivateRequest::Settings { reply, .. } | PrivateRequest::Pair { reply, .. } => {
                drop(reply.send(Err(why)))
            }
            PrivateRequest::Card { reply, .. } => drop(reply.send(Err(why))),
            PrivateRequest::Notices { reply, .. } => drop(reply.send(Err(why))),
            PrivateRequest::History { reply, .. } => drop(reply.send(Err(why))),
        }
    }
}

/// Sends an answer, or the refusal given.
type Answer = Box<dyn FnOnce(Option<&Rejection>) + Send>;

/// An answer held back until its batch is committed.
struct Held(Answer);

impl Held {
    fn new<T: Send + 'static>(reply: Reply<T>, result: Result<T, Rejection>) -> Self {
        Held(Box::new(move |failed| {
            // A dropped receiver means the caller went away; nothing to tell it.
            let _ = reply.send(match failed {
                Some(why) => Err(why.clone()),
                None => result,
            });
        }))
    }
}

/// The log side both private actors share: appends under the lease, snapshots, and
/// the recent events kept for recovery.
struct Journal {
    id: Arc<str>,
    config: Arc<ContextConfig>,
    log: EventLog,
    fence: Option<Fence>,
    snapshot_seq: u64,
    recent: VecDeque<ContextEvent>,
    window: usize,
    uncommitted: Vec<ContextEvent>,
}

/// Why a private actor stops.
enum Stop {
    Fenced,
    LogUnavailable,
    /// A user's actor could not be told of a committed change: the conversation
    /// stops, and tells it first thing when it starts again.
    Undelivered,
}

impl Stop {
    async fn refuse_the_rest(self, mut rx: mpsc::Receiver<PrivateRequest>) {
        rx.close();
        let why = Rejection::Unavailable(match self {
            Stop::Fenced => "moved to another node; retry".into(),
            Stop::LogUnavailable => "the event log is unavailable; retry".into(),
            Stop::Undelivered => "a user's devices cannot be reached just now; retry".into(),
        });
        while let Some(request) = rx.recv().await {
            request.refuse(&why);
        }
    }
}

impl Journal {
    fn new(
        id: Arc<str>,
        config: Arc<ContextConfig>,
        log: EventLog,
        fence: Option<Fence>,
        window: usize,
    ) -> Self {
        Journal {
            id,
            config,
            log,
            fence,
            snapshot_seq: 0,
            recent: VecDeque::new(),
            window,
            uncommitted: Vec::new(),
        }
    }

    async fn load(&mut self) -> Result<LoadedContext, BusError> {
        self.recent.clear();
        self.uncommitted.clear();
        self.log.load(&self.id).await
    }

    fn remember(&mut self, event: ContextEvent) {
        if self.window == 0 {
            return;
        }
        if self.recent.len() == self.window {
            self.recent.pop_front();
        }
        self.recent.push_back(event);
    }

    /// The next event after `(epoch, seq)` (a stream's first event fixes its epoch),
    /// kept for the commit and, with a recovery window, for recovery.
    fn next(&mut self, epoch: u64, seq: u64, actor: Actor, kind: Kind) -> ContextEvent {
        let event = ContextEvent {
            context_id: self.id.to_string(),
            epoch: if epoch == 0 { now_ms().max(1) } else { epoch },
            seq: seq + 1,
            at_ms: now_ms(),
            actor: Some(actor),
            kind: Some(kind),
        };
        self.uncommitted.push(event.clone());
        if self.window > 0 {
            self.remember(event.clone());
        }
        event
    }

    /// Appends what the batch decided; the caller answers the held replies once it
    /// wants to. On failure they get a retryable refusal and the actor must stop: its
    /// memory holds events the log does not.
    async fn commit(
        &mut self,
        epoch: u64,
        held: Vec<Held>,
    ) -> Result<(Vec<ContextEvent>, Vec<Held>), Stop> {
        let events = std::mem::take(&mut self.uncommitted);
        if events.is_empty() {
            return Ok((events, held));
        }
        let started = std::time::Instant::now();
        match self
            .log
            .append(&self.id, epoch, &events, self.fence.as_ref())
            .await
        {
            Ok(()) => {
                telemetry::log_appended(events.len(), started.elapsed());
                Ok((events, held))
            }
            Err(e) => {
                let fenced = matches!(e, BusError::Fenced(_) | BusError::NotOwner);
                telemetry::log_append_failed(&e, events.len(), fenced, "this actor stops");
                // A fenced append was refused as a whole; any other failure may have
                // come after the log took the batch.
                let why = if fenced {
                    Rejection::Unavailable("moved to another node; retry".into())
                } else {
                    Rejection::OutcomeUnknown(
                        "the event log did not confirm the write; retry".into(),
                    )
                };
                for h in held {
                    (h.0)(Some(&why));
                }
                if fenced {
                    Err(Stop::Fenced)
                } else {
                    // Memory holds events the log refused: stop, and let the next
                    // command start a fresh actor from the log.
                    Err(Stop::LogUnavailable)
                }
            }
        }
    }

    async fn maybe_snapshot(&mut self, seq: u64, state: &impl Snapshots) {
        if !self.log.is_fenced() || seq < self.snapshot_seq + self.config.snapshot_every {
            return;
        }
        let snapshot = match state.to_snapshot() {
            Ok(bytes) => Snapshot { seq, state: bytes },
            Err(e) => {
                warn!(error = %e, "cannot encode a snapshot; will retry after more events");
                return;
            }
        };
        match self
            .log
            .store_snapshot(&self.id, &snapshot, self.fence.as_ref())
            .await
        {
            Ok(()) => self.snapshot_seq = seq,
            Err(e) => warn!(error = %e, "storing a snapshot failed; will retry after more events"),
        }
    }
}

/// A private actor: rebuilt from its stream, then fed its mailbox a batch at a time.
trait Batches {
    /// For logs and the `plenary_private_actors` gauge.
    const KIND: ActorKind;
    /// Rebuilds the actor from its stream; `Err` says why it must stop instead.
    async fn reload(&mut self) -> Result<(), Stop>;
    async fn process(&mut self, batch: Vec<PrivateRequest>) -> Result<(), Stop>;
}

/// Runs a private actor to its end: load, then batches until the mailbox closes or
/// idles out; whatever is still queued when it stops is refused.
async fn live<A: Batches>(
    mut actor: A,
    mut rx: mpsc::Receiver<PrivateRequest>,
    config: &ContextConfig,
    on_exit: impl FnOnce(),
) {
    telemetry::actor_running(A::KIND, true);
    let stopped = match actor.reload().await {
        Err(stop) => Err(stop),
        Ok(()) => drive(&mut rx, config, &mut actor).await,
    };
    telemetry::actor_running(A::KIND, false);
    if let Err(stop) = stopped {
        stop.refuse_the_rest(rx).await;
    }
    on_exit();
}

/// Drains a mailbox in batches until it closes or idles out.
async fn drive(
    rx: &mut mpsc::Receiver<PrivateRequest>,
    config: &ContextConfig,
    actor: &mut impl Batches,
) -> Result<(), Stop> {
    let idle = tokio::time::sleep(config.private_passivate_after);
    tokio::pin!(idle);
    let mut batch = Vec::with_capacity(config.batch_max);
    loop {
        tokio::select! {
            received = rx.recv_many(&mut batch, config.batch_max) => {
                if received == 0 {
                    return Ok(());
                }
                actor.process(std::mem::take(&mut batch)).await?;
                idle.as_mut().reset(Instant::now() + config.private_passivate_after);
            }
            () = &mut idle => {
                debug!("passivating an idle private actor");
                rx.close();
            }
        }
    }
}

fn not_for(kind: &str) -> Rejection {
    Rejection::BadRequest(format!("not a {kind} stream"))
}

// ------------------------------------------------------------------ user actor

/// Starts a user actor for `user_id` on stream `id`.
pub(crate) fn spawn_user(
    id: Arc<str>,
    user_id: String,
    config: Arc<ContextConfig>,
    log: EventLog,
    bus: Bus,
    fence: Option<Fence>,
    on_exit: impl FnOnce() + Send + 'static,
) -> mpsc::Sender<PrivateRequest> {
    let (tx, rx) = mpsc::channel(config.mailbox);
    // Root spans, here and for conversations: an actor's logs carry its stream, never
    // the session (another user, perhaps) whose command started it.
    let span = info_span!(parent: None, "user", stream = %id);
    tokio::spawn(
        async move {
            let actor = UserActor {
                channel: Channel::Private(id.clone()),
                head: 0,
                state: UserState::new(&user_id),
                journal: Journal::new(
                    id,
                    config.clone(),
                    log,
                    fence,
                    config.recovery_window.min(PRIVATE_RECOVERY_WINDOW),
                ),
                bus,
            };
            live(actor, rx, &config, on_exit).await;
        }
        .instrument(span),
    );
    tx
}

struct UserActor {
    state: UserState,
    journal: Journal,
    channel: Channel,
    /// The seq of the last push sent on the private stream (this epoch): every push
    /// carries the previous one, so a gateway can tell it missed some.
    head: u64,
    bus: Bus,
}

impl UserActor {
    async fn load(&mut self) -> Result<(), BusError> {
        let loaded = self.journal.load().await?;
        self.state = match &loaded.snapshot {
            Some(s) => UserState::from_snapshot(&s.state)
                .map_err(|_| BusError::CorruptSnapshot(self.journal.id.to_string()))?,
            None => UserState::new(&self.state.user_id),
        };
        self.journal.snapshot_seq = self.state.seq;
        for event in loaded.events {
            if event.seq > self.state.seq {
                self.state.apply(&event);
            }
            self.journal.remember(event);
        }
        if let Some(epoch) = loaded.epoch {
            self.state.epoch = epoch;
        }
        self.announce_head().await;
        Ok(())
    }

    /// Announces the last seq the log holds for the private stream: devices whose
    /// gateway relayed less missed pushes a previous actor committed but never
    /// published, and resync (see the context actor's `announce_heads`).
    async fn announce_head(&mut self) {
        let epoch = self.state.epoch;
        self.head = self
            .journal
            .recent
            .iter()
            .rev()
            .find(|e| e.epoch == epoch && push_of(e).is_some())
            .map_or(0, |e| e.seq);
        if self.head == 0 {
            return;
        }
        let announcement = BusPush {
            push: Some(Push {
                context_id: String::new(),
                epoch,
                seq: self.head,
                body: None,
            }),
            prev_seq: self.head,
            announce: true,
        };
        self.bus.publish(&self.channel, announcement).await;
    }

    fn actor_record(&self) -> Actor {
        let profile = self.state.profile.clone().unwrap_or_default();
        Actor {
            user_id: self.state.user_id.clone(),
            email: profile.email,
            given_name: profile.given_name,
            family_name: profile.family_name,
            moderator: profile.moderator,
        }
    }

    fn emit(&mut self, kind: Kind) -> u64 {
        let actor = self.actor_record();
        let event = self
            .journal
            .next(self.state.epoch, self.state.seq, actor, kind);
        self.state.apply(&event);
        event.seq
    }

    /// The pushes a device at `since` missed, or `None` when it cannot be replayed.
    fn missed_since(&self, since: Position) -> Option<Vec<Push>> {
        if since.epoch != self.state.epoch || since.seq > self.state.seq {
            return None;
        }
        if since.seq == self.state.seq {
            return Some(Vec::new());
        }
        let oldest = self.journal.recent.front()?.seq;
        if oldest > since.seq + 1 {
            return None;
        }
        Some(
            self.journal
                .recent
                .iter()
                .filter(|e| e.seq > since.seq)
                .filter_map(push_of)
                .collect(),
        )
    }
}

impl Batches for UserActor {
    const KIND: ActorKind = ActorKind::User;

    async fn reload(&mut self) -> Result<(), Stop> {
        self.load().await.map_err(|e| {
            error!(error = %e, "cannot load a user from the event log");
            Stop::LogUnavailable
        })
    }

    async fn process(&mut self, batch: Vec<PrivateRequest>) -> Result<(), Stop> {
        let mut held = Vec::with_capacity(batch.len());
        for request in batch {
            match request {
                PrivateRequest::Open {
                    identity,
                    since,
                    reply,
                } => {
                    if let Some(kind) = self.state.decide_profile(Profile::of(&identity)) {
                        self.emit(kind);
                    }
                    let mut ok = PrivateOk {
                        epoch: self.state.epoch,
                        seq: self.state.seq,
                        ..Default::default()
                    };
                    match since.and_then(|since| self.missed_since(since)) {
                        Some(missed) => {
                            ok.recovered = true;
                            ok.missed = missed;
                        }
                        None => ok.snapshot = Some(self.state.snapshot()),
                    }
                    held.push(Held::new(reply, Ok(ok)));
                }
                PrivateRequest::Settings { patch, reply } => {
                    let seq = match self.state.decide_settings(&patch) {
                        Some(kind) => self.emit(kind),
                        None => 0,
                    };
                    held.push(Held::new(reply, Ok(CommandOutcome::Done { seq })));
                }
                PrivateRequest::Card {
                    with_peers,
                    about,
                    reply,
                } => {
                    let card = UserCard {
                        party: self.state.party(),
                        known: self.state.profile.is_some(),
                        statuses: if with_peers {
                            self.state.statuses()
                        } else {
                            BTreeMap::new()
                        },
                        shows_last_name: self.state.settings.show_last_name,
                        told: about.map_or((0, 0), |peer| self.state.told(&peer)),
                    };
                    held.push(Held::new(reply, Ok(card)));
                }
                PrivateRequest::Notices { notices, reply } => {
                    for notice in notices {
                        if let Some(kind) = self.state.decide_notice(
                            notice.pair_epoch,
                            notice.pair_seq,
                            &notice.update,
                        ) {
                            self.emit(kind);
                        }
                    }
                    held.push(Held::new(reply, Ok(())));
                }
                other @ (PrivateRequest::Pair { .. } | PrivateRequest::History { .. }) => {
                    other.refuse(&not_for("conversation"));
                }
            }
        }
        let (events, held) = self.journal.commit(self.state.epoch, held).await?;
        answer(held);
        for event in &events {
            if let Some(push) = push_of(event) {
                let prev_seq = std::mem::replace(&mut self.head, push.seq);
                let push = BusPush {
                    push: Some(push),
                    prev_seq,
                    announce: false,
                };
                self.bus.publish(&self.channel, push).await;
            }
        }
        if !events.is_empty() {
            let state = &self.state;
            self.journal.maybe_snapshot(state.seq, state).await;
        }
        Ok(())
    }
}

fn answer(held: Vec<Held>) {
    for h in held {
        (h.0)(None);
    }
}

fn push_of(event: &ContextEvent) -> Option<Push> {
    UserState::push_body(event).map(|body| Push {
        // Private pushes have no context.
        context_id: String::new(),
        epoch: event.epoch,
        seq: event.seq,
        body: Some(body),
    })
}

// ---------------------------------------------------------- conversation actor

/// Starts a conversation actor for the pair `(a, b)` on stream `id`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn spawn_pair(
    id: Arc<str>,
    a: String,
    b: String,
    config: Arc<ContextConfig>,
    log: EventLog,
    fence: Option<Fence>,
    messenger: Messenger,
    on_exit: impl FnOnce() + Send + 'static,
) -> mpsc::Sender<PrivateRequest> {
    let (tx, mut rx) = mpsc::channel::<PrivateRequest>(config.mailbox);
    let span = info_span!(parent: None, "conversation", stream = %id);
    tokio::spawn(
        async move {
            let Ok(state) = ConversationState::new(&a, &b) else {
                // Not a pair (one user twice): refuse everything.
                rx.close();
                let why = Rejection::BadRequest("you cannot talk to yourself".into());
                while let Some(request) = rx.recv().await {
                    request.refuse(&why);
                }
                on_exit();
                return;
            };
            let actor = PairActor {
                state,
                journal: Journal::new(id, config.clone(), log, fence, 0),
                messenger,
            };
            live(actor, rx, &config, on_exit).await;
        }
        .instrument(span),
    );
    tx
}

struct PairActor {
    state: ConversationState,
    journal: Journal,
    messenger: Messenger,
}

impl PairActor {
    /// Rebuilds the state from the log; returns the events read (for catching up).
    async fn load(&mut self) -> Result<Vec<ContextEvent>, BusError> {
        let loaded = self.journal.load().await?;
        self.state = match &loaded.snapshot {
            Some(s) => ConversationState::from_snapshot(&s.state)
                .map_err(|_| BusError::CorruptSnapshot(self.journal.id.to_string()))?,
            None => self.state.emptied(),
        };
        self.journal.snapshot_seq = self.state.seq;
        for event in &loaded.events {
            if event.seq > self.state.seq {
                self.state.apply(event);
            }
        }
        if let Some(epoch) = loaded.epoch {
            self.state.epoch = epoch;
        }
        Ok(loaded.events)
    }

    /// Tells each user, in order, what their stream lacks of this conversation: a
    /// crash or a hand-over may have come between a commit and its notices. Also
    /// refreshes the names (as each user now shows theirs). False while a user's
    /// actor cannot be reached.
    async fn catch_up(&mut self, events: &[ContextEvent]) -> bool {
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
            let replayable = same_epoch && events.first().is_some_and(|e| e.seq <= told + 1);
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

impl Batches for PairActor {
    const KIND: ActorKind = ActorKind::Conversation;

    async fn reload(&mut self) -> Result<(), Stop> {
        let events = self.load().await.map_err(|e| {
            error!(error = %e, "cannot load a conversation from the event log");
            Stop::LogUnavailable
        })?;
        if self.state.is_empty() || self.catch_up(&events).await {
            Ok(())
        } else {
            self.give_up()
        }
    }

    async fn process(&mut self, batch: Vec<PrivateRequest>) -> Result<(), Stop> {
        let mut held = Vec::with_capacity(batch.len());
        let mut refresh = false;
        let limits = self.journal.config.limits.clone();
        for request in batch {
            match request {
                PrivateRequest::Pair { op, reply } => {
                    let (me, peer, command) = *op;
                    self.state.refresh_names(&[&me, &peer]);
                    refresh |= command == PairCommand::Refresh && !self.state.is_empty();
                    let result = match self.state.decide(&limits, &me, &peer, &command) {
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
                                let event = self.journal.next(
                                    self.state.epoch,
                                    self.state.seq,
                                    actor.clone(),
                                    kind,
                                );
                                self.state.apply(&event);
                                outcome = if posted {
                                    CommandOutcome::Sent {
                                        message_id: event.seq,
                                        seq: event.seq,
                                        duplicate: false,
                                        thread_id: 0,
                                    }
                                } else {
                                    CommandOutcome::Done { seq: event.seq }
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
                    let (messages, has_more) = self.state.history(&viewer, before_id, limit);
                    let ok = DirectHistoryOk {
                        messages,
                        has_more,
                        peer: Some(self.state.peer_view(&viewer)),
                    };
                    held.push(Held::new(reply, Ok(ok)));
                }
                other => other.refuse(&not_for("user")),
            }
        }
        let (events, held) = self.journal.commit(self.state.epoch, held).await?;
        if events.is_empty() {
            let told = !refresh || {
                let notices = [&self.state.pair.a, &self.state.pair.b]
                    .into_iter()
                    .map(|user| self.where_it_stands(user))
                    .collect();
                self.notify(notices).await
            };
            answer(held);
            return if told { Ok(()) } else { self.give_up() };
        }
        // Notices describe each event from each side. The state already holds the
        // whole batch, so a notice shows where the conversation stands after it — and
        // carries the event's own message or removal.
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
        // Answer once both users' streams hold the change. If one cannot be reached,
        // the change is still committed: answer, then stop, so that the next command
        // starts a conversation that first tells that user what they lack.
        let told = self.notify(notices).await;
        answer(held);
        if !told {
            return self.give_up();
        }
        let state = &self.state;
        self.journal.maybe_snapshot(state.seq, state).await;
        Ok(())
    }
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

    use plenary_bus::SyncMode;

    use super::*;
    use crate::user::ConnectionAction;

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
        spawn_pair(
            Arc::from(crate::user::pair_stream_id("a", "b")),
            "a".into(),
            "b".into(),
            Arc::new(ContextConfig::default()),
            log.clone(),
            None,
            messenger(users),
            || {},
        )
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

    #[tokio::test]
    async fn a_user_who_could_not_be_told_is_caught_up_when_the_conversation_revives() {
        let dir = tempfile::tempdir().unwrap();
        let log = EventLog::open(dir.path(), SyncMode::Normal).await.unwrap();
        let users = Arc::new(Users::default());
        let tx = start(&log, &users);
        let request = PairCommand::Connection(ConnectionAction::Request);
        command(&tx, "a", "b", request).await.unwrap();
        let accept = PairCommand::Connection(ConnectionAction::Accept);
        command(&tx, "b", "a", accept).await.unwrap();
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
}
