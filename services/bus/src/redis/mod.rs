//! Cluster mode on Redis: key naming, the fenced Streams log, shard ownership with
//! leases, pub/sub fan-out and the forwarding of commands to the owner node.
//!
//! Every key of a shard carries the hash tag `{<prefix>:s<shard>}`, so a shard lives
//! in one slot and the Lua scripts that touch several of its keys also work on Redis
//! Cluster.

mod conn;
mod keys;
pub mod lease;
pub mod log;
pub mod presence;
pub mod pubsub;
pub mod report;

use std::time::Duration;

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use redis::{
    PushInfo,
    aio::{AsyncPushSender, ConnectionManagerConfig, SendError},
    cluster::ClusterClientBuilder,
    cluster_async::ClusterConnection,
};
use tokio::sync::mpsc;

pub use conn::RedisConn;
pub use keys::Keys;
pub use lease::{Fence, Ownership, ShardOwner};
pub use log::RedisLog;
pub use pubsub::{RedisBus, RpcHandler};
pub use report::{Balance, REPORT_GROUP, ReportConsumer, ReportConsumerConfig, ReportEntry};

use crate::BusError;

/// How this node takes part in a cluster.
#[derive(Clone, Debug)]
pub struct ClusterConfig {
    pub redis_url: String,
    pub prefix: String,
    pub node_id: String,
    pub shards: u32,
    pub lease_ttl: Duration,
    /// How long a forwarded command waits for the owner's reply.
    pub forward_timeout: Duration,
    /// Most events kept in a context's stream.
    pub stream_cap: u64,
    /// Events between two snapshots of a context.
    pub snapshot_every: u64,
}

/// Where pushes (pub/sub messages) come from.
pub enum PubSubSource {
    /// A single Redis: a dedicated subscriber connection opened from this client.
    Single(redis::Client),
    /// A Redis Cluster: a cluster connection whose sharded-subscription messages arrive
    /// on `pushes` (redis-rs resubscribes by itself after reconnecting).
    Cluster {
        conn: ClusterConnection,
        pushes: mpsc::Receiver<PushInfo>,
        overflowed: Arc<AtomicBool>,
    },
}

/// Hands cluster pushes to a bounded queue; when it is full the push is dropped and the
/// overflow is flagged, so listeners are told to resync instead of silently missing it.
struct BoundedPushes {
    tx: mpsc::Sender<PushInfo>,
    overflowed: Arc<AtomicBool>,
}

impl AsyncPushSender for BoundedPushes {
    fn send(&self, info: PushInfo) -> Result<(), SendError> {
        match self.tx.try_send(info) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.overflowed.store(true, Ordering::Relaxed);
                Ok(())
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Err(SendError),
        }
    }
}

/// Connects to Redis: a single server, or — detected with `INFO cluster` — a Redis
/// Cluster reached through `redis_url` as its seed node.
pub async fn connect(config: &ClusterConfig) -> Result<(PubSubSource, RedisConn), BusError> {
    let client = redis::Client::open(config.redis_url.as_str()).map_err(BusError::Redis)?;
    let manager_config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(1)))
        .set_response_timeout(Some(Duration::from_secs(2)))
        .set_number_of_retries(2)
        .set_max_delay(Duration::from_millis(500));
    let mut manager = client
        .get_connection_manager_with_config(manager_config)
        .await
        .map_err(BusError::Redis)?;
    let info: String = redis::cmd("INFO")
        .arg("cluster")
        .query_async(&mut manager)
        .await?;
    if !info.lines().any(|l| l.trim() == "cluster_enabled:1") {
        return Ok((PubSubSource::Single(client), RedisConn::Single(manager)));
    }
    let builder = || {
        ClusterClientBuilder::new(vec![config.redis_url.clone()])
            .connection_timeout(Duration::from_secs(1))
            .response_timeout(Duration::from_secs(2))
    };
    let commands = builder().build()?.get_async_connection().await?;
    let (tx, pushes) = mpsc::channel(65_536);
    let overflowed = Arc::new(AtomicBool::new(false));
    let subscriber = builder()
        .use_protocol(redis::ProtocolVersion::RESP3)
        .push_sender(BoundedPushes {
            tx,
            overflowed: overflowed.clone(),
        })
        .build()?
        .get_async_connection()
        .await?;
    Ok((
        PubSubSource::Cluster {
            conn: subscriber,
            pushes,
            overflowed,
        },
        RedisConn::Cluster(commands),
    ))
}

/// Deletes every key whose name holds `prefix`: the keys a test run or a benchmark
/// made under a prefix of its own. It lists them with `KEYS`, so it is not for a
/// production Redis.
pub async fn delete_keys_of(redis_url: &str, prefix: &str) -> Result<(), BusError> {
    let client = redis::Client::open(redis_url)?;
    let mut conn = client.get_multiplexed_async_connection().await?;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("*{prefix}*"))
        .query_async(&mut conn)
        .await?;
    for chunk in keys.chunks(1_000) {
        let _: () = redis::cmd("DEL").arg(chunk).query_async(&mut conn).await?;
    }
    Ok(())
}

/// A stable 64-bit FNV-1a hash: shard placement must agree across nodes and versions,
/// which `std`'s hasher does not promise.
pub fn stable_hash(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in *part {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The shard of a context id.
pub fn shard_of(id: &str, shards: u32) -> u32 {
    (stable_hash(&[id.as_bytes()]) % u64::from(shards.max(1))) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_placement_is_stable_and_spread() {
        assert_eq!(shard_of("webinar-1", 64), shard_of("webinar-1", 64));
        let mut counts = vec![0u32; 8];
        for i in 0..8000 {
            counts[shard_of(&format!("ctx-{i}"), 8) as usize] += 1;
        }
        assert!(
            counts.iter().all(|&c| (800..1200).contains(&c)),
            "{counts:?}"
        );
        // A known value, so a change of the hash is noticed.
        assert_eq!(stable_hash(&[b"a"]), 0x089b_c907_b544_c769);
    }
}
