//! The context actor: the [`ContextState`] state machine on the shared runtime
//! ([`crate::runtime`], which loads, batches, commits, holds replies, snapshots and
//! passivates), plus what only contexts do: joins with snapshot or recovery, the
//! pushes per audience, held-back like counts, the reactions window and the Q&A
//! auto-release timer.

use std::{collections::HashMap, sync::Arc, time::Duration};

use plenary_bus::{Bus, Channel};
use plenary_proto::v1::{
    self, JoinOk, LikeCount, LikeCounts, Position, Push, Tallies, Tally,
    events::{Actor, ContextEvent, ContextSettings, context_event::Kind},
    internal::BusPush,
    push::Body,
};
use plenary_proto::{encoded::EncodedPush, wire::WireFormat};
use tokio::{
    sync::{mpsc, oneshot},
    time::Instant,
};
use tracing::{info_span, warn};

use super::{
    aggregate::{Summary, Throttled},
    command::{AdminCommand, ChatCommand, CommandOutcome, Rejection},
    history,
    joins::JoinCounter,
    pace::{self, Pace},
    qa::{ModeratorPresence, QaCommand, QaMode, ThreadState},
    reactions::{Live, NodeReport},
    recent::RecentPushes,
    state::{ChatLimits, ContextState, Decision, outcome_of},
    view::{self, Audience, Viewer},
};
use crate::{
    identity::{Identity, Role},
    runtime::{ArchiveReads, Held, Journal, Machine, Replayed, Start, Stop, log_unavailable},
    telemetry::{self, ActorKind},
};

/// The actor of the events Plenary itself writes (an automatic release, joins
/// counted).
fn plenary_actor() -> Actor {
    Actor {
        user_id: "plenary".into(),
        given_name: "Plenary".into(),
        ..Default::default()
    }
}

/// History pages of one context read from the log at once (more: `RATE_LIMITED`).
const ARCHIVE_READS: usize = 8;

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
    /// Like counts and vote tallies are pushed as aggregates at most this often. Above
    /// 250 ms, so that delivery jitter cannot put five into one second at a client.
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
    /// Joins are counted per window of this length and written as one event each
    /// (`JoinsCounted`, for the activity report); a divisor of a minute.
    pub joins_window: Duration,
    /// Group-chat pushes per second a context may make its busiest node write (a
    /// message costs that node's audience); 0 turns the budget off ([`super::pace`]).
    pub room_deliveries_per_sec: u32,
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
            like_flush: Duration::from_millis(300),
            passivate_after: Duration::from_secs(600),
            private_passivate_after: Duration::from_secs(120),
            auto_create: true,
            snapshot_every: 1_000,
            qa_auto_release: None,
            moderator_presence_grace: Duration::from_secs(60),
            joins_window: Duration::from_secs(10),
            room_deliveries_per_sec: DEFAULT_ROOM_DELIVERIES_PER_SEC,
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
#[derive(Clone, Debug, PartialEq)]
pub struct JoinRequest {
    pub identity: Arc<Identity>,
    /// The last position the client saw, for recovery.
    pub since: Option<Position>,
    /// Whether this join may create the context if it does not exist (and the node
    /// allows implicit creation at all, [`ContextConfig::auto_create`]). The gateway
    /// asks without first, so only a join that really creates spends a budget.
    pub create: bool,
}

/// The answer to a join. A recovery from what the actor published lately carries
/// those pushes as they went out, encoded once (`missed`, in order; `ok.missed` is
/// then empty): the reply splices them in. Otherwise `ok` is the whole answer.
#[derive(Clone, Debug, PartialEq)]
pub struct JoinAnswer {
    pub ok: JoinOk,
    pub missed: Vec<Arc<EncodedPush>>,
}

