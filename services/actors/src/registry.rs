//! The registry: one actor per context id, spawned on first use and forgotten when it
//! passivates. In cluster mode it also routes: a context whose shard this node owns
//! runs here (under the shard's lease); any other is forwarded to its owner through
//! Redis, and the reply comes back. Callers never hold an actor handle across calls;
//! a command that races with passivation is retried on a freshly spawned actor.

use std::{
    future::Future,
    pin::Pin,
    sync::{Arc, Weak},
};

use dashmap::DashMap;
use plenary_bus::{
    Bus, BusError, EventLog,
    redis::{Fence, Ownership, RedisBus, RpcHandler, lease::OwnershipChange, shard_of},
};
use plenary_proto::v1::{DirectHistoryOk, JoinOk, Position, PrivateOk, events::Actor};
use serde::{Deserialize, Serialize};
use tokio::sync::{
    mpsc::{self, error::SendTimeoutError, error::TrySendError},
    oneshot,
};
use tracing::{debug, warn};

use crate::runtime::{Exited, Start};
use crate::telemetry::{self, ActorKind};
use crate::{
    context::{
        AdminCommand, ChatCommand, CommandOutcome, ContextConfig, ContextHandle, ContextView,
        JoinRequest, Rejection, Request, spawn,
    },
    identity::Identity,
    user::{
        PAIR_PREFIX, PairCommand, Party, SettingsPatch, USER_PREFIX, UserCard,
        actor::{Notice, PrivateRequest, spawn_user},
        conversation::{Messenger, spawn_pair},
        inbox::display_name,
        pair_stream_id, user_stream_id,
    },
};

/// Cluster mode: who owns what, and the channel to other nodes.
#[derive(Clone, Debug)]
pub struct Cluster {
    pub ownership: Arc<Ownership>,
    pub rpc: Arc<RedisBus>,
}

/// An operation on a context, as run locally or forwarded to the owner.
#[derive(Clone, Debug, Serialize, Deserialize)]
enum Op {
    Join {
        identity: Arc<Identity>,
        since: Option<Position>,
        /// Absent from nodes that predate it, which always created.
        #[serde(default = "may_create")]
        create: bool,
    },
    Chat {
        identity: Arc<Identity>,
        command: ChatCommand,
    },
    Admin {
        actor: Actor,
        command: AdminCommand,
    },
    Get,
    /// A moderator's connection reports it is (or is no longer) in the
    /// context; drives automatic release of claims.
    ModeratorPresence {
        user_id: String,
        present: bool,
    },
    /// Private chat: a device opens its user's stream.
    PrivateOpen {
        identity: Arc<Identity>,
        since: Option<Position>,
    },
    Settings {
        patch: SettingsPatch,
    },
    Card {
        with_peers: bool,
        about: Option<String>,
    },
    /// One user's notices from a conversation, in order.
    Notices {
        notices: Vec<Notice>,
    },
    Pair {
        me: Party,
        peer: Party,
        command: PairCommand,
    },
    History {
        viewer: String,
        before_id: u64,
        limit: usize,
    },
}

/// What an operation returns.
#[derive(Debug, Serialize, Deserialize)]
enum OpResult {
    Join(Box<JoinOk>),
    Outcome(CommandOutcome),
    View(ContextView),
    Private(Box<PrivateOk>),
    Card(UserCard),
    History(DirectHistoryOk),
    Noticed,
}

/// A forwarded operation.
#[derive(Debug, Serialize, Deserialize)]
struct Forwarded {
    context_id: String,
    op: Op,
}

type Reply = Pin<Box<dyn Future<Output = Result<OpResult, Rejection>> + Send>>;

fn may_create() -> bool {
    true
}

fn stopped() -> Rejection {
    Rejection::Unavailable("context actor stopped; retry".into())
}

/// A mailbox request for a context actor or a private (user, conversation) actor.
enum Mail {
    Context(Request),
    Private(PrivateRequest),
}

