//! Pub/sub over Redis: one PUBLISH per event per channel, a subscription per channel
//! while this node has a local listener, and request/reply between nodes for commands
//! forwarded to a shard's owner.
//!
//! One subscriber connection carries every channel, so messages arrive in the order
//! Redis accepted them; they are dispatched one by one to the local hub. When that
//! connection drops, pushes may have been missed: after resubscribing, every local
//! listener is told to resync.

use std::{
    collections::HashMap,
    sync::{
        Arc, OnceLock, Weak,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use dashmap::DashMap;
use futures_util::StreamExt;
use plenary_proto::v1::internal::BusPush;
use prost::Message;
use redis::{PushKind, Value, cluster_async::ClusterConnection};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, warn};

use super::{ClusterConfig, Keys, PubSubSource, RedisConn};
use crate::{BusError, Channel, LocalDelivery};

/// Handles commands forwarded to this node. Called in arrival order; answer with
/// [`RedisBus::reply`].
pub trait RpcHandler: Send + Sync + 'static {
    fn handle(&self, from: String, id: u64, body: Vec<u8>);
}

const REQUEST: u8 = 0;
const REPLY: u8 = 1;

fn frame(kind: u8, id: u64, from: &str, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(11 + from.len() + body.len());
    out.push(kind);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&(from.len() as u16).to_be_bytes());
    out.extend_from_slice(from.as_bytes());
    out.extend_from_slice(body);
    out
}

fn parse_frame(bytes: &[u8]) -> Option<(u8, u64, String, Vec<u8>)> {
    let kind = *bytes.first()?;
    let id = u64::from_be_bytes(bytes.get(1..9)?.try_into().ok()?);
    let len = u16::from_be_bytes(bytes.get(9..11)?.try_into().ok()?) as usize;
    let from = std::str::from_utf8(bytes.get(11..11 + len)?)
        .ok()?
        .to_owned();
    Some((kind, id, from, bytes.get(11 + len..)?.to_vec()))
}

enum Control {
    Acquire(Vec<String>, oneshot::Sender<Result<(), BusError>>),
}

/// Releases owed to the subscriber task. A release is never dropped, however many
/// come at once (a mass disconnect): it is counted here, merged per channel, and the
/// task takes them all when woken. The map holds at most one entry per channel this
/// node listens to, so it is bounded by the subscriptions themselves — unlike a queue
/// of release messages, which had to be bounded and then lost releases when full
/// (leaking their subscriptions for good).
#[derive(Debug, Default)]
struct Releases {
    owed: std::sync::Mutex<HashMap<String, usize>>,
    wake: tokio::sync::Notify,
}

impl Releases {
    fn add(&self, names: Vec<String>) {
        let mut owed = self.owed.lock().unwrap_or_else(|e| e.into_inner());
        for name in names {
            *owed.entry(name).or_insert(0) += 1;
        }
        drop(owed);
        // Stores a permit when the task is busy: the wake-up is not lost either.
        self.wake.notify_one();
    }

    fn take(&self) -> HashMap<String, usize> {
        std::mem::take(&mut *self.owed.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// Removes a pending call's reply slot when the call ends.
struct Forget<'a> {
    pending: &'a DashMap<u64, oneshot::Sender<Vec<u8>>>,
    id: u64,
}

impl Drop for Forget<'_> {
    fn drop(&mut self) {
        self.pending.remove(&self.id);
    }
}

/// This node's Redis pub/sub.
pub struct RedisBus {
    keys: Keys,
    node_id: String,
    /// This node's forwarding channel, computed once.
    rpc_channel: String,
    publish_tx: mpsc::Sender<(String, Vec<u8>)>,
    control_tx: mpsc::Sender<Control>,
    releases: Arc<Releases>,
    pending: DashMap<u64, oneshot::Sender<Vec<u8>>>,
    next_id: AtomicU64,
    local: OnceLock<Weak<dyn LocalDelivery>>,
    handler: OnceLock<Weak<dyn RpcHandler>>,
    forward_timeout: Duration,
}

impl std::fmt::Debug for RedisBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisBus")
            .field("node_id", &self.node_id)
            .finish()
    }
}

