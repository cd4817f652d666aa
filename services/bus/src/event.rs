//! The events the log stores: one type per kind of stream (contexts, users,
//! conversations), all sharing the envelope the log reads.

use plenary_proto::v1::events::{ContextEvent, ConversationEvent, UserEvent};

/// An event of one kind of stream, as the log stores it (protobuf-encoded).
pub trait StoredEvent: prost::Message + Default + Clone + Send + Sync + 'static {
    fn epoch(&self) -> u64;
    fn seq(&self) -> u64;
    /// Server time (Unix milliseconds) when the event was decided.
    fn at_ms(&self) -> u64;
}

macro_rules! stored_event {
    ($($event:ty),+) => {$(
        impl StoredEvent for $event {
            fn epoch(&self) -> u64 {
                self.epoch
            }

            fn seq(&self) -> u64 {
                self.seq
            }

            fn at_ms(&self) -> u64 {
                self.at_ms
            }
        }
    )+};
}

stored_event!(ContextEvent, UserEvent, ConversationEvent);
