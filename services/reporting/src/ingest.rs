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

use crate::store::{Store, StoreError};

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

/// Lag (events not yet ingested) past which ingestion warns in the log, at most once a
/// minute; the `plenary_reporting_lag_events` gauge always says it.
pub const LAG_WARNING: u64 = 100_000;

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
    metrics::counter!("plenary_reporting_ingested_total").increment(done.applied);
    if done.unreadable > 0 {
        metrics::counter!("plenary_reporting_unreadable_total").increment(done.unreadable);
    }
    // How far behind: events committed but not ingested, and the age of the last one
    // ingested while any are.
    let head = log.last_position().await?;
    let at = entries.last().map_or(cursor.position, |e| e.position);
    let lag = head.saturating_sub(at);
    metrics::gauge!("plenary_reporting_lag_events").set(lag as f64);
    let behind_secs = match entries.last() {
        Some(e) if lag > 0 => plenary_bus::now_ms().saturating_sub(e.at_ms) as f64 / 1000.0,
        _ => 0.0,
    };
    metrics::gauge!("plenary_reporting_lag_seconds").set(behind_secs);
    if lag > LAG_WARNING {
        let now = plenary_bus::now_ms();
        if now.saturating_sub(progress.warned_at_ms.load(Ordering::Relaxed)) >= 60_000 {
            progress.warned_at_ms.store(now, Ordering::Relaxed);
            warn!(lag, behind_secs, "reporting: ingestion is behind the log");
        }
    }
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
