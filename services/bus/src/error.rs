//! Errors of the log and the bus.

/// A failure of the log or the bus. Every variant is retryable from a client's point
/// of view: nothing acknowledged is lost, the command simply did not happen.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("event log storage failed: {0}")]
    Storage(#[from] sqlx::Error),
    #[error("event log migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored event {context_id}/{seq} is corrupt: {source}")]
    Corrupt {
        context_id: String,
        seq: u64,
        source: prost::DecodeError,
    },
    #[error("Redis failed: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("refused by fencing: {0}")]
    Fenced(String),
    #[error("stored snapshot of {0} is corrupt")]
    CorruptSnapshot(String),
    #[error("log entry {entry} of {context_id} has no event payload")]
    CorruptEntry { context_id: String, entry: String },
    #[error("this node does not own the shard of the context")]
    NotOwner,
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A request went out but no answer came back: it may have taken effect.
    #[error("no answer: {0}")]
    NoAnswer(String),
    #[error("cannot open the data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
}
