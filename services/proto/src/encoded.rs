//! Pushes encoded once: the WebSocket frames every client gets, and the same push
//! inside the answer to a join that recovers it. A rejoin within reach of what an
//! actor published lately gets those bytes as they went out, spliced into its
//! `JoinOk.missed`, instead of pushes rendered and encoded again for every rejoin.

use std::ops::Range;

use bytes::{BufMut, Bytes, BytesMut};
use prost::Message as _;
use prost::encoding::{WireType, encode_key, encode_varint};

use crate::v1::{JoinOk, Push, Reply, ServerFrame};
use crate::wire::{WireFormat, encode_json};

/// Field numbers the splice writes by hand (checked against prost in the tests).
const SERVER_FRAME_REPLY: u32 = 1;
const SERVER_FRAME_PUSH: u32 = 2;
const REPLY_JOIN: u32 = 11;
const JOIN_OK_MISSED: u32 = 6;

/// One push in both subprotocols: each as a whole server frame (header included), and
/// where in it the push itself is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncodedPush {
    json: Bytes,
    proto: Bytes,
    json_push: Range<usize>,
    proto_push: Range<usize>,
}

impl EncodedPush {
    /// Encodes `push` once for every subprotocol.
    pub fn new(push: &Push) -> Self {
        let push_json = encode_json(push);
        let payload = format!("{{\"push\":{push_json}}}");
        let json = WireFormat::Json.server_frame(payload.as_bytes());
        let start = json.len() - payload.len() + "{\"push\":".len();
        let json_push = start..start + push_json.len();

        let push_proto = push.encode_to_vec();
        let mut payload = BytesMut::with_capacity(push_proto.len() + 6);
        encode_key(SERVER_FRAME_PUSH, WireType::LengthDelimited, &mut payload);
        encode_varint(push_proto.len() as u64, &mut payload);
        let start_in_payload = payload.len();
        payload.put_slice(&push_proto);
        let proto = WireFormat::Proto.server_frame(&payload);
        let start = proto.len() - payload.len() + start_in_payload;
        let proto_push = start..start + push_proto.len();
        EncodedPush {
            json,
            proto,
            json_push,
            proto_push,
        }
    }

    /// The whole server frame a client of `format` gets.
    pub fn frame(&self, format: WireFormat) -> Bytes {
        match format {
            WireFormat::Json => self.json.clone(),
            WireFormat::Proto => self.proto.clone(),
        }
    }

    /// The push alone, as `format` encodes a `Push` message.
    pub fn push(&self, format: WireFormat) -> &[u8] {
        match format {
            WireFormat::Json => &self.json[self.json_push.clone()],
            WireFormat::Proto => &self.proto[self.proto_push.clone()],
        }
    }

    /// The push as a message again (for a caller that needs the struct, not bytes).
    pub fn decode(&self) -> Result<Push, prost::DecodeError> {
        Push::decode(self.push(WireFormat::Proto))
    }

    /// Bytes held, for bounding how many are kept.
    pub fn size(&self) -> usize {
        self.json.len() + self.proto.len()
    }
}

/// The payload of the reply to command `id` answered by `ok` with `missed` as its
/// `missed` pushes, each spliced in as encoded: what encoding the reply with those
/// pushes in `ok.missed` would give (fields in another order). Pushes already in
/// `ok.missed` are left out: the caller passes every missed push, in order.
pub fn join_reply<P: AsRef<EncodedPush>>(
    format: WireFormat,
    id: u64,
    ok: &JoinOk,
    missed: &[P],
) -> Bytes {
    let ok = JoinOk {
        missed: Vec::new(),
        ..ok.clone()
    };
    match format {
        WireFormat::Json => join_reply_json(id, &ok, missed),
        WireFormat::Proto => join_reply_proto(id, &ok, missed),
    }
}

/// `ok` in protobuf with `missed` appended to its `missed`, each spliced in as encoded
/// (a join answer travelling between nodes is built the same way).
pub fn join_ok_proto<P: AsRef<EncodedPush>>(ok: &JoinOk, missed: &[P]) -> BytesMut {
    let mut join = BytesMut::from(&ok.encode_to_vec()[..]);
    for push in missed {
        let push = push.as_ref().push(WireFormat::Proto);
        encode_key(JOIN_OK_MISSED, WireType::LengthDelimited, &mut join);
        encode_varint(push.len() as u64, &mut join);
        join.put_slice(push);
    }
    join
}

fn join_reply_proto<P: AsRef<EncodedPush>>(id: u64, ok: &JoinOk, missed: &[P]) -> Bytes {
    let join = join_ok_proto(ok, missed);
    let mut answer = BytesMut::from(&Reply { id, result: None }.encode_to_vec()[..]);
    nest(REPLY_JOIN, &join, &mut answer);
    let mut frame = BytesMut::with_capacity(answer.len() + 6);
    nest(SERVER_FRAME_REPLY, &answer, &mut frame);
    frame.freeze()
}

/// Appends `message` as field `field` of the message being written to `out`.
pub fn nest(field: u32, message: &[u8], out: &mut impl BufMut) {
    encode_key(field, WireType::LengthDelimited, out);
    encode_varint(message.len() as u64, out);
    out.put_slice(message);
}