impl JoinAnswer {
    /// The answer as one `JoinOk`, every missed push in `ok.missed` (decoded, for
    /// callers that want the messages rather than the bytes).
    pub fn into_join_ok(self) -> JoinOk {
        let JoinAnswer { mut ok, missed } = self;
        // Bytes this node encoded from a `Push` a moment ago always decode.
        ok.missed
            .extend(missed.iter().filter_map(|push| push.decode().ok()));
        ok
    }
}

impl From<JoinOk> for JoinAnswer {
    fn from(ok: JoinOk) -> Self {
        JoinAnswer {
            ok,
            missed: Vec::new(),
        }
    }
}

/// A message in a context actor's mailbox.
pub(crate) enum Request {
    Join {
        join: JoinRequest,
        reply: oneshot::Sender<Result<JoinAnswer, Rejection>>,
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
    /// A page of the group chat, the backchannel or a thread.
    History {
        query: ChatHistory,
        reply: oneshot::Sender<Result<v1::HistoryOk, Rejection>>,
    },
    /// A moderator's connection is still here (`present`, sent every ping interval)
    /// or left the context (for the Q&A auto-release).
    ModeratorPresence { user_id: String, present: bool },
    /// A gateway node's reactions and attendees since its last report.
    NodeReport(NodeReport),
}

/// A page of a context's group chat (or backchannel, or a Q&A thread), as `identity`
/// sees it: what the registry forwards and the actor answers.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ChatHistory {
    pub identity: Arc<Identity>,
    pub before_id: u64,
    pub limit: usize,
    pub backchannel: bool,
    pub thread_id: u64,
}

/// The sending side of a context actor's mailbox.
#[derive(Clone, Debug)]
pub struct ContextHandle {
    pub(crate) tx: mpsc::Sender<Request>,
}

/// Starts a context actor (once its predecessor has exited).
pub(crate) fn spawn(start: Start, bus: Bus) -> ContextHandle {
    let id = start.id.clone();
    let config = start.config.clone();
    let actor = ContextActor {
        channel_public: Channel::ContextPublic(id.clone()),
        channel_moderators: Channel::ContextModerators(id.clone()),
        heads: HashMap::new(),
        recent: RecentPushes::new(0, 0),
        archive_reads: ArchiveReads::new(ARCHIVE_READS),
        moderators: ModeratorPresence::default(),
        started: Instant::now(),
        joins: JoinCounter::new(config.joins_window.as_millis() as u64),
        state: ContextState::new(&id),
        likes: Throttled::default(),
        tallies: Throttled::default(),
        summaries_due: None,
        live: Live::default(),
        pace: Pace::new(config.room_deliveries_per_sec, Instant::now()),
        release_due: config
            .qa_auto_release
            .map(|_| Instant::now() + RELEASE_TICK),
        bus,
        id: id.clone(),
    };
    let span = info_span!(parent: None, "context", context_id = %id);
    ContextHandle {
        tx: start.spawn(actor, config.recovery_window, span),
    }
}

/// How often claims of moderators away too long are looked for.
const RELEASE_TICK: Duration = Duration::from_secs(1);

/// The default delivery budget of a room (`--room-deliveries-per-sec`): issue 13
/// measured one embedded node on a 2-core box, sharing it with the load client,
/// writing 167,000–209,000 pushes a second to 1,000 members without cutting anyone off
/// (docs/BENCHMARKS.md); the default stays below that, and above the 100,000 a second
/// of a 5,000-member room at 20 messages a second.
pub const DEFAULT_ROOM_DELIVERIES_PER_SEC: u32 = 150_000;

