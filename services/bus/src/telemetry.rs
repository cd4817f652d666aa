//! Everything the bus tells operators: each event is one function that writes its log
//! line and its metric together, so the two never drift (docs/OPERATIONS.md §9 lists
//! the metrics).

use std::{fmt::Debug, fmt::Display, time::Duration};

use tracing::{debug, info, warn};

/// This node's set of owned shards changed.
pub(crate) fn shard_ownership_changed(change: &impl Debug, node: &str) {
    info!(?change, node, "shard ownership changed");
    metrics::counter!("plenary_shard_ownership_changes_total").increment(1);
}

/// Redis came back without this cluster's data.
pub(crate) fn redis_data_lost() {
    warn!("Redis lost its data (generation changed): every context restarts with a new epoch");
    metrics::counter!("plenary_redis_data_loss_total").increment(1);
}

/// A round of lease renewals and claims failed; the next one retries.
pub(crate) fn ownership_round_failed(error: &impl Display) {
    warn!(error = %error, "ownership round failed");
    metrics::counter!("plenary_ownership_round_failures_total").increment(1);
}

/// A command forwarded to another node got no answer in time.
pub(crate) fn forward_timed_out(node: &str, waited: Duration) {
    debug!(node, ?waited, "forwarded command: no answer in time");
    metrics::counter!("plenary_forward_timeouts_total").increment(1);
}

/// The answer to a forwarded command could not be queued for publishing.
pub(crate) fn forward_reply_dropped() {
    warn!("publish queue full; a forwarded command's reply was dropped");
    metrics::counter!("plenary_forward_replies_dropped_total").increment(1);
}

/// A publish to Redis failed; listeners resync when the subscription recovers.
pub(crate) fn publish_failed(error: &impl Display) {
    warn!(error = %error, "publish to Redis failed; listeners resync when the subscription recovers");
    metrics::counter!("plenary_redis_publish_failures_total").increment(1);
}

/// The Redis subscription was restored (`channels` resubscribed, when known); local
/// listeners resync.
pub(crate) fn resubscribed(channels: Option<usize>) {
    match channels {
        Some(channels) => info!(
            channels,
            "Redis subscription restored; local listeners resync"
        ),
        None => info!("Redis Cluster connection dropped; local listeners resync"),
    }
    metrics::counter!("plenary_redis_resubscribes_total").increment(1);
}

/// One SQLite transaction committed `appends` actors' appends together.
pub(crate) fn log_committed(appends: usize) {
    metrics::histogram!("plenary_log_commit_appends").record(appends as f64);
}
