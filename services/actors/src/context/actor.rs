//! The task that runs one context: it owns the [`ContextState`], drains its bounded
//! mailbox in batches, appends each batch's events to the log in one transaction
//! (group commit), and only then replies and publishes.
//!
//! Within a batch, each command is decided against the state left by the commands
//! before it, so its events are applied in memory before the commit. Nothing is
//! replied or published until the commit succeeds; if it fails, the actor reloads its
//! state from the log and answers every command of the batch with a retryable error,
//! so memory never holds an event the log does not.

use crate::Snapshots;
use crate::telemetry::{self, ActorKind};
use plenary_bus::now_ms;
use std::{
    collections::{HashMap, VecDeque},
    sync::Arc,
    time::Duration,
};

use plenary_bus::{Bus, Channel, EventLog, Snapshot, redis::Fence};
use plenary_proto::v1::{
    self, JoinOk, LikeCount, LikeCounts, Position, Push,
    events::{Actor, ContextEvent, ContextSettings, context_event::Kind},
    internal::BusPush,
    push::Body,
};
use tokio::{
    sync::{mpsc, oneshot},
    time::Instant,
};
use tracing::{Instrument, debug, error, info_span, warn};

use super::{
    aggregate::{Summary, Throttled},
    command::{AdminCommand, ChatCommand, CommandOutcome, Rejection},
    qa::{QaCommand, QaMode, ThreadState},
    state::{ChatLimits, ContextState, Decision, outcome_of},
    view::{self, Audience, Viewer},
};
use crate::identity::{Identity, Role};

/// Tunables of context actors.
#[derive(Clone, Debug)]
pub struct ContextConfig {
    pub limits: ChatLimits,
    /// Messages in a join snapshot.
    pub snapshot_messages: usize,
    /// Recent events kept in memory for reconnect recovery; a client further behind
    /// gets a fresh snapshot.
    pub recovery_window: usize,
    /// Mailbox capacity.
    pub mailbox: usize,
    /// How long a command waits for room in a full mailbox before it is refused.
    pub mailbox_wait: Duration,
    /// Most commands committed in one batch.
    pub batch_max: usize,
    /// Like counts are pushed as aggregates at most this often.
    pub like_flush: Duration,
    /// An actor with no commands for this long stops; it is rebuilt from the log on
    /// the next command.
    pub passivate_after: Duration,
    /// A join to an unknown context creates it (named after its id).
    pub auto_create: bool,
    /// Cluster mode: events between two snapshots of a context.
    pub snapshot_every: u64,
    /// Send a claimed Q&A thread back to pending when its owner has been disconnected
    /// this long (`None`: never).
    pub qa_auto_release: Option<Duration>,
    /// A user or conversation actor with no commands for this long stops.
    pub private_passivate_after: Duration,
    /// How long a fresh actor (after passivation or a change of owner node) waits
    /// for a moderator it has not seen to report in before releasing their claims;
    /// longer than the interval at which sessions report.
    pub moderator_presence_grace: Duration,
}

impl Default for ContextConfig {
    fn default() -> Self {
        ContextConfig {
            limits: ChatLimits::default(),
            snapshot_messages: 50,
            recovery_window: 2_000,
            mailbox: 4_096,
            mailbox_wait: Duration::from_secs(5),
            batch_max: 256,
            like_flush: Duration::from_millis(250),
            passivate_after: Duration::from_secs(600),
            private_passivate_after: Duration::from_secs(120),
            auto_create: true,
            snapshot_every: 1_000,
            qa_auto_release: None,
            moderator_presence_grace: Duration::from_secs(60),
        }
    }
}

/// A context as the admin API sees it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ContextView {
    pub id: String,
    pub settings: ContextSettings,
    pub created_at_ms: u64,
    pub epoch: u64,
    pub seq: u64,
    /// Moderator user id, email and time of their last action here.
    pub moderator_activity: Vec<(String, String, u64)>,
}

/// A join, as the gateway asks it.
#[derive(Clone, Debug)]
pub struct JoinRequest {
    pub identity: Arc<Identity>,
    /// The last position the client saw, for recovery.
    pub since: Option<Position>,
    /// Whether this join may create the context if it does not exist (and the node
    /// allows implicit creation at all, [`ContextConfig::auto_create`]). The gateway
    /// asks without first, so only a join that really creates spends a budget.
    pub create: bool,
}

