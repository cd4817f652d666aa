//! The reporting service's telemetry: each event an operator may care about is one
//! function here that writes its metric and, where it needs saying, its log line, so
//! the two never drift. The metrics are listed in docs/OPERATIONS.md §9 and
//! docs/REPORTING.md.

use std::sync::atomic::{AtomicU64, Ordering};

use tracing::warn;

/// Lag (events not yet ingested) past which ingestion warns in the log, at most once a
/// minute; the `plenary_reporting_lag_events` gauge always says it.
pub const LAG_WARNING: u64 = 100_000;

/// A batch committed: events applied, and events set aside as unreadable.
pub(crate) fn ingested(applied: u64, unreadable: u64) {
    metrics::counter!("plenary_reporting_ingested_total").increment(applied);
    if unreadable > 0 {
        metrics::counter!("plenary_reporting_unreadable_total").increment(unreadable);
    }
}

/// How far behind ingestion is: events committed to the log (or the reporting streams)
/// and not yet ingested, and — where known — the age of the last event ingested while
/// any are. `warned_at_ms` rate-limits the warning to once a minute.
pub(crate) fn lag(events: u64, behind_secs: Option<f64>, warned_at_ms: &AtomicU64) {
    metrics::gauge!("plenary_reporting_lag_events").set(events as f64);
    if let Some(secs) = behind_secs {
        metrics::gauge!("plenary_reporting_lag_seconds").set(secs);
    }
    if events > LAG_WARNING {
        let now = plenary_bus::now_ms();
        if now.saturating_sub(warned_at_ms.load(Ordering::Relaxed)) >= 60_000 {
            warned_at_ms.store(now, Ordering::Relaxed);
            warn!(
                lag = events,
                behind_secs,
                "reporting: ingestion is behind (nothing is lost: in cluster mode the \
                 reporting streams keep what is not acknowledged, so Redis memory grows \
                 meanwhile)"
            );
        }
    }
}

/// Entries trimmed from the reporting streams after the group acknowledged them.
pub(crate) fn trimmed(entries: u64) {
    if entries > 0 {
        metrics::counter!("plenary_reporting_trimmed_total").increment(entries);
    }
}
