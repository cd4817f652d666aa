//! The registry: one actor per context id, spawned on first use and forgotten when it
//! passivates. In cluster mode it also routes: a context whose shard this node owns
//! runs here (under the shard's lease); any other is forwarded to its owner through
//! Redis, and the reply comes back. Callers never hold an actor handle across calls;
//! a command that races with passivation is retried on a freshly spawned actor.
//!
//! Layout: this file (the map of running actors, routing, the context calls), `call`
//! (one type per operation, with its answer type and its mailbox request), `wire`
//! (`internal.proto` conversions), `remote` (forwarding to owners and serving what
//! other nodes forward), `private` (private chat calls).

mod call;
mod private;
mod remote;
mod wire;

use std::sync::{Arc, Weak};

use dashmap::DashMap;
use plenary_bus::{
    Bus, EventLog,
    redis::{Fence, Ownership, RedisBus, RpcHandler, lease::OwnershipChange, shard_of},
};
use plenary_proto::v1::{HistoryOk, events::Actor};
use tracing::{debug, warn};

use crate::runtime::{Exited, Start};
use crate::telemetry::{self, ActorKind};
use crate::{
    context::{
        AdminCommand, ChatCommand, CommandOutcome, ContextConfig, ContextView, JoinAnswer,
        JoinRequest, Rejection, reactions::NodeReport, spawn,
    },
    identity::Identity,
    user::{
        PAIR_PREFIX, USER_PREFIX,
        actor::{Notice, spawn_user},
        conversation::{Messenger, spawn_pair},
        user_stream_id,
    },
};
use call::{
    Admin, Call, Card, Chat, ChatHistory, Get, Handle, ModeratorPresence, Notices, Report,
    Undelivered, asked,
};

pub use private::MAX_HISTORY_PAGE;

fn stopped() -> Rejection {
    Undelivered::Closed.rejection()
}