/// A message in a context actor's mailbox.
pub(crate) enum Request {
    Join {
        join: JoinRequest,
        reply: oneshot::Sender<Result<JoinOk, Rejection>>,
    },
    Chat {
        identity: Arc<Identity>,
        command: ChatCommand,
        reply: oneshot::Sender<Result<CommandOutcome, Rejection>>,
    },
    Admin {
        actor: Actor,
        command: AdminCommand,
        reply: oneshot::Sender<Result<ContextView, Rejection>>,
    },
    Get {
        reply: oneshot::Sender<Result<ContextView, Rejection>>,
    },
    /// A moderator's connection is still here (`present`, sent every ping interval)
    /// or left the context (for the Q&A auto-release).
    ModeratorPresence { user_id: String, present: bool },
    /// Release claims of moderators away too long (the actor's own timer).
    AutoRelease,
}

/// Moderators' connections, for releasing the claims of those who left.
///
/// Joins and leaves count connections; sessions also report each ping interval, so a
/// fresh actor learns who is here and a moderator whose gateway died without a leave
/// stops counting as present once their reports stop for longer than the grace.
#[derive(Debug, Default)]
struct ModeratorPresence {
    online: HashMap<String, Online>,
    away_since: HashMap<String, Instant>,
}

#[derive(Debug)]
struct Online {
    connections: u32,
    last_report: Instant,
}

impl ModeratorPresence {
    fn joined(&mut self, user: &str) {
        let online = self.online.entry(user.to_owned()).or_insert(Online {
            connections: 0,
            last_report: Instant::now(),
        });
        online.connections += 1;
        online.last_report = Instant::now();
        self.away_since.remove(user);
    }

    /// A moderator's connection reported in.
    fn seen(&mut self, user: &str) {
        match self.online.get_mut(user) {
            Some(online) => online.last_report = Instant::now(),
            None => self.joined(user),
        }
    }

    fn left(&mut self, user: &str) {
        if let Some(online) = self.online.get_mut(user) {
            online.connections = online.connections.saturating_sub(1);
            if online.connections == 0 {
                self.online.remove(user);
                self.away_since.insert(user.to_owned(), Instant::now());
            }
        }
    }

    /// Away longer than `after`. Silence counts as away only past `grace`: a
    /// moderator who stopped reporting counts from their last report, one this actor
    /// never heard from counts from `started`.
    fn away_longer_than(
        &self,
        user: &str,
        after: Duration,
        started: Instant,
        grace: Duration,
    ) -> bool {
        let silent_since = match (self.online.get(user), self.away_since.get(user)) {
            (Some(online), _) => online.last_report,
            (None, Some(left)) => return left.elapsed() >= after,
            (None, None) => started,
        };
        silent_since.elapsed() >= after.max(grace)
    }
}

/// The sending side of a context actor's mailbox.
#[derive(Clone, Debug)]
pub struct ContextHandle {
    pub(crate) tx: mpsc::Sender<Request>,
}

/// A reply held back until the batch that produced it is committed.
enum Pending {
    Join(
        oneshot::Sender<Result<JoinOk, Rejection>>,
        Box<Result<JoinOk, Rejection>>,
    ),
    Chat(
        oneshot::Sender<Result<CommandOutcome, Rejection>>,
        Result<CommandOutcome, Rejection>,
    ),
    View(
        oneshot::Sender<Result<ContextView, Rejection>>,
        Result<ContextView, Rejection>,
    ),
}

impl Pending {
    fn send(self) {
        // A dropped receiver means the connection went away; nothing to tell it.
        match self {
            Pending::Join(tx, r) => drop(tx.send(*r)),
            Pending::Chat(tx, r) => drop(tx.send(r)),
            Pending::View(tx, r) => drop(tx.send(r)),
        }
    }

    fn fail(self, why: &Rejection) {
        match self {
            Pending::Join(tx, _) => drop(tx.send(Err(why.clone()))),
            Pending::Chat(tx, _) => drop(tx.send(Err(why.clone()))),
            Pending::View(tx, _) => drop(tx.send(Err(why.clone()))),
        }
    }
}