/// A mailbox request made with a fresh reply channel, and the future of its answer.
fn asked<T: Send + 'static>(
    make: impl FnOnce(oneshot::Sender<Result<T, Rejection>>) -> Mail,
    wrap: impl FnOnce(T) -> OpResult + Send + 'static,
) -> (Mail, Reply) {
    let (reply, rx) = oneshot::channel();
    (
        make(reply),
        Box::pin(async move {
            rx.await
                .unwrap_or_else(|_| {
                    Err(Rejection::OutcomeUnknown(
                        "the actor stopped before answering; retry".into(),
                    ))
                })
                .map(wrap)
        }),
    )
}

/// Turns an operation into a mailbox request and the future of its answer.
fn request_for(op: Op) -> (Mail, Reply) {
    use Mail::{Context as C, Private as P};
    match op {
        Op::Join {
            identity,
            since,
            create,
        } => asked(
            |reply| {
                C(Request::Join {
                    join: JoinRequest {
                        identity,
                        since,
                        create,
                    },
                    reply,
                })
            },
            |j| OpResult::Join(Box::new(j)),
        ),
        Op::Chat { identity, command } => asked(
            |reply| {
                C(Request::Chat {
                    identity,
                    command,
                    reply,
                })
            },
            OpResult::Outcome,
        ),
        Op::Admin { actor, command } => asked(
            |reply| {
                C(Request::Admin {
                    actor,
                    command,
                    reply,
                })
            },
            OpResult::View,
        ),
        Op::Get => asked(|reply| C(Request::Get { reply }), OpResult::View),
        // Fire and forget: nothing answers.
        Op::ModeratorPresence { user_id, present } => (
            C(Request::ModeratorPresence { user_id, present }),
            Box::pin(async { Ok(OpResult::Outcome(CommandOutcome::Done { seq: 0 })) }),
        ),
        Op::PrivateOpen { identity, since } => asked(
            |reply| {
                P(PrivateRequest::Open {
                    identity,
                    since,
                    reply,
                })
            },
            |ok| OpResult::Private(Box::new(ok)),
        ),
        Op::Settings { patch } => asked(
            |reply| P(PrivateRequest::Settings { patch, reply }),
            OpResult::Outcome,
        ),
        Op::Card { with_peers, about } => asked(
            |reply| {
                P(PrivateRequest::Card {
                    with_peers,
                    about,
                    reply,
                })
            },
            OpResult::Card,
        ),
        Op::Notices { notices } => asked(
            |reply| P(PrivateRequest::Notices { notices, reply }),
            |()| OpResult::Noticed,
        ),
        Op::Pair { me, peer, command } => asked(
            |reply| {
                P(PrivateRequest::Pair {
                    op: Box::new((me, peer, command)),
                    reply,
                })
            },
            OpResult::Outcome,
        ),
        Op::History {
            viewer,
            before_id,
            limit,
        } => asked(
            |reply| {
                P(PrivateRequest::History {
                    viewer,
                    before_id,
                    limit,
                    reply,
                })
            },
            OpResult::History,
        ),
    }
}

/// The mailbox of a running actor.
#[derive(Clone, Debug)]
enum Handle {
    Context(ContextHandle),
    Private(mpsc::Sender<PrivateRequest>),
}

/// Why a request did not reach an actor's mailbox.
enum Undelivered {
    Closed,
    Full,
    /// A context operation for a private stream or the other way round.
    WrongKind,
}

impl Handle {
    fn is_closed(&self) -> bool {
        match self {
            Handle::Context(h) => h.tx.is_closed(),
            Handle::Private(tx) => tx.is_closed(),
        }
    }