fn join_reply_json<P: AsRef<EncodedPush>>(id: u64, ok: &JoinOk, missed: &[P]) -> Bytes {
    // Each level is the mapping's own encoding of the message without the part
    // spliced in (`ok.missed` is empty, so left out), with that part added as one more
    // key: whatever the mapping writes stays as it writes it.
    let mut join = encode_json(ok);
    if !missed.is_empty() {
        let mut pushes = String::from("[");
        for (i, push) in missed.iter().enumerate() {
            if i > 0 {
                pushes.push(',');
            }
            // A push was encoded from a `String`: it is UTF-8.
            pushes.push_str(&String::from_utf8_lossy(
                push.as_ref().push(WireFormat::Json),
            ));
        }
        pushes.push(']');
        join = with_key(&join, "missed", &pushes);
    }
    let answer = with_key(&encode_json(&Reply { id, result: None }), "join", &join);
    let frame = with_key(&encode_json(&ServerFrame { frame: None }), "reply", &answer);
    Bytes::from(frame)
}

/// `object` (a JSON object as serde_json writes it, no white space) with `"key":value`
/// added at its end.
fn with_key(object: &str, key: &str, value: &str) -> String {
    let body = object.strip_suffix('}').unwrap_or(object);
    let comma = if body.ends_with('{') { "" } else { "," };
    format!("{body}{comma}\"{key}\":{value}}}")
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use prost::Message as _;

    use super::*;
    use crate::v1::{ChatMessage, ContextInfo, Role, push::Body};
    use crate::v1::{reply, server_frame};
    use crate::wire::{decode_json, encode_proto};

    fn push(seq: u64, text: &str) -> Push {
        Push {
            context_id: "webinar-42".into(),
            epoch: 1_767_225_600_123,
            seq,
            body: Some(Body::Message(ChatMessage {
                id: seq,
                text: text.into(),
                ..Default::default()
            })),
        }
    }

    fn whole(frame: &ServerFrame) -> (Bytes, Bytes) {
        (
            WireFormat::Json.server_frame(encode_json(frame).as_bytes()),
            WireFormat::Proto.server_frame(&encode_proto(frame)),
        )
    }

    #[test]
    fn a_push_is_encoded_as_its_frame_in_both_subprotocols() {
        // A long one too: its frame header is longer.
        for text in ["hi \"quoted\" \u{1F600}", &"x".repeat(70_000)] {
            let push = push(42, text);
            let encoded = EncodedPush::new(&push);
            let (json, proto) = whole(&ServerFrame {
                frame: Some(server_frame::Frame::Push(push.clone())),
            });
            assert_eq!(encoded.frame(WireFormat::Json), json);
            assert_eq!(encoded.frame(WireFormat::Proto), proto);
            assert_eq!(
                encoded.push(WireFormat::Json),
                encode_json(&push).as_bytes()
            );
            assert_eq!(encoded.push(WireFormat::Proto), &push.encode_to_vec()[..]);
            assert_eq!(encoded.decode().unwrap(), push);
        }
    }

    #[test]
    fn a_spliced_join_reply_is_the_reply_with_those_pushes() {
        let ok = JoinOk {
            context: Some(ContextInfo {
                id: "webinar-42".into(),
                name: "a \"quoted\" } name".into(),
                ..Default::default()
            }),
            role: Role::Moderator as i32,
            epoch: 7,
            seq: 44,
            recovered: true,
            missed: vec![push(40, "left out")],
            snapshot: None,
        };
        let pushes: Vec<Arc<EncodedPush>> = [41, 42, 44]
            .into_iter()
            .map(|seq| Arc::new(EncodedPush::new(&push(seq, "once"))))
            .collect();
        for missed in [&pushes[..], &pushes[..0]] {
            let expected = JoinOk {
                missed: missed.iter().map(|p| p.decode().unwrap()).collect(),
                ..ok.clone()
            };
            let frame = ServerFrame {
                frame: Some(server_frame::Frame::Reply(Reply {
                    id: 9,
                    result: Some(reply::Result::Join(expected)),
                })),
            };
            let json = join_reply(WireFormat::Json, 9, &ok, missed);
            let as_value = |text: &str| serde_json::from_str::<serde_json::Value>(text).unwrap();
            assert_eq!(
                as_value(std::str::from_utf8(&json).unwrap()),
                as_value(&encode_json(&frame)),
                "the JSON splice"
            );
            let spliced: ServerFrame = decode_json(std::str::from_utf8(&json).unwrap()).unwrap();
            assert_eq!(spliced, frame);
            let proto = join_reply(WireFormat::Proto, 9, &ok, missed);
            assert_eq!(ServerFrame::decode(&proto[..]).unwrap(), frame);
        }
    }

    #[test]
    fn keys_are_added_as_json_members() {
        assert_eq!(with_key("{}", "a", "1"), r#"{"a":1}"#);
        assert_eq!(with_key(r#"{"b":2}"#, "a", "[]"), r#"{"b":2,"a":[]}"#);
    }
}
