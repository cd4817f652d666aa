//! Plenary's protocol: the Rust types generated from `proto/plenary/v1/` and the two
//! wire encodings of client frames.
//!
//! Layout:
//! - [`v1`]: WebSocket frames (`client.proto`), with [`v1::events`] (the event log,
//!   `events.proto`), [`v1::admin`] (the admin gRPC API, `admin.proto`) and
//!   [`v1::internal`] (between nodes, `internal.proto`).
//! - [`encoded`]: pushes encoded once, and join answers that splice them in.
//! - [`wire`]: the `plenary.v1.json` and `plenary.v1.proto` subprotocols: encode and
//!   decode any frame in either format.
//! - `samples` (tests): a frame of every command, reply and push, built from the schema.

pub mod encoded;
#[cfg(test)]
mod samples;
pub mod wire;

/// Generated from `proto/plenary/v1/*.proto`; never edit by hand.
#[allow(
    unreachable_pub,
    missing_docs,
    clippy::all,
    clippy::pedantic,
    clippy::large_enum_variant
)]
pub mod v1 {
    include!(concat!(env!("OUT_DIR"), "/plenary.v1.rs"));
    include!(concat!(env!("OUT_DIR"), "/plenary.v1.serde.rs"));
    include!(concat!(env!("OUT_DIR"), "/plenary.v1.strict.serde.rs"));

    /// The event log (`events.proto`).
    pub mod events {
        include!(concat!(env!("OUT_DIR"), "/plenary.v1.events.rs"));
        include!(concat!(env!("OUT_DIR"), "/plenary.v1.events.serde.rs"));
    }

    /// The admin gRPC API (`admin.proto`).
    pub mod admin {
        include!(concat!(env!("OUT_DIR"), "/plenary.v1.admin.rs"));
        include!(concat!(env!("OUT_DIR"), "/plenary.v1.admin.serde.rs"));
    }

    /// Messages between nodes (`internal.proto`).
    pub mod internal {
        include!(concat!(env!("OUT_DIR"), "/plenary.v1.internal.rs"));
        include!(concat!(env!("OUT_DIR"), "/plenary.v1.internal.serde.rs"));
    }

    /// Every `.proto` above, encoded as a `FileDescriptorSet`: what gRPC server
    /// reflection serves.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/plenary_descriptor.bin"));

    /// The reporting service (`reporting.proto`).
    pub mod reporting {
        include!(concat!(env!("OUT_DIR"), "/plenary.v1.reporting.rs"));
        include!(concat!(env!("OUT_DIR"), "/plenary.v1.reporting.serde.rs"));
    }
}

pub use wire::{DecodeError, WireFormat};

/// Converts between a wire type and its stored copy in `events.proto` (the same field
/// numbers), through their encoding: the log keeps its own types so protocol changes
/// never change stored events. A field one side lacks is dropped.
pub fn recode<A: prost::Message, B: prost::Message + Default>(value: &A) -> B {
    // Decoding what was just encoded cannot fail: both are valid protobuf messages,
    // and a field whose type differed would have been caught by the test below.
    B::decode(value.encode_to_vec().as_slice()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;

    fn peer_update() -> v1::PeerUpdate {
        let message = v1::DirectMessage {
            peer_id: "bo".into(),
            message_id: 7,
            sender_id: "al".into(),
            text: "hi".into(),
            sent_at_ms: 1_700_000_000_000,
            client_msg_id: "c-1".into(),
        };
        v1::PeerUpdate {
            peer: Some(v1::Peer {
                user_id: "bo".into(),
                name: "Bo".into(),
                status: v1::PeerStatus::Ignored as i32,
                unread: 3,
                my_read_id: 5,
                peer_read_id: 6,
                last_message: Some(message.clone()),
            }),
            message: Some(message),
            removed: Some(v1::DirectMessageRef {
                peer_id: "bo".into(),
                message_id: 4,
            }),
        }
    }

    #[test]
    fn the_stored_copies_keep_every_field_of_the_wire_types() {
        let update = peer_update();
        let stored: v1::events::PeerUpdate = recode(&update);
        assert_eq!(stored.encode_to_vec(), update.encode_to_vec(), "same bytes");
        assert_eq!(recode::<_, v1::PeerUpdate>(&stored), update);

        let settings = v1::UserSettings {
            toast: true,
            private_chat: true,
            show_last_name: true,
        };
        let stored: v1::events::UserSettings = recode(&settings);
        assert_eq!(recode::<_, v1::UserSettings>(&stored), settings);

        for (wire, stored) in [
            (v1::QaMode::SingleThread, v1::events::QaMode::SingleThread),
            (v1::QaMode::MultiThread, v1::events::QaMode::MultiThread),
        ] {
            assert_eq!(wire as i32, stored as i32);
        }
        for status in 0..=4 {
            let wire = v1::PeerStatus::try_from(status).unwrap();
            let stored = v1::events::PeerStatus::try_from(status).unwrap();
            assert_eq!(wire.as_str_name(), stored.as_str_name());
        }
    }

    #[test]
    fn private_events_stored_in_the_shared_envelope_decode_as_their_streams_types() {
        use v1::events::{
            ContextEvent, ConversationEvent, DirectMessagePosted, SettingsChanged, UserEvent,
            conversation_event, user_event,
        };
        // Encoded field by field as the one `ContextEvent` of every stream stored them:
        // the envelope (1-3) and the kind under its number (41: a private message).
        let posted = DirectMessagePosted {
            sender_id: "al".into(),
            recipient_id: "bo".into(),
            text: "hi".into(),
            ..Default::default()
        };
        let mut stored = Vec::new();
        prost::encoding::string::encode(1, &"~dm/al/bo".to_string(), &mut stored);
        prost::encoding::uint64::encode(2, &7, &mut stored);
        prost::encoding::uint64::encode(3, &9, &mut stored);
        prost::encoding::message::encode(41, &posted, &mut stored);
        let event = ConversationEvent::decode(stored.as_slice()).unwrap();
        assert_eq!(
            (event.stream_id.as_str(), event.epoch, event.seq),
            ("~dm/al/bo", 7, 9)
        );
        assert_eq!(
            event.kind,
            Some(conversation_event::Kind::DirectMessagePosted(Box::new(
                posted
            )))
        );
        // A context's type does not know the kind any more.
        assert_eq!(ContextEvent::decode(stored.as_slice()).unwrap().kind, None);

        let changed = SettingsChanged {
            settings: Some(v1::events::UserSettings {
                toast: true,
                ..Default::default()
            }),
        };
        let mut stored = Vec::new();
        prost::encoding::string::encode(1, &"~u/al".to_string(), &mut stored);
        prost::encoding::message::encode(44, &changed, &mut stored);
        let event = UserEvent::decode(stored.as_slice()).unwrap();
        assert_eq!(event.kind, Some(user_event::Kind::SettingsChanged(changed)));
    }
}
