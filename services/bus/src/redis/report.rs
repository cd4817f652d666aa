//! The reporting side of the per-shard reporting streams (`{<prefix>:s<shard>}:report`,
//! written by the log's append script): a [`ReportConsumer`] per reporting process reads
//! them with the consumer group [`REPORT_GROUP`], acknowledges what the store committed
//! and trims each stream only past what the group acknowledged.
//!
//! **One reader per shard.** The store skips an event at or before a stream's
//! high-water mark, so if two consumers read one shard at once, a later batch could
//! commit first and the earlier one would be skipped, i.e. lost. A reporter therefore
//! reads a shard only while it holds the shard's reporter lease
//! (`{<prefix>:s<shard>}:report:lease` = `<consumer>:<fence>`, with a TTL; kept apart
//! from the node leases of [`super::lease`]). The fence grows at every acquisition
//! (`…:report:fence`, never expires); the store commits a batch only if the fence it was
//! read under is not older than the one it stored for the shard, which fences off a
//! reporter whose lease lapsed while it was still running. In Redis the lease is checked
//! by the same script that moves entries into this consumer's pending list, so a
//! reporter that lost its lease cannot take a single entry away from the new holder.
//!
//! **Fair share.** Live reporters heartbeat into the sorted set `{<prefix>}:reporters`.
//! Each [`ReportConsumer::balance`] round renews this reporter's leases, then takes free
//! shards up to `ceil(shards / live)` and gives back the ones beyond it, preferring the
//! shards it ranks first for (rendezvous hashing), so reporters rarely contend.
//!
//! **Blocking.** Reads go through Lua (which cannot block). When nothing is there, a
//! single Redis is waited on with `XREAD BLOCK` of at most 200 ms on the consumer's
//! connection (a multiplexed connection: other commands on it wait that long at most);
//! on a Redis Cluster, where one `XREAD` cannot span shards, it polls every 100 ms.

use std::{
    collections::{BTreeMap, HashMap},
    time::{Duration, Instant},
};

use redis::{AsyncCommands, Script, Value};

use super::{Keys, RedisConn, stable_hash};
use crate::{BusError, now_ms};

/// The consumer group of the reporting streams.
pub const REPORT_GROUP: &str = "reporting";

/// Longest `XREAD BLOCK` on the (shared, multiplexed) connection.
const MAX_BLOCK: Duration = Duration::from_millis(200);
/// Poll interval on a Redis Cluster, where one blocking read cannot span shards.
const CLUSTER_POLL: Duration = Duration::from_millis(100);
/// Most entries counted one by one when Redis cannot tell a group's lag.
const LAG_SCAN_CAP: u64 = 10_000;

/// Takes a free lease (or one left by an earlier process of the same consumer name)
/// with a new fence. Returns the fence, or nil when another consumer holds it.
const ACQUIRE: &str = r"
local cur = redis.call('GET', KEYS[1])
if cur and string.match(cur, '^(.*):%d+$') ~= ARGV[1] then
  return false
end
local fence = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. fence, 'PX', ARGV[2])
return fence
";

const RENEW: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
";

const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// After taking a shard: (re)creates the group, moves every pending entry of the group
/// to this consumer (whoever read it before) and forgets consumers left with nothing
/// pending. Fenced: only the lease holder may.
const CLAIM: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return redis.error_reply('FENCED report lease ' .. KEYS[1] .. ' is not held by ' .. ARGV[1])
end
redis.pcall('XGROUP', 'CREATE', KEYS[2], ARGV[2], '0', 'MKSTREAM')
local start = '0-0'
local claimed = 0
repeat
  local r = redis.call('XAUTOCLAIM', KEYS[2], ARGV[2], ARGV[3], 0, start, 'COUNT', 1000, 'JUSTID')
  start = r[1]
  claimed = claimed + #r[2]
until start == '0-0'
for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[2], ARGV[2])) do
  local f = {}
  for i = 1, #c, 2 do f[c[i]] = c[i + 1] end
  if f['name'] ~= ARGV[3] and f['pending'] == 0 then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[2], ARGV[2], f['name'])
  end
end
return claimed
";

