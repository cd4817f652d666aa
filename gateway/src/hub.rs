//! This node's fan-out hub: one bounded broadcast channel per bus channel with local
//! listeners. A push is wrapped once in an [`Outbound`], whose wire encodings are made
//! at most once each (on first use) and then shared by every socket — a room message
//! is never encoded or copied per socket.

use std::sync::{Arc, OnceLock};

use dashmap::DashMap;
use plenary_bus::{Channel, LocalDelivery};
use plenary_proto::{
    WireFormat,
    v1::{Push, ServerFrame, internal::BusPush, server_frame::Frame},
    wire,
};
use tokio::sync::{broadcast, mpsc};
use tokio_tungstenite::tungstenite::Message;

use crate::telemetry;

/// One push, ready to be written to any number of sockets.
#[derive(Debug)]
pub struct Outbound {
    pub epoch: u64,
    pub seq: u64,
    /// A resync notice (the listener may have missed pushes), not an event.
    pub resync: bool,
    /// Not an event either (`seq` 0: reactions, a quiz rank): passed on as it comes,
    /// without moving anyone's position.
    pub ephemeral: bool,
    /// Its place in publish order: `seq`, or for a push that is not an event the seq of
    /// the last event published before it (a session's merge of its shared and own
    /// pushes goes by this).
    pub order: u64,
    frame: ServerFrame,
    json: OnceLock<Message>,
    proto: OnceLock<Message>,
    /// The resync notice sockets get when this push starts a new epoch, made once and
    /// shared like the push itself.
    epoch_resync: OnceLock<Box<Outbound>>,
    /// The push asks clients to show a toast (an interaction's publication, an update).
    pub toast: bool,
    /// The same push without the toast, for users who turned toasts off, made once.
    quiet: OnceLock<Box<Outbound>>,
    /// A private `settings` push: the user's toast setting it carries.
    pub toast_setting: Option<bool>,
}

impl Outbound {
    fn new(push: Push) -> Self {
        use plenary_proto::v1::push::Body;
        let toast = match &push.body {
            Some(Body::Interaction(i)) => i.toast,
            Some(Body::Update(u)) => u.toast,
            _ => false,
        };
        let toast_setting = match &push.body {
            Some(Body::Settings(s)) => Some(s.toast),
            _ => None,
        };
        let resync = matches!(push.body, Some(plenary_proto::v1::push::Body::Resync(_)));
        Outbound {
            ephemeral: push.seq == 0 && !resync && push.body.is_some(),
            order: push.seq,
            resync,
            toast,
            toast_setting,
            quiet: OnceLock::new(),
            epoch: push.epoch,
            seq: push.seq,
            frame: ServerFrame {
                frame: Some(Frame::Push(push)),
            },
            json: OnceLock::new(),
            proto: OnceLock::new(),
            epoch_resync: OnceLock::new(),
        }
    }

    /// The resync notice for listeners whose stream this push shows restarted with a
    /// new epoch, in a wire format.
    pub fn epoch_resync(&self, format: WireFormat) -> Message {
        self.epoch_resync
            .get_or_init(|| {
                let context = match &self.frame.frame {
                    Some(Frame::Push(push)) => push.context_id.as_str(),
                    _ => "",
                };
                Box::new(Outbound::resync(context))
            })
            .message(format)
    }

    /// A resync notice for a context: the listener may have missed pushes.
    pub fn resync(context: &str) -> Self {
        Outbound::new(Push {
            context_id: context.to_owned(),
            epoch: 0,
            seq: 0,
            body: Some(plenary_proto::v1::push::Body::Resync(
                plenary_proto::v1::Resync {},
            )),
        })
    }

    /// The frame for a connection, in its wire format: without the toast flag when its
    /// user turned toasts off.
    pub fn message_for(&self, format: WireFormat, toasts: bool) -> Message {
        if toasts || !self.toast {
            return self.message(format);
        }
        self.quiet
            .get_or_init(|| {
                use plenary_proto::v1::push::Body;
                // (An outbound frame is always a push: `new` makes it one.)
                let mut push = match &self.frame.frame {
                    Some(Frame::Push(push)) => push.clone(),
                    _ => Push::default(),
                };
                match &mut push.body {
                    Some(Body::Interaction(i)) => i.toast = false,
                    Some(Body::Update(u)) => u.toast = false,
                    _ => {}
                }
                Box::new(Outbound::new(push))
            })
            .message(format)
    }