    /// Queues a request, waiting up to `wait` for room.
    async fn send(&self, mail: Mail, wait: std::time::Duration) -> Result<(), Undelivered> {
        fn map<T>(e: SendTimeoutError<T>) -> Undelivered {
            match e {
                SendTimeoutError::Closed(_) => Undelivered::Closed,
                SendTimeoutError::Timeout(_) => Undelivered::Full,
            }
        }
        match (self, mail) {
            (Handle::Context(h), Mail::Context(r)) => h.tx.send_timeout(r, wait).await.map_err(map),
            (Handle::Private(tx), Mail::Private(r)) => tx.send_timeout(r, wait).await.map_err(map),
            _ => Err(Undelivered::WrongKind),
        }
    }

    /// Queues a request now or not at all.
    fn try_send(&self, mail: Mail) -> Result<(), Undelivered> {
        fn map<T>(e: TrySendError<T>) -> Undelivered {
            match e {
                TrySendError::Closed(_) => Undelivered::Closed,
                TrySendError::Full(_) => Undelivered::Full,
            }
        }
        match (self, mail) {
            (Handle::Context(h), Mail::Context(r)) => h.tx.try_send(r).map_err(map),
            (Handle::Private(tx), Mail::Private(r)) => tx.try_send(r).map_err(map),
            _ => Err(Undelivered::WrongKind),
        }
    }
}

#[derive(Debug)]
struct Entry {
    handle: Handle,
    fence: Option<Fence>,
    /// Resolves when the actor has exited (its successor waits for that).
    exited: Exited,
}

/// Where an operation runs.
enum Route {
    Local(Handle),
    Remote(String),
    Unowned(u32),
}

/// Every live context actor on this node, and the routing to other nodes.
#[derive(Debug)]
pub struct ContextRegistry {
    actors: DashMap<Arc<str>, Entry>,
    config: Arc<ContextConfig>,
    log: EventLog,
    bus: Bus,
    cluster: Option<Cluster>,
    me: Weak<ContextRegistry>,
    /// Users whose conversations are being told of a new name; `true` when the name
    /// changed again meanwhile (the running refresh goes round once more).
    refreshing: DashMap<String, bool>,
}

impl ContextRegistry {
    /// An embedded-mode registry: every context runs here.
    pub fn new(config: ContextConfig, log: EventLog, bus: Bus) -> Arc<Self> {
        Self::build(config, log, bus, None)
    }

    /// A cluster-mode registry: contexts run on their shard's owner. Forwarded commands
    /// from other nodes arrive through `cluster.rpc`.
    pub fn clustered(
        config: ContextConfig,
        log: EventLog,
        bus: Bus,
        cluster: Cluster,
    ) -> Arc<Self> {
        let registry = Self::build(config, log, bus, Some(cluster.clone()));
        let handler: Weak<dyn RpcHandler> = Arc::downgrade(&registry) as Weak<dyn RpcHandler>;
        cluster.rpc.set_rpc_handler(handler);
        let weak = Arc::downgrade(&registry);
        let mut changes = cluster.ownership.changes();
        let shards = cluster.ownership.shards();
        tokio::spawn(async move {
            loop {
                let change = changes.recv().await;
                let Some(registry) = weak.upgrade() else {
                    return;
                };
                match change {
                    Ok(OwnershipChange::Lost(shard)) => {
                        registry
                            .actors
                            .retain(|id, _| shard_of(id, shards) != shard);
                    }
                    Ok(OwnershipChange::Gained(_)) => {}
                    Ok(OwnershipChange::RedisEmptied) | Err(_) => registry.actors.clear(),
                }
            }
        });
        registry
    }

    fn build(
        config: ContextConfig,
        log: EventLog,
        bus: Bus,
        cluster: Option<Cluster>,
    ) -> Arc<Self> {
        Arc::new_cyclic(|me| ContextRegistry {
            actors: DashMap::new(),
            config: Arc::new(config),
            log,
            bus,
            cluster,
            me: me.clone(),
            refreshing: DashMap::new(),
        })
    }

    /// The bus the actors publish on.
    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    /// Actors (context, user and conversation) this node holds in memory.
    pub fn actors_in_memory(&self) -> usize {
        self.actors.len()
    }

