//! What the actors' integration tests share: a registry on a fresh embedded log.

use std::sync::Arc;

use plenary_actors::{ContextConfig, ContextRegistry};
use plenary_bus::{Bus, EventLog, SyncMode};

/// An embedded-mode registry on a log in a new temporary directory (kept alive by the
/// returned guard).
pub(crate) async fn registry(
    config: ContextConfig,
) -> (Arc<ContextRegistry>, EventLog, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::open(dir.path(), SyncMode::Normal).await.unwrap();
    (
        ContextRegistry::new(config, log.clone(), Bus::memory()),
        log,
        dir,
    )
}
