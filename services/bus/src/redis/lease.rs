//! Shard ownership: each shard is owned by one live node through a lease (a key with a
//! TTL holding `<node>:<fence>`). The fence grows by one at every acquisition, and every
//! log append checks it, so an owner whose lease lapsed can never write again.
//!
//! Placement is rendezvous hashing over the live nodes (a sorted set of heartbeats):
//! each node acquires the shards it ranks first for, renews them, and releases the
//! ones another live node now ranks first for.

use crate::now_ms;
use std::{
    collections::HashMap,
    sync::{Arc, Mutex, RwLock},
    time::{Duration, Instant},
};

use redis::{AsyncCommands, Script};
use tokio::sync::broadcast;

use super::{ClusterConfig, Keys, RedisConn, stable_hash};
use crate::BusError;

const ACQUIRE: &str = r"
local cur = redis.call('GET', KEYS[1])
if cur then
  if string.sub(cur, 1, string.len(ARGV[1]) + 1) == ARGV[1] .. ':' then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return cur
  end
  return false
end
local fence = redis.call('INCR', KEYS[2])
local token = ARGV[1] .. ':' .. fence
redis.call('SET', KEYS[1], token, 'PX', ARGV[2])
return token
";

const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// The right to write a shard's log: the lease value this node holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fence {
    pub shard: u32,
    /// `<node>:<fence>`, compared by the append script.
    pub token: Arc<str>,
}

/// Who owns a shard, as last read from Redis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardOwner {
    pub node: String,
}

/// A change in what this node owns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OwnershipChange {
    Gained(u32),
    Lost(u32),
    /// Redis lost its data (restarted empty or flushed): every context restarts with a
    /// new epoch and clients must resync.
    RedisEmptied,
}

/// This node's view of shard ownership.
pub struct Ownership {
    keys: Keys,
    conn: RedisConn,
    node_id: String,
    shards: u32,
    ttl: Duration,
    acquire: Script,
    release: Script,
    owned: RwLock<HashMap<u32, Arc<str>>>,
    owners: RwLock<Vec<Option<ShardOwner>>>,
    live: RwLock<Vec<String>>,
    /// Last heartbeat (ms) of every node seen in the live set.
    heartbeats: RwLock<HashMap<String, u64>>,
    generation: Mutex<Option<String>>,
    last_renewal: Mutex<Instant>,
    paused: std::sync::atomic::AtomicBool,
    changes: broadcast::Sender<OwnershipChange>,
}

impl std::fmt::Debug for Ownership {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ownership")
            .field("node_id", &self.node_id)
            .field("owned", &self.owned_shards())
            .finish()
    }
}

/// The live node that ranks first for a shard (rendezvous hashing).
pub fn rendezvous_owner(shard: u32, nodes: &[String]) -> Option<&str> {
    nodes
        .iter()
        .max_by_key(|node| {
            (
                stable_hash(&[node.as_bytes(), &shard.to_le_bytes()]),
                node.as_str(),
            )
        })
        .map(String::as_str)
}

impl Ownership {
    pub fn new(config: &ClusterConfig, conn: RedisConn) -> Arc<Self> {
        Arc::new(Ownership {
            keys: Keys::new(&config.prefix, config.shards),
            conn,
            node_id: config.node_id.clone(),
            shards: config.shards,
            ttl: config.lease_ttl,
            acquire: Script::new(ACQUIRE),
            release: Script::new(RELEASE),
            owned: RwLock::new(HashMap::new()),
            owners: RwLock::new(vec![None; config.shards as usize]),
            live: RwLock::new(Vec::new()),
            heartbeats: RwLock::new(HashMap::new()),
            generation: Mutex::new(None),
            last_renewal: Mutex::new(Instant::now()),
            paused: std::sync::atomic::AtomicBool::new(false),
            changes: broadcast::channel(1024).0,
        })
    }

    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    pub fn shards(&self) -> u32 {
        self.shards
    }

    /// Changes of what this node owns.
    pub fn changes(&self) -> broadcast::Receiver<OwnershipChange> {
        self.changes.subscribe()
    }

    /// The lease this node holds for a shard, if any.
    pub fn fence_for(&self, shard: u32) -> Option<Fence> {
        let owned = self.owned.read().unwrap_or_else(|e| e.into_inner());
        owned.get(&shard).map(|token| Fence {
            shard,
            token: token.clone(),
        })
    }

    /// The owner of a shard as last read from Redis (this node included).
    pub fn owner_of(&self, shard: u32) -> Option<ShardOwner> {
        let owners = self.owners.read().unwrap_or_else(|e| e.into_inner());
        owners.get(shard as usize).cloned().flatten()
    }

