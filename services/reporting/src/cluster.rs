//! Cluster mode ingestion: the reporting process reads the per-shard reporting streams
//! through the Redis consumer group ([`ReportConsumer`]: one reader per shard at a
//! time, under a fenced lease), applies each batch to the PostgreSQL store with the
//! fences of its shards in the same transaction, acknowledges the entries only once
//! that transaction committed, and trims the streams past what the group has
//! acknowledged. Delivery is at least once; the store's per-stream high-water marks
//! make a second delivery change nothing.

use std::{
    sync::{Arc, atomic::Ordering},
    time::{Duration, Instant},
};

use plenary_bus::{
    LogEntry,
    redis::report::{ReportConsumer, ReportEntry},
};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::{
    ingest::{BATCH, Progress},
    store::{Store, StoreError},
    telemetry,
};

/// How long a read waits for new entries when there are none.
pub const READ_BLOCK: Duration = Duration::from_millis(200);
/// How often the streams are trimmed and the lag measured.
pub const TRIM_EVERY: Duration = Duration::from_secs(5);

/// Ingests until `stop`, then gives the shard leases back so another reporter takes
/// them at once.
pub fn spawn(
    mut consumer: ReportConsumer,
    store: Store,
    progress: Arc<Progress>,
    balance_every: Duration,
    stop: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        info!("reporting: cluster ingestion started");
        let mut balanced_at: Option<Instant> = None;
        let mut trimmed_at = Instant::now();
        loop {
            if balanced_at.is_none_or(|t| t.elapsed() >= balance_every) {
                match consumer.balance().await {
                    Ok(b) => {
                        if !(b.acquired.is_empty() && b.released.is_empty() && b.lost.is_empty()) {
                            info!(acquired = ?b.acquired, released = ?b.released, lost = ?b.lost,
                                held = consumer.held().len(), "reporting: shards moved");
                        }
                        balanced_at = Some(Instant::now());
                    }
                    Err(e) => warn!(error = %e, "reporting: shard leases could not be renewed"),
                }
            }
            if trimmed_at.elapsed() >= TRIM_EVERY {
                trimmed_at = Instant::now();
                measure_and_trim(&consumer, &progress).await;
            }
            let wait = match round(&mut consumer, &store, &progress).await {
                Ok(_) => Duration::ZERO,
                Err(e) => {
                    warn!(error = %e, "reporting: ingestion failed; the batch is read again");
                    consumer.rewind();
                    Duration::from_secs(1)
                }
            };
            tokio::select! {
                () = stop.cancelled() => break,
                () = tokio::time::sleep(wait) => {}
            }
        }
        if let Err(e) = consumer.release().await {
            warn!(error = %e, "reporting: shard leases could not be given back; they lapse");
        }
        info!("reporting: cluster ingestion stopped");
    })
}

/// One batch: read, commit, acknowledge. Returns the entries read.
pub async fn round(
    consumer: &mut ReportConsumer,
    store: &Store,
    progress: &Progress,
) -> Result<usize, RoundError> {
    let entries = consumer.read(BATCH, READ_BLOCK).await?;
    if entries.is_empty() {
        return Ok(0);
    }
    let log: Vec<LogEntry> = entries.iter().map(log_entry).collect();
    let fences = fences_of(&entries);
    match store.ingest(&log, &fences).await {
        Ok(done) => {
            consumer.ack(&entries).await?;
            counted(progress, done.applied, done.unreadable);
        }
        Err(StoreError::Sql(e)) if is_data_error(&e) => {
            // Something in the batch the store refuses as data: one entry at a time,
            // so only what is refused alone is set aside (and said), the rest applied.
            warn!(error = %e, "reporting: a batch was refused as data; applying it entry by entry");
            for (entry, log) in entries.iter().zip(&log) {
                let one = std::slice::from_ref(log);
                let fences = fences_of(std::slice::from_ref(entry));
                match store.ingest(one, &fences).await {
                    Ok(done) => counted(progress, done.applied, done.unreadable),
                    Err(StoreError::Sql(e)) if is_data_error(&e) => {
                        store.set_aside(log, &e.to_string()).await?;
                        counted(progress, 0, 1);
                    }
                    Err(e) => return Err(e.into()),
                }
                consumer.ack(std::slice::from_ref(entry)).await?;
            }
        }
        Err(e) => return Err(e.into()),
    }
    Ok(entries.len())
}

fn counted(progress: &Progress, applied: u64, unreadable: u64) {
    progress.ingested.fetch_add(applied, Ordering::Relaxed);
    progress.unreadable.fetch_add(unreadable, Ordering::Relaxed);
    telemetry::ingested(applied, unreadable);
}

/// Trims what the group acknowledged (in the shards this reporter holds) and publishes
/// the lag (entries of every reporting stream the group has not acknowledged).
async fn measure_and_trim(consumer: &ReportConsumer, progress: &Progress) {
    match consumer.trim().await {
        Ok(n) => telemetry::trimmed(n),
        Err(e) => warn!(error = %e, "reporting: the reporting streams could not be trimmed"),
    }
    match consumer.lag().await {
        Ok(lag) => telemetry::lag(lag, None, &progress.warned_at_ms),
        Err(e) => warn!(error = %e, "reporting: the lag could not be measured"),
    }
}

/// A reporting-stream entry as the store reads it: no global position (0); where it
/// came from in `origin`.
pub fn log_entry(entry: &ReportEntry) -> LogEntry {
    LogEntry {
        position: 0,
        stream_id: entry.stream_id.clone(),
        seq: 0,
        at_ms: entry.at_ms,
        payload: entry.payload.clone(),
        origin: format!("{}/{}", entry.shard, entry.id),
    }
}

/// The fence each shard's entries were read under (the oldest, should a batch hold
/// two): the store commits them only if no newer holder of the shard has committed.
pub fn fences_of(entries: &[ReportEntry]) -> Vec<(u32, u64)> {
    let mut fences: std::collections::BTreeMap<u32, u64> = std::collections::BTreeMap::new();
    for e in entries {
        let fence = fences.entry(e.shard).or_insert(e.fence);
        *fence = (*fence).min(e.fence);
    }
    fences.into_iter().collect()
}

/// A server refusal about the data itself (SQLSTATE classes 22 data exception and 23
/// integrity violation): retrying cannot help. Anything else (connection, deadlock,
/// shutdown) is retried.
fn is_data_error(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|c| c.starts_with("22") || c.starts_with("23")),
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => true,
        _ => false,
    }
}

/// Why a round failed (it is retried).
#[derive(Debug, thiserror::Error)]
pub enum RoundError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("reading the reporting streams: {0}")]
    Redis(#[from] plenary_bus::BusError),
}
