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

/// Records that `user` (with these names) was in `context`, for people search. The
/// context's directory expires `ttl` after its last addition.
pub async fn directory_add(
    conn: &mut RedisConn,
    keys: &Keys,
    context: &str,
    user: &str,
    names: (&str, &str),
    ttl: Duration,
) -> Result<(), BusError> {
    let key = keys.directory(context);
    let value = format!("{}\u{1f}{}", names.0, names.1);
    let () = redis::pipe()
        .hset(&key, user, value)
        .ignore()
        .pexpire(&key, ttl.as_millis() as i64)
        .ignore()
        .query_async(conn)
        .await?;
    Ok(())
}

/// One member of a context's directory: `(given name, family name)`.
pub async fn directory_get(
    conn: &mut RedisConn,
    keys: &Keys,
    context: &str,
    user: &str,
) -> Result<Option<(String, String)>, BusError> {
    let value: Option<String> = conn.hget(keys.directory(context), user).await?;
    Ok(value.map(|v| split_names(&v)))
}

fn split_names(value: &str) -> (String, String) {
    let (given, family) = value.split_once('\u{1f}').unwrap_or((value, ""));
    (given.to_owned(), family.to_owned())
}

/// Everyone recorded in a context's directory: `(user, given name, family name)`.
pub async fn directory_members(
    conn: &mut RedisConn,
    keys: &Keys,
    context: &str,
) -> Result<Vec<(String, String, String)>, BusError> {
    let all: Vec<(String, String)> = conn.hgetall(keys.directory(context)).await?;
    Ok(all
        .into_iter()
        .map(|(user, value)| {
            let (given, family) = split_names(&value);
            (user, given, family)
        })
        .collect())
}