    fn local(&self, id: &str, fence: Option<Fence>) -> Handle {
        if let Some(entry) = self.actors.get(id)
            && entry.fence == fence
            && !entry.handle.is_closed()
        {
            return entry.handle.clone();
        }
        let key: Arc<str> = Arc::from(id);
        let mut entry = self
            .actors
            .entry(key.clone())
            .or_insert_with(|| self.spawn_entry(key.clone(), fence.clone(), Exited::default()));
        if entry.fence != fence || entry.handle.is_closed() {
            // The stopping actor may still be committing what was queued before its
            // mailbox closed: its successor loads only once it has exited.
            let predecessor = entry.exited.clone();
            *entry = self.spawn_entry(key, fence, predecessor);
        }
        entry.handle.clone()
    }

    fn spawn_entry(&self, key: Arc<str>, fence: Option<Fence>, predecessor: Exited) -> Entry {
        let registry = self.me.clone();
        let exiting = key.clone();
        let (running, exited) = Exited::pair();
        let on_exit = move || {
            drop(running);
            if let Some(registry) = registry.upgrade() {
                registry
                    .actors
                    .remove_if(&exiting, |_, e| e.handle.is_closed());
                shrink_if_sparse(&registry.actors);
            }
        };
        let user = key.strip_prefix(USER_PREFIX).map(unescape);
        let pair = key.strip_prefix(PAIR_PREFIX).map(|pair| {
            let (a, b) = pair.split_once('/').unwrap_or((pair, ""));
            (unescape(a), unescape(b))
        });
        let start = Start {
            id: key,
            config: self.config.clone(),
            log: self.log.clone(),
            fence: fence.clone(),
            predecessor,
            on_exit: Box::new(on_exit),
        };
        let handle = if let Some(user) = user {
            telemetry::actor_started(ActorKind::User);
            Handle::Private(spawn_user(start, user, self.bus.clone()))
        } else if let Some((a, b)) = pair {
            telemetry::actor_started(ActorKind::Conversation);
            let (for_deliver, for_card, for_revive) =
                (self.me.clone(), self.me.clone(), self.me.clone());
            let (user_a, user_b) = (a.clone(), b.clone());
            let messenger = Messenger {
                deliver: Arc::new(move |notices: Vec<Notice>| {
                    let registry = for_deliver.clone();
                    Box::pin(async move {
                        let registry = registry.upgrade().ok_or_else(stopped)?;
                        let Some(user) = notices.first().map(|n| n.user_id.clone()) else {
                            return Ok(());
                        };
                        let op = Op::Notices { notices };
                        registry.run(&user_stream_id(&user), op).await.map(drop)
                    })
                }),
                card: Arc::new(move |user: String, about: String| {
                    let registry = for_card.clone();
                    Box::pin(async move {
                        let registry = registry.upgrade().ok_or_else(stopped)?;
                        let op = Op::Card {
                            with_peers: false,
                            about: Some(about),
                        };
                        match registry.run(&user_stream_id(&user), op).await? {
                            OpResult::Card(card) => Ok(card),
                            other => Err(unexpected(other)),
                        }
                    })
                }),
                revive: Arc::new(move || {
                    let registry = for_revive.clone();
                    let (a, b) = (user_a.clone(), user_b.clone());
                    tokio::spawn(revive_conversation(registry, a, b));
                }),
            };
            Handle::Private(spawn_pair(start, a, b, messenger))
        } else {
            telemetry::actor_started(ActorKind::Context);
            Handle::Context(spawn(start, self.bus.clone()))
        };
        Entry {
            handle,
            fence,
            exited,
        }
    }

