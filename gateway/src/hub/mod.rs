//! This node's fan-out: a push is wrapped once in an [`Outbound`] ([`crate::outbound`]), whose wire
//! encodings are made at most once each and then shared by every socket — a room
//! message is never encoded or copied per socket — and handed to the fan-out walkers
//! ([`walker`]) that have listeners of its channel, which write it to their sockets.
//!
//! The hub keeps, per local channel, how many streams of each walker listen to it and
//! what it relayed from each bus channel feeding it (to notice pushes that never
//! arrived and have the listeners resync).

mod walker;

use std::sync::{Arc, OnceLock};

use dashmap::DashMap;
use plenary_bus::{Channel, LocalDelivery};
use plenary_proto::v1::internal::BusPush;

use walker::{Command, Walker};
pub use walker::{Subscriber, WALKER_QUEUE};

use crate::{outbound::Outbound, outlet::Outlet, telemetry};

/// The last push a local channel relayed from one bus channel, to notice pushes that
/// never arrived: every push says the seq of the previous one its actor sent on the same
/// bus channel (`prev_seq`), so a larger `prev_seq` than the last relayed seq is a gap.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Head {
    epoch: u64,
    /// 0 until the first push (nothing known yet: no gap can be told).
    seq: u64,
}

impl Head {
    /// Records a push at `(epoch, seq)` whose predecessor on its bus channel was
    /// `prev_seq`; true when pushes after the last relayed one and before this one were
    /// missed. A new epoch starts over (sessions handle epoch changes themselves).
    fn advance(&mut self, epoch: u64, seq: u64, prev_seq: u64) -> bool {
        let known = self.seq != 0 && self.epoch == epoch;
        let gap = known && prev_seq > self.seq;
        if !known || seq > self.seq {
            *self = Head { epoch, seq };
        }
        gap
    }

    /// A listener joined at `(epoch, seq)`: its snapshot covers everything up to there,
    /// so when nothing was relayed yet, gaps count from there.
    fn seed(&mut self, epoch: u64, seq: u64) {
        if self.seq == 0 {
            *self = Head { epoch, seq };
        }
    }
}

/// One local channel: how many streams of each walker listen to it, and what it
/// relayed from each bus channel feeding it: its own, and for a moderators' channel also
/// the context's public one.
#[derive(Debug)]
struct Listeners {
    per_walker: Vec<u32>,
    heads: std::sync::Mutex<[Head; 2]>,
}

impl Listeners {
    /// The walkers with at least one stream listening here.
    fn walkers(&self) -> impl Iterator<Item = usize> + '_ {
        self.per_walker
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(walker, _)| walker)
    }
}

/// The index in `Listeners::heads` of a bus channel's head.
const OWN: usize = 0;
const PUBLIC: usize = 1;

/// Local listeners per channel, and the walkers that write to them.
#[derive(Debug)]
pub struct Hub {
    channels: DashMap<Channel, Listeners>,
    walkers: Vec<Walker>,
}

impl Hub {
    /// A hub with `walkers` fan-out walkers (at least one); needs a tokio runtime.
    pub fn new(walkers: usize) -> Self {
        Hub {
            channels: DashMap::new(),
            walkers: (0..walkers.max(1)).map(Walker::start).collect(),
        }
    }

    /// One walker per core the runtime has.
    pub fn per_core() -> Self {
        Hub::new(std::thread::available_parallelism().map_or(1, |n| n.get()))
    }

    /// Starts listening to `channels` for one stream (`context`, empty for the private
    /// stream) of a connection. Pushes published from now on are held for it until
    /// [`Hub::open`].
    pub fn subscribe(
        &self,
        outlet: &Arc<Outlet>,
        context: Arc<str>,
        channels: Vec<Channel>,
    ) -> Arc<Subscriber> {
        let walker = outlet.walker(self.walkers.len());
        for channel in &channels {
            self.channels
                .entry(channel.clone())
                .or_insert_with(|| Listeners {
                    per_walker: vec![0; self.walkers.len()],
                    heads: Default::default(),
                })
                .per_walker[walker] += 1;
        }
        let subscriber = Arc::new(Subscriber::new(outlet.clone(), context, channels, walker));
        self.walkers[walker].command(Command::Subscribe(subscriber.clone()));
        subscriber
    }

