//! Redis key and channel names. Everything of one shard shares a hash tag.

/// Builds names under one prefix.
#[derive(Clone, Debug)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    pub fn new(prefix: &str) -> Self {
        Keys {
            prefix: prefix.to_owned(),
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

    /// The shard's partition of the reporting stream.
    pub fn report_stream(&self, shard: u32) -> String {
        format!("{}:report", self.tag(shard))
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
    pub fn presence(&self, node: &str) -> String {
        format!("{}:presence:{node}", self.prefix)
    }

    /// Pub/sub channel of a bus channel.
    pub fn channel(&self, channel: &crate::Channel) -> String {
        match channel {
            crate::Channel::ContextPublic(id) => format!("{}:ch:pub:{id}", self.prefix),
            crate::Channel::ContextModerators(id) => format!("{}:ch:mod:{id}", self.prefix),
        }
    }

    /// Pub/sub channel on which a node receives forwarded commands and replies.
    pub fn rpc(&self, node: &str) -> String {
        format!("{}:rpc:{node}", self.prefix)
    }

    /// Prefix of every channel, to tell bus channels from RPC ones.
    pub fn channel_prefix(&self) -> String {
        format!("{}:ch:", self.prefix)
    }
}