/// Starts a context actor; `on_exit` runs when it stops (the registry forgets it).
pub(crate) fn spawn(
    id: Arc<str>,
    config: Arc<ContextConfig>,
    log: EventLog,
    bus: Bus,
    fence: Option<Fence>,
    on_exit: impl FnOnce() + Send + 'static,
) -> ContextHandle {
    let (tx, rx) = mpsc::channel(config.mailbox);
    // A root span: the actor outlives the session whose command started it, and its
    // logs are about the context, not that user.
    let span = info_span!(parent: None, "context", context_id = %id);
    tokio::spawn(
        async move {
            let actor = ContextActor {
                channel_public: Channel::ContextPublic(id.clone()),
                channel_moderators: Channel::ContextModerators(id.clone()),
                heads: HashMap::new(),
                fence,
                snapshot_seq: 0,
                moderators: ModeratorPresence::default(),
                started: Instant::now(),
                state: ContextState::new(&id),
                recent: VecDeque::new(),
                uncommitted: Vec::new(),
                likes: Throttled::default(),
                id,
                config,
                log,
                bus,
            };
            telemetry::actor_running(ActorKind::Context, true);
            actor.run(rx).await;
            telemetry::actor_running(ActorKind::Context, false);
            on_exit();
        }
        .instrument(span),
    );
    ContextHandle { tx }
}

struct ContextActor {
    id: Arc<str>,
    config: Arc<ContextConfig>,
    log: EventLog,
    bus: Bus,
    state: ContextState,
    /// The last `recovery_window` events, for reconnect recovery.
    recent: VecDeque<ContextEvent>,
    /// Events of the batch being decided, not yet committed.
    uncommitted: Vec<ContextEvent>,
    /// Like counts held back for one summary push (message id → count).
    likes: Throttled<u64, u32>,
    channel_public: Channel,
    channel_moderators: Channel,
    /// Per channel, the seq of the last push sent on it (this epoch): every push
    /// carries its channel's previous one, so a gateway can tell it missed some.
    heads: HashMap<Channel, u64>,
    /// The shard lease this actor writes under (cluster mode).
    fence: Option<Fence>,
    /// Seq of the last snapshot stored (cluster mode).
    snapshot_seq: u64,
    /// Which moderators are connected (Q&A auto-release).
    moderators: ModeratorPresence,
    /// When this actor started: owners never seen connected count as away from here.
    started: Instant,
}

impl ContextActor {
    async fn run(mut self, mut rx: mpsc::Receiver<Request>) {
        if let Err(e) = self.reload().await {
            error!(error = %e, "cannot load context from the event log");
            return Stop::LogUnavailable.refuse_the_rest(rx).await;
        }
        self.announce_heads().await;
        let flush = tokio::time::sleep(self.config.like_flush);
        tokio::pin!(flush);
        let idle = tokio::time::sleep(self.config.passivate_after);
        tokio::pin!(idle);
        let mut release_tick = tokio::time::interval(Duration::from_secs(1));
        release_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Grown by the batches that come, not sized for the largest one up front: a
        // quiet context (most of them) keeps a few slots, not `batch_max` requests.
        let mut batch = Vec::new();
        loop {
            tokio::select! {
                received = rx.recv_many(&mut batch, self.config.batch_max) => {
                    if received == 0 {
                        break;
                    }
                    let had_likes = !self.likes.is_empty();
                    if let Err(stop) = self.process(&mut batch).await {
                        return stop.refuse_the_rest(rx).await;
                    }
                    if !had_likes && !self.likes.is_empty() {
                        flush.as_mut().reset(Instant::now() + self.config.like_flush);
                    }
                    idle.as_mut().reset(Instant::now() + self.config.passivate_after);
                    if !self.state.exists() && rx.is_empty() {
                        // A join refused or a look-up of an unknown id: there is nothing
                        // to keep, so stop now instead of holding memory until the idle
                        // time-out (a stream of unknown ids would otherwise pile up).
                        // Not while more requests wait: one may create the context.
                        debug!("stopping: the context does not exist");
                        rx.close();
                    }
                }
                () = &mut flush, if !self.likes.is_empty() => self.flush_likes().await,
                () = &mut idle => {
                    debug!("passivating idle context actor");
                    rx.close();
                }
                _ = release_tick.tick(), if self.config.qa_auto_release.is_some() => {
                    let mut batch = vec![Request::AutoRelease];
                    if let Err(stop) = self.process(&mut batch).await {
                        return stop.refuse_the_rest(rx).await;
                    }
                }
            }
        }
        self.flush_likes().await;
    }

