//! The two WebSocket subprotocols: `plenary.v1.json` (text frames) and
//! `plenary.v1.proto` (binary frames) carry the same messages.

use std::fmt;
use std::sync::LazyLock;

use bytes::{Buf, BufMut as _, Bytes};
use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, FieldDescriptor, SerializeOptions};
use serde::{
    Deserialize, Deserializer, Serialize,
    de::{DeserializeOwned, IgnoredAny, MapAccess, Visitor},
};

use crate::v1::ClientFrame;

/// Why a frame could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("malformed JSON frame: {0}")]
    Json(#[from] serde_json::Error),
    /// A JSON frame whose `id` could be read but not the rest.
    #[error("malformed JSON frame: {error}")]
    JsonCommand { id: u64, error: serde_json::Error },
    #[error("malformed protobuf frame: {0}")]
    Proto(#[from] prost::DecodeError),
    #[error("a {got} frame on the {expected} subprotocol")]
    WrongFrameType {
        got: &'static str,
        expected: &'static str,
    },
    #[error("a frame carries one command; this one has fields {first} and {second}")]
    SeveralCommands { id: u64, first: u32, second: u32 },
    #[error("a frame carries one command; this one has `{first}` and `{second}`")]
    SeveralCommandKeys {
        id: u64,
        first: String,
        second: String,
    },
}

impl DecodeError {
    /// The refused frame's `id` where it could be read, so the refusal answers that
    /// command; 0 where it could not.
    pub fn frame_id(&self) -> u64 {
        match self {
            DecodeError::JsonCommand { id, .. }
            | DecodeError::SeveralCommands { id, .. }
            | DecodeError::SeveralCommandKeys { id, .. } => *id,
            DecodeError::Json(_) | DecodeError::Proto(_) | DecodeError::WrongFrameType { .. } => 0,
        }
    }
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

/// Encodes a message as a JSON text payload: the generated mapping, or — for the one
/// thing it refuses to write, an enum field holding a number the schema does not name
/// (say, from a newer node during an upgrade) — the canonical mapping computed from
/// the descriptors, which writes such a value as its number.
pub fn encode_json<T: Serialize + prost::Name>(msg: &T) -> String {
    serde_json::to_string(msg).unwrap_or_else(|_| canonical_json(msg))
}

/// Every message of the schema, from the descriptor set built with the types: what the
/// canonical fallback encodes through and what names `ClientFrame`'s commands.
pub(crate) fn descriptors() -> &'static DescriptorPool {
    static POOL: LazyLock<DescriptorPool> = LazyLock::new(|| {
        DescriptorPool::decode(crate::v1::FILE_DESCRIPTOR_SET)
            .expect("the descriptor set built with the types decodes")
    });
    &POOL
}

/// `msg` in canonical proto3 JSON (proto field names) through its descriptor.
fn canonical_json<T: prost::Name>(msg: &T) -> String {
    let desc = descriptors()
        .get_message_by_name(&T::full_name())
        .expect("every generated message is in the descriptor set");
    let message = DynamicMessage::decode(desc, msg.encode_to_vec().as_slice())
        .expect("a message decodes as its own type");
    let mut out = serde_json::Serializer::new(Vec::new());
    let options = SerializeOptions::new().use_proto_field_name(true);
    // A dynamic message holds only what JSON can write.
    message
        .serialize_with_options(&mut out, &options)
        .unwrap_or_else(|e| unreachable!("a dynamic message always writes as JSON: {e}"));
    String::from_utf8(out.into_inner()).unwrap_or_else(|e| unreachable!("JSON is UTF-8: {e}"))
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
    let refused = match serde_json::from_str::<ClientFrame>(text) {
        Ok(frame) => return Ok(frame),
        Err(e) => e,
    };
    // Refused by the generated mapping: say why in terms of the frame when it is the
    // frame's shape (several commands, or one this server does not know).
    // A frame whose `id` cannot be read (not a number, or twice) is answered with 0.
    let Ok(TopLevel { id: Some(id), keys }) = serde_json::from_str::<TopLevel>(text) else {
        return Err(refused.into());
    };
    let mut commands = keys.into_iter().filter(|k| k != "id");
    match (commands.next(), commands.next()) {
        (Some(first), Some(second)) => Err(DecodeError::SeveralCommandKeys { id, first, second }),
        // Not a command this server knows: answered with UNKNOWN_COMMAND.
        (Some(only), None) if !is_command_key(&only) => Ok(ClientFrame { id, command: None }),
        _ => Err(DecodeError::JsonCommand { id, error: refused }),
    }
}

/// `ClientFrame`'s command fields, from the schema.
fn command_fields() -> Vec<FieldDescriptor> {
    let frame = descriptors()
        .get_message_by_name("plenary.v1.ClientFrame")
        .expect("ClientFrame is in the schema");
    frame
        .fields()
        .filter(|f| f.containing_oneof().is_some())
        .collect()
}

/// Whether `key` names one of `ClientFrame`'s commands, by its proto or lowerCamelCase
/// name (the generated mapping reads both).
fn is_command_key(key: &str) -> bool {
    command_fields()
        .iter()
        .any(|f| f.name() == key || f.json_name() == key)
}

/// The top level of a client frame as written: its keys in order, and its `id` if that
/// can be read (a number, or a string holding one, as proto3 JSON reads 64-bit fields;
/// absent is 0; written twice or as anything else, `None`).
struct TopLevel {
    id: Option<u64>,
    keys: Vec<String>,
}

impl<'de> Deserialize<'de> for TopLevel {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(TopLevelVisitor)
    }
}

