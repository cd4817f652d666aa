//! One push, ready to be written to any number of sockets: its wire encodings are made
//! at most once each (on first use) and then shared — a room message is never encoded
//! or copied per socket.

use std::sync::OnceLock;

use bytes::Bytes;
use plenary_proto::{
    WireFormat,
    v1::{Push, ServerFrame, push::Body, server_frame::Frame},
    wire,
};

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
    frame: ServerFrame,
    /// The whole WebSocket frame (header included) per format, made once.
    framed: [OnceLock<Bytes>; 2],
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
    pub fn new(push: Push) -> Self {
        let toast = match &push.body {
            Some(Body::Interaction(i)) => i.toast,
            Some(Body::Update(u)) => u.toast,
            _ => false,
        };
        let toast_setting = match &push.body {
            Some(Body::Settings(s)) => Some(s.toast),
            _ => None,
        };
        let resync = matches!(push.body, Some(Body::Resync(_)));
        Outbound {
            ephemeral: push.seq == 0 && !resync && push.body.is_some(),
            resync,
            toast,
            toast_setting,
            quiet: OnceLock::new(),
            epoch: push.epoch,
            seq: push.seq,
            frame: ServerFrame {
                frame: Some(Frame::Push(push)),
            },
            framed: Default::default(),
            epoch_resync: OnceLock::new(),
        }
    }

    /// A push relayed from another node, with the client frames it encoded (empty ones
    /// are encoded here on first use, as for a local push).
    pub fn with_frames(push: Push, json: Bytes, proto: Bytes) -> Self {
        let outbound = Outbound::new(push);
        for (slot, frame) in outbound.framed.iter().zip([json, proto]) {
            if !frame.is_empty() {
                let _ = slot.set(frame);
            }
        }
        outbound
    }

    /// A resync notice for a context: the listener may have missed pushes.
    pub fn resync(context: &str) -> Self {
        Outbound::new(Push {
            context_id: context.to_owned(),
            epoch: 0,
            seq: 0,
            body: Some(Body::Resync(plenary_proto::v1::Resync {})),
        })
    }

    fn push(&self) -> Option<&Push> {
        match &self.frame.frame {
            Some(Frame::Push(push)) => Some(push),
            _ => None,
        }
    }

    /// The resync notice for listeners whose stream this push shows restarted with a
    /// new epoch.
    pub fn epoch_resync(&self) -> &Outbound {
        self.epoch_resync.get_or_init(|| {
            Box::new(Outbound::resync(
                self.push().map_or("", |p| p.context_id.as_str()),
            ))
        })
    }

    /// This push as a connection gets it: without the toast flag when its user turned
    /// toasts off.
    pub fn for_toasts(&self, toasts: bool) -> &Outbound {
        if toasts || !self.toast {
            return self;
        }
        self.quiet.get_or_init(|| {
            let mut push = self.push().cloned().unwrap_or_default();
            match &mut push.body {
                Some(Body::Interaction(i)) => i.toast = false,
                Some(Body::Update(u)) => u.toast = false,
                _ => {}
            }
            Box::new(Outbound::new(push))
        })
    }

    /// The whole WebSocket frame in a wire format, shared (a socket that must queue it
    /// clones the `Bytes`, which shares them too).
    pub fn framed(&self, format: WireFormat) -> &Bytes {
        let (slot, payload): (_, fn(&ServerFrame) -> Bytes) = match format {
            WireFormat::Json => (&self.framed[0], |f| Bytes::from(wire::encode_json(f))),
            WireFormat::Proto => (&self.framed[1], wire::encode_proto),
        };
        slot.get_or_init(|| format.server_frame(&payload(&self.frame)))
    }

    /// The frame as a WebSocket message (tests, which run without sockets).
    #[cfg(test)]
    pub fn message(&self, format: WireFormat) -> tokio_tungstenite::tungstenite::Message {
        use tokio_tungstenite::tungstenite::Message;
        match format {
            WireFormat::Json => Message::text(wire::encode_json(&self.frame)),
            WireFormat::Proto => Message::binary(wire::encode_proto(&self.frame)),
        }
    }
}