    /// Rebuilds the state from the log.
    async fn reload(&mut self) -> Result<(), plenary_bus::BusError> {
        let loaded = self.log.load(&self.id).await?;
        self.state = match &loaded.snapshot {
            Some(snapshot) => ContextState::from_snapshot(&snapshot.state)
                .map_err(|_| plenary_bus::BusError::CorruptSnapshot(self.id.to_string()))?,
            None => ContextState::new(&self.id),
        };
        self.snapshot_seq = self.state.seq;
        self.recent.clear();
        self.uncommitted.clear();
        self.likes.clear();
        for event in loaded.events {
            // The stream's tail reaches back before the snapshot: those events only
            // feed recovery.
            if event.seq > self.state.seq {
                self.state.apply(&event);
            }
            self.remember(event);
        }
        if let Some(epoch) = loaded.epoch {
            self.state.epoch = epoch;
        }
        Ok(())
    }

    fn remember(&mut self, event: ContextEvent) {
        if self.recent.len() == self.config.recovery_window {
            self.recent.pop_front();
        }
        self.recent.push_back(event);
    }

    /// Decides, tentatively applies, commits and then answers one batch. `Err` means
    /// the log refused this actor's lease: it must stop.
    async fn process(&mut self, batch: &mut Vec<Request>) -> Result<(), Stop> {
        let mut replies = Vec::with_capacity(batch.len());
        for request in batch.drain(..) {
            match request {
                Request::Chat {
                    identity,
                    command,
                    reply,
                } => {
                    let actor = identity.actor_in(&self.id);
                    let result = match self.state.decide_as(
                        &self.config.limits,
                        &actor,
                        identity.admin,
                        &command,
                    ) {
                        Ok(Decision::Emit(kind)) => Ok(self.emit(actor, kind)),
                        Ok(Decision::EmitAll(kinds)) => {
                            // The last event answers the command (the message, for a post).
                            let mut outcome = CommandOutcome::Done { seq: 0 };
                            for kind in kinds {
                                outcome = self.emit(actor.clone(), kind);
                            }
                            Ok(outcome)
                        }
                        Ok(Decision::Already(outcome)) => Ok(outcome),
                        Err(rejection) => Err(rejection),
                    };
                    replies.push(Pending::Chat(reply, result));
                }
                Request::Join { join, reply } => {
                    let result = self.join(&join);
                    replies.push(Pending::Join(reply, Box::new(result)));
                }
                Request::Admin {
                    actor,
                    command,
                    reply,
                } => {
                    let result = self.state.decide_admin(&command).map(|kind| {
                        self.emit(actor, kind);
                        self.view()
                    });
                    replies.push(Pending::View(reply, result));
                }
                Request::Get { reply } => {
                    let result = if self.state.exists() {
                        Ok(self.view())
                    } else {
                        Err(Rejection::ContextNotFound(self.id.to_string()))
                    };
                    replies.push(Pending::View(reply, result));
                }
                Request::ModeratorPresence { user_id, present } => {
                    if present {
                        self.moderators.seen(&user_id);
                    } else {
                        self.moderators.left(&user_id);
                    }
                }
                Request::AutoRelease => self.auto_release(),
            }
        }

        if !self.uncommitted.is_empty() {
            let started = std::time::Instant::now();
            let events = std::mem::take(&mut self.uncommitted);
            if let Err(e) = self
                .log
                .append(&self.id, self.state.epoch, &events, self.fence.as_ref())
                .await
            {
                let fenced = matches!(
                    e,
                    plenary_bus::BusError::Fenced(_) | plenary_bus::BusError::NotOwner
                );
                telemetry::log_append_failed(&e, events.len(), fenced, "reloading context");
                // A fenced append was refused as a whole; any other failure may have
                // come after the log took the batch.
                let why = if fenced {
                    Rejection::Unavailable("context moved to another node; retry".into())
                } else {
                    Rejection::OutcomeUnknown(
                        "the event log did not confirm the write; retry".into(),
                    )
                };
                for reply in replies {
                    reply.fail(&why);
                }
                if fenced {
                    return Err(Stop::Fenced);
                }
                if let Err(e) = self.reload().await {
                    // Memory still holds the events the log refused: this actor must not
                    // go on. The next command starts a fresh one from the log.
                    error!(error = %e, "reload after a failed append failed too; this actor stops");
                    return Err(Stop::LogUnavailable);
                }
                return Ok(());
            }
            telemetry::log_appended(events.len(), started.elapsed());
            for reply in replies {
                reply.send();
            }
            for event in &events {
                self.publish(event).await;
            }
            self.maybe_snapshot().await;
        } else {
            for reply in replies {
                reply.send();
            }
        }
        Ok(())
    }

