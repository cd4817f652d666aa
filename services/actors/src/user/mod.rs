//! Private chat: one user actor per user (settings, profile, what their devices were
//! told) and one conversation actor per pair of users (connection, messages, read
//! markers). See `conversation` for how the two talk.

pub(crate) mod actor;
pub mod connection;
pub(crate) mod conversation;
mod dm_history;
pub mod inbox;
pub mod pair;

pub use actor::{Notice, UserCard};
pub use inbox::{SettingsPatch, USER_PREFIX, user_stream_id};
pub use pair::{ConnectionAction, PAIR_PREFIX, PairCommand, Party, pair_stream_id};

/// Whether a stream id belongs to private chat (context ids may not look like this).
pub fn is_private_stream(id: &str) -> bool {
    id.starts_with('~')
}

impl crate::Snapshots for inbox::UserState {}
impl crate::Snapshots for pair::ConversationState {}