    /// The stream's join was answered (its reply written) at `(epoch, seq)`: its pushes
    /// after that are written from now on, the held ones first.
    pub fn open(&self, subscriber: &Arc<Subscriber>, epoch: u64, seq: u64) {
        for channel in &subscriber.channels {
            if let Some(listeners) = self.channels.get(channel) {
                // A listener joined here: gaps are counted from its snapshot if nothing
                // was relayed yet.
                let mut heads = lock(&listeners.heads);
                heads.iter_mut().for_each(|h| h.seed(epoch, seq));
            }
        }
        self.walkers[subscriber.walker].command(Command::Open {
            subscriber: subscriber.clone(),
            epoch,
            seq,
        });
    }

    /// Stops a stream's pushes; a channel is forgotten once its last listener is gone.
    pub fn unsubscribe(&self, subscriber: &Arc<Subscriber>) {
        let walker = subscriber.walker;
        self.walkers[walker].command(Command::Unsubscribe(subscriber.clone()));
        for channel in &subscriber.channels {
            self.channels.remove_if_mut(channel, |_, listeners| {
                listeners.per_walker[walker] = listeners.per_walker[walker].saturating_sub(1);
                listeners.per_walker.iter().all(|&n| n == 0)
            });
        }
    }

    /// Channels with listeners.
    #[cfg(test)]
    pub fn channel_count(&self) -> usize {
        self.channels.len()
    }

    /// Relays a push (or only its announced position, when `item` is `None`) to a local
    /// channel, after a resync notice when the channel missed pushes from the bus
    /// channel whose head is `head`. Whether anyone listens.
    fn relay(
        &self,
        channel: &Channel,
        head: usize,
        at: (u64, u64, u64),
        item: Option<&Arc<Outbound>>,
        resync: &dyn Fn() -> Arc<Outbound>,
    ) -> bool {
        let Some(listeners) = self.channels.get(channel) else {
            return false;
        };
        let (epoch, seq, prev_seq) = at;
        // A push that is not an event (seq 0) is no position.
        let gap = seq != 0 && lock(&listeners.heads)[head].advance(epoch, seq, prev_seq);
        if gap {
            telemetry::push_gap(channel_kind(channel), prev_seq);
        }
        for walker in listeners.walkers() {
            if gap {
                self.walkers[walker].push(channel, &resync());
            }
            if let Some(item) = item {
                self.walkers[walker].push(channel, item);
            }
        }
        true
    }
}

fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

fn channel_kind(channel: &Channel) -> &'static str {
    match channel {
        Channel::ContextPublic(_) => "public",
        Channel::ContextModerators(_) => "moderators",
        Channel::ContextUser(..) => "user",
        Channel::Private(_) => "private",
    }
}

impl LocalDelivery for Hub {
    fn deliver(&self, channel: &Channel, bus: BusPush) {
        let BusPush {
            push,
            prev_seq,
            announce,
            frame_json,
            frame_proto,
        } = bus;
        let Some(push) = push else { return };
        let at = (push.epoch, push.seq, prev_seq);
        let context = push.context_id.clone();
        let resync_notice = OnceLock::new();
        let resync = || {
            resync_notice
                .get_or_init(|| Arc::new(Outbound::resync(&context)))
                .clone()
        };
        // An announcement only moves the heads: there is nothing to show.
        let item = (!announce).then(|| {
            Arc::new(Outbound::with_frames(
                push,
                frame_json.into(),
                frame_proto.into(),
            ))
        });
        let mut delivered = self.relay(channel, OWN, at, item.as_ref(), &resync);
        // Moderators listen on one local channel that carries everything, in order.
        if let Channel::ContextPublic(id) = channel {
            let moderators = Channel::ContextModerators(id.clone());
            delivered |= self.relay(&moderators, PUBLIC, at, item.as_ref(), &resync);
        }
        if delivered && item.is_some() {
            telemetry::push_published();
        }
    }