    /// Shards this node holds.
    pub fn owned_shards(&self) -> Vec<u32> {
        let owned = self.owned.read().unwrap_or_else(|e| e.into_inner());
        let mut v: Vec<u32> = owned.keys().copied().collect();
        v.sort_unstable();
        v
    }

    /// Whether a node has missed heartbeats for three quarters of a lease TTL: it is
    /// probably dead, so commands are not forwarded to it (they would only wait for the
    /// time-out). A healthy node's last heartbeat as seen here is at most two rounds
    /// (half a TTL) old, so this never flags a live node.
    pub fn is_suspect(&self, node: &str) -> bool {
        if node == self.node_id {
            return false;
        }
        let beats = self.heartbeats.read().unwrap_or_else(|e| e.into_inner());
        match beats.get(node) {
            Some(&last) => now_ms().saturating_sub(last) > self.ttl.as_millis() as u64 * 3 / 4,
            None => true,
        }
    }

    /// Live nodes at the last tick.
    pub fn live_nodes(&self) -> Vec<String> {
        self.live.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Stops renewing (tests: simulates a paused process whose lease lapses).
    pub fn pause_renewal(&self, paused: bool) {
        self.paused
            .store(paused, std::sync::atomic::Ordering::Relaxed);
    }

    fn set_owned(&self, shard: u32, token: Option<Arc<str>>) {
        let mut owned = self.owned.write().unwrap_or_else(|e| e.into_inner());
        let change = match token {
            Some(token) => {
                let previous = owned.insert(shard, token.clone());
                match previous {
                    Some(p) if p == token => None,
                    Some(_) => {
                        // Re-acquired with a new fence: actors of the old one must go.
                        let _ = self.changes.send(OwnershipChange::Lost(shard));
                        Some(OwnershipChange::Gained(shard))
                    }
                    None => Some(OwnershipChange::Gained(shard)),
                }
            }
            None => owned.remove(&shard).map(|_| OwnershipChange::Lost(shard)),
        };
        drop(owned);
        if let Some(change) = change {
            crate::telemetry::shard_ownership_changed(&change, &self.node_id);
            let _ = self.changes.send(change);
        }
    }

    fn drop_all(&self) {
        for shard in self.owned_shards() {
            self.set_owned(shard, None);
        }
    }

    /// One round: heartbeat, data-loss check, placement, acquire/renew/release, owner
    /// table. Runs every quarter of the lease TTL.
    pub async fn tick(&self) -> Result<(), BusError> {
        let result = self.tick_inner().await;
        if result.is_err() {
            let since = self
                .last_renewal
                .lock()
                .map(|t| t.elapsed())
                .unwrap_or_default();
            if since >= self.ttl {
                // Our leases have lapsed in Redis by now: stop acting as owner.
                self.drop_all();
            }
        }
        result
    }

    async fn tick_inner(&self) -> Result<(), BusError> {
        let mut conn = self.conn.clone();
        let now = now_ms();
        let ttl_ms = self.ttl.as_millis() as u64;

        // Data-loss check: the generation key is created once and never deleted.
        let generation_key = self.keys.generation();
        let candidate = format!("{}-{now}", self.node_id);
        let _: Option<String> = redis::cmd("SET")
            .arg(&generation_key)
            .arg(&candidate)
            .arg("NX")
            .query_async(&mut conn)
            .await?;
        let current: Option<String> = conn.get(&generation_key).await?;
        {
            let mut known = self.generation.lock().unwrap_or_else(|e| e.into_inner());
            if known.is_some() && *known != current {
                crate::telemetry::redis_data_lost();
                drop(known);
                self.drop_all();
                let _ = self.changes.send(OwnershipChange::RedisEmptied);
                known = self.generation.lock().unwrap_or_else(|e| e.into_inner());
            }
            *known = current;
        }

        // Heartbeat and live nodes.
        let nodes_key = self.keys.nodes();
        let _: () = conn.zadd(&nodes_key, &self.node_id, now).await?;
        let _: () = conn
            .zrembyscore(&nodes_key, 0, now.saturating_sub(60_000))
            .await?;
        let beats: Vec<(String, u64)> = conn
            .zrangebyscore_withscores(&nodes_key, now.saturating_sub(ttl_ms), "+inf")
            .await?;
        *self.heartbeats.write().unwrap_or_else(|e| e.into_inner()) =
            beats.iter().cloned().collect();
        let mut live: Vec<String> = beats.into_iter().map(|(node, _)| node).collect();
        if !live.contains(&self.node_id) {
            live.push(self.node_id.clone());
        }
        live.sort();
        *self.live.write().unwrap_or_else(|e| e.into_inner()) = live.clone();

        // Acquire or renew what we rank first for; release the rest. One script call
        // per shard, all in flight at once (lease keys live in different slots).
        let paused = self.paused.load(std::sync::atomic::Ordering::Relaxed);
        let mut acquires = Vec::new();
        let mut releases = Vec::new();
        for shard in 0..self.shards {
            let mine = rendezvous_owner(shard, &live) == Some(self.node_id.as_str());
            if mine {
                if paused {
                    continue;
                }
                let mut conn = self.conn.clone();
                acquires.push(async move {
                    let token: Option<String> = self
                        .acquire
                        .key(self.keys.lease(shard))
                        .key(self.keys.fence(shard))
                        .arg(&self.node_id)
                        .arg(ttl_ms)
                        .invoke_async(&mut conn)
                        .await?;
                    Ok::<_, redis::RedisError>((shard, token))
                });
            } else if let Some(fence) = self.fence_for(shard) {
                // Stop acting as owner before the lease is given back.
                self.set_owned(shard, None);
                let mut conn = self.conn.clone();
                releases.push(async move {
                    let _: i64 = self
                        .release
                        .key(self.keys.lease(shard))
                        .arg(fence.token.as_ref())
                        .invoke_async(&mut conn)
                        .await?;
                    Ok::<_, redis::RedisError>(())
                });
            }
        }
        let (acquired, released) = futures_util::future::join(
            futures_util::future::join_all(acquires),
            futures_util::future::join_all(releases),
        )
        .await;
        let mut first_error = None;
        for result in acquired {
            match result {
                Ok((shard, token)) => self.set_owned(shard, token.map(Arc::from)),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        if let Some(e) = released.into_iter().find_map(Result::err).or(first_error) {
            return Err(e.into());
        }
        if !paused {
            *self.last_renewal.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
        }

        // The owner table, for forwarding.
        // One GET per shard, all in flight at once: lease keys live in different slots,
        // so on a Redis Cluster one pipeline cannot carry them.
        let reads = (0..self.shards).map(|shard| {
            let mut conn = self.conn.clone();
            let key = self.keys.lease(shard);
            async move { conn.get::<_, Option<String>>(key).await }
        });
        let tokens: Vec<Option<String>> = futures_util::future::join_all(reads)
            .await
            .into_iter()
            .collect::<Result<_, _>>()?;
        let owners = tokens
            .into_iter()
            .map(|t| {
                t.and_then(|token| {
                    let (node, _) = token.rsplit_once(':')?;
                    Some(ShardOwner {
                        node: node.to_owned(),
                    })
                })
            })
            .collect();
        *self.owners.write().unwrap_or_else(|e| e.into_inner()) = owners;
        Ok(())
    }

    /// Releases every lease and leaves the live set (graceful shutdown), so the shards
    /// move at once instead of after the TTL.
    pub async fn leave(&self) {
        let mut conn = self.conn.clone();
        for shard in self.owned_shards() {
            if let Some(fence) = self.fence_for(shard) {
                self.set_owned(shard, None);
                let _: Result<i64, _> = self
                    .release
                    .key(self.keys.lease(shard))
                    .arg(fence.token.as_ref())
                    .invoke_async(&mut conn)
                    .await;
            }
        }
        let _: Result<(), _> = conn.zrem(self.keys.nodes(), &self.node_id).await;
    }

    /// Runs `tick` every quarter TTL until the returned handle is aborted.
    pub fn spawn(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let this = Arc::clone(self);
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(this.ttl / 4);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                if let Err(e) = this.tick().await {
                    crate::telemetry::ownership_round_failed(&e);
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendezvous_spreads_and_moves_little() {
        let three: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let mut counts = HashMap::new();
        for shard in 0..300 {
            *counts
                .entry(rendezvous_owner(shard, &three).unwrap())
                .or_insert(0) += 1;
        }
        assert!(counts.values().all(|&c| c > 70), "{counts:?}");
        // Removing a node only moves that node's shards.
        let two: Vec<String> = ["a", "b"].map(String::from).to_vec();
        for shard in 0..300 {
            let before = rendezvous_owner(shard, &three).unwrap();
            if before != "c" {
                assert_eq!(rendezvous_owner(shard, &two).unwrap(), before);
            }
        }
    }
}
