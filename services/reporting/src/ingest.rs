//! Ingestion: reads the event log after the store's cursor, applies what it reads in
//! batches (each batch and the cursor in one transaction), and waits a little when it
//! has caught up. Nothing acknowledged by the log is skipped: a batch that fails to
//! commit is read again.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use plenary_bus::EventLog;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::{
    store::{Store, StoreError},
    telemetry,
};

/// Log entries applied per transaction.
pub const BATCH: usize = 1_000;
/// How long ingestion waits once caught up before reading again (how stale a report
/// may be, at most, beyond the commit it waits for).
pub const IDLE_POLL: Duration = Duration::from_millis(200);

/// Counters of one ingestion task, for `Status`.
#[derive(Debug, Default)]
pub struct Progress {
    pub ingested: AtomicU64,
    pub unreadable: AtomicU64,
    /// When the last lag warning was logged (Unix ms).
    pub warned_at_ms: AtomicU64,
}

/// Ingests until `stop`.
pub fn spawn(
    log: EventLog,
    store: Store,
    progress: Arc<Progress>,
    stop: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        info!("reporting: ingestion started");
        loop {
            let wait = match round(&log, &store, &progress).await {
                Ok(0) => IDLE_POLL,
                Ok(_) => Duration::ZERO,
                Err(e) => {
                    warn!(error = %e, "reporting: ingestion failed; retrying");
                    Duration::from_secs(1)
                }
            };
            tokio::select! {
                () = stop.cancelled() => break,
                () = tokio::time::sleep(wait) => {}
            }
        }
    })
}

pub use crate::telemetry::LAG_WARNING;

/// One batch: how many entries it read.
pub async fn round(
    log: &EventLog,
    store: &Store,
    progress: &Progress,
) -> Result<usize, RoundError> {
    let cursor = store.cursor().await?;
    let entries = log.read_after(cursor.position, BATCH).await?;
    let done = store.ingest(&entries, &[]).await?;
    progress.ingested.fetch_add(done.applied, Ordering::Relaxed);
    progress
        .unreadable
        .fetch_add(done.unreadable, Ordering::Relaxed);
    telemetry::ingested(done.applied, done.unreadable);
    // How far behind: events committed but not ingested, and the age of the last one
    // ingested while any are.
    let head = log.last_position().await?;
    let at = entries.last().map_or(cursor.position, |e| e.position);
    let lag = head.saturating_sub(at);
    let behind_secs = match entries.last() {
        Some(e) if lag > 0 => plenary_bus::now_ms().saturating_sub(e.at_ms) as f64 / 1000.0,
        _ => 0.0,
    };
    telemetry::lag(lag, Some(behind_secs), &progress.warned_at_ms);
    Ok(entries.len())
}

/// Why a round failed (it is retried).
#[derive(Debug, thiserror::Error)]
pub enum RoundError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("reading the event log: {0}")]
    Log(#[from] plenary_bus::BusError),
}
