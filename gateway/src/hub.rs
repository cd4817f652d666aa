//! This node's fan-out hub: one bounded broadcast channel per bus channel with local
//! listeners. A push is wrapped once in an [`Outbound`], whose wire encodings are made
//! at most once each (on first use) and then shared by every socket — a room message
//! is never encoded or copied per socket.

use std::sync::{Arc, OnceLock};

use dashmap::DashMap;
use plenary_bus::{Channel, LocalDelivery};
use plenary_proto::{
    WireFormat,
    v1::{Push, ServerFrame, server_frame::Frame},
    wire,
};
use tokio::sync::{broadcast, mpsc};
use tokio_tungstenite::tungstenite::Message;

/// One push, ready to be written to any number of sockets.
#[derive(Debug)]
pub struct Outbound {
    pub epoch: u64,
    pub seq: u64,
    /// A resync notice (the listener may have missed pushes), not an event.
    pub resync: bool,
    frame: ServerFrame,
    json: OnceLock<Message>,
    proto: OnceLock<Message>,
    /// The resync notice sockets get when this push starts a new epoch, made once and
    /// shared like the push itself.
    epoch_resync: OnceLock<Box<Outbound>>,
}

impl Outbound {
    fn new(push: Push) -> Self {
        Outbound {
            epoch: push.epoch,
            seq: push.seq,
            resync: matches!(push.body, Some(plenary_proto::v1::push::Body::Resync(_))),
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
type UserKey = (Arc<str>, Arc<str>);

/// Pushes one attendee session may have queued on its own queue before it is cut off.
pub const USER_QUEUE: usize = 64;

/// Local listeners per channel. Public and moderator channels are shared broadcasts;
/// a user channel (an attendee's own Q&A pushes) is a small queue per session, merged
/// in seq order with the public broadcast by the session ([`crate::feed`]).
#[derive(Debug)]
pub struct Hub {
    channels: DashMap<Channel, broadcast::Sender<Arc<Outbound>>>,
    users: DashMap<UserKey, Vec<mpsc::Sender<Arc<Outbound>>>>,
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
            .or_insert_with(|| broadcast::channel(self.capacity).0)
            .subscribe()
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
            .push(tx);
        rx
    }

    /// Forgets closed user queues of a context and user.
    pub fn release_user(&self, context: &Arc<str>, user: &Arc<str>) {
        self.users
            .remove_if_mut(&(context.clone(), user.clone()), |_, senders| {
                senders.retain(|tx| !tx.is_closed());
                senders.is_empty()
            });
    }

    /// Forgets a channel once its last listener is gone.
    pub fn release(&self, channel: &Channel) {
        self.channels
            .remove_if(channel, |_, tx| tx.receiver_count() == 0);
    }

    /// Channels with at least one sender entry.
    #[cfg(test)]
    pub fn channel_count(&self) -> usize {
        self.channels.len()
    }
}

impl Hub {
    fn send(&self, channel: &Channel, item: &Arc<Outbound>) -> bool {
        // Sent under the map's read guard: no clone of the sender per push. The guard
        // is gone before a channel without listeners is released.
        let sent = match self.channels.get(channel) {
            Some(tx) => tx.send(item.clone()).is_ok(),
            None => return false,
        };
        if !sent {
            self.release(channel);
        }
        sent
    }
}

impl LocalDelivery for Hub {
    fn deliver(&self, channel: &Channel, push: Push) {
        let item = Arc::new(Outbound::new(push));
        if let Channel::ContextUser(context, user) = channel {
            // A full queue means a session not reading: dropping its sender ends its
            // stream, and the session closes as a slow consumer. Closed queues go too.
            self.users
                .remove_if_mut(&(context.clone(), user.clone()), |_, senders| {
                    senders.retain(|tx| tx.try_send(item.clone()).is_ok());
                    senders.is_empty()
                });
            return;
        }
        let mut delivered = self.send(channel, &item);
        // Moderators listen on one local channel that carries everything, in order.
        if let Channel::ContextPublic(id) = channel {
            delivered |= self.send(&Channel::ContextModerators(id.clone()), &item);
        }
        if delivered {
            metrics::counter!("plenary_pushes_published_total").increment(1);
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
            self.send(&channel, &Arc::new(Outbound::resync(id)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_encoding_shared_by_all_listeners() {
        let hub = Hub::new(8);
        let ch = Channel::ContextPublic("c".into());
        let mut a = hub.subscribe(ch.clone());
        let mut b = hub.subscribe(ch.clone());
        hub.deliver(
            &ch,
            Push {
                seq: 3,
                ..Default::default()
            },
        );
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
        let (public, moderators) = (
            Channel::ContextPublic("c".into()),
            Channel::ContextModerators("c".into()),
        );
        let mut attendee = hub.subscribe(public.clone());
        let mut moderator = hub.subscribe(moderators.clone());
        hub.deliver(
            &public,
            Push {
                seq: 1,
                ..Default::default()
            },
        );
        hub.deliver(
            &moderators,
            Push {
                seq: 2,
                ..Default::default()
            },
        );
        hub.deliver(
            &public,
            Push {
                seq: 3,
                ..Default::default()
            },
        );
        let seqs: Vec<u64> = std::iter::from_fn(|| moderator.try_recv().ok())
            .map(|o| o.seq)
            .collect();
        assert_eq!(seqs, vec![1, 2, 3]);
        let seqs: Vec<u64> = std::iter::from_fn(|| attendee.try_recv().ok())
            .map(|o| o.seq)
            .collect();
        assert_eq!(
            seqs,
            vec![1, 3],
            "attendees never get moderator-only pushes"
        );
    }

    #[test]
    fn channels_without_listeners_are_released() {
        let hub = Hub::new(8);
        let ch = Channel::ContextPublic("c".into());
        let rx = hub.subscribe(ch.clone());
        drop(rx);
        hub.deliver(&ch, Push::default());
        assert_eq!(hub.channel_count(), 0);
    }
}
