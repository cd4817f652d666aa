//! Plenary's storage and transport seams: the durable event log and the pub/sub bus
//! that carries pushes to the gateways holding the sockets.
//!
//! Layout:
//! - [`log`]: [`EventLog`], the append-only per-stream log (SQLite in embedded mode).
//! - [`event`]: [`StoredEvent`], what the log needs of each stream kind's event type.
//! - [`bus`]: [`Bus`], publish a push to a [`Channel`]; the in-memory implementation
//!   delivers straight to this node's [`LocalDelivery`].
//! - [`redis`]: cluster mode: keys, fenced Streams log, shard leases, pub/sub and
//!   forwarding over Redis.
//! - [`error`]: the error type, [`BusError`].

pub mod bus;
pub mod error;
pub mod event;
pub mod log;
pub mod redis;
mod telemetry;

pub use bus::{Bus, Channel, LocalDelivery};
pub use error::BusError;
pub use event::StoredEvent;
pub use log::{EventLog, LoadedContext, LogEntry, Snapshot, SyncMode};

/// Wall-clock time in Unix milliseconds (0 if the clock is before 1970).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}