    fn resync_all(&self) {
        for entry in self.channels.iter() {
            let id = match entry.key() {
                Channel::ContextPublic(id)
                | Channel::ContextModerators(id)
                | Channel::ContextUser(id, _) => id,
                // Private pushes have no context.
                Channel::Private(_) => "",
            };
            let notice = Arc::new(Outbound::resync(id));
            for walker in entry.walkers() {
                self.walkers[walker].push(entry.key(), &notice);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use plenary_proto::{
        WireFormat,
        v1::{Push, ServerFrame, server_frame::Frame},
        wire,
    };
    use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};
    use tokio_tungstenite::tungstenite::Message;

    use super::*;

    fn bus(seq: u64, prev_seq: u64) -> BusPush {
        BusPush {
            push: Some(Push {
                context_id: "c".into(),
                epoch: 1,
                seq,
                ..Default::default()
            }),
            prev_seq,
            announce: false,
            ..Default::default()
        }
    }

    /// A listener: what its outlet was given, as seqs ("resync" for a notice).
    struct Listener {
        rx: UnboundedReceiver<Message>,
        subscriber: Arc<Subscriber>,
    }

    impl Listener {
        /// Subscribes a connection to `channels` and opens the stream at (`epoch`, `seq`).
        fn open(hub: &Hub, channels: &[Channel], at: (u64, u64)) -> Self {
            let (tx, rx) = unbounded_channel();
            let outlet = Outlet::messages(tx, WireFormat::Json);
            let subscriber = hub.subscribe(&outlet, "c".into(), channels.to_vec());
            hub.open(&subscriber, at.0, at.1);
            Listener { rx, subscriber }
        }

        /// The next `n` pushes written.
        async fn next(&mut self, n: usize) -> Vec<String> {
            let mut seen = Vec::new();
            while seen.len() < n {
                let Some(Message::Text(text)) = self.rx.recv().await else {
                    panic!("outlet gone after {seen:?}");
                };
                let frame: ServerFrame = wire::decode_json(text.as_str()).unwrap();
                let Some(Frame::Push(push)) = frame.frame else {
                    panic!("not a push: {text}")
                };
                seen.push(match push.body {
                    Some(plenary_proto::v1::push::Body::Resync(_)) => "resync".to_owned(),
                    _ => push.seq.to_string(),
                });
            }
            seen
        }
    }

    fn public() -> Channel {
        Channel::ContextPublic("c".into())
    }

    fn moderators() -> Channel {
        Channel::ContextModerators("c".into())
    }

    #[test]
    fn a_push_is_framed_once_per_format_and_shared() {
        let outbound = Outbound::new(bus(3, 0).push.unwrap());
        for format in [WireFormat::Json, WireFormat::Proto] {
            let (a, b) = (outbound.framed(format), outbound.framed(format));
            assert_eq!(a.as_ptr(), b.as_ptr(), "bytes are shared, not copied");
        }
        let json = outbound.framed(WireFormat::Json);
        assert_eq!(json[0], 0x81, "a final text frame");
        let frame: ServerFrame =
            wire::decode_json(std::str::from_utf8(&json[2..]).unwrap()).unwrap();
        assert!(matches!(frame.frame, Some(Frame::Push(p)) if p.seq == 3));
    }

    #[test]
    fn a_relayed_push_is_written_as_the_frames_its_publisher_encoded() {
        let push = bus(4, 3).push.unwrap();
        let (json, proto) = wire::push_frames(&push);
        let outbound = Outbound::with_frames(push.clone(), json.clone(), proto.clone());
        assert_eq!(outbound.framed(WireFormat::Json).as_ptr(), json.as_ptr());
        assert_eq!(outbound.framed(WireFormat::Proto).as_ptr(), proto.as_ptr());
        // The same bytes a node would have encoded itself.
        let local = Outbound::new(push);
        assert_eq!(local.framed(WireFormat::Json), &json);
        assert_eq!(local.framed(WireFormat::Proto), &proto);
        // A publisher that sent no frames (an older release): encoded here.
        let bare = Outbound::with_frames(bus(4, 3).push.unwrap(), Bytes::new(), Bytes::new());
        assert_eq!(bare.framed(WireFormat::Json), &json);
    }

    #[tokio::test]
    async fn public_pushes_reach_local_moderators_in_order() {
        let hub = Hub::new(2);
        let mut attendee = Listener::open(&hub, &[public()], (1, 0));
        let mut moderator = Listener::open(&hub, &[moderators()], (1, 0));
        hub.deliver(&public(), bus(1, 0));
        hub.deliver(&moderators(), bus(2, 0));
        hub.deliver(&public(), bus(3, 0));
        assert_eq!(moderator.next(3).await, ["1", "2", "3"]);
        assert_eq!(
            attendee.next(2).await,
            ["1", "3"],
            "attendees never get moderator-only pushes"
        );
    }

    #[tokio::test]
    async fn a_streams_shared_and_own_pushes_come_in_publish_order() {
        let hub = Hub::new(2);
        let mine = Channel::ContextUser("c".into(), "me".into());
        let other = Channel::ContextUser("c".into(), "other".into());
        let mut me = Listener::open(&hub, &[public(), mine.clone()], (1, 0));
        for (seq, channel) in [
            (1, &public()),
            (2, &mine),
            (3, &other),
            (4, &public()),
            (5, &mine),
            (6, &mine),
            (7, &public()),
        ] {
            hub.deliver(channel, bus(seq, 0));
        }
        assert_eq!(
            me.next(6).await,
            ["1", "2", "4", "5", "6", "7"],
            "in order, without other users' pushes"
        );
    }

    #[tokio::test]
    async fn pushes_wait_for_the_join_and_those_it_covered_are_skipped() {
        let hub = Hub::new(1);
        let (tx, mut rx) = unbounded_channel();
        let outlet = Outlet::messages(tx, WireFormat::Json);
        let subscriber = hub.subscribe(&outlet, "c".into(), vec![public()]);
        for seq in 1..=4 {
            hub.deliver(&public(), bus(seq, seq - 1));
        }
        // The join's answer covered up to seq 2; the reply goes out before the rest.
        hub.deliver(&public(), bus(5, 4));
        tokio::task::yield_now().await;
        assert!(
            rx.try_recv().is_err(),
            "nothing before the join is answered"
        );
        hub.open(&subscriber, 1, 2);
        let mut listener = Listener { rx, subscriber };
        assert_eq!(listener.next(3).await, ["3", "4", "5"]);
    }

    #[tokio::test]
    async fn channels_without_listeners_are_released() {
        let hub = Hub::new(2);
        let listener = Listener::open(&hub, &[public(), moderators()], (1, 0));
        assert_eq!(hub.channel_count(), 2);
        hub.unsubscribe(&listener.subscriber);
        assert_eq!(hub.channel_count(), 0);
        hub.deliver(&public(), bus(1, 0));
    }

    #[tokio::test]
    async fn a_push_whose_predecessor_never_arrived_resyncs_the_listeners_first() {
        let hub = Hub::new(2);
        let mut attendee = Listener::open(&hub, &[public()], (1, 0));
        let mut moderator = Listener::open(&hub, &[moderators()], (1, 0));
        hub.deliver(&public(), bus(1, 0));
        hub.deliver(&moderators(), bus(2, 0));
        hub.deliver(&public(), bus(3, 1));
        // Public 4 and moderators' 5 were committed but never published.
        hub.deliver(&public(), bus(6, 4));
        hub.deliver(&moderators(), bus(7, 5));
        hub.deliver(&moderators(), bus(8, 7));
        assert_eq!(attendee.next(4).await, ["1", "3", "resync", "6"]);
        assert_eq!(
            moderator.next(8).await,
            ["1", "2", "3", "resync", "6", "resync", "7", "8"],
            "each bus channel feeding the moderators is checked on its own"
        );
    }

    #[tokio::test]
    async fn an_announcement_shows_nothing_but_reveals_a_gap() {
        let hub = Hub::new(1);
        let mut attendee = Listener::open(&hub, &[public()], (1, 0));
        hub.deliver(&public(), bus(1, 0));
        let announce = |seq| BusPush {
            announce: true,
            ..bus(seq, seq)
        };
        // A successor that knows no more than was relayed changes nothing…
        hub.deliver(&public(), announce(1));
        hub.deliver(&public(), bus(2, 1));
        assert_eq!(attendee.next(2).await, ["1", "2"]);
        // …one that knows of seq 4 (never published) makes listeners resync.
        hub.deliver(&public(), announce(4));
        hub.deliver(&public(), bus(5, 4));
        assert_eq!(attendee.next(2).await, ["resync", "5"]);
    }

    #[tokio::test]
    async fn gaps_are_told_only_from_what_is_known() {
        let hub = Hub::new(1);
        let mut attendee = Listener::open(&hub, &[public()], (0, 0));
        // The first push of a fresh channel cannot show a gap…
        hub.deliver(&public(), bus(5, 4));
        // …nor can a push from an actor that does not know its predecessor (0), or a
        // push of another epoch.
        hub.deliver(&public(), bus(7, 0));
        let mut next_epoch = bus(2, 1);
        next_epoch.push.as_mut().unwrap().epoch = 2;
        hub.deliver(&public(), next_epoch);
        assert_eq!(attendee.next(4).await, ["5", "7", "resync", "2"]);
        // A join seeds an unknown head: gaps count from its snapshot.
        let mine = Channel::ContextUser("c".into(), "u".into());
        let mut own = Listener::open(&hub, std::slice::from_ref(&mine), (1, 10));
        hub.deliver(&mine, bus(12, 11));
        assert_eq!(own.next(2).await, ["resync", "12"], "seq 11 never arrived");
    }
}
