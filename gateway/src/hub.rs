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
use tokio::sync::broadcast;
use tokio_tungstenite::tungstenite::Message;

/// One push, ready to be written to any number of sockets.
#[derive(Debug)]
pub struct Outbound {
    pub seq: u64,
    frame: ServerFrame,
    json: OnceLock<Message>,
    proto: OnceLock<Message>,
}

impl Outbound {
    fn new(push: Push) -> Self {
        Outbound {
            seq: push.seq,
            frame: ServerFrame {
                frame: Some(Frame::Push(push)),
            },
            json: OnceLock::new(),
            proto: OnceLock::new(),
        }
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

/// Local listeners per channel.
#[derive(Debug)]
pub struct Hub {
    channels: DashMap<Channel, broadcast::Sender<Arc<Outbound>>>,
    /// Pushes a listener may fall behind before it is cut off as a slow consumer.
    capacity: usize,
}

impl Hub {
    pub fn new(capacity: usize) -> Self {
        Hub {
            channels: DashMap::new(),
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

    /// Forgets a channel once its last listener is gone.
    pub fn release(&self, channel: &Channel) {
        self.channels
            .remove_if(channel, |_, tx| tx.receiver_count() == 0);
    }

    /// Channels with at least one sender entry (for metrics and tests).
    pub fn channel_count(&self) -> usize {
        self.channels.len()
    }
}

impl LocalDelivery for Hub {
    fn deliver(&self, channels: &[Channel], push: Push) {
        let mut outbound: Option<Arc<Outbound>> = None;
        let mut push = Some(push);
        for channel in channels {
            let Some(tx) = self.channels.get(channel).map(|tx| tx.clone()) else {
                continue;
            };
            let item = outbound
                .get_or_insert_with(|| Arc::new(Outbound::new(push.take().unwrap_or_default())))
                .clone();
            if tx.send(item).is_err() {
                self.release(channel);
            }
        }
        if outbound.is_some() {
            metrics::counter!("plenary_pushes_published_total").increment(1);
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
            std::slice::from_ref(&ch),
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
    fn channels_without_listeners_are_released() {
        let hub = Hub::new(8);
        let ch = Channel::ContextPublic("c".into());
        let rx = hub.subscribe(ch.clone());
        drop(rx);
        hub.deliver(std::slice::from_ref(&ch), Push::default());
        assert_eq!(hub.channel_count(), 0);
    }
}