    /// In cluster mode, stores a snapshot every `snapshot_every` events, so a new owner
    /// loads the snapshot and the stream's tail instead of every event.
    async fn maybe_snapshot(&mut self) {
        if !self.log.is_fenced() || self.state.seq < self.snapshot_seq + self.config.snapshot_every
        {
            return;
        }
        let snapshot = match self.state.to_snapshot() {
            Ok(state) => Snapshot {
                seq: self.state.seq,
                state,
            },
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
            Ok(()) => self.snapshot_seq = snapshot.seq,
            Err(e) => warn!(error = %e, "storing a snapshot failed; will retry after more events"),
        }
    }

    /// Builds the next event, applies it and keeps it for recovery and the commit.
    fn emit(&mut self, actor: Actor, kind: Kind) -> CommandOutcome {
        if self.state.epoch == 0 {
            self.state.epoch = now_ms().max(1);
        }
        let event = ContextEvent {
            context_id: self.id.to_string(),
            epoch: self.state.epoch,
            seq: self.state.seq + 1,
            at_ms: now_ms(),
            actor: Some(actor),
            kind: Some(kind),
        };
        self.state.apply(&event);
        let outcome = outcome_of(&event);
        self.uncommitted.push(event.clone());
        self.remember(event);
        outcome
    }

    fn view(&self) -> ContextView {
        ContextView {
            id: self.id.to_string(),
            settings: self.state.settings.clone().unwrap_or_default(),
            created_at_ms: self.state.created_at_ms,
            epoch: self.state.epoch,
            seq: self.state.seq,
            moderator_activity: self
                .state
                .moderator_activity
                .iter()
                .map(|(id, (email, at))| (id.clone(), email.clone(), *at))
                .collect(),
        }
    }

    /// Sends back to pending the threads of owners away longer than the configured
    /// time.
    fn auto_release(&mut self) {
        let Some(after) = self.config.qa_auto_release else {
            return;
        };
        let stale: Vec<u64> = self
            .state
            .qa
            .threads()
            .filter(|t| match &t.state {
                ThreadState::Owned { by } => self.moderators.away_longer_than(
                    by,
                    after,
                    self.started,
                    self.config.moderator_presence_grace,
                ),
                _ => false,
            })
            .map(|t| t.id)
            .collect();
        let system = Actor {
            user_id: "plenary".into(),
            given_name: "Plenary".into(),
            ..Default::default()
        };
        let mode = QaMode::from(self.state.qa_mode());
        let mut emitted = 0;
        for thread in stale {
            let Ok(kinds) = self
                .state
                .qa_kinds(mode, &QaCommand::AutoRelease { thread })
            else {
                continue;
            };
            for kind in kinds {
                self.emit(system.clone(), kind);
                emitted += 1;
            }
        }
        if emitted > 0 {
            telemetry::qa_auto_released(emitted);
        }
    }

    fn join(&mut self, join: &JoinRequest) -> Result<JoinOk, Rejection> {
        let identity = &join.identity;
        if !self.state.exists() {
            if !(self.config.auto_create && join.create) {
                return Err(Rejection::ContextNotFound(self.id.to_string()));
            }
            telemetry::context_created_implicitly();
            let settings = ContextSettings {
                name: self.id.to_string(),
                ..Default::default()
            };
            self.emit(
                identity.actor_in(&self.id),
                Kind::Created(v1::events::ContextCreated {
                    settings: Some(settings),
                    implicit: true,
                }),
            );
        }
        let role = identity.role_in(&self.id);
        if role == Role::Moderator {
            self.moderators.joined(&identity.user_id);
        }
        let settings = self.state.settings.as_ref().cloned().unwrap_or_default();
        let mut ok = JoinOk {
            context: Some(view::context_info(&self.id, &settings)),
            role: match role {
                Role::Attendee => v1::Role::Attendee as i32,
                Role::Moderator => v1::Role::Moderator as i32,
            },
            epoch: self.state.epoch,
            seq: self.state.seq,
            recovered: false,
            missed: Vec::new(),
            snapshot: None,
        };
        let viewer = Viewer {
            user_id: &identity.user_id,
            role,
        };
        if let Some(missed) = join
            .since
            .and_then(|since| self.missed_since(since, viewer))
        {
            ok.recovered = true;
            ok.missed = missed;
        } else {
            ok.snapshot = Some(view::snapshot(
                &self.state,
                viewer,
                self.config.snapshot_messages,
            ));
        }
        Ok(ok)
    }