/// Fenced read: this consumer's pending entries after ARGV[5] (unless it is `>`), else
/// new ones. Returns {'pending'|'new', entries} or {'idle', {}, <id of the last entry>}.
const READ: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return redis.error_reply('FENCED report lease ' .. KEYS[1] .. ' is not held by ' .. ARGV[1])
end
if ARGV[5] ~= '>' then
  local r = redis.call('XREADGROUP', 'GROUP', ARGV[2], ARGV[3], 'COUNT', ARGV[4], 'STREAMS', KEYS[2], ARGV[5])
  if r and r[1] and #r[1][2] > 0 then return {'pending', r[1][2]} end
end
local r = redis.call('XREADGROUP', 'GROUP', ARGV[2], ARGV[3], 'COUNT', ARGV[4], 'STREAMS', KEYS[2], '>')
if r and r[1] and #r[1][2] > 0 then return {'new', r[1][2]} end
local tail = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
local last = '0-0'
if tail[1] then last = tail[1][1] end
return {'idle', {}, last}
";

/// Trims below the group's safe point: its smallest pending id, or (nothing pending)
/// just past its last-delivered id. Atomic, so no delivery slips in between.
const TRIM: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local pending = redis.pcall('XPENDING', KEYS[1], ARGV[1])
if pending.err then return 0 end
local safe
if pending[1] > 0 then
  safe = pending[2]
else
  for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
    local f = {}
    for i = 1, #g, 2 do f[g[i]] = g[i + 1] end
    if f['name'] == ARGV[1] then
      local ms, seq = string.match(f['last-delivered-id'], '^(%d+)-(%d+)$')
      if ms and #seq < 15 then
        safe = ms .. '-' .. (tonumber(seq) + 1)
      else
        safe = f['last-delivered-id']
      end
    end
  end
end
if not safe then return 0 end
return redis.call('XTRIM', KEYS[1], 'MINID', safe)
";

/// Undelivered plus pending entries of the group. Redis 7.0 reports no `lag` when it
/// cannot tell (an XDEL after the last-delivered id): then the entries after it are
/// counted, at most ARGV[2] of them.
const LAG: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local f = {}
  for i = 1, #g, 2 do f[g[i]] = g[i + 1] end
  if f['name'] == ARGV[1] then
    local lag = f['lag']
    if not lag then
      lag = #redis.call('XRANGE', KEYS[1], '(' .. f['last-delivered-id'], '+', 'COUNT', ARGV[2])
    end
    return lag + f['pending']
  end
end
return redis.call('XLEN', KEYS[1])
";

/// How a reporting process takes part.
#[derive(Clone, Debug)]
pub struct ReportConsumerConfig {
    pub prefix: String,
    pub shards: u32,
    /// Unique among the running reporters (a restarted process may reuse its name: it
    /// then takes over its predecessor's leases at once, with new fences).
    pub consumer: String,
    /// Reporter lease TTL; call [`ReportConsumer::balance`] every third of it.
    pub lease_ttl: Duration,
}

/// What a [`ReportConsumer::balance`] round changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Balance {
    /// Shards taken in this round.
    pub acquired: Vec<u32>,
    /// Shards given back (beyond the fair share).
    pub released: Vec<u32>,
    /// Shards whose lease was found no longer ours (here or by a read since the last
    /// round): dropped at once.
    pub lost: Vec<u32>,
    /// Live reporters seen, this one included.
    pub live: usize,
}

/// One entry read: where it is (for [`ReportConsumer::ack`]) and what it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportEntry {
    pub shard: u32,
    /// The Redis entry id.
    pub id: String,
    /// The milliseconds part of the id (when it was appended).
    pub at_ms: u64,
    /// Field `c`: the stream id (context id, `~u/…`, `~dm/…`); empty if missing.
    pub stream_id: String,
    /// Field `e`: the protobuf-encoded event; empty if missing.
    pub payload: Vec<u8>,
    /// The reporter fence the entry was read under: commit it only if the store's fence
    /// for the shard is not newer.
    pub fence: u64,
}

/// A shard this consumer holds.
#[derive(Debug)]
struct Held {
    token: String,
    fence: u64,
    /// The pending entries of earlier holders are not claimed yet.
    claim: bool,
    /// `Some(id)`: still handing out this consumer's pending entries after `id`.
    cursor: Option<String>,
}