struct TopLevelVisitor;

impl<'de> Visitor<'de> for TopLevelVisitor {
    type Value = TopLevel;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a client frame: an object with `id` and one command")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TopLevel, A::Error> {
        let mut top = TopLevel {
            id: Some(0),
            keys: Vec::new(),
        };
        while let Some(key) = map.next_key::<String>()? {
            if key == "id" {
                let id = match map.next_value::<serde_json::Value>()? {
                    serde_json::Value::Number(n) => n.as_u64(),
                    serde_json::Value::String(s) => s.parse().ok(),
                    _ => None,
                };
                let twice = top.keys.iter().any(|k| k == "id");
                top.id = id.filter(|_| !twice);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
            top.keys.push(key);
        }
        Ok(top)
    }
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
            Some(first) => {
                return Err(DecodeError::SeveralCommands {
                    id: frame.id,
                    first,
                    second: tag,
                });
            }
        }
    }
    Ok(frame)
}

/// The field number of `ClientFrame.id`; every other field is a command.
const CLIENT_FRAME_ID_TAG: u32 = 1;

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
        // proto3 JSON writes 64-bit integers as strings (and reads either).
        assert_eq!(back, r#"{"id":"1","ping":{}}"#);
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
    fn a_refused_frame_whose_id_reads_is_answered_with_it() {
        for (text, id) in [
            (r#"{"id":7,"send":{"context_id":5}}"#, 7),
            (
                r#"{"id":"8","react":{"context_id":"c","reaction":"REACTION_SHRUG"}}"#,
                8,
            ),
            (
                r#"{"send":{"context_id":"c","text":"a"},"id":9,"like":{}}"#,
                9,
            ),
            (r#"{"id":"x","ping":{}}"#, 0),
            (r#"{"id":1,"id":2,"ping":{}}"#, 0),
            (r#"{"id":3,"ping":{}"#, 0),
            ("[1]", 0),
        ] {
            let e = decode_client_frame_json(text).expect_err(text);
            assert_eq!(e.frame_id(), id, "{text}: {e}");
        }
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

/// The strict side of the JSON mapping and the protocol document: every command refuses
/// an unknown field, and every client frame the protocol document shows is accepted.
#[cfg(test)]
mod json_mapping {
    use super::{command_fields, decode_client_frame_json};

    #[test]
    fn every_command_refuses_an_unknown_field() {
        let keys: Vec<String> = command_fields()
            .iter()
            .map(|f| f.name().to_owned())
            .collect();
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

/// The server frames the protocol document shows are what the server writes: each
/// reads (lenient as a client is) and writes again as shown, fields left out at their
/// default and 64-bit integers as strings included. `PLENARY_BLESS=1` rewrites the
/// lines that differ with what the server writes (review the diff). Lines with `…` are
/// abbreviated by hand and not checked.
#[cfg(test)]
mod document {
    use serde_json::Value;

    use super::{decode_json, encode_json};
    use crate::v1::ServerFrame;

    const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/PROTOCOL.md");

    #[test]
    fn every_server_frame_in_the_protocol_document_is_written_as_shown() {
        let doc = std::fs::read_to_string(PATH).unwrap();
        let bless = std::env::var_os("PLENARY_BLESS").is_some();
        let (mut checked, mut wrong, mut out) = (0, Vec::new(), String::new());
        for line in doc.split_inclusive('\n') {
            let (indent, frame) = match line.trim_end().split_once('{') {
                Some((indent, _)) if ["", "< "].contains(&indent.trim_start()) => {
                    (&line[..indent.len()], line[indent.len()..].trim_end())
                }
                _ => ("", ""),
            };
            let shown = frame.starts_with(r#"{"reply":"#) || frame.starts_with(r#"{"push":"#);
            if !shown || frame.contains('…') {
                out.push_str(line);
                continue;
            }
            checked += 1;
            let written = decode_json::<ServerFrame>(frame)
                .map(|f| encode_json(&f))
                .unwrap_or_else(|e| {
                    panic!("PROTOCOL.md shows a frame that does not read: {frame}\n{e}")
                });
            let as_value = |t: &str| serde_json::from_str::<Value>(t).unwrap();
            if as_value(&written) == as_value(frame) {
                out.push_str(line);
            } else {
                wrong.push(format!("shown:   {frame}\nwritten: {written}"));
                out.push_str(&format!("{indent}{written}\n"));
            }
        }
        assert!(checked > 40, "{checked}");
        if bless && !wrong.is_empty() {
            std::fs::write(PATH, out).unwrap();
        }
        assert!(
            wrong.is_empty(),
            "PROTOCOL.md shows server frames the server does not write:\n{}",
            wrong.join("\n")
        );
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

    use crate::samples::{Sample, samples};

    #[test]
    fn frames_written_before_the_generated_mapping_decode_as_they_were() {
        let samples: HashMap<String, Sample> = samples().into_iter().collect();
        let fixture = include_str!("../fixtures/frames.txt");
        for line in fixture.lines() {
            let (name, json) = line.split_once(' ').unwrap();
            let decoded = samples[name]
                .read_json(json)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(decoded, samples[name], "{name}");
        }
        assert_eq!(fixture.lines().count(), samples.len(), "a line per sample");
    }
}

/// The JSON mapping is the canonical proto3 JSON mapping: each sample (every command,
/// reply and push; every field set) is written exactly as prost-reflect's independent
/// implementation writes it from the schema (proto field names), and what that writes
/// — with proto or lowerCamelCase names, 64-bit integers as strings or numbers — reads
/// back as the sample.
#[cfg(test)]
mod canonical {
    use prost::Message as _;
    use prost_reflect::{DynamicMessage, SerializeOptions};
    use serde_json::Value;

    use super::{decode_client_frame_json, decode_json, descriptors, encode_json};
    use crate::samples::{Sample, samples};

    /// `bytes` (a message of type `name`) in canonical proto3 JSON, by prost-reflect.
    fn reference(name: &str, bytes: &[u8], options: &SerializeOptions) -> Value {
        let desc = descriptors().get_message_by_name(name).unwrap();
        let message = DynamicMessage::decode(desc, bytes).unwrap();
        message
            .serialize_with_options(serde_json::value::Serializer, options)
            .unwrap()
    }

    #[test]
    fn every_frame_is_written_and_read_as_canonical_proto3_json() {
        let proto_names = SerializeOptions::new().use_proto_field_name(true);
        let camel_numbers = SerializeOptions::new().stringify_64_bit_integers(false);
        for (name, sample) in samples() {
            let (ours, type_name, bytes) = match &sample {
                Sample::Client(f) => (encode_json(f), "plenary.v1.ClientFrame", f.encode_to_vec()),
                Sample::Server(f) => (encode_json(f), "plenary.v1.ServerFrame", f.encode_to_vec()),
            };
            let expected = reference(type_name, &bytes, &proto_names);
            let written: Value = serde_json::from_str(&ours).unwrap();
            assert_eq!(written, expected, "{name}: written");
            for options in [&proto_names, &camel_numbers] {
                let text = reference(type_name, &bytes, options).to_string();
                let read = sample
                    .read_json(&text)
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(read, sample, "{name}: read {text}");
            }
        }
    }

    #[test]
    fn an_enum_value_the_schema_does_not_name_is_written_as_its_number() {
        use crate::v1::{Push, ReactionCount, Reactions, push::Body};
        let push = Push {
            context_id: "c".into(),
            seq: 3,
            body: Some(Body::Reactions(Reactions {
                counts: vec![
                    ReactionCount {
                        reaction: 1,
                        count: 2,
                    },
                    ReactionCount {
                        reaction: 99,
                        count: 1,
                    },
                ],
                ..Default::default()
            })),
            ..Default::default()
        };
        let json = encode_json(&push);
        assert!(json.contains(r#"{"reaction":99,"count":1}"#), "{json}");
        assert!(json.contains(r#""reaction":"REACTION_CLAP""#), "{json}");
        let expected = reference(
            "plenary.v1.Push",
            &push.encode_to_vec(),
            &SerializeOptions::new().use_proto_field_name(true),
        );
        assert_eq!(serde_json::from_str::<Value>(&json).unwrap(), expected);
        // In a command, a name or number the schema does not have is refused.
        for reaction in [r#""REACTION_SHRUG""#, "99"] {
            let text = format!(r#"{{"id":1,"react":{{"context_id":"c","reaction":{reaction}}}}}"#);
            assert!(decode_client_frame_json(&text).is_err(), "{text}");
        }
    }

    #[test]
    fn a_server_frame_with_fields_added_later_still_reads() {
        let text = r#"{"push":{"context_id":"c","seq":"5","added_later":{"x":1},"message":{"id":"5","text":"hi","also_new":true}}}"#;
        let frame: crate::v1::ServerFrame = decode_json(text).unwrap();
        let Some(crate::v1::server_frame::Frame::Push(push)) = frame.frame else {
            panic!("{frame:?}")
        };
        assert_eq!((push.context_id.as_str(), push.seq), ("c", 5));
    }
}
