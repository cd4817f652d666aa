//! The pub/sub bus: where a context actor publishes a push, and how it reaches every
//! gateway holding a socket that listens on that channel.
//!
//! Embedded mode has one node, so publishing is a direct call into this node's
//! [`LocalDelivery`] (the gateway's fan-out hub), which encodes the push once per wire
//! format and shares the bytes with every local socket. Cluster mode publishes through
//! Redis and the subscriber task calls the same [`LocalDelivery`].

use std::sync::{Arc, OnceLock};

use plenary_proto::v1::internal::BusPush;

/// A fan-out channel.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Channel {
    /// Everything attendees of a context may see.
    ContextPublic(Arc<str>),
    /// Events only moderators of a context may see. Local moderator listeners also get
    /// the public channel's pushes, in publish order.
    ContextModerators(Arc<str>),
    /// Events for one attendee of a context (their Q&A threads).
    ContextUser(Arc<str>, Arc<str>),
    /// One user's private stream (connections, private messages, settings), named by
    /// the stream id (`~u/<user>`): every device of the user listens to it.
    Private(Arc<str>),
}

/// This node's receiver of published pushes (the gateway's fan-out hub).
pub trait LocalDelivery: Send + Sync + 'static {
    /// Delivers one push to the local listeners of a channel. A push on a context's
    /// public channel also reaches that context's local moderators, in order. Its
    /// `prev_seq` lets the receiver notice pushes it never got (and tell its listeners
    /// to resync); an `announce` carries nothing to show.
    fn deliver(&self, channel: &Channel, push: BusPush);
    /// Pushes may have been missed (the subscription dropped): tell every local
    /// listener to resync.
    fn resync_all(&self);
}

/// Publishes pushes to channels: straight to this node's hub in embedded mode, through
/// Redis in cluster mode.
#[derive(Clone)]
pub struct Bus {
    inner: Arc<Inner>,
}

enum Inner {
    Memory(OnceLock<Arc<dyn LocalDelivery>>),
    Redis(Arc<crate::redis::RedisBus>),
}

impl std::fmt::Debug for Bus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &*self.inner {
            Inner::Memory(_) => f.write_str("Bus::Memory"),
            Inner::Redis(r) => write!(f, "Bus::Redis({})", r.node_id()),
        }
    }
}

impl Bus {
    /// An in-memory bus for embedded mode.
    pub fn memory() -> Self {
        Bus {
            inner: Arc::new(Inner::Memory(OnceLock::new())),
        }
    }

    /// A bus over Redis pub/sub.
    pub fn redis(bus: Arc<crate::redis::RedisBus>) -> Self {
        Bus {
            inner: Arc::new(Inner::Redis(bus)),
        }
    }

    /// Attaches this node's delivery. Attaching twice keeps the first.
    pub fn attach(&self, local: Arc<dyn LocalDelivery>) {
        match &*self.inner {
            Inner::Memory(slot) => {
                let _ = slot.set(local);
            }
            Inner::Redis(r) => r.attach(&local),
        }
    }

    /// Publishes a push to a channel.
    pub async fn publish(&self, channel: &Channel, push: BusPush) {
        match &*self.inner {
            Inner::Memory(slot) => {
                if let Some(local) = slot.get() {
                    local.deliver(channel, push);
                }
            }
            Inner::Redis(r) => r.publish(channel, push).await,
        }
    }

    /// Makes sure this node receives the channels; returns once it does.
    pub async fn acquire(&self, channels: &[Channel]) -> Result<(), crate::BusError> {
        match &*self.inner {
            Inner::Memory(_) => Ok(()),
            Inner::Redis(r) => r.acquire(channels).await,
        }
    }

    /// Gives back what `acquire` took.
    pub fn release(&self, channels: &[Channel]) {
        if let Inner::Redis(r) = &*self.inner {
            r.release(channels);
        }
    }
}