/// Reads the reporting streams of the shards this process holds (see the module docs).
pub struct ReportConsumer {
    config: ReportConsumerConfig,
    keys: Keys,
    conn: RedisConn,
    held: BTreeMap<u32, Held>,
    lost: Vec<u32>,
    last_renewal: Instant,
    rotation: usize,
    acquire: Script,
    renew: Script,
    release: Script,
    claim: Script,
    read: Script,
    trim: Script,
    lag: Script,
}

impl std::fmt::Debug for ReportConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportConsumer")
            .field("consumer", &self.config.consumer)
            .field("held", &self.fences())
            .finish()
    }
}

/// Whether a (possibly script-raised) error carries this code.
fn has_code(e: &redis::RedisError, code: &str) -> bool {
    e.code() == Some(code) || e.to_string().contains(code)
}

fn is_fenced(e: &redis::RedisError) -> bool {
    has_code(e, "FENCED")
}

fn bytes(value: &Value) -> Option<&[u8]> {
    match value {
        Value::BulkString(b) => Some(b),
        Value::SimpleString(s) => Some(s.as_bytes()),
        _ => None,
    }
}

fn text(value: &Value) -> Option<String> {
    bytes(value).map(|b| String::from_utf8_lossy(b).into_owned())
}

fn invalid(what: &str) -> BusError {
    BusError::Redis(redis::RedisError::from((
        redis::ErrorKind::UnexpectedReturnType,
        "unexpected reporting stream reply",
        what.to_owned(),
    )))
}

/// Entries of an `XREADGROUP` reply for one stream: `[[id, [field, value, …] | nil], …]`.
/// An entry without `c` or `e` (or deleted, nil) is kept with empty values.
fn parse_entries(shard: u32, fence: u64, entries: &Value) -> Result<Vec<ReportEntry>, BusError> {
    let Value::Array(entries) = entries else {
        return Err(invalid("entries are not an array"));
    };
    let mut out = Vec::with_capacity(entries.len());
    for entry in entries {
        let Value::Array(parts) = entry else {
            return Err(invalid("entry is not an array"));
        };
        let id = parts
            .first()
            .and_then(text)
            .ok_or_else(|| invalid("entry without id"))?;
        let mut stream_id = String::new();
        let mut payload = Vec::new();
        if let Some(Value::Array(fields)) = parts.get(1) {
            for pair in fields.chunks(2) {
                match (pair.first().and_then(bytes), pair.get(1).and_then(bytes)) {
                    (Some(b"c"), Some(v)) => stream_id = String::from_utf8_lossy(v).into_owned(),
                    (Some(b"e"), Some(v)) => payload = v.to_vec(),
                    _ => {}
                }
            }
        }
        let at_ms = id
            .split('-')
            .next()
            .and_then(|ms| ms.parse().ok())
            .unwrap_or_default();
        out.push(ReportEntry {
            shard,
            id,
            at_ms,
            stream_id,
            payload,
            fence,
        });
    }
    Ok(out)
}

impl ReportConsumer {
    /// Creates the consumer group on every shard's stream (`XGROUP CREATE <stream>
    /// reporting 0 MKSTREAM`, an existing group is kept). Holds no shard yet: call
    /// [`balance`](Self::balance).
    pub async fn new(config: ReportConsumerConfig, conn: RedisConn) -> Result<Self, BusError> {
        let keys = Keys::new(&config.prefix, config.shards);
        let creates = (0..config.shards).map(|shard| {
            let mut conn = conn.clone();
            let stream = keys.report_stream(shard);
            async move {
                match conn
                    .xgroup_create_mkstream::<_, _, _, ()>(&stream, REPORT_GROUP, "0")
                    .await
                {
                    Err(e) if has_code(&e, "BUSYGROUP") => Ok(()),
                    other => other,
                }
            }
        });
        futures_util::future::join_all(creates)
            .await
            .into_iter()
            .collect::<Result<Vec<()>, _>>()?;
        Ok(ReportConsumer {
            config,
            keys,
            conn,
            held: BTreeMap::new(),
            lost: Vec::new(),
            last_renewal: Instant::now(),
            rotation: 0,
            acquire: Script::new(ACQUIRE),
            renew: Script::new(RENEW),
            release: Script::new(RELEASE),
            claim: Script::new(CLAIM),
            read: Script::new(READ),
            trim: Script::new(TRIM),
            lag: Script::new(LAG),
        })
    }

