//! Redis key and channel names. Everything of one shard shares a hash tag.

/// Builds names under one prefix.
#[derive(Clone, Debug)]
pub struct Keys {
    prefix: String,
    shards: u32,
}

impl Keys {
    pub fn new(prefix: &str, shards: u32) -> Self {
        Keys {
            prefix: prefix.to_owned(),
            shards,
        }
    }

    fn tag(&self, shard: u32) -> String {
        format!("{{{}:s{shard}}}", self.prefix)
    }

    /// The shard lease: `<node>:<fence>`, with a TTL.
    pub fn lease(&self, shard: u32) -> String {
        format!("{}:lease", self.tag(shard))
    }

    /// The shard's fencing counter; never expires, only grows.
    pub fn fence(&self, shard: u32) -> String {
        format!("{}:fence", self.tag(shard))
    }

    /// A context's capped event stream (entry id `<seq>-0`).
    pub fn context_log(&self, shard: u32, context: &str) -> String {
        format!("{}:ctx:{context}:log", self.tag(shard))
    }

    /// A context's metadata hash (`epoch`).
    pub fn context_meta(&self, shard: u32, context: &str) -> String {
        format!("{}:ctx:{context}:meta", self.tag(shard))
    }

    /// A context's latest snapshot (`seq`, `state`).
    pub fn context_snapshot(&self, shard: u32, context: &str) -> String {
        format!("{}:ctx:{context}:snap", self.tag(shard))
    }

    /// The shard's partition of the reporting stream (fields `c` = stream id, `e` =
    /// event), read by the [`REPORT_GROUP`](super::report::REPORT_GROUP) consumer group
    /// and trimmed only past what that group acknowledged.
    pub fn report_stream(&self, shard: u32) -> String {
        format!("{}:report", self.tag(shard))
    }

    /// The reporter lease of a shard's reporting stream: `<consumer>:<fence>`, with a
    /// TTL. Separate from the node lease ([`Keys::lease`]): it says which reporting
    /// process may read the stream, not which node may write the shard.
    pub fn report_lease(&self, shard: u32) -> String {
        format!("{}:report:lease", self.tag(shard))
    }

    /// The fencing counter of a shard's reporter lease; never expires, only grows.
    pub fn report_fence(&self, shard: u32) -> String {
        format!("{}:report:fence", self.tag(shard))
    }

    /// Live reporting processes: a sorted set of consumer name → last heartbeat (ms).
    pub fn reporters(&self) -> String {
        format!("{{{}}}:reporters", self.prefix)
    }

    /// Live nodes: a sorted set of node id → last heartbeat (ms).
    pub fn nodes(&self) -> String {
        format!("{}:nodes", self.prefix)
    }

    /// Written once by the first node; its disappearance means Redis lost its data.
    pub fn generation(&self) -> String {
        format!("{}:generation", self.prefix)
    }

    /// A node's presence counts per context (hash, expires unless refreshed).
    /// Who was seen in a context, for people search (in the context's shard).
    pub fn directory(&self, context: &str) -> String {
        format!(
            "{}:dir:{context}",
            self.tag(super::shard_of(context, self.shards))
        )
    }

    pub fn presence(&self, node: &str) -> String {
        format!("{{{}:presence:{node}}}", self.prefix)
    }

    /// Pub/sub channel of a bus channel. It carries its context's shard tag, so on a
    /// Redis Cluster the sharded channel lives with the shard's keys.
    pub fn channel(&self, channel: &crate::Channel) -> String {
        match channel {
            crate::Channel::ContextPublic(id) => {
                format!("{}:ch:pub:{id}", self.tag(super::shard_of(id, self.shards)))
            }
            crate::Channel::ContextModerators(id) => {
                format!("{}:ch:mod:{id}", self.tag(super::shard_of(id, self.shards)))
            }
            // The context id's length first, so ids and user ids may hold any character.
            crate::Channel::ContextUser(id, user) => format!(
                "{}:ch:usr:{}:{id}{user}",
                self.tag(super::shard_of(id, self.shards)),
                id.len()
            ),
            crate::Channel::Private(id) => {
                format!("{}:ch:prv:{id}", self.tag(super::shard_of(id, self.shards)))
            }
        }
    }

    /// The bus channel a pub/sub channel name stands for, if it is one.
    pub fn parse_channel(&self, name: &str) -> Option<crate::Channel> {
        let (_, rest) = name.split_once("}:ch:")?;
        if let Some(id) = rest.strip_prefix("pub:") {
            return Some(crate::Channel::ContextPublic(std::sync::Arc::from(id)));
        }
        if let Some(id) = rest.strip_prefix("mod:") {
            return Some(crate::Channel::ContextModerators(std::sync::Arc::from(id)));
        }
        if let Some(id) = rest.strip_prefix("prv:") {
            return Some(crate::Channel::Private(std::sync::Arc::from(id)));
        }
        let rest = rest.strip_prefix("usr:")?;
        let (len, ids) = rest.split_once(':')?;
        let len: usize = len.parse().ok()?;
        let (id, user) = (ids.get(..len)?, ids.get(len..)?);
        Some(crate::Channel::ContextUser(
            std::sync::Arc::from(id),
            std::sync::Arc::from(user),
        ))
    }

    /// Pub/sub channel on which a node receives forwarded commands and replies.
    pub fn rpc(&self, node: &str) -> String {
        format!("{{{}:rpc:{node}}}", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Channel;

    #[test]
    fn channels_carry_their_shard_tag_and_parse_back() {
        let keys = Keys::new("p", 8);
        let channel = Channel::ContextModerators("web:inar".into());
        let name = keys.channel(&channel);
        let shard = crate::redis::shard_of("web:inar", 8);
        assert!(
            name.starts_with(&format!("{{p:s{shard}}}:ch:mod:")),
            "{name}"
        );
        assert_eq!(keys.parse_channel(&name), Some(channel));
        assert_eq!(keys.parse_channel(&keys.rpc("n1")), None);
        let user = Channel::ContextUser("a:b".into(), "u:1".into());
        assert_eq!(keys.parse_channel(&keys.channel(&user)), Some(user));
        let private = Channel::Private("~u/a:b".into());
        assert_eq!(keys.parse_channel(&keys.channel(&private)), Some(private));
    }
}