/// Cluster mode: who owns what, and the channel to other nodes.
#[derive(Clone, Debug)]
pub struct Cluster {
    pub ownership: Arc<Ownership>,
    pub rpc: Arc<RedisBus>,
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
                        registry.run(&user_stream_id(&user), Notices(notices)).await
                    })
                }),
                card: Arc::new(move |user: String, about: String| {
                    let registry = for_card.clone();
                    Box::pin(async move {
                        let registry = registry.upgrade().ok_or_else(stopped)?;
                        let card = Card {
                            with_peers: false,
                            about: Some(about),
                        };
                        registry.run(&user_stream_id(&user), card).await
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

    /// Runs a call on the actor of `id`, here or on its owner. A call that does not
    /// start actors ([`Call::without_actor`]) is answered at once when its actor is not
    /// running.
    async fn run<C: Call>(&self, id: &str, call: C) -> Result<C::Answer, Rejection> {
        for _ in 0..3 {
            let Some(route) = self.route_for::<C>(id) else {
                return C::without_actor().ok_or_else(stopped);
            };
            match route {
                Route::Local(handle) => {
                    let (mail, answer) = asked(call.clone());
                    match handle.send(mail, self.config.mailbox_wait).await {
                        Ok(()) => return answer.await,
                        // The actor is stopping: the next round starts its successor
                        // (which waits for it to exit), so the entry stays until then.
                        Err(Undelivered::Closed) => {}
                        Err(why) => return Err(self.undelivered(why)),
                    }
                }
                Route::Remote(node) => return self.forward(&node, id, call).await,
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

    /// The refusal for a request that did not reach a mailbox, counted when it was full.
    fn undelivered(&self, why: Undelivered) -> Rejection {
        if matches!(why, Undelivered::Full) {
            telemetry::mailbox_full();
        }
        why.rejection()
    }

    /// Joins a context: a snapshot, or the pushes missed since a position (see
    /// [`JoinAnswer`]).
    pub async fn join(&self, context_id: &str, join: JoinRequest) -> Result<JoinAnswer, Rejection> {
        self.run(context_id, join).await
    }

    /// Runs a chat command.
    pub async fn chat(
        &self,
        context_id: &str,
        identity: Arc<Identity>,
        command: ChatCommand,
    ) -> Result<CommandOutcome, Rejection> {
        self.run(context_id, Chat { identity, command }).await
    }

    /// Runs an admin command.
    pub async fn admin(
        &self,
        context_id: &str,
        actor: Actor,
        command: AdminCommand,
    ) -> Result<ContextView, Rejection> {
        self.run(context_id, Admin { actor, command }).await
    }

    /// A page of a context's group chat (or, for its moderators, backchannel; or a Q&A
    /// thread, for its attendee and the moderators) older
    /// than `before_id` (0: the newest), at most `limit` messages (1 to 100).
    pub async fn chat_history(
        &self,
        context_id: &str,
        identity: Arc<Identity>,
        (before_id, limit, backchannel, thread_id): (u64, usize, bool, u64),
    ) -> Result<HistoryOk, Rejection> {
        let call = ChatHistory {
            identity,
            before_id,
            limit: limit.clamp(1, MAX_HISTORY_PAGE),
            backchannel,
            thread_id,
        };
        self.run(context_id, call).await
    }

    /// Reads a context's settings and position.
    pub async fn get(&self, context_id: &str) -> Result<ContextView, Rejection> {
        self.run(context_id, Get).await
    }

    /// Tells a context that a moderator's connection is still there (`present`) or left
    /// it, for the Q&A auto-release. Fire and forget; only an actor already running is
    /// told (a fresh one learns from the next reports), so this never starts one.
    pub fn moderator_presence(&self, context_id: &str, user_id: &str, present: bool) {
        let call = ModeratorPresence {
            user_id: user_id.to_owned(),
            present,
        };
        self.tell(context_id, call);
    }

    /// Tells a context what this node saw of it since the last report: reactions and
    /// attendees; the report's `node` is filled in here. Fire and forget. With
    /// reactions it starts the actor if need be (and is dropped when that fails: the
    /// clicks of one window); attendee counts alone go to a running actor only
    /// ([`Self::tell`]).
    pub fn node_report(&self, context_id: &str, mut report: NodeReport) {
        report.node = match &self.cluster {
            Some(cluster) => cluster.ownership.node_id().to_owned(),
            None => String::new(),
        };
        if !report.has_reactions() {
            self.tell(context_id, Report::<false>(report));
            return;
        }
        // A running local actor without a task; one that is stopping (passivation)
        // gets its successor started by `run`.
        if let Some(Route::Local(handle)) = self.route_running(context_id) {
            let (mail, _) = asked(Report::<true>(report.clone()));
            match handle.try_send(mail) {
                Err(Undelivered::Closed) => {}
                Err(why) => return drop(self.undelivered(why)),
                Ok(()) => return,
            }
        }
        let Some(registry) = self.me.upgrade() else {
            return;
        };
        let context_id = context_id.to_owned();
        tokio::spawn(async move {
            if let Err(why) = registry.run(&context_id, Report::<true>(report)).await {
                debug!(context_id, %why, "a window of reactions was dropped");
            }
        });
    }

    /// Sends a call that needs no answer to a running actor only, here or on its
    /// owner, without waiting: a full mailbox drops it.
    fn tell<C: Call<Answer = ()>>(&self, context_id: &str, call: C) {
        match self.route_running(context_id) {
            Some(Route::Local(handle)) => {
                let (mail, _) = asked(call);
                let _ = handle.try_send(mail);
            }
            Some(Route::Remote(node)) => {
                let Some(registry) = self.me.upgrade() else {
                    return;
                };
                let context_id = context_id.to_owned();
                tokio::spawn(async move {
                    let _ = registry.forward(&node, &context_id, call).await;
                });
            }
            Some(Route::Unowned(_)) | None => {}
        }
    }

    /// Where a call runs: `None` when it is meant for a running actor only and there
    /// is none.
    fn route_for<C: Call>(&self, id: &str) -> Option<Route> {
        match C::without_actor() {
            None => Some(self.route(id)),
            Some(_) => self.route_running(id),
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

#[cfg(test)]
mod tests;
