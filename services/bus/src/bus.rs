//! The pub/sub bus: where a context actor publishes a push, and how it reaches every
//! gateway holding a socket that listens on that channel.
//!
//! Embedded mode has one node, so publishing is a direct call into this node's
//! [`LocalDelivery`] (the gateway's fan-out hub), which encodes the push once per wire
//! format and shares the bytes with every local socket.

use std::sync::{Arc, OnceLock};

use plenary_proto::v1::Push;

/// A fan-out channel.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Channel {
    /// Everything attendees of a context may see.
    ContextPublic(Arc<str>),
    /// Everything moderators of a context see: public events *and* moderator-only
    /// ones, in one ordered stream.
    ContextModerators(Arc<str>),
}

/// This node's receiver of published pushes (the gateway's fan-out hub).
pub trait LocalDelivery: Send + Sync + 'static {
    /// Delivers one push to the local listeners of each channel.
    fn deliver(&self, channels: &[Channel], push: Push);
}

/// Publishes pushes to channels.
#[derive(Clone, Default)]
pub struct Bus {
    local: Arc<OnceLock<Arc<dyn LocalDelivery>>>,
}

impl std::fmt::Debug for Bus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bus")
            .field("attached", &self.local.get().is_some())
            .finish()
    }
}

impl Bus {
    /// An in-memory bus for embedded mode.
    pub fn memory() -> Self {
        Bus::default()
    }

    /// Attaches this node's delivery; pushes published before are dropped (nobody can
    /// be listening before the gateway exists). Attaching twice keeps the first.
    pub fn attach(&self, local: Arc<dyn LocalDelivery>) {
        let _ = self.local.set(local);
    }

    /// Publishes a push to each channel.
    pub fn publish(&self, channels: &[Channel], push: Push) {
        if let Some(local) = self.local.get() {
            local.deliver(channels, push);
        }
    }
}
