//! Frames to and from WebSocket messages in either wire format.

use plenary_proto::v1::{ClientFrame, ServerFrame};
use plenary_proto::wire::{self, DecodeError, WireFormat};
use tokio_tungstenite::tungstenite::Message;

/// The WebSocket message carrying `frame` in `format`.
pub(crate) fn encode(format: WireFormat, frame: &ClientFrame) -> Message {
    match format {
        WireFormat::Json => Message::text(wire::encode_json(frame)),
        WireFormat::Proto => Message::binary(wire::encode_proto(frame)),
    }
}

/// The server frame in a data message; `None` for control messages. Text messages are
/// read as JSON and binary ones as protobuf, whatever was negotiated.
pub(crate) fn decode(message: &Message) -> Option<Result<ServerFrame, DecodeError>> {
    match message {
        Message::Text(text) => Some(wire::decode_json(text.as_str())),
        Message::Binary(bytes) => Some(wire::decode_proto(bytes)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plenary_proto::v1::{Ping, Push, Reply, client_frame::Command, server_frame::Frame};

    #[test]
    fn encodes_by_format() {
        let frame = ClientFrame {
            id: 4,
            command: Some(Command::Ping(Ping {})),
        };
        match encode(WireFormat::Json, &frame) {
            Message::Text(t) => assert_eq!(t.as_str(), r#"{"id":"4","ping":{}}"#),
            other => panic!("{other:?}"),
        }
        match encode(WireFormat::Proto, &frame) {
            Message::Binary(b) => {
                assert_eq!(wire::decode_proto::<ClientFrame>(&b).unwrap(), frame);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn decodes_both_formats() {
        let json = Message::text(r#"{"push":{"context_id":"w1","epoch":2,"seq":7,"resync":{}}}"#);
        let frame = decode(&json).unwrap().unwrap();
        match frame.frame {
            Some(Frame::Push(Push {
                context_id,
                epoch: 2,
                seq: 7,
                ..
            })) => {
                assert_eq!(context_id, "w1");
            }
            other => panic!("{other:?}"),
        }
        let reply = ServerFrame {
            frame: Some(Frame::Reply(Reply {
                id: 3,
                result: None,
            })),
        };
        let bin = Message::binary(wire::encode_proto(&reply));
        assert_eq!(decode(&bin).unwrap().unwrap(), reply);
        assert!(decode(&Message::Ping(Default::default())).is_none());
        assert!(decode(&Message::text("{nope")).unwrap().is_err());
    }
}