    /// The pushes a client at `since` missed, or `None` if it is too far behind (or
    /// from another epoch) to recover by replay.
    fn missed_since(&self, since: Position, viewer: Viewer<'_>) -> Option<Vec<Push>> {
        if since.epoch != self.state.epoch || since.seq > self.state.seq {
            return None;
        }
        if since.seq == self.state.seq {
            return Some(Vec::new());
        }
        let oldest = self.recent.front()?.seq;
        if oldest > since.seq + 1 {
            return None;
        }
        let missed = self
            .recent
            .iter()
            .filter(|e| e.seq > since.seq)
            .filter(|e| {
                e.kind
                    .as_ref()
                    .is_some_and(|k| view::visible_to(&view::audience_of(&self.state, k), viewer))
            })
            .filter_map(|e| {
                view::push_body(&self.state, e, viewer).map(|body| Push {
                    context_id: self.id.to_string(),
                    epoch: e.epoch,
                    seq: e.seq,
                    body: Some(body),
                })
            })
            .collect();
        Some(missed)
    }

    /// Sends one committed event to its audience: one push per channel, rendered for
    /// that channel's viewers (a thread's attendee sees moderators' answers as the
    /// session). Like changes are held back and pushed as an aggregate, flushed before
    /// any other push so order is kept; an aggregate holds likes of one audience only,
    /// so a like for another audience flushes it first.
    async fn publish(&mut self, event: &ContextEvent) {
        let Some(kind) = &event.kind else { return };
        let audience = view::audience_of(&self.state, kind);
        let like = match kind {
            Kind::MessageLiked(l) => Some((l.message_id, l.like_count)),
            Kind::MessageUnliked(l) => Some((l.message_id, l.like_count)),
            _ => None,
        };
        if let Some((message_id, count)) = like {
            if let Some(earlier) = self.likes.hold(message_id, count, event.seq, audience) {
                self.push_likes(earlier).await;
            }
            return;
        }
        self.flush_likes().await;
        let state = &self.state;
        let rendered = self.render(&audience, |viewer| view::push_body(state, event, viewer));
        self.send(event.epoch, event.seq, rendered).await;
    }

    /// The channels an audience is published on, each with the viewer its pushes are
    /// rendered for.
    fn targets<'a>(&self, audience: &'a Audience) -> Vec<(Channel, Viewer<'a>)> {
        let moderator = Viewer {
            user_id: "",
            role: Role::Moderator,
        };
        match audience {
            Audience::Everyone => vec![(
                self.channel_public.clone(),
                Viewer {
                    user_id: "",
                    role: Role::Attendee,
                },
            )],
            Audience::Moderators => vec![(self.channel_moderators.clone(), moderator)],
            Audience::Thread { attendee } => vec![
                (self.channel_moderators.clone(), moderator),
                (
                    Channel::ContextUser(self.id.clone(), Arc::from(attendee.as_str())),
                    Viewer {
                        user_id: attendee,
                        role: Role::Attendee,
                    },
                ),
            ],
        }
    }

    /// A push body per channel of an audience, rendered for that channel's viewers
    /// (none where there is nothing to show).
    fn render(
        &self,
        audience: &Audience,
        render: impl Fn(Viewer<'_>) -> Option<Body>,
    ) -> Vec<(Channel, Body)> {
        self.targets(audience)
            .into_iter()
            .filter_map(|(channel, viewer)| Some((channel, render(viewer)?)))
            .collect()
    }

    /// Publishes rendered pushes, each saying which seq this actor sent last on its
    /// channel.
    async fn send(&mut self, epoch: u64, seq: u64, rendered: Vec<(Channel, Body)>) {
        for (channel, body) in rendered {
            let prev_seq = self.heads.insert(channel.clone(), seq).unwrap_or(0);
            self.bus
                .publish(
                    &channel,
                    BusPush {
                        push: Some(Push {
                            context_id: self.id.to_string(),
                            epoch,
                            seq,
                            body: Some(body),
                        }),
                        prev_seq,
                        announce: false,
                    },
                )
                .await;
        }
    }

    /// After loading: works out from the log's tail which seq was last meant for each
    /// channel, and announces it there. Listeners whose gateway relayed less missed
    /// events the previous actor committed but never published (it died in between),
    /// and resync. An actor that stopped cleanly had published everything, so its
    /// successor's announcement changes nothing.
    async fn announce_heads(&mut self) {
        let mut heads = HashMap::new();
        for event in &self.recent {
            let Some(kind) = &event.kind else { continue };
            if event.epoch != self.state.epoch {
                continue;
            }
            let audience = view::audience_of(&self.state, kind);
            for (channel, viewer) in self.targets(&audience) {
                if view::push_body(&self.state, event, viewer).is_some() {
                    heads.insert(channel, event.seq);
                }
            }
        }
        for (channel, seq) in &heads {
            self.bus
                .publish(
                    channel,
                    BusPush {
                        push: Some(Push {
                            context_id: self.id.to_string(),
                            epoch: self.state.epoch,
                            seq: *seq,
                            body: None,
                        }),
                        prev_seq: *seq,
                        announce: true,
                    },
                )
                .await;
        }
        self.heads = heads;
    }

    async fn flush_likes(&mut self) {
        if let Some(summary) = self.likes.take() {
            self.push_likes(summary).await;
        }
    }

    /// One push of held like counts, for the audience they were held for.
    async fn push_likes(&mut self, summary: Summary<u64, u32>) {
        let counts: Vec<LikeCount> = summary
            .changes
            .into_iter()
            .map(|(message_id, count)| LikeCount { message_id, count })
            .collect();
        let (epoch, seq) = (self.state.epoch, summary.seq);
        let rendered = self.render(&summary.audience, |_| {
            Some(Body::Likes(LikeCounts {
                counts: counts.clone(),
            }))
        });
        self.send(epoch, seq, rendered).await;
    }
}