    fn route(&self, id: &str) -> Route {
        let Some(cluster) = &self.cluster else {
            return Route::Local(self.local(id, None));
        };
        let shard = shard_of(id, cluster.ownership.shards());
        if let Some(fence) = cluster.ownership.fence_for(shard) {
            return Route::Local(self.local(id, Some(fence)));
        }
        match cluster.ownership.owner_of(shard) {
            Some(owner)
                if owner.node != cluster.ownership.node_id()
                    && !cluster.ownership.is_suspect(&owner.node) =>
            {
                Route::Remote(owner.node)
            }
            _ => Route::Unowned(shard),
        }
    }

    async fn run(&self, id: &str, op: Op) -> Result<OpResult, Rejection> {
        for _ in 0..3 {
            match self.route(id) {
                Route::Local(handle) => {
                    let (request, reply) = request_for(op.clone());
                    match handle.send(request, self.config.mailbox_wait).await {
                        Ok(()) => return reply.await,
                        // The actor is stopping: the next round starts its successor
                        // (which waits for it to exit), so the entry stays until then.
                        Err(Undelivered::Closed) => {}
                        Err(Undelivered::Full) => {
                            telemetry::mailbox_full();
                            return Err(Rejection::Unavailable(
                                "context is overloaded; retry".into(),
                            ));
                        }
                        Err(Undelivered::WrongKind) => return Err(wrong_kind()),
                    }
                }
                Route::Remote(node) => return self.forward(&node, id, op).await,
                Route::Unowned(shard) => {
                    return Err(Rejection::Unavailable(format!(
                        "shard {shard} is changing owner; retry"
                    )));
                }
            }
        }
        Err(Rejection::Unavailable(
            "context actor is restarting; retry".into(),
        ))
    }

    async fn forward(&self, node: &str, id: &str, op: Op) -> Result<OpResult, Rejection> {
        let Some(cluster) = &self.cluster else {
            return Err(Rejection::Unavailable("not in cluster mode".into()));
        };
        let body = serde_json::to_vec(&Forwarded {
            context_id: id.to_owned(),
            op,
        })
        .map_err(|e| Rejection::Unavailable(format!("cannot encode a forwarded command: {e}")))?;
        telemetry::command_forwarded(node);
        let reply = cluster.rpc.call(node, body).await.map_err(|e| match e {
            // It went out: the owner may have run it before it stopped answering.
            BusError::NoAnswer(_) => Rejection::OutcomeUnknown(format!("{e}; retry")),
            _ => Rejection::Unavailable(format!("{e}; retry")),
        })?;
        serde_json::from_slice::<Result<OpResult, Rejection>>(&reply)
            .map_err(|e| Rejection::Unavailable(format!("unreadable reply from {node}: {e}")))?
    }

    /// Joins a context: a snapshot, or the events missed since a position.
    pub async fn join(&self, context_id: &str, join: JoinRequest) -> Result<JoinOk, Rejection> {
        let op = Op::Join {
            identity: join.identity,
            since: join.since,
            create: join.create,
        };
        match self.run(context_id, op).await? {
            OpResult::Join(ok) => Ok(*ok),
            other => Err(unexpected(other)),
        }
    }

    /// Runs a chat command.
    pub async fn chat(
        &self,
        context_id: &str,
        identity: Arc<Identity>,
        command: ChatCommand,
    ) -> Result<CommandOutcome, Rejection> {
        let op = Op::Chat { identity, command };
        match self.run(context_id, op).await? {
            OpResult::Outcome(o) => Ok(o),
            other => Err(unexpected(other)),
        }
    }

    /// Runs an admin command.
    pub async fn admin(
        &self,
        context_id: &str,
        actor: Actor,
        command: AdminCommand,
    ) -> Result<ContextView, Rejection> {
        match self.run(context_id, Op::Admin { actor, command }).await? {
            OpResult::View(v) => Ok(v),
            other => Err(unexpected(other)),
        }
    }

