//! Plenary's actors: one tokio task per context, owning its state, fed through a
//! bounded mailbox, with pure `decide`/`apply` state machines.
//!
//! Layout:
//! - [`identity`]: who is acting ([`Identity`]) and in which [`Role`].
//! - [`context`]: the context actor — group chat today — split into its command
//!   vocabulary (`command`), pure state machine (`state`), client views (`view`) and
//!   the task that runs it (`actor`).
//! - [`registry`]: [`ContextRegistry`], spawns one actor per context id on demand and
//!   passivates idle ones; in cluster mode it routes to the owner node.
//! - [`user`]: private chat between users — so far the pure model of a connection.

pub mod context;
pub mod identity;
pub mod registry;
pub mod user;

pub use context::{
    ChatCommand, CommandOutcome, ContextConfig, ContextHandle, JoinRequest, Rejection,
};
pub use identity::{Identity, Role};
pub use registry::{Cluster, ContextRegistry};
