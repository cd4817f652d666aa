//! The two WebSocket subprotocols: `plenary.v1.json` (text frames) and
//! `plenary.v1.proto` (binary frames) carry the same messages.

use std::fmt;

use bytes::{Buf, BufMut as _, Bytes};
use prost::Message;
use serde::{
    Deserialize, Deserializer, Serialize,
    de::{
        DeserializeOwned, DeserializeSeed, EnumAccess, Error as _, IgnoredAny, MapAccess,
        Unexpected, VariantAccess, Visitor, value::StrDeserializer,
    },
};

use crate::v1::{ClientFrame, client_frame::Command};

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
    #[error("a frame carries one command; this one has fields {first} and {second}")]
    SeveralCommands { first: u32, second: u32 },
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

impl WireFormat {
    /// A whole WebSocket data frame from server to client — final, unmasked, text for
    /// JSON and binary for protobuf — carrying `payload`: a push framed once, header
    /// included, is the same bytes for every socket.
    pub fn server_frame(self, payload: &[u8]) -> Bytes {
        let opcode = match self {
            WireFormat::Json => 0x1,
            WireFormat::Proto => 0x2,
        };
        let len = payload.len();
        let mut frame = bytes::BytesMut::with_capacity(len + 10);
        frame.put_u8(0x80 | opcode);
        if len < 126 {
            frame.put_u8(len as u8);
        } else if let Ok(len) = u16::try_from(len) {
            frame.put_u8(126);
            frame.put_u16(len);
        } else {
            frame.put_u8(127);
            frame.put_u64(len as u64);
        }
        frame.extend_from_slice(payload);
        frame.freeze()
    }
}

/// A push as the whole WebSocket frames every client gets, in both subprotocols:
/// (`plenary.v1.json`, `plenary.v1.proto`).
pub fn push_frames(push: &crate::v1::Push) -> (Bytes, Bytes) {
    let encoded = crate::encoded::EncodedPush::new(push);
    (
        encoded.frame(WireFormat::Json),
        encoded.frame(WireFormat::Proto),
    )
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

/// Decodes a client frame from JSON: `id` and exactly one command key. Every top-level
/// key other than `id` counts as a command, known or not, so a frame with two (or with
/// one key twice) is an error instead of running the first and dropping the rest. A
/// frame whose only other key is unknown decodes with `command: None`; a known command
/// with a malformed body is an error.
pub fn decode_client_frame_json(text: &str) -> Result<ClientFrame, DecodeError> {
    Ok(serde_json::from_str::<JsonClientFrame>(text)?.0)
}

/// Decodes a client frame from protobuf, with the rule of the JSON encoding: besides
/// `id`, exactly one field. Protobuf itself would keep the last of several members of
/// the `command` oneof; a frame with two is an error instead.
pub fn decode_client_frame_proto(bytes: &[u8]) -> Result<ClientFrame, DecodeError> {
    let frame = ClientFrame::decode(bytes)?;
    let mut rest = bytes;
    let mut first = None;
    while rest.has_remaining() {
        let (tag, wire_type) = prost::encoding::decode_key(&mut rest)?;
        prost::encoding::skip_field(wire_type, tag, &mut rest, Default::default())?;
        if tag == CLIENT_FRAME_ID_TAG {
            continue;
        }
        match first {
            None => first = Some(tag),
            Some(first) => return Err(DecodeError::SeveralCommands { first, second: tag }),
        }
    }
    Ok(frame)
}

/// The field number of `ClientFrame.id`; every other field is a command.
const CLIENT_FRAME_ID_TAG: u32 = 1;

/// A `ClientFrame` read from JSON with [`FrameVisitor`].
struct JsonClientFrame(ClientFrame);

impl<'de> Deserialize<'de> for JsonClientFrame {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(FrameVisitor).map(JsonClientFrame)
    }
}

/// Reads the top level of a client frame key by key, so it sees every command key
/// (serde's flattened oneof stops at the first and ignores the rest).
struct FrameVisitor;

impl<'de> Visitor<'de> for FrameVisitor {
    type Value = ClientFrame;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a client frame: an object with `id` and one command")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ClientFrame, A::Error> {
        let mut id = None;
        let mut command = None;
        let mut command_key: Option<String> = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == "id" {
                if id.is_some() {
                    return Err(A::Error::duplicate_field("id"));
                }
                id = Some(map.next_value::<u64>()?);
                continue;
            }
            if let Some(first) = &command_key {
                return Err(A::Error::custom(format_args!(
                    "a frame carries one command; this one has `{first}` and `{key}`"
                )));
            }
            let mut unknown = false;
            let entry = CommandEntry {
                key: &key,
                map: &mut map,
                unknown: &mut unknown,
            };
            command = match Command::deserialize(entry) {
                Ok(c) => Some(c),
                // Not a command this server knows: its body is skipped, and the frame
                // is answered with UNKNOWN_COMMAND.
                Err(_) if unknown => {
                    map.next_value::<IgnoredAny>()?;
                    None
                }
                Err(e) => return Err(e),
            };
            command_key = Some(key);
        }
        Ok(ClientFrame {
            id: id.unwrap_or_default(),
            command,
        })
    }
}