    /// Tells a context that a moderator's connection is still there (`present`) or left
    /// it, for the Q&A auto-release. Fire and forget; only an actor already running is
    /// told (a fresh one learns from the next reports), so this never starts one.
    pub fn moderator_presence(&self, context_id: &str, user_id: &str, present: bool) {
        let op = Op::ModeratorPresence {
            user_id: user_id.to_owned(),
            present,
        };
        match self.route_running(context_id) {
            Some(Route::Local(handle)) => {
                let (request, _) = request_for(op);
                let _ = handle.try_send(request);
            }
            Some(Route::Remote(node)) => {
                let Some(registry) = self.me.upgrade() else {
                    return;
                };
                let context_id = context_id.to_owned();
                tokio::spawn(async move {
                    let _ = registry.forward(&node, &context_id, op).await;
                });
            }
            Some(Route::Unowned(_)) | None => {}
        }
    }

    /// Like `route`, but never starts a local actor: `None` when it is not running.
    fn route_running(&self, id: &str) -> Option<Route> {
        let fence = match &self.cluster {
            None => None,
            Some(cluster) => {
                let shard = shard_of(id, cluster.ownership.shards());
                match cluster.ownership.fence_for(shard) {
                    Some(fence) => Some(fence),
                    None => return Some(self.route(id)),
                }
            }
        };
        let entry = self.actors.get(id)?;
        (entry.fence == fence && !entry.handle.is_closed())
            .then(|| Route::Local(entry.handle.clone()))
    }

    /// Reads a context's settings and position.
    pub async fn get(&self, context_id: &str) -> Result<ContextView, Rejection> {
        match self.run(context_id, Op::Get).await? {
            OpResult::View(v) => Ok(v),
            other => Err(unexpected(other)),
        }
    }
}

/// Gives a map's room back once three quarters of it stand empty (after a wave of
/// actors passivated): its table never shrinks by itself. Rarely true, so cheap to ask
/// whenever an actor stops.
fn shrink_if_sparse<K: Eq + std::hash::Hash, V>(map: &DashMap<K, V>) {
    const SMALL: usize = 64;
    let capacity = map.capacity();
    if capacity > SMALL && map.len() * 4 < capacity {
        map.shrink_to_fit();
    }
}

fn unexpected(result: OpResult) -> Rejection {
    Rejection::Unavailable(format!("unexpected answer {result:?}"))
}

fn wrong_kind() -> Rejection {
    Rejection::BadRequest("this id belongs to another kind of stream".into())
}

/// Starts a conversation that stopped because a user could not be told of a change:
/// starting catches that user up. Tries with back-off (2 s doubling to a minute, about
/// a quarter of an hour in all) until a start succeeds.
async fn revive_conversation(registry: Weak<ContextRegistry>, a: String, b: String) {
    let mut wait = std::time::Duration::from_secs(2);
    for _ in 0..20 {
        tokio::time::sleep(wait).await;
        let Some(registry) = registry.upgrade() else {
            return;
        };
        match registry.history(&a, &b, 0, 1).await {
            Ok(_) => return,
            Err(e) => debug!(error = %e, "a conversation could not start yet to catch up"),
        }
        wait = (wait * 2).min(std::time::Duration::from_secs(60));
    }
    warn!(%a, %b, "a conversation could not catch its users up; it will when next used");
}

/// Undoes [`crate::user::pair::escape`].
fn unescape(user: &str) -> String {
    user.replace("%2F", "/").replace("%25", "%")
}

/// Most messages in one page of private history.
pub const MAX_HISTORY_PAGE: usize = 100;

/// Private chat.
impl ContextRegistry {
    /// Opens a user's private stream: a snapshot, or the pushes missed since a
    /// position. Records the profile the identity shows.
    pub async fn private_open(
        &self,
        identity: Arc<Identity>,
        since: Option<Position>,
    ) -> Result<PrivateOk, Rejection> {
        let stream = user_stream_id(&identity.user_id);
        match self
            .run(&stream, Op::PrivateOpen { identity, since })
            .await?
        {
            OpResult::Private(ok) => Ok(*ok),
            other => Err(unexpected(other)),
        }
    }

