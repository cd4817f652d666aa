//! The context actor: one per webinar session or channel.

mod actor;
pub mod command;
pub mod qa;
pub mod state;
pub mod view;

pub use actor::{ContextConfig, ContextHandle, ContextView, JoinRequest};
pub(crate) use actor::{Request, spawn};
pub use command::{AdminCommand, ChatCommand, CommandOutcome, Rejection, SettingsPatch};
