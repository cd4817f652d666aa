//! Cluster mode wiring: connect to Redis, take part in shard ownership, publish this
//! node's presence, and leave cleanly on shutdown.

use std::{sync::Arc, time::Duration};

use anyhow::Context as _;
use plenary_actors::{Cluster, ContextConfig, ContextRegistry};
use plenary_bus::{
    Bus, EventLog,
    redis::{ClusterConfig, Keys, Ownership, RedisBus, RedisConn, RedisLog, presence},
};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::{config::Config, presence::Presence};

/// This node's part in a cluster.
pub struct ClusterNode {
    pub ownership: Arc<Ownership>,
    conn: RedisConn,
    keys: Keys,
    lease_ttl: Duration,
    ownership_task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for ClusterNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterNode")
            .field("node_id", &self.ownership.node_id())
            .finish()
    }
}

/// The cluster settings from the configuration.
pub fn cluster_config(config: &Config, redis_url: &str) -> ClusterConfig {
    let node_id = config.node_id.clone().unwrap_or_else(|| "node".to_owned());
    ClusterConfig {
        redis_url: redis_url.to_owned(),
        prefix: config.redis_prefix.clone(),
        node_id,
        shards: config.shards,
        lease_ttl: Duration::from_millis(config.lease_ttl_ms),
        forward_timeout: Duration::from_millis(config.forward_timeout_ms),
        stream_cap: 10_000,
        snapshot_every: config.snapshot_every,
    }
}

/// Joins the cluster: returns the registry (routing to owners) and the node handle.
pub async fn join(
    config: &Config,
    redis_url: &str,
    context_config: ContextConfig,
) -> anyhow::Result<(Arc<ContextRegistry>, Arc<ClusterNode>)> {
    let cc = cluster_config(config, redis_url);
    let (source, conn) = plenary_bus::redis::connect(&cc).await.with_context(|| {
        format!("cannot connect to Redis at {redis_url} (is redis-server running?)")
    })?;
    let ownership = Ownership::new(&cc, conn.clone());
    ownership
        .tick()
        .await
        .context("the first shard-ownership round against Redis failed")?;
    let ownership_task = ownership.spawn();
    let redis_cluster = conn.is_cluster();
    let rpc = RedisBus::start(&cc, source, conn.clone());
    let bus = Bus::redis(rpc.clone());
    let log = EventLog::redis(RedisLog::new(&cc, conn.clone()));
    let context_config = ContextConfig {
        snapshot_every: cc.snapshot_every,
        ..context_config
    };
    let registry = ContextRegistry::clustered(
        context_config,
        log,
        bus,
        Cluster {
            ownership: ownership.clone(),
            rpc,
        },
    );
    info!(node_id = %cc.node_id, prefix = %cc.prefix, shards = cc.shards, redis_cluster, owned = ownership.owned_shards().len(), "joined the cluster");
    let node = Arc::new(ClusterNode {
        ownership,
        conn,
        keys: Keys::new(&cc.prefix, cc.shards),
        lease_ttl: cc.lease_ttl,
        ownership_task,
    });
    Ok((registry, node))
}

impl ClusterNode {
    /// The people directory, shared by every node through Redis.
    pub fn directory(&self) -> crate::directory::Directory {
        crate::directory::Directory::Redis {
            conn: self.conn.clone(),
            keys: self.keys.clone(),
        }
    }

    /// Writes this node's presence every second until `stop`.
    pub fn spawn_presence(self: &Arc<Self>, presence: Arc<Presence>, stop: CancellationToken) {
        let node = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            let ttl = node.lease_ttl.max(Duration::from_secs(1)) + Duration::from_secs(1);
            let mut conn = node.conn.clone();
            loop {
                tokio::select! {
                    () = stop.cancelled() => break,
                    _ = tick.tick() => {}
                }
                let entries = presence.all();
                if let Err(e) = presence::publish(
                    &mut conn,
                    &node.keys,
                    node.ownership.node_id(),
                    &entries,
                    ttl,
                )
                .await
                {
                    warn!(error = %e, "publishing presence failed");
                }
            }
        });
    }

    /// Tells every local listener to resync when Redis lost its data: their contexts
    /// restart with new epochs. Told again two lease TTLs later: a listener that rejoined
    /// at once may have been answered by an owner that had not noticed the loss yet
    /// (every node notices within a TTL), from the old epoch's state, as if nothing had
    /// happened.
    pub fn spawn_resync_on_data_loss(&self, hub: Arc<crate::hub::Hub>) {
        use plenary_bus::{LocalDelivery, redis::lease::OwnershipChange};
        let mut changes = self.ownership.changes();
        let again_after = self.lease_ttl * 2;
        tokio::spawn(async move {
            loop {
                match changes.recv().await {
                    Ok(OwnershipChange::RedisEmptied) => {
                        hub.resync_all();
                        let hub = hub.clone();
                        tokio::spawn(async move {
                            tokio::time::sleep(again_after).await;
                            hub.resync_all();
                        });
                    }
                    Ok(_) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => hub.resync_all(),
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                }
            }
        });
    }

    /// A context's presence summed over the live nodes.
    pub async fn presence(&self, context: &str) -> anyhow::Result<presence::Counts> {
        let mut conn = self.conn.clone();
        let nodes = self.ownership.live_nodes();
        Ok(presence::read(&mut conn, &self.keys, &nodes, context).await?)
    }

    /// Releases this node's leases and presence so others take over at once.
    pub async fn leave(&self) {
        self.ownership_task.abort();
        self.ownership.leave().await;
        let mut conn = self.conn.clone();
        let _ = presence::publish(
            &mut conn,
            &self.keys,
            self.ownership.node_id(),
            &[],
            self.lease_ttl,
        )
        .await;
        info!("left the cluster");
    }
}
