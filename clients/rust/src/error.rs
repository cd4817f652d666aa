//! What can go wrong talking to a gateway.

use std::fmt;
use std::time::Duration;

use plenary_proto::v1::ErrorCode;

/// How a connection ended, as far as this client saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseInfo {
    /// The close code: one of the gateway's (4000 protocol error ... 4029 rate limited,
    /// 1012 restarting), 1000 for a normal close, 1005 when the close frame had none,
    /// 1006 when the connection dropped without a close frame.
    pub code: u16,
    /// The close reason, or a description of the failure for 1006.
    pub reason: String,
}

impl CloseInfo {
    /// Code for a connection that ended without a close frame.
    pub const ABNORMAL: u16 = 1006;
    /// Code for a close frame without a status.
    pub const NO_STATUS: u16 = 1005;

    /// True when the server sent a close frame (rather than the socket failing).
    pub fn is_close_frame(&self) -> bool {
        self.code != Self::ABNORMAL
    }
}

impl fmt::Display for CloseInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.reason.is_empty() {
            write!(f, "{}", self.code)
        } else {
            write!(f, "{} {}", self.code, self.reason)
        }
    }
}

/// Errors of [`Client`](crate::Client) operations.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The URL could not be used.
    #[error("invalid URL `{url}`: {reason}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Name resolution, binding or TCP connect failed.
    #[error("could not open a TCP connection: {0}")]
    Io(#[from] std::io::Error),
    /// The server answered the upgrade request with an HTTP error status.
    #[error("the server refused the WebSocket upgrade with HTTP {status}")]
    Rejected {
        /// The HTTP status code.
        status: u16,
    },
    /// The WebSocket handshake failed otherwise (including a missing or wrong
    /// subprotocol in the answer).
    #[error("WebSocket handshake failed: {0}")]
    Handshake(String),
    /// The operation did not finish in time.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// The server closed the connection (with a close frame, or `code` 1006 when the
    /// socket just ended) before the operation finished.
    #[error("connection closed: {code} {reason}")]
    Closed {
        /// The close code (see [`CloseInfo::code`]).
        code: u16,
        /// The close reason.
        reason: String,
    },
    /// The server answered with an error reply.
    #[error("server error {}: {message}", code.as_str_name())]
    Server {
        /// The error code (`Unspecified` for a code this client does not know).
        code: ErrorCode,
        /// A message for people.
        message: String,
        /// With `RATE_LIMITED`, `UNAVAILABLE` and `OUTCOME_UNKNOWN`: how long to wait
        /// before a retry.
        retry_after_ms: u64,
    },
    /// The server answered with a reply of the wrong kind, or none at all.
    #[error("unexpected reply: {0}")]
    UnexpectedReply(String),
}

impl ClientError {
    /// The close code when the connection was closed.
    pub fn close_code(&self) -> Option<u16> {
        match self {
            ClientError::Closed { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// The error code of a server error reply.
    pub fn server_code(&self) -> Option<ErrorCode> {
        match self {
            ClientError::Server { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// The server's back-off hint, for `RATE_LIMITED`, `UNAVAILABLE` and
    /// `OUTCOME_UNKNOWN` replies.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ClientError::Server { retry_after_ms, .. } if *retry_after_ms > 0 => {
                Some(Duration::from_millis(*retry_after_ms))
            }
            _ => None,
        }
    }

    /// True for a `RATE_LIMITED` reply.
    pub fn is_rate_limited(&self) -> bool {
        self.server_code() == Some(ErrorCode::RateLimited)
    }

    /// True for a reply that says to send the same command again after
    /// [`retry_after`](Self::retry_after): `RATE_LIMITED` and `UNAVAILABLE` (it did not
    /// take effect) and `OUTCOME_UNKNOWN` (it may have: resend it unchanged, with the
    /// same `client_msg_id`, and the server answers with the first attempt's result).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.server_code(),
            Some(ErrorCode::RateLimited | ErrorCode::Unavailable | ErrorCode::OutcomeUnknown)
        )
    }

    pub(crate) fn from_server(error: plenary_proto::v1::Error) -> Self {
        ClientError::Server {
            code: ErrorCode::try_from(error.code).unwrap_or(ErrorCode::Unspecified),
            message: error.message,
            retry_after_ms: error.retry_after_ms,
        }
    }
}

impl From<CloseInfo> for ClientError {
    fn from(info: CloseInfo) -> Self {
        ClientError::Closed {
            code: info.code,
            reason: info.reason,
        }
    }
}