/// One `"key": body` entry of the frame, read as the externally tagged [`Command`]
/// whose variant is `key`. `unknown` is set when `key` names no variant (the body is
/// then still unread).
struct CommandEntry<'a, A> {
    key: &'a str,
    map: &'a mut A,
    unknown: &'a mut bool,
}

impl<'de, A: MapAccess<'de>> Deserializer<'de> for CommandEntry<'_, A> {
    type Error = A::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, A::Error> {
        visitor.visit_enum(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map
        struct enum identifier ignored_any
    }
}

impl<'de, 'a, A: MapAccess<'de>> EnumAccess<'de> for CommandEntry<'a, A> {
    type Error = A::Error;
    type Variant = CommandBody<'a, A>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self::Variant), A::Error> {
        match seed.deserialize(StrDeserializer::<A::Error>::new(self.key)) {
            Ok(variant) => Ok((variant, CommandBody { map: self.map })),
            Err(e) => {
                *self.unknown = true;
                Err(e)
            }
        }
    }
}

/// The body of a known command: the value of its key.
struct CommandBody<'a, A> {
    map: &'a mut A,
}

impl<'de, A: MapAccess<'de>> VariantAccess<'de> for CommandBody<'_, A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.map.next_value()
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, A::Error> {
        self.map.next_value_seed(seed)
    }

    // Every command is a message, so a newtype variant; these never happen.
    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, _v: V) -> Result<V::Value, A::Error> {
        Err(A::Error::invalid_type(
            Unexpected::TupleVariant,
            &"a command object",
        ))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        _v: V,
    ) -> Result<V::Value, A::Error> {
        Err(A::Error::invalid_type(
            Unexpected::StructVariant,
            &"a command object",
        ))
    }
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
        let frame = decode_client_frame_json(r#"{"id":3,"frobnicate":{"a":[1]}}"#).unwrap();
        assert_eq!(frame.id, 3);
        assert!(frame.command.is_none());
        let frame = decode_client_frame_json(r#"{"id":4}"#).unwrap();
        assert_eq!((frame.id, frame.command), (4, None));
    }

    #[test]
    fn json_frame_with_two_commands_is_an_error() {
        for text in [
            r#"{"id":1,"send":{"context_id":"c","text":"a"},"like":{"context_id":"c","message_id":2}}"#,
            r#"{"id":1,"like":{"context_id":"c","message_id":2},"send":{"context_id":"c","text":"a"}}"#,
            // The same key twice.
            r#"{"id":1,"send":{"context_id":"c","text":"a"},"send":{"context_id":"c","text":"b"}}"#,
            // A known command with an unknown (say, misspelt) one, either way round.
            r#"{"id":1,"ping":{},"sned":{"context_id":"c","text":"a"}}"#,
            r#"{"id":1,"sned":{"context_id":"c","text":"a"},"ping":{}}"#,
            r#"{"id":1,"frob":{},"teleport":{}}"#,
        ] {
            let e = decode_client_frame_json(text).expect_err(text);
            assert!(e.to_string().contains("one command"), "{text}: {e}");
        }
        assert!(decode_client_frame_json(r#"{"id":1,"id":2,"ping":{}}"#).is_err());
    }

    #[test]
    fn json_command_with_an_unknown_field_is_an_error() {
        let r = decode_client_frame_json(
            r#"{"id":1,"thread_action":{"context_id":"c","thread_id":2,"actoin":"THREAD_ACTION_KIND_RESOLVE"}}"#,
        );
        assert!(
            r.as_ref().is_err_and(|e| e.to_string().contains("actoin")),
            "{r:?}"
        );
        let r = decode_client_frame_json(
            r#"{"id":1,"send":{"context_id":"c","text":"a","backchanel":true}}"#,
        );
        assert!(r.is_err(), "{r:?}");
        let r = decode_client_frame_json(
            r#"{"id":1,"join":{"context_id":"c","since":{"epoch":1,"sq":2}}}"#,
        );
        assert!(r.is_err(), "{r:?}");
    }

    #[test]
    fn json_missing_thread_action_is_unspecified() {
        let frame = decode_client_frame_json(
            r#"{"id":1,"thread_action":{"context_id":"c","thread_id":2}}"#,
        )
        .unwrap();
        let Some(Command::ThreadAction(action)) = frame.command else {
            panic!("{frame:?}")
        };
        assert_eq!(action.action, v1::ThreadActionKind::Unspecified as i32);
    }

    #[test]
    fn proto_frame_with_two_commands_is_an_error() {
        let send = Command::Send(v1::SendMessage {
            context_id: "c".into(),
            text: "a".into(),
            ..Default::default()
        });
        let like = Command::Like(v1::LikeMessage {
            context_id: "c".into(),
            message_id: 2,
        });
        let frame = |id, command| {
            encode_proto(&v1::ClientFrame {
                id,
                command: Some(command),
            })
        };
        let one = frame(1, send.clone());
        assert_eq!(
            decode_client_frame_proto(&one).unwrap().command,
            Some(send.clone())
        );
        // Concatenated messages merge: one frame with both members of the oneof.
        for (a, b) in [(send.clone(), like.clone()), (send.clone(), send.clone())] {
            let two = [frame(1, a), frame(0, b)].concat();
            assert!(
                decode_proto::<v1::ClientFrame>(&two).is_ok(),
                "protobuf keeps the last"
            );
            let e = decode_client_frame_proto(&two).unwrap_err();
            assert!(
                matches!(e, DecodeError::SeveralCommands { first: 13, .. }),
                "{e}"
            );
        }
        // No command, or only one this server does not know: decoded, without command.
        let empty = decode_client_frame_proto(&frame(5, send.clone())[..2]).unwrap();
        assert_eq!((empty.id, empty.command), (5, None));
        let unknown = decode_client_frame_proto(&[0x08, 0x05, 0x9a, 0x06, 0x00]).unwrap();
        assert_eq!((unknown.id, unknown.command), (5, None));
        let two_unknown = [0x9a, 0x06, 0x00, 0xa2, 0x06, 0x00];
        assert!(decode_client_frame_proto(&two_unknown).is_err());
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

/// Guards of the hand-kept JSON mapping (in `build.rs`) against the schema: every
/// command refuses an unknown field, and every client frame the protocol document shows
/// is accepted.
#[cfg(test)]
mod json_mapping {
    use prost::Message as _;
    use prost_types::FileDescriptorSet;

    use super::decode_client_frame_json;

    /// The JSON keys of `ClientFrame`'s commands, from the schema itself.
    fn command_keys() -> Vec<String> {
        let set = FileDescriptorSet::decode(crate::v1::FILE_DESCRIPTOR_SET).unwrap();
        let frame = set
            .file
            .iter()
            .filter(|f| f.package() == "plenary.v1")
            .flat_map(|f| &f.message_type)
            .find(|m| m.name() == "ClientFrame")
            .expect("ClientFrame in the schema");
        frame
            .field
            .iter()
            .filter(|f| f.oneof_index.is_some())
            .map(|f| f.name().to_owned())
            .collect()
    }

    #[test]
    fn every_command_refuses_an_unknown_field() {
        let keys = command_keys();
        assert!(keys.len() >= 30, "{keys:?}");
        for key in keys {
            let text = format!(r#"{{"id":1,"{key}":{{"not_a_field_anywhere":1}}}}"#);
            let e = decode_client_frame_json(&text).expect_err(&text);
            assert!(e.to_string().contains("not_a_field_anywhere"), "{key}: {e}");
        }
    }

    #[test]
    fn every_client_frame_in_the_protocol_document_is_accepted() {
        let doc = include_str!("../../../docs/PROTOCOL.md");
        let frames: Vec<&str> = doc
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with(r#"{"id":"#) && l.ends_with('}') && !l.contains('…'))
            .collect();
        assert!(frames.len() > 30, "{}", frames.len());
        for frame in frames {
            if let Err(e) = decode_client_frame_json(frame) {
                panic!("PROTOCOL.md shows a frame the server refuses: {frame}\n{e}");
            }
        }
    }
}

/// Frames as the JSON mapping wrote them before it was generated from the schema —
/// 64-bit integers as JSON numbers, `null` for an unset message — in
/// `fixtures/frames.txt`: a sample of every command, reply and push (see `samples`).
/// Clients and servers of that release are still around during an upgrade; their
/// frames must read as they were meant.
#[cfg(test)]
mod earlier_frames {
    use std::collections::HashMap;

    use super::{decode_client_frame_json, decode_json};
    use crate::samples::{Sample, samples};

    #[test]
    fn frames_written_before_the_generated_mapping_decode_as_they_were() {
        let samples: HashMap<String, Sample> = samples().into_iter().collect();
        let fixture = include_str!("../fixtures/frames.txt");
        for line in fixture.lines() {
            let (name, json) = line.split_once(' ').unwrap();
            let decoded = match &samples[name] {
                Sample::Client(_) => Sample::Client(
                    decode_client_frame_json(json).unwrap_or_else(|e| panic!("{name}: {e}")),
                ),
                Sample::Server(_) => {
                    Sample::Server(decode_json(json).unwrap_or_else(|e| panic!("{name}: {e}")))
                }
            };
            assert_eq!(decoded, samples[name], "{name}");
        }
        assert_eq!(fixture.lines().count(), samples.len(), "a line per sample");
    }
}
