//! The fan-out walkers: one task per core, each owning a share of the node's
//! connections. A push wakes each walker that has listeners of its channel once, and it
//! writes the push's shared frame to each of them through their outlets — one wake-up
//! per walker per push, not one per socket (the pattern of Discord's manifold and
//! Phoenix's fastlane).
//!
//! A connection's streams all live on one walker, so its pushes — shared and its own,
//! of every joined context — are written in publish order. Per stream the walker keeps
//! the position written so far: pushes its join's snapshot already covered are skipped,
//! and a stream whose join is not answered yet holds its pushes until it opens.

use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc, Mutex, MutexGuard,
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
    },
    time::Duration,
};

use plenary_bus::Channel;
use tokio::{sync::mpsc, time::Instant};

use crate::{
    outbound::Outbound,
    outlet::{Failure, Outlet},
    telemetry,
};

/// Pushes that may wait for one walker. More means the node cannot write pushes as
/// fast as they come: the walker drops them and has its connections resync.
pub const WALKER_QUEUE: usize = 1 << 16;
/// How often a walker adds the pushes it wrote to the shared metric.
const METRIC_INTERVAL: Duration = Duration::from_secs(1);

/// One stream of one connection: a joined context (its public or moderators' channel,
/// and for an attendee their own), or the private stream.
#[derive(Debug)]
pub struct Subscriber {
    pub(super) outlet: Arc<Outlet>,
    /// The context (empty for the private stream), for resync notices.
    pub(super) context: Arc<str>,
    pub(super) channels: Vec<Channel>,
    pub(super) walker: usize,
    /// Where the stream's pushes stand. Only its walker reads or writes it (atomics
    /// only because a `Subscriber` is shared with the session; `Relaxed` is enough).
    position: Position,
}

#[derive(Debug, Default)]
struct Position {
    /// The join was answered: pushes are written, no longer held.
    open: AtomicBool,
    held: Mutex<Vec<Arc<Outbound>>>,
    /// The epoch of the pushes written; a push from another epoch means the context
    /// restarted (Redis lost its data) and the client must resync.
    epoch: AtomicU64,
    /// The highest seq written; older pushes are duplicates and skipped.
    last_seq: AtomicU64,
}

impl Subscriber {
    pub(super) fn new(
        outlet: Arc<Outlet>,
        context: Arc<str>,
        channels: Vec<Channel>,
        walker: usize,
    ) -> Self {
        Subscriber {
            outlet,
            context,
            channels,
            walker,
            position: Position::default(),
        }
    }

    fn held(&self) -> MutexGuard<'_, Vec<Arc<Outbound>>> {
        self.position.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Offers a push: held until the stream opens, then written if it is new. The
    /// pushes written.
    fn offer(&self, item: &Arc<Outbound>) -> u64 {
        if !self.position.open.load(Ordering::Relaxed) {
            let mut held = self.held();
            if held.len() >= self.outlet.max_queued() {
                self.outlet.fail(Failure::SlowConsumer);
            } else {
                held.push(item.clone());
            }
            return 0;
        }
        self.write(item)
    }

    /// The join was answered at `(epoch, seq)`: held pushes it did not cover are
    /// written, and so are those to come.
    fn open(&self, epoch: u64, seq: u64) -> u64 {
        let position = &self.position;
        position.epoch.store(epoch, Ordering::Relaxed);
        position.last_seq.store(seq, Ordering::Relaxed);
        position.open.store(true, Ordering::Relaxed);
        let held = std::mem::take(&mut *self.held());
        held.iter().map(|item| self.write(item)).sum()
    }

    /// Writes a push to an open stream if it is new to it. The pushes written.
    fn write(&self, item: &Outbound) -> u64 {
        let (outlet, epoch, last_seq) =
            (&self.outlet, &self.position.epoch, &self.position.last_seq);
        if item.resync {
            // Pushes may have been lost on the way: the client must rejoin with
            // `since`. Until it does, everything is passed on.
            epoch.store(0, Ordering::Relaxed);
            last_seq.store(0, Ordering::Relaxed);
            return u64::from(outlet.push(item));
        }
        if item.ephemeral {
            // Not an event: no position to check or move.
            return u64::from(outlet.push(item));
        }
        let current = epoch.load(Ordering::Relaxed);
        if current != 0 && item.epoch != current {
            // The context restarted with a new epoch.
            outlet.push(item.epoch_resync());
            last_seq.store(0, Ordering::Relaxed);
        }
        outlet.learn_toasts(item);
        if item.seq <= last_seq.load(Ordering::Relaxed) {
            return 0;
        }
        epoch.store(item.epoch, Ordering::Relaxed);
        last_seq.store(item.seq, Ordering::Relaxed);
        u64::from(outlet.push(item))
    }
}

