//! The context actor: one per webinar session or channel.
//!
//! Layout: `command` (what clients and the admin API ask), `state` (the state machine:
//! routes commands and events to one module per concept — `chat`, `backchannel`,
//! `moderation`, `qa`, `feed`, `updates`, `interactions` — each with its decide, apply and views;
//! `reactions`, what gateway nodes report each window, is not state: nothing of it is stored),
//! `view` (the visibility rule, pushes and snapshots, asking each concept), `actor`
//! (the task that runs it).

mod actor;
pub mod aggregate;
mod backchannel;
pub mod chat;
pub mod command;
pub mod feed;
mod history;
mod id_keys;
pub mod interactions;
mod joins;
pub mod moderation;
pub mod pace;
pub mod qa;
pub mod reactions;
mod recent;
pub mod state;
#[cfg(test)]
pub(crate) mod testing;
pub mod updates;
pub mod view;

pub(crate) use actor::{ChatHistory, Request, spawn};
pub use actor::{
    ContextConfig, ContextHandle, ContextView, DEFAULT_ROOM_DELIVERIES_PER_SEC, JoinAnswer,
    JoinRequest,
};
pub use command::{
    AdminCommand, ChatCommand, CommandOutcome, InteractionAction, Rejection, SettingsPatch,
};

/// Longest context id accepted.
pub const MAX_CONTEXT_ID_BYTES: usize = 128;

/// Checks a context id: 1 to 128 bytes, no control characters, and not starting with
/// `~` (reserved for private chat's streams).
pub fn validate_context_id(id: &str) -> Result<(), String> {
    if id.is_empty() || id.len() > MAX_CONTEXT_ID_BYTES || id.chars().any(char::is_control) {
        return Err(format!(
            "context_id must be 1 to {MAX_CONTEXT_ID_BYTES} bytes without control characters"
        ));
    }
    if crate::user::is_private_stream(id) {
        return Err("context ids may not start with `~` (reserved)".into());
    }
    Ok(())
}