    /// The frame in a wire format; cloning a `Message` shares its bytes.
    pub fn message(&self, format: WireFormat) -> Message {
        match format {
            WireFormat::Json => self
                .json
                .get_or_init(|| Message::text(wire::encode_json(&self.frame)))
                .clone(),
            WireFormat::Proto => self
                .proto
                .get_or_init(|| Message::binary(wire::encode_proto(&self.frame)))
                .clone(),
        }
    }
}

/// (context, user) of an attendee's own queues.
pub type UserKey = (Arc<str>, Arc<str>);

/// Pushes one attendee session may have queued on its own queue before it is cut off.
pub const USER_QUEUE: usize = 64;

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

/// One local channel's broadcast and what it relayed from each bus channel feeding it:
/// its own, and for a moderators' channel also the context's public one.
#[derive(Debug)]
struct Listeners {
    tx: broadcast::Sender<Arc<Outbound>>,
    heads: std::sync::Mutex<[Head; 2]>,
}

/// The index in `Listeners::heads` of a bus channel's head.
const OWN: usize = 0;
const PUBLIC: usize = 1;

/// An attendee's own queues in a context (one per session) and their head.
#[derive(Debug, Default)]
struct UserListeners {
    senders: Vec<mpsc::Sender<Arc<Outbound>>>,
    head: Head,
}

/// Local listeners per channel. Public and moderator channels are shared broadcasts;
/// a user channel (an attendee's own Q&A pushes) is a small queue per session, merged
/// in seq order with the public broadcast by the session ([`crate::feed`]).
#[derive(Debug)]
pub struct Hub {
    channels: DashMap<Channel, Listeners>,
    users: DashMap<UserKey, UserListeners>,
    /// Pushes a listener may fall behind before it is cut off as a slow consumer.
    capacity: usize,
}

impl Hub {
    pub fn new(capacity: usize) -> Self {
        Hub {
            channels: DashMap::new(),
            users: DashMap::new(),
            capacity,
        }
    }

    /// Starts listening on a channel. Pushes published from now on are received.
    pub fn subscribe(&self, channel: Channel) -> broadcast::Receiver<Arc<Outbound>> {
        self.channels
            .entry(channel)
            .or_insert_with(|| Listeners {
                tx: broadcast::channel(self.capacity).0,
                heads: Default::default(),
            })
            .tx
            .subscribe()
    }

    /// A listener of `channel` (and, for an attendee, of their own queue in `context`)
    /// joined at `(epoch, seq)`: gaps are counted from there if nothing was relayed yet.
    pub fn joined_at(&self, channel: &Channel, own: Option<&UserKey>, epoch: u64, seq: u64) {
        if let Some(listeners) = self.channels.get(channel) {
            let mut heads = lock(&listeners.heads);
            heads.iter_mut().for_each(|h| h.seed(epoch, seq));
        }
        if let Some(key) = own
            && let Some(mut user) = self.users.get_mut(key)
        {
            user.head.seed(epoch, seq);
        }
    }

    /// Starts listening to one attendee's own pushes in a context.
    pub fn subscribe_user(
        &self,
        context: &Arc<str>,
        user: &Arc<str>,
    ) -> mpsc::Receiver<Arc<Outbound>> {
        let (tx, rx) = mpsc::channel(USER_QUEUE);
        self.users
            .entry((context.clone(), user.clone()))
            .or_default()
            .senders
            .push(tx);
        rx
    }

    /// Forgets closed user queues of a context and user.
    pub fn release_user(&self, context: &Arc<str>, user: &Arc<str>) {
        self.users
            .remove_if_mut(&(context.clone(), user.clone()), |_, user| {
                user.senders.retain(|tx| !tx.is_closed());
                user.senders.is_empty()
            });
    }

    /// Forgets a channel once its last listener is gone.
    pub fn release(&self, channel: &Channel) {
        self.channels
            .remove_if(channel, |_, l| l.tx.receiver_count() == 0);
    }

    /// Channels with at least one sender entry.
    #[cfg(test)]
    pub fn channel_count(&self) -> usize {
        self.channels.len()
    }
}

fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Hub {
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
        // Sent under the map's read guard: no clone of the sender per push. The guard
        // is gone before a channel without listeners is released.
        let sent = match self.channels.get(channel) {
            Some(listeners) => {
                let (epoch, seq, prev_seq) = at;
                // A push that is not an event (seq 0) is no position.
                let gap = seq != 0 && lock(&listeners.heads)[head].advance(epoch, seq, prev_seq);
                let mut sent = true;
                if gap {
                    telemetry::push_gap(channel_kind(channel), prev_seq);
                    sent &= listeners.tx.send(resync()).is_ok();
                }
                if let Some(item) = item {
                    sent &= listeners.tx.send(item.clone()).is_ok();
                }
                sent
            }
            None => return false,
        };
        if !sent {
            self.release(channel);
        }
        sent
    }
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
        let Some(push) = bus.push else { return };
        let at = (push.epoch, push.seq, bus.prev_seq);
        let context = push.context_id.clone();
        let resync_notice = OnceLock::new();
        let resync = || {
            resync_notice
                .get_or_init(|| Arc::new(Outbound::resync(&context)))
                .clone()
        };
        // An announcement only moves the heads: there is nothing to show.
        let item = (!bus.announce).then(|| {
            let mut outbound = Outbound::new(push);
            if outbound.ephemeral {
                outbound.order = bus.prev_seq;
            }
            Arc::new(outbound)
        });
        if let Channel::ContextUser(context, user) = channel {
            // A full queue means a session not reading: dropping its sender ends its
            // stream, and the session closes as a slow consumer. Closed queues go too.
            self.users
                .remove_if_mut(&(context.clone(), user.clone()), |_, user| {
                    let (epoch, seq, prev_seq) = at;
                    if seq != 0 && user.head.advance(epoch, seq, prev_seq) {
                        telemetry::push_gap(channel_kind(channel), prev_seq);
                        let notice = resync();
                        user.senders
                            .retain(|tx| tx.try_send(notice.clone()).is_ok());
                    }
                    if let Some(item) = &item {
                        user.senders.retain(|tx| tx.try_send(item.clone()).is_ok());
                    }
                    user.senders.is_empty()
                });
            return;
        }
        let mut delivered = self.relay(channel, OWN, at, item.as_ref(), &resync);
        // Moderators listen on one local channel that carries everything, in order.
        if let Channel::ContextPublic(id) = channel {
            let moderators = Channel::ContextModerators(id.clone());
            delivered |= self.relay(&moderators, PUBLIC, at, item.as_ref(), &resync);
        }
        if delivered && item.is_some() {
            crate::telemetry::push_published();
        }
    }

    fn resync_all(&self) {
        let channels: Vec<Channel> = self.channels.iter().map(|e| e.key().clone()).collect();
        for channel in channels {
            let id = match &channel {
                Channel::ContextPublic(id)
                | Channel::ContextModerators(id)
                | Channel::ContextUser(id, _) => id,
                // Private pushes have no context.
                Channel::Private(_) => "",
            };
            let notice = Arc::new(Outbound::resync(id));
            if let Some(listeners) = self.channels.get(&channel) {
                let _ = listeners.tx.send(notice);
            }
        }
    }
}

