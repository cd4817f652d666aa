//! Plenary's reporting service: reports computed from the event log, served over gRPC
//! (`proto/plenary/v1/reporting.proto`, docs/REPORTING.md).
//!
//! Layout:
//! - [`projection`]: what each event means for the reports (pure).
//! - [`store`]: the reporting store (SQLite) and its cursor, written together; the
//!   report queries, streamed.
//! - [`ingest`]: the loop that reads the log after the cursor and applies it.
//! - [`service`]: the `Reporting` gRPC service.
//! - [`csv_out`]: reports as CSV (quoting, formula neutralising, chunks).
//! - [`export`]: the `plenary-reporting export` command: a report's CSV from a running
//!   service.
//! - [`cluster`]: cluster mode's ingestion from the Redis reporting streams.
//! - [`serve`]: `plenary-reporting serve`, the service as its own process (cluster
//!   mode: Redis in, PostgreSQL store, gRPC out).
//! - [`access`]: who may read which reports (admin API key, report tokens).
//!
//! Embedded mode runs ingestion and the service inside the gateway process
//! ([`start_embedded`]).

pub mod access;
pub mod cluster;
pub mod csv_out;
pub mod export;
pub mod ingest;
pub mod projection;
pub mod serve;
pub mod service;
pub mod store;
mod telemetry;

use std::{path::Path, sync::Arc};

use plenary_bus::EventLog;
use tokio_util::sync::CancellationToken;

pub use service::{ReportingService, Scope};
pub use store::{Store, StoreError};

/// The reporting store's file in an embedded node's data directory.
pub const EMBEDDED_STORE: &str = "reporting.db";

/// Embedded mode: opens `data_dir/reporting.db`, ingests `log` into it until `stop`,
/// and returns the service that answers from it.
pub async fn start_embedded(
    log: EventLog,
    data_dir: &Path,
    stop: CancellationToken,
) -> Result<ReportingService, StoreError> {
    let store = Store::open(&data_dir.join(EMBEDDED_STORE)).await?;
    let progress = Arc::new(ingest::Progress::default());
    ingest::spawn(log, store.clone(), progress.clone(), stop);
    Ok(ReportingService::new(store, progress))
}