    /// Changes a user's settings; every device of the user gets them pushed.
    pub async fn update_settings(
        &self,
        user_id: &str,
        patch: SettingsPatch,
    ) -> Result<CommandOutcome, Rejection> {
        let renamed = patch.show_last_name.is_some();
        let outcome = match self
            .run(&user_stream_id(user_id), Op::Settings { patch })
            .await?
        {
            OpResult::Outcome(o) => o,
            other => return Err(unexpected(other)),
        };
        if renamed && outcome != (CommandOutcome::Done { seq: 0 }) {
            self.refresh_peers(user_id);
        }
        Ok(outcome)
    }

    /// The user's name changed: every conversation of theirs tells both sides, so
    /// their peers see the new name at once. In the background, one conversation at a
    /// time, and one refresh per user at a time: changes while it runs make it go
    /// round once more, however many there were.
    fn refresh_peers(&self, user_id: &str) {
        let Some(registry) = self.me.upgrade() else {
            return;
        };
        match self.refreshing.entry(user_id.to_owned()) {
            dashmap::Entry::Occupied(mut again) => {
                *again.get_mut() = true;
                return;
            }
            dashmap::Entry::Vacant(slot) => {
                slot.insert(false);
            }
        }
        let user_id = user_id.to_owned();
        tokio::spawn(async move {
            loop {
                registry.refresh_once(&user_id).await;
                // Done unless the name changed again meanwhile.
                let finished = registry.refreshing.remove_if(&user_id, |_, again| !*again);
                if finished.is_some() {
                    return;
                }
                if let Some(mut again) = registry.refreshing.get_mut(&user_id) {
                    *again = false;
                }
            }
        });
    }

    async fn refresh_once(&self, user_id: &str) {
        let Ok(card) = self.user_card(user_id, true).await else {
            return;
        };
        let identity = Identity {
            user_id: user_id.to_owned(),
            ..Identity::default()
        };
        for peer in card.statuses.keys() {
            if let Err(e) = self
                .pair_command(&identity, peer, None, PairCommand::Refresh)
                .await
            {
                debug!(error = %e, %peer, "refreshing a conversation's names failed");
            }
        }
    }

    /// A user as others see them (and, with `with_peers`, their peers' statuses).
    pub async fn user_card(&self, user_id: &str, with_peers: bool) -> Result<UserCard, Rejection> {
        match self
            .run(
                &user_stream_id(user_id),
                Op::Card {
                    with_peers,
                    about: None,
                },
            )
            .await?
        {
            OpResult::Card(card) => Ok(card),
            other => Err(unexpected(other)),
        }
    }

    /// Runs a command of `identity` on the conversation with `peer_id`. Both users'
    /// cards are read first (settings apply at once); a peer who never opened private
    /// chat is known by `peer_hint` (given and family name from a shared context) or
    /// not at all.
    pub async fn pair_command(
        &self,
        identity: &Identity,
        peer_id: &str,
        peer_hint: Option<(String, String)>,
        command: PairCommand,
    ) -> Result<CommandOutcome, Rejection> {
        let (me, peer) = tokio::join!(
            self.user_card(&identity.user_id, false),
            self.user_card(peer_id, false)
        );
        let (me_card, mut peer) = (me?, peer?);
        let mut me = me_card.party;
        if !me_card.known {
            // Not opened yet on any device: the token's names, if it has any. An empty
            // name leaves the conversation's record of it as it was.
            let named = !(identity.given_name.is_empty() && identity.family_name.is_empty());
            me.name = if named {
                display_name(
                    &identity.user_id,
                    &identity.given_name,
                    &identity.family_name,
                    true,
                )
            } else {
                String::new()
            };
        }
        if !peer.known {
            peer.party.name = match peer_hint {
                Some((given, family)) => display_name(peer_id, &given, &family, true),
                None if command
                    == PairCommand::Connection(crate::user::ConnectionAction::Request) =>
                {
                    return Err(Rejection::NotFound("user".into()));
                }
                None => String::new(),
            };
        }
        let op = Op::Pair {
            me,
            peer: peer.party,
            command,
        };
        match self
            .run(&pair_stream_id(&identity.user_id, peer_id), op)
            .await?
        {
            OpResult::Outcome(o) => Ok(o),
            other => Err(unexpected(other)),
        }
    }

