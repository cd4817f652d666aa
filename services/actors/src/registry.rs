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
    Bus, EventLog,
    redis::{Fence, Ownership, RedisBus, RpcHandler, lease::OwnershipChange, shard_of},
};
use plenary_proto::v1::{JoinOk, Position, events::Actor};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc::error::SendTimeoutError, mpsc::error::TrySendError, oneshot};
use tracing::{debug, warn};

use crate::{
    context::{
        AdminCommand, ChatCommand, CommandOutcome, ContextConfig, ContextHandle, ContextView,
        JoinRequest, Rejection, Request, spawn,
    },
    identity::Identity,
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
}

/// What an operation returns.
#[derive(Debug, Serialize, Deserialize)]
enum OpResult {
    Join(Box<JoinOk>),
    Outcome(CommandOutcome),
    View(ContextView),
}

/// A forwarded operation.
#[derive(Debug, Serialize, Deserialize)]
struct Forwarded {
    context_id: String,
    op: Op,
}

type Reply = Pin<Box<dyn Future<Output = Result<OpResult, Rejection>> + Send>>;

fn stopped() -> Rejection {
    Rejection::Unavailable("context actor stopped; retry".into())
}

/// Turns an operation into a mailbox request and the future of its answer.
fn request_for(op: Op) -> (Request, Reply) {
    match op {
        Op::Join { identity, since } => {
            let (reply, rx) = oneshot::channel();
            let join = JoinRequest { identity, since };
            (
                Request::Join { join, reply },
                Box::pin(async move {
                    rx.await
                        .unwrap_or_else(|_| Err(stopped()))
                        .map(|j| OpResult::Join(Box::new(j)))
                }),
            )
        }
        Op::Chat { identity, command } => {
            let (reply, rx) = oneshot::channel();
            (
                Request::Chat {
                    identity,
                    command,
                    reply,
                },
                Box::pin(async move {
                    rx.await
                        .unwrap_or_else(|_| Err(stopped()))
                        .map(OpResult::Outcome)
                }),
            )
        }
        Op::Admin { actor, command } => {
            let (reply, rx) = oneshot::channel();
            (
                Request::Admin {
                    actor,
                    command,
                    reply,
                },
                Box::pin(async move {
                    rx.await
                        .unwrap_or_else(|_| Err(stopped()))
                        .map(OpResult::View)
                }),
            )
        }
        Op::Get => {
            let (reply, rx) = oneshot::channel();
            (
                Request::Get { reply },
                Box::pin(async move {
                    rx.await
                        .unwrap_or_else(|_| Err(stopped()))
                        .map(OpResult::View)
                }),
            )
        }
        Op::ModeratorPresence { user_id, present } => (
            Request::ModeratorPresence { user_id, present },
            Box::pin(async { Ok(OpResult::Outcome(CommandOutcome::Done { seq: 0 })) }),
        ),
    }
}

#[derive(Debug)]
struct Entry {
    handle: ContextHandle,
    fence: Option<Fence>,
}

/// Where an operation runs.
enum Route {
    Local(ContextHandle),
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
        })
    }

    /// The bus the actors publish on.
    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    fn local(&self, id: &str, fence: Option<Fence>) -> ContextHandle {
        if let Some(entry) = self.actors.get(id)
            && entry.fence == fence
            && !entry.handle.tx.is_closed()
        {
            return entry.handle.clone();
        }
        let key: Arc<str> = Arc::from(id);
        let mut entry = self
            .actors
            .entry(key.clone())
            .or_insert_with(|| self.spawn_entry(key.clone(), fence.clone()));
        if entry.fence != fence || entry.handle.tx.is_closed() {
            *entry = self.spawn_entry(key, fence);
        }
        entry.handle.clone()
    }

    fn spawn_entry(&self, key: Arc<str>, fence: Option<Fence>) -> Entry {
        let registry = self.me.clone();
        let exiting = key.clone();
        let handle = spawn(
            key,
            self.config.clone(),
            self.log.clone(),
            self.bus.clone(),
            fence.clone(),
            move || {
                if let Some(registry) = registry.upgrade() {
                    registry
                        .actors
                        .remove_if(&exiting, |_, e| e.handle.tx.is_closed());
                }
            },
        );
        metrics::counter!("plenary_context_actors_started_total").increment(1);
        Entry { handle, fence }
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
                    match handle
                        .tx
                        .send_timeout(request, self.config.mailbox_wait)
                        .await
                    {
                        Ok(()) => return reply.await,
                        Err(SendTimeoutError::Closed(_)) => {
                            self.actors
                                .remove_if(id, |_, e| e.handle.tx.same_channel(&handle.tx));
                        }
                        Err(SendTimeoutError::Timeout(_)) => {
                            metrics::counter!("plenary_mailbox_full_total").increment(1);
                            return Err(Rejection::Unavailable(
                                "context is overloaded; retry".into(),
                            ));
                        }
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
        metrics::counter!("plenary_commands_forwarded_total").increment(1);
        let reply = cluster
            .rpc
            .call(node, body)
            .await
            .map_err(|e| Rejection::Unavailable(format!("{e}; retry")))?;
        serde_json::from_slice::<Result<OpResult, Rejection>>(&reply)
            .map_err(|e| Rejection::Unavailable(format!("unreadable reply from {node}: {e}")))?
    }

    /// Joins a context: a snapshot, or the events missed since a position.
    pub async fn join(&self, context_id: &str, join: JoinRequest) -> Result<JoinOk, Rejection> {
        let op = Op::Join {
            identity: join.identity,
            since: join.since,
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
                let _ = handle.tx.try_send(request);
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
        (entry.fence == fence && !entry.handle.tx.is_closed())
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

fn unexpected(result: OpResult) -> Rejection {
    Rejection::Unavailable(format!("unexpected answer {result:?}"))
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
        match handle.tx.try_send(request) {
            Ok(()) => {
                tokio::spawn(async move { answer(reply.await) });
            }
            Err(TrySendError::Full(_)) => {
                metrics::counter!("plenary_mailbox_full_total").increment(1);
                answer(Err(Rejection::Unavailable(
                    "context is overloaded; retry".into(),
                )));
            }
            Err(TrySendError::Closed(_)) => answer(Err(stopped())),
        }
    }
}
