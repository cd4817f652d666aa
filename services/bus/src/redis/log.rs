//! The event log on Redis Streams: one capped stream per context (entry id `<seq>-0`)
//! for recovery and rebuild, a snapshot per context so a new owner need not replay from
//! the beginning, and a stream per shard that the reporting service reads with a
//! consumer group. The reporting stream is not capped here: an append never drops what
//! a lagging reporter has not read; the reporter trims it only past what its group
//! acknowledged ([`ReportConsumer::trim`](super::report::ReportConsumer::trim)).
//! Appends and snapshots go through Lua scripts that check the shard lease first: a
//! node whose lease lapsed is refused.

use std::collections::HashMap;

use redis::{AsyncCommands, Script, streams::StreamRangeReply};

use super::{ClusterConfig, Fence, Keys, RedisConn, shard_of};
use crate::{BusError, LoadedContext, log::Snapshot};

const APPEND: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return redis.error_reply('FENCED lease ' .. KEYS[1] .. ' is not held by ' .. ARGV[1])
end
local epoch = redis.call('HGET', KEYS[4], 'epoch')
if not epoch then
  redis.call('HSET', KEYS[4], 'epoch', ARGV[3])
elseif epoch ~= ARGV[3] then
  return redis.error_reply('FENCED epoch ' .. epoch .. ' is not ' .. ARGV[3])
end
for i = 5, #ARGV, 2 do
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], ARGV[i] .. '-0', 'e', ARGV[i + 1])
  redis.call('XADD', KEYS[3], '*', 'c', ARGV[4], 'e', ARGV[i + 1])
end
return 'OK'
";

const SNAPSHOT: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return redis.error_reply('FENCED lease ' .. KEYS[1] .. ' is not held by ' .. ARGV[1])
end
local seq = tonumber(redis.call('HGET', KEYS[2], 'seq') or '0')
if tonumber(ARGV[2]) > seq then
  redis.call('HSET', KEYS[2], 'seq', ARGV[2], 'state', ARGV[3])
end
return 'OK'
";

/// The Redis Streams log.
#[derive(Clone)]
pub struct RedisLog {
    keys: Keys,
    conn: RedisConn,
    shards: u32,
    cap: u64,
    append: Script,
    snapshot: Script,
}

impl std::fmt::Debug for RedisLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLog")
            .field("shards", &self.shards)
            .finish()
    }
}

/// The event of a stream entry (field `e`; entry id `<seq>-0`).
fn decode_entry<E: crate::StoredEvent>(
    context_id: &str,
    entry: &redis::streams::StreamId,
) -> Result<E, BusError> {
    let Some(redis::Value::BulkString(payload)) = entry.map.get("e") else {
        return Err(BusError::CorruptEntry {
            context_id: context_id.to_owned(),
            entry: entry.id.clone(),
        });
    };
    E::decode(payload.as_slice()).map_err(|source| BusError::Corrupt {
        context_id: context_id.to_owned(),
        seq: entry
            .id
            .split('-')
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or_default(),
        source,
    })
}

fn fenced_or(e: redis::RedisError) -> BusError {
    if e.code() == Some("FENCED") || e.to_string().contains("FENCED") {
        BusError::Fenced(e.to_string())
    } else {
        BusError::Redis(e)
    }
}

impl RedisLog {
    pub fn new(config: &ClusterConfig, conn: RedisConn) -> Self {
        RedisLog {
            keys: Keys::new(&config.prefix, config.shards),
            conn,
            shards: config.shards,
            cap: config.stream_cap,
            append: Script::new(APPEND),
            snapshot: Script::new(SNAPSHOT),
        }
    }

    /// The shard of a context.
    pub fn shard_of(&self, context_id: &str) -> u32 {
        shard_of(context_id, self.shards)
    }

    /// Up to `limit` events of a stream with seqs in `from..=to` (entry ids
    /// `<seq>-0`), oldest or newest first: only what the capped stream still holds.
    pub async fn read_seqs<E: crate::StoredEvent>(
        &self,
        context_id: &str,
        from: u64,
        to: u64,
        limit: usize,
        newest_first: bool,
    ) -> Result<Vec<E>, BusError> {
        let key = self.keys.context_log(self.shard_of(context_id), context_id);
        let (start, end) = (format!("{from}-0"), format!("{to}-0"));
        let mut conn = self.conn.clone();
        let reply: StreamRangeReply = if newest_first {
            conn.xrevrange_count(key, end, start, limit).await?
        } else {
            conn.xrange_count(key, start, end, limit).await?
        };
        reply
            .ids
            .into_iter()
            .map(|entry| decode_entry(context_id, &entry))
            .collect()
    }

    /// Reads a context: epoch, latest snapshot and the events in its stream.
    pub async fn load<E: crate::StoredEvent>(
        &self,
        context_id: &str,
    ) -> Result<LoadedContext<E>, BusError> {
        let shard = self.shard_of(context_id);
        let mut conn = self.conn.clone();
        let epoch: Option<u64> = conn
            .hget(self.keys.context_meta(shard, context_id), "epoch")
            .await?;
        let snap: HashMap<String, Vec<u8>> = conn
            .hgetall(self.keys.context_snapshot(shard, context_id))
            .await?;
        let snapshot = match (snap.get("seq"), snap.get("state")) {
            (Some(seq), Some(state)) => {
                let seq = std::str::from_utf8(seq)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| BusError::CorruptSnapshot(context_id.to_owned()))?;
                Some(Snapshot {
                    seq,
                    state: state.clone(),
                })
            }
            _ => None,
        };
        let reply: StreamRangeReply = conn
            .xrange_all(self.keys.context_log(shard, context_id))
            .await?;
        let mut events = Vec::with_capacity(reply.ids.len());
        for entry in reply.ids {
            events.push(decode_entry(context_id, &entry)?);
        }
        Ok(LoadedContext {
            epoch,
            snapshot,
            events,
        })
    }

    /// Appends events, refused unless `fence` still holds the shard's lease.
    pub async fn append(
        &self,
        context_id: &str,
        epoch: u64,
        events: &[impl crate::StoredEvent],
        fence: &Fence,
    ) -> Result<(), BusError> {
        let shard = fence.shard;
        let mut invocation = self.append.prepare_invoke();
        invocation
            .key(self.keys.lease(shard))
            .key(self.keys.context_log(shard, context_id))
            .key(self.keys.report_stream(shard))
            .key(self.keys.context_meta(shard, context_id))
            .arg(fence.token.as_ref())
            .arg(self.cap)
            .arg(epoch)
            .arg(context_id);
        for event in events {
            invocation.arg(event.seq()).arg(event.encode_to_vec());
        }
        let mut conn = self.conn.clone();
        let _: String = invocation
            .invoke_async(&mut conn)
            .await
            .map_err(fenced_or)?;
        Ok(())
    }

    /// Stores a snapshot of a context at `seq` (kept only if newer than the stored one).
    pub async fn store_snapshot(
        &self,
        context_id: &str,
        seq: u64,
        state: &[u8],
        fence: &Fence,
    ) -> Result<(), BusError> {
        let mut conn = self.conn.clone();
        let _: String = self
            .snapshot
            .key(self.keys.lease(fence.shard))
            .key(self.keys.context_snapshot(fence.shard, context_id))
            .arg(fence.token.as_ref())
            .arg(seq)
            .arg(state)
            .invoke_async(&mut conn)
            .await
            .map_err(fenced_or)?;
        Ok(())
    }
}