impl RedisBus {
    /// Starts the publisher and subscriber tasks.
    pub fn start(config: &ClusterConfig, source: PubSubSource, publisher: RedisConn) -> Arc<Self> {
        let (publish_tx, publish_rx) = mpsc::channel(65_536);
        let (control_tx, control_rx) = mpsc::channel(4_096);
        let releases = Arc::new(Releases::default());
        let bus = Arc::new(RedisBus {
            keys: Keys::new(&config.prefix, config.shards),
            node_id: config.node_id.clone(),
            rpc_channel: Keys::new(&config.prefix, config.shards).rpc(&config.node_id),
            publish_tx,
            control_tx,
            releases: releases.clone(),
            pending: DashMap::new(),
            next_id: AtomicU64::new(1),
            local: OnceLock::new(),
            handler: OnceLock::new(),
            forward_timeout: config.forward_timeout,
        });
        tokio::spawn(run_publisher(publisher, publish_rx));
        match source {
            PubSubSource::Single(client) => {
                tokio::spawn(run_subscriber(
                    Arc::downgrade(&bus),
                    client,
                    control_rx,
                    releases,
                ));
            }
            PubSubSource::Cluster {
                conn,
                pushes,
                overflowed,
            } => {
                tokio::spawn(run_cluster_subscriber(
                    Arc::downgrade(&bus),
                    conn,
                    pushes,
                    overflowed,
                    control_rx,
                    releases,
                ));
            }
        }
        bus
    }

    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    /// Attaches the local hub.
    pub fn attach(&self, local: &Arc<dyn LocalDelivery>) {
        let _ = self.local.set(Arc::downgrade(local));
    }

    /// Attaches the handler of forwarded commands.
    pub fn set_rpc_handler(&self, handler: Weak<dyn RpcHandler>) {
        let _ = self.handler.set(handler);
    }

    /// Publishes a push (in order with every other publish of this node), with its
    /// client frames encoded here once for every node that relays it.
    pub async fn publish(&self, channel: &Channel, mut push: BusPush) {
        let name = self.keys.channel(channel);
        if let Some(shown) = &push.push
            && !push.announce
            && push.frame_json.is_empty()
        {
            let (json, proto) = plenary_proto::wire::push_frames(shown);
            push.frame_json = json.into();
            push.frame_proto = proto.into();
        }
        if self
            .publish_tx
            .send((name, push.encode_to_vec()))
            .await
            .is_err()
        {
            warn!("publisher task is gone; push dropped");
        }
    }

    /// Subscribes (if not yet) to the channels; returns once Redis confirmed.
    pub async fn acquire(&self, channels: &[Channel]) -> Result<(), BusError> {
        let names = channels.iter().map(|c| self.keys.channel(c)).collect();
        let (tx, rx) = oneshot::channel();
        self.control_tx
            .send(Control::Acquire(names, tx))
            .await
            .map_err(|_| BusError::Unavailable("subscriber task is gone".into()))?;
        tokio::time::timeout(Duration::from_secs(3), rx)
            .await
            .map_err(|_| BusError::Unavailable("subscribing timed out".into()))?
            .map_err(|_| BusError::Unavailable("subscriber task is gone".into()))?
    }

    /// Drops one listener of each channel; unsubscribes after the last. Never lost
    /// and never waits (it runs when a listener is dropped).
    pub fn release(&self, channels: &[Channel]) {
        let names = channels.iter().map(|c| self.keys.channel(c)).collect();
        self.releases.add(names);
    }

    /// Sends a forwarded command to `node` and waits for its reply.
    pub async fn call(&self, node: &str, body: Vec<u8>) -> Result<Vec<u8>, BusError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.pending.insert(id, tx);
        // However this call ends (answered, timed out, cancelled), its slot goes.
        let _forget = Forget {
            pending: &self.pending,
            id,
        };
        let message = frame(REQUEST, id, &self.node_id, &body);
        if self
            .publish_tx
            .send((self.keys.rpc(node), message))
            .await
            .is_err()
        {
            return Err(BusError::Unavailable("publisher task is gone".into()));
        }
        match tokio::time::timeout(self.forward_timeout, rx).await {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(_)) => Err(BusError::NoAnswer("reply channel dropped".into())),
            Err(_) => {
                crate::telemetry::forward_timed_out(node, self.forward_timeout);
                Err(BusError::NoAnswer(format!(
                    "node {node} did not answer in time"
                )))
            }
        }
    }

    /// Answers a forwarded command.
    pub fn reply(&self, to: &str, id: u64, body: &[u8]) {
        let message = (self.keys.rpc(to), frame(REPLY, id, &self.node_id, body));
        if self.publish_tx.try_send(message).is_err() {
            // The publish queue is full (Redis is stalled): the caller times out and
            // retries, as it would if the reply were lost on the way.
            crate::telemetry::forward_reply_dropped();
        }
    }

    fn dispatch(&self, channel: &str, payload: &[u8]) {
        if channel == self.rpc_channel {
            let Some((kind, id, from, body)) = parse_frame(payload) else {
                warn!("malformed forwarding frame dropped");
                return;
            };
            match kind {
                REQUEST => match self.handler.get().and_then(Weak::upgrade) {
                    Some(handler) => handler.handle(from, id, body),
                    None => debug!("forwarded command before the handler was attached"),
                },
                _ => {
                    if let Some((_, tx)) = self.pending.remove(&id) {
                        let _ = tx.send(body);
                    }
                }
            }
            return;
        }
        let Some(local) = self.local.get().and_then(Weak::upgrade) else {
            return;
        };
        let Some(parsed) = self.keys.parse_channel(channel) else {
            return;
        };
        match BusPush::decode(payload) {
            Ok(push) => local.deliver(&parsed, push),
            Err(e) => warn!(error = %e, "undecodable push dropped"),
        }
    }

    fn resync_all(&self) {
        if let Some(local) = self.local.get().and_then(Weak::upgrade) {
            local.resync_all();
        }
    }
}

