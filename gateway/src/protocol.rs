//! The edge's vocabulary: close codes, and the mapping of every internal refusal to a
//! protocol error code. This is the only place either is decided (docs/PROTOCOL.md
//! lists them).

use plenary_actors::{CommandOutcome, Rejection};
use plenary_proto::v1::{
    Ack, Error, ErrorCode, InteractionOk, LikeOk, Reply, SendOk, ServerFrame, VoteOk,
    reply::Result as ReplyResult, server_frame::Frame,
};

use crate::auth::AuthError;

/// Close codes Plenary uses (besides 1000 normal and 1012 restart).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub enum CloseCode {
    /// A frame that breaks the protocol (wrong frame type for the subprotocol,
    /// undecodable frame before `connect`).
    ProtocolError = 4000,
    /// The token was refused, or a command came before `connect`.
    Unauthorized = 4001,
    /// No `connect` within the connect time-out.
    ConnectTimeout = 4002,
    /// The user may not connect (reserved for policy refusals).
    Forbidden = 4003,
    /// The user already has the maximum number of connections.
    TooManyConnections = 4004,
    /// The client did not read its pushes fast enough.
    SlowConsumer = 4008,
    /// A message larger than the frame limit.
    MessageTooBig = 4009,
    /// No frame or pong within the idle time-out.
    IdleTimeout = 4010,
    /// The node is at its connection limit.
    ServerFull = 4013,
    /// The client kept sending after being rate limited.
    RateLimited = 4029,
    /// The server is shutting down: reconnect (elsewhere).
    Restart = 1012,
}

/// An error reply.
pub fn error_reply(
    id: u64,
    code: ErrorCode,
    message: impl Into<String>,
    retry_after_ms: u64,
) -> ServerFrame {
    reply(
        id,
        ReplyResult::Error(Error {
            code: code as i32,
            message: message.into(),
            retry_after_ms,
        }),
    )
}

/// A reply frame.
pub fn reply(id: u64, result: ReplyResult) -> ServerFrame {
    ServerFrame {
        frame: Some(Frame::Reply(Reply {
            id,
            result: Some(result),
        })),
    }
}

/// The error code of a refusal.
pub fn rejection_code(rejection: &Rejection) -> (ErrorCode, u64) {
    match rejection {
        Rejection::Forbidden => (ErrorCode::Forbidden, 0),
        Rejection::NotFound(_) | Rejection::ContextNotFound(_) => (ErrorCode::NotFound, 0),
        Rejection::ContextExists(_) | Rejection::BadRequest(_) => (ErrorCode::BadRequest, 0),
        Rejection::Blocked => (ErrorCode::Blocked, 0),
        Rejection::InvalidText { .. } => (ErrorCode::InvalidText, 0),
        Rejection::LimitReached(_) => (ErrorCode::LimitReached, 0),
        Rejection::Unavailable(_) => (ErrorCode::Unavailable, 1_000),
        Rejection::AlreadyClaimed(_) => (ErrorCode::AlreadyClaimed, 0),
        Rejection::InvalidState(_) => (ErrorCode::InvalidState, 0),
        Rejection::NotConnected => (ErrorCode::NotConnected, 0),
        Rejection::PrivateChatDisabled => (ErrorCode::PrivateChatDisabled, 0),
        Rejection::OutcomeUnknown(_) => (ErrorCode::OutcomeUnknown, 500),
        Rejection::AlreadyVoted => (ErrorCode::AlreadyVoted, 0),
        Rejection::Archived(_) => (ErrorCode::Archived, 0),
        Rejection::RateLimited { retry_after_ms, .. } => {
            (ErrorCode::RateLimited, (*retry_after_ms).max(1))
        }
    }
}

/// The reply to a refused command.
pub fn rejection_reply(id: u64, rejection: &Rejection) -> ServerFrame {
    let (code, retry) = rejection_code(rejection);
    error_reply(id, code, rejection.to_string(), retry)
}

/// The reply to an accepted chat command.
pub fn outcome_reply(id: u64, outcome: CommandOutcome) -> ServerFrame {
    reply(
        id,
        match outcome {
            CommandOutcome::Sent {
                message_id,
                seq,
                duplicate,
                thread_id,
            } => ReplyResult::Send(SendOk {
                message_id,
                seq,
                duplicate,
                thread_id,
            }),
            CommandOutcome::Liked {
                message_id,
                like_count,
                seq,
            } => ReplyResult::Like(LikeOk {
                message_id,
                like_count,
                seq,
            }),
            CommandOutcome::Done { seq } => ReplyResult::Ack(Ack { seq }),
            CommandOutcome::Interaction {
                interaction_id,
                seq,
            } => ReplyResult::Interaction(InteractionOk {
                interaction_id,
                seq,
            }),
            CommandOutcome::Voted {
                interaction_id,
                seq,
                duplicate,
            } => ReplyResult::Vote(VoteOk {
                interaction_id,
                seq,
                duplicate,
            }),
        },
    )
}

/// The error code of a refused token.
pub fn auth_failure(e: &AuthError) -> ErrorCode {
    match e {
        AuthError::Expired => ErrorCode::TokenExpired,
        _ => ErrorCode::Unauthorized,
    }
}