/// What a walker is told, in order.
pub(super) enum Command {
    Subscribe(Arc<Subscriber>),
    Open {
        subscriber: Arc<Subscriber>,
        epoch: u64,
        seq: u64,
    },
    Unsubscribe(Arc<Subscriber>),
    Push {
        channel: Channel,
        item: Arc<Outbound>,
    },
}

/// The hub's end of a walker.
#[derive(Debug)]
pub(super) struct Walker {
    /// Unbounded so that subscriptions are never refused; pushes are bounded by
    /// `queued` instead.
    tx: mpsc::UnboundedSender<Command>,
    queued: Arc<AtomicUsize>,
    /// Pushes were dropped: the walker has every connection resync.
    lost: Arc<AtomicBool>,
}

impl Walker {
    /// Starts a walker task.
    pub(super) fn start(index: usize) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let queued = Arc::new(AtomicUsize::new(0));
        let lost = Arc::new(AtomicBool::new(false));
        tokio::spawn(walk(index, rx, queued.clone(), lost.clone()));
        Walker { tx, queued, lost }
    }

    pub(super) fn command(&self, command: Command) {
        // Err: the runtime is shutting down; nothing listens any more.
        let _ = self.tx.send(command);
    }

    pub(super) fn push(&self, channel: &Channel, item: &Arc<Outbound>) {
        if self.queued.fetch_add(1, Ordering::Relaxed) >= WALKER_QUEUE {
            self.queued.fetch_sub(1, Ordering::Relaxed);
            if !self.lost.swap(true, Ordering::Relaxed) {
                telemetry::walker_overflow(WALKER_QUEUE);
            }
            return;
        }
        self.command(Command::Push {
            channel: channel.clone(),
            item: item.clone(),
        });
    }
}

/// A walker's task: its connections' streams by channel, and the commands in order.
async fn walk(
    index: usize,
    mut rx: mpsc::UnboundedReceiver<Command>,
    queued: Arc<AtomicUsize>,
    lost: Arc<AtomicBool>,
) {
    let mut channels: HashMap<Channel, Vec<Arc<Subscriber>>> = HashMap::new();
    let mut written = 0u64;
    let mut reported = Instant::now();
    while let Some(command) = rx.recv().await {
        if lost.swap(false, Ordering::Relaxed) {
            written += resync_everyone(&channels);
        }
        match command {
            Command::Subscribe(subscriber) => {
                for channel in &subscriber.channels {
                    channels
                        .entry(channel.clone())
                        .or_default()
                        .push(subscriber.clone());
                }
            }
            Command::Open {
                subscriber,
                epoch,
                seq,
            } => written += subscriber.open(epoch, seq),
            Command::Unsubscribe(subscriber) => {
                for channel in &subscriber.channels {
                    if let Some(list) = channels.get_mut(channel) {
                        list.retain(|s| !Arc::ptr_eq(s, &subscriber));
                        if list.is_empty() {
                            channels.remove(channel);
                        }
                    }
                }
            }
            Command::Push { channel, item } => {
                queued.fetch_sub(1, Ordering::Relaxed);
                if let Some(list) = channels.get(&channel) {
                    written += list.iter().map(|s| s.offer(&item)).sum::<u64>();
                }
            }
        }
        if written > 0 && reported.elapsed() >= METRIC_INTERVAL {
            telemetry::pushes_written(std::mem::take(&mut written));
            reported = Instant::now();
        }
    }
    telemetry::pushes_written(written);
    tracing::debug!(walker = index, "fan-out walker stopped");
}

/// After dropped pushes: every stream of the walker's connections gets a resync
/// notice (once, whatever the number of its channels), one notice per context shared
/// by all its streams like any push.
fn resync_everyone(channels: &HashMap<Channel, Vec<Arc<Subscriber>>>) -> u64 {
    let mut seen = HashSet::new();
    let mut notices: HashMap<&str, Arc<Outbound>> = HashMap::new();
    let mut written = 0;
    for subscriber in channels.values().flatten() {
        if seen.insert(Arc::as_ptr(subscriber)) {
            let notice = notices
                .entry(&subscriber.context)
                .or_insert_with(|| Arc::new(Outbound::resync(&subscriber.context)));
            written += subscriber.offer(notice);
        }
    }
    written
}