/// Publishes in queue order: pipelined `PUBLISH` on a single Redis; on a Redis Cluster,
/// `SPUBLISH` one at a time (each channel lives in its shard's slot, and a pipeline
/// cannot span slots).
async fn run_publisher(mut conn: RedisConn, mut rx: mpsc::Receiver<(String, Vec<u8>)>) {
    let mut batch = Vec::with_capacity(256);
    while rx.recv_many(&mut batch, 256).await > 0 {
        let result = if conn.is_cluster() {
            let mut result = Ok(());
            for (channel, payload) in batch.drain(..) {
                let sent: Result<i64, _> = redis::cmd("SPUBLISH")
                    .arg(channel)
                    .arg(payload)
                    .query_async(&mut conn)
                    .await;
                if let Err(e) = sent {
                    result = Err(e);
                }
            }
            result
        } else {
            let mut pipe = redis::pipe();
            for (channel, payload) in batch.drain(..) {
                pipe.publish(channel, payload).ignore();
            }
            pipe.query_async::<()>(&mut conn).await
        };
        if let Err(e) = result {
            crate::telemetry::publish_failed(&e);
        }
    }
}

/// The subscriber on a Redis Cluster: sharded subscriptions on a cluster connection,
/// whose messages arrive as pushes. redis-rs resubscribes after a reconnect; a
/// disconnection or a full push queue means pushes may be lost, so listeners resync.
async fn run_cluster_subscriber(
    bus: Weak<RedisBus>,
    mut conn: ClusterConnection,
    mut pushes: mpsc::Receiver<redis::PushInfo>,
    overflowed: Arc<std::sync::atomic::AtomicBool>,
    mut control: mpsc::Receiver<Control>,
    releases: Arc<Releases>,
) {
    let mut refs: HashMap<String, usize> = HashMap::new();
    let rpc = match bus.upgrade() {
        Some(this) => this.rpc_channel.clone(),
        None => return,
    };
    while let Err(e) = conn.ssubscribe(&rpc).await {
        warn!(error = %e, "cannot subscribe to this node's forwarding channel; retrying");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    loop {
        tokio::select! {
            ctl = control.recv() => match ctl {
                None => return,
                Some(Control::Acquire(names, ack)) => {
                    let fresh = not_yet_subscribed(&refs, &names);
                    let result = if fresh.is_empty() { Ok(()) } else { conn.ssubscribe(&fresh).await };
                    if let Ok(abandoned) = answer_acquire(&mut refs, names, ack, result)
                        && !abandoned.is_empty()
                        && let Err(e) = conn.sunsubscribe(&abandoned).await
                    {
                        warn!(error = %e, "unsubscribing failed");
                    }
                }
            },
            () = releases.wake.notified() => {
                let gone = release(&mut refs, releases.take());
                if !gone.is_empty()
                    && let Err(e) = conn.sunsubscribe(&gone).await
                {
                    warn!(error = %e, "unsubscribing failed");
                }
            }
            push = pushes.recv() => {
                let Some(push) = push else { return };
                let Some(this) = bus.upgrade() else { return };
                if overflowed.swap(false, std::sync::atomic::Ordering::Relaxed) {
                    warn!("push queue overflowed; local listeners resync");
                    this.resync_all();
                }
                match push.kind {
                    PushKind::SMessage | PushKind::Message => {
                        if let [Value::BulkString(channel), Value::BulkString(payload), ..] = push.data.as_slice()
                            && let Ok(channel) = std::str::from_utf8(channel)
                        {
                            this.dispatch(channel, payload);
                        }
                    }
                    PushKind::Disconnection => {
                        crate::telemetry::resubscribed(None);
                        this.resync_all();
                    }
                    _ => debug!(kind = ?push.kind, "push ignored"),
                }
            }
        }
    }
}

async fn run_subscriber(
    bus: Weak<RedisBus>,
    client: redis::Client,
    mut control: mpsc::Receiver<Control>,
    releases: Arc<Releases>,
) {
    let mut refs: HashMap<String, usize> = HashMap::new();
    let mut connected_before = false;
    loop {
        let Some(this) = bus.upgrade() else { return };
        let rpc = this.rpc_channel.clone();
        drop(this);
        let pubsub = match client.get_async_pubsub().await {
            Ok(p) => p,
            Err(e) => {
                warn!(error = %e, "cannot open the Redis subscription; retrying");
                // Refuse new subscriptions while Redis is away, so joins fail fast.
                let deadline = tokio::time::sleep(Duration::from_millis(250));
                tokio::pin!(deadline);
                loop {
                    tokio::select! {
                        () = &mut deadline => break,
                        ctl = control.recv() => match ctl {
                            None => return,
                            Some(Control::Acquire(_, ack)) => {
                                let _ = ack.send(Err(BusError::Unavailable("Redis is unreachable".into())));
                            }
                        },
                        () = releases.wake.notified() => drop(release(&mut refs, releases.take())),
                    }
                }
                continue;
            }
        };
        let (mut sink, mut stream) = pubsub.split();
        let mut all: Vec<String> = refs.keys().cloned().collect();
        all.push(rpc);
        if let Err(e) = sink.subscribe(&all).await {
            warn!(error = %e, "resubscribing failed; retrying");
            tokio::time::sleep(Duration::from_millis(250)).await;
            continue;
        }
        if connected_before {
            crate::telemetry::resubscribed(Some(refs.len()));
            if let Some(this) = bus.upgrade() {
                this.resync_all();
            }
        }
        connected_before = true;
        loop {
            tokio::select! {
                ctl = control.recv() => match ctl {
                    None => return,
                    Some(Control::Acquire(names, ack)) => {
                        let fresh = not_yet_subscribed(&refs, &names);
                        let result = if fresh.is_empty() { Ok(()) } else { sink.subscribe(&fresh).await };
                        match answer_acquire(&mut refs, names, ack, result) {
                            Err(()) => break,
                            Ok(abandoned) if !abandoned.is_empty() && sink.unsubscribe(&abandoned).await.is_err() => break,
                            Ok(_) => {}
                        }
                    }
                },
                () = releases.wake.notified() => {
                    let gone = release(&mut refs, releases.take());
                    if !gone.is_empty() && sink.unsubscribe(&gone).await.is_err() {
                        break;
                    }
                }
                message = stream.next() => {
                    let Some(message) = message else {
                        warn!("Redis subscription lost; reconnecting");
                        break;
                    };
                    let Some(this) = bus.upgrade() else { return };
                    this.dispatch(message.get_channel_name(), message.get_payload_bytes());
                }
            }
        }
    }
}

/// The names of `names` with no subscription yet.
fn not_yet_subscribed(refs: &HashMap<String, usize>, names: &[String]) -> Vec<String> {
    names
        .iter()
        .filter(|n| !refs.contains_key(*n))
        .cloned()
        .collect()
}

/// Counts the listeners of a confirmed subscription and answers the acquirer. `Err`
/// when subscribing failed; `Ok(names)` lists channels to unsubscribe again because the
/// acquirer gave up waiting (timed out or went away) and nobody else needs them.
fn answer_acquire(
    refs: &mut HashMap<String, usize>,
    names: Vec<String>,
    ack: oneshot::Sender<Result<(), BusError>>,
    result: redis::RedisResult<()>,
) -> Result<Vec<String>, ()> {
    match result {
        Ok(()) => {
            for n in &names {
                *refs.entry(n.clone()).or_insert(0) += 1;
            }
            if ack.send(Ok(())).is_err() {
                return Ok(release(refs, names.into_iter().map(|n| (n, 1)).collect()));
            }
            Ok(Vec::new())
        }
        Err(e) => {
            let _ = ack.send(Err(BusError::Redis(e)));
            Err(())
        }
    }
}

/// Drops `owed` references of each name; returns the names nobody needs any more.
fn release(refs: &mut HashMap<String, usize>, owed: HashMap<String, usize>) -> Vec<String> {
    let mut gone = Vec::new();
    for (n, owed) in owed {
        if let Some(count) = refs.get_mut(&n) {
            *count = count.saturating_sub(owed);
            if *count == 0 {
                refs.remove(&n);
                gone.push(n);
            }
        }
    }
    gone
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rpc_frames_round_trip_and_reject_garbage() {
        let f = frame(REPLY, 42, "node-a", b"body");
        assert_eq!(
            parse_frame(&f),
            Some((REPLY, 42, "node-a".into(), b"body".to_vec()))
        );
        assert_eq!(parse_frame(&[1, 2]), None);
    }
}
