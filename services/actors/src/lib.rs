//! Plenary's actors: one tokio task per context, owning its state, fed through a
//! bounded mailbox, with pure `decide`/`apply` state machines.
//!
//! Layout:
//! - [`identity`]: who is acting ([`Identity`]) and in which [`Role`].
//! - [`context`]: the context actor: its command vocabulary (`command`), one module per
//!   concept (`chat`, `backchannel`, `moderation`, `qa`, `feed`, `updates`, each with
//!   its decide, apply and views), the state that composes them (`state`), the
//!   visibility rule, pushes and snapshots (`view`), throttled aggregates
//!   (`aggregate`) and the task that runs it (`actor`).
//! - [`registry`]: [`ContextRegistry`], spawns one actor per stream id on demand and
//!   passivates idle ones; in cluster mode it routes to the owner node. Each operation
//!   is a typed call (`registry/call.rs`) with its answer type, run on a local mailbox
//!   or forwarded in `internal.proto` (`wire`, `remote`).
//! - [`user`]: private chat: user and conversation actors and their state machines.
//! - `runtime`: the event-sourced actor runtime all three kinds of actor run on:
//!   load and replay, batches with group commit, held replies, the one append-failure
//!   policy, snapshots, recovery, stop and passivation.
//! - `telemetry`: every event operators see, each one log line and one metric.
//! - `snapshot_fixtures` (tests): snapshots as earlier releases wrote them still load.

pub mod context;
pub mod identity;
pub mod registry;
mod runtime;
#[cfg(test)]
mod snapshot_fixtures;
mod telemetry;
pub mod user;

pub use context::{
    ChatCommand, CommandOutcome, ContextConfig, ContextHandle, JoinRequest, Rejection,
};
pub use identity::{Identity, Role};
pub use registry::{Cluster, ContextRegistry};

/// An actor's state as snapshot bytes (JSON), and back: contexts, users and
/// conversations alike.
pub(crate) trait Snapshots: serde::Serialize + serde::de::DeserializeOwned {
    fn to_snapshot(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(self)
    }

    fn from_snapshot(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

impl Snapshots for context::state::ContextState {}