    /// This reporter's consumer name.
    pub fn consumer(&self) -> &str {
        &self.config.consumer
    }

    /// Shards held, in order.
    pub fn held(&self) -> Vec<u32> {
        self.held.keys().copied().collect()
    }

    /// `(shard, fence)` of each shard held.
    pub fn fences(&self) -> Vec<(u32, u64)> {
        self.held.iter().map(|(s, h)| (*s, h.fence)).collect()
    }

    fn preference(&self, shard: u32) -> u64 {
        stable_hash(&[self.config.consumer.as_bytes(), &shard.to_le_bytes()])
    }

    fn drop_shard(&mut self, shard: u32) {
        if self.held.remove(&shard).is_some() {
            self.lost.push(shard);
        }
    }

    /// One round, every third of the lease TTL: heartbeat (`ZADD`, drop reporters silent
    /// for 3 TTLs), renew held leases (compare-and-`PEXPIRE`; one no longer ours is
    /// dropped at once), read every lease (`GET`), then take free shards up to
    /// `ceil(shards / live)` (`INCR` fence + `SET PX`) or give back those beyond it
    /// (compare-and-`DEL`). A reporter counts as live while its heartbeat is younger
    /// than one TTL (by then a dead one's leases have lapsed too).
    pub async fn balance(&mut self) -> Result<Balance, BusError> {
        let started = Instant::now();
        let result = self.balance_inner(started).await;
        if result.is_err() && self.last_renewal.elapsed() >= self.config.lease_ttl {
            // Our leases have lapsed in Redis by now: stop reading.
            for shard in self.held() {
                self.drop_shard(shard);
            }
        }
        result
    }