/// Why an actor must stop at once.
pub(crate) enum Stop {
    /// The log refused this actor's lease: another node owns the context now.
    Fenced,
    /// An append failed and the state could not be reloaded from the log.
    LogUnavailable,
}

impl Stop {
    /// Refuses everything still queued (clients retry and reach a fresh actor or the
    /// new owner).
    async fn refuse_the_rest(self, mut rx: mpsc::Receiver<Request>) {
        rx.close();
        let why = Rejection::Unavailable(match self {
            Stop::Fenced => "context moved to another node; retry".into(),
            Stop::LogUnavailable => "the event log is unavailable; retry".into(),
        });
        while let Some(request) = rx.recv().await {
            reject(request, &why);
        }
    }
}

fn reject(request: Request, why: &Rejection) {
    match request {
        Request::Join { reply, .. } => drop(reply.send(Err(why.clone()))),
        Request::Chat { reply, .. } => drop(reply.send(Err(why.clone()))),
        Request::Admin { reply, .. } | Request::Get { reply } => drop(reply.send(Err(why.clone()))),
        Request::ModeratorPresence { .. } | Request::AutoRelease => {}
    }
    warn!("refused a request: context unavailable");
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3_600);

    #[test]
    fn a_moderator_who_left_counts_as_away_at_once_whatever_the_grace() {
        let mut moderators = ModeratorPresence::default();
        moderators.joined("ann");
        assert!(!moderators.away_longer_than("ann", Duration::ZERO, Instant::now(), HOUR));
        moderators.left("ann");
        assert!(moderators.away_longer_than("ann", Duration::ZERO, Instant::now(), HOUR));
        assert!(!moderators.away_longer_than("ann", HOUR, Instant::now(), Duration::ZERO));
    }

    #[test]
    fn an_unseen_moderator_is_away_only_after_the_grace() {
        let mut moderators = ModeratorPresence::default();
        let started = Instant::now() - Duration::from_secs(10);
        let second = Duration::from_secs(1);
        assert!(!moderators.away_longer_than("bo", second, started, HOUR));
        assert!(moderators.away_longer_than("bo", second, started, second));
        // A report from any of their connections makes them present again.
        moderators.seen("bo");
        assert!(!moderators.away_longer_than("bo", second, started, second));
    }

    #[test]
    fn a_moderator_whose_reports_stop_is_away_after_the_grace() {
        let mut moderators = ModeratorPresence::default();
        moderators.joined("cy");
        let second = Duration::from_secs(1);
        moderators.online.get_mut("cy").unwrap().last_report =
            Instant::now() - Duration::from_secs(10);
        assert!(!moderators.away_longer_than("cy", second, Instant::now(), HOUR));
        assert!(moderators.away_longer_than("cy", second, Instant::now(), second));
    }
}