#[cfg(test)]
mod tests {
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
        }
    }

    #[test]
    fn one_encoding_shared_by_all_listeners() {
        let hub = Hub::new(8);
        let ch = Channel::ContextPublic("c".into());
        let mut a = hub.subscribe(ch.clone());
        let mut b = hub.subscribe(ch.clone());
        hub.deliver(&ch, bus(3, 0));
        let (x, y) = (a.try_recv().unwrap(), b.try_recv().unwrap());
        assert!(Arc::ptr_eq(&x, &y));
        assert_eq!(x.seq, 3);
        let (m1, m2) = (x.message(WireFormat::Json), y.message(WireFormat::Json));
        let (Message::Text(t1), Message::Text(t2)) = (m1, m2) else {
            panic!()
        };
        assert_eq!(
            t1.as_str().as_ptr(),
            t2.as_str().as_ptr(),
            "bytes are shared, not copied"
        );
    }

    #[test]
    fn public_pushes_reach_local_moderators_in_order() {
        let hub = Hub::new(8);
        let (public, moderators, mut attendee, mut moderator) = attendee_and_moderator(&hub);
        hub.deliver(&public, bus(1, 0));
        hub.deliver(&moderators, bus(2, 0));
        hub.deliver(&public, bus(3, 0));
        assert_eq!(received(&mut moderator), ["1", "2", "3"]);
        assert_eq!(
            received(&mut attendee),
            ["1", "3"],
            "attendees never get moderator-only pushes"
        );
    }

    #[test]
    fn channels_without_listeners_are_released() {
        let hub = Hub::new(8);
        let ch = Channel::ContextPublic("c".into());
        let rx = hub.subscribe(ch.clone());
        drop(rx);
        hub.deliver(&ch, bus(1, 0));
        assert_eq!(hub.channel_count(), 0);
    }

    /// Context `c`'s two channels, each with a listener: (public, moderators, an
    /// attendee's receiver, a moderator's).
    fn attendee_and_moderator(
        hub: &Hub,
    ) -> (
        Channel,
        Channel,
        broadcast::Receiver<Arc<Outbound>>,
        broadcast::Receiver<Arc<Outbound>>,
    ) {
        let public = Channel::ContextPublic("c".into());
        let moderators = Channel::ContextModerators("c".into());
        let attendee = hub.subscribe(public.clone());
        let moderator = hub.subscribe(moderators.clone());
        (public, moderators, attendee, moderator)
    }

    fn received(rx: &mut broadcast::Receiver<Arc<Outbound>>) -> Vec<String> {
        std::iter::from_fn(|| rx.try_recv().ok())
            .map(|o| {
                if o.resync {
                    "resync".to_owned()
                } else {
                    o.seq.to_string()
                }
            })
            .collect()
    }

    #[test]
    fn a_push_whose_predecessor_never_arrived_resyncs_the_listeners_first() {
        let hub = Hub::new(16);
        let (public, moderators, mut attendee, mut moderator) = attendee_and_moderator(&hub);
        hub.deliver(&public, bus(1, 0));
        hub.deliver(&moderators, bus(2, 0));
        hub.deliver(&public, bus(3, 1));
        // Public 4 and moderators' 5 were committed but never published.
        hub.deliver(&public, bus(6, 4));
        hub.deliver(&moderators, bus(7, 5));
        hub.deliver(&moderators, bus(8, 7));
        assert_eq!(received(&mut attendee), ["1", "3", "resync", "6"]);
        assert_eq!(
            received(&mut moderator),
            ["1", "2", "3", "resync", "6", "resync", "7", "8"],
            "each bus channel feeding the moderators is checked on its own"
        );
    }

    #[test]
    fn an_announcement_shows_nothing_but_reveals_a_gap() {
        let hub = Hub::new(16);
        let public = Channel::ContextPublic("c".into());
        let mut attendee = hub.subscribe(public.clone());
        hub.deliver(&public, bus(1, 0));
        let announce = |seq| BusPush {
            announce: true,
            ..bus(seq, seq)
        };
        // A successor that knows no more than was relayed changes nothing.
        hub.deliver(&public, announce(1));
        assert_eq!(received(&mut attendee), ["1"]);
        // One that knows of seq 3 (never published) makes listeners resync.
        hub.deliver(&public, announce(3));
        hub.deliver(&public, bus(4, 3));
        assert_eq!(received(&mut attendee), ["resync", "4"]);
    }

    #[test]
    fn gaps_are_told_only_from_what_is_known() {
        let hub = Hub::new(16);
        let public = Channel::ContextPublic("c".into());
        let mut attendee = hub.subscribe(public.clone());
        // The first push of a fresh channel cannot show a gap…
        hub.deliver(&public, bus(5, 4));
        // …nor can a push from an actor that does not know its predecessor (0), or a
        // push of another epoch.
        hub.deliver(&public, bus(7, 0));
        let mut next_epoch = bus(2, 1);
        next_epoch.push.as_mut().unwrap().epoch = 2;
        hub.deliver(&public, next_epoch);
        assert_eq!(received(&mut attendee), ["5", "7", "2"]);
        // A join seeds an unknown head: gaps count from its snapshot.
        let user = Channel::ContextUser("c".into(), "u".into());
        let key: UserKey = ("c".into(), "u".into());
        let mut own = hub.subscribe_user(&key.0, &key.1);
        hub.joined_at(&user, Some(&key), 1, 10);
        hub.deliver(&user, bus(12, 11));
        assert!(own.try_recv().unwrap().resync, "seq 11 never arrived");
        assert_eq!(own.try_recv().unwrap().seq, 12);
    }
}