    async fn balance_inner(&mut self, started: Instant) -> Result<Balance, BusError> {
        let mut conn = self.conn.clone();
        let ttl_ms = self.config.lease_ttl.as_millis().max(1) as u64;
        let now = now_ms();
        let reporters = self.keys.reporters();
        let _: () = conn.zadd(&reporters, &self.config.consumer, now).await?;
        let _: () = conn
            .zrembyscore(&reporters, 0, now.saturating_sub(3 * ttl_ms + 1))
            .await?;
        let live: Vec<String> = conn
            .zrangebyscore(&reporters, now.saturating_sub(ttl_ms), "+inf")
            .await?;
        let live = live.len() + usize::from(!live.contains(&self.config.consumer));

        // Renew what we hold.
        let renewals = self.held.iter().map(|(&shard, held)| {
            let mut conn = self.conn.clone();
            let mut invocation = self.renew.prepare_invoke();
            invocation
                .key(self.keys.report_lease(shard))
                .arg(&held.token)
                .arg(ttl_ms);
            async move {
                let kept: i64 = invocation.invoke_async(&mut conn).await?;
                Ok::<_, redis::RedisError>((shard, kept == 1))
            }
        });
        let renewals = futures_util::future::join_all(renewals).await;
        let mut first_error = None;
        for renewal in renewals {
            match renewal {
                Ok((_, true)) => {}
                Ok((shard, false)) => self.drop_shard(shard),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        if let Some(e) = first_error {
            return Err(e.into());
        }
        self.last_renewal = started;

        // Who holds what.
        let reads = (0..self.config.shards).map(|shard| {
            let mut conn = self.conn.clone();
            let key = self.keys.report_lease(shard);
            async move { conn.get::<_, Option<String>>(key).await }
        });
        let tokens: Vec<Option<String>> = futures_util::future::join_all(reads)
            .await
            .into_iter()
            .collect::<Result<_, _>>()?;

        let target = (self.config.shards as usize).div_ceil(live.max(1));
        let mut balance = Balance {
            live,
            ..Balance::default()
        };
        if self.held.len() > target {
            let mut mine = self.held();
            mine.sort_by_key(|&s| self.preference(s));
            let extra = self.held.len() - target;
            let mut releases = Vec::new();
            for shard in mine.into_iter().take(extra) {
                // Stop reading before the lease is given back.
                let Some(held) = self.held.remove(&shard) else {
                    continue;
                };
                balance.released.push(shard);
                let mut conn = self.conn.clone();
                let mut invocation = self.release.prepare_invoke();
                invocation
                    .key(self.keys.report_lease(shard))
                    .arg(held.token);
                releases.push(async move { invocation.invoke_async::<i64>(&mut conn).await });
            }
            if let Some(e) = futures_util::future::join_all(releases)
                .await
                .into_iter()
                .find_map(Result::err)
            {
                first_error.get_or_insert(e);
            }
        } else if self.held.len() < target {
            let mut free: Vec<u32> = tokens
                .iter()
                .enumerate()
                .filter(|&(shard, token)| {
                    let shard = shard as u32;
                    !self.held.contains_key(&shard)
                        && token.as_deref().is_none_or(|t| {
                            t.rsplit_once(':').map(|(name, _)| name)
                                == Some(self.config.consumer.as_str())
                        })
                })
                .map(|(shard, _)| shard as u32)
                .collect();
            free.sort_by_key(|&s| std::cmp::Reverse(self.preference(s)));
            free.truncate(target - self.held.len());
            let acquisitions = free.into_iter().map(|shard| {
                let mut conn = self.conn.clone();
                let mut invocation = self.acquire.prepare_invoke();
                invocation
                    .key(self.keys.report_lease(shard))
                    .key(self.keys.report_fence(shard))
                    .arg(&self.config.consumer)
                    .arg(ttl_ms);
                async move {
                    let fence: Option<u64> = invocation.invoke_async(&mut conn).await?;
                    Ok::<_, redis::RedisError>((shard, fence))
                }
            });
            for result in futures_util::future::join_all(acquisitions).await {
                match result {
                    Ok((shard, Some(fence))) => {
                        self.held.insert(
                            shard,
                            Held {
                                token: format!("{}:{fence}", self.config.consumer),
                                fence,
                                claim: true,
                                cursor: Some("0-0".to_owned()),
                            },
                        );
                        balance.acquired.push(shard);
                    }
                    Ok((_, None)) => {}
                    Err(e) => {
                        first_error.get_or_insert(e);
                    }
                }
            }
        }
        if let Some(e) = first_error {
            // Lost shards stay queued for the next round's report.
            return Err(e.into());
        }
        balance.lost = std::mem::take(&mut self.lost);
        balance.lost.sort_unstable();
        balance.lost.dedup();
        Ok(balance)
    }

    /// Up to `count` entries of the held shards, in stream order per shard, waiting at
    /// most `block` when there are none. After taking a shard, first every entry an
    /// earlier holder read but did not acknowledge (`XAUTOCLAIM` to this consumer) and
    /// this consumer's own pending ones (`XREADGROUP … ID <after>`), then new ones
    /// (`XREADGROUP … >`). All of it runs in a script that first checks the lease, so a
    /// shard whose lease is gone is dropped here and reads nothing. Shards take turns
    /// being read first. An entry handed out is not handed out again by this consumer
    /// unless [`rewind`](Self::rewind) is called; until acknowledged it stays pending and
    /// goes to the next holder of the shard.
    pub async fn read(
        &mut self,
        count: usize,
        block: Duration,
    ) -> Result<Vec<ReportEntry>, BusError> {
        let deadline = Instant::now() + block;
        loop {
            let mut out = Vec::new();
            let mut tails = Vec::new();
            let held = self.held();
            let n = held.len();
            for k in 0..n {
                if out.len() >= count {
                    break;
                }
                let shard = held[(self.rotation + k) % n];
                match self.read_shard(shard, count - out.len()).await {
                    Ok(ShardRead::Entries(entries)) => out.extend(entries),
                    Ok(ShardRead::Idle(tail)) => tails.push((shard, tail)),
                    Ok(ShardRead::Fenced) => self.drop_shard(shard),
                    // Entries already moved to our pending list must reach the caller;
                    // the error comes back on the next call.
                    Err(_) if !out.is_empty() => break,
                    Err(e) => return Err(e),
                }
            }
            self.rotation = self.rotation.wrapping_add(1);
            let now = Instant::now();
            if !out.is_empty() || count == 0 || now >= deadline {
                return Ok(out);
            }
            let wait = (deadline - now).min(MAX_BLOCK);
            if tails.is_empty() || self.conn.is_cluster() {
                tokio::time::sleep(wait.min(CLUSTER_POLL)).await;
                continue;
            }
            let ms = wait.as_millis().max(1) as u64;
            let mut cmd = redis::cmd("XREAD");
            cmd.arg("COUNT").arg(1).arg("BLOCK").arg(ms).arg("STREAMS");
            for (shard, _) in &tails {
                cmd.arg(self.keys.report_stream(*shard));
            }
            for (_, tail) in &tails {
                cmd.arg(tail);
            }
            let mut conn = self.conn.clone();
            let _: Value = cmd.query_async(&mut conn).await?;
        }
    }

    async fn read_shard(&mut self, shard: u32, count: usize) -> Result<ShardRead, BusError> {
        let mut conn = self.conn.clone();
        let Some(held) = self.held.get(&shard) else {
            return Ok(ShardRead::Fenced);
        };
        let (token, fence) = (held.token.clone(), held.fence);
        let lease = self.keys.report_lease(shard);
        let stream = self.keys.report_stream(shard);
        if held.claim {
            let claimed: Result<i64, _> = self
                .claim
                .key(&lease)
                .key(&stream)
                .arg(&token)
                .arg(REPORT_GROUP)
                .arg(&self.config.consumer)
                .invoke_async(&mut conn)
                .await;
            match claimed {
                Ok(_) => {}
                Err(e) if is_fenced(&e) => return Ok(ShardRead::Fenced),
                Err(e) => return Err(e.into()),
            }
            if let Some(held) = self.held.get_mut(&shard) {
                held.claim = false;
            }
        }
        let cursor = self
            .held
            .get(&shard)
            .and_then(|h| h.cursor.clone())
            .unwrap_or_else(|| ">".to_owned());
        let reply: Result<Value, _> = self
            .read
            .key(&lease)
            .key(&stream)
            .arg(&token)
            .arg(REPORT_GROUP)
            .arg(&self.config.consumer)
            .arg(count)
            .arg(&cursor)
            .invoke_async(&mut conn)
            .await;
        let reply = match reply {
            Ok(reply) => reply,
            Err(e) if is_fenced(&e) => return Ok(ShardRead::Fenced),
            Err(e) if has_code(&e, "NOGROUP") => {
                // The stream or its group is gone (Redis lost its data): the next read
                // recreates the group and starts over from whatever is in the stream.
                if let Some(held) = self.held.get_mut(&shard) {
                    held.claim = true;
                    held.cursor = Some("0-0".to_owned());
                }
                return Ok(ShardRead::Idle("0-0".to_owned()));
            }
            Err(e) => return Err(e.into()),
        };
        let Value::Array(parts) = reply else {
            return Err(invalid("read reply is not an array"));
        };
        let kind = parts.first().and_then(text).unwrap_or_default();
        let entries = match parts.get(1) {
            Some(entries) => parse_entries(shard, fence, entries)?,
            None => Vec::new(),
        };
        let Some(held) = self.held.get_mut(&shard) else {
            return Ok(ShardRead::Fenced);
        };
        match kind.as_str() {
            "pending" => {
                held.cursor = entries.last().map(|e| e.id.clone()).or(held.cursor.take());
                Ok(ShardRead::Entries(entries))
            }
            "new" => {
                held.cursor = None;
                Ok(ShardRead::Entries(entries))
            }
            _ => {
                held.cursor = None;
                let tail = parts.get(2).and_then(text).unwrap_or_else(|| "0-0".into());
                Ok(ShardRead::Idle(tail))
            }
        }
    }

    /// Makes the next reads hand out this consumer's unacknowledged entries again, from
    /// the oldest (after a batch could not be committed).
    pub fn rewind(&mut self) {
        for held in self.held.values_mut() {
            held.cursor = Some("0-0".to_owned());
        }
    }

    /// Acknowledges entries (`XACK`, per shard). Call only after the store committed
    /// them. Works whoever holds the shard now.
    pub async fn ack(&self, entries: &[ReportEntry]) -> Result<(), BusError> {
        let mut by_shard: HashMap<u32, Vec<&str>> = HashMap::new();
        for entry in entries {
            by_shard.entry(entry.shard).or_default().push(&entry.id);
        }
        let acks = by_shard.into_iter().map(|(shard, ids)| {
            let mut conn = self.conn.clone();
            let stream = self.keys.report_stream(shard);
            async move { conn.xack::<_, _, _, u64>(stream, REPORT_GROUP, &ids).await }
        });
        futures_util::future::join_all(acks)
            .await
            .into_iter()
            .collect::<Result<Vec<_>, _>>()?;
        Ok(())
    }

    /// Trims each held shard's stream (`XTRIM MINID`, exact) below the group's safe
    /// point, computed atomically in a script: its smallest pending id (`XPENDING`
    /// summary) if any is pending, else just past its last-delivered id (`XINFO
    /// GROUPS`). Nothing the group has not acknowledged is removed. Returns the number
    /// of entries removed.
    pub async fn trim(&self) -> Result<u64, BusError> {
        let trims = self.held.keys().map(|&shard| {
            let mut conn = self.conn.clone();
            let mut invocation = self.trim.prepare_invoke();
            invocation
                .key(self.keys.report_stream(shard))
                .arg(REPORT_GROUP);
            async move { invocation.invoke_async::<u64>(&mut conn).await }
        });
        let removed = futures_util::future::join_all(trims)
            .await
            .into_iter()
            .collect::<Result<Vec<u64>, _>>()?;
        Ok(removed.into_iter().sum())
    }

    /// Entries not yet delivered to the group plus those pending, summed over all
    /// shards (`XINFO GROUPS`: `lag` + `pending`). When Redis 7.0 cannot tell the lag
    /// (nil after an `XDEL` past the last-delivered id) the entries after the
    /// last-delivered id are counted in the script (`XRANGE (<last> + COUNT 10000`), so
    /// a shard then adds at most 10,000 + pending: a lower bound.
    pub async fn lag(&self) -> Result<u64, BusError> {
        let lags = (0..self.config.shards).map(|shard| {
            let mut conn = self.conn.clone();
            let mut invocation = self.lag.prepare_invoke();
            invocation
                .key(self.keys.report_stream(shard))
                .arg(REPORT_GROUP)
                .arg(LAG_SCAN_CAP);
            async move { invocation.invoke_async::<u64>(&mut conn).await }
        });
        let lags = futures_util::future::join_all(lags)
            .await
            .into_iter()
            .collect::<Result<Vec<u64>, _>>()?;
        Ok(lags.into_iter().sum())
    }

    /// Gives back every lease (compare-and-`DEL`) and leaves the live set (`ZREM`), so
    /// other reporters take the shards at once (graceful shutdown). Unacknowledged
    /// entries stay pending and go to the next holder.
    pub async fn release(&mut self) -> Result<(), BusError> {
        let held = std::mem::take(&mut self.held);
        let releases = held.into_iter().map(|(shard, held)| {
            let mut conn = self.conn.clone();
            let mut invocation = self.release.prepare_invoke();
            invocation
                .key(self.keys.report_lease(shard))
                .arg(held.token);
            async move { invocation.invoke_async::<i64>(&mut conn).await }
        });
        let released = futures_util::future::join_all(releases).await;
        let mut conn = self.conn.clone();
        let left: Result<(), _> = conn
            .zrem(self.keys.reporters(), &self.config.consumer)
            .await;
        if let Some(e) = released.into_iter().find_map(Result::err) {
            return Err(e.into());
        }
        left?;
        Ok(())
    }
}

/// What one fenced read of a shard gave.
enum ShardRead {
    Entries(Vec<ReportEntry>),
    /// Nothing new; the id of the stream's last entry (to wait after).
    Idle(String),
    /// The lease is no longer ours.
    Fenced,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_without_fields_are_kept() {
        let reply = Value::Array(vec![
            Value::Array(vec![
                Value::BulkString(b"17-0".to_vec()),
                Value::Array(vec![
                    Value::BulkString(b"c".to_vec()),
                    Value::BulkString(b"ctx".to_vec()),
                    Value::BulkString(b"e".to_vec()),
                    Value::BulkString(vec![1, 2]),
                ]),
            ]),
            Value::Array(vec![Value::BulkString(b"18-3".to_vec()), Value::Nil]),
        ]);
        let entries = parse_entries(2, 7, &reply).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(
            (entries[0].at_ms, entries[0].stream_id.as_str()),
            (17, "ctx")
        );
        assert_eq!(entries[0].payload, vec![1, 2]);
        assert_eq!(
            (entries[1].id.as_str(), entries[1].at_ms, entries[1].fence),
            ("18-3", 18, 7)
        );
        assert!(entries[1].stream_id.is_empty() && entries[1].payload.is_empty());
    }
}
