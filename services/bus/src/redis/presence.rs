//! Presence across nodes: each node writes its own counts per context to a hash that
//! expires unless refreshed, so a dead node's counts vanish within the TTL.

use std::time::Duration;

use redis::AsyncCommands;

use super::{Keys, RedisConn};
use crate::BusError;

/// Counts of one context on one node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub attendees: u32,
    pub moderators: u32,
    pub connections: u32,
}

/// Replaces this node's presence hash with `entries`, expiring after `ttl`.
pub async fn publish(
    conn: &mut RedisConn,
    keys: &Keys,
    node: &str,
    entries: &[(String, Counts)],
    ttl: Duration,
) -> Result<(), BusError> {
    let key = keys.presence(node);
    let mut pipe = redis::pipe();
    pipe.atomic().del(&key).ignore();
    if !entries.is_empty() {
        let fields: Vec<(&str, String)> = entries
            .iter()
            .map(|(ctx, c)| {
                (
                    ctx.as_str(),
                    format!("{},{},{}", c.attendees, c.moderators, c.connections),
                )
            })
            .collect();
        pipe.hset_multiple(&key, &fields).ignore();
        pipe.pexpire(&key, ttl.as_millis() as i64).ignore();
    }
    let () = pipe.query_async(conn).await?;
    Ok(())
}

/// Sums a context's counts over `nodes`.
pub async fn read(
    conn: &mut RedisConn,
    keys: &Keys,
    nodes: &[String],
    context: &str,
) -> Result<Counts, BusError> {
    let mut total = Counts::default();
    for node in nodes {
        let value: Option<String> = conn.hget(keys.presence(node), context).await?;
        let Some(value) = value else { continue };
        let parts: Vec<u32> = value.split(',').filter_map(|p| p.parse().ok()).collect();
        if let [a, m, c] = parts[..] {
            total.attendees += a;
            total.moderators += m;
            total.connections += c;
        }
    }
    Ok(total)
}