struct ContextActor {
    id: Arc<str>,
    /// History pages being read from the log.
    archive_reads: ArchiveReads,
    bus: Bus,
    state: ContextState,
    /// Like counts held back for one summary push (message id → count).
    likes: Throttled<u64, u32>,
    /// Interactions whose tallies changed, held back for one summary push; each tally
    /// is computed once, when pushed, not on every vote.
    tallies: Throttled<u64, ()>,
    /// When the held like counts and tallies are pushed.
    summaries_due: Option<Instant>,
    /// The open reactions window and the attendees each node reported.
    live: Live,
    /// The delivery budget and slow mode.
    pace: Pace,
    /// When claims of moderators away too long are next looked for.
    release_due: Option<Instant>,
    channel_public: Channel,
    channel_moderators: Channel,
    /// Per channel, the seq of the last push sent on it (this epoch): every push
    /// carries its channel's previous one, so a gateway can tell it missed some.
    heads: HashMap<Channel, u64>,
    /// The pushes published lately, encoded, for rejoins.
    recent: RecentPushes,
    /// Which moderators are connected (Q&A auto-release).
    moderators: ModeratorPresence,
    /// When this actor started: owners never seen connected count as away from here.
    started: Instant,
    /// Joins of the window in progress (the activity report).
    joins: JoinCounter,
}

impl Machine for ContextActor {
    type Request = Request;
    type State = ContextState;
    const KIND: ActorKind = ActorKind::Context;

    fn state(&mut self) -> &mut ContextState {
        &mut self.state
    }

    fn fresh(&self) -> ContextState {
        ContextState::new(&self.id)
    }

    fn passivate_after(config: &ContextConfig) -> Duration {
        config.passivate_after
    }

    async fn started(
        &mut self,
        _: &mut Journal<ContextEvent>,
        tail: &[ContextEvent],
    ) -> Result<(), Stop> {
        // What a predecessor published is not here: rejoins from before now are
        // answered from the log.
        self.recent = RecentPushes::new(self.state.epoch, self.state.seq);
        self.announce_heads(tail).await;
        Ok(())
    }

    fn handle(
        &mut self,
        journal: &mut Journal<ContextEvent>,
        request: Request,
        held: &mut Vec<Held>,
    ) {
        match request {
            Request::Chat {
                identity,
                command,
                reply,
            } => {
                let actor = identity.actor_in(&self.id);
                let limits = &journal.config.limits;
                let result = match self
                    .state
                    .decide_as(limits, &actor, identity.admin, &command)
                {
                    // The last event answers the command (the message, for a post).
                    Ok(Decision::Emit(kind)) => self
                        .admit(&kind, &actor)
                        .map(|()| self.emit(journal, actor, kind)),
                    Ok(Decision::EmitAll(kinds)) => Ok(kinds
                        .into_iter()
                        .fold(CommandOutcome::Done { seq: 0 }, |_, kind| {
                            self.emit(journal, actor.clone(), kind)
                        })),
                    Ok(Decision::Already(outcome)) => Ok(outcome),
                    Err(rejection) => Err(rejection),
                };
                held.push(Held::new(reply, result));
            }
            Request::Join { join, reply } => {
                let result = self.join(journal, &join);
                held.push(Held::new(reply, result));
            }
            Request::Admin {
                actor,
                command,
                reply,
            } => {
                let result = self.state.decide_admin(&command).map(|kind| {
                    self.emit(journal, actor, kind);
                    self.view()
                });
                held.push(Held::new(reply, result));
            }
            Request::Get { reply } => {
                let result = if self.state.exists() {
                    Ok(self.view())
                } else {
                    Err(Rejection::ContextNotFound(self.id.to_string()))
                };
                held.push(Held::new(reply, result));
            }
            Request::History { query, reply } => {
                let viewer = Viewer {
                    user_id: &query.identity.user_id,
                    role: query.identity.role_in(&self.id),
                };
                let area = view::Area::of(query.backchannel, query.thread_id);
                match history::plan(&self.state, viewer, area, query.before_id, query.limit) {
                    Err(why) => held.push(Held::new(reply, Err(why))),
                    Ok(plan) if !plan.reads_log() => {
                        held.push(Held::new(reply, Ok(plan.into_page())));
                    }
                    Ok(plan) => {
                        let (log, id) = (journal.log().clone(), self.id.clone());
                        self.archive_reads.answer(reply, held, async move {
                            history::read_archive(&log, &id, plan).await.map_err(|e| {
                                warn!(error = %e, "cannot read chat history from the event log");
                                log_unavailable()
                            })
                        });
                    }
                }
            }
            Request::ModeratorPresence { user_id, present } => {
                if present {
                    self.moderators.seen(&user_id);
                } else {
                    self.moderators.left(&user_id);
                }
            }
            Request::NodeReport(report) => {
                let now = Instant::now();
                if self.live.report(report, now) {
                    self.state.interactions.present = self.live.present(now);
                }
            }
        }
    }

