//! The context actor's vocabulary: commands it accepts, what it answers, and why it
//! refuses.

use std::borrow::Cow;

use plenary_proto::v1::events::ContextSettings;

use super::interactions::{Ballot, Spec};

/// A chat command from a joined user.
#[derive(Clone, Debug, PartialEq)]
pub enum ChatCommand {
    Send {
        text: String,
        client_msg_id: String,
        reply_to: u64,
        /// In the moderator-only backchannel.
        backchannel: bool,
        /// In this Q&A thread (moderators answer; the thread's attendee follows up).
        thread_id: u64,
    },
    /// An attendee's question (0: my thread in single mode, a new thread in multi).
    Ask {
        text: String,
        client_msg_id: String,
        thread_id: u64,
    },
    /// A moderator moves a Q&A thread through the queue.
    Thread {
        thread_id: u64,
        action: ThreadAction,
    },
    /// A moderator publishes a question with its answer to the feed.
    PublishQa {
        thread_id: u64,
        question_id: u64,
        answer_id: u64,
    },
    /// A moderator removes a published Q&A from the feed.
    Unpublish {
        item_id: u64,
    },
    /// A moderator's notification to everyone (the Updates tab).
    PostUpdate {
        title: String,
        text: String,
        toast: bool,
    },
    Like {
        message_id: u64,
    },
    Unlike {
        message_id: u64,
    },
    Delete {
        message_id: u64,
    },
    Pin {
        message_id: u64,
    },
    Unpin {
        message_id: u64,
    },
    Block {
        user_id: String,
    },
    Unblock {
        user_id: String,
    },
    /// A moderator saves a draft interaction (`interaction_id` 0: a new one).
    SaveInteraction {
        interaction_id: u64,
        spec: Spec,
        /// Makes a retried creation idempotent (empty: none).
        client_save_id: String,
    },
    /// A moderator moves an interaction through its life cycle.
    Interaction {
        interaction_id: u64,
        action: InteractionAction,
    },
    /// A vote on a published interaction.
    Vote {
        interaction_id: u64,
        client_vote_id: String,
        answer: Ballot,
    },
}

/// What a moderator does to an interaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InteractionAction {
    Publish,
    ShowResults,
    HideResults,
    End,
    Unpublish,
    Delete,
}

/// What a moderator does to a Q&A thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThreadAction {
    Claim,
    Release,
    Resolve,
    Clear,
}

/// An admin command (gRPC admin API).
#[derive(Clone, Debug, PartialEq)]
pub enum AdminCommand {
    /// Creates the context; refused if it exists.
    Create(ContextSettings),
    /// Changes the given settings of an existing context; unset fields keep their value.
    Update(SettingsPatch),
}

/// Settings to change; `None` keeps the current value. Merged inside the actor, so two
/// concurrent updates of different fields never overwrite each other.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SettingsPatch {
    pub name: Option<String>,
    pub starts_at_ms: Option<u64>,
    pub ends_at_ms: Option<u64>,
    pub registered_attendees: Option<u32>,
    pub qa_mode: Option<i32>,
    pub slow_mode_secs: Option<u32>,
}

impl SettingsPatch {
    /// The settings after applying this patch to `current`.
    pub fn apply_to(&self, current: &ContextSettings) -> ContextSettings {
        ContextSettings {
            name: self.name.clone().unwrap_or_else(|| current.name.clone()),
            starts_at_ms: self.starts_at_ms.unwrap_or(current.starts_at_ms),
            ends_at_ms: self.ends_at_ms.unwrap_or(current.ends_at_ms),
            registered_attendees: self
                .registered_attendees
                .unwrap_or(current.registered_attendees),
            qa_mode: self.qa_mode.unwrap_or(current.qa_mode),
            slow_mode_secs: self.slow_mode_secs.unwrap_or(current.slow_mode_secs),
        }
    }
}

/// The result of an accepted command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommandOutcome {
    Sent {
        message_id: u64,
        seq: u64,
        duplicate: bool,
        /// The Q&A thread of the message, 0 for the group chat.
        thread_id: u64,
    },
    Liked {
        message_id: u64,
        like_count: u32,
        seq: u64,
    },
    /// The command produced the event at `seq`, or nothing (seq 0) when the state
    /// already was as asked.
    Done { seq: u64 },
    /// An interaction saved or moved (seq 0: it already was as asked).
    Interaction { interaction_id: u64, seq: u64 },
    Voted {
        interaction_id: u64,
        seq: u64,
        /// This client vote id had voted already: nothing counted again.
        duplicate: bool,
    },
}

/// Why a command was refused. Mapped to protocol error codes at the edge.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("only moderators may do this")]
    Forbidden,
    #[error("{0} not found")]
    NotFound(Cow<'static, str>),
    #[error("context `{0}` does not exist")]
    ContextNotFound(String),
    #[error("context `{0}` already exists")]
    ContextExists(String),
    #[error("you are blocked from this chat")]
    Blocked,
    #[error("message text must be 1 to {max} characters")]
    InvalidText { max: usize },
    #[error("{0}")]
    BadRequest(String),
    #[error("limit reached: {0}")]
    LimitReached(Cow<'static, str>),
    #[error("temporarily unavailable: {0}")]
    Unavailable(String),
    #[error("already claimed by {0}")]
    AlreadyClaimed(String),
    #[error("the thread is {0}, which does not allow this")]
    InvalidState(String),
    #[error("you are not connected with this user")]
    NotConnected,
    #[error("private chat is turned off")]
    PrivateChatDisabled,
    #[error("you already voted on this interaction")]
    AlreadyVoted,
    /// The message is older than the live window kept in memory: readable through
    /// history, no longer changeable.
    #[error("{0} is archived (older than the live window); it can only be read with history")]
    Archived(Cow<'static, str>),
    /// Too fast for the room's fan-out or its slow mode: retry after the time given.
    #[error("too many {what}; retry in {retry_after_ms} ms")]
    RateLimited {
        what: Cow<'static, str>,
        retry_after_ms: u64,
    },
    /// The command may have taken effect: retry it as it was (same `client_msg_id`).
    #[error("outcome unknown: {0}")]
    OutcomeUnknown(String),
}
