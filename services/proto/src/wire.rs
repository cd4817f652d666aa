//! The two WebSocket subprotocols: `plenary.v1.json` (text frames) and
//! `plenary.v1.proto` (binary frames) carry the same messages.

use bytes::Bytes;
use prost::Message;
use serde::{Serialize, de::DeserializeOwned};

/// Why a frame could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("malformed JSON frame: {0}")]
    Json(#[from] serde_json::Error),
    #[error("malformed protobuf frame: {0}")]
    Proto(#[from] prost::DecodeError),
    #[error("a {got} frame on the {expected} subprotocol")]
    WrongFrameType {
        got: &'static str,
        expected: &'static str,
    },
}

/// A wire encoding, chosen by WebSocket subprotocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WireFormat {
    /// `plenary.v1.json`: JSON text frames.
    Json,
    /// `plenary.v1.proto`: protobuf binary frames.
    Proto,
}

impl WireFormat {
    /// Subprotocol name of the JSON encoding.
    pub const JSON_SUBPROTOCOL: &'static str = "plenary.v1.json";
    /// Subprotocol name of the protobuf encoding.
    pub const PROTO_SUBPROTOCOL: &'static str = "plenary.v1.proto";

    /// The subprotocol name of this format.
    pub fn subprotocol(self) -> &'static str {
        match self {
            WireFormat::Json => Self::JSON_SUBPROTOCOL,
            WireFormat::Proto => Self::PROTO_SUBPROTOCOL,
        }
    }

    /// The format for a subprotocol name, if it is one of ours.
    pub fn from_subprotocol(name: &str) -> Option<Self> {
        match name.trim() {
            Self::JSON_SUBPROTOCOL => Some(WireFormat::Json),
            Self::PROTO_SUBPROTOCOL => Some(WireFormat::Proto),
            _ => None,
        }
    }

    /// Picks the first of a client's offered subprotocols (comma-separated
    /// `Sec-WebSocket-Protocol` values) that Plenary speaks.
    pub fn negotiate<'a>(offered: impl IntoIterator<Item = &'a str>) -> Option<Self> {
        offered
            .into_iter()
            .flat_map(|v| v.split(','))
            .find_map(Self::from_subprotocol)
    }
}

/// Encodes a message as a JSON text payload.
pub fn encode_json<T: Serialize>(msg: &T) -> String {
    // Generated types hold only strings, numbers, bools, lists and nested messages,
    // all of which serde_json can always write.
    serde_json::to_string(msg).unwrap_or_else(|e| {
        unreachable!("protocol types always serialise to JSON: {e}");
    })
}

/// Encodes a message as a protobuf binary payload.
pub fn encode_proto<T: Message>(msg: &T) -> Bytes {
    Bytes::from(msg.encode_to_vec())
}

/// Decodes a JSON text payload.
pub fn decode_json<T: DeserializeOwned>(text: &str) -> Result<T, DecodeError> {
    Ok(serde_json::from_str(text)?)
}

/// Decodes a client frame from JSON. A frame whose command key is known but whose body
/// is malformed is an error (serde's flattened oneof would otherwise read it as "no
/// command"); a frame with no known command key decodes with `command: None`.
pub fn decode_client_frame_json(text: &str) -> Result<crate::v1::ClientFrame, DecodeError> {
    let frame: crate::v1::ClientFrame = decode_json(text)?;
    if frame.command.is_some() {
        return Ok(frame);
    }
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text)?;
    for (key, value) in object {
        if key == "id" {
            continue;
        }
        let single = serde_json::Value::Object(serde_json::Map::from_iter([(key, value)]));
        if let Err(e) = serde_json::from_value::<crate::v1::client_frame::Command>(single)
            && !e.to_string().starts_with("unknown variant")
        {
            return Err(DecodeError::Json(e));
        }
    }
    Ok(frame)
}

/// Decodes a protobuf binary payload.
pub fn decode_proto<T: Message + Default>(bytes: &[u8]) -> Result<T, DecodeError> {
    Ok(T::decode(bytes)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v1::{self, client_frame::Command};

    #[test]
    fn json_client_frame_uses_flat_oneof() {
        let frame: v1::ClientFrame =
            decode_json(r#"{"id":7,"send":{"context_id":"w1","text":"hi"}}"#).unwrap();
        assert_eq!(frame.id, 7);
        match frame.command {
            Some(Command::Send(s)) => {
                assert_eq!(s.context_id, "w1");
                assert_eq!(s.text, "hi");
                assert_eq!(s.reply_to, 0);
            }
            other => panic!("unexpected {other:?}"),
        }
        let back = encode_json(&v1::ClientFrame {
            id: 1,
            command: Some(Command::Ping(v1::Ping {})),
        });
        assert_eq!(back, r#"{"id":1,"ping":{}}"#);
    }

    #[test]
    fn unknown_command_decodes_to_none() {
        let frame: v1::ClientFrame = decode_json(r#"{"id":3,"frobnicate":{}}"#).unwrap();
        assert_eq!(frame.id, 3);
        assert!(frame.command.is_none());
    }

    #[test]
    fn wrong_field_type_is_an_error() {
        assert!(decode_client_frame_json(r#"{"id":"x","ping":{}}"#).is_err());
        let r = decode_client_frame_json(r#"{"id":1,"send":{"text":5}}"#);
        assert!(r.is_err(), "{r:?}");
        let r = decode_client_frame_json(r#"{"id":1,"frob":{"a":1}}"#).unwrap();
        assert!(r.command.is_none());
        assert!(decode_client_frame_json("[1,2]").is_err());
        assert!(decode_client_frame_json("{not json").is_err());
    }

    #[test]
    fn enum_fields_use_proto_names() {
        let reply = v1::ServerFrame {
            frame: Some(v1::server_frame::Frame::Reply(v1::Reply {
                id: 2,
                result: Some(v1::reply::Result::Error(v1::Error {
                    code: v1::ErrorCode::Forbidden as i32,
                    message: "no".into(),
                    retry_after_ms: 0,
                })),
            })),
        };
        let json = encode_json(&reply);
        assert!(json.contains(r#""code":"ERROR_CODE_FORBIDDEN""#), "{json}");
        let back: v1::ServerFrame = decode_json(&json).unwrap();
        assert_eq!(back, reply);
    }

    #[test]
    fn proto_round_trip_and_garbage() {
        let frame = v1::ClientFrame {
            id: 9,
            command: Some(Command::Join(v1::Join {
                context_id: "c".into(),
                since: Some(v1::Position { epoch: 1, seq: 2 }),
            })),
        };
        let bytes = encode_proto(&frame);
        assert_eq!(decode_proto::<v1::ClientFrame>(&bytes).unwrap(), frame);
        assert!(decode_proto::<v1::ClientFrame>(&[0xff, 0xff, 0xff]).is_err());
    }

    #[test]
    fn negotiates_first_known_subprotocol() {
        assert_eq!(
            WireFormat::negotiate(["foo, plenary.v1.proto", "plenary.v1.json"]),
            Some(WireFormat::Proto)
        );
        assert_eq!(WireFormat::negotiate(["chat"]), None);
    }
}