    async fn committed(
        &mut self,
        journal: &mut Journal<ContextEvent>,
        events: Vec<ContextEvent>,
        held: Vec<Held>,
    ) -> Result<(), Stop> {
        Held::answer(held);
        for event in &events {
            self.publish(event).await;
        }
        if self.summaries_due.is_none() && !(self.likes.is_empty() && self.tallies.is_empty()) {
            self.summaries_due = Some(Instant::now() + journal.config.like_flush);
        }
        Ok(())
    }

    fn refuse(request: Request, why: &Rejection) {
        let why = why.clone();
        match request {
            Request::Join { reply, .. } => drop(reply.send(Err(why))),
            Request::Chat { reply, .. } => drop(reply.send(Err(why))),
            Request::Admin { reply, .. } | Request::Get { reply } => drop(reply.send(Err(why))),
            Request::History { reply, .. } => drop(reply.send(Err(why))),
            Request::ModeratorPresence { .. } | Request::NodeReport(_) => return,
        }
        warn!("refused a request: context unavailable");
    }

    fn wake_at(&self) -> Option<Instant> {
        let joins_due = self.joins.due_ms().map(|due| {
            Instant::now() + Duration::from_millis(due.saturating_sub(plenary_bus::now_ms()))
        });
        [
            self.summaries_due,
            self.release_due,
            self.live.due(),
            joins_due,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    async fn wake(&mut self, journal: &mut Journal<ContextEvent>) {
        let now = Instant::now();
        if self.summaries_due.is_some_and(|due| due <= now) {
            self.flush_summaries().await;
        }
        if self.release_due.is_some_and(|due| due <= now) {
            self.release_due = Some(now + RELEASE_TICK);
            self.auto_release(journal);
        }
        if let Some(counted) = self.joins.take_if_over(plenary_bus::now_ms()) {
            self.emit(journal, plenary_actor(), Kind::JoinsCounted(counted));
        }
        if self.live.due().is_some_and(|due| due <= now) {
            // Nodes that stopped reporting drop out of the count here too.
            self.state.interactions.present = self.live.present(now);
            if let Some(reactions) = self.live.take(now) {
                let channel = self.channel_public.clone();
                self.send_ephemeral(channel, Body::Reactions(reactions))
                    .await;
            }
        }
    }

    fn is_gone(&self) -> bool {
        // A join refused or a look-up of an unknown id: nothing to keep (a stream of
        // unknown ids would otherwise pile up actors until the idle time-out).
        !self.state.exists()
    }

    async fn closing(&mut self, journal: &mut Journal<ContextEvent>) {
        if let Some(counted) = self.joins.take() {
            self.emit(journal, plenary_actor(), Kind::JoinsCounted(counted));
        }
    }

    async fn stopping(&mut self) {
        self.flush_summaries().await;
    }
}

impl ContextActor {
    /// Emits an event and says how it answers the command that caused it.
    fn emit(
        &mut self,
        journal: &mut Journal<ContextEvent>,
        actor: Actor,
        kind: Kind,
    ) -> CommandOutcome {
        outcome_of(journal.emit(&mut self.state, actor, kind))
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
    fn auto_release(&mut self, journal: &mut Journal<ContextEvent>) {
        let Some(after) = journal.config.qa_auto_release else {
            return;
        };
        let grace = journal.config.moderator_presence_grace;
        let stale: Vec<u64> = self
            .state
            .qa
            .threads()
            .filter(|t| match &t.state {
                ThreadState::Owned { by } => {
                    self.moderators
                        .away_longer_than(by, after, self.started, grace)
                }
                _ => false,
            })
            .map(|t| t.id)
            .collect();
        let system = plenary_actor();
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
                self.emit(journal, system.clone(), kind);
                emitted += 1;
            }
        }
        if emitted > 0 {
            telemetry::qa_auto_released(emitted);
        }
    }

    /// Checks a group-chat message against the room's delivery budget and slow mode;
    /// anything else passes.
    fn admit(&mut self, kind: &Kind, actor: &Actor) -> Result<(), Rejection> {
        let Kind::MessagePosted(posted) = kind else {
            return Ok(());
        };
        if posted.backchannel || posted.thread_id != 0 {
            // Moderators only, or one attendee's thread: not the whole room.
            return Ok(());
        }
        let now = Instant::now();
        let slow_mode = self.state.settings.as_ref().map_or(0, |s| s.slow_mode_secs);
        let message = pace::Message {
            user_id: &actor.user_id,
            moderator: actor.moderator,
            audience: self.live.busiest_node(now),
            slow_mode: Duration::from_secs(u64::from(slow_mode)),
        };
        self.pace.admit(&message, now)
    }

    fn join(
        &mut self,
        journal: &mut Journal<ContextEvent>,
        join: &JoinRequest,
    ) -> Result<JoinAnswer, Rejection> {
        let identity = &join.identity;
        if !self.state.exists() {
            if !(journal.config.auto_create && join.create) {
                return Err(Rejection::ContextNotFound(self.id.to_string()));
            }
            telemetry::context_created_implicitly();
            let settings = ContextSettings {
                name: self.id.to_string(),
                ..Default::default()
            };
            self.emit(
                journal,
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
        let mut missed = Vec::new();
        if let Some((through, published)) = join
            .since
            .and_then(|since| self.published_since(journal, since, viewer))
        {
            ok.recovered = true;
            ok.seq = through;
            missed = published;
        } else if let Some(rendered) = join
            .since
            .and_then(|since| self.missed_since(journal, since, viewer))
        {
            ok.recovered = true;
            ok.missed = rendered;
        } else {
            ok.snapshot = Some(view::snapshot(
                &self.state,
                viewer,
                journal.config.snapshot_messages,
            ));
            // A join that got the context fresh (not a resumed one) counts.
            if let Some(closed) = self.joins.joined(plenary_bus::now_ms()) {
                self.emit(journal, plenary_actor(), Kind::JoinsCounted(closed));
            }
        }
        Ok(JoinAnswer { ok, missed })
    }

    /// A recovery from the pushes published lately, as they went out: those after
    /// `since` on the viewer's channels, and the position they end at (what was
    /// published; pushes still held or not yet committed follow as live ones). `None`
    /// when they are not all kept, the log no longer reaches `since`, or the gap holds
    /// the viewer's own vote.
    fn published_since(
        &self,
        journal: &Journal<ContextEvent>,
        since: Position,
        viewer: Viewer<'_>,
    ) -> Option<(u64, Vec<Arc<EncodedPush>>)> {
        // Everything before the first change still held back, and before what this
        // batch emitted, went out.
        let through = [
            journal.first_uncommitted_seq(),
            self.likes.first_held(),
            self.tallies.first_held(),
        ]
        .into_iter()
        .flatten()
        .map(|seq| seq - 1)
        .fold(self.state.seq, u64::min);
        if since.seq > through {
            return None;
        }
        // What the viewer's connection listens to (see the gateway's `Listening`).
        let own = Channel::ContextUser(self.id.clone(), Arc::from(viewer.user_id));
        let channels = match viewer.role {
            Role::Moderator => [&self.channel_public, &self.channel_moderators],
            Role::Attendee => [&self.channel_public, &own],
        };
        let published = self
            .recent
            .between(self.state.epoch, since.seq, through, &channels)?;
        // The viewer's own votes were never pushed live (their tally summary was, with
        // the same seq): a gap holding one is rendered from the log, which shows both.
        let own_vote = journal
            .since(self.state.position(), since)?
            .take_while(|e| e.seq <= through)
            .any(|e| {
                matches!(e.kind, Some(Kind::VoteCast(_)))
                    && view::visible_to(&view::audience_of(&self.state, e), viewer)
            });
        if own_vote {
            return None;
        }
        let missed = published.into_iter().map(|(_, push)| push).collect();
        Some((through, missed))
    }

    /// The pushes a client at `since` missed, or `None` if it is too far behind (or
    /// from another epoch) to recover by replay.
    fn missed_since(
        &self,
        journal: &Journal<ContextEvent>,
        since: Position,
        viewer: Viewer<'_>,
    ) -> Option<Vec<Push>> {
        let mut votes_missed = false;
        let mut missed: Vec<Push> = journal
            .since(self.state.position(), since)?
            .inspect(|e| votes_missed |= matches!(e.kind, Some(Kind::VoteCast(_))))
            .filter(|e| view::visible_to(&view::audience_of(&self.state, e), viewer))
            .filter_map(|e| {
                view::push_body(&self.state, e, viewer).map(|body| Push {
                    context_id: self.id.to_string(),
                    epoch: e.epoch,
                    seq: e.seq,
                    body: Some(body),
                })
            })
            .collect();
        // Others' votes reach clients only as tallies: the ones missed end the list.
        let tallies = self.state.interactions.tallies(viewer);
        if votes_missed && !tallies.is_empty() {
            missed.push(Push {
                context_id: self.id.to_string(),
                epoch: self.state.epoch,
                seq: self.state.seq,
                body: Some(Body::Tallies(Tallies { tallies })),
            });
        }
        Some(missed)
    }
    /// Sends one committed event to its audience: one push per channel, rendered for
    /// that channel's viewers (a thread's attendee sees moderators' answers as the
    /// session). Like counts and vote tallies are held back and pushed as summaries
    /// (at most one per `like_flush`), flushed before any other push so order is kept;
    /// a summary holds one audience only, so a change for another audience flushes it
    /// first. A vote itself is not pushed live: a push of it would carry the same seq
    /// as the tally summary that ends with it, and a gateway passes on one push per seq
    /// of a context, so the voter would miss the tally.
    async fn publish(&mut self, event: &ContextEvent) {
        let Some(kind) = &event.kind else { return };
        let audience = view::audience_of(&self.state, event);
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
        if let Kind::VoteCast(vote) = kind {
            // Not pushed itself (the voter has the reply; their other devices see it in
            // a snapshot or recovery): only the tally it changed, held.
            if let Some(interaction) = self.state.interactions.get(vote.interaction_id) {
                let shown_to = if interaction.results_shown {
                    Audience::Everyone
                } else {
                    Audience::Moderators
                };
                let held = self
                    .tallies
                    .hold(vote.interaction_id, (), event.seq, shown_to);
                if let Some(earlier) = held {
                    self.push_tallies(earlier).await;
                }
            }
            return;
        }
        self.flush_summaries().await;
        let state = &self.state;
        let rendered = self.render(&audience, |viewer| view::push_body(state, event, viewer));
        self.send(event.epoch, event.seq, rendered).await;
        if let Kind::InteractionEnded(ended) = kind
            && self
                .state
                .interactions
                .get(ended.interaction_id)
                .is_some_and(|i| matches!(i.spec, super::interactions::Spec::Quiz(_)))
        {
            self.push_ranks().await;
        }
    }

    /// Tells every quiz participant their own place on the leaderboard, on their own
    /// queue (the top 10 went out with the quiz's end, to everyone).
    async fn push_ranks(&mut self) {
        let ranks: Vec<(Arc<str>, v1::Leaderboard)> = self
            .state
            .interactions
            .ranks()
            .into_iter()
            .map(|(user, rank)| (Arc::from(user), rank))
            .collect();
        for (user, rank) in ranks {
            let channel = Channel::ContextUser(self.id.clone(), user);
            self.send_ephemeral(channel, Body::Rank(rank)).await;
        }
    }

    /// Publishes a push that is not an event (reactions, a rank): `seq` 0, so gateways
    /// pass it on without counting it as a position, and it moves no channel's head.
    /// Its `prev_seq` is the last event's seq (every push of it went out before): its
    /// place in publish order.
    async fn send_ephemeral(&mut self, channel: Channel, body: Body) {
        let (epoch, after) = (self.state.epoch, self.state.seq);
        self.publish_push(&channel, epoch, 0, after, body).await;
    }

    /// Publishes one push on a channel. An event's push is encoded here, once: for
    /// every node that relays it and for rejoins ([`RecentPushes`]).
    async fn publish_push(
        &mut self,
        channel: &Channel,
        epoch: u64,
        seq: u64,
        prev_seq: u64,
        body: Body,
    ) {
        let push = Push {
            context_id: self.id.to_string(),
            epoch,
            seq,
            body: Some(body),
        };
        let mut bus = BusPush {
            prev_seq,
            announce: false,
            ..Default::default()
        };
        if seq != 0 {
            let encoded = Arc::new(EncodedPush::new(&push));
            bus.frame_json = encoded.frame(WireFormat::Json).to_vec();
            bus.frame_proto = encoded.frame(WireFormat::Proto).to_vec();
            self.recent.record(epoch, seq, channel, encoded);
        }
        bus.push = Some(push);
        self.bus.publish(channel, bus).await;
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
            // The user's own channel. (No event for one user is pushed live today:
            // votes only come back in recovery.)
            Audience::User { user_id } => vec![(
                Channel::ContextUser(self.id.clone(), Arc::from(user_id.as_str())),
                Viewer {
                    user_id,
                    role: Role::Attendee,
                },
            )],
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
            self.publish_push(&channel, epoch, seq, prev_seq, body)
                .await;
        }
    }

    /// After loading: works out from the log's tail which seq was last meant for each
    /// channel, and announces it there. Listeners whose gateway relayed less missed
    /// events the previous actor committed but never published (it died in between,
    /// or its append failed after the log took it), and resync. An actor that stopped
    /// cleanly had published everything, so its successor's announcement changes
    /// nothing.
    async fn announce_heads(&mut self, tail: &[ContextEvent]) {
        let mut heads = HashMap::new();
        for event in tail {
            if !view::pushed_live(event) || event.epoch != self.state.epoch {
                continue;
            }
            let audience = view::audience_of(&self.state, event);
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
                        ..Default::default()
                    },
                )
                .await;
        }
        self.heads = heads;
    }

    async fn flush_summaries(&mut self) {
        self.summaries_due = None;
        if let Some(summary) = self.likes.take() {
            self.push_likes(summary).await;
        }
        if let Some(summary) = self.tallies.take() {
            self.push_tallies(summary).await;
        }
    }

    /// One push of held tallies, for the audience they were held for.
    async fn push_tallies(&mut self, summary: Summary<u64, ()>) {
        let tallies: Vec<Tally> = summary
            .changes
            .iter()
            .filter_map(|(id, ())| self.state.interactions.get(*id))
            .map(|i| i.tally(self.state.interactions.present))
            .collect();
        if tallies.is_empty() {
            // Unpublished meanwhile: nothing left to count.
            return;
        }
        let (epoch, seq) = (self.state.epoch, summary.seq);
        let rendered = self.render(&summary.audience, |_| {
            Some(Body::Tallies(Tallies {
                tallies: tallies.clone(),
            }))
        });
        self.send(epoch, seq, rendered).await;
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
