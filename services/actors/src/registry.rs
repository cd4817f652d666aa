//! The registry: one actor per context id, spawned on first use and forgotten when it
//! passivates. Callers never hold an actor handle across calls; a command that races
//! with passivation is retried on a freshly spawned actor.

use std::sync::Arc;

use dashmap::DashMap;
use plenary_bus::{Bus, EventLog};
use plenary_proto::v1::{JoinOk, events::Actor};
use tokio::sync::{mpsc::error::SendTimeoutError, oneshot};

use crate::{
    context::{
        AdminCommand, ChatCommand, CommandOutcome, ContextConfig, ContextHandle, ContextView,
        JoinRequest, Rejection, Request, spawn,
    },
    identity::Identity,
};

/// Every live context actor on this node.
#[derive(Debug)]
pub struct ContextRegistry {
    actors: DashMap<Arc<str>, ContextHandle>,
    config: Arc<ContextConfig>,
    log: EventLog,
    bus: Bus,
}

impl ContextRegistry {
    pub fn new(config: ContextConfig, log: EventLog, bus: Bus) -> Arc<Self> {
        Arc::new(ContextRegistry {
            actors: DashMap::new(),
            config: Arc::new(config),
            log,
            bus,
        })
    }

    /// The actor config.
    pub fn config(&self) -> &ContextConfig {
        &self.config
    }

    /// How many context actors are running.
    pub fn live_actors(&self) -> usize {
        self.actors.len()
    }

    fn handle(self: &Arc<Self>, id: &str) -> ContextHandle {
        if let Some(h) = self.actors.get(id) {
            return h.clone();
        }
        let key: Arc<str> = Arc::from(id);
        self.actors
            .entry(key.clone())
            .or_insert_with(|| {
                let registry = Arc::downgrade(self);
                let exiting = key.clone();
                let handle = spawn(
                    key,
                    self.config.clone(),
                    self.log.clone(),
                    self.bus.clone(),
                    move || {
                        if let Some(registry) = registry.upgrade() {
                            registry.actors.remove_if(&exiting, |_, h| h.tx.is_closed());
                        }
                    },
                );
                metrics::counter!("plenary_context_actors_started_total").increment(1);
                handle
            })
            .clone()
    }

    async fn ask<T>(
        self: &Arc<Self>,
        id: &str,
        make: impl Fn(oneshot::Sender<Result<T, Rejection>>) -> Request,
    ) -> Result<T, Rejection> {
        for _ in 0..3 {
            let handle = self.handle(id);
            let (tx, rx) = oneshot::channel();
            match handle
                .tx
                .send_timeout(make(tx), self.config.mailbox_wait)
                .await
            {
                Ok(()) => {
                    return rx.await.unwrap_or_else(|_| {
                        Err(Rejection::Unavailable("context actor stopped".into()))
                    });
                }
                Err(SendTimeoutError::Closed(_)) => {
                    self.actors
                        .remove_if(id, |_, h| h.tx.same_channel(&handle.tx));
                }
                Err(SendTimeoutError::Timeout(_)) => {
                    metrics::counter!("plenary_mailbox_full_total").increment(1);
                    return Err(Rejection::Unavailable("context is overloaded".into()));
                }
            }
        }
        Err(Rejection::Unavailable("context actor is restarting".into()))
    }

    /// Joins a context: a snapshot, or the events missed since a position.
    pub async fn join(
        self: &Arc<Self>,
        context_id: &str,
        join: JoinRequest,
    ) -> Result<JoinOk, Rejection> {
        self.ask(context_id, |reply| Request::Join {
            join: join.clone(),
            reply,
        })
        .await
    }

    /// Runs a chat command.
    pub async fn chat(
        self: &Arc<Self>,
        context_id: &str,
        identity: Arc<Identity>,
        command: ChatCommand,
    ) -> Result<CommandOutcome, Rejection> {
        self.ask(context_id, |reply| Request::Chat {
            identity: identity.clone(),
            command: command.clone(),
            reply,
        })
        .await
    }

    /// Runs an admin command.
    pub async fn admin(
        self: &Arc<Self>,
        context_id: &str,
        actor: Actor,
        command: AdminCommand,
    ) -> Result<ContextView, Rejection> {
        self.ask(context_id, |reply| Request::Admin {
            actor: actor.clone(),
            command: command.clone(),
            reply,
        })
        .await
    }

    /// Reads a context's settings and position.
    pub async fn get(self: &Arc<Self>, context_id: &str) -> Result<ContextView, Rejection> {
        self.ask(context_id, |reply| Request::Get { reply }).await
    }
}