    /// A page of the conversation between `viewer` and `peer_id`.
    pub async fn history(
        &self,
        viewer: &str,
        peer_id: &str,
        before_id: u64,
        limit: usize,
    ) -> Result<DirectHistoryOk, Rejection> {
        let op = Op::History {
            viewer: viewer.to_owned(),
            before_id,
            limit: limit.clamp(1, MAX_HISTORY_PAGE),
        };
        match self.run(&pair_stream_id(viewer, peer_id), op).await? {
            OpResult::History(h) => Ok(h),
            other => Err(unexpected(other)),
        }
    }
}

impl RpcHandler for ContextRegistry {
    /// A command forwarded by another node: queued in arrival order, answered when done.
    fn handle(&self, from: String, id: u64, body: Vec<u8>) {
        let Some(cluster) = self.cluster.clone() else {
            return;
        };
        let answer = move |result: Result<OpResult, Rejection>| {
            let bytes = serde_json::to_vec(&result).unwrap_or_default();
            cluster.rpc.reply(&from, id, &bytes);
        };
        let forwarded: Forwarded = match serde_json::from_slice(&body) {
            Ok(f) => f,
            Err(e) => {
                warn!(error = %e, "unreadable forwarded command");
                return answer(Err(Rejection::BadRequest(
                    "unreadable forwarded command".into(),
                )));
            }
        };
        let route = if matches!(forwarded.op, Op::ModeratorPresence { .. }) {
            match self.route_running(&forwarded.context_id) {
                Some(route) => route,
                None => return answer(Ok(OpResult::Outcome(CommandOutcome::Done { seq: 0 }))),
            }
        } else {
            self.route(&forwarded.context_id)
        };
        let handle = match route {
            Route::Local(handle) => handle,
            Route::Remote(_) | Route::Unowned(_) => {
                debug!(context_id = %forwarded.context_id, "forwarded to a node that no longer owns it");
                return answer(Err(Rejection::Unavailable(
                    "context is moving between nodes; retry".into(),
                )));
            }
        };
        let (request, reply) = request_for(forwarded.op);
        // Queue in arrival order or refuse at once: waiting here would let a later
        // command overtake this one, or run it after the caller gave up and retried.
        match handle.try_send(request) {
            Ok(()) => {
                tokio::spawn(async move { answer(reply.await) });
            }
            Err(Undelivered::Full) => {
                telemetry::mailbox_full();
                answer(Err(Rejection::Unavailable(
                    "context is overloaded; retry".into(),
                )));
            }
            Err(Undelivered::Closed) => answer(Err(stopped())),
            Err(Undelivered::WrongKind) => answer(Err(wrong_kind())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_map_mostly_emptied_gives_its_room_back() {
        let map: DashMap<u32, u32> = DashMap::new();
        for i in 0..10_000 {
            map.insert(i, i);
        }
        let full = map.capacity();
        let third = (full / 3) as u32;
        map.retain(|k, _| *k < third);
        shrink_if_sparse(&map);
        // (Removals leave tombstones, so `capacity` already reads a little lower.)
        assert!(
            map.capacity() > 2 * map.len(),
            "a third full: kept as it is, {} of {full} kept",
            map.capacity()
        );
        map.retain(|k, _| *k < 100);
        shrink_if_sparse(&map);
        assert!(
            map.capacity() < full / 10,
            "1 % full: {} of {full} kept",
            map.capacity()
        );
        assert_eq!(map.len(), 100);
    }
}
